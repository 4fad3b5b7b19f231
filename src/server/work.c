/* work.c - heavy requests on libuv's worker pool, lane by lane (work.h), and
 * the import job.
 *
 * The import and route lanes run one job at a time: imports serialize on
 * SQLite's one writer anyway, and the route planner serves one query at a
 * time. The read lane runs two: pages of a map. So lanes take at most four
 * of libuv's threads, and the server asks for eight (ec_serve), so that what
 * else runs there (password hashes) does not wait behind a long import. */
#include "work.h"
#include "events.h"
#include "api_internal.h"

#include <string.h>

#define RUNNING_MAX 2 /* the most any lane runs at once */
#define READERS_IDLE 2 /* read connections kept for the next job */

typedef struct {
    work_job *head, *tail; /* waiting, in order */
    work_job *running[RUNNING_MAX];
    int n_running;
    int n;                 /* waiting and running */
} lane_t;

struct work_pool {
    uv_loop_t *loop;
    ec_api *api;
    lane_t lanes[WORK_N_LANES];
    ec_store *idle[READERS_IDLE];
    int n_idle;
    int stopping;
};

static const struct {
    int running, max, per_org;
    const char *what, *who;
} lane_limits[WORK_N_LANES] = {
    [WORK_IMPORT] = {1, WORK_IMPORT_MAX, WORK_IMPORT_PER_ORG, "imports", "your organisation"},
    [WORK_ROUTE] = {1, WORK_ROUTE_MAX, WORK_ROUTE_PER_ORG, "route requests", "your organisation"},
    [WORK_READ] = {WORK_READ_RUNNING, WORK_READ_MAX, WORK_READ_PER_ORG, "map pages", "your address"},
    [WORK_KPI] = {1, WORK_KPI_MAX, WORK_KPI_PER_ORG, "figures", "your organisation"},
    [WORK_KPI_PUBLIC] = {1, WORK_KPI_PUBLIC_MAX, WORK_KPI_PUBLIC_PER_ADDR, "figures", "your address"},
};

ec_err work__new(uv_loop_t *loop, ec_api *a, work_pool **out)
{
    work_pool *p = ec_calloc(1, sizeof *p);
    if (!p) return EC_ENOMEM;
    p->loop = loop;
    p->api = a;
    *out = p;
    return EC_OK;
}

static void release(work_job *j)
{
    ec_buf_free(&j->res.body);
    j->release(j);
}

static void on_work(uv_work_t *w)
{
    work_job *j = w->data;
    j->run(j);
}

static void after_work(uv_work_t *w, int status);

static void running_remove(lane_t *l, work_job *j)
{
    for (int i = 0; i < l->n_running; i++)
        if (l->running[i] == j) l->running[i] = l->running[--l->n_running];
}

/* Starts the lane's next jobs while it runs fewer than it may. */
static void lane_next(work_pool *p, lane_t *l)
{
    while (l->n_running < lane_limits[l - p->lanes].running && l->head) {
        work_job *j = l->head;
        l->head = j->next;
        if (!l->head) l->tail = NULL;
        j->next = NULL;
        j->uv.data = j;
        l->running[l->n_running++] = j;
        if (j->start) j->start(j);
        if (uv_queue_work(p->loop, &j->uv, on_work, after_work) == 0) continue;
        /* The pool refused it (never seen): answer for it here. */
        running_remove(l, j);
        l->n--;
        static const char busy[] =
            "{\"error\":{\"code\":\"busy\",\"message\":\"the worker pool cannot take this now\",\"field\":\"\"}}";
        ec_http_complete(p->api->http, j->serial, 503, "application/json", busy, sizeof busy - 1);
        release(j);
    }
}

static void after_work(uv_work_t *w, int status)
{
    work_job *j = w->data;
    work_pool *p = j->api->work;
    lane_t *l = &p->lanes[j->lane];
    running_remove(l, j);
    if (status == 0 && j->done && j->done(j) && !p->stopping) {
        /* Once more, before the others. */
        j->next = l->head;
        l->head = j;
        if (!l->tail) l->tail = j;
        lane_next(p, l);
        return;
    }
    l->n--;
    ec_http_response *r = &j->res;
    if (status != 0) api__error(r, 503, "busy", NULL, "the work was cancelled");
    /* A body the worker could not write whole is never sent (api.c checks
     * the answers written on the loop). */
    else if (ec_buf_error(&r->body)) api__unwritten(r, ec_buf_error(&r->body));
    if (j->api->http)
        ec_http_complete(j->api->http, j->serial, r->status ? r->status : 500,
                         r->content_type ? r->content_type : "application/json", r->body.data ? r->body.data : "",
                         r->body.len);
    release(j);
    lane_next(p, l);
}

int work__submit(work_pool *p, work_job *j, work_lane lane, const char *org, const ec_http_request *req,
                 ec_http_response *res)
{
    lane_t *l = &p->lanes[lane];
    int mine = 0;
    for (work_job *x = l->head; x; x = x->next) mine += !strcmp(x->org, org);
    for (int i = 0; i < l->n_running; i++) mine += !strcmp(l->running[i]->org, org);
    if (p->stopping || l->n >= lane_limits[lane].max || mine >= lane_limits[lane].per_org) {
        if (p->stopping || l->n >= lane_limits[lane].max)
            api__error(res, 503, "busy", NULL, "the hub has %d %s under way, its most; try again shortly", l->n,
                       lane_limits[lane].what);
        else
            api__error(res, 503, "busy", NULL, "%s has %d %s under way, its most; try again shortly",
                       lane_limits[lane].who, mine, lane_limits[lane].what);
        release(j);
        return -1;
    }
    j->api = p->api;
    j->lane = lane;
    j->serial = req->serial;
    snprintf(j->org, sizeof j->org, "%s", org);
    j->next = NULL;
    if (l->tail) l->tail->next = j;
    else l->head = j;
    l->tail = j;
    l->n++;
    res->status = 0;
    lane_next(p, l);
    return 0;
}

void work__stop(work_pool *p)
{
    if (!p) return;
    p->stopping = 1;
    for (int i = 0; i < WORK_N_LANES; i++) {
        lane_t *l = &p->lanes[i];
        while (l->head) {
            work_job *j = l->head;
            l->head = j->next;
            l->n--;
            release(j);
        }
        l->tail = NULL;
    }
}

void work__free(work_pool *p)
{
    if (!p) return;
    work__stop(p);
    for (int i = 0; i < p->n_idle; i++) ec_store_close(p->idle[i]);
    ec_free(p);
}

ec_store *work__reader_take(work_pool *p)
{
    return p->n_idle ? p->idle[--p->n_idle] : NULL;
}

void work__reader_give(work_pool *p, ec_store *s)
{
    if (!s) return;
    if (p->n_idle < READERS_IDLE && !p->stopping) p->idle[p->n_idle++] = s;
    else ec_store_close(s);
}

/* ---- the import ------------------------------------------------------------ */

typedef struct {
    work_job job;
    char *text; /* the request's body, copied: the layer's is borrowed for the handler's call */
    size_t len;
    char format[EC_HTTP_MAX_ARG], operator_id[EC_HTTP_MAX_ARG], owner[EC_REG_ID_MAX + 1];
    const char *db_path;
    int wrote;      /* stored: the metrics count a write */
    int store_fail; /* the store failed: the metrics count an error */
} import_job;

/* The answer to an import, the same whether it ran on the loop or a
 * worker: 1 when it was stored, -1 when the store failed, 0 when refused. */
static int import_answer(ec_http_response *r, ec_err rc, const ec_import_set *set, const ec_import_summary_t *sum)
{
    if (rc == EC_EIO || rc == EC_ENOMEM) {
        ec_log(EC_LOG_ERROR, "import: store: %s", ec_errmsg());
        api__error(r, 500, "store_error", NULL, "the register could not be read or written");
        return -1;
    }
    if (rc) {
        api__error(r, sum->refused ? 403 : 400, sum->err.code[0] ? sum->err.code : "invalid_file", sum->err.field, "%s",
                   ec_errmsg());
        return 0;
    }
    ec_jw w;
    ec_jw_init(&w, &r->body);
    ec_jw_obj_begin(&w);
    ec_import_summary_json(&w, set, sum);
    ec_jw_obj_end(&w);
    r->status = 200;
    r->content_type = "application/json";
    api__finish(&w, r); /* stored, but a summary cut short is not sent */
    return 1;
}

/* On a worker: the whole file read and checked without a lock, then stored
 * in one transaction on this job's own connection. */
static void import_run(work_job *j)
{
    import_job *x = (import_job *)j;
    ec_import_set set;
    ec_import_summary_t sum;
    ec_import_staged *st = NULL;
    ec_store *s = NULL;
    ec_errclear();
    int64_t t0 = ec_time_mono_ns();
    ec_err rc = ec_import_stage("request body", x->text, x->len, x->format[0] ? x->format : NULL,
                                x->operator_id[0] ? x->operator_id : NULL, &set, &sum, &st);
    /* The body is no longer needed: give its memory back before the write. */
    ec_free(x->text);
    x->text = NULL;
    int64_t t1 = ec_time_mono_ns();
    if (!rc && (rc = ec_store_open(x->db_path, &s)) == EC_OK) rc = ec_store_import_staged(s, st, x->owner[0] ? x->owner : NULL, &sum);
    else if (!rc) rc = EC_EIO;
    ec_store_close(s);
    /* The write's time is how long the loop's own writes may have waited. */
    ec_log(EC_LOG_INFO, "import of %zu records: read in %.2f s, %s in %.2f s", set.n_records, (double)(t1 - t0) / 1e9,
           rc ? "refused" : "stored", (double)(ec_time_mono_ns() - t1) / 1e9);
    ec_import_staged_free(st);
    int k = import_answer(&j->res, rc, &set, &sum);
    x->wrote = k > 0;
    x->store_fail = k < 0;
    ec_import_set_free(&set);
}

static int import_done(work_job *j)
{
    import_job *x = (import_job *)j;
    if (x->wrote) j->api->metrics.store_writes++, ocpp__sites_written(j->api->ocpp), events__register(j->api->events);
    if (x->store_fail) j->api->metrics.store_write_errors++;
    return 0;
}

static void import_release(work_job *j)
{
    import_job *x = (import_job *)j;
    ec_free(x->text);
    ec_free(x);
}

void work__import(ec_api *a, const char *org, const char *owner, const char *format, const char *operator_id,
                  const ec_http_request *req, ec_http_response *res)
{
    if (!a->work || !strcmp(a->db_path, ":memory:")) {
        /* No pool, or a database no other connection can open: here, on the loop. */
        ec_import_set set;
        ec_import_summary_t sum;
        ec_errclear();
        ec_err rc = ec_store_import_text_as(a->store, "request body", req->body, req->body_len, format, operator_id,
                                            owner, &set, &sum, NULL);
        int k = import_answer(res, rc, &set, &sum);
        a->metrics.store_writes += k > 0;
        if (k > 0) ocpp__sites_written(a->ocpp), events__register(a->events);
        a->metrics.store_write_errors += k < 0;
        ec_import_set_free(&set);
        return;
    }
    import_job *x = ec_calloc(1, sizeof *x);
    if (x) x->text = ec_malloc(req->body_len + 1);
    if (!x || !x->text) {
        ec_free(x);
        api__error(res, 503, "busy", NULL, "the hub cannot take a file this large now; try again shortly");
        return;
    }
    memcpy(x->text, req->body, req->body_len);
    x->text[req->body_len] = 0;
    x->len = req->body_len;
    snprintf(x->format, sizeof x->format, "%s", format ? format : "");
    snprintf(x->operator_id, sizeof x->operator_id, "%s", operator_id ? operator_id : "");
    snprintf(x->owner, sizeof x->owner, "%s", owner ? owner : "");
    x->db_path = a->db_path;
    ec_buf_init(&x->job.res.body, 16u << 20); /* the summary, with every record skipped */
    x->job.run = import_run;
    x->job.done = import_done;
    x->job.release = import_release;
    work__submit(a->work, &x->job, WORK_IMPORT, org, req, res);
}

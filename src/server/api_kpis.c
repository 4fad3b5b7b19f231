/* api_kpis.c - GET /api/v1/kpis and a site's hours (GET /api/v1/sites/{id}/utilisation): the
 * region's figures from the hub's own journal (src/kpi/, docs/kpi.md), computed on a worker with a read
 * connection of its own, so that a month's journal read never holds the loop.
 *
 * Who sees what is policy.c's (api__kpi_scope): an operator its own ports, an
 * agency its jurisdiction, an admin all; everyone else one calendar month at
 * a time by jurisdiction, with small groups merged or withheld. */
#include "api_internal.h"
#include "work.h"

#include "ecorridor/ec_kpi.h"
#include "ecorridor/ec_store.h"

#include <math.h>
#include <string.h>
#include <time.h>

#define KPI_MIN_SESSIONS 5 /* a group the public sees has at least this many sessions */
#define KPI_MIN_FLEETS 3   /* and this many distinct fleets */
#define KPI_TIME_END_S 253402300800LL /* 10000-01-01T00:00:00Z: a period ends by then */
#define UTIL_STEP_S 3600     /* a site's utilisation: by the hour */
#define UTIL_HOURS_MAX 168   /* over at most a week */

/* The answers without a key, kept: they are the same for everyone and for a month that is over
 * change only as late bills, stop readings and excluded time come in, so a few minutes' copy
 * bounds what the public can make the hub read. The loop's only. */
#define KPI_CACHE_N 16
#define KPI_CACHE_NS (600LL * 1000000000LL) /* 10 min */

typedef struct {
    int64_t from_s, to_s, at_ns;
    int csv;
    char *body;
    size_t len;
} kpi_cached;

static kpi_cached cache[KPI_CACHE_N];

void api__kpis_forget(void)
{
    for (int i = 0; i < KPI_CACHE_N; i++) {
        ec_free(cache[i].body);
        memset(&cache[i], 0, sizeof cache[i]);
    }
}

static kpi_cached *cached(int64_t from_s, int64_t to_s, int csv)
{
    int64_t now = ec_time_mono_ns();
    for (int i = 0; i < KPI_CACHE_N; i++)
        if (cache[i].body && cache[i].from_s == from_s && cache[i].to_s == to_s && cache[i].csv == csv &&
            now - cache[i].at_ns < KPI_CACHE_NS)
            return &cache[i];
    return NULL;
}

static void keep(int64_t from_s, int64_t to_s, int csv, const ec_buf *body)
{
    int slot = 0;
    for (int i = 0; i < KPI_CACHE_N; i++) {
        if (cache[i].body && cache[i].from_s == from_s && cache[i].to_s == to_s && cache[i].csv == csv) {
            slot = i;
            break;
        }
        if (!cache[i].body || cache[i].at_ns < cache[slot].at_ns) slot = i;
    }
    char *copy = ec_malloc(body->len + 1);
    if (!copy) return;
    memcpy(copy, body->data ? body->data : "", body->len);
    copy[body->len] = 0;
    ec_free(cache[slot].body);
    cache[slot] = (kpi_cached){from_s, to_s, ec_time_mono_ns(), csv, copy, body->len};
}

typedef struct {
    work_job job;
    ec_kpi_db_opts_t o;
    ec_kpi_group group;
    int csv, public_view;
    char op[EC_REG_ID_MAX + 1], jur[EC_REG_ID_MAX + 1];
    char site[EC_REG_ID_MAX + 1]; /* a site's hours (o.step_s > 0) */
    const char *db_path;
    ec_store *store;
} kpi_job;

/* A site's hours: {"site_id", "step_s", "points": [...]}, each point's figures as /kpis gives
 * them for that hour (utilisation and occupancy in percent). */
static ec_err steps_json(const kpi_job *x, const ec_kpi_row_t *rows, size_t n, ec_buf *out)
{
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "site_id"), ec_jw_str(&w, x->site);
    ec_jw_key(&w, "step_s"), ec_jw_int(&w, x->o.step_s);
    ec_jw_key(&w, "points"), ec_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const ec_kpi_row_t *r = &rows[i];
        char t[32];
        ec_jw_obj_begin(&w);
        ec_time_format_iso(r->from_ms / 1000, t, sizeof t);
        ec_jw_key(&w, "start"), ec_jw_str(&w, t);
        ec_time_format_iso(r->to_ms / 1000, t, sizeof t);
        ec_jw_key(&w, "end"), ec_jw_str(&w, t);
        const struct {
            const char *key;
            double v;
        } nums[] = {{"utilisation", r->utilisation_pct}, {"occupancy", r->occupancy_pct}, {"energy_kwh", r->energy_kwh},
                    {"open_min", r->open_min},           {"charging_min", r->charging_min}, {"plugged_min", r->plugged_min}};
        for (size_t k = 0; k < sizeof nums / sizeof *nums; k++) {
            ec_jw_key(&w, nums[k].key);
            if (isfinite(nums[k].v)) ec_jw_num(&w, nums[k].v, 4);
            else ec_jw_null(&w);
        }
        ec_jw_key(&w, "sessions"), ec_jw_int(&w, r->sessions);
        ec_jw_obj_end(&w);
    }
    ec_jw_arr_end(&w);
    ec_jw_obj_end(&w);
    return ec_jw_finish(&w);
}

/* The answer, on whichever store: the loop's or the job's. */
static void answer(ec_store *s, kpi_job *x, ec_http_response *res)
{
    ec_kpi *k = NULL;
    const ec_kpi_row_t *rows = NULL;
    size_t n = 0;
    int64_t suppressed = 0;
    x->o.until_ms = ec_time_now_s() * 1000 + 1000; /* the hub's journal reaches now */
    ec_err rc = ec_kpi_from_store(s, &x->o, &k);
    if (!rc && x->o.step_s > 0) {
        rc = ec_kpi_steps(k, &rows, &n);
        if (!rc) rc = steps_json(x, rows, n, &res->body);
    } else if (!rc) {
        rc = x->public_view ? ec_kpi_rows_public(k, x->group, KPI_MIN_SESSIONS, KPI_MIN_FLEETS, &rows, &n, &suppressed)
                            : ec_kpi_rows(k, x->group, &rows, &n);
        if (!rc) rc = x->csv ? ec_kpi_csv(rows, n, &res->body) : ec_kpi_json(rows, n, suppressed, &res->body);
    }
    ec_kpi_free(k);
    if (rc && ec_buf_error(&res->body)) {
        api__unwritten(res, rc);
        return;
    }
    if (rc) {
        ec_log(EC_LOG_ERROR, "kpis: %s", ec_errmsg());
        api__error(res, 500, "store_error", NULL, "the journal could not be read");
        return;
    }
    res->status = 200;
    res->content_type = x->csv ? "text/csv; charset=utf-8" : "application/json";
}

static void kpi_start(work_job *j)
{
    kpi_job *x = (kpi_job *)j;
    x->store = work__reader_take(j->api->work);
}

static void kpi_run(work_job *j)
{
    kpi_job *x = (kpi_job *)j;
    ec_err rc = x->store ? EC_OK : ec_store_open(x->db_path, &x->store);
    if (rc) {
        api__error(&j->res, 500, "store_error", NULL, "the journal could not be read");
        return;
    }
    answer(x->store, x, &j->res);
    ec_store_release(x->store);
}

static int kpi_done(work_job *j)
{
    kpi_job *x = (kpi_job *)j;
    work__reader_give(j->api->work, x->store);
    x->store = NULL;
    if (x->public_view && j->res.status == 200 && !ec_buf_error(&j->res.body)) keep(x->o.from_s, x->o.to_s, x->csv, &j->res.body);
    return 0;
}

static void kpi_release(work_job *j)
{
    kpi_job *x = (kpi_job *)j;
    ec_store_close(x->store);
    ec_free(x);
}

/* Whether [from, to) is one calendar month in UTC. */
static int one_month(int64_t from, int64_t to)
{
    time_t t = (time_t)from;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_mday != 1 || tm.tm_hour || tm.tm_min || tm.tm_sec) return 0;
    int y = tm.tm_year + 1900, m = tm.tm_mon + 2;
    if (m > 12) m = 1, y++;
    return to == ec_days_from_civil(y, m, 1) * 86400;
}

/* Runs job x (copied) on the KPI lane, or on the loop where there is no pool or the database is
 * this connection's only. */
static void submit(ec_api *a, const api_principal *p, const kpi_job *x, const ec_http_request *req,
                   ec_http_response *res)
{
    kpi_job *j = ec_calloc(1, sizeof *j);
    if (!j) {
        api__error(res, 503, "busy", NULL, "the hub cannot take this now; try again shortly");
        return;
    }
    *j = *x;
    j->o.only_operator = x->o.only_operator ? j->op : NULL;
    j->o.only_jurisdiction = x->o.only_jurisdiction ? j->jur : NULL;
    j->o.only_site = x->o.only_site ? j->site : NULL;
    if (!a->work || !a->db_path || !strcmp(a->db_path, ":memory:")) {
        answer(a->store, j, res);
        ec_free(j);
        return;
    }
    j->db_path = a->db_path;
    ec_buf_init(&j->job.res.body, 256u << 20);
    j->job.start = kpi_start;
    j->job.run = kpi_run;
    j->job.done = kpi_done;
    j->job.release = kpi_release;
    /* Keyed requests share the lane per organisation, public ones per address. */
    /* The public has a lane of its own: no number of addresses keeps keyed users out. */
    int pub = p->role == EC_ROLE_PUBLIC;
    work__submit(a->work, &j->job, pub ? WORK_KPI_PUBLIC : WORK_KPI, pub ? req->peer : p->org, req, res);
}

/* GET /api/v1/sites/{id}/utilisation[?hours=24]: the site's hours ending now, by the KPIs' own
 * definitions (one journal read, ec_kpi_steps), for those who may see the site's figures. */
static void utilisation(ec_api *a, const api_principal *p, const char *id, const ec_http_request *req,
                        ec_http_response *res)
{
    if (req->method != EC_HTTP_GET && req->method != EC_HTTP_HEAD) {
        api__error(res, 405, "method_not_allowed", NULL, "utilisation takes GET");
        return;
    }
    static const char *const allowed[] = {"hours", NULL};
    if (api__only_args(req, res, allowed)) return;
    const char *h = api__arg(req, "hours");
    int64_t hours = 24;
    if (h && (ec_parse_i64(h, &hours) || hours < 1 || hours > UTIL_HOURS_MAX)) {
        api__error(res, 400, "invalid_parameter", "hours", "hours must be a whole number from 1 to %d", UTIL_HOURS_MAX);
        return;
    }
    if (!ec_reg_id_valid(id)) {
        if (p->role == EC_ROLE_PUBLIC) api__may_see_site_figures(a, p, id, res);
        else api__error(res, 404, "not_found", NULL, "no site %.60s", id);
        return;
    }
    if (api__may_see_site_figures(a, p, id, res)) return;
    kpi_job x;
    memset(&x, 0, sizeof x);
    snprintf(x.site, sizeof x.site, "%.*s", EC_REG_ID_MAX, id);
    x.o.only_site = x.site;
    x.o.step_s = UTIL_STEP_S;
    x.o.to_s = ec_time_now_s();
    x.o.from_s = x.o.to_s - hours * UTIL_STEP_S;
    x.group = EC_KPI_SITE;
    submit(a, p, &x, req, res);
}

int api__kpis(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req, ec_http_response *res)
{
    size_t len = strlen(rest);
    static const char tail[] = "/utilisation";
    if (!strncmp(rest, "sites/", 6) && len > 6 + sizeof tail - 1 && !strcmp(rest + len - (sizeof tail - 1), tail)) {
        char id[EC_REG_ID_MAX + 2];
        size_t idl = len - 6 - (sizeof tail - 1);
        if (memchr(rest + 6, '/', idl)) return 0;
        snprintf(id, sizeof id, "%.*s", (int)(idl < sizeof id - 1 ? idl : sizeof id - 1), rest + 6);
        utilisation(a, p, id, req, res);
        return 1;
    }
    if (strcmp(rest, "kpis")) return 0;
    if (req->method != EC_HTTP_GET && req->method != EC_HTTP_HEAD) {
        api__error(res, 405, "method_not_allowed", NULL, "kpis takes GET");
        return 1;
    }
    static const char *const allowed[] = {"group", "from", "to", "format", NULL};
    if (api__only_args(req, res, allowed)) return 1;
    kpi_job x;
    memset(&x, 0, sizeof x);
    const char *g = api__arg(req, "group"), *f = api__arg(req, "from"), *t = api__arg(req, "to");
    const char *fmt = api__arg(req, "format");
    x.group = EC_KPI_SITE;
    if (g && ec_kpi_group_parse(g, &x.group)) {
        api__error(res, 400, "invalid_parameter", "group",
                   "group must be port, evse, site, operator, jurisdiction or segment");
        return 1;
    }
    if (!f || !t || ec_time_parse_iso(f, &x.o.from_s) || ec_time_parse_iso(t, &x.o.to_s)) {
        api__error(res, 400, "invalid_parameter", f && t ? (ec_time_parse_iso(f, &x.o.from_s) ? "from" : "to") : !f ? "from" : "to",
                   "from and to are RFC 3339 times, e.g. from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z");
        return 1;
    }
    if (x.o.from_s < 0 || x.o.to_s > KPI_TIME_END_S) {
        api__error(res, 400, "invalid_parameter", x.o.from_s < 0 ? "from" : "to",
                   "from and to are from 1970-01-01T00:00:00Z to 10000-01-01T00:00:00Z");
        return 1;
    }
    if (x.o.to_s <= x.o.from_s) {
        api__error(res, 400, "invalid_parameter", "to", "to must be after from");
        return 1;
    }
    if (fmt && strcmp(fmt, "json") && strcmp(fmt, "csv")) {
        api__error(res, 400, "invalid_parameter", "format", "format must be json or csv");
        return 1;
    }
    x.csv = fmt && !strcmp(fmt, "csv");
    if (x.group == EC_KPI_SEGMENT) {
        api__error(res, 400, "invalid_parameter", "group",
                   "the hub places no sites on corridor segments; use ecorridor report --group segment --corridor DIR");
        return 1;
    }
    const char *op = NULL, *jur = NULL;
    if (api__kpi_scope(p, x.group, &op, &jur, &x.public_view, res)) return 1;
    if (x.public_view && x.o.to_s > ec_time_now_s()) {
        /* A month still running changes as sessions come: two answers a minute apart would
         * differ by the sessions between them. */
        api__error(res, 400, "invalid_parameter", "to",
                   "without a key the figures are given for months that are over; this one ends at %s", t);
        return 1;
    }
    if (x.public_view && !one_month(x.o.from_s, x.o.to_s)) {
        api__error(res, 400, "invalid_parameter", "from",
                   "without a key the figures are given for one calendar month (UTC) at a time: "
                   "from=YYYY-MM-01T00:00:00Z and to the first of the next month");
        return 1;
    }
    const kpi_cached *c = x.public_view ? cached(x.o.from_s, x.o.to_s, x.csv) : NULL;
    if (c) {
        ec_buf_append(&res->body, c->body, c->len);
        res->status = 200;
        res->content_type = x.csv ? "text/csv; charset=utf-8" : "application/json";
        return 1;
    }
    if (op) snprintf(x.op, sizeof x.op, "%s", op);
    if (jur) snprintf(x.jur, sizeof x.jur, "%s", jur);
    x.o.only_operator = op ? x.op : NULL;
    x.o.only_jurisdiction = jur ? x.jur : NULL;
    submit(a, p, &x, req, res);
    return 1;
}

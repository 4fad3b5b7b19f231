/* api_map.c - what the region's web page draws: GET /api/v1/map/sites (every
 * site, compact, with its live state), /api/v1/map/network (the road graph
 * as GeoJSON, the map's base layer where no tile server is reachable) and
 * /api/v1/whoami (what the page may offer the key it was given).
 *
 * The sites are answered from a snapshot of the register kept while the
 * register stays as it is (ec_store_generation). A snapshot is built on a
 * worker from the previous one: only the documents that changed since
 * (a charge point's status, an edit) are parsed again, so a register of
 * 10,000 sites costs a full parse once, and each change afterwards a
 * scan of the table. The network (map_network.c) is built once, on a
 * worker: the graph never changes while the hub runs. */
#include "api_map.h"

#include "api_internal.h"
#include "map_network.h"
#include "ecorridor/ec_kpi.h"
#include "work.h"

#include <stdlib.h>
#include <string.h>

/* The most vertices the network's lines hold in all: about 4 MB of answer,
 * which a browser draws as one layer without stutter. */
#define NETWORK_VERTICES_MAX 200000
/* How far down from an agency's jurisdiction its scope reaches: as far as
 * the figures (src/kpi) look up from a site's, seven parents. */
#define JURISDICTION_DEPTH_MAX (EC_KPI_WITHIN_DEPTH - 1)

/* ---- the sites' snapshot -------------------------------------------------------- */

typedef struct {
    char id[EC_REG_ID_MAX + 1];
    char *lit; /* the name as a JSON string ("\"Utrecht\""), or "null" */
} map_name;

typedef struct {
    char operator_id[EC_REG_ID_MAX + 1], jurisdiction_id[EC_REG_ID_MAX + 1];
    uint64_t hash; /* of the stored document: the same hash and length, the same site */
    size_t doc_len;
    char *core;    /* its members but the names, without braces */
    char *op_lit;  /* the document's own operator name as a JSON string, or NULL */
} map_site;

typedef struct map_snap {
    int refs;           /* touched on the loop only */
    int64_t generation; /* the loop's store generation it was read at or after */
    ec_vec sites;       /* map_site, in id order */
    ec_vec orgs, jurs;  /* map_name, in id order */
    ec_map by_hash;     /* document hash -> index in sites */
    ec_buf all;         /* the answer without a filter */
} map_snap;

static void snap_free(map_snap *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->sites.len; i++) {
        ec_free(EC_VEC_AT(&s->sites, map_site, i).core);
        ec_free(EC_VEC_AT(&s->sites, map_site, i).op_lit);
    }
    ec_vec *names[] = {&s->orgs, &s->jurs};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < names[k]->len; i++) ec_free(EC_VEC_AT(names[k], map_name, i).lit);
        ec_vec_free(names[k]);
    }
    ec_vec_free(&s->sites);
    ec_map_free(&s->by_hash);
    ec_buf_free(&s->all);
    ec_free(s);
}

static void snap_unref(map_snap *s)
{
    if (s && --s->refs == 0) snap_free(s);
}

/* s as a JSON string literal, new (free with ec_free); "null" for NULL. */
static char *json_literal(const char *s)
{
    ec_buf b;
    ec_jw w;
    ec_buf_init(&b, 4 * EC_REG_DOC_MAX);
    ec_jw_init(&w, &b);
    if (s) ec_jw_str(&w, s);
    else ec_jw_null(&w);
    char *out = ec_jw_finish(&w) ? NULL : ec_strdup(b.data);
    ec_buf_free(&b);
    return out;
}

/* Row callback: an organisation's or jurisdiction's name. */
static ec_err row_name(void *ctx, const char *doc, size_t len)
{
    ec_json *j;
    if (ec_json_load_buf(doc, len, "register", &j)) return EC_OK;
    const char *id = ec_json_str(ec_json_get(j, "id")), *name = ec_json_str(ec_json_get(j, "name"));
    map_name n;
    memset(&n, 0, sizeof n);
    ec_err rc = EC_OK;
    if (id) {
        snprintf(n.id, sizeof n.id, "%s", id);
        n.lit = json_literal(name);
        if (!n.lit || ec_vec_push(ctx, &n)) rc = EC_ENOMEM;
        if (rc) ec_free(n.lit);
    }
    ec_json_free(j);
    return rc;
}

static int name_cmp(const void *k, const void *e)
{
    return strcmp(k, ((const map_name *)e)->id);
}

/* The JSON literal of id's name in names (sorted by id), or NULL. */
static const char *name_of(const ec_vec *names, const char *id)
{
    if (!id[0]) return NULL;
    const map_name *n = bsearch(id, names->data, names->len, sizeof(map_name), name_cmp);
    return n ? n->lit : NULL;
}

/* A site's members but the names, from its document. */
static ec_err site_core(const ec_json *j, map_site *out)
{
    ec_buf b;
    ec_jw w;
    ec_buf_init(&b, EC_REG_DOC_MAX);
    ec_jw_init(&w, &b);
    const ec_json *coord = ec_json_get(j, "coordinates"), *evses = ec_json_get(j, "evses");
    const char *v;
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "id"), ec_jw_str(&w, ec_json_str(ec_json_get(j, "id")));
    v = ec_json_str(ec_json_get(j, "name"));
    ec_jw_key(&w, "name"), v ? ec_jw_str(&w, v) : ec_jw_null(&w);
    const char *keys[2] = {"latitude", "longitude"}, *out_keys[2] = {"lat", "lon"};
    for (int i = 0; i < 2; i++) {
        /* OCPI writes coordinates as decimal strings. */
        double d;
        const ec_json *c = ec_json_get(coord, keys[i]);
        ec_jw_key(&w, out_keys[i]);
        if ((ec_json_str(c) && !ec_parse_double(ec_json_str(c), &d)) || ec_json_number(c, &d) == 0) ec_jw_num(&w, d, 7);
        else ec_jw_null(&w);
    }
    /* The one rule the live events and the page use too. */
    ec_jw_key(&w, "status"), ec_jw_str(&w, ec_reg_site_state(j));
    v = ec_json_str(ec_json_get(j, "operator_id"));
    snprintf(out->operator_id, sizeof out->operator_id, "%s", v ? v : "");
    ec_jw_key(&w, "operator_id"), v ? ec_jw_str(&w, v) : ec_jw_null(&w);
    v = ec_json_str(ec_json_get(j, "jurisdiction_id"));
    snprintf(out->jurisdiction_id, sizeof out->jurisdiction_id, "%s", v ? v : "");
    ec_jw_key(&w, "jurisdiction_id"), v ? ec_jw_str(&w, v) : ec_jw_null(&w);
    /* The standards in the order the connectors name them, each once. */
    double max_w = 0;
    const char *std[32];
    int n_std = 0;
    ec_jw_key(&w, "evses");
    ec_jw_arr_begin(&w);
    for (size_t e = 0; e < ec_json_array_size(evses); e++) {
        const ec_json *x = ec_json_array_get(evses, e), *cons = ec_json_get(x, "connectors");
        ec_jw_obj_begin(&w);
        v = ec_json_str(ec_json_get(x, "uid"));
        ec_jw_key(&w, "uid"), v ? ec_jw_str(&w, v) : ec_jw_null(&w);
        v = ec_json_str(ec_json_get(x, "status"));
        ec_jw_key(&w, "status"), ec_jw_str(&w, v ? v : "UNKNOWN");
        ec_jw_obj_end(&w);
        for (size_t c = 0; c < ec_json_array_size(cons); c++) {
            const ec_json *con = ec_json_array_get(cons, c);
            double p;
            if (ec_json_number(ec_json_get(con, "max_electric_power"), &p) == 0 && p > max_w) max_w = p;
            const char *s = ec_json_str(ec_json_get(con, "standard"));
            int seen = !s;
            for (int k = 0; k < n_std && !seen; k++) seen = !strcmp(std[k], s);
            if (!seen && n_std < 32) std[n_std++] = s;
        }
    }
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "max_power_kw"), ec_jw_num(&w, max_w / 1000.0, 1);
    ec_jw_key(&w, "standards");
    ec_jw_arr_begin(&w);
    for (int k = 0; k < n_std; k++) ec_jw_str(&w, std[k]);
    ec_jw_arr_end(&w);
    ec_jw_obj_end(&w);
    ec_err rc = ec_jw_finish(&w);
    if (!rc) {
        /* Without its braces: the names are put beside it as it is served. */
        b.data[b.len - 1] = 0;
        out->core = ec_strdup(b.data + 1);
        const char *op = ec_json_str(ec_json_get(ec_json_get(j, "operator"), "name"));
        out->op_lit = op ? json_literal(op) : NULL;
        if (!out->core || (op && !out->op_lit)) rc = EC_ENOMEM;
    }
    ec_buf_free(&b);
    return rc;
}

typedef struct {
    map_snap *snap;
    const map_snap *old; /* may be NULL */
    int64_t parsed;
} build_ctx;

/* Row callback: one site, copied from the old snapshot when its document is
 * the same, else parsed. */
static ec_err row_site(void *ctx, const char *doc, size_t len)
{
    build_ctx *b = ctx;
    map_site s;
    memset(&s, 0, sizeof s);
    s.hash = ec_hash_bytes(doc, len);
    s.doc_len = len;
    uint64_t at;
    ec_err rc = EC_OK;
    /* A document forged to collide with another's hash would at worst show
     * that other site twice on the map (its owner's key wrote it). */
    if (b->old && ec_map_get(&b->old->by_hash, s.hash, &at) &&
        EC_VEC_AT(&b->old->sites, map_site, at).doc_len == len) {
        const map_site *o = &EC_VEC_AT(&b->old->sites, map_site, at);
        memcpy(s.operator_id, o->operator_id, sizeof s.operator_id);
        memcpy(s.jurisdiction_id, o->jurisdiction_id, sizeof s.jurisdiction_id);
        s.core = ec_strdup(o->core);
        s.op_lit = o->op_lit ? ec_strdup(o->op_lit) : NULL;
        if (!s.core || (o->op_lit && !s.op_lit)) rc = EC_ENOMEM;
    } else {
        ec_json *j;
        /* A document the store holds is valid; one that is not is left out. */
        if (ec_json_load_buf(doc, len, "site", &j)) return EC_OK;
        rc = site_core(j, &s);
        ec_json_free(j);
        b->parsed++;
    }
    if (!rc && ec_map_put(&b->snap->by_hash, s.hash, b->snap->sites.len)) rc = EC_ENOMEM;
    if (!rc && ec_vec_push(&b->snap->sites, &s)) rc = EC_ENOMEM;
    if (rc) {
        ec_free(s.core);
        ec_free(s.op_lit);
    }
    return rc;
}

/* Writes the sites of snap matching op and jur (NULL: any) as the answer. */
static ec_err snap_render(const map_snap *snap, const char *op, const char *jur, ec_buf *out)
{
    int64_t n = 0;
    for (size_t i = 0; i < snap->sites.len; i++) {
        const map_site *s = &EC_VEC_AT(&snap->sites, map_site, i);
        n += (!op || !strcmp(op, s->operator_id)) && (!jur || !strcmp(jur, s->jurisdiction_id));
    }
    ec_buf_printf(out, "{\"count\":%lld,\"sites\":[", (long long)n);
    int first = 1;
    for (size_t i = 0; i < snap->sites.len; i++) {
        const map_site *s = &EC_VEC_AT(&snap->sites, map_site, i);
        if ((op && strcmp(op, s->operator_id)) || (jur && strcmp(jur, s->jurisdiction_id))) continue;
        const char *on = name_of(&snap->orgs, s->operator_id), *jn = name_of(&snap->jurs, s->jurisdiction_id);
        if (!on) on = s->op_lit ? s->op_lit : "null";
        ec_buf_puts(out, first ? "{" : ",{");
        ec_buf_puts(out, s->core);
        ec_buf_puts(out, ",\"operator\":");
        ec_buf_puts(out, on);
        ec_buf_puts(out, ",\"jurisdiction\":");
        ec_buf_puts(out, jn ? jn : "null");
        ec_buf_puts(out, "}");
        first = 0;
    }
    ec_buf_puts(out, "]}");
    return ec_buf_error(out);
}

/* Reads the register from s into a new snapshot, reusing old's sites (may
 * be NULL). Returns new with one reference. */
static ec_err snap_build(ec_store *s, const map_snap *old, int64_t generation, map_snap **out)
{
    map_snap *snap = ec_calloc(1, sizeof *snap);
    if (!snap) return EC_ENOMEM;
    snap->refs = 1;
    snap->generation = generation;
    ec_vec_init(&snap->sites, sizeof(map_site));
    ec_vec_init(&snap->orgs, sizeof(map_name));
    ec_vec_init(&snap->jurs, sizeof(map_name));
    ec_buf_init(&snap->all, 256u << 20);
    int64_t t0 = ec_time_mono_ns(), total;
    ec_store_filter_t f;
    memset(&f, 0, sizeof f);
    f.limit = -1;
    build_ctx b = {snap, old, 0};
    ec_err rc = ec_map_init(&snap->by_hash, old ? old->sites.len : 1024);
    if (!rc) rc = ec_store_list(s, EC_KIND_ORGANISATION, &f, row_name, &snap->orgs, &total);
    if (!rc) rc = ec_store_list(s, EC_KIND_JURISDICTION, &f, row_name, &snap->jurs, &total);
    if (!rc) rc = ec_store_list(s, EC_KIND_SITE, &f, row_site, &b, &total);
    if (!rc) rc = snap_render(snap, NULL, NULL, &snap->all);
    if (rc) {
        snap_free(snap);
        return rc;
    }
    ec_log(EC_LOG_DEBUG, "map: %zu sites (%lld read again) in %.1f ms", snap->sites.len, (long long)b.parsed,
           (double)(ec_time_mono_ns() - t0) / 1e6);
    *out = snap;
    return EC_OK;
}

/* ---- the state kept between requests -------------------------------------------- */

/* A request that waits for the build under way, rather than start another:
 * however many clients ask at once after a change, the hub reads the
 * register once (twice: those who came after the read began wait for the
 * next), and nobody is refused for want of a place in the read lane. */
typedef struct map_waiter {
    struct map_waiter *next;
    uint64_t serial;     /* its request, answered with ec_http_complete */
    uint64_t seq;        /* when it came, on m->seq's clock */
    int network;         /* 1: waits for the network; 0: the sites */
    int has_op, has_jur;
    char op[EC_REG_ID_MAX + 1], jur[EC_REG_ID_MAX + 1];
    char peer[48];
} map_waiter;

/* The most requests that wait at once, in all and from one address; more
 * are 503 busy (each is answered with its own copy of the sites, some MB). */
#define WAITERS_MAX 1024
#define WAITERS_PER_ADDR 16

struct api_map {
    map_snap *snap;      /* the newest sites' snapshot, or NULL */
    char *network;       /* the network's answer, built once, or NULL */
    size_t network_len;
    int building_sites, building_network; /* a job is under way */
    uint64_t seq;        /* a clock of arrivals and reads' starts */
    map_waiter *waiters;
    int n_waiters;
};

static struct api_map *state(ec_api *a)
{
    if (!a->map) a->map = ec_calloc(1, sizeof *a->map);
    return a->map;
}

void api__map_free(ec_api *a)
{
    if (!a->map) return;
    snap_unref(a->map->snap);
    ec_free(a->map->network);
    while (a->map->waiters) {
        map_waiter *w = a->map->waiters;
        a->map->waiters = w->next;
        ec_free(w);
    }
    ec_free(a->map);
    a->map = NULL;
}

void api__map_warm(ec_api *a, int64_t n_sites)
{
    struct api_map *m = state(a);
    if (!m || m->snap || n_sites > 50000) return;
    map_snap *snap;
    int64_t gen = ec_store_generation(a->store);
    if (snap_build(a->store, NULL, gen, &snap) == EC_OK) m->snap = snap;
    ec_store_release(a->store);
}

/* A snapshot's build or the network's, on a worker. */
typedef struct {
    work_job job;
    int network; /* 1: the network; 0: the sites */
    char op[EC_REG_ID_MAX + 1], jur[EC_REG_ID_MAX + 1];
    int has_op, has_jur;
    int64_t generation;
    uint64_t seq;        /* when its read began: the requests that came before it see what it read */
    const char *db_path;
    ec_store *store;
    map_snap *old, *built;
    ec_buf net;
} map_job;

static void job_start(work_job *j)
{
    map_job *x = (map_job *)j;
    if (x->network) return;
    x->store = work__reader_take(j->api->work);
    x->seq = ++j->api->map->seq;
    /* The newest snapshot at the time the job runs, for what it can reuse. */
    if ((x->old = j->api->map->snap)) x->old->refs++;
}

static void job_run(work_job *j)
{
    map_job *x = (map_job *)j;
    ec_err rc;
    if (x->network) {
        rc = map__network_geojson(j->api->graph, NETWORK_VERTICES_MAX, j->api->tile_url, j->api->tile_attribution,
                                   &x->net);
        if (!rc) rc = ec_buf_append(&j->res.body, x->net.data, x->net.len);
        if (rc) api__unwritten(&j->res, rc);
        else j->res.status = 200, j->res.content_type = "application/geo+json";
        return;
    }
    rc = x->store ? EC_OK : ec_store_open(x->db_path, &x->store);
    if (!rc) rc = snap_build(x->store, x->old, x->generation, &x->built);
    if (x->store) ec_store_release(x->store);
    if (!rc) rc = snap_render(x->built, x->has_op ? x->op : NULL, x->has_jur ? x->jur : NULL, &j->res.body);
    if (rc == EC_EIO) {
        ec_log(EC_LOG_ERROR, "store: %s", ec_errmsg());
        api__error(&j->res, 500, "store_error", NULL, "the register could not be read");
    } else if (rc) {
        api__unwritten(&j->res, rc);
    } else {
        j->res.status = 200;
    }
}

static int sites_submit(ec_api *a, map_waiter *w, int64_t gen, const ec_http_request *req, ec_http_response *res);

/* Answers the waiters for the network (network 1) or those for the sites
 * that came before the read began (seq), from what the job wrote. */
static void answer_waiters(ec_api *a, int network, uint64_t seq, int status, const map_snap *snap)
{
    struct api_map *m = a->map;
    map_waiter **pw = &m->waiters;
    ec_buf b;
    ec_buf_init(&b, 256u << 20);
    while (*pw) {
        map_waiter *w = *pw;
        if (w->network != network || (!network && w->seq > seq)) {
            pw = &w->next;
            continue;
        }
        *pw = w->next;
        m->n_waiters--;
        ec_buf_reset(&b);
        ec_err rc = EC_OK;
        const char *type = "application/json";
        if (status == 200 && network) {
            rc = ec_buf_append(&b, m->network, m->network_len), type = "application/geo+json";
        } else if (status == 200) {
            rc = snap_render(snap, w->has_op ? w->op : NULL, w->has_jur ? w->jur : NULL, &b);
        } else {
            rc = EC_EIO;
        }
        if (rc) {
            ec_buf_reset(&b);
            ec_buf_puts(&b, status == 503 ? "{\"error\":{\"code\":\"busy\",\"message\":\"the hub cannot read the map "
                                            "now; try again shortly\",\"field\":\"\"}}"
                                          : "{\"error\":{\"code\":\"internal\",\"message\":\"the map could not be "
                                            "read\",\"field\":\"\"}}");
        }
        if (a->http)
            ec_http_complete(a->http, w->serial, rc ? (status == 503 ? 503 : 500) : 200, type, b.data ? b.data : "", b.len);
        ec_free(w);
    }
    ec_buf_free(&b);
}

static int job_done(work_job *j)
{
    map_job *x = (map_job *)j;
    ec_api *a = j->api;
    struct api_map *m = a->map;
    if (x->network) {
        m->building_network = 0;
        if (!m->network && j->res.status == 200) {
            m->network = x->net.data, m->network_len = x->net.len;
            x->net.data = NULL;
        }
        answer_waiters(a, 1, 0, m->network ? 200 : 500, NULL);
        return 0;
    }
    m->building_sites = 0;
    work__reader_give(a->work, x->store);
    x->store = NULL;
    answer_waiters(a, 0, x->seq, x->built ? 200 : 500, x->built);
    /* The newest wins: a job that read later may finish first. */
    if (x->built && (!m->snap || m->snap->generation < x->built->generation)) {
        snap_unref(m->snap);
        m->snap = x->built;
        x->built = NULL;
    }
    /* Those who came after the read began: one more read, on behalf of the
     * first of them; the others wait for it. */
    map_waiter **pw = &m->waiters;
    while (*pw && (*pw)->network) pw = &(*pw)->next;
    if (*pw) {
        map_waiter *w = *pw;
        *pw = w->next;
        m->n_waiters--;
        ec_http_request req;
        ec_http_response res;
        memset(&req, 0, sizeof req);
        memset(&res, 0, sizeof res);
        ec_buf_init(&res.body, 4096);
        req.serial = w->serial;
        snprintf(req.peer, sizeof req.peer, "%s", w->peer);
        if (sites_submit(a, w, ec_store_generation(a->store), &req, &res)) {
            /* Refused (the lane is full): so are the others, rather than wait for a read no one starts. */
            if (a->http)
                ec_http_complete(a->http, w->serial, res.status, "application/json", res.body.data ? res.body.data : "",
                                 res.body.len);
            answer_waiters(a, 0, UINT64_MAX, 503, NULL);
        }
        ec_buf_free(&res.body);
        ec_free(w);
    }
    return 0;
}

static void job_release(work_job *j)
{
    map_job *x = (map_job *)j;
    ec_store_close(x->store);
    snap_unref(x->old);
    snap_unref(x->built);
    ec_buf_free(&x->net);
    ec_free(x);
}

static map_job *job_new(void)
{
    map_job *x = ec_calloc(1, sizeof *x);
    if (!x) return NULL;
    ec_buf_init(&x->job.res.body, 256u << 20);
    ec_buf_init(&x->net, 256u << 20);
    x->job.start = job_start;
    x->job.run = job_run;
    x->job.done = job_done;
    x->job.release = job_release;
    return x;
}

/* ---- the handlers ------------------------------------------------------------------ */

/* Parks the request w describes until the build under way is done: its
 * answer follows (res->status 0), or 503 when too many wait. */
static void park(struct api_map *m, const map_waiter *w, const ec_http_request *req, ec_http_response *res)
{
    int same = 0;
    for (const map_waiter *o = m->waiters; o; o = o->next) same += !strcmp(o->peer, req->peer);
    map_waiter *x = m->n_waiters < WAITERS_MAX && same < WAITERS_PER_ADDR ? ec_malloc(sizeof *x) : NULL;
    if (!x) {
        api__error(res, 503, "busy", NULL, "too many requests wait for the map; try again shortly");
        return;
    }
    *x = *w;
    x->serial = req->serial;
    x->seq = ++m->seq;
    snprintf(x->peer, sizeof x->peer, "%s", req->peer);
    /* In arrival order: the first after a read began starts the next. */
    map_waiter **pw = &m->waiters;
    while (*pw) pw = &(*pw)->next;
    x->next = NULL;
    *pw = x;
    m->n_waiters++;
    res->status = 0;
}

/* Reads the sites on a worker for the request w describes (its filter):
 * 0 when submitted (the answer follows), -1 with a 503 in res. */
static int sites_submit(ec_api *a, map_waiter *w, int64_t gen, const ec_http_request *req, ec_http_response *res)
{
    map_job *x = job_new();
    if (!x) {
        api__error(res, 503, "busy", NULL, "the hub cannot take this now; try again shortly");
        return -1;
    }
    x->has_op = w->has_op, x->has_jur = w->has_jur;
    memcpy(x->op, w->op, sizeof x->op);
    memcpy(x->jur, w->jur, sizeof x->jur);
    x->generation = gen;
    x->db_path = a->db_path;
    /* A public read: its share of the lane is its address's. */
    if (work__submit(a->work, &x->job, WORK_READ, req->peer, req, res)) return -1;
    a->map->building_sites = 1;
    return 0;
}

static void map_sites(ec_api *a, const ec_http_request *req, ec_http_response *res)
{
    static const char *const allowed[] = {"operator_id", "operator", "jurisdiction_id", "jurisdiction", NULL};
    if (api__only_args(req, res, allowed)) return;
    const char *op = api__arg(req, "operator_id"), *jur = api__arg(req, "jurisdiction_id");
    if (!op) op = api__arg(req, "operator");
    if (!jur) jur = api__arg(req, "jurisdiction");
    const char *bad = op && !ec_reg_id_valid(op) ? "operator_id" : jur && !ec_reg_id_valid(jur) ? "jurisdiction_id" : NULL;
    if (bad) {
        api__error(res, 400, "invalid_parameter", bad, "%s must be an id: 1 to 36 letters, digits, '.', '_' or '-'", bad);
        return;
    }
    struct api_map *m = state(a);
    if (!m) {
        api__error(res, 503, "busy", NULL, "the hub cannot take this now; try again shortly");
        return;
    }
    int64_t gen = ec_store_generation(a->store);
    ec_err rc;
    if (m->snap && m->snap->generation == gen) {
        rc = op || jur ? snap_render(m->snap, op, jur, &res->body) : ec_buf_append(&res->body, m->snap->all.data, m->snap->all.len);
        if (rc) api__unwritten(res, rc);
        else res->status = 200;
        return;
    }
    if (!a->work || !a->db_path || !strcmp(a->db_path, ":memory:")) {
        /* No pool, or a database only this connection sees: here, on the loop. */
        map_snap *snap;
        rc = snap_build(a->store, m->snap, gen, &snap);
        if (!rc) {
            snap_unref(m->snap);
            m->snap = snap;
            rc = snap_render(snap, op, jur, &res->body);
        }
        if (rc) api__unwritten(res, rc);
        else res->status = 200;
        return;
    }
    map_waiter w;
    memset(&w, 0, sizeof w);
    if ((w.has_op = op != NULL)) snprintf(w.op, sizeof w.op, "%s", op);
    if ((w.has_jur = jur != NULL)) snprintf(w.jur, sizeof w.jur, "%s", jur);
    if (m->building_sites) {
        park(m, &w, req, res);
        return;
    }
    sites_submit(a, &w, gen, req, res);
}

static void map_network(ec_api *a, const ec_http_request *req, ec_http_response *res)
{
    static const char *const none[] = {NULL};
    if (api__only_args(req, res, none)) return;
    struct api_map *m = state(a);
    if (m && m->network) {
        if (ec_buf_append(&res->body, m->network, m->network_len)) api__unwritten(res, ec_buf_error(&res->body));
        else res->status = 200, res->content_type = "application/geo+json";
        return;
    }
    if (m && m->building_network) {
        map_waiter w;
        memset(&w, 0, sizeof w);
        w.network = 1;
        park(m, &w, req, res);
        return;
    }
    map_job *x = m ? job_new() : NULL;
    if (!x) {
        api__error(res, 503, "busy", NULL, "the hub cannot take this now; try again shortly");
        return;
    }
    x->network = 1;
    x->job.api = a;
    if (!a->work) {
        job_run(&x->job);
        job_done(&x->job);
        res->status = x->job.res.status, res->content_type = x->job.res.content_type;
        if (ec_buf_append(&res->body, x->job.res.body.data ? x->job.res.body.data : "", x->job.res.body.len))
            api__unwritten(res, ec_buf_error(&res->body));
        ec_buf_free(&x->job.res.body);
        job_release(&x->job);
        return;
    }
    if (work__submit(a->work, &x->job, WORK_READ, req->peer, req, res) == 0) m->building_network = 1;
}

/* Row callback: a jurisdiction's id and parent, into a vec of pairs. */
typedef struct {
    char id[EC_REG_ID_MAX + 1], parent[EC_REG_ID_MAX + 1];
} jur_link;

static ec_err row_link(void *ctx, const char *doc, size_t len)
{
    ec_json *j;
    if (ec_json_load_buf(doc, len, "jurisdiction", &j)) return EC_OK;
    jur_link l;
    const char *id = ec_json_str(ec_json_get(j, "id")), *parent = ec_json_str(ec_json_get(j, "parent_id"));
    snprintf(l.id, sizeof l.id, "%s", id ? id : "");
    snprintf(l.parent, sizeof l.parent, "%s", parent ? parent : "");
    ec_json_free(j);
    return ec_vec_push(ctx, &l) ? EC_ENOMEM : EC_OK;
}

static int by_parent(const void *a, const void *b)
{
    return strcmp(((const jur_link *)a)->parent, ((const jur_link *)b)->parent);
}

/* Writes root and every jurisdiction within it (parent_id chains, at most
 * JURISDICTION_DEPTH_MAX deep) as a JSON array. The links are sorted by
 * parent, and each jurisdiction taken in looks up its children by bisection:
 * a register of a continent's municipalities costs n log n here, not n
 * squared, on the loop, for each agency's whoami. */
static ec_err jurisdictions_within(ec_api *a, const char *root, ec_jw *w)
{
    ec_vec links;
    ec_vec_init(&links, sizeof(jur_link));
    ec_store_filter_t f;
    memset(&f, 0, sizeof f);
    f.limit = -1;
    int64_t total;
    ec_err rc = ec_store_list(a->store, EC_KIND_JURISDICTION, &f, row_link, &links, &total);
    /* in[i]: links[i] is taken in; queue: what is taken in, in the order found, with its depth. */
    uint8_t *in = rc ? NULL : ec_calloc(links.len + 1, 1);
    size_t *queue = rc ? NULL : ec_calloc(links.len + 1, sizeof *queue);
    uint8_t *depth = rc ? NULL : ec_calloc(links.len + 1, 1);
    if (!rc && (!in || !queue || !depth)) rc = EC_ENOMEM;
    ec_jw_arr_begin(w);
    if (!rc) {
        ec_jw_str(w, root);
        if (links.len) qsort(links.data, links.len, sizeof(jur_link), by_parent);
        /* Breadth first from root: a loop of parents ends where it comes back, and root is
         * never its own descendant. */
        size_t head = 0, tail = 0;
        for (size_t q = 0;; q++) {
            const char *parent = root;
            int d = 0;
            if (q > 0) {
                if (head == tail) break;
                size_t at = queue[head++];
                parent = EC_VEC_AT(&links, jur_link, at).id;
                d = depth[at];
            }
            if (d >= JURISDICTION_DEPTH_MAX) continue;
            /* The first link whose parent is this one. */
            size_t lo = 0, hi = links.len;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(EC_VEC_AT(&links, jur_link, mid).parent, parent) < 0) lo = mid + 1;
                else hi = mid;
            }
            for (size_t i = lo; i < links.len; i++) {
                const jur_link *l = &EC_VEC_AT(&links, jur_link, i);
                if (strcmp(l->parent, parent)) break;
                if (in[i] || !strcmp(l->id, root)) continue;
                in[i] = 1, depth[i] = (uint8_t)(d + 1), queue[tail++] = i;
                ec_jw_str(w, l->id);
            }
        }
    }
    ec_jw_arr_end(w);
    ec_free(in);
    ec_free(queue);
    ec_free(depth);
    ec_vec_free(&links);
    return rc;
}

static void whoami(ec_api *a, const api_principal *p, const ec_http_request *req, ec_http_response *res)
{
    static const char *const none[] = {NULL};
    if (api__only_args(req, res, none)) return;
    api_scope_t sc;
    api__scope(p, &sc);
    char org_name[512] = "";
    int r = p->org[0] ? api__member(a, EC_KIND_ORGANISATION, p->org, "name", org_name, sizeof org_name, res) : 1;
    if (r < 0) return; /* the store failed: answered */
    int has_org = r == 0;
    ec_jw w;
    ec_jw_init(&w, &res->body);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "role"), ec_jw_str(&w, ec_role_name(p->role));
    ec_jw_key(&w, "org_id"), p->org[0] ? ec_jw_str(&w, p->org) : ec_jw_null(&w);
    ec_jw_key(&w, "org"), has_org && org_name[0] ? ec_jw_str(&w, org_name) : ec_jw_null(&w);
    ec_jw_key(&w, "views");
    ec_jw_arr_begin(&w);
    for (int i = 0; i < sc.n_views; i++) ec_jw_str(&w, sc.views[i]);
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "kpi_public"), ec_jw_bool(&w, sc.kpi_public);
    ec_jw_key(&w, "scope");
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "all"), ec_jw_bool(&w, sc.all);
    ec_jw_key(&w, "operator_id"), sc.operator_id ? ec_jw_str(&w, sc.operator_id) : ec_jw_null(&w);
    ec_jw_key(&w, "jurisdiction_ids");
    ec_err rc = EC_OK;
    if (sc.jurisdiction_id && sc.jurisdiction_id[0]) rc = jurisdictions_within(a, sc.jurisdiction_id, &w);
    else if (sc.jurisdiction_id) ec_jw_arr_begin(&w), ec_jw_arr_end(&w); /* an agency without one: none */
    else ec_jw_null(&w);
    ec_jw_obj_end(&w);
    ec_jw_obj_end(&w);
    if (rc) {
        ec_buf_reset(&res->body);
        ec_log(EC_LOG_ERROR, "store: %s", ec_errmsg());
        api__error(res, 500, "store_error", NULL, "the register could not be read");
        return;
    }
    res->status = 200;
    api__finish(&w, res);
}

int api__map(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req, ec_http_response *res)
{
    int sites = !strcmp(rest, "map/sites"), network = !strcmp(rest, "map/network"), who = !strcmp(rest, "whoami");
    if (!sites && !network && !who) return 0;
    if (req->method != EC_HTTP_GET && req->method != EC_HTTP_HEAD) {
        api__error(res, 405, "method_not_allowed", NULL, "%s takes GET (or HEAD), not %s", rest,
                   ec_http_method_name(req->method));
        return 1;
    }
    if (sites) map_sites(a, req, res);
    else if (network) map_network(a, req, res);
    else whoami(a, p, req, res);
    return 1;
}

/* api.c - the REST API /api/v1: the register's objects, lists, GeoJSON, routes
 * and import, with keys and roles (policy.c). Handlers parse, call one
 * function below and write the answer. */
#include "api.h"

#include "api_internal.h"
#include "api_map.h"
#include "events.h"
#include "static.h"
#include "work.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void reg_error(ec_http_response *res, const ec_reg_error_t *e)
{
    api__error(res, 400, e->code[0] ? e->code : "invalid_field", e->field, "%s", e->message);
}

static void store_error(ec_api *a, ec_http_response *res, ec_err rc)
{
    a->metrics.store_write_errors++;
    ec_log(EC_LOG_ERROR, "store: %s", ec_errmsg());
    api__error(res, 500, "store_error", NULL, "the register could not be read or written");
}

size_t api__admit(void *ctx, const ec_http_request *req, ec_http_response *res)
{
    ec_api *a = ctx;
    int import = strcmp(req->path, "/api/v1/import") == 0;
    if (req->content_length > (int64_t)EC_API_BODY_OPEN || req->content_length < 0) {
        api_principal p;
        if (api__authenticate(a, req, res, &p) || api__may_send_body(&p, import, res)) return 0;
    }
    return import ? EC_API_IMPORT_MAX : EC_API_BODY_MAX;
}

void api__done(void *ctx, ec_http_method m, int status, double seconds)
{
    metrics__observe(&((ec_api *)ctx)->metrics, m, status, seconds);
}

/* Parses a JSON body; answers 400 and returns NULL when it is not JSON. */
static ec_json *body_json(const ec_http_request *req, ec_http_response *res)
{
    ec_json *j = NULL;
    if (!req->body_len) {
        api__error(res, 400, "invalid_json", NULL, "the request needs a JSON body");
        return NULL;
    }
    if (ec_json_load_buf(req->body, req->body_len, "body", &j)) {
        api__error(res, 400, "invalid_json", NULL, "%s", ec_errmsg());
        return NULL;
    }
    return j;
}

/* ---- lists -------------------------------------------------------------- */

/* Row callbacks get the writer as their context. */
static ec_err row_raw(void *ctx, const char *doc, size_t len)
{
    (void)len;
    ec_jw_raw(ctx, doc);
    return EC_OK;
}

/* Reads the list arguments a kind accepts into f; answers 400 for unknown
 * or malformed ones. */
static int list_filter(const ec_http_request *req, ec_http_response *res, ec_kind k, int64_t max_limit,
                       ec_store_filter_t *f)
{
    int paged = max_limit > 0;
    memset(f, 0, sizeof *f);
    f->limit = paged ? 50 : -1;
    if (req->args_overflow) {
        api__error(res, 400, "invalid_parameter", NULL, "too many or too long query parameters");
        return -1;
    }
    for (size_t i = 0; i < req->n_args; i++) {
        char name[64];
        const char *eq = strchr(req->args[i], '=');
        size_t n = eq ? (size_t)(eq - req->args[i]) : strlen(req->args[i]);
        snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), req->args[i]);
        const char *v = eq ? eq + 1 : "";
        int site = k == EC_KIND_SITE, ok = 1;
        int64_t iv;
        double d;
        if (!strcmp(name, "offset") && paged)
            ok = !ec_parse_i64(v, &iv) && iv >= 0 && (f->offset = iv, 1);
        else if (!strcmp(name, "limit") && paged)
            ok = !ec_parse_i64(v, &iv) && iv >= 1 && iv <= max_limit && (f->limit = iv, 1);
        else if (!strcmp(name, "operator") || !strcmp(name, "operator_id"))
            ok = ec_reg_id_valid(v) && (f->operator_id = v, 1);
        else if (!strcmp(name, "jurisdiction") || !strcmp(name, "jurisdiction_id"))
            ok = ec_reg_id_valid(v) && (f->jurisdiction_id = v, 1);
        else if (!strcmp(name, "bbox") && (site || k == EC_KIND_SUBSTATION || k == EC_KIND_RENEWABLE)) {
            char *end;
            double x[4];
            const char *p = v;
            int got = 0;
            for (; got < 4; got++) {
                x[got] = strtod(p, &end);
                if (end == p) break;
                p = end;
                if (got < 3 && *p++ != ',') {
                    got = -1;
                    break;
                }
            }
            ok = got == 4 && !*p && x[0] >= -180 && x[2] <= 180 && x[1] >= -90 && x[3] <= 90 && x[0] <= x[2] &&
                 x[1] <= x[3];
            if (ok) f->has_bbox = 1, f->min_lon = x[0], f->min_lat = x[1], f->max_lon = x[2], f->max_lat = x[3];
            if (!ok) {
                api__error(res, 400, "invalid_parameter", "bbox",
                           "bbox \"%.60s\" must be min_lon,min_lat,max_lon,max_lat in WGS84 degrees", v);
                return -1;
            }
        } else if (!strcmp(name, "standard") && site) {
            ok = 0;
            for (const char *const *s = ec_reg_standards; *s; s++) ok |= !strcmp(*s, v);
            if (ok) f->standard = v;
        } else if (!strcmp(name, "status") && site) {
            static const char *const statuses[] = {"AVAILABLE", "BLOCKED", "CHARGING", "INOPERATIVE", "OUTOFORDER",
                                                   "PLANNED", "REMOVED", "RESERVED", "UNKNOWN", NULL};
            ok = 0;
            for (const char *const *x = statuses; *x && !ok; x++) ok = !strcmp(*x, v);
            if (!ok) {
                api__error(res, 400, "invalid_parameter", "status",
                           "status \"%.40s\" is not an OCPI EVSE status: AVAILABLE, BLOCKED, CHARGING, INOPERATIVE, "
                           "OUTOFORDER, PLANNED, REMOVED, RESERVED or UNKNOWN", v);
                return -1;
            }
            f->status = v;
        }
        else if (!strcmp(name, "min_power_kw") && site)
            ok = !ec_parse_double(v, &d) && d >= 0 && d <= 10000 && (f->min_power_w = d * 1000.0, 1);
        else if (!strcmp(name, "substation") && (site || k == EC_KIND_RENEWABLE))
            ok = ec_reg_id_valid(v) && (f->substation_id = v, 1);
        else if (!strcmp(name, "truck") && site)
            ok = (!strcmp(v, "true") && (f->truck = 1)) || !strcmp(v, "false");
        else {
            api__error(res, 400, "unknown_parameter", name, "%s does not take the query parameter \"%s\"",
                       ec_kind_name(k), name);
            return -1;
        }
        if (!ok) {
            api__error(res, 400, "invalid_parameter", name, "query parameter %s=\"%.60s\" is not valid", name, v);
            return -1;
        }
    }
    return 0;
}

static void list(ec_api *a, const api_principal *p, ec_kind k, const ec_http_request *req,
                 ec_http_response *res)
{
    ec_store_filter_t f;
    if (list_filter(req, res, k, 1000, &f)) return;
    const char *only = k == EC_KIND_ORGANISATION ? api__only_organisation(p) : NULL;
    if (only) {
        ec_buf_puts(&res->body, "{\"data\":[");
        int64_t total = 0;
        if (ec_store_get(a->store, k, only, &res->body) == EC_OK) total = 1;
        ec_buf_printf(&res->body, "],\"total\":%lld,\"offset\":0,\"limit\":%lld}", (long long)total, (long long)f.limit);
        res->status = 200;
        if (ec_buf_error(&res->body)) api__unwritten(res, ec_buf_error(&res->body));
        return;
    }
    ec_jw w;
    ec_jw_init(&w, &res->body);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "data");
    ec_jw_arr_begin(&w);
    int64_t total = 0;
    ec_err rc = ec_store_list(a->store, k, &f, row_raw, &w, &total);
    if (rc) {
        store_error(a, res, rc);
        return;
    }
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "total"), ec_jw_int(&w, total);
    ec_jw_key(&w, "offset"), ec_jw_int(&w, f.offset);
    ec_jw_key(&w, "limit"), ec_jw_int(&w, f.limit);
    ec_jw_obj_end(&w);
    res->status = 200;
    api__finish(&w, res);
}

/* ---- GeoJSON ------------------------------------------------------------ */

/* A site's Feature, written from its document. */
static ec_err row_feature(void *ctx, const char *text, size_t len)
{
    ec_jw *w = ctx;
    ec_json *j;
    if (ec_json_load_buf(text, len, "site", &j)) return EC_OK;
    ec_reg_site_feature(j, w);
    ec_json_free(j);
    return EC_OK;
}

/* A GeoJSON page: the features a request gets without a limit, and the most
 * it may ask for. A feature costs about 70 us (the stored document parsed,
 * the feature written: measured on 30,000 sites) and 0.8 kB of answer; a
 * page is written on a worker (the read lane of work.c), and its answer
 * stays under ~1.6 MB however large the register. */
#define GEOJSON_LIMIT_DEFAULT 1000
#define GEOJSON_LIMIT_MAX 2000

/* Appends s percent-encoded as a query component. */
static void query_escape(ec_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~,", c)) {
            ec_buf_append(b, s, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            ec_buf_append(b, e, 3);
        }
    }
}

/* The sites as a FeatureCollection, one page: the page's place ("total",
 * "offset", "limit") and the next page's address ("next", absent on the last
 * page) are foreign members beside "features", which GeoJSON readers such as
 * QGIS leave alone. filters: the request's other parameters, escaped, for
 * the next page's address ("&standard=MCS"). */
static ec_err geojson_page(ec_store *s, const ec_store_filter_t *f, const char *filters, ec_buf *body)
{
    ec_jw w;
    ec_jw_init(&w, body);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "type"), ec_jw_str(&w, "FeatureCollection");
    ec_jw_key(&w, "features");
    ec_jw_arr_begin(&w);
    int64_t total = 0;
    ec_err rc = ec_store_list(s, EC_KIND_SITE, f, row_feature, &w, &total);
    if (rc) return rc;
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "total"), ec_jw_int(&w, total);
    ec_jw_key(&w, "offset"), ec_jw_int(&w, f->offset);
    ec_jw_key(&w, "limit"), ec_jw_int(&w, f->limit);
    if (f->offset + f->limit < total) {
        char next[128];
        snprintf(next, sizeof next, "/api/v1/sites.geojson?offset=%lld&limit=%lld", (long long)(f->offset + f->limit),
                 (long long)f->limit);
        ec_buf link;
        ec_buf_init(&link, sizeof next + strlen(filters));
        ec_buf_puts(&link, next);
        ec_buf_puts(&link, filters);
        ec_jw_key(&w, "next"), ec_jw_str(&w, link.data);
        ec_buf_free(&link);
    }
    ec_jw_obj_end(&w);
    return ec_jw_finish(&w);
}

/* A page on a worker, on a read connection of its own: its filter's strings
 * are the job's copies. */
typedef struct {
    work_job job;
    ec_store_filter_t f;
    char operator_id[EC_REG_ID_MAX + 1], jurisdiction_id[EC_REG_ID_MAX + 1], substation_id[EC_REG_ID_MAX + 1];
    char standard[32], status[16];
    ec_buf filters;
    const char *db_path;
    ec_store *store;
} geojson_job;

static void geojson_start(work_job *j)
{
    geojson_job *x = (geojson_job *)j;
    x->store = work__reader_take(j->api->work);
}

static void geojson_run(work_job *j)
{
    geojson_job *x = (geojson_job *)j;
    ec_err rc = x->store ? EC_OK : ec_store_open(x->db_path, &x->store);
    if (!rc) rc = geojson_page(x->store, &x->f, x->filters.data ? x->filters.data : "", &j->res.body);
    /* The next job's read must see what was written meanwhile. */
    if (x->store) ec_store_release(x->store);
    if (rc && ec_buf_error(&j->res.body)) {
        api__unwritten(&j->res, rc);
        return;
    }
    if (rc) {
        ec_log(EC_LOG_ERROR, "store: %s", ec_errmsg());
        api__error(&j->res, 500, "store_error", NULL, "the register could not be read");
        return;
    }
    j->res.status = 200;
    j->res.content_type = "application/geo+json";
}

static int geojson_done(work_job *j)
{
    geojson_job *x = (geojson_job *)j;
    work__reader_give(j->api->work, x->store);
    x->store = NULL;
    return 0;
}

static void geojson_release(work_job *j)
{
    geojson_job *x = (geojson_job *)j;
    ec_store_close(x->store);
    ec_buf_free(&x->filters);
    ec_free(x);
}

static void geojson(ec_api *a, const ec_http_request *req, ec_http_response *res)
{
    ec_store_filter_t f;
    if (list_filter(req, res, EC_KIND_SITE, GEOJSON_LIMIT_MAX, &f)) return;
    int limited = 0;
    for (size_t i = 0; i < req->n_args; i++) limited |= !strncmp(req->args[i], "limit=", 6);
    if (!limited) f.limit = GEOJSON_LIMIT_DEFAULT;
    geojson_job *x = ec_calloc(1, sizeof *x);
    if (!x) {
        api__error(res, 503, "busy", NULL, "the hub cannot take this now; try again shortly");
        return;
    }
    /* The same filters in the next page's address. */
    ec_buf_init(&x->filters, EC_HTTP_MAX_ARGS * EC_HTTP_MAX_ARG * 3 + 64);
    for (size_t i = 0; i < req->n_args; i++) {
        const char *arg = req->args[i], *eq = strchr(arg, '=');
        if (!strncmp(arg, "offset=", 7) || !strncmp(arg, "limit=", 6) || !eq) continue;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)((size_t)(eq - arg) < 63 ? (size_t)(eq - arg) : 63), arg);
        ec_buf_puts(&x->filters, "&");
        query_escape(&x->filters, name);
        ec_buf_puts(&x->filters, "=");
        query_escape(&x->filters, eq + 1);
    }
    if (!a->work || !a->db_path || !strcmp(a->db_path, ":memory:")) {
        /* No pool, or a database only this connection sees: here, on the loop. */
        ec_err rc = geojson_page(a->store, &f, x->filters.data ? x->filters.data : "", &res->body);
        geojson_release(&x->job);
        if (rc && ec_buf_error(&res->body)) {
            api__unwritten(res, rc);
            return;
        }
        if (rc) {
            store_error(a, res, rc);
            return;
        }
        res->status = 200;
        res->content_type = "application/geo+json";
        return;
    }
    /* The filter's strings point into req, which is gone when the job runs. */
    x->f = f;
#define KEEP(field)                                                                                                    \
    if (f.field) snprintf(x->field, sizeof x->field, "%s", f.field), x->f.field = x->field
    KEEP(operator_id);
    KEEP(jurisdiction_id);
    KEEP(substation_id);
    KEEP(standard);
    KEEP(status);
#undef KEEP
    x->db_path = a->db_path;
    ec_buf_init(&x->job.res.body, 64u << 20);
    x->job.start = geojson_start;
    x->job.run = geojson_run;
    x->job.done = geojson_done;
    x->job.release = geojson_release;
    /* A public read: its share of the lane is its address's. */
    work__submit(a->work, &x->job, WORK_READ, req->peer, req, res);
}

/* ---- one object ----------------------------------------------------------- */

/* A new id: the kind's first letters and 12 hex digits of the clock and a counter. */
static void new_id(ec_kind k, char *out, size_t n)
{
    static uint64_t counter;
    uint64_t v = ((uint64_t)ec_time_mono_ns() ^ ((uint64_t)ec_time_now_s() << 20)) + ++counter * 0x9E3779B97F4A7C15ull;
    snprintf(out, n, "%.4s-%012llx", ec_kind_name(k), (unsigned long long)(v & 0xFFFFFFFFFFFFull));
}

/* Every tariff a site's connectors name (evses[].connectors[].tariff_ids)
 * must exist, as a reference does: 0 when so, else answers 400 naming the
 * first that does not (or 500) and returns -1. */
static int tariffs_exist(ec_api *a, const ec_buf *doc, ec_http_response *res)
{
    ec_json *j;
    if (ec_json_load_buf(doc->data, doc->len, "site", &j)) {
        store_error(a, res, EC_ECORRUPT);
        return -1;
    }
    int r = 0;
    const char *prev = NULL;
    const ec_json *evses = ec_json_get(j, "evses");
    for (size_t e = 0; !r && e < ec_json_array_size(evses); e++) {
        const ec_json *cs = ec_json_get(ec_json_array_get(evses, e), "connectors");
        for (size_t c = 0; !r && c < ec_json_array_size(cs); c++) {
            const ec_json *ts = ec_json_get(ec_json_array_get(cs, c), "tariff_ids");
            for (size_t t = 0; !r && t < ec_json_array_size(ts); t++) {
                const char *id = ec_json_str(ec_json_array_get(ts, t));
                if (!id || (prev && !strcmp(prev, id))) continue; /* neighbours often name one */
                int ok = ec_reg_id_valid(id) ? ec_store_exists(a->store, EC_KIND_TARIFF, id) : 0;
                if (ok < 0) {
                    store_error(a, res, EC_EIO);
                    r = -1;
                } else if (!ok) {
                    char field[96];
                    snprintf(field, sizeof field, "evses[%zu].connectors[%zu].tariff_ids[%zu]", e, c, t);
                    api__error(res, 400, "unknown_reference", field, "%s \"%.40s\" names no object in tariffs", field, id);
                    r = -1;
                }
                prev = id;
            }
        }
    }
    ec_json_free(j);
    return r;
}

static void write_object(ec_api *a, const api_principal *p, ec_kind k, const char *id_in,
                         ec_http_method m, const ec_http_request *req, ec_http_response *res)
{
    char id[EC_REG_ID_MAX + 1];
    if (api__may_write_kind(p, k, res)) return;
    ec_json *in = body_json(req, res), *base = NULL;
    if (!in) return;
    ec_buf old, doc;
    ec_buf_init(&old, EC_REG_DOC_MAX);
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_reg_index_t idx_old, idx_new;
    ec_reg_error_t err;
    int exists = 0;
    if (id_in) {
        snprintf(id, sizeof id, "%s", id_in);
    } else {
        const char *given = ec_json_str(ec_json_get(in, "id"));
        if (ec_json_get(in, "id") && (!given || !ec_reg_id_valid(given))) {
            api__error(res, 400, "invalid_field", "id", "id must be 1 to 36 letters, digits, '.', '_' or '-'");
            goto done;
        }
        if (given) snprintf(id, sizeof id, "%s", given);
        else new_id(k, id, sizeof id);
    }
    ec_err rc = ec_store_get(a->store, k, id, &old);
    if (rc && rc != EC_ENOTFOUND) {
        store_error(a, res, rc);
        goto done;
    }
    exists = rc == EC_OK;
    if (m == EC_HTTP_POST && exists) {
        api__error(res, 409, "conflict", "id", "%s \"%s\" already exists", ec_kind_name(k), id);
        goto done;
    }
    if (m == EC_HTTP_PATCH && !exists) {
        api__error(res, 404, "not_found", NULL, "no %s with id \"%s\"", ec_kind_name(k), id);
        goto done;
    }
    if (exists) {
        if (ec_json_load_buf(old.data, old.len, "stored", &base) ||
            ec_reg_normalize(k, base, NULL, id, 0, &doc, &idx_old, &err)) {
            store_error(a, res, EC_ECORRUPT);
            goto done;
        }
    }
    if (api__default_owner(p, k, in, exists ? &idx_old : NULL)) {
        store_error(a, res, EC_ENOMEM);
        goto done;
    }
    if (ec_reg_normalize(k, in, m == EC_HTTP_PATCH ? base : NULL, id, ec_time_now_s(), &doc, &idx_new, &err)) {
        reg_error(res, &err);
        goto done;
    }
    if (api__may_write(a, p, k, exists ? &idx_old : NULL, &idx_new, res)) goto done;
    rc = ec_store_check_refs(a->store, &idx_new, &err);
    if (rc == EC_EINVAL) {
        reg_error(res, &err);
        goto done;
    }
    if (!rc && k == EC_KIND_SITE && tariffs_exist(a, &doc, res)) goto done;
    if (!rc) rc = ec_store_put(a->store, k, id, exists ? EC_PUT_REPLACE : EC_PUT_CREATE, doc.data, &idx_new, NULL);
    if (rc) {
        store_error(a, res, rc);
        goto done;
    }
    a->metrics.store_writes++;
    if (k == EC_KIND_SITE) ocpp__sites_written(a->ocpp), events__site(a->events, id);
    ec_buf_append(&res->body, doc.data, doc.len);
    res->status = exists ? 200 : 201;
done:
    ec_json_free(in);
    ec_json_free(base);
    ec_buf_free(&old);
    ec_buf_free(&doc);
}

static void delete_object(ec_api *a, const api_principal *p, ec_kind k, const char *id,
                          ec_http_response *res)
{
    if (api__may_write_kind(p, k, res)) return;
    ec_buf old, doc;
    ec_buf_init(&old, EC_REG_DOC_MAX);
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_json *base = NULL;
    ec_reg_index_t idx;
    ec_reg_error_t err;
    int64_t refs = 0;
    ec_err rc = ec_store_get(a->store, k, id, &old);
    if (rc == EC_ENOTFOUND) {
        api__error(res, 404, "not_found", NULL, "no %s with id \"%s\"", ec_kind_name(k), id);
        goto done;
    }
    if (rc || ec_json_load_buf(old.data, old.len, "stored", &base) ||
        ec_reg_normalize(k, base, NULL, id, 0, &doc, &idx, &err)) {
        store_error(a, res, rc ? rc : EC_ECORRUPT);
        goto done;
    }
    if (api__may_write(a, p, k, &idx, NULL, res)) goto done;
    if ((rc = ec_store_count_referrers(a->store, k, id, &refs))) {
        store_error(a, res, rc);
        goto done;
    }
    if (refs) {
        api__error(res, 409, "in_use", NULL, "%s \"%s\" is named by %lld other objects; change or delete them first",
                   ec_kind_name(k), id, (long long)refs);
        goto done;
    }
    if ((rc = ec_store_delete(a->store, k, id))) {
        store_error(a, res, rc);
        goto done;
    }
    a->metrics.store_writes++;
    if (k == EC_KIND_SITE) events__site(a->events, id);
    res->status = 204;
done:
    ec_json_free(base);
    ec_buf_free(&old);
    ec_buf_free(&doc);
}

static void object(ec_api *a, const api_principal *p, ec_kind k, const char *id,
                   const ec_http_request *req, ec_http_response *res)
{
    if (!ec_reg_id_valid(id)) {
        api__error(res, 404, "not_found", NULL, "\"%.40s\" is not a valid id", id);
        return;
    }
    if (req->n_args) {
        api__error(res, 400, "unknown_parameter", NULL, "a single %s takes no query parameters", ec_kind_name(k));
        return;
    }
    switch (req->method) {
    case EC_HTTP_GET:
    case EC_HTTP_HEAD:
        if (api__may_read_object(p, k, id, res)) return;
        {
            ec_err rc = ec_store_get(a->store, k, id, &res->body);
            if (rc == EC_ENOTFOUND) {
                api__error(res, 404, "not_found", NULL, "no %s with id \"%s\"", ec_kind_name(k), id);
                return;
            }
            if (rc) {
                store_error(a, res, rc);
                return;
            }
            res->status = 200;
        }
        return;
    case EC_HTTP_PUT:
    case EC_HTTP_PATCH:
        write_object(a, p, k, id, req->method, req, res);
        return;
    case EC_HTTP_DELETE:
        delete_object(a, p, k, id, res);
        return;
    default:
        api__error(res, 405, "method_not_allowed", NULL, "%s is not allowed on one %s (GET, PUT, PATCH, DELETE)",
                   ec_http_method_name(req->method), ec_kind_name(k));
    }
}

/* ---- import ---------------------------------------------------------------- */

static void import(ec_api *a, const api_principal *p, const ec_http_request *req, ec_http_response *res)
{
    const char *format = NULL, *op = NULL;
    for (size_t i = 0; i < req->n_args; i++) {
        if (!strncmp(req->args[i], "format=", 7)) format = req->args[i] + 7;
        else if (!strncmp(req->args[i], "operator=", 9)) op = req->args[i] + 9;
        else {
            api__error(res, 400, "unknown_parameter", NULL, "import takes format and operator, not \"%.40s\"", req->args[i]);
            return;
        }
    }
    const char *owner = NULL;
    if (api__may_import(p, op, &op, &owner, res)) return;
    if (!req->body_len) {
        api__error(res, 400, "invalid_body", NULL, "send the register file as the request body");
        return;
    }
    /* Reading a large file takes seconds: a worker does it, and writes it on
     * its own connection (work.c), while the loop goes on. */
    work__import(a, p->org, owner, format, op, req, res);
}

/* ---- dispatch -------------------------------------------------------------- */

static void index_page(ec_http_response *res)
{
    /* Every resource, so that a client can find them all from here; {id}
     * stands for an object's id. */
    static const char *const resources[] = {
        "/api/v1/jurisdictions", "/api/v1/organisations", "/api/v1/sites", "/api/v1/sites.geojson",
        "/api/v1/sites/{id}/allocation", "/api/v1/sites/{id}/prices", "/api/v1/substations",
        "/api/v1/substations/{id}/allocation", "/api/v1/substations/{id}/history",
        "/api/v1/sites/{id}/utilisation", "/api/v1/scenarios", "/api/v1/scenarios/{name}/{file}", "/api/v1/renewables", "/api/v1/tariffs", "/api/v1/chargers",
        "/api/v1/chargers/{id}/price", "/api/v1/chargers/{id}/commands/{Action}", "/api/v1/tokens",
        "/api/v1/sessions", "/api/v1/sessions/{id}", "/api/v1/cdrs", "/api/v1/settlement",
        "/api/v1/outages", "/api/v1/outages/{id}", "/api/v1/routes", "/api/v1/kpis", "/api/v1/events",
        "/api/v1/map/sites", "/api/v1/map/network", "/api/v1/whoami", "/api/v1/import", "/healthz", "/metrics", NULL};
    ec_jw w;
    ec_jw_init(&w, &res->body);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "name"), ec_jw_str(&w, "ecorridor");
    ec_jw_key(&w, "api"), ec_jw_str(&w, "/api/v1");
    ec_jw_key(&w, "resources");
    ec_jw_arr_begin(&w);
    for (int i = 0; resources[i]; i++) ec_jw_str(&w, resources[i]);
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "ocpp"), ec_jw_str(&w, "ws://HOST:PORT/ocpp/{chargePointId} (subprotocol ocpp1.6)");
    ec_jw_key(&w, "docs"), ec_jw_str(&w, "docs/api.md and docs/openapi.json in the source tree");
    ec_jw_obj_end(&w);
    res->status = 200;
}


static void route(ec_api *a, const api_principal *pp, const ec_http_request *req, ec_http_response *res);

static void dispatch(void *ctx, const ec_http_request *req, ec_http_response *res)
{
    ec_api *a = ctx;
    res->status = 500;
    /* What charge points wrote this turn is durable before a request reads or writes. */
    if (a->ocpp) ocpp__flush(a->ocpp);
    /* A key is checked wherever one is sent, also where none is needed: an
     * unknown or revoked one is 401 everywhere, so a client learns of it. */
    api_principal p;
    if (api__authenticate(a, req, res, &p)) return;
    route(a, &p, req, res);
}

/* A request answered for a principal the caller vouches for (the region
 * loader's admin): every rule and check of the API applies, as for a key. */
void api__handle_as(ec_api *a, const api_principal *who, const ec_http_request *req, ec_http_response *res)
{
    res->status = 500;
    route(a, who, req, res);
    ec_err rc = ec_buf_error(&res->body);
    if (res->status && rc) api__unwritten(res, rc);
}

static void route(ec_api *a, const api_principal *pp, const ec_http_request *req, ec_http_response *res)
{
    const char *path = req->path;
    api_principal p = *pp;
    if (a->web && static__serve(a->web, req, res)) return;
    int readonly = !strcmp(path, "/healthz") || !strcmp(path, "/metrics") || !strcmp(path, "/") ||
                   !strcmp(path, "/api/v1") || !strcmp(path, "/api/v1/");
    if (readonly && req->method != EC_HTTP_GET && req->method != EC_HTTP_HEAD) {
        api__error(res, 405, "method_not_allowed", NULL, "%s takes GET (or HEAD), not %s", path,
                   ec_http_method_name(req->method));
        return;
    }
    if (!strcmp(path, "/healthz")) {
        /* The store is read at most once a second while the register stays
         * as it is: a probe must cost the hub little. */
        int64_t gen = ec_store_generation(a->store), now = ec_time_mono_ns(), n = a->health_sites;
        if (!a->health_read_ns || gen != a->health_generation || now - a->health_read_ns > 1000000000) {
            ec_err rc = ec_store_count(a->store, EC_KIND_SITE, &n);
            if (rc) {
                a->health_read_ns = 0;
                api__error(res, 503, "store_error", NULL, "the register cannot be read");
                return;
            }
            a->health_sites = n;
            a->health_generation = gen;
            a->health_read_ns = now;
        }
        ec_buf_printf(&res->body, "{\"status\":\"ok\",\"schema_version\":%d,\"sites\":%lld}", ec_store_schema_version(),
                      (long long)n);
        res->status = 200;
        return;
    }
    if (!strcmp(path, "/metrics")) {
        ec_http_stats_t st;
        memset(&st, 0, sizeof st);
        if (a->http) st = ec_http_stats(a->http);
        /* Others get the process's and HTTP's own counters. */
        metrics__write(&a->metrics, &st, api__may_count_objects(&p) ? a->store : NULL,
                       a->db_path, &res->body);
        if (a->ocpp) {
            ocpp_stats_t o = ocpp__stats(a->ocpp);
            metrics__write_ocpp(&o, &st, &res->body);
        }
        res->content_type = "text/plain; version=0.0.4";
        res->status = 200;
        return;
    }
    if (!strcmp(path, "/") || !strcmp(path, "/api/v1") || !strcmp(path, "/api/v1/")) {
        index_page(res);
        return;
    }
    if (strncmp(path, "/api/v1/", 8) != 0) {
        api__error(res, 404, "not_found", NULL, "no such resource: %.200s", path);
        return;
    }
    const char *rest = path + 8;
    if (!strcmp(rest, "events")) {
        events__subscribe(a->events, req, res);
        return;
    }
    if (api__sessions(a, &p, rest, req, res)) return;
    if (api__kpis(a, &p, rest, req, res)) return;
    if (api__grid(a, &p, rest, req, res)) return;
    if (api__scenarios(a, &p, rest, req, res)) return;
    if (api__outages(a, &p, rest, req, res)) return;
    if (api__map(a, &p, rest, req, res)) return;
    if (!strcmp(rest, "routes")) {
        if (req->method != EC_HTTP_POST) {
            api__error(res, 405, "method_not_allowed", NULL, "routes takes POST");
            return;
        }
        if (api__may_route(&p, res)) return;
        api__route(a, p.org, req, res);
        return;
    }
    if (!strcmp(rest, "import")) {
        if (req->method != EC_HTTP_POST) {
            api__error(res, 405, "method_not_allowed", NULL, "import takes POST");
            return;
        }
        import(a, &p, req, res);
        return;
    }
    if (!strcmp(rest, "sites.geojson")) {
        if (req->method != EC_HTTP_GET && req->method != EC_HTTP_HEAD) {
            api__error(res, 405, "method_not_allowed", NULL, "sites.geojson takes GET");
            return;
        }
        geojson(a, req, res);
        return;
    }
    char kind_name[32];
    const char *slash = strchr(rest, '/');
    size_t kn = slash ? (size_t)(slash - rest) : strlen(rest);
    snprintf(kind_name, sizeof kind_name, "%.*s", (int)(kn < 31 ? kn : 31), rest);
    ec_kind k;
    if (kn >= 31 || ec_kind_parse(kind_name, &k)) {
        api__error(res, 404, "not_found", NULL, "no such resource: %.200s", path);
        return;
    }
    if (api__may_read_kind(&p, k, res)) return;
    if (slash && slash[1] && !strchr(slash + 1, '/')) {
        object(a, &p, k, slash + 1, req, res);
        return;
    }
    if (slash && slash[1]) {
        api__error(res, 404, "not_found", NULL, "no such resource: %.200s", path);
        return;
    }
    if (req->method == EC_HTTP_GET || req->method == EC_HTTP_HEAD) {
        list(a, &p, k, req, res);
        return;
    }
    if (req->method == EC_HTTP_POST) {
        if (req->n_args) {
            api__error(res, 400, "unknown_parameter", NULL, "creating takes no query parameters");
            return;
        }
        write_object(a, &p, k, NULL, EC_HTTP_POST, req, res);
        return;
    }
    api__error(res, 405, "method_not_allowed", NULL, "%s is not allowed on %s (GET, POST)",
               ec_http_method_name(req->method), ec_kind_name(k));
}

void api__handle(void *ctx, const ec_http_request *req, ec_http_response *res)
{
    dispatch(ctx, req, res);
    /* Whatever a handler wrote, a body its buffer refused part of (its limit,
     * memory) goes out as a 500, never cut short; answers written later, on
     * a worker, are checked where they complete (work.c). */
    ec_err rc = ec_buf_error(&res->body);
    if (res->status && rc) api__unwritten(res, rc);
}

/* api_outages.c - excluded outage time through the API: an operator or an
 * agency says a site, a charge point or one of its connectors was out from
 * one time to another for a reason the NEVI uptime rule (23 CFR 680.116(b))
 * excludes, and the KPIs read it from the store.
 *
 *   POST  /api/v1/outages        record one (201 with the stored outage)
 *   GET   /api/v1/outages        those overlapping ?from&to, of ?site, paged
 *   GET   /api/v1/outages/{id}
 *   PATCH /api/v1/outages/{id}   change from, to, reason or note (close an open one)
 *
 * Who may is policy.c's: the site's operator, the agency of the site's
 * jurisdiction, admins. An outage someone may not see answers 404, as one
 * that does not exist, so its id tells a stranger nothing. */
#include "api_internal.h"
#include "ecorridor/ec_kpi.h"

#include <string.h>

#define OUTAGE_LIST_MAX 1000
#define OUTAGE_CONNECTOR_MAX EC_CP_CONNECTORS_MAX /* a charge point's connectors the hub keeps */
/* Times are 1970-01-01 to 9999-12-31 (UTC): what four digits of a year and
 * the Unix epoch both hold. */
#define OUTAGE_TIME_END_S 253402300800LL /* 10000-01-01T00:00:00Z */

/* ---- the answer's shape ---------------------------------------------------------- */

static void time_or_null(ec_jw *w, const char *key, int64_t t_s, int is_null)
{
    char t[32];
    ec_jw_key(w, key);
    if (is_null) {
        ec_jw_null(w);
        return;
    }
    ec_time_format_iso(t_s, t, sizeof t);
    ec_jw_str(w, t);
}

static void outage_json(ec_jw *w, const ec_outage_t *o)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)o->id);
    ec_jw_obj_begin(w);
    ec_jw_key(w, "id"), ec_jw_str(w, id);
    ec_jw_key(w, "site_id"), ec_jw_str(w, o->site_id);
    ec_jw_key(w, "charge_point");
    if (o->charge_point[0]) ec_jw_str(w, o->charge_point);
    else ec_jw_null(w);
    ec_jw_key(w, "connector"), ec_jw_int(w, o->connector);
    time_or_null(w, "from", o->from_s, 0);
    time_or_null(w, "to", o->to_s, o->to_s == 0);
    ec_jw_key(w, "reason"), ec_jw_str(w, o->reason);
    ec_jw_key(w, "note"), ec_jw_str(w, o->note);
    ec_jw_key(w, "created_by"), ec_jw_str(w, o->created_by);
    time_or_null(w, "created", o->created_s, 0);
    time_or_null(w, "last_updated", o->updated_s, 0);
    ec_jw_obj_end(w);
}

static void answer(ec_http_response *res, int status, const ec_outage_t *o)
{
    ec_jw w;
    ec_jw_init(&w, &res->body);
    outage_json(&w, o);
    res->status = status;
    api__finish(&w, res);
}

/* ---- the body ---------------------------------------------------------------------- */

/* A time of the body into *t_s: 0, else answers 400 naming key. */
static int body_time(const char *key, const ec_json *v, int64_t *t_s, ec_http_response *res)
{
    const char *s = ec_json_str(v);
    if (!s || ec_time_parse_rfc3339(s, t_s)) {
        api__error(res, 400, "invalid_field", key, "%s must be an RFC 3339 date-time like 2026-12-01T08:00:00Z", key);
        return -1;
    }
    if (*t_s < 0 || *t_s >= OUTAGE_TIME_END_S) {
        api__error(res, 400, "invalid_field", key, "%s must be from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z", key);
        return -1;
    }
    return 0;
}

/* Applies the members of body in to *o: every member must be one a new
 * outage (patch 0) or a change (patch 1) takes, of its type and range.
 * *named_site is set when the body names a site. 0, else answers 400. */
static int apply_body(const ec_json *in, int patch, ec_outage_t *o, int *named_site, ec_http_response *res)
{
    void *it = NULL;
    const char *key;
    ec_json *v;
    int has_from = 0, has_reason = 0, has_cp = 0, has_connector = 0;
    *named_site = 0;
    while (ec_json_object_next(in, &it, &key, &v)) {
        const char *s = ec_json_str(v);
        int where = !strcmp(key, "site_id") || !strcmp(key, "charge_point") || !strcmp(key, "connector");
        if (patch && where) {
            api__error(res, 400, "invalid_field", key,
                       "%s cannot change: record a new outage for another port (change from, to, reason, note)", key);
            return -1;
        }
        if (!strcmp(key, "site_id")) {
            if (!s || !ec_reg_id_valid(s)) {
                api__error(res, 400, "invalid_field", key, "site_id must be a site's id (1 to 36 letters, digits, '.', '_' or '-')");
                return -1;
            }
            snprintf(o->site_id, sizeof o->site_id, "%s", s);
            *named_site = 1;
        } else if (!strcmp(key, "charge_point")) {
            if (!s || !s[0] || strlen(s) > EC_CP_ID_MAX) {
                api__error(res, 400, "invalid_field", key, "charge_point must be a charge point's id (1 to %d characters)",
                           EC_CP_ID_MAX);
                return -1;
            }
            snprintf(o->charge_point, sizeof o->charge_point, "%s", s);
            has_cp = 1;
        } else if (!strcmp(key, "connector")) {
            double d;
            if (ec_json_typeof(v) != EC_JSON_INTEGER || ec_json_number(v, &d) || d < 0 || d > OUTAGE_CONNECTOR_MAX) {
                api__error(res, 400, "invalid_field", key,
                           "connector must be a whole number from 0 (every connector) to %d", OUTAGE_CONNECTOR_MAX);
                return -1;
            }
            o->connector = (int)d;
            has_connector = 1;
        } else if (!strcmp(key, "from")) {
            if (body_time(key, v, &o->from_s, res)) return -1;
            has_from = 1;
        } else if (!strcmp(key, "to")) {
            /* null: still open (an outage reopened by a change). */
            if (ec_json_typeof(v) == EC_JSON_NULL) o->to_s = 0;
            else if (body_time(key, v, &o->to_s, res)) return -1;
            else if (o->to_s <= 0) { /* 0 is how the store says open: the epoch ends nothing */
                api__error(res, 400, "invalid_field", key, "to must come after from");
                return -1;
            }
        } else if (!strcmp(key, "reason")) {
            if (ec_kpi_reason(s) < 0) {
                api__error(res, 400, "invalid_field", key,
                           "reason must be utility_outage, vehicle_fault, scheduled_maintenance, vandalism, "
                           "natural_disaster or operator_request");
                return -1;
            }
            snprintf(o->reason, sizeof o->reason, "%s", s);
            has_reason = 1;
        } else if (!strcmp(key, "note")) {
            if (ec_json_typeof(v) == EC_JSON_NULL) s = "";
            if (!s || strlen(s) > EC_OUTAGE_NOTE_MAX) {
                api__error(res, 400, "invalid_field", key, "note must be text of at most %d bytes", EC_OUTAGE_NOTE_MAX);
                return -1;
            }
            snprintf(o->note, sizeof o->note, "%s", s);
        } else {
            char name[64];
            snprintf(name, sizeof name, "%s", key);
            api__error(res, 400, "unknown_field", name,
                       "\"%.60s\" is not a field of an outage (site_id, charge_point, connector, from, to, reason, note)",
                       key);
            return -1;
        }
    }
    if (!patch && !*named_site && !has_cp) {
        api__error(res, 400, "missing_field", "site_id", "say which site (site_id) or charge point (charge_point) was out");
        return -1;
    }
    if (!patch && !has_from) {
        api__error(res, 400, "missing_field", "from", "say when the outage began (from)");
        return -1;
    }
    if (!patch && !has_reason) {
        api__error(res, 400, "missing_field", "reason", "say why the time is excluded (reason)");
        return -1;
    }
    if (has_connector && o->connector && !has_cp) {
        api__error(res, 400, "invalid_field", "connector", "a connector is one of a charge point's: name the charge_point");
        return -1;
    }
    if (o->to_s && o->to_s <= o->from_s) {
        api__error(res, 400, "invalid_field", ec_json_get(in, "to") ? "to" : "from", "to must come after from");
        return -1;
    }
    return 0;
}

/* ---- where it was and whose that is -------------------------------------------------- */

/* The operator and jurisdiction of site ("" when it has none): 0 when read,
 * 1 when there is no such site, -1 after answering 500. */
static int site_owners(ec_api *a, const char *site, char *op, char *jur, ec_http_response *res)
{
    ec_buf doc;
    ec_json *j = NULL;
    op[0] = jur[0] = 0;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_err rc = ec_store_get(a->store, EC_KIND_SITE, site, &doc);
    if (!rc && ec_json_load_buf(doc.data, doc.len, "stored site", &j)) rc = EC_ECORRUPT;
    if (!rc) {
        const char *o = ec_json_str(ec_json_get(j, "operator_id")), *x = ec_json_str(ec_json_get(j, "jurisdiction_id"));
        snprintf(op, EC_REG_ID_MAX + 1, "%s", o ? o : "");
        snprintf(jur, EC_REG_ID_MAX + 1, "%s", x ? x : "");
    }
    ec_json_free(j);
    ec_buf_free(&doc);
    if (rc == EC_ENOTFOUND) return 1;
    if (rc) {
        api__store_failed(res);
        return -1;
    }
    return 0;
}

/* A charge point's site into site (n bytes): 0 when read; 1 when there is no
 * such charge point, 2 when it is on no site; -1 after answering 500. What
 * is refused is said by the caller, once it knows who asks. */
static int charger_site(ec_api *a, const char *cp, char *site, size_t n, ec_http_response *res)
{
    ec_buf doc;
    ec_json *j = NULL;
    int r = 1;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_err rc = ec_store_charger_get(a->store, cp, &doc, NULL);
    if (rc && rc != EC_ENOTFOUND) {
        api__store_failed(res);
        r = -1;
    } else if (!rc && ec_json_load_buf(doc.data, doc.len, "stored charger", &j)) {
        api__store_failed(res);
        r = -1;
    } else if (!rc) {
        const char *at = ec_json_str(ec_json_get(j, "site_id"));
        r = 2;
        if (at && at[0]) snprintf(site, n, "%s", at), r = 0;
    }
    ec_json_free(j);
    ec_buf_free(&doc);
    return r;
}

/* ---- the handlers -------------------------------------------------------------------- */

static void create(ec_api *a, const api_principal *p, const ec_http_request *req, ec_http_response *res)
{
    if (req->n_args) {
        api__error(res, 400, "unknown_parameter", NULL, "recording an outage takes no query parameters");
        return;
    }
    ec_json *in = api__body_object(req, res);
    if (!in) return;
    ec_outage_t o;
    memset(&o, 0, sizeof o);
    int named_site = 0;
    if (apply_body(in, 0, &o, &named_site, res)) goto done;
    char op[EC_REG_ID_MAX + 1], jur[EC_REG_ID_MAX + 1];
    if (o.charge_point[0]) {
        /* Whether a charge point exists, and where, is told only to who may record its outages:
         * another organisation learns no more here than at GET /api/v1/chargers/{id}. */
        char at[EC_REG_ID_MAX + 1] = "";
        int c = charger_site(a, o.charge_point, at, sizeof at, res);
        if (c < 0) goto done;
        int owned = 0;
        if (!c) {
            int q = site_owners(a, at, op, jur, res);
            if (q < 0) goto done;
            owned = !q && api__may_own_outage(p, op, jur);
        }
        if (c && p->role == EC_ROLE_ADMIN) { /* an admin may know every charge point: told what is wrong */
            if (c == 1) api__error(res, 400, "unknown_reference", "charge_point", "no charge point %s", o.charge_point);
            else
                api__error(res, 400, "invalid_field", "charge_point",
                           "charge point %s is on no site: place it on one (PATCH /api/v1/chargers/%s with site_id) first",
                           o.charge_point, o.charge_point);
            goto done;
        }
        if (!owned) {
            api__error(res, 403, "forbidden", "charge_point",
                       "no charge point %s on a site whose outages this key records (the site's operator, the agency "
                       "of its jurisdiction or an admin does)", o.charge_point);
            goto done;
        }
        if (named_site && strcmp(at, o.site_id)) {
            api__error(res, 400, "invalid_field", "charge_point", "charge point %s is at site %s, not %s", o.charge_point,
                       at, o.site_id);
            goto done;
        }
        snprintf(o.site_id, sizeof o.site_id, "%s", at);
    }
    int r = site_owners(a, o.site_id, op, jur, res);
    if (r < 0) goto done;
    if (r) {
        api__error(res, 400, "unknown_reference", named_site ? "site_id" : "charge_point", "no site %s in the register",
                   o.site_id);
        goto done;
    }
    if (!api__may_own_outage(p, op, jur)) {
        api__error(res, 403, "forbidden", named_site ? "site_id" : "charge_point",
                   "site %s is not %s: outages are recorded by the site's operator, the agency of its jurisdiction or "
                   "an admin", o.site_id, p->role == EC_ROLE_AGENCY ? "in this agency's jurisdiction" : "operated by this key's organisation");
        goto done;
    }
    snprintf(o.created_by, sizeof o.created_by, "%s", p->org[0] ? p->org : "admin");
    /* Durable when it returns: the 201 below survives a crash. */
    if (ec_store_outage_put(a->store, &o)) {
        api__store_failed(res);
        goto done;
    }
    a->metrics.store_writes++, api__kpis_forget();
    answer(res, 201, &o);
done:
    ec_json_free(in);
}

static ec_err row(void *ctx, const ec_outage_t *o)
{
    outage_json(ctx, o);
    return EC_OK;
}

static void list(ec_api *a, const api_principal *p, const ec_http_request *req, ec_http_response *res)
{
    static const char *const allowed[] = {"site", "from", "to", "offset", "limit", NULL};
    if (req->args_overflow) {
        api__error(res, 400, "invalid_parameter", NULL, "too many or too long query parameters");
        return;
    }
    for (size_t i = 0; i < req->n_args; i++) {
        const char *eq = strchr(req->args[i], '=');
        size_t n = eq ? (size_t)(eq - req->args[i]) : strlen(req->args[i]);
        int ok = 0;
        for (const char *const *x = allowed; *x && !ok; x++) ok = strlen(*x) == n && !strncmp(*x, req->args[i], n);
        if (!ok) {
            api__error(res, 400, "unknown_parameter", NULL,
                       "unknown query parameter \"%.*s\" (site, from, to, offset, limit)", (int)(n > 60 ? 60 : n),
                       req->args[i]);
            return;
        }
    }
    ec_outage_filter_t f;
    memset(&f, 0, sizeof f);
    f.limit = 100;
    const char *site = api__arg(req, "site"), *from = api__arg(req, "from"), *to = api__arg(req, "to");
    const char *off = api__arg(req, "offset"), *lim = api__arg(req, "limit");
    if (site && !ec_reg_id_valid(site)) {
        api__error(res, 400, "invalid_parameter", "site", "site must be a site's id");
        return;
    }
    if (from && (ec_time_parse_iso(from, &f.from_s) || f.from_s < 0 || f.from_s >= OUTAGE_TIME_END_S)) {
        api__error(res, 400, "invalid_parameter", "from", "from must be a date-time like 2026-12-01T00:00:00Z");
        return;
    }
    if (to && (ec_time_parse_iso(to, &f.to_s) || f.to_s <= 0 || f.to_s >= OUTAGE_TIME_END_S)) {
        api__error(res, 400, "invalid_parameter", "to", "to must be a date-time like 2027-01-01T00:00:00Z");
        return;
    }
    if (to && f.to_s <= f.from_s) {
        api__error(res, 400, "invalid_parameter", "to", "to must come after from");
        return;
    }
    if (off && (ec_parse_i64(off, &f.offset) || f.offset < 0)) {
        api__error(res, 400, "invalid_parameter", "offset", "offset must be a whole number >= 0");
        return;
    }
    if (lim && (ec_parse_i64(lim, &f.limit) || f.limit < 1 || f.limit > OUTAGE_LIST_MAX)) {
        api__error(res, 400, "invalid_parameter", "limit", "limit must be from 1 to %d", OUTAGE_LIST_MAX);
        return;
    }
    f.site_id = site;
    int none = api__outage_scope(p, &f);
    int64_t total = 0;
    ec_jw w;
    ec_jw_init(&w, &res->body);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "data"), ec_jw_arr_begin(&w);
    if (!none && ec_store_outage_page(a->store, &f, row, &w, &total)) {
        api__store_failed(res);
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

/* The outage id names, when p may see it: 0, else answers 404 (also for
 * one p may not see) or 500. */
static int find(ec_api *a, const api_principal *p, const char *id, ec_outage_t *o, ec_http_response *res)
{
    int64_t n = 0;
    size_t len = strlen(id);
    int digits = len > 0 && len <= 18;
    for (size_t i = 0; digits && i < len; i++) digits = id[i] >= '0' && id[i] <= '9';
    if (!digits || ec_parse_i64(id, &n) || n <= 0) {
        api__error(res, 404, "not_found", NULL, "no outage %.40s", id);
        return -1;
    }
    ec_err rc = ec_store_outage_get(a->store, n, o);
    if (rc && rc != EC_ENOTFOUND) {
        api__store_failed(res);
        return -1;
    }
    char op[EC_REG_ID_MAX + 1] = "", jur[EC_REG_ID_MAX + 1] = "";
    int r = rc ? 1 : p->role == EC_ROLE_ADMIN ? 0 : site_owners(a, o->site_id, op, jur, res);
    if (r < 0) return -1;
    if (r > 0 && p->role != EC_ROLE_ADMIN) rc = EC_ENOTFOUND; /* a site gone: its outages are admins' */
    if (rc || !api__may_own_outage(p, op, jur)) {
        api__error(res, 404, "not_found", NULL, "no outage %lld", (long long)n);
        return -1;
    }
    return 0;
}

static void change(ec_api *a, ec_outage_t *o, const ec_http_request *req, ec_http_response *res)
{
    ec_json *in = api__body_object(req, res);
    if (!in) return;
    int named_site = 0;
    if (!apply_body(in, 1, o, &named_site, res)) {
        if (ec_store_outage_put(a->store, o)) {
            api__store_failed(res);
        } else {
            a->metrics.store_writes++, api__kpis_forget();
            answer(res, 200, o);
        }
    }
    ec_json_free(in);
}

int api__outages(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req,
                 ec_http_response *res)
{
    if (strncmp(rest, "outages", 7) || (rest[7] && rest[7] != '/')) return 0;
    if (api__may_see_outages(p, res)) return 1;
    int get = req->method == EC_HTTP_GET || req->method == EC_HTTP_HEAD;
    if (!rest[7] || !rest[8]) {
        if (get) list(a, p, req, res);
        else if (req->method == EC_HTTP_POST) create(a, p, req, res);
        else api__error(res, 405, "method_not_allowed", NULL, "outages take GET and POST");
        return 1;
    }
    const char *id = rest + 8;
    if (strchr(id, '/')) {
        api__error(res, 404, "not_found", NULL, "no such resource under outages");
        return 1;
    }
    if (!get && req->method != EC_HTTP_PATCH) {
        api__error(res, 405, "method_not_allowed", NULL, "an outage takes GET and PATCH");
        return 1;
    }
    if (req->n_args) {
        api__error(res, 400, "unknown_parameter", NULL, "a single outage takes no query parameters");
        return 1;
    }
    ec_outage_t o;
    if (find(a, p, id, &o, res)) return 1;
    if (get) {
        answer(res, 200, &o);
        return 1;
    }
    /* What one organisation attested another does not rewrite under its name: the site's
     * operator and its agency both see a record, its author (or an admin) changes it. */
    if (p->role != EC_ROLE_ADMIN && strcmp(o.created_by, p->org)) {
        api__error(res, 403, "forbidden", NULL, "outage %s was recorded by %s: only it or an admin changes it", id,
                   o.created_by);
        return 1;
    }
    change(a, &o, req, res);
    return 1;
}

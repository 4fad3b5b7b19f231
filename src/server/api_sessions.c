/* api_sessions.c - the REST side of operations: charge points (and commands
 * to them), tokens, sessions in progress, charge detail records, the price a
 * session would get, and settlement between operators and token issuers.
 *
 * Who sees what is policy.c's (an admin everything; an operator its own
 * charge points and the sessions, CDRs and settlement on them; a fleet, a
 * token issuer, its own tokens and the sessions, CDRs and settlement of its
 * tokens); the bodies are checked by the register's tables (ec_reg_check);
 * tokens and tariffs are looked up for the engine's rules by lookup.c. */
#include "api_internal.h"
#include "lookup.h"
#include "ocpp.h"
#include "ocpp_schema.h"
#include "smart.h"

#include <stdlib.h>
#include <string.h>

#define LIST_MAX 1000

static int paging(const ec_http_request *req, ec_http_response *res, int64_t *offset, int64_t *limit)
{
    *offset = 0, *limit = 100;
    const char *o = api__arg(req, "offset"), *l = api__arg(req, "limit");
    if (o && (ec_parse_i64(o, offset) || *offset < 0)) {
        api__error(res, 400, "invalid_parameter", "offset", "offset must be a whole number >= 0");
        return -1;
    }
    if (l && (ec_parse_i64(l, limit) || *limit < 1 || *limit > LIST_MAX)) {
        api__error(res, 400, "invalid_parameter", "limit", "limit must be from 1 to %d", LIST_MAX);
        return -1;
    }
    return 0;
}

/* Ends a page {"data": [...], "total", "offset", "limit"} whose data array
 * the caller has written, and answers 200. */
static void page_end(ec_jw *w, ec_http_response *res, int64_t total, int64_t offset, int64_t limit)
{
    ec_jw_arr_end(w);
    ec_jw_key(w, "total"), ec_jw_int(w, total);
    ec_jw_key(w, "offset"), ec_jw_int(w, offset);
    ec_jw_key(w, "limit"), ec_jw_int(w, limit);
    ec_jw_obj_end(w);
    res->status = 200;
    api__finish(w, res);
}

/* ---- bodies ---------------------------------------------------------------- */

/* Checks a charger's or a token's body against its kind's field table in the
 * register (ec_reg_check); 0 when it conforms, else 400 naming the field. */
static int check_kind(const ec_json *j, ec_kind k, ec_http_response *res)
{
    ec_reg_error_t err;
    if (!ec_reg_check(k, j, &err)) return 0;
    api__error(res, 400, err.code[0] ? err.code : "invalid_field", err.field, "%s", err.message);
    return -1;
}

/* A session's plan is no object of the register: two fields, checked here. */
typedef enum { B_INT, B_TIME } btype;
typedef struct {
    const char *name;
    btype type;
    int64_t lo, hi; /* B_INT: value */
} bfield;

/* The dates a plan may name: 2000-01-01 to 2099-12-31 (UTC), as the
 * register's date-times (a token's expiry). */
#define DATE_MIN_S 946684800LL  /* 2000-01-01T00:00:00Z */
#define DATE_MAX_S 4102444800LL /* 2100-01-01T00:00:00Z */

/* Checks every member of j against fields; 0 when all conform, else 400. */
static int check_body(const ec_json *j, const bfield *fields, ec_http_response *res)
{
    void *it = NULL;
    const char *key;
    ec_json *v;
    while (ec_json_object_next(j, &it, &key, &v)) {
        const bfield *f = fields;
        while (f->name && strcmp(f->name, key)) f++;
        if (!f->name) {
            api__error(res, 400, "unknown_field", key, "\"%.60s\" is not a field here", key);
            return -1;
        }
        const char *s = ec_json_str(v);
        double d;
        int64_t t;
        switch (f->type) {
        case B_TIME:
            if (!s || ec_time_parse_rfc3339(s, &t)) {
                api__error(res, 400, "invalid_field", key, "%s must be a date-time like 2027-01-31T23:59:59Z", key);
                return -1;
            }
            if (t < DATE_MIN_S || t >= DATE_MAX_S) {
                api__error(res, 400, "invalid_field", key, "%s must be from 2000-01-01 to 2099-12-31", key);
                return -1;
            }
            break;
        case B_INT:
            if (ec_json_typeof(v) != EC_JSON_INTEGER || ec_json_number(v, &d) || d < (double)f->lo || d > (double)f->hi) {
                api__error(res, 400, "invalid_field", key, "%s must be a whole number from %lld to %lld", key,
                           (long long)f->lo, (long long)f->hi);
                return -1;
            }
            break;
        }
    }
    return 0;
}

/* body over base: every member of body, then base's members body lacks. */
static void merged(ec_jw *w, const ec_json *base, const ec_json *body, const char *const *skip)
{
    void *it = NULL;
    const char *key;
    ec_json *v;
    ec_jw_obj_begin(w);
    for (int pass = 0; pass < 2; pass++) {
        const ec_json *src = pass ? base : body;
        it = NULL;
        while (src && ec_json_object_next(src, &it, &key, &v)) {
            if (pass && body && ec_json_get(body, key)) continue;
            int skipped = 0;
            for (const char *const *s = skip; s && *s && !skipped; s++) skipped = !strcmp(*s, key);
            if (skipped) continue;
            ec_jw_key(w, key);
            ec_jw_value(w, v);
        }
    }
}

static void stamp(ec_jw *w)
{
    char t[32];
    ec_time_format_iso(ec_time_now_s(), t, sizeof t);
    ec_jw_key(w, "last_updated"), ec_jw_str(w, t);
    ec_jw_obj_end(w);
}

/* A document is stored whole or not at all: 1 after answering 400 when the
 * request made it larger than the register keeps, or 500 when it could not
 * be written; 0 when it is whole. */
static int doc_refused(ec_jw *w, ec_http_response *res)
{
    ec_err rc = ec_jw_finish(w);
    if (rc == EC_ELIMIT)
        api__error(res, 400, "invalid_field", "", "the document is larger than %u bytes", EC_REG_DOC_MAX);
    else if (rc)
        api__unwritten(res, rc);
    return rc != EC_OK;
}

/* ---- charge points --------------------------------------------------------------- */

/* The live part of a charger's answer. */
static void live(ec_jw *w, ocpp_cp *cp)
{
    ec_jw_key(w, "connected"), ec_jw_bool(w, cp != NULL);
    if (!cp) return;
    char t[32];
    ec_time_format_iso(cp->last_seen_s, t, sizeof t);
    ec_jw_key(w, "last_seen"), ec_jw_str(w, t);
    ec_jw_key(w, "status"), ec_jw_str(w, cp->status[0][0] ? cp->status[0] : "Unknown");
    ec_jw_key(w, "connector_status"), ec_jw_arr_begin(w);
    for (int c = 1; c <= cp->connectors; c++) {
        ec_jw_obj_begin(w);
        ec_jw_key(w, "connector_id"), ec_jw_int(w, c);
        ec_jw_key(w, "status"), ec_jw_str(w, cp->status[c][0] ? cp->status[c] : "Unknown");
        ec_jw_key(w, "error_code"), ec_jw_str(w, cp->error_code[c][0] ? cp->error_code[c] : "NoError");
        ec_jw_obj_end(w);
    }
    ec_jw_arr_end(w);
}

typedef struct {
    ec_jw *w;
    ocpp_cs *cs;
} charger_row_ctx;

static void charger_out(ec_jw *w, ocpp_cs *cs, const char *doc, size_t len)
{
    ec_json *j;
    if (ec_json_load_buf(doc, len, "charger", &j)) {
        ec_log(EC_LOG_ERROR, "a stored charger document does not parse: %s", ec_errmsg());
        ec_jw_null(w);
        return;
    }
    merged(w, j, NULL, NULL);
    const char *id = ec_json_str(ec_json_get(j, "id"));
    live(w, id ? ocpp__find(cs, id) : NULL);
    ec_jw_obj_end(w);
    ec_json_free(j);
}

static ec_err charger_row(void *ctx, const char *doc, size_t len)
{
    charger_row_ctx *c = ctx;
    charger_out(c->w, c->cs, doc, len);
    return EC_OK;
}

static void charger_write(ec_api *a, const api_principal *p, const char *id, const ec_http_request *req,
                          ec_http_response *res)
{
    if (api__may_register_chargers(p, res)) return;
    ec_json *in = api__body_object(req, res), *base = NULL;
    if (!in || check_kind(in, EC_KIND_CHARGER, res)) {
        ec_json_free(in);
        return;
    }
    ec_buf old, doc;
    ec_buf_init(&old, EC_REG_DOC_MAX);
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    char hash[EC_CHARGER_HASH_MAX] = "", cid[EC_CP_ID_MAX + 1];
    const char *bid = ec_json_str(ec_json_get(in, "id"));
    snprintf(cid, sizeof cid, "%s", id ? id : bid ? bid : "");
    ec_err rc = EC_OK;
    if (!id && !bid) {
        api__error(res, 400, "missing_field", "id", "a charge point needs an id (its OCPP chargePointId)");
        goto done;
    }
    if (id && bid && strcmp(id, bid)) {
        api__error(res, 400, "invalid_field", "id", "the id cannot change");
        goto done;
    }
    rc = ec_store_charger_get(a->store, cid, &old, hash);
    if (rc && rc != EC_ENOTFOUND) goto fail;
    if (!id && !rc) {
        api__error(res, 409, "conflict", "id", "charge point %s exists already", cid);
        goto done;
    }
    if (id && rc == EC_ENOTFOUND) {
        api__error(res, 404, "not_found", NULL, "no charge point %s", cid);
        goto done;
    }
    rc = EC_OK;
    if (id && ec_json_load_buf(old.data, old.len, "charger", &base)) goto fail;
    if (base && !api__may_see_charger(p, ec_json_str(ec_json_get(base, "operator_id")))) {
        api__error(res, 403, "forbidden", NULL, "charge point %s belongs to another operator", cid);
        goto done;
    }
    /* Whose it is: the site's operator, or the operator asking. */
    const char *site = ec_json_str(ec_json_get(in, "site_id"));
    if (!site && base) site = ec_json_str(ec_json_get(base, "site_id"));
    char op[EC_REG_ID_MAX + 1] = "";
    const char *bop = ec_json_str(ec_json_get(in, "operator_id"));
    if (!bop && base) bop = ec_json_str(ec_json_get(base, "operator_id"));
    if (site) {
        int r = api__member(a, EC_KIND_SITE, site, "operator_id", op, sizeof op, res);
        if (r < 0) goto done;
        if (r) {
            api__error(res, 400, "unknown_reference", "site_id", "no site %s in the register", site);
            goto done;
        }
        const char *was = base ? ec_json_str(ec_json_get(base, "site_id")) : NULL;
        if (api__may_place_charger(p, site, op, !was || strcmp(was, site) != 0, res)) goto done;
    }
    char site_op[EC_REG_ID_MAX + 1];
    snprintf(site_op, sizeof site_op, "%s", op);
    if (api__charger_operator(p, site_op, bop, op, sizeof op, res)) goto done;
    /* An operator's key vouches for its own organisation; an operator an
     * admin names must be in the register. */
    int known = api__key_vouches(p, op) || site ? 1 : ec_store_exists(a->store, EC_KIND_ORGANISATION, op);
    if (known < 0) goto fail;
    if (!known) {
        api__error(res, 400, "unknown_reference", "operator_id", "no organisation %s in the register", op);
        goto done;
    }
    const char *pw = ec_json_str(ec_json_get(in, "password"));
    if (pw && ocpp__password_hash(pw, hash)) goto fail;
    double prof = hash[0] ? 1 : 0;
    if (base) ec_json_number(ec_json_get(base, "security_profile"), &prof);
    if (!base && hash[0]) prof = 1;
    ec_json_number(ec_json_get(in, "security_profile"), &prof);
    if (prof >= 1 && !hash[0]) {
        api__error(res, 400, "missing_field", "password", "security profiles 1 and 2 need a password");
        goto done;
    }
    /* What this function writes itself, and what only the server writes. */
    static const char *const skip[] = {"password", "id", "operator_id", "security_profile", "password_set",
                                       "last_updated", NULL};
    ec_jw w;
    ec_jw_init(&w, &doc);
    merged(&w, base, in, skip);
    ec_jw_key(&w, "id"), ec_jw_str(&w, cid);
    ec_jw_key(&w, "operator_id"), ec_jw_str(&w, op);
    ec_jw_key(&w, "security_profile"), ec_jw_int(&w, (int64_t)prof);
    if (!base && !ec_json_get(in, "connectors")) ec_jw_key(&w, "connectors"), ec_jw_int(&w, 1);
    ec_jw_key(&w, "password_set"), ec_jw_bool(&w, hash[0] != 0);
    stamp(&w);
    if (doc_refused(&w, res)) goto done;
    rc = ec_store_charger_put(a->store, cid, op, site, hash[0] ? hash : NULL, doc.data, base ? EC_PUT_REPLACE : EC_PUT_CREATE);
    if (rc == EC_EINVAL) {
        api__error(res, 409, "conflict", "id", "charge point %s exists already", cid);
        rc = EC_OK;
        goto done;
    }
    if (rc) goto fail;
    ocpp__charger_changed(a->ocpp, cid); /* a live connection admitted on what was before closes */
    a->metrics.store_writes++;
    res->status = base ? 200 : 201;
    {
        ec_jw o;
        ec_jw_init(&o, &res->body);
        charger_out(&o, a->ocpp, doc.data, doc.len);
        api__finish(&o, res);
    }
    goto done;
fail:
    api__store_failed(res);
done:
    ec_json_free(in);
    ec_json_free(base);
    ec_buf_free(&old);
    ec_buf_free(&doc);
}

static void command(ec_api *a, const api_principal *p, const char *id, const char *action, const ec_http_request *req,
                    ec_http_response *res)
{
    if (req->method != EC_HTTP_POST) {
        api__error(res, 405, "method_not_allowed", NULL, "commands take POST");
        return;
    }
    static const char *const allowed[] = {"RemoteStartTransaction", "RemoteStopTransaction", "ChangeAvailability",
                                          "Reset", "UnlockConnector", "TriggerMessage", "GetConfiguration",
                                          "ChangeConfiguration", "SetChargingProfile", "ClearChargingProfile",
                                          "ReserveNow", "CancelReservation", NULL};
    int known = 0;
    for (const char *const *x = allowed; *x && !known; x++) known = !strcmp(*x, action);
    if (!known) {
        api__error(res, 404, "not_found", NULL, "no command %.60s (OCPP 1.6 names, like RemoteStartTransaction)", action);
        return;
    }
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_json *cj = NULL, *in = NULL;
    ec_err rc = ec_store_charger_get(a->store, id, &doc, NULL);
    if (rc == EC_ENOTFOUND) {
        api__error(res, 404, "not_found", NULL, "no charge point %.60s", id);
        goto done;
    }
    if (rc || ec_json_load_buf(doc.data, doc.len, "charger", &cj)) {
        api__store_failed(res);
        goto done;
    }
    if (!api__may_see_charger(p, ec_json_str(ec_json_get(cj, "operator_id")))) {
        api__error(res, 403, "forbidden", NULL, "commands go to a charge point from its operator or an admin");
        goto done;
    }
    ocpp_cp *cp = ocpp__find(a->ocpp, id);
    if (!cp) {
        api__error(res, 409, "not_connected", NULL, "charge point %.60s is not connected", id);
        goto done;
    }
    if (req->body_len && !(in = api__body_object(req, res))) goto done;
    if (!in && ec_json_load_str("{}", "body", &in)) goto done;
    if (!strcmp(action, "RemoteStartTransaction")) {
        /* The hub authorizes first, so a refused token never reaches the charger. */
        const char *uid = ec_json_str(ec_json_get(in, "idTag"));
        ec_token_t tok;
        ec_auth_status st;
        /* Without an idTag the payload breaks the schema: ocpp__call says so. */
        if (uid && lookup__authorize(a->store, uid, 1, ec_time_now_s(), &tok, &st)) {
            api__store_failed(res);
            goto done;
        }
        if (uid && st != EC_AUTH_ACCEPTED) {
            api__error(res, 409, "token_refused", "idTag", "token %s is %s", uid, ec_auth_status_name(st));
            goto done;
        }
    }
    char why[256];
    rc = ocpp__call(a->ocpp, cp, action, in, req->serial, why, sizeof why);
    if (rc == EC_EINVAL) api__error(res, 400, "invalid_field", NULL, "%s: %s", action, why);
    else if (rc == EC_ELIMIT) api__error(res, 409, "busy", NULL, "%s", why);
    else if (rc) api__store_failed(res);
    else res->status = 0; /* answered when the charger replies */
done:
    ec_json_free(cj);
    ec_json_free(in);
    ec_buf_free(&doc);
}

/* The price a session started now would get. The charger's operator (whose
 * tariff it is) and admins ask; the token's group, its issuer's business,
 * is shown to admins only (an operator sees the tariff the group gets). */
static void price(ec_api *a, const api_principal *p, const char *id, const ec_http_request *req,
                  ec_http_response *res)
{
    static const char *const allowed[] = {"token", NULL};
    if (req->method != EC_HTTP_GET && req->method != EC_HTTP_HEAD) {
        api__error(res, 405, "method_not_allowed", NULL, "a charge point's price takes GET");
        return;
    }
    if (api__only_args(req, res, allowed)) return;
    ec_buf doc, t;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_buf_init(&t, EC_REG_DOC_MAX);
    ec_json *cj = NULL;
    ec_token_t tok;
    memset(&tok, 0, sizeof tok);
    const char *uid = api__arg(req, "token");
    ec_err rc = ec_store_charger_get(a->store, id, &doc, NULL);
    if (rc == EC_ENOTFOUND) api__error(res, 404, "not_found", NULL, "no charge point %.60s", id);
    else if (rc || ec_json_load_buf(doc.data, doc.len, "charger", &cj)) api__store_failed(res);
    else if (!api__may_see_charger(p, ec_json_str(ec_json_get(cj, "operator_id"))))
        api__error(res, 403, "forbidden", NULL, "charge point %s belongs to another operator", id);
    else if (uid && lookup__token(a->store, uid, &tok) < 0) api__store_failed(res);
    else {
        const char *site = ec_json_str(ec_json_get(cj, "site_id"));
        rc = lookup__tariff(a->store, ec_json_str(ec_json_get(cj, "operator_id")), site, tok.group_id, &t);
        if (!rc && a->ocpp) rc = lookup__fix_tariff(ocpp__smart(a->ocpp), site ? site : "", ec_time_now_s(), &t);
        double dyn = 0;
        int has_dyn = site && !smart__price_now(ocpp__smart(a->ocpp), site, ec_time_now_s(), &dyn);
        if (rc && rc != EC_ENOTFOUND) api__store_failed(res);
        else {
            ec_jw w;
            ec_jw_init(&w, &res->body);
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "charge_point_id"), ec_jw_str(&w, id);
            ec_jw_key(&w, "token_group");
            if (api__may_see_token_group(p)) ec_jw_str(&w, tok.group_id);
            else ec_jw_null(&w);
            ec_jw_key(&w, "tariff");
            if (rc) ec_jw_null(&w);
            else ec_jw_raw(&w, t.data);
            ec_jw_key(&w, "dynamic_price_per_kwh");
            if (has_dyn) ec_jw_num(&w, dyn, 4);
            else ec_jw_null(&w);
            ec_jw_key(&w, "note"), ec_jw_str(&w, "a session started now is priced with this tariff until it ends");
            ec_jw_obj_end(&w);
            res->status = 200;
            api__finish(&w, res);
        }
    }
    ec_json_free(cj);
    ec_buf_free(&doc);
    ec_buf_free(&t);
}

static void chargers(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req,
                     ec_http_response *res)
{
    if (api__may_see_chargers(p, res)) return;
    if (!*rest) {
        if (req->method == EC_HTTP_POST) {
            charger_write(a, p, NULL, req, res);
            return;
        }
        if (req->method != EC_HTTP_GET) {
            api__error(res, 405, "method_not_allowed", NULL, "chargers take GET and POST");
            return;
        }
        static const char *const allowed[] = {"offset", "limit", NULL};
        int64_t off, lim, total = 0;
        if (api__only_args(req, res, allowed) || paging(req, res, &off, &lim)) return;
        ec_jw w;
        ec_jw_init(&w, &res->body);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "data"), ec_jw_arr_begin(&w);
        charger_row_ctx c = {&w, a->ocpp};
        if (ec_store_charger_list(a->store, api__charger_scope(p), off, lim, charger_row, &c, &total)) {
            api__store_failed(res);
            return;
        }
        page_end(&w, res, total, off, lim);
        return;
    }
    char id[EC_CP_ID_MAX + 1];
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    if (n > EC_CP_ID_MAX) {
        api__error(res, 404, "not_found", NULL, "no such charge point");
        return;
    }
    snprintf(id, sizeof id, "%.*s", (int)n, rest);
    if (slash && !strncmp(slash, "/commands/", 10)) {
        command(a, p, id, slash + 10, req, res);
        return;
    }
    if (slash && !strcmp(slash, "/price")) {
        price(a, p, id, req, res);
        return;
    }
    if (slash) {
        api__error(res, 404, "not_found", NULL, "no such resource under chargers/%s", id);
        return;
    }
    if (req->method == EC_HTTP_PATCH) {
        charger_write(a, p, id, req, res);
        return;
    }
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_json *j = NULL;
    ec_err rc = ec_store_charger_get(a->store, id, &doc, NULL);
    if (rc == EC_ENOTFOUND) api__error(res, 404, "not_found", NULL, "no charge point %s", id);
    else if (rc || ec_json_load_buf(doc.data, doc.len, "charger", &j)) api__store_failed(res);
    else if (!api__may_see_charger(p, ec_json_str(ec_json_get(j, "operator_id"))))
        api__error(res, 403, "forbidden", NULL, "charge point %s belongs to another operator", id);
    else if (req->method == EC_HTTP_GET) {
        ec_jw w;
        ec_jw_init(&w, &res->body);
        charger_out(&w, a->ocpp, doc.data, doc.len);
        res->status = 200;
        api__finish(&w, res);
    } else if (req->method == EC_HTTP_DELETE) {
        if (ec_store_charger_delete(a->store, id)) api__store_failed(res);
        else res->status = 204, ocpp__charger_changed(a->ocpp, id);
    } else api__error(res, 405, "method_not_allowed", NULL, "a charge point takes GET, PATCH and DELETE");
    ec_json_free(j);
    ec_buf_free(&doc);
}

/* ---- tokens ----------------------------------------------------------------------- */


static void token_write(ec_api *a, const api_principal *p, const char *uid, const ec_http_request *req,
                        ec_http_response *res)
{
    if (api__may_issue_tokens(p, res)) return;
    ec_json *in = api__body_object(req, res), *base = NULL;
    if (!in || check_kind(in, EC_KIND_TOKEN, res)) {
        ec_json_free(in);
        return;
    }
    ec_buf old, doc;
    ec_buf_init(&old, EC_REG_DOC_MAX);
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    const char *buid = ec_json_str(ec_json_get(in, "uid"));
    char id[EC_ID_TAG_MAX + 1];
    snprintf(id, sizeof id, "%s", uid ? uid : buid ? buid : "");
    const char *named = ec_json_str(ec_json_get(in, "issuer_id")), *issuer = NULL;
    ec_err rc = EC_OK;
    if (!id[0]) {
        api__error(res, 400, "missing_field", "uid", "a token needs its uid (the OCPP idTag, at most 20 characters)");
        goto done;
    }
    if (uid && buid && strcmp(uid, buid)) {
        api__error(res, 400, "invalid_field", "uid", "the uid cannot change");
        goto done;
    }
    rc = ec_store_token_get(a->store, id, &old);
    if (rc && rc != EC_ENOTFOUND) goto fail;
    if (!uid && !rc) {
        api__error(res, 409, "conflict", "uid", "token %s exists already", id);
        goto done;
    }
    if (uid && rc) {
        api__error(res, 404, "not_found", NULL, "no token %s", id);
        goto done;
    }
    rc = EC_OK;
    if (uid && ec_json_load_buf(old.data, old.len, "token", &base)) goto fail;
    const char *was = base ? ec_json_str(ec_json_get(base, "issuer_id")) : NULL;
    if (api__token_issuer(p, was, named, &issuer, res)) goto done;
    if (!issuer) {
        api__error(res, 400, "missing_field", "issuer_id", "say which fleet or mobility provider issues the token");
        goto done;
    }
    /* A fleet's key vouches for its own organisation; an issuer an admin
     * names must be in the register. */
    int known = api__key_vouches(p, issuer) ? 1 : ec_store_exists(a->store, EC_KIND_ORGANISATION, issuer);
    if (known < 0) goto fail;
    if (!known) {
        api__error(res, 400, "unknown_reference", "issuer_id", "no organisation %s in the register", issuer);
        goto done;
    }
    static const char *const skip[] = {"uid", "issuer_id", "last_updated", NULL};
    ec_jw w;
    ec_jw_init(&w, &doc);
    merged(&w, base, in, skip);
    ec_jw_key(&w, "uid"), ec_jw_str(&w, id);
    ec_jw_key(&w, "issuer_id"), ec_jw_str(&w, issuer);
    if (!base && !ec_json_get(in, "valid")) ec_jw_key(&w, "valid"), ec_jw_bool(&w, 1);
    if (!base && !ec_json_get(in, "type")) ec_jw_key(&w, "type"), ec_jw_str(&w, "RFID");
    stamp(&w);
    if (doc_refused(&w, res)) goto done;
    rc = ec_store_token_put(a->store, id, issuer, doc.data, base ? EC_PUT_REPLACE : EC_PUT_CREATE);
    if (rc == EC_EINVAL) {
        api__error(res, 409, "conflict", "uid", "token %s exists already", id);
        rc = EC_OK;
        goto done;
    }
    if (rc) goto fail;
    a->metrics.store_writes++;
    res->status = base ? 200 : 201;
    ec_buf_append(&res->body, doc.data, doc.len);
    goto done;
fail:
    api__store_failed(res);
done:
    ec_json_free(in);
    ec_json_free(base);
    ec_buf_free(&old);
    ec_buf_free(&doc);
}

static ec_err raw_row(void *ctx, const char *doc, size_t len)
{
    (void)len;
    ec_jw_raw(ctx, doc);
    return EC_OK;
}

static void tokens(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req,
                   ec_http_response *res)
{
    if (api__may_see_tokens(p, res)) return;
    const char *own = api__token_scope(p);
    if (!*rest) {
        if (req->method == EC_HTTP_POST) {
            token_write(a, p, NULL, req, res);
            return;
        }
        if (req->method != EC_HTTP_GET) {
            api__error(res, 405, "method_not_allowed", NULL, "tokens take GET and POST");
            return;
        }
        static const char *const allowed[] = {"offset", "limit", NULL};
        int64_t off, lim, total = 0;
        if (api__only_args(req, res, allowed) || paging(req, res, &off, &lim)) return;
        ec_jw w;
        ec_jw_init(&w, &res->body);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "data"), ec_jw_arr_begin(&w);
        if (ec_store_token_list(a->store, own, off, lim, raw_row, &w, &total)) {
            api__store_failed(res);
            return;
        }
        page_end(&w, res, total, off, lim);
        return;
    }
    if (strchr(rest, '/') || strlen(rest) > EC_ID_TAG_MAX) {
        api__error(res, 404, "not_found", NULL, "no such token");
        return;
    }
    if (req->method == EC_HTTP_PATCH) {
        token_write(a, p, rest, req, res);
        return;
    }
    if (req->method != EC_HTTP_GET) {
        api__error(res, 405, "method_not_allowed", NULL, "a token takes GET and PATCH");
        return;
    }
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_json *j = NULL;
    ec_err rc = ec_store_token_get(a->store, rest, &doc);
    if (rc == EC_ENOTFOUND) api__error(res, 404, "not_found", NULL, "no token %s", rest);
    else if (rc || ec_json_load_buf(doc.data, doc.len, "token", &j)) api__store_failed(res);
    else if (own && strcmp(own, ec_json_str(ec_json_get(j, "issuer_id")) ? ec_json_str(ec_json_get(j, "issuer_id")) : ""))
        api__error(res, 403, "forbidden", NULL, "token %s was issued by another organisation", rest);
    else {
        ec_buf_append(&res->body, doc.data, doc.len);
        res->status = 200;
    }
    ec_json_free(j);
    ec_buf_free(&doc);
}

/* ---- sessions, CDRs, settlement ------------------------------------------------------ */

static ec_err session_row(void *ctx, const ec_tx_t *tx)
{
    ec_jw *w = ctx;
    char t[32], id[24];
    ec_jw_obj_begin(w);
    snprintf(id, sizeof id, "%lld", (long long)tx->id);
    ec_jw_key(w, "id"), ec_jw_str(w, id);
    ec_time_format_iso(tx->start_s, t, sizeof t);
    ec_jw_key(w, "start_date_time"), ec_jw_str(w, t);
    int64_t e = (tx->stopped ? tx->meter_stop_wh : tx->last_register_wh >= 0 ? tx->last_register_wh : tx->meter_start_wh) -
                tx->meter_start_wh;
    if (e < 0) e = 0;
    char kwh[32];
    snprintf(kwh, sizeof kwh, "%lld.%03lld", (long long)(e / 1000), (long long)(e % 1000));
    ec_jw_key(w, "kwh"), ec_jw_raw(w, kwh);
    ec_jw_key(w, "energy_wh"), ec_jw_int(w, e);
    ec_jw_key(w, "cdr_token"), ec_jw_obj_begin(w);
    ec_jw_key(w, "uid"), ec_jw_str(w, tx->id_tag);
    ec_jw_key(w, "type"), ec_jw_str(w, "RFID");
    ec_jw_key(w, "issuer_id"), ec_jw_str(w, tx->issuer_id);
    ec_jw_obj_end(w);
    ec_jw_key(w, "auth_method"), ec_jw_str(w, "AUTH_REQUEST");
    ec_jw_key(w, "location_id"), ec_jw_str(w, tx->site_id);
    char c[16];
    snprintf(c, sizeof c, "%d", tx->connector);
    ec_jw_key(w, "connector_id"), ec_jw_str(w, c);
    ec_jw_key(w, "status"), ec_jw_str(w, tx->stopped ? "COMPLETED" : "ACTIVE");
    ec_jw_key(w, "charge_point_id"), ec_jw_str(w, tx->charge_point);
    ec_jw_key(w, "transaction_id"), ec_jw_int(w, tx->id);
    ec_jw_key(w, "token_uid"), ec_jw_str(w, tx->id_tag);
    ec_jw_key(w, "issuer_id"), ec_jw_str(w, tx->issuer_id);
    ec_jw_key(w, "operator_id"), ec_jw_str(w, tx->operator_id);
    ec_jw_key(w, "auth_status"), ec_jw_str(w, tx->auth_status);
    ec_jw_key(w, "meter_start"), ec_jw_int(w, tx->meter_start_wh);
    ec_jw_key(w, "power_w"), ec_jw_num(w, tx->power_w, 1);
    if (tx->soc >= 0) ec_jw_key(w, "soc"), ec_jw_num(w, tx->soc, 1);
    ec_jw_key(w, "flags"), ec_jw_arr_begin(w);
    if (tx->flags & EC_TX_AUTH_REJECTED) ec_jw_str(w, "auth_rejected");
    ec_jw_arr_end(w);
    ec_jw_obj_end(w);
    return EC_OK;
}

static int period(const ec_http_request *req, ec_http_response *res, ec_session_filter_t *f)
{
    const char *from = api__arg(req, "from"), *to = api__arg(req, "to");
    if (from && ec_time_parse_iso(from, &f->from_s)) {
        api__error(res, 400, "invalid_parameter", "from", "from must be a date-time like 2026-12-01T00:00:00Z");
        return -1;
    }
    if (to && ec_time_parse_iso(to, &f->to_s)) {
        api__error(res, 400, "invalid_parameter", "to", "to must be a date-time like 2027-01-01T00:00:00Z");
        return -1;
    }
    if (f->from_s && f->to_s && f->to_s <= f->from_s) {
        api__error(res, 400, "invalid_parameter", "to", "to must come after from");
        return -1;
    }
    return 0;
}

static void session_list(ec_api *a, const api_principal *p, int cdrs, const ec_http_request *req, ec_http_response *res)
{
    ec_session_filter_t f;
    if (api__session_scope(p, &f, res)) return;
    if (req->method != EC_HTTP_GET) {
        api__error(res, 405, "method_not_allowed", NULL, "this list takes GET");
        return;
    }
    static const char *const allowed[] = {"offset", "limit", "charge_point", "from", "to", NULL};
    if (api__only_args(req, res, allowed) || paging(req, res, &f.offset, &f.limit) || period(req, res, &f)) return;
    f.charge_point = api__arg(req, "charge_point");
    f.live = !cdrs;
    int64_t total = 0;
    ec_jw w;
    ec_jw_init(&w, &res->body);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "data"), ec_jw_arr_begin(&w);
    ec_err rc = cdrs ? ec_store_cdr_list(a->store, &f, raw_row, &w, &total)
                     : ec_store_tx_list(a->store, &f, session_row, &w, &total);
    if (rc) {
        api__store_failed(res);
        return;
    }
    page_end(&w, res, total, f.offset, f.limit);
}

static void money(ec_jw *w, const char *key, int64_t v)
{
    char b[32];
    ec_money_format(v, 4, b, sizeof b);
    ec_jw_key(w, key), ec_jw_raw(w, b);
}

static void settle_obj(ec_jw *w, const ec_settle_row_t *r, int pair)
{
    char kwh[32];
    ec_jw_obj_begin(w);
    if (pair) {
        ec_jw_key(w, "operator_id"), ec_jw_str(w, r->operator_id);
        ec_jw_key(w, "issuer_id"), ec_jw_str(w, r->issuer_id);
    }
    ec_jw_key(w, "currency"), ec_jw_str(w, r->currency);
    ec_jw_key(w, "sessions"), ec_jw_int(w, r->sessions);
    snprintf(kwh, sizeof kwh, "%lld.%03lld", (long long)(r->energy_wh / 1000), (long long)(r->energy_wh % 1000));
    ec_jw_key(w, "energy_kwh"), ec_jw_raw(w, kwh);
    ec_jw_key(w, "energy_wh"), ec_jw_int(w, r->energy_wh);
    money(w, "amount_excl_vat", r->excl_vat);
    money(w, "amount_incl_vat", r->incl_vat);
    ec_jw_obj_end(w);
}

static ec_err settle_cdr(void *ctx, const char *operator_id, const char *issuer_id, const char *currency,
                         int64_t energy_wh, int64_t excl_vat, int64_t incl_vat)
{
    return ec_settle_add(ctx, operator_id, issuer_id, currency, energy_wh, excl_vat, incl_vat);
}

static void settlement(ec_api *a, const api_principal *p, const ec_http_request *req, ec_http_response *res)
{
    ec_session_filter_t f;
    if (api__session_scope(p, &f, res)) return;
    if (req->method != EC_HTTP_GET) {
        api__error(res, 405, "method_not_allowed", NULL, "settlement takes GET");
        return;
    }
    static const char *const allowed[] = {"from", "to", "format", NULL};
    if (api__only_args(req, res, allowed) || period(req, res, &f)) return;
    const char *format = api__arg(req, "format");
    if (format && strcmp(format, "json") && strcmp(format, "csv")) {
        api__error(res, 400, "invalid_parameter", "format", "format is json or csv");
        return;
    }
    ec_settlement st;
    ec_settle_init(&st);
    if (ec_store_cdr_amounts(a->store, &f, settle_cdr, &st)) {
        ec_settle_free(&st);
        api__store_failed(res);
        return;
    }
    ec_settle_sort(&st);
    const ec_settle_row_t *rows = st.rows.data;
    char from[32] = "", to[32] = "";
    if (f.from_s) ec_time_format_iso(f.from_s, from, sizeof from);
    if (f.to_s) ec_time_format_iso(f.to_s, to, sizeof to);
    if (format && !strcmp(format, "csv")) {
        res->content_type = "text/csv; charset=utf-8";
        ec_buf_puts(&res->body, "operator_id,issuer_id,currency,sessions,energy_kwh,amount_excl_vat,amount_incl_vat\r\n");
        for (size_t i = 0; i < st.rows.len; i++) {
            char e[32], x[32];
            ec_money_format(rows[i].excl_vat, 4, e, sizeof e);
            ec_money_format(rows[i].incl_vat, 4, x, sizeof x);
            ec_buf_printf(&res->body, "%s,%s,%s,%lld,%lld.%03lld,%s,%s\r\n", rows[i].operator_id, rows[i].issuer_id,
                          rows[i].currency, (long long)rows[i].sessions, (long long)(rows[i].energy_wh / 1000),
                          (long long)(rows[i].energy_wh % 1000), e, x);
        }
    } else {
        ec_jw w;
        ec_jw_init(&w, &res->body);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "from"), from[0] ? ec_jw_str(&w, from) : ec_jw_null(&w);
        ec_jw_key(&w, "to"), to[0] ? ec_jw_str(&w, to) : ec_jw_null(&w);
        ec_jw_key(&w, "data"), ec_jw_arr_begin(&w);
        for (size_t i = 0; i < st.rows.len; i++) settle_obj(&w, &rows[i], 1);
        ec_jw_arr_end(&w);
        ec_jw_key(&w, "totals"), ec_jw_arr_begin(&w);
        for (int i = 0; i < st.n_currencies; i++) settle_obj(&w, &st.total_by_currency[i], 0);
        ec_jw_arr_end(&w);
        ec_jw_key(&w, "total"), ec_jw_int(&w, (int64_t)st.rows.len);
        ec_jw_obj_end(&w);
    }
    ec_settle_free(&st);
    res->status = 200;
    /* The CSV and the JSON alike: a body cut short is not sent. */
    if (ec_buf_error(&res->body)) api__unwritten(res, ec_buf_error(&res->body));
}

/* ---- the grid: allocations, prices, what a fleet says of a session -------------------- */

static void allocation(ec_api *a, const api_principal *p, const char *site, const char *substation,
                       const ec_http_request *req, ec_http_response *res)
{
    static const char *const none[] = {NULL};
    if (api__only_args(req, res, none)) return;
    if (req->method != EC_HTTP_GET) {
        api__error(res, 405, "method_not_allowed", NULL, "allocation takes GET");
        return;
    }
    if (api__may_see_allocation(p, res)) return;
    ec_kind k = site ? EC_KIND_SITE : EC_KIND_SUBSTATION;
    const char *id = site ? site : substation;
    int known = ec_store_exists(a->store, k, id);
    if (known < 0) {
        api__store_failed(res);
        return;
    }
    if (!known) {
        api__error(res, 404, "not_found", NULL, "no %s %.60s", site ? "site" : "substation", id);
        return;
    }
    ec_err rc = smart__json(ocpp__smart(a->ocpp), site, substation, &res->body);
    if (rc == EC_ENOTFOUND) {
        /* Nothing is charging there yet. */
        ec_buf_reset(&res->body);
        ec_buf_printf(&res->body, "{\"%s\":\"%s\",\"controlled\":false,\"sessions\":[]}", site ? "site_id" : "substation_id", id);
    } else if (rc) {
        api__store_failed(res);
        return;
    }
    res->status = 200;
}

static void prices(ec_api *a, const char *site, const ec_http_request *req, ec_http_response *res)
{
    static const char *const allowed[] = {"hours", NULL};
    if (api__only_args(req, res, allowed)) return;
    if (req->method != EC_HTTP_GET) {
        api__error(res, 405, "method_not_allowed", NULL, "prices take GET");
        return;
    }
    const char *hv = api__arg(req, "hours");
    char *end = NULL;
    long hours = hv ? strtol(hv, &end, 10) : 24;
    if (hv && (end == hv || *end || hours < 1 || hours > 168)) {
        api__error(res, 400, "invalid_parameter", "hours", "hours is a whole number from 1 to 168");
        return;
    }
    int known = ec_store_exists(a->store, EC_KIND_SITE, site);
    if (known < 0) {
        api__store_failed(res);
        return;
    }
    if (!known) {
        api__error(res, 404, "not_found", NULL, "no site %.60s", site);
        return;
    }
    if (smart__prices_json(ocpp__smart(a->ocpp), site, 900, (int)hours * 4, &res->body)) {
        api__store_failed(res);
        return;
    }
    res->status = 200;
}

static const bfield plan_fields[] = {{"requested_kwh", B_INT, 0, 10000}, {"departure", B_TIME, 0, 0}, {NULL, B_INT, 0, 0}};

static void session_plan(ec_api *a, const api_principal *p, const char *id, const ec_http_request *req,
                         ec_http_response *res)
{
    if (req->method != EC_HTTP_PATCH) {
        api__error(res, 405, "method_not_allowed", NULL, "a session takes PATCH");
        return;
    }
    /* The key before the session: without one, which ids exist stays unknown. */
    if (api__may_plan_session(p, NULL, res)) return;
    char *end;
    long long txid = strtoll(id, &end, 10);
    if (end == id || *end || txid <= 0) {
        api__error(res, 404, "not_found", NULL, "no session %.40s", id);
        return;
    }
    ec_tx_t tx;
    ec_err rc = ec_store_tx_get(a->store, txid, &tx, NULL);
    if (rc == EC_ENOTFOUND) {
        api__error(res, 404, "not_found", NULL, "no session %lld", txid);
        return;
    }
    if (rc) {
        api__store_failed(res);
        return;
    }
    if (api__may_plan_session(p, &tx, res)) return;
    if (tx.stopped) {
        api__error(res, 409, "conflict", NULL, "session %lld has ended", txid);
        return;
    }
    ec_json *in = api__body_object(req, res);
    if (!in || check_body(in, plan_fields, res)) {
        ec_json_free(in);
        return;
    }
    double kwh = -1;
    int64_t dep = 0;
    ec_json_number(ec_json_get(in, "requested_kwh"), &kwh);
    const char *d = ec_json_str(ec_json_get(in, "departure"));
    if (d) ec_time_parse_rfc3339(d, &dep);
    ec_json_free(in);
    if (kwh < 0 && !dep) {
        api__error(res, 400, "missing_field", NULL, "say requested_kwh, departure or both");
        return;
    }
    if (dep && dep <= tx.start_s) {
        api__error(res, 400, "invalid_field", "departure", "departure must come after the start");
        return;
    }
    if (ec_store_plan_put(a->store, txid, kwh >= 0 ? kwh * 1000 : -1, dep)) {
        api__store_failed(res);
        return;
    }
    a->metrics.store_writes++;
    smart__plan(ocpp__smart(a->ocpp), txid, kwh >= 0 ? kwh * 1000 : -1, dep);
    /* The answer says the plan is kept: its journal row is committed before it goes. */
    if (a->ocpp) ocpp__flush(a->ocpp);
    double req_wh = -1;
    int64_t dep_s = 0;
    ec_store_plan_get(a->store, txid, &req_wh, &dep_s);
    ec_jw w;
    ec_jw_init(&w, &res->body);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "transaction_id"), ec_jw_int(&w, txid);
    ec_jw_key(&w, "requested_kwh");
    if (req_wh >= 0) ec_jw_num(&w, req_wh / 1000, 3);
    else ec_jw_null(&w);
    char t[32];
    ec_time_format_iso(dep_s, t, sizeof t);
    ec_jw_key(&w, "departure");
    if (dep_s) ec_jw_str(&w, t);
    else ec_jw_null(&w);
    ec_jw_obj_end(&w);
    res->status = 200;
    api__finish(&w, res);
}

/* "kind/ID/tail": 1 and id set (a copy) when rest is that. */
static int sub_path(const char *rest, const char *kind, const char *tail, char *id, size_t n)
{
    size_t k = strlen(kind), t = strlen(tail);
    size_t len = strlen(rest);
    if (strncmp(rest, kind, k) || rest[k] != '/' || len <= k + 1 + t + 1) return 0;
    if (strcmp(rest + len - t, tail) || rest[len - t - 1] != '/') return 0;
    size_t idl = len - t - 1 - (k + 1);
    if (idl == 0 || idl >= n || memchr(rest + k + 1, '/', idl)) return 0;
    memcpy(id, rest + k + 1, idl);
    id[idl] = 0;
    return 1;
}

int api__sessions(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req,
                  ec_http_response *res)
{
    char id[EC_REG_ID_MAX + 1];
    if (sub_path(rest, "sites", "allocation", id, sizeof id)) {
        allocation(a, p, id, NULL, req, res);
        return 1;
    }
    if (sub_path(rest, "substations", "allocation", id, sizeof id)) {
        allocation(a, p, NULL, id, req, res);
        return 1;
    }
    if (sub_path(rest, "sites", "prices", id, sizeof id)) {
        prices(a, id, req, res);
        return 1;
    }
    if (!strncmp(rest, "sessions/", 9) && rest[9] && !strchr(rest + 9, '/')) {
        session_plan(a, p, rest + 9, req, res);
        return 1;
    }
    if (!strncmp(rest, "chargers", 8) && (rest[8] == 0 || rest[8] == '/')) {
        chargers(a, p, rest[8] ? rest + 9 : "", req, res);
        return 1;
    }
    if (!strncmp(rest, "tokens", 6) && (rest[6] == 0 || rest[6] == '/')) {
        tokens(a, p, rest[6] ? rest + 7 : "", req, res);
        return 1;
    }
    if (!strcmp(rest, "sessions") || !strcmp(rest, "cdrs")) {
        session_list(a, p, rest[0] == 'c', req, res);
        return 1;
    }
    if (!strcmp(rest, "settlement")) {
        settlement(a, p, req, res);
        return 1;
    }
    return 0;
}

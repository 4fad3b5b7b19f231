/* ocpp_cs.c - what the central system answers each message of a charge
 * point: registration, live status, authorization of the hub's tokens,
 * transactions with prices fixed at their start, meter values and the charge
 * detail record each finished transaction becomes. The rules are the
 * engine's (ec_engine.h); this file reads and writes the store. */
#include "ocpp_cs.h"

#include "lookup.h"
#include "smart.h"

#include "ocpp_schema.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_S 86400 /* how long a charger may keep an accepted token in its cache */

static void put_time(ec_jw *w, const char *key, int64_t t)
{
    char b[32];
    ec_time_format_iso(t, b, sizeof b);
    ec_jw_key(w, key);
    ec_jw_str(w, b);
}

static void fail(ocpp_reply *r, const char *code, const char *why)
{
    r->error = code;
    snprintf(r->why, sizeof r->why, "%s", why);
}

static void store_failed(ocpp_reply *r)
{
    ec_log(EC_LOG_ERROR, "ocpp: store: %s", ec_errmsg());
    fail(r, "InternalError", "the central system cannot store this now; send it again later");
}

static void id_tag_info(ec_jw *w, const char *status, int64_t now_s)
{
    ec_jw_key(w, "idTagInfo");
    ec_jw_obj_begin(w);
    ec_jw_key(w, "status"), ec_jw_str(w, status);
    if (!strcmp(status, "Accepted")) put_time(w, "expiryDate", now_s + CACHE_S);
    ec_jw_obj_end(w);
}

#define METER_MAX 9007199254740991.0 /* 2^53 - 1: the largest integer JSON keeps exact */

/* pl[key] as an integer in [lo, hi]; 0 when so (absent: *out untouched),
 * else the reply is a PropertyConstraintViolation naming it. */
static int int_in(const ec_json *pl, const char *key, double lo, double hi, int64_t *out, ocpp_reply *r)
{
    double v;
    ec_json *j = ec_json_get(pl, key);
    if (!j) return 0;
    if (ec_json_number(j, &v) || v < lo || v > hi) {
        r->error = "PropertyConstraintViolation";
        snprintf(r->why, sizeof r->why, "%s: must be from %.0f to %.0f", key, lo, hi);
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

/* The site EVSE connector c of cp is; NULL when it is out of range. */
static const char *evse_of(const ocpp_cp *cp, int c)
{
    return c >= 0 && c <= OCPP_MAX_CONNECTORS ? cp->evse_uid[c] : NULL;
}

int ocpp__begin_write(ocpp_env *e)
{
    if (e->writing) return 0;
    if (ec_store_begin(e->store)) {
        ec_log(EC_LOG_ERROR, "ocpp: store: %s", ec_errmsg());
        return -1;
    }
    e->writing = 1;
    return 0;
}

/* ---- registration and status ------------------------------------------------------ */

static ec_err charger_update(ocpp_env *e, ocpp_cp *cp, const ec_json *boot, int64_t now_s)
{
    ec_store *s = e->store;
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    char hash[EC_CHARGER_HASH_MAX] = "";
    ec_json *j = NULL;
    ec_err rc = ec_store_charger_get(s, cp->id, &doc, hash);
    if (!rc) rc = ec_json_load_buf(doc.data, doc.len, "charger", &j);
    static const char *const keys[][2] = {{"chargePointVendor", "vendor"},
                                          {"chargePointModel", "model"},
                                          {"chargePointSerialNumber", "serial_number"},
                                          {"firmwareVersion", "firmware_version"}};
    for (size_t i = 0; !rc && i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = ec_json_str(ec_json_get(boot, keys[i][0]));
        if (v) rc = ec_json_set_str(j, keys[i][1], v);
    }
    char t[32];
    ec_time_format_iso(now_s, t, sizeof t);
    if (!rc) rc = ec_json_set_str(j, "last_boot", t);
    if (!rc) {
        ec_buf_reset(&doc);
        ec_jw w;
        ec_jw_init(&w, &doc);
        ec_jw_value(&w, j);
        rc = ec_jw_finish(&w);
        if (!rc) rc = ec_store_charger_put(s, cp->id, cp->operator_id, cp->site_id, hash, doc.data, EC_PUT_REPLACE);
    }
    ec_json_free(j);
    ec_buf_free(&doc);
    return rc;
}

static void boot(ocpp_env *e, ocpp_cp *cp, const ec_json *pl, int64_t now_s, ocpp_reply *r)
{
    const ocpp_opts_t *o = e->opts;
    ec_jw w;
    ec_jw_init(&w, r->out);
    if (!cp->registered && !o->auto_register) {
        ec_log(EC_LOG_INFO, "ocpp: %s is not registered: BootNotification rejected", cp->id);
        ec_jw_obj_begin(&w);
        put_time(&w, "currentTime", now_s);
        ec_jw_key(&w, "interval"), ec_jw_int(&w, o->heartbeat_s);
        ec_jw_key(&w, "status"), ec_jw_str(&w, "Rejected");
        ec_jw_obj_end(&w);
        return;
    }
    if (ocpp__begin_write(e)) {
        store_failed(r);
        return;
    }
    r->wrote = 1;
    if (!cp->registered) {
        snprintf(cp->operator_id, sizeof cp->operator_id, "%s", o->auto_register);
        ec_buf doc;
        ec_buf_init(&doc, 4096);
        ec_jw d;
        ec_jw_init(&d, &doc);
        ec_jw_obj_begin(&d);
        ec_jw_key(&d, "id"), ec_jw_str(&d, cp->id);
        ec_jw_key(&d, "operator_id"), ec_jw_str(&d, cp->operator_id);
        ec_jw_key(&d, "connectors"), ec_jw_int(&d, cp->connectors);
        ec_jw_key(&d, "security_profile"), ec_jw_int(&d, 0);
        ec_jw_key(&d, "auto_registered"), ec_jw_bool(&d, 1);
        ec_jw_obj_end(&d);
        /* EC_EINVAL from the store is "registered already"; a document that
         * is not whole is a failure whatever its code. */
        int whole = ec_jw_finish(&d) == EC_OK;
        ec_err rc = whole ? ec_store_charger_put(e->store, cp->id, cp->operator_id, NULL, NULL, doc.data, EC_PUT_CREATE)
                          : EC_OK;
        ec_buf_free(&doc);
        if (!whole || (rc && rc != EC_EINVAL)) {
            store_failed(r);
            return;
        }
        cp->registered = 1;
        ec_log(EC_LOG_INFO, "ocpp: %s registered itself under %s", cp->id, cp->operator_id);
    }
    if (charger_update(e, cp, pl, now_s)) {
        store_failed(r);
        return;
    }
    cp->accepted = 1;
    smart__cp(e->smart, cp->id, cp->serial, cp->site_id, cp->evse_uid, 1); /* a charger that booted has lost its charging profiles */
    ec_jw_obj_begin(&w);
    put_time(&w, "currentTime", now_s);
    ec_jw_key(&w, "interval"), ec_jw_int(&w, o->heartbeat_s);
    ec_jw_key(&w, "status"), ec_jw_str(&w, "Accepted");
    ec_jw_obj_end(&w);
}

static const char *ocpi_status(const char *ocpp)
{
    if (!strcmp(ocpp, "Available")) return "AVAILABLE";
    if (!strcmp(ocpp, "Reserved")) return "RESERVED";
    if (!strcmp(ocpp, "Unavailable")) return "INOPERATIVE";
    if (!strcmp(ocpp, "Faulted")) return "OUTOFORDER";
    return "CHARGING"; /* Preparing, Charging, Suspended*, Finishing: in use */
}

/* The site's EVSE behind (cp, connector) takes the connector's status, so
 * the register, its lists and routing see live availability. The write waits
 * for the turn's commit (ocpp__write_site_statuses); the reply waits with it. */
static ec_err site_status(ocpp_env *en, ocpp_cp *cp, int connector, const char *status, int64_t now_s, int *wrote)
{
    const char *uid = cp->evse_uid[connector];
    if (!cp->site_id[0] || !uid[0]) return EC_OK;
    /* Sites were written through the API since: the EVSE may hold another status now than the
     * one this charger last put there, so what it says is read against the document again. */
    if (cp->site_status_gen != en->sites_gen) {
        memset(cp->site_status, 0, sizeof cp->site_status);
        cp->site_status_gen = en->sites_gen;
    }
    /* A charger repeats its status; the site's document is written only when it changes. */
    const char *want = ocpi_status(status);
    if (!strcmp(cp->site_status[connector], want)) return EC_OK;
    ec_vec *v = &en->site_statuses;
    if (v->len >= OCPP_SITE_STATUS_MAX) ocpp__write_site_statuses(en);
    ocpp_site_status e;
    memset(&e, 0, sizeof e);
    snprintf(e.site_id, sizeof e.site_id, "%s", cp->site_id);
    snprintf(e.evse_uid, sizeof e.evse_uid, "%s", uid);
    snprintf(e.status, sizeof e.status, "%s", want);
    snprintf(e.cp_id, sizeof e.cp_id, "%s", cp->id);
    e.serial = cp->serial, e.connector = connector, e.now_s = now_s;
    if (ocpp__begin_write(en)) return EC_EIO;
    ec_err rc = ec_vec_push(v, &e);
    if (rc) return rc;
    *wrote = 1;
    /* Taken as written: if it cannot be, the charger's cache of it is forgotten then. */
    snprintf(cp->site_status[connector], sizeof cp->site_status[connector], "%s", want);
    return EC_OK;
}

static int site_status_cmp(const void *a, const void *b)
{
    const ocpp_site_status *x = *(const ocpp_site_status *const *)a, *y = *(const ocpp_site_status *const *)b;
    int c = strcmp(x->site_id, y->site_id);
    return c ? c : (x < y ? -1 : x > y); /* in the order they came: the later status wins */
}

/* Charge point e->cp_id reads its site's document again at its next status. */
static void site_status_forget(ocpp_env *en, const ocpp_site_status *e)
{
    if (en->forget_status) en->forget_status(en->ctx, e->cp_id, e->serial, e->connector);
}

/* The statuses of one site, in the order they came, into its document. */
static ec_err site_write(ocpp_env *en, ocpp_site_status **e, size_t n)
{
    ec_store *s = en->store;
    ec_buf doc, out;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_buf_init(&out, EC_REG_DOC_MAX);
    ec_json *j = NULL;
    int changed = 0;
    ec_err rc = ec_store_get(s, EC_KIND_SITE, e[0]->site_id, &doc);
    if (rc == EC_ENOTFOUND) {
        rc = EC_OK; /* deleted meanwhile: nothing to show the status in */
    } else if (!rc && !(rc = ec_json_load_buf(doc.data, doc.len, "site", &j))) {
        ec_json *evses = ec_json_get(j, "evses");
        for (size_t k = 0; k < n && !rc; k++) {
            size_t i = 0;
            for (; i < ec_json_array_size(evses); i++) {
                ec_json *ev = ec_json_array_get(evses, i);
                const char *u = ec_json_str(ec_json_get(ev, "uid"));
                const char *cur = ec_json_str(ec_json_get(ev, "status"));
                if (!u || strcmp(u, e[k]->evse_uid)) continue;
                if (!cur || strcmp(cur, e[k]->status)) rc = ec_json_set_str(ev, "status", e[k]->status), changed = 1;
                break;
            }
            if (i == ec_json_array_size(evses)) site_status_forget(en, e[k]); /* no such EVSE (yet) */
        }
        ec_reg_index_t idx;
        ec_reg_error_t err;
        if (!rc && changed &&
            !(rc = ec_reg_normalize(EC_KIND_SITE, j, NULL, e[0]->site_id, e[n - 1]->now_s, &out, &idx, &err)))
            rc = ec_store_put(s, EC_KIND_SITE, e[0]->site_id, EC_PUT_REPLACE, out.data, &idx, NULL);
        /* Told to those who watch (live events) once the turn has committed. */
        if (!rc && changed) {
            char id[EC_REG_ID_MAX + 1];
            snprintf(id, sizeof id, "%s", e[0]->site_id);
            if (ec_vec_push(&en->sites_written, id))
                ec_log(EC_LOG_WARN, "ocpp: site %s: its new status cannot be announced (out of memory)", id);
        }
    }
    ec_json_free(j);
    ec_buf_free(&doc);
    ec_buf_free(&out);
    return rc;
}

void ocpp__write_site_statuses(ocpp_env *en)
{
    ec_vec *v = &en->site_statuses;
    size_t n = v->len;
    if (!n) return;
    ocpp_site_status **by_site = ec_malloc(n * sizeof *by_site);
    for (size_t i = 0; by_site && i < n; i++) by_site[i] = &EC_VEC_AT(v, ocpp_site_status, i);
    if (by_site) qsort(by_site, n, sizeof *by_site, site_status_cmp);
    for (size_t a = 0, b; by_site && a < n; a = b) {
        for (b = a + 1; b < n && !strcmp(by_site[b]->site_id, by_site[a]->site_id); b++) {
        }
        if (!site_write(en, by_site + a, b - a)) continue;
        ec_log(EC_LOG_ERROR, "ocpp: site %s: its EVSE statuses cannot be stored: %s", by_site[a]->site_id, ec_errmsg());
        for (size_t k = a; k < b; k++) site_status_forget(en, by_site[k]); /* its next status tries again */
    }
    if (!by_site) {
        ec_log(EC_LOG_ERROR, "ocpp: %zu EVSE statuses cannot be stored: out of memory", n);
        for (size_t k = 0; k < n; k++) site_status_forget(en, &EC_VEC_AT(v, ocpp_site_status, k));
    }
    ec_free(by_site);
    v->len = 0;
}

static void status_notification(ocpp_env *e, ocpp_cp *cp, const ec_json *pl, int64_t now_s, ocpp_reply *r)
{
    int64_t c = 0;
    if (int_in(pl, "connectorId", 0, OCPP_MAX_CONNECTORS, &c, r)) return;
    int n = (int)c;
    const char *st = ec_json_str(ec_json_get(pl, "status"));
    const char *err = ec_json_str(ec_json_get(pl, "errorCode"));
    if (n > cp->connectors) cp->connectors = n;
    /* A change goes to the engine and its journal (uptime is read from there); a repeat does not. */
    if (strcmp(cp->status[n], st) || strcmp(cp->error_code[n], err ? err : "")) {
        if (smart__status(e->smart, cp->id, n, st, err)) r->wrote = 1;
    }
    snprintf(cp->status[n], sizeof cp->status[n], "%s", st);
    snprintf(cp->error_code[n], sizeof cp->error_code[n], "%s", err);
    if (n > 0 && site_status(e, cp, n, st, now_s, &r->wrote)) {
        store_failed(r);
        return;
    }
    ec_buf_puts(r->out, "{}");
}

/* ---- sessions --------------------------------------------------------------------- */

static void authorize_req(ocpp_env *e, ocpp_cp *cp, const ec_json *pl, int64_t now_s, ocpp_reply *r)
{
    const char *uid = ec_json_str(ec_json_get(pl, "idTag"));
    ec_token_t tok;
    ec_auth_status st;
    if (lookup__authorize(e->store, uid, 0, now_s, &tok, &st)) {
        store_failed(r);
        return;
    }
    if (st != EC_AUTH_ACCEPTED) ec_log(EC_LOG_INFO, "ocpp: %s: token %s is %s", cp->id, uid, ec_auth_status_name(st));
    ec_jw w;
    ec_jw_init(&w, r->out);
    ec_jw_obj_begin(&w);
    id_tag_info(&w, ec_auth_status_name(st), now_s);
    ec_jw_obj_end(&w);
}

/* A session's start or stop as the charger dates it, unless that date
 * cannot be true: before 2000 or more than a day ahead of the hub's clock
 * (a charger whose clock was never set, or set wrong). Such a date would
 * price and bill the session for years; the hub's own time, when the
 * message arrived, is used instead and the charger's clock is logged. */
#define PLAUSIBLE_MIN_S 946684800LL /* 2000-01-01T00:00:00Z */
#define PLAUSIBLE_AHEAD_S 86400

static int64_t plausible_time(const ocpp_cp *cp, const char *what, int64_t t_s, int64_t now_s)
{
    if (t_s >= PLAUSIBLE_MIN_S && t_s <= now_s + PLAUSIBLE_AHEAD_S) return t_s;
    char t[32];
    ec_time_format_iso(t_s, t, sizeof t);
    ec_log(EC_LOG_WARN, "ocpp: %s dated a %s %s; its clock is wrong, the hub's time is used", cp->id, what, t);
    return now_s;
}

static void start_transaction(ocpp_env *e, ocpp_cp *cp, const ec_json *pl, int64_t now_s, ocpp_reply *r)
{
    ec_store *s = e->store;
    const char *uid = ec_json_str(ec_json_get(pl, "idTag"));
    const char *ts = ec_json_str(ec_json_get(pl, "timestamp"));
    int64_t connector = 0, meter = 0, reservation = 0;
    if (int_in(pl, "connectorId", 1, OCPP_MAX_CONNECTORS, &connector, r) ||
        int_in(pl, "meterStart", 0, METER_MAX, &meter, r) || int_in(pl, "reservationId", 0, 2147483647.0, &reservation, r))
        return;
    ec_tx_t tx;
    memset(&tx, 0, sizeof tx);
    if (ec_time_parse_rfc3339(ts, &tx.start_s)) {
        fail(r, "PropertyConstraintViolation", "timestamp");
        return;
    }
    tx.start_s = plausible_time(cp, "StartTransaction", tx.start_s, now_s);
    char key[160];
    snprintf(key, sizeof key, "%s|%d|%s|%s|%lld", cp->id, (int)connector, uid, ts, (long long)meter);
    ec_token_t tok;
    ec_auth_status st;
    if (lookup__authorize(s, uid, 1, now_s, &tok, &st)) {
        store_failed(r);
        return;
    }
    snprintf(tx.charge_point, sizeof tx.charge_point, "%s", cp->id);
    tx.connector = (int)connector;
    snprintf(tx.id_tag, sizeof tx.id_tag, "%s", uid);
    snprintf(tx.issuer_id, sizeof tx.issuer_id, "%s", tok.issuer_id);
    snprintf(tx.operator_id, sizeof tx.operator_id, "%s", cp->operator_id);
    snprintf(tx.site_id, sizeof tx.site_id, "%s", cp->site_id);
    snprintf(tx.auth_status, sizeof tx.auth_status, "%s", ec_auth_status_name(st));
    tx.meter_start_wh = meter;
    tx.last_register_wh = -1;
    tx.soc = -1;
    if (st != EC_AUTH_ACCEPTED) {
        /* OCPP 1.6, 3.5.1: a transaction the charger started (offline) is
         * recorded even when the token is refused; it is flagged. */
        tx.flags |= EC_TX_AUTH_REJECTED;
        ec_log(EC_LOG_INFO, "ocpp: %s: transaction for token %s recorded although it is %s", cp->id, uid,
               ec_auth_status_name(st));
    }
    ec_buf tariff;
    ec_buf_init(&tariff, EC_REG_DOC_MAX);
    ec_err rc = lookup__tariff(s, cp->operator_id, cp->site_id, tok.group_id, &tariff);
    if (!rc) rc = lookup__fix_tariff(e->smart, cp->site_id, tx.start_s, &tariff); /* a dynamic price is fixed now */
    int existed = 0;
    if ((rc && rc != EC_ENOTFOUND) || ocpp__begin_write(e) ||
        ec_store_tx_start(s, key, rc ? NULL : tariff.data, &tx, &existed)) {
        ec_buf_free(&tariff);
        store_failed(r);
        return;
    }
    ec_buf_free(&tariff);
    r->wrote = 1;
    smart__tx(e->smart, evse_of(cp, tx.connector), &tx, SMART_START);
    ec_jw w;
    ec_jw_init(&w, r->out);
    ec_jw_obj_begin(&w);
    id_tag_info(&w, tx.auth_status, now_s);
    ec_jw_key(&w, "transactionId"), ec_jw_int(&w, tx.id);
    ec_jw_obj_end(&w);
}

/* Reads the energy register, power and SoC of one meterValue element. */
static void read_sample(const ec_json *mv, int64_t *register_wh, double *power_w, double *soc)
{
    *register_wh = -1, *power_w = -1, *soc = -1;
    ec_json *sv = ec_json_get(mv, "sampledValue");
    for (size_t i = 0; i < ec_json_array_size(sv); i++) {
        ec_json *x = ec_json_array_get(sv, i);
        const char *m = ec_json_str(ec_json_get(x, "measurand"));
        const char *unit = ec_json_str(ec_json_get(x, "unit"));
        const char *phase = ec_json_str(ec_json_get(x, "phase"));
        const char *text = ec_json_str(ec_json_get(x, "value"));
        char *end;
        double v = strtod(text, &end);
        if (end == text || *end || !isfinite(v) || phase || v < 0 || v > METER_MAX / 1000) continue;
        int kilo = unit && unit[0] == 'k';
        if (!m || !strcmp(m, "Energy.Active.Import.Register"))
            *register_wh = (int64_t)llround(kilo ? v * 1000 : v);
        else if (!strcmp(m, "Power.Active.Import"))
            *power_w = kilo ? v * 1000 : v;
        else if (!strcmp(m, "SoC"))
            *soc = v;
    }
}

/* Applies meter values to tx; EC_OK with nothing done for repeats. */
static ec_err apply_meter(ocpp_env *e, ec_tx_t *tx, const ec_json *values)
{
    for (size_t i = 0; i < ec_json_array_size(values); i++) {
        ec_json *mv = ec_json_array_get(values, i);
        int64_t t, reg;
        double p, soc;
        if (ec_time_parse_rfc3339(ec_json_str(ec_json_get(mv, "timestamp")), &t)) continue;
        read_sample(mv, &reg, &p, &soc);
        int dup = 0;
        ec_err rc = ec_store_meter_add(e->store, tx->id, t, reg, p, soc, &dup);
        if (rc) return rc;
        if (!dup) ec_tx_meter(tx, t, reg, p, soc);
    }
    return EC_OK;
}

static void meter_values(ocpp_env *e, ocpp_cp *cp, const ec_json *pl, int64_t now_s, ocpp_reply *r)
{
    int64_t txid = 0, connector = 0;
    if (int_in(pl, "connectorId", 0, OCPP_MAX_CONNECTORS, &connector, r) ||
        int_in(pl, "transactionId", -2147483648.0, METER_MAX, &txid, r))
        return;
    ec_buf_puts(r->out, "{}");
    if (!ec_json_get(pl, "transactionId")) return; /* no transaction: nothing to keep */
    ec_tx_t tx;
    ec_err rc = ec_store_tx_get(e->store, txid, &tx, NULL);
    if (rc == EC_ENOTFOUND || (!rc && (tx.stopped || strcmp(tx.charge_point, cp->id)))) return;
    if (rc || ocpp__begin_write(e)) {
        store_failed(r);
        return;
    }
    r->wrote = 1;
    if (apply_meter(e, &tx, ec_json_get(pl, "meterValue")) || ec_store_tx_update(e->store, &tx)) {
        store_failed(r);
        return;
    }
    smart__tx(e->smart, evse_of(cp, tx.connector), &tx, SMART_METER);
    (void)now_s;
}

static void stop_transaction(ocpp_env *e, ocpp_cp *cp, const ec_json *pl, int64_t now_s, ocpp_reply *r)
{
    ec_store *s = e->store;
    int64_t txid = 0, meter = 0;
    if (int_in(pl, "transactionId", -2147483648.0, METER_MAX, &txid, r) || int_in(pl, "meterStop", 0, METER_MAX, &meter, r))
        return;
    const char *uid = ec_json_str(ec_json_get(pl, "idTag"));
    const char *reason = ec_json_str(ec_json_get(pl, "reason"));
    int64_t stop_s;
    if (ec_time_parse_rfc3339(ec_json_str(ec_json_get(pl, "timestamp")), &stop_s)) {
        fail(r, "PropertyConstraintViolation", "timestamp");
        return;
    }
    stop_s = plausible_time(cp, "StopTransaction", stop_s, now_s);
    ec_tx_t tx;
    ec_buf tariff_doc, cdr;
    ec_buf_init(&tariff_doc, EC_REG_DOC_MAX);
    ec_buf_init(&cdr, 2 * EC_REG_DOC_MAX);
    ec_err rc = ec_store_tx_get(s, txid, &tx, &tariff_doc);
    if (rc == EC_ENOTFOUND || (!rc && strcmp(tx.charge_point, cp->id))) {
        ec_log(EC_LOG_WARN, "ocpp: %s stopped transaction %lld, which it never started here", cp->id, (long long)txid);
        rc = EC_OK;
    } else if (!rc && !tx.stopped) {
        ec_json *tj = NULL;
        ec_tariff_t tariff;
        int have = tariff_doc.len && !ec_json_load_buf(tariff_doc.data, tariff_doc.len, "tariff", &tj) &&
                   !ec_tariff_from_json(tj, &tariff);
        ec_json_free(tj);
        ec_cost_t cost;
        int dup;
        char cdr_id[EC_CP_ID_MAX + 32];
        snprintf(cdr_id, sizeof cdr_id, "%s-%lld", tx.charge_point, (long long)tx.id);
        if (!(rc = ocpp__begin_write(e) ? EC_EIO : EC_OK)) {
            r->wrote = 1;
            rc = apply_meter(e, &tx, ec_json_get(pl, "transactionData"));
        }
        if (!rc) {
            ec_tx_stop(&tx, stop_s, meter, reason);
            rc = ec_cdr_json(&tx, have ? &tariff : NULL, have ? tariff_doc.data : NULL, &cdr, &cost);
        }
        int64_t energy, ch, idle;
        ec_tx_usage(&tx, &energy, &ch, &idle);
        if (!rc) rc = ec_store_tx_update(s, &tx);
        if (!rc) rc = ec_store_cdr_put(s, &tx, cdr_id, tx.stop_s, have ? tariff.currency : "EUR", energy, cost.excl_vat,
                                       cost.incl_vat, cdr.data, &dup);
        if (!rc) smart__tx(e->smart, evse_of(cp, tx.connector), &tx, SMART_STOP);
    }
    ec_buf_free(&tariff_doc);
    ec_buf_free(&cdr);
    if (rc) {
        store_failed(r);
        return;
    }
    ec_jw w;
    ec_jw_init(&w, r->out);
    ec_jw_obj_begin(&w);
    if (uid) {
        ec_token_t tok;
        ec_auth_status st;
        if (lookup__authorize(e->store, uid, 0, now_s, &tok, &st)) st = EC_AUTH_INVALID;
        id_tag_info(&w, ec_auth_status_name(st), now_s);
    }
    ec_jw_obj_end(&w);
}

/* ---- the rest ----------------------------------------------------------------------- */

static void heartbeat(ocpp_env *e, ocpp_cp *cp, const ec_json *pl, int64_t now_s, ocpp_reply *r)
{
    ec_jw w;
    ec_jw_init(&w, r->out);
    ec_jw_obj_begin(&w);
    put_time(&w, "currentTime", now_s);
    ec_jw_obj_end(&w);
}

static void data_transfer(ocpp_env *e, ocpp_cp *cp, const ec_json *pl, int64_t now_s, ocpp_reply *r)
{
    /* No vendor extensions are known here. */
    ec_buf_puts(r->out, "{\"status\":\"UnknownVendorId\"}");
}

static void firmware_status(ocpp_env *e, ocpp_cp *cp, const ec_json *pl, int64_t now_s, ocpp_reply *r)
{
    snprintf(cp->firmware_status, sizeof cp->firmware_status, "%s", ec_json_str(ec_json_get(pl, "status")));
    ec_buf_puts(r->out, "{}");
}

static void diagnostics_status(ocpp_env *e, ocpp_cp *cp, const ec_json *pl, int64_t now_s, ocpp_reply *r)
{
    snprintf(cp->diagnostics_status, sizeof cp->diagnostics_status, "%s", ec_json_str(ec_json_get(pl, "status")));
    ec_buf_puts(r->out, "{}");
}

typedef void (*handler_fn)(ocpp_env *, ocpp_cp *, const ec_json *, int64_t, ocpp_reply *);

static const struct {
    const char *action;
    handler_fn fn;
} handlers[] = {
    {"BootNotification", boot},
    {"Heartbeat", heartbeat},
    {"StatusNotification", status_notification},
    {"Authorize", authorize_req},
    {"StartTransaction", start_transaction},
    {"StopTransaction", stop_transaction},
    {"MeterValues", meter_values},
    {"DataTransfer", data_transfer},
    {"FirmwareStatusNotification", firmware_status},
    {"DiagnosticsStatusNotification", diagnostics_status},
};

void ocpp__handle(ocpp_env *e, ocpp_cp *cp, const char *action, const ec_json *payload, int64_t now_s,
                  ocpp_reply *r)
{
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (!strcmp(handlers[i].action, action)) {
            handlers[i].fn(e, cp, payload, now_s, r);
            return;
        }
    /* Actions a charge point receives but never sends (RemoteStartTransaction...). */
    fail(r, "NotSupported", "this action is sent by the central system, not to it");
}

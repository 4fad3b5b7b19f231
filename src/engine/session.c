/* session.c - authorization, a transaction's meter, its charge detail record
 * and the settlement between operators and token issuers. */
#include "ecorridor/ec_engine.h"

#include <stdlib.h>
#include <string.h>

static const char *const auth_names[] = {"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"};

const char *ec_auth_status_name(ec_auth_status s)
{
    return (int)s >= 0 && s <= EC_AUTH_CONCURRENT ? auth_names[s] : "Invalid";
}

ec_auth_status ec_engine_authorize(const ec_token_t *tok, int64_t active, int64_t now_s)
{
    if (!tok) return EC_AUTH_INVALID;
    if (!tok->valid) return EC_AUTH_BLOCKED;
    if (tok->expiry_s && tok->expiry_s <= now_s) return EC_AUTH_EXPIRED;
    if (tok->max_concurrent && active >= tok->max_concurrent) return EC_AUTH_CONCURRENT;
    return EC_AUTH_ACCEPTED;
}

ec_err ec_token_from_json(const ec_json *doc, ec_token_t *out)
{
    memset(out, 0, sizeof *out);
    const char *uid = NULL, *issuer = NULL, *contract = NULL, *group = NULL, *expiry = NULL;
    int valid = 1;
    double maxc = 0;
    ec_err rc;
    if ((rc = ec_json_get_string(doc, "uid", 1, "token", &uid)) ||
        (rc = ec_json_get_string(doc, "issuer_id", 0, "token", &issuer)) ||
        (rc = ec_json_get_string(doc, "contract_id", 0, "token", &contract)) ||
        (rc = ec_json_get_string(doc, "group_id", 0, "token", &group)) ||
        (rc = ec_json_get_string(doc, "expiry", 0, "token", &expiry)) ||
        (rc = ec_json_get_bool(doc, "valid", 0, "token", &valid)) ||
        (rc = ec_json_get_number(doc, "max_concurrent", 0, "token", &maxc)))
        return rc;
    snprintf(out->uid, sizeof out->uid, "%s", uid);
    snprintf(out->issuer_id, sizeof out->issuer_id, "%s", issuer ? issuer : "");
    snprintf(out->contract_id, sizeof out->contract_id, "%s", contract ? contract : "");
    snprintf(out->group_id, sizeof out->group_id, "%s", group ? group : "");
    out->valid = valid;
    out->max_concurrent = (int)maxc;
    if (expiry && ec_time_parse_iso(expiry, &out->expiry_s))
        return ec_fail(EC_EPARSE, "token %s: expiry \"%s\" is not a date-time", out->uid, expiry);
    return EC_OK;
}

void ec_tx_meter(ec_tx_t *tx, int64_t t_s, int64_t register_wh, double power_w, double soc)
{
    if (register_wh >= 0) {
        int64_t before = tx->last_register_wh >= 0 ? tx->last_register_wh : tx->meter_start_wh;
        if (register_wh > before && t_s >= tx->last_increase_s) tx->last_increase_s = t_s;
        if (register_wh >= tx->last_register_wh) tx->last_register_wh = register_wh;
    }
    if (power_w >= 0) {
        tx->power_w = power_w;
        if (power_w > tx->max_power_w) tx->max_power_w = power_w;
    }
    if (soc >= 0) tx->soc = soc;
}

void ec_tx_stop(ec_tx_t *tx, int64_t stop_s, int64_t meter_stop_wh, const char *reason)
{
    tx->stopped = 1;
    tx->stop_s = stop_s < tx->start_s ? tx->start_s : stop_s;
    tx->meter_stop_wh = meter_stop_wh;
    snprintf(tx->stop_reason, sizeof tx->stop_reason, "%s", reason && *reason ? reason : "Local");
    /* The meter's own register must not run past meterStop, and meterStop
     * must not fall below meterStart. */
    if (meter_stop_wh < tx->meter_start_wh || (tx->last_register_wh >= 0 && tx->last_register_wh > meter_stop_wh))
        tx->flags |= EC_TX_METER_MISMATCH;
}

void ec_tx_usage(const ec_tx_t *tx, int64_t *energy_wh, int64_t *charging_s, int64_t *idle_s)
{
    int64_t e = tx->meter_stop_wh - tx->meter_start_wh;
    *energy_wh = e > 0 ? e : 0;
    int64_t end = tx->stop_s;
    /* Charging lasts until the register last rose; without meter values,
     * the whole session counts as charging. */
    int64_t charged_until = tx->last_increase_s > tx->start_s && tx->last_increase_s < end ? tx->last_increase_s : end;
    if (tx->last_register_wh >= 0 && tx->meter_stop_wh > tx->last_register_wh) charged_until = end;
    *charging_s = charged_until - tx->start_s;
    *idle_s = end - charged_until;
}

static void put_money(ec_jw *w, const char *key, int64_t v)
{
    char b[32];
    ec_money_format(v, 4, b, sizeof b);
    ec_jw_key(w, key);
    ec_jw_raw(w, b);
}

static void put_fixed(ec_jw *w, const char *key, int64_t v, int64_t unit, int places)
{
    char b[48];
    snprintf(b, sizeof b, "%lld.%0*lld", (long long)(v / unit), places, (long long)(v % unit));
    ec_jw_key(w, key);
    ec_jw_raw(w, b);
}

static void put_time(ec_jw *w, const char *key, int64_t t)
{
    char b[32];
    ec_time_format_iso(t, b, sizeof b);
    ec_jw_key(w, key);
    ec_jw_str(w, b);
}

ec_err ec_cdr_json(const ec_tx_t *tx, const ec_tariff_t *tariff, const char *tariff_doc, ec_buf *out,
                   ec_cost_t *cost)
{
    int64_t e, ch, idle;
    ec_tx_usage(tx, &e, &ch, &idle);
    ec_tariff_cost(tariff, e, ch, idle, cost);
    int64_t parking = tariff ? idle - tariff->idle_grace_s : 0;
    if (parking < 0) parking = 0;
    char id[EC_CP_ID_MAX + 32];
    snprintf(id, sizeof id, "%s-%lld", tx->charge_point, (long long)tx->id);
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "id"), ec_jw_str(&w, id);
    put_time(&w, "start_date_time", tx->start_s);
    put_time(&w, "end_date_time", tx->stop_s);
    char sid[24];
    snprintf(sid, sizeof sid, "%lld", (long long)tx->id);
    ec_jw_key(&w, "session_id"), ec_jw_str(&w, sid);
    ec_jw_key(&w, "cdr_token"), ec_jw_obj_begin(&w);
    ec_jw_key(&w, "uid"), ec_jw_str(&w, tx->id_tag);
    ec_jw_key(&w, "type"), ec_jw_str(&w, "RFID");
    ec_jw_key(&w, "issuer_id"), ec_jw_str(&w, tx->issuer_id);
    ec_jw_obj_end(&w);
    ec_jw_key(&w, "auth_method"), ec_jw_str(&w, "AUTH_REQUEST");
    ec_jw_key(&w, "cdr_location"), ec_jw_obj_begin(&w);
    ec_jw_key(&w, "id"), ec_jw_str(&w, tx->site_id);
    char conn[16];
    snprintf(conn, sizeof conn, "%d", tx->connector);
    ec_jw_key(&w, "connector_id"), ec_jw_str(&w, conn);
    ec_jw_obj_end(&w);
    ec_jw_key(&w, "currency"), ec_jw_str(&w, tariff ? tariff->currency : "EUR");
    ec_jw_key(&w, "tariffs"), ec_jw_arr_begin(&w);
    if (tariff_doc && *tariff_doc) ec_jw_raw(&w, tariff_doc);
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "charging_periods"), ec_jw_arr_begin(&w), ec_jw_obj_begin(&w);
    put_time(&w, "start_date_time", tx->start_s);
    ec_jw_key(&w, "dimensions"), ec_jw_arr_begin(&w);
    ec_jw_obj_begin(&w), ec_jw_key(&w, "type"), ec_jw_str(&w, "ENERGY");
    put_fixed(&w, "volume", e, 1000, 3), ec_jw_obj_end(&w);
    ec_jw_obj_begin(&w), ec_jw_key(&w, "type"), ec_jw_str(&w, "TIME");
    ec_jw_key(&w, "volume"), ec_jw_num(&w, (double)ch / 3600.0, 4), ec_jw_obj_end(&w);
    if (idle > 0) {
        ec_jw_obj_begin(&w), ec_jw_key(&w, "type"), ec_jw_str(&w, "PARKING_TIME");
        ec_jw_key(&w, "volume"), ec_jw_num(&w, (double)idle / 3600.0, 4), ec_jw_obj_end(&w);
    }
    ec_jw_arr_end(&w), ec_jw_obj_end(&w), ec_jw_arr_end(&w);
    ec_jw_key(&w, "total_cost"), ec_jw_obj_begin(&w);
    put_money(&w, "excl_vat", cost->excl_vat);
    put_money(&w, "incl_vat", cost->incl_vat);
    ec_jw_obj_end(&w);
    put_money(&w, "total_fixed_cost", cost->flat);
    put_fixed(&w, "total_energy", e, 1000, 3);
    put_money(&w, "total_energy_cost", cost->energy);
    ec_jw_key(&w, "total_time"), ec_jw_num(&w, (double)(ch + idle) / 3600.0, 4);
    put_money(&w, "total_time_cost", cost->time);
    ec_jw_key(&w, "total_parking_time"), ec_jw_num(&w, (double)parking / 3600.0, 4);
    put_money(&w, "total_parking_cost", cost->parking);
    put_money(&w, "total_vat", cost->vat);
    ec_jw_key(&w, "charge_point_id"), ec_jw_str(&w, tx->charge_point);
    ec_jw_key(&w, "transaction_id"), ec_jw_int(&w, tx->id);
    ec_jw_key(&w, "token_uid"), ec_jw_str(&w, tx->id_tag);
    ec_jw_key(&w, "issuer_id"), ec_jw_str(&w, tx->issuer_id);
    ec_jw_key(&w, "operator_id"), ec_jw_str(&w, tx->operator_id);
    ec_jw_key(&w, "tariff_id"), ec_jw_str(&w, tariff ? tariff->id : "");
    ec_jw_key(&w, "energy_wh"), ec_jw_int(&w, e);
    ec_jw_key(&w, "meter_start"), ec_jw_int(&w, tx->meter_start_wh);
    ec_jw_key(&w, "meter_stop"), ec_jw_int(&w, tx->meter_stop_wh);
    ec_jw_key(&w, "charging_s"), ec_jw_int(&w, ch);
    ec_jw_key(&w, "idle_s"), ec_jw_int(&w, idle);
    ec_jw_key(&w, "stop_reason"), ec_jw_str(&w, tx->stop_reason);
    ec_jw_key(&w, "auth_status"), ec_jw_str(&w, tx->auth_status);
    ec_jw_key(&w, "flags"), ec_jw_arr_begin(&w);
    if (tx->flags & EC_TX_AUTH_REJECTED) ec_jw_str(&w, "auth_rejected");
    if (tx->flags & EC_TX_METER_MISMATCH) ec_jw_str(&w, "meter_mismatch");
    ec_jw_arr_end(&w);
    put_time(&w, "last_updated", tx->stop_s);
    ec_jw_obj_end(&w);
    /* The buffer's first failure, also one that left it short of its limit
     * (memory): a CDR cut short is never stored. */
    return ec_jw_finish(&w);
}

/* ---- settlement ---------------------------------------------------------- */

void ec_settle_init(ec_settlement *s)
{
    memset(s, 0, sizeof *s);
    ec_vec_init(&s->rows, sizeof(ec_settle_row_t));
}

ec_err ec_settle_add(ec_settlement *s, const char *operator_id, const char *issuer_id, const char *currency,
                     int64_t energy_wh, int64_t excl_vat, int64_t incl_vat)
{
    ec_settle_row_t *r = NULL, *rows = s->rows.data;
    for (size_t i = 0; i < s->rows.len && !r; i++)
        if (!strcmp(rows[i].operator_id, operator_id) && !strcmp(rows[i].issuer_id, issuer_id) &&
            !strcmp(rows[i].currency, currency))
            r = &rows[i];
    if (!r) {
        ec_settle_row_t n;
        memset(&n, 0, sizeof n);
        snprintf(n.operator_id, sizeof n.operator_id, "%s", operator_id);
        snprintf(n.issuer_id, sizeof n.issuer_id, "%s", issuer_id);
        snprintf(n.currency, sizeof n.currency, "%s", currency);
        if (ec_vec_push(&s->rows, &n)) return EC_ENOMEM;
        r = &EC_VEC_AT(&s->rows, ec_settle_row_t, s->rows.len - 1);
    }
    r->sessions++, r->energy_wh += energy_wh, r->excl_vat += excl_vat, r->incl_vat += incl_vat;
    ec_settle_row_t *t = NULL;
    for (int i = 0; i < s->n_currencies && !t; i++)
        if (!strcmp(s->total_by_currency[i].currency, currency)) t = &s->total_by_currency[i];
    if (!t) {
        if (s->n_currencies == 8) return ec_fail(EC_ELIMIT, "settlement: more than 8 currencies");
        t = &s->total_by_currency[s->n_currencies++];
        memset(t, 0, sizeof *t);
        snprintf(t->currency, sizeof t->currency, "%s", currency);
    }
    t->sessions++, t->energy_wh += energy_wh, t->excl_vat += excl_vat, t->incl_vat += incl_vat;
    return EC_OK;
}

static int row_cmp(const void *a, const void *b)
{
    const ec_settle_row_t *x = a, *y = b;
    int c = strcmp(x->operator_id, y->operator_id);
    if (!c) c = strcmp(x->issuer_id, y->issuer_id);
    if (!c) c = strcmp(x->currency, y->currency);
    return c;
}

void ec_settle_sort(ec_settlement *s)
{
    if (s->rows.len > 1) qsort(s->rows.data, s->rows.len, sizeof(ec_settle_row_t), row_cmp);
}

void ec_settle_free(ec_settlement *s)
{
    ec_vec_free(&s->rows);
}

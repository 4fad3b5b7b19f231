/* share_codec.c - the journal's form of the power sharing's events and
 * commands: a kind by name and the fields as a JSON object. Numbers are
 * written so they read back to the same double (ec_jw_real): a replay must see
 * exactly what the hub's engine saw. */
#include "ecorridor/ec_share.h"
#include "ecorridor/ec_json.h"

#include <math.h>
#include <string.h>

static const char *const event_names[EC_SE_COUNT] = {
    NULL, "reset", "site", "substation", "cp_up", "cp_down", "tx_start", "tx_meter", "tx_stop", "plan", "result", "tick",
    "status", "arrive", "leave",
};

const char *ec_share_event_name(ec_share_event_kind k)
{
    return k > 0 && k < EC_SE_COUNT ? event_names[k] : NULL;
}

const char *ec_share_cmd_name(ec_share_cmd_kind k)
{
    return k == EC_SC_LIMIT ? "limit" : k == EC_SC_PRICE ? "price" : NULL;
}

static void num(ec_jw *w, const char *key, double v)
{
    ec_jw_key(w, key);
    ec_jw_real(w, isfinite(v) ? v : 0.0);
}

static void str(ec_jw *w, const char *key, const char *v)
{
    ec_jw_key(w, key);
    ec_jw_str(w, v);
}

static void integer(ec_jw *w, const char *key, int64_t v)
{
    ec_jw_key(w, key);
    ec_jw_int(w, v);
}

static void series(ec_jw *w, const char *key, const ec_series_t *s)
{
    ec_jw_key(w, key);
    ec_jw_obj_begin(w);
    integer(w, "interval_s", s->interval_s);
    ec_jw_key(w, "v");
    ec_jw_arr_begin(w);
    for (size_t i = 0; i < s->n; i++) {
        ec_jw_real(w, s->v[i]);
    }
    ec_jw_arr_end(w);
    ec_jw_obj_end(w);
}

ec_err ec_share_event_json(const ec_share_event_t *ev, ec_buf *out)
{
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    switch (ev->kind) {
    case EC_SE_SITE: {
        const ec_site_power_t *p = ev->site_power;
        if (!p) return EC_EINVAL;
        str(&w, "id", p->id), str(&w, "substation_id", p->substation_id);
        integer(&w, "managed", p->managed), str(&w, "algo", p->algo);
        num(&w, "limit_w", p->limit_w), integer(&w, "interval_s", p->interval_s);
        integer(&w, "dwell_min", p->dwell_min), num(&w, "default_wh", p->default_wh);
        ec_jw_key(&w, "evses");
        ec_jw_arr_begin(&w);
        for (int i = 0; i < p->n_evse; i++) {
            ec_jw_arr_begin(&w);
            ec_jw_str(&w, p->evse[i].uid);
            ec_jw_real(&w, p->evse[i].max_w);
            ec_jw_arr_end(&w);
        }
        ec_jw_arr_end(&w);
        break;
    }
    case EC_SE_SUBSTATION: {
        const ec_substation_power_t *p = ev->substation_power;
        if (!p) return EC_EINVAL;
        str(&w, "id", p->id), num(&w, "capacity_w", p->capacity_w);
        num(&w, "congestion_price", p->cong_price), num(&w, "congestion_threshold", p->cong_threshold);
        series(&w, "base_w", &p->base_w), series(&w, "renewables_w", &p->renew_w), series(&w, "prices", &p->prices);
        break;
    }
    case EC_SE_CP_UP: {
        str(&w, "cp", ev->cp), str(&w, "site", ev->site);
        integer(&w, "serial", (int64_t)ev->serial);
        int last = 0;
        for (int i = 0; i <= EC_SHARE_MAX_CONNECTORS; i++)
            if (ev->evse_uid[i][0]) last = i + 1;
        ec_jw_key(&w, "evse_uids");
        ec_jw_arr_begin(&w);
        for (int i = 0; i < last; i++) ec_jw_str(&w, ev->evse_uid[i]);
        ec_jw_arr_end(&w);
        break;
    }
    case EC_SE_CP_DOWN: str(&w, "cp", ev->cp); break;
    case EC_SE_STATUS:
        str(&w, "cp", ev->cp), integer(&w, "connector", ev->connector), str(&w, "status", ev->status);
        str(&w, "error_code", ev->error_code);
        break;
    case EC_SE_RESULT: str(&w, "cp", ev->cp), integer(&w, "accepted", ev->accepted); break;
    case EC_SE_ARRIVE:
        str(&w, "site", ev->site), str(&w, "vehicle", ev->vehicle), str(&w, "plug", ev->plug);
        integer(&w, "reserved", ev->reserved);
        break;
    case EC_SE_LEAVE: str(&w, "site", ev->site), str(&w, "vehicle", ev->vehicle), integer(&w, "served", ev->served); break;
    case EC_SE_TX_START: {
        integer(&w, "tx", ev->tx), str(&w, "cp", ev->cp), integer(&w, "connector", ev->connector);
        str(&w, "site", ev->site), integer(&w, "start_s", ev->start_s);
        int c = ev->connector >= 0 && ev->connector <= EC_SHARE_MAX_CONNECTORS ? ev->connector : 0;
        str(&w, "evse_uid", ev->evse_uid[c]);
        num(&w, "delivered_wh", ev->delivered_wh), num(&w, "requested_wh", ev->requested_wh);
        integer(&w, "departure_s", ev->departure_s);
        break;
    }
    case EC_SE_TX_METER: integer(&w, "tx", ev->tx), num(&w, "delivered_wh", ev->delivered_wh); break;
    case EC_SE_TX_STOP: integer(&w, "tx", ev->tx); break;
    case EC_SE_PLAN:
        integer(&w, "tx", ev->tx), num(&w, "requested_wh", ev->requested_wh);
        integer(&w, "departure_s", ev->departure_s);
        break;
    case EC_SE_RESET:
    case EC_SE_TICK: break;
    default: return EC_EINVAL;
    }
    ec_jw_obj_end(&w);
    return ec_jw_finish(&w); /* a row cut short is never journaled */
}

/* ---- reading back ------------------------------------------------------------------------- */

static int get_str(const ec_json *j, const char *key, char *out, size_t n)
{
    const char *s = ec_json_str(ec_json_get(j, key));
    if (!s || strlen(s) >= n) return -1;
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

static int get_num(const ec_json *j, const char *key, double *out)
{
    return ec_json_number(ec_json_get(j, key), out) || !isfinite(*out) ? -1 : 0;
}

static int get_int(const ec_json *j, const char *key, int64_t *out)
{
    double v;
    if (get_num(j, key, &v) || v != floor(v) || fabs(v) > 9007199254740992.0) return -1;
    *out = (int64_t)v;
    return 0;
}

#define MAX_SERIES 105408 /* three years of quarter-hours */

static int get_series(const ec_json *j, const char *key, ec_series_t *out)
{
    ec_json *o = ec_json_get(j, key), *v = ec_json_get(o, "v");
    int64_t iv;
    size_t n = ec_json_array_size(v);
    if (!o || get_int(o, "interval_s", &iv) || (n && iv <= 0) || n > MAX_SERIES) return -1;
    if (!n) return 0;
    out->v = ec_malloc(n * sizeof *out->v);
    if (!out->v) return -1;
    out->n = n, out->interval_s = iv;
    for (size_t i = 0; i < n; i++)
        if (ec_json_number(ec_json_array_get(v, i), &out->v[i]) || !isfinite(out->v[i])) return -1;
    return 0;
}

static int parse_site(const ec_json *j, ec_site_power_t *p)
{
    int64_t managed, iv, dwell;
    if (get_str(j, "id", p->id, sizeof p->id) || !p->id[0] ||
        get_str(j, "substation_id", p->substation_id, sizeof p->substation_id) || get_int(j, "managed", &managed) ||
        get_str(j, "algo", p->algo, sizeof p->algo) || get_num(j, "limit_w", &p->limit_w) ||
        get_int(j, "interval_s", &iv) || get_int(j, "dwell_min", &dwell) || get_num(j, "default_wh", &p->default_wh) ||
        iv < -1000000 || iv > 1000000 || dwell < -1000000 || dwell > 1000000)
        return -1;
    p->managed = managed != 0, p->interval_s = (int)iv, p->dwell_min = (int)dwell;
    ec_json *e = ec_json_get(j, "evses");
    size_t n = ec_json_array_size(e);
    if (n > EC_POWER_MAX_EVSE) return -1;
    if (!n) return 0;
    p->evse = ec_calloc(n, sizeof *p->evse);
    if (!p->evse) return -1;
    for (size_t i = 0; i < n; i++) {
        ec_json *x = ec_json_array_get(e, i);
        const char *uid = ec_json_str(ec_json_array_get(x, 0));
        if (!uid || strlen(uid) > EC_REG_ID_MAX || ec_json_number(ec_json_array_get(x, 1), &p->evse[i].max_w)) return -1;
        memcpy(p->evse[i].uid, uid, strlen(uid) + 1);
        p->n_evse = (int)i + 1;
    }
    return 0;
}

static int parse_substation(const ec_json *j, ec_substation_power_t *p)
{
    if (get_str(j, "id", p->id, sizeof p->id) || !p->id[0] || get_num(j, "capacity_w", &p->capacity_w) ||
        get_num(j, "congestion_price", &p->cong_price) || get_num(j, "congestion_threshold", &p->cong_threshold))
        return -1;
    return get_series(j, "base_w", &p->base_w) || get_series(j, "renewables_w", &p->renew_w) ||
                   get_series(j, "prices", &p->prices)
               ? -1
               : 0;
}

static int kind_of(const char *kind)
{
    for (int k = 1; k < EC_SE_COUNT; k++)
        if (kind && !strcmp(kind, event_names[k])) return k;
    return 0;
}

ec_err ec_share_event_parse(const char *kind, int64_t t_ms, const char *json, size_t len, ec_share_event_t *ev,
                           ec_site_power_t *site, ec_substation_power_t *sub)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = (ec_share_event_kind)kind_of(kind);
    ev->t_ms = t_ms;
    if (!ev->kind) return ec_fail(EC_EPARSE, "unknown event kind \"%s\"", kind ? kind : "");
    if (t_ms < 0 || t_ms > EC_SHARE_MAX_TIME_MS) return ec_fail(EC_ERANGE, "an event's time out of range");
    ec_json *j = NULL;
    ec_err rc = ec_json_load_buf(json, len, "event", &j);
    if (rc) return rc;
    int bad = !ec_json_is_object(j);
    int64_t v = 0;
    double d = 0;
    switch (ev->kind) {
    case EC_SE_SITE:
        ec_site_power_free(site);
        bad = bad || parse_site(j, site);
        ev->site_power = site;
        break;
    case EC_SE_SUBSTATION:
        ec_substation_power_free(sub);
        bad = bad || parse_substation(j, sub);
        ev->substation_power = sub;
        break;
    case EC_SE_CP_UP: {
        bad = bad || get_str(j, "cp", ev->cp, sizeof ev->cp) || get_str(j, "site", ev->site, sizeof ev->site) ||
              get_int(j, "serial", &v) || v < 0;
        ev->serial = (uint64_t)v;
        ec_json *u = ec_json_get(j, "evse_uids");
        size_t n = ec_json_array_size(u);
        if (n > EC_SHARE_MAX_CONNECTORS + 1) bad = 1;
        for (size_t i = 0; !bad && i < n; i++) {
            const char *s = ec_json_str(ec_json_array_get(u, i));
            if (!s || strlen(s) > EC_REG_ID_MAX) bad = 1;
            else memcpy(ev->evse_uid[i], s, strlen(s) + 1);
        }
        break;
    }
    case EC_SE_CP_DOWN: bad = bad || get_str(j, "cp", ev->cp, sizeof ev->cp); break;
    case EC_SE_STATUS:
        bad = bad || get_str(j, "cp", ev->cp, sizeof ev->cp) || get_int(j, "connector", &v) || v < 0 ||
              v > EC_SHARE_MAX_CONNECTORS || get_str(j, "status", ev->status, sizeof ev->status) || !ev->status[0] ||
              get_str(j, "error_code", ev->error_code, sizeof ev->error_code);
        ev->connector = (int)v;
        break;
    case EC_SE_RESULT:
        bad = bad || get_str(j, "cp", ev->cp, sizeof ev->cp) || get_int(j, "accepted", &v) || v < -1 || v > 1;
        ev->accepted = (int)v;
        break;
    case EC_SE_TX_START: {
        char uid[EC_REG_ID_MAX + 1];
        bad = bad || get_int(j, "tx", &ev->tx) || get_str(j, "cp", ev->cp, sizeof ev->cp) ||
              get_int(j, "connector", &v) || v < 0 || v > EC_SHARE_MAX_CONNECTORS ||
              get_str(j, "site", ev->site, sizeof ev->site) || get_int(j, "start_s", &ev->start_s) ||
              get_str(j, "evse_uid", uid, sizeof uid) || get_num(j, "delivered_wh", &ev->delivered_wh) ||
              get_num(j, "requested_wh", &ev->requested_wh) || get_int(j, "departure_s", &ev->departure_s);
        if (!bad) ev->connector = (int)v, memcpy(ev->evse_uid[v], uid, sizeof uid);
        break;
    }
    case EC_SE_ARRIVE:
        bad = bad || get_str(j, "site", ev->site, sizeof ev->site) || get_str(j, "vehicle", ev->vehicle, sizeof ev->vehicle) ||
              !ev->vehicle[0] || get_str(j, "plug", ev->plug, sizeof ev->plug) || get_int(j, "reserved", &v) || v < 0 || v > 1;
        ev->reserved = (int)v;
        break;
    case EC_SE_LEAVE:
        bad = bad || get_str(j, "site", ev->site, sizeof ev->site) || get_str(j, "vehicle", ev->vehicle, sizeof ev->vehicle) ||
              !ev->vehicle[0] || get_int(j, "served", &v) || v < 0 || v > 1;
        ev->served = (int)v;
        break;
    case EC_SE_TX_METER: bad = bad || get_int(j, "tx", &ev->tx) || get_num(j, "delivered_wh", &ev->delivered_wh); break;
    case EC_SE_TX_STOP: bad = bad || get_int(j, "tx", &ev->tx); break;
    case EC_SE_PLAN:
        bad = bad || get_int(j, "tx", &ev->tx) || get_num(j, "requested_wh", &d) || get_int(j, "departure_s", &ev->departure_s);
        ev->requested_wh = d;
        break;
    default: break;
    }
    ec_json_free(j);
    int has_tx = ev->kind == EC_SE_TX_START || ev->kind == EC_SE_TX_METER || ev->kind == EC_SE_TX_STOP || ev->kind == EC_SE_PLAN;
    if (!bad && has_tx && ev->tx <= 0) bad = 1; /* 0 would be a charge point's maximum */
    return bad ? ec_fail(EC_EPARSE, "a %s event with missing or malformed fields", kind) : EC_OK;
}

ec_err ec_share_cmd_json(const ec_share_cmd_t *c, ec_buf *out)
{
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    if (c->kind == EC_SC_LIMIT) {
        str(&w, "cp", c->cp), integer(&w, "connector", c->connector), integer(&w, "tx", c->tx);
        num(&w, "limit_w", c->limit_w), integer(&w, "lowers", c->lowers);
    } else if (c->kind == EC_SC_PRICE) {
        str(&w, "group", c->group), num(&w, "price_per_kwh", c->price_per_kwh);
    } else {
        return EC_EINVAL;
    }
    ec_jw_obj_end(&w);
    return ec_jw_finish(&w); /* a row cut short is never journaled */
}

ec_err ec_share_cmd_parse(const char *kind, int64_t t_ms, const char *json, size_t len, ec_share_cmd_t *c)
{
    memset(c, 0, sizeof *c);
    c->t_ms = t_ms;
    if (t_ms < 0 || t_ms > EC_SHARE_MAX_TIME_MS) return ec_fail(EC_ERANGE, "a command's time out of range");
    c->kind = kind && !strcmp(kind, "limit") ? EC_SC_LIMIT : kind && !strcmp(kind, "price") ? EC_SC_PRICE : 0;
    if (!c->kind) return ec_fail(EC_EPARSE, "unknown command kind \"%s\"", kind ? kind : "");
    ec_json *j = NULL;
    ec_err rc = ec_json_load_buf(json, len, "command", &j);
    if (rc) return rc;
    int64_t v = 0, lowers = 0;
    int bad = !ec_json_is_object(j);
    if (c->kind == EC_SC_LIMIT) {
        bad = bad || get_str(j, "cp", c->cp, sizeof c->cp) || get_int(j, "connector", &v) || v < 0 ||
              v > EC_SHARE_MAX_CONNECTORS || get_int(j, "tx", &c->tx) || get_num(j, "limit_w", &c->limit_w) ||
              get_int(j, "lowers", &lowers);
        c->connector = (int)v, c->lowers = lowers != 0;
        if (c->tx < 0 || (c->tx == 0) != (c->connector == 0)) bad = 1; /* a session's limit names it, a maximum none */
    } else {
        bad = bad || get_str(j, "group", c->group, sizeof c->group) || get_num(j, "price_per_kwh", &c->price_per_kwh);
    }
    ec_json_free(j);
    return bad ? ec_fail(EC_EPARSE, "a %s command with missing or malformed fields", kind) : EC_OK;
}

int ec_share_cmd_equal(const ec_share_cmd_t *a, const ec_share_cmd_t *b)
{
    if (a->kind != b->kind || a->t_ms != b->t_ms) return 0;
    if (a->kind == EC_SC_PRICE) return !strcmp(a->group, b->group) && fabs(a->price_per_kwh - b->price_per_kwh) < 0.00005;
    return !strcmp(a->cp, b->cp) && a->connector == b->connector && a->tx == b->tx && fabs(a->limit_w - b->limit_w) < 0.5;
}

void ec_share_cmd_describe(const ec_share_cmd_t *c, char *out, size_t n)
{
    char t[40];
    int64_t s = c->t_ms >= 0 ? c->t_ms / 1000 : -((-c->t_ms + 999) / 1000);
    ec_time_format_iso(s, t, sizeof t);
    if (c->kind == EC_SC_PRICE)
        snprintf(out, n, "price %s %.4f/kWh at %s (+%03d ms)", c->group, c->price_per_kwh, t, (int)(c->t_ms - s * 1000));
    else if (c->connector)
        snprintf(out, n, "limit %s connector %d (transaction %lld) %.0f W at %s (+%03d ms)", c->cp, c->connector,
                 (long long)c->tx, c->limit_w, t, (int)(c->t_ms - s * 1000));
    else
        snprintf(out, n, "limit %s (charge point maximum) %.0f W at %s (+%03d ms)", c->cp, c->limit_w, t,
                 (int)(c->t_ms - s * 1000));
}

/* cp_calls.c - a simulated charge point answering the hub's calls: charging
 * profiles (kept in W and obeyed by cp.c's draw), remote start and stop,
 * availability, reset, triggers, configuration, unlock and reservations.
 * What a real charger would refuse, this one refuses with the status OCPP
 * 1.6 gives for it; a payload it cannot read gets a CALLERROR. */
#include "cp_internal.h"

#include <string.h>

#define VOLTS 230.0 /* a charger that takes amperes: per phase, as the hub assumes */

static void answer(ec_cpsim_cp *cp, const char *uid, const char *payload)
{
    ec_jw w;
    ec_buf_reset(&cp->out);
    ec_jw_init(&w, &cp->out);
    ec_jw_arr_begin(&w);
    ec_jw_int(&w, 3), ec_jw_str(&w, uid), ec_jw_raw(&w, payload);
    ec_jw_arr_end(&w);
    if (!ec_jw_finish(&w) && cp->io.send) cp->io.send(cp->io.ctx, cp, cp->out.data, cp->out.len);
}

static void call_error(ec_cpsim_cp *cp, const char *uid, const char *action, const char *code, const char *why)
{
    ec_jw w;
    ec_buf_reset(&cp->out);
    ec_jw_init(&w, &cp->out);
    ec_jw_arr_begin(&w);
    ec_jw_int(&w, 4), ec_jw_str(&w, uid), ec_jw_str(&w, code), ec_jw_str(&w, why);
    ec_jw_obj_begin(&w), ec_jw_obj_end(&w), ec_jw_arr_end(&w);
    if (!ec_jw_finish(&w) && cp->io.send) cp->io.send(cp->io.ctx, cp, cp->out.data, cp->out.len);
    cp->st.frames_refused++;
    cp__event(cp, EC_CPSIM_EV_BAD_FRAME, 0, why, action);
}

static void status_answer(ec_cpsim_cp *cp, const char *uid, const char *action, const char *status, int k)
{
    char p[64];
    snprintf(p, sizeof p, "{\"status\":\"%s\"}", status);
    answer(cp, uid, p);
    cp->st.calls_answered++;
    cp__event(cp, EC_CPSIM_EV_COMMAND, k, action, status);
}

/* An integer member in [lo, hi]; 0 when it is one, else -1 (absent: *out = dflt when dflt >= lo). */
static int get_int(const ec_json *o, const char *key, int64_t lo, int64_t hi, int64_t dflt, int64_t *out)
{
    const ec_json *v = ec_json_get(o, key);
    double d;
    if (!v) {
        *out = dflt;
        return dflt >= lo ? 0 : -1;
    }
    if (ec_json_number(v, &d) || d != floor(d) || d < (double)lo || d > (double)hi) return -1;
    *out = (int64_t)d;
    return 0;
}

/* Reads csChargingProfiles into *p (limits in W). NULL or the reason it cannot. */
static const char *read_profile(ec_cpsim_cp *cp, const ec_json *o, int k, cp_profile *p)
{
    int64_t id, stack, tx, dur;
    const char *purpose = ec_json_str(ec_json_get(o, "chargingProfilePurpose"));
    const char *kind = ec_json_str(ec_json_get(o, "chargingProfileKind"));
    const ec_json *s = ec_json_get(o, "chargingSchedule");
    if (!ec_json_is_object(o) || get_int(o, "chargingProfileId", 0, INT32_MAX, -1, &id) ||
        get_int(o, "stackLevel", 0, 1000, -1, &stack) || get_int(o, "transactionId", 0, INT64_C(9007199254740991), 0, &tx) ||
        !purpose || !kind || !ec_json_is_object(s))
        return "csChargingProfiles needs chargingProfileId, stackLevel, chargingProfilePurpose, "
               "chargingProfileKind and chargingSchedule";
    memset(p, 0, sizeof *p);
    p->purpose = !strcmp(purpose, "TxProfile")               ? PR_TX
                 : !strcmp(purpose, "TxDefaultProfile")      ? PR_TX_DEFAULT
                 : !strcmp(purpose, "ChargePointMaxProfile") ? PR_CP_MAX
                                                             : PR_NONE;
    if (p->purpose == PR_NONE) return "chargingProfilePurpose is not one of OCPP 1.6's";
    if (strcmp(kind, "Absolute") && strcmp(kind, "Relative") && strcmp(kind, "Recurring"))
        return "chargingProfileKind is not Absolute, Relative or Recurring";
    const char *unit = ec_json_str(ec_json_get(s, "chargingRateUnit"));
    const ec_json *per = ec_json_get(s, "chargingSchedulePeriod");
    size_t n = ec_json_array_size(per);
    if (!unit || (strcmp(unit, "A") && strcmp(unit, "W"))) return "chargingRateUnit is not A or W";
    if (n < 1 || n > CP_PROFILE_PERIODS) return "chargingSchedulePeriod must have 1 to 8 periods";
    if (get_int(s, "duration", 0, INT32_MAX, 0, &dur)) return "duration is not a whole number of seconds";
    p->set = 1, p->id = (int)id, p->stack = (int)stack, p->tx = tx, p->dur_s = dur, p->n = (int)n;
    p->start_ms = cp->now_ms;
    const char *start = ec_json_str(ec_json_get(s, "startSchedule"));
    int64_t t;
    if (start) {
        if (ec_time_parse_rfc3339(start, &t)) return "startSchedule is not a date-time";
        if (!strcmp(kind, "Absolute")) p->start_ms = t * 1000;
    }
    if (!strcmp(kind, "Relative") && k > 0 && cp->c[k].phase == PH_RUNNING) p->start_ms = cp->c[k].started_ms;
    for (size_t i = 0; i < n; i++) {
        const ec_json *e = ec_json_array_get(per, i);
        int64_t at, phases;
        double lim;
        if (get_int(e, "startPeriod", 0, INT32_MAX, -1, &at) || ec_json_number(ec_json_get(e, "limit"), &lim) ||
            lim < 0 || lim > 1e7 || get_int(e, "numberPhases", 1, 3, 3, &phases))
            return "a chargingSchedulePeriod needs startPeriod and a limit of 0 or more";
        if (i > 0 && at <= p->at_s[i - 1]) return "startPeriod must rise from period to period";
        p->at_s[i] = at;
        p->limit_w[i] = !strcmp(unit, "A") ? lim * VOLTS * (double)phases : lim;
    }
    return NULL;
}

static void set_profile(ec_cpsim_cp *cp, const char *uid, const ec_json *pl)
{
    int64_t k;
    cp_profile p;
    const char *why = get_int(pl, "connectorId", 0, cp->ch.n_conn, -1, &k)
                          ? "connectorId is not one of this charge point's"
                          : read_profile(cp, ec_json_get(pl, "csChargingProfiles"), (int)k, &p);
    if (why) {
        call_error(cp, uid, "SetChargingProfile", "PropertyConstraintViolation", why);
        return;
    }
    /* OCPP 1.6, 3.13.2: a TxProfile goes to a connector with a transaction, a
     * ChargePointMaxProfile to connector 0. */
    if ((p.purpose == PR_TX && (k == 0 || cp->c[k].phase != PH_RUNNING || (p.tx && cp->c[k].tx && p.tx != cp->c[k].tx))) ||
        (p.purpose == PR_CP_MAX && k != 0)) {
        status_answer(cp, uid, "SetChargingProfile", "Rejected", (int)k);
        return;
    }
    cp_profile *slot = p.purpose == PR_CP_MAX ? &cp->cp_max_prof
                       : p.purpose == PR_TX   ? &cp->c[k].tx_prof
                                              : &cp->c[k].def_prof;
    *slot = p;
    cp->st.profiles_accepted++;
    status_answer(cp, uid, "SetChargingProfile", "Accepted", (int)k);
    /* The new limit holds from now: the power changes at once (and is told
     * before any reading that shows it). */
    cp__draw(cp);
    cp->event_limit_w = cp__profile_limit(slot, cp->now_ms);
    cp__event(cp, EC_CPSIM_EV_LIMIT, (int)k, p.purpose == PR_CP_MAX ? "ChargePointMaxProfile"
                                            : p.purpose == PR_TX    ? "TxProfile"
                                                                    : "TxDefaultProfile", NULL);
}

static void clear_profile(ec_cpsim_cp *cp, const char *uid, const ec_json *pl)
{
    int64_t id, k, stack;
    const char *purpose = ec_json_str(ec_json_get(pl, "chargingProfilePurpose"));
    if (get_int(pl, "id", 0, INT32_MAX, -1, &id) && ec_json_get(pl, "id")) goto bad;
    if (!ec_json_get(pl, "id")) id = -1;
    if (get_int(pl, "connectorId", 0, cp->ch.n_conn, 0, &k)) goto bad;
    if (!ec_json_get(pl, "connectorId")) k = -1;
    if (get_int(pl, "stackLevel", 0, 1000, 0, &stack)) goto bad;
    if (!ec_json_get(pl, "stackLevel")) stack = -1;
    int cleared = 0;
    for (int c = 0; c <= cp->ch.n_conn; c++) {
        cp_profile *slots[3] = {&cp->c[c].tx_prof, &cp->c[c].def_prof, c == 0 ? &cp->cp_max_prof : NULL};
        for (int i = 0; i < 3; i++) {
            cp_profile *p = slots[i];
            if (!p || !p->set) continue;
            static const char *const names[] = {"", "TxProfile", "TxDefaultProfile", "ChargePointMaxProfile"};
            if ((id >= 0 && p->id != id) || (k >= 0 && k != c) || (stack >= 0 && p->stack != stack) ||
                (purpose && strcmp(purpose, names[p->purpose])))
                continue;
            memset(p, 0, sizeof *p);
            cleared++;
        }
    }
    status_answer(cp, uid, "ClearChargingProfile", cleared ? "Accepted" : "Unknown", k > 0 ? (int)k : 0);
    if (cleared) {
        cp__draw(cp);
        cp->event_limit_w = INFINITY;
        cp__event(cp, EC_CPSIM_EV_LIMIT, k > 0 ? (int)k : 0, "cleared", NULL);
    }
    return;
bad:
    call_error(cp, uid, "ClearChargingProfile", "PropertyConstraintViolation", "id, connectorId or stackLevel out of range");
}

/* ---- configuration ------------------------------------------------------------------------ */

typedef struct {
    const char *key;
    int writable;
} cfg_key;

static const cfg_key cfg[] = {
    {"HeartbeatInterval", 1},       {"MeterValueSampleInterval", 1},   {"NumberOfConnectors", 0},
    {"ChargingScheduleAllowedChargingRateUnit", 0}, {"ChargeProfileMaxStackLevel", 0},
    {"ChargingScheduleMaxPeriods", 0}, {"MeterValuesSampledData", 0},  {"AuthorizeRemoteTxRequests", 0},
    {"StopTransactionOnInvalidId", 0}, {"SupportedFeatureProfiles", 0}, {NULL, 0},
};

static void cfg_value(const ec_cpsim_cp *cp, int i, char *out, size_t n)
{
    switch (i) {
    case 0: snprintf(out, n, "%d", cp->heartbeat_s); break;
    case 1: snprintf(out, n, "%d", cp->meter_s); break;
    case 2: snprintf(out, n, "%d", cp->ch.n_conn); break;
    case 3: snprintf(out, n, "Current,Power"); break;
    case 4: snprintf(out, n, "1000"); break;
    case 5: snprintf(out, n, "%d", CP_PROFILE_PERIODS); break;
    case 6: snprintf(out, n, "Energy.Active.Import.Register,Power.Active.Import,SoC"); break;
    case 7: snprintf(out, n, "false"); break;
    case 8: snprintf(out, n, "true"); break;
    default: snprintf(out, n, "Core,SmartCharging,RemoteTrigger,Reservation"); break;
    }
}

static void get_configuration(ec_cpsim_cp *cp, const char *uid, const ec_json *pl)
{
    const ec_json *keys = ec_json_get(pl, "key");
    size_t nk = ec_json_array_size(keys);
    if (keys && (!ec_json_is_array(keys) || nk > 64)) {
        call_error(cp, uid, "GetConfiguration", "PropertyConstraintViolation", "key must be a list of at most 64 names");
        return;
    }
    ec_buf b;
    ec_buf_init(&b, EC_CPSIM_FRAME_MAX);
    ec_jw w;
    ec_jw_init(&w, &b);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "configurationKey"), ec_jw_arr_begin(&w);
    for (int i = 0; cfg[i].key; i++) {
        int want = !nk;
        for (size_t j = 0; j < nk && !want; j++) {
            const char *s = ec_json_str(ec_json_array_get(keys, j));
            want = s && !strcmp(s, cfg[i].key);
        }
        if (!want) continue;
        char v[80];
        cfg_value(cp, i, v, sizeof v);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "key"), ec_jw_str(&w, cfg[i].key);
        ec_jw_key(&w, "readonly"), ec_jw_bool(&w, !cfg[i].writable);
        ec_jw_key(&w, "value"), ec_jw_str(&w, v);
        ec_jw_obj_end(&w);
    }
    ec_jw_arr_end(&w);
    int unknown = 0;
    for (size_t j = 0; j < nk; j++) {
        const char *s = ec_json_str(ec_json_array_get(keys, j));
        int known = 0;
        for (int i = 0; cfg[i].key && s; i++) known |= !strcmp(s, cfg[i].key);
        if (known || !s || strlen(s) > 50) continue;
        if (!unknown++) ec_jw_key(&w, "unknownKey"), ec_jw_arr_begin(&w);
        ec_jw_str(&w, s);
    }
    if (unknown) ec_jw_arr_end(&w);
    ec_jw_obj_end(&w);
    if (!ec_jw_finish(&w)) {
        answer(cp, uid, b.data);
        cp->st.calls_answered++;
        cp__event(cp, EC_CPSIM_EV_COMMAND, 0, "GetConfiguration", "answered");
    }
    ec_buf_free(&b);
}

static void change_configuration(ec_cpsim_cp *cp, const char *uid, const ec_json *pl)
{
    const char *key = ec_json_str(ec_json_get(pl, "key")), *val = ec_json_str(ec_json_get(pl, "value"));
    if (!key || !val) {
        call_error(cp, uid, "ChangeConfiguration", "OccurenceConstraintViolation", "key and value are required");
        return;
    }
    int i = 0;
    while (cfg[i].key && strcmp(cfg[i].key, key)) i++;
    int64_t v;
    const char *st = !cfg[i].key ? "NotSupported" : !cfg[i].writable ? "Rejected" : "Accepted";
    if (cfg[i].writable && (ec_parse_i64(val, &v) || v < 1 || v > 86400)) st = "Rejected";
    if (!strcmp(st, "Accepted")) {
        if (i == 0) cp->heartbeat_s = (int)v, cp->next_heartbeat_ms = cp->now_ms + v * 1000;
        else cp->meter_s = (int)v;
    }
    status_answer(cp, uid, "ChangeConfiguration", st, 0);
}

/* ---- operations --------------------------------------------------------------------------- */

static void remote_start(ec_cpsim_cp *cp, const char *uid, const ec_json *pl)
{
    const char *tag = ec_json_str(ec_json_get(pl, "idTag"));
    int64_t k;
    if (!tag || strlen(tag) > 20 || get_int(pl, "connectorId", 1, cp->ch.n_conn, 0, &k)) {
        if (!tag || strlen(tag) > 20) {
            call_error(cp, uid, "RemoteStartTransaction", "PropertyConstraintViolation", "idTag of 1 to 20 characters is required");
            return;
        }
        status_answer(cp, uid, "RemoteStartTransaction", "Rejected", 0);
        return;
    }
    for (int i = 1; !k && i <= cp->ch.n_conn; i++)
        if (cp->c[i].phase == PH_IDLE && !cp->c[i].inoperative && cp->c[i].status != ST_RESERVED) k = i;
    cp_conn *c = k ? &cp->c[k] : NULL;
    int ok = c && c->phase == PH_IDLE && !c->inoperative && cp->boot == BOOT_ACCEPTED &&
             (c->status != ST_RESERVED || !strcmp(c->res_tag, tag));
    status_answer(cp, uid, "RemoteStartTransaction", ok ? "Accepted" : "Rejected", (int)k);
    /* AuthorizeRemoteTxRequests is false: the hub authorized the token before it sent it. */
    if (ok && !cp__begin(cp, (int)k, tag, 1)) {
        cp_profile p;
        const ec_json *prof = ec_json_get(pl, "chargingProfile");
        if (prof && !read_profile(cp, prof, (int)k, &p) && p.purpose == PR_TX) c->tx_prof = p;
    }
}

static void remote_stop(ec_cpsim_cp *cp, const char *uid, const ec_json *pl)
{
    int64_t tx;
    if (get_int(pl, "transactionId", INT64_MIN + 1, INT64_MAX - 1, INT64_MIN, &tx)) {
        call_error(cp, uid, "RemoteStopTransaction", "OccurenceConstraintViolation", "transactionId is required");
        return;
    }
    int k = 0;
    for (int i = 1; i <= cp->ch.n_conn; i++)
        if (cp->c[i].phase == PH_RUNNING && cp->c[i].tx == tx) k = i;
    status_answer(cp, uid, "RemoteStopTransaction", k ? "Accepted" : "Rejected", k);
    if (k) cp__end(cp, k, "Remote");
}

static void change_availability(ec_cpsim_cp *cp, const char *uid, const ec_json *pl)
{
    int64_t k;
    const char *type = ec_json_str(ec_json_get(pl, "type"));
    if (get_int(pl, "connectorId", 0, cp->ch.n_conn, -1, &k) || !type ||
        (strcmp(type, "Inoperative") && strcmp(type, "Operative"))) {
        call_error(cp, uid, "ChangeAvailability", "PropertyConstraintViolation",
                   "connectorId of this charge point and type Operative or Inoperative are required");
        return;
    }
    int off = !strcmp(type, "Inoperative"), scheduled = 0;
    for (int i = k ? (int)k : 1; i <= (k ? k : cp->ch.n_conn); i++) {
        cp_conn *c = &cp->c[i];
        if (off && c->phase != PH_IDLE) {
            c->inoperative_after = 1, scheduled = 1; /* after the session, as OCPP 1.6 5.2 says */
            continue;
        }
        c->inoperative = off, c->inoperative_after = 0;
        if (c->phase == PH_IDLE) cp__set_status(cp, i, off ? ST_UNAVAILABLE : ST_AVAILABLE);
    }
    status_answer(cp, uid, "ChangeAvailability", scheduled ? "Scheduled" : "Accepted", (int)k);
}

static void reset(ec_cpsim_cp *cp, const char *uid, const ec_json *pl)
{
    const char *type = ec_json_str(ec_json_get(pl, "type"));
    if (!type || (strcmp(type, "Hard") && strcmp(type, "Soft"))) {
        call_error(cp, uid, "Reset", "PropertyConstraintViolation", "type must be Hard or Soft");
        return;
    }
    status_answer(cp, uid, "Reset", "Accepted", 0);
    for (int k = 1; k <= cp->ch.n_conn; k++) cp__end(cp, k, !strcmp(type, "Hard") ? "HardReset" : "SoftReset");
    /* The stops are sent first; the transport then reconnects and boots again. */
    if (cp->io.reset) cp->io.reset(cp->io.ctx, cp);
}

static void trigger(ec_cpsim_cp *cp, const char *uid, const ec_json *pl)
{
    const char *what = ec_json_str(ec_json_get(pl, "requestedMessage"));
    int64_t k;
    if (!what || get_int(pl, "connectorId", 0, cp->ch.n_conn, 0, &k)) {
        call_error(cp, uid, "TriggerMessage", "PropertyConstraintViolation", "requestedMessage and a valid connectorId");
        return;
    }
    const char *st = "Accepted";
    if (!strcmp(what, "BootNotification") || !strcmp(what, "Heartbeat") || !strcmp(what, "StatusNotification") ||
        !strcmp(what, "MeterValues") || !strcmp(what, "DiagnosticsStatusNotification") ||
        !strcmp(what, "FirmwareStatusNotification"))
        st = "Accepted";
    else
        st = "NotImplemented";
    status_answer(cp, uid, "TriggerMessage", st, (int)k);
    if (strcmp(st, "Accepted")) return;
    if (!strcmp(what, "BootNotification")) {
        cp__call(cp, "BootNotification",
                 "{\"chargePointVendor\":\"ecorridor\",\"chargePointModel\":\"cpsim\",\"firmwareVersion\":\"1.0\"}", 0, 0);
    } else if (!strcmp(what, "Heartbeat")) {
        cp__call(cp, "Heartbeat", "{}", 0, 0);
    } else if (!strcmp(what, "StatusNotification")) {
        for (int i = (int)k; i <= (k ? k : cp->ch.n_conn); i++) cp__queue_status(cp, i);
    } else if (!strcmp(what, "MeterValues")) {
        for (int i = k ? (int)k : 1; i <= (k ? k : cp->ch.n_conn); i++)
            if (cp->c[i].phase == PH_RUNNING && cp->c[i].tx) cp__queue_meter(cp, i);
    } else if (!strcmp(what, "DiagnosticsStatusNotification")) {
        cp__call(cp, "DiagnosticsStatusNotification", "{\"status\":\"Idle\"}", 0, 0);
    } else {
        cp__call(cp, "FirmwareStatusNotification", "{\"status\":\"Idle\"}", 0, 0);
    }
}

static void unlock(ec_cpsim_cp *cp, const char *uid, const ec_json *pl)
{
    int64_t k;
    if (get_int(pl, "connectorId", 1, cp->ch.n_conn, -1, &k)) {
        status_answer(cp, uid, "UnlockConnector", "NotSupported", 0);
        return;
    }
    status_answer(cp, uid, "UnlockConnector", "Unlocked", (int)k);
    cp__end(cp, (int)k, "UnlockCommand");
}

static void reserve(ec_cpsim_cp *cp, const char *uid, const ec_json *pl)
{
    int64_t k, id, until;
    const char *tag = ec_json_str(ec_json_get(pl, "idTag")), *exp = ec_json_str(ec_json_get(pl, "expiryDate"));
    if (get_int(pl, "connectorId", 0, EC_CPSIM_MAX_CONN, -1, &k) || get_int(pl, "reservationId", 0, INT32_MAX, -1, &id) ||
        !tag || strlen(tag) > 20 || !exp || ec_time_parse_rfc3339(exp, &until)) {
        call_error(cp, uid, "ReserveNow", "PropertyConstraintViolation",
                   "connectorId, expiryDate, idTag and reservationId are required");
        return;
    }
    if (k == 0 || k > cp->ch.n_conn) {
        status_answer(cp, uid, "ReserveNow", "Rejected", 0);
        return;
    }
    cp_conn *c = &cp->c[k];
    const char *st = c->inoperative ? "Unavailable" : c->phase != PH_IDLE ? "Occupied"
                     : c->status == ST_RESERVED && c->res_id != id ? "Occupied" : "Accepted";
    status_answer(cp, uid, "ReserveNow", st, (int)k);
    if (strcmp(st, "Accepted")) return;
    c->res_id = (int)id, c->res_until_ms = until * 1000;
    snprintf(c->res_tag, sizeof c->res_tag, "%s", tag);
    cp__set_status(cp, (int)k, ST_RESERVED);
}

static void cancel_reservation(ec_cpsim_cp *cp, const char *uid, const ec_json *pl)
{
    int64_t id;
    int k = 0;
    if (!get_int(pl, "reservationId", 0, INT32_MAX, -1, &id))
        for (int i = 1; i <= cp->ch.n_conn; i++)
            if (cp->c[i].status == ST_RESERVED && cp->c[i].res_id == id) k = i;
    status_answer(cp, uid, "CancelReservation", k ? "Accepted" : "Rejected", k);
    if (k) {
        cp->c[k].res_id = 0;
        cp__set_status(cp, k, ST_AVAILABLE);
    }
}

void cp__handle_call(ec_cpsim_cp *cp, const char *uid, const char *action, const ec_json *pl)
{
    static const struct {
        const char *action;
        void (*fn)(ec_cpsim_cp *, const char *, const ec_json *);
    } table[] = {
        {"SetChargingProfile", set_profile},     {"ClearChargingProfile", clear_profile},
        {"GetConfiguration", get_configuration}, {"ChangeConfiguration", change_configuration},
        {"RemoteStartTransaction", remote_start}, {"RemoteStopTransaction", remote_stop},
        {"ChangeAvailability", change_availability}, {"Reset", reset},
        {"TriggerMessage", trigger},             {"UnlockConnector", unlock},
        {"ReserveNow", reserve},                 {"CancelReservation", cancel_reservation},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i].action, action)) {
            table[i].fn(cp, uid, pl);
            return;
        }
    if (!strcmp(action, "DataTransfer")) status_answer(cp, uid, action, "UnknownVendorId", 0);
    else if (!strcmp(action, "ClearCache")) status_answer(cp, uid, action, "Accepted", 0);
    else call_error(cp, uid, "?", "NotImplemented", "this charge point does not implement that action");
}

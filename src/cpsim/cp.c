/* cp.c - one simulated charge point: its own calls to the hub (one in flight
 * at a time, as OCPP-J asks), the answers to them, and its sessions, which
 * draw power along a truck's charging curve (src/energy) under the limits
 * the hub set. No I/O here: frames go out through io.send, time comes in
 * through ec_cpsim_cp_tick, so tests and the fuzz target drive it alone. */
#include "cp_internal.h"

#include <string.h>

static const char *const status_names[] = {"Available", "Preparing", "Charging", "SuspendedEVSE",
                                           "Finishing", "Reserved", "Unavailable"};

const char *cp__status_name(cp_status s)
{
    return status_names[s];
}

void ec_cpsim_pace_default(ec_cpsim_pace_t *p)
{
    p->first_s = 10, p->session_s = 180, p->pause_s = 45, p->meter_s = 10;
}

/* xorshift64*: the same seed gives the same demo. */
uint64_t cp__rand(ec_cpsim_cp *cp)
{
    uint64_t x = cp->rng;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    cp->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

double cp__uniform(ec_cpsim_cp *cp, double lo, double hi)
{
    return lo + (hi - lo) * (double)(cp__rand(cp) >> 11) / 9007199254740992.0;
}

void cp__iso(int64_t ms, char *out, size_t n)
{
    ec_time_format_iso(ms / 1000, out, n);
}

void cp__event(ec_cpsim_cp *cp, ec_cpsim_event_kind kind, int k, const char *text, const char *text2)
{
    if (!cp->io.event) return;
    const cp_conn *c = &cp->c[k >= 0 && k <= cp->ch.n_conn ? k : 0];
    ec_cpsim_event_t ev = {kind, k, c->tx, c->token, c->power_w, c->meter_wh - c->meter_start_wh, c->soc,
                           ec_cpsim_cp_limit_w(cp, k, cp->now_ms), text, text2};
    if ((kind == EC_CPSIM_EV_LIMIT || kind == EC_CPSIM_EV_BOOT) && !isnan(cp->event_limit_w)) ev.limit_w = cp->event_limit_w;
    cp->event_limit_w = NAN;
    cp->io.event(cp->io.ctx, cp, &ev);
}

ec_err ec_cpsim_cp_new(const ec_cpsim_charger_t *ch, ec_cpsim_token_t *tokens, size_t n_tokens,
                       const ec_cpsim_pace_t *pace, uint64_t seed, const ec_cpsim_io *io, ec_cpsim_cp **out)
{
    *out = NULL;
    if (ch->n_conn < 1 || ch->n_conn > EC_CPSIM_MAX_CONN)
        return ec_fail(EC_ERANGE, "charger %s: %d connectors (1 to %d)", ch->id, ch->n_conn, EC_CPSIM_MAX_CONN);
    ec_cpsim_cp *cp = ec_calloc(1, sizeof *cp);
    if (!cp) return EC_ENOMEM;
    cp->ch = *ch;
    cp->tokens = tokens, cp->n_tokens = n_tokens;
    cp->pace = *pace;
    cp->io = *io;
    cp->rng = (seed ^ ec_hash_bytes(ch->id, strlen(ch->id))) | 1;
    cp->heartbeat_s = 300;
    cp->event_limit_w = NAN;
    cp->meter_s = pace->meter_s > 0 ? pace->meter_s : 10;
    ec_buf_init(&cp->out, EC_CPSIM_FRAME_MAX);
    /* The trucks: the built-in profiles, each able to charge at one of the connectors. */
    for (const char *const *n = ec_vehicle_profile_names(); *n && cp->n_trucks < CP_TRUCKS; n++) {
        ec_vehicle_profile v;
        if (ec_vehicle_profile_builtin(*n, &v)) continue;
        int fits = 0;
        for (int k = 0; k < ch->n_conn; k++) fits |= v.plug_max_w[ch->conn[k].plug] > 0;
        if (fits) cp->trucks[cp->n_trucks++] = v;
    }
    for (int k = 0; k <= ch->n_conn; k++) cp->c[k].status = ST_AVAILABLE, cp->c[k].token_i = -1;
    *out = cp;
    return EC_OK;
}

void ec_cpsim_cp_free(ec_cpsim_cp *cp)
{
    if (!cp) return;
    for (int i = 0; i < cp->q_len; i++) ec_free(cp->queue[i].payload);
    ec_buf_free(&cp->out);
    ec_free(cp);
}

const ec_cpsim_charger_t *ec_cpsim_cp_charger(const ec_cpsim_cp *cp)
{
    return &cp->ch;
}

void ec_cpsim_cp_stats(const ec_cpsim_cp *cp, ec_cpsim_stats_t *s)
{
    const ec_cpsim_stats_t *a = &cp->st;
    s->boots += a->boots, s->sessions_started += a->sessions_started, s->sessions_stopped += a->sessions_stopped;
    s->tokens_refused += a->tokens_refused, s->meter_values += a->meter_values;
    s->profiles_accepted += a->profiles_accepted, s->calls_answered += a->calls_answered;
    s->frames_refused += a->frames_refused, s->call_errors += a->call_errors, s->energy_wh += a->energy_wh;
}

double cp__profile_limit(const cp_profile *p, int64_t now_ms)
{
    if (!p->set || now_ms < p->start_ms) return INFINITY;
    int64_t el_s = (now_ms - p->start_ms) / 1000;
    if (p->dur_s > 0 && el_s >= p->dur_s) return INFINITY;
    double l = INFINITY;
    for (int i = 0; i < p->n && p->at_s[i] <= el_s; i++) l = p->limit_w[i];
    return l;
}

double ec_cpsim_cp_limit_w(const ec_cpsim_cp *cp, int k, int64_t now_ms)
{
    if (k < 1 || k > cp->ch.n_conn) return cp__profile_limit(&cp->cp_max_prof, now_ms);
    const cp_conn *c = &cp->c[k];
    double l = cp__profile_limit(&c->tx_prof, now_ms);
    if (!isfinite(l)) l = cp__profile_limit(&c->def_prof, now_ms);
    if (!isfinite(l)) l = cp__profile_limit(&cp->c[0].def_prof, now_ms);
    double m = cp__profile_limit(&cp->cp_max_prof, now_ms);
    return l < m ? l : m;
}

/* ---- our calls ---------------------------------------------------------------------------- */

static void queue_drop(ec_cpsim_cp *cp, int i)
{
    ec_free(cp->queue[i].payload);
    memmove(&cp->queue[i], &cp->queue[i + 1], (size_t)(cp->q_len - i - 1) * sizeof cp->queue[0]);
    cp->q_len--;
}

static ec_err queue_put(ec_cpsim_cp *cp, int at, const char *action, const char *payload, int connector, int essential)
{
    if (cp->q_len == CP_QUEUE_MAX) return EC_ELIMIT;
    char *p = ec_strdup(payload);
    if (!p) return EC_ENOMEM;
    memmove(&cp->queue[at + 1], &cp->queue[at], (size_t)(cp->q_len - at) * sizeof cp->queue[0]);
    cp_call *q = &cp->queue[at];
    snprintf(q->action, sizeof q->action, "%s", action);
    q->payload = p, q->connector = connector, q->essential = essential;
    cp->q_len++;
    return EC_OK;
}

ec_err cp__call(ec_cpsim_cp *cp, const char *action, const char *payload, int connector, int essential)
{
    /* A full queue (a hub that stopped answering) sheds what can be lost. */
    if (cp->q_len == CP_QUEUE_MAX && essential)
        for (int i = cp->q_len - 1; i > 0; i--)
            if (!cp->queue[i].essential) {
                queue_drop(cp, i);
                break;
            }
    return queue_put(cp, cp->q_len, action, payload, connector, essential);
}

void cp__send_pending(ec_cpsim_cp *cp)
{
    if (cp->in_flight || !cp->q_len || cp->boot == BOOT_OFFLINE) return;
    cp_call *q = &cp->queue[0];
    if (cp->boot != BOOT_ACCEPTED && strcmp(q->action, "BootNotification")) return;
    snprintf(cp->flight_uid, sizeof cp->flight_uid, "%llu", (unsigned long long)++cp->next_uid);
    ec_buf_reset(&cp->out);
    ec_buf_printf(&cp->out, "[2,\"%s\",\"%s\",%s]", cp->flight_uid, q->action, q->payload);
    if (ec_buf_error(&cp->out)) return;
    cp->in_flight = 1, cp->flight_sent_ms = cp->now_ms;
    if (cp->io.send) cp->io.send(cp->io.ctx, cp, cp->out.data, cp->out.len);
}

static void boot_call(ec_cpsim_cp *cp)
{
    char p[256];
    snprintf(p, sizeof p,
             "{\"chargePointVendor\":\"ecorridor\",\"chargePointModel\":\"cpsim\","
             "\"chargePointSerialNumber\":\"%.25s\",\"firmwareVersion\":\"1.0\"}",
             cp->ch.id);
    queue_put(cp, 0, "BootNotification", p, 0, 0);
    cp->boot = BOOT_SENT;
}

void ec_cpsim_cp_connected(ec_cpsim_cp *cp, int64_t now_ms)
{
    cp->now_ms = now_ms;
    cp->in_flight = 0;
    boot_call(cp);
    cp__send_pending(cp);
}

void ec_cpsim_cp_disconnected(ec_cpsim_cp *cp)
{
    /* Starts, stops and their meter readings wait for the next connection
     * (the hub knows them again when they are resent); the rest is told anew. */
    for (int i = cp->q_len - 1; i >= 0; i--)
        if (!cp->queue[i].essential) queue_drop(cp, i);
    for (int k = 1; k <= cp->ch.n_conn; k++)
        if (cp->c[k].phase == PH_AUTHORIZING) {
            cp__idle(cp, k);
            cp->c[k].status = ST_AVAILABLE;
        }
    cp->boot = BOOT_OFFLINE;
    cp->in_flight = 0;
}

void cp__queue_status(ec_cpsim_cp *cp, int k)
{
    cp_conn *c = &cp->c[k];
    char p[160], ts[32];
    cp__iso(cp->now_ms, ts, sizeof ts);
    snprintf(p, sizeof p, "{\"connectorId\":%d,\"errorCode\":\"NoError\",\"status\":\"%s\",\"timestamp\":\"%s\"}", k,
             cp__status_name(c->status), ts);
    c->sent_status = c->status;
    cp__call(cp, "StatusNotification", p, k, 0);
}

void cp__set_status(ec_cpsim_cp *cp, int k, cp_status s)
{
    cp_conn *c = &cp->c[k];
    c->status = s;
    if (cp->boot == BOOT_ACCEPTED && c->sent_status != s) cp__queue_status(cp, k);
}

void cp__queue_meter(ec_cpsim_cp *cp, int k)
{
    cp_conn *c = &cp->c[k];
    char p[640], ts[32];
    cp__iso(cp->now_ms, ts, sizeof ts);
    snprintf(p, sizeof p,
             "{\"connectorId\":%d,\"transactionId\":%lld,\"meterValue\":[{\"timestamp\":\"%s\",\"sampledValue\":["
             "{\"value\":\"%.0f\",\"context\":\"Sample.Periodic\",\"measurand\":\"Energy.Active.Import.Register\","
             "\"unit\":\"Wh\"},"
             "{\"value\":\"%.0f\",\"context\":\"Sample.Periodic\",\"measurand\":\"Power.Active.Import\",\"unit\":\"W\"},"
             "{\"value\":\"%.0f\",\"context\":\"Sample.Periodic\",\"measurand\":\"SoC\",\"location\":\"EV\","
             "\"unit\":\"Percent\"}]}]}",
             k, (long long)c->tx, ts, floor(c->meter_wh), floor(c->power_w), floor(c->soc * 100));
    if (cp__call(cp, "MeterValues", p, k, 0)) return;
    cp->st.meter_values++;
    cp__event(cp, EC_CPSIM_EV_METER, k, NULL, NULL);
}

/* ---- sessions ----------------------------------------------------------------------------- */

static void start_transaction(ec_cpsim_cp *cp, int k)
{
    cp_conn *c = &cp->c[k];
    char p[256], ts[32];
    cp__iso(cp->now_ms, ts, sizeof ts);
    c->meter_start_wh = floor(c->meter_wh);
    c->meter_wh = c->meter_start_wh;
    snprintf(p, sizeof p, "{\"connectorId\":%d,\"idTag\":\"%s\",\"meterStart\":%.0f,\"timestamp\":\"%s\"%s}", k,
             c->token, c->meter_start_wh, ts, c->res_id > 0 ? ",\"reservationId\":" : "");
    if (c->res_id > 0) {
        size_t n = strlen(p) - 1;
        snprintf(p + n, sizeof p - n, "%d}", c->res_id);
        c->res_id = 0;
    }
    c->phase = PH_RUNNING, c->tx = 0, c->stop_wanted = 0;
    c->started_ms = c->last_ms = cp->now_ms;
    /* Short top-ups and long charges: from 0.2 to 1.5 times the pace, so a
     * demo's first sessions end (and show CDRs) within its first minute. */
    c->ends_ms = cp->now_ms + (int64_t)(cp__uniform(cp, 0.2, 1.5) * cp->pace.session_s * 1000);
    c->next_meter_ms = cp->now_ms + cp->meter_s * 1000;
    c->power_w = 0;
    cp__call(cp, "StartTransaction", p, k, 1);
    cp__set_status(cp, k, ST_CHARGING);
}

void cp__idle(ec_cpsim_cp *cp, int k)
{
    cp_conn *c = &cp->c[k];
    c->phase = PH_IDLE;
    if (c->token_i >= 0 && (size_t)c->token_i < cp->n_tokens && cp->tokens[c->token_i].busy > 0)
        cp->tokens[c->token_i].busy--;
    c->token_i = -1;
}

int cp__begin(ec_cpsim_cp *cp, int k, const char *token, int authorized)
{
    cp_conn *c = &cp->c[k];
    if (c->phase != PH_IDLE || c->inoperative || !cp->n_trucks) return -1;
    if (!token) {
        /* A fleet token no other truck of this simulator holds now. */
        size_t i = cp->n_tokens ? (size_t)(cp__rand(cp) % cp->n_tokens) : 0, n = 0;
        while (n < cp->n_tokens && cp->tokens[i].busy) i = (i + 1) % cp->n_tokens, n++;
        if (n == cp->n_tokens) return -1;
        cp->tokens[i].busy++;
        c->token_i = (int)i;
        token = cp->tokens[i].uid;
    }
    snprintf(c->token, sizeof c->token, "%s", token);
    /* A truck that fits this connector's plug, arriving part empty, leaving part full. */
    int t = (int)(cp__rand(cp) % (uint64_t)cp->n_trucks);
    for (int i = 0; i < cp->n_trucks && cp->trucks[t].plug_max_w[cp->ch.conn[k - 1].plug] <= 0; i++)
        t = (t + 1) % cp->n_trucks;
    if (cp->trucks[t].plug_max_w[cp->ch.conn[k - 1].plug] <= 0) {
        cp__idle(cp, k);
        return -1;
    }
    c->truck = t;
    c->soc = cp__uniform(cp, 0.10, 0.40);
    c->soc_target = cp__uniform(cp, 0.75, 0.90);
    c->power_w = 0;
    cp__set_status(cp, k, ST_PREPARING);
    if (authorized) {
        start_transaction(cp, k);
    } else {
        char p[64];
        snprintf(p, sizeof p, "{\"idTag\":\"%s\"}", c->token);
        c->phase = PH_AUTHORIZING;
        cp__call(cp, "Authorize", p, k, 0);
    }
    return 0;
}

static void next_session(ec_cpsim_cp *cp, cp_conn *c)
{
    c->next_start_ms = cp->now_ms + (int64_t)(cp__uniform(cp, 0.5, 1.5) * cp->pace.pause_s * 1000);
}

void cp__end(ec_cpsim_cp *cp, int k, const char *reason)
{
    cp_conn *c = &cp->c[k];
    if (c->phase != PH_RUNNING) return;
    if (!c->tx) {
        /* The hub has not numbered it yet: stop when it has. */
        c->stop_wanted = 1;
        snprintf(c->stop_reason, sizeof c->stop_reason, "%s", reason);
        return;
    }
    char p[256], ts[32];
    cp__iso(cp->now_ms, ts, sizeof ts);
    snprintf(p, sizeof p, "{\"transactionId\":%lld,\"idTag\":\"%s\",\"meterStop\":%.0f,\"timestamp\":\"%s\",\"reason\":\"%s\"}",
             (long long)c->tx, c->token, floor(c->meter_wh), ts, reason);
    cp__call(cp, "StopTransaction", p, k, 1);
    c->power_w = 0;
    cp->st.sessions_stopped++;
    cp__event(cp, EC_CPSIM_EV_STOP, k, reason, NULL);
    cp__idle(cp, k);
    c->tx = 0;
    memset(&c->tx_prof, 0, sizeof c->tx_prof);
    cp__set_status(cp, k, ST_FINISHING);
    if (c->inoperative_after) c->inoperative = 1, c->inoperative_after = 0;
    cp__set_status(cp, k, c->inoperative ? ST_UNAVAILABLE : ST_AVAILABLE);
    next_session(cp, c);
}

/* Energy for the time since the last step at the power then; then the power
 * now: the truck's curve at its SoC, under the connector's limit, and all
 * connectors together under the charge point's. */
void cp__draw(ec_cpsim_cp *cp)
{
    double want[EC_CPSIM_MAX_CONN + 1] = {0}, sum = 0;
    for (int k = 1; k <= cp->ch.n_conn; k++) {
        cp_conn *c = &cp->c[k];
        if (c->phase != PH_RUNNING) continue;
        const ec_vehicle_profile *v = &cp->trucks[c->truck];
        double dt_h = (double)(cp->now_ms - c->last_ms) / 3.6e6;
        c->last_ms = cp->now_ms;
        if (dt_h > 0) {
            double e = c->power_w * dt_h;
            c->meter_wh += e;
            cp->st.energy_wh += e;
            c->soc += e * v->charge_eff / v->battery_wh;
            if (c->soc > 1) c->soc = 1;
        }
        double l = cp__profile_limit(&c->tx_prof, cp->now_ms);
        if (!isfinite(l)) l = cp__profile_limit(&c->def_prof, cp->now_ms);
        if (!isfinite(l)) l = cp__profile_limit(&cp->c[0].def_prof, cp->now_ms);
        double cap = cp->ch.conn[k - 1].max_w;
        if (l < cap) cap = l;
        /* ec_charge_power_w reads a limit <= 0 as none: a limit of 0 draws nothing. */
        want[k] = cap <= 0 ? 0 : ec_charge_power_w(v, cp->ch.conn[k - 1].plug, cap, c->soc);
        sum += want[k];
    }
    double m = cp__profile_limit(&cp->cp_max_prof, cp->now_ms);
    double f = sum > m ? (m > 0 ? m / sum : 0) : 1;
    for (int k = 1; k <= cp->ch.n_conn; k++) {
        cp_conn *c = &cp->c[k];
        if (c->phase != PH_RUNNING) continue;
        c->power_w = floor(want[k] * f);
        if (c->tx) cp__set_status(cp, k, c->power_w < 1 ? ST_SUSPENDED_EVSE : ST_CHARGING);
    }
}

void ec_cpsim_cp_tick(ec_cpsim_cp *cp, int64_t now_ms)
{
    if (now_ms < cp->now_ms) now_ms = cp->now_ms; /* a clock stepped back waits */
    cp->now_ms = now_ms;
    cp__draw(cp);
    if (cp->in_flight && now_ms - cp->flight_sent_ms > CP_CALL_TIMEOUT_MS) {
        /* No answer: the call is given up as if refused. */
        cp->in_flight = 0;
        if (cp->q_len) {
            cp__event(cp, EC_CPSIM_EV_ERROR, cp->queue[0].connector, cp->queue[0].action, "timeout");
            int k = cp->queue[0].connector;
            if (!strcmp(cp->queue[0].action, "StartTransaction") || !strcmp(cp->queue[0].action, "Authorize")) {
                cp__idle(cp, k);
                cp->c[k].tx = 0, cp->c[k].power_w = 0;
                cp__set_status(cp, k, ST_AVAILABLE);
                next_session(cp, &cp->c[k]);
            }
            queue_drop(cp, 0);
        }
    }
    if (cp->boot == BOOT_WAIT && now_ms >= cp->boot_retry_ms) boot_call(cp);
    if (cp->boot == BOOT_ACCEPTED) {
        for (int k = 1; k <= cp->ch.n_conn; k++) {
            cp_conn *c = &cp->c[k];
            if (c->status == ST_RESERVED && now_ms >= c->res_until_ms) {
                c->res_id = 0;
                cp__set_status(cp, k, ST_AVAILABLE);
            }
            if (c->phase == PH_IDLE && !c->inoperative && !cp->shutting_down && now_ms >= c->next_start_ms && cp->n_tokens &&
                cp->q_len < CP_QUEUE_MAX / 2) {
                if (cp__begin(cp, k, c->status == ST_RESERVED ? c->res_tag : NULL, 0)) next_session(cp, c);
            }
            if (c->phase == PH_RUNNING && c->tx && (c->soc >= c->soc_target || now_ms >= c->ends_ms))
                cp__end(cp, k, "EVDisconnected");
            if (c->phase == PH_RUNNING && c->tx && now_ms >= c->next_meter_ms) {
                c->next_meter_ms = now_ms + cp->meter_s * 1000;
                cp__queue_meter(cp, k);
            }
        }
        if (now_ms >= cp->next_heartbeat_ms) {
            cp->next_heartbeat_ms = now_ms + (int64_t)cp->heartbeat_s * 1000;
            cp__call(cp, "Heartbeat", "{}", 0, 0);
        }
    }
    cp__send_pending(cp);
}

/* ---- answers to our calls ----------------------------------------------------------------- */

static void on_result(ec_cpsim_cp *cp, const cp_call *q, const ec_json *pl)
{
    int k = q->connector;
    cp_conn *c = &cp->c[k];
    const ec_json *info = ec_json_get(pl, "idTagInfo");
    const char *status = ec_json_str(ec_json_get(info ? info : pl, "status"));
    if (!strcmp(q->action, "BootNotification")) {
        double iv = 0;
        ec_json_number(ec_json_get(pl, "interval"), &iv);
        if (iv >= 1 && iv <= 86400) cp->heartbeat_s = (int)iv;
        cp->event_limit_w = cp->heartbeat_s; /* a boot event carries the interval in limit_w */
        cp__event(cp, EC_CPSIM_EV_BOOT, 0, status ? status : "?", NULL);
        if (status && !strcmp(status, "Accepted")) {
            cp->boot = BOOT_ACCEPTED;
            cp->st.boots++;
            cp->next_heartbeat_ms = cp->now_ms + (int64_t)cp->heartbeat_s * 1000;
            for (int i = 0; i <= cp->ch.n_conn; i++) {
                cp__queue_status(cp, i);
                if (cp->c[i].phase == PH_IDLE && cp->c[i].next_start_ms < cp->now_ms)
                    cp->c[i].next_start_ms =
                        cp->now_ms + (int64_t)(cp__uniform(cp, 0.2, 1.0) * cp->pace.first_s * 1000);
            }
        } else {
            /* Pending or Rejected: ask again after the interval it gave (at least 10 s). */
            cp->boot = BOOT_WAIT;
            cp->boot_retry_ms = cp->now_ms + (int64_t)(iv >= 10 ? iv : 10) * 1000;
        }
    } else if (!strcmp(q->action, "Authorize") && c->phase == PH_AUTHORIZING) {
        if (status && !strcmp(status, "Accepted")) {
            start_transaction(cp, k);
        } else {
            cp->st.tokens_refused++;
            cp__event(cp, EC_CPSIM_EV_REFUSED, k, status ? status : "?", NULL);
            cp__idle(cp, k);
            cp__set_status(cp, k, ST_AVAILABLE);
            next_session(cp, c);
        }
    } else if (!strcmp(q->action, "StartTransaction") && c->phase == PH_RUNNING && !c->tx) {
        double tx = 0;
        if (ec_json_number(ec_json_get(pl, "transactionId"), &tx) || tx < 1 || tx > 9007199254740991.0) {
            cp__idle(cp, k);
            cp__set_status(cp, k, ST_AVAILABLE);
            next_session(cp, c);
            return;
        }
        c->tx = (int64_t)tx;
        cp->st.sessions_started++;
        cp__event(cp, EC_CPSIM_EV_START, k, status, NULL);
        if (!status || strcmp(status, "Accepted")) {
            cp->st.tokens_refused++;
            cp__end(cp, k, "DeAuthorized");
        } else if (c->stop_wanted) {
            cp__end(cp, k, c->stop_reason);
        }
    }
}

static void on_error(ec_cpsim_cp *cp, const cp_call *q, const char *code)
{
    int k = q->connector;
    cp_conn *c = &cp->c[k];
    cp->st.call_errors++;
    cp__event(cp, EC_CPSIM_EV_ERROR, k, q->action, code);
    if (!strcmp(q->action, "BootNotification")) {
        cp->boot = BOOT_WAIT;
        cp->boot_retry_ms = cp->now_ms + 30000;
    } else if ((!strcmp(q->action, "Authorize") && c->phase == PH_AUTHORIZING) ||
               (!strcmp(q->action, "StartTransaction") && c->phase == PH_RUNNING && !c->tx)) {
        cp__idle(cp, k);
        c->power_w = 0;
        cp__set_status(cp, k, ST_AVAILABLE);
        next_session(cp, c);
    }
}

/* The hub answered the call in flight: a CALLRESULT's payload, or a CALLERROR's code. */
void cp__answer(ec_cpsim_cp *cp, const ec_json *result, const char *error_code)
{
    cp_call q = cp->queue[0];
    cp->queue[0].payload = NULL;
    queue_drop(cp, 0);
    cp->in_flight = 0;
    if (result) on_result(cp, &q, result);
    else on_error(cp, &q, error_code);
    ec_free(q.payload);
}

int cp__in_flight(const ec_cpsim_cp *cp, const char *uid)
{
    return cp->in_flight && cp->q_len && !strcmp(uid, cp->flight_uid);
}

int ec_cpsim_cp_shutdown(ec_cpsim_cp *cp)
{
    cp->shutting_down = 1;
    cp__draw(cp);
    for (int k = 1; k <= cp->ch.n_conn; k++) cp__end(cp, k, "Local");
    cp__send_pending(cp);
    return cp->q_len;
}

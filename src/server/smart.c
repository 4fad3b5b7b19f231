/* smart.c - the OCPP side of the power sharing (see smart.h).
 *
 * Everything the engine decides (ec_share.h) it decides from events this
 * file gives it, each written to the journal in the loop turn's write
 * before the engine sees it; every command it answers with is journaled
 * too, and its frame waits for the turn's commit like a reply. What stays
 * here is OCPP: reading the register into typed power (model/), the unit
 * a charger takes its limits in, and one call at a time per charger. */
#include "smart.h"
#include "grid_history.h"

#include "ecorridor/ec_json.h"
#include "ecorridor/ec_power.h"
#include "ecorridor/ec_share.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#define WAKE_MS 1000      /* the loop wakes at least this often, for control intervals */
#define REFRESH_MS 1000   /* the register is looked at again at most this often */
#define REFRESH_SLICE 8   /* documents read again per loop turn */
#define TX_PROFILE_ID 1000 /* + connector */
#define CP_PROFILE_ID 1

typedef struct {
    char id[EC_CP_ID_MAX + 1];
    uint64_t serial;
    int unit_a;               /* limits in A: the charger's ChargingScheduleAllowedChargingRateUnit, else
                               * the register's charging_rate_unit */
    int unit_asked;           /* 0: not yet, 1: asking, 2: answered */
    double volts, phases;
    int has_pending;          /* a command of the engine waiting for the charger to be free */
    ec_share_cmd_t pending;
    uint32_t epoch, call_epoch; /* an answer to a call of an older epoch is not the engine's any more */
} sm_cp;

struct smart {
    uv_loop_t *loop;
    ec_store *store;
    smart_io io;
    ec_share *eng;
    ec_vec cps;               /* sm_cp */
    ec_map by_cp;
    ec_vec out;               /* ec_share_cmd_t: commands to journal and send */
    size_t out_head;
    int draining;
    ec_buf jbuf;
    int64_t gen_seen, gen_checked_ms;
    int passing;              /* a pass over the register's documents under way */
    size_t pass_site, pass_sub;
    uv_timer_t timer;
    int timer_open;
    smart_stats_t stats;
    history *hist;            /* each substation's minutes (grid_history.h) */
    int64_t sampled_min;      /* the minute last sampled */
    size_t subs_sampled;      /* the substations the engine knew then */
    int hist_full_logged;
};

static uint64_t h(const char *s)
{
    return ec_hash_bytes(s, strlen(s));
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the journal and the engine ------------------------------------------------------- */

/* 0 when the row is in the turn's write. */
static int journal(smart *m, int64_t t_ms, int command, const char *kind, const char *data)
{
    if (m->io.begin_write(m->io.ctx) || ec_store_journal_append(m->store, t_ms, command, kind, data)) {
        m->stats.journal_failures++;
        ec_log(EC_LOG_ERROR, "smart: the journal lost a %s: %s", kind, ec_errmsg());
        return -1;
    }
    return 0;
}

static void on_cmd(void *ctx, const ec_share_cmd_t *c)
{
    smart *m = ctx;
    if (ec_vec_push(&m->out, c)) ec_log(EC_LOG_ERROR, "smart: a command dropped (out of memory)");
}

static void drain(smart *m);
static void on_wake(uv_timer_t *t);

/* Journals ev (stamped now) and gives it to the engine. */
static void feed(smart *m, ec_share_event_t *ev)
{
    ev->t_ms = now_ms();
    ec_buf_reset(&m->jbuf);
    if (!ec_share_event_json(ev, &m->jbuf)) {
        journal(m, ev->t_ms, 0, ec_share_event_name(ev->kind), m->jbuf.data);
    } else { /* the engine still gets it: the chargers come first, the replay will say so */
        m->stats.journal_failures++;
        ec_log(EC_LOG_ERROR, "smart: a %s event too large for the journal", ec_share_event_name(ev->kind));
    }
    if (ec_share_feed(m->eng, ev)) ec_log(EC_LOG_WARN, "smart: the engine refused a %s event", ec_share_event_name(ev->kind));
    drain(m);
}

static sm_cp *cp_state(smart *m, const char *id, int make)
{
    uint64_t v;
    if (ec_map_get(&m->by_cp, h(id), &v) && v && !strcmp(EC_VEC_AT(&m->cps, sm_cp, v - 1).id, id))
        return &EC_VEC_AT(&m->cps, sm_cp, v - 1);
    if (!make) return NULL;
    sm_cp c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    c.volts = 230, c.phases = 3;
    if (ec_vec_push(&m->cps, &c)) return NULL;
    ec_map_put(&m->by_cp, h(id), m->cps.len);
    return &EC_VEC_AT(&m->cps, sm_cp, m->cps.len - 1);
}

static void result(smart *m, const char *cp, int accepted)
{
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = EC_SE_RESULT, ev.accepted = accepted;
    snprintf(ev.cp, sizeof ev.cp, "%s", cp);
    feed(m, &ev);
}

/* ---- limits to chargers ------------------------------------------------------------------ */

static void on_profile_done(void *ctx, const char *cp, uint64_t serial, const char *status, const ec_json *payload);
static void on_config_done(void *ctx, const char *cp, uint64_t serial, const char *status, const ec_json *payload);

/* The charger's own settings: the unit of its limits and, for amperes, its voltage and phases. */
static void cp_config(smart *m, sm_cp *c)
{
    ec_buf b;
    ec_buf_init(&b, EC_REG_DOC_MAX);
    ec_json *j = NULL;
    c->unit_a = 0, c->volts = 230, c->phases = 3;
    if (!ec_store_charger_get(m->store, c->id, &b, NULL) && !ec_json_load_buf(b.data, b.len, "charger", &j)) {
        const char *u = ec_json_str(ec_json_get(j, "charging_rate_unit"));
        double v;
        c->unit_a = u && !strcmp(u, "A");
        if (!ec_json_number(ec_json_get(j, "voltage_v"), &v)) c->volts = v;
        if (!ec_json_number(ec_json_get(j, "phases"), &v)) c->phases = v;
    }
    ec_json_free(j);
    ec_buf_free(&b);
}

/* Sends c's waiting limit when the charger is free: first, once per connection, the question
 * which unit it takes limits in (OCPP 1.6 ChargingScheduleAllowedChargingRateUnit). */
static void try_send(smart *m, sm_cp *c)
{
    if (!c->has_pending || !m->io.ready(m->io.ctx, c->id, c->serial)) return;
    char why[256];
    if (c->unit_asked == 0) {
        ec_json *pl = NULL;
        c->unit_asked = 1, c->call_epoch = c->epoch;
        if (!ec_json_load_str("{\"key\":[\"ChargingScheduleAllowedChargingRateUnit\"]}", "config", &pl) &&
            !m->io.call(m->io.ctx, c->id, "GetConfiguration", pl, on_config_done, m, why, sizeof why)) {
            ec_json_free(pl);
            return;
        }
        ec_json_free(pl);
        c->unit_asked = 2; /* the register's unit, then */
    }
    if (c->unit_asked == 1) return;
    const ec_share_cmd_t *cmd = &c->pending;
    double w = cmd->limit_w;
    double limit = c->unit_a ? floor(w / (c->volts * c->phases) * 10) / 10 : floor(w);
    char now[32];
    ec_time_format_iso(cmd->t_ms / 1000, now, sizeof now);
    ec_buf b;
    ec_buf_init(&b, 4096);
    ec_jw j;
    ec_jw_init(&j, &b);
    ec_jw_obj_begin(&j);
    ec_jw_key(&j, "connectorId"), ec_jw_int(&j, cmd->connector);
    ec_jw_key(&j, "csChargingProfiles"), ec_jw_obj_begin(&j);
    ec_jw_key(&j, "chargingProfileId"), ec_jw_int(&j, cmd->tx ? TX_PROFILE_ID + cmd->connector : CP_PROFILE_ID);
    if (cmd->tx) ec_jw_key(&j, "transactionId"), ec_jw_int(&j, cmd->tx);
    ec_jw_key(&j, "stackLevel"), ec_jw_int(&j, 1);
    ec_jw_key(&j, "chargingProfilePurpose"), ec_jw_str(&j, cmd->tx ? "TxProfile" : "ChargePointMaxProfile");
    ec_jw_key(&j, "chargingProfileKind"), ec_jw_str(&j, "Absolute");
    ec_jw_key(&j, "chargingSchedule"), ec_jw_obj_begin(&j);
    ec_jw_key(&j, "startSchedule"), ec_jw_str(&j, now);
    ec_jw_key(&j, "chargingRateUnit"), ec_jw_str(&j, c->unit_a ? "A" : "W");
    ec_jw_key(&j, "chargingSchedulePeriod"), ec_jw_arr_begin(&j), ec_jw_obj_begin(&j);
    ec_jw_key(&j, "startPeriod"), ec_jw_int(&j, 0);
    ec_jw_key(&j, "limit"), ec_jw_num(&j, limit, 1);
    ec_jw_obj_end(&j), ec_jw_arr_end(&j);
    ec_jw_obj_end(&j), ec_jw_obj_end(&j), ec_jw_obj_end(&j);
    ec_json *pl = NULL;
    ec_err rc = ec_json_load_buf(b.data, b.len, "profile", &pl);
    c->has_pending = 0, c->call_epoch = c->epoch;
    if (!rc) rc = m->io.call(m->io.ctx, c->id, "SetChargingProfile", pl, on_profile_done, m, why, sizeof why);
    ec_json_free(pl);
    ec_buf_free(&b);
    if (rc) {
        ec_log(EC_LOG_WARN, "smart: %s: SetChargingProfile not sent: %s", c->id, rc == EC_EINVAL ? why : ec_errmsg());
        result(m, c->id, 0); /* the engine must not wait for an answer that will not come */
        return;
    }
    m->stats.profiles_sent++;
}

static void on_config_done(void *ctx, const char *cp, uint64_t serial, const char *status, const ec_json *payload)
{
    (void)status;
    smart *m = ctx;
    sm_cp *c = cp_state(m, cp, 0);
    if (!c || c->unit_asked != 1 || c->serial != serial) return;
    c->unit_asked = 2;
    ec_json *keys = ec_json_get(payload, "configurationKey");
    for (size_t i = 0; i < ec_json_array_size(keys); i++) {
        ec_json *k = ec_json_array_get(keys, i);
        const char *name = ec_json_str(ec_json_get(k, "key")), *v = ec_json_str(ec_json_get(k, "value"));
        if (!name || strcmp(name, "ChargingScheduleAllowedChargingRateUnit") || !v) continue;
        /* "Current", "Power" or both: watts when it takes them. */
        if (strstr(v, "Power")) c->unit_a = 0;
        else if (strstr(v, "Current")) c->unit_a = 1;
    }
}

static void on_profile_done(void *ctx, const char *cp, uint64_t serial, const char *status, const ec_json *payload)
{
    (void)payload;
    smart *m = ctx;
    sm_cp *c = cp_state(m, cp, 0);
    if (!c || c->call_epoch != c->epoch || c->serial != serial) return; /* the engine forgot that call */
    /* No status: a timeout, an error or the connection gone; the charger may have applied it. */
    int ok = !status ? -1 : !strcmp(status, "Accepted");
    if (ok == 1) {
        m->stats.profiles_accepted++;
    } else {
        m->stats.profiles_refused++;
        ec_log(EC_LOG_WARN, "smart: %s answered SetChargingProfile %s", c->id, status ? status : "with an error or not at all");
    }
    result(m, c->id, ok);
}

void smart__idle(smart *m, const char *cp)
{
    sm_cp *c = m ? cp_state(m, cp, 0) : NULL;
    if (c) try_send(m, c);
}

/* Journals and carries out the engine's commands, in order. */
static void drain(smart *m)
{
    if (m->draining) return;
    m->draining = 1;
    while (m->out_head < m->out.len) {
        ec_share_cmd_t cmd = EC_VEC_AT(&m->out, ec_share_cmd_t, m->out_head++);
        ec_buf_reset(&m->jbuf);
        int kept = !ec_share_cmd_json(&cmd, &m->jbuf) && !journal(m, cmd.t_ms, 1, ec_share_cmd_name(cmd.kind), m->jbuf.data);
        if (cmd.kind != EC_SC_LIMIT) continue; /* a price: the journal is where it is published */
        if (!kept) { /* a charger gets no command the journal does not have: the engine hears "refused" */
            result(m, cmd.cp, 0);
            continue;
        }
        sm_cp *c = cp_state(m, cmd.cp, 1);
        if (!c || !m->io.connected(m->io.ctx, cmd.cp)) {
            result(m, cmd.cp, 0); /* gone: its going away reaches the engine too */
            continue;
        }
        c->pending = cmd, c->has_pending = 1;
        try_send(m, c);
    }
    m->out.len = 0, m->out_head = 0;
    m->draining = 0;
}

/* ---- the register -------------------------------------------------------------------------- */

static ec_err load_doc(ec_store *s, ec_kind k, const char *id, ec_json **out)
{
    ec_buf b;
    ec_buf_init(&b, EC_REG_DOC_MAX);
    ec_err rc = ec_store_get(s, k, id, &b);
    if (!rc) rc = ec_json_load_buf(b.data, b.len, "register", out);
    ec_buf_free(&b);
    return rc;
}

static ec_err add_renewable(void *ctx, const char *doc, size_t len)
{
    ec_json *j;
    if (ec_json_load_buf(doc, len, "renewable", &j)) return EC_OK;
    if (!ec_substation_power_add_renewable(ctx, j))
        ec_log(EC_LOG_WARN, "smart: renewable %s left out of its substation's sum (its interval differs)",
               ec_json_str(ec_json_get(j, "id")) ? ec_json_str(ec_json_get(j, "id")) : "?");
    ec_json_free(j);
    return EC_OK;
}

/* The register's power of substation id, with the renewables behind it. */
static ec_err read_substation(smart *m, const char *id, ec_substation_power_t *out)
{
    ec_json *j = NULL;
    ec_err rc = load_doc(m->store, EC_KIND_SUBSTATION, id, &j);
    if (!rc) rc = ec_substation_power_read(j, out);
    ec_json_free(j);
    if (rc) return rc;
    ec_store_filter_t f;
    memset(&f, 0, sizeof f);
    f.substation_id = id;
    f.limit = -1;
    int64_t total;
    return ec_store_list(m->store, EC_KIND_RENEWABLE, &f, add_renewable, out, &total);
}

static ec_err read_site(smart *m, const char *id, ec_site_power_t *out)
{
    ec_json *j = NULL;
    ec_err rc = load_doc(m->store, EC_KIND_SITE, id, &j);
    if (!rc) rc = ec_site_power_read(j, out);
    ec_json_free(j);
    return rc;
}

static void feed_substation(smart *m, const char *id, int only_changed)
{
    ec_substation_power_t p;
    memset(&p, 0, sizeof p);
    if (!read_substation(m, id, &p)) {
        const ec_substation_power_t *now = ec_share_substation(m->eng, id);
        if (!only_changed || !now || !ec_substation_power_equal(now, &p)) {
            ec_share_event_t ev;
            memset(&ev, 0, sizeof ev);
            ev.kind = EC_SE_SUBSTATION, ev.substation_power = &p;
            feed(m, &ev);
        }
    }
    ec_substation_power_free(&p);
}

static void feed_site(smart *m, const char *id, int only_changed)
{
    ec_site_power_t p;
    memset(&p, 0, sizeof p);
    if (!read_site(m, id, &p)) {
        const ec_site_power_t *now = ec_share_site(m->eng, id);
        /* The engine keeps a site in the group it first saw it in (docs/engine.md): a new
         * substation_id is no change to it until a restart. */
        if (now) snprintf(p.substation_id, sizeof p.substation_id, "%s", now->substation_id);
        if (p.substation_id[0] && !ec_share_substation(m->eng, p.substation_id)) feed_substation(m, p.substation_id, 0);
        if (!only_changed || !now || !ec_site_power_equal(now, &p)) {
            ec_share_event_t ev;
            memset(&ev, 0, sizeof ev);
            ev.kind = EC_SE_SITE, ev.site_power = &p;
            feed(m, &ev);
        }
    }
    ec_site_power_free(&p);
}

/* The engine learns a site (and its substation) the first time it is needed. */
static void ensure_site(smart *m, const char *id)
{
    if (id && *id && !ec_share_site(m->eng, id)) feed_site(m, id, 0);
}

/* A pass over the sites and substations the engine knows, a slice per loop turn, started when
 * the register changed: what changed is given to the engine. */
static void refresh(smart *m)
{
    int64_t ms = (int64_t)uv_now(m->loop);
    if (!m->passing && ms - m->gen_checked_ms >= REFRESH_MS) {
        m->gen_checked_ms = ms;
        int64_t gen = ec_store_generation(m->store);
        if (gen != m->gen_seen) m->gen_seen = gen, m->passing = 1, m->pass_site = 0, m->pass_sub = 0;
    }
    if (!m->passing) return;
    char id[EC_REG_ID_MAX + 1];
    for (int k = 0; k < REFRESH_SLICE; k++) {
        const char *s = ec_share_site_at(m->eng, m->pass_site);
        if (s) {
            snprintf(id, sizeof id, "%s", s);
            m->pass_site++;
            feed_site(m, id, 1);
            continue;
        }
        s = ec_share_substation_at(m->eng, m->pass_sub);
        if (!s) {
            m->passing = 0;
            return;
        }
        snprintf(id, sizeof id, "%s", s);
        m->pass_sub++;
        feed_substation(m, id, 1);
    }
}

/* ---- the grid's minutes ---------------------------------------------------------------------------- */

/* Keeps what each substation the engine knows draws and may draw at t_ms, as its allocation
 * answer says it (the engine's own figures: no second computation). */
static void sample(smart *m, int64_t t_ms)
{
    const char *id;
    size_t i;
    for (i = 0; m->hist && (id = ec_share_substation_at(m->eng, i)); i++) {
        ec_share_sample_t s;
        if (ec_share_group_sample(m->eng, id, t_ms, &s)) continue; /* no site of it known yet */
        history_point p = {t_ms / 60000 * 60, (float)(s.allocated_w / 1000), (float)(s.held_w / 1000),
                           (float)(s.headroom_w / 1000), (float)(s.base_load_w / 1000), (float)(s.renewables_w / 1000)};
        ec_err rc = history__add(m->hist, id, &p);
        if (rc == EC_ELIMIT && !m->hist_full_logged) {
            m->hist_full_logged = 1;
            ec_log(EC_LOG_WARN, "smart: the load of more than %d substations is not kept (%s and others)",
                   HISTORY_SUBSTATIONS_MAX, id);
        }
    }
    m->subs_sampled = i;
}

const history *smart__history(const smart *m)
{
    return m ? m->hist : NULL;
}

/* ---- the hub's events ------------------------------------------------------------------------- */

void smart__run(smart *m)
{
    if (!m) return;
    refresh(m);
    int64_t t = now_ms();
    /* Once a minute, on the loop's turn that finds the minute changed (the wake timer makes one
     * at least every second); and at once when the engine learnt a substation, so that its
     * history starts when its first charger connects, not up to a minute later. */
    if (t / 60000 != m->sampled_min || ec_share_substation_at(m->eng, m->subs_sampled)) {
        m->sampled_min = t / 60000;
        sample(m, t);
    }
    if (ec_share_due(m->eng, t)) {
        ec_share_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = EC_SE_TICK;
        feed(m, &ev);
        /* A tick allocates a few groups; the loop comes round again at once for the rest. */
        if (m->timer_open && ec_share_due(m->eng, ev.t_ms)) uv_timer_start(&m->timer, on_wake, 0, WAKE_MS);
    }
}

void smart__tx(smart *m, const char *evse_uid, const ec_tx_t *tx, int event)
{
    if (!m) return;
    double had = 0;
    int known = ec_share_tx(m->eng, tx->id, &had);
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.tx = tx->id;
    if (event == SMART_START) {
        if (known) return;
        ensure_site(m, tx->site_id);
        ev.kind = EC_SE_TX_START, ev.connector = tx->connector, ev.start_s = tx->start_s;
        snprintf(ev.cp, sizeof ev.cp, "%s", tx->charge_point);
        snprintf(ev.site, sizeof ev.site, "%s", tx->site_id);
        if (evse_uid && tx->connector >= 0 && tx->connector <= EC_SHARE_MAX_CONNECTORS)
            snprintf(ev.evse_uid[tx->connector], sizeof ev.evse_uid[0], "%s", evse_uid);
        ev.delivered_wh = tx->last_register_wh >= 0 ? (double)(tx->last_register_wh - tx->meter_start_wh) : 0;
        ev.requested_wh = -1;
        if (ec_store_plan_get(m->store, tx->id, &ev.requested_wh, &ev.departure_s)) ev.requested_wh = -1, ev.departure_s = 0;
        feed(m, &ev);
        return;
    }
    if (!known) return;
    if (event == SMART_STOP || tx->stopped) {
        /* The stop's own reading first, so that the journal holds a session's whole energy,
         * as its CDR does (the KPIs read it there). */
        double fin = tx->stopped ? (double)(tx->meter_stop_wh - tx->meter_start_wh) : had;
        if (fin > had) {
            ev.kind = EC_SE_TX_METER, ev.delivered_wh = fin;
            feed(m, &ev);
            memset(&ev, 0, sizeof ev);
            ev.tx = tx->id;
        }
        ev.kind = EC_SE_TX_STOP;
        feed(m, &ev);
        return;
    }
    double d = tx->last_register_wh >= 0 ? (double)(tx->last_register_wh - tx->meter_start_wh) : had;
    if (d == had) return;
    ev.kind = EC_SE_TX_METER, ev.delivered_wh = d;
    feed(m, &ev);
}

void smart__cp(smart *m, const char *cp, uint64_t serial, const char *site_id,
               char (*evse_uid)[EC_REG_ID_MAX + 1], int up)
{
    if (!m) return;
    if (!up && !ec_share_cp(m->eng, cp, NULL)) return;
    sm_cp *c = cp_state(m, cp, up);
    if (!c) return;
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.cp, sizeof ev.cp, "%s", cp);
    if (up) {
        ensure_site(m, site_id);
        c = cp_state(m, cp, 0);
        if (c->serial != serial) {
            c->serial = serial, c->unit_asked = 0;
            cp_config(m, c);
        }
        ev.kind = EC_SE_CP_UP, ev.serial = serial;
        snprintf(ev.site, sizeof ev.site, "%s", site_id ? site_id : "");
        for (int i = 0; evse_uid && i <= EC_SHARE_MAX_CONNECTORS; i++)
            snprintf(ev.evse_uid[i], sizeof ev.evse_uid[i], "%s", evse_uid[i]);
    } else {
        ev.kind = EC_SE_CP_DOWN;
    }
    feed(m, &ev);
    c = cp_state(m, cp, 0);
    int waiting = 0;
    ec_share_cp(m->eng, cp, &waiting);
    if (c && !waiting) c->has_pending = 0, c->epoch++; /* what was out to it is forgotten */
}

int smart__status(smart *m, const char *cp, int connector, const char *status, const char *error_code)
{
    if (!m || !status || !*status) return 0;
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = EC_SE_STATUS, ev.connector = connector;
    snprintf(ev.cp, sizeof ev.cp, "%s", cp);
    snprintf(ev.status, sizeof ev.status, "%s", status);
    snprintf(ev.error_code, sizeof ev.error_code, "%s", error_code ? error_code : "");
    int64_t failures = m->stats.journal_failures;
    feed(m, &ev);
    return m->stats.journal_failures == failures;
}

ec_err smart__plan(smart *m, int64_t tx_id, double requested_wh, int64_t departure_s)
{
    if (!m || !ec_share_tx(m->eng, tx_id, NULL)) return EC_ENOTFOUND;
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = EC_SE_PLAN, ev.tx = tx_id, ev.requested_wh = requested_wh, ev.departure_s = departure_s;
    feed(m, &ev);
    return EC_OK;
}

/* ---- life ------------------------------------------------------------------------------------- */

static void on_wake(uv_timer_t *t)
{
    (void)t; /* the loop's turn ends with smart__run */
}

static ec_err resume(void *ctx, const ec_tx_t *tx)
{
    if (!tx->stopped) smart__tx(ctx, NULL, tx, SMART_START);
    return EC_OK;
}

/* The engine starts from nothing but what the store holds: a reset (journaled, so a replay starts
 * over there too), then the sessions still running (their EVSE's power is learnt when their
 * charger is back; until then the default). Chargers are learnt as they connect or boot. */
static ec_err start_over(smart *m)
{
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = EC_SE_RESET;
    m->out.len = 0, m->out_head = 0;
    for (size_t i = 0; i < m->cps.len; i++) {
        sm_cp *c = &EC_VEC_AT(&m->cps, sm_cp, i);
        c->has_pending = 0, c->epoch++, c->serial = 0; /* answers to what was out are not the engine's */
    }
    feed(m, &ev);
    ec_session_filter_t f;
    memset(&f, 0, sizeof f);
    f.live = 1, f.limit = -1;
    int64_t total;
    return ec_store_tx_list(m->store, &f, resume, m, &total);
}

void smart__reset(smart *m)
{
    if (!m) return;
    ec_log(EC_LOG_WARN, "smart: the power sharing starts over from the store");
    if (start_over(m)) ec_log(EC_LOG_ERROR, "smart: the running sessions could not be read again: %s", ec_errmsg());
}

ec_err smart__new(uv_loop_t *loop, ec_store *store, const smart_io *io, smart **out)
{
    smart *m = ec_calloc(1, sizeof *m);
    if (!m) return EC_ENOMEM;
    m->loop = loop, m->store = store, m->io = *io;
    ec_vec_init(&m->cps, sizeof(sm_cp));
    ec_vec_init(&m->out, sizeof(ec_share_cmd_t));
    ec_buf_init(&m->jbuf, 4u << 20);
    m->gen_seen = ec_store_generation(store);
    ec_err rc = ec_map_init(&m->by_cp, 64);
    if (!rc) rc = history__new(&m->hist);
    if (!rc) rc = ec_share_new(on_cmd, m, &m->eng);
    if (!rc) rc = start_over(m);
    if (!rc && uv_timer_init(loop, &m->timer) == 0) {
        m->timer.data = m;
        m->timer_open = 1;
        uv_timer_start(&m->timer, on_wake, WAKE_MS, WAKE_MS);
        uv_unref((uv_handle_t *)&m->timer);
    }
    if (rc) {
        smart__free(m);
        return rc;
    }
    *out = m;
    return EC_OK;
}

void smart__stop(smart *m)
{
    if (m && m->timer_open) {
        uv_timer_stop(&m->timer);
        uv_close((uv_handle_t *)&m->timer, NULL);
        m->timer_open = 0;
    }
}

void smart__free(smart *m)
{
    if (!m) return;
    ec_share_free(m->eng);
    history__free(m->hist);
    ec_vec_free(&m->cps);
    ec_vec_free(&m->out);
    ec_map_free(&m->by_cp);
    ec_buf_free(&m->jbuf);
    ec_free(m);
}

smart_stats_t smart__stats(const smart *m)
{
    smart_stats_t z;
    memset(&z, 0, sizeof z);
    if (!m) return z;
    z = m->stats;
    z.allocations = ec_share_stats(m->eng).allocations;
    return z;
}

/* ---- queries ------------------------------------------------------------------------------------ */

ec_err smart__json(smart *m, const char *site_id, const char *substation_id, ec_buf *out)
{
    if (!m) return EC_ENOTFOUND;
    if (site_id) ensure_site(m, site_id);
    return ec_share_group_json(m->eng, site_id, substation_id, now_ms(), out);
}

ec_err smart__price_now(smart *m, const char *site_id, int64_t t_s, double *price_per_kwh)
{
    if (!m) return EC_ENOTFOUND;
    ensure_site(m, site_id);
    return ec_share_price(m->eng, site_id, t_s, price_per_kwh);
}

ec_err smart__prices_json(smart *m, const char *site_id, int slot_s, int n_slots, ec_buf *out)
{
    if (!m) return EC_ENOTFOUND;
    ensure_site(m, site_id);
    return ec_share_prices_json(m->eng, site_id, now_ms(), slot_s, n_slots, out);
}

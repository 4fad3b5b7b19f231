/* kpi.c - the journal read as the region's figures (docs/kpi.md).
 *
 * Each port keeps the stretches it was out, with their cause; each session
 * its readings; each site how long all its points were busy and the waits
 * of its queue. The figures are summed per port when the period closes, and
 * the groups above a port are sums of their ports, so a site's figures and
 * its ports' always agree. */
#include "kpi_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t h(const char *s)
{
    return ec_hash_bytes(s, strlen(s));
}

static int64_t clip(int64_t a, int64_t b, int64_t lo, int64_t hi)
{
    if (a < lo) a = lo;
    if (b > hi) b = hi;
    return b > a ? b - a : 0;
}

static void step_range(const ec_kpi *k, int64_t a, int64_t b, size_t *i0, size_t *i1);
static kpi_step *step_at(ec_kpi *k, const kpi_port *p, size_t i);

/* Port p's plugged-in time [a, b), in the period and in its steps. */
static void add_plugged(ec_kpi *k, kpi_port *p, int64_t a, int64_t b)
{
    p->plugged_ms += clip(a, b, k->c.from_ms, k->c.to_ms);
    if (p->step0 < 0) return;
    size_t i0, i1;
    step_range(k, a, b, &i0, &i1);
    for (size_t i = i0; i < i1; i++) {
        int64_t sa, sb;
        kpi__step_span(k, i, &sa, &sb);
        step_at(k, p, i)->plugged_ms += clip(a, b, sa, sb);
    }
}

/* ---- steps ------------------------------------------------------------------------------ */

void kpi__step_span(const ec_kpi *k, size_t i, int64_t *a, int64_t *b)
{
    *a = k->c.from_ms + (int64_t)i * k->c.step_ms;
    *b = *a + k->c.step_ms < k->c.to_ms ? *a + k->c.step_ms : k->c.to_ms;
}

static kpi_step *step_at(ec_kpi *k, const kpi_port *p, size_t i)
{
    return &EC_VEC_AT(&k->steps, kpi_step, (size_t)p->step0 + i);
}

/* The steps [a, b) reaches into: [*i0, *i1). */
static void step_range(const ec_kpi *k, int64_t a, int64_t b, size_t *i0, size_t *i1)
{
    int64_t lo = a > k->c.from_ms ? a : k->c.from_ms, hi = b < k->c.to_ms ? b : k->c.to_ms;
    *i0 = *i1 = 0;
    if (hi <= lo) return;
    *i0 = (size_t)((lo - k->c.from_ms) / k->c.step_ms);
    *i1 = (size_t)((hi - 1 - k->c.from_ms) / k->c.step_ms) + 1;
    if (*i1 > k->n_steps) *i1 = k->n_steps;
}

/* ---- lookups ---------------------------------------------------------------------------- */

int kpi__find_cp(const ec_kpi *k, const char *id)
{
    uint64_t v;
    if (!ec_map_get(&k->by_cp, h(id), &v) || !v) return -1;
    return strcmp(KCP(k, v - 1)->id, id) ? -1 : (int)v - 1;
}

static int find_site(const ec_kpi *k, const char *id)
{
    uint64_t v;
    if (!ec_map_get(&k->by_site, h(id), &v) || !v) return -1;
    return strcmp(KSITE(k, v - 1)->id, id) ? -1 : (int)v - 1;
}

static int find_tx(const ec_kpi *k, int64_t tx)
{
    uint64_t v;
    return ec_map_get(&k->by_tx, (uint64_t)tx, &v) && v ? (int)v - 1 : -1;
}

static int site_of(ec_kpi *k, const char *id, int64_t t)
{
    int i = find_site(k, id);
    if (i >= 0) return i;
    kpi_site s;
    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "%s", id);
    s.first_ms = s.since_ms = t;
    ec_vec_init(&s.waits, sizeof(double));
    if (ec_vec_push(&k->sites, &s) || ec_map_put(&k->by_site, h(id), k->sites.len)) return -1;
    return (int)k->sites.len - 1;
}

static int cp_of(ec_kpi *k, const char *id, const char *site, int64_t t)
{
    int i = kpi__find_cp(k, id);
    if (i >= 0) {
        if (site && site[0] && KCP(k, i)->site < 0) KCP(k, i)->site = site_of(k, site, t);
        return i;
    }
    kpi_cp c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    c.site = site && site[0] ? site_of(k, site, t) : -1;
    for (int j = 0; j <= EC_SHARE_MAX_CONNECTORS; j++) c.port[j] = -1;
    if (ec_vec_push(&k->cps, &c) || ec_map_put(&k->by_cp, h(id), k->cps.len)) return -1;
    return (int)k->cps.len - 1;
}

/* ---- out time --------------------------------------------------------------------------- */

static int status_cause(const char *s)
{
    if (!strcmp(s, "Faulted")) return KPI_OUT_FAULT;
    if (!strcmp(s, "Unavailable")) return KPI_OUT_UNAVAIL;
    return KPI_OUT_NONE;
}

static void add_out(kpi_port *p, int64_t a, int64_t b, int cause)
{
    if (b <= a || cause == KPI_OUT_NONE) return;
    if (p->out.len) {
        kpi_span *last = &EC_VEC_AT(&p->out, kpi_span, p->out.len - 1);
        if (last->b == a && last->cause == cause) {
            last->b = b;
            return;
        }
    }
    kpi_span s = {a, b, cause};
    ec_vec_push(&p->out, &s);
}

/* Records what port p was over [p->since, t): its status (or its charge
 * point's) as it was, and offline once past the grace. */
static void advance_port(ec_kpi *k, kpi_port *p, int64_t t)
{
    if (t <= p->since_ms) return;
    const kpi_cp *c = KCP(k, p->cp);
    int sc = p->cause > c->cause0 ? p->cause : c->cause0;
    int64_t a = p->since_ms, off = t;
    if (!c->online) off = c->down_ms + k->c.grace_ms > a ? c->down_ms + k->c.grace_ms : a;
    if (off > t) off = t;
    add_out(p, a, off, sc);
    add_out(p, off, t, KPI_OUT_OFFLINE);
    p->since_ms = t;
}

static void advance_cp(ec_kpi *k, int cp, int64_t t)
{
    const kpi_cp *c = KCP(k, cp);
    for (int j = 1; j <= EC_SHARE_MAX_CONNECTORS; j++)
        if (c->port[j] >= 0) advance_port(k, KPORT(k, c->port[j]), t);
}

/* The site's congestion over [since, t): every point busy. */
static void advance_site(ec_kpi *k, kpi_site *s, int64_t t)
{
    if (t <= s->since_ms) return;
    if (s->points > 0 && s->busy >= s->points) s->congested_ms += clip(s->since_ms, t, k->c.from_ms, k->c.to_ms);
    s->since_ms = t;
}

static int evse_of(ec_kpi *k, kpi_site *s, const char *uid, int64_t t)
{
    uint64_t v, key = h(uid) ^ (uint64_t)(s - KSITE(k, 0)) * 0x9e3779b97f4a7c15ULL;
    if (ec_map_get(&k->by_evse, key, &v) && v && !strcmp(KEVSE(k, v - 1)->uid, uid)) return (int)v - 1;
    kpi_evse e;
    memset(&e, 0, sizeof e);
    snprintf(e.uid, sizeof e.uid, "%s", uid);
    e.site = (int)(s - KSITE(k, 0));
    advance_site(k, s, t);
    if (ec_vec_push(&k->evses, &e) || ec_map_put(&k->by_evse, key, k->evses.len)) return -1;
    s->points++;
    return (int)k->evses.len - 1;
}

/* The port connector of charge point cp, made when first named. */
static int port_of(ec_kpi *k, int cp, int connector, const char *evse_uid, int64_t t)
{
    if (connector < 1 || connector > EC_SHARE_MAX_CONNECTORS) return -1;
    kpi_cp *c = KCP(k, cp);
    int i = c->port[connector];
    if (i >= 0) {
        kpi_port *p = KPORT(k, i);
        if (evse_uid && evse_uid[0] && !p->evse_named && c->site >= 0) {
            /* The charger named its EVSE after the port was first seen: it takes that name. */
            int e = evse_of(k, KSITE(k, c->site), evse_uid, t);
            if (e >= 0 && KEVSE(k, e)->busy == 0 && p->running == 0) {
                kpi_site *s = KSITE(k, c->site);
                advance_site(k, s, t);
                if (--KEVSE(k, p->evse)->ports == 0) s->points--;
                p->evse = e, p->evse_named = 1;
                KEVSE(k, e)->ports++;
            }
        }
        return i;
    }
    if (c->site < 0) return -1; /* a port belongs to a site */
    kpi_port p;
    memset(&p, 0, sizeof p);
    p.cp = cp, p.connector = connector;
    p.first_ms = p.since_ms = t;
    ec_vec_init(&p.out, sizeof(kpi_span));
    char own[EC_CP_ID_MAX + 8];
    snprintf(own, sizeof own, "%s/%d", c->id, connector);
    p.evse_named = evse_uid && evse_uid[0];
    p.evse = evse_of(k, KSITE(k, c->site), p.evse_named ? evse_uid : own, t);
    p.step0 = -1;
    if (k->n_steps && (!k->c.only_site || !strcmp(KSITE(k, c->site)->id, k->c.only_site))) {
        /* Its sums per step, kept only for the ports that may be asked for. */
        kpi_step z;
        memset(&z, 0, sizeof z);
        p.step0 = (int64_t)k->steps.len;
        if (ec_vec_reserve(&k->steps, k->steps.len + k->n_steps)) return -1;
        for (size_t j = 0; j < k->n_steps; j++) ec_vec_push(&k->steps, &z);
    }
    if (p.evse < 0 || ec_vec_push(&k->ports, &p)) return -1;
    KEVSE(k, p.evse)->ports++;
    c = KCP(k, cp);
    c->port[connector] = (int)k->ports.len - 1;
    return c->port[connector];
}

/* ---- rows --------------------------------------------------------------------------------- */

static void set_err(ec_kpi *k, const char *kind, const char *what)
{
    snprintf(k->err, sizeof k->err, "%s: %s", kind, what);
}

static ec_err on_cp_up(ec_kpi *k, const ec_share_event_t *ev)
{
    int cp = cp_of(k, ev->cp, ev->site, ev->t_ms);
    if (cp < 0) return EC_ENOMEM;
    advance_cp(k, cp, ev->t_ms);
    kpi_cp *c = KCP(k, cp);
    c->online = 1;
    for (int j = 1; j <= EC_SHARE_MAX_CONNECTORS; j++)
        if (ev->evse_uid[j][0]) port_of(k, cp, j, ev->evse_uid[j], ev->t_ms);
    return EC_OK;
}

static void cp_down(ec_kpi *k, int cp, int64_t t)
{
    advance_cp(k, cp, t);
    kpi_cp *c = KCP(k, cp);
    if (c->online) c->online = 0, c->down_ms = t;
}

static ec_err on_status(ec_kpi *k, const ec_share_event_t *ev)
{
    int cp = cp_of(k, ev->cp, NULL, ev->t_ms);
    if (cp < 0) return EC_ENOMEM;
    int cause = status_cause(ev->status);
    if (ev->connector == 0) {
        advance_cp(k, cp, ev->t_ms);
        KCP(k, cp)->cause0 = cause;
        return EC_OK;
    }
    int i = port_of(k, cp, ev->connector, NULL, ev->t_ms);
    if (i < 0) return EC_OK; /* a connector of a charge point no site was named for */
    kpi_port *p = KPORT(k, i);
    advance_port(k, p, ev->t_ms);
    p->cause = cause;
    if (ev->error_code[0] && strcmp(ev->error_code, "NoError")) snprintf(p->error, sizeof p->error, "%s", ev->error_code);
    return EC_OK;
}

static void busy(ec_kpi *k, kpi_port *p, int d, int64_t t)
{
    kpi_evse *e = KEVSE(k, p->evse);
    kpi_site *s = KSITE(k, e->site);
    advance_site(k, s, t);
    p->running += d;
    int was = e->busy > 0;
    e->busy += d;
    if (e->busy < 0) e->busy = 0;
    s->busy += (e->busy > 0) - was;
}

static ec_err on_tx_start(ec_kpi *k, const ec_share_event_t *ev)
{
    if (find_tx(k, ev->tx) >= 0) {
        /* The hub gives the sessions still running again after it starts: the same session. */
        kpi_sess *s = KSESS(k, find_tx(k, ev->tx));
        if (s->stop_ms) return EC_OK;
        if (ev->delivered_wh > s->last_wh) s->last_wh = ev->delivered_wh, s->last_ms = ev->t_ms;
        return EC_OK;
    }
    int cp = cp_of(k, ev->cp, ev->site, ev->t_ms);
    if (cp < 0) return EC_ENOMEM;
    int c = ev->connector >= 0 && ev->connector <= EC_SHARE_MAX_CONNECTORS ? ev->connector : 0;
    int port = port_of(k, cp, ev->connector, ev->evse_uid[c], ev->t_ms);
    if (port < 0) {
        set_err(k, "tx_start", "connector (1 to 16) or site");
        return EC_EINVAL;
    }
    kpi_sess s;
    memset(&s, 0, sizeof s);
    s.tx = ev->tx, s.port = port;
    s.start_ms = s.last_ms = ev->t_ms;
    s.first_wh = s.last_wh = ev->delivered_wh;
    s.in_period = ev->t_ms >= k->c.from_ms && ev->t_ms < k->c.to_ms;
    if (ec_vec_push(&k->sess, &s) || ec_map_put(&k->by_tx, (uint64_t)ev->tx, k->sess.len)) return EC_ENOMEM;
    kpi_port *p = KPORT(k, port);
    if (s.in_period) p->sessions++;
    if (s.in_period && p->step0 >= 0) step_at(k, p, (size_t)((ev->t_ms - k->c.from_ms) / k->c.step_ms))->sessions++;
    busy(k, p, 1, ev->t_ms);
    return EC_OK;
}

static void on_tx_meter(ec_kpi *k, const ec_share_event_t *ev)
{
    int i = find_tx(k, ev->tx);
    if (i < 0) return;
    kpi_sess *s = KSESS(k, i);
    if (s->stop_ms) return;
    kpi_port *p = KPORT(k, s->port);
    double d = ev->delivered_wh - s->last_wh;
    int64_t dt = ev->t_ms - s->last_ms;
    if (d > 0) {
        /* An interval across the period's edge counts the part of its energy its time has
         * in the period, as it counts that part of its time. */
        int64_t ch = clip(s->last_ms, ev->t_ms, k->c.from_ms, k->c.to_ms);
        double e = dt > 0 ? d * (double)ch / (double)dt : ev->t_ms >= k->c.from_ms && ev->t_ms < k->c.to_ms ? d : 0;
        s->energy_wh += e, p->energy_wh += e;
        s->charging_ms += ch, p->charging_ms += ch;
        size_t i0, i1;
        if (p->step0 >= 0) step_range(k, s->last_ms, ev->t_ms, &i0, &i1);
        else i0 = i1 = 0;
        if (dt <= 0 && p->step0 >= 0 && e > 0) /* a reading without time: the step it falls in */
            i0 = (size_t)((ev->t_ms - k->c.from_ms) / k->c.step_ms), i1 = i0 + 1;
        for (size_t si = i0; si < i1; si++) {
            /* The same share, step by step: the steps' sums are the period's. */
            int64_t sa, sb;
            kpi__step_span(k, si, &sa, &sb);
            int64_t ci = clip(s->last_ms, ev->t_ms, sa, sb);
            kpi_step *st = step_at(k, p, si);
            st->charging_ms += ci;
            st->energy_wh += dt > 0 ? d * (double)ci / (double)dt : d;
        }
        if (dt > 0) {
            double w = d * 3600000.0 / (double)dt;
            if (w > s->peak_w) s->peak_w = w;
            if (s->in_period && w > p->peak_w) p->peak_w = w;
        }
    }
    if (d > 0 || dt > 0) s->last_wh = ev->delivered_wh, s->last_ms = ev->t_ms;
}

static void stop_sess(ec_kpi *k, kpi_sess *s, int64_t t)
{
    kpi_port *p = KPORT(k, s->port);
    s->stop_ms = t > s->start_ms ? t : s->start_ms;
    add_plugged(k, p, s->start_ms, s->stop_ms);
    if (s->in_period && p->error[0]) snprintf(s->error, sizeof s->error, "%s", p->error);
    busy(k, p, -1, t);
}

static void on_tx_stop(ec_kpi *k, int64_t tx, int64_t t)
{
    int i = find_tx(k, tx);
    if (i >= 0 && !KSESS(k, i)->stop_ms) stop_sess(k, KSESS(k, i), t);
}

static ec_err on_arrive(ec_kpi *k, const ec_share_event_t *ev)
{
    int si = site_of(k, ev->site, ev->t_ms);
    if (si < 0) return EC_ENOMEM;
    kpi_wait w;
    memset(&w, 0, sizeof w);
    w.site = si, w.t_ms = ev->t_ms;
    snprintf(w.vehicle, sizeof w.vehicle, "%s", ev->vehicle);
    uint64_t key = h(ev->vehicle) ^ (uint64_t)si * 0x9e3779b97f4a7c15ULL;
    if (ec_vec_push(&k->queue, &w) || ec_map_put(&k->by_wait, key, k->queue.len)) return EC_ENOMEM;
    return EC_OK;
}

static void on_leave(ec_kpi *k, const ec_share_event_t *ev)
{
    int si = find_site(k, ev->site);
    uint64_t v;
    if (si < 0) return;
    uint64_t key = h(ev->vehicle) ^ (uint64_t)si * 0x9e3779b97f4a7c15ULL;
    if (!ec_map_get(&k->by_wait, key, &v) || !v) return;
    kpi_wait *w = &EC_VEC_AT(&k->queue, kpi_wait, v - 1);
    if (w->done || w->site != si || strcmp(w->vehicle, ev->vehicle)) return;
    w->done = 1;
    if (ev->served && w->t_ms >= k->c.from_ms && w->t_ms < k->c.to_ms) {
        double min = (double)(ev->t_ms - w->t_ms) / 60000.0;
        ec_vec_push(&KSITE(k, si)->waits, &min);
    }
}

uint64_t kpi__rated_key(const char *site, const char *uid)
{
    return h(uid) ^ h(site) * 0x9e3779b97f4a7c15ULL;
}

static ec_err on_site(ec_kpi *k, const ec_site_power_t *p)
{
    for (int i = 0; i < p->n_evse; i++) {
        uint64_t key = kpi__rated_key(p->id, p->evse[i].uid), v;
        double w = p->evse[i].max_w;
        if (ec_map_get(&k->by_rated, key, &v) && v) {
            kpi_rated *r = &EC_VEC_AT(&k->rated, kpi_rated, v - 1);
            if (!strcmp(r->uid, p->evse[i].uid) && !strcmp(r->site, p->id)) {
                r->max_w = w;
                continue;
            }
        }
        kpi_rated r;
        memset(&r, 0, sizeof r);
        snprintf(r.uid, sizeof r.uid, "%s", p->evse[i].uid);
        snprintf(r.site, sizeof r.site, "%s", p->id);
        r.max_w = w;
        if (ec_vec_push(&k->rated, &r) || ec_map_put(&k->by_rated, key, k->rated.len)) return EC_ENOMEM;
    }
    return EC_OK;
}

/* The hub started again at t; its journal's previous row is from when it stopped (or
 * crashed). While the hub was away the chargers were not away from it by their doing:
 * that stretch counts a port out only for what its status said (Faulted, Unavailable), not
 * for being offline, and after the restart the grace runs from t, as the chargers reconnect. */
static ec_err on_reset(ec_kpi *k, int64_t prev, int64_t t)
{
    int64_t gone = prev > INT64_MIN && prev < t ? prev : t;
    for (size_t i = 0; i < k->ports.len; i++) {
        kpi_port *p = KPORT(k, i);
        advance_port(k, p, gone);
        if (t > p->since_ms) {
            const kpi_cp *c = KCP(k, p->cp);
            add_out(p, p->since_ms, t, p->cause > c->cause0 ? p->cause : c->cause0);
            p->since_ms = t;
        }
    }
    for (size_t i = 0; i < k->cps.len; i++) {
        kpi_cp *c = KCP(k, i);
        c->online = 0, c->down_ms = t;
    }
    return EC_OK;
}

ec_err ec_kpi_feed(ec_kpi *k, int64_t t_ms, int command, const char *kind, const char *data, size_t len)
{
    if (!k || !kind) return EC_EINVAL;
    k->rows++;
    if (command || k->closed) return EC_OK;
    if (t_ms < k->now_ms) t_ms = k->now_ms; /* the journal's clock never goes back */
    /* Past the period only the readings that end an interval begun in it count (its part in the period). */
    int tail = t_ms >= k->c.to_ms;
    if (tail && (t_ms >= k->c.to_ms + EC_KPI_TAIL_MS || (strcmp(kind, "tx_meter") && strcmp(kind, "tx_stop"))))
        return EC_OK;
    int64_t prev = k->now_ms;
    k->now_ms = t_ms;
    /* The rows KPIs do not read are not parsed: a hub's journal is mostly ticks and commands. */
    if (!strcmp(kind, "tick") || !strcmp(kind, "result") || !strcmp(kind, "plan") || !strcmp(kind, "substation"))
        return EC_OK;
    ec_share_event_t *ev = &k->ev;
    ev->t_ms = t_ms;
    /* The commonest rows, in the hub's own form, without a JSON tree (kpi_parse.c). */
    if (!strcmp(kind, "tx_meter") && !kpi__parse_meter(data, len, &ev->tx, &ev->delivered_wh)) {
        on_tx_meter(k, ev);
        return EC_OK;
    }
    if (!strcmp(kind, "status") && !kpi__parse_status(data, len, ev)) return on_status(k, ev);
    if (!strcmp(kind, "tx_stop") && !kpi__parse_tx(data, len, &ev->tx)) {
        on_tx_stop(k, ev->tx, t_ms);
        return EC_OK;
    }
    ec_err rc;
    rc = ec_share_event_parse(kind, t_ms, data, len, ev, &k->site_power, &k->sub_power);
    if (rc) {
        set_err(k, kind, "the row does not read as this kind");
        return EC_EINVAL;
    }
    switch (ev->kind) {
    case EC_SE_RESET: return on_reset(k, prev, t_ms);
    case EC_SE_SITE: return on_site(k, &k->site_power);
    case EC_SE_CP_UP: return on_cp_up(k, ev);
    case EC_SE_CP_DOWN: {
        int cp = kpi__find_cp(k, ev->cp);
        if (cp >= 0) cp_down(k, cp, t_ms);
        return EC_OK;
    }
    case EC_SE_STATUS: return on_status(k, ev);
    case EC_SE_TX_START: return on_tx_start(k, ev);
    case EC_SE_TX_METER: on_tx_meter(k, ev); return EC_OK;
    case EC_SE_TX_STOP: on_tx_stop(k, ev->tx, t_ms); return EC_OK;
    case EC_SE_ARRIVE: return on_arrive(k, ev);
    case EC_SE_LEAVE: on_leave(k, ev); return EC_OK;
    default: return EC_OK;
    }
}

/* Closes every open stretch at `to`: the period's state is complete. */
void kpi__close(ec_kpi *k)
{
    if (k->closed) return;
    k->closed = 1;
    int64_t t = k->c.to_ms;
    for (size_t i = 0; i < k->ports.len; i++) advance_port(k, KPORT(k, i), t);
    for (size_t i = 0; i < k->sites.len; i++) advance_site(k, KSITE(k, i), t);
    for (size_t i = 0; i < k->sess.len; i++) {
        kpi_sess *s = KSESS(k, i);
        if (!s->stop_ms) {
            add_plugged(k, KPORT(k, s->port), s->start_ms, t);
            if (s->in_period && KPORT(k, s->port)->error[0]) snprintf(s->error, sizeof s->error, "%s", KPORT(k, s->port)->error);
        }
    }
}

ec_err ec_kpi_new(const ec_kpi_config_t *c, ec_kpi **out)
{
    *out = NULL;
    if (!c || c->to_ms <= c->from_ms || c->grace_ms < 0) return EC_EINVAL;
    ec_kpi *k = ec_calloc(1, sizeof *k);
    if (!k) return EC_ENOMEM;
    k->c = *c;
    /* Past what the journal knows nothing is known: a live hub's month ends now. */
    if (c->until_ms > 0 && c->until_ms < c->to_ms) k->c.to_ms = c->until_ms > c->from_ms ? c->until_ms : c->from_ms + 1;
    if (c->step_ms < 0 || (c->step_ms > 0 && (k->c.to_ms - k->c.from_ms - 1) / c->step_ms + 1 > EC_KPI_STEPS_MAX)) {
        ec_free(k);
        return EC_EINVAL;
    }
    k->n_steps = c->step_ms > 0 ? (size_t)((k->c.to_ms - k->c.from_ms - 1) / c->step_ms + 1) : 0;
    ec_vec_init(&k->steps, sizeof(kpi_step));
    ec_vec_init(&k->cps, sizeof(kpi_cp));
    ec_vec_init(&k->ports, sizeof(kpi_port));
    ec_vec_init(&k->evses, sizeof(kpi_evse));
    ec_vec_init(&k->sites, sizeof(kpi_site));
    ec_vec_init(&k->sess, sizeof(kpi_sess));
    ec_vec_init(&k->queue, sizeof(kpi_wait));
    ec_vec_init(&k->rated, sizeof(kpi_rated));
    ec_vec_init(&k->out_rows, sizeof(ec_kpi_row_t));
    ec_vec_init(&k->out_sess, sizeof(ec_kpi_session_t));
    if (ec_map_init(&k->by_cp, 256) || ec_map_init(&k->by_site, 64) || ec_map_init(&k->by_tx, 4096) ||
        ec_map_init(&k->by_evse, 256) || ec_map_init(&k->by_wait, 256) || ec_map_init(&k->by_rated, 256)) {
        ec_kpi_free(k);
        return EC_ENOMEM;
    }
    k->now_ms = INT64_MIN;
    *out = k;
    return EC_OK;
}

void ec_kpi_free(ec_kpi *k)
{
    if (!k) return;
    for (size_t i = 0; i < k->ports.len; i++) ec_vec_free(&KPORT(k, i)->out);
    for (size_t i = 0; i < k->sites.len; i++) ec_vec_free(&KSITE(k, i)->waits);
    ec_vec_free(&k->cps), ec_vec_free(&k->ports), ec_vec_free(&k->evses), ec_vec_free(&k->sites);
    ec_vec_free(&k->sess), ec_vec_free(&k->queue), ec_vec_free(&k->rated);
    ec_vec_free(&k->out_rows), ec_vec_free(&k->out_sess), ec_vec_free(&k->steps);
    for (int i = 0; i < 3; i++) ec_vec_free(&k->owned[i]);
    ec_map_free(&k->by_cp), ec_map_free(&k->by_site), ec_map_free(&k->by_tx);
    ec_map_free(&k->by_evse), ec_map_free(&k->by_wait), ec_map_free(&k->by_rated);
    ec_site_power_free(&k->site_power);
    ec_substation_power_free(&k->sub_power);
    ec_free(k);
}

int64_t ec_kpi_rows_read(const ec_kpi *k)
{
    return k ? k->rows : 0;
}

const char *ec_kpi_error(const ec_kpi *k)
{
    return k ? k->err : "";
}

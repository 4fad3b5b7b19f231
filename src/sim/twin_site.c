/* twin_site.c - the twin's sites: their charge points as the engine knows
 * them, a queue per plug (first come first served, a reservation first),
 * sessions charging under the vehicle's curve, the point's power and the
 * engine's limit, and the counters the day's figures come from. */
#include "twin_internal.h"

#include <math.h>
#include <string.h>

#define TW_DEFAULT_STAY_MS (30 * 60000)

/* Copies src into dst of n bytes, cut to fit (ids were checked for length where they were read). */
static void copy(char *dst, size_t n, const char *src)
{
    size_t l = strnlen(src, n - 1);
    memcpy(dst, src, l);
    dst[l] = 0;
}

static uint64_t hash_str(const char *s)
{
    return ec_hash_bytes(s, strlen(s));
}

static void vehicle_name(int ti, char *out, size_t n)
{
    snprintf(out, n, "T%d", ti);
}

/* ---- building --------------------------------------------------------------------------- */

static const ec_site_power_t *power_of(const tw *w, const char *id)
{
    for (size_t i = 0; i < w->c->n_site_power; i++)
        if (!strcmp(w->c->site_power[i].id, id)) return &w->c->site_power[i];
    return NULL;
}

static ec_err add_points(tw *w, int si, const ec_connector_group_t *gr, int count)
{
    tw_site *s = TW_SITE(w, si);
    for (int k = 0; k < count; k++) {
        if (s->n_points >= EC_POWER_MAX_EVSE)
            return ec_fail(EC_ELIMIT, "site %s: more than %d charge points", s->id, EC_POWER_MAX_EVSE);
        tw_point p;
        memset(&p, 0, sizeof p);
        p.site = si, p.plug = gr->standard, p.power_w = gr->power_w, p.truck = -1, p.up = 1;
        snprintf(p.cp, sizeof p.cp, "%.31s-%d", s->id, (s->n_points + 1) % 1000);
        if (ec_map_put(&w->point_of_cp, hash_str(p.cp), w->points.len) || ec_vec_push(&w->points, &p))
            return EC_ENOMEM;
        s->n_points++;
    }
    return EC_OK;
}

ec_err twin__sites_build(tw *w)
{
    const ec_sites *S = w->c->sites;
    ec_map by_id = w->site_by_id;
    ec_err rc = EC_OK;
    int *next = ec_calloc(S->n + 1, sizeof *next);
    if (!next) return EC_ENOMEM;
    ec_vec first, last;
    ec_vec_init(&first, sizeof(int)), ec_vec_init(&last, sizeof(int));
    for (size_t r = 0; r < S->n && !rc; r++) {
        const ec_connector_group_t *gr = &S->groups[r];
        uint64_t si, h = hash_str(gr->site_id);
        next[r] = -1;
        if (!ec_map_get(&by_id, h, &si)) {
            if (strlen(gr->site_id) > TW_SITE_ID_MAX) {
                rc = ec_fail(EC_ELIMIT, "site %s: an id longer than %d characters (its charge points' ids would be too long)",
                             gr->site_id, TW_SITE_ID_MAX);
                break;
            }
            tw_site s;
            memset(&s, 0, sizeof s);
            copy(s.id, sizeof s.id, gr->site_id);
            copy(s.name, sizeof s.name, gr->name);
            s.pos = gr->pos, s.sub = -1, s.up = 1;
            for (int p = 0; p < EC_PLUG_COUNT; p++) ec_vec_init(&s.queue[p], sizeof(int));
            ec_vec_init(&s.waits, sizeof(double));
            si = w->sites.len;
            int ri = (int)r;
            if (ec_vec_push(&w->sites, &s) || ec_map_put(&by_id, h, si) || ec_vec_push(&first, &ri) || ec_vec_push(&last, &ri)) {
                rc = EC_ENOMEM;
                break;
            }
        } else {
            int *l = &EC_VEC_AT(&last, int, si);
            next[*l] = (int)r, *l = (int)r;
        }
        if (ec_map_put(&w->site_of_row, r, si)) rc = EC_ENOMEM;
    }
    for (size_t si = 0; si < w->sites.len && !rc; si++) {
        tw_site *s = TW_SITE(w, si);
        s->first_point = (int)w->points.len;
        int want = w->c->points ? w->c->points[si] : 0;
        if (want > 0) {
            /* Sized: that many points of the site's most powerful kind. */
            const ec_connector_group_t *best = NULL;
            for (int r = EC_VEC_AT(&first, int, si); r >= 0; r = next[r])
                if (!best || S->groups[r].power_w > best->power_w) best = &S->groups[r];
            rc = add_points(w, (int)si, best, want);
        } else {
            for (int r = EC_VEC_AT(&first, int, si); r >= 0 && !rc; r = next[r]) rc = add_points(w, (int)si, &S->groups[r], S->groups[r].count);
        }
        const ec_site_power_t *p = power_of(w, s->id);
        if (p && p->substation_id[0])
            for (size_t k = 0; k < w->c->n_subs; k++)
                if (!strcmp(w->c->subs[k].id, p->substation_id)) s->sub = (int)k;
    }
    for (size_t k = 0; k < w->c->n_subs && !rc; k++) {
        tw_sub b;
        memset(&b, 0, sizeof b);
        copy(b.id, sizeof b.id, w->c->subs[k].id);
        b.power = &w->c->subs[k], b.capacity_w = w->c->subs[k].capacity_w, b.factor = 1, b.peak_ms = -1;
        if (ec_vec_push(&w->subs, &b)) rc = EC_ENOMEM;
    }
    ec_vec_free(&first), ec_vec_free(&last);
    ec_free(next);
    w->site_by_id = by_id;
    return rc;
}

/* ---- the engine's view of the sites -------------------------------------------------------- */

static ec_err feed_status(tw *w, const char *cp, int connector, const char *status, const char *error)
{
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = EC_SE_STATUS, ev.t_ms = w->now_ms, ev.connector = connector;
    copy(ev.cp, sizeof ev.cp, cp);
    copy(ev.status, sizeof ev.status, status);
    copy(ev.error_code, sizeof ev.error_code, error);
    return twin__feed(w, &ev);
}

static ec_err feed_cp(tw *w, int pi, int up)
{
    tw_point *p = TW_POINT(w, pi);
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = up ? EC_SE_CP_UP : EC_SE_CP_DOWN, ev.t_ms = w->now_ms;
    copy(ev.cp, sizeof ev.cp, p->cp);
    if (up) {
        copy(ev.site, sizeof ev.site, TW_SITE(w, p->site)->id);
        ev.serial = (uint64_t)pi + 1;
        copy(ev.evse_uid[1], sizeof ev.evse_uid[1], p->cp);
    }
    return twin__feed(w, &ev);
}

static ec_err feed_site(tw *w, int si)
{
    tw_site *s = TW_SITE(w, si);
    const ec_site_power_t *reg = power_of(w, s->id);
    ec_site_power_t sp;
    memset(&sp, 0, sizeof sp);
    copy(sp.id, sizeof sp.id, s->id);
    /* A site of a sites file has no policy: its points charge at their power. */
    snprintf(sp.algo, sizeof sp.algo, "uncontrolled");
    sp.interval_s = 60, sp.dwell_min = 30;
    if (reg) {
        memcpy(sp.substation_id, reg->substation_id, sizeof sp.substation_id);
        sp.managed = reg->managed, sp.limit_w = reg->limit_w;
        sp.interval_s = reg->interval_s, sp.dwell_min = reg->dwell_min, sp.default_wh = reg->default_wh;
        memcpy(sp.algo, reg->algo, sizeof sp.algo);
    }
    sp.evse = ec_calloc((size_t)(s->n_points ? s->n_points : 1), sizeof *sp.evse);
    if (!sp.evse) return EC_ENOMEM;
    for (int k = 0; k < s->n_points; k++) {
        const tw_point *p = TW_POINT(w, s->first_point + k);
        copy(sp.evse[k].uid, sizeof sp.evse[k].uid, p->cp);
        sp.evse[k].max_w = p->power_w;
    }
    sp.n_evse = s->n_points;
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = EC_SE_SITE, ev.t_ms = w->now_ms, ev.site_power = &sp;
    ec_err rc = twin__feed(w, &ev);
    ec_free(sp.evse);
    return rc;
}

static ec_err feed_sub(tw *w, int bi)
{
    tw_sub *b = TW_SUB(w, bi);
    ec_substation_power_t sp;
    memset(&sp, 0, sizeof sp);
    ec_err rc = ec_substation_power_copy(&sp, b->power);
    if (rc) return rc;
    /* The engine reads a capacity of 0 as none at all: derated to nothing is 1 W. */
    sp.capacity_w = b->capacity_w * b->factor;
    if (b->capacity_w > 0 && sp.capacity_w < 1) sp.capacity_w = 1;
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = EC_SE_SUBSTATION, ev.t_ms = w->now_ms, ev.substation_power = &sp;
    rc = twin__feed(w, &ev);
    ec_substation_power_free(&sp);
    return rc;
}

ec_err twin__engine_start(tw *w)
{
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = EC_SE_RESET, ev.t_ms = w->now_ms;
    ec_err rc = twin__feed(w, &ev);
    for (size_t k = 0; k < w->subs.len && !rc; k++) rc = feed_sub(w, (int)k);
    for (size_t si = 0; si < w->sites.len && !rc; si++) {
        tw_site *s = TW_SITE(w, si);
        s->last_ms = w->now_ms;
        rc = feed_site(w, (int)si);
        for (int k = 0; k < s->n_points && !rc; k++) {
            int pi = s->first_point + k;
            rc = feed_cp(w, pi, 1);
            if (!rc) rc = feed_status(w, TW_POINT(w, pi)->cp, 1, "Available", "NoError");
        }
    }
    return rc;
}

/* ---- counters --------------------------------------------------------------------------------- */

/* Runs site si's time counters up to now (the part inside the day). */
static void site_tick(tw *w, tw_site *s)
{
    int64_t a = s->last_ms > w->day0_ms ? s->last_ms : w->day0_ms;
    int64_t b = w->now_ms < w->day1_ms ? w->now_ms : w->day1_ms;
    if (b > a) {
        double d = (double)(b - a);
        s->charge_ms += d * s->charging;
        s->occupied_ms += d * s->occupied;
        if (s->n_points && s->occupied >= s->n_points) s->congested_ms += d;
    }
    if (w->now_ms > s->last_ms) s->last_ms = w->now_ms;
}

/* What the substation carries besides the charging at t: its base load less the renewables behind it. */
static double base_w(const tw_sub *b, int64_t t_ms)
{
    int64_t t = t_ms / 1000;
    return ec_series_at(&b->power->base_w, ec_year_start_s(t), t, 0) - ec_series_at(&b->power->renew_w, ec_year_start_s(t), t, 0);
}

static void sub_peak(tw *w, tw_sub *b)
{
    double total = b->power_w + base_w(b, w->now_ms);
    if (b->peak_ms < 0 || total > b->peak_w) b->peak_w = total, b->peak_ms = w->now_ms;
}

static void set_power(tw *w, tw_truck *t, double p)
{
    tw_site *s = TW_SITE(w, t->site);
    if ((t->power_w > 0) != (p > 0)) {
        site_tick(w, s);
        s->charging += p > 0 ? 1 : -1;
    }
    s->power_w += p - t->power_w;
    if (s->power_w < 1e-6) s->power_w = 0;
    if (s->power_w > s->peak_w) s->peak_w = s->power_w;
    if (s->sub >= 0) {
        tw_sub *b = TW_SUB(w, s->sub);
        b->power_w += p - t->power_w;
        if (b->power_w < 1e-6) b->power_w = 0;
        sub_peak(w, b);
    }
    t->power_w = p;
}

/* The energy a charging truck took since it was last looked at. */
static void integrate(tw *w, tw_truck *t)
{
    if (t->state != TR_CHARGING || w->now_ms <= t->last_ms) return;
    double e = t->power_w * (double)(w->now_ms - t->last_ms) / 3.6e6;
    if (e > t->target_wh - t->delivered_wh) e = t->target_wh - t->delivered_wh;
    if (e < 0) e = 0;
    const ec_vehicle_profile *v = &w->vehicles[t->vehicle];
    t->delivered_wh += e;
    t->soc += e * v->charge_eff / v->battery_wh;
    if (t->soc > 1) t->soc = 1;
    TW_SITE(w, t->site)->energy_wh += e;
    t->last_ms = w->now_ms;
}

static double power_now(const tw *w, const tw_truck *t)
{
    if (w->now_ms < t->charge_start_ms) return 0;
    const tw_point *p = TW_POINT(w, t->point);
    double lim = p->power_w;
    if (t->limit_w >= 0 && (lim <= 0 || t->limit_w < lim)) lim = t->limit_w;
    if (lim <= 0 && t->limit_w >= 0) return 0;
    return ec_charge_power_w(&w->vehicles[t->vehicle], p->plug, lim, t->soc);
}

static ec_err feed_tx(tw *w, ec_share_event_kind kind, const tw_truck *t)
{
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind, ev.t_ms = w->now_ms, ev.tx = t->tx;
    ev.delivered_wh = round(t->delivered_wh);
    if (kind == EC_SE_TX_START) {
        const tw_point *p = TW_POINT(w, t->point);
        copy(ev.cp, sizeof ev.cp, p->cp);
        copy(ev.site, sizeof ev.site, TW_SITE(w, p->site)->id);
        copy(ev.evse_uid[1], sizeof ev.evse_uid[1], p->cp);
        ev.connector = 1, ev.start_s = w->now_ms / 1000;
        ev.requested_wh = round(t->target_wh), ev.departure_s = (t->stay_until_ms + 999) / 1000;
    }
    return twin__feed(w, &ev);
}

static ec_err feed_queue(tw *w, ec_share_event_kind kind, int ti, int site, ec_plug plug, int flag)
{
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind, ev.t_ms = w->now_ms;
    copy(ev.site, sizeof ev.site, TW_SITE(w, site)->id);
    vehicle_name(ti, ev.vehicle, sizeof ev.vehicle);
    copy(ev.plug, sizeof ev.plug, ec_plug_name(plug));
    if (kind == EC_SE_ARRIVE) ev.reserved = flag;
    else ev.served = flag;
    return twin__feed(w, &ev);
}

/* Schedules the next look at a charging truck: when it would be done at the power it has now. */
static void schedule_finish(tw *w, int ti)
{
    tw_truck *t = TW_TRUCK(w, ti);
    t->version++;
    int64_t at;
    if (w->now_ms < t->charge_start_ms) at = t->charge_start_ms;
    else if (t->power_w <= 0) return; /* the review looks again */
    else at = w->now_ms + (int64_t)ceil((t->target_wh - t->delivered_wh) / t->power_w * 3.6e6);
    twin__push(w, at, EV_FINISH, ti, t->version);
}

/* ---- the queue and sessions ------------------------------------------------------------------- */

static void charging_add(tw *w, int ti)
{
    if (ec_vec_push(&w->charging, &ti)) twin__fail(w, EC_ENOMEM);
    TW_TRUCK(w, ti)->cidx = (int)w->charging.len - 1;
}

static void charging_del(tw *w, int ti)
{
    tw_truck *t = TW_TRUCK(w, ti);
    if (t->cidx < 0) return;
    int last = EC_VEC_AT(&w->charging, int, w->charging.len - 1);
    EC_VEC_AT(&w->charging, int, t->cidx) = last;
    TW_TRUCK(w, last)->cidx = t->cidx;
    w->charging.len--;
    t->cidx = -1;
}

static void start_session(tw *w, int ti, int pi)
{
    tw_truck *t = TW_TRUCK(w, ti);
    tw_point *p = TW_POINT(w, pi);
    tw_site *s = TW_SITE(w, p->site);
    const tw_stop *st = TW_STOP(w, TW_PLAN(w, t->plan)->first + t->stop);
    feed_queue(w, EC_SE_LEAVE, ti, p->site, p->plug, 1);
    int64_t waited = w->now_ms - t->arrive_ms;
    double wm = (double)waited / 60000.0;
    t->wait_ms += waited;
    if (ec_vec_push(&s->waits, &wm)) twin__fail(w, EC_ENOMEM);
    site_tick(w, s);
    s->occupied++, s->sessions++;
    p->truck = ti;
    t->point = pi, t->state = TR_CHARGING, t->start_ms = w->now_ms, t->tx = w->tx_next++;
    /* A stop resumed after an outage charges only what it still lacks. */
    t->target_wh = st->grid_wh - t->partial_wh > 0 ? st->grid_wh - t->partial_wh : 0;
    t->partial_wh = 0, t->delivered_wh = 0, t->power_w = 0, t->limit_w = -1;
    t->charge_start_ms = w->now_ms + (int64_t)llround(st->overhead_s * 1000);
    t->stay_until_ms = w->now_ms + st->stay_ms;
    if (t->stay_until_ms < t->charge_start_ms) t->stay_until_ms = t->charge_start_ms;
    t->last_ms = t->charge_start_ms, t->meter_ms = w->now_ms;
    feed_tx(w, EC_SE_TX_START, t);
    feed_status(w, p->cp, 1, "Charging", "NoError");
    charging_add(w, ti);
    schedule_finish(w, ti);
}

/* The most power a point of plug at site si gives (0: none up). */
static double plug_power(const tw *w, int si, ec_plug plug)
{
    const tw_site *s = TW_SITE(w, si);
    double best = 0;
    for (int k = 0; k < s->n_points; k++) {
        const tw_point *p = TW_POINT(w, s->first_point + k);
        if (p->plug == plug && p->up && p->power_w > best) best = p->power_w;
    }
    return best;
}

static int free_point(tw *w, int si, ec_plug plug)
{
    tw_site *s = TW_SITE(w, si);
    int best = -1;
    for (int k = 0; k < s->n_points; k++) {
        tw_point *p = TW_POINT(w, s->first_point + k);
        if (p->plug != plug || !p->up || p->truck >= 0) continue;
        if (best < 0 || p->power_w > TW_POINT(w, best)->power_w) best = s->first_point + k;
    }
    return best;
}

static void try_start(tw *w, int si, ec_plug plug)
{
    tw_site *s = TW_SITE(w, si);
    ec_vec *q = &s->queue[plug];
    while (q->len && !w->err) {
        int pi = free_point(w, si, plug);
        if (pi < 0) break;
        int ti = EC_VEC_AT(q, int, 0);
        memmove(q->data, (int *)q->data + 1, (q->len - 1) * sizeof(int));
        q->len--;
        start_session(w, ti, pi);
    }
}

static void strand(tw *w, int ti, int site, const char *why)
{
    tw_truck *t = TW_TRUCK(w, ti);
    t->state = TR_STRANDED;
    snprintf(t->reason, sizeof t->reason, "%s", why);
    if (site >= 0) TW_SITE(w, site)->stranded_nearby++;
    w->planned--;
}

/* Whether a truck with nowhere else to go waits for site si to come back. */
static int waits_for_site(const tw *w, const tw_site *s)
{
    return s->up || s->restore_ms - w->now_ms <= TW_WAIT_RESTORE_MS;
}

#define TW_DOWN_REASON "its charging site was out of service for more than 4 hours and no other was within reach"

/* Truck ti joins the queue for plug at site si (a reservation before every truck without one). */
static void enqueue(tw *w, int ti, int si, ec_plug plug, int reserved)
{
    tw_site *s = TW_SITE(w, si);
    ec_vec *q = &s->queue[plug];
    size_t at = q->len;
    if (reserved)
        for (at = 0; at < q->len; at++) {
            const tw_truck *o = TW_TRUCK(w, EC_VEC_AT(q, int, at));
            if (!TW_STOP(w, TW_PLAN(w, o->plan)->first + o->stop)->reserved) break;
        }
    if (ec_vec_push(q, &ti)) {
        twin__fail(w, EC_ENOMEM);
        return;
    }
    memmove((int *)q->data + at + 1, (int *)q->data + at, (q->len - 1 - at) * sizeof(int));
    EC_VEC_AT(q, int, at) = ti;
    TW_TRUCK(w, ti)->state = TR_QUEUED;
    try_start(w, si, plug);
    if ((int64_t)q->len > s->max_queue) s->max_queue = (int64_t)q->len;
}

void twin__arrive_site(tw *w, int ti)
{
    tw_truck *t = TW_TRUCK(w, ti);
    const tw_stop *st = TW_STOP(w, TW_PLAN(w, t->plan)->first + t->stop);
    int si = st->site;
    tw_site *s = TW_SITE(w, si);
    s->arrivals++;
    t->site = si, t->arrive_ms = w->now_ms;
    twin__clock_leg(w, t, st);
    /* The driver takes the plug that finishes the charge first: another the
     * truck has an inlet for may be free while the planned one has a queue. */
    const ec_vehicle_profile *v = &w->vehicles[t->vehicle];
    int free, plug = st->plug;
    int64_t wait = twin__expected_wait(w, si, (ec_plug)plug, &free), best = INT64_MAX;
    for (int k = 0; k < EC_PLUG_COUNT; k++) {
        if (v->plug_max_w[k] <= 0) continue;
        int f;
        int64_t wk = twin__expected_wait(w, si, (ec_plug)k, &f);
        double pw = fmin(v->plug_max_w[k], plug_power(w, si, (ec_plug)k));
        if (wk == INT64_MAX || pw <= 0) continue;
        int64_t done = wk + (int64_t)(st->grid_wh / pw * 3.6e6);
        if (done < best || (done == best && k == st->plug)) best = done, plug = k, wait = wk;
    }
    feed_queue(w, EC_SE_ARRIVE, ti, si, (ec_plug)plug, st->reserved);
    /* A site out of service, or a long wait: a dispatcher re-routes the truck
     * (for a wait, twice at most on a trip). Where nothing else is within
     * reach, it waits here, for the site to come back if it must. */
    if ((!s->up || ((double)wait > w->c->replan_wait_s * 1000 && t->replanned < TW_MAX_REPLANS)) && twin__replan(w, ti, si)) {
        feed_queue(w, EC_SE_LEAVE, ti, si, (ec_plug)plug, 0);
        return;
    }
    if (!waits_for_site(w, s)) {
        feed_queue(w, EC_SE_LEAVE, ti, si, (ec_plug)plug, 0);
        strand(w, ti, si, TW_DOWN_REASON);
        return;
    }
    enqueue(w, ti, si, (ec_plug)plug, st->reserved);
}

/* Truck ti unplugs: its session ends and the point goes to the next in the queue. */
static void unplug(tw *w, int ti)
{
    tw_truck *t = TW_TRUCK(w, ti);
    tw_point *p = TW_POINT(w, t->point);
    tw_site *s = TW_SITE(w, p->site);
    feed_tx(w, EC_SE_TX_STOP, t);
    feed_status(w, p->cp, 1, "Available", "NoError");
    site_tick(w, s);
    s->occupied--;
    s->stay_sum_ms += (double)(w->now_ms - t->start_ms), s->stay_n++;
    p->truck = -1;
    t->point = -1;
    t->stops++;
    try_start(w, p->site, p->plug);
}

/* The charge is done: the truck unplugs, and takes what is left of its
 * planned stop (a break, a rest) in the site's parking, not on the point. */
static void charged(tw *w, int ti)
{
    tw_truck *t = TW_TRUCK(w, ti);
    set_power(w, t, 0);
    charging_del(w, ti);
    t->charged_wh += t->delivered_wh;
    t->state = TR_PARKED;
    t->version++;
    feed_tx(w, EC_SE_TX_METER, t);
    unplug(w, ti);
    twin__push(w, t->stay_until_ms > w->now_ms ? t->stay_until_ms : w->now_ms, EV_LEAVE, ti, 0);
}

void twin__finish(tw *w, int ti, int version)
{
    tw_truck *t = TW_TRUCK(w, ti);
    if (t->state != TR_CHARGING || t->version != version) return;
    integrate(w, t);
    /* Plugged in, the charge begins: a reading says so, so that what reads the journal
     * tells the time plugging in took from the time charging. */
    if (w->now_ms == t->charge_start_ms && t->charge_start_ms > t->start_ms && t->delivered_wh == 0)
        feed_tx(w, EC_SE_TX_METER, t);
    if (t->delivered_wh >= t->target_wh - 0.01) {
        charged(w, ti);
        return;
    }
    double p = power_now(w, t);
    if (p <= 0 && w->now_ms >= t->charge_start_ms && t->limit_w < 0) {
        charged(w, ti); /* the vehicle takes no more */
        return;
    }
    set_power(w, t, p);
    schedule_finish(w, ti);
}

void twin__limit(tw *w, int ti, double limit_w)
{
    tw_truck *t = TW_TRUCK(w, ti);
    if (t->state != TR_CHARGING) return;
    integrate(w, t); /* what it had at the old power */
    t->limit_w = limit_w;
    set_power(w, t, power_now(w, t));
    schedule_finish(w, ti);
}

void twin__leave(tw *w, int ti)
{
    tw_truck *t = TW_TRUCK(w, ti);
    if (t->state != TR_PARKED) return; /* its site went down meanwhile and it moved on */
    twin__clock_stop(w, t);
    t->stop++;
    twin__start_leg(w, ti);
}

void twin__review(tw *w)
{
    for (size_t i = 0; i < w->charging.len && !w->err; i++) {
        int ti = EC_VEC_AT(&w->charging, int, i);
        tw_truck *t = TW_TRUCK(w, ti);
        integrate(w, t);
        if (w->now_ms - t->meter_ms >= TW_METER_MS) {
            t->meter_ms = w->now_ms;
            feed_tx(w, EC_SE_TX_METER, t);
        }
        double p = power_now(w, t);
        if (fabs(p - t->power_w) > 0.5) {
            set_power(w, t, p);
            schedule_finish(w, ti);
        }
    }
    for (size_t k = 0; k < w->subs.len; k++) sub_peak(w, TW_SUB(w, k));
}

/* ---- outages and derating ------------------------------------------------------------------- */

void twin__outage(tw *w, int si, int down)
{
    tw_site *s = TW_SITE(w, si);
    if (s->up == !down) return;
    s->up = !down;
    for (int k = 0; k < s->n_points; k++) {
        int pi = s->first_point + k;
        tw_point *p = TW_POINT(w, pi);
        if (!down) {
            p->up = 1;
            feed_cp(w, pi, 1);
            feed_status(w, p->cp, 0, "Available", "NoError");
            feed_status(w, p->cp, 1, "Available", "NoError");
            continue;
        }
        p->up = 0;
        int ti = p->truck;
        if (ti >= 0) {
            /* Its session ends with the site: what it had counts, and it goes on from there. */
            tw_truck *t = TW_TRUCK(w, ti);
            integrate(w, t);
            set_power(w, t, 0);
            charging_del(w, ti);
            t->charged_wh += t->delivered_wh;
            t->version++;
            feed_tx(w, EC_SE_TX_METER, t);
            feed_tx(w, EC_SE_TX_STOP, t);
            site_tick(w, s);
            s->occupied--;
            p->truck = -1;
            t->point = -1;
            t->stops++;
            /* It drives on to another site, or waits here for this one to come back. */
            if (!twin__replan(w, ti, si)) {
                if (waits_for_site(w, s)) {
                    t->partial_wh += t->delivered_wh;
                    t->arrive_ms = w->now_ms;
                    feed_queue(w, EC_SE_ARRIVE, ti, si, p->plug, 0);
                    enqueue(w, ti, si, p->plug, 0);
                } else {
                    strand(w, ti, si, TW_DOWN_REASON);
                }
            }
        }
        feed_status(w, p->cp, 0, "Faulted", "OtherError");
        feed_cp(w, pi, 0);
    }
    if (down) {
        /* The queue re-plans; who finds nothing else waits on. */
        for (int plug = 0; plug < EC_PLUG_COUNT; plug++) {
            ec_vec *q = &s->queue[plug];
            for (size_t i = 0; i < q->len;) {
                int ti = EC_VEC_AT(q, int, i);
                int moved = twin__replan(w, ti, si);
                if (!moved && waits_for_site(w, s)) {
                    i++;
                    continue;
                }
                feed_queue(w, EC_SE_LEAVE, ti, si, (ec_plug)plug, 0);
                TW_TRUCK(w, ti)->wait_ms += w->now_ms - TW_TRUCK(w, ti)->arrive_ms;
                if (!moved) strand(w, ti, si, TW_DOWN_REASON);
                memmove((int *)q->data + i, (int *)q->data + i + 1, (q->len - i - 1) * sizeof(int));
                q->len--;
            }
        }
        return;
    }
    for (int plug = 0; plug < EC_PLUG_COUNT; plug++) try_start(w, si, (ec_plug)plug);
}

void twin__derate(tw *w, int bi, double factor)
{
    TW_SUB(w, bi)->factor = factor;
    ec_err rc = feed_sub(w, bi);
    if (rc) twin__fail(w, rc);
}

/* ---- what a dispatcher sees ----------------------------------------------------------------- */

int64_t twin__expected_wait(tw *w, int si, ec_plug plug, int *free)
{
    tw_site *s = TW_SITE(w, si);
    *free = 0;
    if (!s->up) return INT64_MAX;
    int64_t at[EC_POWER_MAX_EVSE];
    int n = 0;
    for (int k = 0; k < s->n_points; k++) {
        const tw_point *p = TW_POINT(w, s->first_point + k);
        if (p->plug != plug || !p->up) continue;
        int64_t t = w->now_ms;
        if (p->truck >= 0) { /* it unplugs when its charge is done */
            const tw_truck *o = TW_TRUCK(w, p->truck);
            /* A session held back by the engine is taken at a tenth of the point's power. */
            double pw = o->power_w > 0 ? o->power_w : w->now_ms < o->charge_start_ms ? p->power_w : p->power_w / 10;
            t = (o->charge_start_ms > w->now_ms ? o->charge_start_ms : w->now_ms) +
                (int64_t)((o->target_wh - o->delivered_wh) / (pw > 1 ? pw : 1) * 3.6e6);
        } else {
            (*free)++;
        }
        at[n++] = t;
    }
    if (!n) return INT64_MAX;
    int64_t stay = s->stay_n ? (int64_t)(s->stay_sum_ms / (double)s->stay_n) : TW_DEFAULT_STAY_MS;
    /* Each truck in the queue takes the point that frees first, for a typical stay. */
    size_t q = s->queue[plug].len;
    for (size_t i = 0; i <= q; i++) {
        int m = 0;
        for (int k = 1; k < n; k++)
            if (at[k] < at[m]) m = k;
        if (i == q) return at[m] > w->now_ms ? at[m] - w->now_ms : 0;
        at[m] = (at[m] > w->now_ms ? at[m] : w->now_ms) + stay;
    }
    return 0;
}

void twin__snapshot(tw *w)
{
    ec_sites *S = w->c->sites;
    for (size_t r = 0; r < S->n; r++) {
        uint64_t si;
        if (!ec_map_get(&w->site_of_row, r, &si)) continue;
        ec_connector_group_t *gr = &S->groups[r];
        int free;
        int64_t wait = twin__expected_wait(w, (int)si, gr->standard, &free);
        gr->wait_s = 0;
        if (wait == INT64_MAX) {
            gr->available = 0, gr->busy_until = 0;
        } else {
            gr->available = free > 0 ? free : 1;
            gr->busy_until = wait > 0 ? (w->now_ms + wait + 999) / 1000 : 0;
        }
    }
}

void twin__close_day(tw *w)
{
    if (w->now_ms < w->day1_ms) w->now_ms = w->day1_ms;
    for (size_t si = 0; si < w->sites.len; si++) site_tick(w, TW_SITE(w, si));
}

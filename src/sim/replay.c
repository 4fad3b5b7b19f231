/* replay.c - sessions of a site replayed on a simulated clock through the
 * engine's allocation algorithms, with a stationary battery beside them. */
#include "ecorridor/ec_share.h"
#include "ecorridor/ec_sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HORIZON_MAX 2016 /* periods of price the optimising step sees (a week of 5-minute periods) */

double ec_charge_price_at(const ec_charge_sim_opts_t *o, int64_t t_s)
{
    return ec_series_value(o->prices, t_s, o->price_per_kwh);
}

/* The lowest price of the replay: what the energy a battery holds is worth
 * at its start and at its end, so that neither the half charge it starts
 * with is free nor what it is left holding is lost. */
static double lowest_price(const ec_charge_sim_opts_t *o)
{
    if (!o->prices || !o->prices->n) return o->price_per_kwh;
    double lo = o->prices->v[0];
    for (size_t i = 1; i < o->prices->n; i++)
        if (o->prices->v[i] < lo) lo = o->prices->v[i];
    return lo;
}

typedef struct {
    ec_charge_session_t s;
    size_t given; /* its place in the sessions given */
} placed_t;

static int by_arrival(const void *a, const void *b)
{
    const placed_t *x = a, *y = b;
    if (x->s.arrival_s != y->s.arrival_s) return x->s.arrival_s < y->s.arrival_s ? -1 : 1;
    return x->given < y->given ? -1 : x->given > y->given;
}

typedef struct {
    placed_t *ss;
    double *got;               /* delivered to each, net of V2G */
    ec_alloc_session_t *act;   /* the sessions present this period */
    size_t *which;             /* act[j] is ss[which[j]] */
    double *w, *now_w;         /* act's powers; every session's, in the order given (on_period) */
    double *head, *price, *other;
    unsigned char *gave;       /* discharged at some point */
} replay_t;

static void replay__free(replay_t *p)
{
    ec_free(p->ss), ec_free(p->got), ec_free(p->act), ec_free(p->which), ec_free(p->w), ec_free(p->now_w);
    ec_free(p->head), ec_free(p->price), ec_free(p->other), ec_free(p->gave);
}

static ec_err replay__init(replay_t *p, const ec_vec *sessions)
{
    size_t n = sessions->len, m = n ? n : 1;
    memset(p, 0, sizeof *p);
    p->ss = ec_malloc(m * sizeof *p->ss), p->got = ec_calloc(m, sizeof *p->got), p->act = ec_malloc(m * sizeof *p->act);
    p->which = ec_malloc(m * sizeof *p->which), p->w = ec_malloc(m * sizeof *p->w), p->now_w = ec_calloc(m, sizeof *p->now_w);
    p->head = ec_malloc(HORIZON_MAX * sizeof *p->head), p->price = ec_malloc(HORIZON_MAX * sizeof *p->price);
    p->other = ec_malloc(HORIZON_MAX * sizeof *p->other), p->gave = ec_calloc(m, 1);
    if (!p->ss || !p->got || !p->act || !p->which || !p->w || !p->now_w || !p->head || !p->price || !p->other || !p->gave) {
        replay__free(p);
        return EC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) p->ss[i] = (placed_t){EC_VEC_AT(sessions, ec_charge_session_t, i), i};
    if (n > 1) qsort(p->ss, n, sizeof *p->ss, by_arrival);
    return EC_OK;
}

/* The sessions present at t that still want or can give energy, into act. */
static size_t present(replay_t *p, const ec_charge_sim_opts_t *o, size_t first, size_t next, int64_t t)
{
    size_t k = 0;
    for (size_t i = first; i < next; i++) {
        const ec_charge_session_t *s = &p->ss[i].s;
        double left = s->requested_wh - p->got[i];
        double v2g = s->max_discharge_w > 0 ? s->arrival_wh + p->got[i] - s->need_wh : 0;
        if (s->departure_s <= t || (left <= 1e-9 && v2g <= 1e-9)) continue;
        double max = s->max_w, dmax = s->max_discharge_w;
        if (o->evse_max_w > 0 && o->evse_max_w < max) max = o->evse_max_w;
        if (o->evse_max_w > 0 && o->evse_max_w < dmax) dmax = o->evse_max_w;
        p->act[k] = (ec_alloc_session_t){s->arrival_s, s->est_departure_s, left > 0 ? left : 0, max, 0, v2g > 0 ? v2g : 0, dmax};
        p->which[k++] = i;
    }
    return k;
}

/* The battery's power this period. In a run that minimises the cost (a
 * price series, no peak to hold) it gives what the charging draws above the
 * capacity and never buys: its losses make energy bought now dearer than the
 * same energy bought later for the vehicles, which the optimiser already
 * places in the cheapest periods, so buying could only raise the cost. To
 * hold a peak, or beside a heuristic, it also charges up to the target when
 * the price now is at most the mean of the horizon. */
static double battery(ec_battery_t *b, const ec_charge_sim_opts_t *o, double target_w, double charging_w, double price_now,
                      double mean)
{
    int cost_run = o->prices && !o->minimise_peak && o->algo == EC_ALLOC_OPT;
    return ec_battery_step(b, target_w, charging_w, price_now, cost_run ? -INFINITY : mean, o->period_s);
}

ec_err ec_charge_simulate(const ec_vec *sessions, const ec_charge_sim_opts_t *o, ec_charge_sim_result_t *r)
{
    memset(r, 0, sizeof *r);
    if (o->period_s <= 0) return ec_fail(EC_EINVAL, "the control period must be positive");
    replay_t p;
    ec_err rc = replay__init(&p, sessions);
    if (rc) return rc;
    size_t n = sessions->len;
    placed_t *ss = p.ss;
    /* The replay steps by whole periods from the one the first arrival falls in. */
    int64_t t = n ? ss[0].s.arrival_s - ((ss[0].s.arrival_s % o->period_s) + o->period_s) % o->period_s : 0, end = 0;
    for (size_t i = 0; i < n; i++) {
        r->requested_wh += ss[i].s.requested_wh;
        if (ss[i].s.departure_s > end) end = ss[i].s.departure_s;
    }
    r->sessions = (int64_t)n;
    ec_battery_t bat = o->battery;
    int grid = o->prices || o->others || bat.capacity_wh > 0; /* a horizon to look at, else the fast path */
    double h = (double)o->period_s / 3600.0;
    size_t first = 0, next = 0; /* sessions before first have left; from next on are yet to come */
    for (; t < end; t += o->period_s) {
        while (next < n && ss[next].s.arrival_s <= t) next++;
        while (first < next && ss[first].s.departure_s <= t) first++;
        size_t k = present(&p, o, first, next, t);
        double bat_w = 0, price_now = ec_charge_price_at(o, t), others = ec_series_value(o->others, t, 0);
        if (k) {
            /* What the battery can give now raises the headroom of this period. */
            double give = bat.stored_wh / h < bat.max_discharge_w ? bat.stored_wh / h : bat.max_discharge_w;
            /* The engine's horizon, as the hub's: without series there is nothing to look ahead at. */
            ec_share_limits_t lim = {o->capacity_w, 0, o->others, NULL, o->prices, 0, bat.capacity_wh > 0 ? give : 0,
                                     grid ? HORIZON_MAX : 1};
            ec_alloc_grid_t g;
            ec_share_horizon(&lim, p.act, k, t, o->period_s, p.head, p.other, p.price, &g);
            g.minimise_peak = o->minimise_peak, g.v2g_price = o->v2g_price;
            double mean = price_now;
            if (grid) {
                mean = 0;
                for (size_t q = 0; q < g.n_periods; q++) mean += (o->prices ? p.price[q] : o->price_per_kwh) / (double)g.n_periods;
            }
            ec_alloc_solve(o->algo, p.act, k, &g, p.w);
            double sum = 0, out_wh = 0;
            for (size_t j = 0; j < k; j++) {
                size_t i = p.which[j];
                double e = p.w[j] * h;
                if (e > ss[i].s.requested_wh - p.got[i]) e = ss[i].s.requested_wh - p.got[i];
                if (e < 0) {
                    r->exported_wh += -e;
                    out_wh += -e;
                    p.gave[i] = 1;
                }
                p.got[i] += e;
                sum += e / h;
                p.now_w[ss[i].given] = e / h;
            }
            if (bat.capacity_wh > 0) {
                /* Holding the peak: the battery keeps the draw within the highest so far. */
                double target = o->minimise_peak ? (r->peak_w < o->capacity_w ? r->peak_w : o->capacity_w) : o->capacity_w;
                bat_w = battery(&bat, o, target - others, sum, price_now, mean);
            }
            double net = sum + bat_w + others;
            r->steps++;
            if ((int64_t)k > r->max_active) r->max_active = (int64_t)k;
            if (net > r->peak_w) r->peak_w = net;
            if (net - o->capacity_w > r->max_over_w) r->max_over_w = net - o->capacity_w;
            /* The others pay for theirs; what V2G gives back is credited at the export price. */
            double export_price = o->export_price > 0 ? o->export_price : price_now;
            r->cost += (sum * h + out_wh) / 1000.0 * price_now - out_wh / 1000.0 * export_price;
        } else if (bat.capacity_wh > 0) {
            double mean = 0;
            for (int q = 0; q < 24; q++) mean += ec_charge_price_at(o, t + q * 3600) / 24;
            bat_w = battery(&bat, o, (o->minimise_peak ? r->peak_w : o->capacity_w) - others, 0, price_now, mean);
            if (bat_w + others > r->peak_w) r->peak_w = bat_w + others;
        }
        if (bat_w < 0) r->battery_out_wh += -bat_w * h;
        if (bat_w > 0) r->battery_in_wh += bat_w * h;
        r->cost += bat_w * h / 1000.0 * price_now;
        if (o->on_period) o->on_period(o->ctx, t, p.now_w, bat_w, others);
        for (size_t j = 0; j < k; j++) p.now_w[ss[p.which[j]].given] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        const ec_charge_session_t *s = &ss[i].s;
        r->delivered_wh += p.got[i] > 0 ? p.got[i] : 0;
        double short_wh = s->requested_wh - p.got[i];
        if (short_wh > 0) r->unmet_wh += short_wh;
        double below = s->need_wh - (s->arrival_wh + p.got[i]);
        if (p.gave[i] && below > r->below_need_wh) r->below_need_wh = below;
    }
    r->battery_change_wh = bat.stored_wh - o->battery.stored_wh;
    r->cost -= r->battery_change_wh / 1000.0 * lowest_price(o);
    r->delivered_pct = r->requested_wh > 0 ? 100.0 * r->delivered_wh / r->requested_wh : 100.0;
    replay__free(&p);
    return EC_OK;
}

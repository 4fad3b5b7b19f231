/* optimal.c - the offline optimum of a replay: with every arrival, departure
 * and request known in advance, the most energy that can be delivered under
 * the capacity. It is a maximum flow — source → session (its request) →
 * each period it is plugged in (its maximum power for one period) → sink
 * (the capacity for one period) — solved exactly (engine/flow.c), so no LP
 * solver is needed for it: the LP over the horizon has this structure and
 * the same optimum. The peak and the cost come after the energy, in that
 * order, as for `opt`. */
#include "ecorridor/ec_sim.h"
#include "engine/flow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double price;
    int64_t t;
} period_price_t;

static int by_price(const void *a, const void *b)
{
    const period_price_t *x = a, *y = b;
    if (x->price != y->price) return x->price < y->price ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

typedef struct {
    const ec_charge_session_t *ss;
    size_t n;
    const ec_charge_sim_opts_t *o;
    int64_t t0, periods;
    double per_h;
    flow_t f;
    int *sess_arc;     /* each session's arc into its first period */
    int first_sink_arc;
    period_price_t *order; /* the periods cheapest first; NULL: all at once */
} problem_t;

/* What the sink may take in period t under a peak of peak_w (others included). */
static double room_wh(const problem_t *p, int64_t t, double peak_w)
{
    double others = ec_series_value(p->o->others, p->t0 + t * p->o->period_s, 0);
    double cap = p->o->capacity_w < peak_w ? p->o->capacity_w : peak_w;
    cap -= others;
    return (cap > 0 ? cap : 0) * p->per_h;
}

/* The most energy under peak_w, the periods opened in p->order when there
 * are prices (each filled as far as the ones before allow: the polymatroid
 * greedy, so the least cost of the most energy). */
static ec_err solve(problem_t *p, double peak_w, double *delivered_wh)
{
    int src = (int)(p->n + (size_t)p->periods), sink = src + 1;
    ec_err rc = flow__reset(&p->f, sink + 1);
    double max_w = 0;
    for (size_t i = 0; i < p->n && !rc; i++) {
        const ec_charge_session_t *s = &p->ss[i];
        max_w = s->max_w;
        if (p->o->evse_max_w > 0 && p->o->evse_max_w < max_w) max_w = p->o->evse_max_w;
        rc = flow__arc(&p->f, src, (int)i, s->requested_wh, NULL);
        p->sess_arc[i] = p->f.n_arcs;
        for (int64_t t = (s->arrival_s - p->t0) / p->o->period_s; !rc && p->t0 + t * p->o->period_s < s->departure_s; t++)
            rc = flow__arc(&p->f, (int)i, (int)(p->n + (size_t)t), max_w * p->per_h, NULL);
    }
    p->first_sink_arc = p->f.n_arcs;
    for (int64_t t = 0; t < p->periods && !rc; t++)
        rc = flow__arc(&p->f, (int)(p->n + (size_t)t), sink, p->order ? 0 : room_wh(p, t, peak_w), NULL);
    if (rc) return rc;
    if (!p->order) {
        *delivered_wh = flow__max(&p->f, src, sink);
        return EC_OK;
    }
    *delivered_wh = 0;
    for (int64_t k = 0; k < p->periods; k++) {
        p->f.arcs[p->first_sink_arc + 2 * p->order[k].t].cap = room_wh(p, p->order[k].t, peak_w);
        *delivered_wh += flow__max(&p->f, src, sink);
    }
    return EC_OK;
}

/* The least peak (to 1 W) that still lets `most` through. */
static ec_err least_peak(problem_t *p, double most, double *peak_w)
{
    double lo = 0, hi = p->o->capacity_w, got = 0;
    for (int64_t t = 0; t < p->periods; t++) {
        double others = ec_series_value(p->o->others, p->t0 + t * p->o->period_s, 0);
        if (others > lo) lo = others; /* the others' load alone reaches this */
    }
    if (lo > hi) lo = hi;
    while (hi - lo > 1) {
        double mid = (lo + hi) / 2;
        ec_err rc = solve(p, mid, &got);
        if (rc) return rc;
        if (got >= most - 1e-9 * most - 1e-3) hi = mid; /* a milliwatt-hour: the flow's rounding, not energy given up */
        else lo = mid;
    }
    *peak_w = hi;
    return EC_OK;
}

static void report(problem_t *p, ec_charge_sim_result_t *r)
{
    const ec_charge_sim_opts_t *o = p->o;
    double *w = o->on_period ? ec_calloc(p->n ? p->n : 1, sizeof *w) : NULL;
    for (int64_t t = 0; t < p->periods; t++) {
        int64_t at = p->t0 + t * o->period_s;
        double wh = flow__on(&p->f, p->first_sink_arc + 2 * (int)t), others = ec_series_value(o->others, at, 0);
        double drawn = wh / p->per_h + others;
        if (drawn > r->peak_w) r->peak_w = drawn;
        r->cost += wh / 1000.0 * ec_charge_price_at(o, at);
        if (!w) continue;
        for (size_t i = 0; i < p->n; i++) {
            int64_t a = (p->ss[i].arrival_s - p->t0) / o->period_s;
            w[i] = t >= a && at < p->ss[i].departure_s ? flow__on(&p->f, p->sess_arc[i] + 2 * (int)(t - a)) / p->per_h : 0;
        }
        o->on_period(o->ctx, at, w, 0, others);
    }
    ec_free(w);
}

ec_err ec_charge_offline_optimum(const ec_vec *sessions, const ec_charge_sim_opts_t *o, ec_charge_sim_result_t *r)
{
    memset(r, 0, sizeof *r);
    if (o->period_s <= 0) return ec_fail(EC_EINVAL, "the control period must be positive");
    problem_t p;
    memset(&p, 0, sizeof p);
    p.ss = sessions->data, p.n = sessions->len, p.o = o, p.per_h = (double)o->period_s / 3600.0;
    int64_t t0 = INT64_MAX, t1 = 0;
    for (size_t i = 0; i < p.n; i++) {
        if (p.ss[i].arrival_s < t0) t0 = p.ss[i].arrival_s;
        if (p.ss[i].departure_s > t1) t1 = p.ss[i].departure_s;
        r->requested_wh += p.ss[i].requested_wh;
    }
    r->sessions = (int64_t)p.n;
    if (!p.n || t1 <= t0) {
        r->delivered_pct = 100;
        return EC_OK;
    }
    /* Whole periods from the one the first arrival falls in, as the replay steps. */
    t0 -= ((t0 % o->period_s) + o->period_s) % o->period_s;
    p.t0 = t0, p.periods = (t1 - t0 + o->period_s - 1) / o->period_s;
    if ((int64_t)p.n + p.periods + 2 > 50000000) return ec_fail(EC_ELIMIT, "too many sessions and periods for the optimum");
    ec_err rc = EC_OK;
    p.sess_arc = ec_malloc(p.n * sizeof *p.sess_arc);
    if (o->prices) p.order = ec_malloc((size_t)p.periods * sizeof *p.order);
    if (!p.sess_arc || (o->prices && !p.order)) {
        rc = EC_ENOMEM;
        goto done;
    }
    if (p.order) {
        for (int64_t t = 0; t < p.periods; t++) p.order[t] = (period_price_t){ec_charge_price_at(o, t0 + t * o->period_s), t};
        qsort(p.order, (size_t)p.periods, sizeof *p.order, by_price);
    }
    double most = 0, peak = o->capacity_w;
    rc = solve(&p, peak, &most);
    /* The bisection leaves the flow of the last peak it tried, which may be
     * too low: the flow reported is solved again at the peak it found. */
    if (!rc && o->minimise_peak && !(rc = least_peak(&p, most, &peak))) rc = solve(&p, peak, &most);
    if (rc) goto done;
    r->delivered_wh = most;
    report(&p, r);
    r->steps = p.periods;
    r->delivered_pct = r->requested_wh > 0 ? 100.0 * r->delivered_wh / r->requested_wh : 100.0;
    r->unmet_wh = r->requested_wh > r->delivered_wh ? r->requested_wh - r->delivered_wh : 0;
done:
    ec_free(p.order);
    ec_free(p.sess_arc);
    flow__free(&p.f);
    return rc;
}

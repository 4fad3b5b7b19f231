/* optimal.c - the offline optimum of a replay: with every arrival, departure
 * and request known in advance, the most energy that can be delivered under
 * the capacity. It is a maximum flow — source → session (its request) →
 * each period it is plugged in (its maximum power for one period) → sink
 * (the capacity for one period) — solved exactly (engine/flow.c), so no LP
 * solver is needed for it: the LP over the horizon has this structure and
 * the same optimum. */
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

ec_err ec_charge_offline_optimum(const ec_vec *sessions, const ec_charge_sim_opts_t *o, ec_charge_sim_result_t *r)
{
    memset(r, 0, sizeof *r);
    if (o->period_s <= 0) return ec_fail(EC_EINVAL, "the control period must be positive");
    const ec_charge_session_t *ss = sessions->data;
    size_t n = sessions->len;
    int64_t t0 = INT64_MAX, t1 = 0;
    for (size_t i = 0; i < n; i++) {
        if (ss[i].arrival_s < t0) t0 = ss[i].arrival_s;
        if (ss[i].departure_s > t1) t1 = ss[i].departure_s;
        r->requested_wh += ss[i].requested_wh;
    }
    r->sessions = (int64_t)n;
    if (!n || t1 <= t0) {
        r->delivered_pct = 100;
        return EC_OK;
    }
    int64_t periods = (t1 - t0 + o->period_s - 1) / o->period_s;
    if ((int64_t)n + periods + 2 > 50000000) return ec_fail(EC_ELIMIT, "too many sessions and periods for the optimum");
    flow_t f;
    memset(&f, 0, sizeof f);
    int nodes = (int)(n + (size_t)periods + 2), src = nodes - 2, sink = nodes - 1;
    ec_err rc = flow__reset(&f, nodes);
    double per_h = (double)o->period_s / 3600.0;
    for (size_t i = 0; i < n && !rc; i++) {
        double max = ss[i].max_w;
        if (o->evse_max_w > 0 && o->evse_max_w < max) max = o->evse_max_w;
        rc = flow__arc(&f, src, (int)i, ss[i].requested_wh, NULL);
        for (int64_t t = (ss[i].arrival_s - t0) / o->period_s; !rc && t0 + t * o->period_s < ss[i].departure_s; t++)
            rc = flow__arc(&f, (int)i, (int)(n + (size_t)t), max * per_h, NULL);
    }
    int first_sink_arc = f.n_arcs;
    /* With a price series the periods open cheapest first, each filled as far
     * as the ones before allow (the polymatroid greedy): the most energy at
     * the least cost. Without, all at once. */
    int greedy = o->prices != NULL;
    for (int64_t t = 0; t < periods && !rc; t++) {
        double cap = o->capacity_w - ec_series_value(o->others, t0 + t * o->period_s, 0);
        rc = flow__arc(&f, (int)(n + (size_t)t), sink, greedy ? 0 : (cap > 0 ? cap : 0) * per_h, NULL);
    }
    period_price_t *order = greedy && !rc ? ec_malloc((size_t)periods * sizeof *order) : NULL;
    if (greedy && !order) rc = rc ? rc : EC_ENOMEM;
    if (!rc) {
        if (greedy) {
            for (int64_t t = 0; t < periods; t++) order[t] = (period_price_t){ec_charge_price_at(o, t0 + t * o->period_s), t};
            qsort(order, (size_t)periods, sizeof *order, by_price);
            for (int64_t k = 0; k < periods; k++) {
                double cap = o->capacity_w - ec_series_value(o->others, t0 + order[k].t * o->period_s, 0);
                f.arcs[first_sink_arc + 2 * order[k].t].cap = (cap > 0 ? cap : 0) * per_h;
                r->delivered_wh += flow__max(&f, src, sink);
            }
        } else {
            r->delivered_wh = flow__max(&f, src, sink);
        }
        for (int e = first_sink_arc; e < f.n_arcs; e += 2) {
            int64_t at = t0 + (int64_t)((e - first_sink_arc) / 2) * o->period_s;
            double wh = flow__on(&f, e), w = wh / per_h + ec_series_value(o->others, at, 0); /* drawn this period */
            if (w > r->peak_w) r->peak_w = w;
            r->cost += wh / 1000.0 * ec_charge_price_at(o, t0 + (int64_t)((e - first_sink_arc) / 2) * o->period_s);
        }
        r->steps = periods;
        r->delivered_pct = r->requested_wh > 0 ? 100.0 * r->delivered_wh / r->requested_wh : 100.0;
        r->unmet_wh = r->requested_wh > r->delivered_wh ? r->requested_wh - r->delivered_wh : 0;
    }
    ec_free(order);
    flow__free(&f);
    return rc;
}

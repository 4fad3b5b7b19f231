/* twin_plan.c - planning the twin's trucks with route/: at departure, in
 * batches that see the same waits (a dispatcher's live availability), one
 * plan for the trucks of a batch that ask the same question, the questions
 * spread over threads (each with its own planner; the graph and the sites
 * are read-only while they run). A truck re-plans alone, from a site. */
#include "twin_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static void request(const tw *w, const tw_truck *t, int64_t depart_s, ec_trip_request_t *r, const char **avoid)
{
    memset(r, 0, sizeof *r);
    const ec_vehicle_profile *v = &w->vehicles[t->vehicle];
    r->vehicle = v;
    r->cond = ec_conditions_default(v);
    r->cond.temp_c = w->c->temp_c;
    r->soc_start = t->soc;
    r->soc_min = r->soc_min_arrival = w->c->soc_min;
    if (r->soc_start < r->soc_min) r->soc_min = r->soc_min_arrival = r->soc_start;
    r->rules = w->c->rules;
    r->depart_s = depart_s;
    r->objective = EC_OBJ_TIME;
    r->stop_overhead_s = w->c->stop_overhead_s;
    if (avoid) r->avoid = avoid, r->n_avoid = 1;
}

static int site_index(const tw *w, const char *id)
{
    uint64_t si;
    return ec_map_get(&w->site_by_id, ec_hash_bytes(id, strlen(id)), &si) ? (int)si : -1;
}

int twin__nearest_site(const tw *w, ec_latlon_t p)
{
    int best = -1;
    double bd = 0;
    for (size_t i = 0; i < w->sites.len; i++) {
        double d = ec_geo_haversine_m(p, TW_SITE(w, i)->pos);
        if (best < 0 || d < bd) best = (int)i, bd = d;
    }
    return best;
}

/* The plan in the twin's form: stops relative to its departure. */
static int compact(tw *w, const ec_trip_plan_t *p, double soc_start)
{
    tw_plan c;
    memset(&c, 0, sizeof c);
    c.feasible = p->feasible, c.first = (int)w->stops.len, c.near_site = -1;
    if (!p->feasible) {
        snprintf(c.reason, sizeof c.reason, "%.199s", p->reason);
        if (p->farthest[0]) c.near_site = twin__nearest_site(w, p->farthest_at);
    }
    int64_t prev = p->departure_s, carry = 0;
    double soc = soc_start;
    for (int i = 0; p->feasible && i < p->n_stops; i++) {
        const ec_trip_stop_t *s = &p->stops[i];
        int si = site_index(w, s->site_id);
        if (s->energy_kwh <= 0 || si < 0) {
            /* A pause at a site without charging takes no point: it is part of the drive. */
            continue;
        }
        tw_stop st;
        memset(&st, 0, sizeof st);
        st.site = si, st.plug = s->plug, st.reserved = s->reserved;
        st.leg_ms = (s->arrival_s - prev + carry) * 1000;
        st.stay_ms = (int64_t)llround(((double)(s->departure_s - s->arrival_s) - s->wait_s) * 1000);
        if (st.stay_ms < 0) st.stay_ms = 0;
        st.grid_wh = s->energy_kwh * 1000, st.overhead_s = s->overhead_s;
        st.leg_soc = soc - s->soc_in;
        /* The road pauses of the leg: what the driver's clocks make of it on arrival. */
        for (int k = 0; k < p->n_pauses; k++) {
            const ec_trip_pause_t *x = &p->pauses[k];
            if (x->start_s < prev || x->start_s >= s->arrival_s) continue;
            st.leg_pause_ms += (x->end_s - x->start_s) * 1000;
            st.leg_after_ms = (s->arrival_s - x->end_s) * 1000;
            st.leg_reset = x->kind == EC_PAUSE_REST ? 2 : x->kind == EC_PAUSE_BREAK ? 1 : st.leg_reset;
        }
        soc = s->soc_out;
        c.wait_ms += (int64_t)llround(s->wait_s * 1000);
        prev = s->departure_s, carry = 0;
        if (ec_vec_push(&w->stops, &st)) return -1;
        c.n++;
    }
    c.last_ms = (p->arrival_s - prev) * 1000;
    if (ec_vec_push(&w->plans, &c)) return -1;
    return (int)w->plans.len - 1;
}

/* The planner of vehicle v among a thread's, made when first needed. */
static ec_err planner_of(const tw *w, ec_trip_planner **row, int v)
{
    return row[v] ? EC_OK : ec_trip_planner_new(w->c->g, w->c->sites, &row[v]);
}

/* The fastest plan: without charging when the truck can (no charging stop
 * makes a trip faster), else over the sites. */
static ec_err plan(const tw *w, ec_trip_planner **row, ec_trip_planner **direct, const ec_trip_request_t *r, int v,
                   ec_latlon_t from, ec_latlon_t to, ec_trip_plan_t *out)
{
    ec_err rc = direct[v] ? EC_OK : ec_trip_planner_new(w->c->g, &w->no_sites, &direct[v]);
    if (!rc) rc = ec_trip_plan(direct[v], r, from, to, out);
    if (rc || out->feasible) return rc;
    if ((rc = planner_of(w, row, v))) return rc;
    return ec_trip_plan(row[v], r, from, to, out);
}

/* ---- batches -------------------------------------------------------------------------------- */

typedef struct {
    tw *w;
    const int *ask;           /* the truck that asks each question */
    size_t n;
    ec_trip_plan_t *plans;
    atomic_size_t *next;      /* one counter hands out the questions to every job */
    ec_trip_planner **planners; /* this thread's, one per vehicle */
    ec_trip_planner **direct;   /* the same over no sites */
} job;

static void *worker(void *arg)
{
    job *j = arg;
    for (;;) {
        size_t i = atomic_fetch_add(j->next, 1);
        if (i >= j->n) break;
        const tw_truck *t = TW_TRUCK(j->w, j->ask[i]);
        ec_trip_request_t r;
        request(j->w, t, t->depart_ms / 1000, &r, NULL);
        ec_err rc = plan(j->w, j->planners, j->direct, &r, t->vehicle, ec_graph_point(j->w->c->g, t->from),
                         ec_graph_point(j->w->c->g, t->to), &j->plans[i]);
        if (rc) {
            j->plans[i].feasible = 0;
            snprintf(j->plans[i].reason, sizeof j->plans[i].reason, "%.1000s", ec_errmsg());
            j->plans[i].farthest[0] = 0;
        }
    }
    return NULL;
}

/* Trucks of one batch ask the same question when they go from the same
 * node to the same node in the same vehicle with the same charge. */
typedef struct {
    uint32_t from, to;
    int vehicle;
    double soc;
    int truck;
} question;

static int same_question(const question *a, const question *b)
{
    return a->from == b->from && a->to == b->to && a->vehicle == b->vehicle && a->soc == b->soc;
}

static int by_question(const void *x, const void *y)
{
    const question *a = x, *b = y;
    if (a->from != b->from) return a->from < b->from ? -1 : 1;
    if (a->to != b->to) return a->to < b->to ? -1 : 1;
    if (a->vehicle != b->vehicle) return a->vehicle < b->vehicle ? -1 : 1;
    if (a->soc != b->soc) return a->soc < b->soc ? -1 : 1;
    return a->truck < b->truck ? -1 : a->truck > b->truck;
}

ec_err twin__plan_batch(tw *w, size_t first, size_t n)
{
    if (!n) return EC_OK;
    question *order = ec_malloc(n * sizeof *order);
    int *ask = ec_malloc(n * sizeof *ask);
    ec_trip_plan_t *plans = NULL;
    ec_err rc = order && ask ? EC_OK : EC_ENOMEM;
    if (rc) goto done;
    for (size_t i = 0; i < n; i++) {
        const tw_truck *t = TW_TRUCK(w, first + i);
        order[i] = (question){t->from, t->to, t->vehicle, t->soc, (int)(first + i)};
    }
    int64_t t0 = ec_time_mono_ns();
    qsort(order, n, sizeof *order, by_question);
    size_t q = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || !same_question(&order[i], &order[i - 1])) ask[q++] = order[i].truck;
        TW_TRUCK(w, order[i].truck)->plan = (int)q - 1; /* the question's number, for now */
    }
    plans = ec_malloc(q * sizeof *plans);
    if (!plans) {
        rc = EC_ENOMEM;
        goto done;
    }
    int nt = w->c->threads < 1 ? 1 : w->c->threads;
    if ((size_t)nt > q) nt = (int)q;
    job jobs[EC_TWIN_MAX_THREADS];
    pthread_t th[EC_TWIN_MAX_THREADS];
    atomic_size_t next;
    atomic_init(&next, 0);
    int started = 0;
    for (int k = 0; k < nt; k++) {
        jobs[k].w = w, jobs[k].ask = ask, jobs[k].n = q, jobs[k].plans = plans;
        jobs[k].planners = w->planners[k], jobs[k].direct = w->direct[k], jobs[k].next = &next;
    }
    for (int k = 1; k < nt; k++) {
        if (pthread_create(&th[k], NULL, worker, &jobs[k])) break;
        started = k;
    }
    worker(&jobs[0]);
    for (int k = 1; k <= started; k++) pthread_join(th[k], NULL);
    /* The answers join the world in the questions' order: the same whatever the threads did. */
    int *made = ec_malloc(q * sizeof *made);
    if (!made) {
        rc = EC_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < q && !rc; i++) {
        made[i] = compact(w, &plans[i], TW_TRUCK(w, ask[i])->soc);
        if (made[i] < 0) rc = EC_ENOMEM;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        tw_truck *t = TW_TRUCK(w, first + i);
        t->plan = made[t->plan];
    }
    w->planned += n;
    w->questions += q;
    w->batch_ns += ec_time_mono_ns() - t0;
    ec_free(made);
done:
    ec_free(plans);
    ec_free(order);
    ec_free(ask);
    return rc;
}

int twin__replan(tw *w, int ti, int site)
{
    tw_truck *t = TW_TRUCK(w, ti);
    const char *avoid[1] = {TW_SITE(w, site)->id};
    int64_t t0 = ec_time_mono_ns();
    w->replans++;
    twin__snapshot(w);
    ec_trip_request_t r;
    request(w, t, w->now_ms / 1000, &r, avoid);
    /* The driver goes on with the clocks of the day so far (its time at this site on duty). */
    r.driven_since_break_s = fmin(t->since_s, 24 * 3600.0);
    r.driven_today_s = fmin(t->today_s, 24 * 3600.0);
    r.on_duty_s = fmin(t->duty_s + (double)(w->now_ms - t->arrive_ms) / 1000.0, 24 * 3600.0);
    ec_trip_plan_t *p = ec_malloc(sizeof *p);
    if (!p) {
        twin__fail(w, EC_ENOMEM);
        return 0;
    }
    ec_err rc = plan(w, w->planners[0], w->direct[0], &r, t->vehicle, TW_SITE(w, site)->pos, ec_graph_point(w->c->g, t->to), p);
    int ok = !rc && p->feasible, pi = ok ? compact(w, p, t->soc) : -1;
    ec_free(p);
    w->replan_ns += ec_time_mono_ns() - t0;
    if (!ok || pi < 0) return 0;
    t->plan = pi, t->stop = 0, t->replanned++;
    t->state = TR_DRIVING;
    twin__start_leg(w, ti);
    return 1;
}

/* The rules' break and daily rest (a reduced one for the EU), for reading a stop. */
static void rule_pauses(ec_rules rules, double *brk_s, double *rest_s)
{
    *brk_s = rules == EC_RULES_US ? 1800 : 2700;
    *rest_s = rules == EC_RULES_US ? 36000 : 32400;
}

void twin__clock_leg(const tw *w, tw_truck *t, const tw_stop *st)
{
    if (w->c->rules == EC_RULES_NONE) return;
    double leg = (double)st->leg_ms / 1000, drive = (double)(st->leg_ms - st->leg_pause_ms) / 1000,
           after = (double)st->leg_after_ms / 1000;
    if (st->leg_reset == 2) t->since_s = t->today_s = t->duty_s = after;
    else if (st->leg_reset == 1) t->since_s = after, t->today_s += drive, t->duty_s += leg;
    else t->since_s += drive, t->today_s += drive, t->duty_s += leg;
}

void twin__clock_stop(const tw *w, tw_truck *t)
{
    if (w->c->rules == EC_RULES_NONE) return;
    double brk, rest, stood = (double)(w->now_ms - t->start_ms) / 1000;
    rule_pauses(w->c->rules, &brk, &rest);
    if (stood >= rest) t->since_s = t->today_s = t->duty_s = 0;
    else if (stood >= brk) t->since_s = 0, t->duty_s += (double)(w->now_ms - t->arrive_ms) / 1000;
    else t->duty_s += (double)(w->now_ms - t->arrive_ms) / 1000;
}

void twin__start_leg(tw *w, int ti)
{
    tw_truck *t = TW_TRUCK(w, ti);
    const tw_plan *p = TW_PLAN(w, t->plan);
    t->state = TR_DRIVING;
    if (t->stop < p->n) {
        const tw_stop *st = TW_STOP(w, p->first + t->stop);
        t->soc -= st->leg_soc;
        twin__push(w, w->now_ms + st->leg_ms, EV_ARRIVE_SITE, ti, 0);
    } else {
        twin__push(w, w->now_ms + p->last_ms, EV_ARRIVE_DEST, ti, 0);
    }
}

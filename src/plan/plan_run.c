/* plan_run.c - the planning run: places, the budgeted plan and its ranked
 * actions each measured by a day of the twin, shared against duplicated
 * networks, who pays, resilience and the cost of ownership (docs/plan.md).
 *
 * Every figure of a day comes from ec_twin_run on the same options and seed,
 * so `ecorridor simulate` with the scenario a rank writes gives the same. */
#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_plan.h"
#include "plan_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#define PLAN_SOC_START 0.70    /* the lowest charge the twin's trucks leave the depot with */
#define PLAN_SOC_MIN 0.10      /* the twin's minimum charge everywhere */
#define PLAN_SOC_CHARGE_TO 0.80
#define PLAN_SNAP_MAX_M 5000.0 /* a candidate farther than this from a road is off the network */
#define PLAN_SITE_ID_MAX 31    /* the twin's charge point ids are "<site>-<n>" (twin_internal.h) */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- places --------------------------------------------------------------------------------- */

static uint32_t nearest_node(const ec_graph *g, ec_latlon_t p, double *dist_m)
{
    uint32_t best = 0;
    double bd = INFINITY;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        double d = ec_geo_haversine_m(p, ec_graph_point(g, i));
        if (d < bd) bd = d, best = i;
    }
    if (dist_m) *dist_m = bd;
    return best;
}

static double closeness(double km, double prox)
{
    if (km < 0 || prox <= 0) return 0;
    return km >= prox ? 0 : 1 - km / prox;
}

static int place_jurisdiction(const ec_plan_config_t *c, uint32_t node)
{
    if (!c->areas) return -1;
    const ec_graph *g = c->twin.g;
    return ec_plan_areas_of(c->areas, g->ext_id[node], ec_graph_point(g, node));
}

/* The substation id names in subs, as a place's 1-based index; 0: none. */
static int sub_index(const ec_vec *subs, const char *id)
{
    for (size_t i = 0; id[0] && i < subs->len; i++)
        if (!strcmp(EC_VEC_AT(subs, ec_plan_sub_t, i).id, id)) return (int)i + 1;
    return 0;
}

/* A hub's substations with a capacity: its headroom on the planned day is the capacity less the
 * peak of the others' load behind it and the power of its sites today (their points at full power). */
static ec_err hub_subs(const ec_plan_config_t *c, ec_vec *places, ec_vec *subs)
{
    const ec_twin_config_t *t = &c->twin;
    for (size_t i = 0; i < t->n_subs; i++) {
        const ec_substation_power_t *sp = &t->subs[i];
        if (!(sp->capacity_w > 0)) continue;
        double base = 0;
        int64_t step = sp->base_w.interval_s > 0 ? sp->base_w.interval_s : 3600;
        for (int64_t at = t->day_start_s; at < t->day_start_s + 86400; at += step)
            base = fmax(base, ec_series_at(&sp->base_w, ec_year_start_s(at), at, 0));
        ec_plan_sub_t s;
        memset(&s, 0, sizeof s);
        snprintf(s.id, sizeof s.id, "%s", sp->id);
        s.headroom_kw = (sp->capacity_w - base) / 1000;
        ec_err rc = ec_vec_push(subs, &s);
        if (rc) return rc;
    }
    /* Each site: its substation, and its own grid connection, if it has one, as its headroom (the
     * plan may buy more, as far as its points could draw). */
    for (size_t i = 0; i < t->n_site_power; i++) {
        const ec_site_power_t *sp = &t->site_power[i];
        int k = sub_index(subs, sp->substation_id);
        for (size_t j = 0; j < places->len; j++) {
            ec_plan_place_t *pl = &EC_VEC_AT(places, ec_plan_place_t, j);
            if (!pl->existing || strcmp(pl->site_id, sp->id)) continue;
            if (sp->limit_w > 0) {
                pl->headroom_kw = sp->limit_w / 1000 - pl->points0 * pl->kw;
                pl->grid_max_kw = pl->max_points * pl->kw;
            }
            if (!k) continue;
            pl->substation = k;
            EC_VEC_AT(subs, ec_plan_sub_t, k - 1).headroom_kw -= pl->points0 * pl->kw;
        }
    }
    return EC_OK;
}

ec_err ec_plan_places(const ec_plan_config_t *c, ec_vec *places, ec_vec *subs)
{
    const ec_graph *g = c->twin.g;
    const ec_plan_costs_t *k = c->costs;
    ec_vec_init(places, sizeof(ec_plan_place_t));
    ec_vec_init(subs, sizeof(ec_plan_sub_t));
    ec_err rc = EC_OK;
    /* The sites of today, one place each (rows of one site grouped); a site more than 5 km from a
     * road is left out, as the twin's trucks cannot reach it either. */
    const ec_sites *s = c->twin.sites;
    size_t far = 0;
    for (size_t r = 0; s && r < s->n && !rc; r++) {
        const ec_connector_group_t *row = &s->groups[r];
        ec_plan_place_t *pl = NULL;
        ec_snap_t near;
        if (ec_graph_snap(g, row->pos, PLAN_SNAP_MAX_M, &near) != EC_OK) {
            int seen = 0;
            for (size_t q = 0; q < r; q++) seen |= !strcmp(s->groups[q].site_id, row->site_id);
            far += !seen;
            continue;
        }
        for (size_t i = 0; i < places->len; i++) {
            ec_plan_place_t *q = &EC_VEC_AT(places, ec_plan_place_t, i);
            if (!strcmp(q->site_id, row->site_id)) pl = q;
        }
        if (pl) {
            pl->points0 += row->count;
            if (row->power_w / 1000 > pl->kw) {
                pl->kw = row->power_w / 1000, pl->plug = row->standard;
                pl->point_capex = row->standard == EC_PLUG_MCS ? k->mcs_point_capex : k->ccs_point_capex;
            }
            if (pl->max_points < pl->points0) pl->max_points = pl->points0;
            continue;
        }
        ec_plan_place_t p;
        memset(&p, 0, sizeof p);
        snprintf(p.site_id, sizeof p.site_id, "%s", row->site_id);
        snprintf(p.name, sizeof p.name, "%s", row->name[0] ? row->name : row->site_id);
        p.pos = row->pos;
        uint32_t n = nearest_node(g, row->pos, NULL);
        p.node = g->ext_id[n];
        p.existing = 1, p.points0 = row->count, p.kw = row->power_w / 1000, p.plug = row->standard;
        p.point_capex = row->standard == EC_PLUG_MCS ? k->mcs_point_capex : k->ccs_point_capex;
        p.headroom_kw = INFINITY, p.grid_max_kw = 0;
        p.max_points = k->max_points_per_site > p.points0 ? k->max_points_per_site : p.points0;
        p.jurisdiction = place_jurisdiction(c, n);
        rc = ec_vec_push(places, &p);
    }
    if (far)
        ec_log(EC_LOG_WARN, "%zu sites lie more than %.0f km from a road of the corridor: the plan leaves them out, as no truck "
               "will reach them", far, PLAN_SNAP_MAX_M / 1000);
    if (!rc) rc = hub_subs(c, places, subs);
    /* Every node of the corridor. */
    size_t today = places->len;
    for (uint32_t n = 0; n < g->n_nodes && !rc; n++) {
        ec_plan_place_t p;
        memset(&p, 0, sizeof p);
        snprintf(p.site_id, sizeof p.site_id, "node-%lld", (long long)g->ext_id[n]);
        for (size_t j = 0; j < today && !rc; j++)
            if (!strcmp(EC_VEC_AT(places, ec_plan_place_t, j).site_id, p.site_id))
                rc = ec_fail(EC_EINVAL, "sites: the site id %s is the one the plan gives corridor node %lld: rename the site",
                             p.site_id, (long long)g->ext_id[n]);
        if (rc) break;
        const char *nm = g->name_off && g->names && g->name_off[n + 1] > g->name_off[n] ? g->names + g->name_off[n] : NULL;
        if (nm) snprintf(p.name, sizeof p.name, "%.*s", (int)(g->name_off[n + 1] - g->name_off[n]), nm);
        else snprintf(p.name, sizeof p.name, "corridor node %lld", (long long)g->ext_id[n]);
        p.pos = ec_graph_point(g, n);
        p.node = g->ext_id[n];
        p.kw = k->mcs_point_kw, p.plug = EC_PLUG_MCS, p.point_capex = k->mcs_point_capex;
        p.headroom_kw = INFINITY, p.grid_max_kw = 0;
        p.max_points = k->max_points_per_site;
        p.jurisdiction = place_jurisdiction(c, n);
        rc = ec_vec_push(places, &p);
    }
    /* The candidates, each checked against the network. */
    size_t first_cand = places->len;
    for (size_t i = 0; c->cands && i < c->cands->n && !rc; i++) {
        const ec_plan_cand_t *cd = &c->cands->c[i];
        ec_snap_t snap;
        if (ec_graph_snap(g, cd->pos, PLAN_SNAP_MAX_M, &snap) != EC_OK) {
            double d;
            nearest_node(g, cd->pos, &d);
            rc = ec_fail(EC_EINVAL, "%s: line %ld: lat,lon: %s (%.5f, %.5f) lies more than %.0f km from every road of the corridor"
                         " (its nearest node is %.1f km away)", c->cands_name ? c->cands_name : "candidates", cd->line, cd->id,
                         cd->pos.lat, cd->pos.lon, PLAN_SNAP_MAX_M / 1000, d / 1000);
            break;
        }
        if (strlen(cd->id) > PLAN_SITE_ID_MAX) {
            rc = ec_fail(EC_EINVAL, "%s: line %ld: id: \"%s\" is longer than %d characters (a site's id names its charge points)",
                         c->cands_name ? c->cands_name : "candidates", cd->line, cd->id, PLAN_SITE_ID_MAX);
            break;
        }
        for (size_t j = 0; j < places->len; j++)
            if (!strcmp(EC_VEC_AT(places, ec_plan_place_t, j).site_id, cd->id)) {
                rc = ec_fail(EC_EINVAL, "%s: line %ld: id: %s is already the id of a site of today or of a corridor node's place",
                             c->cands_name ? c->cands_name : "candidates", cd->line, cd->id);
                break;
            }
        if (rc) break;
        ec_plan_place_t p;
        memset(&p, 0, sizeof p);
        snprintf(p.site_id, sizeof p.site_id, "%s", cd->id);
        snprintf(p.name, sizeof p.name, "%s", cd->name[0] ? cd->name : cd->id);
        p.pos = cd->pos;
        uint32_t n = nearest_node(g, cd->pos, NULL);
        p.node = g->ext_id[n];
        p.kw = k->mcs_point_kw, p.plug = EC_PLUG_MCS, p.point_capex = k->mcs_point_capex;
        p.headroom_kw = cd->headroom_kw;
        p.max_points = cd->max_points > 0 ? cd->max_points : k->max_points_per_site;
        /* Headroom is the limit without works; a grid upgrade may raise it, at its price per kW, as far
         * as the place's points could draw. */
        p.grid_max_kw = isinf(cd->headroom_kw) ? 0 : fmax(0, p.max_points * p.kw - cd->headroom_kw);
        p.bonus = k->weight_rail * closeness(cd->rail_interchange_km, k->proximity_km) +
                  k->weight_logistics * closeness(cd->logistics_hub_km, k->proximity_km) +
                  k->weight_renewable * closeness(cd->renewable_km, k->proximity_km);
        p.jurisdiction = place_jurisdiction(c, n);
        rc = ec_vec_push(places, &p);
    }
    /* The candidates' substations: a hub's, or one they name, whose headroom is the least they give
     * it (one they give none has no limit, and is not listed); then each candidate behind its own. */
    size_t hub = subs->len;
    for (size_t i = 0; c->cands && i < c->cands->n && !rc; i++) {
        const ec_plan_cand_t *cd = &c->cands->c[i];
        if (!cd->substation_id[0] || !isfinite(cd->headroom_kw)) continue;
        int at = sub_index(subs, cd->substation_id);
        if (!at) {
            ec_plan_sub_t sb;
            memset(&sb, 0, sizeof sb);
            snprintf(sb.id, sizeof sb.id, "%s", cd->substation_id);
            sb.headroom_kw = INFINITY;
            if ((rc = ec_vec_push(subs, &sb))) break;
            at = (int)subs->len;
        }
        ec_plan_sub_t *sb = &EC_VEC_AT(subs, ec_plan_sub_t, at - 1);
        if ((size_t)at > hub) sb->headroom_kw = fmin(sb->headroom_kw, cd->headroom_kw);
    }
    for (size_t i = 0; c->cands && i < c->cands->n && !rc; i++)
        EC_VEC_AT(places, ec_plan_place_t, first_cand + i).substation = sub_index(subs, c->cands->c[i].substation_id);
    if (rc) ec_vec_free(places), ec_vec_free(subs);
    return rc;
}

double ec_plan_cheapest_action(const ec_plan_config_t *c, const ec_plan_place_t *pl, size_t n, char *what, size_t what_n)
{
    double best = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (pl[i].max_points <= pl[i].points0) continue;
        double cost = pl[i].point_capex + (pl[i].existing ? 0 : c->costs->site_fixed_capex);
        double head = fmax(0, pl[i].headroom_kw);
        if (!isinf(head) && pl[i].kw > head) cost += (pl[i].kw - head) * c->costs->grid_capex_per_kw;
        if (cost < best) {
            best = cost;
            if (what)
                snprintf(what, what_n, "%s %s", pl[i].existing ? "one point added at" : "a new site of one point at", pl[i].name);
        }
    }
    return best;
}

/* ---- days of the twin ----------------------------------------------------------------------------- */

static ec_err sites_copy(const ec_sites *src, ec_sites *dst)
{
    memset(dst, 0, sizeof *dst);
    memcpy(dst->currency, src->currency, sizeof dst->currency);
    if (!src->n) return EC_OK;
    if (!(dst->groups = ec_malloc(src->n * sizeof *dst->groups))) return EC_ENOMEM;
    memcpy(dst->groups, src->groups, src->n * sizeof *dst->groups);
    dst->n = src->n;
    return EC_OK;
}

/* One day on sites (copied, since a run writes into them) with the trucks of traffic. */
static ec_err day(const ec_plan_config_t *c, const ec_sites *sites, const ec_traffic_t *traffic, const ec_scenario_t *scn,
                  int with_power, int threads, ec_twin_result_t *out)
{
    ec_sites s;
    ec_err rc = sites_copy(sites, &s);
    if (rc) return rc;
    ec_twin_config_t t = c->twin;
    t.sites = &s, t.journal = NULL, t.progress = 0, t.points = NULL;
    if (threads > 0) t.threads = threads;
    if (traffic) t.traffic = traffic;
    if (scn) t.scenario = scn;
    if (!with_power) t.site_power = NULL, t.n_site_power = 0, t.subs = NULL, t.n_subs = 0, t.scenario = scn;
    memset(out, 0, sizeof *out);
    rc = ec_twin_run(&t, out);
    ec_sites_free(&s);
    return rc;
}

/* ---- a pool of days ----------------------------------------------------------------------------- */

/* Days are independent: with --threads N, N of them run at once, each planning its trucks on one
 * thread (the twin's figures do not depend on its threads). A job's done() reads what it needs
 * from the day under the pool's lock; the day is freed after. */
typedef struct pool_job pool_job;
struct pool_job {
    ec_sites sites;              /* owned */
    const ec_traffic_t *traffic; /* NULL: the run's */
    ec_traffic_t own_traffic;    /* owned, when traffic points at it */
    ec_scenario_t scn;           /* owned */
    int has_scn, with_power;
    void (*done)(pool_job *j, ec_twin_result_t *r);
    void *ctx;
    size_t index;
    ec_err rc;
    char msg[512];
};

typedef struct {
    const ec_plan_config_t *c;
    pool_job *jobs;
    size_t n, next;
    pthread_mutex_t mu;
    ec_progress *bar;
    uint64_t *done;
    int failed, threads;
} pool;

static void scenario_release(ec_scenario_t *s);

static void pool_one(pool *p, pool_job *j)
{
    ec_twin_result_t res;
    memset(&res, 0, sizeof res);
    j->rc = day(p->c, &j->sites, j->traffic, j->has_scn ? &j->scn : NULL, j->with_power, p->threads, &res);
    if (j->rc) snprintf(j->msg, sizeof j->msg, "%s", ec_errmsg_of(j->rc));
    pthread_mutex_lock(&p->mu);
    if (!j->rc && j->done) j->done(j, &res);
    if (j->rc) p->failed = 1;
    ec_progress_update(p->bar, ++*p->done);
    pthread_mutex_unlock(&p->mu);
    ec_twin_result_free(&res);
    ec_sites_free(&j->sites);
    ec_traffic_free(&j->own_traffic);
    scenario_release(&j->scn);
}

static void *pool_worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->failed ? p->n : p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n) return NULL;
        pool_one(p, &p->jobs[i]);
    }
}

static ec_err pool_run(const ec_plan_config_t *c, pool_job *jobs, size_t n, ec_progress *bar, uint64_t *done)
{
    pool p;
    memset(&p, 0, sizeof p);
    p.c = c, p.jobs = jobs, p.n = n, p.bar = bar, p.done = done;
    int workers = c->twin.threads > 1 ? c->twin.threads : 1;
    if ((size_t)workers > n) workers = n ? (int)n : 1;
    p.threads = workers > 1 ? 1 : c->twin.threads;
    pthread_mutex_init(&p.mu, NULL);
    pthread_t th[EC_TWIN_MAX_THREADS];
    int started = 0;
    for (int k = 1; k < workers; k++) {
        if (pthread_create(&th[started], NULL, pool_worker, &p)) break;
        started++;
    }
    pool_worker(&p);
    for (int k = 0; k < started; k++) pthread_join(th[k], NULL);
    pthread_mutex_destroy(&p.mu);
    /* Jobs never started (after a failure) still own their inputs. */
    for (size_t i = 0; i < n; i++) {
        ec_sites_free(&jobs[i].sites);
        ec_traffic_free(&jobs[i].own_traffic);
        scenario_release(&jobs[i].scn);
    }
    for (size_t i = 0; i < n; i++)
        if (jobs[i].rc) return ec_fail(jobs[i].rc, "%s", jobs[i].msg);
    return EC_OK;
}

static double total_wait_h(const ec_twin_result_t *r)
{
    double w = 0;
    for (size_t i = 0; i < r->trips.len; i++) w += EC_VEC_AT(&r->trips, ec_twin_trip_t, i).wait_min;
    return w / 60;
}

/* The scenario of the actions up to rank n, on top of the run's own scenario (its outages, derating and points). */
static ec_err actions_scenario(const ec_plan_config_t *c, const ec_vec *actions, size_t n, ec_scenario_t *out)
{
    memset(out, 0, sizeof *out);
    const ec_scenario_t *base = c->twin.scenario;
    if (base) {
        *out = *base;
        out->outages = NULL, out->derates = NULL, out->points = NULL;
        out->n_outages = out->n_derates = out->n_points = 0;
        if (base->n_outages) {
            if (!(out->outages = ec_malloc(base->n_outages * sizeof *out->outages))) return EC_ENOMEM;
            memcpy(out->outages, base->outages, base->n_outages * sizeof *out->outages);
            out->n_outages = base->n_outages;
        }
        if (base->n_derates) {
            if (!(out->derates = ec_malloc(base->n_derates * sizeof *out->derates))) return EC_ENOMEM;
            memcpy(out->derates, base->derates, base->n_derates * sizeof *out->derates);
            out->n_derates = base->n_derates;
        }
    }
    snprintf(out->name, sizeof out->name, "plan, ranks 1 to %zu", n);
    if (!n) return EC_OK;
    if (!(out->points = ec_calloc(n, sizeof *out->points))) return EC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const ec_plan_action_t *a = &EC_VEC_AT(actions, ec_plan_action_t, i);
        if (a->points <= 0) continue;
        ec_scn_points_t *p = &out->points[out->n_points++];
        snprintf(p->site_id, sizeof p->site_id, "%s", a->site_id);
        snprintf(p->name, sizeof p->name, "%s", a->name);
        p->plug = a->plug, p->power_w = a->kw * 1000, p->count = a->points;
        p->has_pos = !strcmp(a->action, "new_site"), p->pos = a->pos;
    }
    return EC_OK;
}

/* The sites of today with the actions up to rank n, as simulate --scenario makes them. */
static ec_err sites_with(const ec_plan_config_t *c, const ec_scenario_t *scn, ec_sites *out)
{
    ec_err rc = sites_copy(c->twin.sites, out);
    if (!rc) rc = ec_twin_apply_points(out, scn);
    return rc;
}

static void scenario_release(ec_scenario_t *s)
{
    ec_free(s->outages), ec_free(s->derates), ec_free(s->points);
    memset(s, 0, sizeof *s);
}

/* A network of its own (greenfield): the places a solution gives points. */
static ec_err network_sites(const ec_plan_place_t *pl, size_t n, const ec_plan_solution_t *sol, const char *currency,
                            ec_sites *out, int *points)
{
    memset(out, 0, sizeof *out);
    snprintf(out->currency, sizeof out->currency, "%s", currency);
    *points = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += sol->points[i] > 0;
    if (!m) return EC_OK;
    if (!(out->groups = ec_calloc(m, sizeof *out->groups))) return EC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (sol->points[i] <= 0) continue;
        ec_connector_group_t *g = &out->groups[out->n++];
        snprintf(g->site_id, sizeof g->site_id, "%s", pl[i].site_id);
        snprintf(g->name, sizeof g->name, "%s", pl[i].name);
        g->pos = pl[i].pos, g->standard = pl[i].plug, g->power_w = pl[i].kw * 1000;
        g->count = g->available = sol->points[i];
        *points += sol->points[i];
    }
    return EC_OK;
}

/* ---- jurisdictions of trucks ---------------------------------------------------------------------- */

typedef struct {
    const ec_plan_config_t *c;
    ec_map node_j; /* ext node id -> jurisdiction + 1 */
} jmap;

static ec_err jmap_init(jmap *m, const ec_plan_config_t *c)
{
    m->c = c;
    const ec_graph *g = c->twin.g;
    ec_err rc = ec_map_init(&m->node_j, g->n_nodes);
    for (uint32_t i = 0; !rc && i < g->n_nodes; i++)
        rc = ec_map_put(&m->node_j, (uint64_t)g->ext_id[i], (uint64_t)(place_jurisdiction(c, i) + 1));
    return rc;
}

static int jmap_of(const jmap *m, int64_t node)
{
    uint64_t v;
    if (!ec_map_get(&m->node_j, (uint64_t)node, &v)) return -1;
    return (int)v - 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* p95 by nearest rank of the waits of the trips that charged, of jurisdiction j (-2: all). */
static void trips_of(const jmap *m, const ec_twin_result_t *r, int j, double *p95, int64_t *stranded, double *energy)
{
    double *w = ec_malloc((r->trips.len + 1) * sizeof *w);
    size_t n = 0;
    *stranded = 0, *energy = 0;
    for (size_t i = 0; i < r->trips.len; i++) {
        const ec_twin_trip_t *t = &EC_VEC_AT(&r->trips, ec_twin_trip_t, i);
        if (j != -2 && jmap_of(m, t->origin) != j) continue;
        *stranded += t->stranded;
        *energy += t->charged_kwh;
        if (t->stops > 0 && w) w[n++] = t->wait_min;
    }
    *p95 = 0;
    if (n && w) {
        qsort(w, n, sizeof *w, cmp_double);
        size_t k = (size_t)ceil(0.95 * (double)n);
        *p95 = w[(k ? k : 1) - 1];
    }
    ec_free(w);
}

static ec_err traffic_of(const jmap *m, const ec_traffic_t *all, int j, ec_traffic_t *out)
{
    memset(out, 0, sizeof *out);
    if (!(out->od = ec_malloc((all->n + 1) * sizeof *out->od))) return EC_ENOMEM;
    for (size_t i = 0; i < all->n; i++)
        if (jmap_of(m, all->od[i].origin) == j) out->od[out->n++] = all->od[i];
    return EC_OK;
}

/* ---- the cost game ---------------------------------------------------------------------------------- */

typedef struct {
    const ec_plan_model *m;
    const ec_plan_config_t *c;
    int n;
    ec_map cache; /* mask -> index into costs */
    ec_vec costs; /* double */
    size_t solves;
    uint64_t live;  /* jurisdictions some truck starts in: the others add nothing to a coalition */
    double max_gap; /* the widest optimality gap of its solves */
} game;

static ec_err game_cost(void *ctx, uint64_t mask, double *cost)
{
    game *g = ctx;
    uint64_t v;
    /* A jurisdiction without trucks changes nothing the coalition must serve: the same cost, exactly. */
    mask &= g->live;
    if (ec_map_get(&g->cache, mask + 1, &v)) {
        *cost = EC_VEC_AT(&g->costs, double, v);
        return EC_OK;
    }
    unsigned char members[64];
    for (int j = 0; j < g->n; j++) members[j] = (mask >> j) & 1;
    ec_plan_solution_t s;
    memset(&s, 0, sizeof s);
    ec_err rc = mask ? ec_plan_solve_min_cost(g->m, members, g->c->mip_gap, g->c->time_limit_s, &s) : EC_OK;
    double x = mask ? s.annual_cost : 0;
    if (mask && s.gap > g->max_gap) g->max_gap = s.gap;
    ec_plan_solution_free(&s);
    if (rc) return rc;
    if ((rc = ec_vec_push(&g->costs, &x)) || (rc = ec_map_put(&g->cache, mask + 1, g->costs.len - 1))) return rc;
    g->solves++;
    *cost = x;
    return EC_OK;
}

/* The coalitions the Shapley value will ask for beyond the whole and each jurisdiction alone (those
 * are solved anyway): it asks the same ones whatever their costs (every coalition, or the prefixes of
 * orders drawn from the seed), so they are known before any is solved, and solved together. */
typedef struct {
    uint64_t live, full;
    ec_map seen;
    ec_vec masks; /* uint64_t */
} game_plan;

static ec_err record_mask(void *ctx, uint64_t mask, double *cost)
{
    game_plan *g = ctx;
    *cost = 0;
    mask &= g->live;
    if (!mask || mask == g->full || !(mask & (mask - 1)) || ec_map_get(&g->seen, mask + 1, NULL)) return EC_OK;
    ec_err rc = ec_map_put(&g->seen, mask + 1, 1);
    return rc ? rc : ec_vec_push(&g->masks, &mask);
}

/* The jurisdictions some truck starts in (as a mask), and the coalitions the cost game will ask beyond those. */
static ec_err cost_game_plan(const ec_plan_config_t *c, uint64_t *live, ec_vec *masks)
{
    int J = c->areas ? (int)c->areas->n_ids : 0;
    ec_vec_init(masks, sizeof(uint64_t));
    *live = 0;
    if (J <= 0 || J > 64) return EC_OK;
    jmap jm;
    memset(&jm, 0, sizeof jm);
    ec_err rc = jmap_init(&jm, c);
    for (size_t i = 0; !rc && i < c->twin.traffic->n; i++) {
        int j = jmap_of(&jm, c->twin.traffic->od[i].origin);
        if (j >= 0 && j < 64 && c->twin.traffic->od[i].per_year > 0) *live |= (uint64_t)1 << j;
    }
    ec_map_free(&jm.node_j);
    game_plan g;
    memset(&g, 0, sizeof g);
    g.live = *live, g.full = (J == 64 ? ~(uint64_t)0 : (((uint64_t)1 << J) - 1)) & *live;
    ec_vec_init(&g.masks, sizeof(uint64_t));
    if (!rc) rc = ec_map_init(&g.seen, 64);
    ec_plan_shapley_t sh;
    memset(&sh, 0, sizeof sh);
    if (!rc) rc = ec_plan_shapley(J, record_mask, &g, c->shapley_samples ? c->shapley_samples : 50, c->twin.seed, &sh);
    ec_plan_shapley_free(&sh);
    ec_map_free(&g.seen);
    if (rc) ec_vec_free(&g.masks);
    else *masks = g.masks;
    return rc;
}

typedef struct {
    ec_progress *bar;
    uint64_t *done;
    ec_plan_solution_t *nets;
    size_t J;
} bar_ctx;

/* A network solved: counted; of a coalition beyond the shared one and each jurisdiction alone, only
 * its cost and gap are kept (there may be thousands of them). */
static void net_solved(void *ctx, size_t job)
{
    bar_ctx *b = ctx;
    ec_progress_update(b->bar, ++*b->done);
    if (job > b->J) {
        ec_plan_solution_t *s = &b->nets[job];
        ec_free(s->points), ec_free(s->points_exact), ec_free(s->grid_kw), ec_free(s->kwh_per_day);
        s->points = NULL, s->points_exact = s->grid_kw = s->kwh_per_day = NULL;
    }
}

/* ---- the run ------------------------------------------------------------------------------------------ */

static int by_value(const void *a, const void *b)
{
    const ec_plan_action_t *x = a, *y = b;
    double vx = x->capex > 0 ? x->model_kwh_per_day / x->capex : 0, vy = y->capex > 0 ? y->model_kwh_per_day / y->capex : 0;
    if (vx != vy) return vx > vy ? -1 : 1;
    return strcmp(x->site_id, y->site_id);
}

static double action_annual(const ec_plan_costs_t *k, int years, int is_new, int points, double kw, double capex)
{
    return ec_plan_annuity(capex, k->discount_rate, years) + points * k->point_opex_per_year + (is_new ? k->site_opex_per_year : 0) +
           12 * k->demand_charge_per_kw_month * points * kw;
}

static ec_err build_actions(const ec_plan_config_t *c, const ec_plan_place_t *pl, size_t np, const ec_plan_solution_t *sol,
                            ec_plan_result_t *r)
{
    const ec_plan_costs_t *k = c->costs;
    for (size_t i = 0; i < np; i++) {
        int added = sol->points[i];
        double grid = sol->grid_kw ? sol->grid_kw[i] : 0;
        if (added <= 0 && grid <= 0) continue;
        ec_plan_action_t a;
        memset(&a, 0, sizeof a);
        int is_new = !pl[i].existing;
        snprintf(a.action, sizeof a.action, "%s", is_new ? "new_site" : added > 0 ? "add_points" : "grid_upgrade");
        snprintf(a.site_id, sizeof a.site_id, "%s", pl[i].site_id);
        snprintf(a.name, sizeof a.name, "%s", pl[i].name);
        a.node = pl[i].node, a.pos = pl[i].pos, a.plug = pl[i].plug, a.points = added > 0 ? added : 0, a.kw = pl[i].kw;
        a.grid_kw = grid, a.jurisdiction = pl[i].jurisdiction;
        a.capex = (is_new ? k->site_fixed_capex : 0) + a.points * pl[i].point_capex + grid * k->grid_capex_per_kw;
        a.annual_cost = action_annual(k, c->years, is_new, a.points, a.kw, a.capex);
        a.model_kwh_per_day = sol->kwh_per_day ? sol->kwh_per_day[i] : 0;
        ec_err rc = ec_vec_push(&r->actions, &a);
        if (rc) return rc;
    }
    if (r->actions.len) qsort(r->actions.data, r->actions.len, sizeof(ec_plan_action_t), by_value);
    for (size_t i = 0; i < r->actions.len; i++) EC_VEC_AT(&r->actions, ec_plan_action_t, i).rank = (int)i + 1;
    return EC_OK;
}

static int by_dependence(const void *a, const void *b)
{
    const ec_plan_resil_t *x = a, *y = b;
    if (x->stranded_when_down != y->stranded_when_down) return x->stranded_when_down > y->stranded_when_down ? -1 : 1;
    if (x->extra_wait_h != y->extra_wait_h) return x->extra_wait_h > y->extra_wait_h ? -1 : 1;
    return strcmp(x->site_id, y->site_id);
}
static int by_energy(const void *a, const void *b)
{
    const ec_twin_site_t *x = a, *y = b;
    if (x->energy_kwh != y->energy_kwh) return x->energy_kwh > y->energy_kwh ? -1 : 1;
    return strcmp(x->site_id, y->site_id);
}

static ec_err tco(const ec_plan_config_t *c, ec_plan_result_t *r)
{
    /* The simulated charging price: the energy-weighted mean of the sites' prices on the planned day. */
    double e = 0, money = 0, plain = 0;
    size_t priced = 0;
    const ec_sites *s = c->twin.sites;
    for (size_t i = 0; i < r->planned.sites.len; i++) {
        const ec_twin_site_t *ts = &EC_VEC_AT(&r->planned.sites, ec_twin_site_t, i);
        for (size_t g = 0; s && g < s->n; g++)
            if (!strcmp(s->groups[g].site_id, ts->site_id) && s->groups[g].price_per_kwh > 0) {
                double p = (double)s->groups[g].price_per_kwh / 1e4;
                money += p * ts->energy_kwh, e += ts->energy_kwh, plain += p, priced++;
                break;
            }
    }
    double price = e > 0 ? money / e : priced ? plain / (double)priced : c->costs->energy_price_per_kwh;
    r->charging_price_per_kwh = c->costs->charging_price_per_kwh >= 0 ? c->costs->charging_price_per_kwh : price;
    for (int i = 0; i < c->twin.mix->n; i++) {
        if (c->twin.mix->e[i].share <= 0) continue;
        ec_plan_tco_t row;
        memset(&row, 0, sizeof row);
        ec_err rc = ec_plan_tco(c->costs, &c->twin.mix->e[i].profile, c->years, c->twin.temp_c, price, c->twin.grid_g_per_kwh, &row);
        if (!rc) {
            snprintf(row.vehicle, sizeof row.vehicle, "%.63s", c->twin.mix->e[i].profile.name[0] ? c->twin.mix->e[i].profile.name : c->twin.mix->e[i].name);
            rc = ec_vec_push(&r->tco, &row);
        }
        if (rc) return rc;
    }
    r->co2_t_per_year = r->planned.co2_avoided_t_ttw * 365 / (c->twin.day_factor > 0 ? c->twin.day_factor : 1);
    return EC_OK;
}

/* ---- the days of the plan ---------------------------------------------------------------------- */

typedef struct {
    ec_plan_result_t *r;
    double *wait_h, *energy; /* per rank */
    int64_t *stranded;
} rank_ctx;

static void base_done(pool_job *j, ec_twin_result_t *d)
{
    ec_plan_result_t *r = j->ctx;
    r->base = *d;
    memset(d, 0, sizeof *d);
}

static void even_done(pool_job *j, ec_twin_result_t *d)
{
    ec_plan_result_t *r = j->ctx;
    r->even = *d;
    r->compared = 1;
    memset(d, 0, sizeof *d);
}

static void rank_done(pool_job *j, ec_twin_result_t *d)
{
    rank_ctx *x = j->ctx;
    ec_plan_result_t *r = x->r;
    size_t i = j->index;
    if (!r->actions.len) {
        /* Nothing to build: the planned day is today's. */
        r->planned = *d;
        memset(d, 0, sizeof *d);
        return;
    }
    x->wait_h[i] = total_wait_h(d);
    x->stranded[i] = d->stranded;
    double e = 0;
    for (size_t k = 0; k < d->sites.len; k++) {
        const ec_twin_site_t *ts = &EC_VEC_AT(&d->sites, ec_twin_site_t, k);
        for (size_t q = 0; q <= i; q++)
            if (!strcmp(ts->site_id, EC_VEC_AT(&r->actions, ec_plan_action_t, q).site_id)) {
                e += ts->energy_kwh;
                break;
            }
    }
    x->energy[i] = e;
    if (i + 1 == r->actions.len) {
        r->planned = *d;
        memset(d, 0, sizeof *d);
    }
}

/* The same budget spent on pools every compare_spacing_km along the roads (the AFIR 2030 rule's
 * spacing): the sites of that network, for a day in the pool. */
static ec_err even_sites(const ec_plan_config_t *c, ec_plan_result_t *r)
{
    double budget = c->budget >= 0 ? c->budget : r->spent;
    ec_err rc = ec_plan_even_pools(c->twin.g, c->compare_spacing_km, c->costs, budget, c->twin.sites, &r->even_sites, &r->even_pools);
    if (rc) return rc;
    const ec_plan_costs_t *k = c->costs;
    r->even_capex = 0;
    for (size_t i = 0; i < r->even_sites.n; i++) {
        const ec_connector_group_t *g = &r->even_sites.groups[i];
        if (strncmp(g->site_id, "even-", 5)) continue;
        r->even_capex += k->site_fixed_capex + g->count * (g->standard == EC_PLUG_MCS ? k->mcs_point_capex : k->ccs_point_capex);
    }
    return EC_OK;
}

/* Today, every rank of the actions, and (compare_spacing_km) the evenly spaced pools. */
static ec_err first_days(const ec_plan_config_t *c, ec_plan_result_t *r, ec_progress *bar, uint64_t *done)
{
    size_t n = r->actions.len, jobs_n = 1 + (n ? n : 1) + (c->compare_spacing_km > 0);
    pool_job *jobs = ec_calloc(jobs_n, sizeof *jobs);
    rank_ctx x;
    memset(&x, 0, sizeof x);
    x.r = r;
    x.wait_h = ec_calloc(n + 1, sizeof *x.wait_h), x.energy = ec_calloc(n + 1, sizeof *x.energy);
    x.stranded = ec_calloc(n + 1, sizeof *x.stranded);
    ec_err rc = jobs && x.wait_h && x.energy && x.stranded ? EC_OK : EC_ENOMEM;
    size_t k = 0;
    if (!rc) {
        rc = sites_copy(c->twin.sites, &jobs[k].sites);
        jobs[k].with_power = 1, jobs[k].done = base_done, jobs[k].ctx = r, k++;
    }
    for (size_t i = 0; i < n && !rc; i++, k++) {
        rc = actions_scenario(c, &r->actions, i + 1, &jobs[k].scn);
        jobs[k].has_scn = 1;
        if (!rc) rc = sites_with(c, &jobs[k].scn, &jobs[k].sites);
        jobs[k].with_power = 1, jobs[k].done = rank_done, jobs[k].ctx = &x, jobs[k].index = i;
    }
    if (!rc && !n) {
        /* Nothing to build: the planned day is today's. */
        rc = sites_copy(c->twin.sites, &jobs[k].sites);
        jobs[k].with_power = 1, jobs[k].done = rank_done, jobs[k].ctx = &x, jobs[k].index = 0, k++;
    }
    if (!rc && c->compare_spacing_km > 0) {
        rc = even_sites(c, r);
        if (!rc) rc = sites_copy(&r->even_sites, &jobs[k].sites);
        jobs[k].with_power = 1, jobs[k].done = even_done, jobs[k].ctx = r, k++;
    }
    if (!rc) rc = pool_run(c, jobs, k, bar, done);
    else pool_run(c, jobs, 0, bar, done);
    double cum_annual = 0, base_wait = rc ? 0 : total_wait_h(&r->base);
    for (size_t i = 0; i < n && !rc; i++) {
        ec_plan_action_t *a = &EC_VEC_AT(&r->actions, ec_plan_action_t, i);
        cum_annual += a->annual_cost;
        a->wait_h_saved_per_day = base_wait - x.wait_h[i];
        a->stranded_avoided_per_day = (double)(r->base.stranded - x.stranded[i]);
        a->energy_served_kwh_per_day = x.energy[i];
        /* a year is 365 average days: a weekday's energy over the day factor */
        double per_year = x.energy[i] * 365 / (c->twin.day_factor > 0 ? c->twin.day_factor : 1);
        a->cost_per_kwh = per_year > 0 ? cum_annual / per_year : 0;
    }
    for (size_t i = 0; jobs && i < jobs_n; i++) {
        ec_sites_free(&jobs[i].sites);
        scenario_release(&jobs[i].scn);
    }
    ec_free(jobs), ec_free(x.wait_h), ec_free(x.energy), ec_free(x.stranded);
    return rc;
}

/* ---- shared against duplicated, resilience: the second batch of days ------------------------------------ */

typedef struct {
    const jmap *jm;
    ec_plan_jrow_t *rows; /* J rows then ALL */
    int J;
    ec_vec *dup_waits;    /* double: the waits of every duplicated network's trucks that charged */
    ec_plan_resil_t *resil;
    double planned_wait;
    ec_err rc;
} second_ctx;

static void shared_done(pool_job *j, ec_twin_result_t *d)
{
    second_ctx *x = j->ctx;
    ec_plan_jrow_t *all = &x->rows[x->J];
    trips_of(x->jm, d, -2, &all->shared_p95_wait_min, &all->shared_stranded, &all->energy_kwh);
    for (int k = 0; k < x->J; k++)
        trips_of(x->jm, d, k, &x->rows[k].shared_p95_wait_min, &x->rows[k].shared_stranded, &x->rows[k].energy_kwh);
}

static void dup_done(pool_job *j, ec_twin_result_t *d)
{
    second_ctx *x = j->ctx;
    ec_plan_jrow_t *row = &x->rows[j->index];
    double e;
    trips_of(x->jm, d, -2, &row->duplicated_p95_wait_min, &row->duplicated_stranded, &e);
    for (size_t i = 0; i < d->trips.len && !x->rc; i++) {
        const ec_twin_trip_t *t = &EC_VEC_AT(&d->trips, ec_twin_trip_t, i);
        if (t->stops > 0) x->rc = ec_vec_push(x->dup_waits, &t->wait_min);
    }
}

static void resil_done(pool_job *j, ec_twin_result_t *d)
{
    second_ctx *x = j->ctx;
    ec_plan_resil_t *row = &x->resil[j->index];
    row->stranded_when_down = d->stranded;
    row->extra_wait_h = total_wait_h(d) - x->planned_wait;
}

/* The scenario of the planned network with one more outage (site) or derating (substation). */
static ec_err down_scenario(const ec_plan_config_t *c, const ec_plan_result_t *r, const char *site, const char *sub,
                            ec_scenario_t *out)
{
    ec_err rc = actions_scenario(c, &r->actions, r->actions.len, out);
    int64_t day0 = c->twin.day_start_s;
    if (!rc && site) {
        ec_scn_outage_t *o = ec_realloc(out->outages, (out->n_outages + 1) * sizeof *o);
        if (!o) return EC_ENOMEM;
        out->outages = o;
        memset(&o[out->n_outages], 0, sizeof *o);
        snprintf(o[out->n_outages].site_id, sizeof o->site_id, "%s", site);
        o[out->n_outages].from_s = day0, o[out->n_outages].to_s = day0 + 2 * 86400;
        out->n_outages++;
    }
    if (!rc && sub) {
        ec_scn_derate_t *d = ec_realloc(out->derates, (out->n_derates + 1) * sizeof *d);
        if (!d) return EC_ENOMEM;
        out->derates = d;
        memset(&d[out->n_derates], 0, sizeof *d);
        snprintf(d[out->n_derates].substation_id, sizeof d->substation_id, "%s", sub);
        d[out->n_derates].factor = 0.5;
        d[out->n_derates].from_s = day0, d[out->n_derates].to_s = day0 + 2 * 86400;
        out->n_derates++;
    }
    return rc;
}

static ec_err second_days(const ec_plan_config_t *c, const ec_plan_model *m, const ec_plan_place_t *pl, size_t np,
                          uint64_t live, const ec_vec *extra, ec_plan_result_t *r, ec_progress *bar, uint64_t *done)
{
    int J = c->areas ? (int)c->areas->n_ids : 0;
    jmap jm;
    memset(&jm, 0, sizeof jm);
    ec_err rc = jmap_init(&jm, c);
    game gm;
    memset(&gm, 0, sizeof gm);
    gm.m = m, gm.c = c, gm.n = J, gm.live = live;
    ec_vec_init(&gm.costs, sizeof(double));
    if (!rc) rc = ec_map_init(&gm.cache, 64);
    ec_vec dup_waits, busy;
    ec_vec_init(&dup_waits, sizeof(double));
    ec_vec_init(&busy, sizeof(ec_twin_site_t));
    ec_plan_jrow_t *rows = ec_calloc((size_t)J + 1, sizeof *rows);
    /* Resilience: the sites that charged on the planned day, the busiest first. */
    for (size_t i = 0; !rc && i < r->planned.sites.len; i++) {
        const ec_twin_site_t *ts = &EC_VEC_AT(&r->planned.sites, ec_twin_site_t, i);
        if (ts->sessions > 0) rc = ec_vec_push(&busy, ts);
    }
    if (busy.len) qsort(busy.data, busy.len, sizeof(ec_twin_site_t), by_energy);
    size_t nres = c->resilience_max && busy.len > c->resilience_max ? c->resilience_max : busy.len;
    size_t nsub = c->twin.n_subs;
    ec_plan_resil_t *resil = ec_calloc(nres + nsub + 1, sizeof *resil);
    size_t jobs_n = 1 + (size_t)J + nres + nsub;
    pool_job *jobs = ec_calloc(jobs_n, sizeof *jobs);
    if (!rc && (!rows || !resil || !jobs)) rc = EC_ENOMEM;
    second_ctx x;
    memset(&x, 0, sizeof x);
    x.jm = &jm, x.rows = rows, x.J = J, x.dup_waits = &dup_waits, x.resil = resil;
    x.planned_wait = total_wait_h(&r->planned);
    const char *cur = c->costs->currency;
    ec_plan_jrow_t *all = rows ? &rows[J] : NULL;
    ec_plan_solution_t shared;
    memset(&shared, 0, sizeof shared);
    size_t k = 0;
    /* Every cheapest network the run needs, --threads at once: the shared one (every jurisdiction's
     * trucks), each jurisdiction's alone, and the other coalitions of the cost game. */
    size_t n_nets = 1 + (size_t)J + extra->len;
    const unsigned char **mem = ec_calloc(n_nets, sizeof *mem);
    unsigned char *bits = ec_calloc(n_nets, EC_PLAN_MAX_JURISDICTIONS);
    ec_plan_solution_t *nets = ec_calloc(n_nets, sizeof *nets);
    if (!rc && (!mem || !bits || !nets)) rc = EC_ENOMEM;
    for (size_t i = 1; !rc && i < n_nets; i++) {
        unsigned char *b = bits + i * EC_PLAN_MAX_JURISDICTIONS;
        if (i <= (size_t)J) b[i - 1] = 1;
        else
            for (int j = 0; j < J; j++) b[j] = EC_VEC_AT(extra, uint64_t, i - 1 - J) >> j & 1;
        mem[i] = b;
    }
    bar_ctx bc = {bar, done, nets, (size_t)J};
    if (!rc) rc = plan__min_cost_many(m, mem, n_nets, c->mip_gap, c->time_limit_s, c->twin.threads, nets, net_solved, &bc);
    for (size_t e = 0; !rc && e < extra->len; e++) {
        const ec_plan_solution_t *s = &nets[1 + J + e];
        uint64_t mask = EC_VEC_AT(extra, uint64_t, e);
        if (s->gap > gm.max_gap) gm.max_gap = s->gap;
        rc = ec_vec_push(&gm.costs, &s->annual_cost);
        if (!rc) rc = ec_map_put(&gm.cache, mask + 1, gm.costs.len - 1);
    }
    if (!rc) {
        shared = nets[0], memset(&nets[0], 0, sizeof nets[0]);
        ec_log(EC_LOG_INFO, "plan: the shared, %d duplicated and %zu more coalitions' cheapest networks solved", J, extra->len);
    }
    if (!rc) {
        if (shared.gap > gm.max_gap) gm.max_gap = shared.gap;
        snprintf(all->id, sizeof all->id, "ALL");
        all->shared_cost = shared.annual_cost;
        rc = network_sites(pl, np, &shared, cur, &jobs[k].sites, &all->shared_points);
        jobs[k].done = shared_done, jobs[k].ctx = &x, k++;
    }
    /* Each jurisdiction alone: its cheapest network, and its trucks' day on it. */
    for (int j = 0; j < J && !rc; j++, k++) {
        ec_plan_jrow_t *row = &rows[j];
        snprintf(row->id, sizeof row->id, "%s", c->areas->ids[j]);
        for (size_t i = 0; i < np; i++)
            if (pl[i].jurisdiction == j && shared.points[i] > 0) row->shared_points += shared.points[i];
        for (size_t i = 0; i < c->twin.traffic->n; i++)
            if (jmap_of(&jm, c->twin.traffic->od[i].origin) == j)
                row->trucks_per_day += c->twin.traffic->od[i].per_year / 365 * c->twin.day_factor * c->twin.bev_share;
        ec_plan_solution_t alone = nets[1 + j];
        memset(&nets[1 + j], 0, sizeof nets[1 + j]);
        rc = network_sites(pl, np, &alone, cur, &jobs[k].sites, &row->duplicated_points);
        if (!rc) rc = traffic_of(&jm, c->twin.traffic, j, &jobs[k].own_traffic);
        jobs[k].traffic = &jobs[k].own_traffic, jobs[k].done = dup_done, jobs[k].ctx = &x, jobs[k].index = (size_t)j;
        if (!rc) {
            if (alone.gap > gm.max_gap) gm.max_gap = alone.gap;
            row->standalone = row->duplicated_cost = alone.annual_cost;
            all->duplicated_cost += row->duplicated_cost;
            all->duplicated_points += row->duplicated_points;
            all->trucks_per_day += row->trucks_per_day;
            all->standalone += row->standalone;
            /* The cost game asks for this coalition too: the same solve, kept. */
            if (J <= 64 && (gm.live >> j & 1)) {
                uint64_t mask = (uint64_t)1 << j;
                rc = ec_vec_push(&gm.costs, &alone.annual_cost);
                if (!rc) rc = ec_map_put(&gm.cache, mask + 1, gm.costs.len - 1);
            }
        }
        ec_plan_solution_free(&alone);
    }
    for (size_t i = 0; i < nres + nsub && !rc; i++, k++) {
        const char *site = i < nres ? EC_VEC_AT(&busy, ec_twin_site_t, i).site_id : NULL;
        const char *sub = i < nres ? NULL : c->twin.subs[i - nres].id;
        if (site) {
            const ec_twin_site_t *ts = &EC_VEC_AT(&busy, ec_twin_site_t, i);
            snprintf(resil[i].site_id, sizeof resil[i].site_id, "%s", site);
            snprintf(resil[i].name, sizeof resil[i].name, "%s", ts->name[0] ? ts->name : site);
        } else {
            snprintf(resil[i].site_id, sizeof resil[i].site_id, "substation:%s", sub);
            snprintf(resil[i].name, sizeof resil[i].name, "substation %s at half its capacity", sub);
        }
        rc = down_scenario(c, r, site, sub, &jobs[k].scn);
        jobs[k].has_scn = 1;
        if (!rc) rc = sites_with(c, &jobs[k].scn, &jobs[k].sites);
        jobs[k].with_power = 1, jobs[k].done = resil_done, jobs[k].ctx = &x, jobs[k].index = i;
    }
    for (size_t i = 0; nets && i < n_nets; i++) ec_plan_solution_free(&nets[i]);
    ec_free(nets), ec_free(mem), ec_free(bits);
    if (!rc) rc = pool_run(c, jobs, k, bar, done);
    else pool_run(c, jobs, 0, bar, done);
    if (!rc) rc = x.rc;
    ec_log(EC_LOG_INFO, "plan: their days and %zu sites down simulated", nres + nsub);
    /* The trucks of every duplicated network together. */
    if (!rc && dup_waits.len) {
        qsort(dup_waits.data, dup_waits.len, sizeof(double), cmp_double);
        size_t q = (size_t)ceil(0.95 * (double)dup_waits.len);
        all->duplicated_p95_wait_min = EC_VEC_AT(&dup_waits, double, (q ? q : 1) - 1);
    }
    for (int j = 0; j < J && !rc; j++) all->duplicated_stranded += rows[j].duplicated_stranded;
    /* The whole coalition is the shared network. */
    if (!rc && J > 0 && J <= 64) {
        uint64_t full = (J == 64 ? ~(uint64_t)0 : (((uint64_t)1 << J) - 1)) & gm.live;
        if (!ec_map_get(&gm.cache, full + 1, NULL)) {
            rc = ec_vec_push(&gm.costs, &shared.annual_cost);
            if (!rc) rc = ec_map_put(&gm.cache, full + 1, gm.costs.len - 1);
        }
    }
    /* Who pays: by use, and the Shapley value of the cost game. */
    double energy = 0;
    for (int j = 0; j < J && !rc; j++) energy += rows[j].energy_kwh;
    for (int j = 0; j < J && !rc; j++) {
        rows[j].share_by_use = energy > 0 ? shared.annual_cost * rows[j].energy_kwh / energy : 0;
        rows[j].shared_cost = rows[j].share_by_use;
        all->share_by_use += rows[j].share_by_use;
    }
    if (!rc && J > 0 && J <= 64) {
        ec_plan_shapley_t sh;
        memset(&sh, 0, sizeof sh);
        rc = ec_plan_shapley(J, game_cost, &gm, c->shapley_samples ? c->shapley_samples : 50, c->twin.seed, &sh);
        ec_log(EC_LOG_INFO, "plan: the Shapley value from %zu coalitions' cheapest networks", gm.costs.len);
        if (!rc) {
            r->shapley_exact = sh.exact, r->shapley_samples = sh.samples, r->cost_game_solves = gm.costs.len;
            for (int j = 0; j < J; j++) {
                rows[j].shapley = sh.value[j], rows[j].shapley_err = sh.stderr_[j];
                all->shapley += sh.value[j];
            }
        }
        ec_plan_shapley_free(&sh);
    }
    for (int j = 0; j < J && !rc; j++) {
        double tol = 1e-6 * (rows[j].standalone > 1 ? rows[j].standalone : 1);
        rows[j].pays_more_than_alone = rows[j].shapley > rows[j].standalone + tol || rows[j].share_by_use > rows[j].standalone + tol;
    }
    r->cost_game_gap = gm.max_gap;
    for (int j = 0; j <= J && !rc; j++) rc = ec_vec_push(&r->jrows, &rows[j]);
    for (size_t i = 0; i < nres + nsub && !rc; i++) rc = ec_vec_push(&r->resilience, &resil[i]);
    if (!rc && r->resilience.len) qsort(r->resilience.data, r->resilience.len, sizeof(ec_plan_resil_t), by_dependence);
    for (size_t i = 0; i < r->resilience.len; i++) EC_VEC_AT(&r->resilience, ec_plan_resil_t, i).rank = (int)i + 1;
    for (size_t i = 0; jobs && i < jobs_n; i++) {
        ec_sites_free(&jobs[i].sites);
        ec_traffic_free(&jobs[i].own_traffic);
        scenario_release(&jobs[i].scn);
    }
    ec_free(jobs), ec_free(rows), ec_free(resil);
    ec_vec_free(&dup_waits), ec_vec_free(&busy);
    ec_plan_solution_free(&shared);
    ec_map_free(&gm.cache);
    ec_vec_free(&gm.costs);
    ec_map_free(&jm.node_j);
    return rc;
}

ec_err ec_plan_run(const ec_plan_config_t *c, ec_plan_result_t *r)
{
    double t0 = now_s();
    memset(r, 0, sizeof *r);
    ec_vec_init(&r->actions, sizeof(ec_plan_action_t));
    ec_vec_init(&r->jrows, sizeof(ec_plan_jrow_t));
    ec_vec_init(&r->resilience, sizeof(ec_plan_resil_t));
    ec_vec_init(&r->tco, sizeof(ec_plan_tco_t));
    ec_vec places, subs;
    ec_err rc = ec_plan_places(c, &places, &subs);
    if (rc) return rc;
    const ec_plan_place_t *pl = places.data;
    size_t np = places.len;
    r->n_places = np;
    ec_plan_model_config_t mc;
    memset(&mc, 0, sizeof mc);
    mc.g = c->twin.g, mc.traffic = c->twin.traffic, mc.mix = c->twin.mix, mc.areas = c->areas;
    mc.bev_share = c->twin.bev_share, mc.day_factor = c->twin.day_factor, mc.temp_c = c->twin.temp_c;
    mc.soc_start = PLAN_SOC_START, mc.soc_min = c->twin.soc_min > 0 ? c->twin.soc_min : PLAN_SOC_MIN, mc.soc_charge_to = PLAN_SOC_CHARGE_TO;
    mc.places = pl, mc.n_places = np, mc.subs = subs.data, mc.n_subs = subs.len, mc.costs = c->costs, mc.years = c->years, mc.progress = c->progress;
    mc.stop_overhead_s = c->twin.stop_overhead_s;
    ec_plan_model *m = NULL;
    ec_plan_solution_t sol;
    memset(&sol, 0, sizeof sol);
    if ((rc = ec_plan_model_build(&mc, &m))) goto done;
    ec_log(EC_LOG_INFO, "plan: the model in %.1f s", now_s() - t0);
    ec_plan_model_stats(m, &r->stats);
    if (c->export_model && (rc = ec_plan_model_json(m, c->export_model))) goto done;
    if ((rc = ec_plan_solve_budget(m, c->budget, c->mip_gap, c->time_limit_s, &sol))) goto done;
    ec_log(EC_LOG_INFO, "plan: the budgeted plan at %.1f s (gap %.4f)", now_s() - t0, sol.gap);
    r->budget = c->budget, r->spent = sol.capex, r->objective = sol.objective, r->bound = sol.bound, r->gap = sol.gap;
    r->served_truck_km = sol.served_truck_km, r->model_annual_cost = sol.annual_cost;
    if ((rc = build_actions(c, pl, np, &sol, r))) goto done;
    /* The days: today, each rank, the pools to compare; the shared network and each jurisdiction's own, each site down. */
    int J = c->areas ? (int)c->areas->n_ids : 0;
    size_t busy_guess = r->actions.len + (c->twin.sites ? c->twin.sites->n : 0);
    if (c->resilience_max && busy_guess > c->resilience_max) busy_guess = c->resilience_max;
    uint64_t live = 0;
    ec_vec extra;
    if ((rc = cost_game_plan(c, &live, &extra))) goto done;
    ec_progress bar;
    ec_progress_start(&bar, "days and networks", 2 + r->actions.len + (c->compare_spacing_km > 0) + (uint64_t)J + busy_guess +
                                                      c->twin.n_subs + 1 + (uint64_t)J + extra.len);
    if (!c->progress) bar.enabled = 0;
    uint64_t done_days = 0;
    rc = first_days(c, r, &bar, &done_days);
    ec_log(EC_LOG_INFO, "plan: today and %zu ranks simulated at %.1f s", r->actions.len, now_s() - t0);
    if (!rc) rc = second_days(c, m, pl, np, live, &extra, r, &bar, &done_days);
    ec_vec_free(&extra);
    ec_log(EC_LOG_INFO, "plan: shared and duplicated, who pays and resilience at %.1f s", now_s() - t0);
    ec_progress_finish(&bar);
    if (!rc) rc = tco(c, r);
done:
    ec_plan_solution_free(&sol);
    ec_plan_model_free(m);
    ec_vec_free(&places), ec_vec_free(&subs);
    r->runtime_s = now_s() - t0;
    if (rc) ec_plan_result_free(r);
    return rc;
}

void ec_plan_result_free(ec_plan_result_t *r)
{
    if (!r) return;
    ec_vec_free(&r->actions);
    ec_vec_free(&r->jrows);
    ec_vec_free(&r->resilience);
    ec_vec_free(&r->tco);
    ec_twin_result_free(&r->base);
    ec_twin_result_free(&r->planned);
    ec_twin_result_free(&r->even);
    ec_sites_free(&r->even_sites);
}

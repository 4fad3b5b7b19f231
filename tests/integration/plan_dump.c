/* plan_dump - builds the planning model on a corridor with a place at every
 * node and prints it as JSON with its two solutions (budget and min cost),
 * for test_plan_brute.py, which checks them against brute force, and for
 * measuring the model's size and the solver's time on the shared corridors.
 *
 * plan_dump --corridor DIR [--vehicles MIX.csv] [--bev-share F] [--day-factor F] [--temp-c T]
 *     [--max-points N] [--kw KW] [--point-capex X] [--site-capex X] [--grid-capex X]
 *     [--headroom KW|inf] [--grid-max KW] [--util U] [--existing NODE:POINTS]... [--jur NODE:J]...
 *     [--members J,J..] [--budget B] [--gap G] [--time-limit S] [--overhead-s S] [--node-limit N]
 *     [--large-rows N]
 *     [--default-costs] [--areas FILE] [--no-model] [--no-budget]
 *     [--no-min-cost] [--progress]
 *
 * The costs are plausible figures of this tool's own (a site 1 M, an MCS
 * point 400 k, grid 200 per kW), not the documented defaults, unless
 * --default-costs (then every place is a node place as the plan makes it).
 * --areas: jurisdictions as ec_plan_areas_load reads them (--members by index). */
#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST 64

typedef struct {
    const char *corridor, *vehicles, *areas;
    double bev_share, day_factor, temp_c, kw, point_capex, site_capex, grid_capex, headroom, grid_max, util;
    double budget, gap, time_limit, overhead_s;
    int default_costs, node_limit, large_rows, max_points, no_model, no_budget, no_min_cost, progress;
    int64_t existing_node[MAX_LIST];
    int existing_points[MAX_LIST], n_existing;
    int64_t jur_node[MAX_LIST];
    int jur_j[MAX_LIST], n_jur;
    unsigned char members[EC_PLAN_MAX_JURISDICTIONS];
    int has_members;
} opts;

static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->bev_share = 0.15, o->day_factor = 1.0, o->temp_c = 20, o->kw = 1000, o->point_capex = 400000;
    o->site_capex = 1000000, o->grid_capex = 200, o->headroom = INFINITY, o->grid_max = 0, o->util = 0.5;
    o->budget = -1, o->gap = 0, o->time_limit = 0, o->max_points = 20;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--no-model")) o->no_model = 1;
        else if (!strcmp(k, "--no-budget")) o->no_budget = 1;
        else if (!strcmp(k, "--no-min-cost")) o->no_min_cost = 1;
        else if (!strcmp(k, "--progress")) o->progress = 1;
        else if (!strcmp(k, "--default-costs")) o->default_costs = 1;
        else if (!v) return fprintf(stderr, "plan_dump: %s needs a value\n", k), -1;
        else {
            i++;
            char *end = NULL;
            if (!strcmp(k, "--corridor")) o->corridor = v;
            else if (!strcmp(k, "--vehicles")) o->vehicles = v;
            else if (!strcmp(k, "--areas")) o->areas = v;
            else if (!strcmp(k, "--bev-share")) o->bev_share = strtod(v, &end);
            else if (!strcmp(k, "--day-factor")) o->day_factor = strtod(v, &end);
            else if (!strcmp(k, "--temp-c")) o->temp_c = strtod(v, &end);
            else if (!strcmp(k, "--kw")) o->kw = strtod(v, &end);
            else if (!strcmp(k, "--point-capex")) o->point_capex = strtod(v, &end);
            else if (!strcmp(k, "--site-capex")) o->site_capex = strtod(v, &end);
            else if (!strcmp(k, "--grid-capex")) o->grid_capex = strtod(v, &end);
            else if (!strcmp(k, "--headroom")) o->headroom = !strcmp(v, "inf") ? INFINITY : strtod(v, &end);
            else if (!strcmp(k, "--grid-max")) o->grid_max = strtod(v, &end);
            else if (!strcmp(k, "--util")) o->util = strtod(v, &end);
            else if (!strcmp(k, "--budget")) o->budget = strtod(v, &end);
            else if (!strcmp(k, "--gap")) o->gap = strtod(v, &end);
            else if (!strcmp(k, "--time-limit")) o->time_limit = strtod(v, &end);
            else if (!strcmp(k, "--overhead-s")) o->overhead_s = strtod(v, &end);
            else if (!strcmp(k, "--node-limit")) o->node_limit = (int)strtol(v, &end, 10);
            else if (!strcmp(k, "--large-rows")) o->large_rows = (int)strtol(v, &end, 10);
            else if (!strcmp(k, "--max-points")) o->max_points = (int)strtol(v, &end, 10);
            else if (!strcmp(k, "--existing") && o->n_existing < MAX_LIST) {
                long long n;
                int p;
                if (sscanf(v, "%lld:%d", &n, &p) != 2) return fprintf(stderr, "plan_dump: --existing NODE:POINTS\n"), -1;
                o->existing_node[o->n_existing] = n, o->existing_points[o->n_existing++] = p;
            } else if (!strcmp(k, "--jur") && o->n_jur < MAX_LIST) {
                long long n;
                int j;
                if (sscanf(v, "%lld:%d", &n, &j) != 2 || j < 0 || j >= EC_PLAN_MAX_JURISDICTIONS)
                    return fprintf(stderr, "plan_dump: --jur NODE:J\n"), -1;
                o->jur_node[o->n_jur] = n, o->jur_j[o->n_jur++] = j;
            } else if (!strcmp(k, "--members")) {
                o->has_members = 1;
                for (const char *s = v; *s;) {
                    long j = strtol(s, &end, 10);
                    if (end == s || j < 0 || j >= EC_PLAN_MAX_JURISDICTIONS) return fprintf(stderr, "plan_dump: --members\n"), -1;
                    o->members[j] = 1;
                    s = *end == ',' ? end + 1 : end;
                }
                end = NULL;
            } else return fprintf(stderr, "plan_dump: unknown option %s\n", k), -1;
            if (end && *end) return fprintf(stderr, "plan_dump: %s: not a number: %s\n", k, v), -1;
        }
    }
    if (!o->corridor) return fprintf(stderr, "plan_dump: --corridor DIR is needed\n"), -1;
    return 0;
}

static void costs_of(const opts *o, ec_plan_costs_t *c)
{
    if (o->default_costs) {
        ec_plan_costs_default(c);
        return;
    }
    memset(c, 0, sizeof *c);
    snprintf(c->currency, sizeof c->currency, "EUR");
    c->mcs_point_capex = o->point_capex, c->mcs_point_kw = o->kw;
    c->grid_capex_per_kw = o->grid_capex, c->site_fixed_capex = o->site_capex;
    c->point_opex_per_year = 15000, c->site_opex_per_year = 30000;
    c->demand_charge_per_kw_month = 12, c->discount_rate = 0.06, c->point_max_utilisation = o->util;
    c->max_points_per_site = o->max_points;
}

static void solution_json(ec_jw *w, const ec_plan_solution_t *s, double seconds)
{
    ec_jw_obj_begin(w);
    ec_jw_key(w, "points"), ec_jw_arr_begin(w);
    for (size_t k = 0; k < s->n; k++) ec_jw_int(w, s->points[k]);
    ec_jw_arr_end(w);
    ec_jw_key(w, "points_exact"), ec_jw_arr_begin(w);
    for (size_t k = 0; k < s->n; k++) ec_jw_real(w, s->points_exact[k]);
    ec_jw_arr_end(w);
    ec_jw_key(w, "grid_kw"), ec_jw_arr_begin(w);
    for (size_t k = 0; k < s->n; k++) ec_jw_real(w, s->grid_kw[k]);
    ec_jw_arr_end(w);
    ec_jw_key(w, "kwh_per_day"), ec_jw_arr_begin(w);
    for (size_t k = 0; k < s->n; k++) ec_jw_real(w, s->kwh_per_day[k]);
    ec_jw_arr_end(w);
    ec_jw_key(w, "served_truck_km"), ec_jw_real(w, s->served_truck_km);
    ec_jw_key(w, "served_trucks"), ec_jw_real(w, s->served_trucks);
    ec_jw_key(w, "objective"), ec_jw_real(w, s->objective);
    ec_jw_key(w, "bound"), ec_jw_real(w, s->bound);
    ec_jw_key(w, "gap"), ec_jw_real(w, s->gap);
    ec_jw_key(w, "capex"), ec_jw_real(w, s->capex);
    ec_jw_key(w, "annual_cost"), ec_jw_real(w, s->annual_cost);
    ec_jw_key(w, "nodes"), ec_jw_int(w, s->nodes);
    ec_jw_key(w, "rounded"), ec_jw_bool(w, s->rounded);
    ec_jw_key(w, "timed_out"), ec_jw_bool(w, s->timed_out);
    ec_jw_key(w, "seconds"), ec_jw_real(w, seconds);
    ec_jw_obj_end(w);
}

static double now_s(void)
{
    return (double)ec_time_mono_ns() / 1e9;
}

static int fail(const char *what, ec_err rc)
{
    fprintf(stderr, "plan_dump: %s: %s\n", what, ec_errmsg_of(rc));
    return 1;
}

int main(int argc, char **argv)
{
    opts o;
    if (parse_args(argc, argv, &o)) return 2;
    ec_progress_set_enabled(o.progress);
    double t0 = now_s();
    ec_load_opts_t lo;
    memset(&lo, 0, sizeof lo);
    ec_ch_opts_t co;
    memset(&co, 0, sizeof co);
    ec_graph *g = NULL;
    ec_traffic_t traffic;
    memset(&traffic, 0, sizeof traffic);
    ec_vehicle_mix_t mix;
    char path[4096];
    ec_err rc = ec_vehicle_class_builtin("truck-40t", &lo.vehicle);
    if (!rc) rc = ec_graph_load_corridor(o.corridor, &lo, &g);
    if (!rc) rc = ec_ch_build(g, &co);
    if (rc) return fail("corridor", rc);
    snprintf(path, sizeof path, "%s/traffic.csv", o.corridor);
    if ((rc = ec_traffic_load(path, &traffic))) return fail("traffic", rc);
    rc = o.vehicles ? ec_vehicle_mix_load(o.vehicles, &mix) : ec_vehicle_mix_default(&mix);
    if (rc) return fail("vehicles", rc);
    double t_load = now_s() - t0;

    ec_plan_costs_t costs;
    costs_of(&o, &costs);
    ec_plan_place_t *places = ec_calloc(g->n_nodes, sizeof *places);
    if (!places) return fail("places", EC_ENOMEM);
    for (uint32_t v = 0; v < g->n_nodes; v++) {
        ec_plan_place_t *p = &places[v];
        snprintf(p->site_id, sizeof p->site_id, "node-%lld", (long long)g->ext_id[v]);
        snprintf(p->name, sizeof p->name, "%s", p->site_id);
        p->pos = ec_graph_point(g, v), p->node = g->ext_id[v];
        p->kw = o.kw, p->plug = EC_PLUG_MCS, p->point_capex = o.point_capex;
        p->headroom_kw = o.headroom, p->grid_max_kw = o.grid_max, p->max_points = o.max_points;
        if (o.default_costs) /* a node place as the plan makes one */
            p->kw = costs.mcs_point_kw, p->point_capex = costs.mcs_point_capex, p->headroom_kw = INFINITY,
            p->grid_max_kw = 0, p->max_points = costs.max_points_per_site;
        p->jurisdiction = -1;
        for (int i = 0; i < o.n_existing; i++)
            if (o.existing_node[i] == p->node) p->existing = 1, p->points0 = o.existing_points[i];
        for (int i = 0; i < o.n_jur; i++)
            if (o.jur_node[i] == p->node) p->jurisdiction = o.jur_j[i];
    }
    ec_plan_areas_t areas;
    memset(&areas, 0, sizeof areas);
    areas.nodes = o.jur_node, areas.node_j = o.jur_j, areas.n_nodes = (size_t)o.n_jur;
    if (o.areas) {
        if ((rc = ec_plan_areas_load(o.areas, &areas))) return fail("areas", rc);
        o.n_jur = (int)areas.n_ids;
        for (uint32_t v = 0; v < g->n_nodes; v++) places[v].jurisdiction = ec_plan_areas_of(&areas, places[v].node, places[v].pos);
    }

    ec_plan_model_config_t c;
    memset(&c, 0, sizeof c);
    c.g = g, c.traffic = &traffic, c.mix = &mix, c.areas = o.n_jur ? &areas : NULL;
    c.bev_share = o.bev_share, c.day_factor = o.day_factor, c.temp_c = o.temp_c;
    c.soc_start = 0.70, c.soc_min = 0.10, c.soc_charge_to = 0.80;
    c.stop_overhead_s = o.overhead_s, c.node_limit = o.node_limit, c.large_rows = o.large_rows;
    c.places = places, c.n_places = g->n_nodes, c.costs = &costs, c.years = 10, c.progress = o.progress;
    ec_plan_model *m = NULL;
    t0 = now_s();
    if ((rc = ec_plan_model_build(&c, &m))) return fail("model", rc);
    double t_build = now_s() - t0;

    ec_buf out;
    ec_buf_init(&out, (size_t)1 << 31);
    ec_jw w;
    ec_jw_init(&w, &out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "load_s"), ec_jw_real(&w, t_load);
    ec_jw_key(&w, "build_s"), ec_jw_real(&w, t_build);
    ec_plan_model_stats_t st;
    ec_plan_model_stats(m, &st);
    ec_jw_key(&w, "stats"), ec_jw_obj_begin(&w);
    ec_jw_key(&w, "paths"), ec_jw_int(&w, (int64_t)st.paths);
    ec_jw_key(&w, "unservable"), ec_jw_int(&w, (int64_t)st.unservable);
    ec_jw_key(&w, "trucks_per_day"), ec_jw_real(&w, st.trucks_per_day);
    ec_jw_key(&w, "truck_km_per_day"), ec_jw_real(&w, st.truck_km_per_day);
    ec_jw_key(&w, "servable_truck_km"), ec_jw_real(&w, st.servable_truck_km);
    ec_jw_key(&w, "kwh_per_day"), ec_jw_real(&w, st.kwh_per_day);
    ec_jw_obj_end(&w);
    if (!o.no_model) {
        ec_buf mj;
        ec_buf_init(&mj, (size_t)1 << 31);
        if ((rc = ec_plan_model_json(m, &mj))) return fail("model json", rc);
        ec_jw_key(&w, "model"), ec_jw_raw(&w, mj.data);
        ec_buf_free(&mj);
    }
    ec_plan_solution_t s;
    if (!o.no_budget) {
        t0 = now_s();
        if ((rc = ec_plan_solve_budget(m, o.budget, o.gap, o.time_limit, &s))) return fail("budget solve", rc);
        ec_jw_key(&w, "budget"), solution_json(&w, &s, now_s() - t0);
        ec_plan_solution_free(&s);
    }
    if (!o.no_min_cost) {
        t0 = now_s();
        rc = ec_plan_solve_min_cost(m, o.has_members ? o.members : NULL, o.gap, o.time_limit, &s);
        if (rc) {
            ec_jw_key(&w, "min_cost"), ec_jw_null(&w);
            ec_jw_key(&w, "min_cost_error"), ec_jw_str(&w, ec_errmsg_of(rc));
        } else {
            ec_jw_key(&w, "min_cost"), solution_json(&w, &s, now_s() - t0);
            ec_plan_solution_free(&s);
        }
    }
    ec_jw_obj_end(&w);
    if ((rc = ec_jw_finish(&w))) return fail("json", rc);
    fwrite(out.data, 1, out.len, stdout);
    fputc('\n', stdout);
    ec_buf_free(&out);
    ec_plan_model_free(m);
    ec_free(places);
    ec_traffic_free(&traffic);
    if (o.areas) ec_plan_areas_free(&areas);
    ec_graph_free(g);
    return 0;
}

/* cmd_trip.c - routes with charging stops and driver breaks, one or a batch. */
#include "trip.h"
#include "ecorridor/ec_route.h"

#include <math.h>
#include <string.h>

static void iso(int64_t t, char *out, size_t n)
{
    ec_time_format_iso(t, out, n);
}

static void hm(double s, char *out, size_t n)
{
    long t = lround(s / 60.0);
    snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

/* Costs in cents, rounded half away from zero ("-0.01" for -0.0050). */
static void money(int64_t v, char *out, size_t n)
{
    ec_money_format(v, 2, out, n);
}

/* How the table tells time: one zone for all (--tz), or each place's own. */
typedef struct {
    const char *tz;     /* --tz, or NULL */
    int unknown;        /* a place had no zone and was shown in UTC */
} zone_clock;

static void when(zone_clock *c, int64_t t, ec_latlon_t at, char *out, size_t n)
{
    const char *zone = c->tz ? c->tz : trip_zone_of(at);
    if (!zone) c->unknown = 1;
    trip_time_local(t, zone, out, n);
}

static const char *pause_label(ec_pause_kind k, int part)
{
    if (k == EC_PAUSE_REST) return "daily rest";
    if (k == EC_PAUSE_BREAK_PART) return part == 1 ? "break, first 15 min" : "break, last 30 min";
    return "break";
}

static void print_infeasible(const ec_trip_plan_t *p)
{
    printf("not feasible: %s\n", p->reason);
    if (!p->farthest[0]) return;
    printf("last point reached with charge: %s (%.5f,%.5f), %.0f km by road from the destination\n", p->farthest,
           p->farthest_at.lat, p->farthest_at.lon, p->farthest_to_go_m / 1000);
    if (!p->n_unusable) return;
    printf("\n  %-34s %-14s %7s  %s\n", "sites near it not used", "reason", "km", "why");
    for (int i = 0; i < p->n_unusable; i++) {
        const ec_trip_unusable_t *u = &p->unusable[i];
        printf("  %-34.34s %-14s %7.1f  %s\n", u->name[0] ? u->name : u->site_id, u->reason, u->distance_m / 1000,
               u->why);
    }
}

/* The pauses of the plan in time order, at stops and on the road. */
static void print_pauses(const ec_trip_plan_t *p, zone_clock *ck)
{
    int si = 0, ri = 0;
    char a[48], b[48], c[32];
    printf("\n  %-20s %-22s %-22s %s\n", "pause", "start", "end", "place");
    while (si < p->n_stops || ri < p->n_pauses) {
        while (si < p->n_stops && p->stops[si].pause == EC_PAUSE_NONE) si++;
        const ec_trip_stop_t *s = si < p->n_stops ? &p->stops[si] : NULL;
        const ec_trip_pause_t *r = ri < p->n_pauses ? &p->pauses[ri] : NULL;
        if (!s && !r) break;
        if (s && (!r || s->pause_start_s <= r->start_s)) {
            when(ck, s->pause_start_s, s->at, a, sizeof a), when(ck, s->pause_end_s, s->at, b, sizeof b);
            hm(s->charge_s + s->overhead_s, c, sizeof c);
            printf("  %-20s %-22s %-22s %s (at the charger %s within it)\n", pause_label(s->pause, s->break_part), a, b,
                   s->name[0] ? s->name : s->site_id, c);
            si++;
        } else {
            when(ck, r->start_s, r->at, a, sizeof a), when(ck, r->end_s, r->at, b, sizeof b);
            /* "at the rest area beside A 5, near Walldorf", "on A3 Cologne–Montabaur, near Montabaur". */
            printf("  %-20s %-22s %-22s %s%s%s%s, %.5f,%.5f\n", pause_label(r->kind, 2), a, b,
                   r->rest_area[0] ? "at the " : "on ", r->rest_area[0] ? r->rest_area : r->near[0] ? "" : "the road",
                   r->rest_area[0] && r->near[0] ? " beside " : "", r->near, r->at.lat, r->at.lon);
            ri++;
        }
    }
}

static void print_plan(const ec_trip_plan_t *p, const ec_trip_request_t *r, ec_latlon_t from, ec_latlon_t to,
                       const char *tz)
{
    char a[48], b[48], c[32], d[32], e[32];
    if (!p->feasible) {
        print_infeasible(p);
        return;
    }
    zone_clock ck = {tz, 0};
    printf("%s with %.0f kg payload at %.0f C, leaving at %.0f %% charge, %s rules\n", r->vehicle->name,
           r->cond.payload_kg, r->cond.temp_c, r->soc_start * 100,
           r->rules == EC_RULES_EU ? "EU" : r->rules == EC_RULES_US ? "US" : "no");
    when(&ck, p->departure_s, from, a, sizeof a), when(&ck, p->arrival_s, to, b, sizeof b);
    hm(p->duration_s, c, sizeof c);
    printf("depart %s   arrive %s   %s h:mm   %.1f km   %.0f kWh   arrive at %.0f %%\n", a, b, c,
           p->distance_m / 1000, p->energy_kwh, p->soc_arrival * 100);
    iso(p->departure_s, a, sizeof a), iso(p->arrival_s, b, sizeof b);
    printf("in UTC: depart %s   arrive %s\n", a, b);
    hm(p->drive_s, a, sizeof a), hm(p->charge_s, b, sizeof b), hm(p->overhead_s, c, sizeof c);
    printf("driving %s   charging %s   pulling in and plugging in %s", a, b, c);
    if (p->wait_s > 0) hm(p->wait_s, a, sizeof a), printf("   waiting for a connector %s", a);
    printf("\n");
    /* Breaks and rests are shown whole, as the rules count them; the charging
     * done inside them is said, so that nothing is counted twice. */
    hm(p->break_total_s, a, sizeof a), hm(p->break_total_s - p->break_s, b, sizeof b);
    hm(p->rest_total_s, c, sizeof c), hm(p->rest_total_s - p->rest_s, d, sizeof d);
    printf("breaks %s", a);
    if (p->break_total_s - p->break_s > 0.5) printf(" (at the charger %s within them)", b);
    printf("   rest %s", c);
    if (p->rest_total_s - p->rest_s > 0.5) printf(" (at the charger %s within it)", d);
    money(p->cost, e, sizeof e);
    printf("   charging cost %s %s\n", e, p->currency);
    if (p->n_stops) {
        printf("\n  %-34s %-6s %-22s %5s %-22s %6s %7s %6s %-5s %9s\n", "stop", "plug", "arrive", "wait", "leave",
               "SoC in", "SoC out", "kWh", "break", "cost");
        for (int i = 0; i < p->n_stops; i++) {
            const ec_trip_stop_t *s = &p->stops[i];
            char ta[48], td[48], cost[32], wait[32];
            when(&ck, s->arrival_s, s->at, ta, sizeof ta), when(&ck, s->departure_s, s->at, td, sizeof td);
            money(s->cost, cost, sizeof cost);
            if (s->wait_s > 0) hm(s->wait_s, wait, sizeof wait);
            else snprintf(wait, sizeof wait, "-");
            printf("  %-34.34s %-6s %-22s %5s %-22s %5.0f%% %6.0f%% %6.0f %-5s %9s\n", s->name[0] ? s->name : s->site_id,
                   s->charge_s > 0 ? ec_plug_name(s->plug) : "-", ta, wait, td, s->soc_in * 100, s->soc_out * 100,
                   s->energy_kwh, s->rest ? "rest" : s->break_part == 1 ? "15m" : s->break_part == 2 ? "30m" : s->brk ? "yes" : "",
                   cost);
        }
        money(p->cost, e, sizeof e);
        printf("  %-34s %-6s %-22s %5s %-22s %6s %7s %6s %-5s %9s\n", "total", "", "", "", "", "", "", "", "", e);
        for (int i = 0; i < p->n_stops; i++) {
            const ec_trip_stop_t *s = &p->stops[i];
            if (!s->reserved) continue;
            when(&ck, s->arrival_s + (int64_t)llround(s->wait_s), s->at, a, sizeof a);
            printf("  reserve a connector at %s for %s (inside its reservable window)\n", s->name[0] ? s->name : s->site_id, a);
        }
    } else {
        printf("\nno charging stop needed\n");
    }
    if (p->n_pauses || p->break_total_s > 0 || p->rest_total_s > 0) print_pauses(p, &ck);
    printf("\n%s\n", tz ? "times in the zone asked for (--tz)"
                        : ck.unknown ? "times are each place's local time; in UTC where no zone is known"
                                     : "times are each place's local time");
}

static int frac_opt(const cli_cmd *cmd, const cli_args *a, const char *name, double def, double *out)
{
    const char *v = cli_get(a, name);
    *out = def;
    if (v && (ec_parse_double(v, out) || *out < 0 || *out > 1))
        return cli_usage_error(cmd, "--%s must be a fraction 0..1, not \"%s\"", name, v);
    return -1;
}

int cli_trip(const cli_cmd *cmd, const cli_args *a)
{
    const char *from = cli_get(a, "from"), *to = cli_get(a, "to"), *batch = cli_get(a, "batch");
    if (batch ? (from || to) : !(from && to)) return cli_usage_error(cmd, "give --from and --to, or --batch");
    if (cli_get(a, "algo")) return cli_usage_error(cmd, "--algo does not apply with --sites");
    ec_latlon_t pa = {0, 0}, pb = {0, 0};
    if (from && ec_geo_parse(from, &pa)) return cli_usage_error(cmd, "--from \"%s\" is not LAT,LON in degrees", from);
    if (to && ec_geo_parse(to, &pb)) return cli_usage_error(cmd, "--to \"%s\" is not LAT,LON in degrees", to);
    ec_vehicle_profile v;
    ec_trip_request_t r;
    memset(&r, 0, sizeof r);
    int st;
    if ((st = frac_opt(cmd, a, "soc", 0.9, &r.soc_start)) >= 0 || (st = frac_opt(cmd, a, "min-soc", 0.1, &r.soc_min)) >= 0 ||
        (st = frac_opt(cmd, a, "arrival-soc", r.soc_min, &r.soc_min_arrival)) >= 0)
        return st;
    const char *rules = cli_get(a, "rules"), *obj = cli_get(a, "objective"), *dep = cli_get(a, "depart");
    r.rules = EC_RULES_EU;
    if (rules && !strcmp(rules, "us")) r.rules = EC_RULES_US;
    else if (rules && !strcmp(rules, "none")) r.rules = EC_RULES_NONE;
    else if (rules && strcmp(rules, "eu")) return cli_usage_error(cmd, "--rules must be eu, us or none");
    r.objective = EC_OBJ_TIME;
    if (obj && !strcmp(obj, "cost")) r.objective = EC_OBJ_COST;
    else if (obj && strcmp(obj, "time")) return cli_usage_error(cmd, "--objective must be time or cost");
    r.depart_s = ec_time_now_s();
    int dst = dep ? trip_parse_depart(dep, r.depart_s, &r.depart_s) : 0;
    if (dst > 0)
        return cli_usage_error(cmd, "--depart \"%s\" has no zone: add Z for UTC or the offset, as in 2026-11-24T07:00+01:00",
                               dep);
    if (dst < 0)
        return cli_usage_error(cmd, "--depart \"%s\" is not \"now\" or an ISO 8601 time with its zone, like "
                                    "2026-11-24T06:00Z or 2026-11-24T07:00+01:00", dep);
    const char *tz = cli_get(a, "tz");
    if (tz && !trip_zone_known(tz))
        return cli_usage_error(cmd, "--tz \"%s\" is not a zone of the tz database, like Europe/Berlin or UTC", tz);
    const char *dh = cli_get(a, "driven-h");
    if (dh && (ec_parse_double(dh, &r.driven_since_break_s) || r.driven_since_break_s < 0 || r.driven_since_break_s > 24))
        return cli_usage_error(cmd, "--driven-h must be 0..24 hours");
    r.driven_since_break_s *= 3600.0;
    ec_err rc = ec_vehicle_profile_resolve(cli_get(a, "vehicle") ? cli_get(a, "vehicle") : "eactros600", &v);
    if (rc) return cli_error(rc);
    r.vehicle = &v;
    r.cond = ec_conditions_default(&v);
    const char *pl = cli_get(a, "payload-kg"), *tc = cli_get(a, "temp-c");
    if (pl && ec_parse_double(pl, &r.cond.payload_kg)) return cli_usage_error(cmd, "--payload-kg must be a number");
    if (tc && ec_parse_double(tc, &r.cond.temp_c)) return cli_usage_error(cmd, "--temp-c must be a number");
    const char *so = cli_get(a, "stop-overhead-min");
    r.stop_overhead_s = 5;
    if (so && (ec_parse_double(so, &r.stop_overhead_s) || r.stop_overhead_s < 0 || r.stop_overhead_s > 60))
        return cli_usage_error(cmd, "--stop-overhead-min must be 0..60");
    r.stop_overhead_s *= 60.0;
    r.avoid = a->list;
    r.n_avoid = a->n_list;

    ec_sites sites = {0};
    ec_graph *g = NULL;
    ec_trip_planner *pl_ = NULL;
    int code = EXIT_OK;
    if ((rc = ec_sites_load(cli_get(a, "sites"), &sites)) || (rc = ec_graph_open(cli_get(a, "graph"), &g)) ||
        (rc = ec_graph_snap_prepare(g)) || (rc = ec_trip_planner_new(g, &sites, &pl_))) {
        code = cli_error(rc);
        goto done;
    }
    for (size_t i = 0; i < r.n_avoid; i++) {
        int known = 0;
        for (size_t k = 0; k < sites.n; k++) known |= !strcmp(sites.groups[k].site_id, r.avoid[i]);
        if (!known) {
            code = cli_error(ec_fail(EC_ENOTFOUND, "--avoid-site %s: no such site in %s", r.avoid[i], cli_get(a, "sites")));
            goto done;
        }
    }
    size_t skipped;
    ec_trip_planner_sites(pl_, &skipped);
    if (skipped) ec_log(EC_LOG_WARN, "%zu sites lie more than 5 km from a usable road and were left out", skipped);
    ec_trip_plan_t plan;
    if (!batch) {
        if ((rc = route_check_point(g, pa, 5000.0)) || (rc = route_check_point(g, pb, 5000.0)) ||
            (rc = ec_trip_plan(pl_, &r, pa, pb, &plan))) {
            code = cli_error(rc);
            goto done;
        }
        if (cli_flag(a, "json")) {
            cli_json j;
            cli_json_begin(&j);
            ec_jw_obj_begin(&j.w);
            ec_trip_plan_json(&j.w, &plan);
            if (plan.feasible && cli_flag(a, "geometry")) {
                ec_jw_key(&j.w, "geometry");
                ec_trip_geojson(pl_, &plan, &j.w);
            }
            ec_jw_obj_end(&j.w);
            cli_json_print(&j);
        } else {
            print_plan(&plan, &r, pa, pb, tz);
        }
        code = plan.feasible ? EXIT_OK : EXIT_FAIL;
        goto done;
    }
    /* Batch: every row checked first, then one JSON line per row. */
    ec_vec pairs;
    ec_vec_init(&pairs, sizeof(ec_latlon_t) * 2);
    if ((rc = cli_read_pairs(batch, &pairs))) {
        code = cli_error(rc);
    } else {
        const ec_latlon_t *pp = pairs.data;
        for (size_t i = 0; i < pairs.len; i++) {
            cli_json j;
            cli_json_begin(&j);
            ec_jw_obj_begin(&j.w);
            ec_jw_key(&j.w, "row"), ec_jw_int(&j.w, (int64_t)i + 1);
            ec_errclear();
            if (!(rc = route_check_point(g, pp[2 * i], 5000.0)) && !(rc = route_check_point(g, pp[2 * i + 1], 5000.0)))
                rc = ec_trip_plan(pl_, &r, pp[2 * i], pp[2 * i + 1], &plan);
            if (rc) ec_jw_key(&j.w, "error"), ec_jw_str(&j.w, ec_errmsg());
            else ec_trip_plan_json(&j.w, &plan);
            ec_jw_obj_end(&j.w);
            cli_json_print(&j);
        }
    }
    ec_vec_free(&pairs);
done:
    ec_trip_planner_free(pl_);
    ec_graph_free(g);
    ec_sites_free(&sites);
    return code;
}

/* plan_even_tool.c - writes the evenly spaced pools of a corridor as a sites
 * CSV (docs/sites.md), for tests/integration/test_plan_even.py, until
 * `ecorridor plan --compare-spacing` writes them itself.
 *
 *   plan_even_tool CORRIDOR_DIR SPACING_KM BUDGET OUT.csv [TODAY_SITES.csv]
 *
 * Costs: a new site 200000, an MCS point 150000 at 1000 kW, at most 20
 * points a site (figures for the test only; the plan's own come from
 * COSTS.json). Prints "pools N" and "capex X" on stdout. */
#include "ecorridor/ec_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(ec_err rc, const char *what)
{
    fprintf(stderr, "plan_even_tool: %s: %s: %s\n", what, ec_strerror(rc), ec_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: plan_even_tool CORRIDOR_DIR SPACING_KM BUDGET OUT.csv [TODAY_SITES.csv]\n");
        return 2;
    }
    char *end;
    double spacing = strtod(argv[2], &end);
    if (*end) return 2;
    double budget = strtod(argv[3], &end);
    if (*end) return 2;
    ec_plan_costs_t k;
    memset(&k, 0, sizeof k);
    k.site_fixed_capex = 200000, k.mcs_point_capex = 150000, k.mcs_point_kw = 1000, k.max_points_per_site = 20;
    ec_load_opts_t lo;
    memset(&lo, 0, sizeof lo);
    ec_graph *g = NULL;
    ec_err rc = ec_graph_load_corridor(argv[1], &lo, &g);
    if (rc) return fail(rc, argv[1]);
    ec_sites today, out;
    memset(&today, 0, sizeof today);
    memset(&out, 0, sizeof out);
    if (argc == 6 && (rc = ec_sites_load(argv[5], &today))) return fail(rc, argv[5]);
    size_t pools = 0;
    rc = ec_plan_even_pools(g, spacing, &k, budget, argc == 6 ? &today : NULL, &out, &pools);
    if (rc) return fail(rc, "ec_plan_even_pools");
    FILE *f = fopen(argv[4], "w");
    if (!f) return fail(EC_EIO, argv[4]);
    fprintf(f, "site_id,name,lat,lon,standard,power_kw,count\n");
    double capex = 0;
    for (size_t i = 0; i < out.n; i++) {
        const ec_connector_group_t *r = &out.groups[i];
        fprintf(f, "%s,\"%s\",%.7f,%.7f,%s,%.3f,%d\n", r->site_id, r->name, r->pos.lat, r->pos.lon,
                ec_plug_name(r->standard), r->power_w / 1000.0, r->count);
        if (i >= today.n) capex += k.site_fixed_capex + r->count * k.mcs_point_capex;
    }
    if (fclose(f)) return fail(EC_EIO, argv[4]);
    printf("pools %zu\ncapex %.0f\n", pools, capex);
    ec_sites_free(&out);
    ec_sites_free(&today);
    ec_graph_free(g);
    return 0;
}

/* cmd_report_afir.c - `ecorridor report afir`: whether a corridor's pools for
 * heavy-duty trucks meet AFIR Article 4(1) by a deadline (src/kpi/afir.c,
 * docs/afir.md). The corridor and the sites are read by the readers the
 * twin uses; this file only loads, calls the check and prints. */
#include "cli.h"
#include "ecorridor/ec_afir.h"
#include "ecorridor/ec_twin.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>

static int run(int argc, char **argv);

static const cli_opt opts[] = {
    {"corridor", "DIR", "graph.graphml and segments.csv of the corridor (required)"},
    {"sites", "SITES.csv", "charging sites (docs/sites.md): each site a recharging pool"},
    {"db", "HUB.db", "or a hub's database: the sites of its register"},
    {"year", "Y", "the rule whose deadline is 31 December Y: 2025, 2027 or 2030 (required)"},
    {"network", "CLASS", "the TEN-T network class: core (default) or comprehensive"},
    {"json", NULL, "print the report as JSON"},
    {NULL, NULL, NULL},
};

const cli_cmd cmd_report_afir = {"report afir",
                                 "report afir --corridor DIR (--sites SITES.csv | --db HUB.db) "
                                 "--year Y [--network core|comprehensive] [--json]",
                                 "Check a corridor's pools for trucks against AFIR Article 4(1): "
                                 "each segment, both ways, and the share that complies.",
                                 opts,
                                 run,
                                 NULL};

/* A node as people know it: its name when the graph has names, else its id. */
static void node_text(const ec_graph *g, uint32_t v, char *buf, size_t n)
{
    const char *name = ec_graph_node_name(g, v);
    if (name)
        snprintf(buf, n, "%s", name);
    else
        snprintf(buf, n, "%lld", (long long)g->ext_id[v]);
}

static void segment_text(const ec_graph *g, const ec_afir_segment_t *s, char *buf, size_t n)
{
    char a[128], b[128];
    node_text(g, s->from, a, sizeof a);
    node_text(g, s->to, b, sizeof b);
    snprintf(buf, n, "%s \xe2\x80\x93 %s", a, b); /* an en dash */
}

/* Prints s and pads it to width characters (not bytes: names and the dash are UTF-8). */
static void print_padded(const char *s, size_t width)
{
    size_t chars = ec_utf8_chars(s);
    fputs(s, stdout);
    for (; chars < width; chars++)
        fputc(' ', stdout);
}

static const char *thousands(double v, int decimals, char *buf, size_t n)
{
    char raw[48];
    snprintf(raw, sizeof raw, "%.*f", decimals, v);
    const char *dot = strchr(raw, '.');
    size_t int_len = dot ? (size_t)(dot - raw) : strlen(raw), o = 0;
    for (size_t i = 0; raw[i] && o + 2 < n; i++) {
        if (i > 0 && i < int_len && (int_len - i) % 3 == 0 && raw[0] != '-') buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = 0;
    return buf;
}

static void print_rule(const ec_afir_rule_t *r)
{
    char kw[32];
    printf("AFIR %s, by 31 December %d, TEN-T %s network: pools of at least %s kW with %s point%s "
           "of %.0f kW or more,\n"
           "at most %g km apart in each direction of travel, on %.0f %% of the network's length\n",
           r->article, r->year, ec_afir_network_name(r->network),
           thousands(r->pool_kw, 0, kw, sizeof kw),
           r->fast_points == 1   ? "one"
           : r->fast_points == 2 ? "two"
                                 : "several",
           r->fast_points == 1 ? "" : "s", EC_AFIR_FAST_KW, r->spacing_km, r->required_share * 100);
}

static void print_table(const ec_graph *g, const ec_afir_result_t *r)
{
    print_rule(&r->rule);
    printf("pools: %zu in the sites, %zu of the rule's size, %zu of them within %g km of a "
           "segment\n\n",
           r->pools, r->pools_qualifying, r->pools_near, EC_AFIR_NEAR_KM);
    size_t width = 7;
    char name[300], num[48];
    for (size_t i = 0; i < r->n_segs; i++) {
        segment_text(g, &r->segs[i], name, sizeof name);
        size_t c = ec_utf8_chars(name);
        if (c > width) width = c;
    }
    if (width > 60) width = 60;
    printf("  ");
    print_padded("segment", width);
    printf(" %9s %5s  %-11s%s\n", "km", "pools", "compliant", "reason");
    for (size_t i = 0; i < r->n_segs; i++) {
        const ec_afir_segment_t *s = &r->segs[i];
        segment_text(g, s, name, sizeof name);
        printf("  ");
        print_padded(name, width);
        printf(" %9s %5d  %s", thousands(s->length_km, 1, num, sizeof num), s->pools,
               s->compliant ? "yes" : "no ");
        if (s->reason[0]) printf("        %s", s->reason);
        printf("\n");
    }
    char a[48], b[48];
    printf("\nnetwork %s km, compliant %s km: %.1f %% of the network's length (required %.0f %%): "
           "target %s\n",
           thousands(r->network_km, 1, a, sizeof a), thousands(r->compliant_km, 1, b, sizeof b),
           r->share * 100, r->rule.required_share * 100, r->meets_target ? "met" : "not met");
}

static void json_dir(ec_jw *w, const ec_afir_dir_t *d)
{
    if (!d->present) {
        ec_jw_null(w);
        return;
    }
    ec_jw_obj_begin(w);
    ec_jw_key(w, "compliant"), ec_jw_bool(w, d->compliant);
    ec_jw_key(w, "max_gap_km");
    if (isfinite(d->max_gap_km))
        ec_jw_num(w, d->max_gap_km, 3);
    else
        ec_jw_null(w);
    ec_jw_key(w, "reason");
    if (d->compliant)
        ec_jw_null(w);
    else
        ec_jw_str(w, d->reason);
    ec_jw_obj_end(w);
}

static void print_json(const ec_graph *g, const ec_afir_result_t *r)
{
    const ec_afir_rule_t *ru = &r->rule;
    char deadline[16], name[300];
    snprintf(deadline, sizeof deadline, "%d-12-31", ru->year);
    cli_json j;
    cli_json_begin(&j);
    ec_jw *w = &j.w;
    ec_jw_obj_begin(w);
    ec_jw_key(w, "year"), ec_jw_int(w, ru->year);
    ec_jw_key(w, "network"), ec_jw_str(w, ec_afir_network_name(ru->network));
    ec_jw_key(w, "network_km"), ec_jw_real(w, r->network_km);
    ec_jw_key(w, "compliant_km"), ec_jw_real(w, r->compliant_km);
    ec_jw_key(w, "share"), ec_jw_real(w, r->share);
    ec_jw_key(w, "required_share"), ec_jw_real(w, ru->required_share);
    ec_jw_key(w, "meets_target"), ec_jw_bool(w, r->meets_target);
    ec_jw_key(w, "rule");
    ec_jw_obj_begin(w);
    ec_jw_key(w, "article"), ec_jw_str(w, ru->article);
    ec_jw_key(w, "deadline"), ec_jw_str(w, deadline);
    ec_jw_key(w, "spacing_km"), ec_jw_real(w, ru->spacing_km);
    ec_jw_key(w, "pool_kw"), ec_jw_real(w, ru->pool_kw);
    ec_jw_key(w, "points_350kw"), ec_jw_int(w, ru->fast_points);
    ec_jw_key(w, "near_km"), ec_jw_real(w, EC_AFIR_NEAR_KM);
    ec_jw_obj_end(w);
    ec_jw_key(w, "pools");
    ec_jw_obj_begin(w);
    ec_jw_key(w, "total"), ec_jw_int(w, (int64_t)r->pools);
    ec_jw_key(w, "qualifying"), ec_jw_int(w, (int64_t)r->pools_qualifying);
    ec_jw_key(w, "near"), ec_jw_int(w, (int64_t)r->pools_near);
    ec_jw_obj_end(w);
    ec_jw_key(w, "segments");
    ec_jw_arr_begin(w);
    for (size_t i = 0; i < r->n_segs; i++) {
        const ec_afir_segment_t *s = &r->segs[i];
        ec_jw_obj_begin(w);
        ec_jw_key(w, "from"), ec_jw_int(w, g->ext_id[s->from]);
        ec_jw_key(w, "to"), ec_jw_int(w, g->ext_id[s->to]);
        if (g->name_off) {
            segment_text(g, s, name, sizeof name);
            ec_jw_key(w, "name"), ec_jw_str(w, name);
        }
        ec_jw_key(w, "length_km"), ec_jw_real(w, s->length_km);
        ec_jw_key(w, "compliant"), ec_jw_bool(w, s->compliant);
        ec_jw_key(w, "reason");
        if (s->compliant)
            ec_jw_null(w);
        else
            ec_jw_str(w, s->reason);
        ec_jw_key(w, "pools"), ec_jw_int(w, s->pools);
        ec_jw_key(w, "forward"), json_dir(w, &s->fwd);
        ec_jw_key(w, "backward"), json_dir(w, &s->rev);
        ec_jw_obj_end(w);
    }
    ec_jw_arr_end(w);
    ec_jw_obj_end(w);
    cli_json_print(&j);
}

static int run(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_report_afir, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    const char *corridor = cli_get(&a, "corridor"), *sites = cli_get(&a, "sites"),
               *db = cli_get(&a, "db");
    const char *year = cli_get(&a, "year"), *network = cli_get(&a, "network");
    if (!corridor) return cli_usage_error(&cmd_report_afir, "--corridor DIR is required");
    if (!sites == !db)
        return cli_usage_error(&cmd_report_afir,
                               "give --sites SITES.csv or --db HUB.db (one of them)");
    if (!year)
        return cli_usage_error(&cmd_report_afir, "--year Y is required (%s)", ec_afir_years());
    ec_afir_network net = EC_AFIR_CORE;
    if (network && ec_afir_network_parse(network, &net))
        return cli_usage_error(&cmd_report_afir,
                               "--network must be core or comprehensive, not \"%s\"", network);
    int64_t y;
    ec_afir_rule_t rule;
    if (ec_parse_i64(year, &y) || y < 1000 || y > 9999 || ec_afir_rule((int)y, net, &rule))
        return cli_usage_error(
            &cmd_report_afir,
            "--year %s: AFIR Article 4(1) sets no target for heavy-duty trucks with that deadline; "
            "the years with one are %s (31 December of each)",
            year, ec_afir_years());

    ec_graph *g = NULL;
    ec_sites in;
    memset(&in, 0, sizeof in);
    ec_twin_db_t hub;
    memset(&hub, 0, sizeof hub);
    ec_afir_pool_t *pools = NULL;
    size_t n_pools = 0;
    ec_afir_result_t res;
    memset(&res, 0, sizeof res);
    ec_load_opts_t lo;
    memset(&lo, 0, sizeof lo);
    int code = EXIT_FAIL;
    ec_err rc = ec_graph_load_corridor(corridor, &lo, &g);
    struct stat dbst;
    /* Opening a database that is not there would make an empty one. */
    if (!rc && db && stat(db, &dbst) != 0)
        rc = ec_fail(EC_ENOTFOUND, "--db %s: no such database", db);
    if (!rc && db) rc = ec_twin_db_load(db, 1, &hub, &in);
    if (!rc && sites) rc = ec_sites_load(sites, &in);
    if (!rc) rc = ec_afir_pools(&in, &pools, &n_pools);
    if (!rc) rc = ec_afir_check(g, pools, n_pools, &rule, &res);
    if (rc) {
        code = cli_error(rc);
        goto done;
    }
    if (cli_flag(&a, "json"))
        print_json(g, &res);
    else
        print_table(g, &res);
    code = EXIT_OK;
done:
    ec_afir_result_free(&res);
    ec_free(pools);
    ec_sites_free(&in);
    ec_twin_db_free(&hub);
    ec_graph_free(g);
    return code;
}

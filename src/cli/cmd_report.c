/* cmd_report.c - `ecorridor report`: the region's figures from a hub's
 * database or a simulated day's journal.db, per port, EVSE, site, operator,
 * jurisdiction or corridor segment (docs/kpi.md). */
#include "cli.h"
#include "ecorridor/ec_kpi.h"
#include "ecorridor/ec_store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int run_report(int argc, char **argv);

static const cli_opt report_opts[] = {
    {"db", "FILE", "a hub's database or a simulated day's OUT/journal.db (default ./ecorridor.db)"},
    {"group", "G", "port, evse, site (default), operator, jurisdiction or segment"},
    {"from", "TIME", "the period's start (RFC 3339; default: the journal's first row)"},
    {"to", "TIME", "the period's end, not included (default: just after the journal's last row)"},
    {"format", "FMT", "table (default), csv or json"},
    {"corridor", "DIR", "a corridor directory (graph.graphml, segments.csv): sites are placed on its segments"},
    {"operator", "ORG", "only the ports of this operator's sites"},
    {"jurisdiction", "ID", "only the ports of sites in this jurisdiction"},
    {NULL, NULL, NULL},
};

const cli_cmd cmd_report = {
    "report",
    "report [--db FILE] [--group port|evse|site|operator|jurisdiction|segment] [--from TIME] [--to TIME] "
    "[--format table|csv|json] [--corridor DIR] [--operator ORG] [--jurisdiction ID]",
    "The region's figures from a hub's journal or a simulated day's: sessions, energy, power, NEVI uptime, "
    "utilisation, congestion, waits, revenue, CO2 avoided, per group (report nevi, report afir: see their help).",
    report_opts, run_report, NULL};

int cli_report_period(const cli_cmd *cmd, const cli_args *a, ec_store *s, int64_t *from_s, int64_t *to_s)
{
    int64_t first, last, seq;
    const char *f = cli_get(a, "from"), *t = cli_get(a, "to");
    if (f && ec_time_parse_iso(f, from_s)) return cli_usage_error(cmd, "--from must be a time such as 2026-12-01T00:00:00Z, not \"%s\"", f);
    if (t && ec_time_parse_iso(t, to_s)) return cli_usage_error(cmd, "--to must be a time such as 2027-01-01T00:00:00Z, not \"%s\"", t);
    if (!f || !t) {
        ec_err rc = ec_store_journal_ends(s, &first, &last, &seq);
        if (rc) return cli_error(rc);
        if (!seq && (!f || !t)) {
            fprintf(stderr, "ecorridor: the journal is empty: give --from and --to\n");
            return EXIT_FAIL;
        }
        if (!f) *from_s = first >= 0 ? first / 1000 : -((-first + 999) / 1000);
        if (!t) *to_s = last / 1000 + 1;
    }
    if (*to_s <= *from_s) return cli_usage_error(cmd, "--to must be after --from");
    return -1;
}

static void local(int64_t t_s, char *out, size_t n)
{
    time_t t = (time_t)t_s;
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M %Z", &tm)) ec_time_format_iso(t_s, out, n);
}

static void cell(char *out, size_t n, double v, int decimals)
{
    if (isfinite(v)) snprintf(out, n, "%.*f", decimals, v);
    else snprintf(out, n, "-");
}

static const ec_kpi_row_t *by_name_rows;

static int by_name(const void *a, const void *b)
{
    const ec_kpi_row_t *x = &by_name_rows[*(const size_t *)a], *y = &by_name_rows[*(const size_t *)b];
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->id, y->id);
}

static void print_table(const ec_kpi_row_t *r, size_t n, ec_kpi_group g, int64_t from_s, int64_t to_s)
{
    char f[48], t[48];
    if (n && r[0].to_ms / 1000 < to_s) to_s = r[0].to_ms / 1000; /* the period ends where the journal's knowledge does */
    local(from_s, f, sizeof f), local(to_s, t, sizeof t);
    printf("figures by %s, %s to %s\n\n", ec_kpi_group_name(g), f, t);
    printf("%-32s %5s %8s %10s %7s %7s %8s %7s %7s %6s %6s %6s %7s %7s %12s %8s\n", ec_kpi_group_name(g), "ports",
           "sessions", "energy", "avg", "peak", "uptime", "out", "excl", "util", "occ", "cong", "wait", "p95", "revenue",
           "CO2");
    printf("%-32s %5s %8s %10s %7s %7s %8s %7s %7s %6s %6s %6s %7s %7s %12s %8s\n", "", "", "", "kWh", "kW", "kW", "%",
           "min", "min", "%", "%", "%", "min", "min", "", "kg");
    /* By name, as people look for them (the machine formats keep the id order). */
    size_t *order = n ? ec_malloc(n * sizeof *order) : NULL;
    for (size_t i = 0; order && i < n; i++) order[i] = i;
    by_name_rows = r;
    if (order) qsort(order, n, sizeof *order, by_name);
    for (size_t k = 0; k < n; k++) {
        size_t i = order ? order[k] : k;
        char c[13][24];
        cell(c[0], 24, r[i].energy_kwh, 1), cell(c[1], 24, r[i].avg_power_kw, 1), cell(c[2], 24, r[i].peak_power_kw, 1);
        cell(c[3], 24, r[i].uptime_pct, 2), cell(c[4], 24, r[i].outage_min, 1), cell(c[12], 24, r[i].excluded_min, 1);
        cell(c[5], 24, r[i].utilisation_pct, 1), cell(c[6], 24, r[i].occupancy_pct, 1);
        cell(c[7], 24, r[i].congestion_pct, 1), cell(c[8], 24, r[i].wait_mean_min, 1), cell(c[9], 24, r[i].wait_p95_min, 1);
        cell(c[10], 24, r[i].revenue, 2), cell(c[11], 24, r[i].co2_avoided_kg, 0);
        if (isfinite(r[i].revenue) && r[i].currency[0]) {
            size_t l = strlen(c[10]);
            snprintf(c[10] + l, 24 - l, " %s", r[i].currency);
        }
        const char *name = r[i].name[0] ? r[i].name : r[i].id[0] ? r[i].id : "(none)";
        printf("%-32.32s %5lld %8lld %10s %7s %7s %8s %7s %7s %6s %6s %6s %7s %7s %12s %8s\n", name, (long long)r[i].ports,
               (long long)r[i].sessions, c[0], c[1], c[2], c[3], c[4], c[12], c[5], c[6], c[7], c[8], c[9], c[10], c[11]);
    }
    ec_free(order);
    if (!n) printf("(no ports in the period)\n");
    printf("\nout: outage; excl: the part of it excluded (NEVI: uptime counts out less excl); util: charging / open "
           "time;\nocc: plugged in / open time; cong: every point busy; - : the journal cannot say\n");
}

static int run_report(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_report, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    ec_kpi_group g = EC_KPI_SITE;
    const char *gs = cli_get(&a, "group"), *fmt = cli_get(&a, "format") ? cli_get(&a, "format") : "table";
    if (gs && ec_kpi_group_parse(gs, &g))
        return cli_usage_error(&cmd_report, "--group must be port, evse, site, operator, jurisdiction or segment, not \"%s\"", gs);
    if (strcmp(fmt, "table") && strcmp(fmt, "csv") && strcmp(fmt, "json"))
        return cli_usage_error(&cmd_report, "--format must be table, csv or json, not \"%s\"", fmt);
    if (g == EC_KPI_SEGMENT && !cli_get(&a, "corridor"))
        return cli_usage_error(&cmd_report, "--group segment needs --corridor DIR (the segments to place sites on)");
    const char *path = cli_get(&a, "db") ? cli_get(&a, "db") : "ecorridor.db";
    if (access(path, F_OK)) return cli_error(ec_fail(EC_ENOTFOUND, "%s: no such database", path));
    ec_store *s = NULL;
    ec_err rc = ec_store_open(path, &s);
    if (rc) return cli_error(rc);
    ec_kpi_db_opts_t o;
    memset(&o, 0, sizeof o);
    if ((st = cli_report_period(&cmd_report, &a, s, &o.from_s, &o.to_s)) >= 0) {
        ec_store_close(s);
        return st;
    }
    o.corridor = cli_get(&a, "corridor");
    o.only_operator = cli_get(&a, "operator"), o.only_jurisdiction = cli_get(&a, "jurisdiction");
    ec_progress p;
    int64_t first, last, seq = 0;
    ec_store_journal_ends(s, &first, &last, &seq);
    /* Nothing is known past now, nor past the end of a simulated day set in the future. */
    o.until_ms = ec_time_now_s() * 1000 + 1000;
    if (seq && last + 1 > o.until_ms) o.until_ms = last + 1;
    ec_progress_start(&p, "report", (uint64_t)(seq > 0 ? seq : 1));
    o.progress = &p;
    ec_kpi *k = NULL;
    rc = ec_kpi_from_store(s, &o, &k);
    ec_progress_finish(&p);
    const ec_kpi_row_t *rows = NULL;
    size_t n = 0;
    if (!rc) rc = ec_kpi_rows(k, g, &rows, &n);
    if (!rc) {
        ec_buf b;
        ec_buf_init(&b, 1u << 30);
        if (!n && (o.only_operator || o.only_jurisdiction))
            fprintf(stderr, "ecorridor report: no ports of %s %s in the period; `--group %s` without it lists the ids\n",
                    o.only_operator ? "operator" : "jurisdiction", o.only_operator ? o.only_operator : o.only_jurisdiction,
                    o.only_operator ? "operator" : "jurisdiction");
        if (!strcmp(fmt, "table")) print_table(rows, n, g, o.from_s, o.to_s);
        else {
            rc = !strcmp(fmt, "csv") ? ec_kpi_csv(rows, n, &b) : ec_kpi_json(rows, n, 0, &b);
            if (!rc) printf("%s%s", b.data ? b.data : "", strcmp(fmt, "json") ? "" : "\n");
        }
        ec_buf_free(&b);
    }
    ec_kpi_free(k);
    ec_store_close(s);
    if (rc) return cli_error(rc);
    return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}

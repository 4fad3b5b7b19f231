/* cmd_report_nevi.c - `ecorridor report nevi`: a quarter's charging data as
 * 23 CFR 680.112(b) lists it, one CSV: a row per session, then a row per
 * port and month with its uptime (docs/kpi.md, "NEVI quarterly data"). */
#include "cli.h"
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_kpi.h"
#include "ecorridor/ec_store.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

static int run_nevi(int argc, char **argv);

static const cli_opt nevi_opts[] = {
    {"db", "FILE", "a hub's database (default ./ecorridor.db)"},
    {"quarter", "YYYYQN", "the quarter, e.g. 2026Q4 (UTC months)"},
    {"operator", "ORG", "only the ports of this operator's sites"},
    {"out", "FILE", "write to FILE (default: standard output)"},
    {NULL, NULL, NULL},
};

const cli_cmd cmd_report_nevi = {
    "report nevi", "report nevi [--db FILE] --quarter YYYYQN [--operator ORG] [--out FILE]",
    "A quarter's charging data as NEVI (23 CFR 680.112) asks for it: each session, and each port's uptime per month.",
    nevi_opts, run_nevi, NULL};

static int64_t month_start(int y, int m)
{
    while (m > 12) m -= 12, y++;
    return ec_days_from_civil(y, m, 1) * 86400;
}

static void iso(int64_t t_ms, char *out, size_t n)
{
    if (t_ms) ec_time_format_iso(t_ms / 1000, out, n);
    else out[0] = 0;
}

static void num(ec_buf *b, double v, int d)
{
    if (isfinite(v)) ec_buf_printf(b, "%.*f", d, v);
}

static ec_err read_period(ec_store *s, const char *op, int64_t from_s, int64_t to_s, ec_kpi **k)
{
    ec_kpi_db_opts_t o;
    memset(&o, 0, sizeof o);
    int64_t first, last, seq;
    o.from_s = from_s, o.to_s = to_s, o.only_operator = op;
    /* Nothing is known past now, nor past the end of a simulated day set in the future. */
    o.until_ms = ec_time_now_s() * 1000 + 1000;
    if (!ec_store_journal_ends(s, &first, &last, &seq) && seq && last + 1 > o.until_ms) o.until_ms = last + 1;
    return ec_kpi_from_store(s, &o, k);
}

static int run_nevi(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_report_nevi, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    const char *q = cli_get(&a, "quarter"), *op = cli_get(&a, "operator");
    int y = 0, n = 0;
    char tail = 0;
    if (!q) return cli_usage_error(&cmd_report_nevi, "--quarter is required: a year and quarter such as 2026Q4");
    char qq[16];
    snprintf(qq, sizeof qq, "%s", q);
    if (strlen(qq) == 6 && qq[4] == 'q') qq[4] = 'Q';
    if (sscanf(qq, "%4dQ%1d%c", &y, &n, &tail) != 2 || y < 1970 || y > 9998 || n < 1 || n > 4)
        return cli_usage_error(&cmd_report_nevi, "--quarter must be a year and quarter such as 2026Q4, not \"%s\"", q);
    const char *path = cli_get(&a, "db") ? cli_get(&a, "db") : "ecorridor.db";
    if (access(path, F_OK)) return cli_error(ec_fail(EC_ENOTFOUND, "%s: no such database", path));
    ec_store *s = NULL;
    ec_err rc = ec_store_open(path, &s);
    if (rc) return cli_error(rc);
    int m0 = (n - 1) * 3 + 1;
    int64_t from = month_start(y, m0), to = month_start(y, m0 + 3);
    ec_buf b;
    ec_buf_init(&b, 1u << 30);
    ec_buf_puts(&b, "record,station_id,port_id,site_id,session_id,session_start,session_end,error_code,energy_kwh,"
                    "peak_kw,payment_method,month,uptime_pct,outage_min,excluded_min\r\n");
    ec_kpi *k = NULL;
    const ec_kpi_session_t *ss;
    size_t ns = 0;
    rc = read_period(s, op, from, to, &k);
    if (!rc) rc = ec_kpi_sessions(k, &ss, &ns);
    for (size_t i = 0; !rc && i < ns; i++) {
        char t0[32], t1[32];
        iso(ss[i].start_ms, t0, sizeof t0), iso(ss[i].end_ms, t1, sizeof t1);
        ec_buf_puts(&b, "session,");
        ec_csv_field(&b, ss[i].cp);
        ec_buf_printf(&b, ",%s/%d,", ss[i].cp, ss[i].connector);
        ec_csv_field(&b, ss[i].site);
        ec_buf_printf(&b, ",%lld,%s,%s,", (long long)ss[i].tx, t0, t1);
        ec_csv_field(&b, ss[i].error_code);
        ec_buf_puts(&b, ",");
        num(&b, ss[i].energy_kwh, 3);
        ec_buf_puts(&b, ",");
        num(&b, ss[i].peak_power_kw, 1);
        /* Every session the hub starts is authorised by a token (an RFID card or a fleet's credential). */
        ec_buf_puts(&b, ",token,,,,\r\n");
    }
    ec_kpi_free(k);
    k = NULL;
    for (int m = 0; !rc && m < 3; m++) {
        int64_t f = month_start(y, m0 + m), t = month_start(y, m0 + m + 1);
        const ec_kpi_row_t *r;
        size_t nr = 0;
        rc = read_period(s, op, f, t, &k);
        if (!rc) rc = ec_kpi_rows(k, EC_KPI_PORT, &r, &nr);
        char month[16];
        snprintf(month, sizeof month, "%04d-%02d", y + (m0 + m - 1) / 12, (m0 + m - 1) % 12 + 1);
        for (size_t i = 0; !rc && i < nr; i++) {
            char cp[sizeof r[i].id];
            snprintf(cp, sizeof cp, "%s", r[i].id);
            char *slash = strrchr(cp, '/');
            if (slash) *slash = 0;
            ec_buf_puts(&b, "uptime,");
            ec_csv_field(&b, cp);
            ec_buf_puts(&b, ",");
            ec_csv_field(&b, r[i].id);
            ec_buf_printf(&b, ",,,,,,,,,%s,", month);
            num(&b, r[i].uptime_pct, 2);
            ec_buf_puts(&b, ",");
            num(&b, r[i].outage_min, 1);
            ec_buf_puts(&b, ",");
            num(&b, r[i].excluded_min, 1);
            ec_buf_puts(&b, "\r\n");
        }
        ec_kpi_free(k);
        k = NULL;
    }
    ec_store_close(s);
    if (!rc) rc = ec_buf_error(&b);
    if (!rc) {
        const char *out = cli_get(&a, "out");
        FILE *f = out ? fopen(out, "wb") : stdout;
        if (!f) rc = ec_fail(EC_EIO, "%s: cannot be written", out);
        else {
            if (fwrite(b.data, 1, b.len, f) != b.len) rc = ec_fail(EC_EIO, "%s: could not be written whole", out ? out : "stdout");
            if (out && fclose(f)) rc = ec_fail(EC_EIO, "%s: could not be written whole", out);
        }
    }
    ec_buf_free(&b);
    if (rc) return cli_error(rc);
    return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}

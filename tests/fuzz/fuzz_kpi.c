/* fuzz_kpi.c - the KPI reader of the journal (ec_kpi_feed) fed rows of any
 * content in any order, then closed for every group and for its sessions,
 * the rows written as JSON and CSV: nothing a journal holds may crash it,
 * leak or read out of bounds, and what it answers keeps its own rules (rows
 * sorted by id, uptime between 0 and 100 %).
 *
 * Input: byte 0 sets the period's length (and bit 7 scopes it to one
 * operator's sites; bit 3 asks for steps too, 10 to 40 minutes by bits 4-5,
 * and bit 2 then scopes it to site S1: the steps must add up to the
 * period), then rows, each [kind][dt][len lo][len hi][data]: kind
 * picks from the journal's kinds, dt moves the clock (it may go back), len
 * is the row's JSON length, cut to what is left. */
#include "ecorridor/ec_kpi.h"

#include <math.h>
#include <string.h>

static const char *const kinds[] = {"reset",  "site",    "cp_up",  "cp_down",   "status", "tx_start",
                                    "tx_meter", "tx_stop", "arrive", "leave",   "tick",   "plan",
                                    "result", "substation", "limit", "price",   "bogus"};
#define N_KINDS (sizeof kinds / sizeof kinds[0])
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

static void check_rows(const ec_kpi_row_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(r[i - 1].id, r[i].id) >= 0) __builtin_trap();
        if (!isnan(r[i].uptime_pct) && (r[i].uptime_pct < -1e-9 || r[i].uptime_pct > 100 + 1e-9)) __builtin_trap();
        if (r[i].sessions < 0 || r[i].ports < 0) __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    ec_log_set_level(EC_LOG_OFF);
    /* The register's sites, two sessions' bills (two currencies) and recorded outages of
     * every kind: the journal's ids "S1", "S2", "CP1", "CP2" meet them. */
    static const ec_kpi_site_t sites[] = {
        {"S1", "Site one", "op1", "j1", "A-B"},
        {"S2", "Site two", "op2", "j1", ""},
        {"S3", "", "", "", ""},
    };
    static const ec_kpi_tx_t txs[] = {
        {1, "fleet1", "RFID", 12.5, "EUR"},
        {2, "fleet2", "app", NAN, ""},
        {3, "fleet3", "RFID", 3.25, "USD"},
    };
    static const ec_kpi_excluded_t excluded[] = {
        {"S1", "", 0, T0 + 300000, T0 + 3900000, "utility_outage"},
        {"S1", "CP1", 1, T0 - 600000, T0 + 1200000, "operator_request"},
        {"S2", "CP2", 0, T0 + 60000, 0, "vandalism"},
        {"S1", "CP1", 2, T0 + 1800000, T0 + 1700000, "natural_disaster"}, /* ends before it starts */
    };
    ec_kpi_config_t c;
    memset(&c, 0, sizeof c);
    c.from_ms = T0;
    c.to_ms = T0 + (int64_t)((data[0] & 0x7f) + 1) * 600000;
    c.grace_ms = EC_KPI_GRACE_MS;
    c.co2_kg_per_kwh = EC_KPI_CO2_KG_PER_KWH;
    c.sites = sites, c.n_sites = sizeof sites / sizeof sites[0];
    c.txs = txs, c.n_txs = sizeof txs / sizeof txs[0];
    c.excluded = excluded, c.n_excluded = sizeof excluded / sizeof excluded[0];
    if (data[0] & 0x80) c.only_operator = "op1";
    if (data[0] & 0x08) c.step_ms = (int64_t)(1 + (data[0] >> 4 & 3)) * 600000;
    if ((data[0] & 0x0c) == 0x0c) c.only_site = "S1";
    ec_kpi *k;
    if (ec_kpi_new(&c, &k)) return 0;
    int64_t t = T0 - 1800000;
    size_t pos = 1;
    while (pos + 4 <= size) {
        const char *kind = kinds[data[pos] % N_KINDS];
        t += ((int64_t)data[pos + 1] - 16) * 15000;
        size_t len = (size_t)data[pos + 2] | (size_t)data[pos + 3] << 8;
        pos += 4;
        if (len > size - pos) len = size - pos;
        int command = !strcmp(kind, "limit") || !strcmp(kind, "price");
        if (ec_kpi_feed(k, t, command, kind, (const char *)data + pos, len) == EC_EINVAL && !ec_kpi_error(k)[0])
            __builtin_trap(); /* a refused row says why */
        pos += len;
    }
    if (c.step_ms) {
        /* The steps cover the period and add up to it (ports, sessions, energy, minutes). */
        const ec_kpi_row_t *st, *rows;
        size_t ns, nr;
        if (ec_kpi_steps(k, &st, &ns)) __builtin_trap();
        if (ns != (size_t)((c.to_ms - c.from_ms - 1) / c.step_ms + 1)) __builtin_trap();
        double sum[4] = {0}, want[4] = {0};
        int64_t sessions = 0, want_sessions = 0;
        for (size_t i = 0; i < ns; i++) {
            if (st[i].from_ms != c.from_ms + (int64_t)i * c.step_ms || st[i].to_ms <= st[i].from_ms) __builtin_trap();
            sum[0] += st[i].energy_kwh, sum[1] += st[i].open_min, sum[2] += st[i].charging_min;
            sum[3] += st[i].plugged_min, sessions += st[i].sessions;
        }
        if (ns && st[ns - 1].to_ms != c.to_ms) __builtin_trap();
        if (ec_kpi_rows(k, EC_KPI_SITE, &rows, &nr)) __builtin_trap();
        for (size_t i = 0; i < nr; i++) {
            want[0] += rows[i].energy_kwh, want[1] += rows[i].open_min, want[2] += rows[i].charging_min;
            want[3] += rows[i].plugged_min, want_sessions += rows[i].sessions;
        }
        for (int i = 0; i < 4; i++)
            if (fabs(sum[i] - want[i]) > 1e-6 * (1 + fabs(want[i]))) __builtin_trap();
        if (sessions != want_sessions) __builtin_trap();
    }
    ec_buf b;
    ec_buf_init(&b, 16u << 20);
    for (int g = 0; g < EC_KPI_GROUP_COUNT; g++) {
        const ec_kpi_row_t *rows;
        size_t n;
        if (ec_kpi_rows(k, (ec_kpi_group)g, &rows, &n)) continue;
        check_rows(rows, n);
        ec_buf_reset(&b);
        ec_kpi_json(rows, n, 0, &b);
        ec_buf_reset(&b);
        ec_kpi_csv(rows, n, &b);
    }
    const ec_kpi_session_t *s;
    size_t n;
    if (!ec_kpi_sessions(k, &s, &n))
        for (size_t i = 0; i < n; i++)
            if (s[i].start_ms < c.from_ms || s[i].start_ms >= c.to_ms) __builtin_trap();
    if (ec_kpi_rows_read(k) < 0) __builtin_trap();
    ec_buf_free(&b);
    ec_kpi_free(k);
    return 0;
}

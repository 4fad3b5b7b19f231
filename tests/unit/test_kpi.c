/* test_kpi.c - the KPI reader on journals small enough to work out by hand:
 * out time with the grace, excluded time and the operator's request,
 * session power, congestion, waits, the public thresholds, and the meter
 * fast path against the journal's own reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_kpi.h"
#include "ecorridor/ec_share.h"
#include "kpi/kpi_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1764547200000LL /* 2025-12-01T00:00:00Z */
#define MIN 60000LL

static ec_kpi *make(int64_t from, int64_t to, const ec_kpi_excluded_t *x, size_t nx, const ec_kpi_tx_t *tx, size_t ntx)
{
    ec_kpi_config_t c;
    memset(&c, 0, sizeof c);
    c.from_ms = from, c.to_ms = to, c.grace_ms = EC_KPI_GRACE_MS, c.co2_kg_per_kwh = EC_KPI_CO2_KG_PER_KWH;
    c.excluded = x, c.n_excluded = nx, c.txs = tx, c.n_txs = ntx;
    ec_kpi *k = NULL;
    assert_int_equal(ec_kpi_new(&c, &k), EC_OK);
    return k;
}

static void feed(ec_kpi *k, int64_t t, const char *kind, const char *data)
{
    if (ec_kpi_feed(k, t, 0, kind, data, strlen(data)) != EC_OK) fail_msg("%s %s: %s", kind, data, ec_kpi_error(k));
}

static const ec_kpi_row_t *one(ec_kpi *k, ec_kpi_group g, const char *id)
{
    const ec_kpi_row_t *r;
    size_t n;
    assert_int_equal(ec_kpi_rows(k, g, &r, &n), EC_OK);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(r[i].id, id)) return &r[i];
    fail_msg("no row %s", id);
    return NULL;
}

/* A 30-day month; Faulted 60 min, down 20 min (10 past the grace), down 5 min (within it),
 * Unavailable 30 min of which 20 are the operator's request; 45 min excluded. */
static void test_uptime(void **state)
{
    (void)state;
    int64_t to = T0 + 30 * 1440 * MIN;
    ec_kpi_excluded_t x[2];
    memset(x, 0, sizeof x);
    snprintf(x[0].site, sizeof x[0].site, "S"), snprintf(x[0].cp, sizeof x[0].cp, "CP-1"), x[0].connector = 1;
    x[0].from_ms = T0 + 1000 * MIN, x[0].to_ms = T0 + 1045 * MIN;
    snprintf(x[0].reason, sizeof x[0].reason, "utility_outage");
    snprintf(x[1].site, sizeof x[1].site, "S"), x[1].from_ms = T0 + 3000 * MIN, x[1].to_ms = T0 + 3020 * MIN;
    snprintf(x[1].reason, sizeof x[1].reason, "operator_request");
    ec_kpi *k = make(T0, to, x, 2, NULL, 0);
    feed(k, T0, "cp_up", "{\"cp\":\"CP-1\",\"site\":\"S\",\"serial\":1,\"evse_uids\":[\"\",\"E1\"]}");
    feed(k, T0 + 1000 * MIN, "status", "{\"cp\":\"CP-1\",\"connector\":1,\"status\":\"Faulted\",\"error_code\":\"GroundFailure\"}");
    feed(k, T0 + 1060 * MIN, "status", "{\"cp\":\"CP-1\",\"connector\":1,\"status\":\"Available\",\"error_code\":\"NoError\"}");
    feed(k, T0 + 2000 * MIN, "cp_down", "{\"cp\":\"CP-1\"}");
    feed(k, T0 + 2020 * MIN, "cp_up", "{\"cp\":\"CP-1\",\"site\":\"S\",\"serial\":2,\"evse_uids\":[\"\",\"E1\"]}");
    feed(k, T0 + 2500 * MIN, "cp_down", "{\"cp\":\"CP-1\"}");
    feed(k, T0 + 2505 * MIN, "cp_up", "{\"cp\":\"CP-1\",\"site\":\"S\",\"serial\":3,\"evse_uids\":[\"\",\"E1\"]}");
    feed(k, T0 + 3000 * MIN, "status", "{\"cp\":\"CP-1\",\"connector\":0,\"status\":\"Unavailable\",\"error_code\":\"NoError\"}");
    feed(k, T0 + 3030 * MIN, "status", "{\"cp\":\"CP-1\",\"connector\":0,\"status\":\"Available\",\"error_code\":\"NoError\"}");
    const ec_kpi_row_t *r = one(k, EC_KPI_PORT, "CP-1/1");
    /* out: 60 + 10 + 0 + 10 (Unavailable less the 20 requested) = 80; excluded 45. */
    assert_true(fabs(r->outage_min - 80) < 1e-9);
    assert_true(fabs(r->excluded_min - 45) < 1e-9);
    double t = 30 * 1440;
    assert_true(fabs(r->uptime_pct - (t - (80 - 45)) / t * 100) < 1e-9);
    assert_true(fabs(r->open_min - (t - 80)) < 1e-9);
    assert_int_equal(r->sessions, 0);
    assert_true(isnan(r->avg_power_kw) && isnan(r->peak_power_kw) && isnan(r->revenue) && isnan(r->wait_mean_min));
    /* The same port by EVSE and site. */
    assert_true(fabs(one(k, EC_KPI_EVSE, "S/E1")->uptime_pct - r->uptime_pct) < 1e-12);
    assert_true(fabs(one(k, EC_KPI_SITE, "S")->outage_min - 80) < 1e-9);
    ec_kpi_free(k);
}

/* The hub stops at 100 min (its chargers journaled away), starts at 200: that stretch is no
 * outage of theirs, but a port Faulted through it stays out; the grace runs from the restart. */
static void test_hub_away(void **state)
{
    (void)state;
    ec_kpi *k = make(T0, T0 + 1440 * MIN, NULL, 0, NULL, 0);
    feed(k, T0, "cp_up", "{\"cp\":\"A\",\"site\":\"S\",\"serial\":1,\"evse_uids\":[\"\",\"E1\",\"E2\"]}");
    feed(k, T0 + 50 * MIN, "status", "{\"cp\":\"A\",\"connector\":2,\"status\":\"Faulted\",\"error_code\":\"OtherError\"}");
    feed(k, T0 + 100 * MIN, "cp_down", "{\"cp\":\"A\"}");
    feed(k, T0 + 200 * MIN, "reset", "{}");
    feed(k, T0 + 203 * MIN, "cp_up", "{\"cp\":\"A\",\"site\":\"S\",\"serial\":2,\"evse_uids\":[\"\",\"E1\",\"E2\"]}");
    feed(k, T0 + 300 * MIN, "status", "{\"cp\":\"A\",\"connector\":2,\"status\":\"Available\",\"error_code\":\"NoError\"}");
    feed(k, T0 + 400 * MIN, "reset", "{}"); /* a crash: no cp_down; back 30 min later, past the grace */
    feed(k, T0 + 430 * MIN, "cp_up", "{\"cp\":\"A\",\"site\":\"S\",\"serial\":3,\"evse_uids\":[\"\",\"E1\",\"E2\"]}");
    assert_true(fabs(one(k, EC_KPI_PORT, "A/1")->outage_min - 20) < 1e-9); /* 410 to 430 */
    assert_true(fabs(one(k, EC_KPI_PORT, "A/2")->outage_min - (250 + 20)) < 1e-9); /* Faulted 50 to 300, then 410 to 430 */
    ec_kpi_free(k);
}

/* A session: 0 → 10 kWh in 10 min, 10 min at 0 (held), 10 → 30 kWh in 20 min; plugged 45 min. */
static void test_session(void **state)
{
    (void)state;
    ec_kpi_tx_t b = {7, "fleet-a", "token", 12.5, "EUR"};
    ec_kpi *k = make(T0, T0 + 1440 * MIN, NULL, 0, &b, 1);
    feed(k, T0, "cp_up", "{\"cp\":\"A\",\"site\":\"S\",\"serial\":1,\"evse_uids\":[\"\",\"EA\"]}");
    feed(k, T0, "site", "{\"id\":\"S\",\"substation_id\":\"\",\"managed\":0,\"algo\":\"\",\"limit_w\":0,\"interval_s\":0,"
                        "\"dwell_min\":0,\"default_wh\":0,\"evses\":[[\"EA\",400000]]}");
    feed(k, T0 + 60 * MIN, "tx_start", "{\"tx\":7,\"cp\":\"A\",\"connector\":1,\"site\":\"S\",\"start_s\":0,\"evse_uid\":\"EA\","
                                       "\"delivered_wh\":0,\"requested_wh\":-1,\"departure_s\":0}");
    feed(k, T0 + 70 * MIN, "tx_meter", "{\"tx\":7,\"delivered_wh\":10000}");
    feed(k, T0 + 80 * MIN, "tx_meter", "{\"tx\":7,\"delivered_wh\":10000}");
    feed(k, T0 + 100 * MIN, "tx_meter", "{\"tx\":7, \"delivered_wh\": 30000}"); /* not the hub's spacing: read in full */
    feed(k, T0 + 105 * MIN, "tx_stop", "{\"tx\":7}");
    const ec_kpi_row_t *r = one(k, EC_KPI_SITE, "S");
    assert_int_equal(r->sessions, 1);
    assert_true(fabs(r->energy_kwh - 30) < 1e-9);
    assert_true(fabs(r->charging_min - 30) < 1e-9);
    assert_true(fabs(r->plugged_min - 45) < 1e-9);
    assert_true(fabs(r->idle_min - 15) < 1e-9);
    assert_true(fabs(r->avg_power_kw - 60) < 1e-9);  /* 30 kWh in 0.5 h */
    assert_true(fabs(r->peak_power_kw - 60) < 1e-9); /* 10 kWh in 10 min = 20 kWh in 20 min = 60 kW */
    assert_true(fabs(r->utilisation_pct - 30.0 / 1440 * 100) < 1e-9);
    assert_true(fabs(r->capacity_factor - 30 / (400 * 24.0)) < 1e-12);
    assert_true(fabs(r->revenue - 12.5) < 1e-12 && !strcmp(r->currency, "EUR"));
    assert_true(fabs(r->co2_avoided_kg - 30 * EC_KPI_CO2_KG_PER_KWH) < 1e-9);
    const ec_kpi_session_t *s;
    size_t n;
    assert_int_equal(ec_kpi_sessions(k, &s, &n), EC_OK);
    assert_int_equal(n, 1);
    assert_true(s[0].tx == 7 && s[0].end_ms == T0 + 105 * MIN && fabs(s[0].energy_kwh - 30) < 1e-9);
    ec_kpi_free(k);
}

/* Two points busy [10, 40) and [20, 60) min of a day: both busy 20 min. A third
 * truck waits 20 min for a point; a fourth leaves without charging. */
static void test_congestion_waits(void **state)
{
    (void)state;
    ec_kpi *k = make(T0, T0 + 1440 * MIN, NULL, 0, NULL, 0);
    feed(k, T0, "cp_up", "{\"cp\":\"P1\",\"site\":\"S\",\"serial\":1,\"evse_uids\":[\"\",\"E1\"]}");
    feed(k, T0, "cp_up", "{\"cp\":\"P2\",\"site\":\"S\",\"serial\":2,\"evse_uids\":[\"\",\"E2\"]}");
    feed(k, T0 + 10 * MIN, "tx_start", "{\"tx\":1,\"cp\":\"P1\",\"connector\":1,\"site\":\"S\",\"start_s\":0,\"evse_uid\":\"E1\","
                                       "\"delivered_wh\":0,\"requested_wh\":-1,\"departure_s\":0}");
    feed(k, T0 + 20 * MIN, "tx_start", "{\"tx\":2,\"cp\":\"P2\",\"connector\":1,\"site\":\"S\",\"start_s\":0,\"evse_uid\":\"E2\","
                                       "\"delivered_wh\":0,\"requested_wh\":-1,\"departure_s\":0}");
    feed(k, T0 + 25 * MIN, "arrive", "{\"site\":\"S\",\"vehicle\":\"T3\",\"plug\":\"CCS\",\"reserved\":0}");
    feed(k, T0 + 26 * MIN, "arrive", "{\"site\":\"S\",\"vehicle\":\"T4\",\"plug\":\"CCS\",\"reserved\":0}");
    feed(k, T0 + 30 * MIN, "leave", "{\"site\":\"S\",\"vehicle\":\"T4\",\"served\":0}");
    feed(k, T0 + 40 * MIN, "tx_stop", "{\"tx\":1}");
    feed(k, T0 + 45 * MIN, "leave", "{\"site\":\"S\",\"vehicle\":\"T3\",\"served\":1}");
    feed(k, T0 + 60 * MIN, "tx_stop", "{\"tx\":2}");
    const ec_kpi_row_t *r = one(k, EC_KPI_SITE, "S");
    assert_true(fabs(r->congestion_pct - 20.0 / 1440 * 100) < 1e-9);
    assert_true(fabs(r->occupancy_pct - 70.0 / 2880 * 100) < 1e-9);
    assert_true(fabs(r->wait_mean_min - 20) < 1e-9 && fabs(r->wait_p95_min - 20) < 1e-9);
    assert_true(isnan(one(k, EC_KPI_PORT, "P1/1")->congestion_pct));
    ec_kpi_free(k);
}

/* Public rows: a group under 5 sessions or 3 fleets is withheld. */
static void test_thresholds(void **state)
{
    (void)state;
    static const char *const fleets[] = {"f1", "f2", "f3"};
    ec_kpi_tx_t b[20];
    memset(b, 0, sizeof b);
    for (int i = 0; i < 20; i++) {
        b[i].tx = i + 1, b[i].revenue = NAN;
        snprintf(b[i].fleet, sizeof b[i].fleet, "%s", fleets[i % 3]);
    }
    b[15].tx = 16, snprintf(b[15].fleet, sizeof b[15].fleet, "f1"); /* site C: one fleet only */
    ec_kpi_site_t sites[3];
    memset(sites, 0, sizeof sites);
    for (int i = 0; i < 3; i++) {
        snprintf(sites[i].id, sizeof sites[i].id, "%c", 'A' + i);
        snprintf(sites[i].jurisdiction_id, sizeof sites[i].jurisdiction_id, "j%c", 'a' + i);
    }
    ec_kpi_config_t c;
    memset(&c, 0, sizeof c);
    c.from_ms = T0, c.to_ms = T0 + 1440 * MIN, c.grace_ms = EC_KPI_GRACE_MS, c.co2_kg_per_kwh = 0;
    c.sites = sites, c.n_sites = 3, c.txs = b, c.n_txs = 20;
    ec_kpi *k = NULL;
    assert_int_equal(ec_kpi_new(&c, &k), EC_OK);
    /* A: 9 sessions, 3 fleets; B: 6 sessions (tx 10..15), 3 fleets; C: 1 session (tx 16). */
    const char *cps[3] = {"{\"cp\":\"CA\",\"site\":\"A\",\"serial\":1,\"evse_uids\":[]}",
                          "{\"cp\":\"CB\",\"site\":\"B\",\"serial\":1,\"evse_uids\":[]}",
                          "{\"cp\":\"CC\",\"site\":\"C\",\"serial\":1,\"evse_uids\":[]}"};
    for (int i = 0; i < 3; i++) feed(k, T0, "cp_up", cps[i]);
    for (int tx = 1; tx <= 16; tx++) {
        char d[256];
        char cp = tx <= 9 ? 'A' : tx <= 15 ? 'B' : 'C';
        snprintf(d, sizeof d, "{\"tx\":%d,\"cp\":\"C%c\",\"connector\":1,\"site\":\"%c\",\"start_s\":0,\"evse_uid\":\"\","
                 "\"delivered_wh\":0,\"requested_wh\":-1,\"departure_s\":0}", tx, cp, cp);
        feed(k, T0 + tx * MIN, "tx_start", d);
        snprintf(d, sizeof d, "{\"tx\":%d}", tx);
        feed(k, T0 + tx * MIN + 30000, "tx_stop", d);
    }
    const ec_kpi_row_t *r;
    size_t n;
    int64_t sup;
    assert_int_equal(ec_kpi_rows_public(k, EC_KPI_JURISDICTION, 5, 3, &r, &n, &sup), EC_OK);
    assert_int_equal(n, 2); /* ja, jb; jc is under both */
    assert_int_equal(sup, 1);
    assert_string_equal(r[0].id, "ja");
    assert_string_equal(r[1].id, "jb");
    assert_int_equal(ec_kpi_rows(k, EC_KPI_JURISDICTION, &r, &n), EC_OK);
    assert_int_equal(n, 3);
    assert_int_equal(r[2].sessions, 1);
    assert_int_equal(r[2].fleets, 1);
    ec_kpi_free(k);
}

/* The meter fast path reads what the journal's reader reads, and leaves to it what it does not. */
static void test_meter_fast_path(void **state)
{
    (void)state;
    ec_site_power_t sp;
    ec_substation_power_t sub;
    memset(&sp, 0, sizeof sp), memset(&sub, 0, sizeof sub);
    const char *rows[] = {"{\"tx\":1,\"delivered_wh\":0}", "{\"tx\":17,\"delivered_wh\":5300}",
                          "{\"tx\":9007199254740,\"delivered_wh\":1.5e3}", "{\"tx\":2,\"delivered_wh\":-0.25}",
                          "{\"tx\":3,\"delivered_wh\":12345.678901234567}"};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        ec_share_event_t ev;
        assert_int_equal(ec_share_event_parse("tx_meter", 0, rows[i], strlen(rows[i]), &ev, &sp, &sub), EC_OK);
        ec_kpi *k = make(0, 1, NULL, 0, NULL, 0);
        /* Both readers must agree: fed through the KPI reader, a session's energy is the reading. */
        char start[160];
        snprintf(start, sizeof start, "{\"tx\":%lld,\"cp\":\"X\",\"connector\":1,\"site\":\"S\",\"start_s\":0,\"evse_uid\":\"\","
                 "\"delivered_wh\":0,\"requested_wh\":-1,\"departure_s\":0}", (long long)ev.tx);
        feed(k, 0, "tx_start", start);
        feed(k, 0, "tx_meter", rows[i]);
        const ec_kpi_session_t *s;
        size_t n;
        assert_int_equal(ec_kpi_sessions(k, &s, &n), EC_OK);
        assert_int_equal(n, 1);
        double want = ev.delivered_wh > 0 ? ev.delivered_wh / 1000.0 : 0;
        if (fabs(s[0].energy_kwh - want) > 1e-12) fail_msg("%s: %g kWh, the journal's reader %g", rows[i], s[0].energy_kwh, want);
        ec_kpi_free(k);
    }
    ec_site_power_free(&sp);
    ec_substation_power_free(&sub);
    /* What is not a meter row is refused, not misread. */
    ec_kpi *k = make(0, 1, NULL, 0, NULL, 0);
    assert_int_equal(ec_kpi_feed(k, 0, 0, "tx_meter", "{\"tx\":\"a\"}", 10), EC_EINVAL);
    assert_int_equal(ec_kpi_feed(k, 0, 0, "tx_meter", "{\"tx\":1,\"delivered_wh\":1}x", strlen("{\"tx\":1,\"delivered_wh\":1}x")), EC_EINVAL);
    ec_kpi_free(k);
}

/* Whatever the fast readers take, the journal's reader reads the same. */
static void test_fast_readers_agree(void **state)
{
    (void)state;
    ec_site_power_t sp;
    ec_substation_power_t sub;
    memset(&sp, 0, sizeof sp), memset(&sub, 0, sizeof sub);
    static const char *const status[] = {
        "{\"cp\":\"CP-1\",\"connector\":0,\"status\":\"Faulted\",\"error_code\":\"GroundFailure\"}",
        "{\"cp\":\"CP-1\",\"connector\":16,\"status\":\"Available\",\"error_code\":\"\"}",
        "{\"cp\":\"\",\"connector\":1,\"status\":\"Available\",\"error_code\":\"NoError\"}",
        "{\"cp\":\"C\\u00e9\",\"connector\":1,\"status\":\"Available\",\"error_code\":\"NoError\"}",
        "{\"cp\":\"C\",\"connector\":17,\"status\":\"Available\",\"error_code\":\"NoError\"}",
        "{\"cp\":\"C\",\"connector\":01,\"status\":\"Available\",\"error_code\":\"NoError\"}",
        "{\"cp\":\"C\",\"connector\":1,\"status\":\"\",\"error_code\":\"NoError\"}",
        "{\"cp\":\"C\",\"connector\":1,\"status\":\"Available\",\"error_code\":\"NoError\"} ",
        "{\"connector\":1,\"cp\":\"C\",\"status\":\"Available\",\"error_code\":\"NoError\"}",
        "{\"cp\":\"C\",\"connector\":1,\"status\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"error_code\":\"\"}",
    };
    for (size_t i = 0; i < sizeof status / sizeof *status; i++) {
        ec_share_event_t a, b;
        memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
        if (kpi__parse_status(status[i], strlen(status[i]), &a)) continue; /* left to the full reader */
        if (ec_share_event_parse("status", 0, status[i], strlen(status[i]), &b, &sp, &sub))
            fail_msg("%s: read fast, refused by the journal's reader", status[i]);
        if (strcmp(a.cp, b.cp) || a.connector != b.connector || strcmp(a.status, b.status) || strcmp(a.error_code, b.error_code))
            fail_msg("%s: the readers differ", status[i]);
    }
    static const char *const tx[] = {"{\"tx\":1}", "{\"tx\":0}", "{\"tx\":-3}", "{\"tx\":999999999999999}",
                                     "{\"tx\":1.0}", "{\"tx\":12}x", "{ \"tx\":12}", "{\"tx\":1e3}"};
    for (size_t i = 0; i < sizeof tx / sizeof *tx; i++) {
        int64_t t = 0;
        ec_share_event_t b;
        memset(&b, 0, sizeof b);
        int full = ec_share_event_parse("tx_stop", 0, tx[i], strlen(tx[i]), &b, &sp, &sub) == EC_OK;
        if (kpi__parse_tx(tx[i], strlen(tx[i]), &t) == EC_OK && (!full || b.tx != t))
            fail_msg("%s: read fast as %lld, the journal's reader %s %lld", tx[i], (long long)t, full ? "reads" : "refuses",
                     (long long)b.tx);
    }
    ec_site_power_free(&sp);
    ec_substation_power_free(&sub);
}

static void tx_start(ec_kpi *k, int64_t t, int tx, const char *cp, const char *site)
{
    char b[256];
    snprintf(b, sizeof b, "{\"tx\":%d,\"cp\":\"%s\",\"connector\":1,\"site\":\"%s\",\"start_s\":0,\"evse_uid\":\"E1\","
             "\"delivered_wh\":0,\"requested_wh\":-1,\"departure_s\":0}", tx, cp, site);
    feed(k, t, "tx_start", b);
}

static void meter(ec_kpi *k, int64_t t, int tx, int wh)
{
    char b[64];
    snprintf(b, sizeof b, "{\"tx\":%d,\"delivered_wh\":%d}", tx, wh);
    feed(k, t, "tx_meter", b);
}

/* Four hours in steps of one: a port charging 30 min in hour 1 (0:15-0:45, 10 kWh) and 90 min
 * across hours 2-3 (1:30-3:00, 30 kWh at an even rate, so 10 in hour 2 and 20 in hour 3),
 * plugged in 0:10-0:50 and 1:20-3:10, Faulted 3:30-4:00; another site's port charging meanwhile
 * is out of scope. */
static void test_steps(void **state)
{
    (void)state;
    ec_kpi_config_t c;
    memset(&c, 0, sizeof c);
    c.from_ms = T0, c.to_ms = T0 + 240 * MIN, c.grace_ms = EC_KPI_GRACE_MS, c.co2_kg_per_kwh = EC_KPI_CO2_KG_PER_KWH;
    c.only_site = "S", c.step_ms = 60 * MIN;
    ec_kpi *k = NULL;
    assert_int_equal(ec_kpi_new(&c, &k), EC_OK);
    feed(k, T0, "cp_up", "{\"cp\":\"A\",\"site\":\"S\",\"serial\":1,\"evse_uids\":[\"\",\"E1\"]}");
    feed(k, T0, "cp_up", "{\"cp\":\"B\",\"site\":\"T\",\"serial\":1,\"evse_uids\":[\"\",\"E1\"]}");
    tx_start(k, T0 + 5 * MIN, 9, "B", "T");
    tx_start(k, T0 + 10 * MIN, 1, "A", "S");
    meter(k, T0 + 15 * MIN, 1, 0);
    meter(k, T0 + 45 * MIN, 1, 10000);
    meter(k, T0 + 50 * MIN, 9, 50000);
    feed(k, T0 + 50 * MIN, "tx_stop", "{\"tx\":1}");
    tx_start(k, T0 + 80 * MIN, 2, "A", "S");
    meter(k, T0 + 90 * MIN, 2, 0);
    meter(k, T0 + 180 * MIN, 2, 30000);
    feed(k, T0 + 190 * MIN, "tx_stop", "{\"tx\":2}");
    feed(k, T0 + 210 * MIN, "status", "{\"cp\":\"A\",\"connector\":1,\"status\":\"Faulted\",\"error_code\":\"OtherError\"}");
    const ec_kpi_row_t *r;
    size_t n;
    assert_int_equal(ec_kpi_steps(k, &r, &n), EC_OK);
    assert_int_equal(n, 4);
    static const double energy[] = {10, 10, 20, 0}, util[] = {50, 50, 100, 0}, occ[] = {40.0 / 60 * 100, 40.0 / 60 * 100, 100, 10.0 / 30 * 100};
    static const int64_t sessions[] = {1, 1, 0, 0};
    double sum_energy = 0, sum_open = 0, sum_charging = 0;
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(r[i].id, "S");
        assert_int_equal(r[i].from_ms, T0 + (int64_t)i * 60 * MIN);
        assert_int_equal(r[i].to_ms, T0 + (int64_t)(i + 1) * 60 * MIN);
        assert_int_equal(r[i].ports, 1);
        assert_int_equal(r[i].sessions, sessions[i]);
        if (fabs(r[i].energy_kwh - energy[i]) > 1e-9) fail_msg("step %zu: %g kWh", i, r[i].energy_kwh);
        if (fabs(r[i].utilisation_pct - util[i]) > 1e-9) fail_msg("step %zu: utilisation %g", i, r[i].utilisation_pct);
        if (fabs(r[i].occupancy_pct - occ[i]) > 1e-9) fail_msg("step %zu: occupancy %g", i, r[i].occupancy_pct);
        sum_energy += r[i].energy_kwh, sum_open += r[i].open_min, sum_charging += r[i].charging_min;
    }
    assert_true(fabs(r[3].open_min - 30) < 1e-9 && fabs(r[3].outage_min - 30) < 1e-9);
    /* The steps add up to the period, as ec_kpi_rows gives it for the site. */
    const ec_kpi_row_t *day = one(k, EC_KPI_SITE, "S");
    assert_true(fabs(day->energy_kwh - sum_energy) < 1e-9 && fabs(day->energy_kwh - 40) < 1e-9);
    assert_true(fabs(day->open_min - sum_open) < 1e-9 && fabs(day->charging_min - sum_charging) < 1e-9);
    assert_int_equal(day->sessions, 2);
    /* The other site is out of this scope. */
    size_t all;
    assert_int_equal(ec_kpi_rows(k, EC_KPI_SITE, &r, &all), EC_OK);
    assert_int_equal(all, 1);
    ec_kpi_free(k);

    /* A period the journal reaches only part of ends in a shorter step; too many steps are refused. */
    c.until_ms = T0 + 150 * MIN;
    assert_int_equal(ec_kpi_new(&c, &k), EC_OK);
    assert_int_equal(ec_kpi_steps(k, &r, &n), EC_OK);
    assert_int_equal(n, 3);
    assert_int_equal(r[2].to_ms - r[2].from_ms, 30 * MIN);
    ec_kpi_free(k);
    c.until_ms = 0, c.step_ms = 1000, c.to_ms = T0 + (int64_t)(EC_KPI_STEPS_MAX + 1) * 1000;
    assert_int_equal(ec_kpi_new(&c, &k), EC_EINVAL);
    c.to_ms = T0 + (int64_t)EC_KPI_STEPS_MAX * 1000;
    assert_int_equal(ec_kpi_new(&c, &k), EC_OK);
    ec_kpi_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uptime),
        cmocka_unit_test(test_hub_away),
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_congestion_waits),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_meter_fast_path),
        cmocka_unit_test(test_fast_readers_agree),
        cmocka_unit_test(test_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

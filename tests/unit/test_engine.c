/* test_engine.c - authorization, tariff arithmetic, a transaction's usage,
 * CDRs, settlement, and the session tables of the store. Expected money is
 * worked out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_engine.h"
#include "ecorridor/ec_sim.h"
#include "ecorridor/ec_store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static ec_json *js(const char *text)
{
    ec_json *j = NULL;
    assert_int_equal(ec_json_load_str(text, "test", &j), EC_OK);
    return j;
}

static void test_authorize(void **state)
{
    (void)state;
    ec_token_t t;
    memset(&t, 0, sizeof t);
    t.valid = 1;
    assert_int_equal(ec_engine_authorize(NULL, 0, 100), EC_AUTH_INVALID);
    assert_int_equal(ec_engine_authorize(&t, 5, 100), EC_AUTH_ACCEPTED);
    t.expiry_s = 100;
    assert_int_equal(ec_engine_authorize(&t, 0, 99), EC_AUTH_ACCEPTED);
    assert_int_equal(ec_engine_authorize(&t, 0, 100), EC_AUTH_EXPIRED);
    t.expiry_s = 0;
    t.max_concurrent = 1;
    assert_int_equal(ec_engine_authorize(&t, 1, 100), EC_AUTH_CONCURRENT);
    t.valid = 0;
    assert_int_equal(ec_engine_authorize(&t, 0, 100), EC_AUTH_BLOCKED);
    assert_string_equal(ec_auth_status_name(EC_AUTH_CONCURRENT), "ConcurrentTx");
    ec_json *j = js("{\"uid\":\"AB\",\"issuer_id\":\"f\",\"valid\":false,\"expiry\":\"2026-01-01T00:00:00Z\",\"group_id\":\"g\"}");
    assert_int_equal(ec_token_from_json(j, &t), EC_OK);
    assert_int_equal(t.valid, 0);
    assert_int_equal(t.expiry_s, 1767225600);
    assert_string_equal(t.group_id, "g");
    ec_json_free(j);
    /* An expiry the API let in (any RFC 3339 form) reads back: found by fuzz_api. */
    j = js("{\"uid\":\"AB\",\"issuer_id\":\"f\",\"expiry\":\"2026-01-01T01:00:00.5+01:00\"}");
    assert_int_equal(ec_token_from_json(j, &t), EC_OK);
    assert_int_equal(t.expiry_s, 1767225600);
    ec_json_free(j);
}

/* The tariff choice: a tariff that names a site or a group applies there
 * only; the group outranks the site; the first of equals wins. */
static void test_tariff_choice(void **state)
{
    (void)state;
    ec_tariff_scope_t c[5];
    memset(c, 0, sizeof c);
    /* 0: general; 1: site s1; 2: group g; 3: group g at s1; 4: general again. */
    snprintf(c[1].site_id, sizeof c[1].site_id, "s1");
    snprintf(c[2].customer_group, sizeof c[2].customer_group, "g");
    snprintf(c[3].site_id, sizeof c[3].site_id, "s1");
    snprintf(c[3].customer_group, sizeof c[3].customer_group, "g");
    assert_int_equal(ec_tariff_rank(&c[0], "", ""), 1);
    assert_int_equal(ec_tariff_rank(&c[1], "s1", ""), 2);
    assert_int_equal(ec_tariff_rank(&c[1], "s2", ""), 0);
    assert_int_equal(ec_tariff_rank(&c[1], "", "g"), 0);
    assert_int_equal(ec_tariff_rank(&c[2], "s2", "g"), 3);
    assert_int_equal(ec_tariff_rank(&c[2], "s2", ""), 0);
    assert_int_equal(ec_tariff_rank(&c[3], "s1", "g"), 4);
    assert_int_equal(ec_tariff_rank(&c[3], "s2", "g"), 0);
    assert_int_equal(ec_tariff_choose(c, 5, "s1", "g"), 3);
    assert_int_equal(ec_tariff_choose(c, 5, "s2", "g"), 2);
    assert_int_equal(ec_tariff_choose(c, 5, "s1", ""), 1);
    assert_int_equal(ec_tariff_choose(c, 5, "s2", "h"), 0); /* the first general one, not the last */
    assert_int_equal(ec_tariff_choose(c + 1, 3, "s2", ""), -1); /* none applies: free */
    assert_int_equal(ec_tariff_choose(c, 0, "s1", "g"), -1);
    assert_int_equal(ec_tariff_choose(c + 1, 3, NULL, NULL), -1);
}

/* Dynamic prices: the congestion ramp, and a dynamic tariff's margin fixed on the price at the start. */
static void test_dynamic_price(void **state)
{
    (void)state;
    assert_true(ec_congestion_price(0.5, 0.8, 0.2) == 0);
    assert_true(fabs(ec_congestion_price(0.9, 0.8, 0.2) - 0.1) < 1e-12);
    assert_true(fabs(ec_congestion_price(1.3, 0.8, 0.2) - 0.2) < 1e-12);
    assert_true(ec_congestion_price(0.95, 0.8, 0) == 0);
    ec_json *j = js("{\"id\":\"d\",\"currency\":\"EUR\",\"dynamic\":true,\"elements\":[{\"price_components\":["
                    "{\"type\":\"ENERGY\",\"price\":0.05},{\"type\":\"TIME\",\"price\":1}]}]}");
    int fixed = 0;
    assert_int_equal(ec_tariff_fix_dynamic(j, 0.23456, &fixed), EC_OK);
    assert_int_equal(fixed, 1);
    ec_tariff_t t;
    assert_int_equal(ec_tariff_from_json(j, &t), EC_OK);
    assert_int_equal(t.energy.price, 2846); /* 0.05 + 0.23456 = 0.28456, to 1e-4 */
    assert_int_equal(t.time.price, 10000);  /* only ENERGY moves */
    double d = 0;
    assert_int_equal(ec_json_number(ec_json_get(j, "dynamic_price_per_kwh"), &d), 0);
    assert_true(fabs(d - 0.2346) < 1e-12);
    ec_json_free(j);
    /* A negative wholesale price never makes energy negative; a tariff that is not dynamic stays. */
    j = js("{\"id\":\"d\",\"currency\":\"EUR\",\"dynamic\":true,\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.05}]}]}");
    assert_int_equal(ec_tariff_fix_dynamic(j, -0.30, &fixed), EC_OK);
    assert_int_equal(ec_tariff_from_json(j, &t), EC_OK);
    assert_int_equal(t.energy.price, 0);
    ec_json_free(j);
    j = js("{\"id\":\"s\",\"currency\":\"EUR\",\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.05}]}]}");
    assert_int_equal(ec_tariff_fix_dynamic(j, 0.5, &fixed), EC_OK);
    assert_int_equal(fixed, 0);
    assert_int_equal(ec_tariff_from_json(j, &t), EC_OK);
    assert_int_equal(t.energy.price, 500);
    ec_json_free(j);
}

static void test_tariff_cost(void **state)
{
    (void)state;
    ec_json *j = js("{\"id\":\"t\",\"currency\":\"EUR\",\"idle_grace_min\":10,\"elements\":[{\"price_components\":["
                    "{\"type\":\"ENERGY\",\"price\":0.4567,\"vat\":19},{\"type\":\"TIME\",\"price\":6},"
                    "{\"type\":\"PARKING_TIME\",\"price\":12,\"step_size\":300},{\"type\":\"FLAT\",\"price\":1.5}]},"
                    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":9}]}]}");
    ec_tariff_t t;
    assert_int_equal(ec_tariff_from_json(j, &t), EC_OK);
    ec_json_free(j);
    assert_int_equal(t.energy.price, 4567); /* the first element with ENERGY applies, not the 9 */
    assert_int_equal(t.energy.vat_bp, 1900);
    ec_cost_t c;
    /* 12,345 Wh x 0.4567/kWh = 5.6379615 -> 5.6380; 1,800 s x 6/h = 3.0000;
     * idle 700 s - 600 s grace = 100 s, billed up to 300 s x 12/h = 1.0000; flat 1.5000. */
    ec_tariff_cost(&t, 12345, 1800, 700, &c);
    assert_int_equal(c.energy, 56380);
    assert_int_equal(c.time, 30000);
    assert_int_equal(c.parking, 10000);
    assert_int_equal(c.flat, 15000);
    assert_int_equal(c.excl_vat, 111380);
    assert_int_equal(c.vat, 10712); /* 19 % of the energy only: 1.07122 -> 1.0712 */
    assert_int_equal(c.incl_vat, 122092);
    ec_tariff_cost(&t, 0, 0, 600, &c); /* within the grace: no idle fee */
    assert_int_equal(c.parking, 0);
    assert_int_equal(c.excl_vat, 15000);
    char m[32];
    ec_money_format(122092, 4, m, sizeof m);
    assert_string_equal(m, "12.2092");
    ec_money_format(-5, 4, m, sizeof m);
    assert_string_equal(m, "-0.0005");
}

/* One integer formatter for every amount: signs, places, and rounding half
 * away from zero where a double would have rounded 0.015 down. */
static void test_money_format(void **state)
{
    (void)state;
    static const struct {
        int64_t v;
        int places;
        const char *want;
    } cases[] = {
        {0, 4, "0.0000"},           {0, 2, "0.00"},
        {-50, 4, "-0.0050"},        {-5000, 4, "-0.5000"},
        {-5000, 2, "-0.50"},        /* the trip printed "0.-50" */
        {-50, 2, "-0.01"},          /* -0.005: half away from zero */
        {-49, 2, "0.00"},           /* -0.0049 rounds to zero, which has no sign */
        {-51, 2, "-0.01"},          {50, 2, "0.01"},
        {49, 2, "0.00"},            {150, 2, "0.02"}, /* 0.015: a double says 0.01 */
        {250, 2, "0.03"},           {12345, 2, "1.23"},
        {12350, 2, "1.24"},         {-12350, 2, "-1.24"},
        {99950, 2, "10.00"},        {-99950, 2, "-10.00"},
        {99949, 2, "9.99"},         {12345, 0, "1"},
        {15000, 0, "2"},            {-15000, 0, "-2"},
        {-4999, 0, "0"},            {12345, 1, "1.2"},
        {12350, 3, "1.235"},        {-12345, 3, "-1.235"},
        {-10000, 4, "-1.0000"},     {10000, 2, "1.00"},
        {122092, 9, "12.2092"},     /* places outside 0..4 are taken as 4 */
        {INT64_MAX, 4, "922337203685477.5807"},
        {INT64_MIN, 4, "-922337203685477.5808"},
        {INT64_MIN, 2, "-922337203685477.58"},
        {INT64_MAX, 0, "922337203685478"},
    };
    char m[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ec_money_format(cases[i].v, cases[i].places, m, sizeof m);
        if (strcmp(m, cases[i].want))
            fail_msg("%lld with %d places: got \"%s\", want \"%s\"", (long long)cases[i].v, cases[i].places, m,
                     cases[i].want);
    }
    /* A short buffer is cut, never overrun. */
    char small[4];
    ec_money_format(-5000, 2, small, sizeof small);
    assert_string_equal(small, "-0.");
}

static void test_tx_usage(void **state)
{
    (void)state;
    ec_tx_t tx;
    memset(&tx, 0, sizeof tx);
    tx.start_s = 1000, tx.meter_start_wh = 500, tx.last_register_wh = -1, tx.soc = -1;
    ec_tx_meter(&tx, 1600, 2500, 20000, 40);
    ec_tx_meter(&tx, 2200, 4500, 20000, 60);
    ec_tx_meter(&tx, 2800, 4500, 0, 60); /* no more energy: idle from 2200 */
    ec_tx_stop(&tx, 4000, 4500, NULL);
    int64_t e, ch, idle;
    ec_tx_usage(&tx, &e, &ch, &idle);
    assert_int_equal(e, 4000);
    assert_int_equal(ch, 1200);
    assert_int_equal(idle, 1800);
    assert_int_equal(tx.flags, 0);
    assert_string_equal(tx.stop_reason, "Local");
    /* meterStop below the last register reading is flagged. */
    ec_tx_t bad = tx;
    bad.stopped = 0, bad.flags = 0;
    ec_tx_stop(&bad, 4000, 4000, "Remote");
    assert_true(bad.flags & EC_TX_METER_MISMATCH);
    ec_buf out;
    ec_buf_init(&out, 1 << 20);
    ec_cost_t c;
    snprintf(tx.charge_point, sizeof tx.charge_point, "CP");
    tx.id = 7;
    assert_int_equal(ec_cdr_json(&tx, NULL, NULL, &out, &c), EC_OK);
    ec_json *j = js(out.data);
    assert_string_equal(ec_json_str(ec_json_get(j, "id")), "CP-7");
    double kwh = 0;
    ec_json_number(ec_json_get(j, "total_energy"), &kwh);
    assert_true(kwh == 4.0);
    assert_int_equal(c.incl_vat, 0);
    ec_json_free(j);
    ec_buf_free(&out);
    /* A CDR that could not be written whole says so, whether the limit or
     * memory cut it (memory used to pass: the text was short of the limit). */
    ec_buf_init(&out, 100);
    assert_int_equal(ec_cdr_json(&tx, NULL, NULL, &out, &c), EC_ELIMIT);
    ec_buf_free(&out);
    ec_buf_init(&out, 1 << 20);
    ec_buf_puts(&out, "{");
    ec_alloc_fail_after(0);
    assert_int_equal(ec_cdr_json(&tx, NULL, NULL, &out, &c), EC_ENOMEM);
    ec_alloc_fail_after(-1);
    ec_buf_free(&out);
}

static void test_settle(void **state)
{
    (void)state;
    ec_settlement s;
    ec_settle_init(&s);
    assert_int_equal(ec_settle_add(&s, "op-b", "f1", "EUR", 1000, 10, 12), EC_OK);
    assert_int_equal(ec_settle_add(&s, "op-a", "f1", "EUR", 2000, 20, 24), EC_OK);
    assert_int_equal(ec_settle_add(&s, "op-b", "f1", "EUR", 3000, 30, 36), EC_OK);
    assert_int_equal(ec_settle_add(&s, "op-a", "f1", "CHF", 1, 1, 1), EC_OK);
    ec_settle_sort(&s);
    const ec_settle_row_t *r = s.rows.data;
    assert_int_equal(s.rows.len, 3);
    assert_string_equal(r[0].operator_id, "op-a");
    assert_string_equal(r[0].currency, "CHF");
    assert_int_equal(r[2].sessions, 2);
    assert_int_equal(r[2].incl_vat, 48);
    assert_int_equal(s.n_currencies, 2);
    assert_int_equal(s.total_by_currency[0].incl_vat, 72);
    ec_settle_free(&s);
}

static ec_err count_row(void *ctx, const char *doc, size_t len)
{
    (void)doc, (void)len;
    ++*(int *)ctx;
    return EC_OK;
}

static ec_err settle_cdr(void *ctx, const char *op, const char *issuer, const char *currency, int64_t wh,
                         int64_t excl, int64_t incl)
{
    return ec_settle_add(ctx, op, issuer, currency, wh, excl, incl);
}

static void test_store_sessions(void **state)
{
    (void)state;
    ec_store *s;
    assert_int_equal(ec_store_open(":memory:", &s), EC_OK);
    ec_tx_t tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.charge_point, sizeof tx.charge_point, "CP-1");
    snprintf(tx.id_tag, sizeof tx.id_tag, "TAG");
    snprintf(tx.operator_id, sizeof tx.operator_id, "op");
    snprintf(tx.issuer_id, sizeof tx.issuer_id, "fl");
    snprintf(tx.auth_status, sizeof tx.auth_status, "Accepted");
    tx.start_s = 100, tx.last_register_wh = -1, tx.soc = -1;
    int existed;
    int64_t gen = ec_store_generation(s);
    assert_int_equal(ec_store_tx_start(s, "k1", NULL, &tx, &existed), EC_OK);
    assert_true(ec_store_generation(s) == gen); /* the route planner's cache stays */
    assert_int_equal(existed, 0);
    int64_t id = tx.id, n;
    ec_tx_t again = tx;
    assert_int_equal(ec_store_tx_start(s, "k1", NULL, &again, &existed), EC_OK);
    assert_int_equal(existed, 1);
    assert_int_equal(again.id, id);
    assert_int_equal(ec_store_tx_active(s, "TAG", &n), EC_OK);
    assert_int_equal(n, 1);
    int dup;
    assert_int_equal(ec_store_meter_add(s, id, 200, 1000, 5000, -1, &dup), EC_OK);
    assert_int_equal(dup, 0);
    assert_int_equal(ec_store_meter_add(s, id, 200, 1000, 5000, -1, &dup), EC_OK);
    assert_int_equal(dup, 1);
    ec_tx_stop(&tx, 400, 2000, "Local");
    assert_int_equal(ec_store_tx_update(s, &tx), EC_OK);
    assert_int_equal(ec_store_cdr_put(s, &tx, "CP-1-1", 400, "EUR", 2000, 100, 119, "{}", &dup), EC_OK);
    assert_int_equal(dup, 0);
    assert_int_equal(ec_store_cdr_put(s, &tx, "CP-1-1", 400, "EUR", 2000, 100, 119, "{}", &dup), EC_OK);
    assert_int_equal(dup, 1);
    ec_session_filter_t f;
    memset(&f, 0, sizeof f);
    f.limit = -1;
    int rows = 0;
    int64_t total;
    assert_int_equal(ec_store_cdr_list(s, &f, count_row, &rows, &total), EC_OK);
    assert_int_equal(rows, 1);
    f.from_s = 401;
    rows = 0;
    assert_int_equal(ec_store_cdr_list(s, &f, count_row, &rows, &total), EC_OK);
    assert_int_equal(rows, 0);
    f.from_s = 0;
    ec_settlement st;
    ec_settle_init(&st);
    assert_int_equal(ec_store_cdr_amounts(s, &f, settle_cdr, &st), EC_OK);
    assert_int_equal(st.rows.len, 1);
    assert_int_equal(EC_VEC_AT(&st.rows, ec_settle_row_t, 0).incl_vat, 119);
    ec_settle_free(&st);
    assert_int_equal(ec_store_tx_active(s, "TAG", &n), EC_OK);
    assert_int_equal(n, 0);
    ec_store_close(s);
}

/* Every algorithm on random sessions: no session above its maximum or what
 * finishes it, the sum within the limit (uncontrolled aside), and the limit
 * used up whenever demand exceeds it. Order checks for EDF and equal shares. */
static void test_alloc_invariants(void **state)
{
    (void)state;
    srand(7);
    ec_alloc_session_t s[200];
    double w[200];
    for (int round = 0; round < 500; round++) {
        size_t n = 1 + (size_t)(rand() % 200);
        double demand = 0, limit = (double)(rand() % 400000);
        for (size_t i = 0; i < n; i++) {
            s[i].arrival_s = rand() % 10000;
            s[i].departure_s = 10000 + 300 + rand() % 40000; /* present now: leaving after now */
            s[i].remaining_wh = (double)(rand() % 50000);
            s[i].max_w = (double)(1000 + rand() % 350000);
            double cap = s[i].remaining_wh * 3600.0 / 300.0;
            demand += cap < s[i].max_w ? cap : s[i].max_w;
        }
        for (int a = 0; a < EC_ALLOC_COUNT; a++) {
            ec_alloc_step((ec_alloc_algo)a, s, n, limit, 10000, 300, w);
            double sum = 0;
            for (size_t i = 0; i < n; i++) {
                assert_true(w[i] >= 0 && w[i] <= s[i].max_w + 1e-6);
                assert_true(w[i] <= s[i].remaining_wh * 3600.0 / 300.0 + 1e-6);
                sum += w[i];
            }
            if (a != EC_ALLOC_UNCONTROLLED) {
                assert_true(sum <= limit + 1e-6);
                /* Work-conserving: what is not given is what nobody could take. */
                assert_true(fabs(sum - (demand < limit ? demand : limit)) < 1e-3 * (1 + limit));
            }
        }
    }
    /* EDF: the earliest departure is served first; equal shares split evenly. */
    ec_alloc_session_t two[2] = {{0, 9000, 1e6, 10000}, {0, 1000, 1e6, 10000}};
    ec_alloc_step(EC_ALLOC_EDF, two, 2, 12000, 0, 300, w);
    assert_true(w[1] == 10000 && w[0] == 2000);
    ec_alloc_step(EC_ALLOC_RR, two, 2, 12000, 0, 300, w);
    assert_true(w[0] == 6000 && w[1] == 6000);
    ec_alloc_step(EC_ALLOC_FCFS, two, 2, 12000, 0, 300, w);
    assert_true(w[0] == 10000 && w[1] == 2000); /* same arrival: input order */
    ec_alloc_algo al;
    assert_int_equal(ec_alloc_algo_parse("llf", &al), 0);
    assert_int_equal(al, EC_ALLOC_LLF);
    assert_int_equal(ec_alloc_algo_parse("LLF", &al), -1);
}

/* Nested limits, a headroom and price series, V2G: on random cases every
 * algorithm keeps each session within its maximum (or its V2G allowance),
 * each site within its connection, the sum within the headroom now, and the
 * controlled ones use the headroom whenever a session could take more. */
static void test_alloc_grid_invariants(void **state)
{
    (void)state;
    srand(11);
    ec_alloc_session_t s[120];
    double w[120], site_lim[6], head[40], price[40], other[40], net[6], chg[6];
    for (int round = 0; round < 300; round++) {
        memset(s, 0, sizeof s);
        size_t n = 1 + (size_t)(rand() % 120), ns = 1 + (size_t)(rand() % 6), np = 1 + (size_t)(rand() % 40);
        for (size_t k = 0; k < ns; k++) site_lim[k] = rand() % 3 ? (double)(rand() % 300000) : 0;
        for (size_t p = 0; p < np; p++) {
            head[p] = (double)(rand() % 500000) - 50000; /* sometimes the others alone exceed it */
            price[p] = (double)(rand() % 40) / 100.0;
            other[p] = (double)(rand() % 200000);
        }
        ec_alloc_grid_t g = {10000, 300, np, head, other, rand() % 2 ? price : NULL, ns, site_lim, rand() % 2, 0.3};
        for (size_t i = 0; i < n; i++) {
            s[i].arrival_s = rand() % 10000;
            s[i].departure_s = 10000 + 300 + rand() % 20000;
            s[i].remaining_wh = (double)(rand() % 80000);
            s[i].max_w = (double)(1000 + rand() % 350000);
            s[i].site = rand() % (int)ns;
            if (rand() % 3 == 0) s[i].v2g_wh = (double)(rand() % 20000), s[i].max_discharge_w = (double)(rand() % 100000);
        }
        for (int a = 1; a < EC_ALLOC_COUNT; a++) {
            ec_alloc_solve((ec_alloc_algo)a, s, n, &g, w);
            double sum = 0, charging = 0, h = 300.0 / 3600.0;
            for (size_t k = 0; k < ns; k++) net[k] = chg[k] = 0;
            int room = 0; /* some session could take more */
            for (size_t i = 0; i < n; i++) {
                double cap = s[i].remaining_wh / h < s[i].max_w ? s[i].remaining_wh / h : s[i].max_w;
                assert_true(w[i] <= cap + 1e-6);
                assert_true(w[i] >= -s[i].max_discharge_w - 1e-6);
                assert_true(w[i] >= 0 || -w[i] * h <= s[i].v2g_wh + 1e-6); /* never below what departure needs */
                sum += w[i];
                net[s[i].site] += w[i];
                if (w[i] >= 0) charging += w[i], chg[s[i].site] += w[i];
                room |= w[i] >= 0 && w[i] < cap - 1e-3;
            }
            for (size_t k = 0; k < ns; k++)
                if (site_lim[k] > 0) assert_true(fabs(net[k]) <= site_lim[k] + 1e-3);
            assert_true(sum <= (head[0] > 0 ? head[0] : 0) + 1e-3);
            assert_true(charging <= (head[0] > 0 ? head[0] : 0) + 1e-3);
            if (a != EC_ALLOC_OPT && room && head[0] > 0) {
                /* Work-conserving: the headroom is used up, or the site of every session left short is. */
                int ok = charging >= head[0] - 1e-3 * (1 + head[0]);
                for (size_t i = 0; !ok && i < n; i++) {
                    double cap = s[i].remaining_wh / h < s[i].max_w ? s[i].remaining_wh / h : s[i].max_w;
                    if (w[i] < cap - 1e-3 && w[i] >= 0 && !(site_lim[s[i].site] > 0 && chg[s[i].site] >= site_lim[s[i].site] - 1e-3 * (1 + site_lim[s[i].site])))
                        break;
                    if (i == n - 1) ok = 1;
                }
                if (!ok) fail_msg("round %d algo %s: sum %g of headroom %g", round, ec_alloc_algo_name((ec_alloc_algo)a), sum, head[0]);
            }
        }
    }
}

/* Prices, peaks and V2G by hand. */
static void test_alloc_grid_cases(void **state)
{
    (void)state;
    double w[2];
    /* One session needing 10 kWh at 20 kW over 2 hours: the first hour costs 0.40, the second 0.10:
     * opt waits for the cheap hour; EDF does not look at prices. */
    ec_alloc_session_t one[1] = {{0, 7200, 10000, 20000, 0, 0, 0}};
    double head[2] = {50000, 50000}, price[2] = {0.40, 0.10};
    ec_alloc_grid_t g = {0, 3600, 2, head, NULL, price, 0, NULL, 0, 0};
    ec_alloc_solve(EC_ALLOC_OPT, one, 1, &g, w);
    assert_true(fabs(w[0]) < 1e-6);
    ec_alloc_solve(EC_ALLOC_EDF, one, 1, &g, w);
    assert_true(fabs(w[0] - 10000) < 1e-6);
    /* Needing 30 kWh it cannot wait: 20 kW in the cheap hour leaves 10 kWh for now. */
    one[0].remaining_wh = 30000;
    ec_alloc_solve(EC_ALLOC_OPT, one, 1, &g, w);
    assert_true(fabs(w[0] - 10000) < 1e-3);
    /* The peak: no prices, others 30 kW now and 0 kW next hour, 20 kWh to deliver at up to 20 kW:
     * as early as possible would be 20 + 0; the least peak is 5 kW now and 15 kW next (35 vs 15? no:
     * peak = max(30 + x, 0 + 20 - x) with x <= 20, so x = 0 and the peak 30 kW). */
    double other[2] = {30000, 0}, head2[2] = {70000, 100000};
    one[0].remaining_wh = 20000;
    ec_alloc_grid_t gp = {0, 3600, 2, head2, other, NULL, 0, NULL, 1, 0};
    ec_alloc_solve(EC_ALLOC_OPT, one, 1, &gp, w);
    assert_true(fabs(w[0]) < 1.0 + 1e-6);
    gp.minimise_peak = 0;
    ec_alloc_solve(EC_ALLOC_OPT, one, 1, &gp, w);
    assert_true(fabs(w[0] - 20000) < 1e-3);
    /* V2G: a vehicle that may give back 5 kWh and is not charging discharges at the peak price,
     * at most its 40 kW and 5 kWh in the hour; below the threshold it does not. */
    ec_alloc_session_t v[2] = {{0, 7200, 0, 50000, 0, 5000, 40000}, {0, 7200, 10000, 50000, 0, 0, 0}};
    double price2[2] = {0.50, 0.10};
    ec_alloc_grid_t gv = {0, 3600, 2, head, NULL, price2, 0, NULL, 0, 0.45};
    ec_alloc_solve(EC_ALLOC_OPT, v, 2, &gv, w);
    assert_true(fabs(w[0] + 5000) < 1e-6 && fabs(w[1]) < 1e-6);
    gv.v2g_price = 0.60;
    ec_alloc_solve(EC_ALLOC_OPT, v, 2, &gv, w);
    assert_true(fabs(w[0]) < 1e-6);
    /* A site's connection binds before the shared limit: two sessions at a 10 kW site, one at an
     * unlimited one, 40 kW shared; equal shares give 5, 5 and 20 (the rest). */
    ec_alloc_session_t three[3] = {{0, 7200, 1e6, 30000, 0, 0, 0}, {0, 7200, 1e6, 30000, 0, 0, 0}, {0, 7200, 1e6, 30000, 1, 0, 0}};
    double lim[2] = {10000, 0}, h40 = 40000, w3[3];
    ec_alloc_grid_t gs = {0, 3600, 1, &h40, NULL, NULL, 2, lim, 0, 0};
    ec_alloc_solve(EC_ALLOC_RR, three, 3, &gs, w3);
    assert_true(fabs(w3[0] - 5000) < 1e-3 && fabs(w3[1] - 5000) < 1e-3 && fabs(w3[2] - 30000) < 1e-3);
    ec_alloc_solve(EC_ALLOC_OPT, three, 3, &gs, w3);
    assert_true(fabs(w3[0] + w3[1] - 10000) < 1e-3 && fabs(w3[2] - 30000) < 1e-3);
    /* Sites with their own algorithms: EDF at site 0, RR at site 1 under 40 kW: the
     * headroom is shared between the sites first (20 each), then each site's rule. */
    ec_alloc_site_t sites[2] = {{EC_ALLOC_EDF, 0}, {EC_ALLOC_RR, 0}};
    ec_alloc_session_t four[4] = {{0, 7200, 1e6, 30000, 0, 0, 0}, {0, 3600, 1e6, 30000, 0, 0, 0},
                                  {0, 7200, 1e6, 30000, 1, 0, 0}, {0, 3600, 1e6, 30000, 1, 0, 0}};
    double w4[4];
    ec_alloc_grid_t g4 = {0, 300, 1, &h40, NULL, NULL, 0, NULL, 0, 0};
    ec_alloc_sites(sites, 2, four, 4, &g4, w4);
    assert_true(fabs(w4[0]) < 1e-6 && fabs(w4[1] - 20000) < 1e-6); /* EDF: the earlier departure */
    assert_true(fabs(w4[2] - 10000) < 1e-6 && fabs(w4[3] - 10000) < 1e-6);
    /* An uncontrolled site takes its 60 kW; the EDF site gets nothing of the 40 kW. */
    sites[1].algo = EC_ALLOC_UNCONTROLLED;
    ec_alloc_sites(sites, 2, four, 4, &g4, w4);
    assert_true(fabs(w4[0] + w4[1]) < 1e-6 && fabs(w4[2] - 30000) < 1e-6);
    /* A battery covers the charging above the grid's headroom, then refills when cheap. */
    ec_battery_t b = {100000, 50000, 30000, 30000, 0.9};
    assert_true(fabs(ec_battery_step(&b, 20000, 45000, 0.3, 0.2, 3600) + 25000) < 1e-6);
    assert_true(fabs(b.stored_wh - 25000) < 1e-6);
    assert_true(fabs(ec_battery_step(&b, 20000, 5000, 0.3, 0.2, 3600)) < 1e-6); /* dear: waits */
    assert_true(fabs(ec_battery_step(&b, 20000, 5000, 0.1, 0.2, 3600) - 15000) < 1e-6);
    assert_true(fabs(b.stored_wh - 25000 - 13500) < 1e-6);
}

/* A hand-checked replay: two 10 kWh sessions of 10 kW under 10 kW for two
 * hours: FCFS gives the first one its 10 kWh in the first hour, then the
 * second its 10 kWh; energy never above what was requested. */
static void test_simulate(void **state)
{
    (void)state;
    const char *csv = "session_id,station_id,arrival_period,departure_period,estimated_departure_period,"
                      "requested_energy_kWh,battery_max_power_kW\n"
                      "a,S1,0,24,24,10,10\nb,S2,0,12,12,10,10\n";
    ec_vec v;
    ec_vec_init(&v, sizeof(ec_charge_session_t));
    assert_int_equal(ec_charge_sessions_csv("t.csv", csv, strlen(csv), 300, &v), EC_OK);
    assert_int_equal(v.len, 2);
    ec_charge_sim_opts_t o = {EC_ALLOC_FCFS, 10000, 0, 300, 0.25};
    ec_charge_sim_result_t r;
    assert_int_equal(ec_charge_simulate(&v, &o, &r), EC_OK);
    assert_true(fabs(r.delivered_wh - 10000) < 1e-6); /* a first (0-1 h); b leaves at 1 h with nothing */
    o.algo = EC_ALLOC_EDF; /* b leaves first: b in the first hour, a in the second */
    assert_int_equal(ec_charge_simulate(&v, &o, &r), EC_OK);
    assert_true(fabs(r.delivered_pct - 100) < 1e-9);
    assert_true(fabs(r.peak_w - 10000) < 1e-6);
    assert_true(fabs(r.cost - 5.0) < 1e-9);
    /* The offline optimum: both, 20 kWh (as EDF, knowing b leaves first). */
    assert_int_equal(ec_charge_offline_optimum(&v, &o, &r), EC_OK);
    assert_true(fabs(r.delivered_wh - 20000) < 1e-6 && r.peak_w <= 10000 + 1e-6);
    o.algo = EC_ALLOC_UNCONTROLLED;
    assert_int_equal(ec_charge_simulate(&v, &o, &r), EC_OK);
    assert_true(fabs(r.peak_w - 20000) < 1e-6 && fabs(r.max_over_w - 10000) < 1e-6);
    ec_vec_free(&v);
    const char *bad = "session_id,station_id,arrival_period,departure_period,estimated_departure_period,"
                      "requested_energy_kWh,battery_max_power_kW\na,S1,5,2,2,10,10\n";
    ec_vec_init(&v, sizeof(ec_charge_session_t));
    assert_int_equal(ec_charge_sessions_csv("bad.csv", bad, strlen(bad), 300, &v), EC_EPARSE);
    assert_non_null(strstr(ec_errmsg(), "bad.csv:2"));
    ec_vec_free(&v);
    /* A session plugged in for a billion periods is refused, as a timestamped
     * one of more than a year is: the replay would step through every period. */
    const char *longer = "session_id,station_id,arrival_period,departure_period,estimated_departure_period,"
                         "requested_energy_kWh,battery_max_power_kW\na,S1,0,1000000000,1000000000,10,10\n";
    ec_vec_init(&v, sizeof(ec_charge_session_t));
    assert_int_equal(ec_charge_sessions_csv("long.csv", longer, strlen(longer), 300, &v), EC_ELIMIT);
    assert_non_null(strstr(ec_errmsg(), "long.csv:2"));
    ec_vec_free(&v);
    /* Two short sessions two centuries apart: the replay, and a schedule's
     * rows, would span them all. */
    const char *apart = "session_id,station_id,arrival,departure,requested_energy_kWh,battery_max_power_kW\n"
                        "a,S1,2026-01-01T10:00Z,2026-01-01T12:00Z,10,10\nb,S1,2200-01-01T10:00Z,2200-01-01T12:00Z,10,10\n";
    ec_vec_init(&v, sizeof(ec_charge_session_t));
    assert_int_equal(ec_charge_sessions_csv("apart.csv", apart, strlen(apart), 300, &v), EC_ELIMIT);
    assert_non_null(strstr(ec_errmsg(), "session b leaves more than 366 days"));
    assert_int_equal(v.len, 0);
    ec_vec_free(&v);
}

/* The offline optimum against every online algorithm on random small sites:
 * never less, never above the capacity or the requests; and against a brute
 * force of its own definition on tiny ones (all sessions in one window: the
 * answer is min(requests, capacity x window, each one's max x window)). */
static void test_offline_optimum(void **state)
{
    (void)state;
    srand(11);
    for (int round = 0; round < 300; round++) {
        ec_vec v;
        ec_vec_init(&v, sizeof(ec_charge_session_t));
        int n = 1 + rand() % 30;
        for (int i = 0; i < n; i++) {
            ec_charge_session_t s;
            memset(&s, 0, sizeof s);
            s.arrival_s = (rand() % 100) * 300;
            s.departure_s = s.arrival_s + (1 + rand() % 60) * 300;
            s.est_departure_s = s.departure_s;
            s.requested_wh = (double)(rand() % 30000);
            s.max_w = 1000.0 * (1 + rand() % 20);
            ec_vec_push(&v, &s);
        }
        ec_charge_sim_opts_t o = {EC_ALLOC_FCFS, 1000.0 * (1 + rand() % 60), 0, 300, 0};
        ec_charge_sim_result_t best, r;
        assert_int_equal(ec_charge_offline_optimum(&v, &o, &best), EC_OK);
        assert_true(best.delivered_wh <= best.requested_wh + 1e-6 && best.peak_w <= o.capacity_w + 1e-6);
        for (int a = EC_ALLOC_FCFS; a < EC_ALLOC_COUNT; a++) {
            o.algo = (ec_alloc_algo)a;
            assert_int_equal(ec_charge_simulate(&v, &o, &r), EC_OK);
            assert_true(r.delivered_wh <= best.delivered_wh + 1e-6);
        }
        ec_vec_free(&v);
    }
    /* One common window of 4 periods (20 min): capacity 6 kW gives 2 kWh at most. */
    ec_vec v;
    ec_vec_init(&v, sizeof(ec_charge_session_t));
    ec_charge_session_t a = {"a", "", 0, 1200, 1200, 5000, 4000}, b = {"b", "", 0, 1200, 1200, 500, 4000};
    ec_vec_push(&v, &a);
    ec_vec_push(&v, &b);
    ec_charge_sim_opts_t o = {EC_ALLOC_FCFS, 6000, 0, 300, 0};
    ec_charge_sim_result_t r;
    assert_int_equal(ec_charge_offline_optimum(&v, &o, &r), EC_OK);
    assert_true(fabs(r.delivered_wh - 1833.333333) < 1e-3); /* a: 4 kW x 20 min = 1333; b: 500 */
    ec_vec_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authorize), cmocka_unit_test(test_tariff_choice), cmocka_unit_test(test_dynamic_price),
        cmocka_unit_test(test_tariff_cost), cmocka_unit_test(test_money_format), cmocka_unit_test(test_tx_usage),
        cmocka_unit_test(test_settle), cmocka_unit_test(test_store_sessions),
        cmocka_unit_test(test_alloc_invariants), cmocka_unit_test(test_alloc_grid_invariants),
        cmocka_unit_test(test_alloc_grid_cases), cmocka_unit_test(test_simulate),
        cmocka_unit_test(test_offline_optimum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_outage_store.c - excluded outage time in the store: what is put comes
 * back, a replaced outage keeps who made it, and the lists pick the outages
 * overlapping a period exactly as a brute-force scan of the same outages
 * written here does (open ends included), by site and by the site's owners. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_store.h"
#include "ecorridor/ec_kpi.h"

#include <stdio.h>
#include <string.h>

#define N_OUTAGES 300
#define N_QUERIES 400

static uint64_t rng = 42;
static int pick(int n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int)((rng >> 33) % (uint64_t)n);
}

static ec_store *open_store(void)
{
    ec_store *s = NULL;
    assert_int_equal(ec_store_open(":memory:", &s), EC_OK);
    return s;
}

static void fill(ec_outage_t *o, const char *site, int64_t from_s, int64_t to_s, const char *reason)
{
    memset(o, 0, sizeof *o);
    snprintf(o->site_id, sizeof o->site_id, "%s", site);
    o->from_s = from_s;
    o->to_s = to_s;
    snprintf(o->reason, sizeof o->reason, "%s", reason);
    snprintf(o->created_by, sizeof o->created_by, "op-a");
}

static void test_reasons(void **state)
{
    (void)state;
    const char *ok[] = {"utility_outage", "vehicle_fault", "scheduled_maintenance", "vandalism", "natural_disaster",
                        "operator_request"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) assert_true(ec_kpi_reason(ok[i]) >= 0);
    assert_int_equal(ec_kpi_reason("Vandalism"), -1);
    assert_int_equal(ec_kpi_reason(""), -1);
    assert_int_equal(ec_kpi_reason(NULL), -1);
    assert_int_equal(ec_kpi_reason("vandalism "), -1);
    assert_int_equal(ec_store_schema_version(), 5);
}

static void test_put_get(void **state)
{
    (void)state;
    ec_store *s = open_store();
    ec_outage_t o, back;
    fill(&o, "site-1", 1000, 0, "vandalism");
    snprintf(o.charge_point, sizeof o.charge_point, "CP-1");
    o.connector = 2;
    memset(o.note, 'n', EC_OUTAGE_NOTE_MAX);
    o.note[EC_OUTAGE_NOTE_MAX] = 0;
    assert_int_equal(ec_store_outage_put(s, &o), EC_OK);
    assert_true(o.id > 0);
    assert_true(o.created_s > 0 && o.updated_s == o.created_s);
    assert_int_equal(ec_store_outage_get(s, o.id, &back), EC_OK);
    assert_string_equal(back.site_id, "site-1");
    assert_string_equal(back.charge_point, "CP-1");
    assert_int_equal(back.connector, 2);
    assert_int_equal(back.from_s, 1000);
    assert_int_equal(back.to_s, 0);
    assert_string_equal(back.reason, "vandalism");
    assert_int_equal(strlen(back.note), EC_OUTAGE_NOTE_MAX);
    assert_string_equal(back.created_by, "op-a");

    /* Closing it: the same id, its maker and creation time kept. */
    back.to_s = 5000;
    snprintf(back.created_by, sizeof back.created_by, "someone-else");
    back.created_s = 1;
    back.note[0] = 0;
    back.charge_point[0] = 0;
    back.connector = 0;
    int64_t id = back.id;
    assert_int_equal(ec_store_outage_put(s, &back), EC_OK);
    assert_int_equal(back.id, id);
    assert_int_equal(back.to_s, 5000);
    assert_string_equal(back.created_by, "op-a");
    assert_int_equal(back.created_s, o.created_s);
    assert_string_equal(back.note, "");
    assert_string_equal(back.charge_point, "");

    ec_outage_t none;
    fill(&none, "site-1", 1, 2, "vandalism");
    none.id = id + 100;
    assert_int_equal(ec_store_outage_put(s, &none), EC_ENOTFOUND);
    assert_int_equal(ec_store_outage_get(s, id + 100, &back), EC_ENOTFOUND);
    ec_store_close(s);
}

typedef struct {
    int64_t ids[N_OUTAGES];
    int n;
    int stop_after; /* 0: never */
} collected;

static ec_err collect(void *ctx, const ec_outage_t *o)
{
    collected *c = ctx;
    c->ids[c->n++] = o->id;
    return c->stop_after && c->n == c->stop_after ? EC_ERANGE : EC_OK;
}

static void test_overlap_against_scan(void **state)
{
    (void)state;
    ec_store *s = open_store();
    static ec_outage_t all[N_OUTAGES];
    const char *sites[] = {"site-a", "site-b", "site-c"};
    for (int i = 0; i < N_OUTAGES; i++) {
        int64_t from = pick(1000);
        int64_t to = pick(4) == 0 ? 0 : from + 1 + pick(200);
        fill(&all[i], sites[pick(3)], from, to, "utility_outage");
        assert_int_equal(ec_store_outage_put(s, &all[i]), EC_OK);
    }
    for (int q = 0; q < N_QUERIES; q++) {
        int64_t from = pick(3) == 0 ? 0 : pick(1100);
        int64_t to = pick(3) == 0 ? 0 : from + 1 + pick(300);
        const char *site = pick(2) ? sites[pick(3)] : NULL;
        collected got = {0};
        assert_int_equal(ec_store_outage_list(s, site, from, to, collect, &got), EC_OK);
        int n = 0;
        for (int i = 0; i < N_OUTAGES; i++) {
            const ec_outage_t *o = &all[i];
            /* [o.from, o.to or forever) meets [from, to or forever). */
            int meets = (to == 0 || o->from_s < to) && (o->to_s == 0 || o->to_s > from);
            if (!meets || (site && strcmp(site, o->site_id))) continue;
            assert_true(n < got.n);
            assert_int_equal(got.ids[n], o->id);
            n++;
        }
        assert_int_equal(n, got.n);
    }
    /* The callback's error ends the walk. */
    collected some = {.stop_after = 3};
    assert_int_equal(ec_store_outage_list(s, NULL, 0, 0, collect, &some), EC_ERANGE);
    assert_int_equal(some.n, 3);
    ec_store_close(s);
}

static void put_site(ec_store *s, const char *id, const char *op, const char *jur)
{
    ec_reg_index_t idx;
    memset(&idx, 0, sizeof idx);
    snprintf(idx.operator_id, sizeof idx.operator_id, "%s", op);
    snprintf(idx.jurisdiction_id, sizeof idx.jurisdiction_id, "%s", jur);
    char doc[128];
    snprintf(doc, sizeof doc, "{\"id\":\"%s\"}", id);
    assert_int_equal(ec_store_put(s, EC_KIND_SITE, id, EC_PUT_CREATE, doc, &idx, NULL), EC_OK);
}

static void test_page_by_owner(void **state)
{
    (void)state;
    ec_store *s = open_store();
    put_site(s, "s1", "op-a", "city-a");
    put_site(s, "s2", "op-b", "city-a");
    put_site(s, "s3", "op-a", "city-b");
    const char *site_of[] = {"s1", "s2", "s3", "s1", "s3", "gone"};
    for (int i = 0; i < 6; i++) {
        ec_outage_t o;
        fill(&o, site_of[i], 100 * i, 100 * i + 50, "scheduled_maintenance");
        assert_int_equal(ec_store_outage_put(s, &o), EC_OK);
    }
    collected c = {0};
    int64_t total = -1;
    ec_outage_filter_t f = {.operator_id = "op-a", .limit = 2};
    assert_int_equal(ec_store_outage_page(s, &f, collect, &c, &total), EC_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.ids[0], 1);
    assert_int_equal(c.ids[1], 3);
    assert_int_equal(total, 4);
    memset(&c, 0, sizeof c);
    f.offset = 2;
    assert_int_equal(ec_store_outage_page(s, &f, collect, &c, &total), EC_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.ids[0], 4);
    assert_int_equal(c.ids[1], 5);
    assert_int_equal(total, 4);
    memset(&c, 0, sizeof c);
    f.offset = 10;
    assert_int_equal(ec_store_outage_page(s, &f, collect, &c, &total), EC_OK);
    assert_int_equal(c.n, 0);
    assert_int_equal(total, 4);

    ec_outage_filter_t g = {.jurisdiction_id = "city-a", .from_s = 120, .limit = 50};
    memset(&c, 0, sizeof c);
    assert_int_equal(ec_store_outage_page(s, &g, collect, &c, &total), EC_OK);
    assert_int_equal(c.n, 2); /* s2's [100,150) and s1's [300,350); s1's [0,50) ends before 120 */
    assert_int_equal(c.ids[0], 2);
    assert_int_equal(c.ids[1], 4);
    assert_int_equal(total, 2);

    /* An outage of a site the register no longer has is nobody's but an admin's. */
    ec_outage_filter_t all = {.limit = -1};
    memset(&c, 0, sizeof c);
    assert_int_equal(ec_store_outage_page(s, &all, collect, &c, &total), EC_OK);
    assert_int_equal(c.n, 6);
    assert_int_equal(total, 6);
    ec_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_put_get),
        cmocka_unit_test(test_overlap_against_scan),
        cmocka_unit_test(test_page_by_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

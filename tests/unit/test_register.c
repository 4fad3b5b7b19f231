/* test_register.c - the register's validation, the SQLite store, keys, imports
 * and the routing view of stored sites. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_register.h"
#include "ecorridor/ec_store.h"

#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static ec_json *js(const char *text)
{
    ec_json *j = NULL;
    assert_int_equal(ec_json_load_str(text, "test", &j), EC_OK);
    return j;
}

/* Normalizes text as kind k; returns the error code and fills doc, idx, err. */
static ec_err norm(ec_kind k, const char *text, const char *base_text, ec_buf *doc, ec_reg_index_t *idx,
                   ec_reg_error_t *err)
{
    ec_json *in = js(text), *base = base_text ? js(base_text) : NULL;
    ec_err rc = ec_reg_normalize(k, in, base, "s1", 1764547200, doc, idx, err);
    ec_json_free(in);
    ec_json_free(base);
    return rc;
}

static const char *MIN_SITE = "{\"name\":\"A\",\"coordinates\":{\"latitude\":\"50.99\",\"longitude\":\"6.95\"}}";

static void test_site_defaults(void **state)
{
    (void)state;
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_reg_index_t idx;
    ec_reg_error_t err;
    assert_int_equal(norm(EC_KIND_SITE, MIN_SITE, NULL, &doc, &idx, &err), EC_OK);
    assert_string_equal(doc.data, "{\"id\":\"s1\",\"name\":\"A\",\"coordinates\":{\"latitude\":\"50.99\",\"longitude\":"
                                  "\"6.95\"},\"opening_times\":{\"twentyfourseven\":true},\"facilities\":[],"
                                  "\"evses\":[],\"last_updated\":\"2025-12-01T00:00:00Z\"}");
    assert_true(idx.has_pos && idx.lat == 50.99 && idx.lon == 6.95);
    assert_int_equal(idx.n_refs, 0);
    ec_buf_free(&doc);
}

static void test_site_errors(void **state)
{
    (void)state;
    static const struct {
        const char *body, *code, *field;
    } cases[] = {
        {"{\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\"}}", "missing_field", "name"},
        {"{\"name\":\"A\"}", "missing_field", "coordinates"},
        {"{\"name\":1,\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\"}}", "wrong_type", "name"},
        {"{\"name\":\"A\",\"x\":1,\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\"}}", "unknown_field", "x"},
        {"{\"name\":\"A\",\"coordinates\":{\"latitude\":\"1e3\",\"longitude\":\"2\"}}", "invalid_field",
         "coordinates.latitude"},
        {"{\"name\":\"A\",\"coordinates\":{\"latitude\":\"-90.5\",\"longitude\":\"2\"}}", "invalid_field",
         "coordinates.latitude"},
        {"{\"name\":\"A\",\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\",\"z\":\"3\"}}", "unknown_field",
         "coordinates.z"},
        {"{\"name\":\"A\",\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\"},\"evses\":[{\"uid\":\"E\","
         "\"connectors\":[{\"id\":\"1\",\"standard\":\"MCS\",\"max_electric_power\":1.5}]}]}",
         "wrong_type", "evses[0].connectors[0].max_electric_power"},
        {"{\"name\":\"A\",\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\"},\"evses\":[{\"uid\":\"E\","
         "\"connectors\":[{\"id\":\"1\",\"standard\":\"MCS\"},{\"id\":\"1\",\"standard\":\"MCS\"}]}]}",
         "invalid_field", "evses[0].connectors[1].id"},
        {"{\"name\":\"A\",\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\"},\"operator_id\":\"a b\"}",
         "invalid_field", "operator_id"},
        {"{\"name\":\"A\",\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\"},\"facilities\":[\"SPA\"]}",
         "invalid_field", "facilities[0]"},
        {"{\"id\":\"other\",\"name\":\"A\",\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\"}}", "invalid_field",
         "id"},
        {"[1]", "wrong_type", ""},
    };
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_buf_puts(&doc, "untouched");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ec_reg_index_t idx;
        ec_reg_error_t err;
        assert_int_equal(norm(EC_KIND_SITE, cases[i].body, NULL, &doc, &idx, &err), EC_EINVAL);
        assert_string_equal(err.code, cases[i].code);
        assert_string_equal(err.field, cases[i].field);
        assert_true(strlen(err.message) > 5);
        assert_string_equal(doc.data, "untouched"); /* nothing written on error */
    }
    /* A string longer than its limit. */
    char body[600];
    char longname[300];
    memset(longname, 'x', 256);
    longname[256] = 0;
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\"}}", longname);
    ec_reg_index_t idx;
    ec_reg_error_t err;
    assert_int_equal(norm(EC_KIND_SITE, body, NULL, &doc, &idx, &err), EC_EINVAL);
    assert_string_equal(err.field, "name");
    ec_buf_free(&doc);
}

static void test_patch_merge(void **state)
{
    (void)state;
    const char *base = "{\"id\":\"s1\",\"name\":\"A\",\"city\":\"Koeln\",\"coordinates\":{\"latitude\":\"50.99\","
                       "\"longitude\":\"6.95\"},\"operator_id\":\"op\",\"evses\":[{\"uid\":\"E\",\"status\":"
                       "\"AVAILABLE\",\"connectors\":[{\"id\":\"1\",\"standard\":\"MCS\",\"max_electric_power\":"
                       "1000000}]}],\"truck_access\":{\"vehicle_types\":[\"SEMI_TRACTOR\"]},"
                       "\"last_updated\":\"2020-01-01T00:00:00Z\"}";
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_reg_index_t idx;
    ec_reg_error_t err;
    /* name changes, city is cleared by null, everything else stays. */
    assert_int_equal(norm(EC_KIND_SITE, "{\"name\":\"B\",\"city\":null}", base, &doc, &idx, &err), EC_OK);
    assert_non_null(strstr(doc.data, "\"name\":\"B\""));
    assert_null(strstr(doc.data, "Koeln"));
    assert_non_null(strstr(doc.data, "\"operator_id\":\"op\""));
    assert_non_null(strstr(doc.data, "\"last_updated\":\"2025-12-01T00:00:00Z\""));
    assert_string_equal(idx.operator_id, "op");
    assert_string_equal(idx.standards, ",MCS,");
    assert_string_equal(idx.statuses, ",AVAILABLE,");
    assert_true(idx.max_power_w == 1000000 && idx.truck == 1);
    assert_int_equal(idx.n_refs, 1);
    assert_int_equal(idx.refs[0].kind, EC_KIND_ORGANISATION);
    /* A required field may not be nulled, and is satisfied by the base. */
    assert_int_equal(norm(EC_KIND_SITE, "{\"name\":null}", base, &doc, &idx, &err), EC_EINVAL);
    assert_string_equal(err.code, "missing_field");
    assert_int_equal(norm(EC_KIND_SITE, "{}", base, &doc, &idx, &err), EC_OK);
    ec_buf_free(&doc);
}

static void test_other_kinds(void **state)
{
    (void)state;
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_reg_index_t idx;
    ec_reg_error_t err;
    assert_int_equal(norm(EC_KIND_ORGANISATION, "{\"name\":\"O\",\"kind\":\"bank\"}", NULL, &doc, &idx, &err), EC_EINVAL);
    assert_string_equal(err.field, "kind");
    assert_int_equal(norm(EC_KIND_SUBSTATION, "{\"name\":\"S\",\"capacity_kw\":-1}", NULL, &doc, &idx, &err), EC_EINVAL);
    assert_int_equal(norm(EC_KIND_SUBSTATION, "{\"name\":\"S\",\"capacity_kw\":4000,\"base_load_kw\":[1,2,3]}", NULL, &doc,
                          &idx, &err),
                     EC_OK);
    assert_non_null(strstr(doc.data, "\"interval_s\":3600"));
    assert_int_equal(norm(EC_KIND_RENEWABLE, "{\"name\":\"PV\",\"kind\":\"solar\",\"capacity_kw\":5,\"profile\":[0,0.5,1.5]}",
                          NULL, &doc, &idx, &err),
                     EC_EINVAL);
    assert_string_equal(err.field, "profile[2]");
    assert_int_equal(norm(EC_KIND_TARIFF, "{\"currency\":\"EUR\",\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
                                          "\"price\":0.45}]}],\"site_id\":\"x\"}",
                          NULL, &doc, &idx, &err),
                     EC_OK);
    assert_int_equal(idx.n_refs, 1);
    assert_int_equal(idx.refs[0].kind, EC_KIND_SITE);
    assert_int_equal(norm(EC_KIND_TARIFF, "{\"currency\":\"EUR\"}", NULL, &doc, &idx, &err), EC_EINVAL);
    assert_string_equal(err.field, "elements");
    ec_buf_free(&doc);
}

/* ---- store --------------------------------------------------------------- */

static char db_path[256];

static ec_store *temp_store(void)
{
    snprintf(db_path, sizeof db_path, "/tmp/ec_test_register_%d.db", (int)getpid());
    unlink(db_path);
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    unlink(wal);
    ec_store *s = NULL;
    assert_int_equal(ec_store_open(db_path, &s), EC_OK);
    return s;
}

static void drop_store(ec_store *s)
{
    ec_store_close(s);
    char p[300];
    unlink(db_path);
    snprintf(p, sizeof p, "%s-wal", db_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db_path);
    unlink(p);
}

typedef struct {
    char ids[400][EC_REG_ID_MAX + 1];
    int n;
} collected;

static ec_err collect(void *ctx, const char *doc, size_t len)
{
    collected *c = ctx;
    ec_json *j;
    assert_int_equal(ec_json_load_buf(doc, len, "row", &j), EC_OK);
    snprintf(c->ids[c->n++], EC_REG_ID_MAX + 1, "%s", ec_json_str(ec_json_get(j, "id")));
    ec_json_free(j);
    return EC_OK;
}

static const char *const stds[] = {"MCS", "IEC_62196_T2_COMBO", "IEC_62196_T2", "CHADEMO"};
static const char *const sts[] = {"AVAILABLE", "CHARGING", "OUTOFORDER"};

typedef struct {
    double lat, lon, power_w;
    int std, status, truck, op;
} site_spec;

/* The list filters against an independent check of every site. */
/* Chargers and tokens are register kinds too: their bodies are checked by
 * their field tables (ec_reg_check), case by case, code and field. */
static void test_charger_token_kinds(void **state)
{
    (void)state;
    static const struct {
        ec_kind k;
        const char *body, *code, *field;
    } cases[] = {
        {EC_KIND_CHARGER, "{\"id\":\"CP-1\",\"operator_id\":\"op\",\"connectors\":2,\"evse_uids\":[\"E1\",\"E2\"],"
                          "\"charging_rate_unit\":\"A\",\"voltage_v\":230,\"phases\":3,\"security_profile\":2,"
                          "\"password\":\"12345678\",\"name\":\"Bay\",\"site_id\":\"s1\"}", "", ""},
        {EC_KIND_CHARGER, "{\"id\":\"CP 1\"}", "invalid_field", "id"},
        {EC_KIND_CHARGER, "{\"id\":\"\"}", "invalid_field", "id"},
        {EC_KIND_CHARGER, "{\"password\":\"short\"}", "invalid_field", "password"},
        {EC_KIND_CHARGER, "{\"connectors\":17}", "invalid_field", "connectors"},
        {EC_KIND_CHARGER, "{\"connectors\":1.5}", "wrong_type", "connectors"},
        {EC_KIND_CHARGER, "{\"charging_rate_unit\":\"kW\"}", "invalid_field", "charging_rate_unit"},
        {EC_KIND_CHARGER, "{\"evse_uids\":[1]}", "wrong_type", "evse_uids[0]"},
        {EC_KIND_CHARGER, "{\"phases\":null}", "wrong_type", "phases"},
        {EC_KIND_CHARGER, "{\"last_updated\":\"2026-01-01T00:00:00Z\"}", "unknown_field", "last_updated"},
        {EC_KIND_CHARGER, "{\"colour\":\"red\"}", "unknown_field", "colour"},
        {EC_KIND_TOKEN, "{\"uid\":\"DE*ABC*C1234*X\",\"issuer_id\":\"f\",\"valid\":true,\"max_concurrent\":2,"
                        "\"expiry\":\"2099-12-31T23:59:59Z\",\"group_id\":\"g\",\"type\":\"RFID\"}", "", ""},
        {EC_KIND_TOKEN, "{\"uid\":\"a/b\"}", "invalid_field", "uid"},
        {EC_KIND_TOKEN, "{\"uid\":\"TOOLONG-TOKEN-ID-OVER-20\"}", "invalid_field", "uid"},
        {EC_KIND_TOKEN, "{\"expiry\":\"1999-12-31T23:59:59Z\"}", "invalid_field", "expiry"},
        {EC_KIND_TOKEN, "{\"expiry\":\"tomorrow\"}", "invalid_field", "expiry"},
        {EC_KIND_TOKEN, "{\"valid\":\"yes\"}", "wrong_type", "valid"},
        {EC_KIND_TOKEN, "{\"type\":\"\"}", "invalid_field", "type"},
        {EC_KIND_TOKEN, "{\"id\":\"x\"}", "unknown_field", "id"},
        {EC_KIND_TOKEN, "{\"max_concurrent\":101}", "invalid_field", "max_concurrent"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ec_json *in = js(cases[i].body);
        ec_reg_error_t err;
        ec_err rc = ec_reg_check(cases[i].k, in, &err);
        if (!cases[i].code[0] && rc) fail_msg("case %zu: %s: %s", i, err.field, err.message);
        if (cases[i].code[0]) {
            if (rc != EC_EINVAL || strcmp(err.code, cases[i].code) || strcmp(err.field, cases[i].field))
                fail_msg("case %zu: want %s at %s, got %d %s at %s", i, cases[i].code, cases[i].field, rc, err.code,
                         err.field);
        }
        ec_json_free(in);
    }
    /* A name: they have the register's, not its generic API or store table. */
    assert_string_equal(ec_kind_name(EC_KIND_CHARGER), "chargers");
    assert_string_equal(ec_kind_name(EC_KIND_TOKEN), "tokens");
    ec_kind k;
    assert_int_equal(ec_kind_parse("tokens", &k), -1);
    assert_int_equal(ec_kind_parse("tariffs", &k), 0);
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_reg_index_t idx;
    ec_reg_error_t err;
    assert_int_equal(norm(EC_KIND_TOKEN, "{\"uid\":\"A\"}", NULL, &doc, &idx, &err), EC_EINVAL);
    ec_buf_free(&doc);
}

static void test_store_filters(void **state)
{
    (void)state;
    ec_store *s = temp_store();
    enum { N = 300 };
    site_spec sp[N];
    srand(11);
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    for (int i = 0; i < N; i++) {
        site_spec *x = &sp[i];
        x->lat = 47 + (rand() % 6000) / 1000.0;
        x->lon = 5 + (rand() % 5000) / 1000.0;
        x->std = rand() % 4;
        x->status = rand() % 3;
        x->truck = rand() % 2;
        x->op = rand() % 3;
        x->power_w = (double)(50 + rand() % 950) * 1000;
        char body[1024], id[16];
        snprintf(id, sizeof id, "s%03d", i);
        snprintf(body, sizeof body,
                 "{\"name\":\"S\",\"coordinates\":{\"latitude\":\"%.3f\",\"longitude\":\"%.3f\"},%s"
                 "\"truck_access\":{\"vehicle_types\":[\"%s\"]},\"evses\":[{\"uid\":\"E\",\"status\":\"%s\","
                 "\"connectors\":[{\"id\":\"1\",\"standard\":\"%s\",\"max_electric_power\":%.0f}]}]}",
                 x->lat, x->lon, x->op ? (x->op == 1 ? "\"operator_id\":\"op1\"," : "\"operator_id\":\"op2\",") : "",
                 x->truck ? "SEMI_TRACTOR" : "VAN", sts[x->status], stds[x->std], x->power_w);
        ec_json *in = js(body);
        ec_reg_index_t idx;
        ec_reg_error_t err;
        assert_int_equal(ec_reg_normalize(EC_KIND_SITE, in, NULL, id, 0, &doc, &idx, &err), EC_OK);
        assert_int_equal(ec_store_put(s, EC_KIND_SITE, id, EC_PUT_CREATE, doc.data, &idx, NULL), EC_OK);
        ec_json_free(in);
    }
    for (int round = 0; round < 200; round++) {
        ec_store_filter_t f;
        memset(&f, 0, sizeof f);
        f.limit = -1;
        if (rand() % 2) {
            f.has_bbox = 1;
            f.min_lat = 47 + rand() % 6, f.max_lat = f.min_lat + 0.5 + rand() % 3;
            f.min_lon = 5 + rand() % 5, f.max_lon = f.min_lon + 0.5 + rand() % 3;
        }
        if (rand() % 3 == 0) f.standard = stds[rand() % 4];
        if (rand() % 3 == 0) f.status = sts[rand() % 3];
        if (rand() % 3 == 0) f.truck = 1;
        if (rand() % 3 == 0) f.min_power_w = (double)(rand() % 1000) * 1000;
        if (rand() % 4 == 0) f.operator_id = rand() % 2 ? "op1" : "op2";
        collected got = {.n = 0};
        int64_t total;
        assert_int_equal(ec_store_list(s, EC_KIND_SITE, &f, collect, &got, &total), EC_OK);
        int want = 0;
        for (int i = 0; i < N; i++) {
            const site_spec *x = &sp[i];
            int ok = (!f.has_bbox || (x->lat >= f.min_lat && x->lat <= f.max_lat && x->lon >= f.min_lon &&
                                      x->lon <= f.max_lon)) &&
                     (!f.standard || !strcmp(stds[x->std], f.standard)) &&
                     (!f.status || !strcmp(sts[x->status], f.status)) && (!f.truck || x->truck) &&
                     (x->power_w >= f.min_power_w) &&
                     (!f.operator_id || (x->op && !strcmp(f.operator_id, x->op == 1 ? "op1" : "op2")));
            if (!ok) continue;
            char id[16];
            snprintf(id, sizeof id, "s%03d", i);
            assert_true(want < got.n);
            assert_string_equal(got.ids[want], id); /* same sites, in id order */
            want++;
        }
        assert_int_equal(got.n, want);
        assert_int_equal(total, want);
        /* A page of the same list is a slice of it, with the same total. */
        f.offset = 3, f.limit = 5;
        collected page = {.n = 0};
        assert_int_equal(ec_store_list(s, EC_KIND_SITE, &f, collect, &page, &total), EC_OK);
        assert_int_equal(total, want);
        for (int i = 0; i < page.n; i++) assert_string_equal(page.ids[i], got.ids[3 + i]);
        assert_int_equal(page.n, want > 3 ? (want - 3 < 5 ? want - 3 : 5) : 0);
    }
    ec_buf_free(&doc);
    drop_store(s);
}

static void test_store_crud(void **state)
{
    (void)state;
    ec_store *s = temp_store();
    ec_buf doc, got;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_buf_init(&got, EC_REG_DOC_MAX);
    ec_json *in = js(MIN_SITE);
    ec_reg_index_t idx;
    ec_reg_error_t err;
    assert_int_equal(ec_reg_normalize(EC_KIND_SITE, in, NULL, "a", 0, &doc, &idx, &err), EC_OK);
    int64_t g0 = ec_store_generation(s);
    assert_int_equal(ec_store_put(s, EC_KIND_SITE, "a", EC_PUT_REPLACE, doc.data, &idx, NULL), EC_ENOTFOUND);
    assert_int_equal(ec_store_put(s, EC_KIND_SITE, "a", EC_PUT_CREATE, doc.data, &idx, "csv:a"), EC_OK);
    assert_true(ec_store_generation(s) != g0);
    assert_int_equal(ec_store_put(s, EC_KIND_SITE, "a", EC_PUT_CREATE, doc.data, &idx, NULL), EC_EINVAL);
    assert_int_equal(ec_store_exists(s, EC_KIND_SITE, "a"), 1);
    assert_int_equal(ec_store_exists(s, EC_KIND_TARIFF, "a"), 0); /* ids are per kind */
    assert_int_equal(ec_store_get(s, EC_KIND_SITE, "a", &got), EC_OK);
    assert_string_equal(got.data, doc.data);
    char id[40];
    ec_buf_reset(&got);
    assert_int_equal(ec_store_find_source(s, EC_KIND_SITE, "csv:a", id, sizeof id, &got), EC_OK);
    assert_string_equal(id, "a");
    /* A transaction rolled back leaves nothing. */
    assert_int_equal(ec_store_begin(s), EC_OK);
    assert_int_equal(ec_store_put(s, EC_KIND_SITE, "b", EC_PUT_CREATE, doc.data, &idx, NULL), EC_OK);
    ec_store_rollback(s);
    assert_int_equal(ec_store_exists(s, EC_KIND_SITE, "b"), 0);
    /* Referrers: a tariff naming the site. */
    ec_json *t = js("{\"currency\":\"EUR\",\"site_id\":\"a\",\"elements\":[{\"price_components\":[{\"type\":\"FLAT\",\"price\":1}]}]}");
    assert_int_equal(ec_reg_normalize(EC_KIND_TARIFF, t, NULL, "t", 0, &doc, &idx, &err), EC_OK);
    assert_int_equal(ec_store_check_refs(s, &idx, &err), EC_OK);
    assert_int_equal(ec_store_put(s, EC_KIND_TARIFF, "t", EC_PUT_CREATE, doc.data, &idx, NULL), EC_OK);
    int64_t n;
    assert_int_equal(ec_store_count_referrers(s, EC_KIND_SITE, "a", &n), EC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ec_store_delete(s, EC_KIND_SITE, "zz"), EC_ENOTFOUND);
    assert_int_equal(ec_store_delete(s, EC_KIND_TARIFF, "t"), EC_OK);
    assert_int_equal(ec_store_count_referrers(s, EC_KIND_SITE, "a", &n), EC_OK);
    assert_int_equal(n, 0);
    ec_json *bad = js("{\"currency\":\"EUR\",\"site_id\":\"nope\",\"elements\":[{\"price_components\":[{\"type\":\"FLAT\",\"price\":1}]}]}");
    assert_int_equal(ec_reg_normalize(EC_KIND_TARIFF, bad, NULL, "t2", 0, &doc, &idx, &err), EC_OK);
    assert_int_equal(ec_store_check_refs(s, &idx, &err), EC_EINVAL);
    assert_string_equal(err.field, "site_id");
    ec_json_free(in);
    ec_json_free(t);
    ec_json_free(bad);
    ec_buf_free(&doc);
    ec_buf_free(&got);
    drop_store(s);
}

static void test_store_version_and_keys(void **state)
{
    (void)state;
    ec_store *s = temp_store();
    char k[96];
    ec_key_info_t info, seen;
    assert_int_equal(ec_store_key_create(s, EC_ROLE_OPERATOR, "op-1", k, sizeof k, &info), EC_OK);
    assert_int_equal((int)strlen(k), 47);
    assert_int_equal(ec_store_key_check(s, k, &seen), EC_OK);
    assert_int_equal(seen.role, EC_ROLE_OPERATOR);
    assert_string_equal(seen.org, "op-1");
    k[10] ^= 1;
    assert_int_equal(ec_store_key_check(s, k, &seen), EC_ENOTFOUND);
    k[10] ^= 1;
    assert_int_equal(ec_store_key_revoke(s, info.id), EC_OK);
    assert_int_equal(ec_store_key_check(s, k, &seen), EC_ENOTFOUND);
    assert_int_equal(ec_store_key_revoke(s, 999), EC_ENOTFOUND);
    assert_int_equal(ec_store_key_create(s, EC_ROLE_PUBLIC, "x", k, sizeof k, &info), EC_EINVAL);
    ec_store_close(s);
    /* Reopening applies no migration twice (a newer schema is refused: the
     * server integration test writes one with Python's sqlite3). */
    ec_store *again;
    assert_int_equal(ec_store_open(db_path, &again), EC_OK);
    drop_store(again);
}

/* ---- import ---------------------------------------------------------------- */

static void load(const char *name, char **text, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", EC_FIXTURES, name);
    assert_int_equal(ec_read_file(path, 1u << 24, text, len), EC_OK);
}

/* What a test keeps of each record the importer hands over. */
typedef struct {
    int n;
    struct {
        ec_kind kind;
        char id[EC_REG_ID_MAX + 1], source[80], name[64], operator_id[40];
        size_t evses;
    } r[8];
} kept;

static ec_err keep(void *ctx, const ec_import_record_t *r)
{
    kept *k = ctx;
    if (k->n == 8) return EC_OK;
    k->r[k->n].kind = r->kind;
    snprintf(k->r[k->n].id, sizeof k->r[0].id, "%s", r->id);
    snprintf(k->r[k->n].source, sizeof k->r[0].source, "%s", r->source);
    const char *nm = ec_json_str(ec_json_get(r->input, "name"));
    const char *op = ec_json_str(ec_json_get(r->input, "operator_id"));
    snprintf(k->r[k->n].name, sizeof k->r[0].name, "%s", nm ? nm : "");
    snprintf(k->r[k->n].operator_id, sizeof k->r[0].operator_id, "%s", op ? op : "");
    k->r[k->n].evses = ec_json_array_size(ec_json_get(r->input, "evses"));
    k->n++;
    return EC_OK;
}

static ec_err refuse_second(void *ctx, const ec_import_record_t *r)
{
    (void)r;
    return ++*(int *)ctx == 2 ? ec_fail(EC_EINVAL, "the sink said no") : EC_OK;
}

static void test_import_formats(void **state)
{
    (void)state;
    char *text;
    size_t len;
    ec_import_set set;
    kept k = {0};
    load("afdc_stations.csv", &text, &len);
    assert_int_equal(ec_import_guess("x.csv", text, len), EC_IMPORT_AFDC);
    assert_int_equal(ec_import_parse(EC_IMPORT_AFDC, "afdc", text, len, NULL, keep, &k, &set), EC_OK);
    assert_int_equal(set.n_records, 3);
    assert_int_equal(k.n, 3);
    assert_int_equal(set.skipped.len, 2);
    assert_string_equal(k.r[0].id, "afdc-900001");
    assert_string_equal(k.r[0].source, "afdc:900001");
    /* 2 DC ports over the station's two DC connector kinds, then 4 level 2 ports. */
    assert_int_equal(k.r[0].evses, 6);
    assert_string_equal(k.r[1].name, "Depot, North Gate");
    ec_import_set_free(&set);
    /* A sink's error stops the reading and is returned. */
    int calls = 0;
    assert_int_equal(ec_import_parse(EC_IMPORT_AFDC, "afdc", text, len, NULL, refuse_second, &calls, &set), EC_EINVAL);
    assert_int_equal(calls, 2);
    ec_import_set_free(&set);
    ec_free(text);

    memset(&k, 0, sizeof k);
    load("register_sites.geojson", &text, &len);
    assert_int_equal(ec_import_guess("x", text, len), EC_IMPORT_GEOJSON);
    assert_int_equal(ec_import_parse(EC_IMPORT_GEOJSON, "g", text, len, "op-1", keep, &k, &set), EC_OK);
    assert_int_equal(k.n, 3);
    assert_string_equal(k.r[0].id, "KLN-TRUCK-1");
    assert_int_equal(k.r[0].evses, 6);
    assert_string_equal(k.r[0].operator_id, "op-1");
    assert_string_equal(k.r[2].id, "osm-node-12345");
    ec_import_set_free(&set);
    ec_free(text);

    load("register_bad.geojson", &text, &len);
    assert_int_equal(ec_import_parse(EC_IMPORT_GEOJSON, "bad", text, len, NULL, NULL, NULL, &set), EC_EPARSE);
    assert_non_null(strstr(ec_errmsg(), "feature 1"));
    ec_import_set_free(&set);
    ec_free(text);

    const char *ocm = "[{\"ID\":7,\"AddressInfo\":{\"Title\":\"T\",\"Latitude\":30.1,\"Longitude\":-97.1},"
                      "\"Connections\":[{\"ConnectionTypeID\":33,\"PowerKW\":150,\"Quantity\":2,\"CurrentTypeID\":30},"
                      "{\"ConnectionTypeID\":999}]},{\"ID\":8,\"AddressInfo\":{\"Latitude\":30,\"Longitude\":-97},"
                      "\"StatusTypeID\":200}]";
    memset(&k, 0, sizeof k);
    assert_int_equal(ec_import_parse(EC_IMPORT_OCM, "ocm", ocm, strlen(ocm), NULL, keep, &k, &set), EC_OK);
    assert_int_equal(k.n, 1);
    assert_int_equal(k.r[0].evses, 2);
    assert_int_equal(set.skipped.len, 2); /* the unknown connection type and the removed POI */
    ec_import_set_free(&set);
    const char *ocm_bad = "[{\"ID\":7,\"AddressInfo\":{\"Latitude\":\"north\",\"Longitude\":-97.1}}]";
    assert_int_equal(ec_import_parse(EC_IMPORT_OCM, "ocm", ocm_bad, strlen(ocm_bad), NULL, NULL, NULL, &set), EC_EPARSE);
    assert_non_null(strstr(ec_errmsg(), "record 0 (ID 7)"));
    ec_import_set_free(&set);
}

static void test_import_idempotent(void **state)
{
    (void)state;
    ec_store *s = temp_store();
    char path[512];
    snprintf(path, sizeof path, "%s/rhine_alpine/sites.csv", EC_DEMO);
    ec_import_set set;
    ec_import_summary_t sum;
    assert_int_equal(ec_store_import_file(s, path, NULL, NULL, &set, &sum, NULL), EC_OK);
    int64_t added = sum.added;
    assert_true(added > 20);
    ec_import_set_free(&set);
    assert_int_equal(ec_store_import_file(s, path, "csv", NULL, &set, &sum, NULL), EC_OK);
    assert_int_equal(sum.added, 0);
    assert_int_equal(sum.updated, 0);
    assert_int_equal(sum.unchanged, added);
    ec_import_set_free(&set);
    /* An operator that does not exist fails the whole file and stores nothing new. */
    snprintf(path, sizeof path, "%s/register_sites.geojson", EC_FIXTURES);
    assert_int_equal(ec_store_import_file(s, path, NULL, "nobody", &set, &sum, NULL), EC_EINVAL);
    assert_non_null(strstr(ec_errmsg(), "operator_id"));
    ec_import_set_free(&set);
    assert_int_equal(ec_store_exists(s, EC_KIND_SITE, "KLN-TRUCK-1"), 0);
    drop_store(s);
}

/* Names are limited in characters, not bytes; time zones, countries and
 * times of day have their shapes (issue 12, list 11). */
static void test_field_shapes(void **state)
{
    (void)state;
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_reg_index_t idx;
    ec_reg_error_t err;
    char body[4096];
    char name[1100];
    size_t n = 0;
    for (int i = 0; i < 255; i++) n += (size_t)snprintf(name + n, sizeof name - n, "\xc3\xa9"); /* é */
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\"}}", name);
    assert_int_equal(norm(EC_KIND_SITE, body, NULL, &doc, &idx, &err), EC_OK); /* 255 characters, 510 bytes */
    snprintf(body, sizeof body, "{\"name\":\"%s\xc3\xa9\",\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\"}}", name);
    assert_int_equal(norm(EC_KIND_SITE, body, NULL, &doc, &idx, &err), EC_EINVAL); /* 256 */
    assert_string_equal(err.field, "name");
    static const struct {
        const char *member;
        int ok;
    } site_cases[] = {
        {"\"time_zone\":\"Europe/Berlin\"", 1},
        {"\"time_zone\":\"America/Argentina/Buenos_Aires\"", 1},
        {"\"time_zone\":\"Etc/GMT+1\"", 1},
        {"\"time_zone\":\"UTC\"", 1},
        {"\"time_zone\":\"Mars/Olympus_Mons\"", 0},
        {"\"time_zone\":\"Berlin\"", 0},
        {"\"time_zone\":\"Europe/\"", 0},
        {"\"time_zone\":\"Europe/Berlin Mitte\"", 0},
        {"\"time_zone\":\"Europe/../../etc/passwd\"", 0},
        {"\"country\":\"DE\"", 1},
        {"\"country\":\"DEU\"", 1},
        {"\"country\":\"de\"", 0},
        {"\"country\":\"D1\"", 0},
        {"\"country\":\"D\"", 0},
        {"\"opening_times\":{\"twentyfourseven\":false,\"regular_hours\":[{\"weekday\":1,\"period_begin\":\"08:00\","
         "\"period_end\":\"23:59\"}]}", 1},
        {"\"opening_times\":{\"twentyfourseven\":false,\"regular_hours\":[{\"weekday\":1,\"period_begin\":\"99:99\","
         "\"period_end\":\"10:00\"}]}", 0},
        {"\"opening_times\":{\"twentyfourseven\":false,\"regular_hours\":[{\"weekday\":1,\"period_begin\":\"08:00\","
         "\"period_end\":\"24:00\"}]}", 0},
        {"\"opening_times\":{\"twentyfourseven\":false,\"regular_hours\":[{\"weekday\":1,\"period_begin\":\"8:00\","
         "\"period_end\":\"10:00\"}]}", 0},
        {"\"opening_times\":{\"twentyfourseven\":false,\"regular_hours\":[{\"weekday\":1,\"period_begin\":\"12:60\","
         "\"period_end\":\"13:00\"}]}", 0},
    };
    for (size_t i = 0; i < sizeof site_cases / sizeof site_cases[0]; i++) {
        snprintf(body, sizeof body, "{\"name\":\"A\",\"coordinates\":{\"latitude\":\"1\",\"longitude\":\"2\"},%s}",
                 site_cases[i].member);
        ec_err rc = norm(EC_KIND_SITE, body, NULL, &doc, &idx, &err);
        if ((rc == EC_OK) != site_cases[i].ok) fail_msg("%s: %s", site_cases[i].member, err.message);
    }
    const char *tariff = "{\"currency\":\"EUR\",\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\",\"price\":1}],"
                         "\"restrictions\":{\"start_time\":\"%s\"}}]}";
    snprintf(body, sizeof body, tariff, "23:59");
    assert_int_equal(norm(EC_KIND_TARIFF, body, NULL, &doc, &idx, &err), EC_OK);
    snprintf(body, sizeof body, tariff, "99:99");
    assert_int_equal(norm(EC_KIND_TARIFF, body, NULL, &doc, &idx, &err), EC_EINVAL);
    assert_string_equal(err.field, "elements[0].restrictions.start_time");
    ec_buf_free(&doc);
}

/* An operator's import replaces its own records only (issue 12, item 2). */
static void test_import_owner(void **state)
{
    (void)state;
    ec_store *s = temp_store();
    ec_import_set set;
    ec_import_summary_t sum;
    const char *b = "site_id,name,lat,lon,standard,power_kw,count\nB-1,B,50,8,MCS,1000,2\nB-2,B,50.1,8,MCS,1000,2\n";
    assert_int_equal(ec_store_import_text_as(s, "b", b, strlen(b), "csv", "op-b", NULL, &set, &sum, NULL), EC_EINVAL);
    ec_import_set_free(&set); /* op-b is not in the register yet */
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_reg_index_t idx;
    ec_reg_error_t err;
    for (int i = 0; i < 2; i++) {
        const char *org = i ? "{\"name\":\"B\",\"kind\":\"operator\"}" : "{\"name\":\"A\",\"kind\":\"operator\"}";
        ec_json *j = js(org);
        assert_int_equal(ec_reg_normalize(EC_KIND_ORGANISATION, j, NULL, i ? "op-b" : "op-a", 0, &doc, &idx, &err), EC_OK);
        assert_int_equal(ec_store_put(s, EC_KIND_ORGANISATION, i ? "op-b" : "op-a", EC_PUT_CREATE, doc.data, &idx, NULL), EC_OK);
        ec_json_free(j);
    }
    assert_int_equal(ec_store_import_text_as(s, "b", b, strlen(b), "csv", "op-b", NULL, &set, &sum, NULL), EC_OK);
    assert_int_equal(sum.added, 2);
    ec_import_set_free(&set);
    const char *a = "site_id,name,lat,lon,standard,power_kw,count\nA-1,A,50,8,MCS,1000,2\nB-2,X,50.1,8,MCS,1000,2\n";
    assert_int_equal(ec_store_import_text_as(s, "a", a, strlen(a), "csv", "op-a", "op-a", &set, &sum, NULL), EC_EINVAL);
    assert_int_equal(sum.refused, 1);
    assert_string_equal(sum.err.code, "forbidden");
    assert_non_null(strstr(sum.err.message, "B-2"));
    assert_non_null(strstr(ec_errmsg(), "op-b"));
    assert_int_equal(sum.added + sum.updated, 0);
    ec_import_set_free(&set);
    assert_int_equal(ec_store_exists(s, EC_KIND_SITE, "A-1"), 0);
    /* The same file from op-b itself, or an admin's for anyone, goes in. */
    assert_int_equal(ec_store_import_text_as(s, "b", b, strlen(b), "csv", "op-b", "op-b", &set, &sum, NULL), EC_OK);
    assert_int_equal(sum.unchanged, 2);
    ec_import_set_free(&set);
    assert_int_equal(ec_store_import_text_as(s, "a", a, strlen(a), "csv", "op-a", NULL, &set, &sum, NULL), EC_OK);
    assert_int_equal(sum.added, 1);
    assert_int_equal(sum.updated, 1);
    ec_import_set_free(&set);
    ec_buf_free(&doc);
    drop_store(s);
}

static double site_price(void *ctx, const char *site_id)
{
    (void)ctx;
    return strcmp(site_id, "A") ? NAN : 0.275;
}

static void test_sites_for_routing(void **state)
{
    (void)state;
    const char *sites[] = {
        "{\"id\":\"A\",\"name\":\"Site A\",\"coordinates\":{\"latitude\":\"50\",\"longitude\":\"7\"},\"evses\":["
        "{\"uid\":\"1\",\"status\":\"AVAILABLE\",\"connectors\":[{\"id\":\"1\",\"standard\":\"MCS\",\"max_electric_power\":1000000}]},"
        "{\"uid\":\"2\",\"status\":\"CHARGING\",\"connectors\":[{\"id\":\"1\",\"standard\":\"MCS\",\"max_electric_power\":1000000}]},"
        "{\"uid\":\"3\",\"status\":\"OUTOFORDER\",\"connectors\":[{\"id\":\"1\",\"standard\":\"MCS\",\"max_electric_power\":1000000}]},"
        "{\"uid\":\"4\",\"status\":\"AVAILABLE\",\"connectors\":[{\"id\":\"1\",\"standard\":\"IEC_62196_T2_COMBO\","
        "\"max_electric_power\":400000,\"tariff_ids\":[\"T2\"]}]},"
        "{\"uid\":\"5\",\"status\":\"AVAILABLE\",\"connectors\":[{\"id\":\"1\",\"standard\":\"DOMESTIC_F\",\"max_electric_power\":3700}]}]}",
    };
    const char *tariffs[] = {
        "{\"id\":\"T1\",\"currency\":\"EUR\",\"site_id\":\"A\",\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.45},"
        "{\"type\":\"TIME\",\"price\":6}]}]}",
        "{\"id\":\"T2\",\"currency\":\"EUR\",\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.39}]}]}",
    };
    ec_sites out;
    assert_int_equal(ec_reg_sites_for_routing(sites, 1, tariffs, 2, &out), EC_OK);
    assert_int_equal(out.n, 2);
    assert_int_equal(out.groups[0].standard, EC_PLUG_MCS);
    assert_int_equal(out.groups[0].count, 2); /* out of order left out */
    assert_int_equal(out.groups[0].available, 1);
    assert_int_equal(out.groups[0].price_per_kwh, 4500);
    assert_int_equal(out.groups[0].price_per_min, 1000); /* 6 per hour */
    assert_int_equal(out.groups[1].standard, EC_PLUG_CCS2);
    assert_int_equal(out.groups[1].price_per_kwh, 3900); /* the connector's own tariff */
    assert_string_equal(out.currency, "EUR");
    ec_sites_free(&out);
    /* A dynamic tariff: its margin on the site's dynamic price; the caller learns the prices age. */
    const char *dyn_tariffs[] = {
        "{\"id\":\"T1\",\"currency\":\"EUR\",\"site_id\":\"A\",\"dynamic\":true,\"elements\":[{\"price_components\":["
        "{\"type\":\"ENERGY\",\"price\":0.05}]}]}",
        tariffs[1],
    };
    int used = 0;
    assert_int_equal(ec_reg_sites_for_routing_priced(sites, 1, dyn_tariffs, 2, site_price, NULL, &out, &used), EC_OK);
    assert_int_equal(used, 1);
    assert_int_equal(out.groups[0].price_per_kwh, 500 + 2750); /* 0.05 + 0.275 at site A */
    assert_int_equal(out.groups[1].price_per_kwh, 3900);       /* not dynamic */
    ec_sites_free(&out);
    assert_int_equal(ec_reg_sites_for_routing_priced(sites, 1, tariffs, 2, site_price, NULL, &out, &used), EC_OK);
    assert_int_equal(used, 0);
    ec_sites_free(&out);
}

/* The map's rule: the best state any EVSE offers, worked out by hand per case. */
static void test_site_state(void **state)
{
    (void)state;
    static const struct {
        const char *doc, *want;
    } cases[] = {
        {"{\"evses\":[{\"status\":\"OUTOFORDER\"},{\"status\":\"AVAILABLE\"}]}", "available"},
        {"{\"evses\":[{\"status\":\"CHARGING\"},{\"status\":\"OUTOFORDER\"}]}", "charging"},
        {"{\"evses\":[{\"status\":\"RESERVED\"},{\"status\":\"INOPERATIVE\"}]}", "charging"},
        {"{\"evses\":[{\"status\":\"BLOCKED\"}]}", "charging"},
        {"{\"evses\":[{\"status\":\"OUTOFORDER\"},{\"status\":\"UNKNOWN\"}]}", "out_of_order"},
        {"{\"evses\":[{\"status\":\"INOPERATIVE\"}]}", "out_of_order"},
        {"{\"evses\":[{\"status\":\"UNKNOWN\"},{\"status\":\"PLANNED\"},{\"status\":\"REMOVED\"},{}]}", "unknown"},
        {"{\"evses\":[]}", "unknown"},
        {"{\"name\":\"no evses\"}", "unknown"},
        {"[1,2]", "unknown"},
        {"{\"evses\":{\"status\":\"AVAILABLE\"}}", "unknown"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ec_json *j = NULL;
        assert_int_equal(ec_json_load_buf(cases[i].doc, strlen(cases[i].doc), "case", &j), EC_OK);
        assert_string_equal(ec_reg_site_state(j), cases[i].want);
        ec_json_free(j);
    }
    assert_string_equal(ec_reg_site_state(NULL), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_site_defaults),       cmocka_unit_test(test_site_errors),
        cmocka_unit_test(test_patch_merge),         cmocka_unit_test(test_other_kinds), cmocka_unit_test(test_charger_token_kinds),
        cmocka_unit_test(test_store_filters),       cmocka_unit_test(test_store_crud),
        cmocka_unit_test(test_store_version_and_keys), cmocka_unit_test(test_site_state), cmocka_unit_test(test_import_formats),
        cmocka_unit_test(test_import_idempotent),   cmocka_unit_test(test_sites_for_routing),
        cmocka_unit_test(test_field_shapes),        cmocka_unit_test(test_import_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

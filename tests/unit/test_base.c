/* test_base.c - errors, allocation, buffers, containers, CSV, JSON, time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_json.h"

#include <string.h>

static void test_strerror(void **state)
{
    (void)state;
    for (int e = 0; e < EC_ERR_COUNT; e++) assert_non_null(ec_strerror((ec_err)e));
    assert_string_equal(ec_strerror(EC_ENOMEM), "out of memory");
    assert_string_equal(ec_strerror((ec_err)999), "unknown error");
    assert_int_equal(ec_fail(EC_EPARSE, "x:%d: bad", 3), EC_EPARSE);
    assert_string_equal(ec_errmsg(), "x:3: bad");
}

/* ec_errmsg and ec_errmsg_of do what ec_base.h says. */
static void test_errmsg(void **state)
{
    (void)state;
    ec_errclear();
    assert_string_equal(ec_errmsg(), "no details");
    assert_string_equal(ec_errmsg_of(EC_ENOMEM), "out of memory");
    assert_string_equal(ec_errmsg_of(EC_EPARSE), "malformed input");
    ec_fail(EC_EPARSE, "in.csv:%d: expected a number", 4);
    assert_string_equal(ec_errmsg(), "in.csv:4: expected a number");
    assert_string_equal(ec_errmsg_of(EC_EPARSE), "in.csv:4: expected a number");
    /* A later failure of another kind that left no message does not borrow this one. */
    assert_string_equal(ec_errmsg_of(EC_ENOMEM), "out of memory");
    assert_string_equal(ec_errmsg_of((ec_err)999), "unknown error");
    ec_errclear();
    assert_string_equal(ec_errmsg(), "no details");
    assert_string_equal(ec_errmsg_of(EC_EPARSE), "malformed input");
    /* The message is the calling thread's own (it is thread-local): a long one is cut, not overrun. */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ec_fail(EC_ELIMIT, "%s", big);
    assert_int_equal(strlen(ec_errmsg()), 1023);
    ec_errclear();
}

static void test_alloc_counts_and_fails(void **state)
{
    (void)state;
    ec_alloc_stats_t a = ec_alloc_stats();
    void *p = ec_malloc(10);
    char *s = ec_strdup("abc");
    ec_free(p);
    ec_free(s);
    ec_alloc_stats_t b = ec_alloc_stats();
    assert_int_equal(b.allocs - a.allocs, 2);
    assert_int_equal(b.frees - a.frees, 2);
    ec_alloc_fail_after(1);
    p = ec_malloc(1);
    assert_non_null(p);
    assert_null(ec_malloc(1));
    assert_null(ec_calloc(1, 1));
    ec_alloc_fail_after(-1);
    ec_free(p);
}

static void test_buf_limit(void **state)
{
    (void)state;
    ec_buf b;
    ec_buf_init(&b, 8);
    assert_int_equal(ec_buf_puts(&b, "abcd"), EC_OK);
    assert_int_equal(ec_buf_printf(&b, "%d", 1234), EC_OK);
    assert_string_equal(b.data, "abcd1234");
    assert_int_equal(ec_buf_puts(&b, "x"), EC_ELIMIT);
    assert_int_equal(b.len, 8); /* unchanged by the refused append */
    ec_buf_reset(&b);
    assert_int_equal(b.len, 0);
    ec_buf_free(&b);
}

/* The first failure sticks: a short append that would fit after a refused
 * long one is refused too, so the text is never a document with a hole. */
static void test_buf_first_failure_sticks(void **state)
{
    (void)state;
    ec_buf b;
    ec_buf_init(&b, 8);
    assert_int_equal(ec_buf_error(&b), EC_OK);
    assert_int_equal(ec_buf_puts(&b, "abc"), EC_OK);
    assert_int_equal(ec_buf_puts(&b, "too long"), EC_ELIMIT);
    assert_int_equal(ec_buf_error(&b), EC_ELIMIT);
    assert_int_equal(ec_buf_puts(&b, "d"), EC_ELIMIT); /* it would fit, but the text has a hole */
    assert_int_equal(ec_buf_printf(&b, "%d", 1), EC_ELIMIT);
    assert_int_equal(ec_buf_append(&b, "", 0), EC_ELIMIT);
    assert_string_equal(b.data, "abc");
    /* A printf too long for the buffer fails before it copies anything. */
    ec_buf_reset(&b);
    assert_int_equal(ec_buf_error(&b), EC_OK);
    assert_int_equal(ec_buf_printf(&b, "%300s", "x"), EC_ELIMIT);
    assert_int_equal(b.len, 0);
    ec_buf_free(&b);
    assert_int_equal(ec_buf_error(&b), EC_OK);

    /* An allocation failure sticks the same way, and the first error wins. */
    ec_buf_init(&b, 1024);
    ec_alloc_fail_after(0);
    assert_int_equal(ec_buf_puts(&b, "x"), EC_ENOMEM);
    ec_alloc_fail_after(-1);
    assert_int_equal(ec_buf_puts(&b, "x"), EC_ENOMEM);
    assert_int_equal(ec_buf_puts(&b, "this is longer than the 1024 bytes? no"), EC_ENOMEM);
    assert_int_equal(ec_buf_error(&b), EC_ENOMEM);
    ec_buf_reset(&b);
    assert_int_equal(ec_buf_puts(&b, "x"), EC_OK);
    assert_string_equal(b.data, "x");
    ec_buf_free(&b);
}

/* ec_jw_finish reports what the unchecked writing calls could not. */
static void test_json_writer_finish(void **state)
{
    (void)state;
    ec_buf b;
    ec_jw w;
    ec_buf_init(&b, 1024);
    ec_jw_init(&w, &b);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "a");
    ec_jw_int(&w, 1);
    ec_jw_obj_end(&w);
    assert_int_equal(ec_jw_finish(&w), EC_OK);
    assert_string_equal(b.data, "{\"a\":1}");

    /* Cut short by the limit: the finish says so, though every call returned. */
    ec_buf_free(&b);
    ec_buf_init(&b, 16);
    ec_jw_init(&w, &b);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "name");
    ec_jw_str(&w, "a string longer than the buffer");
    ec_jw_key(&w, "n"); /* would fit after the refused string */
    ec_jw_int(&w, 1);
    ec_jw_obj_end(&w);
    assert_int_equal(ec_jw_finish(&w), EC_ELIMIT);
    assert_string_equal(b.data, "{\"name\":\""); /* not JSON: never to be sent */

    /* Out of memory part way. */
    ec_buf_free(&b);
    ec_buf_init(&b, 1 << 20);
    ec_jw_init(&w, &b);
    ec_jw_arr_begin(&w);
    ec_alloc_fail_after(0);
    for (int i = 0; i < 100; i++) ec_jw_str(&w, "0123456789");
    ec_alloc_fail_after(-1);
    ec_jw_arr_end(&w);
    assert_int_equal(ec_jw_finish(&w), EC_ENOMEM);

    /* Misuse: left open, a key without a value, a close without an open. */
    ec_buf_reset(&b);
    ec_jw_init(&w, &b);
    ec_jw_obj_begin(&w);
    assert_int_equal(ec_jw_finish(&w), EC_EINVAL);
    assert_non_null(strstr(ec_errmsg(), "1 level(s) open"));
    ec_jw_key(&w, "k");
    ec_jw_obj_end(&w);
    assert_int_equal(ec_jw_finish(&w), EC_EINVAL);
    ec_buf_reset(&b);
    ec_jw_init(&w, &b);
    ec_jw_arr_begin(&w);
    ec_jw_arr_end(&w);
    ec_jw_arr_end(&w);
    assert_int_equal(ec_jw_finish(&w), EC_EINVAL);
    assert_string_equal(b.data, "[]");
    /* Nesting past the 63 levels the comma bits can tell apart. */
    ec_buf_reset(&b);
    ec_jw_init(&w, &b);
    for (int i = 0; i < 64; i++) ec_jw_arr_begin(&w);
    for (int i = 0; i < 64; i++) ec_jw_arr_end(&w);
    assert_int_equal(ec_jw_finish(&w), EC_EINVAL);
    /* Values side by side at the top level are a list's elements (the API
     * writes a page that way), not misuse. */
    ec_buf_reset(&b);
    ec_jw_init(&w, &b);
    ec_jw_int(&w, 1);
    ec_jw_int(&w, 2);
    assert_int_equal(ec_jw_finish(&w), EC_OK);
    assert_string_equal(b.data, "1,2");
    ec_buf_free(&b);
}

static void test_vec_and_map(void **state)
{
    (void)state;
    ec_vec v;
    ec_vec_init(&v, sizeof(int));
    for (int i = 0; i < 1000; i++) assert_int_equal(ec_vec_push(&v, &i), EC_OK);
    assert_int_equal(v.len, 1000);
    assert_int_equal(EC_VEC_AT(&v, int, 999), 999);
    ec_vec_free(&v);
    ec_map m;
    assert_int_equal(ec_map_init(&m, 4), EC_OK);
    for (uint64_t k = 0; k < 50000; k++) assert_int_equal(ec_map_put(&m, k * 7919, k), EC_OK);
    uint64_t val;
    for (uint64_t k = 0; k < 50000; k++) {
        assert_true(ec_map_get(&m, k * 7919, &val));
        assert_int_equal(val, k);
    }
    assert_false(ec_map_get(&m, 3, &val));
    ec_map_put(&m, 7919, 42);
    assert_true(ec_map_get(&m, 7919, &val));
    assert_int_equal(val, 42);
    assert_int_equal(m.len, 50000);
    ec_map_free(&m);
}

static void test_csv_rfc4180(void **state)
{
    (void)state;
    const char *src = "a,b,c\r\n1,\"x, \"\"y\"\"\",\n\n\"multi\nline\",2,3";
    ec_csv r;
    ec_csv_init(&r, "t.csv", src, strlen(src), ',');
    assert_int_equal(ec_csv_next(&r), EC_OK);
    assert_int_equal(r.nfields, 3);
    assert_int_equal(ec_csv_find(&r, "c"), 2);
    assert_int_equal(ec_csv_find(&r, "z"), -1);
    assert_int_equal(ec_csv_next(&r), EC_OK);
    assert_string_equal(r.fields[1], "x, \"y\"");
    assert_string_equal(r.fields[2], "");
    assert_int_equal(ec_csv_next(&r), EC_OK);
    assert_string_equal(r.fields[0], "multi\nline");
    assert_int_equal(ec_csv_next(&r), EC_EOF);
    ec_csv_free(&r);
}

static void test_csv_errors_name_line_and_column(void **state)
{
    (void)state;
    const char *bad[] = {"a,b\n1,\"open", "a,b\n1,x\"y", "a\n\"q\"x"};
    const char *want[] = {"t.csv:2:3: unterminated", "t.csv:2:4: quote inside",
                          "t.csv:2:4: unexpected character"};
    for (int i = 0; i < 3; i++) {
        ec_csv r;
        ec_csv_init(&r, "t.csv", bad[i], strlen(bad[i]), ',');
        assert_int_equal(ec_csv_next(&r), EC_OK);
        assert_int_equal(ec_csv_next(&r), EC_EPARSE);
        assert_non_null(strstr(ec_errmsg(), want[i]));
        ec_csv_free(&r);
    }
    /* Too many fields is refused, not truncated. */
    char many[2000];
    size_t n = 0;
    for (int i = 0; i < 300; i++) many[n++] = 'x', many[n++] = ',';
    many[n] = '\0';
    ec_csv r;
    ec_csv_init(&r, "m.csv", many, n, ',');
    assert_int_equal(ec_csv_next(&r), EC_ELIMIT);
    ec_csv_free(&r);
}

static void test_json_read_and_write(void **state)
{
    (void)state;
    ec_json *j;
    assert_int_equal(ec_json_load_str("{\"a\": 1.5, \"s\": \"x\", \"b\": true}", "t", &j), EC_OK);
    double d = 0;
    const char *s = NULL;
    int b = 0;
    assert_int_equal(ec_json_get_number(j, "a", 1, "t", &d), EC_OK);
    assert_true(d == 1.5);
    assert_int_equal(ec_json_get_string(j, "s", 1, "t", &s), EC_OK);
    assert_string_equal(s, "x");
    assert_int_equal(ec_json_get_bool(j, "b", 1, "t", &b), EC_OK);
    assert_int_equal(b, 1);
    assert_int_equal(ec_json_get_number(j, "s", 1, "t", &d), EC_EPARSE);
    assert_non_null(strstr(ec_errmsg(), "\"s\" must be a number"));
    assert_int_equal(ec_json_get_number(j, "zz", 1, "t", &d), EC_EPARSE);
    assert_int_equal(ec_json_get_number(j, "zz", 0, "t", &d), EC_OK);
    ec_json_free(j);
    assert_int_equal(ec_json_load_str("{\n  \"a\": }", "f.json", &j), EC_EPARSE);
    assert_non_null(strstr(ec_errmsg(), "f.json:2:"));

    ec_buf out;
    ec_buf_init(&out, 1024);
    ec_jw w;
    ec_jw_init(&w, &out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "q\"k");
    ec_jw_str(&w, "a\nb");
    ec_jw_key(&w, "arr");
    ec_jw_arr_begin(&w);
    ec_jw_int(&w, 1);
    ec_jw_num(&w, 2.25, 2);
    ec_jw_null(&w);
    ec_jw_arr_end(&w);
    ec_jw_obj_end(&w);
    assert_string_equal(out.data, "{\"q\\\"k\":\"a\\nb\",\"arr\":[1,2.25,null]}");
    /* What the writer writes, the reader reads. */
    assert_int_equal(ec_json_load_str(out.data, "w", &j), EC_OK);
    ec_json_free(j);
    ec_buf_free(&out);
}

/* Strings that are not UTF-8 still make valid JSON: the bad bytes become U+FFFD,
 * good multi-byte characters pass through, and jansson reads the result back. */
static void test_json_writer_utf8(void **state)
{
    (void)state;
    ec_buf b;
    ec_buf_init(&b, 1024);
    ec_jw w;
    ec_jw_init(&w, &b);
    ec_jw_arr_begin(&w);
    ec_jw_str(&w, "K\xc3\xb6ln");         /* Koeln with an o-umlaut */
    ec_jw_str(&w, "a\x8d" "b");            /* a lone continuation byte */
    ec_jw_str(&w, "\xc0\xaf");            /* an overlong '/' */
    ec_jw_str(&w, "\xed\xa0\x80");        /* a UTF-16 surrogate */
    ec_jw_str(&w, "\xe2\x82");            /* cut short */
    ec_jw_arr_end(&w);
    assert_string_equal(b.data, "[\"K\xc3\xb6ln\",\"a\\ufffdb\",\"\\ufffd\\ufffd\",\"\\ufffd\\ufffd\\ufffd\","
                                "\"\\ufffd\\ufffd\"]");
    ec_json *j;
    assert_int_equal(ec_json_load_buf(b.data, b.len, "t", &j), EC_OK);
    assert_int_equal(ec_json_array_size(j), 5);
    ec_json_free(j);
    ec_buf_free(&b);
}

static void test_time_and_numbers(void **state)
{
    (void)state;
    char s[32];
    ec_time_format_iso(1700000000, s, sizeof s);
    assert_string_equal(s, "2023-11-14T22:13:20Z");
    double d;
    int64_t i;
    assert_int_equal(ec_parse_double("1.25", &d), 0);
    assert_int_not_equal(ec_parse_double("1.25x", &d), 0);
    assert_int_not_equal(ec_parse_double("nan", &d), 0);
    assert_int_not_equal(ec_parse_double("", &d), 0);
    assert_int_equal(ec_parse_i64("-42", &i), 0);
    assert_int_equal(i, -42);
    assert_int_not_equal(ec_parse_i64("99999999999999999999", &i), 0);
    assert_true(ec_time_mono_ns() > 0);
    /* RFC 3339 as OCPP and the API accept it, and the shorter form the CLI takes;
     * every time the first accepts the second reads back the same. */
    static const struct {
        const char *s;
        int64_t t; /* -1: refused by both */
        int rfc;   /* accepted by ec_time_parse_rfc3339 */
    } cases[] = {
        {"2026-01-01T00:00:00Z", 1767225600, 1},      {"2026-01-01T01:00:00+01:00", 1767225600, 1},
        {"2025-12-31t23:30:00.999-00:30", 1767225600, 1}, {"2026-01-01t00:00:00z", 1767225600, 1},
        {"2024-02-29T00:00:00Z", 1709164800, 1},      {"2023-02-29T00:00:00Z", -1, 0},
        {"2100-02-29T00:00:00Z", -1, 0},              {"2000-02-29T00:00:00Z", 951782400, 1},
        {"2026-01-01T00:00", 1767225600, 0},          {"2026-01-01T00:00:00", 1767225600, 0},
        {"2026-01-01T24:00:00Z", -1, 0},              {"2026-01-01T00:00:00+1:00", -1, 0},
        {"2026-01-01T00:00:00.Z", -1, 0},             {"2026-13-01T00:00:00Z", -1, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int64_t a = -7, b = -7;
        int ra = ec_time_parse_rfc3339(cases[k].s, &a), rb = ec_time_parse_iso(cases[k].s, &b);
        if ((ra == 0) != cases[k].rfc || (rb == 0) != (cases[k].t >= 0) || (cases[k].t >= 0 && b != cases[k].t) ||
            (ra == 0 && a != b))
            fail_msg("%s: rfc3339 %d (%lld), iso %d (%lld)", cases[k].s, ra, (long long)a, rb, (long long)b);
    }
}

static void test_read_file_limit(void **state)
{
    (void)state;
    char *text;
    size_t len;
    assert_int_equal(ec_read_file("/nonexistent/x", 100, &text, &len), EC_EIO);
    assert_non_null(strstr(ec_errmsg(), "/nonexistent/x"));
    assert_int_equal(ec_read_file(EC_DEMO "/rhine_alpine/segments.csv", 10, &text, &len), EC_ELIMIT);
    assert_int_equal(ec_read_file(EC_DEMO "/rhine_alpine/segments.csv", 1 << 20, &text, &len), EC_OK);
    assert_true(len > 100);
    ec_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_errmsg),
        cmocka_unit_test(test_alloc_counts_and_fails),
        cmocka_unit_test(test_buf_limit),
        cmocka_unit_test(test_buf_first_failure_sticks),
        cmocka_unit_test(test_json_writer_finish),
        cmocka_unit_test(test_vec_and_map),
        cmocka_unit_test(test_csv_rfc4180),
        cmocka_unit_test(test_csv_errors_name_line_and_column),
        cmocka_unit_test(test_json_read_and_write),
        cmocka_unit_test(test_json_writer_utf8),
        cmocka_unit_test(test_time_and_numbers),
        cmocka_unit_test(test_read_file_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_grid_history.c - the hub's ring of minutes per substation against a
 * plain list kept here: growth, the oldest dropped past a week, the window
 * asked for, a minute sampled twice, the bound on substations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/grid_history.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    int64_t t[HISTORY_KEEP + 8];
    float v[HISTORY_KEEP + 8];
    size_t n;
} seen;

static void collect(void *ctx, const history_point *p)
{
    seen *s = ctx;
    assert_true(s->n < HISTORY_KEEP + 8);
    s->t[s->n] = p->t_s, s->v[s->n] = p->allocated_kw;
    s->n++;
}

static history_point at(int64_t minute, float kw)
{
    history_point p;
    memset(&p, 0, sizeof p);
    p.t_s = minute * 60, p.allocated_kw = kw;
    return p;
}

static void test_ring(void **state)
{
    (void)state;
    history *h = NULL;
    assert_int_equal(history__new(&h), EC_OK);
    static seen s;
    assert_int_equal(history__each(h, "sub-1", 0, INT64_MAX, collect, &s), EC_ENOTFOUND);
    /* A week and a half of minutes, every seventh one skipped (the hub was busy). */
    int64_t first = 29000000, total = HISTORY_KEEP * 3 / 2, kept = 0;
    for (int64_t m = first; m < first + total; m++) {
        if (m % 7 == 0) continue;
        history_point p = at(m, (float)(m - first));
        assert_int_equal(history__add(h, "sub-1", &p), EC_OK);
        kept++;
    }
    /* All that fit, newest last: the last HISTORY_KEEP of them. */
    s.n = 0;
    assert_int_equal(history__each(h, "sub-1", 0, INT64_MAX, collect, &s), EC_OK);
    assert_int_equal(s.n, HISTORY_KEEP);
    int64_t m = first + total - 1;
    for (size_t i = s.n; i-- > 0; m--) {
        while (m % 7 == 0) m--;
        assert_int_equal(s.t[i], m * 60);
        assert_true(s.v[i] == (float)(m - first));
    }
    /* A window: [from, to) by the points' times. */
    int64_t from = (first + total - 100) * 60, to = (first + total - 40) * 60;
    s.n = 0;
    history__each(h, "sub-1", from, to, collect, &s);
    size_t want = 0;
    for (int64_t x = first + total - 100; x < first + total - 40; x++) want += x % 7 != 0;
    assert_int_equal(s.n, want);
    assert_true(s.t[0] >= from && s.t[s.n - 1] < to);
    /* The same minute again replaces it; an older one is refused. */
    int64_t last = first + total - 1;
    while (last % 7 == 0) last--;
    history_point p = at(last, 123.5f);
    assert_int_equal(history__add(h, "sub-1", &p), EC_OK);
    p = at(last - 5, 1);
    assert_int_equal(history__add(h, "sub-1", &p), EC_EINVAL);
    s.n = 0;
    history__each(h, "sub-1", last * 60, INT64_MAX, collect, &s);
    assert_int_equal(s.n, 1);
    assert_true(s.v[0] == 123.5f);
    /* Another substation is its own ring; past the bound no new one is kept. */
    char id[32];
    for (int i = 1; i < HISTORY_SUBSTATIONS_MAX; i++) {
        snprintf(id, sizeof id, "sub-x%d", i);
        p = at(first, (float)i);
        assert_int_equal(history__add(h, id, &p), EC_OK);
    }
    p = at(first, 1);
    assert_int_equal(history__add(h, "one-too-many", &p), EC_ELIMIT);
    s.n = 0;
    history__each(h, "sub-x7", 0, INT64_MAX, collect, &s);
    assert_int_equal(s.n, 1);
    assert_true(s.v[0] == 7.0f);
    history__free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_ring)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* plan_share.c - the Shapley value of a cost game between jurisdictions
 * (docs/plan-economics.md).
 *
 * A coalition's cost is whatever the caller's function says (in planning: the
 * annual cost of the cheapest network serving that coalition's trucks, a MILP
 * each), so the only expensive step is asking it; both methods ask each
 * coalition at most once. */
#include "ecorridor/ec_plan.h"

#include <math.h>
#include <string.h>

#define PLAYERS_MAX 64
/* Sampling: at most this many orders, and at most this many coalition costs
 * kept (past it a coalition not yet seen is asked again each time it comes:
 * slower, never wrong). */
#define SAMPLES_MAX 1000000
#define CACHE_MAX ((size_t)1 << 20)

/* splitmix64: small, and the same sequence on every machine for a seed. */
static uint64_t next64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias (n <= 64 here, the bias would be
 * tiny, but rejection costs nothing). */
static unsigned below(uint64_t *s, unsigned n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
    do
        x = next64(s);
    while (x >= lim);
    return (unsigned)(x % n);
}

static ec_err ask(ec_plan_cost_fn cost, void *ctx, uint64_t mask, double *out)
{
    double c = 0;
    ec_err rc = cost(ctx, mask, &c);
    if (rc) return rc;
    if (!isfinite(c))
        return ec_fail(EC_ERANGE, "shapley: the cost of coalition 0x%llx is not a finite number",
                       (unsigned long long)mask);
    *out = c;
    return EC_OK;
}

/* Every coalition's cost once (2^n calls, the empty one included), then each
 * player's marginal costs weighted by |S|! (n-|S|-1)! / n!. */
static ec_err shapley_exact(int n, ec_plan_cost_fn cost, void *ctx, double *value)
{
    size_t m = (size_t)1 << n;
    double *c = ec_malloc(m * sizeof *c);
    double w[PLAYERS_MAX];
    if (!c) return EC_ENOMEM;
    for (size_t s = 0; s < m; s++) {
        ec_err rc = ask(cost, ctx, s, &c[s]);
        if (rc) {
            ec_free(c);
            return rc;
        }
    }
    /* w[s] = s! (n-1-s)! / n!, from w[0] = 1/n by w[s+1] / w[s] = (s+1) / (n-1-s). */
    w[0] = 1.0 / n;
    for (int s = 0; s + 1 < n; s++)
        w[s + 1] = w[s] * (s + 1) / (n - 1 - s);
    for (int i = 0; i < n; i++)
        value[i] = 0;
    for (size_t s = 0; s < m; s++) {
        int size = __builtin_popcountll(s);
        for (int i = 0; i < n; i++)
            if (!(s & ((size_t)1 << i))) value[i] += w[size] * (c[s | ((size_t)1 << i)] - c[s]);
    }
    ec_free(c);
    return EC_OK;
}

typedef struct {
    ec_plan_cost_fn cost;
    void *ctx;
    ec_map seen; /* coalition -> the bits of its cost */
} cache_t;

static ec_err cached(cache_t *k, uint64_t mask, double *out)
{
    uint64_t bits;
    if (ec_map_get(&k->seen, mask, &bits)) {
        memcpy(out, &bits, sizeof *out);
        return EC_OK;
    }
    ec_err rc = ask(k->cost, k->ctx, mask, out);
    if (rc) return rc;
    if (k->seen.len < CACHE_MAX) {
        memcpy(&bits, out, sizeof bits);
        if ((rc = ec_map_put(&k->seen, mask, bits))) return rc;
    }
    return EC_OK;
}

/* Random orders: in each, every player's marginal cost when it joins those
 * before it; the value is the mean over orders, its standard error the
 * sample standard deviation over sqrt(orders) (Welford's running variance).
 * The marginals of one order sum to c(N) - c(empty), so the values do too,
 * exactly up to rounding, whatever the sample. */
static ec_err shapley_sampled(int n, ec_plan_cost_fn cost, void *ctx, size_t samples, uint64_t seed,
                              double *value, double *err)
{
    cache_t k = {cost, ctx, {0}};
    double m2[PLAYERS_MAX] = {0}, empty;
    int order[PLAYERS_MAX];
    uint64_t rng = seed;
    ec_err rc = ec_map_init(&k.seen, 1024);
    if (rc) return rc;
    if ((rc = cached(&k, 0, &empty))) goto done;
    for (int i = 0; i < n; i++) {
        order[i] = i;
        value[i] = 0;
    }
    for (size_t t = 1; t <= samples; t++) {
        /* Fisher-Yates on the previous order: uniform over all n! orders. */
        for (int i = n - 1; i > 0; i--) {
            int j = (int)below(&rng, (unsigned)i + 1), x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
        uint64_t mask = 0;
        double before = empty;
        for (int i = 0; i < n; i++) {
            int p = order[i];
            double after;
            mask |= (uint64_t)1 << p;
            if ((rc = cached(&k, mask, &after))) goto done;
            double x = after - before, d = x - value[p];
            value[p] += d / (double)t;
            m2[p] += d * (x - value[p]);
            before = after;
        }
    }
    for (int i = 0; i < n; i++)
        err[i] = sqrt(m2[i] / (double)(samples - 1) / (double)samples);
done:
    ec_map_free(&k.seen);
    return rc;
}

ec_err ec_plan_shapley(int n, ec_plan_cost_fn cost, void *ctx, size_t samples, uint64_t seed,
                       ec_plan_shapley_t *out)
{
    if (n < 1 || n > PLAYERS_MAX)
        return ec_fail(EC_EINVAL, "shapley: %d players: must be 1..%d", n, PLAYERS_MAX);
    if (!cost || !out) return ec_fail(EC_EINVAL, "shapley: no cost function or no output");
    int exact = n <= EC_PLAN_SHAPLEY_EXACT_MAX;
    if (!exact && (samples < 2 || samples > SAMPLES_MAX))
        return ec_fail(EC_EINVAL, "shapley: %d players are sampled: samples %zu: must be 2..%d", n,
                       samples, SAMPLES_MAX);
    double *value = ec_calloc((size_t)n, sizeof *value), *err = ec_calloc((size_t)n, sizeof *err);
    ec_err rc = EC_ENOMEM;
    if (!value || !err) goto fail;
    rc = exact ? shapley_exact(n, cost, ctx, value)
               : shapley_sampled(n, cost, ctx, samples, seed, value, err);
    if (rc) goto fail;
    out->value = value;
    out->stderr_ = err;
    out->exact = exact;
    out->samples = exact ? 0 : samples;
    return EC_OK;
fail:
    ec_free(value);
    ec_free(err);
    return rc;
}

void ec_plan_shapley_free(ec_plan_shapley_t *s)
{
    if (!s) return;
    ec_free(s->value);
    ec_free(s->stderr_);
    memset(s, 0, sizeof *s);
}

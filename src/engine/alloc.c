/* alloc.c - the online allocation algorithms: sorting heuristics (FCFS,
 * EDF, LLF) that give each session in turn as much as still fits, and equal
 * shares by water-filling. O(n log n) a step; no allocation beyond one index
 * array per call for up to EC_ALLOC_STACK sessions. */
#include "ecorridor/ec_alloc.h"

#include <stdlib.h>
#include <string.h>

#define EC_ALLOC_STACK 4096

static const char *const names[EC_ALLOC_COUNT] = {"uncontrolled", "fcfs", "rr", "edf", "llf"};

const char *ec_alloc_algo_name(ec_alloc_algo a)
{
    return (int)a >= 0 && a < EC_ALLOC_COUNT ? names[a] : "?";
}

int ec_alloc_algo_parse(const char *s, ec_alloc_algo *out)
{
    for (int i = 0; i < EC_ALLOC_COUNT; i++)
        if (s && !strcmp(s, names[i])) {
            *out = (ec_alloc_algo)i;
            return 0;
        }
    return -1;
}

/* The most a session can use this period: its maximum, or what finishes it. */
static double cap_w(const ec_alloc_session_t *s, int64_t period_s)
{
    double need = s->remaining_wh > 0 ? s->remaining_wh * 3600.0 / (double)period_s : 0;
    return need < s->max_w ? need : s->max_w;
}

typedef struct {
    double key;
    size_t i;
} order_t;

static int by_key(const void *a, const void *b)
{
    const order_t *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i; /* stable: input order breaks ties */
}

static double sort_key(ec_alloc_algo algo, const ec_alloc_session_t *s, int64_t now_s)
{
    switch (algo) {
    case EC_ALLOC_FCFS: return (double)s->arrival_s;
    case EC_ALLOC_EDF: return (double)s->departure_s;
    case EC_ALLOC_LLF: {
        /* Laxity: time left minus the time the remaining energy takes at full power. */
        double need_s = s->max_w > 0 ? s->remaining_wh * 3600.0 / s->max_w : 0;
        return (double)(s->departure_s - now_s) - need_s;
    }
    default: return 0;
    }
}

/* Max-min fair shares: sessions asking less than an equal share get what
 * they ask; the rest split what is left equally. */
static void water_fill(const ec_alloc_session_t *s, size_t n, double limit_w, int64_t period_s, double *out,
                       order_t *ord)
{
    for (size_t i = 0; i < n; i++) ord[i] = (order_t){cap_w(&s[i], period_s), i};
    qsort(ord, n, sizeof *ord, by_key);
    double left = limit_w > 0 ? limit_w : 0;
    for (size_t k = 0; k < n; k++) {
        double share = left / (double)(n - k);
        double give = ord[k].key < share ? ord[k].key : share;
        out[ord[k].i] = give;
        left -= give;
    }
}

void ec_alloc_step(ec_alloc_algo algo, const ec_alloc_session_t *s, size_t n, double limit_w, int64_t now_s,
                   int64_t period_s, double *out_w)
{
    if (!n) return;
    if (algo == EC_ALLOC_UNCONTROLLED) {
        for (size_t i = 0; i < n; i++) out_w[i] = cap_w(&s[i], period_s);
        return;
    }
    order_t stack[EC_ALLOC_STACK], *ord = n <= EC_ALLOC_STACK ? stack : ec_malloc(n * sizeof *ord);
    if (!ord) { /* out of memory: the safe answer is nothing */
        memset(out_w, 0, n * sizeof *out_w);
        return;
    }
    if (algo == EC_ALLOC_RR) {
        water_fill(s, n, limit_w, period_s, out_w, ord);
    } else {
        for (size_t i = 0; i < n; i++) ord[i] = (order_t){sort_key(algo, &s[i], now_s), i};
        qsort(ord, n, sizeof *ord, by_key);
        double left = limit_w > 0 ? limit_w : 0;
        for (size_t k = 0; k < n; k++) {
            double want = cap_w(&s[ord[k].i], period_s);
            double give = want < left ? want : left;
            out_w[ord[k].i] = give;
            left -= give;
        }
    }
    if (ord != stack) ec_free(ord);
}

/* alloc.c - allocation wrappers: counted, and failure-injectable for tests. */
#include "ecorridor/ec_base.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long n_allocs;
static atomic_long n_frees;
static atomic_long fail_after = -1;

/* Returns 1 when the injected failure point has been reached. */
static int should_fail(void)
{
    long left = atomic_load(&fail_after);
    if (left < 0) return 0;
    if (left == 0) return 1;
    atomic_fetch_sub(&fail_after, 1);
    return 0;
}

void *ec_malloc(size_t n)
{
    if (should_fail()) return NULL;
    void *p = malloc(n ? n : 1);
    if (p) atomic_fetch_add(&n_allocs, 1);
    return p;
}

void *ec_calloc(size_t count, size_t n)
{
    if (should_fail()) return NULL;
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (p) atomic_fetch_add(&n_allocs, 1);
    return p;
}

void *ec_realloc(void *p, size_t n)
{
    if (should_fail()) return NULL;
    void *q = realloc(p, n ? n : 1);
    if (q && !p) atomic_fetch_add(&n_allocs, 1);
    return q;
}

void ec_free(void *p)
{
    if (!p) return;
    atomic_fetch_add(&n_frees, 1);
    free(p);
}

char *ec_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = ec_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

ec_err ec_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return EC_OK;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return EC_ENOMEM;
        ncap *= 2;
    }
    if (elem && ncap > SIZE_MAX / elem) return EC_ENOMEM;
    void *q = ec_realloc(*p, ncap * elem);
    if (!q) return EC_ENOMEM;
    *p = q;
    *cap = ncap;
    return EC_OK;
}

ec_alloc_stats_t ec_alloc_stats(void)
{
    ec_alloc_stats_t s = {atomic_load(&n_allocs), atomic_load(&n_frees)};
    return s;
}

void ec_alloc_fail_after(long n)
{
    atomic_store(&fail_after, n);
}

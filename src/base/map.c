/* map.c - open-addressing hash map from uint64 keys to uint64 values. */
#include "ecorridor/ec_base.h"

#include <string.h>

static uint64_t mix64(uint64_t x)
{
    /* A strong 64-bit finaliser so sequential OSM ids spread over the table. */
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

uint64_t ec_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static ec_err alloc_table(ec_map *m, size_t cap)
{
    m->keys = ec_malloc(cap * sizeof *m->keys);
    m->vals = ec_malloc(cap * sizeof *m->vals);
    m->used = ec_calloc(cap, 1);
    if (!m->keys || !m->vals || !m->used) {
        ec_free(m->keys);
        ec_free(m->vals);
        ec_free(m->used);
        m->keys = m->vals = NULL;
        m->used = NULL;
        return EC_ENOMEM;
    }
    m->cap = cap;
    return EC_OK;
}

ec_err ec_map_init(ec_map *m, size_t expect)
{
    size_t cap = 16;
    while (cap < expect * 2) cap *= 2;
    m->len = 0;
    return alloc_table(m, cap);
}

static void insert_raw(ec_map *m, uint64_t key, uint64_t val)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)mix64(key) & mask;
    while (m->used[i] && m->keys[i] != key) i = (i + 1) & mask;
    if (!m->used[i]) {
        m->used[i] = 1;
        m->keys[i] = key;
        m->len++;
    }
    m->vals[i] = val;
}

ec_err ec_map_put(ec_map *m, uint64_t key, uint64_t val)
{
    if ((m->len + 1) * 4 > m->cap * 3) {
        ec_map old = *m;
        if (alloc_table(m, old.cap * 2)) {
            *m = old;
            return EC_ENOMEM;
        }
        m->len = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.used[i]) insert_raw(m, old.keys[i], old.vals[i]);
        ec_map_free(&old);
    }
    insert_raw(m, key, val);
    return EC_OK;
}

int ec_map_get(const ec_map *m, uint64_t key, uint64_t *val)
{
    if (!m->cap) return 0;
    size_t mask = m->cap - 1;
    size_t i = (size_t)mix64(key) & mask;
    while (m->used[i]) {
        if (m->keys[i] == key) {
            if (val) *val = m->vals[i];
            return 1;
        }
        i = (i + 1) & mask;
    }
    return 0;
}

void ec_map_free(ec_map *m)
{
    ec_free(m->keys);
    ec_free(m->vals);
    ec_free(m->used);
    memset(m, 0, sizeof *m);
}

/* ocpp_auth.c - charge point passwords: how they are kept (Argon2id, with
 * the BLAKE2b hashes of older databases still read), the HTTP Basic
 * credentials of a handshake, the passwords already verified (so that a
 * reconnect is checked in microseconds on the loop instead of tens of
 * milliseconds on the worker pool) and the limits on failed attempts per
 * charge point id and per address. Nothing here touches the loop or the
 * store; ocpp.c decides each handshake with these parts. */
#include "ocpp_auth.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

/* Argon2id at 2 passes over 19 MiB: the first of OWASP's recommended
 * settings, about 28 ms on this project's reference machine (libsodium's
 * INTERACTIVE, 64 MiB, takes 95 ms). docs/ocpp.md says why not more. */
#ifndef OCPP_PWHASH_OPSLIMIT /* a benchmark may build with others, to fill the table faster */
#define OCPP_PWHASH_OPSLIMIT 2ull
#define OCPP_PWHASH_MEMLIMIT (19u << 20)
#endif
#define PWHASH_OPSLIMIT OCPP_PWHASH_OPSLIMIT
#define PWHASH_MEMLIMIT OCPP_PWHASH_MEMLIMIT

/* The verified-password cache: sets of ways, a key's set chosen by a keyed
 * hash so that no one can aim several ids at one set. */
#define CACHE_SETS 16384u
#define CACHE_WAYS 4u
/* The attempt counters, the same way. */
#define LIMIT_SETS 1024u
#define LIMIT_WAYS 4u

typedef struct {
    uint64_t tag; /* keyed hash of the charge point id; 0: empty */
    uint64_t used;
    unsigned char mac[crypto_generichash_BYTES];
} cache_entry;

typedef struct {
    uint64_t tag; /* keyed hash of "i" id or "p" peer; 0: empty */
    int64_t window_start_ms, blocked_until_ms;
    uint32_t failures, pending;
} limit_entry;

struct ocpp_auth {
    unsigned char mac_key[crypto_generichash_KEYBYTES];
    unsigned char tag_key[crypto_shorthash_KEYBYTES];
    cache_entry *cache;  /* CACHE_SETS * CACHE_WAYS */
    limit_entry *limits; /* LIMIT_SETS * LIMIT_WAYS */
    uint64_t clock;
    ocpp_auth_limits_t lim;
};

ec_err ocpp_auth__new(const ocpp_auth_limits_t *lim, ocpp_auth **out)
{
    if (sodium_init() < 0) return ec_fail(EC_EIO, "libsodium could not start");
    ocpp_auth *a = ec_calloc(1, sizeof *a);
    if (!a) return EC_ENOMEM;
    a->cache = ec_calloc((size_t)CACHE_SETS * CACHE_WAYS, sizeof *a->cache);
    a->limits = ec_calloc((size_t)LIMIT_SETS * LIMIT_WAYS, sizeof *a->limits);
    if (!a->cache || !a->limits) {
        ocpp_auth__free(a);
        return EC_ENOMEM;
    }
    randombytes_buf(a->mac_key, sizeof a->mac_key);
    randombytes_buf(a->tag_key, sizeof a->tag_key);
    ocpp_auth_limits_t d = {OCPP_AUTH_ID_FAILURES, OCPP_AUTH_PEER_FAILURES, OCPP_AUTH_WINDOW_MS,
                            OCPP_AUTH_BACKOFF_MS};
    a->lim = lim ? *lim : d;
    *out = a;
    return EC_OK;
}

void ocpp_auth__free(ocpp_auth *a)
{
    if (!a) return;
    if (a->cache) sodium_memzero(a->cache, (size_t)CACHE_SETS * CACHE_WAYS * sizeof *a->cache);
    sodium_memzero(a->mac_key, sizeof a->mac_key);
    ec_free(a->cache);
    ec_free(a->limits);
    ec_free(a);
}

/* A keyed 64-bit hash of prefix and s, never 0 (0 marks an empty slot). */
static uint64_t tag_of(const ocpp_auth *a, char prefix, const char *s, size_t n)
{
    unsigned char h[crypto_shorthash_BYTES];
    unsigned char buf[1 + 256];
    size_t len = n < 256 ? n : 256;
    buf[0] = (unsigned char)prefix;
    memcpy(buf + 1, s, len);
    crypto_shorthash(h, buf, 1 + len, a->tag_key);
    uint64_t t;
    memcpy(&t, h, sizeof t);
    return t ? t : 1;
}

uint64_t ocpp_auth__credentials_tag(const ocpp_auth *a, const char *hash, int security_profile)
{
    char s[EC_CHARGER_HASH_MAX + 8];
    int n = snprintf(s, sizeof s, "%d:%s", security_profile, hash);
    return tag_of(a, 'c', s, n < 0 ? 0 : (size_t)n < sizeof s ? (size_t)n : sizeof s - 1);
}

/* ---- hashes ------------------------------------------------------------------ */

/* The hash kept before Argon2id: BLAKE2b of a label, the id and the password. */
static void legacy_hash(const char *cp_id, const char *pw, size_t pw_len, char out[65])
{
    unsigned char h[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)"ecorridor-ocpp\n", 15);
    crypto_generichash_update(&st, (const unsigned char *)cp_id, strlen(cp_id) + 1);
    crypto_generichash_update(&st, (const unsigned char *)pw, pw_len);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(out, 65, h, sizeof h);
    sodium_memzero(h, sizeof h);
}

int ocpp_auth__is_legacy(const char *hash)
{
    if (strlen(hash) != 64) return 0;
    for (const char *c = hash; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) return 0;
    return 1;
}

ec_err ocpp_auth__hash(const char *password, size_t len, char out[EC_CHARGER_HASH_MAX])
{
    if (crypto_pwhash_str_alg(out, password, len, PWHASH_OPSLIMIT, PWHASH_MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13)) {
        out[0] = 0;
        return ec_fail(EC_ENOMEM, "the password could not be hashed (out of memory)");
    }
    return EC_OK;
}

int ocpp_auth__verify(const char *hash, const char *cp_id, const char *password, size_t len)
{
    if (ocpp_auth__is_legacy(hash)) {
        char h[65];
        legacy_hash(cp_id, password, len, h);
        int ok = sodium_memcmp(h, hash, 64) == 0;
        sodium_memzero(h, sizeof h);
        return ok;
    }
    if (strncmp(hash, "$argon2", 7)) return -1; /* nothing we wrote */
    return crypto_pwhash_str_verify(hash, password, len) == 0;
}

int ocpp_auth__needs_rehash(const char *hash)
{
    if (ocpp_auth__is_legacy(hash)) return 1;
    return crypto_pwhash_str_needs_rehash(hash, PWHASH_OPSLIMIT, PWHASH_MEMLIMIT) != 0;
}

/* ---- HTTP Basic ---------------------------------------------------------------- */

int ocpp_auth__basic(const char *authorization, const char *cp_id, char *pw, size_t pw_cap,
                     size_t *pw_len)
{
    unsigned char raw[OCPP_PASSWORD_MAX + EC_CP_ID_MAX + 2];
    size_t n = 0;
    int ok = 0;
    if (strncasecmp(authorization, "Basic ", 6) != 0) return 0;
    const char *b64 = authorization + 6;
    while (*b64 == ' ')
        b64++;
    if (sodium_base642bin(raw, sizeof raw, b64, strlen(b64), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL))
        goto done;
    /* A NUL anywhere would let "password\0junk" pass a C-string compare. */
    if (memchr(raw, 0, n)) goto done;
    const unsigned char *colon = memchr(raw, ':', n);
    if (!colon) goto done;
    size_t id_len = (size_t)(colon - raw), len = n - id_len - 1;
    if (id_len != strlen(cp_id) || sodium_memcmp(raw, cp_id, id_len) != 0) goto done;
    if (len + 1 > pw_cap) goto done;
    memcpy(pw, colon + 1, len);
    pw[len] = 0;
    *pw_len = len;
    ok = 1;
done:
    sodium_memzero(raw, sizeof raw);
    return ok;
}

/* ---- the passwords already verified ------------------------------------------- */

static void mac_of(const ocpp_auth *a, const char *cp_id, const char *hash, const char *pw,
                   size_t pw_len, unsigned char mac[crypto_generichash_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, a->mac_key, sizeof a->mac_key, crypto_generichash_BYTES);
    /* The id and the stored hash end with their NULs, so no two inputs run together. */
    crypto_generichash_update(&st, (const unsigned char *)cp_id, strlen(cp_id) + 1);
    crypto_generichash_update(&st, (const unsigned char *)hash, strlen(hash) + 1);
    crypto_generichash_update(&st, (const unsigned char *)pw, pw_len);
    crypto_generichash_final(&st, mac, crypto_generichash_BYTES);
}

static cache_entry *cache_set(const ocpp_auth *a, uint64_t tag)
{
    return a->cache + (size_t)((tag >> 32) % CACHE_SETS) * CACHE_WAYS;
}

int ocpp_auth__cached(ocpp_auth *a, const char *cp_id, const char *hash, const char *pw,
                      size_t pw_len)
{
    uint64_t tag = tag_of(a, 'i', cp_id, strlen(cp_id));
    cache_entry *set = cache_set(a, tag);
    for (unsigned i = 0; i < CACHE_WAYS; i++) {
        if (set[i].tag != tag) continue;
        unsigned char mac[crypto_generichash_BYTES];
        mac_of(a, cp_id, hash, pw, pw_len, mac);
        int ok = sodium_memcmp(mac, set[i].mac, sizeof mac) == 0;
        if (ok) set[i].used = ++a->clock;
        return ok;
    }
    return 0;
}

void ocpp_auth__remember(ocpp_auth *a, const char *cp_id, const char *hash, const char *pw,
                         size_t pw_len)
{
    uint64_t tag = tag_of(a, 'i', cp_id, strlen(cp_id));
    cache_entry *set = cache_set(a, tag), *e = NULL;
    for (unsigned i = 0; i < CACHE_WAYS && !e; i++)
        if (set[i].tag == tag) e = &set[i];
    for (unsigned i = 0; i < CACHE_WAYS && !e; i++)
        if (!set[i].tag) e = &set[i];
    if (!e) { /* the least recently used of the set goes */
        e = &set[0];
        for (unsigned i = 1; i < CACHE_WAYS; i++)
            if (set[i].used < e->used) e = &set[i];
    }
    e->tag = tag;
    e->used = ++a->clock;
    mac_of(a, cp_id, hash, pw, pw_len, e->mac);
}

void ocpp_auth__forget(ocpp_auth *a, const char *cp_id)
{
    uint64_t tag = tag_of(a, 'i', cp_id, strlen(cp_id));
    cache_entry *set = cache_set(a, tag);
    for (unsigned i = 0; i < CACHE_WAYS; i++)
        if (set[i].tag == tag) sodium_memzero(&set[i], sizeof set[i]);
}

/* ---- failed attempts ------------------------------------------------------------- */

/* The counter of key (created when create is set: NULL only when not). */
static limit_entry *limit_find(ocpp_auth *a, char kind, const char *key, int64_t now_ms, int create)
{
    uint64_t tag = tag_of(a, kind, key, strlen(key));
    limit_entry *set = a->limits + (size_t)((tag >> 32) % LIMIT_SETS) * LIMIT_WAYS;
    for (unsigned i = 0; i < LIMIT_WAYS; i++)
        if (set[i].tag == tag) {
            limit_entry *e = &set[i];
            if (now_ms - e->window_start_ms >= a->lim.window_ms) {
                e->window_start_ms = now_ms;
                e->failures = 0;
            }
            return e;
        }
    if (!create) return NULL;
    /* A slot: an empty one, else one that holds nothing back now (no block,
     * nothing pending, its window over), else the block that ends first. */
    limit_entry *e = NULL;
    for (unsigned i = 0; i < LIMIT_WAYS && !e; i++)
        if (!set[i].tag) e = &set[i];
    for (unsigned i = 0; i < LIMIT_WAYS && !e; i++)
        if (set[i].blocked_until_ms <= now_ms && !set[i].pending &&
            now_ms - set[i].window_start_ms >= a->lim.window_ms)
            e = &set[i];
    if (!e) {
        e = &set[0];
        for (unsigned i = 1; i < LIMIT_WAYS; i++)
            if (set[i].blocked_until_ms < e->blocked_until_ms) e = &set[i];
    }
    memset(e, 0, sizeof *e);
    e->tag = tag;
    e->window_start_ms = now_ms;
    return e;
}

static int limit_holds(ocpp_auth *a, char kind, const char *key, uint32_t max, int64_t now_ms)
{
    limit_entry *e = limit_find(a, kind, key, now_ms, 0);
    if (!e) return 0;
    /* Attempts still being checked count as failures until they are not, so
     * that a burst cannot start more slow checks than the limit allows. */
    return e->blocked_until_ms > now_ms || e->failures + e->pending >= max;
}

int ocpp_auth__limited(ocpp_auth *a, const char *cp_id, const char *peer, int64_t now_ms)
{
    return limit_holds(a, 'i', cp_id, a->lim.id_failures, now_ms) ||
           limit_holds(a, 'p', peer, a->lim.peer_failures, now_ms);
}

void ocpp_auth__attempt(ocpp_auth *a, const char *cp_id, const char *peer, int64_t now_ms)
{
    limit_find(a, 'i', cp_id, now_ms, 1)->pending++;
    limit_find(a, 'p', peer, now_ms, 1)->pending++;
}

static void limit_end(ocpp_auth *a, char kind, const char *key, uint32_t max, int result,
                      int64_t now_ms)
{
    limit_entry *e = limit_find(a, kind, key, now_ms, result == 0);
    if (!e) return; /* evicted meanwhile */
    if (e->pending) e->pending--;
    if (result == 0 && ++e->failures >= max) e->blocked_until_ms = now_ms + a->lim.backoff_ms;
    /* A charge point that got in starts afresh; an address does not, as
     * chargers behind one address may include the one that guesses. */
    if (result == 1 && kind == 'i') e->failures = 0, e->blocked_until_ms = 0;
}

void ocpp_auth__result(ocpp_auth *a, const char *cp_id, const char *peer, int result,
                       int64_t now_ms)
{
    limit_end(a, 'i', cp_id, a->lim.id_failures, result, now_ms);
    limit_end(a, 'p', peer, a->lim.peer_failures, result, now_ms);
}

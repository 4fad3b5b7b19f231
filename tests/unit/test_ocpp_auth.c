/* test_ocpp_auth.c - charge point passwords: the Argon2id string, the older
 * BLAKE2b hashes (made here independently, as the old code made them), HTTP
 * Basic credentials, the verified-password table and the limits on failed
 * attempts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/ocpp_auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void basic_of(const char *raw, size_t n, char *out, size_t cap)
{
    memcpy(out, "Basic ", 6);
    sodium_bin2base64(out + 6, cap - 6, (const unsigned char *)raw, n,
                      sodium_base64_VARIANT_ORIGINAL);
}

static void test_hash_and_verify(void **state)
{
    (void)state;
    char h[EC_CHARGER_HASH_MAX];
    assert_int_equal(ocpp_auth__hash("right-password", 14, h), EC_OK);
    assert_true(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    assert_int_equal(ocpp_auth__verify(h, "CP-1", "right-password", 14), 1);
    assert_int_equal(ocpp_auth__verify(h, "CP-1", "right-passworD", 14), 0);
    assert_int_equal(ocpp_auth__verify(h, "CP-1", "right-password\0junk", 19), 0);
    assert_int_equal(ocpp_auth__verify(h, "CP-1", "right-passwor", 13), 0);
    assert_false(ocpp_auth__needs_rehash(h));
    assert_false(ocpp_auth__is_legacy(h));
    assert_int_equal(ocpp_auth__verify("not a hash", "CP-1", "x", 1), -1);
}

/* The hash of older databases: BLAKE2b-256 of a label, the id with its NUL
 * and the password, in hex. */
static void test_legacy(void **state)
{
    (void)state;
    unsigned char bin[32];
    char hex[65];
    const char in[] = "ecorridor-ocpp\nCP-7\0old-password";
    crypto_generichash(bin, sizeof bin, (const unsigned char *)in, sizeof in - 1, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, bin, sizeof bin);
    assert_true(ocpp_auth__is_legacy(hex));
    assert_true(ocpp_auth__needs_rehash(hex));
    assert_int_equal(ocpp_auth__verify(hex, "CP-7", "old-password", 12), 1);
    assert_int_equal(ocpp_auth__verify(hex, "CP-8", "old-password", 12), 0);
    assert_int_equal(ocpp_auth__verify(hex, "CP-7", "old-passwore", 12), 0);
    hex[3] = 'G';
    assert_false(ocpp_auth__is_legacy(hex));
}

static void test_basic(void **state)
{
    (void)state;
    char auth[300], pw[OCPP_PASSWORD_MAX];
    size_t n = 99;
    basic_of("CP-1:se:cret", 12, auth, sizeof auth);
    assert_int_equal(ocpp_auth__basic(auth, "CP-1", pw, sizeof pw, &n), 1);
    assert_string_equal(pw, "se:cret");
    assert_int_equal(n, 7);
    memcpy(auth, "basic", 5); /* the scheme in any case */
    assert_int_equal(ocpp_auth__basic(auth, "CP-1", pw, sizeof pw, &n), 1);
    basic_of("CP-1:secret\0junk", 16, auth, sizeof auth);
    assert_int_equal(ocpp_auth__basic(auth, "CP-1", pw, sizeof pw, &n), 0);
    basic_of("CP-1\0:secret", 12, auth, sizeof auth);
    assert_int_equal(ocpp_auth__basic(auth, "CP-1", pw, sizeof pw, &n), 0);
    basic_of("CP-12:secret", 12, auth, sizeof auth);
    assert_int_equal(ocpp_auth__basic(auth, "CP-1", pw, sizeof pw, &n), 0);
    basic_of("CP-:secret", 10, auth, sizeof auth);
    assert_int_equal(ocpp_auth__basic(auth, "CP-1", pw, sizeof pw, &n), 0);
    basic_of("CP-1secret", 10, auth, sizeof auth);
    assert_int_equal(ocpp_auth__basic(auth, "CP-1", pw, sizeof pw, &n), 0);
    assert_int_equal(ocpp_auth__basic("Bearer abc", "CP-1", pw, sizeof pw, &n), 0);
    assert_int_equal(ocpp_auth__basic("Basic !!!", "CP-1", pw, sizeof pw, &n), 0);
    assert_int_equal(ocpp_auth__basic("?", "CP-1", pw, sizeof pw, &n), 0);
    assert_int_equal(ocpp_auth__basic("", "CP-1", pw, sizeof pw, &n), 0);
    char big[OCPP_PASSWORD_MAX + 10];
    memset(big, 'x', sizeof big);
    memcpy(big, "CP-1:", 5);
    basic_of(big, sizeof big, auth, sizeof auth);
    assert_int_equal(ocpp_auth__basic(auth, "CP-1", pw, sizeof pw, &n), 0);
}

static void test_cache(void **state)
{
    (void)state;
    ocpp_auth *a;
    assert_int_equal(ocpp_auth__new(NULL, &a), EC_OK);
    assert_false(ocpp_auth__cached(a, "CP-1", "$h1", "pw", 2));
    ocpp_auth__remember(a, "CP-1", "$h1", "pw", 2);
    assert_true(ocpp_auth__cached(a, "CP-1", "$h1", "pw", 2));
    assert_false(ocpp_auth__cached(a, "CP-1", "$h1", "pW", 2));
    assert_false(ocpp_auth__cached(a, "CP-1", "$h1", "pw\0x", 4));
    assert_false(ocpp_auth__cached(a, "CP-1", "$h2", "pw", 2)); /* a new stored hash */
    assert_false(ocpp_auth__cached(a, "CP-2", "$h1", "pw", 2));
    ocpp_auth__remember(a, "CP-2", "$h1", "pw", 2);
    ocpp_auth__forget(a, "CP-1");
    assert_false(ocpp_auth__cached(a, "CP-1", "$h1", "pw", 2));
    assert_true(ocpp_auth__cached(a, "CP-2", "$h1", "pw", 2));
    /* Bounded: many more ids than it holds; the most recent stay. */
    char id[32];
    for (int i = 0; i < 200000; i++) {
        snprintf(id, sizeof id, "M%d", i);
        ocpp_auth__remember(a, id, "$h", "pw", 2);
    }
    int kept = 0;
    for (int i = 200000 - 1000; i < 200000; i++) {
        snprintf(id, sizeof id, "M%d", i);
        kept += ocpp_auth__cached(a, id, "$h", "pw", 2);
    }
    assert_true(kept >= 995);
    ocpp_auth__free(a);
}

static void test_limits(void **state)
{
    (void)state;
    ocpp_auth_limits_t lim = {3, 5, 1000, 2000};
    ocpp_auth *a;
    assert_int_equal(ocpp_auth__new(&lim, &a), EC_OK);
    int64_t t = 100000;
    for (int i = 0; i < 3; i++) {
        assert_false(ocpp_auth__limited(a, "CP-A", "10.0.0.1", t));
        ocpp_auth__attempt(a, "CP-A", "10.0.0.1", t);
        ocpp_auth__result(a, "CP-A", "10.0.0.1", 0, t);
    }
    assert_true(ocpp_auth__limited(a, "CP-A", "10.0.0.1", t));
    assert_true(ocpp_auth__limited(a, "CP-A", "10.0.0.2", t));  /* the id, from anywhere */
    assert_false(ocpp_auth__limited(a, "CP-B", "10.0.0.1", t)); /* 3 of the address's 5 */
    assert_true(ocpp_auth__limited(a, "CP-A", "10.0.0.2", t + 1999));
    assert_false(ocpp_auth__limited(a, "CP-A", "10.0.0.2", t + 2000)); /* the back-off is over */
    /* Checks still running count, so a burst cannot start more of them. */
    t += 10000;
    for (int i = 0; i < 3; i++)
        ocpp_auth__attempt(a, "CP-C", "10.0.0.3", t);
    assert_true(ocpp_auth__limited(a, "CP-C", "10.0.0.3", t));
    ocpp_auth__result(a, "CP-C", "10.0.0.3", 1, t); /* one matched: the id starts afresh */
    assert_false(ocpp_auth__limited(a, "CP-C", "10.0.0.3", t));
    ocpp_auth__result(a, "CP-C", "10.0.0.3", -1, t);
    ocpp_auth__result(a, "CP-C", "10.0.0.3", -1, t);
    /* The address: 5 failures over several ids hold back a sixth id. */
    t += 10000;
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "CP-P%d", i);
        ocpp_auth__attempt(a, id, "10.0.0.9", t);
        ocpp_auth__result(a, id, "10.0.0.9", 0, t);
    }
    assert_true(ocpp_auth__limited(a, "CP-NEW", "10.0.0.9", t));
    assert_false(ocpp_auth__limited(a, "CP-NEW", "10.0.0.8", t));
    /* Failures spread over more than the window do not add up. */
    t += 10000;
    for (int i = 0; i < 6; i++) {
        ocpp_auth__attempt(a, "CP-SLOW", "10.0.1.1", t + i * 600);
        ocpp_auth__result(a, "CP-SLOW", "10.0.1.1", 0, t + i * 600);
    }
    assert_false(ocpp_auth__limited(a, "CP-SLOW", "10.0.1.1", t + 3600));
    /* Bounded: a flood of addresses leaves the table its size. */
    for (int i = 0; i < 100000; i++) {
        char peer[32];
        snprintf(peer, sizeof peer, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        ocpp_auth__attempt(a, "CP-X", peer, t);
        ocpp_auth__result(a, "CP-X", peer, -1, t);
    }
    ocpp_auth__free(a);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_and_verify), cmocka_unit_test(test_legacy),
        cmocka_unit_test(test_basic),           cmocka_unit_test(test_cache),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* keys.c - API keys: 32 random bytes shown once, only their hash stored.
 *
 * A key is high-entropy, so one BLAKE2b hash (libsodium's generichash) is
 * enough to make the stored value useless to someone who reads the
 * database; a slow password hash would buy nothing and cost every request. */
#include "store_internal.h"

#include <sodium.h>
#include <string.h>

#define KEY_BYTES 32
#define KEY_TAG "eck_"

static void hash_hex(const char *key, char out[2 * crypto_generichash_BYTES + 1])
{
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
    sodium_bin2hex(out, 2 * crypto_generichash_BYTES + 1, h, sizeof h);
}

ec_err ec_store_key_create(ec_store *s, ec_role role, const char *org, char *key_out,
                           size_t key_len, ec_key_info_t *info)
{
    if (sodium_init() < 0) return ec_fail(EC_EIO, "libsodium could not start");
    if (role == EC_ROLE_PUBLIC) return ec_fail(EC_EINVAL, "a key's role is fleet, operator, agency or admin");
    if (!ec_reg_id_valid(org)) return ec_fail(EC_EINVAL, "organisation id \"%s\" is not a valid id", org);
    size_t need = strlen(KEY_TAG) + sodium_base64_ENCODED_LEN(KEY_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (key_len < need) return EC_EINVAL;
    unsigned char raw[KEY_BYTES];
    randombytes_buf(raw, sizeof raw);
    memcpy(key_out, KEY_TAG, strlen(KEY_TAG));
    sodium_bin2base64(key_out + strlen(KEY_TAG), key_len - strlen(KEY_TAG), raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    char hex[2 * crypto_generichash_BYTES + 1];
    hash_hex(key_out, hex);
    memset(info, 0, sizeof *info);
    info->role = role;
    snprintf(info->org, sizeof info->org, "%s", org);
    snprintf(info->prefix, sizeof info->prefix, "%.12s", key_out);
    info->created_s = ec_time_now_s();
    return store__key_insert(s, hex, info);
}

ec_err ec_store_key_check(ec_store *s, const char *key, ec_key_info_t *info)
{
    if (strlen(key) > 128) return EC_ENOTFOUND;
    char hex[2 * crypto_generichash_BYTES + 1];
    hash_hex(key, hex);
    return store__key_lookup(s, hex, info);
}

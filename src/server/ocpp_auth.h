/* ocpp_auth.h - charge point passwords (ocpp_auth.c): the stored hash, the
 * handshake's HTTP Basic credentials, the passwords already verified and the
 * limits on failed attempts. Used by ocpp.c, which decides each handshake. */
#ifndef EC_SERVER_OCPP_AUTH_H
#define EC_SERVER_OCPP_AUTH_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_store.h"

/* The longest password a handshake may carry (the layer keeps 256 bytes of
 * the Authorization header, so Basic credentials are shorter than this). */
#define OCPP_PASSWORD_MAX 192

/* Failed attempts allowed per charge point id and per address within the
 * window; once reached, that id or address is refused (429) without a
 * hash being run until the back-off has passed. */
#define OCPP_AUTH_ID_FAILURES 5
#define OCPP_AUTH_PEER_FAILURES 20
#define OCPP_AUTH_WINDOW_MS 60000
#define OCPP_AUTH_BACKOFF_MS 60000

typedef struct {
    uint32_t id_failures, peer_failures;
    int64_t window_ms, backoff_ms;
} ocpp_auth_limits_t;

typedef struct ocpp_auth ocpp_auth;

/* Fixed-size tables (about 3.2 MB, allocated once) and fresh random keys.
 * lim NULL: the OCPP_AUTH_* defaults. Returns new (free with ocpp_auth__free). */
ec_err ocpp_auth__new(const ocpp_auth_limits_t *lim, ocpp_auth **out);
void ocpp_auth__free(ocpp_auth *a);

/* The Argon2id string (crypto_pwhash_str) of password's len bytes; slow
 * (tens of milliseconds) and thread-safe. */
ec_err ocpp_auth__hash(const char *password, size_t len, char out[EC_CHARGER_HASH_MAX]);
/* 1 when password matches hash (Argon2id, or the 64 hex digits of the
 * BLAKE2b hash of older databases), 0 when not, -1 when hash is neither.
 * Slow for Argon2id and thread-safe: for the worker pool. */
int ocpp_auth__verify(const char *hash, const char *cp_id, const char *password, size_t len);
/* 1 when hash is in the older BLAKE2b format. */
int ocpp_auth__is_legacy(const char *hash);
/* 1 when hash should be replaced after a successful login (an older format,
 * or other Argon2id parameters than those hashed with now). */
int ocpp_auth__needs_rehash(const char *hash);

/* 1 and the password (NUL-terminated, *pw_len bytes) when authorization is
 * "Basic base64(cp_id:password)" with exactly cp_id as the user name and no
 * NUL byte anywhere; 0 otherwise. */
int ocpp_auth__basic(const char *authorization, const char *cp_id, char *pw, size_t pw_cap,
                     size_t *pw_len);

/* The passwords already verified, kept as a BLAKE2b MAC under a key made at
 * start, of the id, the stored hash and the password: 1 when this password
 * was verified against this very hash. Microseconds, on the loop. */
int ocpp_auth__cached(ocpp_auth *a, const char *cp_id, const char *hash, const char *pw,
                      size_t pw_len);
void ocpp_auth__remember(ocpp_auth *a, const char *cp_id, const char *hash, const char *pw,
                         size_t pw_len);
void ocpp_auth__forget(ocpp_auth *a, const char *cp_id);

/* 1 when attempts for cp_id or from peer are held back now. */
int ocpp_auth__limited(ocpp_auth *a, const char *cp_id, const char *peer, int64_t now_ms);
/* A slow check begins for cp_id from peer ... */
void ocpp_auth__attempt(ocpp_auth *a, const char *cp_id, const char *peer, int64_t now_ms);
/* ... and ends: result 1 matched, 0 refused (a failure), -1 not checked. */
void ocpp_auth__result(ocpp_auth *a, const char *cp_id, const char *peer, int result,
                       int64_t now_ms);

/* A keyed fingerprint of what a connection was admitted with (the stored
 * hash and the security profile), to see later whether either changed. */
uint64_t ocpp_auth__credentials_tag(const ocpp_auth *a, const char *hash, int security_profile);

#endif

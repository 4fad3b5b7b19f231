/* ocpp.h - the OCPP 1.6J central system: charge points on WebSockets at
 * /ocpp/<chargePointId> (ocpp.c: connections, frames, calls to chargers,
 * durable replies) and what each message does (ocpp_cs.c). */
#ifndef EC_SERVER_OCPP_H
#define EC_SERVER_OCPP_H

#include "ecorridor/ec_engine.h"
#include "ecorridor/ec_store.h"
#include "http.h"
#include "ocpp_cs.h"

/* Password checks on the worker pool at once; a handshake beyond them is
 * refused with 503 (the charger retries), so that a storm of first logins
 * neither piles up nor starves the pool's other work: the pool has 8
 * threads (server.c) and the request lanes use at most 5 (work.h), and 3
 * checks already keep 2 cores busy. */
#define OCPP_VERIFY_MAX 3
/* A loop turn's replies wait for its one commit, but at most this many, or
 * this long after the first of them: a turn that reads the messages of
 * thousands of chargers (a backlog after a stall) commits on the way, so that
 * no reply waits for the whole turn and the chargers do not fall into step,
 * all answered together at the end of one long turn and all sending again
 * into the next. Each commit costs an fsync of some 0.3 to 3 ms. */
#define OCPP_HOLD_MAX 256
#define OCPP_HOLD_MAX_MS 10

typedef struct {
    int64_t calls_in, results_out, errors_out, calls_out, results_in, errors_in, timeouts;
    int64_t commits, commit_failures;
    int64_t boot_rejected, auth_refused;
    int64_t auth_limited;  /* handshakes refused for too many failed attempts (429) */
    int64_t auth_slow;     /* passwords checked with Argon2id on the worker pool */
    int64_t auth_cached;   /* passwords found already verified (no slow check) */
    int64_t cut;           /* connections closed as their charger was deleted or changed */
    int64_t allocations, profiles_sent, profiles_accepted, profiles_refused; /* power sharing */
    int64_t journal_failures;
} ocpp_stats_t;

/* Starts the central system over store on loop; the returned value serves
 * as the ws_* callbacks' ctx. Returns new (free with ocpp__free after the
 * HTTP server is gone). */
ec_err ocpp__new(uv_loop_t *loop, ec_store *store, const ocpp_opts_t *o, ocpp_cs **out);
void ocpp__set_http(ocpp_cs *cs, ec_http_server *http);
/* fn hears of every site whose EVSE statuses a charger changed, once the
 * change is committed (the live events). */
void ocpp__on_site(ocpp_cs *cs, void (*fn)(void *ctx, const char *site_id), void *ctx);
/* Begins closing its handles (before the loop's last run). */
void ocpp__stop(ocpp_cs *cs);
void ocpp__free(ocpp_cs *cs);
/* Makes what this turn wrote durable, then sends the replies that waited
 * for it. The server calls it at the end of each loop turn and before any
 * REST request reads or writes. */
void ocpp__flush(ocpp_cs *cs);
ocpp_stats_t ocpp__stats(const ocpp_cs *cs);

/* The ec_http_handler WebSocket callbacks (ctx: the ocpp_cs). */
int ocpp__ws_accept(void *ctx, const ec_ws_handshake *hs, void **user);
void ocpp__ws_open(void *ctx, void *user, ec_ws *ws);
void ocpp__ws_message(void *ctx, void *user, ec_ws *ws, const char *data, size_t len);
void ocpp__ws_closed(void *ctx, void *user);

/* The connected charge point id, or NULL (also when cs is NULL: no central system). */
ocpp_cp *ocpp__find(ocpp_cs *cs, const char *id);
/* Sends action with payload (checked against the schema first) to cp and
 * answers the REST request serial with the charger's reply. EC_EINVAL with
 * why set when the payload breaks the schema; EC_ELIMIT when a call is
 * already outstanding. */
ec_err ocpp__call(ocpp_cs *cs, ocpp_cp *cp, const char *action, const ec_json *payload, uint64_t serial,
                  char *why, size_t why_len);
/* The live power sharing of this central system. */
struct smart *ocpp__smart(ocpp_cs *cs);

/* The password hash kept for a charge point: Argon2id (crypto_pwhash_str,
 * salted in the string itself), some 30 ms of work; EC_ENOMEM when it cannot
 * be made. */
ec_err ocpp__password_hash(const char *password, char out[EC_CHARGER_HASH_MAX]);
/* Charge point id was written or deleted through the API: the passwords
 * verified for it are forgotten, and its live connection, if any, is closed
 * (1008) when the charger is gone ("charger deleted"), its password or
 * security profile changed ("credentials changed") or its operator or site
 * changed ("operator or site changed"). cs may be NULL. */
void ocpp__charger_changed(ocpp_cs *cs, const char *id);
/* Sites were written through the API or an import: the chargers compare
 * their next statuses with the documents again, not with what they last
 * wrote (which the write may have replaced). cs may be NULL. */
void ocpp__sites_written(ocpp_cs *cs);

#endif

/* ocpp.h - the OCPP 1.6J central system: charge points on WebSockets at
 * /ocpp/<chargePointId> (ocpp.c: connections, frames, calls to chargers,
 * durable replies) and what each message does (ocpp_cs.c). */
#ifndef EC_SERVER_OCPP_H
#define EC_SERVER_OCPP_H

#include "ecorridor/ec_engine.h"
#include "ecorridor/ec_store.h"
#include "http.h"

#define OCPP_MESSAGE_MAX (64u << 10) /* bytes of one OCPP-J message */
#define OCPP_MAX_CONNECTORS 16
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

typedef struct ocpp_cs ocpp_cs;

typedef struct {
    int heartbeat_s;             /* the interval BootNotification gives */
    int call_timeout_s;          /* a call to a charger that gets no answer */
    const char *auto_register;   /* operator id unknown charge points join; NULL: refused */
} ocpp_opts_t;

/* One connected charge point. */
typedef struct ocpp_cp {
    ocpp_cs *cs;
    ec_ws *ws;
    uint64_t serial;  /* this connection's number, to tell it from a later one */
    char id[EC_CP_ID_MAX + 1];
    int registered;   /* known to the register */
    int closing;      /* closed by the central system: what it still sends is dropped */
    uint64_t credentials_tag; /* what it was admitted with (ocpp_auth__credentials_tag) */
    int accepted;     /* registered, or its BootNotification was accepted */
    char operator_id[EC_REG_ID_MAX + 1];
    char site_id[EC_REG_ID_MAX + 1];
    int connectors;
    char evse_uid[OCPP_MAX_CONNECTORS + 1][EC_REG_ID_MAX + 1]; /* [connector]: the site EVSE it is */
    char status[OCPP_MAX_CONNECTORS + 1][16];                 /* live, [0] the charge point */
    char site_status[OCPP_MAX_CONNECTORS + 1][16];            /* the OCPI status last seen in its site EVSE */
    char error_code[OCPP_MAX_CONNECTORS + 1][24];
    char firmware_status[24], diagnostics_status[24];
    int64_t connected_s, last_seen_s;
    struct {
        int active;
        char id[40];
        char action[32];
        uint64_t http_serial; /* the REST request waiting for the answer */
        int64_t deadline_ms;
        /* an internal call's: the answer's status and payload (NULL for an error or a timeout) */
        void (*done)(void *ctx, struct ocpp_cp *cp, const char *status, const ec_json *payload);
        void *done_ctx;
    } call;
} ocpp_cp;

typedef struct {
    int64_t calls_in, results_out, errors_out, calls_out, results_in, errors_in, timeouts;
    int64_t commits, commit_failures;
    int64_t boot_rejected, auth_refused;
    int64_t auth_limited;  /* handshakes refused for too many failed attempts (429) */
    int64_t auth_slow;     /* passwords checked with Argon2id on the worker pool */
    int64_t auth_cached;   /* passwords found already verified (no slow check) */
    int64_t cut;           /* connections closed as their charger was deleted or changed */
    int64_t allocations, profiles_sent, profiles_accepted, profiles_refused; /* power sharing */
} ocpp_stats_t;

/* Starts the central system over store on loop; the returned value serves
 * as the ws_* callbacks' ctx. Returns new (free with ocpp__free after the
 * HTTP server is gone). */
ec_err ocpp__new(uv_loop_t *loop, ec_store *store, const ocpp_opts_t *o, ocpp_cs **out);
void ocpp__set_http(ocpp_cs *cs, ec_http_server *http);
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
/* The same for the hub's own calls: done(ctx, cp, status, payload) gets the
 * answer's "status" and payload (both NULL for an error, a bad answer or a
 * timeout). */
ec_err ocpp__call_internal(ocpp_cs *cs, ocpp_cp *cp, const char *action, const ec_json *payload,
                           void (*done)(void *ctx, ocpp_cp *cp, const char *status, const ec_json *payload),
                           void *ctx, char *why, size_t why_len);
/* The live power sharing of this central system. */
struct smart *ocpp__smart(ocpp_cs *cs);

/* ---- ocpp_cs.c: the central system's answers ------------------------------ */

/* What a handler decided. */
typedef struct {
    ec_buf *out;        /* the CALLRESULT payload (a JSON object) */
    const char *error;  /* a CALLERROR code instead; NULL: none */
    char why[256];
    int wrote;          /* it wrote to the store: the reply waits for the commit */
} ocpp_reply;

/* Answers action (payload already schema-checked) from cp at now_s. */
void ocpp__handle(ocpp_cs *cs, ocpp_cp *cp, const char *action, const ec_json *payload, int64_t now_s,
                  ocpp_reply *r);
/* Opens the turn's write transaction (once per turn); 0 when open. */
int ocpp__begin_write(ocpp_cs *cs);
/* A status a site EVSE takes from its connector, waiting for the turn's
 * commit: the chargers of a site send theirs together (after a restart of
 * the hub, all of them at once), and each write of a site rewrites its whole
 * document, so the statuses of one turn are written once per site. */
typedef struct {
    char site_id[EC_REG_ID_MAX + 1];
    char evse_uid[EC_REG_ID_MAX + 1];
    char status[16];               /* OCPI */
    char cp_id[EC_CP_ID_MAX + 1];  /* whose cache of it to forget if it cannot be written */
    uint64_t serial;
    int connector;
    int64_t now_s;
} ocpp_site_status;
#define OCPP_SITE_STATUS_MAX 4096 /* waiting at once; more are written at once, in the same transaction */
/* The statuses waiting for the turn's commit. */
ec_vec *ocpp__site_statuses(ocpp_cs *cs);
/* Writes them into the open transaction, one read and one write per site,
 * and forgets them; ocpp__flush calls it before the commit. */
void ocpp__write_site_statuses(ocpp_cs *cs);
ec_store *ocpp__store(ocpp_cs *cs);
const ocpp_opts_t *ocpp__opts(ocpp_cs *cs);

/* The tariff a session of a token in group_id ("" none) at a charge point
 * of operator_id on site_id ("" none) gets: the operator's tariff for that
 * group at that site, else for that group, else for the site, else the
 * operator's general one. Appends its document to doc; EC_ENOTFOUND when the
 * operator has none (the session is free). */
ec_err ocpp__pick_tariff(ec_store *s, const char *operator_id, const char *site_id, const char *group_id,
                         ec_buf *doc);
/* A dynamic tariff in doc gets the site's dynamic price at now_s fixed into
 * its ENERGY price (ec_tariff_fix_dynamic); other tariffs are left alone. */
ec_err ocpp__fix_tariff(ocpp_cs *cs, const char *site_id, int64_t now_s, ec_buf *doc);
/* Looks up token uid: 1 and *t when known, 0 when not, -1 on a store error. */
int ocpp__load_token(ec_store *s, const char *uid, ec_token_t *t);

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

#endif

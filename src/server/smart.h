/* smart.h - the OCPP side of the power sharing: the engine's power sharing
 * (ec_share.h) fed with the hub's events on the wall clock, every event and
 * command journaled in the store (docs/engine.md), and the engine's limits
 * sent to the chargers as OCPP SetChargingProfile: a TxProfile per session,
 * a ChargePointMaxProfile per charge point, in W or in A as the charger
 * takes them. */
#ifndef EC_SERVER_SMART_H
#define EC_SERVER_SMART_H

#include "ecorridor/ec_json.h"
#include "ecorridor/ec_register.h"
#include "ecorridor/ec_session.h"
#include "ecorridor/ec_store.h"

typedef struct smart smart;
struct uv_loop_s;

/* The answer to a call: its "status" and payload (both NULL for an error, a bad answer or a
 * timeout), from charge point cp on its connection serial. */
typedef void (*smart_done)(void *ctx, const char *cp, uint64_t serial, const char *status, const ec_json *payload);

/* What the power sharing needs of the central system, given as callbacks so that it depends on
 * no file above it. */
typedef struct {
    void *ctx;
    /* 1 when charge point cp is connected on connection serial and has no call outstanding. */
    int (*ready)(void *ctx, const char *cp, uint64_t serial);
    /* 1 when cp is connected (on any connection). */
    int (*connected)(void *ctx, const char *cp);
    /* Sends action to cp (EC_EINVAL with why for a payload its schema refuses). */
    ec_err (*call)(void *ctx, const char *cp, const char *action, const ec_json *payload, smart_done done,
                   void *done_ctx, char *why, size_t why_len);
    /* Opens the loop turn's write, which the turn's end commits; 0 when open. */
    int (*begin_write)(void *ctx);
} smart_io;

typedef struct {
    int64_t profiles_sent, profiles_accepted, profiles_refused, allocations, journal_failures;
} smart_stats_t;

/* Starts over store (with the transactions still running in it). */
ec_err smart__new(struct uv_loop_s *loop, ec_store *store, const smart_io *io, smart **out);
void smart__stop(smart *m);
/* The turn's write failed to commit: the engine had events the store and the journal lost. It
 * starts over from the store (a journaled reset and the sessions still running); the chargers
 * are learnt again as they connect or boot. */
void smart__reset(smart *m);
void smart__free(smart *m);

enum { SMART_START, SMART_METER, SMART_STOP };
/* A transaction event (after it is stored, in the same write); evse_uid: the site EVSE its
 * connector is (NULL: not known). */
void smart__tx(smart *m, const char *evse_uid, const ec_tx_t *tx, int event);
/* Charge point cp connected or booted on connection serial at site_id, its connectors being the
 * site EVSEs evse_uid[connector] (up 1: its profiles are gone and are sent again), or went away
 * (up 0). */
void smart__cp(smart *m, const char *cp, uint64_t serial, const char *site_id,
               char (*evse_uid)[EC_REG_ID_MAX + 1], int up);
/* Connector connector of cp (0: the charge point) now says status (OCPP ChargePointStatus) with
 * error_code: the engine is told and the journal keeps it. 1 when it was journaled (the reply
 * then waits for the commit). */
int smart__status(smart *m, const char *cp, int connector, const char *status, const char *error_code);
/* cp has no call outstanding any more: a limit waiting for it may go. */
void smart__idle(smart *m, const char *cp);
/* Reads what changed in the register and ticks the engine when it is due
 * (end of a loop turn, before the turn's write is committed: the commands'
 * frames wait for the commit with the replies). */
void smart__run(smart *m);
/* A fleet's or reservation's word on a running session: the energy it wants
 * (Wh, < 0: unchanged) and when it leaves (0: unchanged). EC_ENOTFOUND when
 * the session is not running here. */
ec_err smart__plan(smart *m, int64_t tx_id, double requested_wh, int64_t departure_s);

/* The allocation of the group site_id is in (or the group of substation
 * substation_id) as JSON; EC_ENOTFOUND when none. */
ec_err smart__json(smart *m, const char *site_id, const char *substation_id, ec_buf *out);
smart_stats_t smart__stats(const smart *m);
/* Each substation's minutes since the hub started (grid_history.h), sampled at the first loop
 * turn of every minute; NULL for a NULL m. */
struct history;
const struct history *smart__history(const smart *m);
/* The energy price at site_id's substation for n_slots slots of slot_s
 * seconds from the current one: wholesale + congestion. */
ec_err smart__prices_json(smart *m, const char *site_id, int slot_s, int n_slots, ec_buf *out);
/* The same price at t_s; EC_ENOTFOUND for a site not in the register. */
ec_err smart__price_now(smart *m, const char *site_id, int64_t t_s, double *price_per_kwh);

#endif

/* smart.h - the OCPP side of the power sharing: the engine's power sharing
 * (ec_share.h) fed with the hub's events on the wall clock, every event and
 * command journaled in the store (docs/engine.md), and the engine's limits
 * sent to the chargers as OCPP SetChargingProfile: a TxProfile per session,
 * a ChargePointMaxProfile per charge point, in W or in A as the charger
 * takes them. */
#ifndef EC_SERVER_SMART_H
#define EC_SERVER_SMART_H

#include "ecorridor/ec_session.h"
#include "ecorridor/ec_store.h"

typedef struct smart smart;
struct ocpp_cs;
struct ocpp_cp;
struct uv_loop_s;

typedef struct {
    int64_t profiles_sent, profiles_accepted, profiles_refused, allocations, journal_failures;
} smart_stats_t;

/* Starts over store (with the transactions still running in it). */
ec_err smart__new(struct uv_loop_s *loop, ec_store *store, struct ocpp_cs *cs, smart **out);
void smart__stop(smart *m);
void smart__free(smart *m);

enum { SMART_START, SMART_METER, SMART_STOP };
/* A transaction event at cp (after it is stored, in the same write). */
void smart__tx(smart *m, struct ocpp_cp *cp, const ec_tx_t *tx, int event);
/* cp booted (1: its profiles are gone and are sent again) or went away (0). */
void smart__cp(smart *m, struct ocpp_cp *cp, int up);
/* cp has no call outstanding any more: a limit waiting for it may go. */
void smart__idle(smart *m, struct ocpp_cp *cp);
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
/* The energy price at site_id's substation for n_slots slots of slot_s
 * seconds from the current one: wholesale + congestion. */
ec_err smart__prices_json(smart *m, const char *site_id, int slot_s, int n_slots, ec_buf *out);
/* The same price at t_s; EC_ENOTFOUND for a site not in the register. */
ec_err smart__price_now(smart *m, const char *site_id, int64_t t_s, double *price_per_kwh);

#endif

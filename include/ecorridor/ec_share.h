/* ec_share.h - the live corridor's power sharing as a state machine.
 *
 * Fed with timestamped events (the register's power of sites and
 * substations, charge points up and down, sessions starting, metering and
 * stopping, a fleet's plan for a session, a charger's answer to a limit,
 * and ticks), it answers with commands (set a limit; publish a price) and
 * with answers to queries (a group's allocation, the price at a site).
 *
 * No I/O, no clock of its own: the hub feeds it the wall clock, a replay the
 * journal's times, and both get the same commands from the same events.
 *
 * A group is the sessions behind one limit: the sites of a substation, or a
 * site of its own when it has no substation. Its limits: the substation's
 * capacity less its base load plus the renewables behind it, each site's
 * grid connection, each EVSE's power; each site's algorithm (ec_alloc.h).
 *
 * Lower before raise: a limit is raised only into the room that the limits
 * the chargers hold now leave, a lowering counting at its old value until
 * its charger has accepted it, so at no moment may the chargers together
 * draw more than the headroom. A charge point's maximum (connector 0) is
 * the sum of its sessions' limits. One command per charge point is out at a
 * time: the next goes after the charger's answer (EC_SE_RESULT) or after it
 * went down. */
#ifndef EC_SHARE_H
#define EC_SHARE_H

#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_base.h"
#include "ecorridor/ec_power.h"
#include "ecorridor/ec_session.h"

#define EC_SHARE_MAX_CONNECTORS 16 /* connectors of a charge point (OCPP: 1..16) */
#define EC_SHARE_HORIZON 288       /* control periods the optimising step looks ahead */
#define EC_SHARE_QUANTUM_W 100     /* limits move in steps of this, rounded down */
#define EC_SHARE_DEFAULT_MAX_W 150000 /* an EVSE that does not say its power */
#define EC_SHARE_MAX_TIME_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z: the latest time an event may have */
#define EC_SHARE_GROUPS_PER_TICK 4  /* groups one tick allocates at most; the rest at the next ticks */

typedef enum {
    EC_SE_RESET = 1,  /* the hub started: everything before is forgotten */
    EC_SE_SITE,       /* site: the register's power of a site (new or changed) */
    EC_SE_SUBSTATION, /* substation: the register's power of a substation */
    EC_SE_CP_UP,      /* cp, site, serial, evse_uid[]: connected (or booted) */
    EC_SE_CP_DOWN,    /* cp: went away */
    EC_SE_TX_START,   /* tx, cp, connector, site, start_s, evse_uid[connector], delivered_wh,
                       * requested_wh (< 0: none said), departure_s (0: none said) */
    EC_SE_TX_METER,   /* tx, delivered_wh */
    EC_SE_TX_STOP,    /* tx */
    EC_SE_PLAN,       /* tx, requested_wh (< 0: unchanged), departure_s (0: unchanged) */
    EC_SE_RESULT,     /* cp, accepted: the charger's answer to the command out to it (1 accepted,
                       * 0 refused, -1 no answer: a timeout, an error, the connection gone) */
    EC_SE_TICK,       /* allocate the groups due (at most EC_SHARE_GROUPS_PER_TICK, in turn), send what changed */
    EC_SE_STATUS,     /* cp, connector (0: the charge point), status, error_code: what it says of itself
                       * changed (OCPP StatusNotification); kept for queries and for what reads the
                       * journal (uptime), no limit depends on it yet */
    EC_SE_ARRIVE,     /* site, vehicle, plug, reserved: a truck joined the queue for a connector
                       * (the twin's trucks; kept as the site's queue, for queries and for the
                       * waits what reads the journal computes) */
    EC_SE_LEAVE,      /* site, vehicle, served: it left the queue, to charge (1) or not (0) */
    EC_SE_COUNT
} ec_share_event_kind;

typedef struct {
    ec_share_event_kind kind;
    int64_t t_ms; /* Unix milliseconds */
    char cp[EC_CP_ID_MAX + 1];
    char site[EC_REG_ID_MAX + 1];
    uint64_t serial;   /* CP_UP: the connection */
    int connector;
    int64_t tx;
    int64_t start_s, departure_s;
    double delivered_wh, requested_wh;
    int accepted;
    char status[24], error_code[32];  /* STATUS: OCPP ChargePointStatus and ChargePointErrorCode */
    char vehicle[32], plug[12];       /* ARRIVE, LEAVE: the truck and the plug it waits for */
    int reserved, served;             /* ARRIVE: it holds a reservation; LEAVE: it goes to charge */
    char evse_uid[EC_SHARE_MAX_CONNECTORS + 1][EC_REG_ID_MAX + 1]; /* [connector] */
    const ec_site_power_t *site_power;
    const ec_substation_power_t *substation_power;
} ec_share_event_t;

typedef enum {
    EC_SC_LIMIT = 1, /* cp, connector (0: the charge point's maximum), tx (0 for the maximum), limit_w */
    EC_SC_PRICE      /* group, price_per_kwh: the energy price at a group now changed */
} ec_share_cmd_kind;

typedef struct {
    ec_share_cmd_kind kind;
    int64_t t_ms;
    char cp[EC_CP_ID_MAX + 1];
    int connector;
    int64_t tx;
    double limit_w;
    int lowers;                      /* the limit is below what the charger held */
    char group[EC_REG_ID_MAX + 8];   /* "sub:ID" or "site:ID" */
    double price_per_kwh;
} ec_share_cmd_t;

typedef struct {
    int64_t events, commands, allocations, accepted, refused;
} ec_share_stats_t;

typedef struct ec_share ec_share;

/* emit is called with every command, in order, while an event is fed. */
ec_err ec_share_new(void (*emit)(void *ctx, const ec_share_cmd_t *cmd), void *ctx, ec_share **out);
void ec_share_free(ec_share *g);
/* Feeds one event. Events go in time order; EC_EINVAL for a malformed one (changes nothing). */
ec_err ec_share_feed(ec_share *g, const ec_share_event_t *ev);
/* Whether a tick at t_ms would allocate some group (something changed, or a control interval is up). */
int ec_share_due(const ec_share *g, int64_t t_ms);
ec_share_stats_t ec_share_stats(const ec_share *g);

/* What the engine knows of the register: the power of site id / substation id, or NULL. */
const ec_site_power_t *ec_share_site(const ec_share *g, const char *id);
const ec_substation_power_t *ec_share_substation(const ec_share *g, const char *id);
/* The ids of the sites and substations it knows, one at a time (NULL past the end). */
const char *ec_share_site_at(const ec_share *g, size_t i);
const char *ec_share_substation_at(const ec_share *g, size_t i);
/* Whether session tx runs here; *delivered_wh (may be NULL) the energy it has had. */
int ec_share_tx(const ec_share *g, int64_t tx, double *delivered_wh);
/* The status connector of cp last said and since when (Unix ms); 0 when it has said none. */
int ec_share_status(const ec_share *g, const char *cp, int connector, char status[24], int64_t *since_ms);
/* Trucks waiting in site's queue now (ARRIVE less LEAVE events); 0 for a site it does not know. */
int ec_share_queue(const ec_share *g, const char *site);
/* Whether charge point cp is known; *waiting (may be NULL) 1 while a command to it is unanswered. */
int ec_share_cp(const ec_share *g, const char *cp, int *waiting);

/* Queries, answered from the state now (t_ms for the series).
 * The allocation of site's group (site NULL: substation's) as JSON;
 * EC_ENOTFOUND when there is none. */
ec_err ec_share_group_json(const ec_share *g, const char *site, const char *substation, int64_t t_ms, ec_buf *out);
/* What substation's group draws and may draw at t_ms, in W: the figures
 * ec_share_group_json gives (capacity, base load, renewables, headroom, the
 * sessions' allocations and what their chargers hold). EC_ENOTFOUND while no
 * site behind it is known. */
typedef struct {
    double capacity_w, base_load_w, renewables_w, headroom_w, allocated_w, held_w;
} ec_share_sample_t;
ec_err ec_share_group_sample(const ec_share *g, const char *substation, int64_t t_ms, ec_share_sample_t *out);
/* The energy price at site's group at t_s: wholesale + congestion (the
 * congestion of the load now and the charging allocated now); EC_ENOTFOUND
 * for a site it does not know. */
ec_err ec_share_price(const ec_share *g, const char *site, int64_t t_s, double *price_per_kwh);
/* n_slots slots of slot_s from the one t_ms is in, as JSON. */
ec_err ec_share_prices_json(const ec_share *g, const char *site, int64_t t_ms, int slot_s, int n_slots, ec_buf *out);

/* ---- the horizon an allocation sees (the hub's and the simulator's) ---------------------- */

typedef struct {
    double capacity_w;            /* the shared limit; <= 0: sites_w */
    double sites_w;               /* the sum of the sites' connections (each unlimited one as 1e12) */
    const ec_series_t *others_w;  /* the others' load behind the limit; NULL: none */
    const ec_series_t *renew_w;   /* renewables behind it; NULL: none */
    const ec_series_t *prices;    /* energy price per kWh; NULL: none (energy as early as possible) */
    int yearly;                   /* the series start at each UTC year (the register's); 0: at time 0 */
    double now_extra_w;           /* more headroom in the first period (what a battery can give) */
    size_t max_periods;           /* the longest horizon, >= 1 */
} ec_share_limits_t;

/* Fills out (and head, other, price, each of l->max_periods) with what an
 * allocation at now_s sees: periods of period_s from now_s to the latest
 * departure of the n sessions (at least one period, at most max_periods);
 * in each the headroom (capacity − the others' load + renewables), the
 * others' load and the price, every series read by ec_series.h's rule. */
void ec_share_horizon(const ec_share_limits_t *l, const ec_alloc_session_t *s, size_t n, int64_t now_s,
                      int64_t period_s, double *head, double *other, double *price, ec_alloc_grid_t *out);
/* The headroom of l at t_s alone (the same rule, without the first period's extra). */
double ec_share_headroom(const ec_share_limits_t *l, int64_t t_s);

/* ---- the journal's form of events and commands -------------------------------------- */

/* "site", "substation", "cp_up", ... and "limit", "price"; NULL for others. */
const char *ec_share_event_name(ec_share_event_kind k);
const char *ec_share_cmd_name(ec_share_cmd_kind k);
/* An event's fields as a JSON object (without its kind and time). */
ec_err ec_share_event_json(const ec_share_event_t *ev, ec_buf *out);
/* Reads an event back: kind by name, fields from json. Its site or
 * substation power goes into *site / *sub (freed first), which the event
 * points to. */
ec_err ec_share_event_parse(const char *kind, int64_t t_ms, const char *json, size_t len, ec_share_event_t *ev,
                           ec_site_power_t *site, ec_substation_power_t *sub);
ec_err ec_share_cmd_json(const ec_share_cmd_t *c, ec_buf *out);
ec_err ec_share_cmd_parse(const char *kind, int64_t t_ms, const char *json, size_t len, ec_share_cmd_t *c);
/* Whether two commands are the same (kind, charge point, connector, tx, limit within 0.5 W, time). */
int ec_share_cmd_equal(const ec_share_cmd_t *a, const ec_share_cmd_t *b);
/* "limit CP-1/2 tx 17 11000 W at 2026-...", for messages. */
void ec_share_cmd_describe(const ec_share_cmd_t *c, char *out, size_t n);

#endif

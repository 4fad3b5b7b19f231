/* ec_cpsim.h - the charge-point simulator: a region's charge points speaking
 * OCPP 1.6J to a hub (`ecorridor chargers simulate`, docs/chargers.md).
 *
 * Three parts: the region's chargers and tokens read from its files
 * (region.c); one charge point's behaviour as a machine that takes frames and
 * time and gives frames and events, with no I/O of its own, so tests and the
 * fuzz target drive it directly (cp.c, cp_calls.c); and the WebSocket client
 * and the loop that connect them to a hub (ws.c, run.c).
 */
#ifndef EC_CPSIM_H
#define EC_CPSIM_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_energy.h"

#define EC_CPSIM_MAX_CONN 16         /* connectors of one charge point, as the hub allows */
#define EC_CPSIM_FRAME_MAX 65536     /* the largest message taken from a hub, as the hub's own */
#define EC_CPSIM_MAX_CHARGERS 10000  /* chargers one simulator runs */
#define EC_CPSIM_MAX_TOKENS 10000
#define EC_CPSIM_REGION_MAX (16u << 20) /* bytes of register.json */

typedef struct {
    char evse_uid[48];
    ec_plug plug;
    double max_w; /* the connector's power in the register; 150 kW when it does not say */
} ec_cpsim_conn_t;

typedef struct {
    char id[49];
    char password[65];
    char site_id[40];
    char site_name[128];
    int n_conn;
    ec_cpsim_conn_t conn[EC_CPSIM_MAX_CONN]; /* connector k is conn[k-1] */
} ec_cpsim_charger_t;

/* A fleet token; busy while one of the simulator's sessions uses it, so no
 * two trucks share one (the hub may allow a token one session at a time). */
typedef struct {
    char uid[21];
    int busy;
} ec_cpsim_token_t;

typedef struct {
    ec_vec chargers; /* ec_cpsim_charger_t, in the file's order */
    ec_vec tokens;   /* ec_cpsim_token_t: the valid tokens */
} ec_cpsim_region;

/* Reads DIR/register.json (chargers, tokens, sites' names) and DIR/sites.csv
 * (each EVSE's plug and power). Messages name the file and the entry. */
ec_err ec_cpsim_region_load(const char *dir, ec_cpsim_region *out);
/* Keeps the chargers of site (NULL: all), then the first count (0: all).
 * EC_ENOTFOUND when none is left. */
ec_err ec_cpsim_region_select(ec_cpsim_region *r, const char *site, int count);
void ec_cpsim_region_free(ec_cpsim_region *r);

/* How a demo unfolds, in seconds. */
typedef struct {
    int first_s;   /* sessions start within this after a boot (default 10) */
    int session_s; /* a session lasts 0.2 to 1.5 times this, unless the truck is full first (default 180) */
    int pause_s;   /* a connector rests about this between sessions (default 45) */
    int meter_s;   /* MeterValues interval (default 10) */
} ec_cpsim_pace_t;

void ec_cpsim_pace_default(ec_cpsim_pace_t *p);

/* ---- one charge point ------------------------------------------------------------------- */

typedef struct ec_cpsim_cp ec_cpsim_cp;

typedef enum {
    EC_CPSIM_EV_BOOT,      /* text: the hub's answer status; limit_w: the heartbeat interval in s */
    EC_CPSIM_EV_START,     /* a session started (tx, token, soc) */
    EC_CPSIM_EV_METER,     /* a meter reading sent (power, energy, soc) */
    EC_CPSIM_EV_STOP,      /* a session stopped (energy, soc, text: reason) */
    EC_CPSIM_EV_REFUSED,   /* the hub refused a token (text: its status) */
    EC_CPSIM_EV_LIMIT,     /* a charging profile accepted or cleared (limit: its own, W; INFINITY for none) */
    EC_CPSIM_EV_COMMAND,   /* a call from the hub answered (text: action, text2: status) */
    EC_CPSIM_EV_BAD_FRAME, /* a frame from the hub refused (text: why) */
    EC_CPSIM_EV_ERROR      /* the hub answered one of our calls with an error (text: action, text2: code) */
} ec_cpsim_event_kind;

typedef struct {
    ec_cpsim_event_kind kind;
    int connector;
    int64_t tx;
    const char *token;
    double power_w, energy_wh, soc, limit_w;
    const char *text, *text2;
} ec_cpsim_event_t;

typedef struct {
    void *ctx;
    /* One text frame to the hub; an error drops it (the connection is going). */
    ec_err (*send)(void *ctx, ec_cpsim_cp *cp, const char *text, size_t len);
    void (*event)(void *ctx, ec_cpsim_cp *cp, const ec_cpsim_event_t *ev);
    /* A Reset: the charge point drops its connection and connects again. */
    void (*reset)(void *ctx, ec_cpsim_cp *cp);
} ec_cpsim_io;

typedef struct {
    long boots, sessions_started, sessions_stopped, tokens_refused, meter_values;
    long profiles_accepted, calls_answered, frames_refused, call_errors;
    double energy_wh;
} ec_cpsim_stats_t;

/* tokens (n_tokens of them) are borrowed for the machine's life and shared
 * by all the machines of one simulator. */
ec_err ec_cpsim_cp_new(const ec_cpsim_charger_t *ch, ec_cpsim_token_t *tokens, size_t n_tokens,
                       const ec_cpsim_pace_t *pace, uint64_t seed, const ec_cpsim_io *io, ec_cpsim_cp **out);
void ec_cpsim_cp_free(ec_cpsim_cp *cp);
const ec_cpsim_charger_t *ec_cpsim_cp_charger(const ec_cpsim_cp *cp);
/* The connection is open (send BootNotification) or gone (the call in flight
 * is sent again on the next connection; status and heartbeats are dropped). */
void ec_cpsim_cp_connected(ec_cpsim_cp *cp, int64_t now_ms);
void ec_cpsim_cp_disconnected(ec_cpsim_cp *cp);
/* One text message from the hub (len <= EC_CPSIM_FRAME_MAX, else refused).
 * EC_EPARSE when it was refused as malformed (a CALLERROR answered where it
 * had a message id); the machine is unchanged then. */
ec_err ec_cpsim_cp_receive(ec_cpsim_cp *cp, const char *text, size_t len, int64_t now_ms);
/* Moves time on to now_ms (wall clock, ms since the epoch): sessions draw
 * power, meter values and heartbeats fall due. */
void ec_cpsim_cp_tick(ec_cpsim_cp *cp, int64_t now_ms);
/* Shutting down: running sessions stop (Local), none starts. Returns the
 * number of our calls still waiting to go or be answered. */
int ec_cpsim_cp_shutdown(ec_cpsim_cp *cp);
/* Adds this charge point's counts to *sum. */
void ec_cpsim_cp_stats(const ec_cpsim_cp *cp, ec_cpsim_stats_t *sum);
/* The most connector k (1..n) may draw now under the profiles it accepted (W; INFINITY: no limit). */
double ec_cpsim_cp_limit_w(const ec_cpsim_cp *cp, int k, int64_t now_ms);

/* ---- the WebSocket client --------------------------------------------------------------- */

#define EC_CPSIM_HANDSHAKE_MAX 8192

/* Checks a hub's answer to our upgrade (head: up to and including the blank
 * line) against RFC 6455 and OCPP-J: 101, Upgrade: websocket, Connection:
 * Upgrade, Sec-WebSocket-Accept = base64(SHA-1(key_b64 + GUID)) and
 * Sec-WebSocket-Protocol: ocpp1.6. Returns 0 when it is right; else the HTTP
 * status (or -1 for a malformed answer) with why filled in. */
int ec_cpsim_ws_check_response(const char *head, size_t len, const char *key_b64, char *why, size_t n);

/* ---- the simulator ---------------------------------------------------------------------- */

typedef struct {
    const char *hub_url;    /* ws://HOST:PORT/PATH: charge point id is appended */
    const char *region_dir;
    const char *site;       /* NULL: every site */
    int count;              /* 0: every charger */
    uint64_t seed;
    ec_cpsim_pace_t pace;
    int json;               /* JSON lines on stdout instead of readable ones */
    int quiet;              /* only warnings and the summary */
    double duration_s;      /* stop after this (0: at Ctrl-C) */
} ec_cpsim_opts_t;

/* Runs until SIGINT or SIGTERM (or duration_s), then prints the summary. */
ec_err ec_cpsim_run(const ec_cpsim_opts_t *o);

#endif

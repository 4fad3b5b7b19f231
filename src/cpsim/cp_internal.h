/* cp_internal.h - one simulated charge point's state, shared by cp.c (its
 * own calls and sessions), cp_calls.c (the hub's calls to it) and cp_recv.c
 * (frames from the hub). */
#ifndef EC_CPSIM_CP_INTERNAL_H
#define EC_CPSIM_CP_INTERNAL_H

#include "ecorridor/ec_cpsim.h"
#include "ecorridor/ec_json.h"

#include <math.h>

#define CP_QUEUE_MAX 64      /* our calls waiting for the one in flight */
#define CP_CALL_TIMEOUT_MS 30000
#define CP_PROFILE_PERIODS 8
#define CP_TRUCKS 4

typedef enum { ST_AVAILABLE, ST_PREPARING, ST_CHARGING, ST_SUSPENDED_EVSE, ST_FINISHING, ST_RESERVED, ST_UNAVAILABLE } cp_status;
typedef enum { PH_IDLE, PH_AUTHORIZING, PH_STARTING, PH_RUNNING, PH_STOPPING } cp_phase;
typedef enum { PR_NONE, PR_TX, PR_TX_DEFAULT, PR_CP_MAX } cp_purpose;

/* A charging schedule as accepted, in W. */
typedef struct {
    int set, id, stack;
    cp_purpose purpose;
    int64_t tx;       /* TxProfile: its transaction (0: the running one) */
    int64_t start_ms; /* startSchedule, or when it was accepted */
    int64_t dur_s;    /* 0: open-ended */
    int n;
    int64_t at_s[CP_PROFILE_PERIODS];
    double limit_w[CP_PROFILE_PERIODS];
} cp_profile;

typedef struct {
    cp_status status, sent_status;
    int status_sent; /* sent_status reached the queue */
    cp_phase phase;
    int inoperative, inoperative_after; /* ChangeAvailability, now or when the session ends */
    int64_t next_start_ms;
    int64_t tx;
    char token[21];
    int token_i;                    /* index into cp->tokens while busy, else -1 */
    int truck;                      /* index into cp->trucks */
    double meter_wh, meter_start_wh; /* the register, lifetime */
    double soc, soc_target, power_w;
    int64_t started_ms, ends_ms, last_ms, next_meter_ms;
    int stop_wanted;                /* stop as soon as the transaction id is known */
    char stop_reason[24];
    cp_profile tx_prof, def_prof;
    int res_id;
    char res_tag[21];
    int64_t res_until_ms;
} cp_conn;

typedef struct {
    char action[32];
    char *payload;
    int connector;
    int essential; /* kept across a lost connection: starts and stops */
} cp_call;

typedef enum { BOOT_OFFLINE, BOOT_SENT, BOOT_WAIT, BOOT_ACCEPTED } cp_boot;

struct ec_cpsim_cp {
    ec_cpsim_charger_t ch;
    ec_cpsim_token_t *tokens;
    size_t n_tokens;
    ec_cpsim_pace_t pace;
    ec_cpsim_io io;
    uint64_t rng;
    cp_boot boot;
    int shutting_down;
    double event_limit_w; /* a LIMIT event's own limit (the profile's, not the least of all); NAN otherwise */
    int64_t now_ms, boot_retry_ms, next_heartbeat_ms;
    int heartbeat_s, meter_s;
    cp_call queue[CP_QUEUE_MAX];
    int q_len;
    int in_flight; /* queue[0] was sent and waits for its answer */
    char flight_uid[40];
    int64_t flight_sent_ms;
    uint64_t next_uid;
    cp_profile cp_max_prof;
    int n_trucks;
    ec_vehicle_profile trucks[CP_TRUCKS];
    ec_cpsim_stats_t st;
    cp_conn c[EC_CPSIM_MAX_CONN + 1]; /* c[1..n]; c[0] stands for the whole charge point */
    ec_buf out;                       /* frames being written */
};

/* cp.c */
uint64_t cp__rand(ec_cpsim_cp *cp);
double cp__uniform(ec_cpsim_cp *cp, double lo, double hi);
void cp__event(ec_cpsim_cp *cp, ec_cpsim_event_kind kind, int k, const char *text, const char *text2);
/* Queues one of our calls (payload: JSON text, copied). EC_ELIMIT when the queue is full. */
ec_err cp__call(ec_cpsim_cp *cp, const char *action, const char *payload, int connector, int essential);
void cp__set_status(ec_cpsim_cp *cp, int k, cp_status s);
void cp__queue_status(ec_cpsim_cp *cp, int k);
void cp__queue_meter(ec_cpsim_cp *cp, int k);
void cp__send_pending(ec_cpsim_cp *cp);
/* Energy since the last step, then each running connector's power under the limits now. */
void cp__draw(ec_cpsim_cp *cp);
/* Starts a session on k for token (Authorize first unless remote). */
int cp__begin(ec_cpsim_cp *cp, int k, const char *token, int authorized);
/* Back to idle: the connector rests, its token is free again. */
void cp__idle(ec_cpsim_cp *cp, int k);
/* Ends k's session with an OCPP Reason. */
void cp__end(ec_cpsim_cp *cp, int k, const char *reason);
void cp__iso(int64_t ms, char *out, size_t n);
const char *cp__status_name(cp_status s);

/* The limit of a profile at now_ms (W; INFINITY when it sets none then). */
double cp__profile_limit(const cp_profile *p, int64_t now_ms);
/* 1 when uid is the id of our call in flight. */
int cp__in_flight(const ec_cpsim_cp *cp, const char *uid);
/* The hub answered the call in flight: result (a CALLRESULT's payload), or NULL and a CALLERROR's code. */
void cp__answer(ec_cpsim_cp *cp, const ec_json *result, const char *error_code);

/* cp_calls.c */
/* Answers a CALL from the hub: writes the CALLRESULT or CALLERROR into cp->out. */
void cp__handle_call(ec_cpsim_cp *cp, const char *uid, const char *action, const ec_json *payload);

#endif

/* kpi_internal.h - what the KPI files share: the state the journal builds. */
#ifndef EC_KPI_INTERNAL_H
#define EC_KPI_INTERNAL_H

#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_kpi.h"
#include "ecorridor/ec_share.h"

#include <stdio.h>

enum { KPI_OUT_NONE, KPI_OUT_UNAVAIL, KPI_OUT_FAULT, KPI_OUT_OFFLINE }; /* by priority */

typedef struct {
    int64_t a, b; /* [a, b), Unix ms */
    int cause;
} kpi_span;

typedef struct {
    char id[EC_CP_ID_MAX + 1];
    int site;                                 /* -1: not yet named */
    int online;
    int64_t down_ms;
    int cause0;                               /* connector 0's status */
    int port[EC_SHARE_MAX_CONNECTORS + 1];    /* [connector], -1 */
} kpi_cp;

typedef struct {
    int cp, connector, evse, evse_named;
    int64_t first_ms, since_ms;
    int cause;                                /* its status now */
    int running;                              /* sessions on it now */
    char error[32];                           /* the last error code it said */
    ec_vec out;                               /* kpi_span */
    int64_t sessions;
    double energy_wh, peak_w;
    int64_t charging_ms, plugged_ms;
    int64_t step0;                            /* its first kpi_step in k->steps; -1: none kept */
} kpi_port;

/* A port's sums in one step of the period (ec_kpi_config_t.step_ms). */
typedef struct {
    int64_t charging_ms, plugged_ms, sessions;
    double energy_wh;
} kpi_step;

typedef struct {
    char uid[EC_CP_ID_MAX + 8];
    int site, ports, busy;
} kpi_evse;

typedef struct {
    char id[EC_REG_ID_MAX + 1];
    int64_t first_ms, since_ms;
    int points, busy;                         /* EVSEs known, EVSEs with a session */
    int64_t congested_ms;
    ec_vec waits;                             /* double, minutes */
    int cfg;                                  /* its entry in the configuration's sites, -1 */
} kpi_site;

typedef struct {
    int64_t tx;
    int port;
    int in_period;
    int64_t start_ms, stop_ms, last_ms;
    double first_wh, last_wh, energy_wh, peak_w;
    int64_t charging_ms;
    char error[32];
} kpi_sess;

typedef struct {
    int site;
    int done;
    int64_t t_ms;
    char vehicle[32];
} kpi_wait;

typedef struct {
    char site[EC_REG_ID_MAX + 1], uid[EC_REG_ID_MAX + 1];
    double max_w;
} kpi_rated;

struct ec_kpi {
    ec_kpi_config_t c;
    ec_vec cps, ports, evses, sites, sess, queue, rated;
    ec_map by_cp, by_site, by_tx, by_evse, by_wait, by_rated;
    ec_share_event_t ev;
    ec_site_power_t site_power;
    ec_substation_power_t sub_power;
    int64_t now_ms, rows;
    int closed;
    char err[160];
    ec_vec out_rows, out_sess;
    ec_vec steps;    /* kpi_step, n_steps per port that keeps them */
    size_t n_steps;  /* 0: no steps */
    ec_vec owned[3]; /* the configuration's arrays, when ec_kpi_from_store made them */
};

#define KCP(k, i) (&EC_VEC_AT(&(k)->cps, kpi_cp, (i)))
#define KPORT(k, i) (&EC_VEC_AT(&(k)->ports, kpi_port, (i)))
#define KEVSE(k, i) (&EC_VEC_AT(&(k)->evses, kpi_evse, (i)))
#define KSITE(k, i) (&EC_VEC_AT(&(k)->sites, kpi_site, (i)))
#define KSESS(k, i) (&EC_VEC_AT(&(k)->sess, kpi_sess, (i)))

int kpi__find_cp(const ec_kpi *k, const char *id);
/* The key of an EVSE's rated power: its uid is unique within its site only. */
uint64_t kpi__rated_key(const char *site, const char *uid);
/* kpi_pipe.c: feeds k the journal's events of s before to_ms, less the kind
 * skip, read on a thread of its own; prog (may be NULL) by seq. */
struct ec_store;
ec_err kpi__feed_store(ec_kpi *k, struct ec_store *s, int64_t to_ms, const char *skip, ec_progress *prog);
void kpi__close(ec_kpi *k);
/* Step i's span [*a, *b). */
void kpi__step_span(const ec_kpi *k, size_t i, int64_t *a, int64_t *b);
/* The hub's own form of a meter row, {"tx":N,"delivered_wh":X}, read without
 * a JSON tree; EC_EINVAL for anything else (the caller reads it in full). */
ec_err kpi__parse_meter(const char *data, size_t len, int64_t *tx, double *wh);
/* The same for {"cp":"..","connector":N,"status":"..","error_code":".."} and {"tx":N}. */
ec_err kpi__parse_status(const char *data, size_t len, ec_share_event_t *ev);
ec_err kpi__parse_tx(const char *data, size_t len, int64_t *tx);

#endif

/* ec_alloc.h - power for each charging session under a shared limit.
 *
 * Pure: the sessions now and the limit in, a power per session out; no I/O,
 * no clock of its own. The online algorithms know only the sessions present
 * (their arrival, estimated departure, remaining energy and maximum power),
 * as a live site does.
 */
#ifndef EC_ALLOC_H
#define EC_ALLOC_H

#include "ecorridor/ec_base.h"

typedef enum {
    EC_ALLOC_UNCONTROLLED, /* every session at its maximum; the limit is ignored */
    EC_ALLOC_FCFS,         /* first come first served: by arrival, each as much as fits */
    EC_ALLOC_RR,           /* equal shares: max-min fair water-filling */
    EC_ALLOC_EDF,          /* earliest (estimated) departure first */
    EC_ALLOC_LLF,          /* least laxity first */
    EC_ALLOC_OPT,          /* optimising over the horizon of the sessions present (a flow each step) */
    EC_ALLOC_COUNT
} ec_alloc_algo;

/* "uncontrolled", "fcfs", "rr", "edf", "llf", "opt". */
const char *ec_alloc_algo_name(ec_alloc_algo a);
int ec_alloc_algo_parse(const char *s, ec_alloc_algo *out);

typedef struct {
    int64_t arrival_s;
    int64_t departure_s;    /* estimated: what the driver or fleet said */
    double remaining_wh;    /* energy still requested */
    double max_w;           /* min(vehicle, connector, EVSE) */
} ec_alloc_session_t;

/* Powers for n sessions at now_s over the next period_s, each within
 * [0, max_w] and never more than its remaining energy needs in that period;
 * their sum within limit_w (except EC_ALLOC_UNCONTROLLED). out_w has n. */
void ec_alloc_step(ec_alloc_algo algo, const ec_alloc_session_t *s, size_t n, double limit_w, int64_t now_s,
                   int64_t period_s, double *out_w);

#endif

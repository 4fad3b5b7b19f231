/* ec_series.h - a series of values over time, and the one rule for reading it.
 *
 * The rule, for the hub and the simulator alike: value k holds over
 * [origin + k·interval, origin + (k+1)·interval); a series shorter than the
 * time asked repeats from its start (24 hourly values are a daily profile,
 * 96 quarter-hours too), and so does a time before the origin, backwards.
 *
 * The origin is the reader's: the register's series (a substation's base
 * load and prices, a renewable's profile) start at the beginning of each
 * UTC year; a replay's series (charge-schedule --prices, --others) start
 * with the replay.
 */
#ifndef EC_SERIES_H
#define EC_SERIES_H

#include "ecorridor/ec_base.h"

typedef struct {
    double *v;
    size_t n;
    int64_t interval_s;
} ec_series_t;

/* The value at t_s of s read from origin_s; dflt when s is NULL, empty or has no interval. */
double ec_series_at(const ec_series_t *s, int64_t origin_s, int64_t t_s, double dflt);
/* The start of the UTC year t_s is in (the register's origin). */
int64_t ec_year_start_s(int64_t t_s);
/* n values copied (interval_s each); EC_ENOMEM. */
ec_err ec_series_set(ec_series_t *s, const double *v, size_t n, int64_t interval_s);
/* Whether a and b hold the same values at the same interval. */
int ec_series_equal(const ec_series_t *a, const ec_series_t *b);
void ec_series_free(ec_series_t *s);

#endif

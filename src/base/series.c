/* series.c - reading a series over time (see ec_series.h). */
#include "ecorridor/ec_series.h"

#include <string.h>

double ec_series_at(const ec_series_t *s, int64_t origin_s, int64_t t_s, double dflt)
{
    if (!s || !s->n || s->interval_s <= 0) return dflt;
    int64_t d = t_s - origin_s;
    int64_t k = d >= 0 ? d / s->interval_s : -((-d + s->interval_s - 1) / s->interval_s);
    int64_t n = (int64_t)s->n;
    k %= n;
    if (k < 0) k += n;
    return s->v[k];
}

/* Days from 1970-01-01 to the first of January of year y (proleptic Gregorian). */
static int64_t days_to_year(int64_t y)
{
    int64_t p = y - 1; /* leap days before y, counted from year 0 */
    return 365 * (y - 1970) + (p / 4 - p / 100 + p / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400);
}

int64_t ec_year_start_s(int64_t t_s)
{
    int64_t day = t_s >= 0 ? t_s / 86400 : -((-t_s + 86399) / 86400);
    /* Within a year of it (a Gregorian year is 146097/400 days); then one step or two. */
    int64_t y = 1970 + (day >= 0 ? day * 400 / 146097 : -((-day * 400 + 146096) / 146097));
    while (days_to_year(y + 1) <= day) y++;
    while (days_to_year(y) > day) y--;
    return days_to_year(y) * 86400;
}

ec_err ec_series_set(ec_series_t *s, const double *v, size_t n, int64_t interval_s)
{
    ec_series_free(s);
    if (!n) return EC_OK;
    s->v = ec_malloc(n * sizeof *s->v);
    if (!s->v) return EC_ENOMEM;
    memcpy(s->v, v, n * sizeof *v);
    s->n = n, s->interval_s = interval_s;
    return EC_OK;
}

int ec_series_equal(const ec_series_t *a, const ec_series_t *b)
{
    if (a->n != b->n) return 0;
    if (!a->n) return 1;
    return a->interval_s == b->interval_s && !memcmp(a->v, b->v, a->n * sizeof *a->v);
}

void ec_series_free(ec_series_t *s)
{
    ec_free(s->v);
    memset(s, 0, sizeof *s);
}

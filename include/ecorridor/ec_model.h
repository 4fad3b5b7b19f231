/* ec_model.h - the corridor register: charging sites and their connectors.
 *
 * Money is int64_t in ten-thousandths of the currency unit (4 decimals, as OCPI).
 */
#ifndef EC_MODEL_H
#define EC_MODEL_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_energy.h"
#include "ecorridor/ec_geo.h"

#define EC_SITES_MAX_ROWS 500000

/* One row of a sites file: a group of identical connectors at a site. */
typedef struct {
    char site_id[64];
    char name[128];
    char operator_name[64];
    ec_latlon_t pos;
    ec_plug standard;
    double power_w;
    int count;
    int64_t price_per_kwh; /* 1e-4 currency units per kWh */
    int64_t price_per_min; /* 1e-4 currency units per minute */
    int available;         /* connectors free now (0..count; count when not given) */
    double wait_s;         /* expected wait for a free connector */
    int64_t busy_until;    /* when set (Unix s), the expected wait instead ends then: a
                              truck arriving at t waits max(0, busy_until - t) */
    int64_t reservable_from, reservable_to; /* a window in which a connector can be
                                               reserved (Unix s); both 0: none */
    long line;             /* where it was read */
} ec_connector_group_t;

typedef struct {
    ec_connector_group_t *groups;
    size_t n;
    char currency[4]; /* ISO 4217, "EUR" */
} ec_sites;

/* Parses a sites CSV (docs/sites.md): header
 * site_id,name,lat,lon,standard,power_kw,count[,price_per_kwh,price_per_min,operator,
 * available,wait_min,reservable_from,reservable_to].
 * All or nothing: on error *out is untouched and the message names line and field. */
ec_err ec_sites_parse(const char *name, const char *text, size_t len, ec_sites *out);
ec_err ec_sites_load(const char *path, ec_sites *out);
void ec_sites_free(ec_sites *s);

/* Money is an integer count of ten-thousandths of the currency unit, from
 * the register's prices to a CDR's total; it never passes through a double. */
#define EC_MONEY_UNIT 10000

/* Parses a decimal amount ("0.4500") into ten-thousandths exactly; 0 on success. */
int ec_money_parse(const char *s, int64_t *out);
/* Writes v (ten-thousandths) as a decimal with places decimals (0 to 4;
 * others are taken as 4), rounded half away from zero in integer arithmetic:
 * with 4 places -50 is "-0.0050"; with 2 places -50 is "-0.01", -49 is
 * "0.00" (a zero has no sign) and 12345 is "1.23". The one way the program
 * prints money. Needs n >= 26 for every int64_t. */
void ec_money_format(int64_t v, int places, char *out, size_t n);

#endif

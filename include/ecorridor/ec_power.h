/* ec_power.h - what the register says about power: a site's connection and
 * charging policy, a substation's capacity, base load, prices and the
 * renewables behind it, read from the register's documents into typed
 * structs once, so the engine never reads a document by field name.
 *
 * Units: watts, watt-hours, seconds; prices per kWh. */
#ifndef EC_POWER_H
#define EC_POWER_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_register.h"
#include "ecorridor/ec_series.h"

#define EC_POWER_MAX_EVSE 256 /* EVSEs of one site the power sharing knows */

typedef struct {
    char uid[EC_REG_ID_MAX + 1];
    double max_w; /* its connectors' largest power; 0: not given */
} ec_power_evse_t;

typedef struct {
    char id[EC_REG_ID_MAX + 1];
    char substation_id[EC_REG_ID_MAX + 1]; /* "" none: the site is a group of its own */
    int managed;        /* it has a charging policy: the hub sends its chargers limits */
    char algo[16];      /* the policy's algorithm ("opt" unless it says; "uncontrolled" without a policy) */
    double limit_w;     /* its grid connection; 0: none */
    int interval_s;     /* the policy's control interval */
    int dwell_min;      /* a session's stay when no one says (minutes) */
    double default_wh;  /* a session's energy when no one says; 0: what its power gives over the dwell */
    ec_power_evse_t *evse;
    int n_evse;
} ec_site_power_t;

typedef struct {
    char id[EC_REG_ID_MAX + 1];
    double capacity_w;           /* 0: none */
    ec_series_t base_w;          /* the others' load behind it, W (from the start of each UTC year) */
    ec_series_t renew_w;         /* the renewables behind it, W, summed */
    ec_series_t prices;          /* wholesale energy price per kWh */
    double cong_price;           /* the congestion component at full load, per kWh */
    double cong_threshold;       /* the share of capacity it starts at */
} ec_substation_power_t;

/* A site document's power (out is freed first; zero it before first use). */
ec_err ec_site_power_read(const ec_json *site, ec_site_power_t *out);
/* A substation document's power, without its renewables. */
ec_err ec_substation_power_read(const ec_json *sub, ec_substation_power_t *out);
/* Adds a renewable document (capacity_kw × profile, every interval_s) to
 * sub's renewables; the sum keeps the first renewable's interval, and a
 * renewable with another interval is left out (logged by the caller). 1 when
 * it was added. */
int ec_substation_power_add_renewable(ec_substation_power_t *sub, const ec_json *renewable);
int ec_site_power_equal(const ec_site_power_t *a, const ec_site_power_t *b);
int ec_substation_power_equal(const ec_substation_power_t *a, const ec_substation_power_t *b);
ec_err ec_site_power_copy(ec_site_power_t *dst, const ec_site_power_t *src);
ec_err ec_substation_power_copy(ec_substation_power_t *dst, const ec_substation_power_t *src);
void ec_site_power_free(ec_site_power_t *s);
void ec_substation_power_free(ec_substation_power_t *s);

#endif

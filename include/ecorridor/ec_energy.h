/* ec_energy.h - battery-electric truck profiles, energy per road piece, charging.
 *
 * SI units inside (W, Wh, kg, m, s, degrees Celsius); profile files use kW
 * and kWh because that is how the trade writes them.
 */
#ifndef EC_ENERGY_H
#define EC_ENERGY_H

#include "ecorridor/ec_base.h"

/* Plug standards of charging connectors. */
typedef enum {
    EC_PLUG_MCS,
    EC_PLUG_CCS2,
    EC_PLUG_CCS1,
    EC_PLUG_NACS,
    EC_PLUG_CHADEMO,
    EC_PLUG_TYPE2,
    EC_PLUG_COUNT
} ec_plug;

/* "MCS", "CCS2", ... ; NULL for an out-of-range value. */
const char *ec_plug_name(ec_plug p);
/* Parses a plug name (case-sensitive, as above); 0 on success. */
int ec_plug_parse(const char *s, ec_plug *out);

#define EC_CURVE_MAX 32

/* One point of a charging curve: the most the vehicle accepts at a state of charge. */
typedef struct {
    double soc;     /* 0..1 */
    double power_w; /* at the connector */
} ec_curve_pt_t;

typedef struct {
    char name[64];
    char vehicle_class[64];    /* road legality class (ec_vehicle_class_t name) */
    double empty_mass_kg;      /* tractor + empty trailer */
    double max_payload_kg;
    double default_payload_kg;
    double battery_wh;         /* usable capacity: SoC 1.0 */
    double soc_min, soc_max;   /* window the planner may use */
    double cda_m2;             /* drag coefficient x frontal area */
    double crr;                /* rolling resistance coefficient */
    double drivetrain_eff;     /* battery -> wheel */
    double regen_eff;          /* wheel -> battery when braking downhill */
    double charge_eff;         /* connector -> battery */
    double aux_w;              /* auxiliaries at the reference temperature */
    double temp_coeff_per_c;   /* extra energy per degree below 20 C */
    double plug_max_w[EC_PLUG_COUNT]; /* 0: the vehicle has no such inlet */
    int n_curve;
    ec_curve_pt_t curve[EC_CURVE_MAX]; /* soc ascending, from 0 to 1 */
} ec_vehicle_profile;

/* Conditions of a trip. */
typedef struct {
    double payload_kg;
    double temp_c;
} ec_conditions_t;

#define EC_TEMP_REF_C 20.0

/* Built-in profile names, NULL-terminated. */
const char *const *ec_vehicle_profile_names(void);
ec_err ec_vehicle_profile_builtin(const char *name, ec_vehicle_profile *out);
/* A profile from JSON text; src names it in messages (see docs/energy.md). */
ec_err ec_vehicle_profile_parse(const char *json, const char *src, ec_vehicle_profile *out);
ec_err ec_vehicle_profile_load(const char *path, ec_vehicle_profile *out);
/* A built-in name, else a JSON file. */
ec_err ec_vehicle_profile_resolve(const char *name_or_path, ec_vehicle_profile *out);
/* Conditions with the profile's default payload at the reference temperature. */
ec_conditions_t ec_conditions_default(const ec_vehicle_profile *v);

/* Battery energy (Wh) to drive length_m in duration_s rising rise_m (negative
 * downhill). Negative when braking energy is recovered. */
double ec_energy_wh(const ec_vehicle_profile *v, const ec_conditions_t *c, double length_m,
                    double duration_s, double rise_m);

/* The same over a whole route on level roads, from its sums: length, time and
 * the sum over its pieces of length x speed^2 (the work against the air
 * grows with it). Equal to summing ec_energy_wh over the pieces, which never
 * recover energy on the level. */
double ec_energy_route_wh(const ec_vehicle_profile *v, const ec_conditions_t *c, double length_m,
                          double duration_s, double length_speed2_sum);

/* Power the connector delivers at soc: the least of the vehicle's curve, its
 * inlet for the plug, and limit_w (what the site can give; <= 0: no limit).
 * 0 when the vehicle has no inlet for the plug. */
double ec_charge_power_w(const ec_vehicle_profile *v, ec_plug plug, double limit_w, double soc);

/* Time (s) to charge from soc_from to soc_to on the plug at a site giving at
 * most limit_w; energy drawn at the connector into *grid_wh when not NULL.
 * EC_EINVAL when the vehicle cannot charge on that plug or the SoCs are out of order. */
ec_err ec_charge_time_s(const ec_vehicle_profile *v, ec_plug plug, double limit_w,
                        double soc_from, double soc_to, double *seconds, double *grid_wh);

/* Charging times tabulated for fast repeated use: the time from SoC 0 to each
 * step of 0.1 %, integrated as ec_charge_time_s does; times between steps
 * are interpolated linearly (exact when the power is constant in a step). */
#define EC_CHARGE_STEPS 1000
typedef struct {
    double t_s[EC_CHARGE_STEPS + 1]; /* INFINITY from the first step with no power */
    double grid_wh_per_soc;          /* grid energy for a charge of 1.0 SoC */
} ec_charge_table_t;

/* EC_EINVAL when the vehicle has no inlet for the plug. */
ec_err ec_charge_table_init(const ec_vehicle_profile *v, ec_plug plug, double limit_w, ec_charge_table_t *t);
/* Seconds from soc_from to soc_to (soc_from <= soc_to); INFINITY when the
 * vehicle accepts no power on the way. */
double ec_charge_table_time_s(const ec_charge_table_t *t, double soc_from, double soc_to);
/* The SoC reached charging `seconds` from soc_from (at most 1.0). */
double ec_charge_table_soc_after(const ec_charge_table_t *t, double soc_from, double seconds);

#endif

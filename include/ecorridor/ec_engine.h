/* ec_engine.h - the live corridor's rules: who may charge, what a session
 * costs, the charge detail record it becomes and what operators owe each
 * other.
 *
 * No I/O and no clock of its own: every function is given the time it runs
 * at, so the server (wall clock) and the simulator (simulated clock) get the
 * same answers from the same inputs. Money is int64 in ten-thousandths of the
 * currency unit; energy integer watt-hours; time Unix seconds.
 */
#ifndef EC_ENGINE_H
#define EC_ENGINE_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_register.h"
#include "ecorridor/ec_session.h"

/* ---- tokens and authorization ------------------------------------------- */

typedef struct {
    char uid[EC_ID_TAG_MAX + 1];
    char issuer_id[EC_REG_ID_MAX + 1]; /* the fleet or mobility provider */
    char contract_id[40];
    char group_id[EC_REG_ID_MAX + 1];  /* the customer group a tariff tier names; "" none */
    int valid;
    int64_t expiry_s;                  /* 0: none */
    int max_concurrent;                /* sessions at once; 0: no limit */
} ec_token_t;

typedef enum {
    EC_AUTH_ACCEPTED,
    EC_AUTH_BLOCKED,
    EC_AUTH_EXPIRED,
    EC_AUTH_INVALID,
    EC_AUTH_CONCURRENT
} ec_auth_status;

/* OCPP's name for s ("Accepted", "ConcurrentTx", ...). */
const char *ec_auth_status_name(ec_auth_status s);
/* The answer for tok (NULL: unknown to the hub) at now_s, with active
 * sessions of it already running: unknown Invalid, "valid": false Blocked,
 * an expiry at or before now_s Expired, max_concurrent sessions running
 * ConcurrentTx, else Accepted. This is the hub's one authorization rule: the
 * OCPP Authorize, StartTransaction and StopTransaction answers and the REST
 * RemoteStartTransaction check all come here. Only a session about to start
 * counts its running ones (OCPP 1.6: ConcurrentTx is "only relevant for a
 * StartTransaction.req"); the other questions pass active 0. */
ec_auth_status ec_engine_authorize(const ec_token_t *tok, int64_t active, int64_t now_s);
/* Reads a token document ({"uid", "issuer_id", "valid", "expiry", ...}). */
ec_err ec_token_from_json(const ec_json *doc, ec_token_t *out);

/* ---- tariffs -------------------------------------------------------------- */

typedef struct {
    int64_t price;  /* per kWh (ENERGY), per hour (TIME, PARKING_TIME), per session (FLAT) */
    int64_t vat_bp; /* VAT in hundredths of a percent; 0: none */
    int64_t step;   /* ENERGY: Wh, TIME and PARKING_TIME: s; billed up to a whole step */
    int present;
} ec_price_component_t;

typedef struct {
    char id[EC_REG_ID_MAX + 1];
    char currency[4];
    ec_price_component_t energy, time, parking, flat;
    int64_t idle_grace_s; /* PARKING_TIME counts only after this much idle time */
} ec_tariff_t;

/* Reads an OCPI tariff document (the register's tariffs): for each
 * component type the first element that has it, as OCPI applies them. */
ec_err ec_tariff_from_json(const ec_json *doc, ec_tariff_t *out);

typedef struct {
    int64_t energy, time, parking, flat; /* excluding VAT */
    int64_t excl_vat, vat, incl_vat;
} ec_cost_t;

/* Where a tariff applies, as the register's tariff names it: at one site
 * of its operator ("" at every site) and to one customer group, a token's
 * group_id ("" to every token). */
typedef struct {
    char site_id[EC_REG_ID_MAX + 1];
    char customer_group[EC_REG_ID_MAX + 1];
} ec_tariff_scope_t;

/* How well a tariff of scope s fits a session at site_id ("" none) of a
 * token in group_id ("" none): 0 it does not apply; 1 the operator's general
 * tariff; 2 for this site; 3 for this group; 4 for this group at this site. */
int ec_tariff_rank(const ec_tariff_scope_t *s, const char *site_id, const char *group_id);
/* The tariff a session gets among one operator's n tariffs (in the store's
 * order): the highest ec_tariff_rank, the first of equals; -1 when none
 * applies (the session is free). This is the hub's one tariff choice: a
 * StartTransaction and the REST price of a charge point come here. */
long ec_tariff_choose(const ec_tariff_scope_t *c, size_t n, const char *site_id, const char *group_id);

/* What energy_wh charged over charging_s, then idle_s standing, costs. */
void ec_tariff_cost(const ec_tariff_t *t, int64_t energy_wh, int64_t charging_s, int64_t idle_s,
                    ec_cost_t *out);

/* The congestion component of a dynamic price: 0 up to threshold (a share of
 * the substation's capacity, 0..1), rising linearly to max_price at full
 * load and staying there above it. */
double ec_congestion_price(double load_share, double threshold, double max_price);

/* A dynamic tariff ("dynamic": true) charges for energy its ENERGY price as a
 * margin on top of the site's dynamic price. Fixes it at the start of a
 * session: every ENERGY component becomes margin + price_per_kwh (rounded to
 * 1e-4, never below 0), and "dynamic_price_per_kwh" records the price.
 * *fixed 1 when the tariff is dynamic (0: left as it is). */
ec_err ec_tariff_fix_dynamic(ec_json *tariff, double price_per_kwh, int *fixed);

/* Money is written with ec_money_format() (ec_model.h). */

/* ---- transactions (ec_tx_t: ec_session.h) ------------------------------ */

/* A meter reading at t_s: register_wh < 0, power_w < 0, soc < 0 when absent. */
void ec_tx_meter(ec_tx_t *tx, int64_t t_s, int64_t register_wh, double power_w, double soc);
/* Ends tx; the meter's last register is checked against meterStop. */
void ec_tx_stop(ec_tx_t *tx, int64_t stop_s, int64_t meter_stop_wh, const char *reason);
/* Energy, charging and idle time of a stopped tx. */
void ec_tx_usage(const ec_tx_t *tx, int64_t *energy_wh, int64_t *charging_s, int64_t *idle_s);

/* The CDR of a stopped tx, OCPI-shaped (id "<cp>-<tx id>"), priced with
 * tariff (NULL: free) whose document tariff_doc (may be NULL) it embeds.
 * Appends to out; EC_ELIMIT or EC_ENOMEM when it could not be written whole
 * (out then holds no CDR to store). */
ec_err ec_cdr_json(const ec_tx_t *tx, const ec_tariff_t *tariff, const char *tariff_doc,
                   ec_buf *out, ec_cost_t *cost);

/* ---- settlement ------------------------------------------------------------- */

typedef struct {
    char operator_id[EC_REG_ID_MAX + 1];
    char issuer_id[EC_REG_ID_MAX + 1];
    char currency[4];
    int64_t sessions, energy_wh, excl_vat, incl_vat;
} ec_settle_row_t;

typedef struct {
    ec_vec rows; /* ec_settle_row_t, sorted by operator, issuer, currency on output */
    ec_settle_row_t total_by_currency[8];
    int n_currencies;
} ec_settlement;

void ec_settle_init(ec_settlement *s);
ec_err ec_settle_add(ec_settlement *s, const char *operator_id, const char *issuer_id,
                     const char *currency, int64_t energy_wh, int64_t excl_vat, int64_t incl_vat);
void ec_settle_sort(ec_settlement *s);
void ec_settle_free(ec_settlement *s);

#endif

/* ec_kpi.h - the region's figures, computed once from the engine's journal.
 *
 * A live hub's journal and a simulated day's (the corridor twin writes the
 * same rows) are read by the same code, so a live month and a simulated
 * month are measured the same way (docs/kpi.md defines every figure).
 *
 * The journal gives what happened at the chargers (charge points up and
 * down, connector status, sessions and their meter readings, the twin's
 * queues). What it does not say comes in the configuration: the register's
 * sites (operator, jurisdiction, corridor segment), what each session was
 * billed and for which fleet, and the excluded time operators and agencies
 * recorded. A figure none of these can give is NaN (null in JSON), never 0.
 *
 * No clock, no I/O: rows are fed in the journal's order, from its start (the
 * state at `from` is built from the rows before it), and the figures count
 * the period [from, to) only. */
#ifndef EC_KPI_H
#define EC_KPI_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_register.h"
#include "ecorridor/ec_session.h"

typedef enum {
    EC_KPI_PORT,         /* a connector: "CP-1/2" */
    EC_KPI_EVSE,         /* "SITE/uid" of an EVSE (the port's id when the charger named none) */
    EC_KPI_SITE,
    EC_KPI_OPERATOR,
    EC_KPI_JURISDICTION,
    EC_KPI_SEGMENT,      /* a corridor segment, "A-B" (both directions), or "" off the corridor */
    EC_KPI_GROUP_COUNT
} ec_kpi_group;

const char *ec_kpi_group_name(ec_kpi_group g);
/* 0 and *out for "port", "evse", "site", "operator", "jurisdiction", "segment"; -1 otherwise. */
int ec_kpi_group_parse(const char *s, ec_kpi_group *out);

/* How far up from a site's jurisdiction its scope reaches: its own and six
 * parents above it (a state's agency sees its cities' sites). The figures
 * (within, below), a site's own figures (policy.c) and whoami's list of an
 * agency's jurisdictions (api_map.c) all go this far and no further. */
#define EC_KPI_WITHIN_DEPTH 8

/* What the register says of a site. */
typedef struct {
    char id[EC_REG_ID_MAX + 1];
    char name[128];
    char operator_id[EC_REG_ID_MAX + 1];     /* "" unknown */
    char jurisdiction_id[EC_REG_ID_MAX + 1]; /* "" unknown */
    char segment[48];                        /* "" off the corridor, or no corridor given */
    char operator_name[128], jurisdiction_name[128]; /* for people; "" : the id */
    /* ",jurisdiction,its parent,...,": the scope's test; room for EC_KPI_WITHIN_DEPTH ids of the longest. */
    char within[EC_KPI_WITHIN_DEPTH * (EC_REG_ID_MAX + 1) + 2];
} ec_kpi_site_t;

/* What the hub billed for a session (its CDR) and for whom. */
typedef struct {
    int64_t tx;
    char fleet[EC_REG_ID_MAX + 1];  /* the token's issuer; "" unknown */
    char payment[16];               /* "RFID", "app", ...; "" unknown */
    double revenue;                 /* incl. VAT; NaN: not billed (yet) */
    char currency[4];
} ec_kpi_tx_t;

/* The reasons excluded time is recorded with (23 CFR 680.116(b)): 1 for
 * utility_outage, vehicle_fault, scheduled_maintenance, vandalism,
 * natural_disaster (excluded from the outage); 0 for operator_request (the
 * operator took the port out: Unavailable is then no outage at all); -1 for
 * anything else. The one list: the API checks a record's reason with it. */
int ec_kpi_reason(const char *s);

/* Time a port was out for a reason the rule excludes (or at the operator's
 * request), recorded through the API. cp "" covers the whole site; connector
 * 0 every connector of cp. to_ms 0: still open. */
typedef struct {
    char site[EC_REG_ID_MAX + 1];
    char cp[EC_CP_ID_MAX + 1];
    int connector;
    int64_t from_ms, to_ms;
    char reason[32]; /* docs/kpi.md: utility_outage, vehicle_fault, scheduled_maintenance, vandalism,
                      * natural_disaster (excluded), operator_request (not an outage, not excluded) */
} ec_kpi_excluded_t;

typedef struct {
    int64_t from_ms, to_ms;    /* the period [from, to) */
    int64_t until_ms;          /* what the journal can tell reaches this far (a live hub: now); the period
                                * ends here when it is earlier than `to` (0: `to`) */
    int64_t grace_ms;          /* an offline charge point's ports are out once it has been away this long */
    double co2_kg_per_kwh;     /* CO2 avoided per kWh charged (docs/kpi.md); NaN: not computed */
    const ec_kpi_site_t *sites;
    size_t n_sites;
    const ec_kpi_tx_t *txs;    /* sorted by tx */
    size_t n_txs;
    const ec_kpi_excluded_t *excluded;
    size_t n_excluded;
    /* Scope: only the ports of sites this operator runs / in this jurisdiction
     * or one within it (as `sites` says) / of this one site; NULL: every port. */
    const char *only_operator, *only_jurisdiction, *only_site;
    /* > 0: the period is also cut in steps of this length from `from` (the last
     * one ends with the period), whose figures ec_kpi_steps gives; at most
     * EC_KPI_STEPS_MAX steps. Each port in scope keeps its sums per step, so
     * give a narrow scope (only_site) for a long series. */
    int64_t step_ms;
} ec_kpi_config_t;

#define EC_KPI_STEPS_MAX 8784 /* a leap year of hours */

/* The default grace (two of the hub's heartbeat intervals of 300 s) and the
 * CO2 factor: a diesel tractor-trailer's 32.6 L/100 km at 3.27 kg CO2e/L
 * well-to-wheel, over an electric one's 1.3 kWh/km at the plug. */
#define EC_KPI_GRACE_MS 600000
/* Readings this long after the period are read for the part of their interval inside it. */
#define EC_KPI_TAIL_MS 3600000
#define EC_KPI_KWH_PER_KM 1.3
#define EC_KPI_CO2_KG_PER_KWH (0.326 * 3.27 / EC_KPI_KWH_PER_KM)

/* One group's figures over the period; NaN where the journal cannot say. */
typedef struct {
    ec_kpi_group group;
    char id[96];
    char name[128];            /* the site's name for sites; else the id */
    int64_t from_ms, to_ms;    /* to: the period's end, or the journal's (until) when earlier */
    int64_t ports;
    int64_t sessions;          /* sessions that started in the period */
    int64_t fleets;            /* distinct fleets among them (0 when unknown) */
    double energy_kwh;         /* delivered in the period */
    double avg_power_kw;       /* energy / charging time */
    double peak_power_kw;      /* the highest power between two meter readings */
    double uptime_pct;         /* NEVI: (T − (outage − excluded)) / T */
    double outage_min, excluded_min;
    double open_min;           /* port time in the period less outage */
    double charging_min, plugged_min, idle_min;
    double utilisation_pct;    /* charging / open */
    double occupancy_pct;      /* plugged-in / open */
    double capacity_factor;    /* kWh / (rated kW × open h) */
    double congestion_pct;     /* share of site time with every point busy */
    double wait_mean_min, wait_p95_min; /* from the twin's queue events; NaN without */
    double revenue;
    char currency[4];          /* "" when none, "MIX" when several */
    double co2_avoided_kg;
} ec_kpi_row_t;

/* One session as the journal tells it (for NEVI 680.112 data). */
typedef struct {
    int64_t tx;
    char cp[EC_CP_ID_MAX + 1];
    int connector;
    char site[EC_REG_ID_MAX + 1];
    char evse[EC_CP_ID_MAX + 8];
    int64_t start_ms, end_ms;  /* end 0: still running at `to` */
    double energy_kwh, peak_power_kw;
    char error_code[32];       /* the connector's last error during the session, "" none */
} ec_kpi_session_t;

typedef struct ec_kpi ec_kpi;

/* c is copied (its arrays are borrowed until ec_kpi_free). */
ec_err ec_kpi_new(const ec_kpi_config_t *c, ec_kpi **out);
void ec_kpi_free(ec_kpi *k);
/* Feeds one journal row (command 1: a command, which KPIs do not read). Rows
 * at or after `to` are ignored, but for the readings of the next
 * EC_KPI_TAIL_MS, whose intervals may begin in the period. EC_EINVAL for a row that does not read as
 * its kind (nothing changes; *err names the field). */
ec_err ec_kpi_feed(ec_kpi *k, int64_t t_ms, int command, const char *kind, const char *data, size_t len);
/* Closes the period: the rows of group g, sorted by id, into *rows (owned by
 * k, valid until the next call or ec_kpi_free). */
ec_err ec_kpi_rows(ec_kpi *k, ec_kpi_group g, const ec_kpi_row_t **rows, size_t *n);
/* The same for everyone to see: a group with fewer than min_sessions
 * sessions or min_fleets distinct fleets is withheld; *suppressed (may be
 * NULL) counts them. */
ec_err ec_kpi_rows_public(ec_kpi *k, ec_kpi_group g, int64_t min_sessions, int64_t min_fleets,
                          const ec_kpi_row_t **rows, size_t *n, int64_t *suppressed);
/* Closes the period: one row per step (ec_kpi_config_t.step_ms) in time
 * order, its from_ms/to_ms the step's, each the sum of the ports in scope as
 * ec_kpi_rows sums a group (group EC_KPI_SITE, id only_site or ""). The
 * additive figures (sessions, energy, charging, plugged, open and outage
 * minutes) of the steps sum to the period's. Rows owned by k as above;
 * EC_EINVAL without steps. */
ec_err ec_kpi_steps(ec_kpi *k, const ec_kpi_row_t **rows, size_t *n);
/* The sessions that started in the period, in journal order. */
ec_err ec_kpi_sessions(ec_kpi *k, const ec_kpi_session_t **s, size_t *n);
/* The journal rows fed. */
int64_t ec_kpi_rows_read(const ec_kpi *k);
/* What was wrong with the last row refused ("tx_meter: delivered_wh"). */
const char *ec_kpi_error(const ec_kpi *k);

/* ---- a hub's database ------------------------------------------------------------------- */

typedef struct ec_store ec_store;

typedef struct {
    int64_t from_s, to_s;        /* the period [from, to) */
    const char *corridor;        /* a corridor directory: sites are placed on its segments; NULL: none */
    const char *only_operator, *only_jurisdiction; /* the scope (NULL: all) */
    const char *only_site;       /* one site's ports only (NULL: all) */
    int64_t step_s;              /* > 0: figures per step too (ec_kpi_steps) */
    int64_t until_ms;            /* the journal is known up to here (a live hub: now; 0: `to`) */
    int64_t grace_ms;            /* 0: EC_KPI_GRACE_MS */
    ec_progress *progress;       /* advanced by journal rows (its total: the last seq); NULL: none */
} ec_kpi_db_opts_t;

/* Reads the figures of a hub's database (or a twin's journal.db): the
 * register's sites, the sessions' fleets and bills, the excluded time, then
 * the journal up to `to`. A row that does not read is EC_EINVAL with a
 * message naming its place (ec_fail). */
ec_err ec_kpi_from_store(ec_store *s, const ec_kpi_db_opts_t *o, ec_kpi **out);

/* The rows as the API answers them: {"data": [row...], "suppressed": N}, each
 * row's keys as docs/kpi.md lists them, null where a figure is NaN. */
ec_err ec_kpi_json(const ec_kpi_row_t *rows, size_t n, int64_t suppressed, ec_buf *out);
/* The same columns as CSV (RFC 4180, CRLF), a null an empty field. */
ec_err ec_kpi_csv(const ec_kpi_row_t *rows, size_t n, ec_buf *out);

#endif

/* ec_afir.h - AFIR Article 4(1): recharging pools for heavy-duty electric
 * vehicles along a corridor, checked segment by segment (docs/afir.md).
 *
 * Regulation (EU) 2023/1804 asks, by a deadline, for pools of a given size
 * in each direction of travel at most a given distance apart, on a share of
 * the network's length. The rule of a year and network class is a table
 * here; the check takes the corridor's graph and the pools and says, for
 * each segment, whether a truck driving it in either direction meets no gap
 * between pools longer than the rule allows, and the share of the network's
 * length that complies.
 *
 * No I/O, no clock: the caller loads the corridor and the sites. */
#ifndef EC_AFIR_H
#define EC_AFIR_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_geo.h"
#include "ecorridor/ec_graph.h"
#include "ecorridor/ec_model.h"

typedef enum { EC_AFIR_CORE = 0, EC_AFIR_COMPREHENSIVE = 1 } ec_afir_network;

/* A point of at least this power counts towards a pool's high-power points. */
#define EC_AFIR_FAST_KW 350.0
/* A pool serves a segment whose line passes within this straight-line
 * distance of it: the Regulation's 3 km driving distance from an exit
 * (Article 2(3)), measured without exits, which the corridor files lack. */
#define EC_AFIR_NEAR_KM 3.0

/* What Article 4(1) asks by 31 December of year on one network class. */
typedef struct {
    int year;
    ec_afir_network network;
    double spacing_km;     /* the most between two pools in one direction of travel */
    double pool_kw;        /* a pool's power output: at least this */
    int fast_points;       /* and at least this many points of EC_AFIR_FAST_KW or more */
    double required_share; /* of the network's length, 0..1 */
    const char *article;   /* "Article 4(1)(c)" */
} ec_afir_rule_t;

/* The rule for year and network into *out: 0, or -1 when the Regulation
 * sets none for that year. */
int ec_afir_rule(int year, ec_afir_network network, ec_afir_rule_t *out);
/* The years that have a rule, for messages: "2025, 2027 and 2030". */
const char *ec_afir_years(void);
/* "core" or "comprehensive" into *out: 0, else -1. */
int ec_afir_network_parse(const char *s, ec_afir_network *out);
const char *ec_afir_network_name(ec_afir_network n);

/* A recharging pool: one site. */
typedef struct {
    char id[64];
    char name[128];
    ec_latlon_t pos;
    double power_kw; /* the sum of its points' power */
    int fast_points; /* its points of EC_AFIR_FAST_KW or more */
} ec_afir_pool_t;

/* One pool per site id of sites (the rows of a site summed; a site's
 * position is its first row's), in order of first appearance. Returns new
 * *pools (free with ec_free). */
ec_err ec_afir_pools(const ec_sites *sites, ec_afir_pool_t **pools, size_t *n);
/* 1 when the pool is big enough for the rule. */
int ec_afir_pool_qualifies(const ec_afir_pool_t *p, const ec_afir_rule_t *rule);

/* One direction of travel on a segment. */
typedef struct {
    int present; /* the graph has this direction */
    int compliant;
    double max_gap_km; /* the longest gap a truck meets driving it (INFINITY: no pool in reach) */
    char reason[320];  /* why not, "" when compliant */
} ec_afir_dir_t;

/* A segment of the corridor, both directions of travel. */
typedef struct {
    uint32_t from, to;      /* graph nodes, in the direction the graph gave first */
    double length_km;       /* the mean of its directions' lengths */
    int pools;              /* qualifying pools within EC_AFIR_NEAR_KM */
    ec_afir_dir_t fwd, rev; /* from->to, to->from */
    int compliant;          /* every direction present complies */
    char reason[644];       /* the failing directions' reasons, "" when compliant */
} ec_afir_segment_t;

typedef struct {
    ec_afir_rule_t rule;
    double network_km, compliant_km;
    double share;                               /* compliant_km / network_km, 0..1 */
    int meets_target;                           /* share >= rule.required_share */
    size_t pools, pools_qualifying, pools_near; /* all, big enough, and of those near a segment */
    ec_afir_segment_t *segs;                    /* in the order of the graph's edges */
    size_t n_segs;
} ec_afir_result_t;

/* Checks the corridor g (loaded with ec_graph_load_corridor: each edge a
 * way of its own) against rule with the n pools. Borrows g and pools;
 * fills *out (free with ec_afir_result_free). */
ec_err ec_afir_check(const ec_graph *g, const ec_afir_pool_t *pools, size_t n,
                     const ec_afir_rule_t *rule, ec_afir_result_t *out);
void ec_afir_result_free(ec_afir_result_t *r);

#endif

/* osm_tags.c - what OSM tags mean for a truck: speeds, access, dimensions. */
#include "graph_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Typical truck speeds (km/h) per road class where a way has no maxspeed.
 * They are the speeds a heavy truck holds on such roads, not the car limits;
 * docs/graph.md shows this table. */
static const struct {
    const char *highway;
    double kmh;
} class_speed[] = {
    {"motorway", 80},      {"motorway_link", 50}, {"trunk", 75},        {"trunk_link", 45},
    {"primary", 65},       {"primary_link", 40},  {"secondary", 55},    {"secondary_link", 35},
    {"tertiary", 45},      {"tertiary_link", 30}, {"unclassified", 35}, {"residential", 25},
    {"living_street", 7},  {"service", 15},       {"road", 25},
};

double ec_osm_class_speed_kmh(const char *highway)
{
    for (size_t i = 0; i < sizeof class_speed / sizeof class_speed[0]; i++)
        if (strcmp(class_speed[i].highway, highway) == 0) return class_speed[i].kmh;
    return 0.0;
}

/* Parses a leading number; returns the rest after spaces, or NULL. */
static const char *number(const char *v, double *out)
{
    char *end;
    while (*v == ' ') v++;
    if (!(isdigit((unsigned char)*v) || *v == '.')) return NULL;
    double x = strtod(v, &end);
    if (end == v || !isfinite(x) || x < 0) return NULL;
    *out = x;
    while (*end == ' ') end++;
    return end;
}

int ec_osm_parse_length_m(const char *v, double *out)
{
    double x, inch = 0;
    const char *rest = number(v, &x);
    if (!rest) return -1;
    if (*rest == '\0' || strcmp(rest, "m") == 0) {
        *out = x;
        return 0;
    }
    if (*rest == '\'') { /* feet and inches: 12'6" */
        rest++;
        if (*rest && *rest != '"') {
            rest = number(rest, &inch);
            if (!rest || (*rest && strcmp(rest, "\"") != 0)) return -1;
        }
        *out = x * 0.3048 + inch * 0.0254;
        return 0;
    }
    if (strcmp(rest, "ft") == 0) {
        *out = x * 0.3048;
        return 0;
    }
    return -1;
}

int ec_osm_parse_weight_t(const char *v, double *out)
{
    double x;
    const char *rest = number(v, &x);
    if (!rest) return -1;
    if (*rest == '\0' || strcmp(rest, "t") == 0) *out = x;
    else if (strcmp(rest, "kg") == 0) *out = x / 1000.0;
    else if (strcmp(rest, "lbs") == 0 || strcmp(rest, "lb") == 0) *out = x * 0.00045359237;
    else if (strcmp(rest, "st") == 0) *out = x * 0.90718474; /* US short tons */
    else return -1;
    return 0;
}

int ec_osm_parse_speed_kmh(const char *v, double *out)
{
    double x;
    const char *rest = number(v, &x);
    if (!rest) return -1;
    if (*rest == '\0' || strcmp(rest, "km/h") == 0 || strcmp(rest, "kmh") == 0) *out = x;
    else if (strcmp(rest, "mph") == 0) *out = x * 1.609344;
    else return -1;
    if (*out <= 0) return -1;
    return 0;
}

/* Values of access-like tags that close a road to a truck. */
static int denies(const char *v)
{
    static const char *const no[] = {"no",  "private", "agricultural", "forestry", "emergency",
                                     "psv", "bus",     "military",     "use_sidepath", NULL};
    for (int i = 0; no[i]; i++)
        if (strcmp(v, no[i]) == 0) return 1;
    return 0;
}

static const char *tag(const osm_tags *t, const char *key)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->kv[i].key, key) == 0) return t->kv[i].value;
    return NULL;
}

/* 1 when the limit in tag key (if any, parsed) is below what the vehicle needs. */
static int over_limit(const osm_tags *t, const char *key, double need,
                      int (*parse)(const char *, double *))
{
    const char *v = tag(t, key);
    double lim;
    if (!v || need <= 0 || parse(v, &lim)) return 0;
    return lim < need;
}

int graph__osm_way_usable(const osm_tags *t, const ec_vehicle_class_t *veh, osm_way_rule *rule)
{
    const char *hw = tag(t, "highway");
    if (!hw) return 0;
    double kmh = ec_osm_class_speed_kmh(hw);
    if (kmh <= 0) return 0;
    const char *area = tag(t, "area");
    if (area && strcmp(area, "yes") == 0) return 0;

    if (!veh->ignore_access) {
        static const char *const chain[] = {"hgv", "motor_vehicle", "vehicle", "access", NULL};
        for (int i = 0; chain[i]; i++) {
            const char *v = tag(t, chain[i]);
            if (v) {
                if (denies(v)) return 0;
                break;
            }
        }
        const char *hz = tag(t, "hazmat");
        if (veh->hazmat && hz && strcmp(hz, "no") == 0) return 0;
        if (over_limit(t, "maxheight", veh->height_m, ec_osm_parse_length_m) ||
            over_limit(t, "maxheight:physical", veh->height_m, ec_osm_parse_length_m) ||
            over_limit(t, "maxwidth", veh->width_m, ec_osm_parse_length_m) ||
            over_limit(t, "maxlength", veh->length_m, ec_osm_parse_length_m) ||
            over_limit(t, "maxweight", veh->weight_t, ec_osm_parse_weight_t) ||
            over_limit(t, "maxweight:hgv", veh->weight_t, ec_osm_parse_weight_t) ||
            over_limit(t, "maxaxleload", veh->axle_load_t, ec_osm_parse_weight_t))
            return 0;
    }

    /* Direction: explicit oneway wins; motorways and roundabouts default to one way. */
    const char *ow = tag(t, "oneway"), *junction = tag(t, "junction");
    int dir = 0;
    if (strcmp(hw, "motorway") == 0 || strcmp(hw, "motorway_link") == 0) dir = 1;
    if (junction && (strcmp(junction, "roundabout") == 0 || strcmp(junction, "circular") == 0))
        dir = 1;
    if (ow) {
        if (!strcmp(ow, "yes") || !strcmp(ow, "true") || !strcmp(ow, "1")) dir = 1;
        else if (!strcmp(ow, "-1") || !strcmp(ow, "reverse")) dir = -1;
        else if (!strcmp(ow, "no") || !strcmp(ow, "false") || !strcmp(ow, "0")) dir = 0;
    }

    double limit;
    const char *ms = tag(t, "maxspeed:hgv");
    if (!ms || ec_osm_parse_speed_kmh(ms, &limit)) {
        ms = tag(t, "maxspeed");
        if (ms && ec_osm_parse_speed_kmh(ms, &limit) == 0 && limit < kmh) kmh = limit;
    } else {
        kmh = limit;
    }
    if (veh->max_speed_kmh > 0 && kmh > veh->max_speed_kmh) kmh = veh->max_speed_kmh;
    rule->dir = dir;
    rule->speed_kmh = kmh;
    return 1;
}

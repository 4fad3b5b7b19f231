/* graph_internal.h - shared between the files of src/graph. */
#ifndef EC_GRAPH_INTERNAL_H
#define EC_GRAPH_INTERNAL_H

#include "ecorridor/ec_graph.h"

typedef struct {
    const char *key, *value;
} osm_kv;

typedef struct {
    const osm_kv *kv;
    int n;
} osm_tags;

typedef struct {
    int dir;          /* 1 forward only, -1 backward only, 0 both */
    double speed_kmh; /* truck speed on this way */
} osm_way_rule;

/* 1 when the vehicle may use a way with these tags; fills rule. */
int graph__osm_way_usable(const osm_tags *t, const ec_vehicle_class_t *veh, osm_way_rule *rule);

/* Length and duration of a road piece in the graph's integer units. Fails
 * with EC_ERANGE for lengths that cannot be a road (over 1,000 km). */
ec_err graph__arc_units(double length_m, double speed_kmh, uint32_t *length_cm,
                        uint32_t *duration_ms);

/* A table of NUL-terminated strings, each kept once; offset 0 is "". */
typedef struct {
    ec_buf buf;
    ec_map idx; /* string hash -> offset */
} graph_strtab;

ec_err graph__strtab_init(graph_strtab *t, size_t max_bytes);
/* The offset of s (NULL is ""), added when new; s is cut to EC_ROAD_STR_MAX
 * bytes at a character boundary. EC_ELIMIT when the table is full. */
ec_err graph__strtab_add(graph_strtab *t, const char *s, uint32_t *off);
void graph__strtab_free(graph_strtab *t);

/* Records p to be freed with the graph; returns p. */
void *graph__own(ec_graph *g, void *p);

#endif

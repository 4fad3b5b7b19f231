/* walk.h - places along a route (walk.c), for the planner's timeline. */
#ifndef EC_ROUTE_WALK_H
#define EC_ROUTE_WALK_H

#include "ecorridor/ec_route.h"

/* A place on a route: the position, the road arc it lies on (on the partial
 * pieces at the ends, the end's own arc) and the named node nearest in
 * driving time. */
typedef struct {
    ec_latlon_t at;
    uint32_t arc;
    uint32_t named; /* UINT32_MAX: no named node on the route */
    double route_s; /* driving time from the route's start to `at` */
} route_spot_t;

/* The places `drive_s[i]` seconds of driving into the route from a to b
 * (each clamped to the route), written into out[i]. */
ec_err route_walk(const ec_graph *g, ec_query *q, const ec_snap_t *a, const ec_snap_t *b, const double *drive_s,
                  int n, route_spot_t *out);

/* Positions of a route written once each: `last` and `any` carry the last
 * position written from one call to the next. */
typedef struct {
    ec_latlon_t last;
    int any;
} route_line_t;

void route_line(const ec_graph *g, const ec_snap_t *from, const ec_snap_t *to, const ec_path_t *p, int with_end,
                route_line_t *l, ec_jw *w);

/* "A3 Cologne–Montabaur, near Montabaur": the road of the spot's arc and the
 * nearest named place, as far as the graph knows them ("" when neither). */
void route_near(const ec_graph *g, const route_spot_t *s, char *out, size_t n);

#endif

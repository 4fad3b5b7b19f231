/* walk.c - places along a route: where a pause falls, the road it lies on,
 * and the route's line with every position once. */
#include "walk.h"

#include <math.h>
#include <string.h>

static void put(route_line_t *l, ec_latlon_t p, ec_jw *w)
{
    /* Positions are written at 1e-7 degrees: equal there is the same point. */
    if (l->any && fabs(l->last.lat - p.lat) < 5e-8 && fabs(l->last.lon - p.lon) < 5e-8) return;
    ec_geojson_position(w, p);
    l->last = p;
    l->any = 1;
}

void route_line(const ec_graph *g, const ec_snap_t *from, const ec_snap_t *to, const ec_path_t *p, int with_end,
                route_line_t *l, ec_jw *w)
{
    put(l, from->point, w);
    if (p->first_node != UINT32_MAX) {
        put(l, ec_graph_point(g, p->first_node), w);
        for (uint32_t i = 0; i < p->n_arcs; i++) put(l, ec_graph_point(g, g->arcs[p->arcs[i]].to), w);
    }
    if (with_end) put(l, to->point, w);
}

void ec_route_geojson(const ec_graph *g, const ec_snap_t *from, const ec_snap_t *to, const ec_path_t *p, ec_jw *w)
{
    route_line_t l = {{0, 0}, 0};
    ec_jw_obj_begin(w);
    ec_jw_key(w, "type"), ec_jw_str(w, "LineString");
    ec_jw_key(w, "coordinates");
    ec_jw_arr_begin(w);
    route_line(g, from, to, p, 1, &l, w);
    ec_jw_arr_end(w);
    ec_jw_obj_end(w);
}

static ec_latlon_t lerp(ec_latlon_t a, ec_latlon_t b, double f)
{
    ec_latlon_t r = {a.lat + (b.lat - a.lat) * f, a.lon + (b.lon - a.lon) * f};
    return r;
}

ec_err route_walk(const ec_graph *g, ec_query *q, const ec_snap_t *a, const ec_snap_t *b, const double *drive_s,
                  int n, route_spot_t *out)
{
    ec_path_t p;
    ec_err rc = ec_query_route(q, a, b, &p);
    if (rc) return rc;
    /* The pieces of the route: the partial arc from a to the first node, the
     * arcs, the partial arc from the last node to b. The partial pieces share
     * what the arcs leave of the route's time in proportion to their lengths. */
    double arcs_s = 0;
    for (uint32_t i = 0; i < p.n_arcs; i++) arcs_s += g->arcs[p.arcs[i]].duration_ms / 1e3;
    double lead_m = 0, tail_m = 0;
    if (p.first_node != UINT32_MAX) {
        lead_m = ec_geo_haversine_m(a->point, ec_graph_point(g, p.first_node));
        tail_m = ec_geo_haversine_m(ec_graph_point(g, p.last_node), b->point);
    }
    double part_s = fmax(0, p.duration_s - arcs_s);
    /* The arcs of the partial pieces, for naming the road there; a route that
     * leaves from a node (or ends on one) is on its first (last) arc. */
    uint32_t first_arc, last_arc;
    ec_path_end_arcs(a, b, &p, &first_arc, &last_arc);
    if (first_arc == UINT32_MAX) first_arc = p.n_arcs ? p.arcs[0] : a->arc;
    if (last_arc == UINT32_MAX) last_arc = p.n_arcs ? p.arcs[p.n_arcs - 1] : b->arc;
    double lead_s = lead_m + tail_m > 0 ? part_s * lead_m / (lead_m + tail_m) : 0;
    for (int k = 0; k < n; k++) {
        route_spot_t *s = &out[k];
        double want = fmin(fmax(drive_s[k], 0), p.duration_s);
        s->arc = first_arc;
        s->named = UINT32_MAX;
        s->route_s = want;
        if (p.first_node == UINT32_MAX) {
            s->at = lerp(a->point, b->point, p.duration_s > 0 ? want / p.duration_s : 0);
            continue;
        }
        /* Walk the pieces to the one `want` falls in; the named node nearest
         * in time is kept on the way. */
        double t = 0, best = INFINITY;
        ec_latlon_t from = a->point;
        uint32_t node = p.first_node;
        int placed = 0;
        if (want <= lead_s) {
            s->at = lerp(from, ec_graph_point(g, node), lead_s > 0 ? want / lead_s : 1);
            s->arc = first_arc;
            placed = 1;
        }
        t = lead_s;
        if (ec_graph_node_name(g, node) && fabs(t - want) < best) best = fabs(t - want), s->named = node;
        for (uint32_t i = 0; i < p.n_arcs; i++) {
            const ec_arc_t *arc = &g->arcs[p.arcs[i]];
            double d = arc->duration_ms / 1e3;
            if (!placed && want <= t + d) {
                s->at = lerp(ec_graph_point(g, node), ec_graph_point(g, arc->to), d > 0 ? (want - t) / d : 1);
                s->arc = p.arcs[i];
                placed = 1;
            }
            t += d;
            node = arc->to;
            if (ec_graph_node_name(g, node) && fabs(t - want) < best) best = fabs(t - want), s->named = node;
            if (placed && t > want + best) break; /* the named nodes from here on are farther */
        }
        if (!placed) {
            double rest = p.duration_s - t;
            s->at = lerp(ec_graph_point(g, node), b->point, rest > 0 ? (want - t) / rest : 1);
            s->arc = last_arc;
        }
    }
    return EC_OK;
}

void route_near(const ec_graph *g, const route_spot_t *s, char *out, size_t n)
{
    const char *place = s->named != UINT32_MAX ? ec_graph_node_name(g, s->named) : NULL, *ref = "", *name = "";
    if (s->arc != UINT32_MAX) ec_graph_arc_road(g, s->arc, &ref, &name);
    snprintf(out, n, "%s%s%s%s%s", ref, *ref && *name ? " " : "", name, (*ref || *name) && place ? ", " : "",
             place ? "near " : "");
    if (place) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s", place);
    }
}

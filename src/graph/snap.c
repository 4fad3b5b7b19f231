/* snap.c - the nearest usable road to a WGS84 point. */
#include "graph_internal.h"

#include <math.h>

#define CELL_DEG 0.005 /* about 550 m north-south */
#define NODE_M 0.01    /* nearer than this to a node is at it */

ec_err ec_graph_snap_prepare(ec_graph *g)
{
    if (g->grid.cell_start) return EC_OK;
    ec_latlon_t *a = ec_malloc(((size_t)g->n_arcs + 1) * sizeof *a);
    ec_latlon_t *b = ec_malloc(((size_t)g->n_arcs + 1) * sizeof *b);
    g->grid_tail = ec_malloc(((size_t)g->n_arcs + 1) * sizeof *g->grid_tail);
    ec_err rc = EC_ENOMEM;
    if (!a || !b || !g->grid_tail) goto done;
    for (uint32_t v = 0; v < g->n_nodes; v++)
        for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++) {
            g->grid_tail[e] = v;
            a[e] = ec_graph_point(g, v);
            b[e] = ec_graph_point(g, g->arcs[e].to);
        }
    rc = ec_grid_build(&g->grid, a, b, g->n_arcs, CELL_DEG);
done:
    ec_free(a);
    ec_free(b);
    if (rc) {
        ec_free(g->grid_tail);
        g->grid_tail = NULL;
    }
    return rc;
}

typedef struct {
    const ec_graph *g;
    ec_latlon_t p;
    double best_m, best_t;
    uint32_t best_arc;
} snap_ctx;

/* 1 when t is an end of its arc. */
static int at_end(double t)
{
    return t <= 0.0 || t >= 1.0;
}

static void visit(void *vctx, uint32_t arc)
{
    snap_ctx *c = vctx;
    const ec_graph *g = c->g;
    double t;
    double d = ec_geo_point_segment_m(c->p, ec_graph_point(g, g->grid_tail[arc]),
                                      ec_graph_point(g, g->arcs[arc].to), &t);
    /* Equally near, a road that ends here (a junction, where every way out
     * is open) wins over one passing through (a bridge over it). */
    int better = d < c->best_m;
    if (d == c->best_m && at_end(t) != at_end(c->best_t)) better = at_end(t);
    else if (d == c->best_m && arc < c->best_arc) better = 1;
    if (better) {
        c->best_m = d;
        c->best_t = t;
        c->best_arc = arc;
    }
}

ec_err ec_graph_snap(const ec_graph *g, ec_latlon_t p, double max_m, ec_snap_t *out)
{
    if (!ec_geo_valid(p))
        return ec_fail(EC_ERANGE, "%.6f,%.6f is not a WGS84 coordinate", p.lat, p.lon);
    if (!g->grid.cell_start) return ec_fail(EC_EINVAL, "snapping index not prepared");
    snap_ctx c = {g, p, INFINITY, 0, UINT32_MAX};
    /* Widen the search until a road is found; a segment in a nearer cell may
     * still be farther than one in the next ring, so search one ring more. */
    for (double r = 250.0;; r *= 2) {
        if (r > max_m) r = max_m;
        ec_grid_visit(&g->grid, p, r, visit, &c);
        if (c.best_arc != UINT32_MAX && c.best_m <= r) break;
        if (r >= max_m) break;
    }
    if (c.best_arc == UINT32_MAX || c.best_m > max_m)
        return ec_fail(EC_ENOTFOUND, "%.6f,%.6f is off the map: no usable road within %.0f m", p.lat,
                       p.lon, max_m);
    const ec_arc_t *a = &g->arcs[c.best_arc];
    /* A point within a centimetre of a node is at the node, so that it may
     * leave or be reached by every arc there (see snap_seeds in query.c). */
    double len_m = a->length_cm / 100.0;
    if (c.best_t * len_m < NODE_M) c.best_t = 0.0;
    else if ((1.0 - c.best_t) * len_m < NODE_M) c.best_t = 1.0;
    out->arc = c.best_arc;
    out->tail = g->grid_tail[c.best_arc];
    out->head = a->to;
    out->frac = c.best_t;
    out->offset_m = c.best_m;
    ec_latlon_t pa = ec_graph_point(g, out->tail), pb = ec_graph_point(g, out->head);
    out->point.lat = pa.lat + (pb.lat - pa.lat) * c.best_t;
    out->point.lon = pa.lon + (pb.lon - pa.lon) * c.best_t;
    out->rev_arc = UINT32_MAX;
    for (uint32_t e = g->first_out[out->head]; e < g->first_out[out->head + 1]; e++)
        if (g->arcs[e].to == out->tail &&
            (out->rev_arc == UINT32_MAX ||
             ec_arc_weight(g, &g->arcs[e]) < ec_arc_weight(g, &g->arcs[out->rev_arc])))
            out->rev_arc = e;
    return EC_OK;
}

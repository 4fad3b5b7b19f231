/* map_network.c - the road graph as the web page's base layer: GeoJSON lines
 * of its roads and points of its named places, simplified to a bounded
 * number of vertices.
 *
 * A road is drawn once, not once per direction: the arc back on the same
 * way (OSM) or with the same reference (a corridor's two segments) is the
 * same line. Consecutive arcs of one road (its reference and name) are one
 * line through every node where that road only goes on; a line ends where
 * its road ends, branches or meets itself. Over the cap, lines are
 * simplified (Douglas-Peucker) ever more coarsely, then only the numbered
 * roads are kept, then lines are left out once the cap is reached. */
#include "map_network.h"

#include <math.h>
#include <string.h>

typedef struct {
    uint32_t u, v;
    uint32_t arc; /* one of its arcs, for the road's name */
    uint64_t key; /* the road: its reference and name */
    int used;
} net_edge;

typedef struct {
    const ec_graph *g;
    net_edge *e;
    size_t n_e;
    uint32_t *first, *inc; /* CSR: the edges at each node */
} net_t;

static uint64_t road_key(const ec_graph *g, uint32_t arc)
{
    const char *ref, *name;
    ec_graph_arc_road(g, arc, &ref, &name);
    return ec_hash_bytes(ref, strlen(ref)) * 1000003u ^ ec_hash_bytes(name, strlen(name));
}

/* The number of edges of key at node. */
static int key_degree(const net_t *n, uint32_t node, uint64_t key)
{
    int d = 0;
    for (uint32_t i = n->first[node]; i < n->first[node + 1]; i++) d += n->e[n->inc[i]].key == key;
    return d;
}

/* Squared distance in metres (locally flat) of p from the segment a-b. */
static double seg_dist2(const double *p, const double *a, const double *b)
{
    double dx = b[0] - a[0], dy = b[1] - a[1], t = 0, l2 = dx * dx + dy * dy;
    if (l2 > 0) t = ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double x = a[0] + t * dx - p[0], y = a[1] + t * dy - p[1];
    return x * x + y * y;
}

/* Douglas-Peucker over xy[lo..hi] (metres; lo and hi kept): marks the points
 * kept. Span by span from the left, without recursion, so a line of a
 * million vertices needs no deep stack on a worker thread. */
static void simplify(const double *xy, uint8_t *keep, size_t lo, size_t hi, double tol2)
{
    size_t a = lo;
    while (a < hi) {
        size_t b = a + 1;
        while (b < hi && !keep[b]) b++;
        double best = -1;
        size_t at = a;
        for (size_t i = a + 1; i < b; i++) {
            double d = seg_dist2(xy + 2 * i, xy + 2 * a, xy + 2 * b);
            if (d > best) best = d, at = i;
        }
        if (best > tol2) keep[at] = 1; /* the span a..at next, then at..b */
        else a = b;
    }
}

/* The lines: chains of edges of one road through nodes where only that road
 * goes on, as node lists; lines[k] spans nodes[start[k]..start[k+1]). */
typedef struct {
    ec_vec nodes;  /* uint32_t */
    ec_vec start;  /* size_t, one more than lines */
    ec_vec arc;    /* uint32_t: an arc of each line */
} net_lines;

static ec_err walk(net_t *n, size_t e0, uint32_t from, net_lines *L)
{
    ec_err rc = ec_vec_push(&L->start, &L->nodes.len);
    if (!rc) rc = ec_vec_push(&L->arc, &n->e[e0].arc);
    if (!rc) rc = ec_vec_push(&L->nodes, &from);
    uint32_t at = from;
    size_t e = e0;
    while (!rc) {
        net_edge *x = &n->e[e];
        x->used = 1;
        at = x->u == at ? x->v : x->u;
        if ((rc = ec_vec_push(&L->nodes, &at))) break;
        if (at == from || key_degree(n, at, x->key) != 2) break;
        size_t next = SIZE_MAX;
        for (uint32_t i = n->first[at]; i < n->first[at + 1] && next == SIZE_MAX; i++)
            if (!n->e[n->inc[i]].used && n->e[n->inc[i]].key == x->key) next = n->inc[i];
        if (next == SIZE_MAX) break;
        e = next;
    }
    return rc;
}

/* The graph's roads as lines: one direction of each two-way road. */
static ec_err net_lines_build(const ec_graph *g, net_lines *L)
{
    net_t n = {g, NULL, 0, NULL, NULL};
    ec_err rc = EC_ENOMEM;
    n.e = ec_malloc((g->n_arcs ? g->n_arcs : 1) * sizeof *n.e);
    n.first = ec_calloc((size_t)g->n_nodes + 2, sizeof *n.first);
    if (!n.e || !n.first) goto done;
    for (uint32_t u = 0; u < g->n_nodes; u++) {
        for (uint32_t a = g->first_out[u]; a < g->first_out[u + 1]; a++) {
            uint32_t v = g->arcs[a].to;
            if (v == u) continue;
            /* The way back on the same road is the same line: the same way
             * (OSM), the same reference (a corridor's two directions are two
             * segments, named after their ends), or the same reference and
             * name (a corridor's unnamed segments). */
            const char *ref, *name, *ref_b, *name_b;
            ec_graph_arc_road(g, a, &ref, &name);
            int twin = 0;
            for (uint32_t b = g->first_out[v]; b < g->first_out[v + 1] && !twin; b++) {
                if (g->arcs[b].to != u) continue;
                ec_graph_arc_road(g, b, &ref_b, &name_b);
                twin = g->arcs[b].way == g->arcs[a].way || (!strcmp(ref, ref_b) && (ref[0] || !strcmp(name, name_b)));
            }
            if (twin && v < u) continue;
            net_edge e = {u, v, a, road_key(g, a), 0};
            n.e[n.n_e++] = e;
            n.first[u + 2]++, n.first[v + 2]++;
        }
    }
    for (uint32_t i = 2; i < g->n_nodes + 2; i++) n.first[i] += n.first[i - 1];
    n.inc = ec_malloc((n.n_e ? 2 * n.n_e : 1) * sizeof *n.inc);
    if (!n.inc) goto done;
    for (size_t i = 0; i < n.n_e; i++) {
        n.inc[n.first[n.e[i].u + 1]++] = (uint32_t)i;
        n.inc[n.first[n.e[i].v + 1]++] = (uint32_t)i;
    }
    /* Lines start where their road ends, branches or meets itself; what is
     * left are closed rings. */
    rc = EC_OK;
    for (int ring = 0; ring < 2 && !rc; ring++)
        for (size_t i = 0; i < n.n_e && !rc; i++) {
            net_edge *x = &n.e[i];
            if (x->used) continue;
            if (!ring && key_degree(&n, x->u, x->key) != 2) rc = walk(&n, i, x->u, L);
            else if (!ring && key_degree(&n, x->v, x->key) != 2) rc = walk(&n, i, x->v, L);
            else if (ring) rc = walk(&n, i, x->u, L);
        }
    if (!rc) rc = ec_vec_push(&L->start, &L->nodes.len);
done:
    ec_free(n.e);
    ec_free(n.first);
    ec_free(n.inc);
    return rc;
}

/* Marks in keep the vertices lines keep at tolerance tol_m (0: all), and
 * counts them; lines without a reference are left out when refs_only. */
static size_t net_simplify(const ec_graph *g, const net_lines *L, double tol_m, int refs_only, uint8_t *keep,
                           double *xy)
{
    size_t kept = 0, n_lines = L->start.len - 1;
    for (size_t k = 0; k < n_lines; k++) {
        size_t lo = EC_VEC_AT(&L->start, size_t, k), hi = EC_VEC_AT(&L->start, size_t, k + 1);
        const char *ref, *name;
        ec_graph_arc_road(g, EC_VEC_AT(&L->arc, uint32_t, k), &ref, &name);
        memset(keep + lo, 0, hi - lo);
        if (refs_only && !ref[0]) continue;
        keep[lo] = keep[hi - 1] = 1;
        if (tol_m <= 0) {
            memset(keep + lo, 1, hi - lo);
        } else {
            ec_latlon_t p0 = ec_graph_point(g, EC_VEC_AT(&L->nodes, uint32_t, lo));
            double kx = 111320.0 * cos(p0.lat * M_PI / 180.0), ky = 110540.0;
            for (size_t i = lo; i < hi; i++) {
                ec_latlon_t p = ec_graph_point(g, EC_VEC_AT(&L->nodes, uint32_t, i));
                xy[2 * i] = (p.lon - p0.lon) * kx, xy[2 * i + 1] = (p.lat - p0.lat) * ky;
            }
            simplify(xy, keep, lo, hi - 1, tol_m * tol_m);
        }
        for (size_t i = lo; i < hi; i++) kept += keep[i];
    }
    return kept;
}

ec_err map__network_geojson(const ec_graph *g, size_t max_vertices, const char *tile_url, const char *tile_attr,
                             ec_buf *out)
{
    net_lines L;
    ec_vec_init(&L.nodes, sizeof(uint32_t));
    ec_vec_init(&L.start, sizeof(size_t));
    ec_vec_init(&L.arc, sizeof(uint32_t));
    uint8_t *keep = NULL;
    double *xy = NULL;
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "type"), ec_jw_str(&w, "FeatureCollection");
    ec_jw_key(&w, "tile_url"), tile_url ? ec_jw_str(&w, tile_url) : ec_jw_null(&w);
    ec_jw_key(&w, "tile_attribution"), tile_attr ? ec_jw_str(&w, tile_attr) : ec_jw_null(&w);
    ec_jw_key(&w, "features");
    ec_jw_arr_begin(&w);
    ec_err rc = EC_OK;
    if (g && (rc = net_lines_build(g, &L)) == EC_OK) {
        keep = ec_malloc(L.nodes.len + 1);
        xy = ec_malloc((2 * L.nodes.len + 1) * sizeof *xy);
        if (!keep || !xy) rc = EC_ENOMEM;
    }
    if (g && !rc) {
        /* The finest drawing under the cap: every vertex, then lines
         * simplified ever more coarsely, then the numbered roads only
         * (simplified again, at last to their ends), then lines left out
         * at the cap. */
        static const double tol_m[] = {0, 2, 10, 30, 100, 300, 1000, 1e12};
        size_t n_tol = sizeof tol_m / sizeof *tol_m, t = 0, emitted = 0;
        int refs_only = 0;
        while (net_simplify(g, &L, tol_m[t], refs_only, keep, xy) > max_vertices) {
            if (t + 2 < n_tol || (refs_only && t + 1 < n_tol)) t++;
            else if (!refs_only) refs_only = 1, t = 2;
            else break;
        }
        for (size_t k = 0; k + 1 < L.start.len; k++) {
            size_t lo = EC_VEC_AT(&L.start, size_t, k), hi = EC_VEC_AT(&L.start, size_t, k + 1), n = 0;
            for (size_t i = lo; i < hi; i++) n += keep[i];
            if (!n || emitted + n > max_vertices) continue;
            emitted += n;
            const char *ref, *name;
            ec_graph_arc_road(g, EC_VEC_AT(&L.arc, uint32_t, k), &ref, &name);
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "type"), ec_jw_str(&w, "Feature");
            ec_jw_key(&w, "properties");
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "kind"), ec_jw_str(&w, "road");
            ec_jw_key(&w, "ref"), ec_jw_str(&w, ref);
            ec_jw_key(&w, "name"), ec_jw_str(&w, name);
            ec_jw_obj_end(&w);
            ec_jw_key(&w, "geometry");
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "type"), ec_jw_str(&w, "LineString");
            ec_jw_key(&w, "coordinates");
            ec_jw_arr_begin(&w);
            for (size_t i = lo; i < hi; i++) {
                if (!keep[i]) continue;
                ec_latlon_t p = ec_graph_point(g, EC_VEC_AT(&L.nodes, uint32_t, i));
                ec_jw_arr_begin(&w);
                ec_jw_num(&w, p.lon, 6);
                ec_jw_num(&w, p.lat, 6);
                ec_jw_arr_end(&w);
            }
            ec_jw_arr_end(&w);
            ec_jw_obj_end(&w);
            ec_jw_obj_end(&w);
        }
        for (uint32_t u = 0; u < g->n_nodes; u++) {
            const char *name = ec_graph_node_name(g, u);
            if (!name || !name[0]) continue;
            ec_latlon_t p = ec_graph_point(g, u);
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "type"), ec_jw_str(&w, "Feature");
            ec_jw_key(&w, "properties");
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "kind"), ec_jw_str(&w, "place");
            ec_jw_key(&w, "name"), ec_jw_str(&w, name);
            ec_jw_obj_end(&w);
            ec_jw_key(&w, "geometry");
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "type"), ec_jw_str(&w, "Point");
            ec_jw_key(&w, "coordinates");
            ec_jw_arr_begin(&w);
            ec_jw_num(&w, p.lon, 6);
            ec_jw_num(&w, p.lat, 6);
            ec_jw_arr_end(&w);
            ec_jw_obj_end(&w);
            ec_jw_obj_end(&w);
        }
    }
    ec_jw_arr_end(&w);
    ec_jw_obj_end(&w);
    ec_free(keep);
    ec_free(xy);
    ec_vec_free(&L.nodes);
    ec_vec_free(&L.start);
    ec_vec_free(&L.arc);
    ec_err wrc = ec_jw_finish(&w);
    return rc ? rc : wrc;
}


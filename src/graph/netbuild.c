/* netbuild.c - collects nodes and arcs from a loader, then lays out the CSR graph. */
#include "graph_internal.h"

#include <math.h>
#include <string.h>
#include <sys/mman.h>

typedef struct {
    uint32_t from;
    ec_arc_t arc;
} raw_arc;

struct ec_netbuild {
    ec_vec ext;    /* int64_t */
    ec_vec coord;  /* ec_coord_t */
    ec_vec name_off; /* uint32_t, start of each node's name; UINT32_MAX for none */
    ec_buf names;
    int any_name;
    ec_vec elev;   /* float, NAN for unknown */
    int any_elev;
    ec_vec ways;   /* int64_t */
    ec_vec way_ref, way_name; /* uint32_t offsets into roads, per way */
    graph_strtab roads;
    ec_vec rest;   /* ec_rest_area_t */
    ec_vec arcs;   /* raw_arc */
};

#define MAX_ROAD_BYTES (256u << 20)

#define MAX_NODES 200000000u
#define MAX_ARCS 1000000000u

ec_err ec_netbuild_new(ec_netbuild **out)
{
    ec_netbuild *nb = ec_calloc(1, sizeof *nb);
    if (!nb) return EC_ENOMEM;
    ec_vec_init(&nb->ext, sizeof(int64_t));
    ec_vec_init(&nb->coord, sizeof(ec_coord_t));
    ec_vec_init(&nb->name_off, sizeof(uint32_t));
    ec_buf_init(&nb->names, 1u << 30);
    ec_vec_init(&nb->ways, sizeof(int64_t));
    ec_vec_init(&nb->arcs, sizeof(raw_arc));
    ec_vec_init(&nb->elev, sizeof(float));
    ec_vec_init(&nb->way_ref, sizeof(uint32_t));
    ec_vec_init(&nb->way_name, sizeof(uint32_t));
    ec_vec_init(&nb->rest, sizeof(ec_rest_area_t));
    if (graph__strtab_init(&nb->roads, MAX_ROAD_BYTES)) {
        ec_netbuild_free(nb);
        return EC_ENOMEM;
    }
    *out = nb;
    return EC_OK;
}

void ec_netbuild_free(ec_netbuild *nb)
{
    if (!nb) return;
    ec_vec_free(&nb->ext);
    ec_vec_free(&nb->coord);
    ec_vec_free(&nb->name_off);
    ec_buf_free(&nb->names);
    ec_vec_free(&nb->ways);
    ec_vec_free(&nb->arcs);
    ec_vec_free(&nb->elev);
    ec_vec_free(&nb->way_ref);
    ec_vec_free(&nb->way_name);
    ec_vec_free(&nb->rest);
    graph__strtab_free(&nb->roads);
    ec_free(nb);
}

uint32_t ec_netbuild_n_nodes(const ec_netbuild *nb)
{
    return (uint32_t)nb->ext.len;
}

uint32_t ec_netbuild_n_arcs(const ec_netbuild *nb)
{
    return (uint32_t)nb->arcs.len;
}

ec_err ec_netbuild_node(ec_netbuild *nb, int64_t ext_id, ec_latlon_t p, const char *name,
                        uint32_t *idx)
{
    if (nb->ext.len >= MAX_NODES) return ec_fail(EC_ELIMIT, "more than %u nodes", MAX_NODES);
    if (!ec_geo_valid(p)) return EC_ERANGE;
    ec_coord_t c = {(int32_t)(p.lat * 1e7 + (p.lat < 0 ? -0.5 : 0.5)),
                    (int32_t)(p.lon * 1e7 + (p.lon < 0 ? -0.5 : 0.5))};
    uint32_t off = UINT32_MAX;
    if (name) {
        off = (uint32_t)nb->names.len;
        if (ec_buf_append(&nb->names, name, strlen(name) + 1)) return EC_ENOMEM;
        nb->any_name = 1;
    }
    float unknown = NAN;
    if (ec_vec_push(&nb->ext, &ext_id) || ec_vec_push(&nb->coord, &c) ||
        ec_vec_push(&nb->name_off, &off) || ec_vec_push(&nb->elev, &unknown))
        return EC_ENOMEM;
    *idx = (uint32_t)nb->ext.len - 1;
    return EC_OK;
}

ec_err ec_netbuild_way(ec_netbuild *nb, int64_t way_id, uint32_t *idx)
{
    if (nb->ways.len >= EC_NO_WAY - 1) return EC_ELIMIT;
    uint32_t none = 0;
    if (ec_vec_push(&nb->ways, &way_id) || ec_vec_push(&nb->way_ref, &none) ||
        ec_vec_push(&nb->way_name, &none))
        return EC_ENOMEM;
    *idx = (uint32_t)nb->ways.len - 1;
    return EC_OK;
}

ec_err ec_netbuild_way_road(ec_netbuild *nb, uint32_t way, const char *ref, const char *name)
{
    if (way >= nb->ways.len) return ec_fail(EC_EINVAL, "way %u does not exist", way);
    ec_err rc = graph__strtab_add(&nb->roads, ref, &EC_VEC_AT(&nb->way_ref, uint32_t, way));
    if (!rc) rc = graph__strtab_add(&nb->roads, name, &EC_VEC_AT(&nb->way_name, uint32_t, way));
    return rc;
}

ec_err ec_netbuild_rest_area(ec_netbuild *nb, ec_latlon_t p, const char *name, uint32_t kind)
{
    if (!ec_geo_valid(p) || kind > EC_REST_SERVICES) return EC_ERANGE;
    if (nb->rest.len >= EC_MAX_REST_AREAS)
        return ec_fail(EC_ELIMIT, "more than %u rest areas", EC_MAX_REST_AREAS);
    ec_rest_area_t r = {(int32_t)(p.lat * 1e7 + (p.lat < 0 ? -0.5 : 0.5)),
                        (int32_t)(p.lon * 1e7 + (p.lon < 0 ? -0.5 : 0.5)), 0, kind};
    ec_err rc = graph__strtab_add(&nb->roads, name, &r.name);
    if (rc) return rc;
    return ec_vec_push(&nb->rest, &r) ? EC_ENOMEM : EC_OK;
}

ec_err ec_netbuild_arc(ec_netbuild *nb, uint32_t from, uint32_t to, uint32_t length_cm,
                       uint32_t duration_ms, uint32_t way)
{
    if (from >= nb->ext.len || to >= nb->ext.len) return EC_EINVAL;
    if (from == to) return EC_OK; /* self-loops never lie on a shortest path */
    if (nb->arcs.len >= MAX_ARCS) return ec_fail(EC_ELIMIT, "more than %u arcs", MAX_ARCS);
    raw_arc r = {from, {to, length_cm, duration_ms ? duration_ms : 1, way}};
    return ec_vec_push(&nb->arcs, &r) ? EC_ENOMEM : EC_OK;
}

ec_err ec_netbuild_node_elevation(ec_netbuild *nb, uint32_t idx, double elev_m)
{
    if (idx >= nb->elev.len) return ec_fail(EC_EINVAL, "node %u does not exist", idx);
    if (!(elev_m >= -500 && elev_m <= 9000)) return EC_ERANGE;
    ((float *)nb->elev.data)[idx] = (float)elev_m;
    nb->any_elev = 1;
    return EC_OK;
}

void *graph__own(ec_graph *g, void *p)
{
    if (p && g->n_owned < (int)(sizeof g->owned / sizeof g->owned[0])) g->owned[g->n_owned++] = p;
    return p;
}

ec_err ec_netbuild_finish(ec_netbuild *nb, ec_metric metric, ec_source_kind kind,
                          const ec_vehicle_class_t *vehicle, const char *source, ec_graph **out)
{
    ec_err rc = EC_ENOMEM;
    ec_graph *g = ec_calloc(1, sizeof *g);
    if (!g) goto fail;
    uint32_t n = (uint32_t)nb->ext.len, m = (uint32_t)nb->arcs.len;
    g->n_nodes = n;
    g->n_arcs = m;
    g->n_ways = (uint32_t)nb->ways.len;
    g->metric = metric;
    g->source_kind = kind;
    g->vehicle = *vehicle;
    g->built_at_s = ec_time_now_s();
    snprintf(g->source, sizeof g->source, "%s", source);

    uint32_t *first = graph__own(g, ec_calloc((size_t)n + 1, sizeof *first));
    ec_arc_t *arcs = graph__own(g, ec_malloc((size_t)(m ? m : 1) * sizeof *arcs));
    if (!first || !arcs) goto fail;
    const raw_arc *ra = nb->arcs.data;
    for (uint32_t i = 0; i < m; i++) first[ra[i].from + 1]++;
    for (uint32_t v = 0; v < n; v++) first[v + 1] += first[v];
    uint32_t *pos = ec_malloc((size_t)(n ? n : 1) * sizeof *pos);
    if (!pos) goto fail;
    memcpy(pos, first, (size_t)n * sizeof *pos);
    for (uint32_t i = 0; i < m; i++) arcs[pos[ra[i].from]++] = ra[i].arc;
    ec_free(pos);
    g->first_out = first;
    g->arcs = arcs;

    /* The loader's vectors become the graph's arrays without copying. */
    g->ext_id = graph__own(g, nb->ext.data);
    nb->ext.data = NULL;
    g->coord = graph__own(g, nb->coord.data);
    nb->coord.data = NULL;
    if (g->n_ways) {
        /* Only OSM ways have ids worth showing; a corridor's ways are its segments. */
        if (kind == EC_SRC_OSM) {
            g->way_ids = graph__own(g, nb->ways.data);
            nb->ways.data = NULL;
        }
        g->way_ref = graph__own(g, nb->way_ref.data);
        nb->way_ref.data = NULL;
        g->way_name = graph__own(g, nb->way_name.data);
        nb->way_name.data = NULL;
    }
    g->road_strs_len = (uint32_t)nb->roads.buf.len;
    g->road_strs = graph__own(g, nb->roads.buf.data);
    nb->roads.buf.data = NULL;
    g->n_rest = (uint32_t)nb->rest.len;
    if (g->n_rest) {
        g->rest = graph__own(g, nb->rest.data);
        nb->rest.data = NULL;
    }
    if (nb->any_elev && n) {
        const float *e = nb->elev.data;
        uint32_t unknown = 0;
        for (uint32_t v = 0; v < n; v++) unknown += e[v] != e[v];
        if (unknown) {
            ec_log(EC_LOG_WARN, "%s: %u of %u nodes have no elevation: elevations ignored", source, unknown, n);
        } else {
            g->elev_m = graph__own(g, nb->elev.data);
            nb->elev.data = NULL;
        }
    }
    if (nb->any_name) {
        uint32_t *off = graph__own(g, ec_malloc(((size_t)n + 1) * sizeof *off));
        ec_buf packed;
        ec_buf_init(&packed, 1u << 30);
        if (!off) goto fail;
        const uint32_t *src = nb->name_off.data;
        for (uint32_t v = 0; v < n; v++) {
            off[v] = (uint32_t)packed.len;
            const char *nm = src[v] != UINT32_MAX ? nb->names.data + src[v] : NULL;
            if (nm && ec_buf_append(&packed, nm, strlen(nm) + 1) != EC_OK) {
                ec_buf_free(&packed);
                goto fail;
            }
        }
        off[n] = (uint32_t)packed.len;
        if (ec_buf_append(&packed, "", 0)) goto fail;
        g->name_off = off;
        g->names = graph__own(g, packed.data);
    }
    ec_netbuild_free(nb);
    *out = g;
    return EC_OK;
fail:
    ec_netbuild_free(nb);
    ec_graph_free(g);
    return rc;
}

const char *ec_graph_node_name(const ec_graph *g, uint32_t node)
{
    if (!g->name_off || node >= g->n_nodes) return NULL;
    if (g->name_off[node] == g->name_off[node + 1]) return NULL;
    return g->names + g->name_off[node];
}

void ec_graph_free(ec_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->n_owned; i++) ec_free(g->owned[i]);
    ec_grid_free(&g->grid);
    ec_free(g->grid_tail);
    if (g->map) munmap(g->map, g->map_len);
    ec_free(g);
}

/* osm.c - the drivable, vehicle-legal road network of an OSM file (readosm). */
#include "graph_internal.h"

#include <math.h>
#include <readosm.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t id;
    int32_t lat_e7, lon_e7;
} osm_node;

typedef struct {
    int64_t id;
    size_t first_ref, n_refs; /* into refs */
    int dir;
    double speed_kmh;
} osm_way;

typedef struct {
    const ec_load_opts_t *opts;
    ec_vec nodes; /* osm_node */
    ec_vec ways;  /* osm_way */
    ec_vec refs;  /* int64_t */
    int sorted;
    int64_t last_id;
    ec_err rc;
    ec_progress prog;
    uint64_t seen;
} osm_ctx;

static int on_node(const void *user, const readosm_node *n)
{
    osm_ctx *c = (osm_ctx *)user;
    osm_node o = {n->id, (int32_t)lround(n->latitude * 1e7), (int32_t)lround(n->longitude * 1e7)};
    if (!(fabs(n->latitude) <= 90.0 && fabs(n->longitude) <= 180.0)) return READOSM_OK;
    if (c->nodes.len && n->id <= c->last_id) c->sorted = 0;
    c->last_id = n->id;
    if (ec_vec_push(&c->nodes, &o)) {
        c->rc = EC_ENOMEM;
        return READOSM_ABORT;
    }
    if ((++c->seen & 0xffff) == 0) ec_progress_update(&c->prog, c->seen);
    return READOSM_OK;
}

static int on_way(const void *user, const readosm_way *w)
{
    osm_ctx *c = (osm_ctx *)user;
    if (w->node_ref_count < 2 || w->tag_count <= 0) return READOSM_OK;
    osm_tags t = {(const osm_kv *)w->tags, w->tag_count};
    osm_way_rule rule;
    if (!graph__osm_way_usable(&t, &c->opts->vehicle, &rule)) return READOSM_OK;
    osm_way ow = {w->id, c->refs.len, (size_t)w->node_ref_count, rule.dir, rule.speed_kmh};
    if (ec_vec_reserve(&c->refs, c->refs.len + (size_t)w->node_ref_count)) goto oom;
    memcpy((int64_t *)c->refs.data + c->refs.len, w->node_refs,
           (size_t)w->node_ref_count * sizeof(int64_t));
    c->refs.len += (size_t)w->node_ref_count;
    if (ec_vec_push(&c->ways, &ow)) goto oom;
    if ((++c->seen & 0xffff) == 0) ec_progress_update(&c->prog, c->seen);
    return READOSM_OK;
oom:
    c->rc = EC_ENOMEM;
    return READOSM_ABORT;
}

static int cmp_node(const void *a, const void *b)
{
    int64_t x = ((const osm_node *)a)->id, y = ((const osm_node *)b)->id;
    return x < y ? -1 : x > y;
}

static const osm_node *find_node(const osm_ctx *c, int64_t id)
{
    const osm_node *n = c->nodes.data;
    size_t lo = 0, hi = c->nodes.len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < c->nodes.len && n[lo].id == id ? &n[lo] : NULL;
}

static const char *readosm_msg(int r)
{
    switch (r) {
    case READOSM_INVALID_SUFFIX: return "not a .osm or .pbf file name";
    case READOSM_FILE_NOT_FOUND: return "cannot open the file";
    case READOSM_INSUFFICIENT_MEMORY: return "out of memory";
    case READOSM_READ_ERROR: return "read error (truncated file?)";
    case READOSM_XML_ERROR: return "malformed OSM XML";
    case READOSM_INVALID_PBF_HEADER: return "invalid PBF header (corrupt or not a PBF file)";
    case READOSM_UNZIP_ERROR: return "corrupt compressed PBF block";
    default: return "cannot parse the file";
    }
}

/* Adds the graph node for an OSM node, once. */
static ec_err graph_node(ec_netbuild *nb, ec_map *idx, const osm_node *n, uint32_t *out)
{
    uint64_t v;
    if (ec_map_get(idx, (uint64_t)n->id, &v)) {
        *out = (uint32_t)v;
        return EC_OK;
    }
    ec_latlon_t p = {n->lat_e7 / 1e7, n->lon_e7 / 1e7};
    ec_err rc = ec_netbuild_node(nb, n->id, p, NULL, out);
    if (rc) return rc;
    return ec_map_put(idx, (uint64_t)n->id, *out);
}

static ec_err build(osm_ctx *c, const char *path, ec_graph **out)
{
    ec_netbuild *nb = NULL;
    ec_map idx = {0};
    ec_err rc = ec_netbuild_new(&nb);
    if (rc) return rc;
    if ((rc = ec_map_init(&idx, c->refs.len / 2))) goto fail;
    if (!c->sorted) qsort(c->nodes.data, c->nodes.len, sizeof(osm_node), cmp_node);
    const osm_way *ways = c->ways.data;
    const int64_t *refs = c->refs.data;
    uint64_t missing = 0;
    for (size_t w = 0; w < c->ways.len; w++) {
        uint32_t way_idx = EC_NO_WAY, prev = 0;
        const osm_node *pn = NULL;
        for (size_t k = 0; k < ways[w].n_refs; k++) {
            const osm_node *n = find_node(c, refs[ways[w].first_ref + k]);
            if (!n) {
                missing++;
                pn = NULL;
                continue;
            }
            uint32_t cur;
            if ((rc = graph_node(nb, &idx, n, &cur))) goto fail;
            if (pn && cur != prev) {
                if (way_idx == EC_NO_WAY && (rc = ec_netbuild_way(nb, ways[w].id, &way_idx)))
                    goto fail;
                ec_latlon_t a = {pn->lat_e7 / 1e7, pn->lon_e7 / 1e7};
                ec_latlon_t b = {n->lat_e7 / 1e7, n->lon_e7 / 1e7};
                uint32_t len_cm, dur_ms;
                if ((rc = graph__arc_units(ec_geo_haversine_m(a, b), ways[w].speed_kmh, &len_cm,
                                           &dur_ms))) {
                    rc = ec_fail(rc, "%s: way %lld has a segment of %.0f m, longer than a road can be",
                                 path, (long long)ways[w].id, ec_geo_haversine_m(a, b));
                    goto fail;
                }
                if (ways[w].dir >= 0 &&
                    (rc = ec_netbuild_arc(nb, prev, cur, len_cm, dur_ms, way_idx)))
                    goto fail;
                if (ways[w].dir <= 0 &&
                    (rc = ec_netbuild_arc(nb, cur, prev, len_cm, dur_ms, way_idx)))
                    goto fail;
            }
            pn = n;
            prev = cur;
        }
    }
    if (missing)
        ec_log(EC_LOG_INFO, "%s: %llu way node references lie outside the extract; their segments "
                            "were left out", path, (unsigned long long)missing);
    if (ec_netbuild_n_arcs(nb) == 0) {
        rc = ec_fail(EC_ENOTFOUND, "%s: no road in the file is usable by vehicle class %s", path,
                     c->opts->vehicle.name);
        goto fail;
    }
    ec_map_free(&idx);
    return ec_netbuild_finish(nb, c->opts->metric, EC_SRC_OSM, &c->opts->vehicle, path, out);
fail:
    ec_map_free(&idx);
    ec_netbuild_free(nb);
    return rc;
}

ec_err ec_graph_load_osm(const char *path, const ec_load_opts_t *o, ec_graph **out)
{
    size_t n = strlen(path);
    if (!(n > 4 && (strcmp(path + n - 4, ".pbf") == 0 || strcmp(path + n - 4, ".osm") == 0)))
        return ec_fail(EC_EINVAL, "%s: expected an .osm or .osm.pbf file", path);
    FILE *f = fopen(path, "rb");
    if (!f) return ec_fail(EC_EIO, "%s: cannot open the file", path);
    fclose(f);
    osm_ctx c;
    memset(&c, 0, sizeof c);
    c.opts = o;
    c.sorted = 1;
    ec_vec_init(&c.nodes, sizeof(osm_node));
    ec_vec_init(&c.ways, sizeof(osm_way));
    ec_vec_init(&c.refs, sizeof(int64_t));
    const void *h = NULL;
    ec_err rc = EC_OK;
    int r = readosm_open(path, &h);
    if (r != READOSM_OK) {
        rc = ec_fail(EC_EIO, "%s: %s", path, readosm_msg(r));
        goto done;
    }
    ec_progress_start(&c.prog, "reading OSM", 0);
    r = readosm_parse(h, &c, on_node, on_way, NULL);
    ec_progress_finish(&c.prog);
    if (c.rc) {
        rc = c.rc;
        goto done;
    }
    if (r != READOSM_OK) {
        rc = ec_fail(EC_EPARSE, "%s: %s", path, readosm_msg(r));
        goto done;
    }
    rc = build(&c, path, out);
done:
    if (h) readosm_close(h);
    ec_vec_free(&c.nodes);
    ec_vec_free(&c.ways);
    ec_vec_free(&c.refs);
    return rc;
}

ec_err graph__arc_units(double length_m, double speed_kmh, uint32_t *length_cm,
                        uint32_t *duration_ms)
{
    if (!(length_m >= 0) || length_m > 1e6 || !(speed_kmh > 0)) return EC_ERANGE;
    double cm = length_m * 100.0, ms = length_m / (speed_kmh / 3.6) * 1000.0;
    *length_cm = (uint32_t)llround(cm);
    *duration_ms = (uint32_t)llround(ms);
    if (*duration_ms == 0) *duration_ms = 1;
    return EC_OK;
}

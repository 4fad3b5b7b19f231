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
    uint32_t ref, name; /* into strs */
} osm_way;

/* A rest or service area: a node's point, or a way's nodes to find its centre. */
typedef struct {
    int32_t lat_e7, lon_e7;
    size_t first_ref, n_refs; /* n_refs 0 for a node */
    uint32_t name, kind;
} osm_rest;

#define MAX_OSM_STR_BYTES (256u << 20)

typedef struct {
    const ec_load_opts_t *opts;
    ec_vec nodes; /* osm_node */
    ec_vec ways;  /* osm_way */
    ec_vec refs;  /* int64_t */
    ec_vec rest;  /* osm_rest */
    graph_strtab strs; /* road references and names */
    int sorted;
    int64_t last_id;
    ec_err rc;
    ec_progress prog;
    uint64_t seen;
} osm_ctx;

static const char *tag(const osm_tags *t, const char *key)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->kv[i].key, key) == 0) return t->kv[i].value;
    return NULL;
}

/* EC_REST_AREA or EC_REST_SERVICES for a rest or service area, else -1. */
static int rest_kind(const osm_tags *t)
{
    const char *hw = tag(t, "highway");
    if (!hw) return -1;
    if (strcmp(hw, "rest_area") == 0) return EC_REST_AREA;
    if (strcmp(hw, "services") == 0) return EC_REST_SERVICES;
    return -1;
}

/* Records a rest area; refs (n_refs of them) for a way, none for a node. */
static int add_rest(osm_ctx *c, const osm_tags *t, int kind, int32_t lat_e7, int32_t lon_e7,
                    const int64_t *refs, size_t n_refs)
{
    osm_rest r = {lat_e7, lon_e7, c->refs.len, n_refs, 0, (uint32_t)kind};
    if (c->rest.len >= EC_MAX_REST_AREAS) return READOSM_OK; /* the rest are left out */
    ec_err rc = graph__strtab_add(&c->strs, tag(t, "name"), &r.name);
    if (!rc && n_refs && !(rc = ec_vec_reserve(&c->refs, c->refs.len + n_refs))) {
        memcpy((int64_t *)c->refs.data + c->refs.len, refs, n_refs * sizeof(int64_t));
        c->refs.len += n_refs;
    }
    if (!rc && ec_vec_push(&c->rest, &r)) rc = EC_ENOMEM;
    if (rc) {
        c->rc = rc;
        return READOSM_ABORT;
    }
    return READOSM_OK;
}

static int on_node(const void *user, const readosm_node *n)
{
    osm_ctx *c = (osm_ctx *)user;
    osm_node o = {n->id, (int32_t)lround(n->latitude * 1e7), (int32_t)lround(n->longitude * 1e7)};
    if (!(fabs(n->latitude) <= 90.0 && fabs(n->longitude) <= 180.0)) return READOSM_OK;
    if (n->tag_count > 0) {
        osm_tags t = {(const osm_kv *)n->tags, n->tag_count};
        int kind = rest_kind(&t);
        if (kind >= 0 && add_rest(c, &t, kind, o.lat_e7, o.lon_e7, NULL, 0) != READOSM_OK)
            return READOSM_ABORT;
    }
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
    int kind = rest_kind(&t);
    if (kind >= 0) return add_rest(c, &t, kind, 0, 0, (const int64_t *)w->node_refs, (size_t)w->node_ref_count);
    if (!graph__osm_way_usable(&t, &c->opts->vehicle, &rule)) return READOSM_OK;
    osm_way ow = {w->id, c->refs.len, (size_t)w->node_ref_count, rule.dir, rule.speed_kmh, 0, 0};
    ec_err rc = graph__strtab_add(&c->strs, tag(&t, "ref"), &ow.ref);
    if (!rc) rc = graph__strtab_add(&c->strs, tag(&t, "name"), &ow.name);
    if (rc) {
        c->rc = rc;
        return READOSM_ABORT;
    }
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

/* Gives the graph its rest areas: a node's point, or the centre (the mean of
 * the distinct nodes found) of a way. An area with none of its nodes in the
 * extract is left out. */
static ec_err add_rest_areas(const osm_ctx *c, ec_netbuild *nb)
{
    const osm_rest *r = c->rest.data;
    const int64_t *refs = c->refs.data;
    for (size_t i = 0; i < c->rest.len; i++) {
        double lat = r[i].lat_e7, lon = r[i].lon_e7;
        if (r[i].n_refs) {
            double n = 0;
            lat = lon = 0;
            for (size_t k = 0; k < r[i].n_refs; k++) {
                int64_t id = refs[r[i].first_ref + k];
                /* A closed way repeats its first node at the end. */
                if (k > 0 && k + 1 == r[i].n_refs && id == refs[r[i].first_ref]) break;
                const osm_node *nd = find_node(c, id);
                if (!nd) continue;
                lat += nd->lat_e7, lon += nd->lon_e7, n++;
            }
            if (n == 0) continue;
            lat /= n, lon /= n;
        }
        ec_latlon_t p = {lat / 1e7, lon / 1e7};
        ec_err rc = ec_netbuild_rest_area(nb, p, c->strs.buf.data + r[i].name, r[i].kind);
        if (rc) return rc;
    }
    return EC_OK;
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
                if (way_idx == EC_NO_WAY &&
                    ((rc = ec_netbuild_way(nb, ways[w].id, &way_idx)) ||
                     (rc = ec_netbuild_way_road(nb, way_idx, c->strs.buf.data + ways[w].ref,
                                                c->strs.buf.data + ways[w].name))))
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
    if ((rc = add_rest_areas(c, nb))) goto fail;
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
    ec_vec_init(&c.rest, sizeof(osm_rest));
    const void *h = NULL;
    ec_err rc = graph__strtab_init(&c.strs, MAX_OSM_STR_BYTES);
    if (rc) goto done;
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
    ec_vec_free(&c.rest);
    graph__strtab_free(&c.strs);
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

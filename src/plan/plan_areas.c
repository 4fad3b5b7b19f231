/* plan_areas.c - which jurisdiction each corridor node lies in: GeoJSON
 * polygons, or a CSV of node ids (docs/plan-inputs.md). */
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_plan.h"

#include <stdlib.h>
#include <string.h>

/* Polygons of a country's districts at a fine resolution run to tens of
 * megabytes; a node list of a whole road graph too. */
#define AREAS_FILE_MAX ((size_t)256 << 20)
#define AREAS_MAX_NODES 20000000

/* One ring of a polygon, its closing vertex dropped. The rings of a polygon
 * follow each other, its outer ring first. */
struct ec_plan_ring {
    int j;        /* jurisdiction: index into ids */
    int polygon;  /* the polygon's index over the whole file */
    int hole;     /* 1: a hole of the polygon's outer ring */
    size_t n;
    ec_latlon_t *v;
    double lat_min, lat_max, lon_min, lon_max;
};

/* The areas being read; moved into the caller's struct only when whole. */
typedef struct {
    const char *file;
    ec_plan_areas_t a;
    ec_vec rings;     /* struct ec_plan_ring */
    size_t vertices;  /* over every ring so far */
    int polygons;
} areas_rd;

static void areas__clear(areas_rd *rd)
{
    for (size_t i = 0; i < rd->rings.len; i++) ec_free(EC_VEC_AT(&rd->rings, struct ec_plan_ring, i).v);
    ec_vec_free(&rd->rings);
    ec_free(rd->a.ids);
    ec_free(rd->a.nodes);
    ec_free(rd->a.node_j);
    memset(&rd->a, 0, sizeof rd->a);
}

/* The index of a jurisdiction id, added when new. `where` names the place
 * in the file for a message ("features[3]" or "line 12"). */
static ec_err areas__id(areas_rd *rd, const char *where, const char *id, int *j)
{
    size_t len = strlen(id);
    if (len == 0) return ec_fail(EC_EPARSE, "%s: %s: jurisdiction_id: empty", rd->file, where);
    if (len >= sizeof rd->a.ids[0])
        return ec_fail(EC_ELIMIT, "%s: %s: jurisdiction_id: longer than %zu bytes", rd->file, where,
                       sizeof rd->a.ids[0] - 1);
    for (size_t k = 0; k < rd->a.n_ids; k++)
        if (!strcmp(rd->a.ids[k], id)) {
            *j = (int)k;
            return EC_OK;
        }
    if (rd->a.n_ids >= EC_PLAN_MAX_JURISDICTIONS)
        return ec_fail(EC_ELIMIT, "%s: %s: jurisdiction_id: \"%.40s\" would be the %dth; at most %d jurisdictions",
                       rd->file, where, id, EC_PLAN_MAX_JURISDICTIONS + 1, EC_PLAN_MAX_JURISDICTIONS);
    if (!rd->a.ids) {
        rd->a.ids = ec_calloc(EC_PLAN_MAX_JURISDICTIONS, sizeof rd->a.ids[0]);
        if (!rd->a.ids) return EC_ENOMEM;
    }
    memcpy(rd->a.ids[rd->a.n_ids], id, len + 1);
    *j = (int)rd->a.n_ids++;
    return EC_OK;
}

/* ---- GeoJSON ------------------------------------------------------------------------------ */

static ec_err areas__position(areas_rd *rd, const char *where, size_t k, const ec_json *p, ec_latlon_t *out)
{
    double lon, lat;
    size_t n = ec_json_is_array(p) ? ec_json_array_size(p) : 0;
    if (n < 2 || n > 3 || ec_json_number(ec_json_array_get(p, 0), &lon) ||
        ec_json_number(ec_json_array_get(p, 1), &lat))
        return ec_fail(EC_EPARSE, "%s: %s[%zu]: expected a position [lon, lat]", rd->file, where, k);
    out->lat = lat;
    out->lon = lon;
    if (!ec_geo_valid(*out))
        return ec_fail(EC_ERANGE, "%s: %s[%zu]: [%g, %g] is not a longitude and latitude", rd->file, where, k, lon,
                       lat);
    return EC_OK;
}

static ec_err areas__ring(areas_rd *rd, const char *where, const ec_json *ring, int j, int hole)
{
    size_t n = ec_json_is_array(ring) ? ec_json_array_size(ring) : 0;
    if (!ec_json_is_array(ring))
        return ec_fail(EC_EPARSE, "%s: %s: expected an array of positions", rd->file, where);
    if (n < 4) return ec_fail(EC_EPARSE, "%s: %s: a ring needs at least 4 positions, has %zu", rd->file, where, n);
    if (n > EC_PLAN_MAX_POLYGON_VERTICES - rd->vertices)
        return ec_fail(EC_ELIMIT, "%s: %s: more than %d vertices in all polygons", rd->file, where,
                       EC_PLAN_MAX_POLYGON_VERTICES);
    struct ec_plan_ring r = {.j = j, .polygon = rd->polygons, .hole = hole, .n = n - 1};
    r.v = ec_malloc(n * sizeof *r.v);
    if (!r.v) return EC_ENOMEM;
    ec_err rc = EC_OK;
    for (size_t k = 0; k < n && !rc; k++) rc = areas__position(rd, where, k, ec_json_array_get(ring, k), &r.v[k]);
    if (!rc && (r.v[0].lat != r.v[n - 1].lat || r.v[0].lon != r.v[n - 1].lon))
        rc = ec_fail(EC_EPARSE, "%s: %s: the ring is not closed (its last position must repeat its first)", rd->file,
                     where);
    if (!rc) {
        r.lat_min = r.lat_max = r.v[0].lat;
        r.lon_min = r.lon_max = r.v[0].lon;
        for (size_t k = 1; k < r.n; k++) {
            if (r.v[k].lat < r.lat_min) r.lat_min = r.v[k].lat;
            if (r.v[k].lat > r.lat_max) r.lat_max = r.v[k].lat;
            if (r.v[k].lon < r.lon_min) r.lon_min = r.v[k].lon;
            if (r.v[k].lon > r.lon_max) r.lon_max = r.v[k].lon;
        }
        rc = ec_vec_push(&rd->rings, &r);
    }
    if (rc) {
        ec_free(r.v);
        return rc;
    }
    rd->vertices += n;
    return EC_OK;
}

/* One polygon: its outer ring, then its holes. */
static ec_err areas__polygon(areas_rd *rd, const char *where, const ec_json *poly, int j)
{
    if (!ec_json_is_array(poly) || ec_json_array_size(poly) == 0)
        return ec_fail(EC_EPARSE, "%s: %s: expected a polygon (an array of rings, the outer first)", rd->file, where);
    char at[128];
    for (size_t k = 0; k < ec_json_array_size(poly); k++) {
        snprintf(at, sizeof at, "%s[%zu]", where, k);
        ec_err rc = areas__ring(rd, at, ec_json_array_get(poly, k), j, k > 0);
        if (rc) return rc;
    }
    rd->polygons++;
    return EC_OK;
}

static ec_err areas__feature(areas_rd *rd, size_t i, const ec_json *f)
{
    char where[32], at[96];
    snprintf(where, sizeof where, "features[%zu]", i);
    const char *type = ec_json_str(ec_json_get(f, "type"));
    if (!ec_json_is_object(f) || !type || strcmp(type, "Feature"))
        return ec_fail(EC_EPARSE, "%s: %s: expected an object of type Feature", rd->file, where);
    const ec_json *props = ec_json_get(f, "properties");
    const char *id = ec_json_str(ec_json_get(props, "jurisdiction_id"));
    if (!ec_json_is_object(props) || !id)
        return ec_fail(EC_EPARSE, "%s: %s: properties.jurisdiction_id: missing or not a string", rd->file, where);
    const ec_json *geom = ec_json_get(f, "geometry");
    const char *gtype = ec_json_str(ec_json_get(geom, "type"));
    if (!ec_json_is_object(geom) || !gtype)
        return ec_fail(EC_EPARSE, "%s: %s: geometry: missing, or without a type", rd->file, where);
    int is_multi = !strcmp(gtype, "MultiPolygon");
    if (!is_multi && strcmp(gtype, "Polygon"))
        return ec_fail(EC_EPARSE, "%s: %s: geometry: type %.30s is neither Polygon nor MultiPolygon", rd->file, where,
                       gtype);
    int j;
    ec_err rc = areas__id(rd, where, id, &j);
    if (rc) return rc;
    const ec_json *coords = ec_json_get(geom, "coordinates");
    if (!is_multi) {
        snprintf(at, sizeof at, "%s.geometry.coordinates", where);
        return areas__polygon(rd, at, coords, j);
    }
    if (!ec_json_is_array(coords))
        return ec_fail(EC_EPARSE, "%s: %s.geometry.coordinates: expected an array of polygons", rd->file, where);
    for (size_t k = 0; k < ec_json_array_size(coords); k++) {
        snprintf(at, sizeof at, "%s.geometry.coordinates[%zu]", where, k);
        if ((rc = areas__polygon(rd, at, ec_json_array_get(coords, k), j))) return rc;
    }
    return EC_OK;
}

static ec_err areas__geojson(areas_rd *rd, const char *text, size_t len)
{
    ec_json *doc;
    ec_err rc = ec_json_load_buf(text, len, rd->file, &doc);
    if (rc) return rc;
    const char *type = ec_json_str(ec_json_get(doc, "type"));
    const ec_json *features = ec_json_get(doc, "features");
    if (!ec_json_is_object(doc) || !type || strcmp(type, "FeatureCollection") || !ec_json_is_array(features)) {
        rc = ec_fail(EC_EPARSE, "%s: expected a GeoJSON FeatureCollection with an array of features", rd->file);
        goto done;
    }
    for (size_t i = 0; i < ec_json_array_size(features) && !rc; i++)
        rc = areas__feature(rd, i, ec_json_array_get(features, i));
    if (!rc && rd->rings.len == 0) rc = ec_fail(EC_EPARSE, "%s: no polygons", rd->file);
    if (!rc) {
        rd->a.rings = rd->rings.data;
        rd->a.n_rings = rd->rings.len;
    }
done:
    ec_json_free(doc);
    return rc;
}

/* ---- CSV ----------------------------------------------------------------------------------- */

typedef struct {
    int64_t node;
    int j;
} node_j_t;

static int by_node(const void *a, const void *b)
{
    const node_j_t *x = a, *y = b;
    return (x->node > y->node) - (x->node < y->node);
}

static ec_err areas__csv_row(areas_rd *rd, const ec_csv *r, ec_map *seen, ec_vec *rows)
{
    char where[32];
    snprintf(where, sizeof where, "line %ld", r->line);
    if (r->nfields != 2)
        return ec_fail(EC_EPARSE, "%s: %s: %zu fields, expected 2 (node,jurisdiction_id)", rd->file, where,
                       r->nfields);
    node_j_t row;
    if (ec_parse_i64(r->fields[0], &row.node))
        return ec_fail(EC_EPARSE, "%s: %s: node: \"%.40s\" is not a whole number", rd->file, where, r->fields[0]);
    uint64_t first;
    if (ec_map_get(seen, (uint64_t)row.node, &first))
        return ec_fail(EC_EPARSE, "%s: %s: node: %lld is named twice (first on line %llu)", rd->file, where,
                       (long long)row.node, (unsigned long long)first);
    if (rows->len >= AREAS_MAX_NODES)
        return ec_fail(EC_ELIMIT, "%s: %s: more than %d nodes", rd->file, where, AREAS_MAX_NODES);
    ec_err rc;
    if ((rc = areas__id(rd, where, r->fields[1], &row.j)) || (rc = ec_map_put(seen, (uint64_t)row.node, r->line)))
        return rc;
    return ec_vec_push(rows, &row);
}

static ec_err areas__csv(areas_rd *rd, const char *text, size_t len)
{
    ec_csv r;
    ec_map seen;
    ec_vec rows;
    ec_vec_init(&rows, sizeof(node_j_t));
    ec_csv_init(&r, rd->file, text, len, ',');
    ec_err rc = ec_map_init(&seen, 1024);
    if (rc) return rc;
    rc = ec_csv_next(&r);
    if (rc == EC_EOF) rc = ec_fail(EC_EPARSE, "%s: empty file, expected a header node,jurisdiction_id", rd->file);
    if (rc) goto done;
    if (r.nfields != 2 || strcmp(r.fields[0], "node") || strcmp(r.fields[1], "jurisdiction_id")) {
        rc = ec_fail(EC_EPARSE, "%s: line %ld: header: expected node,jurisdiction_id (or a GeoJSON "
                     "FeatureCollection)", rd->file, r.line);
        goto done;
    }
    while ((rc = ec_csv_next(&r)) == EC_OK)
        if ((rc = areas__csv_row(rd, &r, &seen, &rows))) goto done;
    if (rc != EC_EOF) goto done;
    rc = EC_OK;
    if (rows.len == 0) {
        rc = ec_fail(EC_EPARSE, "%s: no nodes", rd->file);
        goto done;
    }
    /* Sorted by node, so that ec_plan_areas_of finds a node by bisection. */
    qsort(rows.data, rows.len, sizeof(node_j_t), by_node);
    rd->a.nodes = ec_malloc(rows.len * sizeof *rd->a.nodes);
    rd->a.node_j = ec_malloc(rows.len * sizeof *rd->a.node_j);
    if (!rd->a.nodes || !rd->a.node_j) {
        rc = EC_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < rows.len; i++) {
        rd->a.nodes[i] = EC_VEC_AT(&rows, node_j_t, i).node;
        rd->a.node_j[i] = EC_VEC_AT(&rows, node_j_t, i).j;
    }
    rd->a.n_nodes = rows.len;
done:
    ec_csv_free(&r);
    ec_map_free(&seen);
    ec_vec_free(&rows);
    return rc;
}

/* ---- the public functions ------------------------------------------------------------------- */

ec_err ec_plan_areas_parse(const char *name, const char *text, size_t len, ec_plan_areas_t *out)
{
    if (len > AREAS_FILE_MAX) return ec_fail(EC_ELIMIT, "%s: larger than the %zu bytes accepted", name, AREAS_FILE_MAX);
    /* A byte-order mark some editors write is not part of either format. */
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
        text += 3;
        len -= 3;
    }
    size_t k = 0;
    while (k < len && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r' || text[k] == '\n')) k++;
    areas_rd rd = {.file = name};
    ec_vec_init(&rd.rings, sizeof(struct ec_plan_ring));
    ec_err rc = k < len && text[k] == '{' ? areas__geojson(&rd, text, len) : areas__csv(&rd, text, len);
    if (rc) {
        areas__clear(&rd);
        return rc;
    }
    *out = rd.a;
    return EC_OK;
}

ec_err ec_plan_areas_load(const char *path, ec_plan_areas_t *out)
{
    char *text;
    size_t len;
    ec_err rc = ec_read_file(path, AREAS_FILE_MAX, &text, &len);
    if (rc) return rc;
    rc = ec_plan_areas_parse(path, text, len, out);
    ec_free(text);
    return rc;
}

/* Ray casting toward growing longitude: each edge the ray crosses flips the
 * answer. An edge counts when one end lies above the point's latitude and
 * the other not (half-open), so a point on an edge two polygons share lies
 * in exactly one of them. */
static int ring_contains(const struct ec_plan_ring *r, ec_latlon_t p)
{
    if (p.lat < r->lat_min || p.lat > r->lat_max || p.lon < r->lon_min || p.lon > r->lon_max) return 0;
    int in = 0;
    for (size_t i = 0, k = r->n - 1; i < r->n; k = i++) {
        ec_latlon_t a = r->v[i], b = r->v[k];
        if ((a.lat > p.lat) == (b.lat > p.lat)) continue;
        double x = a.lon + (p.lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat);
        if (p.lon < x) in = !in;
    }
    return in;
}

int ec_plan_areas_of(const ec_plan_areas_t *a, int64_t node, ec_latlon_t pos)
{
    if (!a) return -1;
    if (a->n_nodes) {
        size_t lo = 0, hi = a->n_nodes;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (a->nodes[mid] < node) lo = mid + 1;
            else hi = mid;
        }
        return lo < a->n_nodes && a->nodes[lo] == node ? a->node_j[lo] : -1;
    }
    for (size_t i = 0; i < a->n_rings;) {
        const struct ec_plan_ring *outer = &a->rings[i];
        int in = ring_contains(outer, pos);
        for (i++; i < a->n_rings && a->rings[i].polygon == outer->polygon; i++)
            if (in && ring_contains(&a->rings[i], pos)) in = 0;
        if (in) return outer->j;
    }
    return -1;
}


ec_err ec_plan_areas_resolve(ec_plan_areas_t *a, const ec_graph *g)
{
    if (!a->n_rings) return EC_OK;
    /* (node, jurisdiction) pairs sorted by node, as a node list keeps them */
    node_j_t *pairs = ec_malloc(((size_t)g->n_nodes + 1) * sizeof *pairs);
    if (!pairs) return EC_ENOMEM;
    size_t n = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        int j = ec_plan_areas_of(a, g->ext_id[i], ec_graph_point(g, i));
        if (j >= 0) pairs[n].node = g->ext_id[i], pairs[n].j = j, n++;
    }
    qsort(pairs, n, sizeof *pairs, by_node);
    int64_t *nodes = ec_malloc((n + 1) * sizeof *nodes);
    int *node_j = ec_malloc((n + 1) * sizeof *node_j);
    if (!nodes || !node_j) {
        ec_free(pairs), ec_free(nodes), ec_free(node_j);
        return EC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) nodes[i] = pairs[i].node, node_j[i] = pairs[i].j;
    ec_free(pairs);
    for (size_t i = 0; i < a->n_rings; i++) ec_free(a->rings[i].v);
    ec_free(a->rings), ec_free(a->nodes), ec_free(a->node_j);
    a->rings = NULL, a->n_rings = 0;
    a->nodes = nodes, a->node_j = node_j, a->n_nodes = n;
    return EC_OK;
}

void ec_plan_areas_free(ec_plan_areas_t *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n_rings; i++) ec_free(a->rings[i].v);
    ec_free(a->rings);
    ec_free(a->ids);
    ec_free(a->nodes);
    ec_free(a->node_j);
    memset(a, 0, sizeof *a);
}

/* graphml.c - corridor models: GraphML topology (expat) + segments.csv speeds. */
#include "graph_internal.h"
#include "ecorridor/ec_csv.h"

#include <expat.h>
#include <math.h>
#include <string.h>

#define MAX_ID 128        /* bytes in a node id */
#define MAX_DATA 256      /* bytes of character data in one <data> */
#define MAX_NAME 120
#define MAX_KEYS 64
#define MAX_DEPTH 32
#define MAX_EDGE_KM 1000.0
#define DEFAULT_SPEED_KMH 100.0 /* the corridor models' default travel_speed */

enum { F_NONE, F_X, F_Y, F_NAME, F_DIST, F_ELEV, F_REF };

typedef struct {
    char id[MAX_ID];
    int field;
} gkey;

typedef struct {
    char id[MAX_ID];
    double x, y, elev;
    int has_x, has_y, has_elev;
    char name[MAX_NAME];
    long line;
} gnode;

typedef struct {
    uint64_t src_h, dst_h;
    char src[MAX_ID], dst[MAX_ID];
    char ref[MAX_NAME], name[MAX_NAME]; /* the road's reference and name, "" when not given */
    double km;
    int has_km, directed;
    long line;
} gedge;

typedef struct {
    const char *name;
    XML_Parser p;
    ec_err rc;
    gkey keys[MAX_KEYS];
    int n_keys;
    int depth, directed_default;
    int in_node, in_edge, data_field;
    char text[MAX_DATA];
    size_t text_len;
    gnode node;
    gedge edge;
    ec_vec nodes; /* gnode */
    ec_vec edges; /* gedge */
} gml;

static void stop(gml *g, ec_err rc)
{
    if (!g->rc) g->rc = rc;
    XML_StopParser(g->p, XML_FALSE);
}

static void failf(gml *g, ec_err code, const char *what)
{
    stop(g, ec_fail(code, "%s:%lu: %s", g->name, (unsigned long)XML_GetCurrentLineNumber(g->p),
                    what));
}

static const char *attr(const char **atts, const char *name)
{
    for (int i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], name) == 0) return atts[i + 1];
    return NULL;
}

static int copy_id(char *dst, const char *src)
{
    size_t n = strlen(src);
    if (n == 0 || n >= MAX_ID) return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

static void on_start(void *ud, const char *el, const char **atts)
{
    gml *g = ud;
    if (++g->depth > MAX_DEPTH) {
        failf(g, EC_ELIMIT, "elements nested too deeply");
        return;
    }
    char msg[256];
    if (strcmp(el, "key") == 0) {
        const char *id = attr(atts, "id"), *nm = attr(atts, "attr.name");
        if (!id || !nm) {
            failf(g, EC_EPARSE, "<key> needs id and attr.name");
            return;
        }
        if (g->n_keys == MAX_KEYS) {
            failf(g, EC_ELIMIT, "too many <key> definitions");
            return;
        }
        gkey *k = &g->keys[g->n_keys++];
        if (copy_id(k->id, id)) {
            failf(g, EC_ELIMIT, "<key> id too long");
            return;
        }
        k->field = !strcmp(nm, "position_x") ? F_X
                   : !strcmp(nm, "position_y") ? F_Y
                   : !strcmp(nm, "name")       ? F_NAME
                   : !strcmp(nm, "distance")   ? F_DIST
                   : !strcmp(nm, "elevation")  ? F_ELEV
                   : !strcmp(nm, "ref")        ? F_REF
                                               : F_NONE;
    } else if (strcmp(el, "graph") == 0) {
        const char *d = attr(atts, "edgedefault");
        g->directed_default = !(d && strcmp(d, "undirected") == 0);
    } else if (strcmp(el, "node") == 0) {
        const char *id = attr(atts, "id");
        memset(&g->node, 0, sizeof g->node);
        g->node.line = (long)XML_GetCurrentLineNumber(g->p);
        if (!id || copy_id(g->node.id, id)) {
            failf(g, EC_EPARSE, "<node> needs an id of 1..127 characters");
            return;
        }
        g->in_node = 1;
    } else if (strcmp(el, "edge") == 0) {
        const char *s = attr(atts, "source"), *t = attr(atts, "target"), *d = attr(atts, "directed");
        memset(&g->edge, 0, sizeof g->edge);
        g->edge.line = (long)XML_GetCurrentLineNumber(g->p);
        if (!s || !t || copy_id(g->edge.src, s) || copy_id(g->edge.dst, t)) {
            failf(g, EC_EPARSE, "<edge> needs source and target node ids");
            return;
        }
        g->edge.directed = d ? strcmp(d, "false") != 0 : g->directed_default;
        g->in_edge = 1;
    } else if (strcmp(el, "data") == 0) {
        const char *k = attr(atts, "key");
        g->data_field = F_NONE;
        g->text_len = 0;
        if (!k) {
            failf(g, EC_EPARSE, "<data> needs a key");
            return;
        }
        for (int i = 0; i < g->n_keys; i++)
            if (strcmp(g->keys[i].id, k) == 0) g->data_field = g->keys[i].field;
        (void)msg;
    }
}

static void on_text(void *ud, const char *s, int len)
{
    gml *g = ud;
    if (g->data_field == F_NONE) return;
    if (g->text_len + (size_t)len >= MAX_DATA) {
        failf(g, EC_ELIMIT, "<data> value too long");
        return;
    }
    memcpy(g->text + g->text_len, s, (size_t)len);
    g->text_len += (size_t)len;
}

static void on_end(void *ud, const char *el)
{
    gml *g = ud;
    g->depth--;
    char msg[320];
    if (strcmp(el, "data") == 0 && g->data_field != F_NONE) {
        g->text[g->text_len] = '\0';
        double v = 0;
        int bad = g->data_field != F_NAME && g->data_field != F_REF && ec_parse_double(g->text, &v);
        if (bad) {
            snprintf(msg, sizeof msg, "\"%s\" is not a number", g->text);
            failf(g, EC_EPARSE, msg);
            return;
        }
        if (g->in_node) {
            if (g->data_field == F_X) g->node.x = v, g->node.has_x = 1;
            if (g->data_field == F_Y) g->node.y = v, g->node.has_y = 1;
            if (g->data_field == F_ELEV) {
                if (!(v >= -500 && v <= 9000)) {
                    snprintf(msg, sizeof msg, "node \"%s\" has elevation %g m, expected -500..9000 m", g->node.id, v);
                    failf(g, EC_ERANGE, msg);
                    return;
                }
                g->node.elev = v, g->node.has_elev = 1;
            }
            if (g->data_field == F_NAME) {
                if (g->text_len >= MAX_NAME) {
                    failf(g, EC_ELIMIT, "node name too long");
                    return;
                }
                memcpy(g->node.name, g->text, g->text_len + 1);
            }
        } else if (g->in_edge && g->data_field == F_DIST) {
            g->edge.km = v;
            g->edge.has_km = 1;
        } else if (g->in_edge && (g->data_field == F_NAME || g->data_field == F_REF)) {
            if (g->text_len >= MAX_NAME) {
                failf(g, EC_ELIMIT, g->data_field == F_REF ? "edge ref too long" : "edge name too long");
                return;
            }
            memcpy(g->data_field == F_REF ? g->edge.ref : g->edge.name, g->text, g->text_len + 1);
        }
        g->data_field = F_NONE;
    } else if (strcmp(el, "node") == 0 && g->in_node) {
        g->in_node = 0;
        if (!g->node.has_x || !g->node.has_y) {
            snprintf(msg, sizeof msg, "node \"%s\" lacks position_x or position_y", g->node.id);
            failf(g, EC_EPARSE, msg);
            return;
        }
        ec_latlon_t p = {g->node.y, g->node.x};
        if (!ec_geo_valid(p)) {
            snprintf(msg, sizeof msg, "node \"%s\" has coordinates off the map (lat %g, lon %g)",
                     g->node.id, p.lat, p.lon);
            failf(g, EC_ERANGE, msg);
            return;
        }
        if (ec_vec_push(&g->nodes, &g->node)) stop(g, EC_ENOMEM);
    } else if (strcmp(el, "edge") == 0 && g->in_edge) {
        g->in_edge = 0;
        if (!g->edge.has_km) {
            snprintf(msg, sizeof msg, "edge %s -> %s lacks a distance", g->edge.src, g->edge.dst);
            failf(g, EC_EPARSE, msg);
            return;
        }
        if (!(g->edge.km > 0 && g->edge.km <= MAX_EDGE_KM)) {
            snprintf(msg, sizeof msg, "edge %s -> %s has distance %g km, expected 0..%g km",
                     g->edge.src, g->edge.dst, g->edge.km, MAX_EDGE_KM);
            failf(g, EC_ERANGE, msg);
            return;
        }
        if (ec_vec_push(&g->edges, &g->edge)) stop(g, EC_ENOMEM);
    }
}

static uint64_t hash_id(const char *s)
{
    return ec_hash_bytes(s, strlen(s));
}

static uint64_t hash_pair(const char *a, const char *b)
{
    return hash_id(a) * 0x9e3779b97f4a7c15ULL ^ hash_id(b);
}

/* segments.csv: travel_speed (km/h) per directed source,target pair. */
static ec_err read_segments(const char *name, const char *text, size_t len, ec_map *speed)
{
    ec_csv r;
    ec_csv_init(&r, name, text, len, ',');
    ec_err rc = ec_csv_next(&r);
    if (rc) {
        if (rc == EC_EOF) rc = ec_fail(EC_EPARSE, "%s: empty file, expected a header", name);
        goto done;
    }
    int is = ec_csv_find(&r, "source"), it = ec_csv_find(&r, "target"),
        isp = ec_csv_find(&r, "travel_speed");
    if (is < 0 || it < 0 || isp < 0) {
        rc = ec_fail(EC_EPARSE, "%s:1: header must name source, target and travel_speed", name);
        goto done;
    }
    size_t need = (size_t)(is > it ? (is > isp ? is : isp) : (it > isp ? it : isp)) + 1;
    while ((rc = ec_csv_next(&r)) == EC_OK) {
        double v;
        if (r.nfields < need) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: expected at least %zu fields, found %zu", name,
                         r.line, need, r.nfields);
            goto done;
        }
        if (ec_parse_double(r.fields[isp], &v) || !(v >= 1 && v <= 200)) {
            rc = ec_fail(EC_ERANGE, "%s:%ld: travel_speed \"%s\" is not 1..200 km/h", name,
                         r.line, r.fields[isp]);
            goto done;
        }
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        if ((rc = ec_map_put(speed, hash_pair(r.fields[is], r.fields[it]), bits))) goto done;
    }
    if (rc == EC_EOF) rc = EC_OK;
done:
    ec_csv_free(&r);
    return rc;
}

ec_err ec_graphml_parse(const char *name, const char *text, size_t len, ec_netbuild *nb,
                        const ec_load_opts_t *o, const char *segments_name, const char *segments,
                        size_t segments_len)
{
    gml g;
    memset(&g, 0, sizeof g);
    g.name = name;
    g.directed_default = 1;
    ec_vec_init(&g.nodes, sizeof(gnode));
    ec_vec_init(&g.edges, sizeof(gedge));
    ec_map ids = {0}, speed = {0};
    ec_err rc = EC_ENOMEM;
    if (ec_map_init(&ids, 1024) || ec_map_init(&speed, 1024)) goto done;
    if (segments && (rc = read_segments(segments_name, segments, segments_len, &speed)))
        goto done;
    g.p = XML_ParserCreate(NULL);
    if (!g.p) {
        rc = EC_ENOMEM;
        goto done;
    }
    XML_SetUserData(g.p, &g);
    XML_SetElementHandler(g.p, on_start, on_end);
    XML_SetCharacterDataHandler(g.p, on_text);
    if (len > INT32_MAX) {
        rc = ec_fail(EC_ELIMIT, "%s: file too large", name);
        goto done;
    }
    if (XML_Parse(g.p, text, (int)len, XML_TRUE) == XML_STATUS_ERROR && !g.rc) {
        rc = ec_fail(EC_EPARSE, "%s:%lu:%lu: malformed XML: %s", name,
                     (unsigned long)XML_GetCurrentLineNumber(g.p),
                     (unsigned long)XML_GetCurrentColumnNumber(g.p),
                     XML_ErrorString(XML_GetErrorCode(g.p)));
        goto done;
    }
    if ((rc = g.rc)) goto done;
    if (g.nodes.len == 0) {
        rc = ec_fail(EC_EPARSE, "%s: no <node> elements", name);
        goto done;
    }
    /* Nodes: ids are unique strings; numeric ones become the external id. */
    uint32_t base = ec_netbuild_n_nodes(nb);
    const gnode *gn = g.nodes.data;
    /* Elevations for every node or for none: grades need both ends of a road. */
    size_t with_elev = 0;
    for (size_t i = 0; i < g.nodes.len; i++) with_elev += gn[i].has_elev;
    for (size_t i = 0; with_elev && with_elev < g.nodes.len && i < g.nodes.len; i++)
        if (!gn[i].has_elev) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: node \"%s\" has no elevation while %zu others have one: give every node "
                         "one or none", name, gn[i].line, gn[i].id, with_elev);
            goto done;
        }
    for (size_t i = 0; i < g.nodes.len; i++) {
        uint64_t h = hash_id(gn[i].id), prev;
        if (ec_map_get(&ids, h, &prev)) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: node id \"%s\" defined twice", name, gn[i].line,
                         gn[i].id);
            goto done;
        }
        int64_t ext;
        if (ec_parse_i64(gn[i].id, &ext)) ext = (int64_t)i;
        uint32_t idx;
        ec_latlon_t p = {gn[i].y, gn[i].x};
        if ((rc = ec_netbuild_node(nb, ext, p, gn[i].name[0] ? gn[i].name : NULL, &idx)) ||
            (rc = ec_map_put(&ids, h, idx)) || (gn[i].has_elev && (rc = ec_netbuild_node_elevation(nb, idx, gn[i].elev))))
            goto done;
    }
    const gedge *ge = g.edges.data;
    for (size_t i = 0; i < g.edges.len; i++) {
        uint64_t a, b, bits;
        if (!ec_map_get(&ids, hash_id(ge[i].src), &a) || !ec_map_get(&ids, hash_id(ge[i].dst), &b)) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: edge %s -> %s refers to an unknown node \"%s\"", name,
                         ge[i].line, ge[i].src, ge[i].dst,
                         ec_map_get(&ids, hash_id(ge[i].src), NULL) ? ge[i].dst : ge[i].src);
            goto done;
        }
        double kmh = DEFAULT_SPEED_KMH;
        if (ec_map_get(&speed, hash_pair(ge[i].src, ge[i].dst), &bits)) memcpy(&kmh, &bits, sizeof kmh);
        if (o->vehicle.max_speed_kmh > 0 && kmh > o->vehicle.max_speed_kmh)
            kmh = o->vehicle.max_speed_kmh;
        uint32_t len_cm, dur_ms, way;
        if ((rc = graph__arc_units(ge[i].km * 1000.0, kmh, &len_cm, &dur_ms))) goto done;
        /* Each edge is a way of its own, so a route can name the road it is on:
         * the edge's ref and name, else "source–target" from the node names. */
        char fallback[2 * MAX_NAME + 4] = "";
        const char *na = gn[a - base].name, *nb_name = gn[b - base].name;
        if (!ge[i].name[0] && na[0] && nb_name[0])
            snprintf(fallback, sizeof fallback, "%s\xe2\x80\x93%s", na, nb_name); /* an en dash */
        if ((rc = ec_netbuild_way(nb, (int64_t)i, &way)) ||
            (rc = ec_netbuild_way_road(nb, way, ge[i].ref, ge[i].name[0] ? ge[i].name : fallback)))
            goto done;
        if ((rc = ec_netbuild_arc(nb, (uint32_t)a, (uint32_t)b, len_cm, dur_ms, way)))
            goto done;
        if (!ge[i].directed &&
            (rc = ec_netbuild_arc(nb, (uint32_t)b, (uint32_t)a, len_cm, dur_ms, way)))
            goto done;
    }
    rc = EC_OK;
done:
    if (g.p) XML_ParserFree(g.p);
    ec_vec_free(&g.nodes);
    ec_vec_free(&g.edges);
    ec_map_free(&ids);
    ec_map_free(&speed);
    return rc;
}

#define MAX_MODEL_FILE (256u << 20)

ec_err ec_graph_load_corridor(const char *dir, const ec_load_opts_t *o, ec_graph **out)
{
    char gpath[4096], spath[4096];
    snprintf(gpath, sizeof gpath, "%s/graph.graphml", dir);
    snprintf(spath, sizeof spath, "%s/segments.csv", dir);
    char *gtext = NULL, *stext = NULL;
    size_t glen = 0, slen = 0;
    ec_netbuild *nb = NULL;
    ec_err rc = ec_read_file(gpath, MAX_MODEL_FILE, &gtext, &glen);
    if (rc) return rc;
    FILE *f = fopen(spath, "rb");
    if (f) {
        fclose(f);
        if ((rc = ec_read_file(spath, MAX_MODEL_FILE, &stext, &slen))) goto done;
    }
    if ((rc = ec_netbuild_new(&nb))) goto done;
    if ((rc = ec_graphml_parse(gpath, gtext, glen, nb, o, spath, stext, slen))) goto done;
    if (ec_netbuild_n_arcs(nb) == 0) {
        rc = ec_fail(EC_EPARSE, "%s: the model has no edges", gpath);
        goto done;
    }
    rc = ec_netbuild_finish(nb, o->metric, EC_SRC_CORRIDOR, &o->vehicle, dir, out);
    nb = NULL;
done:
    ec_netbuild_free(nb);
    ec_free(gtext);
    ec_free(stext);
    return rc;
}

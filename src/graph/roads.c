/* roads.c - what a route can be told about the roads it uses: each way's
 * reference and name, and the rest and service areas beside them. */
#include "graph_internal.h"

#include <string.h>

ec_err graph__strtab_init(graph_strtab *t, size_t max_bytes)
{
    ec_buf_init(&t->buf, max_bytes);
    ec_err rc = ec_map_init(&t->idx, 1024);
    if (!rc) rc = ec_buf_append(&t->buf, "", 1);
    if (rc) graph__strtab_free(t);
    return rc;
}

void graph__strtab_free(graph_strtab *t)
{
    ec_buf_free(&t->buf);
    ec_map_free(&t->idx);
}

ec_err graph__strtab_add(graph_strtab *t, const char *s, uint32_t *off)
{
    size_t n = s ? strlen(s) : 0;
    if (n > EC_ROAD_STR_MAX) {
        /* Cut before a continuation byte so the string stays valid UTF-8. */
        n = EC_ROAD_STR_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
    }
    if (n == 0) {
        *off = 0;
        return EC_OK;
    }
    uint64_t h = ec_hash_bytes(s, n), at;
    if (ec_map_get(&t->idx, h, &at) && strncmp(t->buf.data + at, s, n) == 0 && t->buf.data[at + n] == '\0') {
        *off = (uint32_t)at;
        return EC_OK;
    }
    if (t->buf.len + n + 1 > UINT32_MAX) return EC_ELIMIT;
    at = t->buf.len;
    ec_err rc = ec_buf_append(&t->buf, s, n);
    if (!rc) rc = ec_buf_append(&t->buf, "", 1);
    if (rc) return rc == EC_ELIMIT ? ec_fail(EC_ELIMIT, "more than %zu bytes of road names", t->buf.max) : rc;
    /* A hash shared by two strings keeps the first; the second is stored twice
     * at worst, never confused with it. */
    if (!ec_map_get(&t->idx, h, NULL) && (rc = ec_map_put(&t->idx, h, at))) return rc;
    *off = (uint32_t)at;
    return EC_OK;
}

void ec_graph_arc_road(const ec_graph *g, uint32_t arc, const char **ref, const char **name)
{
    *ref = *name = "";
    if (!g->way_ref || !g->way_name || arc >= g->n_arcs) return;
    uint32_t w = g->arcs[arc].way;
    if (w == EC_NO_WAY || w >= g->n_ways) return;
    *ref = g->road_strs + g->way_ref[w];
    *name = g->road_strs + g->way_name[w];
}

int ec_graph_rest_area(const ec_graph *g, ec_latlon_t p, double max_m, ec_latlon_t *at,
                       const char **name, const char **kind)
{
    /* A scan: graphs hold a few thousand areas at most and a route asks for
     * one per pause. */
    double best = max_m;
    uint32_t found = UINT32_MAX;
    for (uint32_t i = 0; i < g->n_rest; i++) {
        ec_latlon_t q = {g->rest[i].lat_e7 / 1e7, g->rest[i].lon_e7 / 1e7};
        double d = ec_geo_haversine_m(p, q);
        if (d <= best && (found == UINT32_MAX || d < best)) {
            best = d;
            found = i;
        }
    }
    if (found == UINT32_MAX) return -1;
    const ec_rest_area_t *r = &g->rest[found];
    if (at) at->lat = r->lat_e7 / 1e7, at->lon = r->lon_e7 / 1e7;
    if (name) *name = g->road_strs + r->name;
    if (kind) *kind = r->kind == EC_REST_SERVICES ? "services" : "rest_area";
    return 0;
}

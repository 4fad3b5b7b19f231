/* dimacs.c - the 9th DIMACS Implementation Challenge formats: .gr arcs, .co coordinates. */
#include "graph_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 1024
#define MAX_NODES 30000000LL /* the full USA road graph has 23.9 M */
#define MAX_ARCS 500000000LL
#define MAX_WEIGHT 40000000LL /* 40,000 km, or 46 days in 0.1 s: fits the ms units */

typedef struct {
    const char *name, *s;
    size_t len, pos;
    long line;
    char buf[MAX_LINE + 1];
} lines;

/* Next line into r->buf; 1 when one was read, 0 at the end, -1 when too long. */
static int next_line(lines *r)
{
    if (r->pos >= r->len) return 0;
    size_t start = r->pos;
    while (r->pos < r->len && r->s[r->pos] != '\n') r->pos++;
    size_t n = r->pos - start;
    if (r->pos < r->len) r->pos++;
    r->line++;
    if (n > MAX_LINE) return -1;
    memcpy(r->buf, r->s + start, n);
    if (n && r->buf[n - 1] == '\r') n--;
    r->buf[n] = '\0';
    return 1;
}

/* Reads `count` integers after the first token; 0 on success. */
static int ints(const char *s, int count, long long *out)
{
    char *end;
    for (int i = 0; i < count; i++) {
        while (*s == ' ' || *s == '\t') s++;
        errno = 0;
        out[i] = strtoll(s, &end, 10);
        if (end == s || errno) return -1;
        s = end;
    }
    while (*s == ' ' || *s == '\t') s++;
    return *s ? -1 : 0;
}

static ec_err bad(const lines *r, const char *what)
{
    return ec_fail(EC_EPARSE, "%s:%ld: %s", r->name, r->line, what);
}

typedef struct {
    long long u, v, w;
} darc;

ec_err ec_dimacs_parse(const char *gr_name, const char *gr, size_t gr_len, const char *co_name,
                       const char *co, size_t co_len, const ec_load_opts_t *o, ec_netbuild *nb)
{
    lines r = {.name = gr_name, .s = gr, .len = gr_len};
    long long n = -1, m = -1, v[3];
    ec_vec arcs;
    ec_vec_init(&arcs, sizeof(darc));
    ec_latlon_t *pts = NULL;
    ec_err rc = EC_OK;
    int k;
    while ((k = next_line(&r)) != 0) {
        if (k < 0) {
            rc = bad(&r, "line longer than 1024 bytes");
            goto done;
        }
        if (r.buf[0] == 'c' || r.buf[0] == '\0') continue;
        if (r.buf[0] == 'p') {
            if (n >= 0) { rc = bad(&r, "second problem line"); goto done; }
            if (strncmp(r.buf, "p sp ", 5) || ints(r.buf + 5, 2, v)) {
                rc = bad(&r, "expected \"p sp NODES ARCS\"");
                goto done;
            }
            n = v[0], m = v[1];
            if (n < 1 || n > MAX_NODES || m < 0 || m > MAX_ARCS) {
                rc = bad(&r, "node or arc count out of range");
                goto done;
            }
            /* Every node of a road graph touches an arc. */
            if (n > 2 * m + 2) {
                rc = ec_fail(EC_ERANGE, "%s:%ld: %lld nodes but only %lld arcs to join them",
                             r.name, r.line, n, m);
                goto done;
            }
            /* Reserve no more than the file can hold: an arc line has at least 8 bytes. */
            size_t fit = gr_len / 8 + 1;
            if (ec_vec_reserve(&arcs, (size_t)m < fit ? (size_t)m : fit)) { rc = EC_ENOMEM; goto done; }
        } else if (r.buf[0] == 'a') {
            if (n < 0) { rc = bad(&r, "arc before the problem line"); goto done; }
            if (ints(r.buf + 1, 3, v)) { rc = bad(&r, "expected \"a FROM TO WEIGHT\""); goto done; }
            if (v[0] < 1 || v[0] > n || v[1] < 1 || v[1] > n) {
                rc = ec_fail(EC_EPARSE, "%s:%ld: arc %lld -> %lld names a node outside 1..%lld",
                             r.name, r.line, v[0], v[1], n);
                goto done;
            }
            if (v[2] < 0 || v[2] > MAX_WEIGHT) {
                rc = ec_fail(EC_ERANGE, "%s:%ld: weight %lld outside 0..%lld", r.name, r.line,
                             v[2], MAX_WEIGHT);
                goto done;
            }
            if ((long long)arcs.len >= m) { rc = bad(&r, "more arcs than the problem line declares"); goto done; }
            darc a = {v[0] - 1, v[1] - 1, v[2]};
            if (ec_vec_push(&arcs, &a)) { rc = EC_ENOMEM; goto done; }
        } else {
            rc = bad(&r, "unknown line type (expected c, p or a)");
            goto done;
        }
    }
    if (n < 0) { rc = ec_fail(EC_EPARSE, "%s: no problem line", gr_name); goto done; }
    if ((long long)arcs.len != m) {
        rc = ec_fail(EC_EPARSE, "%s: the problem line declares %lld arcs, the file has %zu",
                     gr_name, m, arcs.len);
        goto done;
    }
    pts = ec_calloc((size_t)n, sizeof *pts);
    if (!pts) { rc = EC_ENOMEM; goto done; }
    if (co) {
        lines c = {.name = co_name, .s = co, .len = co_len};
        long long cn = -1, seen = 0;
        while ((k = next_line(&c)) != 0) {
            if (k < 0) { rc = bad(&c, "line longer than 1024 bytes"); goto done; }
            if (c.buf[0] == 'c' || c.buf[0] == '\0') continue;
            if (c.buf[0] == 'p') {
                if (strncmp(c.buf, "p aux sp co ", 12) || ints(c.buf + 12, 1, v) || v[0] != n) {
                    rc = ec_fail(EC_EPARSE, "%s:%ld: expected \"p aux sp co %lld\"", c.name,
                                 c.line, n);
                    goto done;
                }
                cn = v[0];
            } else if (c.buf[0] == 'v') {
                if (cn < 0) { rc = bad(&c, "coordinate before the problem line"); goto done; }
                if (ints(c.buf + 1, 3, v) || v[0] < 1 || v[0] > n) {
                    rc = bad(&c, "expected \"v NODE LON*1e6 LAT*1e6\" with a known node");
                    goto done;
                }
                ec_latlon_t p = {v[2] / 1e6, v[1] / 1e6};
                if (!ec_geo_valid(p)) {
                    rc = ec_fail(EC_ERANGE, "%s:%ld: coordinates off the map", c.name, c.line);
                    goto done;
                }
                pts[v[0] - 1] = p;
                seen++;
            } else {
                rc = bad(&c, "unknown line type (expected c, p or v)");
                goto done;
            }
        }
        if (seen != n) {
            rc = ec_fail(EC_EPARSE, "%s: %lld of %lld nodes have coordinates", co_name, seen, n);
            goto done;
        }
    }
    uint32_t base = ec_netbuild_n_nodes(nb), idx;
    for (long long i = 0; i < n; i++)
        if ((rc = ec_netbuild_node(nb, i + 1, pts[i], NULL, &idx))) goto done;
    const darc *a = arcs.data;
    double kmh = o->vehicle.max_speed_kmh > 0 ? o->vehicle.max_speed_kmh : 80.0;
    for (size_t i = 0; i < arcs.len; i++) {
        uint32_t len_cm, dur_ms;
        if (o->metric == EC_METRIC_DISTANCE) {
            /* Weight in metres; duration at the vehicle's speed. */
            graph__arc_units((double)a[i].w, kmh, &len_cm, &dur_ms);
        } else {
            /* Weight in tenths of a second; length from the coordinates. */
            double m_len = co ? ec_geo_haversine_m(pts[a[i].u], pts[a[i].v]) : 0.0;
            graph__arc_units(m_len, kmh, &len_cm, &dur_ms);
            dur_ms = (uint32_t)(a[i].w * 100);
            if (!dur_ms) dur_ms = 1;
        }
        if ((rc = ec_netbuild_arc(nb, base + (uint32_t)a[i].u, base + (uint32_t)a[i].v, len_cm,
                                  dur_ms, EC_NO_WAY)))
            goto done;
    }
done:
    ec_vec_free(&arcs);
    ec_free(pts);
    return rc;
}

ec_err ec_graph_load_dimacs(const char *gr_path, const char *co_path, const ec_load_opts_t *o,
                            ec_graph **out)
{
    char *gr = NULL, *co = NULL;
    size_t gl = 0, cl = 0;
    ec_netbuild *nb = NULL;
    ec_err rc = ec_read_file(gr_path, (size_t)4 << 30, &gr, &gl);
    if (rc) return rc;
    if (co_path && (rc = ec_read_file(co_path, (size_t)4 << 30, &co, &cl))) goto done;
    if ((rc = ec_netbuild_new(&nb))) goto done;
    if ((rc = ec_dimacs_parse(gr_path, gr, gl, co_path, co, cl, o, nb))) goto done;
    rc = ec_netbuild_finish(nb, o->metric, EC_SRC_DIMACS, &o->vehicle, gr_path, out);
    nb = NULL;
done:
    ec_netbuild_free(nb);
    ec_free(gr);
    ec_free(co);
    return rc;
}

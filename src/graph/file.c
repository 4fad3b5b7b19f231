/* file.c - the .ecg file: one graph with its hierarchy, versioned and checksummed.
 *
 * Layout (little-endian): a 1 KiB header, then sections aligned to 8 bytes.
 * The header lists each section's offset, size and CRC-32 and ends with its
 * own CRC-32. Opening maps the file read-only and checks every checksum and
 * every index before a query may touch it.
 */
#include "graph_internal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAGIC "ECGRAPH\0"
#define FORMAT_VERSION 3u /* 2: node elevations; 3: road references and names, rest areas */
#define ENDIAN_MARK 0x01020304u
#define N_SECTIONS 20
#define MAX_COUNT 1000000000u

enum { S_COORD, S_FIRST, S_ARCS, S_EXT, S_WAYS, S_NAME_OFF, S_NAMES, S_RANK, S_NODE_AT,
       S_UP_FIRST, S_UP, S_DOWN_FIRST, S_DOWN, S_UP_CHILD, S_DOWN_CHILD, S_ELEV, S_WAY_REF,
       S_WAY_NAME, S_ROAD_STRS, S_REST };

typedef struct {
    uint64_t offset, size;
    uint32_t crc, pad;
} section;

typedef struct {
    char magic[8];
    uint32_t version, endian, header_size;
    uint32_t n_nodes, n_arcs, n_ways, n_up, n_down, names_len;
    uint32_t metric, source_kind, has_ch, has_names;
    int64_t built_at_s;
    double build_seconds;
    char vehicle_name[64];
    double height_m, width_m, length_m, weight_t, axle_load_t, max_speed_kmh;
    uint32_t hazmat, ignore_access, has_elev;
    uint32_t has_way_ids, road_strs_len, n_rest;
    char source[256];
    section sections[N_SECTIONS];
    uint8_t reserved[1024 - 8 - 16 * 4 - 16 - 64 - 48 - 8 - 8 - 256 - N_SECTIONS * 24 - 4];
    uint32_t header_crc;
} file_header;

static_assert(sizeof(file_header) == 1024, "header must be 1 KiB");
static_assert(offsetof(file_header, header_crc) == 1020, "the header's checksum ends it, no padding after");

static uint32_t crc(const void *p, uint64_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const Bytef *b = p;
    while (n) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, b, chunk);
        b += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

/* ---- saving ------------------------------------------------------------------- */

static ec_err write_all(int fd, const void *p, size_t n, const char *path)
{
    const char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return ec_fail(EC_EIO, "%s: write failed: %s", path, strerror(errno));
        }
        b += w;
        n -= (size_t)w;
    }
    return EC_OK;
}

ec_err ec_graph_save(const ec_graph *g, const char *path)
{
    if (!g->has_ch) return ec_fail(EC_EINVAL, "graph has no contraction hierarchy to save");
    file_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.version = FORMAT_VERSION;
    h.endian = ENDIAN_MARK;
    h.header_size = sizeof h;
    h.n_nodes = g->n_nodes;
    h.n_arcs = g->n_arcs;
    h.n_ways = g->n_ways;
    h.n_up = g->n_up;
    h.n_down = g->n_down;
    h.metric = g->metric;
    h.source_kind = g->source_kind;
    h.has_ch = 1;
    h.has_names = g->name_off != NULL;
    h.names_len = g->name_off ? g->name_off[g->n_nodes] + 1 : 0;
    h.built_at_s = g->built_at_s;
    h.build_seconds = g->build_seconds;
    snprintf(h.vehicle_name, sizeof h.vehicle_name, "%s", g->vehicle.name);
    h.height_m = g->vehicle.height_m;
    h.width_m = g->vehicle.width_m;
    h.length_m = g->vehicle.length_m;
    h.weight_t = g->vehicle.weight_t;
    h.axle_load_t = g->vehicle.axle_load_t;
    h.max_speed_kmh = g->vehicle.max_speed_kmh;
    h.hazmat = (uint32_t)g->vehicle.hazmat;
    h.ignore_access = (uint32_t)g->vehicle.ignore_access;
    h.has_elev = g->elev_m != NULL;
    h.has_way_ids = g->way_ids != NULL;
    h.road_strs_len = g->road_strs ? g->road_strs_len : 1;
    h.n_rest = g->n_rest;
    if (g->n_ways && !(g->way_ref && g->way_name))
        return ec_fail(EC_EINVAL, "graph has ways without their road table");
    snprintf(h.source, sizeof h.source, "%s", g->source);
    size_t n = g->n_nodes;
    const struct {
        const void *p;
        uint64_t size;
    } parts[N_SECTIONS] = {
        {g->coord, n * sizeof(ec_coord_t)},
        {g->first_out, (n + 1) * 4},
        {g->arcs, (uint64_t)g->n_arcs * sizeof(ec_arc_t)},
        {g->ext_id, n * 8},
        {g->way_ids, g->way_ids ? (uint64_t)g->n_ways * 8 : 0},
        {g->name_off, g->name_off ? (n + 1) * 4 : 0},
        {g->names, h.names_len},
        {g->rank, n * 4},
        {g->node_at, n * 4},
        {g->up_first, (n + 1) * 4},
        {g->up, (uint64_t)g->n_up * sizeof(ec_ch_arc_t)},
        {g->down_first, (n + 1) * 4},
        {g->down, (uint64_t)g->n_down * sizeof(ec_ch_arc_t)},
        {g->up_child, (uint64_t)g->n_up * 8},
        {g->down_child, (uint64_t)g->n_down * 8},
        {g->elev_m, g->elev_m ? n * 4 : 0},
        {g->way_ref, (uint64_t)g->n_ways * 4},
        {g->way_name, (uint64_t)g->n_ways * 4},
        {g->road_strs ? (const void *)g->road_strs : "", h.road_strs_len},
        {g->rest, (uint64_t)g->n_rest * sizeof(ec_rest_area_t)},
    };
    uint64_t off = sizeof h;
    for (int i = 0; i < N_SECTIONS; i++) {
        h.sections[i].offset = off;
        h.sections[i].size = parts[i].size;
        h.sections[i].crc = crc(parts[i].p, parts[i].size);
        off += (parts[i].size + 7) & ~7ull;
    }
    h.header_crc = crc(&h, offsetof(file_header, header_crc));

    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= (int)sizeof tmp)
        return ec_fail(EC_EINVAL, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return ec_fail(EC_EIO, "%s: cannot create: %s", path, strerror(errno));
    static const char zeros[8] = {0};
    ec_err rc = write_all(fd, &h, sizeof h, path);
    for (int i = 0; i < N_SECTIONS && !rc; i++) {
        if (parts[i].size) rc = write_all(fd, parts[i].p, parts[i].size, path);
        size_t pad = (size_t)(((parts[i].size + 7) & ~7ull) - parts[i].size);
        if (!rc && pad) rc = write_all(fd, zeros, pad, path);
    }
    if (!rc && (fchmod(fd, 0644) || fsync(fd)))
        rc = ec_fail(EC_EIO, "%s: cannot sync: %s", path, strerror(errno));
    if (close(fd) && !rc) rc = ec_fail(EC_EIO, "%s: close failed: %s", path, strerror(errno));
    if (!rc && rename(tmp, path))
        rc = ec_fail(EC_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
    if (rc) {
        unlink(tmp);
        return rc;
    }
    /* Make the rename itself durable. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return EC_OK;
}

/* ---- opening ------------------------------------------------------------------- */

static ec_err corrupt(const char *name, const char *what)
{
    return ec_fail(EC_ECORRUPT, "%s: corrupt graph file: %s", name, what);
}

static int monotonic(const uint32_t *first, uint32_t n, uint32_t total)
{
    if (first[0] != 0 || first[n] != total) return 0;
    for (uint32_t i = 0; i < n; i++)
        if (first[i] > first[i + 1]) return 0;
    return 1;
}

/* Checks the CH arcs of one direction: every index in range, higher ranks
 * outward, middle nodes below both ends (so unpacking ends), and original
 * arcs that really join the two nodes. */
static int ch_arcs_ok(const ec_graph *g, int up)
{
    const uint32_t *first = up ? g->up_first : g->down_first;
    const ec_ch_arc_t *arcs = up ? g->up : g->down;
    for (uint32_t r = 0; r < g->n_nodes; r++)
        for (uint32_t i = first[r]; i < first[r + 1]; i++) {
            uint32_t x = arcs[i].to, d = arcs[i].data;
            if (x >= g->n_nodes || x <= r) return 0;
            if (d & EC_CH_SHORTCUT) {
                /* Halves live at the middle node, which ranks below r: unpacking
                 * descends strictly and ends. */
                uint32_t m = d & ~EC_CH_SHORTCUT, tail = up ? r : x, head = up ? x : r;
                const uint32_t *child = up ? g->up_child : g->down_child;
                uint32_t c0 = child[2 * i], c1 = child[2 * i + 1];
                if (m >= r || c0 < g->down_first[m] || c0 >= g->down_first[m + 1] ||
                    c1 < g->up_first[m] || c1 >= g->up_first[m + 1] || g->down[c0].to != tail ||
                    g->up[c1].to != head)
                    return 0;
                continue;
            }
            uint32_t tail = g->node_at[up ? r : x], head = g->node_at[up ? x : r];
            const uint32_t *child = up ? g->up_child : g->down_child;
            if (d < g->first_out[tail] || d >= g->first_out[tail + 1] || g->arcs[d].to != head ||
                child[2 * i] != (d | EC_CH_ORIGINAL) || child[2 * i + 1] != UINT32_MAX)
                return 0;
        }
    return 1;
}

static ec_err from_image(ec_graph *g, const uint8_t *base, uint64_t len, const char *name)
{
    file_header h;
    if (len < sizeof h) return corrupt(name, "shorter than its header");
    memcpy(&h, base, sizeof h);
    if (memcmp(h.magic, MAGIC, 8)) return ec_fail(EC_EPARSE, "%s: not an ecorridor graph file", name);
    if (h.endian != ENDIAN_MARK) return corrupt(name, "written on a machine of other byte order");
    if (h.version != FORMAT_VERSION)
        return ec_fail(EC_EVERSION,
                       "%s: graph file format version %u; this program reads version %u: rebuild "
                       "it with `ecorridor graph build`",
                       name, h.version, FORMAT_VERSION);
    if (h.header_size != sizeof h || h.header_crc != crc(&h, offsetof(file_header, header_crc)))
        return corrupt(name, "header checksum mismatch");
    if (h.n_nodes == 0 || h.n_nodes > MAX_COUNT || h.n_arcs > MAX_COUNT || h.n_ways > MAX_COUNT ||
        h.n_up > MAX_COUNT || h.n_down > MAX_COUNT || !h.has_ch || h.metric > 1 ||
        h.n_rest > EC_MAX_REST_AREAS || h.road_strs_len == 0)
        return corrupt(name, "counts out of range");
    uint64_t n = h.n_nodes;
    const uint64_t want[N_SECTIONS] = {
        n * sizeof(ec_coord_t), (n + 1) * 4, (uint64_t)h.n_arcs * sizeof(ec_arc_t), n * 8,
        h.has_way_ids ? (uint64_t)h.n_ways * 8 : 0, h.has_names ? (n + 1) * 4 : 0, h.names_len, n * 4, n * 4,
        (n + 1) * 4, (uint64_t)h.n_up * sizeof(ec_ch_arc_t), (n + 1) * 4,
        (uint64_t)h.n_down * sizeof(ec_ch_arc_t), (uint64_t)h.n_up * 8, (uint64_t)h.n_down * 8,
        h.has_elev ? n * 4 : 0, (uint64_t)h.n_ways * 4, (uint64_t)h.n_ways * 4, h.road_strs_len,
        (uint64_t)h.n_rest * sizeof(ec_rest_area_t)};
    const void *p[N_SECTIONS];
    uint64_t end = sizeof h;
    for (int i = 0; i < N_SECTIONS; i++) {
        const section *s = &h.sections[i];
        /* Sections follow each other in order, each padded with zeros to 8 bytes,
         * so every byte of the file is covered by a checksum or a zero check. */
        if (s->size != want[i] || s->offset != end || s->size > len - s->offset)
            return corrupt(name, "a section lies outside the file or has the wrong size");
        p[i] = base + s->offset;
        if (crc(p[i], s->size) != s->crc) return corrupt(name, "section checksum mismatch");
        end = s->offset + ((s->size + 7) & ~7ull);
        if (end > len) return corrupt(name, "file is truncated");
        for (uint64_t k = s->offset + s->size; k < end; k++)
            if (base[k]) return corrupt(name, "non-zero padding");
    }
    if (end != len) return corrupt(name, "trailing bytes after the last section");
    g->n_nodes = h.n_nodes;
    g->n_arcs = h.n_arcs;
    g->n_ways = h.n_ways;
    g->n_up = h.n_up;
    g->n_down = h.n_down;
    g->coord = p[S_COORD];
    g->first_out = p[S_FIRST];
    g->arcs = p[S_ARCS];
    g->ext_id = p[S_EXT];
    g->way_ids = h.n_ways && h.has_way_ids ? p[S_WAYS] : NULL;
    g->way_ref = h.n_ways ? p[S_WAY_REF] : NULL;
    g->way_name = h.n_ways ? p[S_WAY_NAME] : NULL;
    g->road_strs = p[S_ROAD_STRS];
    g->road_strs_len = h.road_strs_len;
    g->n_rest = h.n_rest;
    g->rest = h.n_rest ? p[S_REST] : NULL;
    g->name_off = h.has_names ? p[S_NAME_OFF] : NULL;
    g->names = h.has_names ? p[S_NAMES] : NULL;
    g->rank = p[S_RANK];
    g->node_at = p[S_NODE_AT];
    g->up_first = p[S_UP_FIRST];
    g->up = p[S_UP];
    g->down_first = p[S_DOWN_FIRST];
    g->down = p[S_DOWN];
    g->up_child = p[S_UP_CHILD];
    g->down_child = p[S_DOWN_CHILD];
    g->elev_m = h.has_elev ? p[S_ELEV] : NULL;
    g->has_ch = 1;
    g->metric = (ec_metric)h.metric;
    g->source_kind = (ec_source_kind)h.source_kind;
    g->built_at_s = h.built_at_s;
    g->build_seconds = h.build_seconds;
    h.vehicle_name[sizeof h.vehicle_name - 1] = '\0';
    h.source[sizeof h.source - 1] = '\0';
    snprintf(g->vehicle.name, sizeof g->vehicle.name, "%s", h.vehicle_name);
    g->vehicle.height_m = h.height_m;
    g->vehicle.width_m = h.width_m;
    g->vehicle.length_m = h.length_m;
    g->vehicle.weight_t = h.weight_t;
    g->vehicle.axle_load_t = h.axle_load_t;
    g->vehicle.max_speed_kmh = h.max_speed_kmh;
    g->vehicle.hazmat = h.hazmat != 0;
    g->vehicle.ignore_access = h.ignore_access != 0;
    snprintf(g->source, sizeof g->source, "%s", h.source);

    /* Structure: every index a query follows must stay inside its array. */
    if (!monotonic(g->first_out, h.n_nodes, h.n_arcs)) return corrupt(name, "bad arc offsets");
    for (uint32_t i = 0; i < h.n_arcs; i++)
        if (g->arcs[i].to >= h.n_nodes || (g->arcs[i].way != EC_NO_WAY && g->arcs[i].way >= h.n_ways))
            return corrupt(name, "an arc points outside the graph");
    for (uint32_t v = 0; v < h.n_nodes; v++) {
        ec_latlon_t pt = ec_graph_point(g, v);
        if (!ec_geo_valid(pt)) return corrupt(name, "a node lies off the map");
        if (g->rank[v] >= h.n_nodes || g->node_at[g->rank[v]] != v)
            return corrupt(name, "node order is not a permutation");
    }
    if (h.has_elev)
        for (uint32_t v = 0; v < h.n_nodes; v++) {
            float e = g->elev_m[v];
            if (!(e >= -500 && e <= 9000)) return corrupt(name, "an elevation out of range");
        }
    if (h.has_names) {
        if (h.names_len == 0 || g->names[h.names_len - 1] != '\0' ||
            !monotonic(g->name_off, h.n_nodes, g->name_off[h.n_nodes]) ||
            g->name_off[h.n_nodes] >= h.names_len)
            return corrupt(name, "bad name table");
        for (uint32_t v = 0; v < h.n_nodes; v++)
            if (g->name_off[v] != g->name_off[v + 1] && g->names[g->name_off[v + 1] - 1] != '\0')
                return corrupt(name, "bad name table");
    }
    /* Road strings: every offset starts a string that ends inside the table. */
    if (g->road_strs[0] != '\0' || g->road_strs[h.road_strs_len - 1] != '\0')
        return corrupt(name, "bad road name table");
    for (uint32_t w = 0; w < h.n_ways; w++)
        if (g->way_ref[w] >= h.road_strs_len || g->way_name[w] >= h.road_strs_len)
            return corrupt(name, "a way's name lies outside the road name table");
    for (uint32_t i = 0; i < h.n_rest; i++) {
        const ec_rest_area_t *r = &g->rest[i];
        ec_latlon_t pt = {r->lat_e7 / 1e7, r->lon_e7 / 1e7};
        if (!ec_geo_valid(pt) || r->name >= h.road_strs_len || r->kind > EC_REST_SERVICES)
            return corrupt(name, "a bad rest area");
    }
    if (!monotonic(g->up_first, h.n_nodes, h.n_up) || !monotonic(g->down_first, h.n_nodes, h.n_down) ||
        !ch_arcs_ok(g, 1) || !ch_arcs_ok(g, 0))
        return corrupt(name, "bad contraction hierarchy");
    return EC_OK;
}

ec_err ec_graph_open(const char *path, ec_graph **out)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return ec_fail(EC_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return ec_fail(EC_EIO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size < sizeof(file_header)) {
        close(fd);
        return corrupt(path, "shorter than its header");
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return ec_fail(EC_EIO, "%s: cannot map: %s", path, strerror(errno));
    ec_graph *g = ec_calloc(1, sizeof *g);
    if (!g) {
        munmap(map, (size_t)st.st_size);
        return EC_ENOMEM;
    }
    g->map = map;
    g->map_len = (size_t)st.st_size;
    ec_err rc = from_image(g, map, (uint64_t)st.st_size, path);
    if (rc) {
        ec_graph_free(g);
        return rc;
    }
    *out = g;
    return EC_OK;
}

ec_err ec_graph_open_mem(const void *data, size_t len, const char *name, ec_graph **out)
{
    ec_graph *g = ec_calloc(1, sizeof *g);
    void *copy = ec_malloc(len ? len : 1);
    if (!g || !copy) {
        ec_free(g);
        ec_free(copy);
        return EC_ENOMEM;
    }
    /* Sections are read in place, so the image must be 8-byte aligned: malloc is. */
    if (len) memcpy(copy, data, len);
    g->owned[g->n_owned++] = copy;
    ec_err rc = from_image(g, copy, len, name);
    if (rc) {
        ec_graph_free(g);
        return rc;
    }
    *out = g;
    return EC_OK;
}

/* grid.c - a uniform lat/lon grid of segment ids for nearest-edge lookups. */
#include "ecorridor/ec_geo.h"

#include <math.h>
#include <string.h>

#define MAX_CELLS (1u << 24)

static void cell_range(const ec_grid *g, double lat_lo, double lat_hi, double lon_lo,
                       double lon_hi, long *r0, long *r1, long *c0, long *c1)
{
    *r0 = (long)floor((lat_lo - g->lat0) / g->cell_deg);
    *r1 = (long)floor((lat_hi - g->lat0) / g->cell_deg);
    *c0 = (long)floor((lon_lo - g->lon0) / g->cell_deg);
    *c1 = (long)floor((lon_hi - g->lon0) / g->cell_deg);
    if (*r0 < 0) *r0 = 0;
    if (*c0 < 0) *c0 = 0;
    if (*r1 >= (long)g->rows) *r1 = (long)g->rows - 1;
    if (*c1 >= (long)g->cols) *c1 = (long)g->cols - 1;
}

ec_err ec_grid_build(ec_grid *g, const ec_latlon_t *a, const ec_latlon_t *b, uint32_t n,
                     double cell_deg)
{
    memset(g, 0, sizeof *g);
    double lat_lo = 90, lat_hi = -90, lon_lo = 180, lon_hi = -180;
    for (uint32_t i = 0; i < n; i++) {
        lat_lo = fmin(lat_lo, fmin(a[i].lat, b[i].lat));
        lat_hi = fmax(lat_hi, fmax(a[i].lat, b[i].lat));
        lon_lo = fmin(lon_lo, fmin(a[i].lon, b[i].lon));
        lon_hi = fmax(lon_hi, fmax(a[i].lon, b[i].lon));
    }
    if (n == 0) lat_lo = lat_hi = lon_lo = lon_hi = 0;
    /* Coarsen the cells until the grid stays within its size limit. */
    for (;;) {
        double rows = floor((lat_hi - lat_lo) / cell_deg) + 1;
        double cols = floor((lon_hi - lon_lo) / cell_deg) + 1;
        if (rows * cols <= MAX_CELLS) {
            g->rows = (uint32_t)rows;
            g->cols = (uint32_t)cols;
            break;
        }
        cell_deg *= 2;
    }
    g->lat0 = lat_lo;
    g->lon0 = lon_lo;
    g->cell_deg = cell_deg;
    size_t ncell = (size_t)g->rows * g->cols;
    g->cell_start = ec_calloc(ncell + 1, sizeof *g->cell_start);
    if (!g->cell_start) return EC_ENOMEM;
    /* Two passes: count items per cell, then fill. A segment goes into every
     * cell its bounding box touches. */
    uint64_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < n; i++) {
            long r0, r1, c0, c1;
            cell_range(g, fmin(a[i].lat, b[i].lat), fmax(a[i].lat, b[i].lat),
                       fmin(a[i].lon, b[i].lon), fmax(a[i].lon, b[i].lon), &r0, &r1, &c0, &c1);
            for (long r = r0; r <= r1; r++)
                for (long c = c0; c <= c1; c++) {
                    size_t cell = (size_t)r * g->cols + (size_t)c;
                    if (pass == 0) {
                        g->cell_start[cell + 1]++;
                        total++;
                    } else {
                        g->items[g->cell_start[cell]++] = i;
                    }
                }
        }
        if (pass == 0) {
            if (total > UINT32_MAX) return EC_ELIMIT;
            for (size_t c = 0; c < ncell; c++) g->cell_start[c + 1] += g->cell_start[c];
            g->items = ec_malloc((total ? total : 1) * sizeof *g->items);
            if (!g->items) {
                ec_grid_free(g);
                return EC_ENOMEM;
            }
        }
    }
    /* The fill pass advanced each start to the next cell's start: shift back. */
    for (size_t c = ncell; c > 0; c--) g->cell_start[c] = g->cell_start[c - 1];
    g->cell_start[0] = 0;
    return EC_OK;
}

void ec_grid_free(ec_grid *g)
{
    ec_free(g->cell_start);
    ec_free(g->items);
    memset(g, 0, sizeof *g);
}

void ec_grid_visit(const ec_grid *g, ec_latlon_t p, double radius_m,
                   void (*visit)(void *ctx, uint32_t id), void *ctx)
{
    if (!g->cell_start) return;
    double dlat = radius_m / 111195.0;
    double coslat = cos(p.lat * M_PI / 180.0);
    double dlon = coslat > 1e-6 ? dlat / coslat : 360.0;
    long r0, r1, c0, c1;
    cell_range(g, p.lat - dlat, p.lat + dlat, p.lon - dlon, p.lon + dlon, &r0, &r1, &c0, &c1);
    for (long r = r0; r <= r1; r++)
        for (long c = c0; c <= c1; c++) {
            size_t cell = (size_t)r * g->cols + (size_t)c;
            for (uint32_t k = g->cell_start[cell]; k < g->cell_start[cell + 1]; k++)
                visit(ctx, g->items[k]);
        }
}

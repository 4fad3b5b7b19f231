/* ec_geo.h - WGS84 points, distances, a spatial grid index, GeoJSON output. */
#ifndef EC_GEO_H
#define EC_GEO_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_json.h"

typedef struct {
    double lat, lon; /* degrees */
} ec_latlon_t;

#define EC_EARTH_RADIUS_M 6371008.8

/* Great-circle distance in metres. */
double ec_geo_haversine_m(ec_latlon_t a, ec_latlon_t b);
/* 1 when lat is in [-90, 90] and lon in [-180, 180] and both are finite. */
int ec_geo_valid(ec_latlon_t p);
/* Parses "LAT,LON"; 0 on success. */
int ec_geo_parse(const char *s, ec_latlon_t *out);

/* Projection of p onto segment a-b in a local equirectangular frame:
 * returns the distance in metres and the fraction t in [0,1] along a->b. */
double ec_geo_point_segment_m(ec_latlon_t p, ec_latlon_t a, ec_latlon_t b, double *t);

/* Spatial grid over segments (each a pair of points with a caller id). */
typedef struct {
    double lat0, lon0, cell_deg;
    uint32_t rows, cols;
    uint32_t *cell_start; /* rows*cols+1 offsets into items */
    uint32_t *items;      /* segment ids */
} ec_grid;

/* Builds a grid over n segments given by endpoint arrays; seg i spans
 * (a[i], b[i]). Returns new into *g (free with ec_grid_free). */
ec_err ec_grid_build(ec_grid *g, const ec_latlon_t *a, const ec_latlon_t *b, uint32_t n,
                     double cell_deg);
void ec_grid_free(ec_grid *g);

/* Calls visit(ctx, id) for every segment in cells within radius_m of p.
 * Segments can be visited more than once. */
void ec_grid_visit(const ec_grid *g, ec_latlon_t p, double radius_m,
                   void (*visit)(void *ctx, uint32_t id), void *ctx);

/* Writes one GeoJSON position, [lon, lat], to 7 decimals (about 1 cm). */
void ec_geojson_position(ec_jw *w, ec_latlon_t p);

#endif

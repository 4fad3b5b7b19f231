/* geo.c - distances on the sphere and local projections. */
#include "ecorridor/ec_geo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEG2RAD (M_PI / 180.0)

double ec_geo_haversine_m(ec_latlon_t a, ec_latlon_t b)
{
    double dlat = (b.lat - a.lat) * DEG2RAD, dlon = (b.lon - a.lon) * DEG2RAD;
    double s1 = sin(dlat / 2), s2 = sin(dlon / 2);
    double h = s1 * s1 + cos(a.lat * DEG2RAD) * cos(b.lat * DEG2RAD) * s2 * s2;
    if (h > 1.0) h = 1.0;
    return 2.0 * EC_EARTH_RADIUS_M * asin(sqrt(h));
}

int ec_geo_valid(ec_latlon_t p)
{
    return isfinite(p.lat) && isfinite(p.lon) && p.lat >= -90.0 && p.lat <= 90.0 &&
           p.lon >= -180.0 && p.lon <= 180.0;
}

int ec_geo_parse(const char *s, ec_latlon_t *out)
{
    char tmp[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof tmp) return -1;
    memcpy(tmp, s, n + 1);
    char *comma = strchr(tmp, ',');
    if (!comma) return -1;
    *comma = '\0';
    ec_latlon_t p;
    if (ec_parse_double(tmp, &p.lat) || ec_parse_double(comma + 1, &p.lon)) return -1;
    if (!ec_geo_valid(p)) return -1;
    *out = p;
    return 0;
}

double ec_geo_point_segment_m(ec_latlon_t p, ec_latlon_t a, ec_latlon_t b, double *t)
{
    double k = cos(p.lat * DEG2RAD) * DEG2RAD * EC_EARTH_RADIUS_M, m = DEG2RAD * EC_EARTH_RADIUS_M;
    double ax = (a.lon - p.lon) * k, ay = (a.lat - p.lat) * m;
    double bx = (b.lon - p.lon) * k, by = (b.lat - p.lat) * m;
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    double f = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0.0;
    if (f < 0) f = 0;
    if (f > 1) f = 1;
    double x = ax + f * dx, y = ay + f * dy;
    if (t) *t = f;
    return sqrt(x * x + y * y);
}

void ec_geojson_position(ec_jw *w, ec_latlon_t p)
{
    ec_jw_arr_begin(w);
    ec_jw_num(w, p.lon, 7);
    ec_jw_num(w, p.lat, 7);
    ec_jw_arr_end(w);
}

/* trip_time.c - the trip table's clock: which zone a place keeps, local
 * times with date and zone, and departure times as people write them. */
#include "trip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Boxes around the corridor countries, smallest first, so that a border
 * region falls to the smaller country. They are coarse on purpose: every
 * one of these countries keeps Central European Time with the same summer
 * time, so a box that overlaps its neighbour can change the zone's name in
 * the table, never the time. The lands inside the big boxes that keep
 * another time come first: England's south coast and the Channel Islands
 * (British time) and Tunisia (CET without summer time, as north-eastern
 * Algeria, which its box also holds). Places outside every box are shown
 * in UTC. */
static const struct {
    double lat0, lat1, lon0, lon1;
    const char *zone;
} zone_boxes[] = {
    {50.30, 51.10, -6.50, 1.45, "Europe/London"}, /* west of Boulogne and Calais */
    {49.95, 50.30, -6.50, 1.15, "Europe/London"}, /* north of Dieppe, west of Le Treport */
    {49.15, 49.75, -2.70, -2.00, "Europe/London"}, /* Jersey, Guernsey, Alderney */
    {35.50, 37.60, 6.60, 11.70, "Africa/Tunis"},   /* south of Sardinia, west of Sicily */
    {49.44, 50.19, 5.73, 6.53, "Europe/Luxembourg"},
    {50.75, 51.25, 5.60, 6.10, "Europe/Amsterdam"}, /* Dutch Limburg */
    {51.25, 53.70, 3.30, 7.25, "Europe/Amsterdam"},
    {49.50, 51.50, 2.54, 6.40, "Europe/Brussels"},
    {45.80, 47.81, 5.95, 10.50, "Europe/Zurich"},
    {46.37, 49.02, 9.53, 17.16, "Europe/Vienna"},
    {47.27, 55.06, 5.87, 15.04, "Europe/Berlin"},
    {41.30, 51.10, -5.20, 9.60, "Europe/Paris"},
    {35.50, 47.10, 6.60, 18.50, "Europe/Rome"},
};

const char *trip_zone_of(ec_latlon_t p)
{
    for (size_t i = 0; i < sizeof zone_boxes / sizeof zone_boxes[0]; i++)
        if (p.lat >= zone_boxes[i].lat0 && p.lat <= zone_boxes[i].lat1 && p.lon >= zone_boxes[i].lon0 &&
            p.lon <= zone_boxes[i].lon1)
            return trip_zone_known(zone_boxes[i].zone) ? zone_boxes[i].zone : NULL;
    return NULL;
}

/* A zone is a name in the system's tz database (Debian's tzdata), checked
 * as a zone file there: the C library would otherwise take an unknown name,
 * a directory such as Europe or a file such as leapseconds for UTC without a
 * word. The right/ zones count leap seconds, which Unix time does not, so
 * they would put every time off by them. */
int trip_zone_known(const char *zone)
{
    size_t n = strlen(zone);
    if (n == 0 || n > 63 || zone[0] == '/' || strstr(zone, "..") || !strncmp(zone, "right/", 6)) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = zone[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '_' ||
              c == '-' || c == '+'))
            return 0;
    }
    if (!strcmp(zone, "UTC")) return 1;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[4];
    int ok = fread(magic, 1, sizeof magic, f) == sizeof magic && !memcmp(magic, "TZif", 4);
    fclose(f);
    return ok;
}

/* The C library reads the zone from TZ; setting it only when it changes
 * keeps the table's many conversions cheap. */
static void use_zone(const char *zone)
{
    static char current[64];
    if (!strcmp(current, zone)) return;
    snprintf(current, sizeof current, "%s", zone);
    setenv("TZ", zone, 1);
    tzset();
}

void trip_time_local(int64_t t, const char *zone, char *out, size_t n)
{
    use_zone(zone && *zone ? zone : "UTC");
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M %Z", &tm)) snprintf(out, n, "?");
}

int trip_utc_offset(int64_t t, const char *zone)
{
    use_zone(zone && *zone ? zone : "UTC");
    time_t tt = (time_t)t;
    struct tm tm;
    return localtime_r(&tt, &tm) ? (int)tm.tm_gmtoff : 0;
}

/* Reads exactly `digits` decimal digits at *s. */
static int digits(const char **s, int count, int *v)
{
    *v = 0;
    for (int i = 0; i < count; i++) {
        if ((*s)[i] < '0' || (*s)[i] > '9') return -1;
        *v = *v * 10 + ((*s)[i] - '0');
    }
    *s += count;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && ((y % 4 == 0 && y % 100) || y % 400 == 0) ? 29 : dm[m - 1];
}

int trip_parse_depart(const char *s, int64_t now, int64_t *t)
{
    if (!strcmp(s, "now")) {
        *t = now;
        return 0;
    }
    if (strlen(s) > 40 || strlen(s) < 13) return -1;
    int y, mo, d, h, mi, sec = 0;
    /* The date, extended (2026-11-24) or basic (20261124). */
    int ext = s[4] == '-';
    if (digits(&s, 4, &y) || (ext && *s++ != '-') || digits(&s, 2, &mo) || (ext && *s++ != '-') || digits(&s, 2, &d))
        return -1;
    if (*s != 'T' && *s != 't' && *s != ' ') return -1;
    s++;
    if (strlen(s) < 4) return -1;
    int text = s[2] == ':';
    if (digits(&s, 2, &h) || (text && *s++ != ':') || digits(&s, 2, &mi)) return -1;
    if ((text && *s == ':') || (!text && *s >= '0' && *s <= '9')) {
        if (text) s++;
        if (digits(&s, 2, &sec)) return -1;
        if (*s == '.' || *s == ',') /* fractions of a second are dropped */
            for (s++; *s >= '0' && *s <= '9'; s++) {}
    }
    int off = 0;
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s++ == '-' ? -1 : 1, oh, om = 0;
        if (digits(&s, 2, &oh)) return -1;
        if (*s == ':') s++;
        if (*s && digits(&s, 2, &om)) return -1;
        if (oh > 18 || om > 59) return -1;
        off = sign * (oh * 3600 + om * 60);
    } else if (*s == '\0') {
        return 1; /* no zone: refused, as the same words mean another hour in every zone */
    } else {
        return -1;
    }
    if (*s || y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 24 || mi > 59 ||
        sec > 60 || (h == 24 && (mi || sec)))
        return -1;
    if (sec == 60) sec = 59; /* a leap second, read as the second before it */
    *t = ec_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    return 0;
}

/* twin_setup.c - the set-up `simulate` and `plan` share (twin_setup.h). */
#include "trip.h"
#include "twin_setup.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* 1 when dir exists and holds anything. */
int cli_dir_not_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int any = 0;
    while (!any && (e = readdir(d))) any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return any;
}

/* Makes dir and any folder above it that is missing. */
int cli_make_dirs(const char *dir)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) return -1;
    for (char *c = p + 1; *c; c++) {
        if (*c != '/') continue;
        *c = 0;
        if (mkdir(p, 0755) && errno != EEXIST) return -1;
        *c = '/';
    }
    return mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
}

/* Local midnight of date in zone, and the zone's offset then. */
int cli_day_start(const char *date, const char *zone, int64_t *start, int *offset)
{
    int y, m, d;
    char tail;
    if (sscanf(date, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1971 || y > 9998 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    /* 2026-02-30 is no day: the next month's first day would not be that one later. */
    if (ec_days_from_civil(y, m, d) >= ec_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1)) return -1;
    int64_t noon = ec_days_from_civil(y, m, d) * 86400 + 43200;
    *offset = trip_utc_offset(noon, zone);
    *start = noon - 43200 - *offset;
    return 0;
}

/* A scenario's windows must touch the simulated day and the night after it (to 48:00). */
ec_err cli_scenario_in_day(const ec_scenario_t *s, int64_t day0)
{
    int64_t end = day0 + 2 * 86400;
    for (size_t i = 0; i < s->n_outages; i++)
        if (s->outages[i].to_s <= day0 || s->outages[i].from_s >= end)
            return ec_fail(EC_EINVAL, "%s: outages[%zu]: the window lies outside the simulated day and the night after it",
                           s->file, i);
    for (size_t i = 0; i < s->n_derates; i++)
        if (s->derates[i].to_s <= day0 || s->derates[i].from_s >= end)
            return ec_fail(EC_EINVAL, "%s: derating[%zu]: the window lies outside the simulated day and the night after it",
                           s->file, i);
    return EC_OK;
}

ec_err cli_load_corridor(const char *dir, ec_graph **g, ec_traffic_t *traffic)
{
    ec_load_opts_t lo;
    memset(&lo, 0, sizeof lo);
    ec_ch_opts_t co;
    memset(&co, 0, sizeof co);
    ec_err rc = ec_vehicle_class_builtin("truck-40t", &lo.vehicle);
    if (!rc) rc = ec_graph_load_corridor(dir, &lo, g);
    if (!rc) rc = ec_ch_build(*g, &co);
    if (!rc) rc = ec_graph_snap_prepare(*g);
    if (rc || !traffic) return rc;
    char path[4096];
    snprintf(path, sizeof path, "%s/traffic.csv", dir);
    return ec_traffic_load(path, traffic);
}

int cli_number(const cli_cmd *cmd, const cli_args *a, const char *name, double lo, double hi, double *out)
{
    const char *v = cli_get(a, name);
    if (!v) return -1;
    if (ec_parse_double(v, out) || !isfinite(*out) || *out < lo || *out > hi)
        return cli_usage_error(cmd, "--%s \"%s\" must be a number from %g to %g", name, v, lo, hi);
    return -1;
}

const char *cli_thousands(double v, char *buf, size_t n)
{
    char raw[48];
    snprintf(raw, sizeof raw, "%.0f", v);
    size_t len = strlen(raw), o = 0, lead = raw[0] == '-';
    for (size_t i = 0; i < len && o + 2 < n; i++) {
        if (i > lead && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = 0;
    return buf;
}

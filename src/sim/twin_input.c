/* twin_input.c - the corridor twin's CSV inputs: traffic, vehicle mix, trips,
 * and the times they are written in. */
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_twin.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Flow and trip files of a whole country run to tens of megabytes; a mix is
 * a handful of lines. Past these sizes a file is a mistake, not an input. */
#define TWIN_BIG_FILE_MAX ((size_t)256 << 20)
#define TWIN_SMALL_FILE_MAX ((size_t)16 << 20)
/* A year of one OD pair's trucks: far above any motorway's count, so a
 * bigger one is a typing error rather than freight. */
#define TWIN_VOLUME_MAX 1e9

/* ---- times ----------------------------------------------------------------------------- */

/* Reads exactly two decimal digits. */
static int two_digits(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return -1;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

int ec_twin_parse_time(const char *s, int64_t day_start_s, int64_t *t_s)
{
    if (!s) return -1;
    size_t n = strnlen(s, 64);
    int h, m;
    /* "HH:MM" on the simulated day; a day and its night run to 48:00 so a
     * truck leaving late in the evening can be written on the same clock. */
    if (n == 5 && s[2] == ':' && !two_digits(s, &h) && !two_digits(s + 3, &m)) {
        if (h > 48 || m > 59 || (h == 48 && m > 0)) return -1;
        *t_s = day_start_s + (int64_t)h * 3600 + (int64_t)m * 60;
        return 0;
    }
    if (n >= 64) return -1;
    if (!ec_time_parse_iso(s, t_s)) return 0;
    /* "YYYY-MM-DDTHH:MM+02:00": a local time with its zone but no seconds,
     * as people write it; RFC 3339 wants the seconds, so add them. */
    if (n == 22 && s[10] == 'T' && s[13] == ':' && (s[16] == '+' || s[16] == '-')) {
        char full[32];
        memcpy(full, s, 16);
        memcpy(full + 16, ":00", 3);
        memcpy(full + 19, s + 16, 7); /* the zone and the NUL */
        return ec_time_parse_rfc3339(full, t_s);
    }
    return -1;
}

/* ---- shared by the three CSV readers --------------------------------------------------- */

/* The columns a reader needs, found in the header; a missing one is named. */
static ec_err twin__header(ec_csv *r, const char *name, const char *const *cols, int n, int *at)
{
    ec_err rc = ec_csv_next(r);
    if (rc == EC_EOF) return ec_fail(EC_EPARSE, "%s: empty file, expected a header", name);
    if (rc) return rc;
    for (int k = 0; k < n; k++) {
        at[k] = ec_csv_find(r, cols[k]);
        if (at[k] < 0) return ec_fail(EC_EPARSE, "%s:%ld: header lacks column %s", name, r->line, cols[k]);
    }
    return EC_OK;
}

/* A row shorter than the header lacks a field rather than holding "". */
static ec_err twin__fields(const ec_csv *r, const char *name, const char *const *cols, int n, const int *at,
                           const char **f)
{
    for (int k = 0; k < n; k++) {
        if ((size_t)at[k] >= r->nfields) return ec_fail(EC_EPARSE, "%s:%ld: %s is missing", name, r->line, cols[k]);
        f[k] = r->fields[at[k]];
    }
    return EC_OK;
}

static ec_err twin__node(const ec_csv *r, const char *name, const char *what, const char *s, int64_t *out)
{
    if (ec_parse_i64(s, out))
        return ec_fail(EC_EPARSE, "%s:%ld: %s \"%.40s\" is not a node id (an integer)", name, r->line, what, s);
    return EC_OK;
}

static ec_err twin__od(const ec_csv *r, const char *name, const char *o, const char *d, int64_t *origin,
                       int64_t *destination)
{
    ec_err rc;
    if ((rc = twin__node(r, name, "origin", o, origin)) || (rc = twin__node(r, name, "destination", d, destination)))
        return rc;
    if (*origin == *destination)
        return ec_fail(EC_EPARSE, "%s:%ld: destination %lld is the origin", name, r->line, (long long)*origin);
    return EC_OK;
}

/* ---- traffic ----------------------------------------------------------------------------- */

ec_err ec_traffic_parse(const char *name, const char *text, size_t len, ec_traffic_t *out)
{
    static const char *const cols[] = {"origin", "destination", "volume"};
    enum { C_O, C_D, C_VOL, N_COLS };
    int at[N_COLS] = {0};
    const char *f[N_COLS] = {0};
    ec_csv r;
    ec_vec rows;
    ec_vec_init(&rows, sizeof(ec_od_t));
    ec_csv_init(&r, name, text, len, ',');
    ec_err rc;
    if (len > TWIN_BIG_FILE_MAX) {
        rc = ec_fail(EC_ELIMIT, "%s: larger than the %zu bytes accepted", name, TWIN_BIG_FILE_MAX);
        goto fail;
    }
    if ((rc = twin__header(&r, name, cols, N_COLS, at))) goto fail;
    while ((rc = ec_csv_next(&r)) == EC_OK) {
        ec_od_t od = {.line = r.line};
        if ((rc = twin__fields(&r, name, cols, N_COLS, at, f)) ||
            (rc = twin__od(&r, name, f[C_O], f[C_D], &od.origin, &od.destination)) ||
            (rc = ec_csv_number(&r, at[C_VOL], "volume", 0, TWIN_VOLUME_MAX, &od.per_year)))
            goto fail;
        if (rows.len >= EC_TRAFFIC_MAX_ROWS) {
            rc = ec_fail(EC_ELIMIT, "%s:%ld: more than %d origin-destination rows", name, r.line, EC_TRAFFIC_MAX_ROWS);
            goto fail;
        }
        if ((rc = ec_vec_push(&rows, &od))) goto fail;
    }
    if (rc != EC_EOF) goto fail;
    ec_csv_free(&r);
    out->od = rows.data;
    out->n = rows.len;
    return EC_OK;
fail:
    ec_csv_free(&r);
    ec_vec_free(&rows);
    return rc;
}

ec_err ec_traffic_load(const char *path, ec_traffic_t *out)
{
    char *text;
    size_t len;
    ec_err rc = ec_read_file(path, TWIN_BIG_FILE_MAX, &text, &len);
    if (rc) return rc;
    rc = ec_traffic_parse(path, text, len, out);
    ec_free(text);
    return rc;
}

void ec_traffic_free(ec_traffic_t *t)
{
    ec_free(t->od);
    t->od = NULL;
    t->n = 0;
}

/* ---- vehicles ---------------------------------------------------------------------------- */

/* A mix or trips file's vehicle: a built-in profile, else a profile file,
 * a relative path read from the folder of the file that names it (so a
 * scenario folder can be moved as a whole). */
static ec_err twin__vehicle(const ec_csv *r, const char *name, const char *vehicle, ec_mix_entry_t *e)
{
    size_t n = strlen(vehicle);
    if (n == 0) return ec_fail(EC_EPARSE, "%s:%ld: vehicle is empty", name, r->line);
    if (n >= sizeof e->name)
        return ec_fail(EC_ELIMIT, "%s:%ld: vehicle longer than %zu characters", name, r->line, sizeof e->name - 1);
    memset(e, 0, sizeof *e);
    memcpy(e->name, vehicle, n + 1);
    if (ec_vehicle_profile_builtin(vehicle, &e->profile) == EC_OK) return EC_OK;
    char path[PATH_MAX];
    const char *slash = strrchr(name, '/');
    size_t dir = vehicle[0] == '/' || !slash ? 0 : (size_t)(slash - name) + 1;
    if (dir + n >= sizeof path)
        return ec_fail(EC_ELIMIT, "%s:%ld: vehicle \"%.40s...\": the path is too long", name, r->line, vehicle);
    memcpy(path, name, dir);
    memcpy(path + dir, vehicle, n + 1);
    ec_err rc = ec_vehicle_profile_load(path, &e->profile);
    if (rc == EC_ENOMEM) return rc;
    if (rc) {
        char why[512], builtins[256] = "";
        snprintf(why, sizeof why, "%s", ec_errmsg_of(rc));
        for (const char *const *b = ec_vehicle_profile_names(); *b; b++) {
            size_t used = strlen(builtins);
            snprintf(builtins + used, sizeof builtins - used, "%s%s", used ? ", " : "", *b);
        }
        return ec_fail(rc, "%s:%ld: vehicle \"%.60s\" is neither a built-in profile (%s) nor a readable profile "
                       "file: %s", name, r->line, vehicle, builtins, why);
    }
    return EC_OK;
}

static int twin__mix_find(const ec_vehicle_mix_t *mix, const char *vehicle)
{
    for (int i = 0; i < mix->n; i++)
        if (strcmp(mix->e[i].name, vehicle) == 0) return i;
    return -1;
}

ec_err ec_vehicle_mix_default(ec_vehicle_mix_t *out)
{
    /* The shares are documented, with their reasons, in docs/twin.md. */
    static const struct {
        const char *name;
        double share;
    } mix[] = {{"eactros600", 0.4}, {"fh-aero-electric", 0.3}, {"etgx", 0.2}, {"generic-500", 0.1}};
    ec_vehicle_mix_t m;
    memset(&m, 0, sizeof m);
    for (size_t i = 0; i < sizeof mix / sizeof mix[0]; i++) {
        ec_err rc = ec_vehicle_profile_builtin(mix[i].name, &m.e[i].profile);
        if (rc) return rc;
        snprintf(m.e[i].name, sizeof m.e[i].name, "%s", mix[i].name);
        m.e[i].share = mix[i].share;
        m.n++;
    }
    *out = m;
    return EC_OK;
}

ec_err ec_vehicle_mix_parse(const char *name, const char *text, size_t len, ec_vehicle_mix_t *out)
{
    static const char *const cols[] = {"vehicle", "share"};
    enum { C_VEHICLE, C_SHARE, N_COLS };
    int at[N_COLS] = {0};
    const char *f[N_COLS] = {0};
    double sum = 0;
    ec_csv r;
    ec_csv_init(&r, name, text, len, ',');
    /* Sixteen profiles are too big for a worker thread's stack. */
    ec_vehicle_mix_t *m = ec_calloc(1, sizeof *m);
    ec_err rc = m ? EC_OK : EC_ENOMEM;
    if (rc) goto fail;
    if (len > TWIN_SMALL_FILE_MAX) {
        rc = ec_fail(EC_ELIMIT, "%s: larger than the %zu bytes accepted", name, TWIN_SMALL_FILE_MAX);
        goto fail;
    }
    if ((rc = twin__header(&r, name, cols, N_COLS, at))) goto fail;
    while ((rc = ec_csv_next(&r)) == EC_OK) {
        if ((rc = twin__fields(&r, name, cols, N_COLS, at, f))) goto fail;
        if (m->n >= EC_MIX_MAX) {
            rc = ec_fail(EC_ELIMIT, "%s:%ld: more than %d vehicles", name, r.line, EC_MIX_MAX);
            goto fail;
        }
        if (twin__mix_find(m, f[C_VEHICLE]) >= 0) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: vehicle \"%.60s\" is named twice", name, r.line, f[C_VEHICLE]);
            goto fail;
        }
        ec_mix_entry_t *e = &m->e[m->n];
        if ((rc = twin__vehicle(&r, name, f[C_VEHICLE], e)) ||
            (rc = ec_csv_number(&r, at[C_SHARE], "share", 0, 1e9, &e->share)))
            goto fail;
        if (!(e->share > 0)) {
            rc = ec_fail(EC_ERANGE, "%s:%ld: share of %s is 0; leave a vehicle out instead", name, r.line, e->name);
            goto fail;
        }
        sum += e->share;
        m->n++;
    }
    if (rc != EC_EOF) goto fail;
    if (m->n == 0) {
        rc = ec_fail(EC_EPARSE, "%s: no vehicles", name);
        goto fail;
    }
    for (int i = 0; i < m->n; i++) m->e[i].share /= sum;
    *out = *m;
    rc = EC_OK;
fail:
    ec_csv_free(&r);
    ec_free(m);
    return rc;
}

ec_err ec_vehicle_mix_load(const char *path, ec_vehicle_mix_t *out)
{
    char *text;
    size_t len;
    ec_err rc = ec_read_file(path, TWIN_SMALL_FILE_MAX, &text, &len);
    if (rc) return rc;
    rc = ec_vehicle_mix_parse(path, text, len, out);
    ec_free(text);
    return rc;
}

/* ---- trips ------------------------------------------------------------------------------- */

/* The index in mix of a trip's vehicle, adding it with share 0 when new (a
 * truck given by hand is not drawn from the mix, so it shifts no share). */
static ec_err twin__trip_vehicle(const ec_csv *r, const char *name, const char *vehicle, ec_vehicle_mix_t *mix,
                                 int *index)
{
    int i = twin__mix_find(mix, vehicle);
    if (i >= 0) {
        *index = i;
        return EC_OK;
    }
    if (mix->n >= EC_MIX_MAX)
        return ec_fail(EC_ELIMIT, "%s:%ld: vehicle \"%.60s\" would be the %dth; at most %d vehicles", name, r->line,
                       vehicle, EC_MIX_MAX + 1, EC_MIX_MAX);
    ec_err rc = twin__vehicle(r, name, vehicle, &mix->e[mix->n]);
    if (rc) return rc;
    mix->e[mix->n].share = 0;
    *index = mix->n++;
    return EC_OK;
}

ec_err ec_trips_in_parse(const char *name, const char *text, size_t len, int64_t day_start_s,
                         ec_vehicle_mix_t *mix, ec_trips_in_t *out)
{
    static const char *const cols[] = {"origin", "destination", "departure", "vehicle", "soc"};
    enum { C_O, C_D, C_DEP, C_VEHICLE, C_SOC, N_COLS };
    int at[N_COLS] = {0};
    const char *f[N_COLS] = {0};
    ec_csv r;
    ec_vec rows;
    ec_vec_init(&rows, sizeof(ec_trip_in_t));
    ec_csv_init(&r, name, text, len, ',');
    /* Vehicles are added to a copy, so a failed read leaves *mix as it was. */
    ec_vehicle_mix_t *m = ec_malloc(sizeof *m);
    ec_err rc = m ? EC_OK : EC_ENOMEM;
    if (rc) goto fail;
    *m = *mix;
    if (len > TWIN_BIG_FILE_MAX) {
        rc = ec_fail(EC_ELIMIT, "%s: larger than the %zu bytes accepted", name, TWIN_BIG_FILE_MAX);
        goto fail;
    }
    if ((rc = twin__header(&r, name, cols, N_COLS, at))) goto fail;
    while ((rc = ec_csv_next(&r)) == EC_OK) {
        ec_trip_in_t t = {.line = r.line};
        if ((rc = twin__fields(&r, name, cols, N_COLS, at, f)) ||
            (rc = twin__od(&r, name, f[C_O], f[C_D], &t.origin, &t.destination)))
            goto fail;
        if (ec_twin_parse_time(f[C_DEP], day_start_s, &t.depart_s)) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: departure \"%.40s\" is neither HH:MM (00:00 to 48:00) nor an ISO 8601 "
                         "time with its zone", name, r.line, f[C_DEP]);
            goto fail;
        }
        if ((rc = twin__trip_vehicle(&r, name, f[C_VEHICLE], m, &t.vehicle)) ||
            (rc = ec_csv_number(&r, at[C_SOC], "soc", 0, 1, &t.soc)))
            goto fail;
        if (rows.len >= EC_TRIPS_MAX_ROWS) {
            rc = ec_fail(EC_ELIMIT, "%s:%ld: more than %d trips", name, r.line, EC_TRIPS_MAX_ROWS);
            goto fail;
        }
        if ((rc = ec_vec_push(&rows, &t))) goto fail;
    }
    if (rc != EC_EOF) goto fail;
    ec_csv_free(&r);
    *mix = *m;
    ec_free(m);
    out->t = rows.data;
    out->n = rows.len;
    return EC_OK;
fail:
    ec_csv_free(&r);
    ec_vec_free(&rows);
    ec_free(m);
    return rc;
}

ec_err ec_trips_in_load(const char *path, int64_t day_start_s, ec_vehicle_mix_t *mix, ec_trips_in_t *out)
{
    char *text;
    size_t len;
    ec_err rc = ec_read_file(path, TWIN_BIG_FILE_MAX, &text, &len);
    if (rc) return rc;
    rc = ec_trips_in_parse(path, text, len, day_start_s, mix, out);
    ec_free(text);
    return rc;
}

void ec_trips_in_free(ec_trips_in_t *t)
{
    ec_free(t->t);
    t->t = NULL;
    t->n = 0;
}

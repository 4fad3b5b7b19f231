/* plan_input.c - the planning's candidates file: places where a new site
 * could be built, with the attributes that weigh for them (docs/plan-inputs.md). */
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A country's candidates run to a few megabytes; past this a file is a mistake. */
#define CANDS_FILE_MAX ((size_t)64 << 20)
/* Far above any grid connection or distance a corridor has: a bigger figure
 * is a typing error. */
#define CANDS_NUMBER_MAX 1e9
#define CANDS_MAX_POINTS 1000

enum {
    COL_ID,
    COL_LAT,
    COL_LON,
    COL_NAME,
    COL_SUBSTATION,
    COL_HEADROOM,
    COL_RAIL,
    COL_LOGISTICS,
    COL_RENEWABLE,
    COL_MAX_POINTS,
    N_COLS
};
static const char *const cand_cols[N_COLS] = {"id", "lat", "lon", "name", "substation_id", "headroom_kw",
                                              "rail_interchange_km", "logistics_hub_km", "renewable_km",
                                              "max_points"};
#define N_REQUIRED 3 /* id, lat, lon */

/* The header: each column known and named once, the three required there.
 * at[c] is the field of column c, -1 when the file lacks it. */
static ec_err cands__header(ec_csv *r, const char *name, int *at)
{
    ec_err rc = ec_csv_next(r);
    if (rc == EC_EOF) return ec_fail(EC_EPARSE, "%s: empty file, expected a header (id,lat,lon,...)", name);
    if (rc) return rc;
    for (int c = 0; c < N_COLS; c++) at[c] = -1;
    for (size_t f = 0; f < r->nfields; f++) {
        int c = 0;
        while (c < N_COLS && strcmp(r->fields[f], cand_cols[c])) c++;
        if (c == N_COLS)
            return ec_fail(EC_EPARSE, "%s: line %ld: header: unknown column \"%.40s\" (expected id, lat, lon, name, "
                           "substation_id, headroom_kw, rail_interchange_km, logistics_hub_km, renewable_km, "
                           "max_points)", name, r->line, r->fields[f]);
        if (at[c] >= 0)
            return ec_fail(EC_EPARSE, "%s: line %ld: header: column %s is named twice", name, r->line, cand_cols[c]);
        at[c] = (int)f;
    }
    for (int c = 0; c < N_REQUIRED; c++)
        if (at[c] < 0) return ec_fail(EC_EPARSE, "%s: line %ld: header: lacks column %s", name, r->line, cand_cols[c]);
    return EC_OK;
}

/* A string field into dst (n bytes): too long is refused, not cut. */
static ec_err cands__string(const ec_csv *r, const char *name, int c, const char *s, char *dst, size_t n)
{
    size_t len = strlen(s);
    if (len >= n)
        return ec_fail(EC_ELIMIT, "%s: line %ld: %s: longer than %zu bytes", name, r->line, cand_cols[c], n - 1);
    memcpy(dst, s, len + 1);
    return EC_OK;
}

/* A number field within [lo, hi]; empty gives `empty`. */
static ec_err cands__number(const ec_csv *r, const char *name, int c, const char *s, double lo, double hi,
                            double empty, double *out)
{
    if (!*s) {
        *out = empty;
        return EC_OK;
    }
    double v;
    if (ec_parse_double(s, &v))
        return ec_fail(EC_EPARSE, "%s: line %ld: %s: \"%.40s\" is not a number", name, r->line, cand_cols[c], s);
    if (v < lo || v > hi) {
        if (v < 0 && lo >= 0)
            return ec_fail(EC_ERANGE, "%s: line %ld: %s: %g is negative", name, r->line, cand_cols[c], v);
        return ec_fail(EC_ERANGE, "%s: line %ld: %s: %g is outside %g..%g", name, r->line, cand_cols[c], v, lo, hi);
    }
    *out = v;
    return EC_OK;
}

static ec_err cands__row(const ec_csv *r, const char *name, const int *at, ec_plan_cand_t *c)
{
    const char *f[N_COLS];
    size_t header_fields = 0;
    for (int k = 0; k < N_COLS; k++)
        if (at[k] >= 0 && (size_t)at[k] + 1 > header_fields) header_fields = (size_t)at[k] + 1;
    if (r->nfields > header_fields)
        return ec_fail(EC_EPARSE, "%s: line %ld: %zu fields where the header has %zu", name, r->line, r->nfields,
                       header_fields);
    for (int k = 0; k < N_COLS; k++) {
        f[k] = "";
        if (at[k] < 0) continue;
        if ((size_t)at[k] >= r->nfields)
            return ec_fail(EC_EPARSE, "%s: line %ld: %s: missing (the row is shorter than the header)", name,
                           r->line, cand_cols[k]);
        f[k] = r->fields[at[k]];
    }
    memset(c, 0, sizeof *c);
    c->line = r->line;
    if (!*f[COL_ID]) return ec_fail(EC_EPARSE, "%s: line %ld: id: empty", name, r->line);
    ec_err rc;
    if ((rc = cands__string(r, name, COL_ID, f[COL_ID], c->id, sizeof c->id)) ||
        (rc = cands__string(r, name, COL_NAME, f[COL_NAME], c->name, sizeof c->name)) ||
        (rc = cands__string(r, name, COL_SUBSTATION, f[COL_SUBSTATION], c->substation_id, sizeof c->substation_id)))
        return rc;
    if (!*f[COL_LAT]) return ec_fail(EC_EPARSE, "%s: line %ld: lat: empty", name, r->line);
    if (!*f[COL_LON]) return ec_fail(EC_EPARSE, "%s: line %ld: lon: empty", name, r->line);
    double max_points;
    if ((rc = cands__number(r, name, COL_LAT, f[COL_LAT], -90, 90, 0, &c->pos.lat)) ||
        (rc = cands__number(r, name, COL_LON, f[COL_LON], -180, 180, 0, &c->pos.lon)) ||
        (rc = cands__number(r, name, COL_HEADROOM, f[COL_HEADROOM], 0, CANDS_NUMBER_MAX, INFINITY,
                            &c->headroom_kw)) ||
        (rc = cands__number(r, name, COL_RAIL, f[COL_RAIL], 0, CANDS_NUMBER_MAX, -1, &c->rail_interchange_km)) ||
        (rc = cands__number(r, name, COL_LOGISTICS, f[COL_LOGISTICS], 0, CANDS_NUMBER_MAX, -1,
                            &c->logistics_hub_km)) ||
        (rc = cands__number(r, name, COL_RENEWABLE, f[COL_RENEWABLE], 0, CANDS_NUMBER_MAX, -1, &c->renewable_km)) ||
        (rc = cands__number(r, name, COL_MAX_POINTS, f[COL_MAX_POINTS], 1, CANDS_MAX_POINTS, 0, &max_points)))
        return rc;
    if (max_points != floor(max_points))
        return ec_fail(EC_EPARSE, "%s: line %ld: max_points: %g is not a whole number", name, r->line, max_points);
    c->max_points = (int)max_points;
    return EC_OK;
}

typedef struct {
    const char *id;
    long line;
} cand_key;

static int by_id_then_line(const void *a, const void *b)
{
    const cand_key *x = a, *y = b;
    int k = strcmp(x->id, y->id);
    if (k) return k;
    return (x->line > y->line) - (x->line < y->line);
}

/* Refuses an id named twice, at the earliest line that names one again.
 * Sorting (id, line) pairs finds every duplicate without trusting a hash. */
static ec_err cands__unique(const char *name, const ec_plan_cand_t *c, size_t n)
{
    if (n < 2) return EC_OK;
    cand_key *k = ec_malloc(n * sizeof *k);
    if (!k) return EC_ENOMEM;
    for (size_t i = 0; i < n; i++) k[i] = (cand_key){c[i].id, c[i].line};
    qsort(k, n, sizeof *k, by_id_then_line);
    const cand_key *again = NULL, *first = NULL;
    for (size_t i = 1; i < n; i++)
        if (!strcmp(k[i].id, k[i - 1].id) && (!again || k[i].line < again->line)) {
            again = &k[i];
            first = &k[i - 1];
        }
    ec_err rc = EC_OK;
    if (again)
        rc = ec_fail(EC_EPARSE, "%s: line %ld: id: \"%s\" is named twice (first on line %ld)", name, again->line,
                     again->id, first->line);
    ec_free(k);
    return rc;
}

ec_err ec_plan_cands_parse(const char *name, const char *text, size_t len, ec_plan_cands_t *out)
{
    int at[N_COLS];
    ec_csv r;
    ec_vec rows;
    ec_vec_init(&rows, sizeof(ec_plan_cand_t));
    ec_csv_init(&r, name, text, len, ',');
    ec_err rc;
    if (len > CANDS_FILE_MAX) {
        rc = ec_fail(EC_ELIMIT, "%s: larger than the %zu bytes accepted", name, CANDS_FILE_MAX);
        goto fail;
    }
    if ((rc = cands__header(&r, name, at))) goto fail;
    while ((rc = ec_csv_next(&r)) == EC_OK) {
        ec_plan_cand_t c;
        if (rows.len >= EC_PLAN_MAX_CANDIDATES) {
            rc = ec_fail(EC_ELIMIT, "%s: line %ld: more than %d candidates", name, r.line, EC_PLAN_MAX_CANDIDATES);
            goto fail;
        }
        if ((rc = cands__row(&r, name, at, &c)) || (rc = ec_vec_push(&rows, &c))) goto fail;
    }
    if (rc != EC_EOF) goto fail;
    if ((rc = cands__unique(name, rows.data, rows.len))) goto fail;
    ec_csv_free(&r);
    out->c = rows.data;
    out->n = rows.len;
    return EC_OK;
fail:
    ec_csv_free(&r);
    ec_vec_free(&rows);
    return rc;
}

ec_err ec_plan_cands_load(const char *path, ec_plan_cands_t *out)
{
    char *text;
    size_t len;
    ec_err rc = ec_read_file(path, CANDS_FILE_MAX, &text, &len);
    if (rc) return rc;
    rc = ec_plan_cands_parse(path, text, len, out);
    ec_free(text);
    return rc;
}

void ec_plan_cands_free(ec_plan_cands_t *c)
{
    if (!c) return;
    ec_free(c->c);
    c->c = NULL;
    c->n = 0;
}

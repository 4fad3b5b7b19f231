/* sites.c - charging sites from CSV, one row per connector group. */
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_model.h"

#include <ctype.h>
#include <string.h>

int ec_money_parse(const char *s, int64_t *out)
{
    /* Digits, an optional point and at most 4 decimals: no floating point for money. */
    int64_t v = 0;
    int decimals = -1;
    if (!*s) return -1;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            if (decimals >= 0) return -1;
            decimals = 0;
            continue;
        }
        if (!isdigit((unsigned char)*p) || decimals == 4 || v > 100000000000LL) return -1;
        v = v * 10 + (*p - '0');
        if (decimals >= 0) decimals++;
    }
    if (decimals == 0) return -1;
    for (int d = decimals < 0 ? 0 : decimals; d < 4; d++) v *= 10;
    *out = v;
    return 0;
}

static ec_err copy_text(const char *src, long line, const char *field, const char *v, char *dst,
                        size_t n, int required)
{
    size_t len = strlen(v);
    if (required && len == 0) return ec_fail(EC_EPARSE, "%s:%ld: %s is empty", src, line, field);
    if (len >= n) return ec_fail(EC_ELIMIT, "%s:%ld: %s longer than %zu characters", src, line, field, n - 1);
    memcpy(dst, v, len + 1);
    return EC_OK;
}

ec_err ec_sites_parse(const char *name, const char *text, size_t len, ec_sites *out)
{
    static const char *const cols[] = {"site_id", "name",  "lat",           "lon",
                                       "standard", "power_kw", "count", "price_per_kwh",
                                       "price_per_min", "operator", "available", "wait_min",
                                       "reservable_from", "reservable_to"};
    enum { C_ID, C_NAME, C_LAT, C_LON, C_STD, C_KW, C_COUNT, C_PKWH, C_PMIN, C_OP, C_AVAIL, C_WAIT, C_RFROM, C_RTO, N_COLS };
    int at[N_COLS];
    ec_csv r;
    ec_vec rows;
    ec_vec_init(&rows, sizeof(ec_connector_group_t));
    ec_csv_init(&r, name, text, len, ',');
    ec_err rc = ec_csv_next(&r);
    if (rc) {
        if (rc == EC_EOF) rc = ec_fail(EC_EPARSE, "%s: empty file, expected a header", name);
        goto fail;
    }
    for (int k = 0; k < N_COLS; k++) {
        at[k] = ec_csv_find(&r, cols[k]);
        if (at[k] < 0 && k < C_PKWH) {
            rc = ec_fail(EC_EPARSE, "%s:1: header lacks column %s", name, cols[k]);
            goto fail;
        }
    }
    while ((rc = ec_csv_next(&r)) == EC_OK) {
        ec_connector_group_t g;
        memset(&g, 0, sizeof g);
        g.line = r.line;
        const char *f[N_COLS];
        for (int k = 0; k < N_COLS; k++) f[k] = at[k] >= 0 && (size_t)at[k] < r.nfields ? r.fields[at[k]] : "";
        double kw;
        int64_t count;
        if ((rc = copy_text(name, r.line, "site_id", f[C_ID], g.site_id, sizeof g.site_id, 1)) ||
            (rc = copy_text(name, r.line, "name", f[C_NAME], g.name, sizeof g.name, 0)) ||
            (rc = copy_text(name, r.line, "operator", f[C_OP], g.operator_name, sizeof g.operator_name, 0)))
            goto fail;
        if (ec_parse_double(f[C_LAT], &g.pos.lat) || ec_parse_double(f[C_LON], &g.pos.lon) ||
            !ec_geo_valid(g.pos)) {
            rc = ec_fail(EC_ERANGE, "%s:%ld: lat,lon \"%s,%s\" is not a WGS84 coordinate", name, r.line, f[C_LAT], f[C_LON]);
            goto fail;
        }
        if (ec_plug_parse(f[C_STD], &g.standard)) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: standard \"%s\" is not one of MCS, CCS2, CCS1, NACS, CHADEMO, TYPE2",
                         name, r.line, f[C_STD]);
            goto fail;
        }
        if (ec_parse_double(f[C_KW], &kw) || !(kw > 0 && kw <= 4000)) {
            rc = ec_fail(EC_ERANGE, "%s:%ld: power_kw \"%s\" is not 0..4000", name, r.line, f[C_KW]);
            goto fail;
        }
        g.power_w = kw * 1000.0;
        if (ec_parse_i64(f[C_COUNT], &count) || count < 1 || count > 1000) {
            rc = ec_fail(EC_ERANGE, "%s:%ld: count \"%s\" is not 1..1000", name, r.line, f[C_COUNT]);
            goto fail;
        }
        g.count = (int)count;
        if ((*f[C_PKWH] && ec_money_parse(f[C_PKWH], &g.price_per_kwh)) ||
            (*f[C_PMIN] && ec_money_parse(f[C_PMIN], &g.price_per_min))) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: prices must be amounts like 0.45 (at most 4 decimals)", name, r.line);
            goto fail;
        }
        int64_t avail = count;
        if (*f[C_AVAIL] && (ec_parse_i64(f[C_AVAIL], &avail) || avail < 0 || avail > count)) {
            rc = ec_fail(EC_ERANGE, "%s:%ld: available \"%s\" is not 0..count (%lld)", name, r.line, f[C_AVAIL],
                         (long long)count);
            goto fail;
        }
        g.available = (int)avail;
        double wait_min = 0;
        if (*f[C_WAIT] && (ec_parse_double(f[C_WAIT], &wait_min) || !(wait_min >= 0 && wait_min <= 1440))) {
            rc = ec_fail(EC_ERANGE, "%s:%ld: wait_min \"%s\" is not 0..1440", name, r.line, f[C_WAIT]);
            goto fail;
        }
        g.wait_s = wait_min * 60.0;
        if (*f[C_RFROM] || *f[C_RTO]) {
            if (ec_time_parse_iso(f[C_RFROM], &g.reservable_from) || ec_time_parse_iso(f[C_RTO], &g.reservable_to) ||
                g.reservable_to <= g.reservable_from) {
                rc = ec_fail(EC_EPARSE, "%s:%ld: reservable_from,reservable_to \"%s,%s\" is not a window of two ISO 8601 "
                             "UTC times, the first earlier", name, r.line, f[C_RFROM], f[C_RTO]);
                goto fail;
            }
        }
        if (rows.len >= EC_SITES_MAX_ROWS) {
            rc = ec_fail(EC_ELIMIT, "%s: more than %d rows", name, EC_SITES_MAX_ROWS);
            goto fail;
        }
        if ((rc = ec_vec_push(&rows, &g))) goto fail;
    }
    if (rc != EC_EOF) goto fail;
    if (rows.len == 0) {
        rc = ec_fail(EC_EPARSE, "%s: no sites", name);
        goto fail;
    }
    ec_csv_free(&r);
    out->groups = rows.data;
    out->n = rows.len;
    memcpy(out->currency, "EUR", 4);
    return EC_OK;
fail:
    ec_csv_free(&r);
    ec_vec_free(&rows);
    return rc;
}

ec_err ec_sites_load(const char *path, ec_sites *out)
{
    char *text;
    size_t len;
    ec_err rc = ec_read_file(path, 64u << 20, &text, &len);
    if (rc) return rc;
    rc = ec_sites_parse(path, text, len, out);
    ec_free(text);
    return rc;
}

void ec_sites_free(ec_sites *s)
{
    ec_free(s->groups);
    s->groups = NULL;
    s->n = 0;
}

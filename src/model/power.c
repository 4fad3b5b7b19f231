/* power.c - the register's documents read into the typed power of a site
 * or substation (see ec_power.h). The field names are the register's
 * (docs/api.md); this is the only place the power sharing reads them. */
#include "ecorridor/ec_power.h"

#include <string.h>

static double num_or(const ec_json *j, const char *key, double d)
{
    double v;
    return ec_json_number(ec_json_get(j, key), &v) ? d : v;
}

static void id_copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* An array of numbers × scale as a series of interval_s. */
static ec_err read_series(const ec_json *arr, double scale, int64_t interval_s, ec_series_t *out)
{
    ec_series_free(out);
    size_t n = ec_json_array_size(arr);
    if (!n) return EC_OK;
    out->v = ec_malloc(n * sizeof *out->v);
    if (!out->v) return EC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        double v = 0;
        ec_json_number(ec_json_array_get(arr, i), &v);
        out->v[i] = v * scale;
    }
    out->n = n, out->interval_s = interval_s;
    return EC_OK;
}

ec_err ec_site_power_read(const ec_json *j, ec_site_power_t *st)
{
    ec_site_power_free(st);
    id_copy(st->id, sizeof st->id, ec_json_str(ec_json_get(j, "id")));
    id_copy(st->substation_id, sizeof st->substation_id, ec_json_str(ec_json_get(j, "substation_id")));
    st->limit_w = num_or(j, "grid_limit_kw", 0) * 1000;
    ec_json *c = ec_json_get(j, "charging");
    st->managed = c != NULL;
    const char *a = ec_json_str(ec_json_get(c, "algo"));
    /* No policy: its chargers take what they take. */
    id_copy(st->algo, sizeof st->algo, !c ? "uncontrolled" : a ? a : "opt");
    st->interval_s = (int)num_or(c, "interval_s", 60);
    st->dwell_min = (int)num_or(c, "default_dwell_min", 60);
    st->default_wh = num_or(c, "default_kwh", 0) * 1000;
    ec_json *evses = ec_json_get(j, "evses");
    size_t ne = ec_json_array_size(evses);
    if (ne > EC_POWER_MAX_EVSE) ne = EC_POWER_MAX_EVSE;
    if (!ne) return EC_OK;
    st->evse = ec_calloc(ne, sizeof *st->evse);
    if (!st->evse) return EC_ENOMEM;
    for (size_t i = 0; i < ne; i++) {
        ec_json *e = ec_json_array_get(evses, i), *cs = ec_json_get(e, "connectors");
        double best = 0;
        for (size_t k = 0; k < ec_json_array_size(cs); k++) {
            double w = num_or(ec_json_array_get(cs, k), "max_electric_power", 0);
            if (w > best) best = w;
        }
        id_copy(st->evse[i].uid, sizeof st->evse[i].uid, ec_json_str(ec_json_get(e, "uid")));
        st->evse[i].max_w = best;
    }
    st->n_evse = (int)ne;
    return EC_OK;
}

ec_err ec_substation_power_read(const ec_json *j, ec_substation_power_t *sub)
{
    ec_substation_power_free(sub);
    id_copy(sub->id, sizeof sub->id, ec_json_str(ec_json_get(j, "id")));
    sub->capacity_w = num_or(j, "capacity_kw", 0) * 1000;
    sub->cong_price = num_or(j, "congestion_price", 0);
    sub->cong_threshold = num_or(j, "congestion_threshold", 0.8);
    ec_err rc = read_series(ec_json_get(j, "base_load_kw"), 1000, (int64_t)num_or(j, "interval_s", 3600), &sub->base_w);
    if (!rc) rc = read_series(ec_json_get(j, "prices"), 1, (int64_t)num_or(j, "price_interval_s", 3600), &sub->prices);
    return rc;
}

int ec_substation_power_add_renewable(ec_substation_power_t *sub, const ec_json *j)
{
    double cap = num_or(j, "capacity_kw", 0) * 1000;
    ec_json *p = ec_json_get(j, "profile");
    int64_t iv = (int64_t)num_or(j, "interval_s", 3600);
    size_t n = ec_json_array_size(p);
    if (!n) return 0;
    ec_series_t *r = &sub->renew_w;
    if (!r->n) r->interval_s = iv;
    if (iv != r->interval_s) return 0;
    if (r->n < n) { /* a longer profile: the sum so far repeats over it, as it would be read */
        double *v = ec_malloc(n * sizeof *v);
        if (!v) return 0;
        for (size_t i = 0; i < n; i++) v[i] = r->n ? r->v[i % r->n] : 0;
        ec_free(r->v);
        r->v = v, r->n = n;
    }
    for (size_t i = 0; i < r->n; i++) {
        double v = 0;
        ec_json_number(ec_json_array_get(p, i % n), &v);
        r->v[i] += v * cap;
    }
    return 1;
}

int ec_site_power_equal(const ec_site_power_t *a, const ec_site_power_t *b)
{
    if (strcmp(a->id, b->id) || strcmp(a->substation_id, b->substation_id) || a->managed != b->managed ||
        strcmp(a->algo, b->algo) || a->limit_w != b->limit_w || a->interval_s != b->interval_s ||
        a->dwell_min != b->dwell_min || a->default_wh != b->default_wh || a->n_evse != b->n_evse)
        return 0;
    for (int i = 0; i < a->n_evse; i++)
        if (strcmp(a->evse[i].uid, b->evse[i].uid) || a->evse[i].max_w != b->evse[i].max_w) return 0;
    return 1;
}

int ec_substation_power_equal(const ec_substation_power_t *a, const ec_substation_power_t *b)
{
    return !strcmp(a->id, b->id) && a->capacity_w == b->capacity_w && a->cong_price == b->cong_price &&
           a->cong_threshold == b->cong_threshold && ec_series_equal(&a->base_w, &b->base_w) &&
           ec_series_equal(&a->renew_w, &b->renew_w) && ec_series_equal(&a->prices, &b->prices);
}

ec_err ec_site_power_copy(ec_site_power_t *dst, const ec_site_power_t *src)
{
    ec_site_power_free(dst);
    *dst = *src;
    dst->evse = NULL, dst->n_evse = 0;
    if (!src->n_evse) return EC_OK;
    dst->evse = ec_malloc((size_t)src->n_evse * sizeof *dst->evse);
    if (!dst->evse) return EC_ENOMEM;
    memcpy(dst->evse, src->evse, (size_t)src->n_evse * sizeof *dst->evse);
    dst->n_evse = src->n_evse;
    return EC_OK;
}

ec_err ec_substation_power_copy(ec_substation_power_t *dst, const ec_substation_power_t *src)
{
    ec_substation_power_free(dst);
    *dst = *src;
    memset(&dst->base_w, 0, sizeof dst->base_w);
    memset(&dst->renew_w, 0, sizeof dst->renew_w);
    memset(&dst->prices, 0, sizeof dst->prices);
    ec_err rc = ec_series_set(&dst->base_w, src->base_w.v, src->base_w.n, src->base_w.interval_s);
    if (!rc) rc = ec_series_set(&dst->renew_w, src->renew_w.v, src->renew_w.n, src->renew_w.interval_s);
    if (!rc) rc = ec_series_set(&dst->prices, src->prices.v, src->prices.n, src->prices.interval_s);
    return rc;
}

void ec_site_power_free(ec_site_power_t *s)
{
    ec_free(s->evse);
    memset(s, 0, sizeof *s);
}

void ec_substation_power_free(ec_substation_power_t *s)
{
    ec_series_free(&s->base_w);
    ec_series_free(&s->renew_w);
    ec_series_free(&s->prices);
    memset(s, 0, sizeof *s);
}

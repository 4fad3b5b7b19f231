/* twin_db.c - a hub's register as the twin's sites: the connector groups
 * routing plans with, each site's power and policy, and the substations
 * with the renewables behind them, read as the hub reads them. */
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_register.h"
#include "ecorridor/ec_store.h"
#include "ecorridor/ec_twin.h"

#include <string.h>

static ec_err keep_doc(void *ctx, const char *doc, size_t len)
{
    char *copy = ec_malloc(len + 1);
    if (!copy) return EC_ENOMEM;
    memcpy(copy, doc, len);
    copy[len] = 0;
    ec_err rc = ec_vec_push(ctx, &copy);
    if (rc) ec_free(copy);
    return rc;
}

static ec_err add_renewable(void *ctx, const char *doc, size_t len)
{
    ec_json *j;
    if (ec_json_load_buf(doc, len, "renewable", &j)) return EC_OK;
    if (!ec_substation_power_add_renewable(ctx, j))
        ec_log(EC_LOG_WARN, "renewable %s left out of its substation's sum (its interval differs)",
               ec_json_str(ec_json_get(j, "id")) ? ec_json_str(ec_json_get(j, "id")) : "?");
    ec_json_free(j);
    return EC_OK;
}

static void free_docs(ec_vec *v)
{
    for (size_t k = 0; k < v->len; k++) ec_free(EC_VEC_AT(v, char *, k));
    ec_vec_free(v);
}

ec_err ec_twin_db_load(const char *path, int installed, ec_twin_db_t *out, ec_sites *sites)
{
    memset(out, 0, sizeof *out);
    ec_store *s = NULL;
    ec_vec docs[3]; /* sites, tariffs, substations */
    for (int i = 0; i < 3; i++) ec_vec_init(&docs[i], sizeof(char *));
    ec_store_filter_t all;
    memset(&all, 0, sizeof all);
    all.limit = -1;
    int64_t total;
    const ec_kind kinds[3] = {EC_KIND_SITE, EC_KIND_TARIFF, EC_KIND_SUBSTATION};
    ec_err rc = ec_store_open(path, &s);
    for (int i = 0; i < 3 && !rc; i++) rc = ec_store_list(s, kinds[i], &all, keep_doc, &docs[i], &total);
    if (!rc && !docs[0].len) rc = ec_fail(EC_ENOTFOUND, "%s: the register has no sites", path);
    if (!rc)
        rc = (installed ? ec_reg_sites_installed : ec_reg_sites_for_routing)(
            (const char *const *)docs[0].data, docs[0].len, (const char *const *)docs[1].data, docs[1].len, sites);
    if (!rc && !(out->site_power = ec_calloc(docs[0].len, sizeof *out->site_power))) rc = EC_ENOMEM;
    for (size_t k = 0; k < docs[0].len && !rc; k++) {
        ec_json *j = NULL;
        const char *d = EC_VEC_AT(&docs[0], char *, k);
        rc = ec_json_load_buf(d, strlen(d), "site", &j);
        if (!rc) rc = ec_site_power_read(j, &out->site_power[k]);
        ec_json_free(j);
        if (!rc) out->n_site_power++;
    }
    if (!rc && docs[2].len && !(out->subs = ec_calloc(docs[2].len, sizeof *out->subs))) rc = EC_ENOMEM;
    for (size_t k = 0; k < docs[2].len && !rc; k++) {
        ec_json *j = NULL;
        const char *d = EC_VEC_AT(&docs[2], char *, k);
        ec_substation_power_t *b = &out->subs[k];
        rc = ec_json_load_buf(d, strlen(d), "substation", &j);
        if (!rc) rc = ec_substation_power_read(j, b);
        ec_json_free(j);
        if (rc) break;
        out->n_subs++;
        ec_store_filter_t f;
        memset(&f, 0, sizeof f);
        f.substation_id = b->id, f.limit = -1;
        rc = ec_store_list(s, EC_KIND_RENEWABLE, &f, add_renewable, b, &total);
    }
    ec_store_close(s);
    for (int i = 0; i < 3; i++) free_docs(&docs[i]);
    if (rc) {
        ec_twin_db_free(out);
        ec_sites_free(sites);
        memset(sites, 0, sizeof *sites);
    }
    return rc;
}

void ec_twin_db_free(ec_twin_db_t *d)
{
    for (size_t k = 0; k < d->n_site_power; k++) ec_site_power_free(&d->site_power[k]);
    for (size_t k = 0; k < d->n_subs; k++) ec_substation_power_free(&d->subs[k]);
    ec_free(d->site_power);
    ec_free(d->subs);
    memset(d, 0, sizeof *d);
}

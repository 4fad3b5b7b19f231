/* routing_sites.c - the register's sites as the connector groups routing plans with. */
#include "ecorridor/ec_register.h"

#include <math.h>
#include <string.h>

typedef struct {
    int64_t per_kwh, per_min;
    char currency[4];
    int dynamic; /* per_kwh is a margin on the site's dynamic price */
} price_t;

static price_t tariff_price(const ec_json *t)
{
    price_t p = {0, 0, "", 0};
    ec_json_get_bool(t, "dynamic", 0, "tariff", &p.dynamic);
    const char *cur = ec_json_str(ec_json_get(t, "currency"));
    if (cur) snprintf(p.currency, sizeof p.currency, "%s", cur);
    const ec_json *els = ec_json_get(t, "elements");
    /* The first element without restrictions is the price a truck arriving
     * at no particular hour pays. */
    for (size_t i = 0; i < ec_json_array_size(els); i++) {
        const ec_json *el = ec_json_array_get(els, i);
        if (ec_json_get(el, "restrictions") && i + 1 < ec_json_array_size(els)) continue;
        const ec_json *pcs = ec_json_get(el, "price_components");
        for (size_t k = 0; k < ec_json_array_size(pcs); k++) {
            const ec_json *pc = ec_json_array_get(pcs, k);
            const char *type = ec_json_str(ec_json_get(pc, "type"));
            double v = 0;
            ec_json_number(ec_json_get(pc, "price"), &v);
            if (type && !strcmp(type, "ENERGY")) p.per_kwh = llround(v * 10000.0);
            if (type && !strcmp(type, "TIME")) p.per_min = llround(v * 10000.0 / 60.0);
        }
        break;
    }
    return p;
}

static int usable(const char *status)
{
    return status && (!strcmp(status, "AVAILABLE") || !strcmp(status, "UNKNOWN") ||
                      !strcmp(status, "CHARGING") || !strcmp(status, "RESERVED") ||
                      !strcmp(status, "BLOCKED"));
}

typedef struct {
    ec_dynamic_price_fn fn;
    void *ctx;
    int used;
    int installed; /* every EVSE, whatever its status now */
} dyn_t;

static ec_err add_site(const ec_json *site, ec_json **tariffs, size_t n_tariffs, const ec_map *by_id,
                       const ec_map *by_site, ec_vec *groups, char *currency, dyn_t *dyn)
{
    const char *id = ec_json_str(ec_json_get(site, "id"));
    const ec_json *c = ec_json_get(site, "coordinates");
    ec_latlon_t pos;
    if (!id || ec_parse_double(ec_json_str(ec_json_get(c, "latitude")), &pos.lat) ||
        ec_parse_double(ec_json_str(ec_json_get(c, "longitude")), &pos.lon))
        return EC_OK;
    uint64_t ti;
    price_t site_price = {0, 0, "", 0};
    if (ec_map_get(by_site, ec_hash_bytes(id, strlen(id)), &ti)) site_price = tariff_price(tariffs[ti]);
    size_t first = groups->len;
    const ec_json *evses = ec_json_get(site, "evses");
    for (size_t e = 0; e < ec_json_array_size(evses); e++) {
        const ec_json *ev = ec_json_array_get(evses, e);
        const char *status = ec_json_str(ec_json_get(ev, "status"));
        if (!dyn->installed && !usable(status)) continue;
        const ec_json *cs = ec_json_get(ev, "connectors");
        /* An EVSE charges one vehicle: its best connector per standard counts once. */
        for (size_t k = 0; k < ec_json_array_size(cs); k++) {
            const ec_json *cn = ec_json_array_get(cs, k);
            ec_plug plug;
            double power = 0;
            if (ec_reg_standard_plug(ec_json_str(ec_json_get(cn, "standard")), &plug) ||
                ec_json_number(ec_json_get(cn, "max_electric_power"), &power) || power <= 0)
                continue;
            price_t pr = site_price;
            const char *tid = ec_json_str(ec_json_array_get(ec_json_get(cn, "tariff_ids"), 0));
            if (tid && ec_map_get(by_id, ec_hash_bytes(tid, strlen(tid)), &ti)) pr = tariff_price(tariffs[ti]);
            if (pr.dynamic) {
                /* The margin on the site's price now: what a session started now would pay. */
                double d = dyn->fn ? dyn->fn(dyn->ctx, id) : NAN;
                dyn->used = 1;
                if (isfinite(d)) pr.per_kwh += llround(d * 10000.0);
                if (pr.per_kwh < 0) pr.per_kwh = 0;
            }
            if (!*currency && *pr.currency) memcpy(currency, pr.currency, 4);
            int free_now = !strcmp(status, "AVAILABLE") || !strcmp(status, "UNKNOWN");
            ec_connector_group_t *g = NULL;
            for (size_t i = first; i < groups->len; i++) {
                ec_connector_group_t *x = &EC_VEC_AT(groups, ec_connector_group_t, i);
                if (x->standard == plug && x->power_w == power && x->price_per_kwh == pr.per_kwh &&
                    x->price_per_min == pr.per_min)
                    g = x;
            }
            if (g) {
                g->count++;
                g->available += free_now;
                continue;
            }
            ec_connector_group_t ng;
            memset(&ng, 0, sizeof ng);
            snprintf(ng.site_id, sizeof ng.site_id, "%s", id);
            snprintf(ng.name, sizeof ng.name, "%s", ec_json_str(ec_json_get(site, "name")) ? ec_json_str(ec_json_get(site, "name")) : id);
            const char *op = ec_json_str(ec_json_get(ec_json_get(site, "operator"), "name"));
            snprintf(ng.operator_name, sizeof ng.operator_name, "%s", op ? op : "");
            ng.pos = pos;
            ng.standard = plug;
            ng.power_w = power;
            ng.count = 1;
            ng.available = free_now;
            ng.price_per_kwh = pr.per_kwh;
            ng.price_per_min = pr.per_min;
            ec_err rc = ec_vec_push(groups, &ng);
            if (rc) return rc;
        }
    }
    return EC_OK;
}

ec_err ec_reg_sites_for_routing(const char *const *site_docs, size_t n_sites,
                                const char *const *tariff_docs, size_t n_tariffs, ec_sites *out)
{
    return ec_reg_sites_for_routing_priced(site_docs, n_sites, tariff_docs, n_tariffs, NULL, NULL, out, NULL);
}

static ec_err sites_of(const char *const *site_docs, size_t n_sites, const char *const *tariff_docs, size_t n_tariffs,
                       dyn_t dyn, ec_sites *out, int *dynamic_used);

ec_err ec_reg_sites_installed(const char *const *site_docs, size_t n_sites, const char *const *tariff_docs,
                              size_t n_tariffs, ec_sites *out)
{
    dyn_t dyn = {NULL, NULL, 0, 1};
    return sites_of(site_docs, n_sites, tariff_docs, n_tariffs, dyn, out, NULL);
}

ec_err ec_reg_sites_for_routing_priced(const char *const *site_docs, size_t n_sites, const char *const *tariff_docs,
                                       size_t n_tariffs, ec_dynamic_price_fn dynamic, void *ctx, ec_sites *out,
                                       int *dynamic_used)
{
    dyn_t dyn = {dynamic, ctx, 0, 0};
    return sites_of(site_docs, n_sites, tariff_docs, n_tariffs, dyn, out, dynamic_used);
}

static ec_err sites_of(const char *const *site_docs, size_t n_sites, const char *const *tariff_docs, size_t n_tariffs,
                       dyn_t dyn, ec_sites *out, int *dynamic_used)
{
    ec_vec groups;
    ec_vec_init(&groups, sizeof(ec_connector_group_t));
    ec_map by_id, by_site;
    memset(&by_id, 0, sizeof by_id);
    memset(&by_site, 0, sizeof by_site);
    ec_json **tariffs = ec_calloc(n_tariffs ? n_tariffs : 1, sizeof *tariffs);
    char currency[4] = "";
    ec_err rc = tariffs ? EC_OK : EC_ENOMEM;
    if (!rc) rc = ec_map_init(&by_id, n_tariffs);
    if (!rc) rc = ec_map_init(&by_site, n_tariffs);
    for (size_t i = 0; i < n_tariffs && !rc; i++) {
        if (ec_json_load_str(tariff_docs[i], "tariff", &tariffs[i])) continue;
        const char *id = ec_json_str(ec_json_get(tariffs[i], "id"));
        const char *site = ec_json_str(ec_json_get(tariffs[i], "site_id"));
        uint64_t seen;
        if (id) rc = ec_map_put(&by_id, ec_hash_bytes(id, strlen(id)), i);
        if (!rc && site && !ec_map_get(&by_site, ec_hash_bytes(site, strlen(site)), &seen))
            rc = ec_map_put(&by_site, ec_hash_bytes(site, strlen(site)), i);
    }
    for (size_t i = 0; i < n_sites && !rc; i++) {
        ec_json *site;
        if (ec_json_load_str(site_docs[i], "site", &site)) continue;
        rc = add_site(site, tariffs, n_tariffs, &by_id, &by_site, &groups, currency, &dyn);
        ec_json_free(site);
    }
    for (size_t i = 0; tariffs && i < n_tariffs; i++) ec_json_free(tariffs[i]);
    ec_free(tariffs);
    ec_map_free(&by_id);
    ec_map_free(&by_site);
    if (rc) {
        ec_vec_free(&groups);
        return rc;
    }
    out->groups = groups.data;
    out->n = groups.len;
    memcpy(out->currency, *currency ? currency : "EUR", 4);
    if (dynamic_used) *dynamic_used = dyn.used;
    return EC_OK;
}

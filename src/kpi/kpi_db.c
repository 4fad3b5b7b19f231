/* kpi_db.c - the figures of a hub's database (or a twin's journal.db): the
 * register's sites, what each session was billed and for which fleet, the
 * excluded time recorded through the API, and the journal itself, read in
 * order into ec_kpi. The only KPI file that knows the store. */
#include "kpi_internal.h"

#include "ecorridor/ec_geo.h"
#include "ecorridor/ec_graph.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_store.h"

#include <math.h>
#include <string.h>

#define SEGMENT_MAX_M 10000.0 /* a site further than this from every segment is off the corridor */

typedef struct {
    char id[EC_REG_ID_MAX + 1], parent[EC_REG_ID_MAX + 1];
    char name[128];
} named;

typedef struct {
    ec_vec sites, bills, excluded;
    ec_vec orgs, jurs; /* named */
    const ec_graph *g;
} loader;

static ec_err named_row(ec_vec *v, const char *doc, size_t len)
{
    ec_json *j = NULL;
    ec_err rc = ec_json_load_buf(doc, len, "register", &j);
    if (rc) return rc;
    named n;
    memset(&n, 0, sizeof n);
    const char *x;
    if ((x = ec_json_str(ec_json_get(j, "id")))) snprintf(n.id, sizeof n.id, "%s", x);
    if ((x = ec_json_str(ec_json_get(j, "name")))) snprintf(n.name, sizeof n.name, "%s", x);
    if ((x = ec_json_str(ec_json_get(j, "parent_id")))) snprintf(n.parent, sizeof n.parent, "%s", x);
    ec_json_free(j);
    return ec_vec_push(v, &n);
}

static ec_err org_row(void *ctx, const char *doc, size_t len)
{
    return named_row(&((loader *)ctx)->orgs, doc, len);
}

static ec_err jur_row(void *ctx, const char *doc, size_t len)
{
    return named_row(&((loader *)ctx)->jurs, doc, len);
}

static const named *find_named(const ec_vec *v, const char *id)
{
    for (size_t i = 0; id[0] && i < v->len; i++)
        if (!strcmp(EC_VEC_AT(v, named, i).id, id)) return &EC_VEC_AT(v, named, i);
    return NULL;
}

/* Each site's operator's and jurisdiction's names, and the jurisdictions it lies within. */
_Static_assert(sizeof(((ec_kpi_site_t *)0)->within) >= 1 + EC_KPI_WITHIN_DEPTH * (EC_REG_ID_MAX + 1) + 1,
               "within holds every jurisdiction up the chain at the longest ids: a shorter one would cut the "
               "figures' scope short of what policy.c and whoami grant");
static void name_sites(loader *l)
{
    for (size_t i = 0; i < l->sites.len; i++) {
        ec_kpi_site_t *s = &EC_VEC_AT(&l->sites, ec_kpi_site_t, i);
        const named *o = find_named(&l->orgs, s->operator_id), *j = find_named(&l->jurs, s->jurisdiction_id);
        if (o) snprintf(s->operator_name, sizeof s->operator_name, "%s", o->name);
        if (j) snprintf(s->jurisdiction_name, sizeof s->jurisdiction_name, "%s", j->name);
        size_t n = 0;
        s->within[0] = 0;
        /* Up the parents, a few levels at most (a loop in the register ends there). */
        for (int depth = 0; j && depth < EC_KPI_WITHIN_DEPTH; depth++, j = find_named(&l->jurs, j->parent)) {
            int w = snprintf(s->within + n, sizeof s->within - n, "%s%s,", n ? "" : ",", j->id);
            if (w < 0 || (size_t)w >= sizeof s->within - n) break;
            n += (size_t)w;
        }
    }
}

static ec_err site_row(void *ctx, const char *doc, size_t len)
{
    loader *l = ctx;
    ec_json *j = NULL;
    ec_err rc = ec_json_load_buf(doc, len, "site", &j);
    if (rc) return rc;
    ec_kpi_site_t s;
    memset(&s, 0, sizeof s);
    const char *v;
    if ((v = ec_json_str(ec_json_get(j, "id")))) snprintf(s.id, sizeof s.id, "%s", v);
    if ((v = ec_json_str(ec_json_get(j, "name")))) snprintf(s.name, sizeof s.name, "%s", v);
    if ((v = ec_json_str(ec_json_get(j, "operator_id"))) && *v) snprintf(s.operator_id, sizeof s.operator_id, "%s", v);
    /* A site read from a sites file names its operator only by name. */
    else if ((v = ec_json_str(ec_json_get(ec_json_get(j, "operator"), "name"))))
        snprintf(s.operator_id, sizeof s.operator_id, "%s", v);
    if ((v = ec_json_str(ec_json_get(j, "jurisdiction_id"))))
        snprintf(s.jurisdiction_id, sizeof s.jurisdiction_id, "%s", v);
    const ec_json *c = ec_json_get(j, "coordinates");
    ec_latlon_t p;
    if (l->g && !ec_parse_double(ec_json_str(ec_json_get(c, "latitude")), &p.lat) &&
        !ec_parse_double(ec_json_str(ec_json_get(c, "longitude")), &p.lon)) {
        /* The nearest segment of the corridor, both directions as one. */
        const ec_graph *g = l->g;
        double best = SEGMENT_MAX_M;
        for (uint32_t u = 0; u < g->n_nodes; u++)
            for (uint32_t a = g->first_out[u]; a < g->first_out[u + 1]; a++) {
                uint32_t w = g->arcs[a].to;
                double t, d = ec_geo_point_segment_m(p, ec_graph_point(g, u), ec_graph_point(g, w), &t);
                if (d < best) {
                    int64_t x = g->ext_id[u], y = g->ext_id[w];
                    best = d;
                    snprintf(s.segment, sizeof s.segment, "%lld-%lld", (long long)(x < y ? x : y),
                             (long long)(x < y ? y : x));
                }
            }
    }
    ec_json_free(j);
    return ec_vec_push(&l->sites, &s);
}

static ec_err bill_row(void *ctx, int64_t tx, const char *issuer, int billed, const char *currency, int64_t incl_vat)
{
    loader *l = ctx;
    ec_kpi_tx_t b;
    memset(&b, 0, sizeof b);
    b.tx = tx;
    snprintf(b.fleet, sizeof b.fleet, "%s", issuer ? issuer : "");
    snprintf(b.payment, sizeof b.payment, "%s", "token");
    b.revenue = billed ? (double)incl_vat / 10000.0 : NAN;
    snprintf(b.currency, sizeof b.currency, "%s", billed && currency ? currency : "");
    return ec_vec_push(&l->bills, &b);
}

static ec_err outage_row(void *ctx, const ec_outage_t *o)
{
    loader *l = ctx;
    ec_kpi_excluded_t x;
    memset(&x, 0, sizeof x);
    snprintf(x.site, sizeof x.site, "%s", o->site_id);
    snprintf(x.cp, sizeof x.cp, "%s", o->charge_point);
    x.connector = o->connector;
    x.from_ms = o->from_s * 1000, x.to_ms = o->to_s > 0 ? o->to_s * 1000 : 0;
    snprintf(x.reason, sizeof x.reason, "%s", o->reason);
    return ec_vec_push(&l->excluded, &x);
}

/* The commonest event no figure reads, left out by the store (ec_kpi_feed passes over
 * it and the other few it does not read). */
#define KPI_SKIP "tick"

ec_err ec_kpi_from_store(ec_store *s, const ec_kpi_db_opts_t *o, ec_kpi **out)
{
    *out = NULL;
    loader l;
    memset(&l, 0, sizeof l);
    ec_vec_init(&l.sites, sizeof(ec_kpi_site_t));
    ec_vec_init(&l.bills, sizeof(ec_kpi_tx_t));
    ec_vec_init(&l.excluded, sizeof(ec_kpi_excluded_t));
    ec_graph *g = NULL;
    ec_kpi *k = NULL;
    ec_err rc = EC_OK;
    if (o->corridor) {
        ec_load_opts_t lo;
        memset(&lo, 0, sizeof lo);
        rc = ec_graph_load_corridor(o->corridor, &lo, &g);
        l.g = g;
    }
    ec_store_filter_t all;
    memset(&all, 0, sizeof all);
    all.limit = -1;
    int64_t total;
    ec_vec_init(&l.orgs, sizeof(named));
    ec_vec_init(&l.jurs, sizeof(named));
    if (!rc) rc = ec_store_list(s, EC_KIND_ORGANISATION, &all, org_row, &l, &total);
    if (!rc) rc = ec_store_list(s, EC_KIND_JURISDICTION, &all, jur_row, &l, &total);
    if (!rc) rc = ec_store_list(s, EC_KIND_SITE, &all, site_row, &l, &total);
    if (!rc) name_sites(&l);
    ec_vec_free(&l.orgs), ec_vec_free(&l.jurs);
    /* The bills of the period's sessions only (a hub's history grows): a charger's clock may
     * differ from the hub's, so a day's margin either side. */
    if (!rc) rc = ec_store_tx_bills(s, o->from_s - 86400, o->to_s + 86400, bill_row, &l);
    if (!rc) rc = ec_store_outage_list(s, NULL, o->from_s, o->to_s, outage_row, &l);
    ec_kpi_config_t c;
    memset(&c, 0, sizeof c);
    c.from_ms = o->from_s * 1000, c.to_ms = o->to_s * 1000;
    c.until_ms = o->until_ms;
    c.grace_ms = o->grace_ms > 0 ? o->grace_ms : EC_KPI_GRACE_MS;
    c.co2_kg_per_kwh = EC_KPI_CO2_KG_PER_KWH;
    c.sites = l.sites.data, c.n_sites = l.sites.len;
    c.txs = l.bills.data, c.n_txs = l.bills.len;
    c.excluded = l.excluded.data, c.n_excluded = l.excluded.len;
    c.only_operator = o->only_operator, c.only_jurisdiction = o->only_jurisdiction;
    c.only_site = o->only_site;
    c.step_ms = o->step_s > 0 ? o->step_s * 1000 : 0;
    if (!rc) rc = ec_kpi_new(&c, &k);
    if (!rc) {
        /* k keeps the arrays it borrows. */
        k->owned[0] = l.sites, k->owned[1] = l.bills, k->owned[2] = l.excluded;
        ec_vec_init(&l.sites, 1), ec_vec_init(&l.bills, 1), ec_vec_init(&l.excluded, 1);
        rc = kpi__feed_store(k, s, k->c.to_ms + EC_KPI_TAIL_MS, KPI_SKIP, o->progress);
    }
    ec_graph_free(g);
    ec_vec_free(&l.sites), ec_vec_free(&l.bills), ec_vec_free(&l.excluded);
    if (rc) {
        ec_kpi_free(k);
        return rc;
    }
    *out = k;
    return EC_OK;
}

/* kpi_rows.c - the period's figures per group: each port's sums, the
 * excluded time the operators recorded taken off its outage, and the groups
 * above a port summed from their ports (docs/kpi.md). */
#include "kpi_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const group_names[EC_KPI_GROUP_COUNT] = {"port", "evse", "site", "operator", "jurisdiction",
                                                            "segment"};

const char *ec_kpi_group_name(ec_kpi_group g)
{
    return g >= 0 && g < EC_KPI_GROUP_COUNT ? group_names[g] : "?";
}

int ec_kpi_group_parse(const char *s, ec_kpi_group *out)
{
    for (int i = 0; s && i < EC_KPI_GROUP_COUNT; i++)
        if (!strcmp(s, group_names[i])) {
            *out = (ec_kpi_group)i;
            return 0;
        }
    return -1;
}

/* ---- intervals ------------------------------------------------------------------------------ */

typedef struct {
    int64_t a, b;
} span2;

static int span_cmp(const void *x, const void *y)
{
    const span2 *p = x, *q = y;
    return p->a < q->a ? -1 : p->a > q->a;
}

/* Sorts and merges n spans in place; returns how many remain. */
static size_t merge(span2 *s, size_t n)
{
    if (!n) return 0;
    qsort(s, n, sizeof *s, span_cmp);
    size_t m = 0;
    for (size_t i = 1; i < n; i++) {
        if (s[i].a <= s[m].b) {
            if (s[i].b > s[m].b) s[m].b = s[i].b;
        } else {
            s[++m] = s[i];
        }
    }
    return m + 1;
}

static int64_t covered(const span2 *u, size_t n, int64_t a, int64_t b)
{
    int64_t t = 0;
    for (size_t i = 0; i < n && u[i].a < b; i++) {
        int64_t x = u[i].a > a ? u[i].a : a, y = u[i].b < b ? u[i].b : b;
        if (y > x) t += y - x;
    }
    return t;
}

int ec_kpi_reason(const char *s)
{
    static const char *const excluded[] = {"utility_outage", "vehicle_fault", "scheduled_maintenance", "vandalism",
                                           "natural_disaster"};
    if (!s) return -1;
    for (size_t i = 0; i < sizeof excluded / sizeof *excluded; i++)
        if (!strcmp(s, excluded[i])) return 1;
    return !strcmp(s, "operator_request") ? 0 : -1;
}

/* Whether excluded time x covers the port (cp, connector) at site: a record of a charge point
 * covers it at the site it was recorded for only (a charge point moved takes none along). */
static int covers(const ec_kpi_excluded_t *x, const char *cp, int connector, const char *site)
{
    if (strcmp(x->site, site)) return 0;
    return !x->cp[0] || (!strcmp(x->cp, cp) && (x->connector == 0 || x->connector == connector));
}

/* Port p's outage and excluded time in its part of the period. */
static ec_err port_out(ec_kpi *k, const kpi_port *p, const char *site, int64_t lo, int64_t hi, int64_t *out_ms,
                       int64_t *excl_ms)
{
    const kpi_cp *c = KCP(k, p->cp);
    size_t ne = 0, no = 0, cap = 0;
    for (size_t i = 0; i < k->c.n_excluded; i++) {
        const ec_kpi_excluded_t *x = &k->c.excluded[i];
        if (covers(x, c->id, p->connector, site))
            cap++;
    }
    span2 *ex = cap ? ec_malloc(2 * cap * sizeof *ex) : NULL, *op = ex ? ex + cap : NULL;
    if (cap && !ex) return EC_ENOMEM;
    for (size_t i = 0; i < k->c.n_excluded; i++) {
        const ec_kpi_excluded_t *x = &k->c.excluded[i];
        if (!covers(x, c->id, p->connector, site))
            continue;
        span2 s = {x->from_ms, x->to_ms > 0 ? x->to_ms : INT64_MAX};
        int why = ec_kpi_reason(x->reason);
        if (why == 0) op[no++] = s;
        else if (why == 1) ex[ne++] = s;
    }
    ne = merge(ex, ne), no = merge(op, no);
    *out_ms = *excl_ms = 0;
    for (size_t i = 0; i < p->out.len; i++) {
        const kpi_span *s = &EC_VEC_AT(&p->out, kpi_span, i);
        int64_t a = s->a > lo ? s->a : lo, b = s->b < hi ? s->b : hi;
        if (b <= a) continue;
        if (s->cause != KPI_OUT_UNAVAIL || !no) {
            *out_ms += b - a, *excl_ms += covered(ex, ne, a, b);
            continue;
        }
        /* Unavailable at the operator's request is not out: only the gaps between requests count. */
        int64_t x = a;
        for (size_t j = 0; j <= no && x < b; j++) {
            int64_t y = j < no ? (op[j].a < b ? op[j].a : b) : b;
            if (y > x) *out_ms += y - x, *excl_ms += covered(ex, ne, x, y);
            if (j < no && op[j].b > x) x = op[j].b;
        }
    }
    ec_free(ex);
    return EC_OK;
}

/* ---- groups --------------------------------------------------------------------------------- */

typedef struct {
    char id[96];
    char name[128];
    int64_t ports, sessions, t_ms, out_ms, excl_ms, charging_ms, plugged_ms, site_ms, congested_ms;
    double energy_wh, peak_w, rated_energy_wh, rated_kwh; /* rated_kwh: rated kW × open h */
    int has_site, n_billed;
    double revenue;
    char currency[4];
    ec_vec waits, fleets; /* double minutes; uint64 hashes */
} acc;

static const ec_kpi_site_t *cfg_site(const ec_kpi *k, const kpi_site *s)
{
    return s->cfg >= 0 ? &k->c.sites[s->cfg] : NULL;
}

static void group_id(const ec_kpi *k, ec_kpi_group g, const kpi_port *p, const kpi_site *s, char *id, size_t n,
                     char *name, size_t nn)
{
    const ec_kpi_site_t *cs = cfg_site(k, s);
    const char *v = "";
    name[0] = 0;
    switch (g) {
    case EC_KPI_PORT: snprintf(id, n, "%s/%d", KCP(k, p->cp)->id, p->connector); return;
    case EC_KPI_EVSE:
        /* An EVSE's uid is unique within its site only; one the charger named none is its port. */
        if (p->evse_named) snprintf(id, n, "%s/%s", s->id, KEVSE(k, p->evse)->uid);
        else snprintf(id, n, "%s", KEVSE(k, p->evse)->uid);
        return;
    case EC_KPI_SITE:
        snprintf(id, n, "%s", s->id);
        snprintf(name, nn, "%s", cs && cs->name[0] ? cs->name : s->id);
        return;
    case EC_KPI_OPERATOR:
        v = cs ? cs->operator_id : "";
        if (cs && cs->operator_name[0]) snprintf(name, nn, "%s", cs->operator_name);
        break;
    case EC_KPI_JURISDICTION:
        v = cs ? cs->jurisdiction_id : "";
        if (cs && cs->jurisdiction_name[0]) snprintf(name, nn, "%s", cs->jurisdiction_name);
        break;
    case EC_KPI_SEGMENT: v = cs ? cs->segment : ""; break;
    default: break;
    }
    snprintf(id, n, "%s", v);
}

static int in_scope(const ec_kpi *k, const kpi_site *s)
{
    const ec_kpi_site_t *cs = cfg_site(k, s);
    if (k->c.only_site && strcmp(s->id, k->c.only_site)) return 0;
    if (k->c.only_operator && (!cs || strcmp(cs->operator_id, k->c.only_operator))) return 0;
    if (k->c.only_jurisdiction) {
        /* The jurisdiction or one within it (a state's agency sees its cities' sites). */
        char needle[EC_REG_ID_MAX + 3];
        snprintf(needle, sizeof needle, ",%s,", k->c.only_jurisdiction);
        if (!cs || !k->c.only_jurisdiction[0] || (strcmp(cs->jurisdiction_id, k->c.only_jurisdiction) && !strstr(cs->within, needle)))
            return 0;
    }
    return 1;
}

static int acc_find(ec_vec *accs, ec_map *m, const char *id, const char *name)
{
    uint64_t v, key = ec_hash_bytes(id, strlen(id));
    for (;; key++) {
        if (!ec_map_get(m, key, &v) || !v) break;
        if (!strcmp(EC_VEC_AT(accs, acc, v - 1).id, id)) return (int)v - 1;
    }
    acc a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.name, sizeof a.name, "%s", name && name[0] ? name : id);
    ec_vec_init(&a.waits, sizeof(double));
    ec_vec_init(&a.fleets, sizeof(uint64_t));
    if (ec_vec_push(accs, &a) || ec_map_put(m, key, accs->len)) return -1;
    return (int)accs->len - 1;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static int cmp_row(const void *x, const void *y)
{
    return strcmp(((const ec_kpi_row_t *)x)->id, ((const ec_kpi_row_t *)y)->id);
}

static const ec_kpi_tx_t *find_bill(const ec_kpi *k, int64_t tx)
{
    size_t lo = 0, hi = k->c.n_txs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->c.txs[mid].tx < tx) lo = mid + 1;
        else hi = mid;
    }
    return lo < k->c.n_txs && k->c.txs[lo].tx == tx ? &k->c.txs[lo] : NULL;
}

static void link_sites(ec_kpi *k)
{
    for (size_t i = 0; i < k->sites.len; i++) {
        kpi_site *s = KSITE(k, i);
        s->cfg = -1;
        for (size_t j = 0; j < k->c.n_sites; j++)
            if (!strcmp(k->c.sites[j].id, s->id)) {
                s->cfg = (int)j;
                break;
            }
    }
}

static void finish_row(const ec_kpi *k, ec_kpi_group g, acc *a, ec_kpi_row_t *r)
{
    double nan = NAN;
    memset(r, 0, sizeof *r);
    r->group = g;
    snprintf(r->id, sizeof r->id, "%s", a->id);
    snprintf(r->name, sizeof r->name, "%s", a->name);
    r->from_ms = k->c.from_ms, r->to_ms = k->c.to_ms;
    r->ports = a->ports, r->sessions = a->sessions;
    if (a->fleets.len) {
        qsort(a->fleets.data, a->fleets.len, sizeof(uint64_t), cmp_u64);
        for (size_t i = 0; i < a->fleets.len; i++)
            if (!i || EC_VEC_AT(&a->fleets, uint64_t, i) != EC_VEC_AT(&a->fleets, uint64_t, i - 1)) r->fleets++;
    }
    double open_ms = (double)(a->t_ms - a->out_ms);
    r->energy_kwh = a->energy_wh / 1000.0;
    r->avg_power_kw = a->charging_ms > 0 ? a->energy_wh / ((double)a->charging_ms / 3600000.0) / 1000.0 : nan;
    r->peak_power_kw = a->sessions > 0 && a->peak_w > 0 ? a->peak_w / 1000.0 : nan;
    r->uptime_pct = a->t_ms > 0 ? ((double)a->t_ms - (double)(a->out_ms - a->excl_ms)) / (double)a->t_ms * 100.0 : nan;
    r->outage_min = (double)a->out_ms / 60000.0;
    r->excluded_min = (double)a->excl_ms / 60000.0;
    r->open_min = open_ms / 60000.0;
    r->charging_min = (double)a->charging_ms / 60000.0;
    r->plugged_min = (double)a->plugged_ms / 60000.0;
    r->idle_min = (double)(a->plugged_ms > a->charging_ms ? a->plugged_ms - a->charging_ms : 0) / 60000.0;
    r->utilisation_pct = open_ms > 0 ? (double)a->charging_ms / open_ms * 100.0 : nan;
    r->occupancy_pct = open_ms > 0 ? (double)a->plugged_ms / open_ms * 100.0 : nan;
    r->capacity_factor = a->rated_kwh > 0 ? a->rated_energy_wh / 1000.0 / a->rated_kwh : nan;
    r->congestion_pct = a->has_site && a->site_ms > 0 ? (double)a->congested_ms / (double)a->site_ms * 100.0 : nan;
    r->wait_mean_min = r->wait_p95_min = nan;
    if (a->waits.len) {
        double *w = a->waits.data, sum = 0;
        qsort(w, a->waits.len, sizeof *w, cmp_double);
        for (size_t i = 0; i < a->waits.len; i++) sum += w[i];
        r->wait_mean_min = sum / (double)a->waits.len;
        size_t rank = (size_t)ceil(0.95 * (double)a->waits.len);
        r->wait_p95_min = w[rank ? rank - 1 : 0];
    }
    r->revenue = k->c.n_txs && (a->n_billed || !a->sessions) ? a->revenue : nan;
    snprintf(r->currency, sizeof r->currency, "%s", a->currency);
    r->co2_avoided_kg = r->energy_kwh * k->c.co2_kg_per_kwh;
}

static int64_t distinct(ec_vec *v)
{
    int64_t n = 0;
    if (v->len) qsort(v->data, v->len, sizeof(uint64_t), cmp_u64);
    for (size_t i = 0; i < v->len; i++)
        if (!i || EC_VEC_AT(v, uint64_t, i) != EC_VEC_AT(v, uint64_t, i - 1)) n++;
    return n;
}

ec_err ec_kpi_rows(ec_kpi *k, ec_kpi_group g, const ec_kpi_row_t **rows, size_t *n)
{
    return ec_kpi_rows_public(k, g, 0, 0, rows, n, NULL);
}

ec_err ec_kpi_rows_public(ec_kpi *k, ec_kpi_group g, int64_t min_sessions, int64_t min_fleets,
                          const ec_kpi_row_t **rows, size_t *n, int64_t *suppressed)
{
    *rows = NULL, *n = 0;
    if (suppressed) *suppressed = 0;
    if (!k || g < 0 || g >= EC_KPI_GROUP_COUNT) return EC_EINVAL;
    kpi__close(k);
    link_sites(k);
    ec_vec accs;
    ec_map m;
    ec_vec_init(&accs, sizeof(acc));
    ec_err rc = ec_map_init(&m, 64);
    int *port_acc = rc ? NULL : ec_calloc(k->ports.len + 1, sizeof *port_acc);
    if (!port_acc) rc = EC_ENOMEM;
    char id[96], name[128];
    int64_t lo_all = k->c.from_ms, hi = k->c.to_ms;
    for (size_t i = 0; !rc && i < k->ports.len; i++) {
        const kpi_port *p = KPORT(k, i);
        const kpi_site *s = KSITE(k, KEVSE(k, p->evse)->site);
        port_acc[i] = -1;
        if (!in_scope(k, s)) continue;
        group_id(k, g, p, s, id, sizeof id, name, sizeof name);
        int ai = acc_find(&accs, &m, id, name);
        if (ai < 0) {
            rc = EC_ENOMEM;
            break;
        }
        port_acc[i] = ai;
        acc *a = &EC_VEC_AT(&accs, acc, ai);
        int64_t lo = p->first_ms > lo_all ? p->first_ms : lo_all, out = 0, excl = 0;
        if ((rc = port_out(k, p, s->id, lo, hi, &out, &excl))) break;
        int64_t t = hi > lo ? hi - lo : 0;
        a->ports++;
        a->t_ms += t, a->out_ms += out, a->excl_ms += excl;
        a->charging_ms += p->charging_ms, a->plugged_ms += p->plugged_ms;
        a->energy_wh += p->energy_wh, a->sessions += p->sessions;
        if (p->peak_w > a->peak_w) a->peak_w = p->peak_w;
        uint64_t v;
        const char *uid = KEVSE(k, p->evse)->uid;
        if (p->evse_named && ec_map_get(&k->by_rated, kpi__rated_key(s->id, uid), &v) && v) {
            const kpi_rated *r = &EC_VEC_AT(&k->rated, kpi_rated, v - 1);
            if (!strcmp(r->uid, uid) && !strcmp(r->site, s->id) && r->max_w > 0) {
                a->rated_kwh += r->max_w / 1000.0 * (double)(t - out) / 3600000.0;
                a->rated_energy_wh += p->energy_wh;
            }
        }
    }
    /* What a site has as a whole: the time its points were all busy, its queue. */
    for (size_t i = 0; !rc && g >= EC_KPI_SITE && i < k->sites.len; i++) {
        const kpi_site *s = KSITE(k, i);
        if (!in_scope(k, s) || !s->points) continue;
        group_id(k, g, NULL, s, id, sizeof id, name, sizeof name);
        int ai = acc_find(&accs, &m, id, name);
        if (ai < 0) {
            rc = EC_ENOMEM;
            break;
        }
        acc *a = &EC_VEC_AT(&accs, acc, ai);
        int64_t lo = s->first_ms > lo_all ? s->first_ms : lo_all;
        a->has_site = 1;
        a->site_ms += hi > lo ? hi - lo : 0;
        a->congested_ms += s->congested_ms;
        for (size_t j = 0; j < s->waits.len; j++)
            if (ec_vec_push(&a->waits, &EC_VEC_AT(&s->waits, double, j))) rc = EC_ENOMEM;
    }
    /* What the hub billed, and for whom. */
    for (size_t i = 0; !rc && i < k->sess.len; i++) {
        const kpi_sess *s = KSESS(k, i);
        if (!s->in_period || port_acc[s->port] < 0) continue;
        const ec_kpi_tx_t *b = find_bill(k, s->tx);
        if (!b) continue;
        acc *a = &EC_VEC_AT(&accs, acc, port_acc[s->port]);
        if (b->fleet[0]) {
            uint64_t f = ec_hash_bytes(b->fleet, strlen(b->fleet));
            if (ec_vec_push(&a->fleets, &f)) rc = EC_ENOMEM;
        }
        if (isfinite(b->revenue)) {
            a->revenue += b->revenue, a->n_billed++;
            if (!a->currency[0]) snprintf(a->currency, sizeof a->currency, "%s", b->currency);
            else if (strcmp(a->currency, b->currency)) snprintf(a->currency, sizeof a->currency, "MIX");
        }
    }
    /* Groups under the thresholds are withheld, not merged into an "other" row: a reader who
     * knows some of them (an operator its own sites) could take those from it and leave the rest. */
    int *hide = !rc && accs.len ? ec_calloc(accs.len, sizeof *hide) : NULL;
    int64_t n_hidden = 0;
    if (!rc && accs.len && !hide) rc = EC_ENOMEM;
    for (size_t i = 0; !rc && (min_sessions > 0 || min_fleets > 0) && i < accs.len; i++) {
        acc *a = &EC_VEC_AT(&accs, acc, i);
        if (a->sessions < min_sessions || distinct(&a->fleets) < min_fleets) hide[i] = 1, n_hidden++;
    }
    if (suppressed) *suppressed = n_hidden;
    k->out_rows.len = 0;
    if (!rc) rc = ec_vec_reserve(&k->out_rows, accs.len);
    for (size_t i = 0; !rc && i < accs.len; i++) {
        if (hide[i]) continue;
        ec_kpi_row_t r;
        finish_row(k, g, &EC_VEC_AT(&accs, acc, i), &r);
        ec_vec_push(&k->out_rows, &r);
    }
    ec_free(hide);
    for (size_t i = 0; i < accs.len; i++) {
        ec_vec_free(&EC_VEC_AT(&accs, acc, i).waits);
        ec_vec_free(&EC_VEC_AT(&accs, acc, i).fleets);
    }
    ec_vec_free(&accs);
    ec_map_free(&m);
    ec_free(port_acc);
    if (rc) return rc;
    if (k->out_rows.len) qsort(k->out_rows.data, k->out_rows.len, sizeof(ec_kpi_row_t), cmp_row);
    *rows = k->out_rows.data, *n = k->out_rows.len;
    return EC_OK;
}

ec_err ec_kpi_steps(ec_kpi *k, const ec_kpi_row_t **rows, size_t *n)
{
    *rows = NULL, *n = 0;
    if (!k || !k->n_steps) return EC_EINVAL;
    kpi__close(k);
    link_sites(k);
    const char *id = k->c.only_site ? k->c.only_site : "", *name = id;
    for (size_t j = 0; j < k->c.n_sites && id[0]; j++)
        if (!strcmp(k->c.sites[j].id, id) && k->c.sites[j].name[0]) name = k->c.sites[j].name;
    k->out_rows.len = 0;
    ec_err rc = ec_vec_reserve(&k->out_rows, k->n_steps);
    for (size_t i = 0; !rc && i < k->n_steps; i++) {
        int64_t lo_all, hi;
        kpi__step_span(k, i, &lo_all, &hi);
        /* The step's sums as ec_kpi_rows sums a group's ports over the period. */
        acc a;
        memset(&a, 0, sizeof a);
        snprintf(a.id, sizeof a.id, "%s", id);
        snprintf(a.name, sizeof a.name, "%s", name);
        ec_vec_init(&a.waits, sizeof(double));
        ec_vec_init(&a.fleets, sizeof(uint64_t));
        for (size_t j = 0; !rc && j < k->ports.len; j++) {
            const kpi_port *p = KPORT(k, j);
            const kpi_site *s = KSITE(k, KEVSE(k, p->evse)->site);
            if (p->step0 < 0 || !in_scope(k, s)) continue;
            const kpi_step *st = &EC_VEC_AT(&k->steps, kpi_step, (size_t)p->step0 + i);
            int64_t lo = p->first_ms > lo_all ? p->first_ms : lo_all, out = 0, excl = 0;
            if ((rc = port_out(k, p, s->id, lo, hi, &out, &excl))) break;
            a.ports++;
            a.t_ms += hi > lo ? hi - lo : 0, a.out_ms += out, a.excl_ms += excl;
            a.charging_ms += st->charging_ms, a.plugged_ms += st->plugged_ms;
            a.energy_wh += st->energy_wh, a.sessions += st->sessions;
        }
        ec_kpi_row_t r;
        finish_row(k, EC_KPI_SITE, &a, &r);
        r.from_ms = lo_all, r.to_ms = hi;
        r.peak_power_kw = NAN; /* not kept per step */
        r.revenue = NAN;
        if (!rc) ec_vec_push(&k->out_rows, &r);
    }
    if (rc) return rc;
    *rows = k->out_rows.data, *n = k->out_rows.len;
    return EC_OK;
}

ec_err ec_kpi_sessions(ec_kpi *k, const ec_kpi_session_t **out, size_t *n)
{
    *out = NULL, *n = 0;
    if (!k) return EC_EINVAL;
    kpi__close(k);
    link_sites(k);
    k->out_sess.len = 0;
    for (size_t i = 0; i < k->sess.len; i++) {
        const kpi_sess *s = KSESS(k, i);
        const kpi_port *p = KPORT(k, s->port);
        const kpi_site *site = KSITE(k, KEVSE(k, p->evse)->site);
        if (!s->in_period || !in_scope(k, site)) continue;
        ec_kpi_session_t r;
        memset(&r, 0, sizeof r);
        r.tx = s->tx, r.connector = p->connector;
        snprintf(r.cp, sizeof r.cp, "%s", KCP(k, p->cp)->id);
        snprintf(r.site, sizeof r.site, "%s", site->id);
        snprintf(r.evse, sizeof r.evse, "%s", KEVSE(k, p->evse)->uid);
        r.start_ms = s->start_ms, r.end_ms = s->stop_ms;
        r.energy_kwh = (s->last_wh - s->first_wh) / 1000.0;
        r.peak_power_kw = s->peak_w / 1000.0;
        snprintf(r.error_code, sizeof r.error_code, "%s", s->error);
        if (ec_vec_push(&k->out_sess, &r)) return EC_ENOMEM;
    }
    *out = k->out_sess.data, *n = k->out_sess.len;
    return EC_OK;
}

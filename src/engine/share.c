/* share.c - the live corridor's power sharing (see ec_share.h).
 *
 * State: the register's power of the sites and substations fed to it; the
 * charge points; the sessions running; the groups of sessions behind one
 * limit. A tick allocates every group that changed (or whose control
 * interval is up) with the group's algorithms (ec_alloc_sites), rounds the
 * allocation down to EC_SHARE_QUANTUM_W, and queues per charge point its
 * lowerings, then its maximum, then its raisings; a charge point with no
 * command out gets the next one at once. */
#include "ecorridor/ec_share.h"

#include "ecorridor/ec_engine.h"
#include "ecorridor/ec_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN -1.0 /* a limit the charger has not accepted from us */
#define QUEUE 64
/* At a control interval with nothing material changed, the allocation in place is kept while it
 * still fits and the new one would change the group's total power by at most KEEP_MARGIN of it
 * (at least KEEP_MARGIN_MIN_W), for at most KEEP_INTERVALS intervals in a row (docs/engine.md). */
#define KEEP_MARGIN 0.05
#define KEEP_MARGIN_MIN_W 1000.0
#define KEEP_INTERVALS 6

typedef struct {
    int64_t tx_id;
    int cp;                   /* index into g->cps */
    int connector;
    int group, site;          /* site: index into the group's sites */
    int64_t start_s, departure_s;
    double requested_wh, delivered_wh, max_w;
    double want_w;            /* the allocation, rounded */
    double next_w;            /* what this run decided to send */
    double sent_w;            /* the limit the charger accepted; UNKNOWN */
    double rising_w;          /* a raise queued or on its way (0: none): counted as held */
    double refused_w;         /* a raise its charger refused or left unanswered (0: none) */
    int64_t refused_ms;       /* when */
    int queued, alive;
} gr_sess;

typedef struct {
    char id[EC_CP_ID_MAX + 1];
    char site[EC_REG_ID_MAX + 1];
    int group;
    int up;
    uint64_t serial;          /* the connection it is up on */
    int accepted;             /* limits accepted on that connection */
    double max_next_w, max_sent_w;
    double max_refused_w;     /* a raise of the maximum refused or left unanswered (0: none) */
    int64_t max_refused_ms;
    int max_queued;
    int inflight;             /* a command out: 1, + 1 when it lowers */
    int64_t inflight_tx;      /* the session it is for; 0: the charge point's maximum */
    double inflight_w;
    int queue[QUEUE], q_head, q_len; /* sessions (index + 1) or 0 for the maximum, in order */
    char status[EC_SHARE_MAX_CONNECTORS + 1][24]; /* what each connector last said; "" nothing */
    int64_t status_ms[EC_SHARE_MAX_CONNECTORS + 1]; /* since when */
} gr_cp;

typedef struct {
    char key[EC_REG_ID_MAX + 8]; /* "sub:ID" or "site:ID" */
    int substation;           /* index into g->subs; -1 none */
    int controlled;           /* some site has a policy and some limit applies */
    int *sites;               /* indices into g->sites */
    int n_sites, cap_sites;
    ec_vec members;           /* int: indices into g->sess of its sessions */
    ec_vec cps;               /* int: indices into g->cps of its charge points */
    int dirty;                /* 2: allocate at once (an arrival, a departure, a limit or a plan changed) */
    int redispatch;           /* a limit was accepted: the raises held back may go now */
    int kept;                 /* control intervals in a row the allocation in place was kept */
    int inflight_dec;
    int64_t run_s;            /* the last allocation, for the API */
    double price;             /* the price last published; NAN none */
} gr_group;

typedef struct {
    ec_site_power_t p;
    ec_alloc_algo algo;
    int group;                /* -1 until a session or charge point needs it */
    int queued;               /* trucks waiting for a connector (ARRIVE less LEAVE) */
} gr_site;

struct ec_share {
    void (*emit)(void *, const ec_share_cmd_t *);
    void *ctx;
    ec_vec sess, cps, groups, sites, subs; /* gr_sess, gr_cp, gr_group, gr_site, ec_substation_power_t */
    ec_map by_tx, by_cp, by_group, by_site, by_sub;
    size_t dead;
    size_t tick_next;         /* the group the next tick looks at first */
    int64_t now_ms;
    ec_share_stats_t stats;
};

static uint64_t h(const char *s)
{
    return ec_hash_bytes(s, strlen(s));
}

#define SESS(g, i) (&EC_VEC_AT(&(g)->sess, gr_sess, (i)))
#define CP(g, i) (&EC_VEC_AT(&(g)->cps, gr_cp, (i)))
#define GROUP(g, i) (&EC_VEC_AT(&(g)->groups, gr_group, (i)))
#define SITE(g, i) (&EC_VEC_AT(&(g)->sites, gr_site, (i)))
#define SUB(g, i) (&EC_VEC_AT(&(g)->subs, ec_substation_power_t, (i)))
#define MEMBERS(gr, k, i) for (size_t k = 0, i = 0; k < (gr)->members.len && ((i = (size_t)EC_VEC_AT(&(gr)->members, int, k)), 1); k++)
#define GROUP_CPS(gr, k, i) for (size_t k = 0, i = 0; k < (gr)->cps.len && ((i = (size_t)EC_VEC_AT(&(gr)->cps, int, k)), 1); k++)

static void list_add(ec_vec *v, int x)
{
    for (size_t i = 0; i < v->len; i++)
        if (EC_VEC_AT(v, int, i) == x) return;
    ec_vec_push(v, &x);
}

static void list_del(ec_vec *v, int x)
{
    for (size_t i = 0; i < v->len; i++)
        if (EC_VEC_AT(v, int, i) == x) {
            EC_VEC_AT(v, int, i) = EC_VEC_AT(v, int, v->len - 1);
            v->len--;
            return;
        }
}

static int find_site(const ec_share *g, const char *id)
{
    uint64_t v;
    if (!id || !ec_map_get(&g->by_site, h(id), &v) || !v) return -1;
    return strcmp(SITE(g, v - 1)->p.id, id) ? -1 : (int)v - 1;
}

static int find_sub(const ec_share *g, const char *id)
{
    uint64_t v;
    if (!id || !*id || !ec_map_get(&g->by_sub, h(id), &v) || !v) return -1;
    return strcmp(SUB(g, v - 1)->id, id) ? -1 : (int)v - 1;
}

static int find_cp(const ec_share *g, const char *id)
{
    uint64_t v;
    if (!ec_map_get(&g->by_cp, h(id), &v) || !v) return -1;
    return strcmp(CP(g, v - 1)->id, id) ? -1 : (int)v - 1;
}

static int find_tx(const ec_share *g, int64_t tx)
{
    uint64_t v;
    return ec_map_get(&g->by_tx, (uint64_t)tx, &v) && v ? (int)v - 1 : -1;
}

static void mark(ec_share *g, int group)
{
    if (group >= 0) GROUP(g, group)->dirty = 2;
}

/* ---- the register's power -------------------------------------------------------------- */

/* A group's limits: the substation's capacity less the others' load plus the renewables, else
 * the sum of its sites' connections (a site without one counts as unlimited). */
/* What the group's headroom is made of: its substation's power, else its sites' connections. */
static ec_share_limits_t group_limits(const ec_share *g, const gr_group *gr)
{
    const ec_substation_power_t *sub = gr->substation >= 0 ? SUB(g, gr->substation) : NULL;
    ec_share_limits_t l;
    memset(&l, 0, sizeof l);
    for (int k = 0; k < gr->n_sites; k++) {
        double w = SITE(g, gr->sites[k])->p.limit_w;
        l.sites_w += w > 0 ? w : 1e12;
    }
    l.capacity_w = sub ? sub->capacity_w : 0;
    l.others_w = sub && sub->base_w.n ? &sub->base_w : NULL;
    l.renew_w = sub && sub->renew_w.n ? &sub->renew_w : NULL;
    l.prices = sub && sub->prices.n ? &sub->prices : NULL;
    l.yearly = 1, l.max_periods = EC_SHARE_HORIZON;
    return l;
}

static double headroom_at(const ec_share *g, const gr_group *gr, int64_t t_s)
{
    ec_share_limits_t l = group_limits(g, gr);
    return ec_share_headroom(&l, t_s);
}

static double sub_series(const ec_share *g, const gr_group *gr, int which, int64_t t_s)
{
    if (gr->substation < 0) return 0;
    const ec_substation_power_t *s = SUB(g, gr->substation);
    const ec_series_t *x = which == 0 ? &s->base_w : which == 1 ? &s->renew_w : &s->prices;
    return ec_series_at(x, ec_year_start_s(t_s), t_s, 0);
}

static void group_controlled(ec_share *g, gr_group *gr)
{
    int managed = 0, limited = gr->substation >= 0 && SUB(g, gr->substation)->capacity_w > 0;
    for (int k = 0; k < gr->n_sites; k++) {
        const gr_site *st = SITE(g, gr->sites[k]);
        limited |= st->p.limit_w > 0;
        managed |= st->p.managed && st->algo != EC_ALLOC_UNCONTROLLED;
    }
    gr->controlled = managed && limited;
}

/* The group of site si, made when new; -1 when it cannot be. */
static int group_of(ec_share *g, int si)
{
    if (si < 0) return -1;
    gr_site *st = SITE(g, si);
    if (st->group >= 0) return st->group;
    const char *sub = st->p.substation_id;
    char key[EC_REG_ID_MAX + 8];
    snprintf(key, sizeof key, "%s:%s", *sub ? "sub" : "site", *sub ? sub : st->p.id);
    uint64_t v;
    int gi;
    if (ec_map_get(&g->by_group, h(key), &v) && v && !strcmp(GROUP(g, v - 1)->key, key)) {
        gi = (int)v - 1;
    } else {
        gr_group g0;
        memset(&g0, 0, sizeof g0);
        snprintf(g0.key, sizeof g0.key, "%s", key);
        g0.substation = find_sub(g, sub);
        g0.price = NAN;
        ec_vec_init(&g0.members, sizeof(int));
        ec_vec_init(&g0.cps, sizeof(int));
        if (ec_vec_push(&g->groups, &g0)) return -1;
        gi = (int)g->groups.len - 1;
        ec_map_put(&g->by_group, h(key), (uint64_t)gi + 1);
    }
    gr_group *gr = GROUP(g, gi);
    if (gr->n_sites == gr->cap_sites) {
        int cap = gr->cap_sites ? gr->cap_sites * 2 : 4;
        int *ns = ec_realloc(gr->sites, (size_t)cap * sizeof *ns);
        if (!ns) return -1;
        gr->sites = ns, gr->cap_sites = cap;
    }
    gr->sites[gr->n_sites++] = si;
    st->group = gi;
    group_controlled(g, gr);
    mark(g, gi);
    return gi;
}

static ec_err on_site(ec_share *g, const ec_site_power_t *p)
{
    if (!p || !p->id[0]) return EC_EINVAL;
    int si = find_site(g, p->id);
    if (si < 0) {
        gr_site st;
        memset(&st, 0, sizeof st);
        st.group = -1;
        if (ec_vec_push(&g->sites, &st)) return EC_ENOMEM;
        si = (int)g->sites.len - 1;
        ec_map_put(&g->by_site, h(p->id), (uint64_t)si + 1);
    }
    gr_site *st = SITE(g, si);
    /* A site keeps the group it was first seen in (docs/engine.md). */
    char sub[EC_REG_ID_MAX + 1];
    snprintf(sub, sizeof sub, "%s", st->p.substation_id);
    int had = st->p.id[0] != 0;
    ec_err rc = ec_site_power_copy(&st->p, p);
    if (rc) return rc;
    if (had) snprintf(st->p.substation_id, sizeof st->p.substation_id, "%s", sub);
    if (ec_alloc_algo_parse(st->p.algo, &st->algo)) st->algo = EC_ALLOC_OPT;
    if (!st->p.managed) st->algo = EC_ALLOC_UNCONTROLLED;
    if (st->group >= 0) {
        group_controlled(g, GROUP(g, st->group));
        mark(g, st->group);
    } else {
        group_of(g, si); /* every site known is in a group, for the queries */
    }
    return EC_OK;
}

static ec_err on_substation(ec_share *g, const ec_substation_power_t *p)
{
    if (!p || !p->id[0]) return EC_EINVAL;
    int bi = find_sub(g, p->id);
    if (bi < 0) {
        ec_substation_power_t z;
        memset(&z, 0, sizeof z);
        if (ec_vec_push(&g->subs, &z)) return EC_ENOMEM;
        bi = (int)g->subs.len - 1;
        ec_map_put(&g->by_sub, h(p->id), (uint64_t)bi + 1);
    }
    ec_err rc = ec_substation_power_copy(SUB(g, bi), p);
    if (rc) return rc;
    for (size_t gi = 0; gi < g->groups.len; gi++) {
        gr_group *gr = GROUP(g, (int)gi);
        if (strncmp(gr->key, "sub:", 4) || strcmp(gr->key + 4, p->id)) continue;
        gr->substation = bi;
        group_controlled(g, gr);
        mark(g, (int)gi);
    }
    return EC_OK;
}

/* ---- commands ----------------------------------------------------------------------------- */

/* 1 when item was queued; 0 when the queue is full (its flag stays clear, so the next run queues
 * it again). */
static int enqueue(gr_cp *c, int item)
{
    if (c->q_len == QUEUE) return 0;
    c->queue[(c->q_head + c->q_len++) % QUEUE] = item;
    return 1;
}

/* The most a session may draw now: the limit its charger accepted, else
 * what its charge point's maximum allows, else its EVSE's power. */
static double eff_sess(const ec_share *g, const gr_sess *s)
{
    double e;
    if (s->sent_w >= 0) {
        e = s->sent_w;
    } else {
        const gr_cp *c = CP(g, s->cp);
        double cpmax = c->max_sent_w;
        /* A raise of the maximum on its way counts as held. */
        if (cpmax >= 0 && c->inflight && !c->inflight_tx && c->inflight_w > cpmax) cpmax = c->inflight_w;
        e = cpmax >= 0 && cpmax < s->max_w ? cpmax : s->max_w;
    }
    return s->rising_w > e ? s->rising_w : e;
}

/* Whether what the sessions of group gi hold now (a raise about to go counted) fits its headroom. */
static int fits(const ec_share *g, int gi)
{
    if (gi < 0) return 1;
    const gr_group *gr = GROUP(g, gi);
    double held = 0;
    MEMBERS(gr, k, i) held += eff_sess(g, SESS(g, i));
    return held <= headroom_at(g, gr, g->now_ms / 1000) + 0.5;
}

static int period_of(const ec_share *g, const gr_group *gr);

/* Whether raise w (of session s, or of charge point c's maximum when s is NULL) was refused or
 * left unanswered within the group's control interval: the same raise is not sent again before
 * the next interval, however often the group runs meanwhile (a charger that said no a
 * millisecond ago says no again). A lowering is always sent again, the limits depend on it. */
static int refused_lately(const ec_share *g, const gr_cp *c, const gr_sess *s, double w)
{
    double rw = s ? s->refused_w : c->max_refused_w;
    int64_t at = s ? s->refused_ms : c->max_refused_ms;
    if (rw <= 0 || fabs(w - rw) >= 1 || c->group < 0) return 0;
    return g->now_ms - at < (int64_t)period_of(g, GROUP(g, c->group)) * 1000;
}

/* Sends the next queued limit of charge point ci, if nothing is out to it. */
static void pump(ec_share *g, int ci)
{
    gr_cp *c = CP(g, ci);
    if (!c->up || c->inflight) return;
    while (c->q_len) {
        int item = c->queue[c->q_head];
        c->q_head = (c->q_head + 1) % QUEUE, c->q_len--;
        double w, sent;
        int64_t tx = 0;
        int connector = 0;
        if (item == 0) {
            c->max_queued = 0;
            w = c->max_next_w, sent = c->max_sent_w;
        } else {
            gr_sess *s = SESS(g, item - 1);
            s->queued = 0;
            if (!s->alive || s->cp != ci) continue;
            w = s->next_w, sent = s->sent_w, tx = s->tx_id, connector = s->connector;
        }
        if (w < 0 || (sent >= 0 && fabs(w - sent) < 1)) {
            if (item) SESS(g, item - 1)->rising_w = 0;
            continue;
        }
        int lowers = sent < 0 || w < sent;
        if (!lowers && refused_lately(g, c, item ? SESS(g, item - 1) : NULL, w)) {
            if (item) SESS(g, item - 1)->rising_w = 0;
            continue;
        }
        if (!lowers) {
            /* A raise decided in an earlier run goes only if it still fits: since then a session
             * may have started with no limit, the headroom may have fallen, or the maximum it was
             * reckoned against may have been accepted lower. Else the next run decides again. */
            int ok;
            if (item) {
                gr_sess *s = SESS(g, item - 1);
                if (w > s->rising_w) s->rising_w = w;
                ok = fits(g, c->group);
                if (!ok) s->rising_w = 0;
            } else {
                c->max_sent_w = w;
                ok = fits(g, c->group);
                c->max_sent_w = sent;
            }
            if (!ok) { /* sent again from the allocation in place, into the room there is then */
                if (c->group >= 0) GROUP(g, c->group)->redispatch = 1;
                continue;
            }
        }
        ec_share_cmd_t cmd;
        memset(&cmd, 0, sizeof cmd);
        cmd.kind = EC_SC_LIMIT, cmd.t_ms = g->now_ms, cmd.connector = connector, cmd.tx = tx;
        cmd.limit_w = floor(w), cmd.lowers = lowers;
        snprintf(cmd.cp, sizeof cmd.cp, "%s", c->id);
        c->inflight = 1 + lowers, c->inflight_tx = tx, c->inflight_w = w;
        if (lowers && c->group >= 0) GROUP(g, c->group)->inflight_dec++;
        g->stats.commands++;
        g->emit(g->ctx, &cmd);
        return;
    }
}

static void on_result(ec_share *g, const ec_share_event_t *ev)
{
    int ci = find_cp(g, ev->cp);
    if (ci < 0) return;
    gr_cp *c = CP(g, ci);
    if (!c->inflight) return;
    int si = c->inflight_tx ? find_tx(g, c->inflight_tx) : -1;
    gr_sess *s = si >= 0 ? SESS(g, si) : NULL;
    if (s) s->rising_w = 0;
    if (c->inflight == 1) { /* a raise: remembered when not accepted, so not sent again at once */
        double rw = ev->accepted == 1 ? 0 : c->inflight_w;
        if (!c->inflight_tx) c->max_refused_w = rw, c->max_refused_ms = g->now_ms;
        else if (s) s->refused_w = rw, s->refused_ms = g->now_ms;
    }
    if (ev->accepted == 1) {
        g->stats.accepted++;
        c->accepted++;
        if (!c->inflight_tx) c->max_sent_w = c->inflight_w;
        else if (s) s->sent_w = c->inflight_w;
    } else if (ev->accepted < 0) {
        /* No answer (a timeout, an error, the connection gone): the charger may have applied it.
         * What it holds is counted at the higher of the two until a later answer says. */
        g->stats.refused++;
        if (!c->inflight_tx) {
            if (c->max_sent_w >= 0 && c->inflight_w > c->max_sent_w) c->max_sent_w = c->inflight_w;
        } else if (s && s->sent_w >= 0 && c->inflight_w > s->sent_w) {
            s->sent_w = c->inflight_w;
        }
    } else {
        g->stats.refused++;
    }
    if (c->group >= 0) {
        gr_group *gr = GROUP(g, c->group);
        if (c->inflight == 2 && gr->inflight_dec > 0) gr->inflight_dec--;
        /* Raises held back may follow an accepted limit at once, from the allocation already
         * made: an answer is not a reason to allocate again (that moved the power between
         * sessions with every answer). After a refusal the next control interval tries again. */
        if (ev->accepted == 1) gr->redispatch = 1;
    }
    c->inflight = 0;
    pump(g, ci);
}

/* ---- charge points and sessions ------------------------------------------------------------ */

static int cp_index(ec_share *g, const char *id, int make)
{
    int ci = find_cp(g, id);
    if (ci >= 0 || !make) return ci;
    gr_cp c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    c.group = -1, c.max_sent_w = UNKNOWN;
    if (ec_vec_push(&g->cps, &c)) return -1;
    ec_map_put(&g->by_cp, h(id), g->cps.len);
    return (int)g->cps.len - 1;
}

static double evse_w(const ec_site_power_t *p, const char *uid)
{
    for (int e = 0; uid && *uid && e < p->n_evse; e++)
        if (!strcmp(p->evse[e].uid, uid) && p->evse[e].max_w > 0) return p->evse[e].max_w;
    return 0;
}

static void compact(ec_share *g)
{
    if (g->dead < 1024 || g->dead * 2 < g->sess.len) return;
    size_t w = 0;
    ec_map_free(&g->by_tx);
    ec_map_init(&g->by_tx, g->sess.len - g->dead);
    for (size_t r = 0; r < g->sess.len; r++) {
        gr_sess *s = SESS(g, r);
        if (!s->alive) continue;
        if (w != r) *SESS(g, w) = *s;
        SESS(g, w)->queued = 0;
        ec_map_put(&g->by_tx, (uint64_t)SESS(g, w)->tx_id, w + 1);
        w++;
    }
    g->sess.len = w, g->dead = 0;
    for (size_t gi = 0; gi < g->groups.len; gi++) GROUP(g, gi)->members.len = 0;
    for (size_t i = 0; i < g->sess.len; i++) {
        int x = (int)i;
        ec_vec_push(&GROUP(g, SESS(g, x)->group)->members, &x);
    }
    for (size_t i = 0; i < g->cps.len; i++) { /* the queues named old places: the next run queues again */
        gr_cp *c = CP(g, i);
        c->q_len = 0, c->max_queued = 0;
        mark(g, c->group);
    }
}

static void on_tx_start(ec_share *g, const ec_share_event_t *ev)
{
    if (find_tx(g, ev->tx) >= 0) return;
    int si = find_site(g, ev->site), gi = group_of(g, si);
    int ci = cp_index(g, ev->cp, 1);
    if (gi < 0 || ci < 0) return;
    gr_group *gr = GROUP(g, gi);
    const ec_site_power_t *p = &SITE(g, si)->p;
    int site = 0;
    while (site < gr->n_sites && gr->sites[site] != si) site++;
    gr_sess s;
    memset(&s, 0, sizeof s);
    s.tx_id = ev->tx, s.cp = ci, s.connector = ev->connector, s.group = gi, s.site = site;
    s.start_s = ev->start_s, s.sent_w = UNKNOWN, s.alive = 1;
    const char *uid = ev->connector >= 0 && ev->connector <= EC_SHARE_MAX_CONNECTORS ? ev->evse_uid[ev->connector] : NULL;
    double w = evse_w(p, uid);
    s.max_w = w > 0 ? w : EC_SHARE_DEFAULT_MAX_W;
    s.departure_s = ev->start_s + (int64_t)p->dwell_min * 60;
    s.requested_wh = p->default_wh > 0 ? p->default_wh : s.max_w * p->dwell_min / 60.0;
    s.delivered_wh = ev->delivered_wh;
    if (ev->requested_wh >= 0) s.requested_wh = ev->requested_wh;
    if (ev->departure_s > 0) s.departure_s = ev->departure_s;
    int x = (int)g->sess.len;
    if (ec_vec_push(&g->sess, &s)) return;
    ec_map_put(&g->by_tx, (uint64_t)ev->tx, g->sess.len);
    ec_vec_push(&gr->members, &x);
    gr_cp *c = CP(g, ci);
    if (c->group < 0) {
        c->group = gi, snprintf(c->site, sizeof c->site, "%s", ev->site);
        list_add(&gr->cps, ci);
    }
    mark(g, gi);
}

static void on_tx(ec_share *g, const ec_share_event_t *ev)
{
    int x = find_tx(g, ev->tx);
    if (x < 0) return;
    gr_sess *s = SESS(g, x);
    if (ev->kind == EC_SE_TX_STOP) {
        s->alive = 0;
        list_del(&GROUP(g, s->group)->members, x);
        ec_map_put(&g->by_tx, (uint64_t)ev->tx, 0);
        g->dead++;
        mark(g, s->group);
        compact(g);
        return;
    }
    if (ev->kind == EC_SE_PLAN) {
        if (ev->requested_wh >= 0) s->requested_wh = ev->requested_wh;
        if (ev->departure_s > 0) s->departure_s = ev->departure_s;
        mark(g, s->group);
        return;
    }
    /* A meter reading only updates what the session still needs: the next control interval
     * allocates with it. Allocating on every reading moved the whole limit between sessions
     * each time one of them reported (docs/engine.md). */
    s->delivered_wh = ev->delivered_wh;
}

static void on_cp(ec_share *g, const ec_share_event_t *ev)
{
    int up = ev->kind == EC_SE_CP_UP;
    int ci = cp_index(g, ev->cp, up);
    if (ci < 0) return;
    gr_cp *c = CP(g, ci);
    /* Booting right after connecting, before any limit was accepted: nothing is lost. */
    if (up && c->up && c->serial == ev->serial && !c->accepted) {
        mark(g, c->group);
        return;
    }
    c->up = up;
    c->serial = ev->serial, c->accepted = 0;
    c->inflight = 0, c->q_len = 0, c->max_queued = 0;
    int si = -1;
    if (up) {
        si = find_site(g, ev->site);
        int gi = group_of(g, si);
        c = CP(g, ci);
        if (gi != c->group && c->group >= 0) list_del(&GROUP(g, c->group)->cps, ci);
        c->group = gi;
        if (gi >= 0) list_add(&GROUP(g, gi)->cps, ci);
        snprintf(c->site, sizeof c->site, "%s", ev->site);
    }
    /* A charger that booted has lost its limits; one that left may come back without them.
     * Its sessions learn their EVSE's power (resumed ones did not know it). */
    c->max_sent_w = UNKNOWN, c->max_refused_w = 0;
    for (size_t gi = 0; gi < g->groups.len; gi++) {
        gr_group *gr = GROUP(g, gi);
        MEMBERS(gr, k, i) {
            gr_sess *s = SESS(g, i);
            if (s->cp != ci) continue;
            s->sent_w = UNKNOWN, s->queued = 0, s->rising_w = 0, s->refused_w = 0;
            if (!up || s->connector < 0 || s->connector > EC_SHARE_MAX_CONNECTORS) continue;
            double w = evse_w(&SITE(g, gr->sites[s->site])->p, ev->evse_uid[s->connector]);
            if (w > 0) s->max_w = w;
        }
    }
    if (c->group >= 0) {
        gr_group *gr = GROUP(g, c->group);
        gr->inflight_dec = 0;
        GROUP_CPS(gr, k, i) if (CP(g, i)->inflight == 2) gr->inflight_dec++;
        mark(g, c->group);
    }
}

double ec_share_headroom(const ec_share_limits_t *l, int64_t t_s)
{
    /* The others and the renewables count against a substation's capacity, not against the sites'
     * own connections. */
    if (l->capacity_w <= 0) return l->sites_w;
    int64_t o = l->yearly ? ec_year_start_s(t_s) : 0;
    return l->capacity_w - ec_series_at(l->others_w, o, t_s, 0) + ec_series_at(l->renew_w, o, t_s, 0);
}

void ec_share_horizon(const ec_share_limits_t *l, const ec_alloc_session_t *s, size_t n, int64_t now_s,
                      int64_t period_s, double *head, double *other, double *price, ec_alloc_grid_t *out)
{
    int64_t horizon = now_s + period_s;
    for (size_t i = 0; i < n; i++)
        if (s[i].departure_s > horizon) horizon = s[i].departure_s;
    size_t np = period_s > 0 ? (size_t)((horizon - now_s + period_s - 1) / period_s) : 1;
    if (np < 1) np = 1;
    if (np > l->max_periods) np = l->max_periods;
    for (size_t p = 0; p < np; p++) {
        int64_t t = now_s + (int64_t)p * period_s, o = l->yearly ? ec_year_start_s(t) : 0;
        other[p] = ec_series_at(l->others_w, o, t, 0);
        head[p] = ec_share_headroom(l, t);
        price[p] = ec_series_at(l->prices, o, t, 0);
    }
    head[0] += l->now_extra_w;
    memset(out, 0, sizeof *out);
    out->now_s = now_s, out->period_s = period_s, out->n_periods = np, out->headroom_w = head;
    out->other_w = l->others_w ? other : NULL;
    out->price = l->prices ? price : NULL;
}

/* ---- allocation ----------------------------------------------------------------------------- */

static int period_of(const ec_share *g, const gr_group *gr)
{
    int period = 60;
    for (int k = 0; k < gr->n_sites; k++) {
        int iv = SITE(g, gr->sites[k])->p.interval_s;
        if (iv > 0 && (k == 0 || iv < period)) period = iv;
    }
    return period;
}

static int cp_managed(const ec_share *g, const gr_group *gr, const gr_cp *c)
{
    for (int k = 0; k < gr->n_sites; k++) {
        const gr_site *st = SITE(g, gr->sites[k]);
        if (!strcmp(st->p.id, c->site)) return st->algo != EC_ALLOC_UNCONTROLLED;
    }
    return 0;
}

static double charging_now(const ec_share *g, const gr_group *gr)
{
    double charging = 0;
    MEMBERS(gr, k, i) charging += SESS(g, i)->want_w;
    return charging;
}

/* The price of energy at the group's substation at t: the wholesale price, plus the congestion
 * component, which rises linearly from 0 at the threshold share of capacity to the congestion
 * price at full load. The load: the base load less the renewables, plus the charging given. */
static void slot_price(const ec_share *g, const gr_group *gr, int64_t t, double charging, double *wholesale,
                       double *cong, double *share)
{
    const ec_substation_power_t *s = gr->substation >= 0 ? SUB(g, gr->substation) : NULL;
    *wholesale = sub_series(g, gr, 2, t);
    double load = sub_series(g, gr, 0, t) - sub_series(g, gr, 1, t) + charging;
    *share = s && s->capacity_w > 0 ? load / s->capacity_w : 0;
    *cong = s ? ec_congestion_price(*share, s->cong_threshold, s->cong_price) : 0;
}

/* What session j may still use of the allocation in place: no more than its EVSE's power, nor
 * than its remaining energy needs over one period. */
static double in_place_w(const gr_sess *s, const ec_alloc_session_t *a, int period)
{
    double cap = a->remaining_wh * 3600.0 / period;
    if (cap > a->max_w) cap = a->max_w;
    cap = floor(cap / EC_SHARE_QUANTUM_W) * EC_SHARE_QUANTUM_W;
    return s->want_w < cap ? s->want_w : cap;
}

/* Whether the allocation in place, each session held to what it may still use (in_place_w), is
 * kept instead of the new one in w: when it fits the headroom and every site's connection, and
 * the group's total differs from the new one's by no more than the margin. Optimisers and
 * laxity orders break ties between sessions by what each still needs, which every meter
 * reading changes; without this the whole limit moved between sessions every interval while
 * nothing material had changed. When kept, the sessions are held to in_place_w. */
static int keep_in_place(ec_share *g, gr_group *gr, const ec_alloc_session_t *as, const int *which, size_t n,
                         const double *w, double head_w, int period)
{
    if (gr->kept >= KEEP_INTERVALS || !n) return 0;
    double *site_w = ec_calloc((size_t)gr->n_sites, sizeof *site_w);
    if (!site_w) return 0;
    double old_w = 0, new_w = 0;
    int fit = 1, same = 1;
    for (size_t j = 0; j < n; j++) {
        double x = in_place_w(SESS(g, which[j]), &as[j], period);
        old_w += x, new_w += w[j];
        site_w[as[j].site] += x;
        same &= fabs(x - w[j]) < 0.5;
    }
    for (int k = 0; k < gr->n_sites && fit; k++) {
        double lim = SITE(g, gr->sites[k])->p.limit_w;
        fit = lim <= 0 || site_w[k] <= lim + 0.5;
    }
    ec_free(site_w);
    double margin = KEEP_MARGIN * (old_w > new_w ? old_w : new_w);
    if (margin < KEEP_MARGIN_MIN_W) margin = KEEP_MARGIN_MIN_W;
    if (same || !fit || old_w > head_w + 0.5 || fabs(new_w - old_w) > margin) return 0;
    for (size_t j = 0; j < n; j++) {
        gr_sess *s = SESS(g, which[j]);
        s->want_w = in_place_w(s, &as[j], period);
    }
    return 1;
}

/* A run allocates the group again when something material changed (an arrival, a departure, a
 * limit, a plan, a charger that came or went) or its control interval is up; otherwise (a limit
 * was accepted) it only sends what the allocation in place still holds back. */
static void run_group(ec_share *g, int gi)
{
    gr_group *gr = GROUP(g, gi);
    int64_t now_s = g->now_ms / 1000;
    int fresh = gr->dirty == 2 || !gr->run_s;
    int allocate = fresh || now_s - gr->run_s >= period_of(g, gr);
    gr->dirty = 0, gr->redispatch = 0;
    if (!gr->controlled) return;
    size_t n = gr->members.len;
    ec_alloc_session_t *as = n ? ec_calloc(n, sizeof *as) : NULL;
    int *which = n ? ec_malloc(n * sizeof *which) : NULL;
    double *w = n ? ec_malloc(n * sizeof *w) : NULL;
    double head[EC_SHARE_HORIZON], price[EC_SHARE_HORIZON], other[EC_SHARE_HORIZON];
    if (n && (!as || !which || !w)) goto done;
    int period = period_of(g, gr);
    size_t k = 0;
    MEMBERS(gr, mk, i) {
        gr_sess *s = SESS(g, i);
        double left = s->requested_wh - s->delivered_wh;
        /* A session past its departure still charging keeps a short horizon. */
        int64_t dep = s->departure_s > now_s + period ? s->departure_s : now_s + period;
        as[k] = (ec_alloc_session_t){s->start_s, dep, left > 0 ? left : 0, s->max_w, s->site, 0, 0};
        which[k++] = (int)i;
    }
    if (!allocate) {
        head[0] = headroom_at(g, gr, now_s);
        goto dispatch;
    }
    ec_alloc_site_t *sites = ec_malloc((size_t)gr->n_sites * sizeof *sites);
    if (!sites) goto done;
    ec_share_limits_t lim = group_limits(g, gr);
    ec_alloc_grid_t grid;
    ec_share_horizon(&lim, as, n, now_s, period, head, other, price, &grid);
    for (int s = 0; s < gr->n_sites; s++) {
        const gr_site *st = SITE(g, gr->sites[s]);
        sites[s] = (ec_alloc_site_t){st->algo, st->p.limit_w};
    }
    if (n) ec_alloc_sites(sites, (size_t)gr->n_sites, as, n, &grid, w);
    ec_free(sites);
    g->stats.allocations++;
    gr->run_s = now_s;
    for (size_t j = 0; j < n; j++) w[j] = floor((w[j] > 0 ? w[j] : 0) / EC_SHARE_QUANTUM_W) * EC_SHARE_QUANTUM_W;
    if (!fresh && keep_in_place(g, gr, as, which, n, w, head[0], period)) {
        gr->kept++;
    } else {
        gr->kept = 0;
        for (size_t j = 0; j < n; j++) SESS(g, which[j])->want_w = w[j];
    }
dispatch:;
    /* Lowerings go at once. Raisings go only into the room the limits held now leave, a lowering
     * counting at its old value until its charger has accepted it: at no moment may the
     * chargers together draw more than the headroom. */
    double held = 0;
    for (size_t j = 0; j < n; j++) held += eff_sess(g, SESS(g, which[j]));
    double spare = head[0] - held;
    GROUP_CPS(gr, gk, i) {
        gr_cp *c = CP(g, i);
        if (!c->up || !cp_managed(g, gr, c)) continue;
        double sum = 0;
        for (size_t j = 0; j < n; j++) {
            gr_sess *s = SESS(g, which[j]);
            if (s->cp != (int)i) continue;
            double eff = eff_sess(g, s), up = 0;
            if (s->want_w < eff - 0.5) {
                s->next_w = s->want_w;
            } else {
                up = s->want_w - eff;
                if (up > spare) up = spare > 0 ? floor(spare / EC_SHARE_QUANTUM_W) * EC_SHARE_QUANTUM_W : 0;
                if (up < 0) up = 0;
                s->next_w = eff + up;
                spare -= up;
            }
            sum += s->next_w;
        }
        c->max_next_w = sum;
        /* In this charger's queue: its lowerings, then its maximum, then its raisings. */
        for (size_t j = 0; j < n; j++) {
            gr_sess *s = SESS(g, which[j]);
            if (s->cp == (int)i && (s->sent_w < 0 || s->next_w < s->sent_w - 0.5) && s->next_w < eff_sess(g, s) - 0.5 &&
                !s->queued)
                s->queued = enqueue(c, which[j] + 1);
        }
        if ((c->max_sent_w < 0 || fabs(c->max_next_w - c->max_sent_w) > 0.5) && !c->max_queued)
            c->max_queued = enqueue(c, 0);
        for (size_t j = 0; j < n; j++) {
            gr_sess *s = SESS(g, which[j]);
            if (s->cp != (int)i || !(s->next_w > s->sent_w + 0.5 && s->next_w > eff_sess(g, s) - 0.5)) continue;
            if (s->next_w > s->rising_w) s->rising_w = s->next_w; /* held from now, also when already queued */
            if (!s->queued) s->queued = enqueue(c, which[j] + 1);
            if (!s->queued) s->rising_w = 0; /* not queued: not held either */
        }
    }
    GROUP_CPS(gr, gk, i) pump(g, (int)i);
    /* The price at the group now, published when it changed. */
    if (gr->substation >= 0) {
        double wholesale, cong, share;
        slot_price(g, gr, now_s, charging_now(g, gr), &wholesale, &cong, &share);
        double p = round((wholesale + cong) * 10000) / 10000;
        if (isnan(gr->price) || fabs(p - gr->price) >= 0.00005) {
            gr->price = p;
            ec_share_cmd_t cmd;
            memset(&cmd, 0, sizeof cmd);
            cmd.kind = EC_SC_PRICE, cmd.t_ms = g->now_ms, cmd.price_per_kwh = p;
            snprintf(cmd.group, sizeof cmd.group, "%s", gr->key);
            g->stats.commands++;
            g->emit(g->ctx, &cmd);
        }
    }
done:
    ec_free(as);
    ec_free(which);
    ec_free(w);
}

/* What a tick at t_ms would do to group gr: 0 nothing, 1 allocate it. */
static int group_due(const ec_share *g, const gr_group *gr, int64_t t_ms)
{
    if (!gr->controlled) return 0; /* nothing to allocate (its flag waits until it is) */
    if (gr->dirty == 2 || gr->redispatch) return 1;
    return gr->controlled && t_ms / 1000 - gr->run_s >= period_of(g, gr);
}

int ec_share_due(const ec_share *g, int64_t t_ms)
{
    for (size_t gi = 0; gi < g->groups.len; gi++)
        if (group_due(g, GROUP(g, gi), t_ms)) return 1;
    return 0;
}

/* A tick allocates at most EC_SHARE_GROUPS_PER_TICK of the groups due, taking them in turn from
 * where the last tick stopped: after a burst (the hub restarted, a substation's capacity changed)
 * the work spreads over the next ticks rather than holding one loop turn. */
static void on_tick(ec_share *g)
{
    size_t n = g->groups.len, ran = 0;
    for (size_t k = 0; k < n && ran < EC_SHARE_GROUPS_PER_TICK; k++) {
        size_t gi = (g->tick_next + k) % n;
        if (!group_due(g, GROUP(g, gi), g->now_ms)) continue;
        run_group(g, (int)gi);
        ran++;
        g->tick_next = (gi + 1) % n;
    }
}

/* ---- life ------------------------------------------------------------------------------------ */

static void clear(ec_share *g)
{
    for (size_t i = 0; i < g->groups.len; i++) {
        ec_vec_free(&GROUP(g, i)->members);
        ec_vec_free(&GROUP(g, i)->cps);
        ec_free(GROUP(g, i)->sites);
    }
    for (size_t i = 0; i < g->sites.len; i++) ec_site_power_free(&SITE(g, i)->p);
    for (size_t i = 0; i < g->subs.len; i++) ec_substation_power_free(SUB(g, i));
    ec_vec_free(&g->sess);
    ec_vec_free(&g->cps);
    ec_vec_free(&g->groups);
    ec_vec_free(&g->sites);
    ec_vec_free(&g->subs);
    ec_map_free(&g->by_tx);
    ec_map_free(&g->by_cp);
    ec_map_free(&g->by_group);
    ec_map_free(&g->by_site);
    ec_map_free(&g->by_sub);
}

static ec_err init(ec_share *g)
{
    ec_vec_init(&g->sess, sizeof(gr_sess));
    ec_vec_init(&g->cps, sizeof(gr_cp));
    ec_vec_init(&g->groups, sizeof(gr_group));
    ec_vec_init(&g->sites, sizeof(gr_site));
    ec_vec_init(&g->subs, sizeof(ec_substation_power_t));
    g->dead = 0, g->tick_next = 0;
    ec_err rc = ec_map_init(&g->by_tx, 64);
    if (!rc) rc = ec_map_init(&g->by_cp, 64);
    if (!rc) rc = ec_map_init(&g->by_group, 16);
    if (!rc) rc = ec_map_init(&g->by_site, 16);
    if (!rc) rc = ec_map_init(&g->by_sub, 16);
    return rc;
}

ec_err ec_share_new(void (*emit)(void *ctx, const ec_share_cmd_t *cmd), void *ctx, ec_share **out)
{
    ec_share *g = ec_calloc(1, sizeof *g);
    if (!g) return EC_ENOMEM;
    g->emit = emit, g->ctx = ctx;
    ec_err rc = init(g);
    if (rc) {
        ec_share_free(g);
        return rc;
    }
    *out = g;
    return EC_OK;
}

void ec_share_free(ec_share *g)
{
    if (!g) return;
    clear(g);
    ec_free(g);
}

ec_err ec_share_feed(ec_share *g, const ec_share_event_t *ev)
{
    if (!ev || ev->kind <= 0 || ev->kind >= EC_SE_COUNT) return EC_EINVAL;
    g->stats.events++;
    if (ev->t_ms > g->now_ms) g->now_ms = ev->t_ms; /* time never goes back in here */
    switch (ev->kind) {
    case EC_SE_RESET: {
        ec_share_stats_t keep = g->stats;
        clear(g);
        ec_err rc = init(g);
        g->stats = keep;
        return rc;
    }
    case EC_SE_SITE: return on_site(g, ev->site_power);
    case EC_SE_SUBSTATION: return on_substation(g, ev->substation_power);
    case EC_SE_CP_UP:
    case EC_SE_CP_DOWN: on_cp(g, ev); return EC_OK;
    case EC_SE_TX_START: on_tx_start(g, ev); return EC_OK;
    case EC_SE_TX_METER:
    case EC_SE_TX_STOP:
    case EC_SE_PLAN: on_tx(g, ev); return EC_OK;
    case EC_SE_RESULT: on_result(g, ev); return EC_OK;
    case EC_SE_TICK: on_tick(g); return EC_OK;
    case EC_SE_STATUS: {
        if (ev->connector < 0 || ev->connector > EC_SHARE_MAX_CONNECTORS || !ev->status[0]) return EC_EINVAL;
        int ci = cp_index(g, ev->cp, 1);
        if (ci < 0) return EC_ENOMEM;
        gr_cp *c = CP(g, ci);
        if (strcmp(c->status[ev->connector], ev->status)) {
            snprintf(c->status[ev->connector], sizeof c->status[0], "%s", ev->status);
            c->status_ms[ev->connector] = g->now_ms;
        }
        return EC_OK;
    }
    case EC_SE_ARRIVE:
    case EC_SE_LEAVE: {
        if (!ev->vehicle[0]) return EC_EINVAL;
        int si = find_site(g, ev->site);
        if (si < 0) return EC_OK; /* a queue at a site the engine was never told of counts nowhere */
        gr_site *st = SITE(g, si);
        if (ev->kind == EC_SE_ARRIVE) st->queued++;
        else if (st->queued > 0) st->queued--;
        return EC_OK;
    }
    default: return EC_EINVAL;
    }
}

int ec_share_queue(const ec_share *g, const char *site)
{
    int si = find_site(g, site);
    return si < 0 ? 0 : SITE(g, si)->queued;
}

ec_share_stats_t ec_share_stats(const ec_share *g)
{
    return g->stats;
}

const ec_site_power_t *ec_share_site(const ec_share *g, const char *id)
{
    int si = find_site(g, id);
    return si < 0 ? NULL : &SITE(g, si)->p;
}

const ec_substation_power_t *ec_share_substation(const ec_share *g, const char *id)
{
    int bi = find_sub(g, id);
    return bi < 0 ? NULL : SUB(g, bi);
}

const char *ec_share_site_at(const ec_share *g, size_t i)
{
    return i < g->sites.len ? SITE(g, i)->p.id : NULL;
}

const char *ec_share_substation_at(const ec_share *g, size_t i)
{
    return i < g->subs.len ? SUB(g, i)->id : NULL;
}

int ec_share_tx(const ec_share *g, int64_t tx, double *delivered_wh)
{
    int x = find_tx(g, tx);
    if (x >= 0 && delivered_wh) *delivered_wh = SESS(g, x)->delivered_wh;
    return x >= 0;
}

int ec_share_status(const ec_share *g, const char *cp, int connector, char status[24], int64_t *since_ms)
{
    int ci = find_cp(g, cp);
    if (ci < 0 || connector < 0 || connector > EC_SHARE_MAX_CONNECTORS || !CP(g, ci)->status[connector][0]) return 0;
    snprintf(status, 24, "%s", CP(g, ci)->status[connector]);
    if (since_ms) *since_ms = CP(g, ci)->status_ms[connector];
    return 1;
}

int ec_share_cp(const ec_share *g, const char *cp, int *waiting)
{
    int ci = find_cp(g, cp);
    if (ci >= 0 && waiting) *waiting = CP(g, ci)->inflight != 0;
    return ci >= 0;
}

/* ---- queries ---------------------------------------------------------------------------------- */

static double kw(double w)
{
    return w / 1000.0;
}

static int group_for(const ec_share *g, const char *site, const char *substation)
{
    if (site) {
        int si = find_site(g, site);
        return si < 0 ? -1 : SITE(g, si)->group;
    }
    char key[EC_REG_ID_MAX + 8];
    snprintf(key, sizeof key, "sub:%s", substation ? substation : "");
    uint64_t v;
    if (!ec_map_get(&g->by_group, h(key), &v) || !v || strcmp(GROUP(g, v - 1)->key, key)) return -1;
    return (int)v - 1;
}

/* A group's figures at now: the allocation's answer and the grid's minutes read these, once. */
static void group_totals(const ec_share *g, const gr_group *gr, int64_t now, ec_share_sample_t *out)
{
    memset(out, 0, sizeof *out);
    out->capacity_w = gr->substation >= 0 ? SUB(g, gr->substation)->capacity_w : 0;
    out->base_load_w = sub_series(g, gr, 0, now);
    out->renewables_w = sub_series(g, gr, 1, now);
    out->headroom_w = headroom_at(g, gr, now);
    MEMBERS(gr, mk, i) {
        out->allocated_w += SESS(g, i)->want_w;
        out->held_w += eff_sess(g, SESS(g, i));
    }
}

ec_err ec_share_group_json(const ec_share *g, const char *site, const char *substation, int64_t t_ms, ec_buf *out)
{
    int gi = group_for(g, site, substation);
    if (gi < 0) return EC_ENOTFOUND;
    const gr_group *gr = GROUP(g, gi);
    int64_t now = t_ms / 1000;
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "group"), ec_jw_str(&w, gr->key);
    ec_jw_key(&w, "substation_id");
    if (!strncmp(gr->key, "sub:", 4)) ec_jw_str(&w, gr->key + 4);
    else ec_jw_null(&w);
    ec_jw_key(&w, "controlled"), ec_jw_bool(&w, gr->controlled);
    ec_share_sample_t tot;
    group_totals(g, gr, now, &tot);
    ec_jw_key(&w, "capacity_kw"), ec_jw_num(&w, kw(tot.capacity_w), 3);
    ec_jw_key(&w, "base_load_kw"), ec_jw_num(&w, kw(tot.base_load_w), 3);
    ec_jw_key(&w, "renewables_kw"), ec_jw_num(&w, kw(tot.renewables_w), 3);
    ec_jw_key(&w, "sites"), ec_jw_arr_begin(&w);
    for (int k = 0; k < gr->n_sites; k++) {
        const gr_site *st = SITE(g, gr->sites[k]);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "site_id"), ec_jw_str(&w, st->p.id);
        ec_jw_key(&w, "algo"), ec_jw_str(&w, ec_alloc_algo_name(st->algo));
        ec_jw_key(&w, "grid_limit_kw");
        if (st->p.limit_w > 0) ec_jw_num(&w, kw(st->p.limit_w), 3);
        else ec_jw_null(&w);
        double load = 0;
        MEMBERS(gr, mk, i) if (SESS(g, i)->site == k) load += SESS(g, i)->want_w;
        ec_jw_key(&w, "allocated_kw"), ec_jw_num(&w, kw(load), 3);
        ec_jw_obj_end(&w);
    }
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "sessions"), ec_jw_arr_begin(&w);
    MEMBERS(gr, mk, i) {
        const gr_sess *s = SESS(g, i);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "transaction_id"), ec_jw_int(&w, s->tx_id);
        ec_jw_key(&w, "charge_point_id"), ec_jw_str(&w, CP(g, s->cp)->id);
        ec_jw_key(&w, "connector_id"), ec_jw_int(&w, s->connector);
        ec_jw_key(&w, "site_id"), ec_jw_str(&w, SITE(g, gr->sites[s->site])->p.id);
        ec_jw_key(&w, "max_kw"), ec_jw_num(&w, kw(s->max_w), 3);
        ec_jw_key(&w, "allocated_kw"), ec_jw_num(&w, kw(s->want_w), 3);
        ec_jw_key(&w, "limit_kw");
        if (s->sent_w >= 0) ec_jw_num(&w, kw(s->sent_w), 3);
        else ec_jw_null(&w);
        ec_jw_key(&w, "requested_kwh"), ec_jw_num(&w, kw(s->requested_wh), 3);
        ec_jw_key(&w, "delivered_kwh"), ec_jw_num(&w, kw(s->delivered_wh), 3);
        char t[32];
        ec_time_format_iso(s->departure_s, t, sizeof t);
        ec_jw_key(&w, "departure"), ec_jw_str(&w, t);
        ec_jw_obj_end(&w);
    }
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "headroom_kw"), ec_jw_num(&w, kw(tot.headroom_w), 3);
    ec_jw_key(&w, "allocated_kw"), ec_jw_num(&w, kw(tot.allocated_w), 3);
    ec_jw_key(&w, "held_kw"), ec_jw_num(&w, kw(tot.held_w), 3);
    ec_jw_key(&w, "spare_kw"), ec_jw_num(&w, kw(tot.headroom_w - tot.allocated_w), 3);
    ec_jw_key(&w, "lowerings_outstanding"), ec_jw_int(&w, gr->inflight_dec);
    char t[32];
    ec_time_format_iso(gr->run_s, t, sizeof t);
    ec_jw_key(&w, "allocated_at");
    if (gr->run_s) ec_jw_str(&w, t);
    else ec_jw_null(&w);
    ec_jw_obj_end(&w);
    return ec_jw_finish(&w);
}

ec_err ec_share_group_sample(const ec_share *g, const char *substation, int64_t t_ms, ec_share_sample_t *out)
{
    memset(out, 0, sizeof *out);
    int gi = group_for(g, NULL, substation);
    if (gi < 0) return EC_ENOTFOUND;
    group_totals(g, GROUP(g, gi), t_ms / 1000, out);
    return EC_OK;
}

ec_err ec_share_price(const ec_share *g, const char *site, int64_t t_s, double *price_per_kwh)
{
    int si = find_site(g, site);
    if (si < 0) return EC_ENOTFOUND;
    int gi = SITE(g, si)->group;
    double wholesale = 0, cong = 0, share = 0;
    if (gi >= 0) {
        const gr_group *gr = GROUP(g, gi);
        slot_price(g, gr, t_s, charging_now(g, gr), &wholesale, &cong, &share);
    } else {
        /* A site no session or charger has needed yet: its substation's price with nothing charging. */
        gr_group tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.substation = find_sub(g, SITE(g, si)->p.substation_id);
        slot_price(g, &tmp, t_s, 0, &wholesale, &cong, &share);
    }
    *price_per_kwh = wholesale + cong;
    return EC_OK;
}

ec_err ec_share_prices_json(const ec_share *g, const char *site, int64_t t_ms, int slot_s, int n_slots, ec_buf *out)
{
    int si = find_site(g, site);
    if (si < 0 || slot_s <= 0) return EC_ENOTFOUND;
    const gr_site *st = SITE(g, si);
    gr_group tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.substation = find_sub(g, st->p.substation_id);
    const gr_group *gr = st->group >= 0 ? GROUP(g, st->group) : &tmp;
    double charging = charging_now(g, gr);
    int64_t now = t_ms / 1000, t0 = now / slot_s * slot_s;
    const ec_substation_power_t *sub = gr->substation >= 0 ? SUB(g, gr->substation) : NULL;
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "site_id"), ec_jw_str(&w, site);
    ec_jw_key(&w, "substation_id");
    if (st->p.substation_id[0]) ec_jw_str(&w, st->p.substation_id);
    else ec_jw_null(&w);
    ec_jw_key(&w, "slot_s"), ec_jw_int(&w, slot_s);
    ec_jw_key(&w, "congestion_price"), ec_jw_num(&w, sub ? sub->cong_price : 0, 4);
    ec_jw_key(&w, "congestion_threshold"), ec_jw_num(&w, sub ? sub->cong_threshold : 0.8, 3);
    ec_jw_key(&w, "slots"), ec_jw_arr_begin(&w);
    for (int k = 0; k < n_slots; k++) {
        int64_t t = t0 + (int64_t)k * slot_s;
        double wholesale, cong, share;
        slot_price(g, gr, t, charging, &wholesale, &cong, &share);
        char ts[32];
        ec_time_format_iso(t, ts, sizeof ts);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "start"), ec_jw_str(&w, ts);
        ec_jw_key(&w, "wholesale_per_kwh"), ec_jw_num(&w, wholesale, 4);
        ec_jw_key(&w, "congestion_per_kwh"), ec_jw_num(&w, cong, 4);
        ec_jw_key(&w, "price_per_kwh"), ec_jw_num(&w, wholesale + cong, 4);
        ec_jw_key(&w, "load_share"), ec_jw_num(&w, share, 4);
        ec_jw_obj_end(&w);
    }
    ec_jw_arr_end(&w);
    ec_jw_obj_end(&w);
    return ec_jw_finish(&w);
}

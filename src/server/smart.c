/* smart.c - live power sharing (see smart.h).
 *
 * A group is the sessions behind one limit: the sites of a substation, or a
 * site of its own when it has no substation. Its limits come from the
 * register (cached until the register changes): the substation's capacity
 * less its base load plus the renewables behind it, each site's grid
 * connection, each connector's maximum power, each site's algorithm.
 *
 * Lower before raise: a run that finds any limit to lower sends only the
 * lowerings; the raisings go in the run after every lowering has been
 * answered, and then only as far as the limits the chargers have accepted
 * leave room (a charger that refused to lower keeps its old limit in the
 * sum). A charge point's ChargePointMaxProfile is the sum of its sessions'
 * limits, so a session that starts is held at what its charge point is
 * allowed until its own limit is raised. */
#include "smart.h"

#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_engine.h"
#include "ecorridor/ec_json.h"
#include "ocpp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UNKNOWN -1.0          /* a limit the charger has not accepted from us */
#define DEFAULT_MAX_W 150000  /* a connector that does not say its power */
#define QUANTUM_W 100         /* limits move in steps of this, rounded down */
#define HORIZON 288           /* control periods the optimising step looks ahead */
#define MAX_SITES 64          /* sites in one group */
#define TICK_MS 5000          /* how often control intervals are checked */
#define METER_SPACING_MS 1000 /* meter readings alone allocate a group at most this often */
#define REFRESH_MS 1000       /* a group's limits are read again at most this often (the register
                               * also changes with every connector status) */
#define TX_PROFILE_ID 1000    /* + connector */
#define CP_PROFILE_ID 1

typedef struct {
    int64_t tx_id;
    int cp;                   /* index into m->cps */
    int connector;
    int group, site;          /* site: index into the group's sites */
    int64_t start_s, departure_s;
    double requested_wh, delivered_wh, max_w;
    double want_w;            /* the allocation, rounded */
    double next_w;            /* what this run decided to send */
    double sent_w;            /* the limit the charger accepted; UNKNOWN */
    double rising_w;          /* a raise queued or on its way (0: none): counted as held */
    int queued, alive;
} sm_sess;

typedef struct {
    char id[EC_CP_ID_MAX + 1];
    char site[EC_REG_ID_MAX + 1];
    int group;
    int up;                   /* connected and booted */
    uint64_t serial;          /* the connection it is up on */
    int accepted;             /* profiles accepted on that connection */
    double max_next_w, max_sent_w;
    int max_queued;
    int unit_a;               /* limits in A: the charger's ChargingScheduleAllowedChargingRateUnit, else
                               * the register's charging_rate_unit */
    int unit_asked;           /* 0: not yet, 1: asking, 2: answered */
    int managed;              /* its site has a charging policy (as of the last run) */
    double volts, phases;
    int inflight;             /* a profile call outstanding: 1 + 1 when it lowers */
    int64_t inflight_tx;      /* the session it is for; 0: the charge point's max */
    double inflight_w;
    int queue[64], q_head, q_len; /* sessions (index+1) or 0 for the max, in order */
} sm_cp;

typedef struct {
    char uid[EC_REG_ID_MAX + 1];
    double w;
} sm_evse;

typedef struct {
    char id[EC_REG_ID_MAX + 1];
    int managed;              /* it has a charging policy: the hub sends its chargers limits */
    double limit_w;           /* its grid connection; 0: none */
    ec_alloc_algo algo;
    int interval_s, dwell_min;
    double default_wh;
    sm_evse *evse;            /* each EVSE's uid and its connectors' largest power */
    int n_evse;
} sm_site;

typedef struct {
    char key[EC_REG_ID_MAX + 8];   /* "sub:ID" or "site:ID" */
    char substation[EC_REG_ID_MAX + 1];
    int64_t gen;              /* the register generation its limits were read at; -1 none */
    int64_t refreshed_ms;     /* when they were read */
    int stale;                /* the register changed since, and they are to be read again */
    int controlled;           /* some limit applies */
    double capacity_w;        /* the substation's; 0: none */
    ec_vec base_w, renew_w;   /* per profile interval: others' load, renewables behind it */
    int base_iv, renew_iv;
    ec_vec prices;            /* per kWh */
    int price_iv;
    double cong_price, cong_threshold;
    sm_site *sites;           /* at most MAX_SITES */
    int n_sites, cap_sites;
    ec_vec members;           /* int: indices into m->sess of its sessions */
    ec_vec cps;               /* int: indices into m->cps of its charge points */
    int dirty;                /* 1: meter readings changed (may wait), 2: anything else (at once) */
    int inflight_dec;
    int64_t last_run_s, last_run_ms;
    /* the last run, for the API */
    int64_t run_s;
} sm_group;

struct smart {
    uv_loop_t *loop;
    ec_store *store;
    ocpp_cs *cs;
    ec_vec sess, cps, groups;  /* sm_sess, sm_cp, sm_group */
    ec_map by_tx, by_cp, by_group;
    size_t dead;
    uv_timer_t timer;
    int timer_open;
    int any_dirty;
    int64_t gen_seen;          /* the register's generation the groups were last allocated at */
    int64_t gen_checked_ms;    /* when it was last looked at */
    smart_stats_t stats;
};

static uint64_t h(const char *s)
{
    return ec_hash_bytes(s, strlen(s));
}

static sm_sess *sess_at(smart *m, int i)
{
    return &EC_VEC_AT(&m->sess, sm_sess, i);
}

static sm_cp *cp_at(smart *m, int i)
{
    return &EC_VEC_AT(&m->cps, sm_cp, i);
}

static sm_group *group_at(smart *m, int i)
{
    return &EC_VEC_AT(&m->groups, sm_group, i);
}

/* A group's list of indices: x added once, or taken out. */
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

#define MEMBERS(g, k, i) for (size_t k = 0, i = 0; k < (g)->members.len && ((i = (size_t)EC_VEC_AT(&(g)->members, int, k)), 1); k++)
#define GROUP_CPS(g, k, i) for (size_t k = 0, i = 0; k < (g)->cps.len && ((i = (size_t)EC_VEC_AT(&(g)->cps, int, k)), 1); k++)

/* ---- the register's limits ------------------------------------------------------ */

static ec_err load_doc(ec_store *s, ec_kind k, const char *id, ec_json **out)
{
    ec_buf b;
    ec_buf_init(&b, EC_REG_DOC_MAX);
    ec_err rc = ec_store_get(s, k, id, &b);
    if (!rc) rc = ec_json_load_buf(b.data, b.len, "register", out);
    ec_buf_free(&b);
    return rc;
}

static double num_or(const ec_json *j, const char *key, double d)
{
    double v;
    return ec_json_number(ec_json_get(j, key), &v) ? d : v;
}

static void read_series(const ec_json *arr, double scale, ec_vec *out)
{
    out->len = 0;
    for (size_t i = 0; i < ec_json_array_size(arr); i++) {
        double v = 0;
        ec_json_number(ec_json_array_get(arr, i), &v);
        v *= scale;
        ec_vec_push(out, &v);
    }
}

/* A profile's value at t: interval iv from the start of t's UTC year, a
 * shorter series repeating (24 hourly values are a daily profile). */
static double series_at(const ec_vec *v, int iv, int64_t t_s, double dflt)
{
    if (!v->len || iv <= 0 || t_s < 0) return dflt;
    time_t t = (time_t)t_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return dflt;
    int64_t since = (int64_t)tm.tm_yday * 86400 + t_s % 86400; /* from the start of its UTC year */
    return EC_VEC_AT(v, double, (size_t)(since / iv) % v->len);
}

static void site_from_doc(sm_site *st, const ec_json *j)
{
    st->limit_w = num_or(j, "grid_limit_kw", 0) * 1000;
    ec_json *c = ec_json_get(j, "charging");
    st->managed = c != NULL;
    st->algo = EC_ALLOC_OPT;
    const char *a = ec_json_str(ec_json_get(c, "algo"));
    if (a) ec_alloc_algo_parse(a, &st->algo);
    if (!c) st->algo = EC_ALLOC_UNCONTROLLED; /* no policy: its chargers take what they take */
    st->interval_s = (int)num_or(c, "interval_s", 60);
    st->dwell_min = (int)num_or(c, "default_dwell_min", 60);
    st->default_wh = num_or(c, "default_kwh", 0) * 1000;
    ec_json *evses = ec_json_get(j, "evses");
    st->n_evse = 0;
    ec_free(st->evse);
    size_t ne = ec_json_array_size(evses);
    st->evse = ne ? ec_calloc(ne, sizeof *st->evse) : NULL;
    for (size_t i = 0; st->evse && i < ne; i++) {
        ec_json *e = ec_json_array_get(evses, i), *cs = ec_json_get(e, "connectors");
        double best = 0;
        for (size_t k = 0; k < ec_json_array_size(cs); k++) {
            double w = num_or(ec_json_array_get(cs, k), "max_electric_power", 0);
            if (w > best) best = w;
        }
        const char *uid = ec_json_str(ec_json_get(e, "uid"));
        snprintf(st->evse[st->n_evse].uid, sizeof st->evse[0].uid, "%s", uid ? uid : "");
        st->evse[st->n_evse++].w = best;
    }
}

typedef struct {
    sm_group *g;
    int64_t now_s;
} renew_ctx;

static ec_err add_renewable(void *ctx, const char *doc, size_t len)
{
    sm_group *g = ctx;
    ec_json *j;
    if (ec_json_load_buf(doc, len, "renewable", &j)) return EC_OK;
    double cap = num_or(j, "capacity_kw", 0) * 1000;
    ec_json *p = ec_json_get(j, "profile");
    int iv = (int)num_or(j, "interval_s", 3600);
    /* Summed into the group's series at the first renewable's interval. */
    if (!g->renew_w.len) g->renew_iv = iv;
    size_t n = ec_json_array_size(p);
    if (iv == g->renew_iv) {
        while (g->renew_w.len < n) {
            double z = 0;
            ec_vec_push(&g->renew_w, &z);
        }
        for (size_t i = 0; i < g->renew_w.len && n; i++) {
            double v = 0;
            ec_json_number(ec_json_array_get(p, i % n), &v);
            EC_VEC_AT(&g->renew_w, double, i) += v * cap;
        }
    }
    ec_json_free(j);
    return EC_OK;
}

/* (Re)reads a group's limits when the register changed since. */
static void group_refresh(smart *m, sm_group *g)
{
    int64_t gen = ec_store_generation(m->store), now_ms = (int64_t)uv_now(m->loop);
    if (g->gen == gen) return;
    if (g->gen != -1 && now_ms - g->refreshed_ms < REFRESH_MS) {
        g->stale = 1, m->any_dirty = 1; /* read (and allocated) again once the time is up */
        return;
    }
    g->gen = gen, g->refreshed_ms = now_ms, g->stale = 0;
    g->capacity_w = 0, g->base_w.len = 0, g->renew_w.len = 0, g->prices.len = 0;
    g->cong_price = 0, g->cong_threshold = 0.8;
    if (g->substation[0]) {
        ec_json *j = NULL;
        if (!load_doc(m->store, EC_KIND_SUBSTATION, g->substation, &j)) {
            g->capacity_w = num_or(j, "capacity_kw", 0) * 1000;
            read_series(ec_json_get(j, "base_load_kw"), 1000, &g->base_w);
            g->base_iv = (int)num_or(j, "interval_s", 3600);
            read_series(ec_json_get(j, "prices"), 1, &g->prices);
            g->price_iv = (int)num_or(j, "price_interval_s", 3600);
            g->cong_price = num_or(j, "congestion_price", 0);
            g->cong_threshold = num_or(j, "congestion_threshold", 0.8);
        }
        ec_json_free(j);
        ec_store_filter_t f;
        memset(&f, 0, sizeof f);
        f.substation_id = g->substation;
        f.limit = -1;
        int64_t total;
        ec_store_list(m->store, EC_KIND_RENEWABLE, &f, add_renewable, g, &total);
    }
    /* Controlled: some site has a charging policy, and there is a limit. */
    int managed = 0, limited = g->capacity_w > 0;
    for (int k = 0; k < g->n_sites; k++) {
        ec_json *j = NULL;
        if (!load_doc(m->store, EC_KIND_SITE, g->sites[k].id, &j)) site_from_doc(&g->sites[k], j);
        ec_json_free(j);
        limited |= g->sites[k].limit_w > 0;
        managed |= g->sites[k].managed && g->sites[k].algo != EC_ALLOC_UNCONTROLLED;
    }
    g->controlled = managed && limited;
}

/* The group of site_id (made when new); -1 when the site is not in the register. */
static int group_of(smart *m, const char *site_id, int *site_index)
{
    if (!site_id || !*site_id) return -1;
    ec_json *j = NULL;
    if (load_doc(m->store, EC_KIND_SITE, site_id, &j)) return -1;
    const char *sub = ec_json_str(ec_json_get(j, "substation_id"));
    char key[EC_REG_ID_MAX + 8];
    snprintf(key, sizeof key, "%s:%s", sub ? "sub" : "site", sub ? sub : site_id);
    uint64_t v;
    int gi;
    if (ec_map_get(&m->by_group, h(key), &v) && v && !strcmp(group_at(m, (int)v - 1)->key, key)) {
        gi = (int)v - 1;
    } else {
        sm_group g0;
        memset(&g0, 0, sizeof g0);
        snprintf(g0.key, sizeof g0.key, "%s", key);
        snprintf(g0.substation, sizeof g0.substation, "%s", sub ? sub : "");
        g0.gen = -1;
        if (ec_vec_push(&m->groups, &g0)) {
            ec_json_free(j);
            return -1;
        }
        gi = (int)m->groups.len - 1;
        sm_group *g = group_at(m, gi);
        ec_vec_init(&g->base_w, sizeof(double));
        ec_vec_init(&g->renew_w, sizeof(double));
        ec_vec_init(&g->prices, sizeof(double));
        ec_vec_init(&g->members, sizeof(int));
        ec_vec_init(&g->cps, sizeof(int));
        ec_map_put(&m->by_group, h(key), (uint64_t)gi + 1);
    }
    sm_group *g = group_at(m, gi);
    int k = 0;
    while (k < g->n_sites && strcmp(g->sites[k].id, site_id)) k++;
    if (k == g->n_sites) {
        if (k == MAX_SITES) {
            ec_json_free(j);
            return -1;
        }
        if (k == g->cap_sites) {
            int cap = g->cap_sites ? g->cap_sites * 2 : 2;
            sm_site *ns = ec_realloc(g->sites, (size_t)cap * sizeof *ns);
            if (!ns) {
                ec_json_free(j);
                return -1;
            }
            g->sites = ns, g->cap_sites = cap;
        }
        memset(&g->sites[k], 0, sizeof g->sites[k]);
        snprintf(g->sites[k].id, sizeof g->sites[k].id, "%s", site_id);
        site_from_doc(&g->sites[k], j);
        g->n_sites++;
        g->gen = -1;
    }
    ec_json_free(j);
    *site_index = k;
    return gi;
}

/* ---- charge points ------------------------------------------------------------------ */

static int cp_index(smart *m, const char *id, int make)
{
    uint64_t v;
    if (ec_map_get(&m->by_cp, h(id), &v) && v && !strcmp(cp_at(m, (int)v - 1)->id, id)) return (int)v - 1;
    if (!make) return -1;
    sm_cp c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    c.group = -1, c.max_sent_w = UNKNOWN, c.volts = 230, c.phases = 3;
    if (ec_vec_push(&m->cps, &c)) return -1;
    ec_map_put(&m->by_cp, h(id), m->cps.len);
    return (int)m->cps.len - 1;
}

/* The charger's own settings: the unit of its limits and, for amperes, its voltage and phases. */
static void cp_config(smart *m, sm_cp *c)
{
    ec_buf b;
    ec_buf_init(&b, EC_REG_DOC_MAX);
    ec_json *j = NULL;
    if (!ec_store_charger_get(m->store, c->id, &b, NULL) && !ec_json_load_buf(b.data, b.len, "charger", &j)) {
        const char *u = ec_json_str(ec_json_get(j, "charging_rate_unit"));
        c->unit_a = u && !strcmp(u, "A");
        c->volts = num_or(j, "voltage_v", 230);
        c->phases = num_or(j, "phases", 3);
    }
    ec_json_free(j);
    ec_buf_free(&b);
}

static void enqueue(sm_cp *c, int item)
{
    if (c->q_len == (int)(sizeof c->queue / sizeof c->queue[0])) return; /* the next run queues it again */
    c->queue[(c->q_head + c->q_len++) % 64] = item;
}

/* The most a session may draw now: the limit its charger accepted, else
 * what its charge point's maximum allows, else its connector's power. */
static double eff_sess(smart *m, const sm_sess *s)
{
    double e;
    if (s->sent_w >= 0) {
        e = s->sent_w;
    } else {
        double cpmax = cp_at(m, s->cp)->max_sent_w;
        e = cpmax >= 0 && cpmax < s->max_w ? cpmax : s->max_w;
    }
    return s->rising_w > e ? s->rising_w : e;
}

static void on_profile_done(void *ctx, ocpp_cp *ocp, const char *status, const ec_json *payload);
static void on_config_done(void *ctx, ocpp_cp *ocp, const char *status, const ec_json *payload);

/* Asks a charger that is sent limits which unit it takes them in (OCPP 1.6
 * ChargingScheduleAllowedChargingRateUnit), once per connection. */
static int ask_unit(smart *m, sm_cp *c, ocpp_cp *ocp)
{
    if (c->unit_asked) return 0;
    ec_json *pl = NULL;
    char why[256];
    c->unit_asked = 1;
    if (ec_json_load_str("{\"key\":[\"ChargingScheduleAllowedChargingRateUnit\"]}", "config", &pl) ||
        ocpp__call_internal(m->cs, ocp, "GetConfiguration", pl, on_config_done, m, why, sizeof why)) {
        c->unit_asked = 2; /* the register's unit, then */
        ec_json_free(pl);
        return 0;
    }
    ec_json_free(pl);
    c->inflight = 3;
    return 1;
}

/* Sends the next queued profile of charge point c, if it is free. */
static void pump(smart *m, int ci)
{
    sm_cp *c = cp_at(m, ci);
    ocpp_cp *ocp = ocpp__find(m->cs, c->id);
    if (!ocp || !c->up || c->inflight || ocp->call.active) return;
    if (c->q_len && ask_unit(m, c, ocp)) return;
    while (c->q_len) {
        int item = c->queue[c->q_head];
        c->q_head = (c->q_head + 1) % 64, c->q_len--;
        double w, sent;
        int64_t tx = 0;
        int connector = 0;
        if (item == 0) {
            c->max_queued = 0;
            w = c->max_next_w, sent = c->max_sent_w;
        } else {
            sm_sess *s = sess_at(m, item - 1);
            s->queued = 0;
            if (!s->alive || s->cp != ci) continue;
            w = s->next_w, sent = s->sent_w, tx = s->tx_id, connector = s->connector;
        }
        if (w < 0 || (sent >= 0 && fabs(w - sent) < 1)) {
            if (item) sess_at(m, item - 1)->rising_w = 0;
            continue;
        }
        int lowers = sent < 0 || w < sent;
        if (item && !lowers && w > sess_at(m, item - 1)->rising_w) sess_at(m, item - 1)->rising_w = w;
        ec_buf b;
        ec_buf_init(&b, 4096);
        ec_jw j;
        ec_jw_init(&j, &b);
        char now[32];
        ec_time_format_iso(ec_time_now_s(), now, sizeof now);
        double limit = c->unit_a ? floor(w / (c->volts * c->phases) * 10) / 10 : floor(w);
        ec_jw_obj_begin(&j);
        ec_jw_key(&j, "connectorId"), ec_jw_int(&j, connector);
        ec_jw_key(&j, "csChargingProfiles"), ec_jw_obj_begin(&j);
        ec_jw_key(&j, "chargingProfileId"), ec_jw_int(&j, item ? TX_PROFILE_ID + connector : CP_PROFILE_ID);
        if (item) ec_jw_key(&j, "transactionId"), ec_jw_int(&j, tx);
        ec_jw_key(&j, "stackLevel"), ec_jw_int(&j, 1);
        ec_jw_key(&j, "chargingProfilePurpose"), ec_jw_str(&j, item ? "TxProfile" : "ChargePointMaxProfile");
        ec_jw_key(&j, "chargingProfileKind"), ec_jw_str(&j, "Absolute");
        ec_jw_key(&j, "chargingSchedule"), ec_jw_obj_begin(&j);
        ec_jw_key(&j, "startSchedule"), ec_jw_str(&j, now);
        ec_jw_key(&j, "chargingRateUnit"), ec_jw_str(&j, c->unit_a ? "A" : "W");
        ec_jw_key(&j, "chargingSchedulePeriod"), ec_jw_arr_begin(&j), ec_jw_obj_begin(&j);
        ec_jw_key(&j, "startPeriod"), ec_jw_int(&j, 0);
        ec_jw_key(&j, "limit"), ec_jw_num(&j, limit, 1);
        ec_jw_obj_end(&j), ec_jw_arr_end(&j);
        ec_jw_obj_end(&j), ec_jw_obj_end(&j), ec_jw_obj_end(&j);
        ec_json *pl = NULL;
        char why[256];
        ec_err rc = ec_json_load_buf(b.data, b.len, "profile", &pl);
        if (!rc) rc = ocpp__call_internal(m->cs, ocp, "SetChargingProfile", pl, on_profile_done, m, why, sizeof why);
        ec_json_free(pl);
        ec_buf_free(&b);
        if (rc) {
            ec_log(EC_LOG_WARN, "smart: %s: SetChargingProfile not sent: %s", c->id, rc == EC_EINVAL ? why : ec_errmsg());
            continue;
        }
        m->stats.profiles_sent++;
        c->inflight = 1 + lowers, c->inflight_tx = item ? tx : 0, c->inflight_w = w;
        if (lowers && c->group >= 0) group_at(m, c->group)->inflight_dec++;
        return;
    }
}

static void on_config_done(void *ctx, ocpp_cp *ocp, const char *status, const ec_json *payload)
{
    (void)status;
    smart *m = ctx;
    int ci = cp_index(m, ocp->id, 0);
    if (ci < 0) return;
    sm_cp *c = cp_at(m, ci);
    if (c->inflight != 3) return;
    c->inflight = 0, c->unit_asked = 2;
    ec_json *keys = ec_json_get(payload, "configurationKey");
    for (size_t i = 0; i < ec_json_array_size(keys); i++) {
        ec_json *k = ec_json_array_get(keys, i);
        const char *name = ec_json_str(ec_json_get(k, "key")), *v = ec_json_str(ec_json_get(k, "value"));
        if (!name || strcmp(name, "ChargingScheduleAllowedChargingRateUnit") || !v) continue;
        /* "Current", "Power" or both: watts when it takes them. */
        if (strstr(v, "Power")) c->unit_a = 0;
        else if (strstr(v, "Current")) c->unit_a = 1;
    }
}

static void on_profile_done(void *ctx, ocpp_cp *ocp, const char *status, const ec_json *payload)
{
    (void)payload;
    smart *m = ctx;
    int ci = cp_index(m, ocp->id, 0);
    if (ci < 0) return;
    sm_cp *c = cp_at(m, ci);
    if (!c->inflight || c->inflight == 3) return;
    int ok = status && !strcmp(status, "Accepted");
    sm_sess *s = NULL;
    uint64_t v;
    if (c->inflight_tx && ec_map_get(&m->by_tx, (uint64_t)c->inflight_tx, &v) && v) s = sess_at(m, (int)v - 1);
    if (s) s->rising_w = 0;
    if (ok) {
        m->stats.profiles_accepted++;
        c->accepted++;
        if (!c->inflight_tx) c->max_sent_w = c->inflight_w;
        else if (s) s->sent_w = c->inflight_w;
    } else {
        m->stats.profiles_refused++;
        ec_log(EC_LOG_WARN, "smart: %s answered SetChargingProfile %s", c->id, status ? status : "with an error or not at all");
    }
    if (c->group >= 0) {
        sm_group *g = group_at(m, c->group);
        if (c->inflight == 2 && g->inflight_dec > 0) g->inflight_dec--;
        g->dirty = 2, m->any_dirty = 1; /* raises may follow now */
    }
    c->inflight = 0;
}

void smart__idle(smart *m, ocpp_cp *cp)
{
    int ci = m ? cp_index(m, cp->id, 0) : -1;
    if (ci >= 0) pump(m, ci);
}

/* ---- sessions ------------------------------------------------------------------------ */

static void mark(smart *m, int group)
{
    if (group < 0) return;
    group_at(m, group)->dirty = 2;
    m->any_dirty = 1;
}

/* Meter readings: allocated again, but at most every METER_SPACING_MS. */
static void mark_meter(smart *m, int group)
{
    if (group < 0) return;
    sm_group *g = group_at(m, group);
    if (!g->dirty) g->dirty = 1;
    m->any_dirty = 1;
}

static void compact(smart *m)
{
    if (m->dead < 1024 || m->dead * 2 < m->sess.len) return;
    size_t w = 0;
    ec_map_free(&m->by_tx);
    ec_map_init(&m->by_tx, m->sess.len - m->dead);
    for (size_t r = 0; r < m->sess.len; r++) {
        sm_sess *s = sess_at(m, (int)r);
        if (!s->alive) continue;
        if (w != r) *sess_at(m, (int)w) = *s;
        sess_at(m, (int)w)->queued = 0;
        ec_map_put(&m->by_tx, (uint64_t)s->tx_id, w + 1);
        w++;
    }
    m->sess.len = w, m->dead = 0;
    for (size_t gi = 0; gi < m->groups.len; gi++) group_at(m, (int)gi)->members.len = 0;
    for (size_t i = 0; i < m->sess.len; i++) {
        int x = (int)i;
        ec_vec_push(&group_at(m, sess_at(m, x)->group)->members, &x);
    }
    for (size_t i = 0; i < m->cps.len; i++) { /* the queues named old places: the next run queues again */
        sm_cp *c = cp_at(m, (int)i);
        c->q_len = 0, c->max_queued = 0;
        if (c->group >= 0) mark(m, c->group);
    }
}


static void track(smart *m, const ec_tx_t *tx, const char *evse_uid)
{
    int site = 0, gi = group_of(m, tx->site_id, &site);
    int ci = cp_index(m, tx->charge_point, 1);
    if (gi < 0 || ci < 0) return;
    sm_group *g = group_at(m, gi);
    sm_site *st = &g->sites[site];
    sm_sess s;
    memset(&s, 0, sizeof s);
    s.tx_id = tx->id, s.cp = ci, s.connector = tx->connector, s.group = gi, s.site = site;
    s.start_s = tx->start_s, s.sent_w = UNKNOWN, s.alive = 1;
    s.max_w = DEFAULT_MAX_W;
    for (int e = 0; evse_uid && e < st->n_evse; e++)
        if (!strcmp(st->evse[e].uid, evse_uid) && st->evse[e].w > 0) s.max_w = st->evse[e].w;
    s.departure_s = tx->start_s + (int64_t)st->dwell_min * 60;
    s.requested_wh = st->default_wh > 0 ? st->default_wh : s.max_w * st->dwell_min / 60.0;
    s.delivered_wh = tx->last_register_wh >= 0 ? (double)(tx->last_register_wh - tx->meter_start_wh) : 0;
    double req = -1;
    int64_t dep = 0;
    if (!ec_store_plan_get(m->store, tx->id, &req, &dep)) {
        if (req >= 0) s.requested_wh = req;
        if (dep > 0) s.departure_s = dep;
    }
    int x = (int)m->sess.len;
    if (ec_vec_push(&m->sess, &s)) return;
    ec_map_put(&m->by_tx, (uint64_t)tx->id, m->sess.len);
    ec_vec_push(&g->members, &x);
    sm_cp *c = cp_at(m, ci);
    if (c->group < 0) {
        c->group = gi, snprintf(c->site, sizeof c->site, "%s", tx->site_id);
        list_add(&g->cps, ci);
    }
    mark(m, gi);
}

void smart__tx(smart *m, ocpp_cp *cp, const ec_tx_t *tx, int event)
{
    if (!m) return;
    uint64_t v;
    int known = ec_map_get(&m->by_tx, (uint64_t)tx->id, &v) && v;
    if (event == SMART_START) {
        if (!known) track(m, tx, tx->connector <= OCPP_MAX_CONNECTORS ? cp->evse_uid[tx->connector] : NULL);
        return;
    }
    if (!known) return;
    sm_sess *s = sess_at(m, (int)v - 1);
    if (event == SMART_STOP || tx->stopped) {
        s->alive = 0;
        list_del(&group_at(m, s->group)->members, (int)v - 1);
        ec_map_put(&m->by_tx, (uint64_t)tx->id, 0);
        m->dead++;
        mark(m, s->group);
        compact(m);
        return;
    }
    double d = tx->last_register_wh >= 0 ? (double)(tx->last_register_wh - tx->meter_start_wh) : s->delivered_wh;
    if (d != s->delivered_wh) {
        s->delivered_wh = d;
        mark_meter(m, s->group);
    }
}

void smart__cp(smart *m, ocpp_cp *cp, int up)
{
    if (!m) return;
    int ci = cp_index(m, cp->id, up);
    if (ci < 0) return;
    sm_cp *c = cp_at(m, ci);
    /* Booting right after connecting, before any profile was accepted: nothing is lost. */
    if (up && c->up && c->serial == cp->serial && !c->accepted) return mark(m, c->group);
    c->up = up;
    c->serial = cp->serial, c->accepted = 0;
    c->inflight = 0, c->q_len = 0, c->max_queued = 0, c->unit_asked = 0;
    if (up) {
        int site = 0, gi = group_of(m, cp->site_id, &site);
        c = cp_at(m, ci);
        if (gi != c->group && c->group >= 0) list_del(&group_at(m, c->group)->cps, ci);
        c->group = gi;
        if (gi >= 0) list_add(&group_at(m, gi)->cps, ci);
        snprintf(c->site, sizeof c->site, "%s", cp->site_id);
        cp_config(m, c);
    }
    /* A charger that booted has lost its profiles; one that left may come back without them.
     * Its sessions learn their connector's power (resumed ones did not know it). */
    c->max_sent_w = UNKNOWN;
    for (size_t gi = 0; gi < m->groups.len; gi++) {
        sm_group *g = group_at(m, (int)gi);
        MEMBERS(g, k, i) {
            sm_sess *s = sess_at(m, (int)i);
            if (s->cp != ci) continue;
            s->sent_w = UNKNOWN, s->queued = 0, s->rising_w = 0;
            const char *uid = up && s->connector >= 0 && s->connector <= OCPP_MAX_CONNECTORS ? cp->evse_uid[s->connector] : NULL;
            sm_site *st = &g->sites[s->site];
            for (int e = 0; uid && *uid && e < st->n_evse; e++)
                if (!strcmp(st->evse[e].uid, uid) && st->evse[e].w > 0) s->max_w = st->evse[e].w;
        }
    }
    if (c->group >= 0) {
        sm_group *g = group_at(m, c->group);
        g->inflight_dec = 0;
        GROUP_CPS(g, k, i) if (cp_at(m, (int)i)->inflight == 2) g->inflight_dec++;
        mark(m, c->group);
    }
}

ec_err smart__plan(smart *m, int64_t tx_id, double requested_wh, int64_t departure_s)
{
    uint64_t v;
    if (!m || !ec_map_get(&m->by_tx, (uint64_t)tx_id, &v) || !v) return EC_ENOTFOUND;
    sm_sess *s = sess_at(m, (int)v - 1);
    if (requested_wh >= 0) s->requested_wh = requested_wh;
    if (departure_s > 0) s->departure_s = departure_s;
    mark(m, s->group);
    return EC_OK;
}

/* ---- allocation ----------------------------------------------------------------------- */

static double headroom_at(const sm_group *g, int64_t t_s)
{
    double lim = 0;
    if (g->capacity_w > 0) {
        lim = g->capacity_w - series_at(&g->base_w, g->base_iv, t_s, 0) + series_at(&g->renew_w, g->renew_iv, t_s, 0);
    } else {
        for (int k = 0; k < g->n_sites; k++) lim += g->sites[k].limit_w > 0 ? g->sites[k].limit_w : 1e12;
    }
    return lim;
}

/* Whether the hub sends limits to charge point c (its site has a policy). */
static int cp_managed(const sm_group *g, const sm_cp *c)
{
    for (int k = 0; k < g->n_sites; k++)
        if (!strcmp(g->sites[k].id, c->site)) return g->sites[k].algo != EC_ALLOC_UNCONTROLLED;
    return 0;
}

static void run_group(smart *m, int gi, int64_t now_s)
{
    sm_group *g = group_at(m, gi);
    g->dirty = 0;
    group_refresh(m, g);
    if (!g->controlled) return;
    g->last_run_s = now_s, g->last_run_ms = (int64_t)uv_now(m->loop);
    size_t n = g->members.len;
    ec_alloc_session_t *as = n ? ec_calloc(n, sizeof *as) : NULL;
    int *which = n ? ec_malloc(n * sizeof *which) : NULL;
    double *w = n ? ec_malloc(n * sizeof *w) : NULL;
    double head[HORIZON], price[HORIZON], other[HORIZON];
    if (n && (!as || !which || !w)) goto done;
    int period = 60;
    for (int k = 0; k < g->n_sites; k++)
        if (g->sites[k].interval_s > 0 && (k == 0 || g->sites[k].interval_s < period)) period = g->sites[k].interval_s;
    size_t k = 0;
    int64_t horizon = now_s + period;
    MEMBERS(g, mk, i) {
        sm_sess *s = sess_at(m, (int)i);
        double left = s->requested_wh - s->delivered_wh;
        /* A session past its departure still charging keeps a short horizon. */
        int64_t dep = s->departure_s > now_s + period ? s->departure_s : now_s + period;
        as[k] = (ec_alloc_session_t){s->start_s, dep, left > 0 ? left : 0, s->max_w, s->site, 0, 0};
        if (dep > horizon) horizon = dep;
        which[k++] = (int)i;
    }
    size_t np = (size_t)((horizon - now_s + period - 1) / period);
    if (np < 1) np = 1;
    if (np > HORIZON) np = HORIZON;
    for (size_t p = 0; p < np; p++) {
        int64_t t = now_s + (int64_t)p * period;
        head[p] = headroom_at(g, t);
        other[p] = series_at(&g->base_w, g->base_iv, t, 0);
        price[p] = series_at(&g->prices, g->price_iv, t, 0);
    }
    ec_alloc_grid_t grid;
    memset(&grid, 0, sizeof grid);
    grid.now_s = now_s, grid.period_s = period, grid.n_periods = np, grid.headroom_w = head;
    grid.other_w = other, grid.price = g->prices.len ? price : NULL;
    ec_alloc_site_t sites[MAX_SITES];
    for (int s = 0; s < g->n_sites; s++) sites[s] = (ec_alloc_site_t){g->sites[s].algo, g->sites[s].limit_w};
    if (n) ec_alloc_sites(sites, (size_t)g->n_sites, as, n, &grid, w);
    m->stats.allocations++;
    g->run_s = now_s;
    for (size_t j = 0; j < n; j++) {
        sm_sess *s = sess_at(m, which[j]);
        s->want_w = floor((w[j] > 0 ? w[j] : 0) / QUANTUM_W) * QUANTUM_W;
    }
    /* Lowerings go at once. Raisings go only into the room the limits held now leave, a lowering
     * counting at its old value until its charger has accepted it: at no moment may the
     * chargers together draw more than the headroom. */
    double held = 0;
    for (size_t j = 0; j < n; j++) held += eff_sess(m, sess_at(m, which[j]));
    double spare = head[0] - held;
    GROUP_CPS(g, gk, i) {
        sm_cp *c = cp_at(m, (int)i);
        c->managed = cp_managed(g, c);
        if (!c->up || !c->managed) continue;
        double sum = 0;
        for (size_t j = 0; j < n; j++) {
            sm_sess *s = sess_at(m, which[j]);
            if (s->cp != (int)i) continue;
            double eff = eff_sess(m, s), up = 0;
            if (s->want_w < eff - 0.5) {
                s->next_w = s->want_w;
            } else {
                up = s->want_w - eff;
                if (up > spare) up = spare > 0 ? floor(spare / QUANTUM_W) * QUANTUM_W : 0;
                if (up < 0) up = 0;
                s->next_w = eff + up;
                spare -= up;
            }
            sum += s->next_w;
        }
        c->max_next_w = sum;
        /* In this charger's queue: its lowerings, then its maximum, then its raisings. */
        for (size_t j = 0; j < n; j++) {
            sm_sess *s = sess_at(m, which[j]);
            if (s->cp == (int)i && (s->sent_w < 0 || s->next_w < s->sent_w - 0.5) && s->next_w < eff_sess(m, s) - 0.5 &&
                !s->queued)
                s->queued = 1, enqueue(c, which[j] + 1);
        }
        if ((c->max_sent_w < 0 || fabs(c->max_next_w - c->max_sent_w) > 0.5) && !c->max_queued) c->max_queued = 1, enqueue(c, 0);
        for (size_t j = 0; j < n; j++) {
            sm_sess *s = sess_at(m, which[j]);
            if (s->cp != (int)i || !(s->next_w > s->sent_w + 0.5 && s->next_w > eff_sess(m, s) - 0.5)) continue;
            if (s->next_w > s->rising_w) s->rising_w = s->next_w; /* held from now, also when already queued */
            if (!s->queued) s->queued = 1, enqueue(c, which[j] + 1);
        }
    }
    GROUP_CPS(g, gk, i) pump(m, (int)i);
done:
    ec_free(as);
    ec_free(which);
    ec_free(w);
}

void smart__run(smart *m)
{
    if (!m) return;
    /* A limit changed in the register (a substation's capacity, a site's connection or policy):
     * every group is allocated again. */
    int64_t now_ms = (int64_t)uv_now(m->loop);
    if (now_ms - m->gen_checked_ms >= REFRESH_MS) {
        m->gen_checked_ms = now_ms;
        int64_t gen = ec_store_generation(m->store);
        if (gen != m->gen_seen) {
            m->gen_seen = gen;
            for (size_t gi = 0; gi < m->groups.len; gi++) mark(m, (int)gi);
        }
    }
    if (!m->any_dirty) return;
    m->any_dirty = 0;
    int64_t now = ec_time_now_s();
    for (size_t gi = 0; gi < m->groups.len; gi++) {
        sm_group *g = group_at(m, (int)gi);
        if (g->stale) {
            if (now_ms - g->refreshed_ms >= REFRESH_MS) g->dirty = 2;
            else m->any_dirty = 1;
        }
        if (g->dirty == 1 && now_ms - g->last_run_ms < METER_SPACING_MS) {
            m->any_dirty = 1; /* a later turn, or the tick */
            continue;
        }
        if (g->dirty) run_group(m, (int)gi, now);
    }
}

static void on_tick(uv_timer_t *t)
{
    smart *m = t->data;
    int64_t now = ec_time_now_s();
    for (size_t gi = 0; gi < m->groups.len; gi++) {
        sm_group *g = group_at(m, (int)gi);
        int iv = 60;
        for (int k = 0; k < g->n_sites; k++)
            if (g->sites[k].interval_s > 0 && (k == 0 || g->sites[k].interval_s < iv)) iv = g->sites[k].interval_s;
        if (now - g->last_run_s >= iv) g->dirty = 2, m->any_dirty = 1;
    }
    smart__run(m);
}

/* ---- life ------------------------------------------------------------------------------ */

static ec_err resume(void *ctx, const ec_tx_t *tx)
{
    smart *m = ctx;
    if (!tx->stopped) track(m, tx, NULL);
    return EC_OK;
}

ec_err smart__new(uv_loop_t *loop, ec_store *store, ocpp_cs *cs, smart **out)
{
    smart *m = ec_calloc(1, sizeof *m);
    if (!m) return EC_ENOMEM;
    m->loop = loop, m->store = store, m->cs = cs;
    ec_vec_init(&m->sess, sizeof(sm_sess));
    ec_vec_init(&m->cps, sizeof(sm_cp));
    ec_vec_init(&m->groups, sizeof(sm_group));
    ec_err rc = ec_map_init(&m->by_tx, 64);
    if (!rc) rc = ec_map_init(&m->by_cp, 64);
    if (!rc) rc = ec_map_init(&m->by_group, 16);
    /* The sessions still running when the hub stopped (their connector's power is read again at
     * the next start; until then the default). */
    ec_session_filter_t f;
    memset(&f, 0, sizeof f);
    f.live = 1, f.limit = -1;
    int64_t total;
    if (!rc) rc = ec_store_tx_list(store, &f, resume, m, &total);
    if (!rc && uv_timer_init(loop, &m->timer) == 0) {
        m->timer.data = m;
        m->timer_open = 1;
        uv_timer_start(&m->timer, on_tick, TICK_MS, TICK_MS);
        uv_unref((uv_handle_t *)&m->timer);
    }
    if (rc) {
        smart__free(m);
        return rc;
    }
    *out = m;
    return EC_OK;
}

void smart__stop(smart *m)
{
    if (m && m->timer_open) {
        uv_timer_stop(&m->timer);
        uv_close((uv_handle_t *)&m->timer, NULL);
        m->timer_open = 0;
    }
}

void smart__free(smart *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->groups.len; i++) {
        sm_group *g = group_at(m, (int)i);
        ec_vec_free(&g->base_w);
        ec_vec_free(&g->renew_w);
        ec_vec_free(&g->prices);
        ec_vec_free(&g->members);
        ec_vec_free(&g->cps);
        for (int k = 0; k < g->n_sites; k++) ec_free(g->sites[k].evse);
        ec_free(g->sites);
    }
    ec_vec_free(&m->sess);
    ec_vec_free(&m->cps);
    ec_vec_free(&m->groups);
    ec_map_free(&m->by_tx);
    ec_map_free(&m->by_cp);
    ec_map_free(&m->by_group);
    ec_free(m);
}

smart_stats_t smart__stats(const smart *m)
{
    smart_stats_t z;
    memset(&z, 0, sizeof z);
    return m ? m->stats : z;
}

/* ---- the API's view --------------------------------------------------------------------- */

static double kw(double w)
{
    return w / 1000.0;
}

ec_err smart__json(smart *m, const char *site_id, const char *substation_id, ec_buf *out)
{
    if (!m) return EC_ENOTFOUND;
    int gi = -1, site = 0;
    if (site_id) {
        gi = group_of(m, site_id, &site);
    } else {
        char key[EC_REG_ID_MAX + 8];
        snprintf(key, sizeof key, "sub:%s", substation_id);
        uint64_t v;
        if (ec_map_get(&m->by_group, h(key), &v) && v) gi = (int)v - 1;
    }
    if (gi < 0) return EC_ENOTFOUND;
    sm_group *g = group_at(m, gi);
    group_refresh(m, g);
    int64_t now = ec_time_now_s();
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "group"), ec_jw_str(&w, g->key);
    ec_jw_key(&w, "substation_id");
    if (g->substation[0]) ec_jw_str(&w, g->substation);
    else ec_jw_null(&w);
    ec_jw_key(&w, "controlled"), ec_jw_bool(&w, g->controlled);
    ec_jw_key(&w, "capacity_kw"), ec_jw_num(&w, kw(g->capacity_w), 3);
    ec_jw_key(&w, "base_load_kw"), ec_jw_num(&w, kw(series_at(&g->base_w, g->base_iv, now, 0)), 3);
    ec_jw_key(&w, "renewables_kw"), ec_jw_num(&w, kw(series_at(&g->renew_w, g->renew_iv, now, 0)), 3);
    double head = headroom_at(g, now), alloc = 0, held = 0;
    ec_jw_key(&w, "sites"), ec_jw_arr_begin(&w);
    for (int k = 0; k < g->n_sites; k++) {
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "site_id"), ec_jw_str(&w, g->sites[k].id);
        ec_jw_key(&w, "algo"), ec_jw_str(&w, ec_alloc_algo_name(g->sites[k].algo));
        ec_jw_key(&w, "grid_limit_kw");
        if (g->sites[k].limit_w > 0) ec_jw_num(&w, kw(g->sites[k].limit_w), 3);
        else ec_jw_null(&w);
        double load = 0;
        MEMBERS(g, mk, i) if (sess_at(m, (int)i)->site == k) load += sess_at(m, (int)i)->want_w;
        ec_jw_key(&w, "allocated_kw"), ec_jw_num(&w, kw(load), 3);
        ec_jw_obj_end(&w);
    }
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "sessions"), ec_jw_arr_begin(&w);
    MEMBERS(g, mk, i) {
        sm_sess *s = sess_at(m, (int)i);
        alloc += s->want_w;
        held += eff_sess(m, s);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "transaction_id"), ec_jw_int(&w, s->tx_id);
        ec_jw_key(&w, "charge_point_id"), ec_jw_str(&w, cp_at(m, s->cp)->id);
        ec_jw_key(&w, "connector_id"), ec_jw_int(&w, s->connector);
        ec_jw_key(&w, "site_id"), ec_jw_str(&w, g->sites[s->site].id);
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
    ec_jw_key(&w, "headroom_kw"), ec_jw_num(&w, kw(head), 3);
    ec_jw_key(&w, "allocated_kw"), ec_jw_num(&w, kw(alloc), 3);
    ec_jw_key(&w, "held_kw"), ec_jw_num(&w, kw(held), 3);
    ec_jw_key(&w, "spare_kw"), ec_jw_num(&w, kw(head - alloc), 3);
    ec_jw_key(&w, "lowerings_outstanding"), ec_jw_int(&w, g->inflight_dec);
    char t[32];
    ec_time_format_iso(g->run_s, t, sizeof t);
    ec_jw_key(&w, "allocated_at");
    if (g->run_s) ec_jw_str(&w, t);
    else ec_jw_null(&w);
    ec_jw_obj_end(&w);
    return EC_OK;
}

/* The price of energy at the group's substation per slot: the wholesale
 * price, plus the congestion component, which rises linearly from 0 at the
 * threshold share of capacity to congestion_price at full load. The load of
 * a slot: the base load less the renewables, plus the charging allocated now
 * (what is known of the future). */
static double charging_now(smart *m, int gi)
{
    double charging = 0;
    sm_group *g = group_at(m, gi);
    MEMBERS(g, k, i) charging += sess_at(m, (int)i)->want_w;
    return charging;
}

static void slot_price(const sm_group *g, int64_t t, double charging, double *wholesale, double *cong, double *share)
{
    *wholesale = series_at(&g->prices, g->price_iv, t, 0);
    double load = series_at(&g->base_w, g->base_iv, t, 0) - series_at(&g->renew_w, g->renew_iv, t, 0) + charging;
    *share = g->capacity_w > 0 ? load / g->capacity_w : 0;
    *cong = ec_congestion_price(*share, g->cong_threshold, g->cong_price);
}

ec_err smart__price_now(smart *m, const char *site_id, int64_t t_s, double *price_per_kwh)
{
    int site = 0, gi = m ? group_of(m, site_id, &site) : -1;
    if (gi < 0) return EC_ENOTFOUND;
    sm_group *g = group_at(m, gi);
    group_refresh(m, g);
    double wholesale, cong, share;
    slot_price(g, t_s, charging_now(m, gi), &wholesale, &cong, &share);
    *price_per_kwh = wholesale + cong;
    return EC_OK;
}

ec_err smart__prices_json(smart *m, const char *site_id, int slot_s, int n_slots, ec_buf *out)
{
    int site = 0, gi = m ? group_of(m, site_id, &site) : -1;
    if (gi < 0) return EC_ENOTFOUND;
    sm_group *g = group_at(m, gi);
    group_refresh(m, g);
    double charging = charging_now(m, gi);
    int64_t now = ec_time_now_s(), t0 = now / slot_s * slot_s;
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "site_id"), ec_jw_str(&w, site_id);
    ec_jw_key(&w, "substation_id");
    if (g->substation[0]) ec_jw_str(&w, g->substation);
    else ec_jw_null(&w);
    ec_jw_key(&w, "slot_s"), ec_jw_int(&w, slot_s);
    ec_jw_key(&w, "congestion_price"), ec_jw_num(&w, g->cong_price, 4);
    ec_jw_key(&w, "congestion_threshold"), ec_jw_num(&w, g->cong_threshold, 3);
    ec_jw_key(&w, "slots"), ec_jw_arr_begin(&w);
    for (int k = 0; k < n_slots; k++) {
        int64_t t = t0 + (int64_t)k * slot_s;
        double wholesale, cong, share;
        slot_price(g, t, charging, &wholesale, &cong, &share);
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
    return EC_OK;
}

/* routes.c - POST /api/v1/routes: truck routes with charging stops over the register's sites. */
#include "api_internal.h"
#include "ocpp.h"
#include "smart.h"
#include "work.h"

#include <math.h>
#include <string.h>

static ec_err keep_doc(void *ctx, const char *doc, size_t len)
{
    char *copy = ec_malloc(len + 1);
    if (!copy) return EC_ENOMEM;
    memcpy(copy, doc, len + 1);
    ec_err rc = ec_vec_push(ctx, &copy);
    if (rc) ec_free(copy);
    return rc;
}

/* A planner over the register as it was at one generation. Built on a
 * worker, then only queried, by one route job at a time (the route lane runs
 * one job at a time: ec_trip_plan keeps its scratch space in the planner).
 * Counted references, taken and dropped on the loop only: the current one
 * is a->route_planner's; a job holds the one it queries, so a rebuild can
 * replace the current one while an older one is still in use. */
typedef struct route_planner route_planner;
struct route_planner {
    ec_trip_planner *tp;
    ec_sites sites; /* the planner borrows them */
    int64_t generation;
    int64_t slot; /* with dynamic tariffs: the 15-minute slot its prices are of; -1 none */
    int refs;
};

static void planner_drop(route_planner *p)
{
    if (!p || --p->refs > 0) return;
    ec_trip_planner_free(p->tp);
    ec_sites_free(&p->sites);
    ec_free(p);
}

void api__route_free(ec_api *a)
{
    planner_drop(a->route_planner);
    a->route_planner = NULL;
}

typedef struct {
    work_job job;
    ec_api *a;             /* the loop's: read in start and done only */
    const ec_graph *graph; /* read-only, shared by all threads */
    const char *db_path;
    route_planner *planner; /* held: the planner this job queries (NULL: it builds one) */
    route_planner *built;   /* held: the one it built */
    int started, geometry;
    int64_t generation, slot;
    /* Dynamic prices are the power sharing's (loop only): a build that meets
     * them names the sites, the loop prices them, and the build runs again. */
    ec_map prices;         /* hash of a site id -> its price's bits */
    int priced;
    ec_vec missing;        /* char[EC_REG_ID_MAX + 1]: sites to price */
    ec_map missing_seen;
    ec_trip_request_t r;
    ec_vehicle_profile v;
    ec_latlon_t from, to;
    char *avoid[64];
} route_job;

/* On a worker: the price the loop found for a site, or NAN (and the site
 * noted) when it has not been asked. */
static double snapshot_price(void *ctx, const char *site_id)
{
    route_job *x = ctx;
    uint64_t h = ec_hash_bytes(site_id, strlen(site_id)), bits;
    if (ec_map_get(&x->prices, h, &bits)) {
        double p;
        memcpy(&p, &bits, sizeof p);
        return p;
    }
    if (!x->priced && !ec_map_get(&x->missing_seen, h, &bits) && x->missing.len < 100000) {
        char id[EC_REG_ID_MAX + 1];
        snprintf(id, sizeof id, "%s", site_id);
        if (!ec_vec_push(&x->missing, id)) ec_map_put(&x->missing_seen, h, 1);
    }
    return NAN;
}

/* On a worker: a planner over the register as it is now, read on this job's
 * own connection. */
static ec_err build(route_job *x)
{
    ec_store *s = NULL;
    ec_vec docs[2];
    ec_store_filter_t all;
    memset(&all, 0, sizeof all);
    all.limit = -1;
    for (int i = 0; i < 2; i++) ec_vec_init(&docs[i], sizeof(char *));
    ec_err rc = ec_store_open(x->db_path, &s);
    for (int i = 0; i < 2 && !rc; i++) {
        int64_t total;
        rc = ec_store_list(s, i ? EC_KIND_TARIFF : EC_KIND_SITE, &all, keep_doc, &docs[i], &total);
    }
    ec_store_close(s);
    route_planner *p = rc ? NULL : ec_calloc(1, sizeof *p);
    if (!rc && !p) rc = EC_ENOMEM;
    int dynamic = 0;
    if (!rc)
        rc = ec_reg_sites_for_routing_priced((const char *const *)docs[0].data, docs[0].len,
                                             (const char *const *)docs[1].data, docs[1].len, snapshot_price, x,
                                             &p->sites, &dynamic);
    for (int i = 0; i < 2; i++) {
        for (size_t k = 0; k < docs[i].len; k++) ec_free(EC_VEC_AT(&docs[i], char *, k));
        ec_vec_free(&docs[i]);
    }
    if (!rc && x->missing.len) {
        /* Priced once the loop has said what these sites cost now. */
        ec_sites_free(&p->sites);
        ec_free(p);
        return EC_OK;
    }
    if (!rc) rc = ec_trip_planner_new(x->graph, &p->sites, &p->tp);
    if (rc) {
        if (p) ec_sites_free(&p->sites);
        ec_free(p);
        return rc;
    }
    p->generation = x->generation;
    p->slot = dynamic ? x->slot : -1;
    p->refs = 1;
    x->built = p;
    return EC_OK;
}

/* On the loop, as the job leaves the queue: the current planner when it is
 * up to date (rebuilt after any write, and every 15 minutes when a dynamic
 * tariff prices a site), else the job builds one. */
static void route_start(work_job *j)
{
    route_job *x = (route_job *)j;
    if (x->started) return;
    x->started = 1;
    route_planner *cur = x->a->route_planner;
    x->generation = ec_store_generation(x->a->store);
    x->slot = ec_time_now_s() / 900;
    if (cur && cur->generation == x->generation && (cur->slot < 0 || cur->slot == x->slot)) {
        x->planner = cur;
        cur->refs++;
    }
}

static void route_run(work_job *j)
{
    route_job *x = (route_job *)j;
    ec_http_response *res = &j->res;
    ec_errclear();
    if (!x->planner && !x->built) {
        ec_err rc = build(x);
        if (rc) {
            api__error(res, 500, "planner_error", NULL, "%s", ec_errmsg());
            return;
        }
        if (!x->built) return; /* prices wanted first */
    }
    ec_trip_planner *tp = (x->built ? x->built : x->planner)->tp;
    ec_trip_plan_t plan;
    if (ec_trip_plan(tp, &x->r, x->from, x->to, &plan)) {
        api__error(res, 400, "no_route", NULL, "%s", ec_errmsg());
        return;
    }
    ec_jw w;
    ec_jw_init(&w, &res->body);
    ec_jw_obj_begin(&w);
    ec_trip_plan_json(&w, &plan);
    if (plan.feasible && x->geometry) {
        ec_jw_key(&w, "geometry");
        ec_trip_geojson(tp, &plan, &w);
    }
    ec_jw_obj_end(&w);
    res->status = 200;
    res->content_type = "application/json";
    api__finish(&w, res); /* a plan with a long geometry may not fit its answer */
}

static int route_done(work_job *j)
{
    route_job *x = (route_job *)j;
    ec_api *a = x->a;
    if (x->missing.len && !x->priced) {
        /* The power sharing's prices now, for the sites the build met. */
        smart *m = a->ocpp ? ocpp__smart(a->ocpp) : NULL;
        for (size_t i = 0; i < x->missing.len; i++) {
            const char *id = (const char *)x->missing.data + i * (EC_REG_ID_MAX + 1);
            double p;
            uint64_t bits;
            if (smart__price_now(m, id, ec_time_now_s(), &p)) continue;
            memcpy(&bits, &p, sizeof bits);
            ec_map_put(&x->prices, ec_hash_bytes(id, strlen(id)), bits);
        }
        x->priced = 1;
        ec_vec_free(&x->missing);
        ec_vec_init(&x->missing, EC_REG_ID_MAX + 1);
        return 1;
    }
    if (x->built && (!a->route_planner || a->route_planner->generation != x->built->generation ||
                     a->route_planner->slot != x->built->slot)) {
        planner_drop(a->route_planner);
        a->route_planner = x->built;
        x->built->refs++;
    }
    return 0;
}

static void route_release(work_job *j)
{
    route_job *x = (route_job *)j;
    planner_drop(x->planner);
    planner_drop(x->built);
    for (size_t i = 0; i < 64; i++) ec_free(x->avoid[i]);
    ec_map_free(&x->prices);
    ec_map_free(&x->missing_seen);
    ec_vec_free(&x->missing);
    ec_free(x);
}

static int point(const ec_json *j, const char *name, ec_latlon_t *out, ec_http_response *res)
{
    const ec_json *o = ec_json_get(j, name);
    void *it = NULL;
    const char *key;
    ec_json *val;
    double v[2] = {NAN, NAN};
    while (ec_json_object_next(o, &it, &key, &val)) {
        int k = !strcmp(key, "latitude") ? 0 : !strcmp(key, "longitude") ? 1 : -1;
        if (k < 0) {
            api__error(res, 400, "unknown_field", name, "%s.%s is not a field (latitude, longitude)", name, key);
            return -1;
        }
        const char *s = ec_json_str(val);
        if (s ? ec_parse_double(s, &v[k]) : ec_json_number(val, &v[k])) v[k] = NAN;
    }
    out->lat = v[0], out->lon = v[1];
    if (!ec_json_is_object(o) || !ec_geo_valid(*out)) {
        api__error(res, 400, "invalid_field", name,
                   "%s must be {\"latitude\": \"50.99\", \"longitude\": \"6.95\"} in WGS84 degrees", name);
        return -1;
    }
    return 0;
}

static int fraction(const ec_json *j, const char *name, double *out, ec_http_response *res)
{
    const ec_json *v = ec_json_get(j, name);
    if (!v) return 0;
    if (ec_json_number(v, out) || *out < 0 || *out > 1) {
        api__error(res, 400, "invalid_field", name, "%s must be a number 0..1", name);
        return -1;
    }
    return 0;
}

void api__route(ec_api *a, const char *org, const ec_http_request *req, ec_http_response *res)
{
    static const char *const known[] = {"from", "to", "vehicle", "soc", "min_soc", "arrival_soc", "rules",
                                        "depart", "objective", "avoid", "geometry", NULL};
    if (!a->graph) {
        api__error(res, 503, "no_graph", NULL, "this hub has no road graph: start it with --graph FILE.ecg");
        return;
    }
    if (!a->work) {
        api__error(res, 503, "busy", NULL, "this hub plans no routes now");
        return;
    }
    ec_json *j = NULL;
    if (ec_json_load_buf(req->body, req->body_len, "body", &j) || !ec_json_is_object(j)) {
        ec_json_free(j);
        api__error(res, 400, "invalid_json", NULL, "the body must be a JSON object: %s", ec_errmsg());
        return;
    }
    void *it = NULL;
    const char *key, *avoid[64];
    ec_json *val;
    while (ec_json_object_next(j, &it, &key, &val)) {
        int ok = 0;
        for (int i = 0; known[i]; i++) ok |= !strcmp(known[i], key);
        if (!ok) {
            api__error(res, 400, "unknown_field", key, "%s is not a field of a route request", key);
            goto done;
        }
    }
    ec_trip_request_t r;
    memset(&r, 0, sizeof r);
    ec_latlon_t from, to;
    r.soc_start = 0.9, r.soc_min = 0.1;
    if (point(j, "from", &from, res) || point(j, "to", &to, res) || fraction(j, "soc", &r.soc_start, res) ||
        fraction(j, "min_soc", &r.soc_min, res))
        goto done;
    r.soc_min_arrival = r.soc_min;
    if (fraction(j, "arrival_soc", &r.soc_min_arrival, res)) goto done;
    const char *rules = ec_json_str(ec_json_get(j, "rules")), *obj = ec_json_str(ec_json_get(j, "objective"));
    const char *dep = ec_json_str(ec_json_get(j, "depart")), *veh = ec_json_str(ec_json_get(j, "vehicle"));
    r.rules = EC_RULES_EU;
    if (rules && !strcmp(rules, "us")) r.rules = EC_RULES_US;
    else if (rules && !strcmp(rules, "none")) r.rules = EC_RULES_NONE;
    else if ((rules && strcmp(rules, "eu")) || (!rules && ec_json_get(j, "rules"))) {
        api__error(res, 400, "invalid_field", "rules", "rules must be \"eu\", \"us\" or \"none\"");
        goto done;
    }
    r.objective = obj && !strcmp(obj, "cost") ? EC_OBJ_COST : EC_OBJ_TIME;
    if ((obj && strcmp(obj, "cost") && strcmp(obj, "time")) || (!obj && ec_json_get(j, "objective"))) {
        api__error(res, 400, "invalid_field", "objective", "objective must be \"time\" or \"cost\"");
        goto done;
    }
    r.depart_s = ec_time_now_s();
    if ((dep && ec_time_parse_iso(dep, &r.depart_s)) || (!dep && ec_json_get(j, "depart"))) {
        api__error(res, 400, "invalid_field", "depart", "depart must be an ISO 8601 UTC time like 2026-11-24T06:00Z");
        goto done;
    }
    if (!veh && ec_json_get(j, "vehicle")) {
        api__error(res, 400, "invalid_field", "vehicle", "vehicle must be the name of a built-in profile");
        goto done;
    }
    ec_vehicle_profile v;
    if (ec_vehicle_profile_builtin(veh ? veh : "eactros600", &v)) {
        api__error(res, 400, "invalid_field", "vehicle", "%s", ec_errmsg());
        goto done;
    }
    r.vehicle = &v;
    r.cond = ec_conditions_default(&v);
    r.stop_overhead_s = 300;
    const ec_json *av = ec_json_get(j, "avoid");
    if (av && (!ec_json_is_array(av) || ec_json_array_size(av) > 64)) {
        api__error(res, 400, "invalid_field", "avoid", "avoid must be an array of at most 64 site ids");
        goto done;
    }
    for (size_t i = 0; i < ec_json_array_size(av); i++) {
        avoid[i] = ec_json_str(ec_json_array_get(av, i));
        if (!avoid[i]) {
            api__error(res, 400, "invalid_field", "avoid", "avoid[%zu] must be a site id", i);
            goto done;
        }
    }
    route_job *x = ec_calloc(1, sizeof *x);
    if (!x || ec_map_init(&x->prices, 64) || ec_map_init(&x->missing_seen, 64)) {
        if (x) ec_map_free(&x->prices), ec_free(x);
        api__error(res, 503, "busy", NULL, "the hub cannot take a route request now; try again shortly");
        goto done;
    }
    ec_vec_init(&x->missing, EC_REG_ID_MAX + 1);
    ec_buf_init(&x->job.res.body, 64u << 20);
    x->job.start = route_start;
    x->job.run = route_run;
    x->job.done = route_done;
    x->job.release = route_release;
    x->a = a;
    x->graph = a->graph;
    x->db_path = a->db_path;
    x->v = v;
    x->r = r;
    x->r.vehicle = &x->v;
    for (size_t i = 0; i < ec_json_array_size(av); i++) {
        /* The request's JSON is gone when the job runs: the job keeps copies. */
        if (!(x->avoid[i] = ec_strdup(avoid[i]))) {
            route_release(&x->job);
            api__error(res, 503, "busy", NULL, "the hub cannot take a route request now; try again shortly");
            goto done;
        }
    }
    x->r.avoid = (const char *const *)x->avoid;
    x->r.n_avoid = ec_json_array_size(av);
    x->from = from, x->to = to;
    x->geometry = ec_json_true(ec_json_get(j, "geometry"));
    /* Planning takes milliseconds to seconds, a rebuild of the planner
     * longer: a worker does both while the loop goes on (work.c). */
    work__submit(a->work, &x->job, WORK_ROUTE, org, req, res);
done:
    ec_json_free(j);
}

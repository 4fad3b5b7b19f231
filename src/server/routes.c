/* routes.c - POST /api/v1/routes: truck routes with charging stops over the register's sites. */
#include "api_internal.h"
#include "ocpp.h"
#include "smart.h"

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

static double dynamic_price(void *ctx, const char *site_id)
{
    ec_api *a = ctx;
    double p;
    return smart__price_now(ocpp__smart(a->ocpp), site_id, ec_time_now_s(), &p) ? NAN : p;
}

/* A planner over the register as it is now; rebuilt after any write, and
 * every 15 minutes when a dynamic tariff prices a site. */
static ec_err planner(ec_api *a)
{
    int64_t slot = ec_time_now_s() / 900;
    if (a->planner && a->planner_generation == ec_store_generation(a->store) &&
        (a->planner_slot < 0 || a->planner_slot == slot))
        return EC_OK;
    ec_vec docs[2];
    ec_store_filter_t all;
    memset(&all, 0, sizeof all);
    all.limit = -1;
    ec_err rc = EC_OK;
    for (int i = 0; i < 2; i++) ec_vec_init(&docs[i], sizeof(char *));
    for (int i = 0; i < 2 && !rc; i++) {
        int64_t total;
        rc = ec_store_list(a->store, i ? EC_KIND_TARIFF : EC_KIND_SITE, &all, keep_doc, &docs[i], &total);
    }
    ec_sites sites = {0};
    int dynamic = 0;
    if (!rc)
        rc = ec_reg_sites_for_routing_priced((const char *const *)docs[0].data, docs[0].len,
                                             (const char *const *)docs[1].data, docs[1].len, dynamic_price, a, &sites,
                                             &dynamic);
    for (int i = 0; i < 2; i++) {
        for (size_t k = 0; k < docs[i].len; k++) ec_free(EC_VEC_AT(&docs[i], char *, k));
        ec_vec_free(&docs[i]);
    }
    if (rc) return rc;
    /* The planner borrows its sites: they live in a, beside it. */
    ec_trip_planner_free(a->planner);
    a->planner = NULL;
    ec_sites_free(&a->planner_sites);
    a->planner_sites = sites;
    if ((rc = ec_trip_planner_new(a->graph, &a->planner_sites, &a->planner))) {
        a->planner = NULL;
        return rc;
    }
    a->planner_generation = ec_store_generation(a->store);
    a->planner_slot = dynamic ? slot : -1;
    return EC_OK;
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

void api__route(ec_api *a, const ec_http_request *req, ec_http_response *res)
{
    static const char *const known[] = {"from", "to", "vehicle", "soc", "min_soc", "arrival_soc", "rules",
                                        "depart", "objective", "avoid", "geometry", NULL};
    if (!a->graph)
        return api__error(res, 503, "no_graph", NULL, "this hub has no road graph: start it with --graph FILE.ecg");
    ec_json *j = NULL;
    if (ec_json_load_buf(req->body, req->body_len, "body", &j) || !ec_json_is_object(j)) {
        ec_json_free(j);
        return api__error(res, 400, "invalid_json", NULL, "the body must be a JSON object: %s", ec_errmsg());
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
    r.avoid = avoid;
    r.n_avoid = ec_json_array_size(av);
    ec_err rc = planner(a);
    if (rc) {
        api__error(res, 500, "planner_error", NULL, "%s", ec_errmsg());
        goto done;
    }
    ec_trip_plan_t plan;
    if ((rc = ec_trip_plan(a->planner, &r, from, to, &plan))) {
        api__error(res, 400, "no_route", NULL, "%s", ec_errmsg());
        goto done;
    }
    ec_jw w;
    ec_jw_init(&w, &res->body);
    ec_jw_obj_begin(&w);
    ec_trip_plan_json(&w, &plan);
    if (plan.feasible && ec_json_true(ec_json_get(j, "geometry"))) {
        ec_jw_key(&w, "geometry");
        ec_trip_geojson(a->planner, &plan, &w);
    }
    ec_jw_obj_end(&w);
    res->status = 200;
done:
    ec_json_free(j);
}

/* region.c - a region's whole register loaded into an empty database: the
 * sites file (DIR/sites.csv, imported as `ecorridor import` does) and
 * DIR/register.json, whose objects go through the REST API's own handlers as
 * an admin's requests, so that a region file is held to every rule a client
 * is held to.
 *
 * register.json is an object of arrays, loaded in this order (each kind may
 * name the ones before it): jurisdictions, organisations, then the sites
 * file, substations, renewables, tariffs, sites (fields merged onto the
 * sites the file made, as a PATCH), chargers, tokens. */
#include "api_internal.h"
#include "ocpp.h"
#include "region.h"

#include "ecorridor/ec_json.h"
#include "ecorridor/ec_store.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define REGION_FILE_MAX (16u << 20)

static const struct {
    const char *key;  /* the array in register.json */
    const char *path; /* where its objects go */
    int patch;        /* merged onto an object that exists (sites) */
} steps[] = {
    {"jurisdictions", "/api/v1/jurisdictions", 0}, {"organisations", "/api/v1/organisations", 0},
    {NULL, NULL, 0}, /* the sites file */
    {"substations", "/api/v1/substations", 0},     {"renewables", "/api/v1/renewables", 0},
    {"tariffs", "/api/v1/tariffs", 0},             {"sites", "/api/v1/sites", 1},
    {"chargers", "/api/v1/chargers", 0},           {"tokens", "/api/v1/tokens", 0},
};

/* What the end of a loop turn does (server.c): the central system's writes
 * committed, the shared read ended; each request of the load starts as in a
 * turn of its own, and the load ends with one. */
static void turn_end(ec_api *a)
{
    if (a->ocpp) ocpp__flush(a->ocpp);
    ec_store_release(a->store);
}

/* One object written through the API; an answer other than 2xx fails the
 * load with the API's own words, naming the file, the array and the index. */
static ec_err put_one(ec_api *a, const api_principal *admin, const char *file, const char *key,
                      const char *path, int patch, size_t i, const ec_json *obj, ec_buf *body)
{
    static ec_http_request req; /* large (the path and argument arrays) */
    memset(&req, 0, sizeof req);
    const char *id = ec_json_str(ec_json_get(obj, "id"));
    if (!ec_json_is_object(obj))
        return ec_fail(EC_EPARSE, "%s: %s[%zu] is not an object", file, key, i);
    if (patch && (!id || !ec_reg_id_valid(id)))
        return ec_fail(EC_EPARSE, "%s: %s[%zu]: \"id\" must name the site it adds to (1 to 36 letters, digits, '.', '_' or '-')",
                       file, key, i);
    req.method = patch ? EC_HTTP_PATCH : EC_HTTP_POST;
    int n = patch ? snprintf(req.path, sizeof req.path, "%s/%s", path, id)
                  : snprintf(req.path, sizeof req.path, "%s", path);
    if (n < 0 || (size_t)n >= sizeof req.path)
        return ec_fail(EC_EPARSE, "%s: %s[%zu]: id too long", file, key, i);
    ec_buf_reset(body);
    ec_jw w;
    ec_jw_init(&w, body);
    ec_jw_value(&w, obj);
    ec_err rc = ec_jw_finish(&w);
    if (rc) return rc;
    req.body = body->data;
    req.body_len = body->len;
    ec_http_response res;
    memset(&res, 0, sizeof res);
    ec_buf_init(&res.body, 1u << 20);
    turn_end(a);
    api__handle_as(a, admin, &req, &res);
    if (res.status < 200 || res.status > 299) {
        const char *said = res.body.data ? res.body.data : "";
        rc = ec_fail(EC_EPARSE, "%s: %s[%zu]%s%s%s: the API refused it (%d): %.400s", file, key, i, id ? " (" : "",
                     id ? id : "", id ? ")" : "", res.status, said);
    }
    ec_buf_free(&res.body);
    return rc;
}

static ec_err sites_file(ec_store *s, const char *dir, int64_t *n_sites)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/sites.csv", dir);
    struct stat st;
    if (stat(path, &st) != 0) return EC_OK; /* a region may have no sites file */
    ec_import_set set;
    ec_import_summary_t sum;
    ec_err rc = ec_store_import_file(s, path, "csv", NULL, &set, &sum, NULL);
    ec_import_set_free(&set);
    if (!rc) rc = ec_store_count(s, EC_KIND_SITE, n_sites);
    return rc;
}

ec_err region__load(ec_api *a, const char *dir)
{
    int64_t have = 0;
    ec_err rc = ec_store_count(a->store, EC_KIND_SITE, &have);
    if (rc || have > 0) return rc; /* a register in use is never overwritten */
    char file[4096];
    snprintf(file, sizeof file, "%s/register.json", dir);
    struct stat st;
    ec_json *reg = NULL;
    if (stat(file, &st) == 0) {
        if ((rc = ec_json_load_file(file, REGION_FILE_MAX, &reg))) return rc;
        if (!ec_json_is_object(reg)) {
            ec_json_free(reg);
            return ec_fail(EC_EPARSE, "%s: not a JSON object of arrays", file);
        }
    }
    /* Keys of register.json this loader does not know are a typo to report,
     * not a silent loss. */
    void *it = NULL;
    const char *key;
    ec_json *val;
    while (!rc && reg && ec_json_object_next(reg, &it, &key, &val)) {
        int known = !strcmp(key, "note");
        for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
            if (steps[k].key && !strcmp(key, steps[k].key)) known = 1;
        if (!known) rc = ec_fail(EC_EPARSE, "%s: unknown key \"%s\" (known: jurisdictions, organisations, "
                                            "substations, renewables, tariffs, sites, chargers, tokens, note)",
                                 file, key);
    }
    if (rc) {
        ec_json_free(reg);
        return rc;
    }
    api_principal admin;
    memset(&admin, 0, sizeof admin);
    admin.role = EC_ROLE_ADMIN;
    ec_buf body;
    ec_buf_init(&body, EC_REG_DOC_MAX);
    int64_t n_sites = 0;
    char counts[512] = "";
    size_t used = 0;
    for (size_t k = 0; k < sizeof steps / sizeof steps[0] && !rc; k++) {
        if (!steps[k].key) {
            turn_end(a);
            rc = sites_file(a->store, dir, &n_sites);
            continue;
        }
        const ec_json *list = reg ? ec_json_get(reg, steps[k].key) : NULL;
        if (!list) continue;
        if (!ec_json_is_array(list)) {
            rc = ec_fail(EC_EPARSE, "%s: \"%s\" must be an array", file, steps[k].key);
            break;
        }
        size_t n = ec_json_array_size(list);
        for (size_t i = 0; i < n && !rc; i++)
            rc = put_one(a, &admin, file, steps[k].key, steps[k].path, steps[k].patch, i, ec_json_array_get(list, i),
                         &body);
        if (!rc && n && !steps[k].patch && used < sizeof counts) {
            int w = snprintf(counts + used, sizeof counts - used, ", %zu %s", n, steps[k].key);
            if (w > 0) used += (size_t)w;
        }
    }
    turn_end(a); /* the last request's writes committed before the hub serves */
    ec_buf_free(&body);
    ec_json_free(reg);
    if (rc) {
        ec_log(EC_LOG_ERROR, "region %s: loading stopped part way; the database holds what came before the error "
                             "(delete it to start again)", dir);
        return rc;
    }
    ec_log(EC_LOG_INFO, "region %s: loaded into the empty register: %lld sites%s", dir, (long long)n_sites, counts);
    return EC_OK;
}

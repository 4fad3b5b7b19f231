/* twin_scenario.c - a scenario file of the corridor twin: outages, derating,
 * charge points added or removed, temperature and BEV share (docs/twin.md). */
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_twin.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* A scenario is written by hand: a few kilobytes. */
#define SCN_FILE_MAX ((size_t)16 << 20)
/* From 00:00 to 48:00: the simulated day and the night after it. */
#define SCN_HORIZON_S (48 * 3600)

/* The file and the field being read, for every message. */
typedef struct {
    const char *file;
    char path[64]; /* "outages[12]" */
    int64_t day_start_s;
} scn_ctx;

/* Refuses a key the object's kind does not have, naming it and those it has. */
static ec_err scn__keys(const scn_ctx *c, const ec_json *obj, const char *const *known, const char *expected)
{
    void *it = NULL;
    const char *key;
    ec_json *val;
    while (ec_json_object_next(obj, &it, &key, &val)) {
        int ok = 0;
        for (int k = 0; known[k]; k++) ok |= !strcmp(key, known[k]);
        if (!ok)
            return ec_fail(EC_EPARSE, "%s: %s%sunknown key \"%.60s\" (expected %s)", c->file, c->path,
                           *c->path ? ": " : "", key, expected);
    }
    return EC_OK;
}

/* The number at key within [lo, hi]; *has says whether it was there. */
static ec_err scn__number(const scn_ctx *c, const ec_json *obj, const char *key, double lo, double hi, int *has,
                          double *out)
{
    const ec_json *v = ec_json_get(obj, key);
    const char *dot = *c->path ? "." : "";
    *has = v != NULL;
    if (!v) return EC_OK;
    ec_json_type t = ec_json_typeof(v);
    if (t != EC_JSON_INTEGER && t != EC_JSON_REAL)
        return ec_fail(EC_EPARSE, "%s: %s%s%s: expected a number, found %s", c->file, c->path, dot, key,
                       ec_json_type_name(t));
    double x;
    ec_json_number(v, &x);
    if (!(x >= lo && x <= hi))
        return ec_fail(EC_ERANGE, "%s: %s%s%s: %g is outside %g..%g", c->file, c->path, dot, key, x, lo, hi);
    *out = x;
    return EC_OK;
}

/* A string at key into dst (n bytes): too long is refused, not cut. */
static ec_err scn__string(const scn_ctx *c, const ec_json *obj, const char *key, int required, char *dst, size_t n)
{
    const ec_json *v = ec_json_get(obj, key);
    const char *dot = *c->path ? "." : "";
    if (!v) {
        if (required) return ec_fail(EC_EPARSE, "%s: %s%s%s is missing", c->file, c->path, dot, key);
        return EC_OK;
    }
    const char *s = ec_json_str(v);
    if (!s)
        return ec_fail(EC_EPARSE, "%s: %s%s%s: expected a string, found %s", c->file, c->path, dot, key,
                       ec_json_type_name(ec_json_typeof(v)));
    size_t len = strlen(s);
    if (required && len == 0) return ec_fail(EC_EPARSE, "%s: %s%s%s is empty", c->file, c->path, dot, key);
    if (len >= n)
        return ec_fail(EC_ELIMIT, "%s: %s%s%s: longer than %zu characters", c->file, c->path, dot, key, n - 1);
    memcpy(dst, s, len + 1);
    return EC_OK;
}

/* A window's "from" and "to": each optional (the day's start, 48:00), and
 * the window must not end before, or when, it starts. */
static ec_err scn__window(const scn_ctx *c, const ec_json *obj, int64_t *from_s, int64_t *to_s)
{
    static const char *const keys[] = {"from", "to"};
    int64_t t[2] = {c->day_start_s, c->day_start_s + SCN_HORIZON_S};
    for (int k = 0; k < 2; k++) {
        const ec_json *v = ec_json_get(obj, keys[k]);
        if (!v) continue;
        const char *s = ec_json_str(v);
        if (!s)
            return ec_fail(EC_EPARSE, "%s: %s.%s: expected a time as a string (\"07:30\"), found %s", c->file,
                           c->path, keys[k], ec_json_type_name(ec_json_typeof(v)));
        if (ec_twin_parse_time(s, c->day_start_s, &t[k]))
            return ec_fail(EC_EPARSE, "%s: %s.%s: \"%.40s\" is neither HH:MM (00:00 to 48:00) nor an ISO 8601 time "
                           "with its zone", c->file, c->path, keys[k], s);
    }
    if (t[1] < t[0]) return ec_fail(EC_ERANGE, "%s: %s.to: the window ends before it starts", c->file, c->path);
    if (t[1] == t[0]) return ec_fail(EC_ERANGE, "%s: %s.to: the window ends when it starts", c->file, c->path);
    *from_s = t[0];
    *to_s = t[1];
    return EC_OK;
}

static ec_err scn__outage(const scn_ctx *c, const ec_json *o, ec_scn_outage_t *out)
{
    static const char *const keys[] = {"site", "from", "to", NULL};
    ec_err rc;
    if ((rc = scn__keys(c, o, keys, "site, from, to")) ||
        (rc = scn__string(c, o, "site", 1, out->site_id, sizeof out->site_id)) ||
        (rc = scn__window(c, o, &out->from_s, &out->to_s)))
        return rc;
    return EC_OK;
}

static ec_err scn__derate(const scn_ctx *c, const ec_json *o, ec_scn_derate_t *out)
{
    static const char *const keys[] = {"substation", "factor", "from", "to", NULL};
    int has;
    ec_err rc;
    if ((rc = scn__keys(c, o, keys, "substation, factor, from, to")) ||
        (rc = scn__string(c, o, "substation", 1, out->substation_id, sizeof out->substation_id)) ||
        (rc = scn__number(c, o, "factor", 0, 1, &has, &out->factor)))
        return rc;
    if (!has) return ec_fail(EC_EPARSE, "%s: %s.factor is missing", c->file, c->path);
    return scn__window(c, o, &out->from_s, &out->to_s);
}

static ec_err scn__points(const scn_ctx *c, const ec_json *o, ec_scn_points_t *out)
{
    static const char *const keys[] = {"site", "standard", "power_kw", "count", "lat", "lon", "name", NULL};
    char standard[16] = "";
    double count = 0, kw = 0;
    int has_count, has_kw, has_lat, has_lon;
    ec_err rc;
    if ((rc = scn__keys(c, o, keys, "site, standard, power_kw, count, lat, lon, name")) ||
        (rc = scn__string(c, o, "site", 1, out->site_id, sizeof out->site_id)) ||
        (rc = scn__string(c, o, "name", 0, out->name, sizeof out->name)) ||
        (rc = scn__string(c, o, "standard", 1, standard, sizeof standard)))
        return rc;
    if (ec_plug_parse(standard, &out->plug))
        return ec_fail(EC_EPARSE, "%s: %s.standard: \"%s\" is not one of MCS, CCS2, CCS1, NACS, CHADEMO, TYPE2",
                       c->file, c->path, standard);
    if ((rc = scn__number(c, o, "count", -1000, 1000, &has_count, &count))) return rc;
    if (!has_count) return ec_fail(EC_EPARSE, "%s: %s.count is missing", c->file, c->path);
    if (ec_json_typeof(ec_json_get(o, "count")) != EC_JSON_INTEGER || count == 0)
        return ec_fail(EC_EPARSE, "%s: %s.count: expected a whole number of points, positive to add, negative to "
                       "remove", c->file, c->path);
    out->count = (int)count;
    if ((rc = scn__number(c, o, "power_kw", 0, 4000, &has_kw, &kw))) return rc;
    if (out->count > 0 && !(kw > 0))
        return ec_fail(EC_EPARSE, "%s: %s.power_kw: added points need a power above 0 kW", c->file, c->path);
    out->power_w = kw * 1000.0;
    if ((rc = scn__number(c, o, "lat", -90, 90, &has_lat, &out->pos.lat)) ||
        (rc = scn__number(c, o, "lon", -180, 180, &has_lon, &out->pos.lon)))
        return rc;
    if (has_lat != has_lon)
        return ec_fail(EC_EPARSE, "%s: %s.%s: lat and lon come together, for a new site", c->file, c->path,
                       has_lat ? "lon" : "lat");
    if (has_lat && out->count < 0)
        return ec_fail(EC_EPARSE, "%s: %s.lat: a removal names a site that exists; lat and lon place a new one",
                       c->file, c->path);
    out->has_pos = has_lat;
    return EC_OK;
}

typedef ec_err (*scn_item_fn)(const scn_ctx *c, const ec_json *o, void *out);

static ec_err scn_outage_item(const scn_ctx *c, const ec_json *o, void *out)
{
    return scn__outage(c, o, out);
}
static ec_err scn_derate_item(const scn_ctx *c, const ec_json *o, void *out)
{
    return scn__derate(c, o, out);
}
static ec_err scn_points_item(const scn_ctx *c, const ec_json *o, void *out)
{
    return scn__points(c, o, out);
}

/* Reads the list at key into a new array of elem-byte items (NULL when the
 * list is absent or empty). */
static ec_err scn__list(scn_ctx *c, const ec_json *doc, const char *key, size_t elem, scn_item_fn fn, void **items,
                        size_t *n)
{
    const ec_json *a = ec_json_get(doc, key);
    *items = NULL;
    *n = 0;
    if (!a) return EC_OK;
    if (!ec_json_is_array(a))
        return ec_fail(EC_EPARSE, "%s: %s: expected an array, found %s", c->file, key,
                       ec_json_type_name(ec_json_typeof(a)));
    size_t len = ec_json_array_size(a);
    if (len > EC_SCENARIO_MAX_ITEMS)
        return ec_fail(EC_ELIMIT, "%s: %s: more than %d entries", c->file, key, EC_SCENARIO_MAX_ITEMS);
    if (len == 0) return EC_OK;
    char *p = ec_calloc(len, elem);
    if (!p) return EC_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        const ec_json *o = ec_json_array_get(a, i);
        snprintf(c->path, sizeof c->path, "%s[%zu]", key, i);
        ec_err rc = ec_json_is_object(o)
                        ? fn(c, o, p + i * elem)
                        : ec_fail(EC_EPARSE, "%s: %s: expected an object, found %s", c->file, c->path,
                                  ec_json_type_name(ec_json_typeof(o)));
        if (rc) {
            ec_free(p);
            return rc;
        }
    }
    c->path[0] = '\0';
    *items = p;
    *n = len;
    return EC_OK;
}

void ec_scenario_free(ec_scenario_t *s)
{
    ec_free(s->outages);
    ec_free(s->derates);
    ec_free(s->points);
    s->outages = NULL, s->derates = NULL, s->points = NULL;
    s->n_outages = s->n_derates = s->n_points = 0;
}

ec_err ec_scenario_parse(const char *name, const char *text, size_t len, int64_t day_start_s, ec_scenario_t *out)
{
    static const char *const keys[] = {"name", "temp_c", "bev_share", "outages", "derating", "charge_points", NULL};
    scn_ctx c = {.file = name, .day_start_s = day_start_s};
    ec_scenario_t s;
    memset(&s, 0, sizeof s);
    snprintf(s.file, sizeof s.file, "%s", name);
    ec_json *doc = NULL;
    ec_err rc;
    if (len > SCN_FILE_MAX) {
        rc = ec_fail(EC_ELIMIT, "%s: larger than the %zu bytes accepted", name, SCN_FILE_MAX);
        goto fail;
    }
    if ((rc = ec_json_load_buf(text, len, name, &doc))) goto fail;
    if (!ec_json_is_object(doc)) {
        rc = ec_fail(EC_EPARSE, "%s: expected a JSON object, found %s", name, ec_json_type_name(ec_json_typeof(doc)));
        goto fail;
    }
    void *items;
    if ((rc = scn__keys(&c, doc, keys, "name, temp_c, bev_share, outages, derating, charge_points")) ||
        (rc = scn__string(&c, doc, "name", 0, s.name, sizeof s.name)) ||
        (rc = scn__number(&c, doc, "temp_c", -50, 60, &s.has_temp, &s.temp_c)) ||
        (rc = scn__number(&c, doc, "bev_share", 0, 1, &s.has_bev_share, &s.bev_share)))
        goto fail;
    if ((rc = scn__list(&c, doc, "outages", sizeof *s.outages, scn_outage_item, &items, &s.n_outages))) goto fail;
    s.outages = items;
    if ((rc = scn__list(&c, doc, "derating", sizeof *s.derates, scn_derate_item, &items, &s.n_derates))) goto fail;
    s.derates = items;
    if ((rc = scn__list(&c, doc, "charge_points", sizeof *s.points, scn_points_item, &items, &s.n_points))) goto fail;
    s.points = items;
    ec_json_free(doc);
    *out = s;
    return EC_OK;
fail:
    ec_json_free(doc);
    ec_scenario_free(&s);
    return rc;
}

ec_err ec_scenario_load(const char *path, int64_t day_start_s, ec_scenario_t *out)
{
    char *text;
    size_t len;
    ec_err rc = ec_read_file(path, SCN_FILE_MAX, &text, &len);
    if (rc) return rc;
    rc = ec_scenario_parse(path, text, len, day_start_s, out);
    ec_free(text);
    return rc;
}

/* ---- checking ids against the sites and substations ------------------------------------- */

/* The items of an array whose id (a string at offset in each) hashes alike,
 * chained: lookups cost the few items of one id, not a scan of a country's
 * sites, and a hash collision only lengthens a chain. */
typedef struct {
    ec_map head;  /* id hash -> first item */
    size_t *next; /* item -> next item of the same hash, SIZE_MAX at the end */
    const char *items;
    size_t stride, offset, n; /* item size, and where its id is in it */
} scn_index;

#define SCN_ID(x, i) ((x)->items + (i) * (x)->stride + (x)->offset)

static ec_err scn__index(scn_index *x, const void *items, size_t stride, size_t offset, size_t n)
{
    memset(x, 0, sizeof *x);
    x->items = items, x->stride = stride, x->offset = offset, x->n = n;
    ec_err rc = ec_map_init(&x->head, n ? n : 1);
    if (rc) return rc;
    if (n && !(x->next = ec_malloc(n * sizeof *x->next))) {
        ec_map_free(&x->head);
        return EC_ENOMEM;
    }
    /* Back to front, so each chain lists its items in file order. */
    for (size_t i = n; i-- > 0;) {
        const char *id = SCN_ID(x, i);
        uint64_t h = ec_hash_bytes(id, strlen(id)), first;
        x->next[i] = ec_map_get(&x->head, h, &first) ? (size_t)first : SIZE_MAX;
        if ((rc = ec_map_put(&x->head, h, i))) {
            ec_map_free(&x->head);
            ec_free(x->next);
            return rc;
        }
    }
    return EC_OK;
}

static void scn__index_free(scn_index *x)
{
    ec_map_free(&x->head);
    ec_free(x->next);
}

/* The first item with id at or after item `from` (SIZE_MAX to begin), or SIZE_MAX. */
static size_t scn__find(const scn_index *x, const char *id, size_t from)
{
    uint64_t first;
    size_t i;
    if (from == SIZE_MAX) {
        if (!ec_map_get(&x->head, ec_hash_bytes(id, strlen(id)), &first)) return SIZE_MAX;
        i = (size_t)first;
    } else {
        i = x->next[from];
    }
    for (; i != SIZE_MAX; i = x->next[i])
        if (strcmp(SCN_ID(x, i), id) == 0) return i;
    return SIZE_MAX;
}

/* A removal names points the site has: its plug, and its power when given. */
static ec_err scn__removal(const ec_scenario_t *s, size_t k, const scn_index *sites, const ec_sites *all)
{
    const ec_scn_points_t *p = &s->points[k];
    for (size_t g = scn__find(sites, p->site_id, SIZE_MAX); g != SIZE_MAX; g = scn__find(sites, p->site_id, g)) {
        const ec_connector_group_t *cg = &all->groups[g];
        if (cg->standard == p->plug && (p->power_w == 0 || fabs(cg->power_w - p->power_w) < 1.0)) return EC_OK;
    }
    char kw[32] = "";
    if (p->power_w > 0) snprintf(kw, sizeof kw, " of %g kW", p->power_w / 1000.0);
    return ec_fail(EC_ENOTFOUND, "%s: charge_points[%zu].standard: site \"%s\" has no %s points%s to remove", s->file,
                   k, p->site_id, ec_plug_name(p->plug), kw);
}

static ec_err scn__check_points(const ec_scenario_t *s, const scn_index *sites, const ec_sites *all)
{
    scn_index pts;
    ec_err rc = scn__index(&pts, s->points, sizeof *s->points, offsetof(ec_scn_points_t, site_id), s->n_points);
    if (rc) return rc;
    for (size_t k = 0; k < s->n_points && !rc; k++) {
        const ec_scn_points_t *p = &s->points[k];
        int known = scn__find(sites, p->site_id, SIZE_MAX) != SIZE_MAX;
        if (known && p->count < 0) {
            rc = scn__removal(s, k, sites, all);
        } else if (known && p->has_pos) {
            rc = ec_fail(EC_EPARSE, "%s: charge_points[%zu].lat: site \"%s\" is in the sites; lat and lon are only "
                         "for a new site", s->file, k, p->site_id);
        } else if (!known && p->count < 0) {
            rc = ec_fail(EC_ENOTFOUND, "%s: charge_points[%zu].site: no site \"%s\" in the sites (a removal names a "
                         "site that exists)", s->file, k, p->site_id);
        } else if (!known && !p->has_pos) {
            rc = ec_fail(EC_ENOTFOUND, "%s: charge_points[%zu].site: no site \"%s\" in the sites (a new site needs "
                         "lat and lon)", s->file, k, p->site_id);
        } else if (!known) {
            /* The entries that build one new site must agree where it is. */
            size_t first = scn__find(&pts, p->site_id, SIZE_MAX);
            const ec_scn_points_t *f = &s->points[first];
            if (first < k && (f->pos.lat != p->pos.lat || f->pos.lon != p->pos.lon))
                rc = ec_fail(EC_EPARSE, "%s: charge_points[%zu].lat: new site \"%s\" is at other coordinates in "
                             "charge_points[%zu]", s->file, k, p->site_id, first);
        }
    }
    scn__index_free(&pts);
    return rc;
}

ec_err ec_scenario_check(const ec_scenario_t *s, const ec_sites *sites, const char *const *subs, size_t n_subs)
{
    static const ec_sites none = {0};
    if (!sites) sites = &none;
    scn_index idx;
    ec_err rc = scn__index(&idx, sites->groups, sizeof *sites->groups, offsetof(ec_connector_group_t, site_id),
                           sites->n);
    if (rc) return rc;
    for (size_t k = 0; k < s->n_outages && !rc; k++) {
        if (scn__find(&idx, s->outages[k].site_id, SIZE_MAX) != SIZE_MAX) continue;
        /* A site the same scenario builds (charge_points with its position) may go down too. */
        size_t j = 0;
        while (j < s->n_points && !(s->points[j].has_pos && s->points[j].count > 0 && !strcmp(s->points[j].site_id, s->outages[k].site_id)))
            j++;
        if (j == s->n_points)
            rc = ec_fail(EC_ENOTFOUND, "%s: outages[%zu].site: no site \"%s\" in the sites nor built by charge_points", s->file, k,
                         s->outages[k].site_id);
    }
    for (size_t k = 0; k < s->n_derates && !rc; k++) {
        size_t j = 0;
        while (j < n_subs && strcmp(subs[j], s->derates[k].substation_id) != 0) j++;
        if (j == n_subs)
            rc = ec_fail(EC_ENOTFOUND, "%s: derating[%zu].substation: no substation \"%s\" among the %zu known%s%s",
                         s->file, k, s->derates[k].substation_id, n_subs, n_subs ? ", as " : "",
                         n_subs ? subs[0] : "");
    }
    if (!rc) rc = scn__check_points(s, &idx, sites);
    scn__index_free(&idx);
    return rc;
}

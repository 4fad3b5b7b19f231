/* import.c - register files read into objects the API would accept: our sites
 * CSV, GeoJSON (ours and OpenStreetMap exports), Open Charge Map POI JSON and
 * the US AFDC alt_fuel_stations CSV.
 *
 * Each reader writes every record as a JSON object with the streaming writer
 * and parses it back, so what a file says goes through exactly the validation
 * an API request does (ec_reg_normalize, by the caller). */
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_register.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const format_names[] = {"csv", "geojson", "ocm", "afdc"};

int ec_import_format_parse(const char *s, ec_import_format *out)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, format_names[i])) {
            *out = (ec_import_format)i;
            return 0;
        }
    return -1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

ec_import_format ec_import_guess(const char *name, const char *text, size_t len)
{
    size_t i = 0;
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) i = 3;
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')) i++;
    if (i < len && text[i] == '[') return EC_IMPORT_OCM;
    if (i < len && text[i] == '{') return EC_IMPORT_GEOJSON;
    if (ends_with(name, ".geojson")) return EC_IMPORT_GEOJSON;
    if (len - i >= 14 && !memcmp(text + i, "Fuel Type Code", 14)) return EC_IMPORT_AFDC;
    return EC_IMPORT_CSV;
}

void ec_import_set_free(ec_import_set *s)
{
    ec_vec_free(&s->skipped);
}

/* ---- shared pieces ----------------------------------------------------- */

/* A site whose fastest connector gives less than this is a destination
 * charger: hours for a truck's battery, so it is never claimed as a truck
 * site, whatever its file says, and the summary notes it. 50 kW is the
 * least DC fast charging power; the smallest truck-scale connector (CCS at
 * 150 kW and up, MCS) gives three times as much. */
#define TRUCK_USEFUL_W 50000.0

/* Where records go while a file is read. */
typedef struct {
    ec_import_set *set;
    ec_import_sink sink;
    void *ctx;
    double done;    /* how far the reader is, for the records it emits */
    char label[96]; /* the record as notes name it: "way/311286575", "POI 7", "line 12" */
} out_t;

static void skip(out_t *o, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void skip(out_t *o, const char *where, const char *fmt, ...)
{
    ec_import_skip_t k;
    va_list ap;
    snprintf(k.where, sizeof k.where, "%s", where);
    va_start(ap, fmt);
    vsnprintf(k.reason, sizeof k.reason, fmt, ap);
    va_end(ap);
    ec_vec_push(&o->set->skipped, &k);
}

/* The fastest connector of a site object, in W; 0 when none says. */
static double site_max_w(const ec_json *site)
{
    double best = 0;
    const ec_json *evses = ec_json_get(site, "evses");
    for (size_t i = 0; i < ec_json_array_size(evses); i++) {
        const ec_json *cs = ec_json_get(ec_json_array_get(evses, i), "connectors");
        for (size_t k = 0; k < ec_json_array_size(cs); k++) {
            double w;
            if (!ec_json_number(ec_json_get(ec_json_array_get(cs, k), "max_electric_power"), &w) && w > best)
                best = w;
        }
    }
    return best;
}

static int is_destination(double max_w)
{
    return max_w > 0 && max_w < TRUCK_USEFUL_W;
}

/* Parses the JSON the writer built and hands it to the sink as a record. */
static ec_err emit(out_t *o, ec_kind kind, const char *source, const char *id,
                   const char *where, ec_buf *json)
{
    if (o->set->n_records >= EC_IMPORT_MAX_RECORDS)
        return ec_fail(EC_ELIMIT, "%s: more than %d records in one file", where, EC_IMPORT_MAX_RECORDS);
    /* A record whose writing failed part way is not read as a shorter one. */
    if (ec_buf_error(json) == EC_ELIMIT)
        return ec_fail(EC_ELIMIT, "%s: the record is larger than %zu bytes once written", where, json->max);
    if (ec_buf_error(json) || !json->data) return EC_ENOMEM;
    ec_import_record_t r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    snprintf(r.source, sizeof r.source, "%s", source);
    snprintf(r.id, sizeof r.id, "%s", id);
    snprintf(r.where, sizeof r.where, "%s", where);
    r.done = o->done;
    ec_err rc = ec_json_load_buf(json->data, json->len, where, &r.input);
    if (rc) return rc;
    double max_w = kind == EC_KIND_SITE ? site_max_w(r.input) : 0;
    if (is_destination(max_w))
        skip(o, o->label,
             "destination charger, not for trucks: fastest connector %.4g kW, below the %.0f kW a truck needs",
             max_w / 1000.0, TRUCK_USEFUL_W / 1000.0);
    o->set->n_records++;
    if (o->sink) rc = o->sink(o->ctx, &r);
    ec_json_free(r.input);
    return rc;
}

/* Copies at most n-1 bytes of src, cut at a UTF-8 character boundary: the
 * register's field limits are OCPI's, and real files exceed them. */
static void clip(char *dst, size_t n, const char *src)
{
    size_t len = src ? strlen(src) : 0;
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80) len--;
    }
    if (len) memcpy(dst, src, len);
    dst[len] = 0;
}

static void key_clip(ec_jw *w, const char *key, const char *v, size_t max)
{
    char t[256];
    if (!v || !*v) return;
    clip(t, max + 1 < sizeof t ? max + 1 : sizeof t, v);
    ec_jw_key(w, key), ec_jw_str(w, t);
}

static void coordinates(ec_jw *w, double lat, double lon)
{
    char t[32];
    ec_jw_key(w, "coordinates");
    ec_jw_obj_begin(w);
    snprintf(t, sizeof t, "%.7f", lat), ec_jw_key(w, "latitude"), ec_jw_str(w, t);
    snprintf(t, sizeof t, "%.7f", lon), ec_jw_key(w, "longitude"), ec_jw_str(w, t);
    ec_jw_obj_end(w);
}

/* One EVSE with one connector. */
static void evse(ec_jw *w, const char *uid, const char *status, const char *standard,
                 const char *format, const char *power_type, double power_w, double volts, double amps,
                 const char *tariff_id)
{
    ec_jw_obj_begin(w);
    ec_jw_key(w, "uid"), ec_jw_str(w, uid);
    ec_jw_key(w, "status"), ec_jw_str(w, status);
    ec_jw_key(w, "connectors");
    ec_jw_arr_begin(w);
    ec_jw_obj_begin(w);
    ec_jw_key(w, "id"), ec_jw_str(w, "1");
    ec_jw_key(w, "standard"), ec_jw_str(w, standard);
    ec_jw_key(w, "format"), ec_jw_str(w, format);
    ec_jw_key(w, "power_type"), ec_jw_str(w, power_type);
    if (volts > 0) ec_jw_key(w, "max_voltage"), ec_jw_int(w, llround(volts));
    if (amps > 0) ec_jw_key(w, "max_amperage"), ec_jw_int(w, llround(amps));
    if (power_w > 0) ec_jw_key(w, "max_electric_power"), ec_jw_int(w, llround(power_w));
    if (tariff_id) {
        ec_jw_key(w, "tariff_ids");
        ec_jw_arr_begin(w);
        ec_jw_str(w, tariff_id);
        ec_jw_arr_end(w);
    }
    ec_jw_obj_end(w);
    ec_jw_arr_end(w);
    ec_jw_obj_end(w);
}

static void operator_fields(ec_jw *w, const char *operator_id, const char *operator_name)
{
    if (operator_id) ec_jw_key(w, "operator_id"), ec_jw_str(w, operator_id);
    if (operator_name && *operator_name) {
        ec_jw_key(w, "operator");
        ec_jw_obj_begin(w);
        key_clip(w, "name", operator_name, 100);
        ec_jw_obj_end(w);
    }
}

/* An id from a source's own identifier: characters outside the id alphabet
 * become '-'. */
static void make_id(char *out, size_t n, const char *prefix, const char *ext)
{
    size_t k = (size_t)snprintf(out, n, "%s", prefix);
    for (const char *p = ext; *p && k + 1 < n && k < EC_REG_ID_MAX; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        out[k++] = ok ? c : '-';
    }
    out[k] = 0;
}

/* ---- our sites CSV ----------------------------------------------------- */

const char *ec_reg_plug_standard(ec_plug p)
{
    static const char *const map[EC_PLUG_COUNT] = {"MCS",       "IEC_62196_T2_COMBO",
                                                   "IEC_62196_T1_COMBO", "SAE_J3400",
                                                   "CHADEMO",   "IEC_62196_T2"};
    return (int)p >= 0 && p < EC_PLUG_COUNT ? map[p] : NULL;
}

int ec_reg_standard_plug(const char *standard, ec_plug *out)
{
    for (int i = 0; i < EC_PLUG_COUNT; i++)
        if (standard && !strcmp(standard, ec_reg_plug_standard((ec_plug)i))) {
            *out = (ec_plug)i;
            return 0;
        }
    if (standard && !strcmp(standard, "TESLA_S")) {
        *out = EC_PLUG_NACS;
        return 0;
    }
    return -1;
}

/* Rows as pointers into one array: their order is the file's row order. */
static int by_site_then_row(const void *a, const void *b)
{
    const ec_connector_group_t *x = *(const ec_connector_group_t *const *)a;
    const ec_connector_group_t *y = *(const ec_connector_group_t *const *)b;
    int c = strcmp(x->site_id, y->site_id);
    return c ? c : (x > y) - (x < y);
}

/* The id of the tariff a row's operator and prices make: "t-" and a hash.
 * An operator's import (operator_id) puts its own id into the hash, so two
 * operators with the same prices get two tariffs, each its own; a file
 * imported for no operator keeps the ids it always had. */
static void tariff_id(const ec_connector_group_t *g, const char *operator_id, char *out)
{
    char key[200];
    int n = operator_id ? snprintf(key, sizeof key, "%s|%s|%lld|%lld", operator_id, g->operator_name,
                                   (long long)g->price_per_kwh, (long long)g->price_per_min)
                        : snprintf(key, sizeof key, "%s|%lld|%lld", g->operator_name, (long long)g->price_per_kwh,
                                   (long long)g->price_per_min);
    if (n < 0 || (size_t)n >= sizeof key) n = (int)strlen(key);
    snprintf(out, EC_REG_ID_MAX + 1, "t-%016llx", (unsigned long long)ec_hash_bytes(key, (size_t)n));
}

static ec_err csv_tariffs(const char *name, const ec_sites *sites, const char *operator_id, out_t *out,
                          ec_buf *b)
{
    ec_map seen;
    ec_err rc = ec_map_init(&seen, 64);
    for (size_t i = 0; i < sites->n && !rc; i++) {
        const ec_connector_group_t *g = &sites->groups[i];
        if (!g->price_per_kwh && !g->price_per_min) continue;
        char tid[EC_REG_ID_MAX + 1], src[80], where[160], amount[32];
        tariff_id(g, operator_id, tid);
        uint64_t h = ec_hash_bytes(tid, strlen(tid)), first;
        if (ec_map_get(&seen, h, &first)) {
            const ec_connector_group_t *f = &sites->groups[first];
            if (f->price_per_kwh == g->price_per_kwh && f->price_per_min == g->price_per_min &&
                !strcmp(f->operator_name, g->operator_name))
                continue;
            rc = ec_fail(EC_EPARSE, "%s:%ld: two prices hash to one tariff id %s", name, g->line, tid);
            break;
        }
        if ((rc = ec_map_put(&seen, h, i))) break;
        ec_jw w;
        ec_buf_reset(b);
        ec_jw_init(&w, b);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "currency"), ec_jw_str(&w, sites->currency);
        if (operator_id) ec_jw_key(&w, "operator_id"), ec_jw_str(&w, operator_id);
        if (*g->operator_name) {
            ec_jw_key(&w, "tariff_alt_text");
            ec_jw_arr_begin(&w);
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "language"), ec_jw_str(&w, "en");
            key_clip(&w, "text", g->operator_name, 512);
            ec_jw_obj_end(&w);
            ec_jw_arr_end(&w);
        }
        ec_jw_key(&w, "elements");
        ec_jw_arr_begin(&w);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "price_components");
        ec_jw_arr_begin(&w);
        static const char *const types[2] = {"ENERGY", "TIME"};
        for (int k = 0; k < 2; k++) {
            if (k == 1 && !g->price_per_min) continue;
            /* OCPI prices TIME per hour; the CSV gives it per minute. */
            ec_money_format(k == 0 ? g->price_per_kwh : g->price_per_min * 60, 4, amount, sizeof amount);
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "type"), ec_jw_str(&w, types[k]);
            ec_jw_key(&w, "price"), ec_jw_raw(&w, amount);
            ec_jw_key(&w, "step_size"), ec_jw_int(&w, 1);
            ec_jw_obj_end(&w);
        }
        ec_jw_arr_end(&w);
        ec_jw_obj_end(&w);
        ec_jw_arr_end(&w);
        ec_jw_obj_end(&w);
        snprintf(src, sizeof src, "csv:tariff:%s", tid + 2);
        snprintf(where, sizeof where, "%s:%ld", name, g->line);
        rc = emit(out, EC_KIND_TARIFF, src, tid, where, b);
    }
    ec_map_free(&seen);
    return rc;
}

static ec_err import_csv(const char *name, const char *text, size_t len, const char *operator_id,
                         out_t *out)
{
    ec_sites sites;
    ec_err rc = ec_sites_parse(name, text, len, &sites);
    if (rc) return rc;
    ec_buf b;
    ec_buf_init(&b, EC_REG_DOC_MAX);
    /* Rows of one site need not be adjacent: sort row numbers by (site, row)
     * and walk each run of one site once. */
    const ec_connector_group_t **order = ec_malloc((sites.n ? sites.n : 1) * sizeof *order);
    if (!order) {
        rc = EC_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < sites.n; i++) order[i] = &sites.groups[i];
    /* Tariffs first, one per operator and price, shared by the sites that
     * charge it (as OCPI tariffs are); sites then name theirs. */
    if ((rc = csv_tariffs(name, &sites, operator_id, out, &b))) goto done;
    qsort(order, sites.n, sizeof *order, by_site_then_row);
    for (size_t run = 0, run_end; run < sites.n && !rc; run = run_end) {
        run_end = run + 1;
        while (run_end < sites.n && !strcmp(order[run_end]->site_id, order[run]->site_id)) run_end++;
        const ec_connector_group_t *g0 = order[run];
        out->done = (double)run_end / (double)sites.n;
        char where[160], src[80];
        snprintf(where, sizeof where, "%s:%ld", name, g0->line);
        snprintf(out->label, sizeof out->label, "site %.40s (line %ld)", g0->site_id, g0->line);
        if (!ec_reg_id_valid(g0->site_id)) {
            rc = ec_fail(EC_EPARSE, "%s: site_id \"%s\" must be 1 to 36 letters, digits, '.', '_' or '-'",
                         where, g0->site_id);
            break;
        }
        ec_jw w;
        ec_buf_reset(&b);
        ec_jw_init(&w, &b);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "name"), ec_jw_str(&w, *g0->name ? g0->name : g0->site_id);
        coordinates(&w, g0->pos.lat, g0->pos.lon);
        operator_fields(&w, operator_id, g0->operator_name);
        /* Our sites file lists truck charging, so its sites are claimed for
         * trucks, except destination chargers (emit notes those). */
        double max_w = 0;
        for (size_t j = run; j < run_end; j++)
            if (order[j]->power_w > max_w) max_w = order[j]->power_w;
        if (!is_destination(max_w)) {
            ec_jw_key(&w, "truck_access");
            ec_jw_raw(&w, "{\"vehicle_types\":[\"RIGID\",\"SEMI_TRACTOR\"]}");
        }
        ec_jw_key(&w, "evses");
        ec_jw_arr_begin(&w);
        for (size_t j = run, gi = 0; j < run_end; j++) {
            const ec_connector_group_t *g = order[j];
            char tid[EC_REG_ID_MAX + 1];
            int priced = g->price_per_kwh || g->price_per_min;
            if (priced) tariff_id(g, operator_id, tid);
            gi++;
            const char *std = ec_reg_plug_standard(g->standard);
            int ac = g->standard == EC_PLUG_TYPE2;
            for (int c = 0; c < g->count; c++) {
                char uid[48];
                snprintf(uid, sizeof uid, "E%zu-%d", gi, c + 1);
                evse(&w, uid, c < g->available ? "AVAILABLE" : "CHARGING", std, "CABLE",
                     ac ? "AC_3_PHASE" : "DC", g->power_w, 0, 0, priced ? tid : NULL);
            }
        }
        ec_jw_arr_end(&w);
        ec_jw_obj_end(&w);
        snprintf(src, sizeof src, "csv:%s", g0->site_id);
        rc = emit(out, EC_KIND_SITE, src, g0->site_id, where, &b);
    }
done:
    ec_free((void *)order);
    ec_buf_free(&b);
    ec_sites_free(&sites);
    return rc;
}

/* ---- GeoJSON ----------------------------------------------------------- */

/* OpenStreetMap socket:* keys and the standards they name. */
static const struct {
    const char *tag, *standard, *power_type;
} osm_sockets[] = {
    {"type2", "IEC_62196_T2", "AC_3_PHASE"},         {"type2_cable", "IEC_62196_T2", "AC_3_PHASE"},
    {"type2_combo", "IEC_62196_T2_COMBO", "DC"},     {"combo2", "IEC_62196_T2_COMBO", "DC"},
    {"ccs", "IEC_62196_T2_COMBO", "DC"},             {"type1", "IEC_62196_T1", "AC_1_PHASE"},
    {"type1_combo", "IEC_62196_T1_COMBO", "DC"},     {"chademo", "CHADEMO", "DC"},
    {"tesla_supercharger", "TESLA_S", "DC"},         {"nacs", "SAE_J3400", "DC"},
    {"mcs", "MCS", "DC"},                            {"schuko", "DOMESTIC_F", "AC_1_PHASE"},
    {"type3c", "IEC_62196_T3C", "AC_3_PHASE"},
};

static double number_in(const char *s)
{
    /* "22 kW", "22", "22kW": the leading number. */
    double v = 0;
    char t[32];
    size_t i = 0;
    while (s && s[i] && i < sizeof t - 1 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) t[i] = s[i], i++;
    t[i] = 0;
    return i && ec_parse_double(t, &v) == 0 ? v : 0;
}

static int point_of(const ec_json *geom, double *lat, double *lon)
{
    const char *type = ec_json_str(ec_json_get(geom, "type"));
    const ec_json *c = ec_json_get(geom, "coordinates");
    if (!type) return -1;
    if (!strcmp(type, "MultiPolygon")) c = ec_json_array_get(c, 0), type = "Polygon";
    if (!strcmp(type, "Polygon")) {
        /* The mean of the outer ring's vertices (the closing one counted once). */
        const ec_json *ring = ec_json_array_get(c, 0);
        size_t n = ec_json_array_size(ring);
        if (n > 1) n--;
        double sx = 0, sy = 0;
        for (size_t i = 0; i < n; i++) {
            double x, y;
            const ec_json *p = ec_json_array_get(ring, i);
            if (ec_json_number(ec_json_array_get(p, 0), &x) || ec_json_number(ec_json_array_get(p, 1), &y)) return -1;
            sx += x, sy += y;
        }
        if (!n) return -1;
        *lon = sx / (double)n, *lat = sy / (double)n;
        return 0;
    }
    if (strcmp(type, "Point")) return -1;
    if (ec_json_number(ec_json_array_get(c, 0), lon) || ec_json_number(ec_json_array_get(c, 1), lat)) return -1;
    return 0;
}

/* Our own connectors property: [{"standard","power_kw","count"}]. */
static ec_err geo_connectors(ec_jw *w, const ec_json *list, const char *where, int *n_evse, double *max_w)
{
    for (size_t i = 0; i < ec_json_array_size(list); i++) {
        const ec_json *c = ec_json_array_get(list, i);
        const char *std = ec_json_str(ec_json_get(c, "standard"));
        double kw = 0, count = 1;
        if (!std) return ec_fail(EC_EPARSE, "%s: connectors[%zu].standard must be a string", where, i);
        if ((ec_json_get(c, "power_kw") && ec_json_number(ec_json_get(c, "power_kw"), &kw)) ||
            (ec_json_get(c, "count") && ec_json_number(ec_json_get(c, "count"), &count)) || count < 1 ||
            count > 256 || count != floor(count))
            return ec_fail(EC_EPARSE, "%s: connectors[%zu]: power_kw must be a number and count 1..256", where, i);
        for (int k = 0; k < (int)count; k++) {
            char uid[48];
            snprintf(uid, sizeof uid, "E%d", ++*n_evse);
            evse(w, uid, "UNKNOWN", std, "CABLE", !strcmp(std, "IEC_62196_T2") ? "AC_3_PHASE" : "DC",
                 kw * 1000.0, 0, 0, NULL);
        }
        if (kw * 1000.0 > *max_w) *max_w = kw * 1000.0;
    }
    return EC_OK;
}

static void osm_connectors(ec_jw *w, const ec_json *props, int *n_evse, double *max_w)
{
    for (size_t s = 0; s < sizeof osm_sockets / sizeof osm_sockets[0]; s++) {
        char key[64];
        snprintf(key, sizeof key, "socket:%s", osm_sockets[s].tag);
        const char *v = ec_json_str(ec_json_get(props, key));
        if (!v || !strcmp(v, "no") || !strcmp(v, "0")) continue;
        int count = (int)number_in(v);
        if (count < 1 || count > 64) count = 1; /* "yes" */
        double kw = 0;
        const char *suffixes[] = {":output", ":power"};
        for (int k = 0; k < 2 && kw == 0; k++) {
            char pk[80];
            snprintf(pk, sizeof pk, "%s%s", key, suffixes[k]);
            kw = number_in(ec_json_str(ec_json_get(props, pk)));
        }
        for (int c = 0; c < count; c++) {
            char uid[48];
            snprintf(uid, sizeof uid, "E%d", ++*n_evse);
            evse(w, uid, "UNKNOWN", osm_sockets[s].standard, "SOCKET", osm_sockets[s].power_type,
                 kw > 0 && kw < 5000 ? kw * 1000.0 : 0, 0, 0, NULL);
        }
        if (kw > 0 && kw < 5000 && kw * 1000.0 > *max_w) *max_w = kw * 1000.0;
    }
}

static ec_err import_geojson(const char *name, const char *text, size_t len,
                             const char *operator_id, out_t *out)
{
    ec_json *root;
    ec_err rc = ec_json_load_buf(text, len, name, &root);
    if (rc) return rc;
    const ec_json *features = ec_json_get(root, "features");
    const char *type = ec_json_str(ec_json_get(root, "type"));
    if (!type || strcmp(type, "FeatureCollection") || !ec_json_is_array(features)) {
        ec_json_free(root);
        return ec_fail(EC_EPARSE, "%s: expected a GeoJSON FeatureCollection with a features array", name);
    }
    ec_buf b;
    ec_buf_init(&b, EC_REG_DOC_MAX);
    for (size_t i = 0; i < ec_json_array_size(features) && !rc; i++) {
        const ec_json *f = ec_json_array_get(features, i);
        const ec_json *props = ec_json_get(f, "properties");
        char where[160], ext[64] = "", id[EC_REG_ID_MAX + 1], src[80];
        /* Notes name a feature by its OpenStreetMap id ("way/311286575") or
         * its own id where it has one; messages add its place in the file. */
        const char *fid = ec_json_str(ec_json_get(f, "id"));
        const char *pid = ec_json_str(ec_json_get(props, "id"));
        const char *label = fid ? fid : pid;
        if (label) {
            snprintf(out->label, sizeof out->label, "%.80s", label);
            snprintf(where, sizeof where, "%s: %.80s (feature %zu)", name, label, i);
        } else {
            snprintf(out->label, sizeof out->label, "feature %zu", i);
            snprintf(where, sizeof where, "%s: feature %zu", name, i);
        }
        out->done = (double)(i + 1) / (double)ec_json_array_size(features);
        double lat, lon;
        if (!ec_json_is_object(f) || (props && !ec_json_is_object(props))) {
            rc = ec_fail(EC_EPARSE, "%s: expected a Feature object with object properties", where);
            break;
        }
        if (point_of(ec_json_get(f, "geometry"), &lat, &lon) || !(lat >= -90 && lat <= 90) ||
            !(lon >= -180 && lon <= 180)) {
            rc = ec_fail(EC_EPARSE, "%s: geometry must be a Point or Polygon in WGS84 longitude, latitude", where);
            break;
        }
        double nid;
        if (pid) {
            clip(ext, sizeof ext, pid);
            make_id(id, sizeof id, "", ext);
        } else if (fid) {
            clip(ext, sizeof ext, fid);
            make_id(id, sizeof id, "osm-", ext);
        } else if (!ec_json_number(ec_json_get(f, "id"), &nid)) {
            snprintf(ext, sizeof ext, "%.0f", nid);
            make_id(id, sizeof id, "geo-", ext);
        } else {
            /* No identifier: the place itself is the record's identity. */
            snprintf(ext, sizeof ext, "%.6f,%.6f", lat, lon);
            snprintf(id, sizeof id, "geo-%016llx", (unsigned long long)ec_hash_bytes(ext, strlen(ext)));
        }
        snprintf(src, sizeof src, "geojson:%s", ext);
        const char *nm = ec_json_str(ec_json_get(props, "name"));
        const char *op = ec_json_str(ec_json_get(props, "operator"));
        ec_jw w;
        ec_buf_reset(&b);
        ec_jw_init(&w, &b);
        ec_jw_obj_begin(&w);
        char fallback[96];
        snprintf(fallback, sizeof fallback, "Charging station %s", ext);
        key_clip(&w, "name", nm ? nm : op ? op : fallback, 255);
        coordinates(&w, lat, lon);
        operator_fields(&w, operator_id, op);
        key_clip(&w, "address", ec_json_str(ec_json_get(props, "addr:street")), 45);
        key_clip(&w, "city", ec_json_str(ec_json_get(props, "addr:city")), 45);
        key_clip(&w, "postal_code", ec_json_str(ec_json_get(props, "addr:postcode")), 10);
        ec_jw_key(&w, "evses");
        ec_jw_arr_begin(&w);
        int n_evse = 0;
        double max_w = 0;
        const ec_json *conns = ec_json_get(props, "connectors");
        if (conns)
            rc = geo_connectors(&w, conns, where, &n_evse, &max_w);
        else
            osm_connectors(&w, props, &n_evse, &max_w);
        ec_jw_arr_end(&w);
        /* hgv=yes says trucks may stop, not that they can charge there: a
         * destination charger is not claimed for them (emit notes it). */
        const char *hgv = ec_json_str(ec_json_get(props, "hgv"));
        if (hgv && !strcmp(hgv, "yes") && !is_destination(max_w)) {
            ec_jw_key(&w, "truck_access");
            ec_jw_raw(&w, "{\"vehicle_types\":[\"RIGID\",\"SEMI_TRACTOR\"]}");
        }
        ec_jw_obj_end(&w);
        if (rc) break;
        if (!n_evse) skip(out, out->label, "kept without EVSEs: no connector the register knows");
        rc = emit(out, EC_KIND_SITE, src, id, where, &b);
    }
    ec_buf_free(&b);
    ec_json_free(root);
    return rc;
}

/* ---- Open Charge Map POI JSON ------------------------------------------ */

static const char *ocm_standard(int type_id, const char **power_type)
{
    switch (type_id) {
    case 1: *power_type = "AC_1_PHASE"; return "IEC_62196_T1";
    case 2: *power_type = "DC"; return "CHADEMO";
    case 25: *power_type = "AC_3_PHASE"; return "IEC_62196_T2";
    case 1036: *power_type = "AC_3_PHASE"; return "IEC_62196_T2";
    case 27: *power_type = "DC"; return "SAE_J3400";
    case 30: *power_type = "DC"; return "TESLA_S";
    case 8: *power_type = "AC_1_PHASE"; return "TESLA_R";
    case 32: *power_type = "DC"; return "IEC_62196_T1_COMBO";
    case 33: *power_type = "DC"; return "IEC_62196_T2_COMBO";
    case 9: *power_type = "AC_1_PHASE"; return "NEMA_5_20";
    case 28: *power_type = "AC_1_PHASE"; return "DOMESTIC_G";
    default: return NULL;
    }
}

static const char *ocm_status(double id)
{
    switch ((int)id) {
    case 10:
    case 50:
    case 75: return "AVAILABLE";
    case 20: return "CHARGING";
    case 30: return "OUTOFORDER";
    case 100: return "INOPERATIVE";
    case 150: return "PLANNED";
    case 200:
    case 210: return "REMOVED";
    default: return "UNKNOWN";
    }
}

static double num_or(const ec_json *obj, const char *key, double dflt)
{
    double v;
    return ec_json_number(ec_json_get(obj, key), &v) == 0 ? v : dflt;
}

static ec_err import_ocm(const char *name, const char *text, size_t len, const char *operator_id,
                         out_t *out)
{
    ec_json *root;
    ec_err rc = ec_json_load_buf(text, len, name, &root);
    if (rc) return rc;
    if (!ec_json_is_array(root)) {
        ec_json_free(root);
        return ec_fail(EC_EPARSE, "%s: expected an Open Charge Map POI array", name);
    }
    ec_buf b;
    ec_buf_init(&b, EC_REG_DOC_MAX);
    for (size_t i = 0; i < ec_json_array_size(root) && !rc; i++) {
        const ec_json *p = ec_json_array_get(root, i);
        const ec_json *a = ec_json_get(p, "AddressInfo");
        char where[160], src[80], id[EC_REG_ID_MAX + 1];
        double poi, lat, lon;
        if (ec_json_number(ec_json_get(p, "ID"), &poi)) {
            rc = ec_fail(EC_EPARSE, "%s: record %zu: ID must be a number", name, i);
            break;
        }
        snprintf(where, sizeof where, "%s: record %zu (ID %.0f)", name, i, poi);
        snprintf(out->label, sizeof out->label, "POI %.0f", poi);
        out->done = (double)(i + 1) / (double)ec_json_array_size(root);
        if (ec_json_number(ec_json_get(a, "Latitude"), &lat) || ec_json_number(ec_json_get(a, "Longitude"), &lon) ||
            !(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180)) {
            rc = ec_fail(EC_EPARSE, "%s: AddressInfo.Latitude and Longitude must be WGS84 numbers", where);
            break;
        }
        double status = num_or(p, "StatusTypeID", 0);
        if (status == 200 || status == 210) {
            skip(out, out->label, "skipped: removed (StatusTypeID %.0f)", status);
            continue;
        }
        ec_jw w;
        ec_buf_reset(&b);
        ec_jw_init(&w, &b);
        ec_jw_obj_begin(&w);
        const char *title = ec_json_str(ec_json_get(a, "Title"));
        char fallback[48];
        snprintf(fallback, sizeof fallback, "Open Charge Map %.0f", poi);
        key_clip(&w, "name", title && *title ? title : fallback, 255);
        coordinates(&w, lat, lon);
        key_clip(&w, "address", ec_json_str(ec_json_get(a, "AddressLine1")), 45);
        key_clip(&w, "city", ec_json_str(ec_json_get(a, "Town")), 45);
        key_clip(&w, "postal_code", ec_json_str(ec_json_get(a, "Postcode")), 10);
        key_clip(&w, "state", ec_json_str(ec_json_get(a, "StateOrProvince")), 20);
        /* The register takes ISO 3166-1 capitals only: anything else is left out
         * rather than failing the file. */
        const char *iso = ec_json_str(ec_json_get(ec_json_get(a, "Country"), "ISOCode"));
        if (iso && ec_reg_country_valid(iso)) key_clip(&w, "country", iso, 3);
        operator_fields(&w, operator_id, ec_json_str(ec_json_get(ec_json_get(p, "OperatorInfo"), "Title")));
        ec_jw_key(&w, "evses");
        ec_jw_arr_begin(&w);
        const ec_json *conns = ec_json_get(p, "Connections");
        int n_evse = 0;
        for (size_t c = 0; c < ec_json_array_size(conns) && n_evse < 256; c++) {
            const ec_json *x = ec_json_array_get(conns, c);
            const char *pt = "DC";
            int type = (int)num_or(x, "ConnectionTypeID", 0);
            const char *std = ocm_standard(type, &pt);
            if (!std) {
                char cw[128];
                snprintf(cw, sizeof cw, "%s connection %zu", out->label, c + 1);
                skip(out, cw, "left out: connection type %d has no OCPI standard", type);
                continue;
            }
            double current = num_or(x, "CurrentTypeID", 0);
            if (current == 10) pt = "AC_1_PHASE";
            if (current == 20) pt = "AC_3_PHASE";
            if (current == 30) pt = "DC";
            int qty = (int)num_or(x, "Quantity", 1);
            if (qty < 1 || qty > 64) qty = 1;
            double kw = num_or(x, "PowerKW", 0);
            const char *st = ocm_status(num_or(x, "StatusTypeID", status));
            for (int q = 0; q < qty && n_evse < 256; q++) {
                char uid[48];
                snprintf(uid, sizeof uid, "C%zu-%d", c + 1, q + 1);
                evse(&w, uid, st, std, "CABLE", pt, kw > 0 && kw < 5000 ? kw * 1000 : 0,
                     num_or(x, "Voltage", 0) < 2000 ? num_or(x, "Voltage", 0) : 0,
                     num_or(x, "Amps", 0) < 4000 ? num_or(x, "Amps", 0) : 0, NULL);
                n_evse++;
            }
        }
        ec_jw_arr_end(&w);
        ec_jw_obj_end(&w);
        snprintf(src, sizeof src, "ocm:%.0f", poi);
        snprintf(id, sizeof id, "ocm-%.0f", poi);
        rc = emit(out, EC_KIND_SITE, src, id, where, &b);
    }
    ec_buf_free(&b);
    ec_json_free(root);
    return rc;
}

/* ---- AFDC alt_fuel_stations CSV ---------------------------------------- */

/* The AFDC file lists connector kinds per station and counts per level, not
 * per connector: DC fast ports get the station's DC connectors in turn, level
 * 1 and 2 ports its AC ones. Power is not in the file: DC ports are given
 * 50 kW and level 2 ports 7.2 kW, the common ratings, unless the AFDC
 * "EV DC Fast Count" is zero. */
static ec_err import_afdc(const char *name, const char *text, size_t len, const char *operator_id,
                          out_t *out)
{
    static const char *const cols[] = {"Fuel Type Code", "Station Name", "Street Address", "City",
                                       "State",          "ZIP",          "Latitude",       "Longitude",
                                       "ID",             "EV Level1 EVSE Num", "EV Level2 EVSE Num",
                                       "EV DC Fast Count", "EV Network", "EV Connector Types",
                                       "Status Code"};
    enum { C_FUEL, C_NAME, C_ADDR, C_CITY, C_STATE, C_ZIP, C_LAT, C_LON, C_ID, C_L1, C_L2, C_DC, C_NET,
           C_CONN, C_STATUS, N_COLS };
    int at[N_COLS];
    ec_csv r;
    ec_csv_init(&r, name, text, len, ',');
    ec_buf b;
    ec_buf_init(&b, EC_REG_DOC_MAX);
    ec_err rc = ec_csv_next(&r);
    if (rc) {
        if (rc == EC_EOF) rc = ec_fail(EC_EPARSE, "%s: empty file, expected the AFDC header", name);
        goto done;
    }
    for (int k = 0; k < N_COLS; k++) {
        at[k] = ec_csv_find(&r, cols[k]);
        if (at[k] < 0 && k <= C_DC) {
            rc = ec_fail(EC_EPARSE, "%s:1: header lacks AFDC column \"%s\"", name, cols[k]);
            goto done;
        }
    }
    while ((rc = ec_csv_next(&r)) == EC_OK) {
        const char *f[N_COLS];
        for (int k = 0; k < N_COLS; k++) f[k] = at[k] >= 0 && (size_t)at[k] < r.nfields ? r.fields[at[k]] : "";
        char where[160], src[80], id[EC_REG_ID_MAX + 1];
        snprintf(where, sizeof where, "%s:%ld", name, r.line);
        snprintf(out->label, sizeof out->label, "line %ld (ID %.20s)", r.line, f[C_ID]);
        out->done = len ? (double)r.pos / (double)len : 1.0;
        if (strcmp(f[C_FUEL], "ELEC")) {
            skip(out, out->label, "skipped: fuel type %.8s is not electric", f[C_FUEL]);
            continue;
        }
        double lat, lon;
        int64_t ext, n[3] = {0, 0, 0};
        if (ec_parse_i64(f[C_ID], &ext) || ext < 0) {
            rc = ec_fail(EC_EPARSE, "%s: ID \"%.20s\" is not a number", where, f[C_ID]);
            break;
        }
        if (ec_parse_double(f[C_LAT], &lat) || ec_parse_double(f[C_LON], &lon) || !(lat >= -90 && lat <= 90) ||
            !(lon >= -180 && lon <= 180)) {
            rc = ec_fail(EC_EPARSE, "%s: Latitude,Longitude \"%.20s,%.20s\" is not a WGS84 coordinate", where,
                         f[C_LAT], f[C_LON]);
            break;
        }
        for (int k = 0; k < 3; k++) {
            const char *v = f[C_L1 + k];
            if (*v && strcmp(v, "NONE") && (ec_parse_i64(v, &n[k]) || n[k] < 0 || n[k] > 256)) {
                rc = ec_fail(EC_EPARSE, "%s: %s \"%.20s\" is not a count 0..256", where, cols[C_L1 + k], v);
                break;
            }
        }
        if (rc) break;
        /* Connector kinds, space-separated: J1772 J1772COMBO CHADEMO TESLA NEMA520 ... */
        const char *ac_std = NULL, *dc_std[4];
        int n_dc = 0;
        char conn[256];
        clip(conn, sizeof conn, f[C_CONN]);
        for (char *save = NULL, *tok = strtok_r(conn, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            if (!strcmp(tok, "J1772")) ac_std = "IEC_62196_T1";
            else if (!strcmp(tok, "NEMA520") && !ac_std) ac_std = "NEMA_5_20";
            else if (!strcmp(tok, "NEMA1450") && !ac_std) ac_std = "NEMA_14_50";
            else if (!strcmp(tok, "J1772COMBO") && n_dc < 4) dc_std[n_dc++] = "IEC_62196_T1_COMBO";
            else if (!strcmp(tok, "CHADEMO") && n_dc < 4) dc_std[n_dc++] = "CHADEMO";
            else if (!strcmp(tok, "TESLA") && n_dc < 4) dc_std[n_dc++] = "SAE_J3400";
        }
        const char *status = !strcmp(f[C_STATUS], "E") ? "AVAILABLE"
                             : !strcmp(f[C_STATUS], "P") ? "PLANNED"
                             : !strcmp(f[C_STATUS], "T") ? "OUTOFORDER" : "UNKNOWN";
        ec_jw w;
        ec_buf_reset(&b);
        ec_jw_init(&w, &b);
        ec_jw_obj_begin(&w);
        key_clip(&w, "name", *f[C_NAME] ? f[C_NAME] : f[C_ID], 255);
        coordinates(&w, lat, lon);
        key_clip(&w, "address", f[C_ADDR], 45);
        key_clip(&w, "city", f[C_CITY], 45);
        key_clip(&w, "state", f[C_STATE], 20);
        key_clip(&w, "postal_code", f[C_ZIP], 10);
        ec_jw_key(&w, "country"), ec_jw_str(&w, "US");
        operator_fields(&w, operator_id, f[C_NET]);
        ec_jw_key(&w, "evses");
        ec_jw_arr_begin(&w);
        int made = 0;
        for (int64_t k = 0; k < n[2] && n_dc; k++) {
            char uid[48];
            snprintf(uid, sizeof uid, "DC-%lld", (long long)k + 1);
            evse(&w, uid, status, dc_std[k % n_dc], "CABLE", "DC", 50000, 0, 0, NULL), made++;
        }
        for (int lvl = 0; lvl < 2 && ac_std; lvl++)
            for (int64_t k = 0; k < n[lvl]; k++) {
                char uid[48];
                snprintf(uid, sizeof uid, "L%d-%lld", lvl + 1, (long long)k + 1);
                evse(&w, uid, status, ac_std, "CABLE", "AC_1_PHASE", lvl ? 7200 : 1900, 0, 0, NULL), made++;
            }
        ec_jw_arr_end(&w);
        ec_jw_obj_end(&w);
        if (!made) skip(out, out->label, "kept without EVSEs: no port with a connector the register knows");
        snprintf(src, sizeof src, "afdc:%lld", (long long)ext);
        snprintf(id, sizeof id, "afdc-%lld", (long long)ext);
        if ((rc = emit(out, EC_KIND_SITE, src, id, where, &b))) break;
    }
    if (rc == EC_EOF) rc = EC_OK;
done:
    ec_csv_free(&r);
    ec_buf_free(&b);
    return rc;
}

ec_err ec_import_parse(ec_import_format f, const char *name, const char *text, size_t len,
                       const char *operator_id, ec_import_sink sink, void *ctx, ec_import_set *set)
{
    set->n_records = 0;
    ec_vec_init(&set->skipped, sizeof(ec_import_skip_t));
    out_t o = {set, sink, ctx, 0.0, ""}, *out = &o;
    if (len > EC_IMPORT_MAX_BYTES) return ec_fail(EC_ELIMIT, "%s: larger than %u MiB", name, EC_IMPORT_MAX_BYTES >> 20);
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) text += 3, len -= 3; /* a UTF-8 byte order mark */
    ec_err rc;
    switch (f) {
    case EC_IMPORT_CSV: rc = import_csv(name, text, len, operator_id, out); break;
    case EC_IMPORT_GEOJSON: rc = import_geojson(name, text, len, operator_id, out); break;
    case EC_IMPORT_OCM: rc = import_ocm(name, text, len, operator_id, out); break;
    case EC_IMPORT_AFDC: rc = import_afdc(name, text, len, operator_id, out); break;
    default: rc = EC_EINVAL;
    }
    return rc;
}

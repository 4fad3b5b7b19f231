/* ec_register.h - the shared register's kinds of object, their shapes and validation.
 *
 * Every kind (jurisdictions, organisations, sites with their EVSEs and
 * connectors, substations, renewables, tariffs; and charge points and tokens)
 * is declared once as a table of fields; validation, PATCH merging, defaults
 * and the canonical JSON document stored and served are all derived from that
 * table. Shapes follow OCPI 2.2.1
 * where one exists (Location, EVSE, Connector, Tariff). No I/O here: references
 * to other objects are returned for the caller to check against its store.
 */
#ifndef EC_REGISTER_H
#define EC_REGISTER_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_json.h"

typedef enum {
    EC_KIND_JURISDICTION,
    EC_KIND_ORGANISATION,
    EC_KIND_SITE,
    EC_KIND_SUBSTATION,
    EC_KIND_RENEWABLE,
    EC_KIND_TARIFF,
    EC_KIND_COUNT, /* the kinds above: the register's objects, one store table and /api/v1/{kind} */
    /* Kinds the store keeps in tables of their own, with their own API
     * (chargers: OCPP credentials and live state; tokens: the OCPP idTags):
     * their bodies are checked by their field tables (ec_reg_check). */
    EC_KIND_CHARGER = EC_KIND_COUNT,
    EC_KIND_TOKEN,
    EC_KIND_ALL
} ec_kind;

#define EC_REG_ID_MAX 36        /* OCPI's limit on location and tariff ids */
#define EC_REG_DOC_MAX (1u << 20) /* bytes of one stored document */
#define EC_REG_MAX_REFS 8

/* The kind's plural name as in the API path ("sites", "chargers"), or NULL. */
const char *ec_kind_name(ec_kind k);
/* 0 and *out for the plural name of one of the register's objects
 * ("sites"; not "chargers" or "tokens"), -1 for none. */
int ec_kind_parse(const char *name, ec_kind *out);

/* What a validation error names: an error code for the API, the field path
 * ("evses[0].connectors[1].standard") and a sentence. */
typedef struct {
    char code[32];   /* "invalid_field", "unknown_field", "missing_field", "wrong_type" */
    char field[128];
    char message[256];
} ec_reg_error_t;

/* What the store indexes and checks for one document. */
typedef struct {
    char operator_id[EC_REG_ID_MAX + 1];     /* "" when none */
    char jurisdiction_id[EC_REG_ID_MAX + 1]; /* "" when none */
    int has_pos;
    double lat, lon;
    char standards[256]; /* sites: ",MCS,IEC_62196_T2_COMBO," */
    char statuses[128];  /* sites: ",AVAILABLE,CHARGING," */
    double max_power_w;  /* sites: the largest connector */
    int truck;           /* sites: a truck may use it */
    int n_refs;          /* other objects this one names, which must exist */
    struct {
        ec_kind kind;
        char id[EC_REG_ID_MAX + 1];
        char field[64];
    } refs[EC_REG_MAX_REFS];
} ec_reg_index_t;

/* Validates `input` as a `k` and writes its canonical document into doc
 * (which the caller has initialised). With `base` (the stored document, for
 * PATCH) fields absent from input keep base's value; without it, absent fields
 * take their defaults. `id` is the object's id; `now_s` sets last_updated.
 * Unknown fields, wrong types, out-of-range values and missing required
 * fields are EC_EINVAL with *err filled in, and doc is left as it was; a
 * document over EC_REG_DOC_MAX bytes is EC_EINVAL too and leaves doc empty. */
ec_err ec_reg_normalize(ec_kind k, const ec_json *input, const ec_json *base, const char *id,
                        int64_t now_s, ec_buf *doc, ec_reg_index_t *idx, ec_reg_error_t *err);

/* Checks input (a body for a new object or a PATCH) against k's field table
 * without writing a document: EC_OK, or EC_EINVAL with *err naming the code,
 * the field and why. Kinds below EC_KIND_COUNT take null as "clear this
 * field"; chargers and tokens refuse it (wrong_type). This is how chargers
 * and tokens, whose documents their API composes, are validated. */
ec_err ec_reg_check(ec_kind k, const ec_json *input, ec_reg_error_t *err);

/* Writes a site document's GeoJSON Feature (properties: id, name, operator,
 * operator_id, evses, connectors, max_power_kw) as one JSON value. */
ec_err ec_reg_site_feature(const ec_json *site, ec_jw *w);

/* A site's state on a map, by one rule, from its EVSEs' OCPI statuses:
 * "available" when any EVSE is AVAILABLE; else "charging" when any is
 * CHARGING, BLOCKED or RESERVED (every usable point taken); else
 * "out_of_order" when any is OUTOFORDER or INOPERATIVE (none usable); else
 * "unknown" (no EVSEs, or only UNKNOWN, PLANNED, REMOVED or none given).
 * A static string; "unknown" for anything that is not a site document. */
const char *ec_reg_site_state(const ec_json *site);

/* 1 when s is a valid object id: 1..36 of [A-Za-z0-9._-]. */
int ec_reg_id_valid(const char *s);
/* 1 when s is an ISO 3166-1 code as OCPI writes it: two or three capitals. */
int ec_reg_country_valid(const char *s);

/* The connector standards the register knows (OCPI ConnectorType values and
 * MCS), NULL-terminated. */
extern const char *const ec_reg_standards[];

/* ---- import ------------------------------------------------------------ */

#include "ecorridor/ec_model.h"

typedef enum { EC_IMPORT_CSV, EC_IMPORT_GEOJSON, EC_IMPORT_OCM, EC_IMPORT_AFDC } ec_import_format;

#define EC_IMPORT_MAX_BYTES (256u << 20)
#define EC_IMPORT_MAX_RECORDS 1000000

/* One object read from a file: what to store, under which import key. */
typedef struct {
    ec_kind kind;
    char source[80];            /* "ocm:1234": the same record imported again */
    char id[EC_REG_ID_MAX + 1]; /* the id it gets when new */
    char where[160];             /* "line 12", "record 3" for messages */
    double done;                /* share of the file read so far, 0..1, for progress */
    ec_json *input;             /* the object, as the API would accept it */
} ec_import_record_t;

typedef struct {
    char where[160];
    char reason[160];
} ec_import_skip_t;

typedef struct {
    size_t n_records; /* records handed to the sink */
    ec_vec skipped;   /* ec_import_skip_t: records or parts left out, and why */
} ec_import_set;

/* Receives each record as it is read; r and r->input are borrowed for the
 * call. A non-zero return stops the reading with that error. */
typedef ec_err (*ec_import_sink)(void *ctx, const ec_import_record_t *r);

/* 0 and *out for "csv", "geojson", "ocm", "afdc"; -1 otherwise. */
int ec_import_format_parse(const char *s, ec_import_format *out);
/* The format a file's name and first bytes suggest. */
ec_import_format ec_import_guess(const char *name, const char *text, size_t len);

/* Reads a whole file of the given format, handing each record to sink (may
 * be NULL: only check) in file order, one at a time, so a large file is never
 * held parsed in memory. operator_id (may be NULL) becomes every site's and
 * tariff's operator. A malformed file is an error naming line or record and
 * field; the caller makes that all or nothing (ec_store_import_* run the sink
 * inside one transaction). Records that are well-formed but carry nothing
 * we can use are skipped with a reason in out->skipped. */
ec_err ec_import_parse(ec_import_format f, const char *name, const char *text, size_t len,
                       const char *operator_id, ec_import_sink sink, void *ctx, ec_import_set *out);
void ec_import_set_free(ec_import_set *s);

/* The OCPI connector standard for a routing plug, and back (-1: none). */
const char *ec_reg_plug_standard(ec_plug p);
int ec_reg_standard_plug(const char *standard, ec_plug *out);

/* Connector groups for routing from stored site documents and the tariffs
 * that name them (site_id): one group per (site, standard, power), connectors
 * AVAILABLE counted as free, price from the site's ENERGY and TIME
 * components. Documents are JSON texts; unusable connectors are left out. */
ec_err ec_reg_sites_for_routing(const char *const *site_docs, size_t n_sites,
                                const char *const *tariff_docs, size_t n_tariffs, ec_sites *out);

/* The same with every EVSE the sites have, whatever its status now (AFIR
 * counts installed points, not those out of service this minute). */
ec_err ec_reg_sites_installed(const char *const *site_docs, size_t n_sites, const char *const *tariff_docs,
                              size_t n_tariffs, ec_sites *out);

/* The dynamic price per kWh at site_id now (NAN: none known). */
typedef double (*ec_dynamic_price_fn)(void *ctx, const char *site_id);
/* The same, with a dynamic tariff's ENERGY margin put on top of the site's
 * dynamic price from fn (NULL: the margin alone); *dynamic_used (may be
 * NULL) says whether any price came from it, so the caller knows the result
 * ages with the price. */
ec_err ec_reg_sites_for_routing_priced(const char *const *site_docs, size_t n_sites, const char *const *tariff_docs,
                                       size_t n_tariffs, ec_dynamic_price_fn fn, void *ctx, ec_sites *out,
                                       int *dynamic_used);

#endif

/* register.c - the register's kinds declared once as field tables; validation,
 * PATCH merging, defaults and the canonical document derived from them. */
#include "ecorridor/ec_register.h"
#include "ecorridor/ec_session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { F_STR, F_DEC, F_NUM, F_INT, F_BOOL, F_ENUM, F_OBJ, F_ARR, F_REF } ftype;

typedef struct field field;
struct field {
    const char *name;
    ftype type;
    int required;
    double min, max;            /* F_DEC/F_NUM/F_INT range; F_STR: min and max the length; F_REF: max */
    const char *const *enums;   /* F_ENUM */
    const field *sub;           /* F_OBJ: members, name-NULL terminated */
    const field *item;          /* F_ARR: one field describing every item */
    const char *def;            /* JSON written when absent (no base) */
    int ref;                    /* F_REF: the ec_kind it names; F_STR: its shape (FMT_*) */
};

/* Shapes a string field must have, beyond its length. */
enum { FMT_TEXT, FMT_TIME_ZONE, FMT_COUNTRY, FMT_HHMM, FMT_CP_ID, FMT_TOKEN_UID, FMT_DATE_TIME };

#define STR(n, len) {n, F_STR, 0, 0, len, NULL, NULL, NULL, NULL, 0}
#define STRQ(n, len) {n, F_STR, 1, 0, len, NULL, NULL, NULL, NULL, 0}
#define NUM(n, lo, hi) {n, F_NUM, 0, lo, hi, NULL, NULL, NULL, NULL, 0}
#define NUMQ(n, lo, hi) {n, F_NUM, 1, lo, hi, NULL, NULL, NULL, NULL, 0}
#define INT(n, lo, hi) {n, F_INT, 0, lo, hi, NULL, NULL, NULL, NULL, 0}
#define INTD(n, lo, hi, d) {n, F_INT, 0, lo, hi, NULL, NULL, NULL, d, 0}
#define BOOL(n, d) {n, F_BOOL, 0, 0, 0, NULL, NULL, NULL, d, 0}
#define ENUM(n, req, e, d) {n, F_ENUM, req, 0, 0, e, NULL, NULL, d, 0}
#define OBJ(n, req, s, d) {n, F_OBJ, req, 0, 0, NULL, s, NULL, d, 0}
#define ARR(n, req, it, maxn, d) {n, F_ARR, req, 0, maxn, NULL, NULL, it, d, 0}
#define REF(n, k) {n, F_REF, 0, 0, EC_REG_ID_MAX, NULL, NULL, NULL, NULL, k}
#define FMT(n, len, fmt) {n, F_STR, 0, 0, len, NULL, NULL, NULL, NULL, fmt}
#define FMTQ(n, len, fmt) {n, F_STR, 1, 0, len, NULL, NULL, NULL, NULL, fmt}
#define STRN(n, lo, hi) {n, F_STR, 0, lo, hi, NULL, NULL, NULL, NULL, 0}
#define FMTN(n, lo, hi, fmt) {n, F_STR, 0, lo, hi, NULL, NULL, NULL, NULL, fmt}
#define END {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0}

const char *const ec_reg_standards[] = {
    "MCS",          "IEC_62196_T1",       "IEC_62196_T1_COMBO", "IEC_62196_T2",
    "IEC_62196_T2_COMBO", "IEC_62196_T3A", "IEC_62196_T3C",     "CHADEMO",
    "CHAOJI",       "SAE_J3400",          "TESLA_R",            "TESLA_S",
    "GBT_AC",       "GBT_DC",             "DOMESTIC_A",         "DOMESTIC_B",
    "DOMESTIC_F",   "DOMESTIC_G",         "DOMESTIC_I",         "NEMA_5_20",
    "NEMA_6_30",    "NEMA_14_50",         "PANTOGRAPH_BOTTOM_UP", "PANTOGRAPH_TOP_DOWN",
    NULL};
static const char *const formats[] = {"SOCKET", "CABLE", NULL};
static const char *const power_types[] = {"AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT",
                                          "AC_3_PHASE", "DC", NULL};
static const char *const evse_statuses[] = {"AVAILABLE", "BLOCKED",  "CHARGING", "INOPERATIVE",
                                            "OUTOFORDER", "PLANNED", "REMOVED",  "RESERVED",
                                            "UNKNOWN",   NULL};
static const char *const vehicle_types[] = {"PERSONAL_VEHICLE", "VAN", "RIGID", "SEMI_TRACTOR",
                                            "TRUCK_WITH_TRAILER", "BUS", NULL};
static const char *const facilities[] = {
    "HOTEL",        "RESTAURANT",  "CAFE",          "MALL",           "SUPERMARKET",
    "SPORT",        "RECREATION_AREA", "NATURE",    "MUSEUM",         "BIKE_SHARING",
    "BUS_STOP",     "TAXI_STAND",  "TRAM_STOP",     "METRO_STATION",  "TRAIN_STATION",
    "AIRPORT",      "PARKING_LOT", "CARPOOL_PARKING", "FUEL_STATION", "WIFI",
    "TRUCK_PARKING", "SHOWERS",    "TOILETS",       NULL};
static const char *const jurisdiction_kinds[] = {"city", "region", "state", "country", NULL};
static const char *const org_kinds[] = {"agency", "utility", "operator", "fleet", NULL};
static const char *const renewable_kinds[] = {"solar", "wind", "hydro", "biomass", "other", NULL};
static const char *const tariff_types[] = {"AD_HOC_PAYMENT", "PROFILE_CHEAP", "PROFILE_FAST",
                                           "PROFILE_GREEN", "REGULAR", NULL};
static const char *const component_types[] = {"ENERGY", "FLAT", "PARKING_TIME", "TIME", NULL};
static const char *const weekdays[] = {"MONDAY", "TUESDAY",  "WEDNESDAY", "THURSDAY",
                                       "FRIDAY", "SATURDAY", "SUNDAY",    NULL};

static const field coordinates[] = {
    {"latitude", F_DEC, 1, -90, 90, NULL, NULL, NULL, NULL, 0},
    {"longitude", F_DEC, 1, -180, 180, NULL, NULL, NULL, NULL, 0}, END};
static const field business[] = {STRQ("name", 100), STR("website", 255), END};
static const field regular_hours[] = {INT("weekday", 1, 7), FMTQ("period_begin", 5, FMT_HHMM),
                                      FMTQ("period_end", 5, FMT_HHMM), END};
static const field regular_hours_item = OBJ(NULL, 0, regular_hours, NULL);
static const field opening_times[] = {
    {"twentyfourseven", F_BOOL, 1, 0, 0, NULL, NULL, NULL, NULL, 0},
    ARR("regular_hours", 0, &regular_hours_item, 28, NULL), END};
static const field vehicle_type_item = ENUM(NULL, 0, vehicle_types, NULL);
static const field truck_access[] = {ARR("vehicle_types", 0, &vehicle_type_item, 6, "[]"),
                                     NUM("max_length_m", 0, 100), NUM("max_height_m", 0, 10),
                                     NUM("max_weight_kg", 0, 200000),
                                     INTD("drive_through_bays", 0, 1000, "0"), END};
static const field planning[] = {NUM("rail_interchange_km", 0, 20000),
                                 NUM("logistics_hub_km", 0, 20000), NUM("renewable_km", 0, 20000),
                                 END};
static const field id_item = {NULL, F_STR, 0, 0, EC_REG_ID_MAX, NULL, NULL, NULL, NULL, 0};
static const field connector[] = {
    STRQ("id", 36),
    ENUM("standard", 1, ec_reg_standards, NULL),
    ENUM("format", 0, formats, "\"CABLE\""),
    ENUM("power_type", 0, power_types, "\"DC\""),
    INT("max_voltage", 0, 2000),
    INT("max_amperage", 0, 4000),
    INT("max_electric_power", 0, 5000000),
    ARR("tariff_ids", 0, &id_item, 16, NULL),
    END};
static const field connector_item = OBJ(NULL, 0, connector, NULL);
static const field evse[] = {STRQ("uid", 36), STR("evse_id", 48),
                             ENUM("status", 0, evse_statuses, "\"UNKNOWN\""),
                             ARR("connectors", 1, &connector_item, 24, NULL), END};
static const field evse_item = OBJ(NULL, 0, evse, NULL);
static const field facility_item = ENUM(NULL, 0, facilities, NULL);

static const char *const charging_algos[] = {"uncontrolled", "fcfs", "rr", "edf", "llf", "opt", NULL};
static const field charging[] = {ENUM("algo", 0, charging_algos, "\"opt\""),
                                 INTD("interval_s", 10, 3600, "60"),
                                 INTD("default_dwell_min", 1, 10080, "60"),
                                 NUM("default_kwh", 0, 10000), END};

static const field site_fields[] = {
    STRQ("name", 255),
    OBJ("coordinates", 1, coordinates, NULL),
    STR("address", 45),
    STR("city", 45),
    STR("postal_code", 10),
    STR("state", 20),
    FMT("country", 3, FMT_COUNTRY),
    FMT("time_zone", 64, FMT_TIME_ZONE),
    REF("jurisdiction_id", EC_KIND_JURISDICTION),
    REF("operator_id", EC_KIND_ORGANISATION),
    OBJ("operator", 0, business, NULL),
    OBJ("opening_times", 0, opening_times, "{\"twentyfourseven\":true}"),
    OBJ("truck_access", 0, truck_access, NULL),
    ARR("facilities", 0, &facility_item, 24, "[]"),
    OBJ("planning", 0, planning, NULL),
    REF("substation_id", EC_KIND_SUBSTATION),
    NUM("grid_limit_kw", 0, 1e7),
    OBJ("charging", 0, charging, NULL),
    ARR("evses", 0, &evse_item, 256, "[]"),
    STR("source", 80),
    END};

static const field profile_item = {NULL, F_NUM, 0, 0, 1e7, NULL, NULL, NULL, NULL, 0};
static const field share_item = {NULL, F_NUM, 0, 0, 1, NULL, NULL, NULL, NULL, 0};
static const field price_item = {NULL, F_NUM, 0, -1e4, 1e4, NULL, NULL, NULL, NULL, 0};
static const field substation_fields[] = {STRQ("name", 255),
                                          NUMQ("capacity_kw", 0, 1e7),
                                          OBJ("coordinates", 0, coordinates, NULL),
                                          REF("operator_id", EC_KIND_ORGANISATION),
                                          REF("jurisdiction_id", EC_KIND_JURISDICTION),
                                          ARR("base_load_kw", 0, &profile_item, 8784, "[]"),
                                          INTD("interval_s", 300, 3600, "3600"),
                                          ARR("prices", 0, &price_item, 35136, NULL),
                                          INTD("price_interval_s", 900, 3600, "3600"),
                                          NUM("congestion_price", 0, 1e4),
                                          NUM("congestion_threshold", 0, 1),
                                          END};
static const field renewable_fields[] = {STRQ("name", 255),
                                         ENUM("kind", 1, renewable_kinds, NULL),
                                         NUMQ("capacity_kw", 0, 1e7),
                                         OBJ("coordinates", 0, coordinates, NULL),
                                         REF("substation_id", EC_KIND_SUBSTATION),
                                         REF("site_id", EC_KIND_SITE),
                                         REF("operator_id", EC_KIND_ORGANISATION),
                                         REF("jurisdiction_id", EC_KIND_JURISDICTION),
                                         ARR("profile", 0, &share_item, 8784, "[]"),
                                         INTD("interval_s", 300, 3600, "3600"),
                                         END};

static const field component[] = {ENUM("type", 1, component_types, NULL),
                                  NUMQ("price", 0, 1e6), NUM("vat", 0, 100),
                                  INTD("step_size", 1, 1000000, "1"), END};
static const field component_item = OBJ(NULL, 0, component, NULL);
static const field weekday_item = ENUM(NULL, 0, weekdays, NULL);
static const field restrictions[] = {FMT("start_time", 5, FMT_HHMM), FMT("end_time", 5, FMT_HHMM),
                                     NUM("min_kwh", 0, 1e6), NUM("max_kwh", 0, 1e6),
                                     NUM("min_power", 0, 1e7), NUM("max_power", 0, 1e7),
                                     INT("min_duration", 0, 31622400), INT("max_duration", 0, 31622400),
                                     ARR("day_of_week", 0, &weekday_item, 7, NULL), END};
static const field element[] = {ARR("price_components", 1, &component_item, 16, NULL),
                                OBJ("restrictions", 0, restrictions, NULL), END};
static const field element_item = OBJ(NULL, 0, element, NULL);
static const field alt_text[] = {STRQ("language", 2), STRQ("text", 512), END};
static const field alt_text_item = OBJ(NULL, 0, alt_text, NULL);
static const field tariff_fields[] = {STRQ("currency", 3),
                                      REF("operator_id", EC_KIND_ORGANISATION),
                                      REF("site_id", EC_KIND_SITE),
                                      ENUM("type", 0, tariff_types, NULL),
                                      STR("customer_group", 36),
                                      INT("idle_grace_min", 0, 1440),
                                      BOOL("dynamic", NULL),
                                      ARR("tariff_alt_text", 0, &alt_text_item, 8, NULL),
                                      ARR("elements", 1, &element_item, 32, NULL),
                                      END};

static const field jurisdiction_fields[] = {STRQ("name", 255),
                                            ENUM("kind", 1, jurisdiction_kinds, NULL),
                                            FMT("country", 3, FMT_COUNTRY),
                                            REF("parent_id", EC_KIND_JURISDICTION), END};
static const field organisation_fields[] = {STRQ("name", 255),
                                            ENUM("kind", 1, org_kinds, NULL),
                                            REF("jurisdiction_id", EC_KIND_JURISDICTION),
                                            STR("country_code", 2), STR("party_id", 3),
                                            STR("website", 255), END};

/* Charge points: the OCPP identity (its id) and credentials, where it is
 * (a site of its operator) and how it takes limits. Whose it is and its
 * password hash are the API's to work out (api_sessions.c). */
static const char *const rate_units[] = {"W", "A", NULL};
static const field evse_uid_item = {NULL, F_STR, 0, 0, EC_REG_ID_MAX, NULL, NULL, NULL, NULL, 0};
static const field charger_fields[] = {FMTN("id", 1, EC_CP_ID_MAX, FMT_CP_ID),
                                       STRN("password", 8, 64),
                                       STRN("site_id", 1, EC_REG_ID_MAX),
                                       STRN("operator_id", 1, EC_REG_ID_MAX),
                                       INT("connectors", 1, EC_CP_CONNECTORS_MAX),
                                       ARR("evse_uids", 0, &evse_uid_item, EC_CP_CONNECTORS_MAX, NULL),
                                       INT("security_profile", 0, 2),
                                       STR("name", 255),
                                       ENUM("charging_rate_unit", 0, rate_units, NULL),
                                       INT("voltage_v", 100, 1500),
                                       INT("phases", 1, 3),
                                       END};

/* Tokens: an OCPP idTag, who issued it and what it may do. */
static const field token_fields[] = {FMTN("uid", 1, EC_ID_TAG_MAX, FMT_TOKEN_UID),
                                     STRN("type", 1, 16),
                                     STR("contract_id", 36),
                                     STR("group_id", EC_REG_ID_MAX),
                                     BOOL("valid", NULL),
                                     FMT("expiry", 64, FMT_DATE_TIME),
                                     INT("max_concurrent", 0, 100),
                                     STRN("issuer_id", 1, EC_REG_ID_MAX),
                                     STR("name", 255),
                                     END};

static const struct {
    const char *name;
    const field *fields;
    int null_refused; /* null is a wrong type here, not "clear this field" */
} kinds[EC_KIND_ALL] = {
    {"jurisdictions", jurisdiction_fields, 0}, {"organisations", organisation_fields, 0},
    {"sites", site_fields, 0},                 {"substations", substation_fields, 0},
    {"renewables", renewable_fields, 0},       {"tariffs", tariff_fields, 0},
    {"chargers", charger_fields, 1},           {"tokens", token_fields, 1},
};

const char *ec_kind_name(ec_kind k)
{
    return (int)k >= 0 && k < EC_KIND_ALL ? kinds[k].name : NULL;
}

int ec_kind_parse(const char *name, ec_kind *out)
{
    for (int k = 0; k < EC_KIND_COUNT; k++)
        if (!strcmp(name, kinds[k].name)) {
            *out = (ec_kind)k;
            return 0;
        }
    return -1;
}

int ec_reg_id_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return n >= 1 && n <= EC_REG_ID_MAX;
}

/* ---- validation -------------------------------------------------------- */

static ec_err bad(ec_reg_error_t *e, const char *code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ec_err bad(ec_reg_error_t *e, const char *code, const char *path, const char *fmt, ...)
{
    va_list ap;
    snprintf(e->code, sizeof e->code, "%s", code);
    snprintf(e->field, sizeof e->field, "%s", path);
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return EC_EINVAL;
}

/* A decimal as OCPI writes coordinates: optional minus, digits, optional
 * point and at most 10 decimals. */
static int decimal_valid(const char *s, double *out)
{
    const char *p = s;
    if (*p == '-') p++;
    size_t digits = 0, decimals = 0;
    while (*p >= '0' && *p <= '9') p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') p++, decimals++;
        if (!decimals) return 0;
    }
    if (*p || !digits || digits > 3 || decimals > 10) return 0;
    return ec_parse_double(s, out) == 0;
}


/* An IANA time zone's shape: "UTC", or Area/Location[/Location] with one of
 * tzdata's areas and parts of letters, digits, '_', '-' and '+' that begin
 * with a letter ("Europe/Berlin", "America/Argentina/Buenos_Aires",
 * "Etc/GMT+1"). Whether tzdata on this machine has it is not asked: the
 * register is read elsewhere, by clients with tzdata of their own. */
static int time_zone_valid(const char *s)
{
    static const char *const areas[] = {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic",
                                        "Australia", "Europe", "Indian", "Pacific", "Etc", NULL};
    if (!strcmp(s, "UTC")) return 1;
    const char *slash = strchr(s, '/');
    int known = 0;
    for (const char *const *a = areas; slash && *a && !known; a++)
        known = strlen(*a) == (size_t)(slash - s) && !strncmp(*a, s, (size_t)(slash - s));
    if (!known) return 0;
    int parts = 0;
    for (const char *p = slash; *p == '/'; parts++) {
        p++;
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))) return 0;
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
               *p == '-' || *p == '+')
            p++;
        if (*p && *p != '/') return 0;
        if (!*p) return parts < 2;
    }
    return 0;
}

int ec_reg_country_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < 'A' || s[n] > 'Z') return 0;
    return n == 2 || n == 3;
}

/* "HH:MM" of a 24-hour clock, 00:00 to 23:59, as OCPI's regular hours and
 * tariff restrictions write it. */
static int hhmm_valid(const char *s)
{
    int d = strlen(s) == 5;
    for (int i = 0; i < 5 && d; i++) d &= i == 2 ? s[i] == ':' : (s[i] >= '0' && s[i] <= '9');
    return d && (s[0] - '0') * 10 + (s[1] - '0') <= 23 && s[3] <= '5';
}

/* What an OCPP identity may be made of: chargers put it in their URL
 * (/ocpp/<id>), so nothing there needs escaping. */
#define CP_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:+*@#"
/* A token uid is a path segment of /api/v1/tokens/{uid} too: characters that
 * would need escaping there ('/', '%', '?', '#', spaces) are refused, so every
 * token can be read and blocked. RFID UIDs, contract ids
 * ("DE*ABC*C12345678*X") and OCPP idTags in use fit this set. */
#define TOKEN_UID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:*"
/* The dates a body may name: 2000-01-01 to 2099-12-31 (UTC). Outside them
 * a date is a typo or a clock gone wrong, never a token's expiry. */
#define DATE_MIN_S 946684800LL  /* 2000-01-01T00:00:00Z */
#define DATE_MAX_S 4102444800LL /* 2100-01-01T00:00:00Z */

static const char *type_word(ftype t)
{
    switch (t) {
    case F_STR:
    case F_REF:
    case F_ENUM: return "a string";
    case F_DEC: return "a decimal string such as \"50.99\"";
    case F_NUM: return "a number";
    case F_INT: return "an integer";
    case F_BOOL: return "true or false";
    case F_OBJ: return "an object";
    case F_ARR: return "an array";
    }
    return "?";
}

static ec_err check_obj(const field *fields, const ec_json *v, const ec_json *base, const char *path,
                        ec_reg_error_t *e);

static ec_err check_value(const field *f, const ec_json *v, const char *path, ec_reg_error_t *e)
{
    ec_json_type t = ec_json_typeof(v);
    int ok;
    switch (f->type) {
    case F_STR:
    case F_REF:
    case F_ENUM:
    case F_DEC: ok = t == EC_JSON_STRING; break;
    case F_NUM: ok = t == EC_JSON_INTEGER || t == EC_JSON_REAL; break;
    case F_INT: ok = t == EC_JSON_INTEGER; break;
    case F_BOOL: ok = t == EC_JSON_BOOL; break;
    case F_OBJ: ok = t == EC_JSON_OBJECT; break;
    case F_ARR: ok = t == EC_JSON_ARRAY; break;
    default: ok = 0;
    }
    if (!ok)
        return bad(e, "wrong_type", path, "%s must be %s, not %s", path, type_word(f->type),
                   ec_json_type_name(t));
    const char *s = ec_json_str(v);
    double d = 0;
    switch (f->type) {
    case F_STR:
        if (ec_utf8_chars(s) > (size_t)f->max)
            return bad(e, "invalid_field", path, "%s is longer than %.0f characters", path, f->max);
        if (ec_utf8_chars(s) < (size_t)f->min)
            return bad(e, "invalid_field", path, "%s must be at least %.0f characters", path, f->min);
        if (f->ref == FMT_CP_ID && strspn(s, CP_ID_CHARS) != strlen(s))
            return bad(e, "invalid_field", path, "a charge point id is 1 to 48 letters, digits or -_.:+*@#");
        if (f->ref == FMT_TOKEN_UID && strspn(s, TOKEN_UID_CHARS) != strlen(s))
            return bad(e, "invalid_field", path, "a token uid is 1 to 20 letters, digits or -_.:*");
        if (f->ref == FMT_DATE_TIME) {
            int64_t when;
            if (ec_time_parse_rfc3339(s, &when))
                return bad(e, "invalid_field", path, "%s must be a date-time like 2027-01-31T23:59:59Z", path);
            if (when < DATE_MIN_S || when >= DATE_MAX_S)
                return bad(e, "invalid_field", path, "%s must be from 2000-01-01 to 2099-12-31", path);
        }
        if (f->ref == FMT_TIME_ZONE && !time_zone_valid(s))
            return bad(e, "invalid_field", path, "%s \"%.40s\" must be an IANA time zone like \"Europe/Berlin\" or \"UTC\"",
                       path, s);
        if (f->ref == FMT_COUNTRY && !ec_reg_country_valid(s))
            return bad(e, "invalid_field", path, "%s \"%.40s\" must be an ISO 3166-1 code of 2 or 3 capitals like \"DE\" or \"DEU\"",
                       path, s);
        if (f->ref == FMT_HHMM && !hhmm_valid(s))
            return bad(e, "invalid_field", path, "%s \"%.40s\" must be a time of day \"HH:MM\" from 00:00 to 23:59", path, s);
        return EC_OK;
    case F_REF:
        if (!ec_reg_id_valid(s))
            return bad(e, "invalid_field", path, "%s must be an id of 1 to 36 letters, digits, '.', '_' or '-'", path);
        return EC_OK;
    case F_ENUM:
        for (const char *const *x = f->enums; *x; x++)
            if (!strcmp(*x, s)) return EC_OK;
        {
            char list[512] = "";
            size_t n = 0;
            for (const char *const *x = f->enums; *x && n < sizeof list - 40; x++)
                n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", *x);
            return bad(e, "invalid_field", path, "%s \"%.40s\" is not one of %s", path, s, list);
        }
    case F_DEC:
        if (!decimal_valid(s, &d) || d < f->min || d > f->max)
            return bad(e, "invalid_field", path, "%s \"%.40s\" must be a decimal between %g and %g", path, s, f->min, f->max);
        return EC_OK;
    case F_NUM:
    case F_INT:
        ec_json_number(v, &d);
        if (!(d >= f->min && d <= f->max))
            return bad(e, "invalid_field", path, "%s %g is outside %g..%g", path, d, f->min, f->max);
        return EC_OK;
    case F_OBJ: return check_obj(f->sub, v, NULL, path, e);
    case F_ARR: {
        size_t n = ec_json_array_size(v);
        if (n > (size_t)f->max)
            return bad(e, "invalid_field", path, "%s has %zu items, at most %.0f allowed", path, n, f->max);
        for (size_t i = 0; i < n; i++) {
            char p[128];
            snprintf(p, sizeof p, "%s[%zu]", path, i);
            ec_err rc = check_value(f->item, ec_json_array_get(v, i), p, e);
            if (rc) return rc;
        }
        return EC_OK;
    }
    default: return EC_OK;
    }
}

static const field *find_field(const field *fields, const char *name)
{
    for (const field *f = fields; f->name; f++)
        if (!strcmp(f->name, name)) return f;
    return NULL;
}

static void join(char *out, size_t n, const char *path, const char *name)
{
    snprintf(out, n, "%s%s%s", path, *path ? "." : "", name);
}

/* Checks every member of v against fields; a required field must be present
 * (non-null) in v or, for a top-level PATCH, in base. */
static ec_err check_obj(const field *fields, const ec_json *v, const ec_json *base, const char *path,
                        ec_reg_error_t *e)
{
    void *it = NULL;
    const char *key;
    ec_json *val;
    char p[128];
    while (ec_json_object_next(v, &it, &key, &val)) {
        join(p, sizeof p, path, key);
        const field *f = find_field(fields, key);
        if (!f) {
            if (!*path && (!strcmp(key, "id") || !strcmp(key, "last_updated"))) continue;
            return bad(e, "unknown_field", p, "unknown field %s", p);
        }
        if (ec_json_typeof(val) == EC_JSON_NULL) {
            if (f->required) return bad(e, "missing_field", p, "%s is required and may not be null", p);
            continue;
        }
        ec_err rc = check_value(f, val, p, e);
        if (rc) return rc;
    }
    for (const field *f = fields; f->name; f++) {
        if (!f->required) continue;
        const ec_json *x = ec_json_get(v, f->name);
        if (!x && base) x = ec_json_get(base, f->name);
        if (!x) {
            join(p, sizeof p, path, f->name);
            return bad(e, "missing_field", p, "%s is required", p);
        }
    }
    return EC_OK;
}

/* ---- the canonical document -------------------------------------------- */

static void write_members(ec_jw *w, const field *fields, const ec_json *v, const ec_json *base);

static void write_value(ec_jw *w, const field *f, const ec_json *v)
{
    if (f->type == F_OBJ) {
        ec_jw_obj_begin(w);
        write_members(w, f->sub, v, NULL);
        ec_jw_obj_end(w);
    } else if (f->type == F_ARR && f->item->type == F_OBJ) {
        ec_jw_arr_begin(w);
        for (size_t i = 0; i < ec_json_array_size(v); i++) write_value(w, f->item, ec_json_array_get(v, i));
        ec_jw_arr_end(w);
    } else {
        ec_jw_value(w, v);
    }
}

/* Members in table order: v's value, else base's, else the default. A null
 * in v clears the member. */
static void write_members(ec_jw *w, const field *fields, const ec_json *v, const ec_json *base)
{
    for (const field *f = fields; f->name; f++) {
        const ec_json *x = ec_json_get(v, f->name);
        if (!x && base) x = ec_json_get(base, f->name);
        if (x && ec_json_typeof(x) != EC_JSON_NULL) {
            ec_jw_key(w, f->name);
            write_value(w, f, x);
        } else if (f->def) {
            ec_jw_key(w, f->name);
            ec_jw_raw(w, f->def);
        }
    }
}

static void write_doc(ec_jw *w, const field *fields, const ec_json *v, const ec_json *base,
                      const char *id, int64_t now_s)
{
    char t[32];
    ec_jw_obj_begin(w);
    ec_jw_key(w, "id"), ec_jw_str(w, id);
    write_members(w, fields, v, base);
    ec_time_format_iso(now_s, t, sizeof t);
    ec_jw_key(w, "last_updated"), ec_jw_str(w, t);
    ec_jw_obj_end(w);
}

/* ---- the index --------------------------------------------------------- */

static void copy_id(char *dst, const ec_json *v)
{
    const char *s = ec_json_str(v);
    snprintf(dst, EC_REG_ID_MAX + 1, "%s", s ? s : "");
}

static void add_token(char *list, size_t n, const char *tok)
{
    char needle[64];
    if (!*list) snprintf(list, n, ",");
    snprintf(needle, sizeof needle, ",%s,", tok);
    if (strstr(list, needle)) return;
    size_t len = strlen(list);
    if (len + strlen(tok) + 2 < n) snprintf(list + len, n - len, "%s,", tok);
}

/* A top-level member as the document will have it: v's, else base's (a
 * null in v clears it). Nested values are replaced whole, never merged. */
static const ec_json *eff(const ec_json *v, const ec_json *base, const char *key)
{
    const ec_json *x = ec_json_get(v, key);
    if (!x && base) x = ec_json_get(base, key);
    return x && ec_json_typeof(x) != EC_JSON_NULL ? x : NULL;
}

static void index_site(const ec_json *v, const ec_json *base, ec_reg_index_t *idx)
{
    const ec_json *evses = eff(v, base, "evses");
    for (size_t i = 0; i < ec_json_array_size(evses); i++) {
        const ec_json *ev = ec_json_array_get(evses, i);
        const char *st = ec_json_str(ec_json_get(ev, "status"));
        add_token(idx->statuses, sizeof idx->statuses, st ? st : "UNKNOWN"); /* evse's default */
        const ec_json *cs = ec_json_get(ev, "connectors");
        for (size_t k = 0; k < ec_json_array_size(cs); k++) {
            const ec_json *c = ec_json_array_get(cs, k);
            const char *std = ec_json_str(ec_json_get(c, "standard"));
            if (std) add_token(idx->standards, sizeof idx->standards, std);
            double p = 0;
            if (!ec_json_number(ec_json_get(c, "max_electric_power"), &p) && p > idx->max_power_w)
                idx->max_power_w = p;
        }
    }
    const ec_json *vt = ec_json_get(eff(v, base, "truck_access"), "vehicle_types");
    for (size_t i = 0; i < ec_json_array_size(vt); i++) {
        const char *s = ec_json_str(ec_json_array_get(vt, i));
        if (s && (!strcmp(s, "RIGID") || !strcmp(s, "SEMI_TRACTOR") || !strcmp(s, "TRUCK_WITH_TRAILER")))
            idx->truck = 1;
    }
}

/* The feature from the merged view: members from v, else from base. */
static void write_feature(ec_jw *w, const char *id, const ec_json *v, const ec_json *base)
{
    double lat = 0, lon = 0;
    const ec_json *c = eff(v, base, "coordinates");
    ec_parse_double(ec_json_str(ec_json_get(c, "latitude")), &lat);
    ec_parse_double(ec_json_str(ec_json_get(c, "longitude")), &lon);
    ec_jw_obj_begin(w);
    ec_jw_key(w, "type"), ec_jw_str(w, "Feature");
    ec_jw_key(w, "id"), ec_jw_str(w, id);
    ec_jw_key(w, "geometry");
    ec_jw_obj_begin(w);
    ec_jw_key(w, "type"), ec_jw_str(w, "Point");
    ec_jw_key(w, "coordinates");
    ec_jw_arr_begin(w);
    ec_jw_num(w, lon, 7), ec_jw_num(w, lat, 7);
    ec_jw_arr_end(w);
    ec_jw_obj_end(w);
    ec_jw_key(w, "properties");
    ec_jw_obj_begin(w);
    ec_jw_key(w, "id"), ec_jw_str(w, id);
    const char *name = ec_json_str(eff(v, base, "name"));
    ec_jw_key(w, "name"), name ? ec_jw_str(w, name) : ec_jw_null(w);
    const char *op = ec_json_str(ec_json_get(eff(v, base, "operator"), "name"));
    const char *op_id = ec_json_str(eff(v, base, "operator_id"));
    ec_jw_key(w, "operator");
    op ? ec_jw_str(w, op) : op_id ? ec_jw_str(w, op_id) : ec_jw_null(w);
    ec_jw_key(w, "operator_id");
    op_id ? ec_jw_str(w, op_id) : ec_jw_null(w);
    const ec_json *evses = eff(v, base, "evses");
    ec_jw_key(w, "evses"), ec_jw_int(w, (int64_t)ec_json_array_size(evses));
    ec_jw_key(w, "connectors");
    ec_jw_arr_begin(w);
    double max_w = 0;
    for (size_t e = 0; e < ec_json_array_size(evses); e++) {
        const ec_json *ev = ec_json_array_get(evses, e);
        const ec_json *cs = ec_json_get(ev, "connectors");
        const char *st = ec_json_str(ec_json_get(ev, "status"));
        for (size_t i = 0; i < ec_json_array_size(cs); i++) {
            const ec_json *cn = ec_json_array_get(cs, i);
            double pw = 0;
            ec_json_number(ec_json_get(cn, "max_electric_power"), &pw);
            if (pw > max_w) max_w = pw;
            ec_jw_obj_begin(w);
            ec_jw_key(w, "evse_uid"), ec_jw_str(w, ec_json_str(ec_json_get(ev, "uid")));
            ec_jw_key(w, "standard"), ec_jw_str(w, ec_json_str(ec_json_get(cn, "standard")));
            ec_jw_key(w, "power_kw"), ec_jw_num(w, pw / 1000.0, 1);
            ec_jw_key(w, "status"), ec_jw_str(w, st ? st : "UNKNOWN");
            ec_jw_obj_end(w);
        }
    }
    ec_jw_arr_end(w);
    ec_jw_key(w, "max_power_kw"), ec_jw_num(w, max_w / 1000.0, 1);
    ec_jw_obj_end(w);
    ec_jw_obj_end(w);
}

ec_err ec_reg_site_feature(const ec_json *site, ec_jw *w)
{
    const char *id = ec_json_str(ec_json_get(site, "id"));
    if (!ec_json_is_object(site) || !id || !ec_json_get(site, "coordinates")) return EC_EINVAL;
    write_feature(w, id, site, NULL);
    return EC_OK;
}

const char *ec_reg_site_state(const ec_json *site)
{
    /* The best state any EVSE offers wins: one free point makes a site worth driving to. */
    static const char *const names[] = {"unknown", "out_of_order", "charging", "available"};
    int best = 0;
    ec_json *evses = ec_json_is_object(site) ? ec_json_get(site, "evses") : NULL;
    for (size_t i = 0; i < ec_json_array_size(evses); i++) {
        const char *st = ec_json_str(ec_json_get(ec_json_array_get(evses, i), "status"));
        int r = 0;
        if (!st) continue;
        if (!strcmp(st, "AVAILABLE")) r = 3;
        else if (!strcmp(st, "CHARGING") || !strcmp(st, "BLOCKED") || !strcmp(st, "RESERVED")) r = 2;
        else if (!strcmp(st, "OUTOFORDER") || !strcmp(st, "INOPERATIVE")) r = 1;
        if (r > best) best = r;
    }
    return names[best];
}

static void index_doc(const field *fields, ec_kind k, const ec_json *v, const ec_json *base,
                      ec_reg_index_t *idx)
{
    memset(idx, 0, sizeof *idx);
    copy_id(idx->operator_id, eff(v, base, "operator_id"));
    copy_id(idx->jurisdiction_id, eff(v, base, "jurisdiction_id"));
    const ec_json *c = eff(v, base, "coordinates");
    if (c) {
        idx->has_pos = ec_parse_double(ec_json_str(ec_json_get(c, "latitude")), &idx->lat) == 0 &&
                       ec_parse_double(ec_json_str(ec_json_get(c, "longitude")), &idx->lon) == 0;
    }
    for (const field *f = fields; f->name; f++) {
        const char *s = f->type == F_REF ? ec_json_str(eff(v, base, f->name)) : NULL;
        if (!s || idx->n_refs == EC_REG_MAX_REFS) continue;
        idx->refs[idx->n_refs].kind = (ec_kind)f->ref;
        snprintf(idx->refs[idx->n_refs].id, sizeof idx->refs[0].id, "%s", s);
        snprintf(idx->refs[idx->n_refs].field, sizeof idx->refs[0].field, "%s", f->name);
        idx->n_refs++;
    }
    if (k == EC_KIND_SITE) index_site(v, base, idx);
}

/* Connector ids unique within an EVSE and EVSE uids unique within a site,
 * as OCPI requires. */
static ec_err check_site_uniques(const ec_json *evses, ec_reg_error_t *e)
{
    size_t n = ec_json_array_size(evses);
    for (size_t i = 0; i < n; i++) {
        const ec_json *ev = ec_json_array_get(evses, i);
        const char *uid = ec_json_str(ec_json_get(ev, "uid"));
        for (size_t j = 0; j < i; j++) {
            const char *u2 = ec_json_str(ec_json_get(ec_json_array_get(evses, j), "uid"));
            if (uid && u2 && !strcmp(uid, u2)) {
                char p[64];
                snprintf(p, sizeof p, "evses[%zu].uid", i);
                return bad(e, "invalid_field", p, "%s \"%s\" is used by evses[%zu] too", p, uid, j);
            }
        }
        const ec_json *cs = ec_json_get(ev, "connectors");
        for (size_t a = 0; a < ec_json_array_size(cs); a++)
            for (size_t b = 0; b < a; b++) {
                const char *x = ec_json_str(ec_json_get(ec_json_array_get(cs, a), "id"));
                const char *y = ec_json_str(ec_json_get(ec_json_array_get(cs, b), "id"));
                if (x && y && !strcmp(x, y)) {
                    char p[64];
                    snprintf(p, sizeof p, "evses[%zu].connectors[%zu].id", i, a);
                    return bad(e, "invalid_field", p, "%s \"%s\" is used twice in one EVSE", p, x);
                }
            }
    }
    return EC_OK;
}

ec_err ec_reg_check(ec_kind k, const ec_json *input, ec_reg_error_t *err)
{
    memset(err, 0, sizeof *err);
    if ((int)k < 0 || k >= EC_KIND_ALL) return EC_EINVAL;
    const field *fields = kinds[k].fields;
    if (!ec_json_is_object(input))
        return bad(err, "wrong_type", "", "the body must be a JSON object, not %s",
                   input ? ec_json_type_name(ec_json_typeof(input)) : "empty");
    if (kinds[k].null_refused) {
        /* These documents are composed by their API, member by member: only
         * the table's fields (no id or last_updated of the register's), and
         * no null, which they have no use for. */
        void *it = NULL;
        const char *key;
        ec_json *val;
        while (ec_json_object_next(input, &it, &key, &val)) {
            if (!find_field(fields, key)) return bad(err, "unknown_field", key, "\"%.60s\" is not a field here", key);
            if (ec_json_typeof(val) == EC_JSON_NULL)
                return bad(err, "wrong_type", key, "%s must be %s, not null", key, type_word(find_field(fields, key)->type));
        }
    }
    return check_obj(fields, input, NULL, "", err);
}

ec_err ec_reg_normalize(ec_kind k, const ec_json *input, const ec_json *base, const char *id,
                        int64_t now_s, ec_buf *doc, ec_reg_index_t *idx, ec_reg_error_t *err)
{
    memset(err, 0, sizeof *err);
    if ((int)k < 0 || k >= EC_KIND_COUNT) return EC_EINVAL; /* chargers and tokens: ec_reg_check */
    const field *fields = kinds[k].fields;
    if (!ec_json_is_object(input))
        return bad(err, "wrong_type", "", "the body must be a JSON object, not %s",
                   input ? ec_json_type_name(ec_json_typeof(input)) : "empty");
    const char *given = ec_json_str(ec_json_get(input, "id"));
    if (ec_json_get(input, "id") && (!given || strcmp(given, id) != 0))
        return bad(err, "invalid_field", "id", "id \"%.40s\" does not match the object's id \"%s\"",
                   given ? given : "(not a string)", id);
    ec_err rc = check_obj(fields, input, base, "", err);
    if (!rc && k == EC_KIND_SITE) rc = check_site_uniques(eff(input, base, "evses"), err);
    if (rc) return rc;

    /* Written straight into doc (a caller's buffer keeps its capacity from
     * one object to the next). The writer's finish says whether every append
     * reached it, so a document is never stored short: one that comes near
     * the limit is refused whole, and one that memory cut short too. */
    size_t max = doc->max;
    if (!max || max > EC_REG_DOC_MAX) doc->max = EC_REG_DOC_MAX;
    ec_buf_reset(doc);
    ec_jw w;
    ec_jw_init(&w, doc);
    write_doc(&w, fields, input, base, id, now_s);
    ec_err wrc = ec_jw_finish(&w);
    if (!wrc && doc->len + 64 > doc->max) wrc = EC_ELIMIT;
    doc->max = max;
    if (wrc) {
        ec_buf_reset(doc);
        if (wrc != EC_ELIMIT)
            return bad(err, "internal", "", "the document could not be written: %s", ec_strerror(wrc));
        return bad(err, "invalid_field", "", "the document is larger than %u bytes", EC_REG_DOC_MAX);
    }
    index_doc(fields, k, input, base, idx);
    return EC_OK;
}

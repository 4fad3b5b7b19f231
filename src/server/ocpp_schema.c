/* ocpp_schema.c - the OCPP 1.6 JSON schemas as field tables.
 *
 * Every schema of OCPP 1.6 is a tree of objects with "additionalProperties":
 * false, so one table per object (name, type, required, length, enumeration,
 * children) states it. Error codes follow OCPP-J 1.6, section 4.2.3, with its
 * spellings: a missing member is an OccurenceConstraintViolation, a member of
 * the wrong JSON type a TypeConstraintViolation, a value outside its
 * enumeration, length or format a PropertyConstraintViolation, and a payload
 * that is not the PDU's shape (not an object, an unknown member) a
 * FormationViolation. */
#include "ocpp_schema.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef enum { T_STR, T_INT, T_NUM, T_BOOL, T_TIME, T_ENUM, T_OBJ, T_ARR } ftype;

typedef struct ofield {
    const char *name;
    ftype type;
    int required;
    int max_len;                 /* T_STR; 0: no limit */
    const char *const *enums;    /* T_ENUM, NULL-terminated */
    const struct ofield *sub;    /* T_OBJ: members (ending with a NULL name); T_ARR: the item */
} ofield;

#define S(n, r, l) {n, T_STR, r, l, NULL, NULL}
#define I(n, r) {n, T_INT, r, 0, NULL, NULL}
#define N(n, r) {n, T_NUM, r, 0, NULL, NULL}
#define B(n, r) {n, T_BOOL, r, 0, NULL, NULL}
#define D(n, r) {n, T_TIME, r, 0, NULL, NULL}
#define E(n, r, e) {n, T_ENUM, r, 0, e, NULL}
#define O(n, r, f) {n, T_OBJ, r, 0, NULL, f}
#define A(n, r, item) {n, T_ARR, r, 0, NULL, item}
#define END {NULL, T_STR, 0, 0, NULL, NULL}

/* ---- enumerations -------------------------------------------------------- */

static const char *const accepted_rejected[] = {"Accepted", "Rejected", NULL};
static const char *const registration[] = {"Accepted", "Pending", "Rejected", NULL};
static const char *const auth_status[] = {"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx", NULL};
static const char *const diag_status[] = {"Idle", "Uploaded", "UploadFailed", "Uploading", NULL};
static const char *const fw_status[] = {"Downloaded", "DownloadFailed", "Downloading", "Idle",
                                        "InstallationFailed", "Installing", "Installed", NULL};
static const char *const dt_status[] = {"Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId", NULL};
static const char *const contexts[] = {"Interruption.Begin", "Interruption.End", "Sample.Clock",
                                       "Sample.Periodic", "Transaction.Begin", "Transaction.End",
                                       "Trigger", "Other", NULL};
static const char *const formats[] = {"Raw", "SignedData", NULL};
static const char *const measurands[] = {
    "Energy.Active.Export.Register", "Energy.Active.Import.Register", "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register", "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval", "Power.Active.Export",
    "Power.Active.Import", "Power.Offered", "Power.Reactive.Export", "Power.Reactive.Import",
    "Power.Factor", "Current.Import", "Current.Export", "Current.Offered", "Voltage", "Frequency",
    "Temperature", "SoC", "RPM", NULL};
static const char *const phases[] = {"L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1", NULL};
static const char *const locations[] = {"Cable", "EV", "Inlet", "Outlet", "Body", NULL};
static const char *const units[] = {"Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar",
                                    "A", "V", "K", "Celcius", "Celsius", "Fahrenheit", "Percent", NULL};
static const char *const cp_errors[] = {"ConnectorLockFailure", "EVCommunicationError", "GroundFailure",
                                        "HighTemperature", "InternalError", "LocalListConflict", "NoError",
                                        "OtherError", "OverCurrentFailure", "PowerMeterFailure",
                                        "PowerSwitchFailure", "ReaderFailure", "ResetFailure",
                                        "UnderVoltage", "OverVoltage", "WeakSignal", NULL};
static const char *const cp_status[] = {"Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV",
                                        "Finishing", "Reserved", "Unavailable", "Faulted", NULL};
static const char *const stop_reasons[] = {"EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other",
                                           "PowerLoss", "Reboot", "Remote", "SoftReset", "UnlockCommand",
                                           "DeAuthorized", NULL};
static const char *const availability[] = {"Inoperative", "Operative", NULL};
static const char *const availability_status[] = {"Accepted", "Rejected", "Scheduled", NULL};
static const char *const reset_types[] = {"Hard", "Soft", NULL};
static const char *const unlock_status[] = {"Unlocked", "UnlockFailed", "NotSupported", NULL};
static const char *const trigger_msgs[] = {"BootNotification", "DiagnosticsStatusNotification",
                                           "FirmwareStatusNotification", "Heartbeat", "MeterValues",
                                           "StatusNotification", NULL};
static const char *const trigger_status[] = {"Accepted", "Rejected", "NotImplemented", NULL};
static const char *const config_status[] = {"Accepted", "Rejected", "RebootRequired", "NotSupported", NULL};
static const char *const profile_status[] = {"Accepted", "Rejected", "NotSupported", NULL};
static const char *const clear_status[] = {"Accepted", "Unknown", NULL};
static const char *const purposes[] = {"ChargePointMaxProfile", "TxDefaultProfile", "TxProfile", NULL};
static const char *const kinds[] = {"Absolute", "Recurring", "Relative", NULL};
static const char *const recurrency[] = {"Daily", "Weekly", NULL};
static const char *const rate_units[] = {"A", "W", NULL};
static const char *const reserve_status[] = {"Accepted", "Faulted", "Occupied", "Rejected", "Unavailable", NULL};

/* ---- shared parts ---------------------------------------------------------- */

static const ofield id_tag_info[] = {D("expiryDate", 0), S("parentIdTag", 0, 20),
                                     E("status", 1, auth_status), END};
static const ofield sampled_value[] = {S("value", 1, 0),          E("context", 0, contexts),
                                       E("format", 0, formats),   E("measurand", 0, measurands),
                                       E("phase", 0, phases),     E("location", 0, locations),
                                       E("unit", 0, units),       END};
static const ofield sampled_item = O(NULL, 0, sampled_value);
static const ofield meter_value[] = {D("timestamp", 1), A("sampledValue", 1, &sampled_item), END};
static const ofield meter_item = O(NULL, 0, meter_value);
static const ofield period[] = {I("startPeriod", 1), N("limit", 1), I("numberPhases", 0), END};
static const ofield period_item = O(NULL, 0, period);
static const ofield schedule[] = {I("duration", 0), D("startSchedule", 0), E("chargingRateUnit", 1, rate_units),
                                  A("chargingSchedulePeriod", 1, &period_item), N("minChargingRate", 0), END};
static const ofield profile[] = {I("chargingProfileId", 1), I("transactionId", 0), I("stackLevel", 1),
                                 E("chargingProfilePurpose", 1, purposes), E("chargingProfileKind", 1, kinds),
                                 E("recurrencyKind", 0, recurrency), D("validFrom", 0), D("validTo", 0),
                                 O("chargingSchedule", 1, schedule), END};
static const ofield config_key[] = {S("key", 1, 50), B("readonly", 1), S("value", 0, 500), END};
static const ofield config_item = O(NULL, 0, config_key);
static const ofield key50 = S(NULL, 0, 50);

/* ---- the messages ------------------------------------------------------------ */

static const ofield none[] = {END};
static const ofield status_only_ar[] = {E("status", 1, accepted_rejected), END};

static const ofield authorize_req[] = {S("idTag", 1, 20), END};
static const ofield authorize_conf[] = {O("idTagInfo", 1, id_tag_info), END};
static const ofield boot_req[] = {S("chargePointVendor", 1, 20), S("chargePointModel", 1, 20),
                                  S("chargePointSerialNumber", 0, 25), S("chargeBoxSerialNumber", 0, 25),
                                  S("firmwareVersion", 0, 50), S("iccid", 0, 20), S("imsi", 0, 20),
                                  S("meterType", 0, 25), S("meterSerialNumber", 0, 25), END};
static const ofield boot_conf[] = {D("currentTime", 1), I("interval", 1), E("status", 1, registration), END};
static const ofield data_req[] = {S("vendorId", 1, 255), S("messageId", 0, 50), S("data", 0, 0), END};
static const ofield data_conf[] = {E("status", 1, dt_status), S("data", 0, 0), END};
static const ofield diag_req[] = {E("status", 1, diag_status), END};
static const ofield fw_req[] = {E("status", 1, fw_status), END};
static const ofield heartbeat_conf[] = {D("currentTime", 1), END};
static const ofield meter_req[] = {I("connectorId", 1), I("transactionId", 0), A("meterValue", 1, &meter_item), END};
static const ofield start_req[] = {I("connectorId", 1), S("idTag", 1, 20), I("meterStart", 1),
                                   I("reservationId", 0), D("timestamp", 1), END};
static const ofield start_conf[] = {O("idTagInfo", 1, id_tag_info), I("transactionId", 1), END};
static const ofield status_req[] = {I("connectorId", 1),  E("errorCode", 1, cp_errors), S("info", 0, 50),
                                    E("status", 1, cp_status), D("timestamp", 0), S("vendorId", 0, 255),
                                    S("vendorErrorCode", 0, 50), END};
static const ofield stop_req[] = {S("idTag", 0, 20), I("meterStop", 1), D("timestamp", 1), I("transactionId", 1),
                                  E("reason", 0, stop_reasons), A("transactionData", 0, &meter_item), END};
static const ofield stop_conf[] = {O("idTagInfo", 0, id_tag_info), END};

static const ofield rstart_req[] = {I("connectorId", 0), S("idTag", 1, 20), O("chargingProfile", 0, profile), END};
static const ofield rstop_req[] = {I("transactionId", 1), END};
static const ofield avail_req[] = {I("connectorId", 1), E("type", 1, availability), END};
static const ofield avail_conf[] = {E("status", 1, availability_status), END};
static const ofield reset_req[] = {E("type", 1, reset_types), END};
static const ofield unlock_req[] = {I("connectorId", 1), END};
static const ofield unlock_conf[] = {E("status", 1, unlock_status), END};
static const ofield trigger_req[] = {E("requestedMessage", 1, trigger_msgs), I("connectorId", 0), END};
static const ofield trigger_conf[] = {E("status", 1, trigger_status), END};
static const ofield getconf_req[] = {A("key", 0, &key50), END};
static const ofield getconf_conf[] = {A("configurationKey", 0, &config_item), A("unknownKey", 0, &key50), END};
static const ofield chconf_req[] = {S("key", 1, 50), S("value", 1, 500), END};
static const ofield chconf_conf[] = {E("status", 1, config_status), END};
static const ofield setprof_req[] = {I("connectorId", 1), O("csChargingProfiles", 1, profile), END};
static const ofield setprof_conf[] = {E("status", 1, profile_status), END};
static const ofield clrprof_req[] = {I("id", 0), I("connectorId", 0), E("chargingProfilePurpose", 0, purposes),
                                     I("stackLevel", 0), END};
static const ofield clrprof_conf[] = {E("status", 1, clear_status), END};
static const ofield reserve_req[] = {I("connectorId", 1), D("expiryDate", 1), S("idTag", 1, 20),
                                     S("parentIdTag", 0, 20), I("reservationId", 1), END};
static const ofield reserve_conf[] = {E("status", 1, reserve_status), END};
static const ofield cancel_req[] = {I("reservationId", 1), END};

static const struct {
    const char *action;
    const ofield *req, *conf;
} actions[] = {
    {"Authorize", authorize_req, authorize_conf},
    {"BootNotification", boot_req, boot_conf},
    {"DataTransfer", data_req, data_conf},
    {"DiagnosticsStatusNotification", diag_req, none},
    {"FirmwareStatusNotification", fw_req, none},
    {"Heartbeat", none, heartbeat_conf},
    {"MeterValues", meter_req, none},
    {"StartTransaction", start_req, start_conf},
    {"StatusNotification", status_req, none},
    {"StopTransaction", stop_req, stop_conf},
    {"RemoteStartTransaction", rstart_req, status_only_ar},
    {"RemoteStopTransaction", rstop_req, status_only_ar},
    {"ChangeAvailability", avail_req, avail_conf},
    {"Reset", reset_req, status_only_ar},
    {"UnlockConnector", unlock_req, unlock_conf},
    {"TriggerMessage", trigger_req, trigger_conf},
    {"GetConfiguration", getconf_req, getconf_conf},
    {"ChangeConfiguration", chconf_req, chconf_conf},
    {"SetChargingProfile", setprof_req, setprof_conf},
    {"ClearChargingProfile", clrprof_req, clrprof_conf},
    {"ReserveNow", reserve_req, reserve_conf},
    {"CancelReservation", cancel_req, status_only_ar},
};

/* ---- checking ---------------------------------------------------------------- */

static int utf8_length(const char *s)
{
    int n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static int in_enum(const char *const *e, const char *v)
{
    for (; *e; e++)
        if (!strcmp(*e, v)) return 1;
    return 0;
}

static const char *check_object(const ofield *fields, const ec_json *obj, const char *path, char *why,
                                size_t n);

static const char *check_value(const ofield *f, const ec_json *v, const char *path, char *why, size_t n)
{
    ec_json_type t = ec_json_typeof(v);
    double d;
    switch (f->type) {
    case T_STR:
    case T_TIME:
    case T_ENUM: {
        const char *s = ec_json_str(v);
        if (!s) {
            snprintf(why, n, "%s: expected a string, found %s", path, ec_json_type_name(t));
            return "TypeConstraintViolation";
        }
        if (f->type == T_STR && f->max_len && utf8_length(s) > f->max_len) {
            snprintf(why, n, "%s: longer than %d characters", path, f->max_len);
            return "PropertyConstraintViolation";
        }
        int64_t ts;
        if (f->type == T_TIME && ec_time_parse_rfc3339(s, &ts)) {
            snprintf(why, n, "%s: \"%.40s\" is not an RFC 3339 date-time", path, s);
            return "PropertyConstraintViolation";
        }
        if (f->type == T_ENUM && !in_enum(f->enums, s)) {
            snprintf(why, n, "%s: \"%.40s\" is not one of the allowed values", path, s);
            return "PropertyConstraintViolation";
        }
        return NULL;
    }
    case T_INT:
        if (t == EC_JSON_INTEGER || (t == EC_JSON_REAL && !ec_json_number(v, &d) && d == floor(d)))
            return NULL;
        snprintf(why, n, "%s: expected an integer, found %s", path, ec_json_type_name(t));
        return "TypeConstraintViolation";
    case T_NUM:
        if (t == EC_JSON_INTEGER || t == EC_JSON_REAL) return NULL;
        snprintf(why, n, "%s: expected a number, found %s", path, ec_json_type_name(t));
        return "TypeConstraintViolation";
    case T_BOOL:
        if (t == EC_JSON_BOOL) return NULL;
        snprintf(why, n, "%s: expected true or false, found %s", path, ec_json_type_name(t));
        return "TypeConstraintViolation";
    case T_OBJ:
        if (t != EC_JSON_OBJECT) {
            snprintf(why, n, "%s: expected an object, found %s", path, ec_json_type_name(t));
            return "TypeConstraintViolation";
        }
        return check_object(f->sub, v, path, why, n);
    case T_ARR:
        if (t != EC_JSON_ARRAY) {
            snprintf(why, n, "%s: expected an array, found %s", path, ec_json_type_name(t));
            return "TypeConstraintViolation";
        }
        for (size_t i = 0; i < ec_json_array_size(v); i++) {
            char sub[160];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            const char *e = check_value(f->sub, ec_json_array_get(v, i), sub, why, n);
            if (e) return e;
        }
        return NULL;
    }
    return NULL;
}

static const char *check_object(const ofield *fields, const ec_json *obj, const char *path, char *why, size_t n)
{
    void *it = NULL;
    const char *key;
    ec_json *val;
    while (ec_json_object_next(obj, &it, &key, &val)) {
        const ofield *f = fields;
        while (f->name && strcmp(f->name, key)) f++;
        if (!f->name) {
            snprintf(why, n, "%s%s%.60s: not a member of this message", path, *path ? "." : "", key);
            return "FormationViolation";
        }
        char sub[160];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
        const char *e = check_value(f, val, sub, why, n);
        if (e) return e;
    }
    for (const ofield *f = fields; f->name; f++)
        if (f->required && !ec_json_get(obj, f->name)) {
            snprintf(why, n, "%s%s%s: required", path, *path ? "." : "", f->name);
            return "OccurenceConstraintViolation";
        }
    return NULL;
}

int ocpp__known_action(const char *action)
{
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (!strcmp(actions[i].action, action)) return 1;
    return 0;
}

const char *ocpp__check(const char *action, ocpp_dir dir, const ec_json *payload, char *why, size_t why_len)
{
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        if (strcmp(actions[i].action, action)) continue;
        if (!ec_json_is_object(payload)) {
            snprintf(why, why_len, "%s: the payload is not a JSON object", action);
            return "FormationViolation";
        }
        char path[64];
        snprintf(path, sizeof path, "%s", "");
        const char *e = check_object(dir == OCPP_REQ ? actions[i].req : actions[i].conf, payload, path, why, why_len);
        return e;
    }
    snprintf(why, why_len, "%.60s: not an OCPP 1.6 action this central system implements", action);
    return "NotImplemented";
}

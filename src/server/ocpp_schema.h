/* ocpp_schema.h - the rules of the OCPP 1.6 JSON schemas, checked before any
 * logic sees a payload: required members, types, enumerations, string
 * lengths, date-time formats and no members the schema does not name. */
#ifndef EC_SERVER_OCPP_SCHEMA_H
#define EC_SERVER_OCPP_SCHEMA_H

#include "ecorridor/ec_json.h"

/* Which message of an action: the request (CALL) or its answer (CALLRESULT). */
typedef enum { OCPP_REQ, OCPP_CONF } ocpp_dir;

/* 1 when this build knows the action (in either direction). */
int ocpp__known_action(const char *action);

/* Checks payload against the schema of (action, dir). Returns NULL when it
 * conforms, else the OCPP-J error code (a static string: "FormationViolation",
 * "OccurenceConstraintViolation", "TypeConstraintViolation",
 * "PropertyConstraintViolation", "NotImplemented") with a description naming
 * the member in why. */
const char *ocpp__check(const char *action, ocpp_dir dir, const ec_json *payload, char *why,
                        size_t why_len);


#endif

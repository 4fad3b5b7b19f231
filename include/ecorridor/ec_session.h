/* ec_session.h - the record of a charging transaction, as the engine keeps
 * it and the store persists it: plain data, no behaviour (the rules are in
 * ec_engine.h). Below both, so the store need not know the engine. */
#ifndef EC_SESSION_H
#define EC_SESSION_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_register.h"

#define EC_ID_TAG_MAX 20  /* OCPP idTag */
#define EC_CP_ID_MAX 48   /* OCPP charge point identity */
#define EC_CP_CONNECTORS_MAX 16 /* connectors of one charge point the hub keeps */

enum {
    EC_TX_AUTH_REJECTED = 1, /* started (offline) for a token the hub then refused */
    EC_TX_METER_MISMATCH = 2 /* meterStop disagrees with the meter values sent */
};

typedef struct {
    int64_t id;
    char charge_point[EC_CP_ID_MAX + 1];
    int connector;
    char id_tag[EC_ID_TAG_MAX + 1];
    char issuer_id[EC_REG_ID_MAX + 1];
    char operator_id[EC_REG_ID_MAX + 1];
    char site_id[EC_REG_ID_MAX + 1];
    char auth_status[16]; /* the answer given when it started */
    int64_t start_s, meter_start_wh;
    int stopped;
    int64_t stop_s, meter_stop_wh;
    char stop_reason[24];
    int64_t last_register_wh; /* the latest Energy.Active.Import.Register; -1: none */
    int64_t last_increase_s;  /* when the energy register last went up; 0: never */
    double power_w, max_power_w;
    double soc;               /* -1: not reported */
    int flags;
} ec_tx_t;

#endif

/* fuzz_ocpp.c - one OCPP-J message from a registered, accepted charge point
 * as the central system receives it: the frame, the schema check and the
 * handler, over one in-memory store that lives across inputs (so a stop
 * meets an earlier start). */
#include "server/ocpp.h"

#include <string.h>

static ocpp_cs *cs;
static ocpp_cp cp;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cs) {
        static ec_store *store;
        ec_log_set_level(EC_LOG_OFF);
        ocpp_opts_t o = {300, 30, "op-fuzz"};
        if (ec_store_open(":memory:", &store) || ocpp__new(uv_default_loop(), store, &o, &cs)) __builtin_trap();
        ec_store_token_put(store, "FUZZTAG", "fleet", "{\"uid\":\"FUZZTAG\",\"issuer_id\":\"fleet\",\"valid\":true}",
                           EC_PUT_CREATE);
        snprintf(cp.id, sizeof cp.id, "CP-FUZZ");
        snprintf(cp.operator_id, sizeof cp.operator_id, "op-fuzz");
        cp.cs = cs;
        cp.registered = cp.accepted = 1;
        cp.connectors = 2;
    }
    if (size > OCPP_MESSAGE_MAX) return 0;
    ocpp__ws_message(cs, &cp, NULL, (const char *)data, size);
    ocpp__flush(cs);
    return 0;
}

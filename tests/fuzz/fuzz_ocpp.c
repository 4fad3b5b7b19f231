/* fuzz_ocpp.c - one OCPP-J message from a registered, accepted charge point
 * as the central system receives it: the frame, the schema check and the
 * handler, over one in-memory store that lives across inputs (so a stop
 * meets an earlier start). The charge point is at a site whose power is
 * shared under a connection limit, so starts, meter values and stops also
 * go through the power sharing. */
#include "ecorridor/ec_json.h"
#include "server/ocpp.h"

#include <string.h>

static void put_site(ec_store *store)
{
    ec_json *in;
    if (ec_json_load_str("{\"name\":\"F\",\"coordinates\":{\"latitude\":\"50\",\"longitude\":\"8\"},"
                         "\"grid_limit_kw\":50,\"charging\":{\"algo\":\"opt\"},\"evses\":[{\"uid\":\"E1\","
                         "\"connectors\":[{\"id\":\"1\",\"standard\":\"MCS\",\"max_electric_power\":40000}]}]}",
                         "site", &in))
        __builtin_trap();
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_reg_index_t idx;
    ec_reg_error_t err;
    if (ec_reg_normalize(EC_KIND_SITE, in, NULL, "site-fuzz", 0, &doc, &idx, &err) ||
        ec_store_put(store, EC_KIND_SITE, "site-fuzz", EC_PUT_CREATE, doc.data, &idx, NULL))
        __builtin_trap();
    ec_buf_free(&doc);
    ec_json_free(in);
}

static ocpp_cs *cs;
static ocpp_cp cp;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cs) {
        static ec_store *store;
        ec_log_set_level(EC_LOG_OFF);
        ocpp_opts_t o = {300, 30, "op-fuzz"};
        if (ec_store_open(":memory:", &store)) __builtin_trap();
        put_site(store);
        if (ocpp__new(uv_default_loop(), store, &o, &cs)) __builtin_trap();
        ec_store_token_put(store, "FUZZTAG", "fleet", "{\"uid\":\"FUZZTAG\",\"issuer_id\":\"fleet\",\"valid\":true}",
                           EC_PUT_CREATE);
        snprintf(cp.id, sizeof cp.id, "CP-FUZZ");
        snprintf(cp.operator_id, sizeof cp.operator_id, "op-fuzz");
        snprintf(cp.site_id, sizeof cp.site_id, "site-fuzz");
        snprintf(cp.evse_uid[1], sizeof cp.evse_uid[1], "E1");
        cp.cs = cs;
        cp.registered = cp.accepted = 1;
        cp.connectors = 2;
    }
    if (size > OCPP_MESSAGE_MAX) return 0;
    ocpp__ws_message(cs, &cp, NULL, (const char *)data, size);
    ocpp__flush(cs);
    return 0;
}

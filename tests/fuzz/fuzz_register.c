/* fuzz_register.c - an API request body validated as each kind of register
 * object, as a POST and as a PATCH over a stored document; a document that
 * passes must normalize again to itself (the canonical form is a fixed point). */
#include "ecorridor/ec_register.h"

#include <string.h>

static const char *const BASE =
    "{\"id\":\"x\",\"name\":\"A\",\"coordinates\":{\"latitude\":\"50\",\"longitude\":\"7\"},\"evses\":[{\"uid\":\"E\","
    "\"connectors\":[{\"id\":\"1\",\"standard\":\"MCS\"}]}],\"last_updated\":\"2026-01-01T00:00:00Z\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ec_json *in = NULL, *base = NULL;
    if (ec_json_load_buf((const char *)data, size, "fuzz", &in)) return 0;
    ec_json_load_str(BASE, "base", &base);
    ec_buf doc, again;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_buf_init(&again, EC_REG_DOC_MAX);
    for (int k = 0; k < EC_KIND_COUNT; k++) {
        ec_reg_index_t idx;
        ec_reg_error_t err;
        for (int patch = 0; patch < 2; patch++) {
            if (ec_reg_normalize((ec_kind)k, in, patch ? base : NULL, "x", 1, &doc, &idx, &err)) continue;
            ec_json *canon = NULL;
            if (ec_json_load_buf(doc.data, doc.len, "doc", &canon)) __builtin_trap();
            if (ec_reg_normalize((ec_kind)k, canon, NULL, "x", 1, &again, &idx, &err) ||
                again.len != doc.len || memcmp(again.data, doc.data, doc.len))
                __builtin_trap();
            ec_json_free(canon);
        }
    }
    /* Every kind's table, chargers' and tokens' too, checks any input. */
    for (int k = 0; k < EC_KIND_ALL; k++) {
        ec_reg_error_t err;
        ec_reg_check((ec_kind)k, in, &err);
    }
    ec_buf_free(&doc);
    ec_buf_free(&again);
    ec_json_free(in);
    ec_json_free(base);
    return 0;
}

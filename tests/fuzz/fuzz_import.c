/* fuzz_import.c - register files in every import format (the first byte
 * picks the format), and the routing view of what they produce. */
#include "ecorridor/ec_register.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    ec_import_format f = (ec_import_format)(data[0] % 4);
    ec_import_set set;
    if (ec_import_parse(f, "fuzz", (const char *)data + 1, size - 1, data[0] & 4 ? "op-1" : NULL, &set)) return 0;
    /* Every record must normalize or fail cleanly; the good ones feed routing. */
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    char *docs[64];
    size_t n = 0;
    for (size_t i = 0; i < set.records.len; i++) {
        const ec_import_record_t *r = &EC_VEC_AT(&set.records, ec_import_record_t, i);
        ec_reg_index_t idx;
        ec_reg_error_t err;
        if (!ec_reg_id_valid(r->id)) __builtin_trap();
        if (ec_reg_normalize(r->kind, r->input, NULL, r->id, 0, &doc, &idx, &err)) continue;
        if (r->kind == EC_KIND_SITE && n < 64) docs[n++] = ec_strdup(doc.data);
    }
    ec_sites sites;
    if (ec_reg_sites_for_routing((const char *const *)docs, n, NULL, 0, &sites) == EC_OK) ec_sites_free(&sites);
    for (size_t i = 0; i < n; i++) ec_free(docs[i]);
    ec_buf_free(&doc);
    ec_import_set_free(&set);
    return 0;
}

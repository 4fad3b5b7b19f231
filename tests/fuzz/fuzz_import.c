/* fuzz_import.c - register files in every import format (the first byte
 * picks the format), and the routing view of what they produce. */
#include "ecorridor/ec_register.h"

#include <string.h>

typedef struct {
    ec_buf doc;
    char *docs[64];
    size_t n;
} seen;

/* Every record must carry a valid id and normalize or fail cleanly; the
 * good sites feed routing. */
static ec_err check(void *ctx, const ec_import_record_t *r)
{
    seen *s = ctx;
    ec_reg_index_t idx;
    ec_reg_error_t err;
    if (!ec_reg_id_valid(r->id)) __builtin_trap();
    if (ec_reg_normalize(r->kind, r->input, NULL, r->id, 0, &s->doc, &idx, &err)) return EC_OK;
    if (r->kind == EC_KIND_SITE && s->n < 64) s->docs[s->n++] = ec_strdup(s->doc.data);
    return EC_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    ec_import_format f = (ec_import_format)(data[0] % 4);
    seen s = {.n = 0};
    ec_buf_init(&s.doc, EC_REG_DOC_MAX);
    ec_import_set set;
    if (ec_import_parse(f, "fuzz", (const char *)data + 1, size - 1, data[0] & 4 ? "op-1" : NULL, check, &s,
                        &set) == EC_OK) {
        ec_sites sites;
        if (ec_reg_sites_for_routing((const char *const *)s.docs, s.n, NULL, 0, &sites) == EC_OK)
            ec_sites_free(&sites);
    }
    for (size_t i = 0; i < s.n; i++) ec_free(s.docs[i]);
    ec_buf_free(&s.doc);
    ec_import_set_free(&set);
    return 0;
}

/* fuzz_sites.c - the charging sites CSV. */
#include "ecorridor/ec_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ec_sites s;
    if (ec_sites_parse("fuzz.csv", (const char *)data, size, &s) == EC_OK) ec_sites_free(&s);
    int64_t m;
    char buf[32];
    size_t n = size < sizeof buf - 1 ? size : sizeof buf - 1;
    for (size_t i = 0; i < n; i++) buf[i] = (char)data[i];
    buf[n] = '\0';
    ec_money_parse(buf, &m);
    return 0;
}

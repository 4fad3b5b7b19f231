/* money.c - the one way amounts of money become text. */
#include "ecorridor/ec_model.h"

#include <stdio.h>

void ec_money_format(int64_t v, int places, char *out, size_t n)
{
    static const uint64_t pow10[] = {1, 10, 100, 1000, 10000};
    if (places < 0 || places > 4) places = 4;
    /* The magnitude as unsigned, so that INT64_MIN has one too. */
    uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    uint64_t drop = pow10[4 - places];
    uint64_t q = a / drop;
    if ((a % drop) * 2 >= drop && drop > 1) q++; /* half away from zero */
    uint64_t one = pow10[places];
    const char *sign = v < 0 && q ? "-" : "";
    if (!places)
        snprintf(out, n, "%s%llu", sign, (unsigned long long)q);
    else
        snprintf(out, n, "%s%llu.%0*llu", sign, (unsigned long long)(q / one), places,
                 (unsigned long long)(q % one));
}

/* fuzz_profile.c - electric truck profile files; an accepted profile must be safe to use. */
#include "ecorridor/ec_energy.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ec_vehicle_profile v;
    if (ec_vehicle_profile_parse(text, "fuzz.json", &v) == EC_OK) {
        ec_conditions_t c = ec_conditions_default(&v);
        double s;
        ec_energy_wh(&v, &c, 1000, 45, 10);
        for (int p = 0; p < EC_PLUG_COUNT; p++) ec_charge_time_s(&v, (ec_plug)p, 0, 0.1, 0.9, &s, NULL);
    }
    free(text);
    return 0;
}

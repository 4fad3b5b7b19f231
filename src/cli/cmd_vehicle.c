/* cmd_vehicle.c - `ecorridor vehicle list|show`: electric truck profiles. */
#include "cli.h"
#include "ecorridor/ec_energy.h"

#include <string.h>

/* Figures that let a reader compare profiles: motorway consumption at 80 km/h,
 * range on the usable window, and 20 -> 80 % on the fastest plug. */
typedef struct {
    double kwh_100km, kwh_100km_cold, range_km, fast_min;
    ec_plug fast_plug;
} summary;

static summary summarise(const ec_vehicle_profile *v, const ec_conditions_t *c)
{
    summary s = {0};
    ec_conditions_t cold = *c;
    cold.temp_c = -2.0;
    double len = 100000.0, dur = len / (80.0 / 3.6);
    s.kwh_100km = ec_energy_wh(v, c, len, dur, 0) / 1000.0;
    s.kwh_100km_cold = ec_energy_wh(v, &cold, len, dur, 0) / 1000.0;
    s.range_km = v->battery_wh * (v->soc_max - v->soc_min) / (s.kwh_100km * 10.0);
    s.fast_plug = EC_PLUG_COUNT;
    for (int p = 0; p < EC_PLUG_COUNT; p++)
        if (v->plug_max_w[p] > 0 && (s.fast_plug == EC_PLUG_COUNT || v->plug_max_w[p] > v->plug_max_w[s.fast_plug]))
            s.fast_plug = (ec_plug)p;
    double secs;
    if (s.fast_plug != EC_PLUG_COUNT && !ec_charge_time_s(v, s.fast_plug, 0, 0.2, 0.8, &secs, NULL))
        s.fast_min = secs / 60.0;
    return s;
}

static void plugs_text(const ec_vehicle_profile *v, char *out, size_t n)
{
    out[0] = '\0';
    size_t len = 0;
    for (int p = 0; p < EC_PLUG_COUNT; p++)
        if (v->plug_max_w[p] > 0 && len < n)
            len += (size_t)snprintf(out + len, n - len, "%s%s %.0f kW", len ? ", " : "",
                                    ec_plug_name((ec_plug)p), v->plug_max_w[p] / 1000);
}

static void json_profile(ec_jw *w, const ec_vehicle_profile *v, const ec_conditions_t *c, int full)
{
    summary s = summarise(v, c);
    ec_jw_obj_begin(w);
    ec_jw_key(w, "name"), ec_jw_str(w, v->name);
    ec_jw_key(w, "vehicle_class"), ec_jw_str(w, v->vehicle_class);
    ec_jw_key(w, "battery_kwh"), ec_jw_num(w, v->battery_wh / 1000, 1);
    ec_jw_key(w, "plugs");
    ec_jw_obj_begin(w);
    for (int p = 0; p < EC_PLUG_COUNT; p++)
        if (v->plug_max_w[p] > 0) ec_jw_key(w, ec_plug_name((ec_plug)p)), ec_jw_num(w, v->plug_max_w[p] / 1000, 1);
    ec_jw_obj_end(w);
    ec_jw_key(w, "kwh_per_100km"), ec_jw_num(w, s.kwh_100km, 1);
    ec_jw_key(w, "range_km"), ec_jw_num(w, s.range_km, 0);
    ec_jw_key(w, "charge_20_80_min"), ec_jw_num(w, s.fast_min, 1);
    if (full) {
        ec_jw_key(w, "payload_kg"), ec_jw_num(w, c->payload_kg, 0);
        ec_jw_key(w, "temp_c"), ec_jw_num(w, c->temp_c, 1);
        ec_jw_key(w, "kwh_per_100km_at_minus_2c"), ec_jw_num(w, s.kwh_100km_cold, 1);
        ec_jw_key(w, "empty_mass_kg"), ec_jw_num(w, v->empty_mass_kg, 0);
        ec_jw_key(w, "max_payload_kg"), ec_jw_num(w, v->max_payload_kg, 0);
        ec_jw_key(w, "soc_min"), ec_jw_num(w, v->soc_min, 3);
        ec_jw_key(w, "soc_max"), ec_jw_num(w, v->soc_max, 3);
        ec_jw_key(w, "cda_m2"), ec_jw_num(w, v->cda_m2, 2);
        ec_jw_key(w, "crr"), ec_jw_num(w, v->crr, 4);
        ec_jw_key(w, "drivetrain_eff"), ec_jw_num(w, v->drivetrain_eff, 3);
        ec_jw_key(w, "regen_eff"), ec_jw_num(w, v->regen_eff, 3);
        ec_jw_key(w, "charge_eff"), ec_jw_num(w, v->charge_eff, 3);
        ec_jw_key(w, "aux_kw"), ec_jw_num(w, v->aux_w / 1000, 2);
        ec_jw_key(w, "temp_coeff_per_c"), ec_jw_num(w, v->temp_coeff_per_c, 4);
        ec_jw_key(w, "curve");
        ec_jw_arr_begin(w);
        for (int i = 0; i < v->n_curve; i++) {
            ec_jw_arr_begin(w);
            ec_jw_num(w, v->curve[i].soc, 3);
            ec_jw_num(w, v->curve[i].power_w / 1000, 1);
            ec_jw_arr_end(w);
        }
        ec_jw_arr_end(w);
    }
    ec_jw_obj_end(w);
}

static const cli_opt list_opts[] = {{"json", NULL, "print JSON"}, {NULL, NULL, NULL}};
static int run_list(int argc, char **argv);
const cli_cmd cmd_vehicle_list = {"vehicle list", "vehicle list [--json]",
                                  "List the built-in electric truck profiles.", list_opts, run_list,
                                  NULL};

static int run_list(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_vehicle_list, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    cli_json j;
    int json = cli_flag(&a, "json");
    if (json) {
        cli_json_begin(&j);
        ec_jw_arr_begin(&j.w);
    } else {
        printf("%-18s %8s %-22s %12s %9s %13s\n", "name", "battery", "plugs", "kWh/100 km", "range",
               "20-80 % fast");
    }
    for (const char *const *n = ec_vehicle_profile_names(); *n; n++) {
        ec_vehicle_profile v;
        ec_vehicle_profile_builtin(*n, &v);
        ec_conditions_t c = ec_conditions_default(&v);
        if (json) {
            json_profile(&j.w, &v, &c, 0);
            continue;
        }
        summary s = summarise(&v, &c);
        char plugs[128];
        plugs_text(&v, plugs, sizeof plugs);
        printf("%-18s %4.0f kWh %-22s %12.1f %6.0f km %9.1f min\n", v.name, v.battery_wh / 1000,
               plugs, s.kwh_100km, s.range_km, s.fast_min);
    }
    if (json) {
        ec_jw_arr_end(&j.w);
        cli_json_print(&j);
    } else {
        printf("\nconsumption and range at full payload (40 t), 80 km/h on a flat motorway, 20 C\n");
    }
    return EXIT_OK;
}

static const cli_opt show_opts[] = {
    {"payload-kg", "N", "payload (default: the profile's default payload)"},
    {"temp-c", "N", "outside temperature in degrees Celsius (default 20)"},
    {"json", NULL, "print JSON"},
    {NULL, NULL, NULL},
};
static int run_show(int argc, char **argv);
const cli_cmd cmd_vehicle_show = {"vehicle show", "vehicle show NAME|FILE [--payload-kg N] [--temp-c N] [--json]",
                                  "Show an electric truck profile and what it means on the road.",
                                  show_opts, run_show, "NAME|FILE"};

static int run_show(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_vehicle_show, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    if (!a.pos) return cli_usage_error(&cmd_vehicle_show, "name a profile or a JSON file");
    ec_vehicle_profile v;
    ec_err rc = ec_vehicle_profile_resolve(a.pos, &v);
    if (rc) return cli_error(rc);
    ec_conditions_t c = ec_conditions_default(&v);
    const char *pl = cli_get(&a, "payload-kg"), *tc = cli_get(&a, "temp-c");
    if (pl && (ec_parse_double(pl, &c.payload_kg) || c.payload_kg < 0 || c.payload_kg > v.max_payload_kg))
        return cli_usage_error(&cmd_vehicle_show, "--payload-kg must be 0..%.0f for %s", v.max_payload_kg, v.name);
    if (tc && (ec_parse_double(tc, &c.temp_c) || c.temp_c < -50 || c.temp_c > 60))
        return cli_usage_error(&cmd_vehicle_show, "--temp-c must be -50..60");
    if (cli_flag(&a, "json")) {
        cli_json j;
        cli_json_begin(&j);
        json_profile(&j.w, &v, &c, 1);
        cli_json_print(&j);
        return EXIT_OK;
    }
    summary s = summarise(&v, &c);
    char plugs[128];
    plugs_text(&v, plugs, sizeof plugs);
    printf("profile        %s (road class %s)\n", v.name, v.vehicle_class);
    printf("mass           %.0f kg empty + %.0f kg payload (max %.0f)\n", v.empty_mass_kg, c.payload_kg,
           v.max_payload_kg);
    printf("battery        %.0f kWh, usable SoC %.0f-%.0f %%\n", v.battery_wh / 1000, v.soc_min * 100,
           v.soc_max * 100);
    printf("plugs          %s\n", plugs);
    printf("drag, rolling  CdA %.2f m2, Crr %.4f\n", v.cda_m2, v.crr);
    printf("efficiency     drivetrain %.0f %%, regeneration %.0f %%, charging %.0f %%\n",
           v.drivetrain_eff * 100, v.regen_eff * 100, v.charge_eff * 100);
    printf("auxiliaries    %.1f kW; +%.2f %% energy per degree below 20 C\n", v.aux_w / 1000,
           v.temp_coeff_per_c * 100);
    printf("\nat %.0f kg payload, 80 km/h on a flat motorway:\n", c.payload_kg);
    char at[32];
    snprintf(at, sizeof at, "at %g C", c.temp_c);
    printf("  %-22s %.1f kWh/100 km, range %.0f km\n", at, s.kwh_100km, s.range_km);
    /* The winter figure the eActros 600 was measured at (docs/energy.md),
     * for comparison; not again when it is the temperature asked for. */
    if (c.temp_c != -2.0) printf("  %-22s %.1f kWh/100 km\n", "in winter, at -2 C", s.kwh_100km_cold);
    printf("\ncharging 20 -> 80 %%:\n");
    for (int p = 0; p < EC_PLUG_COUNT; p++) {
        double secs;
        if (v.plug_max_w[p] > 0 && !ec_charge_time_s(&v, (ec_plug)p, 0, 0.2, 0.8, &secs, NULL))
            printf("  %-12s %.1f min\n", ec_plug_name((ec_plug)p), secs / 60);
    }
    printf("\ncurve (SoC %%: kW)");
    for (int i = 0; i < v.n_curve; i++) printf("%s %.0f: %.0f", i ? "," : "", v.curve[i].soc * 100, v.curve[i].power_w / 1000);
    printf("\n");
    return EXIT_OK;
}

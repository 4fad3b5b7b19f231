/* kpi_out.c - the figures as the API and `ecorridor report` write them:
 * JSON ({"data": [...], "suppressed": N}) and CSV, the same columns in the
 * same order, null (an empty CSV field) where the journal cannot say. */
#include "kpi_internal.h"

#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_json.h"

#include <math.h>

#define DECIMALS 4

typedef struct {
    const char *key;
    size_t off;
} num_col;

#define COL(f) {#f, offsetof(ec_kpi_row_t, f)}
static const num_col cols[] = {
    COL(energy_kwh),      COL(avg_power_kw),   COL(peak_power_kw),  COL(uptime_pct),    COL(outage_min),
    COL(excluded_min),    COL(open_min),       COL(charging_min),   COL(plugged_min),   COL(idle_min),
    COL(utilisation_pct), COL(occupancy_pct),  COL(capacity_factor), COL(congestion_pct), COL(wait_mean_min),
    COL(wait_p95_min),    COL(revenue),
};

static double at(const ec_kpi_row_t *r, size_t off)
{
    return *(const double *)((const char *)r + off);
}

static void time_ms(int64_t t_ms, char *out, size_t n)
{
    ec_time_format_iso(t_ms / 1000, out, n);
}

ec_err ec_kpi_json(const ec_kpi_row_t *rows, size_t n, int64_t suppressed, ec_buf *out)
{
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "data");
    ec_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const ec_kpi_row_t *r = &rows[i];
        char t[32];
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "group"), ec_jw_str(&w, ec_kpi_group_name(r->group));
        ec_jw_key(&w, "id"), ec_jw_str(&w, r->id);
        ec_jw_key(&w, "name"), ec_jw_str(&w, r->name);
        time_ms(r->from_ms, t, sizeof t);
        ec_jw_key(&w, "from"), ec_jw_str(&w, t);
        time_ms(r->to_ms, t, sizeof t);
        ec_jw_key(&w, "to"), ec_jw_str(&w, t);
        ec_jw_key(&w, "ports"), ec_jw_int(&w, r->ports);
        ec_jw_key(&w, "sessions"), ec_jw_int(&w, r->sessions);
        for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) {
            double v = at(r, cols[c].off);
            ec_jw_key(&w, cols[c].key);
            if (isfinite(v)) ec_jw_num(&w, v, DECIMALS);
            else ec_jw_null(&w);
        }
        ec_jw_key(&w, "currency");
        if (r->currency[0]) ec_jw_str(&w, r->currency);
        else ec_jw_null(&w);
        ec_jw_key(&w, "co2_avoided_kg");
        if (isfinite(r->co2_avoided_kg)) ec_jw_num(&w, r->co2_avoided_kg, DECIMALS);
        else ec_jw_null(&w);
        ec_jw_obj_end(&w);
    }
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "suppressed"), ec_jw_int(&w, suppressed);
    ec_jw_obj_end(&w);
    return ec_jw_finish(&w);
}

static void csv_num(ec_buf *b, double v)
{
    ec_buf_puts(b, ",");
    if (isfinite(v)) ec_buf_printf(b, "%.*f", DECIMALS, v);
}

ec_err ec_kpi_csv(const ec_kpi_row_t *rows, size_t n, ec_buf *out)
{
    ec_buf_puts(out, "group,id,name,from,to,ports,sessions");
    for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) ec_buf_printf(out, ",%s", cols[c].key);
    ec_buf_puts(out, ",currency,co2_avoided_kg\r\n");
    for (size_t i = 0; i < n; i++) {
        const ec_kpi_row_t *r = &rows[i];
        char f[32], t[32];
        time_ms(r->from_ms, f, sizeof f), time_ms(r->to_ms, t, sizeof t);
        ec_buf_printf(out, "%s,", ec_kpi_group_name(r->group));
        ec_csv_field(out, r->id);
        ec_buf_puts(out, ",");
        ec_csv_field(out, r->name);
        ec_buf_printf(out, ",%s,%s,%lld,%lld", f, t, (long long)r->ports, (long long)r->sessions);
        for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) csv_num(out, at(r, cols[c].off));
        ec_buf_puts(out, ",");
        ec_csv_field(out, r->currency);
        csv_num(out, r->co2_avoided_kg);
        ec_buf_puts(out, "\r\n");
    }
    return ec_buf_error(out);
}

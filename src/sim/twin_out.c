/* twin_out.c - the day's figures from the twin's counters, and the files
 * they are written to (docs/twin.md names every column). Numbers are
 * written with fixed decimals, so the same run writes the same bytes. */
#include "twin_internal.h"

#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Mean and 95th percentile (nearest rank) of v, sorted in place; 0 when empty. */
static void mean_p95(double *v, size_t n, double *mean, double *p95)
{
    *mean = *p95 = 0;
    if (!n) return;
    qsort(v, n, sizeof *v, by_value);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    *mean = s / (double)n;
    size_t k = (size_t)ceil(0.95 * (double)n);
    *p95 = v[k ? k - 1 : 0];
}

ec_err twin__results(tw *w, ec_twin_result_t *r)
{
    ec_vec_init(&r->sites, sizeof(ec_twin_site_t)), ec_vec_init(&r->segments, sizeof(ec_twin_segment_t));
    ec_vec_init(&r->subs, sizeof(ec_twin_sub_t)), ec_vec_init(&r->trips, sizeof(ec_twin_trip_t));
    ec_vec all;
    ec_vec_init(&all, sizeof(double));
    ec_err rc = EC_OK;
    const double day = (double)TW_DAY_MS;
    /* A truck still on its way when the run ended is stranded where it is. */
    for (size_t i = 0; i < w->trucks.len; i++) {
        tw_truck *t = TW_TRUCK(w, i);
        if (t->state == TR_ARRIVED || t->state == TR_STRANDED) continue;
        t->state = TR_STRANDED;
        snprintf(t->reason, sizeof t->reason, "still on its way when the run ended, three days after the day began");
        int near = t->site >= 0 ? t->site : twin__nearest_site(w, ec_graph_point(w->c->g, t->from));
        if (near >= 0) TW_SITE(w, near)->stranded_nearby++;
    }
    for (size_t i = 0; i < w->sites.len && !rc; i++) {
        tw_site *s = TW_SITE(w, i);
        ec_twin_site_t o;
        memset(&o, 0, sizeof o);
        snprintf(o.site_id, sizeof o.site_id, "%s", s->id);
        snprintf(o.name, sizeof o.name, "%s", s->name);
        o.points = s->n_points, o.arrivals = s->arrivals, o.sessions = s->sessions, o.max_queue = s->max_queue;
        o.stranded_nearby = s->stranded_nearby, o.pos = s->pos;
        o.energy_kwh = s->energy_wh / 1000.0, o.peak_kw = s->peak_w / 1000.0;
        if (s->n_points) {
            o.utilisation = s->charge_ms / (day * s->n_points);
            o.occupancy = s->occupied_ms / (day * s->n_points);
        }
        o.congestion_pct = 100.0 * s->congested_ms / day;
        for (size_t k = 0; k < s->waits.len && !rc; k++) rc = ec_vec_push(&all, &EC_VEC_AT(&s->waits, double, k));
        mean_p95(s->waits.data, s->waits.len, &o.mean_wait_min, &o.p95_wait_min);
        r->energy_charged_kwh += o.energy_kwh;
        r->sessions += o.sessions;
        if (!rc) rc = ec_vec_push(&r->sites, &o);
    }
    mean_p95(all.data, all.len, &r->mean_wait_min, &r->p95_wait_min);
    ec_vec_free(&all);
    for (size_t k = 0; k < w->subs.len && !rc; k++) {
        const tw_sub *b = TW_SUB(w, k);
        ec_twin_sub_t o;
        memset(&o, 0, sizeof o);
        snprintf(o.substation_id, sizeof o.substation_id, "%s", b->id);
        o.peak_kw = b->peak_w / 1000.0, o.capacity_kw = b->capacity_w / 1000.0;
        o.mpfi = b->capacity_w > 0 ? 1.0 - b->peak_w / b->capacity_w : NAN;
        o.peak_hour = -1;
        if (b->peak_ms >= 0) {
            int64_t local = b->peak_ms / 1000 + w->c->utc_offset_s;
            o.peak_hour = (int)(((local % 86400) + 86400) % 86400 / 3600);
        }
        rc = ec_vec_push(&r->subs, &o);
    }
    r->e_trips = (int64_t)w->trucks.len;
    for (size_t i = 0; i < w->trucks.len && !rc; i++) {
        tw_truck *t = TW_TRUCK(w, i);
        ec_twin_trip_t o;
        memset(&o, 0, sizeof o);
        o.origin = t->origin, o.destination = t->destination, o.departure_s = t->depart_ms / 1000;
        o.arrival_s = t->state == TR_ARRIVED ? t->arrival_ms / 1000 : 0;
        o.stops = t->stops, o.stranded = t->state == TR_STRANDED, o.vehicle = t->vehicle, o.replanned = t->replanned;
        o.wait_min = (double)t->wait_ms / 60000.0, o.charged_kwh = t->charged_wh / 1000.0, o.soc = t->soc0;
        snprintf(o.reason, sizeof o.reason, "%s", o.stranded ? t->reason : "");
        r->stranded += o.stranded;
        r->e_trips_charged += o.charged_kwh > 0;
        r->replanned += o.replanned > 0;
        rc = ec_vec_push(&r->trips, &o);
    }
    r->trips_total = w->trips_total;
    return rc;
}

/* ---- files ------------------------------------------------------------------------------------ */

static ec_err write_file(const char *dir, const char *name, const ec_buf *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return ec_fail(EC_EIO, "%s: %s", path, strerror(errno));
    size_t n = fwrite(b->data ? b->data : "", 1, b->len, f);
    int bad = n != b->len || fflush(f) != 0;
    if (fclose(f) != 0) bad = 1;
    return bad ? ec_fail(EC_EIO, "%s: could not be written whole", path) : EC_OK;
}

static void iso(int64_t t, char *out, size_t n)
{
    if (t) ec_time_format_iso(t, out, n);
    else if (n) out[0] = 0;
}

ec_err ec_twin_summary_json(const ec_twin_result_t *r, const ec_twin_config_t *c, ec_buf *out)
{
    ec_jw w;
    ec_jw_init(&w, out);
    char day[32];
    ec_time_format_iso(c->day_start_s, day, sizeof day);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "trips"), ec_jw_int(&w, r->trips_total);
    ec_jw_key(&w, "e_trips"), ec_jw_int(&w, r->e_trips);
    ec_jw_key(&w, "e_trips_charged"), ec_jw_int(&w, r->e_trips_charged);
    ec_jw_key(&w, "stranded"), ec_jw_int(&w, r->stranded);
    ec_jw_key(&w, "energy_charged_kwh"), ec_jw_num(&w, r->energy_charged_kwh, 3);
    ec_jw_key(&w, "driving_energy_kwh"), ec_jw_num(&w, r->driving_energy_kwh, 3);
    ec_jw_key(&w, "mean_wait_min"), ec_jw_num(&w, r->mean_wait_min, 3);
    ec_jw_key(&w, "p95_wait_min"), ec_jw_num(&w, r->p95_wait_min, 3);
    ec_jw_key(&w, "co2_avoided_t_ttw"), ec_jw_num(&w, r->co2_avoided_t_ttw, 3);
    ec_jw_key(&w, "co2_avoided_t_wtw"), ec_jw_num(&w, r->co2_avoided_t_wtw, 3);
    ec_jw_key(&w, "sessions"), ec_jw_int(&w, r->sessions);
    ec_jw_key(&w, "replanned"), ec_jw_int(&w, r->replanned);
    ec_jw_key(&w, "e_km"), ec_jw_num(&w, r->e_km, 1);
    ec_jw_key(&w, "sites"), ec_jw_int(&w, (int64_t)r->sites.len);
    ec_jw_key(&w, "day_start"), ec_jw_str(&w, day);
    ec_jw_key(&w, "bev_share"), ec_jw_real(&w, c->bev_share);
    ec_jw_key(&w, "day_factor"), ec_jw_real(&w, c->day_factor);
    ec_jw_key(&w, "temp_c"), ec_jw_real(&w, c->temp_c);
    ec_jw_key(&w, "grid_g_per_kwh"), ec_jw_real(&w, c->grid_g_per_kwh);
    ec_jw_key(&w, "rules"), ec_jw_str(&w, c->rules == EC_RULES_EU ? "eu" : c->rules == EC_RULES_US ? "us" : "none");
    ec_jw_key(&w, "seed"), ec_jw_int(&w, (int64_t)c->seed);
    ec_jw_key(&w, "scenario");
    if (c->scenario) ec_jw_str(&w, c->scenario->name[0] ? c->scenario->name : c->scenario->file);
    else ec_jw_null(&w);
    ec_jw_key(&w, "runtime_s"), ec_jw_num(&w, r->runtime_s, 3);
    ec_jw_obj_end(&w);
    return ec_jw_finish(&w);
}

static ec_err write_sites(const ec_twin_result_t *r, const int *pfw, const char *dir)
{
    ec_buf b;
    ec_buf_init(&b, 1u << 30);
    ec_buf_puts(&b, "site_id,points,arrivals,sessions,energy_kwh,peak_kw,utilisation,occupancy,congestion_pct,"
                    "mean_wait_min,p95_wait_min,max_queue,stranded_nearby");
    if (pfw) ec_buf_printf(&b, ",points_for_wait");
    ec_buf_puts(&b, "\n");
    for (size_t i = 0; i < r->sites.len; i++) {
        const ec_twin_site_t *s = &EC_VEC_AT(&r->sites, ec_twin_site_t, i);
        ec_csv_field(&b, s->site_id);
        ec_buf_printf(&b, ",%d,%lld,%lld,%.3f,%.1f,%.4f,%.4f,%.2f,%.2f,%.2f,%lld,%lld", s->points, (long long)s->arrivals,
                      (long long)s->sessions, s->energy_kwh, s->peak_kw, s->utilisation, s->occupancy, s->congestion_pct,
                      s->mean_wait_min, s->p95_wait_min, (long long)s->max_queue, (long long)s->stranded_nearby);
        if (pfw) {
            if (pfw[i] > 0) ec_buf_printf(&b, ",%d", pfw[i]);
            else ec_buf_puts(&b, ",");
        }
        ec_buf_puts(&b, "\n");
    }
    ec_err rc = ec_buf_error(&b);
    if (!rc) rc = write_file(dir, "sites.csv", &b);
    ec_buf_free(&b);
    return rc;
}

static ec_err write_segments(const ec_twin_result_t *r, const char *dir)
{
    ec_buf b, g;
    ec_buf_init(&b, 1u << 30), ec_buf_init(&g, 1u << 30);
    ec_buf_puts(&b, "from,to,length_km,trucks_per_day,e_trucks_per_day,energy_kwh\n");
    ec_buf_puts(&g, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (size_t i = 0; i < r->segments.len; i++) {
        const ec_twin_segment_t *s = &EC_VEC_AT(&r->segments, ec_twin_segment_t, i);
        ec_buf_printf(&b, "%lld,%lld,%.3f,%.3f,%lld,%.3f\n", (long long)s->from, (long long)s->to, s->length_km,
                      s->trucks_per_day, (long long)s->e_trucks_per_day, s->energy_kwh);
        ec_buf_printf(&g,
                      "%s\n{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[%.6f,%.6f],[%.6f,%.6f]]},"
                      "\"properties\":{\"from\":%lld,\"to\":%lld,\"length_km\":%.3f,\"trucks_per_day\":%.3f,"
                      "\"e_trucks_per_day\":%lld,\"energy_kwh\":%.3f}}",
                      i ? "," : "", s->a.lon, s->a.lat, s->b.lon, s->b.lat, (long long)s->from, (long long)s->to,
                      s->length_km, s->trucks_per_day, (long long)s->e_trucks_per_day, s->energy_kwh);
    }
    ec_buf_puts(&g, "\n]}\n");
    ec_err rc = ec_buf_error(&b);
    if (!rc) rc = ec_buf_error(&g);
    if (!rc) rc = write_file(dir, "segments.csv", &b);
    if (!rc) rc = write_file(dir, "segments.geojson", &g);
    ec_buf_free(&b), ec_buf_free(&g);
    return rc;
}

static ec_err write_subs_trips(const ec_twin_result_t *r, const ec_twin_config_t *c, const char *dir)
{
    ec_buf b;
    ec_buf_init(&b, 1u << 30);
    ec_buf_puts(&b, "substation_id,peak_kw,capacity_kw,peak_hour,mpfi\n");
    for (size_t i = 0; i < r->subs.len; i++) {
        const ec_twin_sub_t *s = &EC_VEC_AT(&r->subs, ec_twin_sub_t, i);
        ec_csv_field(&b, s->substation_id);
        ec_buf_printf(&b, ",%.1f,%.1f,", s->peak_kw, s->capacity_kw);
        if (s->peak_hour >= 0) ec_buf_printf(&b, "%d", s->peak_hour);
        if (isfinite(s->mpfi)) ec_buf_printf(&b, ",%.4f\n", s->mpfi);
        else ec_buf_puts(&b, ",\n");
    }
    ec_err rc = ec_buf_error(&b);
    if (!rc) rc = write_file(dir, "substations.csv", &b);
    ec_buf_reset(&b);
    ec_buf_puts(&b, "origin,destination,departure,arrival,stops,wait_min,charged_kwh,stranded,reason,vehicle,soc_start,replanned,"
                    "truck\n");
    for (size_t i = 0; i < r->trips.len && !rc; i++) {
        const ec_twin_trip_t *t = &EC_VEC_AT(&r->trips, ec_twin_trip_t, i);
        char dep[32], arr[32];
        iso(t->departure_s, dep, sizeof dep), iso(t->arrival_s, arr, sizeof arr);
        ec_buf_printf(&b, "%lld,%lld,%s,%s,%d,%.2f,%.3f,%d,", (long long)t->origin, (long long)t->destination, dep, arr,
                      t->stops, t->wait_min, t->charged_kwh, t->stranded);
        ec_csv_field(&b, t->reason);
        ec_buf_puts(&b, ",");
        ec_csv_field(&b, c->mix->e[t->vehicle].profile.name);
        ec_buf_printf(&b, ",%.3f,%d,T%zu\n", t->soc, t->replanned, i);
    }
    if (!rc) rc = ec_buf_error(&b);
    if (!rc) rc = write_file(dir, "trips.csv", &b);
    ec_buf_free(&b);
    return rc;
}

ec_err ec_twin_write(const ec_twin_result_t *r, const ec_twin_config_t *c, const int *points_for_wait, const char *dir)
{
    ec_buf b;
    ec_buf_init(&b, 1u << 20);
    ec_err rc = ec_twin_summary_json(r, c, &b);
    if (!rc) rc = ec_buf_puts(&b, "\n");
    if (!rc) rc = write_file(dir, "summary.json", &b);
    ec_buf_free(&b);
    if (!rc) rc = write_sites(r, points_for_wait, dir);
    if (!rc) rc = write_segments(r, dir);
    if (!rc) rc = write_subs_trips(r, c, dir);
    return rc;
}

/* plan_out.c - the plan's files (docs/plan.md): plan.json, upgrades.csv,
 * shared_vs_duplicated.csv, cost_shares.csv, resilience.csv, tco.csv, the
 * planned day's twin files and a scenario per rank of the upgrades. */
#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_plan.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Written whole to a temporary name, then renamed: a reader never sees half a file. */
static ec_err write_file(const char *dir, const char *name, const ec_buf *b)
{
    char path[4096], tmp[4200];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return ec_fail(EC_EINVAL, "%s: path too long", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return ec_fail(EC_EIO, "%s: %s", tmp, strerror(errno));
    size_t w = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    int bad = w != b->len || fflush(f) || fsync(fileno(f));
    if (fclose(f) || bad) {
        remove(tmp);
        return ec_fail(EC_EIO, "%s: could not be written", tmp);
    }
    if (rename(tmp, path)) return ec_fail(EC_EIO, "%s: %s", path, strerror(errno));
    return EC_OK;
}

#define put ec_buf_printf

/* A CSV cell: quoted when it holds a comma, a quote or a line break. */
static void cell(ec_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        ec_buf_append(b, s, strlen(s));
        return;
    }
    ec_buf_append(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"') ec_buf_append(b, "\"", 1);
        ec_buf_append(b, p, 1);
    }
    ec_buf_append(b, "\"", 1);
}

static const char *jname(const ec_plan_config_t *c, int j)
{
    return c->areas && j >= 0 && (size_t)j < c->areas->n_ids ? c->areas->ids[j] : "";
}

ec_err ec_plan_json(const ec_plan_result_t *r, const ec_plan_config_t *c, ec_buf *out)
{
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "budget");
    if (r->budget < 0) ec_jw_null(&w);
    else ec_jw_num(&w, r->budget, 2);
    ec_jw_key(&w, "spent"), ec_jw_num(&w, r->spent, 2);
    ec_jw_key(&w, "objective"), ec_jw_num(&w, r->objective, 3);
    ec_jw_key(&w, "bound"), ec_jw_num(&w, r->bound, 3);
    ec_jw_key(&w, "gap"), ec_jw_num(&w, r->gap, 6);
    ec_jw_key(&w, "currency"), ec_jw_str(&w, c->costs->currency);
    ec_jw_key(&w, "served_truck_km_per_day"), ec_jw_num(&w, r->served_truck_km, 1);
    ec_jw_key(&w, "annual_cost"), ec_jw_num(&w, r->model_annual_cost, 2);
    ec_jw_key(&w, "years"), ec_jw_int(&w, c->years);
    ec_jw_key(&w, "chosen");
    ec_jw_arr_begin(&w);
    for (size_t i = 0; i < r->actions.len; i++) {
        const ec_plan_action_t *a = &EC_VEC_AT(&r->actions, ec_plan_action_t, i);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "action"), ec_jw_str(&w, a->action);
        ec_jw_key(&w, "site_id"), ec_jw_str(&w, a->site_id);
        ec_jw_key(&w, "node"), ec_jw_int(&w, a->node);
        ec_jw_key(&w, "points"), ec_jw_int(&w, a->points);
        ec_jw_key(&w, "kw"), ec_jw_num(&w, a->kw, 1);
        ec_jw_key(&w, "capex"), ec_jw_num(&w, a->capex, 2);
        ec_jw_key(&w, "grid_kw"), ec_jw_num(&w, a->grid_kw, 1);
        ec_jw_key(&w, "standard"), ec_jw_str(&w, ec_plug_name(a->plug));
        ec_jw_key(&w, "name"), ec_jw_str(&w, a->name);
        ec_jw_key(&w, "lat"), ec_jw_num(&w, a->pos.lat, 6);
        ec_jw_key(&w, "lon"), ec_jw_num(&w, a->pos.lon, 6);
        ec_jw_key(&w, "rank"), ec_jw_int(&w, a->rank);
        ec_jw_key(&w, "jurisdiction_id"), ec_jw_str(&w, jname(c, a->jurisdiction));
        ec_jw_key(&w, "kwh_per_day_planned"), ec_jw_num(&w, a->model_kwh_per_day, 1);
        ec_jw_obj_end(&w);
    }
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "model");
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "places"), ec_jw_int(&w, (int64_t)r->n_places);
    ec_jw_key(&w, "paths_needing_a_charge"), ec_jw_int(&w, (int64_t)r->stats.paths);
    ec_jw_key(&w, "paths_unservable"), ec_jw_int(&w, (int64_t)r->stats.unservable);
    ec_jw_key(&w, "trucks_per_day"), ec_jw_num(&w, r->stats.trucks_per_day, 1);
    ec_jw_key(&w, "truck_km_per_day"), ec_jw_num(&w, r->stats.truck_km_per_day, 1);
    ec_jw_key(&w, "servable_truck_km_per_day"), ec_jw_num(&w, r->stats.servable_truck_km, 1);
    ec_jw_key(&w, "kwh_per_day"), ec_jw_num(&w, r->stats.kwh_per_day, 1);
    ec_jw_obj_end(&w);
    ec_jw_key(&w, "days");
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "before");
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "stranded"), ec_jw_int(&w, r->base.stranded);
    ec_jw_key(&w, "p95_wait_min"), ec_jw_num(&w, r->base.p95_wait_min, 3);
    ec_jw_key(&w, "energy_charged_kwh"), ec_jw_num(&w, r->base.energy_charged_kwh, 3);
    ec_jw_obj_end(&w);
    ec_jw_key(&w, "planned");
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "stranded"), ec_jw_int(&w, r->planned.stranded);
    ec_jw_key(&w, "p95_wait_min"), ec_jw_num(&w, r->planned.p95_wait_min, 3);
    ec_jw_key(&w, "energy_charged_kwh"), ec_jw_num(&w, r->planned.energy_charged_kwh, 3);
    ec_jw_obj_end(&w);
    ec_jw_obj_end(&w);
    ec_jw_key(&w, "shapley");
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "exact"), ec_jw_bool(&w, r->shapley_exact);
    ec_jw_key(&w, "samples"), ec_jw_int(&w, (int64_t)r->shapley_samples);
    ec_jw_key(&w, "coalitions_solved"), ec_jw_int(&w, (int64_t)r->cost_game_solves);
    ec_jw_key(&w, "widest_gap"), ec_jw_num(&w, r->cost_game_gap, 6);
    ec_jw_obj_end(&w);
    ec_jw_key(&w, "charging_price_per_kwh"), ec_jw_num(&w, r->charging_price_per_kwh, 4);
    ec_jw_key(&w, "co2_t_per_year"), ec_jw_num(&w, r->co2_t_per_year, 1);
    ec_jw_key(&w, "runtime_s"), ec_jw_num(&w, r->runtime_s, 2);
    ec_jw_obj_end(&w);
    return ec_jw_finish(&w);
}

static void num(ec_buf *b, double v, int dec)
{
    if (!isfinite(v)) v = 0;
    put(b, "%.*f", dec, v);
}

static ec_err write_upgrades(const ec_plan_result_t *r, const char *dir)
{
    ec_buf b;
    ec_buf_init(&b, 1u << 28);
    put(&b, "rank,action,site_id,node,points,kw,capex,annual_cost,wait_h_saved_per_day,stranded_avoided_per_day,"
            "energy_served_kwh_per_day,cost_per_kwh,name,lat,lon\n");
    for (size_t i = 0; i < r->actions.len; i++) {
        const ec_plan_action_t *a = &EC_VEC_AT(&r->actions, ec_plan_action_t, i);
        put(&b, "%d,%s,", a->rank, a->action);
        cell(&b, a->site_id);
        put(&b, ",%lld,%d,", (long long)a->node, a->points);
        num(&b, a->kw, 1), put(&b, ","), num(&b, a->capex, 2), put(&b, ","), num(&b, a->annual_cost, 2), put(&b, ",");
        num(&b, a->wait_h_saved_per_day, 3), put(&b, ","), num(&b, a->stranded_avoided_per_day, 0), put(&b, ",");
        num(&b, a->energy_served_kwh_per_day, 3), put(&b, ","), num(&b, a->cost_per_kwh, 4), put(&b, ",");
        cell(&b, a->name);
        put(&b, ",%.6f,%.6f\n", a->pos.lat, a->pos.lon);
    }
    ec_err rc = ec_buf_error(&b) ? EC_ENOMEM : write_file(dir, "upgrades.csv", &b);
    ec_buf_free(&b);
    return rc;
}

static ec_err write_jrows(const ec_plan_result_t *r, const char *dir)
{
    ec_buf a, s;
    ec_buf_init(&a, 1u << 24), ec_buf_init(&s, 1u << 24);
    put(&a, "jurisdiction_id,shared_cost,duplicated_cost,shared_p95_wait_min,duplicated_p95_wait_min,shared_stranded,"
            "duplicated_stranded,shared_points,duplicated_points,trucks_per_day\n");
    put(&s, "jurisdiction_id,energy_kwh,share_by_use,shapley,standalone,pays_more_than_alone,shapley_stderr\n");
    for (size_t i = 0; i < r->jrows.len; i++) {
        const ec_plan_jrow_t *j = &EC_VEC_AT(&r->jrows, ec_plan_jrow_t, i);
        cell(&a, j->id), put(&a, ",");
        num(&a, j->shared_cost, 2), put(&a, ","), num(&a, j->duplicated_cost, 2), put(&a, ",");
        num(&a, j->shared_p95_wait_min, 3), put(&a, ","), num(&a, j->duplicated_p95_wait_min, 3), put(&a, ",");
        put(&a, "%lld,%lld,%d,%d,", (long long)j->shared_stranded, (long long)j->duplicated_stranded, j->shared_points,
            j->duplicated_points);
        num(&a, j->trucks_per_day, 3), put(&a, "\n");
        cell(&s, j->id), put(&s, ",");
        num(&s, j->energy_kwh, 3), put(&s, ","), num(&s, j->share_by_use, 2), put(&s, ","), num(&s, j->shapley, 2), put(&s, ",");
        num(&s, j->standalone, 2), put(&s, ",%d,", j->pays_more_than_alone), num(&s, j->shapley_err, 2), put(&s, "\n");
    }
    ec_err rc = ec_buf_error(&a) || ec_buf_error(&s) ? EC_ENOMEM : write_file(dir, "shared_vs_duplicated.csv", &a);
    if (!rc) rc = write_file(dir, "cost_shares.csv", &s);
    ec_buf_free(&a), ec_buf_free(&s);
    return rc;
}

static ec_err write_resilience_tco(const ec_plan_result_t *r, const char *dir)
{
    ec_buf a, t;
    ec_buf_init(&a, 1u << 24), ec_buf_init(&t, 1u << 20);
    put(&a, "site_id,stranded_when_down,extra_wait_h,rank,name\n");
    for (size_t i = 0; i < r->resilience.len; i++) {
        const ec_plan_resil_t *x = &EC_VEC_AT(&r->resilience, ec_plan_resil_t, i);
        cell(&a, x->site_id), put(&a, ",%lld,", (long long)x->stranded_when_down), num(&a, x->extra_wait_h, 3);
        put(&a, ",%d,", x->rank), cell(&a, x->name), put(&a, "\n");
    }
    put(&t, "vehicle,years,bev_cost_per_km,diesel_cost_per_km,co2_t_per_year\n");
    for (size_t i = 0; i < r->tco.len; i++) {
        const ec_plan_tco_t *x = &EC_VEC_AT(&r->tco, ec_plan_tco_t, i);
        cell(&t, x->vehicle), put(&t, ",%d,", x->years), num(&t, x->bev_cost_per_km, 4), put(&t, ",");
        num(&t, x->diesel_cost_per_km, 4), put(&t, ","), num(&t, x->co2_t_per_year, 3), put(&t, "\n");
    }
    ec_err rc = ec_buf_error(&a) || ec_buf_error(&t) ? EC_ENOMEM : write_file(dir, "resilience.csv", &a);
    if (!rc) rc = write_file(dir, "tco.csv", &t);
    ec_buf_free(&a), ec_buf_free(&t);
    return rc;
}

static void iso(ec_jw *w, int64_t t)
{
    char s[40];
    ec_time_format_iso(t, s, sizeof s);
    ec_jw_str(w, s);
}

/* upgrades/rank-NNN.json: the run's own scenario with the actions up to rank n, as simulate --scenario reads it. */
static ec_err write_rank(const ec_plan_result_t *r, const ec_plan_config_t *c, const char *sub, size_t n)
{
    ec_buf b;
    ec_buf_init(&b, 1u << 24);
    ec_jw w;
    ec_jw_init(&w, &b);
    const ec_scenario_t *s = c->twin.scenario;
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "name");
    char name[160];
    snprintf(name, sizeof name, "%s%splan: ranks 1 to %zu", s && s->name[0] ? s->name : "", s && s->name[0] ? ", " : "", n);
    ec_jw_str(&w, name);
    if (s && s->has_temp) ec_jw_key(&w, "temp_c"), ec_jw_real(&w, s->temp_c);
    if (s && s->has_bev_share) ec_jw_key(&w, "bev_share"), ec_jw_real(&w, s->bev_share);
    if (s && s->n_outages) {
        ec_jw_key(&w, "outages");
        ec_jw_arr_begin(&w);
        for (size_t i = 0; i < s->n_outages; i++) {
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "site"), ec_jw_str(&w, s->outages[i].site_id);
            ec_jw_key(&w, "from"), iso(&w, s->outages[i].from_s);
            ec_jw_key(&w, "to"), iso(&w, s->outages[i].to_s);
            ec_jw_obj_end(&w);
        }
        ec_jw_arr_end(&w);
    }
    if (s && s->n_derates) {
        ec_jw_key(&w, "derating");
        ec_jw_arr_begin(&w);
        for (size_t i = 0; i < s->n_derates; i++) {
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "substation"), ec_jw_str(&w, s->derates[i].substation_id);
            ec_jw_key(&w, "factor"), ec_jw_real(&w, s->derates[i].factor);
            ec_jw_key(&w, "from"), iso(&w, s->derates[i].from_s);
            ec_jw_key(&w, "to"), iso(&w, s->derates[i].to_s);
            ec_jw_obj_end(&w);
        }
        ec_jw_arr_end(&w);
    }
    ec_jw_key(&w, "charge_points");
    ec_jw_arr_begin(&w);
    for (size_t i = 0; s && i < s->n_points; i++) {
        const ec_scn_points_t *p = &s->points[i];
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "site"), ec_jw_str(&w, p->site_id);
        ec_jw_key(&w, "standard"), ec_jw_str(&w, ec_plug_name(p->plug));
        ec_jw_key(&w, "power_kw"), ec_jw_real(&w, p->power_w / 1000);
        ec_jw_key(&w, "count"), ec_jw_int(&w, p->count);
        if (p->has_pos) {
            ec_jw_key(&w, "lat"), ec_jw_real(&w, p->pos.lat);
            ec_jw_key(&w, "lon"), ec_jw_real(&w, p->pos.lon);
            if (p->name[0]) ec_jw_key(&w, "name"), ec_jw_str(&w, p->name);
        }
        ec_jw_obj_end(&w);
    }
    for (size_t i = 0; i < n; i++) {
        const ec_plan_action_t *a = &EC_VEC_AT(&r->actions, ec_plan_action_t, i);
        if (a->points <= 0) continue;
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "site"), ec_jw_str(&w, a->site_id);
        ec_jw_key(&w, "standard"), ec_jw_str(&w, ec_plug_name(a->plug));
        ec_jw_key(&w, "power_kw"), ec_jw_real(&w, a->kw);
        ec_jw_key(&w, "count"), ec_jw_int(&w, a->points);
        if (!strcmp(a->action, "new_site")) {
            ec_jw_key(&w, "lat"), ec_jw_real(&w, a->pos.lat);
            ec_jw_key(&w, "lon"), ec_jw_real(&w, a->pos.lon);
            ec_jw_key(&w, "name"), ec_jw_str(&w, a->name);
        }
        ec_jw_obj_end(&w);
    }
    ec_jw_arr_end(&w);
    ec_jw_obj_end(&w);
    ec_err rc = ec_jw_finish(&w);
    char file[64];
    snprintf(file, sizeof file, "rank-%03zu.json", n);
    if (!rc) rc = write_file(sub, file, &b);
    ec_buf_free(&b);
    return rc;
}

/* even_sites.csv (docs/sites.md) and comparison.csv: the plan against pools evenly spaced at its budget. */
static ec_err write_compare(const ec_plan_result_t *r, const ec_plan_config_t *c, const char *dir)
{
    ec_buf b;
    ec_buf_init(&b, 1u << 26);
    put(&b, "site_id,name,lat,lon,standard,power_kw,count,price_per_kwh\n");
    for (size_t i = 0; i < r->even_sites.n; i++) {
        const ec_connector_group_t *g = &r->even_sites.groups[i];
        cell(&b, g->site_id), put(&b, ","), cell(&b, g->name);
        put(&b, ",%.6f,%.6f,%s,", g->pos.lat, g->pos.lon, ec_plug_name(g->standard));
        num(&b, g->power_w / 1000, 1);
        put(&b, ",%d,", g->count);
        if (g->price_per_kwh > 0) num(&b, (double)g->price_per_kwh / 1e4, 4);
        put(&b, "\n");
    }
    ec_err rc = ec_buf_error(&b) ? EC_ENOMEM : write_file(dir, "even_sites.csv", &b);
    ec_buf_reset(&b);
    put(&b, "network,capex,sites_added,points_added,stranded,energy_charged_kwh,mean_wait_min,p95_wait_min\n");
    int plan_points = 0, even_points = 0;
    for (size_t i = 0; i < r->actions.len; i++) plan_points += EC_VEC_AT(&r->actions, ec_plan_action_t, i).points;
    for (size_t i = 0; i < r->even_sites.n; i++)
        if (!strncmp(r->even_sites.groups[i].site_id, "even-", 5)) even_points += r->even_sites.groups[i].count;
    put(&b, "plan,"), num(&b, r->spent, 2), put(&b, ",%zu,%d,%lld,", r->actions.len, plan_points, (long long)r->planned.stranded);
    num(&b, r->planned.energy_charged_kwh, 3), put(&b, ","), num(&b, r->planned.mean_wait_min, 3), put(&b, ",");
    num(&b, r->planned.p95_wait_min, 3), put(&b, "\n");
    put(&b, "even_%gkm,", c->compare_spacing_km), num(&b, r->even_capex, 2);
    put(&b, ",%zu,%d,%lld,", r->even_pools, even_points, (long long)r->even.stranded);
    num(&b, r->even.energy_charged_kwh, 3), put(&b, ","), num(&b, r->even.mean_wait_min, 3), put(&b, ",");
    num(&b, r->even.p95_wait_min, 3), put(&b, "\n");
    put(&b, "today,0,0,0,%lld,", (long long)r->base.stranded);
    num(&b, r->base.energy_charged_kwh, 3), put(&b, ","), num(&b, r->base.mean_wait_min, 3), put(&b, ",");
    num(&b, r->base.p95_wait_min, 3), put(&b, "\n");
    if (!rc) rc = ec_buf_error(&b) ? EC_ENOMEM : write_file(dir, "comparison.csv", &b);
    ec_buf_free(&b);
    return rc;
}

ec_err ec_plan_write(const ec_plan_result_t *r, const ec_plan_config_t *c, const char *dir)
{
    ec_buf b;
    ec_buf_init(&b, 1u << 26);
    ec_err rc = ec_plan_json(r, c, &b);
    if (!rc) {
        ec_buf_append(&b, "\n", 1);
        rc = write_file(dir, "plan.json", &b);
    }
    ec_buf_free(&b);
    if (!rc) rc = write_upgrades(r, dir);
    if (!rc) rc = write_jrows(r, dir);
    if (!rc) rc = write_resilience_tco(r, dir);
    char sub[4096];
    if (!rc && snprintf(sub, sizeof sub, "%s/upgrades", dir) >= (int)sizeof sub) rc = ec_fail(EC_EINVAL, "%s: path too long", dir);
    if (!rc && mkdir(sub, 0755) && errno != EEXIST) rc = ec_fail(EC_EIO, "%s: %s", sub, strerror(errno));
    /* A folder written before (--force) may hold more ranks than this plan has: they go. */
    DIR *d = rc ? NULL : opendir(sub);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        unsigned n;
        char tail[8];
        if (sscanf(e->d_name, "rank-%u.jso%1[n]%1s", &n, tail, tail + 2) == 2 && n > r->actions.len) {
            char old[4400];
            snprintf(old, sizeof old, "%s/%s", sub, e->d_name);
            remove(old);
        }
    }
    if (d) closedir(d);
    for (size_t n = 1; !rc && n <= r->actions.len; n++) rc = write_rank(r, c, sub, n);
    if (!rc && r->compared) rc = write_compare(r, c, dir);
    if (!rc && !r->compared) {
        /* an earlier plan's comparison (--force) is not this one's */
        char old[4200];
        snprintf(old, sizeof old, "%s/comparison.csv", dir), remove(old);
        snprintf(old, sizeof old, "%s/even_sites.csv", dir), remove(old);
    }
    /* The planned day as the twin writes a day, so `serve --scenarios` lists the folder. */
    if (!rc) rc = ec_twin_write(&r->planned, &c->twin, NULL, dir);
    return rc;
}

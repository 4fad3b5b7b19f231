/* twin_size.c - what the twin does around a run: a scenario's charge points
 * put into the sites, the inputs checked before anything is written, and
 * the sizing of every site for a wait (--size-for-wait-min). */
#include "twin_internal.h"

#include <string.h>

static ec_err add_row(ec_sites *s, const ec_connector_group_t *row)
{
    ec_connector_group_t *g = ec_realloc(s->groups, (s->n + 1) * sizeof *g);
    if (!g) return EC_ENOMEM;
    s->groups = g;
    s->groups[s->n++] = *row;
    return EC_OK;
}

ec_err ec_twin_apply_points(ec_sites *sites, const ec_scenario_t *scn)
{
    for (size_t i = 0; i < scn->n_points; i++) {
        const ec_scn_points_t *p = &scn->points[i];
        long last = -1;
        int have = 0;
        for (size_t r = 0; r < sites->n; r++) {
            const ec_connector_group_t *g = &sites->groups[r];
            if (strcmp(g->site_id, p->site_id)) continue;
            last = (long)r;
            if (g->standard == p->plug && (p->power_w <= 0 || g->power_w == p->power_w)) have += g->count;
        }
        if (p->count > 0) {
            ec_connector_group_t row;
            memset(&row, 0, sizeof row);
            if (last >= 0) row = sites->groups[last];
            else {
                snprintf(row.site_id, sizeof row.site_id, "%s", p->site_id);
                snprintf(row.name, sizeof row.name, "%s", p->name[0] ? p->name : p->site_id);
                row.pos = p->pos;
            }
            row.standard = p->plug, row.power_w = p->power_w, row.count = p->count, row.available = p->count;
            row.wait_s = 0, row.busy_until = 0, row.line = 0;
            ec_err rc = add_row(sites, &row);
            if (rc) return rc;
            continue;
        }
        int take = -p->count;
        if (have < take)
            return ec_fail(EC_EINVAL, "%s: charge_points[%zu].count: site %s has %d %s points to remove, not %d", scn->file, i,
                           p->site_id, have, ec_plug_name(p->plug), take);
        for (long r = (long)sites->n - 1; r >= 0 && take > 0; r--) {
            ec_connector_group_t *g = &sites->groups[r];
            if (strcmp(g->site_id, p->site_id) || g->standard != p->plug || (p->power_w > 0 && g->power_w != p->power_w))
                continue;
            int k = g->count < take ? g->count : take;
            g->count -= k, take -= k;
            if (g->available > g->count) g->available = g->count;
        }
    }
    return EC_OK;
}

ec_err ec_twin_check(const ec_twin_config_t *c)
{
    ec_map nodes;
    ec_err rc = twin__node_map(c->g, &nodes);
    if (c->trips)
        for (size_t i = 0; !rc && i < c->trips->n; i++) {
            const ec_trip_in_t *t = &c->trips->t[i];
            const char *field = !ec_map_get(&nodes, (uint64_t)t->origin, NULL) ? "origin"
                                : !ec_map_get(&nodes, (uint64_t)t->destination, NULL) ? "destination" : NULL;
            if (field)
                rc = ec_fail(EC_ENOTFOUND, "the trips file, line %ld: %s %lld is not a node of the corridor's graph", t->line,
                             field, (long long)(field[0] == 'o' ? t->origin : t->destination));
        }
    else
        for (size_t i = 0; !rc && i < c->traffic->n; i++) {
            const ec_od_t *o = &c->traffic->od[i];
            const char *field = !ec_map_get(&nodes, (uint64_t)o->origin, NULL) ? "origin"
                                : !ec_map_get(&nodes, (uint64_t)o->destination, NULL) ? "destination" : NULL;
            if (field)
                rc = ec_fail(EC_ENOTFOUND, "traffic.csv:%ld: %s %lld is not a node of the corridor's graph", o->line, field,
                             (long long)(field[0] == 'o' ? o->origin : o->destination));
        }
    for (size_t r = 0; !rc && r < c->sites->n; r++)
        if (strlen(c->sites->groups[r].site_id) > TW_SITE_ID_MAX)
            rc = ec_fail(EC_ELIMIT, "site %s: an id longer than %d characters (its charge points' ids would be too long)",
                         c->sites->groups[r].site_id, TW_SITE_ID_MAX);
    ec_map_free(&nodes);
    return rc;
}

/* One whole run of the day at these points; each site's p95 wait into p95[]. */
static ec_err run_at(const ec_twin_config_t *c0, const int *points, double *p95, size_t n)
{
    ec_twin_config_t c = *c0;
    c.points = points, c.journal = NULL, c.progress = 0;
    ec_twin_result_t r;
    ec_err rc = ec_twin_run(&c, &r);
    if (rc) return rc;
    for (size_t i = 0; i < n && i < r.sites.len; i++) p95[i] = EC_VEC_AT(&r.sites, ec_twin_site_t, i).p95_wait_min;
    ec_twin_result_free(&r);
    return EC_OK;
}

ec_err ec_twin_size_for_wait(const ec_twin_config_t *c, double wait_min, int *points, size_t n)
{
    int *lo = ec_calloc(n + 1, sizeof *lo), *hi = ec_calloc(n + 1, sizeof *hi), *mid = ec_calloc(n + 1, sizeof *mid);
    double *p95 = ec_calloc(n + 1, sizeof *p95);
    ec_err rc = lo && hi && mid && p95 ? EC_OK : EC_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++) lo[i] = 1, hi[i] = EC_TWIN_SIZE_MAX;
    /* First the most points: a site that waits too long even then is not sized. */
    if (!rc) rc = run_at(c, hi, p95, n);
    for (size_t i = 0; !rc && i < n; i++)
        if (p95[i] > wait_min) lo[i] = hi[i], points[i] = 0;
        else points[i] = -1;
    for (int round = 1; !rc; round++) {
        int open = 0;
        for (size_t i = 0; i < n; i++) {
            mid[i] = lo[i] < hi[i] ? (lo[i] + hi[i]) / 2 : hi[i];
            open += lo[i] < hi[i];
        }
        /* A site already sized stays at its size while the others are bisected. */
        if (!open) break;
        ec_log(EC_LOG_INFO, "sizing for a p95 wait of %g min: round %d, %d sites still open", wait_min, round, open);
        if ((rc = run_at(c, mid, p95, n))) break;
        for (size_t i = 0; i < n; i++) {
            if (lo[i] >= hi[i]) continue;
            if (p95[i] <= wait_min) hi[i] = mid[i];
            else lo[i] = mid[i] + 1;
        }
    }
    for (size_t i = 0; !rc && i < n; i++)
        if (points[i] < 0) points[i] = hi[i];
    /* Each size was found with the others at other sizes: the sizes are run together, and a site
     * that then waits too long gets one more point, at most three times over. */
    for (int round = 0; !rc && round < 3; round++) {
        for (size_t i = 0; i < n; i++) mid[i] = points[i] > 0 ? points[i] : EC_TWIN_SIZE_MAX;
        if ((rc = run_at(c, mid, p95, n))) break;
        int more = 0;
        for (size_t i = 0; i < n; i++)
            if (points[i] > 0 && p95[i] > wait_min) points[i] = points[i] < EC_TWIN_SIZE_MAX ? points[i] + 1 : 0, more++;
        ec_log(EC_LOG_INFO, "sizing for a p95 wait of %g min: the sizes together, %d sites given one more point", wait_min, more);
        if (!more) break;
    }
    ec_free(lo), ec_free(hi), ec_free(mid), ec_free(p95);
    return rc;
}

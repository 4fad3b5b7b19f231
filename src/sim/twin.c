/* twin.c - the corridor twin's run: a discrete-event loop on the simulated
 * clock. Trucks are planned in batches at their departure (twin_plan.c),
 * drive their legs, queue and charge at sites (twin_site.c); the engine
 * hears every change as an event, each written to the journal before the
 * engine sees it, and every command it answers with is journaled and
 * carried out by the simulated chargers, which accept it at once. */
#include "twin_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the event queue: a binary heap on (time, order of insertion) ---------------------------- */

static int before(const tw_event *a, const tw_event *b)
{
    return a->t_ms != b->t_ms ? a->t_ms < b->t_ms : a->seq < b->seq;
}

void twin__fail(tw *w, ec_err rc)
{
    if (!w->err) w->err = rc;
}

void twin__push(tw *w, int64_t t_ms, int kind, int a, int b)
{
    if (w->heap_len == w->heap_cap) {
        size_t cap = w->heap_cap ? w->heap_cap * 2 : 1024;
        tw_event *h = ec_realloc(w->heap, cap * sizeof *h);
        if (!h) {
            twin__fail(w, EC_ENOMEM);
            return;
        }
        w->heap = h, w->heap_cap = cap;
    }
    tw_event e = {t_ms < w->now_ms ? w->now_ms : t_ms, w->seq++, kind, a, b};
    size_t i = w->heap_len++;
    while (i > 0 && before(&e, &w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = e;
}

static tw_event pop(tw *w)
{
    tw_event top = w->heap[0], last = w->heap[--w->heap_len];
    size_t i = 0, n = w->heap_len;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const tw_event *best = &last;
        if (l < n && before(&w->heap[l], best)) m = l, best = &w->heap[l];
        if (l + 1 < n && before(&w->heap[l + 1], best)) m = l + 1;
        if (m == i) break;
        w->heap[i] = w->heap[m];
        i = m;
    }
    if (n) w->heap[i] = last;
    return top;
}

/* ---- the engine and its journal ----------------------------------------------------------- */

static void emit(void *ctx, const ec_share_cmd_t *cmd)
{
    tw *w = ctx;
    if (ec_vec_push(&w->cmds, cmd)) twin__fail(w, EC_ENOMEM);
}

static void journal(tw *w, int64_t t_ms, int command, const char *kind)
{
    if (!w->c->journal || w->err) return;
    ec_err rc = ec_store_journal_append(w->c->journal, t_ms, command, kind, w->jbuf.data);
    if (rc) twin__fail(w, rc);
}

/* Journals ev, then gives it to the engine, then carries out what it answered. */
ec_err twin__feed(tw *w, ec_share_event_t *ev)
{
    if (w->c->journal) {
        ec_buf_reset(&w->jbuf);
        if (ec_share_event_json(ev, &w->jbuf) || ec_buf_error(&w->jbuf)) {
            twin__fail(w, ec_fail(EC_ELIMIT, "a %s event did not fit the journal", ec_share_event_name(ev->kind)));
            return w->err;
        }
        journal(w, ev->t_ms, 0, ec_share_event_name(ev->kind));
    }
    ec_err rc = ec_share_feed(w->eng, ev);
    if (rc) {
        twin__fail(w, ec_fail(rc, "the engine refused a %s event", ec_share_event_name(ev->kind)));
        return rc;
    }
    twin__apply_cmds(w);
    return w->err;
}

/* Every command the engine issued, in order: journaled, carried out by the
 * charger, whose acceptance goes back to the engine as an event (which may
 * bring more commands, handled in the same loop). */
void twin__apply_cmds(tw *w)
{
    if (w->in_apply) return;
    w->in_apply = 1;
    for (size_t i = 0; i < w->cmds.len && !w->err; i++) {
        ec_share_cmd_t cmd = EC_VEC_AT(&w->cmds, ec_share_cmd_t, i);
        if (w->c->journal) {
            ec_buf_reset(&w->jbuf);
            if (!ec_share_cmd_json(&cmd, &w->jbuf)) journal(w, cmd.t_ms, 1, ec_share_cmd_name(cmd.kind));
        }
        if (cmd.kind != EC_SC_LIMIT) continue;
        uint64_t pi;
        if (!ec_map_get(&w->point_of_cp, ec_hash_bytes(cmd.cp, strlen(cmd.cp)), &pi)) continue;
        tw_point *pt = TW_POINT(w, pi);
        if (pt->truck >= 0 && (cmd.connector == 0 || cmd.tx == TW_TRUCK(w, pt->truck)->tx))
            twin__limit(w, pt->truck, cmd.limit_w);
        ec_share_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = EC_SE_RESULT, ev.t_ms = w->now_ms, ev.accepted = 1;
        snprintf(ev.cp, sizeof ev.cp, "%s", cmd.cp);
        twin__feed(w, &ev);
    }
    w->cmds.len = 0;
    w->in_apply = 0;
}

/* ---- the run -------------------------------------------------------------------------------- */

/* The start of the planning batch t_ms falls in: batches are 15 minutes from the day's start. */
static int64_t batch_start(const tw *w, int64_t t_ms)
{
    return t_ms - (((t_ms - w->day0_ms) % TW_BATCH_MS) + TW_BATCH_MS) % TW_BATCH_MS;
}

static int active_trucks(const tw *w)
{
    return w->next_batch < w->trucks.len || w->planned > 0;
}

static void handle(tw *w, const tw_event *e)
{
    switch (e->kind) {
    case EV_BATCH: {
        size_t first = w->next_batch, n = 0;
        int64_t end = e->t_ms + TW_BATCH_MS;
        while (first + n < w->trucks.len && TW_TRUCK(w, first + n)->depart_ms < end) n++;
        twin__snapshot(w);
        ec_err rc = twin__plan_batch(w, first, n);
        if (rc) twin__fail(w, rc);
        w->next_batch = first + n;
        for (size_t i = first; i < first + n; i++) twin__push(w, TW_TRUCK(w, i)->depart_ms, EV_DEPART, (int)i, 0);
        if (w->next_batch < w->trucks.len) twin__push(w, batch_start(w, TW_TRUCK(w, w->next_batch)->depart_ms), EV_BATCH, 0, 0);
        break;
    }
    case EV_DEPART: {
        tw_truck *t = TW_TRUCK(w, e->a);
        const tw_plan *p = TW_PLAN(w, t->plan);
        if (!p->feasible) {
            t->state = TR_STRANDED;
            snprintf(t->reason, sizeof t->reason, "%s", p->reason);
            int near = p->near_site >= 0 ? p->near_site : twin__nearest_site(w, ec_graph_point(w->c->g, t->from));
            if (near >= 0) TW_SITE(w, near)->stranded_nearby++;
            w->planned--;
            break;
        }
        t->stop = 0;
        twin__start_leg(w, e->a);
        break;
    }
    case EV_ARRIVE_SITE: twin__arrive_site(w, e->a); break;
    case EV_FINISH: twin__finish(w, e->a, e->b); break;
    case EV_LEAVE: twin__leave(w, e->a); break;
    case EV_ARRIVE_DEST: {
        tw_truck *t = TW_TRUCK(w, e->a);
        t->state = TR_ARRIVED, t->arrival_ms = w->now_ms;
        w->planned--;
        break;
    }
    case EV_REVIEW:
        twin__review(w);
        if (active_trucks(w)) twin__push(w, w->now_ms + TW_REVIEW_MS, EV_REVIEW, 0, 0);
        break;
    case EV_OUTAGE:
        TW_SITE(w, e->a)->restore_ms = w->c->scenario->outages[e->b].to_s * 1000;
        twin__outage(w, e->a, 1);
        break;
    case EV_RESTORE: twin__outage(w, e->a, 0); break;
    case EV_DERATE: {
        const ec_scn_derate_t *d = &w->c->scenario->derates[e->a];
        for (size_t k = 0; k < w->subs.len; k++)
            if (!strcmp(TW_SUB(w, k)->id, d->substation_id)) twin__derate(w, (int)k, e->b ? d->factor : 1.0);
        break;
    }
    default: break;
    }
}

static void tick_if_due(tw *w)
{
    if (w->err || !ec_share_due(w->eng, w->now_ms)) return;
    ec_share_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = EC_SE_TICK, ev.t_ms = w->now_ms;
    twin__feed(w, &ev);
}

static void scenario_events(tw *w)
{
    const ec_scenario_t *s = w->c->scenario;
    if (!s) return;
    for (size_t i = 0; i < s->n_outages; i++)
        for (size_t k = 0; k < w->sites.len; k++) {
            if (strcmp(TW_SITE(w, k)->id, s->outages[i].site_id)) continue;
            twin__push(w, s->outages[i].from_s * 1000, EV_OUTAGE, (int)k, (int)i);
            twin__push(w, s->outages[i].to_s * 1000, EV_RESTORE, (int)k, 0);
        }
    for (size_t i = 0; i < s->n_derates; i++) {
        twin__push(w, s->derates[i].from_s * 1000, EV_DERATE, (int)i, 1);
        twin__push(w, s->derates[i].to_s * 1000, EV_DERATE, (int)i, 0);
    }
}

static void free_world(tw *w)
{
    for (size_t i = 0; i < w->sites.len; i++) {
        tw_site *s = TW_SITE(w, i);
        for (int p = 0; p < EC_PLUG_COUNT; p++) ec_vec_free(&s->queue[p]);
        ec_vec_free(&s->waits);
    }
    ec_vec_free(&w->sites), ec_vec_free(&w->points), ec_vec_free(&w->subs), ec_vec_free(&w->trucks);
    ec_vec_free(&w->plans), ec_vec_free(&w->stops), ec_vec_free(&w->cmds), ec_vec_free(&w->charging);
    ec_map_free(&w->site_of_row), ec_map_free(&w->point_of_cp);
    ec_free(w->heap);
    ec_free(w->vehicles);
    ec_buf_free(&w->jbuf);
    for (int k = 0; k < EC_TWIN_MAX_THREADS; k++)
        for (int v = 0; v < EC_MIX_MAX; v++) ec_trip_planner_free(w->planners[k][v]), ec_trip_planner_free(w->direct[k][v]);
    ec_map_free(&w->site_by_id);
    ec_share_free(w->eng);
}

ec_err ec_twin_run(const ec_twin_config_t *c, ec_twin_result_t *out)
{
    int64_t t0 = ec_time_mono_ns();
    memset(out, 0, sizeof *out);
    tw w;
    memset(&w, 0, sizeof w);
    w.c = c;
    ec_vec_init(&w.sites, sizeof(tw_site)), ec_vec_init(&w.points, sizeof(tw_point));
    ec_vec_init(&w.subs, sizeof(tw_sub)), ec_vec_init(&w.trucks, sizeof(tw_truck));
    ec_vec_init(&w.plans, sizeof(tw_plan)), ec_vec_init(&w.stops, sizeof(tw_stop));
    ec_vec_init(&w.cmds, sizeof(ec_share_cmd_t)), ec_vec_init(&w.charging, sizeof(int));
    ec_buf_init(&w.jbuf, 1 << 24);
    w.day0_ms = c->day_start_s * 1000, w.day1_ms = w.day0_ms + TW_DAY_MS;
    w.now_ms = w.day0_ms, w.tx_next = 1;
    ec_err rc = ec_map_init(&w.site_of_row, 64);
    if (!rc) rc = ec_map_init(&w.site_by_id, 64);
    if (!rc) rc = ec_map_init(&w.point_of_cp, 256);
    if (!rc) rc = twin__sites_build(&w);
    if (!rc) rc = twin__draw_trucks(&w);
    if (!rc) rc = ec_share_new(emit, &w, &w.eng);
    if (rc) goto done;
    if (w.trucks.len && TW_TRUCK(&w, 0)->depart_ms < w.now_ms) w.now_ms = TW_TRUCK(&w, 0)->depart_ms;
    w.now_ms -= w.now_ms % 1000;
    if ((rc = twin__engine_start(&w))) goto done;
    if (w.trucks.len) {
        twin__push(&w, batch_start(&w, TW_TRUCK(&w, 0)->depart_ms), EV_BATCH, 0, 0);
        twin__push(&w, w.now_ms + TW_REVIEW_MS, EV_REVIEW, 0, 0);
    }
    scenario_events(&w);
    ec_progress_start(&w.progress, "simulating the day", w.trucks.len);
    /* The run ends when every truck has arrived or is stranded; one still
     * waiting three days after the day began is stranded there. */
    int64_t give_up = w.day1_ms + 2 * TW_DAY_MS;
    while (w.heap_len && !w.err) {
        tw_event e = pop(&w);
        if (e.t_ms > give_up) break;
        if (e.t_ms > w.now_ms) {
            tick_if_due(&w);
            w.now_ms = e.t_ms;
        }
        handle(&w, &e);
        if (e.kind == EV_BATCH) ec_progress_update(&w.progress, w.next_batch);
        if (!active_trucks(&w) && e.kind != EV_REVIEW) {
            /* Nothing left to drive: the scenario's later events still close their windows. */
            int pending = 0;
            for (size_t i = 0; i < w.heap_len; i++) pending |= w.heap[i].kind != EV_REVIEW;
            if (!pending) break;
        }
    }
    tick_if_due(&w);
    ec_progress_finish(&w.progress);
    if (c->progress)
        ec_log(EC_LOG_INFO, "twin: %zu trucks asked %llu questions, planned in %.2f s; %llu re-plans in %.2f s; %.2f s in all",
           w.trucks.len, (unsigned long long)w.questions, w.batch_ns / 1e9, (unsigned long long)w.replans, w.replan_ns / 1e9,
           (ec_time_mono_ns() - t0) / 1e9);
    if ((rc = w.err)) goto done;
    twin__close_day(&w);
    rc = twin__results(&w, out);
    if (!rc) rc = twin__load_segments(&w, out);
    out->runtime_s = (double)(ec_time_mono_ns() - t0) / 1e9;
done:
    if (!rc && w.err) rc = w.err;
    free_world(&w);
    if (rc) ec_twin_result_free(out);
    return rc;
}

void ec_twin_result_free(ec_twin_result_t *r)
{
    ec_vec_free(&r->sites), ec_vec_free(&r->segments), ec_vec_free(&r->subs), ec_vec_free(&r->trips);
}

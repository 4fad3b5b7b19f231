/* outages.c - excluded outage time in the store (schema 5): what an operator
 * or agency says about a port's outage, with the reason the NEVI uptime rule
 * (23 CFR 680.116(b)) lets it be excluded for, through store__q's statements. */
#include "store_internal.h"

#include <string.h>

#define OUTAGE_COLS                                                                                \
    "o.id,o.site_id,o.charge_point,o.connector,o.from_s,o.to_s,o.reason,o.note,o.created_by,"      \
    "o.created_s,o.updated_s"

static void outage_read(store_q *q, ec_outage_t *o)
{
    memset(o, 0, sizeof *o);
    o->id = store__col_int(q, 0);
    snprintf(o->site_id, sizeof o->site_id, "%s", store__col_text(q, 1));
    snprintf(o->charge_point, sizeof o->charge_point, "%s", store__col_text(q, 2));
    o->connector = (int)store__col_int(q, 3);
    o->from_s = store__col_int(q, 4);
    o->to_s = store__col_int(q, 5);
    snprintf(o->reason, sizeof o->reason, "%s", store__col_text(q, 6));
    snprintf(o->note, sizeof o->note, "%s", store__col_text(q, 7));
    snprintf(o->created_by, sizeof o->created_by, "%s", store__col_text(q, 8));
    o->created_s = store__col_int(q, 9);
    o->updated_s = store__col_int(q, 10);
}

ec_err ec_store_outage_get(ec_store *s, int64_t id, ec_outage_t *o)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT " OUTAGE_COLS " FROM outages o WHERE o.id=?1");
    if (!q) return rc ? rc : EC_EIO;
    store__bind_int(q, 1, id);
    int r = store__step(s, q);
    if (r == 1) outage_read(q, o);
    store__end(q);
    return r == 1 ? EC_OK : r == 0 ? EC_ENOTFOUND : EC_EIO;
}

ec_err ec_store_outage_put(ec_store *s, ec_outage_t *o)
{
    int64_t now = ec_time_now_s();
    store__write(s);
    /* A replaced outage keeps who made it and when. */
    store_q *q = store__q(s, o->id ? "UPDATE outages SET site_id=?2,charge_point=?3,connector=?4,from_s=?5,to_s=?6,"
                                     "reason=?7,note=?8,updated_s=?11 WHERE id=?1"
                                   : "INSERT INTO outages (site_id,charge_point,connector,from_s,to_s,reason,note,"
                                     "created_by,created_s,updated_s) VALUES (?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
    if (!q) return EC_EIO;
    /* Parameters a statement does not use (?1 of the INSERT, ?9 and ?10 of
     * the UPDATE) lie below its highest one: binding them is harmless. */
    store__bind_int(q, 1, o->id);
    store__bind_text(q, 2, o->site_id);
    store__bind_text(q, 3, o->charge_point);
    store__bind_int(q, 4, o->connector);
    store__bind_int(q, 5, o->from_s);
    store__bind_int(q, 6, o->to_s);
    store__bind_text(q, 7, o->reason);
    store__bind_text(q, 8, o->note);
    store__bind_text(q, 9, o->created_by);
    store__bind_int(q, 10, now);
    store__bind_int(q, 11, now);
    int r = store__step(s, q);
    store__end(q);
    if (r < 0) return r == -2 ? EC_EINVAL : EC_EIO;
    if (o->id && store__changes(s) == 0) return EC_ENOTFOUND;
    if (!o->id) o->id = store__last_id(s);
    /* The caller's copy gets what the store kept (the times, who made it). */
    return ec_store_outage_get(s, o->id, o);
}

#define OUTAGE_FROM                                                                                \
    " FROM outages o LEFT JOIN objects s ON s.kind=?4 AND s.id=o.site_id"                          \
    " WHERE (?1 IS NULL OR o.site_id=?1) AND (?2 IS NULL OR s.operator_id=?2) AND"                 \
    " (?3 IS NULL OR s.jurisdiction_id=?3) AND (o.to_s=0 OR o.to_s>?5) AND (?6=0 OR o.from_s<?6)"

static void bind_filter(store_q *q, const ec_outage_filter_t *f)
{
    store__bind_text(q, 1, f->site_id);
    store__bind_text(q, 2, f->operator_id);
    store__bind_text(q, 3, f->jurisdiction_id);
    store__bind_int(q, 4, EC_KIND_SITE);
    store__bind_int(q, 5, f->from_s);
    store__bind_int(q, 6, f->to_s);
}

ec_err ec_store_outage_page(ec_store *s, const ec_outage_filter_t *f, ec_outage_fn fn, void *ctx, int64_t *total)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT " OUTAGE_COLS OUTAGE_FROM " ORDER BY o.id LIMIT ?7 OFFSET ?8");
    if (!q) return rc ? rc : EC_EIO;
    bind_filter(q, f);
    store__bind_int(q, 7, f->limit < 0 ? -1 : f->limit);
    store__bind_int(q, 8, f->limit < 0 ? 0 : f->offset);
    int r = 0;
    int64_t n = 0;
    while (!rc && (r = store__step(s, q)) == 1) {
        ec_outage_t o;
        outage_read(q, &o);
        rc = fn(ctx, &o);
        n++;
    }
    store__end(q);
    if (rc) return rc;
    if (r < 0) return EC_EIO;
    /* A page that is not full ends the list: the count is needed only for a
     * full page or one past the end. */
    if (f->limit < 0 || (n < f->limit && (n > 0 || f->offset == 0))) {
        if (total) *total = (f->limit < 0 ? 0 : f->offset) + n;
        return EC_OK;
    }
    q = store__q(s, "SELECT count(*)" OUTAGE_FROM);
    if (!q) return EC_EIO;
    bind_filter(q, f);
    r = store__step(s, q);
    if (total) *total = r == 1 ? store__col_int(q, 0) : 0;
    store__end(q);
    return r == 1 ? EC_OK : EC_EIO;
}

ec_err ec_store_outage_list(ec_store *s, const char *site_id, int64_t from_s, int64_t to_s, ec_outage_fn fn,
                            void *ctx)
{
    ec_outage_filter_t f = {.site_id = site_id, .from_s = from_s, .to_s = to_s, .limit = -1};
    return ec_store_outage_page(s, &f, fn, ctx, NULL);
}

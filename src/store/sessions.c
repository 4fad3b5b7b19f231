/* sessions.c - charge points, tokens, transactions, meter values and CDRs in
 * the store (schema 2), through store__q's statements. */
#include "store_internal.h"

#include <string.h>

#define TX_COLS                                                                                    \
    "id,charge_point,connector,id_tag,issuer_id,operator_id,site_id,auth_status,start_s,"          \
    "meter_start,stopped,stop_s,meter_stop,stop_reason,last_register,last_increase_s,power_w,"     \
    "max_power_w,soc,flags"

static ec_err done(ec_store *s, store_q *q, int r)
{
    store__end(q);
    if (r == -2) return EC_EINVAL;
    return r < 0 ? EC_EIO : EC_OK;
    (void)s;
}

/* Runs a write that returns no rows. */
static ec_err run(ec_store *s, store_q *q)
{
    int r = store__step(s, q);
    return done(s, q, r);
}

static ec_err put(ec_store *s, const char *insert, const char *update, ec_put_mode mode,
                  const char *const *vals, int n)
{
    store__write(s);
    store_q *q = store__q(s, mode == EC_PUT_CREATE ? insert : update);
    if (!q) return EC_EIO;
    for (int i = 0; i < n; i++) store__bind_text(q, i + 1, vals[i]);
    store__bind_int(q, n + 1, ec_time_now_s());
    ec_err rc = run(s, q);
    if (!rc && mode == EC_PUT_REPLACE && store__changes(s) == 0) return EC_ENOTFOUND;
    return rc;
}

ec_err ec_store_charger_put(ec_store *s, const char *id, const char *operator_id, const char *site_id,
                            const char *password_hash, const char *doc, ec_put_mode mode)
{
    const char *vals[] = {id, operator_id, site_id, password_hash, doc};
    return put(s,
               "INSERT INTO chargers (id,operator_id,site_id,password_hash,doc,updated) VALUES (?1,?2,?3,?4,?5,?6)",
               "UPDATE chargers SET operator_id=?2,site_id=?3,password_hash=?4,doc=?5,updated=?6 WHERE id=?1",
               mode, vals, 5);
}

ec_err ec_store_charger_get(ec_store *s, const char *id, ec_buf *doc, char *hash)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT doc, password_hash FROM chargers WHERE id=?1");
    if (!q) return EC_EIO;
    store__bind_text(q, 1, id);
    int r = store__step(s, q);
    if (r == 1) {
        if (doc) rc = ec_buf_append(doc, store__col_text(q, 0), store__col_len(q, 0));
        if (hash) snprintf(hash, EC_CHARGER_HASH_MAX, "%s", store__col_text(q, 1));
    }
    store__end(q);
    return r == 1 ? rc : r == 0 ? EC_ENOTFOUND : EC_EIO;
}

ec_err ec_store_charger_rehash(ec_store *s, const char *id, const char *old_hash, const char *new_hash)
{
    store__write(s);
    store_q *q = store__q(s, "UPDATE chargers SET password_hash=?3 WHERE id=?1 AND password_hash=?2");
    if (!q) return EC_EIO;
    store__bind_text(q, 1, id);
    store__bind_text(q, 2, old_hash);
    store__bind_text(q, 3, new_hash);
    ec_err rc = run(s, q);
    return !rc && store__changes(s) == 0 ? EC_ENOTFOUND : rc;
}

ec_err ec_store_charger_delete(ec_store *s, const char *id)
{
    store__write(s);
    store_q *q = store__q(s, "DELETE FROM chargers WHERE id=?1");
    if (!q) return EC_EIO;
    store__bind_text(q, 1, id);
    ec_err rc = run(s, q);
    return !rc && store__changes(s) == 0 ? EC_ENOTFOUND : rc;
}

/* A page of documents and the count of all that match owner (NULL: any). */
static ec_err list_docs(ec_store *s, const char *page_sql, const char *count_sql, const char *owner,
                        int64_t offset, int64_t limit, ec_store_row_fn row, void *ctx, int64_t *total)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, page_sql);
    if (!q) return EC_EIO;
    store__bind_text(q, 1, owner);
    store__bind_int(q, 2, limit);
    store__bind_int(q, 3, offset);
    int r, n = 0;
    while ((r = store__step(s, q)) == 1 && !rc) {
        rc = row(ctx, store__col_text(q, 0), store__col_len(q, 0));
        n++;
    }
    store__end(q);
    if (r < 0) return EC_EIO;
    if (rc) return rc;
    if (limit < 0 || (n < limit && (offset == 0 || n > 0))) {
        *total = offset + n;
        return EC_OK;
    }
    q = store__q(s, count_sql);
    if (!q) return EC_EIO;
    store__bind_text(q, 1, owner);
    r = store__step(s, q);
    *total = r == 1 ? store__col_int(q, 0) : 0;
    store__end(q);
    return r == 1 ? EC_OK : EC_EIO;
}

ec_err ec_store_charger_list(ec_store *s, const char *operator_id, int64_t offset, int64_t limit,
                             ec_store_row_fn row, void *ctx, int64_t *total)
{
    return list_docs(s,
                     "SELECT doc FROM chargers WHERE (?1 IS NULL OR operator_id=?1) ORDER BY id LIMIT ?2 OFFSET ?3",
                     "SELECT count(*) FROM chargers WHERE (?1 IS NULL OR operator_id=?1)", operator_id, offset,
                     limit, row, ctx, total);
}

ec_err ec_store_token_put(ec_store *s, const char *uid, const char *issuer_id, const char *doc, ec_put_mode mode)
{
    const char *vals[] = {uid, issuer_id, doc};
    return put(s, "INSERT INTO tokens (uid,issuer_id,doc,updated) VALUES (?1,?2,?3,?4)",
               "UPDATE tokens SET issuer_id=?2,doc=?3,updated=?4 WHERE uid=?1", mode, vals, 3);
}

ec_err ec_store_token_get(ec_store *s, const char *uid, ec_buf *doc)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT doc FROM tokens WHERE uid=?1");
    if (!q) return EC_EIO;
    store__bind_text(q, 1, uid);
    int r = store__step(s, q);
    if (r == 1) rc = ec_buf_append(doc, store__col_text(q, 0), store__col_len(q, 0));
    store__end(q);
    return r == 1 ? rc : r == 0 ? EC_ENOTFOUND : EC_EIO;
}

ec_err ec_store_token_list(ec_store *s, const char *issuer_id, int64_t offset, int64_t limit,
                           ec_store_row_fn row, void *ctx, int64_t *total)
{
    return list_docs(s, "SELECT doc FROM tokens WHERE (?1 IS NULL OR issuer_id=?1) ORDER BY uid LIMIT ?2 OFFSET ?3",
                     "SELECT count(*) FROM tokens WHERE (?1 IS NULL OR issuer_id=?1)", issuer_id, offset, limit,
                     row, ctx, total);
}

/* ---- transactions ---------------------------------------------------------- */

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static void tx_read(store_q *q, ec_tx_t *tx)
{
    memset(tx, 0, sizeof *tx);
    tx->id = store__col_int(q, 0);
    copy(tx->charge_point, sizeof tx->charge_point, store__col_text(q, 1));
    tx->connector = (int)store__col_int(q, 2);
    copy(tx->id_tag, sizeof tx->id_tag, store__col_text(q, 3));
    copy(tx->issuer_id, sizeof tx->issuer_id, store__col_text(q, 4));
    copy(tx->operator_id, sizeof tx->operator_id, store__col_text(q, 5));
    copy(tx->site_id, sizeof tx->site_id, store__col_text(q, 6));
    copy(tx->auth_status, sizeof tx->auth_status, store__col_text(q, 7));
    tx->start_s = store__col_int(q, 8);
    tx->meter_start_wh = store__col_int(q, 9);
    tx->stopped = (int)store__col_int(q, 10);
    tx->stop_s = store__col_int(q, 11);
    tx->meter_stop_wh = store__col_int(q, 12);
    copy(tx->stop_reason, sizeof tx->stop_reason, store__col_text(q, 13));
    tx->last_register_wh = store__col_int(q, 14);
    tx->last_increase_s = store__col_int(q, 15);
    tx->power_w = store__col_real(q, 16);
    tx->max_power_w = store__col_real(q, 17);
    tx->soc = store__col_real(q, 18);
    tx->flags = (int)store__col_int(q, 19);
}

ec_err ec_store_tx_get(ec_store *s, int64_t id, ec_tx_t *tx, ec_buf *tariff_doc)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT " TX_COLS ",tariff FROM transactions WHERE id=?1");
    if (!q) return EC_EIO;
    store__bind_int(q, 1, id);
    int r = store__step(s, q);
    if (r == 1) {
        tx_read(q, tx);
        if (tariff_doc) rc = ec_buf_append(tariff_doc, store__col_text(q, 20), store__col_len(q, 20));
    }
    store__end(q);
    return r == 1 ? rc : r == 0 ? EC_ENOTFOUND : EC_EIO;
}

ec_err ec_store_tx_start(ec_store *s, const char *start_key, const char *tariff_doc, ec_tx_t *tx, int *existed)
{
    *existed = 0;
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT id FROM transactions WHERE start_key=?1");
    if (!q) return EC_EIO;
    store__bind_text(q, 1, start_key);
    int r = store__step(s, q);
    int64_t id = r == 1 ? store__col_int(q, 0) : 0;
    store__end(q);
    if (r < 0) return EC_EIO;
    if (r == 1) {
        *existed = 1;
        return ec_store_tx_get(s, id, tx, NULL);
    }
    store__write(s);
    q = store__q(s, "INSERT INTO transactions (start_key,charge_point,connector,id_tag,issuer_id,operator_id,"
                    "site_id,auth_status,start_s,meter_start,flags,tariff) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
    if (!q) return EC_EIO;
    store__bind_text(q, 1, start_key);
    store__bind_text(q, 2, tx->charge_point);
    store__bind_int(q, 3, tx->connector);
    store__bind_text(q, 4, tx->id_tag);
    store__bind_text(q, 5, tx->issuer_id);
    store__bind_text(q, 6, tx->operator_id);
    store__bind_text(q, 7, tx->site_id);
    store__bind_text(q, 8, tx->auth_status);
    store__bind_int(q, 9, tx->start_s);
    store__bind_int(q, 10, tx->meter_start_wh);
    store__bind_int(q, 11, tx->flags);
    store__bind_text(q, 12, tariff_doc);
    if ((rc = run(s, q))) return rc;
    tx->id = store__last_id(s);
    return EC_OK;
}

ec_err ec_store_tx_update(ec_store *s, const ec_tx_t *tx)
{
    store__write(s);
    store_q *q = store__q(s, "UPDATE transactions SET stopped=?2,stop_s=?3,meter_stop=?4,stop_reason=?5,"
                             "last_register=?6,last_increase_s=?7,power_w=?8,max_power_w=?9,soc=?10,flags=?11 "
                             "WHERE id=?1");
    if (!q) return EC_EIO;
    store__bind_int(q, 1, tx->id);
    store__bind_int(q, 2, tx->stopped);
    store__bind_int(q, 3, tx->stop_s);
    store__bind_int(q, 4, tx->meter_stop_wh);
    store__bind_text(q, 5, tx->stop_reason);
    store__bind_int(q, 6, tx->last_register_wh);
    store__bind_int(q, 7, tx->last_increase_s);
    store__bind_real(q, 8, tx->power_w);
    store__bind_real(q, 9, tx->max_power_w);
    store__bind_real(q, 10, tx->soc);
    store__bind_int(q, 11, tx->flags);
    return run(s, q);
}

ec_err ec_store_tx_active(ec_store *s, const char *id_tag, int64_t *n)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT count(*) FROM transactions WHERE stopped=0 AND id_tag=?1");
    if (!q) return EC_EIO;
    store__bind_text(q, 1, id_tag);
    int r = store__step(s, q);
    *n = r == 1 ? store__col_int(q, 0) : 0;
    store__end(q);
    return r == 1 ? EC_OK : EC_EIO;
}

ec_err ec_store_meter_add(ec_store *s, int64_t tx_id, int64_t t_s, int64_t energy_wh, double power_w, double soc,
                          int *dup)
{
    store__write(s);
    store_q *q = store__q(s, "INSERT OR IGNORE INTO meter_values (tx_id,t_s,energy_wh,power_w,soc) VALUES (?1,?2,?3,?4,?5)");
    if (!q) return EC_EIO;
    store__bind_int(q, 1, tx_id);
    store__bind_int(q, 2, t_s);
    if (energy_wh >= 0) store__bind_int(q, 3, energy_wh);
    if (power_w >= 0) store__bind_real(q, 4, power_w);
    if (soc >= 0) store__bind_real(q, 5, soc);
    ec_err rc = run(s, q);
    *dup = !rc && store__changes(s) == 0;
    return rc;
}

static void bind_filter(store_q *q, const ec_session_filter_t *f)
{
    store__bind_text(q, 1, f->operator_id);
    store__bind_text(q, 2, f->issuer_id);
    store__bind_text(q, 3, f->charge_point);
    store__bind_int(q, 4, f->live);
    store__bind_int(q, 5, f->from_s);
    store__bind_int(q, 6, f->to_s);
}

#define TX_WHERE                                                                                   \
    " WHERE (?1 IS NULL OR operator_id=?1) AND (?2 IS NULL OR issuer_id=?2) AND"                   \
    " (?3 IS NULL OR charge_point=?3) AND (?4=0 OR stopped=0)"

ec_err ec_store_tx_list(ec_store *s, const ec_session_filter_t *f, ec_tx_fn fn, void *ctx, int64_t *total)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT " TX_COLS " FROM transactions" TX_WHERE " ORDER BY id LIMIT ?7 OFFSET ?8");
    if (!q) return EC_EIO;
    bind_filter(q, f);
    store__bind_int(q, 7, f->limit);
    store__bind_int(q, 8, f->offset);
    int r;
    while ((r = store__step(s, q)) == 1 && !rc) {
        ec_tx_t tx;
        tx_read(q, &tx);
        rc = fn(ctx, &tx);
    }
    store__end(q);
    if (r < 0) return EC_EIO;
    if (rc) return rc;
    q = store__q(s, "SELECT count(*) FROM transactions" TX_WHERE " AND ?5=?5 AND ?6=?6");
    if (!q) return EC_EIO;
    bind_filter(q, f);
    r = store__step(s, q);
    *total = r == 1 ? store__col_int(q, 0) : 0;
    store__end(q);
    return r == 1 ? EC_OK : EC_EIO;
}

/* ---- CDRs ------------------------------------------------------------------ */

ec_err ec_store_cdr_put(ec_store *s, const ec_tx_t *tx, const char *cdr_id, int64_t end_s, const char *currency,
                        int64_t energy_wh, int64_t excl_vat, int64_t incl_vat, const char *doc, int *dup)
{
    store__write(s);
    store_q *q = store__q(s, "INSERT OR IGNORE INTO cdrs (tx_id,id,operator_id,issuer_id,end_s,currency,energy_wh,"
                             "excl_vat,incl_vat,doc) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
    if (!q) return EC_EIO;
    store__bind_int(q, 1, tx->id);
    store__bind_text(q, 2, cdr_id);
    store__bind_text(q, 3, tx->operator_id);
    store__bind_text(q, 4, tx->issuer_id);
    store__bind_int(q, 5, end_s);
    store__bind_text(q, 6, currency);
    store__bind_int(q, 7, energy_wh);
    store__bind_int(q, 8, excl_vat);
    store__bind_int(q, 9, incl_vat);
    store__bind_text(q, 10, doc);
    ec_err rc = run(s, q);
    *dup = !rc && store__changes(s) == 0;
    return rc;
}

ec_err ec_store_cdr_get(ec_store *s, int64_t tx_id, ec_buf *doc)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT doc FROM cdrs WHERE tx_id=?1");
    if (!q) return EC_EIO;
    store__bind_int(q, 1, tx_id);
    int r = store__step(s, q);
    if (r == 1) rc = ec_buf_append(doc, store__col_text(q, 0), store__col_len(q, 0));
    store__end(q);
    return r == 1 ? rc : r == 0 ? EC_ENOTFOUND : EC_EIO;
}

#define CDR_WHERE                                                                                  \
    " WHERE (?1 IS NULL OR operator_id=?1) AND (?2 IS NULL OR issuer_id=?2) AND"                   \
    " (?3 IS NULL OR id LIKE ?3 || '-%') AND ?4=?4 AND (?5=0 OR end_s>=?5) AND (?6=0 OR end_s<?6)"

ec_err ec_store_cdr_list(ec_store *s, const ec_session_filter_t *f, ec_store_row_fn row, void *ctx, int64_t *total)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT doc FROM cdrs" CDR_WHERE " ORDER BY tx_id LIMIT ?7 OFFSET ?8");
    if (!q) return EC_EIO;
    bind_filter(q, f);
    store__bind_int(q, 7, f->limit);
    store__bind_int(q, 8, f->offset);
    int r;
    while ((r = store__step(s, q)) == 1 && !rc) rc = row(ctx, store__col_text(q, 0), store__col_len(q, 0));
    store__end(q);
    if (r < 0) return EC_EIO;
    if (rc) return rc;
    q = store__q(s, "SELECT count(*) FROM cdrs" CDR_WHERE);
    if (!q) return EC_EIO;
    bind_filter(q, f);
    r = store__step(s, q);
    *total = r == 1 ? store__col_int(q, 0) : 0;
    store__end(q);
    return r == 1 ? EC_OK : EC_EIO;
}

ec_err ec_store_cdr_amounts(ec_store *s, const ec_session_filter_t *f, ec_cdr_amount_fn fn, void *ctx)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT operator_id,issuer_id,currency,energy_wh,excl_vat,incl_vat FROM cdrs"
                                         CDR_WHERE " ORDER BY tx_id");
    if (!q) return EC_EIO;
    bind_filter(q, f);
    int r;
    while ((r = store__step(s, q)) == 1 && !rc)
        rc = fn(ctx, store__col_text(q, 0), store__col_text(q, 1), store__col_text(q, 2),
                           store__col_int(q, 3), store__col_int(q, 4), store__col_int(q, 5));
    store__end(q);
    return r < 0 ? EC_EIO : rc;
}

ec_err ec_store_tx_bills(ec_store *s, int64_t from_s, int64_t to_s, ec_tx_bill_fn fn, void *ctx)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT t.id, t.issuer_id, c.tx_id IS NOT NULL, c.currency, c.incl_vat "
                                         "FROM transactions t LEFT JOIN cdrs c ON c.tx_id = t.id "
                                         "WHERE t.start_s >= ?1 AND t.start_s < ?2 ORDER BY t.id");
    if (!q) return EC_EIO;
    store__bind_int(q, 1, from_s);
    store__bind_int(q, 2, to_s);
    int r;
    while ((r = store__step(s, q)) == 1 && !rc)
        rc = fn(ctx, store__col_int(q, 0), store__col_text(q, 1), (int)store__col_int(q, 2), store__col_text(q, 3),
                store__col_int(q, 4));
    store__end(q);
    return r < 0 ? EC_EIO : rc;
}

ec_err ec_store_plan_put(ec_store *s, int64_t tx_id, double requested_wh, int64_t departure_s)
{
    store__write(s);
    store_q *q = store__q(s, "INSERT INTO session_plans (tx_id,requested_wh,departure_s) VALUES (?1,?2,?3) "
                             "ON CONFLICT (tx_id) DO UPDATE SET "
                             "requested_wh=CASE WHEN ?2>=0 THEN ?2 ELSE requested_wh END, "
                             "departure_s=CASE WHEN ?3>0 THEN ?3 ELSE departure_s END");
    if (!q) return EC_EIO;
    store__bind_int(q, 1, tx_id);
    store__bind_real(q, 2, requested_wh);
    store__bind_int(q, 3, departure_s);
    return run(s, q);
}

ec_err ec_store_plan_get(ec_store *s, int64_t tx_id, double *requested_wh, int64_t *departure_s)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT requested_wh, departure_s FROM session_plans WHERE tx_id=?1");
    if (!q) return EC_EIO;
    store__bind_int(q, 1, tx_id);
    int r = store__step(s, q);
    if (r == 1) *requested_wh = store__col_real(q, 0), *departure_s = store__col_int(q, 1);
    store__end(q);
    return r == 1 ? EC_OK : r == 0 ? EC_ENOTFOUND : EC_EIO;
}

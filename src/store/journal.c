/* journal.c - the engine's journal in the store (schema 4): one row per
 * event given to the engine or command it answered with, in order. */
#include "store_internal.h"

ec_err ec_store_journal_append(ec_store *s, int64_t t_ms, int command, const char *kind, const char *data)
{
    store__write(s);
    store_q *q = store__q(s, "INSERT INTO journal (t_ms, command, kind, data) VALUES (?1, ?2, ?3, ?4)");
    if (!q) return EC_EIO;
    store__bind_int(q, 1, t_ms);
    store__bind_int(q, 2, command != 0);
    store__bind_text(q, 3, kind);
    store__bind_text(q, 4, data && *data ? data : "{}");
    int r = store__step(s, q);
    store__end(q);
    return r < 0 ? EC_EIO : EC_OK;
}

ec_err ec_store_journal_each(ec_store *s, int64_t from_ms, int64_t to_ms,
                             ec_err (*fn)(void *ctx, const ec_journal_row_t *row), void *ctx)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL
                    : store__q(s, "SELECT seq, t_ms, command, kind, data FROM journal "
                                  "WHERE t_ms >= ?1 AND (?2 <= 0 OR t_ms < ?2) ORDER BY seq");
    if (!q) return rc ? rc : EC_EIO;
    store__bind_int(q, 1, from_ms);
    store__bind_int(q, 2, to_ms);
    int r;
    while (!rc && (r = store__step(s, q)) == 1) {
        ec_journal_row_t row = {store__col_int(q, 0), store__col_int(q, 1), (int)store__col_int(q, 2),
                                store__col_text(q, 3), store__col_text(q, 4), store__col_len(q, 4)};
        rc = fn(ctx, &row);
    }
    if (!rc && r < 0) rc = EC_EIO;
    store__end(q);
    return rc;
}

ec_err ec_store_journal_count(ec_store *s, int64_t *n)
{
    ec_err rc = store__read(s);
    store_q *q = rc ? NULL : store__q(s, "SELECT count(*) FROM journal");
    if (!q) return rc ? rc : EC_EIO;
    int r = store__step(s, q);
    *n = r == 1 ? store__col_int(q, 0) : 0;
    store__end(q);
    return r == 1 ? EC_OK : EC_EIO;
}

ec_err ec_store_journal_ends(ec_store *s, int64_t *first_ms, int64_t *last_ms, int64_t *last_seq)
{
    *first_ms = *last_ms = *last_seq = 0;
    ec_err rc = store__read(s);
    /* By seq, the table's key: two lookups, however long the journal. */
    store_q *q = rc ? NULL
                    : store__q(s, "SELECT (SELECT t_ms FROM journal ORDER BY seq LIMIT 1), "
                                  "(SELECT t_ms FROM journal ORDER BY seq DESC LIMIT 1), (SELECT max(seq) FROM journal)");
    if (!q) return rc ? rc : EC_EIO;
    int r = store__step(s, q);
    if (r == 1) *first_ms = store__col_int(q, 0), *last_ms = store__col_int(q, 1), *last_seq = store__col_int(q, 2);
    store__end(q);
    return r == 1 ? EC_OK : EC_EIO;
}

ec_err ec_store_journal_events(ec_store *s, int64_t to_ms, const char *skip,
                               ec_err (*fn)(void *ctx, const ec_journal_row_t *row), void *ctx)
{
    ec_err rc = store__read(s);
    /* One kind left out by SQLite (a hub's ticks: a quarter of its rows), whose test costs less
     * there than a row through the API; a list of kinds (NOT IN) costs more than it saves. */
    store_q *q = rc ? NULL
                    : store__q(s, "SELECT seq, t_ms, kind, data FROM journal WHERE command = 0 AND kind <> ?2 "
                                  "AND (?1 <= 0 OR t_ms < ?1) ORDER BY seq");
    if (!q) return rc ? rc : EC_EIO;
    store__bind_int(q, 1, to_ms);
    store__bind_text(q, 2, skip && *skip ? skip : "-"); /* no kind is "-" (NULL would leave out every row) */
    int r;
    while (!rc && (r = store__step(s, q)) == 1) {
        ec_journal_row_t row = {store__col_int(q, 0), store__col_int(q, 1), 0, store__col_text(q, 2),
                                store__col_text(q, 3), store__col_len(q, 3)};
        rc = fn(ctx, &row);
    }
    if (!rc && r < 0) rc = EC_EIO;
    store__end(q);
    return rc;
}

/* store_internal.h - what keys.c needs of the SQLite file, and nothing more. */
#ifndef EC_STORE_INTERNAL_H
#define EC_STORE_INTERNAL_H

#include "ecorridor/ec_store.h"

/* Stores a key's hash and its info (info->id is set). */
ec_err store__key_insert(ec_store *s, const char *hash, ec_key_info_t *info);
/* EC_OK and *info for a live key with this hash; EC_ENOTFOUND otherwise. */
ec_err store__key_lookup(ec_store *s, const char *hash, ec_key_info_t *info);

/* Statements for the store files that must not know SQLite. store__q
 * returns the prepared statement for sql, cached by the address of the text
 * (a string literal), ready to bind (parameters from 1); NULL on error with
 * the message set. store__step: 1 a row, 0 done, -2 a unique constraint
 * failed, -1 another error (message set); store__end resets it for reuse. */
typedef struct store_q store_q;
store_q *store__q(ec_store *s, const char *sql);
ec_err store__read(ec_store *s);  /* before reads: joins the shared read */
void store__write(ec_store *s);   /* before writes: ends the shared read (the register's generation stays) */
void store__bind_text(store_q *q, int i, const char *v); /* NULL or "": SQL NULL */
void store__bind_int(store_q *q, int i, int64_t v);
void store__bind_real(store_q *q, int i, double v);
int store__step(ec_store *s, store_q *q);
void store__end(store_q *q);
const char *store__col_text(store_q *q, int col); /* "" for NULL */
size_t store__col_len(store_q *q, int col);
int64_t store__col_int(store_q *q, int col);
double store__col_real(store_q *q, int col);
int64_t store__last_id(ec_store *s);
int store__changes(ec_store *s);
int store__in_tx(ec_store *s);

#endif

/* ec_store.h - persistence of the register and the API keys behind one interface.
 *
 * SQLite (one file, WAL, synchronous=FULL) is the implementation today: a
 * function that returns EC_OK after a write has made it durable, so a reply
 * sent after it survives kill -9 and power loss. The schema is versioned and
 * migrated when the store opens. Not thread-safe: one store per thread.
 */
#ifndef EC_STORE_H
#define EC_STORE_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_register.h"
#include "ecorridor/ec_role.h"
#include "ecorridor/ec_session.h"

typedef struct ec_store ec_store;

/* The schema version this build writes. */
int ec_store_schema_version(void);

/* Opens (creating when absent) the database at path and applies pending
 * migrations. Errors name the file: unwritable, not a database, or written
 * by a newer ecorridor (EC_EVERSION). Returns new (free with ec_store_close). */
ec_err ec_store_open(const char *path, ec_store **out);
void ec_store_close(ec_store *s);

/* Reads outside a write transaction share one read transaction (one file
 * lock for a burst of reads) until this is called; the server calls it once
 * per turn of its event loop, so a read never sees data older than that
 * turn. Every write ends it first. */
void ec_store_release(ec_store *s);

/* Transactions group writes (an import is all or nothing). Outside one, each
 * write is its own durable transaction. */
ec_err ec_store_begin(ec_store *s);
ec_err ec_store_commit(ec_store *s);
void ec_store_rollback(ec_store *s);

/* ---- objects ----------------------------------------------------------- */

/* Appends the stored document of (k, id) to doc; EC_ENOTFOUND when none. */
ec_err ec_store_get(ec_store *s, ec_kind k, const char *id, ec_buf *doc);
/* 1 when (k, id) exists, 0 when not, -1 on a store error. */
int ec_store_exists(ec_store *s, ec_kind k, const char *id);

typedef enum { EC_PUT_CREATE, EC_PUT_REPLACE } ec_put_mode;
/* Stores a normalized document (ec_reg_normalize) with its index. CREATE
 * fails with EC_EINVAL when the id is taken; REPLACE with EC_ENOTFOUND when it
 * is not. source (may be NULL) is an import's key for the record ("ocm:1234"). */
ec_err ec_store_put(ec_store *s, ec_kind k, const char *id, ec_put_mode mode, const char *doc,
                    const ec_reg_index_t *idx, const char *source);
ec_err ec_store_delete(ec_store *s, ec_kind k, const char *id);
/* The id and document of the object imported under source; EC_ENOTFOUND when none. */
ec_err ec_store_find_source(ec_store *s, ec_kind k, const char *source, char *id, size_t id_len,
                            ec_buf *doc);
/* Number of objects that name (k, id) in one of their references. */
ec_err ec_store_count_referrers(ec_store *s, ec_kind k, const char *id, int64_t *n);

typedef struct {
    int has_bbox;
    double min_lon, min_lat, max_lon, max_lat;
    const char *operator_id;     /* NULL: any */
    const char *jurisdiction_id;
    const char *standard;        /* sites with a connector of this standard */
    const char *status;          /* sites with an EVSE in this status */
    const char *substation_id;   /* sites (and renewables) behind this substation */
    double min_power_w;          /* sites with a connector of at least this power; 0: any */
    int truck;                   /* 1: truck-accessible sites only */
    int64_t offset, limit;       /* limit < 0: all */
} ec_store_filter_t;

/* Calls row(ctx, doc) for each object matching f in id order, then sets
 * *total to the number matching regardless of paging. doc is borrowed for
 * the call. A non-zero return from row stops the walk with that error. */
typedef ec_err (*ec_store_row_fn)(void *ctx, const char *doc, size_t len);
ec_err ec_store_list(ec_store *s, ec_kind k, const ec_store_filter_t *f, ec_store_row_fn row,
                     void *ctx, int64_t *total);
ec_err ec_store_count(ec_store *s, ec_kind k, int64_t *n);
/* Changes with every write to the register, this process's or another's
 * (SQLite's data_version), for caches built from the register; this
 * process's writes of charge points, tokens, sessions and CDRs leave it. */
int64_t ec_store_generation(ec_store *s);

/* Checks that every object idx names exists; EC_EINVAL with *err naming the
 * field otherwise. */
ec_err ec_store_check_refs(ec_store *s, const ec_reg_index_t *idx, ec_reg_error_t *err);

/* Copies the register (every object) of the database at src_path into s,
 * whose register must be empty: a simulated day's journal.db keeps the
 * register its day ran on. Outside a transaction. */
ec_err ec_store_copy_register(ec_store *s, const char *src_path);
/* ---- import ------------------------------------------------------------ */

typedef struct {
    int64_t added, updated, unchanged;
    int64_t refused;      /* records another organisation owns (the import was refused) */
    char where[160];      /* on error: the record */
    ec_reg_error_t err;  /* on error: what was wrong with it */
} ec_import_summary_t;

/* Reads and stores a register file in one transaction: records seen before
 * (by their source key) are updated when they changed and left alone when
 * not, new ones added. All or nothing: on error nothing is stored and
 * sum->where and sum->err name the record and field. format NULL: guessed
 * from the name and first bytes. set receives the record count and the
 * skipped list (free with ec_import_set_free, also on error). progress (may
 * be NULL, borrowed) is advanced from 0 to its total as the file is read. */
ec_err ec_store_import_text(ec_store *s, const char *name, const char *text, size_t len,
                            const char *format, const char *operator_id, ec_import_set *set,
                            ec_import_summary_t *sum, ec_progress *progress);
/* The same for an operator's import: owner (the importing organisation;
 * NULL: an admin's, which may replace any record) may replace only records
 * whose operator_id is owner. When any other would be replaced, nothing is
 * stored: EC_EINVAL with sum->refused counting them, sum->err.code
 * "forbidden" and sum->err.message naming the first few. */
ec_err ec_store_import_text_as(ec_store *s, const char *name, const char *text, size_t len,
                               const char *format, const char *operator_id, const char *owner,
                               ec_import_set *set, ec_import_summary_t *sum, ec_progress *progress);
ec_err ec_store_import_file(ec_store *s, const char *path, const char *format,
                            const char *operator_id, ec_import_set *set, ec_import_summary_t *sum,
                            ec_progress *progress);

/* The same in two steps, for a server that must not hold the database's
 * write lock while a large file is read: ec_import_stage parses, validates
 * and normalizes the whole file with no store (any thread; on error nothing
 * is kept and sum names the record); ec_store_import_staged then stores it
 * in one transaction, as ec_store_import_text_as would (owner: as there).
 * staged is returned new
 * (free with ec_import_staged_free). */
typedef struct ec_import_staged ec_import_staged;
ec_err ec_import_stage(const char *name, const char *text, size_t len, const char *format, const char *operator_id,
                       ec_import_set *set, ec_import_summary_t *sum, ec_import_staged **staged);
ec_err ec_store_import_staged(ec_store *s, const ec_import_staged *staged, const char *owner,
                              ec_import_summary_t *sum);
void ec_import_staged_free(ec_import_staged *staged);

/* Writes an import's summary as members of an object the caller has opened:
 * records, added, updated, unchanged, skipped [{where, reason}]. */
void ec_import_summary_json(ec_jw *w, const ec_import_set *set, const ec_import_summary_t *sum);

/* ---- charge points, tokens, transactions, CDRs ------------------------- */

/* The longest password hash kept for a charge point, with its NUL: an
 * Argon2id string of crypto_pwhash_str (libsodium's crypto_pwhash_STRBYTES),
 * or the 64 hex digits of the BLAKE2b hash older databases hold. */
#define EC_CHARGER_HASH_MAX 128

/* A charge point's document (no password) and the hash of its password
 * ("" or NULL when it connects without one). */
ec_err ec_store_charger_put(ec_store *s, const char *id, const char *operator_id, const char *site_id,
                            const char *password_hash, const char *doc, ec_put_mode mode);
/* Appends the document to doc (may be NULL) and copies the hash into hash
 * (EC_CHARGER_HASH_MAX bytes, may be NULL; "" when there is none);
 * EC_ENOTFOUND when there is no such charge point. */
ec_err ec_store_charger_get(ec_store *s, const char *id, ec_buf *doc, char *hash);
/* Replaces the password hash of id with new_hash only while it is still
 * old_hash (a hash upgraded after a login, without undoing a password set
 * meanwhile); EC_ENOTFOUND when it is not. */
ec_err ec_store_charger_rehash(ec_store *s, const char *id, const char *old_hash, const char *new_hash);
ec_err ec_store_charger_delete(ec_store *s, const char *id);

/* The walk of a list: row(ctx, doc) per row in id order, *total regardless
 * of paging. owner NULL: all. */
ec_err ec_store_charger_list(ec_store *s, const char *operator_id, int64_t offset, int64_t limit,
                             ec_store_row_fn row, void *ctx, int64_t *total);

ec_err ec_store_token_put(ec_store *s, const char *uid, const char *issuer_id, const char *doc,
                          ec_put_mode mode);
ec_err ec_store_token_get(ec_store *s, const char *uid, ec_buf *doc);
ec_err ec_store_token_list(ec_store *s, const char *issuer_id, int64_t offset, int64_t limit,
                           ec_store_row_fn row, void *ctx, int64_t *total);

/* Stores a new transaction (tx->id set) under start_key, the key of the
 * StartTransaction that made it; when one exists under that key (a resent
 * StartTransaction), *tx is that one and *existed 1. tariff_doc (may be NULL)
 * is the tariff as it was at the start. */
ec_err ec_store_tx_start(ec_store *s, const char *start_key, const char *tariff_doc, ec_tx_t *tx,
                         int *existed);
/* Reads transaction id; tariff_doc (may be NULL) receives its tariff. */
ec_err ec_store_tx_get(ec_store *s, int64_t id, ec_tx_t *tx, ec_buf *tariff_doc);
/* Writes the changing part of tx: the meter, the stop. */
ec_err ec_store_tx_update(ec_store *s, const ec_tx_t *tx);
/* Sessions of id_tag now running. */
ec_err ec_store_tx_active(ec_store *s, const char *id_tag, int64_t *n);
/* A meter value of a transaction; one per (tx, t_s): *dup 1 when it was
 * stored before (a resent MeterValues). */
ec_err ec_store_meter_add(ec_store *s, int64_t tx_id, int64_t t_s, int64_t energy_wh, double power_w,
                          double soc, int *dup);

typedef struct {
    const char *operator_id; /* NULL: any */
    const char *issuer_id;
    const char *charge_point;
    int live;                /* 1: running only; 0: all */
    int64_t from_s, to_s;    /* CDRs: end time in [from, to); 0: open */
    int64_t offset, limit;   /* limit < 0: all */
} ec_session_filter_t;

/* What a fleet or reservation said of transaction tx_id: the energy it
 * wants (Wh; < 0 leaves it) and when it leaves (0 leaves it). */
ec_err ec_store_plan_put(ec_store *s, int64_t tx_id, double requested_wh, int64_t departure_s);
/* EC_ENOTFOUND when nothing was said. */
ec_err ec_store_plan_get(ec_store *s, int64_t tx_id, double *requested_wh, int64_t *departure_s);

typedef ec_err (*ec_tx_fn)(void *ctx, const ec_tx_t *tx);
ec_err ec_store_tx_list(ec_store *s, const ec_session_filter_t *f, ec_tx_fn fn, void *ctx, int64_t *total);

/* Stores the CDR of transaction tx once (amounts in ten-thousandths):
 * EC_OK with *dup 1 when it exists. */
ec_err ec_store_cdr_put(ec_store *s, const ec_tx_t *tx, const char *cdr_id, int64_t end_s,
                        const char *currency, int64_t energy_wh, int64_t excl_vat, int64_t incl_vat,
                        const char *doc, int *dup);
ec_err ec_store_cdr_get(ec_store *s, int64_t tx_id, ec_buf *doc);
ec_err ec_store_cdr_list(ec_store *s, const ec_session_filter_t *f, ec_store_row_fn row, void *ctx,
                         int64_t *total);
/* Calls fn with the amounts of each CDR f selects (paging ignored), in
 * transaction order; a non-zero return stops the walk with that error. */
typedef ec_err (*ec_cdr_amount_fn)(void *ctx, const char *operator_id, const char *issuer_id, const char *currency,
                                   int64_t energy_wh, int64_t excl_vat, int64_t incl_vat);
ec_err ec_store_cdr_amounts(ec_store *s, const ec_session_filter_t *f, ec_cdr_amount_fn fn, void *ctx);

/* Calls fn with every transaction started (by its charger's clock) in
 * [from_s, to_s), in id order: its token's issuer (the fleet; "" none), and
 * its CDR's currency and amount incl. VAT (in ten-thousandths) when it has
 * one (billed 1). For the region's figures. */
typedef ec_err (*ec_tx_bill_fn)(void *ctx, int64_t tx_id, const char *issuer_id, int billed, const char *currency,
                                int64_t incl_vat);
ec_err ec_store_tx_bills(ec_store *s, int64_t from_s, int64_t to_s, ec_tx_bill_fn fn, void *ctx);
/* ---- API keys ---------------------------------------------------------- */

typedef struct {
    int64_t id;
    ec_role role;
    char org[EC_REG_ID_MAX + 1];
    char prefix[16];   /* the key's first characters, to tell keys apart */
    int64_t created_s;
    int revoked;
} ec_key_info_t;

/* Makes a new key for role and org: 32 random bytes shown once as text in
 * key_out (at least 64 bytes); only a hash of it is stored. */
ec_err ec_store_key_create(ec_store *s, ec_role role, const char *org, char *key_out,
                           size_t key_len, ec_key_info_t *info);
/* Looks up a presented key: EC_OK with *info for a live key, EC_ENOTFOUND
 * for an unknown or revoked one. */
ec_err ec_store_key_check(ec_store *s, const char *key, ec_key_info_t *info);
typedef void (*ec_key_fn)(void *ctx, const ec_key_info_t *info);
ec_err ec_store_key_list(ec_store *s, ec_key_fn fn, void *ctx);
ec_err ec_store_key_revoke(ec_store *s, int64_t id);

/* ---- the journal (docs/engine.md) ------------------------------------------------------ */

typedef struct {
    int64_t seq;     /* its place, from 1 */
    int64_t t_ms;    /* Unix milliseconds */
    int command;     /* 0: an event the engine was given, 1: a command it answered with */
    const char *kind; /* the event's or command's name */
    const char *data; /* its fields, a JSON object */
    size_t len;
} ec_journal_row_t;

/* Appends a row (in the write transaction open, if any). */
ec_err ec_store_journal_append(ec_store *s, int64_t t_ms, int command, const char *kind, const char *data);
/* Calls fn with the rows of [from_ms, to_ms) in order (to_ms <= 0: to the end); stops at fn's
 * first error and returns it. */
ec_err ec_store_journal_each(ec_store *s, int64_t from_ms, int64_t to_ms,
                             ec_err (*fn)(void *ctx, const ec_journal_row_t *row), void *ctx);
/* The journal's events (not its commands) before to_ms (<= 0: all) in order,
 * less those of kind skip (NULL: none), for a reader that needs only some
 * (the KPIs). */
ec_err ec_store_journal_events(ec_store *s, int64_t to_ms, const char *skip,
                               ec_err (*fn)(void *ctx, const ec_journal_row_t *row), void *ctx);
/* The times of the journal's first and last rows and the last row's seq (all 0 when empty). */
ec_err ec_store_journal_ends(ec_store *s, int64_t *first_ms, int64_t *last_ms, int64_t *last_seq);
/* Rows in the journal. */
ec_err ec_store_journal_count(ec_store *s, int64_t *n);

/* ---- excluded outage time (23 CFR 680.116(b)) -------------------------------------------- */

/* Time an operator or agency says a port was out for a reason the NEVI
 * uptime rule excludes; the KPIs subtract it from the outage time. */
#define EC_OUTAGE_NOTE_MAX 256
typedef struct {
    int64_t id;                              /* 0 on put: a new one (set on return) */
    char site_id[EC_REG_ID_MAX + 1];         /* always set (for a charge point: its site) */
    char charge_point[EC_CP_ID_MAX + 1];     /* "" : every port of the site */
    int connector;                           /* 0: every connector of the charge point */
    int64_t from_s, to_s;                    /* Unix s; to_s 0: still open */
    char reason[32];  /* as ec_kpi_reason reads it (ec_kpi.h) */
    char note[EC_OUTAGE_NOTE_MAX + 1];
    char created_by[EC_REG_ID_MAX + 1];      /* the organisation (or "admin") */
    int64_t created_s, updated_s;
} ec_outage_t;


/* Stores o (id 0: a new one, o->id set; else replaces that one: EC_ENOTFOUND
 * when none). created_s and updated_s are set to now (a replaced one keeps
 * its created_s and created_by). Durable on EC_OK. */
ec_err ec_store_outage_put(ec_store *s, ec_outage_t *o);
/* EC_ENOTFOUND when there is no outage id. */
ec_err ec_store_outage_get(ec_store *s, int64_t id, ec_outage_t *o);
/* Outages overlapping [from_s, to_s) (to_s 0: open), of site_id (NULL: all),
 * in id order; o is borrowed for the call, and a non-zero return from fn
 * stops the walk with that error. */
typedef ec_err (*ec_outage_fn)(void *ctx, const ec_outage_t *o);
ec_err ec_store_outage_list(ec_store *s, const char *site_id, int64_t from_s, int64_t to_s, ec_outage_fn fn,
                            void *ctx);

/* The same with paging and the sites' owners, for the API: outages whose
 * site (as the register has it now) has operator_id, jurisdiction_id (NULL:
 * any), *total regardless of paging (limit < 0: all). */
typedef struct {
    const char *site_id, *operator_id, *jurisdiction_id; /* NULL: any */
    int64_t from_s, to_s;                                /* overlapping [from_s, to_s); to_s 0: open */
    int64_t offset, limit;
} ec_outage_filter_t;
ec_err ec_store_outage_page(ec_store *s, const ec_outage_filter_t *f, ec_outage_fn fn, void *ctx, int64_t *total);

#endif

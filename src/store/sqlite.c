/* sqlite.c - the store on SQLite: the one file that knows SQLite.
 *
 * Every kind of register object lives in one table, `objects`, as its
 * canonical JSON document beside the columns lists filter on. WAL with
 * synchronous=FULL: a commit that returned has reached the disk. */
#include "store_internal.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Each entry takes the schema from version i to i + 1. */
static const char *const migrations[] = {
    "CREATE TABLE objects ("
    "  seq INTEGER PRIMARY KEY,"
    "  kind INTEGER NOT NULL,"
    "  id TEXT NOT NULL,"
    "  doc TEXT NOT NULL,"
    "  operator_id TEXT, jurisdiction_id TEXT,"
    "  lat REAL, lon REAL,"
    "  standards TEXT, statuses TEXT, max_power_w REAL, truck INTEGER,"
    "  refs TEXT, source TEXT, updated INTEGER NOT NULL,"
    "  lon_band INTEGER,"
    "  UNIQUE (kind, id));"
    /* Boxes: a lat range searched in each 0.25-degree band of longitude the
     * box spans (a plain B-tree: cheap to keep up to date, unlike an R*Tree),
     * covering lon and id so a page is picked without reading documents. */
    "CREATE INDEX objects_band ON objects (kind, lon_band, lat, lon, id);"
    "CREATE INDEX objects_operator ON objects (kind, operator_id);"
    "CREATE INDEX objects_jurisdiction ON objects (kind, jurisdiction_id);"
    "CREATE UNIQUE INDEX objects_source ON objects (kind, source) WHERE source IS NOT NULL;"
    "CREATE TABLE api_keys ("
    "  id INTEGER PRIMARY KEY,"
    "  hash TEXT NOT NULL UNIQUE,"
    "  prefix TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  org TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  revoked INTEGER NOT NULL DEFAULT 0);",
    /* 2: charge points, tokens, transactions with their meter values, CDRs. */
    "CREATE TABLE chargers ("
    "  id TEXT PRIMARY KEY, operator_id TEXT NOT NULL, site_id TEXT,"
    "  password_hash TEXT, doc TEXT NOT NULL, updated INTEGER NOT NULL);"
    "CREATE INDEX chargers_operator ON chargers (operator_id, id);"
    "CREATE TABLE tokens ("
    "  uid TEXT PRIMARY KEY, issuer_id TEXT NOT NULL, doc TEXT NOT NULL, updated INTEGER NOT NULL);"
    "CREATE INDEX tokens_issuer ON tokens (issuer_id, uid);"
    "CREATE TABLE transactions ("
    "  id INTEGER PRIMARY KEY, start_key TEXT NOT NULL UNIQUE,"
    "  charge_point TEXT NOT NULL, connector INTEGER NOT NULL, id_tag TEXT NOT NULL,"
    "  issuer_id TEXT, operator_id TEXT, site_id TEXT, auth_status TEXT NOT NULL,"
    "  start_s INTEGER NOT NULL, meter_start INTEGER NOT NULL,"
    "  stopped INTEGER NOT NULL DEFAULT 0, stop_s INTEGER, meter_stop INTEGER, stop_reason TEXT,"
    "  last_register INTEGER NOT NULL DEFAULT -1, last_increase_s INTEGER NOT NULL DEFAULT 0,"
    "  power_w REAL NOT NULL DEFAULT 0, max_power_w REAL NOT NULL DEFAULT 0, soc REAL NOT NULL DEFAULT -1,"
    "  flags INTEGER NOT NULL DEFAULT 0, tariff TEXT);"
    "CREATE INDEX transactions_live ON transactions (stopped, id_tag);"
    "CREATE TABLE meter_values ("
    "  tx_id INTEGER NOT NULL, t_s INTEGER NOT NULL, energy_wh INTEGER, power_w REAL, soc REAL,"
    "  PRIMARY KEY (tx_id, t_s)) WITHOUT ROWID;"
    "CREATE TABLE cdrs ("
    "  tx_id INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, operator_id TEXT, issuer_id TEXT,"
    "  end_s INTEGER NOT NULL, currency TEXT NOT NULL, energy_wh INTEGER NOT NULL,"
    "  excl_vat INTEGER NOT NULL, incl_vat INTEGER NOT NULL, doc TEXT NOT NULL);"
    "CREATE INDEX cdrs_end ON cdrs (end_s);",
    /* 3: what a fleet said of a running session, for the power sharing. */
    ("CREATE TABLE session_plans ("
     "  tx_id INTEGER PRIMARY KEY, requested_wh REAL NOT NULL DEFAULT -1, departure_s INTEGER NOT NULL DEFAULT 0);"),
    /* 4: the engine's journal: every event the hub gave the power sharing and every command it
     * answered with (docs/engine.md). */
    ("CREATE TABLE journal ("
     "  seq INTEGER PRIMARY KEY, t_ms INTEGER NOT NULL, command INTEGER NOT NULL, kind TEXT NOT NULL,"
     "  data TEXT NOT NULL);"),
    /* 5: excluded outage time with its reason (23 CFR 680.116(b)), as an operator or agency said it.
     * charge_point NULL: every port of the site; connector 0: every connector; to_s 0: still open. */
    ("CREATE TABLE outages ("
     "  id INTEGER PRIMARY KEY, site_id TEXT NOT NULL, charge_point TEXT, connector INTEGER NOT NULL DEFAULT 0,"
     "  from_s INTEGER NOT NULL, to_s INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL, note TEXT,"
     "  created_by TEXT NOT NULL, created_s INTEGER NOT NULL, updated_s INTEGER NOT NULL);"
     "CREATE INDEX outages_site ON outages (site_id, id);"),
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* Filters a list can combine; each combination gets its own cached statement. */
#define STORE_Q_MAX 64

enum { FL_BBOX = 1, FL_OPERATOR = 2, FL_JURISDICTION = 4, FL_STANDARD = 8, FL_STATUS = 16,
       FL_POWER = 32, FL_TRUCK = 64, FL_PAGE = 128, FL_SUBSTATION = 256, FL_COUNT = 512 /* every combination */ };

struct ec_store {
    sqlite3 *db;
    char *path;
    int in_tx;
    int reading; /* a read transaction shared by reads until ec_store_release */
    int64_t generation;
    sqlite3_stmt *get, *exists, *insert, *update, *del, *by_source, *count_kind, *referrers;
    sqlite3_stmt *read_begin, *read_end, *data_version;
    sqlite3_stmt *key_insert, *key_lookup, *key_list, *key_revoke;
    sqlite3_stmt *list[FL_COUNT], *total[FL_COUNT];
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } q[STORE_Q_MAX]; /* store__q's statements, by the address of their text */
    int n_q;
};

static ec_err begin_read(ec_store *s);
static void end_read(ec_store *s);

int ec_store_schema_version(void)
{
    return N_MIGRATIONS;
}

static ec_err db_fail(ec_store *s, const char *what)
{
    return ec_fail(EC_EIO, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static ec_err exec(ec_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK) return EC_OK;
    ec_err rc = ec_fail(EC_EIO, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return rc;
}

static ec_err prepare(ec_store *s, sqlite3_stmt **st, const char *sql)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return db_fail(s, "preparing a statement");
    return EC_OK;
}

static ec_err migrate(ec_store *s)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, "reading the schema version");
    if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > N_MIGRATIONS)
        return ec_fail(EC_EVERSION, "%s: database schema version %d is newer than this ecorridor knows (%d); use a newer ecorridor",
                       s->path, version, N_MIGRATIONS);
    for (int v = version; v < N_MIGRATIONS; v++) {
        char pragma[48];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        ec_err rc = exec(s, "BEGIN IMMEDIATE");
        if (!rc) rc = exec(s, migrations[v]);
        if (!rc) rc = exec(s, pragma);
        if (!rc) rc = exec(s, "COMMIT");
        if (rc) {
            exec(s, "ROLLBACK");
            return rc;
        }
        ec_log(EC_LOG_INFO, "%s: schema migrated to version %d", s->path, v + 1);
    }
    return EC_OK;
}

static ec_err prepare_all(ec_store *s)
{
    ec_err rc;
    if ((rc = prepare(s, &s->get, "SELECT doc FROM objects WHERE kind=? AND id=?")) ||
        (rc = prepare(s, &s->read_begin, "BEGIN")) || (rc = prepare(s, &s->read_end, "COMMIT")) ||
        (rc = prepare(s, &s->data_version, "PRAGMA data_version")) ||
        (rc = prepare(s, &s->exists, "SELECT 1 FROM objects WHERE kind=? AND id=?")) ||
        (rc = prepare(s, &s->insert,
                      "INSERT INTO objects (kind,id,doc,operator_id,jurisdiction_id,lat,lon,standards,"
                      "statuses,max_power_w,truck,refs,source,updated,lon_band) "
                      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)")) ||
        (rc = prepare(s, &s->update,
                      "UPDATE objects SET doc=?3,operator_id=?4,jurisdiction_id=?5,lat=?6,lon=?7,"
                      "standards=?8,statuses=?9,max_power_w=?10,truck=?11,refs=?12,"
                      "source=coalesce(?13,source),updated=?14,lon_band=?15 WHERE kind=?1 AND id=?2")) ||
        (rc = prepare(s, &s->del, "DELETE FROM objects WHERE kind=? AND id=?")) ||
        (rc = prepare(s, &s->by_source, "SELECT id, doc FROM objects WHERE kind=? AND source=?")) ||
        (rc = prepare(s, &s->count_kind, "SELECT count(*) FROM objects WHERE kind=?")) ||
        (rc = prepare(s, &s->referrers, "SELECT count(*) FROM objects WHERE refs LIKE ?")) ||
        (rc = prepare(s, &s->key_insert,
                      "INSERT INTO api_keys (hash,prefix,role,org,created) VALUES (?,?,?,?,?)")) ||
        (rc = prepare(s, &s->key_lookup,
                      "SELECT id,prefix,role,org,created,revoked FROM api_keys WHERE hash=?")) ||
        (rc = prepare(s, &s->key_list,
                      "SELECT id,prefix,role,org,created,revoked FROM api_keys ORDER BY id")) ||
        (rc = prepare(s, &s->key_revoke, "UPDATE api_keys SET revoked=1 WHERE id=?")))
        return rc;
    return EC_OK;
}

ec_err ec_store_open(const char *path, ec_store **out)
{
    ec_store *s = ec_calloc(1, sizeof *s);
    if (!s) return EC_ENOMEM;
    s->path = ec_strdup(path);
    ec_err rc = EC_OK;
    if (!s->path) {
        rc = EC_ENOMEM;
        goto fail;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = ec_fail(EC_EIO, "%s: cannot open the database: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    /* journal_mode=WAL writes the file: it is the first place an unwritable
     * database or a file that is not a database shows. */
    sqlite3_stmt *st;
    const char *mode = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        mode = (const char *)sqlite3_column_text(st, 0);
    /* An in-memory database (tests, fuzzing) keeps its journal in memory. */
    int memory = !strcmp(path, ":memory:");
    if (!mode || strcmp(mode, memory ? "memory" : "wal") != 0) {
        rc = ec_fail(EC_EIO, "%s: cannot use the database (is it writable, and an SQLite file?): %s",
                     path, sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        goto fail;
    }
    sqlite3_finalize(st);
    /* Reads through a map of the file, not a copy per page: a month's journal is read
     * whole by report and replay. Writes still go through the WAL. */
    if ((rc = exec(s, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA mmap_size=1073741824")) ||
        (rc = migrate(s)) ||
        (rc = prepare_all(s)))
        goto fail;
    *out = s;
    return EC_OK;
fail:
    ec_store_close(s);
    return rc;
}

void ec_store_close(ec_store *s)
{
    if (!s) return;
    if (s->read_end) end_read(s);
    sqlite3_stmt **fixed[] = {&s->read_begin, &s->read_end, &s->data_version,
                              &s->get,        &s->exists,     &s->insert,   &s->update,
                              &s->del,        &s->by_source,  &s->count_kind, &s->referrers,
                              &s->key_insert, &s->key_lookup, &s->key_list, &s->key_revoke};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) sqlite3_finalize(*fixed[i]);
    for (int i = 0; i < FL_COUNT; i++) {
        sqlite3_finalize(s->list[i]);
        sqlite3_finalize(s->total[i]);
    }
    for (int i = 0; i < s->n_q; i++) sqlite3_finalize(s->q[i].st);
    if (s->db) sqlite3_close(s->db);
    ec_free(s->path);
    ec_free(s);
}

ec_err ec_store_begin(ec_store *s)
{
    end_read(s);
    ec_err rc = exec(s, "BEGIN IMMEDIATE");
    if (!rc) s->in_tx = 1;
    return rc;
}

ec_err ec_store_commit(ec_store *s)
{
    ec_err rc = exec(s, "COMMIT");
    if (rc) {
        exec(s, "ROLLBACK");
    }
    s->in_tx = 0;
    return rc;
}

void ec_store_rollback(ec_store *s)
{
    if (s->in_tx) exec(s, "ROLLBACK");
    s->in_tx = 0;
    s->generation++;
}

int64_t ec_store_generation(ec_store *s)
{
    /* data_version changes when another connection commits; our own writes
     * count in generation. */
    int64_t other = 0;
    if (sqlite3_step(s->data_version) == SQLITE_ROW) other = sqlite3_column_int64(s->data_version, 0);
    sqlite3_reset(s->data_version);
    return (other << 32) ^ s->generation;
}

/* Runs a statement that returns no rows and resets it. */
static ec_err step_done(ec_store *s, sqlite3_stmt *st, const char *what)
{
    int r = sqlite3_step(st);
    ec_err rc = r == SQLITE_DONE ? EC_OK : db_fail(s, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Reads outside a write transaction share one read transaction, so a burst
 * of them takes SQLite's file lock once; every write ends it first, so a
 * write is always its own durable commit. */
static ec_err begin_read(ec_store *s)
{
    if (s->reading || s->in_tx || !sqlite3_get_autocommit(s->db)) return EC_OK;
    ec_err rc = step_done(s, s->read_begin, "starting a read");
    if (!rc) s->reading = 1;
    return rc;
}

static void end_read(ec_store *s)
{
    if (!s->reading) return;
    s->reading = 0;
    step_done(s, s->read_end, "ending a read");
}

void ec_store_release(ec_store *s)
{
    end_read(s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

ec_err ec_store_get(ec_store *s, ec_kind k, const char *id, ec_buf *doc)
{
    ec_err rc0 = begin_read(s);
    if (rc0) return rc0;
    sqlite3_bind_int(s->get, 1, (int)k);
    sqlite3_bind_text(s->get, 2, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(s->get);
    ec_err rc = EC_OK;
    if (r == SQLITE_ROW)
        rc = ec_buf_append(doc, sqlite3_column_text(s->get, 0), (size_t)sqlite3_column_bytes(s->get, 0));
    else if (r == SQLITE_DONE)
        rc = EC_ENOTFOUND;
    else
        rc = db_fail(s, "reading an object");
    sqlite3_reset(s->get);
    return rc;
}

int ec_store_exists(ec_store *s, ec_kind k, const char *id)
{
    if (begin_read(s)) return -1;
    sqlite3_bind_int(s->exists, 1, (int)k);
    sqlite3_bind_text(s->exists, 2, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(s->exists);
    sqlite3_reset(s->exists);
    return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

static int lon_band(double lon)
{
    return (int)floor(lon * 4.0);
}

/* ",organisations/op-1,substations/s-2," for the referrer check. */
static void refs_text(const ec_reg_index_t *idx, char *out, size_t n)
{
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < idx->n_refs && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s/%s,", len ? "" : ",",
                                ec_kind_name(idx->refs[i].kind), idx->refs[i].id);
}

ec_err ec_store_put(ec_store *s, ec_kind k, const char *id, ec_put_mode mode, const char *doc,
                    const ec_reg_index_t *idx, const char *source)
{
    end_read(s);
    sqlite3_stmt *st = mode == EC_PUT_CREATE ? s->insert : s->update;
    char refs[EC_REG_MAX_REFS * 64];
    refs_text(idx, refs, sizeof refs);
    sqlite3_bind_int(st, 1, (int)k);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, doc, -1, SQLITE_STATIC);
    bind_text(st, 4, idx->operator_id);
    bind_text(st, 5, idx->jurisdiction_id);
    if (idx->has_pos) {
        sqlite3_bind_double(st, 6, idx->lat);
        sqlite3_bind_double(st, 7, idx->lon);
        sqlite3_bind_int(st, 15, lon_band(idx->lon));
    } else {
        sqlite3_bind_null(st, 6);
        sqlite3_bind_null(st, 7);
        sqlite3_bind_null(st, 15);
    }
    bind_text(st, 8, idx->standards);
    bind_text(st, 9, idx->statuses);
    sqlite3_bind_double(st, 10, idx->max_power_w);
    sqlite3_bind_int(st, 11, idx->truck);
    bind_text(st, 12, refs);
    bind_text(st, 13, source);
    sqlite3_bind_int64(st, 14, ec_time_now_s());
    int r = sqlite3_step(st);
    ec_err rc = EC_OK;
    if (r == SQLITE_CONSTRAINT_UNIQUE || r == SQLITE_CONSTRAINT_PRIMARYKEY)
        rc = ec_fail(EC_EINVAL, "%s \"%s\" already exists", ec_kind_name(k), id);
    else if (r != SQLITE_DONE)
        rc = db_fail(s, "writing an object");
    else if (mode == EC_PUT_REPLACE && sqlite3_changes(s->db) == 0)
        rc = EC_ENOTFOUND;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (!rc) s->generation++;
    return rc;
}

ec_err ec_store_delete(ec_store *s, ec_kind k, const char *id)
{
    end_read(s);
    sqlite3_bind_int(s->del, 1, (int)k);
    sqlite3_bind_text(s->del, 2, id, -1, SQLITE_STATIC);
    ec_err rc = step_done(s, s->del, "deleting an object");
    if (!rc && sqlite3_changes(s->db) == 0) rc = EC_ENOTFOUND;
    if (!rc) s->generation++;
    return rc;
}

ec_err ec_store_find_source(ec_store *s, ec_kind k, const char *source, char *id, size_t id_len,
                            ec_buf *doc)
{
    sqlite3_bind_int(s->by_source, 1, (int)k);
    sqlite3_bind_text(s->by_source, 2, source, -1, SQLITE_STATIC);
    int r = sqlite3_step(s->by_source);
    ec_err rc = EC_OK;
    if (r == SQLITE_ROW) {
        snprintf(id, id_len, "%s", (const char *)sqlite3_column_text(s->by_source, 0));
        rc = ec_buf_append(doc, sqlite3_column_text(s->by_source, 1),
                           (size_t)sqlite3_column_bytes(s->by_source, 1));
    } else {
        rc = r == SQLITE_DONE ? EC_ENOTFOUND : db_fail(s, "finding an imported record");
    }
    sqlite3_reset(s->by_source);
    return rc;
}

ec_err ec_store_count_referrers(ec_store *s, ec_kind k, const char *id, int64_t *n)
{
    char pattern[EC_REG_ID_MAX + 48];
    snprintf(pattern, sizeof pattern, "%%,%s/%s,%%", ec_kind_name(k), id);
    sqlite3_bind_text(s->referrers, 1, pattern, -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(s->referrers);
    *n = r == SQLITE_ROW ? sqlite3_column_int64(s->referrers, 0) : 0;
    sqlite3_reset(s->referrers);
    return r == SQLITE_ROW ? EC_OK : db_fail(s, "counting references");
}

ec_err ec_store_count(ec_store *s, ec_kind k, int64_t *n)
{
    sqlite3_bind_int(s->count_kind, 1, (int)k);
    int r = sqlite3_step(s->count_kind);
    *n = r == SQLITE_ROW ? sqlite3_column_int64(s->count_kind, 0) : 0;
    sqlite3_reset(s->count_kind);
    return r == SQLITE_ROW ? EC_OK : db_fail(s, "counting objects");
}

/* ---- lists ------------------------------------------------------------- */

static int filter_mask(const ec_store_filter_t *f)
{
    return (f->has_bbox ? FL_BBOX : 0) | (f->operator_id ? FL_OPERATOR : 0) |
           (f->jurisdiction_id ? FL_JURISDICTION : 0) | (f->standard ? FL_STANDARD : 0) |
           (f->status ? FL_STATUS : 0) | (f->min_power_w > 0 ? FL_POWER : 0) |
           (f->truck ? FL_TRUCK : 0) | (f->limit >= 0 ? FL_PAGE : 0) | (f->substation_id ? FL_SUBSTATION : 0);
}

/* Parameters are numbered so one binding routine serves every combination. */
static ec_err list_stmt(ec_store *s, int mask, int count, sqlite3_stmt **out)
{
    sqlite3_stmt **slot = count ? &s->total[mask & ~FL_PAGE] : &s->list[mask];
    if (*slot) {
        *out = *slot;
        return EC_OK;
    }
    char where[512], sql[1024];
    size_t n = (size_t)snprintf(where, sizeof where, "kind=?1");
#define ADD(cond) n += (size_t)snprintf(where + n, sizeof where - n, " AND " cond)
    if (mask & FL_BBOX) ADD("lon_band IN bands AND lat BETWEEN ?2 AND ?4 AND lon BETWEEN ?3 AND ?5");
    if (mask & FL_OPERATOR) ADD("operator_id=?6");
    if (mask & FL_JURISDICTION) ADD("jurisdiction_id=?7");
    if (mask & FL_STANDARD) ADD("instr(standards, ?8) > 0");
    if (mask & FL_STATUS) ADD("instr(statuses, ?9) > 0");
    if (mask & FL_POWER) ADD("max_power_w >= ?10");
    if (mask & FL_TRUCK) ADD("truck=1");
    if (mask & FL_SUBSTATION) ADD("instr(refs, ?15) > 0"); /* ",substations/ID," */
#undef ADD
    const char *page = mask & FL_PAGE ? " LIMIT ?12 OFFSET ?11" : "";
    const char *what = "doc";
    if (!(mask & FL_BBOX)) {
        /* The (kind, id) index gives id order with no sort. */
        snprintf(sql, sizeof sql, count ? "SELECT count(*) FROM objects WHERE %s" : "SELECT %s FROM objects WHERE %s ORDER BY id%s",
                 count ? where : what, where, page);
    } else {
        /* A box: one lat range per 0.25-degree longitude band it spans
         * (?13..?14), in the covering band index; the page's rows are chosen
         * there, so only their documents are read and sorted. */
        const char *bands = "WITH RECURSIVE bands(b) AS (SELECT ?13 UNION ALL SELECT b + 1 FROM bands WHERE b < ?14) ";
        if (count)
            snprintf(sql, sizeof sql, "%sSELECT count(*) FROM objects INDEXED BY objects_band WHERE %s", bands, where);
        else
            snprintf(sql, sizeof sql,
                     "%sSELECT %s FROM objects WHERE seq IN (SELECT seq FROM objects INDEXED BY objects_band "
                     "WHERE %s ORDER BY id%s) ORDER BY id",
                     bands, what, where, page);
    }
    ec_err rc = prepare(s, slot, sql);
    *out = *slot;
    return rc;
}

static void bind_filter(sqlite3_stmt *st, ec_kind k, const ec_store_filter_t *f, char *std_tok,
                        char *status_tok, char *sub_tok)
{
    sqlite3_bind_int(st, 1, (int)k);
    if (f->has_bbox) {
        sqlite3_bind_double(st, 2, f->min_lat);
        sqlite3_bind_double(st, 3, f->min_lon);
        sqlite3_bind_double(st, 4, f->max_lat);
        sqlite3_bind_double(st, 5, f->max_lon);
        sqlite3_bind_int(st, 13, lon_band(f->min_lon));
        sqlite3_bind_int(st, 14, lon_band(f->max_lon));
    }
    if (f->operator_id) sqlite3_bind_text(st, 6, f->operator_id, -1, SQLITE_STATIC);
    if (f->jurisdiction_id) sqlite3_bind_text(st, 7, f->jurisdiction_id, -1, SQLITE_STATIC);
    if (f->standard) sqlite3_bind_text(st, 8, std_tok, -1, SQLITE_STATIC);
    if (f->status) sqlite3_bind_text(st, 9, status_tok, -1, SQLITE_STATIC);
    if (f->min_power_w > 0) sqlite3_bind_double(st, 10, f->min_power_w);
    if (f->substation_id) sqlite3_bind_text(st, 15, sub_tok, -1, SQLITE_STATIC);
    if (f->limit >= 0 && sqlite3_bind_parameter_index(st, "?12")) {
        sqlite3_bind_int64(st, 11, f->offset);
        sqlite3_bind_int64(st, 12, f->limit);
    }
}

ec_err ec_store_list(ec_store *s, ec_kind k, const ec_store_filter_t *f, ec_store_row_fn row,
                     void *ctx, int64_t *total)
{
    int mask = filter_mask(f);
    sqlite3_stmt *st, *ct;
    ec_err rc;
    if ((rc = list_stmt(s, mask, 0, &st)) || (rc = list_stmt(s, mask, 1, &ct))) return rc;
    char std_tok[80], status_tok[80], sub_tok[EC_REG_ID_MAX + 24];
    snprintf(std_tok, sizeof std_tok, ",%s,", f->standard ? f->standard : "");
    snprintf(status_tok, sizeof status_tok, ",%s,", f->status ? f->status : "");
    snprintf(sub_tok, sizeof sub_tok, ",substations/%s,", f->substation_id ? f->substation_id : "");
    /* The page and its total see one snapshot. */
    if ((rc = begin_read(s))) return rc;
    bind_filter(st, k, f, std_tok, status_tok, sub_tok);
    int r;
    int64_t rows = 0;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        rc = row(ctx, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        if (rc) break;
    }
    if (!rc && r != SQLITE_DONE) rc = db_fail(s, "listing objects");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    /* A page that is not full ends the list: its end is the total, and the
     * count query is needed only for a full page or one past the end. */
    if (!rc && (f->limit < 0 || (rows < f->limit && (rows > 0 || f->offset == 0)))) {
        *total = (f->limit < 0 ? 0 : f->offset) + rows;
    } else if (!rc) {
        bind_filter(ct, k, f, std_tok, status_tok, sub_tok);
        r = sqlite3_step(ct);
        *total = r == SQLITE_ROW ? sqlite3_column_int64(ct, 0) : 0;
        rc = r == SQLITE_ROW ? EC_OK : db_fail(s, "counting a list");
        sqlite3_reset(ct);
        sqlite3_clear_bindings(ct);
    }
    return rc;
}

/* ---- API keys ---------------------------------------------------------- */

static void read_key(sqlite3_stmt *st, ec_key_info_t *info)
{
    memset(info, 0, sizeof *info);
    info->id = sqlite3_column_int64(st, 0);
    snprintf(info->prefix, sizeof info->prefix, "%s", (const char *)sqlite3_column_text(st, 1));
    ec_role_parse((const char *)sqlite3_column_text(st, 2), &info->role);
    snprintf(info->org, sizeof info->org, "%s", (const char *)sqlite3_column_text(st, 3));
    info->created_s = sqlite3_column_int64(st, 4);
    info->revoked = sqlite3_column_int(st, 5);
}

ec_err store__key_insert(ec_store *s, const char *hash, ec_key_info_t *info)
{
    end_read(s);
    sqlite3_stmt *st = s->key_insert;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, info->prefix, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ec_role_name(info->role), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, info->org, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, info->created_s);
    ec_err rc = step_done(s, st, "storing a key");
    if (!rc) info->id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

ec_err store__key_lookup(ec_store *s, const char *hash, ec_key_info_t *info)
{
    sqlite3_bind_text(s->key_lookup, 1, hash, -1, SQLITE_STATIC);
    int r = sqlite3_step(s->key_lookup);
    ec_err rc = EC_ENOTFOUND;
    if (r == SQLITE_ROW) {
        read_key(s->key_lookup, info);
        rc = info->revoked ? EC_ENOTFOUND : EC_OK;
    } else if (r != SQLITE_DONE) {
        rc = db_fail(s, "looking up a key");
    }
    sqlite3_reset(s->key_lookup);
    return rc;
}

ec_err ec_store_key_list(ec_store *s, ec_key_fn fn, void *ctx)
{
    int r;
    while ((r = sqlite3_step(s->key_list)) == SQLITE_ROW) {
        ec_key_info_t info;
        read_key(s->key_list, &info);
        fn(ctx, &info);
    }
    sqlite3_reset(s->key_list);
    return r == SQLITE_DONE ? EC_OK : db_fail(s, "listing keys");
}

ec_err ec_store_key_revoke(ec_store *s, int64_t id)
{
    end_read(s);
    sqlite3_bind_int64(s->key_revoke, 1, id);
    ec_err rc = step_done(s, s->key_revoke, "revoking a key");
    if (!rc && sqlite3_changes(s->db) == 0) rc = ec_fail(EC_ENOTFOUND, "no key with id %lld", (long long)id);
    return rc;
}

/* ---- statements for the other store files ------------------------------- */

struct store_q {
    int unused; /* never defined: a store_q is an sqlite3_stmt */
};
#define ST(q) ((sqlite3_stmt *)(void *)(q))

store_q *store__q(ec_store *s, const char *sql)
{
    for (int i = 0; i < s->n_q; i++)
        if (s->q[i].sql == sql) return (store_q *)(void *)s->q[i].st;
    if (s->n_q == STORE_Q_MAX) {
        ec_fail(EC_ELIMIT, "%s: more than %d cached statements", s->path, STORE_Q_MAX);
        return NULL;
    }
    sqlite3_stmt *st;
    if (prepare(s, &st, sql)) return NULL;
    s->q[s->n_q].sql = sql;
    s->q[s->n_q++].st = st;
    return (store_q *)(void *)st;
}

ec_err store__read(ec_store *s)
{
    return begin_read(s);
}

void store__write(ec_store *s)
{
    /* Sessions, tokens and charge points are not the register: caches of
     * the register (the route planner) stay valid across these writes. */
    end_read(s);
}

void store__bind_text(store_q *q, int i, const char *v)
{
    bind_text(ST(q), i, v);
}

void store__bind_int(store_q *q, int i, int64_t v)
{
    sqlite3_bind_int64(ST(q), i, v);
}

void store__bind_real(store_q *q, int i, double v)
{
    sqlite3_bind_double(ST(q), i, v);
}

int store__step(ec_store *s, store_q *q)
{
    int r = sqlite3_step(ST(q));
    if (r == SQLITE_ROW) return 1;
    if (r == SQLITE_DONE) return 0;
    if (r == SQLITE_CONSTRAINT_UNIQUE || r == SQLITE_CONSTRAINT_PRIMARYKEY) return -2;
    db_fail(s, "running a statement");
    return -1;
}

void store__end(store_q *q)
{
    sqlite3_reset(ST(q));
    sqlite3_clear_bindings(ST(q));
}

const char *store__col_text(store_q *q, int col)
{
    const unsigned char *t = sqlite3_column_text(ST(q), col);
    return t ? (const char *)t : "";
}

size_t store__col_len(store_q *q, int col)
{
    return (size_t)sqlite3_column_bytes(ST(q), col);
}

int64_t store__col_int(store_q *q, int col)
{
    return sqlite3_column_int64(ST(q), col);
}

double store__col_real(store_q *q, int col)
{
    return sqlite3_column_double(ST(q), col);
}

int64_t store__last_id(ec_store *s)
{
    return sqlite3_last_insert_rowid(s->db);
}

int store__changes(ec_store *s)
{
    return sqlite3_changes(s->db);
}

int store__in_tx(ec_store *s)
{
    return s->in_tx;
}

ec_err ec_store_copy_register(ec_store *s, const char *src_path)
{
    ec_store *src = NULL;
    /* The source at this build's schema first, so that its objects table is this one's. */
    ec_err rc = ec_store_open(src_path, &src);
    ec_store_close(src);
    if (rc) return rc;
    store__write(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "ATTACH DATABASE ?1 AS copy_src", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, "attaching the register to copy");
    sqlite3_bind_text(st, 1, src_path, -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r != SQLITE_DONE) return db_fail(s, "attaching the register to copy");
    rc = exec(s, "BEGIN IMMEDIATE; INSERT INTO objects SELECT * FROM copy_src.objects; COMMIT;");
    if (rc) exec(s, "ROLLBACK");
    ec_err rc2 = exec(s, "DETACH DATABASE copy_src");
    return rc ? rc : rc2;
}

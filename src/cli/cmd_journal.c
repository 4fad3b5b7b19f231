/* cmd_journal.c - `ecorridor journal export|import` and `ecorridor replay`:
 * the engine's journal out of and into a database, and fed again to a fresh
 * engine on the journal's clock (docs/engine.md). */
#include "cli.h"
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_share.h"
#include "ecorridor/ec_store.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_FILE_MAX ((size_t)1 << 30) /* bytes of a journal file import reads */

static int run_export(int argc, char **argv);
static int run_import(int argc, char **argv);
static int run_replay(int argc, char **argv);

static const cli_opt export_opts[] = {
    {"db", "FILE", "the hub's database (default ./ecorridor.db)"},
    {"from", "TIME", "only rows at or after TIME (RFC 3339, e.g. 2026-12-06T08:00:00Z)"},
    {"to", "TIME", "only rows before TIME"},
    {"format", "FMT", "jsonl (default) or csv"},
    {"out", "FILE", "write to FILE (default: standard output)"},
    {NULL, NULL, NULL},
};
static const cli_opt import_opts[] = {
    {"db", "FILE", "the database to read the journal into (default ./ecorridor.db); its journal must be empty"},
    {"format", "FMT", "jsonl or csv (default: by the file's first character)"},
    {NULL, NULL, NULL},
};
static const cli_opt replay_opts[] = {
    {"db", "FILE", "the hub's database (default ./ecorridor.db)"},
    {"from", "TIME", "print and check the commands from TIME on (the events before still build the state)"},
    {"to", "TIME", "stop at TIME"},
    {"check", NULL, "compare with the commands the hub sent; exit 1 at the first difference"},
    {"json", NULL, "print JSON lines: each command, then a summary"},
    {NULL, NULL, NULL},
};

const cli_cmd cmd_journal_export = {
    "journal export", "journal export [--db FILE] [--from TIME] [--to TIME] [--format jsonl|csv] [--out FILE]",
    "Write the engine's journal (every event the hub gave the power sharing, every command it answered with).",
    export_opts, run_export, NULL};
const cli_cmd cmd_journal_import = {"journal import", "journal import FILE [--db FILE] [--format jsonl|csv]",
                                    "Read a journal that `journal export` wrote into a database, for replays and audits.",
                                    import_opts, run_import, "FILE"};
const cli_cmd cmd_replay = {
    "replay", "replay [--db FILE] [--from TIME] [--to TIME] [--check] [--json]",
    "Feed the journal's events to a fresh engine on the journal's clock and print the commands it issues; "
    "with --check, compare them with the commands the hub sent.",
    replay_opts, run_replay, NULL};

static ec_err open_db(const cli_args *a, ec_store **s)
{
    return ec_store_open(cli_get(a, "db") ? cli_get(a, "db") : "ecorridor.db", s);
}

/* A database to read: one that is not there is an error, not a new empty file. */
static ec_err open_existing(const cli_args *a, ec_store **s)
{
    const char *path = cli_get(a, "db") ? cli_get(a, "db") : "ecorridor.db";
    if (access(path, F_OK)) return ec_fail(EC_ENOTFOUND, "%s: no such database", path);
    return ec_store_open(path, s);
}

/* --from/--to as Unix milliseconds; 0 when absent. */
static int time_opt(const cli_cmd *cmd, const cli_args *a, const char *name, int64_t *ms)
{
    const char *v = cli_get(a, name);
    int64_t s;
    *ms = 0;
    if (!v) return 0;
    if (ec_time_parse_iso(v, &s)) {
        cli_usage_error(cmd, "--%s must be a time such as 2026-12-06T08:00:00Z, not \"%s\"", name, v);
        return -1;
    }
    *ms = s * 1000;
    return 0;
}

static void iso_ms(int64_t t_ms, char *out, size_t n)
{
    char t[32];
    int64_t s = t_ms >= 0 ? t_ms / 1000 : -((-t_ms + 999) / 1000);
    ec_time_format_iso(s, t, sizeof t);
    size_t l = strlen(t);
    if (l && t[l - 1] == 'Z') t[l - 1] = 0;
    snprintf(out, n, "%s.%03dZ", t, (int)(t_ms - s * 1000));
}

/* Local time with the date, for people. */
static void local_ms(int64_t t_ms, char *out, size_t n)
{
    time_t t = (time_t)(t_ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M:%S %Z", &tm)) iso_ms(t_ms, out, n);
}

/* ---- export ---------------------------------------------------------------------------- */

typedef struct {
    FILE *f;
    int csv;
    ec_buf line;
    int64_t rows;
} export_ctx;

static void csv_field(ec_buf *b, const char *s, size_t len)
{
    ec_buf_append(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') ec_buf_append(b, "\"", 1);
        ec_buf_append(b, s + i, 1);
    }
    ec_buf_append(b, "\"", 1);
}

static ec_err export_row(void *ctx, const ec_journal_row_t *r)
{
    export_ctx *x = ctx;
    char t[48];
    iso_ms(r->t_ms, t, sizeof t);
    ec_buf_reset(&x->line);
    if (x->csv) {
        ec_buf_printf(&x->line, "%lld,%lld,%s,%s,%s,", (long long)r->seq, (long long)r->t_ms, t,
                      r->command ? "command" : "event", r->kind);
        csv_field(&x->line, r->data, r->len);
        ec_buf_append(&x->line, "\n", 1);
    } else {
        ec_buf_printf(&x->line, "{\"seq\":%lld,\"t_ms\":%lld,\"time\":\"%s\",\"type\":\"%s\",\"kind\":\"%s\",\"data\":",
                      (long long)r->seq, (long long)r->t_ms, t, r->command ? "command" : "event", r->kind);
        ec_buf_append(&x->line, r->data, r->len);
        ec_buf_append(&x->line, "}\n", 2);
    }
    if (ec_buf_error(&x->line) || !x->line.data)
        return ec_fail(EC_ELIMIT, "journal row %lld is too large to write", (long long)r->seq);
    if (fwrite(x->line.data, 1, x->line.len, x->f) != x->line.len) return ec_fail(EC_EIO, "writing the journal: short write");
    x->rows++;
    return EC_OK;
}

static int run_export(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_journal_export, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    int64_t from, to;
    if (time_opt(&cmd_journal_export, &a, "from", &from) || time_opt(&cmd_journal_export, &a, "to", &to))
        return EXIT_USAGE;
    const char *fmt = cli_get(&a, "format");
    if (fmt && strcmp(fmt, "jsonl") && strcmp(fmt, "csv"))
        return cli_usage_error(&cmd_journal_export, "--format is jsonl or csv, not \"%s\"", fmt);
    ec_store *s;
    ec_err rc = open_existing(&a, &s);
    if (rc) return cli_error(rc);
    export_ctx x = {stdout, fmt && !strcmp(fmt, "csv"), {0}, 0};
    const char *out = cli_get(&a, "out");
    if (out && !(x.f = fopen(out, "w"))) {
        ec_store_close(s);
        return cli_error(ec_fail(EC_EIO, "%s: cannot write", out));
    }
    ec_buf_init(&x.line, 64u << 20);
    if (x.csv) fputs("seq,t_ms,time,type,kind,data\n", x.f);
    rc = ec_store_journal_each(s, from, to, export_row, &x);
    ec_buf_free(&x.line);
    ec_store_close(s);
    if (out && fclose(x.f) && !rc) rc = ec_fail(EC_EIO, "%s: cannot write", out);
    if (rc) return cli_error(rc);
    if (out) fprintf(stderr, "%lld journal rows written to %s\n", (long long)x.rows, out);
    return EXIT_OK;
}

/* ---- import: naming the field a refused row fails on -------------------------------------- */

/* The fields of each row as the engine reads them (src/engine/share_codec.c). The engine's
 * parser judges a row; this table only says which field it refused, so that a person can find
 * it in a month of rows. A row the table finds nothing wrong with gets the parser's words. */
typedef struct {
    const char *key;
    char type;      /* 's' a string of at most hi bytes (lo 1: not empty), 'i' a whole number in
                     * [lo, hi], 'n' a number, 'o' an object, 'a' an array (may be absent) */
    double lo, hi;
} row_field;

typedef struct {
    const char *kind;
    int command;
    row_field f[9];
} row_shape;

#define F_STR(k, max) {k, 's', 0, max}
#define F_ID(k, max) {k, 's', 1, max}
#define F_INT(k, lo, hi) {k, 'i', lo, hi}
#define F_NUM(k) {k, 'n', 0, 0}
#define F_ANY_INT(k) {k, 'i', -9007199254740992.0, 9007199254740992.0}
#define F_CONN F_INT("connector", 0, EC_SHARE_MAX_CONNECTORS)
#define F_TX F_INT("tx", 1, 9007199254740992.0)

static const row_shape row_shapes[] = {
    {"reset", 0, {{0}}},
    {"tick", 0, {{0}}},
    {"site", 0, {F_ID("id", EC_REG_ID_MAX), F_STR("substation_id", EC_REG_ID_MAX), F_ANY_INT("managed"), F_STR("algo", 15),
                 F_NUM("limit_w"), F_INT("interval_s", -1000000, 1000000), F_INT("dwell_min", -1000000, 1000000),
                 F_NUM("default_wh"), {"evses", 'a', 0, 0}}},
    {"substation", 0, {F_ID("id", EC_REG_ID_MAX), F_NUM("capacity_w"), F_NUM("congestion_price"),
                       F_NUM("congestion_threshold"), {"base_w", 'o', 0, 0}, {"renewables_w", 'o', 0, 0},
                       {"prices", 'o', 0, 0}}},
    {"cp_up", 0, {F_STR("cp", EC_CP_ID_MAX), F_STR("site", EC_REG_ID_MAX), F_INT("serial", 0, 9007199254740992.0),
                  {"evse_uids", 'a', 0, 0}}},
    {"cp_down", 0, {F_STR("cp", EC_CP_ID_MAX)}},
    {"tx_start", 0, {F_TX, F_STR("cp", EC_CP_ID_MAX), F_CONN, F_STR("site", EC_REG_ID_MAX), F_ANY_INT("start_s"),
                     F_STR("evse_uid", EC_REG_ID_MAX), F_NUM("delivered_wh"), F_NUM("requested_wh"),
                     F_ANY_INT("departure_s")}},
    {"tx_meter", 0, {F_TX, F_NUM("delivered_wh")}},
    {"tx_stop", 0, {F_TX}},
    {"plan", 0, {F_TX, F_NUM("requested_wh"), F_ANY_INT("departure_s")}},
    {"result", 0, {F_STR("cp", EC_CP_ID_MAX), F_INT("accepted", -1, 1)}},
    {"status", 0, {F_STR("cp", EC_CP_ID_MAX), F_CONN, F_ID("status", 23), F_STR("error_code", 31)}},
    {"arrive", 0, {F_STR("site", EC_REG_ID_MAX), F_ID("vehicle", 31), F_STR("plug", 11), F_INT("reserved", 0, 1)}},
    {"leave", 0, {F_STR("site", EC_REG_ID_MAX), F_ID("vehicle", 31), F_INT("served", 0, 1)}},
    {"limit", 1, {F_STR("cp", EC_CP_ID_MAX), F_CONN, F_INT("tx", 0, 9007199254740992.0), F_NUM("limit_w"),
                  F_ANY_INT("lowers")}},
    {"price", 1, {F_STR("group", EC_REG_ID_MAX + 7), F_NUM("price_per_kwh")}},
};

/* "a string", "an object", ...: a JSON value's type in a sentence. */
static void json_kind(const ec_json *v, char *out, size_t n)
{
    const char *t = ec_json_type_name(ec_json_typeof(v));
    snprintf(out, n, "%s %s", strchr("aeiou", t[0]) ? "an" : "a", t);
}

/* Writes into why what is wrong with field f of d; 0 when nothing is. */
static int field_fault(const ec_json *d, const row_field *f, char *why, size_t n)
{
    ec_json *v = ec_json_get(d, f->key);
    ec_json_type t = ec_json_typeof(v);
    double x = 0;
    if (!v && f->type == 'a') return 0;
    if (!v) return snprintf(why, n, "field \"%s\" is missing", f->key), 1;
    const char *want = f->type == 's' ? "a string" : f->type == 'o' ? "an object" : f->type == 'a' ? "an array" : "a number";
    int ok = f->type == 's' ? t == EC_JSON_STRING
             : f->type == 'o' ? t == EC_JSON_OBJECT
             : f->type == 'a' ? t == EC_JSON_ARRAY
                              : !ec_json_number(v, &x) && isfinite(x);
    char got[24];
    json_kind(v, got, sizeof got);
    if (!ok) return snprintf(why, n, "field \"%s\" must be %s, not %s", f->key, want, got), 1;
    if (f->type == 's') {
        size_t l = strlen(ec_json_str(v));
        if (l < (size_t)f->lo) return snprintf(why, n, "field \"%s\" must not be empty", f->key), 1;
        if (l > (size_t)f->hi)
            return snprintf(why, n, "field \"%s\" is %zu bytes long, over %.0f", f->key, l, f->hi), 1;
    }
    if (f->type == 'i' && (x != floor(x) || x < f->lo || x > f->hi))
        return snprintf(why, n, "field \"%s\" must be a whole number from %.0f to %.0f, not %.17g", f->key, f->lo,
                        f->hi, x),
               1;
    return 0;
}

/* What a row the engine refused has wrong, in a sentence that names the field. */
static void row_fault(int command, const char *kind, const char *data, size_t len, char *why, size_t n)
{
    const row_shape *shape = NULL;
    for (size_t i = 0; i < sizeof row_shapes / sizeof row_shapes[0]; i++)
        if (!strcmp(row_shapes[i].kind, kind) && row_shapes[i].command == command) shape = &row_shapes[i];
    if (!shape) {
        snprintf(why, n, "field \"kind\": no %s is called \"%.60s\" (%s)", command ? "command" : "event", kind,
                 command ? "limit or price"
                         : "reset, site, substation, cp_up, cp_down, tx_start, tx_meter, tx_stop, plan, result, tick, "
                           "status, arrive or leave");
        return;
    }
    ec_json *d = NULL;
    if (ec_json_load_buf(data, len, "data", &d) || !ec_json_is_object(d)) {
        snprintf(why, n, "field \"data\" must be a JSON object");
        ec_json_free(d);
        return;
    }
    int found = 0;
    for (size_t i = 0; !found && i < sizeof shape->f / sizeof shape->f[0] && shape->f[i].key; i++)
        found = field_fault(d, &shape->f[i], why, n);
    if (!found && !strcmp(kind, "limit")) { /* a session's limit names it, a charge point's maximum none */
        snprintf(why, n, "field \"tx\" must be 0 exactly when field \"connector\" is 0");
        found = 1;
    }
    if (!found && !strcmp(kind, "substation")) {
        snprintf(why, n, "fields \"base_w\", \"renewables_w\" and \"prices\" must each be {\"interval_s\": seconds "
                         "(over 0 when there are values), \"v\": at most 105408 numbers}");
        found = 1;
    }
    if (!found && !strcmp(kind, "site")) {
        snprintf(why, n, "field \"evses\" must be at most %d pairs [uid (at most %d bytes), max W]", EC_POWER_MAX_EVSE,
                 EC_REG_ID_MAX);
        found = 1;
    }
    if (!found && !strcmp(kind, "cp_up")) {
        snprintf(why, n, "field \"evse_uids\" must be at most %d strings of at most %d bytes",
                 EC_SHARE_MAX_CONNECTORS + 1, EC_REG_ID_MAX);
        found = 1;
    }
    ec_json_free(d);
    if (!found) snprintf(why, n, "the %s %s does not read: %s", kind, command ? "command" : "event", ec_errmsg());
}

/* ---- import ---------------------------------------------------------------------------- */

/* Checks that a row reads as the engine's event or command, as a replay will read it. */
static ec_err check_row(const char *where, int command, const char *kind, int64_t t_ms, const char *data, size_t len)
{
    ec_err rc;
    if (command) {
        ec_share_cmd_t c;
        rc = ec_share_cmd_parse(kind, t_ms, data, len, &c);
    } else {
        ec_share_event_t ev;
        ec_site_power_t site;
        ec_substation_power_t sub;
        memset(&site, 0, sizeof site);
        memset(&sub, 0, sizeof sub);
        rc = ec_share_event_parse(kind, t_ms, data, len, &ev, &site, &sub);
        ec_site_power_free(&site);
        ec_substation_power_free(&sub);
    }
    if (!rc) return EC_OK;
    char why[400];
    row_fault(command, kind, data, len, why, sizeof why);
    return ec_fail(rc, "%s: %s", where, why);
}

static int type_of(const char *s)
{
    return !s ? -1 : !strcmp(s, "event") ? 0 : !strcmp(s, "command") ? 1 : -1;
}

#define T_MS_RANGE "whole milliseconds from 1970 to the year 9999"

/* The row's own fields (the time, event or command, the kind, the data), each named when wrong. */
static ec_err check_head(const char *where, const ec_json *t_ms, int type, const char *kind, const ec_json *d, double *t)
{
    char got[24];
    if (!t_ms) return ec_fail(EC_EPARSE, "%s: field \"t_ms\" is missing", where);
    if (ec_json_number(t_ms, t)) {
        json_kind(t_ms, got, sizeof got);
        return ec_fail(EC_EPARSE, "%s: field \"t_ms\" must be a number, not %s", where, got);
    }
    if (*t != floor(*t) || *t < 0 || *t > (double)EC_SHARE_MAX_TIME_MS)
        return ec_fail(EC_ERANGE, "%s: field \"t_ms\" must be " T_MS_RANGE ", not %.17g", where, *t);
    if (type < 0) return ec_fail(EC_EPARSE, "%s: field \"type\" must be \"event\" or \"command\"", where);
    if (!kind) return ec_fail(EC_EPARSE, "%s: field \"kind\" must be a string", where);
    if (!ec_json_is_object(d)) return ec_fail(EC_EPARSE, "%s: field \"data\" must be an object", where);
    return EC_OK;
}

static ec_err import_jsonl(ec_store *s, const char *name, const char *text, size_t len, int64_t *rows)
{
    size_t pos = 0;
    long line = 0;
    ec_buf data;
    ec_buf_init(&data, 64u << 20);
    ec_err rc = EC_OK;
    while (!rc && pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        line++;
        char where[300];
        snprintf(where, sizeof where, "%s:%ld", name, line);
        if (end > pos && !(end == pos + 1 && text[pos] == '\r')) {
            ec_json *j = NULL;
            rc = ec_json_load_buf(text + pos, end - pos, where, &j);
            double t = 0;
            const char *kind = ec_json_str(ec_json_get(j, "kind"));
            int type = type_of(ec_json_str(ec_json_get(j, "type")));
            ec_json *d = ec_json_get(j, "data");
            if (!rc) rc = check_head(where, ec_json_get(j, "t_ms"), type, kind, d, &t);
            if (!rc) {
                ec_buf_reset(&data);
                ec_jw w;
                ec_jw_init(&w, &data);
                ec_jw_value(&w, d);
                rc = ec_jw_finish(&w);
                if (rc) rc = ec_fail(rc, "%s: the row's data is too large", where);
                else rc = check_row(where, type, kind, (int64_t)t, data.data, data.len);
            }
            if (!rc) rc = ec_store_journal_append(s, (int64_t)t, type, kind, data.data);
            ec_json_free(j);
            if (!rc) (*rows)++;
        }
        pos = end + 1;
    }
    ec_buf_free(&data);
    return rc;
}

static ec_err import_csv(ec_store *s, const char *name, const char *text, size_t len, int64_t *rows)
{
    ec_csv r;
    ec_csv_init(&r, name, text, len, ',');
    ec_err rc = ec_csv_next(&r);
    int ct = -1, cy = -1, ck = -1, cd = -1;
    size_t header_n = r.nfields;
    if (!rc) ct = ec_csv_find(&r, "t_ms"), cy = ec_csv_find(&r, "type"), ck = ec_csv_find(&r, "kind"), cd = ec_csv_find(&r, "data");
    if (!rc && (ct < 0 || cy < 0 || ck < 0 || cd < 0))
        rc = ec_fail(EC_EPARSE, "%s:1: the header needs t_ms, type, kind and data", name);
    while (!rc && !(rc = ec_csv_next(&r))) {
        char where[300];
        snprintf(where, sizeof where, "%s:%ld", name, r.line);
        int64_t t = 0;
        int type = (size_t)cy < r.nfields ? type_of(r.fields[cy]) : -1;
        const char *missing = (size_t)ct >= r.nfields   ? "t_ms"
                              : (size_t)cy >= r.nfields ? "type"
                              : (size_t)ck >= r.nfields ? "kind"
                              : (size_t)cd >= r.nfields ? "data"
                                                        : NULL;
        if (missing)
            rc = ec_fail(EC_EPARSE, "%s: field \"%s\" is missing (the row has %zu fields, the header %zu)", where, missing,
                         r.nfields, header_n);
        else if (ec_parse_i64(r.fields[ct], &t) || t < 0 || t > EC_SHARE_MAX_TIME_MS)
            rc = ec_fail(EC_EPARSE, "%s: field \"t_ms\" must be " T_MS_RANGE ", not \"%.40s\"", where, r.fields[ct]);
        else if (type < 0)
            rc = ec_fail(EC_EPARSE, "%s: field \"type\" must be \"event\" or \"command\"", where);
        if (rc) break;
        rc = check_row(where, type, r.fields[ck], t, r.fields[cd], strlen(r.fields[cd]));
        if (!rc) rc = ec_store_journal_append(s, t, type, r.fields[ck], r.fields[cd]);
        if (!rc) (*rows)++;
    }
    if (rc == EC_EOF) rc = EC_OK;
    ec_csv_free(&r);
    return rc;
}

/* Removes a database import made, with SQLite's files beside it. */
static void remove_db(const char *path)
{
    char side[4200];
    static const char *const ends[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
        if ((size_t)snprintf(side, sizeof side, "%s%s", path, ends[i]) < sizeof side) unlink(side);
    unlink(path);
}

static int run_import(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_journal_import, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    if (!a.pos) return cli_usage_error(&cmd_journal_import, "give the journal file to read");
    const char *fmt = cli_get(&a, "format");
    if (fmt && strcmp(fmt, "jsonl") && strcmp(fmt, "csv"))
        return cli_usage_error(&cmd_journal_import, "--format is jsonl or csv, not \"%s\"", fmt);
    char *text = NULL;
    size_t len = 0;
    ec_err rc = ec_read_file(a.pos, JOURNAL_FILE_MAX, &text, &len);
    if (rc) return cli_error(rc);
    int csv = fmt ? !strcmp(fmt, "csv") : !(len && text[0] == '{');
    const char *db = cli_get(&a, "db") ? cli_get(&a, "db") : "ecorridor.db";
    int made = access(db, F_OK) != 0; /* a refused file leaves no new database behind */
    ec_store *s;
    rc = open_db(&a, &s);
    if (rc) {
        ec_free(text);
        if (made) remove_db(db);
        return cli_error(rc);
    }
    int64_t have = 0, rows = 0;
    rc = ec_store_journal_count(s, &have);
    if (!rc && have)
        rc = ec_fail(EC_EINVAL, "%s already holds a journal of %lld rows; import into a new database", db,
                     (long long)have);
    if (!rc) rc = ec_store_begin(s);
    if (!rc) {
        rc = csv ? import_csv(s, a.pos, text, len, &rows) : import_jsonl(s, a.pos, text, len, &rows);
        if (!rc) rc = ec_store_commit(s);
        else ec_store_rollback(s);
    }
    ec_store_close(s);
    ec_free(text);
    if (rc && made) remove_db(db);
    if (rc) return cli_error(rc);
    printf("%lld journal rows read from %s\n", (long long)rows, a.pos);
    return EXIT_OK;
}

/* ---- replay ------------------------------------------------------------------------------ */

typedef struct {
    ec_share *eng;
    ec_vec issued;            /* ec_share_cmd_t the replay issued, not yet compared */
    size_t head;
    int64_t from_ms, to_ms;
    int started;              /* a row at or after --from has been read: commands count from here */
    int check, json, differ;
    int64_t events, commands, hub_commands;
    ec_site_power_t site;
    ec_substation_power_t sub;
    char first[1200];         /* the first difference */
    ec_progress prog;
    int64_t done, total;
} replay_ctx;

static void on_issue(void *ctx, const ec_share_cmd_t *c)
{
    replay_ctx *x = ctx;
    if (!x->started) return;
    x->commands++;
    if (x->check) ec_vec_push(&x->issued, c);
    if (x->json) {
        ec_buf b;
        ec_buf_init(&b, 1u << 20);
        char t[48];
        iso_ms(c->t_ms, t, sizeof t);
        ec_buf_printf(&b, "{\"t_ms\":%lld,\"time\":\"%s\",\"kind\":\"%s\",\"data\":", (long long)c->t_ms, t,
                      ec_share_cmd_name(c->kind));
        ec_share_cmd_json(c, &b);
        ec_buf_append(&b, "}", 1);
        if (b.data) puts(b.data);
        ec_buf_free(&b);
    } else if (!x->check) {
        char d[300], t[64];
        ec_share_cmd_describe(c, d, sizeof d);
        local_ms(c->t_ms, t, sizeof t);
        printf("%s  %s\n", t, d);
    }
}

/* Counts a difference and keeps the first: where, what the hub sent (a), what the replay issued (b). */
static void differ(replay_ctx *x, const char *where, const char *a, const char *b)
{
    if (x->differ++) return;
    snprintf(x->first, sizeof x->first, "first difference at %s: the hub sent %s, the replay issued %s", where,
             a ? a : "nothing", b ? b : "nothing");
}

/* The parser's message after where; copied first, as ec_fail writes where ec_errmsg reads. */
static ec_err journal__refused(ec_err rc, const char *where)
{
    char why[1024];
    snprintf(why, sizeof why, "%s", ec_errmsg());
    return ec_fail(rc, "%s: %s", where, why);
}

static ec_err replay_row(void *ctx, const ec_journal_row_t *r)
{
    replay_ctx *x = ctx;
    if (++x->done % 4096 == 0) ec_progress_update(&x->prog, (uint64_t)x->done);
    /* The journal is read in its order; the window is where its times first reach --from and
     * --to, so a wall clock that stepped back cannot leave rows out of the middle. */
    if (x->to_ms > 0 && r->t_ms >= x->to_ms) return EC_EOF;
    if (r->t_ms >= x->from_ms) x->started = 1;
    char where[64];
    snprintf(where, sizeof where, "journal row %lld", (long long)r->seq);
    if (!r->command) {
        ec_share_event_t ev;
        ec_err rc = ec_share_event_parse(r->kind, r->t_ms, r->data, r->len, &ev, &x->site, &x->sub);
        if (rc) return journal__refused(rc, where);
        x->events++;
        rc = ec_share_feed(x->eng, &ev);
        return rc ? ec_fail(rc, "%s: the engine refused the %s event", where, r->kind) : EC_OK;
    }
    if (!x->started || !x->check) return EC_OK;
    ec_share_cmd_t hub;
    ec_err rc = ec_share_cmd_parse(r->kind, r->t_ms, r->data, r->len, &hub);
    if (rc) return journal__refused(rc, where);
    x->hub_commands++;
    char a[300], b[300];
    ec_share_cmd_describe(&hub, a, sizeof a);
    if (x->head == x->issued.len) {
        differ(x, where, a, NULL);
    } else {
        const ec_share_cmd_t *mine = &EC_VEC_AT(&x->issued, ec_share_cmd_t, x->head++);
        ec_share_cmd_describe(mine, b, sizeof b);
        if (!ec_share_cmd_equal(&hub, mine)) differ(x, where, a, b);
    }
    if (x->head == x->issued.len) x->issued.len = 0, x->head = 0;
    return EC_OK;
}

static ec_err count_rows(void *ctx, const ec_journal_row_t *r)
{
    (void)r;
    ++*(int64_t *)ctx;
    return EC_OK;
}

static int run_replay(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_replay, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    replay_ctx x;
    memset(&x, 0, sizeof x);
    if (time_opt(&cmd_replay, &a, "from", &x.from_ms) || time_opt(&cmd_replay, &a, "to", &x.to_ms)) return EXIT_USAGE;
    x.check = cli_flag(&a, "check"), x.json = cli_flag(&a, "json");
    ec_vec_init(&x.issued, sizeof(ec_share_cmd_t));
    ec_store *s;
    ec_err rc = open_existing(&a, &s);
    if (rc) return cli_error(rc);
    rc = ec_share_new(on_issue, &x, &x.eng);
    if (!rc) rc = ec_store_journal_each(s, 0, 0, count_rows, &x.total);
    ec_progress_start(&x.prog, "replay", (uint64_t)x.total);
    if (!rc) rc = ec_store_journal_each(s, 0, 0, replay_row, &x);
    if (rc == EC_EOF) rc = EC_OK; /* --to reached */
    ec_progress_finish(&x.prog);
    ec_store_close(s);
    if (!rc && x.check && x.head < x.issued.len) {
        char b[300];
        ec_share_cmd_describe(&EC_VEC_AT(&x.issued, ec_share_cmd_t, x.head), b, sizeof b);
        differ(&x, "the end of the journal", NULL, b);
    }
    ec_share_free(x.eng);
    ec_vec_free(&x.issued);
    ec_site_power_free(&x.site);
    ec_substation_power_free(&x.sub);
    if (rc) return cli_error(rc);
    if (x.json) {
        printf("{\"events\":%lld,\"commands\":%lld", (long long)x.events, (long long)x.commands);
        if (x.check) {
            printf(",\"hub_commands\":%lld,\"equal\":%s,\"first_difference\":", (long long)x.hub_commands,
                   x.differ ? "false" : "true");
            if (x.differ) {
                ec_buf b;
                ec_buf_init(&b, 4096);
                ec_jw w;
                ec_jw_init(&w, &b);
                ec_jw_str(&w, x.first);
                fputs(b.data ? b.data : "null", stdout);
                ec_buf_free(&b);
            } else {
                fputs("null", stdout);
            }
        }
        puts("}");
    } else if (x.check && x.differ) {
        printf("replayed %lld events, %lld commands; %s (%d differences in all)\n", (long long)x.events,
               (long long)x.commands, x.first, x.differ);
    } else if (x.check) {
        printf("replayed %lld events, %lld commands, all equal\n", (long long)x.events, (long long)x.commands);
    } else {
        printf("replayed %lld events, %lld commands\n", (long long)x.events, (long long)x.commands);
    }
    return x.differ ? EXIT_FAIL : EXIT_OK;
}

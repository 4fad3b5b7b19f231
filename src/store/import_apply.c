/* import_apply.c - a register file stored all or nothing, idempotently.
 *
 * Two stages on two threads: a reader parses the file and validates and
 * normalizes each record (ec_import_parse, ec_reg_normalize: no I/O, no
 * store), the calling thread stores what it hands over, in batches, inside
 * one transaction. Reading and writing cost about the same, so on two cores
 * the import takes about as long as the slower of them. */
#include "ecorridor/ec_store.h"

#include <pthread.h>
#include <string.h>

ec_err ec_store_check_refs(ec_store *s, const ec_reg_index_t *idx, ec_reg_error_t *err)
{
    for (int i = 0; i < idx->n_refs; i++) {
        int ok = ec_store_exists(s, idx->refs[i].kind, idx->refs[i].id);
        if (ok < 0) return EC_EIO;
        if (!ok) {
            snprintf(err->code, sizeof err->code, "unknown_reference");
            snprintf(err->field, sizeof err->field, "%s", idx->refs[i].field);
            snprintf(err->message, sizeof err->message, "%s \"%s\" names no object in %s", idx->refs[i].field,
                     idx->refs[i].id, ec_kind_name(idx->refs[i].kind));
            return EC_EINVAL;
        }
    }
    return EC_OK;
}

/* ---- the hand-over ------------------------------------------------------ */

/* One record read and normalized, on its way to the store. */
typedef struct {
    ec_kind kind;
    char id[EC_REG_ID_MAX + 1], source[80], where[160];
    double done;
    int bad;            /* normalize refused it: err says why */
    ec_reg_error_t err;
    ec_reg_index_t idx;
    char *doc;          /* owned, NUL-terminated */
} staged;

#define BATCH 64
#define QUEUE 4 /* batches in flight: bounded memory whatever the file's size */

typedef struct {
    staged *items;
    size_t n;
} batch;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch ring[QUEUE];
    int head, count;
    int finished;       /* the reader is done (read_rc says how) */
    int stop;           /* the writer failed: the reader gives up */
    ec_err read_rc;
    char read_msg[1024]; /* messages are per thread: the reader's, copied */
    /* the reader's own */
    ec_import_format format;
    const char *name, *text, *operator_id;
    size_t len;
    int64_t now_s;
    ec_import_set *set;
    batch filling;
    ec_buf doc;
} pipe_t;

static void batch_free(batch *b)
{
    for (size_t i = 0; b->items && i < b->n; i++) ec_free(b->items[i].doc);
    ec_free(b->items);
    b->items = NULL;
    b->n = 0;
}

/* Hands the filling batch over, waiting while the ring is full. */
static ec_err push(pipe_t *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->count == QUEUE && !p->stop) pthread_cond_wait(&p->cv, &p->mu);
    int stop = p->stop;
    if (!stop) {
        p->ring[(p->head + p->count) % QUEUE] = p->filling;
        p->count++;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    if (stop) batch_free(&p->filling);
    p->filling.items = NULL;
    p->filling.n = 0;
    return stop ? EC_EINVAL : EC_OK;
}

static ec_err stage(void *ctx, const ec_import_record_t *r)
{
    pipe_t *p = ctx;
    if (!p->filling.items && !(p->filling.items = ec_calloc(BATCH, sizeof(staged)))) return EC_ENOMEM;
    staged *x = &p->filling.items[p->filling.n];
    memset(x, 0, sizeof *x);
    x->kind = r->kind;
    x->done = r->done;
    snprintf(x->id, sizeof x->id, "%s", r->id);
    snprintf(x->source, sizeof x->source, "%s", r->source);
    snprintf(x->where, sizeof x->where, "%s", r->where);
    if (ec_reg_normalize(r->kind, r->input, NULL, r->id, p->now_s, &p->doc, &x->idx, &x->err)) {
        x->bad = 1;
    } else {
        if (!(x->doc = ec_malloc(p->doc.len + 1))) return EC_ENOMEM;
        memcpy(x->doc, p->doc.data, p->doc.len + 1);
    }
    p->filling.n++;
    /* A refused record ends the reading: the writer reports it in turn.
     * x belongs to the writer once pushed: read it before. */
    int bad = x->bad;
    if (p->filling.n == BATCH || bad) return push(p) || bad ? EC_EINVAL : EC_OK;
    return EC_OK;
}

static void *reader(void *arg)
{
    pipe_t *p = arg;
    ec_err rc = ec_import_parse(p->format, p->name, p->text, p->len, p->operator_id, stage, p, p->set);
    if (!rc && p->filling.n) rc = push(p);
    batch_free(&p->filling);
    pthread_mutex_lock(&p->mu);
    p->finished = 1;
    p->read_rc = rc;
    snprintf(p->read_msg, sizeof p->read_msg, "%s", rc ? ec_errmsg() : "");
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the writer ----------------------------------------------------------- */

/* Documents equal but for last_updated, which canonical documents end with. */
static int same_but_time(const char *a, const char *b)
{
    /* The writer escapes quotes inside strings, so this key appears only as
     * the member it is. */
    static const char key[] = ",\"last_updated\":";
    const char *ea = NULL, *eb = NULL;
    for (const char *q = a; (q = strstr(q, key)); q++) ea = q;
    for (const char *q = b; (q = strstr(q, key)); q++) eb = q;
    return ea && eb && ea - a == eb - b && !memcmp(a, b, (size_t)(ea - a));
}

/* Records of an operator's import that another organisation owns. */
typedef struct {
    const char *owner;   /* the importing organisation; NULL: an admin's import */
    int64_t n;           /* records refused */
    char names[224];     /* the first few, for the message */
} refusals;

/* 1 when the stored document old may be replaced by owner's import: it is
 * owner's own. A record without an operator belongs to nobody but admins. */
static int owned_by(const char *owner, const char *old)
{
    ec_json *j;
    if (ec_json_load_buf(old, strlen(old), "stored", &j)) return 0;
    const char *op = ec_json_str(ec_json_get(j, "operator_id"));
    int ok = op && !strcmp(op, owner);
    ec_json_free(j);
    return ok;
}

static void refuse(refusals *r, const staged *x, const char *old)
{
    char who[EC_REG_ID_MAX + 1] = "";
    ec_json *j;
    if (!ec_json_load_buf(old, strlen(old), "stored", &j)) {
        const char *op = ec_json_str(ec_json_get(j, "operator_id"));
        snprintf(who, sizeof who, "%s", op ? op : "");
        ec_json_free(j);
    }
    size_t n = strlen(r->names);
    if (r->n < 4 && n < sizeof r->names - 1) {
        /* The first few, as many as fit: a name cut short still names. */
        int w = snprintf(r->names + n, sizeof r->names - n, "%s%s %s (%.60s, %s)", n ? "; " : "", ec_kind_name(x->kind),
                         x->id, x->where, who[0] ? who : "no operator: admins only");
        if (w < 0) r->names[n] = 0;
    }
    r->n++;
}

static ec_err store_staged(ec_store *s, const staged *x, ec_buf *old, ec_import_summary_t *sum, refusals *ref)
{
    if (x->bad) {
        sum->err = x->err;
        return EC_EINVAL;
    }
    char id[EC_REG_ID_MAX + 1];
    ec_buf_reset(old);
    ec_err rc = ec_store_find_source(s, x->kind, x->source, id, sizeof id, old);
    if (rc && rc != EC_ENOTFOUND) return rc;
    int seen = rc == EC_OK;
    if (seen && strcmp(id, x->id) != 0) {
        /* Importers derive ids from their sources, so this is a record
         * stored by an older ecorridor under another id: say so. */
        snprintf(sum->err.code, sizeof sum->err.code, "conflict");
        snprintf(sum->err.field, sizeof sum->err.field, "id");
        snprintf(sum->err.message, sizeof sum->err.message, "this record was stored as %s \"%s\", not \"%s\"",
                 ec_kind_name(x->kind), id, x->id);
        return EC_EINVAL;
    }
    /* An operator's file replaces its own records only. A refused record is
     * counted and the reading goes on, so that the answer names every one;
     * the import is then refused whole. */
    if (seen && ref->owner && !owned_by(ref->owner, old->data)) {
        refuse(ref, x, old->data);
        return EC_OK;
    }
    if (ref->n) return EC_OK; /* refused anyway: nothing more is written */
    if (seen && same_but_time(x->doc, old->data)) {
        sum->unchanged++;
        return EC_OK;
    }
    if ((rc = ec_store_check_refs(s, &x->idx, &sum->err))) return rc;
    rc = ec_store_put(s, x->kind, x->id, seen ? EC_PUT_REPLACE : EC_PUT_CREATE, x->doc, &x->idx, x->source);
    if (rc == EC_EINVAL) {
        snprintf(sum->err.code, sizeof sum->err.code, "conflict");
        snprintf(sum->err.field, sizeof sum->err.field, "id");
        snprintf(sum->err.message, sizeof sum->err.message,
                 "%s \"%s\" exists already and was not imported from this record", ec_kind_name(x->kind), x->id);
        return rc;
    }
    if (!rc) seen ? sum->updated++ : sum->added++;
    return rc;
}

/* The answer when an operator's file names records of others: nothing of it
 * is stored, and the first few are named. */
static ec_err refused_summary(const refusals *ref, ec_import_summary_t *sum)
{
    sum->refused = ref->n;
    sum->where[0] = 0;
    snprintf(sum->err.code, sizeof sum->err.code, "forbidden");
    snprintf(sum->err.field, sizeof sum->err.field, "operator_id");
    /* A message cut short still names the first records. */
    if (snprintf(sum->err.message, sizeof sum->err.message,
                 "%lld record%s belong%s to another organisation, so nothing was imported: %s%s", (long long)ref->n,
                 ref->n == 1 ? "" : "s", ref->n == 1 ? "s" : "", ref->names, ref->n > 4 ? "; ..." : "") < 0)
        sum->err.message[0] = 0;
    return EC_EINVAL;
}

/* What both ways of importing do first: an empty summary, and the format
 * named or guessed from the file. */
static ec_err import_begin(const char *name, const char *text, size_t len, const char *format, ec_import_set *set,
                           ec_import_summary_t *sum, ec_import_format *f)
{
    memset(sum, 0, sizeof *sum);
    set->n_records = 0;
    ec_vec_init(&set->skipped, sizeof(ec_import_skip_t));
    *f = ec_import_guess(name, text, len);
    if (format && ec_import_format_parse(format, f))
        return ec_fail(EC_EINVAL, "format \"%s\" is not csv, geojson, ocm or afdc", format);
    return EC_OK;
}

/* ... and last: a refusal's message, with the record's place when it has one. */
static ec_err import_end(ec_err rc, const ec_import_summary_t *sum)
{
    if (rc == EC_EINVAL && sum->err.message[0] && sum->where[0])
        return ec_fail(EC_EINVAL, "%s: %s", sum->where, sum->err.message);
    if (rc == EC_EINVAL && sum->err.message[0]) return ec_fail(EC_EINVAL, "%s", sum->err.message);
    return rc;
}

ec_err ec_store_import_text(ec_store *s, const char *name, const char *text, size_t len,
                            const char *format, const char *operator_id, ec_import_set *set,
                            ec_import_summary_t *sum, ec_progress *progress)
{
    return ec_store_import_text_as(s, name, text, len, format, operator_id, NULL, set, sum, progress);
}

ec_err ec_store_import_text_as(ec_store *s, const char *name, const char *text, size_t len,
                               const char *format, const char *operator_id, const char *owner,
                               ec_import_set *set, ec_import_summary_t *sum, ec_progress *progress)
{
    refusals ref;
    memset(&ref, 0, sizeof ref);
    ref.owner = owner;
    ec_import_format f;
    ec_err rc0 = import_begin(name, text, len, format, set, sum, &f);
    if (rc0) return rc0;
    pipe_t p;
    memset(&p, 0, sizeof p);
    p.format = f, p.name = name, p.text = text, p.len = len, p.operator_id = operator_id;
    p.now_s = ec_time_now_s();
    p.set = set;
    ec_buf_init(&p.doc, EC_REG_DOC_MAX);
    ec_buf old;
    ec_buf_init(&old, EC_REG_DOC_MAX);
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    pthread_t th;
    /* One transaction around the whole file: all of it or none. */
    ec_err rc = ec_store_begin(s);
    if (!rc && pthread_create(&th, NULL, reader, &p)) {
        ec_store_rollback(s);
        rc = ec_fail(EC_EIO, "cannot start the import's reader thread");
    }
    int started = !rc;
    while (started) {
        pthread_mutex_lock(&p.mu);
        while (!p.count && !p.finished) pthread_cond_wait(&p.cv, &p.mu);
        if (!p.count) {
            pthread_mutex_unlock(&p.mu);
            break; /* finished and drained */
        }
        batch b = p.ring[p.head];
        p.head = (p.head + 1) % QUEUE;
        p.count--;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
        for (size_t i = 0; i < b.n && !rc; i++) {
            rc = store_staged(s, &b.items[i], &old, sum, &ref);
            if (rc) snprintf(sum->where, sizeof sum->where, "%s", b.items[i].where);
            if (progress) ec_progress_update(progress, (uint64_t)(b.items[i].done * (double)progress->total));
        }
        batch_free(&b);
        if (rc) {
            /* Tell the reader to stop, and take what it still hands over. */
            pthread_mutex_lock(&p.mu);
            p.stop = 1;
            pthread_cond_broadcast(&p.cv);
            while (p.count) {
                batch_free(&p.ring[p.head]);
                p.head = (p.head + 1) % QUEUE;
                p.count--;
            }
            pthread_mutex_unlock(&p.mu);
            break;
        }
    }
    if (started) {
        pthread_join(th, NULL);
        while (p.count) { /* handed over after the stop */
            batch_free(&p.ring[p.head]);
            p.head = (p.head + 1) % QUEUE;
            p.count--;
        }
        /* A reader that failed on its own (a malformed file) ends the import. */
        if (!rc && p.read_rc) rc = ec_fail(p.read_rc, "%s", p.read_msg);
        if (!rc && ref.n) rc = refused_summary(&ref, sum);
        if (!rc) {
            rc = ec_store_commit(s);
        } else {
            ec_store_rollback(s);
            sum->added = sum->updated = sum->unchanged = 0;
        }
    }
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    ec_buf_free(&p.doc);
    ec_buf_free(&old);
    return import_end(rc, sum);
}

ec_err ec_store_import_file(ec_store *s, const char *path, const char *format,
                            const char *operator_id, ec_import_set *set, ec_import_summary_t *sum,
                            ec_progress *progress)
{
    char *text;
    size_t len;
    set->n_records = 0;
    ec_vec_init(&set->skipped, sizeof(ec_import_skip_t));
    ec_err rc = ec_read_file(path, EC_IMPORT_MAX_BYTES, &text, &len);
    if (rc) return rc;
    rc = ec_store_import_text(s, path, text, len, format, operator_id, set, sum, progress);
    ec_free(text);
    return rc;
}

void ec_import_summary_json(ec_jw *w, const ec_import_set *set, const ec_import_summary_t *sum)
{
    ec_jw_key(w, "records"), ec_jw_int(w, (int64_t)set->n_records);
    ec_jw_key(w, "added"), ec_jw_int(w, sum->added);
    ec_jw_key(w, "updated"), ec_jw_int(w, sum->updated);
    ec_jw_key(w, "unchanged"), ec_jw_int(w, sum->unchanged);
    ec_jw_key(w, "skipped");
    ec_jw_arr_begin(w);
    for (size_t i = 0; i < set->skipped.len; i++) {
        const ec_import_skip_t *k = &EC_VEC_AT(&set->skipped, ec_import_skip_t, i);
        ec_jw_obj_begin(w);
        ec_jw_key(w, "where"), ec_jw_str(w, k->where);
        ec_jw_key(w, "reason"), ec_jw_str(w, k->reason);
        ec_jw_obj_end(w);
    }
    ec_jw_arr_end(w);
}

/* ---- read first, store after: the server's import ------------------------- */

/* The server reads a whole file on a worker thread before it takes the
 * database's write lock, so that the lock is held only for the writing (the
 * loop's own writes wait for it meanwhile). What is read is kept packed: a
 * staged record is some 1.9 kB with its fixed-size fields, a packed one its
 * document and a few short strings. */
#define STAGED_MAX (1u << 30)

typedef struct {
    ec_kind kind;
    int has_pos, truck, n_refs;
    ec_kind ref_kind[EC_REG_MAX_REFS];
    double lat, lon, max_power_w;
} packed_head;

struct ec_import_staged {
    ec_buf pack; /* per record: a packed_head, then its strings, each NUL-terminated */
    size_t n;
};

typedef struct {
    ec_import_staged *st;
    int64_t now_s;
    ec_buf doc;
    int bad;
    char where[160];
    ec_reg_error_t err;
} stager;

static ec_err pack_str(ec_buf *b, const char *s)
{
    return ec_buf_append(b, s, strlen(s) + 1);
}

static ec_err pack_record(void *ctx, const ec_import_record_t *r)
{
    stager *g = ctx;
    ec_reg_index_t idx;
    if (ec_reg_normalize(r->kind, r->input, NULL, r->id, g->now_s, &g->doc, &idx, &g->err)) {
        g->bad = 1;
        snprintf(g->where, sizeof g->where, "%s", r->where);
        return EC_EINVAL;
    }
    packed_head h;
    memset(&h, 0, sizeof h);
    h.kind = r->kind, h.has_pos = idx.has_pos, h.truck = idx.truck, h.n_refs = idx.n_refs;
    h.lat = idx.lat, h.lon = idx.lon, h.max_power_w = idx.max_power_w;
    for (int i = 0; i < idx.n_refs; i++) h.ref_kind[i] = idx.refs[i].kind;
    ec_buf *b = &g->st->pack;
    ec_err rc = ec_buf_append(b, &h, sizeof h);
    const char *strs[] = {r->id, r->source, r->where, g->doc.data, idx.operator_id, idx.jurisdiction_id,
                          idx.standards, idx.statuses};
    for (size_t i = 0; !rc && i < sizeof strs / sizeof strs[0]; i++) rc = pack_str(b, strs[i]);
    for (int i = 0; !rc && i < idx.n_refs; i++)
        if (!(rc = pack_str(b, idx.refs[i].id))) rc = pack_str(b, idx.refs[i].field);
    if (rc == EC_ELIMIT)
        return ec_fail(EC_ELIMIT, "%s: the file's records take more than %u MiB once read", r->where, STAGED_MAX >> 20);
    if (!rc) g->st->n++;
    return rc;
}

/* Reads the record at *off back into x (x->doc borrows from the pack). */
static void unpack_record(const ec_import_staged *st, size_t *off, staged *x)
{
    packed_head h;
    memcpy(&h, st->pack.data + *off, sizeof h);
    const char *p = st->pack.data + *off + sizeof h;
    memset(x, 0, sizeof *x);
    x->kind = h.kind;
    x->idx.has_pos = h.has_pos, x->idx.truck = h.truck, x->idx.n_refs = h.n_refs;
    x->idx.lat = h.lat, x->idx.lon = h.lon, x->idx.max_power_w = h.max_power_w;
    struct {
        char *dst;
        size_t n;
    } fields[] = {{x->id, sizeof x->id},
                  {x->source, sizeof x->source},
                  {x->where, sizeof x->where},
                  {NULL, 0},
                  {x->idx.operator_id, sizeof x->idx.operator_id},
                  {x->idx.jurisdiction_id, sizeof x->idx.jurisdiction_id},
                  {x->idx.standards, sizeof x->idx.standards},
                  {x->idx.statuses, sizeof x->idx.statuses}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].dst) snprintf(fields[i].dst, fields[i].n, "%s", p);
        else x->doc = (char *)p;
        p += strlen(p) + 1;
    }
    for (int i = 0; i < h.n_refs; i++) {
        x->idx.refs[i].kind = h.ref_kind[i];
        snprintf(x->idx.refs[i].id, sizeof x->idx.refs[i].id, "%s", p);
        p += strlen(p) + 1;
        snprintf(x->idx.refs[i].field, sizeof x->idx.refs[i].field, "%s", p);
        p += strlen(p) + 1;
    }
    *off = (size_t)(p - st->pack.data);
}

ec_err ec_import_stage(const char *name, const char *text, size_t len, const char *format, const char *operator_id,
                       ec_import_set *set, ec_import_summary_t *sum, ec_import_staged **out)
{
    *out = NULL;
    ec_import_format f;
    ec_err rc0 = import_begin(name, text, len, format, set, sum, &f);
    if (rc0) return rc0;
    stager g;
    memset(&g, 0, sizeof g);
    if (!(g.st = ec_calloc(1, sizeof *g.st))) return EC_ENOMEM;
    ec_buf_init(&g.st->pack, STAGED_MAX);
    ec_buf_init(&g.doc, EC_REG_DOC_MAX);
    g.now_s = ec_time_now_s();
    ec_err rc = ec_import_parse(f, name, text, len, operator_id, pack_record, &g, set);
    ec_buf_free(&g.doc);
    if (g.bad) {
        sum->err = g.err;
        snprintf(sum->where, sizeof sum->where, "%s", g.where);
        rc = ec_fail(EC_EINVAL, "%s: %s", g.where, g.err.message);
    }
    if (rc) {
        ec_import_staged_free(g.st);
        return rc;
    }
    *out = g.st;
    return EC_OK;
}

ec_err ec_store_import_staged(ec_store *s, const ec_import_staged *st, const char *owner, ec_import_summary_t *sum)
{
    refusals ref;
    memset(&ref, 0, sizeof ref);
    ref.owner = owner;
    sum->added = sum->updated = sum->unchanged = 0;
    ec_buf old;
    ec_buf_init(&old, EC_REG_DOC_MAX);
    staged x;
    size_t off = 0;
    /* One transaction around the whole file: all of it or none. */
    ec_err rc = ec_store_begin(s);
    for (size_t i = 0; !rc && i < st->n; i++) {
        unpack_record(st, &off, &x);
        rc = store_staged(s, &x, &old, sum, &ref);
        if (rc) snprintf(sum->where, sizeof sum->where, "%s", x.where);
    }
    ec_buf_free(&old);
    if (!rc && ref.n) rc = refused_summary(&ref, sum);
    if (!rc) {
        rc = ec_store_commit(s);
    } else {
        ec_store_rollback(s);
        sum->added = sum->updated = sum->unchanged = 0;
    }
    return import_end(rc, sum);
}

void ec_import_staged_free(ec_import_staged *st)
{
    if (!st) return;
    ec_buf_free(&st->pack);
    ec_free(st);
}

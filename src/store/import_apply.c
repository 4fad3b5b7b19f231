/* import_apply.c - an import set stored all or nothing, idempotently. */
#include "ecorridor/ec_store.h"

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

/* The last_updated of a stored document, so that an unchanged record
 * normalizes to exactly the stored text. */
static int64_t stored_time(const ec_buf *doc)
{
    ec_json *j;
    int64_t t = 0;
    if (ec_json_load_buf(doc->data, doc->len, "stored", &j)) return 0;
    const char *s = ec_json_str(ec_json_get(j, "last_updated"));
    if (s) ec_time_parse_iso(s, &t);
    ec_json_free(j);
    return t;
}

static ec_err import_one(ec_store *s, const ec_import_record_t *r, int64_t now_s, ec_buf *old,
                         ec_buf *doc, ec_import_summary_t *sum)
{
    char id[EC_REG_ID_MAX + 1];
    ec_reg_index_t idx;
    ec_buf_reset(old);
    ec_err rc = ec_store_find_source(s, r->kind, r->source, id, sizeof id, old);
    if (rc && rc != EC_ENOTFOUND) return rc;
    int seen = rc == EC_OK;
    if (!seen) snprintf(id, sizeof id, "%s", r->id);
    if (seen) {
        if ((rc = ec_reg_normalize(r->kind, r->input, NULL, id, stored_time(old), doc, &idx, &sum->err)))
            return rc;
        if (doc->len == old->len && !memcmp(doc->data, old->data, doc->len)) {
            sum->unchanged++;
            return EC_OK;
        }
    }
    if ((rc = ec_reg_normalize(r->kind, r->input, NULL, id, now_s, doc, &idx, &sum->err)) ||
        (rc = ec_store_check_refs(s, &idx, &sum->err)))
        return rc;
    if (!seen && ec_store_exists(s, r->kind, id) == 1) {
        snprintf(sum->err.code, sizeof sum->err.code, "conflict");
        snprintf(sum->err.field, sizeof sum->err.field, "id");
        snprintf(sum->err.message, sizeof sum->err.message,
                 "%s \"%s\" exists already and was not imported from this record", ec_kind_name(r->kind), id);
        return EC_EINVAL;
    }
    rc = ec_store_put(s, r->kind, id, seen ? EC_PUT_REPLACE : EC_PUT_CREATE, doc->data, &idx, r->source);
    if (!rc) seen ? sum->updated++ : sum->added++;
    return rc;
}

/* The sink of an import: each record stored as it is read. */
typedef struct {
    ec_store *s;
    int64_t now_s;
    ec_buf old, doc;
    ec_import_summary_t *sum;
    ec_progress *progress;
} import_ctx;

static ec_err store_record(void *ctx, const ec_import_record_t *r)
{
    import_ctx *c = ctx;
    ec_err rc = import_one(c->s, r, c->now_s, &c->old, &c->doc, c->sum);
    if (rc) snprintf(c->sum->where, sizeof c->sum->where, "%s", r->where);
    if (c->progress) ec_progress_update(c->progress, (uint64_t)(r->done * (double)c->progress->total));
    return rc;
}

ec_err ec_store_import_text(ec_store *s, const char *name, const char *text, size_t len,
                            const char *format, const char *operator_id, ec_import_set *set,
                            ec_import_summary_t *sum, ec_progress *progress)
{
    memset(sum, 0, sizeof *sum);
    set->n_records = 0;
    ec_vec_init(&set->skipped, sizeof(ec_import_skip_t));
    ec_import_format f = ec_import_guess(name, text, len);
    if (format && ec_import_format_parse(format, &f))
        return ec_fail(EC_EINVAL, "format \"%s\" is not csv, geojson, ocm or afdc", format);
    import_ctx c = {s, ec_time_now_s(), {0}, {0}, sum, progress};
    ec_buf_init(&c.old, EC_REG_DOC_MAX);
    ec_buf_init(&c.doc, EC_REG_DOC_MAX);
    /* One transaction around the whole file: all of it or none. */
    ec_err rc = ec_store_begin(s);
    if (!rc) rc = ec_import_parse(f, name, text, len, operator_id, store_record, &c, set);
    if (!rc) {
        rc = ec_store_commit(s);
    } else {
        ec_store_rollback(s);
        sum->added = sum->updated = sum->unchanged = 0;
    }
    ec_buf_free(&c.old);
    ec_buf_free(&c.doc);
    if (rc == EC_EINVAL && sum->err.message[0])
        rc = ec_fail(EC_EINVAL, "%s: %s", sum->where, sum->err.message);
    return rc;
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

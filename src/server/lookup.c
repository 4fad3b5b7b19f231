/* lookup.c - the store reads behind the engine's authorization and tariff
 * choice, one path for the OCPP and the REST side. */
#include "lookup.h"

#include "smart.h"

#include <string.h>

int lookup__token(ec_store *s, const char *uid, ec_token_t *t)
{
    memset(t, 0, sizeof *t);
    ec_buf doc;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_err rc = ec_store_token_get(s, uid, &doc);
    int found = -1;
    ec_json *j = NULL;
    if (rc == EC_ENOTFOUND)
        found = 0;
    else if (!rc && !ec_json_load_buf(doc.data, doc.len, "token", &j) && !ec_token_from_json(j, t))
        found = 1;
    if (found != 1) memset(t, 0, sizeof *t);
    ec_json_free(j);
    ec_buf_free(&doc);
    return found;
}

ec_err lookup__authorize(ec_store *s, const char *uid, int start, int64_t now_s, ec_token_t *tok,
                         ec_auth_status *st)
{
    int64_t active = 0;
    int found = lookup__token(s, uid, tok);
    if (found < 0) return EC_EIO;
    /* Counting is a query; a token without a limit never needs it. */
    if (found && start && tok->max_concurrent) {
        ec_err rc = ec_store_tx_active(s, uid, &active);
        if (rc) return rc;
    }
    *st = ec_engine_authorize(found ? tok : NULL, active, now_s);
    return EC_OK;
}

/* ---- tariffs ------------------------------------------------------------------ */

/* An operator's tariffs as the engine chooses among them: their scopes, and
 * beside them their ids, to read the chosen one's document. */
typedef struct {
    ec_vec scopes; /* ec_tariff_scope_t */
    ec_vec ids;    /* char[EC_REG_ID_MAX + 1] */
} candidates;

/* Copies a scope field; 0 when it fits (a longer one names no register object). */
static int copy_id(char *out, size_t n, const char *v)
{
    return snprintf(out, n, "%s", v ? v : "") < (int)n ? 0 : -1;
}

static ec_err candidate_row(void *ctx, const char *text, size_t len)
{
    candidates *c = ctx;
    ec_json *j;
    if (ec_json_load_buf(text, len, "tariff", &j)) return EC_OK; /* unreadable: it never applied */
    ec_tariff_scope_t scope;
    char id[EC_REG_ID_MAX + 1];
    int ok = !copy_id(id, sizeof id, ec_json_str(ec_json_get(j, "id"))) && id[0] &&
             !copy_id(scope.site_id, sizeof scope.site_id, ec_json_str(ec_json_get(j, "site_id"))) &&
             !copy_id(scope.customer_group, sizeof scope.customer_group, ec_json_str(ec_json_get(j, "customer_group")));
    ec_json_free(j);
    if (!ok) return EC_OK;
    ec_err rc = ec_vec_push(&c->scopes, &scope);
    return rc ? rc : ec_vec_push(&c->ids, id);
}

ec_err lookup__tariff(ec_store *s, const char *operator_id, const char *site_id, const char *group_id, ec_buf *doc)
{
    if (!operator_id || !*operator_id) return EC_ENOTFOUND;
    ec_store_filter_t f;
    memset(&f, 0, sizeof f);
    f.operator_id = operator_id;
    f.limit = -1;
    candidates c;
    ec_vec_init(&c.scopes, sizeof(ec_tariff_scope_t));
    ec_vec_init(&c.ids, EC_REG_ID_MAX + 1);
    int64_t total;
    ec_err rc = ec_store_list(s, EC_KIND_TARIFF, &f, candidate_row, &c, &total);
    if (!rc) {
        long best = ec_tariff_choose(c.scopes.data, c.scopes.len, site_id ? site_id : "", group_id ? group_id : "");
        rc = best < 0 ? EC_ENOTFOUND
                      : ec_store_get(s, EC_KIND_TARIFF, (const char *)c.ids.data + (size_t)best * c.ids.elem, doc);
    }
    ec_vec_free(&c.scopes);
    ec_vec_free(&c.ids);
    return rc;
}

ec_err lookup__fix_tariff(struct smart *m, const char *site_id, int64_t now_s, ec_buf *doc)
{
    ec_json *j = NULL;
    ec_err rc = ec_json_load_buf(doc->data, doc->len, "tariff", &j);
    int dyn = 0, fixed = 0;
    if (!rc) rc = ec_json_get_bool(j, "dynamic", 0, "tariff", &dyn);
    double price = 0;
    if (!rc && dyn) {
        /* A site without a dynamic price (no substation prices) charges the margin alone. */
        if (smart__price_now(m, site_id, now_s, &price)) price = 0;
        rc = ec_tariff_fix_dynamic(j, price, &fixed);
    }
    if (!rc && fixed) {
        ec_buf_reset(doc);
        ec_jw w;
        ec_jw_init(&w, doc);
        ec_jw_value(&w, j);
        rc = ec_jw_finish(&w); /* the session's price is stored whole or not at all */
    }
    ec_json_free(j);
    return rc;
}

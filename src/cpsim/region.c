/* region.c - the charge points and tokens of a region directory, as the
 * simulator needs them: register.json names the chargers (id, password,
 * site, connectors and the EVSE of each) and the tokens; sites.csv, read by
 * the register's own CSV import, gives each EVSE its plug and power, so the
 * simulator sees exactly the EVSEs the hub loaded. */
#include "ecorridor/ec_cpsim.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_register.h"

#include <string.h>

typedef struct {
    char site_id[40];
    char site_name[128];
    char uid[48];
    ec_plug plug;
    double max_w;
} evse_t;

static ec_err site_sink(void *ctx, const ec_import_record_t *r)
{
    ec_vec *evses = ctx;
    if (r->kind != EC_KIND_SITE) return EC_OK;
    const char *name = ec_json_str(ec_json_get(r->input, "name"));
    const ec_json *list = ec_json_get(r->input, "evses");
    for (size_t i = 0; i < ec_json_array_size(list); i++) {
        const ec_json *e = ec_json_array_get(list, i), *c = ec_json_array_get(ec_json_get(e, "connectors"), 0);
        const char *uid = ec_json_str(ec_json_get(e, "uid"));
        const char *std = ec_json_str(ec_json_get(c, "standard"));
        evse_t v;
        memset(&v, 0, sizeof v);
        if (!uid) continue;
        snprintf(v.site_id, sizeof v.site_id, "%s", r->id);
        snprintf(v.site_name, sizeof v.site_name, "%s", name ? name : r->id);
        snprintf(v.uid, sizeof v.uid, "%s", uid);
        if (!std || ec_reg_standard_plug(std, &v.plug)) v.plug = EC_PLUG_CCS2;
        if (ec_json_number(ec_json_get(c, "max_electric_power"), &v.max_w) || v.max_w <= 0) v.max_w = 150000;
        ec_err rc = ec_vec_push(evses, &v);
        if (rc) return rc;
    }
    return EC_OK;
}

static const evse_t *find_evse(const ec_vec *evses, const char *site, const char *uid)
{
    for (size_t i = 0; i < evses->len; i++) {
        const evse_t *e = &EC_VEC_AT(evses, evse_t, i);
        if (!strcmp(e->site_id, site) && (!uid || !strcmp(e->uid, uid))) return e;
    }
    return NULL;
}

static ec_err read_charger(const char *path, size_t i, const ec_json *o, const ec_vec *evses, ec_cpsim_charger_t *ch)
{
    char where[4200];
    snprintf(where, sizeof where, "%s: chargers[%zu]", path, i);
    const char *id = NULL, *pw = NULL, *site = NULL;
    double n = 0;
    ec_err rc;
    if ((rc = ec_json_get_string(o, "id", 1, where, &id)) || (rc = ec_json_get_string(o, "password", 0, where, &pw)) ||
        (rc = ec_json_get_string(o, "site_id", 1, where, &site)) || (rc = ec_json_get_number(o, "connectors", 0, where, &n)))
        return rc;
    memset(ch, 0, sizeof *ch);
    if (strlen(id) < 1 || strlen(id) > 48) return ec_fail(EC_ERANGE, "%s: \"id\" must have 1 to 48 characters", where);
    if (pw && (strlen(pw) < 8 || strlen(pw) > 64))
        return ec_fail(EC_ERANGE, "%s: \"password\" must have 8 to 64 characters", where);
    const ec_json *uids = ec_json_get(o, "evse_uids");
    if (!n) n = uids ? (double)ec_json_array_size(uids) : 1;
    if (n != (int)n || n < 1 || n > EC_CPSIM_MAX_CONN)
        return ec_fail(EC_ERANGE, "%s: \"connectors\" must be 1 to %d", where, EC_CPSIM_MAX_CONN);
    snprintf(ch->id, sizeof ch->id, "%s", id);
    snprintf(ch->password, sizeof ch->password, "%s", pw ? pw : "");
    snprintf(ch->site_id, sizeof ch->site_id, "%s", site);
    ch->n_conn = (int)n;
    const evse_t *any = find_evse(evses, site, NULL);
    snprintf(ch->site_name, sizeof ch->site_name, "%s", any ? any->site_name : site);
    for (int k = 0; k < ch->n_conn; k++) {
        const char *uid = ec_json_str(ec_json_array_get(uids, (size_t)k));
        const evse_t *e = uid ? find_evse(evses, site, uid) : NULL;
        if (uid && !e)
            return ec_fail(EC_ENOTFOUND, "%s: evse_uids[%d] \"%s\" is not an EVSE of site %s in sites.csv", where, k, uid,
                           site);
        snprintf(ch->conn[k].evse_uid, sizeof ch->conn[k].evse_uid, "%s", uid ? uid : "");
        ch->conn[k].plug = e ? e->plug : EC_PLUG_CCS2;
        ch->conn[k].max_w = e ? e->max_w : 150000;
    }
    return EC_OK;
}

ec_err ec_cpsim_region_load(const char *dir, ec_cpsim_region *out)
{
    ec_vec_init(&out->chargers, sizeof(ec_cpsim_charger_t));
    ec_vec_init(&out->tokens, sizeof(ec_cpsim_token_t));
    ec_vec evses;
    ec_vec_init(&evses, sizeof(evse_t));
    char path[4096], *text = NULL;
    size_t len = 0;
    ec_json *reg = NULL;
    ec_import_set set;
    memset(&set, 0, sizeof set);
    ec_vec_init(&set.skipped, sizeof(ec_import_skip_t));
    snprintf(path, sizeof path, "%s/sites.csv", dir);
    ec_err rc = ec_read_file(path, EC_IMPORT_MAX_BYTES, &text, &len);
    if (rc) goto fail;
    if ((rc = ec_import_parse(EC_IMPORT_CSV, path, text, len, NULL, site_sink, &evses, &set))) goto fail;
    snprintf(path, sizeof path, "%s/register.json", dir);
    if ((rc = ec_json_load_file(path, EC_CPSIM_REGION_MAX, &reg))) goto fail;
    const ec_json *chargers = ec_json_get(reg, "chargers"), *tokens = ec_json_get(reg, "tokens");
    if (!ec_json_is_array(chargers) || !ec_json_array_size(chargers)) {
        rc = ec_fail(EC_EPARSE, "%s: no \"chargers\" list: the region has no charge points to simulate", path);
        goto fail;
    }
    if (ec_json_array_size(chargers) > EC_CPSIM_MAX_CHARGERS || ec_json_array_size(tokens) > EC_CPSIM_MAX_TOKENS) {
        rc = ec_fail(EC_ELIMIT, "%s: more than %d chargers or %d tokens", path, EC_CPSIM_MAX_CHARGERS, EC_CPSIM_MAX_TOKENS);
        goto fail;
    }
    for (size_t i = 0; i < ec_json_array_size(chargers); i++) {
        ec_cpsim_charger_t ch;
        if ((rc = read_charger(path, i, ec_json_array_get(chargers, i), &evses, &ch))) goto fail;
        if ((rc = ec_vec_push(&out->chargers, &ch))) goto fail;
    }
    for (size_t i = 0; i < ec_json_array_size(tokens); i++) {
        const ec_json *t = ec_json_array_get(tokens, i);
        const char *uid = ec_json_str(ec_json_get(t, "uid"));
        const ec_json *valid = ec_json_get(t, "valid");
        ec_cpsim_token_t u = {"", 0};
        if (!uid || !*uid || strlen(uid) > 20 || (valid && !ec_json_true(valid)) || ec_json_get(t, "expiry")) continue;
        snprintf(u.uid, sizeof u.uid, "%s", uid);
        if ((rc = ec_vec_push(&out->tokens, &u))) goto fail;
    }
    if (!out->tokens.len) {
        rc = ec_fail(EC_EPARSE, "%s: no valid token in \"tokens\": no session could start", path);
        goto fail;
    }
    ec_json_free(reg);
    ec_free(text);
    ec_vec_free(&evses);
    ec_import_set_free(&set);
    return EC_OK;
fail:
    ec_json_free(reg);
    ec_free(text);
    ec_vec_free(&evses);
    ec_import_set_free(&set);
    ec_cpsim_region_free(out);
    return rc;
}

ec_err ec_cpsim_region_select(ec_cpsim_region *r, const char *site, int count)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->chargers.len; i++) {
        ec_cpsim_charger_t *c = &EC_VEC_AT(&r->chargers, ec_cpsim_charger_t, i);
        if (site && strcmp(c->site_id, site)) continue;
        if (count > 0 && kept == (size_t)count) break;
        if (kept != i) EC_VEC_AT(&r->chargers, ec_cpsim_charger_t, kept) = *c;
        kept++;
    }
    r->chargers.len = kept;
    if (!kept) return ec_fail(EC_ENOTFOUND, "no charger %s%s in the region", site ? "at site " : "", site ? site : "");
    return EC_OK;
}

void ec_cpsim_region_free(ec_cpsim_region *r)
{
    ec_vec_free(&r->chargers);
    ec_vec_free(&r->tokens);
}

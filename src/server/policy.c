/* policy.c - API keys and what each role may do.
 *
 *   public   (no key) reads sites (with their live status) and tariffs
 *   fleet    public, plus routes and its own organisation
 *   operator fleet, plus grid assets and jurisdictions; writes its own sites and tariffs
 *   agency   reads everything; writes sites, substations and renewables of its jurisdiction
 *   admin    everything: organisations, jurisdictions, any object, imports for anyone
 *
 * and for operations (api_sessions.c): charge points are their operator's
 * and admins'; tokens their issuer's (a fleet) and admins'; sessions, CDRs
 * and settlement are seen by the operator of the charge point, the issuer of
 * the token and admins; a session's plan is said by the same three; excluded
 * outage time (api_outages.c) is recorded and seen by the site's operator,
 * the agency of its jurisdiction and admins.
 */
#include "api_internal.h"
#include "ecorridor/ec_kpi.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int unauthorized(ec_http_response *res, const char *msg)
{
    api__error(res, 401, "unauthorized", NULL, "%s", msg);
    snprintf(res->www_authenticate, sizeof res->www_authenticate, "Bearer realm=\"ecorridor\"");
    return -1;
}

static int forbidden(ec_http_response *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int forbidden(ec_http_response *res, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    api__error(res, 403, "forbidden", NULL, "%s", msg);
    return -1;
}

int api__authenticate(ec_api *a, const ec_http_request *req, ec_http_response *res, api_principal *p)
{
    memset(p, 0, sizeof *p);
    p->role = EC_ROLE_PUBLIC;
    if (!req->authorization[0]) return 0;
    /* The scheme's name is case-insensitive (RFC 9110 11.1); spaces and tabs
     * around the key are optional whitespace a client may send. */
    const char *k = req->authorization;
    if (strncasecmp(k, "Bearer", 6) != 0 || (k[6] != ' ' && k[6] != '\t'))
        return unauthorized(res, "the Authorization header must be \"Bearer <key>\"");
    k += 6;
    while (*k == ' ' || *k == '\t') k++;
    char key[sizeof req->authorization];
    size_t n = strlen(k);
    while (n && (k[n - 1] == ' ' || k[n - 1] == '\t')) n--;
    memcpy(key, k, n);
    key[n] = 0;
    ec_key_info_t info;
    ec_err rc = ec_store_key_check(a->store, key, &info);
    if (rc == EC_ENOTFOUND) return unauthorized(res, "the key is unknown or revoked");
    if (rc) {
        api__error(res, 500, "store_error", NULL, "keys cannot be checked now");
        return -1;
    }
    p->role = info.role;
    snprintf(p->org, sizeof p->org, "%s", info.org);
    if (p->role == EC_ROLE_AGENCY) {
        ec_buf doc;
        ec_json *j;
        ec_buf_init(&doc, EC_REG_DOC_MAX);
        if (ec_store_get(a->store, EC_KIND_ORGANISATION, p->org, &doc) == EC_OK &&
            ec_json_load_buf(doc.data, doc.len, "organisation", &j) == EC_OK) {
            const char *jid = ec_json_str(ec_json_get(j, "jurisdiction_id"));
            snprintf(p->jurisdiction, sizeof p->jurisdiction, "%s", jid ? jid : "");
            ec_json_free(j);
        }
        ec_buf_free(&doc);
    }
    return 0;
}

int api__may_route(const api_principal *p, ec_http_response *res)
{
    /* Every role with a key. */
    return p->role == EC_ROLE_PUBLIC ? unauthorized(res, "routes need a key") : 0;
}

int api__may_read_kind(const api_principal *p, ec_kind k, ec_http_response *res)
{
    if (k == EC_KIND_SITE || k == EC_KIND_TARIFF) return 0;
    if (p->role == EC_ROLE_PUBLIC) return unauthorized(res, "this resource needs a key");
    if ((k == EC_KIND_SUBSTATION || k == EC_KIND_RENEWABLE) && p->role == EC_ROLE_FLEET)
        return forbidden(res, "a %s key may not read %s", ec_role_name(p->role), ec_kind_name(k));
    return 0;
}

int api__may_read_object(const api_principal *p, ec_kind k, const char *id, ec_http_response *res)
{
    if (k == EC_KIND_ORGANISATION && (p->role == EC_ROLE_FLEET || p->role == EC_ROLE_OPERATOR) &&
        strcmp(id, p->org) != 0)
        return forbidden(res, "a %s key reads its own organisation only, not %s", ec_role_name(p->role), id);
    return 0;
}

static int owns(const api_principal *p, ec_kind k, const ec_reg_index_t *x)
{
    if (!x) return 1;
    switch (p->role) {
    case EC_ROLE_ADMIN: return 1;
    case EC_ROLE_OPERATOR:
        return (k == EC_KIND_SITE || k == EC_KIND_TARIFF) && !strcmp(x->operator_id, p->org);
    case EC_ROLE_AGENCY:
        return (k == EC_KIND_SITE || k == EC_KIND_SUBSTATION || k == EC_KIND_RENEWABLE) && p->jurisdiction[0] &&
               !strcmp(x->jurisdiction_id, p->jurisdiction);
    default: return 0;
    }
}

/* The id idx names in its reference field, or NULL. */
static const char *ref_of(const ec_reg_index_t *idx, const char *field)
{
    for (int i = 0; idx && i < idx->n_refs; i++)
        if (!strcmp(idx->refs[i].field, field)) return idx->refs[i].id;
    return NULL;
}

/* Copies the string member `member` of object (k, id) into out ("" when it
 * has none). 0 when read, 1 when there is no such object (the reference
 * check answers for it), -1 after answering 500. */
int api__member(ec_api *a, ec_kind k, const char *id, const char *member, char *out, size_t n,
                ec_http_response *res)
{
    ec_buf doc;
    ec_json *j = NULL;
    out[0] = 0;
    ec_buf_init(&doc, EC_REG_DOC_MAX);
    ec_err rc = ec_store_get(a->store, k, id, &doc);
    if (!rc && ec_json_load_buf(doc.data, doc.len, "stored", &j)) rc = EC_ECORRUPT;
    if (!rc) {
        const char *v = ec_json_str(ec_json_get(j, member));
        snprintf(out, n, "%s", v ? v : "");
    }
    ec_json_free(j);
    ec_buf_free(&doc);
    if (rc == EC_ENOTFOUND) return 1;
    if (rc) {
        api__error(res, 500, "store_error", NULL, "the register could not be read");
        return -1;
    }
    return 0;
}

/* What an owner may name: a tariff only its organisation's sites; a site
 * a substation of the site's own jurisdiction, or any when the site has
 * none (checked when the link or the jurisdiction changes, so a link an
 * admin made does not block other edits). */
static int may_name(ec_api *a, const api_principal *p, ec_kind k, const ec_reg_index_t *old,
                    const ec_reg_index_t *new_, ec_http_response *res)
{
    char v[EC_REG_ID_MAX + 1];
    const char *id;
    int r;
    if (p->role == EC_ROLE_ADMIN || !new_) return 0;
    if (k == EC_KIND_TARIFF && (id = ref_of(new_, "site_id"))) {
        if ((r = api__member(a, EC_KIND_SITE, id, "operator_id", v, sizeof v, res))) return r < 0 ? -1 : 0;
        if (strcmp(v, p->org)) {
            api__error(res, 403, "forbidden", "site_id", "site %s is not operated by %s: a tariff names its own sites only",
                       id, p->org);
            return -1;
        }
    }
    if (k == EC_KIND_SITE && (id = ref_of(new_, "substation_id")) && new_->jurisdiction_id[0]) {
        const char *was = ref_of(old, "substation_id");
        if (old && was && !strcmp(was, id) && !strcmp(old->jurisdiction_id, new_->jurisdiction_id)) return 0;
        if ((r = api__member(a, EC_KIND_SUBSTATION, id, "jurisdiction_id", v, sizeof v, res))) return r < 0 ? -1 : 0;
        if (strcmp(v, new_->jurisdiction_id)) {
            api__error(res, 403, "forbidden", "substation_id",
                       "substation %s is not in the site's jurisdiction %s: a site hangs under a substation of its own "
                       "jurisdiction", id, new_->jurisdiction_id);
            return -1;
        }
    }
    return 0;
}

int api__may_write_kind(const api_principal *p, ec_kind k, ec_http_response *res)
{
    if (p->role == EC_ROLE_PUBLIC) return unauthorized(res, "changing the register needs a key");
    int ok = p->role == EC_ROLE_ADMIN ||
             (p->role == EC_ROLE_OPERATOR && (k == EC_KIND_SITE || k == EC_KIND_TARIFF)) ||
             (p->role == EC_ROLE_AGENCY && (k == EC_KIND_SITE || k == EC_KIND_SUBSTATION || k == EC_KIND_RENEWABLE));
    return ok ? 0 : forbidden(res, "a %s key may not change %s", ec_role_name(p->role), ec_kind_name(k));
}

int api__may_write(ec_api *a, const api_principal *p, ec_kind k, const ec_reg_index_t *old,
                   const ec_reg_index_t *new_, ec_http_response *res)
{
    if (p->role == EC_ROLE_PUBLIC) return unauthorized(res, "changing the register needs a key");
    if (!owns(p, k, old) || !owns(p, k, new_)) {
        const char *whose = p->role == EC_ROLE_OPERATOR ? "its own organisation's"
                            : p->role == EC_ROLE_AGENCY  ? "its own jurisdiction's"
                                                         : "no";
        return forbidden(res, "this key may change %s %s only", whose, ec_kind_name(k));
    }
    return may_name(a, p, k, old, new_, res);
}

ec_err api__default_owner(const api_principal *p, ec_kind k, ec_json *in, const ec_reg_index_t *old)
{
    if (!ec_json_is_object(in)) return EC_OK;
    if (p->role == EC_ROLE_OPERATOR && (k == EC_KIND_SITE || k == EC_KIND_TARIFF) && !ec_json_get(in, "operator_id") &&
        (!old || !old->operator_id[0] || !strcmp(old->operator_id, p->org)))
        return ec_json_set_str(in, "operator_id", p->org);
    if (p->role == EC_ROLE_AGENCY && p->jurisdiction[0] &&
        (k == EC_KIND_SITE || k == EC_KIND_SUBSTATION || k == EC_KIND_RENEWABLE) &&
        !ec_json_get(in, "jurisdiction_id") && !old)
        return ec_json_set_str(in, "jurisdiction_id", p->jurisdiction);
    return EC_OK;
}

/* ---- operations: charge points, tokens, sessions (api_sessions.c) ---------------- */

int api__may_see_chargers(const api_principal *p, ec_http_response *res)
{
    if (p->role == EC_ROLE_PUBLIC) return unauthorized(res, "charge points need a key");
    if (p->role != EC_ROLE_ADMIN && p->role != EC_ROLE_OPERATOR)
        return forbidden(res, "a %s key may not see charge points", ec_role_name(p->role));
    return 0;
}

int api__may_see_charger(const api_principal *p, const char *operator_id)
{
    return p->role == EC_ROLE_ADMIN ||
           (p->role == EC_ROLE_OPERATOR && operator_id && !strcmp(p->org, operator_id));
}

const char *api__charger_scope(const api_principal *p)
{
    return p->role == EC_ROLE_ADMIN ? NULL : p->org;
}

int api__may_register_chargers(const api_principal *p, ec_http_response *res)
{
    if (p->role == EC_ROLE_ADMIN || p->role == EC_ROLE_OPERATOR) return 0;
    return forbidden(res, "charge points are registered by their operator or an admin");
}

int api__may_place_charger(const api_principal *p, const char *site_id, const char *site_operator, int placed,
                           ec_http_response *res)
{
    /* A charger drives its site's live status, so it goes on a site its
     * operator runs; a site without an operator belongs to nobody but
     * admins. A charger an admin put on one keeps its place when its
     * operator changes something else. */
    if (!site_operator[0] && placed && p->role != EC_ROLE_ADMIN) {
        api__error(res, 403, "forbidden", "site_id", "site %s has no operator: only an admin registers charge points on it",
                   site_id);
        return -1;
    }
    return 0;
}

int api__charger_operator(const api_principal *p, const char *site_operator, const char *named, char *op, size_t n,
                          ec_http_response *res)
{
    snprintf(op, n, "%s", site_operator[0] ? site_operator : named ? named : p->role == EC_ROLE_OPERATOR ? p->org : "");
    if (!op[0]) {
        api__error(res, 400, "missing_field", "operator_id", "say which operator runs the charge point (operator_id or a site_id)");
        return -1;
    }
    if (named && strcmp(named, op)) {
        api__error(res, 400, "invalid_field", "operator_id", "the site belongs to %s, not %s", op, named);
        return -1;
    }
    if (p->role == EC_ROLE_OPERATOR && strcmp(op, p->org)) {
        api__error(res, 403, "forbidden", "site_id", "an operator registers charge points on its own sites only");
        return -1;
    }
    return 0;
}

int api__may_see_token_group(const api_principal *p)
{
    /* A token's customer group is its issuer's business. */
    return p->role == EC_ROLE_ADMIN;
}

int api__may_see_tokens(const api_principal *p, ec_http_response *res)
{
    if (p->role == EC_ROLE_PUBLIC) return unauthorized(res, "tokens need a key");
    if (p->role != EC_ROLE_ADMIN && p->role != EC_ROLE_FLEET)
        return forbidden(res, "a %s key may not see tokens", ec_role_name(p->role));
    return 0;
}

const char *api__token_scope(const api_principal *p)
{
    return p->role == EC_ROLE_ADMIN ? NULL : p->org;
}

int api__may_issue_tokens(const api_principal *p, ec_http_response *res)
{
    if (p->role == EC_ROLE_ADMIN || p->role == EC_ROLE_FLEET) return 0;
    return forbidden(res, "tokens are issued by a fleet or mobility provider (a fleet key) or an admin");
}

int api__token_issuer(const api_principal *p, const char *was, const char *named, const char **issuer,
                      ec_http_response *res)
{
    if (p->role == EC_ROLE_FLEET) {
        if ((was && strcmp(was, p->org)) || (named && strcmp(named, p->org))) {
            api__error(res, 403, "forbidden", "issuer_id", "a fleet manages the tokens it issued only");
            return -1;
        }
        *issuer = p->org;
        return 0;
    }
    *issuer = named ? named : was;
    return 0;
}

int api__session_scope(const api_principal *p, ec_session_filter_t *f, ec_http_response *res)
{
    memset(f, 0, sizeof *f);
    if (p->role == EC_ROLE_PUBLIC) return unauthorized(res, "sessions, CDRs and settlement need a key");
    if (p->role == EC_ROLE_OPERATOR) f->operator_id = p->org;
    else if (p->role == EC_ROLE_FLEET) f->issuer_id = p->org;
    else if (p->role != EC_ROLE_ADMIN)
        return forbidden(res, "a %s key may not see sessions, CDRs or settlement", ec_role_name(p->role));
    return 0;
}

/* How /api/v1/kpis answers p: 1 with its own figures in full, 0 with the public shape only,
 * -1 not at all. The one rule api__kpi_scope applies and whoami tells the page (api__scope),
 * so that the page never offers figures the hub then refuses. */
static int kpi_access(const api_principal *p)
{
    switch (p->role) {
    case EC_ROLE_ADMIN:
    case EC_ROLE_OPERATOR: return 1;
    /* An agency whose organisation names no jurisdiction has none to see (not the sites
     * that name none either). */
    case EC_ROLE_AGENCY: return p->jurisdiction[0] ? 1 : -1;
    default: return 0;
    }
}

int api__kpi_scope(const api_principal *p, int group, const char **op, const char **jur, int *public_view,
                   ec_http_response *res)
{
    *op = *jur = NULL, *public_view = 0;
    int access = kpi_access(p);
    if (access < 0) return forbidden(res, "this agency's organisation names no jurisdiction");
    if (access > 0) {
        if (p->role == EC_ROLE_OPERATOR) *op = p->org;
        if (p->role == EC_ROLE_AGENCY) *jur = p->jurisdiction;
        return 0;
    }
    /* Everyone else sees one partition only: with two (sites and jurisdictions, or two
     * overlapping periods) one group could be worked out as the difference of others. */
    *public_view = 1;
    if (group != EC_KPI_JURISDICTION)
        return forbidden(res, "without an operator's, agency's or admin's key the figures are given by jurisdiction only "
                              "(group=jurisdiction)");
    return 0;
}

int api__may_see_allocation(const api_principal *p, ec_http_response *res)
{
    return p->role == EC_ROLE_PUBLIC ? unauthorized(res, "the allocation needs a key") : 0;
}

int api__may_plan_session(const api_principal *p, const ec_tx_t *tx, ec_http_response *res)
{
    if (p->role == EC_ROLE_PUBLIC) return unauthorized(res, "a session's plan needs a key");
    if (!tx) return 0; /* the key before the session: without one, which ids exist stays unknown */
    int may = p->role == EC_ROLE_ADMIN || (p->role == EC_ROLE_FLEET && !strcmp(p->org, tx->issuer_id)) ||
              (p->role == EC_ROLE_OPERATOR && !strcmp(p->org, tx->operator_id));
    if (may) return 0;
    return forbidden(res, "the token's fleet, the site's operator or an admin says what a session needs");
}

/* ---- excluded outage time (api_outages.c) ---------------------------------------- */

int api__may_see_outages(const api_principal *p, ec_http_response *res)
{
    if (p->role == EC_ROLE_PUBLIC) return unauthorized(res, "outages need a key");
    if (p->role != EC_ROLE_ADMIN && p->role != EC_ROLE_OPERATOR && p->role != EC_ROLE_AGENCY)
        return forbidden(res, "a %s key may not see or record outages", ec_role_name(p->role));
    return 0;
}

int api__outage_scope(const api_principal *p, ec_outage_filter_t *f)
{
    if (p->role == EC_ROLE_ADMIN) return 0;
    if (p->role == EC_ROLE_OPERATOR && p->org[0]) {
        f->operator_id = p->org;
        return 0;
    }
    /* An agency whose organisation names no jurisdiction has none to see. */
    if (p->role == EC_ROLE_AGENCY && p->jurisdiction[0]) {
        f->jurisdiction_id = p->jurisdiction;
        return 0;
    }
    return 1;
}

int api__may_own_outage(const api_principal *p, const char *site_operator, const char *site_jurisdiction)
{
    switch (p->role) {
    case EC_ROLE_ADMIN: return 1;
    case EC_ROLE_OPERATOR: return p->org[0] && !strcmp(site_operator, p->org);
    case EC_ROLE_AGENCY: return p->jurisdiction[0] && !strcmp(site_jurisdiction, p->jurisdiction);
    default: return 0;
    }
}

/* ---- a site's own figures (api_kpis.c) -------------------------------------------- */

int api__may_see_site_figures(ec_api *a, const api_principal *p, const char *site_id, ec_http_response *res)
{
    if (p->role == EC_ROLE_PUBLIC) return unauthorized(res, "a site's own figures need a key");
    char op[EC_REG_ID_MAX + 1], jur[EC_REG_ID_MAX + 1];
    int r = api__member(a, EC_KIND_SITE, site_id, "operator_id", op, sizeof op, res);
    if (r < 0) return -1;
    if (r > 0) {
        api__error(res, 404, "not_found", NULL, "no site %.60s", site_id);
        return -1;
    }
    if (p->role == EC_ROLE_ADMIN || (p->role == EC_ROLE_OPERATOR && p->org[0] && !strcmp(op, p->org))) return 0;
    if (p->role == EC_ROLE_AGENCY && p->jurisdiction[0]) {
        /* The agency's jurisdiction or one within it, as the KPIs scope an agency: up the
         * parents a few levels at most (a loop in the register ends there). */
        if (api__member(a, EC_KIND_SITE, site_id, "jurisdiction_id", jur, sizeof jur, res) < 0) return -1;
        for (int depth = 0; jur[0] && depth < EC_KPI_WITHIN_DEPTH; depth++) {
            if (!strcmp(jur, p->jurisdiction)) return 0;
            char up[EC_REG_ID_MAX + 1];
            if (api__member(a, EC_KIND_JURISDICTION, jur, "parent_id", up, sizeof up, res) < 0) return -1;
            snprintf(jur, sizeof jur, "%s", up);
        }
    }
    return forbidden(res, "a site's own figures are its operator's, its jurisdiction's agency's and an admin's");
}

/* ---- the register's other doors (api.c) ------------------------------------------ */

int api__may_send_body(const api_principal *p, int import, ec_http_response *res)
{
    /* A body larger than a small one is taken in only from a key that may
     * send it: a stranger's megabytes cost the hub nothing. */
    if (p->role == EC_ROLE_PUBLIC) {
        api__error(res, 401, "unauthorized", NULL, "a request body over %u bytes needs a key", EC_API_BODY_OPEN);
        snprintf(res->www_authenticate, sizeof res->www_authenticate, "Bearer realm=\"ecorridor\"");
        return -1;
    }
    if (import && p->role != EC_ROLE_ADMIN && p->role != EC_ROLE_OPERATOR)
        return forbidden(res, "only operators and admins import register files");
    return 0;
}

int api__may_import(const api_principal *p, const char *named, const char **op, const char **owner,
                    ec_http_response *res)
{
    if (p->role == EC_ROLE_PUBLIC) return unauthorized(res, "importing needs a key");
    *op = named, *owner = NULL;
    if (p->role == EC_ROLE_OPERATOR) {
        if (named && strcmp(named, p->org)) {
            api__error(res, 403, "forbidden", "operator", "an operator imports sites for its own organisation only");
            return -1;
        }
        /* An operator's file may replace its own records only; an admin's any. */
        *op = p->org, *owner = p->org;
        return 0;
    }
    return p->role == EC_ROLE_ADMIN ? 0 : forbidden(res, "only operators and admins import register files");
}

const char *api__only_organisation(const api_principal *p)
{
    /* Fleets and operators see their own organisation only. */
    return p->role == EC_ROLE_FLEET || p->role == EC_ROLE_OPERATOR ? p->org : NULL;
}

int api__may_count_objects(const api_principal *p)
{
    /* The register's object counts only for the roles that read every kind. */
    return p->role == EC_ROLE_ADMIN || p->role == EC_ROLE_AGENCY;
}

int api__key_vouches(const api_principal *p, const char *org)
{
    /* An operator's or a fleet's key was made for its organisation; an
     * admin's names one the register need not hold. */
    return (p->role == EC_ROLE_OPERATOR || p->role == EC_ROLE_FLEET) && org && !strcmp(org, p->org);
}

/* ---- what the web page offers (api_map.c) ------------------------------------------ */

void api__scope(const api_principal *p, api_scope_t *out)
{
    static const char *const key_views[] = {"grid", "dispatch", "planning"};
    memset(out, 0, sizeof *out);
    /* Without a key the map and the public figures; any key adds the views
     * whose requests need one (grid, routes, scenarios). The figures' view
     * only where /api/v1/kpis answers: not for an agency of no jurisdiction. */
    int access = kpi_access(p);
    out->views[out->n_views++] = "map";
    if (access >= 0) out->views[out->n_views++] = "jurisdictions";
    for (int i = 0; p->role != EC_ROLE_PUBLIC && i < 3; i++) out->views[out->n_views++] = key_views[i];
    out->kpi_public = access == 0;
    out->all = p->role == EC_ROLE_ADMIN;
    if (p->role == EC_ROLE_OPERATOR) out->operator_id = p->org;
    if (p->role == EC_ROLE_AGENCY) out->jurisdiction_id = p->jurisdiction;
}

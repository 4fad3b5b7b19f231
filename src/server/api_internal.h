/* api_internal.h - what the REST handler files share. */
#ifndef EC_SERVER_API_INTERNAL_H
#define EC_SERVER_API_INTERNAL_H

#include "hub.h"

/* Who is asking: the key's role and organisation (public: no key). */
typedef struct {
    ec_role role;
    char org[EC_REG_ID_MAX + 1];
    char jurisdiction[EC_REG_ID_MAX + 1]; /* an agency's: its organisation's jurisdiction */
} api_principal;

/* Answers {"error": {...}} with status. */
void api__error(ec_http_response *res, int status, const char *code, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Ends the answer written with w: 0 when it is whole; else the body, cut
 * short by its limit or by memory, is replaced by a 500 and -1 returned.
 * Where an answer is completed, so a truncated document is never sent. */
int api__finish(ec_jw *w, ec_http_response *res);
/* Answers 500 for an answer whose writing failed with rc (logged). */
void api__unwritten(ec_http_response *res, ec_err rc);
/* Answers a request for a principal the caller vouches for, with every rule
 * of the API (the region loader writes the demo register as an admin). */
void api__handle_as(ec_api *a, const api_principal *who, const ec_http_request *req, ec_http_response *res);

/* policy.c: each returns 0 when allowed, else answers 401/403 and returns -1. */
int api__authenticate(ec_api *a, const ec_http_request *req, ec_http_response *res, api_principal *p);
int api__may_route(const api_principal *p, ec_http_response *res);
int api__may_read_kind(const api_principal *p, ec_kind k, ec_http_response *res);
int api__may_read_object(const api_principal *p, ec_kind k, const char *id, ec_http_response *res);
/* Whether the key's role may change this kind at all: checked before the
 * body is read, so a stranger learns nothing from validation. */
int api__may_write_kind(const api_principal *p, ec_kind k, ec_http_response *res);
/* old: the stored object's index (NULL when new); new_: the written one
 * (NULL for a delete). */
int api__may_write(ec_api *a, const api_principal *p, ec_kind k, const ec_reg_index_t *old,
                   const ec_reg_index_t *new_, ec_http_response *res);
/* Copies the string member `member` of object (k, id) into out ("" when
 * absent): 0 when read, 1 when no such object, -1 after answering 500. */
int api__member(ec_api *a, ec_kind k, const char *id, const char *member, char *out, size_t n,
                ec_http_response *res);
/* An operator's new site or tariff is its own, an agency's new asset in its
 * jurisdiction, unless the body says otherwise. */
ec_err api__default_owner(const api_principal *p, ec_kind k, ec_json *in, const ec_reg_index_t *old);

/* policy.c, operations (api_sessions.c): who sees and changes charge
 * points, tokens and sessions. Those taking res answer 401/403 (or 400 for
 * what the body must say) and return -1 when refused, 0 when allowed. */
int api__may_see_chargers(const api_principal *p, ec_http_response *res);
/* 1 when p may see and command a charge point of operator_id: an admin, or that operator. */
int api__may_see_charger(const api_principal *p, const char *operator_id);
/* The operator whose charge points p lists; NULL: every one (an admin). */
const char *api__charger_scope(const api_principal *p);
int api__may_register_chargers(const api_principal *p, ec_http_response *res);
/* A charger newly placed (placed 1) on site_id, whose operator is site_operator ("" none). */
int api__may_place_charger(const api_principal *p, const char *site_id, const char *site_operator, int placed,
                           ec_http_response *res);
/* Whose a charger is, into op: its site's operator (site_operator, "" none),
 * else the one the body names (named, may be NULL), else the operator asking. */
int api__charger_operator(const api_principal *p, const char *site_operator, const char *named, char *op, size_t n,
                          ec_http_response *res);
/* 1 when p may see a token's customer group (its issuer's business). */
int api__may_see_token_group(const api_principal *p);
int api__may_see_tokens(const api_principal *p, ec_http_response *res);
/* The issuer whose tokens p sees; NULL: every one (an admin). */
const char *api__token_scope(const api_principal *p);
int api__may_issue_tokens(const api_principal *p, ec_http_response *res);
/* The issuer given to a token written by p (*issuer, NULL when none is known):
 * a fleet's own organisation, and only for its own tokens; else the one the
 * body names (named), else the stored one (was). */
int api__token_issuer(const api_principal *p, const char *was, const char *named, const char **issuer,
                      ec_http_response *res);
/* The sessions, CDRs and settlement p sees, as a filter (f is reset). */
int api__session_scope(const api_principal *p, ec_session_filter_t *f, ec_http_response *res);
int api__may_see_allocation(const api_principal *p, ec_http_response *res);
/* Who says what a session needs: its token's fleet, its site's operator, an
 * admin. tx NULL: only the key is checked (before the session is looked up). */
int api__may_plan_session(const api_principal *p, const ec_tx_t *tx, ec_http_response *res);

/* policy.c, excluded outage time (api_outages.c): an operator's for the
 * sites it operates, an agency's for its jurisdiction's sites, an admin's
 * for all; fleets and the public see none. */
int api__may_see_outages(const api_principal *p, ec_http_response *res);
/* Narrows f to the outages p sees: 0, or 1 when p sees none at all. */
int api__outage_scope(const api_principal *p, ec_outage_filter_t *f);
/* 1 when p may see and record the outages of a site whose operator and
 * jurisdiction are these ("" when it has none). */
int api__may_own_outage(const api_principal *p, const char *site_operator, const char *site_jurisdiction);

/* policy.c, the register's other doors (api.c). A body over
 * EC_API_BODY_OPEN bytes (import: 1 for /api/v1/import) needs a key that may
 * send it. */
int api__may_send_body(const api_principal *p, int import, ec_http_response *res);
/* An import for the operator named (may be NULL): *op the operator its sites
 * and tariffs get (NULL: as the file says), *owner whose records it may
 * replace (NULL: any, an admin's). */
int api__may_import(const api_principal *p, const char *named, const char **op, const char **owner,
                    ec_http_response *res);
/* The one organisation p lists (its own), or NULL: every one it may read. */
const char *api__only_organisation(const api_principal *p);
/* 1 when /metrics shows p the register's object counts. */
int api__may_count_objects(const api_principal *p);
/* 1 when org is the organisation p's key was made for (an operator's or a
 * fleet's), so it exists without looking it up in the register. */
int api__key_vouches(const api_principal *p, const char *org);

/* api_sessions.c: chargers, tokens, sessions, cdrs, settlement; 1 when rest
 * (the path after /api/v1/) is one of them and the request was answered. */
int api__sessions(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req,
                  ec_http_response *res);

/* Answers 500 for a store that failed (the message logged). */
void api__store_failed(ec_http_response *res);
/* The request's body as a JSON object, or NULL after answering 400. */
ec_json *api__body_object(const ec_http_request *req, ec_http_response *res);
/* The value of query parameter name, or NULL. */
const char *api__arg(const ec_http_request *req, const char *name);
/* Only the named query parameters (allowed: NULL-terminated); 0 when so, else answers 400. */
int api__only_args(const ec_http_request *req, ec_http_response *res, const char *const *allowed);

/* policy.c: the figures p sees of group (api_kpis.c): *op / *jur the one
 * operator's or jurisdiction's ports (NULL: all), *public_view 1 when only
 * what everyone may see (one month, by jurisdiction, small groups merged).
 * 0 when allowed, else answers 403 and returns -1. */
int api__kpi_scope(const api_principal *p, int group, const char **op, const char **jur, int *public_view,
                   ec_http_response *res);
/* What the page may offer a principal: the views it may open, whether
 * /api/v1/kpis answers it only the public shape, and whose sites' private
 * figures (/sites/{id}/utilisation) it may read: all of them, one
 * operator's, or those in a jurisdiction and every one within it. */
typedef struct {
    const char *views[8];
    int n_views;
    int kpi_public;
    int all;
    const char *operator_id;     /* NULL: not one operator's */
    const char *jurisdiction_id; /* an agency's ("" when its organisation names none); NULL otherwise */
} api_scope_t;

/* policy.c: fills *out for p (whose strings it borrows); api_map.c answers /api/v1/whoami with it. */
void api__scope(const api_principal *p, api_scope_t *out);

/* policy.c: whether p may read site_id's own figures (its utilisation by the hour): its
 * operator, an agency over its jurisdiction or one it lies within, an admin. 0 when so, else
 * answers 401, 404 (no such site) or 403 and returns -1. */
int api__may_see_site_figures(ec_api *a, const api_principal *p, const char *site_id, ec_http_response *res);
/* api_kpis.c: GET /api/v1/kpis (and GET /api/v1/sites/{id}/utilisation); 1 when rest is "kpis" and the request was answered.
 * api__kpis_forget drops the answers kept for the public (excluded time changed; the hub stops). */
void api__kpis_forget(void);
int api__kpis(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req, ec_http_response *res);
/* api_outages.c: excluded outage time; 1 when rest is outages or
 * outages/{id} and the request was answered. */
int api__outages(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req,
                 ec_http_response *res);

/* api_scenarios.c: GET /api/v1/scenarios and /api/v1/scenarios/{name}/{file} (the twin's
 * outputs under serve --scenarios DIR); 1 when rest is one of them and the request was answered.
 * api__scenario_name_ok: 1 when s is a scenario's name ([A-Za-z0-9._-], 1 to 64, no leading dot). */
int api__scenarios(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req,
                   ec_http_response *res);
int api__scenario_name_ok(const char *s);

/* api_grid.c: GET /api/v1/substations/{id}/history; 1 when rest is that and the request was answered. */
int api__grid(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req, ec_http_response *res);

/* routes.c: plans on the worker pool for org (the key's organisation, for
 * the pool's limits). */
void api__route(ec_api *a, const char *org, const ec_http_request *req, ec_http_response *res);

#endif

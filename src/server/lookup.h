/* lookup.h - what the OCPP and the REST side both fetch for the engine's
 * rules (ec_engine.h): a token for its authorization, an operator's tariffs
 * for the choice of one, the dynamic price a tariff fixes at the start. Here
 * the store is read; the engine decides. */
#ifndef EC_SERVER_LOOKUP_H
#define EC_SERVER_LOOKUP_H

#include "ecorridor/ec_engine.h"
#include "ecorridor/ec_store.h"

struct smart;

/* Looks up token uid: 1 and *t when known, 0 when not (*t zeroed), -1 on a
 * store error. */
int lookup__token(ec_store *s, const char *uid, ec_token_t *t);

/* The hub's answer for token uid at now_s (ec_engine_authorize), and the
 * token in *tok (zeroed when unknown). start: the question is for a session
 * about to start (StartTransaction, RemoteStartTransaction), so the token's
 * running sessions are counted when it has a limit on them; otherwise they
 * are not (Authorize, StopTransaction). EC_OK, or the store's error. */
ec_err lookup__authorize(ec_store *s, const char *uid, int start, int64_t now_s, ec_token_t *tok,
                         ec_auth_status *st);

/* The tariff a session of a token in group_id ("" none) at a charge point
 * of operator_id on site_id ("" none) gets, as ec_tariff_choose picks it
 * among the operator's tariffs in the register: its document is appended to
 * doc. EC_ENOTFOUND when none applies (the session is free). */
ec_err lookup__tariff(ec_store *s, const char *operator_id, const char *site_id, const char *group_id,
                      ec_buf *doc);

/* A dynamic tariff in doc gets the site's dynamic price at now_s (from the
 * power sharing m, may be NULL: none) fixed into its ENERGY price
 * (ec_tariff_fix_dynamic); other tariffs are left alone. */
ec_err lookup__fix_tariff(struct smart *m, const char *site_id, int64_t now_s, ec_buf *doc);

#endif

/* ec_role.h - who an API key speaks for: the roles of the hub's keys.
 *
 * A role is the policy's word (src/server/policy.c decides what each may see
 * and change) and the store's (a key is stored with its role): it has a
 * header of its own so that neither depends on the other for it. */
#ifndef EC_ROLE_H
#define EC_ROLE_H

/* public: no key; fleet: a fleet or mobility provider, the issuer of tokens;
 * operator: a charge point operator; agency: a public body over a
 * jurisdiction; admin: everything. */
typedef enum { EC_ROLE_PUBLIC, EC_ROLE_FLEET, EC_ROLE_OPERATOR, EC_ROLE_AGENCY, EC_ROLE_ADMIN } ec_role;

/* The role's name as keys, the API and the CLI write it ("operator"); "?"
 * for a value outside the enum. */
const char *ec_role_name(ec_role r);
/* 0 and *out for a role's name, -1 for anything else (NULL too). */
int ec_role_parse(const char *s, ec_role *out);

#endif

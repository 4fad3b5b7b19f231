/* role.c - the roles of API keys by name (ec_role.h). */
#include "ecorridor/ec_role.h"

#include <string.h>

static const char *const role_names[] = {"public", "fleet", "operator", "agency", "admin"};

const char *ec_role_name(ec_role r)
{
    return (int)r >= 0 && r <= EC_ROLE_ADMIN ? role_names[r] : "?";
}

int ec_role_parse(const char *s, ec_role *out)
{
    for (int i = 0; i <= EC_ROLE_ADMIN; i++)
        if (s && !strcmp(s, role_names[i])) {
            *out = (ec_role)i;
            return 0;
        }
    return -1;
}

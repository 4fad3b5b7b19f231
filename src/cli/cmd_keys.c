/* cmd_keys.c - `ecorridor keys create|list|revoke`: API keys and their roles. */
#include "cli.h"
#include "ecorridor/ec_store.h"

#include <string.h>
#include <unistd.h>

static int run_create(int argc, char **argv);
static int run_list(int argc, char **argv);
static int run_revoke(int argc, char **argv);

static const cli_opt create_opts[] = {
    {"db", "FILE", "the register's database (default ./ecorridor.db)"},
    {"role", "ROLE", "admin, agency, operator or fleet"},
    {"org", "ORG", "the organisation id the key speaks for"},
    {"json", NULL, "print JSON"},
    {NULL, NULL, NULL},
};
static const cli_opt list_opts[] = {
    {"db", "FILE", "the register's database (default ./ecorridor.db)"},
    {"json", NULL, "print JSON"},
    {NULL, NULL, NULL},
};
static const cli_opt revoke_opts[] = {
    {"db", "FILE", "the register's database (default ./ecorridor.db)"},
    {NULL, NULL, NULL},
};

const cli_cmd cmd_keys_create = {"keys create", "keys create --role admin|agency|operator|fleet --org ORG [--db FILE]",
                                 "Make an API key; it is shown once, on the last line, and only its hash is kept.",
                                 create_opts, run_create, NULL};
const cli_cmd cmd_keys_list = {"keys list", "keys list [--db FILE] [--json]",
                               "List API keys: id, role, organisation, first characters, revoked.", list_opts,
                               run_list, NULL};
const cli_cmd cmd_keys_revoke = {"keys revoke", "keys revoke ID [--db FILE]",
                                 "Revoke an API key by the id `keys list` shows; it stops working at once.",
                                 revoke_opts, run_revoke, "ID"};

static const char *db_path(const cli_args *a)
{
    return cli_get(a, "db") ? cli_get(a, "db") : "ecorridor.db";
}

static ec_err open_db(const cli_args *a, ec_store **s)
{
    return ec_store_open(db_path(a), s);
}

/* Listing or revoking keys reads a register that is there: opening a path
 * that is not would leave a new empty database behind (in the current
 * directory when --db is left out) and answer as if it held no keys. */
static ec_err open_existing(const cli_args *a, ec_store **s)
{
    const char *path = db_path(a);
    if (access(path, F_OK))
        return ec_fail(EC_ENOTFOUND, "%s: no such database (give the hub's with --db FILE)", path);
    return ec_store_open(path, s);
}

static int run_create(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_keys_create, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    ec_role role;
    const char *r = cli_get(&a, "role"), *org = cli_get(&a, "org");
    if (!r || ec_role_parse(r, &role) || role == EC_ROLE_PUBLIC)
        return cli_usage_error(&cmd_keys_create, "--role must be admin, agency, operator or fleet");
    if (!org || !ec_reg_id_valid(org))
        return cli_usage_error(&cmd_keys_create, "--org must be an organisation id (1 to 36 letters, digits, '.', '_' or '-')");
    ec_store *s;
    ec_err rc = open_db(&a, &s);
    if (rc) return cli_error(rc);
    if (role != EC_ROLE_ADMIN && ec_store_exists(s, EC_KIND_ORGANISATION, org) != 1)
        ec_log(EC_LOG_WARN, "organisation %s is not in the register yet; the key works once it is", org);
    char key[96];
    ec_key_info_t info;
    rc = ec_store_key_create(s, role, org, key, sizeof key, &info);
    ec_store_close(s);
    if (rc) return cli_error(rc);
    if (cli_flag(&a, "json")) {
        cli_json j;
        cli_json_begin(&j);
        ec_jw_obj_begin(&j.w);
        ec_jw_key(&j.w, "id"), ec_jw_int(&j.w, info.id);
        ec_jw_key(&j.w, "role"), ec_jw_str(&j.w, ec_role_name(role));
        ec_jw_key(&j.w, "org"), ec_jw_str(&j.w, org);
        ec_jw_key(&j.w, "key"), ec_jw_str(&j.w, key);
        ec_jw_obj_end(&j.w);
        cli_json_print(&j);
        return EXIT_OK;
    }
    printf("key %lld for %s %s; it is shown only now, keep it safe:\n%s\n", (long long)info.id,
           ec_role_name(role), org, key);
    return EXIT_OK;
}

typedef struct {
    int json;
    ec_jw *w;
} list_ctx;

static void one_key(void *ctx, const ec_key_info_t *k)
{
    list_ctx *c = ctx;
    char t[32];
    ec_time_format_iso(k->created_s, t, sizeof t);
    if (!c->json) {
        printf("%-5lld %-9s %-24s %-14s %s%s\n", (long long)k->id, ec_role_name(k->role), k->org, k->prefix, t,
               k->revoked ? "  revoked" : "");
        return;
    }
    ec_jw_obj_begin(c->w);
    ec_jw_key(c->w, "id"), ec_jw_int(c->w, k->id);
    ec_jw_key(c->w, "role"), ec_jw_str(c->w, ec_role_name(k->role));
    ec_jw_key(c->w, "org"), ec_jw_str(c->w, k->org);
    ec_jw_key(c->w, "prefix"), ec_jw_str(c->w, k->prefix);
    ec_jw_key(c->w, "created"), ec_jw_str(c->w, t);
    ec_jw_key(c->w, "revoked"), ec_jw_bool(c->w, k->revoked);
    ec_jw_obj_end(c->w);
}

static int run_list(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_keys_list, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    ec_store *s;
    ec_err rc = open_existing(&a, &s);
    if (rc) return cli_error(rc);
    cli_json j;
    list_ctx c = {cli_flag(&a, "json"), NULL};
    if (c.json) {
        cli_json_begin(&j);
        c.w = &j.w;
        ec_jw_arr_begin(&j.w);
    } else {
        printf("%-5s %-9s %-24s %-14s %s\n", "id", "role", "org", "key starts", "created");
    }
    rc = ec_store_key_list(s, one_key, &c);
    ec_store_close(s);
    if (c.json) {
        ec_jw_arr_end(&j.w);
        if (rc) ec_buf_free(&j.buf);
        else cli_json_print(&j);
    }
    return rc ? cli_error(rc) : EXIT_OK;
}

static int run_revoke(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_keys_revoke, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    int64_t id;
    if (!a.pos || ec_parse_i64(a.pos, &id) || id < 1)
        return cli_usage_error(&cmd_keys_revoke, "give the key's id as `keys list` shows it");
    ec_store *s;
    ec_err rc = open_existing(&a, &s);
    if (rc) return cli_error(rc);
    rc = ec_store_key_revoke(s, id);
    ec_store_close(s);
    if (rc) return cli_error(rc);
    printf("key %lld revoked\n", (long long)id);
    return EXIT_OK;
}

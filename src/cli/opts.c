/* opts.c - option parsing and help text from the commands' option tables. */
#include "cli.h"
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_geo.h"

#include <stdlib.h>
#include <string.h>

void cli_help(const cli_cmd *cmd, FILE *f)
{
    fprintf(f, "usage: ecorridor %s\n\n%s\n", cmd->usage, cmd->summary);
    if (!cmd->opts || !cmd->opts[0].name) return;
    fprintf(f, "\noptions:\n");
    for (const cli_opt *o = cmd->opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-26s %s\n", left, o->help);
    }
    fprintf(f, "  %-26s %s\n", "--quiet", "no progress bars or informational messages");
    fprintf(f, "  %-26s %s\n", "--help", "show this help");
}

int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ecorridor %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see `ecorridor help %s`)\n", cmd->name);
    return EXIT_USAGE;
}

int cli_error(ec_err rc)
{
    fprintf(stderr, "ecorridor: %s\n", rc == EC_ENOMEM ? ec_strerror(rc) : ec_errmsg());
    return EXIT_FAIL;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->spec = cmd->opts;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            cli_help(cmd, stdout);
            return EXIT_OK + 1;
        }
        if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) {
            ec_progress_set_enabled(0);
            ec_log_set_level(EC_LOG_WARN);
            continue;
        }
        if (strncmp(s, "--", 2) != 0) {
            if (!cmd->positional || a->pos) return cli_usage_error(cmd, "unexpected argument \"%s\"", s);
            a->pos = s;
            continue;
        }
        int k = 0;
        const cli_opt *o = cmd->opts;
        for (; o && o->name; o++, k++)
            if (!strcmp(o->name, s + 2)) break;
        if (!o || !o->name) return cli_usage_error(cmd, "unknown option %s", s);
        if (a->val[k] && !o->repeat) return cli_usage_error(cmd, "%s given twice", s);
        if (o->arg) {
            if (i + 1 >= argc) return cli_usage_error(cmd, "%s needs a value (%s)", s, o->arg);
            a->val[k] = argv[++i];
            if (o->repeat) {
                if (a->n_list == sizeof a->list / sizeof a->list[0])
                    return cli_usage_error(cmd, "%s given more than 64 times", s);
                a->list[a->n_list++] = a->val[k];
            }
        } else {
            a->val[k] = "";
        }
    }
    return -1;
}

static int index_of(const cli_args *a, const char *name)
{
    for (int k = 0; a->spec && a->spec[k].name; k++)
        if (!strcmp(a->spec[k].name, name)) return k;
    return -1;
}

const char *cli_get(const cli_args *a, const char *name)
{
    int k = index_of(a, name);
    return k >= 0 ? a->val[k] : NULL;
}

int cli_flag(const cli_args *a, const char *name)
{
    return cli_get(a, name) != NULL;
}

void cli_json_begin(cli_json *j)
{
    ec_buf_init(&j->buf, 256u << 20);
    ec_jw_init(&j->w, &j->buf);
}

void cli_json_print(cli_json *j)
{
    ec_err rc = ec_jw_finish(&j->w);
    if (rc) {
        /* Half a document on stdout would read as a result: the command
         * fails instead, at the end of its work, with nothing printed. */
        fprintf(stderr, "ecorridor: the JSON output could not be written whole: %s\n", ec_errmsg_of(rc));
        ec_buf_free(&j->buf);
        exit(1);
    }
    puts(j->buf.data ? j->buf.data : "");
    ec_buf_free(&j->buf);
}

#define MAX_BATCH_ROWS 10000000
#define MAX_BATCH_BYTES (512u << 20)

ec_err cli_read_pairs(const char *path, ec_vec *pairs)
{
    static const char *const cols[4] = {"from_lat", "from_lon", "to_lat", "to_lon"};
    char *text;
    size_t len;
    ec_err rc = ec_read_file(path, MAX_BATCH_BYTES, &text, &len);
    if (rc) return rc;
    ec_csv r;
    ec_csv_init(&r, path, text, len, ',');
    int at[4] = {-1, -1, -1, -1};
    if ((rc = ec_csv_next(&r))) {
        if (rc == EC_EOF) rc = ec_fail(EC_EPARSE, "%s: empty file, expected a header", path);
        goto done;
    }
    for (int k = 0; k < 4; k++)
        if ((at[k] = ec_csv_find(&r, cols[k])) < 0) {
            rc = ec_fail(EC_EPARSE, "%s:1: header lacks column %s", path, cols[k]);
            goto done;
        }
    while ((rc = ec_csv_next(&r)) == EC_OK) {
        double v[4];
        for (int k = 0; k < 4; k++)
            if ((size_t)at[k] >= r.nfields || ec_parse_double(r.fields[at[k]], &v[k])) {
                rc = ec_fail(EC_EPARSE, "%s:%ld: %s is not a number", path, r.line, cols[k]);
                goto done;
            }
        ec_latlon_t pr[2] = {{v[0], v[1]}, {v[2], v[3]}};
        if (!ec_geo_valid(pr[0]) || !ec_geo_valid(pr[1])) {
            rc = ec_fail(EC_ERANGE, "%s:%ld: coordinates outside WGS84 range", path, r.line);
            goto done;
        }
        if (pairs->len >= MAX_BATCH_ROWS) {
            rc = ec_fail(EC_ELIMIT, "%s: more than %d rows", path, MAX_BATCH_ROWS);
            goto done;
        }
        if ((rc = ec_vec_push(pairs, pr))) goto done;
    }
    if (rc == EC_EOF) rc = EC_OK;
done:
    ec_csv_free(&r);
    ec_free(text);
    return rc;
}

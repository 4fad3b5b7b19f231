/* cmd_import.c - `ecorridor import`: register files into the database. */
#include "cli.h"
#include "ecorridor/ec_store.h"

#include <string.h>

static int run(int argc, char **argv);

static const cli_opt opts[] = {
    {"db", "FILE", "the register's database (default ./ecorridor.db)"},
    {"format", "F", "csv (ours), geojson, ocm (Open Charge Map POI JSON) or afdc (default: guessed)"},
    {"operator", "ORG", "organisation id every imported site and tariff belongs to"},
    {"json", NULL, "print the summary as JSON"},
    {NULL, NULL, NULL},
};

const cli_cmd cmd_import = {"import", "import [--db FILE] PATH [--format csv|geojson|ocm|afdc] [--operator ORG] [--json]",
                            "Import a register file: all or nothing, and importing it again changes nothing.",
                            opts, run, "PATH"};

static int run(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_import, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    if (!a.pos) return cli_usage_error(&cmd_import, "name the file to import");
    const char *format = cli_get(&a, "format");
    ec_import_format f;
    if (format && ec_import_format_parse(format, &f))
        return cli_usage_error(&cmd_import, "--format must be csv, geojson, ocm or afdc, not \"%s\"", format);
    ec_store *s;
    ec_err rc = ec_store_open(cli_get(&a, "db") ? cli_get(&a, "db") : "ecorridor.db", &s);
    if (rc) return cli_error(rc);
    ec_import_set set;
    ec_import_summary_t sum;
    ec_progress p;
    ec_progress_start(&p, "import", 1000);
    rc = ec_store_import_file(s, a.pos, format, cli_get(&a, "operator"), &set, &sum, &p);
    ec_progress_finish(&p);
    int code = EXIT_OK;
    if (rc) {
        code = cli_error(rc);
    } else if (cli_flag(&a, "json")) {
        cli_json j;
        cli_json_begin(&j);
        ec_jw_obj_begin(&j.w);
        ec_jw_key(&j.w, "file"), ec_jw_str(&j.w, a.pos);
        ec_import_summary_json(&j.w, &set, &sum);
        ec_jw_obj_end(&j.w);
        cli_json_print(&j);
    } else {
        /* One word for what the summary counts and the lines list: notes,
         * each naming its record the way the file does, its reason saying
         * what became of it. --quiet keeps the summary line alone. */
        size_t n = set.skipped.len;
        printf("%s: %zu records: %lld added, %lld updated, %lld unchanged; %zu note%s\n", a.pos, set.n_records,
               (long long)sum.added, (long long)sum.updated, (long long)sum.unchanged, n, n == 1 ? "" : "s");
        size_t shown = ec_log_get_level() >= EC_LOG_WARN ? 0 : n < 20 ? n : 20;
        for (size_t i = 0; i < shown; i++) {
            const ec_import_skip_t *k = &EC_VEC_AT(&set.skipped, ec_import_skip_t, i);
            printf("  %s: %s\n", k->where, k->reason);
        }
        if (shown && n > shown) printf("  ... and %zu more notes (all with --json)\n", n - shown);
    }
    ec_import_set_free(&set);
    ec_store_close(s);
    return code;
}

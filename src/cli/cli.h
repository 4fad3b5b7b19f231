/* cli.h - shared by the subcommands: options declared once, used for parsing and help. */
#ifndef EC_CLI_H
#define EC_CLI_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_json.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

typedef struct {
    const char *name; /* without the leading "--" */
    const char *arg;  /* placeholder of its value, or NULL for a flag */
    const char *help;
    int repeat; /* may be given more than once (values in cli_args.list) */
} cli_opt;

typedef struct {
    const char *name;    /* "graph build" */
    const char *usage;   /* one line */
    const char *summary; /* one sentence */
    const cli_opt *opts; /* NULL-name terminated */
    int (*run)(int argc, char **argv);
    const char *positional; /* name of the one positional argument, or NULL for none */
} cli_cmd;

#define CLI_MAX_OPTS 32

typedef struct {
    const cli_opt *spec;
    const char *val[CLI_MAX_OPTS]; /* value, or "" for a flag that was given */
    const char *pos;               /* the positional argument, if the command takes one */
    const char *list[64];          /* values of the repeatable option */
    size_t n_list;
} cli_args;

/* Parses argv against cmd's options. Prints the error or the help and
 * returns EXIT_USAGE / EXIT_OK+1 (help shown) when the caller should stop;
 * -1 when parsing succeeded. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *a);
/* How the user ran the program (argv[0], e.g. ./build/ecorridor), for
 * commands an output suggests, so that they paste as they are. */
extern const char *cli_program;
const char *cli_get(const cli_args *a, const char *name);
int cli_flag(const cli_args *a, const char *name);
void cli_help(const cli_cmd *cmd, FILE *f);
/* Prints "ecorridor: <message>" for an error and returns EXIT_FAIL. */
int cli_error(ec_err rc);
int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON output: a writer over a buffer, printed as one line. */
typedef struct {
    ec_buf buf;
    ec_jw w;
} cli_json;

void cli_json_begin(cli_json *j);
/* Prints the text and a newline to stdout, then frees the buffer. A
 * document that could not be written whole (ec_jw_finish) is not printed:
 * the process exits 1 with a message on stderr. */
void cli_json_print(cli_json *j);

/* Reads a batch CSV with columns from_lat,from_lon,to_lat,to_lon into pairs
 * (ec_latlon_t[2] per row, initialised by the caller). Every row is checked
 * before any is used; the message names file, line and column. */
ec_err cli_read_pairs(const char *path, ec_vec *pairs);

extern const cli_cmd cmd_graph_build, cmd_graph_export, cmd_graph_info, cmd_route,
    cmd_vehicle_list, cmd_vehicle_show, cmd_serve, cmd_import, cmd_keys_create, cmd_keys_list,
    cmd_keys_revoke, cmd_charge_schedule, cmd_journal_export, cmd_journal_import, cmd_replay,
    cmd_chargers_simulate, cmd_simulate, cmd_plan, cmd_report, cmd_report_nevi, cmd_report_afir;

/* report's --from/--to, the journal's ends when absent: -1 when set, else the exit code. */
struct ec_store;
int cli_report_period(const cli_cmd *cmd, const cli_args *a, struct ec_store *s, int64_t *from_s, int64_t *to_s);

#endif

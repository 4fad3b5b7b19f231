/* main.c - `ecorridor <command>`: dispatch from a table. */
#include "cli.h"

#include <string.h>

#ifndef EC_VERSION
#define EC_VERSION "dev"
#endif

static const cli_cmd *const commands[] = {
    &cmd_serve,       &cmd_import,       &cmd_keys_create,  &cmd_keys_list,
    &cmd_keys_revoke, &cmd_graph_build,  &cmd_graph_export, &cmd_graph_info,
    &cmd_route,       &cmd_vehicle_list, &cmd_vehicle_show, &cmd_charge_schedule,
    &cmd_journal_export, &cmd_journal_import, &cmd_replay, &cmd_chargers_simulate, &cmd_simulate, &cmd_plan,
    /* Two-word commands before a one-word one of the same first word: the first match wins. */
    &cmd_report_afir, &cmd_report_nevi, &cmd_report, NULL};

static void overview(FILE *f)
{
    fprintf(f, "ecorridor %s - the shared platform of an electric freight corridor\n\n"
               "usage: ecorridor <command> [options]\n\ncommands:\n",
            EC_VERSION);
    for (int i = 0; commands[i]; i++) fprintf(f, "  %-17s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "  %-17s %s\n", "help", "help on a command: ecorridor help graph build");
    fprintf(f, "\nexit codes: 0 success, 1 failure, 2 bad usage\n");
}

/* Finds the command named by the first one or two words of argv. */
static const cli_cmd *lookup(int argc, char **argv, int *used)
{
    for (int i = 0; commands[i]; i++) {
        const char *name = commands[i]->name, *sp = strchr(name, ' ');
        if (!sp && argc >= 1 && !strcmp(argv[0], name)) {
            *used = 1;
            return commands[i];
        }
        if (sp && argc >= 2 && !strncmp(argv[0], name, (size_t)(sp - name)) &&
            strlen(argv[0]) == (size_t)(sp - name) && !strcmp(argv[1], sp + 1)) {
            *used = 2;
            return commands[i];
        }
    }
    return NULL;
}

const char *cli_program = "ecorridor";

int main(int argc, char **argv)
{
    if (argc >= 1 && argv[0] && *argv[0]) cli_program = argv[0];
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        overview(stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("ecorridor %s\n", EC_VERSION);
        return EXIT_OK;
    }
    int used = 0;
    if (!strcmp(argv[1], "help")) {
        if (argc == 2) {
            overview(stdout);
            return EXIT_OK;
        }
        const cli_cmd *c = lookup(argc - 2, argv + 2, &used);
        if (!c) {
            fprintf(stderr, "ecorridor: no command \"%s\"\n", argv[2]);
            return EXIT_USAGE;
        }
        cli_help(c, stdout);
        return EXIT_OK;
    }
    const cli_cmd *c = lookup(argc - 1, argv + 1, &used);
    if (!c) {
        if (!strcmp(argv[1], "graph")) {
            fprintf(stderr, "ecorridor graph: expected build, export or info\n");
        } else if (!strcmp(argv[1], "vehicle")) {
            fprintf(stderr, "ecorridor vehicle: expected list or show\n");
        } else if (!strcmp(argv[1], "chargers")) {
            fprintf(stderr, "ecorridor chargers: expected simulate\n");
        } else if (!strcmp(argv[1], "keys")) {
            fprintf(stderr, "ecorridor keys: expected create, list or revoke\n");
        } else {
            fprintf(stderr, "ecorridor: unknown command \"%s\" (try `ecorridor help`)\n", argv[1]);
        }
        return EXIT_USAGE;
    }
    return c->run(argc - 1 - used, argv + 1 + used);
}

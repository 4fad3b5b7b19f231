/* cmd_serve.c - `ecorridor serve`: the regional hub. */
#include "cli.h"
#include "server/server.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef EC_DEMO_REGION
#define EC_DEMO_REGION "data/demo/rhine_alpine"
#endif

static int run(int argc, char **argv);

static const cli_opt opts[] = {
    {"db", "FILE", "the register's database (default ./ecorridor.db; created when absent)"},
    {"listen", "ADDR:PORT", "where to listen (default 127.0.0.1:8080; port 0 picks a free one)"},
    {"region", "DIR", "region loaded into an empty database (default: the bundled demo region)"},
    {"graph", "G.ecg", "road graph for routes (default: built from the region's corridor model)"},
    {NULL, NULL, NULL},
};

const cli_cmd cmd_serve = {"serve", "serve [--db FILE] [--listen ADDR:PORT] [--region DIR] [--graph G.ecg]",
                           "Run the regional hub: the register's REST API, keys and roles, until Ctrl-C.",
                           opts, run, NULL};

/* "127.0.0.1:8080" into host and port. */
static int parse_listen(const char *s, char *host, size_t n, int *port)
{
    const char *colon = strrchr(s, ':');
    int64_t p;
    if (!colon || colon == s || (size_t)(colon - s) >= n || ec_parse_i64(colon + 1, &p) || p < 0 || p > 65535)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    if (!strcmp(host, "localhost")) snprintf(host, n, "127.0.0.1");
    *port = (int)p;
    return 0;
}

static int run(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_serve, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    ec_serve_opts_t o;
    char host[64];
    memset(&o, 0, sizeof o);
    o.db_path = cli_get(&a, "db") ? cli_get(&a, "db") : "ecorridor.db";
    const char *listen = cli_get(&a, "listen") ? cli_get(&a, "listen") : "127.0.0.1:8080";
    if (parse_listen(listen, host, sizeof host, &o.port))
        return cli_usage_error(&cmd_serve, "--listen \"%s\" is not ADDR:PORT like 127.0.0.1:8080", listen);
    o.host = host;
    o.region_dir = cli_get(&a, "region");
    if (!o.region_dir) {
        /* The demo region beside the checkout this binary was built from, or
         * under the current directory. */
        struct stat sb;
        o.region_dir = stat(EC_DEMO_REGION, &sb) == 0 ? EC_DEMO_REGION
                       : stat("data/demo/rhine_alpine", &sb) == 0 ? "data/demo/rhine_alpine"
                                                                  : NULL;
    }
    o.graph_path = cli_get(&a, "graph");
    ec_err rc = ec_serve(&o);
    return rc ? cli_error(rc) : EXIT_OK;
}

/* cmd_serve.c - `ecorridor serve`: the regional hub. */
#include "cli.h"
#include "server/server.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int run(int argc, char **argv);

static int is_dir(const char *p)
{
    struct stat st;
    return p && !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* The dashboard's files where the build puts them (build/web beside
 * build/ecorridor) or where `cmake --install` does (PREFIX/bin/ecorridor and
 * PREFIX/share/ecorridor/web); NULL when neither is there. */
static const char *default_web_dir(char *buf, size_t n)
{
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return NULL;
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = 0;
    if ((size_t)snprintf(buf, n, "%s/web", exe) < n && is_dir(buf)) return buf;
    if ((size_t)snprintf(buf, n, "%s/../share/ecorridor/web", exe) < n && is_dir(buf)) return buf;
    return NULL;
}

static const cli_opt opts[] = {
    {"db", "FILE", "the register's database (default ./ecorridor.db; created when absent)"},
    {"listen", "ADDR:PORT", "where to listen (default 127.0.0.1:8080; port 0 picks a free one)"},
    {"region", "DIR", "region loaded into an empty database, e.g. the demo data/demo/rhine_alpine (default: none, an empty register)"},
    {"graph", "G.ecg", "road graph for routes (default: built from the region's corridor model)"},
    {"web", "DIR", "the dashboard's files (default: web/ beside the program, as the build makes it, or PREFIX/share/ecorridor/web)"},
    {"tls-cert", "FILE", "PEM certificate: serve https:// and wss:// (OCPP security profile 2); needs --tls-key"},
    {"tls-key", "FILE", "PEM private key of --tls-cert"},
    {"heartbeat", "S", "heartbeat interval given to charge points at boot (default 300 s)"},
    {"call-timeout", "S", "how long a command waits for a charge point's answer (default 30 s)"},
    {"auto-register", "ORG", "unknown charge points that boot join this operator (default: refused)"},
    {"max-connections", "N", "connections open at once, in all (default: the open-file limit less 64)"},
    {"max-pending", "N", "connections still sending a request, from one address (default 256)"},
    {"header-timeout", "S", "time for a request's line and headers (default 10 s)"},
    {"idle-timeout", "S", "time a kept-alive connection may wait between requests (default 30 s)"},
    {"tile-url", "URL", "the dashboard's map tiles, http(s)://.../{z}/{x}/{y}.png (default: none, the road graph is the base layer)"},
    {"tile-attribution", "TEXT", "the tiles' attribution the dashboard shows with them, as text (with --tile-url)"},
    {"scenarios", "DIR", "the twin's runs to serve at /api/v1/scenarios: DIR/<name>/ as `simulate --out` writes them (default: none)"},
    {NULL, NULL, NULL},
};

const cli_cmd cmd_serve = {"serve", "serve [--db FILE] [--listen ADDR:PORT] [--region DIR] [--graph G.ecg] [--web DIR] [--scenarios DIR] [--tile-url URL] [--tls-cert F --tls-key F]",
                           "Run the regional hub: the register's REST API and the OCPP 1.6J central system, until Ctrl-C.",
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

/* The tile layer's address and attribution go to every browser that opens
 * the page: bounded, printable, and an address a browser fetches tiles from. */
static int check_tiles(cli_args *a, ec_serve_opts_t *o)
{
    o->tile_url = cli_get(a, "tile-url");
    o->tile_attribution = cli_get(a, "tile-attribution");
    if (o->tile_attribution && !o->tile_url) {
        cli_usage_error(&cmd_serve, "--tile-attribution goes with --tile-url");
        return -1;
    }
    const char *v[] = {o->tile_url, o->tile_attribution}, *name[] = {"--tile-url", "--tile-attribution"};
    for (int i = 0; i < 2; i++) {
        if (!v[i]) continue;
        size_t n = strlen(v[i]);
        int printable = n > 0;
        for (size_t k = 0; k < n && printable; k++) printable = (unsigned char)v[i][k] >= 0x20 && v[i][k] != 0x7f;
        if (n > 512 || !printable) {
            cli_usage_error(&cmd_serve, "%s must be 1 to 512 printable characters", name[i]);
            return -1;
        }
    }
    if (o->tile_url && ((strncmp(o->tile_url, "http://", 7) && strncmp(o->tile_url, "https://", 8)) ||
                        !strstr(o->tile_url, "{z}") || !strstr(o->tile_url, "{x}") || !strstr(o->tile_url, "{y}"))) {
        cli_usage_error(&cmd_serve, "--tile-url \"%s\" is not an http(s) address with {z}, {x} and {y}", o->tile_url);
        return -1;
    }
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
    /* No region unless asked for: the demo region's charge point passwords
     * are published, and a hub of its own must never start with them. */
    o.region_dir = cli_get(&a, "region");
    o.graph_path = cli_get(&a, "graph");
    o.scenarios_dir = cli_get(&a, "scenarios");
    o.program = cli_program;
    o.tls.cert_path = cli_get(&a, "tls-cert");
    o.tls.key_path = cli_get(&a, "tls-key");
    if (!o.tls.cert_path != !o.tls.key_path)
        return cli_usage_error(&cmd_serve, "--tls-cert and --tls-key go together");
    const char *pem[] = {o.tls.cert_path, o.tls.key_path}, *pem_opt[] = {"--tls-cert", "--tls-key"};
    for (int i = 0; i < 2 && o.tls.cert_path; i++) {
        FILE *f = fopen(pem[i], "r");
        char head[32] = "";
        size_t n = f ? fread(head, 1, sizeof head - 1, f) : 0;
        if (f) fclose(f);
        head[n] = 0;
        if (!f) return cli_error(ec_fail(EC_EIO, "%s %s: cannot read it", pem_opt[i], pem[i]));
        if (!strstr(head, "-----BEGIN"))
            return cli_error(ec_fail(EC_EPARSE, "%s %s: not a PEM file (no -----BEGIN line)", pem_opt[i], pem[i]));
    }
    static const char *const secs[] = {"heartbeat", "call-timeout"};
    int *dst[] = {&o.ocpp.heartbeat_s, &o.ocpp.call_timeout_s};
    for (int i = 0; i < 2; i++) {
        const char *v = cli_get(&a, secs[i]);
        int64_t n;
        if (!v) continue;
        if (ec_parse_i64(v, &n) || n < 1 || n > 86400)
            return cli_usage_error(&cmd_serve, "--%s \"%s\" is not a number of seconds from 1 to 86400", secs[i], v);
        *dst[i] = (int)n;
    }
    static const char *const lims[] = {"max-connections", "max-pending", "header-timeout", "idle-timeout"};
    int *ldst[] = {&o.limits.max_connections, &o.limits.max_pending_per_addr, &o.limits.header_timeout_ms,
                   &o.limits.idle_timeout_ms};
    for (int i = 0; i < 4; i++) {
        const char *v = cli_get(&a, lims[i]);
        double x;
        if (!v) continue;
        int in_s = i >= 2;
        if (ec_parse_double(v, &x) || x < (in_s ? 0.1 : 1) || x > (in_s ? 3600 : 1000000))
            return cli_usage_error(&cmd_serve, "--%s \"%s\" is not %s", lims[i], v,
                                   in_s ? "a number of seconds from 0.1 to 3600" : "a count from 1 to 1000000");
        *ldst[i] = in_s ? (int)(x * 1000 + 0.5) : (int)x;
    }
    o.ocpp.auto_register = cli_get(&a, "auto-register");
    if (o.ocpp.auto_register && !ec_reg_id_valid(o.ocpp.auto_register))
        return cli_usage_error(&cmd_serve, "--auto-register \"%s\" is not an organisation id", o.ocpp.auto_register);
    if (check_tiles(&a, &o)) return EXIT_USAGE;
    char webbuf[4200];
    o.web_dir = cli_get(&a, "web");
    if (o.web_dir && !is_dir(o.web_dir)) return cli_usage_error(&cmd_serve, "--web %s: no such directory", o.web_dir);
    if (!o.web_dir && !(o.web_dir = default_web_dir(webbuf, sizeof webbuf)))
        fprintf(stderr, "ecorridor: the dashboard's files are not built (web/ beside the program): / lists the API "
                        "instead; `cmake --build build` makes them (docs/dashboard.md)\n");
    ec_err rc = ec_serve(&o);
    return rc ? cli_error(rc) : EXIT_OK;
}

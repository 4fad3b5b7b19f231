/* static.c - the dashboard's files, read once at start and served from memory.
 *
 * The web directory (build/web: the page's own files and the libraries npm
 * installed, docs/dashboard.md) is walked once; each file's bytes are kept
 * with its content type. A request names a file by its path only: the table
 * is the whole of what can be served, so no request reaches the disk, and no
 * path (a "..", a directory) can name anything else; symbolic links in the
 * directory are skipped, so none leads out of it. */
#include "static.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char *path;        /* "/app/main.js" */
    char *data;
    size_t len;
    const char *type;
} static_file;

struct static_files {
    static_file *f;
    size_t n, cap, bytes;
};

static const char *type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"}, {".png", "image/png"}, {".ico", "image/x-icon"},
        {".json", "application/json"}, {".geojson", "application/geo+json"}, {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"}, {".webp", "image/webp"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext)) return types[i].type;
    return NULL; /* not served: source maps, licences, package files */
}

static ec_err add_file(static_files *sf, const char *full, const char *rel, size_t size)
{
    const char *type = type_of(rel);
    if (!type) return EC_OK;
    if (sf->n == STATIC_FILES_MAX)
        return ec_fail(EC_ELIMIT, "--web: more than %d files to serve (at %s)", STATIC_FILES_MAX, full);
    if (size > STATIC_BYTES_MAX - sf->bytes)
        return ec_fail(EC_ELIMIT, "--web: more than %u MiB to serve (at %s)", STATIC_BYTES_MAX >> 20, full);
    if (sf->n == sf->cap) {
        size_t cap = sf->cap ? 2 * sf->cap : 64;
        static_file *f = ec_realloc(sf->f, cap * sizeof *f);
        if (!f) return EC_ENOMEM;
        sf->f = f, sf->cap = cap;
    }
    static_file *f = &sf->f[sf->n];
    memset(f, 0, sizeof *f);
    f->type = type;
    f->path = ec_strdup(rel);
    f->data = ec_malloc(size + 1);
    if (!f->path || !f->data) {
        ec_free(f->path), ec_free(f->data);
        return EC_ENOMEM;
    }
    FILE *fp = fopen(full, "rb");
    size_t got = fp ? fread(f->data, 1, size, fp) : 0;
    int bad = !fp || got != size || ferror(fp);
    if (fp) fclose(fp);
    if (bad) {
        ec_free(f->path), ec_free(f->data);
        return ec_fail(EC_EIO, "--web: %s: cannot be read", full);
    }
    f->len = size;
    sf->bytes += size;
    sf->n++;
    return EC_OK;
}

static ec_err walk(static_files *sf, const char *dir, const char *rel, int depth)
{
    if (depth > STATIC_DEPTH_MAX) return ec_fail(EC_ELIMIT, "--web: %s: nested deeper than %d", dir, STATIC_DEPTH_MAX);
    DIR *d = opendir(dir);
    if (!d) return ec_fail(EC_EIO, "--web: %s: %s", dir, strerror(errno));
    ec_err rc = EC_OK;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        const char *n = de->d_name;
        if (n[0] == '.') continue; /* ., .., and hidden files are never served */
        char full[4096], r[1024];
        if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, n) >= sizeof full ||
            (size_t)snprintf(r, sizeof r, "%s/%s", rel, n) >= sizeof r)
            continue;
        struct stat st;
        if (lstat(full, &st)) continue; /* a symbolic link is not followed: it could lead out of dir */
        if (S_ISDIR(st.st_mode)) rc = walk(sf, full, r, depth + 1);
        else if (S_ISREG(st.st_mode)) rc = add_file(sf, full, r, (size_t)st.st_size);
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const static_file *)a)->path, ((const static_file *)b)->path);
}

void static__free(static_files *sf)
{
    if (!sf) return;
    for (size_t i = 0; i < sf->n; i++) ec_free(sf->f[i].path), ec_free(sf->f[i].data);
    ec_free(sf->f);
    ec_free(sf);
}

ec_err static__load(const char *dir, static_files **out)
{
    *out = NULL;
    static_files *sf = ec_calloc(1, sizeof *sf);
    if (!sf) return EC_ENOMEM;
    ec_err rc = walk(sf, dir, "", 0);
    if (rc) {
        static__free(sf);
        return rc;
    }
    if (sf->n) qsort(sf->f, sf->n, sizeof *sf->f, by_path);
    *out = sf;
    return EC_OK;
}

size_t static__count(const static_files *sf)
{
    return sf ? sf->n : 0;
}

static const static_file *find(const static_files *sf, const char *path)
{
    static_file key = {.path = (char *)path};
    return sf && sf->n ? bsearch(&key, sf->f, sf->n, sizeof *sf->f, by_path) : NULL;
}

int static__serve(const static_files *sf, const ec_http_request *req, ec_http_response *res)
{
    const char *path = req->path;
    if (!sf || !strncmp(path, "/api/", 5)) return 0;
    const static_file *f = NULL;
    if (!strcmp(path, "/")) f = find(sf, "/index.html");
    else if (!strcmp(path, "/favicon.ico") && !(f = find(sf, path))) f = find(sf, "/favicon.svg");
    else f = find(sf, path);
    if (!f) return 0;
    if (req->method != EC_HTTP_GET && req->method != EC_HTTP_HEAD) {
        ec_buf_printf(&res->body, "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"%s takes GET\",\"field\":\"\"}}",
                      f->path);
        res->status = 405;
        return 1;
    }
    ec_buf_append(&res->body, f->data, f->len);
    res->content_type = f->type;
    /* The page runs only what it brought: its own scripts and styles, the hub's API, and
     * images (a configured tile server's too); it is never framed by another site. */
    res->headers = "X-Content-Type-Options: nosniff\r\n"
                   "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                   "img-src 'self' data: blob: https: http:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                   "frame-ancestors 'none'\r\n";
    res->status = 200;
    return 1;
}

/* api_scenarios.c - the corridor twin's runs over HTTP (serve --scenarios
 * DIR): GET /api/v1/scenarios lists DIR/<name>/ with each one's
 * summary.json and which of the files below it holds, GET
 * /api/v1/scenarios/{name}/{file} gives one of the twin's output files
 * (docs/twin.md "Outputs") or of a plan's (ecorridor plan --out, whose
 * folder also holds the planned network's day). Any key.
 *
 * Names are checked before any path is made ([A-Za-z0-9._-], at most 64,
 * not starting with a dot), files come from a fixed list and neither they
 * nor their run's folder are followed when a link, so no request reaches
 * outside DIR. Files are
 * read on a worker (the read lane), up to SCENARIO_FILE_MAX: the loop never
 * waits on a disk. */
#include "api_internal.h"
#include "work.h"

#include "ecorridor/ec_json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCENARIO_NAME_MAX 64
#define SCENARIO_FILE_MAX (64u << 20) /* a twin's largest output (trips.csv of a year's day) */
#define SCENARIO_SUMMARY_MAX (1u << 20)
#define SCENARIOS_MAX 256 /* listed at once, the first by name */

static const struct {
    const char *name, *type;
} files[] = {
    {"summary.json", "application/json"},
    {"sites.csv", "text/csv; charset=utf-8"},
    {"segments.csv", "text/csv; charset=utf-8"},
    {"segments.geojson", "application/geo+json"},
    {"substations.csv", "text/csv; charset=utf-8"},
    {"trips.csv", "text/csv; charset=utf-8"},
    /* a plan's (docs/plan.md) */
    {"plan.json", "application/json"},
    {"upgrades.csv", "text/csv; charset=utf-8"},
    {"shared_vs_duplicated.csv", "text/csv; charset=utf-8"},
    {"cost_shares.csv", "text/csv; charset=utf-8"},
    {"resilience.csv", "text/csv; charset=utf-8"},
    {"tco.csv", "text/csv; charset=utf-8"},
};
#define N_FILES (sizeof files / sizeof *files)

int api__scenario_name_ok(const char *s)
{
    size_t n = 0;
    if (!s || s[0] == '.') return 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return n >= 1 && n <= SCENARIO_NAME_MAX;
}

typedef struct {
    work_job job;
    const char *dir; /* the hub's --scenarios, which outlives the job */
    char name[SCENARIO_NAME_MAX + 1];
    int file; /* into files[]; -1: the list */
} scen_job;

/* Reads DIR/name/file (a regular file, not through a link) into out, refusing one over max:
 * EC_ENOTFOUND when absent, EC_ELIMIT when too large, EC_EIO. Neither the run's folder nor the
 * file is followed if it is a link (a folder linked to elsewhere would lead out of DIR), and
 * the file is opened without waiting (a named pipe would hold the worker until someone
 * wrote to it). */
static ec_err read_output(const char *dir, const char *name, const char *file, size_t max, ec_buf *out)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int nfd = dfd < 0 ? -1 : openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int fd = nfd < 0 ? -1 : openat(nfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int err = errno;
    if (dfd >= 0) close(dfd);
    if (nfd >= 0) close(nfd);
    if (fd < 0) return err == ENOENT || err == ELOOP || err == ENOTDIR ? EC_ENOTFOUND : EC_EIO;
    struct stat st;
    ec_err rc = EC_OK;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) rc = EC_ENOTFOUND;
    else if ((uint64_t)st.st_size > max) rc = EC_ELIMIT;
    char buf[65536];
    size_t total = 0;
    while (!rc) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = EC_EIO;
        if (n <= 0) break;
        total += (size_t)n;
        /* A file that grew while read is refused too. */
        if (total > max) rc = EC_ELIMIT;
        else rc = ec_buf_append(out, buf, (size_t)n);
    }
    close(fd);
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The files of the list that DIR/name/ holds as regular files, not links (as read_output would
 * open them), into the writer as an array: the page then asks for no file that is absent. */
static void write_files(ec_jw *w, const char *dir, const char *name)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int nfd = dfd < 0 ? -1 : openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    ec_jw_arr_begin(w);
    for (size_t f = 0; nfd >= 0 && f < N_FILES; f++) {
        struct stat st;
        if (!fstatat(nfd, files[f].name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode))
            ec_jw_str(w, files[f].name);
    }
    ec_jw_arr_end(w);
    if (dfd >= 0) close(dfd);
    if (nfd >= 0) close(nfd);
}

/* {"scenarios":[{"name","summary","files"}]}: each DIR/<name>/ with a summary.json that is a JSON
 * object, and the files of the list it holds. */
static void list(const scen_job *x, ec_http_response *res)
{
    char (*names)[SCENARIO_NAME_MAX + 1] = NULL;
    size_t n = 0;
    DIR *d = x->dir ? opendir(x->dir) : NULL;
    if (x->dir && !d) ec_log(EC_LOG_WARN, "scenarios: %s cannot be read: %s", x->dir, strerror(errno));
    if (d && !(names = ec_malloc(SCENARIOS_MAX * sizeof *names))) {
        closedir(d);
        api__error(res, 503, "busy", NULL, "the hub cannot take this now; try again shortly");
        return;
    }
    /* The first SCENARIOS_MAX names in order: each one past them replaces the largest kept. */
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!api__scenario_name_ok(e->d_name)) continue;
        if (n < SCENARIOS_MAX) {
            snprintf(names[n++], sizeof names[0], "%.64s", e->d_name);
            continue;
        }
        size_t big = 0;
        for (size_t i = 1; i < n; i++)
            if (strcmp(names[i], names[big]) > 0) big = i;
        if (strcmp(e->d_name, names[big]) < 0) snprintf(names[big], sizeof names[0], "%.64s", e->d_name);
    }
    if (d) closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_name);
    ec_jw w;
    ec_jw_init(&w, &res->body);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "scenarios"), ec_jw_arr_begin(&w);
    ec_buf doc;
    ec_buf_init(&doc, SCENARIO_SUMMARY_MAX + 1);
    for (size_t i = 0; i < n; i++) {
        ec_buf_reset(&doc);
        ec_json *j = NULL;
        ec_err rc = read_output(x->dir, names[i], "summary.json", SCENARIO_SUMMARY_MAX, &doc);
        if (!rc) rc = ec_json_load_buf(doc.data, doc.len, "summary.json", &j);
        if (!rc && ec_json_typeof(j) != EC_JSON_OBJECT) rc = EC_EPARSE;
        if (rc) {
            /* A folder without a twin's summary (or a run still writing one) is not a scenario. */
            if (rc != EC_ENOTFOUND) ec_log(EC_LOG_WARN, "scenarios: %s/%s/summary.json left out: %s", x->dir, names[i], ec_strerror(rc));
            ec_json_free(j);
            continue;
        }
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "name"), ec_jw_str(&w, names[i]);
        ec_jw_key(&w, "summary"), ec_jw_value(&w, j);
        ec_jw_key(&w, "files"), write_files(&w, x->dir, names[i]);
        ec_jw_obj_end(&w);
        ec_json_free(j);
    }
    ec_buf_free(&doc);
    ec_free(names);
    ec_jw_arr_end(&w);
    ec_jw_obj_end(&w);
    if (api__finish(&w, res)) return;
    res->status = 200;
    res->content_type = "application/json";
}

static void answer(const scen_job *x, ec_http_response *res)
{
    if (x->file < 0) {
        list(x, res);
        return;
    }
    ec_err rc = read_output(x->dir, x->name, files[x->file].name, SCENARIO_FILE_MAX, &res->body);
    if (rc == EC_ENOTFOUND) {
        ec_buf_reset(&res->body);
        api__error(res, 404, "not_found", NULL, "scenario %s has no %s", x->name, files[x->file].name);
        return;
    }
    if (rc) {
        ec_buf_reset(&res->body);
        ec_log(EC_LOG_ERROR, "scenarios: %s/%s/%s: %s", x->dir, x->name, files[x->file].name,
               rc == EC_ELIMIT ? "larger than the hub serves" : ec_strerror(rc));
        api__error(res, 500, rc == EC_ELIMIT ? "too_large" : "io_error", NULL,
                   rc == EC_ELIMIT ? "%s of scenario %s is larger than %u MiB, which the hub does not serve"
                                   : "%s of scenario %s cannot be read",
                   files[x->file].name, x->name, SCENARIO_FILE_MAX >> 20);
        return;
    }
    res->status = 200;
    res->content_type = files[x->file].type;
}

static void scen_run(work_job *j)
{
    answer((scen_job *)j, &j->res);
}

static void scen_release(work_job *j)
{
    ec_free(j);
}

int api__scenarios(ec_api *a, const api_principal *p, const char *rest, const ec_http_request *req,
                   ec_http_response *res)
{
    static const char head[] = "scenarios";
    if (strncmp(rest, head, sizeof head - 1) || (rest[sizeof head - 1] && rest[sizeof head - 1] != '/')) return 0;
    const char *tail = rest + sizeof head - 1;
    if (req->method != EC_HTTP_GET && req->method != EC_HTTP_HEAD) {
        api__error(res, 405, "method_not_allowed", NULL, "scenarios take GET");
        return 1;
    }
    static const char *const none[] = {NULL};
    if (api__only_args(req, res, none)) return 1;
    if (p->role == EC_ROLE_PUBLIC) {
        api__error(res, 401, "unauthorized", NULL, "the twin's scenarios need a key");
        snprintf(res->www_authenticate, sizeof res->www_authenticate, "Bearer realm=\"ecorridor\"");
        return 1;
    }
    scen_job x;
    memset(&x, 0, sizeof x);
    x.dir = a->scenarios_dir, x.file = -1;
    if (*tail && strcmp(tail, "/")) {
        /* scenarios/{name}/{file} */
        const char *name = tail + 1, *slash = strchr(name, '/');
        size_t nl = slash ? (size_t)(slash - name) : 0;
        int ok = slash && nl <= SCENARIO_NAME_MAX;
        if (ok) {
            memcpy(x.name, name, nl);
            x.name[nl] = 0;
            ok = api__scenario_name_ok(x.name);
        }
        for (size_t i = 0; ok && i < N_FILES; i++)
            if (!strcmp(slash + 1, files[i].name)) x.file = (int)i;
        if (!ok || x.file < 0 || !x.dir) {
            api__error(res, 404, "not_found", NULL,
                       "no such scenario file: scenarios/{name}/{file} where file is summary.json, sites.csv, "
                       "segments.csv, segments.geojson, substations.csv, trips.csv, plan.json, upgrades.csv, "
                       "shared_vs_duplicated.csv, cost_shares.csv, resilience.csv or tco.csv");
            return 1;
        }
    }
    if (!a->work) { /* no pool: here */
        answer(&x, res);
        return 1;
    }
    scen_job *j = ec_calloc(1, sizeof *j);
    if (!j) {
        api__error(res, 503, "busy", NULL, "the hub cannot take this now; try again shortly");
        return 1;
    }
    *j = x;
    ec_buf_init(&j->job.res.body, SCENARIO_FILE_MAX + (1u << 20));
    j->job.run = scen_run;
    j->job.release = scen_release;
    work__submit(a->work, &j->job, WORK_READ, p->org, req, res);
    return 1;
}

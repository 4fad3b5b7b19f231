/* fuzz_api.c - the REST handlers as a request reaches them: the input is
 * "METHOD PATH?QUERY\nAUTHORIZATION\nBODY", against one in-memory store that
 * lives across inputs (so writes meet earlier writes); a key line "ADMIN"
 * stands for the admin key made at the start. Every answer must be
 * valid JSON with a status the API documents. */
#include "server/api.h"
#include "server/api_internal.h"
#include "server/ocpp.h"

#include <string.h>

static ec_api api;
static char admin_key[96]; /* an input whose key line is "ADMIN" uses it */
static uv_loop_t loop;     /* never run: the central system is there for the handlers that ask it */

static void once(void)
{
    if (api.store) return;
    ec_log_set_level(EC_LOG_OFF);
    if (ec_store_open(":memory:", &api.store)) __builtin_trap();
    ec_key_info_t info;
    ec_store_key_create(api.store, EC_ROLE_ADMIN, "admin", admin_key, sizeof admin_key, &info);
    ocpp_opts_t o;
    memset(&o, 0, sizeof o);
    if (uv_loop_init(&loop) || ocpp__new(&loop, api.store, &o, &api.ocpp)) __builtin_trap();
}

static void split_query(ec_http_request *r, const char *q, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && q[i] != '&') continue;
        size_t len = i - start;
        if (len && r->n_args < EC_HTTP_MAX_ARGS && len < EC_HTTP_MAX_ARG) {
            memcpy(r->args[r->n_args], q + start, len);
            r->args[r->n_args++][len] = 0;
        } else if (len) {
            r->args_overflow = 1;
        }
        start = i + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    once();
    static ec_http_request req;
    memset(&req, 0, sizeof req);
    const char *p = (const char *)data, *end = p + size;
    const char *nl = memchr(p, '\n', size);
    if (!nl) return 0;
    const char *sp = memchr(p, ' ', (size_t)(nl - p));
    if (!sp) return 0;
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"};
    req.method = EC_HTTP_OTHER;
    for (int i = 0; i < 7; i++)
        if ((size_t)(sp - p) == strlen(methods[i]) && !memcmp(p, methods[i], strlen(methods[i]))) req.method = i;
    const char *path = sp + 1, *q = memchr(path, '?', (size_t)(nl - path));
    size_t plen = (size_t)((q ? q : nl) - path);
    if (plen >= sizeof req.path) return 0;
    memcpy(req.path, path, plen);
    if (q) split_query(&req, q + 1, (size_t)(nl - q - 1));
    const char *auth = nl + 1, *nl2 = memchr(auth, '\n', (size_t)(end - auth));
    if (!nl2) nl2 = end;
    size_t alen = (size_t)(nl2 - auth);
    if (alen >= sizeof req.authorization) alen = sizeof req.authorization - 1;
    memcpy(req.authorization, auth, alen);
    if (alen == 5 && !memcmp(auth, "ADMIN", 5)) snprintf(req.authorization, sizeof req.authorization, "Bearer %s", admin_key);
    ec_buf body;
    ec_buf_init(&body, EC_API_IMPORT_MAX);
    if (nl2 < end) ec_buf_append(&body, nl2 + 1, (size_t)(end - nl2 - 1));
    req.body = body.data ? body.data : "";
    req.body_len = body.len;
    ec_http_response res;
    memset(&res, 0, sizeof res);
    ec_buf_init(&res.body, 256u << 20);
    api__handle(&api, &req, &res);
    /* No 500: an in-memory store does not fail, so one would be our bug. */
    static const int ok[] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 503};
    int known = 0;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) known |= res.status == ok[i];
    if (!known) __builtin_trap();
    if (res.body.len && strcmp(req.path, "/metrics") != 0 &&
        !(res.content_type && !strncmp(res.content_type, "text/csv", 8))) {
        ec_json *j;
        if (ec_json_load_buf(res.body.data, res.body.len, "answer", &j)) __builtin_trap();
        ec_json_free(j);
    }
    ec_buf_free(&res.body);
    ec_buf_free(&body);
    return 0;
}

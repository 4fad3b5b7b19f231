/* api_error.c - the one shape of a REST error answer,
 * {"error": {"code", "message", "field"}}, which every handler file and the
 * worker pool's jobs write: a file of its own, so that they all depend on it
 * and it on none of them. */
#include "api_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void api__error(ec_http_response *res, int status, const char *code, const char *field,
                const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ec_buf_reset(&res->body);
    res->status = status;
    res->content_type = "application/json";
    ec_jw w;
    ec_jw_init(&w, &res->body);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "error");
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "code"), ec_jw_str(&w, code);
    ec_jw_key(&w, "message"), ec_jw_str(&w, msg);
    ec_jw_key(&w, "field"), ec_jw_str(&w, field ? field : "");
    ec_jw_obj_end(&w);
    ec_jw_obj_end(&w);
}

void api__unwritten(ec_http_response *res, ec_err rc)
{
    ec_log(EC_LOG_ERROR, "api: an answer (status %d) could not be written whole: %s", res->status, ec_errmsg_of(rc));
    api__error(res, 500, "internal", NULL, "the answer could not be written whole: %s", ec_strerror(rc));
}

int api__finish(ec_jw *w, ec_http_response *res)
{
    ec_err rc = ec_jw_finish(w);
    if (!rc) return 0;
    api__unwritten(res, rc);
    return -1;
}

const char *api__arg(const ec_http_request *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->n_args; i++)
        if (!strncmp(req->args[i], name, n) && req->args[i][n] == '=') return req->args[i] + n + 1;
    return NULL;
}

int api__only_args(const ec_http_request *req, ec_http_response *res, const char *const *allowed)
{
    for (size_t i = 0; i < req->n_args; i++) {
        const char *eq = strchr(req->args[i], '=');
        size_t n = eq ? (size_t)(eq - req->args[i]) : strlen(req->args[i]);
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++) ok = strlen(*a) == n && !strncmp(*a, req->args[i], n);
        if (!ok) {
            api__error(res, 400, "unknown_parameter", NULL, "unknown query parameter \"%.*s\"", (int)(n > 60 ? 60 : n),
                       req->args[i]);
            return -1;
        }
    }
    if (req->args_overflow) {
        api__error(res, 400, "invalid_parameter", NULL, "too many or too long query parameters");
        return -1;
    }
    return 0;
}

void api__store_failed(ec_http_response *res)
{
    ec_log(EC_LOG_ERROR, "store: %s", ec_errmsg());
    api__error(res, 500, "store_error", NULL, "the store could not be read or written");
}

ec_json *api__body_object(const ec_http_request *req, ec_http_response *res)
{
    ec_json *j = NULL;
    if (!req->body_len || ec_json_load_buf(req->body, req->body_len, "body", &j)) {
        api__error(res, 400, "invalid_json", NULL, "%s", req->body_len ? ec_errmsg() : "the request needs a JSON body");
        return NULL;
    }
    if (!ec_json_is_object(j)) {
        ec_json_free(j);
        api__error(res, 400, "invalid_json", NULL, "the body must be a JSON object");
        return NULL;
    }
    return j;
}

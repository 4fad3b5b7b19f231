/* api_error.c - the one shape of a REST error answer,
 * {"error": {"code", "message", "field"}}, which every handler file and the
 * worker pool's jobs write: a file of its own, so that they all depend on it
 * and it on none of them. */
#include "api_internal.h"

#include <stdarg.h>
#include <stdio.h>

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

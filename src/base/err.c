/* err.c - error codes and the per-thread message of the last failure. */
#include "ecorridor/ec_base.h"

#include <stdio.h>

static const char *const messages[EC_ERR_COUNT] = {
    [EC_OK] = "success",
    [EC_ENOMEM] = "out of memory",
    [EC_EIO] = "input/output error",
    [EC_EPARSE] = "malformed input",
    [EC_ERANGE] = "value out of range",
    [EC_ELIMIT] = "input exceeds a limit",
    [EC_ENOTFOUND] = "not found",
    [EC_EINVAL] = "invalid argument",
    [EC_EVERSION] = "unsupported format version",
    [EC_ECORRUPT] = "corrupt data",
    [EC_EUNREACHABLE] = "unreachable",
    [EC_EOF] = "end of input",
};

static _Thread_local char last_msg[1024];
/* The code of the ec_fail() that wrote last_msg; meaningless when it is empty. */
static _Thread_local ec_err last_code;

const char *ec_strerror(ec_err e)
{
    if ((int)e < 0 || e >= EC_ERR_COUNT) return "unknown error";
    return messages[e];
}

ec_err ec_fail(ec_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    last_code = code;
    return code;
}

const char *ec_errmsg(void)
{
    return last_msg[0] ? last_msg : "no details";
}

const char *ec_errmsg_of(ec_err code)
{
    return last_msg[0] && last_code == code ? last_msg : ec_strerror(code);
}

void ec_errclear(void)
{
    last_msg[0] = '\0';
}

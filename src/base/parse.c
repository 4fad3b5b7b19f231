/* parse.c - strict number parsing and whole-file reading. */
#include "ecorridor/ec_base.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int ec_parse_double(const char *s, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int ec_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return -1;
    *out = (int64_t)v;
    return 0;
}

ec_err ec_read_file(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ec_fail(EC_EIO, "%s: cannot open: %s", path, strerror(errno));
    ec_buf b;
    ec_buf_init(&b, max);
    char chunk[65536];
    size_t n;
    ec_err rc = EC_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        rc = ec_buf_append(&b, chunk, n);
        if (rc == EC_ELIMIT) {
            rc = ec_fail(EC_ELIMIT, "%s: file larger than the %zu bytes accepted", path, max);
            break;
        }
        if (rc) break;
    }
    if (!rc && ferror(f)) rc = ec_fail(EC_EIO, "%s: read error", path);
    fclose(f);
    if (!rc && !b.data) rc = ec_buf_append(&b, "", 0);
    if (rc) {
        ec_buf_free(&b);
        return rc;
    }
    *out = b.data;
    if (len) *len = b.len;
    return EC_OK;
}

size_t ec_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

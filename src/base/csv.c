/* csv.c - RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF. */
#include "ecorridor/ec_csv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ec_csv_init(ec_csv *r, const char *name, const char *src, size_t len, char sep)
{
    memset(r, 0, sizeof *r);
    r->name = name;
    r->src = src;
    r->len = len;
    r->sep = sep ? sep : ',';
}

void ec_csv_free(ec_csv *r)
{
    ec_free(r->rec);
    r->rec = NULL;
    r->rec_cap = 0;
}

static ec_err put(ec_csv *r, size_t *n, char c)
{
    if (*n + 1 >= EC_CSV_MAX_RECORD)
        return ec_fail(EC_ELIMIT, "%s:%ld: record longer than %u bytes", r->name, r->line,
                       EC_CSV_MAX_RECORD);
    void *p = r->rec;
    if (ec_grow(&p, &r->rec_cap, *n + 2, 1)) return EC_ENOMEM;
    r->rec = p;
    r->rec[(*n)++] = c;
    return EC_OK;
}

ec_err ec_csv_next(ec_csv *r)
{
    ec_err rc;
    r->nfields = 0;
    /* Skip blank lines between records. */
    while (r->pos < r->len && (r->src[r->pos] == '\n' || r->src[r->pos] == '\r')) {
        if (r->src[r->pos] == '\n') r->line++;
        r->pos++;
    }
    if (r->pos >= r->len) return EC_EOF;
    r->line++;
    size_t n = 0, line_start = r->pos;
    size_t starts[EC_CSV_MAX_FIELDS];
    for (;;) {
        if (r->nfields == EC_CSV_MAX_FIELDS)
            return ec_fail(EC_ELIMIT, "%s:%ld: more than %d fields", r->name, r->line,
                           EC_CSV_MAX_FIELDS);
        starts[r->nfields++] = n;
        if (r->pos < r->len && r->src[r->pos] == '"') {
            size_t qcol = r->pos - line_start + 1;
            r->pos++;
            for (;;) {
                if (r->pos >= r->len)
                    return ec_fail(EC_EPARSE, "%s:%ld:%zu: unterminated quoted field", r->name,
                                   r->line, qcol);
                char c = r->src[r->pos++];
                if (c == '\n') r->line++;
                if (c == '"') {
                    if (r->pos < r->len && r->src[r->pos] == '"') {
                        r->pos++;
                    } else {
                        break;
                    }
                }
                if ((rc = put(r, &n, c))) return rc;
            }
            if (r->pos < r->len && r->src[r->pos] != r->sep && r->src[r->pos] != '\n' &&
                r->src[r->pos] != '\r')
                return ec_fail(EC_EPARSE, "%s:%ld:%zu: unexpected character after closing quote",
                               r->name, r->line, r->pos - line_start + 1);
        } else {
            while (r->pos < r->len) {
                char c = r->src[r->pos];
                if (c == r->sep || c == '\n' || c == '\r') break;
                if (c == '"')
                    return ec_fail(EC_EPARSE, "%s:%ld:%zu: quote inside an unquoted field",
                                   r->name, r->line, r->pos - line_start + 1);
                if (c == '\0')
                    return ec_fail(EC_EPARSE, "%s:%ld:%zu: NUL byte in input", r->name, r->line,
                                   r->pos - line_start + 1);
                if ((rc = put(r, &n, c))) return rc;
                r->pos++;
            }
        }
        if ((rc = put(r, &n, '\0'))) return rc;
        if (r->pos < r->len && r->src[r->pos] == r->sep) {
            r->pos++;
            continue;
        }
        if (r->pos < r->len && r->src[r->pos] == '\r') r->pos++;
        if (r->pos < r->len && r->src[r->pos] == '\n') r->pos++;
        break;
    }
    for (size_t i = 0; i < r->nfields; i++) r->fields[i] = r->rec + starts[i];
    return EC_OK;
}

int ec_csv_find(const ec_csv *r, const char *field)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (strcmp(r->fields[i], field) == 0) return (int)i;
    return -1;
}

ec_err ec_csv_number(const ec_csv *r, int col, const char *what, double lo, double hi, double *out)
{
    const char *s = r->fields[col];
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo || v > hi)
        return ec_fail(EC_EPARSE, "%s:%ld: %s \"%.40s\" is not a number from %g to %g", r->name, r->line, what, s, lo, hi);
    *out = v;
    return EC_OK;
}

void ec_csv_field(ec_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        ec_buf_puts(b, s);
        return;
    }
    ec_buf_puts(b, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"') ec_buf_puts(b, "\"");
        ec_buf_append(b, p, 1);
    }
    ec_buf_puts(b, "\"");
}

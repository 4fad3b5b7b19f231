/* ec_csv.h - an RFC 4180 CSV reader with limits and line/column errors. */
#ifndef EC_CSV_H
#define EC_CSV_H

#include "ecorridor/ec_base.h"

#define EC_CSV_MAX_FIELDS 256
#define EC_CSV_MAX_RECORD (1u << 20) /* bytes in one record */

typedef struct {
    const char *name; /* file name used in messages (borrowed) */
    const char *src;  /* whole input (borrowed) */
    size_t len, pos;
    long line;        /* line of the record just read (1-based) */
    char *rec;        /* unescaped fields of the current record, NUL-separated */
    size_t rec_cap;
    char *fields[EC_CSV_MAX_FIELDS];
    size_t nfields;
    char sep;
} ec_csv;

/* Reads from a memory buffer; src must outlive the reader. */
void ec_csv_init(ec_csv *r, const char *name, const char *src, size_t len, char sep);
/* Reads the next record. EC_OK with r->fields/r->nfields set, EC_EOF at the end,
 * EC_EPARSE/EC_ELIMIT with a "name:line:col: ..." message. Blank lines are skipped. */
ec_err ec_csv_next(ec_csv *r);
/* Index of a header field in the current record, or -1. */
int ec_csv_find(const ec_csv *r, const char *field);
void ec_csv_free(ec_csv *r);
/* The number in field col of the current record, within [lo, hi]; else
 * EC_EPARSE naming the file, line and `what`. */
ec_err ec_csv_number(const ec_csv *r, int col, const char *what, double lo, double hi, double *out);
/* Appends s as one CSV field: as it is, or quoted (quotes doubled) when it
 * holds a comma, a quote or a line break. */
void ec_csv_field(ec_buf *b, const char *s);

#endif

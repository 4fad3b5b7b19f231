/* ec_base.h - errors, allocation, buffers, containers, logging, time, progress.
 *
 * Everything else in ecorridor stands on this header. Functions that can fail
 * return ec_err (EC_OK == 0); a failure a user can cause also leaves a message
 * naming the input and what was wrong, read with ec_errmsg().
 */
#ifndef EC_BASE_H
#define EC_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------ */

typedef enum {
    EC_OK = 0,
    EC_ENOMEM,      /* out of memory */
    EC_EIO,         /* a file could not be opened, read or written */
    EC_EPARSE,      /* malformed input */
    EC_ERANGE,      /* a value outside its allowed range */
    EC_ELIMIT,      /* input larger than we accept */
    EC_ENOTFOUND,   /* a named thing does not exist */
    EC_EINVAL,      /* bad argument */
    EC_EVERSION,    /* a file written by another format version */
    EC_ECORRUPT,    /* a checksum or structure check failed */
    EC_EUNREACHABLE,/* no path exists */
    EC_EOF,         /* end of input (not an error for iterators) */
    EC_ERR_COUNT
} ec_err;

/* Returns a short, static description of an error code. */
const char *ec_strerror(ec_err e);

/* Records a message for the calling thread and returns code, so a parser can
 * write `return ec_fail(EC_EPARSE, "%s:%d: expected ...", path, line);`. */
ec_err ec_fail(ec_err code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The calling thread's message from its last ec_fail() since ec_errclear(),
 * or "no details" when there was none (a failure that did not go through
 * ec_fail, as an allocation's EC_ENOMEM or a full ec_buf's EC_ELIMIT, leaves
 * no message). Never NULL. */
const char *ec_errmsg(void);
/* The message for a failure that returned code: the calling thread's last
 * ec_fail() message when that ec_fail() was for the same code and came after
 * the last ec_errclear(), else ec_strerror(code)'s text. Never NULL; never a
 * message left over from a failure of another kind. */
const char *ec_errmsg_of(ec_err code);
/* Forgets the calling thread's message. */
void ec_errclear(void);

/* ---- allocation -------------------------------------------------------- */

/* All allocation goes through these so tests can count and fail it. */
void *ec_malloc(size_t n);
void *ec_calloc(size_t count, size_t n);
void *ec_realloc(void *p, size_t n);
void ec_free(void *p);
char *ec_strdup(const char *s);
/* Grows *p to hold at least need elements of elem bytes (doubling). */
ec_err ec_grow(void **p, size_t *cap, size_t need, size_t elem);

typedef struct {
    long allocs; /* successful ec_malloc/calloc/realloc(NULL)/strdup calls */
    long frees;  /* ec_free of non-NULL pointers */
} ec_alloc_stats_t;

ec_alloc_stats_t ec_alloc_stats(void);
/* After n more successful allocations every allocation fails; -1 turns it off. */
void ec_alloc_fail_after(long n);

/* ---- bounded growable buffer ------------------------------------------ */

/* The buffer remembers its first failure, as curl's dynbuf does: once an
 * append fails (EC_ELIMIT past max, EC_ENOMEM, EC_EINVAL from a bad format)
 * the buffer is failed, its text stays what it was before that append, and
 * every later append does nothing and returns the same error. So a document
 * written by many unchecked appends is either whole or known to be broken:
 * check ec_buf_error() (or ec_jw_finish()) once before the text is used.
 * ec_buf_reset() and ec_buf_free() clear the failure. */
typedef struct {
    char *data;   /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max;   /* hard limit on len; appends past it fail with EC_ELIMIT */
    ec_err err;   /* the first failure since init, reset or free; EC_OK if none */
} ec_buf;

void ec_buf_init(ec_buf *b, size_t max);
ec_err ec_buf_append(ec_buf *b, const void *p, size_t n);
ec_err ec_buf_puts(ec_buf *b, const char *s);
ec_err ec_buf_printf(ec_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The first failure of an append since init, reset or free; EC_OK if none. */
ec_err ec_buf_error(const ec_buf *b);
/* Empties the buffer (keeping its memory) and clears its failure. */
void ec_buf_reset(ec_buf *b);
void ec_buf_free(ec_buf *b);

/* ---- vector of fixed-size elements ------------------------------------ */

typedef struct {
    void *data;
    size_t len;
    size_t cap;
    size_t elem; /* element size in bytes */
} ec_vec;

void ec_vec_init(ec_vec *v, size_t elem);
ec_err ec_vec_reserve(ec_vec *v, size_t n);
ec_err ec_vec_push(ec_vec *v, const void *elem);
#define EC_VEC_AT(v, type, i) (((type *)(v)->data)[i])
void ec_vec_free(ec_vec *v);

/* ---- hash map: uint64 key -> uint64 value ----------------------------- */

typedef struct {
    uint64_t *keys;
    uint64_t *vals;
    uint8_t *used;
    size_t cap; /* power of two */
    size_t len;
} ec_map;

ec_err ec_map_init(ec_map *m, size_t expect);
/* Inserts or replaces. */
ec_err ec_map_put(ec_map *m, uint64_t key, uint64_t val);
/* Returns 1 and sets *val when found, else 0. */
int ec_map_get(const ec_map *m, uint64_t key, uint64_t *val);
void ec_map_free(ec_map *m);

/* 64-bit hash of a byte string (FNV-1a), for string-keyed maps. */
uint64_t ec_hash_bytes(const void *p, size_t n);

/* ---- logging ----------------------------------------------------------- */

typedef enum { EC_LOG_DEBUG, EC_LOG_INFO, EC_LOG_WARN, EC_LOG_ERROR, EC_LOG_OFF } ec_log_level;

void ec_log_set_level(ec_log_level lvl);
ec_log_level ec_log_get_level(void);
/* One line per event to stderr: "2026-11-23T21:00:00Z warn message". */
void ec_log(ec_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- time -------------------------------------------------------------- */

int64_t ec_time_now_s(void);  /* wall clock, seconds since the Unix epoch, UTC */
int64_t ec_time_mono_ns(void); /* monotonic clock for measuring */
/* Writes "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void ec_time_format_iso(int64_t t_s, char *out, size_t n);

/* Parses an RFC 3339 date-time ("2026-12-01T10:00:00.000Z", "...+01:00",
 * fractions dropped, a leap second read as :59) into Unix seconds; 0 on
 * success. What OCPP and the API accept. */
int ec_time_parse_rfc3339(const char *s, int64_t *t_s);
/* Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian). */
int64_t ec_days_from_civil(int y, int m, int d);
/* Parses RFC 3339 or the shorter "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC) into *t_s;
 * 0 on success. Accepts everything ec_time_parse_rfc3339 does, so a time the
 * API let in always reads back. */
int ec_time_parse_iso(const char *s, int64_t *t_s);

/* ---- progress bar ------------------------------------------------------ */

typedef struct {
    const char *label;
    uint64_t total;
    uint64_t done;
    int64_t start_ns;
    int64_t last_draw_ns;
    int enabled; /* drawn only when stderr is a terminal and not quiet */
} ec_progress;

/* Global switch (the --quiet flag turns progress off). */
void ec_progress_set_enabled(int on);
void ec_progress_start(ec_progress *p, const char *label, uint64_t total);
void ec_progress_update(ec_progress *p, uint64_t done);
void ec_progress_finish(ec_progress *p);

/* ---- small parsing helpers -------------------------------------------- */

/* Parses a whole string as a finite double / integer; 0 on success. */
int ec_parse_double(const char *s, double *out);
int ec_parse_i64(const char *s, int64_t *out);
/* Characters in s, which must be valid UTF-8 (as text the JSON reader
 * accepted is): every byte but a continuation byte starts one. */
size_t ec_utf8_chars(const char *s);

/* Reads a whole file into a new NUL-terminated buffer (free with ec_free),
 * refusing files over max bytes. */
ec_err ec_read_file(const char *path, size_t max, char **out, size_t *len);

#ifdef __cplusplus
}
#endif
#endif

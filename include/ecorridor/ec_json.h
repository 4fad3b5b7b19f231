/* ec_json.h - reading JSON (over jansson) and writing it (a streaming writer).
 *
 * Only src/base/json.c knows jansson; the rest of ecorridor sees ec_json as an
 * opaque handle.
 */
#ifndef EC_JSON_H
#define EC_JSON_H

#include "ecorridor/ec_base.h"

typedef struct ec_json ec_json;

/* Parses a file of at most max_bytes. Returns new (free with ec_json_free).
 * On failure the message names the file, line and column. */
ec_err ec_json_load_file(const char *path, size_t max_bytes, ec_json **out);
ec_err ec_json_load_str(const char *text, const char *name, ec_json **out);
/* Parses exactly len bytes (a NUL inside is an error, not the end). */
ec_err ec_json_load_buf(const char *text, size_t len, const char *name, ec_json **out);
void ec_json_free(ec_json *j);

int ec_json_is_object(const ec_json *j);
/* Borrowed child of an object, or NULL. */
ec_json *ec_json_get(const ec_json *obj, const char *key);
/* Typed getters for an object's member. When the member is absent and
 * required is 0, *out is left unchanged and EC_OK returned. A wrong type is
 * EC_EPARSE with a message naming `where` and the key. */
ec_err ec_json_get_number(const ec_json *obj, const char *key, int required, const char *where,
                          double *out);
ec_err ec_json_get_bool(const ec_json *obj, const char *key, int required, const char *where,
                        int *out);
/* *out is borrowed from obj. */
ec_err ec_json_get_string(const ec_json *obj, const char *key, int required, const char *where,
                          const char **out);
/* Arrays: size (0 for a non-array) and borrowed element. */
int ec_json_is_array(const ec_json *j);
size_t ec_json_array_size(const ec_json *j);
ec_json *ec_json_array_get(const ec_json *j, size_t i);
/* 0 and the value when j is a number. */
int ec_json_number(const ec_json *j, double *out);
/* Iterates keys: returns NULL when done. */
const char *ec_json_key_at(const ec_json *obj, size_t i);

/* The kind of a value, for validators that must name what they found. */
typedef enum {
    EC_JSON_NULL,
    EC_JSON_BOOL,
    EC_JSON_INTEGER, /* a number written without fraction or exponent */
    EC_JSON_REAL,
    EC_JSON_STRING,
    EC_JSON_ARRAY,
    EC_JSON_OBJECT
} ec_json_type;

/* EC_JSON_NULL also for NULL (an absent member or element). */
ec_json_type ec_json_typeof(const ec_json *j);
const char *ec_json_type_name(ec_json_type t);
/* The string of a string value (borrowed), else NULL. */
const char *ec_json_str(const ec_json *j);
/* The truth of a boolean value; 0 for anything else. */
int ec_json_true(const ec_json *j);
/* Iterates an object's members in their order: *key and *val borrowed; the
 * iterator starts as NULL and the call returns 0 when done. */
int ec_json_object_next(const ec_json *obj, void **iter, const char **key, ec_json **val);
/* Sets obj[key] to a string (obj must be an object the caller owns). */
ec_err ec_json_set_str(ec_json *obj, const char *key, const char *val);
/* Sets a number member (finite only). */
ec_err ec_json_set_num(ec_json *obj, const char *key, double val);

/* Streaming writer into an ec_buf. Commas are placed automatically. The
 * writing calls return nothing: a failure sticks to the buffer (see ec_buf)
 * or to the writer, and ec_jw_finish() reports it once, at the end. */
typedef struct {
    ec_buf *out;
    int depth;
    uint64_t need_comma; /* bit per depth */
    int after_key;
    ec_err misuse; /* EC_EINVAL once the calls did not nest; EC_OK if they did */
} ec_jw;

/* Borrows out for the writer's life; writes after what out already holds. */
void ec_jw_init(ec_jw *w, ec_buf *out);
/* Ends a document: EC_OK when every append reached the buffer and every
 * object, array and key was closed; else the buffer's first failure
 * (EC_ELIMIT, EC_ENOMEM), or EC_EINVAL for unbalanced nesting (with a
 * message). A document whose finish fails is cut short and must be neither
 * sent nor stored. Writes nothing. */
ec_err ec_jw_finish(ec_jw *w);
void ec_jw_obj_begin(ec_jw *w);
void ec_jw_obj_end(ec_jw *w);
void ec_jw_arr_begin(ec_jw *w);
void ec_jw_arr_end(ec_jw *w);
void ec_jw_key(ec_jw *w, const char *key);
void ec_jw_str(ec_jw *w, const char *s);
void ec_jw_num(ec_jw *w, double v, int decimals);
/* v as the shortest decimal that reads back as the same double (null when not finite). */
void ec_jw_real(ec_jw *w, double v);
void ec_jw_int(ec_jw *w, int64_t v);
void ec_jw_bool(ec_jw *w, int v);
void ec_jw_null(ec_jw *w);
/* Appends already-encoded JSON text as one value. */
void ec_jw_raw(ec_jw *w, const char *json);
/* Writes a value as compact JSON into the writer (as one value). */
void ec_jw_value(ec_jw *w, const ec_json *j);


#endif

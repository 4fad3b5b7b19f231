/* json.c - the one file that knows jansson, plus a streaming JSON writer. */
#include "ecorridor/ec_json.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ec_json; /* an ec_json * is a json_t * */

#define J(p) ((json_t *)(p))

static ec_err from_error(const json_error_t *e, const char *name)
{
    return ec_fail(EC_EPARSE, "%s:%d:%d: invalid JSON: %s", name, e->line, e->column, e->text);
}

ec_err ec_json_load_str(const char *text, const char *name, ec_json **out)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
    if (!j) return from_error(&e, name);
    *out = (ec_json *)j;
    return EC_OK;
}

ec_err ec_json_load_buf(const char *text, size_t len, const char *name, ec_json **out)
{
    json_error_t e;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    if (!j) return from_error(&e, name);
    *out = (ec_json *)j;
    return EC_OK;
}

ec_err ec_json_load_file(const char *path, size_t max_bytes, ec_json **out)
{
    char *text;
    ec_err rc = ec_read_file(path, max_bytes, &text, NULL);
    if (rc) return rc;
    rc = ec_json_load_str(text, path, out);
    ec_free(text);
    return rc;
}

void ec_json_free(ec_json *j)
{
    if (j) json_decref(J(j));
}

int ec_json_is_object(const ec_json *j)
{
    return j && json_is_object(J(j));
}

ec_json *ec_json_get(const ec_json *obj, const char *key)
{
    if (!ec_json_is_object(obj)) return NULL;
    return (ec_json *)json_object_get(J(obj), key);
}

const char *ec_json_key_at(const ec_json *obj, size_t i)
{
    if (!ec_json_is_object(obj)) return NULL;
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(J(obj), key, v)
    {
        (void)v;
        if (k++ == i) return key;
    }
    return NULL;
}

int ec_json_is_array(const ec_json *j)
{
    return j && json_is_array(J(j));
}

size_t ec_json_array_size(const ec_json *j)
{
    return ec_json_is_array(j) ? json_array_size(J(j)) : 0;
}

ec_json *ec_json_array_get(const ec_json *j, size_t i)
{
    return ec_json_is_array(j) ? (ec_json *)json_array_get(J(j), i) : NULL;
}

int ec_json_number(const ec_json *j, double *out)
{
    if (!j || !json_is_number(J(j))) return -1;
    *out = json_number_value(J(j));
    return 0;
}

static ec_err missing(const char *where, const char *key)
{
    return ec_fail(EC_EPARSE, "%s: missing required field \"%s\"", where, key);
}

ec_err ec_json_get_number(const ec_json *obj, const char *key, int required, const char *where,
                          double *out)
{
    json_t *v = J(ec_json_get(obj, key));
    if (!v) return required ? missing(where, key) : EC_OK;
    if (!json_is_number(v))
        return ec_fail(EC_EPARSE, "%s: field \"%s\" must be a number", where, key);
    *out = json_number_value(v);
    return EC_OK;
}

ec_err ec_json_get_bool(const ec_json *obj, const char *key, int required, const char *where,
                        int *out)
{
    json_t *v = J(ec_json_get(obj, key));
    if (!v) return required ? missing(where, key) : EC_OK;
    if (!json_is_boolean(v))
        return ec_fail(EC_EPARSE, "%s: field \"%s\" must be true or false", where, key);
    *out = json_is_true(v);
    return EC_OK;
}

ec_err ec_json_get_string(const ec_json *obj, const char *key, int required, const char *where,
                          const char **out)
{
    json_t *v = J(ec_json_get(obj, key));
    if (!v) return required ? missing(where, key) : EC_OK;
    if (!json_is_string(v))
        return ec_fail(EC_EPARSE, "%s: field \"%s\" must be a string", where, key);
    *out = json_string_value(v);
    return EC_OK;
}

ec_json_type ec_json_typeof(const ec_json *j)
{
    if (!j) return EC_JSON_NULL; /* an absent member or element */
    switch (json_typeof(J(j))) {
    case JSON_OBJECT: return EC_JSON_OBJECT;
    case JSON_ARRAY: return EC_JSON_ARRAY;
    case JSON_STRING: return EC_JSON_STRING;
    case JSON_INTEGER: return EC_JSON_INTEGER;
    case JSON_REAL: return EC_JSON_REAL;
    case JSON_TRUE:
    case JSON_FALSE: return EC_JSON_BOOL;
    default: return EC_JSON_NULL;
    }
}

const char *ec_json_type_name(ec_json_type t)
{
    static const char *const names[] = {"null",   "boolean", "integer", "number",
                                        "string", "array",   "object"};
    return names[t];
}

const char *ec_json_str(const ec_json *j)
{
    return j && json_is_string(J(j)) ? json_string_value(J(j)) : NULL;
}

int ec_json_true(const ec_json *j)
{
    return j && json_is_true(J(j));
}

int ec_json_object_next(const ec_json *obj, void **iter, const char **key, ec_json **val)
{
    if (!ec_json_is_object(obj)) return 0;
    void *it = *iter ? json_object_iter_next(J(obj), *iter) : json_object_iter(J(obj));
    if (!it) return 0;
    *iter = it;
    *key = json_object_iter_key(it);
    *val = (ec_json *)json_object_iter_value(it);
    return 1;
}

/* ---- writer ------------------------------------------------------------ */

void ec_jw_init(ec_jw *w, ec_buf *out)
{
    w->out = out;
    w->depth = 0;
    w->need_comma = 0;
    w->after_key = 0;
    w->misuse = EC_OK;
}

ec_err ec_jw_finish(ec_jw *w)
{
    ec_err rc = ec_buf_error(w->out);
    if (rc) return rc;
    if (w->misuse) return ec_fail(EC_EINVAL, "JSON writer: a close without its open, or nesting past 63 levels");
    if (w->depth || w->after_key)
        return ec_fail(EC_EINVAL, "JSON writer: the document ends with %d level(s) open%s", w->depth,
                       w->after_key ? " and a key without its value" : "");
    return EC_OK;
}

/* Emits the separator a new value needs at the current depth. */
static void before_value(ec_jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    uint64_t bit = 1ULL << (w->depth & 63);
    if (w->need_comma & bit) ec_buf_append(w->out, ",", 1);
    w->need_comma |= bit;
}

static void open_(ec_jw *w, char c)
{
    before_value(w);
    ec_buf_append(w->out, &c, 1);
    w->depth++;
    /* One comma bit per level: past 63 levels the bits would alias. */
    if (w->depth > 63) w->misuse = EC_EINVAL;
    w->need_comma &= ~(1ULL << (w->depth & 63));
}

static void close_(ec_jw *w, char c)
{
    if (w->depth <= 0 || w->after_key) {
        w->misuse = EC_EINVAL;
        return;
    }
    w->depth--;
    ec_buf_append(w->out, &c, 1);
}

void ec_jw_obj_begin(ec_jw *w)
{
    open_(w, '{');
}
void ec_jw_obj_end(ec_jw *w)
{
    close_(w, '}');
}
void ec_jw_arr_begin(ec_jw *w)
{
    open_(w, '[');
}
void ec_jw_arr_end(ec_jw *w)
{
    close_(w, ']');
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one. */
static int utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n <= 1) return n;
    uint32_t cp = c & (0x7F >> n);
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* Writes s as a JSON string. Bytes that are not UTF-8 (input echoed in an
 * error message, say) become U+FFFD, so the output is always valid JSON. */
static void put_string(ec_buf *b, const char *s)
{
    ec_buf_append(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *run = p;
    /* Plain bytes go out in runs; only escapes and bad bytes stop a run. */
    while (*p) {
        if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
            p++;
            continue;
        }
        int n = *p >= 0x80 ? utf8_len(p) : 1;
        if (n > 1) {
            p += n;
            continue;
        }
        if (p > run) ec_buf_append(b, run, (size_t)(p - run));
        if (n == 0) {
            ec_buf_append(b, "\\ufffd", 6);
        } else {
            switch (*p) {
            case '"': ec_buf_append(b, "\\\"", 2); break;
            case '\\': ec_buf_append(b, "\\\\", 2); break;
            case '\n': ec_buf_append(b, "\\n", 2); break;
            case '\r': ec_buf_append(b, "\\r", 2); break;
            case '\t': ec_buf_append(b, "\\t", 2); break;
            default: ec_buf_printf(b, "\\u%04x", *p);
            }
        }
        run = ++p;
    }
    if (p > run) ec_buf_append(b, run, (size_t)(p - run));
    ec_buf_append(b, "\"", 1);
}

void ec_jw_key(ec_jw *w, const char *key)
{
    before_value(w);
    put_string(w->out, key);
    ec_buf_append(w->out, ":", 1);
    w->after_key = 1;
}

void ec_jw_str(ec_jw *w, const char *s)
{
    before_value(w);
    put_string(w->out, s);
}

void ec_jw_num(ec_jw *w, double v, int decimals)
{
    before_value(w);
    if (!isfinite(v))
        ec_buf_puts(w->out, "null");
    else
        ec_buf_printf(w->out, "%.*f", decimals, v);
}

void ec_jw_int(ec_jw *w, int64_t v)
{
    before_value(w);
    ec_buf_printf(w->out, "%lld", (long long)v);
}

void ec_jw_bool(ec_jw *w, int v)
{
    before_value(w);
    ec_buf_puts(w->out, v ? "true" : "false");
}

void ec_jw_null(ec_jw *w)
{
    before_value(w);
    ec_buf_puts(w->out, "null");
}

void ec_jw_raw(ec_jw *w, const char *json)
{
    before_value(w);
    ec_buf_puts(w->out, json);
}

/* The shortest of %.15g..%.17g that reads back as the same double: 0.45
 * stays 0.45, and every double survives a round trip. */
static void put_real(ec_buf *b, double v)
{
    char t[40];
    if (v == 0) v = 0.0; /* -0 would come back as the integer 0: write 0 at once */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v) break;
    }
    ec_buf_puts(b, t); /* %g writes valid JSON numbers ("1e-07", "0.45") */
}

void ec_jw_real(ec_jw *w, double v)
{
    if (!isfinite(v)) {
        ec_jw_null(w);
        return;
    }
    before_value(w);
    put_real(w->out, v);
}

void ec_jw_value(ec_jw *w, const ec_json *j)
{
    const char *key;
    json_t *v;
    size_t i;
    switch (json_typeof(J(j))) {
    case JSON_OBJECT:
        ec_jw_obj_begin(w);
        json_object_foreach(J(j), key, v)
        {
            ec_jw_key(w, key);
            ec_jw_value(w, (const ec_json *)v);
        }
        ec_jw_obj_end(w);
        return;
    case JSON_ARRAY:
        ec_jw_arr_begin(w);
        json_array_foreach(J(j), i, v) ec_jw_value(w, (const ec_json *)v);
        ec_jw_arr_end(w);
        return;
    case JSON_STRING: ec_jw_str(w, json_string_value(J(j))); return;
    case JSON_INTEGER: ec_jw_int(w, json_integer_value(J(j))); return;
    case JSON_REAL:
        ec_jw_real(w, json_real_value(J(j)));
        return;
    case JSON_TRUE:
    case JSON_FALSE: ec_jw_bool(w, json_is_true(J(j))); return;
    default: ec_jw_null(w);
    }
}

ec_err ec_json_set_str(ec_json *obj, const char *key, const char *val)
{
    if (!ec_json_is_object(obj)) return EC_EINVAL;
    return json_object_set_new(J(obj), key, json_string(val)) == 0 ? EC_OK : EC_ENOMEM;
}

ec_err ec_json_set_num(ec_json *obj, const char *key, double val)
{
    if (!ec_json_is_object(obj) || !isfinite(val)) return EC_EINVAL;
    return json_object_set_new(J(obj), key, json_real(val)) == 0 ? EC_OK : EC_ENOMEM;
}

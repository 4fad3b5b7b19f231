/* buf.c - growable byte buffer with a hard maximum, and a plain vector. */
#include "ecorridor/ec_base.h"

#include <string.h>

void ec_buf_init(ec_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->err = EC_OK;
}

/* Marks the buffer failed with its first error and returns it. */
static ec_err buf__failed(ec_buf *b, ec_err rc)
{
    if (!b->err) b->err = rc;
    return b->err;
}

ec_err ec_buf_append(ec_buf *b, const void *p, size_t n)
{
    if (b->err) return b->err;
    if (n > b->max || b->len > b->max - n) return buf__failed(b, EC_ELIMIT);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap;
        void *d = b->data;
        if (ec_grow(&d, &cap, b->len + n + 1, 1)) return buf__failed(b, EC_ENOMEM);
        b->data = d;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return EC_OK;
}

ec_err ec_buf_puts(ec_buf *b, const char *s)
{
    return ec_buf_append(b, s, strlen(s));
}

ec_err ec_buf_printf(ec_buf *b, const char *fmt, ...)
{
    if (b->err) return b->err;
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return buf__failed(b, EC_EINVAL);
    if ((size_t)n < sizeof small) return ec_buf_append(b, small, (size_t)n);
    /* Too long for the buffer at all: refuse before allocating a copy. */
    if ((size_t)n > b->max || b->len > b->max - (size_t)n) return buf__failed(b, EC_ELIMIT);
    char *big = ec_malloc((size_t)n + 1);
    if (!big) return buf__failed(b, EC_ENOMEM);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ec_err rc = ec_buf_append(b, big, (size_t)n);
    ec_free(big);
    return rc;
}

ec_err ec_buf_error(const ec_buf *b)
{
    return b->err;
}

void ec_buf_reset(ec_buf *b)
{
    b->len = 0;
    b->err = EC_OK;
    if (b->data) b->data[0] = '\0';
}

void ec_buf_free(ec_buf *b)
{
    ec_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = EC_OK;
}

void ec_vec_init(ec_vec *v, size_t elem)
{
    v->data = NULL;
    v->len = v->cap = 0;
    v->elem = elem;
}

ec_err ec_vec_reserve(ec_vec *v, size_t n)
{
    return ec_grow(&v->data, &v->cap, n, v->elem);
}

ec_err ec_vec_push(ec_vec *v, const void *elem)
{
    if (v->len == v->cap && ec_grow(&v->data, &v->cap, v->len + 1, v->elem)) return EC_ENOMEM;
    memcpy((char *)v->data + v->len * v->elem, elem, v->elem);
    v->len++;
    return EC_OK;
}

void ec_vec_free(ec_vec *v)
{
    ec_free(v->data);
    v->data = NULL;
    v->len = v->cap = 0;
}

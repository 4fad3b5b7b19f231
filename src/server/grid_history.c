/* grid_history.c - a ring of minutes per substation (grid_history.h).
 *
 * A ring grows by doubling up to HISTORY_KEEP, so a substation sampled for
 * an hour holds an hour's memory, not a week's. */
#include "grid_history.h"

#include "ecorridor/ec_register.h"

#include <string.h>

#define RING_FIRST 64

typedef struct {
    char id[EC_REG_ID_MAX + 1];
    history_point *pts;
    size_t cap, n, head; /* head: the oldest point */
} ring;

struct history {
    ring *rings;
    size_t n, cap;
};

ec_err history__new(history **out)
{
    *out = ec_calloc(1, sizeof **out);
    return *out ? EC_OK : EC_ENOMEM;
}

void history__free(history *h)
{
    if (!h) return;
    for (size_t i = 0; i < h->n; i++) ec_free(h->rings[i].pts);
    ec_free(h->rings);
    ec_free(h);
}

static ring *find(const history *h, const char *id)
{
    for (size_t i = 0; i < h->n; i++)
        if (!strcmp(h->rings[i].id, id)) return &h->rings[i];
    return NULL;
}

static history_point *at(const ring *r, size_t i)
{
    return &r->pts[(r->head + i) % r->cap];
}

/* Makes room for one more point: the ring doubles (oldest first again) until it is full-size. */
static ec_err grow(ring *r)
{
    if (r->n < r->cap || r->cap == HISTORY_KEEP) return EC_OK;
    size_t cap = r->cap ? r->cap * 2 : RING_FIRST;
    if (cap > HISTORY_KEEP) cap = HISTORY_KEEP;
    history_point *p = ec_malloc(cap * sizeof *p);
    if (!p) return EC_ENOMEM;
    for (size_t i = 0; i < r->n; i++) p[i] = *at(r, i);
    ec_free(r->pts);
    r->pts = p, r->cap = cap, r->head = 0;
    return EC_OK;
}

ec_err history__add(history *h, const char *id, const history_point *p)
{
    if (!id || strlen(id) > EC_REG_ID_MAX) return EC_EINVAL;
    ring *r = find(h, id);
    if (!r) {
        if (h->n == HISTORY_SUBSTATIONS_MAX) return EC_ELIMIT;
        if (h->n == h->cap) {
            size_t cap = h->cap ? h->cap * 2 : 8;
            ring *nr = ec_realloc(h->rings, cap * sizeof *nr);
            if (!nr) return EC_ENOMEM;
            h->rings = nr, h->cap = cap;
        }
        r = &h->rings[h->n++];
        memset(r, 0, sizeof *r);
        snprintf(r->id, sizeof r->id, "%s", id);
    }
    if (r->n) {
        history_point *last = at(r, r->n - 1);
        if (p->t_s < last->t_s) return EC_EINVAL;
        if (p->t_s == last->t_s) {
            *last = *p;
            return EC_OK;
        }
    }
    ec_err rc = grow(r);
    if (rc) return rc;
    if (r->n < r->cap) {
        *at(r, r->n++) = *p;
    } else { /* full: the newest takes the oldest's place */
        r->pts[r->head] = *p;
        r->head = (r->head + 1) % r->cap;
    }
    return EC_OK;
}

ec_err history__each(const history *h, const char *id, int64_t from_s, int64_t to_s,
                     void (*each)(void *ctx, const history_point *p), void *ctx)
{
    const ring *r = find(h, id);
    if (!r) return EC_ENOTFOUND;
    /* The first point in the window, by bisection: the points are in time order. */
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (at(r, mid)->t_s < from_s) lo = mid + 1;
        else hi = mid;
    }
    for (size_t i = lo; i < r->n && at(r, i)->t_s < to_s; i++) each(ctx, at(r, i));
    return EC_OK;
}

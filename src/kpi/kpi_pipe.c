/* kpi_pipe.c - a journal read on a thread of its own while the caller's
 * thread feeds the rows to the figures, so that SQLite's scan and the KPI
 * state each have a core (a month of a large hub: millions of rows).
 *
 * The reader copies rows into batches (PIPE_ROWS rows or PIPE_BYTES bytes)
 * and hands them over in a ring of PIPE_BATCHES; the feeder takes them in
 * order, so the rows reach ec_kpi_feed exactly as a plain scan gives them.
 * The store is used by the reader thread only, until it is joined. */
#include "kpi_internal.h"

#include "ecorridor/ec_store.h"

#include <pthread.h>
#include <string.h>

#define PIPE_ROWS 4096
#define PIPE_BYTES (1u << 20)
#define PIPE_BATCHES 4

typedef struct {
    size_t n, used;
    int64_t seq[PIPE_ROWS], t_ms[PIPE_ROWS];
    uint32_t kind[PIPE_ROWS], data[PIPE_ROWS], len[PIPE_ROWS]; /* offsets into buf */
    char buf[PIPE_BYTES];
} batch;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *ring[PIPE_BATCHES];
    size_t head, full; /* the oldest filled batch, and how many are filled */
    int done, stop;    /* the reader is through; the feeder wants no more */
    ec_err rc;         /* the reader's */
    char msg[256];     /* its message, for the caller's thread */
    batch *cur;        /* the batch the reader fills */
    ec_store *s;
    int64_t to_ms;
    const char *skip;
} pipe_t;

/* The reader hands its batch over and waits for a free one; 0, or -1 when told to stop. */
static int hand_over(pipe_t *p)
{
    pthread_mutex_lock(&p->mu);
    p->full++;
    pthread_cond_broadcast(&p->cv);
    while (p->full == PIPE_BATCHES && !p->stop) pthread_cond_wait(&p->cv, &p->mu);
    int stop = p->stop;
    p->cur = p->ring[(p->head + p->full) % PIPE_BATCHES];
    pthread_mutex_unlock(&p->mu);
    p->cur->n = p->cur->used = 0;
    return stop ? -1 : 0;
}

static ec_err copy_row(void *ctx, const ec_journal_row_t *r)
{
    pipe_t *p = ctx;
    size_t kl = strlen(r->kind) + 1, need = kl + r->len + 1;
    if (need > PIPE_BYTES) return ec_fail(EC_ELIMIT, "journal row %lld: longer than %u bytes", (long long)r->seq, PIPE_BYTES);
    batch *b = p->cur;
    if (b->n == PIPE_ROWS || b->used + need > PIPE_BYTES) {
        if (hand_over(p)) return EC_EOF;
        b = p->cur;
    }
    size_t i = b->n++;
    b->seq[i] = r->seq, b->t_ms[i] = r->t_ms;
    b->kind[i] = (uint32_t)b->used;
    memcpy(b->buf + b->used, r->kind, kl);
    b->used += kl;
    b->data[i] = (uint32_t)b->used, b->len[i] = (uint32_t)r->len;
    memcpy(b->buf + b->used, r->data, r->len);
    b->buf[b->used + r->len] = 0;
    b->used += r->len + 1;
    return EC_OK;
}

static void *reader(void *arg)
{
    pipe_t *p = arg;
    ec_err rc = ec_store_journal_events(p->s, p->to_ms, p->skip, copy_row, p);
    if (rc && rc != EC_EOF) snprintf(p->msg, sizeof p->msg, "%s", ec_errmsg());
    pthread_mutex_lock(&p->mu);
    if (p->cur->n && !p->stop) p->full++;
    p->rc = rc == EC_EOF ? EC_OK : rc, p->done = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

ec_err kpi__feed_store(ec_kpi *k, ec_store *s, int64_t to_ms, const char *skip, ec_progress *prog)
{
    pipe_t p;
    memset(&p, 0, sizeof p);
    ec_err rc = EC_OK;
    for (int i = 0; i < PIPE_BATCHES; i++) {
        if (!(p.ring[i] = ec_malloc(sizeof(batch)))) rc = EC_ENOMEM;
        else p.ring[i]->n = p.ring[i]->used = 0;
    }
    pthread_t th;
    if (!rc && (pthread_mutex_init(&p.mu, NULL) || pthread_cond_init(&p.cv, NULL))) rc = EC_ENOMEM;
    p.cur = p.ring[0], p.s = s, p.to_ms = to_ms, p.skip = skip;
    if (!rc && pthread_create(&th, NULL, reader, &p)) rc = ec_fail(EC_EIO, "cannot start the journal's reader");
    if (rc) {
        for (int i = 0; i < PIPE_BATCHES; i++) ec_free(p.ring[i]);
        return rc;
    }
    for (;;) {
        pthread_mutex_lock(&p.mu);
        while (!p.full && !p.done) pthread_cond_wait(&p.cv, &p.mu);
        if (!p.full) {
            pthread_mutex_unlock(&p.mu);
            break;
        }
        batch *b = p.ring[p.head];
        pthread_mutex_unlock(&p.mu);
        for (size_t i = 0; i < b->n && !rc; i++) {
            rc = ec_kpi_feed(k, b->t_ms[i], 0, b->buf + b->kind[i], b->buf + b->data[i], b->len[i]);
            if (rc == EC_EINVAL) rc = ec_fail(rc, "journal row %lld: %s", (long long)b->seq[i], ec_kpi_error(k));
        }
        if (prog && b->n) ec_progress_update(prog, (uint64_t)b->seq[b->n - 1]);
        pthread_mutex_lock(&p.mu);
        p.head = (p.head + 1) % PIPE_BATCHES, p.full--;
        if (rc) p.stop = 1;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
        if (rc) break;
    }
    pthread_join(th, NULL);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    for (int i = 0; i < PIPE_BATCHES; i++) ec_free(p.ring[i]);
    if (!rc && p.rc) rc = ec_fail(p.rc, "%s", p.msg);
    return rc;
}

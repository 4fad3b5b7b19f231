/* work.h - heavy requests (imports, routes) on libuv's worker pool, a few at
 * a time, each answered when its work is done, so that no request holds the
 * event loop (and with it every charge point) for long.
 *
 * A job runs in a lane; a lane runs one job (the read lane two) at a time on
 * the pool, in order, and holds a bounded number waiting, in all and per
 * organisation (per address for public requests). A job that finds its lane
 * full is refused with 503. */
#ifndef EC_SERVER_WORK_H
#define EC_SERVER_WORK_H

#include "hub.h"

typedef enum {
    WORK_IMPORT, /* register files: seconds each, up to 64 MiB of body */
    WORK_ROUTE,  /* route plans, on the one route planner (not thread-safe: one user at a time) */
    WORK_READ,   /* pages of sites.geojson: public, per address */
    WORK_KPI,    /* the region's figures: a read of the journal each, per organisation (public: per address) */
    WORK_N_LANES
} work_lane;

typedef struct work_job work_job;
struct work_job {
    /* Set by the submitter. run is called on a worker thread and must touch
     * only what the job owns or what nobody changes meanwhile; it writes the
     * answer into res (api__error works there too). done (may be NULL) is called on the loop after
     * run: returning 1 runs the job again at the head of its lane (the
     * answer is not sent yet). release frees the job, on the loop, once. */
    void (*start)(work_job *j); /* may be NULL: on the loop, as the job leaves the queue for the pool */
    void (*run)(work_job *j);
    int (*done)(work_job *j);
    void (*release)(work_job *j);
    ec_http_response res; /* its body initialised by the submitter */
    /* The pool's. */
    uv_work_t uv;
    ec_api *api;
    work_lane lane;
    uint64_t serial;
    char org[64]; /* the organisation, or for public requests the address */
    work_job *next;
};

/* Jobs a lane holds at once (the one running included), in all and for one
 * organisation. */
#define WORK_IMPORT_MAX 2 /* each holds its body (up to 64 MiB) twice, and what it read */
#define WORK_IMPORT_PER_ORG 1
#define WORK_ROUTE_MAX 32
#define WORK_ROUTE_PER_ORG 8
#define WORK_READ_RUNNING 2 /* the read lane runs two at once: reads do not wait for each other */
#define WORK_READ_MAX 16
#define WORK_READ_PER_ORG 4
#define WORK_KPI_MAX 8
#define WORK_KPI_PER_ORG 2

typedef struct work_pool work_pool;

/* A pool of lanes on loop; answers go through a->http. Returns new (free
 * with work__free once the loop has ended). */
ec_err work__new(uv_loop_t *loop, ec_api *a, work_pool **out);
/* Queues j (allocated with ec_calloc, its res.body initialised by the caller)
 * for req in lane on behalf of org ("" for none): 0 and res->status 0 (the
 * answer follows with ec_http_complete), or -1 with a 503 written to res
 * when the lane is full (j is released). */
int work__submit(work_pool *p, work_job *j, work_lane lane, const char *org, const ec_http_request *req,
                 ec_http_response *res);
/* Drops the jobs still waiting (their clients are being disconnected); the
 * running ones finish. */
void work__stop(work_pool *p);
void work__free(work_pool *p);
/* Read connections to the database for jobs, kept between them (loop
 * only): take returns one left by an earlier job, or NULL (the job opens its
 * own on its worker); give keeps it for the next (or closes it). A job
 * must end its read (ec_store_release) before it gives the connection back. */
ec_store *work__reader_take(work_pool *p);
void work__reader_give(work_pool *p, ec_store *s);

/* POST /api/v1/import, read and stored on a worker with its own database
 * connection. owner (NULL: an admin's import), format, operator_id (may be
 * NULL) and req are borrowed for the call. */
void work__import(ec_api *a, const char *org, const char *owner, const char *format, const char *operator_id,
                  const ec_http_request *req, ec_http_response *res);

#endif

/* events.h - GET /api/v1/events: the sites' live state as Server-Sent Events
 * (docs/api.md "Live events"), for the dashboard's map and anyone who would
 * rather be told than ask. Public: a site's state is what its chargers show
 * to anyone who drives past. */
#ifndef EC_SERVER_EVENTS_H
#define EC_SERVER_EVENTS_H

#include "ecorridor/ec_store.h"
#include "http.h"

#define EVENTS_MAX 256          /* streams open at once, in all */
#define EVENTS_PER_ADDR 4       /* ... from one client address */
#define EVENTS_PING_MS 15000    /* a comment this often keeps proxies from closing a quiet stream */

typedef struct events events;

ec_err events__new(uv_loop_t *loop, ec_store *store, events **out);
void events__set_http(events *e, ec_http_server *http);
/* Answers GET (or HEAD) /api/v1/events: opens a stream, or refuses (503
 * when the streams are all taken, 400 for a query). */
void events__subscribe(events *e, const ec_http_request *req, ec_http_response *res);
/* The HTTP layer's stream_closed: the stream of that request has ended. */
void events__closed(events *e, uint64_t serial);
/* Site id's document changed and is committed: its state goes to every
 * stream (deleted: a site event with "deleted": true). */
void events__site(events *e, const char *id);
/* Many sites changed at once (an import): streams are told to read the
 * register again (event: register). */
void events__register(events *e);
int events__count(const events *e);
/* Closes the timer; the streams end with the HTTP server. */
void events__stop(events *e);
void events__free(events *e);

#endif

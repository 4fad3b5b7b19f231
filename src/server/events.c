/* events.c - the sites' live state as Server-Sent Events.
 *
 * A stream is a request the HTTP layer keeps open (ec_http_stream_open).
 * Chargers' statuses reach here once committed (ocpp__on_site), REST writes
 * of a site once stored: the site's document is read once and its state,
 * by the register's one rule (ec_reg_site_state), goes to every stream. A
 * client that does not read is dropped by the HTTP layer; one address holds
 * a few streams at most, and all of them together a bounded number. */
#include "events.h"

#include "api_internal.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_register.h"

#include <string.h>

typedef struct {
    uint64_t serial;
    char peer[48];
} events_sub;

struct events {
    ec_http_server *http;
    ec_store *store;
    uv_timer_t ping;
    events_sub subs[EVENTS_MAX];
    int n;
    ec_buf msg, doc;
};

static void broadcast(events *e, const char *data, size_t len)
{
    /* A failed send ends that stream; events__closed then forgets it, from the loop. */
    for (int i = 0; i < e->n; i++) ec_http_stream_send(e->http, e->subs[i].serial, data, len);
}

static void on_ping(uv_timer_t *t)
{
    events *e = t->data;
    static const char ping[] = ": ping\n\n";
    broadcast(e, ping, sizeof ping - 1);
}

ec_err events__new(uv_loop_t *loop, ec_store *store, events **out)
{
    events *e = ec_calloc(1, sizeof *e);
    if (!e) return EC_ENOMEM;
    e->store = store;
    ec_buf_init(&e->msg, 2 * EC_REG_DOC_MAX);
    ec_buf_init(&e->doc, EC_REG_DOC_MAX);
    uv_timer_init(loop, &e->ping);
    e->ping.data = e;
    uv_timer_start(&e->ping, on_ping, EVENTS_PING_MS, EVENTS_PING_MS);
    uv_unref((uv_handle_t *)&e->ping);
    *out = e;
    return EC_OK;
}

void events__set_http(events *e, ec_http_server *http)
{
    e->http = http;
}

int events__count(const events *e)
{
    return e ? e->n : 0;
}

void events__subscribe(events *e, const ec_http_request *req, ec_http_response *res)
{
    if (req->method != EC_HTTP_GET && req->method != EC_HTTP_HEAD) {
        api__error(res, 405, "method_not_allowed", NULL, "events takes GET");
        return;
    }
    static const char *const none[] = {NULL};
    if (api__only_args(req, res, none)) return;
    if (req->method == EC_HTTP_HEAD || !e || !e->http) { /* no streams here (a hub without its loop: tests) */
        res->content_type = "text/event-stream; charset=utf-8";
        res->status = 200;
        return;
    }
    int same = 0;
    for (int i = 0; i < e->n; i++) same += !strcmp(e->subs[i].peer, req->peer);
    if (e->n >= EVENTS_MAX || same >= EVENTS_PER_ADDR) {
        api__error(res, 503, "busy", NULL, "%s", e->n >= EVENTS_MAX ? "the hub has as many event streams open as it keeps"
                                                     : "this address has 4 event streams open already");
        return;
    }
    res->status = 0; /* the answer goes on as a stream */
    if (ec_http_stream_open(e->http, req->serial, "text/event-stream; charset=utf-8")) return; /* gone */
    events_sub *s = &e->subs[e->n++];
    s->serial = req->serial;
    snprintf(s->peer, sizeof s->peer, "%s", req->peer);
    /* A client that loses the stream asks again after 2 s (EventSource does by itself). */
    static const char hello[] = "retry: 2000\n\n";
    ec_http_stream_send(e->http, s->serial, hello, sizeof hello - 1);
}

void events__closed(events *e, uint64_t serial)
{
    for (int i = 0; i < e->n; i++) {
        if (e->subs[i].serial != serial) continue;
        e->subs[i] = e->subs[--e->n];
        return;
    }
}

/* event: site, data: {"id", "status", "evses": [{"uid", "status"}], "last_updated"}. */
static ec_err site_event(events *e, const char *id)
{
    ec_buf_reset(&e->msg);
    ec_buf_reset(&e->doc);
    ec_json *j = NULL;
    ec_err rc = ec_store_get(e->store, EC_KIND_SITE, id, &e->doc);
    ec_jw w;
    ec_buf_puts(&e->msg, "event: site\ndata: ");
    ec_jw_init(&w, &e->msg);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "id"), ec_jw_str(&w, id);
    if (rc == EC_ENOTFOUND) {
        ec_jw_key(&w, "deleted"), ec_jw_bool(&w, 1);
        ec_jw_key(&w, "status"), ec_jw_null(&w);
        rc = EC_OK;
    } else if (!rc && !(rc = ec_json_load_buf(e->doc.data, e->doc.len, "site", &j))) {
        ec_jw_key(&w, "status"), ec_jw_str(&w, ec_reg_site_state(j));
        ec_jw_key(&w, "evses");
        ec_jw_arr_begin(&w);
        ec_json *evses = ec_json_get(j, "evses");
        for (size_t i = 0; i < ec_json_array_size(evses); i++) {
            ec_json *ev = ec_json_array_get(evses, i);
            const char *uid = ec_json_str(ec_json_get(ev, "uid")), *st = ec_json_str(ec_json_get(ev, "status"));
            ec_jw_obj_begin(&w);
            ec_jw_key(&w, "uid"), uid ? ec_jw_str(&w, uid) : ec_jw_null(&w);
            ec_jw_key(&w, "status"), st ? ec_jw_str(&w, st) : ec_jw_null(&w);
            ec_jw_obj_end(&w);
        }
        ec_jw_arr_end(&w);
        const char *lu = ec_json_str(ec_json_get(j, "last_updated"));
        ec_jw_key(&w, "last_updated"), lu ? ec_jw_str(&w, lu) : ec_jw_null(&w);
    }
    ec_jw_obj_end(&w);
    ec_json_free(j);
    if (!rc) rc = ec_jw_finish(&w);
    if (!rc) rc = ec_buf_puts(&e->msg, "\n\n");
    return rc;
}

void events__site(events *e, const char *id)
{
    if (!e || !e->n || !e->http) return; /* no one listens: nothing is read */
    if (site_event(e, id)) {
        ec_log(EC_LOG_WARN, "events: site %s: its state cannot be announced: %s", id, ec_errmsg());
        return;
    }
    broadcast(e, e->msg.data, e->msg.len);
}

void events__register(events *e)
{
    static const char reg[] = "event: register\ndata: {}\n\n";
    if (e && e->n && e->http) broadcast(e, reg, sizeof reg - 1);
}

void events__stop(events *e)
{
    if (!e) return;
    uv_timer_stop(&e->ping);
    uv_close((uv_handle_t *)&e->ping, NULL);
}

void events__free(events *e)
{
    if (!e) return;
    ec_buf_free(&e->msg);
    ec_buf_free(&e->doc);
    ec_free(e);
}

/* http.c - the one file that knows libwebsockets: HTTP/1.1 on our libuv loop. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEADERS_MAX 1024

#define WS_QUEUE_MAX (4u << 20) /* bytes queued for one peer before it is dropped */

typedef struct {
    uint64_t serial;
    struct lws *wsi;
} deferred;

struct ec_http_server {
    struct lws_context *ctx;
    ec_http_handler h;
    int port;
    ec_http_stats_t stats;
    void *loops[1];
    uint64_t next_serial;
    ec_vec deferred; /* requests waiting for ec_http_complete */
    unsigned char *scratch; /* LWS_PRE and one outgoing message */
    size_t scratch_cap;
    struct lws_protocols protocols[3];
};

struct ec_ws {
    struct lws *wsi;
    ec_http_server *s;
    void *user;
    int accepted, opened;
    ec_buf in;       /* the message being received */
    ec_buf out;      /* queued messages: 4-byte length, then the bytes */
    size_t out_head; /* where the next one starts */
    int close_code;  /* non-zero: close once the queue is written */
    char close_reason[64];
};

/* Per connection, reused by each request on a kept-alive connection. */
typedef struct {
    ec_http_request req;
    ec_buf body;
    size_t limit;
    int too_big;    /* 413: the body is over the limit */
    int chunked;    /* 411: a chunked body, which libwebsockets does not read */
    int dispatched;
    int64_t t0_ns;
    ec_http_response res;
    unsigned char *wire; /* LWS_PRE, headers and body as they go out */
    size_t wire_cap;
    int counted;
    int close_after; /* the body was refused unread: the connection cannot be reused */
    int deferred;    /* waiting for ec_http_complete */
} conn;

static const char *const method_names[EC_HTTP_N_METHODS] = {"GET", "POST", "PUT", "PATCH",
                                                            "DELETE", "OPTIONS", "HEAD", "OTHER"};

const char *ec_http_method_name(ec_http_method m)
{
    return (int)m >= 0 && m < EC_HTTP_N_METHODS ? method_names[m] : "OTHER";
}

static ec_http_method method_of(struct lws *wsi)
{
    static const struct {
        enum lws_token_indexes tok;
        ec_http_method m;
    } map[] = {{WSI_TOKEN_GET_URI, EC_HTTP_GET},     {WSI_TOKEN_POST_URI, EC_HTTP_POST},
               {WSI_TOKEN_PUT_URI, EC_HTTP_PUT},     {WSI_TOKEN_PATCH_URI, EC_HTTP_PATCH},
               {WSI_TOKEN_DELETE_URI, EC_HTTP_DELETE}, {WSI_TOKEN_OPTIONS_URI, EC_HTTP_OPTIONS},
               {WSI_TOKEN_HEAD_URI, EC_HTTP_HEAD}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (lws_hdr_total_length(wsi, map[i].tok)) return map[i].m;
    return EC_HTTP_OTHER;
}

static void read_request(struct lws *wsi, conn *c, const char *uri)
{
    ec_http_request *r = &c->req;
    r->method = method_of(wsi);
    snprintf(r->path, sizeof r->path, "%s", uri ? uri : "/");
    r->n_args = 0;
    r->args_overflow = 0;
    for (int i = 0;; i++) {
        char tmp[EC_HTTP_MAX_ARG];
        int n = lws_hdr_copy_fragment(wsi, tmp, sizeof tmp, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) {
            /* -1: no such fragment; other negatives: it did not fit. */
            if (lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i) > 0) r->args_overflow = 1;
            else break;
            continue;
        }
        if (r->n_args == EC_HTTP_MAX_ARGS) {
            r->args_overflow = 1;
            break;
        }
        memcpy(r->args[r->n_args++], tmp, (size_t)n + 1);
    }
    r->authorization[0] = 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
        lws_hdr_copy(wsi, r->authorization, sizeof r->authorization, WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
        snprintf(r->authorization, sizeof r->authorization, "?");
}

/* Headers and body in one buffer and one write: lws sends what the socket
 * takes, keeps the rest and completes the transaction once it has drained. */
static int respond(struct lws *wsi, ec_http_server *s, conn *c)
{
    ec_http_response *res = &c->res;
    size_t body = c->req.method == EC_HTTP_HEAD ? 0 : res->body.len;
    void *wire = c->wire;
    if (ec_grow(&wire, &c->wire_cap, LWS_PRE + HEADERS_MAX + body, 1)) return -1;
    c->wire = wire;
    unsigned char *start = c->wire + LWS_PRE, *p = start, *end = start + HEADERS_MAX - 1;
    if (lws_add_http_common_headers(wsi, (unsigned int)res->status,
                                    res->content_type ? res->content_type : "application/json",
                                    res->body.len, &p, end))
        return -1;
    if (res->www_authenticate[0] &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE,
                                     (const unsigned char *)res->www_authenticate,
                                     (int)strlen(res->www_authenticate), &p, end))
        return -1;
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end))
        return -1;
    if (lws_finalize_http_header(wsi, &p, end)) return -1;
    if (body) memcpy(p, res->body.data, body), p += body;
    /* HTTP/1 has no framing: headers and body go out as one raw write. */
    if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) != (int)(p - start)) return -1;
    if (s->h.done) s->h.done(s->h.ctx, c->req.method, res->status, (double)(ec_time_mono_ns() - c->t0_ns) / 1e9);
    c->dispatched = 0;
    ec_buf_free(&c->body);
    if (res->body.cap > (1u << 20)) ec_buf_free(&res->body); /* keep small buffers for the next request */
    if (c->wire_cap > (1u << 20)) {
        ec_free(c->wire);
        c->wire = NULL;
        c->wire_cap = 0;
    }
    if (c->close_after || lws_http_transaction_completed(wsi)) return -1;
    return 0;
}

static void dispatch(ec_http_server *s, conn *c)
{
    c->dispatched = 1;
    ec_buf_reset(&c->res.body);
    c->res.status = 500;
    c->res.content_type = "application/json";
    c->res.www_authenticate[0] = 0;
    if (c->chunked) {
        c->res.status = 411;
        ec_buf_puts(&c->res.body, "{\"error\":{\"code\":\"length_required\",\"message\":\"send the body with a "
                                  "Content-Length, not chunked\",\"field\":\"\"}}");
    } else if (c->too_big) {
        c->res.status = 413;
        ec_buf_printf(&c->res.body,
                      "{\"error\":{\"code\":\"body_too_large\",\"message\":\"the request body is larger than %zu "
                      "bytes\",\"field\":\"\"}}",
                      c->limit);
    } else {
        c->req.body = c->body.data ? c->body.data : "";
        c->req.body_len = c->body.len;
        c->req.serial = ++s->next_serial;
        s->h.handle(s->h.ctx, &c->req, &c->res);
    }
}

static void undefer(ec_http_server *s, struct lws *wsi)
{
    deferred *d = s->deferred.data;
    for (size_t i = 0; i < s->deferred.len; i++)
        if (d[i].wsi == wsi) {
            d[i] = d[--s->deferred.len];
            return;
        }
}

/* Answers now, or parks the connection until ec_http_complete. */
static int answer(struct lws *wsi, ec_http_server *s, conn *c)
{
    if (c->res.status) return respond(wsi, s, c);
    deferred d = {c->req.serial, wsi};
    if (ec_vec_push(&s->deferred, &d)) return -1;
    c->deferred = 1;
    return 0;
}

ec_err ec_http_complete(ec_http_server *s, uint64_t serial, int status, const char *content_type,
                        const char *body, size_t len)
{
    deferred *d = s->deferred.data;
    for (size_t i = 0; i < s->deferred.len; i++) {
        if (d[i].serial != serial) continue;
        struct lws *wsi = d[i].wsi;
        conn *c = lws_wsi_user(wsi);
        d[i] = d[--s->deferred.len];
        c->res.status = status;
        c->res.content_type = content_type;
        ec_buf_reset(&c->res.body);
        ec_err rc = ec_buf_append(&c->res.body, body, len);
        lws_callback_on_writable(wsi);
        return rc;
    }
    return EC_ENOTFOUND;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    ec_http_server *s = ctx ? lws_context_user(ctx) : NULL;
    conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP_BIND_PROTOCOL:
        if (s && c && !c->counted) {
            c->counted = 1;
            s->stats.open++;
            s->stats.total++;
        }
        return 0;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c && c->deferred && s) undefer(s, wsi);
        if (c) {
            c->deferred = 0;
            if (c->counted && s) s->stats.open--;
            c->counted = 0;
            ec_buf_free(&c->body);
            ec_buf_free(&c->res.body);
            ec_free(c->wire);
            c->wire = NULL;
            c->wire_cap = 0;
        }
        return 0;
    case LWS_CALLBACK_HTTP: {
        if (!c) return -1;
        c->t0_ns = ec_time_mono_ns();
        read_request(wsi, c, in);
        c->too_big = c->chunked = c->close_after = c->dispatched = 0;
        c->req.body = NULL;
        c->limit = s->h.admit ? s->h.admit(s->h.ctx, &c->req, &c->res) : 1u << 20;
        ec_buf_init(&c->body, c->limit);
        if (!c->res.body.max) ec_buf_init(&c->res.body, 512u << 20);
        char cl[32] = "";
        int64_t clen = 0;
        if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) ec_parse_i64(cl, &clen);
        c->chunked = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
        c->too_big = clen > (int64_t)c->limit;
        /* A body refused unread leaves the connection unusable: it closes after the answer. */
        c->close_after = c->chunked || c->too_big;
        if (clen > 0 && !c->close_after) return 0; /* the body follows */
        dispatch(s, c);
        return answer(wsi, s, c);
    }
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!c || !c->deferred) return 0;
        c->deferred = 0;
        return respond(wsi, s, c);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* A WebSocket upgrade that offered none of our subprotocols lands on
         * the HTTP protocol: refuse it. */
        if (s) s->stats.ws_refused++;
        ec_log(EC_LOG_INFO, "ws: upgrade refused: no supported subprotocol offered (%s wanted)",
               s && s->h.ws_protocol ? s->h.ws_protocol : "none");
        return -1;
    case LWS_CALLBACK_HTTP_BODY:
        if (!c->too_big && ec_buf_append(&c->body, in, len)) c->too_big = 1;
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (c->dispatched) return 0;
        dispatch(s, c);
        return answer(wsi, s, c);
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- WebSocket ---------------------------------------------------------- */

static int ws_filter(struct lws *wsi, ec_http_server *s, ec_ws *w)
{
    char path[EC_HTTP_MAX_PATH] = "", auth[256] = "";
    if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) < 0) path[0] = 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
        lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
        snprintf(auth, sizeof auth, "?");
    memset(w, 0, sizeof *w);
    w->wsi = wsi;
    w->s = s;
    ec_ws_handshake hs = {path, auth, "", lws_is_ssl(wsi), 0};
    int st = s->h.ws_accept ? s->h.ws_accept(s->h.ctx, &hs, &w->user) : 404;
    if (st) {
        s->stats.ws_refused++;
        return -1;
    }
    w->accepted = 1;
    ec_buf_init(&w->in, s->h.ws_max_message ? s->h.ws_max_message : 65536);
    ec_buf_init(&w->out, WS_QUEUE_MAX);
    return 0;
}

static int ws_write_one(struct lws *wsi, ec_http_server *s, ec_ws *w)
{
    if (w->out_head < w->out.len) {
        uint32_t n;
        memcpy(&n, w->out.data + w->out_head, 4);
        void *p = s->scratch;
        if (ec_grow(&p, &s->scratch_cap, LWS_PRE + (size_t)n, 1)) return -1;
        s->scratch = p;
        memcpy(s->scratch + LWS_PRE, w->out.data + w->out_head + 4, n);
        w->out_head += 4 + (size_t)n;
        if (lws_write(wsi, s->scratch + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n) return -1;
        s->stats.ws_out++;
        if (w->out_head == w->out.len) {
            ec_buf_reset(&w->out);
            w->out_head = 0;
            if (w->out.cap > (64u << 10)) ec_buf_free(&w->out), ec_buf_init(&w->out, WS_QUEUE_MAX);
        }
    }
    if (w->out_head < w->out.len) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (w->close_code) {
        lws_close_reason(wsi, (enum lws_close_status)w->close_code, (unsigned char *)w->close_reason,
                         strlen(w->close_reason));
        return -1;
    }
    return 0;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    ec_http_server *s = ctx ? lws_context_user(ctx) : NULL;
    ec_ws *w = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return s && w ? ws_filter(wsi, s, w) : -1;
    case LWS_CALLBACK_ESTABLISHED:
        if (!w || !w->accepted) return -1;
        w->opened = 1;
        s->stats.ws_open++;
        s->stats.ws_total++;
        if (s->h.ws_open) s->h.ws_open(s->h.ctx, w->user, w);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (lws_frame_is_binary(wsi)) {
            ec_ws_close(w, 1003, "OCPP-J messages are text");
            return 0;
        }
        if (ec_buf_append(&w->in, in, len)) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)"message too large", 17);
            return -1;
        }
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            s->stats.ws_in++;
            if (!w->close_code && s->h.ws_message)
                s->h.ws_message(s->h.ctx, w->user, w, w->in.data ? w->in.data : "", w->in.len);
            ec_buf_reset(&w->in);
            if (w->in.cap > (64u << 10)) {
                size_t max = w->in.max;
                ec_buf_free(&w->in);
                ec_buf_init(&w->in, max);
            }
        }
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_write_one(wsi, s, w);
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        /* Either may come first (or alone, for a handshake that failed after
         * it was accepted): the user's state goes exactly once. */
        if (w && w->opened) {
            s->stats.ws_open--;
            w->opened = 0;
        }
        if (w && w->accepted) {
            w->accepted = 0;
            if (s->h.ws_closed) s->h.ws_closed(s->h.ctx, w->user);
            ec_buf_free(&w->in);
            ec_buf_free(&w->out);
        }
        return 0;
    default: break;
    }
    return 0;
}

ec_err ec_ws_send(ec_ws *w, const char *data, size_t len)
{
    if (w->close_code) return EC_OK; /* closing: nothing more goes out */
    /* Nothing queued and the socket takes it: write now. Asking for a
     * writable callback instead costs two epoll_ctl calls a message, the
     * largest cost of a small OCPP reply; what the kernel does not take now
     * lws keeps and sends first (lws_partial_buffered is then true). */
    if (w->out_head == w->out.len && !lws_partial_buffered(w->wsi)) {
        ec_http_server *s = w->s;
        void *p = s->scratch;
        if (ec_grow(&p, &s->scratch_cap, LWS_PRE + len, 1)) return EC_ENOMEM;
        s->scratch = p;
        memcpy(s->scratch + LWS_PRE, data, len);
        if (lws_write(w->wsi, s->scratch + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) {
            ec_ws_close(w, 1011, "write failed");
            return EC_EIO;
        }
        s->stats.ws_out++;
        return EC_OK;
    }
    uint32_t n = (uint32_t)len;
    if (len > UINT32_MAX || ec_buf_append(&w->out, &n, 4) || ec_buf_append(&w->out, data, len)) {
        ec_log(EC_LOG_WARN, "ws: a peer reads too slowly (%zu bytes queued): closing it", w->out.len);
        w->close_code = 1008;
        snprintf(w->close_reason, sizeof w->close_reason, "too much unread");
        lws_callback_on_writable(w->wsi);
        return EC_ELIMIT;
    }
    lws_callback_on_writable(w->wsi);
    return EC_OK;
}

void ec_ws_close(ec_ws *w, int code, const char *reason)
{
    if (w->close_code) return;
    w->close_code = code;
    snprintf(w->close_reason, sizeof w->close_reason, "%s", reason ? reason : "");
    lws_callback_on_writable(w->wsi);
}

/* lws reports a failed bind only in its log; a bind of our own first gives
 * the user the reason. */
static ec_err probe(const char *host, int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return ec_fail(EC_EINVAL, "--listen %s:%d: %s is not an IPv4 address", host, port, host);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return ec_fail(EC_EIO, "cannot make a socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int r = bind(fd, (struct sockaddr *)&a, sizeof a), e = errno;
    close(fd);
    if (r == 0) return EC_OK;
    if (e == EADDRINUSE) return ec_fail(EC_EIO, "%s:%d is already in use by another program", host, port);
    if (e == EACCES) return ec_fail(EC_EIO, "%s:%d: not permitted to listen there", host, port);
    if (e == EADDRNOTAVAIL) return ec_fail(EC_EIO, "%s:%d: %s is not an address of this machine", host, port, host);
    return ec_fail(EC_EIO, "%s:%d: cannot listen: %s", host, port, strerror(e));
}

static void lws_to_ec_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    ec_log(level == LLL_ERR ? EC_LOG_ERROR : EC_LOG_WARN, "http: %.*s", (int)n, line);
}

ec_err ec_http_start(uv_loop_t *loop, const char *host, int port, const ec_http_handler *h,
                     const ec_http_tls_t *tls, ec_http_server **out)
{
    ec_err rc = probe(host, port);
    if (rc) return rc;
    ec_http_server *s = ec_calloc(1, sizeof *s);
    if (!s) return EC_ENOMEM;
    s->h = *h;
    s->loops[0] = loop;
    ec_vec_init(&s->deferred, sizeof(deferred));
    s->protocols[0] = (struct lws_protocols){"http", callback, sizeof(conn), 0, 0, NULL, 0};
    if (h->ws_protocol)
        s->protocols[1] = (struct lws_protocols){h->ws_protocol, ws_callback, sizeof(ec_ws), 4096, 0, NULL, 0};
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_to_ec_log);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = port;
    info.iface = host;
    info.protocols = s->protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6 |
                   LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (tls && tls->cert_path) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = tls->cert_path;
        info.ssl_private_key_filepath = tls->key_path;
    }
    info.foreign_loops = s->loops;
    info.pcontext = &s->ctx; /* lws sets it to NULL once the context is wholly gone */
    info.user = s;
    info.keepalive_timeout = 30;
    info.timeout_secs = 30;
    info.max_http_header_data = 4096;
    info.max_http_header_pool = 1024;
    info.count_threads = 1;
    /* No idle timer per connection: lws keeps them in one sorted list, and
     * re-sorting it on every message costs O(connections) with 10,000
     * charge points. Dead peers are found by TCP keepalive instead, and
     * charge points send OCPP heartbeats and pings of their own. */
    static const lws_retry_bo_t no_idle_timer = {NULL, 0, 0, 0, 0, 0};
    info.retry_and_idle_policy = &no_idle_timer;
    info.ka_time = 120;
    info.ka_probes = 4;
    info.ka_interval = 15;
    /* lws's own buffer for a write: 16 KiB lets a typical answer go in one send. */
    info.pt_serv_buf_size = 16384 + LWS_PRE + HEADERS_MAX;
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        ec_vec_free(&s->deferred);
        ec_free(s);
        return ec_fail(EC_EIO, "%s:%d: the HTTP server could not start (see the log above)", host, port);
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(s->ctx, "default");
    s->port = vh ? lws_get_vhost_listen_port(vh) : port;
    *out = s;
    return EC_OK;
}

ec_err ec_http_ws_decide(ec_http_server *s, uint64_t serial, int status, void *user)
{
    (void)s, (void)serial, (void)status, (void)user;
    return EC_ENOTFOUND;
}

int ec_http_port(const ec_http_server *s)
{
    return s->port;
}

ec_http_stats_t ec_http_stats(const ec_http_server *s)
{
    return s->stats;
}

void ec_http_stop(ec_http_server *s)
{
    if (s && s->ctx) lws_context_destroy(s->ctx);
}

void ec_http_free(ec_http_server *s)
{
    if (!s) return;
    /* On a foreign loop the first destroy only starts closing; once the loop
     * has run the closes, a second one finishes the context. */
    if (s->ctx) lws_context_destroy(s->ctx);
    ec_vec_free(&s->deferred);
    ec_free(s->scratch);
    ec_free(s);
}

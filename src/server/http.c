/* http.c - HTTP/1.1 on our libuv loop: connections, their limits and
 * deadlines, requests read with http-parser (the one file that knows it),
 * answers written in one write. WebSocket framing is in http_ws.c, TLS in
 * http_tls.c: layers below this file, which it calls and which reach it
 * only through the http_conn_ops it puts in the server (conn_ops, below).
 *
 * Every connection is in one of four states (http_internal.h). A request is
 * read whole (line, headers, body) before its handler runs; one request is
 * answered at a time per connection, and what a client pipelines behind it
 * is held, up to a limit, until the answer is out. A client that is "still
 * sending" (between accept, or its last answer, and the end of its next
 * request) is on the server's pending list with a deadline, and counts
 * against its address's share. */
#include "http.h"
#include "http_internal.h"
#include "http_tls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const method_names[EC_HTTP_N_METHODS] = {"GET", "POST", "PUT", "PATCH",
                                                            "DELETE", "OPTIONS", "HEAD", "OTHER"};

const char *ec_http_method_name(ec_http_method m)
{
    return (int)m >= 0 && m < EC_HTTP_N_METHODS ? method_names[m] : "OTHER";
}

static int64_t now_ms(ec_http_server *s)
{
    return (int64_t)uv_now(s->loop);
}

/* What http_ws.c and http_tls.c call back, through s->ops (conn_ops). */
static void conn_input(http_conn *c, const char *data, size_t n);
static ec_err conn_write(http_conn *c, const void *data, size_t n);
static ec_err conn_write_raw(http_conn *c, const void *data, size_t n);
static void conn_close(http_conn *c);
static void conn_kill(http_conn *c);

static const char *reason_of(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

/* ---- the pending list: connections still sending a request ------------- */

static void pending_add(http_conn *c, int64_t deadline_ms)
{
    ec_http_server *s = c->s;
    c->deadline_ms = deadline_ms;
    if (c->pending) return;
    c->pending = 1;
    c->pending_since_ms = now_ms(s);
    c->pend_prev = s->pend_tail;
    c->pend_next = NULL;
    if (s->pend_tail) s->pend_tail->pend_next = c;
    else s->pend_head = c;
    s->pend_tail = c;
    s->pending_by_bucket[c->bucket]++;
}

static void pending_remove(http_conn *c)
{
    ec_http_server *s = c->s;
    if (!c->pending) return;
    c->pending = 0;
    if (c->pend_prev) c->pend_prev->pend_next = c->pend_next;
    else s->pend_head = c->pend_next;
    if (c->pend_next) c->pend_next->pend_prev = c->pend_prev;
    else s->pend_tail = c->pend_prev;
    c->pend_prev = c->pend_next = NULL;
    s->pending_by_bucket[c->bucket]--;
}

static void conn_read(http_conn *c);
static void on_resume(uv_idle_t *h);

/* Reads again, once what held it back is gone, and parses what was held. */
static void conn_resume(http_conn *c)
{
    if (c->closed || c->state != CONN_HTTP || c->busy || c->out_queued >= HTTP_OUT_STOP) return;
    if (!c->reading && !c->eof && !c->dead) conn_read(c);
    conn_input(c, NULL, 0);
}

/* ---- writing -------------------------------------------------------------- */

typedef struct {
    uv_write_t req;
    http_conn *c;
    size_t len;
    char data[];
} write_req;

static void on_write(uv_write_t *w, int status)
{
    write_req *wr = (write_req *)w;
    http_conn *c = wr->c;
    c->out_queued -= wr->len;
    ec_free(wr);
    if (c->closed) return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->state == CONN_WS) {
        /* A WebSocket peer that reads again may send again. */
        if (!c->reading && !c->dead && !c->eof && c->out_queued < HTTP_OUT_STOP) conn_read(c);
        if (c->out_queued == 0) http__ws_drained(c);
    } else if (c->state == CONN_HTTP && c->out_queued < HTTP_OUT_STOP && !c->reading) {
        conn_resume(c);
    }
}

static void conn_kill(http_conn *c)
{
    if (c->closed || c->dead) return;
    c->dead = 1;
    c->linger_until_ms = 1; /* the next sweep */
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp), c->reading = 0;
}

static ec_err conn_write_raw(http_conn *c, const void *data, size_t n)
{
    if (c->closed || c->dead) return EC_EIO;
    if (!n) return EC_OK;
    size_t done = 0;
    if (c->out_queued == 0) {
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)n);
        int r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (r > 0) done = (size_t)r;
        else if (r != UV_EAGAIN && r != UV_ENOSYS) {
            conn_kill(c);
            return EC_EIO;
        }
        if (done == n) return EC_OK;
    }
    write_req *wr = ec_malloc(sizeof *wr + (n - done));
    if (!wr) {
        conn_kill(c);
        return EC_ENOMEM;
    }
    wr->c = c;
    wr->len = n - done;
    memcpy(wr->data, (const char *)data + done, n - done);
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)wr->len);
    if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, on_write)) {
        ec_free(wr);
        conn_kill(c);
        return EC_EIO;
    }
    c->out_queued += wr->len;
    return EC_OK;
}

static ec_err conn_write(http_conn *c, const void *data, size_t n)
{
    return c->tls ? http__tls_write(c, data, n) : conn_write_raw(c, data, n);
}

/* ---- closing -------------------------------------------------------------- */

static void slot_free(ec_http_server *s, http_conn *c)
{
    if (c->slot < s->n_slots && s->slots[c->slot] == c) {
        s->slots[c->slot] = NULL;
        s->free_slots[s->n_free++] = c->slot;
    }
}

static void on_closed(uv_handle_t *h)
{
    http_conn *c = h->data;
    ec_free(c);
}

static void conn_release(http_conn *c)
{
    ec_http_server *s = c->s;
    if (c->state == CONN_STREAM) {
        s->stats.streams_open--;
        c->state = CONN_CLOSING;
        if (s->h.stream_closed) s->h.stream_closed(s->h.ctx, c->wait_serial);
    }
    pending_remove(c);
    c->linger_until_ms = 0;
    if (c->ws) http__ws_free(c);
    if (c->tls) http__tls_conn_free(c);
    slot_free(s, c);
    ec_free(c->head);
    c->head = NULL;
    c->req = NULL;
    ec_buf_free(&c->body);
    ec_buf_free(&c->res.body);
    ec_buf_free(&c->held);
    s->stats.open--;
}

static void conn_close(http_conn *c)
{
    if (c->closed) return;
    c->closed = 1;
    conn_release(c);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_shutdown(uv_shutdown_t *sh, int status)
{
    http_conn *c = sh->data;
    ec_free(sh);
    (void)status;
    /* Keep reading (and dropping) a little, so that what the client still
     * sends does not reset the connection before it has read our answer;
     * a client that has half-closed sends nothing more. */
    if (c->closed) return;
    if (c->eof || c->dead) conn_close(c);
    else c->linger_until_ms = now_ms(c->s) + HTTP_LINGER_MS;
}

/* After the answer is out: half-close, then linger. */
static void conn_finish(http_conn *c)
{
    if (c->closed) return;
    if (c->dead) {
        conn_close(c);
        return;
    }
    c->state = CONN_CLOSING;
    pending_remove(c);
    uv_shutdown_t *sh = ec_malloc(sizeof *sh);
    if (!sh || (sh->data = c, uv_shutdown(sh, (uv_stream_t *)&c->tcp, on_shutdown))) {
        ec_free(sh);
        conn_close(c);
        return;
    }
    /* Until the shutdown completes, the sweep still bounds the wait. */
    c->linger_until_ms = now_ms(c->s) + HTTP_LINGER_MS + 5000;
    if (!c->reading && !c->eof) conn_read(c);
}

/* ---- answers -------------------------------------------------------------- */

static void respond(http_conn *c)
{
    ec_http_server *s = c->s;
    ec_http_response *res = &c->res;
    ec_http_method m = c->req && (unsigned)c->req->method < EC_HTTP_N_METHODS ? c->req->method : EC_HTTP_OTHER;
    size_t body = m == EC_HTTP_HEAD ? 0 : res->body.len;
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n%s%s%s%s%s"
                     "\r\n",
                     res->status, reason_of(res->status), res->content_type ? res->content_type : "application/json",
                     res->body.len, res->www_authenticate[0] ? "WWW-Authenticate: " : "", res->www_authenticate,
                     res->www_authenticate[0] ? "\r\n" : "", res->headers ? res->headers : "",
                     c->close_after ? "Connection: close\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof head) n = 0;
    if (body && body + (size_t)n <= sizeof s->outbuf) {
        /* Small answers go out in one write. */
        char *w = s->outbuf;
        memcpy(w, head, (size_t)n);
        memcpy(w + n, res->body.data, body);
        conn_write(c, w, (size_t)n + body);
    } else {
        if (conn_write(c, head, (size_t)n) == EC_OK && body) conn_write(c, res->body.data, body);
    }
    if (c->closed) return;
    if (s->h.done) s->h.done(s->h.ctx, m, res->status, (double)(ec_time_mono_ns() - c->t0_ns) / 1e9);
    if (res->body.cap > (256u << 10)) ec_buf_free(&res->body); /* keep small buffers for the next request */
    ec_buf_free(&c->body);
    c->busy = 0;
    c->wait_serial = 0;
    if (c->close_after) {
        conn_finish(c);
        return;
    }
    /* Ready for the next request on this connection. */
    http_parser_pause(&c->parser, 0);
    pending_add(c, now_ms(s) + s->lim.idle_timeout_ms);
    if (c->out_queued >= HTTP_OUT_STOP) {
        /* The client does not read: hold its input until it does. */
        if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp), c->reading = 0;
        return;
    }
    conn_input(c, NULL, 0);
}

static void json_error(ec_http_response *res, int status, const char *code, const char *message)
{
    ec_buf_reset(&res->body);
    res->status = status;
    res->content_type = "application/json";
    res->www_authenticate[0] = 0;
    res->headers = NULL;
    ec_buf_printf(&res->body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"field\":\"\"}}", code, message);
}

static void conn_refuse(http_conn *c, int status, const char *code, const char *message)
{
    if (c->closed || c->state == CONN_CLOSING) return;
    c->s->stats.bad_requests += status != 503 && status != 408;
    if (!c->res.body.max) ec_buf_init(&c->res.body, 512u << 20);
    json_error(&c->res, status, code, message);
    c->close_after = 1;
    c->busy = 1;
    respond(c);
}

ec_err ec_http_complete(ec_http_server *s, uint64_t serial, int status, const char *content_type,
                        const char *body, size_t len)
{
    uint32_t slot = (uint32_t)(serial >> 40);
    http_conn *c = slot < s->n_slots ? s->slots[slot] : NULL;
    if (!c || c->closed || !c->busy || c->wait_serial != serial || c->state != CONN_HTTP) return EC_ENOTFOUND;
    c->res.status = status;
    c->res.content_type = content_type;
    ec_buf_reset(&c->res.body);
    ec_err rc = ec_buf_append(&c->res.body, body, len);
    if (rc) json_error(&c->res, 500, "internal", "the answer was too large");
    respond(c);
    return rc;
}

static http_conn *stream_conn(ec_http_server *s, uint64_t serial)
{
    uint32_t slot = (uint32_t)(serial >> 40);
    http_conn *c = slot < s->n_slots ? s->slots[slot] : NULL;
    if (!c || c->closed || c->dead || c->wait_serial != serial || c->state != CONN_STREAM) return NULL;
    return c;
}

ec_err ec_http_stream_open(ec_http_server *s, uint64_t serial, const char *content_type)
{
    uint32_t slot = (uint32_t)(serial >> 40);
    http_conn *c = slot < s->n_slots ? s->slots[slot] : NULL;
    if (!c || c->closed || c->dead || !c->busy || c->wait_serial != serial || c->state != CONN_HTTP) return EC_ENOTFOUND;
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nCache-Control: no-store\r\nConnection: close\r\n"
                     "X-Accel-Buffering: no\r\n\r\n",
                     content_type);
    if (n < 0 || (size_t)n >= sizeof head) return EC_EINVAL;
    /* No more requests on this connection: what it sends from now on is dropped,
     * and it is read only to learn when the client leaves. */
    c->state = CONN_STREAM;
    c->close_after = 1;
    /* A client that vanishes without a word (a laptop closed) leaves what the stream sends
     * unacknowledged: past 30 s the kernel gives up on it, and its slot is free again. */
    uv_os_fd_t fd;
    unsigned user_timeout_ms = HTTP_STREAM_GONE_MS;
    if (!uv_fileno((uv_handle_t *)&c->tcp, &fd))
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
    s->stats.streams_open++;
    pending_remove(c);
    ec_buf_free(&c->held);
    ec_buf_init(&c->held, HTTP_HELD_MAX);
    ec_buf_free(&c->body);
    if (conn_write(c, head, (size_t)n)) return EC_ENOTFOUND;
    if (s->h.done) s->h.done(s->h.ctx, c->req ? c->req->method : EC_HTTP_GET, 200,
                             (double)(ec_time_mono_ns() - c->t0_ns) / 1e9);
    if (!c->reading && !c->eof && !c->throttled) conn_read(c);
    return EC_OK;
}

ec_err ec_http_stream_send(ec_http_server *s, uint64_t serial, const char *data, size_t len)
{
    http_conn *c = stream_conn(s, serial);
    if (!c) return EC_ENOTFOUND;
    if (c->out_queued + len > HTTP_STREAM_QUEUE_MAX) {
        /* It does not read what it asked for: it costs memory only, so it goes. */
        s->stats.streams_dropped++;
        conn_kill(c);
        return EC_ELIMIT;
    }
    return conn_write(c, data, len) ? EC_ENOTFOUND : EC_OK;
}

void ec_http_stream_end(ec_http_server *s, uint64_t serial)
{
    http_conn *c = stream_conn(s, serial);
    if (c) conn_kill(c);
}

/* ---- reading a request: http-parser's callbacks ---------------------------- */

static http_conn *conn_of(http_parser *p)
{
    return p->data;
}

/* Stops the parser with the layer's own answer. */
static int stop(http_conn *c, int status, const char *code, const char *message)
{
    c->refused = 1;
    if (!c->res.body.max) ec_buf_init(&c->res.body, 512u << 20);
    json_error(&c->res, status, code, message);
    return -1;
}

static int count_header_bytes(http_conn *c, size_t n)
{
    c->header_bytes += n;
    if (c->header_bytes > HTTP_HEADERS_MAX)
        return stop(c, 431, "headers_too_large", "the request line and headers are larger than 8192 bytes");
    return 0;
}

static ec_http_method method_of(unsigned m)
{
    switch (m) {
    case HTTP_GET: return EC_HTTP_GET;
    case HTTP_POST: return EC_HTTP_POST;
    case HTTP_PUT: return EC_HTTP_PUT;
    case HTTP_PATCH: return EC_HTTP_PATCH;
    case HTTP_DELETE: return EC_HTTP_DELETE;
    case HTTP_OPTIONS: return EC_HTTP_OPTIONS;
    case HTTP_HEAD: return EC_HTTP_HEAD;
    default: return EC_HTTP_OTHER;
    }
}

static int on_message_begin(http_parser *p)
{
    http_conn *c = conn_of(p);
    ec_http_server *s = c->s;
    if (!c->head) {
        if (!(c->head = ec_malloc(sizeof *c->head))) return stop(c, 503, "busy", "out of memory");
        c->req = &c->head->req;
    }
    /* A request refused before its headers are in is still counted by its method. */
    c->req->method = EC_HTTP_OTHER;
    c->req->path[0] = 0;
    c->t0_ns = ec_time_mono_ns();
    c->header_bytes = 0;
    c->in_headers = 0;
    c->url_len = 0;
    c->url_over = 0;
    c->hname_len = 0;
    c->in_value = 0;
    c->cur = HDR_OTHER;
    c->message_done = 0;
    c->upgrade_ws = 0;
    memset(c->hcount, 0, sizeof c->hcount);
    memset(c->hlen, 0, sizeof c->hlen);
    memset(c->hover, 0, sizeof c->hover);
    c->head->auth[0] = c->head->upgrade[0] = c->head->expect[0] = c->head->ws_key[0] = c->head->ws_version[0] = c->head->ws_protocol[0] = c->head->te[0] = 0;
    /* From the first byte, the whole header has header_timeout. */
    pending_add(c, 0);
    c->deadline_ms = now_ms(s) + s->lim.header_timeout_ms;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    http_conn *c = conn_of(p);
    c->req->method = method_of(p->method); /* known once the target begins */
    if (c->url_len + n > HTTP_URL_MAX)
        return stop(c, 414, "uri_too_long", "the request target is longer than 4096 bytes");
    if (count_header_bytes(c, n)) return -1;
    memcpy(c->head->url + c->url_len, at, n);
    c->url_len += n;
    c->head->url[c->url_len] = 0;
    return 0;
}

static char *hdr_buf(http_conn *c, hdr_id id, size_t *cap)
{
    switch (id) {
    case HDR_AUTHORIZATION: *cap = sizeof c->head->auth; return c->head->auth;
    case HDR_UPGRADE: *cap = sizeof c->head->upgrade; return c->head->upgrade;
    case HDR_EXPECT: *cap = sizeof c->head->expect; return c->head->expect;
    case HDR_WS_KEY: *cap = sizeof c->head->ws_key; return c->head->ws_key;
    case HDR_WS_VERSION: *cap = sizeof c->head->ws_version; return c->head->ws_version;
    case HDR_WS_PROTOCOL: *cap = sizeof c->head->ws_protocol; return c->head->ws_protocol;
    case HDR_TRANSFER_ENCODING: *cap = sizeof c->head->te; return c->head->te;
    default: *cap = 0; return NULL;
    }
}

static hdr_id hdr_lookup(const char *name)
{
    static const struct {
        const char *name;
        hdr_id id;
    } known[] = {{"authorization", HDR_AUTHORIZATION},
                 {"upgrade", HDR_UPGRADE},
                 {"expect", HDR_EXPECT},
                 {"sec-websocket-key", HDR_WS_KEY},
                 {"sec-websocket-version", HDR_WS_VERSION},
                 {"sec-websocket-protocol", HDR_WS_PROTOCOL},
                 {"content-length", HDR_CONTENT_LENGTH},
                 {"transfer-encoding", HDR_TRANSFER_ENCODING}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcasecmp(name, known[i].name)) return known[i].id;
    return HDR_OTHER;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    http_conn *c = conn_of(p);
    c->in_headers = 1;
    if (count_header_bytes(c, n + 4)) return -1; /* ": " and CRLF */
    if (c->in_value) c->in_value = 0, c->hname_len = 0;
    for (size_t i = 0; i < n; i++)
        if (c->hname_len < sizeof c->hname - 1) c->hname[c->hname_len++] = at[i];
        else c->hname_len = sizeof c->hname; /* too long to be one we know */
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    http_conn *c = conn_of(p);
    if (count_header_bytes(c, n)) return -1;
    if (!c->in_value) {
        c->in_value = 1;
        if (c->hname_len < sizeof c->hname) {
            c->hname[c->hname_len] = 0;
            c->cur = hdr_lookup(c->hname);
        } else {
            c->cur = HDR_OTHER;
        }
        if (++c->hcount[c->cur] > 1 && c->cur != HDR_OTHER && c->cur != HDR_WS_PROTOCOL)
            return stop(c, 400, "duplicate_header", "a header that may appear once appears twice");
        if (c->cur == HDR_WS_PROTOCOL && c->hlen[c->cur]) {
            /* Repeated Sec-WebSocket-Protocol headers are one list. */
            char *b = c->head->ws_protocol;
            if (c->hlen[c->cur] + 1 < sizeof c->head->ws_protocol) b[c->hlen[c->cur]++] = ',', b[c->hlen[c->cur]] = 0;
        }
    }
    size_t cap;
    char *b = hdr_buf(c, c->cur, &cap);
    if (!b) return 0;
    size_t len = c->hlen[c->cur];
    if (len + n >= cap) {
        c->hover[c->cur] = 1;
        return 0;
    }
    memcpy(b + len, at, n);
    c->hlen[c->cur] = len + n;
    b[len + n] = 0;
    return 0;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes [p, p+n) into out (cap bytes with the NUL); plus as a
 * space when plus_space. -1: malformed or a NUL; -2: too long. */
static int decode(const char *p, size_t n, char *out, size_t cap, int plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)p[i];
        if (ch == '%') {
            if (i + 2 >= n) return -1;
            int hi = hexval(p[i + 1]), lo = hexval(p[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            ch = hi * 16 + lo;
            i += 2;
            if (!ch) return -1;
        } else if (ch == '+' && plus_space) {
            ch = ' ';
        }
        if (o + 1 >= cap) return -2;
        out[o++] = (char)ch;
    }
    out[o] = 0;
    return 0;
}

/* The request target into req: path and arguments, decoded. */
static int read_target(http_conn *c)
{
    ec_http_request *r = c->req;
    const char *u = c->head->url;
    size_t n = c->url_len;
    if (n && u[0] != '/') {
        /* The absolute form (a proxy's): keep its path. */
        const char *sch = strstr(u, "://");
        const char *p = sch ? strchr(sch + 3, '/') : NULL;
        if (!p) return n == 1 && u[0] == '*' ? (snprintf(r->path, sizeof r->path, "*"), 0)
                                             : stop(c, 400, "bad_request", "the request target must start with /");
        n -= (size_t)(p - u);
        u = p;
    }
    const char *q = memchr(u, '?', n);
    size_t plen = q ? (size_t)(q - u) : n;
    const char *frag = memchr(u, '#', n);
    if (frag && (!q || frag < q)) plen = (size_t)(frag - u);
    int d = decode(u, plen, r->path, sizeof r->path, 0);
    if (d == -2) return stop(c, 414, "uri_too_long", "the path is longer than 1023 bytes");
    if (d) return stop(c, 400, "bad_request", "the path has a malformed %-escape or an encoded NUL");
    r->n_args = 0;
    r->args_overflow = 0;
    if (!q) return 0;
    const char *a = q + 1, *end = u + n;
    const char *f = memchr(a, '#', (size_t)(end - a));
    if (f) end = f;
    while (a < end) {
        const char *amp = memchr(a, '&', (size_t)(end - a));
        const char *e = amp ? amp : end;
        if (e > a) {
            if (r->n_args == EC_HTTP_MAX_ARGS) {
                r->args_overflow = 1;
            } else {
                d = decode(a, (size_t)(e - a), r->args[r->n_args], EC_HTTP_MAX_ARG, 1);
                if (d == -1) return stop(c, 400, "bad_request", "a query parameter has a malformed %-escape or an encoded NUL");
                if (d == -2) r->args_overflow = 1;
                else r->n_args++;
            }
        }
        a = e + 1;
    }
    return 0;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
    size_t i = 0;
    while (s[i] == ' ' || s[i] == '\t') i++;
    if (i) memmove(s, s + i, n - i + 1);
}

static int on_headers_complete(http_parser *p)
{
    http_conn *c = conn_of(p);
    ec_http_server *s = c->s;
    if (c->in_value == 0 && c->hname_len) return stop(c, 400, "bad_request", "a header has no value");
    if (p->http_major != 1) return stop(c, 505, "http_version", "only HTTP/1.0 and HTTP/1.1 are served");
    ec_http_request *r = c->req;
    r->method = method_of(p->method);
    r->body = NULL;
    r->body_len = 0;
    snprintf(r->peer, sizeof r->peer, "%s", c->peer);
    if (read_target(c)) return -1;
    trim(c->head->auth);
    if (c->hover[HDR_AUTHORIZATION]) snprintf(r->authorization, sizeof r->authorization, "?");
    else snprintf(r->authorization, sizeof r->authorization, "%s", c->head->auth);
    r->content_length = (p->flags & F_CHUNKED) ? -1 : (int64_t)p->content_length;
    if (!(p->flags & (F_CHUNKED | F_CONTENTLENGTH))) r->content_length = 0;
    trim(c->head->te);
    if (c->hcount[HDR_TRANSFER_ENCODING] && (!(p->flags & F_CHUNKED) || strcasecmp(c->head->te, "chunked")))
        return stop(c, 501, "not_implemented", "the only transfer coding served is chunked, alone");
    if (p->method == HTTP_CONNECT) return stop(c, 501, "not_implemented", "CONNECT is not served here");
    trim(c->head->upgrade);
    if (c->hcount[HDR_UPGRADE] && !strcasecmp(c->head->upgrade, "websocket")) {
        c->upgrade_ws = 1;
        return 2; /* no body: the rest is the WebSocket's */
    }
    /* Another upgrade (h2c, say) is ignored, as RFC 9110 lets a server do;
     * the connection closes after the answer, so nothing after it is read
     * as another protocol. */
    if (p->upgrade || c->hcount[HDR_UPGRADE]) c->close_after = 1;
    if (r->method == EC_HTTP_OTHER) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s is not served here (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)",
                 http_method_str((enum http_method)p->method));
        return stop(c, 501, "not_implemented", msg);
    }
    /* The handler sees the headers before any body is taken in. */
    if (!c->res.body.max) ec_buf_init(&c->res.body, 512u << 20);
    ec_buf_reset(&c->res.body);
    c->res.status = 0;
    c->res.content_type = "application/json";
    c->res.www_authenticate[0] = 0;
    size_t limit = s->h.admit ? s->h.admit(s->h.ctx, r, &c->res) : (1u << 20);
    if (c->res.status) {
        c->refused = 1;
        return -1;
    }
    if (r->content_length > (int64_t)limit) {
        char msg[96];
        snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", limit);
        return stop(c, 413, "body_too_large", msg);
    }
    c->body_limit = limit;
    ec_buf_free(&c->body);
    ec_buf_init(&c->body, limit);
    if (r->content_length) {
        int64_t rate = s->lim.body_min_rate > 0 ? s->lim.body_min_rate : 65536;
        int64_t len = r->content_length > 0 ? r->content_length : (int64_t)limit;
        c->deadline_ms = now_ms(s) + s->lim.header_timeout_ms + len * 1000 / rate;
        trim(c->head->expect);
        if (!strcasecmp(c->head->expect, "100-continue")) conn_write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    http_conn *c = conn_of(p);
    if (ec_buf_append(&c->body, at, n)) {
        char msg[96];
        snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", c->body_limit);
        return stop(c, 413, "body_too_large", msg);
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    http_conn *c = conn_of(p);
    c->message_done = 1;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* The request is in: hand it to the handler, or upgrade it. */
static void dispatch(http_conn *c)
{
    ec_http_server *s = c->s;
    pending_remove(c);
    c->busy = 1;
    c->message_done = 0;
    ec_http_request *r = c->req;
    if (!http_should_keep_alive(&c->parser)) c->close_after = 1;
    if (c->upgrade_ws) {
        const char *msg = "";
        int st = http__ws_check(c, &msg);
        if (st) {
            s->stats.ws_refused++;
            conn_refuse(c, st, st == 426 ? "upgrade_required" : "bad_request", msg);
            return;
        }
        void *user = NULL;
        ec_ws_handshake hs = {r->path, r->authorization, c->peer, c->tls != NULL, 0};
        hs.serial = ((uint64_t)c->slot << 40) | (++s->next_serial & 0xFFFFFFFFFFull);
        c->wait_serial = hs.serial;
        c->state = CONN_WS_PENDING;
        st = s->h.ws_accept ? s->h.ws_accept(s->h.ctx, &hs, &user) : 404;
        if (c->closed) return;
        if (st == EC_HTTP_PENDING) return; /* ec_http_ws_decide follows */
        ec_http_ws_decide(s, hs.serial, st, user);
        return;
    }
    r->body = c->body.data ? c->body.data : "";
    r->body_len = c->body.len;
    r->serial = ((uint64_t)c->slot << 40) | (++s->next_serial & 0xFFFFFFFFFFull);
    c->wait_serial = r->serial;
    ec_buf_reset(&c->res.body);
    c->res.status = 500;
    c->res.content_type = "application/json";
    c->res.www_authenticate[0] = 0;
    c->res.headers = NULL;
    uint64_t serial = r->serial;
    s->h.handle(s->h.ctx, r, &c->res);
    /* A handler may have answered through ec_http_complete already. */
    if (c->closed || c->wait_serial != serial || !c->busy) return;
    if (c->res.status) respond(c);
    /* else: ec_http_complete answers later; input waits meanwhile. */
}

ec_err ec_http_ws_decide(ec_http_server *s, uint64_t serial, int status, void *user)
{
    uint32_t slot = (uint32_t)(serial >> 40);
    http_conn *c = slot < s->n_slots ? s->slots[slot] : NULL;
    if (!c || c->closed || c->wait_serial != serial || c->state != CONN_WS_PENDING) return EC_ENOTFOUND;
    c->wait_serial = 0;
    if (status) {
        s->stats.ws_refused++;
        c->state = CONN_HTTP;
        const char *code = status == 401 ? "unauthorized" : status == 403 ? "forbidden" : status == 404 ? "not_found"
                          : status == 429 ? "too_many_requests" : status == 503 ? "unavailable" : "refused";
        if (!c->res.body.max) ec_buf_init(&c->res.body, 512u << 20);
        json_error(&c->res, status, code, "the WebSocket connection was refused (see the hub's log)");
        if (status == 401) snprintf(c->res.www_authenticate, sizeof c->res.www_authenticate, "Basic realm=\"ocpp\"");
        c->close_after = 1;
        s->stats.bad_requests += status == 400;
        respond(c);
        return EC_OK;
    }
    http__ws_accept(c, user);
    return EC_OK;
}

/* Parses what it can of data; keeps what must wait. */
static void http_feed(http_conn *c, const char *data, size_t n)
{
    while (!c->closed && c->state == CONN_HTTP) {
        if (c->busy || c->dead || c->out_queued >= HTTP_OUT_STOP) {
            /* Answering, or answers unread: input waits, up to a limit. */
            if (n && ec_buf_append(&c->held, data, n)) {
                conn_close(c);
                return;
            }
            if (c->reading && (c->held.len >= HTTP_HELD_STOP || c->out_queued >= HTTP_OUT_STOP || c->dead))
                uv_read_stop((uv_stream_t *)&c->tcp), c->reading = 0;
            return;
        }
        if (!n) return;
        c->refused = 0;
        size_t used = http_parser_execute(&c->parser, &settings, data, n);
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (c->closed) return;
        if (c->refused) {
            c->busy = 1;
            c->close_after = 1;
            c->s->stats.bad_requests += c->res.status != 401 && c->res.status != 403;
            respond(c);
            return;
        }
        if (e != HPE_OK && e != HPE_PAUSED) {
            const char *what = http_errno_description(e);
            int h2 = n >= 14 && !memcmp(data, "PRI * HTTP/2.0", 14);
            if (e == HPE_HEADER_OVERFLOW) {
                c->busy = 0;
                if (!c->in_headers) conn_refuse(c, 414, "uri_too_long", "the request target is longer than 4096 bytes");
                else conn_refuse(c, 431, "headers_too_large", "the request line and headers are larger than 8192 bytes");
                return;
            }
            int st = e == HPE_INVALID_VERSION || h2 ? 505 : 400;
            char msg[160];
            snprintf(msg, sizeof msg, "%s%s", h2 ? "HTTP/2 is not served here: use HTTP/1.1" : "the request is not valid HTTP/1.1: ",
                     h2 ? "" : what);
            c->busy = 0;
            conn_refuse(c, st, st == 505 ? "http_version" : "bad_request", msg);
            return;
        }
        if (used > n) used = n;
        data += used;
        n -= used;
        if (c->upgrade_ws && (c->parser.upgrade || c->message_done || e == HPE_OK)) {
            /* Whatever follows the handshake is the WebSocket's. */
            if (n && ec_buf_append(&c->held, data, n)) {
                conn_close(c);
                return;
            }
            c->message_done = 0;
            dispatch(c);
            return;
        }
        if (c->message_done) dispatch(c);
        else if (e == HPE_PAUSED) http_parser_pause(&c->parser, 0);
    }
    if (!c->closed && c->state == CONN_WS_PENDING && n && ec_buf_append(&c->held, data, n)) conn_close(c);
    if (!c->closed && c->state == CONN_WS && n) http__ws_input(c, data, n);
}

static void http_input(http_conn *c, const char *data, size_t n);

static void conn_input(http_conn *c, const char *data, size_t n)
{
    c->depth++;
    http_input(c, data, n);
    c->depth--;
    /* A half-closed client whose requests are all answered is done with. */
    if (!c->depth && !c->closed && c->eof && c->state == CONN_HTTP && !c->busy && !c->held.len && !c->dead) {
        if (c->out_queued) conn_finish(c);
        else conn_close(c);
    }
}

static void http_input(http_conn *c, const char *data, size_t n)
{
    if (c->closed) return;
    if (c->state == CONN_CLOSING || c->state == CONN_STREAM) return; /* dropped */
    if (c->state == CONN_WS) {
        if (n) http__ws_input(c, data, n);
        return;
    }
    if (c->state == CONN_WS_PENDING) {
        if (n && ec_buf_append(&c->held, data, n)) conn_close(c);
        return;
    }
    /* Held input goes first. */
    if (c->held.len && !c->busy) {
        if (n && ec_buf_append(&c->held, data, n)) {
            conn_close(c);
            return;
        }
        ec_buf h = c->held;
        ec_buf_init(&c->held, HTTP_HELD_MAX);
        http_feed(c, h.data, h.len);
        ec_buf_free(&h);
        if (!c->closed && !c->reading && !c->busy && c->held.len < HTTP_HELD_STOP &&
            c->out_queued < HTTP_OUT_STOP && c->state == CONN_HTTP)
            conn_read(c);
        return;
    }
    http_feed(c, data, n);
}

/* ---- connections ---------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    http_conn *c = h->data;
    (void)suggested;
    *b = uv_buf_init(c->s->readbuf, sizeof c->s->readbuf);
}

static void throttle(http_conn *c)
{
    ec_http_server *s = c->s;
    if (c->throttled || c->closed || s->stopping) return;
    if (ec_vec_push(&s->throttled, &c->slot)) return;
    c->throttled = 1;
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp), c->reading = 0;
    if (!uv_is_active((uv_handle_t *)&s->resume)) uv_idle_start(&s->resume, on_resume);
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    http_conn *c = st->data;
    if (c->closed) return;
    if (nread < 0 && c->state == CONN_STREAM) {
        conn_close(c); /* the client has left: nothing of the stream is worth sending */
        return;
    }
    if (nread == UV_EOF && c->state != CONN_WS && c->state != CONN_WS_PENDING &&
        (c->busy || c->out_queued || c->held.len || c->state == CONN_CLOSING)) {
        /* Half-closed: what it sent is answered, then the connection ends. */
        c->eof = 1;
        if (c->reading) uv_read_stop(st), c->reading = 0;
        if (c->state == CONN_CLOSING) {
            if (!c->out_queued) conn_close(c);
            return;
        }
        conn_input(c, NULL, 0);
        return;
    }
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread == 0) return;
    /* A full buffer means more is waiting: one buffer a turn per
     * connection, so one fast sender (a flood of messages, or a body the
     * hub is dropping) cannot hold the loop from everyone else. */
    if ((size_t)nread == sizeof c->s->readbuf) throttle(c);
    if (c->state == CONN_CLOSING) return;
    if (c->tls) http__tls_input(c, b->base, (size_t)nread);
    else conn_input(c, b->base, (size_t)nread);
}

static void conn_read(http_conn *c)
{
    if (c->closed || c->throttled) return;
    c->reading = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0;
}

/* The next turn: the throttled connections read again, where nothing
 * else holds them back. */
static void on_resume(uv_idle_t *h)
{
    ec_http_server *s = h->data;
    ec_vec v = s->throttled;
    ec_vec_init(&s->throttled, sizeof(uint32_t));
    uv_idle_stop(&s->resume);
    for (size_t i = 0; i < v.len; i++) {
        uint32_t slot = EC_VEC_AT(&v, uint32_t, i);
        http_conn *c = slot < s->n_slots ? s->slots[slot] : NULL;
        if (!c || c->closed || !c->throttled) continue;
        c->throttled = 0;
        if (c->dead || c->eof || c->reading) continue;
        if (c->state == CONN_HTTP) conn_resume(c);
        else if (c->state == CONN_CLOSING || c->state == CONN_STREAM) conn_read(c);
        else if (c->state == CONN_WS && c->out_queued < HTTP_OUT_STOP) conn_read(c);
    }
    ec_vec_free(&v);
}

/* The client's address, as text and as bytes (an IPv6 /64 is one client),
 * and its bucket under the server's secret key. */
static uint32_t bucket_of(ec_http_server *s, const struct sockaddr_storage *ss, http_conn *c)
{
    memset(c->addr, 0, sizeof c->addr);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, c->peer, sizeof c->peer);
        memcpy(c->addr, &a->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, c->peer, sizeof c->peer);
        memcpy(c->addr, &a->sin6_addr, 8);
        c->addr[15] = 6;
    } else {
        snprintf(c->peer, sizeof c->peer, "local");
        c->addr[15] = 1;
    }
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, c->addr, sizeof c->addr, s->addr_key);
    uint32_t v;
    memcpy(&v, h, sizeof v);
    return v % HTTP_ADDR_BUCKETS;
}

static ec_err slot_take(ec_http_server *s, http_conn *c)
{
    if (s->n_free) {
        c->slot = s->free_slots[--s->n_free];
    } else {
        if (s->n_slots == s->cap_slots) {
            uint32_t cap = s->cap_slots ? s->cap_slots * 2 : 1024;
            if (cap >= (1u << 24)) return EC_ELIMIT;
            http_conn **sl = ec_realloc(s->slots, cap * sizeof *sl);
            if (!sl) return EC_ENOMEM;
            s->slots = sl;
            uint32_t *fr = ec_realloc(s->free_slots, cap * sizeof *fr);
            if (!fr) return EC_ENOMEM;
            s->free_slots = fr;
            s->cap_slots = cap;
        }
        c->slot = s->n_slots++;
    }
    s->slots[c->slot] = c;
    return EC_OK;
}

/* The oldest connection of a bucket that has been sending long enough to
 * give its place to a newer one. */
static http_conn *evictable(ec_http_server *s, const http_conn *c, int64_t now)
{
    for (http_conn *p = s->pend_head; p; p = p->pend_next) {
        if (now - p->pending_since_ms < HTTP_EVICT_AGE_MS) return NULL; /* the rest are younger */
        if (p->bucket == c->bucket && !p->busy && !memcmp(p->addr, c->addr, sizeof c->addr)) return p;
    }
    return NULL;
}

/* Takes over a connected socket: limits first, then reading. */
static void conn_begin(ec_http_server *s, http_conn *c)
{
    c->s = s;
    c->tcp.data = c;
    c->state = CONN_HTTP;
    ec_buf_init(&c->held, HTTP_HELD_MAX);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    s->stats.open++;
    s->stats.total++;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len)) ss.ss_family = AF_UNSPEC;
    c->bucket = bucket_of(s, &ss, c);
    uv_tcp_nodelay(&c->tcp, 1);
    if (slot_take(s, c)) {
        c->slot = UINT32_MAX;
        conn_close(c);
        return;
    }
    if (s->tls_ctx && http__tls_conn(c)) {
        conn_close(c);
        return;
    }
    int64_t now = now_ms(s);
    int busy = s->stats.open > s->lim.max_connections;
    if (!busy && s->pending_by_bucket[c->bucket] >= (uint32_t)s->lim.max_pending_per_addr) {
        http_conn *old = evictable(s, c, now);
        if (old) {
            s->stats.refused_busy++;
            conn_refuse(old, 503, "busy", "too many connections from one address are still sending their request");
        } else {
            busy = 2;
        }
    }
    pending_add(c, now + s->lim.header_timeout_ms);
    if (busy && c->tls) {
        /* No answer can be written before its TLS handshake. */
        s->stats.refused_busy++;
        conn_close(c);
        return;
    }
    conn_read(c);
    if (busy) {
        s->stats.refused_busy++;
        conn_refuse(c, 503, "busy",
                     busy == 1 ? "the hub has as many connections as it takes; try again later"
                               : "too many connections from one address are still sending their request");
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    ec_http_server *s = server->data;
    if (status < 0) return;
    http_conn *c = ec_calloc(1, sizeof *c);
    if (!c) {
        /* Accept and drop, so the listen queue does not fill. */
        uv_tcp_t tmp;
        if (!uv_tcp_init(s->loop, &tmp) && !uv_accept(server, (uv_stream_t *)&tmp)) {
            int fd = -1;
            uv_fileno((uv_handle_t *)&tmp, &fd);
            if (fd >= 0) shutdown(fd, SHUT_RDWR);
        }
        uv_close((uv_handle_t *)&tmp, NULL);
        return;
    }
    if (uv_tcp_init(s->loop, &c->tcp)) {
        ec_free(c);
        return;
    }
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        uv_close((uv_handle_t *)&c->tcp, on_closed);
        return;
    }
    conn_begin(s, c);
}

/* Deadlines, four times a second: the clients still sending past theirs
 * get 408; lingering connections close. */
static void on_sweep(uv_timer_t *t)
{
    ec_http_server *s = t->data;
    int64_t now = now_ms(s);
    for (http_conn *c = s->pend_head, *next; c; c = next) {
        next = c->pend_next;
        if (c->deadline_ms && now >= c->deadline_ms && !c->busy) {
            s->stats.timeouts++;
            conn_refuse(c, 408, "request_timeout", "the request was sent too slowly");
        }
    }
    for (uint32_t i = 0; i < s->n_slots; i++) {
        http_conn *c = s->slots[i];
        if (c && c->linger_until_ms && now >= c->linger_until_ms) conn_close(c);
    }
}

/* ---- the server ------------------------------------------------------------ */

static void limits_default(ec_http_limits_t *l)
{
    if (l->max_connections <= 0) {
        struct rlimit rl;
        int64_t n = 4096;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) n = (int64_t)rl.rlim_cur - 64;
        if (n > 1000000) n = 1000000;
        l->max_connections = n < 16 ? 16 : (int)n;
    }
    if (l->max_pending_per_addr <= 0) l->max_pending_per_addr = 256;
    if (l->max_pending_per_addr > 65535) l->max_pending_per_addr = 65535;
    if (l->header_timeout_ms <= 0) l->header_timeout_ms = 10000;
    if (l->idle_timeout_ms <= 0) l->idle_timeout_ms = 30000;
    if (l->body_min_rate <= 0) l->body_min_rate = 65536;
}

static const http_conn_ops conn_ops = {
    .input = conn_input,
    .write = conn_write,
    .write_raw = conn_write_raw,
    .close = conn_close,
    .kill = conn_kill,
};

ec_err http__server_new(uv_loop_t *loop, const ec_http_handler *h, const ec_http_limits_t *lim,
                        ec_http_server **out)
{
    ec_http_server *s = ec_calloc(1, sizeof *s);
    if (!s) return EC_ENOMEM;
    s->loop = loop;
    s->ops = &conn_ops;
    s->h = *h;
    if (lim) s->lim = *lim;
    limits_default(&s->lim);
    http_parser_set_max_header_size(HTTP_HEADERS_MAX);
    randombytes_buf(s->addr_key, sizeof s->addr_key);
    /* A write to a peer that has gone must fail with EPIPE, not end the
     * process: libuv writes with write(2). */
    signal(SIGPIPE, SIG_IGN);
    uv_timer_init(loop, &s->sweep);
    s->sweep.data = s;
    uv_idle_init(loop, &s->resume);
    s->resume.data = s;
    ec_vec_init(&s->throttled, sizeof(uint32_t));
    uv_timer_start(&s->sweep, on_sweep, 250, 250);
    uv_unref((uv_handle_t *)&s->sweep);
    *out = s;
    return EC_OK;
}

ec_err http__adopt(ec_http_server *s, int fd)
{
    http_conn *c = ec_calloc(1, sizeof *c);
    if (!c) return EC_ENOMEM;
    if (uv_tcp_init(s->loop, &c->tcp)) {
        ec_free(c);
        return EC_EIO;
    }
    c->tcp.data = c;
    if (uv_tcp_open(&c->tcp, fd)) {
        uv_close((uv_handle_t *)&c->tcp, on_closed);
        return EC_EIO;
    }
    conn_begin(s, c);
    return EC_OK;
}

/* A bind of our own first, to name the reason it fails. */
static ec_err bind_error(const char *host, int port, int e)
{
    if (e == UV_EADDRINUSE) return ec_fail(EC_EIO, "%s:%d is already in use by another program", host, port);
    if (e == UV_EACCES) return ec_fail(EC_EIO, "%s:%d: not permitted to listen there", host, port);
    if (e == UV_EADDRNOTAVAIL) return ec_fail(EC_EIO, "%s:%d: %s is not an address of this machine", host, port, host);
    return ec_fail(EC_EIO, "%s:%d: cannot listen: %s", host, port, uv_strerror(e));
}

ec_err ec_http_start(uv_loop_t *loop, const char *host, int port, const ec_http_handler *h,
                     const ec_http_tls_t *tls, const ec_http_limits_t *lim, ec_http_server **out)
{
    struct sockaddr_in a;
    if (uv_ip4_addr(host, port, &a)) return ec_fail(EC_EINVAL, "--listen %s:%d: %s is not an IPv4 address", host, port, host);
    ec_http_server *s;
    ec_err rc = http__server_new(loop, h, lim, &s);
    if (rc) return rc;
    if (tls && tls->cert_path && (rc = http__tls_init(s, tls->cert_path, tls->key_path))) goto fail;
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->listening = 1;
    int e = uv_tcp_bind(&s->listener, (const struct sockaddr *)&a, 0);
    if (!e) e = uv_listen((uv_stream_t *)&s->listener, 4096, on_connection);
    if (e) {
        rc = bind_error(host, port, e);
        goto fail;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    s->port = port;
    if (!uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) && ss.ss_family == AF_INET)
        s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *out = s;
    return EC_OK;
fail:
    ec_http_stop(s);
    uv_run(loop, UV_RUN_NOWAIT);
    ec_http_free(s);
    return rc;
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
    if (!s || s->stopping) return;
    s->stopping = 1;
    if (s->listening) uv_close((uv_handle_t *)&s->listener, NULL);
    uv_timer_stop(&s->sweep);
    uv_close((uv_handle_t *)&s->sweep, NULL);
    uv_idle_stop(&s->resume);
    uv_close((uv_handle_t *)&s->resume, NULL);
    for (uint32_t i = 0; i < s->n_slots; i++)
        if (s->slots[i]) conn_close(s->slots[i]);
}

void ec_http_free(ec_http_server *s)
{
    if (!s) return;
    ec_http_stop(s);
    http__tls_free(s);
    ec_vec_free(&s->throttled);
    ec_free(s->slots);
    ec_free(s->free_slots);
    ec_free(s);
}

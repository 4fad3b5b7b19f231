/* http_ws.c - WebSocket (RFC 6455) for the HTTP layer: the handshake, and
 * frames through wslay (the one file that knows it). wslay reassembles
 * fragments, answers pings and closes, checks masking and reserved bits and
 * enforces the message limit (1009); this file adds the subprotocol, text
 * only (1003), UTF-8 (1007) and a bound on what a slow reader may owe.
 *
 * A layer below http.c: it writes, and closes its connection, only through
 * the server's http_conn_ops, so it does not depend on the file that calls
 * it. */
#include "http_ws.h"

#include "http_internal.h"

#include <openssl/sha.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

struct ec_ws {
    http_conn *c;
    void *user;
    void *wslay;          /* wslay_event_context_ptr */
    const char *in;       /* input being handed to wslay */
    size_t in_len;
    int close_queued;
    int opened;
};

static int64_t now_ms(const http_conn *c)
{
    return (int64_t)uv_now(c->s->loop);
}

/* 1 when s (n bytes) is valid UTF-8 (no overlongs, no surrogates). */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned min;
        if ((c & 0xE0) == 0xC0) k = 1, min = 0x80, c &= 0x1F;
        else if ((c & 0xF0) == 0xE0) k = 2, min = 0x800, c &= 0x0F;
        else if ((c & 0xF8) == 0xF0) k = 3, min = 0x10000, c &= 0x07;
        else return 0;
        if (i + k >= n) return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            c = (c << 6) | (s[i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
        i += k + 1;
    }
    return 1;
}

/* 1 when the comma-separated list has token (case-sensitive, as RFC 6455
 * says of subprotocols). */
static int list_has(const char *list, const char *token, int fold)
{
    size_t tn = strlen(token);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t')) t--;
        if ((size_t)(t - p) == tn && (fold ? !strncasecmp(p, token, tn) : !strncmp(p, token, tn))) return 1;
        p = e;
    }
    return 0;
}

int http__ws_check(http_conn *c, const char **message)
{
    ec_http_server *s = c->s;
    if (c->req->method != EC_HTTP_GET) return *message = "a WebSocket handshake is a GET", 400;
    if (!(c->parser.flags & F_CONNECTION_UPGRADE))
        return *message = "a WebSocket handshake needs Connection: Upgrade", 400;
    if (strcmp(c->head->ws_version, "13") != 0)
        return *message = "only WebSocket version 13 is served (Sec-WebSocket-Version: 13)", 426;
    unsigned char key[32];
    size_t kn = 0;
    if (c->hover[HDR_WS_KEY] ||
        sodium_base642bin(key, sizeof key, c->head->ws_key, strlen(c->head->ws_key), NULL, &kn, NULL,
                          sodium_base64_VARIANT_ORIGINAL) ||
        kn != 16)
        return *message = "Sec-WebSocket-Key must be 16 bytes in base64", 400;
    if (!s->h.ws_protocol || c->hover[HDR_WS_PROTOCOL] || !list_has(c->head->ws_protocol, s->h.ws_protocol, 0)) {
        ec_log(EC_LOG_INFO, "ws: upgrade from %s refused: no supported subprotocol offered (%s wanted)", c->peer,
               s->h.ws_protocol ? s->h.ws_protocol : "none");
        return *message = "no supported WebSocket subprotocol offered (ocpp1.6)", 400;
    }
    return 0;
}

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    ec_ws *w = user;
    (void)flags;
    if (!w->in_len) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < w->in_len ? len : w->in_len;
    memcpy(buf, w->in, n);
    w->in += n;
    w->in_len -= n;
    return (ssize_t)n;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    ec_ws *w = user;
    (void)flags;
    http_conn *c = w->c;
    if (c->closed || c->dead || c->s->ops->write(c, data, len)) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static void ws_queue_close(ec_ws *w, int code, const char *reason)
{
    if (w->close_queued) return;
    w->close_queued = 1;
    wslay_event_queue_close(w->wslay, (uint16_t)code, (const uint8_t *)reason, reason ? strlen(reason) : 0);
}

static void ws_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
    ec_ws *w = user;
    http_conn *c = w->c;
    ec_http_server *s = c->s;
    (void)ctx;
    if (arg->opcode == WSLAY_TEXT_FRAME) {
        s->stats.ws_in++;
        if (w->close_queued) return;
        if (!utf8_valid(arg->msg, arg->msg_length)) {
            ws_queue_close(w, 1007, "a text message must be UTF-8");
            return;
        }
        if (s->h.ws_message) s->h.ws_message(s->h.ctx, w->user, w, (const char *)arg->msg, arg->msg_length);
    } else if (arg->opcode == WSLAY_BINARY_FRAME) {
        ws_queue_close(w, 1003, "OCPP-J messages are text");
    } else if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        w->close_queued = 1; /* wslay answers it */
    }
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = ws_recv,
    .send_callback = ws_send,
    .on_msg_recv_callback = ws_msg,
};

/* Sends what wslay has queued; closes the socket once the closing
 * handshake is done both ways, or wslay gave up. */
static void ws_pump(http_conn *c, int may_close)
{
    ec_ws *w = c->ws;
    if (c->closed || c->dead || !w) return;
    if (wslay_event_send(w->wslay) != 0) {
        c->s->ops->kill(c);
        return;
    }
    if (!wslay_event_want_read(w->wslay) && !wslay_event_want_write(w->wslay)) {
        /* Both closes are through: end the TCP connection once written. */
        if (!c->out_queued && may_close) c->s->ops->close(c);
        else if (!c->out_queued) c->s->ops->kill(c);
        else if (!c->linger_until_ms) c->linger_until_ms = now_ms(c) + HTTP_LINGER_MS;
        return;
    }
    if (w->close_queued && !c->linger_until_ms) {
        /* A peer that never answers our close is not waited for long. */
        c->linger_until_ms = now_ms(c) + 5000;
    }
}

void http__ws_accept(http_conn *c, void *user)
{
    ec_http_server *s = c->s;
    unsigned char digest[SHA_DIGEST_LENGTH];
    char accept[64], keyed[128];
    int kn = snprintf(keyed, sizeof keyed, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", c->head->ws_key);
    SHA1((const unsigned char *)keyed, (size_t)kn, digest);
    sodium_bin2base64(accept, sizeof accept, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL);
    ec_ws *w = ec_calloc(1, sizeof *w);
    if (!w || wslay_event_context_server_init((wslay_event_context_ptr *)&w->wslay, &callbacks, w)) {
        ec_free(w);
        if (s->h.ws_closed) s->h.ws_closed(s->h.ctx, user);
        c->s->ops->close(c);
        return;
    }
    w->c = c;
    w->user = user;
    wslay_event_config_set_max_recv_msg_length(w->wslay, s->h.ws_max_message ? s->h.ws_max_message : 65536);
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
                     accept, s->h.ws_protocol);
    c->ws = w;
    c->state = CONN_WS;
    c->busy = 0;
    ec_free(c->head); /* a WebSocket keeps no request */
    c->head = NULL;
    c->req = NULL;
    ec_buf_free(&c->res.body);
    ec_buf_free(&c->body);
    w->opened = 1;
    s->stats.ws_open++;
    s->stats.ws_total++;
    if (c->s->ops->write(c, head, (size_t)n)) return; /* closed: ws_closed was called */
    if (s->h.ws_open) s->h.ws_open(s->h.ctx, user, w);
    if (c->closed) return;
    if (c->held.len) {
        ec_buf h = c->held;
        ec_buf_init(&c->held, HTTP_HELD_MAX);
        http__ws_input(c, h.data, h.len);
        ec_buf_free(&h);
    }
}

void http__ws_input(http_conn *c, const char *data, size_t n)
{
    ec_ws *w = c->ws;
    if (c->out_queued > HTTP_WS_QUEUE_MAX) {
        /* Pings (or messages) from a peer that reads none of the answers. */
        ws_queue_close(w, 1008, "too much unread");
        ws_pump(c, 1);
        return;
    }
    w->in = data;
    w->in_len = n;
    int r = wslay_event_recv(w->wslay);
    w->in = NULL;
    w->in_len = 0;
    if (c->closed) return;
    if (r) {
        /* A protocol error (a fragmented control frame, say) comes back as
         * a failure, with a close queued that carries no code: ours says
         * 1002, written as it is, and the connection ends. */
        if (!w->close_queued) {
            static const unsigned char close_1002[] = {0x88, 0x02, 0x03, 0xEA};
            w->close_queued = 1;
            c->s->ops->write(c, close_1002, sizeof close_1002);
        }
        if (!c->closed) c->s->ops->kill(c);
        return;
    }
    ws_pump(c, 1);
    /* Its answers wait unread: read no more of it until they are taken. */
    if (!c->closed && c->out_queued >= HTTP_OUT_STOP && c->reading)
        uv_read_stop((uv_stream_t *)&c->tcp), c->reading = 0;
}

void http__ws_drained(http_conn *c)
{
    ws_pump(c, 1);
}

void http__ws_free(http_conn *c)
{
    ec_ws *w = c->ws;
    ec_http_server *s = c->s;
    c->ws = NULL;
    if (!w) return;
    if (w->opened) {
        s->stats.ws_open--;
        w->opened = 0;
        if (s->h.ws_closed) s->h.ws_closed(s->h.ctx, w->user);
    }
    wslay_event_context_free(w->wslay);
    ec_free(w);
}

ec_err ec_ws_send(ec_ws *w, const char *data, size_t len)
{
    http_conn *c = w->c;
    if (!c || c->closed || c->dead || w->close_queued) return EC_OK; /* closing: nothing more goes out */
    if (c->out_queued > HTTP_WS_QUEUE_MAX) {
        ec_log(EC_LOG_WARN, "ws: a peer reads too slowly (%zu bytes queued): closing it", c->out_queued);
        ws_queue_close(w, 1008, "too much unread");
        ws_pump(c, 0);
        return EC_ELIMIT;
    }
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)data, len};
    if (wslay_event_queue_msg(w->wslay, &m)) return EC_ENOMEM;
    c->s->stats.ws_out++;
    ws_pump(c, 0);
    return EC_OK;
}

void ec_ws_close(ec_ws *w, int code, const char *reason)
{
    http_conn *c = w->c;
    if (!c || c->closed || c->dead || w->close_queued) return;
    ws_queue_close(w, code, reason);
    ws_pump(c, 0);
}

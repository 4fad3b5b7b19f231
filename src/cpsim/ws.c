/* ws.c - the simulator's WebSocket client: libuv for the socket, wslay (in
 * client mode: it masks what we send and refuses masked frames from the
 * server) for the frames. The hub's answer to the upgrade is checked
 * whole, Sec-WebSocket-Accept included, before any frame is read; a
 * message over 64 KiB is refused by wslay with 1009, a binary one with
 * 1003; what the hub sends is never trusted to be JSON (cp.c parses it). */
#include "ws.h"

#include "ecorridor/ec_cpsim.h"

#include <openssl/sha.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define HANDSHAKE_TIMEOUT_MS 10000
#define CLOSE_WAIT_MS 3000

typedef enum { WS_CONNECTING, WS_HANDSHAKE, WS_OPEN, WS_CLOSING } ws_state;

struct cpsim_ws {
    uv_tcp_t tcp;
    uv_connect_t conn;
    uv_timer_t timer;
    uv_loop_t *loop;
    ws_state state;
    cpsim_ws_handler h;
    void *user;
    wslay_event_context_ptr wslay;
    char key[32];
    char request[1024];
    ec_buf head; /* the answer to the upgrade, until its blank line */
    const char *in;
    size_t in_len;
    char rbuf[65536];
    char why[160];
    int handles; /* tcp and timer still open */
};

typedef struct {
    uv_write_t req;
    char data[];
} ws_write;

/* ---- the answer to the upgrade ------------------------------------------------------------ */

static int has_token(const char *v, const char *token)
{
    size_t tn = strlen(token);
    for (const char *p = v; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t')) t--;
        if ((size_t)(t - p) == tn && !strncasecmp(p, token, tn)) return 1;
        p = e;
    }
    return 0;
}

int ec_cpsim_ws_check_response(const char *head, size_t len, const char *key_b64, char *why, size_t n)
{
    char line[1024];
    int status = -1, upgrade = 0, connection = 0, accept = 0, proto = 0;
    unsigned char digest[SHA_DIGEST_LENGTH];
    char keyed[128], want[64];
    int kn = snprintf(keyed, sizeof keyed, "%s" WS_GUID, key_b64);
    SHA1((const unsigned char *)keyed, (size_t)kn, digest);
    sodium_bin2base64(want, sizeof want, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL);
    if (len > EC_CPSIM_HANDSHAKE_MAX) return snprintf(why, n, "an answer over %d bytes", EC_CPSIM_HANDSHAKE_MAX), -1;
    size_t i = 0;
    for (int ln = 0; i < len; ln++) {
        size_t e = i;
        while (e < len && head[e] != '\n') e++;
        size_t l = e - i;
        if (l && head[i + l - 1] == '\r') l--;
        if (l >= sizeof line) return snprintf(why, n, "a header line over %zu bytes", sizeof line - 1), -1;
        memcpy(line, head + i, l);
        line[l] = 0;
        if (memchr(line, 0, l)) return snprintf(why, n, "a NUL byte in the answer"), -1;
        i = e + 1;
        if (ln == 0) {
            int code;
            char tail;
            if (sscanf(line, "HTTP/1.1 %3d%c", &code, &tail) < 1 || code < 100 || code > 599)
                return snprintf(why, n, "not an HTTP/1.1 status line"), -1;
            status = code;
            continue;
        }
        if (!l) break;
        char *colon = strchr(line, ':');
        if (!colon) return snprintf(why, n, "a header line without a colon"), -1;
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) v[--vl] = 0;
        if (!strcasecmp(line, "Upgrade")) upgrade += !strcasecmp(v, "websocket") ? 1 : 100;
        else if (!strcasecmp(line, "Connection")) connection |= has_token(v, "upgrade");
        else if (!strcasecmp(line, "Sec-WebSocket-Accept")) accept += !strcmp(v, want) ? 1 : 100;
        else if (!strcasecmp(line, "Sec-WebSocket-Protocol")) proto += !strcmp(v, "ocpp1.6") ? 1 : 100;
    }
    if (status != 101) return snprintf(why, n, "the hub answered %d, not 101 Switching Protocols", status), status;
    if (upgrade != 1 || !connection) return snprintf(why, n, "no Upgrade: websocket and Connection: Upgrade"), -1;
    if (accept != 1) return snprintf(why, n, "a Sec-WebSocket-Accept that does not match our key"), -1;
    if (proto != 1) return snprintf(why, n, "the hub did not agree to the ocpp1.6 subprotocol"), -1;
    return 0;
}

/* ---- the socket ----------------------------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *hd)
{
    cpsim_ws *w = hd->data;
    if (--w->handles) return;
    if (w->h.closed) w->h.closed(w->h.ctx, w, w->user, w->why[0] ? w->why : "closed");
    if (w->wslay) wslay_event_context_free(w->wslay);
    ec_buf_free(&w->head);
    ec_free(w);
}

static void drop(cpsim_ws *w, const char *why)
{
    if (w->state == WS_CLOSING && uv_is_closing((uv_handle_t *)&w->tcp)) return;
    if (!w->why[0] && why != w->why) snprintf(w->why, sizeof w->why, "%s", why);
    w->state = WS_CLOSING;
    if (!uv_is_closing((uv_handle_t *)&w->tcp)) uv_close((uv_handle_t *)&w->tcp, on_handle_closed);
    if (!uv_is_closing((uv_handle_t *)&w->timer)) uv_close((uv_handle_t *)&w->timer, on_handle_closed);
}

static void on_written(uv_write_t *req, int status)
{
    ws_write *wr = (ws_write *)req;
    cpsim_ws *w = req->data;
    ec_free(wr);
    if (status < 0 && status != UV_ECANCELED) drop(w, "the connection broke while writing");
}

static int write_raw(cpsim_ws *w, const void *data, size_t len)
{
    if (uv_is_closing((uv_handle_t *)&w->tcp)) return -1;
    ws_write *wr = ec_malloc(sizeof *wr + len);
    if (!wr) return -1;
    memcpy(wr->data, data, len);
    wr->req.data = w;
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)len);
    if (uv_write(&wr->req, (uv_stream_t *)&w->tcp, &b, 1, on_written)) {
        ec_free(wr);
        return -1;
    }
    return 0;
}

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    cpsim_ws *w = user;
    (void)flags;
    if (!w->in_len) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < w->in_len ? len : w->in_len;
    memcpy(buf, w->in, n);
    w->in += n, w->in_len -= n;
    return (ssize_t)n;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    (void)flags;
    if (write_raw(user, data, len)) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)ctx, (void)user;
    randombytes_buf(buf, len);
    return 0;
}

static void ws_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
    cpsim_ws *w = user;
    if (arg->opcode == WSLAY_TEXT_FRAME) {
        if (w->state == WS_OPEN && w->h.message) w->h.message(w->h.ctx, w, w->user, (const char *)arg->msg, arg->msg_length);
    } else if (arg->opcode == WSLAY_BINARY_FRAME) {
        snprintf(w->why, sizeof w->why, "the hub sent a binary frame (closed with 1003)");
        wslay_event_queue_close(ctx, 1003, (const uint8_t *)"OCPP-J messages are text", 24);
    } else if (arg->opcode == WSLAY_CONNECTION_CLOSE && !w->why[0]) {
        snprintf(w->why, sizeof w->why, "the hub closed the connection (%u)", (unsigned)arg->status_code);
    }
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = ws_recv,
    .send_callback = ws_send,
    .genmask_callback = ws_genmask,
    .on_msg_recv_callback = ws_msg,
};

static void pump(cpsim_ws *w)
{
    if (w->state < WS_OPEN || uv_is_closing((uv_handle_t *)&w->tcp)) return;
    if (wslay_event_send(w->wslay)) {
        drop(w, "the connection broke");
        return;
    }
    if (wslay_event_get_status_code_sent(w->wslay) == 1009 && !w->why[0])
        snprintf(w->why, sizeof w->why, "the hub sent a message over 64 KiB (closed with 1009)");
    if (!wslay_event_want_read(w->wslay) && !wslay_event_want_write(w->wslay)) drop(w, "closed");
}

static void frames_in(cpsim_ws *w, const char *data, size_t n)
{
    w->in = data, w->in_len = n;
    int r = wslay_event_recv(w->wslay);
    w->in = NULL, w->in_len = 0;
    if (r) {
        drop(w, "the hub broke the WebSocket framing (closed with 1002)");
        return;
    }
    pump(w);
}

static void on_timeout(uv_timer_t *t)
{
    cpsim_ws *w = t->data;
    drop(w, w->state == WS_CLOSING ? "closed" : "the hub did not answer the upgrade within 10 s");
}

static void on_alloc(uv_handle_t *hd, size_t want, uv_buf_t *buf)
{
    cpsim_ws *w = hd->data;
    (void)want;
    *buf = uv_buf_init(w->rbuf, sizeof w->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    cpsim_ws *w = s->data;
    if (nread < 0) {
        drop(w, nread == UV_EOF ? "the hub closed the connection" : "the connection broke");
        return;
    }
    if (w->state == WS_HANDSHAKE) {
        if (ec_buf_append(&w->head, buf->base, (size_t)nread)) {
            drop(w, "the hub's answer to the upgrade is over 8 KiB");
            return;
        }
        char *end = strstr(w->head.data, "\r\n\r\n");
        if (!end) {
            if (memchr(w->head.data, 0, w->head.len)) drop(w, "a NUL byte in the hub's answer");
            return;
        }
        size_t hl = (size_t)(end + 4 - w->head.data);
        int st = ec_cpsim_ws_check_response(w->head.data, hl, w->key, w->why, sizeof w->why);
        if (st) {
            drop(w, w->why);
            return;
        }
        if (wslay_event_context_client_init(&w->wslay, &callbacks, w)) {
            drop(w, "out of memory");
            return;
        }
        wslay_event_config_set_max_recv_msg_length(w->wslay, EC_CPSIM_FRAME_MAX);
        w->state = WS_OPEN;
        uv_timer_stop(&w->timer);
        if (w->h.open) w->h.open(w->h.ctx, w, w->user);
        if (w->state == WS_OPEN && w->head.len > hl) frames_in(w, w->head.data + hl, w->head.len - hl);
        ec_buf_free(&w->head);
        return;
    }
    if (w->state >= WS_OPEN) frames_in(w, buf->base, (size_t)nread);
}

static void on_connect(uv_connect_t *req, int status)
{
    cpsim_ws *w = req->data;
    if (status < 0) {
        char m[120];
        snprintf(m, sizeof m, "%s", uv_strerror(status));
        drop(w, m);
        return;
    }
    if (w->state == WS_CLOSING) return;
    w->state = WS_HANDSHAKE;
    if (write_raw(w, w->request, strlen(w->request)) || uv_read_start((uv_stream_t *)&w->tcp, on_alloc, on_read))
        drop(w, "cannot send the upgrade");
}

cpsim_ws *ws__connect(uv_loop_t *loop, const struct sockaddr *addr, const char *host, const char *path,
                           const char *user, const char *password, const cpsim_ws_handler *h, void *user_data)
{
    cpsim_ws *w = ec_calloc(1, sizeof *w);
    if (!w) return NULL;
    w->loop = loop, w->h = *h, w->user = user_data;
    ec_buf_init(&w->head, EC_CPSIM_HANDSHAKE_MAX);
    unsigned char nonce[16];
    randombytes_buf(nonce, sizeof nonce);
    sodium_bin2base64(w->key, sizeof w->key, nonce, sizeof nonce, sodium_base64_VARIANT_ORIGINAL);
    char cred[128], auth[256] = "";
    int cn = snprintf(cred, sizeof cred, "%s:%s", user, password);
    if (password[0] && cn > 0 && (size_t)cn < sizeof cred) {
        char b64[180];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)cred, (size_t)cn, sodium_base64_VARIANT_ORIGINAL);
        snprintf(auth, sizeof auth, "Authorization: Basic %s\r\n", b64);
    }
    sodium_memzero(cred, sizeof cred);
    int rn = snprintf(w->request, sizeof w->request,
                      "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n%s\r\n",
                      path, host, w->key, auth);
    if (rn < 0 || (size_t)rn >= sizeof w->request || uv_tcp_init(loop, &w->tcp)) {
        ec_buf_free(&w->head);
        ec_free(w);
        return NULL;
    }
    w->tcp.data = w, w->timer.data = w, w->conn.data = w;
    uv_timer_init(loop, &w->timer);
    w->handles = 2;
    uv_tcp_nodelay(&w->tcp, 1);
    uv_timer_start(&w->timer, on_timeout, HANDSHAKE_TIMEOUT_MS, 0);
    int r = uv_tcp_connect(&w->conn, &w->tcp, addr, on_connect);
    if (r) {
        char m[120];
        snprintf(m, sizeof m, "%s", uv_strerror(r));
        drop(w, m);
    }
    return w;
}

ec_err ws__send(cpsim_ws *w, const char *text, size_t len)
{
    if (w->state != WS_OPEN) return EC_EIO;
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
    if (wslay_event_queue_msg(w->wslay, &m)) return EC_EIO;
    pump(w);
    return EC_OK;
}

void ws__close(cpsim_ws *w, int code, const char *reason)
{
    if (w->state != WS_OPEN) {
        drop(w, reason);
        return;
    }
    snprintf(w->why, sizeof w->why, "%s", reason);
    w->state = WS_CLOSING;
    wslay_event_queue_close(w->wslay, (uint16_t)code, (const uint8_t *)reason, strlen(reason));
    /* The hub's answering close is waited for only so long. */
    uv_timer_start(&w->timer, on_timeout, CLOSE_WAIT_MS, 0);
    if (wslay_event_send(w->wslay)) drop(w, reason);
}

/* fuzz_http.c - raw bytes into the HTTP layer (http.c, http_ws.c) over a
 * real socket: one connection per input, the bytes split at points the
 * input chooses, with answers deferred and handshakes decided later, as the
 * hub's handlers do. Built twice: fuzz_http gives the bytes as they are
 * (requests, pipelined, with bodies); fuzz_ws (FUZZ_WS) opens a WebSocket
 * first and turns the input into frames: masked or not, fragmented, control
 * frames, any opcode and length. */
#include "server/http.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static ec_http_server *srv;
static uint64_t deferred[8], handshakes[8];
static size_t n_deferred, n_handshakes;
static ec_ws *last_ws;
static int lazy; /* the peer reads only when it must: the hub's output backs up */

static void handle(void *ctx, const ec_http_request *req, ec_http_response *res)
{
    (void)ctx;
    if (!strcmp(req->path, "/defer") && n_deferred < 8) {
        deferred[n_deferred++] = req->serial;
        res->status = 0;
        return;
    }
    res->status = 200;
    ec_buf_printf(&res->body, "{\"path\":\"%.40s\",\"args\":%zu,\"body\":%zu}", req->path, req->n_args, req->body_len);
}

static size_t admit(void *ctx, const ec_http_request *req, ec_http_response *res)
{
    (void)ctx;
    if (!strcmp(req->path, "/deny")) {
        res->status = 401;
        ec_buf_puts(&res->body, "{}");
    }
    return 4096;
}

/* The hub's metrics index a table by method and status: both must be in range. */
static void done(void *ctx, ec_http_method m, int status, double seconds)
{
    (void)ctx, (void)seconds;
    if ((unsigned)m >= EC_HTTP_N_METHODS || status < 100 || status > 599) __builtin_trap();
}

static int ws_accept(void *ctx, const ec_ws_handshake *hs, void **user)
{
    (void)ctx;
    *user = NULL;
    if (!strcmp(hs->path, "/ws")) return 0;
    if (!strcmp(hs->path, "/wsp") && n_handshakes < 8) {
        handshakes[n_handshakes++] = hs->serial;
        return EC_HTTP_PENDING;
    }
    return 404;
}

static void ws_open(void *ctx, void *user, ec_ws *ws)
{
    (void)ctx, (void)user;
    last_ws = ws;
}

static void ws_message(void *ctx, void *user, ec_ws *ws, const char *data, size_t len)
{
    (void)ctx, (void)user;
    if (len == 5 && !memcmp(data, "close", 5)) ec_ws_close(ws, 1000, "asked");
    else ec_ws_send(ws, data, len);
}

static void ws_closed(void *ctx, void *user)
{
    (void)ctx, (void)user;
    last_ws = NULL;
}

static void drain(int fd)
{
    char buf[65536];
    for (int i = 0; i < 64; i++) {
        uv_run(uv_default_loop(), UV_RUN_NOWAIT);
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0) break;
    }
}

/* Decides what waits, as the hub would later. */
static void settle(void)
{
    for (size_t i = 0; i < n_deferred; i++) ec_http_complete(srv, deferred[i], 202, "application/json", "{}", 2);
    n_deferred = 0;
    for (size_t i = 0; i < n_handshakes; i++) ec_http_ws_decide(srv, handshakes[i], i % 2 ? 401 : 0, NULL);
    n_handshakes = 0;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            drain(fd);
            w = write(fd, p, n);
            if (w <= 0) return;
        }
        p += w;
        n -= (size_t)w;
        if (lazy) uv_run(uv_default_loop(), UV_RUN_NOWAIT);
        else drain(fd);
        settle();
    }
}

#ifdef FUZZ_WS
/* Input as frames: [flags][len][payload...]; flags: opcode (low 4 bits),
 * FIN (0x80), unmasked (0x40), a 16-bit length form (0x20). */
static size_t frames(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t o = 0;
    while (n >= 2 && o + 14 + 255 < cap) {
        uint8_t flags = in[0], len = in[1];
        in += 2, n -= 2;
        if (len > n) len = (uint8_t)n;
        out[o++] = (uint8_t)((flags & 0x80) | (flags & 0x0F));
        int masked = !(flags & 0x40);
        if (flags & 0x20) {
            out[o++] = (uint8_t)((masked ? 0x80 : 0) | 126);
            out[o++] = 0;
            out[o++] = len;
        } else {
            out[o++] = (uint8_t)((masked ? 0x80 : 0) | (len & 0x7F));
        }
        uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
        if (masked) memcpy(out + o, key, 4), o += 4;
        for (size_t i = 0; i < len; i++) out[o++] = masked ? (uint8_t)(in[i] ^ key[i % 4]) : in[i];
        in += len, n -= len;
    }
    return o;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv) {
        ec_log_set_level(EC_LOG_OFF);
        ec_http_handler h;
        memset(&h, 0, sizeof h);
        h.handle = handle;
        h.admit = admit;
        h.done = done;
        h.ws_protocol = "ocpp1.6";
        h.ws_accept = ws_accept;
        h.ws_open = ws_open;
        h.ws_message = ws_message;
        h.ws_closed = ws_closed;
        h.ws_max_message = 1024;
        ec_http_limits_t lim = {64, 16, 1000, 1000, 1024};
        if (http__server_new(uv_default_loop(), &h, &lim, &srv)) __builtin_trap();
    }
    if (size < 1) return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 0;
    fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
    if (http__adopt(srv, sv[0])) {
        close(sv[0]);
        close(sv[1]);
        return 0;
    }
    uint32_t seed = data[0];
    lazy = seed & 0x80;
    data++, size--;
#ifdef FUZZ_WS
    static const char hs[] = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                             "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n";
    send_all(sv[1], (const uint8_t *)hs, sizeof hs - 1);
    static uint8_t buf[1 << 18];
    size = frames(data, size, buf, sizeof buf);
    data = buf;
#endif
    /* Split points from the first byte: a small generator, so the same
     * input splits the same way. */
    while (size) {
        seed = seed * 1103515245u + 12345u;
        size_t n = 1 + (seed >> 16) % 97;
        if (seed & 0x100) n = size;
        if (n > size) n = size;
        send_all(sv[1], data, n);
        data += n, size -= n;
    }
    settle();
    drain(sv[1]);
    if (last_ws && (seed & 0x200)) ec_ws_send(last_ws, "late", 4);
    shutdown(sv[1], SHUT_WR);
    drain(sv[1]);
    close(sv[1]);
    for (int i = 0; i < 8; i++) uv_run(uv_default_loop(), UV_RUN_NOWAIT);
    settle();
    return 0;
}

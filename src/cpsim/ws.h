/* ws.h - a WebSocket client (RFC 6455) on a libuv loop, as a charge point
 * opens one to its central system: the upgrade with Basic auth and the
 * ocpp1.6 subprotocol, its answer checked, then text frames through wslay. */
#ifndef EC_CPSIM_WS_H
#define EC_CPSIM_WS_H

#include "ecorridor/ec_base.h"

#include <uv.h>

typedef struct cpsim_ws cpsim_ws;

typedef struct {
    void *ctx;
    void (*open)(void *ctx, cpsim_ws *w, void *user);
    void (*message)(void *ctx, cpsim_ws *w, void *user, const char *text, size_t len);
    /* The connection is gone (why says how); w is freed after this returns. */
    void (*closed)(void *ctx, cpsim_ws *w, void *user, const char *why);
} cpsim_ws_handler;

/* Connects to addr and upgrades GET path with Host: host; user and password
 * (password may be "") go into Basic auth. NULL when it could not start
 * (closed is not called then). */
cpsim_ws *ws__connect(uv_loop_t *loop, const struct sockaddr *addr, const char *host, const char *path,
                           const char *user, const char *password, const cpsim_ws_handler *h, void *user_data);
/* Queues one text message; EC_EIO when the connection is not open. */
ec_err ws__send(cpsim_ws *w, const char *text, size_t len);
/* Begins the closing handshake (or drops a connection not yet open). */
void ws__close(cpsim_ws *w, int code, const char *reason);

#endif

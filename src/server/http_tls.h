/* http_tls.h - TLS for the HTTP layer, in http_tls.c with OpenSSL. A lower
 * layer: http.c calls it, and it calls http.c back only through the
 * connection's http_conn_ops (http_internal.h). */
#ifndef EC_SERVER_HTTP_TLS_H
#define EC_SERVER_HTTP_TLS_H

#include "http_types.h"

typedef struct http_conn http_conn;

ec_err http__tls_init(ec_http_server *s, const char *cert, const char *key);
void http__tls_free(ec_http_server *s);
ec_err http__tls_conn(http_conn *c);
void http__tls_conn_free(http_conn *c);
/* Decrypts input and hands the plain text to the connection's ops->input. */
void http__tls_input(http_conn *c, const char *data, size_t n);
/* Encrypts and writes through the connection's ops->write_raw. */
ec_err http__tls_write(http_conn *c, const void *data, size_t n);

#endif

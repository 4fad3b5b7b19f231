/* http_tls.c - TLS for the HTTP layer through OpenSSL (the one file that
 * knows its TLS API): each connection's TLS runs over two memory buffers, so
 * the socket stays libuv's and nothing here blocks. A layer below http.c:
 * records go out, plain text goes up and connections close through the
 * server's http_conn_ops, so it does not depend on the file that calls it. */
#include "http_tls.h"

#include "http_internal.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>

#define TLS_PENDING_MAX (1u << 20) /* ciphertext waiting to be decrypted */

ec_err http__tls_init(ec_http_server *s, const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return ec_fail(EC_EIO, "TLS: cannot make a context");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        SSL_CTX_free(ctx);
        return ec_fail(EC_EINVAL, "--tls-cert %s: not a PEM certificate chain that can be read", cert);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(ctx);
        return ec_fail(EC_EINVAL, "--tls-key %s: not a PEM private key that can be read", key ? key : cert);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        return ec_fail(EC_EINVAL, "--tls-key %s does not belong to the certificate %s", key ? key : cert, cert);
    }
    s->tls_ctx = ctx;
    return EC_OK;
}

void http__tls_free(ec_http_server *s)
{
    SSL_CTX_free(s->tls_ctx);
    s->tls_ctx = NULL;
}

ec_err http__tls_conn(http_conn *c)
{
    SSL *ssl = SSL_new(c->s->tls_ctx);
    if (!ssl) return EC_ENOMEM;
    BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
    if (!in || !out) {
        BIO_free(in);
        BIO_free(out);
        SSL_free(ssl);
        return EC_ENOMEM;
    }
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(ssl, in, out);
    SSL_set_accept_state(ssl);
    c->tls = ssl;
    return EC_OK;
}

void http__tls_conn_free(http_conn *c)
{
    SSL_free(c->tls);
    c->tls = NULL;
}

/* Sends what TLS has written to its output buffer. */
static ec_err flush(http_conn *c)
{
    BIO *out = SSL_get_wbio(c->tls);
    char buf[16384];
    int n;
    while ((n = BIO_read(out, buf, sizeof buf)) > 0)
        if (c->s->ops->write_raw(c, buf, (size_t)n)) return EC_EIO;
    return EC_OK;
}

void http__tls_input(http_conn *c, const char *data, size_t n)
{
    SSL *ssl = c->tls;
    BIO *in = SSL_get_rbio(ssl);
    if (BIO_ctrl_pending(in) + n > TLS_PENDING_MAX || BIO_write(in, data, (int)n) != (int)n) {
        c->s->ops->close(c);
        return;
    }
    ec_http_server *s = c->s;
    for (;;) {
        int r = SSL_read(ssl, s->plainbuf, sizeof s->plainbuf);
        if (r > 0) {
            c->s->ops->input(c, s->plainbuf, (size_t)r);
            if (c->closed || !c->tls) return;
            continue;
        }
        int e = SSL_get_error(ssl, r);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
        /* A close_notify, or a handshake or record that is not TLS. */
        flush(c);
        if (!c->closed) c->s->ops->kill(c);
        return;
    }
    if (!c->closed) flush(c);
}

ec_err http__tls_write(http_conn *c, const void *data, size_t n)
{
    if (c->closed || c->dead) return EC_EIO;
    while (n) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        int r = SSL_write(c->tls, data, chunk);
        if (r <= 0) {
            ERR_clear_error();
            c->s->ops->kill(c);
            return EC_EIO;
        }
        data = (const char *)data + r;
        n -= (size_t)r;
    }
    return flush(c);
}

/* Three wolfSSL behaviours the harness reports, confirmed by calling the library directly:
 * both ends are wolfSSL in this one process, over memory queues behind its I/O callbacks.
 *
 *   cc wolfssl_confirm.c -lwolfssl && ./a.out 1.3
 *
 * For the TLS version given (1.2 or 1.3) it prints one line per call of the client (the
 * implementation under test), in the harness's raw terms:
 *   SCENARIO STEP OP ret=RET err=WOLFSSL_GET_ERROR
 * - z-negative 1: wolfSSL_write with num = -1 (-173 itself, get_error 0);
 * - z-write-zero 1: a zero-length wolfSSL_write (0, get_error 0);
 * - sd-own-shutdown 1, 2: wolfSSL_shutdown, then a 100-byte wolfSSL_write (it succeeds).
 * The certificate is wolfSSL's own test certificate (certs_test.h); the client does not verify. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#define USE_CERT_BUFFERS_2048
#include <wolfssl/certs_test.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct queue { unsigned char buf[1 << 18]; int len; };
static struct queue to_server, to_client;

static int recv_q(WOLFSSL *ssl, char *buf, int sz, void *ctx) {
    struct queue *q = ctx;
    (void)ssl;
    if (q->len == 0) return WOLFSSL_CBIO_ERR_WANT_READ;
    int n = sz < q->len ? sz : q->len;
    memcpy(buf, q->buf, n);
    memmove(q->buf, q->buf + n, q->len - n);
    q->len -= n;
    return n;
}

static int send_q(WOLFSSL *ssl, char *buf, int sz, void *ctx) {
    struct queue *q = ctx;
    (void)ssl;
    if (q->len + sz > (int)sizeof q->buf) return WOLFSSL_CBIO_ERR_WANT_WRITE;
    memcpy(q->buf + q->len, buf, sz);
    q->len += sz;
    return sz;
}

static void die(const char *what) {
    fprintf(stderr, "wolfssl_confirm: %s\n", what);
    exit(2);
}

static WOLFSSL *end(WOLFSSL_METHOD *method, int server, struct queue *in, struct queue *out) {
    WOLFSSL_CTX *ctx = wolfSSL_CTX_new(method);
    if (!ctx) die("wolfSSL_CTX_new");
    if (server) {
        if (wolfSSL_CTX_use_certificate_buffer(ctx, server_cert_der_2048, sizeof_server_cert_der_2048,
                                               WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
            wolfSSL_CTX_use_PrivateKey_buffer(ctx, server_key_der_2048, sizeof_server_key_der_2048,
                                              WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
            die("server certificate");
    } else {
        wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
    }
    WOLFSSL *ssl = wolfSSL_new(ctx);
    if (!ssl) die("wolfSSL_new");
    wolfSSL_SSLSetIORecv(ssl, recv_q);
    wolfSSL_SSLSetIOSend(ssl, send_q);
    wolfSSL_SetIOReadCtx(ssl, in);
    wolfSSL_SetIOWriteCtx(ssl, out);
    return ssl;
}

static WOLFSSL *connected(int tls13) {
    to_server.len = to_client.len = 0;
    WOLFSSL *c = end(tls13 ? wolfTLSv1_3_client_method() : wolfTLSv1_2_client_method(), 0,
                     &to_client, &to_server);
    WOLFSSL *s = end(tls13 ? wolfTLSv1_3_server_method() : wolfTLSv1_2_server_method(), 1,
                     &to_server, &to_client);
    for (int i = 0; i < 64; i++) {
        int rc = wolfSSL_negotiate(c), rs = wolfSSL_negotiate(s);
        if (rc == WOLFSSL_SUCCESS && rs == WOLFSSL_SUCCESS) return c;
    }
    die("handshake");
    return NULL;
}

static void report(const char *scenario, int step, const char *op, WOLFSSL *ssl, int ret) {
    printf("%s %d %s ret=%d err=%d\n", scenario, step, op, ret, wolfSSL_get_error(ssl, ret));
}

int main(int argc, char **argv) {
    int tls13 = argc > 1 && strcmp(argv[1], "1.3") == 0;
    char data[100];
    memset(data, 'x', sizeof data);
    if (wolfSSL_Init() != WOLFSSL_SUCCESS) die("wolfSSL_Init");

    WOLFSSL *c = connected(tls13);
    report("z-negative", 1, "write_negative", c, wolfSSL_write(c, data, -1));
    c = connected(tls13);
    report("z-write-zero", 1, "write", c, wolfSSL_write(c, data, 0));
    c = connected(tls13);
    int r = wolfSSL_shutdown(c);
    printf("sd-own-shutdown 1 shutdown ret=%d\n", r);
    report("sd-own-shutdown", 2, "write", c, wolfSSL_write(c, data, sizeof data));
    return 0;
}

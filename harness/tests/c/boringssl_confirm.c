/* Three BoringSSL behaviours the harness reports, confirmed by calling the library directly:
 * both ends are BoringSSL in this one process, over memory BIOs the program pumps itself.
 *
 *   cc boringssl_confirm.c -I/usr/include/android -L/usr/lib/x86_64-linux-gnu/android \
 *      -Wl,-rpath,/usr/lib/x86_64-linux-gnu/android -lssl -lcrypto && ./a.out 1.2
 *
 * For the TLS version given (1.2 or 1.3) it prints one line per call of the client (the
 * implementation under test), in the harness's raw terms:
 *   SCENARIO STEP OP ret=RET err=SSL_GET_ERROR reason=FIRST_QUEUED_REASON
 * - rn-client-initiates 1: SSL_renegotiate on an established client (TLS 1.2 only);
 * - sd-fatal-on-read 2, 3: SSL_read of a corrupt record, then SSL_write of 100 bytes;
 * - sd-peer-fatal-alert 3, 4: SSL_read of the peer's fatal alert, then SSL_write of 100. */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what) {
    fprintf(stderr, "boringssl_confirm: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

/* A self-signed Ed25519 certificate for the server (the harness's certificates are Ed25519). */
static void server_identity(SSL_CTX *ctx) {
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (!kctx || EVP_PKEY_keygen_init(kctx) != 1 || EVP_PKEY_keygen(kctx, &key) != 1) die("key");
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"sslwrite.test", -1, -1, 0);
    if (!x || !X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 86400) || !X509_set_subject_name(x, name) ||
        !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key) || !X509_sign(x, key, NULL))
        die("certificate");
    if (SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) die("use");
    X509_NAME_free(name);
    X509_free(x);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(kctx);
}

struct pair {
    SSL *client, *server;
    BIO *c_in, *c_out, *s_in, *s_out; /* memory BIOs: what each end reads and writes */
};

/* Moves what each end wrote to the other's input; `corrupt` flips a byte of the client's. */
static void pump(struct pair *p, int corrupt) {
    char buf[65536];
    int n;
    while ((n = BIO_read(p->c_out, buf, sizeof buf)) > 0) {
        if (corrupt) buf[n - 1] ^= 0x55;
        BIO_write(p->s_in, buf, n);
    }
    while ((n = BIO_read(p->s_out, buf, sizeof buf)) > 0) BIO_write(p->c_in, buf, n);
}

static BIO *mem(void) {
    BIO *b = BIO_new(BIO_s_mem());
    if (!b) die("BIO_new");
    BIO_set_mem_eof_return(b, -1); /* empty: retry, not EOF */
    return b;
}

static void connect_pair(struct pair *p, uint16_t version) {
    SSL_CTX *cctx = SSL_CTX_new(TLS_method()), *sctx = SSL_CTX_new(TLS_method());
    if (!cctx || !sctx) die("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(cctx, version);
    SSL_CTX_set_max_proto_version(cctx, version);
    SSL_CTX_set_min_proto_version(sctx, version);
    SSL_CTX_set_max_proto_version(sctx, version);
    SSL_CTX_set_options(sctx, SSL_OP_NO_TICKET);
    /* As the harness's driver: BoringSSL clients leave Ed25519 out of their defaults. */
    static const uint16_t prefs[] = {SSL_SIGN_ED25519, SSL_SIGN_ECDSA_SECP256R1_SHA256,
                                     SSL_SIGN_RSA_PSS_RSAE_SHA256, SSL_SIGN_RSA_PKCS1_SHA256};
    if (!SSL_CTX_set_verify_algorithm_prefs(cctx, prefs, sizeof prefs / sizeof prefs[0]))
        die("verify prefs");
    server_identity(sctx);
    p->client = SSL_new(cctx);
    p->server = SSL_new(sctx);
    p->c_in = mem(); p->c_out = mem(); p->s_in = mem(); p->s_out = mem();
    SSL_set_bio(p->client, p->c_in, p->c_out);
    SSL_set_bio(p->server, p->s_in, p->s_out);
    SSL_set_connect_state(p->client);
    SSL_set_accept_state(p->server);
    for (int i = 0; i < 64; i++) {
        int c = SSL_do_handshake(p->client), s = SSL_do_handshake(p->server);
        pump(p, 0);
        if (c == 1 && s == 1) return;
    }
    die("handshake");
}

static void report(const char *scenario, int step, const char *op, SSL *ssl, int ret, int ask) {
    int err = ask ? SSL_get_error(ssl, ret) : -1;
    uint32_t code = ERR_peek_error();
    const char *reason = code ? ERR_reason_error_string(code) : NULL;
    printf("%s %d %s ret=%d err=%d reason=%s\n", scenario, step, op, ret, err,
           reason ? reason : "-");
    ERR_clear_error();
}

int main(int argc, char **argv) {
    uint16_t version = (argc > 1 && strcmp(argv[1], "1.3") == 0) ? TLS1_3_VERSION : TLS1_2_VERSION;
    char data[100], back[100];
    memset(data, 'x', sizeof data);
    struct pair p;

    if (version == TLS1_2_VERSION) {
        connect_pair(&p, version);
        ERR_clear_error();
        report("rn-client-initiates", 1, "renegotiate", p.client, SSL_renegotiate(p.client), 0);
    }

    /* A corrupt application-data record arrives: the read fails, then a write. */
    connect_pair(&p, version);
    static const unsigned char junk[45] = {0x17, 0x03, 0x03, 0x00, 0x28};
    BIO_write(p.c_in, junk, sizeof junk);
    ERR_clear_error();
    report("sd-fatal-on-read", 2, "read", p.client, SSL_read(p.client, back, sizeof back), 1);
    report("sd-fatal-on-read", 3, "write", p.client, SSL_write(p.client, data, sizeof data), 1);

    /* The peer rejects a corrupt record with a fatal alert: read it, then write. */
    connect_pair(&p, version);
    if (SSL_write(p.client, data, sizeof data) != (int)sizeof data) die("first write");
    pump(&p, 1);
    if (SSL_read(p.server, back, sizeof back) > 0) die("the server read a corrupt record");
    pump(&p, 0);
    ERR_clear_error();
    report("sd-peer-fatal-alert", 3, "read", p.client, SSL_read(p.client, back, sizeof back), 1);
    report("sd-peer-fatal-alert", 4, "write", p.client, SSL_write(p.client, data, sizeof data), 1);
    return 0;
}

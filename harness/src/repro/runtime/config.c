/* ---------------------------------------------------------------------------------------------
 * The fixed runtime of an sslwrite reproducer. It is the harness's run, in plain C, over the
 * libssl and libcrypto API only:
 *
 *   - a test PKI made at start (an Ed25519 CA and a leaf for "localhost", the harness's
 *     shapes: fixed serials, the same names and validity, so every record has the length it
 *     has in the harness; a P-256 or RSA leaf when the peer asks); nothing secret is in the
 *     file;
 *   - two connections in one process, the implementation under test and the peer (the other
 *     role, partial writes + moving buffer + auto retry), both of the libssl this is linked
 *     with;
 *   - the transport: two byte queues of bounded capacity (implementation -> peer, peer ->
 *     implementation) behind a BIO_METHOD of its own; a full queue is a retry (WANT_WRITE),
 *     a blocking transport lets the peer read ("pump") and reports a deadlock when nothing
 *     moves; trickle, zero-byte writes, FIN, close, reset and injected records as the
 *     harness's in-memory pipe has them, and the peer's split writes;
 *   - the peer's own options (connection.peer: its ticket count, renegotiation refusal, cipher
 *     list, groups, certificate key type), and the records its API cannot send (an empty
 *     application-data record, a warning alert), re-sealed with its write keys as the harness
 *     does;
 *   - a resuming or early-data run first makes a connection of its own for the session (or
 *     the ticket that allows early data) that the run's client resumes;
 *   - the harness's outcome vocabulary: ret > 0 is ok(ret) whatever SSL_get_error says;
 *     ret <= 0 takes its class from SSL_get_error (want_read, want_write, zero_return,
 *     syscall, ssl(first reason on the error queue)), no class is "unclassified".
 *
 * Each step of the implementation prints one line, "STEP OP OUTCOME ret=RET", then
 * " bytes=N" for write loops, " calls=N" for a handshake or write loop of more than one call
 * and " errors=[...]" for what the error queue held; at the end how the run ended and what
 * the peer's application received.
 * ------------------------------------------------------------------------------------------- */

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* A run uses only some of the step functions below. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

#if defined(OPENSSL_IS_BORINGSSL) || defined(OPENSSL_IS_AWSLC)
#define REPRO_BORING 1
#else
#define REPRO_BORING 0
#endif

/* BoringSSL (not AWS-LC) has no SSL_write_ex: write_ex steps are a skip there, the peer
 * writes with SSL_write. */
#if defined(OPENSSL_IS_BORINGSSL) && !defined(OPENSSL_IS_AWSLC)
#define REPRO_WRITE_EX 0
#else
#define REPRO_WRITE_EX 1
#endif

/* Options some libraries of the family do not have: asking for them there is a skip. */
#ifndef SSL_OP_NO_RENEGOTIATION
#define SSL_OP_NO_RENEGOTIATION 0
#endif
#ifndef SSL_OP_ALLOW_CLIENT_RENEGOTIATION
#define SSL_OP_ALLOW_CLIENT_RENEGOTIATION 0
#endif
#ifndef SSL_OP_NO_ENCRYPT_THEN_MAC
#define SSL_OP_NO_ENCRYPT_THEN_MAC 0
#endif

static void die(const char *what)
{
    fprintf(stderr, "repro: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        die("malloc");
    return p;
}

/* ----- The run's configuration (filled in by the generated part) ----------------------- */

enum role { CLIENT, SERVER };
enum tls { TLS12, TLS13 };
enum content { STREAM, OTHER };
enum api { API_WRITE, API_WRITE_EX };
enum key_type { KEY_ED25519, KEY_P256, KEY_RSA2048 }; /* a server's certificate key */

struct modes {
    int partial_write, moving_buffer, auto_retry, release_buffers;
};

struct conn_config {
    enum role role;
    enum tls tls;
    struct modes modes;
    int max_send_fragment;   /* 0: the library's default */
    int set_state;           /* 0: neither connect nor accept state before the first call */
    int no_renegotiation;
    int allow_client_renegotiation;
    const char *cipher;      /* NULL: the library's default */
    int no_encrypt_then_mac;
    int max_fragment_length; /* 0: none; else 512, 1024, 2048, 4096 (asked by the client) */
    int block_padding;       /* 0: none */
    int tls13_tickets;       /* -1: the library's default */
    int early_data;          /* TLS 1.3 early data: a server accepts EARLY_DATA_LIMIT bytes */
    int resume;              /* the client resumes a session a first connection got */
    const char *groups;      /* NULL: the library's default key exchange groups */
    enum key_type key;       /* a server's certificate */
};

/* The peer's own options (connection.peer); each unset one leaves the peer as it always is. */
struct peer_spec {
    int refuse_client_renegotiation; /* a TLS 1.2 server peer refuses the client's */
    int tls13_tickets;               /* -1: the implementation's setting */
    enum key_type key;
    const char *cipher;              /* NULL: the scenario's cipher list (connection.cipher) */
    const char *groups;              /* NULL: the library's default */
};

/* The peer of a resuming run's first connection (connection.peer is never set with resume or
 * early data). */
static const struct peer_spec DEFAULT_PEER = {0, -1, KEY_ED25519, NULL, NULL};

/* What a server with early_data announces in its tickets. */
#define EARLY_DATA_LIMIT 16384

struct run_config {
    struct conn_config conn;
    struct peer_spec peer;
    size_t capacity_to_peer, capacity_to_impl;
    int blocking;
    /* TLS 1.3 tickets the server of the first connection of a resuming run sends (-1: the
     * library's default). */
    int first_tls13_tickets;
    /* Write buffer slots: each allocated once, so a retry from a slot passes the same
     * pointer; the last one is write_stream's. */
    int nslots;
    const size_t *slot_sizes;
};

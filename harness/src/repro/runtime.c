/* ---------------------------------------------------------------------------------------------
 * The fixed runtime of an sslwrite reproducer. It is the harness's run, in plain C, over the
 * libssl and libcrypto API only:
 *
 *   - a test PKI made at start (an Ed25519 CA and a leaf for "localhost", the harness's
 *     shapes: fixed serials, the same names and validity, so every record has the length it
 *     has in the harness); nothing secret is in the file;
 *   - two connections in one process, the implementation under test and the peer (the other
 *     role, partial writes + moving buffer + auto retry), both of the libssl this is linked
 *     with;
 *   - the transport: two byte queues of bounded capacity (implementation -> peer, peer ->
 *     implementation) behind a BIO_METHOD of its own; a full queue is a retry (WANT_WRITE),
 *     a blocking transport lets the peer read ("pump") and reports a deadlock when nothing
 *     moves; trickle, zero-byte writes, FIN, close, reset and injected records as the
 *     harness's in-memory pipe has them;
 *   - the harness's outcome vocabulary: ret > 0 is ok(ret) whatever SSL_get_error says;
 *     ret <= 0 takes its class from SSL_get_error (want_read, want_write, zero_return,
 *     syscall, ssl(first reason on the error queue)), no class is "unclassified".
 *
 * Each step of the implementation prints one line, "STEP OP OUTCOME ret=RET", then
 * " bytes=N" for write loops and " errors=[...]" for what the error queue held; at the end
 * how the run ended and what the peer's application received.
 * ------------------------------------------------------------------------------------------- */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
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
};

/* What a server with early_data announces in its tickets. */
#define EARLY_DATA_LIMIT 16384

struct run_config {
    struct conn_config conn;
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

/* ----- The payload stream (what the writer sends; the peer checks what it reads) --------- */

#define BLOCK 16384

static uint64_t splitmix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned char stream_table[BLOCK];

static void stream_init(void)
{
    for (int i = 0; i < BLOCK / 8; i++) {
        uint64_t v = splitmix((uint64_t)i ^ 0x5eed);
        for (int j = 0; j < 8; j++)
            stream_table[8 * i + j] = (unsigned char)(v >> (8 * j));
    }
}

/* Byte `pos` of the stream; OTHER is the stream flipped (0xA5 in every byte). */
static unsigned char stream_byte(uint64_t pos, enum content c)
{
    uint64_t key = splitmix((pos / BLOCK) ^ 0xb10c);
    unsigned char b = stream_table[pos % BLOCK] ^ (unsigned char)(key >> (8 * (pos % 8)));
    return c == OTHER ? b ^ 0xa5 : b;
}

static void stream_fill(unsigned char *buf, size_t len, uint64_t offset, enum content c)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = stream_byte(offset + i, c);
}

/* The peer's ledger: what the writer was told was written (ranges of the stream) against
 * what the peer's application read, as the harness's invariant I1 checks it. */
struct range {
    uint64_t start, len;
    enum content content;
};

struct ledger {
    struct range *ranges;
    size_t nranges, first, cap;
    uint64_t confirmed, received, checked, ahead;
    enum content pending, ahead_content;
    int mismatch;
    uint64_t mismatch_at;
};

static void ledger_compare(struct ledger *l, const unsigned char *got, size_t n, uint64_t at,
                           enum content c)
{
    for (size_t i = 0; i < n && !l->mismatch; i++) {
        if (got[i] != stream_byte(at + i, c)) {
            l->mismatch = 1;
            l->mismatch_at = at + i;
        }
    }
}

static void ledger_confirm(struct ledger *l, uint64_t len, enum content c)
{
    if (len == 0)
        return;
    uint64_t start = l->confirmed;
    l->confirmed += len;
    uint64_t covered = l->ahead < len ? l->ahead : len;
    if (covered > 0) {
        /* Bytes read before this confirmation were checked against the write in progress. */
        if (c != l->ahead_content && !l->mismatch) {
            l->mismatch = 1;
            l->mismatch_at = start;
        }
        l->ahead -= covered;
        l->checked += covered;
    }
    if (covered < len) {
        if (l->nranges == l->cap) {
            l->cap = l->cap ? 2 * l->cap : 16;
            struct range *r = xmalloc(l->cap * sizeof *r);
            if (l->nranges)
                memcpy(r, l->ranges + l->first, l->nranges * sizeof *r);
            free(l->ranges);
            l->ranges = r;
            l->first = 0;
        } else if (l->first + l->nranges == l->cap) {
            memmove(l->ranges, l->ranges + l->first, l->nranges * sizeof *l->ranges);
            l->first = 0;
        }
        struct range r = {start + covered, len - covered, c};
        l->ranges[l->first + l->nranges++] = r;
    }
}

static void ledger_receive(struct ledger *l, const unsigned char *bytes, size_t n)
{
    l->received += n;
    while (n > 0) {
        if (l->nranges == 0) {
            /* Ahead of every confirmation: checked against the write in progress. */
            if (l->ahead == 0)
                l->ahead_content = l->pending;
            ledger_compare(l, bytes, n, l->confirmed + l->ahead, l->ahead_content);
            l->ahead += n;
            return;
        }
        struct range *r = &l->ranges[l->first];
        uint64_t into = l->checked - r->start;
        size_t k = (size_t)(r->len - into) < n ? (size_t)(r->len - into) : n;
        ledger_compare(l, bytes, k, l->checked, r->content);
        l->checked += k;
        bytes += k;
        n -= k;
        if (l->checked == r->start + r->len) {
            l->first++;
            l->nranges--;
        }
    }
}

/* ----- The transport: two bounded byte queues, the harness's in-memory pipe --------------- */

enum side { IMPL = 0, PEER = 1 }; /* a side writes into queue `side`, reads queue `1 - side` */

enum io_result { IO_WOULD_BLOCK = -1, IO_EPIPE = -2, IO_ECONNRESET = -3, IO_DEADLOCK = -4 };

struct queue {
    unsigned char *data;
    size_t head, len, alloc;
    size_t capacity;
    int eof;           /* the writer half-closed (FIN): EOF once empty */
    int reader_gone;   /* the reader closed: one write is swallowed, later ones get EPIPE */
    int swallowed_one;
    int reset_writer;  /* a reset is pending for the writer / the reader of this queue */
    int reset_reader;
    int broken;        /* after a reset was reported: EPIPE */
    int writer_gone;   /* the writer closed its own end: its writes get EPIPE */
    size_t trickle;    /* 0: off; else at most this many bytes per attempt, every other blocks */
    int trickle_blocked_last;
    unsigned zero_writes; /* the next this many writes report 0 bytes written */
    uint64_t total;    /* bytes ever written into it */
};

struct pipe {
    struct queue q[2];
    int blocking;      /* the implementation's end blocks, pumping the peer */
    int deadlocked;
    void (*pump)(void *);
    void *pump_arg;
    int pumping;
};

static void queue_push(struct queue *q, const unsigned char *b, size_t n)
{
    if (q->head + q->len + n > q->alloc) {
        memmove(q->data, q->data + q->head, q->len);
        q->head = 0;
        if (q->len + n > q->alloc) {
            size_t a = q->alloc ? q->alloc : 65536;
            while (a < q->len + n)
                a *= 2;
            unsigned char *d = realloc(q->data, a);
            if (d == NULL)
                die("realloc");
            q->data = d;
            q->alloc = a;
        }
    }
    memcpy(q->data + q->head + q->len, b, n);
    q->len += n;
}

static size_t queue_pop(struct queue *q, unsigned char *b, size_t n)
{
    if (n > q->len)
        n = q->len;
    memcpy(b, q->data + q->head, n);
    q->head += n;
    q->len -= n;
    if (q->len == 0)
        q->head = 0;
    return n;
}

/* Everything that moves: bytes sent and queued in both directions. */
static void pipe_motion(const struct pipe *p, uint64_t m[4])
{
    m[0] = p->q[IMPL].total;
    m[1] = p->q[IMPL].len;
    m[2] = p->q[PEER].total;
    m[3] = p->q[PEER].len;
}

/* A blocking implementation end that cannot go on lets the peer run; 0 when that moved
 * nothing (a deadlock). */
static int pipe_pump(struct pipe *p, enum side s)
{
    if (s != IMPL || !p->blocking || p->pump == NULL || p->pumping)
        return 0;
    uint64_t before[4], after[4];
    pipe_motion(p, before);
    p->pumping = 1;
    p->pump(p->pump_arg);
    p->pumping = 0;
    pipe_motion(p, after);
    return memcmp(before, after, sizeof before) != 0;
}

static int pipe_write(struct pipe *p, enum side s, const unsigned char *buf, size_t len)
{
    for (;;) {
        int blocking = p->blocking && s == IMPL;
        struct queue *q = &p->q[s];
        if (q->writer_gone)
            return IO_EPIPE;
        if (q->reset_writer) {
            q->reset_writer = 0;
            q->broken = 1;
            return IO_ECONNRESET;
        }
        if (q->broken)
            return IO_EPIPE;
        if (q->reader_gone) {
            if (!q->swallowed_one) {
                q->swallowed_one = 1;
                q->total += len;
                return (int)len;
            }
            return IO_EPIPE;
        }
        if (len == 0)
            return 0;
        if (q->zero_writes > 0) {
            q->zero_writes--;
            return 0;
        }
        size_t n = q->capacity > q->len ? q->capacity - q->len : 0;
        if (n > len)
            n = len;
        if (q->trickle) {
            if (!blocking && q->trickle_blocked_last)
                n = 0;
            else if (n > q->trickle)
                n = q->trickle;
            q->trickle_blocked_last = !q->trickle_blocked_last;
        }
        if (n > 0) {
            queue_push(q, buf, n);
            q->total += n;
            return (int)n;
        }
        if (!blocking)
            return IO_WOULD_BLOCK;
        if (!pipe_pump(p, s)) {
            p->deadlocked = 1;
            return IO_DEADLOCK;
        }
    }
}

static int pipe_read(struct pipe *p, enum side s, unsigned char *buf, size_t len)
{
    for (;;) {
        int blocking = p->blocking && s == IMPL;
        struct queue *q = &p->q[1 - s];
        if (q->reset_reader) {
            q->reset_reader = 0;
            q->eof = 1;
            return IO_ECONNRESET;
        }
        if (q->len > 0)
            return (int)queue_pop(q, buf, len);
        if (q->eof || len == 0)
            return 0;
        if (!blocking)
            return IO_WOULD_BLOCK;
        if (!pipe_pump(p, s)) {
            p->deadlocked = 1;
            return IO_DEADLOCK;
        }
    }
}

/* `s` half-closes its sending direction (shutdown(SHUT_WR)). */
static void pipe_fin(struct pipe *p, enum side s)
{
    p->q[s].eof = 1;
    p->q[s].writer_gone = 1;
}

/* `s` closes its socket: FIN outwards, and what is sent to it from now on is lost. */
static void pipe_close(struct pipe *p, enum side s)
{
    pipe_fin(p, s);
    p->q[1 - s].reader_gone = 1;
    p->q[1 - s].head = p->q[1 - s].len = 0;
}

/* `s` resets the connection: the other end's next read or write fails with ECONNRESET;
 * queued bytes in both directions are dropped. */
static void pipe_reset(struct pipe *p, enum side s)
{
    struct queue *in = &p->q[1 - s], *out = &p->q[s];
    in->head = in->len = out->head = out->len = 0;
    in->reset_writer = in->reader_gone = in->swallowed_one = 1;
    out->reset_reader = out->writer_gone = 1;
}

/* Raw bytes on the wire towards `reader`, whatever the capacity. */
static void pipe_inject(struct pipe *p, enum side reader, const unsigned char *b, size_t n)
{
    queue_push(&p->q[1 - reader], b, n);
}

static int pipe_take_deadlock(struct pipe *p)
{
    int d = p->deadlocked;
    p->deadlocked = 0;
    return d;
}

/* ----- The BIO over one end of the pipe ---------------------------------------------------- */

struct endpoint {
    struct pipe *pipe;
    enum side side;
};

static int bio_pipe_write(BIO *b, const char *buf, int len)
{
    struct endpoint *e = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len < 0)
        return -1;
    int n = pipe_write(e->pipe, e->side, (const unsigned char *)buf, (size_t)len);
    if (n == IO_WOULD_BLOCK)
        BIO_set_retry_write(b);
    return n >= 0 ? n : -1;
}

static int bio_pipe_read(BIO *b, char *buf, int len)
{
    struct endpoint *e = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len < 0)
        return -1;
    int n = pipe_read(e->pipe, e->side, (unsigned char *)buf, (size_t)len);
    if (n == IO_WOULD_BLOCK)
        BIO_set_retry_read(b);
    return n >= 0 ? n : -1;
}

/* Flush succeeds (writes go through at once); every other control answers 0. */
static long bio_pipe_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH;
}

static BIO *bio_new_endpoint(struct endpoint *e)
{
    static BIO_METHOD *method;
    if (method == NULL) {
        method = BIO_meth_new(0, "repro pipe");
        if (method == NULL || !BIO_meth_set_write(method, bio_pipe_write)
            || !BIO_meth_set_read(method, bio_pipe_read)
            || !BIO_meth_set_ctrl(method, bio_pipe_ctrl))
            die("BIO_meth_new");
    }
    BIO *b = BIO_new(method);
    if (b == NULL)
        die("BIO_new");
    BIO_set_data(b, e);
    BIO_set_init(b, 1);
    return b;
}

/* ----- The test PKI ------------------------------------------------------------------------ */

struct pki {
    X509 *ca, *leaf;
    EVP_PKEY *leaf_key;
};

static EVP_PKEY *ed25519_key(void)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (c == NULL || EVP_PKEY_keygen_init(c) != 1 || EVP_PKEY_keygen(c, &k) != 1)
        die("Ed25519 key generation");
    EVP_PKEY_CTX_free(c);
    return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL || !X509_add_ext(x, ext, -1))
        die("certificate extension");
    X509_EXTENSION_free(ext);
}

/* A certificate as the harness's rcgen makes it: v3, a two-byte serial, a UTF8String common
 * name, valid from 1975 (UTCTime) to 4096 (GeneralizedTime), Ed25519. */
static X509 *certificate(long serial, const char *cn, EVP_PKEY *key, X509 *issuer,
                         EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    if (x == NULL || name == NULL || !X509_set_version(x, 2)
        || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial)
        || !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                       -1, 0)
        || !X509_set_subject_name(x, name)
        || !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name)
        || !ASN1_TIME_set_string(X509_getm_notBefore(x), "750101000000Z")
        || !ASN1_TIME_set_string(X509_getm_notAfter(x), "40960101000000Z")
        || !X509_set_pubkey(x, key))
        die("certificate");
    X509_NAME_free(name);
    if (issuer == NULL) {
        add_ext(x, x, NID_subject_key_identifier, "hash");
        add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    } else {
        add_ext(x, issuer, NID_subject_alt_name, "DNS:localhost");
    }
    if (X509_sign(x, issuer_key, NULL) <= 0)
        die("certificate signature");
    return x;
}

static struct pki make_pki(void)
{
    struct pki p;
    EVP_PKEY *ca_key = ed25519_key();
    p.ca = certificate(0x5101, "sslwrite test CA", ca_key, NULL, ca_key);
    p.leaf_key = ed25519_key();
    p.leaf = certificate(0x5102, "localhost", p.leaf_key, p.ca, ca_key);
    EVP_PKEY_free(ca_key);
    return p;
}

/* ----- Calls and their outcomes, in the harness's vocabulary ------------------------------ */

enum outcome {
    OK, WANT_READ, WANT_WRITE, ZERO_RETURN, SYSCALL, SSL_FAILURE, SKIP, DEADLOCK, UNCLASSIFIED
};

#define MAX_REASONS 16

struct call {
    enum outcome outcome;
    uint64_t n;           /* ok(n) */
    long long ret;        /* the raw return value */
    char what[160];       /* ssl(what), skip(what) */
    int nreasons;
    char reasons[MAX_REASONS][160]; /* the error queue after the call, oldest first */
};

/* Drains this thread's error queue into the call. */
static void drain_errors(struct call *c)
{
    unsigned long e;
    c->nreasons = 0;
    while ((e = ERR_get_error()) != 0) {
        if (c->nreasons == MAX_REASONS)
            continue;
        const char *r = ERR_reason_error_string(e);
        if (r != NULL)
            snprintf(c->reasons[c->nreasons], sizeof c->reasons[0], "%s", r);
        else
            snprintf(c->reasons[c->nreasons], sizeof c->reasons[0], "reason %d",
                     (int)ERR_GET_REASON(e));
        c->nreasons++;
    }
}

/* An I/O call's result, the return value first. */
static struct call io_call(SSL *ssl, int ret)
{
    struct call c;
    memset(&c, 0, sizeof c);
    c.ret = ret;
    int class = SSL_get_error(ssl, ret);
    drain_errors(&c);
    if (ret > 0) {
        c.outcome = OK;
        c.n = (uint64_t)ret;
        return c;
    }
    switch (class) {
    case SSL_ERROR_WANT_READ: c.outcome = WANT_READ; break;
    case SSL_ERROR_WANT_WRITE: c.outcome = WANT_WRITE; break;
    case SSL_ERROR_ZERO_RETURN: c.outcome = ZERO_RETURN; break;
    case SSL_ERROR_SYSCALL: c.outcome = SYSCALL; break;
    case SSL_ERROR_SSL:
        c.outcome = SSL_FAILURE;
        if (c.nreasons > 0)
            snprintf(c.what, sizeof c.what, "%s", c.reasons[0]);
        break;
    default:
        if (class >= 4 && class <= 20) {
            /* A class of some libssl-family library outside the shared five. */
            c.outcome = SSL_FAILURE;
            snprintf(c.what, sizeof c.what, "SSL_get_error %d", class);
        } else {
            c.outcome = UNCLASSIFIED;
        }
    }
    return c;
}

/* A non-I/O call returning 1 on success and 0 on failure. */
static struct call simple_call(int ret)
{
    struct call c;
    memset(&c, 0, sizeof c);
    c.ret = ret;
    drain_errors(&c);
    if (ret == 1) {
        c.outcome = OK;
        c.n = 1;
    } else {
        c.outcome = SSL_FAILURE;
        if (c.nreasons > 0)
            snprintf(c.what, sizeof c.what, "%s", c.reasons[0]);
    }
    return c;
}

static struct call ok_call(uint64_t n, long long ret)
{
    struct call c;
    memset(&c, 0, sizeof c);
    c.outcome = OK;
    c.n = n;
    c.ret = ret;
    return c;
}

static int is_retry(const struct call *c)
{
    return c->outcome == WANT_READ || c->outcome == WANT_WRITE;
}

static int is_fatal(const struct call *c)
{
    return c->outcome == SYSCALL || c->outcome == SSL_FAILURE;
}

static void outcome_text(const struct call *c, char *out, size_t size)
{
    switch (c->outcome) {
    case OK: snprintf(out, size, "ok(%llu)", (unsigned long long)c->n); break;
    case WANT_READ: snprintf(out, size, "want_read"); break;
    case WANT_WRITE: snprintf(out, size, "want_write"); break;
    case ZERO_RETURN: snprintf(out, size, "zero_return"); break;
    case SYSCALL: snprintf(out, size, "syscall"); break;
    case SSL_FAILURE: snprintf(out, size, "ssl(%s)", c->what); break;
    case SKIP: snprintf(out, size, "skip(%s)", c->what); break;
    case DEADLOCK: snprintf(out, size, "deadlock"); break;
    case UNCLASSIFIED: snprintf(out, size, "unclassified"); break;
    }
}

/* The error queue is cleared before every call (unless a dirty_error_queue step asked to
 * keep it) and drained after. */
static void clear_errors(int *keep_queue)
{
    if (keep_queue != NULL && *keep_queue) {
        *keep_queue = 0;
        return;
    }
    ERR_clear_error();
}

/* Puts the thread's error queue aside, and back (the peer runs from inside a blocking
 * implementation's call, whose errors it must not clear). */
struct saved_errors {
    int n;
    int lib[MAX_REASONS], reason[MAX_REASONS];
};

static void errors_save(struct saved_errors *s)
{
    unsigned long e;
    s->n = 0;
    while ((e = ERR_get_error()) != 0) {
        if (s->n < MAX_REASONS) {
            s->lib[s->n] = ERR_GET_LIB(e);
            s->reason[s->n] = ERR_GET_REASON(e);
            s->n++;
        }
    }
}

static void errors_restore(const struct saved_errors *s)
{
    for (int i = 0; i < s->n; i++) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L && !REPRO_BORING && !defined(LIBRESSL_VERSION_NUMBER)
        ERR_new();
        ERR_set_debug(__FILE__, __LINE__, "repro");
        ERR_set_error(s->lib[i], s->reason[i], NULL);
#else
        ERR_put_error(s->lib[i], 0, s->reason[i], __FILE__, __LINE__);
#endif
    }
}

/* ----- Contexts and connections ------------------------------------------------------------ */

static void skip_setup(const char *why)
{
    printf("end skip(%s)\n", why);
    exit(0);
}

static SSL_CTX *new_context(const struct conn_config *cfg, const struct pki *pki)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (ctx == NULL)
        die("SSL_CTX_new");
    int v = cfg->tls == TLS12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    if (!SSL_CTX_set_min_proto_version(ctx, v) || !SSL_CTX_set_max_proto_version(ctx, v))
        die("protocol version");
    if (cfg->role == SERVER) {
        if (SSL_CTX_use_certificate(ctx, pki->leaf) != 1
            || SSL_CTX_use_PrivateKey(ctx, pki->leaf_key) != 1
            || SSL_CTX_check_private_key(ctx) != 1)
            die("server certificate");
    } else {
        if (X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), pki->ca) != 1)
            die("trust store");
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
#if REPRO_BORING
        /* Its default leaves Ed25519 out; the certificates are Ed25519. */
        static const uint16_t prefs[] = {0x0807, 0x0403, 0x0804, 0x0401, 0x0503,
                                         0x0805, 0x0501, 0x0806, 0x0601};
        if (!SSL_CTX_set_verify_algorithm_prefs(ctx, prefs, sizeof prefs / sizeof prefs[0]))
            die("verify algorithm preferences");
#endif
    }
    /* Stateful session tickets (fixed lengths), as the harness sets up every context but
     * those of resuming runs (stateless tickets, which any number of connections resume). */
    unsigned long long opts = cfg->resume ? 0 : SSL_OP_NO_TICKET;
    if (cfg->no_renegotiation) {
        if (SSL_OP_NO_RENEGOTIATION == 0 && !REPRO_BORING)
            skip_setup("SSL_OP_NO_RENEGOTIATION is not in this library");
        opts |= SSL_OP_NO_RENEGOTIATION;
    }
    if (cfg->allow_client_renegotiation) {
        if (REPRO_BORING)
            skip_setup("this library's servers do not renegotiate");
        opts |= SSL_OP_ALLOW_CLIENT_RENEGOTIATION;
    }
    if (cfg->no_encrypt_then_mac)
        opts |= SSL_OP_NO_ENCRYPT_THEN_MAC;
    SSL_CTX_set_options(ctx, opts);
    ERR_clear_error();
    return ctx;
}

static unsigned mode_bits(struct modes m)
{
    return (m.partial_write ? SSL_MODE_ENABLE_PARTIAL_WRITE : 0)
         | (m.moving_buffer ? SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER : 0)
         | (m.auto_retry ? SSL_MODE_AUTO_RETRY : 0)
         | (m.release_buffers ? SSL_MODE_RELEASE_BUFFERS : 0);
}

#define ALL_MODES                                                                             \
    (SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY \
     | SSL_MODE_RELEASE_BUFFERS)

/* Exactly `m` on (everything else of the four off): ok(BITS) in the harness's numbering
 * (partial 1, moving 2, auto retry 4, release buffers 16), ret the mode read back. */
static struct call set_modes(SSL *ssl, struct modes m)
{
    SSL_clear_mode(ssl, ALL_MODES);
    long now = SSL_set_mode(ssl, mode_bits(m));
    struct call c = ok_call((uint64_t)(m.partial_write | m.moving_buffer << 1
                                       | m.auto_retry << 2 | m.release_buffers << 4),
                            (int)now);
    if ((unsigned long)(now & ALL_MODES) != mode_bits(m)) {
        c.outcome = SKIP;
        snprintf(c.what, sizeof c.what, "setting modes %#x did nothing: the mode reads %#lx",
                 mode_bits(m), (unsigned long)(now & ALL_MODES));
    }
    return c;
}

static SSL *new_connection(SSL_CTX *ctx, const struct conn_config *cfg, BIO *bio,
                           SSL_SESSION *session)
{
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL)
        die("SSL_new");
    SSL_set_bio(ssl, bio, bio);
#if REPRO_BORING
    SSL_set_renegotiate_mode(ssl, cfg->no_renegotiation ? ssl_renegotiate_never
                                                        : ssl_renegotiate_freely);
#endif
    if (cfg->role == CLIENT) {
        /* The name sent (SNI) and the name the certificate is checked against. */
#if OPENSSL_VERSION_NUMBER >= 0x40000000L && !REPRO_BORING && !defined(LIBRESSL_VERSION_NUMBER)
        int checked = SSL_set1_dnsname(ssl, "localhost"); /* SSL_set1_host before 4.0 */
#else
        int checked = SSL_set1_host(ssl, "localhost");
#endif
        if (SSL_set_tlsext_host_name(ssl, "localhost") != 1 || checked != 1)
            die("server name");
    }
    if (cfg->set_state) {
        if (cfg->role == CLIENT)
            SSL_set_connect_state(ssl);
        else
            SSL_set_accept_state(ssl);
    }
    if (session != NULL) {
        /* A copy per connection: a fatal alert marks a connection's session not resumable. */
#if REPRO_BORING
        SSL_SESSION *copy = NULL;
#else
        SSL_SESSION *copy = SSL_SESSION_dup(session);
#endif
        if (SSL_set_session(ssl, copy != NULL ? copy : session) != 1)
            die("SSL_set_session");
        SSL_SESSION_free(copy);
    }
    if (cfg->tls13_tickets >= 0 && cfg->role == SERVER) {
#if REPRO_BORING
        skip_setup("SSL_set_num_tickets is not in this library");
#else
        if (SSL_set_num_tickets(ssl, (size_t)cfg->tls13_tickets) != 1)
            die("SSL_set_num_tickets");
#endif
    }
    if (cfg->early_data) {
#if REPRO_BORING
        skip_setup("SSL_write_early_data and SSL_read_early_data are not in this library");
#else
        if (cfg->role == SERVER && SSL_set_max_early_data(ssl, EARLY_DATA_LIMIT) != 1)
            die("SSL_set_max_early_data");
#endif
    }
    if (cfg->cipher != NULL && SSL_set_cipher_list(ssl, cfg->cipher) != 1)
        skip_setup("the library refused the cipher list");
    if (cfg->max_fragment_length && cfg->role == CLIENT) {
#if REPRO_BORING
        skip_setup("SSL_set_tlsext_max_fragment_length is not in this library");
#else
        int code = cfg->max_fragment_length == 512    ? TLSEXT_max_fragment_length_512
                   : cfg->max_fragment_length == 1024 ? TLSEXT_max_fragment_length_1024
                   : cfg->max_fragment_length == 2048 ? TLSEXT_max_fragment_length_2048
                                                      : TLSEXT_max_fragment_length_4096;
        if (SSL_set_tlsext_max_fragment_length(ssl, code) != 1)
            die("max_fragment_length");
#endif
    }
    if (cfg->block_padding) {
#if REPRO_BORING
        skip_setup("SSL_set_block_padding is not in this library");
#else
        if (SSL_set_block_padding(ssl, (size_t)cfg->block_padding) != 1)
            die("block padding");
#endif
    }
    if (cfg->max_send_fragment && SSL_set_max_send_fragment(ssl, cfg->max_send_fragment) != 1)
        skip_setup("the library refused the max send fragment");
    struct call c = set_modes(ssl, cfg->modes);
    if (c.outcome == SKIP)
        skip_setup(c.what);
    ERR_clear_error();
    return ssl;
}

/* ----- The peer ---------------------------------------------------------------------------- */

#define READ_CHUNK 16384

/* A corrupt record: an application_data header and 40 bytes no key decrypts. */
static const unsigned char GARBAGE_RECORD[45] = {
    23,   3,    3,    0,    40,   0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
};

struct peer {
    SSL *ssl;
    struct pipe *pipe;
    struct ledger *ledger;
    unsigned char scratch[READ_CHUNK];
    int reading;        /* a blocking writer's wait lets the peer read */
    int transport_gone; /* the peer closed or reset its transport */
    uint64_t sent;      /* bytes of the peer's own stream written so far */
    unsigned char *unsent; /* the rest of a peer write the transport did not take yet */
    size_t unsent_len;
    int early_reading;  /* a server accepting early data reads it with SSL_read_early_data
                         * until that says FINISH, then the normal way */
    int early_written;  /* a client that wrote early data finishes its handshake first */
};

/* The peer's configuration: the other role, partial writes + moving buffer + auto retry,
 * client renegotiation allowed; the client side asks for max_fragment_length. */
static struct conn_config peer_config(const struct conn_config *impl)
{
    struct conn_config c;
    memset(&c, 0, sizeof c);
    c.role = impl->role == CLIENT ? SERVER : CLIENT;
    c.tls = impl->tls;
    c.modes.partial_write = c.modes.moving_buffer = c.modes.auto_retry = 1;
    c.set_state = 1;
    c.allow_client_renegotiation = 1;
    c.max_fragment_length = impl->max_fragment_length;
    c.tls13_tickets = impl->tls13_tickets;
    c.early_data = impl->early_data;
    c.resume = impl->resume;
    return c;
}

/* SSL_read_early_data: ok(n) for early data read, ok(0) once it is finished (FINISH);
 * ret is its raw return value. */
static struct call read_early_data(SSL *ssl, unsigned char *buf, size_t len, int *last_ret)
{
    struct call c;
#if REPRO_BORING
    (void)ssl, (void)buf, (void)len, (void)last_ret;
    memset(&c, 0, sizeof c);
    c.outcome = SKIP;
    snprintf(c.what, sizeof c.what, "SSL_read_early_data is not in this library");
#else
    size_t got = 0;
    int ret = SSL_read_early_data(ssl, buf, len, &got);
    if (ret == SSL_READ_EARLY_DATA_SUCCESS || ret == SSL_READ_EARLY_DATA_FINISH) {
        c = simple_call(1);
        c.n = got;
    } else {
        c = io_call(ssl, 0);
        ret = 0;
    }
    *last_ret = ret;
    c.ret = ret;
#endif
    return c;
}

/* SSL_write_early_data: ok(written) when it returns 1. */
static struct call write_early_data(SSL *ssl, const unsigned char *buf, size_t len,
                                    int *last_ret)
{
    struct call c;
#if REPRO_BORING
    (void)ssl, (void)buf, (void)len, (void)last_ret;
    memset(&c, 0, sizeof c);
    c.outcome = SKIP;
    snprintf(c.what, sizeof c.what, "SSL_write_early_data is not in this library");
#else
    size_t written = 0;
    int ret = SSL_write_early_data(ssl, buf, len, &written);
    c = io_call(ssl, ret);
    *last_ret = ret;
    if (ret > 0)
        c.n = written;
#endif
    return c;
}

static struct call peer_read(struct peer *p, long long limit, uint64_t *got);

/* One handshake call of the peer (a server still reading early data reads it: the
 * handshake goes on from there). */
static struct call peer_handshake(struct peer *p)
{
    if (p->early_reading) {
        uint64_t n;
        return peer_read(p, -1, &n);
    }
    ERR_clear_error();
    return io_call(p->ssl, SSL_do_handshake(p->ssl));
}

/* The peer's application reads up to `limit` bytes (all it can if negative); returns the
 * call that stopped it, and how many bytes it read in `*got`. */
static struct call peer_read(struct peer *p, long long limit, uint64_t *got)
{
    uint64_t total = 0;
    if (p->early_written) {
        ERR_clear_error();
        struct call c = io_call(p->ssl, SSL_do_handshake(p->ssl));
        if (c.outcome != OK) {
            *got = 0;
            return c;
        }
        p->early_written = 0;
    }
    for (;;) {
        size_t want = READ_CHUNK;
        if (limit >= 0) {
            if (total >= (uint64_t)limit) {
                *got = total;
                return ok_call(total, (long long)total);
            }
            if ((uint64_t)limit - total < want)
                want = (size_t)((uint64_t)limit - total);
        }
        ERR_clear_error();
        struct call c;
        int early = p->early_reading, ignored;
        if (early)
            c = read_early_data(p->ssl, p->scratch, want, &ignored);
        else
            c = io_call(p->ssl, SSL_read(p->ssl, p->scratch, (int)want));
        if (early && c.outcome == OK && c.n == 0) {
            p->early_reading = 0; /* FINISH: the normal reads take over */
            continue;
        }
        if (c.outcome == OK && c.n > 0) {
            ledger_receive(p->ledger, p->scratch, (size_t)c.n);
            total += c.n;
            continue;
        }
        *got = total;
        return c;
    }
}

/* The peer's application writes `len` more bytes of its own stream, after whatever an
 * earlier write left unsent (retried with the same bytes). */
static struct call peer_write(struct peer *p, size_t len, uint64_t *moved)
{
    size_t total = p->unsent_len + len;
    unsigned char *buf = xmalloc(total);
    memcpy(buf, p->unsent, p->unsent_len);
    stream_fill(buf + p->unsent_len, len, p->sent + p->unsent_len, STREAM);
    free(p->unsent);
    p->unsent = NULL;
    p->unsent_len = 0;
    size_t off = 0;
    struct call c;
    for (;;) {
        size_t written = 0;
        ERR_clear_error();
        int ret = SSL_write_ex(p->ssl, buf + off, total - off, &written);
        c = io_call(p->ssl, ret);
        if (ret > 0) {
            c.n = written;
            off += written;
            p->sent += written;
            if (off < total)
                continue;
        } else if (is_retry(&c)) {
            p->unsent_len = total - off;
            p->unsent = xmalloc(p->unsent_len);
            memcpy(p->unsent, buf + off, p->unsent_len);
        }
        break;
    }
    free(buf);
    *moved = off;
    return c;
}

/* What a blocking writer's wait (and the end of a run) lets the peer do: go on with an
 * unfinished write, then read all; the implementation's error queue is set aside meanwhile. */
static void peer_pump(void *arg)
{
    struct peer *p = arg;
    if (p->transport_gone)
        return;
    struct saved_errors outer;
    uint64_t n;
    errors_save(&outer);
    if (p->unsent_len > 0)
        peer_write(p, 0, &n);
    if (p->reading)
        peer_read(p, -1, &n);
    ERR_clear_error();
    errors_restore(&outer);
}

static struct call peer_shutdown(struct peer *p)
{
    ERR_clear_error();
    int ret = SSL_shutdown(p->ssl);
    if (ret >= 0) {
        struct call c = simple_call(1);
        c.n = (uint64_t)ret;
        c.ret = ret;
        return c;
    }
    return io_call(p->ssl, ret);
}

/* ----- The run ----------------------------------------------------------------------------- */

struct run {
    const struct run_config *cfg;
    struct pipe pipe;
    struct ledger ledger;
    struct endpoint impl_end, peer_end;
    SSL *ssl;            /* the implementation under test */
    struct peer peer;
    unsigned char **slots;
    enum content *slot_content;
    int last_ret;        /* for error_again */
    int keep_queue;      /* dirty_error_queue: the next call does not clear the queue */
    int resumed;         /* -1: not known (yet); else whether the first handshake resumed */
};

/* Bytes sent and queued both ways, and what the peer's application read. */
static void run_motion(const struct run *r, uint64_t m[5])
{
    pipe_motion(&r->pipe, m);
    m[4] = r->ledger.received;
}

static int same_motion(const uint64_t a[5], const uint64_t b[5], int n)
{
    return memcmp(a, b, (size_t)n * sizeof a[0]) == 0;
}

/* Prints a step of the implementation; returns 1 when the run ends there (a deadlock, a
 * skip). */
static int end_step(struct run *r, int index, const char *op, struct call *c, int is_impl,
                    const uint64_t *bytes)
{
    if (pipe_take_deadlock(&r->pipe) && c != NULL)
        c->outcome = DEADLOCK;
    /* A resuming run notes whether its first handshake resumed, once it is done. */
    if (r->resumed < 0 && (r->cfg->conn.resume || r->cfg->conn.early_data)
        && SSL_is_init_finished(r->ssl))
        r->resumed = SSL_session_reused(r->ssl) == 1;
    if (c == NULL)
        return 0;
    if (is_impl) {
        char out[256];
        outcome_text(c, out, sizeof out);
        printf("%d %s %s ret=%lld", index, op, out, c->ret);
        if (bytes != NULL)
            printf(" bytes=%llu", (unsigned long long)*bytes);
        if (c->nreasons > 0) {
            printf(" errors=[");
            for (int i = 0; i < c->nreasons; i++)
                printf("%s%s", i ? "; " : "", c->reasons[i]);
            printf("]");
        }
        printf("\n");
    }
    if (c->outcome == DEADLOCK) {
        printf("end deadlock at step %d\n", index);
        return 1;
    }
    if (c->outcome == SKIP) {
        printf("end skip at step %d: %s\n", index, c->what);
        return 1;
    }
    return 0;
}

#define STEP(x)        \
    do {               \
        if (x)         \
            return 1;  \
    } while (0)

/* Puts the stream's next `len` bytes (from what was confirmed so far), or other bytes, into
 * a slot. */
static void fill_slot(struct run *r, int slot, size_t len, enum content c)
{
    stream_fill(r->slots[slot], len, r->ledger.confirmed, c);
    r->slot_content[slot] = c;
}

/* One SSL_write / SSL_write_ex of `len` bytes at `buf`. */
static struct call call_write(struct run *r, enum api api, int slot, size_t at, size_t len)
{
    r->ledger.pending = r->slot_content[slot];
    const unsigned char *buf = r->slots[slot] + at;
    clear_errors(&r->keep_queue);
    struct call c;
    if (api == API_WRITE) {
        int ret = SSL_write(r->ssl, buf, (int)len);
        c = io_call(r->ssl, ret);
        r->last_ret = ret;
    } else {
        size_t written = 0;
        int ret = SSL_write_ex(r->ssl, buf, len, &written);
        c = io_call(r->ssl, ret);
        r->last_ret = ret;
        if (ret > 0)
            c.n = written;
    }
    /* What the writer is told was written is what the peer must read. */
    if (c.outcome == OK && c.n <= len)
        ledger_confirm(&r->ledger, c.n, r->slot_content[slot]);
    return c;
}

static int do_handshake(struct run *r, int index, const char *op)
{
    struct call c;
    int stuck = 0;
    for (int round = 0; round < 100000; round++) {
        uint64_t before[5], after[5];
        run_motion(r, before);
        clear_errors(&r->keep_queue);
        int ret = SSL_do_handshake(r->ssl);
        c = io_call(r->ssl, ret);
        r->last_ret = ret;
        int deadlocked = pipe_take_deadlock(&r->pipe);
        if (deadlocked)
            c.outcome = DEADLOCK;
        if (!is_retry(&c) || deadlocked)
            break;
        peer_pump(&r->peer);
        run_motion(r, after);
        if (same_motion(before, after, 5)) {
            if (++stuck >= 2)
                break;
        } else {
            stuck = 0;
        }
    }
    /* Once the implementation is done, the peer finishes too (a TLS 1.3 client's Finished). */
    if (c.outcome == OK) {
        for (int i = 0; i < 4; i++) {
            if (SSL_is_init_finished(r->peer.ssl) || r->peer.transport_gone)
                break;
            peer_handshake(&r->peer);
        }
    }
    return end_step(r, index, op, &c, 1, NULL);
}

static int do_write(struct run *r, int index, const char *op, enum api api, int slot,
                    size_t len, enum content content)
{
    fill_slot(r, slot, len, content);
    struct call c = call_write(r, api, slot, 0, len);
    return end_step(r, index, op, &c, 1, NULL);
}

static int do_write_negative(struct run *r, int index, const char *op, int num)
{
    static const unsigned char byte[1];
    clear_errors(&r->keep_queue);
    int ret = SSL_write(r->ssl, byte, num);
    struct call c = io_call(r->ssl, ret);
    r->last_ret = ret;
    return end_step(r, index, op, &c, 1, NULL);
}

/* The contract-following write loop: after want_* the peer reads (`drain` bytes, all when
 * negative) and the write is retried with the same arguments; after a partial success it
 * goes on with the rest. It stops after 100 calls in a row without progress, or once the
 * transport got more than twice what is left plus 64 KiB without a confirmed byte. */
struct loop_result {
    size_t done;
    struct call last;
    uint64_t calls;
    int stalled, capped;
};

static struct loop_result write_loop(struct run *r, int slot, size_t len, enum api api,
                                     long long drain, uint64_t max_calls)
{
    struct loop_result res;
    memset(&res, 0, sizeof res);
    res.last.outcome = SKIP;
    snprintf(res.last.what, sizeof res.last.what, "no call");
    unsigned idle = 0;
    int chance = 1;
    uint64_t sent_at_confirm = r->pipe.q[IMPL].total;
    for (;;) {
        uint64_t unconfirmed = r->pipe.q[IMPL].total - sent_at_confirm;
        size_t left = len - (res.done < len ? res.done : len);
        if (unconfirmed > 2 * (uint64_t)left + 65536)
            break;
        if (idle >= 100)
            break;
        if (res.calls >= max_calls) {
            res.capped = 1;
            break;
        }
        uint64_t before_total = r->pipe.q[IMPL].total;
        size_t before_pending = r->pipe.q[IMPL].len;
        struct call c = call_write(r, api, slot, res.done, len - res.done);
        int wrote = c.outcome == OK && c.n > 0;
        int moved = before_total != r->pipe.q[IMPL].total
                    || before_pending != r->pipe.q[IMPL].len || wrote;
        idle = moved ? 0 : chance ? idle + 1 : idle;
        res.calls++;
        int deadlocked = pipe_take_deadlock(&r->pipe);
        if (deadlocked)
            c.outcome = DEADLOCK;
        res.last = c;
        if (deadlocked)
            break;
        if (c.outcome == OK) {
            if (c.n == 0)
                break;
            res.done += (size_t)c.n;
            sent_at_confirm = r->pipe.q[IMPL].total;
            if (res.done >= len)
                break;
        } else if (is_retry(&c)) {
            /* The contract's premise is a peer that drains: when it takes nothing,
             * retrying cannot help. */
            uint64_t before[5], after[5], n;
            run_motion(r, before);
            if (!r->peer.transport_gone)
                peer_read(&r->peer, drain, &n);
            run_motion(r, after);
            if (same_motion(before, after, 5)) {
                res.stalled = 1;
                break;
            }
            /* A chance for the writer: the drain left room in its direction, or the peer
             * sent it something. */
            chance = !same_motion(before, after, 4)
                     && (r->pipe.q[IMPL].len < r->pipe.q[IMPL].capacity
                         || after[2] != before[2]);
        } else {
            break;
        }
    }
    return res;
}

static int do_write_all(struct run *r, int index, const char *op, enum api api, int slot,
                        size_t len, long long drain, uint64_t max_calls)
{
    fill_slot(r, slot, len, STREAM);
    struct loop_result res = write_loop(r, slot, len, api, drain, max_calls);
    if (res.done == len && res.last.outcome == OK)
        res.last.n = len;
    char line[512];
    snprintf(line, sizeof line, "%s%s", op,
             res.stalled ? " (stopped: the peer reads nothing more)" : "");
    uint64_t bytes = res.done;
    return end_step(r, index, line, &res.last, 1, &bytes);
}

static int do_write_stream(struct run *r, int index, const char *op, enum api api,
                           uint64_t total, size_t chunk, long long drain)
{
    int slot = r->cfg->nslots - 1;
    uint64_t done = 0, calls = 0;
    struct call last;
    memset(&last, 0, sizeof last);
    last.outcome = SKIP;
    snprintf(last.what, sizeof last.what, "no call");
    if (chunk == 0)
        chunk = 1;
    while (done < total) {
        size_t len = total - done < chunk ? (size_t)(total - done) : chunk;
        fill_slot(r, slot, len, STREAM);
        struct loop_result res = write_loop(r, slot, len, api, drain, UINT32_MAX);
        calls += res.calls;
        done += res.done;
        last = res.last;
        if (res.done < len || last.outcome != OK)
            break;
    }
    if (done == total && last.outcome == OK)
        last.n = total;
    char line[512];
    snprintf(line, sizeof line, "%s (%llu calls)", op, (unsigned long long)calls);
    return end_step(r, index, line, &last, 1, &done);
}

static int do_read(struct run *r, int index, const char *op, size_t len)
{
    unsigned char *buf = xmalloc(len);
    clear_errors(&r->keep_queue);
    int ret = SSL_read(r->ssl, buf, (int)len);
    struct call c = io_call(r->ssl, ret);
    r->last_ret = ret;
    free(buf);
    return end_step(r, index, op, &c, 1, NULL);
}

static int do_shutdown(struct run *r, int index, const char *op)
{
    clear_errors(&r->keep_queue);
    int ret = SSL_shutdown(r->ssl);
    struct call c;
    if (ret >= 0) {
        /* 0: close_notify sent, the peer's not yet received; 1: both. */
        c = simple_call(1);
        c.n = (uint64_t)ret;
        c.ret = ret;
    } else {
        c = io_call(r->ssl, ret);
        r->last_ret = ret;
    }
    return end_step(r, index, op, &c, 1, NULL);
}

static int do_key_update(struct run *r, int index, const char *op, int requested)
{
    clear_errors(&r->keep_queue);
    struct call c = simple_call(SSL_key_update(r->ssl, requested ? SSL_KEY_UPDATE_REQUESTED
                                                                 : SSL_KEY_UPDATE_NOT_REQUESTED));
    return end_step(r, index, op, &c, 1, NULL);
}

static int do_renegotiate(struct run *r, int index, const char *op)
{
    clear_errors(&r->keep_queue);
    struct call c = simple_call(SSL_renegotiate(r->ssl));
    return end_step(r, index, op, &c, 1, NULL);
}

static int do_new_session_ticket(struct run *r, int index, const char *op)
{
    struct call c;
#if REPRO_BORING || defined(LIBRESSL_VERSION_NUMBER) || OPENSSL_VERSION_NUMBER < 0x30000000L
    memset(&c, 0, sizeof c);
    c.outcome = SKIP;
    snprintf(c.what, sizeof c.what, "SSL_new_session_ticket is not in this library");
#else
    clear_errors(&r->keep_queue);
    c = simple_call(SSL_new_session_ticket(r->ssl));
#endif
    return end_step(r, index, op, &c, 1, NULL);
}

/* SSL_get_error again about the previous call (RV-1). */
static int do_error_again(struct run *r, int index, const char *op)
{
    struct call c = io_call(r->ssl, r->last_ret);
    return end_step(r, index, op, &c, 1, NULL);
}

/* A stale, unrelated error on the queue (a failed DER decode) before the next call. */
static int do_dirty_error_queue(struct run *r, int index, const char *op)
{
    static const unsigned char garbage[] = {0x30, 0x03, 0x02, 0x01};
    const unsigned char *p = garbage;
    ERR_clear_error();
    X509 *x = d2i_X509(NULL, &p, sizeof garbage);
    X509_free(x);
    r->keep_queue = 1;
    struct call c = ok_call(1, 1);
    return end_step(r, index, op, &c, 1, NULL);
}

static int do_set_modes(struct run *r, int index, const char *op, struct modes m)
{
    struct call c = set_modes(r->ssl, m);
    return end_step(r, index, op, &c, 1, NULL);
}

/* TLS 1.3 client: SSL_write_early_data of `len` bytes of the stream from a slot. */
static int do_write_early(struct run *r, int index, const char *op, int slot, size_t len)
{
    fill_slot(r, slot, len, STREAM);
    r->ledger.pending = STREAM;
    clear_errors(&r->keep_queue);
    struct call c = write_early_data(r->ssl, r->slots[slot], len, &r->last_ret);
    if (c.outcome == OK && c.n <= len)
        ledger_confirm(&r->ledger, c.n, STREAM);
    return end_step(r, index, op, &c, 1, NULL);
}

/* TLS 1.3 server: SSL_read_early_data of up to `len` bytes. */
static int do_read_early(struct run *r, int index, const char *op, size_t len)
{
    unsigned char *buf = xmalloc(len);
    clear_errors(&r->keep_queue);
    struct call c = read_early_data(r->ssl, buf, len, &r->last_ret);
    free(buf);
    return end_step(r, index, op, &c, 1, NULL);
}

/* Steps of the peer and of the transport: no line of their own. */

/* The peer client (resuming with early data) writes `len` bytes of its stream as early data,
 * before its handshake goes on. */
static int do_peer_write_early(struct run *r, int index, const char *op, size_t len)
{
    struct peer *p = &r->peer;
    unsigned char *buf = xmalloc(len);
    int ignored;
    stream_fill(buf, len, p->sent, STREAM);
    ERR_clear_error();
    struct call c = write_early_data(p->ssl, buf, len, &ignored);
    free(buf);
    p->early_written = 1;
    if (c.outcome == OK)
        p->sent += c.n;
    return end_step(r, index, op, &c, 0, NULL);
}

static int do_peer_read(struct run *r, int index, const char *op, long long limit)
{
    uint64_t n;
    struct call c = peer_read(&r->peer, limit, &n);
    return end_step(r, index, op, &c, 0, NULL);
}

static int do_peer_reading(struct run *r, int reading)
{
    r->peer.reading = reading;
    return 0;
}

static int do_peer_write(struct run *r, int index, const char *op, size_t len)
{
    uint64_t n;
    struct call c = peer_write(&r->peer, len, &n);
    return end_step(r, index, op, &c, 0, NULL);
}

static int do_peer_shutdown(struct run *r, int index, const char *op)
{
    struct call c = peer_shutdown(&r->peer);
    return end_step(r, index, op, &c, 0, NULL);
}

/* The peer starts a renegotiation (TLS 1.2) and sends its first message at once. */
static int do_peer_renegotiate(struct run *r, int index, const char *op)
{
    ERR_clear_error();
    struct call c = simple_call(SSL_renegotiate(r->peer.ssl));
    if (c.outcome == OK)
        c = peer_handshake(&r->peer);
    return end_step(r, index, op, &c, 0, NULL);
}

/* The peer sends a KeyUpdate (TLS 1.3) at once. */
static int do_peer_key_update(struct run *r, int index, const char *op, int requested)
{
    ERR_clear_error();
    struct call c = simple_call(SSL_key_update(
        r->peer.ssl, requested ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED));
    if (c.outcome == OK)
        c = peer_handshake(&r->peer);
    return end_step(r, index, op, &c, 0, NULL);
}

/* The peer (a TLS 1.3 server) sends an extra NewSessionTicket at once. */
static int do_peer_new_session_ticket(struct run *r, int index, const char *op)
{
    struct call c;
#if REPRO_BORING || defined(LIBRESSL_VERSION_NUMBER) || OPENSSL_VERSION_NUMBER < 0x30000000L
    memset(&c, 0, sizeof c);
    c.outcome = SKIP;
    snprintf(c.what, sizeof c.what, "SSL_new_session_ticket is not in this library");
#else
    ERR_clear_error();
    c = simple_call(SSL_new_session_ticket(r->peer.ssl));
    if (c.outcome == OK)
        c = peer_handshake(&r->peer);
#endif
    return end_step(r, index, op, &c, 0, NULL);
}

/* The peer receives a corrupt record, rejects it and says so: a fatal alert. */
static int do_peer_fatal_alert(struct run *r, int index, const char *op)
{
    uint64_t n;
    pipe_inject(&r->pipe, PEER, GARBAGE_RECORD, sizeof GARBAGE_RECORD);
    struct call c = peer_read(&r->peer, -1, &n);
    return end_step(r, index, op, &c, 0, NULL);
}

static int do_peer_fin(struct run *r)
{
    pipe_fin(&r->pipe, PEER);
    return end_step(r, 0, "", NULL, 0, NULL);
}

static int do_peer_close(struct run *r)
{
    pipe_close(&r->pipe, PEER);
    r->peer.transport_gone = 1;
    return end_step(r, 0, "", NULL, 0, NULL);
}

static int do_peer_reset(struct run *r)
{
    pipe_reset(&r->pipe, PEER);
    r->peer.transport_gone = 1;
    return end_step(r, 0, "", NULL, 0, NULL);
}

/* A malformed record arrives for the implementation. */
static int do_inject_malformed(struct run *r)
{
    pipe_inject(&r->pipe, IMPL, GARBAGE_RECORD, sizeof GARBAGE_RECORD);
    return end_step(r, 0, "", NULL, 0, NULL);
}

/* Changes the transport; a negative value leaves that setting as it is. */
static int do_transport(struct run *r, long long capacity_to_peer, long long capacity_to_impl,
                        int blocking, long long trickle, long long zero_writes)
{
    if (capacity_to_peer >= 0)
        r->pipe.q[IMPL].capacity = (size_t)capacity_to_peer;
    if (capacity_to_impl >= 0)
        r->pipe.q[PEER].capacity = (size_t)capacity_to_impl;
    if (blocking >= 0)
        r->pipe.blocking = blocking;
    if (trickle >= 0)
        r->pipe.q[IMPL].trickle = (size_t)trickle;
    if (zero_writes >= 0)
        r->pipe.q[IMPL].zero_writes = (unsigned)zero_writes;
    return end_step(r, 0, "", NULL, 0, NULL);
}

/* The end of the run: the peer reads what is left, then what it received is printed. */
static void finish(struct run *r)
{
    struct peer *p = &r->peer;
    if (!p->transport_gone) {
        uint64_t n;
        p->reading = 1;
        for (int i = 0; i < 4; i++) {
            size_t before = r->pipe.q[IMPL].len;
            peer_pump(p);
            if (r->pipe.q[IMPL].len == 0 || r->pipe.q[IMPL].len == before)
                break;
        }
        peer_read(p, -1, &n);
    }
    if (r->resumed >= 0)
        printf("session resumed: %s\n", r->resumed ? "yes" : "no");
    printf("peer received %llu bytes, %llu confirmed as written",
           (unsigned long long)r->ledger.received, (unsigned long long)r->ledger.confirmed);
    if (r->ledger.mismatch)
        printf(", first difference at stream offset %llu",
               (unsigned long long)r->ledger.mismatch_at);
    printf("\n");
}

/* The first connection of a resuming (or early-data) run, over a roomy transport of its
 * own: both sides in the run's configuration, a full handshake, the client reads the
 * server's tickets, both send close_notify (OpenSSL drops a session from the server's cache
 * when its connection ends without one). Returns the client's session. */
static SSL_SESSION *prime(const struct run_config *run, SSL_CTX *impl_ctx, SSL_CTX *peer_ctx)
{
    static struct pipe pipe;
    static struct endpoint ends[2];
    struct conn_config cfg = run->conn;
    if (cfg.resume && !cfg.early_data)
        cfg.tls13_tickets = run->first_tls13_tickets;
    struct conn_config pcfg = peer_config(&cfg);
    pipe.q[IMPL].capacity = pipe.q[PEER].capacity = 1 << 20;
    ends[0].pipe = ends[1].pipe = &pipe;
    ends[0].side = IMPL;
    ends[1].side = PEER;
    SSL *ours = new_connection(impl_ctx, &cfg, bio_new_endpoint(&ends[0]), NULL);
    SSL *theirs = new_connection(peer_ctx, &pcfg, bio_new_endpoint(&ends[1]), NULL);
    for (int round = 0; !(SSL_is_init_finished(ours) && SSL_is_init_finished(theirs)); round++) {
        if (round == 64)
            die("the first connection's handshake");
        SSL *both[2] = {ours, theirs};
        for (int i = 0; i < 2; i++) {
            ERR_clear_error();
            struct call c = io_call(both[i], SSL_do_handshake(both[i]));
            if (is_fatal(&c))
                die("the first connection's handshake");
        }
    }
    SSL *client = cfg.role == CLIENT ? ours : theirs;
    SSL *server = cfg.role == CLIENT ? theirs : ours;
    for (int i = 0; i < 2; i++) {
        unsigned char byte;
        ERR_clear_error();
        struct call c = io_call(client, SSL_read(client, &byte, 1));
        if (!is_retry(&c))
            die("reading the session tickets");
        ERR_clear_error();
        c = io_call(server, SSL_do_handshake(server));
        if (is_fatal(&c))
            die("the first connection after its handshake");
    }
    if (SSL_shutdown(client) < 0 || SSL_shutdown(server) < 0)
        die("the first connection's close_notify");
    SSL_SESSION *session = SSL_get1_session(client);
    if (session == NULL || !SSL_SESSION_is_resumable(session))
        die("a resumable session from the first connection");
    SSL_set_shutdown(ours, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(theirs, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(ours);
    SSL_free(theirs);
    ERR_clear_error();
    return session;
}

static int repro_main(const struct run_config *cfg, int (*play)(struct run *))
{
    static struct run run;
    struct run *r = &run;
    stream_init();
    struct pki pki = make_pki();
    r->cfg = cfg;
    r->pipe.q[IMPL].capacity = cfg->capacity_to_peer;
    r->pipe.q[PEER].capacity = cfg->capacity_to_impl;
    r->pipe.blocking = cfg->blocking;
    r->last_ret = 1;
    r->resumed = -1;
    r->slots = xmalloc((size_t)cfg->nslots * sizeof *r->slots);
    r->slot_content = xmalloc((size_t)cfg->nslots * sizeof *r->slot_content);
    for (int i = 0; i < cfg->nslots; i++) {
        r->slots[i] = xmalloc(cfg->slot_sizes[i] ? cfg->slot_sizes[i] : 1);
        r->slot_content[i] = STREAM;
    }

    struct conn_config pcfg = peer_config(&cfg->conn);
    SSL_CTX *impl_ctx = new_context(&cfg->conn, &pki);
    SSL_CTX *peer_ctx = new_context(&pcfg, &pki);
    r->impl_end.pipe = r->peer_end.pipe = &r->pipe;
    r->impl_end.side = IMPL;
    r->peer_end.side = PEER;
    SSL_SESSION *session = NULL;
    if (cfg->conn.resume || cfg->conn.early_data)
        session = prime(cfg, impl_ctx, peer_ctx);
    r->ssl = new_connection(impl_ctx, &cfg->conn, bio_new_endpoint(&r->impl_end),
                            cfg->conn.role == CLIENT ? session : NULL);
    r->peer.ssl = new_connection(peer_ctx, &pcfg, bio_new_endpoint(&r->peer_end),
                                 cfg->conn.role == SERVER ? session : NULL);
    r->peer.early_reading = pcfg.early_data && pcfg.role == SERVER;
    r->peer.pipe = &r->pipe;
    r->peer.ledger = &r->ledger;
    r->peer.reading = 1;
    r->pipe.pump = peer_pump;
    r->pipe.pump_arg = &r->peer;

    if (!play(r))
        printf("end completed\n");
    finish(r);
    fflush(stdout);
    return 0;
}

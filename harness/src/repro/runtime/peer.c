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
    /* The first application traffic secrets of TLS 1.3 (0: the client's, 1: the server's),
     * from the key log (reseal.c). */
    unsigned char traffic_secret[2][64];
    size_t traffic_secret_len[2];
};

/* The peer's configuration: the other role, partial writes + moving buffer + auto retry,
 * client renegotiation allowed (where the library has it) unless the spec refuses it; the
 * client side asks for max_fragment_length; the scenario's cipher list binds both ends unless
 * the spec gives the peer its own. */
static struct conn_config peer_config(const struct conn_config *impl, const struct peer_spec *spec)
{
    struct conn_config c;
    memset(&c, 0, sizeof c);
    c.role = impl->role == CLIENT ? SERVER : CLIENT;
    c.tls = impl->tls;
    c.modes.partial_write = c.modes.moving_buffer = c.modes.auto_retry = 1;
    c.set_state = 1;
    /* A BoringSSL-family server never accepts one. */
    c.allow_client_renegotiation = !REPRO_BORING && !spec->refuse_client_renegotiation;
    c.max_fragment_length = impl->max_fragment_length;
    c.tls13_tickets = spec->tls13_tickets >= 0 ? spec->tls13_tickets : impl->tls13_tickets;
    c.early_data = impl->early_data;
    c.resume = impl->resume;
    c.cipher = spec->cipher != NULL ? spec->cipher : impl->cipher;
    c.groups = spec->groups;
    c.key = spec->key;
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
#if REPRO_WRITE_EX
        int ret = SSL_write_ex(p->ssl, buf + off, total - off, &written);
#else
        int ret = SSL_write(p->ssl, buf + off, (int)(total - off));
        written = ret > 0 ? (size_t)ret : 0;
#endif
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

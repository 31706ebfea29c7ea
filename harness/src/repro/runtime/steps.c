/* ----- Steps of the peer and of the transport --------------------------------------------- */

/* They print no line of their own. */

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

/* A record of the scenario's making arrives for the implementation (`payload` NULL: `len`
 * bytes of FILLER). */
static int do_inject_record(struct run *r, int content_type, unsigned version,
                            const unsigned char *payload, size_t len)
{
    inject_record(&r->pipe, IMPL, content_type, version, payload, len);
    return end_step(r, 0, "", NULL, 0, NULL);
}

/* The peer's application writes `len` bytes, of which the transport takes the first `first`
 * bytes of its records now; the rest stays with the peer's connection, as after any short
 * transport write, and goes with its next write or pump. */
static int do_peer_write_split(struct run *r, int index, const char *op, size_t len,
                               size_t first)
{
    uint64_t n;
    pipe_set_budget(&r->pipe, PEER, 1, first);
    struct call c = peer_write(&r->peer, len, &n);
    pipe_set_budget(&r->pipe, PEER, 0, 0);
    return end_step(r, index, op, &c, 0, NULL);
}

/* The peer sends an application-data record without plaintext (re-sealed: reseal.c). */
static int do_peer_empty_record(struct run *r, int index, const char *op)
{
    struct call c = peer_resealed(&r->peer, 23, NULL, 0);
    return end_step(r, index, op, &c, 0, NULL);
}

/* The peer sends a warning alert of `description` (re-sealed: reseal.c). */
static int do_peer_warning_alert(struct run *r, int index, const char *op, int description)
{
    const unsigned char alert[2] = {1, (unsigned char)description};
    struct call c = peer_resealed(&r->peer, 21, alert, 2);
    return end_step(r, index, op, &c, 0, NULL);
}

/* ----- The end of a run, the first connection, main -------------------------------------- */

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
    struct conn_config pcfg = peer_config(&cfg, &DEFAULT_PEER);
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
    /* One line at a time: a run that crashes the library keeps the lines before the crash. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Which library this is (on stderr: the lines on stdout are the run's). */
    fprintf(stderr, "repro: %s (headers: %s)\n", OpenSSL_version(OPENSSL_VERSION),
            OPENSSL_VERSION_TEXT);
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

    struct conn_config pcfg = peer_config(&cfg->conn, &cfg->peer);
    SSL_CTX *impl_ctx = new_context(&cfg->conn, &pki);
    SSL_CTX *peer_ctx = new_context(&pcfg, &pki);
    /* The peer's TLS 1.3 traffic secrets, for the records it re-seals (reseal.c). */
    SSL_CTX_set_keylog_callback(peer_ctx, keylog_callback);
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
    SSL_set_app_data(r->peer.ssl, &r->peer);
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

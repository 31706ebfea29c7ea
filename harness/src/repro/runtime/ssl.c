/* ----- Contexts and connections ------------------------------------------------------------ */

static void skip_setup(const char *why)
{
    printf("end skip(%s)\n", why);
    exit(0);
}

static SSL_CTX *new_context(const struct conn_config *cfg, struct pki *pki)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (ctx == NULL)
        die("SSL_CTX_new");
    int v = cfg->tls == TLS12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    if (!SSL_CTX_set_min_proto_version(ctx, v) || !SSL_CTX_set_max_proto_version(ctx, v))
        die("protocol version");
    if (cfg->role == SERVER) {
        X509 *cert;
        EVP_PKEY *key;
        server_cert(pki, cfg->key, &cert, &key);
        if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1
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
        /* Only a per-context count there; TLS 1.2 sends one ticket whatever it says. */
        if (cfg->tls == TLS13)
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
#if REPRO_BORING
#define SSL_set1_groups_list SSL_set1_curves_list /* the older name, which it has */
#endif
    if (cfg->groups != NULL && SSL_set1_groups_list(ssl, cfg->groups) != 1)
        skip_setup("the library refused the groups list");
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

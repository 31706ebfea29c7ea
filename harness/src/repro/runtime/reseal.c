/* ----- Records the peer's API cannot send, made by re-sealing one it did ------------------ */

/* No libssl call sends an empty application-data record (SSL_write of 0 bytes sends nothing)
 * or a warning alert other than close_notify. So the peer writes one byte, the record is taken
 * off the transport before the implementation sees it, opened with the peer's own write key,
 * and the wanted content sealed in its place under the same key and sequence number: the
 * peer's record layer and the implementation's stay in step. The byte never reaches the
 * implementation's application, so the peer's stream does not count it.
 *
 * Only AEAD suites (AES-GCM, ChaCha20-Poly1305). The sequence number and (TLS 1.3) the key
 * generation are found by opening the record with each candidate in turn, bounded: an AEAD
 * opens only under the right key and nonce. The harness's reseal.rs, in C. */

#define MAX_SEQ_TRIED 4096
#define MAX_KEY_UPDATES 16
#define TAG 16

/* What the peer's connection knows of the keys it writes records with. */
struct write_secrets {
    int tls13;
    unsigned suite;                  /* the IANA number */
    unsigned char secret[64];        /* TLS 1.3: the first application traffic secret */
    size_t secret_len;
    unsigned char master[48];        /* TLS 1.2: the master secret and the hello randoms */
    unsigned char client_random[32], server_random[32];
    int client;                      /* the peer is the client: it writes with the client's key */
};

/* The key log callback of the peer's context: keeps the two first application traffic
 * secrets ("LABEL CLIENT_RANDOM SECRET", hex) of the peer's connection. */
static void keylog_callback(const SSL *ssl, const char *line)
{
    struct peer *p = SSL_get_app_data(ssl);
    int which;
    if (p == NULL)
        return; /* the first connection of a resuming run */
    if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0)
        which = 0;
    else if (strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0)
        which = 1;
    else
        return;
    const char *hex = strchr(line + 24, ' ');
    if (hex == NULL)
        return;
    hex++;
    size_t n = 0;
    while (n < sizeof p->traffic_secret[0] && isxdigit((unsigned char)hex[2 * n])
           && isxdigit((unsigned char)hex[2 * n + 1])) {
        unsigned v;
        sscanf(hex + 2 * n, "%2x", &v);
        p->traffic_secret[which][n++] = (unsigned char)v;
    }
    p->traffic_secret_len[which] = n;
}

/* The peer's write secrets; 0 and the reason when there are none. */
static int peer_write_secrets(const struct peer *p, struct write_secrets *w, char *why, size_t size)
{
    memset(w, 0, sizeof *w);
    const SSL_CIPHER *cipher = SSL_get_current_cipher(p->ssl);
    if (cipher == NULL) {
        snprintf(why, size, "no cipher suite negotiated yet");
        return 0;
    }
    w->suite = SSL_CIPHER_get_protocol_id(cipher);
    int server = SSL_is_server(p->ssl) == 1;
    int v = SSL_version(p->ssl);
    if (v == TLS1_3_VERSION) {
        size_t n = p->traffic_secret_len[server];
        if (n == 0) {
            snprintf(why, size, "the key log gave no application traffic secret "
                                "(SSL_CTX_set_keylog_callback)");
            return 0;
        }
        w->tls13 = 1;
        memcpy(w->secret, p->traffic_secret[server], n);
        w->secret_len = n;
        return 1;
    }
    if (v == TLS1_2_VERSION) {
        SSL_SESSION *s = SSL_get_session(p->ssl);
        if (s == NULL) {
            snprintf(why, size, "no session yet");
            return 0;
        }
        if (SSL_SESSION_get_master_key(s, w->master, 48) != 48
            || SSL_get_client_random(p->ssl, w->client_random, 32) != 32
            || SSL_get_server_random(p->ssl, w->server_random, 32) != 32) {
            snprintf(why, size, "the session's master secret or the hello randoms are not available");
            return 0;
        }
        w->client = !server;
        return 1;
    }
    snprintf(why, size, "protocol version %#06x is neither TLS 1.2 nor 1.3", (unsigned)v);
    return 0;
}

/* ----- The key schedules: what TLS 1.2 and 1.3 derive a write key and IV from ----------- */

enum aead { AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305 };

/* One write key: the AEAD, its key and its IV (TLS 1.2 GCM: the 4-byte salt). */
struct write_key {
    enum aead aead;
    unsigned char key[32], iv[12];
    size_t key_len, iv_len;
};

/* The AEAD and hash of a suite; 0 for the rest (CBC, CCM, ...). */
static int suite_aead(unsigned id, enum aead *a, const EVP_MD **md)
{
    switch (id) {
    case 0x1301: case 0xc02b: case 0xc02f: case 0x009e: case 0x009c:
        *a = AES_128_GCM, *md = EVP_sha256();
        return 1;
    case 0x1302: case 0xc02c: case 0xc030: case 0x009f: case 0x009d:
        *a = AES_256_GCM, *md = EVP_sha384();
        return 1;
    case 0x1303: case 0xcca8: case 0xcca9: case 0xccaa:
        *a = CHACHA20_POLY1305, *md = EVP_sha256();
        return 1;
    }
    return 0;
}

static void not_aead(unsigned id, char *why, size_t size)
{
    snprintf(why, size, "the peer's cipher suite %#06x is not an AES-GCM or ChaCha20-Poly1305 "
                        "suite; only AEAD records are re-sealed", id);
}

/* HMAC of the concatenation of `n` parts into `out` (the digest's size). */
static size_t hmac(const EVP_MD *md, const unsigned char *key, size_t key_len,
                   const unsigned char *const *parts, const size_t *lens, int n,
                   unsigned char *out)
{
    unsigned char msg[512];
    size_t m = 0;
    for (int i = 0; i < n; i++) {
        if (m + lens[i] > sizeof msg)
            die("HMAC input");
        memcpy(msg + m, parts[i], lens[i]);
        m += lens[i];
    }
    unsigned int len = 0;
    if (HMAC(md, key, (int)key_len, msg, m, out, &len) == NULL)
        die("HMAC");
    return len;
}

/* TLS 1.2's PRF (RFC 5246 5): P_hash(secret, label + seed), `len` bytes. */
static void prf12(const EVP_MD *md, const unsigned char *secret, size_t secret_len,
                  const char *label, const unsigned char *seed, size_t seed_len,
                  unsigned char *out, size_t len)
{
    unsigned char a[EVP_MAX_MD_SIZE], block[EVP_MAX_MD_SIZE];
    size_t label_len = strlen(label);
    const unsigned char *first[] = {(const unsigned char *)label, seed};
    size_t first_lens[] = {label_len, seed_len};
    size_t a_len = hmac(md, secret, secret_len, first, first_lens, 2, a);
    for (size_t done = 0; done < len;) {
        const unsigned char *parts[] = {a, (const unsigned char *)label, seed};
        size_t lens[] = {a_len, label_len, seed_len};
        size_t n = hmac(md, secret, secret_len, parts, lens, 3, block);
        size_t k = n < len - done ? n : len - done;
        memcpy(out + done, block, k);
        done += k;
        const unsigned char *again[] = {a};
        a_len = hmac(md, secret, secret_len, again, &a_len, 1, a);
    }
}

/* TLS 1.3's HKDF-Expand-Label with an empty context (RFC 8446 7.1). */
static void expand_label(const EVP_MD *md, const unsigned char *secret, size_t secret_len,
                         const char *label, unsigned char *out, size_t len)
{
    unsigned char info[80], t[EVP_MAX_MD_SIZE];
    size_t t_len = 0, info_len = 0;
    char full[64];
    int full_len = snprintf(full, sizeof full, "tls13 %s", label);
    info[info_len++] = (unsigned char)(len >> 8);
    info[info_len++] = (unsigned char)len;
    info[info_len++] = (unsigned char)full_len;
    memcpy(info + info_len, full, (size_t)full_len);
    info_len += (size_t)full_len;
    info[info_len++] = 0;
    unsigned char i = 1;
    for (size_t done = 0; done < len; i++) {
        const unsigned char *parts[] = {t, info, &i};
        size_t lens[] = {t_len, info_len, 1};
        t_len = hmac(md, secret, secret_len, parts, lens, 3, t);
        size_t k = t_len < len - done ? t_len : len - done;
        memcpy(out + done, t, k);
        done += k;
    }
}

static size_t aead_key_len(enum aead a)
{
    return a == AES_128_GCM ? 16 : 32;
}

static void tls12_key(const struct write_secrets *w, enum aead a, const EVP_MD *md,
                      struct write_key *k)
{
    size_t kl = aead_key_len(a), ivl = a == CHACHA20_POLY1305 ? 12 : 4;
    unsigned char seed[64], block[2 * (32 + 12)];
    memcpy(seed, w->server_random, 32);
    memcpy(seed + 32, w->client_random, 32);
    prf12(md, w->master, 48, "key expansion", seed, 64, block, 2 * (kl + ivl));
    k->aead = a;
    k->key_len = kl;
    k->iv_len = ivl;
    memcpy(k->key, block + (w->client ? 0 : kl), kl);
    memcpy(k->iv, block + 2 * kl + (w->client ? 0 : ivl), ivl);
}

static void tls13_key(enum aead a, const EVP_MD *md, const unsigned char *secret,
                      size_t secret_len, struct write_key *k)
{
    k->aead = a;
    k->key_len = aead_key_len(a);
    k->iv_len = 12;
    expand_label(md, secret, secret_len, "key", k->key, k->key_len);
    expand_label(md, secret, secret_len, "iv", k->iv, 12);
}

/* The per-record nonce: the IV XOR the sequence number (TLS 1.3, TLS 1.2 ChaCha), or the salt
 * and the record's explicit part (TLS 1.2 GCM). */
static void record_nonce(const struct write_key *k, uint64_t seq, const unsigned char *explicit,
                         unsigned char nonce[12])
{
    if (explicit != NULL) {
        memcpy(nonce, k->iv, 4);
        memcpy(nonce + 4, explicit, 8);
        return;
    }
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= (unsigned char)(seq >> (56 - 8 * i));
}

/* ----- The AEAD ----------------------------------------------------------------------------- */

/* Seals (`enc` 1: `in` to `out` and `tag`) or opens (`enc` 0: `in` to `out`, checked against
 * `tag`); 1 when it worked, 0 when a record does not open. */
static int aead(const struct write_key *k, int enc, const unsigned char nonce[12],
                const unsigned char *aad, size_t aad_len, const unsigned char *in, size_t n,
                unsigned char *out, unsigned char tag[TAG])
{
    const EVP_CIPHER *cipher = k->aead == AES_128_GCM   ? EVP_aes_128_gcm()
                               : k->aead == AES_256_GCM ? EVP_aes_256_gcm()
#if REPRO_BORING
                                                        : NULL; /* an EVP_AEAD there */
#else
                                                        : EVP_chacha20_poly1305();
#endif
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len, ok = c != NULL && cipher != NULL
                  && EVP_CipherInit_ex(c, cipher, NULL, NULL, NULL, enc) == 1
                  && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1
                  && EVP_CipherInit_ex(c, NULL, NULL, k->key, nonce, enc) == 1
                  && (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG, tag) == 1)
                  && EVP_CipherUpdate(c, NULL, &len, aad, (int)aad_len) == 1
                  && (n == 0 || EVP_CipherUpdate(c, out, &len, in, (int)n) == 1)
                  && EVP_CipherFinal_ex(c, out + n, &len) == 1
                  && (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG, tag) == 1);
    EVP_CIPHER_CTX_free(c);
    ERR_clear_error(); /* a record that did not open leaves its reason */
    return ok;
}

/* ----- Re-sealing one record ------------------------------------------------------------ */

/* Re-seals `rec` (one whole record the peer wrote with `w`, of at most `max_seq` + 1 sent
 * under its key) to hold `type` and `plain` instead, under the same key and sequence number,
 * into `out` (`*out_len` bytes); 0 and the reason when it cannot. */
static int reseal(const unsigned char *rec, size_t len, const struct write_secrets *w,
                  uint64_t max_seq, int type, const unsigned char *plain, size_t plain_len,
                  unsigned char *out, size_t *out_len, char *why, size_t size)
{
    if (len < 5 + TAG || rec[0] != 23) {
        snprintf(why, size, "the peer's write did not end in an application-data record");
        return 0;
    }
    enum aead a;
    const EVP_MD *md;
    if (!suite_aead(w->suite, &a, &md)) {
        not_aead(w->suite, why, size);
        return 0;
    }
    const unsigned char *header = rec, *body = rec + 5;
    size_t body_len = len - 5;
    uint64_t tries = max_seq < MAX_SEQ_TRIED ? max_seq : MAX_SEQ_TRIED;
    unsigned char nonce[12], scratch[1 << 16], inner[8];
    struct write_key k;
    if (!w->tls13) {
        tls12_key(w, a, md, &k);
        const unsigned char *explicit = NULL;
        size_t ex_len = 0;
        if (a != CHACHA20_POLY1305) {
            if (body_len < 8 + TAG) {
                snprintf(why, size, "the peer's record is too short for an explicit nonce");
                return 0;
            }
            explicit = body;
            ex_len = 8;
        }
        const unsigned char *ct = body + ex_len;
        size_t ct_len = body_len - ex_len - TAG;
        unsigned char tag[TAG];
        memcpy(tag, ct + ct_len, TAG);
        /* OpenSSL and BoringSSL put the sequence number in the explicit nonce: try it first. */
        uint64_t first = 0;
        for (size_t i = 0; explicit != NULL && i < 8; i++)
            first = first << 8 | explicit[i];
        for (uint64_t t = explicit != NULL ? 0 : 1; t <= tries + 1; t++) {
            uint64_t seq = t == 0 ? first : t - 1;
            unsigned char aad[13];
            for (int i = 0; i < 8; i++)
                aad[i] = (unsigned char)(seq >> (56 - 8 * i));
            aad[8] = 23;
            aad[9] = header[1];
            aad[10] = header[2];
            aad[11] = (unsigned char)(ct_len >> 8);
            aad[12] = (unsigned char)ct_len;
            record_nonce(&k, seq, explicit, nonce);
            if (!aead(&k, 0, nonce, aad, 13, ct, ct_len, scratch, tag))
                continue;
            aad[8] = (unsigned char)type;
            aad[11] = (unsigned char)(plain_len >> 8);
            aad[12] = (unsigned char)plain_len;
            size_t n = ex_len + plain_len + TAG;
            out[0] = (unsigned char)type;
            out[1] = header[1];
            out[2] = header[2];
            out[3] = (unsigned char)(n >> 8);
            out[4] = (unsigned char)n;
            memcpy(out + 5, explicit, ex_len);
            if (!aead(&k, 1, nonce, aad, 13, plain, plain_len, out + 5 + ex_len,
                      out + 5 + ex_len + plain_len))
                die("sealing the re-sealed record");
            *out_len = 5 + n;
            return 1;
        }
        snprintf(why, size, "the peer's record did not open under its TLS 1.2 write key with "
                            "any sequence number up to %llu", (unsigned long long)tries);
        return 0;
    }
    unsigned char secret[64];
    size_t secret_len = w->secret_len;
    memcpy(secret, w->secret, secret_len);
    size_t ct_len = body_len - TAG;
    unsigned char tag[TAG];
    memcpy(tag, body + ct_len, TAG);
    for (int update = 0; update <= MAX_KEY_UPDATES; update++) {
        tls13_key(a, md, secret, secret_len, &k);
        for (uint64_t seq = 0; seq <= tries; seq++) {
            record_nonce(&k, seq, NULL, nonce);
            if (!aead(&k, 0, nonce, header, 5, body, ct_len, scratch, tag))
                continue;
            /* The inner plaintext: the content, then its real type. */
            memcpy(inner, plain, plain_len);
            inner[plain_len] = (unsigned char)type;
            size_t n = plain_len + 1 + TAG;
            out[0] = 23;
            out[1] = 3;
            out[2] = 3;
            out[3] = (unsigned char)(n >> 8);
            out[4] = (unsigned char)n;
            if (!aead(&k, 1, nonce, out, 5, inner, plain_len + 1, out + 5,
                      out + 5 + plain_len + 1))
                die("sealing the re-sealed record");
            *out_len = 5 + n;
            return 1;
        }
        unsigned char next[64];
        expand_label(md, secret, secret_len, "traffic upd", next, secret_len);
        memcpy(secret, next, secret_len);
    }
    snprintf(why, size, "the peer's record did not open under its TLS 1.3 write keys (the first "
                        "and %d updates) with any sequence number up to %llu",
             MAX_KEY_UPDATES, (unsigned long long)tries);
    return 0;
}

/* ----- The peer sends one ------------------------------------------------------------------- */

static struct call skip_call(const char *fmt, const char *detail)
{
    struct call c;
    memset(&c, 0, sizeof c);
    c.outcome = SKIP;
    snprintf(c.what, sizeof c.what, fmt, detail);
    return c;
}

/* The peer sends a record of `type` holding `plain` (at most 2 bytes): it writes one byte,
 * kept off the transport, and that record is re-sealed to hold the content. skip with the
 * reason where it cannot. */
static struct call peer_resealed(struct peer *p, int type, const unsigned char *plain,
                                 size_t plain_len)
{
    if (p->unsent_len > 0)
        return skip_call("%s", "the peer has an unfinished write: its next record would not "
                               "be the one re-sealed");
    struct write_secrets w;
    char why[256];
    if (!peer_write_secrets(p, &w, why, sizeof why))
        return skip_call("the peer cannot send this record: %s", why);
    struct queue *q = &p->pipe->q[PEER];
    q->capturing = 1;
    q->captured_len = 0;
    const unsigned char byte = 0x2a;
    ERR_clear_error();
#if REPRO_WRITE_EX
    size_t written = 0;
    int ret = SSL_write_ex(p->ssl, &byte, 1, &written);
#else
    int ret = SSL_write(p->ssl, &byte, 1);
#endif
    struct call c = io_call(p->ssl, ret);
    q->capturing = 0;
    const unsigned char *cap = q->captured;
    size_t cap_len = q->captured_len;
    if (!(c.outcome == OK && ret == 1)) {
        pipe_inject(p->pipe, IMPL, cap, cap_len);
        return c;
    }
    uint64_t sent = q->records;
    /* The captured bytes as whole records: the last one is re-sealed. */
    size_t last = 0, at = 0;
    uint64_t nrecords = 0;
    why[0] = 0;
    while (at < cap_len) {
        if (cap_len - at < 5) {
            snprintf(why, sizeof why, "the peer's write ended inside a record header");
            break;
        }
        size_t n = 5 + ((size_t)cap[at + 3] << 8 | cap[at + 4]);
        if (cap_len - at < n) {
            snprintf(why, sizeof why, "the peer's write ended inside a record");
            break;
        }
        last = at;
        at += n;
        nrecords++;
    }
    if (why[0] == 0 && nrecords == 0)
        snprintf(why, sizeof why, "the peer's write sent nothing");
    unsigned char rec[5 + 8 + 3 + TAG];
    size_t rec_len = 0;
    if (why[0] == 0
        && reseal(cap + last, cap_len - last, &w, sent + nrecords, type, plain, plain_len, rec,
                  &rec_len, why, sizeof why)) {
        pipe_inject(p->pipe, IMPL, cap, last);
        pipe_inject(p->pipe, IMPL, rec, rec_len);
        return ok_call(rec_len, 1);
    }
    /* Nothing re-sealed: the byte goes as written, and the step says why it failed. */
    pipe_inject(p->pipe, IMPL, cap, cap_len);
    return skip_call("the peer's record could not be re-sealed: %s", why);
}

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

/* Prints a step of the implementation ("STEP OP OUTCOME ret=RET", then " bytes=N" for a
 * write loop, " calls=N" for a looping step of more than one call, " errors=[...]");
 * returns 1 when the run ends there (a deadlock, a skip). */
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
        if (c->calls > 1)
            printf(" calls=%llu", (unsigned long long)c->calls);
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
#if REPRO_WRITE_EX
        size_t written = 0;
        int ret = SSL_write_ex(r->ssl, buf, len, &written);
        c = io_call(r->ssl, ret);
        r->last_ret = ret;
        if (ret > 0)
            c.n = written;
#else
        memset(&c, 0, sizeof c);
        c.outcome = SKIP;
        snprintf(c.what, sizeof c.what, "SSL_write_ex is not in this library");
#endif
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
    uint64_t calls = 0;
    for (int round = 0; round < 100000; round++) {
        uint64_t before[5], after[5];
        run_motion(r, before);
        clear_errors(&r->keep_queue);
        int ret = SSL_do_handshake(r->ssl);
        c = io_call(r->ssl, ret);
        c.calls = ++calls;
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
            /* A call the trickle refused moved nothing for the drain to take, and the next
             * attempt takes bytes: not a stall. */
            if (same_motion(before, after, 5) && !pipe_take_trickle_refusal(&r->pipe, IMPL)) {
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
    res.last.calls = res.calls;
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

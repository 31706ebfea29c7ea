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
    /* The writer's last attempt was refused by the trickle alone: its next one takes bytes. */
    int trickle_refused;
    unsigned zero_writes; /* the next this many writes report 0 bytes written */
    int budgeted;      /* peer_write_split: the writer's writes take `budget` more bytes, then */
    size_t budget;     /* block */
    uint64_t total;    /* bytes ever written into it */
    /* The records that went into it (whole headers seen), as the harness's observer counts
     * them: at most MAX_RECORDS_COUNTED. */
    unsigned char header[5];
    size_t header_have, body_left;
    uint64_t records;
    /* While on, the writer's bytes are kept here instead of sent (a record to re-seal): not
     * counted, never seen by the reader. */
    int capturing;
    unsigned char *captured;
    size_t captured_len;
};

#define MAX_RECORDS_COUNTED 4096

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
    /* Count the records going through, header by header. */
    while (n > 0) {
        if (q->body_left > 0) {
            size_t k = q->body_left < n ? q->body_left : n;
            q->body_left -= k;
            b += k;
            n -= k;
            continue;
        }
        q->header[q->header_have++] = *b++;
        n--;
        if (q->header_have == 5) {
            q->header_have = 0;
            q->body_left = (size_t)q->header[3] << 8 | q->header[4];
            if (q->records < MAX_RECORDS_COUNTED)
                q->records++;
        }
    }
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
    if (p->q[s].capturing) {
        struct queue *q = &p->q[s];
        unsigned char *c = realloc(q->captured, q->captured_len + len + 1);
        if (c == NULL)
            die("realloc");
        memcpy(c + q->captured_len, buf, len);
        q->captured = c;
        q->captured_len += len;
        return (int)len;
    }
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
        q->trickle_refused = 0;
        if (q->trickle) {
            if (!blocking && q->trickle_blocked_last) {
                q->trickle_refused = n > 0;
                n = 0;
            } else if (n > q->trickle)
                n = q->trickle;
            q->trickle_blocked_last = !q->trickle_blocked_last;
        }
        if (q->budgeted) {
            if (n > q->budget)
                n = q->budget;
            q->budget -= n;
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

/* The direction `writer` writes into takes `bytes` more, then blocks (`limited` 0: no
 * limit). */
/* Whether the writer's last attempt was refused by the trickle alone; asking clears it, so
 * one refusal excuses one call that moved nothing (Pipe::take_trickle_refusal). */
static int pipe_take_trickle_refusal(struct pipe *p, enum side writer)
{
    int r = p->q[writer].trickle_refused;
    p->q[writer].trickle_refused = 0;
    return r;
}

static void pipe_set_budget(struct pipe *p, enum side writer, int limited, size_t bytes)
{
    p->q[writer].budgeted = limited;
    p->q[writer].budget = bytes;
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

/* ----- Calls and their outcomes, in the harness's vocabulary ------------------------------ */

enum outcome {
    OK, WANT_READ, WANT_WRITE, ZERO_RETURN, SYSCALL, SSL_FAILURE, SKIP, DEADLOCK, UNCLASSIFIED
};

#define MAX_REASONS 16

struct call {
    enum outcome outcome;
    uint64_t n;           /* ok(n) */
    long long ret;        /* the raw return value */
    uint64_t calls;       /* a looping step (handshake, write_all): its number of calls */
    char what[320];       /* ssl(what), skip(what) */
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

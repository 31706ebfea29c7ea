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

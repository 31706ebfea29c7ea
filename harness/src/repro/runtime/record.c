/* ----- Raw records of a scenario's making (inject_record) ---------------------------------- */

/* What inject_record with `len` fills its payload with (the byte of the garbage record). */
#define FILLER 0x42

/* A record arrives for `reader`, raw on the wire: the 5-byte header (type, version, the
 * payload's length, big-endian) and `payload`, or `len` bytes of FILLER when it is NULL. */
static void inject_record(struct pipe *p, enum side reader, int content_type, unsigned version,
                          const unsigned char *payload, size_t len)
{
    unsigned char *rec = xmalloc(5 + len);
    rec[0] = (unsigned char)content_type;
    rec[1] = (unsigned char)(version >> 8);
    rec[2] = (unsigned char)version;
    rec[3] = (unsigned char)(len >> 8);
    rec[4] = (unsigned char)len;
    if (payload != NULL)
        memcpy(rec + 5, payload, len);
    else
        memset(rec + 5, FILLER, len);
    pipe_inject(p, reader, rec, 5 + len);
    free(rec);
}

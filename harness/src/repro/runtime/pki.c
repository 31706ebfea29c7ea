/* ----- The test PKI ------------------------------------------------------------------------ */

struct pki {
    X509 *ca;
    EVP_PKEY *ca_key;
    /* The server certificate of each key type (enum key_type), made on first use. */
    X509 *leaf[3];
    EVP_PKEY *leaf_key[3];
};

/* A new key: Ed25519, ECDSA P-256 or RSA 2048. */
static EVP_PKEY *new_key(enum key_type type)
{
    static const int ids[] = {EVP_PKEY_ED25519, EVP_PKEY_EC, EVP_PKEY_RSA};
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(ids[type], NULL);
    if (c == NULL || EVP_PKEY_keygen_init(c) != 1)
        die("key generation");
    if (type == KEY_P256 && EVP_PKEY_CTX_set_ec_paramgen_curve_nid(c, NID_X9_62_prime256v1) != 1)
        die("P-256 key generation");
    if (type == KEY_RSA2048 && EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048) != 1)
        die("RSA key generation");
    if (EVP_PKEY_keygen(c, &k) != 1)
        die("key generation");
    EVP_PKEY_CTX_free(c);
    return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
    if (ext == NULL || !X509_add_ext(x, ext, -1))
        die("certificate extension");
    X509_EXTENSION_free(ext);
}

/* A certificate as the harness's rcgen makes it: v3, a two-byte serial, a UTF8String common
 * name, valid from 1975 (UTCTime) to 4096 (GeneralizedTime), signed with the CA's Ed25519
 * key. */
static X509 *certificate(long serial, const char *cn, EVP_PKEY *key, X509 *issuer,
                         EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    if (x == NULL || name == NULL || !X509_set_version(x, 2)
        || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial)
        || !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                       -1, 0)
        || !X509_set_subject_name(x, name)
        || !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name)
        || !ASN1_TIME_set_string(X509_getm_notBefore(x), "750101000000Z")
        || !ASN1_TIME_set_string(X509_getm_notAfter(x), "40960101000000Z")
        || !X509_set_pubkey(x, key))
        die("certificate");
    X509_NAME_free(name);
    if (issuer == NULL) {
        add_ext(x, x, NID_subject_key_identifier, "hash");
        add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    } else {
        add_ext(x, issuer, NID_subject_alt_name, "DNS:localhost");
    }
    if (X509_sign(x, issuer_key, NULL) <= 0)
        die("certificate signature");
    return x;
}

/* The CA and the Ed25519 server certificate (the harness's serials: CA 0x5101, server
 * 0x5102). */
static struct pki make_pki(void)
{
    struct pki p;
    memset(&p, 0, sizeof p);
    p.ca_key = new_key(KEY_ED25519);
    p.ca = certificate(0x5101, "sslwrite test CA", p.ca_key, NULL, p.ca_key);
    p.leaf_key[KEY_ED25519] = new_key(KEY_ED25519);
    p.leaf[KEY_ED25519] = certificate(0x5102, "localhost", p.leaf_key[KEY_ED25519], p.ca,
                                      p.ca_key);
    return p;
}

/* The server certificate of key type `type` (connection.peer.key): another key type is made
 * on first use, signed by the same CA, serial 0x5103 as the harness makes it. */
static void server_cert(struct pki *p, enum key_type type, X509 **cert, EVP_PKEY **key)
{
    if (p->leaf[type] == NULL) {
        p->leaf_key[type] = new_key(type);
        p->leaf[type] = certificate(0x5103, "localhost", p->leaf_key[type], p->ca, p->ca_key);
    }
    *cert = p->leaf[type];
    *key = p->leaf_key[type];
}

/* ----- The test PKI ------------------------------------------------------------------------ */

struct pki {
    X509 *ca, *leaf;
    EVP_PKEY *leaf_key;
};

static EVP_PKEY *ed25519_key(void)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (c == NULL || EVP_PKEY_keygen_init(c) != 1 || EVP_PKEY_keygen(c, &k) != 1)
        die("Ed25519 key generation");
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
 * name, valid from 1975 (UTCTime) to 4096 (GeneralizedTime), Ed25519. */
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

static struct pki make_pki(void)
{
    struct pki p;
    EVP_PKEY *ca_key = ed25519_key();
    p.ca = certificate(0x5101, "sslwrite test CA", ca_key, NULL, ca_key);
    p.leaf_key = ed25519_key();
    p.leaf = certificate(0x5102, "localhost", p.leaf_key, p.ca, ca_key);
    EVP_PKEY_free(ca_key);
    return p;
}

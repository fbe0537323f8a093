/*
 * pkcs12.c: PKCS#12 trust stores and keystores that Java 17 reads, built bag
 * by bag with OpenSSL 3.0 (whose CLI cannot write Java's trust attribute),
 * and a reader of their certificates, for certctl.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/hmac.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "pkcs12.h"
#include "util.h"

/*
 * Java's PKCS12KeyStore treats a certificate bag as a trust anchor only if
 * it carries Oracle's "trusted key usage" attribute (the set of EKUs the
 * anchor is trusted for); keytool writes anyExtendedKeyUsage.  Without it
 * Java loads zero anchors.
 */
#define OID_JDK_TRUSTED_KEY_USAGE	"2.16.840.1.113894.746875.1.1"
#define OID_ANY_EXTENDED_KEY_USAGE	"2.5.29.37.0"

/* Java 17's own defaults for the MAC and PBES2 iteration counts. */
#define P12_MAC_ITER	10000
#define P12_PBE_ITER	10000
#define P12_SALT_LEN	16
#define P12_KEY_LEN	32	/* AES-256; HMAC-SHA256 */

/*
 * Both derivations are 10,000 rounds by design, and a render would pay
 * for three of them.  So each password's keys are derived once per run,
 * under a salt made at random for that run, and reused: every file still
 * has its own random IV, and files under one password share that password
 * anyway, so a shared salt gives an attacker nothing a single file would
 * not.  Two entries: the trust store and the keystore password.
 */
static struct derived {
	char		*password;
	unsigned char	 salt[P12_SALT_LEN];
	unsigned char	 enc[P12_KEY_LEN];	/* PBKDF2-HMAC-SHA256 */
	unsigned char	 mac[P12_KEY_LEN];	/* PKCS#12 KDF, MAC id */
} derived[2];

static void
derived_clear(struct derived *d)
{
	if (d->password != NULL)
		freezero(d->password, strlen(d->password));
	OPENSSL_cleanse(d, sizeof(*d));
}

static const struct derived *
derive(const char *password)
{
	struct derived	 d, *slot;
	int		 len = (int)strlen(password);

	if (derived[0].password != NULL &&
	    strcmp(derived[0].password, password) == 0)
		return &derived[0];
	if (derived[1].password != NULL &&
	    strcmp(derived[1].password, password) == 0)
		return &derived[1];
	memset(&d, 0, sizeof(d));
	if (RAND_bytes(d.salt, sizeof(d.salt)) != 1 ||
	    PKCS5_PBKDF2_HMAC(password, len, d.salt, sizeof(d.salt),
	    P12_PBE_ITER, EVP_sha256(), sizeof(d.enc), d.enc) != 1 ||
	    PKCS12_key_gen_utf8_ex(password, len, d.salt, sizeof(d.salt),
	    PKCS12_MAC_ID, P12_MAC_ITER, sizeof(d.mac), d.mac, EVP_sha256(),
	    NULL, NULL) != 1) {
		OPENSSL_cleanse(&d, sizeof(d));
		return NULL;
	}
	d.password = xstrdup(password);
	/* The older entry goes. */
	slot = &derived[1];
	derived_clear(slot);
	*slot = derived[0];
	derived[0] = d;
	OPENSSL_cleanse(&d, sizeof(d));
	return &derived[0];
}

/*
 * The MAC over safes, as PKCS12_set_mac would make it but with the key
 * derived once: HMAC-SHA256 over the DER of the authenticated safes.
 */
static int
set_mac(PKCS12 *p12, STACK_OF(PKCS7) *safes, const struct derived *d)
{
	const ASN1_OCTET_STRING	*digest;
	unsigned char		*der = NULL, mac[EVP_MAX_MD_SIZE];
	unsigned int		 maclen = 0;
	int			 len, ok;

	if (!PKCS12_setup_mac(p12, P12_MAC_ITER, (unsigned char *)d->salt,
	    sizeof(d->salt), EVP_sha256()))
		return 0;
	if ((len = ASN1_item_i2d((ASN1_VALUE *)safes, &der,
	    ASN1_ITEM_rptr(PKCS12_AUTHSAFES))) <= 0)
		return 0;
	ok = HMAC(EVP_sha256(), d->mac, sizeof(d->mac), der, (size_t)len,
	    mac, &maclen) != NULL;
	OPENSSL_free(der);
	/* PKCS12_setup_mac made the digest; PKCS12_set_mac fills it so. */
	PKCS12_get0_mac(&digest, NULL, NULL, NULL, p12);
	return ok && digest != NULL &&
	    ASN1_OCTET_STRING_set((ASN1_OCTET_STRING *)digest, mac,
	    (int)maclen);
}

static PKCS12 *
p12_from_safes(STACK_OF(PKCS7) *safes, const char *password)
{
	const struct derived	*d;
	PKCS12			*p12;

	if ((d = derive(password)) == NULL ||
	    (p12 = PKCS12_add_safes(safes, NID_pkcs7_data)) == NULL)
		return NULL;
	if (!set_mac(p12, safes, d)) {
		PKCS12_free(p12);
		return NULL;
	}
	return p12;
}

/* DER of p12 into a malloc'd buffer (the caller frees with free()). */
static int
p12_to_der(PKCS12 *p12, unsigned char **out, size_t *outlen)
{
	unsigned char	*der = NULL, *buf;
	int		 len;

	if ((len = i2d_PKCS12(p12, &der)) <= 0)
		return -1;
	buf = xmalloc(len);
	memcpy(buf, der, len);
	OPENSSL_clear_free(der, len);
	*out = buf;
	*outlen = (size_t)len;
	return 0;
}

/*
 * Certificates are public, so the certificate safe is plain PKCS#7 data
 * (no RC2-40, which keytool used to write and FIPS JDKs refuse): Java then
 * finds the anchors even when no trustStorePassword is given.  Integrity
 * still comes from a SHA-256 HMAC keyed by the password.
 */
int
pkcs12_truststore(const struct trust_entry *entries, size_t n,
    const char *password, unsigned char **out, size_t *outlen)
{
	STACK_OF(PKCS12_SAFEBAG)	*bags = NULL;
	STACK_OF(PKCS7)			*safes = NULL;
	PKCS12_SAFEBAG			*bag = NULL;
	PKCS7				*p7 = NULL;
	PKCS12				*p12 = NULL;
	ASN1_OBJECT			*anyeku = NULL;
	size_t				 i, j;
	int				 rc = -1;

	*out = NULL;
	*outlen = 0;
	if (password == NULL || (n > 0 && entries == NULL))
		return -1;
	if ((anyeku = OBJ_txt2obj(OID_ANY_EXTENDED_KEY_USAGE, 1)) == NULL ||
	    (bags = sk_PKCS12_SAFEBAG_new_null()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (entries[i].cert == NULL || entries[i].alias == NULL ||
		    entries[i].alias[0] == '\0')
			goto out;
		/* Java lower-cases aliases; a duplicate would hide an anchor. */
		for (j = 0; j < i; j++)
			if (strcasecmp(entries[j].alias,
			    entries[i].alias) == 0)
				goto out;
		if ((bag = PKCS12_SAFEBAG_create_cert(entries[i].cert)) == NULL)
			goto out;
		if (!PKCS12_add_friendlyname_utf8(bag, entries[i].alias, -1))
			goto out;
		/* len -1: bytes is an ASN1_OBJECT, copied into the attribute. */
		if (!PKCS12_add1_attr_by_txt(bag, OID_JDK_TRUSTED_KEY_USAGE,
		    V_ASN1_OBJECT, (const unsigned char *)anyeku, -1))
			goto out;
		if (!sk_PKCS12_SAFEBAG_push(bags, bag))
			goto out;
		bag = NULL;
	}
	if ((p7 = PKCS12_pack_p7data(bags)) == NULL ||
	    (safes = sk_PKCS7_new_null()) == NULL ||
	    !sk_PKCS7_push(safes, p7))
		goto out;
	p7 = NULL;
	if ((p12 = p12_from_safes(safes, password)) == NULL)
		goto out;
	rc = p12_to_der(p12, out, outlen);
out:
	PKCS12_SAFEBAG_free(bag);
	PKCS7_free(p7);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	PKCS12_free(p12);
	ASN1_OBJECT_free(anyeku);
	return rc;
}

/* The key, PBES2-encrypted (AES-256-CBC, PBKDF2-HMAC-SHA256) under d. */
static PKCS12_SAFEBAG *
shrouded_key(EVP_PKEY *pkey, const struct derived *d)
{
	PKCS8_PRIV_KEY_INFO	*p8 = NULL;
	X509_SIG		*sig = NULL;
	X509_ALGOR		*alg = NULL, *salg;
	ASN1_OCTET_STRING	*sdata;
	EVP_CIPHER_CTX		*cc = NULL;
	PKCS12_SAFEBAG		*bag = NULL;
	unsigned char		 iv[16], *der = NULL, *ct = NULL;
	int			 len = 0, n1, n2;

	if ((p8 = EVP_PKEY2PKCS8(pkey)) == NULL ||
	    (len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0 ||
	    RAND_bytes(iv, sizeof(iv)) != 1 ||
	    (alg = PKCS5_pbe2_set_iv_ex(EVP_aes_256_cbc(), P12_PBE_ITER,
	    (unsigned char *)d->salt, sizeof(d->salt), iv, NID_hmacWithSHA256,
	    NULL)) == NULL)
		goto out;
	ct = xmalloc((size_t)len + 16);
	if ((cc = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(cc, EVP_aes_256_cbc(), NULL, d->enc, iv) != 1 ||
	    EVP_EncryptUpdate(cc, ct, &n1, der, len) != 1 ||
	    EVP_EncryptFinal_ex(cc, ct + n1, &n2) != 1)
		goto out;
	if ((sig = X509_SIG_new()) == NULL)
		goto out;
	X509_SIG_getm(sig, &salg, &sdata);
	if (!X509_ALGOR_copy(salg, alg) ||
	    !ASN1_OCTET_STRING_set(sdata, ct, n1 + n2) ||
	    (bag = PKCS12_SAFEBAG_create0_pkcs8(sig)) == NULL)
		goto out;
	sig = NULL;
out:
	EVP_CIPHER_CTX_free(cc);
	X509_SIG_free(sig);
	X509_ALGOR_free(alg);
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)len);
	if (ct != NULL)
		freezero(ct, (size_t)len + 16);
	return bag;
}

/* bag with friendlyName and localKeyID, as keytool pairs a key with its
 * leaf; NULL (bag freed) on failure. */
static PKCS12_SAFEBAG *
named(PKCS12_SAFEBAG *bag, const char *alias, const unsigned char *id,
    int idlen)
{
	if (bag != NULL && (!PKCS12_add_friendlyname_utf8(bag, alias, -1) ||
	    !PKCS12_add_localkeyid(bag, (unsigned char *)id, idlen))) {
		PKCS12_SAFEBAG_free(bag);
		return NULL;
	}
	return bag;
}

/* Push bag onto bags, or free it; 0 on failure (bag NULL too). */
static int
push_bag(STACK_OF(PKCS12_SAFEBAG) *bags, PKCS12_SAFEBAG *bag)
{
	if (bag != NULL && sk_PKCS12_SAFEBAG_push(bags, bag))
		return 1;
	PKCS12_SAFEBAG_free(bag);
	return 0;
}

static int
push_safe(STACK_OF(PKCS7) *safes, STACK_OF(PKCS12_SAFEBAG) *bags)
{
	PKCS7	*p7;

	if ((p7 = PKCS12_pack_p7data(bags)) == NULL)
		return 0;
	if (!sk_PKCS7_push(safes, p7)) {
		PKCS7_free(p7);
		return 0;
	}
	return 1;
}

/*
 * The layout keytool and PKCS12_create write: a safe of certificate bags
 * (the leaf with friendlyName and localKeyID, then the CAs plain), then a
 * safe with the shrouded key bag under the same friendlyName and ID.  The
 * certificates are public (cert.pem beside it is 0644), so their safe is
 * not encrypted (Java's certProtectionAlgorithm NONE): encrypting them
 * would protect nothing.
 */
int
pkcs12_keystore(EVP_PKEY *pkey, X509 *leaf, STACK_OF(X509) *chain,
    const char *alias, const char *password,
    unsigned char **out, size_t *outlen)
{
	const struct derived		*d;
	STACK_OF(PKCS12_SAFEBAG)	*certs = NULL, *keys = NULL;
	STACK_OF(PKCS7)			*safes = NULL;
	PKCS12				*p12 = NULL;
	unsigned char			 id[EVP_MAX_MD_SIZE];
	unsigned int			 idlen;
	int				 i, rc = -1;

	*out = NULL;
	*outlen = 0;
	if (pkey == NULL || leaf == NULL || password == NULL)
		return -1;
	if (alias == NULL || alias[0] == '\0')
		alias = "server";
	if (X509_check_private_key(leaf, pkey) != 1 ||
	    (d = derive(password)) == NULL ||
	    !X509_digest(leaf, EVP_sha1(), id, &idlen) ||
	    (certs = sk_PKCS12_SAFEBAG_new_null()) == NULL ||
	    (keys = sk_PKCS12_SAFEBAG_new_null()) == NULL ||
	    (safes = sk_PKCS7_new_null()) == NULL)
		goto out;
	if (!push_bag(certs, named(PKCS12_SAFEBAG_create_cert(leaf), alias,
	    id, (int)idlen)))
		goto out;
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		if (!push_bag(certs, PKCS12_SAFEBAG_create_cert(
		    sk_X509_value(chain, i))))
			goto out;
	if (!push_bag(keys, named(shrouded_key(pkey, d), alias, id,
	    (int)idlen)))
		goto out;
	if (!push_safe(safes, certs) || !push_safe(safes, keys) ||
	    (p12 = p12_from_safes(safes, password)) == NULL)
		goto out;
	rc = p12_to_der(p12, out, outlen);
out:
	sk_PKCS12_SAFEBAG_pop_free(certs, PKCS12_SAFEBAG_free);
	sk_PKCS12_SAFEBAG_pop_free(keys, PKCS12_SAFEBAG_free);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
	return rc;
}

/* --- the reader ---------------------------------------------------------- */

struct p12_reader {
	const char		*password;
	ASN1_OBJECT		*trust;		/* Java's attribute */
	struct p12_cert		*certs;
	ASN1_OCTET_STRING	**cert_ids;	/* localKeyID per certificate */
	size_t			 ncerts;
	ASN1_OCTET_STRING	**key_ids;
	size_t			 nkeys;
};

/* The bag's localKeyID, a copy, or NULL. */
static ASN1_OCTET_STRING *
bag_key_id(const PKCS12_SAFEBAG *bag)
{
	const ASN1_TYPE	*t;

	t = PKCS12_SAFEBAG_get0_attr(bag, NID_localKeyID);
	if (t == NULL || t->type != V_ASN1_OCTET_STRING)
		return NULL;
	return ASN1_OCTET_STRING_dup(t->value.octet_string);
}

/* OpenSSL 3.0 has no NID for Java's attribute: compare the OID. */
static int
bag_has_attr(const PKCS12_SAFEBAG *bag, const ASN1_OBJECT *obj)
{
	const STACK_OF(X509_ATTRIBUTE)	*attrs;
	int				 i;

	attrs = PKCS12_SAFEBAG_get0_attrs(bag);
	for (i = 0; i < sk_X509_ATTRIBUTE_num(attrs); i++)
		if (OBJ_cmp(X509_ATTRIBUTE_get0_object(
		    sk_X509_ATTRIBUTE_value(attrs, i)), obj) == 0)
			return 1;
	return 0;
}

static int
read_bag(struct p12_reader *r, const PKCS12_SAFEBAG *bag)
{
	struct p12_cert	*c;
	X509		*x;

	switch (PKCS12_SAFEBAG_get_nid(bag)) {
	case NID_keyBag:
	case NID_pkcs8ShroudedKeyBag:
		r->key_ids = xreallocarray(r->key_ids, r->nkeys + 1,
		    sizeof(*r->key_ids));
		r->key_ids[r->nkeys++] = bag_key_id(bag);
		return 0;
	case NID_certBag:
		if (PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate ||
		    (x = PKCS12_SAFEBAG_get1_cert(bag)) == NULL)
			return -1;
		r->certs = xreallocarray(r->certs, r->ncerts + 1,
		    sizeof(*r->certs));
		r->cert_ids = xreallocarray(r->cert_ids, r->ncerts + 1,
		    sizeof(*r->cert_ids));
		c = &r->certs[r->ncerts];
		c->cert = x;
		c->alias = PKCS12_get_friendlyname((PKCS12_SAFEBAG *)bag);
		c->trusted = bag_has_attr(bag, r->trust);
		c->key_entry = 0;
		r->cert_ids[r->ncerts++] = bag_key_id(bag);
		return 0;
	default:	/* CRL, secret and nested bags: not ours to show */
		return 0;
	}
}

static int
read_safe(struct p12_reader *r, PKCS7 *p7)
{
	STACK_OF(PKCS12_SAFEBAG)	*bags = NULL;
	int				 i, rc = 0;

	switch (OBJ_obj2nid(p7->type)) {
	case NID_pkcs7_data:
		bags = PKCS12_unpack_p7data(p7);
		break;
	case NID_pkcs7_encrypted:
		if (r->password == NULL)
			return P12_ENEEDPASS;
		if ((bags = PKCS12_unpack_p7encdata(p7, r->password,
		    -1)) == NULL)
			return P12_EDECRYPT;
		break;
	default:
		return P12_ENOTP12;
	}
	if (bags == NULL)
		return P12_ENOTP12;
	for (i = 0; i < sk_PKCS12_SAFEBAG_num(bags) && rc == 0; i++)
		if (read_bag(r, sk_PKCS12_SAFEBAG_value(bags, i)) == -1)
			rc = P12_ENOTP12;
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	return rc;
}

/* A certificate whose localKeyID a key bag shares is a key entry's. */
static void
mark_key_entries(struct p12_reader *r)
{
	size_t	 i, k;

	for (i = 0; i < r->ncerts; i++)
		for (k = 0; k < r->nkeys && r->cert_ids[i] != NULL; k++)
			if (r->key_ids[k] != NULL && ASN1_OCTET_STRING_cmp(
			    r->cert_ids[i], r->key_ids[k]) == 0)
				r->certs[i].key_entry = 1;
}

int
pkcs12_read_certs(const unsigned char *data, size_t len, const char *password,
    struct p12_cert **certs, size_t *ncerts, size_t *nkeys)
{
	struct p12_reader	 r;
	STACK_OF(PKCS7)		*safes = NULL;
	const unsigned char	*p = data;
	PKCS12			*p12 = NULL;
	size_t			 i;
	int			 k, rc = P12_ENOTP12;

	*certs = NULL;
	*ncerts = *nkeys = 0;
	memset(&r, 0, sizeof(r));
	r.password = password;
	if (len > LONG_MAX || (p12 = d2i_PKCS12(NULL, &p, (long)len)) == NULL ||
	    p != data + len || (r.trust = OBJ_txt2obj(OID_JDK_TRUSTED_KEY_USAGE,
	    1)) == NULL)
		goto out;
	if (password != NULL && PKCS12_mac_present(p12) &&
	    !PKCS12_verify_mac(p12, password, -1)) {
		rc = P12_EPASSWORD;
		goto out;
	}
	if ((safes = PKCS12_unpack_authsafes(p12)) == NULL)
		goto out;
	for (k = 0, rc = 0; k < sk_PKCS7_num(safes) && rc == 0; k++)
		rc = read_safe(&r, sk_PKCS7_value(safes, k));
	if (rc != 0)
		goto out;
	mark_key_entries(&r);
	*certs = r.certs;
	*ncerts = r.ncerts;
	*nkeys = r.nkeys;
	r.certs = NULL;
out:
	pkcs12_certs_free(r.certs, r.ncerts);
	for (i = 0; i < r.ncerts; i++)
		ASN1_OCTET_STRING_free(r.cert_ids[i]);
	for (i = 0; i < r.nkeys; i++)
		ASN1_OCTET_STRING_free(r.key_ids[i]);
	free(r.cert_ids);
	free(r.key_ids);
	ASN1_OBJECT_free(r.trust);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
	ERR_clear_error();
	return rc;
}

void
pkcs12_certs_free(struct p12_cert *c, size_t n)
{
	size_t	 i;

	for (i = 0; c != NULL && i < n; i++) {
		OPENSSL_free(c[i].alias);
		X509_free(c[i].cert);
	}
	free(c);
}

/*
 * pkcs12.c: PKCS#12 trust stores and keystores that Java 17 reads, built bag
 * by bag with OpenSSL 3.0 (whose CLI cannot write Java's trust attribute).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
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
	if ((p12 = PKCS12_add_safes(safes, NID_pkcs7_data)) == NULL)
		goto out;
	if (!PKCS12_set_mac(p12, password, -1, NULL, 0, P12_MAC_ITER,
	    EVP_sha256()))
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

/*
 * PKCS12_create does the bag layout Java expects (key bag and leaf bag
 * sharing friendlyName and localKeyID, CA certificates as plain bags);
 * NID_aes_256_cbc selects PBES2 with PBKDF2-HMAC-SHA256.  Its MAC would be
 * SHA-1, so it is told to write none (mac_iter -1) and we add a SHA-256 one.
 */
int
pkcs12_keystore(EVP_PKEY *pkey, X509 *leaf, STACK_OF(X509) *chain,
    const char *alias, const char *password,
    unsigned char **out, size_t *outlen)
{
	PKCS12	*p12 = NULL;
	int	 rc = -1;

	*out = NULL;
	*outlen = 0;
	if (pkey == NULL || leaf == NULL || password == NULL)
		return -1;
	if (alias == NULL || alias[0] == '\0')
		alias = "server";
	if (X509_check_private_key(leaf, pkey) != 1)
		goto out;
	p12 = PKCS12_create_ex(password, alias, pkey, leaf, chain,
	    NID_aes_256_cbc, NID_aes_256_cbc, P12_PBE_ITER, -1, 0, NULL, NULL);
	if (p12 == NULL)
		goto out;
	if (!PKCS12_set_mac(p12, password, -1, NULL, 0, P12_MAC_ITER,
	    EVP_sha256()))
		goto out;
	rc = p12_to_der(p12, out, outlen);
out:
	PKCS12_free(p12);
	return rc;
}

/*
 * pkcs12.h: PKCS#12 files Java 17 reads: a trust store whose certificate bags
 * carry Java's trusted-key-usage attribute, and a keystore with the server
 * key and chain under one alias (AES-256-CBC, PBKDF2, SHA-256 MAC).
 */
#ifndef CERTD_PKCS12_H
#define CERTD_PKCS12_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "jks.h"	/* struct trust_entry */

/*
 * Trust store: one unencrypted certificate safe (certificates are public;
 * Java finds the anchors even without trustStorePassword), each bag with
 * friendlyName = alias and Java's trusted-key-usage attribute; HMAC-SHA256
 * MAC.  Aliases must differ case-insensitively.  *out is malloc'd.
 */
int	pkcs12_truststore(const struct trust_entry *, size_t n,
	    const char *password, unsigned char **out, size_t *outlen);
/*
 * Keystore: key and leaf under alias (NULL: "server") sharing a localKeyID,
 * chain as further bags; PBES2 AES-256-CBC/PBKDF2-HMAC-SHA256, HMAC-SHA256
 * MAC.  Fails if the key is not the leaf's.  chain: intermediates (leaf's
 * issuer first) then root; may be NULL.  *out is malloc'd and holds the key
 * (encrypted, often under a well-known password): cleanse it before free.
 */
int	pkcs12_keystore(EVP_PKEY *, X509 *leaf, STACK_OF(X509) *chain,
	    const char *alias, const char *password,
	    unsigned char **out, size_t *outlen);

/*
 * Reader, for certctl show and check: every certificate bag with its
 * friendlyName, whether it carries Java's trusted attribute, and whether a
 * key bag shares its localKeyID (the certificate of a key entry).  Key bags
 * are counted, never decrypted.  password NULL skips the MAC, as Java's
 * load(in, null) does; certificates in an encrypted safe then cannot be
 * read.  Returns 0, or one of the P12_E* below.
 */
struct p12_cert {
	char	*alias;		/* friendlyName (UTF-8), or NULL */
	X509	*cert;
	int	 trusted;	/* Java's trusted-key-usage attribute */
	int	 key_entry;	/* a key bag has the same localKeyID */
};
#define P12_ENOTP12	-1	/* not a PKCS#12 file, or malformed */
#define P12_EPASSWORD	-2	/* the MAC does not verify with password */
#define P12_ENEEDPASS	-3	/* certificates encrypted, no password */
#define P12_EDECRYPT	-4	/* MAC fine, a safe does not decrypt (RC2-40
				   needs OpenSSL 3's legacy provider) */
int	pkcs12_read_certs(const unsigned char *, size_t, const char *password,
	    struct p12_cert **certs, size_t *ncerts, size_t *nkeys);
void	pkcs12_certs_free(struct p12_cert *, size_t);

#endif

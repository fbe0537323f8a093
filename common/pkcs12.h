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

#endif

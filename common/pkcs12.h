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

int	pkcs12_truststore(const struct trust_entry *, size_t n,
	    const char *password, unsigned char **out, size_t *outlen);
/* chain: intermediates (leaf's issuer first) then root; may be NULL. */
int	pkcs12_keystore(EVP_PKEY *, X509 *leaf, STACK_OF(X509) *chain,
	    const char *alias, const char *password,
	    unsigned char **out, size_t *outlen);

#endif

/*
 * pem.h: decoding of uploaded items in every encoding SPEC §4 accepts (PEM
 * with CRLF/whitespace/BOM, DER, percent-encoded PEM, PEM whose '+' became
 * ' ' in form decoding) and PEM output.
 */
#ifndef CERTD_PEM_H
#define CERTD_PEM_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "proto.h"

#define PEM_ITEM_MAX	(64 * 1024)	/* bytes per uploaded item */
#define CHAIN_MAX	16		/* certificates per chain */

/*
 * Decode one or more certificates from buf.  On error fills err with
 * E_ENCODING / E_TOO_LARGE and the item (name, seq) given.
 * *out is a new stack the caller frees with sk_X509_pop_free(.., X509_free).
 */
int	pem_decode_certs(const char *buf, size_t len, const char *name, int seq,
	    STACK_OF(X509) **out, struct cert_error *err);
/* Exactly one certificate (E_ENCODING if there are more). */
int	pem_decode_cert(const char *buf, size_t len, const char *name, int seq,
	    X509 **out, struct cert_error *err);
/*
 * Decode a private key: PKCS#8, PKCS#1 (RSA), SEC1 (EC), Ed25519, PEM or DER.
 * E_KEY_ENCRYPTED for a passphrase-protected key (message says how to remove
 * it), E_KEY_ENCODING otherwise.  Never puts key bytes in the message.
 */
int	pem_decode_key(const char *buf, size_t len, const char *name, int seq,
	    EVP_PKEY **out, struct cert_error *err);

/* PEM text of a certificate / PKCS#8 unencrypted key; malloc'd, NUL-ended. */
char	*pem_encode_cert(X509 *, size_t *len);
char	*pem_encode_key(EVP_PKEY *, size_t *len);	/* caller cleanses */
/* DER of a certificate; malloc'd. */
unsigned char *pem_cert_der(X509 *, size_t *len);

/* Percent-decoding of a form value ('+' is a space, as forms send it). */
char	*pem_url_decode(const char *s, size_t len, size_t *outlen);

#endif

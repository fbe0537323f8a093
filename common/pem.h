/*
 * pem.h: the armour of an uploaded item in every encoding certd accepts:
 * PEM (CRLF, surrounding whitespace, a UTF-8 BOM, explanatory text before
 * BEGIN), DER, percent-encoded PEM, and PEM whose '+' became ' ' in form
 * decoding.  Certificates are decoded here; keys in key.c.
 */
#ifndef CERTD_PEM_H
#define CERTD_PEM_H

#include <stddef.h>
#include <openssl/x509.h>

#include "error.h"

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
/* PEM text of a certificate; malloc'd, NUL-ended, NULL if it cannot. */
char	*pem_encode_cert(X509 *, size_t *len);

/* --- the armour reader, for key.c ---------------------------------------- */

#define PEM_LABEL_MAX	64

struct pem_block {
	char		 label[PEM_LABEL_MAX];
	unsigned char	*der;		/* NULL when encrypted */
	size_t		 len;
	int		 encrypted;	/* Proc-Type: 4,ENCRYPTED */
	int		 headers;	/* RFC 1421 headers present */
	int		 line;		/* of its BEGIN line */
};

struct pem_input {
	/* What is read, for messages: */
	int			 is_key;
	const char		*what;	/* "certificate", "private key" */
	enum cert_code		 bad;	/* E_ENCODING or E_KEY_ENCODING */
	const char		*name;
	int			 seq;
	struct cert_error	*err;
	/* What it decoded to: raw DER, or PEM blocks.  Cleared (the bytes
	 * may be a key) by pem_input_clear. */
	unsigned char		*der;
	size_t			 derlen;
	struct pem_block	*blocks;
	size_t			 nblocks;
};

/* A certificate input, or with is_key a private key input. */
void	pem_input_init(struct pem_input *, int is_key, const char *name,
	    int seq, struct cert_error *);
int	pem_read(struct pem_input *, const char *buf, size_t len);
void	pem_input_clear(struct pem_input *);
/* The length of the DER object at der, 0 if malformed or indefinite. */
size_t	pem_der_len(const unsigned char *der, size_t len);
int	pem_is_key_label(const char *);

#endif

/*
 * fuzz_pem.c: the certificate decoders an upload goes through
 * (pem_decode_certs: PEM, DER, percent-encoded PEM, '+' damaged by form
 * decoding; pem_der_len), percent decoding (url_decode), and, on what
 * decodes, bundle ordering and chain validation.  Corpus: corpus/pem/.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "cert.h"
#include "chain.h"
#include "fuzz.h"
#include "pem.h"
#include "util.h"
#include "validate.h"

/* What we accept re-encodes to PEM that decodes to the same certificate. */
static void
round_trip(X509 *x)
{
	STACK_OF(X509)		*again = NULL;
	struct cert_error	 err;
	char			*pem;
	size_t			 plen;

	memset(&err, 0, sizeof(err));
	pem = pem_encode_cert(x, &plen);
	FUZZ_CHECK(pem != NULL, "pem_encode_cert");
	FUZZ_CHECK(pem_decode_certs(pem, plen, "again", 1, &again, &err) == 0,
	    "re-decode of our own PEM");
	FUZZ_CHECK(sk_X509_num(again) == 1 &&
	    X509_cmp(sk_X509_value(again, 0), x) == 0, "round trip");
	sk_X509_pop_free(again, X509_free);
	free(pem);
}

static void
certs(const uint8_t *data, size_t len)
{
	STACK_OF(X509)		*sk = NULL;
	struct cert_error	 err;
	struct cert_warnings	 w = { 0 };
	struct chain		*c;
	int			 i;

	memset(&err, 0, sizeof(err));
	if (pem_decode_certs((const char *)data, len, "fuzz", 1, &sk,
	    &err) == -1) {
		FUZZ_CHECK(sk == NULL, "no stack on error");
		FUZZ_CHECK(err.code == E_ENCODING || err.code == E_TOO_LARGE,
		    "certificate error code");
		FUZZ_CHECK(strcmp(err.name, "fuzz") == 0 && err.seq == 1,
		    "error names the item");
		FUZZ_CHECK(err.message[0] != '\0', "error message");
		return;
	}
	FUZZ_CHECK(sk != NULL && sk_X509_num(sk) >= 1 &&
	    sk_X509_num(sk) <= CHAIN_MAX, "certificate count");
	FUZZ_CHECK(len <= PEM_ITEM_MAX, "an item over the limit decoded");
	for (i = 0; i < sk_X509_num(sk); i++)
		round_trip(sk_X509_value(sk, i));
	/* Arbitrary certificates through ordering and validation. */
	c = chain_new();
	if (chain_from_bundle(sk, NULL, c, &err) == 0) {
		FUZZ_CHECK(c->n == (size_t)sk_X509_num(sk), "bundle size");
		FUZZ_CHECK(chain_validate(c, "example.com", 1700000000, &w,
		    &err) == -1, "a chain without key validates");
	}
	chain_free(c);
	sk_X509_pop_free(sk, X509_free);
}

static void
percent(const uint8_t *data, size_t len)
{
	char	*lax, *strict;
	size_t	 llen, slen;

	/* Lax decoding never fails; strict only on a bad escape, and then
	 * agrees with lax wherever it succeeds. */
	lax = url_decode((const char *)data, len, &llen, 0);
	FUZZ_CHECK(lax != NULL, "lax url_decode failed");
	FUZZ_CHECK(llen <= len && lax[llen] == '\0', "url_decode length");
	if (memchr(data, '%', len) == NULL && memchr(data, '+', len) == NULL)
		FUZZ_CHECK(llen == len && memcmp(lax, data, len) == 0,
		    "nothing to decode, yet changed");
	if ((strict = url_decode((const char *)data, len, &slen, 1)) != NULL) {
		FUZZ_CHECK(slen == llen && memcmp(strict, lax, llen) == 0,
		    "strict and lax decodings differ");
		free(strict);
	}
	free(lax);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	size_t	 n;

	certs(data, len);
	if ((n = pem_der_len(data, len)) != 0)
		FUZZ_CHECK(n <= len, "pem_der_len past the input");
	percent(data, len);
	ERR_clear_error();
	return 0;
}

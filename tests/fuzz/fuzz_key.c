/*
 * fuzz_key.c: the private-key decoder (key_decode: PKCS#8, PKCS#1, SEC1,
 * Ed25519; PEM, DER and every armour pem.c accepts; passphrase detection).
 * Corpus: corpus/key/.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>

#include "fuzz.h"
#include "key.h"
#include "proto.h"
#include "util.h"

static int
b64char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/* Is run (n bytes) part of the label of a BEGIN or END line of the
 * input, the text between "-----BEGIN " or "-----END " and the next
 * "-----"?  Messages quote labels; they are not key material. */
static int
in_label(const uint8_t *data, size_t len, const char *run, size_t n)
{
	const uint8_t	*p, *end = data + len, *l, *le;

	for (p = data; (p = memmem(p, end - p, "-----", 5)) != NULL; p++) {
		l = p + 5;
		if (end - l >= 6 && memcmp(l, "BEGIN ", 6) == 0)
			l += 6;
		else if (end - l >= 4 && memcmp(l, "END ", 4) == 0)
			l += 4;
		else
			continue;
		if ((le = memmem(l, end - l, "-----", 5)) == NULL)
			le = end;
		if (memmem(l, le - l, run, n) != NULL)
			return 1;
	}
	return 0;
}

/*
 * No key byte in an error message: no run of 16 or more base64 characters
 * of the message is found in the input, unless it is a label's (in the
 * input as sent or percent-decoded).
 */
static int
leaks_input(const char *msg, const uint8_t *data, size_t len)
{
	const uint8_t	*dec;
	size_t		 i = 0, j, dlen;
	int		 leak = 0;

	/* pem.c reads percent-encoded uploads decoded: so are labels. */
	dec = (const uint8_t *)url_decode((const char *)data, len, &dlen, 0);

	while (msg[i] != '\0') {
		if (!b64char((unsigned char)msg[i])) {
			i++;
			continue;
		}
		for (j = i; b64char((unsigned char)msg[j]); j++)
			;
		if (j - i >= 16 && memmem(data, len, msg + i, j - i) != NULL &&
		    !in_label(data, len, msg + i, j - i) &&
		    !in_label(dec, dlen, msg + i, j - i)) {
			leak = 1;
			break;
		}
		i = j;
	}
	free((void *)dec);
	return leak;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct cert_error	 err;
	EVP_PKEY		*k = NULL, *k2 = NULL;
	char			*pem, desc[64];
	size_t			 plen;

	memset(&err, 0, sizeof(err));
	if (key_decode((const char *)data, len, "key", 2, &k, &err) == -1) {
		FUZZ_CHECK(k == NULL, "a key on error");
		FUZZ_CHECK(err.code == E_KEY_ENCODING || err.code ==
		    E_KEY_ENCRYPTED || err.code == E_TOO_LARGE,
		    "key error code");
		FUZZ_CHECK(strcmp(err.name, "key") == 0 && err.seq == 2,
		    "error names the item");
		FUZZ_CHECK(err.message[0] != '\0', "error message");
		FUZZ_CHECK(!leaks_input(err.message, data, len),
		    "input bytes in the error message");
		ERR_clear_error();
		return 0;
	}
	FUZZ_CHECK(k != NULL, "no key");
	FUZZ_CHECK(len <= PEM_ITEM_MAX, "an item over the limit decoded");
	key_describe(k, desc, sizeof(desc));
	FUZZ_CHECK(desc[0] != '\0', "key_describe");
	/* What we accept is written as PKCS#8 that decodes to the same key. */
	pem = key_pem(k, &plen);
	FUZZ_CHECK(pem != NULL, "key_pem");
	FUZZ_CHECK(key_decode(pem, plen, "key", 2, &k2, &err) == 0 &&
	    EVP_PKEY_eq(k, k2) == 1, "key round trip");
	freezero(pem, plen);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return 0;
}

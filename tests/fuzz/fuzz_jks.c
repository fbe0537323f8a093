/*
 * fuzz_jks.c: the JKS reader (jks_read), with and without the password,
 * and what it reads through certd's writers again: jks_write and
 * pkcs12_truststore.  A store that reads has an alias and a certificate
 * for every entry, reads the same without the password check, and, when
 * its aliases are ones certd writes, writes and reads back the same.
 * Corpus: corpus/jks/ (certd's and keytool's stores).
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>

#include "fuzz.h"
#include "jks.h"
#include "pkcs12.h"

#define PW	"changeit"

/* Aliases as jks_write takes them: not empty, no ASCII capital, unique. */
static int
writable(char **al, size_t n)
{
	size_t	 i, j;

	for (i = 0; i < n; i++) {
		if (al[i][0] == '\0' || strpbrk(al[i],
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL)
			return 0;
		for (j = 0; j < i; j++)
			if (strcmp(al[i], al[j]) == 0)
				return 0;
	}
	return 1;
}

static void
rewrite(char **al, X509 **xs, size_t n)
{
	struct trust_entry	*e;
	unsigned char		*out = NULL;
	const unsigned char	*p;
	char			**al2;
	X509			**xs2;
	PKCS12			*p12;
	size_t			 outlen, n2, i;

	e = calloc(n, sizeof(*e));
	for (i = 0; i < n; i++) {
		e[i].alias = al[i];
		e[i].cert = xs[i];
	}
	FUZZ_CHECK(jks_write(e, n, PW, 1700000000, &out, &outlen) == 0,
	    "jks_write refused what jks_read read");
	FUZZ_CHECK(jks_read(out, outlen, PW, &al2, &xs2, &n2) == 0 && n2 == n,
	    "our own JKS does not read");
	for (i = 0; i < n; i++)
		FUZZ_CHECK(strcmp(al2[i], al[i]) == 0 &&
		    X509_cmp(xs2[i], xs[i]) == 0, "JKS round trip");
	jks_entries_free(al2, xs2, n2);
	free(out);
	out = NULL;

	/* The PKCS#12 trust store of the same entries opens, MAC and all. */
	if (n > 0 && pkcs12_truststore(e, n, PW, &out, &outlen) == 0) {
		p = out;
		p12 = d2i_PKCS12(NULL, &p, (long)outlen);
		FUZZ_CHECK(p12 != NULL && p == out + outlen,
		    "our PKCS#12 does not parse");
		FUZZ_CHECK(PKCS12_verify_mac(p12, PW, -1) == 1,
		    "our PKCS#12's MAC");
		PKCS12_free(p12);
		free(out);
	}
	free(e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	**al, **al2;
	X509	**xs, **xs2;
	size_t	 n, n2, i;
	int	 checked;

	checked = jks_read(data, len, PW, &al, &xs, &n) == 0;
	if (checked)
		jks_entries_free(al, xs, n);
	if (jks_read(data, len, NULL, &al, &xs, &n) == -1) {
		FUZZ_CHECK(!checked, "reads with the password, not without");
		FUZZ_CHECK(al == NULL && xs == NULL && n == 0,
		    "entries on error");
		ERR_clear_error();
		return 0;
	}
	FUZZ_CHECK(n == 0 || (al != NULL && xs != NULL), "no arrays");
	for (i = 0; i < n; i++)
		FUZZ_CHECK(al[i] != NULL && xs[i] != NULL,
		    "an entry without alias or certificate");
	/* Reading is deterministic. */
	FUZZ_CHECK(jks_read(data, len, NULL, &al2, &xs2, &n2) == 0 && n2 == n,
	    "a second read differs");
	jks_entries_free(al2, xs2, n2);
	if (writable(al, n))
		rewrite(al, xs, n);
	jks_entries_free(al, xs, n);
	ERR_clear_error();
	return 0;
}

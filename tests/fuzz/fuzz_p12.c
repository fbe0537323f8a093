/*
 * fuzz_p12.c: the PKCS#12 reader (pkcs12_read_certs) that certctl show and
 * check use on trust stores and keystores they are handed.  Whatever the
 * bytes: the result is 0 or one of the P12_E* codes; on error nothing is
 * returned; on success every entry has a certificate, key entries are no
 * more than the keys counted, and a second read gives the same.  A store
 * that reads with its password reads without one too (MAC skipped, as
 * Java's load(in, null)), unless its certificates are encrypted.
 * Corpus: corpus/p12/ (certd's trust store and keystore, openssl's and
 * keytool's).
 */
#include "config.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "fuzz.h"
#include "pkcs12.h"

#define PW	"changeit"

static int
known(int rc)
{
	return rc == 0 || rc == P12_ENOTP12 || rc == P12_EPASSWORD ||
	    rc == P12_ENEEDPASS || rc == P12_EDECRYPT;
}

/* Read once and check what comes back; the count, or -1 on error. */
static long
read_checked(const uint8_t *data, size_t len, const char *pw, int *rc,
    size_t *nkeys_out)
{
	struct p12_cert	*c;
	size_t		 n, nkeys, i, keyed = 0;

	*rc = pkcs12_read_certs(data, len, pw, &c, &n, &nkeys);
	FUZZ_CHECK(known(*rc), "an unknown result");
	if (*rc != 0) {
		FUZZ_CHECK(c == NULL && n == 0 && nkeys == 0,
		    "entries on error");
		return -1;
	}
	FUZZ_CHECK(n == 0 || c != NULL, "no array");
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(c[i].cert != NULL, "an entry without a certificate");
		keyed += c[i].key_entry != 0;
	}
	FUZZ_CHECK(keyed <= nkeys, "more key entries than keys");
	pkcs12_certs_free(c, n);
	*nkeys_out = nkeys;
	return (long)n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	long	 n, n2, nopw;
	size_t	 k, k2, k3;
	int	 rc, rc2, rc3;

	n = read_checked(data, len, PW, &rc, &k);
	n2 = read_checked(data, len, PW, &rc2, &k2);
	FUZZ_CHECK(rc == rc2 && n == n2 && (n < 0 || k == k2),
	    "a second read differs");
	nopw = read_checked(data, len, NULL, &rc3, &k3);
	FUZZ_CHECK(rc3 != P12_EPASSWORD, "no password, yet a wrong one");
	if (rc == 0)
		FUZZ_CHECK(rc3 == 0 ? nopw == n && k3 == k :
		    rc3 == P12_ENEEDPASS, "reads with the password, not "
		    "without, and not for want of it");
	ERR_clear_error();
	return 0;
}

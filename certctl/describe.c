/*
 * describe.c: one certificate in a few lines, with the labels of keytool
 * -list -v (Owner, Issuer, Valid from ... until), for check and show FILE,
 * and the same as JSON.  Only public parts: a key is its type and size.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "certctl.h"
#include "key.h"
#include "util.h"

/*
 * Names and the signature, nothing else: a CA that lacks keyCertSign or a
 * matching key identifier still signed it, and OpenSSL's verifier reports
 * those defects on its own.
 */
int
cert_issued_by(X509 *x, X509 *issuer)
{
	int	 ok;

	if (X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(issuer)) != 0)
		return 0;
	ok = X509_verify(x, X509_get0_pubkey(issuer)) == 1;
	ERR_clear_error();
	return ok ? 1 : -1;
}

int
name_is_address(const char *s)
{
	unsigned char	 b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

int
cert_self_signed(X509 *x)
{
	return cert_issued_by(x, x) == 1;
}

int
cert_is_ca(X509 *x)
{
	return (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
}

char *
describe_name(X509 *x)
{
	return cert_subject_or(x);
}

void
describe_validity(X509 *x, time_t now, char *buf, size_t size)
{
	time_t	 nb = cert_not_before(x), na = cert_not_after(x);
	int	 d;

	if (na <= now) {
		d = days_left(now, na);
		snprintf(buf, size, "EXPIRED %d day%s ago", d, d == 1 ? "" :
		    "s");
	} else if (nb > now) {
		d = days_left(nb, now);
		snprintf(buf, size, "NOT YET VALID: starts in %d day%s", d,
		    d == 1 ? "" : "s");
	} else {
		d = days_left(na, now);
		snprintf(buf, size, "%d day%s left", d, d == 1 ? "" : "s");
	}
}

static void
describe_key(X509 *x, char *buf, size_t size)
{
	EVP_PKEY	*k = X509_get0_pubkey(x);

	if (k == NULL)
		strlcpy(buf, "(unreadable key)", size);
	else
		key_describe(k, buf, size);
}

static const char *
describe_sigalg(X509 *x)
{
	int	 nid = X509_get_signature_nid(x);

	return nid != NID_undef ? OBJ_nid2ln(nid) : "(unknown)";
}

static void
describe_ca(X509 *x, char *buf, size_t size)
{
	long	 pl;

	if (!cert_is_ca(x)) {
		strlcpy(buf, "not a CA", size);
		return;
	}
	pl = X509_get_pathlen(x);
	if (pl >= 0)
		snprintf(buf, size, "CA, path length %ld%s", pl,
		    cert_self_signed(x) ? ", self-signed" : "");
	else
		snprintf(buf, size, "CA%s", cert_self_signed(x) ?
		    ", self-signed" : "");
}

void
describe_cert(FILE *f, X509 *x, const char *in, time_t now)
{
	char	*subj, *iss, *serial, *san, hex[65], fp[200];
	char	 from[64], until[64], left[64], key[64], ca[64];

	subj = cert_subject_or(x);
	iss = cert_issuer(x);
	serial = cert_serial(x);
	san = cert_san(x);
	cert_sha256(x, hex);
	fmt_fingerprint(hex, fp, sizeof(fp));
	cert_date(X509_get0_notBefore(x), from, sizeof(from));
	cert_date(X509_get0_notAfter(x), until, sizeof(until));
	describe_validity(x, now, left, sizeof(left));
	describe_key(x, key, sizeof(key));
	describe_ca(x, ca, sizeof(ca));
	fprintf(f, "%sOwner: %s\n", in, subj);
	fprintf(f, "%sIssuer: %s\n", in, iss);
	fprintf(f, "%sSerial number: %s\n", in, serial);
	fprintf(f, "%sValid from: %s until: %s (%s)\n", in, from, until, left);
	if (*san != '\0')
		fprintf(f, "%sSubjectAlternativeName: %s\n", in, san);
	else if (!cert_is_ca(x))
		fprintf(f, "%sSubjectAlternativeName: none (names only in the "
		    "subject)\n", in);
	fprintf(f, "%sKey: %s; signature: %s; %s\n", in, key,
	    describe_sigalg(x), ca);
	fprintf(f, "%sSHA256: %s\n", in, fp);
	free(subj);
	free(iss);
	free(serial);
	free(san);
}

json_t *
describe_cert_json(X509 *x, time_t now)
{
	char	*subj, *iss, *serial, *san, hex[65], from[32], until[32];
	char	 key[64];
	json_t	*o;

	subj = cert_subject(x);
	iss = cert_issuer(x);
	serial = cert_serial(x);
	san = cert_san(x);
	cert_sha256(x, hex);
	iso_time(cert_not_before(x), from);
	iso_time(cert_not_after(x), until);
	describe_key(x, key, sizeof(key));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:b, "
	    "s:b, s:s}", "subject", subj, "issuer", iss, "serial", serial,
	    "not_before", from, "not_after", until, "days_left",
	    days_left(cert_not_after(x), now), "san", san, "key", key,
	    "signature", describe_sigalg(x), "ca", cert_is_ca(x),
	    "self_signed", cert_self_signed(x), "sha256", hex);
	free(subj);
	free(iss);
	free(serial);
	free(san);
	return o;
}

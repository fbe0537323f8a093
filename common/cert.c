/*
 * cert.c: one certificate described (fingerprint, names, dates) and the
 * name rule certd applies to server certificates.
 *
 * Name rule: a certificate covers a name D when a SAN DNS name matches D (a
 * one-label wildcard "*.parent" matches "x.parent"), or when the SAN holds
 * "*.D", the wildcard for the hosts named under the suffix (what CloudStack's
 * system VMs use).  Without SAN DNS names the CN is used by the same rule.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "util.h"

void
cert_sha256(X509 *x, char out[65])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 len = 0;

	if (!X509_digest(x, EVP_sha256(), md, &len) || len != 32) {
		out[0] = '\0';
		return;
	}
	hex_encode(md, 32, out);
}

static char *
name_text(const X509_NAME *name)
{
	BIO	*b;
	char	*out;

	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) < 0 ||
	    (out = bio_text(b, NULL)) == NULL)
		out = xstrdup("");
	BIO_free(b);
	return out;
}

char *
cert_subject(X509 *x)
{
	return name_text(X509_get_subject_name(x));
}

char *
cert_subject_or(X509 *x)
{
	char	*s = cert_subject(x);

	if (*s == '\0') {
		free(s);
		s = xstrdup("(empty subject)");
	}
	return s;
}

char *
cert_issuer(X509 *x)
{
	return name_text(X509_get_issuer_name(x));
}

char *
cert_serial(X509 *x)
{
	BIGNUM	*bn;
	char	*hex, *out;
	size_t	 i;

	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	out = xstrdup(hex != NULL ? hex : "");
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	OPENSSL_free(hex);
	BN_free(bn);
	return out;
}

char *
cert_san(X509 *x)
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*g;
	char		*out, ip[INET6_ADDRSTRLEN];
	const char	*kind, *val;
	size_t		 len = 0, need;
	int		 i;

	out = xstrdup("");
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		val = NULL;
		switch (g->type) {
		case GEN_DNS:
			kind = "DNS";
			val = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
			break;
		case GEN_EMAIL:
			kind = "email";
			val = (const char *)ASN1_STRING_get0_data(g->d.rfc822Name);
			break;
		case GEN_URI:
			kind = "URI";
			val = (const char *)ASN1_STRING_get0_data(
			    g->d.uniformResourceIdentifier);
			break;
		case GEN_IPADD:
			kind = "IP";
			if (g->d.iPAddress->length == 4 &&
			    inet_ntop(AF_INET, g->d.iPAddress->data, ip,
			    sizeof(ip)) != NULL)
				val = ip;
			else if (g->d.iPAddress->length == 16 &&
			    inet_ntop(AF_INET6, g->d.iPAddress->data, ip,
			    sizeof(ip)) != NULL)
				val = ip;
			break;
		default:
			break;
		}
		if (val == NULL)
			continue;
		need = len + (len ? 2 : 0) + strlen(kind) + 1 + strlen(val) + 1;
		out = xreallocarray(out, need, 1);
		len += (size_t)snprintf(out + len, need - len, "%s%s:%s",
		    len ? ", " : "", kind, val);
	}
	GENERAL_NAMES_free(gens);
	return out;
}

static time_t
asn1_time_t(const ASN1_TIME *t)
{
	struct tm	 tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

time_t
cert_not_before(X509 *x)
{
	return asn1_time_t(X509_get0_notBefore(x));
}

time_t
cert_not_after(X509 *x)
{
	return asn1_time_t(X509_get0_notAfter(x));
}

void
cert_date(const ASN1_TIME *t, char *buf, size_t size)
{
	struct tm	 tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm) ||
	    strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		strlcpy(buf, "(unreadable date)", size);
}

/* Lowercase, without a trailing dot. */
static void
norm_name(const char *in, size_t len, char *out, size_t size)
{
	size_t	 i;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len >= size)
		len = size - 1;
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[len] = '\0';
}

/* Does the certificate name pat cover name (both normalised)?  See cert.h. */
static int
name_covers(const char *pat, const char *name)
{
	const char	*dot;

	if (strcmp(pat, name) == 0)
		return 1;
	if (strncmp(pat, "*.", 2) != 0)
		return 0;
	if (strcmp(pat + 2, name) == 0)
		return 2;	/* the suffix wildcard */
	if ((dot = strchr(name, '.')) == NULL || dot == name)
		return 0;
	return strcmp(pat + 2, dot + 1) == 0 && strchr(pat + 2, '.') != NULL;
}

/* One name from a certificate against the normalised name; best so far. */
static int
name_match(ASN1_STRING *s, const char *name, int best)
{
	char	 n[512];
	int	 r;

	/* "example.com\0.evil.org" must not pass as example.com. */
	if (memchr(ASN1_STRING_get0_data(s), '\0',
	    (size_t)ASN1_STRING_length(s)) != NULL)
		return best;
	norm_name((const char *)ASN1_STRING_get0_data(s),
	    (size_t)ASN1_STRING_length(s), n, sizeof(n));
	r = name_covers(n, name);
	if (r == 1 || best == 1)
		return 1;
	return r == 2 ? 2 : best;
}

int
cert_covers(X509 *x, const char *name, int *cn_only)
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*g;
	X509_NAME	*subj;
	char		 d[512];
	int		 i, nsan = 0, best = 0;

	norm_name(name, strlen(name), d, sizeof(d));
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		nsan++;
		best = name_match(g->d.dNSName, d, best);
	}
	GENERAL_NAMES_free(gens);
	if (nsan == 0) {
		subj = X509_get_subject_name(x);
		i = -1;
		while ((i = X509_NAME_get_index_by_NID(subj, NID_commonName,
		    i)) >= 0)
			best = name_match(X509_NAME_ENTRY_get_data(
			    X509_NAME_get_entry(subj, i)), d, best);
	}
	if (cn_only != NULL)
		*cn_only = nsan == 0;
	return best;
}

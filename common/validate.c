/*
 * validate.c: a chain's validation.  certd's own explicit checks run first
 * so each failure gets a precise code and item; OpenSSL's verifier (the
 * uploaded root as the only anchor, strict, purpose sslserver, host check)
 * runs last as the backstop, its errors mapped to the same codes.  The name
 * rule is cert.c's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "chain.h"
#include "key.h"
#include "util.h"
#include "validate.h"

#define EXPIRY_WARN_DAYS	30

static int
is_ca(X509 *x)
{
	return (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
}

static int
check_ca(const struct chain_item *it, struct cert_error *err)
{
	uint32_t	 flags = X509_get_extension_flags(it->cert);

	if ((flags & EXFLAG_BCONS) == 0)
		return cert_error_set(err, E_NOT_CA, it->name, it->seq,
		    "the %s certificate has no basicConstraints extension, so "
		    "it is not a CA and cannot issue certificates",
		    chain_kind_name(it->kind));
	if ((flags & EXFLAG_CA) == 0)
		return cert_error_set(err, E_NOT_CA, it->name, it->seq,
		    "the %s certificate has CA:FALSE, so it cannot issue "
		    "certificates", chain_kind_name(it->kind));
	/*
	 * No keyUsage at all means unrestricted use (RFC 5280 4.2.1.3 binds
	 * the issuing CA, not relying parties; Java, curl and browsers accept
	 * it).  It is what `openssl req -x509` makes with Debian's default
	 * openssl.cnf, the root of the common runbooks: accept it with a
	 * warning (chain_validate) rather than refuse the runbook's root.
	 */
	if ((flags & EXFLAG_KUSAGE) != 0 &&
	    (X509_get_key_usage(it->cert) & KU_KEY_CERT_SIGN) == 0)
		return cert_error_set(err, E_NOT_CA, it->name, it->seq,
		    "the %s certificate's keyUsage lacks keyCertSign, so it "
		    "cannot issue certificates", chain_kind_name(it->kind));
	return 0;
}

static int
check_validity(const struct chain_item *it, time_t now,
    struct cert_error *err)
{
	const ASN1_TIME	*nb = X509_get0_notBefore(it->cert);
	const ASN1_TIME	*na = X509_get0_notAfter(it->cert);
	char		 d1[64], d2[64];

	cert_date(nb, d1, sizeof(d1));
	cert_date(na, d2, sizeof(d2));
	if (X509_cmp_time(na, &now) <= 0)
		return cert_error_set(err, E_EXPIRED, it->name, it->seq,
		    "the %s certificate expired on %s (valid %s to %s)",
		    chain_kind_name(it->kind), d2, d1, d2);
	if (X509_cmp_time(nb, &now) >= 0)
		return cert_error_set(err, E_NOT_YET_VALID, it->name, it->seq,
		    "the %s certificate is not valid before %s (valid %s to "
		    "%s)", chain_kind_name(it->kind), d1, d1, d2);
	return 0;
}

static int
check_key_strength(const struct chain_item *it, struct cert_error *err)
{
	EVP_PKEY	*k = X509_get0_pubkey(it->cert);
	int		 bits;

	if (k == NULL)
		return cert_error_set(err, E_WEAK, it->name, it->seq,
		    "the %s certificate's public key is unreadable or of an "
		    "unsupported type", chain_kind_name(it->kind));
	bits = EVP_PKEY_get_bits(k);
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
	case EVP_PKEY_DSA:
		if (bits < 2048)
			return cert_error_set(err, E_WEAK, it->name, it->seq,
			    "the %s certificate has a %d-bit %s key; at least "
			    "2048 bits are required", chain_kind_name(it->kind),
			    bits, EVP_PKEY_get_base_id(k) == EVP_PKEY_DSA ?
			    "DSA" : "RSA");
		break;
	case EVP_PKEY_EC:
		if (bits < 256)
			return cert_error_set(err, E_WEAK, it->name, it->seq,
			    "the %s certificate has an EC key on a %d-bit "
			    "curve; P-256 or stronger is required",
			    chain_kind_name(it->kind), bits);
		break;
	default:
		break;
	}
	return 0;
}

/* MD5/SHA-1 (and older) signature digests. */
static int
weak_sig(X509 *x, const char **mdname)
{
	int	 mdnid = NID_undef, pknid, secbits;
	uint32_t flags;

	if (!X509_get_signature_info(x, &mdnid, &pknid, &secbits, &flags))
		return 0;
	switch (mdnid) {
	case NID_md2:
	case NID_md4:
	case NID_md5:
	case NID_sha1:
	case NID_md5_sha1:
		*mdname = OBJ_nid2sn(mdnid);
		return 1;
	}
	return 0;
}

static int
check_sig_strength(const struct chain_item *it, struct cert_error *err)
{
	const char	*md;

	if (weak_sig(it->cert, &md))
		return cert_error_set(err, E_WEAK, it->name, it->seq,
		    "the %s certificate is signed with %s, which is broken; "
		    "reissue it with SHA-256 or stronger",
		    chain_kind_name(it->kind), md);
	return 0;
}

/* it must be issued and signed by prev; later: its issuer further down. */
static int
check_issued_by(const struct chain_item *prev, const struct chain_item *it,
    const struct chain_item *later, struct cert_error *err)
{
	EVP_PKEY	*pk = X509_get0_pubkey(prev->cert);
	char		*want = NULL, *have = NULL;
	int		 ok, rc = 0;

	ok = X509_NAME_cmp(X509_get_issuer_name(it->cert),
	    X509_get_subject_name(prev->cert)) == 0;
	if (!ok) {
		want = cert_issuer(it->cert);
		have = cert_subject_or(prev->cert);
		rc = cert_error_set(err, E_ISSUER_MISMATCH, it->name, it->seq,
		    "the %s certificate was issued by \"%s\", but the item "
		    "before it, '%s' (seq %d), is \"%s\"%s%s%s",
		    chain_kind_name(it->kind), want ? want : "?", prev->name,
		    prev->seq, have ? have : "?",
		    later != NULL ? "; its issuer is '" : "",
		    later != NULL ? later->name : "",
		    later != NULL ? "', further down: the items look swapped" :
		    "");
		goto out;
	}
	if (pk == NULL || X509_verify(it->cert, pk) != 1) {
		ERR_clear_error();
		rc = cert_error_set(err, E_ISSUER_MISMATCH, it->name, it->seq,
		    "the %s certificate names '%s' (seq %d) as its issuer but "
		    "its signature does not verify with that certificate's "
		    "key: it was signed by a different key with the same name",
		    chain_kind_name(it->kind), prev->name, prev->seq);
		goto out;
	}
out:
	free(want);
	free(have);
	return rc;
}

/* An item after i whose subject is item i's issuer (a swapped order). */
static const struct chain_item *
issuer_after(const struct chain *c, size_t i)
{
	size_t	 j;

	for (j = i + 1; j < c->n; j++)
		if (X509_NAME_cmp(X509_get_issuer_name(c->items[i].cert),
		    X509_get_subject_name(c->items[j].cert)) == 0)
			return &c->items[j];
	return NULL;
}

static int
check_root(const struct chain_item *it, struct cert_error *err)
{
	EVP_PKEY	*pk = X509_get0_pubkey(it->cert);
	char		*iss = NULL, *sub = NULL;
	int		 rc = 0;

	if (X509_NAME_cmp(X509_get_issuer_name(it->cert),
	    X509_get_subject_name(it->cert)) != 0) {
		iss = cert_issuer(it->cert);
		sub = cert_subject_or(it->cert);
		rc = cert_error_set(err, E_ROOT_NOT_SELF_SIGNED, it->name,
		    it->seq, "the root \"%s\" is not self-signed: it was "
		    "issued by \"%s\"; upload that issuer's certificate as the "
		    "root (seq 1)", sub ? sub : "?", iss ? iss : "?");
	} else if (pk == NULL || X509_verify(it->cert, pk) != 1) {
		ERR_clear_error();
		rc = cert_error_set(err, E_ROOT_NOT_SELF_SIGNED, it->name,
		    it->seq, "the root's signature does not verify with its "
		    "own key, so it is not a valid self-signed certificate");
	}
	free(iss);
	free(sub);
	return rc;
}

/* Lowercase, without a trailing dot. */

static int
check_server(const struct chain_item *it, const char *domain,
    EVP_PKEY *key, struct cert_warnings *warns, int *via_wildcard,
    struct cert_error *err)
{
	X509		*x = it->cert;
	uint32_t	 flags = X509_get_extension_flags(x);
	char		*san, *cn;
	int		 cn_only, covers, rc;

	if (flags & EXFLAG_CA)
		return cert_error_set(err, E_SERVER_IS_CA, it->name, it->seq,
		    "the server certificate has CA:TRUE; a server certificate "
		    "must not be a CA");
	if ((flags & EXFLAG_XKUSAGE) &&
	    (X509_get_extended_key_usage(x) & XKU_SSL_SERVER) == 0)
		return cert_error_set(err, E_EKU, it->name, it->seq,
		    "the server certificate's extendedKeyUsage does not "
		    "include serverAuth (TLS Web Server Authentication)");
	if ((flags & EXFLAG_KUSAGE) && (X509_get_key_usage(x) &
	    (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT |
	    KU_KEY_AGREEMENT)) == 0)
		return cert_error_set(err, E_EKU, it->name, it->seq,
		    "the server certificate's keyUsage allows neither "
		    "digitalSignature nor keyEncipherment, so TLS cannot use "
		    "it");
	if ((covers = cert_covers(x, domain, &cn_only)) == 0) {
		san = cert_san(x);
		cn = cert_subject_or(x);
		rc = cert_error_set(err, E_NAME_MISMATCH, it->name, it->seq,
		    "the server certificate does not cover %s (or *.%s): its "
		    "names are %s%s (subject %s)", domain, domain,
		    *san != '\0' ? san : "none",
		    cn_only ? ", no DNS names in subjectAltName" : "", cn);
		free(san);
		free(cn);
		return rc;
	}
	*via_wildcard = covers == 2;
	if (cn_only)
		cert_warn_add(warns, W_CN_ONLY, it->name, it->seq,
		    "%s is only in the subject CN: curl and Java accept that, "
		    "but browsers refuse it; put the name in subjectAltName",
		    domain);
	if (key != NULL)
		return key_matches_cert(key, x, it->name, it->seq, err);
	return 0;
}

/* Items must be root at seq 1, intermediates, server last, seqs 1..n. */
static int
check_order(const struct chain *c, struct cert_error *err)
{
	const struct chain_item	*it, *last;
	size_t			 i, j;

	if (c->n == 0)
		return cert_error_set(err, E_ORDER, "", 0,
		    "the chain is empty: upload the root (seq 1) first");
	for (i = 0; i < c->n; i++)
		for (j = i + 1; j < c->n; j++)
			if (c->items[i].seq == c->items[j].seq)
				return cert_error_set(err, E_ORDER,
				    c->items[j].name, c->items[j].seq,
				    "seq %d is used twice, by '%s' and '%s'",
				    c->items[j].seq, c->items[i].name,
				    c->items[j].name);
	for (i = 0; i < c->n; i++) {
		it = &c->items[i];
		if (it->seq != (int)i + 1) {
			if (it->seq > (int)i + 1)
				return cert_error_set(err, E_ORDER, it->name,
				    it->seq, "seq gap: nothing at seq %zu "
				    "before '%s' (seq %d)", i + 1, it->name,
				    it->seq);
			return cert_error_set(err, E_ORDER, it->name, it->seq,
			    "items are out of seq order at '%s' (seq %d)",
			    it->name, it->seq);
		}
		if (i == 0 && it->kind != KIND_ROOT)
			return cert_error_set(err, E_ORDER, it->name, it->seq,
			    "the %s certificate comes before a root: seq 1 "
			    "must be the root", chain_kind_name(it->kind));
		if (i > 0 && it->kind == KIND_ROOT)
			return cert_error_set(err, E_ORDER, it->name, it->seq,
			    "a second root at seq %d: only seq 1 is the root",
			    it->seq);
		if (it->kind == KIND_SERVER && i != c->n - 1)
			return cert_error_set(err, E_ORDER, it->name, it->seq,
			    "the server certificate must be the last item, "
			    "but '%s' (seq %d) follows it", c->items[i + 1].name,
			    c->items[i + 1].seq);
	}
	last = &c->items[c->n - 1];
	if (last->kind != KIND_SERVER && c->key != NULL)
		return cert_error_set(err, E_ORDER, "", 0,
		    "a private key but no server certificate: upload the "
		    "server certificate together with its key");
	if (last->kind != KIND_SERVER)
		return cert_error_set(err, E_ORDER, "", 0,
		    "the chain has no server certificate yet");
	if (c->key == NULL)
		return cert_error_set(err, E_ORDER, last->name, last->seq,
		    "the server certificate has no private key: upload it "
		    "together with its key");
	return 0;
}

static int
check_duplicates(const struct chain *c, struct cert_error *err)
{
	size_t	 i, j;

	for (i = 0; i < c->n; i++)
		for (j = i + 1; j < c->n; j++)
			if (X509_cmp(c->items[i].cert, c->items[j].cert) == 0)
				return cert_error_set(err, E_DUPLICATE,
				    c->items[j].name, c->items[j].seq,
				    "'%s' (seq %d) is the same certificate as "
				    "'%s' (seq %d)", c->items[j].name,
				    c->items[j].seq, c->items[i].name,
				    c->items[i].seq);
	return 0;
}

/*
 * pathLenConstraint: a CA at index j allows at most p CA certificates
 * below it before the server.  Name the first item over the limit.
 */
static int
check_pathlen(const struct chain *c, struct cert_error *err)
{
	size_t	 j, nca = c->n - 1;	/* CA items are 0..n-2 */
	long	 p;

	for (j = 0; j < nca; j++) {
		p = X509_get_pathlen(c->items[j].cert);
		if (p < 0)
			continue;
		if ((long)(nca - j - 1) > p)
			return cert_error_set(err, E_PATH_LEN,
			    c->items[j + 1 + p].name, c->items[j + 1 + p].seq,
			    "'%s' (seq %d) has pathLenConstraint %ld, so at "
			    "most %ld intermediate%s may follow it, but the "
			    "chain has %zu; '%s' is one too many",
			    c->items[j].name, c->items[j].seq, p, p,
			    p == 1 ? "" : "s", nca - j - 1,
			    c->items[j + 1 + p].name);
	}
	return 0;
}

static const struct chain_item *
find_item(const struct chain *c, X509 *x)
{
	size_t	 i;

	if (x == NULL)
		return NULL;
	for (i = 0; i < c->n; i++)
		if (X509_cmp(c->items[i].cert, x) == 0)
			return &c->items[i];
	return NULL;
}

static enum cert_code
verify_code(int e)
{
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return E_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return E_NOT_YET_VALID;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
	case X509_V_ERR_SUBJECT_ISSUER_MISMATCH:
	case X509_V_ERR_AKID_SKID_MISMATCH:
	case X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return E_ISSUER_MISMATCH;
	case X509_V_ERR_INVALID_CA:
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
	case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
	case X509_V_ERR_CA_BCONS_NOT_CRITICAL:
	case X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN:
	case X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA:
		return E_NOT_CA;
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
		return E_PATH_LEN;
	case X509_V_ERR_INVALID_PURPOSE:
		return E_EKU;
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return E_NAME_MISMATCH;
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
		return E_WEAK;
	default:
		/* RFC 5280 profile violations strict mode finds (no AKI
		 * below the root, no SKI on a CA, empty subject with a
		 * non-critical SAN, ...): a malformed certificate. */
		return E_ENCODING;
	}
}

/*
 * Strict mode reports a CA without keyUsage (error 92); certd's own checks
 * accept that (see check_ca), so the verifier must not overrule them.
 */
static int
verify_cb(int ok, X509_STORE_CTX *ctx)
{
	X509	*x;

	if (ok)
		return 1;
	x = X509_STORE_CTX_get_current_cert(ctx);
	switch (X509_STORE_CTX_get_error(ctx)) {
	case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
	case X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN:
		if (x != NULL &&
		    (X509_get_extension_flags(x) & EXFLAG_KUSAGE) == 0)
			return 1;
		break;
	}
	return 0;
}

/*
 * OpenSSL's verifier: the uploaded root as the only trust anchor, the
 * intermediates as untrusted helpers, strict mode, sslserver, host check.
 */
static int
run_verifier(const struct chain *c, const char *host, time_t now,
    struct cert_error *err)
{
	X509_STORE		*store = NULL;
	X509_STORE_CTX		*ctx = NULL;
	X509_VERIFY_PARAM	*param;
	STACK_OF(X509)		*untrusted = NULL;
	const struct chain_item	*it;
	const char		*label;
	size_t			 i;
	int			 e, depth, rc = -1;

	if ((store = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(store, c->items[0].cert) ||
	    (untrusted = sk_X509_new_null()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL) {
		cert_error_set(err, E_INTERNAL, "", 0,
		    "cannot set up OpenSSL's verifier");
		goto out;
	}
	for (i = 1; i + 1 < c->n; i++)
		if (!sk_X509_push(untrusted, c->items[i].cert)) {
			cert_error_set(err, E_INTERNAL, "", 0,
			    "cannot set up OpenSSL's verifier");
			goto out;
		}
	if (!X509_STORE_CTX_init(ctx, store, c->items[c->n - 1].cert,
	    untrusted)) {
		cert_error_set(err, E_INTERNAL, "", 0,
		    "X509_STORE_CTX_init failed");
		goto out;
	}
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
	X509_VERIFY_PARAM_set_time(param, now);
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set_trust(param, X509_TRUST_SSL_SERVER);
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (host != NULL && !X509_VERIFY_PARAM_set1_host(param, host, 0)) {
		cert_error_set(err, E_INTERNAL, "", 0,
		    "cannot set the host name to check");
		goto out;
	}
	if (X509_verify_cert(ctx) == 1) {
		rc = 0;
		goto out;
	}
	e = X509_STORE_CTX_get_error(ctx);
	depth = X509_STORE_CTX_get_error_depth(ctx);
	it = find_item(c, X509_STORE_CTX_get_current_cert(ctx));
	if (it == NULL && depth >= 0 && (size_t)depth < c->n)
		it = &c->items[c->n - 1 - (size_t)depth];
	label = it != NULL ? chain_kind_name(it->kind) : "a";
	cert_error_set(err, verify_code(e), it ? it->name : "",
	    it ? it->seq : 0, "OpenSSL's verifier rejects the %s "
	    "certificate: %s", label, X509_verify_cert_error_string(e));
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	return rc;
}

static void
add_expiry_warnings(const struct chain *c, time_t now,
    struct cert_warnings *warns)
{
	const struct chain_item	*it;
	time_t			 soon = now + EXPIRY_WARN_DAYS * 86400;
	char			 d[64];
	size_t			 i;

	for (i = c->n; i-- > 0;) {
		it = &c->items[i];
		if (X509_cmp_time(X509_get0_notAfter(it->cert), &soon) <= 0) {
			cert_date(X509_get0_notAfter(it->cert), d, sizeof(d));
			cert_warn_add(warns, W_EXPIRES_SOON, it->name, it->seq,
			    "the %s certificate expires on %s, within %d days",
			    chain_kind_name(it->kind), d, EXPIRY_WARN_DAYS);
		}
	}
}

int
chain_validate(const struct chain *c, const char *domain, time_t now,
    struct cert_warnings *warns, struct cert_error *err)
{
	const struct chain_item	*it;
	const char		*md;
	char			 host[DOMAIN_MAX + 64];
	size_t			 i;
	int			 via_wildcard = 0;

	if (domain == NULL || *domain == '\0' || strlen(domain) > DOMAIN_MAX)
		return cert_error_set(err, E_BAD_REQUEST, "", 0,
		    "no valid domain to validate the chain for");
	if (check_order(c, err) == -1 || check_duplicates(c, err) == -1)
		return -1;
	for (i = 0; i < c->n; i++) {
		it = &c->items[i];
		if (i == 0 && check_root(it, err) == -1)
			return -1;
		if (it->kind != KIND_SERVER && check_ca(it, err) == -1)
			return -1;
		if (check_key_strength(it, err) == -1)
			return -1;
		if (i > 0 && check_sig_strength(it, err) == -1)
			return -1;
		if (i > 0 && check_issued_by(&c->items[i - 1], it,
		    issuer_after(c, i), err) == -1)
			return -1;
		if (check_validity(it, now, err) == -1)
			return -1;
		/* OpenSSL's sslserver purpose applies EKU to the CAs too. */
		if (it->kind != KIND_SERVER &&
		    (X509_get_extension_flags(it->cert) & EXFLAG_XKUSAGE) &&
		    (X509_get_extended_key_usage(it->cert) &
		    XKU_SSL_SERVER) == 0)
			return cert_error_set(err, E_EKU, it->name, it->seq,
			    "the %s certificate's extendedKeyUsage does not "
			    "include serverAuth, so it may not issue TLS "
			    "server certificates", chain_kind_name(it->kind));
	}
	if (check_pathlen(c, err) == -1)
		return -1;
	it = &c->items[c->n - 1];
	if (check_server(it, domain, c->key, warns, &via_wildcard, err) == -1)
		return -1;

	/* The suffix wildcard covers hosts under D, not D itself. */
	if (via_wildcard)
		snprintf(host, sizeof(host), "certd-check.%s", domain);
	else
		strlcpy(host, domain, sizeof(host));
	if (run_verifier(c, strlen(host) <= DOMAIN_MAX ? host : NULL, now,
	    err) == -1)
		return -1;

	if (weak_sig(c->items[0].cert, &md))
		cert_warn_add(warns, W_SHA1_ROOT, c->items[0].name,
		    c->items[0].seq, "the root is self-signed with %s; that is "
		    "harmless for a trust anchor but some clients refuse it",
		    md);
	for (i = 0; i + 1 < c->n; i++)
		if ((X509_get_extension_flags(c->items[i].cert) &
		    EXFLAG_KUSAGE) == 0)
			cert_warn_add(warns, W_CA_NO_KEY_USAGE,
			    c->items[i].name, c->items[i].seq, "the %s "
			    "certificate has no keyUsage extension; it is "
			    "accepted, but a CA should state keyCertSign",
			    chain_kind_name(c->items[i].kind));
	add_expiry_warnings(c, now, warns);
	return 0;
}

int
chain_check_item(const struct chain *staged, const struct chain_item *item,
    time_t now, struct cert_error *err)
{
	const struct chain_item	*prev = NULL;
	size_t			 i;

	if (item->seq < 1)
		return cert_error_set(err, E_ORDER, item->name, item->seq,
		    "seq must be 1 (root) or more");
	if (item->seq == 1 && item->kind != KIND_ROOT)
		return cert_error_set(err, E_ORDER, item->name, item->seq,
		    "seq 1 is the root, but this is the %s certificate",
		    chain_kind_name(item->kind));
	if (item->seq > 1 && item->kind == KIND_ROOT)
		return cert_error_set(err, E_ORDER, item->name, item->seq,
		    "the root must be at seq 1, not %d", item->seq);
	if (staged != NULL) {
		for (i = 0; i < staged->n; i++) {
			if (strcmp(staged->items[i].name, item->name) == 0)
				continue;	/* being replaced */
			if (staged->items[i].seq == item->seq)
				return cert_error_set(err, E_ORDER, item->name,
				    item->seq, "seq %d is already taken by "
				    "'%s'", item->seq, staged->items[i].name);
			if (X509_cmp(staged->items[i].cert, item->cert) == 0)
				return cert_error_set(err, E_DUPLICATE,
				    item->name, item->seq, "this certificate "
				    "is already in the chain as '%s' (seq %d)",
				    staged->items[i].name,
				    staged->items[i].seq);
			if (staged->items[i].seq == item->seq - 1)
				prev = &staged->items[i];
		}
		if (item->seq > 1 && prev == NULL)
			return cert_error_set(err, E_ORDER, item->name,
			    item->seq, "nothing at seq %d: %s", item->seq - 1,
			    item->seq == 2 ? "upload the root (seq 1) first" :
			    "upload the items in seq order");
	}
	if (item->kind == KIND_ROOT && check_root(item, err) == -1)
		return -1;
	if (item->kind != KIND_SERVER && check_ca(item, err) == -1)
		return -1;
	if (item->kind == KIND_SERVER && is_ca(item->cert))
		return cert_error_set(err, E_SERVER_IS_CA, item->name,
		    item->seq, "the server certificate has CA:TRUE; a server "
		    "certificate must not be a CA");
	if (prev != NULL && check_issued_by(prev, item, NULL, err) == -1)
		return -1;
	if (check_key_strength(item, err) == -1)
		return -1;
	if (item->kind != KIND_ROOT && check_sig_strength(item, err) == -1)
		return -1;
	return check_validity(item, now, err);
}


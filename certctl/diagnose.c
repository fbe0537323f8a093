/*
 * diagnose.c: a served chain judged as a client judges it, each problem
 * named with its cause and its fix (see diagnose.h).  Our own path walk
 * says what is wrong in words; OpenSSL's verifier, run as curl runs it on
 * Debian (security level 2, partial chains allowed), has the last word on
 * whether the client connects, so nothing it refuses can pass unnoticed.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "certctl.h"
#include "diagnose.h"
#include "key.h"
#include "log.h"
#include "util.h"

static const char fix_serve_chain[] =
    "Serve the intermediates after the server certificate: with certd's "
    "files, Apache's SSLCertificateFile fullchain.pem (or "
    "SSLCertificateChainFile chain.pem), nginx's ssl_certificate "
    "fullchain.pem, HAProxy's crt bundle.pem; then reload the server.";
static const char fix_trust_root[] =
    "Add the root CA certificate to the client's trust store: for Java, "
    "certd's truststore.jks or truststore.p12 of the domain, or keytool "
    "-importcert -keystore STORE -alias root -file root.pem; for curl and "
    "OpenSSL, --cacert root.pem; system-wide, copy it to "
    "/usr/local/share/ca-certificates/ and run update-ca-certificates.  If "
    "a TLS-inspecting proxy stands between client and server, the root is "
    "the proxy's: trust it, or have the proxy let this traffic through.";

const char *
diag_role_name(enum diag_role r)
{
	switch (r) {
	case ROLE_SERVER:
		return "server certificate";
	case ROLE_INTERMEDIATE:
		return "intermediate CA";
	case ROLE_ROOT:
		return "root CA";
	default:
		return "not part of the chain";
	}
}

void
diag_add(struct diagnosis *d, const char *code, int fatal, const char *fix,
    const char *fmt, ...)
{
	struct diag_problem	*p;
	va_list			 ap;

	if (d->np >= DIAG_PROBLEMS_MAX)
		return;
	p = &d->p[d->np++];
	p->code = code;
	p->fatal = fatal;
	va_start(ap, fmt);
	if (vasprintf(&p->cause, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	p->fix = xstrdup(fix != NULL ? fix : "");
}

int
diag_fatal(const struct diagnosis *d)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < d->np; i++)
		n += d->p[i].fatal;
	return n;
}

void
diagnosis_free(struct diagnosis *d)
{
	size_t	 i;

	for (i = 0; i < d->np; i++) {
		free(d->p[i].cause);
		free(d->p[i].fix);
	}
	for (i = 0; i < d->npath; i++)
		X509_free(d->path[i]);
	memset(d, 0, sizeof(*d));
}

static X509 *
served(const struct diag_input *in, size_t i)
{
	return sk_X509_value(in->served, (int)i);
}

/* Whether x is one of the n certificates of list. */
static int
cert_in(X509 *const *list, size_t n, X509 *x)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (X509_cmp(list[i], x) == 0)
			return 1;
	return 0;
}

static int
served_index(const struct diag_input *in, const struct diagnosis *d, X509 *x)
{
	size_t	 i;

	for (i = 0; i < d->nserved; i++)
		if (X509_cmp(served(in, i), x) == 0)
			return (int)i;
	return -1;
}

/*
 * x's issuer: the trust store first, as Java and OpenSSL look (so a
 * served copy of an anchor changes nothing), then what was served.  A
 * certificate with the right name but another key goes to *imposter.
 */
static X509 *
find_issuer(const struct diag_input *in, const struct diagnosis *d, X509 *x,
    X509 **imposter)
{
	X509	*c;
	size_t	 i, n = in->nanchors + d->nserved;
	int	 r;

	for (i = 0; i < n; i++) {
		c = i < in->nanchors ? in->anchors[i] :
		    served(in, i - in->nanchors);
		if (X509_cmp(c, x) == 0 || cert_in(d->path, d->npath, c))
			continue;
		if ((r = cert_issued_by(x, c)) == 1)
			return c;
		if (r == -1)
			*imposter = c;
	}
	return NULL;
}

static void
path_add(const struct diag_input *in, struct diagnosis *d, X509 *x)
{
	X509_up_ref(x);
	d->path[d->npath] = x;
	d->served_at[d->npath] = served_index(in, d, x);
	d->anchor[d->npath] = cert_in(in->anchors, in->nanchors, x);
	if (d->anchor[d->npath])
		d->trusted = 1;
	d->npath++;
}

/* "a.b.c" for certificates, quoted, for messages. */
static char *
names_of(X509 *x)
{
	char	*s, *q;

	s = describe_name(x);
	xasprintf(&q, "\"%s\"", s);
	free(s);
	return q;
}

/* The path's top is not a root and nothing signed it. */
static void
judge_open_top(const struct diag_input *in, struct diagnosis *d,
    X509 *imposter)
{
	X509	*top = d->path[d->npath - 1];
	char	*t, *iss, other[512] = "";

	t = names_of(top);
	iss = cert_issuer(top);
	if (imposter != NULL)
		snprintf(other, sizeof(other), " (%s has a certificate named "
		    "\"%s\", but with another key: not the one that signed; "
		    "an old or re-issued CA certificate)", in->store, iss);
	if (cert_is_ca(top))
		diag_add(d, "untrusted-root", 1, fix_trust_root,
		    "The chain leads to %s, issued by \"%s\", which is not "
		    "in %s%s: the client does not trust the root of this "
		    "chain (Java: \"PKIX path building failed\"; OpenSSL: "
		    "\"unable to get local issuer certificate\").  If \"%s\" "
		    "is an intermediate, the server must send it too.", t,
		    iss, in->store, other, iss);
	else
		diag_add(d, "intermediate-missing", 1, fix_serve_chain,
		    "The chain the server sends stops at %s: its issuer "
		    "\"%s\" is neither served nor in %s%s, so the client "
		    "cannot build a path to a root it trusts (Java: \"PKIX "
		    "path building failed: unable to find valid certification "
		    "path to requested target\"; OpenSSL: \"unable to get "
		    "local issuer certificate\").  If \"%s\" is your root CA "
		    "itself, the chain is complete and that root is missing "
		    "from the trust store instead.", t, iss, in->store, other,
		    iss);
	free(t);
	free(iss);
}

/* The path ends at a root (self-signed) that the client does not hold. */
static void
judge_untrusted_root(const struct diag_input *in, struct diagnosis *d)
{
	X509	*top = d->path[d->npath - 1];
	char	*t = names_of(top);

	if (d->npath == 1)
		diag_add(d, "self-signed", 1, "Import exactly this certificate "
		    "into the client's trust store (keytool -importcert "
		    "-alias NAME -file cert.pem), or better, issue the server "
		    "certificate from a CA of your own (certctl gen-ca, "
		    "certctl gen-cert) and trust that CA.",
		    "The server certificate %s is self-signed and not in %s: "
		    "a client trusts a self-signed certificate only if it "
		    "holds that very certificate (Java: \"PKIX path building "
		    "failed\"; OpenSSL: \"self-signed certificate\").", t,
		    in->store);
	else
		diag_add(d, "untrusted-root", 1, fix_trust_root,
		    "The chain leads to the root %s, which is not in %s, so "
		    "the client does not trust it (Java: \"PKIX path building "
		    "failed\"; OpenSSL: \"self-signed certificate in "
		    "certificate chain\").", t, in->store);
	free(t);
}

/* Which certificates above the server's came from the store, unserved. */
static void
judge_missing(const struct diag_input *in, struct diagnosis *d)
{
	char	*t;
	size_t	 k;

	for (k = 1; k < d->npath; k++) {
		if (d->served_at[k] != -1 || cert_self_signed(d->path[k]))
			continue;
		d->complete = 0;
		t = names_of(d->path[k]);
		diag_add(d, "intermediate-missing", 0, fix_serve_chain,
		    "The server does not send the intermediate %s; this "
		    "client connects only because %s holds it.  Clients that "
		    "trust only the root (browsers, curl, other Java trust "
		    "stores) fail with \"unable to get local issuer "
		    "certificate\" or \"PKIX path building failed\".", t,
		    in->store);
		free(t);
	}
}

/*
 * The path up from the server certificate, and what keeps it from a trust
 * anchor; with no anchor at all, that is the caller's to say (check.c's
 * no-anchors), not something to explain certificate by certificate.
 */
static void
build_path(const struct diag_input *in, struct diagnosis *d)
{
	X509	*x, *imposter = NULL;
	int	 judge = in->nanchors > 0;

	path_add(in, d, served(in, 0));
	d->complete = 1;
	for (;;) {
		x = d->path[d->npath - 1];
		if (cert_self_signed(x) || d->npath == DIAG_PATH_MAX)
			break;
		if ((x = find_issuer(in, d, x, &imposter)) == NULL) {
			/* Past a CA, what is missing is a root, not served. */
			d->complete = cert_is_ca(d->path[d->npath - 1]);
			if (!d->trusted && judge)
				judge_open_top(in, d, imposter);
			break;
		}
		path_add(in, d, x);
	}
	if (!d->trusted && judge && cert_self_signed(d->path[d->npath - 1]))
		judge_untrusted_root(in, d);
	judge_missing(in, d);
}

static void
assign_roles(const struct diag_input *in, struct diagnosis *d)
{
	size_t	 i;

	for (i = 0; i < d->nserved; i++) {
		if (i == 0)
			d->role[i] = ROLE_SERVER;
		else if (!cert_in(d->path, d->npath, served(in, i)))
			d->role[i] = ROLE_EXTRA;
		else
			d->role[i] = cert_self_signed(served(in, i)) ?
			    ROLE_ROOT : ROLE_INTERMEDIATE;
	}
}

/* "[0] a, [1] c, [2] b" of the served certificates in the path. */
static void
list_served(const struct diag_input *in, const struct diagnosis *d,
    char *buf, size_t size)
{
	size_t	 i, o = 0;
	char	*n;

	buf[0] = '\0';
	for (i = 0; i < d->nserved && o < size; i++) {
		n = describe_name(served(in, i));
		o += snprintf(buf + o, size - o, "%s[%zu] \"%s\"", i ? ", " :
		    "", i, n);
		free(n);
	}
}

static void
judge_order(const struct diag_input *in, struct diagnosis *d)
{
	char	 sent[1024], want[1024], *n;
	size_t	 k, o = 0;
	int	 expect = 0;

	d->in_order = 1;
	for (k = 0; k < d->npath; k++) {
		if (d->served_at[k] == -1)
			continue;
		if (d->served_at[k] != expect++)
			d->in_order = 0;
	}
	if (d->in_order)
		return;
	list_served(in, d, sent, sizeof(sent));
	want[0] = '\0';
	for (k = 0; k < d->npath && o < sizeof(want); k++) {
		if (d->served_at[k] == -1)
			continue;
		n = describe_name(d->path[k]);
		o += snprintf(want + o, sizeof(want) - o, "%s\"%s\"",
		    o ? ", then " : "", n);
		free(n);
	}
	diag_add(d, "order", 0, "List the intermediates in the chain file "
	    "with the server certificate's issuer first, each followed by the "
	    "one that issued it (certd's chain.pem and fullchain.pem are in "
	    "that order); then reload the server.",
	    "The server sends its chain out of order: %s.  Each certificate "
	    "must be followed by the one that issued it: %s.  TLS 1.2 "
	    "requires that order; OpenSSL, Java and browsers sort it out, "
	    "stricter clients do not.", sent, want);
}

static void
judge_extras(const struct diag_input *in, struct diagnosis *d)
{
	char	*n;
	size_t	 i;

	for (i = 1; i < d->nserved; i++) {
		n = names_of(served(in, i));
		if (d->role[i] == ROLE_ROOT)
			diag_add(d, "root-served", 0, "Serve fullchain.pem or "
			    "chain.pem, which leave the root out.",
			    "The server also sends the root %s.  A client "
			    "never trusts a root because it was sent one: it "
			    "holds its own copy or none, so this only "
			    "lengthens every handshake.", n);
		else if (d->role[i] == ROLE_EXTRA)
			diag_add(d, "extra-certificate", 0, "Remove it from "
			    "the chain file and reload the server.",
			    "The server sends %s ([%zu]), which is not in the "
			    "chain of its certificate: an old intermediate, "
			    "or one of another CA.", n, i);
		free(n);
	}
}

/* Is name one of the subject's CNs?  (An address there counts for none.) */
static int
cn_is(X509 *x, const char *name)
{
	X509_NAME	*subj = X509_get_subject_name(x);
	ASN1_STRING	*v;
	int		 i = -1;

	while ((i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0) {
		v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
		if ((size_t)ASN1_STRING_length(v) == strlen(name) &&
		    strncasecmp((const char *)ASN1_STRING_get0_data(v), name,
		    strlen(name)) == 0)
			return 1;
	}
	return 0;
}

/* The client's name or address against the server certificate. */
static void
judge_name(const struct diag_input *in, struct diagnosis *d)
{
	X509		*leaf = served(in, 0);
	char		*san, *subj;
	int		 is_ip, in_cn;

	is_ip = name_is_address(in->name);
	if (is_ip ? X509_check_ip_asc(leaf, in->name, 0) == 1 :
	    X509_check_host(leaf, in->name, 0,
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1)
		return;
	san = cert_san(leaf);
	subj = cert_subject_or(leaf);
	in_cn = is_ip ? cn_is(leaf, in->name) : X509_check_host(leaf,
	    in->name, 0, X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT, NULL) == 1;
	if (is_ip)
		diag_add(d, "ip-san-missing", 1, "Connect by a name the "
		    "certificate covers, or re-issue it with the address in "
		    "its subjectAltName (certctl gen-cert --ip ADDRESS; "
		    "openssl: -addext subjectAltName=IP:ADDRESS).",
		    "The client connects to the IP address %s, and clients "
		    "match an address only against the IP entries of the "
		    "subjectAltName, never the CN.  The certificate has %s%s "
		    "(Java: \"No subject alternative names %s%s%s\").",
		    in->name, *san != '\0' ? san : "no subjectAltName", in_cn ?
		    ", and the address only in its subject" : "",
		    *san != '\0' ? "matching IP address " : "present",
		    *san != '\0' ? in->name : "", *san != '\0' ? " found" :
		    "");
	else if (in_cn && *san == '\0')
		diag_add(d, "cn-only", 1, "Re-issue it with the name in a "
		    "subjectAltName (certctl gen-cert --domain NAME; openssl: "
		    "-addext subjectAltName=DNS:NAME).",
		    "The certificate names %s only in its subject (%s), with "
		    "no subjectAltName.  Browsers (Chrome since version 58, "
		    "Firefox), Go and Python refuse it; Java and curl still "
		    "accept it.", in->name, subj);
	else
		diag_add(d, "name-mismatch", 1, "Connect with a name the "
		    "certificate covers, or have it re-issued with that name "
		    "in its subjectAltName.  A server with several names picks "
		    "the certificate by the name the client sends (SNI): check "
		    "that the right virtual host answers (--name).",
		    "The certificate is for %s (%s), not for %s%s.",
		    *san != '\0' ? san : "no subjectAltName at all", subj,
		    in->name, in_cn ? "; its subject names it, but clients "
		    "ignore the subject when a subjectAltName is present" : "");
	free(san);
	free(subj);
}

/* "3 days", "5 hours", "10 minutes" */
static void
span(time_t secs, char *buf, size_t size)
{
	if (secs < 0)
		secs = -secs;
	if (secs >= 2 * 86400)
		snprintf(buf, size, "%lld days", (long long)secs / 86400);
	else if (secs >= 2 * 3600)
		snprintf(buf, size, "%lld hours", (long long)secs / 3600);
	else
		snprintf(buf, size, "%lld minutes", (long long)secs / 60 + 1);
}

static const char *
path_role(const struct diagnosis *d, size_t k)
{
	if (k == 0)
		return "The server certificate";
	return cert_self_signed(d->path[k]) ? "The root" : "The intermediate";
}

static void
judge_dates(const struct diag_input *in, struct diagnosis *d)
{
	char	 date[64], ago[32], *n;
	time_t	 nb, na;
	size_t	 k;

	for (k = 0; k < d->npath; k++) {
		n = names_of(d->path[k]);
		nb = cert_not_before(d->path[k]);
		na = cert_not_after(d->path[k]);
		if (na <= in->now) {
			cert_date(X509_get0_notAfter(d->path[k]), date,
			    sizeof(date));
			span(in->now - na, ago, sizeof(ago));
			diag_add(d, "expired", 1, k == 0 ? "Renew it and "
			    "upload the new certificate with its key (certctl "
			    "upload DOMAIN --server new.pem --key new.key): "
			    "certd reloads the services." : "Get the CA's "
			    "current certificate: serve it (an intermediate) "
			    "or import it into the trust store (a root).",
			    "%s %s expired on %s, %s ago (Java: \"PKIX path "
			    "validation failed: validity check failed\", before "
			    "Java 11 \"timestamp check failed\"; OpenSSL: "
			    "\"certificate has expired\").",
			    path_role(d, k), n, date, ago);
		} else if (nb > in->now) {
			cert_date(X509_get0_notBefore(d->path[k]), date,
			    sizeof(date));
			span(nb - in->now, ago, sizeof(ago));
			diag_add(d, "not-yet-valid", 1, "Check the clocks "
			    "(date -u) of the client, the server and the "
			    "machine that issued it: a certificate dated in "
			    "the future comes from a clock that runs ahead.",
			    "%s %s is valid only from %s, in %s (OpenSSL: "
			    "\"certificate is not yet valid\").",
			    path_role(d, k), n, date, ago);
		}
		free(n);
	}
}

static int
weak_key(X509 *x, char *desc, size_t size)
{
	EVP_PKEY	*k = X509_get0_pubkey(x);
	int		 id, bits;

	if (k == NULL)
		return 0;
	key_describe(k, desc, size);
	id = EVP_PKEY_get_base_id(k);
	bits = EVP_PKEY_get_bits(k);
	if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS)
		return bits < 2048;
	if (id == EVP_PKEY_EC)
		return bits < 256;
	return id == EVP_PKEY_DSA || id == EVP_PKEY_DH;
}

static void
judge_strength(const struct diag_input *in, struct diagnosis *d)
{
	char	 desc[64], *n;
	size_t	 k;
	int	 md, secbits;

	for (k = 0; k < d->npath; k++) {
		n = names_of(d->path[k]);
		if (weak_key(d->path[k], desc, sizeof(desc)))
			diag_add(d, "weak-key", 1, "Make a new key and "
			    "certificate: RSA of 2048 bits or more, or EC "
			    "P-256 (what certctl gen-cert makes).",
			    "%s %s has a weak key: %s.  OpenSSL at security level "
			    "2 (Debian's default) and browsers refuse RSA "
			    "keys under 2048 bits and EC keys under 256 "
			    "(OpenSSL: \"%s\").", path_role(d, k), n, desc,
			    X509_verify_cert_error_string(k == 0 ?
			    X509_V_ERR_EE_KEY_TOO_SMALL :
			    X509_V_ERR_CA_KEY_TOO_SMALL));
		/* A root's own signature is never checked: it is trusted. */
		if (!cert_self_signed(d->path[k]) &&
		    X509_get_signature_info(d->path[k], &md, NULL, &secbits,
		    NULL) == 1 && secbits < 112)
			diag_add(d, "weak-signature", 1, "Have it re-issued "
			    "with a SHA-256 signature.",
			    "%s %s is signed with %s.  SHA-1 and MD5 "
			    "signatures are refused by browsers, by OpenSSL at "
			    "security level 2 (\"%s\") and by Java for chains "
			    "to the CAs it ships.", path_role(d, k), n,
			    OBJ_nid2ln(X509_get_signature_nid(d->path[k])),
			    X509_verify_cert_error_string(
			    X509_V_ERR_CA_MD_TOO_WEAK));
		free(n);
	}
}

/* --- OpenSSL's verdict ---------------------------------------------------- */

struct verify_seen {
	int	 err[16];
	int	 depth[16];
	size_t	 n;
};

static int
verify_cb(int ok, X509_STORE_CTX *ctx)
{
	struct verify_seen	*s;
	size_t			 i;
	int			 e = X509_STORE_CTX_get_error(ctx);

	if (ok)
		return 1;
	s = X509_STORE_CTX_get_app_data(ctx);
	for (i = 0; i < s->n; i++)
		if (s->err[i] == e)
			return 1;
	if (s->n < nitems(s->err)) {
		s->err[s->n] = e;
		s->depth[s->n++] = X509_STORE_CTX_get_error_depth(ctx);
	}
	return 1;	/* go on: collect every complaint */
}

/* What the path walk above already explains in its own words. */
static int
explained(int e)
{
	switch (e) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
		return 1;
	default:
		return 0;
	}
}

static const char *
verify_words(int e)
{
	switch (e) {
	case X509_V_ERR_INVALID_CA:
		return "it is used as a CA but is not one (basicConstraints "
		    "CA:TRUE is missing)";
	case X509_V_ERR_INVALID_PURPOSE:
		return "its extendedKeyUsage does not allow TLS servers "
		    "(serverAuth is missing)";
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
		return "it is a CA whose keyUsage lacks keyCertSign";
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
		return "a pathLenConstraint above it forbids this many "
		    "intermediates";
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return "its signature does not verify: the file is damaged";
	default:
		return X509_verify_cert_error_string(e);
	}
}

static void
judge_openssl(const struct diag_input *in, struct diagnosis *d)
{
	struct verify_seen	 seen = { .n = 0 };
	X509_STORE		*store = NULL;
	X509_STORE_CTX		*ctx = NULL;
	X509_VERIFY_PARAM	*vp;
	STACK_OF(X509)		*untrusted = NULL, *chain;
	X509			*at;
	size_t			 i;
	char			*n;
	int			 mine = diag_fatal(d) > 0;

	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    (untrusted = sk_X509_dup(in->served)) == NULL)
		fatalx("out of memory");
	for (i = 0; i < in->nanchors; i++)
		X509_STORE_add_cert(store, in->anchors[i]);
	(void)sk_X509_shift(untrusted);
	if (!X509_STORE_CTX_init(ctx, store, served(in, 0), untrusted))
		fatalx("X509_STORE_CTX_init failed");
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_time(vp, in->now);
	X509_VERIFY_PARAM_set_auth_level(vp, 2);
	X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set_hostflags(vp,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, in->name) != 1)
		X509_VERIFY_PARAM_set1_host(vp, in->name, 0);
	X509_STORE_CTX_set_app_data(ctx, &seen);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	(void)X509_verify_cert(ctx);
	chain = X509_STORE_CTX_get0_chain(ctx);
	for (i = 0; i < seen.n; i++) {
		if (explained(seen.err[i]) && mine)
			continue;
		at = chain != NULL && seen.depth[i] < sk_X509_num(chain) ?
		    sk_X509_value(chain, seen.depth[i]) : served(in, 0);
		n = names_of(at);
		diag_add(d, "verifier", 1, "Have the certificate re-issued "
		    "without that defect.", "OpenSSL's verifier (what curl "
		    "and other OpenSSL clients run) refuses %s: %s (error "
		    "%d).", n, verify_words(seen.err[i]), seen.err[i]);
		free(n);
	}
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
}

int
diagnose(const struct diag_input *in, struct diagnosis *d)
{
	if (in->served == NULL || sk_X509_num(in->served) == 0)
		return -1;
	d->nserved = (size_t)sk_X509_num(in->served);
	if (d->nserved > DIAG_SERVED_MAX)
		d->nserved = DIAG_SERVED_MAX;
	build_path(in, d);
	assign_roles(in, d);
	judge_order(in, d);
	judge_extras(in, d);
	judge_name(in, d);
	judge_dates(in, d);
	judge_strength(in, d);
	judge_openssl(in, d);
	return 0;
}

/*
 * tls.c: the TLS side of the control API (see tls.h): the server context
 * and the identity of a verified client.  control.c serves the
 * connections; this file decides what a handshake accepts.
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "log.h"
#include "tls.h"
#include "util.h"

/* TLS 1.2: forward secrecy and AEAD only; TLS 1.3 has nothing else. */
#define TLS12_CIPHERS	"ECDHE-ECDSA-AES256-GCM-SHA384:" \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:" \
	"ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:" \
	"ECDHE-RSA-AES128-GCM-SHA256"
#define TLS13_SUITES	"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:" \
	"TLS_AES_128_GCM_SHA256"
#define TLS_GROUPS	"X25519:P-256:P-384"
#define TLS_VERIFY_DEPTH 4	/* client, intermediates, root */
#define REFUSALS_LOGGED	10	/* a minute; then one line says how many */

/* OpenSSL's reason for the last failure, for a config error. */
static const char *
ssl_reason(void)
{
	unsigned long	 e = ERR_peek_last_error();
	const char	*r = e != 0 ? ERR_reason_error_string(e) : NULL;

	return r != NULL ? r : "not a PEM file OpenSSL can read";
}

/* Did OpenSSL just refuse a key for not being the certificate's? */
static int
key_mismatch(void)
{
	int	 r = ERR_GET_REASON(ERR_peek_last_error());

	return r == X509_R_KEY_VALUES_MISMATCH || r == X509_R_KEY_TYPE_MISMATCH;
}

static SSL_CTX *
ctx_fail(SSL_CTX *ctx, int *line, int at, char *err, size_t errlen,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static SSL_CTX *
ctx_fail(SSL_CTX *ctx, int *line, int at, char *err, size_t errlen,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	*line = at;
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

/* A handshake certd refused: who and why, at most REFUSALS_LOGGED lines
 * a minute (a scanner must not fill the journal). */
static void
log_refusal(const SSL *ssl, int alert)
{
	static time_t		 minute;
	static unsigned		 n, quiet;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
	long			 v = SSL_get_verify_result(ssl);
	time_t			 now = time(NULL) / 60;

	if (now != minute) {
		if (quiet > 0)
			log_warnx("tls: %u more handshakes refused in the last "
			    "minute", quiet);
		minute = now;
		n = quiet = 0;
	}
	if (n++ >= REFUSALS_LOGGED) {
		quiet++;
		return;
	}
	if (getpeername(SSL_get_fd(ssl), (struct sockaddr *)&ss, &len) == 0)
		getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host),
		    port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	/* OpenSSL 3.0 has no name for TLS 1.3's certificate_required. */
	log_warnx("tls: refused %s port %s: %s%s%s", host, port, alert ==
	    TLS13_AD_CERTIFICATE_REQUIRED ? "no client certificate" :
	    SSL_alert_desc_string_long(alert), v != X509_V_OK ?
	    ": " : "", v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
}

static void
info_cb(const SSL *ssl, int where, int ret)
{
	/* A fatal alert certd sends in a handshake ends one it refused. */
	if ((where & SSL_CB_WRITE) && (where & SSL_CB_ALERT) &&
	    (ret >> 8) == SSL3_AL_FATAL && !SSL_is_init_finished(ssl))
		log_refusal(ssl, ret & 0xff);
}

/* Every CRL of the store must come from one of its CAs. */
static const char *
crl_issuers(X509_STORE *st)
{
	STACK_OF(X509_OBJECT)	*objs = X509_STORE_get0_objects(st);
	X509_OBJECT		*o, *ca;
	X509_CRL		*crl;
	EVP_PKEY		*pub;
	int			 i, j, ok, ncrl = 0;

	for (i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		o = sk_X509_OBJECT_value(objs, i);
		if ((crl = X509_OBJECT_get0_X509_CRL(o)) == NULL)
			continue;
		ncrl++;
		for (j = 0, ok = 0; j < sk_X509_OBJECT_num(objs) && !ok; j++) {
			ca = sk_X509_OBJECT_value(objs, j);
			if (X509_OBJECT_get0_X509(ca) == NULL ||
			    X509_NAME_cmp(X509_get_subject_name(
			    X509_OBJECT_get0_X509(ca)),
			    X509_CRL_get_issuer(crl)) != 0)
				continue;
			pub = X509_get0_pubkey(X509_OBJECT_get0_X509(ca));
			ok = pub != NULL && X509_CRL_verify(crl, pub) == 1;
		}
		if (!ok)
			return "a CRL in it is not signed by any certificate of "
			    "client_ca";
	}
	return ncrl == 0 ? "no CRL in it" : NULL;
}

/* The client CAs (and CRLs) into ctx; NULL or what is wrong. */
static SSL_CTX *
ctx_trust(SSL_CTX *ctx, const struct tls_files *f, int *line, char *err,
    size_t errlen)
{
	STACK_OF(X509_NAME)	*names;
	X509_STORE		*st = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP		*lu;
	const char		*why;

	if (SSL_CTX_load_verify_locations(ctx, f->ca, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(f->ca)) == NULL)
		return ctx_fail(ctx, line, f->ca_line, err, errlen, "client_ca: "
		    "%s: no CA certificate read (%s)", f->ca, ssl_reason());
	/* Named in the CertificateRequest: a client with several
	 * certificates picks one of these CAs'. */
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);
	if (f->crl == NULL)
		return ctx;
	if ((lu = X509_STORE_add_lookup(st, X509_LOOKUP_file())) == NULL ||
	    X509_load_crl_file(lu, f->crl, X509_FILETYPE_PEM) <= 0)
		return ctx_fail(ctx, line, f->crl_line, err, errlen, "client_crl:"
		    " %s: no CRL read (%s)", f->crl, ssl_reason());
	if ((why = crl_issuers(st)) != NULL)
		return ctx_fail(ctx, line, f->crl_line, err, errlen,
		    "client_crl: %s: %s", f->crl, why);
	/* The client's own certificate; its CA's is not asked for. */
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	return ctx;
}

SSL_CTX *
tls_server_ctx(const struct tls_files *f, int *line, char *err,
    size_t errlen)
{
	SSL_CTX	*ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return ctx_fail(NULL, line, f->cert_line, err, errlen,
		    "tls_cert: cannot make a TLS context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/*
	 * Every connection verifies its client in full (no resumption, so
	 * a CRL or client_ca change applies to the next connection), may
	 * not renegotiate, and leaves no decrypted request (a key) in
	 * OpenSSL's buffers.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
	    SSL_OP_CLEANSE_PLAINTEXT);
	/* HTTP bodies have a length: a client that closes without
	 * close_notify after its answer is done, not attacking. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1)
		return ctx_fail(ctx, line, f->cert_line, err, errlen,
		    "tls_cert: cannot set the cipher suites");
	SSL_CTX_set_info_callback(ctx, info_cb);
	if (SSL_CTX_use_certificate_chain_file(ctx, f->cert) != 1)
		return ctx_fail(ctx, line, f->cert_line, err, errlen, "tls_cert:"
		    " %s: %s", f->cert, ssl_reason());
	if (SSL_CTX_use_PrivateKey_file(ctx, f->key, SSL_FILETYPE_PEM) != 1 &&
	    !key_mismatch())
		return ctx_fail(ctx, line, f->key_line, err, errlen, "tls_key: "
		    "%s: %s (a PEM key without a passphrase)", f->key,
		    ssl_reason());
	if (key_mismatch() || SSL_CTX_check_private_key(ctx) != 1)
		return ctx_fail(ctx, line, f->key_line, err, errlen, "tls_key: "
		    "%s is not the key of tls_cert %s", f->key, f->cert);
	return ctx_trust(ctx, f, line, err, errlen);
}

/* Does x have subjectAltName entry type:value ("DNS" folded)? */
static int
has_san(X509 *x, int type, const char *value)
{
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*g;
	const unsigned char	*s;
	int			 i, len, found = 0;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && !found; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != type)
			continue;
		s = ASN1_STRING_get0_data(g->d.ia5);
		len = ASN1_STRING_length(g->d.ia5);
		if ((size_t)len != strlen(value) || memchr(s, '\0', len))
			continue;
		found = type == GEN_DNS ? strncasecmp((const char *)s, value,
		    len) == 0 : memcmp(s, value, len) == 0;
	}
	GENERAL_NAMES_free(gens);
	return found;
}

const char *
tls_allow_entry_error(const char *s)
{
	if (*s == '\0')
		return "empty";
	if ((strncasecmp(s, "DNS:", 4) == 0 || strncasecmp(s, "URI:", 4) == 0) &&
	    s[4] == '\0')
		return "a DNS: or URI: entry needs the name after the colon";
	if (strchr(s, '=') == NULL && strncasecmp(s, "DNS:", 4) != 0 &&
	    strncasecmp(s, "URI:", 4) != 0)
		return "neither a subject (CN=...,O=...) nor DNS:NAME or "
		    "URI:URI";
	return NULL;
}

int
tls_client(SSL *ssl, char *const *allow, char *who, size_t size)
{
	X509	*x = SSL_get0_peer_certificate(ssl);
	char	*subject;
	size_t	 i;
	int	 ok = 0;

	if (x == NULL || SSL_get_verify_result(ssl) != X509_V_OK) {
		strlcpy(who, "(unverified client)", size);
		return 0;
	}
	subject = cert_subject_or(x);
	strlcpy(who, subject, size);
	for (i = 0; allow != NULL && allow[i] != NULL && !ok; i++) {
		if (strncasecmp(allow[i], "DNS:", 4) == 0)
			ok = has_san(x, GEN_DNS, allow[i] + 4);
		else if (strncasecmp(allow[i], "URI:", 4) == 0)
			ok = has_san(x, GEN_URI, allow[i] + 4);
		else
			ok = strcmp(allow[i], subject) == 0;
	}
	free(subject);
	return ok;
}

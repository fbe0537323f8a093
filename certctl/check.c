/*
 * check.c: certctl check: connect to a server as a client would, fetch the
 * chain it serves, and say in plain words whether a client with a given
 * trust store connects, and if not, why and what to change.  Needs no
 * daemon, except with --domain, which compares the served certificate
 * with what certd committed.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "cert.h"
#include "certctl.h"
#include "diagnose.h"
#include "log.h"
#include "pem.h"
#include "util.h"

#define CHECK_TIMEOUT		10	/* seconds, unless -t */
#define STATE_DIR_DEFAULT	"/var/lib/certd"
#define SYSTEM_CA_FILE		"/etc/ssl/certs/ca-certificates.crt"
#define WRAP			78

const char check_synopsis[] =
"check HOST[:PORT] [--name NAME] [--ca FILE] [--domain DOMAIN] [--save FILE]\n"
"       check HOST[:PORT] [--name NAME] --truststore FILE [--storepass PASS]";

const char check_help[] =
"	Connect to HOST (port 443 unless given; an IPv6 address goes in\n"
"	brackets) with TLS 1.2 or 1.3, as a client would, and tell whether a\n"
"	client with the given trust store would connect; if not, why, and\n"
"	what to change.  It needs no daemon (but for --domain).\n"
"\n"
"	It prints each certificate the server sends (owner, issuer,\n"
"	validity, subjectAltName, key type and size, signature algorithm,\n"
"	SHA-256), the path from the server certificate up to a root,\n"
"	whether the chain is complete and in order, then the verdict, OK or\n"
"	FAIL, and each problem with its cause and its fix: an intermediate\n"
"	missing from the served chain; a chain out of order; a root served\n"
"	for nothing; a certificate that is not part of the chain; a name\n"
"	the certificate does not cover, an IP address without an IP\n"
"	subjectAltName, a name only in the subject CN (browsers refuse it);\n"
"	a certificate expired or not yet valid, with its dates; a root the\n"
"	trust store does not hold, a self-signed server certificate; RSA\n"
"	keys under 2048 bits, EC under 256, SHA-1 or MD5 signatures; what\n"
"	else OpenSSL's verifier refuses (a missing CA flag or serverAuth);\n"
"	weak DH key exchange; a trust store in which Java finds no anchor;\n"
"	with --domain, a server still sending another certificate than the\n"
"	one certd committed (a reload that did not happen).\n"
"\n"
"	--name NAME: the name a client asks for, sent as SNI and matched\n"
"	against the certificate (default HOST).  An IP address is matched\n"
"	against the certificate's IP entries, and sent without SNI.\n"
"\n"
"	--ca FILE: trust the certificates of FILE (PEM or DER, one or\n"
"	many), as curl --cacert does.  Default: the system trust store\n"
"	(" SYSTEM_CA_FILE ", or $SSL_CERT_FILE).\n"
"\n"
"	--truststore FILE: trust what Java trusts in the JKS or PKCS#12\n"
"	file FILE, told by its bytes, not its name: trusted-certificate\n"
"	entries and the certificates of key entries.  A PKCS#12\n"
"	certificate without Java's trusted attribute is ignored, as Java\n"
"	ignores it.  --storepass PASS checks the store's integrity (JKS\n"
"	digest, PKCS#12 MAC) and reads encrypted certificates, as\n"
"	javax.net.ssl.trustStorePassword does; without it, a JKS is read\n"
"	unchecked and an encrypted PKCS#12 yields no anchor: what Java\n"
"	does.\n"
"\n"
"	--domain DOMAIN: the server should send what certd committed for\n"
"	DOMAIN.  The served certificate is compared with certd's (from its\n"
"	status; if certd does not answer, from DIR/domains/DOMAIN/current/\n"
"	cert.pem), and unless --ca or --truststore is given, the trust\n"
"	store is DOMAIN's root, DIR/domains/DOMAIN/current/root.pem.  DIR\n"
"	is certd's state_dir: --state-dir DIR, else $CERTD_STATE_DIR, else\n"
"	" STATE_DIR_DEFAULT ".\n"
"\n"
"	--save FILE writes the certificates the server sends to FILE, PEM,\n"
"	as served (never over an existing file): what the runbooks fetch\n"
"	with a browser's export or openssl s_client -showcerts, to import\n"
"	into a trust store, once check shows whose they are.\n"
"\n"
"	--json prints one object: the connection, the trust store, the\n"
"	served certificates, the path, and the problems, each with code,\n"
"	fatal, cause and fix.  The global -t SECONDS bounds the connection\n"
"	and the handshake (default 10).\n"
"\n"
"	Exit status: 0 a client with this trust store connects (problems\n"
"	that do not stop it are listed as worth fixing); 1 it does not, or\n"
"	the server cannot be reached, or --save cannot write; 2 usage, or a\n"
"	trust store that cannot be read (a wrong password is told as such);\n"
"	3 with --domain, when neither certd nor current/cert.pem answers.\n"
"\n"
"	Examples:\n"
"	certctl check www.example.com\n"
"	certctl check 10.0.0.5:8443 --name www.example.com --ca root.pem\n"
"	certctl check www.example.com --truststore cacerts --storepass changeit\n"
"	certctl check 127.0.0.1 --name www.example.com --domain example.com\n";

struct check {
	struct ctl		*c;
	struct args		*a;
	char			 host[256];
	char			 port[8];
	const char		*name;		/* checked against the cert */
	const char		*sni;
	char			 store_path[PATH_MAX];
	char			 store_desc[PATH_MAX + 64];
	struct file_contents	 store;
	X509			**anchors;
	size_t			 nanchors;
	struct tls_peer		 peer;
	int			 connected;
	struct diagnosis	 d;
	char			 committed[65];	/* --domain: certd's leaf */
	long long		 generation;
	time_t			 now;
};

/* HOST, HOST:PORT, [V6] or [V6]:PORT; a bare IPv6 address has no port. */
static int
parse_target(struct check *k, const char *s)
{
	const char	*colon, *end;
	size_t		 hlen;
	long		 port;
	char		*e;

	strlcpy(k->port, "443", sizeof(k->port));
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		hlen = (size_t)(end - s - 1);
		s++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;		/* IPv6 */
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0 || hlen >= sizeof(k->host))
		return -1;
	memcpy(k->host, s, hlen);
	k->host[hlen] = '\0';
	if (colon == NULL)
		return 0;
	port = strtol(colon + 1, &e, 10);
	if (colon[1] == '\0' || *e != '\0' || port < 1 || port > 65535)
		return -1;
	snprintf(k->port, sizeof(k->port), "%ld", port);
	return 0;
}

static const char *
state_dir(const struct args *a)
{
	const char	*s;

	if (a->state_dir != NULL)
		return a->state_dir;
	if ((s = getenv("CERTD_STATE_DIR")) != NULL && *s != '\0')
		return s;
	return STATE_DIR_DEFAULT;
}

static void
system_store(char *path, size_t size)
{
	const char	*s = getenv(X509_get_default_cert_file_env());
	struct stat	 st;

	if (s == NULL || *s == '\0')
		s = X509_get_default_cert_file();
	if (stat(s, &st) == -1)
		s = SYSTEM_CA_FILE;
	strlcpy(path, s, size);
}

/* Which store, read; the anchors listed.  An exit code, or -1 to go on. */
static int
load_store(struct check *k)
{
	struct args	*a = k->a;
	const char	*file = a->truststore != NULL ? a->truststore : a->ca;
	char		 err[512];
	size_t		 i;

	if (file != NULL) {
		strlcpy(k->store_path, file, sizeof(k->store_path));
	} else if (a->for_domain != NULL) {
		snprintf(k->store_path, sizeof(k->store_path),
		    "%s/domains/%s/current/root.pem", state_dir(a),
		    a->for_domain);
	} else
		system_store(k->store_path, sizeof(k->store_path));
	if (files_read(k->store_path, a->storepass, &k->store, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "certctl: %s: %s\n", k->store_path, err);
		return EXIT_USAGE;
	}
	if (file != NULL)
		snprintf(k->store_desc, sizeof(k->store_desc), "the %s trust "
		    "store %s", files_kind_name(k->store.kind), file);
	else if (a->for_domain != NULL)
		snprintf(k->store_desc, sizeof(k->store_desc), "certd's root "
		    "for %s (%s)", a->for_domain, k->store_path);
	else
		snprintf(k->store_desc, sizeof(k->store_desc), "the system "
		    "trust store (%s)", k->store_path);
	k->anchors = xcalloc(k->store.ncerts + 1, sizeof(*k->anchors));
	for (i = 0; i < k->store.ncerts; i++)
		if (k->store.certs[i].anchor)
			k->anchors[k->nanchors++] = k->store.certs[i].cert;
	return -1;
}

/* What a Java client would make of the store itself. */
static void
judge_store(struct check *k)
{
	const char	*f = k->a->truststore, *ext;
	size_t		 ignored = k->store.ncerts - k->nanchors;

	if (k->store.locked)
		diag_add(&k->d, "no-anchors", 1, "Give the client the store's "
		    "password (javax.net.ssl.trustStorePassword; here "
		    "--storepass), or use certd's truststore.p12, whose "
		    "certificates are not encrypted.", "The certificates of %s "
		    "are encrypted, and no password was given: Java without "
		    "javax.net.ssl.trustStorePassword finds no trust anchor in "
		    "it (\"the trustAnchors parameter must be non-empty\").",
		    k->store_desc);
	else if (k->nanchors == 0)
		diag_add(&k->d, "no-anchors", 1, "Make the store with keytool "
		    "-importcert, or use certd's truststore.jks or "
		    "truststore.p12.", "No trust anchor in %s: a client trusts "
		    "nothing with it (Java: \"the trustAnchors parameter must "
		    "be non-empty\").", k->store_desc);
	if (ignored > 0)
		diag_add(&k->d, "ignored-entries", 0, "Make the store with "
		    "keytool -importcert, or use certd's truststore.p12, whose "
		    "certificates carry the attribute.", "%zu certificate%s "
		    "of %s lack%s Java's trusted-certificate attribute, so "
		    "Java ignores %s (OpenSSL 3.0's pkcs12 -export -nokeys "
		    "writes such files).", ignored, ignored == 1 ? "" : "s",
		    k->store_desc, ignored == 1 ? "s" : "", ignored == 1 ?
		    "it" : "them");
	if (f == NULL)
		return;
	ext = strrchr(f, '.');
	if (k->store.kind == FILE_PEM || k->store.kind == FILE_DER)
		diag_add(&k->d, "store-type", 1, "Make a JKS or PKCS#12 store "
		    "(certd writes truststore.jks and truststore.p12; or "
		    "keytool -importcert -file root.pem -keystore store.p12).",
		    "%s is a %s file, not a keystore: Java cannot use it as "
		    "javax.net.ssl.trustStore.", f,
		    files_kind_name(k->store.kind));
	else if (ext != NULL && ((k->store.kind == FILE_JKS &&
	    strcasecmp(ext, ".jks") != 0) || (k->store.kind == FILE_PKCS12 &&
	    strcasecmp(ext, ".jks") == 0)))
		diag_add(&k->d, "store-type", 0, "Name the file after its "
		    "type, and give Java the matching trustStoreType.",
		    "%s is a %s file despite its name (keytool writes PKCS#12 "
		    "unless told -storetype JKS).  Java 17 reads either type "
		    "under either name, but other tools may not.", f,
		    files_kind_name(k->store.kind));
}

/* certd's committed leaf for --domain: its status, else current/. */
static int
load_committed(struct check *k)
{
	struct ctl		 q = *k->c;
	struct file_contents	 fc;
	json_t			*ans, *d, *srv;
	char			 path[PATH_MAX], err[512];
	size_t			 i;
	int			 rc;

	q.json = 0;
	if ((rc = ctl_request(&q, "GET", API_STATUS, NULL, &ans)) == 0) {
		json_array_foreach(json_object_get(ans, "domains"), i, d) {
			srv = json_object_get(d, "server");
			if (strcmp(jstr(d, "domain", ""), k->a->for_domain) ==
			    0 && json_is_object(srv)) {
				strlcpy(k->committed, jstr(srv, "sha256", ""),
				    sizeof(k->committed));
				k->generation = jint(d, "generation", 0);
			}
		}
		json_decref(ans);
		if (k->committed[0] != '\0')
			return -1;
		fprintf(stderr, "certctl: certd has committed no server "
		    "certificate for %s\n", k->a->for_domain);
		return EXIT_REJECTED;
	}
	snprintf(path, sizeof(path), "%s/domains/%s/current/cert.pem",
	    state_dir(k->a), k->a->for_domain);
	if (files_read(path, NULL, &fc, err, sizeof(err)) == -1 ||
	    fc.ncerts == 0) {
		fprintf(stderr, "certctl: %s: %s\n", path, fc.ncerts == 0 &&
		    err[0] == '\0' ? "no certificate" : err);
		files_free(&fc);
		return rc;
	}
	fprintf(stderr, "certctl: comparing with %s instead\n", path);
	cert_sha256(fc.certs[0].cert, k->committed);
	files_free(&fc);
	return -1;
}

static void
judge_committed(struct check *k)
{
	X509	*leaf = sk_X509_value(k->peer.chain, 0);
	char	 hex[65], fs[200], fc[200], gen[64] = "";
	char	*subj;

	cert_sha256(leaf, hex);
	if (strcmp(hex, k->committed) == 0)
		return;
	fmt_fingerprint(hex, fs, sizeof(fs));
	fmt_fingerprint(k->committed, fc, sizeof(fc));
	if (k->generation > 0)
		snprintf(gen, sizeof(gen), " in generation %lld",
		    k->generation);
	subj = describe_name(leaf);
	diag_add(&k->d, "stale", 1, "Run certctl reload (DOMAIN's "
	    "dependents: configtest, reload, verify), or point the service "
	    "at certd's files (Apache: Include STATE/domains/DOMAIN/current/"
	    "apache-ssl.conf) and reload it.", "The server sends \"%s\" "
	    "(SHA-256 %s), not the certificate certd committed for %s%s "
	    "(SHA-256 %s): the service was not reloaded after the commit, "
	    "or it reads other files than certd's.", subj, fs,
	    k->a->for_domain, gen, fc);
	free(subj);
}

static void
judge_handshake(struct check *k)
{
	if (k->peer.dh_bits > 0 && k->peer.dh_bits < 2048)
		diag_add(&k->d, "weak-dh", 1, "Prefer ECDHE key exchange "
		    "(Apache: SSLCipherSuite with ECDHE first), or DH "
		    "parameters of 2048 bits or more.", "The key exchange "
		    "uses %d-bit Diffie-Hellman.  curl and other OpenSSL "
		    "clients at security level 2 (Debian's default) refuse it "
		    "(\"dh key too small\"), Java under 1024 bits "
		    "(\"DHPublicKey does not comply to algorithm "
		    "constraints\").", k->peer.dh_bits);
	if (k->peer.client_cert)
		diag_add(&k->d, "client-certificate", 0, "Give the client a "
		    "certificate, or make it optional on the server "
		    "(Apache: SSLVerifyClient optional or none).",
		    "The server asks for a client certificate.  certctl sent "
		    "none and the handshake went on; a server that requires "
		    "one refuses clients that have none.");
}

/* --save: the served chain as PEM, in a new file. */
static int
save_chain(const struct check *k)
{
	FILE	*f;
	char	*pem;
	int	 fd, i, ok = 1;

	if ((fd = open(k->a->save, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "certctl: cannot write %s: %s\n", k->a->save,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return EXIT_REJECTED;
	}
	for (i = 0; i < sk_X509_num(k->peer.chain); i++) {
		if ((pem = pem_encode_cert(sk_X509_value(k->peer.chain, i),
		    NULL)) == NULL || fputs(pem, f) == EOF)
			ok = 0;
		free(pem);
	}
	if (fclose(f) == EOF || !ok) {
		fprintf(stderr, "certctl: cannot write %s\n", k->a->save);
		return EXIT_REJECTED;
	}
	return 0;
}

static void
run_check(struct check *k)
{
	struct diag_input	 in;
	char			 err[512];
	int			 secs, rc;

	secs = k->c->timeout_set ? k->c->timeout : CHECK_TIMEOUT;
	if ((rc = tls_fetch(k->host, k->port, k->sni, secs, &k->peer, err,
	    sizeof(err))) != 0) {
		diag_add(&k->d, "connect", 1, rc == -1 ? "Check that the "
		    "server runs and listens on that address and port, and "
		    "that no firewall or proxy is in the way." : "Compare "
		    "the server's TLS settings (protocols, ciphers, names, "
		    "client certificates) with what clients offer: TLS 1.2 "
		    "or 1.3, the name sent as SNI.", "%s.", err);
		return;
	}
	k->connected = 1;
	in.served = k->peer.chain;
	in.anchors = k->anchors;
	in.nanchors = k->nanchors;
	in.store = k->store_desc;
	in.name = k->name;
	in.now = k->now;
	judge_store(k);		/* a store Java finds empty: say so first */
	(void)diagnose(&in, &k->d);
	judge_handshake(k);
	if (k->committed[0] != '\0')
		judge_committed(k);
}

/* --- output --------------------------------------------------------------- */

/* text folded at WRAP columns: first before the first line, indent before
 * the others. */
static void
print_wrapped(FILE *f, const char *first, const char *indent,
    const char *text)
{
	const char	*p = text, *brk, *q;
	size_t		 col, room;

	fputs(first, f);
	col = strlen(first);
	while (*p != '\0') {
		room = col < WRAP - 20 ? WRAP - col : 20;
		if (strlen(p) <= room) {
			fprintf(f, "%s\n", p);
			return;
		}
		brk = NULL;
		for (q = p; q < p + room && *q != '\0'; q++)
			if (*q == ' ')
				brk = q;
		if (brk == NULL && (brk = strchr(p + room, ' ')) == NULL) {
			fprintf(f, "%s\n", p);
			return;
		}
		for (q = brk; q > p && q[-1] == ' '; q--)
			;
		fprintf(f, "%.*s\n%s", (int)(q - p), p, indent);
		col = strlen(indent);
		p = brk;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

static void
print_store(FILE *f, const struct check *k)
{
	const struct file_contents	*s = &k->store;
	size_t				 i, o = 0;
	char				 names[256] = "";

	/* Aliases, when few enough to read: a store's own names. */
	for (i = 0; k->nanchors <= 8 && i < s->ncerts && o < sizeof(names);
	    i++)
		if (s->certs[i].anchor && s->certs[i].alias != NULL)
			o += snprintf(names + o, sizeof(names) - o, "%s%s",
			    o ? ", " : " (", s->certs[i].alias);
	if (o > 0 && o < sizeof(names) - 1)
		snprintf(names + o, sizeof(names) - o, ")");
	fprintf(f, "Trust store: %s, %zu trust anchor%s%s", k->store_desc,
	    k->nanchors, k->nanchors == 1 ? "" : "s", names);
	if (s->kind == FILE_JKS || s->kind == FILE_PKCS12)
		fprintf(f, "; %s %s", s->kind == FILE_JKS ? "digest" : "MAC",
		    s->checked ? "checked" : "not checked (no --storepass)");
	fputc('\n', f);
}

static void
print_chain(FILE *f, const struct check *k)
{
	const struct diagnosis	*d = &k->d;
	size_t			 i;
	char			*n;

	fprintf(f, "\nThe server sends %zu certificate%s:\n", d->nserved,
	    d->nserved == 1 ? "" : "s");
	for (i = 0; i < d->nserved; i++) {
		fprintf(f, "[%zu] %s\n", i, diag_role_name(d->role[i]));
		describe_cert(f, sk_X509_value(k->peer.chain, (int)i), "    ",
		    k->now);
	}
	fprintf(f, "\nPath:");
	for (i = 0; i < d->npath; i++) {
		n = describe_name(d->path[i]);
		if (d->served_at[i] >= 0)
			fprintf(f, "%s [%d] \"%s\"", i ? " <-" : "",
			    d->served_at[i], n);
		else
			fprintf(f, "%s \"%s\"", i ? " <-" : "", n);
		if (d->anchor[i])
			fprintf(f, " (trust store)");
		free(n);
	}
	fprintf(f, "\nChain: %s, %s; %s.\n", d->complete ? "complete" :
	    "incomplete", d->in_order ? "in order" : "out of order",
	    d->trusted ? "reaches a trust anchor" : "reaches no trust anchor");
}

static void
print_problems(FILE *f, const struct check *k, int fatal)
{
	const struct diag_problem	*p;
	size_t				 i;
	char				 first[64];

	for (i = 0; i < k->d.np; i++) {
		p = &k->d.p[i];
		if (p->fatal != fatal)
			continue;
		snprintf(first, sizeof(first), "  - %s: ", p->code);
		print_wrapped(f, first, "    ", p->cause);
		if (*p->fix != '\0')
			print_wrapped(f, "    Fix: ", "    ", p->fix);
	}
}

/* A stale leaf still verifies: its verdict is its own. */
static void
print_verdict(FILE *f, const struct check *k, int nfatal)
{
	size_t	 i;
	int	 stale = 0;

	for (i = 0; i < k->d.np; i++)
		if (strcmp(k->d.p[i].code, "stale") == 0)
			stale = 1;
	if (stale)
		fprintf(f, "FAIL: the server does not send what certd "
		    "committed for %s.\n", k->a->for_domain);
	if (nfatal > stale)
		fprintf(f, "FAIL: a client with this trust store does not "
		    "connect to %s.\n", k->name);
	else if (!stale)
		fprintf(f, "OK: a client with this trust store connects to "
		    "%s.\n", k->name);
}

static void
print_report(FILE *f, const struct check *k)
{
	int	 nfatal = diag_fatal(&k->d);

	fprintf(f, "Checking %s port %s as a client asking for %s%s\n",
	    k->host, k->port, k->name, k->sni == NULL ? " (no SNI)" : "");
	if (k->connected) {
		fprintf(f, "Connected to %s: %s, %s", k->peer.addr,
		    k->peer.protocol, k->peer.cipher);
		if (k->peer.kex[0] != '\0')
			fprintf(f, ", key exchange %s", k->peer.kex);
		fputc('\n', f);
	}
	print_store(f, k);
	if (k->connected)
		print_chain(f, k);
	fputc('\n', f);
	print_verdict(f, k, nfatal);
	print_problems(f, k, 1);
	if ((size_t)nfatal < k->d.np) {
		fprintf(f, "%s\n", nfatal > 0 ? "Also worth fixing:" :
		    "Worth fixing:");
		print_problems(f, k, 0);
	}
}

static json_t *
report_json(const struct check *k)
{
	const struct diagnosis	*d = &k->d;
	json_t			*o, *served, *path, *probs, *x;
	char			 hex[65], *subj;
	size_t			 i;

	served = json_array();
	path = json_array();
	probs = json_array();
	for (i = 0; k->connected && i < d->nserved; i++) {
		x = describe_cert_json(sk_X509_value(k->peer.chain, (int)i),
		    k->now);
		json_object_set_new(x, "role", json_string(diag_role_name(
		    d->role[i])));
		json_array_append_new(served, x);
	}
	for (i = 0; i < d->npath; i++) {
		cert_sha256(d->path[i], hex);
		subj = describe_name(d->path[i]);
		json_array_append_new(path, json_pack("{s:s, s:s, s:o, s:b}",
		    "subject", subj, "sha256", hex, "served",
		    d->served_at[i] >= 0 ? json_integer(d->served_at[i]) :
		    json_null(), "trust_anchor", d->anchor[i]));
		free(subj);
	}
	for (i = 0; i < d->np; i++)
		json_array_append_new(probs, json_pack("{s:s, s:b, s:s, s:s}",
		    "code", d->p[i].code, "fatal", d->p[i].fatal, "cause",
		    d->p[i].cause, "fix", d->p[i].fix));
	o = json_pack("{s:s, s:s, s:s, s:o, s:b, s:{s:s, s:s, s:s, s:I, "
	    "s:b}, s:o, s:o, s:b, s:b, s:b, s:o, s:b}",
	    "host", k->host, "port", k->port, "name", k->name,
	    "sni", k->sni != NULL ? json_string(k->sni) : json_null(),
	    "connected", k->connected,
	    "trust_store", "description", k->store_desc, "path",
	    k->store_path, "type", files_kind_name(k->store.kind), "anchors",
	    (json_int_t)k->nanchors, "checked", k->store.checked,
	    "served", served, "path", path, "complete", d->complete,
	    "in_order", d->in_order, "trusted", d->trusted, "problems", probs,
	    "ok", diag_fatal(d) == 0);
	if (k->connected)
		json_object_set_new(o, "tls", json_pack("{s:s, s:s, s:s, s:s, "
		    "s:b}", "address", k->peer.addr, "protocol",
		    k->peer.protocol, "cipher", k->peer.cipher, "key_exchange",
		    k->peer.kex, "client_certificate_requested",
		    k->peer.client_cert));
	if (k->committed[0] != '\0')
		json_object_set_new(o, "committed", json_pack("{s:s, s:I, "
		    "s:s}", "domain", k->a->for_domain, "generation",
		    (json_int_t)k->generation, "sha256", k->committed));
	return o;
}

int
cmd_check(struct ctl *c, const struct cmd *cmd, struct args *a)
{
	struct check	 k;
	json_t		*o;
	int		 rc;

	memset(&k, 0, sizeof(k));
	k.c = c;
	k.a = a;
	k.now = time(NULL);
	if (parse_target(&k, a->v[0]) == -1)
		return usage_error(cmd, "not HOST, HOST:PORT or [IPv6]:PORT: "
		    "%s", a->v[0]);
	if (a->ca != NULL && a->truststore != NULL)
		return usage_error(cmd, "give --ca or --truststore, not both");
	if (a->nhosts > 1)
		return usage_error(cmd, "one --name only");
	k.name = a->nhosts == 1 ? a->hosts[0] : k.host;
	k.sni = name_is_address(k.name) ? NULL : k.name;
	if ((rc = load_store(&k)) != -1)
		goto out;
	if (a->for_domain != NULL && (rc = load_committed(&k)) != -1)
		goto out;
	run_check(&k);
	if (c->json) {
		o = report_json(&k);
		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
	} else
		print_report(stdout, &k);
	rc = diag_fatal(&k.d) > 0 ? EXIT_REJECTED : 0;
	if (a->save != NULL && k.connected && save_chain(&k) != 0)
		rc = EXIT_REJECTED;
out:
	diagnosis_free(&k.d);
	tls_peer_free(&k.peer);
	files_free(&k.store);
	free(k.anchors);
	return rc;
}

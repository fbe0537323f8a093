/*
 * gen.c: certctl gen-ca and gen-cert: a test PKI in two commands, in place
 * of the openssl genrsa/req/x509 and cfssl sequences admins copy by hand.
 * The files are named as README's upload sequence names them (root.pem,
 * inter.pem, server.pem, server.key), keys are unencrypted PKCS#8 and 0600,
 * and every certificate passes certd's own validation.
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
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "certctl.h"
#include "key.h"
#include "log.h"
#include "names.h"
#include "pem.h"
#include "util.h"

#define CA_DAYS		3650
#define SERVER_DAYS	397	/* what browsers accept for a server */
#define BACKDATE	3600	/* clocks a little behind still accept it */

const char gen_ca_synopsis[] =
"gen-ca --out DIR [--cn NAME] [--days N] [--intermediate] [--key-type T]";

const char gen_ca_help[] =
"	Make a root CA for tests and private services: DIR/root.pem and\n"
"	DIR/root.key; with --intermediate, also an intermediate CA issued by\n"
"	the root, DIR/inter.pem and DIR/inter.key, which gen-cert then uses.\n"
"	DIR is made if missing; an existing file is never overwritten.\n"
"	Keys have no passphrase (services start unattended) and mode 0600;\n"
"	certificates are 0644.  The root is CA:TRUE with keyUsage\n"
"	keyCertSign and cRLSign; the intermediate the same, with path\n"
"	length 0.  Both carry key identifiers and SHA-256 signatures, as\n"
"	certd's validation and OpenSSL's strict verifier want.\n"
"\n"
"	--cn NAME: the root's common name (default \"certctl test root CA\"\n"
"	and the date and time); the intermediate's is NAME with \"root\"\n"
"	made \"intermediate\", or NAME Intermediate.\n"
"	--days N: validity in days (default 3650).  --key-type T: ec\n"
"	(P-256, the default), ec384, rsa (2048 bits), rsa3072 or rsa4096.\n";

const char gen_cert_synopsis[] =
"gen-cert --ca DIR --domain D [--name N]... [--ip A]... [--days N] [--client]"
" --out DIR";

const char gen_cert_help[] =
"	Make a server certificate for the domain D, issued by the CA that\n"
"	gen-ca made in the --ca DIR (its intermediate if there is one, else\n"
"	its root): --out DIR/server.pem and DIR/server.key (mode 0600, no\n"
"	passphrase).  Its subject is CN=D; its subjectAltName holds DNS:D,\n"
"	each --name (a host name, or a wildcard such as *.D) and each --ip\n"
"	as an IP entry: clients match an address only there.  It is\n"
"	CA:FALSE with extendedKeyUsage serverAuth, valid --days N (default\n"
"	397, what browsers accept) but never past its issuer; --key-type T\n"
"	as for gen-ca.  The same DIR for --ca and --out keeps the whole PKI\n"
"	in one directory, and certctl prints the commands that upload it.\n"
"\n"
"	--client makes a client certificate instead, for a management\n"
"	server that pushes to certd over TLS: DIR/client.pem and\n"
"	DIR/client.key, extendedKeyUsage clientAuth, the same names; certctl\n"
"	prints the client_allow line that lets it change things.\n"
"\n"
"	Examples:\n"
"	certctl gen-ca --out pki --intermediate\n"
"	certctl gen-cert --ca pki --domain example.com --name www.example.com --out pki\n"
"	certctl gen-cert --ca pki --domain example.com --ip 192.0.2.10 --out by-ip\n"
"	certctl gen-ca --out clients --cn \"Example management CA\"\n"
"	certctl gen-cert --ca clients --domain mgmt.example.com --client --out mgmt\n";

struct issuer {
	X509		*cert;
	EVP_PKEY	*key;
	char		 path[PATH_MAX];
};

/* "ec", "rsa", ...: a new key; NULL if the type is unknown. */
static EVP_PKEY *
new_key(const char *type)
{
	return key_generate(type != NULL ? type : "ec");
}

static int
key_type_ok(const char *type)
{
	static const char *const types[] = { "ec", "ec384", "rsa", "rsa3072",
	    "rsa4096" };
	size_t	 i;

	for (i = 0; type != NULL && i < nitems(types); i++)
		if (strcmp(type, types[i]) == 0)
			return 1;
	return type == NULL;
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A 127-bit random serial: positive, never zero, under 20 bytes. */
static int
set_serial(X509 *x)
{
	BIGNUM	*bn;
	int	 ok;

	if ((bn = BN_new()) == NULL)
		return 0;
	ok = BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

/*
 * A certificate for key with subject CN=cn, valid from an hour ago for
 * days but not past the issuer, signed by issuer (NULL: self-signed) with
 * the extensions exts (NID and value pairs, NULL-ended).
 */
static X509 *
make_cert(const char *cn, EVP_PKEY *key, int days, const struct issuer *is,
    const char *const *exts)
{
	X509		*x;
	X509_NAME	*name;
	time_t		 now = time(NULL), until;
	size_t		 i;
	int		 ok;

	until = now + (time_t)days * 86400;
	if (is != NULL && cert_not_after(is->cert) < until)
		until = cert_not_after(is->cert);
	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL)
		fatalx("out of memory");
	ok = X509_set_version(x, 2) && set_serial(x) &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) &&
	    X509_set_subject_name(x, name) &&
	    X509_set_issuer_name(x, is != NULL ?
	    X509_get_subject_name(is->cert) : name) &&
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, -BACKDATE, &now) &&
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &until) &&
	    X509_set_pubkey(x, key);
	X509_NAME_free(name);
	for (i = 0; ok && exts[i] != NULL; i += 2)
		ok = add_ext(x, is != NULL ? is->cert : x,
		    OBJ_sn2nid(exts[i]), exts[i + 1]);
	if (!ok || !X509_sign(x, is != NULL ? is->key : key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Create path with mode, never over an existing file, and write it. */
static int
write_new(const char *path, mode_t mode, const char *data, size_t len)
{
	int	 fd, saved;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1)
		return -1;
	if (fchmod(fd, mode) == -1 || write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return -1;
	}
	return close(fd);
}

/* DIR/name for each name; 0 if none exists yet, else -1 (printed). */
static int
out_free(const char *dir, const char *const *names)
{
	struct stat	 st;
	char		 path[PATH_MAX];
	size_t		 i;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "certctl: cannot make %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	for (i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (lstat(path, &st) == 0) {
			fprintf(stderr, "certctl: %s exists; certctl never "
			    "overwrites a certificate or key: remove it or "
			    "choose another --out\n", path);
			return -1;
		}
	}
	return 0;
}

/* DIR/base.pem (0644) and DIR/base.key (0600). */
static int
write_pair(const char *dir, const char *base, X509 *x, EVP_PKEY *k)
{
	char	 path[PATH_MAX], kpath[PATH_MAX], *pem = NULL, *kpem = NULL;
	size_t	 len = 0, klen = 0;
	int	 rc = -1;

	if ((pem = pem_encode_cert(x, &len)) == NULL ||
	    (kpem = key_pem(k, &klen)) == NULL)
		fatalx("cannot encode %s", base);
	snprintf(kpath, sizeof(kpath), "%s/%s.key", dir, base);
	snprintf(path, sizeof(path), "%s/%s.pem", dir, base);
	if (write_new(kpath, 0600, kpem, klen) == -1) {
		fprintf(stderr, "certctl: cannot write %s: %s\n", kpath,
		    strerror(errno));
		goto out;
	}
	if (write_new(path, 0644, pem, len) == -1) {
		fprintf(stderr, "certctl: cannot write %s: %s\n", path,
		    strerror(errno));
		unlink(kpath);		/* no key without its certificate */
		goto out;
	}
	rc = 0;
out:
	free(pem);
	freezero(kpem, klen);
	return rc;
}

static void
print_made(const char *dir, const char *base, const char *what, X509 *x,
    EVP_PKEY *k)
{
	char	 until[64], desc[64], *subj;

	cert_date(X509_get0_notAfter(x), until, sizeof(until));
	key_describe(k, desc, sizeof(desc));
	subj = cert_subject(x);
	printf("%s/%s.pem: %s %s, %s, until %s\n%s/%s.key: its key, mode "
	    "0600, no passphrase\n", dir, base, what, subj, desc, until, dir,
	    base);
	free(subj);
}

static int
gen_ca_pair(const struct args *a, const char *cn, const char *base,
    struct issuer *is, struct issuer *made)
{
	static const char *const root_exts[] = {
		"basicConstraints", "critical,CA:TRUE",
		"keyUsage", "critical,keyCertSign,cRLSign",
		"subjectKeyIdentifier", "hash",
		NULL };
	static const char *const inter_exts[] = {
		"basicConstraints", "critical,CA:TRUE,pathlen:0",
		"keyUsage", "critical,keyCertSign,cRLSign",
		"subjectKeyIdentifier", "hash",
		"authorityKeyIdentifier", "keyid:always",
		NULL };

	if ((made->key = new_key(a->key_type)) == NULL ||
	    (made->cert = make_cert(cn, made->key, a->days > 0 ? a->days :
	    CA_DAYS, is, is == NULL ? root_exts : inter_exts)) == NULL) {
		fprintf(stderr, "certctl: cannot make the %s CA\n", base);
		return -1;
	}
	if (write_pair(a->out, base, made->cert, made->key) == -1)
		return -1;
	print_made(a->out, base, is == NULL ? "root CA" : "intermediate CA",
	    made->cert, made->key);
	return 0;
}

/* "Example Root CA" -> "Example Intermediate CA"; else NAME Intermediate. */
static void
inter_name(const char *cn, char *out, size_t size)
{
	const char	*r;

	if ((r = strstr(cn, "Root")) != NULL || (r = strstr(cn, "root")) !=
	    NULL)
		snprintf(out, size, "%.*s%s%s", (int)(r - cn), cn, *r == 'R' ?
		    "Intermediate" : "intermediate", r + 4);
	else
		snprintf(out, size, "%s Intermediate", cn);
}

int
cmd_gen_ca(struct ctl *c, const struct cmd *cmd, struct args *a)
{
	static const char *const root_files[] = { "root.pem", "root.key",
	    NULL };
	static const char *const all_files[] = { "root.pem", "root.key",
	    "inter.pem", "inter.key", NULL };
	struct issuer	 root = { 0 }, inter = { 0 };
	char		 cn[256], icn[300], stamp[32];
	time_t		 now = time(NULL);
	int		 rc = EXIT_REJECTED;

	if (a->out == NULL)
		return usage_error(cmd, "missing --out DIR");
	if (!key_type_ok(a->key_type))
		return usage_error(cmd, "unknown key type: %s", a->key_type);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", gmtime(&now));
	if (a->cn != NULL)
		strlcpy(cn, a->cn, sizeof(cn));
	else
		snprintf(cn, sizeof(cn), "certctl test root CA %s", stamp);
	inter_name(cn, icn, sizeof(icn));
	if (out_free(a->out, a->intermediate ? all_files : root_files) == -1)
		goto out;
	if (gen_ca_pair(a, cn, "root", NULL, &root) == -1 ||
	    (a->intermediate && gen_ca_pair(a, icn, "inter", &root,
	    &inter) == -1))
		goto out;
	printf("Next: certctl gen-cert --ca %s --domain DOMAIN --out DIR\n",
	    a->out);
	rc = 0;
out:
	X509_free(root.cert);
	EVP_PKEY_free(root.key);
	X509_free(inter.cert);
	EVP_PKEY_free(inter.key);
	return rc;
}

/* DIR/base.pem and DIR/base.key as an issuer; 1 if they are not there. */
static int
load_issuer(const char *dir, const char *base, struct issuer *is)
{
	struct file_contents	 fc;
	struct cert_error	 cerr;
	char			 kpath[PATH_MAX], err[512], *buf = NULL;
	size_t			 len = 0;

	snprintf(is->path, sizeof(is->path), "%s/%s.pem", dir, base);
	snprintf(kpath, sizeof(kpath), "%s/%s.key", dir, base);
	if (access(is->path, F_OK) == -1 || access(kpath, F_OK) == -1)
		return 1;
	if (files_read(is->path, NULL, &fc, err, sizeof(err)) == -1 ||
	    fc.ncerts != 1) {
		fprintf(stderr, "certctl: %s: %s\n", is->path, fc.ncerts > 1 ?
		    "more than one certificate" : err);
		files_free(&fc);
		return -1;
	}
	is->cert = fc.certs[0].cert;
	X509_up_ref(is->cert);
	files_free(&fc);
	if (read_file(kpath, PEM_ITEM_MAX, &buf, &len) == -1) {
		fprintf(stderr, "certctl: cannot read %s: %s\n", kpath,
		    strerror(errno));
		return -1;
	}
	if (key_decode(buf, len, "", 0, &is->key, &cerr) == -1 ||
	    key_matches_cert(is->key, is->cert, "", 0, &cerr) == -1) {
		fprintf(stderr, "certctl: %s: %s\n", kpath, cerr.message);
		freezero(buf, len);
		return -1;
	}
	freezero(buf, len);
	if (!cert_is_ca(is->cert)) {
		fprintf(stderr, "certctl: %s is not a CA certificate\n",
		    is->path);
		return -1;
	}
	return 0;
}

/* "DNS:d,DNS:n..,IP:a.." for the subjectAltName; 0, or EXIT_USAGE. */
static int
san_value(const struct cmd *cmd, const struct args *a, char *out,
    size_t size)
{
	char		 folded[DOMAIN_MAX + 1];
	const char	*h;
	size_t		 o;
	int		 i;

	o = snprintf(out, size, "DNS:%s", a->for_domain);
	for (i = 0; i < a->nhosts && o < size; i++) {
		h = a->hosts[i];
		if (name_is_address(h) || domain_fold(strncmp(h, "*.", 2) == 0 ?
		    h + 2 : h, folded) == -1)
			return usage_error(cmd, "not a host name: %s (an "
			    "address goes with --ip)", h);
		if (strcasecmp(h, a->for_domain) != 0)
			o += snprintf(out + o, size - o, ",DNS:%s", h);
	}
	if (name_is_address(a->for_domain))
		return usage_error(cmd, "--domain is a name: %s is an address "
		    "(give a name, and the address with --ip)", a->for_domain);
	for (i = 0; i < a->nips && o < size; i++) {
		if (!name_is_address(a->ips[i]))
			return usage_error(cmd, "not an IP address: %s",
			    a->ips[i]);
		o += snprintf(out + o, size - o, ",IP:%s", a->ips[i]);
	}
	return o < size ? 0 : usage_error(cmd, "too many names");
}

static void
print_uploads(const struct args *a, const struct issuer *inter,
    const struct issuer *root)
{
	printf("Upload the chain to certd:\n"
	    "    certctl upload %s --name root --seq 1 %s\n", a->for_domain,
	    root->path);
	if (inter->cert != NULL)
		printf("    certctl upload %s --name intermediate --seq 2 %s\n",
		    a->for_domain, inter->path);
	printf("    certctl upload %s --name server --server %s/server.pem "
	    "--key %s/server.key\n"
	    "Clients trust %s (curl --cacert), or certd's truststore.jks or "
	    "truststore.p12 of %s.\n", a->for_domain, a->out, a->out,
	    root->path, a->for_domain);
}

/* What gen-cert --client made is for. */
static void
print_client(const struct args *a, const struct issuer *inter,
    const struct issuer *root)
{
	printf("Let it change things on certd, in certd.conf's [certd]:\n"
	    "    client_ca = %s%s%s\n"
	    "    client_allow = DNS:%s\n"
	    "and push with: certctl -H https://HOST:PORT --client-cert "
	    "%s/client.pem --client-key %s/client.key --ca CERTD-CA COMMAND\n",
	    inter->cert != NULL ? "a file holding " : "", root->path,
	    inter->cert != NULL ? " and the intermediate" : "",
	    a->for_domain, a->out, a->out);
}

int
cmd_gen_cert(struct ctl *c, const struct cmd *cmd, struct args *a)
{
	static const char *const server_files[] = { "server.pem",
	    "server.key", NULL };
	static const char *const client_files[] = { "client.pem",
	    "client.key", NULL };
	const char *const *files = a->client ? client_files : server_files;
	const char	*base = a->client ? "client" : "server";
	struct issuer	 root = { 0 }, inter = { 0 }, *is;
	char		 san[8192];
	const char	*exts[] = {
		"basicConstraints", "critical,CA:FALSE",
		"keyUsage", "critical,digitalSignature",
		"extendedKeyUsage", a->client ? "clientAuth" : "serverAuth",
		"subjectAltName", san,
		"subjectKeyIdentifier", "hash",
		"authorityKeyIdentifier", "keyid:always",
		NULL };
	EVP_PKEY	*key = NULL;
	X509		*x = NULL;
	int		 rc = EXIT_USAGE, r;

	if (a->ca == NULL || a->for_domain == NULL || a->out == NULL)
		return usage_error(cmd, "--ca DIR, --domain DOMAIN and --out "
		    "DIR are needed");
	if (!key_type_ok(a->key_type))
		return usage_error(cmd, "unknown key type: %s", a->key_type);
	if ((rc = san_value(cmd, a, san, sizeof(san))) != 0)
		return rc;
	rc = EXIT_USAGE;
	if ((r = load_issuer(a->ca, "root", &root)) == 1)
		fprintf(stderr, "certctl: no root.pem and root.key in %s: make "
		    "them with certctl gen-ca --out %s\n", a->ca, a->ca);
	if (r != 0 || (r = load_issuer(a->ca, "inter", &inter)) == -1)
		goto out;
	is = r == 0 ? &inter : &root;
	/* RSA key exchange (TLS 1.2 RSA suites) encrypts with the key. */
	if (a->key_type != NULL && strncmp(a->key_type, "rsa", 3) == 0)
		exts[3] = "critical,digitalSignature,keyEncipherment";
	rc = EXIT_REJECTED;
	if (out_free(a->out, files) == -1)
		goto out;
	if ((key = new_key(a->key_type)) == NULL || (x = make_cert(
	    a->for_domain, key, a->days > 0 ? a->days : SERVER_DAYS, is,
	    exts)) == NULL) {
		fprintf(stderr, "certctl: cannot make the certificate\n");
		goto out;
	}
	if (write_pair(a->out, base, x, key) == -1)
		goto out;
	print_made(a->out, base, a->client ? "client certificate" :
	    "server certificate", x, key);
	if (a->client)
		print_client(a, &inter, &root);
	else
		print_uploads(a, &inter, &root);
	rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	X509_free(root.cert);
	EVP_PKEY_free(root.key);
	X509_free(inter.cert);
	EVP_PKEY_free(inter.key);
	return rc;
}

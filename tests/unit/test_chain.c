/*
 * test_chain.c: chain_validate() gives each certificate code, with
 * the right item, for a realistic bad chain; good chains (RSA, EC, Ed25519,
 * cfssl-style, made by the openssl CLI) pass; bundles are ordered.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "chain.h"
#include "cert.h"
#include "key.h"
#include "pem.h"
#include "util.h"
#include "validate.h"
#include "testpki.h"

extern char **environ;

#define DOMAIN	"example.com"
#define DAY	86400

static const char *const good_dns[] = { DOMAIN, "*." DOMAIN, NULL };

/* A struct chain from a test chain: root, inter-1.., server + key. */
static struct chain *
mk(const struct tpki_chain *t)
{
	struct chain		*c = chain_new();
	struct cert_error	 err;
	char			 name[32];
	int			 i;

	assert_non_null(c);
	assert_int_equal(chain_add(c, "root", 1, KIND_ROOT, t->root, &err), 0);
	for (i = 0; i < t->ninter; i++) {
		snprintf(name, sizeof(name), "inter-%d", i + 1);
		assert_int_equal(chain_add(c, name, i + 2, KIND_INTERMEDIATE,
		    t->inter[i], &err), 0);
	}
	assert_int_equal(chain_add(c, "server", t->ninter + 2, KIND_SERVER,
	    t->leaf, &err), 0);
	EVP_PKEY_up_ref(t->leaf_key);
	c->key = t->leaf_key;
	return c;
}

/* Replace the cert of item i (and the key if k is given). */
static void
swap_cert(struct chain *c, size_t i, X509 *x)
{
	X509_free(c->items[i].cert);
	c->items[i].cert = x;
}

static void
swap_key(struct chain *c, EVP_PKEY *k)
{
	EVP_PKEY_free(c->key);
	c->key = k;
}

static void
assert_valid(const struct chain *c, const char *domain,
    struct cert_warnings *w)
{
	struct cert_warnings	 ws;
	struct cert_error	 err;

	memset(&ws, 0, sizeof(ws));
	memset(&err, 0, sizeof(err));
	if (chain_validate(c, domain, time(NULL), w ? w : &ws, &err) != 0)
		fail_msg("rejected: %s %s/%d: %s", cert_code_name(err.code),
		    err.name, err.seq, err.message);
	if (w == NULL && ws.n != 0)
		fail_msg("unexpected warning %s: %s",
		    cert_warn_name(ws.w[0].code), ws.w[0].message);
}

static struct cert_error
expect(const struct chain *c, const char *domain, enum cert_code code,
    const char *name, int seq)
{
	struct cert_warnings	 ws;
	struct cert_error	 err;

	memset(&ws, 0, sizeof(ws));
	memset(&err, 0, sizeof(err));
	if (chain_validate(c, domain, time(NULL), &ws, &err) == 0)
		fail_msg("accepted; expected %s", cert_code_name(code));
	if (err.code != code || strcmp(err.name, name) != 0 || err.seq != seq)
		fail_msg("got %s %s/%d (%s); expected %s %s/%d",
		    cert_code_name(err.code), err.name, err.seq, err.message,
		    cert_code_name(code), name, seq);
	assert_true(strlen(err.message) > 20);
	return err;
}

/* A leaf for DOMAIN issued by (issuer, key). */
static X509 *
leaf_by(X509 *issuer, EVP_PKEY *ikey, EVP_PKEY *key, struct tpki_opts *o)
{
	struct tpki_opts	 d = { .cn = DOMAIN, .dns = good_dns,
	    .eku = TPKI_EKU_SERVER };

	return tpki_cert(o != NULL ? o : &d, key, issuer, ikey);
}

/* Reissue the server (item 2) under item 1 (key ik) for the chain's key. */
static void
swap_leaf(struct chain *c, EVP_PKEY *ik, struct tpki_opts *o)
{
	swap_cert(c, 2, leaf_by(c->items[1].cert, ik, c->key, o));
}

/* Put inter (key ik) at item 1 and reissue the server under it. */
static void
swap_inter(struct chain *c, X509 *inter, EVP_PKEY *ik)
{
	swap_cert(c, 1, inter);
	swap_leaf(c, ik, NULL);
}

/*
 * Put root (key rk) at item 0 and reissue what hangs below it: an
 * intermediate made with io (a plain CA when NULL) and the server.
 */
static void
swap_root(struct chain *c, X509 *root, EVP_PKEY *rk, EVP_PKEY *ik,
    struct tpki_opts *io)
{
	struct tpki_opts	 d = { .cn = "i", .ca = 1 };

	swap_cert(c, 0, root);
	swap_inter(c, tpki_cert(io != NULL ? io : &d, ik, root, rk), ik);
}

struct item {
	const char	*name;
	enum item_kind	 kind;
	X509		*cert;
};

/*
 * A chain of n items in the order given, seq 1.., and key (up-ref'd; may be
 * NULL): for the orders mk() cannot make.
 */
static struct chain *
mk_items(const struct item *it, size_t n, EVP_PKEY *key)
{
	struct chain		*c = chain_new();
	struct cert_error	 err;
	size_t			 i;

	assert_non_null(c);
	for (i = 0; i < n; i++)
		assert_int_equal(chain_add(c, it[i].name, (int)i + 1,
		    it[i].kind, it[i].cert, &err), 0);
	if (key != NULL)
		EVP_PKEY_up_ref(key);
	c->key = key;
	return c;
}

/* ---- good chains -------------------------------------------------------- */

/*
 * Good chains of each key type and length.  Every one also covers a host
 * under the domain via *.DOMAIN.
 */
static void
test_valid_chains(void **state)
{
	static const struct tpki_chain_opts cases[] = {
		{ .ninter = 1, .leaf_key = TPKI_RSA2048 },
		{ .ninter = 2, .leaf_key = TPKI_RSA2048 },
		{ .ninter = 0, .leaf_key = TPKI_EC256 },
		{ .ninter = 1, .leaf_key = TPKI_ED25519 },
		{ .ninter = 1, .leaf_key = TPKI_EC384 },
		/* All EC. */
		{ .ninter = 1, .leaf_key = TPKI_EC256, .ca_key = TPKI_EC384 },
	};
	struct tpki_chain_opts	 o;
	struct tpki_chain	 t;
	struct chain		*c;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = cases[i];
		o.domain = DOMAIN;
		tpki_chain_make_opts(&t, &o);
		c = mk(&t);
		assert_int_equal(c->n, o.ninter + 2);
		assert_valid(c, DOMAIN, NULL);
		assert_valid(c, "www." DOMAIN, NULL);
		chain_free(c);
		tpki_chain_free(&t);
	}
}

/*
 * What cfssl makes: PKCS#1 / SEC1 keys, root with O/CN and no AKI, leaf with
 * CN + hosts as SAN, EKU serverAuth+clientAuth.  Keys and certs go through
 * pem_decode_* as an upload would.
 */
static void
test_valid_cfssl_style(void **state)
{
	struct cert_error	 err;
	const char		*hosts[] = { DOMAIN, "www." DOMAIN, NULL };
	struct tpki_opts	 ro = { .cn = "cfssl root", .org = "Acme",
	    .ca = 1, .no_aki = 1 };
	struct tpki_opts	 io = { .cn = "cfssl inter", .org = "Acme",
	    .ca = 1, .pathlen = 0, .pathlen_set = 1 };
	struct tpki_opts	 lo = { .cn = DOMAIN, .dns = hosts,
	    .eku = TPKI_EKU_SERVER | TPKI_EKU_CLIENT };
	EVP_PKEY		*rk = tpki_key(TPKI_EC256);
	EVP_PKEY		*ik = tpki_key(TPKI_RSA2048);
	EVP_PKEY		*lk = tpki_key(TPKI_EC256), *k = NULL;
	X509			*r = tpki_cert(&ro, rk, NULL, NULL);
	X509			*i = tpki_cert(&io, ik, r, rk);
	X509			*l = tpki_cert(&lo, lk, i, ik), *x;
	char			*pem, *kpem;
	struct chain		*c;

	kpem = tpki_key_pem(lk, TPKI_KEY_TRAD);
	assert_true(strncmp(kpem, "-----BEGIN EC PRIVATE KEY", 25) == 0);
	assert_int_equal(key_decode(kpem, strlen(kpem), "server", 3, &k,
	    &err), 0);
	free(kpem);
	pem = tpki_cert_pem(r);
	assert_int_equal(pem_decode_cert(pem, strlen(pem), "root", 1, &x,
	    &err), 0);
	c = mk_items((struct item[]){ { "ca", KIND_ROOT, x },
	    { "intermediate", KIND_INTERMEDIATE, i },
	    { "server", KIND_SERVER, l } }, 3, k);
	X509_free(x);
	free(pem);
	assert_valid(c, DOMAIN, NULL);
	chain_free(c);
	EVP_PKEY_free(k);

	/* An RSA server key as PKCS#1. */
	{
		EVP_PKEY *rsa = tpki_key(TPKI_RSA2048), *k2 = NULL;
		X509 *l2 = tpki_cert(&lo, rsa, i, ik);

		kpem = tpki_key_pem(rsa, TPKI_KEY_TRAD);
		assert_true(strncmp(kpem, "-----BEGIN RSA PRIVATE KEY", 26)
		    == 0);
		assert_int_equal(key_decode(kpem, strlen(kpem), "server",
		    3, &k2, &err), 0);
		c = mk_items((struct item[]){ { "ca", KIND_ROOT, r },
		    { "intermediate", KIND_INTERMEDIATE, i },
		    { "server", KIND_SERVER, l2 } }, 3, k2);
		assert_valid(c, DOMAIN, NULL);
		chain_free(c);
		EVP_PKEY_free(k2);
		free(kpem);
		X509_free(l2);
		EVP_PKEY_free(rsa);
	}
	X509_free(r);
	X509_free(i);
	X509_free(l);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(lk);
}

static int
run(const char *dir, const char *const argv[])
{
	pid_t	 pid;
	int	 status;
	posix_spawn_file_actions_t fa;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (chdir(dir) == -1)
		return -1;
	if (posix_spawnp(&pid, "openssl", &fa, NULL, (char *const *)argv,
	    environ) != 0)
		return -1;
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/*
 * DIR/FILE decoded as a certificate into x, or as a key into k when x is
 * NULL; the test fails if it cannot be read or decoded.
 */
static void
load(const char *dir, const char *file, X509 **x, EVP_PKEY **k)
{
	char			 path[PATH_MAX], *buf;
	size_t			 len;
	struct cert_error	 err;
	int			 rc;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (read_file(path, PEM_ITEM_MAX, &buf, &len) == -1)
		fail_msg("%s: %s", path, strerror(errno));
	if (x != NULL)
		rc = pem_decode_cert(buf, len, file, 0, x, &err);
	else
		rc = key_decode(buf, len, file, 0, k, &err);
	if (rc != 0)
		fail_msg("%s: %s", file, err.message);
	free(buf);
}

/*
 * A chain made by the openssl CLI the way CA tutorials do (keyUsage on the
 * CAs), and the `req -x509` default root without keyUsage, which strict mode
 * (and so certd) rejects with E_NOT_CA.
 */
static void
test_openssl_cli_chain(void **state)
{
	char		 tmpl[] = "/tmp/test_chain.XXXXXX", cwd[PATH_MAX];
	char		*dir;
	struct chain	*c;
	struct cert_error err;
	X509		*x;
	static const char *const files[] = { "root.pem", "inter.pem",
	    "server.pem" };
	static const char *const names[] = { "root", "inter", "server" };
	static const enum item_kind kinds[] = { KIND_ROOT, KIND_INTERMEDIATE,
	    KIND_SERVER };
	int		 i;
	const char *const root[] = { "openssl", "req", "-x509", "-newkey",
	    "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
	    "root.key", "-out", "root.pem", "-subj", "/CN=openssl root",
	    "-days", "90", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
	    NULL };
	const char *const icsr[] = { "openssl", "req", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
	    "inter.key", "-out", "inter.csr", "-subj", "/CN=openssl inter",
	    NULL };
	const char *const isign[] = { "openssl", "x509", "-req", "-in",
	    "inter.csr", "-CA", "root.pem", "-CAkey", "root.key",
	    "-CAcreateserial", "-out", "inter.pem", "-days", "90",
	    "-extfile", "inter.ext", NULL };
	const char *const scsr[] = { "openssl", "req", "-newkey", "rsa:2048",
	    "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj",
	    "/CN=" DOMAIN, NULL };
	const char *const ssign[] = { "openssl", "x509", "-req", "-in",
	    "server.csr", "-CA", "inter.pem", "-CAkey", "inter.key",
	    "-CAcreateserial", "-out", "server.pem", "-days", "90",
	    "-extfile", "server.ext", NULL };
	FILE		*f;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(dir = mkdtemp(tmpl));
	assert_int_equal(chdir(dir), 0);
	f = fopen("inter.ext", "w");
	fputs("basicConstraints=critical,CA:true,pathlen:0\n"
	    "keyUsage=critical,keyCertSign,cRLSign\n"
	    "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n", f);
	fclose(f);
	f = fopen("server.ext", "w");
	fputs("basicConstraints=CA:false\n"
	    "keyUsage=critical,digitalSignature,keyEncipherment\n"
	    "extendedKeyUsage=serverAuth\n"
	    "subjectAltName=DNS:" DOMAIN ",DNS:*." DOMAIN "\n"
	    "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n", f);
	fclose(f);
	if (run(dir, root) == -1 || run(dir, icsr) == -1 ||
	    run(dir, isign) == -1 || run(dir, scsr) == -1 ||
	    run(dir, ssign) == -1)
		fail_msg("openssl CLI failed in %s", dir);
	assert_int_equal(chdir(cwd), 0);

	c = chain_new();
	for (i = 0; i < 3; i++) {
		x = NULL;
		load(dir, files[i], &x, NULL);
		assert_int_equal(chain_add(c, names[i], i + 1, kinds[i], x,
		    &err), 0);
		X509_free(x);
	}
	load(dir, "server.key", NULL, &c->key);
	assert_valid(c, DOMAIN, NULL);
	chain_free(c);

	{
		const char *const rm[] = { "rm", "-rf", dir, NULL };
		pid_t pid;
		int st;
		if (posix_spawnp(&pid, "rm", NULL, NULL, (char *const *)rm,
		    environ) == 0)
			waitpid(pid, &st, 0);
	}
}

/* ---- one test per code ---------------------------------------------------- */

static void
test_order(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;
	struct cert_error	 err;

	tpki_chain_make(&t, DOMAIN, 2, TPKI_EC256);

	/* Seq gap: inter-2 at seq 4. */
	c = mk(&t);
	c->items[2].seq = 4;
	c->items[3].seq = 5;
	err = expect(c, DOMAIN, E_ORDER, "inter-2", 4);
	assert_non_null(strstr(err.message, "seq 3"));
	/* Duplicate seq. */
	c->items[2].seq = 2;
	expect(c, DOMAIN, E_ORDER, "inter-2", 2);
	chain_free(c);

	/* Server without key. */
	c = mk(&t);
	swap_key(c, NULL);
	expect(c, DOMAIN, E_ORDER, "server", 4);
	chain_free(c);

	/* Key without server: root + intermediates + key. */
	c = mk(&t);
	X509_free(c->items[3].cert);
	c->n = 3;
	err = expect(c, DOMAIN, E_ORDER, "", 0);
	assert_non_null(strstr(err.message, "key"));
	chain_free(c);

	/* Intermediate before the root. */
	c = mk_items((struct item[]){
	    { "inter-1", KIND_INTERMEDIATE, t.inter[0] },
	    { "root", KIND_ROOT, t.root },
	    { "server", KIND_SERVER, t.leaf } }, 3, t.leaf_key);
	expect(c, DOMAIN, E_ORDER, "inter-1", 1);
	chain_free(c);

	/* Server before an intermediate. */
	c = mk_items((struct item[]){ { "root", KIND_ROOT, t.root },
	    { "server", KIND_SERVER, t.leaf },
	    { "inter-1", KIND_INTERMEDIATE, t.inter[0] } }, 3, t.leaf_key);
	expect(c, DOMAIN, E_ORDER, "server", 2);
	chain_free(c);

	/* Empty. */
	c = chain_new();
	expect(c, DOMAIN, E_ORDER, "", 0);
	chain_free(c);
	tpki_chain_free(&t);
}

static void
test_not_ca(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;
	struct tpki_opts	 o = { .cn = "not a ca" };
	struct tpki_opts	 nokcs = { .cn = "no kcs", .ca = 1,
	    .no_keycertsign = 1 };
	EVP_PKEY		*ik = tpki_key(TPKI_EC256);
	struct cert_error	 err;

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC256);

	/* An end-entity certificate used as the intermediate. */
	c = mk(&t);
	swap_inter(c, tpki_cert(&o, ik, t.root, t.root_key), ik);
	err = expect(c, DOMAIN, E_NOT_CA, "inter-1", 2);
	assert_non_null(strstr(err.message, "CA:FALSE"));
	chain_free(c);

	/* CA:TRUE but no keyCertSign. */
	c = mk(&t);
	swap_inter(c, tpki_cert(&nokcs, ik, t.root, t.root_key), ik);
	err = expect(c, DOMAIN, E_NOT_CA, "inter-1", 2);
	assert_non_null(strstr(err.message, "keyCertSign"));
	chain_free(c);

	/*
	 * A root and an intermediate with no keyUsage at all (what
	 * `openssl req -x509` makes with Debian's openssl.cnf): accepted,
	 * with a warning on each.
	 */
	{
		struct tpki_opts ro = { .cn = "no-ku root", .ca = 1,
		    .no_ku = 1 };
		struct tpki_opts io = { .cn = "no-ku inter", .ca = 1,
		    .no_ku = 1 };
		struct cert_warnings w = { 0 };
		X509 *r = tpki_cert(&ro, t.root_key, NULL, NULL);
		size_t i, n = 0;

		c = mk(&t);
		swap_root(c, r, t.root_key, ik, &io);
		if (chain_validate(c, DOMAIN, time(NULL), &w, &err) == -1)
			fail_msg("no-keyUsage CA refused: %s: %s",
			    cert_code_name(err.code), err.message);
		for (i = 0; i < w.n; i++)
			if (w.w[i].code == W_CA_NO_KEY_USAGE)
				n++;
		assert_int_equal(n, 2);
		chain_free(c);
	}

	/* A root without basicConstraints. */
	{
		struct tpki_opts ro = { .cn = "v1-ish root", .no_bc = 1,
		    .ca = 1 };
		X509 *r = tpki_cert(&ro, t.root_key, NULL, NULL);

		c = mk(&t);
		swap_root(c, r, t.root_key, ik, NULL);
		expect(c, DOMAIN, E_NOT_CA, "root", 1);
		chain_free(c);
	}
	EVP_PKEY_free(ik);
	tpki_chain_free(&t);
}

static void
test_root_not_self_signed(void **state)
{
	struct tpki_chain	 t, u;
	struct chain		*c;
	struct cert_error	 err;
	struct tpki_opts	 ro = { .cn = "forged root", .ca = 1 };
	EVP_PKEY		*other = tpki_key(TPKI_EC256);
	X509			*r;

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC256);
	/* Issuer = subject, but signed by another key. */
	r = tpki_cert(&ro, t.root_key, NULL, other);
	c = mk(&t);
	swap_root(c, r, t.root_key, t.inter_key[0], NULL);
	err = expect(c, DOMAIN, E_ROOT_NOT_SELF_SIGNED, "root", 1);
	assert_non_null(strstr(err.message, "own key"));
	chain_free(c);

	/* An intermediate uploaded as the root. */
	tpki_chain_make(&u, DOMAIN, 2, TPKI_EC256);
	c = mk_items((struct item[]){ { "root", KIND_ROOT, u.inter[0] },
	    { "inter", KIND_INTERMEDIATE, u.inter[1] },
	    { "server", KIND_SERVER, u.leaf } }, 3, u.leaf_key);
	err = expect(c, DOMAIN, E_ROOT_NOT_SELF_SIGNED, "root", 1);
	assert_non_null(strstr(err.message, "certd test root"));
	chain_free(c);
	EVP_PKEY_free(other);
	tpki_chain_free(&t);
	tpki_chain_free(&u);
}

static void
test_issuer_mismatch(void **state)
{
	struct tpki_chain	 t, u;
	struct chain		*c;
	struct cert_error	 err;

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC256);
	/* The leaf names inter-1 (and its AKI) but root's key signed it. */
	c = mk(&t);
	swap_cert(c, 2, leaf_by(t.inter[0], t.root_key, t.leaf_key, NULL));
	err = expect(c, DOMAIN, E_ISSUER_MISMATCH, "server", 3);
	assert_non_null(strstr(err.message, "signature"));
	chain_free(c);

	/* The server of another chain. */
	tpki_chain_make(&u, DOMAIN, 1, TPKI_EC256);
	c = mk(&t);
	swap_cert(c, 2, X509_dup(u.leaf));
	swap_key(c, u.leaf_key);
	EVP_PKEY_up_ref(u.leaf_key);
	err = expect(c, DOMAIN, E_ISSUER_MISMATCH, "server", 3);
	assert_non_null(strstr(err.message, "inter-1"));
	chain_free(c);

	/* Two intermediates in swapped order. */
	{
		struct tpki_chain v;

		tpki_chain_make(&v, DOMAIN, 2, TPKI_EC256);
		c = mk(&v);
		c->items[1].cert = v.inter[1];
		c->items[2].cert = v.inter[0];
		err = expect(c, DOMAIN, E_ISSUER_MISMATCH, "inter-1", 2);
		assert_non_null(strstr(err.message, "swapped"));
		c->items[1].cert = v.inter[0];
		c->items[2].cert = v.inter[1];
		chain_free(c);
		tpki_chain_free(&v);
	}

	/* The intermediate of another chain. */
	c = mk(&t);
	swap_cert(c, 1, X509_dup(u.inter[0]));
	expect(c, DOMAIN, E_ISSUER_MISMATCH, "inter-1", 2);
	chain_free(c);
	tpki_chain_free(&t);
	tpki_chain_free(&u);
}

static void
test_path_len(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;
	struct cert_error	 err;
	struct tpki_opts	 ro = { .cn = "root pathlen 0", .ca = 1,
	    .pathlen = 0, .pathlen_set = 1 };
	struct tpki_opts	 io = { .cn = "inter", .ca = 1 };
	X509			*r, *i1, *i2;

	tpki_chain_make(&t, DOMAIN, 2, TPKI_EC256);
	r = tpki_cert(&ro, t.root_key, NULL, NULL);
	i1 = tpki_cert(&io, t.inter_key[0], r, t.root_key);
	c = mk(&t);
	swap_cert(c, 0, r);
	swap_cert(c, 1, i1);
	io.cn = "inter 2";
	i2 = tpki_cert(&io, t.inter_key[1], i1, t.inter_key[0]);
	swap_cert(c, 2, i2);
	swap_cert(c, 3, leaf_by(i2, t.inter_key[1], t.leaf_key, NULL));
	err = expect(c, DOMAIN, E_PATH_LEN, "inter-1", 2);
	assert_non_null(strstr(err.message, "pathLenConstraint 0"));
	chain_free(c);

	/* pathlen 1 on the root allows one intermediate, not two. */
	ro.pathlen = 1;
	r = tpki_cert(&ro, t.root_key, NULL, NULL);
	io.cn = "inter";
	i1 = tpki_cert(&io, t.inter_key[0], r, t.root_key);
	io.cn = "inter 2";
	i2 = tpki_cert(&io, t.inter_key[1], i1, t.inter_key[0]);
	c = mk(&t);
	swap_cert(c, 0, r);
	swap_cert(c, 1, i1);
	swap_cert(c, 2, i2);
	swap_cert(c, 3, leaf_by(i2, t.inter_key[1], t.leaf_key, NULL));
	expect(c, DOMAIN, E_PATH_LEN, "inter-2", 3);
	/* Without the second intermediate it is fine. */
	X509_free(c->items[2].cert);
	c->items[2] = c->items[3];
	c->items[2].seq = 3;
	c->n = 3;
	swap_cert(c, 2, leaf_by(i1, t.inter_key[0], t.leaf_key, NULL));
	assert_valid(c, DOMAIN, NULL);
	chain_free(c);
	tpki_chain_free(&t);
}

static void
test_expired_not_yet_valid(void **state)
{
	struct tpki_chain	 t;
	struct tpki_chain_opts	 o = { .domain = DOMAIN, .ninter = 1,
	    .leaf_key = TPKI_EC256 };
	struct chain		*c;
	struct cert_error	 err;
	time_t			 now = time(NULL);
	char			 want[64];

	o.leaf_not_before = now - 400 * DAY;
	o.leaf_not_after = now - 35 * DAY;
	tpki_chain_make_opts(&t, &o);
	c = mk(&t);
	err = expect(c, DOMAIN, E_EXPIRED, "server", 3);
	strftime(want, sizeof(want), "expired on %Y-%m-%d %H:%M UTC",
	    gmtime(&o.leaf_not_after));
	if (strstr(err.message, want) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err.message, want);
	chain_free(c);
	tpki_chain_free(&t);

	o.leaf_not_before = now + 2 * DAY;
	o.leaf_not_after = now + 300 * DAY;
	tpki_chain_make_opts(&t, &o);
	c = mk(&t);
	err = expect(c, DOMAIN, E_NOT_YET_VALID, "server", 3);
	strftime(want, sizeof(want), "not valid before %Y-%m-%d %H:%M UTC",
	    gmtime(&o.leaf_not_before));
	assert_non_null(strstr(err.message, want));

	/* An expired intermediate. */
	{
		struct tpki_opts io = { .cn = "old inter", .ca = 1,
		    .not_before = now - 100 * DAY, .not_after = now - DAY };

		swap_inter(c, tpki_cert(&io, t.inter_key[0], t.root,
		    t.root_key), t.inter_key[0]);
		expect(c, DOMAIN, E_EXPIRED, "inter-1", 2);
	}
	chain_free(c);
	tpki_chain_free(&t);
}

static void
test_server_is_ca(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;
	struct tpki_opts	 lo = { .cn = DOMAIN, .dns = good_dns,
	    .eku = TPKI_EKU_SERVER, .ca = 1 };

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC256);
	c = mk(&t);
	swap_leaf(c, t.inter_key[0], &lo);
	expect(c, DOMAIN, E_SERVER_IS_CA, "server", 3);
	chain_free(c);
	tpki_chain_free(&t);
}

static void
test_name_mismatch_and_wildcards(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;
	struct cert_error	 err;
	const char		*other[] = { "other.org", "*.other.org", NULL };
	const char		*wild[] = { "*." DOMAIN, NULL };
	const char		*www[] = { "www." DOMAIN, NULL };
	const char		*deep[] = { "*.*.com", NULL };
	struct tpki_opts	 lo = { .cn = DOMAIN, .dns = other,
	    .eku = TPKI_EKU_SERVER };

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC256);
	c = mk(&t);
	swap_leaf(c, t.inter_key[0], &lo);
	err = expect(c, DOMAIN, E_NAME_MISMATCH, "server", 3);
	assert_non_null(strstr(err.message, "DNS:other.org, DNS:*.other.org"));

	/* Only the suffix wildcard: covers the domain's hosts. */
	lo.dns = wild;
	swap_leaf(c, t.inter_key[0], &lo);
	assert_valid(c, DOMAIN, NULL);
	assert_valid(c, "www." DOMAIN, NULL);
	/* One label only. */
	expect(c, "a.b." DOMAIN, E_NAME_MISMATCH, "server", 3);

	/* A host of the domain is not the domain. */
	lo.dns = www;
	swap_leaf(c, t.inter_key[0], &lo);
	expect(c, DOMAIN, E_NAME_MISMATCH, "server", 3);
	assert_valid(c, "WWW.Example.COM", NULL);

	lo.dns = deep;
	swap_leaf(c, t.inter_key[0], &lo);
	expect(c, DOMAIN, E_NAME_MISMATCH, "server", 3);
	chain_free(c);
	tpki_chain_free(&t);
}

static void
test_eku(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;
	struct tpki_opts	 lo = { .cn = DOMAIN, .dns = good_dns,
	    .eku = TPKI_EKU_CLIENT };
	struct tpki_opts	 io = { .cn = "client-only CA", .ca = 1,
	    .eku = TPKI_EKU_CLIENT };

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC256);
	c = mk(&t);
	swap_leaf(c, t.inter_key[0], &lo);
	expect(c, DOMAIN, E_EKU, "server", 3);
	lo.eku = TPKI_EKU_CODE;
	swap_leaf(c, t.inter_key[0], &lo);
	expect(c, DOMAIN, E_EKU, "server", 3);
	/* No EKU at all is fine. */
	lo.eku = 0;
	swap_leaf(c, t.inter_key[0], &lo);
	assert_valid(c, DOMAIN, NULL);

	/* An intermediate restricted to clientAuth. */
	swap_inter(c, tpki_cert(&io, t.inter_key[0], t.root, t.root_key),
	    t.inter_key[0]);
	expect(c, DOMAIN, E_EKU, "inter-1", 2);
	chain_free(c);
	tpki_chain_free(&t);
}

static void
test_weak(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;
	struct cert_error	 err;
	EVP_PKEY		*small;
	struct tpki_opts	 lo = { .cn = DOMAIN, .dns = good_dns,
	    .eku = TPKI_EKU_SERVER, .md = EVP_sha1() };
	struct tpki_opts	 io = { .cn = "md5 inter", .ca = 1,
	    .md = EVP_md5() };

	tpki_chain_make(&t, DOMAIN, 1, TPKI_RSA1024);
	c = mk(&t);
	err = expect(c, DOMAIN, E_WEAK, "server", 3);
	assert_non_null(strstr(err.message, "1024-bit RSA"));
	chain_free(c);
	tpki_chain_free(&t);

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC224);
	c = mk(&t);
	err = expect(c, DOMAIN, E_WEAK, "server", 3);
	assert_non_null(strstr(err.message, "224-bit"));

	/* SHA-1 signature on the server certificate. */
	small = tpki_key(TPKI_EC256);
	swap_key(c, small);
	swap_leaf(c, t.inter_key[0], &lo);
	err = expect(c, DOMAIN, E_WEAK, "server", 3);
	assert_non_null(strstr(err.message, "SHA1"));

	/* MD5 on the intermediate. */
	swap_inter(c, tpki_cert(&io, t.inter_key[0], t.root, t.root_key),
	    t.inter_key[0]);
	err = expect(c, DOMAIN, E_WEAK, "inter-1", 2);
	assert_non_null(strstr(err.message, "MD5"));

	/* An RSA-1024 intermediate key. */
	{
		EVP_PKEY *ik = tpki_key(TPKI_RSA1024);
		struct tpki_opts o = { .cn = "small inter", .ca = 1 };

		swap_inter(c, tpki_cert(&o, ik, t.root, t.root_key), ik);
		expect(c, DOMAIN, E_WEAK, "inter-1", 2);
		EVP_PKEY_free(ik);
	}
	chain_free(c);
	tpki_chain_free(&t);
}

static void
test_sha1_root_is_a_warning(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;
	struct cert_warnings	 w;
	struct tpki_opts	 ro = { .cn = "sha1 root", .ca = 1,
	    .md = EVP_sha1() };
	X509			*r;

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC256);
	r = tpki_cert(&ro, t.root_key, NULL, NULL);
	c = mk(&t);
	swap_root(c, r, t.root_key, t.inter_key[0], NULL);
	memset(&w, 0, sizeof(w));
	assert_valid(c, DOMAIN, &w);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.w[0].code, W_SHA1_ROOT);
	assert_string_equal(w.w[0].name, "root");
	chain_free(c);
	tpki_chain_free(&t);
}

static void
test_key_mismatch(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC256);
	c = mk(&t);
	swap_key(c, tpki_key(TPKI_EC256));
	expect(c, DOMAIN, E_KEY_MISMATCH, "server", 3);
	/* Another type altogether. */
	swap_key(c, tpki_key(TPKI_RSA2048));
	expect(c, DOMAIN, E_KEY_MISMATCH, "server", 3);
	chain_free(c);
	tpki_chain_free(&t);
}

/* n and e of pub, the private half of other: public halves match. */
static EVP_PKEY *
rsa_frankenkey(EVP_PKEY *pub, EVP_PKEY *other)
{
	static const char *const priv[] = { OSSL_PKEY_PARAM_RSA_D,
	    OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
	    OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
	    OSSL_PKEY_PARAM_RSA_COEFFICIENT1 };
	OSSL_PARAM_BLD	*b = OSSL_PARAM_BLD_new();
	OSSL_PARAM	*params;
	EVP_PKEY_CTX	*ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY	*k = NULL;
	BIGNUM		*bn[8] = { NULL };
	size_t		 i;

	assert_int_equal(EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N,
	    &bn[0]), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E,
	    &bn[1]), 1);
	OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn[0]);
	OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, bn[1]);
	for (i = 0; i < 6; i++) {
		assert_int_equal(EVP_PKEY_get_bn_param(other, priv[i],
		    &bn[i + 2]), 1);
		OSSL_PARAM_BLD_push_BN(b, priv[i], bn[i + 2]);
	}
	params = OSSL_PARAM_BLD_to_param(b);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEYPAIR, params),
	    1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	for (i = 0; i < 8; i++)
		BN_free(bn[i]);
	return k;
}

static void
test_key_corrupt_private_half(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;
	struct cert_error	 err;
	EVP_PKEY		*other = tpki_key(TPKI_RSA2048);

	tpki_chain_make(&t, DOMAIN, 1, TPKI_RSA2048);
	c = mk(&t);
	swap_key(c, rsa_frankenkey(t.leaf_key, other));
	err = expect(c, DOMAIN, E_KEY_MISMATCH, "server", 3);
	assert_non_null(strstr(err.message, "corrupt"));
	chain_free(c);
	EVP_PKEY_free(other);
	tpki_chain_free(&t);
}

/* A SAN name with an embedded NUL must not match the part before it. */
static void
test_san_with_nul(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;
	struct tpki_opts	 lo = { .cn = "nul", .eku = TPKI_EKU_SERVER };
	static const char	 evil[] = DOMAIN "\0.evil.org";
	GENERAL_NAMES		*gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME		*g = GENERAL_NAME_new();
	ASN1_IA5STRING		*ia5 = ASN1_IA5STRING_new();
	X509			*x;

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC256);
	x = leaf_by(t.inter[0], t.inter_key[0], t.leaf_key, &lo);
	ASN1_STRING_set(ia5, evil, sizeof(evil) - 1);
	GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
	sk_GENERAL_NAME_push(gens, g);
	assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT), 1);
	GENERAL_NAMES_free(gens);
	assert_true(X509_sign(x, t.inter_key[0], EVP_sha256()) > 0);
	c = mk(&t);
	swap_cert(c, 2, x);
	expect(c, DOMAIN, E_NAME_MISMATCH, "server", 3);
	chain_free(c);
	tpki_chain_free(&t);
}

static void
test_duplicate(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;
	struct cert_error	 err;

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC256);
	c = mk_items((struct item[]){ { "root", KIND_ROOT, t.root },
	    { "inter-a", KIND_INTERMEDIATE, t.inter[0] },
	    { "inter-b", KIND_INTERMEDIATE, t.inter[0] },
	    { "server", KIND_SERVER, t.leaf } }, 4, t.leaf_key);
	err = expect(c, DOMAIN, E_DUPLICATE, "inter-b", 3);
	assert_non_null(strstr(err.message, "inter-a"));
	chain_free(c);
	tpki_chain_free(&t);
}

static void
test_warnings(void **state)
{
	struct tpki_chain	 t;
	struct tpki_chain_opts	 o = { .domain = DOMAIN, .ninter = 1,
	    .leaf_key = TPKI_EC256 };
	struct chain		*c;
	struct cert_warnings	 w;
	struct tpki_opts	 lo = { .cn = DOMAIN, .eku = TPKI_EKU_SERVER };

	o.leaf_not_after = time(NULL) + 10 * DAY;
	tpki_chain_make_opts(&t, &o);
	c = mk(&t);
	memset(&w, 0, sizeof(w));
	assert_valid(c, DOMAIN, &w);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.w[0].code, W_EXPIRES_SOON);
	assert_string_equal(w.w[0].name, "server");
	assert_int_equal(w.w[0].seq, 3);

	/* CN only, no SAN. */
	swap_leaf(c, t.inter_key[0], &lo);
	memset(&w, 0, sizeof(w));
	assert_valid(c, DOMAIN, &w);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.w[0].code, W_CN_ONLY);
	/* ...and a CN for another name is a mismatch. */
	lo.cn = "other.org";
	swap_leaf(c, t.inter_key[0], &lo);
	expect(c, DOMAIN, E_NAME_MISMATCH, "server", 3);
	chain_free(c);
	tpki_chain_free(&t);
}

/* What only OpenSSL's strict verifier catches still gets a code and item. */
static void
test_verifier_backstop(void **state)
{
	struct tpki_chain	 t;
	struct chain		*c;
	struct tpki_opts	 lo = { .cn = DOMAIN, .dns = good_dns,
	    .eku = TPKI_EKU_SERVER, .no_aki = 1 };
	struct cert_warnings	 w;
	struct cert_error	 err;

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC256);
	c = mk(&t);
	swap_leaf(c, t.inter_key[0], &lo);
	memset(&w, 0, sizeof(w));
	/* OpenSSL 3 strict mode wants an AKI below the root. */
	assert_int_equal(chain_validate(c, DOMAIN, time(NULL), &w, &err), -1);
	assert_int_equal(err.code, E_ENCODING);
	assert_string_equal(err.name, "server");
	assert_int_equal(err.seq, 3);
	assert_non_null(strstr(err.message, "Authority Key Identifier"));
	chain_free(c);
	tpki_chain_free(&t);
}

/* ---- chain_check_item ------------------------------------------------------- */

/* chain_check_item() refuses it with code; its error is returned. */
static struct cert_error
check_refused(struct chain *staged, struct chain_item *it, time_t now,
    enum cert_code code)
{
	struct cert_error	 err;

	memset(&err, 0, sizeof(err));
	if (chain_check_item(staged, it, now, &err) != -1)
		fail_msg("%s/%d accepted; expected %s", it->name, it->seq,
		    cert_code_name(code));
	if (err.code != code)
		fail_msg("%s/%d: got %s (%s); expected %s", it->name, it->seq,
		    cert_code_name(err.code), err.message,
		    cert_code_name(code));
	return err;
}

static void
test_check_item(void **state)
{
	struct tpki_chain	 t, u;
	struct chain		*staged;
	struct chain_item	 it;
	struct cert_error	 err;
	time_t			 now = time(NULL);

	tpki_chain_make(&t, DOMAIN, 2, TPKI_EC256);
	tpki_chain_make(&u, DOMAIN, 1, TPKI_EC256);
	staged = chain_new();

	memset(&it, 0, sizeof(it));
	strcpy(it.name, "inter-1");
	it.seq = 2;
	it.kind = KIND_INTERMEDIATE;
	it.cert = t.inter[0];
	/* Intermediate before a root. */
	err = check_refused(staged, &it, now, E_ORDER);
	assert_string_equal(err.name, "inter-1");
	/* Intermediate at seq 1. */
	it.seq = 1;
	check_refused(staged, &it, now, E_ORDER);

	/* The root: fine; a forged one is not. */
	strcpy(it.name, "root");
	it.kind = KIND_ROOT;
	it.cert = t.root;
	assert_int_equal(chain_check_item(staged, &it, now, &err), 0);
	it.cert = t.inter[0];
	check_refused(staged, &it, now, E_ROOT_NOT_SELF_SIGNED);
	chain_add(staged, "root", 1, KIND_ROOT, t.root, &err);

	/* Seq gap. */
	strcpy(it.name, "inter-2");
	it.kind = KIND_INTERMEDIATE;
	it.seq = 3;
	it.cert = t.inter[1];
	err = check_refused(staged, &it, now, E_ORDER);
	assert_int_equal(err.seq, 3);

	/* Wrong issuer: inter of another chain. */
	strcpy(it.name, "inter-1");
	it.seq = 2;
	it.cert = u.inter[0];
	check_refused(staged, &it, now, E_ISSUER_MISMATCH);
	/* Not a CA. */
	it.cert = t.leaf;
	check_refused(staged, &it, now, E_NOT_CA);
	/* The right one. */
	it.cert = t.inter[0];
	assert_int_equal(chain_check_item(staged, &it, now, &err), 0);
	chain_add(staged, "inter-1", 2, KIND_INTERMEDIATE, t.inter[0], &err);
	/* Re-uploading the same name replaces: fine. */
	assert_int_equal(chain_check_item(staged, &it, now, &err), 0);
	/* The same certificate under another name at seq 3. */
	strcpy(it.name, "inter-x");
	it.seq = 3;
	check_refused(staged, &it, now, E_DUPLICATE);
	/* Another name at a taken seq. */
	it.seq = 2;
	it.cert = t.inter[1];
	check_refused(staged, &it, now, E_ORDER);
	/* Expired check uses now. */
	strcpy(it.name, "inter-2");
	it.seq = 3;
	assert_int_equal(chain_check_item(staged, &it, now, &err), 0);
	check_refused(staged, &it, now + 20 * 365 * DAY, E_EXPIRED);

	chain_free(staged);
	tpki_chain_free(&t);
	tpki_chain_free(&u);
}

/* ---- bundles ------------------------------------------------------------------ */

static void
test_bundle_orders_100_shuffles(void **state)
{
	struct tpki_chain	 t;
	X509			*want[4];
	int			 round, i, j, perm[4];
	unsigned int		 seed = 12345;

	tpki_chain_make(&t, DOMAIN, 2, TPKI_EC256);
	want[0] = t.root;
	want[1] = t.inter[0];
	want[2] = t.inter[1];
	want[3] = t.leaf;
	for (round = 0; round < 100; round++) {
		STACK_OF(X509)		*sk = sk_X509_new_null();
		struct chain		*c = chain_new();
		struct cert_error	 err;

		for (i = 0; i < 4; i++)
			perm[i] = i;
		for (i = 3; i > 0; i--) {
			j = (int)(rand_r(&seed) % (unsigned int)(i + 1));
			int tmp = perm[i];
			perm[i] = perm[j];
			perm[j] = tmp;
		}
		/* Include leaf-first and root-first explicitly. */
		if (round == 0)
			for (i = 0; i < 4; i++)
				perm[i] = 3 - i;
		if (round == 1)
			for (i = 0; i < 4; i++)
				perm[i] = i;
		for (i = 0; i < 4; i++)
			sk_X509_push(sk, want[perm[i]]);
		if (chain_from_bundle(sk, t.leaf_key, c, &err) != 0)
			fail_msg("round %d: %s", round, err.message);
		assert_int_equal(c->n, 4);
		for (i = 0; i < 4; i++) {
			assert_int_equal(X509_cmp(c->items[i].cert, want[i]),
			    0);
			assert_int_equal(c->items[i].seq, i + 1);
		}
		assert_string_equal(c->items[0].name, "root");
		assert_int_equal(c->items[0].kind, KIND_ROOT);
		assert_string_equal(c->items[1].name, "intermediate-1");
		assert_string_equal(c->items[2].name, "intermediate-2");
		assert_int_equal(c->items[2].kind, KIND_INTERMEDIATE);
		assert_string_equal(c->items[3].name, "server");
		assert_int_equal(c->items[3].kind, KIND_SERVER);
		assert_ptr_equal(c->key, t.leaf_key);
		if (round < 3)
			assert_valid(c, DOMAIN, NULL);
		chain_free(c);
		sk_X509_free(sk);
	}
	tpki_chain_free(&t);
}

static void
test_bundle_rejects(void **state)
{
	struct tpki_chain	 t, u;
	STACK_OF(X509)		*sk;
	struct chain		*c;
	struct cert_error	 err;
	size_t			 i, j;

	tpki_chain_make(&t, DOMAIN, 1, TPKI_EC256);
	tpki_chain_make(&u, DOMAIN, 1, TPKI_EC256);
	{
		const struct {
			const char	*what;
			X509		*certs[5];	/* NULL-terminated */
			enum cert_code	 code;
		} cases[] = {
			{ "a repeat", { t.leaf, t.inter[0], t.root,
			    t.inter[0] }, E_DUPLICATE },
			{ "two chains mixed: not one path", { t.leaf,
			    t.inter[0], t.root, u.inter[0] }, E_ORDER },
			{ "a missing intermediate: two pieces", { t.leaf,
			    t.root }, E_ORDER },
			{ "one certificate", { t.leaf }, E_ORDER },
		};

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			sk = sk_X509_new_null();
			for (j = 0; cases[i].certs[j] != NULL; j++)
				sk_X509_push(sk, cases[i].certs[j]);
			c = chain_new();
			if (chain_from_bundle(sk, t.leaf_key, c, &err) != -1)
				fail_msg("%s: accepted", cases[i].what);
			if (err.code != cases[i].code)
				fail_msg("%s: got %s; expected %s",
				    cases[i].what, cert_code_name(err.code),
				    cert_code_name(cases[i].code));
			chain_free(c);
			sk_X509_free(sk);
		}
	}
	tpki_chain_free(&t);
	tpki_chain_free(&u);
}

/* s, a new string, is want; it is freed. */
static void
assert_string_freed(char *s, const char *want)
{
	assert_string_equal(s, want);
	free(s);
}

static void
test_descriptions(void **state)
{
	struct tpki_chain	 t;
	const char		*dns[] = { "a.example", NULL };
	const char		*ips[] = { "192.0.2.1", "2001:db8::1", NULL };
	struct tpki_opts	 o = { .cn = "desc", .org = "Org", .dns = dns,
	    .ips = ips, .serial = 0x1234abcd, .not_before = 1700000000,
	    .not_after = 1800000000 };
	EVP_PKEY		*k = tpki_key(TPKI_EC256);
	X509			*x = tpki_cert(&o, k, NULL, NULL);
	char			 fp[65];

	cert_sha256(x, fp);
	assert_int_equal(strlen(fp), 64);
	assert_string_freed(cert_subject(x), "CN=desc,O=Org");
	assert_string_freed(cert_issuer(x), "CN=desc,O=Org");
	assert_string_freed(cert_serial(x), "1234abcd");
	assert_string_freed(cert_san(x),
	    "DNS:a.example, IP:192.0.2.1, IP:2001:db8::1");
	assert_int_equal(cert_not_before(x), 1700000000);
	assert_int_equal(cert_not_after(x), 1800000000);
	assert_string_equal(chain_kind_name(KIND_INTERMEDIATE), "intermediate");
	assert_int_equal(chain_kind_from_name("server"), KIND_SERVER);
	assert_int_equal(chain_kind_from_name("leaf"), -1);
	X509_free(x);
	EVP_PKEY_free(k);
	tpki_chain_make(&t, DOMAIN, 0, TPKI_EC256);
	assert_string_freed(cert_san(t.root), "");
	tpki_chain_free(&t);
	chain_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_chains),
		cmocka_unit_test(test_valid_cfssl_style),
		cmocka_unit_test(test_openssl_cli_chain),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_not_ca),
		cmocka_unit_test(test_root_not_self_signed),
		cmocka_unit_test(test_issuer_mismatch),
		cmocka_unit_test(test_path_len),
		cmocka_unit_test(test_expired_not_yet_valid),
		cmocka_unit_test(test_server_is_ca),
		cmocka_unit_test(test_name_mismatch_and_wildcards),
		cmocka_unit_test(test_eku),
		cmocka_unit_test(test_weak),
		cmocka_unit_test(test_sha1_root_is_a_warning),
		cmocka_unit_test(test_key_mismatch),
		cmocka_unit_test(test_key_corrupt_private_half),
		cmocka_unit_test(test_san_with_nul),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_verifier_backstop),
		cmocka_unit_test(test_check_item),
		cmocka_unit_test(test_bundle_orders_100_shuffles),
		cmocka_unit_test(test_bundle_rejects),
		cmocka_unit_test(test_descriptions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_render.c: rendered generations byte for byte (files, modes, chain
 * order, manifest), the current swap, rollback, prune, clean and publish.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "chain.h"
#include "conf.h"
#include "jks.h"
#include "gendir.h"
#include "publish.h"
#include "render.h"
#include "testpki.h"
#include "testutil.h"
#include "util.h"

#define DOMAIN	"example.com"

struct fixture {
	char			 dir[64];	/* temp dir: state/ and pub/ */
	char			 pub[128];
	struct certd_conf	*conf;
	struct tpki_chain	 pki;
	struct chain		 ch;
};

static void
chain_fill(struct chain *ch, struct tpki_chain *p)
{
	int	 i;

	memset(ch, 0, sizeof(*ch));
	X509_up_ref(p->root);
	ch->items[0].cert = p->root;
	ch->items[0].kind = KIND_ROOT;
	strlcpy(ch->items[0].name, "Root CA", sizeof(ch->items[0].name));
	for (i = 0; i < p->ninter; i++) {
		X509_up_ref(p->inter[i]);
		ch->items[1 + i].cert = p->inter[i];
		ch->items[1 + i].kind = KIND_INTERMEDIATE;
		snprintf(ch->items[1 + i].name, sizeof(ch->items[1 + i].name),
		    "Inter %d", i + 1);
	}
	ch->n = p->ninter + 2;
	X509_up_ref(p->leaf);
	ch->items[ch->n - 1].cert = p->leaf;
	ch->items[ch->n - 1].kind = KIND_SERVER;
	strlcpy(ch->items[ch->n - 1].name, "server",
	    sizeof(ch->items[ch->n - 1].name));
	for (i = 0; i < (int)ch->n; i++)
		ch->items[i].seq = i + 1;
	EVP_PKEY_up_ref(p->leaf_key);
	ch->key = p->leaf_key;
}

static void
chain_clear(struct chain *ch)
{
	size_t	 i;

	for (i = 0; i < ch->n; i++)
		X509_free(ch->items[i].cert);
	EVP_PKEY_free(ch->key);
	memset(ch, 0, sizeof(*ch));
}

static int
setup_n(void **state, int ninter)
{
	struct fixture	*f;
	struct group	*gr;
	char		 path[192];

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strlcpy(f->dir, "/tmp/test_render.XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/state", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(f->pub, sizeof(f->pub), "%s/pub", f->dir);
	assert_int_equal(mkdir(f->pub, 0755), 0);
	f->conf = conf_new();
	free(f->conf->state_dir);
	f->conf->state_dir = strdup(path);
	/* A group the test may always chown to: its own. */
	assert_non_null(gr = getgrgid(getegid()));
	free(f->conf->key_group);
	f->conf->key_group = strdup(gr->gr_name);
	assert_int_equal(tpki_chain_make(&f->pki, DOMAIN, ninter, TPKI_EC256),
	    0);
	chain_fill(&f->ch, &f->pki);
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_n(state, 2);
}

static int
setup0(void **state)
{
	return setup_n(state, 0);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		*argv[] = { "rm", "-rf", f->dir, NULL };
	pid_t		 pid;
	int		 st;

	chain_clear(&f->ch);
	tpki_chain_free(&f->pki);
	conf_free(f->conf);
	/* rm -rf as argv, never a shell. */
	if ((pid = fork()) == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	free(f);
	return 0;
}

/* <state>/domains/DOMAIN/<rel> into out. */
static void
dpath(struct fixture *f, const char *rel, char *out, size_t len)
{
	snprintf(out, len, "%s/domains/%s/%s", f->conf->state_dir, DOMAIN, rel);
}

/* The mode of <state>/domains/DOMAIN/<rel>. */
static mode_t
dmode(struct fixture *f, const char *rel)
{
	char	 path[PATH_MAX];

	dpath(f, rel, path, sizeof(path));
	return file_mode(path);
}

static char *
slurp(const char *path, size_t *len)
{
	char	*buf;
	size_t	 l;

	if (read_file(path, 4 * 1024 * 1024, &buf, &l) == -1)
		fail_msg("%s: %s", path, strerror(errno));
	if (len != NULL)
		*len = l;
	return buf;
}

static char *
slurp_cur(struct fixture *f, const char *file, size_t *len)
{
	char	 rel[64], path[PATH_MAX];

	snprintf(rel, sizeof(rel), "current/%s", file);
	dpath(f, rel, path, sizeof(path));
	return slurp(path, len);
}

static void
render_ok(struct fixture *f, int64_t gen)
{
	struct cert_error	 err;

	memset(&err, 0, sizeof(err));
	if (render_generation(f->conf, DOMAIN, gen, &f->ch, &err) != 0)
		fail_msg("render_generation %lld: %s", (long long)gen,
		    err.message);
}

static char *
pem_of(X509 *x)
{
	return tpki_cert_pem(x);
}

static char *
cat3(const char *a, const char *b, const char *c)
{
	char	*s;

	assert_true(asprintf(&s, "%s%s%s", a, b, c != NULL ? c : "") > 0);
	return s;
}

static int
gen_exists(struct fixture *f, int gen)
{
	char		 rel[32], path[PATH_MAX];
	struct stat	 st;

	snprintf(rel, sizeof(rel), "gen-%d", gen);
	dpath(f, rel, path, sizeof(path));
	return lstat(path, &st) == 0;
}

/* Every file exists, regular, with its mode; key files in key_group. */
static void
test_files_and_modes(void **state)
{
	struct fixture	*f = *state;
	struct stat	 st;
	char		 path[PATH_MAX], link[64], rel[64], *key;
	ssize_t		 n;
	size_t		 i;
	mode_t		 want;

	render_ok(f, 1);
	dpath(f, "current", path, sizeof(path));
	n = readlink(path, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, "gen-1");	/* relative */
	assert_int_equal(gendir_current(f->conf, DOMAIN), 1);

	for (i = 0; gendir_files[i] != NULL; i++) {
		snprintf(rel, sizeof(rel), "gen-1/%s", gendir_files[i]);
		dpath(f, rel, path, sizeof(path));
		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_true(st.st_size > 0);
		want = 0644;
		if (!strcmp(gendir_files[i], "key.pem") ||
		    !strcmp(gendir_files[i], "bundle.pem") ||
		    !strcmp(gendir_files[i], "keystore.p12")) {
			want = 0640;
			assert_int_equal(st.st_gid, getegid());
		}
		if ((st.st_mode & 07777) != want)
			fail_msg("%s: mode %04o, want %04o", gendir_files[i],
			    (unsigned)(st.st_mode & 07777), (unsigned)want);
	}
	assert_int_equal(i, GENDIR_NFILES);
	assert_int_equal(dmode(f, "gen-1"), 0755);

	key = slurp_cur(f, "key.pem", NULL);
	assert_int_equal(strncmp(key, "-----BEGIN PRIVATE KEY-----\n", 28), 0);
	free(key);
}

/* chain.pem: leaf's issuer first, no root; fullchain = cert + chain. */
static void
test_chain_order(void **state)
{
	struct fixture	*f = *state;
	char		*leaf, *i1, *i2, *root, *want, *got, *cert, *chainp;
	char		*full, *bundle, *key, *s;

	render_ok(f, 1);
	leaf = pem_of(f->pki.leaf);
	i1 = pem_of(f->pki.inter[0]);
	i2 = pem_of(f->pki.inter[1]);
	root = pem_of(f->pki.root);

	cert = slurp_cur(f, "cert.pem", NULL);
	assert_string_equal(cert, leaf);
	chainp = slurp_cur(f, "chain.pem", NULL);
	want = cat3(i2, i1, NULL);		/* inter[1] issued the leaf */
	assert_string_equal(chainp, want);
	free(want);
	got = slurp_cur(f, "root.pem", NULL);
	assert_string_equal(got, root);
	free(got);
	full = slurp_cur(f, "fullchain.pem", NULL);
	want = cat3(cert, chainp, NULL);
	assert_string_equal(full, want);
	free(want);
	key = slurp_cur(f, "key.pem", NULL);
	bundle = slurp_cur(f, "bundle.pem", NULL);
	want = cat3(full, key, NULL);
	assert_string_equal(bundle, want);
	free(want);

	/* apache-ssl.conf names the current/ paths, never gen-N. */
	s = slurp_cur(f, "apache-ssl.conf", NULL);
	assert_non_null(strstr(s, "SSLCertificateFile \""));
	assert_non_null(strstr(s, "/domains/" DOMAIN "/current/cert.pem\""));
	assert_non_null(strstr(s, "/current/key.pem\""));
	assert_non_null(strstr(s, "SSLCertificateChainFile \""));
	assert_null(strstr(s, "gen-"));
	free(s);

	free(leaf); free(i1); free(i2); free(root); free(cert); free(chainp);
	free(full); free(key); free(bundle);
}

/* Root directly over the leaf: empty chain.pem, no ChainFile line. */
static void
test_no_intermediates(void **state)
{
	struct fixture	*f = *state;
	size_t		 len;
	char		*s;

	render_ok(f, 1);
	s = slurp_cur(f, "chain.pem", &len);
	assert_int_equal(len, 0);
	free(s);
	s = slurp_cur(f, "apache-ssl.conf", NULL);
	assert_null(strstr(s, "SSLCertificateChainFile"));
	assert_non_null(strstr(s, "SSLCertificateKeyFile"));
	free(s);
	assert_int_equal(gendir_check(f->conf, DOMAIN, 1), 1);
}

/* The manifest lists every file with its real sha256, size and mode. */
static void
test_manifest(void **state)
{
	struct fixture	*f = *state;
	unsigned char	*der;
	json_t		*m, *files, *e;
	json_error_t	 jerr;
	char		 path[PATH_MAX], rel[64], hex[65], mode[8], *buf, *data;
	size_t		 i, len, dlen;
	int		 fd;

	render_ok(f, 7);
	buf = slurp_cur(f, "manifest.json", &len);
	m = json_loadb(buf, len, 0, &jerr);
	assert_non_null(m);
	free(buf);
	assert_int_equal(json_integer_value(json_object_get(m, "generation")),
	    7);
	assert_string_equal(json_string_value(json_object_get(m, "domain")),
	    DOMAIN);
	der = tpki_cert_der(f->pki.leaf, &dlen);
	sha256_hex(der, dlen, hex);
	free(der);
	assert_string_equal(json_string_value(json_object_get(m,
	    "leaf_sha256")), hex);
	files = json_object_get(m, "files");
	assert_int_equal(json_array_size(files), GENDIR_NFILES - 1);
	json_array_foreach(files, i, e) {
		const char	*name = json_string_value(json_object_get(e,
				    "name"));

		assert_string_equal(name, gendir_files[i]);
		data = slurp_cur(f, name, &dlen);
		sha256_hex(data, dlen, hex);
		free(data);
		assert_string_equal(json_string_value(json_object_get(e,
		    "sha256")), hex);
		assert_int_equal(json_integer_value(json_object_get(e, "size")),
		    dlen);
		snprintf(rel, sizeof(rel), "gen-7/%s", name);
		snprintf(mode, sizeof(mode), "%04o", (unsigned)dmode(f, rel));
		assert_string_equal(json_string_value(json_object_get(e,
		    "mode")), mode);
	}
	json_decref(m);
	assert_int_equal(gendir_check(f->conf, DOMAIN, 7), 1);
	assert_int_equal(gendir_check(f->conf, DOMAIN, 6), 0);

	/* One changed byte makes the generation incomplete. */
	dpath(f, "gen-7/chain.pem", path, sizeof(path));
	assert_true((fd = open(path, O_WRONLY)) != -1);
	assert_int_equal(pwrite(fd, "X", 1, 40), 1);
	close(fd);
	assert_int_equal(gendir_check(f->conf, DOMAIN, 7), 0);
	/* ... and a new render of it replaces the damaged one. */
	render_ok(f, 7);
	assert_int_equal(gendir_check(f->conf, DOMAIN, 7), 1);
}

/* A second generation swaps current; render_swap rolls back. */
static void
test_swap_rollback(void **state)
{
	struct fixture		*f = *state;
	struct cert_error	 err;
	struct tpki_chain	 p2;
	char			*c1, *c2, *now;

	render_ok(f, 1);
	c1 = slurp_cur(f, "cert.pem", NULL);
	assert_int_equal(tpki_chain_make(&p2, DOMAIN, 1, TPKI_EC256), 0);
	chain_clear(&f->ch);
	chain_fill(&f->ch, &p2);
	render_ok(f, 2);
	assert_int_equal(gendir_current(f->conf, DOMAIN), 2);
	c2 = slurp_cur(f, "cert.pem", NULL);
	assert_string_not_equal(c1, c2);
	assert_int_equal(gendir_check(f->conf, DOMAIN, 1), 1);

	assert_int_equal(gendir_swap(f->conf, DOMAIN, 1, &err), 0);
	assert_int_equal(gendir_current(f->conf, DOMAIN), 1);
	now = slurp_cur(f, "cert.pem", NULL);
	assert_string_equal(now, c1);
	free(now);

	assert_int_equal(gendir_swap(f->conf, DOMAIN, 9, &err), -1);
	assert_int_equal(err.code, E_NOT_FOUND);
	assert_int_equal(gendir_current(f->conf, DOMAIN), 1);

	tpki_chain_free(&p2);
	free(c1);
	free(c2);
}

/* Rendering an existing complete generation of the same chain reuses it. */
static void
test_reuse_complete(void **state)
{
	struct fixture	*f = *state;
	struct tpki_chain p2;
	struct stat	 a, b;
	char		 path[PATH_MAX], *want, *got;

	render_ok(f, 3);
	dpath(f, "gen-3/cert.pem", path, sizeof(path));
	assert_int_equal(stat(path, &a), 0);
	render_ok(f, 3);
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);

	/* Same number, another chain (a DB restored elsewhere): rewritten. */
	assert_int_equal(tpki_chain_make(&p2, DOMAIN, 1, TPKI_EC256), 0);
	chain_clear(&f->ch);
	chain_fill(&f->ch, &p2);
	render_ok(f, 3);
	want = pem_of(p2.leaf);
	got = slurp_cur(f, "cert.pem", NULL);
	assert_string_equal(got, want);
	assert_int_equal(gendir_check(f->conf, DOMAIN, 3), 1);
	free(want);
	free(got);
	tpki_chain_free(&p2);
}

/* Prune keeps what it is told to and the current one, whatever its age. */
static void
test_prune(void **state)
{
	static const int64_t	 keep[] = { 7, 5, 3 };
	struct fixture		*f = *state;
	struct cert_error	 err;
	int			 g;

	for (g = 1; g <= 7; g++)
		render_ok(f, g);
	assert_int_equal(gendir_swap(f->conf, DOMAIN, 2, &err), 0);
	assert_int_equal(gendir_prune(f->conf, DOMAIN, keep, nitems(keep)), 0);
	for (g = 1; g <= 7; g++)
		if (gen_exists(f, g) != (g == 2 || g == 3 || g == 5 || g == 7))
			fail_msg("gen-%d: exists %d after prune", g,
			    gen_exists(f, g));
	assert_int_equal(gendir_current(f->conf, DOMAIN), 2);
	assert_int_equal(gendir_check(f->conf, DOMAIN, 2), 1);
}

/* Clean removes partial generations and a stray current.tmp only. */
static void
test_clean(void **state)
{
	struct fixture	*f = *state;
	struct stat	 st;
	char		 path[PATH_MAX], tmp[PATH_MAX];
	int		 fd;

	render_ok(f, 1);
	render_ok(f, 2);
	/* gen-3: crashed before its manifest. */
	dpath(f, "gen-3", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	dpath(f, "gen-3/cert.pem", path, sizeof(path));
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0644)) != -1);
	close(fd);
	/* gen-1: damaged after the fact. */
	dpath(f, "gen-1/root.pem", path, sizeof(path));
	assert_int_equal(truncate(path, 10), 0);
	/* current.tmp: crashed between symlink and rename. */
	dpath(f, "current.tmp", tmp, sizeof(tmp));
	assert_int_equal(symlink("gen-3", tmp), 0);
	/* gen-4 written but unrelated junk names are left alone. */
	dpath(f, "notes", path, sizeof(path));
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0644)) != -1);
	close(fd);

	assert_int_equal(gendir_clean(f->conf, DOMAIN), 0);
	assert_false(gen_exists(f, 3));
	assert_false(gen_exists(f, 1));
	assert_true(gen_exists(f, 2));
	assert_int_equal(lstat(tmp, &st), -1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(gendir_current(f->conf, DOMAIN), 2);
	assert_int_equal(gendir_check(f->conf, DOMAIN, 2), 1);

	/* The generation current names is never removed, even damaged. */
	dpath(f, "gen-2/cert.pem", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(gendir_clean(f->conf, DOMAIN), 0);
	assert_true(gen_exists(f, 2));
	render_ok(f, 3);
	assert_int_equal(gendir_current(f->conf, DOMAIN), 3);
}

static void
test_no_key_group(void **state)
{
	struct fixture	*f = *state;

	free(f->conf->key_group);
	f->conf->key_group = strdup("certd-no-such-group");
	render_ok(f, 1);
	assert_int_equal(dmode(f, "current/key.pem"), 0600);
	assert_int_equal(dmode(f, "current/keystore.p12"), 0600);
	assert_int_equal(gendir_check(f->conf, DOMAIN, 1), 1);
}

static void
test_bad_input(void **state)
{
	struct fixture		*f = *state;
	struct cert_error	 err;
	struct stat		 st;
	char			 path[PATH_MAX];
	EVP_PKEY		*key;

	assert_int_equal(render_generation(f->conf, "../etc", 1, &f->ch, &err),
	    -1);
	assert_int_equal(err.code, E_BAD_REQUEST);
	assert_int_equal(render_generation(f->conf, DOMAIN, 0, &f->ch, &err),
	    -1);
	key = f->ch.key;
	f->ch.key = NULL;
	assert_int_equal(render_generation(f->conf, DOMAIN, 1, &f->ch, &err),
	    -1);
	f->ch.key = key;
	snprintf(path, sizeof(path), "%s/domains", f->conf->state_dir);
	assert_int_equal(stat(path, &st), -1);		/* nothing written */
}

/* truststore_include_system: the system CAs join root + intermediates. */
static void
test_include_system(void **state)
{
	struct fixture		*f = *state;
	struct tpki_chain	 other;
	char			 bundle[PATH_MAX], *a, *b, *s, **aliases;
	X509			**certs;
	size_t			 n, len;

	assert_int_equal(tpki_chain_make(&other, "other.test", 1, TPKI_EC256),
	    0);
	a = pem_of(other.root);
	b = pem_of(other.inter[0]);
	s = cat3(a, b, NULL);
	snprintf(bundle, sizeof(bundle), "%s/ca-certificates.crt", f->dir);
	assert_int_equal(tpki_write(bundle, s), 0);
	render_set_system_bundle(bundle);
	f->conf->truststore_include_system = 1;
	render_ok(f, 1);
	render_set_system_bundle(NULL);
	free(a); free(b); free(s);

	s = slurp_cur(f, "truststore.jks", &len);
	assert_int_equal(jks_read((unsigned char *)s, len, "changeit", &aliases,
	    &certs, &n), 0);
	assert_int_equal(n, 3 + 2);
	jks_entries_free(aliases, certs, n);
	free(s);
	tpki_chain_free(&other);

	/* Without it, only the chain's CAs. */
	f->conf->truststore_include_system = 0;
	render_ok(f, 2);
	s = slurp_cur(f, "truststore.jks", &len);
	assert_int_equal(jks_read((unsigned char *)s, len, "changeit", &aliases,
	    &certs, &n), 0);
	assert_int_equal(n, 3);
	jks_entries_free(aliases, certs, n);
	free(s);
}

static struct domain_conf *
pub_domain(struct fixture *f)
{
	struct domain_conf	*d;
	char			 p[256];

	d = calloc(1, sizeof(*d));
	d->name = strdup(DOMAIN);
	snprintf(p, sizeof(p), "%s/cert_apache.crt", f->pub);
	d->publish[PUB_CERT] = strdup(p);
	snprintf(p, sizeof(p), "%s/cert_apache.key", f->pub);
	d->publish[PUB_KEY] = strdup(p);
	snprintf(p, sizeof(p), "%s/cert_apache_chain.crt", f->pub);
	d->publish[PUB_CHAIN] = strdup(p);
	snprintf(p, sizeof(p), "%s/truststore.jks", f->pub);
	d->publish[PUB_TRUSTSTORE] = strdup(p);
	return d;
}

static void
pub_free(struct domain_conf *d)
{
	int	 i;

	for (i = 0; i < PUB_MAX; i++)
		free(d->publish[i]);
	free(d->name);
	free(d);
}

static void
assert_link(const char *path, const char *target)
{
	char	 buf[PATH_MAX];
	ssize_t	 n;

	n = readlink(path, buf, sizeof(buf) - 1);
	if (n == -1)
		fail_msg("%s: not a symlink: %s", path, strerror(errno));
	buf[n] = '\0';
	assert_string_equal(buf, target);
}

/* Links created; a regular file refused, then replaced with publish_replace;
 * a symlink pointing elsewhere replaced without writing through it. */
static void
test_publish(void **state)
{
	struct fixture		*f = *state;
	struct domain_conf	*d = pub_domain(f);
	struct cert_error	 err;
	struct stat		 st;
	char			 target[PATH_MAX], victim[256], *a, *b;
	int			 k;

	render_ok(f, 1);
	assert_int_equal(publish_domain(f->conf, d, &err), 0);
	for (k = 0; k < PUB_MAX; k++) {
		if (d->publish[k] == NULL)
			continue;
		assert_int_equal(gendir_path(f->conf, DOMAIN,
		    conf_publish_file(k), target, sizeof(target)), 0);
		assert_link(d->publish[k], target);
	}
	a = slurp(d->publish[PUB_CERT], NULL);
	b = slurp_cur(f, "cert.pem", NULL);
	assert_string_equal(a, b);
	free(a);
	free(b);
	/* Again: nothing changes, no error. */
	assert_int_equal(publish_domain(f->conf, d, &err), 0);

	/* A regular file is the admin's: refused, and nothing else moves. */
	assert_int_equal(unlink(d->publish[PUB_CERT]), 0);
	assert_int_equal(unlink(d->publish[PUB_KEY]), 0);
	assert_int_equal(unlink(d->publish[PUB_CHAIN]), 0);
	assert_int_equal(tpki_write(d->publish[PUB_CHAIN], "admin's file\n"),
	    0);
	assert_int_equal(publish_domain(f->conf, d, &err), -1);
	assert_int_equal(err.code, E_CONFLICT);
	assert_non_null(strstr(err.message, d->publish[PUB_CHAIN]));
	assert_non_null(strstr(err.message, "publish_replace"));
	assert_int_equal(lstat(d->publish[PUB_CERT], &st), -1);
	assert_int_equal(lstat(d->publish[PUB_CHAIN], &st), 0);
	assert_true(S_ISREG(st.st_mode));

	d->publish_replace = 1;
	assert_int_equal(publish_domain(f->conf, d, &err), 0);
	assert_int_equal(gendir_path(f->conf, DOMAIN, "chain.pem", target,
	    sizeof(target)), 0);
	assert_link(d->publish[PUB_CHAIN], target);
	assert_int_equal(gendir_path(f->conf, DOMAIN, "cert.pem", target,
	    sizeof(target)), 0);
	assert_link(d->publish[PUB_CERT], target);
	d->publish_replace = 0;

	/* A symlink elsewhere: replaced, its old target untouched. */
	snprintf(victim, sizeof(victim), "%s/victim", f->dir);
	assert_int_equal(tpki_write(victim, "victim\n"), 0);
	assert_int_equal(unlink(d->publish[PUB_KEY]), 0);
	assert_int_equal(symlink(victim, d->publish[PUB_KEY]), 0);
	assert_int_equal(publish_domain(f->conf, d, &err), 0);
	assert_int_equal(gendir_path(f->conf, DOMAIN, "key.pem", target,
	    sizeof(target)), 0);
	assert_link(d->publish[PUB_KEY], target);
	a = slurp(victim, NULL);
	assert_string_equal(a, "victim\n");
	free(a);
	assert_int_equal(gendir_check(f->conf, DOMAIN, 1), 1);

	/* A directory is never replaced, even with publish_replace. */
	d->publish_replace = 1;
	assert_int_equal(unlink(d->publish[PUB_TRUSTSTORE]), 0);
	assert_int_equal(mkdir(d->publish[PUB_TRUSTSTORE], 0755), 0);
	assert_int_equal(publish_domain(f->conf, d, &err), -1);
	assert_int_equal(err.code, E_CONFLICT);
	assert_int_equal(rmdir(d->publish[PUB_TRUSTSTORE]), 0);

	/* Nothing is created outside the given paths: no missing parents. */
	free(d->publish[PUB_ROOT]);
	snprintf(victim, sizeof(victim), "%s/nodir/root.pem", f->pub);
	d->publish[PUB_ROOT] = strdup(victim);
	assert_int_equal(publish_domain(f->conf, d, &err), -1);
	snprintf(victim, sizeof(victim), "%s/nodir", f->pub);
	assert_int_equal(lstat(victim, &st), -1);
	pub_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_files_and_modes),
		T(test_chain_order),
		cmocka_unit_test_setup_teardown(test_no_intermediates, setup0,
		    teardown),
		T(test_manifest),
		T(test_swap_rollback),
		T(test_reuse_complete),
		T(test_prune),
		T(test_clean),
		T(test_no_key_group),
		T(test_bad_input),
		T(test_include_system),
		T(test_publish),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

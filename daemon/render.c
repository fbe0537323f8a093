/*
 * render.c: a generation's files, built in memory from the chain and the
 * config, then written crash-safely under a temporary name, renamed to
 * gen-<N> and swapped in as `current` (gendir.c).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cert.h"
#include "chain.h"
#include "conf.h"
#include "gendir.h"
#include "jks.h"
#include "key.h"
#include "log.h"
#include "pkcs12.h"
#include "render.h"
#include "util.h"

#define SYSTEM_CA_BUNDLE	"/etc/ssl/certs/ca-certificates.crt"
#define SYSTEM_CA_MAX		(16 * 1024 * 1024)

/* One file of a generation, built in memory before anything touches disk. */
struct rfile {
	const char	*name;
	unsigned char	*buf;
	size_t		 len;
	int		 secret;	/* holds key material: 0640/0600, cleared */
	mode_t		 mode;
};

/* Everything a generation's files are made of. */
struct build {
	const struct certd_conf	*conf;
	const char		*domain;
	int64_t			 gen;
	const struct chain	*ch;
	gid_t			 gid;		/* key_group, or -1 */
	STACK_OF(X509)		*sys;		/* truststore_include_system */
	char			 sys_sha256[65];
	char			 inputs[65];
	struct rfile		 files[GENDIR_NFILES];
};

static const char *system_ca_bundle = SYSTEM_CA_BUNDLE;

static gid_t	key_gid(const struct certd_conf *);
static int	system_digest(char out[65], struct cert_error *);

void
render_set_system_bundle(const char *path)
{
	system_ca_bundle = path != NULL ? path : SYSTEM_CA_BUNDLE;
}

static void
rfile_free(struct rfile *f)
{
	if (f->secret)
		freezero(f->buf, f->len);
	else
		free(f->buf);
	f->buf = NULL;
	f->len = 0;
}

static void
rfile_concat(struct rfile *f, const struct rfile *a, const struct rfile *b)
{
	f->buf = xmalloc(a->len + b->len + 1);
	memcpy(f->buf, a->buf, a->len);
	memcpy(f->buf + a->len, b->buf, b->len);
	f->len = a->len + b->len;
}

static int
pem_certs(struct rfile *f, X509 *const *certs, size_t n)
{
	BIO	*b;
	char	*p;
	long	 len;
	size_t	 i;
	int	 rc = -1;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (!PEM_write_bio_X509(b, certs[i]))
			goto out;
	if ((len = BIO_get_mem_data(b, &p)) < 0)
		goto out;
	f->buf = xmalloc(len > 0 ? (size_t)len : 1);
	if (len > 0)
		memcpy(f->buf, p, (size_t)len);
	f->len = (size_t)len;
	rc = 0;
out:
	BIO_free(b);
	return rc;
}

/* Every CA of the system bundle, and the bundle's digest. */
static int
system_cas(struct build *b, struct cert_error *err)
{
	X509	*x;
	BIO	*bio;
	char	*buf;
	size_t	 len;

	if (system_digest(b->sys_sha256, err) == -1)
		return -1;
	if (read_file(system_ca_bundle, SYSTEM_CA_MAX, &buf, &len) == -1)
		return cert_error_set(err, E_INTERNAL, NULL, 0, "%s: %s "
		    "(truststore_include_system)", system_ca_bundle,
		    strerror(errno));
	b->sys = sk_X509_new_null();
	if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL)
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
			if (b->sys == NULL || !sk_X509_push(b->sys, x)) {
				X509_free(x);
				break;
			}
	ERR_clear_error();
	BIO_free(bio);
	free(buf);
	if (b->sys == NULL)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "%s: cannot read the system CA bundle", system_ca_bundle);
	return 0;
}

/* One certificate as far as the inputs digest is concerned. */
struct input_item {
	const char	*name;
	int		 kind;
	char		 fingerprint[65];
};

/*
 * The digest of everything that shapes the files: the chain, the config
 * values that go into them, the system CAs.  It is kept in the manifest,
 * so a changed trust store password (say) makes the next render, or the
 * check at start, write the files again instead of reusing them.
 */
static void
inputs_digest(const struct certd_conf *c, const char *domain, int64_t gen,
    gid_t gid, const char *sys_sha256, const struct input_item *it, size_t n,
    char out[65])
{
	char	*s, *t;
	size_t	 i;

	xasprintf(&s, "certd render inputs 1\n%s\n%" PRId64 "\n%s\n%s\n%s\n"
	    "%d\n%s\n%ld\n", domain, gen, c->state_dir,
	    c->truststore_password, conf_keystore_password(c),
	    c->truststore_include_system, sys_sha256, (long)gid);
	for (i = 0; i < n; i++) {
		xasprintf(&t, "%s%s\n%d\n%s\n", s, it[i].name, it[i].kind,
		    it[i].fingerprint);
		free(s);
		s = t;
	}
	sha256_hex(s, strlen(s), out);
	free(s);
}

/* The system CA bundle's digest, read again only when the file changed. */
static int
system_digest(char out[65], struct cert_error *err)
{
	static struct stat	 seen;
	static char		 sha[65];
	struct stat		 st;
	char			*buf;
	size_t			 len;

	if (stat(system_ca_bundle, &st) == -1)
		return cert_error_set(err, E_INTERNAL, NULL, 0, "%s: %s "
		    "(truststore_include_system)", system_ca_bundle,
		    strerror(errno));
	if (sha[0] == '\0' || st.st_ino != seen.st_ino ||
	    st.st_size != seen.st_size ||
	    st.st_mtim.tv_sec != seen.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != seen.st_mtim.tv_nsec) {
		if (read_file(system_ca_bundle, SYSTEM_CA_MAX, &buf, &len) == -1)
			return cert_error_set(err, E_INTERNAL, NULL, 0, "%s: %s",
			    system_ca_bundle, strerror(errno));
		sha256_hex(buf, len, sha);
		free(buf);
		seen = st;
	}
	strlcpy(out, sha, 65);
	return 0;
}

int
render_inputs(const struct certd_conf *conf, const char *domain, int64_t gen,
    const struct ks_item *items, size_t n, char out[65],
    struct cert_error *err)
{
	struct input_item	 it[CHAIN_MAX];
	char			 sys[65] = "";
	size_t			 i;

	if (n > CHAIN_MAX)
		n = CHAIN_MAX;
	if (conf->truststore_include_system && system_digest(sys, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		it[i].name = items[i].name;
		it[i].kind = (int)items[i].kind;
		strlcpy(it[i].fingerprint, items[i].fingerprint,
		    sizeof(it[i].fingerprint));
	}
	inputs_digest(conf, domain, gen, key_gid(conf), sys, it, n, out);
	return 0;
}

/* Trust entries: root and intermediates, then the system CAs if asked. */
static void
trust_entries(const struct chain *ch, STACK_OF(X509) *sys,
    struct trust_entry **out, char (**aliases)[64], size_t *np)
{
	const char	**names = NULL;
	char		(*al)[64] = NULL, **sysnames = NULL, cn[256];
	struct trust_entry *te = NULL;
	size_t		 nca = ch->n - 1, nsys, n, i;

	nsys = sys != NULL ? (size_t)sk_X509_num(sys) : 0;
	n = nca + nsys;
	names = xcalloc(n, sizeof(*names));
	sysnames = xcalloc(nsys + 1, sizeof(*sysnames));
	al = xcalloc(n, sizeof(*al));
	te = xcalloc(n, sizeof(*te));
	for (i = 0; i < nca; i++)
		names[i] = ch->items[i].name;
	for (i = 0; i < nsys; i++) {
		X509	*x = sk_X509_value(sys, i);

		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, cn, sizeof(cn)) <= 0)
			snprintf(cn, sizeof(cn), "ca-%zu", i + 1);
		xasprintf(&sysnames[i], "system-%s", cn);
		names[nca + i] = sysnames[i];
	}
	jks_make_aliases(names, n, al);
	for (i = 0; i < n; i++) {
		te[i].alias = al[i];
		te[i].cert = i < nca ? ch->items[i].cert :
		    sk_X509_value(sys, i - nca);
	}
	*out = te;
	*aliases = al;
	*np = n;
	for (i = 0; i < nsys; i++)
		free(sysnames[i]);
	free(sysnames);
	free(names);
}

static void
apache_conf(struct rfile *f, const struct certd_conf *conf,
    const char *domain, int has_chain)
{
	char	 cert[PATH_MAX], key[PATH_MAX], chainf[PATH_MAX];
	char	*s;
	int	 r;

	gendir_path(conf, domain, "cert.pem", cert, sizeof(cert));
	gendir_path(conf, domain, "key.pem", key, sizeof(key));
	gendir_path(conf, domain, "chain.pem", chainf, sizeof(chainf));
	/*
	 * Paths go through current/ so that an Include never changes; Apache
	 * refuses an empty SSLCertificateChainFile, so a chain without
	 * intermediates gets no such line.
	 */
	r = xasprintf(&s,
	    "# Written by certd for %s; Include it in the vhost.\n"
	    "SSLCertificateFile \"%s\"\n"
	    "SSLCertificateKeyFile \"%s\"\n"
	    "%s%s%s",
	    domain, cert, key,
	    has_chain ? "SSLCertificateChainFile \"" : "",
	    has_chain ? chainf : "", has_chain ? "\"\n" : "");
	f->buf = (unsigned char *)s;
	f->len = (size_t)r;
}

static void
manifest(struct build *b)
{
	struct rfile	*f = &b->files[GENDIR_NFILES - 1];
	json_t		*root, *arr;
	char		 hex[65], mode[8];
	size_t		 i;

	cert_sha256(chain_leaf(b->ch), hex);
	root = json_pack("{s:I, s:s, s:s, s:s, s:[]}", "generation",
	    (json_int_t)b->gen, "domain", b->domain, "leaf_sha256", hex,
	    "inputs", b->inputs, "files");
	arr = json_object_get(root, "files");
	for (i = 0; i < GENDIR_NFILES - 1; i++) {
		sha256_hex(b->files[i].buf, b->files[i].len, hex);
		snprintf(mode, sizeof(mode), "%04o", (unsigned)b->files[i].mode);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:s}",
		    "name", b->files[i].name, "sha256", hex, "size",
		    (json_int_t)b->files[i].len, "mode", mode));
	}
	/* A trailing newline for people who cat it. */
	f->buf = (unsigned char *)json_text(root, JSON_INDENT(2), &f->len);
	json_decref(root);
}

/*
 * The trust stores depend only on the CAs, the password and the system
 * bundle, and their MAC costs a 10,000-round key derivation.  Renewing a
 * server certificate under the same CAs (the usual commit, on any number
 * of domains) reuses the last stores built instead of deriving again.
 */
static struct {
	char		 digest[65];
	unsigned char	*jks, *p12;
	size_t		 jks_len, p12_len;
} trust_cache;

static void
trust_digest(const struct build *b, char out[65])
{
	char	*s, *t, hex[65];
	size_t	 i;

	xasprintf(&s, "certd trust stores 1\n%s\n%s\n",
	    b->conf->truststore_password, b->sys_sha256);
	for (i = 0; i + 1 < b->ch->n; i++) {
		cert_sha256(b->ch->items[i].cert, hex);
		xasprintf(&t, "%s%s\n%s\n", s, b->ch->items[i].name, hex);
		free(s);
		s = t;
	}
	sha256_hex(s, strlen(s), out);
	freezero(s, strlen(s));
}

static void
copy_out(struct rfile *f, const unsigned char *buf, size_t len)
{
	f->buf = xmalloc(len);
	memcpy(f->buf, buf, len);
	f->len = len;
}

static int
trust_stores(struct build *b, struct rfile *jks, struct rfile *p12)
{
	struct trust_entry	*te = NULL;
	char			(*al)[64] = NULL, digest[65];
	size_t			 nte;
	int			 rc = -1;

	trust_digest(b, digest);
	if (strcmp(digest, trust_cache.digest) == 0) {
		copy_out(jks, trust_cache.jks, trust_cache.jks_len);
		copy_out(p12, trust_cache.p12, trust_cache.p12_len);
		return 0;
	}
	trust_entries(b->ch, b->sys, &te, &al, &nte);
	if (jks_write(te, nte, b->conf->truststore_password, time(NULL),
	    &jks->buf, &jks->len) == 0 &&
	    pkcs12_truststore(te, nte, b->conf->truststore_password, &p12->buf,
	    &p12->len) == 0) {
		free(trust_cache.jks);
		free(trust_cache.p12);
		strlcpy(trust_cache.digest, digest, sizeof(trust_cache.digest));
		trust_cache.jks = xmalloc(jks->len);
		memcpy(trust_cache.jks, jks->buf, jks->len);
		trust_cache.jks_len = jks->len;
		trust_cache.p12 = xmalloc(p12->len);
		memcpy(trust_cache.p12, p12->buf, p12->len);
		trust_cache.p12_len = p12->len;
		rc = 0;
	}
	free(te);
	free(al);
	return rc;
}

/* Build every file into b->files[] (gendir_files order). */
static int
build_files(struct build *b, struct cert_error *err)
{
	const struct chain	*ch = b->ch;
	const struct certd_conf	*conf = b->conf;
	X509			*certs[CHAIN_MAX], *leaf = chain_leaf(ch);
	STACK_OF(X509)		*kchain = NULL;
	char			*pem;
	struct rfile		*f = b->files;
	struct rfile		*cert = &f[0], *key = &f[1], *chainf = &f[2];
	struct rfile		*full = &f[3], *rootf = &f[4], *bundle = &f[5];
	struct rfile		*jks = &f[6], *tp12 = &f[7], *kp12 = &f[8];
	size_t			 ninter = ch->n - 2, i;
	const char		*what = "PEM files";
	int			 rc = -1;

	/* chain.pem: the leaf's issuer first, up to but not the root. */
	for (i = 0; i < ninter; i++)
		certs[i] = ch->items[ch->n - 2 - i].cert;
	if (pem_certs(cert, &leaf, 1) == -1 ||
	    pem_certs(chainf, certs, ninter) == -1 ||
	    pem_certs(rootf, &ch->items[0].cert, 1) == -1)
		goto out;
	rfile_concat(full, cert, chainf);
	what = "the private key";
	if ((pem = key_pem(ch->key, &key->len)) == NULL)
		goto out;
	key->buf = (unsigned char *)pem;
	rfile_concat(bundle, full, key);

	what = "the trust stores";
	if (trust_stores(b, jks, tp12) == -1)
		goto out;

	what = "keystore.p12";
	if ((kchain = sk_X509_new_null()) == NULL)
		goto out;
	for (i = 0; i < ch->n - 1; i++)
		if (!sk_X509_push(kchain, ch->items[ch->n - 2 - i].cert))
			goto out;
	if (pkcs12_keystore(ch->key, leaf, kchain, "server",
	    conf_keystore_password(conf), &kp12->buf, &kp12->len) == -1)
		goto out;
	apache_conf(&f[9], conf, b->domain, ninter > 0);
	manifest(b);
	rc = 0;
out:
	if (rc == -1)
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: cannot encode %s",
		    b->domain, what);
	sk_X509_free(kchain);	/* references only */
	return rc;
}

/* The group for key files, or (gid_t)-1 if it does not exist. */
static gid_t
key_gid(const struct certd_conf *conf)
{
	struct group	 gr, *res = NULL;
	char		 buf[4096];

	if (conf->key_group == NULL || *conf->key_group == '\0' ||
	    getgrnam_r(conf->key_group, &gr, buf, sizeof(buf), &res) != 0 ||
	    res == NULL)
		return (gid_t)-1;
	return gr.gr_gid;
}

static int
build_init(struct build *b, const struct certd_conf *conf, const char *domain,
    int64_t gen, const struct chain *ch, struct cert_error *err)
{
	struct input_item	 it[CHAIN_MAX];
	size_t			 i;

	memset(b, 0, sizeof(*b));
	b->conf = conf;
	b->domain = domain;
	b->gen = gen;
	b->ch = ch;
	/* Public files are world-readable: Apache children, Java services. */
	b->gid = key_gid(conf);
	for (i = 0; i < GENDIR_NFILES; i++) {
		b->files[i].name = gendir_files[i];
		b->files[i].secret = !strcmp(b->files[i].name, "key.pem") ||
		    !strcmp(b->files[i].name, "bundle.pem") ||
		    !strcmp(b->files[i].name, "keystore.p12");
		b->files[i].mode = b->files[i].secret ?
		    (b->gid != (gid_t)-1 ? 0640 : 0600) : 0644;
	}
	if (conf->truststore_include_system && system_cas(b, err) == -1)
		return -1;
	for (i = 0; i < ch->n; i++) {
		it[i].name = ch->items[i].name;
		it[i].kind = (int)ch->items[i].kind;
		cert_sha256(ch->items[i].cert, it[i].fingerprint);
	}
	inputs_digest(conf, domain, gen, b->gid, b->sys_sha256, it, ch->n,
	    b->inputs);
	return 0;
}

static void
build_free(struct build *b)
{
	size_t	 i;

	for (i = 0; i < GENDIR_NFILES; i++)
		rfile_free(&b->files[i]);
	sk_X509_pop_free(b->sys, X509_free);
}

/* Create one file: exclusive, no symlink, owner and mode before content. */
static int
write_one(int gfd, const char *gpath, struct rfile *f, gid_t gid, int *fdp,
    struct cert_error *err)
{
	int	 fd;

	fd = openat(gfd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		goto fail;
	*fdp = fd;
	if (f->secret && gid != (gid_t)-1 && fchown(fd, -1, gid) == -1)
		goto fail;
	if (fchmod(fd, f->mode) == -1 || write_all(fd, f->buf, f->len) == -1)
		goto fail;
	return 0;
fail:
	return cert_error_set(err, E_INTERNAL, NULL, 0, "%s/%s: %s", gpath,
	    f->name, strerror(errno));
}

/*
 * Write every file into the directory tmp under dfd.  Crash-safety order:
 * all files written, then all fsynced (one disk flush each, not one per
 * write), then the manifest, then the directory.
 */
static int
write_dir(struct build *b, int dfd, const char *dir, const char *tmp,
    struct cert_error *err)
{
	char	 path[PATH_MAX + 128];
	int	 fds[GENDIR_NFILES], gfd = -1, rc = -1;
	size_t	 i, nf = GENDIR_NFILES;

	for (i = 0; i < nf; i++)
		fds[i] = -1;
	snprintf(path, sizeof(path), "%s/%s", dir, tmp);
	if (mkdirat(dfd, tmp, 0755) == -1 ||
	    (gfd = openat(dfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fchmod(gfd, 0755) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	for (i = 0; i < nf - 1; i++)
		if (write_one(gfd, path, &b->files[i], b->gid, &fds[i],
		    err) == -1)
			goto out;
	for (i = 0; i < nf - 1; i++)
		if (fsync(fds[i]) == -1) {
			cert_error_set(err, E_INTERNAL, NULL, 0, "%s/%s: %s",
			    path, b->files[i].name, strerror(errno));
			goto out;
		}
	if (write_one(gfd, path, &b->files[nf - 1], b->gid, &fds[nf - 1],
	    err) == -1)
		goto out;
	if (fsync(fds[nf - 1]) == -1 || fsync(gfd) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: fsync: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < nf; i++)
		if (fds[i] != -1)
			close(fds[i]);
	if (gfd != -1)
		close(gfd);
	return rc;
}

/*
 * Move the finished directory tmp to gname.  An existing gname (a damaged
 * or differently rendered one, perhaps the one `current` names) is
 * exchanged atomically with it, so `current` never dangles; the old files
 * then go with tmp.
 */
static int
install_dir(int dfd, const char *dir, const char *tmp, const char *gname,
    struct cert_error *err)
{
	char	 old[80];

	if (renameat2(dfd, tmp, dfd, gname, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EEXIST)
		goto fail;
	if (renameat2(dfd, tmp, dfd, gname, RENAME_EXCHANGE) == -1) {
		/* A file system without exchange: a short window instead. */
		if (errno != EINVAL && errno != ENOSYS)
			goto fail;
		snprintf(old, sizeof(old), GENDIR_TMP_PREFIX "old-%s", gname);
		if (gendir_remove_at(dfd, old) == -1 ||
		    renameat(dfd, gname, dfd, old) == -1 ||
		    renameat(dfd, tmp, dfd, gname) == -1)
			goto fail;
		tmp = old;
	}
	if (gendir_remove_at(dfd, tmp) == -1)
		log_warn("%s/%s: cannot remove the old files", dir, tmp);
	return 0;
fail:
	return cert_error_set(err, E_INTERNAL, NULL, 0, "%s/%s: %s", dir,
	    gname, strerror(errno));
}

int
render_generation(const struct certd_conf *conf, const char *domain,
    int64_t gen, const struct chain *ch, struct cert_error *err)
{
	struct build	 b;
	char		 dir[PATH_MAX], gname[64], tmp[80];
	int		 dfd = -1, rc = -1, c;

	if (gendir_dir(conf, domain, dir, sizeof(dir)) == -1)
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "not a valid domain name: %s", domain);
	if (gen <= 0 || ch == NULL || ch->n < 2 || ch->key == NULL ||
	    chain_leaf(ch) == NULL)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "%s: nothing complete to render for generation %" PRId64,
		    domain, gen);
	snprintf(gname, sizeof(gname), "gen-%" PRId64, gen);
	snprintf(tmp, sizeof(tmp), GENDIR_TMP_PREFIX "%s", gname);

	/* Everything is encoded before the disk is touched. */
	if (build_init(&b, conf, domain, gen, ch, err) == -1 ||
	    build_files(&b, err) == -1)
		goto out;
	if ((dfd = gendir_open(conf, domain, 1)) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: %s", dir,
		    strerror(errno));
		goto out;
	}
	/* Reused only if complete and rendered from the same inputs. */
	if ((c = gendir_check_at(dfd, domain, gen, b.inputs)) == 1) {
		rc = gendir_swap_at(dfd, dir, gen, err);
		goto out;
	}
	if (c == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s/%s: cannot check "
		    "the existing generation", dir, gname);
		goto out;
	}
	if (gendir_remove_at(dfd, tmp) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s/%s: %s", dir, tmp,
		    strerror(errno));
		goto out;
	}
	if (write_dir(&b, dfd, dir, tmp, err) == -1 ||
	    install_dir(dfd, dir, tmp, gname, err) == -1)
		goto out;
	if (fsync(dfd) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: fsync: %s", dir,
		    strerror(errno));
		goto out;
	}
	rc = gendir_swap_at(dfd, dir, gen, err);
out:
	build_free(&b);
	if (dfd != -1)
		close(dfd);
	return rc;
}

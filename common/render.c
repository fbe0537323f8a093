/*
 * render.c: write a generation's files (SPEC §5) crash-safely, swap the
 * `current` symlink, roll back, prune, repair on start, publish symlinks.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
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

#include "chain.h"
#include "conf.h"
#include "jks.h"
#include "log.h"
#include "pkcs12.h"
#include "render.h"
#include "util.h"

#define SYSTEM_CA_BUNDLE	"/etc/ssl/certs/ca-certificates.crt"
#define RENDER_FILE_MAX		(16 * 1024 * 1024)
#define MANIFEST		"manifest.json"

/* Manifest order; manifest.json last because it marks a complete gen. */
const char *const render_files[] = {
	"cert.pem", "key.pem", "chain.pem", "fullchain.pem", "root.pem",
	"bundle.pem", "truststore.jks", "truststore.p12", "keystore.p12",
	"apache-ssl.conf", MANIFEST, NULL
};
_Static_assert(nitems(render_files) == RENDER_NFILES + 1, "RENDER_NFILES");

/* One file of a generation, built in memory before anything touches disk. */
struct rfile {
	const char	*name;
	unsigned char	*buf;
	size_t		 len;
	int		 secret;	/* holds key material: 0640/0600, cleansed */
	mode_t		 mode;
};

static const char *system_ca_bundle = SYSTEM_CA_BUNDLE;

void
render_set_system_bundle(const char *path)
{
	system_ca_bundle = path != NULL ? path : SYSTEM_CA_BUNDLE;
}

static int
domain_dir(const struct certd_conf *conf, const char *domain, char *out,
    size_t outlen)
{
	int	 r;

	if (!conf_valid_domain(domain))
		return -1;
	r = snprintf(out, outlen, "%s/domains/%s", conf->state_dir, domain);
	if (r < 0 || (size_t)r >= outlen)
		return -1;
	return 0;
}

int
render_path(const struct certd_conf *conf, const char *domain,
    const char *file, char *out, size_t outlen)
{
	char	 dir[PATH_MAX];
	int	 r;

	if (domain_dir(conf, domain, dir, sizeof(dir)) == -1)
		return -1;
	r = snprintf(out, outlen, "%s/current/%s", dir, file);
	if (r < 0 || (size_t)r >= outlen)
		return -1;
	return 0;
}

/* "gen-<N>" with N > 0 and nothing else: the generation, else 0. */
static int64_t
gen_parse(const char *s)
{
	char		*end;
	long long	 v;

	if (strncmp(s, "gen-", 4) != 0 || !isdigit((unsigned char)s[4]))
		return 0;
	errno = 0;
	v = strtoll(s + 4, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return 0;
	return v;
}

/* Open the domain directory (no symlink at its last component). */
static int
domain_open(const struct certd_conf *conf, const char *domain)
{
	char	 dir[PATH_MAX];

	if (domain_dir(conf, domain, dir, sizeof(dir)) == -1) {
		errno = EINVAL;
		return -1;
	}
	return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* mkdir path 0755 if missing; fsync its parent when it was created. */
static int
mkdir_durable(const char *path, const char *parent)
{
	if (mkdir(path, 0755) == 0) {
		if (chmod(path, 0755) == -1 || fsync_dir(parent) == -1)
			return -1;
		return 0;
	}
	return errno == EEXIST ? 0 : -1;
}

static int64_t
current_at(int dfd)
{
	char	 buf[64];
	ssize_t	 n;

	n = readlinkat(dfd, "current", buf, sizeof(buf) - 1);
	if (n == -1)
		return errno == ENOENT ? 0 : -1;
	buf[n] = '\0';
	return gen_parse(buf) > 0 ? gen_parse(buf) : -1;
}

int64_t
render_current(const struct certd_conf *conf, const char *domain)
{
	int64_t	 gen;
	int	 dfd;

	if ((dfd = domain_open(conf, domain)) == -1)
		return errno == ENOENT ? 0 : -1;
	gen = current_at(dfd);
	close(dfd);
	return gen;
}

/* sha256 and size of a regular file under dfd; -1 with errno. */
static int
file_digest(int dfd, const char *name, char hex[65], off_t *size,
    mode_t *mode)
{
	EVP_MD_CTX	*ctx = NULL;
	unsigned char	 buf[16384], md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	struct stat	 st;
	ssize_t		 r;
	int		 fd, rc = -1, saved;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		errno = ENOMEM;
		goto out;
	}
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, r);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	hex_encode(md, mdlen, hex);
	*size = st.st_size;
	*mode = st.st_mode & 07777;
	rc = 0;
out:
	saved = errno;
	OPENSSL_cleanse(buf, sizeof(buf));
	EVP_MD_CTX_free(ctx);
	close(fd);
	errno = saved;
	return rc;
}

static int
file_known(const char *name)
{
	size_t	 i;

	for (i = 0; render_files[i] != NULL; i++)
		if (strcmp(render_files[i], name) == 0)
			return 1;
	return 0;
}

/*
 * Does the file name built in expect[] have digest sha?  The PEM files and
 * apache-ssl.conf encode deterministically; the stores carry random salts
 * and a timestamp, so they are not compared.
 */
static int
same_content(const struct rfile *expect, const char *name, const char *sha)
{
	char	 hex[65];
	size_t	 i;

	for (i = 0; i < RENDER_NFILES - 1; i++) {
		if (strcmp(expect[i].name, name) != 0)
			continue;
		if (strstr(name, ".jks") != NULL || strstr(name, ".p12") != NULL)
			return 1;
		sha256_hex(expect[i].buf, expect[i].len, hex);
		return strcmp(hex, sha) == 0;
	}
	return 0;
}

/*
 * Is gen-<gen> under dfd complete?  1 yes; 0 missing, partial or not
 * matching its manifest; -1 when it cannot tell (I/O error, permission),
 * so that render_clean never deletes what it merely could not read.
 */
static int
gen_check_at(int dfd, const char *domain, int64_t gen,
    const struct rfile *expect)
{
	char		 dir[64], hex[65], buf[65536];
	const char	*name, *sha, *mstr;
	json_t		*root = NULL, *files, *f;
	json_error_t	 jerr;
	struct stat	 st;
	ssize_t		 r;
	size_t		 i, len = 0, nfiles = 0;
	off_t		 size;
	mode_t		 mode;
	int		 gfd = -1, mfd = -1, rc = 0;

	snprintf(dir, sizeof(dir), "gen-%" PRId64, gen);
	if ((gfd = openat(dfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		rc = (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) ?
		    0 : -1;
		goto out;
	}
	if ((mfd = openat(gfd, MANIFEST, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		rc = (errno == ENOENT || errno == ELOOP) ? 0 : -1;
		goto out;
	}
	if (fstat(mfd, &st) == -1) {
		rc = -1;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size >= (off_t)sizeof(buf))
		goto out;
	while (len < sizeof(buf) && (r = read(mfd, buf + len,
	    sizeof(buf) - len)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			rc = -1;
			goto out;
		}
		len += r;
	}
	if ((root = json_loadb(buf, len, 0, &jerr)) == NULL)
		goto out;
	if (json_integer_value(json_object_get(root, "generation")) != gen ||
	    (name = json_string_value(json_object_get(root, "domain"))) ==
	    NULL || strcmp(name, domain) != 0)
		goto out;
	if (!json_is_array(files = json_object_get(root, "files")))
		goto out;
	json_array_foreach(files, i, f) {
		name = json_string_value(json_object_get(f, "name"));
		sha = json_string_value(json_object_get(f, "sha256"));
		mstr = json_string_value(json_object_get(f, "mode"));
		if (name == NULL || sha == NULL || mstr == NULL ||
		    !file_known(name) || strcmp(name, MANIFEST) == 0)
			goto out;
		if (file_digest(gfd, name, hex, &size, &mode) == -1) {
			rc = (errno == ENOENT || errno == ELOOP ||
			    errno == EINVAL) ? 0 : -1;
			goto out;
		}
		if (strcmp(hex, sha) != 0 || size !=
		    json_integer_value(json_object_get(f, "size")) ||
		    mode != (mode_t)strtol(mstr, NULL, 8))
			goto out;
		if (expect != NULL && !same_content(expect, name, sha))
			goto out;
		nfiles++;
	}
	/* Every file but the manifest, each once (names checked above). */
	for (i = 0; render_files[i] != NULL; i++)
		;
	if (nfiles != i - 1)
		goto out;
	for (i = 0; i < nfiles; i++) {
		size_t	 j;

		name = json_string_value(json_object_get(json_array_get(files,
		    i), "name"));
		for (j = i + 1; j < nfiles; j++)
			if (strcmp(name, json_string_value(json_object_get(
			    json_array_get(files, j), "name"))) == 0)
				goto out;
	}
	rc = 1;
out:
	json_decref(root);
	if (mfd != -1)
		close(mfd);
	if (gfd != -1)
		close(gfd);
	return rc;
}

int
render_check(const struct certd_conf *conf, const char *domain, int64_t gen)
{
	int	 dfd, rc;

	if (gen <= 0 || (dfd = domain_open(conf, domain)) == -1)
		return 0;
	rc = gen_check_at(dfd, domain, gen, NULL);
	close(dfd);
	return rc == 1;
}

/* Remove a directory tree under dfd (generations hold only files). */
static int
rm_tree_at(int dfd, const char *name, int depth)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, rc = 0;

	if (depth > 4) {
		errno = ELOOP;
		return -1;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dfd, name, 0);
		return errno == ENOENT ? 0 : -1;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(fd, de->d_name, 0) == -1) {
			if ((errno == EISDIR || errno == EPERM) &&
			    rm_tree_at(fd, de->d_name, depth + 1) == 0)
				continue;
			if (errno != ENOENT)
				rc = -1;
		}
	}
	closedir(d);
	if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) == -1 &&
	    errno != ENOENT)
		rc = -1;
	return rc;
}

/* Point `current` at gen-<gen> by renaming a new symlink over it. */
static int
swap_at(int dfd, const char *dompath, int64_t gen, struct cert_error *err)
{
	char	 target[64];

	snprintf(target, sizeof(target), "gen-%" PRId64, gen);
	if (symlinkat(target, dfd, "current.tmp") == -1) {
		if (errno != EEXIST || unlinkat(dfd, "current.tmp", 0) == -1 ||
		    symlinkat(target, dfd, "current.tmp") == -1)
			goto fail;
	}
	if (renameat(dfd, "current.tmp", dfd, "current") == -1)
		goto fail;
	if (fsync(dfd) == -1)
		goto fail;
	return 0;
fail:
	return cert_error_set(err, E_INTERNAL, NULL, 0, "%s/current: %s",
	    dompath, strerror(errno));
}

int
render_swap(const struct certd_conf *conf, const char *domain, int64_t gen,
    struct cert_error *err)
{
	char	 dir[PATH_MAX];
	int	 dfd, rc;

	if (domain_dir(conf, domain, dir, sizeof(dir)) == -1)
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "not a valid domain name: %s", domain);
	if ((dfd = domain_open(conf, domain)) == -1)
		return cert_error_set(err, E_NOT_FOUND, NULL, 0,
		    "%s: %s", dir, strerror(errno));
	if (gen <= 0 || gen_check_at(dfd, domain, gen, NULL) != 1) {
		close(dfd);
		return cert_error_set(err, E_NOT_FOUND, NULL, 0,
		    "%s/gen-%" PRId64 " is not a complete generation", dir,
		    gen);
	}
	rc = swap_at(dfd, dir, gen, err);
	close(dfd);
	return rc;
}

/* The generations under dfd, newest first; *out malloc'd. */
static int
gen_list(int dfd, int64_t **out, size_t *n)
{
	struct dirent	*de;
	DIR		*d;
	int64_t		*v = NULL, *nv, g;
	size_t		 cap = 0, i, j;
	int		 fd;

	*out = NULL;
	*n = 0;
	if ((fd = dup(dfd)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if ((g = gen_parse(de->d_name)) == 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				free(v);
				closedir(d);
				return -1;
			}
			v = nv;
		}
		v[(*n)++] = g;
	}
	closedir(d);
	for (i = 1; i < *n; i++)	/* insertion sort, descending */
		for (j = i; j > 0 && v[j - 1] < v[j]; j--) {
			g = v[j];
			v[j] = v[j - 1];
			v[j - 1] = g;
		}
	*out = v;
	return 0;
}

int
render_prune(const struct certd_conf *conf, const char *domain, int keep)
{
	char	 name[64];
	int64_t	*gens, cur;
	size_t	 n, i;
	int	 dfd, rc = 0;

	if ((dfd = domain_open(conf, domain)) == -1)
		return errno == ENOENT ? 0 : -1;
	cur = current_at(dfd);
	if (gen_list(dfd, &gens, &n) == -1) {
		close(dfd);
		return -1;
	}
	for (i = keep > 0 ? (size_t)keep : 0; i < n; i++) {
		if (gens[i] == cur)
			continue;
		snprintf(name, sizeof(name), "gen-%" PRId64, gens[i]);
		if (rm_tree_at(dfd, name, 0) == -1) {
			log_warn("%s: prune %s", domain, name);
			rc = -1;
		}
	}
	free(gens);
	close(dfd);
	return rc;
}

int
render_clean(const struct certd_conf *conf, const char *domain)
{
	struct stat	 st;
	char		 name[64];
	int64_t		*gens, cur;
	size_t		 n, i;
	int		 dfd, rc = 0, c;

	if ((dfd = domain_open(conf, domain)) == -1)
		return errno == ENOENT ? 0 : -1;
	/* A crash between symlink and rename leaves current.tmp behind. */
	if (fstatat(dfd, "current.tmp", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode) && unlinkat(dfd, "current.tmp", 0) == -1)
		rc = -1;
	cur = current_at(dfd);
	if (gen_list(dfd, &gens, &n) == -1) {
		close(dfd);
		return -1;
	}
	for (i = 0; i < n; i++) {
		c = gen_check_at(dfd, domain, gens[i], NULL);
		if (c == 1)
			continue;
		snprintf(name, sizeof(name), "gen-%" PRId64, gens[i]);
		if (c == -1) {
			log_warnx("%s: cannot check %s; left alone", domain,
			    name);
			continue;
		}
		/*
		 * The generation current names stays even when damaged: the
		 * daemon re-renders it from the DB, and until then the files
		 * that are there are better than a dangling link.
		 */
		if (gens[i] == cur) {
			log_warnx("%s: current %s does not match its manifest",
			    domain, name);
			continue;
		}
		log_info("%s: removing partial %s", domain, name);
		if (rm_tree_at(dfd, name, 0) == -1) {
			log_warn("%s: remove %s", domain, name);
			rc = -1;
		}
	}
	if (n > 0 && fsync(dfd) == -1)
		rc = -1;
	free(gens);
	close(dfd);
	return rc;
}

/* --- building the files in memory ---------------------------------------- */

static void
rfile_free(struct rfile *f)
{
	if (f->buf != NULL && f->secret)
		OPENSSL_cleanse(f->buf, f->len);
	free(f->buf);
	f->buf = NULL;
	f->len = 0;
}

/* Take a mem BIO's bytes into f (copied, so that the BIO can be cleared). */
static int
rfile_from_bio(struct rfile *f, BIO *b)
{
	char	*p;
	long	 len;

	len = BIO_get_mem_data(b, &p);
	if (len < 0 || (f->buf = malloc(len > 0 ? len : 1)) == NULL)
		return -1;
	if (len > 0)
		memcpy(f->buf, p, len);
	f->len = len;
	return 0;
}

static int
rfile_concat(struct rfile *f, const struct rfile *a, const struct rfile *b)
{
	if ((f->buf = malloc(a->len + b->len + 1)) == NULL)
		return -1;
	memcpy(f->buf, a->buf, a->len);
	memcpy(f->buf + a->len, b->buf, b->len);
	f->len = a->len + b->len;
	return 0;
}

static int
pem_certs(struct rfile *f, X509 *const *certs, size_t n)
{
	BIO	*b;
	size_t	 i;
	int	 rc = -1;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (!PEM_write_bio_X509(b, certs[i]))
			goto out;
	rc = rfile_from_bio(f, b);
out:
	BIO_free(b);
	return rc;
}

/* PKCS#8, unencrypted; a secure-memory BIO so that its buffer is cleared. */
static int
pem_key(struct rfile *f, EVP_PKEY *key)
{
	BIO	*b;
	int	 rc = -1;

	if ((b = BIO_new(BIO_s_secmem())) == NULL)
		return -1;
	if (PEM_write_bio_PKCS8PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
		rc = rfile_from_bio(f, b);
	BIO_free(b);
	return rc;
}

/* Every CA of the system bundle, for truststore_include_system. */
static STACK_OF(X509) *
system_cas(void)
{
	STACK_OF(X509)	*sk;
	X509		*x;
	BIO		*b;

	if ((b = BIO_new_file(system_ca_bundle, "r")) == NULL)
		return NULL;
	if ((sk = sk_X509_new_null()) == NULL) {
		BIO_free(b);
		return NULL;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			break;
		}
	ERR_clear_error();
	BIO_free(b);
	return sk;
}

/* Trust entries: root and intermediates, then the system CAs if asked. */
static int
trust_entries(const struct certd_conf *conf, const struct chain *ch,
    STACK_OF(X509) *sys, struct trust_entry **out, char (**aliases)[64],
    size_t *np)
{
	const char	**names = NULL;
	char		(*al)[64] = NULL, **sysnames = NULL, cn[256];
	struct trust_entry *te = NULL;
	size_t		 nca = ch->n - 1, nsys, n, i;
	int		 rc = -1;

	nsys = sys != NULL ? (size_t)sk_X509_num(sys) : 0;
	n = nca + nsys;
	names = calloc(n, sizeof(*names));
	sysnames = calloc(nsys + 1, sizeof(*sysnames));
	al = calloc(n, sizeof(*al));
	te = calloc(n, sizeof(*te));
	if (names == NULL || sysnames == NULL || al == NULL || te == NULL)
		goto out;
	for (i = 0; i < nca; i++)
		names[i] = ch->items[i].name;
	for (i = 0; i < nsys; i++) {
		X509	*x = sk_X509_value(sys, i);

		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, cn, sizeof(cn)) <= 0)
			snprintf(cn, sizeof(cn), "ca-%zu", i + 1);
		if (asprintf(&sysnames[i], "system-%s", cn) == -1) {
			sysnames[i] = NULL;
			goto out;
		}
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
	te = NULL;
	al = NULL;
	rc = 0;
out:
	if (sysnames != NULL)
		for (i = 0; i < nsys; i++)
			free(sysnames[i]);
	free(sysnames);
	free(names);
	free(al);
	free(te);
	return rc;
}

static int
apache_conf(struct rfile *f, const struct certd_conf *conf,
    const char *domain, int has_chain)
{
	char	 cert[PATH_MAX], key[PATH_MAX], chainf[PATH_MAX];
	char	*s = NULL;
	int	 r;

	if (render_path(conf, domain, "cert.pem", cert, sizeof(cert)) == -1 ||
	    render_path(conf, domain, "key.pem", key, sizeof(key)) == -1 ||
	    render_path(conf, domain, "chain.pem", chainf, sizeof(chainf)) == -1)
		return -1;
	/*
	 * Paths go through current/ so that an Include never changes; Apache
	 * refuses an empty SSLCertificateChainFile, so a chain without
	 * intermediates gets no such line.
	 */
	r = asprintf(&s,
	    "# Written by certd for %s; Include it in the vhost.\n"
	    "SSLCertificateFile \"%s\"\n"
	    "SSLCertificateKeyFile \"%s\"\n"
	    "%s%s%s",
	    domain, cert, key,
	    has_chain ? "SSLCertificateChainFile \"" : "",
	    has_chain ? chainf : "", has_chain ? "\"\n" : "");
	if (r == -1)
		return -1;
	f->buf = (unsigned char *)s;
	f->len = r;
	return 0;
}

static int
manifest(struct rfile *f, const char *domain, int64_t gen, X509 *leaf,
    const struct rfile *files, size_t n)
{
	json_t	*root, *arr, *o;
	char	 hex[65], mode[8];
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	char	*s;
	size_t	 i;

	if (!X509_digest(leaf, EVP_sha256(), md, &mdlen) ||
	    (root = json_object()) == NULL)
		return -1;
	hex_encode(md, mdlen, hex);
	json_object_set_new(root, "generation", json_integer(gen));
	json_object_set_new(root, "domain", json_string(domain));
	json_object_set_new(root, "leaf_sha256", json_string(hex));
	json_object_set_new(root, "files", arr = json_array());
	for (i = 0; i < n; i++) {
		sha256_hex(files[i].buf, files[i].len, hex);
		snprintf(mode, sizeof(mode), "%04o", (unsigned)files[i].mode);
		o = json_pack("{s:s, s:s, s:I, s:s}", "name", files[i].name,
		    "sha256", hex, "size", (json_int_t)files[i].len,
		    "mode", mode);
		if (o == NULL || json_array_append_new(arr, o) == -1) {
			json_decref(root);
			return -1;
		}
	}
	s = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (s == NULL)
		return -1;
	f->buf = (unsigned char *)s;
	f->len = strlen(s);
	/* A trailing newline for people who cat it; the digest is of files. */
	if ((f->buf = realloc(s, f->len + 2)) == NULL) {
		free(s);
		return -1;
	}
	f->buf[f->len++] = '\n';
	return 0;
}

/* Build every file but the manifest into files[] (render_files order). */
static int
build_files(const struct certd_conf *conf, const char *domain,
    const struct chain *ch, struct rfile *files, struct cert_error *err)
{
	X509			*certs[CHAIN_MAX];
	STACK_OF(X509)		*sys = NULL, *kchain = NULL;
	struct trust_entry	*te = NULL;
	char			(*al)[64] = NULL;
	struct rfile		*cert = &files[0], *key = &files[1];
	struct rfile		*chainf = &files[2], *full = &files[3];
	struct rfile		*rootf = &files[4], *bundle = &files[5];
	struct rfile		*jks = &files[6], *tp12 = &files[7];
	struct rfile		*kp12 = &files[8], *ap = &files[9];
	X509			*leaf = ch->items[ch->n - 1].cert;
	size_t			 ninter = ch->n - 2, i, nte;
	const char		*what = "PEM files";
	int			 rc = -1;

	/* chain.pem: the leaf's issuer first, up to but not the root. */
	for (i = 0; i < ninter; i++)
		certs[i] = ch->items[ch->n - 2 - i].cert;
	if (pem_certs(cert, &leaf, 1) == -1 ||
	    pem_certs(chainf, certs, ninter) == -1 ||
	    rfile_concat(full, cert, chainf) == -1 ||
	    pem_certs(rootf, &ch->items[0].cert, 1) == -1)
		goto out;
	what = "the private key";
	if (pem_key(key, ch->key) == -1 || rfile_concat(bundle, full, key) == -1)
		goto out;

	what = "the trust stores";
	if (conf->truststore_include_system && (sys = system_cas()) == NULL) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: cannot read the "
		    "system CA bundle", system_ca_bundle);
		goto fail;
	}
	if (trust_entries(conf, ch, sys, &te, &al, &nte) == -1 ||
	    jks_write(te, nte, conf->truststore_password, time(NULL),
	    &jks->buf, &jks->len) == -1 ||
	    pkcs12_truststore(te, nte, conf->truststore_password, &tp12->buf,
	    &tp12->len) == -1)
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
	what = "apache-ssl.conf";
	if (apache_conf(ap, conf, domain, ninter > 0) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: cannot encode %s",
		    domain, what);
fail:
	sk_X509_free(kchain);	/* references only */
	sk_X509_pop_free(sys, X509_free);
	free(te);
	free(al);
	return rc;
}

/* --- writing -------------------------------------------------------------- */

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

int
render_generation(const struct certd_conf *conf, const char *domain,
    int64_t gen, const struct chain *ch, struct cert_error *err)
{
	struct rfile	 files[RENDER_NFILES];
	int		 fds[RENDER_NFILES];
	char		 base[PATH_MAX], dir[PATH_MAX], gpath[PATH_MAX + 64];
	char		 gname[64];
	size_t		 nf = RENDER_NFILES, i;
	gid_t		 gid;
	int		 dfd = -1, gfd = -1, rc = -1, c;

	memset(files, 0, sizeof(files));
	for (i = 0; i < nf; i++) {
		files[i].name = render_files[i];
		fds[i] = -1;
	}
	if (domain_dir(conf, domain, dir, sizeof(dir)) == -1)
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "not a valid domain name: %s", domain);
	if (gen <= 0 || ch == NULL || ch->n < 2 || ch->key == NULL ||
	    ch->items[ch->n - 1].kind != KIND_SERVER)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "%s: nothing complete to render for generation %" PRId64,
		    domain, gen);
	snprintf(gname, sizeof(gname), "gen-%" PRId64, gen);
	snprintf(gpath, sizeof(gpath), "%s/%s", dir, gname);

	/* Public files are world-readable: Apache children, Java services. */
	gid = key_gid(conf);
	for (i = 0; i < nf; i++) {
		files[i].secret = !strcmp(files[i].name, "key.pem") ||
		    !strcmp(files[i].name, "bundle.pem") ||
		    !strcmp(files[i].name, "keystore.p12");
		files[i].mode = files[i].secret ?
		    (gid != (gid_t)-1 ? 0640 : 0600) : 0644;
	}
	/* Everything is encoded before the disk is touched. */
	if (build_files(conf, domain, ch, files, err) == -1)
		goto out;
	if (manifest(&files[nf - 1], domain, gen, ch->items[ch->n - 1].cert,
	    files, nf - 1) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0,
		    "%s: cannot encode manifest.json", domain);
		goto out;
	}

	snprintf(base, sizeof(base), "%s/domains", conf->state_dir);
	if (mkdir_durable(base, conf->state_dir) == -1 ||
	    mkdir_durable(dir, base) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: %s", dir,
		    strerror(errno));
		goto out;
	}
	if ((dfd = domain_open(conf, domain)) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: %s", dir,
		    strerror(errno));
		goto out;
	}
	/* Reused only if complete and holding this very chain and key. */
	if ((c = gen_check_at(dfd, domain, gen, files)) == 1) {
		rc = swap_at(dfd, dir, gen, err);
		goto out;
	}
	if (c == -1 || rm_tree_at(dfd, gname, 0) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: %s", gpath,
		    c == -1 ? "cannot check the existing generation" :
		    strerror(errno));
		goto out;
	}
	if (mkdirat(dfd, gname, 0755) == -1 ||
	    (gfd = openat(dfd, gname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fchmod(gfd, 0755) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: %s", gpath,
		    strerror(errno));
		goto out;
	}

	/*
	 * Crash-safety order: all files written, then all fsynced (one disk
	 * flush each, not one per write), then the manifest that marks the
	 * generation complete, then the directories, then the swap.  A crash
	 * at any point leaves current on a complete generation.
	 */
	for (i = 0; i < nf - 1; i++)
		if (write_one(gfd, gpath, &files[i], gid, &fds[i], err) == -1)
			goto out;
	for (i = 0; i < nf - 1; i++)
		if (fsync(fds[i]) == -1) {
			cert_error_set(err, E_INTERNAL, NULL, 0, "%s/%s: %s",
			    gpath, files[i].name, strerror(errno));
			goto out;
		}
	if (write_one(gfd, gpath, &files[nf - 1], gid, &fds[nf - 1], err) == -1)
		goto out;
	if (fsync(fds[nf - 1]) == -1 || fsync(gfd) == -1 || fsync(dfd) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: fsync: %s",
		    gpath, strerror(errno));
		goto out;
	}
	rc = swap_at(dfd, dir, gen, err);
out:
	for (i = 0; i < nf; i++) {
		if (fds[i] != -1)
			close(fds[i]);
		rfile_free(&files[i]);
	}
	if (gfd != -1)
		close(gfd);
	if (dfd != -1)
		close(dfd);
	return rc;
}

/* --- publishing ----------------------------------------------------------- */

/* What publishing must do at a path. */
enum pub_state { PUB_REPLACE, PUB_SAME, PUB_ABSENT };

/* Can path become our symlink?  0 yes (*state set), -1 with err. */
static int
publish_ok(const char *path, const char *target, int replace,
    enum pub_state *state, struct cert_error *err)
{
	struct stat	 st;
	char		 buf[PATH_MAX];
	ssize_t		 n;

	*state = PUB_REPLACE;
	if (path[0] != '/')
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "publish path %s is not absolute", path);
	if (lstat(path, &st) == -1) {
		if (errno == ENOENT) {
			*state = PUB_ABSENT;
			return 0;
		}
		return cert_error_set(err, E_INTERNAL, NULL, 0, "%s: %s",
		    path, strerror(errno));
	}
	if (S_ISLNK(st.st_mode)) {
		n = readlink(path, buf, sizeof(buf) - 1);
		if (n >= 0) {
			buf[n] = '\0';
			if (strcmp(buf, target) == 0)
				*state = PUB_SAME;
		}
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		if (replace)
			return 0;
		return cert_error_set(err, E_CONFLICT, NULL, 0,
		    "%s is a regular file, not certd's symlink; move it away "
		    "or set publish_replace = yes to replace it", path);
	}
	return cert_error_set(err, E_CONFLICT, NULL, 0,
	    "%s exists and is not a file or symlink; certd will not replace "
	    "it", path);
}

/* The directory part of path (for fsync), into out. */
static void
parent_of(const char *path, char *out, size_t outlen)
{
	char	*slash;

	strlcpy(out, path, outlen);
	if ((slash = strrchr(out, '/')) == NULL)
		strlcpy(out, ".", outlen);
	else if (slash == out)
		out[1] = '\0';
	else
		*slash = '\0';
}

static int
publish_one(const char *path, const char *target, enum pub_state state,
    struct cert_error *err)
{
	struct stat	 st;
	char		 tmp[PATH_MAX], parent[PATH_MAX];

	/* Nothing there: create in place, so a file that appears meanwhile
	 * is refused (EEXIST), not replaced. */
	if (state == PUB_ABSENT) {
		if (symlink(target, path) == -1) {
			if (errno == EEXIST)
				return cert_error_set(err, E_CONFLICT, NULL, 0,
				    "%s appeared while publishing; not "
				    "replaced", path);
			goto fail;
		}
		goto sync;
	}

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.certd-tmp", path) >=
	    sizeof(tmp))
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "publish path too long: %s", path);
	/* Only ever remove our own leftover, and only if it is a symlink. */
	if (lstat(tmp, &st) == 0) {
		if (!S_ISLNK(st.st_mode))
			return cert_error_set(err, E_CONFLICT, NULL, 0,
			    "%s exists and is not certd's symlink", tmp);
		if (unlink(tmp) == -1)
			goto fail;
	}
	/*
	 * rename(2) replaces the directory entry itself: a symlink that
	 * points elsewhere is replaced, never written through.
	 */
	if (symlink(target, tmp) == -1 || rename(tmp, path) == -1) {
		int	 saved = errno;

		unlink(tmp);
		errno = saved;
		goto fail;
	}
sync:
	parent_of(path, parent, sizeof(parent));
	if (fsync_dir(parent) == -1)
		goto fail;
	return 0;
fail:
	return cert_error_set(err, E_INTERNAL, NULL, 0, "%s: %s", path,
	    strerror(errno));
}

int
render_publish(const struct certd_conf *conf, const struct domain_conf *d,
    struct cert_error *err)
{
	char		 target[PUB_MAX][PATH_MAX];
	enum pub_state	 state[PUB_MAX];
	int		 k;

	/* Check every path first, so a conflict changes nothing. */
	for (k = 0; k < PUB_MAX; k++) {
		if (d->publish[k] == NULL)
			continue;
		if (render_path(conf, d->name, conf_publish_file(k), target[k],
		    sizeof(target[k])) == -1)
			return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
			    "cannot publish for domain %s", d->name);
		if (publish_ok(d->publish[k], target[k], d->publish_replace,
		    &state[k], err) == -1)
			return -1;
	}
	for (k = 0; k < PUB_MAX; k++) {
		if (d->publish[k] == NULL || state[k] == PUB_SAME)
			continue;
		if (publish_one(d->publish[k], target[k], state[k], err) == -1)
			return -1;
		log_info("%s: published %s -> %s", d->name, d->publish[k],
		    target[k]);
	}
	return 0;
}

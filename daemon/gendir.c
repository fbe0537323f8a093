/*
 * gendir.c: a domain's generations on disk (see gendir.h): paths, the
 * `current` link, the manifest check, pruning and the clean-up at start.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "gendir.h"
#include "log.h"
#include "names.h"
#include "util.h"

/* Manifest order; the manifest last because it marks a complete gen. */
const char *const gendir_files[] = {
	"cert.pem", "key.pem", "chain.pem", "fullchain.pem", "root.pem",
	"bundle.pem", "truststore.jks", "truststore.p12", "keystore.p12",
	"apache-ssl.conf", GENDIR_MANIFEST, NULL
};
_Static_assert(nitems(gendir_files) == GENDIR_NFILES + 1, "GENDIR_NFILES");




int
gendir_dir(const struct certd_conf *conf, const char *domain, char *out,
    size_t outlen)
{
	int	 r;

	if (!domain_valid(domain))
		return -1;
	r = snprintf(out, outlen, "%s/domains/%s", conf->state_dir, domain);
	if (r < 0 || (size_t)r >= outlen)
		return -1;
	return 0;
}

int
gendir_path(const struct certd_conf *conf, const char *domain,
    const char *file, char *out, size_t outlen)
{
	char	 dir[PATH_MAX];
	int	 r;

	if (gendir_dir(conf, domain, dir, sizeof(dir)) == -1)
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

int
gendir_open(const struct certd_conf *conf, const char *domain, int create)
{
	char	 dir[PATH_MAX], base[PATH_MAX];

	if (gendir_dir(conf, domain, dir, sizeof(dir)) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (create) {
		snprintf(base, sizeof(base), "%s/domains", conf->state_dir);
		if (mkdir_durable(base, conf->state_dir) == -1 ||
		    mkdir_durable(dir, base) == -1)
			return -1;
	}
	return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int64_t
gendir_current_at(int dfd)
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
gendir_current(const struct certd_conf *conf, const char *domain)
{
	int64_t	 gen;
	int	 dfd;

	if ((dfd = gendir_open(conf, domain, 0)) == -1)
		return errno == ENOENT ? 0 : -1;
	gen = gendir_current_at(dfd);
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

	for (i = 0; gendir_files[i] != NULL; i++)
		if (strcmp(gendir_files[i], name) == 0)
			return 1;
	return 0;
}

int
gendir_check_at(int dfd, const char *domain, int64_t gen, const char *inputs)
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
	if ((mfd = openat(gfd, GENDIR_MANIFEST, O_RDONLY | O_NOFOLLOW |
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
	if (inputs != NULL && ((sha = json_string_value(json_object_get(root,
	    "inputs"))) == NULL || strcmp(sha, inputs) != 0))
		goto out;
	if (!json_is_array(files = json_object_get(root, "files")))
		goto out;
	json_array_foreach(files, i, f) {
		name = json_string_value(json_object_get(f, "name"));
		sha = json_string_value(json_object_get(f, "sha256"));
		mstr = json_string_value(json_object_get(f, "mode"));
		if (name == NULL || sha == NULL || mstr == NULL ||
		    !file_known(name) || strcmp(name, GENDIR_MANIFEST) == 0)
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
		nfiles++;
	}
	/* Every file but the manifest, each once (names checked above). */
	if (nfiles != GENDIR_NFILES - 1)
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
gendir_check(const struct certd_conf *conf, const char *domain, int64_t gen)
{
	int	 dfd, rc;

	if (gen <= 0 || (dfd = gendir_open(conf, domain, 0)) == -1)
		return 0;
	rc = gendir_check_at(dfd, domain, gen, NULL);
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

int
gendir_remove_at(int dfd, const char *name)
{
	return rm_tree_at(dfd, name, 0);
}

int
gendir_swap_at(int dfd, const char *dir, int64_t gen, struct cert_error *err)
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
	    dir, strerror(errno));
}

int
gendir_swap(const struct certd_conf *conf, const char *domain, int64_t gen,
    struct cert_error *err)
{
	char	 dir[PATH_MAX];
	int	 dfd, rc;

	if (gendir_dir(conf, domain, dir, sizeof(dir)) == -1)
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "not a valid domain name: %s", domain);
	if ((dfd = gendir_open(conf, domain, 0)) == -1)
		return cert_error_set(err, E_NOT_FOUND, NULL, 0,
		    "%s: %s", dir, strerror(errno));
	if (gen <= 0 || gendir_check_at(dfd, domain, gen, NULL) != 1) {
		close(dfd);
		return cert_error_set(err, E_NOT_FOUND, NULL, 0,
		    "%s/gen-%" PRId64 " is not a complete generation", dir,
		    gen);
	}
	rc = gendir_swap_at(dfd, dir, gen, err);
	close(dfd);
	return rc;
}

int
gendir_list(int dfd, int64_t **out, size_t *n)
{
	struct dirent	*de;
	DIR		*d;
	int64_t		*v = NULL, g;
	size_t		 i, j;
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
		v = xreallocarray(v, *n + 1, sizeof(*v));
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

static int
kept(int64_t gen, const int64_t *keep, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (keep[i] == gen)
			return 1;
	return 0;
}

int
gendir_prune(const struct certd_conf *conf, const char *domain,
    const int64_t *keep, size_t nkeep)
{
	char	 name[64];
	int64_t	*gens, cur;
	size_t	 n, i;
	int	 dfd, rc = 0;

	if ((dfd = gendir_open(conf, domain, 0)) == -1)
		return errno == ENOENT ? 0 : -1;
	cur = gendir_current_at(dfd);
	if (gendir_list(dfd, &gens, &n) == -1) {
		close(dfd);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (gens[i] == cur || kept(gens[i], keep, nkeep))
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
gendir_unlink_current(const struct certd_conf *conf, const char *domain,
    struct cert_error *err)
{
	char	 dir[PATH_MAX];
	int	 dfd, rc = 0;

	if ((dfd = gendir_open(conf, domain, 0)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		    cert_error_set(err, E_INTERNAL,
		    NULL, 0, "%s: %s", domain, strerror(errno));
	gendir_dir(conf, domain, dir, sizeof(dir));
	if ((unlinkat(dfd, "current", 0) == -1 && errno != ENOENT) ||
	    fsync(dfd) == -1)
		rc = cert_error_set(err, E_INTERNAL, NULL, 0, "%s/current: %s",
		    dir, strerror(errno));
	close(dfd);
	return rc;
}

/* Temporary directories render.c left when it was stopped mid-way. */
static int
clean_tmp(int dfd, const char *domain)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, rc = 0;

	if ((fd = dup(dfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, GENDIR_TMP_PREFIX,
		    strlen(GENDIR_TMP_PREFIX)) != 0)
			continue;
		log_info("%s: removing unfinished %s", domain, de->d_name);
		if (rm_tree_at(dfd, de->d_name, 0) == -1) {
			log_warn("%s: remove %s", domain, de->d_name);
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

int
gendir_clean(const struct certd_conf *conf, const char *domain)
{
	struct stat	 st;
	char		 name[64];
	int64_t		*gens, cur;
	size_t		 n, i;
	int		 dfd, rc = 0, c;

	if ((dfd = gendir_open(conf, domain, 0)) == -1)
		return errno == ENOENT ? 0 : -1;
	/* A crash between symlink and rename leaves current.tmp behind. */
	if (fstatat(dfd, "current.tmp", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode) && unlinkat(dfd, "current.tmp", 0) == -1)
		rc = -1;
	if (clean_tmp(dfd, domain) == -1)
		rc = -1;
	cur = gendir_current_at(dfd);
	if (gendir_list(dfd, &gens, &n) == -1) {
		close(dfd);
		return -1;
	}
	for (i = 0; i < n; i++) {
		c = gendir_check_at(dfd, domain, gens[i], NULL);
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
		 * daemon renders it again from the DB into a new directory
		 * and swaps that in; until then the files that are there are
		 * better than a dangling link.
		 */
		if (gens[i] == cur) {
			log_warnx("%s: current %s does not match its manifest",
			    domain, name);
			continue;
		}
		log_info("%s: removing incomplete %s", domain, name);
		if (rm_tree_at(dfd, name, 0) == -1) {
			log_warn("%s: remove %s", domain, name);
			rc = -1;
		}
	}
	if (fsync(dfd) == -1)
		rc = -1;
	free(gens);
	close(dfd);
	return rc;
}

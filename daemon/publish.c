/*
 * publish.c: a domain's files at fixed paths, such as CloudStack's
 * /etc/ssl/certs/cert_apache.crt: each path becomes a symlink to the file
 * in <state_dir>/domains/<d>/current/, so a stock service config picks up
 * every new generation with no edit.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gendir.h"
#include "log.h"
#include "publish.h"
#include "util.h"

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
publish_domain(const struct certd_conf *conf, const struct domain_conf *d,
    struct cert_error *err)
{
	char		 target[PUB_MAX][PATH_MAX];
	enum pub_state	 state[PUB_MAX];
	int		 k;

	/* Check every path first, so a conflict changes nothing. */
	for (k = 0; k < PUB_MAX; k++) {
		if (d->publish[k] == NULL)
			continue;
		if (gendir_path(conf, d->name, conf_publish_file(k), target[k],
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

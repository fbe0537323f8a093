/*
 * gendir.h: a domain's generations on disk.  Each commit's files live in
 * <state_dir>/domains/<domain>/gen-<N>/, complete or not at all (render.c
 * writes them under a temporary name and renames), and a relative symlink
 * `current` names one of them; it is replaced by rename(2), so a reader
 * never sees half of one generation and half of another.  A generation is
 * complete when its manifest.json lists every file with the digest, size
 * and mode it has.
 */
#ifndef CERTD_GENDIR_H
#define CERTD_GENDIR_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "error.h"

/* The files of a generation in manifest order, NULL-ended; the manifest
 * comes last. */
extern const char *const gendir_files[];
#define GENDIR_NFILES		11
#define GENDIR_MANIFEST		"manifest.json"
/* render.c writes a generation under this prefix, then renames it. */
#define GENDIR_TMP_PREFIX	".tmp-"

/* <state_dir>/domains/<domain> into out; -1 if too long or not a domain. */
int	gendir_dir(const struct certd_conf *, const char *domain, char *out,
	    size_t outlen);
/* <state_dir>/domains/<domain>/current/<file> into out. */
int	gendir_path(const struct certd_conf *, const char *domain,
	    const char *file, char *out, size_t outlen);
/* The domain directory, opened without following a symlink; with create,
 * made (and its parent fsynced) if missing.  -1 with errno. */
int	gendir_open(const struct certd_conf *, const char *domain,
	    int create);

/* The generation `current` names: 0 if none, -1 if it is damaged. */
int64_t	gendir_current(const struct certd_conf *, const char *domain);
int64_t	gendir_current_at(int dfd);
/*
 * Is gen-<gen> complete: 1 yes; 0 missing, partial, not matching its
 * manifest, or (inputs not NULL) rendered from other inputs than these;
 * -1 when it cannot tell (I/O error), so that nothing is ever deleted
 * because it could not be read.
 */
int	gendir_check(const struct certd_conf *, const char *domain,
	    int64_t gen);
int	gendir_check_at(int dfd, const char *domain, int64_t gen,
	    const char *inputs);
/* Point `current` at complete gen-<gen> (rename of a new symlink, fsync). */
int	gendir_swap(const struct certd_conf *, const char *domain, int64_t gen,
	    struct cert_error *);
int	gendir_swap_at(int dfd, const char *dir, int64_t gen,
	    struct cert_error *);
/* Remove a directory entry under dfd and everything below it. */
int	gendir_remove_at(int dfd, const char *name);
/* The generations on disk, newest first; *out malloc'd. */
int	gendir_list(int dfd, int64_t **out, size_t *n);
/* Remove `current` (nothing of the domain is served any more). */
int	gendir_unlink_current(const struct certd_conf *, const char *domain,
	    struct cert_error *);
/* Remove every gen-* directory but those in keep[] and the one `current`
 * names (the store decides what is kept: keystore_prune). */
int	gendir_prune(const struct certd_conf *, const char *domain,
	    const int64_t *keep, size_t nkeep);
/*
 * On start: remove temporary directories, a stray current.tmp and
 * incomplete generations.  The generation `current` names is kept even
 * when damaged (it is logged; the caller renders it again), and one that
 * cannot be read is left.
 */
int	gendir_clean(const struct certd_conf *, const char *domain);

#endif

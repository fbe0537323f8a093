/*
 * render.h: turn a committed generation into every file local services read
 * (SPEC §5) in <state_dir>/domains/<domain>/gen-<N>/, swap the relative
 * `current` symlink atomically, keep the last generations, roll back,
 * repair on start, and publish symlinks at configured paths.
 */
#ifndef CERTD_RENDER_H
#define CERTD_RENDER_H

#include <stdint.h>

#include "chain.h"
#include "conf.h"
#include "proto.h"

/* The names of the files in a generation, in manifest order; NULL-ended.
 * manifest.json comes last: a generation without it is partial. */
extern const char *const render_files[];
#define RENDER_NFILES	11

/*
 * Write gen-<gen> for domain from chain (which holds the key) and make it
 * current.  Crash-safe: files O_EXCL|O_NOFOLLOW, owner/mode before content,
 * fsync each, fsync dir, rename a new symlink over `current`, fsync parent.
 * If gen-<gen> exists complete (manifest matches) with the same chain and
 * key it is reused; a partial or different gen-<gen> is replaced.  Key files
 * (key.pem, bundle.pem, keystore.p12) are 0640 group key_group, or 0600 if
 * that group does not exist; the rest 0644.  Errors: E_BAD_REQUEST for a bad
 * domain name, E_INTERNAL with the path and strerror (never key bytes).
 */
int	render_generation(const struct certd_conf *, const char *domain,
	    int64_t gen, const struct chain *, struct cert_error *);
/* Point `current` at an existing complete generation (rollback). */
int	render_swap(const struct certd_conf *, const char *domain, int64_t gen,
	    struct cert_error *);
/* The generation `current` names, 0 if none; -1 on a damaged link. */
int64_t	render_current(const struct certd_conf *, const char *domain);
/* Does gen-<gen> exist and match its manifest?  1 yes, 0 no. */
int	render_check(const struct certd_conf *, const char *domain, int64_t gen);
/* Remove gen-* directories beyond the newest keep (never current). */
int	render_prune(const struct certd_conf *, const char *domain, int keep);
/*
 * On start: remove partial generations (no complete manifest) of domain and
 * a stray current.tmp.  The generation `current` names is kept even when
 * damaged (it is logged; re-render it), and one that cannot be read is left.
 */
int	render_clean(const struct certd_conf *, const char *domain);
/*
 * Create/refresh the publish symlinks of a domain (SPEC §5): each path
 * becomes a symlink to <state>/domains/<d>/current/<file>, made atomically
 * (symlink to path.certd-tmp, rename).  A symlink is replaced, never written
 * through; a regular file only with publish_replace (else E_CONFLICT naming
 * it); anything else never.  Every path is checked before any is changed.
 * Missing parent directories are not created.
 */
int	render_publish(const struct certd_conf *, const struct domain_conf *,
	    struct cert_error *);
/* Path of a file in a domain's current/ ("<state>/domains/<d>/current/<f>"). */
int	render_path(const struct certd_conf *, const char *domain,
	    const char *file, char *out, size_t outlen);
/* Where truststore_include_system reads CAs (NULL: the Debian bundle,
 * /etc/ssl/certs/ca-certificates.crt); for tests. */
void	render_set_system_bundle(const char *path);

#endif

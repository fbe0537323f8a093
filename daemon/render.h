/*
 * render.h: turn a generation into every file local services read, in
 * <state_dir>/domains/<domain>/gen-<N>/ (gendir.h), and make it current.
 */
#ifndef CERTD_RENDER_H
#define CERTD_RENDER_H

#include <stdint.h>

#include "chain.h"
#include "conf.h"
#include "error.h"
#include "keystore.h"

/*
 * Write gen-<gen> for domain from chain (which holds the key) and make it
 * current.  Crash-safe: everything is encoded in memory first; files are
 * created O_EXCL|O_NOFOLLOW in a temporary directory, owner and mode set
 * before content, each fsynced, then the manifest, the directory, a rename
 * to gen-<gen> (an atomic exchange if one exists), the parent, and the
 * swap of `current`.  A complete gen-<gen> rendered from the same inputs
 * (chain, passwords, key group, system CAs: a digest kept in the manifest)
 * is reused.  Key files (key.pem, bundle.pem, keystore.p12) are 0640 group
 * key_group, or 0600 if that group does not exist; the rest 0644.  Errors:
 * E_BAD_REQUEST for a bad domain name, E_INTERNAL with the path and
 * strerror (never key bytes).
 */
int	render_generation(const struct certd_conf *, const char *domain,
	    int64_t gen, const struct chain *, struct cert_error *);
/*
 * The digest of a generation's render inputs from its rows (no key is
 * read), as render_generation writes it into the manifest: a complete
 * generation whose manifest says otherwise was rendered under another
 * config and is rendered again.
 */
int	render_inputs(const struct certd_conf *, const char *domain,
	    int64_t gen, const struct ks_item *, size_t n, char out[65],
	    struct cert_error *);
/* Where truststore_include_system reads CAs (NULL: Debian's bundle,
 * /etc/ssl/certs/ca-certificates.crt); for tests. */
void	render_set_system_bundle(const char *path);

#endif

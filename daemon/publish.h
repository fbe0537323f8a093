/*
 * publish.h: a domain's files at fixed paths (publish_* in [domain NAME]):
 * each becomes a symlink to <state_dir>/domains/<d>/current/<file>, made
 * atomically (symlink to path.certd-tmp, rename).  A symlink is replaced,
 * never written through; a regular file only with publish_replace (else
 * E_CONFLICT naming it); anything else never.  Every path is checked before
 * any is changed.  Missing parent directories are not created.
 */
#ifndef CERTD_PUBLISH_H
#define CERTD_PUBLISH_H

#include "conf.h"
#include "error.h"

int	publish_domain(const struct certd_conf *, const struct domain_conf *,
	    struct cert_error *);

#endif

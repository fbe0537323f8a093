/*
 * validate.h: is a chain fit to be served?  Order, CA flags, self
 * signature, issuer links, path length, validity, server not a CA, names,
 * EKU, key strength, key match, duplicates; then OpenSSL's verifier with the
 * uploaded root as the only anchor.
 */
#ifndef CERTD_VALIDATE_H
#define CERTD_VALIDATE_H

#include <time.h>

#include "chain.h"
#include "error.h"

/*
 * Validate a complete chain for domain at time now: 0, or -1 with err
 * naming the first item that fails, checked root to server.  Warnings
 * (expiry within 30 days, CN-only name, SHA-1 root, CA without keyUsage)
 * go to warns and do not fail.  What only OpenSSL's strict verifier rejects
 * (RFC 5280 profile violations such as a missing authorityKeyIdentifier
 * below the root) is E_ENCODING with OpenSSL's reason.
 */
int	chain_validate(const struct chain *, const char *domain, time_t now,
	    struct cert_warnings *warns, struct cert_error *err);

/*
 * Check one CA item as it is staged, before the chain is complete: kind
 * fits its seq, it is a CA, the root self-signs, it is signed by the item
 * before it when that one is known.  Catches E_ORDER early.
 */
int	chain_check_item(const struct chain *staged, const struct chain_item *,
	    time_t now, struct cert_error *err);

#endif

/*
 * verify.h: is the new certificate really being served?  Connect with TLS
 * (SNI name), compare the served leaf with the one committed and check
 * that the generation's intermediates are in the served chain; retry until
 * the deadline, since a reloading server answers with the old leaf for a
 * moment, and demand `count` fresh connections in a row that show the new
 * chain, since its old workers may answer between new ones.
 */
#ifndef CERTD_VERIFY_H
#define CERTD_VERIFY_H

#include <stddef.h>

#include <event2/event.h>

#include "proto.h"

struct verify_target {
	const char	*host;
	const char	*port;
	const char	*name;		/* SNI and the name checked; NULL none */
	int		 timeout_ms;
	int		 count;		/* consecutive handshakes; < 1: 1 */
	const char	*leaf_sha256;	/* the leaf that must be served */
	size_t		 ninter;	/* intermediates that must be sent */
	const char	*inter_sha256[CHAIN_MAX];
	const char	*inter_subject[CHAIN_MAX];
};

struct verify;

/* Called once from the event loop: ok, and a sentence saying what was
 * seen ("the new leaf is served on 3 consecutive connections (4 attempts,
 * 310 ms)", or why not). */
typedef void (*verify_done_fn)(void *arg, int ok, const char *message);

/* Start; the target's strings are copied.  NULL only if the loop cannot
 * take it (err says why; done is not called). */
struct verify	*verify_start(struct event_base *, const struct verify_target *,
		    verify_done_fn, void *arg, char *err, size_t errlen);
void		 verify_abort(struct verify *);

#endif

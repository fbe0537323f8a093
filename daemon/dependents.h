/*
 * dependents.h: after a commit, run the [dependent] sections that use the
 * changed domain, in config order: configtest, then reload/restart (systemd
 * unit over D-Bus or an exec argv), then verify the served certificate.
 * Asynchronous on the daemon's event base.
 */
#ifndef CERTD_DEPENDENTS_H
#define CERTD_DEPENDENTS_H

#include <stdint.h>
#include <event2/event.h>

#include "conf.h"
#include "keystore.h"

struct dep_result {
	char		 dependent[64];
	char		 step[16];	/* configtest, reload, verify */
	int		 ok;
	int64_t		 duration_ms;
	char		 message[1024];	/* captured output or reason */
};

/*
 * Called once when every dependent ran or one failed.  ok = all passed;
 * results[n] are the steps that ran (the failed one last).
 */
typedef void (*dep_done_fn)(void *arg, int ok, const struct dep_result *,
    size_t n);

struct dep_request {
	const char	*domain;	/* NULL: every dependent (certctl reload) */
	const char	*only;		/* run just this dependent, or NULL */
	int64_t		 generation;
	const char	*expect_sha256;	/* leaf to see when verifying; NULL: skip */
	int		 verify;	/* 0: no verify step (e.g. after rollback) */
};

/*
 * Start a run.  Returns 0 and later calls done; -1 if nothing can start
 * (err filled).  A run with no matching dependents calls done(ok=1, n=0)
 * from the event loop.  Each step's result is recorded with keystore_event().
 */
int	dependents_run(struct event_base *, const struct certd_conf *,
	    struct keystore *, const struct dep_request *, dep_done_fn,
	    void *arg, struct cert_error *err);
/* Is a run in flight? (SIGTERM waits for it.) */
int	dependents_busy(void);

#endif

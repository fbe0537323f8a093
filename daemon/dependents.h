/*
 * dependents.h: after a commit, run the [dependent] sections that use the
 * changed domain, in config order, one at a time: configtest, then reload
 * or restart (a systemd unit over D-Bus, or an exec argv: proc.h), then
 * verify that the new leaf is served (verify.h).  Asynchronous, on the
 * daemon's event base; each step's result is recorded as an event.
 */
#ifndef CERTD_DEPENDENTS_H
#define CERTD_DEPENDENTS_H

#include <stdint.h>
#include <time.h>
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
 * Called once, from the event loop, when every dependent ran or one
 * failed: ok = all passed; results[n] are the steps that ran (the failed
 * one last).
 */
typedef void (*dep_done_fn)(void *arg, int ok, const struct dep_result *,
    size_t n);

struct dep_request {
	const char	*domain;	/* NULL: every dependent (certctl reload) */
	const char	*only;		/* run just this dependent, or NULL */
	int64_t		 generation;	/* what is being served: its leaf and
					   intermediates are verified */
	int		 verify;	/* 0: no verify step */
};

struct dep_run;

/* Start a run; NULL if nothing can start (err filled: E_NOT_FOUND for an
 * unknown `only`).  A run with no matching dependents calls done(ok=1, n=0)
 * from the event loop. */
struct dep_run	*dependents_run(struct event_base *, struct certd_conf *,
		    struct keystore *, const struct dep_request *, dep_done_fn,
		    void *arg, struct cert_error *err);
/* Stop a run now (certd is stopping): its command's process group is
 * killed; done is not called. */
void		 dependents_abort(struct dep_run *);
/* Is a run in flight? */
int		 dependents_busy(void);

/* Last results, for status and metrics; NULL if none since start. */
struct dep_last {
	char			 name[64];
	time_t			 at;
	struct dep_result	 r;
	int64_t			 ok, failed;	/* counters since start */
};
const struct dep_last	*dependents_last(const char *name);
/* Every dependent with results since start, for metrics. */
const struct dep_last	*dependents_last_at(size_t i);
/* Record a dependent's step as its last result (a run counts once, by
 * its last step). */
void			 dependents_remember(const struct dep_result *, time_t);
/* Moves with each result remembered. */
uint64_t		 dependents_last_seq(void);

#endif

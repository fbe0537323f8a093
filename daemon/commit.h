/*
 * commit.h: what happens after a committing upload (commit.c): store ->
 * render -> publish -> dependents (configtest, reload, verify) -> on failure
 * swap back and reload again.  Also rollback, re-render and plain reloads,
 * and the in-memory record of the last results shown in status and metrics.
 */
#ifndef CERTD_COMMIT_H
#define CERTD_COMMIT_H

#include <stdint.h>
#include <time.h>

#include "dependents.h"
#include "keystore.h"
#include "error.h"

#define COMMIT_STEPS_MAX	32

/* The outcome of one dependents run (and its rollback, if any). */
struct reload_report {
	char			 result[16];	/* ok, failed, rolled-back, none */
	char			 message[1024];
	int64_t			 generation;	/* current after the run */
	time_t			 at;
	struct dep_result	 steps[COMMIT_STEPS_MAX];
	size_t			 nsteps;
};

struct commit_result {
	char			 domain[DOMAIN_MAX + 1];
	struct upload_result	 up;		/* committed, generation, ... */
	int			 staged;	/* staged items after an upload */
	int			 has_reload;	/* reload below is meaningful */
	struct reload_report	 reload;
};

/* Called once, from the event loop, when a pending commit is done; err is
 * NULL on success (the reload may still have failed: see reload.result). */
typedef void (*commit_done_fn)(void *arg, const struct commit_result *,
    const struct cert_error *err);

/*
 * What commit.c tells the daemon: idle (nothing in flight: apply a
 * deferred SIGHUP or SIGTERM), changed (a domain changed: the systemd
 * status line may be stale).
 */
struct commit_hooks {
	void	(*idle)(void);
	void	(*changed)(void);
};

void	commit_init(struct event_base *, struct keystore *,
	    struct certd_conf *, const struct commit_hooks *);
/* The config after a SIGHUP; runs in flight keep theirs. */
void	commit_set_conf(struct certd_conf *);

/*
 * Each returns -1 (err filled, nothing changed), 0 (done now, res filled;
 * done is not called) or 1 (pending: done(arg, ...) is called later).  A
 * commit, rollback, render or reload while another is in flight is refused
 * with E_CONFLICT (409): the client retries; we do not queue.
 */
int	commit_upload(const struct upload *, struct commit_result *,
	    commit_done_fn, void *, struct cert_error *);
int	commit_bundle(const char *domain, const char *certs, size_t certs_len,
	    const char *key, size_t key_len, struct commit_result *,
	    commit_done_fn, void *, struct cert_error *);
/* gen 0: the newest generation older than the current one. */
int	commit_rollback(const char *domain, int64_t gen, struct commit_result *,
	    commit_done_fn, void *, struct cert_error *);
/* Render the current generation again (sync). */
int	commit_render(const char *domain, int64_t *gen, struct cert_error *);
/* Run the dependents (all, or only one) without a commit. */
int	commit_reload(const char *only, struct commit_result *,
	    commit_done_fn, void *, struct cert_error *);
/* Is a commit (or its dependents run) in flight? */
int	commit_busy(void);

/* Bring every domain's files in line with the DB (on start). */
void	commit_repair_all(void);
/* Refresh every configured domain's publish links. */
void	commit_publish_all(void);

/* Last results, for status and metrics; NULL if none since start. */
const struct reload_report	*commit_last_reload(const char *domain);
struct dep_last {
	char			 name[64];
	time_t			 at;
	struct dep_result	 r;
	int64_t			 ok, failed;	/* counters since start */
};
const struct dep_last	*commit_dependent_last(const char *name);
/* Every dependent with results since start, for metrics. */
const struct dep_last	*commit_dependent_at(size_t i);

#endif

/*
 * commit.h: the work behind every change, one job at a time from a
 * bounded queue: a committing upload (store the generation as pending ->
 * render -> publish -> dependents with verify -> live, or swap back, run
 * the dependents again and report it rolled back), a rollback, a render,
 * a reload; and, at start, the recovery of what a crash or a stop left
 * pending or unsettled.  What is current is always what the services were
 * reloaded with and verified on.
 */
#ifndef CERTD_COMMIT_H
#define CERTD_COMMIT_H

#include <stdint.h>
#include <time.h>

#include <event2/event.h>

#include "dependents.h"
#include "error.h"
#include "keystore.h"

#define COMMIT_STEPS_MAX	32
#define COMMIT_QUEUE_MAX	64	/* requests waiting; more: E_BUSY */
#define COMMIT_QUEUE_WAIT	120	/* seconds one may wait: E_BUSY */

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

/* Called once, from the event loop, when a queued job is done; err is NULL
 * on success (the reload may still have failed: see reload.result). */
typedef void (*commit_done_fn)(void *arg, const struct commit_result *,
    const struct cert_error *err);

/*
 * What commit.c tells the daemon: idle (nothing in flight or queued:
 * apply a deferred SIGHUP, or exit after SIGTERM), changed (a domain
 * changed: the systemd status line may be stale).
 */
struct commit_hooks {
	void	(*idle)(void);
	void	(*changed)(void);
};

void	commit_free(void);
void	commit_init(struct event_base *, struct keystore *,
	    struct certd_conf *, const struct commit_hooks *);
/* The config after a SIGHUP; runs in flight keep theirs. */
void	commit_set_conf(struct certd_conf *);

/*
 * Each returns -1 (err filled, nothing changed: E_BUSY when the queue is
 * full, E_STOPPING once certd stops), 0 (done now, res filled; done is not
 * called) or 1 (queued: done(arg, ...) is called later).  An upload
 * without a key only stages, at once; everything that changes files or
 * runs dependents waits its turn.
 */
int	commit_upload(const struct upload *, struct commit_result *,
	    commit_done_fn, void *, struct cert_error *);
int	commit_bundle(const char *domain, const char *certs, size_t certs_len,
	    const char *key, size_t key_len, struct commit_result *,
	    commit_done_fn, void *, struct cert_error *);
/* gen 0: the newest live generation older than the current one. */
int	commit_rollback(const char *domain, int64_t gen, struct commit_result *,
	    commit_done_fn, void *, struct cert_error *);
/* Write the current generation's files again (no dependents). */
int	commit_render(const char *domain, struct commit_result *,
	    commit_done_fn, void *, struct cert_error *);
/* Run the dependents (all, or only one) without a commit. */
int	commit_reload(const char *only, struct commit_result *,
	    commit_done_fn, void *, struct cert_error *);

/*
 * At start: queue the recovery of every domain a crash or a stop left
 * pending (its dependents run and verify again on what is on disk: it
 * becomes live, or is rolled back) or unsettled (the dependents run again
 * on what is current).  Recovery goes before any request.
 */
void	commit_recover(void);
/*
 * SIGTERM: refuse new work (E_STOPPING), answer the queued with
 * E_STOPPING, give the job in flight grace_ms to finish, then stop it: its
 * generation stays pending, to be resolved at the next start.  hooks.idle
 * is called when nothing is left.
 */
void	commit_stop(int grace_ms);
/* Is a job in flight or queued? */
int	commit_busy(void);
/* Has commit_stop been called?  Then no change is taken (E_STOPPING). */
int	commit_stopping(void);
/* Is domain's recovery queued or running? */
int	commit_recovering(const char *domain);
/* Moves whenever a job is made or ends: what commit_busy and
 * commit_recovering say can only have changed if this did. */
uint64_t commit_jobs_seq(void);

/* Write gen's files from the store (if they are not whole already) and
 * make them current: no dependents run. */
int	commit_render_generation(const char *domain, int64_t gen,
	    struct cert_error *);

/* Refresh every configured domain's publish links. */
void	commit_publish_all(void);


#endif

/*
 * commit.c: the work behind every change (see commit.h).  One job runs at
 * a time; the others wait in a queue.  A commit's decision is always in
 * the store before the disk follows it, so that a crash at any moment
 * leaves something the next start can finish:
 *
 *   store gen P as pending (the domain unsettled)
 *   render P, swap `current` to P, publish
 *   run the dependents, verify P's leaf is served
 *   ok:     P live and current, the domain settled, prune
 *   failed: P rolled back in the store, `current` swapped back to the last
 *           live generation, the dependents run again, the domain settled
 *
 * A rollback by request is the same with an existing generation as P.
 * Recovery at start picks up a pending P (or an unsettled domain) at the
 * dependents step.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cert.h"
#include "commit.h"
#include "dependents.h"
#include "filecheck.h"
#include "gendir.h"
#include "keystore.h"
#include "log.h"
#include "loop.h"
#include "publish.h"
#include "render.h"
#include "util.h"

enum job_kind {
	JOB_UPLOAD,	/* a server certificate with its key, or a CSR's */
	JOB_BUNDLE,
	JOB_ROLLBACK,
	JOB_RENDER,
	JOB_RELOAD,
	JOB_RECOVER
};

struct job {
	TAILQ_ENTRY(job)	 entry;
	enum job_kind		 kind;
	char			 domain[DOMAIN_MAX + 1]; /* "" for a reload */
	char			 name[ITEM_NAME_MAX + 1];
	int			 seq;
	char			*cert, *key;	/* copies; the key is cleared */
	size_t			 cert_len, key_len;
	int64_t			 target;	/* rollback: 0 = previous */
	char			 only[64];
	char			 actor[256];	/* whose request it is */
	struct event		*deadline;	/* waiting too long */
	commit_done_fn		 done;
	void			*arg;

	/* While it runs. */
	int64_t			 prev;		/* last live generation */
	int			 is_new;	/* target never was live */
	int			 phase;		/* 1 target, 2 back to prev */
	char			 reason[768];	/* why phase 1 failed */
	struct dep_run		*run;
	struct commit_result	 res;
};
TAILQ_HEAD(job_list, job);

static struct event_base	*base;
static struct keystore		*ks;
static struct certd_conf	*conf;
static struct commit_hooks	 hooks;

static struct job_list		 recover_q = TAILQ_HEAD_INITIALIZER(recover_q);
static struct job_list		 request_q = TAILQ_HEAD_INITIALIZER(request_q);
static size_t			 nrequests;
static struct job		*inflight;
static uint64_t			 jobs_seq;	/* jobs made and freed */
static struct event		*ev_next, *ev_grace;

static int			 stopping;

/* Each dependent's last result since start, for status and metrics; a
 * domain's last outcome is in the store (keystore_set_outcome). */

static void	job_start(struct job *);
static void	dep_done(void *, int, const struct dep_result *, size_t);

/* --- the record of results ------------------------------------------------ */

static void
add_steps(struct job *j, const struct dep_result *r, size_t n)
{
	struct reload_report	*rep = &j->res.reload;
	time_t			 now = time(NULL);
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (i + 1 == n || strcmp(r[i].dependent, r[i + 1].dependent))
			dependents_remember(&r[i], now);
		if (rep->nsteps < COMMIT_STEPS_MAX)
			rep->steps[rep->nsteps++] = r[i];
	}
}

static void
describe_failure(char *out, size_t len, const struct dep_result *r, size_t n)
{
	if (n == 0)
		msgprintf(out, len, "dependents failed");
	else
		msgprintf(out, len, "%s %s: %s", r[n - 1].step,
		    r[n - 1].dependent, r[n - 1].message);
}

/* --- jobs ------------------------------------------------------------------ */

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	jobs_seq++;
	loop_event_free(j->deadline);
	free(j->cert);
	freezero(j->key, j->key_len);
	free(j);
}

static void
job_answer(struct job *j, const struct cert_error *err)
{
	if (j->done != NULL)
		j->done(j->arg, &j->res, err);
}

/* Answer with an error and forget the job. */
static void
job_fail(struct job *j, enum cert_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
job_fail(struct job *j, enum cert_code code, const char *fmt, ...)
{
	struct cert_error	 err;
	va_list			 ap;

	va_start(ap, fmt);
	cert_error_vset(&err, code, NULL, 0, fmt, ap);
	va_end(ap);
	job_answer(j, &err);
	job_free(j);
}

/* Run the next job from the loop, or tell the daemon all is done. */
static void
next_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job	*j;

	if (inflight != NULL)
		return;
	if ((j = TAILQ_FIRST(&recover_q)) != NULL && !stopping)
		TAILQ_REMOVE(&recover_q, j, entry);
	else if ((j = TAILQ_FIRST(&request_q)) != NULL) {
		TAILQ_REMOVE(&request_q, j, entry);
		nrequests--;
		event_del(j->deadline);
	}
	if (j == NULL) {
		hooks.idle();
		return;
	}
	inflight = j;
	/* The events the job writes, now or from its callbacks, are its
	 * requester's. */
	keystore_set_actor(ks, j->actor);
	job_start(j);
	stack_scrub();		/* the job decoded a key */
}

static void
schedule(void)
{
	event_active(ev_next, EV_TIMEOUT, 0);
}

/* The job in flight is done: answer, forget it, go on. */
static void
job_end(struct job *j, const struct cert_error *err)
{
	job_answer(j, err);
	if (inflight == j) {
		inflight = NULL;
		keystore_set_actor(ks, "");
	}
	job_free(j);
	hooks.changed();
	schedule();
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job	*j = arg;

	TAILQ_REMOVE(&request_q, j, entry);
	nrequests--;
	job_fail(j, E_BUSY, "waited %d s in the commit queue behind other "
	    "changes; nothing was changed: try again", COMMIT_QUEUE_WAIT);
}

static struct job *
job_new(enum job_kind kind, const char *domain, commit_done_fn done,
    void *arg)
{
	struct job	*j;

	j = xcalloc(1, sizeof(*j));
	jobs_seq++;
	j->kind = kind;
	if (domain != NULL)
		strlcpy(j->domain, domain, sizeof(j->domain));
	strlcpy(j->res.domain, j->domain, sizeof(j->res.domain));
	/* The request being handled now (api.c set it); "" at start. */
	strlcpy(j->actor, keystore_actor(ks), sizeof(j->actor));
	j->done = done;
	j->arg = arg;
	return j;
}

/* Queue a request: 1, or -1 with E_STOPPING / E_BUSY (j is freed). */
static int
enqueue(struct job *j, struct cert_error *err)
{
	struct timeval	 tv = { COMMIT_QUEUE_WAIT, 0 };

	if (stopping) {
		job_free(j);
		return cert_error_set(err, E_STOPPING, NULL, 0, "certd is "
		    "stopping; nothing was changed: try again when it is back");
	}
	if (nrequests >= COMMIT_QUEUE_MAX) {
		job_free(j);
		return cert_error_set(err, E_BUSY, NULL, 0, "%d changes are "
		    "already waiting; nothing was changed: try again",
		    COMMIT_QUEUE_MAX);
	}
	if ((j->deadline = evtimer_new(base, deadline_cb, j)) == NULL)
		fatalx("cannot create an event");
	evtimer_add(j->deadline, &tv);
	TAILQ_INSERT_TAIL(&request_q, j, entry);
	nrequests++;
	schedule();
	return 1;
}

/* --- helpers -------------------------------------------------------------- */

static void
record(const char *domain, int64_t gen, const char *type, const char *result,
    const char *message)
{
	struct ks_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.at = time(NULL);
	strlcpy(ev.domain, domain, sizeof(ev.domain));
	ev.generation = gen;
	strlcpy(ev.type, type, sizeof(ev.type));
	strlcpy(ev.result, result, sizeof(ev.result));
	ev.message = (char *)message;
	if (keystore_event(ks, &ev) == -1)
		log_warnx("%s: cannot record a %s event", domain, type);
}

int
commit_render_generation(const char *domain, int64_t gen, struct cert_error *err)
{
	struct chain	*chain = NULL;
	int		 rv = -1;

	if (keystore_generation(ks, domain, gen, &chain, err) == 0 &&
	    render_generation(conf, domain, gen, chain, err) == 0)
		rv = 0;
	chain_free(chain);
	return rv;
}

/* `current` names gen (rendered again if it is not whole), or nothing. */
static int
files_to(const char *domain, int64_t gen, struct cert_error *err)
{
	if (gen <= 0)
		return gendir_unlink_current(conf, domain, err);
	if (gendir_swap(conf, domain, gen, NULL) == 0)
		return 0;
	return commit_render_generation(domain, gen, err);
}

static void
publish(const char *domain)
{
	struct domain_conf	*dc;
	struct cert_error	 err;
	struct log_fields	 f = { .domain = domain };

	if ((dc = conf_domain(conf, domain)) == NULL)
		return;
	if (publish_domain(conf, dc, &err) == -1) {
		f.code = cert_code_name(err.code);
		log_fields(LOG_WARNING, &f, "publish: %s", err.message);
	}
}

/* Keep what the store keeps, live generations first. */
static void
prune(const char *domain)
{
	struct cert_error	 err;
	int64_t			*kept = NULL;
	size_t			 n = 0;

	if (keystore_prune(ks, domain, conf->keep_generations, &kept, &n,
	    &err) == -1)
		log_warnx("%s: prune: %s", domain, err.message);
	else
		gendir_prune(conf, domain, kept, n);
	free(kept);
}

/* gen passed: live and current, and pruned in the same transaction. */
static int
make_live(const char *domain, int64_t gen, const char *message,
    struct cert_error *err)
{
	int64_t	*kept = NULL;
	size_t	 n = 0;

	if (keystore_make_live(ks, domain, gen, message,
	    conf->keep_generations, &kept, &n, err) == -1)
		return -1;
	gendir_prune(conf, domain, kept, n);
	free(kept);
	return 0;
}

static int
start_run(struct job *j, int64_t gen, int verify)
{
	struct dep_request	 rq;
	struct cert_error	 err;
	struct dep_result	 r;

	memset(&rq, 0, sizeof(rq));
	rq.domain = j->domain[0] != '\0' ? j->domain : NULL;
	rq.only = j->only[0] != '\0' ? j->only : NULL;
	rq.generation = gen;
	rq.verify = verify;
	if ((j->run = dependents_run(base, conf, ks, &rq, dep_done, j,
	    &err)) != NULL)
		return 0;
	/* Nothing could start: a failed run of its own. */
	memset(&r, 0, sizeof(r));
	strlcpy(r.dependent, "-", sizeof(r.dependent));
	strlcpy(r.step, "start", sizeof(r.step));
	strlcpy(r.message, err.message, sizeof(r.message));
	dep_done(j, 0, &r, 1);
	return -1;
}

/* The outcome of a job that ran dependents. */
static void
finish(struct job *j, const char *result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
finish(struct job *j, const char *result, const char *fmt, ...)
{
	struct reload_report	*rep = &j->res.reload;
	struct log_fields	 f = { .domain = j->domain[0] ? j->domain :
				    NULL };
	va_list			 ap;

	strlcpy(rep->result, result, sizeof(rep->result));
	va_start(ap, fmt);
	vsnprintf(rep->message, sizeof(rep->message), fmt, ap);
	va_end(ap);
	rep->at = time(NULL);
	j->res.has_reload = 1;
	f.generation = rep->generation;
	f.code = strcmp(result, "ok") == 0 || strcmp(result, "none") == 0 ?
	    NULL : result;
	log_fields(f.code == NULL ? LOG_INFO : LOG_WARNING, &f, "%s: %s",
	    j->domain[0] ? j->domain : "reload", rep->message);
	if (j->domain[0] != '\0' && keystore_set_outcome(ks, j->domain,
	    rep->result, rep->message, rep->generation, rep->at) == -1)
		log_warnx("%s: cannot record how the run ended", j->domain);
	job_end(j, NULL);
}

/* --- a generation made current: the dependents decide ------------------- */

/*
 * Phase 2: the target failed; the store says so already.  Put the last
 * live generation's files back and run the dependents on them.
 */
static void
back_off(struct job *j)
{
	struct cert_error	 err;

	j->phase = 2;
	if (j->prev <= 0) {
		/* A first commit: nothing was served before, nothing is. */
		if (gendir_unlink_current(conf, j->domain, &err) == -1)
			log_warnx("%s: %s", j->domain, err.message);
		keystore_settle(ks, j->domain, NULL);
		j->res.reload.generation = 0;
		finish(j, "failed", "%s; no earlier generation to roll back "
		    "to: nothing of %s is served", j->reason, j->domain);
		return;
	}
	j->res.reload.generation = j->prev;
	if (files_to(j->domain, j->prev, &err) == -1) {
		/* The domain stays unsettled: the next start tries again. */
		finish(j, "failed", "%s; rollback to generation %lld failed: "
		    "%s", j->reason, (long long)j->prev, err.message);
		return;
	}
	publish(j->domain);
	/* Verified too: "rolled back" means the old leaf is served again,
	 * not that an old worker still showed it. */
	start_run(j, j->prev, 1);
}

/* The target has its files in place: run its dependents, verifying. */
static void
make_current(struct job *j)
{
	publish(j->domain);
	j->phase = 1;
	start_run(j, j->res.reload.generation, 1);
}

static void
dep_done(void *arg, int ok, const struct dep_result *r, size_t n)
{
	struct job		*j = arg;
	struct cert_error	 err;
	int64_t			 gen = j->res.reload.generation;
	char			 why[768];

	j->run = NULL;
	add_steps(j, r, n);
	if (j->kind == JOB_RELOAD) {
		if (ok)
			finish(j, n == 0 ? "none" : "ok", n == 0 ?
			    "no dependents to run" : "dependents ran");
		else {
			describe_failure(why, sizeof(why), r, n);
			finish(j, "failed", "%s", why);
		}
		return;
	}
	if (j->phase == 2) {
		keystore_settle(ks, j->domain, NULL);
		prune(j->domain);
		if (ok)
			finish(j, "rolled-back", "%s; rolled back to generation "
			    "%lld", j->reason, (long long)j->prev);
		else {
			describe_failure(why, sizeof(why), r, n);
			finish(j, "rolled-back", "%s; rolled back to generation "
			    "%lld, but the reload after the rollback failed "
			    "too: %s", j->reason, (long long)j->prev, why);
		}
		return;
	}
	if (ok) {
		if (make_live(j->domain, gen, n == 0 ? "no dependents" :
		    "dependents passed", &err) == -1) {
			/* Served and verified, but not recorded: the
			 * domain stays pending and the next start runs the
			 * dependents again and records it. */
			finish(j, "failed", "generation %lld is served but "
			    "could not be recorded as live: %s", (long long)gen,
			    err.message);
			return;
		}
		finish(j, n == 0 ? "none" : "ok", n == 0 ?
		    "generation %lld is current; no dependents" :
		    "generation %lld is current and served", (long long)gen);
		return;
	}
	describe_failure(j->reason, sizeof(j->reason), r, n);
	if (keystore_drop_pending(ks, j->domain, gen, j->is_new ?
	    (j->prev > 0 ? "rolled-back" : "failed") : "live", j->reason,
	    &err) == -1) {
		finish(j, "failed", "%s; and the rollback could not be "
		    "recorded: %s", j->reason, err.message);
		return;
	}
	back_off(j);
}

/* The store failed the target before any dependent ran (render, etc.). */
static void
abandon(struct job *j, const struct cert_error *why)
{
	struct cert_error	 err;
	int64_t			 gen = j->res.reload.generation;

	keystore_drop_pending(ks, j->domain, gen, j->is_new ? "failed" :
	    "live", why->message, NULL);
	/* The services never saw the target: the files only go back. */
	if (files_to(j->domain, j->prev, &err) == 0)
		keystore_settle(ks, j->domain, NULL);
	else
		log_warnx("%s: %s", j->domain, err.message);
	job_end(j, why);
}

/* --- the jobs ------------------------------------------------------------ */

static void
run_commit(struct job *j)
{
	struct ks_state		 st;
	struct cert_error	 err, e2;
	struct upload		 u;
	int			 rc;

	if (keystore_state(ks, j->domain, &st, &err) == -1) {
		job_end(j, &err);
		return;
	}
	if (j->kind == JOB_UPLOAD) {
		memset(&u, 0, sizeof(u));
		u.domain = j->domain;
		u.name = j->name;
		u.seq = j->seq;
		u.cert = j->cert;
		u.cert_len = j->cert_len;
		u.key = j->key;
		u.key_len = j->key_len;
		rc = keystore_upload(ks, &u, time(NULL), &j->res.up, &err);
	} else
		rc = keystore_bundle(ks, j->domain, j->cert, j->cert_len,
		    j->key, j->key_len, time(NULL), &j->res.up, &err);
	/* The key is in the store now: clear our copy at once. */
	freezero(j->key, j->key_len);
	j->key = NULL;
	if (rc == -1) {
		job_end(j, &err);
		return;
	}
	j->prev = st.current;
	j->is_new = 1;
	j->res.reload.generation = j->res.up.generation;
	if (commit_render_generation(j->domain, j->res.up.generation, &err) == -1) {
		log_fields(LOG_ERR, &(struct log_fields){ .domain = j->domain,
		    .generation = j->res.up.generation, .code =
		    "render-failed" }, "%s: render of generation %lld failed: "
		    "%s", j->domain, (long long)j->res.up.generation,
		    err.message);
		record(j->domain, j->res.up.generation, "render", "failed",
		    err.message);
		cert_error_set(&e2, E_INTERNAL, NULL, 0, "generation %lld was "
		    "stored but its files could not be written (%s); %s",
		    (long long)j->res.up.generation, err.message, j->prev > 0 ?
		    "the previous generation stays current" :
		    "nothing is served");
		abandon(j, &e2);
		return;
	}
	log_fields(LOG_INFO, &(struct log_fields){ .domain = j->domain,
	    .generation = j->res.up.generation }, "%s: generation %lld "
	    "rendered", j->domain, (long long)j->res.up.generation);
	make_current(j);
}

static void
run_rollback(struct job *j)
{
	struct ks_domain	*kd = NULL;
	struct cert_error	 err;
	char			 reason[128];
	size_t			 i;
	int64_t			 gen = j->target;

	if (keystore_domain(ks, j->domain, &kd, &err) == -1) {
		job_end(j, &err);
		return;
	}
	j->prev = kd->generation;
	for (i = 0; i < kd->ngens; i++) {
		if (j->target == 0 ? kd->gens[i].generation < j->prev &&
		    kd->gens[i].generation > gen &&
		    strcmp(kd->gens[i].state, "live") == 0 :
		    kd->gens[i].generation == j->target)
			gen = kd->gens[i].generation;
	}
	keystore_domain_free(kd);
	if (gen == 0 || (j->target != 0 && gen != j->target) ||
	    gen == j->prev) {
		cert_error_set(&err, E_NOT_FOUND, NULL, 0, j->target == 0 ?
		    "%s has no live generation before %lld to roll back to" :
		    "%s has no other kept generation %lld (kept: the last %d)",
		    j->domain, (long long)(j->target ? j->target : j->prev),
		    conf->keep_generations);
		job_end(j, &err);
		return;
	}
	msgprintf(reason, sizeof(reason), "rollback from generation %lld "
	    "requested", (long long)j->prev);
	if (keystore_set_pending(ks, j->domain, gen, reason, &err) == -1) {
		job_end(j, &err);
		return;
	}
	j->res.up.generation = gen;
	j->res.reload.generation = gen;
	if (commit_render_generation(j->domain, gen, &err) == -1) {
		abandon(j, &err);
		return;
	}
	log_fields(LOG_NOTICE, &(struct log_fields){ .domain = j->domain,
	    .generation = gen }, "%s: rolling back to generation %lld",
	    j->domain, (long long)gen);
	make_current(j);
}

/* What a crash or a stop left: finish it from the dependents step. */
static void
run_recover(struct job *j)
{
	struct ks_state		 st;
	struct ks_domain	*kd = NULL;
	struct cert_error	 err;
	size_t			 i;

	if (keystore_state(ks, j->domain, &st, &err) == -1 ||
	    keystore_domain(ks, j->domain, &kd, &err) == -1) {
		log_warnx("%s: cannot recover: %s", j->domain, err.message);
		job_end(j, NULL);
		return;
	}
	j->prev = st.current;
	j->res.reload.generation = st.pending;
	for (i = 0; i < kd->ngens; i++)
		if (kd->gens[i].generation == st.pending)
			j->is_new = strcmp(kd->gens[i].state, "pending") == 0;
	keystore_domain_free(kd);
	log_fields(LOG_NOTICE, &(struct log_fields){ .domain = j->domain,
	    .generation = st.pending ? st.pending : st.current },
	    "%s: recovering: %s", j->domain, st.pending ? "a generation was "
	    "pending" : "the last dependents run did not finish");
	if (st.pending > 0) {
		/* What is on disk decides: whole, it is tried again. */
		if (gendir_check(conf, j->domain, st.pending) &&
		    gendir_swap(conf, j->domain, st.pending, NULL) == 0) {
			make_current(j);
			return;
		}
		msgprintf(j->reason, sizeof(j->reason), "generation %lld "
		    "was left incomplete by a crash or a stop",
		    (long long)st.pending);
		if (keystore_drop_pending(ks, j->domain, st.pending, j->is_new ?
		    "failed" : "live", j->reason, &err) == -1) {
			log_warnx("%s: %s", j->domain, err.message);
			job_end(j, NULL);
			return;
		}
		back_off(j);
		return;
	}
	/* Unsettled: make the files the store's current, reload again. */
	j->phase = 2;
	msgprintf(j->reason, sizeof(j->reason), "the last dependents run "
	    "was interrupted");
	j->res.reload.generation = st.current;
	if (files_to(j->domain, st.current, &err) == -1) {
		log_warnx("%s: %s", j->domain, err.message);
		job_end(j, NULL);
		return;
	}
	if (st.current <= 0) {
		keystore_settle(ks, j->domain, NULL);
		job_end(j, NULL);
		return;
	}
	j->prev = st.current;
	publish(j->domain);
	start_run(j, st.current, 1);
}

static void
run_render(struct job *j)
{
	struct ks_state		 st;
	struct cert_error	 err;

	if (keystore_state(ks, j->domain, &st, &err) == -1) {
		job_end(j, &err);
		return;
	}
	if (st.current <= 0) {
		cert_error_set(&err, E_NOT_FOUND, NULL, 0, "%s has no live "
		    "generation", j->domain);
		job_end(j, &err);
		return;
	}
	if (commit_render_generation(j->domain, st.current, &err) == -1) {
		job_end(j, &err);
		return;
	}
	publish(j->domain);
	record(j->domain, st.current, "render", "ok", "rendered on request");
	j->res.up.generation = st.current;
	job_end(j, NULL);
}

static void
job_start(struct job *j)
{
	switch (j->kind) {
	case JOB_UPLOAD:
	case JOB_BUNDLE:
		run_commit(j);
		break;
	case JOB_ROLLBACK:
		run_rollback(j);
		break;
	case JOB_RENDER:
		run_render(j);
		break;
	case JOB_RELOAD:
		start_run(j, 0, 0);
		break;
	case JOB_RECOVER:
		run_recover(j);
		break;
	}
}

/* --- the interface -------------------------------------------------------- */

void
commit_init(struct event_base *b, struct keystore *k, struct certd_conf *c,
    const struct commit_hooks *h)
{
	base = b;
	ks = k;
	conf = c;
	hooks = *h;
	if ((ev_next = event_new(base, -1, 0, next_cb, NULL)) == NULL)
		fatalx("cannot create an event");
}

/* Free what commit_init and commit_stop made; jobs are gone by now. */
void
commit_free(void)
{
	filecheck_free();
	loop_event_free(ev_next);
	loop_event_free(ev_grace);
	ev_next = ev_grace = NULL;
}

void
commit_set_conf(struct certd_conf *c)
{
	conf = c;
}

int
commit_busy(void)
{
	return inflight != NULL || !TAILQ_EMPTY(&recover_q) ||
	    !TAILQ_EMPTY(&request_q);
}

int
commit_stopping(void)
{
	return stopping;
}

uint64_t
commit_jobs_seq(void)
{
	return jobs_seq;
}

int
commit_recovering(const char *domain)
{
	struct job	*j;

	if (inflight != NULL && inflight->kind == JOB_RECOVER &&
	    strcmp(inflight->domain, domain) == 0)
		return 1;
	TAILQ_FOREACH(j, &recover_q, entry)
		if (strcmp(j->domain, domain) == 0)
			return 1;
	return 0;
}

static int
staged_count(const struct ks_summary *d, void *arg)
{
	*(int *)arg = (int)d->nstaged;
	return 1;
}

int
commit_upload(const struct upload *u, struct commit_result *res,
    commit_done_fn done, void *arg, struct cert_error *err)
{
	struct job	*j;

	memset(res, 0, sizeof(*res));
	strlcpy(res->domain, u->domain, sizeof(res->domain));
	if ((u->key == NULL || u->key_len == 0) &&
	    !keystore_csr_wanted(ks, u->domain, u->cert, u->cert_len)) {
		/* A CA item only stages: nothing to wait for.  A certificate
		 * for a pending CSR key commits, and waits its turn. */
		if (keystore_upload(ks, u, time(NULL), &res->up, err) == -1)
			return -1;
		keystore_walk(ks, u->domain, staged_count, &res->staged, NULL);
		return 0;
	}
	j = job_new(JOB_UPLOAD, u->domain, done, arg);
	strlcpy(j->name, u->name, sizeof(j->name));
	j->seq = u->seq;
	j->cert = xmalloc(u->cert_len + 1);
	memcpy(j->cert, u->cert, u->cert_len);
	j->cert[u->cert_len] = '\0';
	j->cert_len = u->cert_len;
	if (u->key != NULL && u->key_len > 0) {
		j->key = xmalloc(u->key_len + 1);
		memcpy(j->key, u->key, u->key_len);
		j->key[u->key_len] = '\0';
		j->key_len = u->key_len;
	}
	return enqueue(j, err);
}

int
commit_bundle(const char *domain, const char *certs, size_t certs_len,
    const char *key, size_t key_len, struct commit_result *res,
    commit_done_fn done, void *arg, struct cert_error *err)
{
	struct job	*j;

	memset(res, 0, sizeof(*res));
	j = job_new(JOB_BUNDLE, domain, done, arg);
	j->cert = xstrndup(certs, certs_len);
	j->cert_len = certs_len;
	j->key = xstrndup(key, key_len);
	j->key_len = key_len;
	return enqueue(j, err);
}

int
commit_rollback(const char *domain, int64_t gen, struct commit_result *res,
    commit_done_fn done, void *arg, struct cert_error *err)
{
	struct job	*j;

	memset(res, 0, sizeof(*res));
	j = job_new(JOB_ROLLBACK, domain, done, arg);
	j->target = gen;
	return enqueue(j, err);
}

int
commit_render(const char *domain, struct commit_result *res,
    commit_done_fn done, void *arg, struct cert_error *err)
{
	memset(res, 0, sizeof(*res));
	return enqueue(job_new(JOB_RENDER, domain, done, arg), err);
}

int
commit_reload(const char *only, struct commit_result *res,
    commit_done_fn done, void *arg, struct cert_error *err)
{
	struct dependent_conf	*p;
	struct job		*j;

	memset(res, 0, sizeof(*res));
	if (only != NULL) {
		TAILQ_FOREACH(p, &conf->dependents, entry)
			if (strcmp(p->name, only) == 0)
				break;
		if (p == NULL)
			return cert_error_set(err, E_NOT_FOUND, NULL, 0,
			    "no [dependent %s] in the configuration", only);
	}
	j = job_new(JOB_RELOAD, NULL, done, arg);
	if (only != NULL)
		strlcpy(j->only, only, sizeof(j->only));
	return enqueue(j, err);
}

static int
queue_recover(const char *domain, void *arg)
{
	struct job	*j;

	/* Not inside TAILQ_INSERT_TAIL: it evaluates its argument 4 times. */
	j = job_new(JOB_RECOVER, domain, NULL, NULL);
	TAILQ_INSERT_TAIL(&recover_q, j, entry);
	return 0;
}

void
commit_recover(void)
{
	struct cert_error	 err;

	if (keystore_unsettled(ks, queue_recover, NULL, &err) == -1)
		log_warnx("cannot list the domains to recover: %s",
		    err.message);
	if (!TAILQ_EMPTY(&recover_q))
		schedule();
}

/* The job in flight did not finish within the grace: leave it pending. */
static void
grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job	*j = inflight;

	if (j == NULL)
		return;
	dependents_abort(j->run);
	j->run = NULL;
	log_fields(LOG_WARNING, &(struct log_fields){ .domain = j->domain,
	    .code = "stopped" }, "%s: stopped during its dependents; the next "
	    "start runs them again", j->domain[0] ? j->domain : "reload");
	inflight = NULL;
	keystore_set_actor(ks, "");
	job_fail(j, E_STOPPING, "certd is stopping: the change is stored but "
	    "its dependents did not finish; the next start runs them again "
	    "and makes it live or rolls it back");
	hooks.idle();
}

void
commit_stop(int grace_ms)
{
	struct job	*j;

	stopping = 1;
	while ((j = TAILQ_FIRST(&request_q)) != NULL) {
		TAILQ_REMOVE(&request_q, j, entry);
		nrequests--;
		job_fail(j, E_STOPPING, "certd is stopping; nothing was "
		    "changed: try again when it is back");
	}
	/* Recovery not begun stays for the next start (still unsettled). */
	while ((j = TAILQ_FIRST(&recover_q)) != NULL) {
		TAILQ_REMOVE(&recover_q, j, entry);
		job_free(j);
	}
	if (inflight == NULL) {
		hooks.idle();
		return;
	}
	if ((ev_grace = evtimer_new(base, grace_cb, NULL)) == NULL)
		fatalx("cannot create an event");
	loop_timer_add(ev_grace, grace_ms);
}

void
commit_publish_all(void)
{
	struct domain_conf	*dc;
	struct ks_state		 st;

	TAILQ_FOREACH(dc, &conf->domains, entry)
		if (keystore_state(ks, dc->name, &st, NULL) == 0 &&
		    st.current > 0)
			publish(dc->name);
}

/*
 * dependents.c: the run of the dependents after a commit (see
 * dependents.h): which dependents act, in which order, each step's result
 * recorded and logged, the first failure ending the run.  Commands are
 * proc.c's, TLS checks verify.c's, systemd jobs systemd.c's.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "dependents.h"
#include "gendir.h"
#include "haproxy.h"
#include "log.h"
#include "loop.h"
#include "proc.h"
#include "sysd.h"
#include "util.h"
#include "verify.h"

enum dep_step { STEP_CONFIGTEST, STEP_RELOAD, STEP_VERIFY, STEP_END };
static const char *const step_names[] = { "configtest", "reload", "verify" };

struct dep_run {
	struct event_base	*base;
	struct keystore		*ks;
	char			*domain;	/* NULL: every domain */
	int64_t			 generation;
	int			 verify;
	struct verify_target	 target;	/* leaf and intermediates */
	struct ks_item		*items;		/* of the generation */
	size_t			 nitems;

	/* Copies of the [dependent]s: a SIGHUP may free the config. */
	struct certd_conf	*conf;
	struct dependent_conf	**deps;
	size_t			 ndeps;
	size_t			 cur;
	enum dep_step		 step;
	int			 failed;
	int64_t			 step_started;

	struct dep_result	*results;
	size_t			 nresults;

	char			**env;		/* for the commands */
	struct event		*ev_next;
	struct proc		*proc;
	struct verify		*vfy;
	struct sysd_job		*job;
	struct haproxy		*hap;
	dep_done_fn		 done;
	void			*arg;
};

static int	runs_in_flight;

static void	step_done(struct dep_run *, int, const char *);

int
dependents_busy(void)
{
	return runs_in_flight > 0;
}

static void
run_free(struct dep_run *run)
{
	if (run == NULL)
		return;
	proc_abort(run->proc);
	verify_abort(run->vfy);
	sysd_job_cancel(run->job);
	haproxy_abort(run->hap);
	conf_free(run->conf);
	free(run->deps);
	ks_items_free(run->items, run->nitems);
	free(run->results);
	free(run->domain);
	proc_env_free(run->env);
	loop_event_free(run->ev_next);
	free(run);
}

/* A domain's run tells its commands which generation they reload. */
static void
run_env(struct dep_run *run)
{
	char	 dir[PATH_MAX], gdir[PATH_MAX + 32];

	if (run->domain != NULL && run->generation > 0 &&
	    gendir_dir(run->conf, run->domain, dir, sizeof(dir)) == 0) {
		snprintf(gdir, sizeof(gdir), "%s/gen-%lld", dir,
		    (long long)run->generation);
		run->env = proc_env(run->domain, run->generation, gdir);
	} else
		run->env = proc_env(NULL, 0, NULL);
}

/* What verify must see: the generation's leaf and intermediates, from the
 * store's listing (no key is read). */
static void
run_load_expected(struct dep_run *run)
{
	struct verify_target	*t = &run->target;
	struct cert_error	 err;
	size_t			 i;

	if (run->ks == NULL || run->domain == NULL || run->generation <= 0)
		return;
	if (keystore_items(run->ks, run->domain, run->generation, &run->items,
	    &run->nitems, &err) == -1) {
		log_warnx("%s: generation %lld: %s; verify is skipped",
		    run->domain, (long long)run->generation, err.message);
		return;
	}
	for (i = 0; i < run->nitems; i++) {
		if (run->items[i].kind == KIND_SERVER)
			t->leaf_sha256 = run->items[i].fingerprint;
		else if (run->items[i].kind == KIND_INTERMEDIATE &&
		    t->ninter < CHAIN_MAX) {
			t->inter_sha256[t->ninter] = run->items[i].fingerprint;
			t->inter_subject[t->ninter] = run->items[i].subject;
			t->ninter++;
		}
	}
}

static void
run_finish(struct dep_run *run)
{
	runs_in_flight--;
	run->done(run->arg, !run->failed, run->results, run->nresults);
	run_free(run);
}

/* Does the output in proc's summary ("ARGV0: exit 0: OUTPUT") start with
 * expect? */
static int
output_starts(const char *summary, const char *expect)
{
	const char	*o;

	if ((o = strstr(summary, ": exit 0: ")) == NULL)
		return 0;
	for (o += 10; *o == ' '; o++)
		;
	return strncmp(o, expect, strlen(expect)) == 0;
}

static void
proc_done(void *arg, int ok, const char *summary)
{
	struct dep_run		*run = arg;
	struct dependent_conf	*d = run->deps[run->cur];
	char			*msg;

	run->proc = NULL;
	/* Tomcat's manager answers "FAIL - ..." with HTTP 200: curl exits 0. */
	if (ok && run->step == STEP_RELOAD && d->exec_expect != NULL &&
	    !output_starts(summary, d->exec_expect)) {
		xasprintf(&msg, "the output does not start with \"%s\": %s",
		    d->exec_expect, summary);
		step_done(run, 0, msg);
		free(msg);
		return;
	}
	step_done(run, ok, summary);
}

static void
verify_done(void *arg, int ok, const char *message)
{
	step_done(arg, ok, message);
}

static void
haproxy_done(void *arg, int ok, const char *message)
{
	struct dep_run	*run = arg;

	run->hap = NULL;
	step_done(run, ok, message);
}

static void
unit_done(void *arg, int ok, const char *message)
{
	struct dep_run	*run = arg;

	run->job = NULL;
	step_done(run, ok, message);
}

/* Start the step the run is at; 0 if it does not apply to this dependent. */
static int
step_start(struct dep_run *run, struct dependent_conf *d)
{
	struct verify_target	 t;
	char			 err[512], **argv = NULL;

	switch (run->step) {
	case STEP_CONFIGTEST:
		argv = d->configtest;
		break;
	case STEP_RELOAD:
		if (d->unit != NULL) {
			if ((run->job = sysd_unit_job(run->base, d->unit,
			    d->action, d->timeout_ms, unit_done, run, err,
			    sizeof(err))) == NULL)
				step_done(run, 0, err);
			return 1;
		}
		if (d->haproxy_socket != NULL) {
			if ((run->hap = haproxy_swap(run->base,
			    d->haproxy_socket, d->haproxy_crt, d->timeout_ms,
			    haproxy_done, run, err, sizeof(err))) == NULL)
				step_done(run, 0, err);
			return 1;
		}
		argv = d->exec;
		break;
	case STEP_VERIFY:
		if (d->verify_host == NULL || !run->verify ||
		    run->target.leaf_sha256 == NULL)
			return 0;
		t = run->target;
		t.host = d->verify_host;
		t.port = d->verify_port;
		t.name = d->verify_name != NULL ? d->verify_name : run->domain;
		t.timeout_ms = d->verify_timeout_ms;
		t.count = d->verify_count;
		if ((run->vfy = verify_start(run->base, &t, verify_done, run,
		    err, sizeof(err))) == NULL)
			step_done(run, 0, err);
		return 1;
	case STEP_END:
		return 0;
	}
	/* The configtest and the exec reload: a command, if there is one. */
	if (argv == NULL)
		return 0;
	if ((run->proc = proc_start(run->base, argv, run->env, d->timeout_ms,
	    proc_done, run, err, sizeof(err))) == NULL)
		step_done(run, 0, err);
	return 1;
}

static void
step_next(struct dep_run *run)
{
	if (++run->step >= STEP_END) {
		run->step = STEP_CONFIGTEST;
		run->cur++;
	}
}

/* Start the next step that applies; finish when none is left. */
static void
run_next_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dep_run	*run = arg;

	for (;;) {
		if (run->failed || run->cur >= run->ndeps) {
			run_finish(run);
			return;
		}
		run->step_started = now_ms();
		if (step_start(run, run->deps[run->cur]))
			return;
		step_next(run);
	}
}

/* Record a step's result, then move on from the event loop. */
static void
step_done(struct dep_run *run, int ok, const char *msg)
{
	struct dependent_conf	*d = run->deps[run->cur];
	struct dep_result	*r = &run->results[run->nresults++];
	struct ks_event		 ev;
	struct log_fields	 lf;

	run->vfy = NULL;
	memset(r, 0, sizeof(*r));
	strlcpy(r->dependent, d->name, sizeof(r->dependent));
	strlcpy(r->step, step_names[run->step], sizeof(r->step));
	r->ok = ok;
	r->duration_ms = now_ms() - run->step_started;
	strlcpy(r->message, msg, sizeof(r->message));

	memset(&ev, 0, sizeof(ev));
	ev.at = time(NULL);
	if (run->domain != NULL)
		strlcpy(ev.domain, run->domain, sizeof(ev.domain));
	ev.generation = run->generation;
	strlcpy(ev.type, "reload", sizeof(ev.type));
	strlcpy(ev.result, ok ? "ok" : "failed", sizeof(ev.result));
	strlcpy(ev.step, r->step, sizeof(ev.step));
	strlcpy(ev.dependent, r->dependent, sizeof(ev.dependent));
	ev.duration_ms = r->duration_ms;
	ev.message = r->message;
	if (run->ks != NULL && keystore_event(run->ks, &ev) == -1)
		log_warnx("dependent %s: cannot record the %s result", d->name,
		    r->step);

	memset(&lf, 0, sizeof(lf));
	lf.domain = run->domain;
	lf.generation = run->generation;
	lf.code = ok ? NULL : "reload-failed";
	log_fields(ok ? LOG_INFO : LOG_WARNING, &lf,
	    "dependent %s: %s %s in %lld ms%s%s", d->name, r->step,
	    ok ? "ok" : "FAILED", (long long)r->duration_ms,
	    r->message[0] != '\0' ? ": " : "", r->message);

	if (!ok)
		run->failed = 1;
	step_next(run);
	event_active(run->ev_next, EV_TIMEOUT, 0);
}

void
dependents_abort(struct dep_run *run)
{
	if (run == NULL)
		return;
	runs_in_flight--;
	run_free(run);
}

struct dep_run *
dependents_run(struct event_base *base, struct certd_conf *conf,
    struct keystore *ks, const struct dep_request *req, dep_done_fn done,
    void *arg, struct cert_error *err)
{
	struct dep_run		*run;
	struct dependent_conf	*p;
	size_t			 n = 0;

	run = xcalloc(1, sizeof(*run));
	run->base = base;
	run->ks = ks;
	run->generation = req->generation;
	run->verify = req->verify;
	run->done = done;
	run->arg = arg;
	run->domain = xstrdup(req->domain);
	run->conf = conf_ref(conf);
	run_env(run);

	TAILQ_FOREACH(p, &run->conf->dependents, entry)
		n++;
	run->deps = xcalloc(n + 1, sizeof(*run->deps));
	run->results = xcalloc(3 * n + 1, sizeof(*run->results));
	TAILQ_FOREACH(p, &run->conf->dependents, entry) {
		if (req->only != NULL ? strcmp(req->only, p->name) != 0 :
		    !conf_dependent_wants(p, req->domain))
			continue;
		run->deps[run->ndeps++] = p;
	}
	if (req->only != NULL && run->ndeps == 0) {
		cert_error_set(err, E_NOT_FOUND, "", 0,
		    "no [dependent %s] in the configuration", req->only);
		run_free(run);
		return NULL;
	}
	if (run->verify)
		run_load_expected(run);
	if ((run->ev_next = event_new(base, -1, 0, run_next_cb, run)) == NULL)
		fatalx("cannot create an event");
	runs_in_flight++;
	event_active(run->ev_next, EV_TIMEOUT, 0);
	return run;
}

/* --- the last result of each dependent, since start ----------------------- */

static struct dep_last	*deplast;
static size_t		 ndeplast;
static uint64_t		 deplast_seq;	/* results remembered */

uint64_t
dependents_last_seq(void)
{
	return deplast_seq;
}

const struct dep_last *
dependents_last(const char *name)
{
	size_t	 i;

	for (i = 0; i < ndeplast; i++)
		if (strcmp(deplast[i].name, name) == 0)
			return &deplast[i];
	return NULL;
}

const struct dep_last *
dependents_last_at(size_t i)
{
	return i < ndeplast ? &deplast[i] : NULL;
}

void
dependents_remember(const struct dep_result *s, time_t at)
{
	size_t	 i;

	for (i = 0; i < ndeplast; i++)
		if (strcmp(deplast[i].name, s->dependent) == 0)
			break;
	if (i == ndeplast) {
		deplast = xreallocarray(deplast, ndeplast + 1,
		    sizeof(*deplast));
		memset(&deplast[i], 0, sizeof(deplast[i]));
		strlcpy(deplast[i].name, s->dependent, sizeof(deplast[i].name));
		ndeplast++;
	}
	deplast_seq++;
	deplast[i].at = at;
	deplast[i].r = *s;
	/* Count a dependent's run once: by its last step. */
	if (!s->ok)
		deplast[i].failed++;
	else if (strcmp(s->step, "configtest") != 0)
		deplast[i].ok++;
}

/*
 * commit.c: the work behind a change: stage -> validate -> store
 * (keystore) -> render -> publish -> dependents (configtest, reload,
 * verify) -> on failure swap `current` back, set the DB back and reload
 * again.  One commit at a time per daemon.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "cert.h"
#include "commit.h"
#include "dependents.h"
#include "keystore.h"
#include "log.h"
#include "gendir.h"
#include "publish.h"
#include "render.h"
#include "util.h"

enum commit_kind { CK_COMMIT, CK_ROLLBACK, CK_RELOAD };

struct commit_ctx {
	enum commit_kind	 kind;
	char			 domain[DOMAIN_MAX + 1];	/* "" for reload */
	char			 only[64];
	int64_t			 prev, gen;
	char			 expect[65];
	int			 phase;		/* 1 first run, 2 after rollback */
	char			 reason[768];	/* why phase 1 failed */
	struct commit_result	 res;
	commit_done_fn		 done;
	void			*arg;
};

static struct commit_ctx	*inflight;
static struct event_base	*base;
static struct keystore		*ks;
static struct certd_conf	*conf;
static struct commit_hooks	 hooks;

void
commit_init(struct event_base *b, struct keystore *k, struct certd_conf *c,
    const struct commit_hooks *h)
{
	base = b;
	ks = k;
	conf = c;
	hooks = *h;
}

void
commit_set_conf(struct certd_conf *c)
{
	conf = c;
}

/* Last results since start, shown in status and counted in metrics. */
struct domain_last {
	char			 domain[DOMAIN_MAX + 1];
	struct reload_report	 r;
};
static struct domain_last	*dlast;
static size_t			 ndlast;
static struct dep_last		*deplast;
static size_t			 ndeplast;

int
commit_busy(void)
{
	return inflight != NULL || dependents_busy();
}

const struct reload_report *
commit_last_reload(const char *domain)
{
	size_t	 i;

	for (i = 0; i < ndlast; i++)
		if (strcmp(dlast[i].domain, domain) == 0)
			return &dlast[i].r;
	return NULL;
}

const struct dep_last *
commit_dependent_last(const char *name)
{
	size_t	 i;

	for (i = 0; i < ndeplast; i++)
		if (strcmp(deplast[i].name, name) == 0)
			return &deplast[i];
	return NULL;
}

const struct dep_last *
commit_dependent_at(size_t i)
{
	return i < ndeplast ? &deplast[i] : NULL;
}

static void
remember_domain(const char *domain, const struct reload_report *r)
{
	struct domain_last	*p;
	size_t			 i;

	for (i = 0; i < ndlast; i++)
		if (strcmp(dlast[i].domain, domain) == 0) {
			dlast[i].r = *r;
			return;
		}
	p = dlast = xreallocarray(dlast, ndlast + 1, sizeof(*p));
	strlcpy(dlast[ndlast].domain, domain, sizeof(dlast[ndlast].domain));
	dlast[ndlast].r = *r;
	ndlast++;
}

static void
remember_step(const struct dep_result *s, time_t at)
{
	struct dep_last	*p;
	size_t		 i;

	for (i = 0; i < ndeplast; i++)
		if (strcmp(deplast[i].name, s->dependent) == 0)
			break;
	if (i == ndeplast) {
		p = deplast = xreallocarray(deplast, ndeplast + 1,
		    sizeof(*p));
		memset(&deplast[i], 0, sizeof(deplast[i]));
		strlcpy(deplast[i].name, s->dependent, sizeof(deplast[i].name));
		ndeplast++;
	}
	deplast[i].at = at;
	deplast[i].r = *s;
	/* Count a dependent's run once: by its last step. */
	if (!s->ok)
		deplast[i].failed++;
	else if (strcmp(s->step, "configtest") != 0)
		deplast[i].ok++;
}

static void
add_steps(struct commit_ctx *ctx, const struct dep_result *r, size_t n)
{
	struct reload_report	*rep = &ctx->res.reload;
	time_t			 now = time(NULL);
	size_t			 i;

	for (i = 0; i < n; i++) {
		/* The summary counts the last step of each dependent. */
		if (i + 1 == n || strcmp(r[i].dependent, r[i + 1].dependent))
			remember_step(&r[i], now);
		if (rep->nsteps < COMMIT_STEPS_MAX)
			rep->steps[rep->nsteps++] = r[i];
	}
}

static int
summary_of(const struct ks_summary *d, void *arg)
{
	*(struct ks_summary *)arg = *d;
	return 1;
}

static int64_t
current_generation(const char *domain)
{
	struct ks_summary	 d = { .generation = 0 };

	keystore_walk(ks, domain, summary_of, &d, NULL);
	return d.generation;
}

static int
staged_count(const char *domain)
{
	struct ks_summary	 d = { .nstaged = 0 };

	keystore_walk(ks, domain, summary_of, &d, NULL);
	return (int)d.nstaged;
}

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
		log_warnx("%s: cannot record %s event", domain, type);
}

/* Write gen's files from the DB and make them current. */
static int
render_from_db(const char *domain, int64_t gen, char sha[65],
    struct cert_error *err)
{
	struct chain	*chain = NULL;
	int		 rv = -1;

	if (keystore_generation(ks, domain, gen, &chain, err) == -1)
		goto out;
	if (render_generation(conf, domain, gen, chain, err) == -1)
		goto out;
	if (sha != NULL && chain->n > 0)
		cert_sha256(chain->items[chain->n - 1].cert, sha);
	rv = 0;
out:
	chain_free(chain);
	return rv;
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

static void	dep_done(void *, int, const struct dep_result *, size_t);

static int
start_run(struct commit_ctx *ctx, int verify, struct cert_error *err)
{
	struct dep_request	 rq;

	memset(&rq, 0, sizeof(rq));
	rq.domain = ctx->domain[0] != '\0' ? ctx->domain : NULL;
	rq.only = ctx->only[0] != '\0' ? ctx->only : NULL;
	rq.generation = ctx->gen;
	rq.verify = verify;
	return dependents_run(base, conf, ks, &rq, dep_done, ctx, err);
}

static void
finish(struct commit_ctx *ctx)
{
	struct reload_report	*rep = &ctx->res.reload;
	struct log_fields	 f = { .domain = ctx->domain[0] ? ctx->domain :
				    NULL, .generation = rep->generation };

	rep->at = time(NULL);
	ctx->res.has_reload = 1;
	f.code = strcmp(rep->result, "ok") == 0 ||
	    strcmp(rep->result, "none") == 0 ? NULL : rep->result;
	log_fields(f.code == NULL ? LOG_INFO : LOG_WARNING, &f, "%s%s%s",
	    ctx->domain[0] ? ctx->domain : "reload", ": ", rep->message);
	if (ctx->domain[0] != '\0')
		remember_domain(ctx->domain, rep);
	inflight = NULL;
	hooks.changed();
	if (ctx->done != NULL)
		ctx->done(ctx->arg, &ctx->res, NULL);
	free(ctx);
	hooks.idle();
}

static void
describe_failure(char *out, size_t len, const struct dep_result *r, size_t n)
{
	const struct dep_result	*last;

	if (n == 0) {
		msgprintf(out, len, "dependents failed");
		return;
	}
	last = &r[n - 1];
	msgprintf(out, len, "%s %s: %s", last->step, last->dependent,
	    last->message);
}

static void
dep_done(void *arg, int ok, const struct dep_result *r, size_t n)
{
	struct commit_ctx	*ctx = arg;
	struct reload_report	*rep = &ctx->res.reload;
	struct cert_error	 err;
	char			 why[768];

	add_steps(ctx, r, n);
	if (ctx->phase == 2) {
		strlcpy(rep->result, "rolled-back", sizeof(rep->result));
		if (ok)
			msgprintf(rep->message, sizeof(rep->message),
			    "%s; rolled back to generation %lld", ctx->reason,
			    (long long)ctx->prev);
		else {
			describe_failure(why, sizeof(why), r, n);
			msgprintf(rep->message, sizeof(rep->message),
			    "%s; rolled back to generation %lld, but the "
			    "reload after the rollback failed too: %s",
			    ctx->reason, (long long)ctx->prev, why);
		}
		rep->generation = ctx->prev;
		finish(ctx);
		return;
	}
	if (ok) {
		strlcpy(rep->result, n == 0 ? "none" : "ok",
		    sizeof(rep->result));
		if (ctx->kind == CK_RELOAD)
			msgprintf(rep->message, sizeof(rep->message), n == 0 ?
			    "no dependents to run" : "dependents ran");
		else
			msgprintf(rep->message, sizeof(rep->message), n == 0 ?
			    "generation %lld is current; no dependents" :
			    "generation %lld is current and served",
			    (long long)ctx->gen);
		rep->generation = ctx->gen;
		finish(ctx);
		return;
	}
	describe_failure(ctx->reason, sizeof(ctx->reason), r, n);
	if (ctx->kind != CK_COMMIT || ctx->prev <= 0) {
		strlcpy(rep->result, "failed", sizeof(rep->result));
		msgprintf(rep->message, sizeof(rep->message), "%s%s",
		    ctx->reason, ctx->kind == CK_COMMIT ?
		    "; no earlier generation to roll back to" : "");
		rep->generation = ctx->kind == CK_RELOAD ? 0 : ctx->gen;
		finish(ctx);
		return;
	}
	/* Swap the files back first: services must read the old set. */
	if (gendir_swap(conf, ctx->domain, ctx->prev, &err) == -1 &&
	    render_from_db(ctx->domain, ctx->prev, NULL, &err) == -1) {
		strlcpy(rep->result, "failed", sizeof(rep->result));
		msgprintf(rep->message, sizeof(rep->message), "%s; rollback to "
		    "generation %lld failed: %s", ctx->reason,
		    (long long)ctx->prev, err.message);
		rep->generation = ctx->gen;
		finish(ctx);
		return;
	}
	if (keystore_set_current(ks, ctx->domain, ctx->prev,
	    ctx->reason, &err) == -1)
		log_warnx("%s: files rolled back to generation %lld but the "
		    "DB was not: %s", ctx->domain, (long long)ctx->prev,
		    err.message);
	ctx->phase = 2;
	ctx->gen = ctx->prev;
	if (start_run(ctx, 0, &err) == -1) {
		strlcpy(rep->result, "rolled-back", sizeof(rep->result));
		msgprintf(rep->message, sizeof(rep->message), "%s; rolled back "
		    "to generation %lld (reload not started: %s)", ctx->reason,
		    (long long)ctx->prev, err.message);
		rep->generation = ctx->prev;
		finish(ctx);
	}
}

static struct commit_ctx *
ctx_new(enum commit_kind kind, const char *domain, commit_done_fn done,
    void *arg)
{
	struct commit_ctx	*ctx;

	ctx = xcalloc(1, sizeof(*ctx));
	ctx->kind = kind;
	ctx->phase = 1;
	if (domain != NULL)
		strlcpy(ctx->domain, domain, sizeof(ctx->domain));
	strlcpy(ctx->res.domain, ctx->domain, sizeof(ctx->res.domain));
	ctx->done = done;
	ctx->arg = arg;
	return ctx;
}

/*
 * After the keystore committed gen: render it, publish, prune, and start
 * the dependents.  If the files cannot be written the DB must not keep
 * naming a generation that has no files: set it back to prev.
 */
static int
after_store(const char *domain, int64_t prev, struct commit_result *res,
    commit_done_fn done, void *arg, struct cert_error *err)
{
	struct commit_ctx	*ctx;
	struct cert_error	 e2;
	struct log_fields	 f = { .domain = domain,
				    .generation = res->up.generation };
	int64_t			 gen = res->up.generation;
	char			 sha[65] = "";

	if (render_from_db(domain, gen, sha, err) == -1) {
		f.code = "render-failed";
		log_fields(LOG_ERR, &f, "render of generation %lld failed: %s",
		    (long long)gen, err->message);
		record(domain, gen, "render", "failed", err->message);
		if (prev > 0 && keystore_set_current(ks, domain, prev,
		    "render failed", &e2) == -1)
			log_warnx("%s: cannot set generation %lld back: %s",
			    domain, (long long)prev, e2.message);
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "generation %lld was stored but its files could not be "
		    "written (%s); %s", (long long)gen, err->message, prev > 0 ?
		    "the previous generation stays current" :
		    "no files are current");
	}
	log_fields(LOG_INFO, &f, "%s: generation %lld rendered", domain,
	    (long long)gen);
	publish(domain);
	gendir_prune(conf, domain, conf->keep_generations, NULL, 0);
	keystore_prune(ks, domain, conf->keep_generations);

	ctx = ctx_new(CK_COMMIT, domain, done, arg);
	ctx->prev = prev;
	ctx->gen = gen;
	strlcpy(ctx->expect, sha, sizeof(ctx->expect));
	ctx->res = *res;
	if (start_run(ctx, 1, &e2) == -1) {
		/* Nothing was reloaded: treat as a failed run. */
		struct dep_result	 r;

		memset(&r, 0, sizeof(r));
		strlcpy(r.dependent, "-", sizeof(r.dependent));
		strlcpy(r.step, "start", sizeof(r.step));
		strlcpy(r.message, e2.message, sizeof(r.message));
		inflight = ctx;
		dep_done(ctx, 0, &r, 1);
		return 1;
	}
	inflight = ctx;
	return 1;
}

int
commit_upload(const struct upload *u, struct commit_result *res,
    commit_done_fn done, void *arg, struct cert_error *err)
{
	int64_t	 prev;
	int	 commits = u->key != NULL && u->key_len > 0;

	memset(res, 0, sizeof(*res));
	strlcpy(res->domain, u->domain, sizeof(res->domain));
	if (commits && commit_busy())
		return cert_error_set(err, E_CONFLICT, NULL, 0,
		    "a commit is in progress; retry when it is done");
	prev = current_generation(u->domain);
	if (keystore_upload(ks, u, time(NULL), &res->up, err) == -1)
		return -1;
	res->staged = staged_count(u->domain);
	if (!res->up.committed)
		return 0;
	return after_store(u->domain, prev, res, done, arg, err);
}

int
commit_bundle(const char *domain, const char *certs, size_t certs_len,
    const char *key, size_t key_len, struct commit_result *res,
    commit_done_fn done, void *arg, struct cert_error *err)
{
	int64_t	 prev;

	memset(res, 0, sizeof(*res));
	strlcpy(res->domain, domain, sizeof(res->domain));
	if (commit_busy())
		return cert_error_set(err, E_CONFLICT, NULL, 0,
		    "a commit is in progress; retry when it is done");
	prev = current_generation(domain);
	if (keystore_bundle(ks, domain, certs, certs_len, key, key_len,
	    time(NULL), &res->up, err) == -1)
		return -1;
	res->staged = staged_count(domain);
	if (!res->up.committed)
		return 0;
	return after_store(domain, prev, res, done, arg, err);
}

int
commit_rollback(const char *domain, int64_t gen, struct commit_result *res,
    commit_done_fn done, void *arg, struct cert_error *err)
{
	struct ks_domain	*kd = NULL;
	struct commit_ctx	*ctx;
	struct cert_error	 e2;
	char			 sha[65] = "", reason[128];
	int64_t			 cur;
	size_t			 i;
	int			 rv = -1;

	memset(res, 0, sizeof(*res));
	strlcpy(res->domain, domain, sizeof(res->domain));
	if (commit_busy())
		return cert_error_set(err, E_CONFLICT, NULL, 0,
		    "a commit is in progress; retry when it is done");
	if (keystore_domain(ks, domain, &kd, err) == -1)
		return -1;
	cur = kd->generation;
	if (gen == 0) {
		/* The newest generation older than the current one. */
		for (i = 0; i < kd->ngens; i++)
			if (kd->gens[i].generation < cur &&
			    kd->gens[i].generation > gen)
				gen = kd->gens[i].generation;
		if (gen == 0) {
			cert_error_set(err, E_NOT_FOUND, NULL, 0, "%s has no "
			    "generation before %lld to roll back to", domain,
			    (long long)cur);
			goto out;
		}
	} else {
		for (i = 0; i < kd->ngens; i++)
			if (kd->gens[i].generation == gen)
				break;
		if (i == kd->ngens) {
			cert_error_set(err, E_NOT_FOUND, NULL, 0, "%s has no "
			    "generation %lld (kept: the last %d)", domain,
			    (long long)gen, conf->keep_generations);
			goto out;
		}
	}
	/* Re-render if its files were pruned or damaged. */
	if (render_from_db(domain, gen, sha, err) == -1)
		goto out;
	msgprintf(reason, sizeof(reason), "rollback from generation %lld "
	    "requested", (long long)cur);
	if (keystore_set_current(ks, domain, gen, reason, err) == -1) {
		if (cur > 0)
			gendir_swap(conf, domain, cur, &e2);
		goto out;
	}
	publish(domain);
	log_fields(LOG_NOTICE, &(struct log_fields){ .domain = domain,
	    .generation = gen }, "%s: rolled back to generation %lld",
	    domain, (long long)gen);
	res->up.generation = gen;
	ctx = ctx_new(CK_ROLLBACK, domain, done, arg);
	ctx->prev = cur;
	ctx->gen = gen;
	strlcpy(ctx->expect, sha, sizeof(ctx->expect));
	ctx->res = *res;
	if (start_run(ctx, 1, &e2) == -1) {
		free(ctx);
		res->has_reload = 1;
		strlcpy(res->reload.result, "failed",
		    sizeof(res->reload.result));
		msgprintf(res->reload.message, sizeof(res->reload.message),
		    "reload not started: %s", e2.message);
		res->reload.generation = gen;
		res->reload.at = time(NULL);
		remember_domain(domain, &res->reload);
		rv = 0;
		goto out;
	}
	inflight = ctx;
	rv = 1;
out:
	keystore_domain_free(kd);
	return rv;
}

int
commit_render(const char *domain, int64_t *gen, struct cert_error *err)
{
	struct chain	*chain = NULL;
	int		 rv = -1;

	if (commit_busy())
		return cert_error_set(err, E_CONFLICT, NULL, 0,
		    "a commit is in progress; retry when it is done");
	if (keystore_current(ks, domain, &chain, gen, err) == -1)
		goto out;
	if (*gen <= 0) {
		cert_error_set(err, E_NOT_FOUND, NULL, 0, "%s has no committed "
		    "generation", domain);
		goto out;
	}
	if (render_generation(conf, domain, *gen, chain, err) == -1)
		goto out;
	publish(domain);
	record(domain, *gen, "render", "ok", "rendered on request");
	rv = 0;
out:
	chain_free(chain);
	return rv;
}

int
commit_reload(const char *only, struct commit_result *res,
    commit_done_fn done, void *arg, struct cert_error *err)
{
	struct commit_ctx	*ctx;
	struct dependent_conf	*p;

	memset(res, 0, sizeof(*res));
	if (commit_busy())
		return cert_error_set(err, E_CONFLICT, NULL, 0,
		    "a commit is in progress; retry when it is done");
	if (only != NULL) {
		TAILQ_FOREACH(p, &conf->dependents, entry)
			if (strcmp(p->name, only) == 0)
				break;
		if (p == NULL)
			return cert_error_set(err, E_NOT_FOUND, NULL, 0,
			    "no [dependent %s] in the configuration", only);
	}
	ctx = ctx_new(CK_RELOAD, NULL, done, arg);
	if (only != NULL)
		strlcpy(ctx->only, only, sizeof(ctx->only));
	if (start_run(ctx, 0, err) == -1) {
		free(ctx);
		return -1;
	}
	inflight = ctx;
	return 1;
}

struct names {
	char	**v;
	size_t	  n;
};

static int
collect_name(const struct ks_summary *d, void *arg)
{
	struct names	*ns = arg;

	if (d->generation > 0) {
		ns->v = xreallocarray(ns->v, ns->n + 1, sizeof(*ns->v));
		ns->v[ns->n++] = xstrdup(d->name);
	}
	return 0;
}

void
commit_repair_all(void)
{
	struct cert_error	 err;
	struct log_fields	 f;
	struct names		 ns = { NULL, 0 };
	size_t			 i;
	int64_t			 dbgen, cur;
	struct chain		*chain;

	if (keystore_walk(ks, NULL, collect_name, &ns, &err) == -1) {
		log_warnx("cannot list domains to repair: %s", err.message);
		return;
	}
	for (i = 0; i < ns.n; i++) {
		memset(&f, 0, sizeof(f));
		f.domain = ns.v[i];
		chain = NULL;
		gendir_clean(conf, ns.v[i]);
		if (keystore_current(ks, ns.v[i], &chain, &dbgen,
		    &err) == -1 || dbgen <= 0) {
			chain_free(chain);
			free(ns.v[i]);
			continue;
		}
		f.generation = dbgen;
		cur = gendir_current(conf, ns.v[i]);
		if (cur != dbgen || !gendir_check(conf, ns.v[i], dbgen)) {
			log_fields(LOG_NOTICE, &f, "%s: current files %s; "
			    "rendering generation %lld from the DB", ns.v[i],
			    cur == 0 ? "missing" : cur < 0 ? "damaged" :
			    cur != dbgen ? "name another generation" :
			    "incomplete", (long long)dbgen);
			if (render_generation(conf, ns.v[i], dbgen,
			    chain, &err) == -1) {
				f.code = "render-failed";
				log_fields(LOG_ERR, &f, "%s: %s", ns.v[i],
				    err.message);
			}
		}
		chain_free(chain);
		free(ns.v[i]);
	}
	free(ns.v);
}

void
commit_publish_all(void)
{
	struct domain_conf	*dc;

	TAILQ_FOREACH(dc, &conf->domains, entry)
		if (current_generation(dc->name) > 0)
			publish(dc->name);
}

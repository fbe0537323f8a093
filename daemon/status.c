/*
 * status.c: GET /v1/status, GET /v1/domains/D and /metrics (see status.h).
 * Every listing comes from one walk over the store (keystore_walk); the
 * last reload results are commit.c's in-memory record, else the newest
 * recorded event.
 */
#include "config.h"

#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "dependents.h"
#include "filecheck.h"
#include "jsonw.h"
#include "log.h"
#include "status.h"
#include "util.h"

#define EVENTS_SHOWN	20	/* in GET /v1/domains/D */
#define EXPIRING_DAYS	30

json_t *
status_time(time_t t)
{
	char	 buf[32];

	iso_time(t, buf);
	return buf[0] != '\0' ? json_string(buf) : json_null();
}

static json_t *
j_item(const struct ks_item *it)
{
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, "
	    "s:b}", "name", it->name, "seq", it->seq,
	    "kind", chain_kind_name(it->kind), "subject", it->subject,
	    "issuer", it->issuer, "serial", it->serial, "san", it->san,
	    "not_before", status_time(it->not_before),
	    "not_after", status_time(it->not_after), "sha256", it->fingerprint,
	    "has_key", it->has_key);
}

json_t *
status_reload_json(const struct reload_report *r, int with_at)
{
	json_t	*o, *steps = json_array();
	size_t	 i;

	for (i = 0; i < r->nsteps; i++)
		json_array_append_new(steps, json_pack("{s:s, s:s, s:b, s:I, "
		    "s:s}", "dependent", r->steps[i].dependent, "step",
		    r->steps[i].step, "ok", r->steps[i].ok, "duration_ms",
		    (json_int_t)r->steps[i].duration_ms, "message",
		    r->steps[i].message));
	o = json_pack("{s:s, s:s, s:I, s:o}", "result", r->result,
	    "message", r->message, "generation", (json_int_t)r->generation,
	    "steps", steps);
	if (with_at)
		json_object_set_new(o, "at", status_time(r->at));
	return o;
}

/* How the last commit, rollback or reload of the domain ended. */
static void
w_outcome(struct jsonw *w, const struct ks_summary *d)
{
	if (!jsonw_object_or_null(w, "last_reload", d->outcome[0] != '\0'))
		return;
	jsonw_string(w, "result", d->outcome);
	jsonw_time(w, "at", d->outcome_at);
	jsonw_string(w, "message", d->outcome_message);
	jsonw_int(w, "generation", d->outcome_generation);
	jsonw_close(w);
}

const char *
status_domain_state(const struct ks_summary *d, time_t now)
{
	/* Dependents not yet passed on what is (or is to be) current. */
	if (d->pending != 0 || d->unsettled)
		return commit_recovering(d->name) ? "recovering" : "pending";
	if (strcmp(d->outcome, "failed") == 0 ||
	    strcmp(d->outcome, "rolled-back") == 0)
		return "failed";
	if (!d->has_server)
		return d->nstaged > 0 ? "staged" : "failed";
	if (d->not_after <= now)
		return "expired";
	if (days_left(d->not_after, now) < EXPIRING_DAYS)
		return "expiring";
	/* Its files not yet checked since the start. */
	if (filecheck_pending(d->name))
		return "unchecked";
	return d->nstaged > 0 ? "staged" : "ok";
}

/* The states, most urgent first; "ok" needs no attention. */
static const char *const states[] = { "pending", "recovering", "failed",
    "expired", "expiring", "unchecked", "staged", "ok" };

/*
 * GET /v1/status is written straight as text: at 10,000 domains a jansson
 * tree of it is 200,000 allocations and takes longer to free than to fill.
 */
struct status_walk {
	struct jsonw	 domains;	/* the "domains" array, written */
	time_t		 now;
	int		 attention;	/* list only domains not ok */
	int64_t		 count[nitems(states)];
	int64_t		 n;
	char		 next[DOMAIN_MAX + 1];
	int64_t		 next_after;
};

static void
w_server(struct jsonw *w, const struct ks_summary *d, time_t now)
{
	if (!jsonw_object_or_null(w, "server", d->has_server))
		return;
	jsonw_string(w, "subject", d->subject);
	jsonw_string(w, "san", d->san);
	jsonw_time(w, "not_after", d->not_after);
	jsonw_int(w, "days_left", days_left(d->not_after, now));
	jsonw_string(w, "sha256", d->fingerprint);
	jsonw_close(w);
}

static int
status_domain(const struct ks_summary *d, void *arg)
{
	struct status_walk	*w = arg;
	const char		*state = status_domain_state(d, w->now);
	size_t			 i;

	w->n++;
	for (i = 0; i < nitems(states); i++)
		if (strcmp(state, states[i]) == 0)
			w->count[i]++;
	if (d->has_server && (w->next[0] == '\0' ||
	    d->not_after < w->next_after)) {
		strlcpy(w->next, d->name, sizeof(w->next));
		w->next_after = d->not_after;
	}
	/* Unchecked is for a while after a start, and counted above. */
	if (w->attention && (strcmp(state, "ok") == 0 ||
	    strcmp(state, "unchecked") == 0))
		return 0;
	jsonw_object(&w->domains, NULL);
	jsonw_string(&w->domains, "domain", d->name);
	jsonw_int(&w->domains, "generation", d->generation);
	jsonw_int(&w->domains, "pending", d->pending);
	jsonw_string(&w->domains, "state", state);
	w_server(&w->domains, d, w->now);
	jsonw_int(&w->domains, "chain_length", d->nitems);
	jsonw_int(&w->domains, "staged", d->nstaged);
	w_outcome(&w->domains, d);
	jsonw_close(&w->domains);
	return 0;
}

/* "summary": how many domains, how many in each state, the next expiry. */
static void
w_summary(struct jsonw *j, const struct status_walk *w)
{
	size_t	 i;

	jsonw_object(j, "summary");
	jsonw_int(j, "domains", w->n);
	jsonw_object(j, "states");
	for (i = 0; i < nitems(states); i++)
		jsonw_int(j, states[i], w->count[i]);
	jsonw_close(j);
	if (jsonw_object_or_null(j, "next_expiry", w->next[0] != '\0')) {
		jsonw_string(j, "domain", w->next);
		jsonw_time(j, "not_after", w->next_after);
		jsonw_int(j, "days_left", days_left(w->next_after, w->now));
		jsonw_close(j);
	}
	jsonw_int(j, "unchecked", filecheck_count());
	jsonw_close(j);
}

static void
w_dependents(struct jsonw *j, const struct certd_conf *conf)
{
	const struct dependent_conf *pc;
	const struct dep_last	*dl;

	jsonw_array(j, "dependents");
	TAILQ_FOREACH(pc, &conf->dependents, entry) {
		jsonw_object(j, NULL);
		jsonw_string(j, "name", pc->name);
		dl = dependents_last(pc->name);
		if (jsonw_object_or_null(j, "last", dl != NULL)) {
			jsonw_string(j, "result", dl->r.ok ? "ok" : "failed");
			jsonw_time(j, "at", dl->at);
			jsonw_string(j, "step", dl->r.step);
			jsonw_int(j, "duration_ms", dl->r.duration_ms);
			jsonw_string(j, "message", dl->r.message);
			jsonw_close(j);
		}
		jsonw_close(j);
	}
	jsonw_close(j);
}

static char *
status_build(struct keystore *ks, const struct certd_conf *conf,
    time_t now, time_t started, int attention, size_t *len,
    struct cert_error *err)
{
	struct status_walk	 w;
	struct jsonw		 j;
	char			*domains;
	size_t			 n;

	memset(&w, 0, sizeof(w));
	jsonw_init(&w.domains);
	w.now = now;
	w.attention = attention;
	/* The rows are written as the walk goes; the summary, which comes
	 * first in the answer, is known only at its end. */
	jsonw_array(&w.domains, NULL);
	if (keystore_walk(ks, NULL, status_domain, &w, err) == -1) {
		jsonw_free(&w.domains);
		return NULL;
	}
	jsonw_close(&w.domains);
	domains = jsonw_finish(&w.domains, &n);

	jsonw_init(&j);
	jsonw_object(&j, NULL);
	jsonw_string(&j, "version", PACKAGE_VERSION);
	jsonw_int(&j, "uptime", w.now - started);
	jsonw_bool(&j, "busy", commit_busy());
	w_summary(&j, &w);
	jsonw_raw(&j, "domains", domains, n - 1);	/* not its newline */
	free(domains);
	w_dependents(&j, conf);
	jsonw_close(&j);
	return jsonw_finish(&j, len);
}

/*
 * GET /v1/status is asked far more often than what it shows changes: a
 * monitor polls it, certctl waits on it.  So the answer is kept and sent
 * again while all it is made of stays the same: the second on the clock
 * (uptime, days_left), the rows of the store, the commit queue, the files
 * still unchecked, the dependents' last results and the config (which
 * status_forget drops it for).  Each of these moves when its part of the
 * answer may have, so a kept answer is never older than the state.  An
 * answer over STATUS_KEEP_MAX (thousands of domains) is made again each
 * time instead of holding megabytes for the rest of the second.
 */
#define STATUS_KEEP_MAX	(64 * 1024)

struct status_inputs {
	time_t		 now;
	int64_t		 rows;
	uint64_t	 jobs, results;
	size_t		 unchecked;
};
static struct status_kept {
	struct status_inputs	 in;	/* what buf was made from */
	char			*buf;
	size_t			 len;
} kept[2];				/* all rows; attention only */

void
status_forget(void)
{
	size_t	 i;

	for (i = 0; i < nitems(kept); i++) {
		free(kept[i].buf);
		kept[i].buf = NULL;
	}
}

char *
status_json(struct keystore *ks, const struct certd_conf *conf,
    time_t started, int attention, size_t *len, struct cert_error *err)
{
	struct status_kept	*k = &kept[attention != 0];
	struct status_inputs	 in;
	char			*buf;

	memset(&in, 0, sizeof(in));	/* padding too: compared whole */
	in.now = time(NULL);
	in.rows = keystore_changes(ks);
	in.jobs = commit_jobs_seq();
	in.results = dependents_last_seq();
	in.unchecked = filecheck_count();
	if (k->buf != NULL && memcmp(&k->in, &in, sizeof(in)) == 0) {
		*len = k->len;
		return xstrndup(k->buf, k->len);
	}
	free(k->buf);
	k->buf = NULL;
	if ((buf = status_build(ks, conf, in.now, started, attention, len,
	    err)) != NULL && *len <= STATUS_KEEP_MAX) {
		k->in = in;
		k->buf = xstrndup(buf, *len);
		k->len = *len;
	}
	return buf;
}

json_t *
status_domain_json(struct keystore *ks, const char *domain,
    struct cert_error *err)
{
	struct ks_domain	*kd = NULL;
	struct ks_event		*ev = NULL;
	json_t			*items, *staged, *gens, *events, *o;
	size_t			 i, n = 0;

	if (keystore_domain(ks, domain, &kd, err) == -1)
		return NULL;
	items = json_array();
	for (i = 0; i < kd->nitems; i++)
		json_array_append_new(items, j_item(&kd->items[i]));
	staged = json_array();
	for (i = 0; i < kd->nstaged; i++)
		json_array_append_new(staged, j_item(&kd->staged[i]));
	gens = json_array();
	for (i = 0; i < kd->ngens; i++)
		json_array_append_new(gens, json_pack("{s:I, s:o, s:b, s:s}",
		    "generation", (json_int_t)kd->gens[i].generation,
		    "created", status_time(kd->gens[i].created),
		    "current", kd->gens[i].current,
		    "state", kd->gens[i].state));
	events = json_array();
	if (keystore_events(ks, domain, NULL, EVENTS_SHOWN, &ev, &n) == 0) {
		for (i = 0; i < n; i++) {
			o = json_pack("{s:o, s:s, s:s, s:I, s:s}", "at",
			    status_time(ev[i].at), "type", ev[i].type,
			    "result", ev[i].result, "generation",
			    (json_int_t)ev[i].generation, "message",
			    ev[i].message);
			if (ev[i].actor[0] != '\0')
				json_object_set_new(o, "actor",
				    json_string(ev[i].actor));
			if (ev[i].dependent[0] != '\0') {
				json_object_set_new(o, "dependent",
				    json_string(ev[i].dependent));
				json_object_set_new(o, "step",
				    json_string(ev[i].step));
			}
			json_array_append_new(events, o);
		}
		keystore_events_free(ev, n);
	}
	o = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o}", "domain", kd->name,
	    "generation", (json_int_t)kd->generation, "items", items,
	    "staged", staged, "generations", gens, "events", events);
	keystore_domain_free(kd);
	return o;
}

/* --- metrics ------------------------------------------------------------- */

/* Prometheus label values: backslash, quote and newline escaped.  Runs
 * of plain bytes go out whole: 10,000 domains are 40,000 labels. */
static void
prom_label(FILE *f, const char *s)
{
	size_t	 n;

	for (;;) {
		n = strcspn(s, "\\\"\n");
		fwrite(s, 1, n, f);
		s += n;
		if (*s == '\0')
			break;
		fputs(*s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\", f);
		s++;
	}
}

/* NAME{LABEL="VALUE"} and optional ,LABEL2="VALUE2", then the value. */
static void
prom_line(FILE *f, const char *metric, const char *l1, const char *v1,
    const char *l2, const char *v2, long long value)
{
	fprintf(f, "%s{%s=\"", metric, l1);
	prom_label(f, v1);
	if (l2 != NULL) {
		fprintf(f, "\",%s=\"", l2);
		prom_label(f, v2);
	}
	fprintf(f, "\"} %lld\n", value);
}

static int
metric_cert(const char *domain, const struct ks_item *it, void *arg)
{
	FILE	*f = arg;

	fprintf(f, "certd_certificate_not_after_seconds{domain=\"");
	prom_label(f, domain);
	fprintf(f, "\",kind=\"%s\",name=\"", chain_kind_name(it->kind));
	prom_label(f, it->name);
	fprintf(f, "\"} %lld\n", (long long)it->not_after);
	return 0;
}

struct metric_walk {
	FILE	*f;
	time_t	 now;
};

static int
metric_domain(const struct ks_summary *d, void *arg)
{
	struct metric_walk	*w = arg;

	prom_line(w->f, "certd_domain_generation", "domain", d->name, NULL,
	    NULL, d->generation);
	if (d->has_server)
		prom_line(w->f, "certd_domain_days_left", "domain", d->name,
		    "state", status_domain_state(d, w->now),
		    days_left(d->not_after, w->now));
	return 0;
}

static void
metric_counts(FILE *f, struct keystore *ks, const char *type,
    const char *group, const char *metric, const char *label)
{
	struct ks_count	*c = NULL;
	size_t		 n = 0, i;

	if (keystore_count(ks, type, group, &c, &n) == -1)
		return;
	for (i = 0; i < n; i++)
		prom_line(f, metric, label, c[i].key, NULL, NULL, c[i].n);
	free(c);
}

char *
status_metrics(struct keystore *ks, time_t started, size_t conns, size_t *len)
{
	struct metric_walk	 w;
	const struct dep_last	*dl;
	char			*buf = NULL;
	size_t			 i;

	if ((w.f = open_memstream(&buf, len)) == NULL)
		fatalx("out of memory");
	/* Ours alone: 100,000 writes need not each take its lock. */
	__fsetlocking(w.f, FSETLOCKING_BYCALLER);
	w.now = time(NULL);
	fprintf(w.f, "# HELP certd_build_info certd version.\n"
	    "# TYPE certd_build_info gauge\n"
	    "certd_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	fprintf(w.f, "# HELP certd_uptime_seconds Seconds since certd "
	    "started.\n# TYPE certd_uptime_seconds gauge\n"
	    "certd_uptime_seconds %lld\n", (long long)(w.now - started));
	fprintf(w.f, "# HELP certd_certificate_not_after_seconds Expiry of "
	    "each certificate of the current generation (unix time).\n"
	    "# TYPE certd_certificate_not_after_seconds gauge\n");
	keystore_walk_current(ks, metric_cert, w.f, NULL);
	fprintf(w.f, "# HELP certd_domain_generation Current generation per "
	    "domain.\n# TYPE certd_domain_generation gauge\n"
	    "# HELP certd_domain_days_left Days until the server certificate "
	    "expires (negative: expired).\n"
	    "# TYPE certd_domain_days_left gauge\n");
	keystore_walk(ks, NULL, metric_domain, &w, NULL);
	fprintf(w.f, "# HELP certd_commits_total Generations committed.\n"
	    "# TYPE certd_commits_total counter\n");
	metric_counts(w.f, ks, "commit", "domain", "certd_commits_total",
	    "domain");
	fprintf(w.f, "# HELP certd_rejections_total Uploads refused, by "
	    "error code.\n# TYPE certd_rejections_total counter\n");
	metric_counts(w.f, ks, "reject", "result", "certd_rejections_total",
	    "code");
	fprintf(w.f, "# HELP certd_reloads_total Dependent runs since start, "
	    "by result.\n# TYPE certd_reloads_total counter\n");
	for (i = 0; (dl = dependents_last_at(i)) != NULL; i++) {
		prom_line(w.f, "certd_reloads_total", "dependent", dl->name,
		    "result", "ok", dl->ok);
		prom_line(w.f, "certd_reloads_total", "dependent", dl->name,
		    "result", "failed", dl->failed);
	}
	fprintf(w.f, "# HELP certd_control_connections Open control socket "
	    "connections.\n# TYPE certd_control_connections gauge\n"
	    "certd_control_connections %zu\n", conns);
	if (fclose(w.f) != 0)
		fatalx("out of memory");
	return buf;
}

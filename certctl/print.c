/*
 * print.c: certctl's human output of the API answers (docs/api.md):
 * status as aligned columns, show like `keytool -list -v`, upload and
 * reload results in plain words.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "util.h"
#include "certctl.h"

const char *
jstr(json_t *o, const char *key, const char *dflt)
{
	json_t	*v;

	if (!json_is_object(o) || (v = json_object_get(o, key)) == NULL ||
	    !json_is_string(v))
		return dflt;
	return json_string_value(v);
}

long long
jint(json_t *o, const char *key, long long dflt)
{
	json_t	*v;

	if (!json_is_object(o) || (v = json_object_get(o, key)) == NULL)
		return dflt;
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return dflt;
}

void
fmt_fingerprint(const char *hex, char *out, size_t outlen)
{
	size_t	 i, o = 0;

	if (outlen == 0)
		return;
	for (i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2) {
		if (o + (i > 0) + 2 >= outlen)
			break;
		if (i > 0)
			out[o++] = ':';
		out[o++] = toupper((unsigned char)hex[i]);
		out[o++] = toupper((unsigned char)hex[i + 1]);
	}
	out[o] = '\0';
}

void
fmt_time(const char *iso, char *out, size_t outlen)
{
	size_t	 n = strlen(iso);

	/* 2026-11-23T11:00:00Z: the only form the daemon sends. */
	if (n == 20 && iso[10] == 'T' && iso[19] == 'Z' && outlen >= 24) {
		memcpy(out, iso, 10);
		out[10] = ' ';
		memcpy(out + 11, iso + 11, 8);
		memcpy(out + 19, " UTC", 5);
		return;
	}
	strlcpy(out, iso, outlen);
}

/* An aligned table like `systemctl list-units`; the last column unpadded. */
#define TABLE_COLS	8
struct table {
	size_t	 ncols, nrows;
	size_t	 width[TABLE_COLS];
	char	**cell;			/* nrows * ncols strings */
};

static void
table_row(struct table *t, ...)
{
	va_list		 ap;
	const char	*s;
	char		**nc;
	size_t		 i, n;

	nc = t->cell = xreallocarray(t->cell, (t->nrows + 1) * t->ncols,
	    sizeof(*nc));
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		s = va_arg(ap, const char *);
		if (s == NULL)
			s = "-";
		nc[t->nrows * t->ncols + i] = xstrdup(s);
		if ((n = strlen(s)) > t->width[i])
			t->width[i] = n;
	}
	va_end(ap);
	t->nrows++;
}

/* Are the cells of row r from column c on all empty?  (no trailing blanks) */
static int
table_rest_empty(struct table *t, size_t r, size_t c)
{
	for (; c < t->ncols; c++)
		if (t->cell[r * t->ncols + c] != NULL &&
		    *t->cell[r * t->ncols + c] != '\0')
			return 0;
	return 1;
}

static void
table_print(FILE *f, struct table *t)
{
	size_t	 r, c;
	char	*s;

	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			s = t->cell[r * t->ncols + c];
			if (c + 1 == t->ncols ||
			    table_rest_empty(t, r, c + 1)) {
				fprintf(f, "%s\n", s != NULL ? s : "");
				break;
			}
			fprintf(f, "%-*s  ", (int)t->width[c],
			    s != NULL ? s : "");
		}
	}
	for (r = 0; r < t->nrows * t->ncols; r++)
		free(t->cell[r]);
	free(t->cell);
	t->cell = NULL;
	t->nrows = 0;
}

static void
print_steps(FILE *f, json_t *steps, const char *indent)
{
	struct table	 t = { .ncols = 5 };
	json_t		*s;
	size_t		 i;
	char		 ms[32];

	if (!json_is_array(steps) || json_array_size(steps) == 0)
		return;
	json_array_foreach(steps, i, s) {
		snprintf(ms, sizeof(ms), "%lld ms", jint(s, "duration_ms", 0));
		table_row(&t, jstr(s, "dependent", "?"), jstr(s, "step", "?"),
		    json_is_true(json_object_get(s, "ok")) ? "ok" : "FAILED",
		    ms, jstr(s, "message", ""));
	}
	/* indent each line by hand: table_print has no prefix */
	for (i = 0; i < t.nrows; i++) {
		fprintf(f, "%s", indent);
		fprintf(f, "%-*s  %-*s  %-*s  %*s  %s\n",
		    (int)t.width[0], t.cell[i * 5], (int)t.width[1],
		    t.cell[i * 5 + 1], (int)t.width[2], t.cell[i * 5 + 2],
		    (int)t.width[3], t.cell[i * 5 + 3], t.cell[i * 5 + 4]);
	}
	for (i = 0; i < t.nrows * t.ncols; i++)
		free(t.cell[i]);
	free(t.cell);
}

/* Most urgent first; ok last.  The daemon's states, in its order. */
static const char *const urgency[] = { "pending", "recovering", "failed",
    "expired", "expiring", "unchecked", "staged", "ok" };

static size_t
state_rank(json_t *d)
{
	const char	*s = jstr(d, "state", "");
	size_t		 i;

	for (i = 0; i < nitems(urgency); i++)
		if (strcmp(s, urgency[i]) == 0)
			return i;
	return 0;		/* unknown: show it first */
}

/* The summary line: "N domains: a ok, b expiring; next expiry ...". */
static void
print_summary(FILE *f, json_t *sum)
{
	json_t		*states = json_object_get(sum, "states");
	json_t		*next = json_object_get(sum, "next_expiry");
	const char	*sep = ": ";
	char		 exp[64];
	size_t		 i;

	fprintf(f, "%lld domain%s", jint(sum, "domains", 0),
	    jint(sum, "domains", 0) == 1 ? "" : "s");
	for (i = 0; i < nitems(urgency); i++)
		if (jint(states, urgency[i], 0) > 0) {
			fprintf(f, "%s%lld %s", sep, jint(states, urgency[i],
			    0), urgency[i]);
			sep = ", ";
		}
	if (json_is_object(next)) {
		fmt_time(jstr(next, "not_after", "-"), exp, sizeof(exp));
		fprintf(f, "; next expiry %s in %lld days (%s)",
		    jstr(next, "domain", "?"), jint(next, "days_left", 0), exp);
	}
	fprintf(f, "\n");
	if (jint(sum, "unchecked", 0) > 0)
		fprintf(f, "The files of %lld domains are still being checked "
		    "after the start.\n", jint(sum, "unchecked", 0));
}

/* The domains table, the most urgent first, then by name. */
static void
print_domains(FILE *f, json_t *domains)
{
	struct table	 t = { .ncols = 6 };
	json_t		*d, *srv, *last;
	size_t		 n = json_array_size(domains), i, r;
	char		 gen[32], days[32], exp[64];

	table_row(&t, "DOMAIN", "GEN", "STATE", "EXPIRES", "DAYS", "SUBJECT");
	for (r = 0; r < nitems(urgency); r++)
		json_array_foreach(domains, i, d) {
			if (state_rank(d) != r)
				continue;
			srv = json_object_get(d, "server");
			snprintf(gen, sizeof(gen), "%lld",
			    jint(d, "generation", 0));
			fmt_time(jstr(srv, "not_after", "-"), exp, sizeof(exp));
			if (json_is_object(srv))
				snprintf(days, sizeof(days), "%lld",
				    jint(srv, "days_left", 0));
			else
				strlcpy(days, "-", sizeof(days));
			table_row(&t, jstr(d, "domain", "?"), gen,
			    jstr(d, "state", "?"), exp, days,
			    jstr(srv, "subject", "-"));
		}
	table_print(f, &t);
	for (i = 0; i < n; i++) {
		d = json_array_get(domains, i);
		if (jint(d, "staged", 0) > 0)
			fprintf(f, "%s: %lld item%s staged, not yet "
			    "committed.\n", jstr(d, "domain", "?"),
			    jint(d, "staged", 0),
			    jint(d, "staged", 0) == 1 ? "" : "s");
		last = json_object_get(d, "last_reload");
		if (json_is_object(last) && strcmp(jstr(last, "result", "ok"),
		    "ok") != 0 && strcmp(jstr(last, "result", "ok"),
		    "none") != 0)
			fprintf(f, "%s: last reload %s: %s\n",
			    jstr(d, "domain", "?"), jstr(last, "result", "?"),
			    jstr(last, "message", ""));
	}
}

void
print_status(FILE *f, json_t *a, int all)
{
	struct table	 t = { .ncols = 6 };
	json_t		*domains, *deps, *d, *last, *sum;
	size_t		 i;
	long long	 up;
	char		 at[64], ms[32];

	up = jint(a, "uptime", 0);
	fprintf(f, "certd %s, up %lldd %02lld:%02lld:%02lld%s\n",
	    jstr(a, "version", "?"), up / 86400, up / 3600 % 24, up / 60 % 60,
	    up % 60, json_is_true(json_object_get(a, "busy")) ?
	    ", a commit is in progress" : "");
	sum = json_object_get(a, "summary");
	domains = json_object_get(a, "domains");
	if (jint(sum, "domains", 0) == 0)
		fprintf(f, "\nNo domains yet. Upload a root first:\n"
		    "  certctl upload DOMAIN --name root --seq 1 root.pem\n");
	else {
		print_summary(f, sum);
		fprintf(f, "\n");
		if (json_array_size(domains) > 0)
			print_domains(f, domains);
		if (!all)
			fprintf(f, "%s(certctl status --all lists every "
			    "domain.)\n", json_array_size(domains) > 0 ?
			    "\n" : "Every domain is ok. ");
	}

	deps = json_object_get(a, "dependents");
	if (!json_is_array(deps) || json_array_size(deps) == 0)
		return;
	fprintf(f, "\n");
	t.ncols = 6;
	memset(t.width, 0, sizeof(t.width));
	table_row(&t, "DEPENDENT", "LAST", "STEP", "AT", "DURATION", "MESSAGE");
	json_array_foreach(deps, i, d) {
		last = json_object_get(d, "last");
		if (!json_is_object(last)) {
			table_row(&t, jstr(d, "name", "?"), "never", "-", "-",
			    "-", "");
			continue;
		}
		fmt_time(jstr(last, "at", "-"), at, sizeof(at));
		snprintf(ms, sizeof(ms), "%lld ms", jint(last, "duration_ms",
		    0));
		table_row(&t, jstr(d, "name", "?"), jstr(last, "result", "?"),
		    jstr(last, "step", "-"), at, ms, jstr(last, "message", ""));
	}
	table_print(f, &t);
}

static void
print_item(FILE *f, json_t *it)
{
	char	 fp[200], from[64], until[64];

	fmt_fingerprint(jstr(it, "sha256", ""), fp, sizeof(fp));
	fmt_time(jstr(it, "not_before", "?"), from, sizeof(from));
	fmt_time(jstr(it, "not_after", "?"), until, sizeof(until));
	fprintf(f, "Alias name: %s\n", jstr(it, "name", "?"));
	fprintf(f, "Seq: %lld\n", jint(it, "seq", 0));
	fprintf(f, "Entry type: %s%s\n", jstr(it, "kind", "?"),
	    json_is_true(json_object_get(it, "has_key")) ?
	    " (with private key)" : "");
	fprintf(f, "Owner: %s\n", jstr(it, "subject", ""));
	fprintf(f, "Issuer: %s\n", jstr(it, "issuer", ""));
	fprintf(f, "Serial number: %s\n", jstr(it, "serial", ""));
	fprintf(f, "Valid from: %s until: %s\n", from, until);
	if (*jstr(it, "san", "") != '\0')
		fprintf(f, "SubjectAlternativeName: %s\n", jstr(it, "san", ""));
	fprintf(f, "Certificate fingerprints:\n\t SHA256: %s\n", fp);
	fprintf(f, "\n*******************************************\n"
	    "*******************************************\n\n");
}

/* The keys certd made for CSRs and keeps for their certificates. */
static void
print_pending_keys(FILE *f, json_t *keys)
{
	json_t	*k;
	size_t	 i;
	char	 at[64];

	if (json_array_size(keys) == 0)
		return;
	fprintf(f, "\nKeys waiting for their certificate (certctl csr):\n");
	json_array_foreach(keys, i, k) {
		fmt_time(jstr(k, "created", "-"), at, sizeof(at));
		fprintf(f, "  %s  %s for %s, public key sha256 %s\n", at,
		    jstr(k, "key_type", "?"), jstr(k, "names", ""),
		    jstr(k, "spki_sha256", ""));
	}
}

void
print_show(FILE *f, json_t *a)
{
	json_t		*items, *staged, *gens, *evs, *it;
	struct table	 t = { .ncols = 4 };
	size_t		 i, n;
	char		 gen[32], at[64];

	items = json_object_get(a, "items");
	staged = json_object_get(a, "staged");
	n = json_is_array(items) ? json_array_size(items) : 0;
	fprintf(f, "Domain: %s\n", jstr(a, "domain", "?"));
	if (jint(a, "generation", 0) > 0)
		fprintf(f, "Current generation: %lld\n",
		    jint(a, "generation", 0));
	else
		fprintf(f, "Current generation: none (nothing committed)\n");
	fprintf(f, "\nYour chain contains %zu entr%s\n\n", n,
	    n == 1 ? "y" : "ies");
	json_array_foreach(items, i, it)
		print_item(f, it);

	n = json_is_array(staged) ? json_array_size(staged) : 0;
	if (n > 0) {
		fprintf(f, "Staged, not yet committed: %zu entr%s\n\n", n,
		    n == 1 ? "y" : "ies");
		json_array_foreach(staged, i, it)
			print_item(f, it);
	}

	gens = json_object_get(a, "generations");
	if (json_is_array(gens) && json_array_size(gens) > 0) {
		table_row(&t, "GENERATION", "CREATED", "STATE", "");
		json_array_foreach(gens, i, it) {
			snprintf(gen, sizeof(gen), "%lld",
			    jint(it, "generation", 0));
			fmt_time(jstr(it, "created", "-"), at, sizeof(at));
			table_row(&t, gen, at, jstr(it, "state", "-"),
			    json_is_true(json_object_get(it, "current")) ?
			    "current" : "");
		}
		table_print(f, &t);
	}

	evs = json_object_get(a, "events");
	if (json_is_array(evs) && json_array_size(evs) > 0) {
		fprintf(f, "\nRecent events:\n");
		json_array_foreach(evs, i, it) {
			fmt_time(jstr(it, "at", "-"), at, sizeof(at));
			fprintf(f, "  %s  %s %s", at, jstr(it, "type", "?"),
			    jstr(it, "result", ""));
			if (*jstr(it, "dependent", "") != '\0')
				fprintf(f, " %s %s", jstr(it, "dependent", ""),
				    jstr(it, "step", ""));
			if (jint(it, "generation", 0) > 0)
				fprintf(f, " (generation %lld)",
				    jint(it, "generation", 0));
			if (*jstr(it, "message", "") != '\0')
				fprintf(f, ": %s", jstr(it, "message", ""));
			if (*jstr(it, "actor", "") != '\0')
				fprintf(f, " [%s]", jstr(it, "actor", ""));
			fprintf(f, "\n");
		}
	}
	print_pending_keys(f, json_object_get(a, "pending_keys"));
}

void
print_warnings(FILE *f, json_t *a)
{
	json_t	*ws, *w, *it;
	size_t	 i;

	ws = json_object_get(a, "warnings");
	json_array_foreach(ws, i, w) {
		it = json_object_get(w, "item");
		fprintf(f, "certctl: warning: %s: %s", jstr(w, "code", "W_?"),
		    jstr(w, "message", ""));
		if (json_is_object(it))
			fprintf(f, " (item %s, seq %lld)", jstr(it, "name", "?"),
			    jint(it, "seq", 0));
		fprintf(f, "\n");
	}
}

int
print_reload(FILE *f, json_t *r)
{
	const char	*res, *msg, *cut, *tail;
	long long	 gen;

	if (!json_is_object(r))
		return 0;
	res = jstr(r, "result", "none");
	msg = jstr(r, "message", "");
	gen = jint(r, "generation", 0);
	if (f == NULL)		/* --json: only the verdict */
		return strcmp(res, "ok") != 0 && strcmp(res, "none") != 0;
	print_steps(f, json_object_get(r, "steps"), "  ");
	if (strcmp(res, "ok") == 0 || strcmp(res, "none") == 0) {
		if (*msg != '\0')
			fprintf(f, "reload %s: %s\n", res, msg);
		else if (strcmp(res, "none") == 0)
			fprintf(f, "no dependents to reload\n");
		else
			fprintf(f, "reload ok, generation %lld is served\n", gen);
		return 0;
	}
	if (strcmp(res, "rolled-back") == 0) {
		/*
		 * The daemon's message may repeat "; rolled back to generation
		 * N" and add what happened after it: say the news first.
		 */
		if ((cut = strstr(msg, "; rolled back to generation")) == NULL) {
			fprintf(f, "rolled back to generation %lld: %s\n", gen,
			    msg);
			return 1;
		}
		fprintf(f, "rolled back to generation %lld: %.*s\n", gen,
		    (int)(cut - msg), msg);
		tail = cut + strlen("; rolled back to generation");
		tail += strspn(tail, " 0123456789");
		tail += strspn(tail, ",;: ");
		if (*tail != '\0')
			fprintf(f, "%s\n", tail);
		return 1;
	}
	fprintf(f, "reload %s: %s\n", res, msg);
	return 1;
}

void
print_upload(FILE *f, json_t *a)
{
	long long	 staged;

	if (!json_is_true(json_object_get(a, "committed"))) {
		staged = jint(a, "staged", 0);
		fprintf(f, "staged %s (seq %lld, %s) for %s; %lld item%s "
		    "staged, served once the server certificate and key are "
		    "uploaded\n",
		    jstr(a, "name", "?"), jint(a, "seq", 0),
		    jstr(a, "kind", "?"), jstr(a, "domain", "?"), staged,
		    staged == 1 ? "" : "s");
		return;
	}
	if (json_object_get(a, "name") != NULL)
		fprintf(f, "committed %s (seq %lld) for %s as generation "
		    "%lld\n", jstr(a, "name", "?"), jint(a, "seq", 0),
		    jstr(a, "domain", "?"), jint(a, "generation", 0));
	else
		fprintf(f, "committed %s as generation %lld\n",
		    jstr(a, "domain", "?"), jint(a, "generation", 0));
}

void
print_api_error(FILE *f, json_t *a, int status)
{
	json_t	*e, *it;

	e = json_object_get(a, "error");
	if (!json_is_object(e)) {
		fprintf(f, "certctl: the daemon answered HTTP %d without an "
		    "error code\n", status);
		return;
	}
	it = json_object_get(e, "item");
	fprintf(f, "certctl: %s: %s", jstr(e, "code", "E_INTERNAL"),
	    jstr(e, "message", "(no message)"));
	if (json_is_object(it) && *jstr(it, "name", "") != '\0')
		fprintf(f, " (item %s, seq %lld)", jstr(it, "name", "?"),
		    jint(it, "seq", 0));
	fprintf(f, "\n");
}

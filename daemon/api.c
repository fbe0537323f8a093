/*
 * api.c: the control socket's endpoints (SPEC §7, api.md) in one table of
 * routes.  Handlers parse the request, call a plain function (keystore,
 * commit.c) and reply; JSON shapes live here and nowhere else.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include <openssl/crypto.h>

#include "certd.h"
#include "commit.h"
#include "control.h"
#include "dependents.h"
#include "keystore.h"
#include "log.h"
#include "util.h"

#define API_EVENTS_SHOWN	20

typedef void (*api_fn)(struct ctl_req *, const struct api_call *,
    const char *domain);

static void	h_status(struct ctl_req *, const struct api_call *, const char *);
static void	h_metrics(struct ctl_req *, const struct api_call *, const char *);
static void	h_upload(struct ctl_req *, const struct api_call *, const char *);
static void	h_domain(struct ctl_req *, const struct api_call *, const char *);
static void	h_bundle(struct ctl_req *, const struct api_call *, const char *);
static void	h_discard(struct ctl_req *, const struct api_call *, const char *);
static void	h_rollback(struct ctl_req *, const struct api_call *, const char *);
static void	h_render(struct ctl_req *, const struct api_call *, const char *);
static void	h_reload(struct ctl_req *, const struct api_call *, const char *);

/* "*" in a path matches one domain segment. */
static const struct route {
	enum api_method	 method;
	const char	*path;
	int		 admin;		/* only uid 0 / admin_group */
	api_fn		 fn;
} routes[] = {
	{ API_GET,	"/v1/status",			0, h_status },
	{ API_GET,	"/metrics",			0, h_metrics },
	{ API_POST,	"/v1/certificates",		1, h_upload },
	{ API_GET,	"/v1/domains/*",		1, h_domain },
	{ API_POST,	"/v1/domains/*/bundle",		1, h_bundle },
	{ API_DELETE,	"/v1/domains/*/staged",		1, h_discard },
	{ API_POST,	"/v1/domains/*/rollback",	1, h_rollback },
	{ API_POST,	"/v1/domains/*/render",		1, h_render },
	{ API_POST,	"/v1/reload",			1, h_reload },
};

static void
reply_err(struct ctl_req *creq, enum cert_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reply_err(struct ctl_req *creq, enum cert_code code, const char *fmt, ...)
{
	struct cert_error	 err;
	va_list			 ap;

	memset(&err, 0, sizeof(err));
	err.code = code;
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	ctl_reply_error(creq, &err);
}

/* --- plain helpers (unit-tested) ----------------------------------------- */

void
api_time(time_t t, char out[32])
{
	struct tm	 tm;

	if (t <= 0 || gmtime_r(&t, &tm) == NULL) {
		out[0] = '\0';
		return;
	}
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A stray '%' in a form value stays as it is, as browsers leave it. */
char *
api_form_decode(const char *s, size_t len, size_t *outlen)
{
	return url_decode(s, len, outlen, 0);
}

char *
api_form_get(const char *body, size_t len, const char *field, size_t *outlen)
{
	const char	*p = body, *end = body + len, *amp, *eq;
	char		*key, *val;
	size_t		 klen;

	while (p < end) {
		if ((amp = memchr(p, '&', end - p)) == NULL)
			amp = end;
		if ((eq = memchr(p, '=', amp - p)) == NULL)
			eq = amp;
		if ((key = api_form_decode(p, eq - p, &klen)) == NULL)
			return NULL;
		if (klen == strlen(field) && strcmp(key, field) == 0) {
			free(key);
			val = api_form_decode(eq < amp ? eq + 1 : amp,
			    eq < amp ? (size_t)(amp - eq - 1) : 0, outlen);
			return val;
		}
		free(key);
		p = amp + 1;
	}
	return NULL;
}

int
api_split_domain_path(const char *path, char *domain, size_t dlen,
    const char **rest)
{
	const char	*p, *slash;
	size_t		 n;

	if (strncmp(path, API_DOMAINS, strlen(API_DOMAINS)) != 0)
		return -1;
	p = path + strlen(API_DOMAINS);
	if ((slash = strchr(p, '/')) == NULL)
		slash = p + strlen(p);
	n = slash - p;
	if (n == 0 || n >= dlen)
		return -1;
	memcpy(domain, p, n);
	domain[n] = '\0';
	*rest = slash;
	return 0;
}

/* Does path match the route pattern?  Fills domain for a "*". */
static int
route_match(const char *pattern, const char *path, char *domain, size_t dlen)
{
	const char	*star, *rest;

	if ((star = strchr(pattern, '*')) == NULL)
		return strcmp(pattern, path) == 0;
	if (api_split_domain_path(path, domain, dlen, &rest) == -1)
		return 0;
	return strcmp(star + 1, rest) == 0;
}

/* --- JSON shapes --------------------------------------------------------- */

static json_t *
j_time(time_t t)
{
	char	 buf[32];

	api_time(t, buf);
	return buf[0] != '\0' ? json_string(buf) : json_null();
}

static json_t *
j_str(const char *s)
{
	return json_string(s != NULL ? s : "");
}

static json_t *
j_item(const struct ks_item *it)
{
	return json_pack("{s:s, s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s, "
	    "s:b}", "name", it->name, "seq", it->seq,
	    "kind", chain_kind_name(it->kind),
	    "subject", j_str(it->subject), "issuer", j_str(it->issuer),
	    "serial", j_str(it->serial), "san", j_str(it->san),
	    "not_before", j_time(it->not_before),
	    "not_after", j_time(it->not_after), "sha256", it->sha256,
	    "has_key", it->has_key);
}

static json_t *
j_warnings(const struct cert_warnings *w)
{
	json_t	*a = json_array(), *o;
	size_t	 i;

	for (i = 0; i < w->n; i++) {
		o = json_pack("{s:s, s:s}", "code", cert_warn_name(w->w[i].code),
		    "message", w->w[i].message);
		if (w->w[i].name[0] != '\0')
			json_object_set_new(o, "item", json_pack("{s:s, s:i}",
			    "name", w->w[i].name, "seq", w->w[i].seq));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
j_step(const struct dep_result *s)
{
	return json_pack("{s:s, s:s, s:b, s:I, s:s}", "dependent",
	    s->dependent, "step", s->step, "ok", s->ok, "duration_ms",
	    (json_int_t)s->duration_ms, "message", s->message);
}

static json_t *
j_reload(const struct reload_report *r, int with_at)
{
	json_t	*o, *steps = json_array();
	size_t	 i;

	for (i = 0; i < r->nsteps; i++)
		json_array_append_new(steps, j_step(&r->steps[i]));
	o = json_pack("{s:s, s:s, s:I, s:o}", "result", r->result,
	    "message", r->message, "generation", (json_int_t)r->generation,
	    "steps", steps);
	if (with_at)
		json_object_set_new(o, "at", j_time(r->at));
	return o;
}

/* --- request bodies ------------------------------------------------------ */

static int
is_form(const struct api_call *call)
{
	const char	*p;

	if (call->content_type != NULL) {
		if (strncasecmp(call->content_type,
		    "application/x-www-form-urlencoded", 33) == 0)
			return 1;
		if (strncasecmp(call->content_type, "application/json", 16) == 0)
			return 0;
	}
	for (p = call->body; *p != '\0' && isspace((unsigned char)*p); p++)
		;
	return *p != '{';
}

/* The body as a JSON object ({} when empty); replies 400 on failure. */
static json_t *
body_json(struct ctl_req *creq, const struct api_call *call)
{
	json_error_t	 je;
	json_t		*j;

	if (call->body_len == 0)
		return json_object();
	if ((j = json_loadb(call->body, call->body_len, 0, &je)) == NULL) {
		reply_err(creq, E_BAD_REQUEST, "request body is not valid JSON:"
		    " %s (line %d, column %d)", je.text, je.line, je.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_err(creq, E_BAD_REQUEST, "request body must be a JSON "
		    "object");
		return NULL;
	}
	return j;
}

/* A JSON string member we may clear afterwards (it may be a key). */
static char *
json_str_mut(json_t *o, const char *k, size_t *len)
{
	json_t	*v = json_object_get(o, k);

	if (!json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	return (char *)json_string_value(v);
}

static void
json_cleanse_member(json_t *o, const char *k)
{
	char	*s;
	size_t	 len;

	if ((s = json_str_mut(o, k, &len)) != NULL)
		OPENSSL_cleanse(s, len);
}

/* --- answers to commits -------------------------------------------------- */

struct api_pending {
	struct ctl_req	*creq;
	int		 kind;		/* 0 upload/bundle, 1 rollback, 2 reload */
	char		 name[ITEM_NAME_MAX + 1];
};

static json_t *
j_upload(const struct commit_result *res, const char *name)
{
	json_t	*o;

	o = json_pack("{s:s, s:s, s:i, s:s, s:b, s:i, s:o}", "domain",
	    res->domain, "name", name, "seq", res->up.seq, "kind",
	    res->up.kind ? chain_kind_name(res->up.kind) : "server",
	    "committed", res->up.committed, "staged", res->staged,
	    "warnings", j_warnings(&res->up.warnings));
	if (res->up.committed)
		json_object_set_new(o, "generation",
		    json_integer(res->up.generation));
	if (res->has_reload)
		json_object_set_new(o, "reload", j_reload(&res->reload, 0));
	return o;
}

static json_t *
j_answer(const struct api_pending *p, const struct commit_result *res)
{
	switch (p->kind) {
	case 1:
		return json_pack("{s:s, s:I, s:o}", "domain", res->domain,
		    "generation", (json_int_t)res->reload.generation,
		    "reload", j_reload(&res->reload, 0));
	case 2:
		return json_pack("{s:o}", "reload", j_reload(&res->reload, 0));
	}
	return j_upload(res, p->name);
}

static void
api_commit_done(void *arg, const struct commit_result *res,
    const struct cert_error *err)
{
	struct api_pending	*p = arg;

	if (err != NULL)
		ctl_reply_error(p->creq, err);
	else
		ctl_reply_json(p->creq, 200, j_answer(p, res));
	free(p);
}

/*
 * Finish a commit_* call: -1 error, 0 answered now, 1 answered by
 * api_commit_done later (the loop keeps serving others meanwhile).
 */
static void
api_commit_reply(struct ctl_req *creq, int rv, struct api_pending *p,
    const struct commit_result *res, const struct cert_error *err)
{
	if (rv == 1)
		return;
	if (rv == -1)
		ctl_reply_error(creq, err);
	else
		ctl_reply_json(creq, 200, j_answer(p, res));
	free(p);
}

static struct api_pending *
pending_new(struct ctl_req *creq, int kind, const char *name)
{
	struct api_pending	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->creq = creq;
	p->kind = kind;
	if (name != NULL)
		strlcpy(p->name, name, sizeof(p->name));
	return p;
}

/* --- handlers ------------------------------------------------------------ */

static void
h_upload(struct ctl_req *creq, const struct api_call *call, const char *unused)
{
	struct upload		 u;
	struct commit_result	 res;
	struct cert_error	 err;
	struct api_pending	*p = NULL;
	json_t			*j = NULL, *v;
	char			*f_domain = NULL, *f_name = NULL, *f_id = NULL;
	char			*f_cert = NULL, *f_key = NULL, *end;
	const char		*domain, *name, *id = NULL;
	size_t			 cert_len = 0, key_len = 0, n;
	long			 seq = 0;
	int			 rv;

	memset(&u, 0, sizeof(u));
	if (is_form(call)) {
		/* CloudStack's parameter names. */
		f_domain = api_form_get(call->body, call->body_len,
		    "domainsuffix", &n);
		f_name = api_form_get(call->body, call->body_len, "name", &n);
		f_id = api_form_get(call->body, call->body_len, "id", &n);
		f_cert = api_form_get(call->body, call->body_len,
		    "certificate", &cert_len);
		f_key = api_form_get(call->body, call->body_len,
		    "privatekey", &key_len);
		domain = f_domain;
		name = f_name;
		id = f_id;
		u.cert = f_cert;
		u.key = f_key;
	} else {
		if ((j = body_json(creq, call)) == NULL)
			return;
		domain = json_string_value(json_object_get(j, "domainsuffix"));
		if (domain == NULL)
			domain = json_string_value(json_object_get(j,
			    "domain"));
		name = json_string_value(json_object_get(j, "name"));
		if ((v = json_object_get(j, "id")) == NULL)
			v = json_object_get(j, "seq");
		if (json_is_integer(v))
			seq = (long)json_integer_value(v);
		else
			id = json_string_value(v);
		u.cert = json_str_mut(j, "certificate", &cert_len);
		u.key = json_str_mut(j, "privatekey", &key_len);
	}
	if (domain == NULL || *domain == '\0') {
		reply_err(creq, E_BAD_REQUEST, "missing domainsuffix");
		goto out;
	}
	if (!conf_valid_domain(domain)) {
		reply_err(creq, E_BAD_REQUEST, "domainsuffix \"%.*s\" is not a "
		    "valid domain name", DOMAIN_MAX, domain);
		goto out;
	}
	if (name == NULL || *name == '\0') {
		reply_err(creq, E_BAD_REQUEST, "missing name");
		goto out;
	}
	if (!conf_valid_name(name)) {
		reply_err(creq, E_BAD_REQUEST, "name \"%.*s\" is not valid "
		    "(letters, digits, '-', '_', '.', at most %d)", ITEM_NAME_MAX,
		    name, ITEM_NAME_MAX);
		goto out;
	}
	if (id != NULL && *id != '\0') {
		seq = strtol(id, &end, 10);
		if (*end != '\0' || seq < 0 || seq > 1000) {
			reply_err(creq, E_BAD_REQUEST, "id \"%.16s\" is not a "
			    "sequence number", id);
			goto out;
		}
	}
	if (u.cert == NULL || cert_len == 0) {
		reply_err(creq, E_BAD_REQUEST, "missing certificate");
		goto out;
	}
	u.domain = domain;
	u.name = name;
	u.seq = (int)seq;
	u.cert_len = cert_len;
	if (u.key != NULL && key_len == 0)
		u.key = NULL;
	u.key_len = u.key != NULL ? key_len : 0;
	if ((p = pending_new(creq, 0, name)) == NULL) {
		reply_err(creq, E_INTERNAL, "out of memory");
		goto out;
	}
	rv = commit_upload(&u, &res, api_commit_done, p, &err);
	api_commit_reply(creq, rv, p, &res, &err);
out:
	if (f_key != NULL) {
		OPENSSL_cleanse(f_key, key_len);
		free(f_key);
	}
	if (j != NULL)
		json_cleanse_member(j, "privatekey");
	json_decref(j);
	free(f_domain);
	free(f_name);
	free(f_id);
	free(f_cert);
}

static void
h_bundle(struct ctl_req *creq, const struct api_call *call, const char *domain)
{
	struct commit_result	 res;
	struct cert_error	 err;
	struct api_pending	*p;
	json_t			*j;
	char			*certs, *key;
	size_t			 certs_len = 0, key_len = 0;
	int			 rv;

	if ((j = body_json(creq, call)) == NULL)
		return;
	certs = json_str_mut(j, "certificates", &certs_len);
	key = json_str_mut(j, "privatekey", &key_len);
	if (certs == NULL || certs_len == 0)
		reply_err(creq, E_BAD_REQUEST, "missing certificates");
	else if (key == NULL || key_len == 0)
		reply_err(creq, E_BAD_REQUEST, "missing privatekey");
	else if ((p = pending_new(creq, 0, "server")) == NULL)
		reply_err(creq, E_INTERNAL, "out of memory");
	else {
		rv = commit_bundle(domain, certs, certs_len, key, key_len, &res,
		    api_commit_done, p, &err);
		api_commit_reply(creq, rv, p, &res, &err);
	}
	json_cleanse_member(j, "privatekey");
	json_decref(j);
}

static void
h_discard(struct ctl_req *creq, const struct api_call *call,
    const char *domain)
{
	struct cert_error	 err;
	struct ks_domain	*kd = NULL;
	size_t			 n = 0;

	if (keystore_domain(certd->ks, domain, &kd, &err) == 0)
		n = kd->nstaged;
	keystore_domain_free(kd);
	if (keystore_discard(certd->ks, domain, &err) == -1) {
		ctl_reply_error(creq, &err);
		return;
	}
	log_fields(LOG_INFO, &(struct log_fields){ .domain = domain },
	    "%s: %zu staged items discarded", domain, n);
	ctl_reply_json(creq, 200, json_pack("{s:s, s:I}", "domain", domain,
	    "discarded", (json_int_t)n));
}

static void
h_rollback(struct ctl_req *creq, const struct api_call *call,
    const char *domain)
{
	struct commit_result	 res;
	struct cert_error	 err;
	struct api_pending	*p;
	json_t			*j, *v;
	json_int_t		 gen = 0;
	int			 rv;

	if ((j = body_json(creq, call)) == NULL)
		return;
	v = json_object_get(j, "generation");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || (gen = json_integer_value(v)) <= 0) {
			json_decref(j);
			reply_err(creq, E_BAD_REQUEST, "generation must be a "
			    "positive integer");
			return;
		}
	}
	json_decref(j);
	if ((p = pending_new(creq, 1, NULL)) == NULL) {
		reply_err(creq, E_INTERNAL, "out of memory");
		return;
	}
	rv = commit_rollback(domain, gen, &res, api_commit_done, p, &err);
	api_commit_reply(creq, rv, p, &res, &err);
}

static void
h_render(struct ctl_req *creq, const struct api_call *call, const char *domain)
{
	struct cert_error	 err;
	int64_t			 gen = 0;

	if (commit_render(domain, &gen, &err) == -1) {
		ctl_reply_error(creq, &err);
		return;
	}
	ctl_reply_json(creq, 200, json_pack("{s:s, s:I}", "domain", domain,
	    "generation", (json_int_t)gen));
}

static void
h_reload(struct ctl_req *creq, const struct api_call *call, const char *unused)
{
	struct commit_result	 res;
	struct cert_error	 err;
	struct api_pending	*p;
	json_t			*j, *v;
	char			 only[64] = "";
	int			 rv;

	if ((j = body_json(creq, call)) == NULL)
		return;
	v = json_object_get(j, "dependent");
	if (json_is_string(v))
		strlcpy(only, json_string_value(v), sizeof(only));
	json_decref(j);
	if ((p = pending_new(creq, 2, NULL)) == NULL) {
		reply_err(creq, E_INTERNAL, "out of memory");
		return;
	}
	rv = commit_reload(only[0] ? only : NULL, &res, api_commit_done, p,
	    &err);
	api_commit_reply(creq, rv, p, &res, &err);
}

static const struct ks_item *
server_item(const struct ks_domain *kd)
{
	size_t	 i;

	for (i = kd->nitems; i > 0; i--)
		if (kd->items[i - 1].kind == KIND_SERVER)
			return &kd->items[i - 1];
	return NULL;
}

/* The last reload of a domain: this run's, else the newest recorded. */
static json_t *
j_last_reload(const char *domain)
{
	const struct reload_report	*r;
	struct ks_event			*ev = NULL;
	size_t				 n = 0;
	json_t				*o = json_null();

	if ((r = commit_last_reload(domain)) != NULL)
		return j_reload(r, 1);
	if (keystore_events(certd->ks, domain, "reload", 1, &ev, &n) == 0 &&
	    n > 0)
		o = json_pack("{s:s, s:o, s:s, s:I}", "result", ev[0].result,
		    "at", j_time(ev[0].at), "message", ev[0].message ?
		    ev[0].message : "", "generation",
		    (json_int_t)ev[0].generation);
	keystore_events_free(ev, n);
	return o;
}

static const char *
domain_state(const struct ks_domain *kd, const struct ks_item *srv,
    time_t now)
{
	const struct reload_report	*r;
	int				 days;

	if (srv != NULL) {
		days = certd_days_left(srv->not_after, now);
		if (srv->not_after <= now)
			return "expired";
		r = commit_last_reload(kd->name);
		if (r != NULL && (strcmp(r->result, "failed") == 0 ||
		    strcmp(r->result, "rolled-back") == 0))
			return "failed";
		if (days < 30)
			return "expiring";
	}
	if (kd->nstaged > 0)
		return "staged";
	return srv != NULL ? "ok" : "staged";
}

static void
h_status(struct ctl_req *creq, const struct api_call *call, const char *unused)
{
	json_t			*o, *domains, *deps, *d, *last;
	struct ks_domain	*kd;
	const struct ks_item	*srv;
	const struct dep_last	*dl;
	struct dependent_conf	*pc;
	struct cert_error	 err;
	char			**names = NULL;
	size_t			 n = 0, i;
	time_t			 now = time(NULL);

	domains = json_array();
	if (keystore_domains(certd->ks, &names, &n) == -1) {
		json_decref(domains);
		reply_err(creq, E_INTERNAL, "cannot list domains");
		return;
	}
	for (i = 0; i < n; i++) {
		kd = NULL;
		if (keystore_domain(certd->ks, names[i], &kd, &err) == -1)
			continue;
		srv = server_item(kd);
		d = json_pack("{s:s, s:I, s:s, s:o, s:I, s:I, s:o}",
		    "domain", kd->name, "generation", (json_int_t)kd->generation,
		    "state", domain_state(kd, srv, now),
		    "server", srv == NULL ? json_null() :
		    json_pack("{s:o, s:o, s:o, s:i, s:s}",
		    "subject", j_str(srv->subject), "san", j_str(srv->san),
		    "not_after", j_time(srv->not_after),
		    "days_left", certd_days_left(srv->not_after, now),
		    "sha256", srv->sha256),
		    "chain_length", (json_int_t)kd->nitems,
		    "staged", (json_int_t)kd->nstaged,
		    "last_reload", j_last_reload(kd->name));
		json_array_append_new(domains, d);
		keystore_domain_free(kd);
	}
	keystore_names_free(names, n);

	deps = json_array();
	TAILQ_FOREACH(pc, &certd->conf->dependents, entry) {
		if ((dl = commit_dependent_last(pc->name)) == NULL)
			last = json_null();
		else
			last = json_pack("{s:s, s:o, s:s, s:I, s:s}", "result",
			    dl->r.ok ? "ok" : "failed", "at", j_time(dl->at),
			    "step", dl->r.step, "duration_ms",
			    (json_int_t)dl->r.duration_ms, "message",
			    dl->r.message);
		json_array_append_new(deps, json_pack("{s:s, s:o}", "name",
		    pc->name, "last", last));
	}
	o = json_pack("{s:s, s:I, s:b, s:o, s:o}", "version", PACKAGE_VERSION,
	    "uptime", (json_int_t)(now - certd->started), "busy",
	    commit_busy(), "domains", domains, "dependents", deps);
	ctl_reply_json(creq, 200, o);
}

static void
h_domain(struct ctl_req *creq, const struct api_call *call, const char *domain)
{
	struct ks_domain	*kd = NULL;
	struct ks_event		*ev = NULL;
	struct cert_error	 err;
	json_t			*items, *staged, *gens, *events, *o;
	size_t			 i, n = 0;

	if (keystore_domain(certd->ks, domain, &kd, &err) == -1) {
		ctl_reply_error(creq, &err);
		return;
	}
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
		    "created", j_time(kd->gens[i].created),
		    "current", kd->gens[i].current,
		    "state", kd->gens[i].state));
	events = json_array();
	if (keystore_events(certd->ks, domain, NULL, API_EVENTS_SHOWN, &ev,
	    &n) == 0) {
		for (i = 0; i < n; i++) {
			o = json_pack("{s:o, s:s, s:s, s:I, s:s}", "at",
			    j_time(ev[i].at), "type", ev[i].type, "result",
			    ev[i].result, "generation",
			    (json_int_t)ev[i].generation, "message",
			    ev[i].message != NULL ? ev[i].message : "");
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
	ctl_reply_json(creq, 200, o);
}

/* Prometheus label values: backslash, quote and newline escaped. */
static void
prom_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

static void
h_metrics(struct ctl_req *creq, const struct api_call *call,
    const char *unused)
{
	struct ks_domain	*kd;
	struct ks_count		*c = NULL;
	const struct dep_last	*dl;
	struct cert_error	 err;
	char			**names = NULL, *buf = NULL;
	size_t			 n = 0, nc = 0, i, k, len = 0;
	time_t			 now = time(NULL);
	FILE			*f;

	if ((f = open_memstream(&buf, &len)) == NULL) {
		reply_err(creq, E_INTERNAL, "out of memory");
		return;
	}
	fprintf(f, "# HELP certd_build_info certd version.\n"
	    "# TYPE certd_build_info gauge\n"
	    "certd_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	fprintf(f, "# HELP certd_uptime_seconds Seconds since certd started.\n"
	    "# TYPE certd_uptime_seconds gauge\n"
	    "certd_uptime_seconds %lld\n", (long long)(now - certd->started));

	fprintf(f, "# HELP certd_certificate_not_after_seconds Expiry of each "
	    "certificate of the current generation (unix time).\n"
	    "# TYPE certd_certificate_not_after_seconds gauge\n");
	if (keystore_domains(certd->ks, &names, &n) == 0) {
		for (i = 0; i < n; i++) {
			kd = NULL;
			if (keystore_domain(certd->ks, names[i], &kd,
			    &err) == -1)
				continue;
			for (k = 0; k < kd->nitems; k++) {
				fprintf(f, "certd_certificate_not_after_seconds"
				    "{domain=\"");
				prom_label(f, kd->name);
				fprintf(f, "\",kind=\"%s\",name=\"",
				    chain_kind_name(kd->items[k].kind));
				prom_label(f, kd->items[k].name);
				fprintf(f, "\"} %lld\n",
				    (long long)kd->items[k].not_after);
			}
			keystore_domain_free(kd);
		}
	}
	fprintf(f, "# HELP certd_domain_generation Current generation per "
	    "domain.\n# TYPE certd_domain_generation gauge\n"
	    "# HELP certd_domain_days_left Days until the server certificate "
	    "expires (negative: expired).\n"
	    "# TYPE certd_domain_days_left gauge\n");
	for (i = 0; i < n; i++) {
		const struct ks_item	*srv;

		kd = NULL;
		if (keystore_domain(certd->ks, names[i], &kd, &err) == -1)
			continue;
		fprintf(f, "certd_domain_generation{domain=\"");
		prom_label(f, kd->name);
		fprintf(f, "\"} %lld\n", (long long)kd->generation);
		if ((srv = server_item(kd)) != NULL) {
			fprintf(f, "certd_domain_days_left{domain=\"");
			prom_label(f, kd->name);
			fprintf(f, "\",state=\"%s\"} %d\n",
			    domain_state(kd, srv, now),
			    certd_days_left(srv->not_after, now));
		}
		keystore_domain_free(kd);
	}
	keystore_names_free(names, n);

	fprintf(f, "# HELP certd_commits_total Generations committed.\n"
	    "# TYPE certd_commits_total counter\n");
	if (keystore_count(certd->ks, "commit", "domain", &c, &nc) == 0) {
		for (i = 0; i < nc; i++) {
			fprintf(f, "certd_commits_total{domain=\"");
			prom_label(f, c[i].key);
			fprintf(f, "\"} %lld\n", (long long)c[i].n);
		}
		free(c);
		c = NULL;
	}
	fprintf(f, "# HELP certd_rejections_total Uploads refused, by error "
	    "code.\n# TYPE certd_rejections_total counter\n");
	if (keystore_count(certd->ks, "reject", "result", &c, &nc) == 0) {
		for (i = 0; i < nc; i++) {
			fprintf(f, "certd_rejections_total{code=\"");
			prom_label(f, c[i].key);
			fprintf(f, "\"} %lld\n", (long long)c[i].n);
		}
		free(c);
	}
	fprintf(f, "# HELP certd_reloads_total Dependent runs since start, by "
	    "result.\n# TYPE certd_reloads_total counter\n");
	for (i = 0; (dl = commit_dependent_at(i)) != NULL; i++) {
		fprintf(f, "certd_reloads_total{dependent=\"");
		prom_label(f, dl->name);
		fprintf(f, "\",result=\"ok\"} %lld\n", (long long)dl->ok);
		fprintf(f, "certd_reloads_total{dependent=\"");
		prom_label(f, dl->name);
		fprintf(f, "\",result=\"failed\"} %lld\n",
		    (long long)dl->failed);
	}
	fprintf(f, "# HELP certd_control_connections Open control socket "
	    "connections.\n# TYPE certd_control_connections gauge\n"
	    "certd_control_connections %zu\n",
	    control_connections(certd->control));
	fclose(f);
	ctl_reply_text(creq, 200, "text/plain; version=0.0.4; charset=utf-8",
	    buf, len);
	free(buf);
}

/* --- routing ------------------------------------------------------------- */

void
api_handle(struct ctl_req *creq, const struct api_call *call)
{
	const struct route	*r;
	char			 domain[DOMAIN_MAX + 2];
	size_t			 i;
	int			 path_known = 0;

	for (i = 0; i < nitems(routes); i++) {
		r = &routes[i];
		domain[0] = '\0';
		if (!route_match(r->path, call->path, domain, sizeof(domain)))
			continue;
		path_known = 1;
		if (r->method != call->method)
			continue;
		if (r->admin && !call->admin) {
			reply_err(creq, E_FORBIDDEN, "uid %d may only read "
			    "status (needs uid 0 or group %s)", (int)call->uid,
			    certd->conf->admin_group);
			return;
		}
		if (domain[0] != '\0' && !conf_valid_domain(domain)) {
			reply_err(creq, E_BAD_REQUEST, "\"%s\" is not a valid "
			    "domain name", domain);
			return;
		}
		r->fn(creq, call, domain);
		return;
	}
	if (path_known) {
		struct cert_error	 err;

		memset(&err, 0, sizeof(err));
		err.code = E_BAD_REQUEST;
		snprintf(err.message, sizeof(err.message), "method not "
		    "allowed on %s", call->path);
		/* 405 is not one of our codes' statuses: answer it by hand. */
		ctl_reply_json(creq, 405, json_pack("{s:{s:s, s:s}}", "error",
		    "code", "E_BAD_REQUEST", "message", err.message));
		return;
	}
	reply_err(creq, E_NOT_FOUND, "no such endpoint: %s", call->path);
}

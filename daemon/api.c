/*
 * api.c: the control API's routes (docs/api.md) in one table.  Handlers
 * parse the request, call the work (commit.c, keystore.c, status.c) and
 * answer; a commit answers later, from commit.c's callback.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <openssl/crypto.h>

#include "api.h"
#include "commit.h"
#include "log.h"
#include "names.h"
#include "status.h"
#include "util.h"

static struct keystore		*ks;
static struct certd_conf	*conf;
static time_t			 started;

typedef void (*api_fn)(struct control_req *, const struct control_call *,
    const char *domain);

static void	h_status(struct control_req *, const struct control_call *,
		    const char *);
static void	h_metrics(struct control_req *, const struct control_call *,
		    const char *);
static void	h_upload(struct control_req *, const struct control_call *,
		    const char *);
static void	h_domain(struct control_req *, const struct control_call *,
		    const char *);
static void	h_bundle(struct control_req *, const struct control_call *,
		    const char *);
static void	h_discard(struct control_req *, const struct control_call *,
		    const char *);
static void	h_rollback(struct control_req *, const struct control_call *,
		    const char *);
static void	h_render(struct control_req *, const struct control_call *,
		    const char *);
static void	h_reload(struct control_req *, const struct control_call *,
		    const char *);

/*
 * With a suffix, the path is API_DOMAINS + a domain + the suffix.  Who:
 * ANYONE, ADMIN (uid 0 / admin_group), CHANGE (an admin, and certd is not
 * stopping).
 */
enum who { ANYONE, ADMIN, CHANGE };
static const struct route {
	enum control_method	 method;
	const char		*path;		/* or the suffix, below */
	const char		*suffix;	/* NULL: path is the whole path */
	enum who		 who;
	api_fn			 fn;
} routes[] = {
	{ METHOD_GET,	 API_STATUS,	   NULL,	   ANYONE, h_status },
	{ METHOD_GET,	 API_METRICS,	   NULL,	   ANYONE, h_metrics },
	{ METHOD_POST,	 API_CERTIFICATES, NULL,	   CHANGE, h_upload },
	{ METHOD_POST,	 API_RELOAD,	   NULL,	   CHANGE, h_reload },
	{ METHOD_GET,	 API_DOMAINS,	   "",		   ADMIN, h_domain },
	{ METHOD_POST,	 API_DOMAINS,	   API_D_BUNDLE,   CHANGE, h_bundle },
	{ METHOD_DELETE, API_DOMAINS,	   API_D_STAGED,   CHANGE, h_discard },
	{ METHOD_POST,	 API_DOMAINS,	   API_D_ROLLBACK, CHANGE, h_rollback },
	{ METHOD_POST,	 API_DOMAINS,	   API_D_RENDER,   CHANGE, h_render },
};

void
api_init(struct keystore *k, struct certd_conf *c, time_t t)
{
	ks = k;
	conf = c;
	started = t;
}

void
api_set_conf(struct certd_conf *c)
{
	conf = c;
}

static void
reply_err(struct control_req *creq, enum cert_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reply_err(struct control_req *creq, enum cert_code code, const char *fmt, ...)
{
	struct cert_error	 err;
	va_list			 ap;

	memset(&err, 0, sizeof(err));
	err.code = code;
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	control_reply_error(creq, &err);
}

/* --- plain helpers (unit-tested) ----------------------------------------- */

char *
api_form_get(const char *body, size_t len, const char *field, size_t *outlen)
{
	const char	*p = body, *end = body + len, *amp, *eq;
	char		*key;
	size_t		 klen;
	int		 match;

	while (p < end) {
		if ((amp = memchr(p, '&', end - p)) == NULL)
			amp = end;
		if ((eq = memchr(p, '=', amp - p)) == NULL)
			eq = amp;
		/* A stray '%' in a form value stays as it is, as browsers
		 * leave it. */
		key = url_decode(p, eq - p, &klen, 0);
		match = klen == strlen(field) && strcmp(key, field) == 0;
		free(key);
		if (match)
			return url_decode(eq < amp ? eq + 1 : amp, eq < amp ?
			    (size_t)(amp - eq - 1) : 0, outlen, 0);
		p = amp + 1;
	}
	return NULL;
}

int
api_split_domain_path(const char *path, char domain[DOMAIN_MAX + 1],
    const char **rest)
{
	char		 raw[DOMAIN_MAX + 2];
	const char	*p, *slash;
	size_t		 n;

	if (strncmp(path, API_DOMAINS, strlen(API_DOMAINS)) != 0)
		return -1;
	p = path + strlen(API_DOMAINS);
	if ((slash = strchr(p, '/')) == NULL)
		slash = p + strlen(p);
	n = slash - p;
	if (n == 0 || n >= sizeof(raw))
		return -1;
	memcpy(raw, p, n);
	raw[n] = '\0';
	if (domain_fold(raw, domain) == -1)
		return -1;
	*rest = slash;
	return 0;
}

/* --- request bodies ------------------------------------------------------ */

static int
is_form(const struct control_call *call)
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
body_json(struct control_req *creq, const struct control_call *call)
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

/* Clear the members that may hold a key, then drop the object. */
static void
json_free_secret(json_t *o)
{
	char	*s;
	size_t	 len;

	if (o != NULL && (s = json_str_mut(o, "privatekey", &len)) != NULL)
		OPENSSL_cleanse(s, len);
	json_decref(o);
}

/* --- answers to commits -------------------------------------------------- */

enum answer { ANSWER_UPLOAD, ANSWER_ROLLBACK, ANSWER_RENDER, ANSWER_RELOAD };

struct api_pending {
	struct control_req	*creq;
	enum answer		 kind;
	char			 name[ITEM_NAME_MAX + 1];
};

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
j_answer(const struct api_pending *p, const struct commit_result *res)
{
	json_t	*o;

	switch (p->kind) {
	case ANSWER_ROLLBACK:
		return json_pack("{s:s, s:I, s:o}", "domain", res->domain,
		    "generation", (json_int_t)res->reload.generation,
		    "reload", status_reload_json(&res->reload, 0));
	case ANSWER_RENDER:
		return json_pack("{s:s, s:I}", "domain", res->domain,
		    "generation", (json_int_t)res->up.generation);
	case ANSWER_RELOAD:
		return json_pack("{s:o}", "reload",
		    status_reload_json(&res->reload, 0));
	case ANSWER_UPLOAD:
		break;
	}
	o = json_pack("{s:s, s:s, s:i, s:s, s:b, s:i, s:o}", "domain",
	    res->domain, "name", p->name, "seq", res->up.seq, "kind",
	    res->up.kind ? chain_kind_name(res->up.kind) : "server",
	    "committed", res->up.committed, "staged", res->staged,
	    "warnings", j_warnings(&res->up.warnings));
	if (res->up.committed)
		json_object_set_new(o, "generation",
		    json_integer(res->up.generation));
	if (res->has_reload)
		json_object_set_new(o, "reload",
		    status_reload_json(&res->reload, 0));
	return o;
}

static void
api_commit_done(void *arg, const struct commit_result *res,
    const struct cert_error *err)
{
	struct api_pending	*p = arg;

	if (err != NULL)
		control_reply_error(p->creq, err);
	else
		control_reply_json(p->creq, 200, j_answer(p, res));
	free(p);
}

static struct api_pending *
pending_new(struct control_req *creq, enum answer kind, const char *name)
{
	struct api_pending	*p;

	p = xcalloc(1, sizeof(*p));
	p->creq = creq;
	p->kind = kind;
	if (name != NULL)
		strlcpy(p->name, name, sizeof(p->name));
	return p;
}

/*
 * Finish a commit_* call: -1 error, 0 answered now, 1 answered by
 * api_commit_done later (the loop keeps serving others meanwhile).
 */
static void
api_commit_reply(int rv, struct api_pending *p,
    const struct commit_result *res, const struct cert_error *err)
{
	if (rv == 1)
		return;
	api_commit_done(p, res, rv == -1 ? err : NULL);
}

/* --- handlers ------------------------------------------------------------ */

/* The fields of an upload, from a form or a JSON body. */
struct upload_fields {
	char	*domain, *name, *id, *cert, *key;	/* form: malloc'd */
	size_t	 cert_len, key_len;
	json_t	*j;					/* JSON: owns them */
	long	 seq;
	int	 seq_set;
};

static void
fields_free(struct upload_fields *f)
{
	if (f->j == NULL) {
		free(f->domain);
		free(f->name);
		free(f->id);
		free(f->cert);
		freezero(f->key, f->key_len);
	}
	json_free_secret(f->j);
}

static int
fields_read(struct control_req *creq, const struct control_call *call,
    struct upload_fields *f)
{
	const char	*b = call->body;
	size_t		 n, bl = call->body_len;
	json_t		*v;

	memset(f, 0, sizeof(*f));
	if (is_form(call)) {
		/* CloudStack's parameter names. */
		f->domain = api_form_get(b, bl, "domainsuffix", &n);
		f->name = api_form_get(b, bl, "name", &n);
		f->id = api_form_get(b, bl, "id", &n);
		f->cert = api_form_get(b, bl, "certificate", &f->cert_len);
		f->key = api_form_get(b, bl, "privatekey", &f->key_len);
		return 0;
	}
	if ((f->j = body_json(creq, call)) == NULL)
		return -1;
	f->domain = (char *)json_string_value(json_object_get(f->j,
	    "domainsuffix"));
	if (f->domain == NULL)
		f->domain = (char *)json_string_value(json_object_get(f->j,
		    "domain"));
	f->name = (char *)json_string_value(json_object_get(f->j, "name"));
	if ((v = json_object_get(f->j, "id")) == NULL)
		v = json_object_get(f->j, "seq");
	if (json_is_integer(v)) {
		f->seq_set = 1;
		f->seq = json_integer_value(v) < 0 ? -1 :
		    json_integer_value(v) > ITEM_SEQ_MAX ? ITEM_SEQ_MAX + 1 :
		    (long)json_integer_value(v);
	} else
		f->id = (char *)json_string_value(v);
	f->cert = json_str_mut(f->j, "certificate", &f->cert_len);
	f->key = json_str_mut(f->j, "privatekey", &f->key_len);
	return 0;
}

static void
h_upload(struct control_req *creq, const struct control_call *call,
    const char *unused)
{
	struct upload_fields	 f;
	struct upload		 u;
	struct commit_result	 res;
	struct cert_error	 err;
	struct api_pending	*p;
	char			 domain[DOMAIN_MAX + 1], *end;
	int			 rv;

	if (fields_read(creq, call, &f) == -1)
		return;
	if (f.domain == NULL || *f.domain == '\0') {
		reply_err(creq, E_BAD_REQUEST, "missing domainsuffix");
		goto out;
	}
	if (domain_fold(f.domain, domain) == -1) {
		reply_err(creq, E_BAD_REQUEST, "domainsuffix \"%.*s\" is not a "
		    "valid domain name", DOMAIN_MAX, f.domain);
		goto out;
	}
	if (f.name == NULL || *f.name == '\0') {
		reply_err(creq, E_BAD_REQUEST, "missing name");
		goto out;
	}
	if (!item_name_valid(f.name)) {
		reply_err(creq, E_BAD_REQUEST, "name \"%.*s\" is not valid "
		    "(1 to %d printable characters, no '/')", ITEM_NAME_MAX,
		    f.name, ITEM_NAME_MAX);
		goto out;
	}
	if (f.id != NULL && *f.id != '\0') {
		f.seq = strtol(f.id, &end, 10);
		f.seq_set = *end == '\0';
	}
	if ((f.id != NULL && *f.id != '\0' && !f.seq_set) ||
	    (f.seq_set && (f.seq < 0 || f.seq > ITEM_SEQ_MAX))) {
		reply_err(creq, E_BAD_REQUEST, "id must be a sequence number "
		    "from 0 to %d", ITEM_SEQ_MAX);
		goto out;
	}
	/* An empty certificate is the keystore's E_ENCODING, as certctl
	 * says for an empty file. */
	if (f.cert == NULL) {
		reply_err(creq, E_BAD_REQUEST, "missing certificate");
		goto out;
	}
	memset(&u, 0, sizeof(u));
	u.domain = domain;
	u.name = f.name;
	u.seq = (int)f.seq;
	u.cert = f.cert;
	u.cert_len = f.cert_len;
	if (f.key != NULL && f.key_len > 0) {
		u.key = f.key;
		u.key_len = f.key_len;
	}
	p = pending_new(creq, ANSWER_UPLOAD, f.name);
	rv = commit_upload(&u, &res, api_commit_done, p, &err);
	api_commit_reply(rv, p, &res, &err);
out:
	fields_free(&f);
}

static void
h_bundle(struct control_req *creq, const struct control_call *call,
    const char *domain)
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
	else {
		p = pending_new(creq, ANSWER_UPLOAD, "server");
		rv = commit_bundle(domain, certs, certs_len, key, key_len, &res,
		    api_commit_done, p, &err);
		api_commit_reply(rv, p, &res, &err);
	}
	json_free_secret(j);
}

static void
h_discard(struct control_req *creq, const struct control_call *call,
    const char *domain)
{
	struct cert_error	 err;
	int			 n;

	if ((n = keystore_discard(ks, domain, &err)) == -1) {
		control_reply_error(creq, &err);
		return;
	}
	log_fields(LOG_INFO, &(struct log_fields){ .domain = domain },
	    "%s: %d staged items discarded", domain, n);
	control_reply_json(creq, 200, json_pack("{s:s, s:i}", "domain", domain,
	    "discarded", n));
}

static void
h_rollback(struct control_req *creq, const struct control_call *call,
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
	if (v != NULL && !json_is_null(v) &&
	    (!json_is_integer(v) || (gen = json_integer_value(v)) <= 0)) {
		json_decref(j);
		reply_err(creq, E_BAD_REQUEST, "generation must be a positive "
		    "integer");
		return;
	}
	json_decref(j);
	p = pending_new(creq, ANSWER_ROLLBACK, NULL);
	rv = commit_rollback(domain, gen, &res, api_commit_done, p, &err);
	api_commit_reply(rv, p, &res, &err);
}

static void
h_render(struct control_req *creq, const struct control_call *call,
    const char *domain)
{
	struct commit_result	 res;
	struct cert_error	 err;
	struct api_pending	*p;
	int			 rv;

	p = pending_new(creq, ANSWER_RENDER, NULL);
	rv = commit_render(domain, &res, api_commit_done, p, &err);
	api_commit_reply(rv, p, &res, &err);
}

static void
h_reload(struct control_req *creq, const struct control_call *call,
    const char *unused)
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
	p = pending_new(creq, ANSWER_RELOAD, NULL);
	rv = commit_reload(only[0] ? only : NULL, &res, api_commit_done, p,
	    &err);
	api_commit_reply(rv, p, &res, &err);
}

static void
h_status(struct control_req *creq, const struct control_call *call,
    const char *unused)
{
	struct cert_error	 err;
	char			*buf;
	size_t			 len;
	int			 attention;

	/* ?attention=1: the summary and the domains that need attention,
	 * what certctl status shows first on a host with 10,000. */
	attention = call->query != NULL &&
	    strstr(call->query, "attention=1") != NULL;
	if ((buf = status_json(ks, conf, started, attention, &len,
	    &err)) == NULL)
		control_reply_error(creq, &err);
	else
		control_reply_text(creq, 200, "application/json", buf, len);
	free(buf);
}

static void
h_domain(struct control_req *creq, const struct control_call *call,
    const char *domain)
{
	struct cert_error	 err;
	json_t			*j;

	if ((j = status_domain_json(ks, domain, &err)) == NULL)
		control_reply_error(creq, &err);
	else
		control_reply_json(creq, 200, j);
}

static void
h_metrics(struct control_req *creq, const struct control_call *call,
    const char *unused)
{
	char	*buf;
	size_t	 len;

	buf = status_metrics(ks, started, call->conns, &len);
	control_reply_text(creq, 200,
	    "text/plain; version=0.0.4; charset=utf-8", buf, len);
	free(buf);
}

/* --- routing ------------------------------------------------------------- */

/* Does path match route r?  Fills domain for a domain's resource; -1 when
 * the path names a domain that is not a domain name. */
static int
route_match(const struct route *r, const char *path, char *domain)
{
	const char	*rest;

	if (r->suffix == NULL)
		return strcmp(r->path, path) == 0;
	if (strncmp(path, r->path, strlen(r->path)) != 0 ||
	    path[strlen(r->path)] == '\0')
		return 0;
	if (api_split_domain_path(path, domain, &rest) == -1)
		return -1;
	return strcmp(r->suffix, rest) == 0;
}

void
api_handle(struct control_req *creq, const struct control_call *call,
    void *arg)
{
	const struct route	*r;
	char			 domain[DOMAIN_MAX + 1];
	size_t			 i;
	int			 m, path_known = 0;

	for (i = 0; i < nitems(routes); i++) {
		r = &routes[i];
		domain[0] = '\0';
		if ((m = route_match(r, call->path, domain)) == -1) {
			reply_err(creq, E_BAD_REQUEST, "\"%s\" does not name a "
			    "valid domain", call->path);
			return;
		}
		if (m == 0)
			continue;
		path_known = 1;
		if (r->method != call->method)
			continue;
		if (r->who != ANYONE && !call->admin) {
			reply_err(creq, E_FORBIDDEN, "uid %d may only read "
			    "status (needs uid 0 or group %s)", (int)call->uid,
			    conf->admin_group);
			return;
		}
		if (r->who == CHANGE && commit_stopping()) {
			reply_err(creq, E_STOPPING, "certd is stopping; nothing "
			    "was changed: try again when it is back");
			return;
		}
		r->fn(creq, call, domain);
		return;
	}
	if (path_known) {
		/* 405 is not one of our codes' statuses: answer it by hand. */
		control_reply_json(creq, 405, json_pack("{s:{s:s, s:s+}}",
		    "error", "code", "E_BAD_REQUEST", "message",
		    "method not allowed on ", call->path));
		return;
	}
	reply_err(creq, E_NOT_FOUND, "no such endpoint: %s", call->path);
}

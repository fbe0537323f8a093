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

/* A route's handler; domain is the path's, for the routes under it. */
typedef void api_handler(struct control_req *, const struct control_call *,
    const char *domain);

static api_handler	h_status, h_metrics, h_upload, h_domain, h_bundle,
			h_discard, h_rollback, h_render, h_reload, h_csr;

/*
 * With a suffix, the path is API_DOMAINS + a domain + the suffix.  Who:
 * ANYONE, ADMIN (uid 0 / admin_group, or a TLS client client_allow
 * lists), CHANGE (an admin, and certd is not stopping).
 */
enum who { ANYONE, ADMIN, CHANGE };
static const struct route {
	enum control_method	 method;
	const char		*path;		/* or the suffix, below */
	const char		*suffix;	/* NULL: path is the whole path */
	enum who		 who;
	api_handler		*fn;
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
	{ METHOD_POST,	 API_DOMAINS,	   API_D_CSR,	   CHANGE, h_csr },
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

	va_start(ap, fmt);
	cert_error_vset(&err, code, NULL, 0, fmt, ap);
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

int
api_body_is_form(const char *content_type, const char *body)
{
	const char	*p;

	if (content_type != NULL) {
		if (strncasecmp(content_type,
		    "application/x-www-form-urlencoded", 33) == 0)
			return 1;
		if (strncasecmp(content_type, "application/json", 16) == 0)
			return 0;
	}
	for (p = body; *p != '\0' && isspace((unsigned char)*p); p++)
		;
	return *p != '{';
}

/* The body as a JSON object ({} when empty), or NULL with err. */
static json_t *
json_body(const char *body, size_t len, struct cert_error *err)
{
	json_error_t	 je;
	json_t		*j;

	if (len == 0)
		return json_object();
	if ((j = json_loadb(body, len, 0, &je)) == NULL) {
		cert_error_set(err, E_BAD_REQUEST, NULL, 0, "request body is "
		    "not valid JSON: %s (line %d, column %d)", je.text, je.line,
		    je.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		cert_error_set(err, E_BAD_REQUEST, NULL, 0, "request body must "
		    "be a JSON object");
		return NULL;
	}
	return j;
}

/* The body as a JSON object; replies 400 on failure. */
static json_t *
body_json(struct control_req *creq, const struct control_call *call)
{
	struct cert_error	 err;
	json_t			*j;

	if ((j = json_body(call->body, call->body_len, &err)) == NULL)
		control_reply_error(creq, &err);
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

void
api_upload_free(struct upload_fields *f)
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

/* A text field of a form; a NUL in it (%00) would make it pass for the
 * shorter string before the NUL: count it in *nul. */
static char *
form_text(const char *b, size_t bl, const char *field, int *nul)
{
	char	*v;
	size_t	 n;

	if ((v = api_form_get(b, bl, field, &n)) != NULL && strlen(v) != n)
		(*nul)++;
	return v;
}

static int
fields_read(const char *b, size_t bl, int form, struct upload_fields *f,
    struct cert_error *err)
{
	json_t		*v;
	int		 nul = 0;

	if (form) {
		/* CloudStack's parameter names. */
		f->domain = form_text(b, bl, "domainsuffix", &nul);
		f->name = form_text(b, bl, "name", &nul);
		f->id = form_text(b, bl, "id", &nul);
		f->cert = api_form_get(b, bl, "certificate", &f->cert_len);
		f->key = api_form_get(b, bl, "privatekey", &f->key_len);
		if (nul > 0)
			return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
			    "domainsuffix, name and id must not hold a NUL "
			    "byte (%%00)");
		return 0;
	}
	if ((f->j = json_body(b, bl, err)) == NULL)
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

int
api_upload_parse(const char *body, size_t len, int form,
    struct upload_fields *f, struct upload *u, char domain[DOMAIN_MAX + 1],
    struct cert_error *err)
{
	char	*end;

	memset(f, 0, sizeof(*f));
	memset(u, 0, sizeof(*u));
	if (fields_read(body, len, form, f, err) == -1)
		return -1;
	if (f->domain == NULL || *f->domain == '\0')
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "missing domainsuffix");
	if (domain_fold(f->domain, domain) == -1)
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "domainsuffix \"%.*s\" is not a valid domain name",
		    DOMAIN_MAX, f->domain);
	if (f->name == NULL || *f->name == '\0')
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "missing name");
	if (!item_name_valid(f->name))
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0, "name "
		    "\"%.*s\" is not valid (1 to %d printable characters, no "
		    "'/')", ITEM_NAME_MAX, f->name, ITEM_NAME_MAX);
	if (f->id != NULL && *f->id != '\0') {
		f->seq = strtol(f->id, &end, 10);
		f->seq_set = *end == '\0';
	}
	if ((f->id != NULL && *f->id != '\0' && !f->seq_set) ||
	    (f->seq_set && (f->seq < 0 || f->seq > ITEM_SEQ_MAX)))
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0, "id must be "
		    "a sequence number from 0 to %d", ITEM_SEQ_MAX);
	/* An empty certificate is the keystore's E_ENCODING, as certctl
	 * says for an empty file. */
	if (f->cert == NULL)
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "missing certificate");
	u->domain = domain;
	u->name = f->name;
	u->seq = (int)f->seq;
	u->cert = f->cert;
	u->cert_len = f->cert_len;
	if (f->key != NULL && f->key_len > 0) {
		u->key = f->key;
		u->key_len = f->key_len;
	}
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
	char			 domain[DOMAIN_MAX + 1];
	int			 rv;

	if (api_upload_parse(call->body, call->body_len,
	    api_body_is_form(call->content_type, call->body), &f, &u, domain,
	    &err) == -1) {
		control_reply_error(creq, &err);
		goto out;
	}
	p = pending_new(creq, ANSWER_UPLOAD, f.name);
	rv = commit_upload(&u, &res, api_commit_done, p, &err);
	api_commit_reply(rv, p, &res, &err);
out:
	api_upload_free(&f);
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

/* A domain's pending CSR keys, newest first: never the key. */
static json_t *
j_pending_keys(const char *domain)
{
	struct ks_csr	*c = NULL;
	json_t		*a = json_array();
	size_t		 n = 0, i;

	if (keystore_csr_list(ks, domain, &c, &n, NULL) == -1)
		return a;
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o, s:s}",
		    "key_type", c[i].key_type, "names", c[i].names,
		    "spki_sha256", c[i].spki, "created",
		    status_time((time_t)c[i].created), "actor", c[i].actor));
	ks_csrs_free(c, n);
	return a;
}

static void
h_domain(struct control_req *creq, const struct control_call *call,
    const char *domain)
{
	struct cert_error	 err;
	json_t			*j, *pending;

	pending = j_pending_keys(domain);
	/* A domain that so far has only a CSR waiting is a domain too. */
	if ((j = status_domain_json(ks, domain, &err)) == NULL &&
	    err.code == E_NOT_FOUND && json_array_size(pending) > 0)
		j = json_pack("{s:s, s:i, s:[], s:[], s:[], s:[]}", "domain",
		    domain, "generation", 0, "items", "staged", "generations",
		    "events");
	if (j == NULL) {
		json_decref(pending);
		control_reply_error(creq, &err);
		return;
	}
	json_object_set_new(j, "pending_keys", pending);
	control_reply_json(creq, 200, j);
}

/* The names of a CSR request: an array of strings, at most
 * KS_CSR_NAMES; they point into j.  Replies 400 otherwise. */
static int
csr_names(struct control_req *creq, json_t *j, struct csr_request *rq)
{
	json_t	*names = json_object_get(j, "names"), *v;
	size_t	 i;

	if (names == NULL)
		return 0;
	if (!json_is_array(names) || json_array_size(names) > KS_CSR_NAMES) {
		reply_err(creq, E_BAD_REQUEST, "names must be an array of at "
		    "most %d DNS names", KS_CSR_NAMES);
		return -1;
	}
	json_array_foreach(names, i, v) {
		if (!json_is_string(v)) {
			reply_err(creq, E_BAD_REQUEST, "names must be strings");
			return -1;
		}
		rq->names[rq->nnames++] = json_string_value(v);
	}
	return 0;
}

static void
h_csr(struct control_req *creq, const struct control_call *call,
    const char *domain)
{
	struct csr_request	 rq;
	struct ks_csr		 info;
	struct cert_error	 err;
	json_t			*j, *v;
	char			*pem;

	if ((j = body_json(creq, call)) == NULL)
		return;
	memset(&rq, 0, sizeof(rq));
	rq.domain = domain;
	v = json_object_get(j, "key_type");
	if (v != NULL && !json_is_string(v))
		reply_err(creq, E_BAD_REQUEST, "key_type must be a string: ec, "
		    "rsa2048 or rsa3072");
	else if (csr_names(creq, j, &rq) == 0) {
		rq.key_type = json_string_value(v);
		if (keystore_csr(ks, &rq, time(NULL), &pem, &info, &err) == -1)
			control_reply_error(creq, &err);
		else {
			log_fields(LOG_INFO, &(struct log_fields){ .domain =
			    domain }, "%s: %s: made a new %s key and its CSR for "
			    "%s; the key waits for its certificate", domain,
			    call->actor, info.key_type, info.names);
			control_reply_json(creq, 200, json_pack("{s:s, s:s, "
			    "s:s, s:s, s:s}", "domain", domain, "csr", pem,
			    "key_type", info.key_type, "names", info.names,
			    "spki_sha256", info.spki));
			free(pem);
			ks_csr_clear(&info);
		}
	}
	json_decref(j);
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

int
api_route(enum control_method method, const char *path,
    char domain[DOMAIN_MAX + 1], const char **suffix)
{
	size_t	 i;
	int	 m, path_known = 0;

	for (i = 0; i < nitems(routes); i++) {
		domain[0] = '\0';
		if ((m = route_match(&routes[i], path, domain)) == -1) {
			domain[0] = '\0';
			return API_BAD_DOMAIN;
		}
		if (m == 0)
			continue;
		path_known = 1;
		if (routes[i].method != method)
			continue;
		*suffix = routes[i].suffix;
		return (int)i;
	}
	domain[0] = '\0';
	return path_known ? API_BAD_METHOD : API_NOT_FOUND;
}

static const char *
method_name(enum control_method m)
{
	switch (m) {
	case METHOD_GET:
		return "GET";
	case METHOD_POST:
		return "POST";
	case METHOD_DELETE:
		return "DELETE";
	default:
		return "?";
	}
}

static void
forbidden(struct control_req *creq, const struct control_call *call)
{
	log_info("%s: %s %s refused: read-only", call->actor,
	    method_name(call->method), call->path);
	if (call->tls)
		reply_err(creq, E_FORBIDDEN, "client \"%s\" may only read "
		    "status (it is not in client_allow)", call->actor);
	else
		reply_err(creq, E_FORBIDDEN, "uid %d may only read status "
		    "(needs uid 0 or group %s)", (int)call->uid,
		    conf->admin_group);
}

/*
 * Run r's handler for the peer: what it changes is logged and its events
 * record the peer (a commit that waits in the queue takes the actor with
 * it); then the actor of the work in flight, if any, is back.
 */
static void
run_as(const struct route *r, struct control_req *creq,
    const struct control_call *call, const char *domain)
{
	char	 prev[CONTROL_ACTOR_MAX];

	if (r->who == CHANGE)
		log_info("%s: %s %s", call->actor, method_name(call->method),
		    call->path);
	strlcpy(prev, keystore_actor(ks), sizeof(prev));
	keystore_set_actor(ks, call->actor);
	r->fn(creq, call, domain);
	keystore_set_actor(ks, prev);
}

void
api_handle(struct control_req *creq, const struct control_call *call,
    void *arg)
{
	const struct route	*r;
	const char		*suffix;
	char			 domain[DOMAIN_MAX + 1];
	int			 i;

	switch ((i = api_route(call->method, call->path, domain, &suffix))) {
	case API_BAD_DOMAIN:
		reply_err(creq, E_BAD_REQUEST, "\"%s\" does not name a "
		    "valid domain", call->path);
		return;
	case API_BAD_METHOD:
		/* 405 is not one of our codes' statuses: answer it by hand. */
		control_reply_json(creq, 405, json_pack("{s:{s:s, s:s+}}",
		    "error", "code", "E_BAD_REQUEST", "message",
		    "method not allowed on ", call->path));
		return;
	case API_NOT_FOUND:
		reply_err(creq, E_NOT_FOUND, "no such endpoint: %s", call->path);
		return;
	}
	r = &routes[i];
	if (r->who != ANYONE && !call->admin) {
		forbidden(creq, call);
		return;
	}
	if (r->who == CHANGE && commit_stopping()) {
		reply_err(creq, E_STOPPING, "certd is stopping; nothing was "
		    "changed: try again when it is back");
		return;
	}
	run_as(r, creq, call, domain);
}

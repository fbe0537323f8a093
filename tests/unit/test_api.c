/*
 * test_api.c: api.c without a socket: form decoding, path splitting, and
 * the router (404/405/403/400 answers, what an upload hands to commit.c),
 * with control.c's replies and commit.c stubbed out and recorded here.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api.h"
#include "commit.h"
#include "control.h"
#include "status.h"
#include "util.h"

/* --- stubs: what api.c calls, recorded ----------------------------------- */

static struct certd_conf	*conf;

static int	 last_status;
static char	*last_body;
static struct {
	int	 called;
	char	 domain[256], name[80], cert[4096], key[4096];
	int	 seq, has_key;
} up;
static char	 rendered[256];

void
control_reply_text(struct control_req *creq, int status, const char *ctype,
    const char *body, size_t len)
{
	last_status = status;
	free(last_body);
	last_body = strndup(body, len);
}

void
control_reply_json(struct control_req *creq, int status, json_t *j)
{
	char	*s = json_dumps(j, JSON_COMPACT);

	control_reply_text(creq, status, "application/json", s, strlen(s));
	free(s);
	json_decref(j);
}

void
control_reply_error(struct control_req *creq, const struct cert_error *err)
{
	control_reply_json(creq, cert_code_http_status(err->code),
	    json_pack("{s:{s:s, s:s}}", "error", "code",
	    cert_code_name(err->code), "message", err->message));
}

int commit_stopping(void) { return 0; }
char *status_json(struct keystore *k, const struct certd_conf *c, time_t t,
    int a, size_t *len, struct cert_error *e)
    { *len = 3; return xstrdup("{}\n"); }
json_t *status_domain_json(struct keystore *k, const char *d,
    struct cert_error *e) { return json_pack("{s:s}", "domain", d); }
char *status_metrics(struct keystore *k, time_t t, size_t c, size_t *len)
    { *len = 1; return xstrdup("#"); }
json_t *status_reload_json(const struct reload_report *r, int a)
    { return json_object(); }
json_t *status_time(time_t t) { return json_null(); }

int
commit_upload(const struct upload *u, struct commit_result *res,
    commit_done_fn done, void *arg, struct cert_error *err)
{
	up.called++;
	snprintf(up.domain, sizeof(up.domain), "%s", u->domain);
	snprintf(up.name, sizeof(up.name), "%s", u->name);
	snprintf(up.cert, sizeof(up.cert), "%.*s", (int)u->cert_len, u->cert);
	up.seq = u->seq;
	up.has_key = u->key != NULL;
	if (u->key != NULL)
		snprintf(up.key, sizeof(up.key), "%.*s", (int)u->key_len,
		    u->key);
	memset(res, 0, sizeof(*res));
	snprintf(res->domain, sizeof(res->domain), "%s", u->domain);
	res->up.kind = KIND_ROOT;
	res->up.seq = u->seq;
	res->staged = 1;
	return 0;
}
int commit_bundle(const char *d, const char *c, size_t cl, const char *k,
    size_t kl, struct commit_result *r, commit_done_fn f, void *a,
    struct cert_error *e) { return cert_error_set(e, E_INTERNAL, NULL, 0, "stub"); }
int commit_rollback(const char *d, int64_t g, struct commit_result *r,
    commit_done_fn f, void *a, struct cert_error *e) { return cert_error_set(e, E_NOT_FOUND, NULL, 0, "gen %lld", (long long)g); }
int commit_render(const char *d, struct commit_result *r, commit_done_fn f,
    void *a, struct cert_error *e)
{
	snprintf(rendered, sizeof(rendered), "%s", d);
	snprintf(r->domain, sizeof(r->domain), "%s", d);
	r->up.generation = 4;
	return 0;
}
int commit_reload(const char *o, struct commit_result *r, commit_done_fn f,
    void *a, struct cert_error *e) { return cert_error_set(e, E_NOT_FOUND, NULL, 0, "%s", o ? o : "all"); }

/* --- helpers ------------------------------------------------------------- */

/* A request, as the admin or uid 65534: the answer's status. */
static int
call(enum control_method m, const char *path, const char *ctype,
    const char *body, int admin)
{
	struct control_call	 c;

	memset(&c, 0, sizeof(c));
	c.method = m;
	c.path = path;
	c.content_type = ctype;
	c.body = body != NULL ? body : "";
	c.body_len = strlen(c.body);
	c.admin = admin;
	c.uid = admin ? 0 : 65534;
	c.actor = admin ? "uid 0" : "uid 65534";
	last_status = 0;
	/* api_handle only passes the request back to the stubs above. */
	api_handle((struct control_req *)&c, &c, NULL);
	return last_status;
}

/* An admin's POST /v1/certificates: its status. */
static int
upload(const char *ctype, const char *body)
{
	return call(METHOD_POST, "/v1/certificates", ctype, body, 1);
}

static char *
error_code(void)
{
	static char	 code[32];
	json_t		*j = json_loads(last_body, 0, NULL);

	assert_non_null(j);
	snprintf(code, sizeof(code), "%s", json_string_value(json_object_get(
	    json_object_get(j, "error"), "code")));
	json_decref(j);
	return code;
}

static int
setup(void **state)
{
	conf = conf_new();
	api_init(NULL, conf, 0);
	memset(&up, 0, sizeof(up));
	return 0;
}

static int
teardown(void **state)
{
	conf_free(conf);
	free(last_body);
	last_body = NULL;
	return 0;
}

/* --- tests --------------------------------------------------------------- */

static void
test_form_get(void **state)
{
	const char	*b = "name=root&id=1&certificate=AB%2BC+D&empty=&flag";
	size_t		 n;
	char		*v;

	v = api_form_get(b, strlen(b), "certificate", &n);
	assert_string_equal(v, "AB+C D");
	free(v);
	v = api_form_get(b, strlen(b), "empty", &n);
	assert_string_equal(v, "");
	assert_int_equal(n, 0);
	free(v);
	v = api_form_get(b, strlen(b), "flag", &n);
	assert_string_equal(v, "");
	free(v);
	assert_null(api_form_get(b, strlen(b), "nam", &n));
	assert_null(api_form_get(b, strlen(b), "privatekey", &n));
}

static void
test_split_and_time(void **state)
{
	char		 d[DOMAIN_MAX + 1], t[32];
	const char	*rest;

	assert_int_equal(api_split_domain_path("/v1/domains/ex.com/bundle", d,
	    &rest), 0);
	assert_string_equal(d, "ex.com");
	assert_string_equal(rest, "/bundle");
	assert_int_equal(api_split_domain_path("/v1/domains/Ex.COM", d,
	    &rest), 0);
	assert_string_equal(d, "ex.com");
	assert_string_equal(rest, "");
	assert_int_equal(api_split_domain_path("/v1/domains/", d, &rest), -1);
	assert_int_equal(api_split_domain_path("/v1/domains/a..b", d, &rest),
	    -1);
	assert_int_equal(api_split_domain_path("/v1/status", d, &rest), -1);
	iso_time(1795431600, t);
	assert_string_equal(t, "2026-11-23T11:00:00Z");
}

static void
test_routes(void **state)
{
	assert_int_equal(call(METHOD_GET, "/v1/nothing", NULL, NULL, 1), 404);
	assert_string_equal(error_code(), "E_NOT_FOUND");
	assert_int_equal(call(METHOD_DELETE, "/v1/status", NULL, NULL, 1), 405);
	assert_int_equal(call(METHOD_GET, "/v1/certificates",
	    NULL, NULL, 1), 405);
	assert_int_equal(call(METHOD_POST, "/v1/domains/ex.com/nothing",
	    NULL, NULL, 1), 404);
	assert_int_equal(call(METHOD_POST, "/v1/domains/ex.com/render",
	    NULL, NULL, 1), 200);
	assert_string_equal(last_body, "{\"domain\":\"ex.com\",\"generation\":4}");
	assert_int_equal(call(METHOD_POST, "/v1/domains/a..b/render",
	    NULL, NULL, 1), 400);
	/* A domain in a path is folded: one domain whatever its case. */
	assert_int_equal(call(METHOD_POST, "/v1/domains/EX.Com./render",
	    NULL, NULL, 1), 200);
	assert_string_equal(rendered, "ex.com");
}

static void
test_forbidden(void **state)
{
	assert_int_equal(call(METHOD_POST, "/v1/certificates",
	    NULL, "domainsuffix=ex.com", 0), 403);
	assert_string_equal(error_code(), "E_FORBIDDEN");
	assert_int_equal(up.called, 0);
	assert_int_equal(call(METHOD_POST, "/v1/domains/ex.com/render",
	    NULL, NULL, 0), 403);
	assert_int_equal(call(METHOD_POST, "/v1/reload", NULL, NULL, 0), 403);
	/* Unknown paths are 404 for everyone: 403 would confirm nothing. */
	assert_int_equal(call(METHOD_GET, "/nope", NULL, NULL, 0), 404);
}

static void
test_upload_form(void **state)
{
	/* '+' sent raw arrives as ' ': the keystore repairs it, not us. */
	assert_int_equal(upload("application/x-www-form-urlencoded",
	    "domainsuffix=ex.com&name=root&id=1&certificate=-----BEGIN+"
	    "CERTIFICATE-----%0AAB+C%2BD%0A"), 200);
	assert_int_equal(up.called, 1);
	assert_string_equal(up.domain, "ex.com");
	assert_string_equal(up.name, "root");
	assert_int_equal(up.seq, 1);
	assert_string_equal(up.cert, "-----BEGIN CERTIFICATE-----\nAB C+D\n");
	assert_int_equal(up.has_key, 0);
	assert_non_null(strstr(last_body, "\"staged\":1"));
	assert_non_null(strstr(last_body, "\"committed\":false"));
}

static void
test_upload_json(void **state)
{
	assert_int_equal(upload("application/json",
	    "{\"domainsuffix\":\"ex.com\",\"name\":\"server\",\"id\":3,"
	    "\"certificate\":\"C\",\"privatekey\":\"K\"}"), 200);
	assert_int_equal(up.seq, 3);
	assert_int_equal(up.has_key, 1);
	assert_string_equal(up.key, "K");
	/* An empty privatekey is no key. */
	assert_int_equal(upload(NULL, "domainsuffix=ex.com&name=x&id=2&"
	    "certificate=C&privatekey="), 200);
	assert_int_equal(up.called, 2);
	assert_int_equal(up.has_key, 0);
}

static void
test_upload_bad(void **state)
{
	static const struct {
		const char	*ctype, *body;
		const char	*says;		/* in the answer, or NULL */
	} bad[] = {
		{ "application/json", "{\"a\":", "not valid JSON" },
		{ NULL, "name=root&certificate=C", "domainsuffix" },
		{ NULL, "domainsuffix=ex.com&name=root&id=x1&certificate=C",
		    NULL },
		{ NULL, "domainsuffix=ex.com&name=a%2Fb&id=1&certificate=C",
		    NULL },
		{ NULL, "domainsuffix=ex.com&name=root&id=1", "certificate" },
	};
	size_t	 i;

	for (i = 0; i < nitems(bad); i++) {
		assert_int_equal(upload(bad[i].ctype, bad[i].body), 400);
		if (bad[i].says != NULL &&
		    strstr(last_body, bad[i].says) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].body,
			    last_body, bad[i].says);
	}
	assert_int_equal(up.called, 0);
	assert_int_equal(call(METHOD_POST, "/v1/domains/ex.com/rollback",
	    "application/json", "{\"generation\":-2}", 1), 400);
}

/*
 * A form field with %00 in it is refused, not cut at the NUL: "id=1%00x"
 * must not pass for id 1, nor a domainsuffix or name for its first part
 * (found by fuzz_upload; the input is in tests/fuzz/corpus/upload/).
 */
static void
test_upload_form_nul(void **state)
{
	static const char *const bad[] = {
	    "domainsuffix=ex.com%00.evil.net&name=root&id=1&certificate=C",
	    "domainsuffix=ex.com&name=root%00x&id=1&certificate=C",
	    "domainsuffix=ex.com&name=root&id=1%00&certificate=C",
	};
	struct upload_fields	 f;
	struct upload		 u;
	struct cert_error	 err;
	char			 d[DOMAIN_MAX + 1];
	size_t			 i;

	for (i = 0; i < nitems(bad); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(api_upload_parse(bad[i], strlen(bad[i]), 1, &f,
		    &u, d, &err), -1);
		assert_int_equal(err.code, E_BAD_REQUEST);
		assert_non_null(strstr(err.message, "NUL"));
		api_upload_free(&f);
		assert_int_equal(upload(NULL, bad[i]), 400);
	}
	assert_int_equal(up.called, 0);
	/* In the certificate or key a NUL is the decoder's to refuse. */
	upload(NULL, "domainsuffix=ex.com&name=root&id=1&certificate=C%00");
	assert_int_equal(up.called, 1);
}

/* A JSON integer id gets the range check a string id gets. */
static void
test_upload_id_range(void **state)
{
	static const char *const bad[] = { "4294967297", "1001", "-1",
	    "9223372036854775807", "\"1001\"", "\"-1\"", "\"4294967297\"" };
	char	 body[256];
	size_t	 i;

	for (i = 0; i < nitems(bad); i++) {
		snprintf(body, sizeof(body), "{\"domainsuffix\":\"ex.com\","
		    "\"name\":\"root\",\"id\":%s,\"certificate\":\"C\"}",
		    bad[i]);
		assert_int_equal(upload("application/json", body), 400);
		assert_string_equal(error_code(), "E_BAD_REQUEST");
		assert_non_null(strstr(last_body, "from 0 to 1000"));
	}
	assert_int_equal(up.called, 0);
	assert_int_equal(upload("application/json",
	    "{\"domainsuffix\":\"ex.com\",\"name\":\"root\",\"id\":1000,"
	    "\"certificate\":\"C\"}"), 200);
	assert_int_equal(up.seq, 1000);
}

/* domainsuffix is folded before it reaches the keystore. */
static void
test_upload_domain_folded(void **state)
{
	assert_int_equal(upload(NULL, "domainsuffix=Example.COM&name=root&"
	    "id=1&certificate=C"), 200);
	assert_string_equal(up.domain, "example.com");
	assert_int_equal(upload(NULL, "domainsuffix=ex%2Fample.com&name=root&"
	    "id=1&certificate=C"), 400);
	assert_string_equal(error_code(), "E_BAD_REQUEST");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_get),
		cmocka_unit_test(test_split_and_time),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_routes),
		T(test_forbidden),
		T(test_upload_form),
		T(test_upload_json),
		T(test_upload_bad),
		T(test_upload_form_nul),
		T(test_upload_id_range),
		T(test_upload_domain_folded),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

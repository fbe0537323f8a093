/* test_conf.c: the config parser: defaults, every section, file:line errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "names.h"
#include "testpki.h"
#include "util.h"

static char	tmpl[] = "/tmp/certd-test-conf.XXXXXX";

/* Write text to a fresh temp file; return its path (static buffer). */
static const char *
write_conf(const char *text)
{
	static char	 path[64];
	FILE		*f;
	int		 fd;

	strcpy(path, tmpl);
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
	return path;
}

static struct certd_conf *
load_ok(const char *text)
{
	struct certd_conf	*c;
	char			 err[512] = "";
	const char		*path = write_conf(text);

	c = conf_load(path, err, sizeof(err));
	if (c == NULL)
		fail_msg("unexpected error: %s", err);
	unlink(path);
	return c;
}

/* Load text expecting failure; return the message (static buffer). */
static const char *
load_err(const char *text)
{
	static char		 err[512];
	struct certd_conf	*c;
	const char		*path = write_conf(text);

	err[0] = '\0';
	c = conf_load(path, err, sizeof(err));
	unlink(path);
	assert_null(c);
	assert_true(err[0] != '\0');
	return err;
}

static void
test_defaults_without_file(void **state)
{
	struct certd_conf	*c;
	char			 err[128];

	(void)state;
	assert_non_null(c = conf_load(NULL, err, sizeof(err)));
	assert_string_equal(c->socket, "/run/certd/control.sock");
	assert_int_equal(c->socket_mode, 0666);
	assert_string_equal(c->key_group, "ssl-cert");
	assert_string_equal(c->admin_group, "certd-admin");
	assert_string_equal(c->truststore_password, "changeit");
	assert_string_equal(conf_keystore_password(c), "changeit");
	assert_int_equal(c->keep_generations, 5);
	assert_int_equal(c->truststore_include_system, 0);
	assert_null(c->path);
	assert_true(TAILQ_EMPTY(&c->domains));
	conf_free(c);
	conf_free(NULL);
}

static void
test_full_file(void **state)
{
	struct certd_conf	*c;
	struct domain_conf	*d;
	struct dependent_conf	*p;

	(void)state;
	c = load_ok(
	    "; comment\n"
	    "[certd]\n"
	    "state_dir = /tmp/x\n"
	    "socket_mode = 0660\n"
	    "keep_generations = 7\n"
	    "truststore_include_system = yes\n"
	    "keystore_password = s3cret\n"
	    "\n"
	    "[domain example.com]\n"
	    "publish_cert = /etc/ssl/certs/cert_apache.crt\n"
	    "publish_key = /etc/ssl/private/cert_apache.key\n"
	    "publish_replace = yes\n"
	    "\n"
	    "[dependent apache]\n"
	    "exec = /usr/sbin/apachectl -k graceful\n"
	    "configtest = /usr/sbin/apachectl -t\n"
	    "verify = 127.0.0.1:443\n"
	    "verify_name = www.example.com\n"
	    "verify_timeout = 1500ms\n"
	    "verify_count = 5\n"
	    "domains = example.com other.org\n"
	    "\n"
	    "[dependent tomcat]\n"
	    "unit = tomcat9.service\n"
	    "action = restart\n"
	    "timeout = 60\n");
	assert_string_equal(c->state_dir, "/tmp/x");
	assert_int_equal(c->socket_mode, 0660);
	assert_int_equal(c->keep_generations, 7);
	assert_int_equal(c->truststore_include_system, 1);
	assert_string_equal(conf_keystore_password(c), "s3cret");

	assert_non_null(d = conf_domain(c, "example.com"));
	assert_string_equal(d->publish[PUB_CERT], "/etc/ssl/certs/cert_apache.crt");
	assert_string_equal(d->publish[PUB_KEY], "/etc/ssl/private/cert_apache.key");
	assert_null(d->publish[PUB_CHAIN]);
	assert_int_equal(d->publish_replace, 1);
	assert_null(conf_domain(c, "nope.com"));

	p = TAILQ_FIRST(&c->dependents);
	assert_string_equal(p->name, "apache");
	assert_string_equal(p->exec[0], "/usr/sbin/apachectl");
	assert_string_equal(p->exec[1], "-k");
	assert_string_equal(p->exec[2], "graceful");
	assert_null(p->exec[3]);
	assert_string_equal(p->configtest[1], "-t");
	assert_string_equal(p->verify_host, "127.0.0.1");
	assert_string_equal(p->verify_port, "443");
	assert_int_equal(p->verify_timeout_ms, 1500);
	assert_int_equal(p->verify_count, 5);
	assert_int_equal(p->timeout_ms, 30000);
	assert_true(conf_dependent_wants(p, "other.org"));
	assert_false(conf_dependent_wants(p, "third.net"));

	p = TAILQ_NEXT(p, entry);
	assert_string_equal(p->name, "tomcat");
	assert_string_equal(p->unit, "tomcat9.service");
	assert_int_equal(p->action, DEP_RESTART);
	assert_int_equal(p->timeout_ms, 60000);
	assert_int_equal(p->verify_timeout_ms, 5000);
	assert_int_equal(p->verify_count, 3);
	assert_true(conf_dependent_wants(p, "any.org"));
	conf_free(c);
}

static void
test_errors_name_file_and_line(void **state)
{
	/* Each text is refused with an error that has its want in it. */
	static const struct {
		const char	*text, *want;
	} cases[] = {
		{ "[certd]\nstate_dir = /x\nsockett = /y\n",
		    ":3: unknown key \"sockett\" in [certd]" },
		{ "[certd]\n\n[cert]\nx = 1\n",
		    ":4: unknown section [cert]" },
		{ "[domain example.com]\npublish_cert = relative/path\n",
		    ":2: publish_cert" },
		{ "[certd]\ntruststore_include_system = maybe\n",
		    ":2: truststore_include_system: \"maybe\" is not yes "
		    "or no" },
		{ "[certd]\nsocket_mode = 999\n",
		    ":2: socket_mode" },
		{ "[certd]\nkeep_generations = 1\n",
		    ":2: keep_generations" },
		{ "[dependent web]\nexec = apachectl graceful\n",
		    ":2: exec: command \"apachectl\" must be an absolute "
		    "path" },
		{ "[dependent web]\nexec = /bin/true 'unterminated\n",
		    "unterminated ' quote" },
		{ "[dependent web]\nverify = localhost\n",
		    ":2: verify" },
		/* "k =;v" is ";v" to inih, "k = ;v" a comment: refused (found
		 * by fuzz_conf: certd -t printed such a value as a comment). */
		{ "[dependent web]\nunit =;x.service\n",
		    ":2: unit: a value may not start with ';'" },
		{ "[certd]\ntruststore_password =;pw\n",
		    ":2: truststore_password: a value" },
		/* Seconds are bounded before they become milliseconds:
		 * 2^61 + 5 s times 1000 wrapped to 5000 ms, and a nonsense
		 * value was taken as 5 s (signed overflow; found by fuzz_conf
		 * under UBSan). */
		{ "[dependent web]\nexec = /bin/true\n"
		    "timeout = 2305843009213693957\n",
		    ":3: timeout" },
		{ "[dependent web]\nexec = /bin/true\n"
		    "verify_timeout = 9223372036854775s\n",
		    ":3: verify_timeout" },
		{ "[certd]\nstop_timeout = 3601\n",
		    ":2: stop_timeout" },
		/* An IPv6 address must be bracketed, and brackets hold a host:
		 * otherwise certd -t prints a verify = it cannot read back
		 * (found by fuzz_conf; the inputs are in
		 * tests/fuzz/corpus/conf/). */
		{ "[dependent web]\nverify = ::1:443\n",
		    ":2: verify" },
		{ "[dependent web]\nverify = x[::1]:443\n",
		    ":2: verify" },
		{ "[dependent web]\nverify = []:443\n",
		    ":2: verify" },
		{ "[dependent web]\nverify = [a[b]:443\n",
		    ":2: verify" },
		{ "[dependent web]\naction = reload\n",
		    "needs exactly one of unit =, exec = or "
		    "haproxy_socket =" },
		{ "[dependent web]\nunit = a.service\nexec = /bin/true\n",
		    "needs exactly one of unit =, exec = or "
		    "haproxy_socket =" },
		{ "[dependent h]\nexec = /bin/true\n"
		    "haproxy_socket = /run/haproxy/admin.sock\n"
		    "haproxy_crt = /etc/haproxy/site.pem\n",
		    "[dependent h]: needs exactly one of" },
		{ "[dependent t]\nunit = t.service\nexec_expect = OK\n",
		    "[dependent t]: exec_expect without exec =" },
		{ "[dependent h]\nhaproxy_socket = /run/haproxy/admin.sock\n",
		    "haproxy_socket and haproxy_crt go together" },
		{ "[dependent h]\nhaproxy_crt = /etc/haproxy/a b.pem\n",
		    ":2: haproxy_crt: \"/etc/haproxy/a b.pem\" "
		    "must be an absolute path without blanks" },
		{ "[dependent h]\nhaproxy_socket = admin.sock\n",
		    ":2: haproxy_socket" },
		{ "[dependent web]\nexec = /bin/true\nverify_count = 0\n",
		    ":3: verify_count: \"0\" is not a number "
		    "from 1 to 100" },
		{ "[domain bad..name]\npublish_cert = /x\n",
		    "not a valid domain name" },
		/* The TLS keys mean nothing without listen =, and it needs
		 * them. */
		{ "[certd]\nlisten = 0.0.0.0:8443\n",
		    ":2: listen needs tls_cert, tls_key and "
		    "client_ca" },
		{ "[certd]\n\ntls_cert = /etc/certd/tls.pem\n",
		    ":3: tls_cert, tls_key, client_ca, "
		    "client_crl and client_allow are for listen =, which is "
		    "not set" },
		{ "[certd]\nclient_allow = CN=mgmt\n",
		    "are for listen =, which is not set" },
		{ "[certd]\nlisten = localhost:8443\n",
		    ":2: listen: \"localhost:8443\" is not "
		    "ADDR:PORT with a numeric address" },
		{ "[certd]\ntls_key = tls.key\n",
		    ":2: tls_key: \"tls.key\" must be an "
		    "absolute path" },
		{ "[certd]\nclient_allow = mgmt\n",
		    ":2: client_allow: \"mgmt\": neither a "
		    "subject" },
		{ "[dependent web]\nexec = /bin/true\ndomains = a.example "
		    "b..example\n",
		    ":3: domains: \"b..example\" is not a "
		    "domain name" },
	};
	const char	*e;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = load_err(cases[i].text);
		if (strstr(e, cases[i].want) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].text, e,
			    cases[i].want);
	}
	conf_free(load_ok("[certd]\nstop_timeout = 3600\n"));
	/* inih cuts lines at 200 bytes: a longer one is refused, not cut. */
	{
		char	 big[512];

		snprintf(big, sizeof(big), "[dependent web]\nexec = /bin/echo "
		    "%0250d\ntimeout = 5\n", 0);
		e = load_err(big);
		assert_non_null(strstr(e, ":2: line longer than 197 bytes"));
	}
	/* The limit is on a line's bytes, its newline not counted: 197
	 * load and 198 do not, at the end of the file too (a last line
	 * without a newline had one byte more, and certd -t then printed a
	 * config that did not load; found by fuzz_conf). */
	{
		char	 line[256];
		int	 nl;

		for (nl = 0; nl < 2; nl++) {
			snprintf(line, sizeof(line), "[dependent web]\nexec = "
			    "/bin/echo %0180d%s", 0, nl ? "\n" : "");
			conf_free(load_ok(line));
			snprintf(line, sizeof(line), "[dependent web]\nexec = "
			    "/bin/echo %0181d%s", 0, nl ? "\n" : "");
			e = load_err(line);
			assert_non_null(strstr(e, ":2: line longer than 197 "
			    "bytes"));
		}
	}
	e = load_err("x = 1\n");
	assert_non_null(strstr(e, ":1: \"x\" outside a section"));
	e = load_err("[certd\n");
	assert_non_null(strstr(e, ":1:"));
}

/* The files of listen =, made by tests/pki in dir. */
struct tls_fx {
	char	 dir[64], cert[96], key[96], other_key[96], ca[96], crl[96];
	char	 other_crl[96];
};

static void
put_pem(char *path, size_t size, const char *dir, const char *name,
    char *pem)
{
	snprintf(path, size, "%s/%s", dir, name);
	assert_int_equal(tpki_write(path, pem), 0);
	free(pem);
}

static void
tls_fx_make(struct tls_fx *fx)
{
	struct tpki_chain	 c, other;
	X509_CRL		*crl;

	strcpy(fx->dir, "/tmp/certd-test-tls.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(tpki_chain_make(&c, "certd.example", 0, TPKI_EC256),
	    0);
	assert_int_equal(tpki_chain_make(&other, "other.example", 0,
	    TPKI_EC256), 0);
	put_pem(fx->cert, sizeof(fx->cert), fx->dir, "tls.pem",
	    tpki_cert_pem(c.leaf));
	put_pem(fx->key, sizeof(fx->key), fx->dir, "tls.key",
	    tpki_key_pem(c.leaf_key, TPKI_KEY_PKCS8));
	put_pem(fx->other_key, sizeof(fx->other_key), fx->dir, "other.key",
	    tpki_key_pem(other.leaf_key, TPKI_KEY_PKCS8));
	put_pem(fx->ca, sizeof(fx->ca), fx->dir, "ca.pem",
	    tpki_cert_pem(c.root));
	crl = tpki_crl(c.root, c.root_key, &c.leaf, 1, 0, 0);
	put_pem(fx->crl, sizeof(fx->crl), fx->dir, "ca.crl", tpki_crl_pem(crl));
	X509_CRL_free(crl);
	crl = tpki_crl(other.root, other.root_key, NULL, 0, 0, 0);
	put_pem(fx->other_crl, sizeof(fx->other_crl), fx->dir, "other.crl",
	    tpki_crl_pem(crl));
	X509_CRL_free(crl);
	tpki_chain_free(&c);
	tpki_chain_free(&other);
}

static void
tls_fx_free(struct tls_fx *fx)
{
	unlink(fx->cert);
	unlink(fx->key);
	unlink(fx->other_key);
	unlink(fx->ca);
	unlink(fx->crl);
	unlink(fx->other_crl);
	rmdir(fx->dir);
}

static const char *
tls_conf(const struct tls_fx *fx, const char *cert, const char *key,
    const char *ca, const char *crl)
{
	static char	 text[1024];

	snprintf(text, sizeof(text), "[certd]\nlisten = 127.0.0.1:8443\n"
	    "listen = [::1]:8443\ntls_cert = %s\ntls_key = %s\n"
	    "client_ca = %s\nclient_crl = %s\n"
	    "client_allow = CN=mgmt,O=Example\nclient_allow = DNS:mgmt.example\n",
	    cert, key, ca, crl);
	return text;
}

/* listen = with its files: they are loaded as a handshake loads them, and
 * each fault is named with the file and line of the key at fault. */
static void
test_remote_files(void **state)
{
	struct tls_fx		 fx;
	struct certd_conf	*c;
	const char		*e;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*f;

	tls_fx_make(&fx);
	c = load_ok(tls_conf(&fx, fx.cert, fx.key, fx.ca, fx.crl));
	assert_int_equal(c->nlisten, 2);
	assert_string_equal(c->listen[1].host, "::1");
	assert_non_null(c->tls_ctx);
	assert_string_equal(c->client_allow[1], "DNS:mgmt.example");
	assert_null(c->client_allow[2]);
	assert_non_null(f = open_memstream(&buf, &len));
	conf_print(c, f);
	fclose(f);
	assert_non_null(strstr(buf, "listen = [::1]:8443\n"));
	assert_non_null(strstr(buf, "client_allow = CN=mgmt,O=Example\n"));
	free(buf);
	conf_free(c);

	e = load_err(tls_conf(&fx, fx.cert, fx.other_key, fx.ca, fx.crl));
	assert_non_null(strstr(e, ":5: tls_key: "));
	assert_non_null(strstr(e, "is not the key of tls_cert"));
	e = load_err(tls_conf(&fx, "/nonexistent/tls.pem", fx.key, fx.ca,
	    fx.crl));
	assert_non_null(strstr(e, ":4: tls_cert: /nonexistent/tls.pem: "));
	e = load_err(tls_conf(&fx, fx.cert, fx.key, fx.key, fx.crl));
	assert_non_null(strstr(e, ":6: client_ca: "));
	assert_non_null(strstr(e, "no CA certificate read"));
	e = load_err(tls_conf(&fx, fx.cert, fx.key, fx.ca, fx.other_crl));
	assert_non_null(strstr(e, ":7: client_crl: "));
	assert_non_null(strstr(e, "not signed by any certificate of "
	    "client_ca"));
	e = load_err(tls_conf(&fx, fx.cert, fx.key, fx.ca, fx.ca));
	assert_non_null(strstr(e, ":7: client_crl: "));
	tls_fx_free(&fx);
}

static void
test_missing_file(void **state)
{
	char	 err[256];

	(void)state;
	assert_null(conf_load("/nonexistent/certd.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/certd.conf: No such file"));
}

static void
test_split_argv_quotes(void **state)
{
	char	 err[128];
	char	**v, *s;

	(void)state;
	v = conf_split_argv("  /bin/sh -c 'echo \"a b\"' \"x\\\"y\" z\\ w ", err,
	    sizeof(err));
	assert_non_null(v);
	assert_string_equal(v[0], "/bin/sh");
	assert_string_equal(v[1], "-c");
	assert_string_equal(v[2], "echo \"a b\"");
	assert_string_equal(v[3], "x\"y");
	assert_string_equal(v[4], "z w");
	assert_null(v[5]);
	/* Joining and splitting again gives the same words. */
	s = conf_join_argv(v);
	conf_free_argv(v);
	assert_non_null(v = conf_split_argv(s, err, sizeof(err)));
	assert_string_equal(v[2], "echo \"a b\"");
	assert_string_equal(v[3], "x\"y");
	free(s);
	conf_free_argv(v);
	assert_null(conf_split_argv("   ", err, sizeof(err)));
}

/* certd -t prints a config that reads back to the same config. */
static void
test_print_round_trips(void **state)
{
	struct certd_conf	*c, *c2;
	char			*out1 = NULL, *out2 = NULL;
	size_t			 n1 = 0, n2 = 0;
	FILE			*f;

	(void)state;
	c = load_ok("[certd]\nsocket = /tmp/s.sock\n"
	    "[domain a.example]\npublish_chain = /tmp/chain\n"
	    "[dependent x]\nexec = /bin/echo \"two words\" one\n"
	    "exec_expect = OK -\n"
	    "verify = [::1]:8443\nverify_count = 2\n"
	    "[dependent h]\nhaproxy_socket = /run/haproxy/admin.sock\n"
	    "haproxy_crt = /var/lib/certd/domains/a.example/current/bundle.pem\n"
	    "configtest = /usr/sbin/haproxy -c -f /etc/haproxy/haproxy.cfg\n");
	assert_non_null(f = open_memstream(&out1, &n1));
	conf_print(c, f);
	fclose(f);
	/* Strip the comment line naming the source, then reload. */
	c2 = load_ok(strchr(out1, '\n') + 1);
	assert_non_null(f = open_memstream(&out2, &n2));
	conf_print(c2, f);
	fclose(f);
	assert_string_equal(strchr(out1, '\n'), strchr(out2, '\n'));
	assert_string_equal(TAILQ_FIRST(&c2->dependents)->exec[1], "two words");
	assert_string_equal(TAILQ_FIRST(&c2->dependents)->verify_host, "::1");
	assert_int_equal(TAILQ_FIRST(&c2->dependents)->verify_count, 2);
	assert_string_equal(TAILQ_FIRST(&c2->dependents)->exec_expect, "OK -");
	assert_string_equal(TAILQ_LAST(&c2->dependents,
	    dependent_conf_list)->haproxy_crt,
	    "/var/lib/certd/domains/a.example/current/bundle.pem");
	free(out1);
	free(out2);
	conf_free(c);
	conf_free(c2);
}

static void
test_valid_names(void **state)
{
	static const struct {
		int		 (*valid)(const char *);
		int		 want;
		const char	*names[8];	/* up to a NULL */
	} t[] = {
		{ domain_valid, 1, { "example.com", "realhostip.com" } },
		{ domain_valid, 0, { "", "../etc", "a/b", ".example.com",
		    "Example.com" /* not folded */, "example.com.",
		    "-example.com" } },
		{ item_name_valid, 1, { "root", "Intermediate CA 1" } },
		{ item_name_valid, 0, { "", "a/b", "tab\there" } },
	};
	size_t	 i, j;

	(void)state;
	for (i = 0; i < nitems(t); i++)
		for (j = 0; t[i].names[j] != NULL; j++)
			if (!t[i].valid(t[i].names[j]) != !t[i].want)
				fail_msg("t[%zu] \"%s\": %s, want %s", i,
				    t[i].names[j], t[i].want ? "invalid" :
				    "valid", t[i].want ? "valid" : "invalid");
}

/* Domain names are one name whatever their case, in every section. */
static void
test_domain_names_fold(void **state)
{
	struct certd_conf	*c;
	struct dependent_conf	*p;
	char			 d[DOMAIN_MAX + 1];

	(void)state;
	assert_int_equal(domain_fold("Example.COM.", d), 0);
	assert_string_equal(d, "example.com");
	assert_int_equal(domain_fold("a..b", d), -1);
	assert_int_equal(domain_fold(".", d), -1);
	c = load_ok("[domain Example.COM]\npublish_cert = /tmp/x.crt\n"
	    "[domain example.com]\npublish_key = /tmp/x.key\n"
	    "[dependent web]\nexec = /bin/true\ndomains = WWW.Example.com\n");
	/* One section, both keys. */
	assert_non_null(conf_domain(c, "example.com"));
	assert_null(TAILQ_NEXT(TAILQ_FIRST(&c->domains), entry));
	assert_non_null(conf_domain(c, "example.com")->publish[PUB_KEY]);
	assert_non_null(conf_domain(c, "example.com")->publish[PUB_CERT]);
	p = TAILQ_FIRST(&c->dependents);
	assert_true(conf_dependent_wants(p, "www.example.com"));
	conf_free(c);
}

/* The shipped example parses and means the built-in defaults. */
/*
 * A word with any space conf_split_argv splits at (a vertical tab, a form
 * feed) is printed quoted, and a ';' escaped (after any space inih takes
 * it for a comment, in quotes too), so certd -t's command is the one
 * certd runs (found by fuzz_conf; the inputs are in
 * tests/fuzz/corpus/conf/).
 */
static void
test_print_quotes_every_space(void **state)
{
	struct certd_conf	*c, *c2;
	char			*out = NULL;
	size_t			 n = 0;
	FILE			*f;

	(void)state;
	c = load_ok("[dependent x]\nexec = /bin/echo \"a\vb\" 'c\fd' '';e "
	    "\"f\v\\;g\"\n");
	assert_non_null(f = open_memstream(&out, &n));
	conf_print(c, f);
	fclose(f);
	c2 = load_ok(strchr(out, '\n') + 1);
	assert_string_equal(TAILQ_FIRST(&c2->dependents)->exec[1], "a\vb");
	assert_string_equal(TAILQ_FIRST(&c2->dependents)->exec[2], "c\fd");
	assert_string_equal(TAILQ_FIRST(&c2->dependents)->exec[3], ";e");
	assert_string_equal(TAILQ_FIRST(&c2->dependents)->exec[4], "f\v;g");
	assert_null(TAILQ_FIRST(&c2->dependents)->exec[5]);
	free(out);
	conf_free(c);
	conf_free(c2);
}

/*
 * An indented line is a line of its own, not the continuation inih makes
 * of it: "  key_group = x" under "admin_group = y" set admin_group to
 * "key_group = x" (found by fuzz_conf).
 */
static void
test_indented_lines_are_keys(void **state)
{
	struct certd_conf	*c;
	const char		*e;

	(void)state;
	c = load_ok("[certd]\n  admin_group = wheel\n\tkey_group = ssl-cert\n"
	    "[dependent web]\n    unit = a.service\n    action = restart\n");
	assert_string_equal(c->admin_group, "wheel");
	assert_string_equal(c->key_group, "ssl-cert");
	assert_string_equal(TAILQ_FIRST(&c->dependents)->unit, "a.service");
	assert_int_equal(TAILQ_FIRST(&c->dependents)->action, DEP_RESTART);
	conf_free(c);
	e = load_err("[dependent web]\nexec = /bin/echo a\n  b\n");
	assert_non_null(strstr(e, ":3:"));
}

static void
test_example_config_parses(void **state)
{
	struct certd_conf	*c;
	char			 path[4096], err[512];
	const char		*top = getenv("top_srcdir");

	(void)state;
	snprintf(path, sizeof(path), "%s/etc/certd.conf", top ? top : ".");
	c = conf_load(path, err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	assert_int_equal(c->socket_mode, 0666);
	assert_int_equal(c->keep_generations, 5);
	assert_true(TAILQ_EMPTY(&c->dependents));
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_without_file),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_split_argv_quotes),
		cmocka_unit_test(test_print_round_trips),
		cmocka_unit_test(test_valid_names),
		cmocka_unit_test(test_domain_names_fold),
		cmocka_unit_test(test_print_quotes_every_space),
		cmocka_unit_test(test_indented_lines_are_keys),
		cmocka_unit_test(test_example_config_parses),
		cmocka_unit_test(test_remote_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_dependents.c: dependents_run() on a real event base: exec and
 * configtest outcomes, output capture, timeouts, order and domain filters,
 * and TLS verification against a local server (forked, OpenSSL).  With
 * CERTD_TEST_DBUS=1 (set by t-systemd-dbusmock.sh, which starts a mock
 * systemd on a private bus) also the unit = path over D-Bus.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "dependents.h"
#include "keystore.h"
#include "testpki.h"
#include "util.h"

static char	dir[] = "/tmp/certd-test-dep.XXXXXX";

struct outcome {
	int			 called;
	int			 ok;
	struct dep_result	 r[16];
	size_t			 n;
	struct event_base	*base;
};

static void
done_cb(void *arg, int ok, const struct dep_result *r, size_t n)
{
	struct outcome	*o = arg;

	o->called++;
	o->ok = ok;
	o->n = n < 16 ? n : 16;
	memcpy(o->r, r, o->n * sizeof(*r));
	event_base_loopbreak(o->base);
}

static struct certd_conf *
conf_text(const char *fmt, ...)
{
	char			 path[128], err[512] = "", *text;
	struct certd_conf	*c;
	va_list			 ap;
	FILE			*f;

	va_start(ap, fmt);
	assert_true(vasprintf(&text, fmt, ap) != -1);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/certd.conf", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	free(text);
	if ((c = conf_load(path, err, sizeof(err))) == NULL)
		fail_msg("config: %s", err);
	return c;
}

/* Run the dependents for req and wait (at most 20 s) for the outcome. */
static void
run_ks(struct certd_conf *c, struct keystore *ks,
    const struct dep_request *req, struct outcome *o)
{
	struct cert_error	 err;
	struct timeval		 tv = { 20, 0 };

	memset(o, 0, sizeof(*o));
	assert_non_null(o->base = event_base_new());
	if (dependents_run(o->base, c, ks, req, done_cb, o, &err) == NULL)
		fail_msg("dependents_run: %s", err.message);
	assert_true(dependents_busy());
	event_base_loopexit(o->base, &tv);
	event_base_dispatch(o->base);
	assert_int_equal(o->called, 1);
	assert_false(dependents_busy());
	event_base_free(o->base);
}

static void
run(struct certd_conf *c, const struct dep_request *req, struct outcome *o)
{
	run_ks(c, NULL, req, o);
}

static int
count_lines(const char *name)
{
	char	 path[128], *buf;
	size_t	 len, i;
	int	 n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file(path, 1 << 20, &buf, &len) == -1)
		return 0;
	for (i = 0; i < len; i++)
		n += buf[i] == '\n';
	free(buf);
	return n;
}

static const struct dep_request req_example = {
	.domain = "example.com", .generation = 2,
};

/*
 * The config text (no format) makes the run for req_example fail, and the
 * first result's message has each of the NULL-terminated strings after it.
 */
static void
run_fails(const char *text, ...)
{
	struct certd_conf	*c;
	struct outcome		 o;
	const char		*want;
	va_list			 ap;

	c = conf_text("%s", text);
	run(c, &req_example, &o);
	assert_false(o.ok);
	va_start(ap, text);
	while ((want = va_arg(ap, const char *)) != NULL)
		if (strstr(o.r[0].message, want) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", o.r[0].message, want);
	va_end(ap);
	conf_free(c);
}

static void
test_exec_runs_once(void **state)
{
	struct certd_conf	*c;
	struct outcome		 o;

	c = conf_text("[dependent web]\nexec = /bin/sh -c \"echo x >> %s/m\"\n",
	    dir);
	run(c, &req_example, &o);
	assert_true(o.ok);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.r[0].dependent, "web");
	assert_string_equal(o.r[0].step, "reload");
	assert_true(o.r[0].ok);
	assert_int_equal(count_lines("m"), 1);
	conf_free(c);
}

/* exec_expect: an exit 0 whose output says otherwise (Tomcat's manager:
 * "FAIL - ...", HTTP 200) fails the step; the configtest is not held to
 * it. */
static void
test_exec_expect(void **state)
{
	struct certd_conf	*c;
	struct outcome		 o;

	c = conf_text("[dependent tomcat]\n"
	    "configtest = /bin/echo checked\n"
	    "exec = /bin/echo FAIL - Failed to reload TLS configuration\n"
	    "exec_expect = OK -\n"
	    "[dependent later]\nexec = /bin/true\n");
	run(c, &req_example, &o);
	assert_false(o.ok);
	assert_int_equal(o.n, 2);
	assert_true(o.r[0].ok);
	assert_string_equal(o.r[1].step, "reload");
	assert_false(o.r[1].ok);
	assert_non_null(strstr(o.r[1].message, "the output does not start "
	    "with \"OK -\": /bin/echo: exit 0: FAIL - Failed to reload"));
	conf_free(c);

	c = conf_text("[dependent tomcat]\n"
	    "exec = /bin/echo OK - Reloaded TLS configuration for [x]\n"
	    "exec_expect = OK -\n");
	run(c, &req_example, &o);
	assert_true(o.ok);
	conf_free(c);
}

static void
test_configtest_fails_no_reload(void **state)
{
	struct certd_conf	*c;
	struct outcome		 o;

	c = conf_text("[dependent web]\n"
	    "configtest = /bin/sh -c \"echo AH00526: Syntax error >&2; exit 1\"\n"
	    "exec = /bin/sh -c \"echo x >> %s/m2\"\n", dir);
	run(c, &req_example, &o);
	assert_false(o.ok);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.r[0].step, "configtest");
	assert_false(o.r[0].ok);
	assert_non_null(strstr(o.r[0].message, "exit status 1"));
	assert_non_null(strstr(o.r[0].message, "AH00526: Syntax error"));
	assert_int_equal(count_lines("m2"), 0);
	conf_free(c);
}

static void
test_configtest_then_reload_in_order(void **state)
{
	struct certd_conf	*c;
	struct outcome		 o;
	char			 path[128], *buf;
	size_t			 len;

	c = conf_text(
	    "[dependent one]\nconfigtest = /bin/sh -c \"echo t1 >> %s/order\"\n"
	    "exec = /bin/sh -c \"echo r1 >> %s/order\"\n"
	    "[dependent other]\ndomains = other.org\n"
	    "exec = /bin/sh -c \"echo nope >> %s/order\"\n"
	    "[dependent two]\nexec = /bin/sh -c \"echo r2 >> %s/order\"\n",
	    dir, dir, dir, dir);
	run(c, &req_example, &o);
	assert_true(o.ok);
	assert_int_equal(o.n, 3);
	assert_string_equal(o.r[0].step, "configtest");
	assert_string_equal(o.r[1].dependent, "one");
	assert_string_equal(o.r[2].dependent, "two");
	snprintf(path, sizeof(path), "%s/order", dir);
	assert_int_equal(read_file(path, 4096, &buf, &len), 0);
	assert_string_equal(buf, "t1\nr1\nr2\n");
	free(buf);
	conf_free(c);
}

static void
test_failure_stops_later_dependents(void **state)
{
	struct certd_conf	*c;
	struct outcome		 o;

	c = conf_text("[dependent bad]\nexec = /bin/false\n"
	    "[dependent later]\nexec = /bin/sh -c \"echo x >> %s/m3\"\n", dir);
	run(c, &req_example, &o);
	assert_false(o.ok);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.r[0].dependent, "bad");
	assert_int_equal(count_lines("m3"), 0);
	conf_free(c);
}

static void
test_only_and_missing(void **state)
{
	struct certd_conf	*c;
	struct outcome		 o;
	struct dep_request	 req = { .only = "b" };
	struct cert_error	 err;
	struct event_base	*base;

	c = conf_text("[dependent a]\nexec = /bin/false\n"
	    "[dependent b]\nexec = /bin/true\n");
	run(c, &req, &o);
	assert_true(o.ok);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.r[0].dependent, "b");

	req.only = "nosuch";
	assert_non_null(base = event_base_new());
	assert_null(dependents_run(base, c, NULL, &req, done_cb, &o, &err));
	assert_int_equal(err.code, E_NOT_FOUND);
	assert_false(dependents_busy());
	event_base_free(base);
	conf_free(c);
}

static void
test_no_dependents_calls_done(void **state)
{
	struct certd_conf	*c;
	struct outcome		 o;

	c = conf_text("[dependent a]\ndomains = other.org\nexec = /bin/false\n");
	run(c, &req_example, &o);
	assert_true(o.ok);
	assert_int_equal(o.n, 0);
	conf_free(c);
}

/* Is pid gone (or a zombie nobody reaped yet)?  Waits up to 5 s. */
static int
gone(pid_t pid)
{
	char	 path[64], *buf, *p;
	size_t	 len;
	int	 i, dead = 0;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	for (i = 0; i < 500 && !dead; i++) {
		if (read_file(path, 4096, &buf, &len) == -1)
			return 1;
		/* "pid (comm) S ...": the state follows the last ')'. */
		dead = (p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
		    (p[2] == 'Z' || p[2] == 'X');
		free(buf);
		if (!dead)
			usleep(10000);
	}
	return dead;
}

static void
test_timeout_kills(void **state)
{
	struct certd_conf	*c;
	struct outcome		 o;
	char			 path[128], *buf;
	size_t			 len;
	int64_t			 t0;
	long			 spid;

	/* The shell and its child ignore SIGTERM: SIGKILL must follow, to
	 * the whole process group.  The child says its pid first. */
	c = conf_text("[dependent slow]\ntimeout = 300ms\n"
	    "exec = /bin/sh -c \"trap '' TERM; sleep 30 & echo $! > %s/m4; "
	    "wait\"\n", dir);
	t0 = now_ms();
	run(c, &req_example, &o);
	assert_false(o.ok);
	assert_int_equal(o.n, 1);
	assert_non_null(strstr(o.r[0].message, "timed out after 300 ms"));
	assert_true(now_ms() - t0 < 5000);
	assert_true(o.r[0].duration_ms >= 290);
	snprintf(path, sizeof(path), "%s/m4", dir);
	assert_int_equal(read_file(path, 64, &buf, &len), 0);
	spid = strtol(buf, NULL, 10);
	free(buf);
	assert_true(spid > 1);
	/* The test is the subreaper (setup): reap the orphan, then the pid
	 * must be gone for good. */
	if (!gone((pid_t)spid)) {
		kill((pid_t)spid, SIGKILL);
		fail_msg("the dependent's child %ld outlived its timeout", spid);
	}
	waitpid((pid_t)spid, NULL, 0);
	assert_int_equal(kill((pid_t)spid, 0), -1);
	assert_int_equal(errno, ESRCH);
	conf_free(c);
}

static void
test_exec_missing_and_signal(void **state)
{
	run_fails("[dependent x]\nexec = /nonexistent/cmd -k graceful\n",
	    "exit status 127", "No such file", NULL);
	run_fails("[dependent x]\nexec = /bin/sh -c \"kill -SEGV $$\"\n",
	    "killed by signal 11", NULL);
}

static void
test_output_bounded(void **state)
{
	struct certd_conf	*c;
	struct outcome		 o;
	const char		*p;
	long			 dropped;

	/* 1 MB of output must neither block the child nor grow the result. */
	c = conf_text("[dependent big]\n"
	    "exec = /bin/sh -c \"head -c 1000000 /dev/zero | tr '\\\\0' a\"\n");
	run(c, &req_example, &o);
	assert_true(o.ok);
	assert_non_null(strstr(o.r[0].message, ": exit 0: aaaa"));
	/* What did not fit is counted, at the end, whole. */
	p = strstr(o.r[0].message, " more bytes dropped]");
	assert_non_null(p);
	assert_string_equal(p, " more bytes dropped]");
	while (p > o.r[0].message && p[-1] >= '0' && p[-1] <= '9')
		p--;
	assert_int_equal(p[-1], '[');
	dropped = strtol(p, NULL, 10);
	/* kept "aaaa...a" then " [N more bytes dropped]" */
	assert_int_equal(dropped + (long)(strchr(o.r[0].message, '[') - 1 -
	    strstr(o.r[0].message, "aaaa")), 1000000);
	conf_free(c);
}

/* --- verify -------------------------------------------------------------- */

static struct tpki_chain	old_chain, new_chain;
static int			flap_first;	/* see tls_server */

/*
 * A TLS server in a child: serves first for switch_ms, then second (NULL:
 * stop accepting); but the first flap_first connections get second, as
 * nginx's new workers answer before its old ones are told to stop.
 * Returns the pid; the port in *port.
 */
static pid_t
tls_server(struct tpki_chain *first, int with_inter, struct tpki_chain *second,
    int switch_ms, int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 s, one = 1, n;
	int64_t			 t0;
	pid_t			 pid;

	assert_true((s = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s, 16), 0);
	getsockname(s, (struct sockaddr *)&sin, &len);
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) != 0) {
		close(s);
		return pid;
	}
	/* A failed assertion skips stop(): do not outlive the test. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(0);
	t0 = now_ms();
	for (n = 0;; n++) {
		struct tpki_chain	*ch;
		SSL_CTX			*ctx;
		SSL			*ssl;
		int			 fd;

		if ((fd = accept(s, NULL, NULL)) == -1)
			continue;
		ch = first;
		if (second != NULL && (n < flap_first ||
		    now_ms() - t0 >= switch_ms))
			ch = second;
		ctx = SSL_CTX_new(TLS_server_method());
		SSL_CTX_use_certificate(ctx, ch->leaf);
		SSL_CTX_use_PrivateKey(ctx, ch->leaf_key);
		if (with_inter) {
			X509_up_ref(ch->inter[0]);
			SSL_CTX_add_extra_chain_cert(ctx, ch->inter[0]);
		}
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1)
			SSL_shutdown(ssl);
		SSL_free(ssl);
		SSL_CTX_free(ctx);
		close(fd);
	}
}

static void
stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * A keystore (a new file each time) in which example.com's current
 * generation is new_chain: verify wants its leaf and intermediate.
 */
static struct keystore *
ks_new_chain(int64_t *gen)
{
	static int		 seq;
	struct keystore		*ks;
	struct cert_error	 err;
	struct upload_result	 res;
	char			 path[128], *certs, *key, *p1, *p2, *p3;

	snprintf(path, sizeof(path), "%s/certd-%d.db", dir, ++seq);
	if ((ks = keystore_open(path, &err)) == NULL)
		fail_msg("keystore_open: %s", err.message);
	p1 = tpki_cert_pem(new_chain.leaf);
	p2 = tpki_cert_pem(new_chain.inter[0]);
	p3 = tpki_cert_pem(new_chain.root);
	key = tpki_key_pem(new_chain.leaf_key, TPKI_KEY_PKCS8);
	assert_true(asprintf(&certs, "%s%s%s", p1, p2, p3) != -1);
	if (keystore_bundle(ks, "example.com", certs, strlen(certs), key,
	    strlen(key), time(NULL), &res, &err) == -1)
		fail_msg("keystore_bundle: %s", err.message);
	assert_true(res.committed);
	*gen = res.generation;
	free(p1);
	free(p2);
	free(p3);
	free(certs);
	free(key);
	return ks;
}

/* A keystore for a verify run of req: example.com's new generation. */
static struct keystore *
ks_verify(struct dep_request *req)
{
	*req = req_example;
	req->verify = 1;
	return ks_new_chain(&req->generation);
}

/* What tls_server() serves; closed: a port nothing listens on any more. */
struct server {
	struct tpki_chain	*first;
	int			 with_inter;
	struct tpki_chain	*second;
	int			 switch_ms;
	int			 flap;		/* flap_first */
	int			 closed;
};

/*
 * Run a dependent "web" that verifies against srv; keys: more of its
 * config.
 */
static void
verify_with(struct keystore *ks, const struct dep_request *req,
    const struct server *srv, const char *keys, struct outcome *o)
{
	struct certd_conf	*c;
	int			 port;
	pid_t			 pid;

	flap_first = srv->flap;
	pid = tls_server(srv->first, srv->with_inter, srv->second,
	    srv->switch_ms, &port);
	flap_first = 0;
	if (srv->closed)
		stop(pid);
	c = conf_text("[dependent web]\nexec = /bin/true\n"
	    "verify = 127.0.0.1:%d\n%s", port, keys);
	run_ks(c, ks, req, o);
	if (!srv->closed)
		stop(pid);
	conf_free(c);
}

/* One verify run against srv, with a keystore of its own. */
static void
verify_once(const struct server *srv, const char *keys, struct outcome *o)
{
	struct dep_request	 req;
	struct keystore		*ks = ks_verify(&req);

	verify_with(ks, &req, srv, keys, o);
	keystore_close(ks);
}

static void
test_verify_new_leaf_served(void **state)
{
	struct outcome		 o;

	verify_once(&(struct server){ .first = &new_chain, .with_inter = 1 },
	    "verify_timeout = 3s\n", &o);
	assert_true(o.ok);
	assert_int_equal(o.n, 2);
	assert_string_equal(o.r[1].step, "verify");
	assert_true(o.r[1].ok);
	assert_non_null(strstr(o.r[1].message,
	    "served on 3 consecutive connections (3 attempts, "));
	/* Spaced VERIFY_GAP_MS (100 ms) apart. */
	assert_true(o.r[1].duration_ms >= 190);
}

/*
 * Like nginx after a reload: the new leaf on the first connections, then
 * an old worker's old leaf again, then the new for good.  One handshake
 * (verify_count = 1) passes on the first; the default 3 in a row wait for
 * the old leaf to be gone, and say it came back.
 */
static void
test_verify_count_outlasts_old_workers(void **state)
{
	struct outcome		 o;
	struct dep_request	 req;
	struct keystore		*ks;
	struct server		 flapping = { .first = &old_chain,
	    .with_inter = 1, .second = &new_chain, .switch_ms = 700,
	    .flap = 2 };

	ks = ks_verify(&req);
	verify_with(ks, &req, &flapping, "verify_count = 1\n", &o);
	assert_true(o.ok);
	assert_non_null(strstr(o.r[1].message, "the new leaf is served "
	    "(1 attempt, "));
	assert_true(o.r[1].duration_ms < 500);

	verify_with(ks, &req, &flapping, "", &o);
	assert_true(o.ok);
	assert_non_null(strstr(o.r[1].message, "served on 3 consecutive "
	    "connections; the old one came back 1 time before"));
	assert_true(o.r[1].duration_ms >= 700 + 190);

	/* Too short a deadline for 3 in a row: a failure that says so. */
	flapping.switch_ms = 5000;
	verify_with(ks, &req, &flapping, "verify_timeout = 600ms\n", &o);
	assert_false(o.ok);
	assert_non_null(strstr(o.r[1].message, "not verified within 600 ms"));
	assert_non_null(strstr(o.r[1].message, "the old leaf came back 1 time "
	    "after the new one"));
	keystore_close(ks);
}

static void
test_verify_waits_for_switch(void **state)
{
	struct outcome		 o;

	/* Like a graceful Apache: the old leaf for a while, then the new. */
	verify_once(&(struct server){ .first = &old_chain,
	    .with_inter = 1, .second = &new_chain, .switch_ms = 600 },
	    "verify_timeout = 5s\n", &o);
	assert_true(o.ok);
	assert_true(o.r[1].ok);
	assert_true(o.r[1].duration_ms >= 500);
	assert_null(strstr(o.r[1].message, "(3 attempts, "));
}

static void
test_verify_old_leaf_fails(void **state)
{
	struct outcome		 o;
	struct dep_request	 req;
	struct keystore		*ks;
	const struct server	 old = { .first = &old_chain,
	    .with_inter = 1 };
	const char		*keys = "verify_name = www.example.com\n"
	    "verify_timeout = 400ms\n";

	ks = ks_verify(&req);
	verify_with(ks, &req, &old, keys, &o);
	assert_false(o.ok);
	assert_int_equal(o.n, 2);
	assert_false(o.r[1].ok);
	assert_non_null(strstr(o.r[1].message, "not verified within 400 ms"));
	assert_non_null(strstr(o.r[1].message, "is not the new one"));
	assert_true(o.r[1].duration_ms >= 390 && o.r[1].duration_ms < 2000);

	/* No verify asked (a rollback's reload): the same run passes. */
	req.verify = 0;
	verify_with(ks, &req, &old, keys, &o);
	assert_true(o.ok);
	assert_int_equal(o.n, 1);
	keystore_close(ks);
}

static void
test_verify_nothing_listening(void **state)
{
	struct outcome		 o;

	verify_once(&(struct server){ .first = &old_chain, .with_inter = 1,
	    .closed = 1 }, "verify_timeout = 300ms\n", &o);
	assert_false(o.ok);
	assert_non_null(strstr(o.r[1].message, "Connection refused"));
}

/*
 * With the keystore, verify also wants the generation's intermediates in
 * the served chain: a server sending the new leaf alone fails at once (no
 * retry can fix a config without the chain file), and every step is in the
 * event log.
 */
static void
test_verify_needs_intermediate(void **state)
{
	struct outcome		 o;
	struct dep_request	 req;
	struct keystore		*ks;
	struct ks_event		*ev;
	size_t			 n;

	ks = ks_verify(&req);
	verify_with(ks, &req, &(struct server){ .first = &new_chain },
	    "verify_timeout = 5s\n", &o);
	assert_false(o.ok);
	assert_false(o.r[1].ok);
	assert_non_null(strstr(o.r[1].message, "without its intermediate"));
	assert_non_null(strstr(o.r[1].message, "(1 attempt, "));
	assert_true(o.r[1].duration_ms < 2000);

	/* The same server with the intermediate passes. */
	verify_with(ks, &req, &(struct server){ .first = &new_chain,
	    .with_inter = 1 },
	    "verify_timeout = 5s\n", &o);
	assert_true(o.ok);

	assert_int_equal(keystore_events(ks, "example.com", "reload", 10, &ev,
	    &n), 0);
	assert_int_equal(n, 4);		/* newest first */
	assert_string_equal(ev[0].step, "verify");
	assert_string_equal(ev[0].result, "ok");
	assert_string_equal(ev[0].dependent, "web");
	assert_int_equal(ev[0].generation, req.generation);
	assert_string_equal(ev[2].step, "verify");
	assert_string_equal(ev[2].result, "failed");
	assert_non_null(strstr(ev[2].message, "intermediate"));
	assert_string_equal(ev[3].step, "reload");
	keystore_events_free(ev, n);
	keystore_close(ks);
}

/* --- unit = over D-Bus (needs the mock from t-systemd-dbusmock.sh) -------- */

static void
test_unit_results(void **state)
{
	struct certd_conf	*c;
	struct outcome		 o;

	if (getenv("CERTD_TEST_DBUS") == NULL)
		skip();
	/* The mock answers by unit name: ok.service -> "done",
	 * failed.service -> "failed", hang.service -> no JobRemoved. */
	c = conf_text("[dependent a]\nunit = ok.service\naction = reload\n"
	    "[dependent b]\nunit = ok.service\naction = restart\n"
	    "[dependent c]\nunit = ok.service\naction = reload-or-restart\n");
	run(c, &req_example, &o);
	assert_true(o.ok);
	assert_int_equal(o.n, 3);
	assert_non_null(strstr(o.r[0].message, "job done"));
	conf_free(c);

	run_fails("[dependent a]\nunit = failed.service\n",
	    "result \"failed\"", NULL);
	run_fails("[dependent a]\nunit = hang.service\ntimeout = 500ms\n",
	    "no result from systemd within 500 ms", NULL);
	run_fails("[dependent a]\nunit = nosuch.service\n", "refused", NULL);
}

static void
test_unit_no_bus(void **state)
{
	struct certd_conf	*c;
	struct outcome		 o;
	char			 addr[256];

	snprintf(addr, sizeof(addr), "unix:path=%s/no-bus", dir);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1);
	c = conf_text("[dependent a]\nunit = apache2.service\n");
	run(c, &req_example, &o);
	assert_false(o.ok);
	assert_string_equal(o.r[0].step, "reload");
	assert_non_null(strstr(o.r[0].message, "apache2.service"));
	conf_free(c);
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
}

static int
setup(void **state)
{
	/* Orphans of the dependents' commands come to us, so that the test
	 * can reap them and see their pids gone (ESRCH). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	assert_non_null(mkdtemp(dir));
	tpki_chain_make(&old_chain, "example.com", 1, TPKI_EC256);
	tpki_chain_make(&new_chain, "example.com", 1, TPKI_EC256);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return -1;
	tpki_chain_free(&old_chain);
	tpki_chain_free(&new_chain);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_runs_once),
		cmocka_unit_test(test_exec_expect),
		cmocka_unit_test(test_configtest_fails_no_reload),
		cmocka_unit_test(test_configtest_then_reload_in_order),
		cmocka_unit_test(test_failure_stops_later_dependents),
		cmocka_unit_test(test_only_and_missing),
		cmocka_unit_test(test_no_dependents_calls_done),
		cmocka_unit_test(test_timeout_kills),
		cmocka_unit_test(test_exec_missing_and_signal),
		cmocka_unit_test(test_output_bounded),
		cmocka_unit_test(test_verify_new_leaf_served),
		cmocka_unit_test(test_verify_waits_for_switch),
		cmocka_unit_test(test_verify_count_outlasts_old_workers),
		cmocka_unit_test(test_verify_old_leaf_fails),
		cmocka_unit_test(test_verify_nothing_listening),
		cmocka_unit_test(test_verify_needs_intermediate),
		cmocka_unit_test(test_unit_results),
		cmocka_unit_test(test_unit_no_bus),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_haproxy.c: haproxy.c's runtime API exchange against a scripted
 * admin socket (a forked child answering as HAProxy 2.6 does, measured in
 * tests/integration/demo-haproxy.sh): the payload rule, the steps and
 * their order, the failures that must abort our transaction and those that
 * must not touch another's, and that no key material reaches a message.
 * t-haproxy-dependent.sh does the same with a real HAProxy.
 */
#include "config.h"

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
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <event2/event.h>

#include "haproxy.h"
#include "util.h"

static char	dir[] = "/tmp/certd-test-hap.XXXXXX";
static char	sock[128], crt[128], cmds[128];

#define KEYLINE	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETSECRET"

static const char bundle[] =
    "-----BEGIN CERTIFICATE-----\r\n"
    "MIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBnRl\r\n"
    "\r\n"
    "-----END CERTIFICATE-----\r\n"
    "   \n"
    "-----BEGIN PRIVATE KEY-----\n"
    KEYLINE "\n"
    "-----END PRIVATE KEY-----";

#define HANG	"(never answers)"

/*
 * A scripted HAProxy: for each connection in turn, read the command until
 * EOF, append its first line to cmds (and " [bad payload]" if the payload
 * had a CR or a blank line before its end), answer answers[i] and close.
 * HANG: accept, read, never answer.
 */
static pid_t
fake_haproxy(const char *const *answers)
{
	struct sockaddr_un	 sun;
	int			 s, fd, i;
	pid_t			 pid;

	unlink(sock);
	assert_true((s = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, sock, sizeof(sun.sun_path));
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(s, 4), 0);
	if ((pid = fork()) != 0) {
		close(s);
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (i = 0; answers[i] != NULL; i++) {
		char	 buf[8192], *nl, *rest, *bl;
		size_t	 len = 0;
		ssize_t	 n;
		FILE	*f;

		if ((fd = accept(s, NULL, NULL)) == -1)
			_exit(1);
		while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += n;
		buf[len] = '\0';
		rest = "";
		if ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			rest = nl + 1;
		}
		bl = strstr(rest, "\n\n");
		if ((f = fopen(cmds, "a")) != NULL) {
			fprintf(f, "%s%s\n", buf, strchr(rest, '\r') != NULL ||
			    (bl != NULL && bl[2] != '\0') ? " [bad payload]" :
			    "");
			fclose(f);
		}
		if (strcmp(answers[i], HANG) == 0)
			pause();
		write_all(fd, answers[i], strlen(answers[i]));
		close(fd);
	}
	_exit(0);
}

struct outcome {
	int	 called, ok;
	char	 msg[1024];
};

static void
done_cb(void *arg, int ok, const char *msg)
{
	struct outcome	*o = arg;

	o->called++;
	o->ok = ok;
	strlcpy(o->msg, msg, sizeof(o->msg));
}

/* Swap against the script; the commands it got, one a line, in *got. */
static void
swap(const char *const *answers, int timeout_ms, struct outcome *o,
    char **got)
{
	struct event_base	*base;
	struct haproxy		*h;
	char			 err[256];
	size_t			 len;
	pid_t			 pid;

	unlink(cmds);
	pid = fake_haproxy(answers);
	memset(o, 0, sizeof(*o));
	assert_non_null(base = event_base_new());
	h = haproxy_swap(base, sock, crt, timeout_ms, done_cb, o, err,
	    sizeof(err));
	if (h == NULL)
		fail_msg("haproxy_swap: %s", err);
	assert_int_equal(o->called, 0);	/* never from within the call */
	event_base_dispatch(base);
	event_base_free(base);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(o->called, 1);
	assert_null(strstr(o->msg, "SECRET"));
	assert_null(strstr(o->msg, "BEGIN"));
	if (read_file(cmds, 65536, got, &len) == -1)
		*got = xstrdup("");
}

static char *
created(void)
{
	char	*s;

	xasprintf(&s, "Transaction created for certificate %s!\n\n", crt);
	return s;
}

static void
test_payload_strip(void **state)
{
	char	 s[] = "a\r\n\r\n \t\nb\n\n\nc", t[] = "\n\n", u[] = "x\n";

	(void)state;
	assert_int_equal(haproxy_payload_strip(s, strlen(s)), 6);
	assert_memory_equal(s, "a\nb\nc\n", 6);
	assert_int_equal(haproxy_payload_strip(t, 2), 0);
	assert_int_equal(haproxy_payload_strip(u, 2), 2);
}

static void
test_answer_line_filters_payload(void **state)
{
	char	 out[256];

	(void)state;
	/* Echoes of a piece of a payload line, of armour: cut. */
	haproxy_answer_line("Unknown command: '" KEYLINE "'\n"
	    "xx" "AgEGCCqGSM49AwEHBG0wawIBAQQgSECR" "\n"
	    "-----END PRIVATE KEY-----\nCan't commit /x!\n\n", "junk\n"
	    KEYLINE "\n", out, sizeof(out));
	assert_string_equal(out, "[...] / [...] / [...] / Can't commit /x!");
	haproxy_answer_line("", NULL, out, sizeof(out));
	assert_string_equal(out, "(no answer)");
	/* Long paths are not payload. */
	haproxy_answer_line("Committing /var/lib/certd/domains/examplecom1234/"
	    "current/bundle.pem\nSuccess!\n", KEYLINE "\n", out, sizeof(out));
	assert_string_equal(out, "Committing /var/lib/certd/domains/"
	    "examplecom1234/current/bundle.pem / Success!");
}

static void
test_swap_success(void **state)
{
	char		*a1 = created(), *a2, *want, *got;
	const char	*answers[] = { "No ongoing transaction!\n\n", a1, NULL,
			    NULL };
	struct outcome	 o;

	(void)state;
	xasprintf(&a2, "Committing %s.\nSuccess!\n\n", crt);
	answers[2] = a2;
	swap(answers, 5000, &o, &got);
	assert_true(o.ok);
	assert_non_null(strstr(o.msg, "no reload"));
	assert_non_null(strstr(o.msg, "Success!"));
	/* Blank lines and CRs were stripped: the payload arrived whole. */
	xasprintf(&want, "abort ssl cert %s\nset ssl cert %s <<\n"
	    "commit ssl cert %s\n", crt, crt, crt);
	assert_string_equal(got, want);
	free(want);
	free(got);
	free(a1);
	free(a2);
}

/* A key HAProxy refuses at commit: our transaction is aborted, and the
 * message has HAProxy's answer. */
static void
test_swap_commit_refused_aborts(void **state)
{
	char		*a1 = created(), *a2, *a3, *got;
	const char	*answers[] = { "No ongoing transaction!\n\n", a1, NULL,
			    NULL, NULL };
	struct outcome	 o;

	(void)state;
	xasprintf(&a2, "inconsistencies between private key and certificate "
	    "loaded '%s'.\nCan't commit %s!\n\n", crt, crt);
	xasprintf(&a3, "Transaction aborted for certificate '%s'!\n\n", crt);
	answers[2] = a2;
	answers[3] = a3;
	swap(answers, 5000, &o, &got);
	assert_false(o.ok);
	assert_non_null(strstr(o.msg, "commit ssl cert"));
	assert_non_null(strstr(o.msg, "inconsistencies between private key"));
	assert_non_null(strstr(o.msg, "transaction aborted"));
	assert_non_null(strstr(got, "\nabort ssl cert"));
	assert_int_equal(strncmp(strrchr(got, '\n') - strlen(crt) - 15,
	    "abort ssl cert ", 15), 0);
	free(got);
	free(a1);
	free(a2);
	free(a3);
}

/* Another path's transaction is open: nothing of ours is sent. */
static void
test_swap_other_transaction_untouched(void **state)
{
	const char	*answers[] = { "The ongoing transaction is about "
			    "'/etc/haproxy/other.pem' but you are trying to "
			    "abort a transaction for 'x'\n\n", NULL };
	struct outcome	 o;
	char		*got, *want;

	(void)state;
	swap(answers, 5000, &o, &got);
	assert_false(o.ok);
	assert_non_null(strstr(o.msg, "another certificate transaction"));
	assert_non_null(strstr(o.msg, "/etc/haproxy/other.pem"));
	xasprintf(&want, "abort ssl cert %s\n", crt);
	assert_string_equal(got, want);
	free(want);
	free(got);
}

/* An echo of the payload (what HAProxy does to lines after a blank one)
 * never reaches the message. */
static void
test_swap_set_refused_no_echo(void **state)
{
	const char	*answers[] = { "No ongoing transaction!\n\n",
			    "Unknown command: '" KEYLINE "'\n\n",
			    "No ongoing transaction!\n\n", NULL };
	struct outcome	 o;
	char		*got;

	(void)state;
	swap(answers, 5000, &o, &got);
	assert_false(o.ok);
	assert_non_null(strstr(o.msg, "set ssl cert"));
	assert_non_null(strstr(o.msg, "[...]"));
	free(got);
}

static void
test_swap_timeout_and_no_socket(void **state)
{
	const char	*answers[] = { "No ongoing transaction!\n\n", HANG,
			    NULL };
	struct outcome	 o;
	struct event_base *base;
	char		*got, err[256];

	(void)state;
	swap(answers, 300, &o, &got);	/* the set is never answered */
	assert_false(o.ok);
	assert_non_null(strstr(o.msg, "no answer to `set ssl cert` within "
	    "300 ms"));
	free(got);

	unlink(sock);
	assert_non_null(base = event_base_new());
	assert_non_null(haproxy_swap(base, sock, crt, 1000, done_cb, &o, err,
	    sizeof(err)));
	event_base_dispatch(base);
	assert_false(o.ok);
	assert_non_null(strstr(o.msg, "cannot connect to HAProxy's admin "
	    "socket"));
	assert_null(haproxy_swap(base, sock, "/nonexistent/bundle.pem", 1000,
	    done_cb, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot read /nonexistent/bundle.pem"));
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload_strip),
		cmocka_unit_test(test_answer_line_filters_payload),
		cmocka_unit_test(test_swap_success),
		cmocka_unit_test(test_swap_commit_refused_aborts),
		cmocka_unit_test(test_swap_other_transaction_untouched),
		cmocka_unit_test(test_swap_set_refused_no_echo),
		cmocka_unit_test(test_swap_timeout_and_no_socket),
	};
	FILE	*f;
	int	 rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sock, sizeof(sock), "%s/admin.sock", dir);
	snprintf(crt, sizeof(crt), "%s/current/bundle.pem", dir);
	snprintf(cmds, sizeof(cmds), "%s/cmds", dir);
	{
		char	 d[160];

		snprintf(d, sizeof(d), "%s/current", dir);
		mkdir(d, 0700);
	}
	if ((f = fopen(crt, "w")) == NULL)
		return 1;
	fputs(bundle, f);
	fclose(f);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(crt);
	unlink(sock);
	unlink(cmds);
	snprintf(crt, sizeof(crt), "%s/current", dir);
	rmdir(crt);
	rmdir(dir);
	return rc;
}

/*
 * dependents.c: after a commit, run each [dependent] that uses the domain,
 * in config order and one at a time: configtest, reload (systemd unit or an
 * exec argv), then verify that the new leaf is really served.  Everything
 * runs on the daemon's event base, so the control socket keeps serving.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dependents.h"
#include "log.h"
#include "sysd.h"
#include "util.h"

#define OUTPUT_MAX	4096	/* captured stdout+stderr of a command */
#define KILL_GRACE_MS	2000	/* SIGTERM -> SIGKILL */
#define VERIFY_RETRY_MS	100	/* graceful Apache: new leaf after ~80/1040 ms */
#define EXPECT_MAX	(CHAIN_MAX)

enum dep_step { STEP_CONFIGTEST, STEP_RELOAD, STEP_VERIFY, STEP_END };
static const char *step_names[] = { "configtest", "reload", "verify" };

/* A copy of one [dependent]: a SIGHUP may free the config mid-run. */
struct dep {
	char		*name;
	char		*unit;
	enum dep_action	 action;
	char		**exec;
	char		**configtest;
	char		*verify_host;
	char		*verify_port;
	char		*verify_name;
	int		 verify_timeout_ms;
	int		 timeout_ms;
};

struct proc;
struct verify;

struct dep_run {
	struct event_base	*base;
	struct keystore		*ks;
	char			*domain;	/* NULL: every domain */
	int64_t			 generation;
	char			*expect_sha256;
	int			 verify;
	char			 inter[EXPECT_MAX][65];	/* intermediates' sha256 */
	char			*inter_subject[EXPECT_MAX];
	size_t			 ninter;

	struct dep		*deps;
	size_t			 ndeps;
	size_t			 cur;
	enum dep_step		 step;
	int			 failed;
	int64_t			 step_started;
	int			 waiting_unit;	/* a sysd_unit_job is ours */

	struct dep_result	*results;
	size_t			 nresults;

	struct event		*ev_next;
	struct proc		*proc;
	struct verify		*vfy;
	dep_done_fn		 done;
	void			*arg;
};

static int	runs_in_flight;


static void	step_done(struct dep_run *, int ok, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* --- the run -------------------------------------------------------------- */

static char **
argv_dup(char **argv)
{
	char	**v;
	size_t	  n, i;

	if (argv == NULL)
		return NULL;
	for (n = 0; argv[n] != NULL; n++)
		;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((v[i] = strdup(argv[i])) == NULL) {
			conf_free_argv(v);
			return NULL;
		}
	}
	return v;
}

static void
run_free(struct dep_run *run)
{
	size_t	 i;

	if (run == NULL)
		return;
	for (i = 0; i < run->ndeps; i++) {
		struct dep	*d = &run->deps[i];

		free(d->name);
		free(d->unit);
		conf_free_argv(d->exec);
		conf_free_argv(d->configtest);
		free(d->verify_host);
		free(d->verify_port);
		free(d->verify_name);
	}
	for (i = 0; i < run->ninter; i++)
		free(run->inter_subject[i]);
	free(run->deps);
	free(run->results);
	free(run->domain);
	free(run->expect_sha256);
	if (run->ev_next != NULL)
		event_free(run->ev_next);
	free(run);
}

/* The intermediates the served chain must hold: those of the generation. */
static void
run_load_expected(struct dep_run *run)
{
	struct chain		*chain = NULL;
	struct cert_error	 err;
	size_t			 i;
	unsigned char		*der;
	int			 len;

	if (run->ks == NULL || run->domain == NULL || run->generation <= 0)
		return;
	if (keystore_generation(run->ks, run->domain, run->generation, &chain,
	    &err) == -1) {
		log_warnx("%s: generation %lld: %s; verify checks only the "
		    "leaf", run->domain, (long long)run->generation,
		    err.message);
		return;
	}
	for (i = 0; i < chain->n && run->ninter < EXPECT_MAX; i++) {
		if (chain->items[i].kind != KIND_INTERMEDIATE)
			continue;
		der = NULL;
		if ((len = i2d_X509(chain->items[i].cert, &der)) <= 0)
			continue;
		sha256_hex(der, len, run->inter[run->ninter]);
		OPENSSL_free(der);
		run->inter_subject[run->ninter] = X509_NAME_oneline(
		    X509_get_subject_name(chain->items[i].cert), NULL, 0);
		run->ninter++;
	}
	chain_free(chain);
}

static void
run_finish(struct dep_run *run)
{
	dep_done_fn	 done = run->done;

	runs_in_flight--;
	done(run->arg, !run->failed, run->results, run->nresults);
	run_free(run);
}

static int	proc_start(struct dep_run *, char **argv, int timeout_ms);
static int	verify_start(struct dep_run *, struct dep *);
static void	unit_done(void *, int, const char *);

/* Start the next step that applies; finish when none is left. */
static void
run_next_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dep_run	*run = arg;
	struct dep	*d;
	char		 err[512];

	for (;;) {
		if (run->failed || run->cur >= run->ndeps) {
			run_finish(run);
			return;
		}
		d = &run->deps[run->cur];
		run->step_started = now_ms();
		switch (run->step) {
		case STEP_CONFIGTEST:
			if (d->configtest == NULL)
				break;
			if (proc_start(run, d->configtest, d->timeout_ms) == -1)
				return;		/* step_done was called */
			return;
		case STEP_RELOAD:
			if (d->unit != NULL) {
				run->waiting_unit = 1;
				if (sysd_unit_job(run->base, d->unit, d->action,
				    d->timeout_ms, unit_done, run, err,
				    sizeof(err)) == -1) {
					run->waiting_unit = 0;
					step_done(run, 0, "%s", err);
				}
				return;
			}
			if (d->exec != NULL) {
				proc_start(run, d->exec, d->timeout_ms);
				return;
			}
			break;
		case STEP_VERIFY:
			if (d->verify_host == NULL || !run->verify ||
			    run->expect_sha256 == NULL)
				break;
			verify_start(run, d);
			return;
		case STEP_END:
			break;
		}
		if (++run->step >= STEP_END) {
			run->step = STEP_CONFIGTEST;
			run->cur++;
		}
	}
}

/* Record a step's result, then move on from the event loop. */
static void
step_done(struct dep_run *run, int ok, const char *fmt, ...)
{
	struct dep		*d = &run->deps[run->cur];
	struct dep_result	*r = &run->results[run->nresults++];
	struct ks_event		 ev;
	struct log_fields	 lf;
	char			*msg = NULL;
	va_list			 ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);

	memset(r, 0, sizeof(*r));
	strlcpy(r->dependent, d->name, sizeof(r->dependent));
	strlcpy(r->step, step_names[run->step], sizeof(r->step));
	r->ok = ok;
	r->duration_ms = now_ms() - run->step_started;
	strlcpy(r->message, msg != NULL ? msg : "", sizeof(r->message));

	memset(&ev, 0, sizeof(ev));
	ev.at = time(NULL);
	if (run->domain != NULL)
		strlcpy(ev.domain, run->domain, sizeof(ev.domain));
	ev.generation = run->generation;
	strlcpy(ev.type, "reload", sizeof(ev.type));
	strlcpy(ev.result, ok ? "ok" : "failed", sizeof(ev.result));
	strlcpy(ev.step, r->step, sizeof(ev.step));
	strlcpy(ev.dependent, r->dependent, sizeof(ev.dependent));
	ev.duration_ms = r->duration_ms;
	ev.message = msg != NULL ? msg : (char *)"";
	if (run->ks != NULL && keystore_event(run->ks, &ev) == -1)
		log_warnx("dependent %s: cannot record the %s result", d->name,
		    r->step);

	memset(&lf, 0, sizeof(lf));
	lf.domain = run->domain;
	lf.generation = run->generation;
	lf.code = ok ? NULL : "reload-failed";
	log_fields(ok ? LOG_INFO : LOG_WARNING, &lf,
	    "dependent %s: %s %s in %lld ms%s%s", d->name, r->step,
	    ok ? "ok" : "FAILED", (long long)r->duration_ms,
	    r->message[0] != '\0' ? ": " : "", r->message);
	free(msg);

	if (!ok)
		run->failed = 1;
	if (++run->step >= STEP_END) {
		run->step = STEP_CONFIGTEST;
		run->cur++;
	}
	event_active(run->ev_next, EV_TIMEOUT, 0);
}

static void
unit_done(void *arg, int ok, const char *message)
{
	struct dep_run	*run = arg;

	run->waiting_unit = 0;
	step_done(run, ok, "%s", message);
}

int
dependents_run(struct event_base *base, const struct certd_conf *conf,
    struct keystore *ks, const struct dep_request *req, dep_done_fn done,
    void *arg, struct cert_error *err)
{
	struct dep_run			*run;
	const struct dependent_conf	*p;
	struct dep			*d;
	size_t				 n = 0;

	if ((run = calloc(1, sizeof(*run))) == NULL)
		return cert_error_set(err, E_INTERNAL, "", 0, "out of memory");
	run->base = base;
	run->ks = ks;
	run->generation = req->generation;
	run->verify = req->verify;
	run->done = done;
	run->arg = arg;
	if ((req->domain != NULL &&
	    (run->domain = strdup(req->domain)) == NULL) ||
	    (req->expect_sha256 != NULL &&
	    (run->expect_sha256 = strdup(req->expect_sha256)) == NULL))
		goto nomem;

	TAILQ_FOREACH(p, &conf->dependents, entry)
		n++;
	if ((run->deps = calloc(n + 1, sizeof(*run->deps))) == NULL ||
	    (run->results = calloc(3 * n + 1, sizeof(*run->results))) == NULL)
		goto nomem;
	TAILQ_FOREACH(p, &conf->dependents, entry) {
		if (req->only != NULL && strcmp(req->only, p->name) != 0)
			continue;
		if (req->only == NULL && !conf_dependent_wants(p, req->domain))
			continue;
		d = &run->deps[run->ndeps++];
		d->action = p->action;
		d->verify_timeout_ms = p->verify_timeout_ms;
		d->timeout_ms = p->timeout_ms;
		if ((d->name = strdup(p->name)) == NULL ||
		    (p->unit != NULL && (d->unit = strdup(p->unit)) == NULL) ||
		    (p->exec != NULL && (d->exec = argv_dup(p->exec)) == NULL) ||
		    (p->configtest != NULL &&
		    (d->configtest = argv_dup(p->configtest)) == NULL) ||
		    (p->verify_host != NULL &&
		    (d->verify_host = strdup(p->verify_host)) == NULL) ||
		    (p->verify_port != NULL &&
		    (d->verify_port = strdup(p->verify_port)) == NULL) ||
		    (p->verify_name != NULL &&
		    (d->verify_name = strdup(p->verify_name)) == NULL))
			goto nomem;
	}
	if (req->only != NULL && run->ndeps == 0) {
		cert_error_set(err, E_NOT_FOUND, "", 0,
		    "no [dependent %s] in the configuration", req->only);
		run_free(run);
		return -1;
	}
	if (run->verify && run->expect_sha256 != NULL)
		run_load_expected(run);
	if ((run->ev_next = event_new(base, -1, 0, run_next_cb, run)) == NULL)
		goto nomem;
	runs_in_flight++;
	event_active(run->ev_next, EV_TIMEOUT, 0);
	return 0;
nomem:
	run_free(run);
	return cert_error_set(err, E_INTERNAL, "", 0, "out of memory");
}

int
dependents_busy(void)
{
	return runs_in_flight > 0;
}

/* --- exec: fork/exec an argv, capture its output, bound its time ---------- */

struct proc {
	struct dep_run	*run;
	char		*what;		/* argv[0], for messages */
	pid_t		 pid;
	int		 pidfd;		/* -1: poll waitpid on a timer */
	int		 outfd;
	struct event	*ev_out;
	struct event	*ev_exit;
	struct event	*ev_timeout;
	struct event	*ev_kill;
	char		 out[OUTPUT_MAX + 1];
	size_t		 outlen;
	size_t		 dropped;
	int		 timeout_ms;
	int		 timed_out;
};

static void
proc_free(struct proc *pr)
{
	if (pr == NULL)
		return;
	if (pr->ev_out != NULL)
		event_free(pr->ev_out);
	if (pr->ev_exit != NULL)
		event_free(pr->ev_exit);
	if (pr->ev_timeout != NULL)
		event_free(pr->ev_timeout);
	if (pr->ev_kill != NULL)
		event_free(pr->ev_kill);
	if (pr->outfd != -1)
		close(pr->outfd);
	if (pr->pidfd != -1)
		close(pr->pidfd);
	free(pr->what);
	free(pr);
}

/* Read what the pipe holds now; 0 at EOF or error. */
static int
proc_read(struct proc *pr)
{
	char	 buf[1024];
	ssize_t	 n;
	size_t	 room;

	for (;;) {
		n = read(pr->outfd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return 0;
		room = OUTPUT_MAX - pr->outlen;
		if ((size_t)n > room) {
			pr->dropped += n - room;
			n = room;
		}
		memcpy(pr->out + pr->outlen, buf, n);
		pr->outlen += n;
	}
}

static void
proc_out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc	*pr = arg;

	if (proc_read(pr) == 0)
		event_del(pr->ev_out);
}

/* The output as one line of text: trimmed, control characters as spaces. */
static void
proc_output(struct proc *pr)
{
	size_t	 i;

	while (pr->outlen > 0 && (pr->out[pr->outlen - 1] == '\n' ||
	    pr->out[pr->outlen - 1] == ' ' || pr->out[pr->outlen - 1] == '\r'))
		pr->outlen--;
	pr->out[pr->outlen] = '\0';
	for (i = 0; i < pr->outlen; i++)
		if ((unsigned char)pr->out[i] < 0x20 && pr->out[i] != '\n')
			pr->out[i] = ' ';
}

static void
proc_exited(struct proc *pr, int status)
{
	struct dep_run	*run = pr->run;
	char		 trunc[64] = "";
	const char	*sep;
	int		 ok = 0;
	char		 how[128];

	/* Whatever the child wrote before it exited; a daemonised grandchild
	 * holding the pipe open must not keep us waiting. */
	proc_read(pr);
	proc_output(pr);
	if (pr->dropped > 0)
		snprintf(trunc, sizeof(trunc), " [%zu more bytes dropped]",
		    pr->dropped);
	if (pr->timed_out)
		snprintf(how, sizeof(how), "timed out after %d ms, killed",
		    pr->timeout_ms);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		ok = 1;
		snprintf(how, sizeof(how), "exit 0");
	} else if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exit status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(how, sizeof(how), "status 0x%x", status);
	sep = pr->outlen > 0 ? ": " : "";
	run->proc = NULL;
	step_done(run, ok, "%s: %s%s%s%s", pr->what, how, sep, pr->out,
	    trunc);
	proc_free(pr);
}

static void
proc_exit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc	*pr = arg;
	int		 status;
	pid_t		 r;
	struct timeval	 tv = { 0, 20 * 1000 };

	/*
	 * After a timeout, whatever the command left in its process group
	 * goes too.  Kill the group while the leader is still a zombie:
	 * once reaped, its pid (the group's id) may be given to a stranger.
	 */
	if (pr->timed_out) {
		siginfo_t	 si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, pr->pid, &si, WEXITED | WNOHANG | WNOWAIT)
		    == 0 && si.si_pid == pr->pid)
			kill(-pr->pid, SIGKILL);
	}
	r = waitpid(pr->pid, &status, WNOHANG);
	if (r == 0) {
		if (pr->pidfd == -1)
			evtimer_add(pr->ev_exit, &tv);
		return;
	}
	if (r == -1) {
		if (errno == EINTR) {
			if (pr->pidfd == -1)
				evtimer_add(pr->ev_exit, &tv);
			return;
		}
		/* Someone else reaped it (a SIGCHLD handler doing
		 * waitpid(-1)): the status is lost. */
		pr->run->proc = NULL;
		step_done(pr->run, 0, "%s: cannot collect the exit status: %s",
		    pr->what, strerror(errno));
		proc_free(pr);
		return;
	}
	if (pr->pidfd != -1)
		event_del(pr->ev_exit);
	proc_exited(pr, status);
}

static void
proc_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc	*pr = arg;

	kill(-pr->pid, SIGKILL);
}

static void
proc_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc	*pr = arg;
	struct timeval	 tv = { KILL_GRACE_MS / 1000,
			    (KILL_GRACE_MS % 1000) * 1000 };

	pr->timed_out = 1;
	kill(-pr->pid, SIGTERM);
	evtimer_add(pr->ev_kill, &tv);
}

/* In the child: only async-signal-safe calls until execvp. */
static void __attribute__((noreturn))
proc_child(char **argv, int nullfd, int outfd)
{
	static const int	 sigs[] = { SIGPIPE, SIGCHLD, SIGHUP, SIGTERM,
				    SIGINT, SIGQUIT, SIGUSR1, SIGUSR2 };
	sigset_t		 none;
	size_t			 i;
	int			 fd;

	setpgid(0, 0);
	for (i = 0; i < nitems(sigs); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(nullfd, 0) == -1 || dup2(outfd, 1) == -1 ||
	    dup2(outfd, 2) == -1)
		_exit(126);
	/* The daemon's sockets and database stay out of the command. */
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == -1)
		for (fd = 3; fd < 1024; fd++)
			close(fd);
	execvp(argv[0], argv);
	(void)!write(2, "exec failed: ", 13);
	(void)!write(2, argv[0], strlen(argv[0]));
	(void)!write(2, ": ", 2);
	(void)!write(2, strerror(errno), strlen(strerror(errno)));
	_exit(127);
}

static int
proc_start(struct dep_run *run, char **argv, int timeout_ms)
{
	struct proc	*pr;
	struct timeval	 tv;
	int		 p[2] = { -1, -1 }, nullfd = -1;
	int		 saved;

	if ((pr = calloc(1, sizeof(*pr))) == NULL) {
		step_done(run, 0, "out of memory");
		return -1;
	}
	pr->run = run;
	pr->outfd = pr->pidfd = -1;
	pr->pid = -1;
	pr->timeout_ms = timeout_ms;
	if ((pr->what = strdup(argv[0])) == NULL)
		goto fail;
	if (pipe2(p, O_CLOEXEC) == -1 ||
	    (nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		goto fail;
	switch (pr->pid = fork()) {
	case -1:
		goto fail;
	case 0:
		proc_child(argv, nullfd, p[1]);
	}
	setpgid(pr->pid, pr->pid);	/* both sides, no race with kill(-pid) */
	close(p[1]);
	close(nullfd);
	p[1] = nullfd = -1;
	pr->outfd = p[0];
	fcntl(pr->outfd, F_SETFL, fcntl(pr->outfd, F_GETFL) | O_NONBLOCK);

	/* A pidfd tells us of the exit without racing anyone's SIGCHLD. */
	pr->pidfd = syscall(SYS_pidfd_open, pr->pid, 0);
	if (pr->pidfd != -1)
		pr->ev_exit = event_new(run->base, pr->pidfd,
		    EV_READ | EV_PERSIST, proc_exit_cb, pr);
	else
		pr->ev_exit = evtimer_new(run->base, proc_exit_cb, pr);
	pr->ev_out = event_new(run->base, pr->outfd, EV_READ | EV_PERSIST,
	    proc_out_cb, pr);
	pr->ev_timeout = evtimer_new(run->base, proc_timeout_cb, pr);
	pr->ev_kill = evtimer_new(run->base, proc_kill_cb, pr);
	if (pr->ev_exit == NULL || pr->ev_out == NULL ||
	    pr->ev_timeout == NULL || pr->ev_kill == NULL) {
		kill(-pr->pid, SIGKILL);
		waitpid(pr->pid, NULL, 0);
		errno = ENOMEM;
		goto fail;
	}
	event_add(pr->ev_out, NULL);
	if (pr->pidfd != -1)
		event_add(pr->ev_exit, NULL);
	else {
		tv.tv_sec = 0;
		tv.tv_usec = 20 * 1000;
		evtimer_add(pr->ev_exit, &tv);
	}
	event_base_update_cache_time(run->base);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(pr->ev_timeout, &tv);
	run->proc = pr;
	log_debug("dependent %s: started %s (pid %ld)",
	    run->deps[run->cur].name, argv[0], (long)pr->pid);
	return 0;
fail:
	saved = errno;
	if (p[0] != -1 && p[0] != pr->outfd)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	if (nullfd != -1)
		close(nullfd);
	proc_free(pr);
	step_done(run, 0, "%s: cannot start: %s", argv[0], strerror(saved));
	return -1;
}

/* --- verify: is the new leaf (and its intermediates) being served? -------- */

struct verify {
	struct dep_run	*run;
	struct dep	*dep;
	const char	*name;		/* SNI and the name we check, or NULL */
	SSL_CTX		*ctx;
	SSL		*ssl;
	int		 fd;
	struct addrinfo	*ai;
	struct event	*ev_io;
	struct event	*ev_retry;
	struct event	*ev_deadline;
	int		 attempts;
	char		 last[512];	/* why the last attempt failed */
};

static void	verify_attempt(evutil_socket_t, short, void *);

static void
verify_close(struct verify *v)
{
	if (v->ev_io != NULL) {
		event_free(v->ev_io);
		v->ev_io = NULL;
	}
	if (v->ssl != NULL) {
		SSL_free(v->ssl);
		v->ssl = NULL;
	}
	if (v->fd != -1) {
		close(v->fd);
		v->fd = -1;
	}
}

static void
verify_free(struct verify *v)
{
	if (v == NULL)
		return;
	verify_close(v);
	if (v->ev_retry != NULL)
		event_free(v->ev_retry);
	if (v->ev_deadline != NULL)
		event_free(v->ev_deadline);
	if (v->ai != NULL)
		freeaddrinfo(v->ai);
	SSL_CTX_free(v->ctx);
	free(v);
}

static void
verify_end(struct verify *v, int ok, const char *msg)
{
	struct dep_run	*run = v->run;

	run->vfy = NULL;
	step_done(run, ok, "%s:%s%s%s: %s (%d attempt%s)", v->dep->verify_host,
	    v->dep->verify_port, v->name != NULL ? " name " : "",
	    v->name != NULL ? v->name : "", msg, v->attempts,
	    v->attempts == 1 ? "" : "s");
	verify_free(v);
}

/* This attempt failed: try again in a moment, the old server may still be
 * answering. */
static void
verify_retry(struct verify *v)
{
	struct timeval	 tv = { 0, VERIFY_RETRY_MS * 1000 };

	verify_close(v);
	evtimer_add(v->ev_retry, &tv);
}

static void
verify_set_last(struct verify *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
verify_set_last(struct verify *v, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(v->last, sizeof(v->last), fmt, ap);
	va_end(ap);
}

static void
cert_sha256(X509 *x, char out[65])
{
	unsigned char	*der = NULL;
	int		 len;

	out[0] = '\0';
	if ((len = i2d_X509(x, &der)) > 0)
		sha256_hex(der, len, out);
	OPENSSL_free(der);
}

/* The handshake is done: compare what is served with what we committed.
 * Returns 1 match, 0 old leaf (retry), -1 wrong for good (fail now). */
static int
verify_check(struct verify *v)
{
	struct dep_run	*run = v->run;
	STACK_OF(X509)	*sk;
	X509		*leaf;
	char		 sha[65], *subj;
	size_t		 i;
	int		 j, found;

	if ((leaf = SSL_get0_peer_certificate(v->ssl)) == NULL) {
		verify_set_last(v, "the server sent no certificate");
		return 0;
	}
	cert_sha256(leaf, sha);
	if (strcasecmp(sha, run->expect_sha256) != 0) {
		subj = X509_NAME_oneline(X509_get_subject_name(leaf), NULL, 0);
		verify_set_last(v, "served leaf %s (sha256 %.16s...) is not "
		    "the new one (sha256 %.16s...)", subj != NULL ? subj : "?",
		    sha, run->expect_sha256);
		OPENSSL_free(subj);
		return 0;
	}
	sk = SSL_get_peer_cert_chain(v->ssl);
	for (i = 0; i < run->ninter; i++) {
		found = 0;
		for (j = 0; sk != NULL && j < sk_X509_num(sk); j++) {
			cert_sha256(sk_X509_value(sk, j), sha);
			if (strcasecmp(sha, run->inter[i]) == 0)
				found = 1;
		}
		if (!found) {
			verify_set_last(v, "the new leaf is served without "
			    "its intermediate %s: clients will fail with an "
			    "incomplete chain", run->inter_subject[i] != NULL ?
			    run->inter_subject[i] : run->inter[i]);
			return -1;
		}
	}
	return 1;
}

static void
ssl_reason(struct verify *v, const char *what)
{
	unsigned long	 e = ERR_get_error();
	char		 buf[256];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		verify_set_last(v, "%s: %s", what, buf);
	} else
		verify_set_last(v, "%s: %s", what, errno != 0 ?
		    strerror(errno) : "connection closed");
	ERR_clear_error();
}

static void
verify_io(evutil_socket_t fd, short what, void *arg)
{
	struct verify	*v = arg;
	socklen_t	 len;
	int		 r, e = 0;
	short		 want;

	if (v->ssl == NULL) {
		/* The non-blocking connect finished, one way or the other. */
		len = sizeof(e);
		if (getsockopt(v->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
			e = errno;
		if (e != 0) {
			verify_set_last(v, "connect: %s", strerror(e));
			verify_retry(v);
			return;
		}
		if ((v->ssl = SSL_new(v->ctx)) == NULL ||
		    SSL_set_fd(v->ssl, v->fd) != 1) {
			ssl_reason(v, "SSL_new");
			verify_retry(v);
			return;
		}
		if (v->name != NULL)
			SSL_set_tlsext_host_name(v->ssl, v->name);
		SSL_set_connect_state(v->ssl);
	}
	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(v->ssl);
	if (r == 1) {
		switch (verify_check(v)) {
		case 1:
			verify_end(v, 1, "the new leaf is served");
			return;
		case -1:
			verify_end(v, 0, v->last);
			return;
		default:
			verify_retry(v);
			return;
		}
	}
	switch (SSL_get_error(v->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		want = EV_READ;
		break;
	case SSL_ERROR_WANT_WRITE:
		want = EV_WRITE;
		break;
	default:
		ssl_reason(v, "TLS handshake");
		verify_retry(v);
		return;
	}
	event_free(v->ev_io);
	v->ev_io = event_new(v->run->base, v->fd, want, verify_io, v);
	if (v->ev_io == NULL || event_add(v->ev_io, NULL) == -1) {
		verify_end(v, 0, "out of memory");
		return;
	}
}

static void
verify_attempt(evutil_socket_t unused, short what, void *arg)
{
	struct verify	*v = arg;

	v->attempts++;
	v->fd = socket(v->ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (v->fd == -1) {
		verify_set_last(v, "socket: %s", strerror(errno));
		verify_retry(v);
		return;
	}
	if (connect(v->fd, v->ai->ai_addr, v->ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		verify_set_last(v, "connect: %s", strerror(errno));
		verify_retry(v);
		return;
	}
	v->ev_io = event_new(v->run->base, v->fd, EV_WRITE, verify_io, v);
	if (v->ev_io == NULL || event_add(v->ev_io, NULL) == -1)
		verify_end(v, 0, "out of memory");
}

static void
verify_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct verify	*v = arg;
	char		 msg[sizeof(v->last) + 64];

	snprintf(msg, sizeof(msg), "not verified within %d ms: %s",
	    v->dep->verify_timeout_ms, v->last[0] != '\0' ? v->last :
	    "no TLS handshake completed");
	verify_end(v, 0, msg);
}

static int
verify_start(struct dep_run *run, struct dep *d)
{
	struct verify	*v;
	struct addrinfo	 hints;
	struct timeval	 tv;
	int		 r;
	unsigned char	 buf[sizeof(struct in6_addr)];

	if ((v = calloc(1, sizeof(*v))) == NULL) {
		step_done(run, 0, "out of memory");
		return -1;
	}
	v->run = run;
	v->dep = d;
	v->fd = -1;
	v->name = d->verify_name != NULL ? d->verify_name : run->domain;
	/* RFC 6066: no IP addresses in SNI. */
	if (v->name != NULL && (inet_pton(AF_INET, v->name, buf) == 1 ||
	    inet_pton(AF_INET6, v->name, buf) == 1))
		v->name = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	/* Verify targets are local in practice: a blocking lookup is brief. */
	if ((r = getaddrinfo(d->verify_host, d->verify_port, &hints,
	    &v->ai)) != 0) {
		v->ai = NULL;
		verify_set_last(v, "cannot resolve: %s", gai_strerror(r));
		goto fail;
	}
	/* We pin the leaf by its hash, so the peer is not verified by a CA;
	 * weak peers must still be seen, hence security level 0. */
	if ((v->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ssl_reason(v, "SSL_CTX_new");
		goto fail;
	}
	SSL_CTX_set_verify(v->ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_security_level(v->ctx, 0);
	SSL_CTX_set_min_proto_version(v->ctx, TLS1_VERSION);
	SSL_CTX_set_session_cache_mode(v->ctx, SSL_SESS_CACHE_OFF);
	v->ev_retry = evtimer_new(run->base, verify_attempt, v);
	v->ev_deadline = evtimer_new(run->base, verify_deadline, v);
	if (v->ev_retry == NULL || v->ev_deadline == NULL) {
		verify_set_last(v, "out of memory");
		goto fail;
	}
	/* Timers count from the loop's cached time: make it now. */
	event_base_update_cache_time(run->base);
	tv.tv_sec = d->verify_timeout_ms / 1000;
	tv.tv_usec = (d->verify_timeout_ms % 1000) * 1000;
	evtimer_add(v->ev_deadline, &tv);
	run->vfy = v;
	verify_attempt(-1, 0, v);
	return 0;
fail:
	verify_end(v, 0, v->last);
	return -1;
}

/*
 * proc.c: run a command on the event loop (see proc.h): fork and exec an
 * argv, capture its output, bound its time, reap it without racing anyone's
 * SIGCHLD (a pidfd where the kernel has one).
 */
#include "config.h"

#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "proc.h"
#include "util.h"

#define REAP_POLL_MS	20	/* without a pidfd: poll waitpid */

struct proc {
	char		*what;		/* argv[0], for messages */
	pid_t		 pid;
	int		 pidfd;		/* -1: poll waitpid on a timer */
	int		 outfd;
	struct event	*ev_out;
	struct event	*ev_exit;
	struct event	*ev_timeout;
	struct event	*ev_kill;
	char		 out[PROC_OUTPUT_MAX + 1];
	size_t		 outlen;
	size_t		 dropped;
	int		 timeout_ms;
	int		 timed_out;
	proc_done_fn	 done;
	void		*arg;
};

static void
proc_free(struct proc *pr)
{
	if (pr == NULL)
		return;
	loop_event_free(pr->ev_out);
	loop_event_free(pr->ev_exit);
	loop_event_free(pr->ev_timeout);
	loop_event_free(pr->ev_kill);
	if (pr->outfd != -1)
		close(pr->outfd);
	if (pr->pidfd != -1)
		close(pr->pidfd);
	free(pr->what);
	free(pr);
}

char **
proc_env(const char *domain, int64_t generation, const char *dir)
{
	const char	*lang = getenv("LANG");
	char		**env;
	size_t		 n = 0;

	env = xcalloc(6, sizeof(*env));
	env[n++] = xstrdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	xasprintf(&env[n++], "LANG=%s", lang != NULL && *lang != '\0' &&
	    strchr(lang, '\n') == NULL ? lang : "C");
	if (domain != NULL) {
		xasprintf(&env[n++], "CERTD_DOMAIN=%s", domain);
		xasprintf(&env[n++], "CERTD_GENERATION=%lld",
		    (long long)generation);
		if (dir != NULL)
			xasprintf(&env[n++], "CERTD_DIR=%s", dir);
	}
	return env;
}

void
proc_env_free(char **env)
{
	size_t	 i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
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
		room = PROC_OUTPUT_MAX - pr->outlen;
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

/*
 * A command may print a key (a hook that cats bundle.pem): every PEM block
 * whose label names a private key, up to its END line or the end of what
 * was kept, becomes "[private key removed]" before anything logs, stores
 * or shows the output.
 */
static void
redact_keys(char *out, size_t *lenp)
{
	static const char	 gone[] = "[private key removed]";
	char			*b, *lab, *eol, *end;
	size_t			 len = *lenp, cut;

	out[len] = '\0';
	b = out;
	while ((b = strstr(b, "-----BEGIN ")) != NULL) {
		lab = b + 11;
		eol = strstr(lab, "-----");
		if (eol == NULL || memmem(lab, eol - lab, "PRIVATE KEY", 11) ==
		    NULL) {
			b = lab;
			continue;
		}
		if ((end = strstr(eol + 5, "-----END ")) != NULL &&
		    (end = strstr(end + 9, "-----")) != NULL)
			end += 5;
		else
			end = out + len;
		/* The block is longer than what replaces it. */
		cut = end - b;
		memcpy(b, gone, sizeof(gone) - 1);
		memmove(b + sizeof(gone) - 1, end, out + len - end + 1);
		explicit_bzero(out + len + 1 - (cut - (sizeof(gone) - 1)),
		    cut - (sizeof(gone) - 1));
		len -= cut - (sizeof(gone) - 1);
		b += sizeof(gone) - 1;
	}
	*lenp = len;
}

/* The output as one line of text: trimmed, keys removed, control
 * characters as spaces. */
static void
proc_output(struct proc *pr)
{
	size_t	 i;

	redact_keys(pr->out, &pr->outlen);

	while (pr->outlen > 0 && (pr->out[pr->outlen - 1] == '\n' ||
	    pr->out[pr->outlen - 1] == ' ' || pr->out[pr->outlen - 1] == '\r'))
		pr->outlen--;
	pr->out[pr->outlen] = '\0';
	for (i = 0; i < pr->outlen; i++)
		if ((unsigned char)pr->out[i] < 0x20)
			pr->out[i] = ' ';
}

static void
proc_exited(struct proc *pr, int status)
{
	char	 how[128], *line;
	size_t	 len, room, keep, dropped;
	int	 ok = 0;

	/* Whatever the child wrote before it exited; a daemonised grandchild
	 * holding the pipe open must not keep us waiting. */
	proc_read(pr);
	proc_output(pr);
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
	/*
	 * One line of at most PROC_SUMMARY_MAX bytes: the start of the
	 * output, and what was left out counted at the end, where a cut
	 * message cannot lose it.
	 */
	xasprintf(&line, "%s: %s%s", pr->what, how, pr->outlen > 0 ? ": " :
	    "");
	len = strlen(line);
	room = PROC_SUMMARY_MAX - 48 > len ? PROC_SUMMARY_MAX - 48 - len : 0;
	keep = pr->outlen < room ? pr->outlen : room;
	dropped = pr->dropped + (pr->outlen - keep);
	line = xreallocarray(line, len + keep + 64, 1);
	memcpy(line + len, pr->out, keep);
	line[len + keep] = '\0';
	if (dropped > 0)
		snprintf(line + len + keep, 64, " [%zu more bytes dropped]",
		    dropped);
	pr->done(pr->arg, ok, line);
	free(line);
	proc_free(pr);
}

static void
proc_exit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc	*pr = arg;
	siginfo_t	 si;
	int		 status;
	pid_t		 r;

	/*
	 * After a timeout, whatever the command left in its process group
	 * goes too.  Kill the group while the leader is still a zombie:
	 * once reaped, its pid (the group's id) may be given to a stranger.
	 */
	if (pr->timed_out) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, pr->pid, &si, WEXITED | WNOHANG | WNOWAIT)
		    == 0 && si.si_pid == pr->pid)
			kill(-pr->pid, SIGKILL);
	}
	r = waitpid(pr->pid, &status, WNOHANG);
	if (r == 0 || (r == -1 && errno == EINTR)) {
		if (pr->pidfd == -1)
			loop_timer_add(pr->ev_exit, REAP_POLL_MS);
		return;
	}
	if (r == -1) {
		char	*line;

		/* Someone else reaped it (a SIGCHLD handler doing
		 * waitpid(-1)): the status is lost. */
		xasprintf(&line, "%s: cannot collect the exit status: %s",
		    pr->what, strerror(errno));
		pr->done(pr->arg, 0, line);
		free(line);
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

	pr->timed_out = 1;
	kill(-pr->pid, SIGTERM);
	loop_timer_add(pr->ev_kill, PROC_KILL_GRACE_MS);
}

/* In the child: only async-signal-safe calls until execve. */
static void __attribute__((noreturn))
proc_child(char *const *argv, char *const *envp, int nullfd, int outfd)
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
	execve(argv[0], argv, envp);
	(void)!write(2, "exec failed: ", 13);
	(void)!write(2, argv[0], strlen(argv[0]));
	(void)!write(2, ": ", 2);
	(void)!write(2, strerror(errno), strlen(strerror(errno)));
	_exit(127);
}

struct proc *
proc_start(struct event_base *base, char *const *argv, char *const *envp,
    int timeout_ms, proc_done_fn done, void *arg, char *err, size_t errlen)
{
	struct proc	*pr;
	int		 p[2] = { -1, -1 }, nullfd = -1;

	pr = xcalloc(1, sizeof(*pr));
	pr->outfd = pr->pidfd = -1;
	pr->pid = -1;
	pr->timeout_ms = timeout_ms;
	pr->done = done;
	pr->arg = arg;
	pr->what = xstrdup(argv[0]);
	if (pipe2(p, O_CLOEXEC) == -1 ||
	    (nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		goto fail;
	switch (pr->pid = fork()) {
	case -1:
		goto fail;
	case 0:
		proc_child(argv, envp, nullfd, p[1]);
	}
	setpgid(pr->pid, pr->pid);	/* both sides, no race with kill(-pid) */
	close(p[1]);
	close(nullfd);
	pr->outfd = p[0];
	fcntl(pr->outfd, F_SETFL, fcntl(pr->outfd, F_GETFL) | O_NONBLOCK);

	/* A pidfd tells us of the exit without racing anyone's SIGCHLD. */
	pr->pidfd = syscall(SYS_pidfd_open, pr->pid, 0);
	if (pr->pidfd != -1)
		pr->ev_exit = event_new(base, pr->pidfd, EV_READ | EV_PERSIST,
		    proc_exit_cb, pr);
	else
		pr->ev_exit = evtimer_new(base, proc_exit_cb, pr);
	pr->ev_out = event_new(base, pr->outfd, EV_READ | EV_PERSIST,
	    proc_out_cb, pr);
	pr->ev_timeout = evtimer_new(base, proc_timeout_cb, pr);
	pr->ev_kill = evtimer_new(base, proc_kill_cb, pr);
	if (pr->ev_exit == NULL || pr->ev_out == NULL ||
	    pr->ev_timeout == NULL || pr->ev_kill == NULL)
		fatalx("cannot create events");
	event_add(pr->ev_out, NULL);
	if (pr->pidfd != -1)
		event_add(pr->ev_exit, NULL);
	else
		loop_timer_add(pr->ev_exit, REAP_POLL_MS);
	/* Timers count from the loop's cached time: make it now. */
	event_base_update_cache_time(base);
	loop_timer_add(pr->ev_timeout, timeout_ms);
	log_debug("started %s (pid %ld)", argv[0], (long)pr->pid);
	return pr;
fail:
	snprintf(err, errlen, "%s: cannot start: %s", argv[0],
	    strerror(errno));
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	if (nullfd != -1)
		close(nullfd);
	proc_free(pr);
	return NULL;
}

void
proc_abort(struct proc *pr)
{
	if (pr == NULL)
		return;
	kill(-pr->pid, SIGKILL);
	waitpid(pr->pid, NULL, 0);
	proc_free(pr);
}

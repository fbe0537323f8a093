/*
 * haproxy.c: a new certificate for a running HAProxy over its runtime API
 * (see haproxy.h), one command a connection, on the event loop.  Measured
 * with HAProxy 2.6 (Debian 12), and the reason for each step:
 * - one certificate transaction is open at a time, process-wide, and a
 *   `set` while another path's is open silently updates that one: so abort
 *   a leftover of ours first, and refuse to touch another's;
 * - `set` accepts a key that does not match; `commit` refuses it and
 *   leaves the transaction open: so abort it then;
 * - the path must be the crt path exactly as configured (not the file a
 *   symlink leads to), and answers name it, so they are compared exactly.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "haproxy.h"
#include "log.h"
#include "loop.h"
#include "util.h"

enum hap_step { HAP_ABORT_STALE, HAP_SET, HAP_COMMIT, HAP_ABORT_OURS };
static const char *const hap_verbs[] = { "abort", "set", "commit", "abort" };

struct haproxy {
	struct event_base	*base;
	char			*sock, *crt;
	char			*setcmd;	/* holds the key */
	size_t			 setlen;
	char			*cmd;		/* the step's command */
	size_t			 cmdlen, sent;
	enum hap_step		 step;
	int			 fd;
	int			 timeout_ms;
	struct event		*ev_io, *ev_deadline, *ev_start;
	char			 answer[HAPROXY_ANSWER_MAX + 1];
	size_t			 anslen;
	char			 failure[768];	/* why, before the abort */
	haproxy_done_fn		 done;
	void			*arg;
};

static void	hap_io(evutil_socket_t, short, void *);

size_t
haproxy_payload_strip(char *s, size_t len)
{
	size_t	 i, o = 0, line = 0;
	int	 blank = 1;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r')
			continue;
		s[o++] = s[i];
		if (s[i] == '\n') {
			if (blank)
				o = line;	/* drop the blank line */
			line = o;
			blank = 1;
		} else if (s[i] != ' ' && s[i] != '\t')
			blank = 0;
	}
	if (blank)
		o = line;		/* trailing blanks */
	else
		s[o++] = '\n';		/* a last line without one */
	if (o < len)
		explicit_bzero(s + o, len - o);
	return o;
}

/*
 * Could this answer line hold part of the payload (HAProxy echoes what it
 * cannot parse)?  Armour, or any aligned 16-byte piece of a payload line:
 * an echo of 31 bytes or more of a line contains one.
 */
static int
echoes_payload(const char *s, size_t n, const char *payload)
{
	const char	*p, *nl;
	char		 line[2048];
	size_t		 len, off;

	if (memmem(s, n, "-----", 5) != NULL)
		return 1;
	if (n >= sizeof(line))
		return 1;	/* no answer of HAProxy's is this long */
	memcpy(line, s, n);
	line[n] = '\0';
	for (p = payload; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		len = nl - p;
		for (off = 0; off + 16 <= len; off += 16)
			if (memmem(line, n, p + off, 16) != NULL)
				return 1;
	}
	return 0;
}

void
haproxy_answer_line(const char *a, const char *payload, char *out,
    size_t outlen)
{
	const char	*nl;
	size_t		 n, o = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (; *a != '\0'; a = *nl != '\0' ? nl + 1 : nl) {
		if ((nl = strchr(a, '\n')) == NULL)
			nl = a + strlen(a);
		n = nl - a;
		if (n == 0)
			continue;
		if (echoes_payload(a, n, payload)) {
			a = "[...]";
			n = 5;
		}
		msgprintf(out + o, outlen - o, "%s%.*s", o > 0 ? " / " : "",
		    (int)n, a);
		o = strlen(out);
		if (o + 1 >= outlen)
			break;
	}
	if (o == 0)
		msgprintf(out, outlen, "(no answer)");
}

static void
hap_close(struct haproxy *h)
{
	loop_event_free(h->ev_io);
	h->ev_io = NULL;
	if (h->fd != -1) {
		close(h->fd);
		h->fd = -1;
	}
}

void
haproxy_abort(struct haproxy *h)
{
	if (h == NULL)
		return;
	hap_close(h);
	loop_event_free(h->ev_deadline);
	loop_event_free(h->ev_start);
	if (h->cmd != h->setcmd)
		free(h->cmd);
	if (h->setcmd != NULL)
		freezero(h->setcmd, h->setlen);
	free(h->sock);
	free(h->crt);
	free(h);
}

static void
hap_end(struct haproxy *h, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
hap_end(struct haproxy *h, int ok, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	h->done(h->arg, ok, msg);
	haproxy_abort(h);
}

/* Send the command of h->step on a new connection. */
static void
hap_send(struct haproxy *h)
{
	struct sockaddr_un	 sun;

	if (h->cmd != h->setcmd)
		free(h->cmd);
	if (h->step == HAP_SET) {
		h->cmd = h->setcmd;
		h->cmdlen = h->setlen;
	} else
		h->cmdlen = xasprintf(&h->cmd, "%s ssl cert %s\n",
		    hap_verbs[h->step], h->crt);
	h->sent = h->anslen = 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, h->sock, sizeof(sun.sun_path));
	h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd == -1 || connect(h->fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1) {
		/* AF_UNIX connects at once, or fails (EAGAIN: backlog). */
		hap_end(h, 0, "cannot connect to HAProxy's admin socket %s: %s",
		    h->sock, strerror(errno));
		return;
	}
	if ((h->ev_io = event_new(h->base, h->fd, EV_WRITE | EV_PERSIST,
	    hap_io, h)) == NULL)
		fatalx("cannot create an event");
	event_add(h->ev_io, NULL);
}

/* The failure is h->failure: abort our transaction, then report. */
static void
hap_fail_abort(struct haproxy *h)
{
	h->step = HAP_ABORT_OURS;
	hap_send(h);
}

/* A whole answer arrived: judge it and move on. */
static void
hap_answer(struct haproxy *h)
{
	char	 line[600], want[PATH_MAX + 64];

	haproxy_answer_line(h->answer, strchr(h->setcmd, '\n') + 1, line,
	    sizeof(line));
	switch (h->step) {
	case HAP_ABORT_STALE:
		if (strncmp(h->answer, "No ongoing transaction!", 23) != 0 &&
		    strncmp(h->answer, "Transaction aborted for certificate",
		    35) != 0) {
			hap_end(h, 0, "HAProxy has another certificate "
			    "transaction open, not touched: abort ssl cert "
			    "%s: %s", h->crt, line);
			return;
		}
		h->step = HAP_SET;
		hap_send(h);
		return;
	case HAP_SET:
		snprintf(want, sizeof(want), "Transaction created for "
		    "certificate %s!\n", h->crt);
		if (strncmp(h->answer, want, strlen(want)) != 0) {
			msgprintf(h->failure, sizeof(h->failure), "set ssl "
			    "cert %s: %s", h->crt, line);
			hap_fail_abort(h);
			return;
		}
		h->step = HAP_COMMIT;
		hap_send(h);
		return;
	case HAP_COMMIT:
		if (strstr(h->answer, "\nSuccess!\n") == NULL) {
			msgprintf(h->failure, sizeof(h->failure), "commit ssl "
			    "cert %s: %s", h->crt, line);
			hap_fail_abort(h);
			return;
		}
		hap_end(h, 1, "set ssl cert + commit ssl cert over %s, no "
		    "reload: %s", h->sock, line);
		return;
	case HAP_ABORT_OURS:
		if (strncmp(h->answer, "Transaction aborted", 19) == 0)
			hap_end(h, 0, "%s (transaction aborted; HAProxy "
			    "serves what it did before)", h->failure);
		else
			hap_end(h, 0, "%s; abort ssl cert: %s", h->failure,
			    line);
		return;
	}
}

static void
hap_io(evutil_socket_t fd, short what, void *arg)
{
	struct haproxy	*h = arg;
	char		 drop[1024];
	ssize_t		 n;

	if (h->sent < h->cmdlen) {
		/* MSG_NOSIGNAL: HAProxy may close before reading it all. */
		n = send(h->fd, h->cmd + h->sent, h->cmdlen - h->sent,
		    MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1) {
			hap_end(h, 0, "HAProxy's admin socket %s: send: %s",
			    h->sock, strerror(errno));
			return;
		}
		if ((h->sent += n) < h->cmdlen)
			return;
		/* All sent: HAProxy answers, then closes. */
		shutdown(h->fd, SHUT_WR);
		event_free(h->ev_io);
		if ((h->ev_io = event_new(h->base, h->fd, EV_READ | EV_PERSIST,
		    hap_io, h)) == NULL)
			fatalx("cannot create an event");
		event_add(h->ev_io, NULL);
		return;
	}
	if (h->anslen < HAPROXY_ANSWER_MAX)
		n = read(h->fd, h->answer + h->anslen, HAPROXY_ANSWER_MAX -
		    h->anslen);
	else
		n = read(h->fd, drop, sizeof(drop));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		hap_end(h, 0, "HAProxy's admin socket %s: read: %s", h->sock,
		    strerror(errno));
		return;
	}
	if (n > 0) {
		if (h->anslen < HAPROXY_ANSWER_MAX)
			h->anslen += n;
		return;
	}
	h->answer[h->anslen] = '\0';
	hap_close(h);
	hap_answer(h);
}

/* The first step starts from the loop: done is never called from within
 * haproxy_swap. */
static void
hap_start(evutil_socket_t fd, short what, void *arg)
{
	hap_send(arg);
}

static void
hap_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct haproxy	*h = arg;

	hap_end(h, 0, "HAProxy's admin socket %s: no answer to `%s ssl cert` "
	    "within %d ms", h->sock, hap_verbs[h->step], h->timeout_ms);
}

/* The set command: "set ssl cert CRT <<", the payload, an empty line. */
static int
hap_setcmd(struct haproxy *h, char *err, size_t errlen)
{
	char	*buf;
	size_t	 len;

	if (read_file(h->crt, HAPROXY_BUNDLE_MAX, &buf, &len) == -1) {
		snprintf(err, errlen, "cannot read %s: %s", h->crt,
		    strerror(errno));
		return -1;
	}
	len = haproxy_payload_strip(buf, len);
	if (len == 0) {
		freezero(buf, HAPROXY_BUNDLE_MAX + 1);
		snprintf(err, errlen, "%s is empty", h->crt);
		return -1;
	}
	h->setlen = strlen(h->crt) + len + 32;
	h->setcmd = xmalloc(h->setlen);
	snprintf(h->setcmd, h->setlen, "set ssl cert %s <<\n%.*s\n", h->crt,
	    (int)len, buf);
	h->setlen = strlen(h->setcmd);
	freezero(buf, HAPROXY_BUNDLE_MAX + 1);
	return 0;
}

struct haproxy *
haproxy_swap(struct event_base *base, const char *sock, const char *crt,
    int timeout_ms, haproxy_done_fn done, void *arg, char *err,
    size_t errlen)
{
	struct haproxy	*h;

	if (strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "%s: path too long for a socket", sock);
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	h->base = base;
	h->fd = -1;
	h->sock = xstrdup(sock);
	h->crt = xstrdup(crt);
	h->timeout_ms = timeout_ms;
	h->done = done;
	h->arg = arg;
	if (hap_setcmd(h, err, errlen) == -1) {
		haproxy_abort(h);
		return NULL;
	}
	h->ev_deadline = evtimer_new(base, hap_deadline, h);
	h->ev_start = evtimer_new(base, hap_start, h);
	if (h->ev_deadline == NULL || h->ev_start == NULL)
		fatalx("cannot create an event");
	event_base_update_cache_time(base);
	loop_timer_add(h->ev_deadline, timeout_ms);
	h->step = HAP_ABORT_STALE;
	event_active(h->ev_start, EV_TIMEOUT, 0);
	return h;
}

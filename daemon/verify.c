/*
 * verify.c: is the new leaf (and its intermediates) being served?  One
 * non-blocking TLS handshake after another on the event loop, until
 * `count` consecutive ones show the new chain or the deadline passes.  The
 * leaf is pinned by its hash, so the peer is not verified against a CA,
 * and weak peers must still be seen: security level 0.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cert.h"
#include "log.h"
#include "loop.h"
#include "util.h"
#include "verify.h"

/*
 * The pause before each next handshake, after a failure and after a
 * success alike.  A graceful Apache serves the new leaf after ~80 or
 * ~1040 ms.  nginx's old workers keep accepting (and hand out the old leaf
 * between runs of the new one) until its master has slept 100 ms after
 * starting the new ones: back-to-back handshakes saw 15 new leaves in a
 * row and then an old one.  Spaced 100 ms, the default 3 consecutive
 * successes span 200 ms, past that window.
 */
#define VERIFY_GAP_MS	100

struct verify {
	struct event_base *base;
	char		*host, *port, *name;
	int		 timeout_ms;
	int		 count;		/* consecutive successes wanted */
	int		 seen;		/* consecutive successes so far */
	int		 relapses;	/* old leaf again after the new one */
	int64_t		 started;
	char		 leaf[65];
	size_t		 ninter;
	char		 inter[CHAIN_MAX][65];
	char		*inter_subject[CHAIN_MAX];
	SSL_CTX		*ctx;
	SSL		*ssl;
	int		 fd;
	struct addrinfo	*ai;
	struct event	*ev_io;
	struct event	*ev_retry;
	struct event	*ev_deadline;
	int		 attempts;
	int		 unresolved;	/* the deadline ends it at once */
	char		 last[512];	/* why the last attempt failed */
	verify_done_fn	 done;
	void		*arg;
};

static void	verify_attempt(evutil_socket_t, short, void *);

static void
verify_close(struct verify *v)
{
	loop_event_free(v->ev_io);
	v->ev_io = NULL;
	if (v->ssl != NULL) {
		SSL_free(v->ssl);
		v->ssl = NULL;
	}
	if (v->fd != -1) {
		close(v->fd);
		v->fd = -1;
	}
}

void
verify_abort(struct verify *v)
{
	size_t	 i;

	if (v == NULL)
		return;
	verify_close(v);
	loop_event_free(v->ev_retry);
	loop_event_free(v->ev_deadline);
	if (v->ai != NULL)
		freeaddrinfo(v->ai);
	SSL_CTX_free(v->ctx);
	for (i = 0; i < v->ninter; i++)
		free(v->inter_subject[i]);
	free(v->host);
	free(v->port);
	free(v->name);
	free(v);
}

static void
verify_end(struct verify *v, int ok, const char *msg)
{
	char	*line;

	xasprintf(&line, "%s:%s%s%s: %s (%d attempt%s, %lld ms)", v->host,
	    v->port, v->name != NULL ? " name " : "", v->name != NULL ?
	    v->name : "", msg, v->attempts, v->attempts == 1 ? "" : "s",
	    (long long)(now_ms() - v->started));
	v->done(v->arg, ok, line);
	free(line);
	verify_abort(v);
}

/* The next handshake, in a moment: after a failure the old server may
 * still be answering; after a success, an old worker may still be. */
static void
verify_again(struct verify *v)
{
	verify_close(v);
	loop_timer_add(v->ev_retry, VERIFY_GAP_MS);
}

/* This attempt failed (v->last says why): the count starts over. */
static void
verify_retry(struct verify *v)
{
	if (v->seen > 0) {
		v->relapses++;
		v->seen = 0;
	}
	verify_again(v);
}

/* This handshake showed the new chain: done once `count` in a row did. */
static void
verify_success(struct verify *v)
{
	char	 msg[128];

	if (++v->seen < v->count) {
		msgprintf(v->last, sizeof(v->last), "the new leaf was served "
		    "on %d of %d consecutive connections", v->seen, v->count);
		verify_again(v);
		return;
	}
	if (v->count == 1)
		snprintf(msg, sizeof(msg), "the new leaf is served");
	else
		snprintf(msg, sizeof(msg), "the new leaf is served on %d "
		    "consecutive connections", v->count);
	if (v->relapses > 0)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "; "
		    "the old one came back %d time%s before", v->relapses,
		    v->relapses == 1 ? "" : "s");
	verify_end(v, 1, msg);
}

/* The handshake is done: compare what is served with what we committed.
 * Returns 1 match, 0 old leaf (retry), -1 wrong for good (fail now). */
static int
verify_check(struct verify *v)
{
	STACK_OF(X509)	*sk;
	X509		*leaf;
	char		 sha[65], *subj;
	size_t		 i;
	int		 j, found;

	if ((leaf = SSL_get0_peer_certificate(v->ssl)) == NULL) {
		msgprintf(v->last, sizeof(v->last), "the server sent no certificate");
		return 0;
	}
	cert_sha256(leaf, sha);
	if (strcasecmp(sha, v->leaf) != 0) {
		subj = cert_subject_or(leaf);
		msgprintf(v->last, sizeof(v->last), "served leaf %s (sha256 %.16s...) is not "
		    "the new one (sha256 %.16s...)", subj, sha, v->leaf);
		free(subj);
		return 0;
	}
	sk = SSL_get_peer_cert_chain(v->ssl);
	for (i = 0; i < v->ninter; i++) {
		found = 0;
		for (j = 0; sk != NULL && j < sk_X509_num(sk); j++) {
			cert_sha256(sk_X509_value(sk, j), sha);
			if (strcasecmp(sha, v->inter[i]) == 0)
				found = 1;
		}
		if (!found) {
			msgprintf(v->last, sizeof(v->last), "the new leaf is served without "
			    "its intermediate %s: clients will fail with an "
			    "incomplete chain", v->inter_subject[i]);
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
		msgprintf(v->last, sizeof(v->last), "%s: %s", what, buf);
	} else
		msgprintf(v->last, sizeof(v->last), "%s: %s", what, errno != 0 ?
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
			msgprintf(v->last, sizeof(v->last), "connect: %s", strerror(e));
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
			verify_success(v);
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
	if ((v->ev_io = event_new(v->base, v->fd, want, verify_io, v)) == NULL)
		fatalx("cannot create an event");
	event_add(v->ev_io, NULL);
}

static void
verify_attempt(evutil_socket_t unused, short what, void *arg)
{
	struct verify	*v = arg;

	v->attempts++;
	v->fd = socket(v->ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (v->fd == -1) {
		msgprintf(v->last, sizeof(v->last), "socket: %s", strerror(errno));
		verify_retry(v);
		return;
	}
	if (connect(v->fd, v->ai->ai_addr, v->ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		msgprintf(v->last, sizeof(v->last), "connect: %s", strerror(errno));
		verify_retry(v);
		return;
	}
	if ((v->ev_io = event_new(v->base, v->fd, EV_WRITE, verify_io,
	    v)) == NULL)
		fatalx("cannot create an event");
	event_add(v->ev_io, NULL);
}

static void
verify_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct verify	*v = arg;
	char		 msg[sizeof(v->last) + 128];

	if (v->unresolved) {
		verify_end(v, 0, v->last);
		return;
	}
	snprintf(msg, sizeof(msg), "not verified within %d ms: %s",
	    v->timeout_ms, v->last[0] != '\0' ? v->last :
	    "no TLS handshake completed");
	if (v->relapses > 0)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "; the "
		    "old leaf came back %d time%s after the new one",
		    v->relapses, v->relapses == 1 ? "" : "s");
	verify_end(v, 0, msg);
}

struct verify *
verify_start(struct event_base *base, const struct verify_target *t,
    verify_done_fn done, void *arg, char *err, size_t errlen)
{
	struct verify	*v;
	struct addrinfo	 hints;
	unsigned char	 buf[sizeof(struct in6_addr)];
	size_t		 i;
	int		 r;

	v = xcalloc(1, sizeof(*v));
	v->base = base;
	v->fd = -1;
	v->done = done;
	v->arg = arg;
	v->host = xstrdup(t->host);
	v->port = xstrdup(t->port);
	v->timeout_ms = t->timeout_ms;
	v->count = t->count > 0 ? t->count : 1;
	v->started = now_ms();
	strlcpy(v->leaf, t->leaf_sha256, sizeof(v->leaf));
	for (i = 0; i < t->ninter && i < CHAIN_MAX; i++) {
		strlcpy(v->inter[i], t->inter_sha256[i], sizeof(v->inter[i]));
		v->inter_subject[i] = xstrdup(t->inter_subject[i] != NULL ?
		    t->inter_subject[i] : t->inter_sha256[i]);
	}
	v->ninter = i;
	/* RFC 6066: no IP addresses in SNI. */
	if (t->name != NULL && inet_pton(AF_INET, t->name, buf) != 1 &&
	    inet_pton(AF_INET6, t->name, buf) != 1)
		v->name = xstrdup(t->name);
	if ((v->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new failed");
		verify_abort(v);
		return NULL;
	}
	SSL_CTX_set_verify(v->ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_security_level(v->ctx, 0);
	SSL_CTX_set_min_proto_version(v->ctx, TLS1_VERSION);
	SSL_CTX_set_session_cache_mode(v->ctx, SSL_SESS_CACHE_OFF);
	v->ev_retry = evtimer_new(base, verify_attempt, v);
	v->ev_deadline = evtimer_new(base, verify_deadline, v);
	if (v->ev_retry == NULL || v->ev_deadline == NULL)
		fatalx("cannot create events");
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	/* Verify targets are local in practice: a blocking lookup is brief. */
	if ((r = getaddrinfo(v->host, v->port, &hints, &v->ai)) != 0) {
		v->ai = NULL;
		msgprintf(v->last, sizeof(v->last), "cannot resolve: %s", gai_strerror(r));
		v->unresolved = 1;
	}
	/* Timers count from the loop's cached time: make it now.  Even a
	 * failure is reported from the loop, never from within this call. */
	event_base_update_cache_time(base);
	loop_timer_add(v->ev_deadline, v->unresolved ? 0 : v->timeout_ms);
	if (!v->unresolved)
		loop_timer_add(v->ev_retry, 0);
	return v;
}

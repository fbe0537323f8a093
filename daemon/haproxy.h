/*
 * haproxy.h: give a running HAProxy (2.6+) a new certificate without a
 * reload, over its runtime API (the admin socket): `set ssl cert` with the
 * bundle file's PEM (certificate, chain, key) as payload, then `commit ssl
 * cert`, each answer checked.  HAProxy keeps such a change in memory only;
 * the file it read at start is certd's (current/bundle.pem or a publish
 * link), so a restart loads the same chain.
 */
#ifndef CERTD_HAPROXY_H
#define CERTD_HAPROXY_H

#include <stddef.h>

#include <event2/event.h>

#define HAPROXY_ANSWER_MAX	16384	/* of one answer, the rest dropped */
#define HAPROXY_BUNDLE_MAX	(2 * 1024 * 1024)

struct haproxy;

/* Called once from the event loop: ok, and one line saying what HAProxy
 * answered (never any of the payload). */
typedef void (*haproxy_done_fn)(void *arg, int ok, const char *message);

/*
 * Send the file at crt (read now, following links) as the new contents of
 * the certificate HAProxy knows as crt, over the admin socket at sock, all
 * within timeout_ms.  NULL if it cannot start (err says why; done is not
 * called).
 */
struct haproxy	*haproxy_swap(struct event_base *, const char *sock,
		    const char *crt, int timeout_ms, haproxy_done_fn,
		    void *arg, char *err, size_t errlen);
/* Stop now (done is not called); a transaction left open is aborted by the
 * next swap. */
void		 haproxy_abort(struct haproxy *);

/* The payload rule: a blank line ends it, so drop every blank line and
 * every CR, in place; returns the new length. */
size_t		 haproxy_payload_strip(char *, size_t);
/* An answer as one line for a message: lines joined by " / ", any line
 * that holds PEM armour or a piece of payload (an echo) replaced by
 * "[...]", cut to fit outlen.  payload may be NULL. */
void		 haproxy_answer_line(const char *answer, const char *payload,
		    char *out, size_t outlen);

#endif

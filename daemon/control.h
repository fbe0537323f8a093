/*
 * control.h: the control socket, certd's transport: an AF_UNIX listener
 * served by evhttp, peer credentials deciding who may change things, and
 * the limits that keep one slow or hostile client from stalling the
 * others.  It reads each request whole, hands it to a handler (api.c) and
 * sends the answer the handler gives, now or later.
 */
#ifndef CERTD_CONTROL_H
#define CERTD_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#include <event2/event.h>
#include <jansson.h>

#include "error.h"

#define CONTROL_MAX_CONNS	1024	/* connections beyond this wait */
#define CONTROL_ADMIN_RESERVE	64	/* of those, kept for root and admins */
#define CONTROL_UID_MAX		32	/* per non-admin uid */
#define CONTROL_ANSWER_TIMEOUT	3600	/* s a request may wait for its answer */
#define CONTROL_ACTOR_MAX	256	/* "uid N", a client's subject */

struct control;
struct control_req;		/* one request waiting for its answer */

enum control_method { METHOD_GET, METHOD_POST, METHOD_DELETE, METHOD_OTHER };

/* A request, read whole and within the limits. */
struct control_call {
	enum control_method	 method;
	const char		*path;		/* without the query */
	const char		*query;		/* after '?', or NULL */
	const char		*content_type;	/* NULL if none */
	const char		*body;		/* NUL-terminated copy */
	size_t			 body_len;
	int			 admin;		/* peer may change things */
	uid_t			 uid;		/* a socket peer's; -1 over TLS */
	int			 tls;		/* from a TLS listener */
	const char		*actor;		/* who: "uid N", or the verified
						   client certificate's subject */
	size_t			 conns;		/* open connections now */
};

/* Answer with control_reply_*, now or later, exactly once.  The body is
 * cleared after the handler returns (it may hold a key). */
typedef void (*control_handler_fn)(struct control_req *,
    const struct control_call *, void *arg);

/*
 * Listen on path with mode (or on the socket systemd passed).  Members of
 * admin_group (and uid 0) are admins.
 */
struct control	*control_start(struct event_base *, const char *path,
		    mode_t mode, const char *admin_group, control_handler_fn,
		    void *arg, struct cert_error *);
/* On SIGHUP. */
void		 control_set_admin_group(struct control *, const char *);

/*
 * The API over TLS (listen =): control_set_tls gives the context (a
 * reference is taken) and client_allow (copied), at start and on SIGHUP:
 * new connections use them, established ones keep what they began with.
 * tls.h says what a handshake accepts and who is an admin.  Then
 * control_listen_tls serves host:port (numeric) too: 0, or -1 with err.
 */
struct ssl_ctx_st;
void	control_set_tls(struct control *, struct ssl_ctx_st *ctx,
	    char *const *allow);
int	control_listen_tls(struct control *, struct event_base *,
	    const char *host, const char *port, struct cert_error *);
/* Close the listener (SIGTERM); answers in flight are still sent. */
void		 control_stop_accepting(struct control *);
void		 control_free(struct control *);

/* Answer a request; each frees the control_req.  The JSON is stolen. */
void	control_reply_json(struct control_req *, int status, json_t *);
void	control_reply_text(struct control_req *, int status,
	    const char *ctype, const char *body, size_t len);
void	control_reply_error(struct control_req *, const struct cert_error *);

#endif

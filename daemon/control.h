/*
 * control.h: the control socket (control.c: AF_UNIX listener, HTTP/1.1 via
 * evhttp, peer credentials, limits) and the API handlers behind it (api.c).
 */
#ifndef CERTD_CONTROL_H
#define CERTD_CONTROL_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include <jansson.h>

#include "proto.h"

struct certd;
struct control;
struct ctl_req;		/* one request waiting for its answer */

#define CTL_MAX_CONNS	1024	/* connections beyond this are refused */

enum api_method { API_GET, API_POST, API_DELETE, API_OTHER };

/* What api.c sees of a request: already read whole, within the limits. */
struct api_call {
	enum api_method	 method;
	const char	*path;		/* without the query */
	const char	*content_type;	/* NULL if none */
	const char	*body;		/* NUL-terminated copy */
	size_t		 body_len;
	int		 admin;		/* peer may change things */
	uid_t		 uid;
};

/* Listen on conf->socket or the socket systemd passed. */
int	control_start(struct certd *, struct cert_error *);
/* Close the listener (SIGTERM); answers in flight are still sent. */
void	control_stop_accepting(struct control *);
void	control_free(struct control *);
size_t	control_connections(struct control *);

/* Answer a request; each frees the ctl_req.  The JSON body is stolen. */
void	ctl_reply_json(struct ctl_req *, int status, json_t *);
void	ctl_reply_text(struct ctl_req *, int status, const char *ctype,
	    const char *body, size_t len);
void	ctl_reply_error(struct ctl_req *, const struct cert_error *);

/* api.c: route and answer one request (now or later). */
void	api_handle(struct ctl_req *, const struct api_call *);

/* api.c plain functions, for unit tests. */
/* Decode one x-www-form-urlencoded value ('+' is a space); malloc'd. */
char	*api_form_decode(const char *s, size_t len, size_t *outlen);
/* Find field in a form body; malloc'd decoded value or NULL. */
char	*api_form_get(const char *body, size_t len, const char *field,
	    size_t *outlen);
/* "2026-11-23T11:00:00Z" */
void	 api_time(time_t, char out[32]);
/* Split "/v1/domains/D/REST": D into domain (validated), REST into rest
 * ("" if none).  0 or -1. */
int	 api_split_domain_path(const char *path, char *domain, size_t dlen,
	    const char **rest);

#endif

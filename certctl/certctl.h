/*
 * certctl.h: what certctl's files share: the HTTP/1.1 client for the control
 * socket (http.c) and the human output of the answers (print.c).
 */
#ifndef CERTD_CERTCTL_H
#define CERTD_CERTCTL_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define CTL_SOCKET_DEFAULT	"/run/certd/control.sock"
/* A committing upload waits for the render, reloads and verifies. */
#define CTL_TIMEOUT_DEFAULT	300
#define CTL_REPLY_MAX		(16 * 1024 * 1024)

struct http_reply {
	int	 status;		/* 200, 422, ... */
	char	*body;			/* NUL-terminated */
	size_t	 len;
};

/*
 * One request on the Unix socket at path, Connection: close.  body may be
 * NULL.  Returns 0 with reply filled (any HTTP status), or an exit code
 * (EXIT_UNREACHABLE: could not connect; EXIT_DAEMON: timeout, garbage) with
 * a sentence in err.
 */
int	http_call(const char *path, const char *method, const char *uri,
	    const char *body, size_t bodylen, int timeout,
	    struct http_reply *reply, char *err, size_t errlen);
/*
 * Parse what has arrived so far.  eof: the peer closed.  Returns 1 when the
 * reply is complete (reply filled, body copied), 0 when more is needed, -1
 * on garbage (err says what).
 */
int	http_parse_reply(const char *buf, size_t len, int eof,
	    struct http_reply *reply, char *err, size_t errlen);
void	http_reply_free(struct http_reply *);
/* Percent-encode s (all but RFC 3986 unreserved) into out; -1 if too long. */
int	uri_escape(const char *s, char *out, size_t outlen);

/* print.c: human output of the API answers (docs/api.md). */
void	print_status(FILE *, json_t *);
void	print_show(FILE *, json_t *);
void	print_upload(FILE *, json_t *);
/* The reload object of an answer; returns 1 if the change did not take
 * effect (rolled back or failed), else 0. */
int	print_reload(FILE *, json_t *reload);
void	print_warnings(FILE *, json_t *answer);
/* "certctl: E_CODE: message (item NAME, seq K)" from an error answer. */
void	print_api_error(FILE *, json_t *answer, int http_status);

/* "ab12.." -> "AB:12:.."; out needs 3 * strlen(hex) bytes. */
void	fmt_fingerprint(const char *hex, char *out, size_t outlen);
/* "2026-11-23T11:00:00Z" -> "2026-11-23 11:00:00 UTC"; unknown forms copied. */
void	fmt_time(const char *iso, char *out, size_t outlen);
/* Accessors that tolerate missing or mistyped members. */
const char	*jstr(json_t *, const char *key, const char *dflt);
long long	 jint(json_t *, const char *key, long long dflt);

#endif

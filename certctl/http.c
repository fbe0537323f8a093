/*
 * http.c: a plain HTTP/1.1 client for certd's control socket
 * (AF_UNIX, one request per connection, an absolute deadline).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proto.h"
#include "util.h"
#include "certctl.h"

static int
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void
http_reply_free(struct http_reply *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
	r->status = 0;
}

int
uri_escape(const char *s, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 o = 0;
	unsigned char		 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = c;
		} else {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return 0;
}

/* Find the end of the header block; returns its length incl. CRLFCRLF. */
static size_t
header_end(const char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	return 0;
}

/* Value of header name in the block [hdr, hdr+hlen), copied to out. */
static int
header_value(const char *hdr, size_t hlen, const char *name, char *out,
    size_t outlen)
{
	const char	*p = hdr, *end = hdr + hlen, *eol, *v;
	size_t		 n = strlen(name), vlen;

	while (p < end) {
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		if ((size_t)(eol - p) > n && p[n] == ':' &&
		    strncasecmp(p, name, n) == 0) {
			v = p + n + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			vlen = eol - v;
			while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
				vlen--;
			if (vlen >= outlen)
				vlen = outlen - 1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p = eol + 1;
	}
	return -1;
}

/* Decode a chunked body from p; 1 complete, 0 need more, -1 garbage. */
static int
dechunk(const char *p, size_t len, struct http_reply *r, char *err,
    size_t errlen)
{
	char		*body = NULL, *endp, line[32];
	const char	*eol;
	size_t		 off = 0, blen = 0, n;
	unsigned long	 sz;

	for (;;) {
		if ((eol = memchr(p + off, '\n', len - off)) == NULL)
			goto more;
		n = eol - (p + off);
		if (n == 0 || n >= sizeof(line)) {
			free(body);
			return seterr(err, errlen, "bad chunk size line");
		}
		memcpy(line, p + off, n);
		line[n] = '\0';
		errno = 0;
		sz = strtoul(line, &endp, 16);
		if (endp == line || errno != 0 || sz > CTL_REPLY_MAX ||
		    (*endp != '\r' && *endp != ';' && *endp != '\0')) {
			free(body);
			return seterr(err, errlen, "bad chunk size line");
		}
		off += n + 1;
		if (sz == 0)
			break;		/* trailers are ignored */
		if (len - off < sz + 2)
			goto more;
		if (blen + sz > CTL_REPLY_MAX) {
			free(body);
			return seterr(err, errlen, "reply too large");
		}
		body = xreallocarray(body, blen + sz + 1, 1);
		memcpy(body + blen, p + off, sz);
		blen += sz;
		off += sz;
		if (p[off] == '\r')
			off++;
		if (p[off] != '\n') {
			free(body);
			return seterr(err, errlen, "chunk not followed by CRLF");
		}
		off++;
	}
	if (body == NULL)
		body = xmalloc(1);
	body[blen] = '\0';
	r->body = body;
	r->len = blen;
	return 1;
more:
	free(body);
	return 0;
}

int
http_parse_reply(const char *buf, size_t len, int eof, struct http_reply *r,
    char *err, size_t errlen)
{
	char		 val[64], *endp;
	size_t		 hlen, blen;
	long		 status;
	unsigned long	 clen;

	memset(r, 0, sizeof(*r));
	if ((hlen = header_end(buf, len)) == 0) {
		if (len > API_MAX_HEADERS * 4)
			return seterr(err, errlen, "reply headers too long");
		if (eof)
			return seterr(err, errlen, len == 0 ?
			    "connection closed without a reply" :
			    "connection closed in the reply headers");
		return 0;
	}
	if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
		return seterr(err, errlen, "not an HTTP reply");
	status = strtol(buf + 9, &endp, 10);
	if (endp != buf + 12 || status < 100 || status > 599)
		return seterr(err, errlen, "bad HTTP status line");
	r->status = (int)status;

	blen = len - hlen;
	if (header_value(buf, hlen, "Transfer-Encoding", val,
	    sizeof(val)) == 0 && strcasecmp(val, "chunked") == 0) {
		switch (dechunk(buf + hlen, blen, r, err, errlen)) {
		case 1:
			return 1;
		case 0:
			if (eof)
				return seterr(err, errlen,
				    "connection closed in a chunked body");
			return 0;
		default:
			return -1;
		}
	}
	if (header_value(buf, hlen, "Content-Length", val, sizeof(val)) == 0) {
		errno = 0;
		clen = strtoul(val, &endp, 10);
		if (*val == '\0' || *endp != '\0' || errno != 0 ||
		    clen > CTL_REPLY_MAX)
			return seterr(err, errlen, "bad Content-Length");
		if (blen < clen) {
			if (eof)
				return seterr(err, errlen,
				    "connection closed after %zu of %lu body "
				    "bytes", blen, clen);
			return 0;
		}
		blen = clen;
	} else if (!eof)
		return 0;	/* body ends when the daemon closes */

	r->body = xmalloc(blen + 1);
	memcpy(r->body, buf + hlen, blen);
	r->body[blen] = '\0';
	r->len = blen;
	return 1;
}

int
http_tls_error(struct http_io *io, char *err, size_t errlen)
{
	unsigned long	 e = ERR_peek_last_error();
	int		 reason = ERR_GET_REASON(e);
	const char	*what;

	if (e == 0)
		return seterr(err, errlen, "%s closed the TLS connection%s%s",
		    io->what, errno != 0 ? ": " : "", errno != 0 ?
		    strerror(errno) : "");
	switch (reason) {
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
		what = "it requires a client certificate (--client-cert, "
		    "--client-key)";
		break;
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
		what = "it does not trust the client certificate's CA (its "
		    "client_ca)";
		break;
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
		what = "the client certificate has expired";
		break;
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
		what = "the client certificate is revoked (its client_crl)";
		break;
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		what = "no TLS version in common";
		break;
	default:
		what = NULL;
		break;
	}
	/* An alert from the server: it refused us, we did not fail. */
	io->refused = reason >= SSL_AD_REASON_OFFSET;
	if (io->refused)
		return seterr(err, errlen, "%s refused this client: %s", io->what,
		    what != NULL ? what : ERR_reason_error_string(e));
	return seterr(err, errlen, "TLS with %s failed: %s", io->what,
	    ERR_reason_error_string(e) != NULL ? ERR_reason_error_string(e) :
	    "unknown error");
}

/* Milliseconds left until deadline, at least 0. */
static int
remaining(int64_t deadline)
{
	int64_t	 left = deadline - now_ms();

	return left < 0 ? 0 : (int)left;
}

/* Wait for fd to be ready for events: 1, 0 on timeout, -1 on error. */
static int
io_wait(int fd, short events, int64_t deadline, char *err, size_t errlen)
{
	struct pollfd	 pfd = { .fd = fd, .events = events };
	int		 rc;

	while ((rc = poll(&pfd, 1, remaining(deadline))) == -1)
		if (errno != EINTR)
			return seterr(err, errlen, "poll: %s", strerror(errno));
	return rc;
}

/*
 * One read or write on io, plain or TLS (non-blocking): the bytes moved,
 * 0 at the end of the stream (reads), -1 with err, or -2 when it would
 * block: *want then says for what (POLLIN, POLLOUT).
 */
static ssize_t
io_step(struct http_io *io, int wr, void *p, size_t len, short *want,
    char *err, size_t errlen)
{
	ssize_t	 n;
	int	 r, e;

	*want = wr ? POLLOUT : POLLIN;
	if (io->ssl == NULL) {
		n = wr ? send(io->fd, p, len, MSG_NOSIGNAL) : read(io->fd, p,
		    len);
		if (n >= 0)
			return n;
		if (errno == EINTR || errno == EAGAIN)
			return -2;
		return seterr(err, errlen, "%s: %s", wr ? "send" : "read",
		    strerror(errno));
	}
	ERR_clear_error();
	r = wr ? SSL_write(io->ssl, p, (int)len) : SSL_read(io->ssl, p,
	    (int)len);
	if (r > 0)
		return r;
	switch ((e = SSL_get_error(io->ssl, r))) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		*want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return -2;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		return http_tls_error(io, err, errlen);
	}
}

/* Move len bytes (or, reading, what comes) before deadline: as io_step,
 * and -3 on timeout. */
static ssize_t
io_move(struct http_io *io, int wr, void *p, size_t len, int64_t deadline,
    char *err, size_t errlen)
{
	ssize_t	 n;
	short	 want;
	int	 rc;

	for (;;) {
		if ((n = io_step(io, wr, p, len, &want, err, errlen)) != -2)
			return n;
		if ((rc = io_wait(io->fd, want, deadline, err, errlen)) <= 0)
			return rc == 0 ? -3 : -1;
	}
}

static int
send_all(struct http_io *io, const char *p, size_t len, int64_t deadline,
    char *err, size_t errlen)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = io_move(io, 1, (void *)p, len, deadline, err,
		    errlen)) == -3)
			return seterr(err, errlen, "timed out sending the "
			    "request");
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int
http_exchange(struct http_io *io, const char *method, const char *uri,
    const char *body, size_t bodylen, int64_t deadline,
    struct http_reply *reply, char *err, size_t errlen)
{
	char		 hdr[1024], *buf = NULL, senderr[256];
	size_t		 len = 0, cap = 0;
	ssize_t		 n;
	int		 ret = EXIT_DAEMON, eof = 0, sent_err = 0, hn;

	memset(reply, 0, sizeof(*reply));
	hn = snprintf(hdr, sizeof(hdr),
	    "%s %s HTTP/1.1\r\n"
	    "Host: certd\r\n"
	    "User-Agent: certctl/" PACKAGE_VERSION "\r\n"
	    "Accept: application/json\r\n"
	    "Connection: close\r\n"
	    "%s"
	    "Content-Length: %zu\r\n"
	    "\r\n", method, uri,
	    body != NULL ? "Content-Type: application/json\r\n" : "",
	    body != NULL ? bodylen : 0);
	if (hn < 0 || (size_t)hn >= sizeof(hdr)) {
		seterr(err, errlen, "request line too long");
		return EXIT_DAEMON;
	}
	/*
	 * The daemon may answer early (413) and close while we still send:
	 * keep the send error and read whatever reply arrived.
	 */
	if (send_all(io, hdr, hn, deadline, senderr, sizeof(senderr)) == -1 ||
	    (body != NULL && send_all(io, body, bodylen, deadline, senderr,
	    sizeof(senderr)) == -1))
		sent_err = 1;
	for (;;) {
		if (cap - len < 4096) {
			if (cap >= CTL_REPLY_MAX) {
				seterr(err, errlen, "reply larger than %d "
				    "bytes", CTL_REPLY_MAX);
				goto out;
			}
			cap = cap == 0 ? 16384 : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = io_move(io, 0, buf + len, cap - len - 1, deadline, err,
		    errlen);
		if (n == -3) {
			seterr(err, errlen, "no complete answer from %s within "
			    "%d s (-t SECONDS waits longer)", io->what,
			    io->timeout);
			goto out;
		}
		if (n == -1 && (errno != ECONNRESET || len == 0)) {
			if (sent_err && io->ssl == NULL)
				seterr(err, errlen, "%s", senderr);
			ret = io->refused ? EXIT_UNREACHABLE : EXIT_DAEMON;
			goto out;
		}
		if (n <= 0)
			eof = 1;
		else
			len += n;
		switch (http_parse_reply(buf, len, eof, reply, err, errlen)) {
		case 1:
			ret = 0;
			goto out;
		case -1:
			if (sent_err && len == 0)
				seterr(err, errlen, "%s", senderr);
			goto out;
		}
	}
out:
	free(buf);
	return ret;
}

int
http_call(const char *path, const char *method, const char *uri,
    const char *body, size_t bodylen, int timeout, struct http_reply *reply,
    char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct http_io		 io = { -1, NULL, path, timeout, 0 };
	int			 ret = EXIT_DAEMON;

	memset(reply, 0, sizeof(*reply));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		seterr(err, errlen, "socket path too long: %s", path);
		return EXIT_UNREACHABLE;
	}
	if ((io.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		seterr(err, errlen, "socket: %s", strerror(errno));
		return EXIT_UNREACHABLE;
	}
	if (connect(io.fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EACCES || errno == EPERM)
			seterr(err, errlen, "cannot connect to %s: %s (you "
			    "need write access to the socket)", path,
			    strerror(errno));
		else
			seterr(err, errlen, "cannot connect to %s: %s (is "
			    "certd running? -s SOCKET or $CERTD_SOCKET name "
			    "another socket)", path, strerror(errno));
		ret = EXIT_UNREACHABLE;
		goto out;
	}
	if (fcntl(io.fd, F_SETFL, fcntl(io.fd, F_GETFL) | O_NONBLOCK) == -1) {
		seterr(err, errlen, "fcntl: %s", strerror(errno));
		goto out;
	}
	ret = http_exchange(&io, method, uri, body, bodylen, now_ms() +
	    (int64_t)timeout * 1000, reply, err, errlen);
out:
	close(io.fd);
	return ret;
}

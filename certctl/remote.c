/*
 * remote.c: certctl -H https://HOST:PORT: the control API over TLS, as a
 * management server reaches certd.  certd's certificate is verified
 * against --ca (or the system's CAs) and the host's name or address; this
 * client shows --client-cert, which certd verifies against its client_ca.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "certctl.h"
#include "log.h"
#include "util.h"

int
remote_parse_url(struct ctl *c, const char *url)
{
	const char	*h, *end, *colon;
	char		*num;
	long		 port;

	if (strncasecmp(url, "https://", 8) != 0)
		return -1;
	h = url + 8;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL || end[1] != ':')
			return -1;
		colon = end + 1;
		h++;
	} else if ((colon = end = strchr(h, ':')) == NULL)
		return -1;
	port = strtol(colon + 1, &num, 10);
	if (end == h || (size_t)(end - h) >= sizeof(c->host) || port < 1 ||
	    port > 65535 || (*num != '\0' && strcmp(num, "/") != 0))
		return -1;
	memcpy(c->host, h, end - h);
	c->host[end - h] = '\0';
	snprintf(c->port, sizeof(c->port), "%ld", port);
	c->url = url;
	return 0;
}

/* The client's context: TLS 1.2+, certd verified, our certificate. */
static SSL_CTX *
remote_ctx(struct ctl *c, char *err, size_t errlen, int *rc)
{
	SSL_CTX	*ctx;

	*rc = EXIT_USAGE;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		fatalx("cannot make a TLS context");
	/* certd answers with a length; its close_notify may not come. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (c->ca != NULL ? SSL_CTX_load_verify_locations(ctx, c->ca,
	    NULL) != 1 : SSL_CTX_set_default_verify_paths(ctx) != 1)
		snprintf(err, errlen, "cannot read --ca %s: no CA certificate "
		    "in it", c->ca != NULL ? c->ca : "(system)");
	else if (SSL_CTX_use_certificate_chain_file(ctx, c->client_cert) != 1)
		snprintf(err, errlen, "cannot read --client-cert %s: not a PEM "
		    "certificate", c->client_cert);
	else if (SSL_CTX_use_PrivateKey_file(ctx, c->client_key,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		snprintf(err, errlen, "cannot use --client-key %s: not a PEM "
		    "key without a passphrase, or not the key of --client-cert "
		    "%s", c->client_key, c->client_cert);
	else
		return ctx;
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

/* The handshake with certd, whose name or address must be certified. */
static int
remote_handshake(struct ctl *c, struct http_io *io, char *err, size_t errlen)
{
	long	 v;

	if (name_is_address(c->host) ? X509_VERIFY_PARAM_set1_ip_asc(
	    SSL_get0_param(io->ssl), c->host) != 1 :
	    (SSL_set1_host(io->ssl, c->host) != 1 ||
	    SSL_set_tlsext_host_name(io->ssl, c->host) != 1))
		fatalx("cannot set up TLS");
	if (SSL_set_fd(io->ssl, io->fd) != 1)
		fatalx("cannot set up TLS");
	errno = 0;
	ERR_clear_error();
	if (SSL_connect(io->ssl) == 1)
		return 0;
	if ((v = SSL_get_verify_result(io->ssl)) != X509_V_OK)
		snprintf(err, errlen, "the certificate of %s does not verify: "
		    "%s (--ca names the CA that issued certd's tls_cert)",
		    io->what, X509_verify_cert_error_string(v));
	else
		http_tls_error(io, err, errlen);
	return -1;
}

int
remote_call(struct ctl *c, const char *method, const char *uri,
    const char *body, size_t bodylen, struct http_reply *reply, char *err,
    size_t errlen)
{
	struct http_io	 io = { -1, NULL, NULL, c->timeout, 0 };
	SSL_CTX		*ctx;
	char		 what[300], addr[64];
	int64_t		 deadline = now_ms() + (int64_t)c->timeout * 1000;
	int		 rc, one = 1;

	memset(reply, 0, sizeof(*reply));
	snprintf(what, sizeof(what), "certd at %s port %s", c->host, c->port);
	io.what = what;
	if ((ctx = remote_ctx(c, err, errlen, &rc)) == NULL)
		return rc;
	rc = EXIT_UNREACHABLE;
	if ((io.fd = tls_tcp_connect(c->host, c->port, c->timeout, addr,
	    sizeof(addr), err, errlen)) == -1)
		goto out;
	/* The request follows our Finished at once: Nagle would hold it for
	 * certd's delayed ACK (40 ms). */
	setsockopt(io.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((io.ssl = SSL_new(ctx)) == NULL)
		fatalx("cannot set up TLS");
	if (remote_handshake(c, &io, err, errlen) == -1)
		goto out;
	if (fcntl(io.fd, F_SETFL, fcntl(io.fd, F_GETFL) | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		rc = EXIT_DAEMON;
		goto out;
	}
	rc = http_exchange(&io, method, uri, body, bodylen, deadline, reply,
	    err, errlen);
out:
	SSL_free(io.ssl);
	SSL_CTX_free(ctx);
	if (io.fd != -1)
		close(io.fd);
	ERR_clear_error();
	return rc;
}

/*
 * tls.c: one TLS handshake (1.2 or 1.3, with SNI) to see what a server
 * sends.  Nothing is verified here, and weak peers must still be seen:
 * security level 0.  A failure is told as what it most likely means.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "certctl.h"
#include "key.h"
#include "log.h"
#include "util.h"

void
tls_peer_free(struct tls_peer *p)
{
	sk_X509_pop_free(p->chain, X509_free);
	memset(p, 0, sizeof(*p));
}

/* connect(2) within ms; 0, or -1 with errno. */
static int
connect_within(int fd, const struct sockaddr *sa, socklen_t len, int ms)
{
	struct pollfd	 pfd = { fd, POLLOUT, 0 };
	socklen_t	 elen = sizeof(int);
	int		 flags, e = 0, r;

	flags = fcntl(fd, F_GETFL);
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return -1;
	if (connect(fd, sa, len) == -1) {
		if (errno != EINPROGRESS)
			return -1;
		while ((r = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
			;
		if (r == 0)
			e = ETIMEDOUT;
		else if (r == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
		    &elen) == -1)
			return -1;
		if (e != 0) {
			errno = e;
			return -1;
		}
	}
	return fcntl(fd, F_SETFL, flags);
}

int
tls_tcp_connect(const char *host, const char *port, int secs, char *addr,
    size_t addrlen, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	struct timeval	 tv = { secs, 0 };
	char		 num[NI_MAXHOST];
	int		 fd = -1, r, e = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s (check its DNS "
		    "record, or /etc/hosts on this machine)", host,
		    gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num),
		    NULL, 0, NI_NUMERICHOST) != 0)
			strlcpy(num, "?", sizeof(num));
		strlcpy(addr, num, addrlen);
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) == -1) {
			e = errno;
			continue;
		}
		if (connect_within(fd, ai->ai_addr, ai->ai_addrlen,
		    secs * 1000) == -1) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd == -1) {
		snprintf(err, errlen, "cannot connect to %s port %s (%s): "
		    "%s%s", host, port, addr, strerror(e), e ==
		    ECONNREFUSED ? " (nothing listens there)" : e ==
		    ETIMEDOUT ? " (a firewall that drops packets?)" : "");
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* The server asked for a client certificate: note it, send none. */
static int
client_cert_cb(SSL *ssl, X509 **x, EVP_PKEY **k)
{
	struct tls_peer	*p = SSL_get_app_data(ssl);

	p->client_cert = 1;
	return 0;
}

/* What a failed handshake most likely means. */
static void
handshake_error(SSL *ssl, int r, int secs, char *err, size_t errlen)
{
	unsigned long	 e = ERR_peek_error();
	int		 se = SSL_get_error(ssl, r), reason = ERR_GET_REASON(e);
	const char	*what;

	if (se == SSL_ERROR_SYSCALL && e == 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			snprintf(err, errlen, "no answer to the TLS handshake "
			    "within %d s: is this a TLS port?", secs);
		else
			snprintf(err, errlen, "the server closed the "
			    "connection during the TLS handshake%s%s (it may "
			    "want another SNI name (--name) or a client "
			    "certificate)", errno != 0 ? ": " : "",
			    errno != 0 ? strerror(errno) : "");
		return;
	}
	switch (reason) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_RECORD_LENGTH_MISMATCH:
		what = "the server does not speak TLS on this port (plain HTTP?"
		    "): check the port";
		break;
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		what = "no TLS version in common: the server offers neither "
		    "TLS 1.2 nor 1.3 (current clients refuse TLS 1.0 and 1.1)";
		break;
	case SSL_R_TLSV1_UNRECOGNIZED_NAME:
		what = "the server has no certificate for that name (SNI): "
		    "check --name";
		break;
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
		what = "the server refused the handshake: no cipher in common, "
		    "or it wants another SNI name (--name) or a client "
		    "certificate";
		break;
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
		what = "the server requires a client certificate";
		break;
	default:
		what = e != 0 ? ERR_reason_error_string(e) : NULL;
		break;
	}
	snprintf(err, errlen, "TLS handshake failed: %s", what != NULL ? what :
	    "unknown error");
}

static void
peer_params(SSL *ssl, struct tls_peer *p)
{
	EVP_PKEY	*k = NULL;
	int		 id;

	strlcpy(p->protocol, SSL_get_version(ssl), sizeof(p->protocol));
	strlcpy(p->cipher, SSL_get_cipher_name(ssl), sizeof(p->cipher));
	if (SSL_get_peer_tmp_key(ssl, &k) != 1 || k == NULL)
		return;
	id = EVP_PKEY_get_base_id(k);
	if (id == EVP_PKEY_X25519 || id == EVP_PKEY_X448)
		strlcpy(p->kex, id == EVP_PKEY_X25519 ? "X25519" : "X448",
		    sizeof(p->kex));
	else
		key_describe(k, p->kex, sizeof(p->kex));
	if (id == EVP_PKEY_DH || id == EVP_PKEY_DHX)
		p->dh_bits = EVP_PKEY_get_bits(k);
	EVP_PKEY_free(k);
}

int
tls_fetch(const char *host, const char *port, const char *sni, int secs,
    struct tls_peer *p, char *err, size_t errlen)
{
	SSL_CTX	*ctx = NULL;
	SSL	*ssl = NULL;
	int	 fd, r, rc = -1;

	memset(p, 0, sizeof(*p));
	if ((fd = tls_tcp_connect(host, port, secs, p->addr, sizeof(p->addr),
	    err, errlen)) == -1)
		return -1;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		fatalx("cannot make a TLS context");
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_client_cert_cb(ctx, client_cert_cb);
	if ((ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, fd) ||
	    (sni != NULL && !SSL_set_tlsext_host_name(ssl, sni)))
		fatalx("cannot set up TLS");
	SSL_set_app_data(ssl, p);
	errno = 0;
	rc = -2;
	if ((r = SSL_connect(ssl)) != 1) {
		handshake_error(ssl, r, secs, err, errlen);
		goto out;
	}
	peer_params(ssl, p);
	if ((p->chain = X509_chain_up_ref(SSL_get_peer_cert_chain(ssl))) ==
	    NULL || sk_X509_num(p->chain) == 0) {
		snprintf(err, errlen, "the server sent no certificate");
		goto out;
	}
	SSL_set_quiet_shutdown(ssl, 1);
	rc = 0;
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	ERR_clear_error();
	return rc;
}

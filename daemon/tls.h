/*
 * tls.h: the TLS side of the control API (listen =): the server context
 * certd answers with (its certificate, TLS 1.2 and 1.3 with ECDHE and
 * AEAD only, a client certificate required and verified against
 * client_ca and client_crl), and who a verified client is.
 */
#ifndef CERTD_TLS_H
#define CERTD_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* The files of a context; each with the config line that named it. */
struct tls_files {
	const char	*cert, *key, *ca, *crl;	/* crl may be NULL */
	int		 cert_line, key_line, ca_line, crl_line;
};

/*
 * A server context from the files, checked as a handshake would use
 * them: the chain and key load and match, the CA file holds certificates,
 * each CRL is issued by one of them.  NULL with *line (the line of the
 * key at fault) and "key: what is wrong" in err.
 */
SSL_CTX	*tls_server_ctx(const struct tls_files *, int *line, char *err,
	    size_t errlen);

/*
 * The verified client of ssl: its subject (RFC 2253) in who; returns 1 if
 * allow lists it (the subject exactly, or "DNS:name" / "URI:uri" one of
 * its subjectAltName entries), else 0.  allow is NULL-terminated or NULL.
 */
int	tls_client(SSL *, char *const *allow, char *who, size_t size);

/* Is s a client_allow entry tls_client can match?  NULL, or why not. */
const char	*tls_allow_entry_error(const char *s);

#endif

/*
 * cert.h: one certificate described, for the store, status, certctl show
 * and check, and the rule by which a certificate covers a name.
 */
#ifndef CERTD_CERT_H
#define CERTD_CERT_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>

/* SHA-256 of the DER, lowercase hex: certd's fingerprint everywhere. */
void	 cert_sha256(X509 *, char out[65]);
/* Strings are malloc'd and never NULL. */
char	*cert_subject(X509 *);		/* RFC 2253 */
char	*cert_subject_or(X509 *);	/* "(empty subject)" when empty */
char	*cert_issuer(X509 *);
char	*cert_serial(X509 *);		/* lowercase hex */
char	*cert_san(X509 *);	/* "DNS:a, DNS:b, IP:1.2.3.4", "" if none */
time_t	 cert_not_before(X509 *);
time_t	 cert_not_after(X509 *);
/* "2026-11-23 11:00 UTC" */
void	 cert_date(const ASN1_TIME *, char *buf, size_t size);

/*
 * Does x cover name (a DNS name)?  1 by a SAN DNS name or a one-label
 * wildcard, 2 only by "*.name" (the suffix wildcard, for the hosts under
 * name), 0 not.  Without SAN DNS names the subject CN is tried by the same
 * rule, and *cn_only (if not NULL) is set.
 */
int	 cert_covers(X509 *x, const char *name, int *cn_only);

#endif

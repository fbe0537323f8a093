/*
 * jks.h: a writer (and, for tests and audits, a reader) of Java KeyStore
 * files holding trusted-certificate entries: magic 0xFEEDFEED, version 2,
 * SHA-1 integrity digest keyed by the password.
 */
#ifndef CERTD_JKS_H
#define CERTD_JKS_H

#include <stddef.h>
#include <time.h>
#include <openssl/x509.h>

struct trust_entry {
	const char	*alias;		/* lowercase, unique, safe */
	X509		*cert;
};

/* Serialise entries; *out is malloc'd.  0 or -1 (also for an alias that is
 * empty, has an ASCII capital or repeats: Java would merge such entries). */
int	jks_write(const struct trust_entry *, size_t n, const char *password,
	    time_t created, unsigned char **out, size_t *outlen);

/* Parse a JKS of trusted entries, checking the digest with password (NULL:
 * no check, as Java's load(in, null)); a private-key entry fails the read.
 * *aliases / *certs are malloc'd arrays (free with jks_entries_free). */
int	jks_read(const unsigned char *, size_t, const char *password,
	    char ***aliases, X509 ***certs, size_t *n);
void	jks_entries_free(char **aliases, X509 **certs, size_t n);

/* Make aliases from item names: lowercase, [a-z0-9._-] only, unique
 * ("root", "root-2", ...).  Writes into out[n][64]. */
void	jks_make_aliases(const char *const *names, size_t n, char (*out)[64]);

#endif

/*
 * chain.h: a domain's ordered chain (root seq 1, intermediates 2..n, server
 * last with its key) and its validation (SPEC §4): OpenSSL's verifier with the
 * uploaded root as the only anchor, plus certd's own policy checks.
 */
#ifndef CERTD_CHAIN_H
#define CERTD_CHAIN_H

#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pem.h"
#include "proto.h"

enum item_kind { KIND_ROOT = 1, KIND_INTERMEDIATE, KIND_SERVER };

const char	*chain_kind_name(enum item_kind);	/* "root", ... */
int		 chain_kind_from_name(const char *);	/* -1 if unknown */

struct chain_item {
	char		 name[ITEM_NAME_MAX + 1];
	int		 seq;
	enum item_kind	 kind;
	X509		*cert;		/* owned */
};

/* items[0] is the root (seq 1) ... items[n-1] the server certificate. */
struct chain {
	struct chain_item	 items[CHAIN_MAX];
	size_t			 n;
	EVP_PKEY		*key;	/* server key, owned; NULL if none */
};

struct chain	*chain_new(void);
void		 chain_free(struct chain *);	/* NULL ok; cleanses the key */
/* Append a copy (X509_up_ref) of cert. */
int		 chain_add(struct chain *, const char *name, int seq,
		    enum item_kind, X509 *cert, struct cert_error *);
struct chain	*chain_dup(const struct chain *);

/*
 * Validate a complete chain for domain at time now: order, CA flags, self
 * signature, issuer links, path length, validity, server not CA, SAN vs
 * domain, EKU, key strength, key encoding/match, duplicates.  0 or -1 with
 * err naming the item; warnings (expiry within 30 days, CN-only name, SHA-1
 * root) go to warns and do not fail.
 *
 * Names: the server certificate covers domain D if a SAN DNS name is D, a
 * one-label wildcard matching D ("*.example.com" for www.example.com), or
 * "*.D" (the hosts under the suffix, as CloudStack's system VMs use).
 * Without SAN DNS names the CN is used by the same rule, with W_CN_ONLY.
 * Checks run root to server and the first failure is reported; what only
 * OpenSSL's strict verifier rejects (RFC 5280 profile violations such as a
 * missing authorityKeyIdentifier below the root) is E_ENCODING with
 * OpenSSL's reason.  A CA certificate without keyUsage is E_NOT_CA: strict
 * mode requires keyCertSign (`openssl req -x509` adds none by default).
 */
int	chain_validate(const struct chain *, const char *domain, time_t now,
	    struct cert_warnings *warns, struct cert_error *err);

/*
 * Check one item as it is staged (before the chain is complete): kind fits
 * its seq, a CA item is a CA, the root self-signs, an item is signed by the
 * item before it when that one is known.  Catches E_ORDER early.
 */
int	chain_check_item(const struct chain *staged, const struct chain_item *,
	    time_t now, struct cert_error *err);

/*
 * Order a bundle (any order) by issuer links into root-first items named
 * "root", "intermediate-1".., "server", seq 1..n.  Takes references.
 */
int	chain_from_bundle(STACK_OF(X509) *certs, EVP_PKEY *key,
	    struct chain *out, struct cert_error *err);

/* Descriptions used by the store, status and certctl show. */
void	chain_sha256(X509 *, char out[65]);		/* of the DER */
char	*chain_subject(X509 *);				/* RFC 2253, malloc'd */
char	*chain_issuer(X509 *);
char	*chain_serial(X509 *);				/* hex, malloc'd */
char	*chain_san(X509 *);	/* "DNS:a, DNS:b, IP:1.2.3.4" malloc'd, "" if none */
time_t	 chain_not_before(X509 *);
time_t	 chain_not_after(X509 *);

#endif

/*
 * chain.h: a domain's ordered chain: root (seq 1), intermediates (2..n),
 * the server certificate last with its key.
 */
#ifndef CERTD_CHAIN_H
#define CERTD_CHAIN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "error.h"

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
	EVP_PKEY		*key;	/* server key (key.h), owned, or NULL */
};

struct chain	*chain_new(void);
void		 chain_free(struct chain *);	/* NULL ok */
/* Append a reference (X509_up_ref) to cert. */
int		 chain_add(struct chain *, const char *name, int seq,
		    enum item_kind, X509 *cert, struct cert_error *);
/* The server certificate, NULL if the chain has none. */
X509		*chain_leaf(const struct chain *);

/*
 * Order a bundle (any order) by issuer links into root-first items named
 * "root", "intermediate-1".., "server", seq 1..n.  Takes references.
 */
int	chain_from_bundle(STACK_OF(X509) *certs, EVP_PKEY *key,
	    struct chain *out, struct cert_error *err);

#endif

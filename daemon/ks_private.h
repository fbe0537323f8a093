/*
 * ks_private.h: the keystore's state, shared by keystore.c and csr.c (the
 * pending keys of the CSR flow), and what each offers the other.  Nobody
 * else includes it; callers see keystore.h.
 */
#ifndef CERTD_KS_PRIVATE_H
#define CERTD_KS_PRIVATE_H

#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "chain.h"
#include "keystore.h"

struct keystore {
	struct db		*db;
	struct key_sealer	*sealer;	/* NULL: keys stored plain */
	int64_t			 sealed;	/* a key was stored sealed */
	/* The chain the last commit stored, validated and decoded: the
	 * render that follows takes it instead of decoding the rows. */
	struct chain		*last;
	char			 last_domain[DOMAIN_MAX + 1];
	int64_t			 last_gen;
};

/* keystore.c: E_CREDENTIAL when keys are sealed and the credential is
 * missing, so a key must not be stored: -1; else 0. */
int	ks_may_store_key(struct keystore *, const char *name, int seq,
	    struct cert_error *);

/*
 * csr.c, for keystore_upload: is cert (uploaded without a key) the
 * certificate of a pending key of domain?  0: no, it is not a CSR's (a
 * CA, or the domain has no pending keys): stage it.  1: *key and *id are
 * that key and its row.  -1: E_KEY_MISMATCH (it matches none of them),
 * or the key cannot be opened.
 */
int	csr_key_for(struct keystore *, const char *domain, const char *name,
	    int seq, X509 *cert, EVP_PKEY **key, int64_t *id,
	    struct cert_error *);

#endif

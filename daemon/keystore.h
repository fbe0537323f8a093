/*
 * keystore.h: the per-domain keystore: staging of CloudStack-style uploads,
 * commit of a validated chain as a new generation, discard, reads of the
 * current chain, and the event log.  Built on db.c; no libevent here, so
 * unit tests call it directly.
 */
#ifndef CERTD_KEYSTORE_H
#define CERTD_KEYSTORE_H

#include <stdint.h>
#include <time.h>

#include "chain.h"
#include "error.h"

struct keystore;
struct ks_item;

/* Open (creating and migrating) <path>; E_INTERNAL with a clear message if
 * the DB is corrupt or newer than this certd knows. */
struct keystore	*keystore_open(const char *path, struct cert_error *);
void		 keystore_close(struct keystore *);
/*
 * Store private keys sealed (key.h) under a key derived from secret, the
 * contents of the certd.key credential (at least 16 bytes).  Call right
 * after keystore_open.  Rows written before stay readable; without the
 * secret, reading a sealed key fails with E_INTERNAL.  secret may be
 * cleared by the caller afterwards.
 */
int		 keystore_set_secret(struct keystore *, const void *secret,
		    size_t len, struct cert_error *);
/* Were keys ever stored sealed?  Then a key is never stored unsealed
 * (E_CREDENTIAL) until the credential is back. */
int		 keystore_sealed(struct keystore *);

/* One CloudStack-style upload (POST /v1/certificates). */
struct upload {
	const char	*domain;	/* domainsuffix */
	const char	*name;		/* item name */
	int		 seq;		/* id: 1 root, 2..n intermediates; for
					   the server certificate any seq >
					   the last CA, or 0 = next */
	const char	*cert;		/* as received, any accepted encoding */
	size_t		 cert_len;
	const char	*key;		/* server key; NULL for a CA item */
	size_t		 key_len;
};

struct upload_result {
	int			 committed;	/* 1: a new generation */
	int64_t			 generation;	/* committed generation */
	enum item_kind		 kind;		/* kind staged */
	int			 seq;
	struct cert_warnings	 warnings;
};

/*
 * Stage an item; with a key, validate the whole staged chain and commit it
 * as a new generation in one transaction.  A rejected upload changes
 * nothing (not even the staged set) and records a rejection event.
 */
int	keystore_upload(struct keystore *, const struct upload *, time_t now,
	    struct upload_result *, struct cert_error *);
/* Full chain in any order + key: stage and commit in one step. */
int	keystore_bundle(struct keystore *, const char *domain,
	    const char *certs, size_t certs_len, const char *key, size_t key_len,
	    time_t now, struct upload_result *, struct cert_error *);
/* Drop the staged items of a domain: how many, or -1 (E_NOT_FOUND if
 * there were none). */
int	keystore_discard(struct keystore *, const char *domain,
	    struct cert_error *);

/* The chain (with key) of a domain's current generation / a given one.
 * The generation the last commit stored comes, once, from memory: it was
 * just validated, and decoding it again would only cost time. */
int	keystore_current(struct keystore *, const char *domain,
	    struct chain **out, int64_t *generation, struct cert_error *);
int	keystore_generation(struct keystore *, const char *domain, int64_t gen,
	    struct chain **out, struct cert_error *);
/* The rows of a generation, root first, without the key. */
int	keystore_items(struct keystore *, const char *domain, int64_t gen,
	    struct ks_item **, size_t *n, struct cert_error *);
/*
 * Where a domain's commit stands: current is the last live generation,
 * pending the one being made current (a commit or a rollback in flight, or
 * left by a crash or a stop), unsettled says the dependents must run again
 * on what is current.
 */
struct ks_state {
	int64_t		 current;
	int64_t		 pending;
	int		 unsettled;
};
int	keystore_state(struct keystore *, const char *domain,
	    struct ks_state *, struct cert_error *);
/* Start making a kept generation current again (a rollback). */
int	keystore_set_pending(struct keystore *, const char *domain,
	    int64_t gen, const char *reason, struct cert_error *);
/* The pending generation passed its dependents: live and current.  With
 * keep > 0, pruned as keystore_prune does, in the same transaction. */
int	keystore_make_live(struct keystore *, const char *domain, int64_t gen,
	    const char *message, int keep, int64_t **kept, size_t *nkept,
	    struct cert_error *);
/* The pending generation failed: it is state ("rolled-back", "failed")
 * if it was never live; the domain stays unsettled. */
int	keystore_drop_pending(struct keystore *, const char *domain,
	    int64_t gen, const char *state, const char *message,
	    struct cert_error *);
/* The dependents ran on what is current. */
int	keystore_settle(struct keystore *, const char *domain,
	    struct cert_error *);
/* fn for every unsettled domain, in name order. */
int	keystore_unsettled(struct keystore *,
	    int (*fn)(const char *domain, void *), void *arg,
	    struct cert_error *);

/*
 * One certificate row (of a generation, or staged).  Strings are malloc'd;
 * free with ks_item_clear / ks_items_free.
 */
struct ks_item {
	char		 name[ITEM_NAME_MAX + 1];
	int		 seq;
	enum item_kind	 kind;
	char		 fingerprint[65];	/* SHA-256 of the DER */
	char		*subject, *issuer, *serial, *san;
	int64_t		 not_before, not_after;
	int64_t		 created;	/* first uploaded; 0: now */
	char		*certificate;	/* PEM */
	char		*key;		/* stored form (key.h), only when asked */
	int		 has_key;
	int64_t		 csr_id;	/* the pending CSR key it takes, or 0 */
};
void	ks_item_clear(struct ks_item *);
void	ks_items_free(struct ks_item *, size_t);

struct ks_generation {
	int64_t		 generation;
	time_t		 created;
	int		 current;
	char		 state[16];	/* pending, live, rolled-back, failed */
};
struct ks_domain {
	char			 name[DOMAIN_MAX + 1];
	int64_t			 generation;	/* current, 0 if none */
	struct ks_item		*items;		/* current chain, root first */
	size_t			 nitems;
	struct ks_item		*staged;	/* staged items not yet committed */
	size_t			 nstaged;
	struct ks_generation	*gens;		/* newest first */
	size_t			 ngens;
};
/*
 * What status, metrics and the expiry check need of a domain, read in one
 * pass over all domains: never a certificate's text, never a key.
 */
struct ks_summary {
	char		 name[DOMAIN_MAX + 1];
	int64_t		 generation;	/* current, 0 if none */
	int64_t		 pending;	/* being made current, 0 if none */
	int		 unsettled;
	size_t		 nitems;	/* chain length */
	size_t		 nstaged;
	int		 has_server;	/* the fields below are set */
	const char	*subject, *san;	/* valid during the call only */
	int64_t		 not_after;
	char		 fingerprint[65];
	/* How the last commit, rollback or reload ended ("" if none). */
	char		 outcome[16];
	const char	*outcome_message;	/* valid during the call only */
	int64_t		 outcome_generation;
	int64_t		 outcome_at;
};
/* fn for every domain whose server certificate expires before before,
 * soonest first. */
int	keystore_expiring(struct keystore *, time_t before,
	    int (*fn)(const char *domain, int64_t generation,
	    int64_t not_after, void *), void *arg, struct cert_error *);
/* fn for every domain with a live generation and nothing in flight. */
int	keystore_settled(struct keystore *,
	    int (*fn)(const char *, void *), void *arg, struct cert_error *);
/* How the last commit, rollback or reload of domain ended. */
int	keystore_set_outcome(struct keystore *, const char *domain,
	    const char *result, const char *message, int64_t generation,
	    time_t at);
/* How many domains, and the one whose server certificate expires first
 * (domain "" if none has one). */
int	keystore_soonest(struct keystore *, int64_t *ndomains,
	    char domain[DOMAIN_MAX + 1], int64_t *not_after);
/* fn for each domain (or only domain, if not NULL) in name order; fn
 * returning non-zero stops the walk. */
int	keystore_walk(struct keystore *, const char *domain,
	    int (*fn)(const struct ks_summary *, void *), void *arg,
	    struct cert_error *);
/* fn for every certificate of every current chain (its name, seq, kind and
 * not_after), by domain then seq. */
int	keystore_walk_current(struct keystore *,
	    int (*fn)(const char *domain, const struct ks_item *, void *),
	    void *arg, struct cert_error *);
int	keystore_domain(struct keystore *, const char *domain,
	    struct ks_domain **, struct cert_error *);
void	keystore_domain_free(struct ks_domain *);
/* Drop generations beyond keep, live ones first, never the current or
 * the pending one; *kept (malloc'd) lists those left. */
int	keystore_prune(struct keystore *, const char *domain, int keep,
	    int64_t **kept, size_t *nkept, struct cert_error *);

/*
 * Pending keys of the CSR flow (csr.c): a key made on the host for a
 * certificate signing request, kept in the store (sealed when certd has
 * its credential) until a certificate for its public key is uploaded
 * without a key.  Then that upload commits with it, through the same
 * validation; the commit moves the key into its generation.  A pending
 * key is never returned: it leaves certd only in the files of a
 * generation.
 */
#define KS_CSR_KEEP	8	/* pending keys per domain: older ones go */
#define KS_CSR_NAMES	32	/* names of one request, besides the domain */
struct ks_csr {
	int64_t		 id;
	char		 domain[DOMAIN_MAX + 1];
	char		 spki[65];	/* SHA-256 of the public key, hex */
	char		 key_type[32];	/* "EC P-256" */
	char		*names;		/* "DNS:example.com, DNS:www..." */
	int64_t		 created;
	char		 actor[256];
	char		*key;		/* stored form, inside the store only */
};
void	ks_csr_clear(struct ks_csr *);
void	ks_csrs_free(struct ks_csr *, size_t);

struct csr_request {
	const char	*domain;
	const char	*names[KS_CSR_NAMES];	/* DNS names (or *.D) */
	size_t		 nnames;
	const char	*key_type;	/* "ec" (P-256, NULL), "rsa2048",
					   "rsa3072" ("rsa": 2048) */
};
/*
 * Make a key and a CSR for it: subject CN=domain, subjectAltName the
 * domain and each name, SHA-256.  The key is stored pending (the
 * domain's oldest goes beyond KS_CSR_KEEP); *pem (malloc'd) is the CSR,
 * info its row without the key.  E_BAD_REQUEST for a bad name or key
 * type, E_CREDENTIAL as for an upload with a key.
 */
int	keystore_csr(struct keystore *, const struct csr_request *,
	    time_t now, char **pem, struct ks_csr *info, struct cert_error *);
/* domain's pending keys, newest first, without the keys. */
int	keystore_csr_list(struct keystore *, const char *domain,
	    struct ks_csr **, size_t *n, struct cert_error *);
/* Would an upload of this certificate without a key commit, with a
 * pending key?  Yes if it is not a CA and domain has pending keys. */
int	keystore_csr_wanted(struct keystore *, const char *domain,
	    const char *cert, size_t len);

/* Event log: commits, rejections, reloads, rollbacks. */
struct ks_event {
	int64_t		 id;
	time_t		 at;
	char		 domain[DOMAIN_MAX + 1];
	int64_t		 generation;
	char		 type[24];	/* commit, reject, reload, rollback, render */
	char		 result[24];	/* ok, failed, rolled-back, E_... */
	char		 step[24];	/* dependent step, or "" */
	char		 dependent[64];
	int64_t		 duration_ms;
	char		*message;
	char		 actor[256];	/* who asked: "uid 0", a client's
					   subject, "" certd itself */
};
int	keystore_event(struct keystore *, const struct ks_event *);
/*
 * Whose request the work now running is ("uid 0", a TLS client's subject;
 * "" for certd itself): every event and pending key written from now on
 * records it, until it is set again.  The transport sets it around each
 * request, commit.c around each queued job.
 */
void		 keystore_set_actor(struct keystore *, const char *actor);
const char	*keystore_actor(struct keystore *);
/* Moves whenever the store is written (what status shows may differ). */
int64_t		 keystore_changes(struct keystore *);
/* Newest first, at most max, for domain (NULL: all) and type (NULL: all). */
int	keystore_events(struct keystore *, const char *domain, const char *type,
	    size_t max, struct ks_event **, size_t *n);
void	keystore_events_free(struct ks_event *, size_t);
/* Counters for metrics: commits per domain, rejections per code. */
struct ks_count { char key[64]; int64_t n; };
int	keystore_count(struct keystore *, const char *type, const char *group_by,
	    struct ks_count **, size_t *n);	/* group_by: "domain" or "result" */

#endif

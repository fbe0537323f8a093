/*
 * db.h: the SQLite store under the keystore (the only code that speaks SQL):
 * open/migrate/check, per-domain generations, staged items, events.
 */
#ifndef CERTD_DB_H
#define CERTD_DB_H

#include <stddef.h>
#include <stdint.h>

#include "keystore.h"
#include "error.h"

struct db;

/*
 * Open (create if missing, mode 0600) and migrate path.  Refuses with
 * E_INTERNAL and a clear message a file that is not SQLite, fails the
 * quick check (every page read and checked), or has a schema newer than
 * this build knows; such a file is never written to.
 */
struct db	*db_open(const char *path, struct cert_error *);
void		 db_close(struct db *);
int		 db_user_version(struct db *);
/* Rows written through this connection since it opened: moves with every
 * INSERT, UPDATE and DELETE (and what triggers do), committed or not. */
int64_t		 db_changes(struct db *);

/* Current generation of domain in *gen (0 if none or unknown domain). */
int	db_current(struct db *, const char *domain, int64_t *gen,
	    struct cert_error *);
/* Rows of one generation, seq order (root first); keys only if with_key. */
int	db_items(struct db *, const char *domain, int64_t gen, int with_key,
	    struct ks_item **, size_t *n, struct cert_error *);
/* Staged rows of domain, seq order. */
int	db_staged(struct db *, const char *domain, struct ks_item **,
	    size_t *n, struct cert_error *);
/* Stage one CA item: replaces a staged row of the same name or seq. */
int	db_stage_item(struct db *, const char *domain, const struct ks_item *,
	    int64_t now, struct cert_error *);
/* Drop the staged rows of domain; *n says how many. */
int	db_unstage(struct db *, const char *domain, int *n,
	    struct cert_error *);
/*
 * In one transaction: a new generation (max + 1) holding items, pending
 * (the domain's pending one, unsettled), staged rows cleared, and a
 * "commit" event with message.  It becomes current with db_make_live.
 */
int	db_commit_generation(struct db *, const char *domain,
	    const struct ks_item *, size_t n, int64_t now, const char *message,
	    int64_t *gen, struct cert_error *);
/* A fact about the store (the meta table): 0 if unset. */
int	db_meta(struct db *, const char *name, int64_t *, struct cert_error *);
int	db_set_meta(struct db *, const char *name, int64_t,
	    struct cert_error *);
/* current (last live), pending and unsettled of a domain (all 0 if the
 * domain is unknown). */
int	db_domain_state(struct db *, const char *domain, struct ks_state *,
	    struct cert_error *);
/* Start making an existing gen current (a rollback): pending = gen,
 * unsettled.  E_NOT_FOUND if there is no such gen, or one is pending. */
int	db_set_pending(struct db *, const char *domain, int64_t gen,
	    const char *reason, int64_t now, struct cert_error *);
/* The pending gen passed: live and current, pending and unsettled
 * cleared; a newer current it replaces becomes rolled-back.  With pr, the
 * domain is pruned in the same transaction (db_prune). */
struct db_prune_req {
	int		 keep;
	int64_t		**kept;		/* out, malloc'd */
	size_t		*nkept;		/* out */
};
int	db_make_live(struct db *, const char *domain, int64_t gen,
	    const char *message, int64_t now, const struct db_prune_req *,
	    struct cert_error *);
/* The pending gen failed: pending cleared, the gen (if never live) marked
 * state ("rolled-back" or "failed") and its CA items that the live chain
 * lacks staged again; unsettled stays set. */
int	db_drop_pending(struct db *, const char *domain, int64_t gen,
	    const char *state, const char *message, int64_t now,
	    struct cert_error *);
/* The dependents ran on what is current: unsettled cleared. */
int	db_settle(struct db *, const char *domain, struct cert_error *);
/* fn for every unsettled domain (an indexed query). */
/* How the last commit, rollback or reload of domain ended (status). */
int	db_set_outcome(struct db *, const char *domain, const char *result,
	    const char *message, int64_t gen, int64_t at, struct cert_error *);
/* How many domains, and the one whose server certificate expires first
 * ("" if none has one): two index lookups. */
int	db_soonest(struct db *, int64_t *ndomains, char domain[DOMAIN_MAX + 1],
	    int64_t *not_after, struct cert_error *);
int	db_unsettled(struct db *, int (*fn)(const char *, void *), void *,
	    struct cert_error *);
/* fn for every domain whose server certificate expires before before,
 * soonest first (an index range). */
typedef int (*db_expiry_fn)(const char *domain, int64_t generation,
    int64_t not_after, void *);
int	db_expiring(struct db *, int64_t before, db_expiry_fn, void *,
	    struct cert_error *);
/* fn for every domain with a live generation and nothing in flight. */
int	db_settled(struct db *, int (*fn)(const char *, void *), void *,
	    struct cert_error *);
int	db_generations(struct db *, const char *domain,
	    struct ks_generation **, size_t *n, struct cert_error *);
/* fn for every domain (or only domain), in name order; fn returning
 * non-zero stops the walk. */
typedef int (*db_walk_fn)(const struct ks_summary *, void *);
int	db_walk(struct db *, const char *domain, db_walk_fn, void *,
	    struct cert_error *);
/* fn for every item of every current chain (name, seq, kind and not_after
 * set), by domain then seq. */
typedef int (*db_item_fn)(const char *domain, const struct ks_item *, void *);
int	db_walk_current(struct db *, db_item_fn, void *, struct cert_error *);
/* Delete generations beyond the newest keep, live ones first, never the
 * current or the pending one; *kept (malloc'd) lists the rest. */
int	db_prune(struct db *, const char *domain, int keep, int64_t **kept,
	    size_t *nkept, struct cert_error *);

/*
 * Record an event and count it.  The log keeps its newest DB_EVENTS_KEEP
 * rows (db_set_events_keep changes that, for tests); the counts are never
 * trimmed.
 */
#define DB_EVENTS_KEEP	10000
int	db_event_add(struct db *, const struct ks_event *, struct cert_error *);
void	db_set_events_keep(struct db *, int64_t keep);
/* Who the events written from now on are for ("" for certd itself). */
void		 db_set_actor(struct db *, const char *actor);
const char	*db_actor(struct db *);
int	db_events(struct db *, const char *domain, const char *type,
	    size_t max, struct ks_event **, size_t *n, struct cert_error *);
/* Totals of every event ever recorded, trimmed or not.  group_by:
 * "domain", "result", "dependent" or "dependent,result" (the key is then
 * "dependent\tresult"). */
int	db_count(struct db *, const char *type, const char *group_by,
	    struct ks_count **, size_t *n, struct cert_error *);

/*
 * Pending CSR keys (db_csr.c).  db_csr_add stores one (its actor is the
 * current one) and keeps the newest keep of the domain, in one
 * transaction; *id is the new row's.  db_csr_find: the row of domain
 * whose spki matches, with its key (stored form); E_NOT_FOUND if none.
 * db_csr_list: domain's rows, newest first, without keys.  db_csr_count:
 * how many domain has.
 */
int	db_csr_add(struct db *, const struct ks_csr *, int keep, int64_t *id,
	    struct cert_error *);
int	db_csr_find(struct db *, const char *domain, const char *spki,
	    struct ks_csr *, struct cert_error *);
int	db_csr_list(struct db *, const char *domain, struct ks_csr **,
	    size_t *n, struct cert_error *);
int	db_csr_count(struct db *, const char *domain, int64_t *n,
	    struct cert_error *);

#endif

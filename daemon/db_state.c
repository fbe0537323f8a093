/*
 * db_state.c: a domain's commit state in the store: which generation is
 * current and which pending, each generation's state (pending, live,
 * rolled-back, failed), the last outcome, and pruning.  Each change is one
 * transaction, with its event.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_private.h"
#include "util.h"

int
db_domain_state(struct db *db, const char *domain, struct ks_state *st,
    struct cert_error *err)
{
	sqlite3_stmt	*q;
	int		 r;

	memset(st, 0, sizeof(*st));
	if ((q = db_query(db, err, "SELECT coalesce(current, 0), "
	    "coalesce(pending, 0), unsettled FROM domains WHERE name = ?",
	    "t", domain)) == NULL)
		return -1;
	if ((r = sqlite3_step(q)) == SQLITE_ROW) {
		st->current = sqlite3_column_int64(q, 0);
		st->pending = sqlite3_column_int64(q, 1);
		st->unsettled = sqlite3_column_int(q, 2);
		r = SQLITE_DONE;
	}
	sqlite3_finalize(q);
	return r == SQLITE_DONE ? 0 : db_error(db, err, "read domain state");
}

int
db_set_pending(struct db *db, const char *domain, int64_t gen,
    const char *reason, int64_t now, struct cert_error *err)
{
	struct ks_event	 ev;
	int		 rc = -1, r;

	if (db_begin(db, err) == -1)
		return -1;
	r = db_run(db, err, "set pending generation", "UPDATE domains SET "
	    "pending = ?1, unsettled = 1 WHERE name = ?2 AND pending IS NULL "
	    "AND EXISTS (SELECT 1 FROM generations WHERE domain = ?2 AND "
	    "generation = ?1)", "it", gen, domain);
	if (r == -1)
		goto out;
	if (r != 1) {
		cert_error_set(err, E_NOT_FOUND, NULL, 0,
		    "%s has no generation %lld to make current", domain,
		    (long long)gen);
		goto out;
	}
	db_event_init(&ev, domain, gen, "rollback", "pending", now, reason);
	rc = db_add_event(db, &ev, err);
out:
	return db_end(db, rc, err);
}

/* db_prune's work, inside the caller's transaction. */
static int
prune_tx(struct db *db, const char *domain, int keep, int64_t **kept,
    size_t *nkept, struct cert_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 rc = -1, r;

	*kept = NULL;
	*nkept = 0;
	if (keep < 1)
		keep = 1;
	/*
	 * Keep the newest `keep` generations, live ones first (they are what
	 * a rollback goes back to), and always the current and the pending
	 * one.  keystore rows go with their generation (ON DELETE CASCADE).
	 */
	if (db_run(db, err, "prune generations", "DELETE FROM generations "
	    "WHERE domain = ?1 AND generation NOT IN (SELECT generation FROM "
	    "generations WHERE domain = ?1 ORDER BY state = 'live' DESC, "
	    "generation DESC LIMIT ?2) AND generation IS NOT (SELECT current "
	    "FROM domains WHERE name = ?1) AND generation IS NOT (SELECT "
	    "pending FROM domains WHERE name = ?1)", "ti", domain,
	    (int64_t)keep) == -1)
		goto out;
	if ((st = db_query(db, err, "SELECT generation FROM generations WHERE "
	    "domain = ? ORDER BY generation DESC", "t", domain)) == NULL)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		*kept = xreallocarray(*kept, *nkept + 1, sizeof(**kept));
		(*kept)[(*nkept)++] = sqlite3_column_int64(st, 0);
	}
	if (r != SQLITE_DONE) {
		db_error(db, err, "list kept generations");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	if (rc == -1) {
		free(*kept);
		*kept = NULL;
		*nkept = 0;
	}
	return rc;
}

int
db_make_live(struct db *db, const char *domain, int64_t gen,
    const char *message, int64_t now, const struct db_prune_req *pr,
    struct cert_error *err)
{
	struct ks_event	 ev;
	int		 rc = -1, r;

	if (pr != NULL) {
		*pr->kept = NULL;
		*pr->nkept = 0;
	}
	if (db_begin(db, err) == -1)
		return -1;
	/* Going back, the generation moved away from is undone. */
	if (db_run(db, err, "mark generations", "UPDATE generations SET "
	    "state = 'rolled-back' WHERE domain = ?1 AND generation = (SELECT "
	    "current FROM domains WHERE name = ?1) AND generation > ?2", "ti",
	    domain, gen) == -1)
		goto out;
	if ((r = db_run(db, err, "make live", "UPDATE domains SET current = "
	    "?1, pending = NULL, unsettled = 0 WHERE name = ?2 AND pending = "
	    "?1", "it", gen, domain)) == -1)
		goto out;
	if (r != 1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: generation %lld "
		    "is not the pending one", domain, (long long)gen);
		goto out;
	}
	if (db_run(db, err, "mark live", "UPDATE generations SET state = "
	    "'live' WHERE domain = ? AND generation = ?", "ti", domain,
	    gen) == -1)
		goto out;
	if (db_run(db, err, "note the server", "UPDATE domains SET "
	    "(not_after, subject, san, fingerprint) = (SELECT not_after, "
	    "subject, san, fingerprint FROM keystore WHERE domain_suffix = ?1 "
	    "AND generation = ?2 AND kind = 'server'), chain_length = (SELECT "
	    "count(*) FROM keystore WHERE domain_suffix = ?1 AND generation = "
	    "?2) WHERE name = ?1", "ti", domain, gen) == -1)
		goto out;
	db_event_init(&ev, domain, gen, "live", "ok", now, message);
	if (db_add_event(db, &ev, err) == -1)
		goto out;
	rc = pr != NULL ? prune_tx(db, domain, pr->keep, pr->kept, pr->nkept,
	    err) : 0;
out:
	rc = db_end(db, rc, err);
	if (rc == -1 && pr != NULL) {
		free(*pr->kept);
		*pr->kept = NULL;
		*pr->nkept = 0;
	}
	return rc;
}

int
db_drop_pending(struct db *db, const char *domain, int64_t gen,
    const char *state, const char *message, int64_t now,
    struct cert_error *err)
{
	struct ks_event	 ev;
	int		 rc = -1;

	if (db_begin(db, err) == -1)
		return -1;
	/*
	 * A new generation's CA items that the live chain does not hold were
	 * staged before the commit took them: staged again, a retry needs
	 * only the server certificate ("nothing changed" includes them).
	 */
	if (db_run(db, err, "stage again", "INSERT OR IGNORE INTO staged "
	    "(" ITEM_COLS ", domain_suffix, updated) SELECT " ITEM_COLS ", "
	    "domain_suffix, ?3 FROM keystore k WHERE k.domain_suffix = ?1 AND "
	    "k.generation = ?2 AND k.kind != 'server' AND EXISTS (SELECT 1 "
	    "FROM generations WHERE domain = ?1 AND generation = ?2 AND state "
	    "= 'pending') AND NOT EXISTS (SELECT 1 FROM keystore c JOIN "
	    "domains d ON d.name = c.domain_suffix AND d.current = c.generation "
	    "WHERE c.domain_suffix = ?1 AND c.seq = k.seq AND c.name = k.name "
	    "AND c.fingerprint = k.fingerprint)", "tii", domain, gen,
	    now) == -1)
		goto out;
	/* A generation never live takes state; a rollback target keeps its
	 * own.  unsettled stays: the dependents must run on what is back. */
	if (db_run(db, err, "mark generation", "UPDATE generations SET state "
	    "= ? WHERE domain = ? AND generation = ? AND state = 'pending'",
	    "tti", state, domain, gen) == -1 ||
	    db_run(db, err, "drop pending", "UPDATE domains SET pending = NULL "
	    "WHERE name = ? AND pending = ?", "ti", domain, gen) == -1)
		goto out;
	db_event_init(&ev, domain, gen, "rollback", state, now, message);
	rc = db_add_event(db, &ev, err);
out:
	return db_end(db, rc, err);
}

int
db_settle(struct db *db, const char *domain, struct cert_error *err)
{
	return db_run(db, err, "settle", "UPDATE domains SET unsettled = 0 "
	    "WHERE name = ? AND pending IS NULL", "t", domain) == -1 ? -1 : 0;
}

int
db_set_outcome(struct db *db, const char *domain, const char *result,
    const char *message, int64_t gen, int64_t at, struct cert_error *err)
{
	int	 rc;

	/*
	 * What status shows, not what the commit guarantee rests on: no
	 * flush of its own.  It reaches the disk with the next transaction
	 * that is flushed, or the checkpoint.
	 */
	sqlite3_exec(db->h, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	rc = db_run(db, err, "note the outcome", "UPDATE domains SET "
	    "outcome = ?, outcome_message = ?, outcome_generation = ?, "
	    "outcome_at = ? WHERE name = ?", "ttiit", result, message, gen,
	    at, domain) == -1 ? -1 : 0;
	sqlite3_exec(db->h, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	return rc;
}

int
db_prune(struct db *db, const char *domain, int keep, int64_t **kept,
    size_t *nkept, struct cert_error *err)
{
	*kept = NULL;
	*nkept = 0;
	if (db_begin(db, err) == -1)
		return -1;
	return db_end(db, prune_tx(db, domain, keep, kept, nkept, err), err);
}

/*
 * db_read.c: what status, metrics, the expiry timer and the start-up checks
 * read from the store: the soonest expiry, the domains in a state, one walk
 * over all domains (off their own rows: the keystore rows carry keys), the
 * current certificates, generations, events and event counts.  Nothing
 * here writes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "chain.h"
#include "db.h"
#include "db_private.h"
#include "util.h"

int
db_soonest(struct db *db, int64_t *ndomains, char domain[DOMAIN_MAX + 1],
    int64_t *not_after, struct cert_error *err)
{
	sqlite3_stmt	*st;
	int		 r;

	*ndomains = 0;
	*not_after = 0;
	domain[0] = '\0';
	if ((st = db_prepare(db, "SELECT count(*) FROM domains", err)) == NULL)
		return -1;
	if ((r = sqlite3_step(st)) == SQLITE_ROW)
		*ndomains = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return db_error(db, err, "count domains");
	/* One step down the domains_not_after index. */
	if ((st = db_prepare(db, "SELECT name, not_after FROM domains WHERE "
	    "not_after IS NOT NULL ORDER BY not_after LIMIT 1", err)) == NULL)
		return -1;
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		col_strlcpy(st, 0, domain, DOMAIN_MAX + 1);
		*not_after = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return db_error(db, err, "find the soonest expiry");
	return 0;
}

/* fn for each name sql selects. */
static int
db_names(struct db *db, const char *sql, int (*fn)(const char *, void *),
    void *arg, struct cert_error *err)
{
	sqlite3_stmt	*st;
	int		 r;

	if ((st = db_prepare(db, sql, err)) == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if (fn((const char *)sqlite3_column_text(st, 0), arg) != 0) {
			r = SQLITE_DONE;
			break;
		}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : db_error(db, err, "list domains");
}

int
db_expiring(struct db *db, int64_t before, db_expiry_fn fn, void *arg,
    struct cert_error *err)
{
	sqlite3_stmt	*st;
	int		 r;

	/* The domains_not_after index: only the domains that qualify. */
	if ((st = db_prepare(db, "SELECT name, current, not_after FROM domains "
	    "WHERE not_after IS NOT NULL AND not_after < ? ORDER BY not_after",
	    err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, before);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if (fn((const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
		    arg) != 0) {
			r = SQLITE_DONE;
			break;
		}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : db_error(db, err, "list expiring");
}

int
db_unsettled(struct db *db, int (*fn)(const char *, void *), void *arg,
    struct cert_error *err)
{
	return db_names(db, "SELECT name FROM domains WHERE unsettled != 0 "
	    "ORDER BY name", fn, arg, err);
}

int
db_settled(struct db *db, int (*fn)(const char *, void *), void *arg,
    struct cert_error *err)
{
	return db_names(db, "SELECT name FROM domains WHERE current IS NOT "
	    "NULL AND pending IS NULL AND unsettled = 0", fn, arg, err);
}

static void
read_generation(sqlite3_stmt *st, void *row)
{
	struct ks_generation	*g = row;

	g->generation = sqlite3_column_int64(st, 0);
	g->created = (time_t)sqlite3_column_int64(st, 1);
	g->current = sqlite3_column_int(st, 2);
	col_strlcpy(st, 3, g->state, sizeof(g->state));
}

int
db_generations(struct db *db, const char *domain,
    struct ks_generation **out, size_t *n, struct cert_error *err)
{
	static const struct db_rowtype rows = {
		sizeof(**out), read_generation, NULL
	};

	return db_rows(db, err, "read generations", &rows, out, n,
	    "SELECT g.generation, g.created, g.generation IS d.current, "
	    "g.state FROM generations g JOIN domains d ON d.name = g.domain "
	    "WHERE g.domain = ? ORDER BY g.generation DESC", "t", domain);
}

int
db_walk(struct db *db, const char *domain, db_walk_fn fn, void *arg,
    struct cert_error *err)
{
	struct ks_summary	 d;
	sqlite3_stmt		*st;
	int			 r;

	/*
	 * One pass over the domains table alone: make_live keeps the server
	 * certificate's summary on the domain's row, so the keystore (whose
	 * rows carry certificates and keys) is not read.  The statement is
	 * taken from db while in use: a walk from a walk's callback
	 * prepares its own.
	 */
	if ((st = db->walk) != NULL)
		db->walk = NULL;
	else
		st = db_prepare(db, "SELECT d.name, coalesce(d.current, 0), "
		    "coalesce(d.pending, 0), d.unsettled, (SELECT count(*) "
		    "FROM staged s WHERE s.domain_suffix = d.name), "
		    "d.chain_length, d.subject, d.san, d.not_after, "
		    "d.fingerprint, d.outcome, d.outcome_message, "
		    "coalesce(d.outcome_generation, 0), "
		    "coalesce(d.outcome_at, 0) "
		    "FROM domains d WHERE ?1 IS NULL OR d.name = ?1 "
		    "ORDER BY d.name", err);
	if (st == NULL)
		return -1;
	if (domain != NULL)
		sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		col_strlcpy(st, 0, d.name, sizeof(d.name));
		d.generation = sqlite3_column_int64(st, 1);
		d.pending = sqlite3_column_int64(st, 2);
		d.unsettled = sqlite3_column_int(st, 3);
		d.nstaged = (size_t)sqlite3_column_int64(st, 4);
		d.nitems = (size_t)sqlite3_column_int64(st, 5);
		d.has_server = sqlite3_column_type(st, 6) != SQLITE_NULL;
		d.subject = (const char *)sqlite3_column_text(st, 6);
		d.san = (const char *)sqlite3_column_text(st, 7);
		d.not_after = sqlite3_column_int64(st, 8);
		col_strlcpy(st, 9, d.fingerprint, sizeof(d.fingerprint));
		col_strlcpy(st, 10, d.outcome, sizeof(d.outcome));
		d.outcome_message = (const char *)sqlite3_column_text(st, 11);
		d.outcome_generation = sqlite3_column_int64(st, 12);
		d.outcome_at = sqlite3_column_int64(st, 13);
		if (d.outcome_message == NULL)
			d.outcome_message = "";
		if (d.subject == NULL)
			d.subject = "";
		if (d.san == NULL)
			d.san = "";
		if (fn(&d, arg) != 0) {
			r = SQLITE_DONE;
			break;
		}
	}
	/* Reset ends its read transaction; kept for the next walk. */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (db->walk == NULL)
		db->walk = st;
	else
		sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "database %s: list domains failed", db->path);
	return 0;
}

int
db_walk_current(struct db *db, db_item_fn fn, void *arg,
    struct cert_error *err)
{
	struct ks_item	 it;
	sqlite3_stmt	*st;
	char		 domain[DOMAIN_MAX + 1];
	int		 r;

	/* Domains first, then their rows from the covering index
	 * keystore_expiry: the rows themselves hold certificates and keys
	 * and are never read here (CROSS JOIN fixes the order). */
	st = db_prepare(db, "SELECT k.domain_suffix, k.name, k.seq, k.kind, "
	    "k.not_after FROM domains d CROSS JOIN keystore k "
	    "INDEXED BY keystore_expiry ON k.domain_suffix = d.name AND "
	    "k.generation = d.current ORDER BY d.name, k.seq", err);
	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&it, 0, sizeof(it));
		col_strlcpy(st, 0, domain, sizeof(domain));
		col_strlcpy(st, 1, it.name, sizeof(it.name));
		it.seq = sqlite3_column_int(st, 2);
		it.kind = chain_kind_from_name(
		    (const char *)sqlite3_column_text(st, 3));
		it.not_after = sqlite3_column_int64(st, 4);
		if (fn(domain, &it, arg) != 0) {
			r = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "database %s: list certificates failed", db->path);
	return 0;
}

static void
read_event(sqlite3_stmt *st, void *row)
{
	struct ks_event	*ev = row;

	ev->id = sqlite3_column_int64(st, 0);
	ev->at = (time_t)sqlite3_column_int64(st, 1);
	col_strlcpy(st, 2, ev->domain, sizeof(ev->domain));
	ev->generation = sqlite3_column_int64(st, 3);
	col_strlcpy(st, 4, ev->type, sizeof(ev->type));
	col_strlcpy(st, 5, ev->result, sizeof(ev->result));
	col_strlcpy(st, 6, ev->step, sizeof(ev->step));
	col_strlcpy(st, 7, ev->dependent, sizeof(ev->dependent));
	ev->duration_ms = sqlite3_column_int64(st, 8);
	ev->message = col_strdup(st, 9);
	col_strlcpy(st, 10, ev->actor, sizeof(ev->actor));
}

static void
clear_event(void *row)
{
	free(((struct ks_event *)row)->message);
}

int
db_events(struct db *db, const char *domain, const char *type, size_t max,
    struct ks_event **out, size_t *n, struct cert_error *err)
{
	static const struct db_rowtype rows = {
		sizeof(**out), read_event, clear_event
	};

	return db_rows(db, err, "read events", &rows, out, n, "SELECT id, at, "
	    "domain, generation, type, result, step, dependent, duration_ms, "
	    "message, actor FROM events WHERE (?1 IS NULL OR domain = ?1) "
	    "AND (?2 IS NULL OR type = ?2) ORDER BY id DESC LIMIT ?3", "tti",
	    domain, type, max > INT64_MAX ? INT64_MAX : (int64_t)max);
}

static void
read_count(sqlite3_stmt *st, void *row)
{
	struct ks_count	*c = row;

	col_strlcpy(st, 0, c->key, sizeof(c->key));
	c->n = sqlite3_column_int64(st, 1);
}

int
db_count(struct db *db, const char *type, const char *group_by,
    struct ks_count **out, size_t *n, struct cert_error *err)
{
	static const struct {
		const char	*name;
		const char	*expr;
	} groups[] = {
		/* Only these expressions reach the SQL text; the caller's
		 * string is matched, never pasted. */
		{ "domain", "domain" },
		{ "result", "result" },
		{ "dependent", "dependent" },
		{ "dependent,result", "dependent || char(9) || result" },
	};
	static const struct db_rowtype rows = {
		sizeof(**out), read_count, NULL
	};
	char		 sql[256];
	size_t		 i;

	*out = NULL;
	*n = 0;
	for (i = 0; i < nitems(groups); i++)
		if (group_by != NULL && strcmp(group_by, groups[i].name) == 0)
			break;
	if (i == nitems(groups))
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "unknown event grouping '%s'", group_by ? group_by : "");
	snprintf(sql, sizeof(sql), "SELECT %s AS k, sum(n) FROM event_counts "
	    "WHERE (?1 IS NULL OR type = ?1) GROUP BY k ORDER BY k",
	    groups[i].expr);
	return db_rows(db, err, "count events", &rows, out, n, sql, "t", type);
}

/*
 * db_private.h: what db.c shares with db_csr.c, the other file that
 * speaks SQL: the handle and the statement helpers.  Nobody else includes
 * it; callers see db.h.
 */
#ifndef CERTD_DB_PRIVATE_H
#define CERTD_DB_PRIVATE_H

#include <stdint.h>

#include <sqlite3.h>

#include "error.h"

#define DB_ACTOR_MAX	256

struct db {
	sqlite3	*h;
	/* db_walk's statement, kept: GET /v1/status under load spent more
	 * time parsing its SQL than running it. */
	sqlite3_stmt *walk;
	int64_t	 events_keep;
	char	 actor[DB_ACTOR_MAX];	/* of the events written now */
	char	 path[4096];
};

/* E_INTERNAL naming the file, what failed and SQLite's message: -1. */
int		 db_error(struct db *, struct cert_error *, const char *what);
int		 db_exec(struct db *, const char *sql, struct cert_error *);
sqlite3_stmt	*db_prepare(struct db *, const char *sql, struct cert_error *);
/*
 * Bind the parameters in order as types says ('t' a string, 'i' an
 * int64_t).  db_query: the statement, for the caller to step and
 * finalize, or NULL.  Stepped once, db_run: a statement that returns no
 * rows; the number of rows changed, or -1.  db_int: a query for one
 * integer into *out (left as it was if no row); 0 or -1.
 */
sqlite3_stmt	*db_query(struct db *, struct cert_error *, const char *sql,
		    const char *types, ...);
int		 db_run(struct db *, struct cert_error *, const char *what,
		    const char *sql, const char *types, ...);
int		 db_int(struct db *, struct cert_error *, int64_t *out,
		    const char *sql, const char *types, ...);
/* BEGIN IMMEDIATE; db_end commits if rc is 0, else rolls back: 0 or -1. */
int		 db_begin(struct db *, struct cert_error *);
int		 db_end(struct db *, int rc, struct cert_error *);
/*
 * How rows of one kind are read into an array: each becomes an element of
 * size bytes, zeroed, then filled by read; clear, if not NULL, frees what
 * read allocated in one element.
 */
struct db_rowtype {
	size_t	  size;
	void	(*read)(sqlite3_stmt *, void *row);
	void	(*clear)(void *row);
};
/*
 * All the rows sql returns (bound as in db_query), as an array of type's
 * elements in the caller's pointer that arrayp points to (NULL for none),
 * and their number in *n: 0.  -1 with err naming what if the query fails;
 * nothing is kept then (*arrayp NULL, *n 0).
 */
int		 db_rows(struct db *, struct cert_error *, const char *what,
		    const struct db_rowtype *type, void *arrayp, size_t *n,
		    const char *sql, const char *types, ...);
/* Column i as text ("" for NULL): a malloc'd copy, or into dst. */
char		*col_strdup(sqlite3_stmt *, int i);
void		 col_strlcpy(sqlite3_stmt *, int i, char *dst, size_t size);

/* The columns of a keystore or staged row, but the key. */
#define ITEM_COLS "name, seq, kind, fingerprint, subject, issuer, serial, " \
	"san, not_before, not_after, created, certificate"

/* Inside a transaction: the event, its count, and the log trimmed. */
int		 db_add_event(struct db *, const struct ks_event *,
		    struct cert_error *);
/* An event of domain's generation gen (message is not copied). */
void		 db_event_init(struct ks_event *, const char *domain,
		    int64_t gen, const char *type, const char *result,
		    int64_t now, const char *message);
/* Inside db_commit_generation's transaction: the pending key id of
 * domain is being stored; its row goes (E_NOT_FOUND if it went). */
int		 db_csr_take(struct db *, const char *domain, int64_t id,
		    struct cert_error *);

#endif

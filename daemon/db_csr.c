/*
 * db_csr.c: the rows of the CSR flow's pending keys (sql/006_csr_keys.sql),
 * beside db.c: the only other file that speaks SQL.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_private.h"
#include "key.h"
#include "util.h"

#define CSR_COLS	"id, domain, spki, key_type, names, created, actor"

int
db_csr_add(struct db *db, const struct ks_csr *c, int keep, int64_t *id,
    struct cert_error *err)
{
	int	 rc = -1;

	if (db_begin(db, err) == -1)
		return -1;
	if (db_run(db, err, "store pending key", "INSERT INTO csr_keys (domain, "
	    "spki, key, key_type, names, created, actor) VALUES (?, ?, ?, ?, ?, "
	    "?, ?)", "tttttit", c->domain, c->spki, c->key, c->key_type,
	    c->names, c->created, db->actor) == -1)
		goto out;
	*id = sqlite3_last_insert_rowid(db->h);
	/* A client that asks again and again keeps the newest few. */
	if (db_run(db, err, "drop old pending keys", "DELETE FROM csr_keys "
	    "WHERE domain = ?1 AND id NOT IN (SELECT id FROM csr_keys WHERE "
	    "domain = ?1 ORDER BY id DESC LIMIT ?2)", "ti", c->domain,
	    (int64_t)keep) == -1)
		goto out;
	if (key_is_sealed(c->key) && db_set_meta(db, "sealed", 1, err) == -1)
		goto out;
	rc = 0;
out:
	return db_end(db, rc, err);
}

int
db_csr_take(struct db *db, const char *domain, int64_t id,
    struct cert_error *err)
{
	int	 n;

	n = db_run(db, err, "take pending key", "DELETE FROM csr_keys WHERE "
	    "domain = ? AND id = ?", "ti", domain, id);
	if (n == 0)
		return cert_error_set(err, E_KEY_MISMATCH, NULL, 0, "the pending "
		    "key of %s went while its certificate was committed",
		    domain);
	return n == -1 ? -1 : 0;
}

static void
read_csr(sqlite3_stmt *st, void *row)
{
	struct ks_csr	*c = row;

	c->id = sqlite3_column_int64(st, 0);
	col_strlcpy(st, 1, c->domain, sizeof(c->domain));
	col_strlcpy(st, 2, c->spki, sizeof(c->spki));
	col_strlcpy(st, 3, c->key_type, sizeof(c->key_type));
	c->names = col_strdup(st, 4);
	c->created = sqlite3_column_int64(st, 5);
	col_strlcpy(st, 6, c->actor, sizeof(c->actor));
}

int
db_csr_find(struct db *db, const char *domain, const char *spki,
    struct ks_csr *c, struct cert_error *err)
{
	sqlite3_stmt	*st;
	int		 r;

	memset(c, 0, sizeof(*c));
	if ((st = db_query(db, err, "SELECT " CSR_COLS ", key FROM csr_keys "
	    "WHERE domain = ? AND spki = ?", "tt", domain, spki)) == NULL)
		return -1;
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		read_csr(st, c);
		c->key = col_strdup(st, 7);
	}
	sqlite3_finalize(st);
	if (r == SQLITE_ROW)
		return 0;
	if (r != SQLITE_DONE)
		return db_error(db, err, "find pending key");
	return cert_error_set(err, E_NOT_FOUND, NULL, 0, "no pending key of "
	    "%s has that public key", domain);
}

static void
clear_csr(void *row)
{
	ks_csr_clear(row);
}

int
db_csr_list(struct db *db, const char *domain, struct ks_csr **out,
    size_t *n, struct cert_error *err)
{
	static const struct db_rowtype rows = {
		sizeof(**out), read_csr, clear_csr
	};

	return db_rows(db, err, "list pending keys", &rows, out, n,
	    "SELECT " CSR_COLS " FROM csr_keys WHERE domain = ? "
	    "ORDER BY id DESC", "t", domain);
}

int
db_csr_count(struct db *db, const char *domain, int64_t *n,
    struct cert_error *err)
{
	*n = 0;
	return db_int(db, err, n, "SELECT count(*) FROM csr_keys WHERE "
	    "domain = ?", "t", domain);
}

/*
 * db.c: the SQLite store (with db_csr.c and db_read.c, the only files
 * that use SQLite).  Opens with checks and migrations, and offers the
 * row-level operations that change it to keystore.c.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "chain.h"
#include "db.h"
#include "db_private.h"
#include "key.h"
#include "log.h"
#include "util.h"

extern const char *const sql_migrations[];
extern const size_t sql_migrations_count;

#define DB_BUSY_TIMEOUT	5000	/* ms: a second process (sqlite3 CLI) may read */
/*
 * SQLite's page cache, KiB.  A commit touches a few dozen pages; status and
 * metrics walk tables that grow with the domains (2-5 MB at 10,000), and
 * re-reading them from the kernel's page cache costs no measurable time
 * (8 MiB here made status and metrics no faster) while holding them would
 * add to the daemon's memory for good.
 */
#define DB_CACHE_KB	"2048"

int
db_error(struct db *db, struct cert_error *err, const char *what)
{
	return cert_error_set(err, E_INTERNAL, NULL, 0, "database %s: %s: %s",
	    db->path, what, sqlite3_errmsg(db->h));
}

int
db_exec(struct db *db, const char *sql, struct cert_error *err)
{
	char	*msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "database %s: %s",
		    db->path, msg != NULL ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

sqlite3_stmt *
db_prepare(struct db *db, const char *sql, struct cert_error *err)
{
	sqlite3_stmt	*st = NULL;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(db, err, "prepare");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Prepare SQL and bind its parameters from AP in order as TYPES says ('t'
 * a string, 'i' an int64_t). */
static sqlite3_stmt *
db_vquery(struct db *db, struct cert_error *err, const char *sql,
    const char *types, va_list ap)
{
	sqlite3_stmt	*st;
	int		 i;

	if ((st = db_prepare(db, sql, err)) == NULL)
		return NULL;
	for (i = 1; *types != '\0'; types++, i++) {
		if (*types == 't')
			sqlite3_bind_text(st, i, va_arg(ap, const char *), -1,
			    SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
	}
	return st;
}

sqlite3_stmt *
db_query(struct db *db, struct cert_error *err, const char *sql,
    const char *types, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;

	va_start(ap, types);
	st = db_vquery(db, err, sql, types, ap);
	va_end(ap);
	return st;
}

/*
 * The statement of db_vquery, stepped once.  A row is stored in *OUT (its
 * first column) when OUT is given, and is an error otherwise; no row
 * leaves *OUT as it was.  WHAT names the statement in an error.
 */
static int
db_vrun(struct db *db, struct cert_error *err, const char *what,
    int64_t *out, const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt	*st;
	int		 r;

	if ((st = db_vquery(db, err, sql, types, ap)) == NULL)
		return -1;
	if ((r = sqlite3_step(st)) == SQLITE_ROW && out != NULL) {
		*out = sqlite3_column_int64(st, 0);
		r = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : db_error(db, err, what);
}

int
db_run(struct db *db, struct cert_error *err, const char *what,
    const char *sql, const char *types, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, types);
	r = db_vrun(db, err, what, NULL, sql, types, ap);
	va_end(ap);
	return r == -1 ? -1 : sqlite3_changes(db->h);
}

int
db_int(struct db *db, struct cert_error *err, int64_t *out, const char *sql,
    const char *types, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, types);
	r = db_vrun(db, err, sql, out, sql, types, ap);
	va_end(ap);
	return r;
}

int
db_begin(struct db *db, struct cert_error *err)
{
	/* IMMEDIATE: take the write lock now, not at the first write, so a
	 * transaction never fails half-way on SQLITE_BUSY. */
	return db_exec(db, "BEGIN IMMEDIATE", err);
}

int
db_end(struct db *db, int rc, struct cert_error *err)
{
	if (rc == 0 && db_exec(db, "COMMIT", err) == 0)
		return 0;
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
db_rows(struct db *db, struct cert_error *err, const char *what,
    const struct db_rowtype *type, void *arrayp, size_t *n, const char *sql,
    const char *types, ...)
{
	sqlite3_stmt	*st;
	unsigned char	*a = NULL;
	size_t		 len = 0, i;
	va_list		 ap;
	int		 r;

	va_start(ap, types);
	st = db_vquery(db, err, sql, types, ap);
	va_end(ap);
	*n = 0;
	memcpy(arrayp, &a, sizeof(a));
	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		a = xreallocarray(a, len + 1, type->size);
		memset(a + len * type->size, 0, type->size);
		type->read(st, a + len * type->size);
		len++;
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		for (i = 0; type->clear != NULL && i < len; i++)
			type->clear(a + i * type->size);
		free(a);
		return db_error(db, err, what);
	}
	/* A pointer to the caller's array of structs: memcpy, not a store
	 * through void **, which would alias another pointer type. */
	memcpy(arrayp, &a, sizeof(a));
	*n = len;
	return 0;
}

char *
col_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	return xstrdup(s != NULL ? (const char *)s : "");
}

void
col_strlcpy(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	strlcpy(dst, s != NULL ? (const char *)s : "", size);
}

/*
 * Create the file with mode 0600 before SQLite does (it would use 0644 and
 * the umask); SQLite gives the -wal and -shm files the mode of the database.
 * An existing file with a looser mode is tightened: it holds private keys.
 */
static int
db_create_file(const char *path, struct cert_error *err)
{
	struct stat	 st;
	int		 fd;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "database %s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		cert_error_set(err, E_INTERNAL, NULL, 0,
		    "database %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		log_warnx("database %s: mode %04o too open, setting 0600", path,
		    (unsigned)(st.st_mode & 07777));
		if (fchmod(fd, 0600) == -1) {
			cert_error_set(err, E_INTERNAL, NULL, 0,
			    "database %s: chmod: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* Refuse files we must not touch; nothing here writes to the file. */
static int
db_check(struct db *db, int64_t *version, struct cert_error *err)
{
	sqlite3_stmt	*st = NULL;
	const char	*res;
	int		 rc = -1, r;

	*version = 0;
	if (db_int(db, NULL, version, "PRAGMA user_version", "") == -1) {
		r = sqlite3_errcode(db->h);
		if (r == SQLITE_NOTADB || r == SQLITE_CORRUPT)
			return cert_error_set(err, E_INTERNAL, NULL, 0,
			    "database %s is not a valid SQLite database (%s); "
			    "refusing to start: restore it from a backup or "
			    "move it away to start empty", db->path,
			    sqlite3_errmsg(db->h));
		return db_error(db, err, "read user_version");
	}
	if (*version > (int64_t)sql_migrations_count)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "database %s has schema version %lld, newer than the %zu "
		    "this certd knows; refusing to open it (downgrade?)",
		    db->path, (long long)*version, sql_migrations_count);

	/*
	 * quick_check reads every page and checks every b-tree, record and
	 * constraint, which is what a torn or overwritten page breaks; what
	 * it leaves out (that each index agrees with its table) is what
	 * makes integrity_check take longer, 75 ms against 45 ms at 10,000
	 * domains, and an index that disagrees loses no data (REINDEX).
	 * certd must answer within 100 ms of a start.
	 */
	if ((st = db_prepare(db, "PRAGMA quick_check(5)", err)) == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "database %s is "
		    "corrupt (%s); refusing to start: restore it from a backup",
		    db->path, sqlite3_errmsg(db->h));
		goto out;
	}
	res = (const char *)sqlite3_column_text(st, 0);
	if (res == NULL || strcmp(res, "ok") != 0) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "database %s is "
		    "corrupt (quick check: %s); refusing to start: restore "
		    "it from a backup", db->path, res != NULL ? res : "?");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int
db_migrate(struct db *db, int64_t from, struct cert_error *err)
{
	struct cert_error	 e;
	char			 sql[64];
	size_t			 i;
	int			 rc;

	for (i = (size_t)from; i < sql_migrations_count; i++) {
		cert_error_clear(&e);
		if (db_begin(db, &e) == -1)
			goto fail;
		/* user_version lives in the file header and is part of the
		 * transaction: a migration and its number land together. */
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
		rc = db_exec(db, sql_migrations[i], &e);
		if (rc == 0)
			rc = db_exec(db, sql, &e);
		if (db_end(db, rc, &e) == -1)
			goto fail;
		if (from > 0)
			log_info("database %s: migrated to schema version %zu",
			    db->path, i + 1);
	}
	return 0;
fail:
	return cert_error_set(err, E_INTERNAL, NULL, 0,
	    "migration to schema version %zu failed: %s", i + 1, e.message);
}

static int
db_check_keys(struct db *db, struct cert_error *err)
{
	int64_t	 bad = 0;

	if (db_int(db, err, &bad, "SELECT count(*) FROM pragma_foreign_key_check",
	    "") == -1)
		return -1;
	if (bad != 0)
		return cert_error_set(err, E_INTERNAL, NULL, 0, "database %s: "
		    "%lld rows refer to rows that are not there; refusing to "
		    "start: restore it from a backup", db->path,
		    (long long)bad);
	return 0;
}

struct db *
db_open(const char *path, struct cert_error *err)
{
	struct db	*db;
	int64_t		 version = 0;
	int		 flags;

	db = xcalloc(1, sizeof(*db));
	strlcpy(db->path, path, sizeof(db->path));
	db->events_keep = DB_EVENTS_KEEP;
	if (db_create_file(path, err) == -1)
		goto fail;

	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
	    SQLITE_OPEN_FULLMUTEX;
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		db_error(db, err, "open");
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 0);
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT);
	if (db_check(db, &version, err) == -1)
		goto fail;
	/* secure_delete: staged and pruned rows held keys; zero them in the
	 * file instead of leaving them in free pages. */
	if (db_exec(db, "PRAGMA cache_size = -" DB_CACHE_KB, err) == -1 ||
	    db_exec(db, "PRAGMA journal_mode = WAL", err) == -1 ||
	    db_exec(db, "PRAGMA synchronous = FULL", err) == -1 ||
	    db_exec(db, "PRAGMA secure_delete = ON", err) == -1)
		goto fail;
	/* Migrations rebuild tables: with foreign keys on, dropping one
	 * would cascade.  They are checked once all have run; without a
	 * migration, every write since the file was made was checked as it
	 * was made, and the check (a scan of each table) is not repeated. */
	if (db_migrate(db, version, err) == -1 ||
	    (version < (int64_t)sql_migrations_count &&
	    db_check_keys(db, err) == -1) ||
	    db_exec(db, "PRAGMA foreign_keys = ON", err) == -1)
		goto fail;
	return db;
fail:
	db_close(db);
	return NULL;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	sqlite3_finalize(db->walk);
	sqlite3_close_v2(db->h);
	free(db);
}

int64_t
db_changes(struct db *db)
{
	return sqlite3_total_changes64(db->h);
}

int
db_user_version(struct db *db)
{
	int64_t	 v = 0;

	if (db_int(db, NULL, &v, "PRAGMA user_version", "") == -1)
		return -1;
	return (int)v;
}

void
ks_item_clear(struct ks_item *it)
{
	if (it == NULL)
		return;
	free(it->subject);
	free(it->issuer);
	free(it->serial);
	free(it->san);
	free(it->certificate);
	if (it->key != NULL)
		freezero(it->key, strlen(it->key));
	memset(it, 0, sizeof(*it));
}

void
ks_items_free(struct ks_item *items, size_t n)
{
	size_t	 i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		ks_item_clear(&items[i]);
	free(items);
}

int
db_current(struct db *db, const char *domain, int64_t *gen,
    struct cert_error *err)
{
	*gen = 0;	/* no domain row, or current NULL */
	return db_int(db, err, gen, "SELECT coalesce(current, 0) FROM domains "
	    "WHERE name = ?", "t", domain);
}

/* Columns shared by keystore and staged, in the order read_item expects. */
/* A row of ITEM_COLS, then a key or NULL. */
static void
read_item(sqlite3_stmt *st, void *row)
{
	struct ks_item	*it = row;

	col_strlcpy(st, 0, it->name, sizeof(it->name));
	it->seq = sqlite3_column_int(st, 1);
	it->kind = chain_kind_from_name(
	    (const char *)sqlite3_column_text(st, 2));
	col_strlcpy(st, 3, it->fingerprint, sizeof(it->fingerprint));
	it->subject = col_strdup(st, 4);
	it->issuer = col_strdup(st, 5);
	it->serial = col_strdup(st, 6);
	it->san = col_strdup(st, 7);
	it->not_before = sqlite3_column_int64(st, 8);
	it->not_after = sqlite3_column_int64(st, 9);
	it->created = sqlite3_column_int64(st, 10);
	it->certificate = col_strdup(st, 11);
	it->has_key = sqlite3_column_type(st, 12) != SQLITE_NULL;
}

static void
read_item_key(sqlite3_stmt *st, void *row)
{
	struct ks_item	*it = row;

	read_item(st, row);
	if (it->has_key)
		it->key = col_strdup(st, 12);
}

static void
clear_item(void *row)
{
	ks_item_clear(row);
}

static const struct db_rowtype item_rows = {
	sizeof(struct ks_item), read_item, clear_item
};
static const struct db_rowtype item_key_rows = {
	sizeof(struct ks_item), read_item_key, clear_item
};

int
db_items(struct db *db, const char *domain, int64_t gen, int with_key,
    struct ks_item **out, size_t *n, struct cert_error *err)
{
	return db_rows(db, err, "read items", with_key ? &item_key_rows :
	    &item_rows, out, n, "SELECT " ITEM_COLS ", key FROM keystore "
	    "WHERE domain_suffix = ? AND generation = ? ORDER BY seq", "ti",
	    domain, gen);
}

int
db_staged(struct db *db, const char *domain, struct ks_item **out, size_t *n,
    struct cert_error *err)
{
	return db_rows(db, err, "read items", &item_rows, out, n,
	    "SELECT " ITEM_COLS ", NULL FROM staged WHERE domain_suffix = ? "
	    "ORDER BY seq", "t", domain);
}

static int
ensure_domain(struct db *db, const char *domain, int64_t now,
    struct cert_error *err)
{
	return db_run(db, err, "insert domain", "INSERT OR IGNORE INTO domains "
	    "(name, created) VALUES (?, ?)", "ti", domain, now) == -1 ? -1 : 0;
}

/* Bind the columns of ITEM_COLS from position 1. */
static void
bind_item(sqlite3_stmt *st, const struct ks_item *it, int64_t now)
{
	sqlite3_bind_text(st, 1, it->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, it->seq);
	sqlite3_bind_text(st, 3, chain_kind_name(it->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, it->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, it->subject ? it->subject : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 6, it->issuer ? it->issuer : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 7, it->serial ? it->serial : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 8, it->san ? it->san : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, it->not_before);
	sqlite3_bind_int64(st, 10, it->not_after);
	sqlite3_bind_int64(st, 11, it->created != 0 ? it->created : now);
	sqlite3_bind_text(st, 12, it->certificate, -1, SQLITE_STATIC);
}

int
db_stage_item(struct db *db, const char *domain, const struct ks_item *it,
    int64_t now, struct cert_error *err)
{
	sqlite3_stmt	*st = NULL;
	int		 rc = -1;

	if (db_begin(db, err) == -1)
		return -1;
	if (ensure_domain(db, domain, now, err) == -1)
		goto out;
	if (db_run(db, err, "replace staged item", "DELETE FROM staged WHERE "
	    "domain_suffix = ? AND (name = ? OR seq = ?)", "tti", domain,
	    it->name, (int64_t)it->seq) == -1)
		goto out;
	st = db_prepare(db, "INSERT INTO staged (" ITEM_COLS ", domain_suffix, "
	    "updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", err);
	if (st == NULL)
		goto out;
	bind_item(st, it, now);
	sqlite3_bind_text(st, 13, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 14, now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_error(db, err, "stage item");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return db_end(db, rc, err);
}

/* A domain row with no generation exists only for its staged items. */
static int
drop_empty_domain(struct db *db, const char *domain, struct cert_error *err)
{
	return db_run(db, err, "drop domain", "DELETE FROM domains WHERE "
	    "name = ?1 AND current IS NULL AND NOT EXISTS (SELECT 1 FROM staged "
	    "WHERE domain_suffix = ?1)", "t", domain) == -1 ? -1 : 0;
}

static int
delete_staged(struct db *db, const char *domain, int *n,
    struct cert_error *err)
{
	int	 r;

	r = db_run(db, err, "delete staged items", "DELETE FROM staged WHERE "
	    "domain_suffix = ?", "t", domain);
	if (r == -1)
		return -1;
	if (n != NULL)
		*n = r;
	return 0;
}

int
db_unstage(struct db *db, const char *domain, int *n, struct cert_error *err)
{
	int	 rc = -1;

	if (db_begin(db, err) == -1)
		return -1;
	if (delete_staged(db, domain, n, err) == 0 &&
	    drop_empty_domain(db, domain, err) == 0)
		rc = 0;
	return db_end(db, rc, err);
}

int
db_add_event(struct db *db, const struct ks_event *ev, struct cert_error *err)
{
	int64_t	 at, id;

	at = ev->at != 0 ? (int64_t)ev->at : (int64_t)time(NULL);
	if (db_run(db, err, "record event", "INSERT INTO events (at, domain, "
	    "generation, type, result, step, dependent, duration_ms, message, "
	    "actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "itittttitt", at,
	    ev->domain, ev->generation, ev->type, ev->result, ev->step,
	    ev->dependent, ev->duration_ms, ev->message != NULL ? ev->message :
	    "", db->actor) == -1)
		return -1;
	id = sqlite3_last_insert_rowid(db->h);
	if (db_run(db, err, "count event", "INSERT INTO event_counts (type, "
	    "domain, result, dependent, n) VALUES (?, ?, ?, ?, 1) ON CONFLICT "
	    "(type, domain, result, dependent) DO UPDATE SET n = n + 1",
	    "tttt", ev->type, ev->domain, ev->result, ev->dependent) == -1)
		return -1;
	if (db_run(db, err, "trim events", "DELETE FROM events WHERE id <= ?",
	    "i", id - db->events_keep) == -1)
		return -1;
	return 0;
}

int
db_event_add(struct db *db, const struct ks_event *ev, struct cert_error *err)
{
	if (db_begin(db, err) == -1)
		return -1;
	return db_end(db, db_add_event(db, ev, err), err);
}

void
db_set_events_keep(struct db *db, int64_t keep)
{
	db->events_keep = keep > 0 ? keep : 1;
}

void
db_set_actor(struct db *db, const char *actor)
{
	strlcpy(db->actor, actor != NULL ? actor : "", sizeof(db->actor));
}

const char *
db_actor(struct db *db)
{
	return db->actor;
}

void
db_event_init(struct ks_event *ev, const char *domain, int64_t gen,
    const char *type, const char *result, int64_t now, const char *message)
{
	memset(ev, 0, sizeof(*ev));
	ev->at = (time_t)now;
	strlcpy(ev->domain, domain, sizeof(ev->domain));
	ev->generation = gen;
	strlcpy(ev->type, type, sizeof(ev->type));
	strlcpy(ev->result, result, sizeof(ev->result));
	ev->message = (char *)(uintptr_t)(message != NULL ? message : "");
}

int
db_commit_generation(struct db *db, const char *domain,
    const struct ks_item *items, size_t n, int64_t now, const char *message,
    int64_t *genp, struct cert_error *err)
{
	sqlite3_stmt	*st = NULL;
	struct ks_event	 ev;
	int64_t		 gen;
	size_t		 i;
	int		 rc = -1;

	if (db_begin(db, err) == -1)
		return -1;
	if (ensure_domain(db, domain, now, err) == -1)
		goto out;
	gen = 0;
	if (db_int(db, err, &gen, "UPDATE domains SET last_generation = "
	    "last_generation + 1 WHERE name = ? RETURNING last_generation", "t",
	    domain) == -1 ||
	    db_run(db, err, "insert generation", "INSERT INTO generations "
	    "(domain, generation, created, state) VALUES (?, ?, ?, 'pending')",
	    "tii", domain, gen, now) == -1)
		goto out;

	st = db_prepare(db, "INSERT INTO keystore (" ITEM_COLS ", "
	    "domain_suffix, updated, generation, key) VALUES (?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", err);
	if (st == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		bind_item(st, &items[i], now);
		sqlite3_bind_text(st, 13, domain, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 14, now);
		sqlite3_bind_int64(st, 15, gen);
		if (items[i].key != NULL)
			sqlite3_bind_text(st, 16, items[i].key, -1,
			    SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_error(db, err, "insert keystore row");
			goto out;
		}
		/* From the first sealed key on, keys are never stored plain. */
		if (items[i].key != NULL && key_is_sealed(items[i].key) &&
		    db_set_meta(db, "sealed", 1, err) == -1)
			goto out;
		/* A key made for a CSR moves into this row. */
		if (items[i].csr_id != 0 &&
		    db_csr_take(db, domain, items[i].csr_id, err) == -1)
			goto out;
	}
	sqlite3_finalize(st);
	st = NULL;

	if (db_run(db, err, "set pending generation", "UPDATE domains SET "
	    "pending = ?, unsettled = 1 WHERE name = ?", "it", gen,
	    domain) == -1)
		goto out;
	if (delete_staged(db, domain, NULL, err) == -1)
		goto out;
	db_event_init(&ev, domain, gen, "commit", "pending", now, message);
	if (db_add_event(db, &ev, err) == -1)
		goto out;
	*genp = gen;
	rc = 0;
out:
	sqlite3_finalize(st);
	return db_end(db, rc, err);
}

int
db_meta(struct db *db, const char *name, int64_t *value,
    struct cert_error *err)
{
	*value = 0;
	return db_int(db, err, value, "SELECT CAST(value AS INTEGER) FROM meta "
	    "WHERE name = ?", "t", name);
}

int
db_set_meta(struct db *db, const char *name, int64_t value,
    struct cert_error *err)
{
	return db_run(db, err, "set meta", "INSERT INTO meta (name, value) "
	    "VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = ?2", "ti",
	    name, value) == -1 ? -1 : 0;
}

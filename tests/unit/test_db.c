/* test_db.c: the SQLite store: create, reopen, migrate, refuse bad files,
 * file modes, and the row operations keystore.c builds on. */
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "chain.h"
#include "db.h"
#include "util.h"
#include "testpki.h"
#include "testutil.h"

extern const char *const sql_migrations[];
extern const size_t sql_migrations_count;

struct fx {
	char		 dir[64];
	char		 path[128];
	struct db	*db;		/* with setup_open */
};

/* A scratch directory for path: each test opens it its own way. */
static int
setup(void **state)
{
	struct fx	*fx = calloc(1, sizeof(*fx));

	tpki_tmpdir(fx->dir, sizeof(fx->dir), "db");
	snprintf(fx->path, sizeof(fx->path), "%s/certd.db", fx->dir);
	*state = fx;
	return 0;
}

/* And a new database open at path, for the tests of the row operations. */
static int
setup_open(void **state)
{
	struct fx		*fx;
	struct cert_error	 err;

	setup(state);
	fx = *state;
	if ((fx->db = db_open(fx->path, &err)) == NULL)
		fail_msg("open: %s", err.message);
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	db_close(fx->db);
	tpki_rmtree(fx->dir);
	free(fx);
	return 0;
}

/* tests/unit/db-v1.sql, found through top_srcdir (make check sets it). */
static char *
v1_fixture(void)
{
	const char	*top = getenv("top_srcdir");
	char		 path[4096], *sql;
	size_t		 len;

	snprintf(path, sizeof(path), "%s/tests/unit/db-v1.sql",
	    top ? top : ".");
	if (read_file(path, 1 << 20, &sql, &len) == -1)
		fail_msg("cannot read %s (run from make check, or set "
		    "top_srcdir)", path);
	return sql;
}

/* Make path a version 1 database from the frozen fixture. */
static void
make_v1_db(const char *path)
{
	sqlite3		*h;
	char		*sql = v1_fixture(), *msg = NULL;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("db-v1.sql: %s", msg);
	sqlite3_close(h);
	free(sql);
	assert_string_equal(query1(path, "PRAGMA user_version"), "1");
}

/* The schema as text: every object's SQL, by name. */
static char *
schema_of(const char *path)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	char		*out = NULL, *tmp;
	size_t		 len = 0;

	assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT type || ' ' || name || "
	    "': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name",
	    -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char	*row = (const char *)sqlite3_column_text(st, 0);

		assert_non_null(tmp = realloc(out, len + strlen(row) + 2));
		out = tmp;
		memcpy(out + len, row, strlen(row));
		len += strlen(row);
		out[len++] = '\n';
		out[len] = '\0';
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	assert_non_null(out);
	return out;
}

static void
file_sha(const char *path, char out[65])
{
	char	*buf;
	size_t	 len;

	assert_int_equal(read_file(path, 1 << 24, &buf, &len), 0);
	sha256_hex(buf, len, out);
	free(buf);
}

static int
count_domain(const struct ks_summary *d, void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

static size_t
ndomains(struct db *db)
{
	struct cert_error	 err;
	size_t			 n = 0;

	assert_int_equal(db_walk(db, NULL, count_domain, &n, &err), 0);
	return n;
}

static void
events_free(struct ks_event *ev, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(ev[i].message);
	free(ev);
}

static struct ks_item
fake_item(const char *name, int seq, int kind, const char *key)
{
	struct ks_item	 it;

	memset(&it, 0, sizeof(it));
	strlcpy(it.name, name, sizeof(it.name));
	it.seq = seq;
	it.kind = kind;
	snprintf(it.fingerprint, sizeof(it.fingerprint), "%064d", seq);
	it.subject = (char *)"CN=s";
	it.issuer = (char *)"CN=i";
	it.serial = (char *)"01";
	it.san = (char *)"";
	it.not_before = 1000;
	it.not_after = 2000;
	it.certificate = (char *)name;
	it.key = (char *)key;
	return it;
}

/* Commit root + server for domain; returns the generation. */
static int64_t
commit_fake(struct db *db, const char *domain, const char *root)
{
	struct ks_item		 items[2];
	struct cert_error	 err;
	int64_t			 gen = 0;

	items[0] = fake_item(root, 1, KIND_ROOT, NULL);
	items[1] = fake_item("server", 2, KIND_SERVER, "KEY");
	if (db_commit_generation(db, domain, items, 2, 5000, "test", &gen,
	    &err) == -1)
		fail_msg("commit: %s", err.message);
	/* Its dependents passed. */
	if (db_make_live(db, domain, gen, "ok", 5000, NULL, &err) == -1)
		fail_msg("make live: %s", err.message);
	return gen;
}

static void
test_create_sets_wal_version_and_mode_0600(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct db		*db;
	char			 p[160];
	mode_t			 old;

	old = umask(0);		/* prove the mode is ours, not the umask's */
	db = db_open(fx->path, &err);
	umask(old);
	if (db == NULL)
		fail_msg("open: %s", err.message);
	assert_int_equal(db_user_version(db), (int)sql_migrations_count);
	assert_true(sql_migrations_count >= 2);
	commit_fake(db, "example.com", "root");
	assert_string_equal(query1(fx->path, "PRAGMA journal_mode"), "wal");
	assert_int_equal(file_mode(fx->path), 0600);
	snprintf(p, sizeof(p), "%s-wal", fx->path);
	assert_int_equal(file_mode(p), 0600);
	snprintf(p, sizeof(p), "%s-shm", fx->path);
	assert_int_equal(file_mode(p), 0600);
	db_close(db);
}

static void
test_loose_mode_is_tightened(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct db		*db;
	FILE			*f;

	assert_non_null(f = fopen(fx->path, "w"));	/* empty = new DB */
	fclose(f);
	assert_int_equal(chmod(fx->path, 0644), 0);
	assert_non_null(db = db_open(fx->path, &err));
	assert_int_equal(file_mode(fx->path), 0600);
	db_close(db);
}

static void
test_reopen_keeps_data(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct db		*db;
	struct ks_item		*items;
	size_t			 n;
	int64_t			 gen;

	assert_non_null(db = db_open(fx->path, &err));
	assert_int_equal(commit_fake(db, "example.com", "root"), 1);
	db_close(db);

	assert_non_null(db = db_open(fx->path, &err));
	assert_int_equal(db_current(db, "example.com", &gen, &err), 0);
	assert_int_equal(gen, 1);
	assert_int_equal(db_items(db, "example.com", 1, 1, &items, &n, &err),
	    0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].name, "root");
	assert_int_equal(items[0].kind, KIND_ROOT);
	assert_null(items[0].key);
	assert_false(items[0].has_key);
	assert_int_equal(items[1].kind, KIND_SERVER);
	assert_string_equal(items[1].key, "KEY");
	assert_true(items[1].has_key);
	ks_items_free(items, n);
	/* Without with_key the key stays in the DB but has_key says so. */
	assert_int_equal(db_items(db, "example.com", 1, 0, &items, &n, &err),
	    0);
	assert_null(items[1].key);
	assert_true(items[1].has_key);
	ks_items_free(items, n);
	assert_int_equal(commit_fake(db, "example.com", "root"), 2);
	db_close(db);
}

static void
test_v1_database_migrates(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct db		*db;
	struct ks_count		*c;
	size_t			 n;
	int64_t			 gen;

	/* A DB exactly as schema version 1 left it, with one commit and
	 * three events: the frozen tests/unit/db-v1.sql, never today's
	 * sql/001_initial.sql. */
	make_v1_db(fx->path);
	assert_string_equal(query1(fx->path, "SELECT count(*) FROM "
	    "sqlite_master WHERE name = 'events_domain'"), "0");

	if ((db = db_open(fx->path, &err)) == NULL)
		fail_msg("open v1: %s", err.message);
	assert_int_equal(db_user_version(db), (int)sql_migrations_count);
	assert_int_equal(db_current(db, "old.example", &gen, &err), 0);
	assert_int_equal(gen, 1);
	/* 002's objects exist and see the old rows. */
	assert_string_equal(query1(fx->path, "SELECT count(*) FROM "
	    "sqlite_master WHERE name = 'events_domain'"), "1");
	assert_string_equal(query1(fx->path, "SELECT name FROM "
	    "keystore_current WHERE domain_suffix = 'old.example'"), "root");
	assert_int_equal(commit_fake(db, "old.example", "root2"), 2);
	/* 003 counted the events recorded before it. */
	assert_int_equal(db_count(db, "reject", "result", &c, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].key, "E_ORDER");
	assert_int_equal(c[0].n, 2);
	free(c);
	assert_int_equal(db_count(db, "commit", "domain", &c, &n, &err), 0);
	assert_int_equal(c[0].n, 2);	/* the old one and root2's */
	free(c);
	db_close(db);
}

/*
 * A database migrated from v1 has the very schema of a new one.  A new one
 * runs today's 001..N, a migrated one the frozen v1 and then 002..N: they
 * differ exactly when 001 was edited (or a migration does not bring a v1
 * database where 001..N lead), which existing databases would never see.
 */
static void
test_v1_migrated_schema_equals_new(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct db		*db;
	char			 fresh[160], *a, *b;

	make_v1_db(fx->path);
	if ((db = db_open(fx->path, &err)) == NULL)
		fail_msg("open v1: %s", err.message);
	db_close(db);
	snprintf(fresh, sizeof(fresh), "%s/fresh.db", fx->dir);
	if ((db = db_open(fresh, &err)) == NULL)
		fail_msg("open new: %s", err.message);
	db_close(db);
	a = schema_of(fx->path);
	b = schema_of(fresh);
	unlink(fresh);
	snprintf(fresh, sizeof(fresh), "%s/fresh.db-wal", fx->dir);
	unlink(fresh);
	snprintf(fresh, sizeof(fresh), "%s/fresh.db-shm", fx->dir);
	unlink(fresh);
	if (strcmp(a, b) != 0) {
		const char	*p = a, *q = b;
		int		 line = 1;

		/* The first line that differs (the whole text is too long
		 * for cmocka's message). */
		for (; *p == *q; p++, q++)
			line += *p == '\n';
		while (p > a && p[-1] != '\n')
			p--, q--;
		fail_msg("the schema of a database migrated from v1 differs "
		    "from a new one's at line %d:\n  migrated v1: %.*s\n  new "
		    "database:  %.*s\nsql/001_initial.sql must not change: "
		    "add a migration", line, (int)strcspn(p, "\n"), p,
		    (int)strcspn(q, "\n"), q);
	}
	assert_non_null(strstr(a, "table keystore: CREATE TABLE keystore"));
	free(a);
	free(b);
}

static void
refuses_unchanged(struct fx *fx, const char *expect)
{
	struct cert_error	 err;
	char			 before[65], after[65];
	struct stat		 st;
	char			 p[160];

	file_sha(fx->path, before);
	cert_error_clear(&err);
	assert_null(db_open(fx->path, &err));
	assert_int_equal(err.code, E_INTERNAL);
	if (strstr(err.message, expect) == NULL)
		fail_msg("message '%s' lacks '%s'", err.message, expect);
	assert_non_null(strstr(err.message, fx->path));
	file_sha(fx->path, after);
	assert_string_equal(before, after);	/* never rewritten */
	snprintf(p, sizeof(p), "%s-wal", fx->path);
	if (stat(p, &st) == 0)
		assert_int_equal(st.st_size, 0);
}

static void
test_newer_schema_refuses(void **state)
{
	struct fx	*fx = *state;
	sqlite3		*h;

	assert_int_equal(sqlite3_open(fx->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "CREATE TABLE t (x);"
	    "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	refuses_unchanged(fx, "newer");
}

static void
test_garbage_file_refuses(void **state)
{
	struct fx	*fx = *state;
	FILE		*f;
	int		 i;

	assert_non_null(f = fopen(fx->path, "w"));
	for (i = 0; i < 200; i++)
		fputs("this is not a database, it is a text file\n", f);
	fclose(f);
	refuses_unchanged(fx, "not a valid SQLite database");
}

static void
test_corrupt_database_refuses(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct db		*db;
	sqlite3			*h;
	FILE			*f;
	char			 junk[4096];
	int			 i;

	assert_non_null(db = db_open(fx->path, &err));
	for (i = 0; i < 20; i++) {
		char	 d[32];

		snprintf(d, sizeof(d), "d%d.example", i);
		commit_fake(db, d, "root");
	}
	db_close(db);
	/* Fold the WAL into the file, then smash pages 2-3 (the header on
	 * page 1 stays valid, so only a check of every page can tell). */
	assert_int_equal(sqlite3_open(fx->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE);"
	    "PRAGMA journal_mode = DELETE", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	memset(junk, 0x5a, sizeof(junk));
	assert_non_null(f = fopen(fx->path, "r+"));
	assert_int_equal(fseek(f, 4096, SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	refuses_unchanged(fx, "corrupt");
}

static void
test_stage_replace_unstage(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct ks_item		 it, *items;
	size_t			 n;
	int			 cnt;

	it = fake_item("root", 1, KIND_ROOT, NULL);
	assert_int_equal(db_stage_item(fx->db, "a.example", &it, 10, &err), 0);
	it = fake_item("inter", 2, KIND_INTERMEDIATE, NULL);
	assert_int_equal(db_stage_item(fx->db, "a.example", &it, 10, &err), 0);
	/* Same name again replaces; same seq under another name too. */
	it = fake_item("inter", 2, KIND_INTERMEDIATE, NULL);
	it.certificate = (char *)"second";
	assert_int_equal(db_stage_item(fx->db, "a.example", &it, 11, &err), 0);
	assert_int_equal(db_staged(fx->db, "a.example", &items, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[1].certificate, "second");
	ks_items_free(items, n);
	it = fake_item("other", 2, KIND_INTERMEDIATE, NULL);
	assert_int_equal(db_stage_item(fx->db, "a.example", &it, 12, &err), 0);
	assert_int_equal(db_staged(fx->db, "a.example", &items, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[1].name, "other");
	ks_items_free(items, n);

	assert_int_equal(ndomains(fx->db), 1);
	/* Discarding the only staged items of a new domain forgets it. */
	assert_int_equal(db_unstage(fx->db, "a.example", &cnt, &err), 0);
	assert_int_equal(cnt, 2);
	assert_int_equal(ndomains(fx->db), 0);
}

static void
test_commit_clears_staged(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct ks_item		 it, *items;
	size_t			 n;

	it = fake_item("root", 1, KIND_ROOT, NULL);
	assert_int_equal(db_stage_item(fx->db, "a.example", &it, 10, &err), 0);
	assert_int_equal(commit_fake(fx->db, "a.example", "root"), 1);
	assert_int_equal(db_staged(fx->db, "a.example", &items, &n, &err), 0);
	assert_int_equal(n, 0);
	free(items);
}

/* A generation is pending until its dependents pass; rollbacks and
 * failures change no current generation until they are decided. */
static void
test_commit_states(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct ks_item		 items[2];
	struct ks_state		 st;
	struct ks_generation	*g;
	int64_t			 gen = 0;
	size_t			 n;

	assert_int_equal(commit_fake(fx->db, "a.example", "root"), 1);
	assert_int_equal(commit_fake(fx->db, "a.example", "root"), 2);
	items[0] = fake_item("root", 1, KIND_ROOT, NULL);
	items[1] = fake_item("server", 2, KIND_SERVER, "KEY");
	assert_int_equal(db_commit_generation(fx->db, "a.example", items, 2,
	    6000, "test", &gen, &err), 0);
	assert_int_equal(gen, 3);
	/* Stored, pending: current is still 2, the domain unsettled. */
	assert_int_equal(db_domain_state(fx->db, "a.example", &st, &err), 0);
	assert_int_equal(st.current, 2);
	assert_int_equal(st.pending, 3);
	assert_int_equal(st.unsettled, 1);
	assert_string_equal(query1(fx->path, "SELECT state FROM generations "
	    "WHERE domain = 'a.example' AND generation = 3"), "pending");
	/* A second pending one is refused while 3 is. */
	assert_int_equal(db_set_pending(fx->db, "a.example", 1, "x", 6000,
	    &err), -1);
	/* 3 fails: rolled back, still unsettled until the rerun. */
	assert_int_equal(db_drop_pending(fx->db, "a.example", 3, "rolled-back",
	    "configtest failed", 6000, &err), 0);
	assert_int_equal(db_domain_state(fx->db, "a.example", &st, &err), 0);
	assert_int_equal(st.current, 2);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.unsettled, 1);
	assert_int_equal(db_settle(fx->db, "a.example", &err), 0);
	assert_int_equal(db_domain_state(fx->db, "a.example", &st, &err), 0);
	assert_int_equal(st.unsettled, 0);
	/* Rollback to 1: pending until it passes; then 2 is rolled back. */
	assert_int_equal(db_set_pending(fx->db, "a.example", 42, "x", 7000,
	    &err), -1);
	assert_int_equal(err.code, E_NOT_FOUND);
	assert_int_equal(db_set_pending(fx->db, "a.example", 1, "undo", 7000,
	    &err), 0);
	assert_int_equal(db_make_live(fx->db, "a.example", 1, "ok", 7000,
	    NULL, &err), 0);
	assert_int_equal(db_domain_state(fx->db, "a.example", &st, &err), 0);
	assert_int_equal(st.current, 1);
	assert_int_equal(st.unsettled, 0);
	assert_int_equal(db_generations(fx->db, "a.example", &g, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(g[0].state, "rolled-back");	/* 3 */
	assert_string_equal(g[1].state, "rolled-back");	/* 2 */
	assert_string_equal(g[2].state, "live");		/* 1 */
	assert_true(g[2].current);
	free(g);
	/* Only the pending generation is made live. */
	assert_int_equal(db_make_live(fx->db, "a.example", 2, "ok", 7000,
	    NULL, &err), -1);
}

/* Keep N: live generations first, never the current or pending one. */
static void
test_prune_live_first(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct ks_item		 items[2];
	int64_t			*kept, gen;
	size_t			 n;
	int			 i;

	assert_int_equal(commit_fake(fx->db, "a.example", "root"), 1);
	assert_int_equal(commit_fake(fx->db, "a.example", "root"), 2);
	/* Ten failures in a row (3..12), each rolled back. */
	for (i = 0; i < 10; i++) {
		items[0] = fake_item("root", 1, KIND_ROOT, NULL);
		items[1] = fake_item("server", 2, KIND_SERVER, "KEY");
		assert_int_equal(db_commit_generation(fx->db, "a.example",
		    items, 2, 6000, "t", &gen, &err), 0);
		assert_int_equal(db_drop_pending(fx->db, "a.example", gen,
		    "rolled-back", "failed", 6000, &err), 0);
		assert_int_equal(db_settle(fx->db, "a.example", &err), 0);
		assert_int_equal(db_prune(fx->db, "a.example", 2, &kept, &n,
		    &err), 0);
		/* 2 and 1 are live: the rollback targets stay. */
		assert_int_equal(n, 2);
		assert_int_equal(kept[0], 2);
		assert_int_equal(kept[1], 1);
		free(kept);
	}
	assert_string_equal(query1(fx->path, "SELECT count(*) FROM keystore "
	    "WHERE generation > 2"), "0");
	/* A pending generation is never pruned. */
	items[0] = fake_item("root", 1, KIND_ROOT, NULL);
	items[1] = fake_item("server", 2, KIND_SERVER, "KEY");
	assert_int_equal(db_commit_generation(fx->db, "a.example", items, 2,
	    6000, "t", &gen, &err), 0);
	assert_int_equal(db_prune(fx->db, "a.example", 1, &kept, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(kept[0], gen);
	assert_int_equal(kept[1], 2);
	free(kept);
}

static void
test_events_and_counts(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct ks_event		 e, *ev;
	struct ks_count		*c;
	size_t			 n;

	commit_fake(fx->db, "a.example", "root");
	commit_fake(fx->db, "a.example", "root");
	commit_fake(fx->db, "b.example", "root");
	memset(&e, 0, sizeof(e));
	strcpy(e.domain, "a.example");
	strcpy(e.type, "reject");
	strcpy(e.result, "E_ORDER");
	e.message = (char *)"no root";
	assert_int_equal(db_event_add(fx->db, &e, &err), 0);
	strcpy(e.type, "reload");
	strcpy(e.result, "ok");
	strcpy(e.dependent, "apache");
	e.duration_ms = 85;
	assert_int_equal(db_event_add(fx->db, &e, &err), 0);

	assert_int_equal(db_count(fx->db, "commit", "domain", &c, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].key, "a.example");
	assert_int_equal(c[0].n, 2);
	assert_int_equal(c[1].n, 1);
	free(c);
	assert_int_equal(db_count(fx->db, "reject", "result", &c, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].key, "E_ORDER");
	free(c);
	assert_int_equal(db_count(fx->db, "reload", "dependent,result", &c, &n,
	    &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].key, "apache\tok");
	free(c);
	assert_int_equal(db_count(fx->db, NULL, "x; DROP TABLE events", &c, &n,
	    &err), -1);

	assert_int_equal(db_events(fx->db, NULL, NULL, 2, &ev, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].type, "reload");	/* newest first */
	assert_int_equal(ev[0].duration_ms, 85);
	assert_string_equal(ev[1].message, "no root");
	events_free(ev, n);
}

/* The log keeps its newest rows; the totals keep counting. */
static void
test_events_trimmed_counts_kept(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct ks_event		 e, *ev;
	struct ks_count		*c;
	size_t			 n;
	int			 i;

	db_set_events_keep(fx->db, 5);
	memset(&e, 0, sizeof(e));
	strcpy(e.domain, "a.example");
	strcpy(e.type, "reject");
	for (i = 0; i < 12; i++) {
		strcpy(e.result, i % 3 == 0 ? "E_EXPIRED" : "E_ORDER");
		e.at = 1000 + i;
		assert_int_equal(db_event_add(fx->db, &e, &err), 0);
	}
	assert_string_equal(query1(fx->path, "SELECT count(*) FROM events"),
	    "5");
	assert_int_equal(db_events(fx->db, NULL, NULL, 10, &ev, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_int_equal(ev[0].at, 1011);	/* the newest five */
	assert_int_equal(ev[4].at, 1007);
	events_free(ev, n);
	assert_int_equal(db_count(fx->db, "reject", "result", &c, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].key, "E_EXPIRED");
	assert_int_equal(c[0].n, 4);
	assert_string_equal(c[1].key, "E_ORDER");
	assert_int_equal(c[1].n, 8);
	free(c);
}

static void
test_failed_commit_changes_nothing(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct ks_item		 items[2], it, *rows;
	size_t			 n;
	int64_t			 gen;

	assert_int_equal(commit_fake(fx->db, "a.example", "root"), 1);
	it = fake_item("inter", 2, KIND_INTERMEDIATE, NULL);
	assert_int_equal(db_stage_item(fx->db, "a.example", &it, 10, &err), 0);
	/* The second row breaks a constraint after the generation row, the
	 * first keystore row and nothing else were written. */
	items[0] = fake_item("root", 1, KIND_ROOT, NULL);
	items[1] = fake_item("server", 1, KIND_SERVER, "KEY");
	assert_int_equal(db_commit_generation(fx->db, "a.example", items, 2, 20,
	    "bad", &gen, &err), -1);
	assert_int_equal(err.code, E_INTERNAL);
	assert_int_equal(db_current(fx->db, "a.example", &gen, &err), 0);
	assert_int_equal(gen, 1);
	assert_string_equal(query1(fx->path, "SELECT count(*) FROM "
	    "generations"), "1");
	assert_string_equal(query1(fx->path, "SELECT count(*) FROM "
	    "keystore"), "2");
	assert_string_equal(query1(fx->path, "SELECT count(*) FROM "
	    "events"), "2");	/* the first commit and its going live */
	assert_int_equal(db_staged(fx->db, "a.example", &rows, &n, &err), 0);
	assert_int_equal(n, 1);
	ks_items_free(rows, n);
	/* And the next commit still gets number 2. */
	assert_int_equal(commit_fake(fx->db, "a.example", "root"), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define T_OPEN(f) cmocka_unit_test_setup_teardown(f, setup_open, teardown)
		T(test_create_sets_wal_version_and_mode_0600),
		T(test_loose_mode_is_tightened),
		T(test_reopen_keeps_data),
		T(test_v1_database_migrates),
		T(test_v1_migrated_schema_equals_new),
		T_OPEN(test_events_trimmed_counts_kept),
		T(test_newer_schema_refuses),
		T(test_garbage_file_refuses),
		T(test_corrupt_database_refuses),
		T_OPEN(test_stage_replace_unstage),
		T_OPEN(test_commit_clears_staged),
		T_OPEN(test_commit_states),
		T_OPEN(test_prune_live_first),
		T_OPEN(test_events_and_counts),
		T_OPEN(test_failed_commit_changes_nothing),
#undef T
#undef T_OPEN
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

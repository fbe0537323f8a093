/*
 * testutil.c: what more than one unit test file needs (see testutil.h).
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "testutil.h"

int
store_fx_setup(void **state)
{
	struct store_fx	*fx;

	if ((fx = calloc(1, sizeof(*fx))) == NULL ||
	    tpki_chain_make(&fx->c, "example.com", 2, TPKI_EC256) == -1) {
		free(fx);
		return -1;
	}
	fx->cas[0] = (struct trust_entry){ "root", fx->c.root };
	fx->cas[1] = (struct trust_entry){ "inter1", fx->c.inter[0] };
	fx->cas[2] = (struct trust_entry){ "inter2", fx->c.inter[1] };
	*state = fx;
	return 0;
}

int
store_fx_teardown(void **state)
{
	struct store_fx	*fx = *state;

	tpki_chain_free(&fx->c);
	free(fx);
	return 0;
}

void
ks_fx_open(struct ks_fx *fx, const char *tag, const char *domain)
{
	struct cert_error	 err;

	tpki_tmpdir(fx->dir, sizeof(fx->dir), tag);
	snprintf(fx->path, sizeof(fx->path), "%s/certd.db", fx->dir);
	if ((fx->ks = keystore_open(fx->path, &err)) == NULL)
		fail_msg("open %s: %s", fx->path, err.message);
	assert_int_equal(tpki_chain_make(&fx->c, domain, 1, TPKI_EC256), 0);
}

void
ks_fx_close(struct ks_fx *fx)
{
	keystore_close(fx->ks);
	tpki_chain_free(&fx->c);
	tpki_rmtree(fx->dir);
}

const char *
query1(const char *path, const char *sql)
{
	static char	 buf[4096];	/* a sealed key fits */
	sqlite3		*h;
	sqlite3_stmt	*st;

	buf[0] = '\0';
	assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, sizeof(buf), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return buf;
}

mode_t
file_mode(const char *path)
{
	struct stat	 st;

	if (stat(path, &st) == -1)
		fail_msg("%s: cannot stat", path);
	return st.st_mode & 07777;
}

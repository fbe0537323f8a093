/*
 * testutil.h: what more than one unit test file needs: the trust store
 * and keystore tests' fixtures, a look into a database, a file's mode.
 */
#ifndef CERTD_TESTUTIL_H
#define CERTD_TESTUTIL_H

#include <sys/types.h>

#include "jks.h"
#include "keystore.h"
#include "testpki.h"

/*
 * The JKS and PKCS#12 tests' group fixture, *state in each test: a chain
 * for example.com through two intermediates (EC leaf), and its CAs as
 * the trust entries "root", "inter1", "inter2".
 */
struct store_fx {
	struct tpki_chain	 c;
	struct trust_entry	 cas[3];
};
int	store_fx_setup(void **state);
int	store_fx_teardown(void **state);

/*
 * The keystore and CSR tests' fixture: a keystore in a new scratch
 * directory, and a chain for domain (root -> one intermediate -> EC leaf).
 * ks_fx_close closes and removes all of it.
 */
struct ks_fx {
	char			 dir[64];
	char			 path[128];	/* dir/certd.db */
	struct keystore		*ks;
	struct tpki_chain	 c;
};
void	ks_fx_open(struct ks_fx *, const char *tag, const char *domain);
void	ks_fx_close(struct ks_fx *);

/* The first column of sql's first row ("" if none or NULL), read from the
 * database at path on a connection of its own.  A static buffer. */
const char	*query1(const char *path, const char *sql);

/* The permission bits of path, which must exist. */
mode_t	file_mode(const char *path);

#endif

/*
 * rssfloor.c: the floor under certd's resident memory, for the benchmarks.
 * Linked with the same libraries and flags as certd, it does only what
 * any process using them pays before doing any work: the dynamic loader
 * maps and binds them (-z now), OpenSSL reads its config and computes one
 * SHA-256 (its providers come up), SQLite opens a database and answers a
 * query, libevent makes a base, jansson a value, inih parses a line, and
 * the group database is asked for certd's admin group (NSS loads its
 * modules).  libssl, libevent's HTTP and OpenSSL parts are loaded, not
 * used, as in a certd without TLS listeners.  Then it prints its pid and waits to be killed, for the
 * benchmark to read /proc/PID/smaps_rollup beside certd's.
 *
 *   rssfloor
 */
#include "config.h"

#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <ini.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sqlite3.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* Linked as certd links them, not called. */
void	*const rssfloor_loaded[] = { (void *)OPENSSL_init_ssl,
	    (void *)evhttp_new, (void *)bufferevent_openssl_get_ssl };

static int
ini_line(void *arg, const char *section, const char *name, const char *value)
{
	return 1;
}

int
main(void)
{
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen;
	sqlite3			*db;
	struct event_base	*base;
	json_t			*j;
	struct group		 gr, *res;
	char			 buf[4096];

	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	EVP_Digest("floor", 5, md, &mdlen, EVP_sha256(), NULL);
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE TABLE t (a); SELECT count(*) FROM t",
	    NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "rssfloor: sqlite: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	if ((base = event_base_new()) == NULL)
		return 1;
	j = json_pack("{s:i}", "floor", 1);
	ini_parse_string("[certd]\nsocket = x\n", ini_line, NULL);
	getgrnam_r("certd-admin", &gr, buf, sizeof(buf), &res);
#ifdef HAVE_SYSTEMD
	sd_notify(0, "");		/* a no-op: binds libsystemd */
#endif
	printf("%ld\n", (long)getpid());
	fflush(stdout);
	pause();
	json_decref(j);
	event_base_free(base);
	sqlite3_close(db);
	return 0;
}

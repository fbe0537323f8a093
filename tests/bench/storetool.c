/*
 * storetool.c: writes (and reads back) trust stores and keystores with
 * certd's own writers, from PEM files, for the Java integration test and
 * the trust-store benchmark.  Not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "jks.h"
#include "pkcs12.h"
#include "util.h"

#define MAXCERTS	4096

static const char usage_text[] =
"usage: storetool jks OUT PASSWORD [PEM...]      JKS trust store\n"
"       storetool p12trust OUT PASSWORD [PEM...] PKCS#12 trust store\n"
"       storetool p12key OUT PASSWORD KEY LEAF [CHAIN...]\n"
"                                                keystore, alias \"server\"\n"
"       storetool jksread IN [PASSWORD]          print alias and subject\n"
"       storetool bench N PEM...                 median ms of N in-process\n"
"                                                jks_write, pkcs12_truststore\n"
"Each PEM may hold several certificates.  Aliases come from the file name\n"
"(root.pem -> root) for a file with one certificate, else from each\n"
"certificate's CN, made unique and safe by jks_make_aliases().\n";

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static void
die(const char *what)
{
	fprintf(stderr, "storetool: %s\n", what);
	exit(1);
}

/* The certificates of the PEM files on a command line, a name for each.
 * Static: MAXCERTS aliases are too much for the stack. */
static struct certs {
	X509	*x[MAXCERTS];
	char	*names[MAXCERTS];
	char	 aliases[MAXCERTS][64];
	size_t	 n;
} certs;

/* All certificates of a PEM file appended to certs, a name for each. */
static void
load_pem(const char *path)
{
	FILE		*f;
	X509		*x;
	const char	*base, *dot;
	char		 cn[256];
	size_t		 first = certs.n, i;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "storetool: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (certs.n >= MAXCERTS)
			die("too many certificates");
		certs.x[certs.n++] = x;
	}
	fclose(f);
	if (certs.n == first) {
		fprintf(stderr, "storetool: %s: no certificate\n", path);
		exit(1);
	}
	if (certs.n - first == 1) {
		base = strrchr(path, '/');
		base = base != NULL ? base + 1 : path;
		dot = strrchr(base, '.');
		certs.names[first] = strndup(base, dot != NULL ?
		    (size_t)(dot - base) : strlen(base));
		return;
	}
	for (i = first; i < certs.n; i++) {
		if (X509_NAME_get_text_by_NID(X509_get_subject_name(certs.x[i]),
		    NID_commonName, cn, sizeof(cn)) < 0 &&
		    X509_NAME_get_text_by_NID(X509_get_subject_name(certs.x[i]),
		    NID_organizationalUnitName, cn, sizeof(cn)) < 0)
			strlcpy(cn, "cert", sizeof(cn));
		certs.names[i] = strdup(cn);
	}
}

static void
load_all(int argc, char **argv)
{
	int	 i;

	for (i = 0; i < argc; i++)
		load_pem(argv[i]);
}

/* The trust store entries for certs, aliases made unique by
 * jks_make_aliases(); a zeroed one ends them. */
static struct trust_entry *
trust_entries(void)
{
	struct trust_entry	*e;
	size_t			 i;

	jks_make_aliases((const char *const *)certs.names, certs.n,
	    certs.aliases);
	if ((e = calloc(certs.n + 1, sizeof(*e))) == NULL)
		die("out of memory");
	for (i = 0; i < certs.n; i++) {
		e[i].alias = certs.aliases[i];
		e[i].cert = certs.x[i];
	}
	return e;
}

static void
certs_free(void)
{
	size_t	 i;

	for (i = 0; i < certs.n; i++) {
		X509_free(certs.x[i]);
		free(certs.names[i]);
	}
	certs.n = 0;
}

static void
write_out(const char *path, const unsigned char *buf, size_t len)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write_all(fd, buf, len) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1) {
		fprintf(stderr, "storetool: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static int
cmd_trust(int p12, int argc, char **argv)
{
	struct trust_entry	*e;
	unsigned char		*out;
	size_t			 len;
	int			 rc;

	if (argc < 2)
		usage();
	load_all(argc - 2, argv + 2);
	e = trust_entries();
	if (p12)
		rc = pkcs12_truststore(e, certs.n, argv[1], &out, &len);
	else
		rc = jks_write(e, certs.n, argv[1], time(NULL), &out, &len);
	if (rc == -1)
		die(p12 ? "pkcs12_truststore failed" : "jks_write failed");
	write_out(argv[0], out, len);
	free(out);
	free(e);
	certs_free();
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median wall time of N runs of each writer over the same entries. */
static int
cmd_bench(int argc, char **argv)
{
	struct trust_entry	*e;
	struct timespec		 t0, t1;
	unsigned char		*out;
	double			*ms;
	size_t			 len;
	long			 runs, r;
	int			 kind, rc;

	if (argc < 2 || (runs = strtol(argv[0], NULL, 10)) < 1 || runs > 10000)
		usage();
	load_all(argc - 1, argv + 1);
	e = trust_entries();
	if ((ms = calloc(runs, sizeof(*ms))) == NULL)
		die("out of memory");
	for (kind = 0; kind < 2; kind++) {
		for (r = 0; r < runs; r++) {
			clock_gettime(CLOCK_MONOTONIC, &t0);
			if (kind == 0)
				rc = jks_write(e, certs.n, "changeit",
				    time(NULL), &out, &len);
			else
				rc = pkcs12_truststore(e, certs.n, "changeit",
				    &out, &len);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (rc == -1)
				die("writer failed");
			free(out);
			ms[r] = (t1.tv_sec - t0.tv_sec) * 1e3 +
			    (t1.tv_nsec - t0.tv_nsec) / 1e6;
		}
		qsort(ms, runs, sizeof(*ms), cmp_double);
		printf("%s %.3f\n", kind == 0 ? "jks" : "p12trust",
		    runs % 2 ? ms[runs / 2] :
		    (ms[runs / 2 - 1] + ms[runs / 2]) / 2);
	}
	free(ms);
	free(e);
	certs_free();
	return 0;
}

static int
cmd_p12key(int argc, char **argv)
{
	STACK_OF(X509)	*chain;
	EVP_PKEY	*pkey;
	FILE		*f;
	unsigned char	*out;
	size_t		 len, i;

	if (argc < 4)
		usage();
	if ((f = fopen(argv[2], "r")) == NULL ||
	    (pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		die("cannot read the key");
	fclose(f);
	load_all(argc - 3, argv + 3);
	if ((chain = sk_X509_new_null()) == NULL)
		die("out of memory");
	for (i = 1; i < certs.n; i++)
		sk_X509_push(chain, certs.x[i]);
	if (pkcs12_keystore(pkey, certs.x[0], chain, "server", argv[1],
	    &out, &len) == -1)
		die("pkcs12_keystore failed");
	write_out(argv[0], out, len);
	OPENSSL_clear_free(out, len);
	sk_X509_free(chain);
	certs_free();
	EVP_PKEY_free(pkey);
	return 0;
}

static int
cmd_jksread(int argc, char **argv)
{
	char	*buf, **al, subj[256];
	X509	**xs;
	size_t	 len, n, i;

	if (argc < 1 || argc > 2)
		usage();
	if (read_file(argv[0], 64 * 1024 * 1024, &buf, &len) == -1) {
		fprintf(stderr, "storetool: %s: %s\n", argv[0],
		    strerror(errno));
		return 1;
	}
	if (jks_read((unsigned char *)buf, len, argc == 2 ? argv[1] : NULL,
	    &al, &xs, &n) == -1)
		die("not a valid JKS trust store (or wrong password)");
	for (i = 0; i < n; i++) {
		X509_NAME_oneline(X509_get_subject_name(xs[i]), subj,
		    sizeof(subj));
		printf("%s\t%s\n", al[i], subj);
	}
	jks_entries_free(al, xs, n);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "jks") == 0)
		return cmd_trust(0, argc - 2, argv + 2);
	if (strcmp(argv[1], "p12trust") == 0)
		return cmd_trust(1, argc - 2, argv + 2);
	if (strcmp(argv[1], "p12key") == 0)
		return cmd_p12key(argc - 2, argv + 2);
	if (strcmp(argv[1], "jksread") == 0)
		return cmd_jksread(argc - 2, argv + 2);
	if (strcmp(argv[1], "bench") == 0)
		return cmd_bench(argc - 2, argv + 2);
	usage();
	return 2;
}

/*
 * commitload.c: commit latency client for the benchmarks.  Makes a fresh
 * server certificate per commit (signed by a testpki chain's inter1, not
 * timed) and posts it as a whole bundle to POST /v1/domains/D/bundle on
 * one connection, timing each request from its first byte sent to the last
 * byte of the answer.  Domains are PREFIX-N.bench.test, N = i mod DOMAINS.
 *
 *   commitload SOCKET CA_DIR [-n COMMITS] [-D DOMAINS] [-f FIRST]
 *       [-o TIMES_FILE]
 *
 * Prints "commits N p50 MS p99 MS max MS"; with -o, each latency in
 * microseconds, one per line.  Exits 1 if any commit is not answered 200.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "toolutil.h"

static const char	*sockpath;
static EVP_PKEY		*ca_key, *leaf_key;
static X509		*ca_cert;
static char		*chain_pem;		/* inter1 + root */
static char		*key_pem;

static void
die(const char *what)
{
	fprintf(stderr, "commitload: %s\n", what);
	exit(2);
}

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "r")) == NULL || fseek(f, 0, SEEK_END) == -1 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) == -1)
		die(path);
	if ((buf = calloc(1, (size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n)
		die(path);
	fclose(f);
	return buf;
}

static void
load_ca(const char *dir)
{
	char	 path[4096], *inter, *root;
	FILE	*f;

	snprintf(path, sizeof(path), "%s/inter1.pem", dir);
	if ((f = fopen(path, "r")) == NULL ||
	    (ca_cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		die(path);
	fclose(f);
	inter = slurp(path);
	snprintf(path, sizeof(path), "%s/inter1.key", dir);
	if ((f = fopen(path, "r")) == NULL ||
	    (ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		die(path);
	fclose(f);
	snprintf(path, sizeof(path), "%s/root.pem", dir);
	root = slurp(path);
	if (asprintf(&chain_pem, "%s%s", inter, root) == -1)
		die("out of memory");
	free(inter);
	free(root);
}

static char *
bio_string(BIO *b)
{
	char	*p, *s;
	long	 n = BIO_get_mem_data(b, &p);

	if ((s = strndup(p, (size_t)n)) == NULL)
		die("out of memory");
	return s;
}

static void
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION	*ext;

	if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL ||
	    X509_add_ext(x, ext, -1) != 1)
		die(value);
	X509_EXTENSION_free(ext);
}

/* A server certificate for domain, valid from an hour ago for 90 days. */
static char *
make_leaf(const char *domain)
{
	X509		*x;
	X509_NAME	*n;
	X509V3_CTX	 ctx;
	BIO		*b;
	unsigned char	 serial[16];
	BIGNUM		*bn;
	char		 san[300], *pem;

	if ((x = X509_new()) == NULL || X509_set_version(x, 2) != 1)
		die("X509_new");
	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 90L * 86400);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)domain, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(ca_cert));
	X509_set_pubkey(x, leaf_key);
	X509V3_set_ctx(&ctx, ca_cert, x, NULL, NULL, 0);
	snprintf(san, sizeof(san), "DNS:%s", domain);
	add_ext(x, &ctx, NID_subject_alt_name, san);
	add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
	add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
	add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
	if (X509_sign(x, ca_key, EVP_sha256()) == 0)
		die("X509_sign");
	if ((b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(b, x) != 1)
		die("PEM_write_bio_X509");
	pem = bio_string(b);
	BIO_free(b);
	X509_free(x);
	return pem;
}

static int
connect_sock(void)
{
	int	 s;

	if ((s = tool_connect(sockpath)) == -1)
		die(sockpath);
	return s;
}

/* Send req, read one answer (Content-Length body) into buf: the status. */
static int
exchange(int s, const char *req, size_t len, char *buf, size_t size)
{
	size_t	 off = 0;
	ssize_t	 n;
	int	 status;

	while (off < len) {
		if ((n = write(s, req + off, len - off)) == -1)
			die("write");
		off += (size_t)n;
	}
	if ((status = tool_read_answer(s, buf, size)) == -1)
		die("connection closed or answer too large");
	return status;
}

int
main(int argc, char *argv[])
{
	EVP_PKEY_CTX	*kc;
	BIO		*b;
	FILE		*out = NULL;
	uint32_t	*lat;
	struct latency	 l;
	static char	 ans[1 << 20];
	char		 domain[256], *leaf, *body, *req;
	json_t		*j;
	long		 commits = 100, domains = 1, first = 0, i, bad = 0;
	int		 c, s, status;
	int64_t		 t0;

	while ((c = getopt(argc, argv, "n:D:f:o:")) != -1) {
		switch (c) {
		case 'n': commits = atol(optarg); break;
		case 'D': domains = atol(optarg); break;
		case 'f': first = atol(optarg); break;
		case 'o':
			if ((out = fopen(optarg, "w")) == NULL)
				die(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || commits < 1 || domains < 1) {
usage:
		fprintf(stderr, "usage: commitload SOCKET CA_DIR [-n COMMITS] "
		    "[-D DOMAINS] [-f FIRST] [-o TIMES_FILE]\n");
		return 2;
	}
	sockpath = argv[optind];
	load_ca(argv[optind + 1]);
	if ((kc = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(kc) != 1 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kc,
	    NID_X9_62_prime256v1) != 1 || EVP_PKEY_keygen(kc, &leaf_key) != 1)
		die("EC key");
	EVP_PKEY_CTX_free(kc);
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(b, leaf_key, NULL, NULL, 0, NULL,
	    NULL) != 1)
		die("key PEM");
	key_pem = bio_string(b);
	BIO_free(b);
	if ((lat = calloc((size_t)commits, sizeof(*lat))) == NULL)
		die("out of memory");

	s = connect_sock();
	for (i = 0; i < commits; i++) {
		snprintf(domain, sizeof(domain), "d%ld.bench.test",
		    first + i % domains);
		leaf = make_leaf(domain);
		if (asprintf(&body, "%s%s", leaf, chain_pem) == -1)
			die("out of memory");
		j = json_pack("{s:s, s:s}", "certificates", body,
		    "privatekey", key_pem);
		free(body);
		body = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (asprintf(&req, "POST /v1/domains/%s/bundle HTTP/1.1\r\n"
		    "Host: certd\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s", domain, strlen(body),
		    body) == -1)
			die("out of memory");
		t0 = tool_now_ns();
		status = exchange(s, req, strlen(req), ans, sizeof(ans));
		lat[i] = (uint32_t)((tool_now_ns() - t0) / 1000);
		if (status != 200) {
			if (bad++ < 3)
				fprintf(stderr, "commitload: %s: HTTP %d: %.300s"
				    "\n", domain, status, strstr(ans,
				    "\r\n\r\n") ? strstr(ans, "\r\n\r\n") + 4 :
				    ans);
		}
		if (out != NULL)
			fprintf(out, "%u\n", lat[i]);
		free(leaf);
		free(body);
		free(req);
	}
	close(s);
	if (out != NULL)
		fclose(out);
	l = tool_latency(lat, (size_t)commits);
	printf("commits %ld p50 %.2f p99 %.2f max %.2f\n", commits, l.p50,
	    l.p99, l.max);
	if (bad) {
		fprintf(stderr, "commitload: %ld of %ld commits failed\n", bad,
		    commits);
		return 1;
	}
	return 0;
}

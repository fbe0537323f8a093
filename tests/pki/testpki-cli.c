/*
 * testpki-cli.c: the tests/testpki command, the test PKI (testpki.h) for
 * shell tests: whole chains or single odd certificates with chosen dates.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "testpki.h"

#define MAXNAMES 32

static const char usage_text[] =
"usage: testpki chain DIR --domain NAME [options]\n"
"       testpki cert OUT.pem [options]\n"
"       testpki key OUT.key [--key TYPE] [--key-format FMT]\n"
"       testpki crl OUT.pem --issuer CERT --issuer-key KEY [--revoke CERT]...\n"
"\n"
"chain: writes DIR/root.pem root.key, DIR/inter1.pem inter1.key .. (inter1\n"
"  issued by the root), DIR/server.pem server.key, DIR/chain.pem (the\n"
"  intermediates, the server's issuer first), DIR/bundle.pem (server,\n"
"  intermediates leaf-issuer first, root).  CA keys RSA-2048, CA certs valid\n"
"  now-1d..now+3650d (widened to cover the server), CNs carry a random tag.\n"
"  Server: CN=NAME, SAN DNS:NAME, DNS:*.NAME, EKU serverAuth.\n"
"  --domain NAME        the domain (required)\n"
"  --inter N            intermediates, 0..4 (default 1)\n"
"  --key TYPE           server key: rsa|rsa2048|rsa1024|ec|ec256|ec224|ec384|\n"
"                       ed25519 (default rsa)\n"
"  --ca-key TYPE        key type of the root and intermediates (default rsa)\n"
"  --days-from N        server notBefore = now + N days (default: now-1h)\n"
"  --days-to M          server notAfter = now + M days (default 365)\n"
"  --cn-prefix X        prefix every CA CN with X\n"
"  --dns NAME           server SAN DNS name instead of the default (repeat)\n"
"  --md sha256|sha1|md5 signature digest of every certificate\n"
"  --key-format FMT     server.key: pkcs8 (default), trad (PKCS#1/SEC1),\n"
"                       pkcs8-enc, trad-enc (passphrase " TPKI_PASSPHRASE ")\n"
"\n"
"cert: one certificate to OUT.pem, its key to --key-out (if given).\n"
"  --cn X  --org X  --dns NAME (repeat)  --ip ADDR (repeat)\n"
"  --ca  --pathlen N  --no-keycertsign  --no-bc  --no-ku  --no-aki\n"
"  --eku LIST           comma list of server, client, code\n"
"  --issuer CERT --issuer-key KEY   issue from this CA (default self-signed)\n"
"  --sign-key KEY       sign with this key instead (a wrong signature)\n"
"  --key TYPE | --key-in KEY        subject key: new (default rsa) or given\n"
"  --key-out FILE  --key-format FMT  --days-from N  --days-to M  --md MD\n"
"  --serial N\n"
"\n"
"crl: a CRL from --issuer revoking each --revoke CERT (repeat); thisUpdate\n"
"  now - 1h (or --days-from N), nextUpdate now + 30d (or --days-to M).\n";

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static long
num(const char *s)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0') {
		fprintf(stderr, "testpki: bad number: %s\n", s);
		exit(2);
	}
	return v;
}

static enum tpki_keytype
keytype(const char *s)
{
	int	 t;

	if ((t = tpki_keytype_from_name(s)) == -1) {
		fprintf(stderr, "testpki: unknown key type: %s\n", s);
		exit(2);
	}
	return t;
}

static int
keyformat(const char *s)
{
	if (strcmp(s, "pkcs8") == 0)
		return TPKI_KEY_PKCS8;
	if (strcmp(s, "trad") == 0)
		return TPKI_KEY_TRAD;
	if (strcmp(s, "pkcs8-enc") == 0)
		return TPKI_KEY_PKCS8_ENC;
	if (strcmp(s, "trad-enc") == 0)
		return TPKI_KEY_TRAD_ENC;
	fprintf(stderr, "testpki: unknown key format: %s\n", s);
	exit(2);
}

static const EVP_MD *
digest(const char *s)
{
	if (strcmp(s, "sha256") == 0)
		return EVP_sha256();
	if (strcmp(s, "sha1") == 0)
		return EVP_sha1();
	if (strcmp(s, "md5") == 0)
		return EVP_md5();
	if (strcmp(s, "sha384") == 0)
		return EVP_sha384();
	fprintf(stderr, "testpki: unknown digest: %s\n", s);
	exit(2);
}

static int
eku(const char *s)
{
	char	*copy, *tok, *save = NULL;
	int	 v = 0;

	if ((copy = strdup(s)) == NULL)
		exit(1);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "server") == 0)
			v |= TPKI_EKU_SERVER;
		else if (strcmp(tok, "client") == 0)
			v |= TPKI_EKU_CLIENT;
		else if (strcmp(tok, "code") == 0)
			v |= TPKI_EKU_CODE;
		else {
			fprintf(stderr, "testpki: unknown EKU: %s\n", tok);
			exit(2);
		}
	}
	free(copy);
	return v;
}

/* A repeated option's value appended to its list of at most MAXNAMES. */
static void
add_name(const char **list, size_t *n, const char *name)
{
	if (*n == MAXNAMES)
		usage();
	list[(*n)++] = name;
}

static void
put(const char *dir, const char *file, const char *text)
{
	char	 path[PATH_MAX];

	if (dir != NULL)
		snprintf(path, sizeof(path), "%s/%s", dir, file);
	else
		snprintf(path, sizeof(path), "%s", file);
	if (tpki_write(path, text) == -1) {
		fprintf(stderr, "testpki: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static void
put_cert(const char *dir, const char *file, X509 *x)
{
	char	*pem = tpki_cert_pem(x);

	put(dir, file, pem);
	free(pem);
}

static void
put_key(const char *dir, const char *file, EVP_PKEY *k, int fmt)
{
	char	*pem = tpki_key_pem(k, fmt);

	put(dir, file, pem);
	free(pem);
}

static int
make_crl(const char *out, const char *issuer_path, const char *key_path,
    const char *const *revoke, size_t n, time_t from, time_t to)
{
	X509		*issuer, *revoked[MAXNAMES];
	EVP_PKEY	*key;
	X509_CRL	*crl;
	char		*pem;
	size_t		 i;

	if (issuer_path == NULL || key_path == NULL) {
		fprintf(stderr, "testpki: crl needs --issuer and --issuer-key\n");
		return 2;
	}
	issuer = tpki_read_cert(issuer_path);
	key = tpki_read_key(key_path);
	for (i = 0; i < n; i++)
		revoked[i] = tpki_read_cert(revoke[i]);
	crl = tpki_crl(issuer, key, revoked, n, from, to);
	pem = tpki_crl_pem(crl);
	put(NULL, out, pem);
	free(pem);
	X509_CRL_free(crl);
	for (i = 0; i < n; i++)
		X509_free(revoked[i]);
	X509_free(issuer);
	EVP_PKEY_free(key);
	return 0;
}

enum {
	O_DOMAIN = 256, O_INTER, O_KEY, O_CAKEY, O_DFROM, O_DTO, O_PREFIX,
	O_DNS, O_IP, O_MD, O_KEYFMT, O_CN, O_ORG, O_CA, O_PATHLEN, O_NOKCS,
	O_NOBC, O_NOKU, O_NOAKI, O_EKU, O_ISSUER, O_ISSUERKEY, O_SIGNKEY,
	O_KEYIN, O_KEYOUT, O_SERIAL, O_REVOKE, O_HELP
};

static const struct option longopts[] = {
	{ "domain", required_argument, NULL, O_DOMAIN },
	{ "inter", required_argument, NULL, O_INTER },
	{ "key", required_argument, NULL, O_KEY },
	{ "ca-key", required_argument, NULL, O_CAKEY },
	{ "days-from", required_argument, NULL, O_DFROM },
	{ "days-to", required_argument, NULL, O_DTO },
	{ "cn-prefix", required_argument, NULL, O_PREFIX },
	{ "dns", required_argument, NULL, O_DNS },
	{ "ip", required_argument, NULL, O_IP },
	{ "md", required_argument, NULL, O_MD },
	{ "key-format", required_argument, NULL, O_KEYFMT },
	{ "cn", required_argument, NULL, O_CN },
	{ "org", required_argument, NULL, O_ORG },
	{ "ca", no_argument, NULL, O_CA },
	{ "pathlen", required_argument, NULL, O_PATHLEN },
	{ "no-keycertsign", no_argument, NULL, O_NOKCS },
	{ "no-bc", no_argument, NULL, O_NOBC },
	{ "no-ku", no_argument, NULL, O_NOKU },
	{ "no-aki", no_argument, NULL, O_NOAKI },
	{ "eku", required_argument, NULL, O_EKU },
	{ "issuer", required_argument, NULL, O_ISSUER },
	{ "issuer-key", required_argument, NULL, O_ISSUERKEY },
	{ "sign-key", required_argument, NULL, O_SIGNKEY },
	{ "key-in", required_argument, NULL, O_KEYIN },
	{ "key-out", required_argument, NULL, O_KEYOUT },
	{ "serial", required_argument, NULL, O_SERIAL },
	{ "revoke", required_argument, NULL, O_REVOKE },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char **argv)
{
	struct tpki_opts	 o;
	struct tpki_chain_opts	 co;
	struct tpki_chain	 c;
	const char		*dns[MAXNAMES + 1], *ips[MAXNAMES + 1];
	const char		*cmd, *out, *issuer_path = NULL;
	const char		*issuer_key_path = NULL, *sign_key_path = NULL;
	const char		*key_in = NULL, *key_out = NULL;
	const char		*revoke[MAXNAMES];
	size_t			 nrevoke = 0;
	char			 file[64], *pem, *bundle = NULL, *chainpem = NULL;
	size_t			 ndns = 0, nips = 0, blen = 0, clen = 0;
	time_t			 now = time(NULL);
	enum tpki_keytype	 kt = TPKI_RSA2048;
	int			 ch, fmt = TPKI_KEY_PKCS8, i;
	X509			*issuer = NULL, *x;
	EVP_PKEY		*ikey = NULL, *key;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	memset(&o, 0, sizeof(o));
	memset(&co, 0, sizeof(co));
	co.ninter = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, "", longopts, NULL)) != -1) {
		switch (ch) {
		case O_DOMAIN: co.domain = optarg; break;
		case O_INTER: co.ninter = (int)num(optarg); break;
		case O_KEY: kt = keytype(optarg); break;
		case O_CAKEY: co.ca_key = keytype(optarg); break;
		case O_DFROM:
			o.not_before = co.leaf_not_before =
			    now + num(optarg) * 86400;
			break;
		case O_DTO:
			o.not_after = co.leaf_not_after =
			    now + num(optarg) * 86400;
			break;
		case O_PREFIX: co.cn_prefix = optarg; break;
		case O_DNS: add_name(dns, &ndns, optarg); break;
		case O_IP: add_name(ips, &nips, optarg); break;
		case O_MD: o.md = co.md = digest(optarg); break;
		case O_KEYFMT: fmt = keyformat(optarg); break;
		case O_CN: o.cn = optarg; break;
		case O_ORG: o.org = optarg; break;
		case O_CA: o.ca = 1; break;
		case O_PATHLEN:
			o.pathlen = (int)num(optarg);
			o.pathlen_set = 1;
			break;
		case O_NOKCS: o.no_keycertsign = 1; break;
		case O_NOBC: o.no_bc = 1; break;
		case O_NOKU: o.no_ku = 1; break;
		case O_NOAKI: o.no_aki = 1; break;
		case O_EKU: o.eku = eku(optarg); break;
		case O_ISSUER: issuer_path = optarg; break;
		case O_ISSUERKEY: issuer_key_path = optarg; break;
		case O_SIGNKEY: sign_key_path = optarg; break;
		case O_KEYIN: key_in = optarg; break;
		case O_KEYOUT: key_out = optarg; break;
		case O_SERIAL: o.serial = num(optarg); break;
		case O_REVOKE: add_name(revoke, &nrevoke, optarg); break;
		case O_HELP:
			fputs(usage_text, stdout);
			return 0;
		default:
			usage();
		}
	}
	/* getopt saw argv + 1: its optind counts from the command. */
	if (optind + 1 != argc - 1)
		usage();
	out = argv[optind + 1];
	dns[ndns] = NULL;
	ips[nips] = NULL;

	if (strcmp(cmd, "chain") == 0) {
		if (co.domain == NULL || co.ninter < 0 ||
		    co.ninter > TPKI_INTER_MAX)
			usage();
		co.leaf_key = kt;
		if (ndns > 0)
			co.dns = dns;
		if (mkdir(out, 0700) == -1 && errno != EEXIST) {
			fprintf(stderr, "testpki: %s: %s\n", out,
			    strerror(errno));
			return 1;
		}
		if (tpki_chain_make_opts(&c, &co) == -1)
			usage();
		put_cert(out, "root.pem", c.root);
		put_key(out, "root.key", c.root_key, TPKI_KEY_PKCS8);
		put_cert(out, "server.pem", c.leaf);
		put_key(out, "server.key", c.leaf_key, fmt);
		/* bundle: server, intermediates from the server's issuer up, root. */
		pem = tpki_cert_pem(c.leaf);
		bundle = strdup(pem);
		blen = strlen(bundle);
		free(pem);
		chainpem = strdup("");
		for (i = c.ninter - 1; i >= 0; i--) {
			snprintf(file, sizeof(file), "inter%d.pem", i + 1);
			put_cert(out, file, c.inter[i]);
			snprintf(file, sizeof(file), "inter%d.key", i + 1);
			put_key(out, file, c.inter_key[i], TPKI_KEY_PKCS8);
			pem = tpki_cert_pem(c.inter[i]);
			bundle = realloc(bundle, blen + strlen(pem) + 1);
			chainpem = realloc(chainpem, clen + strlen(pem) + 1);
			if (bundle == NULL || chainpem == NULL)
				return 1;
			memcpy(bundle + blen, pem, strlen(pem) + 1);
			memcpy(chainpem + clen, pem, strlen(pem) + 1);
			blen += strlen(pem);
			clen += strlen(pem);
			free(pem);
		}
		pem = tpki_cert_pem(c.root);
		if ((bundle = realloc(bundle, blen + strlen(pem) + 1)) == NULL)
			return 1;
		memcpy(bundle + blen, pem, strlen(pem) + 1);
		free(pem);
		put(out, "chain.pem", chainpem);
		put(out, "bundle.pem", bundle);
		free(chainpem);
		free(bundle);
		tpki_chain_free(&c);
		return 0;
	}

	if (strcmp(cmd, "key") == 0) {
		key = tpki_key_new(kt);
		put_key(NULL, out, key, fmt);
		EVP_PKEY_free(key);
		return 0;
	}

	if (strcmp(cmd, "crl") == 0)
		return make_crl(out, issuer_path, issuer_key_path, revoke,
		    nrevoke, o.not_before, o.not_after);
	if (strcmp(cmd, "cert") != 0)
		usage();
	if ((issuer_path == NULL) != (issuer_key_path == NULL)) {
		fprintf(stderr, "testpki: --issuer needs --issuer-key\n");
		return 2;
	}
	o.dns = dns;
	o.ips = ips;
	key = key_in != NULL ? tpki_read_key(key_in) : tpki_key_new(kt);
	if (issuer_path != NULL) {
		issuer = tpki_read_cert(issuer_path);
		ikey = tpki_read_key(issuer_key_path);
	}
	if (sign_key_path != NULL) {
		EVP_PKEY_free(ikey);
		ikey = tpki_read_key(sign_key_path);
	}
	x = tpki_cert(&o, key, issuer, ikey);
	put_cert(NULL, out, x);
	if (key_out != NULL)
		put_key(NULL, key_out, key, fmt);
	X509_free(x);
	X509_free(issuer);
	EVP_PKEY_free(ikey);
	EVP_PKEY_free(key);
	return 0;
}

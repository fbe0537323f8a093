/*
 * testpki.c: the test PKI (see testpki.h).  Certificates with chosen dates
 * and extensions, built with the OpenSSL C API at test time.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "testpki.h"

static void	 tpki_die(const char *) __attribute__((noreturn));
static void	 tpki_bad_input(const char *, const char *)
		    __attribute__((noreturn));
static char	*tpki_bio_text(BIO *, size_t *);

static EVP_PKEY	*rsa_pool[2][TPKI_RSA_POOL];
static int	 rsa_next[2];

/* A broken test PKI must fail the test run loudly (automake: 99 = hard error). */
static void
tpki_die(const char *what)
{
	fprintf(stderr, "testpki: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	exit(99);
}

EVP_PKEY *
tpki_key_new(enum tpki_keytype t)
{
	EVP_PKEY	*k = NULL;

	switch (t) {
	case TPKI_RSA2048:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case TPKI_RSA1024:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
		break;
	case TPKI_EC256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case TPKI_EC224:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-224");
		break;
	case TPKI_EC384:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case TPKI_ED25519:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	}
	if (k == NULL)
		tpki_die("key generation");
	return k;
}

EVP_PKEY *
tpki_key(enum tpki_keytype t)
{
	EVP_PKEY	**slot;
	int		  p;

	if (t != TPKI_RSA2048 && t != TPKI_RSA1024)
		return tpki_key_new(t);
	p = t == TPKI_RSA2048 ? 0 : 1;
	slot = &rsa_pool[p][rsa_next[p]];
	rsa_next[p] = (rsa_next[p] + 1) % TPKI_RSA_POOL;
	if (*slot == NULL)
		*slot = tpki_key_new(t);
	if (!EVP_PKEY_up_ref(*slot))
		tpki_die("EVP_PKEY_up_ref");
	return *slot;
}

int
tpki_keytype_from_name(const char *s)
{
	static const struct {
		const char		*name;
		enum tpki_keytype	 t;
	} names[] = {
		{ "rsa", TPKI_RSA2048 }, { "rsa2048", TPKI_RSA2048 },
		{ "rsa1024", TPKI_RSA1024 }, { "ec", TPKI_EC256 },
		{ "ec256", TPKI_EC256 }, { "ec224", TPKI_EC224 },
		{ "ec384", TPKI_EC384 }, { "ed25519", TPKI_ED25519 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].t;
	return -1;
}

static void
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION	*ext;

	ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (ext == NULL || !X509_add_ext(x, ext, -1))
		tpki_die(value);
	X509_EXTENSION_free(ext);
}

static void
set_serial(X509 *x, long serial)
{
	unsigned char	 b[8];
	uint64_t	 v = 0;
	size_t		 i;

	if (serial > 0)
		v = (uint64_t)serial;
	while (v == 0) {
		if (RAND_bytes(b, sizeof(b)) != 1)
			tpki_die("RAND_bytes");
		for (i = 0; i < sizeof(b); i++)
			v = (v << 8) | b[i];
		v &= INT64_MAX;	/* positive, at most 8 DER bytes */
	}
	if (!ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), v))
		tpki_die("serial");
}

static void
append(char *buf, size_t size, const char *prefix, const char *name)
{
	if (*buf != '\0')
		strncat(buf, ",", size - strlen(buf) - 1);
	strncat(buf, prefix, size - strlen(buf) - 1);
	strncat(buf, name, size - strlen(buf) - 1);
}

X509 *
tpki_cert(const struct tpki_opts *o, EVP_PKEY *subject_key, X509 *issuer,
    EVP_PKEY *issuer_key)
{
	static const struct tpki_opts	 zero;
	X509				*x;
	X509_NAME			*name;
	X509V3_CTX			 ctx;
	const EVP_MD			*md;
	time_t				 now = time(NULL);
	char				 buf[4096];
	const char *const		*p;
	int				 rsa;

	if (o == NULL)
		o = &zero;
	if (issuer_key == NULL)
		issuer_key = subject_key;
	if ((x = X509_new()) == NULL)
		tpki_die("X509_new");
	if (!X509_set_version(x, X509_VERSION_3))
		tpki_die("X509_set_version");
	set_serial(x, o->serial);

	if ((name = X509_NAME_new()) == NULL)
		tpki_die("X509_NAME_new");
	if (o->org != NULL && !X509_NAME_add_entry_by_txt(name, "O",
	    MBSTRING_UTF8, (const unsigned char *)o->org, -1, -1, 0))
		tpki_die("subject O");
	if (o->cn != NULL && !X509_NAME_add_entry_by_txt(name, "CN",
	    MBSTRING_UTF8, (const unsigned char *)o->cn, -1, -1, 0))
		tpki_die("subject CN");
	if (!X509_set_subject_name(x, name))
		tpki_die("X509_set_subject_name");
	if (!X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name))
		tpki_die("X509_set_issuer_name");
	X509_NAME_free(name);

	if (ASN1_TIME_set(X509_getm_notBefore(x),
	    o->not_before != 0 ? o->not_before : now - 3600) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x),
	    o->not_after != 0 ? o->not_after : now + 365 * 86400) == NULL)
		tpki_die("validity");
	if (!X509_set_pubkey(x, subject_key))
		tpki_die("X509_set_pubkey");

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (!o->no_bc) {
		if (o->ca && (o->pathlen > 0 || o->pathlen_set))
			snprintf(buf, sizeof(buf), "critical,CA:TRUE,pathlen:%d",
			    o->pathlen);
		else
			snprintf(buf, sizeof(buf), "critical,CA:%s",
			    o->ca ? "TRUE" : "FALSE");
		add_ext(x, &ctx, NID_basic_constraints, buf);
	}
	if (!o->no_ku) {
		rsa = EVP_PKEY_get_base_id(subject_key) == EVP_PKEY_RSA;
		if (o->ca)
			add_ext(x, &ctx, NID_key_usage, o->no_keycertsign ?
			    "critical,digitalSignature" :
			    "critical,keyCertSign,cRLSign");
		else
			add_ext(x, &ctx, NID_key_usage, rsa ?
			    "critical,digitalSignature,keyEncipherment" :
			    "critical,digitalSignature");
	}
	if (o->eku != 0) {
		*buf = '\0';
		if (o->eku & TPKI_EKU_SERVER)
			append(buf, sizeof(buf), "", "serverAuth");
		if (o->eku & TPKI_EKU_CLIENT)
			append(buf, sizeof(buf), "", "clientAuth");
		if (o->eku & TPKI_EKU_CODE)
			append(buf, sizeof(buf), "", "codeSigning");
		add_ext(x, &ctx, NID_ext_key_usage, buf);
	}
	*buf = '\0';
	for (p = o->dns; p != NULL && *p != NULL; p++)
		append(buf, sizeof(buf), "DNS:", *p);
	for (p = o->ips; p != NULL && *p != NULL; p++)
		append(buf, sizeof(buf), "IP:", *p);
	if (*buf != '\0')
		add_ext(x, &ctx, NID_subject_alt_name, buf);
	/* SKI before AKI: a self-issued AKI is taken from the SKI. */
	if (!o->no_ski)
		add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	if (!o->no_aki && (issuer == NULL ? !o->no_ski :
	    X509_get0_subject_key_id(issuer) != NULL))
		add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");

	md = o->md != NULL ? o->md : EVP_sha256();
	if (EVP_PKEY_get_base_id(issuer_key) == EVP_PKEY_ED25519)
		md = NULL;
	if (X509_sign(x, issuer_key, md) <= 0)
		tpki_die("X509_sign");
	return x;
}

int
tpki_chain_make(struct tpki_chain *c, const char *domain, int ninter,
    enum tpki_keytype leaf_key)
{
	struct tpki_chain_opts	 o;

	memset(&o, 0, sizeof(o));
	o.domain = domain;
	o.ninter = ninter;
	o.leaf_key = leaf_key;
	return tpki_chain_make_opts(c, &o);
}

int
tpki_chain_make_opts(struct tpki_chain *c, const struct tpki_chain_opts *co)
{
	struct tpki_opts	 o;
	unsigned char		 r[4];
	char			 tag[9], cn[256], wild[300];
	const char		*dns[3];
	const char		*prefix = co->cn_prefix != NULL ? co->cn_prefix : "";
	enum tpki_keytype	 cak = co->ca_key;
	time_t			 now = time(NULL), lnb, lna, canb, cana;
	X509			*issuer;
	EVP_PKEY		*issuer_key;
	int			 i;

	memset(c, 0, sizeof(*c));
	if (co->ninter < 0 || co->ninter > TPKI_INTER_MAX || co->domain == NULL)
		return -1;
	if (RAND_bytes(r, sizeof(r)) != 1)
		tpki_die("RAND_bytes");
	snprintf(tag, sizeof(tag), "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);

	lnb = co->leaf_not_before != 0 ? co->leaf_not_before : now - 3600;
	lna = co->leaf_not_after != 0 ? co->leaf_not_after : now + 365 * 86400;
	canb = now - 86400;
	cana = now + 3650L * 86400;
	if (lnb < canb)
		canb = lnb;
	if (lna > cana)
		cana = lna;

	memset(&o, 0, sizeof(o));
	o.ca = 1;
	o.not_before = canb;
	o.not_after = cana;
	o.md = co->md;
	snprintf(cn, sizeof(cn), "%scertd test root %s", prefix, tag);
	o.cn = cn;
	c->root_key = tpki_key(cak);
	c->root = tpki_cert(&o, c->root_key, NULL, NULL);
	issuer = c->root;
	issuer_key = c->root_key;
	for (i = 0; i < co->ninter; i++) {
		snprintf(cn, sizeof(cn), "%scertd test intermediate %d %s",
		    prefix, i + 1, tag);
		c->inter_key[i] = tpki_key(cak);
		c->inter[i] = tpki_cert(&o, c->inter_key[i], issuer, issuer_key);
		issuer = c->inter[i];
		issuer_key = c->inter_key[i];
	}
	c->ninter = co->ninter;

	memset(&o, 0, sizeof(o));
	snprintf(wild, sizeof(wild), "*.%s", co->domain);
	dns[0] = co->domain;
	dns[1] = wild;
	dns[2] = NULL;
	o.cn = co->domain;
	o.dns = co->dns != NULL ? co->dns : dns;
	o.eku = TPKI_EKU_SERVER;
	o.not_before = lnb;
	o.not_after = lna;
	o.md = co->md;
	c->leaf_key = tpki_key(co->leaf_key);
	c->leaf = tpki_cert(&o, c->leaf_key, issuer, issuer_key);
	return 0;
}

void
tpki_chain_free(struct tpki_chain *c)
{
	int	 i;

	if (c == NULL)
		return;
	X509_free(c->root);
	EVP_PKEY_free(c->root_key);
	for (i = 0; i < TPKI_INTER_MAX; i++) {
		X509_free(c->inter[i]);
		EVP_PKEY_free(c->inter_key[i]);
	}
	X509_free(c->leaf);
	EVP_PKEY_free(c->leaf_key);
	memset(c, 0, sizeof(*c));
}

static char *
tpki_bio_text(BIO *b, size_t *lenp)
{
	char	*data, *out;
	long	 len;

	len = BIO_get_mem_data(b, &data);
	if (len < 0 || (out = malloc((size_t)len + 1)) == NULL)
		tpki_die("BIO_get_mem_data");
	memcpy(out, data, (size_t)len);
	out[len] = '\0';
	if (lenp != NULL)
		*lenp = (size_t)len;
	BIO_free(b);
	return out;
}

X509_CRL *
tpki_crl(X509 *issuer, EVP_PKEY *issuer_key, X509 *const *revoked, size_t n,
    time_t last_update, time_t next_update)
{
	X509_CRL	*crl;
	X509_REVOKED	*r;
	ASN1_TIME	*t;
	time_t		 now = time(NULL);
	size_t		 i;

	if ((crl = X509_CRL_new()) == NULL || !X509_CRL_set_version(crl, 1) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)))
		tpki_die("X509_CRL_new");
	if ((t = ASN1_TIME_set(NULL, last_update ? last_update : now - 3600)) ==
	    NULL || !X509_CRL_set1_lastUpdate(crl, t) ||
	    ASN1_TIME_set(t, next_update ? next_update : now + 30 * 86400) ==
	    NULL || !X509_CRL_set1_nextUpdate(crl, t))
		tpki_die("CRL dates");
	for (i = 0; i < n; i++) {
		if ((r = X509_REVOKED_new()) == NULL ||
		    !X509_REVOKED_set_serialNumber(r,
		    X509_get_serialNumber(revoked[i])) ||
		    ASN1_TIME_set(t, now - 60) == NULL ||
		    !X509_REVOKED_set_revocationDate(r, t) ||
		    !X509_CRL_add0_revoked(crl, r))
			tpki_die("X509_CRL_add0_revoked");
	}
	ASN1_TIME_free(t);
	if (!X509_CRL_sort(crl) || !X509_CRL_sign(crl, issuer_key,
	    EVP_sha256()))
		tpki_die("X509_CRL_sign");
	return crl;
}

char *
tpki_crl_pem(X509_CRL *crl)
{
	BIO	*b;

	if ((b = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509_CRL(b,
	    crl))
		tpki_die("PEM_write_bio_X509_CRL");
	return tpki_bio_text(b, NULL);
}

char *
tpki_cert_pem(X509 *x)
{
	BIO	*b;

	if ((b = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509(b, x))
		tpki_die("PEM_write_bio_X509");
	return tpki_bio_text(b, NULL);
}

unsigned char *
tpki_cert_der(X509 *x, size_t *len)
{
	unsigned char	*der = NULL;
	int		 n;

	if ((n = i2d_X509(x, &der)) <= 0)
		tpki_die("i2d_X509");
	*len = (size_t)n;
	return der;	/* OPENSSL_malloc'd; free() is fine with the default allocator */
}

char *
tpki_key_pem(EVP_PKEY *k, int fmt)
{
	BIO		*b;
	const char	*pass = TPKI_PASSPHRASE;
	int		 ok = 0;
	int		 trad;

	/* Ed25519 has no traditional form: it is always PKCS#8. */
	trad = EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519;
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		tpki_die("BIO_new");
	switch (fmt) {
	case TPKI_KEY_PKCS8:
		ok = PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
		break;
	case TPKI_KEY_TRAD:
		ok = trad ? PEM_write_bio_PrivateKey_traditional(b, k, NULL,
		    NULL, 0, NULL, NULL) :
		    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
		break;
	case TPKI_KEY_PKCS8_ENC:
		ok = PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(),
		    NULL, 0, NULL, (void *)pass);
		break;
	case TPKI_KEY_TRAD_ENC:
		ok = trad ? PEM_write_bio_PrivateKey_traditional(b, k,
		    EVP_aes_128_cbc(), (unsigned char *)pass, strlen(pass),
		    NULL, NULL) :
		    PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(),
		    NULL, 0, NULL, (void *)pass);
		break;
	}
	if (!ok)
		tpki_die("key PEM");
	return tpki_bio_text(b, NULL);
}

unsigned char *
tpki_key_der(EVP_PKEY *k, int fmt, size_t *len)
{
	PKCS8_PRIV_KEY_INFO	*p8;
	unsigned char		*der = NULL;
	int			 n;

	if (fmt == TPKI_KEY_TRAD && EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519)
		n = i2d_PrivateKey(k, &der);
	else {
		if ((p8 = EVP_PKEY2PKCS8(k)) == NULL)
			tpki_die("EVP_PKEY2PKCS8");
		n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
		PKCS8_PRIV_KEY_INFO_free(p8);
	}
	if (n <= 0)
		tpki_die("key DER");
	*len = (size_t)n;
	return der;
}

static void
tpki_bad_input(const char *path, const char *why)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, path,
	    why);
	exit(2);
}

static FILE *
tpki_open_input(const char *path)
{
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL)
		tpki_bad_input(path, strerror(errno));
	return f;
}

X509 *
tpki_read_cert(const char *path)
{
	FILE	*f = tpki_open_input(path);
	X509	*x = PEM_read_X509(f, NULL, NULL, NULL);

	fclose(f);
	if (x == NULL)
		tpki_bad_input(path, "not a PEM certificate");
	return x;
}

EVP_PKEY *
tpki_read_key(const char *path)
{
	FILE		*f = tpki_open_input(path);
	EVP_PKEY	*k = PEM_read_PrivateKey(f, NULL, NULL,
			    (void *)TPKI_PASSPHRASE);

	fclose(f);
	if (k == NULL)
		tpki_bad_input(path, "not a PEM private key");
	return k;
}

int
tpki_write_buf(const char *path, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600))
	    == -1)
		return -1;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

int
tpki_write(const char *path, const char *text)
{
	return tpki_write_buf(path, text, strlen(text));
}

void
tpki_tmpdir(char *dir, size_t size, const char *tag)
{
	if ((size_t)snprintf(dir, size, "/tmp/certd-test-%s.XXXXXX", tag) >=
	    size || mkdtemp(dir) == NULL)
		tpki_die("mkdtemp");
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

void
tpki_rmtree(const char *dir)
{
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == -1)
		tpki_die("removing a scratch directory");
}

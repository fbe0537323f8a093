/*
 * files.c: what a file holds, told by its bytes and never by its name
 * (keytool writes PKCS#12 into files called .jks, and Java reads either
 * type under either name): PEM or DER certificates and keys, a JKS or a
 * PKCS#12 store, read with certd's own decoders and readers.  Keys are
 * decoded by key.c to learn their type and size, then dropped.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "certctl.h"
#include "jks.h"
#include "key.h"
#include "log.h"
#include "pem.h"
#include "pkcs12.h"
#include "util.h"

#define FILE_MAX	(8 * 1024 * 1024)	/* Java's cacerts is ~150 KiB */
#define MAGIC_JKS	0xfeedfeedU
#define MAGIC_JCEKS	0xcecececeU

const char *
files_kind_name(enum file_kind k)
{
	switch (k) {
	case FILE_PEM:
		return "PEM";
	case FILE_DER:
		return "DER";
	case FILE_JKS:
		return "JKS";
	default:
		return "PKCS#12";
	}
}

void
files_free(struct file_contents *fc)
{
	size_t	 i;

	for (i = 0; i < fc->ncerts; i++) {
		free(fc->certs[i].alias);
		X509_free(fc->certs[i].cert);
	}
	free(fc->certs);
	free(fc->keys);
	memset(fc, 0, sizeof(*fc));
}

/* Takes the reference to x. */
static void
add_cert(struct file_contents *fc, const char *alias, X509 *x, int anchor,
    int key_entry)
{
	struct file_cert	*c;

	fc->certs = xreallocarray(fc->certs, fc->ncerts + 1,
	    sizeof(*fc->certs));
	c = &fc->certs[fc->ncerts++];
	c->alias = xstrdup(alias);
	c->cert = x;
	c->anchor = anchor;
	c->key_entry = key_entry;
}

/* A key's type and size, and the certificate it belongs to. */
static void
add_key(struct file_contents *fc, EVP_PKEY *k, int encrypted)
{
	struct file_key	*fk;
	size_t		 i;

	fc->keys = xreallocarray(fc->keys, fc->nkeys + 1, sizeof(*fc->keys));
	fk = &fc->keys[fc->nkeys++];
	memset(fk, 0, sizeof(*fk));
	fk->encrypted = encrypted;
	fk->cert = -1;
	if (k == NULL)
		return;
	key_describe(k, fk->desc, sizeof(fk->desc));
	for (i = 0; i < fc->ncerts && fk->cert == -1; i++)
		if (EVP_PKEY_eq(X509_get0_pubkey(fc->certs[i].cert), k) == 1)
			fk->cert = (int)i;
	ERR_clear_error();
}

static void
add_other(struct file_contents *fc, const char *label)
{
	size_t	 o = strlen(fc->others);

	snprintf(fc->others + o, sizeof(fc->others) - o, "%s%s",
	    o ? ", " : "", label);
}

static int
read_jks(const unsigned char *buf, size_t len, const char *pass,
    struct file_contents *fc, char *err, size_t errlen)
{
	char	**aliases, **a2;
	X509	**certs, **c2;
	size_t	 n, n2, i;

	if (jks_read(buf, len, NULL, &aliases, &certs, &n) == -1) {
		snprintf(err, errlen, "a JKS keystore certctl cannot read: "
		    "damaged, or it holds private-key entries (certctl reads "
		    "trusted-certificate entries only)");
		return -1;
	}
	if (pass != NULL) {
		if (jks_read(buf, len, pass, &a2, &c2, &n2) == -1) {
			jks_entries_free(aliases, certs, n);
			snprintf(err, errlen, "the password is wrong: the JKS "
			    "digest does not verify (keytool: \"Keystore was "
			    "tampered with, or password was incorrect\")");
			return -1;
		}
		jks_entries_free(a2, c2, n2);
	}
	fc->kind = FILE_JKS;
	fc->checked = pass != NULL;
	for (i = 0; i < n; i++) {
		add_cert(fc, aliases[i], certs[i], 1, 0);
		certs[i] = NULL;
	}
	jks_entries_free(aliases, certs, n);
	return 0;
}

/* Returns 1 if it is not PKCS#12 at all, else 0 or -1. */
static int
read_p12(const unsigned char *buf, size_t len, const char *pass,
    struct file_contents *fc, char *err, size_t errlen)
{
	struct p12_cert	*c;
	size_t		 n, i;
	int		 rc;

	rc = pkcs12_read_certs(buf, len, pass, &c, &n, &fc->nkeybags);
	switch (rc) {
	case 0:
		break;
	case P12_ENOTP12:
		return 1;
	case P12_EPASSWORD:
		snprintf(err, errlen, "the password is wrong: the PKCS#12 MAC "
		    "does not verify (keytool: \"keystore password was "
		    "incorrect\")");
		return -1;
	case P12_ENEEDPASS:
		/* What Java sees without trustStorePassword: no anchors. */
		fc->kind = FILE_PKCS12;
		fc->locked = 1;
		return 0;
	default:
		snprintf(err, errlen, "a part of it does not decrypt with "
		    "that password, or uses RC2-40, which OpenSSL 3 reads "
		    "only with its legacy provider");
		return -1;
	}
	fc->kind = FILE_PKCS12;
	fc->checked = pass != NULL;
	/*
	 * Java's trust manager takes trusted entries and the certificate of
	 * each key entry; a bag without Java's attribute is neither.
	 */
	for (i = 0; i < n; i++) {
		add_cert(fc, c[i].alias, c[i].cert, c[i].trusted ||
		    c[i].key_entry, c[i].key_entry);
		c[i].cert = NULL;
	}
	pkcs12_certs_free(c, n);
	return 0;
}

/* One PEM block: a certificate, a key (described, then dropped), or other. */
static int
read_block(struct file_contents *fc, const char *label, const char *header,
    const unsigned char *der, long len)
{
	struct cert_error	 cerr;
	const unsigned char	*p = der;
	EVP_PKEY		*k = NULL;
	X509			*x;

	if (strcmp(label, "CERTIFICATE") == 0 ||
	    strcmp(label, "X509 CERTIFICATE") == 0 ||
	    strcmp(label, "TRUSTED CERTIFICATE") == 0) {
		x = strcmp(label, "TRUSTED CERTIFICATE") == 0 ?
		    d2i_X509_AUX(NULL, &p, len) : d2i_X509(NULL, &p, len);
		if (x == NULL)
			return -1;
		add_cert(fc, NULL, x, 1, 0);
	} else if (strcmp(label, "ENCRYPTED PRIVATE KEY") == 0 ||
	    (pem_is_key_label(label) && strstr(header, "ENCRYPTED") != NULL))
		add_key(fc, NULL, 1);
	else if (pem_is_key_label(label)) {
		if (key_decode((const char *)der, (size_t)len, "", 0, &k,
		    &cerr) == -1)
			return -1;
		add_key(fc, k, 0);
		EVP_PKEY_free(k);
	} else if (strcmp(label, "EC PARAMETERS") != 0)
		add_other(fc, label);
	return 0;
}

/* Every PEM block, in order; -1 with err on a damaged one. */
static int
read_pem_blocks(const char *buf, size_t len, struct file_contents *fc,
    char *err, size_t errlen)
{
	BIO		*b;
	char		*label = NULL, *header = NULL;
	unsigned char	*der = NULL;
	long		 dlen = 0;
	int		 n = 0, rc = 0;

	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL)
		fatalx("out of memory");
	while (PEM_read_bio(b, &label, &header, &der, &dlen) == 1) {
		n++;
		if (read_block(fc, label, header, der, dlen) == -1) {
			snprintf(err, errlen, "PEM block %d (%s) does not "
			    "decode", n, label);
			rc = -1;
		}
		OPENSSL_free(label);
		OPENSSL_free(header);
		OPENSSL_clear_free(der, (size_t)dlen);
		if (rc == -1)
			break;
		ERR_clear_error();	/* what ends the loop must be last */
	}
	if (rc == 0 && ERR_GET_REASON(ERR_peek_last_error()) !=
	    PEM_R_NO_START_LINE) {
		snprintf(err, errlen, "PEM block %d is damaged", n + 1);
		rc = -1;
	}
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

/*
 * What certd itself accepts beyond plain PEM and DER: percent-encoded PEM,
 * a '+' turned into a space.  The certificate decoder's reason is the one
 * told when neither decodes.
 */
static int
read_as_upload(const char *buf, size_t len, struct file_contents *fc,
    char *err, size_t errlen)
{
	struct cert_error	 cerr, kerr;
	STACK_OF(X509)		*sk = NULL;
	EVP_PKEY		*k = NULL;

	if (pem_decode_certs(buf, len, "", 0, &sk, &cerr) == 0) {
		while (sk_X509_num(sk) > 0)
			add_cert(fc, NULL, sk_X509_shift(sk), 1, 0);
		sk_X509_free(sk);
		return 0;
	}
	if (key_decode(buf, len, "", 0, &k, &kerr) == 0 ||
	    kerr.code == E_KEY_ENCRYPTED) {
		add_key(fc, k, k == NULL);
		EVP_PKEY_free(k);
		return 0;
	}
	snprintf(err, errlen, "not a certificate, key, JKS or PKCS#12 file: "
	    "%s", cerr.message);
	return -1;
}

static int
read_bytes(const char *buf, size_t len, const char *pass,
    struct file_contents *fc, char *err, size_t errlen)
{
	const unsigned char	*u = (const unsigned char *)buf;
	uint32_t		 magic = 0;
	int			 rc;

	if (len >= 4)
		magic = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
		    (uint32_t)u[2] << 8 | u[3];
	if (magic == MAGIC_JKS)
		return read_jks(u, len, pass, fc, err, errlen);
	if (magic == MAGIC_JCEKS) {
		snprintf(err, errlen, "a JCEKS keystore; convert it: keytool "
		    "-importkeystore -srckeystore FILE -destkeystore new.p12 "
		    "-deststoretype PKCS12");
		return -1;
	}
	if (len > 0 && u[0] == 0x30) {
		if ((rc = read_p12(u, len, pass, fc, err, errlen)) != 1)
			return rc;
		fc->kind = FILE_DER;
		return read_as_upload(buf, len, fc, err, errlen);
	}
	fc->kind = FILE_PEM;
	if (read_pem_blocks(buf, len, fc, err, errlen) == -1)
		return -1;
	if (fc->ncerts > 0 || fc->nkeys > 0 || fc->others[0] != '\0')
		return 0;
	return read_as_upload(buf, len, fc, err, errlen);
}

int
files_read(const char *path, const char *pass, struct file_contents *fc,
    char *err, size_t errlen)
{
	char	*buf = NULL;
	size_t	 len = 0;
	int	 rc;

	memset(fc, 0, sizeof(*fc));
	if (read_file(path, FILE_MAX, &buf, &len) == -1) {
		snprintf(err, errlen, "cannot read it: %s", errno == EFBIG ?
		    "larger than 8 MiB" : strerror(errno));
		return -1;
	}
	rc = read_bytes(buf, len, pass, fc, err, errlen);
	freezero(buf, len);
	if (rc == -1)
		files_free(fc);
	return rc;
}

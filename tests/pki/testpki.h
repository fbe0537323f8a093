/*
 * testpki.h: a throwaway PKI made at test time (OpenSSL C API only), so no
 * test depends on fixtures whose dates rot.  Linked into every unit test as
 * tests/libtestpki.a; the tests/testpki command wraps it for shell tests.
 *
 * Typical use:
 *	struct tpki_chain c;
 *	tpki_chain_make(&c, "example.com", 1, TPKI_EC256);
 *	... c.root, c.inter[0], c.leaf, c.leaf_key ...
 *	tpki_chain_free(&c);
 *
 *	struct tpki_opts o = { .cn = "odd", .md = EVP_sha1() };
 *	X509 *x = tpki_cert(&o, key, c.inter[0], c.inter_key[0]);
 *
 * Every function aborts the test program (with a message on stderr) if
 * OpenSSL fails: a broken test PKI must not look like a passing test.
 * Everything returned is new: free with X509_free/EVP_PKEY_free/free().
 */
#ifndef CERTD_TESTPKI_H
#define CERTD_TESTPKI_H

#include <stddef.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

enum tpki_keytype {
	TPKI_RSA2048,
	TPKI_RSA1024,
	TPKI_EC256,
	TPKI_EC224,
	TPKI_EC384,
	TPKI_ED25519
};

/*
 * A key of that type.  RSA keys come from a per-process pool of
 * TPKI_RSA_POOL keys generated on first use (RSA keygen is slow, tests make
 * hundreds of certificates): TPKI_RSA_POOL consecutive calls for one RSA size
 * return distinct keys, then the pool wraps.  EC and Ed25519 keys are always
 * fresh.  tpki_key_new() always generates a fresh key.
 */
#define TPKI_RSA_POOL	8
EVP_PKEY	*tpki_key(enum tpki_keytype);
EVP_PKEY	*tpki_key_new(enum tpki_keytype);
/* Parse "rsa", "rsa2048", "rsa1024", "ec", "ec256", "ec224", "ec384",
 * "ed25519"; -1 if unknown. */
int		 tpki_keytype_from_name(const char *);

#define TPKI_EKU_SERVER	0x1
#define TPKI_EKU_CLIENT	0x2
#define TPKI_EKU_CODE	0x4	/* codeSigning: an EKU without serverAuth */

/*
 * What a certificate looks like.  A zeroed struct gives: no CN, no SAN, an
 * end-entity certificate (basicConstraints CA:FALSE, keyUsage
 * digitalSignature[,keyEncipherment for RSA]), no EKU, valid now-1h..now+365d,
 * SHA-256, random 63-bit serial, SKI and AKI present.
 */
struct tpki_opts {
	const char		*cn;		/* subject CN */
	const char		*org;		/* subject O, NULL none */
	const char *const	*dns;		/* SAN DNS names, NULL-terminated */
	const char *const	*ips;		/* SAN IP addresses, NULL-terminated */
	int			 ca;		/* basicConstraints CA:TRUE */
	int			 pathlen;	/* with ca; <= 0 means none unless
						   pathlen_set */
	int			 pathlen_set;	/* use pathlen even when 0 */
	int			 no_bc;		/* omit basicConstraints */
	int			 no_keycertsign; /* CA without keyCertSign */
	int			 no_ku;		/* omit keyUsage */
	int			 eku;		/* TPKI_EKU_* bitmask, 0 none */
	time_t			 not_before;	/* 0: now - 1h */
	time_t			 not_after;	/* 0: now + 365d */
	const EVP_MD		*md;		/* NULL: SHA-256 (none for Ed25519) */
	long			 serial;	/* 0: random */
	int			 no_aki;	/* omit authorityKeyIdentifier */
	int			 no_ski;	/* omit subjectKeyIdentifier */
};

/*
 * A certificate for subject_key.  issuer NULL: self-issued (issuer name =
 * subject name), signed by issuer_key if given, else by subject_key; a
 * different issuer_key thus makes a root whose self-signature is wrong.
 * Otherwise issued by issuer (its subject, its SKI as AKI) and signed with
 * issuer_key, which need not match issuer (for issuer-mismatch tests).
 */
X509	*tpki_cert(const struct tpki_opts *, EVP_PKEY *subject_key,
	    X509 *issuer, EVP_PKEY *issuer_key);

#define TPKI_INTER_MAX	4
struct tpki_chain {
	X509		*root;
	X509		*inter[TPKI_INTER_MAX];	/* inter[0] is issued by root */
	X509		*leaf;			/* issued by inter[ninter-1] */
	EVP_PKEY	*root_key;
	EVP_PKEY	*inter_key[TPKI_INTER_MAX];
	EVP_PKEY	*leaf_key;
	int		 ninter;
};

/*
 * A chain root -> ninter intermediates -> leaf.  CA keys are RSA-2048 (pool);
 * CA certificates are valid now-1d..now+3650d (widened to cover the leaf),
 * CA:TRUE with keyCertSign, no pathlen; CNs carry a random tag so different
 * chains are distinguishable.  The leaf: CN=domain, SAN DNS:domain and
 * DNS:*.domain, EKU serverAuth, valid now-1h..now+365d.
 */
int	tpki_chain_make(struct tpki_chain *, const char *domain, int ninter,
	    enum tpki_keytype leaf_key);

struct tpki_chain_opts {
	const char		*domain;	/* leaf CN and default SAN */
	int			 ninter;	/* 0..TPKI_INTER_MAX */
	enum tpki_keytype	 leaf_key;
	enum tpki_keytype	 ca_key;	/* 0 = TPKI_RSA2048 */
	const char *const	*dns;		/* leaf SAN instead of the default */
	const char		*cn_prefix;	/* prefixed to every CA CN */
	time_t			 leaf_not_before; /* 0: now - 1h */
	time_t			 leaf_not_after;  /* 0: now + 365d */
	const EVP_MD		*md;		/* all signatures; NULL SHA-256 */
};
int	tpki_chain_make_opts(struct tpki_chain *, const struct tpki_chain_opts *);
void	tpki_chain_free(struct tpki_chain *);	/* zeroes it; NULL ok */

/* PEM / DER text; malloc'd, PEM NUL-terminated. */
char		*tpki_cert_pem(X509 *);
unsigned char	*tpki_cert_der(X509 *, size_t *len);

#define TPKI_KEY_PKCS8		0	/* BEGIN PRIVATE KEY */
#define TPKI_KEY_TRAD		1	/* BEGIN RSA/EC PRIVATE KEY (PKCS#1/SEC1);
					   Ed25519 has none: PKCS#8 */
#define TPKI_KEY_PKCS8_ENC	2	/* BEGIN ENCRYPTED PRIVATE KEY */
#define TPKI_KEY_TRAD_ENC	3	/* Proc-Type: 4,ENCRYPTED */
#define TPKI_PASSPHRASE		"testpki-secret"	/* for the _ENC forms */
char		*tpki_key_pem(EVP_PKEY *, int fmt);
/* DER of the PKCS#8 (fmt PKCS8) or traditional (fmt TRAD) form. */
unsigned char	*tpki_key_der(EVP_PKEY *, int fmt, size_t *len);

/*
 * A CRL issued by issuer (signed with issuer_key, SHA-256) revoking the
 * n certificates of revoked, valid from last_update to next_update (0:
 * now - 1h and now + 30 days).  tpki_crl_pem: its PEM, malloc'd.
 */
X509_CRL	*tpki_crl(X509 *issuer, EVP_PKEY *issuer_key, X509 *const *revoked,
		    size_t n, time_t last_update, time_t next_update);
char		*tpki_crl_pem(X509_CRL *);

/*
 * For the command-line tools (testpki, render-tool): the first certificate,
 * or the private key (the _ENC forms with TPKI_PASSPHRASE), of the PEM file
 * path.  A file that cannot be read is a wrong argument, not a broken test
 * PKI: "PROGRAM: path: why" on stderr and exit 2.
 */
X509		*tpki_read_cert(const char *path);
EVP_PKEY	*tpki_read_key(const char *path);

/* Write text (NUL-terminated) or len bytes to path, mode 0600.  0 or -1. */
int	tpki_write(const char *path, const char *text);
int	tpki_write_buf(const char *path, const void *, size_t len);

/* Scratch space: a new directory /tmp/certd-test-TAG.XXXXXX in dir, and
 * its removal with all below it (a database's -wal and -shm included). */
void	tpki_tmpdir(char *dir, size_t size, const char *tag);
void	tpki_rmtree(const char *dir);

#endif

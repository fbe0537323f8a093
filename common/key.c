/*
 * key.c: private keys (see key.h).  Every buffer that holds key bytes is
 * cleared before it is freed: decoded DER, PEM text, sealed and opened
 * rows.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "key.h"
#include "pem.h"
#include "util.h"

#define SEAL_PREFIX	"certd-aes256gcm:1:"
#define SEAL_IV		12
#define SEAL_TAG	16

struct key_sealer {
	unsigned char	 k[32];		/* AES-256-GCM key */
};

static const char key_encrypted_msg[] =
    "the private key is protected by a passphrase; certd needs it "
    "unencrypted because services start unattended. Remove the passphrase "
    "with: openssl pkey -in key.pem -out key-nopass.pem";

/* A private key from exactly len bytes of DER (PKCS#8, PKCS#1 or SEC1). */
static EVP_PKEY *
der_key(const unsigned char *der, size_t len, int *encrypted)
{
	static const int	 types[] = { EVP_PKEY_RSA, EVP_PKEY_EC };
	const unsigned char	*p;
	PKCS8_PRIV_KEY_INFO	*p8;
	X509_SIG		*sig;
	EVP_PKEY		*k = NULL;
	size_t			 i;

	*encrypted = 0;
	p = der;
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len)) != NULL) {
		if (p == der + len)
			k = EVP_PKCS82PKEY(p8);
		PKCS8_PRIV_KEY_INFO_free(p8);
		goto out;
	}
	p = der;
	if ((sig = d2i_X509_SIG(NULL, &p, (long)len)) != NULL) {
		*encrypted = p == der + len;
		X509_SIG_free(sig);
		goto out;
	}
	for (i = 0; i < nitems(types) && k == NULL; i++) {
		p = der;
		k = d2i_PrivateKey(types[i], NULL, &p, (long)len);
		if (k != NULL && p != der + len) {
			EVP_PKEY_free(k);
			k = NULL;
		}
	}
out:
	ERR_clear_error();
	return k;
}

/* The one key block of a PEM upload, or NULL with err set. */
static const struct pem_block *
key_block(const struct pem_input *in, const char *name, int seq,
    struct cert_error *err)
{
	const struct pem_block	*b = NULL;
	size_t			 i;

	for (i = 0; i < in->nblocks; i++) {
		/* `openssl ecparam -genkey` writes the curve first. */
		if (strcmp(in->blocks[i].label, "EC PARAMETERS") == 0)
			continue;
		if (!pem_is_key_label(in->blocks[i].label)) {
			cert_error_set(err, E_KEY_ENCODING, name, seq,
			    "PEM block %zu is \"%s\", expected a private key "
			    "(\"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC "
			    "PRIVATE KEY\")", i + 1, in->blocks[i].label);
			return NULL;
		}
		if (b != NULL) {
			cert_error_set(err, E_KEY_ENCODING, name, seq,
			    "more than one private key");
			return NULL;
		}
		b = &in->blocks[i];
	}
	if (b == NULL)
		cert_error_set(err, E_KEY_ENCODING, name, seq,
		    "no private key found");
	return b;
}

int
key_decode(const char *buf, size_t len, const char *name, int seq,
    EVP_PKEY **out, struct cert_error *err)
{
	struct pem_input	 in;
	const struct pem_block	*b;
	EVP_PKEY		*k = NULL;
	int			 encrypted = 0, ret = -1;

	*out = NULL;
	pem_input_init(&in, 1, name, seq, err);
	if (pem_read(&in, buf, len) == -1)
		goto out;
	if (in.der != NULL) {
		if (pem_der_len(in.der, in.derlen) != in.derlen) {
			cert_error_set(err, E_KEY_ENCODING, name, seq,
			    "not a valid DER private key (truncated, corrupt "
			    "or trailing data)");
			goto out;
		}
		k = der_key(in.der, in.derlen, &encrypted);
	} else {
		if ((b = key_block(&in, name, seq, err)) == NULL)
			goto out;
		if (b->encrypted || strcmp(b->label,
		    "ENCRYPTED PRIVATE KEY") == 0)
			encrypted = 1;
		else
			k = der_key(b->der, b->len, &encrypted);
	}
	if (encrypted) {
		cert_error_set(err, E_KEY_ENCRYPTED, name, seq, "%s",
		    key_encrypted_msg);
		goto out;
	}
	if (k == NULL) {
		cert_error_set(err, E_KEY_ENCODING, name, seq,
		    "unreadable private key: not PKCS#8, PKCS#1 (RSA) or "
		    "SEC1 (EC)");
		goto out;
	}
	*out = k;
	k = NULL;
	ret = 0;
out:
	EVP_PKEY_free(k);
	pem_input_clear(&in);
	return ret;
}

/*
 * A key whose public half matches can still carry a damaged private half
 * (a hand-edited PKCS#1 file); TLS would then fail at the first handshake.
 * Sign and verify once: ~1 ms for RSA-2048, where EVP_PKEY_pairwise_check
 * (which tests the primes) takes ~28 ms.
 */
static int
key_consistent(EVP_PKEY *key, EVP_PKEY *pub)
{
	static const unsigned char	 msg[] = "certd key check";
	EVP_MD_CTX			*ctx = NULL;
	const EVP_MD			*md = EVP_sha256();
	unsigned char			*sig = NULL;
	size_t				 siglen = 0;
	int				 id, rc = -1;

	id = EVP_PKEY_get_base_id(key);
	if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448)
		md = NULL;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, msg, sizeof(msg)) != 1)
		goto out;
	sig = xmalloc(siglen);
	if (EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) != 1)
		goto out;
	EVP_MD_CTX_free(ctx);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub) != 1 ||
	    EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)) != 1)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(sig);
	ERR_clear_error();
	return rc;
}

int
key_matches_cert(EVP_PKEY *key, X509 *x, const char *name, int seq,
    struct cert_error *err)
{
	if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
		ERR_clear_error();
		return cert_error_set(err, E_KEY_MISMATCH, name, seq,
		    "the private key does not belong to the server "
		    "certificate (their public keys differ)");
	}
	if (key_consistent(key, X509_get0_pubkey(x)) == -1)
		return cert_error_set(err, E_KEY_MISMATCH, name, seq,
		    "the private key is corrupt: its private part does not "
		    "match its public part, which is the certificate's");
	return 0;
}

char *
key_pem(EVP_PKEY *k, size_t *lenp)
{
	BIO	*b;
	char	*out = NULL;

	/* A secure-memory BIO is cleared when freed. */
	if ((b = BIO_new(BIO_s_secmem())) != NULL &&
	    PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
		out = bio_text(b, lenp);
	BIO_free(b);
	ERR_clear_error();
	return out;
}

void
key_describe(EVP_PKEY *k, char *buf, size_t size)
{
	char	 group[64];
	size_t	 glen = 0;

	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		snprintf(buf, size, "RSA %d", EVP_PKEY_get_bits(k));
		break;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(k, "group", group,
		    sizeof(group), &glen))
			strlcpy(group, "?", sizeof(group));
		snprintf(buf, size, "EC %s", strcmp(group, "prime256v1") == 0 ?
		    "P-256" : strcmp(group, "secp384r1") == 0 ? "P-384" :
		    strcmp(group, "secp521r1") == 0 ? "P-521" : group);
		break;
	case EVP_PKEY_ED25519:
		strlcpy(buf, "Ed25519", size);
		break;
	case EVP_PKEY_ED448:
		strlcpy(buf, "Ed448", size);
		break;
	default:
		snprintf(buf, size, "%s %d", EVP_PKEY_get0_type_name(k) != NULL ?
		    EVP_PKEY_get0_type_name(k) : "?", EVP_PKEY_get_bits(k));
		break;
	}
	ERR_clear_error();
}

EVP_PKEY *
key_generate(const char *type)
{
	static const struct {
		const char	*name, *group;
		size_t		 bits;
	} types[] = {
		{ "ec", "P-256", 0 },
		{ "ec384", "P-384", 0 },
		{ "rsa", NULL, 2048 },
		{ "rsa2048", NULL, 2048 },
		{ "rsa3072", NULL, 3072 },
		{ "rsa4096", NULL, 4096 },
	};
	size_t	 i;

	for (i = 0; i < nitems(types); i++) {
		if (strcmp(type, types[i].name) != 0)
			continue;
		if (types[i].group != NULL)
			return EVP_PKEY_Q_keygen(NULL, NULL, "EC",
			    types[i].group);
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", types[i].bits);
	}
	return NULL;
}

int
key_spki_sha256(EVP_PKEY *k, char out[65])
{
	unsigned char	*der = NULL;
	int		 len;

	if (k == NULL || (len = i2d_PUBKEY(k, &der)) <= 0)
		return -1;
	sha256_hex(der, (size_t)len, out);
	OPENSSL_free(der);
	return 0;
}

/* --- sealing ------------------------------------------------------------- */

struct key_sealer *
key_sealer_new(const void *secret, size_t len, struct cert_error *err)
{
	static const char	 label[] = "certd keystore key v1";
	struct key_sealer	*s;
	EVP_MD_CTX		*md;
	int			 ok;

	if (len < 16) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "the key encryption "
		    "secret (certd.key) is shorter than 16 bytes");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	/* A labelled hash, so the credential's bytes are never the AES key
	 * itself should the credential serve another purpose too. */
	ok = (md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, label, sizeof(label)) == 1 &&
	    EVP_DigestUpdate(md, secret, len) == 1 &&
	    EVP_DigestFinal_ex(md, s->k, NULL) == 1;
	EVP_MD_CTX_free(md);
	if (!ok) {
		key_sealer_free(s);
		cert_error_set(err, E_INTERNAL, NULL, 0,
		    "cannot derive the key encryption key");
		return NULL;
	}
	return s;
}

void
key_sealer_free(struct key_sealer *s)
{
	freezero(s, s != NULL ? sizeof(*s) : 0);
}

int
key_is_sealed(const char *stored)
{
	return strncmp(stored, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1) == 0;
}

/* AES-256-GCM over in, with "domain\nfingerprint" as associated data. */
static int
seal_crypt(const struct key_sealer *s, int enc, const char *domain,
    const char *fingerprint, unsigned char *iv, const unsigned char *in,
    int inlen, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX	*ctx;
	int		 len, ok;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, s->k, iv,
	    enc) == 1 &&
	    EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)domain,
	    (int)strlen(domain)) == 1 &&
	    EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)"\n",
	    1) == 1 &&
	    EVP_CipherUpdate(ctx, NULL, &len,
	    (const unsigned char *)fingerprint, (int)strlen(fingerprint)) == 1 &&
	    EVP_CipherUpdate(ctx, out, &len, in, inlen) == 1 &&
	    (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG,
	    tag) == 1) &&
	    EVP_CipherFinal_ex(ctx, out + len, &len) == 1 &&
	    (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG,
	    tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

char *
key_seal(const struct key_sealer *s, EVP_PKEY *key, const char *domain,
    const char *fingerprint, struct cert_error *err)
{
	unsigned char	*buf = NULL;
	char		*pem, *out = NULL;
	size_t		 plen, blen, olen;

	if ((pem = key_pem(key, &plen)) == NULL) {
		cert_error_set(err, E_INTERNAL, NULL, 0,
		    "cannot encode the private key");
		return NULL;
	}
	if (s == NULL)
		return pem;
	blen = SEAL_IV + plen + SEAL_TAG;
	olen = sizeof(SEAL_PREFIX) + 4 * ((blen + 2) / 3);
	buf = xmalloc(blen);
	out = xmalloc(olen);
	if (RAND_bytes(buf, SEAL_IV) != 1 || seal_crypt(s, 1, domain,
	    fingerprint, buf, (unsigned char *)pem, (int)plen, buf + SEAL_IV,
	    buf + SEAL_IV + plen) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0,
		    "cannot encrypt the private key");
		free(out);
		out = NULL;
	} else {
		memcpy(out, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1);
		EVP_EncodeBlock((unsigned char *)out + sizeof(SEAL_PREFIX) - 1,
		    buf, (int)blen);
	}
	freezero(pem, plen);
	freezero(buf, blen);
	return out;
}

int
key_open(const struct key_sealer *s, const char *stored, const char *domain,
    const char *fingerprint, EVP_PKEY **out, struct cert_error *err)
{
	const char	*b64;
	unsigned char	*buf;
	char		*pem;
	size_t		 len, plen = 0;
	int		 n, rc = -1;

	*out = NULL;
	if (!key_is_sealed(stored))
		return key_decode(stored, strlen(stored), "server", 0, out,
		    err);
	if (s == NULL)
		return cert_error_set(err, E_INTERNAL, NULL, 0, "the private "
		    "key of %s is stored encrypted and the certd.key "
		    "credential is not available", domain);
	b64 = stored + sizeof(SEAL_PREFIX) - 1;
	len = strlen(b64);
	buf = xmalloc(len + 1);
	pem = xmalloc(len + 1);
	n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len);
	/* DecodeBlock counts the padding as zero bytes. */
	while (n > 0 && len > 0 && b64[len - 1] == '=') {
		n--;
		len--;
	}
	if (n >= SEAL_IV + SEAL_TAG) {
		plen = (size_t)n - SEAL_IV - SEAL_TAG;
		if (seal_crypt(s, 0, domain, fingerprint, buf, buf + SEAL_IV,
		    (int)plen, (unsigned char *)pem, buf + SEAL_IV + plen) == 0)
			rc = key_decode(pem, plen, "server", 0, out, err);
	}
	if (rc == -1)
		cert_error_set(err, E_INTERNAL, NULL, 0, "cannot decrypt the "
		    "private key of %s: wrong certd.key credential or damaged "
		    "row", domain);
	freezero(pem, strlen(b64) + 1);
	freezero(buf, strlen(b64) + 1);
	return rc;
}

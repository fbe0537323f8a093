/*
 * key.h: private keys.  key.c is the only code that sees a private key's
 * bytes: it decodes an upload, checks the key against a certificate, seals
 * it for the database and opens it again, encodes it for the rendered
 * files, and wipes every buffer that held it.  Everyone else holds an
 * EVP_PKEY (an opaque handle whose memory OpenSSL clears) or the stored
 * text, which is opaque too.
 */
#ifndef CERTD_KEY_H
#define CERTD_KEY_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "error.h"

/*
 * Decode a private key: PKCS#8, PKCS#1 (RSA), SEC1 (EC), Ed25519, PEM or
 * DER, in any encoding pem.h accepts.  E_KEY_ENCRYPTED for a passphrase
 * (the message says how to remove it), E_KEY_ENCODING otherwise; never a
 * key byte in the message.
 */
int	key_decode(const char *buf, size_t len, const char *name, int seq,
	    EVP_PKEY **out, struct cert_error *err);
/*
 * Is key the private half of x's public key, and is it whole?  0, or -1
 * with E_KEY_MISMATCH naming the item.
 */
int	key_matches_cert(EVP_PKEY *key, X509 *x, const char *name, int seq,
	    struct cert_error *err);
/* Unencrypted PKCS#8 PEM, for key.pem and bundle.pem; NULL if it cannot.
 * Free with freezero(pem, len). */
char	*key_pem(EVP_PKEY *, size_t *len);
/* "RSA 2048", "EC P-256", "Ed25519", ... into buf. */
void	key_describe(EVP_PKEY *, char *buf, size_t size);
/*
 * A new key: "ec" (P-256), "ec384", "rsa" or "rsa2048", "rsa3072",
 * "rsa4096"; NULL if the type is unknown (or OpenSSL fails).
 */
EVP_PKEY	*key_generate(const char *type);
/* SHA-256 of a public key's SubjectPublicKeyInfo (DER), hex: what a
 * certificate and the private key it was made for have in common. */
int	key_spki_sha256(EVP_PKEY *, char out[65]);

/*
 * Sealing for the database, under a key derived from the certd.key
 * credential.  The stored form is "certd-aes256gcm:1:" and the base64 of
 * IV, ciphertext and tag (AES-256-GCM), with the domain and the server
 * certificate's fingerprint as associated data, so a sealed key moved to
 * another row does not open.  Without a sealer the stored form is the
 * plain PKCS#8 PEM.
 */
struct key_sealer;

/* secret: the credential's bytes, at least 16. */
struct key_sealer	*key_sealer_new(const void *secret, size_t len,
			    struct cert_error *);
void			 key_sealer_free(struct key_sealer *);
/* The stored form of key; malloc'd, free with freezero(s, strlen(s)). */
char	*key_seal(const struct key_sealer *, EVP_PKEY *, const char *domain,
	    const char *fingerprint, struct cert_error *);
/* The key from its stored form (sealed or plain); E_INTERNAL if it does
 * not open (no sealer, wrong credential, damaged row). */
int	key_open(const struct key_sealer *, const char *stored,
	    const char *domain, const char *fingerprint, EVP_PKEY **out,
	    struct cert_error *);
int	key_is_sealed(const char *stored);

#endif

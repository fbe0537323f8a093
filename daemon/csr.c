/*
 * csr.c: the CSR flow's pending keys.  A key is made here, on the host,
 * for a certificate signing request; it waits in the store (sealed when
 * certd has its credential) until a certificate for its public key is
 * uploaded without a key, and then commits with it (keystore.c).  The
 * request is answered with the CSR only: the key never leaves the store
 * but into the files of a generation.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "db.h"
#include "key.h"
#include "ks_private.h"
#include "names.h"
#include "pem.h"
#include "util.h"

#define CSR_SAN_MAX	((KS_CSR_NAMES + 1) * (DOMAIN_MAX + 8))

void
ks_csr_clear(struct ks_csr *c)
{
	if (c == NULL)
		return;
	free(c->names);
	if (c->key != NULL)
		freezero(c->key, strlen(c->key));
	memset(c, 0, sizeof(*c));
}

void
ks_csrs_free(struct ks_csr *c, size_t n)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < n; i++)
		ks_csr_clear(&c[i]);
	free(c);
}

/* The associated data a pending key is sealed with: never a fingerprint
 * of a certificate, so it opens in no keystore row. */
static void
seal_label(const char *spki, char *out, size_t size)
{
	snprintf(out, size, "csr:%s", spki);
}

/* "DNS:domain,DNS:name..." for the request's subjectAltName. */
static int
csr_san(const struct csr_request *rq, char *out, size_t size,
    struct cert_error *err)
{
	char		 folded[DOMAIN_MAX + 1];
	const char	*n;
	size_t		 i, o;

	o = (size_t)snprintf(out, size, "DNS:%s", rq->domain);
	for (i = 0; i < rq->nnames; i++) {
		n = rq->names[i];
		if (n == NULL || domain_fold(strncmp(n, "*.", 2) == 0 ? n + 2 :
		    n, folded) == -1)
			return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
			    "name \"%.*s\" is not a DNS name (or *.NAME)",
			    DOMAIN_MAX, n != NULL ? n : "");
		if (strcmp(folded, rq->domain) == 0 && n[0] != '*')
			continue;
		o += (size_t)snprintf(out + o, size - o, ",DNS:%s%s",
		    n[0] == '*' ? "*." : "", folded);
		if (o >= size)
			return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
			    "too many names");
	}
	return 0;
}

static int
add_ext(STACK_OF(X509_EXTENSION) *exts, int nid, const char *value)
{
	X509_EXTENSION	*ext;

	if ((ext = X509V3_EXT_conf_nid(NULL, NULL, nid, value)) == NULL)
		return -1;
	if (sk_X509_EXTENSION_push(exts, ext) == 0) {
		X509_EXTENSION_free(ext);
		return -1;
	}
	return 0;
}

/*
 * The request: CN=domain, the names, and the extensions a server
 * certificate needs, so that a CA copying them (openssl x509 -req
 * -copy_extensions copy) makes what certd accepts.
 */
static char *
csr_pem(EVP_PKEY *key, const char *domain, const char *san)
{
	STACK_OF(X509_EXTENSION)	*exts;
	X509_REQ			*req;
	BIO				*b = NULL;
	char				*out = NULL;
	int				 rsa;

	rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
	if ((req = X509_REQ_new()) == NULL ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL) {
		X509_REQ_free(req);
		return NULL;
	}
	if (X509_REQ_set_version(req, 0) == 1 &&
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
	    MBSTRING_UTF8, (const unsigned char *)domain, -1, -1, 0) == 1 &&
	    X509_REQ_set_pubkey(req, key) == 1 &&
	    add_ext(exts, NID_subject_alt_name, san) == 0 &&
	    add_ext(exts, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
	    add_ext(exts, NID_key_usage, rsa ? "critical,digitalSignature,"
	    "keyEncipherment" : "critical,digitalSignature") == 0 &&
	    add_ext(exts, NID_ext_key_usage, "serverAuth") == 0 &&
	    X509_REQ_add_extensions(req, exts) == 1 &&
	    X509_REQ_sign(req, key, EVP_sha256()) > 0 &&
	    (b = BIO_new(BIO_s_mem())) != NULL &&
	    PEM_write_bio_X509_REQ(b, req) == 1)
		out = bio_text(b, NULL);
	BIO_free(b);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	ERR_clear_error();
	return out;
}

/* The CSR in the event log, with who asked for it. */
static void
csr_event(struct keystore *ks, const struct ks_csr *c)
{
	struct ks_event	 ev;
	char		 msg[CSR_SAN_MAX + 160];

	memset(&ev, 0, sizeof(ev));
	ev.at = (time_t)c->created;
	strlcpy(ev.domain, c->domain, sizeof(ev.domain));
	strlcpy(ev.type, "csr", sizeof(ev.type));
	strlcpy(ev.result, "pending", sizeof(ev.result));
	snprintf(msg, sizeof(msg), "%s key for %s, public key sha256 %s",
	    c->key_type, c->names, c->spki);
	ev.message = msg;
	keystore_event(ks, &ev);
}

static const char *
csr_key_type(const char *t)
{
	static const char *const ok[] = { "ec", "rsa", "rsa2048", "rsa3072" };
	size_t	 i;

	if (t == NULL || *t == '\0')
		return "ec";
	for (i = 0; i < nitems(ok); i++)
		if (strcmp(t, ok[i]) == 0)
			return t;
	return NULL;
}

int
keystore_csr(struct keystore *ks, const struct csr_request *rq, time_t now,
    char **pem, struct ks_csr *info, struct cert_error *err)
{
	struct ks_csr	 row;
	EVP_PKEY	*key = NULL;
	const char	*type;
	char		 san[CSR_SAN_MAX], label[80];
	int		 rc = -1;

	*pem = NULL;
	memset(&row, 0, sizeof(row));
	if (!domain_valid(rq->domain))
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0, "\"%.*s\" is "
		    "not a domain name in lower case", DOMAIN_MAX, rq->domain);
	if ((type = csr_key_type(rq->key_type)) == NULL)
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0, "key_type "
		    "\"%.32s\" is not ec, rsa2048 or rsa3072", rq->key_type);
	if (csr_san(rq, san, sizeof(san), err) == -1 ||
	    ks_may_store_key(ks, NULL, 0, err) == -1)
		return -1;
	if ((key = key_generate(type)) == NULL ||
	    key_spki_sha256(key, row.spki) == -1 ||
	    (*pem = csr_pem(key, rq->domain, san)) == NULL) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "cannot make a %s key "
		    "and its request", type);
		goto out;
	}
	strlcpy(row.domain, rq->domain, sizeof(row.domain));
	key_describe(key, row.key_type, sizeof(row.key_type));
	row.names = xstrdup(san);
	row.created = now;
	seal_label(row.spki, label, sizeof(label));
	if ((row.key = key_seal(ks->sealer, key, rq->domain, label,
	    err)) == NULL ||
	    db_csr_add(ks->db, &row, KS_CSR_KEEP, &row.id, err) == -1)
		goto out;
	if (ks->sealer != NULL)
		ks->sealed = 1;		/* db_csr_add noted it */
	strlcpy(row.actor, keystore_actor(ks), sizeof(row.actor));
	csr_event(ks, &row);
	freezero(row.key, strlen(row.key));
	row.key = NULL;
	*info = row;
	memset(&row, 0, sizeof(row));
	rc = 0;
out:
	if (rc == -1) {
		free(*pem);
		*pem = NULL;
	}
	ks_csr_clear(&row);
	EVP_PKEY_free(key);
	return rc;
}

int
keystore_csr_list(struct keystore *ks, const char *domain,
    struct ks_csr **out, size_t *n, struct cert_error *err)
{
	if (ks == NULL)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "no keystore is open");
	return db_csr_list(ks->db, domain, out, n, err);
}

/* May cert be a CSR's certificate, and does domain wait for one? */
static int
csr_candidate(struct keystore *ks, const char *domain, X509 *cert)
{
	int64_t	 n = 0;

	if (X509_check_ca(cert) != 0)
		return 0;
	return db_csr_count(ks->db, domain, &n, NULL) == 0 && n > 0;
}

int
keystore_csr_wanted(struct keystore *ks, const char *domain,
    const char *buf, size_t len)
{
	struct cert_error	 err;
	X509			*cert = NULL;
	int			 rc;

	if (!domain_valid(domain) ||
	    pem_decode_cert(buf, len, "", 0, &cert, &err) == -1)
		return 0;
	rc = csr_candidate(ks, domain, cert);
	X509_free(cert);
	return rc;
}

int
csr_key_for(struct keystore *ks, const char *domain, const char *name,
    int seq, X509 *cert, EVP_PKEY **key, int64_t *id, struct cert_error *err)
{
	struct ks_csr	 row;
	char		 spki[65], label[80];
	int		 rc = -1;

	*key = NULL;
	if (!csr_candidate(ks, domain, cert))
		return 0;
	memset(&row, 0, sizeof(row));
	if (key_spki_sha256(X509_get0_pubkey(cert), spki) == -1)
		return cert_error_set(err, E_KEY_MISMATCH, name, seq, "the "
		    "certificate's public key cannot be read");
	if (db_csr_find(ks->db, domain, spki, &row, err) == -1) {
		if (err != NULL && err->code == E_NOT_FOUND)
			cert_error_set(err, E_KEY_MISMATCH, name, seq, "no "
			    "private key came with this certificate, and its "
			    "public key matches none of the keys certd made "
			    "for %s's certificate signing requests: upload it "
			    "with its key, or have the CSR certd made signed",
			    domain);
		return -1;
	}
	if (ks_may_store_key(ks, name, seq, err) == -1)
		goto out;
	seal_label(spki, label, sizeof(label));
	if (key_open(ks->sealer, row.key, domain, label, key, err) == -1 ||
	    key_matches_cert(*key, cert, name, seq, err) == -1) {
		EVP_PKEY_free(*key);
		*key = NULL;
		goto out;
	}
	*id = row.id;
	rc = 1;
out:
	ks_csr_clear(&row);
	return rc;
}

/*
 * keystore.c: the per-domain keystore of SPEC §3 on top of db.c: staging of
 * CloudStack-style uploads over the current chain, validation, commit of a
 * new generation, discard, reads, rollback pointer and the event log.
 *
 * "A rejected upload changes nothing" means: the keystore, generations,
 * domains and staged tables are untouched.  The rejection itself is recorded
 * as one row in events (type "reject", result the code), so metrics can
 * count rejections by code.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "db.h"
#include "keystore.h"
#include "log.h"
#include "pem.h"
#include "util.h"

struct keystore {
	struct db	*db;
	unsigned char	 secret[32];	/* AES-256-GCM key for stored keys */
	int		 has_secret;
};

/* An encrypted key column: prefix, then base64 of IV | ciphertext | tag. */
#define SEAL_PREFIX	"certd-aes256gcm:1:"
#define SEAL_IV		12
#define SEAL_TAG	16

/*
 * The staged chain of a domain: its current CA items overlaid with the
 * staged ones, in seq order.  Entries point into cur[] and stg[].
 */
struct overlay {
	struct db_item	*cur, *stg;
	size_t		 ncur, nstg;
	struct db_item	*ent[CHAIN_MAX + 1];
	int		 staged[CHAIN_MAX + 1];
	size_t		 n;
};

struct keystore *
keystore_open(const char *path, struct cert_error *err)
{
	struct keystore	*ks;

	if ((ks = calloc(1, sizeof(*ks))) == NULL) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "out of memory");
		return NULL;
	}
	if ((ks->db = db_open(path, err)) == NULL) {
		free(ks);
		return NULL;
	}
	return ks;
}

void
keystore_close(struct keystore *ks)
{
	if (ks == NULL)
		return;
	db_close(ks->db);
	OPENSSL_cleanse(ks->secret, sizeof(ks->secret));
	free(ks);
}

int
keystore_set_secret(struct keystore *ks, const void *secret, size_t len,
    struct cert_error *err)
{
	static const char	 label[] = "certd keystore key v1";
	EVP_MD_CTX		*md;
	int			 ok;

	if (len < 16)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "the key encryption secret (certd.key) is shorter than "
		    "16 bytes");
	/* A labelled hash, so the credential's bytes are never the AES key
	 * itself should the credential serve another purpose too. */
	if ((md = EVP_MD_CTX_new()) == NULL)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "out of memory");
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, label, sizeof(label)) == 1 &&
	    EVP_DigestUpdate(md, secret, len) == 1 &&
	    EVP_DigestFinal_ex(md, ks->secret, NULL) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "cannot derive the key encryption key");
	ks->has_secret = 1;
	return 0;
}

/*
 * AES-256-GCM with the domain and the server certificate's fingerprint as
 * associated data: a sealed key moved to another row does not open.
 */
static int
seal_crypt(struct keystore *ks, int enc, const char *domain,
    const char *fingerprint, unsigned char *iv, const unsigned char *in,
    int inlen, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX	*ctx;
	int		 len, ok;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, ks->secret, iv,
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

/* Replace the PEM key of a row by its sealed form. */
static int
key_seal(struct keystore *ks, const char *domain, struct db_item *it,
    struct cert_error *err)
{
	unsigned char	*buf = NULL;
	char		*out = NULL;
	size_t		 plen, blen, olen;
	int		 rc = -1;

	plen = strlen(it->key);
	blen = SEAL_IV + plen + SEAL_TAG;
	olen = sizeof(SEAL_PREFIX) + 4 * ((blen + 2) / 3);
	if ((buf = malloc(blen)) == NULL || (out = malloc(olen)) == NULL) {
		cert_error_set(err, E_INTERNAL, it->name, it->seq,
		    "out of memory");
		goto out;
	}
	if (RAND_bytes(buf, SEAL_IV) != 1 || seal_crypt(ks, 1, domain,
	    it->fingerprint, buf, (unsigned char *)it->key, (int)plen,
	    buf + SEAL_IV, buf + SEAL_IV + plen) == -1) {
		cert_error_set(err, E_INTERNAL, it->name, it->seq,
		    "cannot encrypt the private key");
		goto out;
	}
	memcpy(out, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1);
	EVP_EncodeBlock((unsigned char *)out + sizeof(SEAL_PREFIX) - 1, buf,
	    (int)blen);
	OPENSSL_cleanse(it->key, plen);
	free(it->key);
	it->key = out;
	out = NULL;
	rc = 0;
out:
	free(out);
	free(buf);
	return rc;
}

/* The PEM of a stored key column (sealed or not); caller cleanses. */
static char *
key_open(struct keystore *ks, const char *domain, const struct db_item *it,
    size_t *plen, struct cert_error *err)
{
	const char	*b64;
	unsigned char	*buf = NULL;
	char		*pem = NULL;
	size_t		 len;
	int		 n;

	if (strncmp(it->key, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1) != 0) {
		*plen = strlen(it->key);
		if ((pem = strdup(it->key)) == NULL)
			cert_error_set(err, E_INTERNAL, it->name, it->seq,
			    "out of memory");
		return pem;
	}
	if (!ks->has_secret) {
		cert_error_set(err, E_INTERNAL, it->name, it->seq, "the "
		    "private key of %s is stored encrypted and the certd.key "
		    "credential is not available", domain);
		return NULL;
	}
	b64 = it->key + sizeof(SEAL_PREFIX) - 1;
	len = strlen(b64);
	if ((buf = malloc(len)) == NULL || (pem = malloc(len + 1)) == NULL)
		goto fail;
	n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len);
	/* DecodeBlock counts the padding as zero bytes. */
	while (n > 0 && len > 0 && b64[len - 1] == '=') {
		n--;
		len--;
	}
	if (n < SEAL_IV + SEAL_TAG)
		goto fail;
	*plen = (size_t)n - SEAL_IV - SEAL_TAG;
	if (seal_crypt(ks, 0, domain, it->fingerprint, buf, buf + SEAL_IV,
	    (int)*plen, (unsigned char *)pem, buf + SEAL_IV + *plen) == -1)
		goto fail;
	pem[*plen] = '\0';
	free(buf);
	return pem;
fail:
	cert_error_set(err, E_INTERNAL, it->name, it->seq, "cannot decrypt "
	    "the private key of %s: wrong certd.key credential or damaged "
	    "row", domain);
	if (pem != NULL)
		OPENSSL_cleanse(pem, len + 1);
	free(pem);
	free(buf);
	return NULL;
}

/* The domain becomes a directory name in render.c: no '/', no "..". */
static int
check_domain(const char *d, struct cert_error *err)
{
	size_t	 i, len;

	if (d == NULL || (len = strlen(d)) == 0)
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "domainsuffix is missing");
	if (len > DOMAIN_MAX)
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "domainsuffix is longer than %d characters", DOMAIN_MAX);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)d[i]) && d[i] != '-' &&
		    d[i] != '.' && d[i] != '_')
			return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
			    "domainsuffix '%.64s' has a character not allowed "
			    "in a domain name", d);
	if (d[0] == '.' || d[0] == '-' || strstr(d, "..") != NULL)
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "domainsuffix '%.64s' is not a domain name", d);
	return 0;
}

static int
check_name(const char *name, int seq, struct cert_error *err)
{
	size_t	 i, len;

	if (name == NULL || (len = strlen(name)) == 0)
		return cert_error_set(err, E_BAD_REQUEST, "", seq,
		    "the item has no name");
	if (len > ITEM_NAME_MAX)
		return cert_error_set(err, E_BAD_REQUEST, "", seq,
		    "item name is longer than %d characters", ITEM_NAME_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return cert_error_set(err, E_BAD_REQUEST, "", seq,
			    "item name has a control character");
	return 0;
}

/* Fill a row from a certificate (and the server key). */
static int
item_from_cert(struct db_item *it, const char *name, int seq,
    enum item_kind kind, X509 *cert, EVP_PKEY *key, struct cert_error *err)
{
	size_t	 len;

	memset(it, 0, sizeof(*it));
	strlcpy(it->name, name, sizeof(it->name));
	it->seq = seq;
	it->kind = kind;
	chain_sha256(cert, it->fingerprint);
	it->subject = chain_subject(cert);
	it->issuer = chain_issuer(cert);
	it->serial = chain_serial(cert);
	it->san = chain_san(cert);
	it->not_before = chain_not_before(cert);
	it->not_after = chain_not_after(cert);
	it->certificate = pem_encode_cert(cert, &len);
	if (key != NULL) {
		it->key = pem_encode_key(key, &len);
		it->has_key = 1;
	}
	if (it->subject == NULL || it->issuer == NULL || it->serial == NULL ||
	    it->san == NULL || it->certificate == NULL ||
	    (key != NULL && it->key == NULL)) {
		db_item_clear(it);
		return cert_error_set(err, E_INTERNAL, name, seq,
		    "cannot encode the certificate");
	}
	return 0;
}

/* Copy a row (strings duplicated) for a new generation. */
static int
item_copy(struct db_item *dst, const struct db_item *src,
    struct cert_error *err)
{
	*dst = *src;
	dst->subject = strdup(src->subject);
	dst->issuer = strdup(src->issuer);
	dst->serial = strdup(src->serial);
	dst->san = strdup(src->san);
	dst->certificate = strdup(src->certificate);
	dst->key = NULL;
	dst->has_key = 0;
	if (dst->subject == NULL || dst->issuer == NULL ||
	    dst->serial == NULL || dst->san == NULL ||
	    dst->certificate == NULL) {
		db_item_clear(dst);
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "out of memory");
	}
	return 0;
}

static void
overlay_free(struct overlay *o)
{
	db_items_free(o->cur, o->ncur);
	db_items_free(o->stg, o->nstg);
	memset(o, 0, sizeof(*o));
}

static void
overlay_remove(struct overlay *o, size_t i)
{
	memmove(&o->ent[i], &o->ent[i + 1], (o->n - i - 1) *
	    sizeof(o->ent[0]));
	memmove(&o->staged[i], &o->staged[i + 1], (o->n - i - 1) *
	    sizeof(o->staged[0]));
	o->n--;
}

static int
overlay_find_seq(struct overlay *o, int seq)
{
	size_t	 i;

	for (i = 0; i < o->n; i++)
		if (o->ent[i]->seq == seq)
			return (int)i;
	return -1;
}

static int
overlay_find_name(struct overlay *o, const char *name)
{
	size_t	 i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->ent[i]->name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * A root that differs from the current root starts a new hierarchy: the
 * current (not staged) intermediates cannot be signed by it, and keeping
 * them would leave no way to shorten a chain by uploads.
 */
static void
overlay_new_root(struct overlay *o, const char *fingerprint)
{
	size_t	 i;
	int	 r;

	if ((r = overlay_find_seq(o, 1)) == -1 ||
	    strcmp(o->ent[r]->fingerprint, fingerprint) == 0)
		return;
	for (i = o->n; i-- > 0; )
		if (!o->staged[i] && o->ent[i]->kind == KIND_INTERMEDIATE)
			overlay_remove(o, i);
}

/* Insert keeping seq order; the caller made sure there is room. */
static void
overlay_insert(struct overlay *o, struct db_item *it, int staged)
{
	size_t	 i;

	for (i = 0; i < o->n && o->ent[i]->seq < it->seq; i++)
		;
	memmove(&o->ent[i + 1], &o->ent[i], (o->n - i) * sizeof(o->ent[0]));
	memmove(&o->staged[i + 1], &o->staged[i], (o->n - i) *
	    sizeof(o->staged[0]));
	o->ent[i] = it;
	o->staged[i] = staged;
	o->n++;
}

/* Replace by name, else by seq (staged items win over current ones). */
static void
overlay_apply(struct overlay *o, struct db_item *it, int staged)
{
	int	 i;

	/* Compare with the root being replaced, so before removing it. */
	if (it->kind == KIND_ROOT)
		overlay_new_root(o, it->fingerprint);
	if ((i = overlay_find_name(o, it->name)) != -1)
		overlay_remove(o, (size_t)i);
	if ((i = overlay_find_seq(o, it->seq)) != -1)
		overlay_remove(o, (size_t)i);
	if (o->n < CHAIN_MAX)
		overlay_insert(o, it, staged);
}

static int
overlay_load(struct keystore *ks, const char *domain, struct overlay *o,
    struct cert_error *err)
{
	int64_t	 gen;
	size_t	 i;

	memset(o, 0, sizeof(*o));
	if (db_current(ks->db, domain, &gen, err) == -1)
		return -1;
	if (gen != 0 &&
	    db_items(ks->db, domain, gen, 0, &o->cur, &o->ncur, err) == -1)
		return -1;
	if (db_staged(ks->db, domain, &o->stg, &o->nstg, err) == -1) {
		overlay_free(o);
		return -1;
	}
	for (i = 0; i < o->ncur; i++)
		if (o->cur[i].kind != KIND_SERVER && o->n < CHAIN_MAX)
			overlay_insert(o, &o->cur[i], 0);
	for (i = 0; i < o->nstg; i++)
		overlay_apply(o, &o->stg[i], 1);
	return 0;
}

/* Decode the CA entries of o (those with seq < below) into a chain. */
static struct chain *
overlay_chain(struct overlay *o, int below, struct cert_error *err)
{
	struct chain	*c;
	X509		*x;
	size_t		 i;
	int		 rc;

	if ((c = chain_new()) == NULL) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "out of memory");
		return NULL;
	}
	for (i = 0; i < o->n && o->ent[i]->seq < below; i++) {
		if (pem_decode_cert(o->ent[i]->certificate,
		    strlen(o->ent[i]->certificate), o->ent[i]->name,
		    o->ent[i]->seq, &x, err) == -1)
			goto fail;
		rc = chain_add(c, o->ent[i]->name, o->ent[i]->seq,
		    o->ent[i]->kind, x, err);
		X509_free(x);
		if (rc == -1)
			goto fail;
	}
	return c;
fail:
	chain_free(c);
	return NULL;
}

/* Seqs must run 1..n without gaps (after the overlay of staged items). */
static int
overlay_check_order(struct overlay *o, struct cert_error *err)
{
	size_t	 i;

	if (o->n == 0 || o->ent[0]->seq != 1)
		return cert_error_set(err, E_ORDER, "", 1,
		    "no root certificate (seq 1) is staged or current");
	for (i = 0; i < o->n; i++)
		if (o->ent[i]->seq != (int)i + 1)
			return cert_error_set(err, E_ORDER, o->ent[i]->name,
			    o->ent[i]->seq, "seq %d follows seq %zu: upload "
			    "the missing item(s) first", o->ent[i]->seq, i);
	return 0;
}

static void
record_reject(struct keystore *ks, const char *domain, time_t now,
    const struct cert_error *err)
{
	struct ks_event	 ev;
	char		 msg[sizeof(err->message) + ITEM_NAME_MAX + 32];

	memset(&ev, 0, sizeof(ev));
	ev.at = now;
	if (domain != NULL && check_domain(domain, NULL) == 0)
		strlcpy(ev.domain, domain, sizeof(ev.domain));
	strlcpy(ev.type, "reject", sizeof(ev.type));
	strlcpy(ev.result, cert_code_name(err->code), sizeof(ev.result));
	if (err->name[0] != '\0')
		snprintf(msg, sizeof(msg), "%s (seq %d): %s", err->name,
		    err->seq, err->message);
	else
		snprintf(msg, sizeof(msg), "%s", err->message);
	ev.message = msg;
	if (db_event_add(ks->db, &ev, NULL) == -1)
		log_warnx("cannot record a rejection event for %s",
		    ev.domain);
}

static void
result_init(struct upload_result *res)
{
	if (res != NULL)
		memset(res, 0, sizeof(*res));
}

/* Commit a validated chain: rows from the chain, CA rows keep created. */
static int
commit_chain(struct keystore *ks, const char *domain, const struct chain *c,
    struct overlay *o, time_t now, int64_t *gen, struct cert_error *err)
{
	struct db_item	 items[CHAIN_MAX];
	char		 msg[160];
	size_t		 i, n = 0;
	int		 rc = -1, j;

	memset(items, 0, sizeof(items));
	for (i = 0; i < c->n; i++, n++) {
		j = o != NULL ? overlay_find_seq(o, c->items[i].seq) : -1;
		if (c->items[i].kind != KIND_SERVER && j != -1) {
			if (item_copy(&items[i], o->ent[j], err) == -1)
				goto out;
			continue;
		}
		if (item_from_cert(&items[i], c->items[i].name,
		    c->items[i].seq, c->items[i].kind, c->items[i].cert,
		    c->items[i].kind == KIND_SERVER ? c->key : NULL,
		    err) == -1)
			goto out;
		items[i].created = now;
		if (items[i].key != NULL && ks->has_secret &&
		    key_seal(ks, domain, &items[i], err) == -1)
			goto out;
	}
	snprintf(msg, sizeof(msg), "%zu items, server sha256 %.64s", c->n,
	    c->n > 0 ? items[c->n - 1].fingerprint : "");
	rc = db_commit_generation(ks->db, domain, items, n, now, msg, gen,
	    err);
out:
	for (i = 0; i < n; i++)
		db_item_clear(&items[i]);
	return rc;
}

/* A CA item: the early checks, then staged (or nothing if identical). */
static int
stage_ca(struct keystore *ks, const struct upload *up, X509 *cert,
    time_t now, struct upload_result *res, struct cert_error *err)
{
	struct overlay		 o;
	struct db_item		 it;
	struct chain		*prefix = NULL;
	struct chain_item	 ci;
	int			 i, k, rc = -1;

	memset(&it, 0, sizeof(it));
	if (up->seq < 1)
		return cert_error_set(err, E_ORDER, up->name, up->seq,
		    "a CA certificate needs its seq (id): 1 for the root, "
		    "2.. for intermediates");
	/* A leaf for this domain sent without its key is a server
	 * certificate whose key was forgotten, not a bad intermediate. */
	if (X509_check_ca(cert) == 0 &&
	    X509_check_host(cert, up->domain, 0, 0, NULL) == 1)
		return cert_error_set(err, E_ORDER, up->name, up->seq,
		    "this is a server certificate for %s but no private key "
		    "was given: upload it together with its key", up->domain);
	if (overlay_load(ks, up->domain, &o, err) == -1)
		return -1;
	if (item_from_cert(&it, up->name, up->seq,
	    up->seq == 1 ? KIND_ROOT : KIND_INTERMEDIATE, cert, NULL,
	    err) == -1)
		goto out;
	it.created = now;

	/* CloudStack re-pushes the whole chain; an identical item is a
	 * no-op rather than a staged change. */
	if ((i = overlay_find_name(&o, up->name)) != -1 &&
	    o.ent[i]->seq == up->seq &&
	    strcmp(o.ent[i]->fingerprint, it.fingerprint) == 0) {
		rc = 0;
		goto out;
	}
	if ((i = overlay_find_seq(&o, up->seq)) != -1 && o.staged[i] &&
	    strcmp(o.ent[i]->name, up->name) != 0) {
		cert_error_set(err, E_ORDER, up->name, up->seq,
		    "seq %d is already staged as '%s': re-upload with that "
		    "name to replace it, or discard the staged items",
		    up->seq, o.ent[i]->name);
		goto out;
	}
	if (it.kind == KIND_ROOT)
		overlay_new_root(&o, it.fingerprint);
	if ((i = overlay_find_name(&o, up->name)) != -1)
		overlay_remove(&o, (size_t)i);
	if ((i = overlay_find_seq(&o, up->seq)) != -1)
		overlay_remove(&o, (size_t)i);
	for (i = 0; i < (int)o.n; i++)
		if (strcmp(o.ent[i]->fingerprint, it.fingerprint) == 0) {
			cert_error_set(err, E_DUPLICATE, up->name, up->seq,
			    "this certificate is already in the chain as "
			    "'%s' (seq %d)", o.ent[i]->name, o.ent[i]->seq);
			goto out;
		}
	if (up->seq > 1 && overlay_find_seq(&o, 1) == -1) {
		cert_error_set(err, E_ORDER, up->name, up->seq,
		    "intermediate uploaded before a root: upload the root "
		    "(seq 1) first");
		goto out;
	}
	for (k = 2; k < up->seq; k++)
		if (overlay_find_seq(&o, k) == -1) {
			cert_error_set(err, E_ORDER, up->name, up->seq,
			    "seq %d but seq %d is missing: upload the items "
			    "in order", up->seq, k);
			goto out;
		}
	/* The server certificate still needs a place in the chain. */
	if (o.n + 2 > CHAIN_MAX) {
		cert_error_set(err, E_TOO_LARGE, up->name, up->seq,
		    "a chain holds at most %d certificates", CHAIN_MAX);
		goto out;
	}
	if ((prefix = overlay_chain(&o, up->seq, err)) == NULL)
		goto out;
	memset(&ci, 0, sizeof(ci));
	strlcpy(ci.name, up->name, sizeof(ci.name));
	ci.seq = up->seq;
	ci.kind = it.kind;
	ci.cert = cert;
	if (chain_check_item(prefix, &ci, now, err) == -1)
		goto out;
	if (db_stage_item(ks->db, up->domain, &it, now, err) == -1)
		goto out;
	rc = 0;
out:
	if (res != NULL) {
		res->kind = it.kind;
		res->seq = up->seq;
	}
	chain_free(prefix);
	db_item_clear(&it);
	overlay_free(&o);
	return rc;
}

/* The server certificate and key: validate the staged chain and commit. */
static int
commit_server(struct keystore *ks, const struct upload *up, X509 *cert,
    EVP_PKEY *key, time_t now, struct upload_result *res,
    struct cert_error *err)
{
	struct overlay	 o;
	struct chain	*c = NULL;
	int		 seq, rc = -1;

	if (overlay_load(ks, up->domain, &o, err) == -1)
		return -1;
	if (o.n == 0 || overlay_find_seq(&o, 1) == -1) {
		cert_error_set(err, E_ORDER, up->name, up->seq,
		    "server certificate uploaded before a root: upload the "
		    "root (seq 1) and intermediates first");
		goto out;
	}
	if (overlay_check_order(&o, err) == -1)
		goto out;
	seq = (int)o.n + 1;
	if (up->seq != 0 && up->seq < seq) {
		cert_error_set(err, E_ORDER, up->name, up->seq,
		    "the server certificate must come after the last CA item "
		    "(seq %zu); use seq %d or 0", o.n, seq);
		goto out;
	}
	if ((c = overlay_chain(&o, seq, err)) == NULL)
		goto out;
	if (chain_add(c, up->name, seq, KIND_SERVER, cert, err) == -1)
		goto out;
	if (EVP_PKEY_up_ref(key) != 1) {
		cert_error_set(err, E_INTERNAL, up->name, up->seq,
		    "out of memory");
		goto out;
	}
	c->key = key;
	if (res != NULL) {
		res->kind = KIND_SERVER;
		res->seq = seq;
	}
	if (chain_validate(c, up->domain, now, res ? &res->warnings : NULL,
	    err) == -1) {
		/* Name the server item with the seq it was uploaded with. */
		if (err != NULL && err->seq == seq && up->seq != 0 &&
		    strcmp(err->name, up->name) == 0)
			err->seq = up->seq;
		goto out;
	}
	if (commit_chain(ks, up->domain, c, &o, now,
	    res ? &res->generation : &(int64_t){ 0 }, err) == -1)
		goto out;
	if (res != NULL)
		res->committed = 1;
	rc = 0;
out:
	chain_free(c);
	overlay_free(&o);
	return rc;
}

int
keystore_upload(struct keystore *ks, const struct upload *up, time_t now,
    struct upload_result *res, struct cert_error *err)
{
	X509		*cert = NULL;
	EVP_PKEY	*key = NULL;
	int		 has_key, rc = -1;
	struct cert_error e;

	result_init(res);
	cert_error_clear(&e);
	has_key = up->key != NULL && up->key_len > 0;
	if (check_domain(up->domain, &e) == -1 ||
	    check_name(up->name, up->seq, &e) == -1)
		goto out;
	if (up->seq < 0) {
		cert_error_set(&e, E_BAD_REQUEST, up->name, up->seq,
		    "seq (id) must not be negative");
		goto out;
	}
	if (has_key && (up->cert == NULL || up->cert_len == 0)) {
		cert_error_set(&e, E_ORDER, up->name, up->seq,
		    "a private key was given without its certificate");
		goto out;
	}
	if (pem_decode_cert(up->cert != NULL ? up->cert : "", up->cert != NULL ?
	    up->cert_len : 0, up->name, up->seq, &cert, &e) == -1)
		goto out;
	if (has_key) {
		if (pem_decode_key(up->key, up->key_len, up->name, up->seq,
		    &key, &e) == -1)
			goto out;
		rc = commit_server(ks, up, cert, key, now, res, &e);
	} else
		rc = stage_ca(ks, up, cert, now, res, &e);
out:
	if (rc == -1) {
		record_reject(ks, up->domain, now, &e);
		if (res != NULL)
			res->committed = 0;
	}
	if (err != NULL)
		*err = e;
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

int
keystore_bundle(struct keystore *ks, const char *domain, const char *certs,
    size_t certs_len, const char *key, size_t key_len, time_t now,
    struct upload_result *res, struct cert_error *err)
{
	STACK_OF(X509)	*sk = NULL;
	EVP_PKEY	*pkey = NULL;
	struct chain	*c = NULL;
	struct cert_error e;
	int		 rc = -1;

	result_init(res);
	cert_error_clear(&e);
	if (check_domain(domain, &e) == -1)
		goto out;
	if (pem_decode_certs(certs != NULL ? certs : "", certs != NULL ?
	    certs_len : 0, "bundle", 0, &sk, &e) == -1)
		goto out;
	if (key == NULL || key_len == 0) {
		cert_error_set(&e, E_ORDER, "bundle", 0,
		    "a bundle needs the server's private key");
		goto out;
	}
	if (pem_decode_key(key, key_len, "privatekey", 0, &pkey, &e) == -1)
		goto out;
	if ((c = chain_new()) == NULL) {
		cert_error_set(&e, E_INTERNAL, NULL, 0, "out of memory");
		goto out;
	}
	if (chain_from_bundle(sk, pkey, c, &e) == -1)
		goto out;
	if (c->n > 0 && res != NULL) {
		res->kind = c->items[c->n - 1].kind;
		res->seq = c->items[c->n - 1].seq;
	}
	if (chain_validate(c, domain, now, res ? &res->warnings : NULL,
	    &e) == -1)
		goto out;
	if (commit_chain(ks, domain, c, NULL, now, res ? &res->generation :
	    &(int64_t){ 0 }, &e) == -1)
		goto out;
	if (res != NULL)
		res->committed = 1;
	rc = 0;
out:
	if (rc == -1)
		record_reject(ks, domain, now, &e);
	if (err != NULL)
		*err = e;
	chain_free(c);
	EVP_PKEY_free(pkey);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

int
keystore_discard(struct keystore *ks, const char *domain,
    struct cert_error *err)
{
	int	 n = 0;

	if (check_domain(domain, err) == -1)
		return -1;
	if (db_unstage(ks->db, domain, &n, err) == -1)
		return -1;
	if (n == 0)
		return cert_error_set(err, E_NOT_FOUND, NULL, 0,
		    "no staged items for %s", domain);
	return 0;
}

/* A chain (with key) from the rows of one generation. */
static int
load_chain(struct keystore *ks, const char *domain, int64_t gen,
    struct chain **out, struct cert_error *err)
{
	struct db_item	*items = NULL;
	struct chain	*c = NULL;
	X509		*x;
	char		*pem;
	size_t		 n = 0, i, plen;
	int		 rc = -1, r;

	*out = NULL;
	if (ks == NULL)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "no keystore is open");
	if (db_items(ks->db, domain, gen, 1, &items, &n, err) == -1)
		return -1;
	if (n == 0) {
		cert_error_set(err, E_NOT_FOUND, NULL, 0,
		    "%s has no generation %lld", domain, (long long)gen);
		goto out;
	}
	if ((c = chain_new()) == NULL) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (pem_decode_cert(items[i].certificate,
		    strlen(items[i].certificate), items[i].name, items[i].seq,
		    &x, err) == -1)
			goto out;
		r = chain_add(c, items[i].name, items[i].seq, items[i].kind, x,
		    err);
		X509_free(x);
		if (r == -1)
			goto out;
		if (items[i].key != NULL) {
			if ((pem = key_open(ks, domain, &items[i], &plen,
			    err)) == NULL)
				goto out;
			r = pem_decode_key(pem, plen, items[i].name,
			    items[i].seq, &c->key, err);
			OPENSSL_cleanse(pem, plen);
			free(pem);
			if (r == -1)
				goto out;
		}
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	if (rc == -1 && err != NULL && err->code != E_NOT_FOUND)
		err->code = E_INTERNAL;	/* stored data must decode */
	chain_free(c);
	db_items_free(items, n);
	return rc;
}

int
keystore_current(struct keystore *ks, const char *domain, struct chain **out,
    int64_t *generation, struct cert_error *err)
{
	int64_t	 gen;

	*out = NULL;
	if (ks == NULL)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "no keystore is open");
	if (db_current(ks->db, domain, &gen, err) == -1)
		return -1;
	if (gen == 0)
		return cert_error_set(err, E_NOT_FOUND, NULL, 0,
		    "%s has no committed chain", domain);
	if (generation != NULL)
		*generation = gen;
	return load_chain(ks, domain, gen, out, err);
}

int
keystore_generation(struct keystore *ks, const char *domain, int64_t gen,
    struct chain **out, struct cert_error *err)
{
	return load_chain(ks, domain, gen, out, err);
}

int
keystore_set_current(struct keystore *ks, const char *domain, int64_t gen,
    const char *reason, struct cert_error *err)
{
	return db_set_current(ks->db, domain, gen, reason, time(NULL), err);
}

int
keystore_domains(struct keystore *ks, char ***names, size_t *n)
{
	return db_domains(ks->db, names, n, NULL);
}

void
keystore_names_free(char **names, size_t n)
{
	size_t	 i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Move the strings of rows into listing items (rows keep nothing). */
static int
items_to_ks(struct db_item *rows, size_t n, struct ks_item **out)
{
	struct ks_item	*items;
	size_t		 i;

	*out = NULL;
	if (n == 0)
		return 0;
	if ((items = calloc(n, sizeof(*items))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		strlcpy(items[i].name, rows[i].name, sizeof(items[i].name));
		items[i].seq = rows[i].seq;
		items[i].kind = rows[i].kind;
		strlcpy(items[i].sha256, rows[i].fingerprint,
		    sizeof(items[i].sha256));
		items[i].subject = rows[i].subject;
		items[i].issuer = rows[i].issuer;
		items[i].serial = rows[i].serial;
		items[i].san = rows[i].san;
		items[i].pem = rows[i].certificate;
		items[i].not_before = (time_t)rows[i].not_before;
		items[i].not_after = (time_t)rows[i].not_after;
		items[i].has_key = rows[i].has_key;
		rows[i].subject = rows[i].issuer = rows[i].serial = NULL;
		rows[i].san = rows[i].certificate = NULL;
	}
	*out = items;
	return 0;
}

static void
ks_items_free(struct ks_item *items, size_t n)
{
	size_t	 i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(items[i].subject);
		free(items[i].issuer);
		free(items[i].serial);
		free(items[i].san);
		free(items[i].pem);
	}
	free(items);
}

int
keystore_domain(struct keystore *ks, const char *domain,
    struct ks_domain **out, struct cert_error *err)
{
	struct ks_domain	*d;
	struct db_item		*rows = NULL;
	size_t			 n = 0;
	int			 rc = -1;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "out of memory");
	strlcpy(d->name, domain, sizeof(d->name));
	if (db_current(ks->db, domain, &d->generation, err) == -1)
		goto out;
	if (d->generation != 0) {
		if (db_items(ks->db, domain, d->generation, 0, &rows, &n,
		    err) == -1)
			goto out;
		if (items_to_ks(rows, n, &d->items) == -1)
			goto oom;
		d->nitems = n;
		db_items_free(rows, n);
		rows = NULL;
	}
	if (db_staged(ks->db, domain, &rows, &n, err) == -1)
		goto out;
	if (items_to_ks(rows, n, &d->staged) == -1)
		goto oom;
	d->nstaged = n;
	if (d->generation == 0 && d->nstaged == 0) {
		cert_error_set(err, E_NOT_FOUND, NULL, 0,
		    "no such domain: %s", domain);
		goto out;
	}
	if (db_generations(ks->db, domain, &d->gens, &d->ngens, err) == -1)
		goto out;
	*out = d;
	d = NULL;
	rc = 0;
	goto out;
oom:
	cert_error_set(err, E_INTERNAL, NULL, 0, "out of memory");
out:
	db_items_free(rows, n);
	keystore_domain_free(d);
	return rc;
}

void
keystore_domain_free(struct ks_domain *d)
{
	if (d == NULL)
		return;
	ks_items_free(d->items, d->nitems);
	ks_items_free(d->staged, d->nstaged);
	free(d->gens);
	free(d);
}

int
keystore_prune(struct keystore *ks, const char *domain, int keep)
{
	return db_prune(ks->db, domain, keep, NULL);
}

int
keystore_event(struct keystore *ks, const struct ks_event *ev)
{
	if (ks == NULL)
		return -1;
	return db_event_add(ks->db, ev, NULL);
}

int
keystore_events(struct keystore *ks, const char *domain, const char *type,
    size_t max, struct ks_event **evs, size_t *n)
{
	return db_events(ks->db, domain, type, max, evs, n, NULL);
}

void
keystore_events_free(struct ks_event *evs, size_t n)
{
	size_t	 i;

	if (evs == NULL)
		return;
	for (i = 0; i < n; i++)
		free(evs[i].message);
	free(evs);
}

int
keystore_count(struct keystore *ks, const char *type, const char *group_by,
    struct ks_count **out, size_t *n)
{
	return db_count(ks->db, type, group_by, out, n, NULL);
}

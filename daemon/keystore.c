/*
 * keystore.c: the per-domain keystore on top of db.c: staging of
 * CloudStack-style uploads over the current chain, validation, commit of a
 * new generation, discard, reads, rollback pointer and the event log.
 * Private keys reach the store only in their stored form (key.c seals them).
 *
 * "A rejected upload changes nothing" means: the keystore, generations,
 * domains and staged tables are untouched.  The rejection itself is recorded
 * as one row in events (type "reject", result the code), so metrics can
 * count rejections by code.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "cert.h"
#include "db.h"
#include "key.h"
#include "keystore.h"
#include "ks_private.h"
#include "log.h"
#include "names.h"
#include "pem.h"
#include "util.h"
#include "validate.h"

/*
 * The staged chain of a domain: its current CA items overlaid with the
 * staged ones, in seq order.  Entries point into cur[] and stg[].
 */
struct overlay {
	struct ks_item	*cur, *stg;
	size_t		 ncur, nstg;
	struct ks_item	*ent[CHAIN_MAX + 1];
	int		 staged[CHAIN_MAX + 1];
	size_t		 n;
};

struct keystore *
keystore_open(const char *path, struct cert_error *err)
{
	struct keystore	*ks;

	ks = xcalloc(1, sizeof(*ks));
	if ((ks->db = db_open(path, err)) == NULL ||
	    db_meta(ks->db, "sealed", &ks->sealed, err) == -1) {
		db_close(ks->db);
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
	key_sealer_free(ks->sealer);
	chain_free(ks->last);
	free(ks);
}

/* Keep *c (now ours) as the chain of domain's generation gen. */
static void
keep_last(struct keystore *ks, const char *domain, int64_t gen,
    struct chain **c)
{
	chain_free(ks->last);
	ks->last = *c;
	*c = NULL;
	strlcpy(ks->last_domain, domain, sizeof(ks->last_domain));
	ks->last_gen = gen;
}

int
keystore_set_secret(struct keystore *ks, const void *secret, size_t len,
    struct cert_error *err)
{
	struct key_sealer	*s;

	if ((s = key_sealer_new(secret, len, err)) == NULL)
		return -1;
	key_sealer_free(ks->sealer);
	ks->sealer = s;
	return 0;
}

int
keystore_sealed(struct keystore *ks)
{
	return ks->sealed != 0;
}

int
ks_may_store_key(struct keystore *ks, const char *name, int seq,
    struct cert_error *err)
{
	if (ks->sealer != NULL || !ks->sealed)
		return 0;
	return cert_error_set(err, E_CREDENTIAL, name, seq, "the keys in this "
	    "keystore are sealed with the certd.key credential, which certd "
	    "was started without; refusing to store a key unsealed (start "
	    "certd with its credential: LoadCredentialEncrypted=certd.key)");
}

void
keystore_set_actor(struct keystore *ks, const char *actor)
{
	if (ks != NULL)
		db_set_actor(ks->db, actor);
}

const char *
keystore_actor(struct keystore *ks)
{
	return ks != NULL ? db_actor(ks->db) : "";
}

int64_t
keystore_changes(struct keystore *ks)
{
	return db_changes(ks->db);
}

/* A request's domain and item name must follow names.h's rules. */
static int
check_domain(const char *d, struct cert_error *err)
{
	if (d == NULL || *d == '\0')
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "domainsuffix is missing");
	if (!domain_valid(d))
		return cert_error_set(err, E_BAD_REQUEST, NULL, 0,
		    "domainsuffix '%.64s' is not a domain name in lower case",
		    d);
	return 0;
}

static int
check_name(const char *name, int seq, struct cert_error *err)
{
	if (!item_name_valid(name))
		return cert_error_set(err, E_BAD_REQUEST, "", seq,
		    "the item name must be 1 to %d printable characters "
		    "without '/'", ITEM_NAME_MAX);
	return 0;
}

/* Fill a row from a certificate (and the server key). */
static int
item_from_cert(struct keystore *ks, const char *domain, struct ks_item *it,
    const char *name, int seq, enum item_kind kind, X509 *cert, EVP_PKEY *key,
    struct cert_error *err)
{
	memset(it, 0, sizeof(*it));
	strlcpy(it->name, name, sizeof(it->name));
	it->seq = seq;
	it->kind = kind;
	cert_sha256(cert, it->fingerprint);
	it->subject = cert_subject(cert);
	it->issuer = cert_issuer(cert);
	it->serial = cert_serial(cert);
	it->san = cert_san(cert);
	it->not_before = cert_not_before(cert);
	it->not_after = cert_not_after(cert);
	if ((it->certificate = pem_encode_cert(cert, NULL)) == NULL) {
		ks_item_clear(it);
		return cert_error_set(err, E_INTERNAL, name, seq,
		    "cannot encode the certificate");
	}
	if (key != NULL) {
		it->has_key = 1;
		if (ks_may_store_key(ks, name, seq, err) == -1) {
			ks_item_clear(it);
			return -1;
		}
		if ((it->key = key_seal(ks->sealer, key, domain,
		    it->fingerprint, err)) == NULL) {
			ks_item_clear(it);
			return -1;
		}
	}
	return 0;
}

/* Copy a row (strings duplicated) for a new generation. */
static void
item_copy(struct ks_item *dst, const struct ks_item *src)
{
	*dst = *src;
	dst->subject = xstrdup(src->subject);
	dst->issuer = xstrdup(src->issuer);
	dst->serial = xstrdup(src->serial);
	dst->san = xstrdup(src->san);
	dst->certificate = xstrdup(src->certificate);
	dst->key = NULL;
	dst->has_key = 0;
}

static void
overlay_free(struct overlay *o)
{
	ks_items_free(o->cur, o->ncur);
	ks_items_free(o->stg, o->nstg);
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
overlay_insert(struct overlay *o, struct ks_item *it, int staged)
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
overlay_apply(struct overlay *o, struct ks_item *it, int staged)
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

	c = chain_new();
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
    struct overlay *o, int64_t csr_id, time_t now, int64_t *gen,
    struct cert_error *err)
{
	struct ks_item	 items[CHAIN_MAX];
	char		 msg[160];
	size_t		 i, n = 0;
	int		 rc = -1, j;

	memset(items, 0, sizeof(items));
	for (i = 0; i < c->n; i++, n++) {
		j = o != NULL ? overlay_find_seq(o, c->items[i].seq) : -1;
		if (c->items[i].kind != KIND_SERVER && j != -1) {
			item_copy(&items[i], o->ent[j]);
			continue;
		}
		if (item_from_cert(ks, domain, &items[i], c->items[i].name,
		    c->items[i].seq, c->items[i].kind, c->items[i].cert,
		    c->items[i].kind == KIND_SERVER ? c->key : NULL,
		    err) == -1)
			goto out;
		items[i].created = now;
		if (c->items[i].kind == KIND_SERVER)
			items[i].csr_id = csr_id;
	}
	snprintf(msg, sizeof(msg), "%zu items, server sha256 %.64s%s", c->n,
	    c->n > 0 ? items[c->n - 1].fingerprint : "", csr_id != 0 ?
	    ", its key made by certd for a CSR" : "");
	rc = db_commit_generation(ks->db, domain, items, n, now, msg, gen,
	    err);
	if (rc == 0 && ks->sealer != NULL)
		ks->sealed = 1;		/* db_commit_generation noted it */
out:
	for (i = 0; i < n; i++)
		ks_item_clear(&items[i]);
	return rc;
}

/* A CA item: the early checks, then staged (or nothing if identical). */
static int
stage_ca(struct keystore *ks, const struct upload *up, X509 *cert,
    time_t now, struct upload_result *res, struct cert_error *err)
{
	struct overlay		 o;
	struct ks_item		 it;
	struct chain		*prefix = NULL;
	struct chain_item	 ci;
	int			 i, k, rc = -1;

	memset(&it, 0, sizeof(it));
	/* A leaf for this domain sent without its key is a server
	 * certificate whose key was forgotten, not a bad intermediate. */
	if (X509_check_ca(cert) == 0 &&
	    X509_check_host(cert, up->domain, 0, 0, NULL) == 1)
		return cert_error_set(err, E_ORDER, up->name, up->seq,
		    "this is a server certificate for %s but no private key "
		    "was given, and certd keeps no key of a CSR for it: upload "
		    "it together with its key", up->domain);
	if (up->seq < 1)
		return cert_error_set(err, E_ORDER, up->name, up->seq,
		    "a CA certificate needs its seq (id): 1 for the root, "
		    "2.. for intermediates");
	if (overlay_load(ks, up->domain, &o, err) == -1)
		return -1;
	if (item_from_cert(ks, up->domain, &it, up->name, up->seq,
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
	ks_item_clear(&it);
	overlay_free(&o);
	return rc;
}

/* The server certificate and key: validate the staged chain and commit. */
static int
commit_server(struct keystore *ks, const struct upload *up, X509 *cert,
    EVP_PKEY *key, int64_t csr_id, time_t now, struct upload_result *res,
    struct cert_error *err)
{
	struct overlay	 o;
	struct chain	*c = NULL;
	int64_t		 gen;
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
		    "EVP_PKEY_up_ref failed");
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
	if (commit_chain(ks, up->domain, c, &o, csr_id, now, &gen, err) == -1)
		goto out;
	if (res != NULL) {
		res->committed = 1;
		res->generation = gen;
	}
	keep_last(ks, up->domain, gen, &c);
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
	int64_t		 csr_id = 0;
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
		if (key_decode(up->key, up->key_len, up->name, up->seq,
		    &key, &e) == -1)
			goto out;
		rc = commit_server(ks, up, cert, key, 0, now, res, &e);
	} else if ((rc = csr_key_for(ks, up->domain, up->name, up->seq, cert,
	    &key, &csr_id, &e)) == 1)
		rc = commit_server(ks, up, cert, key, csr_id, now, res, &e);
	else if (rc == 0)
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
	int64_t		 gen;
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
	if (key_decode(key, key_len, "privatekey", 0, &pkey, &e) == -1)
		goto out;
	c = chain_new();
	if (chain_from_bundle(sk, pkey, c, &e) == -1)
		goto out;
	if (c->n > 0 && res != NULL) {
		res->kind = c->items[c->n - 1].kind;
		res->seq = c->items[c->n - 1].seq;
	}
	if (chain_validate(c, domain, now, res ? &res->warnings : NULL,
	    &e) == -1)
		goto out;
	if (commit_chain(ks, domain, c, NULL, 0, now, &gen, &e) == -1)
		goto out;
	if (res != NULL) {
		res->committed = 1;
		res->generation = gen;
	}
	keep_last(ks, domain, gen, &c);
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
	return n;
}

/* A chain (with key) from the rows of one generation. */
static int
load_chain(struct keystore *ks, const char *domain, int64_t gen,
    struct chain **out, struct cert_error *err)
{
	struct ks_item	*items = NULL;
	struct chain	*c = NULL;
	X509		*x;
	size_t		 n = 0, i;
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
	c = chain_new();
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
		if (items[i].key != NULL && key_open(ks->sealer, items[i].key,
		    domain, items[i].fingerprint, &c->key, err) == -1)
			goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	if (rc == -1 && err != NULL && err->code != E_NOT_FOUND)
		err->code = E_INTERNAL;	/* stored data must decode */
	chain_free(c);
	ks_items_free(items, n);
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
	if (ks != NULL && ks->last != NULL && ks->last_gen == gen &&
	    strcmp(ks->last_domain, domain) == 0) {
		*out = ks->last;
		ks->last = NULL;
		return 0;
	}
	return load_chain(ks, domain, gen, out, err);
}

int
keystore_items(struct keystore *ks, const char *domain, int64_t gen,
    struct ks_item **items, size_t *n, struct cert_error *err)
{
	if (db_items(ks->db, domain, gen, 0, items, n, err) == -1)
		return -1;
	if (*n == 0)
		return cert_error_set(err, E_NOT_FOUND, NULL, 0,
		    "%s has no generation %lld", domain, (long long)gen);
	return 0;
}

int
keystore_state(struct keystore *ks, const char *domain, struct ks_state *st,
    struct cert_error *err)
{
	return db_domain_state(ks->db, domain, st, err);
}

int
keystore_set_pending(struct keystore *ks, const char *domain, int64_t gen,
    const char *reason, struct cert_error *err)
{
	return db_set_pending(ks->db, domain, gen, reason, time(NULL), err);
}

int
keystore_make_live(struct keystore *ks, const char *domain, int64_t gen,
    const char *message, int keep, int64_t **kept, size_t *nkept,
    struct cert_error *err)
{
	struct db_prune_req	 pr = { keep, kept, nkept };

	return db_make_live(ks->db, domain, gen, message, time(NULL),
	    keep > 0 ? &pr : NULL, err);
}

int
keystore_drop_pending(struct keystore *ks, const char *domain, int64_t gen,
    const char *state, const char *message, struct cert_error *err)
{
	return db_drop_pending(ks->db, domain, gen, state, message, time(NULL),
	    err);
}

int
keystore_settle(struct keystore *ks, const char *domain,
    struct cert_error *err)
{
	return db_settle(ks->db, domain, err);
}

int
keystore_unsettled(struct keystore *ks, int (*fn)(const char *, void *),
    void *arg, struct cert_error *err)
{
	return db_unsettled(ks->db, fn, arg, err);
}

int
keystore_expiring(struct keystore *ks, time_t before,
    int (*fn)(const char *, int64_t, int64_t, void *), void *arg,
    struct cert_error *err)
{
	return db_expiring(ks->db, (int64_t)before, fn, arg, err);
}

int
keystore_settled(struct keystore *ks, int (*fn)(const char *, void *),
    void *arg, struct cert_error *err)
{
	return db_settled(ks->db, fn, arg, err);
}

int
keystore_set_outcome(struct keystore *ks, const char *domain,
    const char *result, const char *message, int64_t generation, time_t at)
{
	return db_set_outcome(ks->db, domain, result, message, generation,
	    (int64_t)at, NULL);
}

int
keystore_soonest(struct keystore *ks, int64_t *ndomains,
    char domain[DOMAIN_MAX + 1], int64_t *not_after)
{
	return db_soonest(ks->db, ndomains, domain, not_after, NULL);
}

int
keystore_walk(struct keystore *ks, const char *domain,
    int (*fn)(const struct ks_summary *, void *), void *arg,
    struct cert_error *err)
{
	return db_walk(ks->db, domain, fn, arg, err);
}

int
keystore_walk_current(struct keystore *ks,
    int (*fn)(const char *, const struct ks_item *, void *), void *arg,
    struct cert_error *err)
{
	return db_walk_current(ks->db, fn, arg, err);
}

int
keystore_domain(struct keystore *ks, const char *domain,
    struct ks_domain **out, struct cert_error *err)
{
	struct ks_domain	*d;
	int			 rc = -1;

	*out = NULL;
	d = xcalloc(1, sizeof(*d));
	strlcpy(d->name, domain, sizeof(d->name));
	if (db_current(ks->db, domain, &d->generation, err) == -1)
		goto out;
	if (d->generation != 0 && db_items(ks->db, domain, d->generation, 0,
	    &d->items, &d->nitems, err) == -1)
		goto out;
	if (db_staged(ks->db, domain, &d->staged, &d->nstaged, err) == -1)
		goto out;
	if (db_generations(ks->db, domain, &d->gens, &d->ngens, err) == -1)
		goto out;
	/* A domain whose first commit failed has a generation, no more. */
	if (d->generation == 0 && d->nstaged == 0 && d->ngens == 0) {
		cert_error_set(err, E_NOT_FOUND, NULL, 0,
		    "no such domain: %s", domain);
		goto out;
	}
	*out = d;
	d = NULL;
	rc = 0;
out:
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
keystore_prune(struct keystore *ks, const char *domain, int keep,
    int64_t **kept, size_t *nkept, struct cert_error *err)
{
	return db_prune(ks->db, domain, keep, kept, nkept, err);
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

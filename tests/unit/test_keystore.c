/* test_keystore.c: the keystore: the CloudStack upload sequence,
 * renewal, replacement, discard, bundles, rollback, and that every rejected
 * upload changes nothing but one event row. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "cert.h"
#include "keystore.h"
#include "testpki.h"
#include "testutil.h"
#include "util.h"

#define DOMAIN	"example.com"

static int
count_domain(const struct ks_summary *d, void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

struct fx {
	struct ks_fx		 k;		/* k.c: root -> inter -> leaf */
	X509			*inter2;	/* another intermediate of root */
	EVP_PKEY		*inter2_key;
	time_t			 now;
};

static int
setup(void **state)
{
	struct fx		*fx = calloc(1, sizeof(*fx));
	struct tpki_opts	 o = { .cn = "Second Intermediate", .ca = 1 };

	ks_fx_open(&fx->k, "ks", DOMAIN);
	fx->inter2_key = tpki_key(TPKI_EC256);
	fx->inter2 = tpki_cert(&o, fx->inter2_key, fx->k.c.root,
	    fx->k.c.root_key);
	fx->now = time(NULL);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	ks_fx_close(&fx->k);
	X509_free(fx->inter2);
	EVP_PKEY_free(fx->inter2_key);
	free(fx);
	return 0;
}

/* Upload raw text; returns keystore_upload's result. */
static int
upload_raw(struct fx *fx, const char *domain, const char *name, int seq,
    const char *cert, const char *key, struct upload_result *res,
    struct cert_error *err)
{
	struct upload	 up = {
		.domain = domain, .name = name, .seq = seq,
		.cert = cert, .cert_len = cert ? strlen(cert) : 0,
		.key = key, .key_len = key ? strlen(key) : 0,
	};

	cert_error_clear(err);
	return keystore_upload(fx->k.ks, &up, fx->now, res, err);
}

static int
upload(struct fx *fx, const char *domain, const char *name, int seq,
    X509 *x, EVP_PKEY *k, struct upload_result *res, struct cert_error *err)
{
	char	*cert = tpki_cert_pem(x);
	char	*key = k != NULL ? tpki_key_pem(k, TPKI_KEY_PKCS8) : NULL;
	int	 rc;

	rc = upload_raw(fx, domain, name, seq, cert, key, res, err);
	free(cert);
	free(key);
	return rc;
}

static void
upload_ok(struct fx *fx, const char *name, int seq, X509 *x, EVP_PKEY *k,
    struct upload_result *res)
{
	struct cert_error	 err;
	struct upload_result	 r;

	if (res == NULL)
		res = &r;
	if (upload(fx, DOMAIN, name, seq, x, k, res, &err) == -1)
		fail_msg("upload %s: %s %s (seq %d): %s", name,
		    cert_code_name(err.code), err.name, err.seq, err.message);
	/* A committed generation is pending until its dependents pass:
	 * here they have none. */
	if (res->committed && keystore_make_live(fx->k.ks, DOMAIN,
	    res->generation, "no dependents", 0, NULL, NULL, &err) == -1)
		fail_msg("make live: %s", err.message);
}

/* The CloudStack sequence: root, intermediate, server + key. */
static void
commit_gen1(struct fx *fx)
{
	struct upload_result	 res;

	upload_ok(fx, "root", 1, fx->k.c.root, NULL, &res);
	upload_ok(fx, "inter", 2, fx->k.c.inter[0], NULL, &res);
	upload_ok(fx, "server", 3, fx->k.c.leaf, fx->k.c.leaf_key, &res);
	assert_true(res.committed);
	assert_int_equal(res.generation, 1);
}

/* Every row of the tables a rejection must not touch, as one string. */
static char *
dump(const char *path)
{
	static const char *const tables[] = {
		"SELECT * FROM keystore ORDER BY id",
		"SELECT * FROM generations ORDER BY domain, generation",
		"SELECT * FROM domains ORDER BY name",
		"SELECT * FROM staged ORDER BY id",
	};
	sqlite3		*h;
	sqlite3_stmt	*st;
	char		*out = NULL, *tmp;
	size_t		 len = 0, i, add;
	int		 c, rc;
	const char	*v;

	assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	for (i = 0; i < nitems(tables); i++) {
		assert_int_equal(sqlite3_prepare_v2(h, tables[i], -1, &st,
		    NULL), SQLITE_OK);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			for (c = 0; c < sqlite3_column_count(st); c++) {
				v = (const char *)sqlite3_column_text(st, c);
				if (v == NULL)
					v = "<NULL>";
				add = strlen(v) + 2;
				assert_non_null(tmp = realloc(out, len + add +
				    1));
				out = tmp;
				snprintf(out + len, add + 1, "%s|%s", v,
				    c + 1 == sqlite3_column_count(st) ?
				    "\n" : "");
				len += strlen(out + len);
			}
		/* A read that stops early would dump less, and equally. */
		assert_int_equal(rc, SQLITE_DONE);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return out != NULL ? out : strdup("");
}

/* The newest key column as stored, read past the keystore. */
static const char *
newest_key(struct fx *fx)
{
	return query1(fx->k.path, "SELECT key FROM keystore WHERE key IS NOT "
	    "NULL ORDER BY id DESC");
}

static int64_t
count_events(struct fx *fx, const char *type)
{
	struct ks_event	*ev;
	size_t		 n;

	assert_int_equal(keystore_events(fx->k.ks, NULL, type, 1000, &ev, &n),
	    0);
	keystore_events_free(ev, n);
	return (int64_t)n;
}

static void
test_cloudstack_sequence_commits_generation_1(void **state)
{
	struct fx		*fx = *state;
	struct upload_result	 res;
	struct cert_error	 err;
	struct chain		*c;
	struct ks_domain	*d;
	int64_t			 gen;

	upload_ok(fx, "root", 1, fx->k.c.root, NULL, &res);
	assert_false(res.committed);
	assert_int_equal(res.kind, KIND_ROOT);
	upload_ok(fx, "inter", 2, fx->k.c.inter[0], NULL, &res);
	assert_false(res.committed);
	assert_int_equal(res.kind, KIND_INTERMEDIATE);
	assert_int_equal(keystore_domain(fx->k.ks, DOMAIN, &d, &err), 0);
	assert_int_equal(d->generation, 0);
	assert_int_equal(d->nstaged, 2);
	keystore_domain_free(d);

	/* CloudStack sends the server certificate without an id: 0. */
	upload_ok(fx, "server", 0, fx->k.c.leaf, fx->k.c.leaf_key, &res);
	assert_true(res.committed);
	assert_int_equal(res.generation, 1);
	assert_int_equal(res.kind, KIND_SERVER);
	assert_int_equal(res.seq, 3);

	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c, &gen, &err), 0);
	assert_int_equal(gen, 1);
	assert_int_equal(c->n, 3);
	assert_string_equal(c->items[0].name, "root");
	assert_int_equal(X509_cmp(c->items[0].cert, fx->k.c.root), 0);
	assert_int_equal(X509_cmp(c->items[1].cert, fx->k.c.inter[0]), 0);
	assert_int_equal(X509_cmp(c->items[2].cert, fx->k.c.leaf), 0);
	assert_int_equal(c->items[2].kind, KIND_SERVER);
	assert_non_null(c->key);
	assert_int_equal(EVP_PKEY_eq(c->key, fx->k.c.leaf_key), 1);
	chain_free(c);

	assert_int_equal(keystore_domain(fx->k.ks, DOMAIN, &d, &err), 0);
	assert_int_equal(d->generation, 1);
	assert_int_equal(d->nitems, 3);
	assert_int_equal(d->nstaged, 0);
	assert_int_equal(d->ngens, 1);
	assert_true(d->gens[0].current);
	assert_true(d->items[2].has_key);
	assert_false(d->items[0].has_key);
	assert_null(strstr(d->items[2].certificate, "PRIVATE KEY"));
	assert_int_equal(strlen(d->items[0].fingerprint), 64);
	keystore_domain_free(d);
	assert_int_equal(count_events(fx, "commit"), 1);
}

static void
test_key_stored_as_pkcs8_pem(void **state)
{
	struct fx	*fx = *state;

	commit_gen1(fx);
	assert_string_equal(query1(fx->k.path, "SELECT count(*) FROM keystore "
	    "WHERE key IS NOT NULL"), "1");
	assert_true(strncmp(newest_key(fx), "-----BEGIN PRIVATE KEY-----",
	    27) == 0);
}

/* A new server certificate for DOMAIN, of key k, issued by issuer. */
static X509 *
server_leaf(EVP_PKEY *k, X509 *issuer, EVP_PKEY *issuer_key)
{
	static const char *const dns[] = { DOMAIN, NULL };
	struct tpki_opts	 o = { .cn = DOMAIN, .dns = dns,
	    .eku = TPKI_EKU_SERVER };

	return tpki_cert(&o, k, issuer, issuer_key);
}

static void
test_renewal_of_server_only_makes_generation_2(void **state)
{
	struct fx		*fx = *state;
	struct upload_result	 res;
	struct cert_error	 err;
	struct chain		*c1, *c2;
	EVP_PKEY		*k = tpki_key(TPKI_EC256);
	X509			*leaf;
	int64_t			 gen;

	commit_gen1(fx);
	leaf = server_leaf(k, fx->k.c.inter[0], fx->k.c.inter_key[0]);
	upload_ok(fx, "server", 3, leaf, k, &res);
	assert_true(res.committed);
	assert_int_equal(res.generation, 2);

	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c2, &gen, &err),
	    0);
	assert_int_equal(gen, 2);
	assert_int_equal(keystore_generation(fx->k.ks, DOMAIN, 1, &c1, &err),
	    0);
	assert_int_equal(c2->n, 3);
	assert_int_equal(X509_cmp(c1->items[0].cert, c2->items[0].cert), 0);
	assert_int_equal(X509_cmp(c1->items[1].cert, c2->items[1].cert), 0);
	assert_int_equal(X509_cmp(c2->items[2].cert, leaf), 0);
	assert_int_equal(X509_cmp(c1->items[2].cert, fx->k.c.leaf), 0);
	assert_int_equal(EVP_PKEY_eq(c2->key, k), 1);
	assert_int_equal(EVP_PKEY_eq(c1->key, fx->k.c.leaf_key), 1);
	chain_free(c1);
	chain_free(c2);
	X509_free(leaf);
	EVP_PKEY_free(k);
}

static void
test_same_name_reupload_replaces(void **state)
{
	struct fx		*fx = *state;
	struct upload_result	 res;
	struct cert_error	 err;
	struct ks_domain	*d;
	struct chain		*c;
	EVP_PKEY		*k = tpki_key(TPKI_EC256);
	X509			*leaf;
	char			 sha[65];

	upload_ok(fx, "root", 1, fx->k.c.root, NULL, &res);
	upload_ok(fx, "inter", 2, fx->k.c.inter[0], NULL, &res);
	/* The wrong intermediate was sent: the same name fixes it. */
	upload_ok(fx, "inter", 2, fx->inter2, NULL, &res);
	assert_int_equal(keystore_domain(fx->k.ks, DOMAIN, &d, &err), 0);
	assert_int_equal(d->nstaged, 2);
	cert_sha256(fx->inter2, sha);
	assert_string_equal(d->staged[1].fingerprint, sha);
	keystore_domain_free(d);

	leaf = server_leaf(k, fx->inter2, fx->inter2_key);
	upload_ok(fx, "server", 3, leaf, k, &res);
	assert_true(res.committed);
	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c, NULL, &err), 0);
	assert_int_equal(c->n, 3);
	assert_int_equal(X509_cmp(c->items[1].cert, fx->inter2), 0);
	chain_free(c);
	X509_free(leaf);
	EVP_PKEY_free(k);
}

static void
test_replacing_committed_intermediate_then_server(void **state)
{
	struct fx		*fx = *state;
	struct upload_result	 res;
	struct cert_error	 err;
	struct chain		*c;
	EVP_PKEY		*k = tpki_key(TPKI_EC256);
	X509			*leaf;

	commit_gen1(fx);
	/* CloudStack re-pushes the same root: no staged change. */
	upload_ok(fx, "root", 1, fx->k.c.root, NULL, &res);
	assert_int_equal(keystore_discard(fx->k.ks, DOMAIN, &err), -1);
	assert_int_equal(err.code, E_NOT_FOUND);
	/* A new intermediate under another name at the same seq. */
	upload_ok(fx, "inter-2024", 2, fx->inter2, NULL, &res);
	leaf = server_leaf(k, fx->inter2, fx->inter2_key);
	upload_ok(fx, "server", 0, leaf, k, &res);
	assert_int_equal(res.generation, 2);
	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c, NULL, &err), 0);
	assert_int_equal(c->n, 3);
	assert_string_equal(c->items[1].name, "inter-2024");
	chain_free(c);
	X509_free(leaf);
	EVP_PKEY_free(k);
}

static void
test_new_root_starts_new_chain(void **state)
{
	struct fx		*fx = *state;
	struct upload_result	 res;
	struct cert_error	 err;
	struct tpki_chain	 c2;
	struct chain		*c;

	commit_gen1(fx);
	/* A new hierarchy without intermediates: the old intermediate,
	 * which the new root did not sign, is not carried over. */
	assert_int_equal(tpki_chain_make(&c2, DOMAIN, 0, TPKI_EC256), 0);
	upload_ok(fx, "root", 1, c2.root, NULL, &res);
	upload_ok(fx, "server", 0, c2.leaf, c2.leaf_key, &res);
	assert_int_equal(res.generation, 2);
	assert_int_equal(res.seq, 2);
	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c, NULL, &err), 0);
	assert_int_equal(c->n, 2);
	assert_int_equal(X509_cmp(c->items[0].cert, c2.root), 0);
	chain_free(c);
	tpki_chain_free(&c2);
}

static void
test_discard_drops_staged(void **state)
{
	struct fx		*fx = *state;
	struct upload_result	 res;
	struct cert_error	 err;
	struct ks_domain	*d;
	size_t			 n;

	upload_ok(fx, "root", 1, fx->k.c.root, NULL, &res);
	upload_ok(fx, "inter", 2, fx->k.c.inter[0], NULL, &res);
	assert_int_equal(keystore_discard(fx->k.ks, DOMAIN, &err), 2);
	assert_int_equal(keystore_discard(fx->k.ks, DOMAIN, &err), -1);
	assert_int_equal(err.code, E_NOT_FOUND);
	/* A domain that only had staged items is gone. */
	assert_int_equal(keystore_domain(fx->k.ks, DOMAIN, &d, &err), -1);
	assert_int_equal(err.code, E_NOT_FOUND);
	n = 0;
	assert_int_equal(keystore_walk(fx->k.ks, NULL, count_domain, &n, &err),
	    0);
	assert_int_equal(n, 0);

	/* With a committed chain, discard keeps it. */
	commit_gen1(fx);
	upload_ok(fx, "inter", 2, fx->inter2, NULL, &res);
	assert_int_equal(keystore_discard(fx->k.ks, DOMAIN, &err), 1);
	assert_int_equal(keystore_domain(fx->k.ks, DOMAIN, &d, &err), 0);
	assert_int_equal(d->generation, 1);
	assert_int_equal(d->nstaged, 0);
	assert_int_equal(d->nitems, 3);
	keystore_domain_free(d);
}

static char *
bundle_pem(X509 *const *certs, size_t n)
{
	char	*out = calloc(1, 1), *p, *tmp;
	size_t	 i;

	for (i = 0; i < n; i++) {
		p = tpki_cert_pem(certs[i]);
		assert_non_null(tmp = realloc(out, strlen(out) + strlen(p) + 1));
		out = tmp;
		strcat(out, p);
		free(p);
	}
	return out;
}

static void
test_bundle_any_order_commits(void **state)
{
	struct fx		*fx = *state;
	struct upload_result	 res;
	struct cert_error	 err;
	struct chain		*c;
	struct ks_domain	*d;
	X509			*order[3];
	char			*b, *k;

	upload_ok(fx, "root", 1, fx->k.c.root, NULL, &res);	/* staged */
	order[0] = fx->k.c.leaf;
	order[1] = fx->k.c.root;
	order[2] = fx->k.c.inter[0];
	b = bundle_pem(order, 3);
	k = tpki_key_pem(fx->k.c.leaf_key, TPKI_KEY_PKCS8);
	if (keystore_bundle(fx->k.ks, DOMAIN, b, strlen(b), k, strlen(k),
	    fx->now, &res, &err) == -1)
		fail_msg("bundle: %s %s", cert_code_name(err.code),
		    err.message);
	assert_true(res.committed);
	assert_int_equal(res.generation, 1);
	assert_int_equal(keystore_make_live(fx->k.ks, DOMAIN, 1, "ok", 0, NULL,
	    NULL, &err), 0);
	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c, NULL, &err), 0);
	assert_int_equal(c->n, 3);
	assert_int_equal(X509_cmp(c->items[0].cert, fx->k.c.root), 0);
	assert_int_equal(c->items[0].seq, 1);
	assert_int_equal(X509_cmp(c->items[1].cert, fx->k.c.inter[0]), 0);
	assert_int_equal(X509_cmp(c->items[2].cert, fx->k.c.leaf), 0);
	assert_int_equal(EVP_PKEY_eq(c->key, fx->k.c.leaf_key), 1);
	chain_free(c);
	/* The bundle replaced the staged set. */
	assert_int_equal(keystore_domain(fx->k.ks, DOMAIN, &d, &err), 0);
	assert_int_equal(d->nstaged, 0);
	keystore_domain_free(d);
	free(b);

	/* Without a key nothing happens. */
	b = bundle_pem(order, 3);
	assert_int_equal(keystore_bundle(fx->k.ks, DOMAIN, b, strlen(b), NULL,
	    0, fx->now, &res, &err), -1);
	assert_int_equal(err.code, E_ORDER);
	assert_false(res.committed);
	free(b);
	free(k);
}

/*
 * A rejected upload: the code, the item it names, the DB tables unchanged
 * and exactly one new "reject" event recording the code.
 */
static void
expect_reject(struct fx *fx, const char *domain, const char *name, int seq,
    const char *cert, const char *key, enum cert_code code,
    const char *ename, int eseq)
{
	struct upload_result	 res;
	struct cert_error	 err;
	struct ks_event		*ev;
	size_t			 n;
	char			*before, *after;
	int64_t			 nrej;

	before = dump(fx->k.path);
	nrej = count_events(fx, "reject");
	if (upload_raw(fx, domain, name, seq, cert, key, &res, &err) != -1)
		fail_msg("upload %s seq %d accepted, expected %s", name, seq,
		    cert_code_name(code));
	if (err.code != code)
		fail_msg("%s seq %d: got %s (%s), expected %s", name, seq,
		    cert_code_name(err.code), err.message,
		    cert_code_name(code));
	assert_false(res.committed);
	assert_true(err.message[0] != '\0');
	if (ename != NULL) {
		assert_string_equal(err.name, ename);
		assert_int_equal(err.seq, eseq);
	}
	after = dump(fx->k.path);
	assert_string_equal(before, after);
	assert_int_equal(count_events(fx, "reject"), nrej + 1);
	assert_int_equal(keystore_events(fx->k.ks, NULL, "reject", 1, &ev, &n),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].result, cert_code_name(code));
	keystore_events_free(ev, n);
	free(before);
	free(after);
}

static void
expect_reject_x(struct fx *fx, const char *name, int seq, X509 *x,
    EVP_PKEY *k, enum cert_code code, const char *ename, int eseq)
{
	char	*cert = tpki_cert_pem(x);
	char	*key = k != NULL ? tpki_key_pem(k, TPKI_KEY_PKCS8) : NULL;

	expect_reject(fx, DOMAIN, name, seq, cert, key, code, ename, eseq);
	free(cert);
	free(key);
}

/* State for the rejection tests: generation 1 committed and a replacement
 * intermediate staged, so "nothing changed" covers every table. */
static void
reject_base(struct fx *fx)
{
	struct upload_result	 res;

	commit_gen1(fx);
	upload_ok(fx, "inter", 2, fx->inter2, NULL, &res);
}

/* A leaf under the staged chain (root -> inter2) with opts changed. */
static X509 *
leaf_with(struct fx *fx, struct tpki_opts *o, EVP_PKEY *k)
{
	static const char *const dns[] = { DOMAIN, NULL };

	if (o->cn == NULL)
		o->cn = DOMAIN;
	if (o->dns == NULL)
		o->dns = dns;
	return tpki_cert(o, k, fx->inter2, fx->inter2_key);
}

static X509 *
leaf_opt(struct fx *fx, EVP_PKEY *k, time_t nb, time_t na, int ca,
    const char *const *dns, int eku)
{
	struct tpki_opts	 o;

	memset(&o, 0, sizeof(o));
	o.not_before = nb;
	o.not_after = na;
	o.ca = ca;
	o.dns = dns;
	o.eku = eku != 0 ? eku : TPKI_EKU_SERVER;
	return leaf_with(fx, &o, k);
}

static void
test_reject_encoding_and_size(void **state)
{
	struct fx	*fx = *state;
	char		*big;

	reject_base(fx);
	expect_reject(fx, DOMAIN, "root", 1, "hello, not a certificate", NULL,
	    E_ENCODING, "root", 1);
	expect_reject(fx, DOMAIN, "root", 1, "", NULL, E_ENCODING, "root", 1);
	big = malloc(70 * 1024 + 1);
	memset(big, 'A', 70 * 1024);
	big[70 * 1024] = '\0';
	expect_reject(fx, DOMAIN, "inter", 2, big, NULL, E_TOO_LARGE, "inter",
	    2);
	free(big);
}

static void
test_reject_order(void **state)
{
	struct fx	*fx = *state;
	char		*cert, *key;

	reject_base(fx);
	cert = tpki_cert_pem(fx->k.c.inter[0]);
	/* An intermediate for a domain without a root. */
	expect_reject(fx, "fresh.example", "inter", 2, cert, NULL, E_ORDER,
	    "inter", 2);
	/* A seq gap: 4 while only 1 and 2 exist. */
	expect_reject(fx, DOMAIN, "inter-b", 4, cert, NULL, E_ORDER,
	    "inter-b", 4);
	/* seq 2 already staged under another name. */
	expect_reject(fx, DOMAIN, "other", 2, cert, NULL, E_ORDER, "other", 2);
	free(cert);
	/* A server certificate before any root. */
	cert = tpki_cert_pem(fx->k.c.leaf);
	key = tpki_key_pem(fx->k.c.leaf_key, TPKI_KEY_PKCS8);
	expect_reject(fx, "fresh.example", "server", 0, cert, key, E_ORDER,
	    "server", 0);
	free(cert);
	/* A key without its certificate. */
	expect_reject(fx, DOMAIN, "server", 3, NULL, key, E_ORDER, "server",
	    3);
	free(key);
	/* The server certificate without its key. */
	expect_reject_x(fx, "server", 3, fx->k.c.leaf, NULL, E_ORDER, "server",
	    3);
	/* Server placed before the last CA. */
	expect_reject_x(fx, "server", 2, fx->k.c.leaf, fx->k.c.leaf_key,
	    E_ORDER, "server", 2);
}

static void
test_reject_ca_checks(void **state)
{
	struct fx		*fx = *state;
	struct tpki_opts	 notca = { .cn = "Not A CA" };
	struct tpki_opts	 ca = { .cn = "Bad Root", .ca = 1 };
	struct tpki_chain	 other;
	EVP_PKEY		*k = tpki_key(TPKI_EC256), *k2;
	X509			*x;

	reject_base(fx);
	x = tpki_cert(&notca, k, NULL, NULL);
	expect_reject_x(fx, "root", 1, x, NULL, E_NOT_CA, "root", 1);
	X509_free(x);
	k2 = tpki_key(TPKI_EC256);
	x = tpki_cert(&ca, k, NULL, k2);	/* self-signature is wrong */
	expect_reject_x(fx, "root", 1, x, NULL, E_ROOT_NOT_SELF_SIGNED,
	    "root", 1);
	X509_free(x);
	EVP_PKEY_free(k2);
	/* Another chain's intermediate is not signed by our root. */
	assert_int_equal(tpki_chain_make(&other, DOMAIN, 1, TPKI_EC256), 0);
	expect_reject_x(fx, "inter", 2, other.inter[0], NULL,
	    E_ISSUER_MISMATCH, "inter", 2);
	tpki_chain_free(&other);
	/* The root again as an intermediate. */
	expect_reject_x(fx, "inter-x", 3, fx->k.c.root, NULL, E_DUPLICATE,
	    "inter-x", 3);
	EVP_PKEY_free(k);
}

static void
test_reject_path_len(void **state)
{
	struct fx		*fx = *state;
	struct upload_result	 res;
	struct tpki_opts	 ro = { .cn = "Root pathlen 0", .ca = 1,
	    .pathlen = 0, .pathlen_set = 1 };
	struct tpki_opts	 io = { .cn = "Inter", .ca = 1 };
	struct tpki_opts	 lo = { .cn = DOMAIN, .eku = TPKI_EKU_SERVER };
	const char *const	 dns[] = { DOMAIN, NULL };
	EVP_PKEY		*rk = tpki_key(TPKI_EC256);
	EVP_PKEY		*ik = tpki_key(TPKI_EC256);
	EVP_PKEY		*lk = tpki_key(TPKI_EC256);
	X509			*root, *inter, *leaf;
	char			*cert, *key;

	lo.dns = dns;
	root = tpki_cert(&ro, rk, NULL, NULL);
	inter = tpki_cert(&io, ik, root, rk);
	leaf = tpki_cert(&lo, lk, inter, ik);
	upload_ok(fx, "root", 1, root, NULL, &res);
	/* Path length needs the whole chain: the commit refuses it and
	 * names the intermediate one too many. */
	upload_ok(fx, "inter", 2, inter, NULL, &res);
	cert = tpki_cert_pem(leaf);
	key = tpki_key_pem(lk, TPKI_KEY_PKCS8);
	expect_reject(fx, DOMAIN, "server", 3, cert, key, E_PATH_LEN, "inter",
	    2);
	free(cert);
	free(key);
	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(lk);
}

static void
test_reject_server_checks(void **state)
{
	struct fx		*fx = *state;
	const char *const	 other[] = { "other.example", NULL };
	struct tpki_opts	 o;
	EVP_PKEY		*k = tpki_key(TPKI_EC256), *k2, *weak;
	X509			*x;
	char			*cert, *key;

	reject_base(fx);
	x = leaf_opt(fx, k, fx->now - 400 * 86400, fx->now - 86400, 0, NULL,
	    0);
	expect_reject_x(fx, "server", 3, x, k, E_EXPIRED, "server", 3);
	X509_free(x);
	x = leaf_opt(fx, k, fx->now + 86400, fx->now + 90 * 86400, 0, NULL,
	    0);
	expect_reject_x(fx, "server", 3, x, k, E_NOT_YET_VALID, "server", 3);
	X509_free(x);
	x = leaf_opt(fx, k, 0, 0, 1, NULL, 0);
	expect_reject_x(fx, "server", 3, x, k, E_SERVER_IS_CA, "server", 3);
	X509_free(x);
	x = leaf_opt(fx, k, 0, 0, 0, other, 0);
	expect_reject_x(fx, "server", 3, x, k, E_NAME_MISMATCH, "server", 3);
	X509_free(x);
	x = leaf_opt(fx, k, 0, 0, 0, NULL, TPKI_EKU_CLIENT);
	expect_reject_x(fx, "server", 3, x, k, E_EKU, "server", 3);
	X509_free(x);
	weak = tpki_key(TPKI_RSA1024);
	x = leaf_opt(fx, weak, 0, 0, 0, NULL, 0);
	expect_reject_x(fx, "server", 3, x, weak, E_WEAK, "server", 3);
	X509_free(x);
	EVP_PKEY_free(weak);

	/* Key problems, on an otherwise good leaf. */
	memset(&o, 0, sizeof(o));
	o.eku = TPKI_EKU_SERVER;
	x = leaf_with(fx, &o, k);
	cert = tpki_cert_pem(x);
	expect_reject(fx, DOMAIN, "server", 3, cert,
	    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	    E_KEY_ENCODING, "server", 3);
	key = tpki_key_pem(k, TPKI_KEY_PKCS8_ENC);
	expect_reject(fx, DOMAIN, "server", 3, cert, key, E_KEY_ENCRYPTED,
	    "server", 3);
	free(key);
	k2 = tpki_key(TPKI_EC256);
	key = tpki_key_pem(k2, TPKI_KEY_PKCS8);
	expect_reject(fx, DOMAIN, "server", 3, cert, key, E_KEY_MISMATCH,
	    "server", 3);
	free(key);
	EVP_PKEY_free(k2);
	/* And the good leaf does commit on top of all that. */
	key = tpki_key_pem(k, TPKI_KEY_PKCS8);
	{
		struct upload_result	 res;
		struct cert_error	 err;

		if (upload_raw(fx, DOMAIN, "server", 3, cert, key, &res,
		    &err) == -1)
			fail_msg("good leaf: %s", err.message);
		assert_int_equal(res.generation, 2);
	}
	free(key);
	free(cert);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_reject_bad_request(void **state)
{
	struct fx	*fx = *state;
	char		*cert = tpki_cert_pem(fx->k.c.root);
	char		 longname[80];

	reject_base(fx);
	expect_reject(fx, "../etc", "root", 1, cert, NULL, E_BAD_REQUEST, NULL,
	    0);
	expect_reject(fx, "", "root", 1, cert, NULL, E_BAD_REQUEST, NULL, 0);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	expect_reject(fx, DOMAIN, longname, 1, cert, NULL, E_BAD_REQUEST,
	    NULL, 0);
	free(cert);
}

static void
test_rejections_counted_by_code(void **state)
{
	struct fx		*fx = *state;
	struct ks_count		*c;
	size_t			 n;

	expect_reject(fx, DOMAIN, "root", 1, "junk", NULL, E_ENCODING, "root",
	    1);
	expect_reject(fx, DOMAIN, "root", 1, "junk", NULL, E_ENCODING, "root",
	    1);
	commit_gen1(fx);
	assert_int_equal(keystore_count(fx->k.ks, "reject", "result", &c, &n),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].key, "E_ENCODING");
	assert_int_equal(c[0].n, 2);
	free(c);
	assert_int_equal(keystore_count(fx->k.ks, "commit", "domain", &c, &n),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].key, DOMAIN);
	assert_int_equal(c[0].n, 1);
	free(c);
}

static void
test_survives_close_reopen(void **state)
{
	struct fx		*fx = *state;
	struct upload_result	 res;
	struct cert_error	 err;
	struct ks_domain	*d;
	struct chain		*c;
	int64_t			 gen;

	commit_gen1(fx);
	upload_ok(fx, "inter", 2, fx->inter2, NULL, &res);
	keystore_close(fx->k.ks);
	assert_non_null(fx->k.ks = keystore_open(fx->k.path, &err));
	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c, &gen, &err), 0);
	assert_int_equal(gen, 1);
	assert_int_equal(X509_cmp(c->items[2].cert, fx->k.c.leaf), 0);
	assert_int_equal(EVP_PKEY_eq(c->key, fx->k.c.leaf_key), 1);
	chain_free(c);
	assert_int_equal(keystore_domain(fx->k.ks, DOMAIN, &d, &err), 0);
	assert_int_equal(d->nstaged, 1);
	assert_string_equal(d->staged[0].name, "inter");
	keystore_domain_free(d);
}

static void
test_rollback_and_prune(void **state)
{
	struct fx		*fx = *state;
	struct upload_result	 res;
	struct cert_error	 err;
	struct ks_domain	*d;
	struct chain		*c;
	int64_t			 gen, *kept;
	size_t			 n;
	int			 i;

	commit_gen1(fx);
	for (i = 2; i <= 4; i++) {
		upload_ok(fx, "server", 3, fx->k.c.leaf, fx->k.c.leaf_key,
		    &res);
		assert_int_equal(res.generation, i);
	}
	/* A rollback to 3 becomes current once its dependents pass. */
	assert_int_equal(keystore_set_pending(fx->k.ks, DOMAIN, 3,
	    "verify failed", &err), 0);
	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c, &gen, &err), 0);
	assert_int_equal(gen, 4);
	chain_free(c);
	assert_int_equal(keystore_make_live(fx->k.ks, DOMAIN, 3, "ok", 0, NULL,
	    NULL, &err), 0);
	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c, &gen, &err), 0);
	assert_int_equal(gen, 3);
	chain_free(c);
	assert_int_equal(keystore_set_pending(fx->k.ks, DOMAIN, 9, "x", &err),
	    -1);
	assert_int_equal(err.code, E_NOT_FOUND);
	assert_int_equal(keystore_generation(fx->k.ks, DOMAIN, 9, &c, &err),
	    -1);
	assert_int_equal(err.code, E_NOT_FOUND);

	/* Keep 1: the current (3) stays; 4 was rolled back, so it goes
	 * before the live 1 and 2 do. */
	assert_int_equal(keystore_prune(fx->k.ks, DOMAIN, 2, &kept, &n, &err),
	    0);
	free(kept);
	assert_int_equal(keystore_domain(fx->k.ks, DOMAIN, &d, &err), 0);
	assert_int_equal(d->ngens, 2);
	assert_int_equal(d->gens[0].generation, 3);
	assert_string_equal(d->gens[0].state, "live");
	assert_true(d->gens[0].current);
	assert_int_equal(d->gens[1].generation, 2);
	assert_string_equal(d->gens[1].state, "live");
	keystore_domain_free(d);
	/* A new commit continues the numbering. */
	upload_ok(fx, "server", 3, fx->k.c.leaf, fx->k.c.leaf_key, &res);
	assert_int_equal(res.generation, 5);
	assert_int_equal(count_events(fx, "rollback"), 1);
	assert_int_equal(count_events(fx, "live"), 6);
}

static void
test_keys_encrypted_at_rest_with_secret(void **state)
{
	struct fx		*fx = *state;
	struct cert_error	 err;
	struct upload_result	 res;
	struct chain		*c;
	const char		 secret[] = "0123456789abcdef-credential";
	const char		 wrong[] = "0123456789abcdef-credentiaX";

	/* A key written before the secret stays readable. */
	commit_gen1(fx);
	assert_int_equal(keystore_set_secret(fx->k.ks, "short", 5, &err), -1);
	assert_int_equal(keystore_set_secret(fx->k.ks, secret, sizeof(secret),
	    &err), 0);
	upload_ok(fx, "server", 3, fx->k.c.leaf, fx->k.c.leaf_key, &res);
	assert_int_equal(res.generation, 2);
	assert_true(strncmp(newest_key(fx), "certd-aes256gcm:1:", 18)
	    == 0);
	assert_null(strstr(newest_key(fx), "PRIVATE"));
	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c, NULL, &err), 0);
	assert_int_equal(EVP_PKEY_eq(c->key, fx->k.c.leaf_key), 1);
	chain_free(c);
	assert_int_equal(keystore_generation(fx->k.ks, DOMAIN, 1, &c, &err), 0);
	assert_int_equal(EVP_PKEY_eq(c->key, fx->k.c.leaf_key), 1);
	chain_free(c);

	/* Without the credential, or with another one, it does not open. */
	keystore_close(fx->k.ks);
	assert_non_null(fx->k.ks = keystore_open(fx->k.path, &err));
	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c, NULL, &err),
	    -1);
	assert_int_equal(err.code, E_INTERNAL);
	assert_non_null(strstr(err.message, "certd.key"));
	assert_int_equal(keystore_set_secret(fx->k.ks, wrong, sizeof(wrong),
	    &err), 0);
	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c, NULL, &err),
	    -1);
	assert_int_equal(err.code, E_INTERNAL);
	keystore_close(fx->k.ks);
	assert_non_null(fx->k.ks = keystore_open(fx->k.path, &err));
	assert_int_equal(keystore_set_secret(fx->k.ks, secret, sizeof(secret),
	    &err), 0);
	assert_int_equal(keystore_current(fx->k.ks, DOMAIN, &c, NULL, &err), 0);
	assert_int_equal(EVP_PKEY_eq(c->key, fx->k.c.leaf_key), 1);
	chain_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_cloudstack_sequence_commits_generation_1),
		T(test_key_stored_as_pkcs8_pem),
		T(test_renewal_of_server_only_makes_generation_2),
		T(test_same_name_reupload_replaces),
		T(test_replacing_committed_intermediate_then_server),
		T(test_new_root_starts_new_chain),
		T(test_discard_drops_staged),
		T(test_bundle_any_order_commits),
		T(test_reject_encoding_and_size),
		T(test_reject_order),
		T(test_reject_ca_checks),
		T(test_reject_path_len),
		T(test_reject_server_checks),
		T(test_reject_bad_request),
		T(test_rejections_counted_by_code),
		T(test_survives_close_reopen),
		T(test_rollback_and_prune),
		T(test_keys_encrypted_at_rest_with_secret),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

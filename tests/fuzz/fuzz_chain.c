/*
 * fuzz_chain.c: the bundle orderer (chain_from_bundle) and, on what it
 * orders, chain_validate.  Input: bytes that pick certificates from a pool
 * of real ones made at start (two chains, a cross-signed and a re-issued
 * CA, a name twin with another key, a bad self-signature, self-signed and
 * extra leaves) up to a 0xff byte, then any upload after it
 * (pem_decode_certs) added to the bundle.  An ordered bundle is a path
 * from a root down to the one server certificate, holds each certificate
 * once, and does not depend on the order it came in.
 * Corpus: corpus/chain/.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "chain.h"
#include "fuzz.h"
#include "pem.h"
#include "testpki.h"
#include "validate.h"

enum { ROOT_A, A1, A2, LEAF_A, ROOT_B, B1, LEAF_B, A1_CROSS, ROOT_A2,
	A1_TWIN, SELF_LEAF, LEAF_A_2, A1_NO_KID, LEAF_A1, BAD_ROOT, POOL };

static X509	*pool[POOL];
static EVP_PKEY	*leaf_a_key;
static time_t	 made;

static void
make_pool(void)
{
	static const char *const dns[] = { "example.com", NULL };
	struct tpki_opts	 ca = { .ca = 1 }, ee = { .dns = dns,
				    .eku = TPKI_EKU_SERVER };
	EVP_PKEY		*ka, *k1, *k2, *kb, *kb1, *kt, *kx;

	ka = tpki_key_new(TPKI_EC256);
	k1 = tpki_key_new(TPKI_EC256);
	k2 = tpki_key_new(TPKI_EC256);
	kb = tpki_key_new(TPKI_EC256);
	kb1 = tpki_key_new(TPKI_EC256);
	kt = tpki_key_new(TPKI_EC256);
	kx = tpki_key_new(TPKI_EC256);
	leaf_a_key = tpki_key_new(TPKI_EC256);
	made = time(NULL);

	ca.cn = "Root A";
	pool[ROOT_A] = tpki_cert(&ca, ka, NULL, NULL);
	pool[ROOT_A2] = tpki_cert(&ca, ka, NULL, NULL);	/* re-issued */
	pool[BAD_ROOT] = tpki_cert(&ca, ka, NULL, kx);	/* wrong self-sig */
	ca.cn = "Inter A1";
	pool[A1] = tpki_cert(&ca, k1, pool[ROOT_A], ka);
	pool[A1_TWIN] = tpki_cert(&ca, kt, pool[ROOT_A], ka);
	ca.no_aki = ca.no_ski = 1;
	pool[A1_NO_KID] = tpki_cert(&ca, k1, pool[ROOT_A], ka);
	ca.no_aki = ca.no_ski = 0;
	ca.cn = "Inter A2";
	pool[A2] = tpki_cert(&ca, k2, pool[A1], k1);
	ca.cn = "Root B";
	pool[ROOT_B] = tpki_cert(&ca, kb, NULL, NULL);
	ca.cn = "Inter B1";
	pool[B1] = tpki_cert(&ca, kb1, pool[ROOT_B], kb);
	ca.cn = "Inter A1";
	pool[A1_CROSS] = tpki_cert(&ca, k1, pool[ROOT_B], kb);
	ee.cn = "example.com";
	pool[LEAF_A] = tpki_cert(&ee, leaf_a_key, pool[A2], k2);
	pool[LEAF_A_2] = tpki_cert(&ee, kx, pool[A2], k2);
	pool[LEAF_A1] = tpki_cert(&ee, kx, pool[A1], k1);
	pool[LEAF_B] = tpki_cert(&ee, kx, pool[B1], kb1);
	ee.cn = "self";
	pool[SELF_LEAF] = tpki_cert(&ee, kx, NULL, NULL);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(kb);
	EVP_PKEY_free(kb1);
	EVP_PKEY_free(kt);
	EVP_PKEY_free(kx);
}

static void
ordered(STACK_OF(X509) *sk, const struct chain *c)
{
	size_t	 i;
	int	 j, seen;

	FUZZ_CHECK(c->n == (size_t)sk_X509_num(sk), "size");
	for (i = 0; i < c->n; i++) {
		FUZZ_CHECK(c->items[i].seq == (int)i + 1, "seq");
		FUZZ_CHECK(c->items[i].kind == (i == 0 ? KIND_ROOT :
		    i == c->n - 1 ? KIND_SERVER : KIND_INTERMEDIATE), "kind");
		if (i > 0)
			FUZZ_CHECK(X509_NAME_cmp(X509_get_issuer_name(
			    c->items[i].cert), X509_get_subject_name(
			    c->items[i - 1].cert)) == 0,
			    "not issued by the one before");
		for (j = 0, seen = 0; j < sk_X509_num(sk); j++)
			seen += sk_X509_value(sk, j) == c->items[i].cert;
		FUZZ_CHECK(seen == 1, "not each certificate once");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	STACK_OF(X509)		*sk, *rev, *extra = NULL;
	struct cert_error	 err;
	struct cert_warnings	 w;
	struct chain		*c, *c2;
	EVP_PKEY		*key = NULL;
	size_t			 i;
	int			 rc, rc2, j;

	if (pool[0] == NULL)
		make_pool();
	sk = sk_X509_new_null();
	for (i = 0; i < len && data[i] != 0xff && sk_X509_num(sk) <= CHAIN_MAX;
	    i++) {
		X509_up_ref(pool[data[i] % POOL]);
		sk_X509_push(sk, pool[data[i] % POOL]);
		if (data[i] % POOL == LEAF_A)
			key = leaf_a_key;
	}
	memset(&err, 0, sizeof(err));
	if (i + 1 < len && pem_decode_certs((const char *)data + i + 1,
	    len - i - 1, "extra", 1, &extra, &err) == 0) {
		while (sk_X509_num(extra) > 0)
			sk_X509_push(sk, sk_X509_shift(extra));
		sk_X509_free(extra);
	}
	rev = sk_X509_new_null();
	for (j = sk_X509_num(sk) - 1; j >= 0; j--)
		sk_X509_push(rev, sk_X509_value(sk, j));

	c = chain_new();
	c2 = chain_new();
	memset(&err, 0, sizeof(err));
	rc = chain_from_bundle(sk, key, c, &err);
	rc2 = chain_from_bundle(rev, key, c2, &err);
	FUZZ_CHECK(rc == rc2, "the bundle's order decided whether it orders");
	if (rc == -1) {
		FUZZ_CHECK(err.code == E_ORDER || err.code == E_TOO_LARGE ||
		    err.code == E_DUPLICATE, "error code");
		goto out;
	}
	ordered(sk, c);
	for (i = 0; i < c->n; i++)
		FUZZ_CHECK(c->items[i].cert == c2->items[i].cert,
		    "the bundle's order changed the chain");
	FUZZ_CHECK(c->key == key, "the key");
	memset(&w, 0, sizeof(w));
	if (chain_validate(c, "example.com", made + 60, &w, &err) == -1)
		FUZZ_CHECK(err.code > E_OK && err.code < E_CODE_MAX,
		    "validation error code");
out:
	chain_free(c);
	chain_free(c2);
	sk_X509_free(rev);
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
	return 0;
}

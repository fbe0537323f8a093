/*
 * test_csr.c: the CSR flow's pending keys (csr.c): the request certd
 * answers, the commit of its certificate with the pending key, and what
 * is refused: a certificate of no pending key, bad names and key types, a
 * key that would be stored unsealed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/pem.h>

#include "keystore.h"
#include "key.h"
#include "testpki.h"
#include "testutil.h"
#include "util.h"

#define DOMAIN	"example.com"
static const char secret[] = "0123456789abcdef0123456789abcdef";

/* Every test's keystore is sealed: pending keys are never stored bare. */
static int
setup(void **state)
{
	struct ks_fx		*fx = calloc(1, sizeof(*fx));
	struct cert_error	 err;

	ks_fx_open(fx, "csr", DOMAIN);
	if (keystore_set_secret(fx->ks, secret, sizeof(secret) - 1,
	    &err) == -1)
		fail_msg("secret: %s", err.message);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	ks_fx_close(*state);
	free(*state);
	return 0;
}

/* A CSR of domain with names; the request's PEM (caller frees). */
static char *
csr_ok(struct ks_fx *fx, const char *type, const char *name,
    struct ks_csr *info)
{
	struct csr_request	 rq = { .domain = DOMAIN, .key_type = type };
	struct cert_error	 err;
	char			*pem;

	if (name != NULL)
		rq.names[rq.nnames++] = name;
	if (keystore_csr(fx->ks, &rq, time(NULL), &pem, info, &err) == -1)
		fail_msg("csr: %s: %s", cert_code_name(err.code), err.message);
	return pem;
}

/* The certificate fx's intermediate signs for the request. */
static X509 *
sign(struct ks_fx *fx, const char *pem)
{
	const char	*dns[] = { DOMAIN, NULL };
	struct tpki_opts o = { .cn = DOMAIN, .dns = dns,
			    .eku = TPKI_EKU_SERVER };
	BIO		*b = BIO_new_mem_buf(pem, -1);
	X509_REQ	*req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	X509		*x;

	assert_non_null(req);
	assert_int_equal(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
	x = tpki_cert(&o, X509_REQ_get0_pubkey(req), fx->c.inter[0],
	    fx->c.inter_key[0]);
	X509_REQ_free(req);
	BIO_free(b);
	return x;
}

static int
upload(struct ks_fx *fx, const char *name, int seq, X509 *x, EVP_PKEY *k,
    struct upload_result *res, struct cert_error *err)
{
	char		*cert = tpki_cert_pem(x);
	char		*key = k != NULL ? tpki_key_pem(k, TPKI_KEY_PKCS8) : NULL;
	struct upload	 up = { .domain = DOMAIN, .name = name, .seq = seq,
			    .cert = cert, .cert_len = strlen(cert), .key = key,
			    .key_len = key != NULL ? strlen(key) : 0 };
	int		 rc;

	rc = keystore_upload(fx->ks, &up, time(NULL), res, err);
	free(cert);
	free(key);
	return rc;
}

static size_t
pending(struct ks_fx *fx)
{
	struct ks_csr	*c = NULL;
	size_t		 n = 0;

	assert_int_equal(keystore_csr_list(fx->ks, DOMAIN, &c, &n, NULL), 0);
	ks_csrs_free(c, n);
	return n;
}

static void
stage_chain(struct ks_fx *fx)
{
	struct upload_result	 res;
	struct cert_error	 err;

	assert_int_equal(upload(fx, "root", 1, fx->c.root, NULL, &res, &err),
	    0);
	assert_int_equal(upload(fx, "inter", 2, fx->c.inter[0], NULL, &res,
	    &err), 0);
}

/* The certificate signed for the request commits with the pending key:
 * the generation's key is the request's, and it is no longer pending. */
static void
test_certificate_commits_with_pending_key(void **state)
{
	struct ks_fx		*fx = *state;
	struct ks_csr		 info;
	struct upload_result	 res;
	struct cert_error	 err;
	struct chain		*chain = NULL;
	X509			*x;
	char			*pem, spki[65];
	int64_t			 gen;

	pem = csr_ok(fx, NULL, "www." DOMAIN, &info);
	assert_string_equal(info.key_type, "EC P-256");
	assert_string_equal(info.names, "DNS:" DOMAIN ",DNS:www." DOMAIN);
	assert_null(strstr(pem, "PRIVATE"));
	assert_int_equal(pending(fx), 1);
	x = sign(fx, pem);
	stage_chain(fx);
	if (upload(fx, "server", 0, x, NULL, &res, &err) == -1)
		fail_msg("upload: %s: %s", cert_code_name(err.code),
		    err.message);
	assert_true(res.committed);
	assert_int_equal(pending(fx), 0);
	assert_int_equal(keystore_make_live(fx->ks, DOMAIN, res.generation,
	    "test", 0, NULL, NULL, &err), 0);
	assert_int_equal(keystore_current(fx->ks, DOMAIN, &chain, &gen, &err),
	    0);
	assert_non_null(chain->key);
	assert_int_equal(key_spki_sha256(chain->key, spki), 0);
	assert_string_equal(spki, info.spki);
	chain_free(chain);
	ks_csr_clear(&info);
	X509_free(x);
	free(pem);
}

/* A certificate of another key, without its key: E_KEY_MISMATCH, and the
 * pending key and the store stay as they were. */
static void
test_certificate_of_no_pending_key(void **state)
{
	struct ks_fx		*fx = *state;
	struct ks_csr		 info;
	struct upload_result	 res;
	struct cert_error	 err;
	char			*pem, *leaf;

	stage_chain(fx);
	pem = csr_ok(fx, "rsa2048", NULL, &info);
	assert_string_equal(info.key_type, "RSA 2048");
	leaf = tpki_cert_pem(fx->c.leaf);
	assert_int_equal(keystore_csr_wanted(fx->ks, DOMAIN, leaf,
	    strlen(leaf)), 1);
	assert_int_equal(upload(fx, "server", 3, fx->c.leaf, NULL, &res, &err),
	    -1);
	assert_int_equal(err.code, E_KEY_MISMATCH);
	assert_false(res.committed);
	assert_int_equal(pending(fx), 1);
	/* A CA is staged as ever, pending keys or not. */
	free(leaf);
	leaf = tpki_cert_pem(fx->c.inter[0]);
	assert_int_equal(keystore_csr_wanted(fx->ks, DOMAIN, leaf,
	    strlen(leaf)), 0);
	ks_csr_clear(&info);
	free(leaf);
	free(pem);
}

/* A client asking again and again keeps the newest KS_CSR_KEEP keys. */
static void
test_newest_pending_keys_kept(void **state)
{
	struct ks_fx	*fx = *state;
	struct ks_csr	 info;
	int		 i;

	for (i = 0; i < KS_CSR_KEEP + 3; i++) {
		free(csr_ok(fx, NULL, NULL, &info));
		ks_csr_clear(&info);
	}
	assert_int_equal(pending(fx), KS_CSR_KEEP);
}

/* keystore_csr() refuses rq with code. */
static void
csr_refused(struct ks_fx *fx, const struct csr_request *rq,
    enum cert_code code)
{
	struct ks_csr		 info;
	struct cert_error	 err;
	char			*pem;

	assert_int_equal(keystore_csr(fx->ks, rq, 0, &pem, &info, &err), -1);
	assert_int_equal(err.code, code);
}

static void
test_bad_requests(void **state)
{
	struct ks_fx		*fx = *state;
	struct csr_request	 rq = { .domain = DOMAIN };

	rq.key_type = "dsa";
	csr_refused(fx, &rq, E_BAD_REQUEST);
	rq.key_type = NULL;
	rq.names[rq.nnames++] = "not a name";
	csr_refused(fx, &rq, E_BAD_REQUEST);
	rq.domain = "Not..A.Domain";
	csr_refused(fx, &rq, E_BAD_REQUEST);
	assert_int_equal(pending(fx), 0);
}

/* Pending keys are sealed; without the credential, no key is made (it
 * could only be stored in the clear) and none is opened. */
static void
test_sealed_and_credential_missing(void **state)
{
	struct ks_fx		*fx = *state;
	struct csr_request	 rq = { .domain = DOMAIN };
	struct ks_csr		 info;
	struct upload_result	 res;
	struct cert_error	 err;
	X509			*x;
	char			*pem;

	pem = csr_ok(fx, NULL, NULL, &info);
	ks_csr_clear(&info);
	x = sign(fx, pem);
	free(pem);
	stage_chain(fx);
	keystore_close(fx->ks);
	assert_non_null(fx->ks = keystore_open(fx->path, &err));
	assert_true(keystore_sealed(fx->ks));
	csr_refused(fx, &rq, E_CREDENTIAL);
	assert_int_equal(upload(fx, "server", 0, x, NULL, &res, &err), -1);
	assert_int_equal(err.code, E_CREDENTIAL);
	assert_int_equal(pending(fx), 1);
	X509_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_certificate_commits_with_pending_key),
		T(test_certificate_of_no_pending_key),
		T(test_newest_pending_keys_kept),
		T(test_bad_requests),
		T(test_sealed_and_credential_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

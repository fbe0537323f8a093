/*
 * test_check.c: certctl check's judgement without a network (diagnose.c on
 * chains made here, each broken one way), and the PKCS#12 reader it reads
 * Java trust stores with (pkcs12_read_certs).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "certctl.h"
#include "diagnose.h"
#include "pkcs12.h"
#include "testpki.h"
#include "util.h"

#define DAY	86400

static struct tpki_chain	 pki;		/* root, inter[0], leaf */
static struct tpki_chain	 other;		/* another root */
static const char *const	 dns[] = { "example.test", NULL };	/* a SAN */

static int
setup(void **state)
{
	tpki_chain_make(&pki, "example.test", 1, TPKI_EC256);
	tpki_chain_make(&other, "example.test", 0, TPKI_EC256);
	return 0;
}

static int
teardown(void **state)
{
	tpki_chain_free(&pki);
	tpki_chain_free(&other);
	return 0;
}

/* Judge the served certificates (NULL-ended) against the anchors. */
static void
judge(struct diagnosis *d, const char *name, X509 **anchors,
    size_t nanchors, ...)
{
	struct diag_input	 in;
	va_list			 ap;
	X509			*x;

	memset(&in, 0, sizeof(in));
	memset(d, 0, sizeof(*d));
	in.served = sk_X509_new_null();
	va_start(ap, nanchors);
	while ((x = va_arg(ap, X509 *)) != NULL)
		sk_X509_push(in.served, x);
	va_end(ap);
	in.anchors = anchors;
	in.nanchors = nanchors;
	in.store = "the test store";
	in.name = name;
	in.now = time(NULL);
	assert_int_equal(diagnose(&in, d), 0);
	sk_X509_free(in.served);
}

/* The problem with that code, or NULL; fatal must match. */
static const struct diag_problem *
problem(const struct diagnosis *d, const char *code, int fatal)
{
	size_t	 i;

	for (i = 0; i < d->np; i++)
		if (strcmp(d->p[i].code, code) == 0) {
			assert_int_equal(d->p[i].fatal, fatal);
			return &d->p[i];
		}
	return NULL;
}

static void
assert_problems(const struct diagnosis *d, size_t n)
{
	size_t	 i;

	for (i = 0; i < d->np && i < 8; i++)
		if (d->np != n)
			fprintf(stderr, "problem %s: %s\n", d->p[i].code,
			    d->p[i].cause);
	assert_int_equal(d->np, n);
}

static void
test_complete_chain(void **state)
{
	struct diagnosis	 d;

	judge(&d, "example.test", &pki.root, 1, pki.leaf, pki.inter[0], NULL);
	assert_problems(&d, 0);
	assert_true(d.complete && d.in_order && d.trusted);
	assert_int_equal(d.npath, 3);
	assert_int_equal(d.served_at[1], 1);
	assert_int_equal(d.served_at[2], -1);	/* the root, from the store */
	assert_true(d.anchor[2]);
	assert_int_equal(d.role[1], ROLE_INTERMEDIATE);
	diagnosis_free(&d);
	/* a wildcard SAN covers one label */
	judge(&d, "www.example.test", &pki.root, 1, pki.leaf, pki.inter[0],
	    NULL);
	assert_problems(&d, 0);
	diagnosis_free(&d);
}

static void
test_intermediate_missing(void **state)
{
	struct diagnosis	 d;
	const struct diag_problem *p;
	X509			*both[2] = { pki.root, pki.inter[0] };

	judge(&d, "example.test", &pki.root, 1, pki.leaf, NULL);
	assert_non_null(p = problem(&d, "intermediate-missing", 1));
	assert_non_null(strstr(p->cause, "intermediate 1"));
	assert_non_null(strstr(p->cause, "the test store"));
	assert_false(d.complete || d.trusted);
	diagnosis_free(&d);

	/* A store with the intermediate (certd's truststore.jks) connects,
	 * but the server is still told to send it. */
	judge(&d, "example.test", both, 2, pki.leaf, NULL);
	assert_non_null(p = problem(&d, "intermediate-missing", 0));
	assert_non_null(strstr(p->cause, "connects only because"));
	assert_int_equal(diag_fatal(&d), 0);
	assert_true(d.trusted);
	assert_false(d.complete);
	diagnosis_free(&d);
}

static void
test_order_and_root(void **state)
{
	struct diagnosis	 d;
	const struct diag_problem *p;

	judge(&d, "example.test", &pki.root, 1, pki.leaf, pki.root,
	    pki.inter[0], NULL);
	assert_non_null(p = problem(&d, "order", 0));
	assert_non_null(strstr(p->cause, "[1]"));
	assert_non_null(problem(&d, "root-served", 0));
	assert_int_equal(diag_fatal(&d), 0);
	assert_false(d.in_order);
	assert_true(d.complete);
	assert_int_equal(d.role[1], ROLE_ROOT);
	diagnosis_free(&d);

	judge(&d, "example.test", &pki.root, 1, pki.leaf, pki.inter[0],
	    pki.root, NULL);
	assert_problems(&d, 1);
	assert_non_null(problem(&d, "root-served", 0));
	assert_true(d.in_order);
	diagnosis_free(&d);

	/* a certificate of another chain in the middle */
	judge(&d, "example.test", &pki.root, 1, pki.leaf, other.leaf,
	    pki.inter[0], NULL);
	assert_non_null(problem(&d, "extra-certificate", 0));
	assert_non_null(problem(&d, "order", 0));
	assert_int_equal(d.role[1], ROLE_EXTRA);
	diagnosis_free(&d);
}

/* Judge a leaf made to o (serverAuth unless o names an EKU) with a key
 * of type kt, served with the intermediate, for name. */
static void
judge_leaf(struct diagnosis *d, const char *name, struct tpki_opts *o,
    enum tpki_keytype kt)
{
	EVP_PKEY	*k = tpki_key(kt);
	X509		*x;

	if (o->eku == 0)
		o->eku = TPKI_EKU_SERVER;
	x = tpki_cert(o, k, pki.inter[0], pki.inter_key[0]);
	judge(d, name, &pki.root, 1, x, pki.inter[0], NULL);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_names(void **state)
{
	static const char *const ips[] = { "192.0.2.7", NULL };
	struct tpki_opts	 o = { .cn = "192.0.2.7", .dns = dns };
	struct tpki_opts	 cn_only = { .cn = "example.test" };
	struct diagnosis	 d;
	const struct diag_problem *p;

	judge(&d, "other.test", &pki.root, 1, pki.leaf, pki.inter[0], NULL);
	assert_non_null(p = problem(&d, "name-mismatch", 1));
	assert_non_null(strstr(p->cause, "DNS:example.test"));
	diagnosis_free(&d);

	/* an address only in the CN: Java's "No subject alternative names" */
	judge_leaf(&d, "192.0.2.7", &o, TPKI_EC256);
	assert_non_null(p = problem(&d, "ip-san-missing", 1));
	assert_non_null(strstr(p->cause, "only in its subject"));
	diagnosis_free(&d);

	o.ips = ips;
	judge_leaf(&d, "192.0.2.7", &o, TPKI_EC256);
	assert_problems(&d, 0);
	diagnosis_free(&d);

	/* CN-only: browsers refuse it, though OpenSSL would match the CN */
	judge_leaf(&d, "example.test", &cn_only, TPKI_EC256);
	assert_non_null(problem(&d, "cn-only", 1));
	assert_null(problem(&d, "verifier", 1));
	diagnosis_free(&d);
}

static void
test_dates(void **state)
{
	time_t			 now = time(NULL);
	struct tpki_opts	 o = { .cn = "example.test", .dns = dns,
	    .not_before = now - 30 * DAY, .not_after = now - 3 * DAY };
	struct diagnosis	 d;
	const struct diag_problem *p;

	judge_leaf(&d, "example.test", &o, TPKI_EC256);
	assert_non_null(p = problem(&d, "expired", 1));
	assert_non_null(strstr(p->cause, "3 days ago"));
	assert_non_null(strstr(p->cause, "The server certificate"));
	assert_null(problem(&d, "verifier", 1));	/* explained */
	diagnosis_free(&d);

	o.not_before = now + 2 * DAY + 600;
	o.not_after = now + 300 * DAY;
	judge_leaf(&d, "example.test", &o, TPKI_EC256);
	assert_non_null(p = problem(&d, "not-yet-valid", 1));
	assert_non_null(strstr(p->cause, "in 2 days"));
	diagnosis_free(&d);
}

static void
test_trust(void **state)
{
	struct diagnosis	 d;
	const struct diag_problem *p;

	judge(&d, "example.test", &other.root, 1, pki.leaf, pki.inter[0],
	    NULL);
	assert_non_null(p = problem(&d, "untrusted-root", 1));
	assert_non_null(strstr(p->cause, "the test store"));
	assert_true(d.complete);
	diagnosis_free(&d);

	judge(&d, "example.test", &other.root, 1, pki.leaf, pki.inter[0],
	    pki.root, NULL);
	assert_non_null(p = problem(&d, "untrusted-root", 1));
	assert_non_null(strstr(p->cause, "leads to the root"));
	diagnosis_free(&d);

	/* self-signed: refused unless the store holds that very one */
	judge(&d, "example.test", &pki.root, 1, other.root, NULL);
	assert_non_null(problem(&d, "self-signed", 1));
	diagnosis_free(&d);
	judge(&d, "example.test", &pki.leaf, 1, pki.leaf, NULL);
	assert_int_equal(diag_fatal(&d), 0);	/* Java trusts a stored leaf */
	assert_true(d.trusted);
	diagnosis_free(&d);
}

/* An intermediate of the same name, another key: an old CA file. */
static void
test_imposter(void **state)
{
	struct tpki_opts	 o;
	struct diagnosis	 d;
	const struct diag_problem *p;
	EVP_PKEY		*k = tpki_key(TPKI_EC256);
	X509			*fake;
	char			*cn;

	cn = describe_name(pki.inter[0]);
	memset(&o, 0, sizeof(o));
	o.cn = cn + strlen("CN=");
	o.ca = 1;
	fake = tpki_cert(&o, k, pki.root, pki.root_key);
	judge(&d, "example.test", &fake, 1, pki.leaf, NULL);
	assert_non_null(p = problem(&d, "intermediate-missing", 1));
	assert_non_null(strstr(p->cause, "another key"));
	diagnosis_free(&d);
	X509_free(fake);
	EVP_PKEY_free(k);
	free(cn);
}

static void
test_strength(void **state)
{
	struct tpki_opts	 o = { .cn = "example.test", .dns = dns,
	    .md = EVP_sha1() };
	struct diagnosis	 d;

	judge_leaf(&d, "example.test", &o, TPKI_RSA1024);
	assert_non_null(problem(&d, "weak-key", 1));
	assert_non_null(problem(&d, "weak-signature", 1));
	assert_null(problem(&d, "verifier", 1));
	diagnosis_free(&d);
}

/* What only OpenSSL's verifier sees still fails the check. */
static void
test_verifier(void **state)
{
	struct tpki_opts	 o = { .cn = "example.test", .dns = dns,
	    .eku = TPKI_EKU_CLIENT };
	struct diagnosis	 d;
	const struct diag_problem *p;

	judge_leaf(&d, "example.test", &o, TPKI_EC256);
	assert_non_null(p = problem(&d, "verifier", 1));
	assert_non_null(strstr(p->cause, "serverAuth"));
	diagnosis_free(&d);
}

static void
test_pkcs12_reader(void **state)
{
	struct trust_entry	 te[2] = { { "root", pki.root },
				    { "inter", pki.inter[0] } };
	struct p12_cert		*c;
	STACK_OF(X509)		*chain = sk_X509_new_null();
	unsigned char		*der;
	size_t			 len, n, nkeys;

	assert_int_equal(pkcs12_truststore(te, 2, "changeit", &der, &len), 0);
	assert_int_equal(pkcs12_read_certs(der, len, "changeit", &c, &n,
	    &nkeys), 0);
	assert_int_equal(n, 2);
	assert_int_equal(nkeys, 0);
	assert_string_equal(c[1].alias, "inter");
	assert_true(c[0].trusted && c[1].trusted);
	assert_int_equal(X509_cmp(c[0].cert, pki.root), 0);
	pkcs12_certs_free(c, n);
	/* no password: the MAC is skipped, as Java's load(in, null) */
	assert_int_equal(pkcs12_read_certs(der, len, NULL, &c, &n, &nkeys), 0);
	pkcs12_certs_free(c, n);
	assert_int_equal(pkcs12_read_certs(der, len, "wrong", &c, &n, &nkeys),
	    P12_EPASSWORD);
	assert_int_equal(pkcs12_read_certs(der, len - 1, NULL, &c, &n,
	    &nkeys), P12_ENOTP12);
	freezero(der, len);

	sk_X509_push(chain, pki.inter[0]);
	assert_int_equal(pkcs12_keystore(pki.leaf_key, pki.leaf, chain,
	    "server", "changeit", &der, &len), 0);
	assert_int_equal(pkcs12_read_certs(der, len, "changeit", &c, &n,
	    &nkeys), 0);
	assert_int_equal(n, 2);
	assert_int_equal(nkeys, 1);
	assert_true(c[0].key_entry);
	assert_false(c[0].trusted || c[1].trusted || c[1].key_entry);
	pkcs12_certs_free(c, n);
	freezero(der, len);
	sk_X509_free(chain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_chain),
		cmocka_unit_test(test_intermediate_missing),
		cmocka_unit_test(test_order_and_root),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_trust),
		cmocka_unit_test(test_imposter),
		cmocka_unit_test(test_strength),
		cmocka_unit_test(test_verifier),
		cmocka_unit_test(test_pkcs12_reader),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_pkcs12.c: the PKCS#12 writers, read back with OpenSSL's parser: the
 * Java trust attribute and friendlyName on every certificate bag, a SHA-256
 * MAC, PBES2/AES-256-CBC/HMAC-SHA256 (never RC2) for the keystore, the
 * localKeyID that ties key and leaf, and wrong passwords refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "pkcs12.h"
#include "testpki.h"
#include "testutil.h"

#define OID_JDK_TRUST	"2.16.840.1.113894.746875.1.1"

static PKCS12 *
parse_der(const unsigned char *der, size_t len)
{
	const unsigned char	*p = der;
	PKCS12			*p12;

	p12 = d2i_PKCS12(NULL, &p, (long)len);
	assert_non_null(p12);
	assert_ptr_equal(p, der + len);
	return p12;
}

/* The MAC: HMAC-SHA256, 10000 iterations, verifies with pass only. */
static void
check_mac(PKCS12 *p12, const char *pass)
{
	const X509_ALGOR	*alg;
	const ASN1_OBJECT	*obj;
	const ASN1_INTEGER	*iter;

	assert_true(PKCS12_mac_present(p12));
	PKCS12_get0_mac(NULL, &alg, NULL, &iter, p12);
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	assert_int_equal(OBJ_obj2nid(obj), NID_sha256);
	assert_non_null(iter);
	assert_int_equal(ASN1_INTEGER_get(iter), 10000);
	assert_true(PKCS12_verify_mac(p12, pass, -1));
	assert_false(PKCS12_verify_mac(p12, "wrong", -1));
	assert_false(PKCS12_verify_mac(p12, "", -1));
}

/* An encryption AlgorithmIdentifier is PBES2 + AES-256-CBC + HMAC-SHA256. */
static void
check_pbes2(const X509_ALGOR *alg)
{
	const ASN1_OBJECT	*obj;
	const void		*pv;
	int			 ptype;
	PBE2PARAM		*pbe2;
	PBKDF2PARAM		*kdf;

	X509_ALGOR_get0(&obj, &ptype, &pv, alg);
	assert_int_equal(OBJ_obj2nid(obj), NID_pbes2);
	assert_int_equal(ptype, V_ASN1_SEQUENCE);
	pbe2 = ASN1_item_unpack(pv, ASN1_ITEM_rptr(PBE2PARAM));
	assert_non_null(pbe2);
	assert_int_equal(OBJ_obj2nid(pbe2->encryption->algorithm),
	    NID_aes_256_cbc);
	assert_int_equal(OBJ_obj2nid(pbe2->keyfunc->algorithm), NID_id_pbkdf2);
	kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
	    pbe2->keyfunc->parameter);
	assert_non_null(kdf);
	/* An absent prf means HMAC-SHA1: require it spelled out. */
	assert_non_null(kdf->prf);
	assert_int_equal(OBJ_obj2nid(kdf->prf->algorithm), NID_hmacWithSHA256);
	assert_int_equal(ASN1_INTEGER_get(kdf->iter), 10000);
	PBKDF2PARAM_free(kdf);
	PBE2PARAM_free(pbe2);
}

/* The single value of the bag attribute with OID obj (OpenSSL < 3.2 has no
 * NID for Java's), or NULL. */
static const ASN1_TYPE *
find_attr(const PKCS12_SAFEBAG *bag, const ASN1_OBJECT *obj)
{
	const STACK_OF(X509_ATTRIBUTE)	*attrs;
	X509_ATTRIBUTE			*a;
	int				 k;

	attrs = PKCS12_SAFEBAG_get0_attrs(bag);
	for (k = 0; k < sk_X509_ATTRIBUTE_num(attrs); k++) {
		a = sk_X509_ATTRIBUTE_value(attrs, k);
		if (OBJ_cmp(X509_ATTRIBUTE_get0_object(a), obj) == 0) {
			assert_int_equal(X509_ATTRIBUTE_count(a), 1);
			return X509_ATTRIBUTE_get0_type(a, 0);
		}
	}
	return NULL;
}

/* A bag of the server's key or certificate: its friendlyName is "server";
 * its localKeyID, which ties the two, is returned (a copy). */
static ASN1_OCTET_STRING *
server_key_id(const PKCS12_SAFEBAG *bag)
{
	const ASN1_TYPE	*kid;
	char		*name;

	name = PKCS12_get_friendlyname((PKCS12_SAFEBAG *)bag);
	assert_string_equal(name, "server");
	OPENSSL_free(name);
	kid = PKCS12_get_attr_gen(PKCS12_SAFEBAG_get0_attrs(bag),
	    NID_localKeyID);
	assert_non_null(kid);
	return ASN1_OCTET_STRING_dup(kid->value.octet_string);
}

static void
test_truststore_bags_carry_java_trust(void **state)
{
	struct store_fx		*fx = *state;
	const struct trust_entry *e = fx->cas;
	STACK_OF(PKCS7)		*safes;
	STACK_OF(PKCS12_SAFEBAG) *bags;
	const PKCS12_SAFEBAG	*bag;
	const ASN1_TYPE		*av;
	ASN1_OBJECT		*trust;
	PKCS12			*p12;
	PKCS7			*p7;
	X509			*x;
	unsigned char		*der;
	char			*name, oid[64];
	size_t			 len;
	int			 i;

	assert_int_equal(pkcs12_truststore(e, 3, "changeit", &der, &len), 0);
	p12 = parse_der(der, len);
	check_mac(p12, "changeit");

	/* One safe, plain data: certificates are public and Java then finds
	 * the anchors without a trustStorePassword. */
	assert_non_null(safes = PKCS12_unpack_authsafes(p12));
	assert_int_equal(sk_PKCS7_num(safes), 1);
	p7 = sk_PKCS7_value(safes, 0);
	assert_int_equal(OBJ_obj2nid(p7->type), NID_pkcs7_data);
	assert_non_null(bags = PKCS12_unpack_p7data(p7));
	assert_int_equal(sk_PKCS12_SAFEBAG_num(bags), 3);

	trust = OBJ_txt2obj(OID_JDK_TRUST, 1);
	assert_non_null(trust);
	for (i = 0; i < 3; i++) {
		bag = sk_PKCS12_SAFEBAG_value(bags, i);
		assert_int_equal(PKCS12_SAFEBAG_get_nid(bag), NID_certBag);
		assert_int_equal(PKCS12_SAFEBAG_get_bag_nid(bag),
		    NID_x509Certificate);
		x = PKCS12_SAFEBAG_get1_cert(bag);
		assert_non_null(x);
		assert_int_equal(X509_cmp(x, e[i].cert), 0);
		X509_free(x);

		name = PKCS12_get_friendlyname((PKCS12_SAFEBAG *)bag);
		assert_non_null(name);
		assert_string_equal(name, e[i].alias);
		OPENSSL_free(name);

		/* Java's attribute, value the OID anyExtendedKeyUsage. */
		av = find_attr(bag, trust);
		assert_non_null(av);
		assert_int_equal(av->type, V_ASN1_OBJECT);
		OBJ_obj2txt(oid, sizeof(oid), av->value.object, 1);
		assert_string_equal(oid, "2.5.29.37.0");
	}
	ASN1_OBJECT_free(trust);
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
	free(der);
}

static void
test_truststore_parse_and_refusals(void **state)
{
	struct store_fx		*fx = *state;
	const struct trust_entry *e = fx->cas;	/* root, inter1 */
	struct trust_entry	 dup[2] = {
		{ "root", fx->c.root }, { "ROOT", fx->c.inter[0] } };
	struct trust_entry	 noalias[1] = { { "", fx->c.root } };
	STACK_OF(X509)		*ca = NULL;
	EVP_PKEY		*pkey = NULL;
	X509			*cert = NULL;
	PKCS12			*p12;
	unsigned char		*der;
	size_t			 len;

	assert_int_equal(pkcs12_truststore(e, 2, "pw", &der, &len), 0);
	p12 = parse_der(der, len);
	assert_true(PKCS12_parse(p12, "pw", &pkey, &cert, &ca));
	assert_null(pkey);
	assert_null(cert);
	assert_int_equal(sk_X509_num(ca), 2);
	sk_X509_pop_free(ca, X509_free);
	ca = NULL;
	assert_false(PKCS12_parse(p12, "nope", &pkey, &cert, &ca));
	PKCS12_free(p12);
	free(der);

	/* Empty is valid (Java: zero anchors). */
	assert_int_equal(pkcs12_truststore(NULL, 0, "pw", &der, &len), 0);
	p12 = parse_der(der, len);
	check_mac(p12, "pw");
	PKCS12_free(p12);
	free(der);

	/* Java lower-cases aliases: two that collide are refused. */
	assert_int_equal(pkcs12_truststore(dup, 2, "pw", &der, &len), -1);
	assert_null(der);
	assert_int_equal(pkcs12_truststore(noalias, 1, "pw", &der, &len), -1);
	assert_int_equal(pkcs12_truststore(e, 2, NULL, &der, &len), -1);
}

static void
test_keystore_layout(void **state)
{
	struct store_fx		*fx = *state;
	STACK_OF(X509)		*in, *ca = NULL;
	STACK_OF(PKCS7)		*safes;
	STACK_OF(PKCS12_SAFEBAG) *bags;
	const PKCS12_SAFEBAG	*bag;
	ASN1_OCTET_STRING	*kid_key = NULL, *kid_leaf = NULL;
	const X509_ALGOR	*alg;
	const X509_SIG		*p8;
	EVP_PKEY		*pkey = NULL;
	X509			*cert = NULL, *x;
	PKCS12			*p12;
	PKCS7			*p7;
	unsigned char		*der;
	size_t			 len;
	int			 i, j, nkey = 0, ncert = 0;

	assert_non_null(in = sk_X509_new_null());
	sk_X509_push(in, fx->c.inter[1]);
	sk_X509_push(in, fx->c.inter[0]);
	sk_X509_push(in, fx->c.root);
	assert_int_equal(pkcs12_keystore(fx->c.leaf_key, fx->c.leaf, in,
	    "server", "changeit", &der, &len), 0);
	p12 = parse_der(der, len);
	check_mac(p12, "changeit");

	assert_true(PKCS12_parse(p12, "changeit", &pkey, &cert, &ca));
	assert_int_equal(EVP_PKEY_eq(pkey, fx->c.leaf_key), 1);
	assert_int_equal(X509_cmp(cert, fx->c.leaf), 0);
	assert_int_equal(sk_X509_num(ca), 3);
	EVP_PKEY_free(pkey);
	X509_free(cert);
	sk_X509_pop_free(ca, X509_free);

	/* The shrouded key bag: PBES2/AES-256/SHA-256; the certificates
	 * are public and their safe is plain data. */
	assert_non_null(safes = PKCS12_unpack_authsafes(p12));
	for (i = 0; i < sk_PKCS7_num(safes); i++) {
		p7 = sk_PKCS7_value(safes, i);
		assert_int_equal(OBJ_obj2nid(p7->type), NID_pkcs7_data);
		bags = PKCS12_unpack_p7data(p7);
		assert_non_null(bags);
		for (j = 0; j < sk_PKCS12_SAFEBAG_num(bags); j++) {
			bag = sk_PKCS12_SAFEBAG_value(bags, j);
			switch (PKCS12_SAFEBAG_get_nid(bag)) {
			case NID_pkcs8ShroudedKeyBag:
				nkey++;
				p8 = PKCS12_SAFEBAG_get0_pkcs8(bag);
				X509_SIG_get0(p8, &alg, NULL);
				check_pbes2(alg);
				kid_key = server_key_id(bag);
				break;
			case NID_certBag:
				ncert++;
				x = PKCS12_SAFEBAG_get1_cert(bag);
				if (X509_cmp(x, fx->c.leaf) == 0)
					kid_leaf = server_key_id(bag);
				X509_free(x);
				break;
			default:
				fail_msg("unexpected bag %d",
				    PKCS12_SAFEBAG_get_nid(bag));
			}
		}
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	}
	assert_int_equal(nkey, 1);
	assert_int_equal(ncert, 4);
	assert_non_null(kid_key);
	assert_non_null(kid_leaf);
	assert_int_equal(ASN1_OCTET_STRING_cmp(kid_key, kid_leaf), 0);
	ASN1_OCTET_STRING_free(kid_key);
	ASN1_OCTET_STRING_free(kid_leaf);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
	free(der);
	sk_X509_free(in);
}

static void
test_keystore_refusals(void **state)
{
	struct store_fx	*fx = *state;
	unsigned char	*der;
	size_t		 len;
	PKCS12		*p12;
	EVP_PKEY	*pkey = NULL;
	X509		*cert = NULL;
	STACK_OF(X509)	*ca = NULL;

	/* A key that is not the leaf's. */
	assert_int_equal(pkcs12_keystore(fx->c.root_key, fx->c.leaf, NULL,
	    "server", "pw", &der, &len), -1);
	assert_null(der);
	assert_int_equal(pkcs12_keystore(fx->c.leaf_key, fx->c.leaf, NULL,
	    "server", NULL, &der, &len), -1);
	/* No chain is fine; the default alias is "server". */
	assert_int_equal(pkcs12_keystore(fx->c.leaf_key, fx->c.leaf, NULL,
	    NULL, "pw", &der, &len), 0);
	p12 = parse_der(der, len);
	assert_false(PKCS12_parse(p12, "wrong", &pkey, &cert, &ca));
	assert_true(PKCS12_parse(p12, "pw", &pkey, &cert, &ca));
	assert_int_equal(EVP_PKEY_eq(pkey, fx->c.leaf_key), 1);
	assert_true(ca == NULL || sk_X509_num(ca) == 0);
	EVP_PKEY_free(pkey);
	X509_free(cert);
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
	free(der);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truststore_bags_carry_java_trust),
		cmocka_unit_test(test_truststore_parse_and_refusals),
		cmocka_unit_test(test_keystore_layout),
		cmocka_unit_test(test_keystore_refusals),
	};

	return cmocka_run_group_tests(tests, store_fx_setup,
	    store_fx_teardown);
}

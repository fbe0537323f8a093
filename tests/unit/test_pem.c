/*
 * test_pem.c: every accepted encoding of a certificate or key decodes to the
 * same DER / key, every rejected one to its error code (docs/api.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cert.h"
#include "key.h"
#include "pem.h"
#include "util.h"
#include "validate.h"
#include "testpki.h"

static X509	*cert;		/* an RSA leaf */
static char	*cert_pem;
static unsigned char *cert_der;
static size_t	 cert_derlen;

static int
setup(void **state)
{
	EVP_PKEY	*k = tpki_key(TPKI_RSA2048);
	const char	*dns[] = { "example.com", NULL };
	struct tpki_opts o = { .cn = "example.com", .dns = dns,
	    .eku = TPKI_EKU_SERVER };

	cert = tpki_cert(&o, k, NULL, NULL);
	cert_pem = tpki_cert_pem(cert);
	cert_der = tpki_cert_der(cert, &cert_derlen);
	EVP_PKEY_free(k);
	return 0;
}

static int
teardown(void **state)
{
	X509_free(cert);
	free(cert_pem);
	free(cert_der);
	return 0;
}

/* Decode s as one certificate and check it is the reference DER. */
static void
assert_decodes_to_cert(const char *s, size_t len)
{
	struct cert_error	 err;
	X509			*x = NULL;
	unsigned char		*der = NULL;
	int			 dlen;

	if (pem_decode_cert(s, len, "server", 3, &x, &err) != 0)
		fail_msg("rejected: %s", err.message);
	dlen = i2d_X509(x, &der);
	assert_int_equal(dlen, cert_derlen);
	assert_memory_equal(der, cert_der, dlen);
	OPENSSL_free(der);
	X509_free(x);
}

static void
assert_cert_rejected(const char *s, size_t len, enum cert_code code)
{
	struct cert_error	 err;
	STACK_OF(X509)		*sk = NULL;

	memset(&err, 0, sizeof(err));
	if (pem_decode_certs(s, len, "inter", 2, &sk, &err) == 0)
		fail_msg("accepted %zu bytes that should give %s", len,
		    cert_code_name(code));
	assert_null(sk);
	assert_string_equal(cert_code_name(err.code), cert_code_name(code));
	assert_string_equal(err.name, "inter");
	assert_int_equal(err.seq, 2);
	assert_true(strlen(err.message) > 10);
}

/* s with every occurrence of from replaced by to (to may be longer). */
static char *
replace_all(const char *s, const char *from, const char *to)
{
	size_t	 fl = strlen(from), tl = strlen(to), n = 0;
	const char *p;
	char	*out, *o;

	for (p = s; (p = strstr(p, from)) != NULL; p += fl)
		n++;
	out = malloc(strlen(s) + n * tl + 1);
	assert_non_null(out);
	for (o = out, p = s; *p != '\0';) {
		if (strncmp(p, from, fl) == 0) {
			memcpy(o, to, tl);
			o += tl;
			p += fl;
		} else
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

static char *
cat(const char *a, const char *b)
{
	char	*s = malloc(strlen(a) + strlen(b) + 1);

	assert_non_null(s);
	strcpy(s, a);
	strcat(s, b);
	return s;
}

static void
test_pem_plain(void **state)
{
	assert_decodes_to_cert(cert_pem, strlen(cert_pem));
	/* Without the final newline. */
	assert_decodes_to_cert(cert_pem, strlen(cert_pem) - 1);
}

static void
test_pem_crlf_bom_whitespace(void **state)
{
	char	*crlf = replace_all(cert_pem, "\n", "\r\n");
	char	*bom = cat("\xef\xbb\xbf", cert_pem);
	char	*ws1 = cat("\n\n  \t", cert_pem);
	char	*ws = cat(ws1, "\n \t \r\n\n");

	assert_decodes_to_cert(crlf, strlen(crlf));
	assert_decodes_to_cert(bom, strlen(bom));
	assert_decodes_to_cert(ws, strlen(ws));
	free(crlf);
	free(bom);
	free(ws1);
	free(ws);
}

static void
test_der(void **state)
{
	assert_decodes_to_cert((const char *)cert_der, cert_derlen);
}

static void
test_percent_encoded(void **state)
{
	char	*enc, *o;
	const char *p;

	/* encodeURIComponent-style: every non-alphanumeric byte escaped. */
	enc = malloc(strlen(cert_pem) * 3 + 1);
	assert_non_null(enc);
	for (o = enc, p = cert_pem; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9'))
			*o++ = *p;
		else
			o += sprintf(o, "%%%02X", (unsigned char)*p);
	}
	*o = '\0';
	assert_non_null(strstr(enc, "%0A"));
	assert_decodes_to_cert(enc, strlen(enc));
	free(enc);

	/* Form style: spaces as '+', '+' as %2B, '/' as %2F, newline %0A. */
	enc = replace_all(cert_pem, "+", "%2B");
	o = replace_all(enc, "\n", "%0A");
	free(enc);
	enc = replace_all(o, " ", "+");
	free(o);
	assert_null(strchr(enc, '\n'));
	assert_decodes_to_cert(enc, strlen(enc));
	free(enc);
}

static void
test_plus_became_space(void **state)
{
	char	*broken;

	assert_non_null(strchr(cert_pem, '+'));
	broken = strdup(cert_pem);
	assert_non_null(broken);
	/* Only inside the base64: the BEGIN/END lines keep their spaces. */
	for (char *p = strchr(broken, '\n'); *p != '\0'; p++)
		if (*p == '+')
			*p = ' ';
	assert_decodes_to_cert(broken, strlen(broken));
	free(broken);
}

/*
 * A '+' at the very start or end of a base64 line: after form decoding it is
 * a leading/trailing space, the case a "trim each line" parser gets wrong.
 */
static void
test_plus_at_line_edges(void **state)
{
	int	 found_start = 0, found_end = 0, i;

	for (i = 0; i < 400 && !(found_start && found_end); i++) {
		EVP_PKEY	*k = tpki_key(TPKI_EC256);
		struct tpki_opts o = { .cn = "edge" };
		X509		*x = tpki_cert(&o, k, NULL, NULL);
		char		*pem = tpki_cert_pem(x), *p;
		int		 start, end;
		struct cert_error err;
		X509		*y = NULL;

		start = strstr(pem, "\n+") != NULL;
		end = strstr(pem, "+\n") != NULL;
		if ((start && !found_start) || (end && !found_end)) {
			for (p = strchr(pem, '\n'); *p != '\0'; p++)
				if (*p == '+')
					*p = ' ';
			if (pem_decode_cert(pem, strlen(pem), "root", 1, &y,
			    &err) != 0)
				fail_msg("line-edge '+' case: %s", err.message);
			assert_int_equal(X509_cmp(x, y), 0);
			X509_free(y);
			found_start |= start;
			found_end |= end;
		}
		free(pem);
		X509_free(x);
		EVP_PKEY_free(k);
	}
	assert_true(found_start);
	assert_true(found_end);
}

static void
test_single_line_and_preamble(void **state)
{
	char	*one, *p, *q, *pre;

	/* Base64 on one line between the BEGIN and END lines. */
	one = strdup(cert_pem);
	assert_non_null(one);
	p = strchr(one, '\n') + 1;
	for (q = p; *p != '\0'; p++)
		if (*p != '\n' || strncmp(p + 1, "-----END", 8) == 0 ||
		    p[1] == '\0')
			*q++ = *p;
	*q = '\0';
	assert_decodes_to_cert(one, strlen(one));
	free(one);

	/* A text field that collapsed the line breaks into spaces. */
	one = replace_all(cert_pem, "\n", " ");
	assert_decodes_to_cert(one, strlen(one));
	free(one);

	/* `openssl pkcs12 -nokeys` annotations before the block. */
	pre = cat("Bag Attributes\n    localKeyID: 01 02 03\n"
	    "subject=CN = example.com\n\n", cert_pem);
	assert_decodes_to_cert(pre, strlen(pre));
	free(pre);
}

static void
test_several_certs_in_order(void **state)
{
	struct tpki_chain	 c;
	struct cert_error	 err;
	STACK_OF(X509)		*sk = NULL;
	char			*a, *b, *ab, *abc;

	tpki_chain_make(&c, "example.org", 1, TPKI_EC256);
	a = tpki_cert_pem(c.leaf);
	b = tpki_cert_pem(c.inter[0]);
	ab = cat(a, b);
	free(a);
	a = tpki_cert_pem(c.root);
	abc = cat(ab, a);
	assert_int_equal(pem_decode_certs(abc, strlen(abc), "b", 0, &sk, &err),
	    0);
	assert_int_equal(sk_X509_num(sk), 3);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 0), c.leaf), 0);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 1), c.inter[0]), 0);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 2), c.root), 0);
	sk_X509_pop_free(sk, X509_free);

	/* Exactly one is required by pem_decode_cert. */
	{
		X509 *x = NULL;
		assert_int_equal(pem_decode_cert(abc, strlen(abc), "s", 4, &x,
		    &err), -1);
		assert_int_equal(err.code, E_ENCODING);
		assert_non_null(strstr(err.message, "found 3"));
	}
	free(a);
	free(b);
	free(ab);
	free(abc);
	tpki_chain_free(&c);
}

static void
test_rejects(void **state)
{
	char	*s, *p;
	size_t	 n;

	assert_cert_rejected("", 0, E_ENCODING);
	assert_cert_rejected(" \r\n\t\n", 5, E_ENCODING);
	assert_cert_rejected("hello world\n", 12, E_ENCODING);

	/* Invalid base64 character. */
	s = strdup(cert_pem);
	p = strchr(s, '\n') + 10;
	*p = '!';
	assert_cert_rejected(s, strlen(s), E_ENCODING);
	{
		struct cert_error err;
		STACK_OF(X509) *sk;
		pem_decode_certs(s, strlen(s), "x", 1, &sk, &err);
		assert_non_null(strstr(err.message, "'!'"));
		assert_non_null(strstr(err.message, "line 2"));
	}
	free(s);

	/* No END line. */
	s = strdup(cert_pem);
	*strstr(s, "-----END") = '\0';
	assert_cert_rejected(s, strlen(s), E_ENCODING);
	free(s);

	/* A base64 line missing: truncated data. */
	s = strdup(cert_pem);
	p = strchr(s, '\n') + 1;
	memmove(p, p + 65, strlen(p + 65) + 1);
	assert_cert_rejected(s, strlen(s), E_ENCODING);
	free(s);

	/* Trailing garbage after the END line. */
	s = cat(cert_pem, "garbage\n");
	assert_cert_rejected(s, strlen(s), E_ENCODING);
	free(s);

	/* Mismatched END label. */
	s = replace_all(cert_pem, "END CERTIFICATE", "END PRIVATE KEY");
	assert_cert_rejected(s, strlen(s), E_ENCODING);
	free(s);

	/* Truncated DER, DER with trailing bytes. */
	assert_cert_rejected((const char *)cert_der, cert_derlen - 1,
	    E_ENCODING);
	s = malloc(cert_derlen + 3);
	memcpy(s, cert_der, cert_derlen);
	memcpy(s + cert_derlen, "\0\0\0", 3);
	assert_cert_rejected(s, cert_derlen + 3, E_ENCODING);
	free(s);

	/* A key where a certificate belongs. */
	{
		EVP_PKEY *k = tpki_key(TPKI_EC256);
		char *kp = tpki_key_pem(k, TPKI_KEY_PKCS8);
		assert_cert_rejected(kp, strlen(kp), E_ENCODING);
		free(kp);
		EVP_PKEY_free(k);
	}

	/* 64 KiB + 1. */
	n = PEM_ITEM_MAX + 1;
	s = malloc(n);
	memset(s, ' ', n);
	memcpy(s, cert_pem, strlen(cert_pem));
	assert_cert_rejected(s, n, E_TOO_LARGE);
	/* Exactly 64 KiB of the same is fine. */
	assert_decodes_to_cert(s, n - 1);
	free(s);
}

static void
test_too_many_certs(void **state)
{
	char	*s;
	size_t	 one = strlen(cert_pem);
	int	 i;

	s = malloc(one * 17 + 1);
	for (i = 0; i < 17; i++)
		memcpy(s + one * i, cert_pem, one);
	s[one * 17] = '\0';
	assert_cert_rejected(s, one * 17, E_TOO_LARGE);
	{
		STACK_OF(X509) *sk = NULL;
		struct cert_error err;
		assert_int_equal(pem_decode_certs(s, one * 16, "a", 1, &sk,
		    &err), 0);
		assert_int_equal(sk_X509_num(sk), 16);
		sk_X509_pop_free(sk, X509_free);
	}
	free(s);
}

static void
assert_key_decodes(const char *s, size_t len, EVP_PKEY *want)
{
	struct cert_error	 err;
	EVP_PKEY		*k = NULL;

	if (key_decode(s, len, "server", 3, &k, &err) != 0)
		fail_msg("key rejected: %s", err.message);
	assert_int_equal(EVP_PKEY_eq(k, want), 1);
	EVP_PKEY_free(k);
}

static void
test_key_formats(void **state)
{
	static const enum tpki_keytype types[] = { TPKI_RSA2048, TPKI_EC256,
	    TPKI_ED25519, TPKI_EC384 };
	static const char *const heads[] = { "-----BEGIN RSA PRIVATE KEY",
	    "-----BEGIN EC PRIVATE KEY", "-----BEGIN PRIVATE KEY",
	    "-----BEGIN EC PRIVATE KEY" };
	size_t	 i, dlen;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		EVP_PKEY	*k = tpki_key(types[i]);
		char		*p8 = tpki_key_pem(k, TPKI_KEY_PKCS8);
		char		*trad = tpki_key_pem(k, TPKI_KEY_TRAD);
		char		*crlf = replace_all(trad, "\n", "\r\n");
		unsigned char	*der;

		assert_true(strncmp(p8, "-----BEGIN PRIVATE KEY", 22) == 0);
		assert_true(strncmp(trad, heads[i], strlen(heads[i])) == 0);
		assert_key_decodes(p8, strlen(p8), k);
		assert_key_decodes(trad, strlen(trad), k);
		assert_key_decodes(crlf, strlen(crlf), k);
		der = tpki_key_der(k, TPKI_KEY_PKCS8, &dlen);
		assert_key_decodes((char *)der, dlen, k);
		free(der);
		der = tpki_key_der(k, TPKI_KEY_TRAD, &dlen);
		assert_key_decodes((char *)der, dlen, k);
		free(der);
		free(p8);
		free(trad);
		free(crlf);
		EVP_PKEY_free(k);
	}
}

static void
test_key_ec_parameters_block(void **state)
{
	EVP_PKEY	*k = tpki_key(TPKI_EC256);
	char		*trad = tpki_key_pem(k, TPKI_KEY_TRAD);
	char		*s = cat("-----BEGIN EC PARAMETERS-----\n"
	    "BggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n", trad);

	assert_key_decodes(s, strlen(s), k);
	free(s);
	free(trad);
	EVP_PKEY_free(k);
}

static void
assert_key_rejected(const char *s, size_t len, enum cert_code code)
{
	struct cert_error	 err;
	EVP_PKEY		*k = NULL;

	memset(&err, 0, sizeof(err));
	if (key_decode(s, len, "server", 3, &k, &err) == 0)
		fail_msg("key accepted, expected %s", cert_code_name(code));
	assert_null(k);
	assert_string_equal(cert_code_name(err.code), cert_code_name(code));
	assert_string_equal(err.name, "server");
	assert_int_equal(err.seq, 3);
	if (code == E_KEY_ENCRYPTED)
		assert_non_null(strstr(err.message,
		    "openssl pkey -in key.pem -out key-nopass.pem"));
}

/* No 8-character run of the key's base64 may appear in the message. */
static void
assert_no_key_bytes(const char *msg, const char *pem)
{
	const char	*p;
	char		 frag[9];

	for (p = strchr(pem, '\n') + 1; p[8] != '\0'; p++) {
		if (strncmp(p, "-----END", 8) == 0)
			break;
		memcpy(frag, p, 8);
		frag[8] = '\0';
		if (strchr(frag, '\n') == NULL)
			assert_null(strstr(msg, frag));
	}
}

static void
test_key_encrypted(void **state)
{
	static const int fmts[] = { TPKI_KEY_PKCS8_ENC, TPKI_KEY_TRAD_ENC };
	EVP_PKEY	*k = tpki_key(TPKI_RSA2048);
	EVP_PKEY	*e = tpki_key(TPKI_EC256);
	size_t		 i;

	for (i = 0; i < 2; i++) {
		char *s = tpki_key_pem(k, fmts[i]);
		char *t = tpki_key_pem(e, fmts[i]);

		assert_key_rejected(s, strlen(s), E_KEY_ENCRYPTED);
		assert_key_rejected(t, strlen(t), E_KEY_ENCRYPTED);
		free(s);
		free(t);
	}
	/* Encrypted PKCS#8 as DER. */
	{
		char		*s = tpki_key_pem(k, TPKI_KEY_PKCS8_ENC);
		char		*b64, *p, *q;
		unsigned char	 der[4096];
		int		 n;

		b64 = strdup(strchr(s, '\n') + 1);
		*strstr(b64, "-----END") = '\0';
		for (p = q = b64; *p != '\0'; p++)
			if (*p != '\n')
				*q++ = *p;
		*q = '\0';
		n = EVP_DecodeBlock(der, (unsigned char *)b64, strlen(b64));
		assert_true(n > 0);
		while (b64[strlen(b64) - 1] == '=') {	/* DecodeBlock pads */
			b64[strlen(b64) - 1] = '\0';
			n--;
		}
		assert_key_rejected((char *)der, (size_t)n, E_KEY_ENCRYPTED);
		free(b64);
		free(s);
	}
	EVP_PKEY_free(k);
	EVP_PKEY_free(e);
}

static void
test_key_rejects(void **state)
{
	EVP_PKEY		*k = tpki_key(TPKI_RSA2048);
	char			*pem = tpki_key_pem(k, TPKI_KEY_PKCS8), *s;
	struct cert_error	 err;
	EVP_PKEY		*out = NULL;

	assert_key_rejected("", 0, E_KEY_ENCODING);
	assert_key_rejected("not a key", 9, E_KEY_ENCODING);
	/* A certificate given as the key. */
	assert_key_rejected(cert_pem, strlen(cert_pem), E_KEY_ENCODING);

	/* Corrupted and truncated: the message must not quote the key. */
	s = strdup(pem);
	s[100] = '*';
	assert_key_rejected(s, strlen(s), E_KEY_ENCODING);
	key_decode(s, strlen(s), "server", 3, &out, &err);
	assert_no_key_bytes(err.message, pem);
	free(s);
	s = strdup(pem);
	memmove(s + 100, s + 200, strlen(s + 200) + 1);
	assert_key_rejected(s, strlen(s), E_KEY_ENCODING);
	key_decode(s, strlen(s), "server", 3, &out, &err);
	assert_no_key_bytes(err.message, pem);
	free(s);

	/* Two keys. */
	s = cat(pem, pem);
	assert_key_rejected(s, strlen(s), E_KEY_ENCODING);
	free(s);

	/* Too large. */
	s = malloc(PEM_ITEM_MAX + 1);
	memset(s, '\n', PEM_ITEM_MAX + 1);
	memcpy(s, pem, strlen(pem));
	assert_key_rejected(s, PEM_ITEM_MAX + 1, E_TOO_LARGE);
	free(s);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_encode_key_roundtrip(void **state)
{
	EVP_PKEY	*k = tpki_key(TPKI_EC256);
	size_t		 len;
	char		*pem = key_pem(k, &len);

	assert_non_null(pem);
	assert_int_equal(strlen(pem), len);
	assert_true(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	assert_key_decodes(pem, len, k);
	OPENSSL_cleanse(pem, len);
	free(pem);
	EVP_PKEY_free(k);

	pem = pem_encode_cert(cert, &len);
	assert_string_equal(pem, cert_pem);
	free(pem);
}

static void
test_url_decode(void **state)
{
	size_t	 n;
	char	*s;

	s = url_decode("a+b%2Bc%0a%2f", 13, &n, 1);
	assert_non_null(s);
	assert_int_equal(n, 7);
	assert_string_equal(s, "a b+c\n/");
	free(s);
	assert_null(url_decode("bad%2", 5, &n, 1));
	assert_null(url_decode("bad%zz", 6, &n, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pem_plain),
		cmocka_unit_test(test_pem_crlf_bom_whitespace),
		cmocka_unit_test(test_der),
		cmocka_unit_test(test_percent_encoded),
		cmocka_unit_test(test_plus_became_space),
		cmocka_unit_test(test_plus_at_line_edges),
		cmocka_unit_test(test_single_line_and_preamble),
		cmocka_unit_test(test_several_certs_in_order),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_too_many_certs),
		cmocka_unit_test(test_key_formats),
		cmocka_unit_test(test_key_ec_parameters_block),
		cmocka_unit_test(test_key_encrypted),
		cmocka_unit_test(test_key_rejects),
		cmocka_unit_test(test_encode_key_roundtrip),
		cmocka_unit_test(test_url_decode),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

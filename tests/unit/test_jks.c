/*
 * test_jks.c: the JKS writer against an independent reading of the format
 * (magic, layout, SHA-1 keyed digest), the reader's checks, and aliases.
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
#include <openssl/x509.h>

#include "jks.h"
#include "testpki.h"
#include "testutil.h"

static uint32_t
be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

/* SHA-1 over explicit password bytes, the whitener and body. */
static void
ref_digest(const unsigned char *pw, size_t pwlen, const unsigned char *body,
    size_t len, unsigned char md[20])
{
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();

	assert_non_null(ctx);
	assert_true(EVP_DigestInit_ex(ctx, EVP_sha1(), NULL));
	assert_true(EVP_DigestUpdate(ctx, pw, pwlen));
	assert_true(EVP_DigestUpdate(ctx, "Mighty Aphrodite", 16));
	assert_true(EVP_DigestUpdate(ctx, body, len));
	assert_true(EVP_DigestFinal_ex(ctx, md, NULL));
	EVP_MD_CTX_free(ctx);
}

static void
test_layout_and_digest_match_java(void **state)
{
	struct store_fx		*fx = *state;
	static const unsigned char pw[] = {	/* "changeit" as UTF-16BE */
		0, 'c', 0, 'h', 0, 'a', 0, 'n', 0, 'g', 0, 'e', 0, 'i', 0, 't'
	};
	unsigned char		*out, md[20], *der = NULL;
	const unsigned char	*p;
	size_t			 len;
	int			 derlen;
	time_t			 t = 1700000000;
	uint64_t		 ms;

	assert_int_equal(jks_write(fx->cas, 3, "changeit", t, &out, &len), 0);
	assert_int_equal(be32(out), 0xFEEDFEEDU);
	assert_int_equal(be32(out + 4), 2);
	assert_int_equal(be32(out + 8), 3);

	/* First entry, field by field. */
	p = out + 12;
	assert_int_equal(be32(p), 2);			/* trusted cert */
	assert_int_equal(p[4], 0);
	assert_int_equal(p[5], 4);
	assert_memory_equal(p + 6, "root", 4);
	p += 10;
	ms = ((uint64_t)be32(p) << 32) | be32(p + 4);
	assert_true(ms == (uint64_t)t * 1000);
	p += 8;
	assert_int_equal(p[0], 0);
	assert_int_equal(p[1], 5);
	assert_memory_equal(p + 2, "X.509", 5);
	p += 7;
	derlen = i2d_X509(fx->c.root, &der);
	assert_true(derlen > 0);
	assert_int_equal(be32(p), (uint32_t)derlen);
	assert_memory_equal(p + 4, der, derlen);
	OPENSSL_free(der);

	ref_digest(pw, sizeof(pw), out, len - 20, md);
	assert_memory_equal(out + len - 20, md, 20);
	free(out);
}

static void
test_roundtrip_and_password(void **state)
{
	struct store_fx		*fx = *state;
	const struct trust_entry *e = fx->cas;
	unsigned char		*out;
	size_t			 len, n, i;
	char			**al;
	X509			**xs;

	assert_int_equal(jks_write(e, 3, "s3cret", 0, &out, &len), 0);
	assert_int_equal(jks_read(out, len, "s3cret", &al, &xs, &n), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(al[i], e[i].alias);
		assert_int_equal(X509_cmp(xs[i], e[i].cert), 0);
	}
	jks_entries_free(al, xs, n);

	/* A wrong password is detected; no password skips the check. */
	assert_int_equal(jks_read(out, len, "changeit", &al, &xs, &n), -1);
	assert_null(al);
	assert_int_equal(jks_read(out, len, "", &al, &xs, &n), -1);
	assert_int_equal(jks_read(out, len, NULL, &al, &xs, &n), 0);
	assert_int_equal(n, 3);
	jks_entries_free(al, xs, n);

	/* Any flipped bit fails (digest or structure). */
	for (i = 0; i < len; i += 7) {
		out[i] ^= 0x01;
		assert_int_equal(jks_read(out, len, "s3cret", &al, &xs, &n),
		    -1);
		out[i] ^= 0x01;
	}
	/* Every truncation fails cleanly. */
	for (i = 0; i < len; i++)
		assert_int_equal(jks_read(out, i, NULL, &al, &xs, &n), -1);
	/* Trailing garbage fails too (the digest is the last 20 bytes). */
	out = realloc(out, len + 1);
	assert_non_null(out);
	out[len] = 0;
	assert_int_equal(jks_read(out, len + 1, "s3cret", &al, &xs, &n), -1);
	free(out);
}

static void
test_empty_store(void **state)
{
	unsigned char	*out;
	size_t		 len, n;
	char		**al;
	X509		**xs;

	(void)state;
	assert_int_equal(jks_write(NULL, 0, "changeit", 0, &out, &len), 0);
	assert_int_equal(len, 12 + 20);
	assert_int_equal(be32(out + 8), 0);
	assert_int_equal(jks_read(out, len, "changeit", &al, &xs, &n), 0);
	assert_int_equal(n, 0);
	jks_entries_free(al, xs, n);
	free(out);
}

/* Hand-made files with a valid digest: only their structure is wrong. */
static void
test_reader_refuses_keys_and_huge_counts(void **state)
{
	static const unsigned char pw[] = { 0, 'x' };
	unsigned char	 f[64], md[20];
	size_t		 len, n;
	char		**al;
	X509		**xs;

	(void)state;
	/* count 0xffffffff in a tiny file: refused before any allocation. */
	memcpy(f, "\xfe\xed\xfe\xed\0\0\0\x02\xff\xff\xff\xff", 12);
	ref_digest(pw, sizeof(pw), f, 12, md);
	memcpy(f + 12, md, 20);
	assert_int_equal(jks_read(f, 32, "x", &al, &xs, &n), -1);

	/* A well-formed private-key entry (tag 1, alias "k", date 0, empty
	 * key, no chain): never ours, refused. */
	memset(f, 0, sizeof(f));
	memcpy(f, "\xfe\xed\xfe\xed\0\0\0\x02\0\0\0\x01"
	    "\0\0\0\x01\0\x01k", 19);
	len = 12 + 4 + 3 + 8 + 4 + 4;
	ref_digest(pw, sizeof(pw), f, len, md);
	memcpy(f + len, md, 20);
	assert_int_equal(jks_read(f, len + 20, "x", &al, &xs, &n), -1);

	/* Bad magic with a good digest. */
	memcpy(f, "\xfe\xed\xfe\xee\0\0\0\x02\0\0\0\0", 12);
	ref_digest(pw, sizeof(pw), f, 12, md);
	memcpy(f + 12, md, 20);
	assert_int_equal(jks_read(f, 32, "x", &al, &xs, &n), -1);
	/* ...and the same with the right magic reads as empty. */
	f[3] = 0xed;
	ref_digest(pw, sizeof(pw), f, 12, md);
	memcpy(f + 12, md, 20);
	assert_int_equal(jks_read(f, 32, "x", &al, &xs, &n), 0);
	assert_int_equal(n, 0);
	jks_entries_free(al, xs, n);
}

static void
test_bad_aliases_refused(void **state)
{
	struct store_fx		*fx = *state;
	struct trust_entry	 dup[2] = {
		{ "root", fx->c.root }, { "root", fx->c.inter[0] } };
	struct trust_entry	 upper[1] = { { "Root", fx->c.root } };
	struct trust_entry	 empty[1] = { { "", fx->c.root } };
	struct trust_entry	 nocert[1] = { { "root", NULL } };
	struct trust_entry	 badutf[1] = { { "r\xc3", fx->c.root } };
	unsigned char		*out;
	size_t			 len;

	assert_int_equal(jks_write(dup, 2, "x", 0, &out, &len), -1);
	assert_null(out);
	assert_int_equal(jks_write(upper, 1, "x", 0, &out, &len), -1);
	assert_int_equal(jks_write(empty, 1, "x", 0, &out, &len), -1);
	assert_int_equal(jks_write(nocert, 1, "x", 0, &out, &len), -1);
	assert_int_equal(jks_write(badutf, 1, "x", 0, &out, &len), -1);
	assert_int_equal(jks_write(upper, 1, NULL, 0, &out, &len), -1);
}

/* Non-ASCII text is Java's: chars as UTF-16BE in the digest, modified
 * UTF-8 (surrogate pairs as two 3-byte sequences) in aliases. */
static void
test_non_ascii_alias_and_password(void **state)
{
	struct store_fx		*fx = *state;
	/* U+00E4 and U+1F512 (a supplementary character). */
	struct trust_entry	 e[1] = { { "k\xc3\xa4-\xf0\x9f\x94\x92",
				    fx->c.root } };
	static const unsigned char pw[] = { 0, 'p', 0, 0xe4, 0xd8, 0x3d,
				    0xdd, 0x12 };
	static const unsigned char mutf[] = { 'k', 0xc3, 0xa4, '-',
				    0xed, 0xa0, 0xbd, 0xed, 0xb4, 0x92 };
	unsigned char		*out, md[20];
	size_t			 len, n;
	char			**al;
	X509			**xs;

	assert_int_equal(jks_write(e, 1, "p\xc3\xa4\xf0\x9f\x94\x92", 0,
	    &out, &len), 0);
	assert_int_equal(out[16], 0);
	assert_int_equal(out[17], sizeof(mutf));
	assert_memory_equal(out + 18, mutf, sizeof(mutf));
	ref_digest(pw, sizeof(pw), out, len - 20, md);
	assert_memory_equal(out + len - 20, md, 20);
	assert_int_equal(jks_read(out, len, "p\xc3\xa4\xf0\x9f\x94\x92",
	    &al, &xs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(al[0], e[0].alias);
	jks_entries_free(al, xs, n);
	free(out);
}

static void
test_make_aliases(void **state)
{
	const char *const names[] = {
		"Root CA", "root ca", "Intermediate 1", "", NULL,
		"../etc/passwd", "ROOT-CA", "root-ca-2",
		"A very long certificate name that goes on and on and on",
		"Zertifikat \xc3\xa4",
	};
	const char *const want[] = {
		"root-ca", "root-ca-2", "intermediate-1", "cert", "cert-2",
		"etc-passwd", "root-ca-3", "root-ca-2-2",
		"a-very-long-certificate-name-that-goes-o",
		"zertifikat",
	};
	char	 out[10][64];
	size_t	 i;

	(void)state;
	jks_make_aliases(names, 10, out);
	for (i = 0; i < 10; i++)
		assert_string_equal(out[i], want[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_digest_match_java),
		cmocka_unit_test(test_roundtrip_and_password),
		cmocka_unit_test(test_empty_store),
		cmocka_unit_test(test_reader_refuses_keys_and_huge_counts),
		cmocka_unit_test(test_bad_aliases_refused),
		cmocka_unit_test(test_non_ascii_alias_and_password),
		cmocka_unit_test(test_make_aliases),
	};

	return cmocka_run_group_tests(tests, store_fx_setup,
	    store_fx_teardown);
}

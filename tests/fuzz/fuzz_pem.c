/*
 * fuzz_pem.c: libFuzzer target for the upload decoders (pem_decode_certs,
 * key_decode, url_decode) and, on what decodes, bundle ordering and
 * chain validation.  Built plainly (make check) its main()
 * replays tests/fuzz/corpus/pem/ plus deterministic truncations and byte
 * flips of each file.  With libFuzzer:
 *   clang -g -fsanitize=fuzzer,address,undefined -DCERTD_LIBFUZZER \
 *     -Icommon -I<builddir> tests/fuzz/fuzz_pem.c common/pem.c \
 *     common/chain.c common/error.c common/util.c -lcrypto -o fuzz_pem
 *   ./fuzz_pem tests/fuzz/corpus/pem
 */
#include <sys/types.h>

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "chain.h"
#include "cert.h"
#include "key.h"
#include "pem.h"
#include "util.h"
#include "validate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Invariant broken: crash so the fuzzer records the input. */
static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_pem: invariant broken: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	STACK_OF(X509)		*sk = NULL, *again = NULL;
	struct cert_error	 err;
	struct cert_warnings	 w = { 0 };
	struct chain		*c;
	EVP_PKEY		*k = NULL, *k2 = NULL;
	char			*pem, *dec;
	size_t			 plen, dlen;
	int			 i;

	memset(&err, 0, sizeof(err));
	if (pem_decode_certs((const char *)data, len, "fuzz", 1, &sk,
	    &err) == 0) {
		check(sk != NULL && sk_X509_num(sk) >= 1 &&
		    sk_X509_num(sk) <= CHAIN_MAX, "certificate count");
		/* What we accept re-encodes to PEM that decodes the same. */
		for (i = 0; i < sk_X509_num(sk); i++) {
			pem = pem_encode_cert(sk_X509_value(sk, i), &plen);
			check(pem != NULL, "pem_encode_cert");
			check(pem_decode_certs(pem, plen, "again", 1, &again,
			    &err) == 0, "re-decode of our own PEM");
			check(sk_X509_num(again) == 1 && X509_cmp(
			    sk_X509_value(again, 0), sk_X509_value(sk, i)) == 0,
			    "round trip");
			sk_X509_pop_free(again, X509_free);
			free(pem);
		}
		/* Arbitrary certificates through ordering and validation. */
		if ((c = chain_new()) == NULL)
			abort();
		if (chain_from_bundle(sk, NULL, c, &err) == 0) {
			check(c->n == (size_t)sk_X509_num(sk), "bundle size");
			check(chain_validate(c, "example.com", 1700000000, &w,
			    &err) == -1, "a chain without key validates");
		}
		chain_free(c);
		sk_X509_pop_free(sk, X509_free);
	} else {
		check(sk == NULL, "no stack on error");
		check(err.code == E_ENCODING || err.code == E_TOO_LARGE ||
		    err.code == E_INTERNAL, "certificate error code");
		check(strcmp(err.name, "fuzz") == 0 && err.seq == 1,
		    "error names the item");
		check(err.message[0] != '\0', "error message");
	}

	memset(&err, 0, sizeof(err));
	if (key_decode((const char *)data, len, "key", 2, &k, &err) == 0) {
		check(k != NULL, "key");
		pem = key_pem(k, &plen);
		check(pem != NULL, "pem_encode_key");
		check(key_decode(pem, plen, "key", 2, &k2, &err) == 0 &&
		    EVP_PKEY_eq(k, k2) == 1, "key round trip");
		OPENSSL_cleanse(pem, plen);
		free(pem);
		EVP_PKEY_free(k2);
		EVP_PKEY_free(k);
	} else {
		check(k == NULL, "no key on error");
		check(err.code == E_KEY_ENCODING || err.code ==
		    E_KEY_ENCRYPTED || err.code == E_TOO_LARGE ||
		    err.code == E_INTERNAL, "key error code");
	}

	if ((dec = url_decode((const char *)data, len, &dlen, 1)) != NULL) {
		check(dlen <= len && dec[dlen] == '\0', "url decode length");
		free(dec);
	}
	ERR_clear_error();
	return 0;
}

#ifndef CERTD_LIBFUZZER
static int
replay_one(const char *path, unsigned long *runs)
{
	FILE		*f;
	uint8_t		*buf, *mut;
	size_t		 len, i, step;
	uint32_t	 x = 2463534242u;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	buf = malloc(PEM_ITEM_MAX + 2);
	mut = malloc(PEM_ITEM_MAX + 2);
	if (buf == NULL || mut == NULL)
		abort();
	len = fread(buf, 1, PEM_ITEM_MAX + 1, f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	(*runs)++;
	/* Truncations: every 7th length and the last 64. */
	step = len > 64 ? 7 : 1;
	for (i = 0; i < len; i += (i + 64 >= len ? 1 : step)) {
		memcpy(mut, buf, i);
		LLVMFuzzerTestOneInput(mut, i);
		(*runs)++;
	}
	/* Deterministic single-byte changes (xorshift). */
	for (i = 0; len > 0 && i < 300; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		memcpy(mut, buf, len);
		mut[x % len] = (uint8_t)(x >> 24);
		LLVMFuzzerTestOneInput(mut, len);
		(*runs)++;
	}
	free(buf);
	free(mut);
	return 0;
}

int
main(int argc, char **argv)
{
	char		 dir[PATH_MAX], path[PATH_MAX * 2];
	const char	*top = getenv("top_srcdir");
	DIR		*d;
	struct dirent	*de;
	unsigned long	 runs = 0;
	int		 files = 0, i;

	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			if (replay_one(argv[i], &runs) == -1)
				return 1;
			files++;
		}
	} else {
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/pem",
		    top != NULL ? top : ".");
		if ((d = opendir(dir)) == NULL) {
			perror(dir);
			return 99;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (replay_one(path, &runs) == -1)
				return 1;
			files++;
		}
		closedir(d);
	}
	printf("fuzz_pem: %d corpus files, %lu inputs, no invariant broken\n",
	    files, runs);
	return files > 0 ? 0 : 99;
}
#endif

/*
 * fuzz.h: what every target in tests/fuzz/ shares.  A target defines
 * LLVMFuzzerTestOneInput; built with --enable-fuzzing libFuzzer drives it,
 * otherwise replay.c's main() replays tests/fuzz/corpus/NAME/ (NAME is the
 * program's name without "fuzz_") in make check.
 */
#ifndef CERTD_FUZZ_H
#define CERTD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* An invariant broken: abort, so libFuzzer keeps the input (and the
 * replay fails). */
#define FUZZ_CHECK(ok, what) do {					\
	if (!(ok)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, (what));			\
		abort();						\
	}								\
} while (0)

#endif

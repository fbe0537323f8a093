/*
 * replay.c: main() of a fuzz target built without libFuzzer (make check).
 * It runs every file of tests/fuzz/corpus/NAME/ (or the files named on the
 * command line), each whole, truncated, and with deterministic one-byte
 * changes, so the corpus and the crashes kept in it are checked by every
 * build, the sanitizer one included.
 */
#include "config.h"

#ifndef CERTD_LIBFUZZER
#include <sys/types.h>

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_MAX	(1024 * 1024 + 1)	/* over the largest body */

/* Which input broke an invariant: said when the target aborts. */
static char	 current[PATH_MAX + 64];

static void
on_abort(int sig)
{
	(void)write(STDERR_FILENO, current, strlen(current));
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One input in a buffer of exactly its size, so ASan sees an overread. */
static void
run(const uint8_t *data, size_t len, unsigned long *runs)
{
	uint8_t	*copy;

	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	(*runs)++;
}

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
	buf = malloc(REPLAY_MAX);
	mut = malloc(REPLAY_MAX);
	if (buf == NULL || mut == NULL)
		abort();
	len = fread(buf, 1, REPLAY_MAX, f);
	fclose(f);
	snprintf(current, sizeof(current), "replaying %s whole\n", path);
	run(buf, len, runs);
	/* Truncations: every 7th length and the last 64. */
	step = len > 64 ? 7 : 1;
	for (i = 0; i < len; i += (i + 64 >= len ? 1 : step)) {
		snprintf(current, sizeof(current), "replaying %s cut to %zu "
		    "bytes\n", path, i);
		run(buf, i, runs);
	}
	/* Deterministic single-byte changes (xorshift). */
	for (i = 0; len > 0 && i < 300; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		memcpy(mut, buf, len);
		mut[x % len] = (uint8_t)(x >> 24);
		snprintf(current, sizeof(current), "replaying %s with byte %zu "
		    "= 0x%02x\n", path, (size_t)(x % len), mut[x % len]);
		run(mut, len, runs);
	}
	free(buf);
	free(mut);
	return 0;
}

int
main(int argc, char **argv)
{
	char		 dir[PATH_MAX], path[PATH_MAX * 2];
	const char	*top = getenv("top_srcdir"), *name;
	DIR		*d;
	struct dirent	*de;
	unsigned long	 runs = 0;
	int		 files = 0, i;

	name = (name = strrchr(argv[0], '/')) != NULL ? name + 1 : argv[0];
	if (strncmp(name, "fuzz_", 5) == 0)
		name += 5;
	signal(SIGABRT, on_abort);
	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			if (replay_one(argv[i], &runs) == -1)
				return 1;
			files++;
		}
	} else {
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s",
		    top != NULL ? top : ".", name);
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
	printf("fuzz_%s: %d corpus files, %lu inputs, no invariant broken\n",
	    name, files, runs);
	return files > 0 ? 0 : 99;
}
#endif

/*
 * commitfloor.c: the floor under a commit's latency, for the benchmarks.
 * Does only the disk work a generation needs and nothing else: the files
 * of a rendered generation (TEMPLATE_DIR, copied byte for byte into
 * memory first), each created exclusively, written and fsynced in a
 * temporary directory, the directory fsynced and renamed to gen-N, the
 * domain directory fsynced, `current` swapped by symlink and rename, the
 * domain directory fsynced again, and the generation KEEP before it
 * removed (certd's keep_generations; without it the disk fills, and ext4
 * allocates inodes differently next to recently deleted ones).  No DB, no
 * parsing, no crypto.
 *
 *   commitfloor TEMPLATE_DIR OUT_DIR COUNT [-o TIMES_FILE]
 *
 * Prints "floor N p50 MS p99 MS max MS"; with -o, microseconds per line.
 */
#include "config.h"

#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toolutil.h"

#define FILES_MAX	32
#define KEEP		5

static struct file {
	char	 name[256];
	char	*data;
	size_t	 len;
	mode_t	 mode;
} files[FILES_MAX];
static int	nfiles;

static void
die(const char *what)
{
	fprintf(stderr, "commitfloor: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void
load(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	char		 path[4096];
	FILE		*f;

	if ((d = opendir(dir)) == NULL)
		die(dir);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (nfiles == FILES_MAX)
			die("too many files");
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) == -1 || (f = fopen(path, "r")) == NULL)
			die(path);
		files[nfiles].data = malloc((size_t)st.st_size + 1);
		if (files[nfiles].data == NULL || fread(files[nfiles].data, 1,
		    (size_t)st.st_size, f) != (size_t)st.st_size)
			die(path);
		fclose(f);
		snprintf(files[nfiles].name, sizeof(files[nfiles].name), "%s",
		    e->d_name);
		files[nfiles].len = (size_t)st.st_size;
		files[nfiles].mode = st.st_mode & 07777;
		nfiles++;
	}
	closedir(d);
}

static void
fsync_at(int dfd, const char *name)
{
	int	 fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY)) == -1 ||
	    fsync(fd) == -1)
		die(name);
	close(fd);
}

static void
prune(int dfd, long gen)
{
	char	 name[64];
	int	 gfd, i;

	snprintf(name, sizeof(name), "gen-%ld", gen);
	if ((gfd = openat(dfd, name, O_RDONLY | O_DIRECTORY)) == -1)
		die(name);
	for (i = 0; i < nfiles; i++)
		if (unlinkat(gfd, files[i].name, 0) == -1)
			die(files[i].name);
	close(gfd);
	if (unlinkat(dfd, name, AT_REMOVEDIR) == -1)
		die(name);
}

static void
one(int dfd, long gen)
{
	char	 tmp[64], final[64];
	int	 gfd, fd, i;

	snprintf(tmp, sizeof(tmp), ".tmp-gen-%ld", gen);
	snprintf(final, sizeof(final), "gen-%ld", gen);
	if (mkdirat(dfd, tmp, 0755) == -1 ||
	    (gfd = openat(dfd, tmp, O_RDONLY | O_DIRECTORY)) == -1)
		die(tmp);
	for (i = 0; i < nfiles; i++) {
		if ((fd = openat(gfd, files[i].name, O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 ||
		    fchmod(fd, files[i].mode) == -1 ||
		    write(fd, files[i].data, files[i].len) !=
		    (ssize_t)files[i].len || fsync(fd) == -1 || close(fd) == -1)
			die(files[i].name);
	}
	if (fsync(gfd) == -1)
		die(tmp);
	close(gfd);
	if (renameat(dfd, tmp, dfd, final) == -1)
		die(final);
	fsync_at(dfd, ".");
	if (symlinkat(final, dfd, "current.tmp") == -1 ||
	    renameat(dfd, "current.tmp", dfd, "current") == -1)
		die("current");
	fsync_at(dfd, ".");
	if (gen > KEEP)
		prune(dfd, gen - KEEP);
}

int
main(int argc, char *argv[])
{
	FILE		*out = NULL;
	uint32_t	*lat;
	struct latency	 l;
	long		 count, i;
	int		 dfd;
	int64_t		 t0;

	if (argc == 6 && strcmp(argv[4], "-o") == 0) {
		if ((out = fopen(argv[5], "w")) == NULL)
			die(argv[5]);
	} else if (argc != 4) {
		fprintf(stderr, "usage: commitfloor TEMPLATE_DIR OUT_DIR COUNT "
		    "[-o TIMES_FILE]\n");
		return 2;
	}
	if ((count = atol(argv[3])) < 1)
		return 2;
	load(argv[1]);
	if ((mkdir(argv[2], 0755) == -1 && errno != EEXIST) ||
	    (dfd = open(argv[2], O_RDONLY | O_DIRECTORY)) == -1)
		die(argv[2]);
	if ((lat = calloc((size_t)count, sizeof(*lat))) == NULL)
		die("calloc");
	for (i = 0; i < count; i++) {
		t0 = tool_now_ns();
		one(dfd, i + 1);
		lat[i] = (uint32_t)((tool_now_ns() - t0) / 1000);
		if (out != NULL)
			fprintf(out, "%u\n", lat[i]);
	}
	if (out != NULL)
		fclose(out);
	l = tool_latency(lat, (size_t)count);
	printf("floor %ld p50 %.2f p99 %.2f max %.2f\n", count, l.p50, l.p99,
	    l.max);
	return 0;
}

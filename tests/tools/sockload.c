/*
 * sockload.c: load client for the control socket benchmark: N threads, each
 * on its own keep-alive connection, send GET PATH for S seconds; prints
 * requests/s and latency percentiles.
 *   sockload SOCKET [-c CLIENTS] [-s SECONDS] [-p PATH]
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toolutil.h"

#define LAT_MAX	(1 << 21)

static const char	*sockpath, *path = "/v1/status";
static int		 seconds = 5;
static int64_t		 deadline_ns;
static uint32_t		*lat_us;		/* all latencies, microseconds */
static size_t		 nlat;
static long		 errors;
static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;

static void *
client(void *arg)
{
	char		 req[256], buf[65536];
	uint32_t	*mine;
	size_t		 n = 0, cap = LAT_MAX / 64;
	long		 errs = 0;
	int64_t		 t0;
	int		 s = -1, len;

	mine = malloc(cap * sizeof(*mine));
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: certd\r\n"
	    "\r\n", path);
	while (tool_now_ns() < deadline_ns) {
		if (s == -1 && (s = tool_connect(sockpath)) == -1) {
			errs++;
			usleep(1000);
			continue;
		}
		t0 = tool_now_ns();
		if (write(s, req, len) != len ||
		    tool_read_answer(s, buf, sizeof(buf)) != 200) {
			errs++;
			close(s);
			s = -1;
			continue;
		}
		if (n < cap)
			mine[n++] = (uint32_t)((tool_now_ns() - t0) / 1000);
	}
	if (s != -1)
		close(s);
	pthread_mutex_lock(&mu);
	if (nlat + n <= LAT_MAX) {
		memcpy(lat_us + nlat, mine, n * sizeof(*mine));
		nlat += n;
	}
	errors += errs;
	pthread_mutex_unlock(&mu);
	free(mine);
	return NULL;
}

int
main(int argc, char *argv[])
{
	pthread_t	*t;
	struct latency	 l;
	int		 clients = 64, i, ch;

	if (argc < 2) {
		fprintf(stderr, "usage: sockload SOCKET [-c CLIENTS] "
		    "[-s SECONDS] [-p PATH]\n");
		return 2;
	}
	sockpath = argv[1];
	optind = 2;
	while ((ch = getopt(argc, argv, "c:s:p:")) != -1) {
		switch (ch) {
		case 'c':
			clients = atoi(optarg);
			break;
		case 's':
			seconds = atoi(optarg);
			break;
		case 'p':
			path = optarg;
			break;
		default:
			return 2;
		}
	}
	if (clients < 1 || seconds < 1)
		return 2;
	lat_us = malloc(LAT_MAX * sizeof(*lat_us));
	t = calloc(clients, sizeof(*t));
	if (lat_us == NULL || t == NULL)
		return 1;
	deadline_ns = tool_now_ns() + (int64_t)seconds * 1000000000;
	for (i = 0; i < clients; i++)
		pthread_create(&t[i], NULL, client, NULL);
	for (i = 0; i < clients; i++)
		pthread_join(t[i], NULL);
	if (nlat == 0) {
		fprintf(stderr, "sockload: no successful request (%ld errors)\n",
		    errors);
		return 1;
	}
	l = tool_latency(lat_us, nlat);
	printf("clients=%d seconds=%d requests=%zu errors=%ld rps=%.0f "
	    "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", clients, seconds, nlat,
	    errors, (double)nlat / seconds, l.p50, l.p99, l.max);
	free(lat_us);
	free(t);
	return errors > 0 ? 1 : 0;
}

/*
 * sockload.c: load client for the control socket benchmark: N threads, each
 * on its own keep-alive connection, send GET PATH for S seconds; prints
 * requests/s and latency percentiles.
 *   sockload SOCKET [-c CLIENTS] [-s SECONDS] [-p PATH]
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LAT_MAX	(1 << 21)

static const char	*sockpath, *path = "/v1/status";
static int		 seconds = 5;
static int64_t		 deadline_ns;
static uint32_t		*lat_us;		/* all latencies, microseconds */
static size_t		 nlat;
static long		 errors;
static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;

static int64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
connect_sock(void)
{
	struct sockaddr_un	 sun;
	int			 s;

	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sockpath);
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(s);
		return -1;
	}
	return s;
}

/* Read one response (headers + Content-Length body); 0 ok, -1 error. */
static int
read_response(int s, char *buf, size_t size)
{
	size_t	 have = 0;
	char	*end, *cl;
	long	 want;
	ssize_t	 n;

	for (;;) {
		if (have == size - 1)
			return -1;
		if ((n = read(s, buf + have, size - 1 - have)) <= 0)
			return -1;
		have += n;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		if ((cl = strcasestr(buf, "\r\nContent-Length:")) == NULL)
			return -1;
		want = strtol(cl + 17, NULL, 10);
		if ((size_t)(end + 4 - buf) + (size_t)want <= have)
			return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
	}
}

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
	while (now_ns() < deadline_ns) {
		if (s == -1 && (s = connect_sock()) == -1) {
			errs++;
			usleep(1000);
			continue;
		}
		t0 = now_ns();
		if (write(s, req, len) != len ||
		    read_response(s, buf, sizeof(buf)) == -1) {
			errs++;
			close(s);
			s = -1;
			continue;
		}
		if (n < cap)
			mine[n++] = (uint32_t)((now_ns() - t0) / 1000);
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

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	pthread_t	*t;
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
	deadline_ns = now_ns() + (int64_t)seconds * 1000000000;
	for (i = 0; i < clients; i++)
		pthread_create(&t[i], NULL, client, NULL);
	for (i = 0; i < clients; i++)
		pthread_join(t[i], NULL);
	if (nlat == 0) {
		fprintf(stderr, "sockload: no successful request (%ld errors)\n",
		    errors);
		return 1;
	}
	qsort(lat_us, nlat, sizeof(*lat_us), cmp_u32);
	printf("clients=%d seconds=%d requests=%zu errors=%ld rps=%.0f "
	    "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", clients, seconds, nlat,
	    errors, (double)nlat / seconds, lat_us[nlat / 2] / 1000.0,
	    lat_us[(size_t)(nlat * 0.99)] / 1000.0, lat_us[nlat - 1] / 1000.0);
	free(lat_us);
	free(t);
	return errors > 0 ? 1 : 0;
}

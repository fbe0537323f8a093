/*
 * toolutil.c: what the benchmark clients share (toolutil.h).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "toolutil.h"

int64_t
tool_now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
tool_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 s;

	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(s);
		return -1;
	}
	return s;
}

int
tool_read_answer(int s, char *buf, size_t size)
{
	size_t	 have = 0;
	char	*end, *cl;
	ssize_t	 n;

	for (;;) {
		if (have == size - 1)
			return -1;
		if ((n = read(s, buf + have, size - 1 - have)) <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		if ((cl = strcasestr(buf, "\r\nContent-Length:")) == NULL)
			return -1;
		if ((size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10) <=
		    have)
			return atoi(buf + 9);
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct latency
tool_latency(uint32_t *lat, size_t n)
{
	struct latency	 l;

	qsort(lat, n, sizeof(*lat), cmp_u32);
	l.p50 = lat[n / 2] / 1000.0;
	l.p99 = lat[(n * 99) / 100] / 1000.0;
	l.max = lat[n - 1] / 1000.0;
	return l;
}

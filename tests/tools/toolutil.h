/*
 * toolutil.h: what the benchmark clients share: a monotonic clock, a
 * connection to the control socket, reading one HTTP answer, and the
 * latency percentiles they print.
 */
#ifndef TOOLUTIL_H
#define TOOLUTIL_H

#include <stddef.h>
#include <stdint.h>

struct latency {
	double	 p50, p99, max;		/* milliseconds */
};

int64_t	tool_now_ns(void);
/* A connected AF_UNIX stream socket, or -1. */
int	tool_connect(const char *path);
/* One answer (headers and its Content-Length body) into buf, NUL
 * terminated: its status, or -1 if it did not come whole. */
int	tool_read_answer(int s, char *buf, size_t size);
/* Sorts lat (microseconds, n > 0). */
struct latency tool_latency(uint32_t *lat, size_t n);

#endif

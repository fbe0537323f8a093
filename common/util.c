/* util.c: small helpers shared by every module (see util.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "util.h"

#ifndef HAVE_STRLCPY
size_t
strlcpy(char *dst, const char *src, size_t size)
{
	size_t	 n = strlen(src);

	if (size > 0) {
		size_t	 c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}
#endif

static void __attribute__((noreturn))
oom(void)
{
	fatalx("out of memory");
}

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n != 0 ? n : 1)) == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n != 0 ? n : 1, size != 0 ? size : 1)) == NULL)
		oom();
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	void	*q;

	if ((q = reallocarray(p, n != 0 ? n : 1, size != 0 ? size : 1)) == NULL)
		oom();
	return q;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		oom();
	return p;
}

int
xasprintf(char **out, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n == -1)
		oom();
	return n;
}

void
msgprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void
freezero(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

int
no_core_dumps(void)
{
	struct rlimit	 rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return -1;
	return 0;
}

/*
 * malloc_usable_size tells secure_free how much to clear, so the blocks
 * carry no header of ours and keep the sizes asked for: libevent's 1 KiB
 * buffers then stay within malloc's per-thread cache, which a header
 * pushed them out of.
 */
void *
secure_malloc(size_t n)
{
	return xmalloc(n);
}

void
secure_free(void *p)
{
	if (p != NULL)
		freezero(p, malloc_usable_size(p));
}

void *
secure_realloc(void *p, size_t n)
{
	void	*q;
	size_t	 old;

	if (p == NULL)
		return secure_malloc(n);
	old = malloc_usable_size(p);
	q = secure_malloc(n);
	memcpy(q, p, old < n ? old : n);
	secure_free(p);
	return q;
}

int
dir_private(const char *path, const char *what, char *msg, size_t len)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		snprintf(msg, len, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(msg, len, "%s %s is not a directory", what, path);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(msg, len, "%s %s is owned by uid %u with mode %04o: "
		    "another user could replace what certd keeps there; it "
		    "must be owned by uid %u and not writable by group or "
		    "others (chown %u %s; chmod go-w %s)", what, path,
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
		    (unsigned)geteuid(), (unsigned)geteuid(), path, path);
		return -1;
	}
	return 0;
}

void __attribute__((noinline))
stack_scrub(void)
{
	unsigned char	 buf[STACK_SCRUB];
	uintptr_t	 pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t	 lo = ((uintptr_t)buf + pg - 1) & ~(pg - 1);
	uintptr_t	 hi = ((uintptr_t)buf + sizeof(buf)) & ~(pg - 1);

	explicit_bzero(buf, sizeof(buf));
	/* The pages, zero now, go back to the kernel: an idle certd does
	 * not keep 256 KiB of stack resident for the next request.  Only
	 * buf's whole pages, which nothing else uses. */
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

char *
json_text(const json_t *j, size_t flags, size_t *lenp)
{
	json_free_t	 jfree;
	char		*s, *t;
	size_t		 n;

	if (j == NULL || (s = json_dumps(j, flags)) == NULL)
		fatalx("cannot encode JSON");
	n = strlen(s);
	t = xmalloc(n + 2);
	memcpy(t, s, n);
	t[n++] = '\n';
	t[n] = '\0';
	json_get_alloc_funcs(NULL, &jfree);
	jfree(s);
	*lenp = n;
	return t;
}

char *
bio_text(BIO *b, size_t *lenp)
{
	char	*data;
	long	 len;

	if ((len = BIO_get_mem_data(b, &data)) <= 0)
		return NULL;
	if (lenp != NULL)
		*lenp = (size_t)len;
	return xstrndup(data, (size_t)len);
}

int
read_file(const char *path, size_t max, char **bufp, size_t *lenp)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	buf = xmalloc(max + 1);
	while ((r = read(fd, buf + len, max + 1 - len)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		len += r;
		if (len > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	buf[len] = '\0';
	close(fd);
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	saved = errno;
	freezero(buf, buf != NULL ? max + 1 : 0); /* it may hold part of a key */
	close(fd);
	errno = saved;
	return -1;
}

int
write_all(int fd, const void *p, size_t len)
{
	const char	*b = p;
	ssize_t		 w;

	while (len > 0) {
		if ((w = write(fd, b, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		len -= w;
	}
	return 0;
}

int
fsync_dir(const char *path)
{
	int	 fd, r, saved;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

void
sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char	 md[32];
	unsigned int	 mdlen = sizeof(md);

	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
url_decode(const char *s, size_t len, size_t *outlen, int strict)
{
	char	*out;
	size_t	 i, o = 0;
	int	 hi, lo;

	out = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] == '%' && i + 2 < len &&
		    (hi = hexval((unsigned char)s[i + 1])) != -1 &&
		    (lo = hexval((unsigned char)s[i + 2])) != -1) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '%' && strict) {
			/* The value may be a key: wipe what was decoded. */
			freezero(out, len + 1);
			return NULL;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return out;
}

int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
days_left(time_t t, time_t now)
{
	long long	 s = (long long)t - (long long)now;

	return (int)(s >= 0 ? s / 86400 : -((-s + 86399) / 86400));
}

void
iso_time(time_t t, char out[32])
{
	struct tm	 tm;

	if (t <= 0 || gmtime_r(&t, &tm) == NULL) {
		out[0] = '\0';
		return;
	}
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * util.h: small helpers shared by every module: allocation, strings, files,
 * hex, percent-decoding, clocks.
 *
 * Out of memory is fatal everywhere, as in bgpd and tmux: the x* functions
 * never return NULL; they log and exit.  A daemon that half-handles a
 * failed malloc is worse than one that stops and is restarted.
 */
#ifndef CERTD_UTIL_H
#define CERTD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "config.h"

#ifndef HAVE_STRLCPY
size_t	strlcpy(char *, const char *, size_t);
#endif

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);			/* NULL stays NULL */
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Free after clearing: for anything that held key material. */
void	 freezero(void *, size_t);
/*
 * An allocator whose blocks are cleared when freed, for libraries that
 * copy what they are given (jansson and libevent hold request bodies, so
 * keys): json_set_alloc_funcs(secure_malloc, secure_free),
 * event_set_mem_functions(secure_malloc, secure_realloc, secure_free).
 */
void	*secure_malloc(size_t);
/* No core dump of this process, whatever the ulimit: keys pass through
 * it.  0, or -1 with errno. */
int	 no_core_dumps(void);
void	*secure_realloc(void *, size_t);
void	 secure_free(void *);
/* Is path a directory owned by us and writable by nobody else?  0, or -1
 * with a sentence in msg naming what, the path, its owner and mode. */
int	 dir_private(const char *path, const char *what, char *msg,
	    size_t len);
/*
 * Clear STACK_SCRUB bytes of the stack below the caller: what decoded a
 * key (libc, libevent, jansson, OpenSSL) leaves pieces of it in frames
 * that have returned.  After each request body and each commit.
 */
#define STACK_SCRUB	(256 * 1024)
void	 stack_scrub(void);
/* json_dumps(j, flags) with a trailing newline, in a block of ours
 * (jansson's own is freed with whatever allocator jansson was given). */
struct json_t;
char	*json_text(const struct json_t *, size_t flags, size_t *len);
/* What was written to a memory BIO, as a string (len may be NULL); NULL
 * when nothing was.  Its copy is an ordinary one: a caller holding key
 * material frees it with freezero(). */
struct bio_st;
char	*bio_text(struct bio_st *, size_t *len);

/* snprintf into a message buffer where a cut is fine (a command's long
 * output): no truncation warning, and the result is always terminated. */
void	 msgprintf(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/* Read a whole file of at most max bytes; NUL-terminated, *len excludes it.
 * Returns 0, or -1 with errno set (EFBIG when over max). */
int	read_file(const char *path, size_t max, char **buf, size_t *len);
/* write(2) until done or error. */
int	write_all(int fd, const void *, size_t);
/* fsync a directory by path. */
int	fsync_dir(const char *path);
/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void	hex_encode(const unsigned char *, size_t, char *out);
/* Lowercase hex SHA-256 of buf into out[65]. */
void	sha256_hex(const void *buf, size_t len, char out[65]);
/*
 * Percent-decoding as HTML forms encode ('+' is a space).  strict: a '%'
 * not followed by two hex digits fails (NULL); otherwise it stays as is.
 * The result is NUL-terminated; *outlen (may be NULL) excludes the NUL.
 */
char	*url_decode(const char *, size_t, size_t *outlen, int strict);
/* Milliseconds on the monotonic clock. */
int64_t	now_ms(void);
/* Whole days from now until t, rounded down (negative once past). */
int	days_left(time_t t, time_t now);
/* "2026-11-23T11:00:00Z" into out; "" for t <= 0. */
void	iso_time(time_t t, char out[32]);

#endif

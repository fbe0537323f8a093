/* util.h: small helpers shared by every module (strings, files, digests). */
#ifndef CERTD_UTIL_H
#define CERTD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

#ifndef HAVE_STRLCPY
size_t	strlcpy(char *, const char *, size_t);
#endif

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* Read a whole file of at most max bytes; NUL-terminated, *len excludes it.
 * Returns 0, or -1 with errno set (EFBIG when over max). */
int	read_file(const char *path, size_t max, char **buf, size_t *len);
/* write(2) until done or error. */
int	write_all(int fd, const void *, size_t);
/* fsync a directory by path. */
int	fsync_dir(const char *path);
/* Lowercase hex SHA-256 of buf into out[65]. */
void	sha256_hex(const void *buf, size_t len, char out[65]);
/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void	hex_encode(const unsigned char *, size_t, char *out);
/*
 * Percent-decoding as HTML forms encode ('+' is a space).  strict: a '%'
 * not followed by two hex digits fails (NULL); otherwise it stays as is.
 * The result is NUL-terminated; *outlen (may be NULL) excludes the NUL.
 */
char	*url_decode(const char *, size_t, size_t *outlen, int strict);
/* Milliseconds on the monotonic clock. */
int64_t	now_ms(void);

#endif

/*
 * jks.c: Java KeyStore files of trusted-certificate entries, written by us so
 * that no JVM starts per certificate (keytool costs ~0.3 s per import).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "jks.h"
#include "util.h"

/*
 * The format, as sun.security.provider.JavaKeyStore reads it (all integers
 * big-endian):
 *	u32 magic 0xFEEDFEED, u32 version 2, u32 count,
 *	count * { u32 tag (1 private key, 2 trusted cert), UTF alias,
 *	    u64 creation time in ms, [tag 2] UTF "X.509", u32 len, DER },
 *	20-byte SHA-1(password as UTF-16BE, "Mighty Aphrodite", all of the above).
 * UTF is DataOutputStream.writeUTF: u16 byte length, then "modified UTF-8"
 * (NUL as C0 80, characters beyond the BMP as two 3-byte surrogates).
 */
#define JKS_MAGIC	0xFEEDFEEDU
#define JKS_VERSION	2
#define JKS_TAG_KEY	1
#define JKS_TAG_TRUSTED	2
#define JKS_WHITENER	"Mighty Aphrodite"
#define JKS_DIGEST_LEN	20
#define JKS_CERT_TYPE	"X.509"

struct buf {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
	int		 failed;
};

static void
buf_add(struct buf *b, const void *data, size_t len)
{
	size_t		 ncap;

	if (b->failed)
		return;
	if (len > SIZE_MAX - b->len) {
		b->failed = 1;
		return;
	}
	if (b->len + len > b->cap) {
		ncap = b->cap != 0 ? b->cap : 4096;
		while (ncap < b->len + len) {
			if (ncap > SIZE_MAX / 2) {
				b->failed = 1;
				return;
			}
			ncap *= 2;
		}
		b->p = xreallocarray(b->p, ncap, 1);
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void
buf_u16(struct buf *b, uint16_t v)
{
	unsigned char	x[2] = { v >> 8, v & 0xff };

	buf_add(b, x, sizeof(x));
}

static void
buf_u32(struct buf *b, uint32_t v)
{
	unsigned char	x[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
			    v & 0xff };

	buf_add(b, x, sizeof(x));
}

static void
buf_u64(struct buf *b, uint64_t v)
{
	buf_u32(b, (uint32_t)(v >> 32));
	buf_u32(b, (uint32_t)(v & 0xffffffffU));
}

/*
 * Decode one UTF-8 sequence at s (n bytes left) into *cp; returns its length,
 * or 0 if malformed (overlong, surrogate, beyond U+10FFFF, truncated).
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t	 c, min;
	size_t		 len, i;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2; c &= 0x1f; min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3; c &= 0x0f; min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4; c &= 0x07; min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Append the UTF-16 code units of a UTF-8 string, as Java's chars. */
static int
utf16_units(const char *s, uint16_t **units, size_t *n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), i = 0, k, out = 0;
	uint16_t		*u;
	uint32_t		 cp;

	/* Never more units than bytes. */
	u = xcalloc(len + 1, sizeof(*u));
	while (i < len) {
		if ((k = utf8_decode(p + i, len - i, &cp)) == 0) {
			free(u);
			return -1;
		}
		i += k;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			u[out++] = 0xd800 | (cp >> 10);
			u[out++] = 0xdc00 | (cp & 0x3ff);
		} else
			u[out++] = cp;
	}
	*units = u;
	*n = out;
	return 0;
}

/* Java's writeUTF of a UTF-8 string: u16 length, modified UTF-8. */
static int
buf_java_utf(struct buf *b, const char *s)
{
	uint16_t	*u = NULL;
	size_t		 n, i, blen = 0;
	unsigned char	 x[3];
	int		 rc = -1;

	if (utf16_units(s, &u, &n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		blen += (u[i] >= 1 && u[i] < 0x80) ? 1 : (u[i] < 0x800 ? 2 : 3);
	if (blen > 0xffff)
		goto out;
	buf_u16(b, (uint16_t)blen);
	for (i = 0; i < n; i++) {
		if (u[i] >= 1 && u[i] < 0x80) {
			x[0] = u[i];
			buf_add(b, x, 1);
		} else if (u[i] < 0x800) {
			x[0] = 0xc0 | (u[i] >> 6);
			x[1] = 0x80 | (u[i] & 0x3f);
			buf_add(b, x, 2);
		} else {
			x[0] = 0xe0 | (u[i] >> 12);
			x[1] = 0x80 | ((u[i] >> 6) & 0x3f);
			x[2] = 0x80 | (u[i] & 0x3f);
			buf_add(b, x, 3);
		}
	}
	rc = 0;
out:
	free(u);
	return rc;
}

/*
 * The keyed digest: SHA-1 over the password's chars as UTF-16BE, the
 * whitener, then the body.  Not a real MAC, but what every JVM checks.
 */
static int
jks_digest(const char *password, const unsigned char *body, size_t len,
    unsigned char md[JKS_DIGEST_LEN])
{
	EVP_MD_CTX	*ctx = NULL;
	uint16_t	*u = NULL;
	unsigned char	*pw = NULL;
	size_t		 n = 0, i;
	unsigned int	 mdlen;
	int		 rc = -1;

	if (utf16_units(password, &u, &n) == -1)
		goto out;
	pw = xmalloc(2 * n + 1);
	for (i = 0; i < n; i++) {
		pw[2 * i] = u[i] >> 8;
		pw[2 * i + 1] = u[i] & 0xff;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) ||
	    !EVP_DigestUpdate(ctx, pw, 2 * n) ||
	    !EVP_DigestUpdate(ctx, JKS_WHITENER, strlen(JKS_WHITENER)) ||
	    !EVP_DigestUpdate(ctx, body, len) ||
	    !EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != JKS_DIGEST_LEN)
		goto out;
	rc = 0;
out:
	freezero(u, u != NULL ? n * sizeof(*u) : 0);
	freezero(pw, pw != NULL ? 2 * n : 0);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/*
 * Aliases must already be what Java would keep: the JKS loader lower-cases
 * them (Locale.ENGLISH) into a hash table, so "Root" and "root" would
 * silently collapse into one entry.  Refuse that instead.
 */
static int
alias_ok(const struct trust_entry *e, size_t i)
{
	const char	*a = e[i].alias;
	size_t		 j;

	if (a == NULL || *a == '\0')
		return 0;
	for (; *a != '\0'; a++)
		if (*a >= 'A' && *a <= 'Z')
			return 0;
	for (j = 0; j < i; j++)
		if (strcmp(e[j].alias, e[i].alias) == 0)
			return 0;
	return 1;
}

int
jks_write(const struct trust_entry *entries, size_t n, const char *password,
    time_t created, unsigned char **out, size_t *outlen)
{
	struct buf	 b = { NULL, 0, 0, 0 };
	unsigned char	 md[JKS_DIGEST_LEN], *der = NULL;
	uint64_t	 ms;
	size_t		 i;
	int		 derlen, rc = -1;

	*out = NULL;
	*outlen = 0;
	if (password == NULL || n > UINT32_MAX || (n > 0 && entries == NULL))
		return -1;
	ms = created > 0 ? (uint64_t)created * 1000 : 0;

	buf_u32(&b, JKS_MAGIC);
	buf_u32(&b, JKS_VERSION);
	buf_u32(&b, (uint32_t)n);
	for (i = 0; i < n; i++) {
		if (!alias_ok(entries, i) || entries[i].cert == NULL)
			goto out;
		der = NULL;
		if ((derlen = i2d_X509(entries[i].cert, &der)) <= 0)
			goto out;
		buf_u32(&b, JKS_TAG_TRUSTED);
		if (buf_java_utf(&b, entries[i].alias) == -1)
			goto out;
		buf_u64(&b, ms);
		if (buf_java_utf(&b, JKS_CERT_TYPE) == -1)
			goto out;
		buf_u32(&b, (uint32_t)derlen);
		buf_add(&b, der, (size_t)derlen);
		OPENSSL_free(der);
		der = NULL;
	}
	if (b.failed || jks_digest(password, b.p, b.len, md) == -1)
		goto out;
	buf_add(&b, md, sizeof(md));
	if (b.failed)
		goto out;
	*out = b.p;
	*outlen = b.len;
	b.p = NULL;
	rc = 0;
out:
	OPENSSL_free(der);
	free(b.p);
	return rc;
}

/* A bounds-checked reader over the file. */
struct rd {
	const unsigned char	*p;
	size_t			 len;
	size_t			 off;
};

static int
rd_take(struct rd *r, size_t n, const unsigned char **pp)
{
	if (n > r->len - r->off)
		return -1;
	*pp = r->p + r->off;
	r->off += n;
	return 0;
}

/* A big-endian unsigned integer of n bytes (Java's short and int). */
static int
rd_uint(struct rd *r, size_t n, uint32_t *v)
{
	const unsigned char	*p;
	size_t			 i;

	if (rd_take(r, n, &p) == -1)
		return -1;
	*v = 0;
	for (i = 0; i < n; i++)
		*v = (*v << 8) | p[i];
	return 0;
}

/*
 * Read a Java UTF string into a malloc'd, NUL-terminated standard UTF-8
 * string.  Modified UTF-8 is decoded to UTF-16 units first so surrogate
 * pairs become one 4-byte sequence and C0 80 (NUL) is refused: an alias
 * with a NUL cannot be a C string.
 */
static int
rd_java_utf(struct rd *r, char **s)
{
	const unsigned char	*p;
	uint32_t		 len, c, c2;
	size_t			 i = 0, o = 0;
	char			*t;

	*s = NULL;
	if (rd_uint(r, 2, &len) == -1 || rd_take(r, len, &p) == -1)
		return -1;
	/* A 3-byte unit becomes at most 3 bytes; a pair (6) becomes 4. */
	t = xmalloc((size_t)len + 1);
	while (i < len) {
		if (p[i] >= 1 && p[i] < 0x80) {
			c = p[i++];
		} else if ((p[i] & 0xe0) == 0xc0 && i + 1 < len &&
		    (p[i + 1] & 0xc0) == 0x80) {
			c = ((p[i] & 0x1fU) << 6) | (p[i + 1] & 0x3f);
			i += 2;
		} else if ((p[i] & 0xf0) == 0xe0 && i + 2 < len &&
		    (p[i + 1] & 0xc0) == 0x80 && (p[i + 2] & 0xc0) == 0x80) {
			c = ((p[i] & 0x0fU) << 12) | ((p[i + 1] & 0x3fU) << 6) |
			    (p[i + 2] & 0x3f);
			i += 3;
		} else
			goto bad;
		if (c == 0)
			goto bad;
		if (c >= 0xd800 && c <= 0xdbff) {
			/* High surrogate: a low one must follow. */
			if (!(i + 2 < len && p[i] == 0xed &&
			    (p[i + 1] & 0xf0) == 0xb0 &&
			    (p[i + 2] & 0xc0) == 0x80))
				goto bad;
			c2 = 0xd000 | ((p[i + 1] & 0x3fU) << 6) |
			    (p[i + 2] & 0x3f);
			i += 3;
			c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
		} else if (c >= 0xdc00 && c <= 0xdfff)
			goto bad;
		if (c < 0x80)
			t[o++] = c;
		else if (c < 0x800) {
			t[o++] = 0xc0 | (c >> 6);
			t[o++] = 0x80 | (c & 0x3f);
		} else if (c < 0x10000) {
			t[o++] = 0xe0 | (c >> 12);
			t[o++] = 0x80 | ((c >> 6) & 0x3f);
			t[o++] = 0x80 | (c & 0x3f);
		} else {
			t[o++] = 0xf0 | (c >> 18);
			t[o++] = 0x80 | ((c >> 12) & 0x3f);
			t[o++] = 0x80 | ((c >> 6) & 0x3f);
			t[o++] = 0x80 | (c & 0x3f);
		}
	}
	t[o] = '\0';
	*s = t;
	return 0;
bad:
	free(t);
	return -1;
}

/*
 * password NULL skips the digest check, as Java does for load(in, null);
 * only trusted-certificate entries are accepted (a private-key entry is
 * not something we ever write, so it fails the read).
 */
int
jks_read(const unsigned char *data, size_t len, const char *password,
    char ***aliases, X509 ***certs, size_t *n)
{
	struct rd		 r = { data, 0, 0 };
	const unsigned char	*p, *stored;
	unsigned char		 md[JKS_DIGEST_LEN];
	uint32_t		 magic, version, count, tag, clen, hi, lo;
	char			**al = NULL, *type = NULL;
	X509			**xs = NULL;
	size_t			 i;
	int			 rc = -1;

	*aliases = NULL;
	*certs = NULL;
	*n = 0;
	if (data == NULL || len < 12 + JKS_DIGEST_LEN)
		return -1;
	r.len = len - JKS_DIGEST_LEN;
	stored = data + r.len;

	if (rd_uint(&r, 4, &magic) == -1 || magic != JKS_MAGIC ||
	    rd_uint(&r, 4, &version) == -1 || (version != 1 && version != 2) ||
	    rd_uint(&r, 4, &count) == -1)
		return -1;
	/* The smallest entry is 4 + 2 + 8 + 4 bytes: bound the arrays. */
	if (count > (r.len - r.off) / 18)
		return -1;
	if (count > 0) {
		al = xcalloc(count, sizeof(*al));
		xs = xcalloc(count, sizeof(*xs));
	}

	for (i = 0; i < count; i++) {
		if (rd_uint(&r, 4, &tag) == -1 || tag != JKS_TAG_TRUSTED)
			goto out;
		if (rd_java_utf(&r, &al[i]) == -1)
			goto out;
		if (rd_uint(&r, 4, &hi) == -1 || rd_uint(&r, 4, &lo) == -1)
			goto out;
		if (version == 2) {
			if (rd_java_utf(&r, &type) == -1 ||
			    strcmp(type, JKS_CERT_TYPE) != 0)
				goto out;
			free(type);
			type = NULL;
		}
		if (rd_uint(&r, 4, &clen) == -1 || rd_take(&r, clen, &p) == -1)
			goto out;
		if ((xs[i] = d2i_X509(NULL, &p, clen)) == NULL ||
		    p != r.p + r.off)
			goto out;
	}
	if (r.off != r.len)
		goto out;
	if (password != NULL) {
		if (jks_digest(password, data, r.len, md) == -1 ||
		    CRYPTO_memcmp(md, stored, JKS_DIGEST_LEN) != 0)
			goto out;
	}
	*aliases = al;
	*certs = xs;
	*n = count;
	al = NULL;
	xs = NULL;
	rc = 0;
out:
	free(type);
	if (al != NULL || xs != NULL)
		jks_entries_free(al, xs, count);
	return rc;
}

void
jks_entries_free(char **aliases, X509 **certs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (aliases != NULL)
			free(aliases[i]);
		if (certs != NULL)
			X509_free(certs[i]);
	}
	free(aliases);
	free(certs);
}

/*
 * Aliases from item names: ASCII letters lowered, runs of anything outside
 * [a-z0-9._-] become one '-', separators trimmed at both ends, at most 40
 * characters before any suffix, "cert" if
 * nothing is left.  A name already taken gets "-2", "-3", ... (checked
 * against every earlier alias, so the result is always unique).
 */
void
jks_make_aliases(const char *const *names, size_t n, char (*out)[64])
{
	char		 base[48], cand[64];
	const char	*s;
	size_t		 i, j, o;
	unsigned int	 k;
	int		 c, taken;

	for (i = 0; i < n; i++) {
		o = 0;
		s = names != NULL && names[i] != NULL ? names[i] : "";
		for (; *s != '\0' && o < 40; s++) {
			c = (unsigned char)*s;
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '.' || c == '_' || c == '-'))
				c = '-';
			/* No leading separators ("../x" is "x"), no runs. */
			if (o == 0 && (c == '-' || c == '.' || c == '_'))
				continue;
			if (c == '-' && base[o - 1] == '-')
				continue;
			base[o++] = c;
		}
		while (o > 0 && (base[o - 1] == '-' || base[o - 1] == '.' ||
		    base[o - 1] == '_'))
			o--;
		base[o] = '\0';
		if (o == 0)
			strlcpy(base, "cert", sizeof(base));

		strlcpy(cand, base, sizeof(cand));
		for (k = 2;; k++) {
			taken = 0;
			for (j = 0; j < i; j++)
				if (strcmp(out[j], cand) == 0)
					taken = 1;
			if (!taken)
				break;
			snprintf(cand, sizeof(cand), "%s-%u", base, k);
		}
		strlcpy(out[i], cand, 64);
	}
}

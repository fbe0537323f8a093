/*
 * jsonw.c: a JSON writer straight into one buffer (see jsonw.h).  Output
 * is always valid JSON: bytes that are not UTF-8 become U+FFFD, as no
 * reader can be trusted to cope with them.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "log.h"
#include "util.h"

void
jsonw_init(struct jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

static void
reserve(struct jsonw *w, size_t n)
{
	size_t	 size;

	if (w->size - w->len >= n)
		return;
	size = w->size != 0 ? w->size : 4096;
	while (size - w->len < n)
		size *= 2;
	/* Plain realloc: the answers built here hold no key material. */
	if ((w->buf = realloc(w->buf, size)) == NULL)
		fatalx("out of memory");
	w->size = size;
}

static void
put(struct jsonw *w, const char *s, size_t n)
{
	reserve(w, n);
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t	 len, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF. */
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return len;
}

static void
put_quoted(struct jsonw *w, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n = strlen(str), run, k;
	char			 esc[8];

	put(w, "\"", 1);
	while (n > 0) {
		/* The common case: a run of printable ASCII, copied whole. */
		for (run = 0; run < n && s[run] >= 0x20 && s[run] < 0x80 &&
		    s[run] != '"' && s[run] != '\\'; run++)
			;
		put(w, (const char *)s, run);
		s += run;
		n -= run;
		if (n == 0)
			break;
		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = *s;
			put(w, esc, 2);
			k = 1;
		} else if (*s < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *s);
			put(w, esc, 6);
			k = 1;
		} else if ((k = utf8_len(s, n)) != 0)
			put(w, (const char *)s, k);
		else {
			put(w, "\xef\xbf\xbd", 3);
			k = 1;
		}
		s += k;
		n -= k;
	}
	put(w, "\"", 1);
}

/* The comma before a value and its key, if any. */
static void
member(struct jsonw *w, const char *key)
{
	if (w->more[w->depth])
		put(w, ",", 1);
	w->more[w->depth] = 1;
	if (key != NULL) {
		put_quoted(w, key);
		put(w, ":", 1);
	}
}

static void
open_(struct jsonw *w, const char *key, char c)
{
	member(w, key);
	put(w, &c, 1);
	if (++w->depth >= JSONW_DEPTH)
		fatalx("JSON nested too deep");
	w->more[w->depth] = 0;
	w->close[w->depth] = c == '{' ? '}' : ']';
}

void
jsonw_object(struct jsonw *w, const char *key)
{
	open_(w, key, '{');
}

int
jsonw_object_or_null(struct jsonw *w, const char *key, int present)
{
	if (present)
		jsonw_object(w, key);
	else
		jsonw_null(w, key);
	return present;
}

void
jsonw_array(struct jsonw *w, const char *key)
{
	open_(w, key, '[');
}

void
jsonw_close(struct jsonw *w)
{
	if (w->depth == 0)
		fatalx("JSON closed more than opened");
	put(w, &w->close[w->depth], 1);
	w->depth--;
}

/* text: JSON already written, e.g. by another jsonw. */
void
jsonw_raw(struct jsonw *w, const char *key, const char *text, size_t len)
{
	member(w, key);
	put(w, text, len);
}

void
jsonw_string(struct jsonw *w, const char *key, const char *s)
{
	member(w, key);
	put_quoted(w, s != NULL ? s : "");
}

void
jsonw_int(struct jsonw *w, const char *key, int64_t v)
{
	char	 num[32];
	int	 n;

	member(w, key);
	n = snprintf(num, sizeof(num), "%" PRId64, v);
	put(w, num, n);
}

void
jsonw_bool(struct jsonw *w, const char *key, int v)
{
	member(w, key);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void
jsonw_null(struct jsonw *w, const char *key)
{
	member(w, key);
	put(w, "null", 4);
}

void
jsonw_time(struct jsonw *w, const char *key, time_t t)
{
	char	 buf[32];

	iso_time(t, buf);
	if (buf[0] != '\0')
		jsonw_string(w, key, buf);
	else
		jsonw_null(w, key);
}

char *
jsonw_finish(struct jsonw *w, size_t *len)
{
	char	*buf;

	if (w->depth != 0)
		fatalx("JSON left open");
	/* A trailing newline, as json_text gives, keeps curl output
	 * readable. */
	put(w, "\n", 1);
	buf = w->buf;
	*len = w->len;
	jsonw_init(w);
	return buf;
}

void
jsonw_free(struct jsonw *w)
{
	free(w->buf);
	jsonw_init(w);
}

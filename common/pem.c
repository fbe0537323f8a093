/*
 * pem.c: the armour of uploaded items in every encoding certd accepts,
 * decoded strictly (no silent repairs that change bits); certificates in,
 * certificates out.  Keys are key.c's: it reads their armour with pem_read.
 *
 * Text rules: a UTF-8 BOM and surrounding whitespace are dropped, CRLF is a
 * line break, explanatory text before a BEGIN line is ignored (RFC 7468 §2,
 * and `openssl pkcs12` writes "Bag Attributes" there), anything but
 * whitespace after the last END line is rejected as trailing garbage.  A
 * value without line breaks that holds %XX escapes is percent-decoded first.
 *
 * The base64 body is never handed to OpenSSL's PEM reader: that one skips
 * whitespace, so a '+' that form decoding turned into ' ' silently shifts the
 * bits.  We decode it ourselves, trying in turn: every space is a '+'; line
 * ends trimmed and inner spaces are '+'; all whitespace dropped.  A variant
 * is taken only if its bytes are exactly one DER object of the length its
 * own header announces, which a shifted or padded body never is.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pem.h"
#include "util.h"

/* The messages' words and error code follow from what is read. */
void
pem_input_init(struct pem_input *in, int is_key, const char *name, int seq,
    struct cert_error *err)
{
	memset(in, 0, sizeof(*in));
	in->is_key = is_key;
	in->what = is_key ? "private key" : "certificate";
	in->bad = is_key ? E_KEY_ENCODING : E_ENCODING;
	in->name = name;
	in->seq = seq;
	in->err = err;
}

void
pem_input_clear(struct pem_input *in)
{
	size_t	 i;

	freezero(in->der, in->derlen);
	for (i = 0; i < in->nblocks; i++)
		freezero(in->blocks[i].der, in->blocks[i].len);
	free(in->blocks);
	in->der = NULL;
	in->blocks = NULL;
	in->nblocks = 0;
}

/* The length of the DER object at der, 0 if malformed or indefinite-length. */
size_t
pem_der_len(const unsigned char *der, size_t len)
{
	const unsigned char	*p = der;
	long			 clen;
	int			 tag, xclass, r;

	if (len == 0 || len > 0x7fffffff)
		return 0;
	r = ASN1_get_object(&p, &clen, &tag, &xclass, (long)len);
	if ((r & 0x80) || (r & 0x21) == 0x21)
		return 0;
	if ((size_t)(p - der) + (size_t)clen > len)
		return 0;
	return (size_t)(p - der) + (size_t)clen;
}

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict base64 of s (no whitespace): length a multiple of 4, '=' only as
 * final padding.  Returns 0, -1 bad character at *bad, -2 bad length or
 * padding.
 */
static int
b64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen,
    size_t *bad)
{
	unsigned char	*o;
	size_t		 i, j = 0, pad = 0;
	unsigned int	 acc = 0;
	int		 v;

	*out = NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '=') {
			if (i + 2 < n || (i + 1 < n && s[i + 1] != '='))
				return -2;
			pad++;
		} else if (b64_value((unsigned char)s[i]) == -1) {
			*bad = i;
			return -1;
		}
	}
	if (n == 0 || n % 4 != 0 || pad > 2)
		return -2;
	o = xmalloc(n / 4 * 3);
	for (i = 0; i < n; i++) {
		v = s[i] == '=' ? 0 : b64_value((unsigned char)s[i]);
		acc = (acc << 6) | (unsigned int)v;
		if (i % 4 == 3) {
			o[j++] = (acc >> 16) & 0xff;
			o[j++] = (acc >> 8) & 0xff;
			o[j++] = acc & 0xff;
			acc = 0;
		}
	}
	/* Padding decodes to zero bytes; clear them all the same. */
	OPENSSL_cleanse(o + j - pad, pad);
	*out = o;
	*outlen = j - pad;
	return 0;
}

static int
line_of(const char *text, const char *p)
{
	int	 line = 1;

	for (; text < p; text++)
		if (*text == '\n')
			line++;
	return line;
}

/*
 * Decode a PEM body (between the BEGIN line and the END marker, headers
 * removed) into one DER object.
 */
static int
pem_body(struct pem_input *in, const char *text, const char *body,
    size_t n, int blockno, struct pem_block *b)
{
	char		*s;
	const char	*line, *eol, *lend, *first_bad = NULL;
	size_t		 k, bad, dlen;
	unsigned char	*der;
	int		 variant, r, lastr = -2, ret = -1;

	s = xmalloc(n + 1);
	for (variant = 0; variant < 3; variant++) {
		k = 0;
		for (line = body; line < body + n; line = eol + 1) {
			if ((eol = memchr(line, '\n', body + n - line)) == NULL)
				eol = body + n;
			lend = eol;
			if (lend > line && lend[-1] == '\r')
				lend--;
			if (variant == 1) {
				while (line < lend && (*line == ' ' ||
				    *line == '\t'))
					line++;
				while (lend > line && (lend[-1] == ' ' ||
				    lend[-1] == '\t'))
					lend--;
			}
			for (; line < lend; line++) {
				if (*line == ' ' && variant < 2)
					s[k++] = '+';
				else if ((*line == ' ' || *line == '\t' ||
				    *line == '\r') && variant == 2)
					continue;
				else
					s[k++] = *line;
			}
			if (eol == body + n)
				break;
		}
		r = b64_decode(s, k, &der, &dlen, &bad);
		if (r == -1 && variant == 2) {
			/* Find the offending character in the original text. */
			for (line = body; line < body + n; line++)
				if (!isspace((unsigned char)*line) &&
				    *line != '=' &&
				    b64_value((unsigned char)*line) == -1) {
					first_bad = line;
					break;
				}
		}
		if (r == 0 && pem_der_len(der, dlen) == dlen) {
			b->der = der;
			b->len = dlen;
			ret = 0;
			goto out;
		}
		if (r == 0)
			freezero(der, dlen);
		if (variant == 2)
			lastr = r;
	}
	if (n == 0 || k == 0)
		cert_error_set(in->err, in->bad, in->name, in->seq,
		    "PEM block %d (%s) is empty", blockno, b->label);
	else if (lastr == -1 && first_bad != NULL && !in->is_key)
		cert_error_set(in->err, in->bad, in->name, in->seq,
		    "PEM block %d (%s): invalid base64 character '%c' "
		    "on line %d", blockno, b->label,
		    isprint((unsigned char)*first_bad) ? *first_bad : '?',
		    line_of(text, first_bad));
	else if (lastr == -1 && first_bad != NULL)
		cert_error_set(in->err, in->bad, in->name, in->seq,
		    "PEM block %d (%s): invalid base64 character on line %d",
		    blockno, b->label, line_of(text, first_bad));
	else if (lastr == -2)
		cert_error_set(in->err, in->bad, in->name, in->seq,
		    "PEM block %d (%s): the base64 is truncated or badly "
		    "padded", blockno, b->label);
	else
		cert_error_set(in->err, in->bad, in->name, in->seq,
		    "PEM block %d (%s): the decoded data is truncated or "
		    "corrupt (its DER length does not match)", blockno,
		    b->label);
out:
	OPENSSL_cleanse(s, n + 1);
	free(s);
	return ret;
}

static int
label_ok(const char *l, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!isupper((unsigned char)l[i]) &&
		    !isdigit((unsigned char)l[i]) && l[i] != ' ' &&
		    l[i] != '-' && l[i] != '#')
			return 0;
	return 1;
}

/* Split NUL-terminated text into PEM blocks. */
static int
pem_split(struct pem_input *in, const char *text)
{
	const char		*p = text, *begin, *label, *lend, *body, *end;
	const char		*next, *hdr, *eol;
	struct pem_block	*b;
	char			 endmark[PEM_LABEL_MAX + 16];
	size_t			 llen;
	int			 blockno;

	for (;;) {
		if ((begin = strstr(p, "-----BEGIN ")) == NULL)
			break;
		blockno = (int)in->nblocks + 1;
		label = begin + 11;
		if ((lend = strstr(label, "-----")) == NULL ||
		    (llen = (size_t)(lend - label)) == 0 || llen >= PEM_LABEL_MAX ||
		    !label_ok(label, llen))
			return cert_error_set(in->err, in->bad, in->name,
			    in->seq, "malformed BEGIN line on line %d",
			    line_of(text, begin));
		if (in->nblocks >= 4 * CHAIN_MAX)
			return cert_error_set(in->err, E_TOO_LARGE, in->name,
			    in->seq, "too many PEM blocks");
		in->blocks = xreallocarray(in->blocks, in->nblocks + 1,
		    sizeof(*in->blocks));
		b = &in->blocks[in->nblocks++];
		memset(b, 0, sizeof(*b));
		memcpy(b->label, label, llen);
		b->label[llen] = '\0';
		b->line = line_of(text, begin);
		body = lend + 5;

		/* The next marker must be this block's END line. */
		snprintf(endmark, sizeof(endmark), "-----END %s-----", b->label);
		next = strstr(body, "-----");
		if (next == NULL || strncmp(next, "-----END ", 9) != 0)
			return cert_error_set(in->err, in->bad, in->name,
			    in->seq, "PEM block %d (%s) is truncated: no "
			    "\"%s\" line", blockno, b->label, endmark);
		if (strncmp(next, endmark, strlen(endmark)) != 0)
			return cert_error_set(in->err, in->bad, in->name,
			    in->seq, "PEM block %d: BEGIN %s ends with a "
			    "different END line on line %d", blockno, b->label,
			    line_of(text, next));
		end = next;

		/* RFC 1421 headers: "Name: value" lines, then a blank line. */
		while (body < end && (*body == '\r' || *body == '\n'))
			body++;
		eol = memchr(body, '\n', end - body);
		if (eol != NULL && memchr(body, ':', eol - body) != NULL) {
			b->headers = 1;
			for (hdr = body; hdr < end; hdr = eol + 1) {
				if ((eol = memchr(hdr, '\n', end - hdr)) == NULL)
					eol = end;
				if (strncmp(hdr, "Proc-Type:", 10) == 0 &&
				    memmem(hdr, eol - hdr, "ENCRYPTED", 9) != NULL)
					b->encrypted = 1;
				if (eol == hdr || (eol == hdr + 1 && *hdr == '\r'))
					break;
				if (eol == end)
					break;
			}
			body = eol < end ? eol + 1 : end;
		}
		if (b->encrypted) {
			b->der = NULL;
			b->len = 0;
		} else if (pem_body(in, text, body, (size_t)(end - body),
		    blockno, b) == -1)
			return -1;
		p = end + strlen(endmark);
	}
	if (in->nblocks == 0)
		return cert_error_set(in->err, in->bad, in->name, in->seq,
		    "not PEM or DER: no \"-----BEGIN\" line and not a DER "
		    "%s", in->what);
	for (; *p != '\0'; p++)
		if (!isspace((unsigned char)*p))
			return cert_error_set(in->err, in->bad, in->name,
			    in->seq, "trailing garbage after the last END "
			    "line (line %d)", line_of(text, p));
	return 0;
}

static int
has_escape(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i + 2 < len; i++)
		if (s[i] == '%' && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2]))
			return 1;
	return 0;
}

/*
 * Turn the upload into raw DER or PEM blocks, whatever its encoding.
 */
int
pem_read(struct pem_input *in, const char *buf, size_t len)
{
	char		*text = NULL, *dec = NULL;
	const char	*s = buf;
	size_t		 n = len, declen = 0;
	int		 ret = -1;

	if (len > PEM_ITEM_MAX)
		return cert_error_set(in->err, E_TOO_LARGE, in->name, in->seq,
		    "the %s is %zu bytes; at most %d are accepted", in->what,
		    len, PEM_ITEM_MAX);
	/* DER starts with a SEQUENCE tag; no text does. */
	if (len > 0 && (unsigned char)buf[0] == 0x30) {
		in->der = xmalloc(len);
		memcpy(in->der, buf, len);
		in->derlen = len;
		return 0;
	}
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		n -= 3;
	}
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return cert_error_set(in->err, in->bad, in->name, in->seq,
		    "the %s is empty", in->what);
	if (memchr(s, '\n', n) == NULL && has_escape(s, n)) {
		if ((dec = url_decode(s, n, &declen, 1)) == NULL)
			return cert_error_set(in->err, in->bad, in->name,
			    in->seq, "bad percent-encoding");
		s = dec;
		n = declen;
		while (n > 0 && isspace((unsigned char)*s)) {
			s++;
			n--;
		}
		while (n > 0 && isspace((unsigned char)s[n - 1]))
			n--;
	}
	if (memchr(s, '\0', n) != NULL) {
		cert_error_set(in->err, in->bad, in->name, in->seq,
		    "not PEM or DER: binary data that is not a DER %s",
		    in->what);
		goto out;
	}
	text = xmalloc(n + 1);
	memcpy(text, s, n);
	text[n] = '\0';
	ret = pem_split(in, text);
out:
	if (text != NULL)
		freezero(text, n + 1);
	if (dec != NULL)
		freezero(dec, declen + 1);
	return ret;
}

static int
is_cert_label(const char *l)
{
	return strcmp(l, "CERTIFICATE") == 0 ||
	    strcmp(l, "X509 CERTIFICATE") == 0 ||
	    strcmp(l, "TRUSTED CERTIFICATE") == 0;
}

int
pem_is_key_label(const char *l)
{
	return strcmp(l, "PRIVATE KEY") == 0 ||
	    strcmp(l, "RSA PRIVATE KEY") == 0 ||
	    strcmp(l, "EC PRIVATE KEY") == 0 ||
	    strcmp(l, "ENCRYPTED PRIVATE KEY") == 0;
}

/* One certificate from exactly len bytes of DER. */
static X509 *
der_cert(const unsigned char *der, size_t len, int aux)
{
	const unsigned char	*p = der;
	X509			*x;

	x = aux ? d2i_X509_AUX(NULL, &p, (long)len) :
	    d2i_X509(NULL, &p, (long)len);
	if (x != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	ERR_clear_error();
	return x;
}

/* Append x to sk (which takes it), or free it: at most CHAIN_MAX. */
static int
push_cert(STACK_OF(X509) *sk, X509 *x, const char *name, int seq,
    struct cert_error *err)
{
	if (sk_X509_num(sk) >= CHAIN_MAX || !sk_X509_push(sk, x)) {
		X509_free(x);
		return cert_error_set(err, E_TOO_LARGE, name, seq,
		    "more than %d certificates", CHAIN_MAX);
	}
	return 0;
}

int
pem_decode_certs(const char *buf, size_t len, const char *name, int seq,
    STACK_OF(X509) **out, struct cert_error *err)
{
	struct pem_input	 in;
	STACK_OF(X509)		*sk = NULL;
	X509			*x;
	size_t			 i, off, olen;
	int			 ret = -1;

	*out = NULL;
	pem_input_init(&in, 0, name, seq, err);
	if (pem_read(&in, buf, len) == -1)
		goto out;
	if ((sk = sk_X509_new_null()) == NULL) {
		cert_error_set(err, E_INTERNAL, name, seq, "sk_X509_new failed");
		goto out;
	}
	if (in.der != NULL) {
		/* DER: one or more certificates back to back. */
		for (off = 0; off < in.derlen; off += olen) {
			olen = pem_der_len(in.der + off, in.derlen - off);
			if (olen == 0 || (x = der_cert(in.der + off, olen,
			    0)) == NULL) {
				cert_error_set(err, E_ENCODING, name, seq,
				    off == 0 ? "not a valid DER certificate "
				    "(truncated or corrupt)" :
				    "trailing garbage after DER certificate "
				    "%d", sk_X509_num(sk));
				goto out;
			}
			if (push_cert(sk, x, name, seq, err) == -1)
				goto out;
		}
	} else {
		for (i = 0; i < in.nblocks; i++) {
			if (!is_cert_label(in.blocks[i].label)) {
				cert_error_set(err, E_ENCODING, name, seq,
				    "PEM block %zu is \"%s\", expected "
				    "\"CERTIFICATE\"%s", i + 1,
				    in.blocks[i].label,
				    pem_is_key_label(in.blocks[i].label) ?
				    " (a private key goes in the key field)" :
				    "");
				goto out;
			}
			if (in.blocks[i].headers || in.blocks[i].encrypted) {
				cert_error_set(err, E_ENCODING, name, seq,
				    "PEM block %zu (%s) has headers; a "
				    "certificate has none", i + 1,
				    in.blocks[i].label);
				goto out;
			}
			if ((x = der_cert(in.blocks[i].der, in.blocks[i].len,
			    strcmp(in.blocks[i].label,
			    "TRUSTED CERTIFICATE") == 0)) == NULL) {
				cert_error_set(err, E_ENCODING, name, seq,
				    "PEM block %zu (line %d) is not a valid "
				    "X.509 certificate", i + 1,
				    in.blocks[i].line);
				goto out;
			}
			if (push_cert(sk, x, name, seq, err) == -1)
				goto out;
		}
	}
	*out = sk;
	sk = NULL;
	ret = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	pem_input_clear(&in);
	return ret;
}

int
pem_decode_cert(const char *buf, size_t len, const char *name, int seq,
    X509 **out, struct cert_error *err)
{
	STACK_OF(X509)	*sk;

	*out = NULL;
	if (pem_decode_certs(buf, len, name, seq, &sk, err) == -1)
		return -1;
	if (sk_X509_num(sk) != 1) {
		cert_error_set(err, E_ENCODING, name, seq,
		    "expected one certificate, found %d", sk_X509_num(sk));
		sk_X509_pop_free(sk, X509_free);
		return -1;
	}
	*out = sk_X509_shift(sk);
	sk_X509_free(sk);
	return 0;
}

char *
pem_encode_cert(X509 *x, size_t *len)
{
	BIO	*b;
	char	*out = NULL;

	if ((b = BIO_new(BIO_s_mem())) != NULL && PEM_write_bio_X509(b, x))
		out = bio_text(b, len);
	BIO_free(b);
	return out;
}

/*
 * pem.c: decoding of uploaded certificates and keys in every encoding SPEC §4
 * accepts, strictly (no silent repairs that change bits), and PEM output.
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

#define LABEL_MAX	64

struct pem_block {
	char		 label[LABEL_MAX];
	unsigned char	*der;
	size_t		 len;
	int		 encrypted;	/* Proc-Type: 4,ENCRYPTED */
	int		 headers;	/* RFC 1421 headers present */
	int		 line;		/* of its BEGIN line */
};

struct pem_input {
	int			 is_key;
	const char		*what;	/* "certificate", "private key" */
	enum cert_code		 bad;	/* E_ENCODING or E_KEY_ENCODING */
	const char		*name;
	int			 seq;
	struct cert_error	*err;
	/* Output: either raw DER or PEM blocks. */
	unsigned char		*der;
	size_t			 derlen;
	struct pem_block	*blocks;
	size_t			 nblocks;
};

static const char key_encrypted_msg[] =
    "the private key is protected by a passphrase; certd needs it "
    "unencrypted because services start unattended. Remove the passphrase "
    "with: openssl pkey -in key.pem -out key-nopass.pem";

static void
cleanse_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

static void
pem_input_clear(struct pem_input *in)
{
	size_t	 i;

	cleanse_free(in->der, in->derlen);
	for (i = 0; i < in->nblocks; i++)
		cleanse_free(in->blocks[i].der, in->blocks[i].len);
	free(in->blocks);
	in->der = NULL;
	in->blocks = NULL;
	in->nblocks = 0;
}

/* The length of the DER object at der, 0 if malformed or indefinite-length. */
static size_t
der_object_len(const unsigned char *der, size_t len)
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
	if ((o = malloc(n / 4 * 3)) == NULL)
		return -2;
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

	if ((s = malloc(n + 1)) == NULL)
		return cert_error_set(in->err, E_INTERNAL, in->name, in->seq,
		    "out of memory");
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
		if (r == 0 && der_object_len(der, dlen) == dlen) {
			b->der = der;
			b->len = dlen;
			ret = 0;
			goto out;
		}
		if (r == 0)
			cleanse_free(der, dlen);
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
	struct pem_block	*b, *nb;
	char			 endmark[LABEL_MAX + 16];
	size_t			 llen;
	int			 blockno;

	for (;;) {
		if ((begin = strstr(p, "-----BEGIN ")) == NULL)
			break;
		blockno = (int)in->nblocks + 1;
		label = begin + 11;
		if ((lend = strstr(label, "-----")) == NULL ||
		    (llen = (size_t)(lend - label)) == 0 || llen >= LABEL_MAX ||
		    !label_ok(label, llen))
			return cert_error_set(in->err, in->bad, in->name,
			    in->seq, "malformed BEGIN line on line %d",
			    line_of(text, begin));
		if (in->nblocks >= 4 * CHAIN_MAX)
			return cert_error_set(in->err, E_TOO_LARGE, in->name,
			    in->seq, "too many PEM blocks");
		nb = reallocarray(in->blocks, in->nblocks + 1, sizeof(*nb));
		if (nb == NULL)
			return cert_error_set(in->err, E_INTERNAL, in->name,
			    in->seq, "out of memory");
		in->blocks = nb;
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
static int
pem_input_decode(struct pem_input *in, const char *buf, size_t len)
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
		if ((in->der = malloc(len)) == NULL)
			return cert_error_set(in->err, E_INTERNAL, in->name,
			    in->seq, "out of memory");
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
		if ((dec = pem_url_decode(s, n, &declen)) == NULL)
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
	if ((text = malloc(n + 1)) == NULL) {
		cert_error_set(in->err, E_INTERNAL, in->name, in->seq,
		    "out of memory");
		goto out;
	}
	memcpy(text, s, n);
	text[n] = '\0';
	ret = pem_split(in, text);
out:
	if (text != NULL)
		cleanse_free(text, n + 1);
	if (dec != NULL)
		cleanse_free(dec, declen + 1);
	return ret;
}

static int
is_cert_label(const char *l)
{
	return strcmp(l, "CERTIFICATE") == 0 ||
	    strcmp(l, "X509 CERTIFICATE") == 0 ||
	    strcmp(l, "TRUSTED CERTIFICATE") == 0;
}

static int
is_key_label(const char *l)
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
	memset(&in, 0, sizeof(in));
	in.what = "certificate";
	in.bad = E_ENCODING;
	in.name = name;
	in.seq = seq;
	in.err = err;
	if (pem_input_decode(&in, buf, len) == -1)
		goto out;
	if ((sk = sk_X509_new_null()) == NULL) {
		cert_error_set(err, E_INTERNAL, name, seq, "out of memory");
		goto out;
	}
	if (in.der != NULL) {
		/* DER: one or more certificates back to back. */
		for (off = 0; off < in.derlen; off += olen) {
			olen = der_object_len(in.der + off, in.derlen - off);
			if (olen == 0 || (x = der_cert(in.der + off, olen,
			    0)) == NULL) {
				cert_error_set(err, E_ENCODING, name, seq,
				    off == 0 ? "not a valid DER certificate "
				    "(truncated or corrupt)" :
				    "trailing garbage after DER certificate "
				    "%d", sk_X509_num(sk));
				goto out;
			}
			if (sk_X509_num(sk) >= CHAIN_MAX || !sk_X509_push(sk,
			    x)) {
				X509_free(x);
				cert_error_set(err, E_TOO_LARGE, name, seq,
				    "more than %d certificates", CHAIN_MAX);
				goto out;
			}
		}
	} else {
		for (i = 0; i < in.nblocks; i++) {
			if (!is_cert_label(in.blocks[i].label)) {
				cert_error_set(err, E_ENCODING, name, seq,
				    "PEM block %zu is \"%s\", expected "
				    "\"CERTIFICATE\"%s", i + 1,
				    in.blocks[i].label,
				    is_key_label(in.blocks[i].label) ?
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
			if (sk_X509_num(sk) >= CHAIN_MAX || !sk_X509_push(sk,
			    x)) {
				X509_free(x);
				cert_error_set(err, E_TOO_LARGE, name, seq,
				    "more than %d certificates", CHAIN_MAX);
				goto out;
			}
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

/* A private key from exactly len bytes of DER (PKCS#8, PKCS#1 or SEC1). */
static EVP_PKEY *
der_key(const unsigned char *der, size_t len, int *encrypted)
{
	static const int	 types[] = { EVP_PKEY_RSA, EVP_PKEY_EC };
	const unsigned char	*p;
	PKCS8_PRIV_KEY_INFO	*p8;
	X509_SIG		*sig;
	EVP_PKEY		*k = NULL;
	size_t			 i;

	*encrypted = 0;
	p = der;
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len)) != NULL) {
		if (p == der + len)
			k = EVP_PKCS82PKEY(p8);
		PKCS8_PRIV_KEY_INFO_free(p8);
		goto out;
	}
	p = der;
	if ((sig = d2i_X509_SIG(NULL, &p, (long)len)) != NULL) {
		*encrypted = p == der + len;
		X509_SIG_free(sig);
		goto out;
	}
	for (i = 0; i < nitems(types) && k == NULL; i++) {
		p = der;
		k = d2i_PrivateKey(types[i], NULL, &p, (long)len);
		if (k != NULL && p != der + len) {
			EVP_PKEY_free(k);
			k = NULL;
		}
	}
out:
	ERR_clear_error();
	return k;
}

int
pem_decode_key(const char *buf, size_t len, const char *name, int seq,
    EVP_PKEY **out, struct cert_error *err)
{
	struct pem_input	 in;
	struct pem_block	*b = NULL;
	EVP_PKEY		*k = NULL;
	size_t			 i;
	int			 encrypted = 0, ret = -1;

	*out = NULL;
	memset(&in, 0, sizeof(in));
	in.is_key = 1;
	in.what = "private key";
	in.bad = E_KEY_ENCODING;
	in.name = name;
	in.seq = seq;
	in.err = err;
	if (pem_input_decode(&in, buf, len) == -1)
		goto out;
	if (in.der != NULL) {
		if (der_object_len(in.der, in.derlen) != in.derlen) {
			cert_error_set(err, E_KEY_ENCODING, name, seq,
			    "not a valid DER private key (truncated, corrupt "
			    "or trailing data)");
			goto out;
		}
		k = der_key(in.der, in.derlen, &encrypted);
	} else {
		for (i = 0; i < in.nblocks; i++) {
			/* `openssl ecparam -genkey` writes the curve first. */
			if (strcmp(in.blocks[i].label, "EC PARAMETERS") == 0)
				continue;
			if (!is_key_label(in.blocks[i].label)) {
				cert_error_set(err, E_KEY_ENCODING, name, seq,
				    "PEM block %zu is \"%s\", expected a "
				    "private key (\"PRIVATE KEY\", \"RSA "
				    "PRIVATE KEY\" or \"EC PRIVATE KEY\")",
				    i + 1, in.blocks[i].label);
				goto out;
			}
			if (b != NULL) {
				cert_error_set(err, E_KEY_ENCODING, name, seq,
				    "more than one private key");
				goto out;
			}
			b = &in.blocks[i];
		}
		if (b == NULL) {
			cert_error_set(err, E_KEY_ENCODING, name, seq,
			    "no private key found");
			goto out;
		}
		if (b->encrypted || strcmp(b->label,
		    "ENCRYPTED PRIVATE KEY") == 0)
			encrypted = 1;
		else
			k = der_key(b->der, b->len, &encrypted);
	}
	if (encrypted) {
		cert_error_set(err, E_KEY_ENCRYPTED, name, seq, "%s",
		    key_encrypted_msg);
		goto out;
	}
	if (k == NULL) {
		cert_error_set(err, E_KEY_ENCODING, name, seq,
		    "unreadable private key: not PKCS#8, PKCS#1 (RSA) or "
		    "SEC1 (EC)");
		goto out;
	}
	*out = k;
	k = NULL;
	ret = 0;
out:
	EVP_PKEY_free(k);
	pem_input_clear(&in);
	return ret;
}

static char *
bio_copy(BIO *b, size_t *lenp)
{
	char	*data, *out;
	long	 len;

	len = BIO_get_mem_data(b, &data);
	if (len < 0 || (out = malloc((size_t)len + 1)) == NULL)
		return NULL;
	memcpy(out, data, (size_t)len);
	out[len] = '\0';
	if (lenp != NULL)
		*lenp = (size_t)len;
	return out;
}

char *
pem_encode_cert(X509 *x, size_t *len)
{
	BIO	*b;
	char	*out = NULL;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (PEM_write_bio_X509(b, x))
		out = bio_copy(b, len);
	BIO_free(b);
	return out;
}

char *
pem_encode_key(EVP_PKEY *k, size_t *len)
{
	BIO	*b;
	char	*out = NULL;

	/* A secure-memory BIO is cleansed when freed. */
	if ((b = BIO_new(BIO_s_secmem())) == NULL)
		return NULL;
	if (PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
		out = bio_copy(b, len);
	BIO_free(b);
	return out;
}

unsigned char *
pem_cert_der(X509 *x, size_t *len)
{
	unsigned char	*der, *p;
	int		 n;

	if ((n = i2d_X509(x, NULL)) <= 0 || (der = malloc((size_t)n)) == NULL)
		return NULL;
	p = der;
	if (i2d_X509(x, &p) != n) {
		free(der);
		return NULL;
	}
	*len = (size_t)n;
	return der;
}

char *
pem_url_decode(const char *s, size_t len, size_t *outlen)
{
	return url_decode(s, len, outlen, 1);
}

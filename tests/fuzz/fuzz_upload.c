/*
 * fuzz_upload.c: the body of an upload (POST /v1/certificates), JSON or
 * application/x-www-form-urlencoded, through api_body_is_form and
 * api_upload_parse.  Input: one byte choosing the Content-Type, then the
 * body.  What is accepted must be what was sent: a valid, folded domain,
 * a valid name and seq, and each field exactly as the client sent it (a
 * field with a NUL inside cannot pass for a shorter one).
 * Corpus: corpus/upload/.
 */
#include "config.h"

#include <string.h>

#include "api.h"
#include "fuzz.h"
#include "names.h"

static const char *const ctypes[] = {
	NULL, "application/x-www-form-urlencoded", "application/json",
	"text/plain",
};

/* A form field as the form holds it: NUL-free, its decoded length. */
static void
same_as_sent(const char *body, size_t len, const char *field, const char *v)
{
	char	*raw;
	size_t	 n;

	if ((raw = api_form_get(body, len, field, &n)) == NULL)
		return;
	FUZZ_CHECK(v != NULL && n == strlen(v) && memcmp(raw, v, n) == 0,
	    "an accepted field is not the one sent");
	free(raw);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct upload_fields	 f;
	struct upload		 u;
	struct cert_error	 err;
	const char		*ct;
	char			*body, domain[DOMAIN_MAX + 1];
	size_t			 blen;
	int			 form;

	if (len < 1)
		return 0;
	ct = ctypes[data[0] % 4];
	/* control.c hands over a NUL-terminated copy of the body. */
	blen = len - 1;
	body = malloc(blen + 1);
	memcpy(body, data + 1, blen);
	body[blen] = '\0';

	form = api_body_is_form(ct, body);
	if (ct != NULL && data[0] % 4 != 3)
		FUZZ_CHECK(form == (data[0] % 4 == 1), "Content-Type ignored");
	memset(&err, 0, sizeof(err));
	if (api_upload_parse(body, blen, form, &f, &u, domain, &err) == -1) {
		FUZZ_CHECK(err.code == E_BAD_REQUEST, "error code");
		FUZZ_CHECK(err.message[0] != '\0' && err.name[0] == '\0',
		    "error message");
		goto out;
	}
	FUZZ_CHECK(u.domain == domain && domain_valid(domain),
	    "an invalid domain accepted");
	FUZZ_CHECK(item_name_valid(u.name), "an invalid name accepted");
	FUZZ_CHECK(u.seq >= 0 && u.seq <= ITEM_SEQ_MAX, "seq out of range");
	FUZZ_CHECK(u.cert != NULL, "no certificate");
	FUZZ_CHECK((u.key == NULL) == (u.key_len == 0), "key and its length");
	FUZZ_CHECK(u.cert_len <= blen && u.key_len <= blen,
	    "a field longer than the body");
	if (form) {
		same_as_sent(body, blen, "domainsuffix", f.domain);
		same_as_sent(body, blen, "name", u.name);
		same_as_sent(body, blen, "id", f.id);
	}
out:
	api_upload_free(&f);
	free(body);
	return 0;
}

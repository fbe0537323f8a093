/* error.c: the table of stable error codes and the helpers that fill errors. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "util.h"

static const struct {
	const char	*name;
	int		 http;
} codes[E_CODE_MAX] = {
	[E_OK]			= { "E_OK", 200 },
	[E_ENCODING]		= { "E_ENCODING", 422 },
	[E_TOO_LARGE]		= { "E_TOO_LARGE", 413 },
	[E_ORDER]		= { "E_ORDER", 422 },
	[E_NOT_CA]		= { "E_NOT_CA", 422 },
	[E_ROOT_NOT_SELF_SIGNED] = { "E_ROOT_NOT_SELF_SIGNED", 422 },
	[E_ISSUER_MISMATCH]	= { "E_ISSUER_MISMATCH", 422 },
	[E_PATH_LEN]		= { "E_PATH_LEN", 422 },
	[E_EXPIRED]		= { "E_EXPIRED", 422 },
	[E_NOT_YET_VALID]	= { "E_NOT_YET_VALID", 422 },
	[E_SERVER_IS_CA]	= { "E_SERVER_IS_CA", 422 },
	[E_NAME_MISMATCH]	= { "E_NAME_MISMATCH", 422 },
	[E_EKU]			= { "E_EKU", 422 },
	[E_WEAK]		= { "E_WEAK", 422 },
	[E_KEY_ENCODING]	= { "E_KEY_ENCODING", 422 },
	[E_KEY_ENCRYPTED]	= { "E_KEY_ENCRYPTED", 422 },
	[E_KEY_MISMATCH]	= { "E_KEY_MISMATCH", 422 },
	[E_DUPLICATE]		= { "E_DUPLICATE", 422 },
	[E_NOT_FOUND]		= { "E_NOT_FOUND", 404 },
	[E_CONFLICT]		= { "E_CONFLICT", 409 },
	[E_FORBIDDEN]		= { "E_FORBIDDEN", 403 },
	[E_BAD_REQUEST]		= { "E_BAD_REQUEST", 400 },
	[E_INTERNAL]		= { "E_INTERNAL", 500 },
	[E_BUSY]		= { "E_BUSY", 503 },
	[E_STOPPING]		= { "E_STOPPING", 503 },
	[E_CREDENTIAL]		= { "E_CREDENTIAL", 500 },
};

static const char *const warns[W_CODE_MAX] = {
	[W_EXPIRES_SOON]	= "W_EXPIRES_SOON",
	[W_CN_ONLY]		= "W_CN_ONLY",
	[W_SHA1_ROOT]		= "W_SHA1_ROOT",
	[W_CA_NO_KEY_USAGE]	= "W_CA_NO_KEY_USAGE",
};

const char *
cert_code_name(enum cert_code c)
{
	if ((int)c < 0 || c >= E_CODE_MAX)
		return "E_INTERNAL";
	return codes[c].name;
}

int
cert_code_from_name(const char *s)
{
	int	 i;

	for (i = 0; i < E_CODE_MAX; i++)
		if (strcmp(codes[i].name, s) == 0)
			return i;
	return -1;
}

int
cert_code_http_status(enum cert_code c)
{
	if ((int)c < 0 || c >= E_CODE_MAX)
		return 500;
	return codes[c].http;
}

const char *
cert_warn_name(enum cert_warn w)
{
	if ((int)w < 0 || w >= W_CODE_MAX)
		return "W_UNKNOWN";
	return warns[w];
}

int
cert_error_vset(struct cert_error *err, enum cert_code code, const char *name,
    int seq, const char *fmt, va_list ap)
{
	if (err == NULL)
		return -1;
	err->code = code;
	strlcpy(err->name, name != NULL ? name : "", sizeof(err->name));
	err->seq = seq;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	return -1;
}

int
cert_error_set(struct cert_error *err, enum cert_code code, const char *name,
    int seq, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	cert_error_vset(err, code, name, seq, fmt, ap);
	va_end(ap);
	return -1;
}

void
cert_error_clear(struct cert_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

void
cert_warn_add(struct cert_warnings *ws, enum cert_warn code, const char *name,
    int seq, const char *fmt, ...)
{
	va_list	 ap;

	if (ws == NULL || ws->n >= CERT_WARNINGS_MAX)
		return;
	ws->w[ws->n].code = code;
	strlcpy(ws->w[ws->n].name, name != NULL ? name : "",
	    sizeof(ws->w[ws->n].name));
	ws->w[ws->n].seq = seq;
	va_start(ap, fmt);
	vsnprintf(ws->w[ws->n].message, sizeof(ws->w[ws->n].message), fmt, ap);
	va_end(ap);
	ws->n++;
}

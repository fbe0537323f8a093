/*
 * proto.h: everything the control socket speaks, in one place: the stable
 * error codes (SPEC §4), the error and warning records every module fills,
 * and the API paths.
 */
#ifndef CERTD_PROTO_H
#define CERTD_PROTO_H

#include <stddef.h>

enum cert_code {
	E_OK = 0,
	E_ENCODING,
	E_TOO_LARGE,
	E_ORDER,
	E_NOT_CA,
	E_ROOT_NOT_SELF_SIGNED,
	E_ISSUER_MISMATCH,
	E_PATH_LEN,
	E_EXPIRED,
	E_NOT_YET_VALID,
	E_SERVER_IS_CA,
	E_NAME_MISMATCH,
	E_EKU,
	E_WEAK,
	E_KEY_ENCODING,
	E_KEY_ENCRYPTED,
	E_KEY_MISMATCH,
	E_DUPLICATE,
	E_NOT_FOUND,
	E_CONFLICT,
	E_FORBIDDEN,
	E_BAD_REQUEST,
	E_INTERNAL,
	E_CODE_MAX
};

#define ITEM_NAME_MAX	64	/* CloudStack's keystore.name is varchar(64) */
#define DOMAIN_MAX	253

/*
 * An error: the code, the item it concerns (name and seq; "" and 0 when it
 * concerns the request as a whole) and a sentence for a person.  Never holds
 * key material.
 */
struct cert_error {
	enum cert_code	code;
	char		name[ITEM_NAME_MAX + 1];
	int		seq;
	char		message[512];
};

enum cert_warn {
	W_EXPIRES_SOON,		/* not_after within 30 days */
	W_CN_ONLY,		/* server name only in the subject CN, no SAN */
	W_SHA1_ROOT,		/* the root is self-signed with SHA-1 */
	W_CA_NO_KEY_USAGE,	/* a CA without keyUsage (`openssl req -x509`) */
	W_CODE_MAX
};

#define CERT_WARNINGS_MAX 8
struct cert_warnings {
	size_t n;
	struct {
		enum cert_warn	code;
		char		name[ITEM_NAME_MAX + 1];
		int		seq;
		char		message[256];
	} w[CERT_WARNINGS_MAX];
};

const char	*cert_code_name(enum cert_code);	/* "E_ORDER" */
int		 cert_code_from_name(const char *);	/* -1 if unknown */
int		 cert_code_http_status(enum cert_code);	/* 422, 404, ... */
const char	*cert_warn_name(enum cert_warn);	/* "W_EXPIRES_SOON" */

/* Fill err (if not NULL) and return -1, so callers can `return cert_error_set(...)`. */
int	cert_error_set(struct cert_error *, enum cert_code, const char *name,
	    int seq, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
void	cert_error_clear(struct cert_error *);
void	cert_warn_add(struct cert_warnings *, enum cert_warn, const char *name,
	    int seq, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/* Control socket paths (SPEC §7). */
#define API_STATUS		"/v1/status"
#define API_DOMAINS		"/v1/domains/"	/* + {d}[/bundle|/staged|/rollback|/render] */
#define API_CERTIFICATES	"/v1/certificates"
#define API_RELOAD		"/v1/reload"
#define API_METRICS		"/metrics"

#define API_MAX_HEADERS		(8 * 1024)
#define API_MAX_BODY		(1024 * 1024)
#define API_REQUEST_TIMEOUT	10	/* seconds to send a whole request */

/* certctl exit codes (SPEC §8). */
#define EXIT_REJECTED	1
#define EXIT_USAGE	2
#define EXIT_UNREACHABLE 3
#define EXIT_DAEMON	4

#endif

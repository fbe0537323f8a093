/*
 * proto.h: the wire contract between certd and its clients, compiled into
 * both: the API paths, the stable error codes, the limits and certctl's exit
 * statuses.  docs/api.md describes the same for people.
 */
#ifndef CERTD_PROTO_H
#define CERTD_PROTO_H

/* Stable error codes; their names ("E_ORDER") and HTTP statuses are in
 * error.c.  Append only: scripts parse the names. */
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
	E_BUSY,			/* the commit queue is full, or waited too long */
	E_STOPPING,		/* certd is stopping */
	E_CREDENTIAL,		/* keys are sealed and certd.key is missing */
	E_CODE_MAX
};

/* Warnings: returned with an accepted upload, never fatal. */
enum cert_warn {
	W_EXPIRES_SOON,		/* not_after within 30 days */
	W_CN_ONLY,		/* server name only in the subject CN, no SAN */
	W_SHA1_ROOT,		/* the root is self-signed with SHA-1 */
	W_CA_NO_KEY_USAGE,	/* a CA without keyUsage (`openssl req -x509`) */
	W_CODE_MAX
};

/* Paths.  A domain's resources are API_DOMAINS + name + one suffix. */
#define API_STATUS		"/v1/status"
#define API_METRICS		"/metrics"
#define API_CERTIFICATES	"/v1/certificates"
#define API_RELOAD		"/v1/reload"
#define API_DOMAINS		"/v1/domains/"
#define API_D_BUNDLE		"/bundle"
#define API_D_STAGED		"/staged"
#define API_D_ROLLBACK		"/rollback"
#define API_D_RENDER		"/render"
#define API_D_CSR		"/csr"

/* Limits. */
#define DOMAIN_MAX		253		/* a DNS name */
#define ITEM_NAME_MAX		64	/* CloudStack's keystore.name, varchar(64) */
#define ITEM_SEQ_MAX		1000		/* the `id` of an upload */
#define PEM_ITEM_MAX		(64 * 1024)	/* bytes per uploaded item */
#define CHAIN_MAX		16		/* certificates per chain */
#define API_MAX_HEADERS		(8 * 1024)
#define API_MAX_BODY		(1024 * 1024)
#define API_REQUEST_TIMEOUT	10	/* seconds to send a whole request */

/* certctl's exit statuses. */
#define EXIT_REJECTED		1	/* the error code is printed */
#define EXIT_USAGE		2
#define EXIT_UNREACHABLE	3
#define EXIT_DAEMON		4

#endif

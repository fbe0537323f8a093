/*
 * certctl.h: what certctl's files share: the command table's types, the
 * HTTP/1.1 client for the control socket (http.c), the human output of the
 * answers (print.c), and the commands that need no daemon: check (check.c,
 * tls.c), show FILE (show.c), gen-ca and gen-cert (gen.c), with what they
 * share: certificates described (describe.c) and files read (files.c).
 */
#ifndef CERTD_CERTCTL_H
#define CERTD_CERTCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "proto.h"

#define CTL_SOCKET_DEFAULT	"/run/certd/control.sock"
/* A committing upload waits for the render, reloads and verifies. */
#define CTL_TIMEOUT_DEFAULT	300
#define CTL_REPLY_MAX		(16 * 1024 * 1024)

struct ctl {
	const char	*sock;
	int		 json;
	int		 timeout;
	int		 timeout_set;	/* -t given */
	/* -H https://HOST:PORT: the API over TLS (remote.c) */
	const char	*url;
	char		 host[256], port[8];
	const char	*client_cert, *client_key, *ca;
};

/* What a command got: its positional arguments, the first one (a domain
 * for most) folded, and the options the table lists. */
#define ARGS_LIST_MAX	32
struct args {
	char		**v;
	int		  n;
	char		  domain[DOMAIN_MAX + 1];
	const char	 *name, *server, *key, *bundle;
	int		  seq;
	/* check, show FILE, gen-ca, gen-cert */
	const char	 *hosts[ARGS_LIST_MAX];	/* --name, repeatable */
	int		  nhosts;
	const char	 *ips[ARGS_LIST_MAX];	/* --ip, repeatable */
	int		  nips;
	const char	 *ca, *truststore, *storepass, *out, *cn, *key_type;
	const char	 *state_dir, *save;
	const char	 *for_domain;		/* --domain, folded */
	char		  for_domain_buf[DOMAIN_MAX + 1];
	int		  days;			/* 0: the command's default */
	int		  intermediate;
	int		  all;			/* status --all */
	int		  client;		/* gen-cert --client */
};

struct cmd {
	const char	*name;
	int		(*fn)(struct ctl *, const struct cmd *, struct args *);
	int		 min, max;	/* positional arguments */
	int		 domain;	/* the first one is a domain name */
	const char	*opts;		/* command options, letters of cmd_args */
	const char	*synopsis;
	const char	*help;
};

/* certctl.c: one request; 0 with *answer, or an exit code, printed why. */
int	ctl_request(struct ctl *, const char *method, const char *uri,
	    json_t *body, json_t **answer);
int	usage_error(const struct cmd *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

struct http_reply {
	int	 status;		/* 200, 422, ... */
	char	*body;			/* NUL-terminated */
	size_t	 len;
};

/* A connection to certd: the Unix socket, or TLS (remote.c). */
struct http_io {
	int		 fd;		/* non-blocking */
	struct ssl_st	*ssl;		/* NULL: plain */
	const char	*what;		/* the socket, or "HOST port PORT" */
	int		 timeout;	/* seconds (-t), for messages */
	int		 refused;	/* TLS: certd sent an alert */
};
/*
 * One request on io, then its answer, before deadline (now_ms()): as
 * http_call.
 */
int	http_exchange(struct http_io *, const char *method, const char *uri,
	    const char *body, size_t bodylen, int64_t deadline,
	    struct http_reply *reply, char *err, size_t errlen);
/* What OpenSSL's last error on io means, in err (io->refused set when
 * certd refused the client): -1. */
int	http_tls_error(struct http_io *, char *err, size_t errlen);

/*
 * One request on the Unix socket at path, Connection: close.  body may be
 * NULL.  Returns 0 with reply filled (any HTTP status), or an exit code
 * (EXIT_UNREACHABLE: could not connect; EXIT_DAEMON: timeout, garbage) with
 * a sentence in err.
 */
int	http_call(const char *path, const char *method, const char *uri,
	    const char *body, size_t bodylen, int timeout,
	    struct http_reply *reply, char *err, size_t errlen);
/*
 * Parse what has arrived so far.  eof: the peer closed.  Returns 1 when the
 * reply is complete (reply filled, body copied), 0 when more is needed, -1
 * on garbage (err says what).
 */
int	http_parse_reply(const char *buf, size_t len, int eof,
	    struct http_reply *reply, char *err, size_t errlen);
void	http_reply_free(struct http_reply *);
/* Percent-encode s (all but RFC 3986 unreserved) into out; -1 if too long. */
int	uri_escape(const char *s, char *out, size_t outlen);

/* remote.c: -H URL into c->host and c->port; 0 or -1. */
int	remote_parse_url(struct ctl *, const char *url);
/* One request to certd over TLS: as http_call. */
int	remote_call(struct ctl *, const char *method, const char *uri,
	    const char *body, size_t bodylen, struct http_reply *,
	    char *err, size_t errlen);

/* print.c: human output of the API answers (docs/api.md). */
void	print_status(FILE *, json_t *, int all);
void	print_show(FILE *, json_t *);
void	print_upload(FILE *, json_t *);
/* The reload object of an answer; returns 1 if the change did not take
 * effect (rolled back or failed), else 0. */
int	print_reload(FILE *, json_t *reload);
void	print_warnings(FILE *, json_t *answer);
/* "certctl: E_CODE: message (item NAME, seq K)" from an error answer. */
void	print_api_error(FILE *, json_t *answer, int http_status);

/* "ab12.." -> "AB:12:.."; out needs 3 * strlen(hex) bytes. */
void	fmt_fingerprint(const char *hex, char *out, size_t outlen);
/* "2026-11-23T11:00:00Z" -> "2026-11-23 11:00:00 UTC"; unknown forms copied. */
void	fmt_time(const char *iso, char *out, size_t outlen);
/* Accessors that tolerate missing or mistyped members. */
const char	*jstr(json_t *, const char *key, const char *dflt);
long long	 jint(json_t *, const char *key, long long dflt);

/* The commands that need no daemon, each with its help text. */
int	cmd_check(struct ctl *, const struct cmd *, struct args *);
int	cmd_gen_ca(struct ctl *, const struct cmd *, struct args *);
int	cmd_gen_cert(struct ctl *, const struct cmd *, struct args *);
int	cmd_csr(struct ctl *, const struct cmd *, struct args *);
int	show_file(struct ctl *, const char *path, const char *storepass);
extern const char check_synopsis[], check_help[];
extern const char gen_ca_synopsis[], gen_ca_help[];
extern const char gen_cert_synopsis[], gen_cert_help[];
extern const char csr_synopsis[], csr_help[];

/* tls.c: one handshake, to see what a server sends. */
struct tls_peer {
	char		 addr[64];	/* the address connected to */
	char		 protocol[16];	/* "TLSv1.3" */
	char		 cipher[64];
	char		 kex[64];	/* the server's key exchange key */
	int		 dh_bits;	/* when that is finite-field DH */
	int		 client_cert;	/* the server asked for one */
	STACK_OF(X509)	*chain;		/* as sent, leaf first */
};
/* 0, or with a sentence in err -1 (resolving, connecting) or -2 (the TLS
 * handshake). */
int	tls_fetch(const char *host, const char *port, const char *sni,
	    int secs, struct tls_peer *, char *err, size_t errlen);
/* A TCP connection to host:port within secs (the address used in addr),
 * with secs as its read and write timeouts; -1 with a sentence in err. */
int	tls_tcp_connect(const char *host, const char *port, int secs,
	    char *addr, size_t addrlen, char *err, size_t errlen);
void	tls_peer_free(struct tls_peer *);

/* describe.c: one certificate, as keytool -list -v shows it, shorter. */
void	 describe_cert(FILE *, X509 *, const char *indent, time_t now);
json_t	*describe_cert_json(X509 *, time_t now);
/* "(300 days left)", "(EXPIRED 3 days ago)", "(NOT YET VALID: ...)" */
void	 describe_validity(X509 *, time_t now, char *buf, size_t size);
/* The subject's CN, else the whole subject; malloc'd. */
char	*describe_name(X509 *);
int	 cert_self_signed(X509 *);
/* 1 issuer signed x, 0 the names differ, -1 the name fits, the key not. */
int	 cert_issued_by(X509 *x, X509 *issuer);
int	 cert_is_ca(X509 *);
/* An IPv4 or IPv6 address, which certificates name in IP entries. */
int	 name_is_address(const char *);

/* files.c: what a certificate, key or store file holds, by its bytes. */
enum file_kind { FILE_PEM, FILE_DER, FILE_JKS, FILE_PKCS12 };
struct file_cert {
	char	*alias;		/* JKS or PKCS#12 alias, else NULL */
	X509	*cert;
	int	 anchor;	/* a client with this file trusts it */
	int	 key_entry;	/* PKCS#12: the certificate of a key entry */
};
struct file_key {
	char	 desc[64];	/* "EC P-256"; "" when encrypted */
	int	 encrypted;
	int	 cert;		/* index of its certificate, or -1 */
};
struct file_contents {
	enum file_kind	  kind;
	struct file_cert *certs;
	size_t		  ncerts;
	struct file_key	 *keys;		/* PEM or DER keys */
	size_t		  nkeys;
	size_t		  nkeybags;	/* PKCS#12 key bags, not decrypted */
	int		  checked;	/* JKS digest or PKCS#12 MAC verified */
	int		  locked;	/* PKCS#12 certificates encrypted, and
					   no password to read them */
	char		  others[256];	/* PEM labels not described */
};
/* 0, or -1 with a sentence in err (the file unreadable, not a certificate,
 * key or store, the password wrong). */
int	 files_read(const char *path, const char *storepass,
	    struct file_contents *, char *err, size_t errlen);
void	 files_free(struct file_contents *);
const char *files_kind_name(enum file_kind);

#endif

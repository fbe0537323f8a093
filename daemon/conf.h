/*
 * conf.h: certd's configuration: built-in defaults in one initialiser, an
 * INI file read with inih, and the effective config printed by `certd -t`.
 * Domain names in it are folded as names.h says.
 */
#ifndef CERTD_CONF_H
#define CERTD_CONF_H

#include <sys/queue.h>
#include <sys/types.h>
#include <stdio.h>

enum publish_kind {
	PUB_CERT, PUB_KEY, PUB_CHAIN, PUB_FULLCHAIN, PUB_ROOT, PUB_BUNDLE,
	PUB_TRUSTSTORE, PUB_KEYSTORE,
	PUB_MAX
};

/* The rendered file each publish_* key points at (PUB_TRUSTSTORE: .jks). */
const char	*conf_publish_file(enum publish_kind);
const char	*conf_publish_key(enum publish_kind);	/* "publish_cert" */

struct domain_conf {
	TAILQ_ENTRY(domain_conf) entry;
	char		*name;
	char		*publish[PUB_MAX];	/* NULL: not published */
	int		 publish_replace;
};
TAILQ_HEAD(domain_conf_list, domain_conf);

enum dep_action { DEP_RELOAD, DEP_RESTART, DEP_RELOAD_OR_RESTART };
const char	*conf_action_name(enum dep_action);	/* "reload" */

struct dependent_conf {
	TAILQ_ENTRY(dependent_conf) entry;
	char		*name;
	char		*unit;		/* systemd unit, or NULL */
	enum dep_action	 action;
	char		**exec;		/* argv, NULL-terminated, or NULL */
	char		*exec_expect;	/* its output must start so */
	char		**configtest;	/* argv or NULL */
	char		*haproxy_socket; /* runtime API, instead of a reload */
	char		*haproxy_crt;	/* the crt path as HAProxy has it */
	char		*verify_host;	/* NULL: no verification */
	char		*verify_port;
	char		*verify_name;	/* SNI and name to check; NULL: domain */
	int		 verify_timeout_ms;
	int		 verify_count;	/* consecutive handshakes to see */
	int		 timeout_ms;
	char		**domains;	/* NULL: every domain */
};
TAILQ_HEAD(dependent_conf_list, dependent_conf);

/* A listen = address: numeric, IPv4 or IPv6 (without brackets). */
struct listen_conf {
	char		*host, *port;
};

struct certd_conf {
	int		 refs;		/* conf_ref / conf_free */
	char		*path;		/* file read, NULL: built-in defaults */
	char		*state_dir;
	char		*socket;
	mode_t		 socket_mode;
	char		*admin_group;
	char		*key_group;
	char		*truststore_password;
	int		 truststore_include_system;
	char		*keystore_password;	/* NULL: the trust store's */
	int		 keep_generations;
	int		 stop_timeout_ms;	/* SIGTERM: a change in flight */
	struct domain_conf_list		domains;
	struct dependent_conf_list	dependents;
	/* The control API over TLS (tls.c): the addresses, certd's own
	 * certificate and key, the CA (and CRL) client certificates are
	 * verified against, the clients that may change things, and the
	 * context conf_load made from those files. */
	struct listen_conf	*listen;
	size_t			 nlisten;
	char			*tls_cert, *tls_key, *client_ca, *client_crl;
	int			 tls_cert_line, tls_key_line, client_ca_line;
	int			 client_crl_line, listen_line;
	char			**client_allow;	/* NULL-terminated, or NULL */
	struct ssl_ctx_st	*tls_ctx;	/* NULL without listen = */
};

/* Built-in defaults; fresh allocation, free with conf_free(). */
struct certd_conf	*conf_new(void);
/*
 * Read path over the defaults.  On error returns NULL and writes
 * "file:line: message" into err.
 */
struct certd_conf	*conf_load(const char *path, char *err, size_t errlen);
/* The same from an open file; path names it in messages. */
struct certd_conf	*conf_read(FILE *, const char *path, char *err,
			    size_t errlen);
/* A run that outlives a SIGHUP keeps its config: conf_ref it, and
 * conf_free drops one reference. */
struct certd_conf	*conf_ref(struct certd_conf *);
void			 conf_free(struct certd_conf *);
/* Set one [certd] key (for command-line overrides); 0 or -1 with err. */
int	conf_set(struct certd_conf *, const char *key, const char *value,
	    char *err, size_t errlen);
/* Print the effective configuration as an INI file that conf_load reads back. */
void	conf_print(const struct certd_conf *, FILE *);

const char		*conf_keystore_password(const struct certd_conf *);
struct domain_conf	*conf_domain(const struct certd_conf *, const char *);
/* Does dependent d act on domain? */
int	conf_dependent_wants(const struct dependent_conf *, const char *domain);

/* Split a command line into argv (quotes '' and "", backslash), no shell. */
char	**conf_split_argv(const char *, char *err, size_t errlen);
void	  conf_free_argv(char **);
char	 *conf_join_argv(char **);	/* for printing */

#endif

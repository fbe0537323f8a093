/*
 * conf.c: certd's configuration: defaults in one initialiser, the INI file
 * (inih) with "file:line: message" errors.  conf_print.c prints it back.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <ini.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "names.h"
#include "tls.h"
#include "util.h"

/* Every built-in default lives here. */
static const struct {
	const char	*state_dir, *socket, *admin_group, *key_group;
	const char	*truststore_password;
	mode_t		 socket_mode;
	int		 keep_generations, include_system;
	int		 dep_timeout_ms, verify_timeout_ms, stop_timeout_ms;
	int		 verify_count;
} defaults = {
	/* What certd.service's StateDirectory= makes, whatever the prefix. */
	.state_dir = "/var/lib/certd",
	.socket = "/run/certd/control.sock",
	.admin_group = "certd-admin",
	.key_group = "ssl-cert",
	.truststore_password = "changeit",
	.socket_mode = 0666,
	.keep_generations = 5,
	.include_system = 0,
	.dep_timeout_ms = 30000,
	.verify_timeout_ms = 5000,
	/* nginx's old workers answer between new ones for ~100 ms after a
	 * reload: see verify.c. */
	.verify_count = 3,
	/* Below certd.service's TimeoutStopSec (90 s). */
	.stop_timeout_ms = 60000,
};

static const char *const publish_keys[PUB_MAX] = {
	[PUB_CERT] = "publish_cert", [PUB_KEY] = "publish_key",
	[PUB_CHAIN] = "publish_chain", [PUB_FULLCHAIN] = "publish_fullchain",
	[PUB_ROOT] = "publish_root", [PUB_BUNDLE] = "publish_bundle",
	[PUB_TRUSTSTORE] = "publish_truststore",
	[PUB_KEYSTORE] = "publish_keystore",
};

static const char *const publish_files[PUB_MAX] = {
	[PUB_CERT] = "cert.pem", [PUB_KEY] = "key.pem",
	[PUB_CHAIN] = "chain.pem", [PUB_FULLCHAIN] = "fullchain.pem",
	[PUB_ROOT] = "root.pem", [PUB_BUNDLE] = "bundle.pem",
	[PUB_TRUSTSTORE] = "truststore.jks", [PUB_KEYSTORE] = "keystore.p12",
};

static const char *const actions[] = {
	[DEP_RELOAD] = "reload", [DEP_RESTART] = "restart",
	[DEP_RELOAD_OR_RESTART] = "reload-or-restart",
};

const char *
conf_publish_file(enum publish_kind k)
{
	return publish_files[k];
}

const char *
conf_publish_key(enum publish_kind k)
{
	return publish_keys[k];
}

const char *
conf_action_name(enum dep_action a)
{
	return actions[a];
}

static void
replace(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

struct certd_conf *
conf_new(void)
{
	struct certd_conf	*c;

	c = xcalloc(1, sizeof(*c));
	c->refs = 1;
	c->state_dir = xstrdup(defaults.state_dir);
	c->socket = xstrdup(defaults.socket);
	c->socket_mode = defaults.socket_mode;
	c->admin_group = xstrdup(defaults.admin_group);
	c->key_group = xstrdup(defaults.key_group);
	c->truststore_password = xstrdup(defaults.truststore_password);
	c->truststore_include_system = defaults.include_system;
	c->keep_generations = defaults.keep_generations;
	c->stop_timeout_ms = defaults.stop_timeout_ms;
	TAILQ_INIT(&c->domains);
	TAILQ_INIT(&c->dependents);
	return c;
}

void
conf_free_argv(char **argv)
{
	size_t	 i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

void
conf_free(struct certd_conf *c)
{
	struct domain_conf	*d;
	struct dependent_conf	*p;
	int			 i;

	if (c == NULL || --c->refs > 0)
		return;
	while ((d = TAILQ_FIRST(&c->domains)) != NULL) {
		TAILQ_REMOVE(&c->domains, d, entry);
		free(d->name);
		for (i = 0; i < PUB_MAX; i++)
			free(d->publish[i]);
		free(d);
	}
	while ((p = TAILQ_FIRST(&c->dependents)) != NULL) {
		TAILQ_REMOVE(&c->dependents, p, entry);
		free(p->name);
		free(p->unit);
		conf_free_argv(p->exec);
		free(p->exec_expect);
		conf_free_argv(p->configtest);
		free(p->haproxy_socket);
		free(p->haproxy_crt);
		free(p->verify_host);
		free(p->verify_port);
		free(p->verify_name);
		conf_free_argv(p->domains);
		free(p);
	}
	free(c->path);
	free(c->state_dir);
	free(c->socket);
	free(c->admin_group);
	free(c->key_group);
	free(c->truststore_password);
	free(c->keystore_password);
	for (i = 0; i < (int)c->nlisten; i++) {
		free(c->listen[i].host);
		free(c->listen[i].port);
	}
	free(c->listen);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->client_ca);
	free(c->client_crl);
	conf_free_argv(c->client_allow);
	SSL_CTX_free(c->tls_ctx);
	free(c);
}

struct certd_conf *
conf_ref(struct certd_conf *c)
{
	c->refs++;
	return c;
}

const char *
conf_keystore_password(const struct certd_conf *c)
{
	return c->keystore_password != NULL ? c->keystore_password :
	    c->truststore_password;
}

struct domain_conf *
conf_domain(const struct certd_conf *c, const char *name)
{
	struct domain_conf	*d;

	TAILQ_FOREACH(d, &c->domains, entry)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

int
conf_dependent_wants(const struct dependent_conf *p, const char *domain)
{
	size_t	 i;

	if (p->domains == NULL || domain == NULL)
		return 1;
	for (i = 0; p->domains[i] != NULL; i++)
		if (strcmp(p->domains[i], domain) == 0)
			return 1;
	return 0;
}

char **
conf_split_argv(const char *s, char *err, size_t errlen)
{
	char	**argv = NULL, *word;
	size_t	 n = 0, len;
	char	 quote;

	word = xmalloc(strlen(s) + 1);
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		len = 0;
		quote = 0;
		while (*s != '\0' && (quote || !isspace((unsigned char)*s))) {
			if (quote && *s == quote) {
				quote = 0;
			} else if (!quote && (*s == '\'' || *s == '"')) {
				quote = *s;
			} else if (*s == '\\' && quote != '\'' && s[1] != '\0') {
				word[len++] = *++s;
			} else
				word[len++] = *s;
			s++;
		}
		if (quote) {
			snprintf(err, errlen, "unterminated %c quote", quote);
			goto fail;
		}
		word[len] = '\0';
		argv = xreallocarray(argv, n + 2, sizeof(*argv));
		argv[n++] = xstrdup(word);
		argv[n] = NULL;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty command");
		goto fail;
	}
	if (argv[0][0] != '/') {
		snprintf(err, errlen, "command \"%s\" must be an absolute path "
		    "(certd runs it without a shell or PATH search)", argv[0]);
		goto fail;
	}
	free(word);
	return argv;
fail:
	free(word);
	conf_free_argv(argv);
	return NULL;
}

char *
conf_join_argv(char **argv)
{
	size_t	 len = 1, i, j;
	char	*s, *p;

	for (i = 0; argv[i] != NULL; i++)
		len += 2 * strlen(argv[i]) + 3;
	s = p = xmalloc(len);
	for (i = 0; argv[i] != NULL; i++) {
		/* Quote what conf_split_argv would split at (every isspace);
		 * escape ';' too, which inih takes for a comment after any
		 * space, quoted or not. */
		int	 q = argv[i][0] == '\0' ||
			    strpbrk(argv[i], " \t\n\v\f\r'\"\\;") != NULL;

		if (i > 0)
			*p++ = ' ';
		if (q)
			*p++ = '"';
		for (j = 0; argv[i][j] != '\0'; j++) {
			if (q && (argv[i][j] == '"' || argv[i][j] == '\\' ||
			    argv[i][j] == ';'))
				*p++ = '\\';
			*p++ = argv[i][j];
		}
		if (q)
			*p++ = '"';
	}
	*p = '\0';
	return s;
}

static int
parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
	    !strcasecmp(v, "on") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
	    !strcasecmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* "5", "5s", "1500ms" -> milliseconds, 1 ms .. 1 h. */
static int
parse_duration(const char *v, int *ms)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || n <= 0)
		return -1;
	/* Bound seconds before they become ms: the product could overflow
	 * (and wrap to a small, accepted value). */
	if (*end == '\0' || strcmp(end, "s") == 0) {
		if (n > 3600)
			return -1;
		n *= 1000;
	} else if (strcmp(end, "ms") != 0)
		return -1;
	if (n > 3600 * 1000)
		return -1;
	*ms = (int)n;
	return 0;
}

/* HOST:PORT or [V6]:PORT */
static int
parse_hostport(const char *v, char **host, char **port)
{
	const char	*colon;
	char		*h;
	long		 p;
	char		*end;

	/* A host with ':' must be bracketed, and a bracketed one is not
	 * empty: each form then prints (conf_print) as it reads. */
	if (v[0] == '[') {
		const char	*rb = strchr(v, ']');
		if (rb == NULL || rb[1] != ':' || rb == v + 1 ||
		    memchr(v + 1, '[', rb - v - 1) != NULL)
			return -1;
		colon = rb + 1;
		h = xstrndup(v + 1, rb - v - 1);
	} else {
		if ((colon = strchr(v, ':')) == NULL || colon == v ||
		    strpbrk(v, "[]") != NULL)
			return -1;
		h = xstrndup(v, colon - v);
	}
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535) {
		free(h);
		return -1;
	}
	free(*host);
	free(*port);
	*host = h;
	*port = xstrdup(colon + 1);
	return 0;
}

struct parse_state {
	struct certd_conf	*conf;
	char			 err[256];	/* first error */
	FILE			*f;
	int			 line;
	int			 toolong;	/* the line that did not fit */
};

/*
 * inih reads at most INI_MAX_LINE (200) bytes of a line and parses the
 * rest as a line of its own: a long exec = would be cut in two, and the
 * second half could pass for a key.  Lines are read whole here, and one
 * that does not fit stops the parse with an error that says so.
 */
static char *
read_line(char *buf, int size, void *arg)
{
	struct parse_state	*ps = arg;
	char			*line = NULL;
	size_t			 cap = 0, len, indent;
	ssize_t			 n;

	if ((n = getline(&line, &cap, ps->f)) == -1) {
		free(line);
		return NULL;
	}
	ps->line++;
	/* At most size - 3 bytes, the newline not counted: a last line
	 * without one gets no byte more. */
	len = (size_t)n - (line[n - 1] == '\n');
	if (len > (size_t)size - 3) {
		ps->toolong = ps->line;
		free(line);
		return NULL;
	}
	/* inih takes an indented line for the continuation of the value
	 * before it: "  key_group = x" under "admin_group = y" made
	 * admin_group "key_group = x".  Indentation means nothing here;
	 * it is whatever inih's isspace() skips, CR, VT and FF too. */
	indent = strspn(line, " \t\r\v\f");
	memcpy(buf, line + indent, (size_t)n - indent + 1);
	free(line);
	return buf;
}

static int
fail(struct parse_state *ps, const char *fmt, ...)
{
	va_list	 ap;

	if (ps->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(ps->err, sizeof(ps->err), fmt, ap);
		va_end(ap);
	}
	return 0;	/* inih: error on this line */
}

int
conf_set(struct certd_conf *c, const char *key, const char *v, char *err,
    size_t errlen)
{
	char	*end;
	long	 n;

	if (!strcmp(key, "state_dir")) {
		if (v[0] != '/' && v[0] != '.')
			goto bad_path;
		replace(&c->state_dir, v);
	} else if (!strcmp(key, "socket")) {
		if (v[0] != '/' && v[0] != '.')
			goto bad_path;
		if (strlen(v) >= 108) {
			snprintf(err, errlen, "socket: path longer than 107 bytes");
			return -1;
		}
		replace(&c->socket, v);
	} else if (!strcmp(key, "socket_mode")) {
		n = strtol(v, &end, 8);
		if (*v == '\0' || *end != '\0' || n < 0 || n > 0777) {
			snprintf(err, errlen, "socket_mode: \"%s\" is not an "
			    "octal mode such as 0666 or 0660", v);
			return -1;
		}
		c->socket_mode = (mode_t)n;
	} else if (!strcmp(key, "admin_group")) {
		replace(&c->admin_group, v);
	} else if (!strcmp(key, "key_group")) {
		replace(&c->key_group, v);
	} else if (!strcmp(key, "truststore_password")) {
		if (*v == '\0') {
			snprintf(err, errlen, "truststore_password: empty");
			return -1;
		}
		replace(&c->truststore_password, v);
	} else if (!strcmp(key, "keystore_password")) {
		if (*v == '\0') {
			snprintf(err, errlen, "keystore_password: empty");
			return -1;
		}
		replace(&c->keystore_password, v);
	} else if (!strcmp(key, "truststore_include_system")) {
		if (parse_bool(v, &c->truststore_include_system) == -1)
			goto bad_bool;
	} else if (!strcmp(key, "keep_generations")) {
		n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || n < 2 || n > 1000) {
			snprintf(err, errlen, "keep_generations: \"%s\" is not "
			    "a number from 2 to 1000 (rollback needs the "
			    "previous generation)", v);
			return -1;
		}
		c->keep_generations = (int)n;
	} else if (!strcmp(key, "stop_timeout")) {
		if (parse_duration(v, &c->stop_timeout_ms) == -1) {
			snprintf(err, errlen, "stop_timeout: \"%s\" is not a "
			    "duration such as 60 or 1500ms", v);
			return -1;
		}
	} else {
		snprintf(err, errlen, "unknown key \"%s\" in [certd]", key);
		return -1;
	}
	return 0;
bad_path:
	snprintf(err, errlen, "%s: \"%s\" must be an absolute path", key, v);
	return -1;
bad_bool:
	snprintf(err, errlen, "%s: \"%s\" is not yes or no", key, v);
	return -1;
}

static struct domain_conf *
domain_get(struct certd_conf *c, const char *name)
{
	struct domain_conf	*d;

	if ((d = conf_domain(c, name)) != NULL)
		return d;
	d = xcalloc(1, sizeof(*d));
	d->name = xstrdup(name);
	TAILQ_INSERT_TAIL(&c->domains, d, entry);
	return d;
}

static struct dependent_conf *
dependent_get(struct certd_conf *c, const char *name)
{
	struct dependent_conf	*p;

	TAILQ_FOREACH(p, &c->dependents, entry)
		if (strcmp(p->name, name) == 0)
			return p;
	p = xcalloc(1, sizeof(*p));
	p->name = xstrdup(name);
	p->action = DEP_RELOAD;
	p->timeout_ms = defaults.dep_timeout_ms;
	p->verify_timeout_ms = defaults.verify_timeout_ms;
	p->verify_count = defaults.verify_count;
	TAILQ_INSERT_TAIL(&c->dependents, p, entry);
	return p;
}

static int
domain_key(struct parse_state *ps, struct domain_conf *d, const char *key,
    const char *v)
{
	int	 i;

	for (i = 0; i < PUB_MAX; i++) {
		if (strcmp(key, publish_keys[i]) != 0)
			continue;
		if (v[0] != '/')
			return fail(ps, "%s: \"%s\" must be an absolute path",
			    key, v);
		replace(&d->publish[i], v);
		return 1;
	}
	if (!strcmp(key, "publish_replace")) {
		if (parse_bool(v, &d->publish_replace) == -1)
			return fail(ps, "%s: \"%s\" is not yes or no", key, v);
		return 1;
	}
	return fail(ps, "unknown key \"%s\" in [domain %s]", key, d->name);
}

static int
dependent_key(struct parse_state *ps, struct dependent_conf *p,
    const char *key, const char *v)
{
	char	 err[200];
	char	**argv, *end;
	size_t	 i;
	long	 n;

	if (!strcmp(key, "unit")) {
		replace(&p->unit, v);
	} else if (!strcmp(key, "action")) {
		for (i = 0; i < nitems(actions); i++)
			if (strcmp(v, actions[i]) == 0)
				break;
		if (i == nitems(actions))
			return fail(ps, "action: \"%s\" is not reload, restart "
			    "or reload-or-restart", v);
		p->action = (enum dep_action)i;
	} else if (!strcmp(key, "exec") || !strcmp(key, "configtest")) {
		if ((argv = conf_split_argv(v, err, sizeof(err))) == NULL)
			return fail(ps, "%s: %s", key, err);
		if (!strcmp(key, "exec")) {
			conf_free_argv(p->exec);
			p->exec = argv;
		} else {
			conf_free_argv(p->configtest);
			p->configtest = argv;
		}
	} else if (!strcmp(key, "exec_expect")) {
		replace(&p->exec_expect, v);
	} else if (!strcmp(key, "haproxy_socket") ||
	    !strcmp(key, "haproxy_crt")) {
		/* A word of a runtime API command line: no blanks, no `;`
		 * (a command separator), no backslash (an escape). */
		if (v[0] != '/' || strpbrk(v, " \t;\\") != NULL)
			return fail(ps, "%s: \"%s\" must be an absolute path "
			    "without blanks, ';' or '\\'", key, v);
		replace(!strcmp(key, "haproxy_socket") ? &p->haproxy_socket :
		    &p->haproxy_crt, v);
	} else if (!strcmp(key, "verify")) {
		if (parse_hostport(v, &p->verify_host, &p->verify_port) == -1)
			return fail(ps, "verify: \"%s\" is not HOST:PORT", v);
	} else if (!strcmp(key, "verify_name")) {
		replace(&p->verify_name, v);
	} else if (!strcmp(key, "verify_timeout")) {
		if (parse_duration(v, &p->verify_timeout_ms) == -1)
			return fail(ps, "verify_timeout: \"%s\" is not a "
			    "duration such as 5 or 500ms", v);
	} else if (!strcmp(key, "verify_count")) {
		n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || n < 1 || n > 100)
			return fail(ps, "verify_count: \"%s\" is not a number "
			    "from 1 to 100", v);
		p->verify_count = (int)n;
	} else if (!strcmp(key, "timeout")) {
		if (parse_duration(v, &p->timeout_ms) == -1)
			return fail(ps, "timeout: \"%s\" is not a duration "
			    "such as 30 or 500ms", v);
	} else if (!strcmp(key, "domains")) {
		char	*dup = xstrdup(v), *s, *tok, *save = NULL;
		char	 name[DOMAIN_MAX + 1];
		size_t	 k = 0;

		conf_free_argv(p->domains);
		p->domains = NULL;
		for (s = dup; (tok = strtok_r(s, ", \t", &save)) != NULL;
		    s = NULL) {
			if (domain_fold(tok, name) == -1) {
				fail(ps, "domains: \"%s\" is not a domain "
				    "name", tok);
				free(dup);
				return 0;
			}
			p->domains = xreallocarray(p->domains, k + 2,
			    sizeof(char *));
			p->domains[k++] = xstrdup(name);
			p->domains[k] = NULL;
		}
		free(dup);
	} else
		return fail(ps, "unknown key \"%s\" in [dependent %s]", key,
		    p->name);
	return 1;
}

/* A file the TLS context reads: an absolute path; where it was named. */
static int
remote_file(struct parse_state *ps, char **dst, int *line, const char *key,
    const char *v)
{
	if (v[0] != '/')
		return fail(ps, "%s: \"%s\" must be an absolute path", key, v);
	replace(dst, v);
	*line = ps->line;
	return 1;
}

/* listen = ADDR:PORT, numeric: certd resolves no name to listen on. */
static int
remote_listen(struct parse_state *ps, const char *v)
{
	struct certd_conf	*c = ps->conf;
	struct listen_conf	 l = { NULL, NULL };
	unsigned char		 a[16];

	if (parse_hostport(v, &l.host, &l.port) == -1 ||
	    (inet_pton(AF_INET, l.host, a) != 1 &&
	    inet_pton(AF_INET6, l.host, a) != 1)) {
		free(l.host);
		free(l.port);
		return fail(ps, "listen: \"%s\" is not ADDR:PORT with a "
		    "numeric address (127.0.0.1:8443, [::1]:8443, "
		    "0.0.0.0:8443)", v);
	}
	c->listen = xreallocarray(c->listen, c->nlisten + 1,
	    sizeof(*c->listen));
	c->listen[c->nlisten++] = l;
	if (c->listen_line == 0)
		c->listen_line = ps->line;
	return 1;
}

static int
remote_allow(struct parse_state *ps, const char *v)
{
	struct certd_conf	*c = ps->conf;
	const char		*why;
	size_t			 n = 0;

	if ((why = tls_allow_entry_error(v)) != NULL)
		return fail(ps, "client_allow: \"%s\": %s", v, why);
	while (c->client_allow != NULL && c->client_allow[n] != NULL)
		n++;
	c->client_allow = xreallocarray(c->client_allow, n + 2,
	    sizeof(char *));
	c->client_allow[n] = xstrdup(v);
	c->client_allow[n + 1] = NULL;
	return 1;
}

/* The keys of the control API over TLS (one line each, listen and
 * client_allow repeatable): 1 or 0 as the handler returns, or -1 when
 * key is none of them. */
static int
remote_key(struct parse_state *ps, const char *key, const char *v)
{
	struct certd_conf	*c = ps->conf;

	if (!strcmp(key, "listen"))
		return remote_listen(ps, v);
	if (!strcmp(key, "client_allow"))
		return remote_allow(ps, v);
	if (!strcmp(key, "tls_cert"))
		return remote_file(ps, &c->tls_cert, &c->tls_cert_line, key, v);
	if (!strcmp(key, "tls_key"))
		return remote_file(ps, &c->tls_key, &c->tls_key_line, key, v);
	if (!strcmp(key, "client_ca"))
		return remote_file(ps, &c->client_ca, &c->client_ca_line, key,
		    v);
	if (!strcmp(key, "client_crl"))
		return remote_file(ps, &c->client_crl, &c->client_crl_line, key,
		    v);
	return -1;
}

/*
 * listen = needs certd's certificate, its key and the client CA; those
 * mean nothing without it.  The context is made here, so certd -t loads
 * every file a handshake will use.  0, or -1 with "LINE: message".
 */
static int
remote_check(struct certd_conf *c, int *line, char *err, size_t errlen)
{
	struct tls_files	 f;

	if (c->nlisten == 0) {
		*line = c->tls_cert_line ? c->tls_cert_line : c->tls_key_line ?
		    c->tls_key_line : c->client_ca_line ? c->client_ca_line :
		    c->client_crl_line;
		if (*line == 0 && c->client_allow == NULL)
			return 0;
		snprintf(err, errlen, "tls_cert, tls_key, client_ca, "
		    "client_crl and client_allow are for listen =, which is "
		    "not set");
		return -1;
	}
	*line = c->listen_line;
	if (c->tls_cert == NULL || c->tls_key == NULL || c->client_ca == NULL) {
		snprintf(err, errlen, "listen needs tls_cert, tls_key and "
		    "client_ca (certd's certificate and key, and the CA that "
		    "issues the clients' certificates)");
		return -1;
	}
	f = (struct tls_files){ c->tls_cert, c->tls_key, c->client_ca,
	    c->client_crl, c->tls_cert_line, c->tls_key_line,
	    c->client_ca_line, c->client_crl_line };
	if ((c->tls_ctx = tls_server_ctx(&f, line, err, errlen)) == NULL)
		return -1;
	return 0;
}

static int
handler(void *user, const char *section, const char *key, const char *v)
{
	struct parse_state	*ps = user;
	char			 err[256], name[DOMAIN_MAX + 1];
	const char		*arg;
	int			 r;

	/* inih reads "k =;v" as ";v" but "k = ;v" as a comment: such a
	 * value means two things, and certd -t could not print it. */
	if (*v == ';')
		return fail(ps, "%s: a value may not start with ';' (after a "
		    "space it starts a comment)", key);
	if (!strcmp(section, "certd")) {
		if ((r = remote_key(ps, key, v)) != -1)
			return r;
		if (conf_set(ps->conf, key, v, err, sizeof(err)) == -1)
			return fail(ps, "%s", err);
		return 1;
	}
	if (!strncmp(section, "domain ", 7)) {
		arg = section + 7;
		while (*arg == ' ')
			arg++;
		if (domain_fold(arg, name) == -1)
			return fail(ps, "[domain %s]: not a valid domain name",
			    arg);
		return domain_key(ps, domain_get(ps->conf, name), key, v);
	}
	if (!strncmp(section, "dependent ", 10)) {
		arg = section + 10;
		while (*arg == ' ')
			arg++;
		if (*arg == '\0' || strlen(arg) > 63 || strchr(arg, ' '))
			return fail(ps, "[dependent %s]: name must be one word "
			    "of at most 63 characters", arg);
		return dependent_key(ps, dependent_get(ps->conf, arg), key, v);
	}
	if (*section == '\0')
		return fail(ps, "\"%s\" outside a section (start with [certd])",
		    key);
	return fail(ps, "unknown section [%s] (expected [certd], "
	    "[domain NAME] or [dependent NAME])", section);
}

/* Checks that need the whole file. */
static int
conf_check(struct certd_conf *c, char *err, size_t errlen)
{
	struct dependent_conf	*p;

	TAILQ_FOREACH(p, &c->dependents, entry) {
		if ((p->unit != NULL) + (p->exec != NULL) +
		    (p->haproxy_socket != NULL) != 1) {
			snprintf(err, errlen, "[dependent %s]: needs exactly "
			    "one of unit =, exec = or haproxy_socket =",
			    p->name);
			return -1;
		}
		if (p->exec_expect != NULL && p->exec == NULL) {
			snprintf(err, errlen, "[dependent %s]: exec_expect "
			    "without exec =", p->name);
			return -1;
		}
		if ((p->haproxy_socket == NULL) != (p->haproxy_crt == NULL)) {
			snprintf(err, errlen, "[dependent %s]: haproxy_socket "
			    "and haproxy_crt go together", p->name);
			return -1;
		}
		if (p->verify_name != NULL && p->verify_host == NULL) {
			snprintf(err, errlen, "[dependent %s]: verify_name "
			    "without verify = HOST:PORT", p->name);
			return -1;
		}
	}
	return 0;
}

struct certd_conf *
conf_load(const char *path, char *err, size_t errlen)
{
	struct certd_conf	*c;
	FILE			*f;

	if (path == NULL)
		return conf_new();
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	c = conf_read(f, path, err, errlen);
	fclose(f);
	return c;
}

struct certd_conf *
conf_read(FILE *f, const char *path, char *err, size_t errlen)
{
	struct parse_state	 ps;
	int			 line;
	char			 cerr[256];

	memset(&ps, 0, sizeof(ps));
	ps.conf = conf_new();
	ps.f = f;
	line = ini_parse_stream(read_line, &ps, handler, &ps);
	if (line == 0 && ps.toolong != 0) {
		snprintf(err, errlen, "%s:%d: line longer than %d bytes; for a "
		    "long command, put it in a script and name the script",
		    path, ps.toolong, INI_MAX_LINE - 3);
		goto fail;
	}
	if (line != 0) {
		if (line == -1)
			snprintf(err, errlen, "%s: cannot read", path);
		else
			snprintf(err, errlen, "%s:%d: %s", path, line,
			    ps.err[0] ? ps.err : "syntax error (expected "
			    "[section] or key = value)");
		goto fail;
	}
	if (conf_check(ps.conf, cerr, sizeof(cerr)) == -1) {
		snprintf(err, errlen, "%s: %s", path, cerr);
		goto fail;
	}
	if (remote_check(ps.conf, &line, cerr, sizeof(cerr)) == -1) {
		snprintf(err, errlen, "%s:%d: %s", path, line, cerr);
		goto fail;
	}
	ps.conf->path = xstrdup(path);
	return ps.conf;
fail:
	conf_free(ps.conf);
	return NULL;
}

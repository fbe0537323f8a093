/*
 * conf_print.c: the effective configuration, as `certd -t` prints it: every
 * key with its value, defaults included, in a form conf_load reads back to
 * the same configuration (test_conf and fuzz_conf hold it to that).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "util.h"

static void
print_argv(FILE *f, const char *key, char **argv)
{
	char	*s;

	if (argv == NULL)
		return;
	s = conf_join_argv(argv);
	fprintf(f, "%s = %s\n", key, s != NULL ? s : "");
	free(s);
}

static void
print_list(FILE *f, const char *key, char **list, const char *sep)
{
	size_t	 i;

	if (list == NULL)
		return;
	fprintf(f, "%s = ", key);
	for (i = 0; list[i] != NULL; i++)
		fprintf(f, "%s%s", i ? sep : "", list[i]);
	fprintf(f, "\n");
}

/* key = HOST:PORT, an IPv6 address in brackets. */
static void
print_hostport(FILE *f, const char *key, const char *host, const char *port)
{
	if (strchr(host, ':') != NULL)
		fprintf(f, "%s = [%s]:%s\n", key, host, port);
	else
		fprintf(f, "%s = %s:%s\n", key, host, port);
}

static void
print_remote(const struct certd_conf *c, FILE *f)
{
	size_t	 i;

	for (i = 0; i < c->nlisten; i++)
		print_hostport(f, "listen", c->listen[i].host,
		    c->listen[i].port);
	if (c->nlisten == 0)
		return;
	fprintf(f, "tls_cert = %s\n", c->tls_cert);
	fprintf(f, "tls_key = %s\n", c->tls_key);
	fprintf(f, "client_ca = %s\n", c->client_ca);
	if (c->client_crl != NULL)
		fprintf(f, "client_crl = %s\n", c->client_crl);
	for (i = 0; c->client_allow != NULL && c->client_allow[i] != NULL; i++)
		fprintf(f, "client_allow = %s\n", c->client_allow[i]);
}

void
conf_print(const struct certd_conf *c, FILE *f)
{
	const struct domain_conf	*d;
	const struct dependent_conf	*p;
	int				 i;

	fprintf(f, "# effective configuration (%s)\n",
	    c->path != NULL ? c->path : "built-in defaults");
	fprintf(f, "[certd]\n");
	fprintf(f, "state_dir = %s\n", c->state_dir);
	fprintf(f, "socket = %s\n", c->socket);
	fprintf(f, "socket_mode = %04o\n", (unsigned)c->socket_mode);
	fprintf(f, "admin_group = %s\n", c->admin_group);
	fprintf(f, "key_group = %s\n", c->key_group);
	/* Passwords are printed: they are configuration the admin wrote,
	 * and `certd -t` is for root.  Trust-store passwords guard integrity,
	 * not secrecy (Java's default is "changeit"). */
	fprintf(f, "truststore_password = %s\n", c->truststore_password);
	fprintf(f, "truststore_include_system = %s\n",
	    c->truststore_include_system ? "yes" : "no");
	if (c->keystore_password != NULL)
		fprintf(f, "keystore_password = %s\n", c->keystore_password);
	fprintf(f, "keep_generations = %d\n", c->keep_generations);
	fprintf(f, "stop_timeout = %dms\n", c->stop_timeout_ms);
	print_remote(c, f);

	TAILQ_FOREACH(d, &c->domains, entry) {
		fprintf(f, "\n[domain %s]\n", d->name);
		for (i = 0; i < PUB_MAX; i++)
			if (d->publish[i] != NULL)
				fprintf(f, "%s = %s\n", conf_publish_key(i),
				    d->publish[i]);
		fprintf(f, "publish_replace = %s\n",
		    d->publish_replace ? "yes" : "no");
	}
	TAILQ_FOREACH(p, &c->dependents, entry) {
		fprintf(f, "\n[dependent %s]\n", p->name);
		if (p->unit != NULL) {
			fprintf(f, "unit = %s\n", p->unit);
			fprintf(f, "action = %s\n", conf_action_name(p->action));
		}
		print_argv(f, "exec", p->exec);
		if (p->exec_expect != NULL)
			fprintf(f, "exec_expect = %s\n", p->exec_expect);
		if (p->haproxy_socket != NULL) {
			fprintf(f, "haproxy_socket = %s\n", p->haproxy_socket);
			fprintf(f, "haproxy_crt = %s\n", p->haproxy_crt);
		}
		print_argv(f, "configtest", p->configtest);
		if (p->verify_host != NULL) {
			print_hostport(f, "verify", p->verify_host,
			    p->verify_port);
			if (p->verify_name != NULL)
				fprintf(f, "verify_name = %s\n", p->verify_name);
			fprintf(f, "verify_timeout = %dms\n",
			    p->verify_timeout_ms);
			fprintf(f, "verify_count = %d\n", p->verify_count);
		}
		fprintf(f, "timeout = %dms\n", p->timeout_ms);
		print_list(f, "domains", p->domains, " ");
	}
}

/*
 * fuzz_conf.c: certd.conf (conf_read: inih with certd's own line reader,
 * and every key's value parser).  A config that loads must mean what
 * certd -t says it means: conf_print's output loads again and prints the
 * same, and what was accepted holds the rules of conf.h (absolute paths
 * and commands, one of unit/exec, valid domains).  Corpus: corpus/conf/.
 */
#include "config.h"

#include <string.h>

#include <ini.h>

#include "conf.h"
#include "fuzz.h"
#include "names.h"

/* The longest line of s, its newline counted. */
static size_t
longest_line(const char *s)
{
	size_t	 n, max = 0;

	for (; *s != '\0'; s += n) {
		n = strcspn(s, "\n");
		if (s[n] == '\n')
			n++;
		if (n > max)
			max = n;
	}
	return max;
}

static char *
print(const struct certd_conf *c, size_t *len)
{
	FILE	*f;
	char	*s = NULL;

	if ((f = open_memstream(&s, len)) == NULL)
		abort();
	conf_print(c, f);
	fclose(f);
	return s;
}

static void
rules(const struct certd_conf *c)
{
	const struct domain_conf	*d;
	const struct dependent_conf	*p;
	size_t				 i;
	int				 k;

	FUZZ_CHECK(c->keep_generations >= 2 && c->keep_generations <= 1000,
	    "keep_generations");
	FUZZ_CHECK(strlen(c->socket) < 108, "socket path length");
	FUZZ_CHECK(c->truststore_password[0] != '\0', "empty password");
	TAILQ_FOREACH(d, &c->domains, entry) {
		FUZZ_CHECK(domain_valid(d->name), "a domain section's name");
		for (k = 0; k < PUB_MAX; k++)
			FUZZ_CHECK(d->publish[k] == NULL ||
			    d->publish[k][0] == '/', "a relative publish path");
	}
	TAILQ_FOREACH(p, &c->dependents, entry) {
		/* One way to reload: a unit, a command or HAProxy's API. */
		FUZZ_CHECK((p->unit != NULL) + (p->exec != NULL) +
		    (p->haproxy_socket != NULL) == 1, "unit, exec, haproxy");
		FUZZ_CHECK((p->haproxy_socket == NULL) ==
		    (p->haproxy_crt == NULL), "haproxy_socket without crt");
		FUZZ_CHECK(p->exec == NULL || p->exec[0][0] == '/',
		    "a relative command");
		FUZZ_CHECK(p->configtest == NULL || p->configtest[0][0] == '/',
		    "a relative configtest");
		FUZZ_CHECK(p->verify_name == NULL || p->verify_host != NULL,
		    "verify_name without verify");
		for (i = 0; p->domains != NULL && p->domains[i] != NULL; i++)
			FUZZ_CHECK(domain_valid(p->domains[i]),
			    "a dependent's domain");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct certd_conf	*c, *c2;
	FILE			*f;
	char			 err[512], *p1, *p2;
	size_t			 l1, l2;

	if (len == 0 || (f = fmemopen((void *)data, len, "r")) == NULL)
		return 0;
	err[0] = '\0';
	c = conf_read(f, "fuzz.conf", err, sizeof(err));
	fclose(f);
	if (c == NULL) {
		FUZZ_CHECK(strncmp(err, "fuzz.conf:", 10) == 0,
		    "an error without file:line");
		return 0;
	}
	rules(c);
	p1 = print(c, &l1);
	if ((f = fmemopen(p1, l1, "r")) == NULL)
		abort();
	c2 = conf_read(f, "fuzz.conf", err, sizeof(err));
	fclose(f);
	if (c2 == NULL && longest_line(p1) >= INI_MAX_LINE - 1 &&
	    strstr(err, "line longer than") != NULL) {
		/* Quoting and " = " can take a line near inih's limit over
		 * it; certd then says so, which is all it can do. */
		free(p1);
		conf_free(c);
		return 0;
	}
	if (c2 == NULL)
		fprintf(stderr, "printed:\n%s\nreads as: %s\n", p1, err);
	FUZZ_CHECK(c2 != NULL, "certd -t's output does not load");
	p2 = print(c2, &l2);
	if (l1 != l2 || memcmp(p1, p2, l1) != 0)
		fprintf(stderr, "printed:\n%s\nthen:\n%s\n", p1, p2);
	FUZZ_CHECK(l1 == l2 && memcmp(p1, p2, l1) == 0,
	    "certd -t's output loads as another config");
	free(p1);
	free(p2);
	conf_free(c2);
	conf_free(c);
	return 0;
}

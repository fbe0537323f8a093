/*
 * fuzz_route.c: the control API's router (api_route).  Input: one method
 * byte, then the path.  The router is checked against the endpoint table
 * of docs/api.md, written out again here: a route is found only for a
 * documented method and path, a domain's path only names a valid domain
 * (so never "..", "/" or a NUL in it), and the verdict does not depend on
 * the case of the domain.  Corpus: corpus/route/.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "fuzz.h"
#include "names.h"

/* docs/api.md, "Endpoints".  suffix NULL: path is the whole path. */
static const struct {
	enum control_method	 method;
	const char		*path, *suffix;
} doc[] = {
	{ METHOD_GET, "/v1/status", NULL },
	{ METHOD_GET, "/metrics", NULL },
	{ METHOD_POST, "/v1/certificates", NULL },
	{ METHOD_POST, "/v1/reload", NULL },
	{ METHOD_GET, "/v1/domains/", "" },
	{ METHOD_POST, "/v1/domains/", "/bundle" },
	{ METHOD_DELETE, "/v1/domains/", "/staged" },
	{ METHOD_POST, "/v1/domains/", "/rollback" },
	{ METHOD_POST, "/v1/domains/", "/render" },
};

/* Is path one of the documented ones (any method)?  With a domain, the
 * part after /v1/domains/ is a domain (maybe with the one trailing dot
 * names.h drops) that folds to domain, then the suffix. */
static int
documented(const char *path, const char *domain, enum control_method *m,
    size_t nm)
{
	const char	*rest;
	size_t		 i, dl = strlen(domain);
	size_t		 n = 0;

	for (i = 0; i < sizeof(doc) / sizeof(doc[0]); i++) {
		if (doc[i].suffix == NULL) {
			if (strcmp(path, doc[i].path) != 0)
				continue;
		} else {
			if (strncmp(path, doc[i].path, strlen(doc[i].path)) != 0)
				continue;
			rest = path + strlen(doc[i].path);
			if (dl == 0 || strncasecmp(rest, domain, dl) != 0)
				continue;
			rest += dl;
			if (*rest == '.')
				rest++;
			if (strcmp(rest, doc[i].suffix) != 0)
				continue;
		}
		if (n < nm)
			m[n] = doc[i].method;
		n++;
	}
	return (int)n;
}

/*
 * What docs/api.md says of method and path: 1 a route, 0 no route for this
 * method but for another (405), -1 no such path (404), -2 a domain's path
 * whose domain is not a domain name (400).
 */
static int
expected(enum control_method m, const char *path)
{
	char		 raw[DOMAIN_MAX + 2], folded[DOMAIN_MAX + 1];
	enum control_method ms[8];
	const char	*p = path + 12;
	size_t		 n, i;
	int		 nm;

	if (strncmp(path, "/v1/domains/", 12) != 0 || *p == '\0')
		nm = documented(path, "", ms, 8);
	else {
		if ((n = strcspn(p, "/")) >= sizeof(raw))
			return -2;
		memcpy(raw, p, n);
		raw[n] = '\0';
		if (domain_fold(raw, folded) == -1)
			return -2;
		nm = documented(path, folded, ms, 8);
	}
	for (i = 0; i < (size_t)nm; i++)
		if (ms[i] == m)
			return 1;
	return nm > 0 ? 0 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	enum control_method	 m, ms[8];
	const char		*suffix = NULL, *s2;
	char			*path, *upper, domain[DOMAIN_MAX + 1];
	char			 d2[DOMAIN_MAX + 1];
	size_t			 i;
	int			 r, r2, want;

	if (len < 1)
		return 0;
	m = (enum control_method)(data[0] % 4);
	/* A path arrives as a C string: evhttp stops at a NUL. */
	path = malloc(len);
	memcpy(path, data + 1, len - 1);
	path[len - 1] = '\0';

	r = api_route(m, path, domain, &suffix);
	want = expected(m, path);
	FUZZ_CHECK(want == 1 ? r >= 0 : want == 0 ? r == API_BAD_METHOD :
	    want == -1 ? r == API_NOT_FOUND : r == API_BAD_DOMAIN,
	    "the router and docs/api.md disagree");
	if (r >= 0) {
		FUZZ_CHECK(strstr(path, "//") == NULL, "a route for \"//\"");
		FUZZ_CHECK(strstr(path, "/../") == NULL &&
		    strstr(path, "/./") == NULL, "a route for a dot segment");
		FUZZ_CHECK(domain[0] == '\0' || domain_valid(domain),
		    "a route for a domain that is not one");
		FUZZ_CHECK(strchr(domain, '/') == NULL &&
		    strstr(domain, "..") == NULL, "a domain with / or ..");
		FUZZ_CHECK((suffix != NULL) == (domain[0] != '\0'),
		    "a domain's route without one");
		FUZZ_CHECK(documented(path, domain, ms, 8) > 0,
		    "the domain is not the path's");
	} else
		FUZZ_CHECK(domain[0] == '\0', "a domain with no route");

	/* The domain is case-insensitive: the same path with the domain in
	 * capitals routes the same. */
	upper = strdup(path);
	if (strncmp(upper, "/v1/domains/", 12) == 0)
		for (i = 12; upper[i] != '\0' && upper[i] != '/'; i++)
			upper[i] = toupper((unsigned char)upper[i]);
	r2 = api_route(m, upper, d2, &s2);
	FUZZ_CHECK(r2 == r && strcmp(d2, domain) == 0,
	    "the domain's case changed the route");
	free(upper);
	free(path);
	return 0;
}

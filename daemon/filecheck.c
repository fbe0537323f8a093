/*
 * filecheck.c: after a start, each settled domain's `current` is checked
 * against the store and the configuration, in the background, and
 * rendered again where it is missing, damaged, incomplete or made under
 * another configuration.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "commit.h"
#include "filecheck.h"
#include "gendir.h"
#include "keystore.h"
#include "log.h"
#include "loop.h"
#include "render.h"
#include "util.h"

/*
 * The files of 10,000 domains take seconds to re-hash, so certd answers
 * first and checks them in the background: one domain (about half a
 * millisecond) per turn of the event loop, at the lowest priority, so
 * only when no request or reply is waiting.  Finer than a time slice: a
 * large reply that fills the socket buffer waits for the current check
 * each time it does, and a 3 MB status fills it a dozen times.  Until a
 * domain is checked, status calls it unchecked.
 */

static struct event_base		*base;
static struct keystore			*ks;
static const struct certd_conf		*conf;
static void				(*changed)(void);

static struct {
	char		**v;		/* settled domains at start, sorted */
	size_t		  n, next;
	struct event	 *ev;
} checker;

static int
collect(const char *domain, void *arg)
{
	checker.v = xreallocarray(checker.v, checker.n + 1,
	    sizeof(*checker.v));
	checker.v[checker.n++] = xstrdup(domain);
	return 0;
}

static int
cmp_name(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

static int
cmp_name2(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
filecheck_pending(const char *domain)
{
	return checker.next < checker.n && bsearch(domain,
	    checker.v + checker.next, checker.n - checker.next,
	    sizeof(*checker.v), cmp_name) != NULL;
}

size_t
filecheck_count(void)
{
	return checker.n - checker.next;
}

void
filecheck_free(void)
{
	size_t	 i;

	for (i = 0; i < checker.n; i++)
		free(checker.v[i]);
	free(checker.v);
	checker.v = NULL;
	checker.n = checker.next = 0;
	loop_event_free(checker.ev);
	checker.ev = NULL;
}

/* Does gen's manifest say it was rendered from what the store and the
 * config hold now?  1 yes, 0 no, -1 cannot tell. */
static int
inputs_match(const char *domain, int64_t gen)
{
	struct ks_item		*items = NULL;
	struct cert_error	 err;
	char			 inputs[65];
	size_t			 n = 0;
	int			 dfd, rc = -1;

	if (keystore_items(ks, domain, gen, &items, &n, &err) == 0 &&
	    render_inputs(conf, domain, gen, items, n, inputs, &err) == 0 &&
	    (dfd = gendir_open(conf, domain, 0)) != -1) {
		rc = gendir_check_at(dfd, domain, gen, inputs);
		close(dfd);
	}
	ks_items_free(items, n);
	return rc;
}

/* Is domain's `current` the store's current generation, whole, and
 * rendered under the config certd runs with?  If not, render it again:
 * 1 if it did (a key was decoded), else 0. */
static int
check_domain(const char *domain)
{
	struct log_fields	 f = { .domain = domain };
	struct ks_state		 st;
	struct cert_error	 err;
	int64_t			 cur;
	const char		*why;

	if (keystore_state(ks, domain, &st, &err) == -1 || st.current <= 0 ||
	    st.pending != 0 || st.unsettled)
		return 0;	/* a commit or a recovery has it now */
	gendir_clean(conf, domain);
	cur = gendir_current(conf, domain);
	if (cur == 0)
		why = "missing";
	else if (cur < 0)
		why = "damaged";
	else if (cur != st.current)
		why = "name another generation";
	else if (inputs_match(domain, st.current) == 1)
		return 0;
	else if (!gendir_check(conf, domain, st.current))
		why = "incomplete";
	else
		why = "rendered under another configuration";
	f.generation = st.current;
	log_fields(LOG_NOTICE, &f, "%s: current files %s; rendering "
	    "generation %lld from the store", domain, why,
	    (long long)st.current);
	if (commit_render_generation(domain, st.current, &err) == -1) {
		f.code = "render-failed";
		log_fields(LOG_ERR, &f, "%s: %s", domain, err.message);
	}
	return 1;
}

static void
check_slice(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	 now = { 0, 0 };

	if (checker.next < checker.n && !commit_stopping() &&
	    check_domain(checker.v[checker.next++]))
		stack_scrub();		/* the render decoded a key */
	if (checker.next < checker.n && !commit_stopping()) {
		evtimer_add(checker.ev, &now);
		return;
	}
	if (!commit_stopping())
		log_info("the files of %zu domains checked", checker.n);
	filecheck_free();
	changed();
}

void
filecheck_start(struct event_base *b, struct keystore *k,
    const struct certd_conf *c, void (*changed_cb)(void))
{
	struct cert_error	 err;
	struct timeval		 now = { 0, 0 };

	base = b;
	ks = k;
	conf = c;
	changed = changed_cb;
	if (keystore_settled(ks, collect, NULL, &err) == -1) {
		log_warnx("cannot list domains to check: %s", err.message);
		return;
	}
	if (checker.n == 0)
		return;
	qsort(checker.v, checker.n, sizeof(*checker.v), cmp_name2);
	if ((checker.ev = evtimer_new(base, check_slice, NULL)) == NULL)
		fatalx("cannot create an event");
	event_priority_set(checker.ev, event_base_get_npriorities(base) - 1);
	evtimer_add(checker.ev, &now);
}

void
filecheck_set_conf(const struct certd_conf *c)
{
	conf = c;
}

/*
 * test_commit.c: commit.c's decisions on a real event base, store and
 * state directory, with exec dependents that pass or fail on a marker:
 * live or rolled back, what the store and `current` say after each, the
 * rollback target, the queue's order and bounds, the stop, and recovery
 * of what a crash left pending or unsettled.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "commit.h"
#include "conf.h"
#include "gendir.h"
#include "keystore.h"
#include "testpki.h"
#include "util.h"

#define DOMAIN	"example.com"

static char			 dir[] = "/tmp/certd-test-commit.XXXXXX";
static struct event_base	*base;
static struct keystore		*ks;
static struct certd_conf	*conf;
static struct tpki_chain	 pki;
static int			 idle_calls, changed_calls;

/* One answer, as api.c would receive it. */
struct answer {
	int			 called;
	int			 err;		/* an error code, or 0 */
	char			 message[1024];
	struct commit_result	 res;
};

static void
on_idle(void)
{
	idle_calls++;
}

static void
on_changed(void)
{
	changed_calls++;
}

static void
answered(void *arg, const struct commit_result *res,
    const struct cert_error *err)
{
	struct answer	*a = arg;

	a->called++;
	a->res = *res;
	a->err = err != NULL ? (int)err->code : 0;
	if (err != NULL)
		strlcpy(a->message, err->message, sizeof(a->message));
}

/* Run the loop until every answer in a[] has come (20 s at most). */
static void
wait_answers(struct answer *a, size_t n)
{
	int64_t	 t0 = now_ms();
	size_t	 i, done;

	for (;;) {
		for (i = done = 0; i < n; i++)
			done += a[i].called;
		if (done == n)
			return;
		if (now_ms() - t0 > 20000)
			fail_msg("%zu of %zu answers after 20 s", done, n);
		event_base_loop(base, EVLOOP_ONCE);
	}
}

/* marker(name, "gen-2"): the dependents fail on generation 2's files;
 * marker(name, NULL): they pass again. */
static void
marker(const char *name, const char *gen)
{
	char	 path[128];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (gen == NULL) {
		unlink(path);
		return;
	}
	assert_non_null(f = fopen(path, "w"));
	fputs(gen, f);
	fclose(f);
}

/* The config: the configtest fails on the files of the generation the
 * marker "fail" names, the reload on those "failreload" names. */
static void
make_conf(void)
{
	char	 path[128], err[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/certd.conf", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "[certd]\nstate_dir = %s/state\nkeep_generations = 3\n"
	    "[dependent web]\n", dir);
	fprintf(f, "configtest = /bin/sh -c 'test \"$(readlink %s/state/"
	    "domains/" DOMAIN "/current)\" != \"$(cat %s/fail)\"'\n", dir, dir);
	fprintf(f, "exec = /bin/sh -c 'test \"$(readlink %s/state/domains/"
	    DOMAIN "/current)\" != \"$(cat %s/failreload)\"'\n", dir, dir);
	fclose(f);
	if ((conf = conf_load(path, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
}

/* A new server certificate for DOMAIN (so each upload differs). */
static int
upload_leaf(struct answer *a)
{
	struct upload		 u;
	struct cert_error	 err;
	static const char *const dns[] = { DOMAIN, NULL };
	EVP_PKEY		*k = tpki_key(TPKI_EC256);
	struct tpki_opts	 o = { .cn = DOMAIN, .dns = dns,
				    .eku = TPKI_EKU_SERVER };
	X509			*x = tpki_cert(&o, k, pki.inter[0],
				    pki.inter_key[0]);
	char			*cert = tpki_cert_pem(x);
	char			*key = tpki_key_pem(k, TPKI_KEY_PKCS8);
	int			 rc;

	memset(&u, 0, sizeof(u));
	memset(a, 0, sizeof(*a));
	u.domain = DOMAIN;
	u.name = "server";
	u.cert = cert;
	u.cert_len = strlen(cert);
	u.key = key;
	u.key_len = strlen(key);
	rc = commit_upload(&u, &a->res, answered, a, &err);
	if (rc == -1) {
		a->called = 1;
		a->err = (int)err.code;
		strlcpy(a->message, err.message, sizeof(a->message));
	}
	free(cert);
	freezero(key, strlen(key));
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

/* root and intermediate, staged at once (no queue). */
static void
stage_cas(void)
{
	struct upload		 u;
	struct commit_result	 res;
	struct cert_error	 err;
	char			*root = tpki_cert_pem(pki.root);
	char			*inter = tpki_cert_pem(pki.inter[0]);

	memset(&u, 0, sizeof(u));
	u.domain = DOMAIN;
	u.name = "root";
	u.seq = 1;
	u.cert = root;
	u.cert_len = strlen(root);
	assert_int_equal(commit_upload(&u, &res, NULL, NULL, &err), 0);
	u.name = "inter";
	u.seq = 2;
	u.cert = inter;
	u.cert_len = strlen(inter);
	assert_int_equal(commit_upload(&u, &res, NULL, NULL, &err), 0);
	assert_int_equal(res.staged, 2);
	free(root);
	free(inter);
}

static void
commit_ok(int64_t gen)
{
	struct answer	 a;

	assert_int_equal(upload_leaf(&a), 1);
	wait_answers(&a, 1);
	if (a.err != 0)
		fail_msg("commit: %s", a.message);
	assert_string_equal(a.res.reload.result, "ok");
	assert_int_equal(a.res.up.generation, gen);
}

static struct ks_state
domain_state(void)
{
	struct ks_state		 st;
	struct cert_error	 err;

	assert_int_equal(keystore_state(ks, DOMAIN, &st, &err), 0);
	return st;
}

static const char *
gen_state(int64_t gen)
{
	static char		 s[16];
	struct ks_domain	*d;
	struct cert_error	 err;
	size_t			 i;

	strlcpy(s, "gone", sizeof(s));
	assert_int_equal(keystore_domain(ks, DOMAIN, &d, &err), 0);
	for (i = 0; i < d->ngens; i++)
		if (d->gens[i].generation == gen)
			strlcpy(s, d->gens[i].state, sizeof(s));
	keystore_domain_free(d);
	return s;
}

/* Settled on current (0: none): nothing pending, and `current` names it. */
static void
assert_settled(int64_t current)
{
	struct ks_state	 st = domain_state();

	assert_int_equal(st.current, current);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.unsettled, 0);
	assert_int_equal(gendir_current(conf, DOMAIN), current);
}

/* An upload whose dependents fail on generation gen's files ("gen-N"). */
static void
upload_failing(struct answer *a, const char *gen)
{
	marker("fail", gen);
	assert_int_equal(upload_leaf(a), 1);
	wait_answers(a, 1);
	marker("fail", NULL);
}

/* What certd does at start: recover, and run until it is idle again. */
static void
recover(void)
{
	idle_calls = 0;
	commit_recover();
	while (idle_calls == 0)
		event_base_loop(base, EVLOOP_ONCE);
}

static int
setup(void **state)
{
	static const struct commit_hooks hooks = { on_idle, on_changed };
	struct cert_error	 err;
	char			 path[160];

	strcpy(dir, "/tmp/certd-test-commit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	make_conf();
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/state/certd.db", dir);
	if ((ks = keystore_open(path, &err)) == NULL)
		fail_msg("%s", err.message);
	assert_non_null(base = event_base_new());
	commit_init(base, ks, conf, &hooks);
	assert_int_equal(tpki_chain_make(&pki, DOMAIN, 1, TPKI_EC256), 0);
	stage_cas();
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[160];

	commit_free();
	keystore_close(ks);
	conf_free(conf);
	event_base_free(base);
	tpki_chain_free(&pki);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Passing dependents: live, current, settled; `current` names it. */
static void
test_commit_goes_live(void **state)
{
	commit_ok(1);
	commit_ok(2);
	assert_settled(2);
	assert_string_equal(gen_state(2), "live");
	assert_false(commit_busy());
}

/* A failing configtest: the store says rolled back, the files go back,
 * the dependents run again on the old generation. */
static void
test_failure_rolls_back(void **state)
{
	struct answer	 a;
	size_t		 i, second = 0;

	commit_ok(1);
	upload_failing(&a, "gen-2");
	assert_int_equal(a.err, 0);
	assert_string_equal(a.res.reload.result, "rolled-back");
	assert_int_equal(a.res.reload.generation, 1);
	assert_non_null(strstr(a.res.reload.message, "rolled back to "
	    "generation 1"));
	/* The failed configtest, then the rerun on generation 1. */
	for (i = 1; i < a.res.reload.nsteps; i++)
		if (strcmp(a.res.reload.steps[i].step, "configtest") == 0)
			second = i;
	assert_true(second > 0);
	assert_true(a.res.reload.steps[second].ok);
	assert_settled(1);
	assert_string_equal(gen_state(2), "rolled-back");
}

/* A first commit that fails: nothing is served, the generation failed. */
static void
test_first_failure_serves_nothing(void **state)
{
	struct answer	 a;

	upload_failing(&a, "gen-1");
	assert_string_equal(a.res.reload.result, "failed");
	assert_non_null(strstr(a.res.reload.message, "nothing of "
	    DOMAIN " is served"));
	assert_settled(0);
	assert_string_equal(gen_state(1), "failed");
	/* The next one is generation 2, and goes live. */
	commit_ok(2);
}

/* rollback with no generation: the newest live one before current. */
static void
test_rollback_target(void **state)
{
	struct commit_result	 res;
	struct cert_error	 err;
	struct answer		 a;

	commit_ok(1);
	commit_ok(2);
	upload_failing(&a, "gen-3");		/* 3: rolled back */
	commit_ok(4);
	/* From 4, "previous" skips rolled-back 3: it is 2. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(commit_rollback(DOMAIN, 0, &res, answered, &a, &err),
	    1);
	wait_answers(&a, 1);
	assert_int_equal(a.err, 0);
	assert_string_equal(a.res.reload.result, "ok");
	assert_int_equal(domain_state().current, 2);
	assert_string_equal(gen_state(4), "rolled-back");
	/* A rollback that fails its dependents stays where it was. */
	marker("failreload", "gen-1");
	memset(&a, 0, sizeof(a));
	assert_int_equal(commit_rollback(DOMAIN, 1, &res, answered, &a, &err),
	    1);
	wait_answers(&a, 1);
	marker("failreload", NULL);
	assert_string_equal(a.res.reload.result, "rolled-back");
	assert_int_equal(domain_state().current, 2);
	assert_string_equal(gen_state(1), "live");
	assert_int_equal(gendir_current(conf, DOMAIN), 2);
	/* No such generation: E_NOT_FOUND, nothing changed. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(commit_rollback(DOMAIN, 42, &res, answered, &a, &err),
	    1);
	wait_answers(&a, 1);
	assert_int_equal(a.err, E_NOT_FOUND);
	assert_int_equal(domain_state().current, 2);
}

/* Queued changes run in order; the 65th waiting one is E_BUSY; a stop
 * answers the queued E_STOPPING and takes no more. */
static void
test_queue_and_stop(void **state)
{
	struct answer	*a;
	size_t		 i, n = COMMIT_QUEUE_MAX + 1;

	commit_ok(1);
	a = xcalloc(n, sizeof(*a));
	/* None is in flight until the loop runs: 64 fit. */
	for (i = 0; i < n; i++)
		upload_leaf(&a[i]);
	for (i = 0; i < n - 1; i++)
		assert_int_equal(a[i].called, 0);
	assert_int_equal(a[n - 1].called, 1);
	assert_int_equal(a[n - 1].err, E_BUSY);
	/* Run two, then stop: the rest are E_STOPPING. */
	wait_answers(a, 2);
	idle_calls = 0;
	commit_stop(1000);
	wait_answers(a, n);
	assert_int_equal(a[0].err, 0);
	assert_int_equal(a[0].res.up.generation, 2);
	for (i = 3; i < n - 1; i++)
		assert_int_equal(a[i].err, E_STOPPING);
	assert_true(idle_calls >= 1);
	assert_true(commit_stopping());
	assert_int_equal(upload_leaf(&a[0]), -1);
	assert_int_equal(a[0].err, E_STOPPING);
	free(a);
}

/* What a crash left: a pending generation whose files are whole is tried
 * again and goes live; an unsettled domain gets its dependents again. */
static void
test_recover(void **state)
{
	struct cert_error	 err;
	struct chain		*c;

	commit_ok(1);
	commit_ok(2);
	/* As if certd died during generation 2's... no: make 1 pending
	 * again, the way a rollback request leaves it. */
	assert_int_equal(keystore_set_pending(ks, DOMAIN, 1, "crash test",
	    &err), 0);
	assert_int_equal(keystore_generation(ks, DOMAIN, 1, &c, &err), 0);
	chain_free(c);
	recover();
	assert_settled(1);
	/* An unsettled domain whose files name another generation: back to
	 * the store's current, dependents run, settled. */
	assert_int_equal(gendir_swap(conf, DOMAIN, 2, &err), 0);
	assert_int_equal(keystore_set_pending(ks, DOMAIN, 2, "x", &err), 0);
	assert_int_equal(keystore_drop_pending(ks, DOMAIN, 2, "live", "x",
	    &err), 0);
	assert_int_equal(domain_state().unsettled, 1);
	recover();
	assert_settled(1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_commit_goes_live),
		T(test_failure_rolls_back),
		T(test_first_failure_serves_nothing),
		T(test_rollback_target),
		T(test_recover),
		T(test_queue_and_stop),	/* last: commit.c stays stopped */
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

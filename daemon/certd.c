/*
 * certd.c: the daemon's main: options, config, keystore open and repair;
 * it wires the transport (control.c) to the routes (api.c) and the work
 * (commit.c), and handles signals (SIGHUP reload, SIGTERM drain) and the
 * daily expiry check.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "api.h"
#include "commit.h"
#include "filecheck.h"
#include "conf.h"
#include "control.h"
#include "keystore.h"
#include "log.h"
#include "loop.h"
#include "status.h"
#include "sysd.h"
#include "util.h"

#define EXPIRY_CHECK_SECS	(24 * 60 * 60)
#define CREDENTIAL_MAX		4096

/* The daemon's state; the modules get what they need of it at init. */
static struct certd {
	struct event_base	*base;
	struct certd_conf	*conf;
	char			*conf_path;	/* NULL: built-in defaults */
	char			*dir_override;	/* -D DIR */
	struct keystore		*ks;
	struct control		*control;
	int			 stopping;	/* SIGTERM seen */
} the_certd, *certd = &the_certd;


static void
usage(FILE *f)
{
	fprintf(f,
"usage: certd [-dtv] [-f CONFIG] [-D DIR]\n"
"\n"
"certd keeps each domain's certificate chain (root, intermediates, server\n"
"certificate and key) in a SQLite keystore, renders every file local\n"
"services read (PEM, JKS, PKCS#12, Apache config), swaps them in atomically,\n"
"reloads the services that use them and checks the new certificate is served.\n"
"certctl(8) talks to it over the control socket.\n"
"\n"
"OPTIONS\n"
"  -f CONFIG   configuration file (default: %s/certd/certd.conf\n"
"              if it exists, else the built-in defaults)\n"
"  -d          log to stderr instead of the journal (certd never forks;\n"
"              under systemd it is Type=notify)\n"
"  -t          check the configuration, print the effective one, exit\n"
"  -D DIR      keep state and the socket in DIR (state_dir = DIR,\n"
"              socket = DIR/control.sock); for trying certd out:\n"
"              certd -d -D ./run\n"
"  -v          verbose (debug) logging\n"
"  --help      this text\n"
"  --version   print the version\n"
"\n"
"FILES\n"
"  %s/certd/certd.conf\n"
"                                  configuration (INI)\n"
"  STATE_DIR/certd.db              keystore (SQLite, mode 0600)\n"
"  STATE_DIR/domains/D/current/    rendered files of domain D\n"
"  /run/certd/control.sock         control socket (HTTP/1.1, JSON)\n"
"  $CREDENTIALS_DIRECTORY/certd.key  if present, keys are stored encrypted\n"
"\n"
"SIGNALS\n"
"  SIGHUP      reload the configuration (a bad one is refused and logged,\n"
"              the running one stays) and refresh publish links\n"
"  SIGTERM, SIGINT  stop accepting, finish a commit in flight, exit 0\n"
"\n"
"EXIT STATUS\n"
"  0 clean stop or valid configuration (-t); 1 bad configuration or a\n"
"  failed start (message on stderr or in the journal)\n",
	    SYSCONFDIR, SYSCONFDIR);
}

/* -D DIR and the parts of a config that cannot change while running. */
static int
apply_overrides(struct certd_conf *conf, const char *dir, char *err,
    size_t errlen)
{
	char	 sock[PATH_MAX];

	if (dir == NULL)
		return 0;
	snprintf(sock, sizeof(sock), "%s/control.sock", dir);
	if (conf_set(conf, "state_dir", dir, err, errlen) == -1 ||
	    conf_set(conf, "socket", sock, err, errlen) == -1)
		return -1;
	return 0;
}

static struct certd_conf *
load_conf(const char *path, const char *dir, char *err, size_t errlen)
{
	struct certd_conf	*conf;

	if ((conf = conf_load(path, err, errlen)) == NULL)
		return NULL;
	if (apply_overrides(conf, dir, err, errlen) == -1) {
		conf_free(conf);
		return NULL;
	}
	return conf;
}

/* STATUS= line: "N domains, next expiry DOMAIN in D days": two index
 * lookups, whatever the number of domains. */
static void
update_status(void)
{
	char		 line[512], domain[DOMAIN_MAX + 1];
	int64_t		 n, not_after;

	if (keystore_soonest(certd->ks, &n, domain, &not_after) == -1)
		return;
	if (domain[0] == '\0')
		snprintf(line, sizeof(line), "%lld domain%s, none committed",
		    (long long)n, n == 1 ? "" : "s");
	else
		snprintf(line, sizeof(line), "%lld domain%s, next expiry %s "
		    "in %d days", (long long)n, n == 1 ? "" : "s", domain,
		    days_left((time_t)not_after, time(NULL)));
	sysd_status(line);
}

/* Log a server certificate within 30 days of expiry, or expired. */
static int
warn_expiry(const char *domain, int64_t gen, int64_t not_after, void *arg)
{
	static const int	 thresholds[] = { 1, 7, 14, 30 };
	struct log_fields	 f = { domain, gen, NULL };
	time_t			 now = time(NULL);
	size_t			 t;
	int			 days;

	days = days_left((time_t)not_after, now);
	if (not_after <= now) {
		f.code = "expired";
		log_fields(LOG_ERR, &f, "%s: the server certificate has "
		    "expired (%d days ago)", domain, -days);
		return 0;
	}
	for (t = 0; t < nitems(thresholds); t++)
		if (days < thresholds[t])
			break;
	if (t == nitems(thresholds))
		return 0;
	f.code = "expiring";
	log_fields(LOG_WARNING, &f, "%s: the server certificate expires in "
	    "%d days (under %d)", domain, days, thresholds[t]);
	return 0;
}

/* Only the domains within 30 days: an index range, not a walk. */
static void
expiry_check(void)
{
	keystore_expiring(certd->ks, time(NULL) + 30 * 86400, warn_expiry,
	    NULL, NULL);
	update_status();
}

static void
expiry_cb(evutil_socket_t fd, short ev, void *arg)
{
	expiry_check();
}

/* The listen = addresses of a and b, in order: the same? */
static int
listen_same(const struct certd_conf *a, const struct certd_conf *b)
{
	size_t	 i;

	if (a->nlisten != b->nlisten)
		return 0;
	for (i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i].host, b->listen[i].host) != 0 ||
		    strcmp(a->listen[i].port, b->listen[i].port) != 0)
			return 0;
	return 1;
}

/* At start: the API over TLS too, if listen = says so. */
static void
listen_tls(void)
{
	struct certd_conf	*c = certd->conf;
	struct cert_error	 err;
	size_t			 i;

	if (c->nlisten == 0)
		return;
	control_set_tls(certd->control, c->tls_ctx, c->client_allow);
	for (i = 0; i < c->nlisten; i++)
		if (control_listen_tls(certd->control, certd->base,
		    c->listen[i].host, c->listen[i].port, &err) == -1)
			fatalx("%s", err.message);
}

/* SIGHUP: new TLS connections get the new certificate, CA, CRL and
 * client_allow; the addresses stay until the next start. */
static void
reload_tls(struct certd_conf *nc)
{
	if (!listen_same(certd->conf, nc))
		log_warnx("listen changes take effect at the next start");
	if (nc->tls_ctx != NULL)
		control_set_tls(certd->control, nc->tls_ctx, nc->client_allow);
	else if (certd->conf->nlisten > 0)
		log_warnx("keeping the TLS certificate and clients of the "
		    "running configuration until the next start");
}

static void
do_reload(void)
{
	struct certd_conf	*nc;
	char			 err[512];

	sysd_reloading();
	log_info("SIGHUP: reloading %s", certd->conf_path != NULL ?
	    certd->conf_path : "built-in defaults");
	if ((nc = load_conf(certd->conf_path, certd->dir_override, err,
	    sizeof(err))) == NULL) {
		log_warnx("configuration not reloaded, keeping the running "
		    "one: %s", err);
		sysd_reloaded();
		return;
	}
	/* The keystore and the listener are already open where they are. */
	if (strcmp(nc->state_dir, certd->conf->state_dir) != 0 ||
	    strcmp(nc->socket, certd->conf->socket) != 0) {
		log_warnx("state_dir and socket changes take effect at the "
		    "next start; keeping %s and %s", certd->conf->state_dir,
		    certd->conf->socket);
		conf_set(nc, "state_dir", certd->conf->state_dir, err,
		    sizeof(err));
		conf_set(nc, "socket", certd->conf->socket, err, sizeof(err));
	}
	reload_tls(nc);
	conf_free(certd->conf);
	certd->conf = nc;
	api_set_conf(nc);
	commit_set_conf(nc);
	filecheck_set_conf(nc);
	status_forget();
	control_set_admin_group(certd->control, nc->admin_group);
	commit_publish_all();
	log_info("configuration reloaded");
	sysd_reloaded();
	update_status();
}

static void
shutdown_now(void)
{
	struct timeval	 tv = { 0, 200000 };

	/* A moment for answers already queued to reach their clients. */
	event_base_loopexit(certd->base, &tv);
}

/* commit.c's hook: nothing is in flight or queued any more. */
static void
on_commit_idle(void)
{
	if (certd->stopping && !commit_busy()) {
		log_info("stopping");
		shutdown_now();
		return;
	}
	/* A commit's parsing and rendering leave the heap full of holes;
	 * give the free pages back while nothing is waiting. */
	malloc_trim(0);
}

static void
sig_cb(evutil_socket_t sig, short ev, void *arg)
{
	switch (sig) {
	case SIGHUP:
		/* A dependents run in flight keeps its own config. */
		do_reload();
		break;
	case SIGTERM:
	case SIGINT:
		if (certd->stopping)
			return;
		certd->stopping = 1;
		sysd_stopping();
		log_info("%s: %s", strsignal(sig), commit_busy() ? "finishing "
		    "the change in flight first (stop_timeout)" : "stopping");
		/* With socket activation, new connections wait for the next
		 * start; those already open are answered E_STOPPING. */
		control_stop_accepting(certd->control);
		/* After stop_timeout the change in flight is stopped and
		 * left pending for the next start; certd.service's
		 * TimeoutStopSec is above the default. */
		commit_stop(certd->conf->stop_timeout_ms);
		break;
	}
}

static int
make_dir(const char *path, mode_t mode)
{
	char	 buf[PATH_MAX], *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) == -1) {
		if (errno != EEXIST)
			return -1;
		return 0;
	}
	return chmod(buf, mode);
}

/* LoadCredentialEncrypted=certd.key: store keys sealed under it.  1 if it
 * is in use, 0 if there is none, -1 if it cannot be used. */
static int
load_secret(struct keystore *ks)
{
	const char		*dir = getenv("CREDENTIALS_DIRECTORY");
	struct cert_error	 err;
	char			 path[PATH_MAX], *buf = NULL;
	size_t			 len = 0;
	int			 rv;

	if (dir == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/certd.key", dir);
	if (read_file(path, CREDENTIAL_MAX, &buf, &len) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return -1;
	}
	rv = keystore_set_secret(ks, buf, len, &err);
	freezero(buf, len);
	if (rv == -1) {
		log_warnx("%s: %s", path, err.message);
		return -1;
	}
	log_info("private keys are stored sealed (credential certd.key)");
	return 1;
}

int
main(int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct commit_hooks hooks = { on_commit_idle,
				    update_status };
	struct cert_error	 err;
	struct event		*ev_hup, *ev_term, *ev_int, *ev_expiry;
	struct timeval		 day = { EXPIRY_CHECK_SECS, 0 };
	struct rlimit		 rl;
	const char		*conf_path = NULL, *dir = NULL;
	char			 cerr[512], dbpath[PATH_MAX], dompath[PATH_MAX];
	char			 defconf[PATH_MAX];
	int			 ch, foreground = 0, check = 0, verbose = 0;
	int			 sealed;

	/*
	 * Keys pass through this process: no core dump may hold them, and
	 * what jansson and libevent allocate (request bodies) is cleared
	 * when freed.  First, before anything allocates.
	 */
	if (no_core_dumps() == -1)
		fatal("cannot disable core dumps");
	json_set_alloc_funcs(secure_malloc, secure_free);
	event_set_mem_functions(secure_malloc, secure_realloc, secure_free);
	/* Large replies (status of 10,000 domains: 3 MB, metrics: 5 MB) are
	 * mapped and unmapped whole, not kept in the heap once sent.  A set
	 * threshold also stops glibc raising it each time one is freed. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);

	while ((ch = getopt_long(argc, argv, "dD:f:tv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'D':
			dir = optarg;
			break;
		case 'f':
			conf_path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("certd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	if (conf_path == NULL) {
		snprintf(defconf, sizeof(defconf), "%s/certd/certd.conf",
		    SYSCONFDIR);
		if (access(defconf, F_OK) == 0)
			conf_path = defconf;
	}

	certd->conf_path = xstrdup(conf_path);
	certd->dir_override = xstrdup(dir);
	if ((certd->conf = load_conf(conf_path, dir, cerr, sizeof(cerr))) ==
	    NULL) {
		fprintf(stderr, "%s\n", cerr);
		return 1;
	}
	if (check) {
		conf_print(certd->conf, stdout);
		return 0;
	}

	log_init(foreground || isatty(STDERR_FILENO), verbose);
	sysd_log_init(foreground || isatty(STDERR_FILENO));
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	/* Room for CONTROL_MAX_CONNS clients plus the keystore and children. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	/* Rendered files must be readable by the services that use them. */
	if (make_dir(certd->conf->state_dir, 0755) == -1)
		fatal("state directory %s", certd->conf->state_dir);
	if (dir_private(certd->conf->state_dir, "state directory", cerr,
	    sizeof(cerr)) == -1)
		fatalx("%s", cerr);
	snprintf(dompath, sizeof(dompath), "%s/domains",
	    certd->conf->state_dir);
	if (make_dir(dompath, 0755) == -1)
		fatal("%s", dompath);
	snprintf(dbpath, sizeof(dbpath), "%s/certd.db", certd->conf->state_dir);
	if ((certd->ks = keystore_open(dbpath, &err)) == NULL)
		fatalx("keystore %s: %s", dbpath, err.message);
	/* SQLite gives its -wal and -shm files the DB file's mode. */
	if (chmod(dbpath, 0600) == -1)
		log_warn("chmod %s", dbpath);
	if ((sealed = load_secret(certd->ks)) == -1)
		fatalx("cannot use the certd.key credential");
	if (sealed == 0 && keystore_sealed(certd->ks))
		log_warnx("the keystore holds private keys sealed with the "
		    "certd.key credential, but certd was started without it: "
		    "uploads with a key are refused (E_CREDENTIAL) and sealed "
		    "keys cannot be rendered until certd is started with it "
		    "(LoadCredentialEncrypted=certd.key)");

	certd->base = loop_new();
	/* Events get the middle one of three priorities; background work
	 * (commit.c's file check) takes the lowest, so it never runs while
	 * a request or a reply is waiting. */
	if (event_base_priority_init(certd->base, 3) == -1)
		fatalx("event_base_priority_init failed");
	commit_init(certd->base, certd->ks, certd->conf, &hooks);
	api_init(certd->ks, certd->conf, time(NULL));
	commit_publish_all();
	commit_recover();
	if ((certd->control = control_start(certd->base, certd->conf->socket,
	    certd->conf->socket_mode, certd->conf->admin_group, api_handle,
	    NULL, &err)) == NULL)
		fatalx("control socket: %s", err.message);
	listen_tls();

	ev_hup = evsignal_new(certd->base, SIGHUP, sig_cb, NULL);
	ev_term = evsignal_new(certd->base, SIGTERM, sig_cb, NULL);
	ev_int = evsignal_new(certd->base, SIGINT, sig_cb, NULL);
	ev_expiry = event_new(certd->base, -1, EV_PERSIST, expiry_cb, NULL);
	if (ev_hup == NULL || ev_term == NULL || ev_int == NULL ||
	    ev_expiry == NULL)
		fatalx("cannot set up events");
	evsignal_add(ev_hup, NULL);
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_int, NULL);
	event_add(ev_expiry, &day);

	log_info("certd %s started: state %s, control socket %s",
	    PACKAGE_VERSION, certd->conf->state_dir, certd->conf->socket);
	expiry_check();
	sysd_ready();
	sysd_watchdog_start(certd->base);
	filecheck_start(certd->base, certd->ks, certd->conf, update_status);

	event_base_dispatch(certd->base);

	log_info("stopped");
	control_free(certd->control);
	commit_free();
	event_free(ev_hup);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_expiry);
	keystore_close(certd->ks);
	event_base_free(certd->base);
	conf_free(certd->conf);
	free(certd->conf_path);
	free(certd->dir_override);
	return 0;
}

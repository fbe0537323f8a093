/*
 * systemd.c: sd_notify, socket activation, the journal log sink and unit
 * reload/restart jobs over sd-bus.  The only file that uses libsystemd.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "loop.h"
#include "sysd.h"
#include "util.h"

/* --- journal -------------------------------------------------------------- */

/* Add one field to iov; a field there is no memory for is left out. */
static void
journal_field(struct iovec *iov, int *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
journal_field(struct iovec *iov, int *n, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 len;

	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len == -1)
		return;
	iov[*n].iov_base = s;
	iov[(*n)++].iov_len = (size_t)len;
}

/* One journal entry with certd's structured fields; stderr if that fails. */
static void
journal_sink(int pri, const struct log_fields *f, const char *msg)
{
	struct iovec	 iov[6];
	int		 n = 0, i;

	journal_field(iov, &n, "MESSAGE=%s", msg);
	if (n == 0)
		goto fallback;
	journal_field(iov, &n, "PRIORITY=%d", pri);
	journal_field(iov, &n, "SYSLOG_IDENTIFIER=certd");
	if (f->domain != NULL)
		journal_field(iov, &n, "CERTD_DOMAIN=%s", f->domain);
	if (f->generation != 0)
		journal_field(iov, &n, "CERTD_GENERATION=%lld", f->generation);
	if (f->code != NULL)
		journal_field(iov, &n, "CERTD_CODE=%s", f->code);
	if (sd_journal_sendv(iov, n) >= 0)
		goto out;
fallback:
	fprintf(stderr, "%s\n", msg);
out:
	for (i = 0; i < n; i++)
		free(iov[i].iov_base);
}

void
sysd_log_init(int foreground)
{
	if (!foreground)
		log_set_sink(journal_sink);
}

/* --- sd_notify and socket activation ------------------------------------- */

int
sysd_listen_fd(void)
{
	int	 n, i;

	n = sd_listen_fds(1);
	if (n <= 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (sd_is_socket_unix(SD_LISTEN_FDS_START + i, SOCK_STREAM, 1,
		    NULL, 0) > 0)
			return SD_LISTEN_FDS_START + i;
	}
	log_warnx("systemd passed %d socket(s), none a listening AF_UNIX "
	    "stream socket; ignoring them", n);
	return -1;
}

void
sysd_ready(void)
{
	sd_notify(0, "READY=1");
}

void
sysd_status(const char *line)
{
	sd_notifyf(0, "STATUS=%s", line);
}

void
sysd_reloading(void)
{
	struct timespec	 ts;

	/* Type=notify-reload (systemd 253) wants MONOTONIC_USEC with it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
}

void
sysd_reloaded(void)
{
	sd_notify(0, "READY=1");
}

void
sysd_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

static struct event	*watchdog_ev;

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

void
sysd_watchdog_start(struct event_base *base)
{
	uint64_t	 usec;
	struct timeval	 tv;

	if (watchdog_ev != NULL || sd_watchdog_enabled(0, &usec) <= 0)
		return;
	/* Half the interval, as sd_watchdog_enabled(3) recommends. */
	usec /= 2;
	tv.tv_sec = usec / 1000000;
	tv.tv_usec = usec % 1000000;
	watchdog_ev = event_new(base, -1, EV_PERSIST, watchdog_cb, NULL);
	if (watchdog_ev == NULL || event_add(watchdog_ev, &tv) == -1) {
		log_warnx("cannot start the watchdog timer");
		return;
	}
	sd_notify(0, "WATCHDOG=1");
	log_debug("watchdog: ping every %lld ms", (long long)usec / 1000);
}

/* --- unit jobs over D-Bus ------------------------------------------------- */

/*
 * One reload/restart: a private bus connection driven by libevent.  The
 * JobRemoved match is sent before the method call, so the bus daemon has it
 * in place before systemd can finish the job.  A JobRemoved that arrives
 * before the reply naming our job is remembered in seen[].
 */
#define JOB_SEEN_MAX	16
struct sysd_job {
	struct event_base	*base;
	sd_bus			*bus;
	struct event		*ev_io;
	struct event		*ev_timeout;
	struct event		*ev_finish;
	sd_bus_slot		*slot_match;
	sd_bus_slot		*slot_call;
	char			*unit;
	char			*job_path;	/* from the method reply */
	int			 timeout_ms;
	int64_t			 started;
	struct {
		char	*path;
		char	*result;
	}			 seen[JOB_SEEN_MAX];
	size_t			 nseen;
	int			 finished;
	int			 ok;
	char			 message[512];
	sysd_job_done_fn	 done;
	void			*arg;
};

static void	job_rearm(struct sysd_job *);

static void
job_free(struct sysd_job *j)
{
	size_t	 i;

	if (j == NULL)
		return;
	sd_bus_slot_unref(j->slot_match);
	sd_bus_slot_unref(j->slot_call);
	if (j->bus != NULL) {
		sd_bus_flush_close_unref(j->bus);
	}
	loop_event_free(j->ev_io);
	loop_event_free(j->ev_timeout);
	loop_event_free(j->ev_finish);
	for (i = 0; i < j->nseen; i++) {
		free(j->seen[i].path);
		free(j->seen[i].result);
	}
	free(j->unit);
	free(j->job_path);
	free(j);
}

/* Record the outcome; the callback runs later, outside sd-bus's dispatch. */
static void
job_finish(struct sysd_job *j, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
job_finish(struct sysd_job *j, int ok, const char *fmt, ...)
{
	va_list	 ap;

	if (j->finished)
		return;
	j->finished = 1;
	j->ok = ok;
	va_start(ap, fmt);
	vsnprintf(j->message, sizeof(j->message), fmt, ap);
	va_end(ap);
	event_active(j->ev_finish, EV_TIMEOUT, 0);
}

static void
job_finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sysd_job		*j = arg;
	sysd_job_done_fn	 done = j->done;
	void			*darg = j->arg;
	char			 message[sizeof(j->message)];
	int			 ok = j->ok;

	strlcpy(message, j->message, sizeof(message));
	job_free(j);
	done(darg, ok, message);
}

static void
job_result(struct sysd_job *j, const char *result)
{
	int64_t	 ms = now_ms() - j->started;

	if (strcmp(result, "done") == 0)
		job_finish(j, 1, "%s: job done in %lld ms", j->unit,
		    (long long)ms);
	else
		job_finish(j, 0, "%s: job finished with result \"%s\" "
		    "after %lld ms", j->unit, result, (long long)ms);
}

static int
job_removed_cb(sd_bus_message *m, void *arg, sd_bus_error *ret_error)
{
	struct sysd_job	*j = arg;
	const char	*path, *unit, *result;
	uint32_t	 id;

	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (j->job_path != NULL) {
		if (strcmp(path, j->job_path) == 0)
			job_result(j, result);
		return 0;
	}
	if (j->nseen < JOB_SEEN_MAX) {
		j->seen[j->nseen].path = xstrdup(path);
		j->seen[j->nseen].result = xstrdup(result);
		j->nseen++;
	}
	return 0;
}

static int
job_reply_cb(sd_bus_message *m, void *arg, sd_bus_error *ret_error)
{
	struct sysd_job		*j = arg;
	const sd_bus_error	*e;
	const char		*path;
	size_t			 i;

	if (sd_bus_message_is_method_error(m, NULL)) {
		e = sd_bus_message_get_error(m);
		job_finish(j, 0, "%s: systemd refused the job: %s", j->unit,
		    e != NULL && e->message != NULL ? e->message :
		    (e != NULL && e->name != NULL ? e->name : "error"));
		return 0;
	}
	if (sd_bus_message_read(m, "o", &path) < 0) {
		job_finish(j, 0, "%s: unreadable reply from systemd", j->unit);
		return 0;
	}
	j->job_path = xstrdup(path);
	for (i = 0; i < j->nseen; i++) {
		if (strcmp(j->seen[i].path, j->job_path) == 0) {
			job_result(j, j->seen[i].result);
			break;
		}
	}
	return 0;
}

static void
job_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sysd_job	*j = arg;
	int		 r;

	while (!j->finished) {
		r = sd_bus_process(j->bus, NULL);
		if (r < 0) {
			job_finish(j, 0, "%s: D-Bus connection failed: %s",
			    j->unit, strerror(-r));
			break;
		}
		if (r == 0)
			break;
	}
	if (!j->finished)
		job_rearm(j);
}

static void
job_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sysd_job	*j = arg;

	job_finish(j, 0, "%s: no result from systemd within %d ms%s", j->unit,
	    j->timeout_ms, j->job_path == NULL ? " (no reply to the call)" :
	    " (job still running)");
}

/* Watch the bus fd for what sd-bus wants next. */
static void
job_rearm(struct sysd_job *j)
{
	int	 events;
	short	 what = EV_READ;

	events = sd_bus_get_events(j->bus);
	if (events > 0 && (events & POLLOUT))
		what |= EV_WRITE;
	event_del(j->ev_io);
	event_assign(j->ev_io, j->base, sd_bus_get_fd(j->bus), what,
	    job_io_cb, j);
	event_add(j->ev_io, NULL);
}

static const char *
job_method(enum dep_action action)
{
	switch (action) {
	case DEP_RESTART:
		return "RestartUnit";
	case DEP_RELOAD_OR_RESTART:
		return "ReloadOrRestartUnit";
	case DEP_RELOAD:
	default:
		return "ReloadUnit";
	}
}

void
sysd_job_cancel(struct sysd_job *j)
{
	job_free(j);
}

struct sysd_job *
sysd_unit_job(struct event_base *base, const char *unit,
    enum dep_action action, int timeout_ms, sysd_job_done_fn done, void *arg,
    char *err, size_t errlen)
{
	struct sysd_job	*j;
	int		 r;

	j = xcalloc(1, sizeof(*j));
	j->unit = xstrdup(unit);
	j->base = base;
	j->timeout_ms = timeout_ms;
	j->done = done;
	j->arg = arg;
	j->started = now_ms();

	/* Honours DBUS_SYSTEM_BUS_ADDRESS, which the tests point at a mock. */
	if ((r = sd_bus_open_system(&j->bus)) < 0) {
		snprintf(err, errlen, "%s: cannot connect to the system bus: "
		    "%s", unit, strerror(-r));
		goto fail;
	}
	if ((r = sd_bus_match_signal_async(j->bus, &j->slot_match,
	    "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
	    "org.freedesktop.systemd1.Manager", "JobRemoved", job_removed_cb,
	    NULL, j)) < 0) {
		snprintf(err, errlen, "%s: cannot add the JobRemoved match: %s",
		    unit, strerror(-r));
		goto fail;
	}
	/* Without Subscribe, systemd may not emit JobRemoved at all. */
	if ((r = sd_bus_call_method_async(j->bus, NULL,
	    "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
	    "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL,
	    "")) < 0 ||
	    (r = sd_bus_call_method_async(j->bus, &j->slot_call,
	    "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
	    "org.freedesktop.systemd1.Manager", job_method(action),
	    job_reply_cb, j, "ss", unit, "replace")) < 0) {
		snprintf(err, errlen, "%s: cannot call systemd: %s", unit,
		    strerror(-r));
		goto fail;
	}
	j->ev_io = event_new(base, sd_bus_get_fd(j->bus), EV_READ, job_io_cb,
	    j);
	j->ev_timeout = evtimer_new(base, job_timeout_cb, j);
	j->ev_finish = event_new(base, -1, 0, job_finish_cb, j);
	if (j->ev_io == NULL || j->ev_timeout == NULL || j->ev_finish == NULL)
		fatalx("cannot create events");
	loop_timer_add(j->ev_timeout, timeout_ms);
	job_rearm(j);
	log_debug("%s: %s sent to systemd", unit, job_method(action));
	return j;
fail:
	job_free(j);
	return NULL;
}

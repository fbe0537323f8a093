/*
 * nosystemd.c: the --without-systemd build of sysd.h.  Notifications still
 * reach $NOTIFY_SOCKET (a datagram, as sd_notify(3) documents it), so
 * Type=notify works; there is no socket activation, journal sink or D-Bus.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sysd.h"
#include "util.h"

static void
notify(const char *msg)
{
	struct sockaddr_un	 sun;
	const char		*path;
	socklen_t		 len;
	size_t			 plen;
	int			 fd;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL)
		return;
	plen = strlen(path);
	if (plen < 2 || plen >= sizeof(sun.sun_path) ||
	    (path[0] != '/' && path[0] != '@'))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract namespace */
	len = offsetof(struct sockaddr_un, sun_path) + plen;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_debug("notify socket %s: %s", path, strerror(errno));
	close(fd);
}

void
sysd_log_init(int foreground)
{
}

int
sysd_listen_fd(void)
{
	return -1;
}

void
sysd_ready(void)
{
	notify("READY=1");
}

void
sysd_status(const char *line)
{
	char	 buf[512];

	snprintf(buf, sizeof(buf), "STATUS=%s", line);
	notify(buf);
}

void
sysd_reloading(void)
{
	struct timespec	 ts;
	char		 buf[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	notify(buf);
}

void
sysd_reloaded(void)
{
	notify("READY=1");
}

void
sysd_stopping(void)
{
	notify("STOPPING=1");
}

static struct event	*watchdog_ev;

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	notify("WATCHDOG=1");
}

/* WATCHDOG_USEC (and WATCHDOG_PID, if set, naming us) as sd_watchdog_enabled. */
void
sysd_watchdog_start(struct event_base *base)
{
	const char		*s;
	unsigned long long	 usec;
	struct timeval		 tv;
	char			*end;

	if (watchdog_ev != NULL || (s = getenv("WATCHDOG_USEC")) == NULL)
		return;
	usec = strtoull(s, &end, 10);
	if (*end != '\0' || usec == 0)
		return;
	if ((s = getenv("WATCHDOG_PID")) != NULL &&
	    strtoll(s, NULL, 10) != (long long)getpid())
		return;
	usec /= 2;
	tv.tv_sec = usec / 1000000;
	tv.tv_usec = usec % 1000000;
	watchdog_ev = event_new(base, -1, EV_PERSIST, watchdog_cb, NULL);
	if (watchdog_ev == NULL || event_add(watchdog_ev, &tv) == -1)
		return;
	notify("WATCHDOG=1");
}

struct sysd_job *
sysd_unit_job(struct event_base *base, const char *unit,
    enum dep_action action, int timeout_ms, sysd_job_done_fn done, void *arg,
    char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: certd was built without systemd "
	    "(--without-systemd): use exec = instead of unit =", unit);
	return NULL;
}

void
sysd_job_cancel(struct sysd_job *j)
{
}

/*
 * sysd.h: everything certd asks of systemd.  daemon/systemd.c implements it
 * with libsystemd; daemon/nosystemd.c is the --without-systemd build.
 */
#ifndef CERTD_SYSD_H
#define CERTD_SYSD_H

#include <stdint.h>
#include <event2/event.h>

#include "conf.h"

/* Install the journal log sink when stderr is not a terminal under systemd. */
void	sysd_log_init(int foreground);
/* The control socket systemd passed (socket activation), or -1. */
int	sysd_listen_fd(void);
void	sysd_ready(void);
void	sysd_status(const char *line);
void	sysd_reloading(void);		/* RELOADING=1 (+ MONOTONIC_USEC) */
void	sysd_reloaded(void);		/* READY=1 after a reload */
void	sysd_stopping(void);
/* Start WATCHDOG=1 pings on base if WatchdogSec= is set. */
void	sysd_watchdog_start(struct event_base *);

/*
 * Ask systemd (D-Bus, org.freedesktop.systemd1) to reload/restart unit and
 * wait for the job's JobRemoved signal.  done(arg, ok, message) is called
 * once from the event loop: ok only for result "done"; a timeout, an error
 * reply or any other result is a failure with the reason in message.
 * Returns the job if started, NULL (message in err) if not.
 */
typedef void (*sysd_job_done_fn)(void *arg, int ok, const char *message);
struct sysd_job;
struct sysd_job	*sysd_unit_job(struct event_base *, const char *unit,
		    enum dep_action, int timeout_ms, sysd_job_done_fn,
		    void *arg, char *err, size_t errlen);
/* Forget a job (certd is stopping): done is not called. */
void		 sysd_job_cancel(struct sysd_job *);

#endif

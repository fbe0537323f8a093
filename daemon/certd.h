/*
 * certd.h: the daemon's state shared by the main loop (certd.c), the control
 * socket (control.c), the API handlers (api.c) and commits (commit.c).
 */
#ifndef CERTD_CERTD_H
#define CERTD_CERTD_H

#include <stdint.h>
#include <time.h>
#include <event2/event.h>

#include "conf.h"
#include "keystore.h"

struct control;

struct certd {
	struct event_base	*base;
	struct certd_conf	*conf;
	char			*conf_path;	/* NULL: built-in defaults */
	char			*dir_override;	/* -D DIR */
	struct keystore		*ks;
	struct control		*control;
	time_t			 started;
	int			 stopping;	/* SIGTERM seen */
	int			 reload_pending; /* SIGHUP during a commit */
};

extern struct certd	*certd;

/* Days left until t (negative once expired), rounded down. */
int	certd_days_left(time_t not_after, time_t now);
/* Apply a deferred SIGHUP / SIGTERM once the commit in flight is done. */
void	certd_commit_idle(void);
/* Recompute the systemd STATUS= line (domains, next expiry). */
void	certd_update_status(void);

#endif

/* loop.c: certd's event loop and small libevent helpers for its modules. */
#include "config.h"

#include <event2/event.h>

#include "log.h"
#include "loop.h"

void
loop_event_free(struct event *ev)
{
	/* libevent's event_free dereferences its argument. */
	if (ev != NULL)
		event_free(ev);
}

void
loop_timer_add(struct event *ev, int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

/*
 * The loop.  evhttp turns a connection's read interest off and its write
 * interest on for each answer, and back after: four epoll_ctl calls per
 * request, each adding or removing an epoll item.  With the changelist,
 * what changes within one pass of the loop is applied once, as one MOD.
 * libevent warns that this is unsafe with descriptors cloned by dup(): a
 * closed descriptor's epoll item outlives it while a copy is open.  certd
 * dups nothing it gives the loop; the only copies are a dependent's, from
 * fork until its close_range a moment later, and an event for such a
 * stale item finds nothing to read (EAGAIN) and is dropped.
 */
struct event_base *
loop_new(void)
{
	struct event_config	*cfg;
	struct event_base	*base;

	if ((cfg = event_config_new()) == NULL ||
	    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) ||
	    event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV) ||
	    (base = event_base_new_with_config(cfg)) == NULL)
		fatalx("cannot create the event loop");
	event_config_free(cfg);
	return base;
}

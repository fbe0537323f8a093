/* loop.c: small libevent helpers shared by the daemon's modules (loop.h). */
#include "config.h"

#include <event2/event.h>

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

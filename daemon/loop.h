/*
 * loop.h: certd's event loop, and what every daemon module that keeps
 * libevent events wants and libevent does not offer: a free that takes
 * NULL, and a timer in ms.
 */
#ifndef CERTD_LOOP_H
#define CERTD_LOOP_H

#include <event2/event.h>

/* The event base certd runs on (epoll, with its changelist). */
struct event_base *loop_new(void);
/* event_free(ev), and nothing for NULL, as our own _free functions do. */
void	loop_event_free(struct event *);
/* Fire the timer ev in ms milliseconds (from the loop's cached time). */
void	loop_timer_add(struct event *, int ms);

#endif

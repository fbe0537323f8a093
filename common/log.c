/* log.c: logging in the style of bgpd's log.c (see log.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static int		 log_foreground = 1;
static int		 log_verbose;
static log_sink_fn	 log_sink;

void
log_init(int foreground, int verbose)
{
	log_foreground = foreground;
	log_verbose = verbose;
}

void
log_set_sink(log_sink_fn fn)
{
	log_sink = fn;
}

static void
vlog(int pri, const struct log_fields *f, const char *fmt, va_list ap)
{
	static const struct log_fields	 none;
	char				 msg[2048];

	if (pri == LOG_DEBUG && !log_verbose)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (f == NULL)
		f = &none;
	if (log_sink != NULL && !log_foreground) {
		log_sink(pri, f, msg);
		return;
	}
	/* One line on stderr; the fields in brackets so they stay greppable. */
	if (f->domain != NULL || f->generation != 0 || f->code != NULL) {
		fprintf(stderr, "%s [", msg);
		if (f->domain != NULL)
			fprintf(stderr, "domain=%s", f->domain);
		if (f->generation != 0)
			fprintf(stderr, "%sgeneration=%lld",
			    f->domain != NULL ? " " : "", f->generation);
		if (f->code != NULL)
			fprintf(stderr, "%scode=%s",
			    f->domain != NULL || f->generation != 0 ? " " : "",
			    f->code);
		fprintf(stderr, "]\n");
	} else
		fprintf(stderr, "%s\n", msg);
	fflush(stderr);
}

void
log_fields(int pri, const struct log_fields *f, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, f, fmt, ap);
	va_end(ap);
}

/*
 * The message of fmt, then the cause: strerror(saved) unless saved is -1.
 * log_warn(), fatal() and fatalx() differ only in these three arguments.
 */
static void
vlog_cause(int pri, const char *prefix, int saved, const char *fmt,
    va_list ap)
{
	char	 buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (saved != -1)
		log_fields(pri, NULL, "%s%s: %s", prefix, buf, strerror(saved));
	else
		log_fields(pri, NULL, "%s%s", prefix, buf);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog_cause(LOG_WARNING, "", saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_cause(LOG_CRIT, "fatal: ", errno, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_cause(LOG_CRIT, "fatal: ", -1, fmt, ap);
	va_end(ap);
	exit(1);
}

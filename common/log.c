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

void
log_warn(const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_fields(LOG_WARNING, NULL, "%s: %s", buf, strerror(saved));
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_fields(LOG_CRIT, NULL, "fatal: %s: %s", buf, strerror(saved));
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_fields(LOG_CRIT, NULL, "fatal: %s", buf);
	exit(1);
}

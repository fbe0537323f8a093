/*
 * log.h: logging in the style of bgpd's log.c.  Foreground: stderr.  Under
 * systemd the daemon installs a sink that sends to the journal with the
 * structured fields CERTD_DOMAIN, CERTD_GENERATION and CERTD_CODE.
 */
#ifndef CERTD_LOG_H
#define CERTD_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

/* Structured fields of one message; any member may be NULL/0. */
struct log_fields {
	const char	*domain;
	long long	 generation;	/* 0: none */
	const char	*code;		/* "E_EXPIRED", "reload-failed", ... */
};

typedef void (*log_sink_fn)(int priority, const struct log_fields *,
    const char *msg);

void	log_init(int foreground, int verbose);
void	log_set_sink(log_sink_fn);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* A message with structured fields (priority as in syslog.h). */
void	log_fields(int priority, const struct log_fields *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Plain messages are log_fields() at one priority with no fields. */
#define log_warnx(...)	log_fields(LOG_WARNING, NULL, __VA_ARGS__)
#define log_info(...)	log_fields(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)	log_fields(LOG_DEBUG, NULL, __VA_ARGS__)
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

/*
 * error.h: the error every module fills (a stable code, the item it
 * concerns, a sentence for a person) and the warnings an accepted upload
 * carries.  Neither ever holds key material.
 */
#ifndef CERTD_ERROR_H
#define CERTD_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#include "proto.h"

struct cert_error {
	enum cert_code	code;
	char		name[ITEM_NAME_MAX + 1];	/* "" and seq 0: the */
	int		seq;				/* whole request */
	char		message[512];
};

#define CERT_WARNINGS_MAX 8
struct cert_warnings {
	size_t n;
	struct {
		enum cert_warn	code;
		char		name[ITEM_NAME_MAX + 1];
		int		seq;
		char		message[256];
	} w[CERT_WARNINGS_MAX];
};

const char	*cert_code_name(enum cert_code);	/* "E_ORDER" */
int		 cert_code_from_name(const char *);	/* -1 if unknown */
int		 cert_code_http_status(enum cert_code);	/* 422, 404, ... */
const char	*cert_warn_name(enum cert_warn);	/* "W_EXPIRES_SOON" */

/* Fill err (if not NULL) and return -1: `return cert_error_set(...)`. */
int	cert_error_set(struct cert_error *, enum cert_code, const char *name,
	    int seq, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
int	cert_error_vset(struct cert_error *, enum cert_code, const char *name,
	    int seq, const char *fmt, va_list)
	    __attribute__((format(printf, 5, 0)));
void	cert_error_clear(struct cert_error *);
void	cert_warn_add(struct cert_warnings *, enum cert_warn, const char *name,
	    int seq, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

#endif

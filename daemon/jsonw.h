/*
 * jsonw.h: a JSON writer that appends text to one growing buffer, for
 * answers too large to build as a jansson tree first (GET /v1/status of
 * 10,000 domains would be 200,000 small allocations).
 */
#ifndef CERTD_JSONW_H
#define CERTD_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define JSONW_DEPTH	16

struct jsonw {
	char		*buf;
	size_t		 len, size;
	int		 depth;
	int		 more[JSONW_DEPTH];	/* a value already at this depth */
	char		 close[JSONW_DEPTH];	/* '}' or ']' */
};

/* key is NULL for an element of an array, a member's name otherwise. */
void	jsonw_init(struct jsonw *);
void	jsonw_object(struct jsonw *, const char *key);
/* A member that is an object when there is something to say, else null:
 * 1 if the object was opened (fill it, then jsonw_close), 0 if null. */
int	jsonw_object_or_null(struct jsonw *, const char *key, int present);
void	jsonw_array(struct jsonw *, const char *key);
void	jsonw_close(struct jsonw *);	/* the innermost object or array */
void	jsonw_string(struct jsonw *, const char *key, const char *);
void	jsonw_int(struct jsonw *, const char *key, int64_t);
void	jsonw_bool(struct jsonw *, const char *key, int);
void	jsonw_null(struct jsonw *, const char *key);
void	jsonw_time(struct jsonw *, const char *key, time_t);	/* or null */
/* len bytes of JSON text as the value. */
void	jsonw_raw(struct jsonw *, const char *key, const char *, size_t len);
/* Ends the text with a newline; *len is its length; the caller frees. */
char	*jsonw_finish(struct jsonw *, size_t *len);
void	 jsonw_free(struct jsonw *);	/* what is written, unfinished */

#endif

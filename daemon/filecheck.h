/*
 * filecheck.h: the files of every domain, checked after the start (see
 * filecheck.c).  certd answers first; status calls a domain "unchecked"
 * until its turn came.
 */
#ifndef CERTD_FILECHECK_H
#define CERTD_FILECHECK_H

#include <stddef.h>

struct event_base;
struct keystore;
struct certd_conf;

/* Check every settled domain, one per idle turn of the loop; changed() is
 * called when all are done. */
void	filecheck_start(struct event_base *, struct keystore *,
	    const struct certd_conf *, void (*changed)(void));
void	filecheck_set_conf(const struct certd_conf *);
void	filecheck_free(void);
int	filecheck_pending(const char *domain);	/* not checked yet */
size_t	filecheck_count(void);			/* how many not yet */

#endif

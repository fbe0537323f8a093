/*
 * api.h: the routes of the control API (docs/api.md): each request the
 * transport (control.c) hands over is matched against one table, parsed,
 * passed to the work (commit.c, keystore.c, status.c), and answered.
 */
#ifndef CERTD_API_H
#define CERTD_API_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "control.h"
#include "keystore.h"

void	api_init(struct keystore *, struct certd_conf *, time_t started);
/* The config after a SIGHUP. */
void	api_set_conf(struct certd_conf *);
/* control_handler_fn: route and answer one request (now or later). */
void	api_handle(struct control_req *, const struct control_call *,
	    void *arg);

/* Plain functions, for unit tests. */
/* A field of an x-www-form-urlencoded body, decoded ('+' is a space);
 * malloc'd, or NULL if absent. */
char	*api_form_get(const char *body, size_t len, const char *field,
	    size_t *outlen);
/* Split "/v1/domains/D/REST": D folded into domain, REST into *rest ("" if
 * none).  0, or -1 if path is not under /v1/domains/ or D is not a domain
 * name. */
int	 api_split_domain_path(const char *path, char domain[DOMAIN_MAX + 1],
	    const char **rest);

#endif

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

/* Is a request body a form (1) or JSON (0)?  The Content-Type decides,
 * else the first byte that is not a space ('{': JSON).  body ends in NUL. */
int	 api_body_is_form(const char *content_type, const char *body);

/* The fields of an upload (POST /v1/certificates). */
struct upload_fields {
	char	*domain, *name, *id, *cert, *key;	/* form: malloc'd */
	size_t	 cert_len, key_len;
	json_t	*j;					/* JSON: owns them */
	long	 seq;
	int	 seq_set;
};

/*
 * Read and check an upload from a form or JSON body: 0 with u filled
 * (pointing into f and domain), or -1 with err (E_BAD_REQUEST).  Free f
 * with api_upload_free either way.
 */
int	 api_upload_parse(const char *body, size_t len, int form,
	    struct upload_fields *f, struct upload *u,
	    char domain[DOMAIN_MAX + 1], struct cert_error *err);
void	 api_upload_free(struct upload_fields *);

/*
 * The route of method and path: its index in the route table, with the
 * route's suffix (NULL: it is a whole path) and domain (a domain's
 * resource: folded, else ""); or one of these.
 */
#define API_NOT_FOUND	(-1)	/* 404 */
#define API_BAD_METHOD	(-2)	/* 405: the path is known */
#define API_BAD_DOMAIN	(-3)	/* 400: a domain's path, not a domain name */
int	 api_route(enum control_method, const char *path,
	    char domain[DOMAIN_MAX + 1], const char **suffix);

#endif

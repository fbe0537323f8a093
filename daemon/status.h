/*
 * status.h: what certd says about itself: GET /v1/status (every domain's
 * state, its server certificate and last reload, the dependents), GET
 * /v1/domains/D (one domain in full, never a key) and /metrics
 * (Prometheus text).  The JSON shapes are in docs/api.md.
 */
#ifndef CERTD_STATUS_H
#define CERTD_STATUS_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "commit.h"
#include "conf.h"
#include "keystore.h"

/* pending, recovering, failed, expired, expiring, unchecked, staged, ok */
const char	*status_domain_state(const struct ks_summary *, time_t now);
/* GET /v1/status: a summary, and every domain (attention: only those
 * whose state is not ok), as JSON text; malloc'd.  A small answer is kept
 * and given again while nothing it shows has changed. */
char		*status_json(struct keystore *, const struct certd_conf *,
		    time_t started, int attention, size_t *len,
		    struct cert_error *);
/* The config changed: make the next answer anew. */
void		 status_forget(void);
json_t		*status_domain_json(struct keystore *, const char *domain,
		    struct cert_error *);
/* Prometheus text; malloc'd. */
char		*status_metrics(struct keystore *, time_t started,
		    size_t conns, size_t *len);
/* JSON shapes shared with the answers to commits. */
json_t		*status_time(time_t);		/* ISO 8601, or null */
json_t		*status_reload_json(const struct reload_report *,
		    int with_at);

#endif

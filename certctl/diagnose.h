/*
 * diagnose.h: what a client makes of the chain a server sends: the path
 * from the server certificate up to a root, whether the server sends it
 * whole and in order, whether the client's trust anchors reach it, the
 * name, the dates and the strength; each problem with its cause and fix in
 * plain words.  No network: check.c fetches the chain, this judges it.
 */
#ifndef CERTD_DIAGNOSE_H
#define CERTD_DIAGNOSE_H

#include <time.h>
#include <openssl/x509.h>

#define DIAG_SERVED_MAX		32	/* certificates looked at */
#define DIAG_PATH_MAX		(DIAG_SERVED_MAX + 8)
#define DIAG_PROBLEMS_MAX	24

struct diag_input {
	STACK_OF(X509)	*served;	/* as the server sent it, leaf first */
	X509		**anchors;	/* what the client trusts */
	size_t		 nanchors;
	const char	*store;		/* the trust store, for messages */
	const char	*name;		/* the DNS name or IP address asked for */
	time_t		 now;
};

enum diag_role { ROLE_SERVER, ROLE_INTERMEDIATE, ROLE_ROOT, ROLE_EXTRA };

struct diag_problem {
	const char	*code;		/* "intermediate-missing", ... */
	int		 fatal;		/* the client does not connect */
	char		*cause;		/* sentences for a person */
	char		*fix;
};

struct diagnosis {
	size_t			 nserved;
	enum diag_role		 role[DIAG_SERVED_MAX];
	/* The path from the server certificate up, as far as it goes. */
	X509			*path[DIAG_PATH_MAX];	/* references */
	int			 served_at[DIAG_PATH_MAX]; /* index, or -1 */
	int			 anchor[DIAG_PATH_MAX];	  /* in the store */
	size_t			 npath;
	int			 complete;	/* nothing missing below the root */
	int			 in_order;
	int			 trusted;	/* the path reaches an anchor */
	struct diag_problem	 p[DIAG_PROBLEMS_MAX];
	size_t			 np;
};

/*
 * Judge in->served into d, which starts zeroed or holding the caller's
 * problems so far; 0, or -1 if there is nothing to judge (no leaf).
 */
int	diagnose(const struct diag_input *, struct diagnosis *);
void	diagnosis_free(struct diagnosis *);
/* Add a problem (check.c adds its own: connection, a stale reload). */
void	diag_add(struct diagnosis *, const char *code, int fatal,
	    const char *fix, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
int	diag_fatal(const struct diagnosis *);	/* how many */
const char *diag_role_name(enum diag_role);

#endif

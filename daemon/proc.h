/*
 * proc.h: run a command (an argv, no shell) on the event loop: its own
 * process group, stdin from /dev/null, stdout and stderr captured (at most
 * PROC_OUTPUT_MAX bytes, the rest counted and dropped), a timeout after
 * which the whole group gets SIGTERM and, PROC_KILL_GRACE_MS later,
 * SIGKILL.
 */
#ifndef CERTD_PROC_H
#define CERTD_PROC_H

#include <stdint.h>

#include <event2/event.h>

#define PROC_OUTPUT_MAX		4096	/* output kept of a command */
#define PROC_SUMMARY_MAX	1000	/* its one-line summary, at most */
#define PROC_KILL_GRACE_MS	2000

struct proc;

/*
 * Called once from the event loop when the command has ended: ok for exit
 * status 0; summary is one line of at most PROC_SUMMARY_MAX bytes:
 * "ARGV0: exit 0: OUTPUT", "ARGV0: timed out after N ms, killed: ...",
 * with "[N more bytes dropped]" at the end when the output was longer.
 */
typedef void (*proc_done_fn)(void *arg, int ok, const char *summary);

/*
 * Start argv[0] (an absolute path) with the environment envp.  Returns
 * the process, or NULL with the reason in err (done is not called then).
 */
struct proc	*proc_start(struct event_base *, char *const *argv,
		    char *const *envp, int timeout_ms, proc_done_fn,
		    void *arg, char *err, size_t errlen);
/* Kill the group now and forget the command (done is not called). */
void		 proc_abort(struct proc *);

/*
 * The environment a command runs with: PATH, LANG (certd's, else C) and,
 * when domain is set, CERTD_DOMAIN, CERTD_GENERATION and CERTD_DIR (that
 * generation's directory).  Nothing else of certd's: not its credentials,
 * NOTIFY_SOCKET or WATCHDOG_*.  Free with proc_env_free.
 */
char		**proc_env(const char *domain, int64_t generation,
		    const char *dir);
void		  proc_env_free(char **);

#endif

/*
 * test_control.c: control.c's limits on a real listener: the per-uid cap,
 * the room kept for root and admins, idlest-first eviction, admin rights
 * from the peer process's credentials, and the request size and time
 * limits.  Peers are real AF_UNIX connections made by forked children
 * that took another uid first (the test runs as root).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "control.h"
#include "proto.h"
#include "util.h"
#include "../tools/toolutil.h"

#define USER_UID	20000	/* uids without an account: never admins */
#define BATCH		32	/* connections a child makes at once */
#define HELD_MAX	64

static struct event_base	*base;
static struct control		*ctl;
static char			 dir[] = "/tmp/test_control.XXXXXX";
static char			 sock[128];
static gid_t			 admin_gid;
static char			 admin_name[64];

/* What the handler saw last. */
static struct {
	int		 calls;
	int		 admin;
	uid_t		 uid;
	size_t		 body_len;
	char		 actor[CONTROL_ACTOR_MAX];
} seen;
static struct control_req	*held[HELD_MAX];
static size_t			 nheld;

/* Every client socket a test opened, closed at teardown. */
static int	*fds;
static size_t	 nfds;

/* /hold keeps its answer back (a connection busy with a request). */
static void
handler(struct control_req *creq, const struct control_call *call, void *arg)
{
	seen.calls++;
	seen.admin = call->admin;
	seen.uid = call->uid;
	seen.body_len = call->body_len;
	strlcpy(seen.actor, call->actor, sizeof(seen.actor));
	if (strcmp(call->path, "/hold") == 0 && nheld < HELD_MAX) {
		held[nheld++] = creq;
		return;
	}
	control_reply_text(creq, 200, "text/plain", "ok\n", 3);
}

static void
pump(void)
{
	int	 i;

	for (i = 0; i < 4; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static void
keep_fd(int fd)
{
	fds = xreallocarray(fds, nfds + 1, sizeof(*fds));
	fds[nfds++] = fd;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		fail_msg("fcntl: %s", strerror(errno));
}

/* msg as connect_as and its child pass fds: one byte, c, and the control
 * buffer buf of len bytes for SCM_RIGHTS. */
static void
fd_msg(struct msghdr *msg, struct iovec *iov, char *c, void *buf,
    size_t len)
{
	memset(msg, 0, sizeof(*msg));
	iov->iov_base = c;
	iov->iov_len = 1;
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	msg->msg_control = buf;
	msg->msg_controllen = len;
}

/* The child: become uid/gid with exactly these groups, connect n times,
 * and pass the sockets back.  SO_PEERCRED and SO_PEERGROUPS are taken at
 * connect(), so the parent can hold them afterwards. */
static void __attribute__((noreturn))
child_dial(int sp, uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups,
    size_t n)
{
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	struct iovec	 iov;
	char		 c = 'f';
	union {
		char		 buf[CMSG_SPACE(BATCH * sizeof(int))];
		struct cmsghdr	 align;
	} u;
	int		 s[BATCH];
	size_t		 i;

	if (setgroups(ngroups, groups) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		_exit(1);
	for (i = 0; i < n; i++)
		if ((s[i] = tool_connect(sock)) == -1)
			_exit(2);
	fd_msg(&msg, &iov, &c, u.buf, CMSG_SPACE(n * sizeof(int)));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), s, n * sizeof(int));
	_exit(sendmsg(sp, &msg, 0) == 1 ? 0 : 3);
}

/* n (at most BATCH) connections made by a process with these
 * credentials, accepted and classified by control.c; their fds in out. */
static void
connect_as(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups,
    size_t n, int *out)
{
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	struct iovec	 iov;
	char		 c;
	union {
		char		 buf[CMSG_SPACE(BATCH * sizeof(int))];
		struct cmsghdr	 align;
	} u;
	int		 sp[2], status;
	size_t		 i;
	pid_t		 pid;

	assert_true(n <= BATCH);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0)
		child_dial(sp[1], uid, gid, groups, ngroups, n);
	close(sp[1]);
	fd_msg(&msg, &iov, &c, u.buf, sizeof(u.buf));
	assert_int_equal(recvmsg(sp[0], &msg, 0), 1);
	close(sp[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cm = CMSG_FIRSTHDR(&msg);
	assert_non_null(cm);
	assert_int_equal(cm->cmsg_len, CMSG_LEN(n * sizeof(int)));
	memcpy(out, CMSG_DATA(cm), n * sizeof(int));
	for (i = 0; i < n; i++) {
		keep_fd(out[i]);
		/* Accepted and classified in order: their ages are ordered. */
		pump();
	}
}

/* A plain user's connections: uid, its own gid, no other groups. */
static void
connect_user(uid_t uid, size_t n, int *out)
{
	connect_as(uid, uid, NULL, 0, n, out);
}

/* Send req whole and read the answer: its status, or -1 if the
 * connection closed first, 0 if nothing came within ms. */
static int
exchange(int fd, const char *req, size_t len, int ms)
{
	static char	 resp[4096];
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	size_t		 off = 0, have = 0;
	ssize_t		 r;
	char		*end, *cl;
	int		 status, waited;

	for (waited = 0; waited < ms; waited++) {
		if (off < len && (r = send(fd, req + off, len - off,
		    MSG_NOSIGNAL)) > 0)
			off += r;
		pump();
		poll(&pfd, 1, 1);
		r = recv(fd, resp + have, sizeof(resp) - 1 - have, 0);
		if (r == 0 || (r == -1 && errno != EAGAIN))
			return have > 0 && sscanf(resp, "HTTP/1.%*d %d",
			    &status) == 1 ? status : -1;
		if (r > 0)
			have += r;
		resp[have] = '\0';
		if ((end = strstr(resp, "\r\n\r\n")) == NULL ||
		    (cl = strcasestr(resp, "Content-Length: ")) == NULL ||
		    (size_t)(end + 4 - resp) + strtoul(cl + 16, NULL, 10) > have)
			continue;
		assert_int_equal(sscanf(resp, "HTTP/1.%*d %d", &status), 1);
		return status;
	}
	return 0;
}

static int
get(int fd, const char *path)
{
	char	 req[256];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: certd\r\n\r\n",
	    path);
	return exchange(fd, req, strlen(req), 5000);
}

/* Has control.c closed this connection? */
static int
closed(int fd)
{
	char	 c;
	ssize_t	 r;

	pump();
	r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return r == 0 || (r == -1 && errno != EAGAIN);
}

/* A group that exists (control.c looks the name up), not root's. */
static void
find_admin_group(void)
{
	struct group	*gr;

	setgrent();
	while ((gr = getgrent()) != NULL && gr->gr_gid == 0)
		;
	if (gr == NULL)
		fail_msg("no group other than root's to make the admin group");
	admin_gid = gr->gr_gid;
	strlcpy(admin_name, gr->gr_name, sizeof(admin_name));
	endgrent();
}

static int
setup(void **state)
{
	struct cert_error	 err;

	memset(&seen, 0, sizeof(seen));
	nheld = 0;
	strlcpy(dir, "/tmp/test_control.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) == -1)
		fail_msg("%s: %s", dir, strerror(errno));
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	assert_non_null(base = event_base_new());
	if ((ctl = control_start(base, sock, 0666, admin_name, handler, NULL,
	    &err)) == NULL)
		fail_msg("control_start: %s", err.message);
	return 0;
}

static int
teardown(void **state)
{
	size_t	 i;

	control_free(ctl);
	/* Their connections are gone: this only frees them. */
	for (i = 0; i < nheld; i++)
		control_reply_text(held[i], 200, "text/plain", "", 0);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	free(fds);
	fds = NULL;
	nfds = 0;
	event_base_free(base);
	rmdir(dir);
	return 0;
}

/* --- who is an admin ----------------------------------------------------- */

struct who {
	const char	*what;
	uid_t		 uid;
	int		 gid_admin;	/* primary gid: the admin group */
	int		 groups_admin;	/* admin group among the others */
	int		 admin;		/* what control.c must decide */
};

static void
test_admin_from_peer_process(void **state)
{
	static const struct who	 who[] = {
		{ "root", 0, 0, 0, 1 },
		{ "plain user", USER_UID, 0, 0, 0 },
		{ "admin gid", USER_UID + 1, 1, 0, 1 },
		{ "admin supplementary group", USER_UID + 2, 0, 1, 1 },
	};
	gid_t		 groups[2];
	size_t		 i;
	int		 fd;
	char		 actor[64];

	for (i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		groups[0] = who[i].uid + 100000;
		groups[1] = admin_gid;
		connect_as(who[i].uid, who[i].gid_admin ? admin_gid :
		    who[i].uid, groups, who[i].groups_admin ? 2 : 1, 1, &fd);
		if (get(fd, "/") != 200)
			fail_msg("%s: no answer", who[i].what);
		if (seen.admin != who[i].admin || seen.uid != who[i].uid)
			fail_msg("%s: admin %d uid %d, want admin %d uid %d",
			    who[i].what, seen.admin, (int)seen.uid,
			    who[i].admin, (int)who[i].uid);
		snprintf(actor, sizeof(actor), "uid %d", (int)who[i].uid);
		assert_string_equal(seen.actor, actor);
	}
}

/* /etc/group is not asked: an account listed in the admin group whose
 * process dropped it is no admin. */
static void
test_admin_not_account_groups(void **state)
{
	struct group	*gr;
	struct passwd	*pw = NULL;
	char		**m;
	int		 fd;

	setgrent();
	while (pw == NULL && (gr = getgrent()) != NULL) {
		if (gr->gr_gid == 0)
			continue;
		for (m = gr->gr_mem; pw == NULL && *m != NULL; m++)
			if ((pw = getpwnam(*m)) != NULL &&
			    (pw->pw_uid == 0 || pw->pw_gid == gr->gr_gid))
				pw = NULL;
		if (pw != NULL)
			control_set_admin_group(ctl, gr->gr_name);
	}
	endgrent();
	if (pw == NULL)
		skip();		/* no account is a listed member of a group */
	connect_as(pw->pw_uid, pw->pw_gid, NULL, 0, 1, &fd);
	assert_int_equal(get(fd, "/"), 200);
	assert_int_equal(seen.uid, pw->pw_uid);
	assert_int_equal(seen.admin, 0);
}

/* After SIGHUP names no admin group, its members are plain users. */
static void
test_admin_group_reloaded(void **state)
{
	int	 fd;

	control_set_admin_group(ctl, NULL);
	connect_as(USER_UID, admin_gid, NULL, 0, 1, &fd);
	assert_int_equal(get(fd, "/"), 200);
	assert_int_equal(seen.admin, 0);
}

/* --- connection limits --------------------------------------------------- */

/* Over CONTROL_UID_MAX, the uid's connection quiet longest goes, and
 * only its own: other uids keep theirs. */
static void
test_uid_cap_evicts_idlest(void **state)
{
	int	 mine[CONTROL_UID_MAX], other, extra;
	size_t	 i, quiet = 5;

	connect_user(USER_UID + 1, 1, &other);
	connect_user(USER_UID, CONTROL_UID_MAX, mine);
	/* All but one answer a request: that one is now the idlest, though
	 * it was neither the first nor the last connected. */
	for (i = 0; i < CONTROL_UID_MAX; i++)
		if (i != quiet)
			assert_int_equal(get(mine[i], "/"), 200);
	for (i = 0; i < CONTROL_UID_MAX; i++)
		if (closed(mine[i]))
			fail_msg("connection %zu closed at the cap", i);

	connect_user(USER_UID, 1, &extra);
	assert_true(closed(mine[quiet]));
	for (i = 0; i < CONTROL_UID_MAX; i++)
		if (i != quiet && closed(mine[i]))
			fail_msg("connection %zu closed, not the idlest", i);
	assert_int_equal(get(extra, "/"), 200);
	assert_int_equal(get(other, "/"), 200);
}

/* Connections waiting for their answer are never taken: at the cap with
 * all of them busy, the new connection is the one closed. */
static void
test_uid_cap_keeps_busy(void **state)
{
	static const char	 hold[] = "GET /hold HTTP/1.1\r\nHost: c\r\n\r\n";
	int			 mine[CONTROL_UID_MAX], extra;
	size_t			 i;

	connect_user(USER_UID, CONTROL_UID_MAX, mine);
	for (i = 0; i < CONTROL_UID_MAX; i++)
		assert_int_equal(exchange(mine[i], hold, strlen(hold), 50), 0);
	assert_int_equal(nheld, CONTROL_UID_MAX);
	connect_user(USER_UID, 1, &extra);
	assert_true(closed(extra));
	for (i = 0; i < CONTROL_UID_MAX; i++)
		if (closed(mine[i]))
			fail_msg("busy connection %zu closed", i);
}

/* Root and admins have no per-uid cap. */
static void
test_admins_uncapped(void **state)
{
	int	 fd[CONTROL_UID_MAX + 8];
	gid_t	 groups[1] = { 0 };
	size_t	 i;

	groups[0] = admin_gid;
	connect_as(0, 0, NULL, 0, CONTROL_UID_MAX, fd);
	connect_as(0, 0, NULL, 0, 8, fd + CONTROL_UID_MAX);
	for (i = 0; i < CONTROL_UID_MAX + 8; i++)
		if (get(fd[i], "/") != 200)
			fail_msg("root's connection %zu refused", i);
	connect_as(USER_UID, USER_UID, groups, 1, CONTROL_UID_MAX, fd);
	connect_as(USER_UID, USER_UID, groups, 1, 8, fd + CONTROL_UID_MAX);
	for (i = 0; i < CONTROL_UID_MAX + 8; i++)
		if (get(fd[i], "/") != 200)
			fail_msg("an admin's connection %zu refused", i);
}

/*
 * Non-admins together get CONTROL_MAX_CONNS - CONTROL_ADMIN_RESERVE: one
 * more, from a uid under its own cap, closes the idlest of anyone's;
 * root still gets the reserve, and past CONTROL_MAX_CONNS a connection
 * waits until one closes.
 */
static void
test_admin_reserve(void **state)
{
	enum { USERS = CONTROL_MAX_CONNS - CONTROL_ADMIN_RESERVE };
	int	 fd[USERS], extra, root[CONTROL_ADMIN_RESERVE], late;
	size_t	 i;

	for (i = 0; i < USERS; i += BATCH)
		connect_user(USER_UID + i / BATCH, BATCH, fd + i);
	/* The first connected answers a request: the second is idlest. */
	assert_int_equal(get(fd[0], "/"), 200);
	for (i = 0; i < USERS; i++)
		if (closed(fd[i]))
			fail_msg("user connection %zu closed within the share", i);

	connect_user(USER_UID + USERS / BATCH, 1, &extra);
	if (!closed(fd[1]))
		fail_msg("%d non-admin connections: the idlest stays open",
		    USERS + 1);
	for (i = 0; i < USERS; i++)
		if (i != 1 && closed(fd[i]))
			fail_msg("user connection %zu closed, not the idlest", i);
	assert_int_equal(get(extra, "/"), 200);

	for (i = 0; i < CONTROL_ADMIN_RESERVE; i += BATCH)
		connect_as(0, 0, NULL, 0, BATCH, root + i);
	for (i = 0; i < CONTROL_ADMIN_RESERVE; i++)
		if (get(root[i], "/") != 200)
			fail_msg("root's connection %zu within the reserve "
			    "refused", i);

	/* CONTROL_MAX_CONNS in all: the next waits in the backlog. */
	assert_int_not_equal(late = tool_connect(sock), -1);
	keep_fd(late);
	assert_int_equal(exchange(late, "GET / HTTP/1.1\r\n\r\n", 18, 200), 0);
	close(fd[2]);
	fd[2] = -1;
	assert_int_equal(exchange(late, "", 0, 5000), 200);
}

/* --- request limits ------------------------------------------------------ */

/* Send head, n filler bytes and tail as one request: the status. */
static int
send_padded(int fd, const char *head, size_t n, const char *tail, int ms)
{
	size_t	 hlen = strlen(head), tlen = strlen(tail);
	char	*req = xmalloc(hlen + n + tlen);
	int	 status;

	memcpy(req, head, hlen);
	memset(req + hlen, 'a', n);
	memcpy(req + hlen + n, tail, tlen);
	status = exchange(fd, req, hlen + n + tlen, ms);
	free(req);
	return status;
}

static int
post(int fd, size_t body_len)
{
	char	 head[128];

	snprintf(head, sizeof(head), "POST / HTTP/1.1\r\nHost: c\r\n"
	    "Content-Length: %zu\r\n\r\n", body_len);
	return send_padded(fd, head, body_len, "", 10000);
}

static void
test_body_limit(void **state)
{
	int	 fd[2];

	connect_as(0, 0, NULL, 0, 2, fd);
	assert_int_equal(post(fd[0], API_MAX_BODY), 200);
	assert_int_equal(seen.body_len, API_MAX_BODY);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(post(fd[1], API_MAX_BODY + 1), 413);
	assert_int_equal(seen.calls, 1);
}

/* A GET whose header block is size bytes. */
static int
get_big_header(int fd, size_t size)
{
	static const char	 head[] = "GET / HTTP/1.1\r\nX-Big: ";

	return send_padded(fd, head, size - strlen(head) - 4, "\r\n\r\n",
	    5000);
}

static void
test_header_limit(void **state)
{
	int	 fd[2];

	connect_as(0, 0, NULL, 0, 2, fd);
	assert_int_equal(get_big_header(fd[0], API_MAX_HEADERS - 64), 200);
	assert_int_equal(seen.calls, 1);
	/* evhttp answers an oversized header block 400, not 413. */
	assert_int_equal(get_big_header(fd[1], API_MAX_HEADERS + 64), 400);
	assert_int_equal(seen.calls, 1);
}

/* A request must arrive whole within API_REQUEST_TIMEOUT of connecting,
 * however steadily its bytes trickle in. */
static void
test_request_deadline(void **state)
{
	static const char	 start[] = "GET / HTTP/1.1\r\nX-Slow: ";
	struct timespec		 t0, t1;
	double			 s;
	int			 fd, r;

	connect_user(USER_UID, 1, &fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(exchange(fd, start, strlen(start), 100), 0);
	do {
		/* A byte every 0.5 s keeps evhttp's idle timeout away. */
		if ((r = exchange(fd, "a", 1, 500)) > 0)
			fail_msg("answered %d to half a request", r);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		s = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	} while (r == 0 && s < API_REQUEST_TIMEOUT + 3);
	if (!closed(fd))
		fail_msg("still open after %.1f s", s);
	if (s < API_REQUEST_TIMEOUT - 1)
		fail_msg("closed after %.1f s, before the deadline", s);
	assert_int_equal(seen.calls, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_admin_from_peer_process),
		T(test_admin_not_account_groups),
		T(test_admin_group_reloaded),
		T(test_uid_cap_evicts_idlest),
		T(test_uid_cap_keeps_busy),
		T(test_admins_uncapped),
		T(test_admin_reserve),
		T(test_body_limit),
		T(test_header_limit),
		T(test_request_deadline),
#undef T
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_control: needs root to connect as "
		    "other uids\n");
		return 77;
	}
	find_admin_group();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

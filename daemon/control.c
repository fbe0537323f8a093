/*
 * control.c: the control socket: an AF_UNIX listener served by evhttp, peer
 * credentials (SO_PEERCRED) deciding who may change things, and the limits
 * that keep one slow or hostile client from stalling the others.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/crypto.h>

#include "control.h"
#include "log.h"
#include "sysd.h"
#include "util.h"

/*
 * One accepted connection.  libevent 2.1's evhttp has no callback at accept
 * (evhttp_set_newreqcb is 2.2), so the bufferevent callback (called once per
 * accepted connection) is where we start the absolute request deadline; we
 * hold a reference on the bufferevent so the timer can always touch it
 * safely, and learn the evhttp_connection at its first complete request.
 */
struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct control		*ctl;
	struct bufferevent	*bev;		/* referenced */
	struct evhttp_connection *evcon;	/* NULL until known */
	struct event		*deadline;
	struct event		*classify;	/* once evhttp has the fd */
	struct control_req	*pending;	/* answer not yet sent */
	int			 classified;	/* peer, admin, uid known */
	int			 admin;
	uid_t			 uid;
	uint64_t		 last;		/* last request, for eviction */
};

struct control_req {
	struct evhttp_request	*req;		/* NULL once the peer left */
	struct conn		*conn;
};

struct control {
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	char				*path;	/* socket we created, to unlink */
	gid_t				 admin_gid;	/* -1: no such group */
	control_handler_fn		 handler;
	void				*arg;
	TAILQ_HEAD(, conn)		 conns;
	size_t				 nconns;
	size_t				 nusers;	/* non-admin, classified */
	uint64_t			 seq;		/* request counter */
	int				 paused; /* listener off at the cap */
	time_t				 warned;	/* last refusal logged */
	size_t				 refused;	/* since then */
};

static void	conn_free(struct conn *);
static void	conn_classify_cb(evutil_socket_t, short, void *);

static void
listener_update(struct control *ctl)
{
	struct evconnlistener	*lev;

	if (ctl->bound == NULL)
		return;
	lev = evhttp_bound_socket_get_listener(ctl->bound);
	/* At the cap, new connections wait in the kernel backlog. */
	if (!ctl->paused && ctl->nconns >= CONTROL_MAX_CONNS) {
		log_warnx("control: %zu connections, not accepting more",
		    ctl->nconns);
		evconnlistener_disable(lev);
		ctl->paused = 1;
	} else if (ctl->paused && ctl->nconns < CONTROL_MAX_CONNS) {
		evconnlistener_enable(lev);
		ctl->paused = 0;
	}
}

/* The request was not received whole within API_REQUEST_TIMEOUT. */
static void
conn_deadline(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*conn = arg;
	evutil_socket_t	 s;

	s = bufferevent_getfd(conn->bev);
	if (conn->evcon != NULL) {
		/* evhttp sees EOF, frees the connection, calls conn_closed. */
		if (s != -1)
			shutdown(s, SHUT_RDWR);
		return;
	}
	/* evhttp never handed us this connection: it is ours to end. */
	if (s != -1)
		shutdown(s, SHUT_RDWR);
	conn_free(conn);
}

static void
conn_arm(struct conn *conn)
{
	struct timeval	 tv = { API_REQUEST_TIMEOUT, 0 };

	event_add(conn->deadline, &tv);
}

static struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	struct control		*ctl = arg;
	struct conn		*conn;
	struct bufferevent	*bev;

	if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL)
		return NULL;
	conn = xcalloc(1, sizeof(*conn));
	if ((conn->deadline = evtimer_new(base, conn_deadline, conn)) == NULL ||
	    (conn->classify = event_new(base, -1, 0, conn_classify_cb,
	    conn)) == NULL)
		fatalx("cannot create an event");
	conn->ctl = ctl;
	conn->bev = bev;
	conn->last = ++ctl->seq;
	bufferevent_incref(bev);
	TAILQ_INSERT_TAIL(&ctl->conns, conn, entry);
	ctl->nconns++;
	conn_arm(conn);
	/* evhttp gives the bufferevent its socket after this returns. */
	event_active(conn->classify, EV_TIMEOUT, 0);
	listener_update(ctl);
	return bev;
}

static void
conn_free(struct conn *conn)
{
	struct control	*ctl;

	if (conn == NULL)
		return;
	ctl = conn->ctl;
	if (conn->pending != NULL) {
		conn->pending->req = NULL;
		conn->pending->conn = NULL;
	}
	TAILQ_REMOVE(&ctl->conns, conn, entry);
	ctl->nconns--;
	if (conn->classified && !conn->admin)
		ctl->nusers--;
	event_free(conn->deadline);
	event_free(conn->classify);
	bufferevent_decref(conn->bev);
	free(conn);
	listener_update(ctl);
}

static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	conn_free(arg);
}

/* The answer went out: the next request on this connection gets 10 s. */
static void
conn_answered(struct evhttp_request *req, void *arg)
{
	struct conn	*conn = arg;

	if (conn->evcon != NULL)
		evhttp_connection_set_timeout(conn->evcon, API_REQUEST_TIMEOUT);
	conn->last = ++conn->ctl->seq;
	conn_arm(conn);
}

static struct conn *
conn_find(struct control *ctl, struct bufferevent *bev)
{
	struct conn	*conn;

	TAILQ_FOREACH(conn, &ctl->conns, entry)
		if (conn->bev == bev)
			return conn;
	return NULL;
}

/*
 * May this peer change things?  uid 0, or admin_group among the groups the
 * peer process had when it connected: SO_PEERCRED's gid and SO_PEERGROUPS.
 * Not the account's groups in /etc/group: a process that dropped the group
 * is not an admin, one given it is.  No NSS lookup here.
 */
static int
peer_admin(const struct control *ctl, int fd, uid_t *uidp)
{
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc), glen;
	gid_t		 groups[64], *g = groups;
	size_t		 i, n;
	int		 admin = 0;

	*uidp = (uid_t)-1;
	if (fd == -1 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return 0;
	*uidp = uc.uid;
	if (uc.uid == 0)
		return 1;
	if (ctl->admin_gid == (gid_t)-1)
		return 0;
	if (uc.gid == ctl->admin_gid)
		return 1;
	glen = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &glen) == -1) {
		if (errno != ERANGE)
			return 0;
		g = xmalloc(glen);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &glen) == -1)
			glen = 0;
	}
	n = glen / sizeof(gid_t);
	for (i = 0; i < n && !admin; i++)
		admin = g[i] == ctl->admin_gid;
	if (g != groups)
		free(g);
	return admin;
}

/* The group's gid, looked up at start and on SIGHUP only. */
static gid_t
group_gid(const char *name)
{
	struct group	 gr, *res = NULL;
	char		 buf[16384];

	if (name == NULL || *name == '\0' ||
	    getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
		return (gid_t)-1;
	return gr.gr_gid;
}

/* End a connection now: evhttp frees it and conn_closed frees ours. */
static void
conn_drop(struct conn *conn)
{
	if (conn->evcon != NULL)
		evhttp_connection_free(conn->evcon);
	else {
		shutdown(bufferevent_getfd(conn->bev), SHUT_RDWR);
		conn_free(conn);
	}
}

/* The non-admin connection (of uid, or any if uid is -1) that has been
 * quiet longest, other than but; NULL if all are answering. */
static struct conn *
conn_idlest(struct control *ctl, uid_t uid, const struct conn *but)
{
	struct conn	*c, *best = NULL;

	TAILQ_FOREACH(c, &ctl->conns, entry) {
		if (c == but || !c->classified || c->admin ||
		    c->pending != NULL || (uid != (uid_t)-1 && c->uid != uid))
			continue;
		if (best == NULL || c->last < best->last)
			best = c;
	}
	return best;
}

static size_t
conns_of(struct control *ctl, uid_t uid)
{
	struct conn	*c;
	size_t		 n = 0;

	TAILQ_FOREACH(c, &ctl->conns, entry)
		if (c->classified && !c->admin && c->uid == uid)
			n++;
	return n;
}

/*
 * Who is on the other end (at accept, or at its first request if that came
 * first), and is there room for them?  Root and admins
 * always are (up to CONTROL_MAX_CONNS in all); everyone else shares what
 * is left after CONTROL_ADMIN_RESERVE, at most CONTROL_UID_MAX per uid.
 * Over a cap, their idlest connection goes first, else the new one.
 */
static void
conn_identify(struct conn *conn)
{
	struct control	*ctl = conn->ctl;
	void		*cbarg = NULL;

	if (conn->classified)
		return;
	conn->classified = 1;
	if (conn->evcon == NULL) {
		/* evhttp's argument to the bufferevent callbacks is its
		 * connection: learn it now, to hear when it closes. */
		bufferevent_getcb(conn->bev, NULL, NULL, NULL, &cbarg);
		if (cbarg != NULL && evhttp_connection_get_bufferevent(cbarg) ==
		    conn->bev) {
			conn->evcon = cbarg;
			evhttp_connection_set_closecb(conn->evcon, conn_closed,
			    conn);
		}
	}
	conn->admin = peer_admin(ctl, bufferevent_getfd(conn->bev),
	    &conn->uid);
	if (!conn->admin)
		ctl->nusers++;
}

static void
conn_classify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*conn = arg, *victim;
	struct control	*ctl = conn->ctl;
	uid_t		 uid;

	conn_identify(conn);
	if (conn->admin)
		return;
	uid = conn->uid;
	if (conns_of(ctl, uid) > CONTROL_UID_MAX)
		victim = conn_idlest(ctl, uid, conn);
	else if (ctl->nusers > CONTROL_MAX_CONNS - CONTROL_ADMIN_RESERVE)
		victim = conn_idlest(ctl, (uid_t)-1, conn);
	else
		return;
	if (victim == NULL)
		victim = conn;
	ctl->refused++;
	if (ctl->warned != time(NULL) / 60) {
		ctl->warned = time(NULL) / 60;
		log_warnx("control: connection limit for uid %d (at most %d "
		    "each, %d for all non-admins): closed %zu idle or new "
		    "connections", (int)uid, CONTROL_UID_MAX,
		    CONTROL_MAX_CONNS - CONTROL_ADMIN_RESERVE, ctl->refused);
		ctl->refused = 0;
	}
	conn_drop(victim);
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct control		*ctl = arg;
	struct evhttp_connection *evcon;
	struct bufferevent	*bev;
	struct conn		*conn;
	struct control_req	*creq;
	struct control_call	 call;
	const struct evhttp_uri	*uri;
	struct evbuffer		*in;
	unsigned char		*p;
	char			*body = NULL;
	size_t			 len;

	evcon = evhttp_request_get_connection(req);
	bev = evhttp_connection_get_bufferevent(evcon);
	if ((conn = conn_find(ctl, bev)) != NULL) {
		event_del(conn->deadline);
		/* A commit may wait in the queue and run its dependents for
		 * minutes: evhttp must not close the connection meanwhile. */
		evhttp_connection_set_timeout(evcon, CONTROL_ANSWER_TIMEOUT);
		if (conn->evcon == NULL) {
			conn->evcon = evcon;
			evhttp_connection_set_closecb(evcon, conn_closed, conn);
		}
		evhttp_request_set_on_complete_cb(req, conn_answered, conn);
	}

	memset(&call, 0, sizeof(call));
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
	case EVHTTP_REQ_HEAD:
		call.method = METHOD_GET;
		break;
	case EVHTTP_REQ_POST:
		call.method = METHOD_POST;
		break;
	case EVHTTP_REQ_DELETE:
		call.method = METHOD_DELETE;
		break;
	default:
		call.method = METHOD_OTHER;
		break;
	}
	uri = evhttp_request_get_evhttp_uri(req);
	call.path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (call.path == NULL)
		call.path = "/";
	call.query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	call.content_type = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type");
	if (conn != NULL) {
		conn_identify(conn);
		call.admin = conn->admin;
		call.uid = conn->uid;
	} else
		call.admin = peer_admin(ctl, bufferevent_getfd(bev), &call.uid);
	call.conns = ctl->nconns;

	/* Own copy of the body, and clear libevent's: it may hold a key. */
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	body = xmalloc(len + 1);
	if (len > 0) {
		p = evbuffer_pullup(in, -1);
		memcpy(body, p, len);
		OPENSSL_cleanse(p, len);
		evbuffer_drain(in, len);
	}
	body[len] = '\0';
	call.body = body;
	call.body_len = len;

	creq = xcalloc(1, sizeof(*creq));
	creq->req = req;
	creq->conn = conn;
	if (conn != NULL)
		conn->pending = creq;
	log_debug("control: uid %d %s %s", (int)call.uid,
	    evhttp_request_get_command(req) == EVHTTP_REQ_GET ? "GET" :
	    evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" :
	    evhttp_request_get_command(req) == EVHTTP_REQ_DELETE ? "DELETE" :
	    "?", call.path);
	ctl->handler(creq, &call, ctl->arg);
	freezero(body, len + 1);
	if (len > 0)
		stack_scrub();	/* what parsed the body left pieces there */
}

static const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Status";
}

void
control_reply_text(struct control_req *creq, int status, const char *ctype,
    const char *body, size_t len)
{
	struct evhttp_request	*req = creq->req;
	struct evkeyvalq	*h;

	if (req != NULL) {
		h = evhttp_request_get_output_headers(req);
		evhttp_add_header(h, "Content-Type", ctype);
		evhttp_add_header(h, "Cache-Control", "no-store");
		if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
			evbuffer_add(evhttp_request_get_output_buffer(req),
			    body, len);
		evhttp_send_reply(req, status, http_reason(status), NULL);
	}
	if (creq->conn != NULL)
		creq->conn->pending = NULL;
	free(creq);
}

void
control_reply_json(struct control_req *creq, int status, json_t *j)
{
	char	*s;
	size_t	 n;

	/* A trailing newline keeps curl output readable. */
	s = json_text(j, JSON_COMPACT, &n);
	control_reply_text(creq, status, "application/json", s, n);
	free(s);
	json_decref(j);
}

void
control_reply_error(struct control_req *creq, const struct cert_error *err)
{
	json_t	*e, *j;

	e = json_pack("{s:s, s:s}", "code", cert_code_name(err->code),
	    "message", err->message);
	if (e != NULL && err->name[0] != '\0')
		json_object_set_new(e, "item", json_pack("{s:s, s:i}",
		    "name", err->name, "seq", err->seq));
	j = json_pack("{s:o}", "error", e);
	control_reply_json(creq, cert_code_http_status(err->code), j);
}

/* Is something answering on path?  Then it is not ours to unlink. */
static int
socket_alive(const char *path)
{
	struct sockaddr_un	 sun;
	int			 s, alive;

	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	alive = connect(s, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(s);
	return alive;
}

static int
listen_path(const char *path, mode_t mode, struct cert_error *err)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	char			 dir[sizeof(sun.sun_path)], *slash, msg[512];
	int			 s;
	mode_t			 old;

	if (strlen(path) >= sizeof(sun.sun_path))
		return cert_error_set(err, E_INTERNAL, NULL, 0,
		    "socket path too long: %s", path);
	strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		/* The socket dir must be traversable by every user: the
		 * socket's own mode and peer credentials decide access. */
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			return cert_error_set(err, E_INTERNAL, NULL, 0,
			    "mkdir %s: %s", dir, strerror(errno));
		if (dir_private(dir, "socket directory", msg,
		    sizeof(msg)) == -1)
			return cert_error_set(err, E_INTERNAL, NULL, 0, "%s",
			    msg);
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return cert_error_set(err, E_INTERNAL, NULL, 0,
			    "%s exists and is not a socket; not removing it",
			    path);
		if (socket_alive(path))
			return cert_error_set(err, E_INTERNAL, NULL, 0,
			    "another certd is answering on %s", path);
		unlink(path);
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return cert_error_set(err, E_INTERNAL, NULL, 0, "socket: %s",
		    strerror(errno));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	/* No window in which the socket exists with a looser mode. */
	old = umask(0777 & ~mode);
	if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		cert_error_set(err, E_INTERNAL, NULL, 0, "bind %s: %s", path,
		    strerror(errno));
		close(s);
		return -1;
	}
	umask(old);
	/* bind made it with mode exactly (umask): no chmod, which would
	 * follow a symlink put in its place. */
	if (listen(s, 512) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "%s: %s", path,
		    strerror(errno));
		close(s);
		unlink(path);
		return -1;
	}
	return s;
}

struct control *
control_start(struct event_base *base, const char *path, mode_t mode,
    const char *admin_group, control_handler_fn handler, void *arg,
    struct cert_error *err)
{
	struct control	*ctl;
	int		 fd, activated = 0;

	ctl = xcalloc(1, sizeof(*ctl));
	ctl->handler = handler;
	ctl->arg = arg;
	ctl->admin_gid = group_gid(admin_group);
	TAILQ_INIT(&ctl->conns);
	if ((ctl->http = evhttp_new(base)) == NULL)
		fatalx("evhttp_new failed");
	evhttp_set_max_headers_size(ctl->http, API_MAX_HEADERS);
	evhttp_set_max_body_size(ctl->http, API_MAX_BODY);
	evhttp_set_timeout(ctl->http, API_REQUEST_TIMEOUT);
	/* Every method reaches our router, which answers 405 in JSON. */
	evhttp_set_allowed_methods(ctl->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_bevcb(ctl->http, conn_new, ctl);
	evhttp_set_gencb(ctl->http, request_cb, ctl);

	if ((fd = sysd_listen_fd()) != -1) {
		activated = 1;
		evutil_make_socket_nonblocking(fd);
		evutil_make_socket_closeonexec(fd);
	} else if ((fd = listen_path(path, mode, err)) == -1)
		goto fail;
	else
		ctl->path = xstrdup(path);
	if ((ctl->bound = evhttp_accept_socket_with_handle(ctl->http, fd)) ==
	    NULL) {
		cert_error_set(err, E_INTERNAL, NULL, 0,
		    "cannot listen on %s", path);
		close(fd);
		goto fail;
	}
	if (activated)
		log_info("listening on the socket systemd passed (fd %d)", fd);
	else
		log_info("listening on %s (mode %04o)", path, (unsigned)mode);
	return ctl;
fail:
	if (ctl->path != NULL)
		unlink(ctl->path);
	free(ctl->path);
	evhttp_free(ctl->http);
	free(ctl);
	return NULL;
}

void
control_set_admin_group(struct control *ctl, const char *group)
{
	ctl->admin_gid = group_gid(group);
}

void
control_stop_accepting(struct control *ctl)
{
	if (ctl == NULL || ctl->bound == NULL)
		return;
	evhttp_del_accept_socket(ctl->http, ctl->bound);
	ctl->bound = NULL;
	if (ctl->path != NULL)
		unlink(ctl->path);
}

void
control_free(struct control *ctl)
{
	struct conn	*conn;

	if (ctl == NULL)
		return;
	control_stop_accepting(ctl);
	/* Frees evhttp's connections; their close callbacks free ours. */
	evhttp_free(ctl->http);
	while ((conn = TAILQ_FIRST(&ctl->conns)) != NULL) {
		ctl->bound = NULL;
		conn_free(conn);
	}
	free(ctl->path);
	free(ctl);
}

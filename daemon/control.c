/*
 * control.c: the control socket: an AF_UNIX listener served by evhttp, peer
 * credentials (SO_PEERCRED) deciding who may change things, and the limits
 * that keep one slow or hostile client from stalling the others.  The TLS
 * listeners (listen =) serve the same API through a second evhttp whose
 * connections are OpenSSL bufferevents; their peers share the same limits,
 * by address instead of uid, and a verified client certificate that
 * client_allow lists (tls.c) makes an admin.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "control.h"
#include "log.h"
#include "sysd.h"
#include "tls.h"
#include "util.h"

#define PEER_MAX	(INET6_ADDRSTRLEN + 16)

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
	int			 tls;		/* from a TLS listener */
	int			 classified;	/* peer, admin, uid known */
	int			 identified;	/* TLS: the client's certificate
						   read (after the handshake) */
	int			 admin;
	uid_t			 uid;		/* Unix socket: the peer's */
	char			 peer[PEER_MAX];	/* whose share of the limits:
						   "uid N", an IPv4 address,
						   an IPv6 /64 */
	char			 addr[PEER_MAX];	/* TLS: address and port */
	char			 actor[CONTROL_ACTOR_MAX]; /* "uid N", or the
						   client's subject */
	uint64_t		 last;		/* last request, for eviction */
};

struct control_req {
	struct evhttp_request	*req;		/* NULL once the peer left */
	struct conn		*conn;
};

struct control {
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	struct evhttp			*https;	/* TLS listeners, or NULL */
	struct evhttp_bound_socket	**tls_bound;
	size_t				 ntls;
	SSL_CTX				*ssl_ctx; /* for new TLS connections */
	char				**allow;	/* client_allow */
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
static void	free_strings(char **);

static void
listeners_set(struct control *ctl, int on)
{
	struct evconnlistener	*lev;
	size_t			 i;

	for (i = 0; i <= ctl->ntls; i++) {
		if (i == ctl->ntls && ctl->bound == NULL)
			break;
		lev = evhttp_bound_socket_get_listener(i < ctl->ntls ?
		    ctl->tls_bound[i] : ctl->bound);
		if (on)
			evconnlistener_enable(lev);
		else
			evconnlistener_disable(lev);
	}
}

static void
listener_update(struct control *ctl)
{
	/* At the cap, new connections wait in the kernel backlog. */
	if (!ctl->paused && ctl->nconns >= CONTROL_MAX_CONNS) {
		log_warnx("control: %zu connections, not accepting more",
		    ctl->nconns);
		listeners_set(ctl, 0);
		ctl->paused = 1;
	} else if (ctl->paused && ctl->nconns < CONTROL_MAX_CONNS) {
		listeners_set(ctl, 1);
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
conn_add(struct control *ctl, struct event_base *base, struct bufferevent *bev,
    int tls)
{
	struct conn		*conn;

	conn = xcalloc(1, sizeof(*conn));
	conn->tls = tls;
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

static struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	struct bufferevent	*bev;

	if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL)
		return NULL;
	return conn_add(arg, base, bev, 0);
}

/*
 * A TLS listener's connection: the handshake runs before evhttp reads a
 * byte, and its deadline is the request's (conn_arm, from accept).
 */
static struct bufferevent *
conn_new_tls(struct event_base *base, void *arg)
{
	struct control		*ctl = arg;
	struct bufferevent	*bev;
	SSL			*ssl;

	/* Never NULL: evhttp would serve the connection in the clear. */
	if ((ssl = SSL_new(ctl->ssl_ctx)) == NULL ||
	    (bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("cannot make a TLS connection");
	/* A client may close without close_notify once it has its answer. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return conn_add(ctl, base, bev, 1);
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

/* The non-admin connection (of peer, or any if peer is NULL) that has
 * been quiet longest, other than but; NULL if all are answering. */
static struct conn *
conn_idlest(struct control *ctl, const char *peer, const struct conn *but)
{
	struct conn	*c, *best = NULL;

	TAILQ_FOREACH(c, &ctl->conns, entry) {
		if (c == but || !c->classified || c->admin ||
		    c->pending != NULL ||
		    (peer != NULL && strcmp(c->peer, peer) != 0))
			continue;
		if (best == NULL || c->last < best->last)
			best = c;
	}
	return best;
}

static size_t
conns_of(struct control *ctl, const char *peer)
{
	struct conn	*c;
	size_t		 n = 0;

	TAILQ_FOREACH(c, &ctl->conns, entry)
		if (c->classified && !c->admin && strcmp(c->peer, peer) == 0)
			n++;
	return n;
}

/*
 * A TLS peer's share of the limits is its address; an IPv6 peer's, its
 * /64, which one host usually has whole.  addr gets address and port.
 */
static void
peer_address(int fd, char *peer, size_t plen, char *addr, size_t alen)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len = sizeof(ss);
	char			 host[INET6_ADDRSTRLEN] = "?";

	memset(&ss, 0, sizeof(ss));
	if (fd == -1 || getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		ss.ss_family = AF_UNSPEC;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(peer, plen, "%s", host);
		snprintf(addr, alen, "%s port %u", host, ntohs(sin->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(addr, alen, "%s port %u", host,
		    ntohs(sin6->sin6_port));
		memset(sin6->sin6_addr.s6_addr + 8, 0, 8);
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(peer, plen, "%s/64", host);
	} else {
		snprintf(peer, plen, "?");
		snprintf(addr, alen, "?");
	}
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
	int		 one = 1;

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
	if (conn->tls) {
		/* Not an admin before its certificate is read. */
		conn->uid = (uid_t)-1;
		peer_address(bufferevent_getfd(conn->bev), conn->peer,
		    sizeof(conn->peer), conn->addr, sizeof(conn->addr));
		/* An answer leaves in several TLS records: Nagle would hold
		 * the last one for the client's delayed ACK (40 ms). */
		setsockopt(bufferevent_getfd(conn->bev), IPPROTO_TCP,
		    TCP_NODELAY, &one, sizeof(one));
	} else {
		conn->admin = peer_admin(ctl, bufferevent_getfd(conn->bev),
		    &conn->uid);
		snprintf(conn->peer, sizeof(conn->peer), "uid %d",
		    (int)conn->uid);
		strlcpy(conn->actor, conn->peer, sizeof(conn->actor));
	}
	if (!conn->admin)
		ctl->nusers++;
}

/* A TLS connection's first request: the handshake verified its client;
 * who is it, and may it change things? */
static void
conn_tls_identify(struct conn *conn)
{
	struct control	*ctl = conn->ctl;
	SSL		*ssl;

	if (conn->identified)
		return;
	conn->identified = 1;
	if ((ssl = bufferevent_openssl_get_ssl(conn->bev)) == NULL ||
	    !tls_client(ssl, ctl->allow, conn->actor, sizeof(conn->actor)))
		return;
	if (!conn->admin && conn->classified)
		ctl->nusers--;
	conn->admin = 1;
}

static void
conn_classify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*conn = arg, *victim;
	struct control	*ctl = conn->ctl;

	conn_identify(conn);
	if (conn->admin)
		return;
	if (conns_of(ctl, conn->peer) > CONTROL_UID_MAX)
		victim = conn_idlest(ctl, conn->peer, conn);
	else if (ctl->nusers > CONTROL_MAX_CONNS - CONTROL_ADMIN_RESERVE)
		victim = conn_idlest(ctl, NULL, conn);
	else
		return;
	if (victim == NULL)
		victim = conn;
	ctl->refused++;
	if (ctl->warned != time(NULL) / 60) {
		ctl->warned = time(NULL) / 60;
		log_warnx("control: connection limit for %s (at most %d "
		    "each, %d for all non-admins): closed %zu idle or new "
		    "connections", conn->peer, CONTROL_UID_MAX,
		    CONTROL_MAX_CONNS - CONTROL_ADMIN_RESERVE, ctl->refused);
		ctl->refused = 0;
	}
	conn_drop(victim);
}

/* Who the request is from: the connection's peer, known since accept
 * (a TLS client's certificate: since its first request). */
static void
call_peer(struct control *ctl, struct conn *conn, struct bufferevent *bev,
    int tls, struct control_call *call, char *actor, size_t size)
{
	if (conn != NULL) {
		conn_identify(conn);
		if (conn->tls)
			conn_tls_identify(conn);
		call->admin = conn->admin;
		call->uid = conn->uid;
		call->tls = conn->tls;
		strlcpy(actor, conn->actor, size);
	} else if (tls) {
		/* Never seen at accept: anonymous, read-only. */
		call->uid = (uid_t)-1;
		call->tls = 1;
		strlcpy(actor, "(unknown client)", size);
	} else {
		call->admin = peer_admin(ctl, bufferevent_getfd(bev),
		    &call->uid);
		snprintf(actor, size, "uid %d", (int)call->uid);
	}
	call->actor = actor;
}

static void
request_handle(struct control *ctl, struct evhttp_request *req, int tls)
{
	struct evhttp_connection *evcon;
	struct bufferevent	*bev;
	struct conn		*conn;
	struct control_req	*creq;
	struct control_call	 call;
	const struct evhttp_uri	*uri;
	struct evbuffer		*in;
	unsigned char		*p;
	char			*body = NULL, actor[CONTROL_ACTOR_MAX];
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
	call_peer(ctl, conn, bev, tls, &call, actor, sizeof(actor));
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
	log_debug("control: %s%s%s %s %s", call.actor,
	    conn != NULL && conn->tls ? " at " : "",
	    conn != NULL && conn->tls ? conn->addr : "",
	    evhttp_request_get_command(req) == EVHTTP_REQ_GET ? "GET" :
	    evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" :
	    evhttp_request_get_command(req) == EVHTTP_REQ_DELETE ? "DELETE" :
	    "?", call.path);
	ctl->handler(creq, &call, ctl->arg);
	freezero(body, len + 1);
	if (len > 0)
		stack_scrub();	/* what parsed the body left pieces there */
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	request_handle(arg, req, 0);
}

static void
request_tls_cb(struct evhttp_request *req, void *arg)
{
	request_handle(arg, req, 1);
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

/* An evhttp with the limits every listener has. */
static struct evhttp *
http_new(struct event_base *base, struct control *ctl,
    struct bufferevent *(*bevcb)(struct event_base *, void *),
    void (*gencb)(struct evhttp_request *, void *))
{
	struct evhttp	*http;

	if ((http = evhttp_new(base)) == NULL)
		fatalx("evhttp_new failed");
	evhttp_set_max_headers_size(http, API_MAX_HEADERS);
	evhttp_set_max_body_size(http, API_MAX_BODY);
	evhttp_set_timeout(http, API_REQUEST_TIMEOUT);
	/* Every method reaches our router, which answers 405 in JSON. */
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_bevcb(http, bevcb, ctl);
	evhttp_set_gencb(http, gencb, ctl);
	return http;
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
	ctl->http = http_new(base, ctl, conn_new, request_cb);

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
	if (ctl == NULL)
		return;
	while (ctl->ntls > 0)
		evhttp_del_accept_socket(ctl->https,
		    ctl->tls_bound[--ctl->ntls]);
	if (ctl->bound == NULL)
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
	if (ctl->https != NULL)
		evhttp_free(ctl->https);
	while ((conn = TAILQ_FIRST(&ctl->conns)) != NULL) {
		ctl->bound = NULL;
		conn_free(conn);
	}
	free(ctl->tls_bound);
	SSL_CTX_free(ctl->ssl_ctx);
	free_strings(ctl->allow);
	free(ctl->path);
	free(ctl);
}

/* --- TLS listeners ------------------------------------------------------- */

static void
free_strings(char **v)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static char **
copy_strings(char *const *v)
{
	char	**out;
	size_t	 i, n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	out = xcalloc(n + 1, sizeof(*out));
	for (i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

void
control_set_tls(struct control *ctl, SSL_CTX *ctx, char *const *allow)
{
	/* Connections made before keep the context they began with: an SSL
	 * holds a reference on its SSL_CTX. */
	if (ctx != NULL)
		SSL_CTX_up_ref(ctx);
	SSL_CTX_free(ctl->ssl_ctx);
	ctl->ssl_ctx = ctx;
	free_strings(ctl->allow);
	ctl->allow = copy_strings(allow);
}

/* A listening TCP socket on host:port (numeric); -1 with err. */
static int
listen_tcp(const char *host, const char *port, struct cert_error *err)
{
	struct addrinfo	 hints, *ai = NULL;
	int		 s = -1, one = 1, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "listen %s port %s: "
		    "%s", host, port, gai_strerror(r));
		return -1;
	}
	if ((s = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    /* [::] and 0.0.0.0 are two listeners, never one for both. */
	    (ai->ai_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(s, ai->ai_addr, ai->ai_addrlen) == -1 || listen(s, 512) == -1) {
		cert_error_set(err, E_INTERNAL, NULL, 0, "listen %s port %s: "
		    "%s", host, port, strerror(errno));
		if (s != -1)
			close(s);
		s = -1;
	}
	freeaddrinfo(ai);
	return s;
}

int
control_listen_tls(struct control *ctl, struct event_base *base,
    const char *host, const char *port, struct cert_error *err)
{
	struct evhttp_bound_socket	*b;
	int				 fd;

	if (ctl->ssl_ctx == NULL)
		return cert_error_set(err, E_INTERNAL, NULL, 0, "no TLS "
		    "context to listen on %s port %s with", host, port);
	if (ctl->https == NULL)
		ctl->https = http_new(base, ctl, conn_new_tls, request_tls_cb);
	if ((fd = listen_tcp(host, port, err)) == -1)
		return -1;
	if ((b = evhttp_accept_socket_with_handle(ctl->https, fd)) == NULL) {
		close(fd);
		return cert_error_set(err, E_INTERNAL, NULL, 0, "cannot listen "
		    "on %s port %s", host, port);
	}
	ctl->tls_bound = xreallocarray(ctl->tls_bound, ctl->ntls + 1,
	    sizeof(*ctl->tls_bound));
	ctl->tls_bound[ctl->ntls++] = b;
	log_info("listening on %s port %s (TLS, client certificates "
	    "required)", host, port);
	return 0;
}

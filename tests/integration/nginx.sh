# tests/integration/nginx.sh: a private nginx for tests and benchmarks.
# Source it (after lib.sh), then:
#   nginx_conf DIR PORT CERT KEY [NAME]
#                      writes DIR/nginx.conf: one TLS server on
#                      127.0.0.1:PORT, ssl_certificate CERT (the full chain,
#                      leaf first: certd's fullchain.pem),
#                      ssl_certificate_key KEY, server_name NAME if given
#                      (default_server either way), answering
#                      "hello from nginx" to every request.  Pid file, logs
#                      and temp dirs are under DIR.  NGINX_WORKERS (default
#                      2) sets worker_processes.
#   nginx_start DIR    starts it (the master daemonizes once it listens) and
#                      waits for DIR/nginx.pid.
#   nginx_reload DIR   `nginx -s reload` with the same command line: returns
#                      at once, before the master has reloaded anything.
#                      It parses the whole config, certificates and keys
#                      included, and exits 1 without signalling if that fails.
#   nginx_reload_wait DIR
#                      nginx_reload, then waits until the old workers no
#                      longer accept (about 110 ms): then every fresh
#                      connection gets the new certificate.
#   nginx_test DIR     `nginx -t` (does load the certificates and keys).
#   nginx_stop DIR     TERM to the master, waits up to 5 s for it and its
#                      workers to go, then KILLs the workers left.
# Register the stop at once:  on_exit 'nginx_stop "$N"'
# Run as root (the master reads the key; workers run as nobody).
# Only the master's command line names DIR (nginx rewrites the title of a
# worker to "nginx: worker process"), so lib.sh's leak check sees the master
# only: nginx_stop kills the workers itself, by parent pid.

NGINX=${NGINX:-/usr/sbin/nginx}

nginx_conf() {
	_nd=$1 _np=$2 _nc=$3 _nk=$4 _nn=${5:-}
	mkdir -p "$_nd/tmp"
	cat > "$_nd/nginx.conf" <<EOC
daemon on;
master_process on;
worker_processes ${NGINX_WORKERS:-2};
pid $_nd/nginx.pid;
error_log $_nd/error.log notice;
events {
	worker_connections 256;
}
http {
	access_log $_nd/access.log;
	client_body_temp_path $_nd/tmp/body;
	proxy_temp_path $_nd/tmp/proxy;
	fastcgi_temp_path $_nd/tmp/fastcgi;
	uwsgi_temp_path $_nd/tmp/uwsgi;
	scgi_temp_path $_nd/tmp/scgi;
	server {
		listen 127.0.0.1:$_np ssl default_server;
		${_nn:+server_name $_nn;}
		ssl_certificate $_nc;
		ssl_certificate_key $_nk;
		location / {
			default_type text/plain;
			return 200 "hello from nginx\n";
		}
	}
}
EOC
}

# The command line every nginx_* uses: -p and -e keep nginx off
# /var/log/nginx and /usr/share/nginx, even before it reads the config.
_nginx() {
	_nd=$1; shift
	"$NGINX" -p "$_nd/" -e "$_nd/error.log" -c "$_nd/nginx.conf" "$@"
}

nginx_test() { _nginx "$1" -t; }

nginx_start() {
	rm -f "$1/nginx.pid"
	_nginx "$1" || return 1
	_n=50
	while [ $_n -gt 0 ] && ! [ -s "$1/nginx.pid" ]; do
		sleep 0.1; _n=$((_n - 1))
	done
	[ -s "$1/nginx.pid" ]
}

nginx_reload() { _nginx "$1" -s reload; }

# nginx_reload_wait DIR: nginx_reload, then wait (up to 5 s) until every
# worker that was there before is gone or "shutting down": from then on no
# fresh connection gets the old certificate.  (The master starts the new
# workers, sleeps 100 ms, and only then tells the old ones to stop; they
# accept until they get that signal.)
nginx_reload_wait() {
	_nw=$(pgrep -P "$(cat "$1/nginx.pid")")
	_nginx "$1" -s reload || return 1
	_n=250
	while [ $_n -gt 0 ]; do
		_nb=""
		for _q in $_nw; do
			case $(tr '\0' ' ' 2>/dev/null < "/proc/$_q/cmdline") in
			"nginx: worker process is shutting down"*|"") ;;
			"nginx: worker process"*) _nb=1 ;;
			esac
		done
		[ -z "$_nb" ] && return 0
		sleep 0.02; _n=$((_n - 1))
	done
	return 1
}

nginx_stop() {
	[ -s "$1/nginx.pid" ] || return 0
	_p=$(cat "$1/nginx.pid")
	_w=$(pgrep -P "$_p" 2>/dev/null)
	kill -TERM "$_p" 2>/dev/null || return 0
	_n=50
	while [ $_n -gt 0 ] && kill -0 "$_p" 2>/dev/null; do
		sleep 0.1; _n=$((_n - 1))
	done
	# The master waits for its workers; any left (the master was killed)
	# were reparented: kill those we saw, if they are still nginx workers.
	for _q in $_w; do
		case $(tr '\0' ' ' 2>/dev/null < "/proc/$_q/cmdline") in
		"nginx: worker"*) kill -KILL "$_q" 2>/dev/null ;;
		esac
	done
	rm -f "$1/nginx.pid"
}

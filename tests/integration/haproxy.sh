# tests/integration/haproxy.sh: a private HAProxy (2.6, Debian 12) for tests
# and benchmarks.  Source it (after lib.sh), then:
#   haproxy_conf DIR PORT BUNDLE
#                      writes DIR/haproxy.cfg: one frontend on 127.0.0.1:PORT,
#                      `ssl crt BUNDLE` (certd's bundle.pem: leaf, chain,
#                      key), answering "hello from haproxy" itself (no
#                      backend); the runtime API on DIR/admin.sock (mode
#                      600, level admin).
#   haproxy_check DIR  `haproxy -c` (loads the certificates and keys).
#   haproxy_start DIR  starts it as a plain daemon (-D, no master process:
#                      one process, whose pid is DIR/haproxy.pid); startup
#                      messages in DIR/haproxy.log.  Returns once it listens.
#   haproxy_cmd DIR CMD
#                      sends CMD (one line, or several: a payload) to the
#                      runtime API, prints the answer.  socat, else python3.
#   haproxy_set_cert DIR CRTPATH FILE
#                      `set ssl cert CRTPATH` with FILE's PEM as payload
#                      (blank lines stripped: one ends the payload), then
#                      `commit ssl cert CRTPATH`; prints both answers; fails
#                      (and aborts) unless both succeeded.  CRTPATH must be
#                      the crt path exactly as the config names it (no
#                      symlink resolved).  In memory only: write the file too.
#   haproxy_stop DIR   TERM, waits up to 5 s for the process to go.
# Register the stop at once:  on_exit 'haproxy_stop "$H"'
# Run as root (no `user` directive: it stays root and reads 0600 files).

HAPROXY=${HAPROXY:-/usr/sbin/haproxy}

haproxy_conf() {
	_hd=$1 _hp=$2 _hb=$3
	mkdir -p "$_hd"
	cat > "$_hd/haproxy.cfg" <<EOC
global
	stats socket $_hd/admin.sock mode 600 level admin
	stats timeout 30s
	nbthread 2
	tune.ssl.default-dh-param 2048

defaults
	mode http
	timeout connect 5s
	timeout client 10s
	timeout server 10s

frontend tls
	bind 127.0.0.1:$_hp ssl crt $_hb
	http-request return status 200 content-type text/plain string "hello from haproxy\n"
EOC
}

haproxy_check() {
	"$HAPROXY" -c -f "$1/haproxy.cfg"
}

haproxy_start() {
	rm -f "$1/haproxy.pid"
	# -D: the parent returns once the child has bound its sockets.
	"$HAPROXY" -D -f "$1/haproxy.cfg" -p "$1/haproxy.pid" >>"$1/haproxy.log" 2>&1 ||
		return 1
	_n=50
	while [ $_n -gt 0 ] && ! [ -S "$1/admin.sock" ]; do
		sleep 0.1; _n=$((_n - 1))
	done
	[ -s "$1/haproxy.pid" ] && [ -S "$1/admin.sock" ]
}

haproxy_cmd() {
	if command -v socat >/dev/null 2>&1; then
		printf '%s\n' "$2" | socat -t 10 - "UNIX-CONNECT:$1/admin.sock"
	else
		printf '%s\n' "$2" | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR)
while True:
    b = s.recv(65536)
    if not b:
        break
    sys.stdout.buffer.write(b)' "$1/admin.sock"
	fi
}

haproxy_set_cert() {
	_hd=$1 _hc=$2
	# HAProxy 2.6 keeps one certificate transaction for the whole process,
	# and a `set ssl cert` for any path while one is open silently updates
	# the open one ("Transaction updated for certificate <its path>!"): so
	# abort a leftover of ours first, refuse to touch another's, and demand
	# the exact answer that names our path.
	_ha=$(haproxy_cmd "$_hd" "abort ssl cert $_hc")
	case $_ha in
	"No ongoing transaction!"*|"Transaction aborted for certificate"*) ;;
	*) echo "$_ha"; return 1 ;;
	esac
	# A payload ends at the first empty line (the rest would be run as
	# commands): strip them all, and CRs; printf adds the final empty line.
	_pl=$(tr -d '\r' < "$3" | grep -v '^[[:space:]]*$')
	_ha=$(haproxy_cmd "$_hd" "set ssl cert $_hc <<
$_pl
")
	echo "$_ha"
	[ "$(printf '%s\n' "$_ha" | head -n 1)" = "Transaction created for certificate $_hc!" ] || {
		haproxy_cmd "$_hd" "abort ssl cert $_hc" >/dev/null
		return 1
	}
	_ha=$(haproxy_cmd "$_hd" "commit ssl cert $_hc")
	echo "$_ha"
	case $_ha in
	*"
Success!"*) ;;
	*) haproxy_cmd "$_hd" "abort ssl cert $_hc" >/dev/null; return 1 ;;
	esac
}

haproxy_stop() {
	[ -s "$1/haproxy.pid" ] || return 0
	_p=$(cat "$1/haproxy.pid")
	kill -TERM "$_p" 2>/dev/null || return 0
	_n=50
	while [ $_n -gt 0 ] && kill -0 "$_p" 2>/dev/null; do
		sleep 0.1; _n=$((_n - 1))
	done
	rm -f "$1/haproxy.pid"
}

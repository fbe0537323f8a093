#!/bin/sh
# tests/bench/socket.sh: the control socket under load: GET /v1/status
# requests/s and latency (p50/p99) with 64 concurrent keep-alive clients,
# beside a private nginx (one process, like certd) serving the same bytes
# as a static file over a Unix socket to the same load client; idle RSS of
# certd with one committed domain, and start-to-READY time (exec to
# READY=1 on a NOTIFY_SOCKET, median of 5).  Prints figures.
#
# Env: top_builddir (default: the current directory), top_srcdir,
# BENCH_CLIENTS (64), BENCH_SECONDS (5).
. "$(dirname "$0")/lib.sh"
: "${BENCH_CLIENTS:=64}"
: "${BENCH_SECONDS:=5}"
SOCKLOAD=$top_builddir/tests/tools/sockload
bench_built "$CERTD" "$TESTPKI" "$SOCKLOAD"

T=$(mktemp -d /tmp/certd-bench.XXXXXX)
pid="" npid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$npid" ] && kill "$npid" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
S=$T/run/control.sock

"$CERTD" -d -D "$T/run" >"$T/certd.log" 2>&1 &
pid=$!
i=0
until curl -sf --unix-socket "$S" http://certd/v1/status >/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "certd did not start" >&2; exit 1; }
	sleep 0.05
done
"$TESTPKI" chain "$T/p" --domain bench.test >/dev/null
up() {
	curl -sf --unix-socket "$S" http://certd/v1/certificates \
	    --data-urlencode domainsuffix=bench.test --data-urlencode "name=$1" \
	    --data-urlencode "id=$2" --data-urlencode "certificate@$3" \
	    ${4:+--data-urlencode "privatekey@$4"} >/dev/null
}
up root 1 "$T/p/root.pem"
up inter 2 "$T/p/inter1.pem"
up server 3 "$T/p/server.pem" "$T/p/server.key"

echo "machine: $(nproc) CPUs, $(uname -sr)"
echo "GET /v1/status, $BENCH_CLIENTS keep-alive clients, ${BENCH_SECONDS}s (one committed domain):"
"$SOCKLOAD" "$S" -c "$BENCH_CLIENTS" -s "$BENCH_SECONDS" -p /v1/status

# The same answer as a static file from nginx, same client, same run.
NGINX=${NGINX:-/usr/sbin/nginx}
if [ -x "$NGINX" ]; then
	mkdir -p "$T/nginx/www" "$T/nginx/logs" "$T/nginx/tmp"
	curl -sf --unix-socket "$S" http://certd/v1/status > "$T/nginx/www/status.json"
	cat > "$T/nginx/nginx.conf" <<EOF
# One process, no user switch: certd answers from one thread too.
daemon off;
master_process off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 100000000;
	client_body_temp_path $T/nginx/tmp;
	proxy_temp_path $T/nginx/tmp;
	fastcgi_temp_path $T/nginx/tmp;
	uwsgi_temp_path $T/nginx/tmp;
	scgi_temp_path $T/nginx/tmp;
	default_type application/json;
	server {
		listen unix:$T/nginx.sock;
		root $T/nginx/www;
	}
}
EOF
	"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>"$T/nginx/logs/stderr" &
	npid=$!
	i=0
	until curl -sf --unix-socket "$T/nginx.sock" http://n/status.json >/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "nginx did not start" >&2; cat "$T/nginx/logs/"* >&2; exit 1; }
		sleep 0.05
	done
	echo "nginx $("$NGINX" -v 2>&1 | sed 's/.*\///'), the same $(wc -c < "$T/nginx/www/status.json") bytes as a static file, same load:"
	"$SOCKLOAD" "$T/nginx.sock" -c "$BENCH_CLIENTS" -s "$BENCH_SECONDS" -p /status.json > "$T/nginx.out"
	cat "$T/nginx.out"
	# certd once more right after, so neither gets the quieter seconds.
	"$SOCKLOAD" "$S" -c "$BENCH_CLIENTS" -s "$BENCH_SECONDS" -p /v1/status > "$T/certd.out"
	echo "certd again: $(cat "$T/certd.out")"
	kill "$npid"; wait "$npid" 2>/dev/null || true; npid=""
	rps() { sed -n 's/.* rps=\([0-9]*\).*/\1/p' "$1"; }
	echo "socket ratio certd/nginx: $(rps "$T/certd.out") / $(rps "$T/nginx.out") req/s =" \
	    "$(echo "$(rps "$T/certd.out") $(rps "$T/nginx.out")" | awk '{ printf "%.0f%%", 100 * $1 / $2 }')"
else
	echo "nginx: $NGINX not installed, no comparison"
fi
echo "GET /metrics, $BENCH_CLIENTS clients, ${BENCH_SECONDS}s:"
"$SOCKLOAD" "$S" -c "$BENCH_CLIENTS" -s "$BENCH_SECONDS" -p /metrics
sleep 1
echo "idle RSS after the load: $(awk '/^VmRSS/ { print $2, $3 }' /proc/$pid/status)" \
    "(peak $(awk '/^VmHWM/ { print $2, $3 }' /proc/$pid/status))"
kill -TERM "$pid"; wait "$pid" || true; pid=""

# Start to READY=1: exec to the notification, with a DB holding one domain
# (so the repair pass runs).
cat > "$T/notify.py" <<'PY'
import socket, subprocess, sys, time
sock, certd, d = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock)
s.settimeout(10)
env = {"NOTIFY_SOCKET": sock, "PATH": "/usr/bin:/bin"}
t0 = time.monotonic()
p = subprocess.Popen([certd, "-d", "-D", d], env=env,
                     stderr=subprocess.DEVNULL)
while b"READY=1" not in s.recv(4096):
    pass
print("%.1f" % ((time.monotonic() - t0) * 1000))
p.terminate()
p.wait()
PY
times=""
for i in 1 2 3 4 5; do
	rm -f "$T/n.sock"
	times="$times $(python3 "$T/notify.py" "$T/n.sock" "$CERTD" "$T/run")"
done
med=$(for t in $times; do echo "$t"; done | sort -n | sed -n 3p)
echo "start to READY=1 (ms, 5 runs):$times; median $med ms"

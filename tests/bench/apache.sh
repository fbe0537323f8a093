#!/bin/sh
# tests/bench/apache.sh: how long from the final upload request (the server
# certificate with its key) until a private Apache serves the new leaf,
# with certd's dependent doing apache2 -t, -k graceful and verify.  A client
# thread polls the TLS port every 10 ms from the moment the request is sent.
# Prints median/min/p90/max of BENCH_RUNS (default 20) renewals, and the
# time until the upload request itself returned.  Needs root and apache2.
# Env: top_builddir (default: cwd), BENCH_RUNS.
. "$(dirname "$0")/lib.sh"
. "$here/../integration/apache.sh"
: "${BENCH_RUNS:=20}"
PY=/usr/bin/python3
bench_built "$CERTD" "$TESTPKI"
for c in /usr/sbin/apache2 "$PY"; do
	[ -x "$c" ] || { echo "apache.sh: $c missing" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "apache.sh: needs root (apache2 -k start)" >&2; exit 2; }

T=$(mktemp -d /tmp/certd-bench-apache.XXXXXX)
chmod 755 "$T"
A=$T/apache
cleanup() {
	[ -n "${CERTD_PID:-}" ] && kill "$CERTD_PID" 2>/dev/null && wait "$CERTD_PID" 2>/dev/null
	apache_stop "$A"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
D=bench.test
PORT=$(port)
"$TESTPKI" chain "$T/pki" --domain $D --inter 1 --key ec >/dev/null
i=1
while [ "$i" -le "$BENCH_RUNS" ]; do
	"$TESTPKI" cert "$T/leaf$i.pem" --issuer "$T/pki/inter1.pem" \
	    --issuer-key "$T/pki/inter1.key" --cn $D --dns $D --eku server \
	    --key ec --key-out "$T/leaf$i.key" >/dev/null
	i=$((i + 1))
done

STATE=$T/state
apache_conf "$A" $PORT
cat >> "$A/httpd.conf" <<EOC
<VirtualHost 127.0.0.1:$PORT>
	ServerName $D
	SSLEngine on
	Include $STATE/domains/$D/current/apache-ssl.conf
</VirtualHost>
EOC
cat > "$T/certd.conf" <<EOC
[certd]
state_dir = $STATE
socket = $T/control.sock

[dependent apache]
configtest = /usr/sbin/apache2 -f $A/httpd.conf -t
exec = /usr/sbin/apache2 -f $A/httpd.conf -k graceful
verify = 127.0.0.1:$PORT
verify_name = $D
verify_timeout = 10s
EOC
"$CERTD" -d -f "$T/certd.conf" > "$T/certd.log" 2>&1 &
CERTD_PID=$!

cat > "$T/one.py" <<'EOP'
# one.py SOCK DOMAIN NAME SEQ CERT [KEY] PORT: upload, and time until PORT
# serves CERT (ms), and until the request returned (ms).
import hashlib, http.client, socket, ssl, sys, threading, time, urllib.parse
sock, dom, name, seq, cert = sys.argv[1:6]
key = sys.argv[6] if len(sys.argv) > 7 else None
port = int(sys.argv[-1])
der = ssl.PEM_cert_to_DER_cert(open(cert).read())
want = hashlib.sha256(der).digest()
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(sock)
form = {"domainsuffix": dom, "name": name, "id": seq,
        "certificate": open(cert).read()}
if key:
    form["privatekey"] = open(key).read()
body = urllib.parse.urlencode(form)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
seen = {}
def poll(t0):
    while time.monotonic() - t0 < 30:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                with ctx.wrap_socket(s, server_hostname=dom) as t:
                    if hashlib.sha256(t.getpeercert(True)).digest() == want:
                        seen["t"] = time.monotonic()
                        return
        except OSError:
            pass
        time.sleep(0.01)
t0 = time.monotonic()
th = threading.Thread(target=poll, args=(t0,)) if key else None
if th:
    th.start()
c = C("certd")
c.request("POST", "/v1/certificates", body,
          {"Content-Type": "application/x-www-form-urlencoded"})
r = c.getresponse()
data = r.read()
t_reply = time.monotonic()
if r.status >= 400:
    sys.exit("upload %s: HTTP %d %s" % (name, r.status, data[:300]))
if th:
    th.join()
    if "t" not in seen:
        sys.exit("new leaf not served within 30 s")
    print("%.1f %.1f" % ((seen["t"] - t0) * 1000, (t_reply - t0) * 1000))
EOP
n=0
while [ ! -S "$T/control.sock" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
[ -S "$T/control.sock" ] || { echo "apache.sh: certd did not start" >&2; cat "$T/certd.log" >&2; exit 1; }
up() { "$PY" "$T/one.py" "$T/control.sock" $D "$@" "$PORT"; }
up root 1 "$T/pki/root.pem"
up intermediate1 2 "$T/pki/inter1.pem"
up server 3 "$T/pki/server.pem" "$T/pki/server.key" > /dev/null	# starts Apache
sleep 1
: > "$T/times"
i=1
while [ "$i" -le "$BENCH_RUNS" ]; do
	up server 3 "$T/leaf$i.pem" "$T/leaf$i.key" >> "$T/times" || {
		echo "apache.sh: run $i failed" >&2; tail -20 "$T/certd.log" >&2; exit 1; }
	i=$((i + 1))
done
stats() {
	sort -n | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%8.1f %8.1f %8.1f %8.1f\n", m, v[1], v[int(NR * 0.9 + 0.5)], v[NR] }'
}
echo "Apache $(/usr/sbin/apache2 -v | sed -n 's/^Server version: //p'), $(nproc) CPUs, $(uname -r)"
printf '%-52s %8s %8s %8s %8s\n' "ms, $BENCH_RUNS renewals" median min p90 max
printf '%-52s %s\n' "upload request -> new leaf served (client view)" "$(cut -d' ' -f1 "$T/times" | stats)"
printf '%-52s %s\n' "upload request -> its HTTP reply" "$(cut -d' ' -f2 "$T/times" | stats)"

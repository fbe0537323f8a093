#!/bin/sh
# Limits of the control socket: a body over 1 MiB gets 413, bad JSON 400
# with the parser's reason, an unknown path 404, a wrong method 405; a
# slowloris client (a byte every 0.5 s) is cut at ~10 s while another client
# is answered meanwhile; 1000 idle connections do not stop service.
. "$top_srcdir/tests/integration/lib.sh"
need curl python3

start_certd

say "body over 1 MiB: 413"
head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' a > "$T/big"
expect_code 413 api POST /v1/certificates -H 'Content-Type: application/json' \
    --data-binary @"$T/big"

say "headers over 8 KiB: refused (413/431/400)"
long=$(head -c 9000 /dev/zero | tr '\0' x)
api GET /v1/status -H "X-Long: $long" >/dev/null
code=$(cat "$T/api.code")
case $code in 413|431|400) ;; *) fail "oversize headers answered $code" ;; esac

say "bad JSON: 400 E_BAD_REQUEST saying where"
expect_code 400 api POST /v1/domains/example.com/bundle -H 'Content-Type: application/json' -d '{"certificates": '
assert_eq "$(api_error)" E_BAD_REQUEST
assert_contains "$(json_get 'j["error"]["message"]' < "$T/api.body")" "not valid JSON"
expect_code 400 api POST /v1/certificates -H 'Content-Type: application/json' -d '[1,2]'

say "unknown path 404, wrong method 405, bad domain 400"
expect_code 404 api GET /v1/nothing
assert_eq "$(api_error)" E_NOT_FOUND
expect_code 405 api DELETE /v1/status
expect_code 400 api GET '/v1/domains/..' --path-as-is

say "slowloris is cut at ~10 s; others are served meanwhile"
python3 - "$CERTD_SOCK" > "$T/slow.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
start = time.monotonic()
s.connect(sys.argv[1])
req = b"POST /v1/certificates HTTP/1.1\r\nHost: certd\r\nContent-Length: 100000\r\n\r\n" + b"a" * 100000
try:
    for i, b in enumerate(req):
        s.send(bytes([b]))
        if i == 2:
            print("sending", flush=True)
        time.sleep(0.5)
        if time.monotonic() - start > 30:
            break
    # The daemon may also have closed without us seeing a send error yet.
except OSError:
    pass
s.settimeout(5)
try:
    while s.recv(4096):
        pass
except OSError:
    pass
print("cut after %.1f s" % (time.monotonic() - start), flush=True)
PY
slow=$!
# Once it has sent a few bytes, certd holds a half-read request from it.
wait_for 10 grep -q '^sending' "$T/slow.out" || fail "slowloris did not start: $(cat "$T/slow.out")"
t0=$(date +%s%N)
api GET /v1/status >/dev/null || fail "status during slowloris"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
# Answered while the slow request was still open (not after certd cut it),
# and well within its 10 s.
grep -q '^cut' "$T/slow.out" && fail "status was answered only after the slowloris was cut ($ms ms)"
[ "$ms" -lt 5000 ] || fail "status took $ms ms during slowloris"
wait $slow
secs=$(sed -n 's/cut after \([0-9]*\)\..*/\1/p' "$T/slow.out")
[ -n "$secs" ] || fail "slowloris: $(cat "$T/slow.out")"
[ "$secs" -ge 9 ] && [ "$secs" -le 13 ] || fail "slowloris cut after $secs s, expected ~10"
echo "slowloris $(cat "$T/slow.out"); status answered in $ms ms meanwhile"

say "1000 idle connections do not stop service"
mkfifo "$T/idle.go" || fail "mkfifo"
python3 - "$CERTD_SOCK" "$T/idle.go" > "$T/idle.out" 2>&1 <<'PY' &
import socket, sys
conns = []
for i in range(1000):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    conns.append(s)
print("open", len(conns), flush=True)
# Held open until the test writes a line to the fifo.
open(sys.argv[2]).readline()
PY
idle=$!
on_exit "kill $idle 2>/dev/null"
wait_for 30 grep -q "open 1000" "$T/idle.out" || fail "could not open 1000 connections: $(cat "$T/idle.out")"
# connect() returns once a connection is queued; wait until certd has
# accepted them all (its own count), then ask it for more.
conns() { api GET /metrics | sed -n 's/^certd_control_connections //p'; }
accepted() { [ "$(conns)" -ge 1000 ]; }
wait_for 30 accepted || fail "metrics count $(conns) connections, expected >= 1000"
t0=$(date +%s%N)
for i in 1 2 3 4 5; do
	api GET /v1/status >/dev/null || fail "status with 1000 idle connections"
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 5000 ] || fail "5 status requests took $ms ms with 1000 idle connections"
n=$(conns)
[ "$n" -ge 1000 ] || fail "the idle connections were cut while the test ran: $n left"
echo go > "$T/idle.go"
wait $idle || fail "idle client: $(cat "$T/idle.out")"
echo "5 requests in $ms ms beside $n open connections"
kill -0 "$CERTD_PID" || fail "certd died"

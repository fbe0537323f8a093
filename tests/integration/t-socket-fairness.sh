#!/bin/sh
# t-socket-fairness: no local user can lock admins out of the control
# socket.  An unprivileged user (nobody) opens 1,100 connections (over the
# 1,024 cap) and keeps them busy with a keep-alive request every 2 s for
# 14 s (beyond the 10 s request deadline).  Meanwhile root's certctl status
# and another user's status are answered at once, nobody keeps at most
# CONTROL_UID_MAX (32) connections, and certd stays well under its cap.
. "$top_srcdir/tests/integration/lib.sh"
need python3 setpriv
[ "$(id -u)" = 0 ] || skip "needs root for setpriv"
getent passwd nobody >/dev/null || skip "no user nobody"
NOGROUP=$(getent group nogroup >/dev/null && echo nogroup || echo nobody)

start_certd
chmod 755 "$T"

say "nobody opens 1,100 keep-alive connections and keeps them busy"
setpriv --reuid nobody --regid "$NOGROUP" --clear-groups \
    /usr/bin/python3 - "$CERTD_SOCK" 1100 14 > "$T/flood.out" 2>&1 <<'PY' &
import resource, selectors, socket, sys, time
path, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
req = b"GET /v1/status HTTP/1.1\r\nHost: certd\r\n\r\n"
sel = selectors.DefaultSelector()
alive = {}
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.setblocking(False)
    alive[s] = b""
    sel.register(s, selectors.EVENT_READ)
print("opened", len(alive), flush=True)
start = time.monotonic()
next_send = start
while time.monotonic() - start < secs:
    now = time.monotonic()
    if now >= next_send:
        for s in list(alive):
            try:
                s.send(req)
            except OSError:
                sel.unregister(s); del alive[s]; s.close()
        next_send = now + 2
    for key, _ in sel.select(0.2):
        s = key.fileobj
        try:
            d = s.recv(65536)
        except OSError:
            d = b""
        if not d:
            sel.unregister(s); del alive[s]; s.close()
print("alive", len(alive), flush=True)
PY
flood=$!
on_exit "kill $flood 2>/dev/null"
wait_for 30 grep -q "^opened 1100" "$T/flood.out" || fail "could not open 1,100 connections: $(cat "$T/flood.out")"

say "root and another user are answered at once meanwhile"
max=0 n=0
end=$(($(date +%s) + 12))
while [ "$(date +%s)" -lt "$end" ]; do
	t0=$(date +%s%N)
	run 0 ctl -t 10 status
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ "$ms" -gt "$max" ] && max=$ms
	n=$((n + 1))
	sleep 0.2
done
# certctl is a process start, a connect and one request: 1 s is generous.
[ "$max" -lt 1000 ] || fail "root's certctl status took up to $max ms during the flood"
code=$(setpriv --reuid daemon --regid daemon --clear-groups \
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    --unix-socket "$CERTD_SOCK" http://certd/v1/status)
assert_eq "$code" 200 "another user's status during the flood"
conns=$(api GET /metrics | sed -n 's/^certd_control_connections //p')
[ "$conns" -le 100 ] || fail "certd holds $conns connections during the flood"
wait $flood
alive=$(sed -n 's/^alive //p' "$T/flood.out")
[ -n "$alive" ] || fail "flood client: $(cat "$T/flood.out")"
[ "$alive" -le 32 ] || fail "nobody kept $alive connections, over its 32"
[ "$alive" -ge 1 ] || fail "nobody kept no connection at all: the cap should leave it 32"
grep -q "connection limit for uid 65534" "$T/certd.log" || fail "the refusals were not logged"
echo "$n root requests, slowest $max ms; nobody kept $alive of 1,100; certd held $conns connections"

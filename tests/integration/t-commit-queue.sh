#!/bin/sh
# t-commit-queue.sh: changes wait their turn instead of being refused.
# - three domains pushed at once all commit;
# - while a commit's dependent takes longer than the 10 s request deadline,
#   its client still gets the answer, 64 more changes wait in the queue and
#   the 65th and later get 503 E_BUSY at once; the queued all commit;
# - after SIGTERM: a request on a connection opened before gets 503
#   E_STOPPING, the queued get E_STOPPING, the change in flight is stopped
#   after stop_timeout and left pending, certd exits 0, and the next start
#   makes it live.
. "$top_srcdir/tests/integration/lib.sh"
need python3 sqlite3

# The dependent waits while $T/hold exists (and says so in $T/held).
cat > "$T/dep.sh" <<EOS
if [ -e $T/hold ]; then
	: > $T/held
	while [ -e $T/hold ]; do sleep 0.05; done
fi
exit 0
EOS
CONF="stop_timeout = 2s
[dependent web]
exec = /bin/sh $T/dep.sh
timeout = 60"
start_certd "$CONF"
db() { sqlite3 "$CERTD_STATE/certd.db" "$1" || fail "sqlite3: $1"; }

say "three domains pushed at once all commit"
for d in a b c; do
	pki chain "$T/$d" --domain $d.test --inter 1 --key ec >/dev/null || fail "testpki $d"
done
for d in a b c; do
	ctl upload $d.test --bundle "$T/$d/bundle.pem" --key "$T/$d/server.key" >"$T/$d.out" 2>&1 &
	eval "pid_$d=\$!"
done
for d in a b c; do
	eval "wait \$pid_$d" || fail "$d.test: $(cat "$T/$d.out")"
	assert_contains "$(cat "$T/$d.out")" "for $d.test as generation 1"
done

say "a long commit is answered; 64 wait; more are E_BUSY"
D=a.test
pki_leaf "$T/a" "$T/renew" $D
touch "$T/hold"
start=$(date +%s)
ctl upload $D --server "$T/renew.pem" --key "$T/renew.key" >"$T/long.out" 2>&1 &
long=$!
wait_for 10 test -e "$T/held" || fail "the dependent did not start"
i=1
while [ $i -le 70 ]; do
	ctl upload $D --server "$T/renew.pem" --key "$T/renew.key" >"$T/q$i.out" 2>&1 &
	eval "q_$i=\$!"
	i=$((i + 1))
done
# The refused ones answer at once, while the first still holds.
nbusy() { grep -l "E_BUSY" "$T"/q*.out 2>/dev/null | wc -l; }
wait_for 20 sh -c "[ \$(grep -l E_BUSY $T/q*.out 2>/dev/null | wc -l) -ge 6 ]" ||
    fail "only $(nbusy) uploads were refused with E_BUSY"
sleep 0.5	# any more would be wrong
assert_eq "$(nbusy)" 6 "uploads refused with E_BUSY while 64 wait"
assert_contains "$(cat "$(grep -l E_BUSY "$T"/q*.out | head -n 1)")" "64 changes are already waiting"
# Past the 10 s request deadline: the first client must still be answered.
while [ $(($(date +%s) - start)) -lt 12 ]; do sleep 0.2; done
kill -0 $long 2>/dev/null || fail "the first client ended before its commit: $(cat "$T/long.out")"
rm "$T/hold"
wait $long || fail "the long commit: $(cat "$T/long.out")"
assert_contains "$(cat "$T/long.out")" "as generation 2"
ok=0
i=1
while [ $i -le 70 ]; do
	eval "p=\$q_$i"
	if wait "$p"; then ok=$((ok + 1)); fi
	i=$((i + 1))
done
assert_eq "$ok" 64 "queued uploads that committed"
assert_eq "$(db "SELECT current FROM domains WHERE name = '$D'")" 66 "generation after the queue drained"

say "SIGTERM: new and queued changes are E_STOPPING; the one in flight stays pending"
touch "$T/hold"
rm -f "$T/held"
pki_leaf "$T/b" "$T/b2" b.test
ctl upload b.test --server "$T/b2.pem" --key "$T/b2.key" >"$T/inflight.out" 2>&1 &
inflight=$!
wait_for 10 test -e "$T/held" || fail "the dependent did not start"
ctl upload b.test --server "$T/b2.pem" --key "$T/b2.key" >"$T/queued.out" 2>&1 &
queued=$!
wait_for 10 sh -c "[ \"\$(curl -s --unix-socket '$CERTD_SOCK' http://certd/metrics | grep -c .)\" -gt 0 ]"
# A keep-alive connection opened before SIGTERM, used after it.
python3 - "$CERTD_SOCK" "$CERTD_PID" "$T/b2.pem" > "$T/late.out" <<'PY' &
import json, os, signal, socket, sys, time, urllib.parse
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
os.kill(int(sys.argv[2]), signal.SIGTERM)
time.sleep(0.3)
body = urllib.parse.urlencode({"domainsuffix": "c.test", "name": "root",
    "id": "1", "certificate": open(sys.argv[3]).read()})
s.sendall(("POST /v1/certificates HTTP/1.1\r\nHost: certd\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
print(s.recv(65536).decode(errors="replace"))
PY
late=$!
wait $queued
assert_eq "$?" 4 "exit of the queued upload after SIGTERM"
assert_contains "$(cat "$T/queued.out")" "E_STOPPING"
wait $late
assert_contains "$(cat "$T/late.out")" "503"
assert_contains "$(cat "$T/late.out")" "E_STOPPING"
wait $inflight
assert_eq "$?" 4 "exit of the upload in flight"
assert_contains "$(cat "$T/inflight.out")" "E_STOPPING: certd is stopping: the change is stored"
wait "$CERTD_PID"
assert_eq "$?" 0 "certd's exit status after SIGTERM"
CERTD_PID=""
pending=$(db "SELECT pending FROM domains WHERE name = 'b.test'")
[ -n "$pending" ] || fail "no pending generation left for b.test"
rm "$T/hold"
start_certd "$CONF"
wait_for 20 sh -c "[ \"\$(sqlite3 '$CERTD_STATE/certd.db' \"SELECT coalesce(pending, 0) || '|' || current FROM domains WHERE name = 'b.test'\")\" = '0|$pending' ]" ||
    fail "the next start did not make generation $pending live"
echo "the queue holds, refuses when full, and hands the rest to the next start"

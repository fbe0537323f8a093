#!/bin/sh
# A slow or hostile TLS peer cannot exhaust certd.  Proves:
# - a handshake that never finishes (a ClientHello begun and left, or
#   nothing at all) is cut 10 s after accept, the request deadline;
# - one address holds at most 32 connections that are not an admin's: a
#   peer opening 100 loses its idlest ones at once (and certd logs it);
# - meanwhile the management server (another address) is served at once,
#   commits an upload, and so is the Unix socket.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/remotelib.sh"
D=example.com

remote_pki
pki chain "$T/p" --domain $D --inter 1 >/dev/null || fail "testpki chain"
start_remote

ms() { date +%s%3N; }
# served WHAT CMD...: CMD succeeds within 2 s.
served() {
	_what=$1; shift
	_t=$(ms)
	"$@" >/dev/null 2>"$T/served.err" || fail "$_what failed: $(cat "$T/served.err")"
	_d=$(($(ms) - _t))
	[ "$_d" -lt 2000 ] || fail "$_what took $_d ms while peers stall"
	echo "$_what: $_d ms"
}

say "100 stalled handshakes from 127.0.0.2, 5 silent connections from 127.0.0.3"
$TLSCLIENT stall "$PORT" 100 --from 127.0.0.2 --hello --seconds 14 > "$T/stall2.out" &
S2=$!
$TLSCLIENT stall "$PORT" 5 --from 127.0.0.3 --seconds 14 > "$T/stall3.out" &
S3=$!
on_exit "kill $S2 $S3 2>/dev/null"
wait_for 10 grep -q "connection limit for 127.0.0.2" "$T/certd.log" ||
	fail "certd did not cap 127.0.0.2's connections"
start=$(ms)

say "the management server and the socket are served meanwhile"
served "certctl -H status" rctl status
served "certctl status on the socket" ctl status
served "upload root over TLS" rctl upload $D --name root --seq 1 "$T/p/root.pem"
served "upload intermediate over TLS" rctl upload $D --name intermediate --seq 2 "$T/p/inter1.pem"
served "commit over TLS" rctl upload $D --server "$T/p/server.pem" --key "$T/p/server.key"
[ $(($(ms) - start)) -lt 8000 ] || fail "the clients were not all served before the deadline"
run 0 rctl status
assert_contains "$out" "$D"

say "the stalled connections: the extra ones closed at once, the rest at 10 s"
wait "$S2" "$S3"
cat "$T/stall2.out" "$T/stall3.out" | grep -q open && fail "a stalled connection is still open after 14 s"
early=$(awk '$1 < 3' "$T/stall2.out" | wc -l)
late=$(awk '$1 >= 9 && $1 < 12' "$T/stall2.out" | wc -l)
echo "127.0.0.2: $early closed in under 3 s, $late between 9 and 12 s"
[ "$early" -ge 68 ] || fail "only $early of 100 were closed at once (at most 32 may stay)"
[ $((early + late)) -eq 100 ] || fail "closed at odd times: $(sort -n "$T/stall2.out" | uniq -c)"
silent=$(awk '$1 >= 9 && $1 < 12' "$T/stall3.out" | wc -l)
[ "$silent" -eq 5 ] || fail "silent connections not cut at 10 s: $(cat "$T/stall3.out")"
run 0 rctl status
echo ok

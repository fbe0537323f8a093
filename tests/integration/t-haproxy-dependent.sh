#!/bin/sh
# t-haproxy-dependent.sh: certd gives a real HAProxy 2.6 its new
# certificate over the runtime API, with no reload.  A private haproxy
# (haproxy.sh: one process, 127.0.0.1, its admin socket under $T) binds
# `ssl crt` on certd's current/bundle.pem; the dependent has haproxy_socket
# and haproxy_crt, and verify.  Proves: the first fresh connection after
# certctl returns gets the new leaf and chain, from the same HAProxy
# process (pid unchanged, no other process); a failing verify rolls back
# by sending the previous bundle the same way (same pid, old leaf on the
# first fresh connection); a transaction of ours left open is aborted
# first; another path's open transaction is left alone and named in the
# error; a HAProxy restart loads the same chain from disk; no key material
# in certd's log or answers.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/haproxy.sh"
need haproxy openssl python3 socat
[ "$(id -u)" -eq 0 ] || skip "needs root to start haproxy"
need_built "$CERTD" "$CERTCTL"

dependent_fixture
pki_leaf "$T/a" "$T/e" $D
PORT2=$(free_port)
H=$T/haproxy
CRT=$CUR/bundle.pem

# certd_conf VERIFY_PORT [VERIFY_TIMEOUT]: the dependent, verifying on that port.
certd_conf() {
	cat <<EOC
[dependent haproxy]
configtest = /usr/sbin/haproxy -c -q -f $H/haproxy.cfg
haproxy_socket = $H/admin.sock
haproxy_crt = $CRT
$(verify_keys "$@")
timeout = 10s
domains = $D
EOC
}
# first_conn LEAF: the very first fresh connection gets LEAF, with the
# intermediate (the second certificate sent).
first_conn() {
	assert_served "$PORT" $D "$1"
	_s=$(echo | openssl s_client -connect "127.0.0.1:$PORT" -servername $D \
	    -showcerts 2>/dev/null | grep -c 'BEGIN CERTIFICATE')
	assert_eq "$_s" 2 "certificates served (leaf + intermediate)"
}
same_process() {
	assert_eq "$(cat "$H/haproxy.pid")" "$PID" "haproxy pid file"
	kill -0 "$PID" || fail "haproxy $PID is gone"
	assert_eq "$(pgrep -f -- "$H/haproxy.cfg" | tr '\n' ' ')" "$PID " \
	    "haproxy processes"
}
serial() { openssl x509 -noout -serial -in "$1" | cut -d= -f2; }

say "first chain, then HAProxy starts on certd's bundle.pem"
start_certd ""
run 0 ctl upload $D --name root --seq 1 "$T/a/root.pem"
run 0 ctl upload $D --name intermediate --seq 2 "$T/a/inter1.pem"
run 0 ctl upload $D --name server --server "$T/a/server.pem" --key "$T/a/server.key"
stop_certd
haproxy_conf "$H" "$PORT" "$CRT"
# A second frontend with a certificate of its own: another path for which
# a transaction can be open.
cp "$T/other/server.pem" "$T/other.pem"
cat "$T/other/server.key" >> "$T/other.pem"
printf 'frontend other\n\tbind 127.0.0.1:%s ssl crt %s\n\thttp-request return status 200\n' \
	"$PORT2" "$T/other.pem" >> "$H/haproxy.cfg"
on_exit 'haproxy_stop "$H"'
haproxy_check "$H" >/dev/null 2>&1 || fail "haproxy -c: $(haproxy_check "$H" 2>&1)"
haproxy_start "$H" || fail "haproxy does not start: $(cat "$H/haproxy.log")"
wait_for 10 python3 "$PROBE" --port "$PORT" --seconds 0 || fail "haproxy does not answer"
PID=$(cat "$H/haproxy.pid")
first_conn "$T/a/server.pem"

say "renewal: set ssl cert + commit ssl cert, same process"
start_certd "$(certd_conf "$PORT")"
t0=$(date +%s%N)
run 0 ctl upload $D --server "$T/b.pem" --key "$T/b.key"
echo "certctl upload (commit, swap, verify 3 connections) took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
first_conn "$T/b.pem"
same_process
echo "$out"
assert_contains "$out" "Success!"
assert_contains "$out" "no reload"
assert_contains "$out" "3 consecutive connections"
assert_contains "$(haproxy_cmd "$H" "show ssl cert $CRT")" "Serial: $(serial "$T/b.pem")"
assert_not_contains "$(haproxy_cmd "$H" "show ssl cert")" "# transaction"

say "a transaction of ours left open is aborted first"
cat "$T/c.pem" "$T/a/inter1.pem" "$T/c.key" > "$T/c-bundle.pem"
out=$(haproxy_cmd "$H" "set ssl cert $CRT <<
$(cat "$T/c-bundle.pem")
")
assert_eq "$out" "Transaction created for certificate $CRT!"
run 0 ctl upload $D --server "$T/d.pem" --key "$T/d.key"
first_conn "$T/d.pem"
same_process

say "a failing verify rolls back: the previous bundle, sent the same way"
upload_rolls_back "$T/c.pem" "$T/c.key"
first_conn "$T/d.pem"
same_process
echo "$out$err"
assert_eq "$(readlink "$CUR")" gen-3 "current after the rollback"
assert_contains "$(haproxy_cmd "$H" "show ssl cert $CRT")" "Serial: $(serial "$T/d.pem")"
# Both swaps happened: to c (then verify failed), back to d.
n=$(grep -o 'set ssl cert + commit ssl cert' "$T/certd.log" | wc -l)
[ "$n" -ge 2 ] || fail "expected a swap and a swap back in certd's log, saw $n"

say "another path's transaction is open: not touched, named in the error"
stop_certd
start_certd "$(certd_conf "$PORT")"
out=$(haproxy_cmd "$H" "set ssl cert $T/other.pem <<
$(cat "$T/other.pem")
")
assert_eq "$out" "Transaction created for certificate $T/other.pem!"
run 1 ctl upload $D --server "$T/e.pem" --key "$T/e.key"
echo "$out$err"
assert_contains "$out$err" "another certificate transaction open"
assert_contains "$out$err" "The ongoing transaction is about '$T/other.pem'"
first_conn "$T/d.pem"
same_process
assert_contains "$(haproxy_cmd "$H" "abort ssl cert $T/other.pem")" "Transaction aborted"

say "a restart of HAProxy loads the same chain from disk"
haproxy_stop "$H"
haproxy_start "$H" || fail "haproxy restart: $(cat "$H/haproxy.log")"
wait_for 10 python3 "$PROBE" --port "$PORT" --seconds 0 || fail "haproxy does not answer"
PID=$(cat "$H/haproxy.pid")
first_conn "$T/d.pem"

say "no key material in certd's log or answers"
# The first 16 characters of every base64 line of every key.
cat "$T"/a/server.key "$T"/[bcde].key "$T/other/server.key" | grep -v -- '-----' |
	cut -c1-16 > "$T/key-pieces"
[ -s "$T/key-pieces" ] || fail "no key lines"
grep -F -f "$T/key-pieces" "$T/certd.log" && fail "key material in certd's log"
grep -F -f "$T/key-pieces" "$T/out" "$T/err" && fail "key material in certctl's output"
assert_not_contains "$(cat "$T/certd.log")" "PRIVATE KEY"
echo ok

#!/bin/sh
# demo-haproxy.sh: HAProxy 2.6 (Debian 12) changes its certificate through
# the runtime API, with no reload.  A private haproxy (haproxy.sh) binds
# `ssl crt <domain>/current/bundle.pem` of a certd-like domain directory.
# Proves: after `current` moves to gen-2, `set ssl cert <the configured
# path>` with gen-2's bundle as payload and `commit ssl cert` make the very
# next fresh connection get the new leaf, same PID; and records HAProxy's
# exact answers: success, a key that does not match, a path that is not the
# configured one (the symlink resolved), a payload with blank lines, abort,
# and a leftover transaction swallowing a `set` for another path.
# Not a t-*.sh: run it by hand,  tests/integration/run demo-haproxy
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/haproxy.sh"
. "$top_srcdir/tests/integration/fakegen.sh"
need haproxy openssl python3
[ "$(id -u)" -eq 0 ] || skip "needs root"

D=example.test
PORT=$(free_port)
H=$T/haproxy
DOM=$T/state/domains/$D
C=$DOM/current/bundle.pem	# the crt path exactly as the config says

fake_pki "$DOM" 2
fake_switch "$DOM" 1

haproxy_conf "$H" "$PORT" "$C"
on_exit 'haproxy_stop "$H"'
haproxy_check "$H" >/dev/null 2>&1 || fail "haproxy -c: $(haproxy_check "$H" 2>&1)"
t0=$(date +%s%N)
haproxy_start "$H" || fail "haproxy does not start: $(cat "$H/haproxy.log")"
wait_for 10 python3 "$PROBE" --port "$PORT" --seconds 0 || fail "haproxy does not answer"
echo "haproxy start: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
PID=$(cat "$H/haproxy.pid")
served_only 0.3 "$T/a/server.pem" "$T/b.pem"
say "show ssl cert"
haproxy_cmd "$H" "show ssl cert"

say "renewal: current -> gen-2 on disk, then set + commit of the same path"
fake_switch "$DOM" 2
t0=$(date +%s%N)
out=$(haproxy_set_cert "$H" "$C" "$DOM/current/bundle.pem") || fail "set/commit: $out"
echo "set + commit (three CLI connections with socat): $(( ($(date +%s%N) - t0) / 1000000 )) ms"
echo "$out"
assert_eq "$(printf '%s\n' "$out" | head -n 1)" "Transaction created for certificate $C!"
assert_contains "$out" "Committing $C"
assert_contains "$out" "Success!"
# The very next fresh connection, and every one after, gets the new leaf.
served_only 0.5 "$T/b.pem" "$T/a/server.pem"
assert_eq "$(cat "$H/haproxy.pid")" "$PID" "pid file"
kill -0 "$PID" || fail "haproxy $PID is gone"
assert_eq "$(pgrep -f -- "$H/haproxy.cfg" | tr '\n' ' ')" "$PID " "haproxy processes"
serial=$(openssl x509 -noout -serial -in "$T/b.pem" | cut -d= -f2)
out=$(haproxy_cmd "$H" "show ssl cert $C")
assert_contains "$out" "Serial: $serial"
echo "same pid $PID, no reload; show ssl cert: Serial: $serial"

say "a key that does not match: set accepts it, commit refuses"
cat "$T/c.pem" "$T/a/chain.pem" "$T/b.key" > "$T/bad.pem"
out=$(haproxy_cmd "$H" "set ssl cert $C <<
$(cat "$T/bad.pem")
")
echo "set:    $out"
assert_eq "$out" "Transaction created for certificate $C!"
out=$(haproxy_cmd "$H" "commit ssl cert $C")
echo "commit: $out"
assert_eq "$out" "inconsistencies between private key and certificate loaded '$C'.
Can't commit $C!"
out=$(haproxy_cmd "$H" "show ssl cert")
echo "show ssl cert after the failed commit (the transaction is still open):"
echo "$out"
assert_contains "$out" "# transaction
*$C"
served_only 0.2 "$T/b.pem" "$T/c.pem"
out=$(haproxy_cmd "$H" "abort ssl cert $C")
echo "abort:  $out"
assert_eq "$out" "Transaction aborted for certificate '$C'!"
out=$(haproxy_cmd "$H" "abort ssl cert $C")
echo "abort again: $out"
assert_eq "$out" "No ongoing transaction!"
out=$(haproxy_cmd "$H" "commit ssl cert $C")
echo "commit with none open: $out"
assert_eq "$out" "No ongoing transaction! !
Can't commit $C!"
out=$(haproxy_set_cert "$H" "$C" "$T/bad.pem") && fail "haproxy_set_cert took a bad key"
assert_not_contains "$(haproxy_cmd "$H" "show ssl cert")" "# transaction"
served_only 0.2 "$T/b.pem" "$T/c.pem"

say "abort: a good transaction dropped, the served leaf unchanged"
cat "$T/c.pem" "$T/a/chain.pem" "$T/c.key" > "$T/good-c.pem"
out=$(haproxy_cmd "$H" "set ssl cert $C <<
$(cat "$T/good-c.pem")
")
assert_eq "$out" "Transaction created for certificate $C!"
served_only 0.2 "$T/b.pem" "$T/c.pem"
out=$(haproxy_cmd "$H" "abort ssl cert $C")
assert_eq "$out" "Transaction aborted for certificate '$C'!"
served_only 0.2 "$T/b.pem" "$T/c.pem"

say "the symlink resolved is not the configured path"
out=$(haproxy_cmd "$H" "set ssl cert $DOM/gen-2/bundle.pem <<
$(cat "$T/good-c.pem")
")
echo "set:    $out"
assert_eq "$out" "Can't replace a certificate which is not referenced by the configuration!
Can't update $DOM/gen-2/bundle.pem!"

say "a payload with a blank line: cut there, the rest run as commands"
{ cat "$T/c.pem"; echo; cat "$T/a/chain.pem" "$T/c.key"; } > "$T/blank.pem"
out=$(haproxy_cmd "$H" "set ssl cert $C <<
$(cat "$T/blank.pem")
")
printf '%s\n' "$out" | head -n 3
echo "  ... ($(printf '%s\n' "$out" | grep -c '^Unknown command') \"Unknown command\" answers in all)"
assert_eq "$(printf '%s\n' "$out" | head -n 1)" "Transaction created for certificate $C!"
assert_contains "$out" "Unknown command"
out=$(haproxy_cmd "$H" "commit ssl cert $C")
echo "commit: $out"
assert_eq "$out" "The transaction must contain at least a certificate and a private key!
Can't commit $C!"
haproxy_cmd "$H" "abort ssl cert $C" >/dev/null
# haproxy_set_cert strips the blank lines: the same file goes through.
out=$(haproxy_set_cert "$H" "$C" "$T/blank.pem") || fail "stripped payload: $out"
served_only 0.2 "$T/c.pem" "$T/b.pem"

say "a leftover transaction swallows a set for another path (2.6.12)"
out=$(haproxy_cmd "$H" "set ssl cert $C <<
$(cat "$DOM/gen-2/bundle.pem")
")
assert_eq "$out" "Transaction created for certificate $C!"
out=$(haproxy_cmd "$H" "set ssl cert /etc/ssl/other.pem <<
$(cat "$T/good-c.pem")
")
echo "set /etc/ssl/other.pem: $out"
assert_eq "$out" "Transaction updated for certificate $C!"
out=$(haproxy_cmd "$H" "commit ssl cert /etc/ssl/other.pem")
echo "commit /etc/ssl/other.pem: $out"
assert_eq "$out" "The ongoing transaction is about '$C' but you are trying to set '/etc/ssl/other.pem'
Can't commit /etc/ssl/other.pem!"
out=$(haproxy_cmd "$H" "abort ssl cert /etc/ssl/other.pem")
echo "abort /etc/ssl/other.pem: $out"
assert_eq "$out" "The ongoing transaction is about '$C' but you are trying to abort a transaction for '/etc/ssl/other.pem'"
# haproxy_set_cert aborts our own leftover first, then sets.
out=$(haproxy_set_cert "$H" "$C" "$DOM/gen-2/bundle.pem") || fail "after a leftover: $out"
served_only 0.2 "$T/b.pem" "$T/c.pem"

say "the change lives in memory only: a restart reads the disk"
haproxy_set_cert "$H" "$C" "$T/good-c.pem" >/dev/null || fail "set c"
served_only 0.2 "$T/c.pem" "$T/b.pem"
haproxy_stop "$H"
haproxy_start "$H" || fail "restart: $(cat "$H/haproxy.log")"
wait_for 10 python3 "$PROBE" --port "$PORT" --seconds 0 || fail "haproxy does not answer"
served_only 0.2 "$T/b.pem" "$T/c.pem"	# current -> gen-2 on disk
echo ok

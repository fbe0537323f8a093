#!/bin/sh
# SIGHUP and the TLS listener.  Proves:
# - after tls_cert and tls_key name a new certificate and SIGHUP, new
#   connections are served the new one, while a connection made before
#   keeps its own and is still answered, and the Unix socket too;
# - client_allow changes apply to the next connection;
# - a reload whose tls_key does not match is refused (file:line logged)
#   and the running certificate stays.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/remotelib.sh"
need mkfifo

remote_pki
"$CERTCTL" gen-cert --ca "$T/sca" --domain certd.test --ip 127.0.0.1 --out "$T/srv2" >/dev/null ||
	fail "gen-cert srv2"
fp() { openssl x509 -in "$1" -outform der | sha256sum | cut -d' ' -f1; }
FP1=$(fp "$T/srv/server.pem") FP2=$(fp "$T/srv2/server.pem")
start_remote
# reload WHAT: SIGHUP, and wait for certd to say it is done with it.
reload() {
	# (not _n: wait_for counts with it)
	_before=$(grep -c "configuration reloaded\|configuration not reloaded" "$T/certd.log")
	kill -HUP "$CERTD_PID"
	_done() { [ "$(grep -c "$1" "$T/certd.log")" -gt "$_before" ]; }
	wait_for 10 _done "configuration reloaded\|configuration not reloaded" ||
		fail "certd did not finish the reload ($1)"
}

say "a connection made before the SIGHUP"
mkfifo "$T/ka.fifo"
$TLSCLIENT keepalive "$PORT" --cert "$T/mgmt/client.pem" --key "$T/mgmt/client.key" \
    --ca "$T/sca/root.pem" --fifo "$T/ka.fifo" > "$T/ka.out" 2>"$T/ka.err" &
KA=$!
on_exit "kill $KA 2>/dev/null"
exec 3>"$T/ka.fifo"
wait_for 10 grep -q HTTP "$T/ka.out" || fail "keep-alive client: $(cat "$T/ka.err")"
assert_eq "$(cat "$T/ka.out")" "HTTP 200 $FP1" "the first answer on the kept connection"

say "SIGHUP with a new certificate: new connections get it"
sed -i -e "s|$T/srv/server|$T/srv2/server|" "$T/certd.conf"
reload "new tls_cert"
out=$(tls_get /v1/status --cert "$T/mgmt/client.pem" --key "$T/mgmt/client.key")
assert_contains "$out" "HTTP 200 $FP2" "a new connection after the SIGHUP"
run 0 rctl status

say "the connection made before is still answered, with the certificate it began with"
echo again >&3
# (a function: wait_for retries its arguments as they were expanded)
two_answers() { [ "$(wc -l < "$T/ka.out")" -ge 2 ]; }
wait_for 10 two_answers || fail "no second answer: $(cat "$T/ka.err")"
assert_eq "$(sed -n 2p "$T/ka.out")" "HTTP 200 $FP1" "the second answer on the kept connection"
echo quit >&3
exec 3>&-
wait "$KA" || fail "keep-alive client: $(cat "$T/ka.err")"
run 0 ctl status

say "client_allow applies to the next connection"
pki chain "$T/p" --domain example.com --inter 0 >/dev/null || fail "testpki chain"
sed -i -e "s|^client_allow = .*|client_allow = CN=monitor.example.com|" "$T/certd.conf"
reload "client_allow"
run 1 rctl upload example.com --name root --seq 1 "$T/p/root.pem"
assert_contains "$err" "E_FORBIDDEN"
run 0 as_client mon upload example.com --name root --seq 1 "$T/p/root.pem"

say "a reload with a key that is not the certificate's is refused"
sed -i -e "s|^tls_key = .*|tls_key = $T/srv/server.key|" "$T/certd.conf"
line=$(grep -n "^tls_key" "$T/certd.conf" | cut -d: -f1)
reload "a mismatched key"
grep -q "configuration not reloaded, keeping the running one: $T/certd.conf:$line: tls_key: $T/srv/server.key is not the key of tls_cert" \
	"$T/certd.log" || fail "the refused reload is not logged with file:line: $(tail -n 3 "$T/certd.log")"
out=$(tls_get /v1/status --cert "$T/mon/client.pem" --key "$T/mon/client.key")
assert_contains "$out" "HTTP 200 $FP2" "a new connection after the refused reload"
echo ok

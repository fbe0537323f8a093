# t-certctl-errors.sh: certctl's exit codes say what went wrong: 2 usage or
# an unreadable file (named), 3 no daemon (path and hint named), 4 a daemon
# error or garbled answer, 1 a rejection with its code (E_ORDER, and
# E_KEY_ENCRYPTED with the openssl hint) that changes nothing.  A file
# certd would refuse (empty, too large, trailing garbage) is refused by
# certctl with certd's own code, and certd gives that code for those bytes.
. "$top_srcdir/tests/integration/lib.sh"
need python3 openssl sqlite3 setpriv

say "usage errors exit 2"
run 2 "$CERTCTL"
run 2 "$CERTCTL" frobnicate
assert_contains "$err" "unknown command: frobnicate"
run 2 "$CERTCTL" upload
run 2 "$CERTCTL" upload example.com --name root root.pem	# no --seq
assert_contains "$err" "--seq"
run 2 "$CERTCTL" upload example.com --name root --seq zero root.pem
run 2 "$CERTCTL" upload example.com --server s.pem	# no --key
run 2 "$CERTCTL" upload example.com --bundle b.pem	# no --key
run 2 "$CERTCTL" rollback example.com two
run 2 "$CERTCTL" status --bogus
run 2 "$CERTCTL" -t nope status
run 0 "$CERTCTL" --help
assert_contains "$out" "EXIT STATUS"
assert_contains "$out" "--name root --seq 1 root.pem"
run 0 "$CERTCTL" upload --help
assert_contains "$out" "upload DOMAIN --bundle FILE --key KEY"

say "a missing file exits 2 and is named (before any connection)"
run 2 "$CERTCTL" -s "$T/nothing.sock" upload example.com --name root --seq 1 "$T/no-such-root.pem"
assert_contains "$err" "$T/no-such-root.pem"
assert_contains "$err" "No such file"

say "files certd would refuse: exit 1 with certd's code, before any connection"
head -c 70000 /dev/zero | tr '\0' A > "$T/huge.pem"
: > "$T/empty.pem"
pki chain "$T/bad" --domain example.com --inter 1 >/dev/null || fail "testpki chain"
{ cat "$T/bad/root.pem"; printf 'trailing \377\376 garbage\n'; } > "$T/trailing.pem"
run 1 "$CERTCTL" -s "$T/nothing.sock" upload example.com --name root --seq 1 "$T/huge.pem"
assert_contains "$err" "certctl: E_TOO_LARGE: $T/huge.pem: larger than 64 KiB"
run 1 "$CERTCTL" -s "$T/nothing.sock" upload example.com --name root --seq 1 "$T/empty.pem"
assert_contains "$err" "certctl: E_ENCODING: $T/empty.pem: the certificate is empty"
run 1 "$CERTCTL" -s "$T/nothing.sock" upload example.com --name root --seq 1 "$T/trailing.pem"
assert_contains "$err" "certctl: E_ENCODING: $T/trailing.pem: trailing garbage"
run 1 "$CERTCTL" -s "$T/nothing.sock" upload example.com --server "$T/bad/server.pem" --key "$T/empty.pem"
assert_contains "$err" "certctl: E_KEY_ENCODING: $T/empty.pem: the private key is empty"
run 1 "$CERTCTL" -s "$T/nothing.sock" upload example.com --bundle "$T/trailing.pem" --key "$T/bad/server.key"
assert_contains "$err" "certctl: E_ENCODING: $T/trailing.pem: trailing garbage"

say "no daemon exits 3, naming the socket and the hint"
run 3 "$CERTCTL" -s "$T/nothing.sock" status
assert_contains "$err" "$T/nothing.sock"
assert_contains "$err" "is certd running?"
run 3 env CERTD_SOCKET="$T/env.sock" "$CERTCTL" status
assert_contains "$err" "$T/env.sock"
# A socket file nobody listens on: connection refused, still 3.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/dead.sock"
run 3 "$CERTCTL" -s "$T/dead.sock" status
assert_contains "$err" "refused"

say "daemon errors and garbage exit 4"
# fake.py SOCK REPLY: answer each connection with REPLY (raw bytes).
cat > "$T/fake.py" <<'EOF'
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(8)
reply = sys.argv[2].encode().decode('unicode_escape').encode()
while True:
	c, _ = s.accept()
	c.recv(65536)
	if reply == b'HANG':
		time.sleep(30)
	if reply:
		c.sendall(reply)
	c.close()
EOF
fake() {
	rm -f "$T/fake.sock"
	python3 "$T/fake.py" "$T/fake.sock" "$1" &
	FAKE_PID=$!
	wait_for 5 test -S "$T/fake.sock" || fail "fake server did not start"
}
unfake() { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; FAKE_PID=""; }
FAKE_PID=""
on_exit '[ -z "$FAKE_PID" ] || kill "$FAKE_PID" 2>/dev/null'

body='{"error":{"code":"E_INTERNAL","message":"database is locked"}}'
fake "HTTP/1.1 500 Internal Server Error\r\nContent-Length: ${#body}\r\n\r\n$body"
run 4 "$CERTCTL" -s "$T/fake.sock" status
assert_contains "$err" "E_INTERNAL: database is locked"
unfake
fake "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!"
run 4 "$CERTCTL" -s "$T/fake.sock" status
assert_contains "$err" "not a JSON object"
unfake
fake "SSH-2.0-OpenSSH_9.2\r\n\r\n"
run 4 "$CERTCTL" -s "$T/fake.sock" status
assert_contains "$err" "not an HTTP reply"
unfake
fake ""		# accepts, reads, closes without a word
run 4 "$CERTCTL" -s "$T/fake.sock" status
assert_contains "$err" "closed without a reply"
unfake
fake "HANG"	# never answers: -t bounds the wait
start=$(date +%s)
run 4 "$CERTCTL" -s "$T/fake.sock" -t 1 status
assert_contains "$err" "within 1 s"
[ $(($(date +%s) - start)) -le 3 ] || fail "-t 1 waited more than 3 s"
unfake

# The rest needs the real daemon.
start_certd

say "the daemon gives the same codes for the same bytes"
# form_root FILE: upload FILE as the root; $status and $code say the answer.
# (curl leaves out a field whose file is empty: send "certificate=" then.)
form_root() {
	if [ -s "$1" ]; then _f="certificate@$1"; else _f="certificate="; fi
	api POST /v1/certificates --data-urlencode "domainsuffix=example.com" \
	    --data-urlencode "name=root" --data-urlencode "id=1" \
	    --data-urlencode "$_f" >/dev/null
	status=$(cat "$T/api.code")
	code=$(json_get 'j["error"]["code"]' < "$T/api.body")
}
form_root "$T/huge.pem"
assert_eq "$status $code" "413 E_TOO_LARGE" "daemon's answer for huge.pem"
form_root "$T/empty.pem"
assert_eq "$status $code" "422 E_ENCODING" "daemon's answer for empty.pem"
form_root "$T/trailing.pem"
assert_eq "$status $code" "422 E_ENCODING" "daemon's answer for trailing.pem"
assert_contains "$(cat "$T/api.body")" "trailing garbage"

say "server before root: exit 1, E_ORDER, nothing changed"
pki chain "$T/pki" --domain example.com --inter 1 >/dev/null || fail "testpki chain"
ks_dump "$T/ks.empty"
run 1 ctl upload example.com --name server --seq 1 --server "$T/pki/server.pem" --key "$T/pki/server.key"
assert_contains "$err" "certctl: E_ORDER: "
run 1 ctl upload example.com --name server --server "$T/pki/server.pem" --key "$T/pki/server.key"
assert_contains "$err" "certctl: E_ORDER: "
ks_unchanged "$T/ks.empty" "keystore tables after rejected uploads"
after=$(api GET /v1/status) || fail "status"
assert_eq "$(echo "$after" | json_get 'len(j["domains"])')" 0 "domains after rejected uploads"

say "a server certificate as the root: rejected with its code and item"
run 1 ctl upload example.com --name root --seq 1 "$T/pki/server.pem"
assert_contains "$err" "certctl: E_ORDER: this is a server certificate"
assert_contains "$err" "(item root, seq 1)"
ks_unchanged "$T/ks.empty" "keystore tables after a rejected root"

say "encrypted key: exit 1, E_KEY_ENCRYPTED, says how to remove the passphrase"
pki chain "$T/enc" --domain example.com --inter 1 --key-format pkcs8-enc >/dev/null || fail "testpki chain enc"
run 0 ctl upload example.com --name root --seq 1 "$T/enc/root.pem"
run 0 ctl upload example.com --name intermediate --seq 2 "$T/enc/inter1.pem"
ks_dump "$T/ks.staged"
run 1 ctl upload example.com --name server --server "$T/enc/server.pem" --key "$T/enc/server.key"
assert_contains "$err" "certctl: E_KEY_ENCRYPTED: "
assert_contains "$err" "openssl pkey"
assert_not_contains "$err$out" "PRIVATE KEY"
ks_unchanged "$T/ks.staged" "keystore tables after an encrypted key"
# The unencrypted key commits: the rejection left the staged chain intact.
openssl pkey -in "$T/enc/server.key" -passin pass:testpki-secret -out "$T/enc/plain.key" 2>/dev/null || fail "openssl pkey"
run 0 ctl upload example.com --name server --server "$T/enc/server.pem" --key "$T/enc/plain.key"
assert_contains "$out" "generation 1"

say "a user outside admin_group: status works, a change is E_FORBIDDEN (exit 1)"
[ "$(id -u)" = 0 ] || skip "needs root for setpriv"
setpriv --reuid nobody --regid nogroup --clear-groups test -x "$CERTCTL" ||
	fail "nobody cannot run $CERTCTL (a directory above it not traversable?)"
ks_dump "$T/ks.gen1"
run 0 setpriv --reuid nobody --regid nogroup --clear-groups "$CERTCTL" -s "$CERTD_SOCK" status
assert_contains "$out" "example.com"
run 1 setpriv --reuid nobody --regid nogroup --clear-groups "$CERTCTL" -s "$CERTD_SOCK" rollback example.com
assert_contains "$err" "certctl: E_FORBIDDEN: "
assert_contains "$err" "admin_group"
ks_unchanged "$T/ks.gen1" "keystore tables after a forbidden rollback"

say "missing key file with a running daemon: exit 2, named"
run 2 ctl upload example.com --server "$T/enc/server.pem" --key "$T/enc/gone.key"
assert_contains "$err" "$T/enc/gone.key"
echo "all certctl error paths behaved"

#!/bin/sh
# Signals and config checking: certd -t exit codes and file:line messages;
# SIGHUP applies a config change (a new [domain] publish path appears) and a
# bad new config is refused while the old one keeps running; SIGTERM during
# a commit lets it (and its dependents) finish, answers the client, exits 0
# and leaves DB current == `current` link with a matching manifest.
. "$top_srcdir/tests/integration/lib.sh"
need curl python3 sqlite3

D=example.com
pki chain "$T/p" --domain $D >/dev/null || fail "testpki chain"
pki cert "$T/s2.pem" --cn $D --dns $D --eku server --issuer "$T/p/inter1.pem" \
    --issuer-key "$T/p/inter1.key" --key-out "$T/s2.key" >/dev/null || fail "testpki cert"

say "certd -t: exit 0 and the effective config; exit 1 with file:line"
printf '[certd]\nstate_dir = %s\nkeep_generations = 3\n' "$T/x" > "$T/good.conf"
out=$("$CERTD" -t -f "$T/good.conf") || fail "certd -t on a good config exited $?"
assert_contains "$out" "keep_generations = 3"
printf '[certd]\nstate_dir = %s\nno_such_key = 1\n' "$T/x" > "$T/bad.conf"
out=$("$CERTD" -t -f "$T/bad.conf" 2>&1) && fail "certd -t accepted an unknown key"
rc=$?
assert_eq "$rc" 1 "certd -t exit code on a bad key"
assert_contains "$out" "$T/bad.conf:3:" "certd -t message"
out=$("$CERTD" -t -D "$T/dd" -f "$T/good.conf") || fail "certd -t -D"
assert_contains "$out" "socket = $T/dd/control.sock"

say "commit generation 1 with a dependent that can be held"
# While the fifo $T/gate exists the dependent says it is running (the file
# $T/in-flight) and then waits for a line on the fifo: the commit is in
# flight for exactly as long as the test wants, however slow the machine.
start_certd "[dependent slow]
exec = /bin/sh -c 'if [ -p $T/gate ]; then : > $T/in-flight; read go < $T/gate; fi; echo reloaded'"
form_upload $D root 1 "$T/p/root.pem" >/dev/null || fail "root"
form_upload $D inter 2 "$T/p/inter1.pem" >/dev/null || fail "inter"
out=$(form_upload $D server 3 "$T/p/server.pem" "$T/p/server.key") || fail "server: $out"
assert_eq "$(echo "$out" | json_get 'j["reload"]["result"]')" ok
assert_eq "$(echo "$out" | json_get '[(s["dependent"], s["step"], s["ok"]) for s in j["reload"]["steps"]]')" \
	'[["slow", "reload", true]]'

say "SIGHUP: a new [domain] publish path appears"
[ -e "$T/pub.crt" ] && fail "pub.crt before the reload"
cat >> "$T/certd.conf" <<CONF
[domain $D]
publish_cert = $T/pub.crt
CONF
kill -HUP "$CERTD_PID"
wait_for 5 test -L "$T/pub.crt" || fail "publish link not made after SIGHUP"
cmp -s "$T/pub.crt" "$T/p/server.pem" || fail "pub.crt is not the server certificate"

say "SIGHUP with a broken config: refused, the running one stays"
echo "garbage line" >> "$T/certd.conf"
kill -HUP "$CERTD_PID"
wait_for 5 grep -q "configuration not reloaded" "$T/certd.log" || fail "bad config not reported"
assert_contains "$(grep 'configuration not reloaded' "$T/certd.log")" "certd.conf:"
api GET /v1/status >/dev/null || fail "certd stopped answering after a bad reload"
sed -i '$d' "$T/certd.conf"

say "SIGTERM during a commit: it finishes, the client gets its answer, exit 0"
mkfifo "$T/gate" || fail "mkfifo"
curl -s --max-time 60 --unix-socket "$CERTD_SOCK" http://certd/v1/certificates \
    --data-urlencode domainsuffix=$D --data-urlencode name=server --data-urlencode id=3 \
    --data-urlencode certificate@"$T/s2.pem" --data-urlencode privatekey@"$T/s2.key" \
    > "$T/commit.out" &
cpid=$!
wait_for 30 test -e "$T/in-flight" || fail "the dependent of generation 2 never started"
assert_eq "$(api GET /v1/status | json_get 'j["busy"]')" True "busy during the dependents run"
pid=$CERTD_PID
kill -TERM "$pid"
# certd has taken the signal (it says so) while the dependent still waits.
wait_for 30 grep -q "finishing the change in flight first" "$T/certd.log" ||
	fail "certd did not log that it finishes the commit first"
# Not accepting any more, but still finishing.
kill -0 "$pid" 2>/dev/null || fail "certd exited before the commit finished"
[ -e "$CERTD_SOCK" ] && fail "the socket is still there after SIGTERM"
[ -s "$T/commit.out" ] && fail "the client was answered before the dependent finished"
timeout 30 sh -c 'echo go > "$1"' sh "$T/gate" || fail "the dependent was not waiting on $T/gate"
wait "$pid"
rc=$?
CERTD_PID=""
assert_eq "$rc" 0 "certd exit status after SIGTERM"
wait $cpid || fail "the committing client got no answer"
assert_eq "$(json_get 'j["generation"], j["reload"]["result"]' < "$T/commit.out")" "(2, 'ok')"
[ -e "$CERTD_SOCK" ] && fail "socket left behind"

dbcur=$(sqlite3 "$CERTD_STATE/certd.db" "SELECT current FROM domains WHERE name = '$D'")
assert_eq "$(readlink "$CERTD_STATE/domains/$D/current")" "gen-$dbcur" "current link vs DB"
assert_eq "$dbcur" 2
python3 - "$CERTD_STATE/domains/$D/current" <<'PY' || fail "manifest does not match the files"
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
files = m.get("files", m)
items = files.items() if isinstance(files, dict) else [(f["name"], f) for f in files]
n = 0
for name, f in items:
    data = open(os.path.join(d, name), "rb").read()
    assert hashlib.sha256(data).hexdigest() == f["sha256"], name
    n += 1
assert n >= 10, n
PY
cmp -s "$CERTD_STATE/domains/$D/current/cert.pem" "$T/s2.pem" || fail "current/cert.pem is not generation 2's"

say "restart with current/ gone: re-rendered from the DB, serves generation 2"
rm "$CERTD_STATE/domains/$D/current"
rm -rf "$CERTD_STATE/domains/$D/gen-2"
start_certd "[dependent slow]
exec = /bin/true"
assert_eq "$(api GET /v1/status | json_get 'j["domains"][0]["generation"]')" 2
# certd answers first and checks the files in the background.
checked() { [ "$(api GET /v1/status | json_get 'j["summary"]["unchecked"]')" = 0 ]; }
wait_for 10 checked || fail "the start-up check did not finish"
assert_eq "$(readlink "$CERTD_STATE/domains/$D/current")" gen-2 "current after repair"
cmp -s "$CERTD_STATE/domains/$D/current/cert.pem" "$T/s2.pem" || fail "repaired cert.pem is not generation 2's"
echo "signals: ok"

#!/bin/sh
# t-dependents-exec.sh: exec dependents after a commit.  Proves: an exec
# dependent runs exactly once per commit; a failing configtest stops the
# reload and rolls the commit back (current is the previous generation
# again, status says rolled back and why); a command that outlives its
# timeout is killed (its whole process group) and counts as a failure.
. "$top_srcdir/tests/integration/lib.sh"
need curl pgrep
[ -x "$CERTD" ] || skip "certd not built"
"$CERTD" -t >/dev/null 2>&1 || skip "certd -t fails: the daemon is not built yet"

D=example.test
pki chain "$T/a" --domain $D --inter 1 --key ec >/dev/null || fail "testpki"
leaf() { pki_leaf "$T/a" "$T/$1" $D; }
leaf b; leaf c; leaf d
up() { form_upload $D "$@"; }	# up NAME SEQ CERT [KEY]
current() { readlink "$CERTD_STATE/domains/$D/current"; }
marks() { [ -f "$T/marker" ] && wc -l < "$T/marker" | tr -d ' ' || echo 0; }
# A unique sleep so pgrep finds only ours.
NAP=$(( 3000 + $$ % 1000 ))

start_certd "
[dependent marker]
exec = /bin/sh -c \"echo \$0 >> $T/marker\" run

[dependent gate]
configtest = /bin/sh -c \"echo checking; test ! -e $T/fail-configtest || { echo 'AH00526: Syntax error on line 7' >&2; exit 1; }\"
exec = /bin/true

[dependent slow]
exec = /bin/sh -c \"test ! -e $T/hang || sleep $NAP\"
timeout = 1s
"

say "first chain: every dependent once"
up root 1 "$T/a/root.pem" >/dev/null || fail "upload root: $(cat "$T/api.body")"
up inter1 2 "$T/a/inter1.pem" >/dev/null || fail "upload inter: $(cat "$T/api.body")"
assert_eq "$(marks)" 0 "marker before the server upload"
up server 3 "$T/a/server.pem" "$T/a/server.key" >/dev/null ||
	fail "upload server: $(cat "$T/api.body")"
wait_for 10 test "$(marks)" -ge 1 || fail "exec dependent did not run"
sleep 0.5
assert_eq "$(marks)" 1 "exec runs once per commit"
assert_eq "$(current)" gen-1

say "failing configtest: no reload, rollback to gen-1"
touch "$T/fail-configtest"
up server 3 "$T/b.pem" "$T/b.key" >/dev/null || true
wait_for 10 test -e "$CERTD_STATE/domains/$D/gen-2" || fail "no gen-2 was committed"
rolled() { api GET /v1/status | grep -q rolled; }
wait_for 10 rolled || fail "status never says rolled back: $(api GET /v1/status)"
assert_eq "$(current)" gen-1 "current after the failed configtest"
st=$(api GET /v1/status)
assert_contains "$st" "AH00526" "the configtest's output reaches status"
# The served files are gen-1's again.
cmp -s "$CERTD_STATE/domains/$D/current/cert.pem" "$T/a/server.pem" ||
	fail "current/cert.pem is not the first server certificate"
rm "$T/fail-configtest"

say "a command beyond its timeout is killed and fails the commit"
touch "$T/hang"
n0=$(marks)
t0=$(date +%s)
up server 3 "$T/c.pem" "$T/c.key" >/dev/null || true
wait_for 10 test -e "$CERTD_STATE/domains/$D/gen-3" || fail "no gen-3 was committed"
back() { [ "$(current)" = gen-1 ] && ! pgrep -f "sleep $NAP" >/dev/null; }
# timeout 1 s, SIGTERM kills sh and sleep at once; the rollback's reload
# hits the same timeout once more.
wait_for 15 back || fail "current $(current); sleep still running: $(pgrep -af "sleep $NAP")"
t1=$(date +%s)
[ $((t1 - t0)) -le 10 ] || fail "took $((t1 - t0)) s"
st=$(api GET /v1/status)
assert_contains "$st" "timed out" "status names the timeout"
rm "$T/hang"

say "a good commit afterwards"
n0=$(marks)
up server 3 "$T/d.pem" "$T/d.key" >/dev/null || fail "upload d: $(cat "$T/api.body")"
wait_for 10 test "$(marks)" -gt "$n0" || fail "marker did not run"
g=$(current)
[ "$g" != gen-1 ] || fail "current is still gen-1 after a good commit"
cmp -s "$CERTD_STATE/domains/$D/current/cert.pem" "$T/d.pem" ||
	fail "current/cert.pem is not d.pem"
sleep 0.5
assert_eq "$(marks)" $((n0 + 1)) "exec runs once for the good commit"
echo ok

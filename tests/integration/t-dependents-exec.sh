#!/bin/sh
# t-dependents-exec.sh: exec dependents after a commit.  Proves: an exec
# dependent runs exactly once per commit (and once per reload of a
# rollback); a failing configtest stops the reload and rolls the commit back
# (current is the previous generation again, status says rolled back and
# why); a command that outlives its timeout is killed (its whole process
# group) and counts as a failure.
. "$top_srcdir/tests/integration/lib.sh"
need curl pgrep
need_built "$CERTD"

renewals example.test
# The marker dependent appends the generation it was run for (where
# current points while it runs): one line per run, in order.
runs() { tr '\n' ' ' < "$T/marker" 2>/dev/null | sed 's/ $//'; }
# answer FILE: "GENERATION RESULT GENERATION-AFTER" of an upload's answer
answer() { json_get '"%s %s %s" % (j["generation"], j["reload"]["result"], j["reload"]["generation"])' < "$1"; }
# A unique sleep so pgrep finds only ours.
NAP=$(( 3000 + $$ % 1000 ))

start_certd "
[dependent marker]
exec = /bin/sh -c \"readlink $CERTD_STATE/domains/$D/current >> $T/marker\"

[dependent gate]
configtest = /bin/sh -c \"echo checking; test ! -e $T/fail-configtest || { echo 'AH00526: Syntax error on line 7' >&2; exit 1; }\"
exec = /bin/true

[dependent slow]
exec = /bin/sh -c \"test ! -e $T/hang || sleep $NAP\"
timeout = 1s
"

# Each upload's answer comes when its dependents (and any rollback's) are
# done, so what they did can be read right after it.
say "first chain: every dependent once"
up root 1 "$T/a/root.pem" >/dev/null || fail "upload root: $(cat "$T/api.body")"
up inter1 2 "$T/a/inter1.pem" >/dev/null || fail "upload inter: $(cat "$T/api.body")"
[ -e "$T/marker" ] && fail "marker ran before the server upload: $(runs)"
up server 3 "$T/a/server.pem" "$T/a/server.key" > "$T/up1" ||
	fail "upload server: $(cat "$T/api.body")"
assert_eq "$(answer "$T/up1")" "1 ok 1" "first commit"
assert_eq "$(json_get '[(s["dependent"], s["step"]) for s in j["reload"]["steps"]]' < "$T/up1")" \
    '[["marker", "reload"], ["gate", "configtest"], ["gate", "reload"], ["slow", "reload"]]' "steps"
assert_eq "$(runs)" "gen-1" "marker runs"
assert_eq "$(current)" gen-1

say "failing configtest: no reload, rollback to gen-1"
touch "$T/fail-configtest"
up server 3 "$T/b.pem" "$T/b.key" > "$T/up2" || fail "upload b: $(cat "$T/api.body")"
assert_eq "$(answer "$T/up2")" "2 rolled-back 1" "commit with a failing configtest"
test -e "$CERTD_STATE/domains/$D/gen-2" || fail "no gen-2 was committed"
assert_eq "$(current)" gen-1 "current after the failed configtest"
st=$(api GET /v1/status) || fail "status"
assert_contains "$st" "rolled" "status after the failed configtest"
assert_contains "$st" "AH00526" "the configtest's output reaches status"
# gate's configtest stops the run before slow; the rollback runs marker again.
assert_eq "$(runs)" "gen-1 gen-2 gen-1" "marker runs"
# The served files are gen-1's again.
cmp -s "$CERTD_STATE/domains/$D/current/cert.pem" "$T/a/server.pem" ||
	fail "current/cert.pem is not the first server certificate"
rm "$T/fail-configtest"

say "a command beyond its timeout is killed and fails the commit"
touch "$T/hang"
t0=$(date +%s)
up server 3 "$T/c.pem" "$T/c.key" > "$T/up3" || fail "upload c: $(cat "$T/api.body")"
assert_eq "$(answer "$T/up3")" "3 rolled-back 1" "commit with a hanging dependent"
assert_eq "$(current)" gen-1 "current after the timeout"
# timeout 1 s, SIGTERM kills sh and sleep at once (the process group); the
# rollback's reload hits the same timeout once more.
nap_gone() { ! pgrep -f "sleep $NAP" >/dev/null; }
wait_for 15 nap_gone || fail "sleep still running: $(pgrep -af "sleep $NAP")"
t1=$(date +%s)
[ $((t1 - t0)) -le 10 ] || fail "took $((t1 - t0)) s"
st=$(api GET /v1/status) || fail "status"
assert_contains "$st" "timed out" "status names the timeout"
assert_eq "$(runs)" "gen-1 gen-2 gen-1 gen-3 gen-1" "marker runs"
rm "$T/hang"

say "a good commit afterwards, then a reload: once each"
up server 3 "$T/d.pem" "$T/d.key" > "$T/up4" || fail "upload d: $(cat "$T/api.body")"
assert_eq "$(answer "$T/up4")" "4 ok 4" "good commit"
assert_eq "$(current)" gen-4
cmp -s "$CERTD_STATE/domains/$D/current/cert.pem" "$T/d.pem" ||
	fail "current/cert.pem is not d.pem"
# The reload's run comes after anything the commit could still have started.
api POST /v1/reload >/dev/null || fail "reload: $(cat "$T/api.body")"
assert_eq "$(runs)" "gen-1 gen-2 gen-1 gen-3 gen-1 gen-4 gen-4" "marker runs"
echo ok

#!/bin/sh
# t-systemd-dbusmock.sh: unit = dependents talk to systemd over D-Bus.  A
# mock org.freedesktop.systemd1 on a private bus records ReloadUnit /
# RestartUnit / ReloadOrRestartUnit calls and ends each job with "done",
# "failed" or nothing at all.  Proves: the right method, unit and mode
# "replace" per action, once per commit, in config order; "done" commits;
# "failed" and a job that never ends (timeout) roll the commit back.
. "$top_srcdir/tests/integration/lib.sh"
need curl
. "$top_srcdir/tests/integration/dbusmock/run-mock.sh"

say "sd-bus job handling against the mock (test_dependents)"
TD=$top_builddir/tests/unit/test_dependents
need_built "$TD"
out=$(CERTD_TEST_DBUS=1 "$TD" 2>&1) || fail "test_dependents with the mock: $out"
assert_not_contains "$out" "SKIPPED ] test_unit_results"
calls=$(cat "$MOCK_CALLS")
assert_contains "$calls" "ReloadUnit ok.service replace
RestartUnit ok.service replace
ReloadOrRestartUnit ok.service replace
ReloadUnit failed.service replace
ReloadUnit hang.service replace"

say "certd with unit dependents"
need_built "$CERTD"
: > "$MOCK_CALLS"
renewals example.test
# answer FILE: "GENERATION RESULT GENERATION-AFTER" of an upload's answer
answer() { json_get '"%s %s %s" % (j["generation"], j["reload"]["result"], j["reload"]["generation"])' < "$1"; }
# The mock logs a call before it answers, and certd answers an upload only
# when its jobs (and any rollback's) have ended: right after the answer the
# log holds all of that commit's calls.  new_calls: $NEW, those since the
# last new_calls.  The log is never cleared: at the end it must be exactly
# the calls of every step in order, so a stray late call fails too.
seen=0
new_calls() {
	NEW=$(sed -n "$((seen + 1)),\$p" "$MOCK_CALLS")
	seen=$(wc -l < "$MOCK_CALLS")
}
WEB="ReloadUnit web.service replace"
APP="RestartUnit app.service replace"

start_certd "
[dependent web]
unit = web.service
action = reload
timeout = 2s

[dependent app]
unit = app.service
action = restart
domains = $D

[dependent other]
unit = other.service
action = reload-or-restart
domains = other.test
"
up root 1 "$T/a/root.pem" >/dev/null || fail "upload root: $(cat "$T/api.body")"
up inter1 2 "$T/a/inter1.pem" >/dev/null || fail "upload inter: $(cat "$T/api.body")"
new_calls; assert_eq "$NEW" "" "calls before the server upload"
up server 3 "$T/a/server.pem" "$T/a/server.key" > "$T/up1" ||
	fail "upload server: $(cat "$T/api.body")"
assert_eq "$(answer "$T/up1")" "1 ok 1" "first commit"
new_calls; assert_eq "$NEW" "$WEB
$APP" "calls for the first commit"
assert_eq "$(current)" "gen-1" "current after a good commit"

say "a failed job rolls the commit back"
echo failed > "$MOCK_CTL/app.service"
up server 3 "$T/b.pem" "$T/b.key" > "$T/up2" || fail "upload b: $(cat "$T/api.body")"
assert_eq "$(answer "$T/up2")" "2 rolled-back 1" "commit with a failed job"
# Commit (web, app fails), rollback reload (web, app).
new_calls; assert_eq "$NEW" "$WEB
$APP
$WEB
$APP" "calls for a failed job"
assert_eq "$(current)" gen-1 "current after the failed job"
st=$(api GET /v1/status) || fail "status"
assert_contains "$st" "rolled" "status after a failed job"
assert_contains "$st" "failed" "status after a failed job"
rm "$MOCK_CTL/app.service"

say "a job that never ends times out and rolls back"
echo hang > "$MOCK_CTL/web.service"
up server 3 "$T/c.pem" "$T/c.key" > "$T/up3" || fail "upload c: $(cat "$T/api.body")"
assert_eq "$(answer "$T/up3")" "3 rolled-back 1" "commit with a job that hangs"
# web hangs (2 s timeout), so app is never asked; the rollback asks web again.
new_calls; assert_eq "$NEW" "$WEB
$WEB" "calls for a hanging job"
assert_eq "$(current)" gen-1 "current after the hang"
st=$(api GET /v1/status) || fail "status"
assert_contains "$st" "within 2000 ms" "status names the timeout"
rm "$MOCK_CTL/web.service"

say "a good commit after the failures, then a reload"
up server 3 "$T/d.pem" "$T/d.key" > "$T/up4" || fail "upload d: $(cat "$T/api.body")"
assert_eq "$(answer "$T/up4")" "4 ok 4" "good commit"
new_calls; assert_eq "$NEW" "$WEB
$APP" "calls for the good commit"
assert_eq "$(current)" gen-4
api POST /v1/reload > "$T/reload" || fail "reload: $(cat "$T/api.body")"
new_calls; RELOAD=$NEW
echo "reload: $RELOAD"
assert_contains "$RELOAD" "$WEB" "calls for the reload"
# Every call in order, nothing between or after.
assert_eq "$(cat "$MOCK_CALLS")" "$WEB
$APP
$WEB
$APP
$WEB
$APP
$WEB
$WEB
$WEB
$APP
$RELOAD" "all calls"
assert_not_contains "$(sed '$d' "$MOCK_CALLS")" "other.service"
echo ok

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
[ -x "$TD" ] || skip "tests/unit/test_dependents not built"
out=$(CERTD_TEST_DBUS=1 "$TD" 2>&1) || fail "test_dependents with the mock: $out"
assert_not_contains "$out" "SKIPPED ] test_unit_results"
calls=$(cat "$MOCK_CALLS")
assert_contains "$calls" "ReloadUnit ok.service replace
RestartUnit ok.service replace
ReloadOrRestartUnit ok.service replace
ReloadUnit failed.service replace
ReloadUnit hang.service replace"

say "certd with unit dependents"
[ -x "$CERTD" ] || skip "certd not built"
"$CERTD" -t >/dev/null 2>&1 || skip "certd -t fails: the daemon is not built yet"
: > "$MOCK_CALLS"
D=example.test
pki chain "$T/a" --domain $D --inter 1 --key ec >/dev/null || fail "testpki"
# Another server certificate from the same CA: one upload renews.
leaf() { pki_leaf "$T/a" "$T/$1" $D; }
leaf b; leaf c; leaf d
up() { form_upload $D "$@"; }	# up NAME SEQ CERT [KEY]
current() { readlink "$CERTD_STATE/domains/$D/current"; }
ncalls() { wc -l < "$MOCK_CALLS" | tr -d ' '; }

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
up server 3 "$T/a/server.pem" "$T/a/server.key" >/dev/null ||
	fail "upload server: $(cat "$T/api.body")"
wait_for 10 test "$(ncalls)" -ge 2 || fail "no unit jobs: $(cat "$MOCK_CALLS")"
sleep 0.3
assert_eq "$(cat "$MOCK_CALLS")" "ReloadUnit web.service replace
RestartUnit app.service replace" "calls for the first commit"
assert_eq "$(current)" "gen-1" "current after a good commit"

say "a failed job rolls the commit back"
echo failed > "$MOCK_CTL/app.service"
: > "$MOCK_CALLS"
up server 3 "$T/b.pem" "$T/b.key" >/dev/null || true
# Commit (web, app fail), rollback reload (web, app).
wait_for 10 test "$(ncalls)" -ge 4 || fail "calls: $(cat "$MOCK_CALLS")"
wait_for 10 test "$(current)" = gen-1 || fail "current is $(current), not back at gen-1"
assert_eq "$(sed -n 1,2p "$MOCK_CALLS")" "ReloadUnit web.service replace
RestartUnit app.service replace"
st=$(api GET /v1/status) || fail "status"
assert_contains "$st" "rolled" "status after a failed job"
assert_contains "$st" "failed" "status after a failed job"
rm "$MOCK_CTL/app.service"

say "a job that never ends times out and rolls back"
echo hang > "$MOCK_CTL/web.service"
: > "$MOCK_CALLS"
t0=$(date +%s)
up server 3 "$T/c.pem" "$T/c.key" >/dev/null || true
wait_for 15 test "$(ncalls)" -ge 2 || fail "calls: $(cat "$MOCK_CALLS")"
back_after_rollback() { [ "$(current)" = gen-1 ] && [ "$(ncalls)" -ge 2 ]; }
wait_for 15 back_after_rollback || fail "current is $(current) after the hang"
# web hangs (2 s timeout), so app is never asked; the rollback asks web again.
assert_eq "$(sed -n 1p "$MOCK_CALLS")" "ReloadUnit web.service replace"
assert_not_contains "$(sed -n 1p "$MOCK_CALLS")" "app.service"
st=$(api GET /v1/status) || fail "status"
assert_contains "$st" "within 2000 ms" "status names the timeout"
rm "$MOCK_CTL/web.service"

say "a good commit after the failures"
: > "$MOCK_CALLS"
up server 3 "$T/d.pem" "$T/d.key" >/dev/null || fail "upload d: $(cat "$T/api.body")"
wait_for 10 test "$(ncalls)" -ge 2 || fail "calls: $(cat "$MOCK_CALLS")"
old=$(current)
[ "$old" != gen-1 ] || wait_for 5 test "$(current)" != gen-1 || fail "still gen-1"
sleep 0.3
assert_eq "$(cat "$MOCK_CALLS")" "ReloadUnit web.service replace
RestartUnit app.service replace"
assert_not_contains "$(cat "$MOCK_CALLS")" "other.service"
echo ok

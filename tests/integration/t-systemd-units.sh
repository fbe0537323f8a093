#!/bin/sh
# t-systemd-units.sh: the shipped units are valid and hardened: the service
# is Type=notify with the configured paths substituted, systemd-analyze
# rates its exposure <= 2.0 while it keeps write access to its state dir and
# the publish paths and may reach the system bus; the socket is 0666 at
# /run/certd/control.sock; sysusers and tmpfiles snippets parse and create
# what certd needs.
. "$top_srcdir/tests/integration/lib.sh"
need systemd-analyze systemd-sysusers systemd-tmpfiles

SVC=$top_builddir/systemd/certd.service
need_built "$SVC" "$CERTD"
SOCK=$top_srcdir/systemd/certd.socket

say "service: substituted, Type=notify, reload by SIGHUP"
assert_not_contains "$(cat "$SVC")" "@sbindir@"
assert_not_contains "$(cat "$SVC")" "@sysconfdir@"
line() { grep -E "^$1=" "$SVC" | tail -n 1; }
assert_eq "$(line Type)" "Type=notify"
assert_contains "$(line ExecStart)" "/certd -f /"
assert_contains "$(line ExecStart)" "/certd/certd.conf"
assert_eq "$(line ExecReload)" 'ExecReload=/bin/kill -HUP $MAINPID'
assert_eq "$(line StateDirectory)" "StateDirectory=certd"
assert_eq "$(line StateDirectoryMode)" "StateDirectoryMode=0755"
assert_eq "$(line RuntimeDirectory)" "RuntimeDirectory=certd"
assert_contains "$(line WatchdogSec)" "WatchdogSec="

say "service: exposure <= 2.0"
out=$(systemd-analyze security --offline=true --no-pager "$SVC" 2>&1) ||
	fail "systemd-analyze security: $out"
level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for certd.service: \([0-9.]*\).*/\1/p')
[ -n "$level" ] || fail "no exposure level in: $out"
echo "exposure $level"
awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' || fail "exposure $level > 2.0"

say "service: still able to do its job under the sandbox"
# ProtectSystem=strict is fine only with these writable paths.
assert_eq "$(line ProtectSystem)" "ProtectSystem=strict"
assert_contains "$(line ReadWritePaths)" "/etc/ssl/certs"
assert_contains "$(line ReadWritePaths)" "/etc/ssl/private"
# The system bus (unit = dependents) is AF_UNIX; verify = needs AF_INET.
af=$(line RestrictAddressFamilies)
for f in AF_UNIX AF_INET AF_INET6; do assert_contains "$af" "$f"; done
assert_not_contains "$(line PrivateNetwork)" "yes"
# key.pem is chowned to the key group.
assert_contains "$(line CapabilityBoundingSet)" "CAP_CHOWN"
assert_eq "$(line LimitCORE)" "LimitCORE=0"

say "socket: /run/certd/control.sock, 0666"
assert_eq "$(grep -E '^ListenStream=' "$SOCK")" "ListenStream=/run/certd/control.sock"
assert_eq "$(grep -E '^SocketMode=' "$SOCK")" "SocketMode=0666"
# verify wants ExecStart= to exist: the same units, with the built certd
# in place of the installed one, must pass without a word.
mkdir "$T/units"
sed "s|^ExecStart=[^ ]*/certd |ExecStart=$CERTD |" "$SVC" > "$T/units/certd.service"
grep -q "^ExecStart=$CERTD -f " "$T/units/certd.service" || fail "no ExecStart= to point at $CERTD"
cp "$SOCK" "$T/units/certd.socket"
out=$(systemd-analyze verify "$T/units/certd.socket" "$T/units/certd.service" 2>&1) ||
	fail "systemd-analyze verify exited $?: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"

say "sysusers: the certd-admin group"
out=$(systemd-sysusers --dry-run "$top_srcdir/systemd/certd.sysusers" 2>&1) ||
	fail "systemd-sysusers: $out"
grep -q '^g certd-admin ' "$top_srcdir/systemd/certd.sysusers" ||
	fail "no certd-admin group"

say "tmpfiles: state and runtime directories"
mkdir "$T/root"
systemd-tmpfiles --root="$T/root" --create "$top_srcdir/systemd/certd.tmpfiles" ||
	fail "systemd-tmpfiles"
# 0755: services reading the published trust stores traverse it; the DB
# (0600) and the key files (0640 root:ssl-cert) protect themselves.
assert_eq "$(stat -c %a "$T/root/var/lib/certd")" "755" "state dir mode"
assert_eq "$(stat -c %a "$T/root/run/certd")" "755" "runtime dir mode"
echo "ok"

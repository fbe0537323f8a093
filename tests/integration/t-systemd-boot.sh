#!/bin/sh
# t-systemd-boot.sh: certd as installed, under a real systemd (PID 1 of its
# own namespaces on a throwaway overlay of /, see sysboot.sh).  Proves: the
# sysusers and tmpfiles snippets work; the first certctl call starts
# certd.service through certd.socket, which reaches active as Type=notify
# with a STATUS= line; the hardened unit commits an upload into its state dir
# and publishes links under /etc/ssl; a `unit = apache2.service` dependent
# reloads a real apache2.service through systemd, which then serves the new
# leaf; a unit whose reload job fails rolls the commit back (Apache serves
# the old leaf again); the journal finds the commits by CERTD_DOMAIN,
# CERTD_GENERATION and CERTD_CODE; under WatchdogSec=3s certd keeps running
# with no restart, and a frozen certd is killed by the watchdog and
# restarted; `systemctl stop` ends it cleanly and leaves the socket to
# certd.socket, which starts it again; with the shipped certd.conf (no
# settings) certd starts and finds the same state.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/sysboot.sh"
need openssl unshare nsenter
[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, mounts)"
[ -x "$CERTD" ] && [ -x "$CERTCTL" ] || skip "certd not built"
[ -x /lib/systemd/systemd ] || skip "systemd is not installed"
[ -x /usr/sbin/apache2 ] || skip "apache2 not installed (tests/setup-debian)"

D=sysboot.example
S=$SYSBOOT_STAGE
STATE=/var/lib/certd
fp() { openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//'; }

# inside: CMD in the booted system.  prop UNIT PROPERTY: its value there.
inside() { sysboot_sh "$@"; }
prop() { sysboot_sh systemctl show -P "$2" "$1"; }
journal() { sysboot_sh journalctl --no-pager -o cat "$@"; }
# step DEPENDENT STEP ok|failed TEXT: certctl's step line in $out says so.
step() {
	echo "$out" | grep -E "^ +$1 +$2 +$3 .*$4" >/dev/null ||
		fail "no '$1 $2 $3 ... $4' step in: $out"
}

say "install certd into the booted system's root"
mk=$top_builddir/Makefile
if grep -qx 'prefix = /usr' "$mk" && grep -qx 'sysconfdir = /etc' "$mk"; then
	# The build is configured for a system install: the real thing.
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" \
	    install DESTDIR="$S" > "$T/install.log" 2>&1 ||
		fail "make install: $(cat "$T/install.log")"
else
	# Another prefix (CI's /usr/local): what make install would put there
	# with --prefix=/usr --sysconfdir=/etc, by hand.
	install -D -m 755 "$CERTD" "$S/usr/sbin/certd" &&
	install -D -m 755 "$CERTCTL" "$S/usr/bin/certctl" &&
	mkdir -p "$S/usr/lib/systemd/system" &&
	sed -e 's|@sbindir[@]|/usr/sbin|g' -e 's|@sysconfdir[@]|/etc|g' \
	    "$top_srcdir/systemd/certd.service.in" > "$S/usr/lib/systemd/system/certd.service" &&
	install -m 644 "$top_srcdir/systemd/certd.socket" "$S/usr/lib/systemd/system/" &&
	install -D -m 644 "$top_srcdir/systemd/certd.sysusers" "$S/usr/lib/sysusers.d/certd.conf" &&
	install -D -m 644 "$top_srcdir/systemd/certd.tmpfiles" "$S/usr/lib/tmpfiles.d/certd.conf" ||
		fail "cannot install certd into $S"
fi
for f in usr/sbin/certd usr/bin/certctl usr/lib/systemd/system/certd.service \
    usr/lib/systemd/system/certd.socket usr/lib/sysusers.d/certd.conf \
    usr/lib/tmpfiles.d/certd.conf; do
	[ -f "$S/$f" ] || fail "/$f was not installed"
done

# The site's configuration: the state where the unit's StateDirectory= puts
# it, and the domain published at fixed paths a stock vhost names.
mkdir -p "$S/etc/certd"
CONF="[certd]
state_dir = $STATE

[domain $D]
publish_cert = /etc/ssl/certs/sysboot-test.crt
publish_chain = /etc/ssl/certs/sysboot-test-chain.crt
publish_key = /etc/ssl/private/sysboot-test.key
"
printf '%s' "$CONF" > "$S/etc/certd/certd.conf"
# A 3 s watchdog for the whole run: certd must keep pinging through
# commits, Apache reloads and rollbacks.
mkdir -p "$S/etc/systemd/system/certd.service.d"
printf '[Service]\nWatchdogSec=3s\n' > "$S/etc/systemd/system/certd.service.d/watchdog.conf"
# A sanitizer build (CI runs every test again with one): LeakSanitizer
# stops the world with ptrace, which the unit's SystemCallFilter=~@debug
# denies, so its check at exit would fail the clean stop.  Leaks are
# checked by the tests that run certd outside the sandbox; ASan and UBSan
# reports still end up in the journal, copied to $T/certd.log for lib.sh.
if grep -q '^SAN_CFLAGS = .*-fsanitize' "$mk" || ldd "$CERTD" 2>/dev/null | grep -q libasan; then
	printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1\n' \
	    > "$S/etc/systemd/system/certd.service.d/sanitizers.conf"
fi
# A service whose reload job always fails.
cat > "$S/etc/systemd/system/sysboot-reloadfail.service" <<'EOF'
[Unit]
Description=a service whose reload always fails (t-systemd-boot)
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecReload=/bin/false
EOF
# A stock Apache vhost on the published paths (the private net namespace
# has 127.0.0.1:443 free).
mkdir -p "$S/etc/apache2/sites-available"
cat > "$S/etc/apache2/sites-available/sysboot-test.conf" <<EOF
ServerName sysboot
<VirtualHost 127.0.0.1:443>
	ServerName $D
	SSLEngine on
	SSLCertificateFile /etc/ssl/certs/sysboot-test.crt
	SSLCertificateChainFile /etc/ssl/certs/sysboot-test-chain.crt
	SSLCertificateKeyFile /etc/ssl/private/sysboot-test.key
</VirtualHost>
EOF

pki chain "$T/pki" --domain $D --inter 1 --key ec >/dev/null || fail "testpki chain"
pki_leaf "$T/pki" "$T/pki/b" $D
pki_leaf "$T/pki" "$T/pki/c" $D
pki_leaf "$T/pki" "$T/pki/d" $D

say "boot systemd as PID 1 of its own namespaces"
t0=$(date +%s)
sysboot_start
echo "booted in $(($(date +%s) - t0)) s: $(inside systemctl is-system-running)"
# certd's own log, for lib.sh's sanitizer check and a failed test's log.
on_exit 'sysboot_sh journalctl --no-pager -o cat -u certd.service > "$T/certd.log" 2>&1'
mkdir -p "$SYSBOOT_ROOT/tmp/pki"
cp "$T"/pki/*.pem "$T"/pki/*.key "$SYSBOOT_ROOT/tmp/pki/" || fail "copy the PKI in"
assert_eq "$(inside hostname)" "sysboot" "hostname inside"
[ "$(hostname)" != sysboot ] || fail "the booted system renamed the host"
assert_contains "$(inside ip -o link show lo)" "UP" "loopback inside"

say "sysusers and tmpfiles snippets"
run 0 inside systemd-sysusers /usr/lib/sysusers.d/certd.conf
run 0 inside getent group certd-admin
run 0 inside systemd-tmpfiles --create /usr/lib/tmpfiles.d/certd.conf
assert_eq "$(inside stat -c '%a %U' $STATE /run/certd)" "755 root
755 root" "state and runtime dirs"

say "socket activation: the first certctl call starts certd.service"
# README: enabling the service enables its socket too (Also=).
run 0 inside systemctl enable certd.service
assert_eq "$(inside systemctl is-enabled certd.service certd.socket)" "enabled
enabled" "is-enabled certd.service certd.socket"
run 0 inside systemctl start certd.socket
assert_eq "$(prop certd.socket ActiveState)" "active" "certd.socket"
assert_eq "$(prop certd.service ActiveState)" "inactive" "certd.service before any call"
inside test -S /run/certd/control.sock || fail "no /run/certd/control.sock"
run 0 inside certctl status
started=$(date +%s)
assert_contains "$out" "No domains yet"
assert_eq "$(prop certd.service ActiveState)/$(prop certd.service SubState)" \
    "active/running" "certd.service after the first call"
assert_eq "$(prop certd.service Type)" "notify" "Type"
assert_eq "$(prop certd.service WatchdogUSec)" "3s" "WatchdogUSec"
st=$(prop certd.service StatusText)
assert_contains "$st" "0 domains" "StatusText"
pid=$(prop certd.service MainPID)
[ "$pid" -gt 1 ] || fail "MainPID is '$pid'"
journal -u certd.socket -u certd.service > "$T/journal.start"
assert_contains "$(cat "$T/journal.start")" "Started" "journal of the start"

say "the CloudStack sequence commits: state dir and publish links written in the sandbox"
run 0 inside certctl upload $D --name root --seq 1 /tmp/pki/root.pem
assert_contains "$out" "staged root (seq 1"
run 0 inside certctl upload $D --name intermediate --seq 2 /tmp/pki/inter1.pem
run 0 inside certctl upload $D --name server --server /tmp/pki/server.pem --key /tmp/pki/server.key
assert_contains "$out" "committed server (seq 3) for $D as generation 1"
cur=$SYSBOOT_ROOT$STATE/domains/$D/current
assert_eq "$(readlink "$cur")" "gen-1" "current"
for f in cert.pem key.pem chain.pem fullchain.pem root.pem bundle.pem \
    truststore.jks truststore.p12 keystore.p12 apache-ssl.conf manifest.json; do
	[ -s "$cur/$f" ] || fail "current/$f missing or empty"
done
leaf1=$(fp < "$T/pki/server.pem")
assert_eq "$(fp < "$cur/cert.pem")" "$leaf1" "current/cert.pem"
assert_eq "$(inside stat -c '%U:%G %a' $STATE/domains/$D/current/key.pem)" \
    "root:ssl-cert 640" "key.pem owner and mode"
assert_eq "$(readlink "$SYSBOOT_ROOT/etc/ssl/certs/sysboot-test.crt")" \
    "$STATE/domains/$D/current/cert.pem" "publish_cert link"
assert_eq "$(readlink "$SYSBOOT_ROOT/etc/ssl/private/sysboot-test.key")" \
    "$STATE/domains/$D/current/key.pem" "publish_key link"
# Read through the links inside (they are absolute paths of that root).
assert_eq "$(inside cat /etc/ssl/certs/sysboot-test.crt | fp)" "$leaf1" "published cert"
assert_contains "$(prop certd.service StatusText)" "1 domain, next expiry $D in " "StatusText"
# Nothing was written outside the booted system.
[ ! -e /etc/ssl/certs/sysboot-test.crt ] || fail "the host's /etc/ssl was written"

say "journalctl CERTD_DOMAIN= finds the commit"
out=$(journal CERTD_DOMAIN=$D CERTD_GENERATION=1)
assert_contains "$out" "$D: generation 1 is current" "journal CERTD_DOMAIN=$D CERTD_GENERATION=1"
assert_contains "$(journal -u certd.service CERTD_DOMAIN=$D)" "generation 1" "journal of $D"
out=$(sysboot_sh journalctl --no-pager -o verbose CERTD_DOMAIN=$D)
assert_contains "$out" "_SYSTEMD_UNIT=certd.service" "journal fields"
assert_contains "$out" "SYSLOG_IDENTIFIER=certd" "journal fields"

say "apache2.service serves the published files"
run 0 inside a2enmod -q ssl
run 0 inside a2ensite -q sysboot-test
run 0 inside systemctl start apache2.service
served() { sysboot_sh openssl s_client -connect 127.0.0.1:443 -servername $D </dev/null 2>/dev/null | fp; }
is_served() { [ "$(served)" = "$1" ]; }
wait_for 10 is_served "$leaf1" || fail "apache2 serves '$(served)', not $leaf1"

# reconfigure TEXT: certd.conf becomes the site's config plus TEXT, and
# `systemctl reload certd` (SIGHUP) makes certd read it.
reconfigure() {
	printf '%s\n%s\n' "$CONF" "$1" > "$SYSBOOT_ROOT/etc/certd/certd.conf"
	_nr=$(journal -u certd.service | grep -c 'configuration reloaded')
	run 0 inside systemctl reload certd.service
	# ExecReload= is a kill -HUP: wait until certd says it has read the file.
	_reloaded() { [ "$(journal -u certd.service | grep -c 'configuration reloaded')" -gt "$_nr" ]; }
	wait_for 10 _reloaded || fail "certd did not reload its configuration"
}

say "[dependent apache] unit = apache2.service: reloaded through systemd, verified"
reconfigure "[dependent apache]
unit = apache2.service
action = reload
verify = 127.0.0.1:443
verify_name = $D"
nreload=$(journal -u apache2.service | grep -c '^Reloaded')
run 0 inside certctl upload $D --server /tmp/pki/b.pem --key /tmp/pki/b.key
echo "$out"
assert_contains "$out" "for $D as generation 2"
step apache reload ok "apache2.service: job done in "
step apache verify ok "the new leaf is served"
assert_contains "$out" "reload ok: generation 2 is current and served"
leaf2=$(fp < "$T/pki/b.pem")
assert_eq "$(journal -u apache2.service | grep -c '^Reloaded')" "$((nreload + 1))" \
    "apache2.service reloads by systemd"
wait_for 10 is_served "$leaf2" || fail "apache2 serves '$(served)', not $leaf2"
assert_eq "$(prop apache2.service ActiveState)" "active" "apache2.service"

say "[dependent apache] exec = apachectl: run inside certd's sandbox, it signals apache2.service"
# What the unit's comment promises: an exec dependent under the sandbox
# (no CAP_KILL, read-only /usr and /etc) can test the config and make the
# root Apache that systemd runs restart gracefully.
reconfigure "[dependent apache]
exec = /usr/sbin/apachectl -k graceful
configtest = /usr/sbin/apachectl -t
verify = 127.0.0.1:443
verify_name = $D"
apid=$(prop apache2.service MainPID)
run 0 inside certctl upload $D --server /tmp/pki/c.pem --key /tmp/pki/c.key
echo "$out"
assert_contains "$out" "for $D as generation 3"
step apache configtest ok "exit 0"
step apache reload ok "exit 0"
step apache verify ok "the new leaf is served"
leaf3=$(fp < "$T/pki/c.pem")
wait_for 10 is_served "$leaf3" || fail "apache2 serves '$(served)', not $leaf3"
assert_eq "$(prop apache2.service MainPID)" "$apid" "apache2's MainPID after a graceful restart"

say "a unit whose reload job fails: the result is checked, the commit rolled back"
run 0 inside systemctl start sysboot-reloadfail.service
reconfigure "[dependent apache]
unit = apache2.service
action = reload
verify = 127.0.0.1:443
verify_name = $D

[dependent flaky]
unit = sysboot-reloadfail.service
action = reload"
nreload=$(journal -u apache2.service | grep -c '^Reloaded')
run 1 inside certctl upload $D --server /tmp/pki/d.pem --key /tmp/pki/d.key
echo "$out"
step apache reload ok "apache2.service: job done in "
step apache verify ok "the new leaf is served"
step flaky reload FAILED 'sysboot-reloadfail.service: job finished with result "failed"'
assert_contains "$out" "rolled back to generation 3: reload flaky: "
assert_eq "$(readlink "$cur")" "gen-3" "current after the rollback"
# The rollback reloaded Apache again: the old leaf is served, not d.pem.
assert_eq "$(journal -u apache2.service | grep -c '^Reloaded')" "$((nreload + 2))" \
    "apache2.service reloads (commit and rollback)"
wait_for 10 is_served "$leaf3" || fail "apache2 serves '$(served)' after the rollback, not $leaf3"
assert_contains "$(journal -u sysboot-reloadfail.service)" "Reload failed" "journal of the failing unit"
assert_contains "$(journal CERTD_DOMAIN=$D CERTD_CODE=reload-failed CERTD_GENERATION=4)" \
    "dependent flaky: reload FAILED" "journal CERTD_CODE=reload-failed"
assert_contains "$(journal CERTD_DOMAIN=$D CERTD_CODE=rolled-back)" \
    "rolled back to generation 3" "journal CERTD_CODE=rolled-back"
reconfigure ""

say "the watchdog: no timeout while certd runs, a frozen certd is killed and restarted"
# Three periods of 3 s since certd started at least.
up=$(($(date +%s) - started))
[ "$up" -ge 10 ] || sleep $((10 - up))
assert_eq "$(prop certd.service NRestarts)" "0" "NRestarts"
assert_eq "$(prop certd.service MainPID)" "$pid" "MainPID"
assert_not_contains "$(journal -u certd.service)" "Watchdog timeout" "journal of certd"
inside kill -STOP "$pid"
restarted() { [ "$(prop certd.service NRestarts)" = 1 ] && [ "$(prop certd.service ActiveState)" = active ]; }
wait_for 15 restarted || fail "a frozen certd was not restarted: $(journal -u certd.service | tail -n 5)"
out=$(journal -u certd.service)
assert_contains "$out" "Watchdog timeout (limit 3s)" "journal of certd"
assert_contains "$out" "status=6/ABRT" "journal of certd"
pid2=$(prop certd.service MainPID)
[ "$pid2" != "$pid" ] || fail "MainPID still $pid"
run 0 inside certctl status
assert_contains "$out" "$D "
# The last push was rolled back: the domain still says so after a restart
# (the outcome is kept in the DB, not in certd's memory).
assert_eq "$(echo "$out" | awk -v d=$D '$1 == d { print $2, $3 }')" "3 failed" "status after the restart"
assert_contains "$out" "$D: last reload rolled-back: reload flaky: "

say "systemctl stop is clean; the socket stays with certd.socket"
run 0 inside systemctl stop certd.service
assert_eq "$(prop certd.service ActiveState)" "inactive" "certd.service after stop"
assert_eq "$(prop certd.service Result)" "success" "Result"
assert_eq "$(prop certd.service ExecMainCode)/$(prop certd.service ExecMainStatus)" "1/0" \
    "ExecMainCode/ExecMainStatus (exited, 0)"
assert_contains "$(journal -u certd.service)" "Deactivated successfully" "journal of certd"
assert_eq "$(prop certd.socket ActiveState)/$(prop certd.socket SubState)" "active/listening" \
    "certd.socket after the stop"
inside test -S /run/certd/control.sock || fail "the stop removed /run/certd/control.sock"
run 0 inside certctl status
assert_contains "$out" "$D "
assert_eq "$(prop certd.service ActiveState)" "active" "certd.service started again by the socket"
run 0 inside systemctl stop certd.service certd.socket
assert_eq "$(prop certd.service Result)" "success" "Result of the second stop"
inside test ! -e /run/certd/control.sock || fail "certd.socket left its socket file (RemoveOnStop=yes)"

say "the shipped certd.conf: certd starts on its built-in defaults"
# make install's certd.conf sets nothing.  The built-in state_dir must be
# where the unit's StateDirectory= puts it (/var/lib/certd, as README and
# etc/certd.conf say): ProtectSystem=strict lets certd write nowhere else.
cp "$top_srcdir/etc/certd.conf" "$SYSBOOT_ROOT/etc/certd/certd.conf"
run 0 inside certd -t -f /etc/certd/certd.conf
assert_contains "$out" "state_dir = $STATE" "certd -t with the shipped certd.conf"
run 0 inside systemctl start certd.service
assert_eq "$(prop certd.service ActiveState)" "active" "certd.service on the shipped config"
run 0 inside certctl status --all
assert_eq "$(echo "$out" | awk -v d=$D '$1 == d { print $2, $3 }')" "3 failed" "status on the shipped config"
run 0 inside systemctl stop certd.service certd.socket
assert_eq "$(prop certd.service Result)" "success" "Result of the last stop"
echo ok

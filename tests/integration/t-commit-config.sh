#!/bin/sh
# t-commit-config: the config values that shape the files (trust store and
# keystore passwords, key_group) are applied by `certctl render D` and by a
# restart, as keytool sees it; and once keys were sealed with the certd.key
# credential, certd without it refuses to store a key unsealed.
. "$top_srcdir/tests/integration/lib.sh"
need keytool openssl sqlite3 python3
need_built "$CERTD" "$CERTCTL" "$TESTPKI"
D=config.test
G=$CERTD_STATE/domains/$D/current
KT="keytool -J-Duser.language=en"
pki chain "$T/pki" --domain $D --inter 1 --key ec >/dev/null || fail "testpki"

# jks_opens PASSWORD: keytool opens current/truststore.jks with it.
jks_opens() { $KT -list -keystore "$G/truststore.jks" -storetype JKS -storepass "$1" >"$T/kt" 2>&1; }
# p12_opens FILE PASSWORD: openssl opens current/FILE (MAC checked) with it.
p12_opens() { openssl pkcs12 -in "$G/$1" -passin "pass:$2" -nokeys -noout 2>/dev/null; }
config() {
	{
		echo "[certd]"
		echo "state_dir = $CERTD_STATE"
		echo "socket = $CERTD_SOCK"
		for kv in "$@"; do echo "$kv"; done
	} > "$T/certd.conf"
}

say "first commit with truststore_password = first-pass"
start_certd "truststore_password = first-pass"
run 0 ctl upload $D --bundle "$T/pki/bundle.pem" --key "$T/pki/server.key"
jks_opens first-pass || fail "keytool with first-pass: $(cat "$T/kt")"
p12_opens truststore.p12 first-pass || fail "truststore.p12 with first-pass"
p12_opens keystore.p12 first-pass || fail "keystore.p12 with first-pass"
gen=$(readlink "$G")

say "a new password, SIGHUP, certctl render: the stores are written again"
config "truststore_password = second pass" "keystore_password = key-pass" "key_group = daemon"
kill -HUP "$CERTD_PID"
wait_for 10 grep -q "configuration reloaded" "$T/certd.log" || fail "SIGHUP not applied"
run 0 ctl render $D
jks_opens "second pass" || fail "keytool after render: $(cat "$T/kt")"
! jks_opens first-pass || fail "the JKS still opens with the old password"
assert_contains "$(cat "$T/kt")" "password was incorrect" "keytool with the old password"
p12_opens truststore.p12 "second pass" || fail "truststore.p12 after render"
p12_opens keystore.p12 key-pass || fail "keystore.p12 after render (keystore_password)"
! p12_opens keystore.p12 "second pass" || fail "keystore.p12 ignores keystore_password"
assert_eq "$(stat -c %G "$G/key.pem")" daemon "key.pem's group after key_group = daemon"
assert_eq "$(stat -c %a "$G/key.pem")" 640 "key.pem's mode with a key_group"
assert_eq "$(readlink "$G")" "$gen" "render keeps the generation"
python3 "$top_srcdir/tests/crash/rehash.py" "$CERTD_STATE/domains/$D" >/dev/null ||
    fail "current does not match its manifest after render"

say "another password, restart: the start-up check renders again"
stop_certd
config "truststore_password = third-pass" "truststore_include_system = yes"
"$CERTD" -d -f "$T/certd.conf" >>"$T/certd.log" 2>&1 &
CERTD_PID=$!
wait_for 10 api GET /v1/status || fail "certd does not answer after the restart"
wait_for 10 grep -q "$D: current files rendered under another configuration" "$T/certd.log" ||
    fail "start-up did not notice the changed config: $(tail -5 "$T/certd.log")"
jks_opens third-pass || fail "keytool after restart: $(cat "$T/kt")"
# truststore_include_system: the system CAs are in, with certd's 2.
n=$(grep -c trustedCertEntry "$T/kt")
[ "$n" -gt 50 ] || fail "truststore_include_system: only $n entries"
# The default key_group is ssl-cert, where that group exists.
if getent group ssl-cert >/dev/null; then want="ssl-cert 640"; else want="root 600"; fi
assert_eq "$(stat -c '%G %a' "$G/key.pem")" "$want" "key.pem without key_group"
stop_certd

say "keys sealed with the certd.key credential"
rm -rf "$CERTD_STATE"
mkdir -m 700 "$T/cred"
head -c 32 /dev/urandom > "$T/cred/certd.key"
config
CREDENTIALS_DIRECTORY=$T/cred "$CERTD" -d -f "$T/certd.conf" >>"$T/certd.log" 2>&1 &
CERTD_PID=$!
wait_for 10 api GET /v1/status || fail "certd (with its credential) does not answer"
grep -q "private keys are stored sealed" "$T/certd.log" || fail "no word of sealing"
run 0 ctl upload $D --bundle "$T/pki/bundle.pem" --key "$T/pki/server.key"
row=$(sqlite3 "$CERTD_STATE/certd.db" "SELECT key FROM keystore WHERE key IS NOT NULL") ||
    fail "sqlite3 cannot read the keystore"
[ -n "$row" ] || fail "no key row"
assert_not_contains "$row" "PRIVATE KEY" "the stored key"
cmp -s "$G/key.pem" "$T/pki/server.key" || openssl pkey -in "$G/key.pem" -noout ||
    fail "the rendered key.pem is not a key"
stop_certd

say "the same store without the credential: told at start, keys refused"
: > "$T/certd.log.2"
"$CERTD" -d -f "$T/certd.conf" >"$T/certd.log.2" 2>&1 &
CERTD_PID=$!
wait_for 10 api GET /v1/status || fail "certd (without its credential) does not answer"
grep -q "sealed with the certd.key credential, but certd was started without it" "$T/certd.log.2" ||
    fail "start-up does not say why keys will be refused: $(cat "$T/certd.log.2")"
ks_dump "$T/before"
pki_leaf "$T/pki" "$T/leaf2" $D
# Exit 4: the daemon cannot take it (not the request's fault).
run 4 ctl upload $D --server "$T/leaf2.pem" --key "$T/leaf2.key"
assert_contains "$err" "E_CREDENTIAL" "certctl without the credential"
assert_contains "$err" "certd.key" "the message names the credential"
ks_unchanged "$T/before" "a refused unsealed key"
run 0 ctl status
cat "$T/certd.log.2" >> "$T/certd.log"
stop_certd
echo "passwords and key_group applied by render and restart; unsealed keys refused"

#!/bin/sh
# t-dependents-env: a dependent gets a minimal environment (PATH, LANG,
# CERTD_DOMAIN, CERTD_GENERATION, CERTD_DIR) and none of certd's own
# (its credentials directory, NOTIFY_SOCKET, anything else); a key the
# command prints is removed from its output before the journal, the
# events table and the world-readable status see it, even one that the
# one-line summary would cut in half.
. "$top_srcdir/tests/integration/lib.sh"
need sqlite3 curl
need_built "$CERTD" "$CERTCTL"
D=env.test
pki chain "$T/pki" --domain $D --inter 1 --key ec >/dev/null || fail "testpki"
mkdir -m 700 "$T/cred"
head -c 32 /dev/urandom > "$T/cred/certd.key"
cat > "$T/hook.sh" <<'HOOK'
tr '\0' '\n' < /proc/$$/environ > "$1/env.out"
echo "reloading $CERTD_DOMAIN"
cat "$CERTD_DIR/key.pem"
echo "between"
head -c 700 /dev/zero | tr '\0' x
echo
# A second key, across the 1,000-byte cut of the one-line summary.
cat "$CERTD_DIR/key.pem"
HOOK
{
	echo "[certd]"
	echo "state_dir = $CERTD_STATE"
	echo "socket = $CERTD_SOCK"
	echo "[dependent hook]"
	echo "exec = /bin/sh $T/hook.sh $T"
} > "$T/certd.conf"
CREDENTIALS_DIRECTORY=$T/cred NOTIFY_SOCKET=$T/no-such-socket \
    CERTD_TEST_SECRET=hunter2 LANG=C.UTF-8 \
    "$CERTD" -d -f "$T/certd.conf" >>"$T/certd.log" 2>&1 &
CERTD_PID=$!
on_exit stop_certd
wait_for 10 api GET /v1/status || fail "certd does not answer"

run 0 ctl upload $D --bundle "$T/pki/bundle.pem" --key "$T/pki/server.key"

say "the environment: exactly the five variables"
sort "$T/env.out" > "$T/env.sorted"
printf '%s\n' "CERTD_DIR=$CERTD_STATE/domains/$D/gen-1" "CERTD_DOMAIN=$D" \
    "CERTD_GENERATION=1" "LANG=C.UTF-8" "PATH=/usr/sbin:/usr/bin:/sbin:/bin" \
    > "$T/env.want"
diff -u "$T/env.want" "$T/env.sorted" || fail "the hook's environment differs"
[ -f "$CERTD_STATE/domains/$D/gen-1/cert.pem" ] || fail "CERTD_DIR holds no cert.pem"

say "no key in the output, wherever it went"
status=$(api GET /v1/status) || fail "status"
msg=$(json_get 'j["dependents"][0]["last"]["message"]' <<EOF2
$status
EOF2
)
assert_contains "$msg" "reloading $D"
assert_contains "$msg" "[private key removed] between"
assert_contains "$msg" "x [private key removed]"
assert_not_contains "$msg" "PRIVATE KEY-----"
events=$(sqlite3 "$CERTD_STATE/certd.db" "SELECT message FROM events") || fail "sqlite3"
for line in $(grep -v -- '-----' "$CERTD_STATE/domains/$D/current/key.pem" | cut -c1-20); do
	for where in "$status" "$events" "$(cat "$T/certd.log")"; do
		assert_not_contains "$where" "$line" "a key line"
	done
done
assert_contains "$events" "[private key removed]"
echo "environment minimal; key blocks removed from output (whole and cut)"

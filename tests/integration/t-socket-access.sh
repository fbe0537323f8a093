#!/bin/sh
# Peer credentials decide access: an unprivileged uid (setpriv nobody) may
# GET /v1/status and /metrics but gets 403 E_FORBIDDEN on anything that
# reads chains or changes things; after admin_group = its group (applied by
# SIGHUP) it may.  socket_mode = 0660 hides even status from it.
. "$top_srcdir/tests/integration/lib.sh"
need curl python3 setpriv
[ "$(id -u)" = 0 ] || skip "needs root for setpriv"
getent passwd nobody >/dev/null || skip "no user nobody"
NOGROUP=$(getent group nogroup >/dev/null && echo nogroup || echo nobody)

start_certd "admin_group = certd-nonexistent-group"
# Every directory on the way to the socket must be traversable.
chmod 755 "$T"

as_nobody() {
	_m=$1 _p=$2; shift 2
	# nobody cannot write in $T: the body comes back on stdout.
	setpriv --reuid nobody --regid "$NOGROUP" --clear-groups \
	    curl -s -w '\n%{http_code}' --max-time 10 \
	    --unix-socket "$CERTD_SOCK" -X "$_m" "$@" "http://certd$_p" \
	    > "$T/nb.raw" || return 1
	sed '$d' "$T/nb.raw" > "$T/nb.body"
	tail -n 1 "$T/nb.raw"
}

say "nobody may read status and metrics"
assert_eq "$(as_nobody GET /v1/status)" 200 "GET /v1/status as nobody"
assert_contains "$(cat "$T/nb.body")" '"domains"'
assert_eq "$(as_nobody GET /metrics)" 200 "GET /metrics as nobody"
assert_contains "$(cat "$T/nb.body")" 'certd_build_info{version='

say "nobody may not upload, show, discard, roll back, render or reload"
code=$(as_nobody POST /v1/certificates --data-urlencode domainsuffix=example.com \
    --data-urlencode name=root --data-urlencode id=1 --data-urlencode certificate=x)
assert_eq "$code" 403 "upload as nobody"
assert_eq "$(json_get 'j["error"]["code"]' < "$T/nb.body")" E_FORBIDDEN
for req in "GET /v1/domains/example.com" "DELETE /v1/domains/example.com/staged" \
    "POST /v1/domains/example.com/rollback" "POST /v1/domains/example.com/render" \
    "POST /v1/domains/example.com/bundle" "POST /v1/reload"; do
	set -- $req
	assert_eq "$(as_nobody "$1" "$2")" 403 "$req as nobody"
	assert_eq "$(json_get 'j["error"]["code"]' < "$T/nb.body")" E_FORBIDDEN "$req"
done
assert_eq "$(ks_dump | grep -c INSERT)" 0 "rows after refused uploads"

say "root may (the same upload reaches validation: 422, not 403)"
API_OK_CODES=422 api POST /v1/certificates --data-urlencode domainsuffix=example.com \
    --data-urlencode name=root --data-urlencode id=1 --data-urlencode certificate=x >/dev/null
assert_eq "$(cat "$T/api.code")" 422 "upload of garbage as root"
assert_eq "$(json_get 'j["error"]["code"]' < "$T/api.body")" E_ENCODING

say "admin_group = $NOGROUP (SIGHUP): nobody's group may now change things"
sed -i "s/^admin_group = .*/admin_group = $NOGROUP/" "$T/certd.conf"
kill -HUP "$CERTD_PID"
wait_for 5 sh -c "grep -q 'configuration reloaded' '$T/certd.log'" || fail "no reload logged"
code=$(as_nobody POST /v1/certificates --data-urlencode domainsuffix=example.com \
    --data-urlencode name=root --data-urlencode id=1 --data-urlencode certificate=x)
assert_eq "$code" 422 "upload as a member of admin_group"
assert_eq "$(json_get 'j["error"]["code"]' < "$T/nb.body")" E_ENCODING

say "socket_mode = 0660: others cannot even connect"
stop_certd
rm -f "$T/certd.log"
start_certd "socket_mode = 0660"
assert_eq "$(stat -c %a "$CERTD_SOCK")" 660 "socket mode"
code=$(as_nobody GET /v1/status) && fail "nobody connected to a 0660 socket (HTTP $code)"
api GET /v1/status >/dev/null || fail "root cannot read status"
echo "access by peer credentials: ok"

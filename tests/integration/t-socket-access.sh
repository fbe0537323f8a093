#!/bin/sh
# Peer credentials decide access: an unprivileged uid (setpriv nobody) may
# GET /v1/status and /metrics but gets 403 E_FORBIDDEN on anything that
# reads chains or changes things, and its refused requests change nothing;
# after admin_group = its group (applied by SIGHUP) it may.  Admin rights
# come from the peer process's own groups (SO_PEERCRED, SO_PEERGROUPS), not
# from /etc/group.  socket_mode = 0660 hides even status from it.
. "$top_srcdir/tests/integration/lib.sh"
need curl python3 setpriv sqlite3
[ "$(id -u)" = 0 ] || skip "needs root for setpriv"
getent passwd nobody >/dev/null || skip "no user nobody"
NOGROUP=$(getent group nogroup >/dev/null && echo nogroup || echo nobody)

D=example.com
pki chain "$T/p" --domain $D --inter 1 >/dev/null || fail "testpki chain"
# nobody must be able to read what it uploads.
chmod 755 "$T/p" && chmod 644 "$T/p/root.pem" "$T/p/inter1.pem"
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
# upload AS NAME SEQ FILE: a form upload to $D as root (api) or nobody;
# prints the HTTP code.
upload() {
	if [ "$1" = root ]; then
		form_upload $D "$2" "$3" "$4" > "$T/nb.body"
		cat "$T/api.code"
	else
		as_nobody POST /v1/certificates --data-urlencode domainsuffix=$D \
		    --data-urlencode "name=$2" --data-urlencode "id=$3" \
		    --data-urlencode "certificate@$4"
	fi
}
rows() { grep -c '^INSERT' "$1"; }

say "nobody may read status and metrics"
assert_eq "$(as_nobody GET /v1/status)" 200 "GET /v1/status as nobody"
assert_contains "$(cat "$T/nb.body")" '"domains"'
assert_eq "$(as_nobody GET /metrics)" 200 "GET /metrics as nobody"
assert_contains "$(cat "$T/nb.body")" 'certd_build_info{version='

say "nobody's upload of a valid root is refused and stores nothing"
ks_dump "$T/ks.empty"
assert_eq "$(rows "$T/ks.empty")" 0 "rows before any upload"
assert_eq "$(upload nobody root 1 "$T/p/root.pem")" 403 "upload as nobody"
assert_eq "$(json_get 'j["error"]["code"]' < "$T/nb.body")" E_FORBIDDEN
ks_unchanged "$T/ks.empty" "keystore tables after nobody's upload"

say "root's same upload is stored (so the refusal above meant something)"
assert_eq "$(upload root root 1 "$T/p/root.pem")" 200 "upload as root"
assert_eq "$(json_get 'j["kind"], j["staged"]' < "$T/nb.body")" "('root', 1)"
ks_dump "$T/ks.root"
[ "$(rows "$T/ks.root")" -ge 2 ] || fail "root's upload stored no rows: $(cat "$T/ks.root")"
# and garbage from root reaches validation: 422, not 403
expect_code 422 api POST /v1/certificates --data-urlencode domainsuffix=$D \
    --data-urlencode name=root --data-urlencode id=1 --data-urlencode certificate=x
assert_eq "$(api_error)" E_ENCODING "garbage as root"

say "nobody may not upload, show, discard, roll back, render or reload"
assert_eq "$(upload nobody intermediate 2 "$T/p/inter1.pem")" 403 "intermediate upload as nobody"
assert_eq "$(json_get 'j["error"]["code"]' < "$T/nb.body")" E_FORBIDDEN
for req in "GET /v1/domains/$D" "DELETE /v1/domains/$D/staged" \
    "POST /v1/domains/$D/rollback" "POST /v1/domains/$D/render" \
    "POST /v1/domains/$D/bundle" "POST /v1/reload"; do
	set -- $req
	assert_eq "$(as_nobody "$1" "$2")" 403 "$req as nobody"
	assert_eq "$(json_get 'j["error"]["code"]' < "$T/nb.body")" E_FORBIDDEN "$req"
done
ks_unchanged "$T/ks.root" "keystore tables after nobody's refused requests"

say "admin_group = $NOGROUP (SIGHUP): nobody's group may now change things"
sed -i "s/^admin_group = .*/admin_group = $NOGROUP/" "$T/certd.conf"
kill -HUP "$CERTD_PID"
wait_for 10 grep -q 'configuration reloaded' "$T/certd.log" || fail "no reload logged"
assert_eq "$(upload nobody intermediate 2 "$T/p/inter1.pem")" 200 "upload as a member of admin_group"
assert_eq "$(json_get 'j["kind"], j["staged"]' < "$T/nb.body")" "('intermediate', 2)"
assert_eq "$(as_nobody GET /v1/domains/$D)" 200 "GET /v1/domains/$D as a member of admin_group"

say "admin rights come from the peer process's groups, not /etc/group"
# certd runs in its own mount namespace with a group file of ours: group
# certd-test-admins (gid 4242) lists nobody as a member.  nobody with its
# groups cleared is no admin; daemon, not listed, given gid 4242 as a
# supplementary group, is.
stop_certd
command -v unshare >/dev/null || skip "unshare not installed (util-linux)"
{ cat /etc/group; echo "certd-test-admins:x:4242:nobody"; } > "$T/group"
sed -i "s/^admin_group = .*/admin_group = certd-test-admins/" "$T/certd.conf"
unshare -m sh -c 'mount --bind "$1" /etc/group && exec "$2" -d -f "$3"' sh \
    "$T/group" "$CERTD" "$T/certd.conf" >>"$T/certd.log" 2>&1 &
CERTD_PID=$!
wait_for 10 api GET /v1/status || fail "certd in its own mount namespace does not answer"
assert_eq "$(as_nobody GET /v1/domains/$D)" 403 "nobody (listed in the group file) with its groups cleared"
code=$(setpriv --reuid daemon --regid daemon --groups 4242 \
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    --unix-socket "$CERTD_SOCK" "http://certd/v1/domains/$D")
assert_eq "$code" 200 "daemon given the admin group as a supplementary group"
code=$(setpriv --reuid daemon --regid 4242 --clear-groups \
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    --unix-socket "$CERTD_SOCK" "http://certd/v1/domains/$D")
assert_eq "$code" 200 "daemon with the admin group as its primary group"

say "socket_mode = 0660: others cannot even connect"
stop_certd
start_certd "socket_mode = 0660"
assert_eq "$(stat -c %a "$CERTD_SOCK")" 660 "socket mode"
code=$(as_nobody GET /v1/status) && fail "nobody connected to a 0660 socket (HTTP $code)"
api GET /v1/status >/dev/null || fail "root cannot read status"
echo "access by peer credentials: ok"

#!/bin/sh
# Socket activation: under `systemd-socket-activate -l SOCK certd -d -f CONF`
# certd serves the socket it was given (and does not unlink or recreate it),
# and sends READY=1 and a STATUS= line to a NOTIFY_SOCKET this test owns.
. "$top_srcdir/tests/integration/lib.sh"
need curl python3 systemd-socket-activate
need_built "$CERTD"

SOCK=$T/activated.sock
NOTIFY=$T/notify.sock
cat > "$T/certd.conf" <<CONF
[certd]
state_dir = $T/state
; not used: systemd passes the socket
socket = $T/unused.sock
CONF

notify_listen "$NOTIFY" "$T/notify.log"

systemd-socket-activate -l "$SOCK" -E NOTIFY_SOCKET="$NOTIFY" \
    "$CERTD" -d -f "$T/certd.conf" >> "$T/certd.log" 2>&1 &
apid=$!
on_exit "kill -TERM $apid 2>/dev/null; wait $apid 2>/dev/null"
wait_for 5 test -S "$SOCK" || fail "systemd-socket-activate did not listen"

say "the first connection starts certd, which answers on the passed socket"
out=$(curl -s --max-time 15 --unix-socket "$SOCK" http://certd/v1/status) || fail "no answer on $SOCK"
assert_contains "$out" '"version"'
[ -e "$T/unused.sock" ] && fail "certd created its own socket despite activation"
assert_contains "$(cat "$T/certd.log")" "socket systemd passed"

say "READY=1 and STATUS= reached our NOTIFY_SOCKET"
wait_for 5 grep -q ' READY=1$' "$T/notify.log" || fail "no READY=1: $(cat "$T/notify.log")"
assert_contains "$(cat "$T/notify.log")" "STATUS=0 domains"

say "SIGTERM: STOPPING=1, exit 0, the passed socket is not unlinked"
kill -TERM $apid
wait $apid
assert_eq "$?" 0 "exit status"
wait_for 5 grep -q ' STOPPING=1$' "$T/notify.log" || fail "no STOPPING=1"
test -S "$SOCK" || fail "certd unlinked the socket systemd owns"
echo "socket activation: ok"

#!/bin/sh
# t-systemd-notify.sh: what certd tells systemd beyond READY=1 (covered by
# t-daemon-activation): with WATCHDOG_USEC set it pings WATCHDOG=1 at half
# the interval; on SIGHUP it sends RELOADING=1 with MONOTONIC_USEC (what
# Type=notify-reload needs) and READY=1 after; with WATCHDOG_PID naming
# another process it stays silent.
. "$top_srcdir/tests/integration/lib.sh"
need python3 curl
need_built "$CERTD"

NOTIFY=$T/notify.sock
notify_listen "$NOTIFY" "$T/notify.log"
cat > "$T/c.conf" <<EOC
[certd]
state_dir = $T/state
socket = $T/control.sock
EOC
out=$("$CERTD" -t -f "$T/c.conf" 2>&1) || fail "certd -t: $out"
count() { grep -c " $1\$" "$T/notify.log"; }
# stop: SIGTERM the certd of this part; it must exit 0.
cpid=""
stop() {
	kill -TERM "$cpid"
	wait "$cpid"
	rc=$?
	cpid=""
	assert_eq "$rc" 0 "certd's exit status on SIGTERM"
}
# Whichever certd runs when the test ends goes too.
on_exit '[ -z "$cpid" ] || { kill -TERM $cpid 2>/dev/null; wait $cpid 2>/dev/null; }'

say "WATCHDOG_USEC=400000: a ping every 200 ms"
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=400000 "$CERTD" -d -f "$T/c.conf" >> "$T/certd.log" 2>&1 &
cpid=$!
wait_for 10 grep -q ' READY=1$' "$T/notify.log" || fail "no READY=1: $(cat "$T/notify.log")"
# Eight pings, however long a busy machine takes to send them; then the
# intervals between them, by the clock of their arrival.  The median stands
# a stall or two; every-400-ms (the full interval) or a flood fail.
enough() { [ "$(count WATCHDOG=1)" -ge 8 ]; }
wait_for 30 enough || fail "fewer than 8 WATCHDOG=1: $(cat "$T/notify.log")"
med=$(sed -n 's/^\([0-9]*\) WATCHDOG=1$/\1/p' "$T/notify.log" | head -n 8 | python3 -c '
import sys
t = [int(x) for x in sys.stdin]
d = sorted(b - a for a, b in zip(t, t[1:]))
print(d[len(d) // 2] // 1000)')
echo "median interval between pings: $med ms"
[ "$med" -ge 150 ] && [ "$med" -le 300 ] || fail "expected a WATCHDOG=1 every 200 ms, the median is $med ms: $(cat "$T/notify.log")"

say "SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1"
nready=$(count READY=1)
before=$(python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6))')
kill -HUP $cpid
wait_for 10 grep -q ' RELOADING=1$' "$T/notify.log" || fail "no RELOADING=1"
wait_for 10 grep -q ' MONOTONIC_USEC=[0-9][0-9]*$' "$T/notify.log" || fail "no MONOTONIC_USEC"
ready_again() { [ "$(count READY=1)" -gt "$nready" ]; }
wait_for 10 ready_again || fail "no READY=1 after the reload"
# MONOTONIC_USEC is CLOCK_MONOTONIC when certd took the signal: after we
# sent it, before its datagram arrived.
line=$(grep ' MONOTONIC_USEC=' "$T/notify.log" | tail -n 1)
mono=${line##*=} arrived=${line%% *}
[ "$mono" -ge "$before" ] && [ "$mono" -le "$arrived" ] ||
	fail "MONOTONIC_USEC $mono is not between the SIGHUP ($before) and its arrival ($arrived)"
stop

say "WATCHDOG_PID of another process: no pings"
: > "$T/notify.log"
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=200000 WATCHDOG_PID=1 "$CERTD" -d -f "$T/c.conf" >> "$T/certd.log" 2>&1 &
cpid=$!
wait_for 10 grep -q ' READY=1$' "$T/notify.log" || fail "no READY=1"
t_ready=$(sed -n 's/^\([0-9]*\) READY=1$/\1/p' "$T/notify.log" | head -n 1)
# A ping would be due every 100 ms.  Wait until 5 of them were due, then make
# certd answer a request and reload: its loop has run past those times, and
# RELOADING=1 and READY=1 come through the socket after any ping it sent.
now_us() { python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6))'; }
due() { [ "$(now_us)" -ge $((t_ready + 500000)) ]; }
wait_for 10 due || fail "the clock did not move"
curl -s --max-time 30 --unix-socket "$T/control.sock" -o /dev/null http://certd/v1/status ||
	fail "certd does not answer"
kill -HUP $cpid
wait_for 10 sh -c "grep -q ' RELOADING=1\$' '$T/notify.log' && [ \$(grep -c ' READY=1\$' '$T/notify.log') -ge 2 ]" ||
	fail "no RELOADING=1 and READY=1 after SIGHUP: $(cat "$T/notify.log")"
assert_eq "$(count WATCHDOG=1)" 0 "pings meant for another pid"
stop
echo ok

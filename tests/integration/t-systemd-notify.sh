#!/bin/sh
# t-systemd-notify.sh: what certd tells systemd beyond READY=1 (covered by
# t-daemon-activation): with WATCHDOG_USEC set it pings WATCHDOG=1 at half
# the interval; on SIGHUP it sends RELOADING=1 with MONOTONIC_USEC (what
# Type=notify-reload needs) and READY=1 after; with WATCHDOG_PID naming
# another process it stays silent.
. "$top_srcdir/tests/integration/lib.sh"
need python3 curl
[ -x "$CERTD" ] || skip "certd not built"
"$CERTD" -t >/dev/null 2>&1 || skip "certd -t fails: the daemon is not built yet"

NOTIFY=$T/notify.sock
python3 - "$NOTIFY" > "$T/notify.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
t0 = time.monotonic()
while True:
    data = s.recv(4096).decode(errors="replace")
    for line in data.split("\n"):
        print("%d %s" % ((time.monotonic() - t0) * 1000, line), flush=True)
PY
npid=$!
on_exit "kill $npid 2>/dev/null"
wait_for 5 grep -q listening "$T/notify.log" || fail "notify listener did not start"
cat > "$T/c.conf" <<EOC
[certd]
state_dir = $T/state
socket = $T/control.sock
EOC

say "WATCHDOG_USEC=400000: a ping about every 200 ms"
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=400000 "$CERTD" -d -f "$T/c.conf" >> "$T/certd.log" 2>&1 &
cpid=$!
# Whichever certd runs when the test ends goes too.
on_exit '[ -n "$cpid" ] && kill -TERM $cpid 2>/dev/null && wait $cpid 2>/dev/null'
wait_for 10 grep -q ' READY=1$' "$T/notify.log" || fail "no READY=1: $(cat "$T/notify.log")"
n0=$(grep -c ' WATCHDOG=1$' "$T/notify.log")
[ "$n0" -ge 1 ] || wait_for 2 grep -q ' WATCHDOG=1$' "$T/notify.log" || fail "no WATCHDOG=1"
n0=$(grep -c ' WATCHDOG=1$' "$T/notify.log")
sleep 1
n=$(( $(grep -c ' WATCHDOG=1$' "$T/notify.log") - n0 ))
echo "$n pings in 1 s"
[ "$n" -ge 3 ] && [ "$n" -le 7 ] || fail "expected about 5 WATCHDOG=1 a second, got $n: $(cat "$T/notify.log")"

say "SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1"
: > "$T/mark"
nready=$(grep -c ' READY=1$' "$T/notify.log")
kill -HUP $cpid
wait_for 5 grep -q ' RELOADING=1$' "$T/notify.log" || fail "no RELOADING=1"
wait_for 5 grep -q ' MONOTONIC_USEC=[0-9][0-9]*$' "$T/notify.log" || fail "no MONOTONIC_USEC"
ready_again() { [ "$(grep -c ' READY=1$' "$T/notify.log")" -gt "$nready" ]; }
wait_for 5 ready_again || fail "no READY=1 after the reload"
# MONOTONIC_USEC is CLOCK_MONOTONIC now, within a second.
mono=$(sed -n 's/.* MONOTONIC_USEC=//p' "$T/notify.log" | tail -n 1)
now=$(python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6))')
[ $((now - mono)) -ge 0 ] && [ $((now - mono)) -lt 5000000 ] ||
	fail "MONOTONIC_USEC $mono is not near now ($now)"
kill -TERM $cpid; wait $cpid 2>/dev/null; cpid=

say "WATCHDOG_PID of another process: no pings"
: > "$T/notify.log"
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=200000 WATCHDOG_PID=1 "$CERTD" -d -f "$T/c.conf" >> "$T/certd.log" 2>&1 &
cpid=$!
wait_for 10 grep -q ' READY=1$' "$T/notify.log" || fail "no READY=1"
sleep 0.6
assert_eq "$(grep -c ' WATCHDOG=1$' "$T/notify.log")" 0 "pings meant for another pid"
echo ok

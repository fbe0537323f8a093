# run-mock.sh: sourced by the t-systemd-*.sh tests after lib.sh.  Starts a
# private bus (dbus-daemon --session on a socket in $T) with a mock
# org.freedesktop.systemd1 (systemd_jobs.py) on it, and points
# DBUS_SYSTEM_BUS_ADDRESS there, so certd's sd_bus_open_system() reaches the
# mock and never the host's systemd.  Calls land in $MOCK_CALLS; a file
# $MOCK_CTL/UNIT holding "done", "failed", "hang"... sets a unit's result.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
need dbus-daemon
"$PY" -c 'import dbusmock, gi' 2>/dev/null || skip "python3-dbusmock not installed"

MOCK_CALLS=$T/mock-calls
MOCK_CTL=$T/mock-ctl
mkdir -p "$MOCK_CTL"
: > "$MOCK_CALLS"
dbus-daemon --session --nofork --address="unix:path=$T/bus" \
	--print-address=1 >"$T/bus.addr" 2>"$T/bus.log" &
BUS_PID=$!
on_exit "kill $BUS_PID 2>/dev/null; wait $BUS_PID 2>/dev/null"
wait_for 10 test -S "$T/bus" || fail "dbus-daemon did not start: $(cat "$T/bus.log")"
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus
export DBUS_SYSTEM_BUS_ADDRESS

DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS "$PY" -m dbusmock --system \
	-t "$top_srcdir/tests/integration/dbusmock/systemd_jobs.py" \
	-p "{\"log\": \"$MOCK_CALLS\", \"control\": \"$MOCK_CTL\"}" \
	>"$T/mock.log" 2>&1 &
MOCK_PID=$!
on_exit "kill $MOCK_PID 2>/dev/null; wait $MOCK_PID 2>/dev/null"
mock_up() {
	dbus-send --system --print-reply --dest=org.freedesktop.systemd1 \
	    /org/freedesktop/systemd1 org.freedesktop.DBus.Properties.Get \
	    string:org.freedesktop.systemd1.Manager string:Version 2>/dev/null |
	    grep -q certd-mock
}
wait_for 15 mock_up || fail "mock systemd1 did not come up: $(cat "$T/mock.log")"

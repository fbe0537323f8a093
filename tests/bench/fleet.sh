#!/bin/sh
# tests/bench/fleet.sh: a management server rolls a new chain out to a
# fleet.  Starts BENCH_FLEET certd instances on 127.0.0.1 (each its own
# state dir, socket, TLS port and config; no dependents), then pushes the
# CloudStack sequence (root, intermediate, server with its key: three
# `certctl -H` commands, the ones an admin types) to all of them from one
# client, BENCH_FLEET_PARALLEL hosts at a time.  Two hosts fail on
# purpose: one whose client_allow does not list the pusher (E_FORBIDDEN),
# one stopped before the push (unreachable); the rest must not notice.
# Prints the time to roll out to all, p50/p99/max per host (its three
# commands, first byte to last), and each failure with its host and
# reason; checks that every other host's current/cert.pem is the pushed
# certificate.  Fails if any host other than the two fails.
#
# Env: top_builddir (default: cwd), BENCH_FLEET (200 hosts),
# BENCH_FLEET_PARALLEL (16), BENCH_DIR (/var/tmp: a disk, not tmpfs).
. "$(dirname "$0")/lib.sh"
: "${BENCH_FLEET:=200}"
: "${BENCH_FLEET_PARALLEL:=16}"
: "${BENCH_DIR:=/var/tmp}"
bench_built "$CERTD" "$CERTCTL" "$TESTPKI"
N=$BENCH_FLEET
[ "$N" -ge 3 ] || { echo "fleet.sh: BENCH_FLEET must be at least 3" >&2; exit 2; }

W=$(mktemp -d "$BENCH_DIR/certd-fleet.XXXXXX")
stop_all() {
	[ -f "$W/pids" ] || return 0
	# shellcheck disable=SC2046
	kill $(cat "$W/pids") 2>/dev/null || true
	for p in $(cat "$W/pids"); do
		while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
	done
}
trap 'stop_all; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
now() { date +%s%N; }
g() { "$CERTCTL" "$@" >/dev/null; }

# The hosts' CA and one certificate for 127.0.0.1 they all serve; the
# management CA, its client; the chain to push.
g gen-ca --out "$W/hosts-ca"
g gen-cert --ca "$W/hosts-ca" --domain fleet.test --ip 127.0.0.1 --out "$W/tls"
g gen-ca --out "$W/mgmt-ca"
g gen-cert --ca "$W/mgmt-ca" --domain mgmt.example.com --client --out "$W/mgmt"
"$TESTPKI" chain "$W/push" --domain example.com --inter 1 --key ec >/dev/null

# N free ports, taken at once so that no two hosts get the same.
python3 -c 'import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in ss))' "$N" > "$W/ports"

echo "fleet: starting $N certd instances"
t0=$(now)
i=0
while read -r port; do
	i=$((i + 1))
	h=$W/h$i
	mkdir -m 0700 "$h"
	allow=DNS:mgmt.example.com
	[ "$i" -eq 1 ] && allow=DNS:someone-else.example.com	# refuses the pusher
	cat > "$h/certd.conf" <<-EOF
	[certd]
	state_dir = $h/state
	socket = $h/control.sock
	listen = 127.0.0.1:$port
	tls_cert = $W/tls/server.pem
	tls_key = $W/tls/server.key
	client_ca = $W/mgmt-ca/root.pem
	client_allow = $allow
	EOF
	"$CERTD" -d -f "$h/certd.conf" >"$h/certd.log" 2>&1 &
	echo $! >> "$W/pids"
	echo "h$i 127.0.0.1:$port" >> "$W/hosts"
done < "$W/ports"
i=0
while read -r name addr; do
	n=0
	until [ -S "$W/$name/control.sock" ] && grep -q "TLS, client certificates" "$W/$name/certd.log"; do
		n=$((n + 1)); [ $n -lt 600 ] || { echo "fleet.sh: $name did not start" >&2; exit 1; }
		sleep 0.05
	done
done < "$W/hosts"
echo "fleet: $N instances up in $(( ($(now) - t0) / 1000000 )) ms"

# h2 goes down before the push: a host that does not answer.
kill "$(sed -n 2p "$W/pids")"

# push NAME ADDR: the three commands; prints NAME, exit, microseconds and
# the first line certctl printed on stderr, tab-separated.
cat > "$W/push.sh" <<-'EOF'
	name=$1 addr=$2
	R="-H https://$addr --client-cert $W/mgmt/client.pem --client-key $W/mgmt/client.key --ca $W/hosts-ca/root.pem -t 60"
	t0=$(date +%s%N)
	rc=0
	$CERTCTL $R upload example.com --name root --seq 1 "$W/push/root.pem" >/dev/null 2>"$W/$name.err" &&
	$CERTCTL $R upload example.com --name intermediate --seq 2 "$W/push/inter1.pem" >/dev/null 2>>"$W/$name.err" &&
	$CERTCTL $R upload example.com --server "$W/push/server.pem" --key "$W/push/server.key" >/dev/null 2>>"$W/$name.err" ||
	rc=$?
	printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$(( ($(date +%s%N) - t0) / 1000 ))" \
	    "$(head -n 1 "$W/$name.err")"
	EOF
echo "fleet: pushing to $N hosts, $BENCH_FLEET_PARALLEL at a time"
export W CERTCTL
t0=$(now)
xargs -P "$BENCH_FLEET_PARALLEL" -L 1 sh "$W/push.sh" < "$W/hosts" > "$W/results"
total=$(( ($(now) - t0) / 1000000 ))

ok=$(awk -F'\t' '$2 == 0' "$W/results" | wc -l)
awk -F'\t' '$2 == 0 { print $3 }' "$W/results" | sort -n > "$W/times"
echo "fleet: rolled out to all $N hosts in $total ms ($ok committed)"
awk '{ v[NR] = $1 } END {
	printf "fleet: per committed host (3 commands): p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
	    v[int(NR * 0.50) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000, v[NR] / 1000 }' "$W/times"
echo "fleet: failures, each isolated to its host:"
awk -F'\t' '$2 != 0 { printf "  %s: exit %s after %.1f ms: %s\n", $1, $2, $3 / 1000, $4 }' "$W/results"

# Every host that answered serves what was pushed; the two failed as meant.
bad=0
while IFS='	' read -r name rc us reason; do
	case $name:$rc in
	h1:1|h2:3) continue ;;
	h1:*|h2:*) echo "fleet.sh: $name exited $rc, not as meant" >&2; bad=1; continue ;;
	esac
	if [ "$rc" -ne 0 ] || ! cmp -s "$W/$name/state/domains/example.com/current/cert.pem" "$W/push/server.pem"; then
		echo "fleet.sh: $name did not commit the chain (exit $rc)" >&2
		bad=1
	fi
done < "$W/results"
[ "$(grep -c . "$W/results")" -eq "$N" ] || { echo "fleet.sh: not every host was pushed to" >&2; bad=1; }
grep -q "E_FORBIDDEN" "$W/h1.err" || { echo "fleet.sh: h1 did not refuse with E_FORBIDDEN" >&2; bad=1; }
stop_all
exit $bad

#!/bin/sh
# t-daemon-dirs: certd refuses to start on a state directory or a socket
# directory that another user could write into (group/world-writable, or
# owned by someone else), naming the path, its owner and mode; a symlink
# where the socket goes is not followed.
. "$top_srcdir/tests/integration/lib.sh"
need_built "$CERTD"
[ "$(id -u)" = 0 ] || skip "needs root to chown"

# refused STATE_DIR SOCKET WHAT: certd must exit 1 saying WHAT.
refused() {
	printf '[certd]\nstate_dir = %s\nsocket = %s\n' "$1" "$2" > "$T/c.conf"
	out=$(timeout 10 "$CERTD" -d -f "$T/c.conf" 2>&1)
	rc=$?
	[ "$rc" -eq 1 ] || fail "certd started (or crashed, exit $rc) with $3: $out"
	assert_contains "$out" "$4" "the refusal"
	echo "refused: $(echo "$out" | tail -n 1)"
}

say "a world-writable state directory"
mkdir -m 777 "$T/s1"
refused "$T/s1" "$T/sock1/c.sock" "a 0777 state dir" "state directory $T/s1 is owned by uid 0 with mode 0777"
[ ! -e "$T/sock1/c.sock" ] || fail "a socket was created all the same"

say "a state directory owned by nobody"
mkdir -m 755 "$T/s2" && chown nobody "$T/s2"
refused "$T/s2" "$T/sock2/c.sock" "nobody's state dir" "is owned by uid 65534 with mode 0755"

say "a group-writable socket directory"
mkdir -m 775 "$T/sock3"
refused "$T/s3" "$T/sock3/c.sock" "a 0775 socket dir" "socket directory $T/sock3 is owned by uid 0 with mode 0775"

say "a symlink where the socket goes"
mkdir -m 755 "$T/sock4"
touch "$T/target"
chmod 600 "$T/target"
ln -s "$T/target" "$T/sock4/c.sock"
refused "$T/s4" "$T/sock4/c.sock" "a symlink at the socket path" "exists and is not a socket"
assert_eq "$(stat -c %a "$T/target")" 600 "the symlink's target mode"

say "and the right ones work"
start_certd
echo "unsafe directories refused, each named with owner and mode"

#!/bin/sh
# t-key-custody: where a key passes, nothing keeps it.  A certd that
# aborts (SIGABRT, which a sanitizer leaves alone) under `ulimit -c
# unlimited` leaves no core (a control process under the same limit does);
# and after uploads of keys (certctl's JSON bundle and a CloudStack form
# on the socket, an upload over TLS), with keys sealed at rest, no line of
# any key's base64 is anywhere in certd's memory (its heap, stack and
# anonymous mappings, read from /proc/PID/mem).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/remotelib.sh"
need python3 curl
need_built "$CERTD" "$CERTCTL" "$TESTPKI"
[ "$(id -u)" = 0 ] || skip "needs root to read another process's memory"
D=custody.test
pki chain "$T/pki" --domain $D --inter 1 --key ec >/dev/null || fail "testpki"
pki_leaf "$T/pki" "$T/leaf2" $D
pki_leaf "$T/pki" "$T/leaf3" $D
remote_pki
PORT=$(free_port)
mkdir -m 700 "$T/cred" "$T/cwd"
head -c 32 /dev/urandom > "$T/cred/certd.key"
{
	echo "[certd]"
	echo "state_dir = $CERTD_STATE"
	echo "socket = $CERTD_SOCK"
	echo "listen = 127.0.0.1:$PORT"
	echo "tls_cert = $T/srv/server.pem"
	echo "tls_key = $T/srv/server.key"
	echo "client_ca = $T/cca/root.pem"
	echo "client_allow = DNS:mgmt.example.com"
} > "$T/certd.conf"
start() {
	(cd "$T/cwd" && ulimit -c unlimited &&
	    exec env CREDENTIALS_DIRECTORY="$T/cred" "$CERTD" -d -f "$T/certd.conf") \
	    >>"$T/certd.log" 2>&1 &
	CERTD_PID=$!
	wait_for 10 api GET /v1/status || fail "certd does not answer"
}

say "keys pass through certd"
start
on_exit "stop_certd"
run 0 ctl upload $D --bundle "$T/pki/bundle.pem" --key "$T/pki/server.key"
form_upload $D server 3 "$T/leaf2.pem" "$T/leaf2.key" >/dev/null ||
    fail "form upload: $(cat "$T/api.body")"
run 0 rctl upload $D --server "$T/leaf3.pem" --key "$T/leaf3.key"
# Every base64 line of the keys, whole: 64 characters nothing else shares.
grep -hv -- '-----' "$T/pki/server.key" "$T/leaf2.key" "$T/leaf3.key" > "$T/needles"
python3 - "$CERTD_PID" "$T/needles" <<'PY' || fail "a key is still in certd's memory"
import sys
pid, needles = int(sys.argv[1]), open(sys.argv[2]).read().split()
mem = open("/proc/%d/mem" % pid, "rb", 0)
found = []
for line in open("/proc/%d/maps" % pid):
    f = line.split()
    if not f[1].startswith("rw"):
        continue
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    if hi - lo > 1 << 30:
        continue	# a sanitizer's shadow memory, not data
    try:
        mem.seek(lo)
        data = mem.read(hi - lo)
    except OSError:
        continue
    for n in needles:
        i = data.find(n.encode())
        if i >= 0:
            found.append("%s... at %s+0x%x" % (n[:12], f[5] if len(f) > 5 else "anon", i))
for w in found:
    print("found", w)
print("%d of %d key lines in certd's memory" % (len(found), len(needles)))
sys.exit(1 if found else 0)
PY

say "a crash leaves no core dump"
grep -q "^Max core file size *0 *0 " /proc/$CERTD_PID/limits ||
    fail "certd's core limit: $(grep core /proc/$CERTD_PID/limits)"
kill -ABRT "$CERTD_PID"
wait "$CERTD_PID"
rc=$?
CERTD_PID=""
assert_eq "$rc" 134 "certd's status after SIGABRT"
ls "$T/cwd" | grep -q core && fail "certd left a core: $(ls -la "$T/cwd")"
# The control: the same limit, the same directory, a process that may dump.
(cd "$T/cwd" && ulimit -c unlimited && exec sleep 30) &
ctl=$!
sleep 0.2
kill -ABRT $ctl
wait $ctl
if ls "$T/cwd" | grep -q core; then
	echo "control: sleep under the same limit dumped core; certd did not"
else
	echo "control: no core even from sleep here (core_pattern $(cat /proc/sys/kernel/core_pattern)); certd's limit was 0"
fi
rm -f "$T"/cwd/core*

say "certctl, holding a key, leaves no core dump either"
# A socket that takes the upload and never answers: certctl waits with
# the key read, as it would on a busy certd.
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept(); time.sleep(30)' "$T/mute.sock" &
mute=$!
wait_for 5 test -S "$T/mute.sock" || fail "no mute socket"
(cd "$T/cwd" && ulimit -c unlimited &&
    exec "$CERTCTL" -s "$T/mute.sock" upload $D --server "$T/leaf2.pem" --key "$T/leaf2.key") &
cpid=$!
wait_for 5 grep -q "^Max core file size *0 *0 " /proc/$cpid/limits ||
    fail "certctl's core limit: $(grep core /proc/$cpid/limits)"
kill -ABRT $cpid
wait $cpid
assert_eq "$?" 134 "certctl's status after SIGABRT"
kill $mute 2>/dev/null; wait $mute 2>/dev/null
ls "$T/cwd" | grep -q core && fail "certctl left a core: $(ls -la "$T/cwd")"
echo "no key in memory after three uploads; no core dump from certd or certctl"

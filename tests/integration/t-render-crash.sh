#!/bin/sh
# t-render-crash: SIGKILL the renderer at every write, fsync, rename,
# symlink, openat and mkdir it makes (strace fault injection).  After each
# kill `current` must name a complete generation (the old or the new one)
# that matches its manifest, and the next run (clean, then render) succeeds.
# "Complete" is judged by tests/crash/rehash.py, not by render.c's own check.
. "$top_srcdir/tests/integration/lib.sh"
need strace
RT=$top_builddir/tests/render-tool
need_built "$RT"
need python3
intact() { python3 "$top_srcdir/tests/crash/rehash.py" "$T/state/domains/$D"; }
strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (no ptrace)"

# LeakSanitizer cannot run under ptrace; in a sanitizer build leaks are
# t-render-files' and test_render's to find.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS

D=crash.example.com
pki chain "$T/pki" --domain "$D" --inter 1 --key ec256 >/dev/null || fail "testpki"
ARGS="$T/pki/root.pem $T/pki/inter1.pem $T/pki/server.pem $T/pki/server.key"
SYSCALLS="write fsync rename renameat renameat2 symlink symlinkat openat mkdir mkdirat unlinkat"

# The state every kill starts from: generation 1 complete and current.
# shellcheck disable=SC2086
"$RT" "$T/base" "$D" 1 $ARGS || fail "render gen 1"
python3 "$top_srcdir/tests/crash/rehash.py" "$T/base/domains/$D" >/dev/null || fail "gen 1 incomplete"

fresh() {
	rm -rf "$T/state"
	cp -a "$T/base" "$T/state"
}

# How often does a render of generation 2 make each syscall?
fresh
# shellcheck disable=SC2086
strace -f -qq -o "$T/trace" -e trace="$(echo $SYSCALLS | tr ' ' ,)" \
    "$RT" "$T/state" "$D" 2 $ARGS || fail "traced render failed"
intact >/dev/null || fail "traced render incomplete: $(intact)"

# SIGKILL tests a process crash; the page cache survives it.  A power loss
# is covered by the order of the calls, checked here on the same trace: each
# file created exclusively in the temporary directory with its mode set
# before content and fsynced before the manifest; manifest and directory
# fsynced before the directory becomes gen-2; the domain dir fsynced after
# that rename and before the symlink swap, and after the swap.
fresh
# shellcheck disable=SC2086
strace -qq -y -o "$T/order" -e trace=openat,write,fchmod,fchown,fsync,symlinkat,renameat,renameat2 \
    "$RT" "$T/state" "$D" 2 $ARGS || fail "traced render failed"
python3 - "$T/order" "$D" <<'PY' || fail "the renderer's calls are out of order"
import re, sys
gen = "/domains/%s/.tmp-gen-2" % sys.argv[2]
ev = []
for line in open(sys.argv[1]):
    m = re.match(r'(\w+)\((.*)\) += (-?\d+)(?:<([^>]*)>)?', line)
    if m:
        ev.append(m.groups())
def idx(pred):
    return [i for i, e in enumerate(ev) if pred(e)]
files = {}	# path -> index of its openat
for i, (sc, args, rc, path) in enumerate(ev):
    if sc == "openat" and path and path.startswith(path.split(gen)[0] + gen + "/"):
        assert "O_EXCL" in args and "O_NOFOLLOW" in args and "O_CREAT" in args, line
        files[path] = i
names = sorted(p.rsplit("/", 1)[1] for p in files)
assert len(files) == 11, names
def on(sc, p):
    return idx(lambda e: e[0] == sc and e[1].split(",")[0].endswith("<" + p + ">"))
manifest = [p for p in files if p.endswith("/manifest.json")][0]
for p in files:
    w = on("write", p)
    assert w and on("fchmod", p) and on("fchmod", p)[0] < w[0], ("mode after content", p)
    assert on("fsync", p), ("no fsync", p)
    if p != manifest:
        assert on("fsync", p)[0] < files[manifest], ("fsync after manifest", p)
sym = idx(lambda e: e[0] == "symlinkat")
ren = idx(lambda e: e[0] == "renameat")
install = idx(lambda e: e[0] == "renameat2")
assert len(sym) == 1 and len(ren) == 1 and sym[0] < ren[0]
assert len(install) == 1 and install[0] < sym[0], "gen-2 not in place before the swap"
assert '"gen-2"' in ev[install[0]][1], ev[install[0]]
gdir = [p for p in files][0].rsplit("/", 1)[0]
ddir = gdir.rsplit("/", 1)[0]
assert on("fsync", manifest)[-1] < install[0], "manifest fsync after the rename"
assert any(i < install[0] for i in on("fsync", gdir)), "gen dir not fsynced before its rename"
assert any(install[0] < i < sym[0] for i in on("fsync", ddir)), "domain dir not fsynced between rename and swap"
assert any(i > ren[0] for i in on("fsync", ddir)), "domain dir not fsynced after the swap"
print("call order ok: %d files" % len(files))
PY

runs=0
for sc in $SYSCALLS; do
	count=$(awk -v s="$sc" '{ sub(/^[0-9]+ +/, ""); split($0, a, "("); if (a[1] == s) n++ } END { print n + 0 }' "$T/trace")
	[ "$count" -gt 0 ] || continue
	say "$sc: $count calls"
	n=1
	while [ "$n" -le "$count" ]; do
		fresh
		# shellcheck disable=SC2086
		strace -f -qq -o /dev/null -e trace="$sc" \
		    -e inject="$sc":signal=SIGKILL:when="$n" \
		    "$RT" "$T/state" "$D" 2 $ARGS >/dev/null 2>&1
		rc=$?
		# strace reports the tracee's death by SIGKILL as 128+9.
		[ "$rc" -eq 137 ] || fail "$sc #$n: render-tool was not killed (exit $rc)"
		cur=$(intact) || fail "$sc #$n: current is not complete: $cur"
		case $cur in
		1|2) ;;
		*) fail "$sc #$n: current names generation '$cur'" ;;
		esac
		# certd's start: clean partial generations, render again.
		# shellcheck disable=SC2086
		"$RT" -c "$T/state" "$D" 2 $ARGS >/dev/null 2>&1 ||
		    fail "$sc #$n: the render after the crash failed"
		cur=$(intact) || fail "$sc #$n: re-render incomplete: $cur"
		assert_eq "$cur" 2 "$sc #$n: current after the re-render"
		left=$(cd "$T/state/domains/$D" && ls -A | tr '\n' ' ')
		assert_eq "$left" "current gen-1 gen-2 " "$sc #$n: entries after the re-render"
		n=$((n + 1))
		runs=$((runs + 1))
	done
done
[ "$runs" -ge 20 ] || fail "only $runs kill points: the trace found too few calls"

# A crash that left a partial gen-3 and a stray current.tmp: clean removes
# both and keeps the complete ones.
fresh
mkdir "$T/state/domains/$D/gen-3"
: > "$T/state/domains/$D/gen-3/cert.pem"
ln -s gen-3 "$T/state/domains/$D/current.tmp"
# shellcheck disable=SC2086
"$RT" -c -k 5 "$T/state" "$D" 2 $ARGS || fail "clean + render"
assert_eq "$(cd "$T/state/domains/$D" && ls -A | tr '\n' ' ')" "current gen-1 gen-2 " "after clean"
echo "$runs kill points: current always complete, every re-render succeeded"

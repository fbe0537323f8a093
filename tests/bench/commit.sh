#!/bin/sh
# tests/bench/commit.sh: commit latency (a whole bundle upload, from the
# request's first byte to the answer's last; no dependents) over
# BENCH_COMMITS commits to one domain, beside the floor measured in the
# same run: tests/tools/commitfloor doing only the disk work of a
# generation (the same 11 files, fsyncs, rename, symlink swap and prune).
# The floor runs half before and half after certd, so drift in the disk's
# speed weighs on both.  Prints p50/p99 and the ratio.
#
# Env: top_builddir (default: cwd), BENCH_COMMITS (1000), BENCH_DIR (where
# the state goes; default /var/tmp, a disk like /var/lib/certd, not tmpfs).
. "$(dirname "$0")/lib.sh"
: "${BENCH_COMMITS:=1000}"
: "${BENCH_DIR:=/var/tmp}"
LOAD=$top_builddir/tests/tools/commitload
FLOOR=$top_builddir/tests/tools/commitfloor
bench_built "$CERTD" "$TESTPKI" "$LOAD" "$FLOOR"

T=$(mktemp -d "$BENCH_DIR/certd-bench-commit.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

pct() {	# p50 p99 of the microsecond figures in the files, as ms
	cat "$@" | sort -n | awk '{ v[NR] = $1 } END {
		printf "%.2f %.2f\n", v[int(NR * 0.50) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000 }'
}

"$TESTPKI" chain "$T/pki" --domain bench.test --inter 1 --key ec >/dev/null
"$CERTD" -d -D "$T/run" >"$T/certd.log" 2>&1 &
pid=$!
n=0
while [ ! -S "$T/run/control.sock" ]; do
	n=$((n + 1)); [ $n -lt 100 ] || { echo "commit.sh: certd did not start" >&2; exit 1; }
	sleep 0.05
done
# One commit first: the floor copies its generation's files.
"$LOAD" "$T/run/control.sock" "$T/pki" -n 1 >/dev/null
G=$T/run/domains/d0.bench.test/current
half=$((BENCH_COMMITS / 2))
"$FLOOR" "$G" "$T/floor1" "$half" -o "$T/floor1.us" >/dev/null
"$LOAD" "$T/run/control.sock" "$T/pki" -n "$BENCH_COMMITS" -o "$T/certd.us" >/dev/null
"$FLOOR" "$G" "$T/floor2" "$half" -o "$T/floor2.us" >/dev/null
kill "$pid"; wait "$pid" || true; pid=""

set -- $(pct "$T/certd.us") $(pct "$T/floor1.us" "$T/floor2.us")
echo "state dir on: $(df -T "$T" | awk 'NR == 2 { print $2 " (" $7 ")" }'), $(nproc) CPUs"
printf '%-52s %8s %8s\n' "commit latency, ms, $BENCH_COMMITS commits" p50 p99
printf '%-52s %8s %8s\n' "certd: bundle upload to answer, no dependents" "$1" "$2"
printf '%-52s %8s %8s\n' "floor: the same files, fsyncs, swap and prune" "$3" "$4"
printf '%-52s %7.2fx %7.2fx\n' "ratio certd / floor" \
    "$(echo "$1 $3" | awk '{ print $1 / $2 }')" "$(echo "$2 $4" | awk '{ print $1 / $2 }')"

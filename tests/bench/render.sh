#!/bin/sh
# tests/bench/render.sh: how long render_generation takes (11 files, an fsync
# each, two directory fsyncs, the symlink swap), median of 50, with and
# without the system CAs in the trust stores; and a whole render-tool run.
# Env: top_builddir (default: cwd), BENCH_RUNS (default 50), BENCH_DIR (where
# the state dir goes; default /var/tmp, a disk like /var/lib/certd, not tmpfs).
. "$(dirname "$0")/lib.sh"
: "${BENCH_RUNS:=50}"
: "${BENCH_DIR:=/var/tmp}"
RT=$top_builddir/tests/render-tool
bench_built "$RT" "$TESTPKI"

T=$(mktemp -d "$BENCH_DIR/certd-bench-render.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

stats() {	# median, min, max, p90 of the numbers on stdin
	sort -n | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%8.2f %8.2f %8.2f %8.2f\n", m, v[1], v[int(NR * 0.9 + 0.5)], v[NR] }'
}

"$TESTPKI" chain "$T/pki" --domain bench.test --inter 1 >/dev/null
set -- "$T/pki/root.pem" "$T/pki/inter1.pem" "$T/pki/server.pem" "$T/pki/server.key"
echo "state dir on: $(df -T "$T" | awk 'NR == 2 { print $2 " (" $7 ")" }'), $(nproc) CPUs, $(uname -r)"
printf '%-46s %8s %8s %8s %8s\n' "ms, $BENCH_RUNS runs" median min p90 max

for sys in "" -s; do
	rm -rf "$T/state"
	"$RT" $sys -b "$BENCH_RUNS" "$T/state" bench.test 1 "$@" > "$T/times"
	printf '%-46s %s\n' "render_generation${sys:+ + system CAs}" "$(stats < "$T/times")"
done

# The whole program: exec, PEM parsing, render, exit (what a CLI would pay).
rm -rf "$T/state"
: > "$T/times"
i=1
while [ "$i" -le "$BENCH_RUNS" ]; do
	t0=$(date +%s%N)
	"$RT" "$T/state" bench.test "$i" "$@"
	t1=$(date +%s%N)
	echo "$t0 $t1" | awk '{ printf "%.3f\n", ($2 - $1) / 1e6 }' >> "$T/times"
	i=$((i + 1))
done
printf '%-46s %s\n' "render-tool process (exec to exit)" "$(stats < "$T/times")"
"$RT" -q "$T/state" bench.test >/dev/null
echo "generation sizes: $(du -sk "$T/state/domains/bench.test/gen-1" | cut -f1) KiB; with system CAs the trust stores hold $(($(grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt 2>/dev/null || echo 0) + 2)) certificates"

# tests/bench/lib.sh: the preamble the benchmark scripts share.  Source it
# first:  . "$(dirname "$0")/lib.sh"
# Sets -eu; here (this directory), top_srcdir (default: here/../..),
# top_builddir (default: the current directory); the programs `make bench`
# builds: CERTD, CERTCTL, TESTPKI; and
#   bench_built FILE...  exits 2 (a benchmark that cannot run, not one that
#                        failed) unless each FILE is built.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
CERTD=$top_builddir/certd
CERTCTL=$top_builddir/certctl/certctl
TESTPKI=$top_builddir/tests/testpki

bench_built() {
	for _c in "$@"; do
		[ -x "$_c" ] || { echo "$(basename "$0"): $_c not built (make bench builds it)" >&2; exit 2; }
	done
}

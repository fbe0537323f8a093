#!/bin/sh
# t-commit-crash: a sample of tests/crash/crash.py's kill points.  certd is
# SIGKILLed (strace fault injection) at one system call in 60 of whole
# commits: dependents, verify, publish links, rollbacks, a first commit,
# pruning and start-up recovery.  After each kill and a restart, current
# must be a live, complete generation (re-hashed independently) that the
# s_server dependent serves, and a fresh upload must commit.
# `make crash` runs every kill point (over 1,300).
. "$top_srcdir/tests/integration/lib.sh"
need strace python3 sqlite3 openssl
need_built "$CERTD" "$CERTCTL" "$TESTPKI"
strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (no ptrace)"
# LeakSanitizer cannot run under ptrace.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
TMPDIR=$T python3 "$top_srcdir/tests/crash/crash.py" \
    --builddir "$top_builddir" --every "${CRASH_EVERY:-60}" ||
    fail "a kill point broke the commit guarantee"

# lib.sh: helpers for integration tests.  Source it first:
#   . "$top_srcdir/tests/integration/lib.sh"
# It makes $T (a private temp dir, removed on exit), and offers: fail, skip,
# need, need_built, on_exit, free_port, wait_for, start_certd, stop_certd,
# ctl (certctl on the private socket), api and expect_code (curl on the
# private socket), pki (tests/testpki), pki_leaf, run, form_upload, ks_dump,
# ks_unchanged, json_get, assert_eq, assert_contains, assert_not_contains;
# for the tests of a real server's dependent: dependent_fixture,
# verify_keys, upload_rolls_back, and PROBE (tlsprobe.py).
#
# Exit 77 (skip) only for what the machine lacks, never for what the build
# lacks; tests/integration/run counts a skip as a failure unless its reason
# is in tests/skips-allowed (see README "Tests").  Never run certd without
# -f: the host's config is none of a test's business.
set -u
: "${top_srcdir:?run me through tests/integration/run or make check}"
: "${top_builddir:=$top_srcdir}"
CERTD=$top_builddir/certd
CERTCTL=$top_builddir/certctl/certctl
TESTPKI=$top_builddir/tests/testpki
PROBE=$top_srcdir/tests/integration/tlsprobe.py

T=$(mktemp -d /tmp/certd-test.XXXXXX)
chmod 755 "$T"		# Apache children (www-data) may need to traverse it
_exit_cmds=""
on_exit() { _exit_cmds="$1
$_exit_cmds"; }
# Set by a check that fails while the exit commands run (stop_certd), where
# `fail` cannot exit without skipping the rest of the cleanup.
_in_cleanup="" _late_fail=""
_cleanup() {
	rc=$?
	trap - EXIT INT TERM
	_in_cleanup=1
	eval "$_exit_cmds"
	[ -z "$_late_fail" ] || rc=1
	# A sanitizer report from the private certd fails the test even if
	# everything it checked passed (the sanitizer build runs these too).
	if [ -f "$T/certd.log" ] && grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/certd.log"; then
		echo "FAIL: certd's log has a sanitizer report:"
		grep -E -A 30 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/certd.log" | head -n 60
		rc=1
	fi
	# Every process a test starts names $T in its arguments; none may
	# outlive the test (a leaked certd or Apache would hold ports and
	# pollute the next test).
	_n=30
	while [ $_n -gt 0 ] && pgrep -f -- "$T/" >/dev/null; do
		sleep 0.1; _n=$((_n - 1))
	done
	if pgrep -f -- "$T/" >/dev/null; then
		echo "FAIL: processes outlive the test:"
		pgrep -af -- "$T/"
		pkill -KILL -f -- "$T/"
		rc=1
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -f "$T/certd.log" ]; then
		echo "--- certd log (last 30 lines)"
		tail -n 30 "$T/certd.log"
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "${CERTD_TEST_KEEP:-}" ]; then
		echo "--- kept $T (CERTD_TEST_KEEP)"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skip: $*"; exit 77; }
need() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "$c not installed (tests/setup-debian)"; done; }
# need_built FILE...: what `make check` builds (certd, tests/render-tool...)
# must be there: its absence is a broken build, a failure, not a skip.
need_built() { for f in "$@"; do [ -x "$f" ] || [ -f "$f" ] || fail "$f not built (make check builds it)"; done; }
say() { echo "--- $*"; }

assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: expected '$2', got '$1'"; }
assert_contains() { case $1 in *"$2"*) ;; *) fail "${3:-output} does not contain '$2': $1" ;; esac; }
assert_not_contains() { case $1 in *"$2"*) fail "${3:-output} contains '$2': $1" ;; *) ;; esac; }

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for SECONDS CMD...: retry CMD every 0.1 s until it succeeds.
wait_for() {
	_n=$(($1 * 10)); shift
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}

pki() { "$TESTPKI" "$@"; }

# start_certd [EXTRA_CONFIG_TEXT]: a private certd with its own state dir,
# socket and config ($T/certd.conf); extra text is appended to the config
# (other sections, or [certd] keys after a "[certd]" line of your own).
CERTD_SOCK=$T/control.sock
CERTD_STATE=$T/state
start_certd() {
	{
		echo "[certd]"
		echo "state_dir = $CERTD_STATE"
		echo "socket = $CERTD_SOCK"
		echo "${1:-}"
	} > "$T/certd.conf"
	_out=$("$CERTD" -t -f "$T/certd.conf" 2>&1) || fail "certd -t -f $T/certd.conf: $_out"
	"$CERTD" -d -f "$T/certd.conf" >>"$T/certd.log" 2>&1 &
	CERTD_PID=$!
	on_exit "stop_certd"
	wait_for 10 test -S "$CERTD_SOCK" || fail "certd did not create $CERTD_SOCK"
	wait_for 10 api GET /v1/status || fail "certd does not answer on $CERTD_SOCK"
}
# stop_certd [EXPECTED_RC]: SIGTERM, wait; the test fails unless certd
# exits EXPECTED_RC (0: a crash or a sanitizer abort at exit is a failure).
# The exit commands run it too, for a certd the test left running.
stop_certd() {
	[ -n "${CERTD_PID:-}" ] || return 0
	kill -TERM "$CERTD_PID" 2>/dev/null
	wait "$CERTD_PID" 2>/dev/null
	CERTD_RC=$?
	CERTD_PID=""
	[ "$CERTD_RC" -eq "${1:-0}" ] && return 0
	if [ -n "$_in_cleanup" ]; then
		echo "FAIL: certd exited $CERTD_RC on SIGTERM, expected ${1:-0}"
		_late_fail=1
		return 1
	fi
	fail "certd exited $CERTD_RC on SIGTERM, expected ${1:-0}"
}

ctl() { "$CERTCTL" -s "$CERTD_SOCK" "$@"; }
# api METHOD PATH [curl args...]: body on stdout (and in $T/api.body),
# HTTP code in $T/api.code; returns 1 on HTTP >= 400 or a transport error.
# Both files are this call's: 000 and no body when nothing came back.
api() {
	_m=$1 _p=$2; shift 2
	rm -f "$T/api.body" "$T/api.code"
	_code=$(curl -s -o "$T/api.body" -w '%{http_code}' --max-time 30 \
	    --unix-socket "$CERTD_SOCK" -X "$_m" "$@" "http://certd$_p")
	_rc=$?
	echo "${_code:-000}" > "$T/api.code"
	if [ "$_rc" -ne 0 ]; then
		echo "api $_m $_p: curl exit $_rc (HTTP ${_code:-000})" >&2
		rm -f "$T/api.body"
		return 1
	fi
	cat "$T/api.body"
	[ "$_code" -lt 400 ]
}
# expect_code CODE CMD...: run CMD (api, form_upload...; stdout dropped) and
# fail unless its request was answered with HTTP CODE.  The answer stays in
# $T/api.body; api_error prints its error code.
expect_code() {
	_want=$1; shift
	"$@" >/dev/null
	_got=$(cat "$T/api.code" 2>/dev/null)
	[ "$_got" = "$_want" ] ||
	    fail "$*: HTTP ${_got:-(no request)}, expected $_want: $(cat "$T/api.body" 2>/dev/null)"
}
api_error() { json_get 'j["error"]["code"]' < "$T/api.body"; }

# jq-like without jq: `api GET /v1/status | json_get 'j["domains"][0]["generation"]'`
# (a Python expression over j; dicts and lists print as JSON).
json_get() {
	python3 -c 'import json,sys
j = json.load(sys.stdin)
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (dict, list)) or v is None else v)' "$1"
}
# ks_dump FILE: the domains, generations, keystore and staged tables as SQL
# text in FILE; ks_unchanged FILE LABEL: fail unless a new dump equals it
# (what proves a rejected request changed nothing).  The events table is
# left out: a rejection is recorded there.
KS_TABLES="domains generations keystore staged"
ks_dump() {
	_db=$CERTD_STATE/certd.db
	[ -s "$_db" ] || fail "ks_dump: no database at $_db"
	_have=$(sqlite3 -readonly -bail "$_db" "SELECT group_concat(name, ' ') FROM
	    (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)") ||
	    fail "ks_dump: sqlite3 cannot read $_db"
	for _t in $KS_TABLES; do
		case " $_have " in *" $_t "*) ;; *) fail "ks_dump: no table $_t in $_db ($_have)" ;; esac
	done
	# shellcheck disable=SC2086
	sqlite3 -readonly -bail "$_db" ".dump $KS_TABLES" > "$1" ||
	    fail "ks_dump: sqlite3 .dump failed"
	grep -q "^CREATE TABLE domains" "$1" || fail "ks_dump: the dump has no domains table"
}
ks_unchanged() {
	ks_dump "$T/ks.now"
	diff -u "$1" "$T/ks.now" > "$T/ks.diff" || fail "${2:-keystore tables} changed:
$(cat "$T/ks.diff")"
}
# pki_leaf CA_DIR OUT DOMAIN: another server certificate OUT.pem (EC key
# OUT.key) for DOMAIN from CA_DIR's inter1, as `pki chain` left it: one
# upload renews the domain with it.
pki_leaf() {
	pki cert "$2.pem" --issuer "$1/inter1.pem" --issuer-key "$1/inter1.key" \
	    --cn "$3" --dns "$3" --eku server --key ec --key-out "$2.key" >/dev/null ||
	    fail "testpki cert $2"
}
# run EXPECTED_RC CMD...: run CMD, its stdout and stderr in $out and $err;
# fail unless it exits EXPECTED_RC.
run() {
	_want=$1; shift
	"$@" >"$T/out" 2>"$T/err"
	_rc=$?
	out=$(cat "$T/out") err=$(cat "$T/err")
	[ "$_rc" -eq "$_want" ] || fail "$* exited $_rc, expected $_want;
stdout: $out
stderr: $err"
}
# form_upload DOMAIN NAME SEQ CERTFILE [KEYFILE]: a CloudStack-style
# x-www-form-urlencoded upload with curl's own (correct) encoding.
form_upload() {
	_d=$1 _n=$2 _s=$3 _c=$4; shift 4
	api POST /v1/certificates --data-urlencode "domainsuffix=$_d" \
	    --data-urlencode "name=$_n" --data-urlencode "id=$_s" \
	    --data-urlencode "certificate@$_c" \
	    ${1:+--data-urlencode "privatekey@$1"}
}
# served_fp PORT NAME: the SHA-256 fingerprint of the leaf one fresh TLS
# connection to 127.0.0.1:PORT (SNI NAME) is served; cert_fp FILE: that of
# FILE's first certificate.  s_client connects within a few ms of its
# start (python3's tlsprobe.py takes ~50 ms to get there).
served_fp() {
	echo | openssl s_client -connect "127.0.0.1:$1" -servername "$2" 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2
}
cert_fp() { openssl x509 -noout -fingerprint -sha256 -in "$1" | cut -d= -f2; }
# assert_served PORT NAME CERT: one fresh connection gets CERT's leaf.
assert_served() {
	assert_eq "$(served_fp "$1" "$2")" "$(cert_fp "$3")" \
	    "leaf served on a fresh connection to $1 (want $(basename "$3"))"
}
# tls_decoy PORT DIR: openssl s_server on 127.0.0.1:PORT serving another
# chain (DIR/server.pem and .key, from `pki chain DIR`), stopped on exit:
# a verify pointed there sees another leaf and fails.
tls_decoy() {
	openssl s_server -quiet -accept "127.0.0.1:$1" -cert "$2/server.pem" \
	    -key "$2/server.key" -www >/dev/null 2>&1 &
	on_exit "kill $! 2>/dev/null"
	_decoy_up() { [ -n "$(served_fp "$1" decoy)" ]; }
	wait_for 10 _decoy_up "$1" || fail "openssl s_server on $1 does not answer"
}
# dependent_fixture: what the tests of a real server's dependent share: D
# (example.test), its chain and renewals as `renewals D` makes them, CUR
# (D's current generation link), PORT (the server's TLS port), and for
# upload_rolls_back PORT_OTHER and another chain for D in $T/other.
dependent_fixture() {
	renewals example.test
	pki chain "$T/other" --domain $D --inter 0 --key ec >/dev/null || fail "testpki other"
	CUR=$CERTD_STATE/domains/$D/current
	PORT=$(free_port)
	PORT_OTHER=$(free_port)
}
# verify_keys PORT [TIMEOUT]: the lines of a dependent that checks D's new
# leaf is served on 127.0.0.1:PORT, for a test's `certd_conf PORT
# [TIMEOUT]` (TIMEOUT default 5s).
verify_keys() {
	printf 'verify = 127.0.0.1:%s\nverify_name = %s\nverify_timeout = %s\n' \
	    "$1" "$D" "${2:-5s}"
}
# upload_rolls_back LEAF KEY: certd restarted with `certd_conf PORT_OTHER
# 1s` (the caller's: its dependent verifies on a tls_decoy of $T/other
# there) takes LEAF for $D and rolls it back: exit 1, "rolled back", and
# $CUR where it was.
upload_rolls_back() {
	stop_certd
	tls_decoy "$PORT_OTHER" "$T/other"
	start_certd "$(certd_conf "$PORT_OTHER" 1s)"
	_cur=$(readlink "$CUR")
	run 1 ctl upload $D --server "$1" --key "$2"
	assert_contains "$out$err" "rolled back"
	assert_eq "$(readlink "$CUR")" "$_cur" "current after the rollback"
}

# notify_listen PATH LOG: a NOTIFY_SOCKET at PATH, as systemd would be,
# writing each line certd sends to LOG after the listener's CLOCK_MONOTONIC
# in µs ("123 READY=1"); stopped on exit.  LOG is opened for appending, so
# a test may empty it (: > LOG) while the listener runs.
notify_listen() {
	: > "$2"
	python3 - "$1" >> "$2" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    data = s.recv(4096).decode(errors="replace")
    now = time.clock_gettime(time.CLOCK_MONOTONIC)
    for line in data.split("\n"):
        print("%d %s" % (now * 1e6, line), flush=True)
PY
	on_exit "kill $! 2>/dev/null"
	wait_for 5 grep -q listening "$2" || fail "notify listener did not start"
}

# renewals D: a chain for D in $T/a (one intermediate, EC) and three more
# server certificates from its CA in $T/b, $T/c, $T/d, each one renewal;
# then `up NAME SEQ CERT [KEY]` uploads to D and `current` prints where
# D's current generation link points.
renewals() {
	D=$1
	pki chain "$T/a" --domain "$D" --inter 1 --key ec >/dev/null || fail "testpki"
	for _l in b c d; do pki_leaf "$T/a" "$T/$_l" "$D"; done
}
up() { form_upload "$D" "$@"; }
current() { readlink "$CERTD_STATE/domains/$D/current"; }

# tests/integration/checklib.sh: what the certctl check tests share.
# Source it after lib.sh, then:
#   check_pki            D=example.test, P=$T/pki: a testpki chain (root,
#                        inter1, server with an EC key); $T/other: another
#                        root with its own server certificate
#   leaf NAME [OPTIONS]  $T/NAME.pem and .key: testpki cert issued by P's
#                        intermediate, EKU serverAuth, with OPTIONS (--key,
#                        --cn, --dns, --days-from...)
#   codes RC PORT [CHECK OPTIONS]
#                        certctl --json check 127.0.0.1:PORT; fails the test
#                        unless it exits RC; sets $problems to its problem
#                        codes, "code!" when fatal (the answer stays in
#                        $T/check.json)
#   expect_problems RC PORT PROBLEMS [CHECK OPTIONS]
#                        codes, and fails unless $problems is PROBLEMS
#   cause CODE           that problem's cause and fix from $T/check.json,
#                        unwrapped

check_pki() {
	D=example.test
	P=$T/pki
	pki chain "$P" --domain $D --inter 1 --key ec >/dev/null || fail "testpki chain"
	pki chain "$T/other" --domain $D --inter 0 --key ec >/dev/null || fail "testpki other"
}

leaf() {
	_o=$1; shift
	pki cert "$T/$_o.pem" --issuer "$P/inter1.pem" --issuer-key "$P/inter1.key" \
	    --eku server --key-out "$T/$_o.key" "$@" >/dev/null || fail "testpki cert $_o"
}

codes() {
	_rc=$1 _p=$2; shift 2
	"$CERTCTL" --json check "127.0.0.1:$_p" "$@" > "$T/check.json"
	_got=$?
	[ "$_got" -eq "$_rc" ] ||
		fail "check 127.0.0.1:$_p $*: exit $_got, expected $_rc: $(cat "$T/check.json")"
	problems=$(json_get '" ".join(p["code"] + ("!" if p["fatal"] else "") for p in j["problems"])' \
	    < "$T/check.json") || fail "check --json does not parse: $(cat "$T/check.json")"
}

expect_problems() {
	_erc=$1 _ep=$2 _want=$3; shift 3
	codes "$_erc" "$_ep" "$@"
	assert_eq "$problems" "$_want" "problems of check 127.0.0.1:$_ep $*"
}

cause() {
	json_get "' '.join(p['cause'] + ' Fix: ' + p['fix'] for p in j['problems'] if p['code'] == '$1')" \
	    < "$T/check.json"
}

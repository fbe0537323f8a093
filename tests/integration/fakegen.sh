# tests/integration/fakegen.sh: certd-like generations without certd, for
# the server harnesses' demos.  Source it (after lib.sh), then:
#   fake_gen DIR N LEAF KEY CHAIN
#       writes DIR/gen-N/ as certd renders it for these servers:
#       cert.pem (LEAF), key.pem (KEY), chain.pem (CHAIN: the
#       intermediates), fullchain.pem (leaf + chain), bundle.pem (fullchain
#       + key, HAProxy's crt format), keystore.p12 (key + leaf + chain,
#       alias "server", password FAKEGEN_PASS, default changeit).
#   fake_switch DIR N
#       points DIR/current at gen-N by rename, as certd's commit does.
#   fake_pki DIR N
#       a testpki chain for $D in $T/a, leaves $T/b and $T/c issued by its
#       intermediate, and fake_gen DIR 1 to N (at most 3) of a's server,
#       b and c in that order.
#   fake_flip DIR G1 LEAF1 G2 LEAF2
#       fake_switch DIR G2 if DIR/current is gen-G1, else G1; $old and $new
#       are then the leaves of the generation left and the one switched to.
#   served_only SECONDS NEW OLD
#       fails unless every leaf tlsprobe.py ($PROBE) gets on fresh
#       connections to 127.0.0.1:$PORT (name $D) for SECONDS is NEW's, from
#       the first connection on (OLD's counted apart from any other).

# fake_pki needs tests/testpki: a broken build, not a machine to skip.
need_built "$TESTPKI"

fake_gen() {
	_g=$1/gen-$2
	mkdir -p "$_g"
	cp "$3" "$_g/cert.pem"
	cp "$4" "$_g/key.pem"
	cp "$5" "$_g/chain.pem"
	cat "$3" "$5" > "$_g/fullchain.pem"
	cat "$_g/fullchain.pem" "$4" > "$_g/bundle.pem"
	openssl pkcs12 -export -in "$3" -inkey "$4" -certfile "$5" \
	    -name server -passout "pass:${FAKEGEN_PASS:-changeit}" \
	    -out "$_g/keystore.p12" || return 1
	chmod 600 "$_g/key.pem" "$_g/bundle.pem" "$_g/keystore.p12"
}

fake_switch() {
	ln -sfn "gen-$2" "$1/current.new" && mv -T "$1/current.new" "$1/current"
}

fake_pki() {
	pki chain "$T/a" --domain $D --inter 1 --key ec >/dev/null || fail "testpki"
	pki_leaf "$T/a" "$T/b" $D
	pki_leaf "$T/a" "$T/c" $D
	_n=0
	for _l in a/server b c; do
		[ $_n -lt "$2" ] || break
		_n=$((_n + 1))
		fake_gen "$1" $_n "$T/$_l.pem" "$T/$_l.key" "$T/a/chain.pem" ||
			fail "gen-$_n"
	done
}

fake_flip() {
	if [ "$(readlink "$1/current")" = "gen-$2" ]; then
		old=$3 new=$5
		fake_switch "$1" "$4"
	else
		old=$5 new=$3
		fake_switch "$1" "$2"
	fi
}

served_only() {
	_r=$(python3 "$PROBE" --port "$PORT" --name $D --seconds "$1" --new "$2" --old "$3")
	echo "  probe: $_r"
	assert_contains "$_r" '"old": 0,'
	assert_contains "$_r" '"other": 0,'
	assert_contains "$_r" '"errors": 0,'
	assert_contains "$_r" '"first_new_ms": 0.0,'
}

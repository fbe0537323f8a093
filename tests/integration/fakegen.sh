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
#   fake_fp FILE.pem
#       the SHA-256 fingerprint of the first certificate in FILE.

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

fake_fp() { openssl x509 -noout -fingerprint -sha256 -in "$1" | cut -d= -f2; }

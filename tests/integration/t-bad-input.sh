#!/bin/sh
# t-bad-input: every error code a request can get, through the real socket,
# with the inputs the seeds' failure stories bring (a server certificate
# uploaded as the root, an intermediate before its root, a chain missing
# its intermediate, a key with a passphrase, the wrong key, a certificate
# for another name, a client certificate, an expired one, RSA-1024...).
# After each rejection the database, the rendered files and the
# certificate a real TLS server (openssl s_server, restarted by a
# dependent on every commit) serves are what they were.  E_BUSY and
# E_STOPPING are t-commit-queue's, E_CREDENTIAL t-commit-config's; the
# last good upload proves the dependent really serves what commits.
. "$top_srcdir/tests/integration/lib.sh"
need openssl curl sqlite3 python3 setpriv
need_built "$CERTD" "$CERTCTL" "$TESTPKI"
D=bad.test
PORT=$(free_port)
P=$T/pki
pki chain "$P" --domain $D --inter 1 --key ec >/dev/null || fail "testpki chain"
pki chain "$T/other" --domain $D --inter 1 --key ec >/dev/null || fail "testpki other"
CUR=$CERTD_STATE/domains/$D/current

# The service: s_server on the current files, restarted on each commit.
cat > "$T/serve.sh" <<SERVE
[ -f $T/server.pid ] && kill \$(cat $T/server.pid) 2>/dev/null
while (echo | openssl s_client -connect 127.0.0.1:$PORT >/dev/null 2>&1); do sleep 0.05; done
openssl s_server -quiet -accept 127.0.0.1:$PORT -cert $CUR/cert.pem \
    -cert_chain $CUR/chain.pem -key $CUR/key.pem -www </dev/null >/dev/null 2>&1 &
echo \$! > $T/server.pid
while ! (echo | openssl s_client -connect 127.0.0.1:$PORT >/dev/null 2>&1); do sleep 0.05; done
SERVE
start_certd "[dependent web]
exec = /bin/sh $T/serve.sh
verify = 127.0.0.1:$PORT
verify_name = $D"
on_exit 'kill $(cat "$T/server.pid") 2>/dev/null'
chmod 755 "$T"
run 0 ctl upload $D --bundle "$P/bundle.pem" --key "$P/server.key"

served() {
	echo | openssl s_client -connect 127.0.0.1:$PORT -servername $D 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256
}
files() { (cd "$CERTD_STATE/domains" && find . -type f -exec sha256sum {} + | sort; ls -l */current); }
ks_dump "$T/ks.before"
files > "$T/files.before"
SERVED=$(served)
[ -n "$SERVED" ] || fail "nothing served"
n=0
# unchanged LABEL: the rejection changed nothing.
unchanged() {
	ks_unchanged "$T/ks.before" "$1: keystore tables"
	files > "$T/files.now"
	diff -u "$T/files.before" "$T/files.now" >/dev/null ||
	    fail "$1: the files changed: $(diff -u "$T/files.before" "$T/files.now")"
	n=$((n + 1))
}
# form CODE EXPECTED NAME SEQ CERT [KEY]: a CloudStack form upload.
form() {
	_fc=$1 _fw=$2; shift 2
	expect_code "$_fc" form_upload $D "$@"
	echo "$(api_error): $(json_get 'j["error"]["message"]' < "$T/api.body")"
	assert_eq "$(api_error)" "$_fw" "form upload $*"
	unchanged "$_fw ($1)"
}
# bundle CODE EXPECTED CERTS KEY: a whole-chain upload.
bundle() {
	python3 -c 'import json,sys; print(json.dumps({"certificates": open(sys.argv[1]).read(), "privatekey": open(sys.argv[2]).read()}))' \
	    "$3" "$4" > "$T/req.json"
	expect_code "$1" api POST /v1/domains/$D/bundle \
	    -H 'Content-Type: application/json' --data-binary @"$T/req.json"
	echo "$(api_error): $(json_get 'j["error"]["message"]' < "$T/api.body")"
	assert_eq "$(api_error)" "$2" "bundle $3"
	unchanged "$2 ($3)"
}
# leaf NAME ARGS...: a server certificate from the chain's intermediate
leaf() {
	_n=$1; shift
	pki cert "$T/$_n.pem" --issuer "$P/inter1.pem" --issuer-key "$P/inter1.key" \
	    --key-out "$T/$_n.key" "$@" >/dev/null || fail "testpki cert $_n"
	cat "$T/$_n.pem" "$P/inter1.pem" "$P/root.pem" > "$T/$_n.bundle"
}

say "encoding and size"
printf 'MIIB\000\001 this is a .cer opened in Notepad\n' > "$T/garbage.cer"
form 422 E_ENCODING root 1 "$T/garbage.cer"
head -n 5 "$P/root.pem" > "$T/cut.pem"			# a paste cut short
form 422 E_ENCODING root 1 "$T/cut.pem"
head -c 70000 /dev/zero | tr '\0' A > "$T/huge.pem"
form 413 E_TOO_LARGE root 1 "$T/huge.pem"

say "order: the CloudStack sequence done wrong"
form 422 E_ORDER intermediate 4 "$T/other/inter1.pem"	# a gap: seq 3 is next
form 422 E_ORDER server 3 "$P/server.pem"		# a certificate without its key
form 422 E_ORDER root 1 "$P/server.pem"		# the server certificate as root
pki cert "$T/nobc.pem" --cn "Corp Root CA" --no-bc >/dev/null	# no CA:TRUE
form 422 E_NOT_CA root 1 "$T/nobc.pem"
form 422 E_ROOT_NOT_SELF_SIGNED root 1 "$P/inter1.pem"	# the intermediate as root

say "chains that do not hold together"
# A renewal signed by another CA than the chain's intermediate.
form 422 E_ISSUER_MISMATCH server 3 "$T/other/server.pem" "$T/other/server.key"
# The same as a bundle: no single chain.
cat "$T/other/server.pem" "$P/inter1.pem" "$P/root.pem" > "$T/mixed.bundle"
bundle 422 E_ORDER "$T/mixed.bundle" "$T/other/server.key"
cat "$P/server.pem" "$P/inter1.pem" "$P/inter1.pem" "$P/root.pem" > "$T/dup.bundle"
bundle 422 E_DUPLICATE "$T/dup.bundle" "$P/server.key"
pki cert "$T/r0.pem" --ca --pathlen 0 --cn "root pathlen 0" --key-out "$T/r0.key" >/dev/null
pki cert "$T/i0.pem" --ca --cn "inter under pathlen 0" --issuer "$T/r0.pem" --issuer-key "$T/r0.key" --key-out "$T/i0.key" >/dev/null
pki cert "$T/l0.pem" --cn $D --dns $D --eku server --key ec --issuer "$T/i0.pem" --issuer-key "$T/i0.key" --key-out "$T/l0.key" >/dev/null
cat "$T/l0.pem" "$T/i0.pem" "$T/r0.pem" > "$T/pathlen.bundle"
bundle 422 E_PATH_LEN "$T/pathlen.bundle" "$T/l0.key"

say "server certificates that are wrong for the job"
leaf expired --cn $D --dns $D --eku server --key ec --days-from -400 --days-to -1
bundle 422 E_EXPIRED "$T/expired.bundle" "$T/expired.key"
leaf future --cn $D --dns $D --eku server --key ec --days-from 10 --days-to 400
bundle 422 E_NOT_YET_VALID "$T/future.bundle" "$T/future.key"
leaf isca --cn $D --dns $D --ca --key ec
bundle 422 E_SERVER_IS_CA "$T/isca.bundle" "$T/isca.key"
leaf wrongname --cn www.example.org --dns www.example.org --eku server --key ec
bundle 422 E_NAME_MISMATCH "$T/wrongname.bundle" "$T/wrongname.key"
leaf client --cn $D --dns $D --eku client --key ec
bundle 422 E_EKU "$T/client.bundle" "$T/client.key"
leaf weak --cn $D --dns $D --eku server --key rsa1024
bundle 422 E_WEAK "$T/weak.bundle" "$T/weak.key"

say "keys"
printf 'not a key\n' > "$T/garbage.key"
bundle 422 E_KEY_ENCODING "$P/bundle.pem" "$T/garbage.key"
pki key "$T/enc.key" --key ec --key-format pkcs8-enc >/dev/null || fail "testpki key"
bundle 422 E_KEY_ENCRYPTED "$P/bundle.pem" "$T/enc.key"
bundle 422 E_KEY_MISMATCH "$P/bundle.pem" "$T/other/server.key"

say "requests"
expect_code 400 api POST /v1/domains/$D/bundle -H 'Content-Type: application/json' -d '{"certificates": "x"'
assert_eq "$(api_error)" E_BAD_REQUEST; unchanged "E_BAD_REQUEST (JSON)"
expect_code 400 form_upload "../etc" root 1 "$P/root.pem"
assert_eq "$(api_error)" E_BAD_REQUEST; unchanged "E_BAD_REQUEST (domain)"
expect_code 400 form_upload $D root 1001 "$P/root.pem"
assert_eq "$(api_error)" E_BAD_REQUEST; unchanged "E_BAD_REQUEST (id)"
expect_code 404 api POST /v1/domains/$D/rollback -H 'Content-Type: application/json' -d '{"generation": 99}'
assert_eq "$(api_error)" E_NOT_FOUND; unchanged "E_NOT_FOUND (generation)"
expect_code 404 api DELETE /v1/domains/$D/staged
assert_eq "$(api_error)" E_NOT_FOUND; unchanged "E_NOT_FOUND (nothing staged)"
code=$(setpriv --reuid nobody --regid nogroup --clear-groups curl -s -o /dev/null \
    -w '%{http_code}' --unix-socket "$CERTD_SOCK" -X POST \
    "http://certd/v1/domains/$D/render")
assert_eq "$code" 403 "nobody's render"; unchanged "E_FORBIDDEN"

say "the server still serves the chain it served"
assert_eq "$(served)" "$SERVED" "the served leaf after $n rejections"
# And a good renewal does reach it: the check above could have failed.
pki_leaf "$P" "$T/renew" $D
run 0 ctl upload $D --server "$T/renew.pem" --key "$T/renew.key"
[ "$(served)" != "$SERVED" ] || fail "a good renewal is not served: the served check proves nothing"
echo "$n rejected requests changed nothing: not the database, the files or what is served"

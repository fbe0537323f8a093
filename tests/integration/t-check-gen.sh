#!/bin/sh
# t-check-gen.sh: the test PKI in two commands, end to end.  gen-ca and
# gen-cert write files openssl verify accepts (strict, security level 2,
# name and address), that certctl uploads as they are (the commands
# gen-cert prints, README's sequence), that certd renders for a private
# Apache, and that a Java 17 client trusts through certd's truststore.jks.
# Then check and show read the trust stores certd rendered (JKS, PKCS#12)
# and those keytool made, and agree with keytool and Java about them; and
# check --domain catches the Apache that was not reloaded after a commit.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/apache.sh"
. "$top_srcdir/tests/integration/checklib.sh"
need apache2 openssl java javac keytool python3
[ "$(id -u)" -eq 0 ] || skip "needs root to start apache2"
need_built "$CERTD" "$CERTCTL"

D=example.test
G=$T/pki
KT="keytool -J-Duser.language=en"
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }

say "gen-ca --intermediate, gen-cert: the files, their modes, keys in the clear"
run 0 "$CERTCTL" gen-ca --out "$G" --intermediate --cn "certd check test root"
assert_contains "$out" "$G/root.pem: root CA CN=certd check test root, EC P-256"
assert_contains "$out" "$G/inter.pem: intermediate CA CN=certd check test intermediate, EC P-256"
run 0 "$CERTCTL" gen-cert --ca "$G" --domain $D --name www.$D --ip 127.0.0.1 --out "$G"
printf '%s\n' "$out" > "$T/gen-cert.out"
for f in root inter server; do
	assert_eq "$(stat -c %a "$G/$f.key")" 600 "$f.key mode"
	assert_eq "$(stat -c %a "$G/$f.pem")" 644 "$f.pem mode"
	assert_eq "$(head -n 1 "$G/$f.key")" "-----BEGIN PRIVATE KEY-----" "$f.key armour"
	openssl pkey -in "$G/$f.key" -passin pass: -noout 2>/dev/null || fail "$f.key needs a passphrase"
done
text=$(openssl x509 -in "$G/server.pem" -noout -text)
assert_contains "$text" "ASN1 OID: prime256v1"
assert_contains "$text" "DNS:$D, DNS:www.$D, IP Address:127.0.0.1"
assert_contains "$text" "TLS Web Server Authentication"
assert_contains "$text" "CA:FALSE"

say "openssl verify: strict, security level 2, the name and the address"
for v in "-verify_hostname $D" "-verify_hostname www.$D" "-verify_ip 127.0.0.1"; do
	# shellcheck disable=SC2086
	out=$(openssl verify -x509_strict -auth_level 2 -purpose sslserver $v \
	    -CAfile "$G/root.pem" -untrusted "$G/inter.pem" "$G/server.pem" 2>&1) ||
		fail "openssl verify $v: $out"
done
out=$(openssl verify -verify_hostname other.test -CAfile "$G/root.pem" -untrusted "$G/inter.pem" \
    "$G/server.pem" 2>&1) && fail "openssl verify accepted another name"

say "RSA on request, never an overwrite, no CA no certificate"
run 0 "$CERTCTL" gen-cert --ca "$G" --domain $D --key-type rsa --out "$T/rsa"
text=$(openssl x509 -in "$T/rsa/server.pem" -noout -text)
assert_contains "$text" "Public-Key: (2048 bit)"
assert_contains "$text" "Key Encipherment"
openssl verify -CAfile "$G/root.pem" -untrusted "$G/inter.pem" "$T/rsa/server.pem" >/dev/null ||
	fail "the RSA certificate does not verify"
before=$(fp "$G/server.pem")
run 1 "$CERTCTL" gen-cert --ca "$G" --domain $D --out "$G"
assert_contains "$err" "$G/server.pem exists; certctl never overwrites"
assert_eq "$(fp "$G/server.pem")" "$before" "server.pem after a refused gen-cert"
run 2 "$CERTCTL" gen-cert --ca "$T/nothing" --domain $D --out "$T/x"
assert_contains "$err" "no root.pem and root.key in $T/nothing"
run 2 "$CERTCTL" gen-cert --ca "$G" --domain $D --name 10.0.0.1 --out "$T/x"
assert_contains "$err" "an address goes with --ip"

say "show: a bundle in order, a key by its type, never its bytes"
cat "$G/server.pem" "$G/inter.pem" "$G/server.key" > "$T/bundle.pem"
run 0 "$CERTCTL" show "$T/bundle.pem"
assert_contains "$out" "$T/bundle.pem: PEM, 2 certificates, 1 private key"
assert_contains "$out" "Order: each certificate is followed by its issuer"
assert_contains "$out" "Private key: EC P-256, no passphrase, the key of certificate [0]"
keyline=$(sed -n 2p "$G/server.key")
assert_not_contains "$out" "$keyline" "show's output (a key line)"
run 0 "$CERTCTL" show "$G/server.key"
assert_contains "$out" "$G/server.key: PEM, 1 private key"
assert_contains "$out" "Private key: EC P-256, no passphrase"
assert_not_contains "$out" "$keyline" "show's output (a key line)"

say "the upload commands gen-cert printed, as they are"
start_certd
sed -n 's/^    certctl upload /upload /p' "$T/gen-cert.out" > "$T/uploads"
assert_eq "$(wc -l < "$T/uploads")" 3 "upload commands printed"
while read -r line; do
	# shellcheck disable=SC2086
	ctl $line > "$T/up.out" 2>&1 || fail "certctl $line: $(cat "$T/up.out")"
done < "$T/uploads"
assert_contains "$(cat "$T/up.out")" "committed server (seq 3) for $D as generation 1"
CUR=$CERTD_STATE/domains/$D/current
assert_eq "$(fp "$CUR/cert.pem")" "$(fp "$G/server.pem")" "committed leaf"

say "Apache serves certd's files; Java 17 trusts them through truststore.jks"
A=$T/apache
PORT=$(free_port)
apache_conf "$A" $PORT
cat >> "$A/httpd.conf" <<EOC
<VirtualHost 127.0.0.1:$PORT>
	ServerName $D
	SSLEngine on
	Include $CUR/apache-ssl.conf
</VirtualHost>
EOC
on_exit 'apache_stop "$A"'
/usr/sbin/apache2 -f "$A/httpd.conf" -k start || fail "apache2 does not start: $(cat "$A/error.log" 2>/dev/null)"
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" ||
	fail "apache2 does not listen: $(cat "$A/error.log")"
javac -d "$T/classes" "$top_srcdir/tests/integration/java/Check.java" || fail "javac"
jcheck() {	# STORE TYPE [PASSWORD]
	java -cp "$T/classes" -Djavax.net.ssl.trustStore="$1" -Djavax.net.ssl.trustStoreType="$2" \
	    ${3:+-Djavax.net.ssl.trustStorePassword="$3"} Check 127.0.0.1 $PORT 2>&1
}
jout=$(jcheck "$CUR/truststore.jks" JKS changeit) || fail "Java with truststore.jks: $jout"
assert_contains "$jout" "anchors 2 type JKS"
assert_contains "$jout" "handshake ok CN=$D"

say "check --domain: certd's root, certd's leaf: OK"
run 0 "$CERTCTL" -s "$CERTD_SOCK" check 127.0.0.1:$PORT --name www.$D --domain $D --state-dir "$CERTD_STATE"
assert_contains "$out" "Trust store: certd's root for $D ($CUR/root.pem), 1 trust anchor"
assert_contains "$out" "OK: a client with this trust store connects to www.$D."
run 0 "$CERTCTL" check 127.0.0.1:$PORT --ca "$G/root.pem"	# by address: the IP SAN

say "the stores certd rendered: read as Java and keytool read them"
for s in truststore.jks truststore.p12; do
	run 0 "$CERTCTL" check 127.0.0.1:$PORT --name $D --truststore "$CUR/$s" --storepass changeit
	assert_contains "$out" "2 trust anchors (root, intermediate)"
	run 0 "$CERTCTL" show "$CUR/$s" --storepass changeit
	shown=$(printf '%s\n' "$out" | sed -n 's/^\[[0-9]*\] Alias name: //p' | sort | tr '\n' ' ')
	listed=$($KT -list -keystore "$CUR/$s" -storepass changeit 2>/dev/null |
	    sed -n 's/^\([^,]*\), .*, trustedCertEntry, *$/\1/p' | sort | tr '\n' ' ')
	assert_eq "$shown" "$listed" "$s: the aliases show lists, against keytool -list"
	assert_eq "$(printf '%s\n' "$out" | grep -c 'Entry type: trustedCertEntry')" 2 "$s entries"
done
run 0 "$CERTCTL" show "$CUR/keystore.p12" --storepass changeit
assert_contains "$out" "Entry type: PrivateKeyEntry (its certificate)"
assert_contains "$out" "1 private key"
run 2 "$CERTCTL" show "$CUR/truststore.jks" --storepass wrong
assert_contains "$err" "the password is wrong"

say "the stores keytool makes: JKS, PKCS#12, and PKCS#12 read without its password"
$KT -importcert -noprompt -alias myroot -file "$G/root.pem" -keystore "$T/kt.jks" \
    -storetype JKS -storepass changeit >/dev/null 2>&1 || fail "keytool JKS"
$KT -importcert -noprompt -alias myroot -file "$G/root.pem" -keystore "$T/kt.p12" \
    -storepass changeit >/dev/null 2>&1 || fail "keytool PKCS12"
run 0 "$CERTCTL" check 127.0.0.1:$PORT --name $D --truststore "$T/kt.jks" --storepass changeit
assert_contains "$out" "the JKS trust store $T/kt.jks, 1 trust anchor (myroot); digest checked"
run 0 "$CERTCTL" check 127.0.0.1:$PORT --name $D --truststore "$T/kt.p12" --storepass changeit
assert_contains "$out" "the PKCS#12 trust store $T/kt.p12, 1 trust anchor (myroot); MAC checked"
run 2 "$CERTCTL" check 127.0.0.1:$PORT --name $D --truststore "$T/kt.p12" --storepass wrong
assert_contains "$err" "the password is wrong: the PKCS#12 MAC does not verify"
# keytool encrypts its certificates: without the password Java sees none.
run 1 "$CERTCTL" check 127.0.0.1:$PORT --name $D --truststore "$T/kt.p12"
assert_contains "$out" "no-anchors: The certificates of the PKCS#12 trust store"
codes 1 $PORT --name $D --truststore "$T/kt.p12"
assert_eq "$problems" "no-anchors!"
assert_contains "$(cause no-anchors)" \
    "The certificates of the PKCS#12 trust store $T/kt.p12 are encrypted, and no password was given"
jout=$(jcheck "$T/kt.p12" PKCS12) && fail "Java trusted a store it cannot read: $jout"
assert_contains "$jout" "anchors 0 type PKCS12"
# OpenSSL 3.0's -nokeys store lacks Java's attribute: no anchor for Java.
openssl pkcs12 -export -nokeys -in "$G/root.pem" -out "$T/ossl.p12" -passout pass:changeit ||
	fail "openssl pkcs12 -export"
run 1 "$CERTCTL" check 127.0.0.1:$PORT --name $D --truststore "$T/ossl.p12" --storepass changeit
assert_contains "$out" "no-anchors: No trust anchor in the PKCS#12 trust store"
assert_contains "$out" "ignored-entries: 1 certificate of the PKCS#12 trust store"
codes 1 $PORT --name $D --truststore "$T/ossl.p12" --storepass changeit
assert_eq "$problems" "no-anchors! ignored-entries"
jout=$(jcheck "$T/ossl.p12" PKCS12 changeit) && fail "Java trusted ossl.p12: $jout"
assert_contains "$jout" "trustAnchors parameter must be non-empty"

say "a commit Apache was not reloaded for: check --domain says stale"
run 0 "$CERTCTL" gen-cert --ca "$G" --domain $D --name www.$D --out "$T/renew"
ctl upload $D --server "$T/renew/server.pem" --key "$T/renew/server.key" > "$T/up.out" 2>&1 ||
	fail "renewal upload: $(cat "$T/up.out")"
assert_contains "$(cat "$T/up.out")" "generation 2"
run 1 "$CERTCTL" -s "$CERTD_SOCK" check 127.0.0.1:$PORT --name www.$D --domain $D --state-dir "$CERTD_STATE"
assert_contains "$out" "FAIL: the server does not send what certd committed for $D."
assert_contains "$out" "stale: The server sends \"CN=$D\" (SHA-256"
assert_not_contains "$out" "does not connect" "a stale leaf still verifies"
"$CERTCTL" -s "$CERTD_SOCK" --json check 127.0.0.1:$PORT --name www.$D --domain $D \
    --state-dir "$CERTD_STATE" > "$T/stale.json"
assert_eq "$(json_get '([p["code"] for p in j["problems"]], j["committed"]["generation"])' < "$T/stale.json")" \
    "(['stale'], 2)" "problems and committed generation"
assert_contains "$(json_get 'j["problems"][0]["cause"]' < "$T/stale.json")" \
    "The server sends \"CN=$D\" (SHA-256 $(fp "$G/server.pem")), not the certificate certd committed for $D in generation 2 (SHA-256 $(fp "$T/renew/server.pem"))"
/usr/sbin/apache2 -f "$A/httpd.conf" -k graceful || fail "apache2 graceful"
# The new generation comes with Apache's next children (PITFALLS: ~1 s).
wait_for 15 "$CERTCTL" -s "$CERTD_SOCK" check 127.0.0.1:$PORT --name www.$D --domain $D \
    --state-dir "$CERTD_STATE" || fail "still stale after apache2 -k graceful"

say "certd stopped: --domain compares with current/cert.pem"
stop_certd
run 0 "$CERTCTL" -s "$CERTD_SOCK" check 127.0.0.1:$PORT --name www.$D --domain $D --state-dir "$CERTD_STATE"
assert_contains "$err" "comparing with $CUR/cert.pem instead"
echo ok

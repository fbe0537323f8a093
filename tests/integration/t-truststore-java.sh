#!/bin/sh
# t-truststore-java.sh: Java 17 and keytool read the trust stores and the
# keystore certd writes (JKS, PKCS#12) and trust a private root through them.
. "$top_srcdir/tests/integration/lib.sh"
need java javac keytool openssl python3

STORETOOL=$top_builddir/tests/bench/storetool
RENDERTOOL=$top_builddir/tests/render-tool
need_built "$STORETOOL" "$TESTPKI" "$RENDERTOOL"
BUNDLE=/etc/ssl/certs/ca-certificates.crt
[ -r "$BUNDLE" ] || skip "$BUNDLE missing (ca-certificates, tests/setup-debian)"

# Not the default: a space and a '+' exercise the password encodings
# (UTF-16BE in the JKS digest, BMPString in the PKCS#12 MAC and PBES2).
PW='s3cr3t p+w!'
pki chain "$T/pki" --domain example.test --inter 2 >/dev/null || fail "testpki chain"
pki chain "$T/other" --domain other.test --inter 0 >/dev/null || fail "testpki chain other"
P=$T/pki

say "write the stores with certd's writers"
"$STORETOOL" jks "$T/truststore.jks" "$PW" "$P/root.pem" "$P/inter1.pem" "$P/inter2.pem" || fail "jks"
"$STORETOOL" p12trust "$T/truststore.p12" "$PW" "$P/root.pem" "$P/inter1.pem" "$P/inter2.pem" || fail "p12trust"
"$STORETOOL" p12key "$T/keystore.p12" "$PW" "$P/server.key" "$P/server.pem" "$P/inter2.pem" "$P/inter1.pem" "$P/root.pem" || fail "p12key"
"$STORETOOL" jks "$T/other.jks" "$PW" "$T/other/root.pem" || fail "jks other"
"$STORETOOL" p12trust "$T/other.p12" "$PW" "$T/other/root.pem" || fail "p12 other"

# keystore.type.compat lets Java load either type under either name, so
# check the bytes: JKS magic, and a DER SEQUENCE for PKCS#12.
magic() { od -An -tx1 -N4 "$1" | tr -d ' \n'; }
assert_eq "$(magic "$T/truststore.jks")" "feedfeed" "truststore.jks magic"
assert_eq "$(magic "$T/truststore.p12" | cut -c1-2)" "30" "truststore.p12 first byte"
assert_eq "$(magic "$T/keystore.p12" | cut -c1-2)" "30" "keystore.p12 first byte"

say "keytool -list -v: every alias a trustedCertEntry"
# keytool's own words; keep the English locale.
KT="keytool -J-Duser.language=en"
# trust_listed FILE TYPE: keytool lists the three aliases root, inter1 and
# inter2, each a trustedCertEntry, and no warning.
trust_listed() {
	out=$($KT -list -v -keystore "$1" -storetype "$2" -storepass "$PW" 2>&1) ||
		fail "keytool $2 trust store: $out"
	assert_contains "$out" "Your keystore contains 3 entries"
	for a in root inter1 inter2; do
		assert_contains "$out" "Alias name: $a
"
	done
	assert_eq "$(printf '%s\n' "$out" | grep -c '^Entry type: trustedCertEntry')" 3 "$2 trustedCertEntry count"
	assert_not_contains "$out" "WARNING"
}
trust_listed "$T/truststore.jks" JKS
trust_listed "$T/truststore.p12" PKCS12

# A wrong password must be caught (the MAC / keyed digest is checked).
out=$($KT -list -keystore "$T/truststore.jks" -storetype JKS -storepass wrong 2>&1) &&
	fail "keytool accepted a wrong JKS password"
assert_contains "$out" "password was incorrect"
out=$($KT -list -keystore "$T/truststore.p12" -storetype PKCS12 -storepass wrong 2>&1) &&
	fail "keytool accepted a wrong PKCS12 password"
assert_contains "$out" "Integrity check failed"

# The other direction: keytool's own JKS passes our reader's digest check.
$KT -importcert -noprompt -alias "Root" -file "$P/root.pem" -keystore "$T/keytool.jks" \
	-storetype JKS -storepass "$PW" >/dev/null 2>&1 || fail "keytool -importcert"
out=$("$STORETOOL" jksread "$T/keytool.jks" "$PW") || fail "jks_read of keytool's JKS"
assert_contains "$out" "root	/CN=certd test root"
"$STORETOOL" jksread "$T/keytool.jks" "wrong" >/dev/null 2>&1 && fail "jks_read accepted a wrong password"

out=$($KT -list -v -keystore "$T/keystore.p12" -storetype PKCS12 -storepass "$PW" 2>&1) ||
	fail "keytool keystore.p12: $out"
assert_contains "$out" "Your keystore contains 1 entry"
assert_contains "$out" "Alias name: server"
assert_contains "$out" "Entry type: PrivateKeyEntry"
assert_contains "$out" "Certificate chain length: 4"
assert_contains "$out" "CN=example.test"

say "openssl reads them: SHA-256 MAC, AES-256-CBC, no RC2"
info=$(openssl pkcs12 -info -in "$T/keystore.p12" -passin "pass:$PW" -noout 2>&1) ||
	fail "openssl pkcs12 keystore: $info"
# Only the structure lines: a certificate's base64 may spell "RC2" by chance.
nopem() { printf '%s\n' "$1" | sed '/-----BEGIN/,/-----END/d'; }
assert_contains "$info" "MAC: sha256"
assert_contains "$info" "AES-256-CBC"
assert_not_contains "$(nopem "$info")" "RC2"
info=$(openssl pkcs12 -info -in "$T/truststore.p12" -passin "pass:$PW" -nokeys 2>&1) ||
	fail "openssl pkcs12 truststore: $info"
assert_contains "$info" "MAC: sha256"
assert_not_contains "$(nopem "$info")" "RC2"
# OpenSSL 3.0 names the attribute but cannot print its OID value ("Unsupported
# tag 6"); test_pkcs12 checks the value, Java's anchor count below its effect.
assert_eq "$(printf '%s\n' "$info" | grep -c '^ *2.16.840.1.113894.746875.1.1: ')" 3 \
	"trusted-key-usage attributes"

say "a private openssl s_server serving leaf + intermediates"
port=$(free_port)
cat "$P/inter2.pem" "$P/inter1.pem" > "$T/served-chain.pem"
openssl s_server -accept "127.0.0.1:$port" -cert "$P/server.pem" -key "$P/server.key" \
	-cert_chain "$T/served-chain.pem" -www -quiet >"$T/s_server.log" 2>&1 &
SPID=$!
on_exit "kill $SPID 2>/dev/null; wait $SPID 2>/dev/null"
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" ||
	fail "s_server did not listen"

javac -d "$T/classes" "$top_srcdir/tests/integration/java/Check.java" || fail "javac Check.java"
check() { java -cp "$T/classes" "$@" Check 127.0.0.1 "$port" 2>&1; }

say "Java trusts our root through truststore.jks"
out=$(check -Djavax.net.ssl.trustStore="$T/truststore.jks" -Djavax.net.ssl.trustStoreType=JKS \
	-Djavax.net.ssl.trustStorePassword="$PW") || fail "JKS handshake: $out"
# 3 anchors loaded from our file, and a private root no system CA signs:
# both prove Java used our store, not cacerts.
assert_contains "$out" "anchors 3 type JKS"
assert_contains "$out" "handshake ok CN=example.test"

say "Java trusts our root through truststore.p12"
out=$(check -Djavax.net.ssl.trustStore="$T/truststore.p12" -Djavax.net.ssl.trustStoreType=PKCS12 \
	-Djavax.net.ssl.trustStorePassword="$PW") || fail "PKCS12 handshake: $out"
assert_contains "$out" "anchors 3 type PKCS12"
assert_contains "$out" "handshake ok CN=example.test"

# Certificate bags are not encrypted, so the anchors are there even when a
# service gives no trustStorePassword (keytool's own files yield 0 then).
out=$(check -Djavax.net.ssl.trustStore="$T/truststore.p12" -Djavax.net.ssl.trustStoreType=PKCS12) ||
	fail "PKCS12 handshake without password: $out"
assert_contains "$out" "anchors 3 type PKCS12"
assert_contains "$out" "handshake ok"

say "a store of ours without that root fails with PKIX"
for f in other.jks:JKS other.p12:PKCS12; do
	out=$(check -Djavax.net.ssl.trustStore="$T/${f%%:*}" -Djavax.net.ssl.trustStoreType="${f#*:}" \
		-Djavax.net.ssl.trustStorePassword="$PW") && fail "${f%%:*} trusted a foreign chain: $out"
	assert_contains "$out" "anchors 1 type ${f#*:}"
	assert_contains "$out" "PKIX path building failed"
done

say "an empty store of ours has no anchors at all"
"$STORETOOL" jks "$T/empty.jks" "$PW" || fail "empty jks"
"$STORETOOL" p12trust "$T/empty.p12" "$PW" || fail "empty p12"
out=$(check -Djavax.net.ssl.trustStore="$T/empty.jks" -Djavax.net.ssl.trustStoreType=JKS \
	-Djavax.net.ssl.trustStorePassword="$PW") && fail "empty JKS trusted the server: $out"
assert_contains "$out" "anchors 0 type JKS"
assert_contains "$out" "trustAnchors parameter must be non-empty"
out=$(check -Djavax.net.ssl.trustStore="$T/empty.p12" -Djavax.net.ssl.trustStoreType=PKCS12 \
	-Djavax.net.ssl.trustStorePassword="$PW") && fail "empty PKCS12 trusted the server: $out"
assert_contains "$out" "anchors 0 type PKCS12"
assert_contains "$out" "trustAnchors parameter must be non-empty"

say "Java serves with keystore.p12; openssl verifies it against our root"
jport=$(free_port)
java -cp "$T/classes" -Djavax.net.ssl.keyStore="$T/keystore.p12" -Djavax.net.ssl.keyStoreType=PKCS12 \
	-Djavax.net.ssl.keyStorePassword="$PW" Check serve "$jport" >"$T/jserver.log" 2>&1 &
JPID=$!
on_exit '[ -z "$JPID" ] || { kill $JPID 2>/dev/null; wait $JPID 2>/dev/null; }'
wait_for 20 grep -q "^listening" "$T/jserver.log" || fail "Java server did not start: $(cat "$T/jserver.log")"
out=$(echo | openssl s_client -connect "127.0.0.1:$jport" -CAfile "$P/root.pem" -verify_return_error \
	-showcerts -servername example.test 2>&1) || fail "s_client against Java: $out"
assert_contains "$out" "Verify return code: 0 (ok)"
# leaf + both intermediates (+ root) came from the keystore's chain
assert_contains "$out" "2 s:"
wait "$JPID" 2>/dev/null || fail "Java server failed: $(cat "$T/jserver.log")"
JPID=""

say "rendered stores with the system CAs: Java and keytool read them"
"$RENDERTOOL" -s "$T/state" example.test 1 "$P/root.pem" "$P/inter1.pem" \
    "$P/inter2.pem" "$P/server.pem" "$P/server.key" || fail "render-tool -s"
G=$T/state/domains/example.test/current
want=$(($(grep -c 'BEGIN CERTIFICATE' "$BUNDLE") + 3))
[ "$want" -gt 100 ] || fail "$BUNDLE holds only $((want - 3)) certificates"
assert_eq "$(magic "$G/truststore.jks")" "feedfeed" "rendered truststore.jks magic"
out=$($KT -list -keystore "$G/truststore.p12" -storetype PKCS12 -storepass changeit 2>&1) ||
	fail "keytool rendered truststore.p12: $out"
assert_eq "$(printf '%s\n' "$out" | grep -c 'trustedCertEntry')" "$want" "rendered p12 entries"
for f in truststore.jks:JKS truststore.p12:PKCS12; do
	out=$(check -Djavax.net.ssl.trustStore="$G/${f%%:*}" -Djavax.net.ssl.trustStoreType="${f#*:}" \
		-Djavax.net.ssl.trustStorePassword=changeit) || fail "rendered ${f%%:*}: $out"
	assert_contains "$out" "anchors $want type ${f#*:}"
	assert_contains "$out" "handshake ok CN=example.test"
done
echo "Java and keytool read every store"

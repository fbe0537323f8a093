#!/bin/sh
# t-check-servers.sh: certctl check against private openssl s_server
# instances on 127.0.0.1, each serving one case of the troubleshooting
# runbooks: leaf only, wrong order, the root served, a wrong name, an IP
# address without an IP SAN, a CN-only certificate, an expired (past-dated)
# certificate, an untrusted root, a self-signed certificate, a weak key and
# SHA-1, a port that does not speak TLS, a port nobody listens on.
# Proves for each: the exit code, the exact set of problems (--json), and
# the cause in the human output.  Where a cause is a claim about clients,
# the client is asked too: Java 17 through certd's own trust store writer,
# curl, openssl s_client.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/checklib.sh"
need openssl java javac keytool curl python3
STORETOOL=$top_builddir/tests/bench/storetool
need_built "$CERTCTL" "$TESTPKI" "$STORETOOL"

check_pki
leaf expired --key ec --cn $D --dns $D --days-from -30 --days-to -2
leaf ipcn --key ec --cn 127.0.0.1 --dns $D
leaf cnonly --key ec --cn $D
leaf weak --key rsa1024 --md sha1 --cn $D --dns $D
pki cert "$T/self.pem" --cn $D --dns $D --eku server --key ec --key-out "$T/self.key" >/dev/null ||
	fail "testpki self-signed"
cat "$P/root.pem" "$P/inter1.pem" > "$T/root-first.pem"
cat "$P/inter1.pem" "$P/root.pem" > "$T/with-root.pem"

# serve NAME CERT KEY CHAIN [s_server options]: a private s_server on a
# free port (CHAIN "" for none), its port in $PORT_NAME.
serve() {
	_n=$1 _c=$2 _k=$3 _ch=$4; shift 4
	_p=$(free_port)
	openssl s_server -quiet -accept "127.0.0.1:$_p" -cert "$_c" -key "$_k" \
	    ${_ch:+-cert_chain "$_ch"} -www "$@" >"$T/s_server.$_n.log" 2>&1 &
	on_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
	eval "PORT_$_n=$_p"
	wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $_p), 1)" ||
		fail "s_server $_n does not listen: $(cat "$T/s_server.$_n.log")"
}
serve good "$P/server.pem" "$P/server.key" "$P/inter1.pem"
serve leafonly "$P/server.pem" "$P/server.key" ""
serve order "$P/server.pem" "$P/server.key" "$T/root-first.pem"
serve withroot "$P/server.pem" "$P/server.key" "$T/with-root.pem"
serve expired "$T/expired.pem" "$T/expired.key" "$P/inter1.pem"
serve ipcn "$T/ipcn.pem" "$T/ipcn.key" "$P/inter1.pem"
serve cnonly "$T/cnonly.pem" "$T/cnonly.key" "$P/inter1.pem"
serve self "$T/self.pem" "$T/self.key" ""
serve weak "$T/weak.pem" "$T/weak.key" "$P/inter1.pem" -cipher 'DEFAULT:@SECLEVEL=0'
# TLS 1.2 with 1024-bit finite-field DH, which Debian's clients refuse
openssl genpkey -genparam -algorithm DH -pkeyopt dh_paramgen_prime_len:1024 \
    -out "$T/dh1024.pem" 2>/dev/null || fail "openssl genpkey DH"
leaf rsa --key rsa --cn $D --dns $D	# DHE signs with RSA only
serve dh "$T/rsa.pem" "$T/rsa.key" "$P/inter1.pem" -tls1_2 \
    -cipher 'DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0' -dhparam "$T/dh1024.pem"

# chk RC PORT PROBLEMS [check options]: certctl check, its output in $out,
# then expect_problems with the same options; both exit RC
chk() {
	_crc=$1 _cp=$2 _cwant=$3; shift 3
	run "$_crc" "$CERTCTL" check "127.0.0.1:$_cp" "$@"
	expect_problems "$_crc" "$_cp" "$_cwant" "$@"
}
ROOT="--ca $P/root.pem"

say "a complete chain in order: OK, exit 0, every certificate described"
chk 0 $PORT_good "" --name $D $ROOT
assert_contains "$out" "OK: a client with this trust store connects to $D."
assert_contains "$out" "The server sends 2 certificates:"
assert_contains "$out" "Chain: complete, in order; reaches a trust anchor."
assert_contains "$out" "SubjectAlternativeName: DNS:$D, DNS:*.$D"
assert_contains "$out" "Key: EC P-256; signature: sha256WithRSAEncryption; not a CA"
fpr=$(openssl x509 -in "$P/server.pem" -noout -fingerprint -sha256 | cut -d= -f2)
assert_contains "$out" "SHA256: $fpr" "the leaf's fingerprint, as openssl gives it"
assert_not_contains "$out" "Worth fixing"
assert_eq "$(json_get '(j["ok"], j["complete"], j["in_order"], len(j["served"]), j["served"][1]["role"], j["tls"]["protocol"])' < "$T/check.json")" \
    "(True, True, True, 2, 'intermediate CA', 'TLSv1.3')" "--json of the good chain"

say "leaf only: the intermediate is missing"
chk 1 $PORT_leafonly "intermediate-missing!" --name $D $ROOT
assert_contains "$out" "FAIL: a client with this trust store does not connect to $D."
assert_contains "$out" "intermediate-missing: The chain the server sends stops at"
inter=$(openssl x509 -in "$P/inter1.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
assert_contains "$(cause intermediate-missing)" \
    "its issuer \"$inter\" is neither served nor in the PEM trust store $P/root.pem"
assert_contains "$(cause intermediate-missing)" "SSLCertificateChainFile chain.pem"

say "Java agrees: root-only store fails, certd's root+intermediate store connects"
"$STORETOOL" jks "$T/root.jks" changeit "$P/root.pem" || fail "storetool jks"
"$STORETOOL" jks "$T/both.jks" changeit "$P/root.pem" "$P/inter1.pem" || fail "storetool jks"
javac -d "$T/classes" "$top_srcdir/tests/integration/java/Check.java" || fail "javac"
java_check() {	# STORE PORT
	java -cp "$T/classes" -Djavax.net.ssl.trustStore="$1" -Djavax.net.ssl.trustStoreType=JKS \
	    -Djavax.net.ssl.trustStorePassword=changeit Check 127.0.0.1 "$2" 2>&1
}
jout=$(java_check "$T/root.jks" $PORT_leafonly) && fail "Java trusted a leaf without its intermediate: $jout"
assert_contains "$jout" "PKIX path building failed"
codes 1 $PORT_leafonly --name $D --truststore "$T/root.jks" --storepass changeit
jout=$(java_check "$T/both.jks" $PORT_leafonly) || fail "Java with root+intermediate: $jout"
expect_problems 0 $PORT_leafonly "intermediate-missing" --name $D --truststore "$T/both.jks" --storepass changeit
assert_contains "$(cause intermediate-missing)" \
    "this client connects only because the JKS trust store $T/both.jks holds it"

say "root first, then the intermediate: out of order, root served; Java sorts it out"
chk 0 $PORT_order "order root-served" --name $D $ROOT
assert_contains "$out" "Chain: complete, out of order"
assert_contains "$out" "order: The server sends its chain out of order: [0]"
jout=$(java_check "$T/root.jks" $PORT_order) || fail "Java refused the out-of-order chain: $jout"
assert_contains "$jout" "handshake ok CN=$D"

say "leaf, intermediate, root: complete and in order, the root needless"
chk 0 $PORT_withroot "root-served" --name $D $ROOT
assert_contains "$out" "root-served: The server also sends the root"

say "a name the certificate does not cover"
chk 1 $PORT_good "name-mismatch!" --name other.test $ROOT
assert_contains "$out" "name-mismatch: The certificate is for DNS:$D"
assert_contains "$(cause name-mismatch)" "The certificate is for DNS:$D, DNS:*.$D (CN=$D), not for other.test."
chk 0 $PORT_good "" --name www.$D $ROOT	# the wildcard covers one label

say "an IP address without an IP SAN (only in the CN); curl refuses it too"
chk 1 $PORT_ipcn "ip-san-missing!" $ROOT
assert_contains "$out" "as a client asking for 127.0.0.1 (no SNI)"
assert_contains "$out" "ip-san-missing: The client connects to the IP address"
assert_contains "$(cause ip-san-missing)" "The certificate has DNS:$D, and the address only in its subject"
assert_contains "$(cause ip-san-missing)" "No subject alternative names matching IP address 127.0.0.1 found"
cout=$(curl -sS --cacert "$P/root.pem" "https://127.0.0.1:$PORT_ipcn/" 2>&1) &&
	fail "curl accepted an address without an IP SAN: $cout"
assert_contains "$cout" "no alternative certificate subject name matches"

say "a name only in the CN: a failure, though curl (OpenSSL) still accepts it"
chk 1 $PORT_cnonly "cn-only!" --name $D $ROOT
assert_contains "$out" "cn-only: The certificate names $D only in its subject"
assert_contains "$(cause cn-only)" "only in its subject (CN=$D), with no subjectAltName."
curl -sS -o /dev/null --cacert "$P/root.pem" --resolve "$D:$PORT_cnonly:127.0.0.1" \
    "https://$D:$PORT_cnonly/" || fail "curl refused a CN-only certificate (the message says it accepts)"

say "an expired server certificate (past-dated): the dates, and Java's words"
chk 1 $PORT_expired "expired!" --name $D $ROOT
assert_contains "$out" "EXPIRED 2 days ago"
until=$(date -u -d "$(openssl x509 -in "$T/expired.pem" -noout -enddate | cut -d= -f2)" '+%Y-%m-%d %H:%M UTC')
assert_contains "$(cause expired)" "The server certificate \"CN=$D\" expired on $until, 2 days ago"
jout=$(java_check "$T/root.jks" $PORT_expired) && fail "Java accepted an expired certificate: $jout"
assert_contains "$jout" "validity check failed"
assert_contains "$(cause expired)" "validity check failed"

say "a root the trust store does not hold: the store is named"
chk 1 $PORT_good "untrusted-root!" --name $D --ca "$T/other/root.pem"
assert_contains "$out" "untrusted-root: The chain leads to"
assert_contains "$(cause untrusted-root)" "which is not in the PEM trust store $T/other/root.pem"
chk 1 $PORT_withroot "untrusted-root! root-served" --name $D --ca "$T/other/root.pem"
assert_contains "$out" "untrusted-root: The chain leads to the root"
# Without --ca: the system store, named as such.
chk 1 $PORT_good "untrusted-root!" --name $D
assert_contains "$out" "Trust store: the system trust store ("
assert_contains "$out" "untrusted-root"

say "a self-signed server certificate, and the same trusted as itself"
chk 1 $PORT_self "self-signed!" --name $D $ROOT
assert_contains "$out" "self-signed: The server certificate \"CN=$D\" is"
expect_problems 0 $PORT_self "" --name $D --ca "$T/self.pem"
# StackState's runbook: fetch the certificate, keytool -import it into a
# store of one's own, point the client at that store.
run 1 "$CERTCTL" check 127.0.0.1:$PORT_self --name $D --save "$T/served.pem"
assert_eq "$(openssl x509 -in "$T/served.pem" -noout -fingerprint -sha256)" \
    "$(openssl x509 -in "$T/self.pem" -noout -fingerprint -sha256)" "the saved certificate"
run 1 "$CERTCTL" check 127.0.0.1:$PORT_self --name $D --save "$T/served.pem"
assert_contains "$err" "cannot write $T/served.pem: File exists"
keytool -importcert -noprompt -alias site -file "$T/served.pem" -keystore "$T/custom.p12" \
    -storepass changeit >/dev/null 2>&1 || fail "keytool -importcert"
expect_problems 0 $PORT_self "" --name $D --truststore "$T/custom.p12" --storepass changeit

say "RSA-1024 and SHA-1: refused at security level 2, as openssl s_client does"
chk 1 $PORT_weak "weak-key! weak-signature!" --name $D $ROOT
assert_contains "$out" "Key: RSA 1024; signature: sha1WithRSAEncryption"
assert_contains "$(cause weak-key)" "(OpenSSL: \"EE certificate key too weak\")"
assert_contains "$(cause weak-signature)" "signed with sha1WithRSAEncryption"
sout=$(echo | openssl s_client -connect 127.0.0.1:$PORT_weak -servername $D -CAfile "$P/root.pem" \
    -verify_return_error -auth_level 2 2>&1) && fail "s_client accepted RSA-1024 at level 2"
assert_contains "$sout" "EE certificate key too weak"

say "1024-bit DH key exchange: curl refuses it, and so does check"
chk 1 $PORT_dh "weak-dh!" --name $D $ROOT
assert_contains "$out" "TLSv1.2, DHE-"
assert_contains "$out" "key exchange DH 1024"
cout=$(curl -sS -o /dev/null --cacert "$P/root.pem" --resolve "$D:$PORT_dh:127.0.0.1" \
    "https://$D:$PORT_dh/" 2>&1) && fail "curl accepted 1024-bit DH"
assert_contains "$cout" "dh key too small"
assert_contains "$(cause weak-dh)" "(\"dh key too small\")"

say "no TLS on the port, nobody on the port, no such name: exit 1, said plainly"
mkdir -p "$T/www"
HTTP_PORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$HTTP_PORT" >"$T/http.log" 2>&1 &
on_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/" || fail "python http.server"
expect_problems 1 $HTTP_PORT "connect!" --name $D $ROOT
assert_contains "$(cause connect)" "TLS handshake failed: the server does not speak TLS on this port"
DEAD=$(free_port)
expect_problems 1 $DEAD "connect!" --name $D $ROOT
assert_contains "$(cause connect)" "Connection refused (nothing listens there)"
run 1 "$CERTCTL" check no-such-host.invalid $ROOT
assert_contains "$out" "connect: cannot resolve no-such-host.invalid"
echo ok

#!/bin/sh
# t-render-files: what the openssl CLI says about a rendered generation: the
# chain verifies, the key matches the certificate, modes and group are those
# the README lists, the keystore opens with its password, the manifest is true.
. "$top_srcdir/tests/integration/lib.sh"
need openssl jq sha256sum keytool apache2
[ "$(id -u)" -eq 0 ] || skip "needs root to start apache2"
RT=$top_builddir/tests/render-tool
need_built "$RT"

if getent group ssl-cert >/dev/null; then
	keymode="640 ssl-cert"
else
	keymode="600 $(id -gn)"
fi

check_domain() {	# check_domain DOMAIN KEYTYPE NINTER GEN
	d=$1 kt=$2 ni=$3 gen=$4
	say "$d: $kt key, $ni intermediates, generation $gen"
	p=$T/pki-$d
	pki chain "$p" --domain "$d" --inter "$ni" --key "$kt" || fail "testpki"
	certs="$p/root.pem"
	i=1
	while [ "$i" -le "$ni" ]; do certs="$certs $p/inter$i.pem"; i=$((i + 1)); done
	# shellcheck disable=SC2086
	"$RT" "$T/state" "$d" "$gen" $certs "$p/server.pem" "$p/server.key" ||
	    fail "render-tool failed"
	g=$T/state/domains/$d/current
	assert_eq "$(readlink "$T/state/domains/$d/current")" "gen-$gen" "current link"
	"$RT" -q "$T/state" "$d" >/dev/null || fail "render_check says gen-$gen is incomplete"

	# The chain as a client builds it from what Apache serves.  Without
	# intermediates chain.pem is empty, which -untrusted refuses.
	untrusted="-untrusted $g/chain.pem"
	[ "$ni" -gt 0 ] || untrusted=""
	# shellcheck disable=SC2086
	out=$(openssl verify -x509_strict -purpose sslserver -verify_hostname "$d" \
	    -CAfile "$g/root.pem" $untrusted "$g/cert.pem" 2>&1) ||
	    fail "openssl verify: $out"
	assert_eq "$out" "$g/cert.pem: OK" "openssl verify"
	# chain.pem has no root; fullchain = cert + chain.
	if [ "$ni" -gt 0 ]; then
		openssl verify -CAfile "$g/chain.pem" "$g/cert.pem" >/dev/null 2>&1 &&
		    fail "chain.pem alone verifies: it holds the root"
	fi
	cat "$g/cert.pem" "$g/chain.pem" | cmp -s - "$g/fullchain.pem" ||
	    fail "fullchain.pem is not cert.pem + chain.pem"
	cat "$g/fullchain.pem" "$g/key.pem" | cmp -s - "$g/bundle.pem" ||
	    fail "bundle.pem is not fullchain.pem + key.pem"
	assert_eq "$(grep -c 'BEGIN CERTIFICATE' "$g/chain.pem")" "$ni" "certificates in chain.pem"

	# The key: PKCS#8, unencrypted, matching the certificate.
	assert_eq "$(head -n 1 "$g/key.pem")" "-----BEGIN PRIVATE KEY-----" "key.pem header"
	a=$(openssl pkey -in "$g/key.pem" -pubout) || fail "openssl pkey cannot read key.pem"
	b=$(openssl x509 -in "$g/cert.pem" -noout -pubkey)
	assert_eq "$a" "$b" "public key of key.pem vs cert.pem"
	c=$(openssl pkcs12 -in "$g/keystore.p12" -passin pass:changeit -nocerts -nodes 2>/dev/null |
	    openssl pkey -pubout) || fail "keystore.p12 does not open with its password"
	assert_eq "$c" "$b" "public key in keystore.p12"
	assert_eq "$(openssl pkcs12 -in "$g/keystore.p12" -passin pass:changeit -nokeys 2>/dev/null |
	    grep -c 'BEGIN CERTIFICATE')" "$((ni + 2))" "certificates in keystore.p12"
	openssl pkcs12 -in "$g/keystore.p12" -passin pass:wrong -nokeys >/dev/null 2>&1 &&
	    fail "keystore.p12 opens with a wrong password"

	# Modes: secrets 0640 root:ssl-cert, the rest world-readable.
	for f in key.pem bundle.pem keystore.p12; do
		assert_eq "$(stat -c '%a %G' "$g/$f")" "$keymode" "$f mode and group"
		assert_eq "$(stat -c '%U' "$g/$f")" "$(id -un)" "$f owner"
	done
	for f in cert.pem chain.pem fullchain.pem root.pem truststore.jks \
	    truststore.p12 apache-ssl.conf manifest.json; do
		assert_eq "$(stat -c '%a' "$g/$f")" "644" "$f mode"
	done
	assert_eq "$(stat -c '%a' "$T/state/domains/$d/gen-$gen")" "755" "gen dir mode"

	# The manifest tells the truth about every file (checked with sha256sum).
	assert_eq "$(jq -r .generation "$g/manifest.json")" "$gen" "manifest generation"
	assert_eq "$(jq -r .domain "$g/manifest.json")" "$d" "manifest domain"
	leaf=$(openssl x509 -in "$g/cert.pem" -outform DER | sha256sum | cut -d' ' -f1)
	assert_eq "$(jq -r .leaf_sha256 "$g/manifest.json")" "$leaf" "manifest leaf_sha256"
	n=0
	for f in $(jq -r '.files[].name' "$g/manifest.json"); do
		n=$((n + 1))
		assert_eq "$(jq -r --arg f "$f" '.files[] | select(.name == $f) | .sha256' "$g/manifest.json")" \
		    "$(sha256sum < "$g/$f" | cut -d' ' -f1)" "manifest sha256 of $f"
		assert_eq "$(jq -r --arg f "$f" '.files[] | select(.name == $f) | .size' "$g/manifest.json")" \
		    "$(stat -c %s "$g/$f")" "manifest size of $f"
	done
	assert_eq "$n" 10 "files in the manifest"

	# apache-ssl.conf points at current/, so an Include never changes.
	assert_contains "$(cat "$g/apache-ssl.conf")" \
	    "SSLCertificateKeyFile \"$T/state/domains/$d/current/key.pem\""
}

check_domain www.example.com rsa 2 1
check_domain ec.example.net ec256 1 4
check_domain direct.example.org ec384 0 2

# A second generation of a domain: current follows, the first stays whole.
say "second generation"
p=$T/pki-www.example.com
"$RT" "$T/state" www.example.com 2 "$p/root.pem" "$p/inter1.pem" \
    "$p/inter2.pem" "$p/server.pem" "$p/server.key" || fail "render gen 2"
assert_eq "$(readlink "$T/state/domains/www.example.com/current")" "gen-2" "current after gen 2"
openssl verify -CAfile "$T/state/domains/www.example.com/gen-1/root.pem" \
    -untrusted "$T/state/domains/www.example.com/gen-1/chain.pem" \
    "$T/state/domains/www.example.com/gen-1/cert.pem" >/dev/null || fail "gen-1 damaged"
# Java's keytool reads both trust stores as trusted-certificate entries.
say "keytool -list on the trust stores"
g=$T/state/domains/www.example.com/current
for f in truststore.jks:JKS truststore.p12:PKCS12; do
	out=$(keytool -J-Duser.language=en -list -keystore "$g/${f%%:*}" \
	    -storetype "${f#*:}" -storepass changeit 2>&1) ||
	    fail "keytool cannot read ${f%%:*}: $out"
	assert_eq "$(echo "$out" | grep -c trustedCertEntry)" 3 "trusted entries in ${f%%:*}"
	assert_contains "$out" "root," "${f%%:*} aliases"
done

# A real Apache that Includes apache-ssl.conf serves the rendered chain.
say "apache2 with Include apache-ssl.conf"
. "$top_srcdir/tests/integration/apache.sh"
port=$(free_port)
apache_conf "$T/apache" $port
cat >> "$T/apache/httpd.conf" <<EOF
<VirtualHost 127.0.0.1:$port>
  SSLEngine on
  Include "$T/state/domains/www.example.com/current/apache-ssl.conf"
</VirtualHost>
EOF
on_exit 'apache_stop "$T/apache"'
apache2 -f "$T/apache/httpd.conf" -k start || fail "apache2 does not start with the rendered files"
wait_for 10 sh -c "echo | openssl s_client -connect 127.0.0.1:$port" ||
    fail "apache2 does not answer on $port: $(tail -n 5 "$T/apache/error.log")"
out=$(echo | openssl s_client -connect "127.0.0.1:$port" -servername www.example.com \
    -CAfile "$g/root.pem" -verify_return_error -verify_hostname www.example.com \
    -showcerts 2>&1) || fail "TLS to apache2 does not verify: $out"
assert_contains "$out" "Verify return code: 0 (ok)"
# Served: leaf and both intermediates, not the root.
assert_eq "$(echo "$out" | grep -c 'BEGIN CERTIFICATE')" 3 "certificates apache2 serves"
echo "all rendered files check out"

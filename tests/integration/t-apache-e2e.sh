#!/bin/sh
# t-apache-e2e.sh: certd provisions a real Apache.  A private apache2 (root
# parent, www-data children, 127.0.0.1 on free ports) has one TLS vhost that
# Includes certd's current/apache-ssl.conf and one that reads CloudStack's
# publish paths (cert_apache.crt/.key/_chain.crt, here under $T).  The
# dependent runs apache2 -t, then -k graceful, then verifies the new leaf.
# Proves: after the CloudStack upload sequence openssl s_client (strict),
# curl and Java 17 (truststore.jks) accept the served chain, with the
# intermediate; a renewal changes the served leaf on both vhosts; a failed
# verify rolls back and Apache serves the previous leaf again.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/apache.sh"
need apache2 openssl curl java javac
[ "$(id -u)" -eq 0 ] || skip "needs root to start apache2"
need_built "$CERTD"

dependent_fixture
PORT_CS=$(free_port)
A=$T/apache
mkdir -p "$T/etc/ssl/certs" "$T/etc/ssl/private"

CONF=$A/httpd.conf
apache_conf "$A" $PORT $PORT_CS
cat >> "$CONF" <<EOC
# Until certd's first commit the ports answer plain HTTP; the TLS vhosts
# appear with the first generation, on the dependent's graceful.
<IfFile $CUR/apache-ssl.conf>
<VirtualHost 127.0.0.1:$PORT>
	ServerName $D
	SSLEngine on
	Include $CUR/apache-ssl.conf
</VirtualHost>
<VirtualHost 127.0.0.1:$PORT_CS>
	ServerName $D
	SSLEngine on
	SSLCertificateFile $T/etc/ssl/certs/cert_apache.crt
	SSLCertificateKeyFile $T/etc/ssl/private/cert_apache.key
	SSLCertificateChainFile $T/etc/ssl/certs/cert_apache_chain.crt
</VirtualHost>
</IfFile>
EOC
on_exit 'apache_stop "$A"'

# Another server on another port: a verify pointed there must fail.
tls_decoy "$PORT_OTHER" "$T/other"

certd_conf() {	# the verify target
	cat <<EOC
[domain $D]
publish_cert = $T/etc/ssl/certs/cert_apache.crt
publish_key = $T/etc/ssl/private/cert_apache.key
publish_chain = $T/etc/ssl/certs/cert_apache_chain.crt

[dependent apache]
configtest = /usr/sbin/apache2 -f $CONF -t
exec = /usr/sbin/apache2 -f $CONF -k graceful
$(verify_keys "$@")
timeout = 20s
EOC
}
# serving PORT CERT: a fresh connection to PORT gets CERT's leaf.
serving() { [ "$(served_fp "$1" $D)" = "$(cert_fp "$2")" ]; }

# Apache runs before certd commits anything, as on a real host: certd's
# job is the reload, not starting the server.
/usr/sbin/apache2 -f "$CONF" -k start || fail "apache2 does not start: $(cat "$A/error.log" 2>/dev/null)"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$PORT/" ||
	fail "apache2 does not answer on $PORT: $(cat "$A/error.log" 2>/dev/null)"

start_certd "$(certd_conf $PORT)"

say "CloudStack sequence: root, intermediate, server + key"
up root 1 "$T/a/root.pem" >/dev/null || fail "upload root: $(cat "$T/api.body")"
up intermediate1 2 "$T/a/inter1.pem" >/dev/null || fail "upload inter: $(cat "$T/api.body")"
up server 3 "$T/a/server.pem" "$T/a/server.key" >/dev/null ||
	fail "upload server: $(cat "$T/api.body")"
wait_for 15 serving $PORT "$T/a/server.pem" ||
	fail "Apache does not serve the first leaf; apache2 processes:
$(ps -eo pid,ppid,pgid,sid,user,stat,args | grep '[a]pache2')
error.log: $(cat "$A/error.log" 2>/dev/null)"
assert_eq "$(readlink "$CUR")" gen-1

say "openssl s_client -verify_return_error: leaf and intermediate"
out=$(echo | openssl s_client -connect 127.0.0.1:$PORT -servername $D \
	-verify_return_error -verify_hostname $D -CAfile "$T/a/root.pem" -showcerts 2>&1) ||
	fail "s_client: $out"
assert_contains "$out" "Verify return code: 0 (ok)"
assert_eq "$(printf '%s\n' "$out" | grep -c 'BEGIN CERTIFICATE')" 2 "certificates served (leaf + intermediate)"
# The second certificate served is our intermediate, byte for byte.
printf '%s\n' "$out" | awk '/BEGIN CERT/ { n++ } n == 2 { print } /END CERT/ && n == 2 { exit }' > "$T/served-inter.pem"
assert_eq "$(cert_fp "$T/served-inter.pem")" "$(cert_fp "$T/a/inter1.pem")" "served intermediate"

say "curl --cacert root.pem"
out=$(curl -sS --cacert "$T/a/root.pem" --resolve $D:$PORT:127.0.0.1 "https://$D:$PORT/" 2>&1) ||
	fail "curl: $out"
assert_eq "$out" "hello from apache"

say "CloudStack publish paths serve the same chain"
[ -L "$T/etc/ssl/certs/cert_apache.crt" ] || fail "cert_apache.crt is not a symlink"
out=$(curl -sS --cacert "$T/a/root.pem" --resolve $D:$PORT_CS:127.0.0.1 "https://$D:$PORT_CS/" 2>&1) ||
	fail "curl CloudStack vhost: $out"
serving $PORT_CS "$T/a/server.pem" || fail "CloudStack vhost serves another leaf"

say "Java 17 with certd's truststore.jks"
mkdir -p "$T/classes"
javac -d "$T/classes" "$top_srcdir/tests/integration/java/Check.java" || fail "javac"
out=$(java -cp "$T/classes" -Djavax.net.ssl.trustStore="$CUR/truststore.jks" \
    -Djavax.net.ssl.trustStoreType=JKS -Djavax.net.ssl.trustStorePassword=changeit \
    Check 127.0.0.1 $PORT 2>&1) || fail "java: $out"
# Our file was read (2 anchors: root and intermediate), and trusted.
assert_contains "$out" "anchors 2"
assert_contains "$out" "handshake ok CN=$D"

say "renewal: one upload, the served leaf changes on both vhosts"
t0=$(date +%s%N)
up server 3 "$T/b.pem" "$T/b.key" >/dev/null || fail "upload b: $(cat "$T/api.body")"
wait_for 15 serving $PORT "$T/b.pem" || fail "Apache still serves $(served_fp $PORT $D)"
echo "new leaf served $(( ($(date +%s%N) - t0) / 1000000 )) ms after the upload request"
wait_for 5 serving $PORT_CS "$T/b.pem" || fail "CloudStack vhost still serves the old leaf"
current_is_2() { [ "$(readlink "$CUR")" = gen-2 ]; }
wait_for 10 current_is_2 || fail "current is $(readlink "$CUR")"
curl -sS --cacert "$T/a/root.pem" --resolve $D:$PORT:127.0.0.1 "https://$D:$PORT/" >/dev/null ||
	fail "curl after renewal"
st=$(api GET /v1/status)
assert_contains "$st" "verify" "status shows the verify step"

say "verify against a server with another certificate: rollback"
stop_certd
start_certd "$(certd_conf $PORT_OTHER 2s)"
# The answer comes when the dependents are done: gen-3 committed, the
# verify failed, gen-2 current again.
out=$(up server 3 "$T/c.pem" "$T/c.key") || fail "upload c: $out"
assert_eq "$(echo "$out" | json_get '(j["generation"], j["reload"]["result"], j["reload"]["generation"])')" \
    "(3, 'rolled-back', 2)" "commit, result and generation after a failed verify"
assert_contains "$(echo "$out" | json_get '[s["step"] for s in j["reload"]["steps"] if not s["ok"]]')" \
    '"verify"' "failed steps"
test -e "$CERTD_STATE/domains/$D/gen-3" || fail "no gen-3 was committed"
assert_eq "$(readlink "$CUR")" gen-2 "current after the rollback"
st=$(api GET /v1/status) || fail "status"
assert_contains "$st" "rolled" "status after the rollback"
# The rollback reloaded Apache with gen-2: the previous leaf, never c.
wait_for 10 serving $PORT "$T/b.pem" || fail "Apache serves $(served_fp $PORT $D) after the rollback"
serving $PORT "$T/c.pem" && fail "Apache serves the rolled-back leaf"
wait_for 5 serving $PORT_CS "$T/b.pem" || fail "CloudStack vhost does not serve b after the rollback"
[ "$(cert_fp "$T/etc/ssl/certs/cert_apache.crt")" = "$(cert_fp "$T/b.pem")" ] ||
	fail "publish link does not point at the previous certificate"
echo ok

#!/bin/sh
# t-tomcat-dependent.sh: certd renews a real Tomcat 10.1 (Debian 12's
# tomcat10) without restarting it.  A private Tomcat (tomcat.sh: its own
# CATALINA_BASE under $T, HTTPS and the manager on 127.0.0.1) reads
# certd's current/keystore.p12 and asks for client certificates against
# certd's current/truststore.p12.  The dependent is the documented one:
# exec curl with a -K file (user and URL, mode 0600: no password in argv)
# GETs the manager's text API sslReload?tlsHostName=NAME, then verify.
# Proves: the first fresh connection after certctl returns gets the new
# leaf from the same JVM, and a Java 17 client trusting only certd's
# truststore.p12 accepts it; a failing verify rolls back and Tomcat serves
# the old leaf on the first fresh connection; a FAIL from the manager (an
# unknown host name, HTTP 200, curl exits 0) fails the step at once
# (exec_expect = OK -) and rolls back; the manager's answers are in the
# steps.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/tomcat.sh"
need java javac openssl python3 curl
[ -x "$TOMCAT_HOME/bin/catalina.sh" ] || skip "tomcat10 not installed (tests/setup-debian)"
[ -d "$TOMCAT_ADMIN/manager" ] || skip "tomcat10-admin not installed (tests/setup-debian)"
[ "$(id -u)" -eq 0 ] || skip "needs root"
need_built "$CERTD" "$CERTCTL"

dependent_fixture
MPORT=$(free_port)
TC=$T/tomcat

# curl_conf HOSTNAME: the -K file the dependent's curl reads.
curl_conf() {
	umask 077
	cat > "$T/tomcat.curl" <<EOC
user = "$(cat "$TC/manager.user"):$(cat "$TC/manager.pass")"
url = "http://127.0.0.1:$MPORT/manager/text/sslReload?tlsHostName=$1"
EOC
	umask 022
}
certd_conf() {	# VERIFY_PORT [VERIFY_TIMEOUT]
	cat <<EOC
[dependent tomcat]
exec = /usr/bin/curl -sS --fail-with-body --max-time 20 -K $T/tomcat.curl
exec_expect = OK -
$(verify_keys "$1" "${2:-10s}")
timeout = 30s
domains = $D
EOC
}
first_conn() {
	assert_served "$PORT" $D "$1"
}
same_jvm() {
	assert_eq "$(cat "$TC/tomcat.pid")" "$PID" "tomcat pid"
	kill -0 "$PID" || fail "the JVM $PID is gone"
}
step_ms() {	# the reload step's duration in certctl's output
	printf '%s\n' "$out" | awk '$2 == "reload" { print $4; exit }'
}

say "first chain, then Tomcat starts on certd's keystore.p12"
start_certd ""
cat "$T/a/root.pem" "$T/a/inter1.pem" "$T/a/server.pem" > "$T/a-bundle.pem"
run 0 ctl upload $D --bundle "$T/a-bundle.pem" --key "$T/a/server.key"
tomcat_conf "$TC" "$PORT" "$MPORT" "$CUR/keystore.p12" $D changeit "$CUR/truststore.p12"
on_exit 'tomcat_stop "$TC"'
tomcat_start "$TC" || fail "tomcat does not start: $(tail -n 30 "$TC/logs/catalina.out")"
PID=$(cat "$TC/tomcat.pid")
first_conn "$T/a/server.pem"
stop_certd
curl_conf $D
start_certd "$(certd_conf "$PORT")"

say "renewal: sslReload, same JVM"
for l in b c; do
	run 0 ctl upload $D --server "$T/$l.pem" --key "$T/$l.key"
	first_conn "$T/$l.pem"
	same_jvm
	echo "$out"
	assert_contains "$out" "OK - Reloaded TLS configuration for [$D]"
	echo "sslReload step: $(step_ms) ms"
done

say "Java 17 trusting only certd's truststore.p12"
mkdir -p "$T/classes"
javac -d "$T/classes" "$top_srcdir/tests/integration/java/Check.java" || fail "javac"
out=$(java -cp "$T/classes" -Djavax.net.ssl.trustStore="$CUR/truststore.p12" \
    -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword=changeit \
    Check 127.0.0.1 "$PORT" 2>&1) || fail "java: $out"
echo "$out"
# Our file was read (2 anchors: root and intermediate), and trusted.
assert_contains "$out" "anchors 2"
assert_contains "$out" "handshake ok CN=$D"
# Tomcat read certd's trust store too: it names our root as acceptable.
out=$(echo | openssl s_client -connect "127.0.0.1:$PORT" -servername $D 2>&1)
assert_contains "$out" "Acceptable client certificate CA names"
assert_contains "$out" "$(openssl x509 -noout -subject -in "$T/a/root.pem" | sed 's/^subject=//')"

say "a failing verify rolls back: the old leaf on the first fresh connection"
upload_rolls_back "$T/d.pem" "$T/d.key"
first_conn "$T/c.pem"
same_jvm

say "the manager says FAIL (HTTP 200, curl exits 0): exec_expect fails it"
stop_certd
curl_conf nosuch.test
start_certd "$(certd_conf "$PORT")"
t0=$(date +%s)
run 1 ctl upload $D --server "$T/d.pem" --key "$T/d.key"
echo "$out$err"
assert_contains "$out$err" "the output does not start with \"OK -\""
assert_contains "$out$err" "FAIL - Failed to reload TLS configuration"
assert_contains "$out$err" "rolled back"
[ $(($(date +%s) - t0)) -lt 5 ] || fail "the rollback waited for verify_timeout"
first_conn "$T/c.pem"
same_jvm
echo ok

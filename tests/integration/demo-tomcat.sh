#!/bin/sh
# demo-tomcat.sh: Tomcat 10.1 (Debian 12) takes a new keystore with no
# restart.  A private Tomcat (tomcat.sh) reads <domain>/current/keystore.p12
# of a certd-like domain directory.  Proves: after `current` moves to
# another generation, the manager's `sslReload?tlsHostName=NAME` makes the
# next fresh connection get the new leaf (same JVM); a failed reload (wrong
# password, missing file, no alias "server", garbage) leaves the old leaf
# served; JMX reloadSslHostConfigs (through the manager's jmxproxy) does the
# same; a start with an unreadable keystore runs on without the TLS port,
# and sslReload then answers OK all the same.  Records the manager's exact
# answers, and measures Tomcat's start and the reload.  Not a t-*.sh: run
# it by hand,
#   tests/integration/run demo-tomcat          DEMO_ROUNDS (default 10)
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/tomcat.sh"
. "$top_srcdir/tests/integration/fakegen.sh"
need java openssl python3 curl keytool
[ -x "$TOMCAT_HOME/bin/catalina.sh" ] || skip "tomcat10 not installed (tests/setup-debian)"
[ -d "$TOMCAT_ADMIN/manager" ] || skip "tomcat10-admin not installed (tests/setup-debian)"

D=example.test
PORT=$(free_port)
MPORT=$(free_port)
TC=$T/tomcat
DOM=$T/state/domains/$D
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

fake_pki "$DOM" 3
FAKEGEN_PASS=other fake_gen "$DOM" 4 "$T/c.pem" "$T/c.key" "$T/a/chain.pem" || fail "gen-4"
mkdir -p "$DOM/gen-5"			# no keystore.p12
fake_gen "$DOM" 6 "$T/c.pem" "$T/c.key" "$T/a/chain.pem" || fail "gen-6"
openssl pkcs12 -export -in "$T/c.pem" -inkey "$T/c.key" -certfile "$T/a/chain.pem" \
	-name tomcat -passout pass:changeit -out "$DOM/gen-6/keystore.p12" || fail "gen-6 p12"
mkdir -p "$DOM/gen-7"; echo garbage > "$DOM/gen-7/keystore.p12"
fake_switch "$DOM" 1
# A JKS trust store with the root only: Tomcat then asks for an optional
# client certificate naming the root, which proves the file was read.
keytool -importcert -noprompt -alias root -file "$T/a/root.pem" \
	-keystore "$T/trust.jks" -storepass changeit >/dev/null 2>&1 || fail "keytool"

tomcat_conf "$TC" "$PORT" "$MPORT" "$DOM/current/keystore.p12" $D changeit "$T/trust.jks"
on_exit 'tomcat_stop "$TC"'
t0=$(date +%s%N)
tomcat_start "$TC" || fail "tomcat does not start: $(tail -n 30 "$TC/logs/catalina.out")"
started=$(ms "$t0")
wait_for 30 python3 "$PROBE" --port "$PORT" --name $D --seconds 0 || fail "no TLS on $PORT"
tls=$(ms "$t0")
PID=$(cat "$TC/tomcat.pid")
echo "tomcat start: catalina.sh start to 'Server startup in': $started ms, to the first TLS handshake: $tls ms"
grep -oE 'Server (initialization|startup) in \[[0-9,]+\] milliseconds' "$TC/logs/catalina.out"
grep -oE 'Deployment of deployment descriptor .*manager.xml\] has finished in \[[0-9,]+\] ms' "$TC/logs/catalina.out" |
	sed 's|descriptor .*/manager.xml|descriptor manager.xml|'

served_only 0.5 "$T/a/server.pem" "$T/b.pem"
out=$(echo | openssl s_client -connect "127.0.0.1:$PORT" -servername $D 2>&1)
assert_contains "$out" "Acceptable client certificate CA names" "s_client (trust store read)"
assert_contains "$out" "$(openssl x509 -noout -subject -in "$T/a/root.pem" | sed 's/^subject=//')" \
	"acceptable CA names (trust store read)"
echo "trust store read: Tomcat asks for a client certificate from our root"

say "manager answers"
out=$(tomcat_mgr "$TC" list) || fail "manager list: $out"
echo "list: $out"
assert_contains "$out" "OK - Listed applications for virtual host [localhost]"
out=$(tomcat_mgr "$TC" "sslReload?tlsHostName=nosuch.test")
echo "sslReload?tlsHostName=nosuch.test (HTTP $(cat "$TC/mgr.code")): $out"
assert_eq "$out" "FAIL - Failed to reload TLS configuration"
assert_eq "$(cat "$TC/mgr.code")" 200 "HTTP code of a FAIL"
out=$(curl -sS -o /dev/null -w '%{http_code}' -u "certd:wrong" \
	"http://127.0.0.1:$MPORT/manager/text/sslReload")
echo "wrong password: HTTP $out"
assert_eq "$out" 401

say "renewal: current -> gen-2, sslReload"
fake_switch "$DOM" 2
served_only 0.3 "$T/a/server.pem" "$T/b.pem"	# nothing changes by itself
t0=$(date +%s%N)
out=$(tomcat_ssl_reload "$TC" $D) || fail "sslReload: $out"
echo "sslReload?tlsHostName=$D: $out ($(ms "$t0") ms)"
assert_eq "$out" "OK - Reloaded TLS configuration for [$D]"
served_only 0.5 "$T/b.pem" "$T/a/server.pem"
assert_eq "$(cat "$TC/tomcat.pid")" "$PID" "pid"
kill -0 "$PID" || fail "the JVM $PID is gone"
grep 'logCertificate' "$TC/logs/catalina.out" | tail -n 1 | sed 's/.*logCertificate //'

say "failed reloads keep the old leaf"
for g in 4 5 6 7; do
	fake_switch "$DOM" $g
	out=$(tomcat_ssl_reload "$TC" $D) && fail "gen-$g reloaded: $out"
	echo "gen-$g: $out"
	assert_eq "$(cat "$TC/mgr.code")" 500 "HTTP code"
	case $g in
	4) assert_contains "$out" "keystore password was incorrect" ;;
	5) assert_contains "$out" "(No such file or directory)" ;;
	6) assert_contains "$out" "Alias name [server] does not identify a key entry" ;;
	7) assert_contains "$out" "java.io." ;;
	esac
	served_only 0.2 "$T/b.pem" "$T/c.pem"
done
fake_switch "$DOM" 2
out=$(tomcat_ssl_reload "$TC" $D) || fail "sslReload back to gen-2: $out"
served_only 0.2 "$T/b.pem" "$T/c.pem"

say "sslReload without a name: every TLS host"
fake_switch "$DOM" 3
out=$(tomcat_ssl_reload "$TC") || fail "sslReload: $out"
echo "sslReload: $out"
assert_eq "$out" "OK - Reloaded TLS configuration for all TLS virtual hosts"
served_only 0.3 "$T/c.pem" "$T/b.pem"

say "JMX: reloadSslHostConfigs through the manager's jmxproxy"
MB="Catalina:type=ProtocolHandler,port=$PORT,address=\"127.0.0.1\""
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
fake_switch "$DOM" 2
out=$(TOMCAT_MGR_API=jmxproxy tomcat_mgr "$TC" "?invoke=$(enc "$MB")&op=reloadSslHostConfigs")
echo "invoke $MB reloadSslHostConfigs (HTTP $(cat "$TC/mgr.code")): $out"
assert_contains "$out" "OK - Operation reloadSslHostConfigs"
served_only 0.3 "$T/b.pem" "$T/c.pem"
fake_switch "$DOM" 3
out=$(TOMCAT_MGR_API=jmxproxy tomcat_mgr "$TC" "?invoke=$(enc "$MB")&op=reloadSslHostConfig&ps=$D")
echo "invoke reloadSslHostConfig $D: $out"
assert_contains "$out" "OK - Operation reloadSslHostConfig"
served_only 0.3 "$T/c.pem" "$T/b.pem"
fake_switch "$DOM" 4
out=$(TOMCAT_MGR_API=jmxproxy tomcat_mgr "$TC" "?invoke=$(enc "$MB")&op=reloadSslHostConfig&ps=$D")
echo "invoke reloadSslHostConfig $D, wrong password (HTTP $(cat "$TC/mgr.code")): $(printf '%s\n' "$out" | head -n 3)"
assert_not_contains "$out" "OK - Operation"
served_only 0.2 "$T/c.pem" "$T/b.pem"

say "reload timings over ${DEMO_ROUNDS:-10} renewals"
: > "$T/rounds"
i=0
while [ $i -lt "${DEMO_ROUNDS:-10}" ]; do
	i=$((i + 1))
	fake_flip "$DOM" 2 "$T/b.pem" 3 "$T/c.pem"
	r=$(python3 "$PROBE" --port "$PORT" --name $D --seconds 0.5 --old "$old" --new "$new" -- \
	    curl -sf -o /dev/null -u "certd:$(cat "$TC/manager.pass")" \
	    "http://127.0.0.1:$MPORT/manager/text/sslReload?tlsHostName=$D") || fail "round $i: $r"
	echo "round $i: $r"
	echo "$r" >> "$T/rounds"
	assert_contains "$r" '"old": 0,' "round $i: an old leaf after the reload returned"
done
python3 - "$T/rounds" <<'EOF'
import json, sys, statistics as st
rs = [json.loads(l) for l in open(sys.argv[1])]
for k, name in (("cmd_ms", "sslReload request (curl, ms)"),
                ("first_new_ms", "first fresh connection with the new leaf (ms)")):
    xs = [r[k] for r in rs]
    print("%-46s min %6.1f  median %6.1f  max %6.1f" % (name, min(xs), st.median(xs), max(xs)))
EOF
assert_eq "$(cat "$TC/tomcat.pid")" "$PID" "pid"
t0=$(date +%s%N)
tomcat_stop "$TC"
echo "tomcat stop (TERM to exit): $(ms "$t0") ms"

say "a start with a keystore Tomcat cannot read: it runs, without the TLS port"
fake_switch "$DOM" 5
tomcat_start "$TC" && fail "tomcat_start passed with no keystore"
kill -0 "$(cat "$TC/tomcat.pid")" || fail "the JVM is gone"
grep -oE 'Server startup in \[[0-9,]+\] milliseconds' "$TC/logs/catalina.out" ||
	fail "no 'Server startup in'"
grep -E 'SEVERE.*Failed to initialize component \[Connector' "$TC/logs/catalina.out" | sed 's/.*SEVERE/SEVERE/'
grep -m1 -E 'Caused by: java.io.FileNotFoundException' "$TC/logs/catalina.out" | sed 's/^[[:space:]]*//'
python3 "$PROBE" --port "$PORT" --seconds 0 >/dev/null 2>&1 && fail "TLS port answers"
# The manager says OK, though the file is still missing: the connector is
# not bound, so nothing is loaded.  "OK" proves nothing; only a TLS
# handshake does.
out=$(tomcat_mgr "$TC" "sslReload?tlsHostName=$D")
echo "sslReload, keystore still missing (HTTP $(cat "$TC/mgr.code")): $out"
assert_eq "$out" "OK - Reloaded TLS configuration for [$D]"
python3 "$PROBE" --port "$PORT" --seconds 0 >/dev/null 2>&1 && fail "TLS port answers"
fake_switch "$DOM" 2
out=$(tomcat_mgr "$TC" "sslReload?tlsHostName=$D")
echo "sslReload, good keystore back: $out"
python3 "$PROBE" --port "$PORT" --seconds 0 >/dev/null 2>&1 && fail "TLS port answers"
echo "the TLS port stays closed: only a restart brings it back"
tomcat_stop "$TC"
tomcat_start "$TC" || fail "restart: $(tail -n 20 "$TC/logs/catalina.out")"
served_only 0.2 "$T/b.pem" "$T/c.pem"
tomcat_stop "$TC"
echo ok

#!/bin/sh
# t-check-apache.sh: certctl check against a private Apache (root parent,
# www-data children, 127.0.0.1) whose virtual hosts are configured the ways
# the runbooks' admins get wrong: no SSLCertificateChainFile, a chain file
# with the root first, a certificate file ending with the root, a
# past-dated certificate, a certificate whose address is only in its CN;
# and a correct one, checked with the wrong name and the wrong root.
# Proves, for each, check's exit code and problems as Apache really serves
# them (Apache sends SSLCertificateFile as it is, then the chain file).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/apache.sh"
. "$top_srcdir/tests/integration/checklib.sh"
need apache2 openssl python3
[ "$(id -u)" -eq 0 ] || skip "needs root to start apache2"
need_built "$CERTCTL" "$TESTPKI"

check_pki
leaf expired --cn $D --dns $D --days-from -40 --days-to -10
leaf ipcn --cn 127.0.0.1 --dns $D
cat "$P/root.pem" "$P/inter1.pem" > "$T/root-first.pem"
cat "$P/server.pem" "$P/inter1.pem" "$P/root.pem" > "$T/full-with-root.pem"

A=$T/apache
P_good=$(free_port) P_leaf=$(free_port) P_order=$(free_port)
P_root=$(free_port) P_expired=$(free_port) P_ip=$(free_port)
apache_conf "$A" $P_good $P_leaf $P_order $P_root $P_expired $P_ip
# vhost PORT CERT KEY [CHAIN]
vhost() {
	cat >> "$A/httpd.conf" <<EOC
<VirtualHost 127.0.0.1:$1>
	ServerName $D
	SSLEngine on
	SSLCertificateFile $2
	SSLCertificateKeyFile $3
${4:+	SSLCertificateChainFile $4}
</VirtualHost>
EOC
}
vhost $P_good "$P/server.pem" "$P/server.key" "$P/inter1.pem"
vhost $P_leaf "$P/server.pem" "$P/server.key"
vhost $P_order "$P/server.pem" "$P/server.key" "$T/root-first.pem"
vhost $P_root "$T/full-with-root.pem" "$P/server.key"
vhost $P_expired "$T/expired.pem" "$T/expired.key" "$P/inter1.pem"
vhost $P_ip "$T/ipcn.pem" "$T/ipcn.key" "$P/inter1.pem"
on_exit 'apache_stop "$A"'
/usr/sbin/apache2 -f "$A/httpd.conf" -k start || fail "apache2 does not start: $(cat "$A/error.log" 2>/dev/null)"
for p in $P_good $P_leaf $P_order $P_root $P_expired $P_ip; do
	wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $p), 1)" ||
		fail "apache2 does not listen on $p: $(cat "$A/error.log")"
done

ROOT="--ca $P/root.pem"
served() { json_get 'len(j["served"])' < "$T/check.json"; }

say "the correct vhost: leaf and intermediate, OK"
expect_problems 0 $P_good "" --name $D $ROOT
assert_eq "$(served)" 2 "certificates Apache sends"
run 0 "$CERTCTL" check 127.0.0.1:$P_good --name $D $ROOT
assert_contains "$out" "OK: a client with this trust store connects to $D."

say "no SSLCertificateChainFile: the intermediate is missing"
expect_problems 1 $P_leaf "intermediate-missing!" --name $D $ROOT
assert_eq "$(served)" 1 "certificates Apache sends"

say "a chain file with the root first: out of order, root served"
expect_problems 0 $P_order "order root-served" --name $D $ROOT
assert_eq "$(json_get '[s["role"] for s in j["served"]]' < "$T/check.json")" \
    '["server certificate", "root CA", "intermediate CA"]' "roles as served"

say "SSLCertificateFile with the root at its end: served as it is"
expect_problems 0 $P_root "root-served" --name $D $ROOT
assert_eq "$(served)" 3 "certificates Apache sends"

say "a past-dated certificate: expired, with its date"
expect_problems 1 $P_expired "expired!" --name $D $ROOT
until=$(date -u -d "$(openssl x509 -in "$T/expired.pem" -noout -enddate | cut -d= -f2)" '+%Y-%m-%d %H:%M UTC')
assert_contains "$(cause expired)" "expired on $until, 10 days ago"

say "connecting by address to a certificate with the address only in its CN"
expect_problems 1 $P_ip "ip-san-missing!" $ROOT
expect_problems 0 $P_ip "" --name $D $ROOT

say "the correct vhost asked for another name, and checked with another root"
expect_problems 1 $P_good "name-mismatch!" --name www.other.test $ROOT
expect_problems 1 $P_good "untrusted-root!" --name $D --ca "$T/other/root.pem"
assert_contains "$(cause untrusted-root)" "$T/other/root.pem"
echo ok

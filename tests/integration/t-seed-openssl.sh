#!/bin/sh
# t-seed-openssl.sh: the self-signed runbook certd replaces (seeds/002):
# a root from `openssl req -x509 -new` (no keyUsage with Debian's
# openssl.cnf) and a v1 server certificate from `openssl x509 -req` (CN
# only).  certd must take them, say plainly what is weak about them
# (W_CA_NO_KEY_USAGE, W_CN_ONLY) and render files that verify.
. "$top_srcdir/tests/integration/lib.sh"
need openssl

say "the runbook's commands, verbatim but for -subj"
cd "$T"
openssl genrsa -out rootCA.key 2048 2>/dev/null || fail "genrsa"
openssl req -x509 -new -key rootCA.key -days 1024 -out rootCA.pem -subj "/CN=Runbook Root CA" ||
    fail "req -x509"
openssl genrsa -out mysite.key 2048 2>/dev/null || fail "genrsa"
openssl req -new -key mysite.key -out mysite.csr -subj "/CN=mysite.test" || fail "req -new"
openssl x509 -req -in mysite.csr -CA rootCA.pem -CAkey rootCA.key \
    -CAcreateserial -out mysite.crt -days 500 2>/dev/null || fail "x509 -req"
# The key from genrsa is PKCS#8 in OpenSSL 3; the older runbooks' PKCS#1
# (`BEGIN RSA PRIVATE KEY`) must work as well.
openssl pkey -in mysite.key -traditional -out mysite-pkcs1.key || fail "pkey -traditional"
grep -q "BEGIN RSA PRIVATE KEY" mysite-pkcs1.key || fail "mysite-pkcs1.key is not PKCS#1"

start_certd
say "upload root and server with certctl"
ctl upload mysite.test --name root --seq 1 rootCA.pem > out.txt 2>&1 ||
	fail "root refused: $(cat out.txt)"
ctl upload mysite.test --name server --server mysite.crt --key mysite-pkcs1.key > out.txt 2>&1 ||
	fail "server refused: $(cat out.txt)"
assert_contains "$(cat out.txt)" "generation 1" "server upload"
# Warnings come with the commit, when the whole chain is validated.
assert_contains "$(cat out.txt)" "W_CN_ONLY" "server upload"
assert_contains "$(cat out.txt)" "W_CA_NO_KEY_USAGE" "server upload"

say "the rendered files verify and the key is PKCS#8"
cur=$CERTD_STATE/domains/mysite.test/current
openssl verify -CAfile "$cur/root.pem" "$cur/cert.pem" || fail "openssl verify"
head -n 1 "$cur/key.pem" | grep -q "BEGIN PRIVATE KEY" || fail "key.pem is not PKCS#8"
assert_eq "$(openssl pkey -in "$cur/key.pem" -pubout)" "$(openssl x509 -in mysite.crt -noout -pubkey)" "key.pem"
echo ok

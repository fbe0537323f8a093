#!/bin/sh
# A management server pushes over TLS with an allowed client certificate,
# with the same certctl commands an admin types on the host.  Proves:
# - the CloudStack sequence (root, intermediate, server with its key) over
#   -H commits and serves the chain; status and show answer over TLS; the
#   events record the client's subject, the socket's uid 0 for its own;
# - the CSR flow: csr makes a key on the host and answers a request that
#   names the domain and --name; the signed certificate uploaded without a
#   key commits, and the served key.pem holds the public key of the CSR;
#   the pending key then is gone, and no answer ever held a private key;
# - a certificate that matches no pending key is E_KEY_MISMATCH and
#   changes nothing; RSA 3072 on request; sealed pending keys with the
#   certd.key credential.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/remotelib.sh"
D=example.com
MGMT=CN=mgmt.example.com

remote_pki
pki chain "$T/p" --domain $D --inter 1 >/dev/null || fail "testpki chain"
# Keys are sealed with the certd.key credential, pending ones too.
head -c 32 /dev/urandom > "$T/certd.key"
CREDENTIALS_DIRECTORY=$T
export CREDENTIALS_DIRECTORY
start_remote

say "the CloudStack sequence over TLS"
run 0 rctl upload $D --name root --seq 1 "$T/p/root.pem"
run 0 rctl upload $D --name intermediate --seq 2 "$T/p/inter1.pem"
run 0 rctl upload $D --name server --server "$T/p/server.pem" --key "$T/p/server.key"
assert_contains "$out" "as generation 1"
cmp -s "$CERTD_STATE/domains/$D/current/cert.pem" "$T/p/server.pem" ||
	fail "cert.pem is not the uploaded server certificate"
run 0 rctl status
assert_contains "$out" "$D"
run 0 rctl show $D
assert_contains "$out" "[$MGMT]"
assert_eq "$(events_by "$MGMT")" "commit live" "events done by the client"

say "csr: the key is made on the host, the request names the domain"
run 0 rctl csr $D --name www.$D --out "$T/req.csr"
assert_contains "$err" "certd made a new EC P-256 key for $D"
openssl req -in "$T/req.csr" -noout -verify >/dev/null 2>&1 || fail "the CSR's signature does not verify"
sans=$(openssl req -in "$T/req.csr" -noout -text | grep -A1 "Subject Alternative Name" | tail -n 1)
assert_contains "$sans" "DNS:$D, DNS:www.$D"
sealed=$(sqlite3 -readonly "$CERTD_STATE/certd.db" "SELECT substr(key, 1, 16), actor FROM csr_keys")
assert_eq "$sealed" "certd-aes256gcm:|$MGMT" "the pending key, sealed, and who asked"

say "a certificate for another key is E_KEY_MISMATCH and changes nothing"
pki_leaf "$T/p" "$T/other" $D
ks_dump "$T/ks.before"
sqlite3 -readonly "$CERTD_STATE/certd.db" "SELECT id, spki FROM csr_keys" > "$T/csr.before"
run 1 rctl upload $D --server "$T/other.pem"
assert_contains "$err" "E_KEY_MISMATCH"
ks_unchanged "$T/ks.before" "keystore tables after a certificate of no pending key"
sqlite3 -readonly "$CERTD_STATE/certd.db" "SELECT id, spki FROM csr_keys" | cmp -s - "$T/csr.before" ||
	fail "the pending keys changed"

say "the signed certificate comes back without a key and commits with the pending one"
openssl x509 -req -in "$T/req.csr" -CA "$T/p/inter1.pem" -CAkey "$T/p/inter1.key" \
    -copy_extensions copy -days 90 -sha256 -out "$T/signed.pem" 2>/dev/null ||
    fail "openssl x509 -req"
run 0 rctl upload $D --server "$T/signed.pem"
assert_contains "$out" "as generation 2"
cmp -s "$CERTD_STATE/domains/$D/current/cert.pem" "$T/signed.pem" ||
	fail "cert.pem is not the signed certificate"
served=$(openssl pkey -in "$CERTD_STATE/domains/$D/current/key.pem" -pubout)
asked=$(openssl req -in "$T/req.csr" -noout -pubkey)
assert_eq "$served" "$asked" "the public key of key.pem and of the CSR"
assert_eq "$(sqlite3 -readonly "$CERTD_STATE/certd.db" "SELECT count(*) FROM csr_keys")" 0 \
	"pending keys left after the commit"
run 1 rctl upload $D --server "$T/signed.pem"
assert_contains "$err" "no private key"
assert_eq "$(events_by "$MGMT")" "commit live csr reject commit live reject" \
	"events done by the client"

say "RSA 3072 on request, over the socket too; a bad key type is refused"
run 0 ctl csr $D --key-type rsa3072 --out "$T/rsa.csr"
openssl req -in "$T/rsa.csr" -noout -text | grep -q "Public-Key: (3072 bit)" ||
	fail "not an RSA 3072 request"
assert_eq "$(sqlite3 -readonly "$CERTD_STATE/certd.db" "SELECT key_type, actor FROM csr_keys")" \
	"RSA 3072|uid 0"
run 1 rctl csr $D --key-type dsa
assert_contains "$err" "E_BAD_REQUEST"
run 1 rctl csr $D --name "bad name"
assert_contains "$err" "E_BAD_REQUEST"

say "no answer holds a private key; show lists the pending key"
run 0 rctl --json show $D
assert_not_contains "$out" "PRIVATE KEY"
assert_contains "$out" '"pending_keys"'
run 0 rctl show $D
assert_contains "$out" "RSA 3072 for DNS:$D"
grep -q "PRIVATE KEY" "$T/certd.log" && fail "a key in certd's log"
grep -q "$MGMT: POST /v1/domains/$D/csr" "$T/certd.log" || fail "the CSR's requester is not logged"
echo ok

#!/bin/sh
# Who may do what over TLS.  Proves:
# - a verified client that client_allow does not list reads status and
#   metrics, and gets 403 E_FORBIDDEN (certctl exit 1) on an upload, a
#   CSR or a domain's details, which change nothing;
# - the handshake refuses, with the real alert, a client with no
#   certificate, one from another CA, an expired one and a revoked one
#   (client_crl); certctl says so and exits 3; certd logs each refusal;
#   nothing of them reaches the API or the store;
# - TLS 1.1 is refused (protocol_version), TLS 1.2 and 1.3 are served with
#   ECDHE and AEAD suites only;
# - listen = on [::1] serves too.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/remotelib.sh"
D=example.com

remote_pki
pki chain "$T/p" --domain $D --inter 1 >/dev/null || fail "testpki chain"
PORT6=$(free_port)
start_remote "listen = [::1]:$PORT6"
run 0 rctl upload $D --name root --seq 1 "$T/p/root.pem"
ks_dump "$T/ks.before"

say "a verified client not in client_allow reads status and metrics"
run 0 as_client mon status
assert_contains "$out" "$D"
out=$(tls_get /metrics --cert "$T/mon/client.pem" --key "$T/mon/client.key")
assert_contains "$out" "HTTP 200"
assert_contains "$out" "certd_build_info"

say "... and may change nothing: 403 E_FORBIDDEN, the store unchanged"
run 1 as_client mon upload $D --name intermediate --seq 2 "$T/p/inter1.pem"
assert_contains "$err" "E_FORBIDDEN: client \"CN=monitor.example.com\" may only read status"
assert_contains "$err" "needs a client certificate that certd's client_allow lists"
run 1 as_client mon upload $D --server "$T/p/server.pem" --key "$T/p/server.key"
assert_contains "$err" "E_FORBIDDEN"
run 1 as_client mon csr $D
assert_contains "$err" "E_FORBIDDEN"
out=$(tls_get /v1/domains/$D --cert "$T/mon/client.pem" --key "$T/mon/client.key")
assert_contains "$out" "HTTP 403"
ks_unchanged "$T/ks.before" "keystore tables after the read-only client's changes"
assert_eq "$(sqlite3 -readonly "$CERTD_STATE/certd.db" "SELECT count(*) FROM csr_keys")" 0
grep -q "CN=monitor.example.com: POST /v1/certificates refused: read-only" "$T/certd.log" ||
	fail "the refusal is not logged with the client's subject"

say "the handshake refuses clients certd cannot verify, with the real alert"
# refused WHAT REASON [tlsclient args]
refused() {
	_what=$1 _why=$2; shift 2
	_o=$(tls_get /v1/status "$@")
	assert_eq "$_o" "refused $_why" "$_what"
}
refused "no client certificate" TLSV13_ALERT_CERTIFICATE_REQUIRED
refused "a client of another CA" TLSV1_ALERT_UNKNOWN_CA \
	--cert "$T/stranger/client.pem" --key "$T/stranger/client.key"
refused "an expired client certificate" SSLV3_ALERT_CERTIFICATE_EXPIRED \
	--cert "$T/expired.pem" --key "$T/expired.key"
refused "a revoked client certificate" SSLV3_ALERT_CERTIFICATE_REVOKED \
	--cert "$T/revoked.pem" --key "$T/revoked.key"
refused "TLS 1.1" TLSV1_ALERT_PROTOCOL_VERSION \
	--cert "$T/mgmt/client.pem" --key "$T/mgmt/client.key" --tls1_1
for m in "no client certificate" "certificate expired" "certificate revoked" \
    "unknown CA" "protocol version"; do
	grep -q "tls: refused 127.0.0.1 port [0-9]*: .*$m" "$T/certd.log" ||
		fail "certd did not log the refusal ($m)"
done

say "certctl tells a refused client what happened, and exits 3"
run 3 as_client stranger upload $D --name root --seq 1 "$T/p/root.pem"
assert_contains "$err" "refused this client: it does not trust the client certificate's CA"
run 3 "$CERTCTL" -H "https://127.0.0.1:$PORT" --client-cert "$T/revoked.pem" \
    --client-key "$T/revoked.key" --ca "$T/sca/root.pem" status
assert_contains "$err" "the client certificate is revoked"
run 3 "$CERTCTL" -H "https://127.0.0.1:$PORT" --client-cert "$T/mgmt/client.pem" \
    --client-key "$T/mgmt/client.key" --ca "$T/oca/root.pem" status
assert_contains "$err" "does not verify"
run 2 "$CERTCTL" -H "https://127.0.0.1:$PORT" status
assert_contains "$err" "-H needs --client-cert FILE and --client-key FILE"
ks_unchanged "$T/ks.before" "keystore tables after the refused handshakes"

say "TLS 1.2 and 1.3 with ECDHE and AEAD only"
for v in -tls1_2 -tls1_3; do
	o=$(echo | openssl s_client -connect "127.0.0.1:$PORT" $v -CAfile "$T/sca/root.pem" \
	    -cert "$T/mgmt/client.pem" -key "$T/mgmt/client.key" 2>&1)
	assert_contains "$o" "Verify return code: 0 (ok)" "s_client $v"
	c=$(printf '%s\n' "$o" | sed -n 's/^New, [^,]*, Cipher is //p' | head -n 1)
	case $v:$c in
	-tls1_2:ECDHE-*-GCM-*|-tls1_2:ECDHE-*-CHACHA20-*|-tls1_3:TLS_AES_*_GCM_*|-tls1_3:TLS_CHACHA20_*) ;;
	*) fail "$v negotiated $c" ;;
	esac
done
o=$(echo | openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -cipher AES128-SHA256 \
    -cert "$T/mgmt/client.pem" -key "$T/mgmt/client.key" 2>&1)
assert_contains "$o" "handshake failure" "TLS 1.2 without ECDHE"

say "listen = [::1]:PORT serves the same API"
run 0 "$CERTCTL" -H "https://[::1]:$PORT6" --client-cert "$T/mgmt/client.pem" \
    --client-key "$T/mgmt/client.key" --ca "$T/sca/root.pem" --json status
assert_contains "$out" '"domains"'
echo ok

# remotelib.sh: what the t-remote-*.sh tests share, after lib.sh: a PKI
# for certd's listen = address and its clients, made with certctl gen-ca
# and gen-cert as the README tells an admin to, plus tests/testpki for
# what they do not make (expired and revoked clients, a CRL); a certd
# listening on 127.0.0.1; and clients of it.
#
#   $T/sca    certd's CA (root.pem); $T/srv: certd's tls_cert for 127.0.0.1
#   $T/cca    the client CA (client_ca)
#   $T/mgmt   the management server: client_allow lists DNS:mgmt.example.com
#   $T/mon    a monitor: verified, not listed (read-only)
#   $T/oca, $T/stranger   another CA and a client of it
#   $T/expired.pem|key, $T/revoked.pem|key   clients of cca; $T/cca.crl
#     revokes revoked.pem
need openssl python3 sqlite3
need_built "$CERTD" "$CERTCTL" "$TESTPKI"
TLSCLIENT="python3 -W ignore::DeprecationWarning $top_srcdir/tests/integration/tlsclient.py"

remote_pki() {
	_g() { "$CERTCTL" "$@" >/dev/null || fail "certctl $*"; }
	_g gen-ca --out "$T/sca" --cn "certd hosts CA"
	_g gen-cert --ca "$T/sca" --domain certd.test --ip 127.0.0.1 --ip ::1 --out "$T/srv"
	_g gen-ca --out "$T/cca" --cn "Management CA"
	_g gen-cert --ca "$T/cca" --domain mgmt.example.com --client --out "$T/mgmt"
	_g gen-cert --ca "$T/cca" --domain monitor.example.com --client --out "$T/mon"
	_g gen-ca --out "$T/oca" --cn "Someone else's CA"
	_g gen-cert --ca "$T/oca" --domain mgmt.example.com --client --out "$T/stranger"
	pki cert "$T/expired.pem" --issuer "$T/cca/root.pem" --issuer-key "$T/cca/root.key" \
	    --cn mgmt.example.com --dns mgmt.example.com --eku client --key ec \
	    --days-from -30 --days-to -1 --key-out "$T/expired.key" >/dev/null ||
	    fail "testpki cert expired"
	pki cert "$T/revoked.pem" --issuer "$T/cca/root.pem" --issuer-key "$T/cca/root.key" \
	    --cn mgmt.example.com --dns mgmt.example.com --eku client --key ec \
	    --key-out "$T/revoked.key" >/dev/null || fail "testpki cert revoked"
	pki crl "$T/cca.crl" --issuer "$T/cca/root.pem" --issuer-key "$T/cca/root.key" \
	    --revoke "$T/revoked.pem" >/dev/null || fail "testpki crl"
}

# start_remote [EXTRA_CONFIG]: certd with the socket and listen = on
# 127.0.0.1:$PORT, mgmt allowed.
start_remote() {
	PORT=$(free_port)
	start_certd "listen = 127.0.0.1:$PORT
tls_cert = $T/srv/server.pem
tls_key = $T/srv/server.key
client_ca = $T/cca/root.pem
client_crl = $T/cca.crl
client_allow = DNS:mgmt.example.com
${1:-}"
	wait_for 10 rctl status || fail "certd does not answer over TLS on $PORT"
}

# rctl ARGS: certctl over TLS as the management server; as_client WHO ARGS:
# as $T/WHO/client.pem (mon, stranger).
rctl() {
	"$CERTCTL" -H "https://127.0.0.1:$PORT" --client-cert "$T/mgmt/client.pem" \
	    --client-key "$T/mgmt/client.key" --ca "$T/sca/root.pem" "$@"
}
as_client() {
	_who=$1; shift
	"$CERTCTL" -H "https://127.0.0.1:$PORT" --client-cert "$T/$_who/client.pem" \
	    --client-key "$T/$_who/client.key" --ca "$T/sca/root.pem" "$@"
}
# tls_get PATH [tlsclient args]: one request by tlsclient.py; its output.
tls_get() {
	_p=$1; shift
	$TLSCLIENT get "$PORT" "$_p" --ca "$T/sca/root.pem" "$@"
}
# events_by ACTOR: the types of the events ACTOR did, oldest first.
events_by() {
	sqlite3 -readonly "$CERTD_STATE/certd.db" \
	    "SELECT group_concat(type, ' ') FROM (SELECT type FROM events WHERE actor = '$1' ORDER BY id)"
}

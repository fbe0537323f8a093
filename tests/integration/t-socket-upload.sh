#!/bin/sh
# The CloudStack uploadCustomCertificate sequence over the control socket
# with form encoding (root, intermediate, server + key), including a PEM
# whose '+' became ' ' because it was sent without encoding '+'.  The files
# appear under current/ and status shows generation 1.  A rejected upload
# (E_ORDER) changes nothing: keystore tables and `current` are unchanged.
. "$top_srcdir/tests/integration/lib.sh"
need curl python3 sqlite3 openssl

D=example.com
pki chain "$T/p" --domain $D >/dev/null || fail "testpki chain"
# The intermediate must have a '+' in its base64 (below); one without has a
# chance of about 1e-9, so make another rather than skip.
n=0
while ! grep -q '+' "$T/p/inter1.pem"; do
	n=$((n + 1)); [ $n -le 5 ] || fail "5 intermediates without a '+' in their base64"
	rm -rf "$T/p"; pki chain "$T/p" --domain $D >/dev/null || fail "testpki chain"
done
pki chain "$T/q" --domain $D >/dev/null || fail "testpki chain"
start_certd

say "root (seq 1), curl's own form encoding"
out=$(form_upload $D root 1 "$T/p/root.pem") || fail "root upload: $out"
assert_eq "$(echo "$out" | json_get 'j["kind"], j["committed"], j["staged"]')" "('root', False, 1)"

say "intermediate (seq 2) form-encoded WITHOUT encoding '+': it arrives as ' '"
python3 - "$T/p/inter1.pem" > "$T/inter.form" <<'PY'
import sys, urllib.parse
pem = open(sys.argv[1]).read()
# Encode everything a form must encode, except '+' (the CloudStack bug).
body = "domainsuffix=example.com&name=intermediate&id=2&certificate=" + \
    urllib.parse.quote(pem, safe="+/=")
sys.stdout.write(body)
PY
grep -q '+' "$T/inter.form" || fail "the form body should carry raw '+'"
out=$(api POST /v1/certificates -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary @"$T/inter.form") || fail "intermediate with '+' as ' ' refused: $out"
assert_eq "$(echo "$out" | json_get 'j["kind"], j["seq"], j["staged"]')" "('intermediate', 2, 2)"

say "a rejected upload changes nothing (seq gap: E_ORDER)"
ks_dump "$T/ks.staged"
grep -q "^INSERT INTO staged" "$T/ks.staged" || fail "the staged items are not in the dump: $(cat "$T/ks.staged")"
expect_code 422 form_upload $D stray 7 "$T/q/inter1.pem"
assert_eq "$(api_error)" E_ORDER
assert_eq "$(json_get 'j["error"]["item"]["name"]' < "$T/api.body")" stray
ks_unchanged "$T/ks.staged" "keystore tables after a rejected upload"
[ -e "$CERTD_STATE/domains/$D/current" ] && fail "current exists before any commit"

say "server certificate + key (seq 3) commits generation 1"
out=$(form_upload $D server 3 "$T/p/server.pem" "$T/p/server.key") || fail "server upload: $out"
assert_eq "$(echo "$out" | json_get 'j["committed"], j["generation"], j["reload"]["result"]')" "(True, 1, 'none')"
assert_not_contains "$out" "PRIVATE KEY" "upload answer"

CUR=$CERTD_STATE/domains/$D/current
assert_eq "$(readlink "$CUR")" gen-1
cmp -s "$CUR/cert.pem" "$T/p/server.pem" || fail "current/cert.pem is not the uploaded server certificate"
cmp -s "$CUR/root.pem" "$T/p/root.pem" || fail "current/root.pem is not the root"
# The repaired intermediate is byte-identical to the original DER.
a=$(openssl x509 -in "$CUR/chain.pem" -outform DER | sha256sum)
b=$(openssl x509 -in "$T/p/inter1.pem" -outform DER | sha256sum)
assert_eq "$a" "$b" "intermediate after '+' repair"
openssl verify -CAfile "$CUR/root.pem" -untrusted "$CUR/chain.pem" "$CUR/cert.pem" >/dev/null ||
	fail "rendered chain does not verify"
for f in key.pem fullchain.pem bundle.pem truststore.jks truststore.p12 keystore.p12 manifest.json; do
	[ -s "$CUR/$f" ] || fail "current/$f missing"
done

say "status: generation 1, state ok, chain of 3, no keys"
st=$(api GET /v1/status) || fail "status"
assert_eq "$(echo "$st" | json_get '[(d["domain"], d["generation"], d["state"], d["chain_length"], d["staged"]) for d in j["domains"]]')" \
	"[[\"$D\", 1, \"ok\", 3, 0]]"
sha=$(openssl x509 -in "$T/p/server.pem" -outform DER | sha256sum | cut -d' ' -f1)
assert_eq "$(echo "$st" | json_get 'j["domains"][0]["server"]["sha256"]')" "$sha"
show=$(api GET /v1/domains/$D) || fail "domain"
assert_not_contains "$show" "PRIVATE KEY" "domain answer"
assert_eq "$(echo "$show" | json_get '[i["name"] for i in j["items"]]')" '["root", "intermediate", "server"]'

say "another rejected upload after the commit leaves current and the DB alone"
ks_dump "$T/ks.gen1"
grep -q "^INSERT INTO domains" "$T/ks.gen1" || fail "the domain is not in the dump: $(cat "$T/ks.gen1")"
expect_code 422 form_upload $D server 3 "$T/p/root.pem" "$T/p/server.key"
code=E_DUPLICATE
assert_eq "$(api_error)" $code "the root uploaded as the server"
ks_unchanged "$T/ks.gen1" "keystore tables after a rejected commit"
assert_eq "$(readlink "$CUR")" gen-1
assert_eq "$(api GET /v1/status | json_get 'j["domains"][0]["generation"]')" 1

say "metrics count the commit and the rejections, and keep counting across a restart"
metric() { api GET /metrics | sed -n "s/^$1 //p"; }
assert_eq "$(metric "certd_commits_total{domain=\"$D\"}")" 1
m=$(api GET /metrics)
assert_contains "$m" 'certd_rejections_total{code="E_ORDER"} 1'
assert_contains "$m" "certd_rejections_total{code=\"$code\"} 1"
rej=$(metric "certd_rejections_total{code=\"$code\"}")
stop_certd
start_certd
assert_eq "$(metric "certd_commits_total{domain=\"$D\"}")" 1 "commits after a restart"
assert_eq "$(metric "certd_rejections_total{code=\"$code\"}")" "$rej" "rejections after a restart"
echo "CloudStack sequence over the socket: ok"

# t-certctl-sequence.sh: the CloudStack sequence through certctl against a
# real certd: root, intermediate, server+key commit generation 1; status and
# show say so (fingerprints equal openssl's); --json parses; a renewal is
# generation 2, rollback brings generation 1 back on disk; a failing
# dependent's rollback exits 1 and says so; discard; a chain with more
# intermediates replaces the current one without --seq; a domain name in
# capitals is the same domain.
. "$top_srcdir/tests/integration/lib.sh"
need python3 openssl

# openssl's SHA-256 fingerprint, AB:CD:.. as keytool and certctl show print it
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }
# the status row of a domain: "GEN STATE"
row() { echo "$1" | awk -v d="$2" '$1 == d { print $2, $3 }'; }

# One dependent that fails while $T/break exists (argv, no shell of certd's).
start_certd "[dependent web]
exec = /bin/sh -c \"test ! -e $T/break\""
D=example.com
pki chain "$T/pki" --domain $D --inter 1 >/dev/null || fail "testpki chain"

say "status with no domains"
run 0 ctl status
assert_contains "$out" "No domains yet"

say "root and intermediate are staged, not served"
run 0 ctl upload $D --name root --seq 1 "$T/pki/root.pem"
assert_contains "$out" "staged root (seq 1, root) for $D"
# DER travels too (certctl wraps it, byte for byte)
openssl x509 -in "$T/pki/inter1.pem" -outform DER -out "$T/inter1.der" || fail "openssl x509"
run 0 ctl upload $D --name intermediate --seq 2 "$T/inter1.der"
assert_contains "$out" "staged intermediate (seq 2"
[ ! -e "$CERTD_STATE/domains/$D/current" ] || fail "files rendered before the server certificate"

say "server certificate and key commit generation 1"
run 0 ctl upload $D --name server --server "$T/pki/server.pem" --key "$T/pki/server.key"
assert_contains "$out" "committed server (seq 3) for $D as generation 1"
assert_not_contains "$out$err" "PRIVATE KEY"
cmp -s "$CERTD_STATE/domains/$D/current/cert.pem" "$T/pki/server.pem" ||
    [ "$(fp "$CERTD_STATE/domains/$D/current/cert.pem")" = "$(fp "$T/pki/server.pem")" ] ||
    fail "current/cert.pem is not the uploaded server certificate"

say "status: a summary; every domain ok, so none listed but with --all"
run 0 ctl status
assert_contains "$out" "1 domain: 1 ok; next expiry $D in"
assert_contains "$out" "Every domain is ok. (certctl status --all lists every domain.)"
assert_not_contains "$out" "DOMAIN "
say "status --all: generation 1, state ok, aligned columns"
run 0 ctl status --all
assert_eq "$(row "$out" $D)" "1 ok" "status row of $D"
hdr=$(echo "$out" | grep '^DOMAIN') || fail "no header line: $out"
line=$(echo "$out" | grep "^$D ")
# EXPIRES starts in the same column in the header and the row
a=${hdr%%EXPIRES*}
b=$(echo "$line" | sed 's/\(.*\) 20[0-9][0-9]-.*/\1 /')
assert_eq "${#b}" "${#a}" "column of EXPIRES"
assert_contains "$out" "CN=$D"

say "show: three items like keytool -list -v, fingerprints equal openssl's"
run 0 ctl show $D
assert_contains "$out" "Your chain contains 3 entries"
assert_eq "$(echo "$out" | grep -c '^Alias name: ')" 3 "Alias name lines"
assert_eq "$(echo "$out" | grep -c 'SHA256: [0-9A-F:]\{95\}$')" 3 "SHA256 lines"
for f in root inter1 server; do
	assert_contains "$out" "SHA256: $(fp "$T/pki/$f.pem")"
done
assert_contains "$out" "Owner: "
assert_contains "$out" "Serial number: "
assert_contains "$out" "Valid from: "
assert_not_contains "$out" "PRIVATE KEY"

say "--json answers parse"
run 0 ctl --json status
echo "$out" | python3 -m json.tool >/dev/null || fail "status --json does not parse: $out"
run 0 ctl show $D --json
n=$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["items"]), d["generation"])') ||
    fail "show --json does not parse: $out"
assert_eq "$n" "3 1" "items and generation in show --json"

say "renewal: one upload of a new server certificate is generation 2"
pki cert "$T/new.pem" --cn $D --dns $D --eku server --issuer "$T/pki/inter1.pem" \
    --issuer-key "$T/pki/inter1.key" --key ec --key-out "$T/new.key" >/dev/null || fail "testpki cert"
run 0 ctl upload $D --server "$T/new.pem" --key "$T/new.key"
assert_contains "$out" "as generation 2"
run 0 ctl status --all
assert_eq "$(row "$out" $D)" "2 ok" "status row after renewal"
assert_eq "$(fp "$CERTD_STATE/domains/$D/current/cert.pem")" "$(fp "$T/new.pem")" "served cert after renewal"
run 0 ctl show $D
assert_contains "$out" "SHA256: $(fp "$T/new.pem")"
assert_contains "$out" "Your chain contains 3 entries"

say "rollback: generation 1 is current again, on disk too"
run 0 ctl rollback $D
assert_contains "$out" "$D is at generation 1"
run 0 ctl status --all
assert_eq "$(row "$out" $D)" "1 ok" "status row after rollback"
assert_eq "$(fp "$CERTD_STATE/domains/$D/current/cert.pem")" "$(fp "$T/pki/server.pem")" "served cert after rollback"
run 0 ctl rollback $D 2
assert_contains "$out" "$D is at generation 2"
run 1 ctl rollback $D 99
assert_contains "$err" "certctl: E_NOT_FOUND: $D has no generation 99"

say "render and reload (no dependents) succeed"
run 0 ctl render $D
assert_contains "$out" "rendered generation 2 of $D"
run 0 ctl reload
assert_contains "$out" "reload ok"

say "a failing dependent rolls the commit back: exit 1, said plainly"
pki cert "$T/new2.pem" --cn $D --dns $D --eku server --issuer "$T/pki/inter1.pem" \
    --issuer-key "$T/pki/inter1.key" --key ec --key-out "$T/new2.key" >/dev/null || fail "testpki cert"
touch "$T/break"
run 1 ctl upload $D --server "$T/new2.pem" --key "$T/new2.key"
assert_contains "$out" "rolled back to generation 2: "
assert_contains "$out" "web"
assert_eq "$(fp "$CERTD_STATE/domains/$D/current/cert.pem")" "$(fp "$T/new.pem")" "served cert after the rollback"
run 1 ctl reload web
assert_contains "$out" "reload failed: "
rm -f "$T/break"
run 0 ctl status --all
assert_eq "$(row "$out" $D)" "2 failed" "status row after the rolled-back commit"

say "discard: a staged item goes, nothing staged is E_NOT_FOUND"
pki cert "$T/inter2.pem" --cn "Other Intermediate" --ca --issuer "$T/pki/root.pem" \
    --issuer-key "$T/pki/root.key" --key-out "$T/inter2.key" >/dev/null || fail "testpki cert --ca"
run 0 ctl upload $D --name intermediate --seq 2 "$T/inter2.pem"
assert_contains "$out" "1 item staged"
run 0 ctl status --all
assert_contains "$out" "$D: 1 item staged, not yet committed."
run 0 ctl show $D
assert_contains "$out" "Staged, not yet committed: 1 entry"
assert_contains "$out" "SHA256: $(fp "$T/inter2.pem")"
run 0 ctl discard $D
assert_contains "$out" "discarded 1 staged item of $D"
run 1 ctl discard $D
assert_contains "$err" "E_NOT_FOUND"
say "a bundle in any order with its key commits another domain at once"
pki chain "$T/b" --domain other.example --inter 2 >/dev/null || fail "testpki chain"
# reversed: root first, server last
awk '/BEGIN/ { n++ } { c[n] = c[n] $0 "\n" } END { for (i = n; i > 0; i--) printf "%s", c[i] }' \
    "$T/b/bundle.pem" > "$T/b/reversed.pem"
run 0 ctl upload other.example --bundle "$T/b/reversed.pem" --key "$T/b/server.key"
assert_contains "$out" "for other.example as generation 1"
run 0 ctl show other.example
assert_contains "$out" "Your chain contains 4 entries"
assert_eq "$(fp "$CERTD_STATE/domains/other.example/current/cert.pem")" "$(fp "$T/b/server.pem")" "bundle's served cert"

say "more intermediates: the server goes after the last staged CA item"
# other.example's generation 1 has 2 intermediates (server at seq 4); its
# new chain has 3, staged at seq 1..4: without --seq the server is seq 5.
pki chain "$T/c" --domain other.example --inter 3 >/dev/null || fail "testpki chain"
run 0 ctl upload other.example --name root --seq 1 "$T/c/root.pem"
run 0 ctl upload other.example --name intermediate-1 --seq 2 "$T/c/inter1.pem"
run 0 ctl upload other.example --name intermediate-2 --seq 3 "$T/c/inter2.pem"
run 0 ctl upload other.example --name intermediate-3 --seq 4 "$T/c/inter3.pem"
run 0 ctl upload other.example --name server --server "$T/c/server.pem" --key "$T/c/server.key"
assert_contains "$out" "committed server (seq 5) for other.example as generation 2"
run 0 ctl show other.example
assert_contains "$out" "Your chain contains 5 entries"
# And back to fewer: a renewal with nothing staged keeps the server's seq.
pki cert "$T/c/renew.pem" --issuer "$T/c/inter3.pem" --issuer-key "$T/c/inter3.key" \
    --cn other.example --dns other.example --eku server --key ec \
    --key-out "$T/c/renew.key" >/dev/null || fail "testpki cert"
run 0 ctl upload other.example --server "$T/c/renew.pem" --key "$T/c/renew.key"
assert_contains "$out" "committed server (seq 5) for other.example as generation 3"

say "domain names are case-insensitive: Example.COM is example.com"
pki_leaf "$T/pki" "$T/upper" $D
run 0 ctl upload EXAMPLE.com. --server "$T/upper.pem" --key "$T/upper.key"
assert_contains "$out" "for $D as generation"
run 0 ctl status --all
assert_eq "$(echo "$out" | grep -ci '^example.com ')" 1 "status rows for example.com"
assert_not_contains "$out" "EXAMPLE"
[ ! -e "$CERTD_STATE/domains/EXAMPLE.com" ] || fail "a second directory for EXAMPLE.com"
assert_eq "$(fp "$CERTD_STATE/domains/$D/current/cert.pem")" "$(fp "$T/upper.pem")" "served cert after the upload to EXAMPLE.com"
form_upload Example.Com intermediate 2 "$T/inter2.pem" >/dev/null || fail "form upload to Example.Com: $(cat "$T/api.body")"
assert_contains "$(cat "$T/api.body")" '"domain":"example.com"'
run 0 ctl discard ExAmPlE.cOm
echo "certctl drove the whole sequence"

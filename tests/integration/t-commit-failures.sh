#!/bin/sh
# t-commit-failures.sh: what is current is what the services were reloaded
# with and verified on, through every failing commit path:
# - ten failing commits in a row with keep_generations = 2 leave the last
#   live generation current and kept (rows and files), and rollback works;
# - a first commit whose dependents fail serves nothing and says so;
# - a render that fails after the store (first commit, and later) leaves
#   the store with no pending generation and the files as they were;
# - a rollback whose swap back fails says so, and the next start finishes
#   the job (the domain was left unsettled);
# - "the reload after the rollback failed too" is said plainly;
# - a store that cannot record "live" (an admin's sqlite3 holds the lock)
#   leaves the generation pending, and the next start makes it live.
. "$top_srcdir/tests/integration/lib.sh"
need sqlite3 python3

D=example.test
db() { sqlite3 "$CERTD_STATE/certd.db" "$1" || fail "sqlite3: $1"; }
served() { openssl x509 -in "$CERTD_STATE/domains/$1/current/cert.pem" -noout -fingerprint -sha256 2>/dev/null; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256; }
entries() { (cd "$CERTD_STATE/domains/$1" && ls -A | tr '\n' ' '); }
state() { api GET /v1/status | json_get "[d['state'] for d in j['domains'] if d['domain'] == '$1'][0]"; }

CONF="keep_generations = 2
[dependent web]
configtest = /bin/sh -c \"test ! -e $T/fail\"
exec = /bin/sh $T/reload.sh"
# The reload fails while $T/failreload exists; while $T/lock exists it
# leaves an admin's lock on the database behind.
cat > "$T/reload.sh" <<EOS
test ! -e $T/failreload || exit 1
test -e $T/lock || exit 0
python3 $T/locker.py $CERTD_STATE/certd.db $T/unlock $T/locked </dev/null >/dev/null 2>&1 &
while [ ! -e $T/locked ]; do sleep 0.05; done
exit 0
EOS

# locker.py DB FIFO MARK: hold the database's write lock (then create
# MARK) until FIFO is written, as an admin's sqlite3 shell inside BEGIN
# would.
cat > "$T/locker.py" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[3], "w").close()
open(sys.argv[2]).read()
c.execute("ROLLBACK")
PY

start_certd "$CONF"
pki chain "$T/pki" --domain $D --inter 1 --key ec >/dev/null || fail "testpki"
leaf() { pki_leaf "$T/pki" "$T/$1" $D; }

say "generations 1 and 2 are live"
run 0 ctl upload $D --bundle "$T/pki/bundle.pem" --key "$T/pki/server.key"
leaf g2
run 0 ctl upload $D --server "$T/g2.pem" --key "$T/g2.key"
assert_contains "$out" "as generation 2"

say "ten failing commits in a row with keep_generations = 2"
touch "$T/fail"
i=1
while [ $i -le 10 ]; do
	leaf bad$i
	run 1 ctl upload $D --server "$T/bad$i.pem" --key "$T/bad$i.key"
	assert_contains "$out" "rolled back to generation 2"
	assert_eq "$(served $D)" "$(fp "$T/g2.pem")" "served after failure $i"
	i=$((i + 1))
done
assert_eq "$(db "SELECT current, coalesce(pending, 0), unsettled FROM domains WHERE name = '$D'")" "2|0|0" "domain row"
assert_eq "$(db "SELECT group_concat(generation || ':' || state, ' ') FROM (SELECT * FROM generations WHERE domain = '$D' ORDER BY generation)")" "1:live 2:live" "kept generations"
assert_eq "$(entries $D)" "current gen-1 gen-2 " "generations on disk"
assert_eq "$(db "SELECT last_generation FROM domains WHERE name = '$D'")" 12 "numbers never reused"
assert_eq "$(state $D)" failed "state after the rolled-back commits"
rm "$T/fail"
run 0 ctl rollback $D
assert_contains "$out" "$D is at generation 1"
assert_eq "$(served $D)" "$(fp "$T/pki/server.pem")" "served after the rollback"
run 0 ctl rollback $D 2
assert_eq "$(state $D)" ok "state after going back to 2"

say "a first commit whose dependents fail: nothing is served"
F=first.test
pki chain "$T/f" --domain $F --inter 1 --key ec >/dev/null || fail "testpki"
touch "$T/fail"
run 1 ctl upload $F --bundle "$T/f/bundle.pem" --key "$T/f/server.key"
assert_contains "$out" "no earlier generation to roll back to: nothing of $F is served"
[ -e "$CERTD_STATE/domains/$F/current" ] && fail "$F/current exists after a failed first commit"
assert_eq "$(db "SELECT coalesce(current, 0), coalesce(pending, 0), unsettled FROM domains WHERE name = '$F'")" "0|0|0" "domain row of $F"
assert_eq "$(db "SELECT state FROM generations WHERE domain = '$F'")" failed "state of $F's generation"
assert_eq "$(state $F)" failed "status of $F"
rm "$T/fail"
run 0 ctl upload $F --bundle "$T/f/bundle.pem" --key "$T/f/server.key"
assert_contains "$out" "for $F as generation 2"

say "a render failing after the store: first commit, then a later one"
R=render.test
pki chain "$T/r" --domain $R --inter 1 --key ec >/dev/null || fail "testpki"
: > "$CERTD_STATE/domains/$R"	# a file where the domain's directory goes
run 4 ctl upload $R --bundle "$T/r/bundle.pem" --key "$T/r/server.key"
assert_contains "$err" "E_INTERNAL: generation 1 was stored but its files could not be written"
assert_contains "$err" "nothing is served"
assert_eq "$(db "SELECT coalesce(current, 0), coalesce(pending, 0), unsettled FROM domains WHERE name = '$R'")" "0|0|0" "domain row of $R"
assert_eq "$(db "SELECT state FROM generations WHERE domain = '$R'")" failed "state of $R's generation"
rm "$CERTD_STATE/domains/$R"
run 0 ctl upload $R --bundle "$T/r/bundle.pem" --key "$T/r/server.key"
assert_contains "$out" "as generation 2"
# Next: generation 3.  A temporary directory render.c cannot remove.
mkdir -p "$CERTD_STATE/domains/$R/.tmp-gen-3/a/b/c/d/e/f"
pki_leaf "$T/r" "$T/r3" $R
run 4 ctl upload $R --server "$T/r3.pem" --key "$T/r3.key"
assert_contains "$err" "generation 3 was stored but its files could not be written"
assert_contains "$err" "the previous generation stays current"
assert_eq "$(served $R)" "$(fp "$T/r/server.pem")" "served after the failed render"
assert_eq "$(db "SELECT current, coalesce(pending, 0), unsettled FROM domains WHERE name = '$R'")" "2|0|0" "domain row of $R"
rm -rf "$CERTD_STATE/domains/$R/.tmp-gen-3"

say "the reload after the rollback fails too: said plainly"
touch "$T/failreload"
leaf g13
run 1 ctl upload $D --server "$T/g13.pem" --key "$T/g13.key"
assert_contains "$out" "rolled back to generation 2"
assert_contains "$out" "but the reload after the rollback failed too: reload web"
rm "$T/failreload"
assert_eq "$(served $D)" "$(fp "$T/g2.pem")" "served after the double failure"

say "the swap back fails: said, and the next start finishes it"
# Generation 2's files go, and render.c cannot write them again.
rm -rf "$CERTD_STATE/domains/$D/gen-2"
mkdir -p "$CERTD_STATE/domains/$D/.tmp-gen-2/a/b/c/d/e/f"
touch "$T/fail"
leaf g14
run 1 ctl upload $D --server "$T/g14.pem" --key "$T/g14.key"
assert_contains "$out" "rollback to generation 2 failed"
assert_eq "$(db "SELECT current, coalesce(pending, 0), unsettled FROM domains WHERE name = '$D'")" "2|0|1" "left unsettled"
rm "$T/fail"
rm -rf "$CERTD_STATE/domains/$D/.tmp-gen-2"
stop_certd
start_certd "$CONF"
wait_for 20 sh -c "[ \"\$(sqlite3 '$CERTD_STATE/certd.db' \"SELECT unsettled FROM domains WHERE name = '$D'\")\" = 0 ]" ||
    fail "the restarted certd did not settle $D"
assert_eq "$(served $D)" "$(fp "$T/g2.pem")" "served after the recovery"
assert_contains "$(cat "$T/certd.log")" "$D: recovering: the last dependents run did not finish"

say "the store cannot record live: pending, and the next start makes it live"
mkfifo "$T/unlock"
touch "$T/lock"
leaf g15
on_exit "[ -p '$T/unlock' ] && (echo > '$T/unlock') 2>/dev/null &"
run 1 ctl upload $D --server "$T/g15.pem" --key "$T/g15.key"
assert_contains "$out" "is served but could not be recorded as live"
rm "$T/lock"
echo > "$T/unlock"
assert_eq "$(state $D)" pending "status while the generation is pending"
gen=$(db "SELECT pending FROM domains WHERE name = '$D'")
assert_eq "$(served $D)" "$(fp "$T/g15.pem")" "served while pending"
stop_certd
start_certd "$CONF"
wait_for 20 sh -c "[ \"\$(sqlite3 '$CERTD_STATE/certd.db' \"SELECT coalesce(pending, 0) || '|' || current FROM domains WHERE name = '$D'\")\" = '0|$gen' ]" ||
    fail "the restarted certd did not make generation $gen live"
assert_eq "$(state $D)" ok "status after the recovery"
echo "every failing commit path kept what is served and what the store says in step"

#!/bin/sh
# demo-nginx.sh: measures how long nginx keeps handing the old leaf to fresh
# connections after `nginx -s reload` (PITFALLS.md, nginx).  A private
# nginx (nginx.sh) serves current/fullchain.pem and current/key.pem of a
# certd-like domain directory; each round swaps `current` to the other
# generation, runs the reload, and opens fresh TLS connections back to back
# for DEMO_SECONDS (default 1.5) with tlsprobe.py.  Prints one JSON line a
# round and a summary.  Not a t-*.sh: run it by hand,
#   tests/integration/run demo-nginx          (log in .../logs/demo-nginx.log)
# DEMO_ROUNDS (default 20), NGINX_WORKERS (default 2).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/nginx.sh"
. "$top_srcdir/tests/integration/fakegen.sh"
need nginx openssl python3
[ "$(id -u)" -eq 0 ] || skip "needs root to start nginx"

D=example.test
PORT=$(free_port)
N=$T/nginx
DOM=$T/state/domains/$D

fake_pki "$DOM" 3
cp "$T/b.key" "$DOM/gen-3/key.pem"	# a key that does not match
fake_switch "$DOM" 1

mkdir -p "$N"
nginx_conf "$N" "$PORT" "$DOM/current/fullchain.pem" "$DOM/current/key.pem" $D
on_exit 'nginx_stop "$N"'
t0=$(date +%s%N)
nginx_start "$N" || fail "nginx does not start: $(cat "$N/error.log")"
wait_for 10 python3 "$PROBE" --port "$PORT" --name $D --seconds 0 ||
	fail "nginx does not answer"
echo "nginx start (to pid file): $(( ($(date +%s%N) - t0) / 1000000 )) ms"
out=$(python3 "$PROBE" --port "$PORT" --name $D --seconds 0.3 \
	--old "$T/a/server.pem" --new "$T/b.pem")
assert_contains "$out" '"new": 0' "before the first reload"

no_old_workers() {
	! ps -o args= --ppid "$(cat "$N/nginx.pid")" | grep -q 'shutting down'
}
say "$(cat "$N/nginx.pid") master, workers: $(pgrep -P "$(cat "$N/nginx.pid")" | tr '\n' ' ')"
rounds=${DEMO_ROUNDS:-20}
i=0
: > "$T/rounds"
while [ $i -lt "$rounds" ]; do
	i=$((i + 1))
	fake_flip "$DOM" 1 "$T/a/server.pem" 2 "$T/b.pem"
	r=$(python3 "$PROBE" --port "$PORT" --name $D --seconds "${DEMO_SECONDS:-1.5}" \
	    --old "$old" --new "$new" -- \
	    "$NGINX" -p "$N/" -e "$N/error.log" -c "$N/nginx.conf" -s reload) ||
		fail "reload: $r"
	echo "round $i: $r"
	echo "$r" >> "$T/rounds"
	# Let the old workers finish before the next round.
	wait_for 10 no_old_workers || fail "old workers stay: $(ps -o pid,args --ppid "$(cat "$N/nginx.pid")")"
done

say "summary over $rounds reloads ($(nproc) cores, ${NGINX_WORKERS:-2} workers)"
python3 - "$T/rounds" <<'EOF'
import json, sys, statistics as st
rs = [json.loads(l) for l in open(sys.argv[1])]
def pr(name, xs):
    xs = [x for x in xs if x is not None]
    if xs:
        print("%-34s min %7.1f  median %7.1f  max %7.1f  (n=%d)" %
              (name, min(xs), st.median(xs), max(xs), len(xs)))
    else:
        print("%-34s none" % name)
pr("reload command (ms)", [r["cmd_ms"] for r in rs])
pr("first new leaf (ms after t0)", [r["first_new_ms"] for r in rs])
pr("last old leaf (ms after t0)", [r["last_old_ms"] for r in rs])
late = [r for r in rs if r["old_after_new"]]
print("rounds with an old leaf after a new one: %d of %d" % (len(late), len(rs)))
pr("  old leaves after the first new", [r["old_after_new"] for r in late])
pr("  window: last old - first new (ms)",
   [r["last_old_ms"] - r["first_new_ms"] for r in late])
print("errors (refused/reset) in all rounds: %d of %d connections" %
      (sum(r["errors"] for r in rs), sum(r["connections"] for r in rs)))
EOF

say "nginx_reload_wait: then no fresh connection gets the old leaf"
i=0
while [ $i -lt 5 ]; do
	i=$((i + 1))
	fake_flip "$DOM" 1 "$T/a/server.pem" 2 "$T/b.pem"
	t0=$(date +%s%N)
	nginx_reload_wait "$N" || fail "nginx_reload_wait"
	w=$(( ($(date +%s%N) - t0) / 1000000 ))
	r=$(python3 "$PROBE" --port "$PORT" --name $D --seconds 0.3 --old "$old" --new "$new")
	echo "nginx_reload_wait took $w ms; then: $r"
	assert_contains "$r" '"old": 0,'
	assert_contains "$r" '"first_new_ms": 0.0,'
	wait_for 10 no_old_workers || fail "old workers stay"
done

say "a key that does not match (unlike Apache, nginx keeps serving)"
cur_gen=$(readlink "$DOM/current")
fake_switch "$DOM" 3
out=$(nginx_test "$N" 2>&1) && fail "nginx -t passed a wrong key"
echo "nginx -t: $out"
assert_contains "$out" "key values mismatch"
# -s reload parses the whole config, certificates included, before it
# signals: with a bad key it exits 1 and the master is never told.
n0=$(grep -c 'SIGHUP' "$N/error.log")
out=$(nginx_reload "$N" 2>&1) && fail "nginx -s reload passed a wrong key"
echo "nginx -s reload: exit 1: $out"
assert_eq "$(grep -c 'SIGHUP' "$N/error.log")" "$n0" "SIGHUPs received"
# A HUP straight to the master: it logs the error and keeps its workers.
kill -HUP "$(cat "$N/nginx.pid")"
wait_for 5 grep -q "\[emerg\] $(cat "$N/nginx.pid")#.*key values mismatch" "$N/error.log" ||
	fail "no emerg from the master"
grep "\[emerg\] $(cat "$N/nginx.pid")#" "$N/error.log" | tail -n 1
old=$T/a/server.pem; [ "$cur_gen" = gen-2 ] && old=$T/b.pem
out=$(python3 "$PROBE" --port "$PORT" --name $D --seconds 0.3 --old "$old" --new "$T/c.pem")
echo "after the HUP: $out"
assert_contains "$out" '"new": 0,'
assert_contains "$out" '"errors": 0,'
echo ok

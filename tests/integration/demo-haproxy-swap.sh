#!/bin/sh
# demo-haproxy-swap.sh: what certd's HAProxy dependent costs, runtime API
# swap against a reload.  A private HAProxy 2.6 (haproxy.sh) serves
# certd's current/bundle.pem; DEMO_ROUNDS (default 10) renewals go through
# certctl with each dependent in turn:
#   swap:   haproxy_socket/haproxy_crt (set + commit ssl cert, same pid)
#   reload: exec = sh -c 'haproxy -D ... -sf OLDPID' (a new process, the
#           old one finishing), what one would do without the runtime API
# both with verify (verify_count DEMO_VERIFY_COUNT, default 3).  Prints,
# per way, the certctl upload time (upload to served and verified), the
# reload step's own time, and in how many rounds the first fresh
# connection after certctl returned got the old leaf.  Not a t-*.sh: run
# it by hand,  tests/integration/run demo-haproxy-swap
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/haproxy.sh"
need haproxy openssl python3
[ "$(id -u)" -eq 0 ] || skip "needs root"
need_built "$CERTD" "$CERTCTL"

renewals example.test
PORT=$(free_port)
H=$T/haproxy
CUR=$CERTD_STATE/domains/$D/current
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

start_certd ""
cat "$T/a/root.pem" "$T/a/inter1.pem" "$T/a/server.pem" > "$T/a-bundle.pem"
run 0 ctl upload $D --bundle "$T/a-bundle.pem" --key "$T/a/server.key"
stop_certd
haproxy_conf "$H" "$PORT" "$CUR/bundle.pem"
on_exit 'haproxy_stop "$H"'
haproxy_start "$H" || fail "haproxy: $(cat "$H/haproxy.log")"
up() { [ -n "$(served_fp "$PORT" $D)" ]; }
wait_for 10 up || fail "haproxy does not answer"

common="verify = 127.0.0.1:$PORT
verify_name = $D
${DEMO_VERIFY_COUNT:+verify_count = $DEMO_VERIFY_COUNT}
domains = $D"
for way in swap reload; do
	if [ $way = swap ]; then
		dep="haproxy_socket = $H/admin.sock
haproxy_crt = $CUR/bundle.pem"
	else
		dep="exec = /bin/sh -c \"$HAPROXY -D -f $H/haproxy.cfg -p $H/haproxy.pid -sf \$(cat $H/haproxy.pid)\""
	fi
	start_certd "[dependent haproxy]
$dep
$common"
	say "$way"
	: > "$T/$way.times"
	i=0 stale=0 pids=""
	while [ $i -lt "${DEMO_ROUNDS:-10}" ]; do
		i=$((i + 1))
		if [ $((i % 2)) -eq 1 ]; then l=b; else l=c; fi
		t0=$(date +%s%N)
		run 0 ctl upload $D --server "$T/$l.pem" --key "$T/$l.key"
		total=$(ms "$t0")
		[ "$(served_fp "$PORT" $D)" = "$(cert_fp "$T/$l.pem")" ] || stale=$((stale + 1))
		step=$(printf '%s\n' "$out" | awk '$2 == "reload" { print $4; exit }')
		echo "$total $step" >> "$T/$way.times"
		pids="$pids $(cat "$H/haproxy.pid")"
	done
	stop_certd
	echo "pids: $(echo $pids | tr ' ' '\n' | sort -u | tr '\n' ' ')"
	echo "old leaf on the first fresh connection after certctl: $stale of $i"
	python3 - "$T/$way.times" "$way" <<'EOF'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
for k, name in ((0, "certctl upload (ms)"), (1, "reload step (ms)")):
    xs = [int(r[k]) for r in rows]
    print("%-7s %-20s min %5d  median %5d  max %5d" %
          (sys.argv[2], name, min(xs), st.median(xs), max(xs)))
EOF
done
echo ok

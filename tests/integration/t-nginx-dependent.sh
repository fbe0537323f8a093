#!/bin/sh
# t-nginx-dependent.sh: certd renews a real nginx (1.22, Debian 12).  A
# private nginx (nginx.sh: master and 2 workers, 127.0.0.1, all its files
# under $T) serves certd's current/fullchain.pem and current/key.pem; the
# dependent is the documented one: configtest `nginx -t`, exec `nginx -s
# reload`, verify (verify_count default 3).  Proves: after each of
# NGINX_ROUNDS (default 8) renewals, the first fresh connection after
# certctl returns gets the new leaf and its intermediate, though nginx's
# old workers keep accepting for ~100 ms after a reload (PITFALLS.md); a
# failing verify rolls back, and nginx serves the old leaf again.
# NGINX_VERIFY_COUNT sets verify_count (1 shows the old behaviour: the
# test then fails and says in how many rounds an old leaf came first).
# NGINX_SETTLE (e.g. 0.02, seconds) makes the exec wait that long after
# `nginx -s reload` returns, as a slower reload command (a script, a
# systemd job) does: verify's first handshake then lands while old and new
# workers both accept.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/nginx.sh"
need nginx openssl python3
[ "$(id -u)" -eq 0 ] || skip "needs root to start nginx"
need_built "$CERTD" "$CERTCTL"

dependent_fixture
N=$T/nginx
NG="$NGINX -p $N/ -e $N/error.log -c $N/nginx.conf"

EXEC="$NG -s reload"
[ -n "${NGINX_SETTLE:-}" ] && EXEC="/bin/sh -c \"$NG -s reload && sleep $NGINX_SETTLE\""
certd_conf() {	# VERIFY_PORT [VERIFY_TIMEOUT]
	cat <<EOC
[dependent nginx]
configtest = $NG -t
exec = $EXEC
$(verify_keys "$@")
${NGINX_VERIFY_COUNT:+verify_count = $NGINX_VERIFY_COUNT}
timeout = 10s
domains = $D
EOC
}
# first_leaf OLD NEW: which leaf one fresh connection gets: old, new or
# the fingerprint.
first_leaf() {
	_f=$(served_fp "$PORT" $D)
	if [ "$_f" = "$(cert_fp "$1")" ]; then echo old
	elif [ "$_f" = "$(cert_fp "$2")" ]; then echo new
	else echo "other: $_f"; fi
}

say "first chain, then nginx starts on certd's files"
start_certd ""
cat "$T/a/root.pem" "$T/a/inter1.pem" "$T/a/server.pem" > "$T/a-bundle.pem"
run 0 ctl upload $D --bundle "$T/a-bundle.pem" --key "$T/a/server.key"
mkdir -p "$N"
nginx_conf "$N" "$PORT" "$CUR/fullchain.pem" "$CUR/key.pem" $D
on_exit 'nginx_stop "$N"'
nginx_start "$N" || fail "nginx does not start: $(cat "$N/error.log")"
wait_for 10 python3 "$PROBE" --port "$PORT" --seconds 0 || fail "nginx does not answer"
stop_certd
start_certd "$(certd_conf "$PORT")"

rounds=${NGINX_ROUNDS:-8}
say "$rounds renewals under traffic: the first fresh connection after certctl returns"
# Traffic, as on a real server: busy old workers leave the accepts to the
# new ones, which is when one good handshake proves nothing (idle, the old
# workers take the first connections until they stop).
python3 "$PROBE" --port "$PORT" --name $D --seconds $((rounds * 3 + 10)) --gap ${NGINX_LOAD_GAP:-3} \
	>/dev/null 2>&1 &
LOAD_PID=$!
on_exit "kill $LOAD_PID 2>/dev/null"
# old_accepting PIDS: how many of these workers (the ones before the
# reload) still accept: alive and not "shutting down".
old_accepting() {
	_k=0
	for _q in $1; do
		case $(tr '\0' ' ' 2>/dev/null < "/proc/$_q/cmdline") in
		"nginx: worker process is shutting down"*|"") ;;
		"nginx: worker process"*) _k=$((_k + 1)) ;;
		esac
	done
	echo $_k
}
i=0 stale=0 open=0 old=$T/a/server.pem
while [ $i -lt "$rounds" ]; do
	i=$((i + 1))
	if [ $((i % 2)) -eq 1 ]; then new=$T/b.pem key=$T/b.key; else new=$T/c.pem key=$T/c.key; fi
	workers=$(pgrep -P "$(cat "$N/nginx.pid")")
	run 0 ctl upload $D --server "$new" --key "$key"
	k=$(old_accepting "$workers")	# first: it takes ~2 ms, s_client ~20
	got=$(first_leaf "$old" "$new")
	v=$(printf '%s\n' "$out" | grep ' verify ')
	echo "round $i: first connection: $got; old workers accepting: $k;$(printf '%s' "$v" | sed 's/.*: the new leaf/ the new leaf/')"
	[ "$got" = new ] || stale=$((stale + 1))
	[ "$k" -eq 0 ] || open=$((open + 1))
	old=$new
done
kill $LOAD_PID 2>/dev/null
echo "an old leaf on the first fresh connection in $stale of $rounds rounds"
echo "old workers still accepting when certctl returned in $open of $rounds rounds"
assert_eq "$stale" 0 "rounds with an old leaf first"
assert_eq "$open" 0 "rounds with old workers accepting when certctl returned"
out=$(echo | openssl s_client -connect "127.0.0.1:$PORT" -servername $D \
	-verify_return_error -verify_hostname $D -CAfile "$T/a/root.pem" 2>&1) ||
	fail "s_client: $out"
assert_contains "$out" "Verify return code: 0 (ok)"

say "a failing verify rolls back: nginx serves the old leaf again"
upload_rolls_back "$T/a/server.pem" "$T/a/server.key"
# The rollback's reload is not verified (commit.c runs it without), so
# nginx's old workers may hand out the rolled-back leaf for ~100 ms more.
serves_old() {
	python3 "$PROBE" --port "$PORT" --name $D --seconds 0.3 --old "$T/a/server.pem" \
	    --new "$old" | grep -q '"old": 0, "new": [1-9]'
}
wait_for 5 serves_old || fail "nginx does not settle on the previous leaf"
echo ok

#!/bin/sh
# t-commit-kill.sh: SIGKILL and SIGTERM at each dependent step of a commit
# (configtest, reload, verify) and in the rollback pass; then a restart.
# Each time, the restarted certd runs the dependents again on what it
# makes current, so the last completed dependents run was made on it:
# the store's current generation, `current`, and the leaf the service (a
# private openssl s_server that the reload restarts) serves all agree.
. "$top_srcdir/tests/integration/lib.sh"
need openssl sqlite3

D=example.test
PORT=$(free_port)
CUR=$CERTD_STATE/domains/$D/current
pki chain "$T/pki" --domain $D --inter 1 --key ec >/dev/null || fail "testpki"

# dep.sh STEP: a dependent's step.  It logs what `current` names when it
# starts and ends; it waits while $T/block-STEP names that generation
# (saying so in $T/at-STEP); it fails configtest while $T/bad names it.
# The reload (re)starts the service on the current files, unless
# $T/stale names the generation (then the old one keeps answering).
cat > "$T/dep.sh" <<EOS
step=\$1
gen=\$(readlink $CUR)
echo "\$step \$gen start" >> $T/runs.log
if [ -e $T/block-\$step ] && [ "\$(cat $T/block-\$step)" = "\$gen" ]; then
	: > $T/at-\$step
	while [ -e $T/block-\$step ]; do sleep 0.05; done
fi
if [ \$step = configtest ] && [ -e $T/bad ] && [ "\$(cat $T/bad)" = "\$gen" ]; then
	echo "\$step \$gen failed" >> $T/runs.log
	exit 1
fi
if [ \$step = reload ] && ! { [ -e $T/stale ] && [ "\$(cat $T/stale)" = "\$gen" ]; }; then
	[ -f $T/server.pid ] && kill \$(cat $T/server.pid) 2>/dev/null
	sleep 0.1
	openssl s_server -quiet -accept 127.0.0.1:$PORT -cert $CUR/cert.pem -cert_chain $CUR/chain.pem \\
	    -key $CUR/key.pem -www </dev/null >/dev/null 2>&1 &
	echo \$! > $T/server.pid
	while ! (echo | openssl s_client -connect 127.0.0.1:$PORT >/dev/null 2>&1); do sleep 0.05; done
fi
echo "\$step \$gen done" >> $T/runs.log
EOS
on_exit "pkill -f 's_server -quiet -accept 127.0.0.1:$PORT '"
CONF="stop_timeout = 1s
[dependent web]
configtest = /bin/sh $T/dep.sh configtest
exec = /bin/sh $T/dep.sh reload
verify = 127.0.0.1:$PORT
verify_name = $D
verify_timeout = 30s"

db() { sqlite3 "$CERTD_STATE/certd.db" "$1" || fail "sqlite3: $1"; }
served() { echo | openssl s_client -connect 127.0.0.1:$PORT -servername $D 2>/dev/null | openssl x509 -noout -fingerprint -sha256; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256; }

start_certd "$CONF"
run 0 ctl upload $D --bundle "$T/pki/bundle.pem" --key "$T/pki/server.key"
n=1

# kill_at SIGNAL STEP [rollback]: start the next commit, stop certd with
# SIGNAL when the dependent is at STEP (of the new generation, or of the
# old one in the rollback pass), restart, check.
kill_at() {
	sig=$1 step=$2 mode=${3:-}
	old=gen-$n
	n=$((n + 1))
	new=gen-$n
	rm -f "$T"/at-* "$T"/block-* "$T/bad" "$T/stale"
	if [ "$mode" = rollback ]; then
		echo $new > "$T/bad"
		echo $old > "$T/block-$step"
		want=$old
	else
		echo $new > "$T/block-$step"
		want=$new
	fi
	if [ "$step" = verify ]; then
		# The reload leaves the old server up: verify retries.
		rm -f "$T/block-verify"
		echo $new > "$T/stale"
	fi
	pki_leaf "$T/pki" "$T/leaf$n" $D
	ctl upload $D --server "$T/leaf$n.pem" --key "$T/leaf$n.key" >"$T/up.out" 2>&1 &
	up=$!
	if [ "$step" = verify ]; then
		wait_for 20 grep -q "reload ok.*generation=$n" "$T/certd.log" ||
		    fail "$sig at verify: the reload of $new did not happen"
		sleep 0.3	# a few verify attempts in
	else
		wait_for 20 test -e "$T/at-$step" || fail "$sig at $step: never got there"
	fi
	kill -"$sig" "$CERTD_PID"
	if [ "$sig" = KILL ]; then
		wait "$CERTD_PID" 2>/dev/null
		CERTD_PID=""
		# Under systemd a crash takes the unit's cgroup with it: the
		# dependent certd was running dies too.
		pkill -KILL -f "$T/dep.sh"
	else
		wait "$CERTD_PID"
		assert_eq "$?" 0 "certd's exit status after SIGTERM at $step"
		CERTD_PID=""
	fi
	wait $up
	rm -f "$T"/block-* "$T/stale"
	echo "restart" >> "$T/runs.log"
	start_certd "$CONF"
	wait_for 30 sh -c "[ \"\$(sqlite3 '$CERTD_STATE/certd.db' \"SELECT coalesce(pending, 0) || unsettled FROM domains WHERE name = '$D'\")\" = 00 ]" ||
	    fail "$sig at $step${mode:+ ($mode)}: not settled after the restart"
	assert_eq "gen-$(db "SELECT current FROM domains WHERE name = '$D'")" $want "$sig at $step${mode:+ ($mode)}: the store's current"
	assert_eq "$(readlink "$CUR")" $want "$sig at $step${mode:+ ($mode)}: current"
	# The last completed reload, made after the restart, on $want.
	last=$(sed -n '/^restart$/,$p' "$T/runs.log" | grep "^reload .* done$" | tail -n 1)
	assert_eq "$last" "reload $want done" "$sig at $step${mode:+ ($mode)}: the last reload"
	assert_eq "$(served)" "$(fp "$CUR/cert.pem")" "$sig at $step${mode:+ ($mode)}: the served leaf"
	say "$sig at $step${mode:+ ($mode)}: $want current, reloaded and served"
}

for sig in KILL TERM; do
	kill_at $sig configtest
	kill_at $sig reload
	kill_at $sig verify
	kill_at $sig reload rollback
done
echo "after every kill, the restarted certd finished the commit on what is current"

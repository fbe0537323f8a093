#!/bin/sh
# t-status-fresh: certd keeps its GET /v1/status answer while nothing in it
# changes (a monitor may poll it thousands of times a second), and drops it
# the moment something does.  Each change below is followed at once by a
# status that must show it; the pair counts only when both answers came
# in the same second (same "uptime"), when only the dropping of the kept
# answer can make them differ, so each kind of change is tried until it
# has been seen that way: a staged upload, a discard, a commit, a
# dependent's new result (POST /v1/reload) and a config reload (SIGHUP).
. "$top_srcdir/tests/integration/lib.sh"
need curl python3
D=fresh.test
pki chain "$T/p" --domain $D >/dev/null || fail "testpki chain"
# The dependent fails while $T/fail exists.
echo '[ ! -e "$1/fail" ]' > "$T/dep.sh"
start_certd "[dependent hook]
exec = /bin/sh $T/dep.sh $T"

# What status says, as one line: uptime, then the rest.
st() { api GET /v1/status | json_get '"%d %s" % (j["uptime"], [
    [(d["domain"], d["state"], d["staged"], d["generation"]) for d in j["domains"]],
    [(p["name"], p["last"] and p["last"]["result"]) for p in j["dependents"]]])'; }

# fresh LABEL: before_LABEL if there is one, status (twice, so the second
# is the kept answer), then change_LABEL (which makes a change and sets
# $want), then status again, which must contain $want; tried again until
# both answers came in one second.
fresh() {
	_i=0
	while :; do
		_i=$((_i + 1))
		[ $_i -le 20 ] || fail "$1: 20 tries, never two answers in one second"
		! command -v before_$1 >/dev/null || before_$1
		_a=$(st) && _a=$(st) || fail "status before $1"
		change_$1
		_b=$(st) || fail "status after $1"
		assert_contains "$_b" "$want" "status right after $1 (try $_i)"
		[ "${_a%% *}" = "${_b%% *}" ] && break
	done
	say "$1: shown at once (try $_i)"
}

# An upload staged, then discarded.
before_stage() { api DELETE /v1/domains/$D/staged >/dev/null || :; }
change_stage() {
	form_upload $D root 1 "$T/p/root.pem" >/dev/null || fail "root upload"
	want="('$D', 'staged', 1, 0)"
}
before_discard() { change_stage; }
change_discard() {
	api DELETE /v1/domains/$D/staged >/dev/null || fail "discard"
	want="[[], "
}
fresh stage
fresh discard

# A dependent's result: failed, ok, failed... (it fails while $T/fail is).
assert_contains "$(st)" "('hook', None)" "status before any reload"
change_reload() {
	if [ -e "$T/fail" ]; then rm "$T/fail"; want="('hook', 'ok')"
	else : > "$T/fail"; want="('hook', 'failed')"; fi
	api POST /v1/reload >/dev/null	# refused when the dependent fails
}
fresh reload
rm -f "$T/fail"

# A commit: each try makes the next generation.
need_built "$CERTCTL"
gen=0
change_commit() {
	ctl upload $D --bundle "$T/p/bundle.pem" --key "$T/p/server.key" >/dev/null ||
	    fail "commit refused"
	gen=$((gen + 1))
	want="('$D', 'ok', 0, $gen)"
}
fresh commit

# SIGHUP: the dependents' list changes with the config.
reloads() { grep -c "configuration reloaded" "$T/certd.log"; }
hup_done() { [ "$(reloads)" -gt "$hups" ]; }
change_hup() {
	case $(grep '^\[dependent' "$T/certd.conf") in
	*hook*)	new=other old=hook ;;
	*)	new=hook old=other ;;
	esac
	hups=$(reloads)
	sed -i "s/^\[dependent .*\]/[dependent $new]/" "$T/certd.conf"
	kill -HUP "$CERTD_PID"
	wait_for 10 hup_done || fail "SIGHUP not taken"
	want="('$new', "
	assert_not_contains "$(st)" "'$old'" "status right after SIGHUP"
}
fresh hup
echo "status is never older than what it shows: ok"

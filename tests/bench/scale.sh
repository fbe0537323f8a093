#!/bin/sh
# tests/bench/scale.sh: does certd stay as fast with 10,000 domains as with
# 10?  For each N in BENCH_SCALE (default "10 1000 10000"): N domains are
# committed (one bundle each), then BENCH_RENEW renewals spread over them
# are timed (commit p50/p99), then GET /v1/status and /metrics (median of
# 20, one client), certd's RSS, a restart's time to READY=1 and to the
# first answer, and the RSS after the restart once its background file
# check is done.  Prints one table, then the floor under the idle RSS
# (what the same libraries cost a process that does nothing).
#
# Env: top_builddir (default: cwd), BENCH_SCALE, BENCH_RENEW (500),
# BENCH_DIR (default /var/tmp: a disk, not tmpfs).
. "$(dirname "$0")/lib.sh"
: "${BENCH_SCALE:=10 1000 10000}"
: "${BENCH_RENEW:=500}"
: "${BENCH_DIR:=/var/tmp}"
LOAD=$top_builddir/tests/tools/commitload
bench_built "$CERTD" "$TESTPKI" "$LOAD"
T=$(mktemp -d "$BENCH_DIR/certd-bench-scale.XXXXXX")
trap 'pkill -f "$T/" 2>/dev/null || :; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
"$TESTPKI" chain "$T/pki" --domain bench.test --inter 1 --key ec >/dev/null

# timing.py MODE SOCKET ...: the measurements that need a clock close by.
cat > "$T/timing.py" <<'PY'
import os, socket, statistics, subprocess, sys, time
def get(sock, path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(b"GET " + path.encode() + b" HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        data += d
    s.close()
    if b" 200 " not in data.split(b"\r\n", 1)[0]:
        raise SystemExit("GET %s: %r" % (path, data[:200]))
    return len(data)
mode, sock = sys.argv[1], sys.argv[2]
if mode == "get":		# get SOCK PATH: median ms of 20, and the size
    ts = []
    for _ in range(21):
        t0 = time.monotonic(); n = get(sock, sys.argv[3]); ts.append(time.monotonic() - t0)
    print("%.1f %d" % (statistics.median(ts[1:]) * 1000, n))
elif mode == "start":		# start SOCK CERTD DIR: ms to READY=1, ms to an answer
    nsock = sys.argv[4] + ".notify"
    if os.path.exists(nsock):
        os.unlink(nsock)
    n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n.bind(nsock)
    n.settimeout(60)
    env = {"NOTIFY_SOCKET": nsock, "PATH": "/usr/bin:/bin"}
    t0 = time.monotonic()
    p = subprocess.Popen([sys.argv[3], "-d", "-D", sys.argv[4]], env=env,
        stdout=subprocess.DEVNULL, stderr=open(sys.argv[4] + ".log", "a"))
    # certd says READY=1 just before its loop starts to answer: wait for
    # it first, or a blocked request would stamp it late.  The answer is
    # to what certctl status asks first (the summary, attention rows).
    while b"READY=1" not in n.recv(4096):
        pass
    ready = time.monotonic() - t0
    answer = None
    while answer is None:
        try:
            get(sock, "/v1/status?attention=1")
            answer = time.monotonic() - t0
        except OSError:
            time.sleep(0.001)
        if time.monotonic() - t0 > 60:
            raise SystemExit("certd did not start")
    print("%.0f %.0f %d" % (ready * 1000, answer * 1000, p.pid))
PY
# Resident set from smaps_rollup: VmRSS lags (per-CPU counters) and can
# still count 5 MB replies unmapped moments ago.
# anon: what is certd's own (heap, SQLite's cache), not shared libraries'
# pages.
rss() { awk '/^Rss:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/smaps_rollup"; }
anon() { awk '/^Anonymous:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/smaps_rollup"; }

printf '%-8s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n' domains "commit50" "commit99" \
    "status" "metrics" "RSS" "ready" "answers" "idleRSS" "idleAnon" "status KB"
printf '%-8s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n' "" ms ms ms ms MiB ms ms MiB MiB ""
for n in $BENCH_SCALE; do
	D=$T/run-$n
	S=$D/control.sock
	set -- $(python3 "$T/timing.py" start "$S" "$CERTD" "$D")
	pid=$3
	"$LOAD" "$S" "$T/pki" -n "$n" -D "$n" >/dev/null
	renew=$BENCH_RENEW
	[ "$renew" -le "$n" ] || renew=$n
	[ "$renew" -ge 100 ] || renew=100
	set -- $("$LOAD" "$S" "$T/pki" -n "$renew" -D "$n")
	c50=$4 c99=$6
	set -- $(python3 "$T/timing.py" get "$S" /v1/status)
	st=$1 stsize=$(( $2 / 1024 ))
	set -- $(python3 "$T/timing.py" get "$S" /metrics)
	mt=$1
	r=$(rss "$pid")
	kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	# Three restarts, the median: the first after the load also waits on
	# the disk catching up with it.
	: > "$T/starts"
	for i in 1 2 3; do
		[ "$i" -eq 1 ] || { kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; }
		python3 "$T/timing.py" start "$S" "$CERTD" "$D" >> "$T/starts"
		pid=$(tail -n 1 "$T/starts" | cut -d' ' -f3)
	done
	ready=$(cut -d' ' -f1 "$T/starts" | sort -n | sed -n 2p)
	ans=$(cut -d' ' -f2 "$T/starts" | sort -n | sed -n 2p)
	# Idle: once the background file check is done.
	until curl -s --unix-socket "$S" "http://certd/v1/status?attention=1" |
	    grep -q '"unchecked":0}'; do
		sleep 0.2
	done
	sleep 1
	ir=$(rss "$pid") ia=$(anon "$pid")
	kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	printf '%-8s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n' "$n" "$c50" "$c99" "$st" \
	    "$mt" "$r" "$ready" "$ans" "$ir" "$ia" "$stsize"
	rm -rf "$D"
done

# The floor under idleRSS: a process linked like certd that loads and
# initialises the same libraries and does nothing else.  What certd itself
# holds is idleRSS minus this.
FLOOR=$top_builddir/tests/tools/rssfloor
if [ -x "$FLOOR" ]; then
	"$FLOOR" > "$T/floor.pid" &
	fpid=$!
	until [ -s "$T/floor.pid" ]; do sleep 0.05; done
	sleep 0.5
	echo "floor under idleRSS (tests/tools/rssfloor: certd's libraries loaded and initialised, nothing else): $(rss "$fpid") MiB"
	kill "$fpid"
fi

# tests/integration/sysboot.sh: a real systemd as PID 1 of its own mount,
# pid, uts, net and cgroup namespaces, on a throwaway overlay of the root
# file system (see PITFALLS.md, "A real systemd on these machines").
# Source it after lib.sh, then:
#   $SYSBOOT_STAGE        a directory laid over / when the overlay is made:
#                         put files for the booted system here before
#                         sysboot_start (make install DESTDIR=$SYSBOOT_STAGE)
#   sysboot_mask UNIT...  mask units in the booted system (before the boot)
#   sysboot_start         boots; returns once `systemctl is-system-running`
#                         says running or degraded; sets SYSBOOT_PID (the host
#                         pid of that systemd) and SYSBOOT_ROOT (its / seen
#                         from outside, /proc/PID/root)
#   sysboot_sh CMD...     runs CMD inside (nsenter into every namespace),
#                         with a clean environment
#   sysboot_stop          SIGKILLs the whole booted system and waits until
#                         every process of it is gone, which unmounts the
#                         overlay and frees its tmpfs (registered with
#                         on_exit by sysboot_start)
#   sysboot_dump          failed units and the end of the journal inside
#                         (run by on_exit when the test fails)
#
# Nothing here may touch the machine outside: the overlay's upper layer lives
# in a tmpfs mounted only inside the new mount namespace (it goes when the
# namespace does); /run and /tmp are fresh tmpfs; /dev is a fresh tmpfs with
# the few host device nodes a system needs bound in (the host's /dev would let
# the journal's socket unit create /dev/log and PID 1 write to the machine's
# console); /sys and /proc/sys are read-only, and systemd is told it runs in a
# container, so it loads no modules and sets no clock, sysctl or binfmt.
# The booted systemd gets a cgroup of its own (a child of the host's cgroup2
# root, and the root of its cgroup namespace), so it manages nothing else and
# the whole tree can be killed at once with cgroup.kill.

SYSBOOT_STAGE=$T/sysboot-stage
SYSBOOT_TARGET=sysboot.target
SYSBOOT_PID=""
SYSBOOT_ROOT=""
SYSBOOT_CG=""
_sysboot_unshare=""

umask 022
mkdir -p "$SYSBOOT_STAGE/etc/systemd/system" \
    "$SYSBOOT_STAGE/etc/systemd/journald.conf.d"
# The boot target: the early boot (with the masks below, little more than
# the journal) and the sockets, dbus.socket among them.
cat > "$SYSBOOT_STAGE/etc/systemd/system/$SYSBOOT_TARGET" <<'EOF'
[Unit]
Description=certd integration test system (tests/integration/sysboot.sh)
Requires=sysinit.target sockets.target
After=sysinit.target sockets.target
AllowIsolate=yes
EOF
# The journal in memory only: quick, and gone with the tmpfs.
printf '[Journal]\nStorage=volatile\nRateLimitBurst=0\n' \
    > "$SYSBOOT_STAGE/etc/systemd/journald.conf.d/sysboot.conf"
# No mounts from the host's fstab; a name of its own (its own uts namespace).
echo "# sysboot: no mounts" > "$SYSBOOT_STAGE/etc/fstab"
echo sysboot > "$SYSBOOT_STAGE/etc/hostname"
{ cat /etc/hosts; echo "127.0.1.1 sysboot"; } > "$SYSBOOT_STAGE/etc/hosts"

sysboot_mask() {
	for _u in "$@"; do
		ln -sfn /dev/null "$SYSBOOT_STAGE/etc/systemd/system/$_u"
	done
}
# Everything the early boot and the sockets pull in is slow, irrelevant or
# host-wide in a container (udev, sysctl, binfmt, clock, random seed,
# tmpfiles over the whole tree), except the journal and D-Bus.
_sysboot_keep=" systemd-journald.service systemd-journald.socket"
_sysboot_keep="$_sysboot_keep systemd-journald-dev-log.socket dbus.socket dbus.service "
for _w in /lib/systemd/system /etc/systemd/system; do
	for _u in "$_w"/sysinit.target.wants/* "$_w"/sockets.target.wants/* \
	    "$_w"/local-fs.target.wants/* "$_w"/local-fs-pre.target.wants/*; do
		[ -e "$_u" ] || [ -L "$_u" ] || continue
		_u=${_u##*/}
		case $_sysboot_keep in *" $_u "*) continue ;; esac
		sysboot_mask "$_u"
	done
done
sysboot_mask getty.target console-getty.service getty@.service \
    systemd-logind.service systemd-networkd.service networking.service \
    systemd-timesyncd.service systemd-resolved.service remote-fs.target \
    systemd-update-utmp.service systemd-update-utmp-runlevel.service \
    systemd-journal-catalog-update.service systemd-hwdb-update.service \
    ldconfig.service systemd-journald-audit.socket systemd-remount-fs.service

# The first stage runs as PID 1 of the new pid namespace: it moves into the
# booted system's own cgroup, then the second stage runs in a new cgroup
# namespace rooted there, builds the root and execs systemd (still PID 1).
_sysboot_stage1='
set -e
echo 0 > "$3/cgroup.procs"
exec unshare --cgroup -- sh -c "$4" sysboot-stage2 "$@"
'
_sysboot_stage2='
set -e
sb=$1 stage=$2 console=$5
mount -t tmpfs -o mode=0755 sysboot "$sb"
mkdir "$sb/upper" "$sb/work" "$sb/root"
cp -a "$stage/." "$sb/upper/"
mount -t overlay overlay -o "lowerdir=/,upperdir=$sb/upper,workdir=$sb/work" "$sb/root"
r=$sb/root
mount -t proc -o nosuid,nodev,noexec proc "$r/proc"
mount --bind "$r/proc/sys" "$r/proc/sys"
mount -o remount,bind,ro "$r/proc/sys"
mount --bind /sys "$r/sys"
mount -o remount,bind,ro,nosuid,nodev,noexec "$r/sys"
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$r/sys/fs/cgroup"
mount -t tmpfs -o mode=0755,nosuid dev "$r/dev"
for n in null zero full random urandom tty; do
	: > "$r/dev/$n"
	mount --bind "/dev/$n" "$r/dev/$n"
done
: > "$r/dev/console"
mount --bind "$console" "$r/dev/console"
mkdir "$r/dev/pts" "$r/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$r/dev/pts"
ln -s pts/ptmx "$r/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$r/dev/shm"
ln -s /proc/self/fd "$r/dev/fd"
ln -s /proc/self/fd/0 "$r/dev/stdin"
ln -s /proc/self/fd/1 "$r/dev/stdout"
ln -s /proc/self/fd/2 "$r/dev/stderr"
mount -t tmpfs -o mode=0755,nosuid,nodev run "$r/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$r/tmp"
hostname sysboot
ip link set lo up
cd "$r"
pivot_root . .
umount -l .
cd /
exec env -i container=certd-sysboot /lib/systemd/systemd --system --unit='"$SYSBOOT_TARGET"'
'

# sysboot_start: boot the system (SYSBOOT_STAGE laid over /) and wait until
# it is up.
sysboot_start() {
	need unshare nsenter pivot_root ip
	# A directory of the stage where / has a symlink (/lib -> usr/lib,
	# /var/run -> /run) would replace that symlink in the overlay.
	_bad=$(cd "$SYSBOOT_STAGE" && find . -mindepth 1 -type d | while read -r _d; do
		[ -L "/${_d#./}" ] && echo "/${_d#./}"; done)
	[ -z "$_bad" ] || fail "the stage has directories where / has symlinks: $_bad"
	_cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	[ -n "$_cgroot" ] || skip "no cgroup2 hierarchy mounted on the host"
	SYSBOOT_CG=$_cgroot/certd-sysboot.${T##*.}
	mkdir "$SYSBOOT_CG" || skip "cannot create a cgroup under $_cgroot"
	mkdir -p "$T/sysboot"
	: > "$T/sysboot-console.log"
	# Everything the test may leave behind goes, whatever happens next;
	# before that, a failed test shows the end of the booted journal.
	on_exit sysboot_stop
	on_exit '[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || sysboot_dump'
	# --kill-child: if unshare dies, so does the booted system.
	unshare --mount --pid --uts --net --fork --kill-child=KILL -- \
	    sh -c "$_sysboot_stage1" sysboot-stage1 "$T/sysboot" \
	    "$SYSBOOT_STAGE" "$SYSBOOT_CG" "$_sysboot_stage2" \
	    "$T/sysboot-console.log" >"$T/sysboot.log" 2>&1 &
	_sysboot_unshare=$!
	_n=50
	while [ $_n -gt 0 ]; do
		# unshare's child execs its way to systemd, keeping its pid.
		SYSBOOT_PID=$(pgrep -P "$_sysboot_unshare" | head -n 1)
		[ -n "$SYSBOOT_PID" ] &&
		    [ "$(cat "/proc/$SYSBOOT_PID/comm" 2>/dev/null)" = systemd ] && break
		kill -0 "$_sysboot_unshare" 2>/dev/null || break
		sleep 0.1; _n=$((_n - 1))
	done
	if [ $_n -eq 0 ] || ! kill -0 "$_sysboot_unshare" 2>/dev/null; then
		_r=$(cat "$T/sysboot.log")
		case $_r in
		*"Operation not permitted"*|*"Invalid argument"*)
			skip "cannot create the namespaces or the overlay: $_r" ;;
		esac
		fail "systemd did not start as PID 1 of its namespaces: $_r"
	fi
	SYSBOOT_ROOT=/proc/$SYSBOOT_PID/root
	_sysboot_state=""
	_n=300
	while [ $_n -gt 0 ]; do
		_sysboot_state=$(sysboot_sh systemctl is-system-running 2>/dev/null)
		case $_sysboot_state in running|degraded) break ;; esac
		kill -0 "$SYSBOOT_PID" 2>/dev/null || break
		sleep 0.1; _n=$((_n - 1))
	done
	case $_sysboot_state in
	running) ;;
	degraded)
		echo "sysboot: degraded; failed units:"
		sysboot_sh systemctl --failed --no-legend ;;
	*)
		echo "--- console of the booted system"; cat "$T/sysboot-console.log"
		echo "--- jobs"; sysboot_sh systemctl list-jobs --no-legend
		fail "the booted system is '$_sysboot_state', not running" ;;
	esac
}

# sysboot_sh CMD...: CMD inside the booted system (all its namespaces, its
# root), with a clean environment.
sysboot_sh() {
	nsenter -t "$SYSBOOT_PID" -a -- env -i \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

# sysboot_dump: what went on inside (for a failed test's log).
sysboot_dump() {
	[ -n "$SYSBOOT_PID" ] && kill -0 "$SYSBOOT_PID" 2>/dev/null || return 0
	echo "--- booted system: failed units"
	sysboot_sh systemctl --failed --no-legend --no-pager
	echo "--- booted system: journal (last 80 lines)"
	sysboot_sh journalctl --no-pager -n 80 -o short-monotonic
}

# sysboot_stop: kill the booted system (its whole cgroup tree; the pid
# namespace dies with its PID 1, the mount namespace and its tmpfs with the
# last process in it), wait for it to go, remove its cgroup.
sysboot_stop() {
	[ -n "$SYSBOOT_CG" ] || return 0
	[ -f "$SYSBOOT_CG/cgroup.kill" ] && echo 1 > "$SYSBOOT_CG/cgroup.kill" 2>/dev/null
	[ -n "$SYSBOOT_PID" ] && kill -KILL "$SYSBOOT_PID" 2>/dev/null
	[ -n "$_sysboot_unshare" ] && wait "$_sysboot_unshare" 2>/dev/null
	_n=50
	while [ $_n -gt 0 ] && ! grep -q '^populated 0' "$SYSBOOT_CG/cgroup.events" 2>/dev/null; do
		[ -e "$SYSBOOT_CG" ] || break
		sleep 0.1; _n=$((_n - 1))
	done
	find "$SYSBOOT_CG" -depth -type d -exec rmdir {} + 2>/dev/null
	[ -e "$SYSBOOT_CG" ] && echo "sysboot: cannot remove $SYSBOOT_CG" >&2
	SYSBOOT_CG="" SYSBOOT_PID="" _sysboot_unshare=""
}

#!/usr/bin/env python3
"""crash.py: kill certd at every system call of a whole commit, restart it,
and check that what is current is still what was verified.

Each kill point is one (scenario, syscall, N): certd is killed (strace
injects SIGKILL) at the Nth call of that syscall of the scenario:

  ok        over a live generation 1, generation 2 is stored, rendered,
            published, its dependent (which restarts a private openssl
            s_server on the current files) runs, verify passes, it goes
            live;
  rollback  the same, but generation 2's configtest fails: it is rolled
            back, the files go back, the dependent runs again on 1;
  newroot   a bundle with another root and intermediate replaces the chain;
  prune     over live generations 1..3 with keep_generations = 2, a fourth
            goes live and the oldest go;
  request   over live generations 1..3, `certctl rollback` to 2;
  first     the first commit of the domain, over an empty store;
  recover   certd starts on a store a crash left with generation 2
            pending (its files swapped in, its dependents not run): the
            start itself is traced;
  recover-bad  the same, but generation 2's configtest now fails: the
            start rolls back to 1.

After each kill certd is started again, and once it has settled:

  - the database passes PRAGMA integrity_check;
  - `current` names the store's current generation, and that directory
    matches its manifest, re-hashed here (not with certd's own check);
  - nothing is pending or unsettled;
  - the publish links point into current/;
  - the server serves the store's current leaf (openssl s_client);
  - a fresh upload commits, and the server then serves its leaf.

"first" may also end with nothing of the domain committed: no `current`
at all, and then the fresh upload must still commit.

Usage: crash.py --builddir DIR [--every K] [--max N]
--every K tries one kill point in K (the sample make check runs); the
default, 1, is all of them (make crash).
"""
import argparse, json, os, re, shutil, signal, socket
import subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rehash import rehash

SYSCALLS = ["write", "pwrite64", "fsync", "fdatasync", "openat", "renameat",
    "renameat2", "symlinkat", "unlinkat", "mkdirat", "fchmod", "fchown",
    "clone"]
DOMAIN = "crash.test"

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p

class Crash:
    def __init__(self, args):
        self.b = args.builddir
        self.T = tempfile.mkdtemp(prefix="certd-crash.")
        os.chmod(self.T, 0o755)
        self.state = os.path.join(self.T, "state")
        self.sock = os.path.join(self.T, "control.sock")
        self.port = free_port()
        self.certd = None
        self.cur = os.path.join(self.state, "domains", DOMAIN, "current")
        self.pub = os.path.join(self.T, "pub")
        self.n = 0

    # --- setup ------------------------------------------------------------
    def sh(self, *cmd, check=True, **kw):
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, **kw)
        if check and r.returncode != 0:
            raise SystemExit("FAIL: %s: exit %d: %s" % (" ".join(cmd),
                r.returncode, r.stdout))
        return r

    def setup(self):
        pki = os.path.join(self.T, "pki")
        self.sh(os.path.join(self.b, "tests/testpki"), "chain", pki,
            "--domain", DOMAIN, "--inter", "1", "--key", "ec")
        self.sh(os.path.join(self.b, "tests/testpki"), "chain", self.T +
            "/pki2", "--domain", DOMAIN, "--inter", "1", "--key", "ec")
        os.mkdir(self.pub)
        dep = os.path.join(self.T, "dep.sh")
        with open(dep, "w") as f:
            f.write("""step=$1
gen=$(readlink {cur})
while [ -e {T}/block ]; do sleep 0.05; done
if [ $step = configtest ]; then
	[ "$(cat {T}/bad 2>/dev/null)" != "$gen" ] || exit 1
	exit 0
fi
[ -f {T}/server.pid ] && kill $(cat {T}/server.pid) 2>/dev/null
while (echo | openssl s_client -connect 127.0.0.1:{port} >/dev/null 2>&1); do sleep 0.02; done
openssl s_server -quiet -accept 127.0.0.1:{port} -cert {cur}/cert.pem \\
    -cert_chain {cur}/chain.pem -key {cur}/key.pem -www </dev/null >/dev/null 2>&1 &
echo $! > {T}/server.pid
while ! (echo | openssl s_client -connect 127.0.0.1:{port} >/dev/null 2>&1); do sleep 0.02; done
""".format(cur=self.cur, T=self.T, port=self.port))
        self.conf = os.path.join(self.T, "certd.conf")
        with open(self.conf, "w") as f:
            f.write("""[certd]
state_dir = {state}
socket = {sock}
keep_generations = 2
stop_timeout = 1s
[domain {d}]
publish_cert = {pub}/cert.crt
publish_key = {pub}/cert.key
publish_chain = {pub}/chain.crt
[dependent web]
configtest = /bin/sh {T}/dep.sh configtest
exec = /bin/sh {T}/dep.sh reload
verify = 127.0.0.1:{port}
verify_name = {d}
verify_timeout = 10s
""".format(state=self.state, sock=self.sock, d=DOMAIN, pub=self.pub,
                T=self.T, port=self.port))
        # The bases kill points start from.  empty: nothing yet.
        os.mkdir(self.state, 0o700)
        self.snapshot("empty")
        # base1: generation 1 live.
        self.start()
        self.upload(os.path.join(pki, "bundle.pem"),
            os.path.join(pki, "server.key"), bundle=True)
        self.stop()
        self.snapshot("base1")
        # base3: generations 1, 2, 3 live.
        self.start()
        for _ in range(2):
            self.upload(*self.leaf())
        self.stop()
        self.snapshot("base3")
        # pending: generation 2 stored and swapped in, certd killed while
        # its dependent ran.
        self.restore("base1")
        self.start()
        open(self.T + "/block", "w").close()
        cert, key = self.leaf()
        ctl = subprocess.Popen([os.path.join(self.b, "certctl/certctl"),
            "-s", self.sock, "upload", DOMAIN, "--server", cert, "--key",
            key], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while os.readlink(self.cur) != "gen-2":
            time.sleep(0.05)
        time.sleep(0.3)
        self.certd.kill()
        self.certd.wait()
        self.certd = None
        ctl.wait()
        self.orphans()
        os.unlink(self.T + "/block")
        self.snapshot("pending")

    def snapshot(self, name):
        for d, b in ((self.state, "state"), (self.pub, "pub")):
            shutil.copytree(d, "%s/%s-%s" % (self.T, name, b), symlinks=True)

    def leaf(self, pki=None):
        pki = pki or self.T + "/pki"
        self.n += 1
        out = os.path.join(self.T, "leaf%d" % self.n)
        self.sh(os.path.join(self.b, "tests/testpki"), "cert", out + ".pem",
            "--issuer", pki + "/inter1.pem", "--issuer-key",
            pki + "/inter1.key", "--cn", DOMAIN, "--dns", DOMAIN,
            "--eku", "server", "--key", "ec", "--key-out", out + ".key")
        return out + ".pem", out + ".key"

    # --- certd --------------------------------------------------------------
    def start(self, strace=None):
        """Start certd (under strace args, for recover); wait until it
        answers, or has died (a kill point)."""
        log = open(os.path.join(self.T, "certd.log"), "a")
        cmd = [os.path.join(self.b, "certd"), "-d", "-f", self.conf]
        if strace is not None:
            cmd = ["strace", "-qq"] + strace + ["--"] + cmd
        self.certd = subprocess.Popen(cmd, stdout=log, stderr=log)
        self.pid = self.certd.pid
        for _ in range(200):
            if self.status() is not None or self.certd.poll() is not None:
                if strace is not None:
                    self.certd_pid()
                return
            time.sleep(0.05)
        raise SystemExit("FAIL: certd does not answer")

    def certd_pid(self):
        """certd's pid under strace (its only child), once it runs."""
        kids = subprocess.run(["pgrep", "-P", str(self.certd.pid)],
            stdout=subprocess.PIPE, text=True).stdout.split()
        if kids:
            self.pid = int(kids[0])

    def stop(self):
        if self.certd is None:
            return
        # Under strace (recover) the signal goes to certd itself.
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        rc = self.certd.wait(30)
        self.certd = None
        if rc != 0:
            raise SystemExit("FAIL: certd exited %d on SIGTERM" % rc)

    def status(self):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(5)
            s.connect(self.sock)
            s.sendall(b"GET /v1/status HTTP/1.0\r\n\r\n")
            data = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
            s.close()
            return json.loads(data.split(b"\r\n\r\n", 1)[1])
        except (OSError, ValueError, IndexError):
            return None

    def upload(self, cert, key, bundle=False, expect=0):
        ctl = [os.path.join(self.b, "certctl/certctl"), "-s", self.sock,
            "-t", "30", "upload", DOMAIN]
        ctl += ["--bundle", cert] if bundle else ["--server", cert]
        ctl += ["--key", key]
        r = self.sh(*ctl, check=False)
        if expect is not None and r.returncode != expect:
            raise SystemExit("FAIL: upload exited %d, expected %d: %s" %
                (r.returncode, expect, r.stdout))
        return r

    def orphans(self):
        # Under systemd a crash takes the cgroup: dependents die with it.
        subprocess.run(["pkill", "-KILL", "-f", self.T + "/dep.sh"])

    # --- one scenario -------------------------------------------------------
    BASE = {"ok": "base1", "rollback": "base1", "newroot": "base1",
        "prune": "base3", "request": "base3", "first": "empty",
        "recover": "pending", "recover-bad": "pending"}
    SCENARIOS = ("ok", "rollback", "newroot", "prune", "request", "first",
        "recover", "recover-bad")

    def restore(self, base, bad=None):
        self.orphans()
        for d, b in ((self.state, "state"), (self.pub, "pub")):
            shutil.rmtree(d, ignore_errors=True)
            shutil.copytree("%s/%s-%s" % (self.T, base, b), d, symlinks=True)
        if bad is not None:
            open(self.T + "/bad", "w").write(bad)
        elif os.path.exists(self.T + "/bad"):
            os.unlink(self.T + "/bad")
        # The service serves what `current` names, as it did.
        if os.path.lexists(self.cur):
            self.sh("/bin/sh", self.T + "/dep.sh", "reload")
        elif os.path.exists(self.T + "/server.pid"):
            subprocess.run(["kill", open(self.T + "/server.pid").read()
                .strip()], stderr=subprocess.DEVNULL)

    def prepare(self, scenario):
        self.restore(self.BASE[scenario], "gen-2" if scenario in
            ("rollback", "recover-bad") else None)

    def act(self, scenario):
        """The scenario's request, with certd running (but recover)."""
        if scenario == "first":
            self.upload(self.T + "/pki/bundle.pem",
                self.T + "/pki/server.key", bundle=True, expect=None)
        elif scenario in ("ok", "rollback", "prune"):
            self.upload(*self.leaf(), expect=None)
        elif scenario == "newroot":
            cert, key = self.leaf(self.T + "/pki2")
            bundle = cert + ".bundle"
            with open(bundle, "w") as f:
                for p in (cert, self.T + "/pki2/inter1.pem",
                    self.T + "/pki2/root.pem"):
                    f.write(open(p).read())
            self.upload(bundle, key, bundle=True, expect=None)
        elif scenario == "request":
            self.sh(os.path.join(self.b, "certctl/certctl"), "-s",
                self.sock, "-t", "30", "rollback", DOMAIN, "2", check=False)
        # Done once nothing is left to do.
        while True:
            st = self.status()
            if st is None or not st["busy"]:
                return
            time.sleep(0.05)

    def attach(self, args):
        """strace certd, returning once it is attached."""
        st = subprocess.Popen(["strace", "-p", str(self.pid)] + args,
            stderr=subprocess.PIPE, text=True)
        line = st.stderr.readline()
        if "attached" not in line:
            raise SystemExit("FAIL: strace did not attach: " + line)
        return st

    def trace(self, scenario, args):
        """Run the scenario with certd under strace args."""
        self.prepare(scenario)
        if scenario.startswith("recover"):
            self.start(args)
            if self.certd.poll() is None:
                self.act(scenario)
            return None
        self.start()
        st = self.attach(args)
        self.act(scenario)
        return st

    def count(self, scenario):
        out = os.path.join(self.T, "count.out")
        st = self.trace(scenario, ["-o", out, "-e", "trace=" +
            ",".join(SYSCALLS)])
        if st is not None:
            st.send_signal(signal.SIGINT)
            st.wait()
        self.stop()
        counts = dict((s, 0) for s in SYSCALLS)
        for line in open(out):
            m = re.match(r"(\w+)\(", line)
            if m and m.group(1) in counts:
                counts[m.group(1)] += 1
        return counts

    def kill_point(self, scenario, sc, n):
        st = self.trace(scenario, ["-o", "/dev/null", "-e", "trace=" + sc,
            "-e", "inject=%s:signal=SIGKILL:when=%d" % (sc, n)])
        try:
            rc = self.certd.wait(5)
        except subprocess.TimeoutExpired:
            rc = None	# lived through it (a call it did not make)
            os.kill(self.pid, signal.SIGKILL)
            self.certd.wait()
        if st is not None:
            st.wait()
        self.certd = None
        self.orphans()
        self.start()
        self.check("%s %s#%d" % (scenario, sc, n), scenario == "first")
        self.stop()
        # strace -qq in front of certd (recover) exits with its status.
        return rc in (-signal.SIGKILL, 128 + signal.SIGKILL)

    # --- what must hold -----------------------------------------------------
    def check(self, where, may_be_empty=False):
        def fail(msg):
            raise SystemExit("FAIL: %s: %s" % (where, msg))
        db = os.path.join(self.state, "certd.db")
        deadline = time.time() + 30
        while True:
            row = self.sh("sqlite3", db, "SELECT coalesce(current, 0), "
                "coalesce(pending, 0), unsettled FROM domains WHERE name = "
                "'%s'" % DOMAIN).stdout.strip() or "0|0|0"
            cur, pending, unsettled = (int(x) for x in row.split("|"))
            st = self.status()
            busy = st is None or st.get("busy") or \
                st.get("summary", {}).get("unchecked", 0) != 0
            if pending == 0 and unsettled == 0 and not busy:
                break
            if time.time() > deadline:
                fail("not settled after 30 s: %s" % row)
            time.sleep(0.1)
        ic = self.sh("sqlite3", db, "PRAGMA integrity_check").stdout.strip()
        if ic != "ok":
            fail("integrity_check: " + ic)
        if cur == 0 and may_be_empty:
            if os.path.lexists(self.cur):
                fail("nothing is committed, yet current -> " +
                    os.readlink(self.cur))
        else:
            self.check_current(fail, cur)
        # Whatever chain is live, a whole bundle commits and is served.
        if os.path.exists(self.T + "/bad"):
            os.unlink(self.T + "/bad")
        cert, key = self.leaf()
        with open(cert + ".bundle", "w") as f:
            for p in (cert, self.T + "/pki/inter1.pem",
                self.T + "/pki/root.pem"):
                f.write(open(p).read())
        self.upload(cert + ".bundle", key, bundle=True)
        cur = int(self.sh("sqlite3", db, "SELECT current FROM domains "
            "WHERE name = '%s'" % DOMAIN).stdout)
        self.check_current(fail, cur)

    def check_current(self, fail, cur):
        """current is generation cur, complete, published and served."""
        if cur < 1:
            fail("current generation %d" % cur)
        link = os.readlink(self.cur)
        if link != "gen-%d" % cur:
            fail("current -> %s, the store says %d" % (link, cur))
        # The manifest, re-hashed: every file, digest, size and mode.
        gen, why = rehash(os.path.dirname(self.cur))
        if gen != cur:
            fail(why or "current is generation %d, the store says %d" % (
                gen, cur))
        for name in ("cert.crt", "cert.key", "chain.crt"):
            t = os.readlink(os.path.join(self.pub, name))
            if not t.startswith(self.cur + "/"):
                fail("publish link %s -> %s" % (name, t))
        served = self.sh("sh", "-c", "echo | openssl s_client -connect "
            "127.0.0.1:%d -servername %s 2>/dev/null | openssl x509 "
            "-noout -fingerprint -sha256" % (self.port, DOMAIN)).stdout
        mine = self.sh("openssl", "x509", "-in", self.cur + "/cert.pem",
            "-noout", "-fingerprint", "-sha256").stdout
        if served != mine:
            fail("served %s, current is %s" % (served.strip(), mine.strip()))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", required=True)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--max", type=int, default=0)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    c = Crash(args)
    killed = tried = 0
    try:
        c.setup()
        points = []
        for scenario in c.SCENARIOS:
            counts = c.count(scenario)
            print("%s: %s" % (scenario, " ".join("%s=%d" % kv for kv in
                sorted(counts.items()) if kv[1])), flush=True)
            for sc in SYSCALLS:
                points += [(scenario, sc, n) for n in
                    range(1, counts[sc] + 1)]
        sample = points[::args.every]
        if args.max:
            sample = sample[:args.max]
        print("%d kill points, trying %d" % (len(points), len(sample)),
            flush=True)
        t0 = time.time()
        for i, (scenario, sc, n) in enumerate(sample):
            tried += 1
            if c.kill_point(scenario, sc, n):
                killed += 1
            if (i + 1) % 50 == 0:
                print("  %d done, %d killed certd, %.0f s" % (i + 1, killed,
                    time.time() - t0), flush=True)
        print("%d kill points tried, %d killed certd mid-commit; after "
            "every one the restarted certd settled on a verified, complete "
            "generation and took a fresh upload" % (tried, killed))
    finally:
        c.stop() if c.certd else None
        subprocess.run(["pkill", "-KILL", "-f", c.T + "/"])
        if not args.keep:
            shutil.rmtree(c.T, ignore_errors=True)

if __name__ == "__main__":
    main()

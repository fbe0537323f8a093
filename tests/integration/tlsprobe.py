#!/usr/bin/env python3
"""tlsprobe.py: which leaf does a TLS server hand to fresh connections, and
when.  For the server harnesses' demos (nginx.sh, haproxy.sh, tomcat.sh).

  tlsprobe.py [--host H] --port P [--name SNI] [--seconds S] [--gap MS]
              [--old FILE.pem] [--new FILE.pem] [--each] [-- CMD ARGS...]

Runs CMD (if given) at t0, then opens fresh TCP+TLS connections one after
the other (no session resumption, no verification) for S seconds (default
2; at least one connection, so --seconds 0 makes exactly one), each after a
pause of --gap ms (default 0), and records the SHA-256 of
the leaf each one was served.  Prints one JSON object: how long CMD took,
how many connections, and, with --old/--new, when the first new leaf was
seen, when the last old one was, and how many old leaves came after the
first new one.  --each also prints every connection: "ms fingerprint".
Exits 0 if CMD (if any) exited 0 and at least one handshake succeeded.
"""
import argparse
import hashlib
import json
import socket
import ssl
import subprocess
import sys
import time


def pem_fp(path):
    with open(path) as f:
        pem = f.read()
    start = pem.index("-----BEGIN CERTIFICATE-----")
    end = pem.index("-----END CERTIFICATE-----", start) + 25
    der = ssl.PEM_cert_to_DER_cert(pem[start:end])
    return hashlib.sha256(der).hexdigest()


def leaf_fp(host, port, name, timeout):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=timeout) as s:
        with ctx.wrap_socket(s, server_hostname=name) as t:
            return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--gap", type=float, default=0.0)
    ap.add_argument("--old")
    ap.add_argument("--new")
    ap.add_argument("--each", action="store_true")
    ap.add_argument("cmd", nargs="*")
    a = ap.parse_args()
    old = pem_fp(a.old) if a.old else None
    new = pem_fp(a.new) if a.new else None

    t0 = time.monotonic()
    rc = None
    if a.cmd:
        rc = subprocess.run(a.cmd).returncode
    cmd_ms = (time.monotonic() - t0) * 1000
    seen = []
    while not seen or time.monotonic() - t0 < a.seconds:
        t = time.monotonic()
        try:
            fp = leaf_fp(a.host, a.port, a.name, 5)
        except Exception as e:  # refused, reset, timeout: all recorded
            fp = "ERR " + type(e).__name__
        seen.append(((t - t0) * 1000, (time.monotonic() - t) * 1000, fp))
        if a.gap:
            time.sleep(a.gap / 1000)

    r = {"cmd_rc": rc, "cmd_ms": round(cmd_ms, 1), "connections": len(seen),
         "errors": sum(1 for s in seen if s[2].startswith("ERR"))}
    if old or new:
        first_new = next((s[0] for s in seen if s[2] == new), None)
        olds = [s[0] for s in seen if s[2] == old]
        r["old"] = len(olds)
        r["new"] = sum(1 for s in seen if s[2] == new)
        r["other"] = len(seen) - r["old"] - r["new"] - r["errors"]
        r["first_new_ms"] = None if first_new is None else round(first_new, 1)
        r["last_old_ms"] = round(olds[-1], 1) if olds else None
        r["old_after_new"] = (0 if first_new is None else
                              sum(1 for t in olds if t > first_new))
        r["max_handshake_ms"] = round(max((s[1] for s in seen), default=0), 1)
    if a.each:
        for s in seen:
            tag = ("new" if s[2] == new else "old" if s[2] == old else s[2])
            print("%8.1f %6.1f %s" % (s[0], s[1], tag))
    print(json.dumps(r))
    ok = sum(1 for s in seen if not s[2].startswith("ERR"))
    return 0 if rc in (None, 0) and ok > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""tlsclient.py: a TLS client of certd's listen = address, for the remote
tests (t-remote-*.sh).

  tlsclient.py get PORT PATH [--cert F --key F] [--ca F] [--tls1_1]
      One request; prints "HTTP <code> <server-leaf-sha256>" and the body,
      or "refused <REASON>" (OpenSSL's reason: TLSV13_ALERT_CERTIFICATE_
      REQUIRED, TLSV1_ALERT_UNKNOWN_CA, SSLV3_ALERT_CERTIFICATE_EXPIRED,
      SSLV3_ALERT_CERTIFICATE_REVOKED, TLSV1_ALERT_PROTOCOL_VERSION...)
      when certd's handshake refused the client.  Exits 0 either way; 1 on
      anything else.
  tlsclient.py keepalive PORT --cert F --key F --ca F --fifo FIFO
      One connection: GET /v1/status, print the leaf's sha256, then for
      each line read from FIFO another GET on the same connection (prints
      "HTTP <code> <leaf sha256>"), until "quit".
  tlsclient.py stall PORT N --from ADDR [--hello] [--seconds S]
      N TCP connections from source address ADDR that never finish a
      handshake (with --hello, the first bytes of a ClientHello, then
      silence).  Waits up to S seconds (default 15) and prints one line
      per connection: the seconds until certd closed it, or "open".
"""
import argparse
import hashlib
import select
import socket
import ssl
import sys
import time


def context(a, version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if a.ca:
        ctx.load_verify_locations(a.ca)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    if version is not None:
        # Let OpenSSL offer the old version at all: Debian's default
        # security level would not.
        ctx.set_ciphers("DEFAULT@SECLEVEL=0")
        ctx.minimum_version = version
        ctx.maximum_version = version
    return ctx


def leaf_fp(s):
    der = s.getpeercert(binary_form=True)
    return hashlib.sha256(der).hexdigest() if der else "-"


def request(s, path):
    s.sendall(("GET %s HTTP/1.1\r\nHost: certd\r\n\r\n" % path).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("closed before the answer")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    code = int(head.split()[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return code, body.decode(errors="replace")


def alert(s, e):
    """The reason of the alert that ended the connection: e's, or, when
    sending failed first, the one a read then gets."""
    if isinstance(e, ssl.SSLError) and e.reason is not None:
        return e.reason
    try:
        if s is not None:
            s.recv(1)
    except ssl.SSLError as e2:
        if e2.reason is not None:
            return e2.reason
    except OSError:
        pass
    return type(e).__name__


def cmd_get(a):
    version = ssl.TLSVersion.TLSv1_1 if a.tls1_1 else None
    raw = socket.create_connection(("127.0.0.1", a.port), timeout=20)
    s = None
    try:
        s = context(a, version).wrap_socket(raw, server_hostname="127.0.0.1")
        # TLS 1.3: a refused client certificate shows at the first read,
        # or already when the request is sent.
        code, body = request(s, a.path)
    except (ssl.SSLError, OSError, EOFError) as e:
        print("refused", alert(s, e))
        return 0
    print("HTTP", code, leaf_fp(s))
    print(body)
    return 0


def cmd_keepalive(a):
    raw = socket.create_connection(("127.0.0.1", a.port), timeout=20)
    s = context(a).wrap_socket(raw, server_hostname="127.0.0.1")
    code, _ = request(s, "/v1/status")
    print("HTTP", code, leaf_fp(s), flush=True)
    with open(a.fifo) as f:
        for line in f:
            if line.strip() == "quit":
                break
            code, _ = request(s, "/v1/status")
            print("HTTP", code, leaf_fp(s), flush=True)
    s.close()
    return 0


# A ClientHello's record header and the start of its handshake header.
HELLO_START = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc])


def cmd_stall(a):
    socks = []
    for _ in range(a.n):
        s = socket.socket()
        s.bind((a.source, 0))
        s.connect(("127.0.0.1", a.port))
        if a.hello:
            s.sendall(HELLO_START)
        socks.append(s)
    t0 = time.monotonic()
    closed = {}
    while len(closed) < len(socks) and time.monotonic() - t0 < a.seconds:
        live = [s for s in socks if s not in closed]
        r, _, _ = select.select(live, [], [], 0.1)
        for s in r:
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            if not data:
                closed[s] = time.monotonic() - t0
    for s in socks:
        print("%.2f" % closed[s] if s in closed else "open")
        s.close()
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("get")
    g.add_argument("port", type=int)
    g.add_argument("path")
    g.add_argument("--tls1_1", action="store_true")
    k = sub.add_parser("keepalive")
    k.add_argument("port", type=int)
    k.add_argument("--fifo", required=True)
    for x in (g, k):
        x.add_argument("--cert")
        x.add_argument("--key")
        x.add_argument("--ca")
    st = sub.add_parser("stall")
    st.add_argument("port", type=int)
    st.add_argument("n", type=int)
    st.add_argument("--from", dest="source", default="127.0.0.1")
    st.add_argument("--hello", action="store_true")
    st.add_argument("--seconds", type=float, default=15)
    a = p.parse_args()
    return {"get": cmd_get, "keepalive": cmd_keepalive,
            "stall": cmd_stall}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""rehash.py DOMAIN_DIR: check, without certd's code, that DOMAIN_DIR/current
names a complete generation: every file its manifest.json lists is there
with the listed SHA-256, size and mode, and nothing else is.  Prints the
generation number; exits 1 naming what is wrong.

The crash tests judge with this, so a bug in render.c's own check cannot
hide a bug in render.c."""
import hashlib, json, os, sys

def rehash(ddir, nfiles=11):
    """Return (generation, None) or (None, what is wrong)."""
    cur = os.path.join(ddir, "current")
    try:
        link = os.readlink(cur)
    except OSError as e:
        return None, "current: %s" % e.strerror
    if not link.startswith("gen-") or "/" in link:
        return None, "current -> %s" % link
    try:
        m = json.load(open(os.path.join(cur, "manifest.json")))
    except (OSError, ValueError) as e:
        return None, "%s/manifest.json: %s" % (link, e)
    if "gen-%d" % m.get("generation", -1) != link:
        return None, "%s holds the manifest of generation %s" % (
            link, m.get("generation"))
    names = sorted(os.listdir(cur))
    want = sorted([f["name"] for f in m["files"]] + ["manifest.json"])
    if names != want:
        return None, "%s holds %s, its manifest lists %s" % (link, names, want)
    if nfiles and len(want) != nfiles:
        return None, "%s holds %d files, not %d" % (link, len(want), nfiles)
    for f in m["files"]:
        p = os.path.join(cur, f["name"])
        st = os.lstat(p)
        data = open(p, "rb").read()
        if hashlib.sha256(data).hexdigest() != f["sha256"]:
            return None, "%s/%s: digest differs" % (link, f["name"])
        if len(data) != f["size"]:
            return None, "%s/%s: size differs" % (link, f["name"])
        if "%04o" % (st.st_mode & 0o7777) != f["mode"]:
            return None, "%s/%s: mode %04o, manifest says %s" % (link,
                f["name"], st.st_mode & 0o7777, f["mode"])
    return m["generation"], None

if __name__ == "__main__":
    gen, why = rehash(sys.argv[1])
    if gen is None:
        print(why)
        sys.exit(1)
    print(gen)

#!/bin/sh
# t-man-sync.sh: the man pages say what the programs do.  Proves:
# - certd.conf(5) documents exactly the keys of etc/certd.conf, and the
#   parser (daemon/conf.c) knows no key that neither documents;
# - etc/certd.conf, every commented key uncommented (the TLS files made
#   where it names them), passes certd -t;
# - certd(8) lists exactly the options of `certd --help`;
# - certctl(8) lists exactly the commands, the global options and the
#   command options of `certctl --help` (so a command added to certctl
#   fails this test until the page has it);
# - groff reads the pages without a warning, and `make install-man` puts
#   them under man5 and man8.
# Each check prints both sides when they differ.
. "$top_srcdir/tests/integration/lib.sh"
need_built "$CERTD" "$CERTCTL" "$TESTPKI"
MAN=$top_srcdir/man
CONF=$top_srcdir/etc/certd.conf

# same WHAT LEFT RIGHT: fail with the difference unless the two sorted
# lists (one word a line) are equal.
same() {
	printf '%s\n' "$2" | sort -u > "$T/left"
	printf '%s\n' "$3" | sort -u > "$T/right"
	diff -u "$T/left" "$T/right" > "$T/diff" || fail "$1 differ (- first, + second):
$(sed -n '3,$p' "$T/diff")"
	echo "$1: $(wc -l < "$T/left") alike"
}

say "certd.conf(5) and etc/certd.conf: the same keys"
man_keys=$(sed -n 's/^\.It Cm \([a-z_]*\) No = .*/\1/p' "$MAN/certd.conf.5")
etc_keys=$(sed -n 's/^;\{0,1\}\([a-z_][a-z_]*\)[[:space:]]*=.*/\1/p' "$CONF")
[ -n "$man_keys" ] && [ -n "$etc_keys" ] || fail "no keys found"
same "keys of certd.conf(5) and etc/certd.conf" "$man_keys" "$etc_keys"

say "the parser knows no undocumented key"
parser_keys=$(grep -o -e 'strcmp(key, "[a-z_]*")' -e '\] = "publish_[a-z_]*"' \
	"$top_srcdir/daemon/conf.c" | sed 's/.*"\([a-z_]*\)".*/\1/')
[ -n "$parser_keys" ] || fail "no keys found in daemon/conf.c"
same "keys of daemon/conf.c and certd.conf(5)" "$parser_keys" "$man_keys"

say "etc/certd.conf with every key uncommented passes certd -t"
# The TLS files it names, made in $T: certd -t loads them.
"$CERTCTL" gen-ca --out "$T/ca" >/dev/null && "$CERTCTL" gen-cert --ca "$T/ca" \
    --domain certd.test --out "$T/ca" >/dev/null &&
    "$TESTPKI" crl "$T/ca/root.crl" --issuer "$T/ca/root.pem" \
    --issuer-key "$T/ca/root.key" || fail "cannot make the TLS files"
sed -e 's/^;\([a-z[]\)/\1/' -e "s|^tls_cert = [^	 ]*|tls_cert = $T/ca/server.pem|" \
    -e "s|^tls_key = .*|tls_key = $T/ca/server.key|" \
    -e "s|^client_ca = .*|client_ca = $T/ca/root.pem|" \
    -e "s|^client_crl = .*|client_crl = $T/ca/root.crl|" "$CONF" > "$T/all.conf"
run 0 "$CERTD" -t -f "$T/all.conf"
for k in $etc_keys; do
	grep -q "^$k = " "$T/all.conf" || fail "$k is not set in $T/all.conf"
done

say "certd(8) and certd --help: the same options"
run 0 "$CERTD" --help
help_opts=$(printf '%s\n' "$out" | sed -n 's/^  \(--*[a-zA-Z][a-z]*\).*/\1/p')
man_opts=$(sed -n 's/^\.It Fl \\\{0,1\}\(-\{0,1\}[a-zA-Z][a-z]*\).*/-\1/p' "$MAN/certd.8")
same "options of certd --help and certd(8)" "$help_opts" "$man_opts"

say "certctl(8) and certctl --help: the same commands and options"
run 0 "$CERTCTL" --help
section() {	# the lines of certctl --help's section $1
	printf '%s\n' "$out" | awk -v s="$1" '/^[A-Z]/ { on = ($0 == s) } on && !/^[A-Z]/'
}
dashes() { grep -o -e '\(^\|[[:space:],[]\)--*[a-z][a-z]*' | sed 's/^[^-]*//'; }
help_cmds=$(section COMMANDS | sed -n 's/^	\([a-z][a-z-]*\).*/\1/p')
[ -n "$help_cmds" ] || fail "no commands in certctl --help: $out"
# An entry is ".It Cm NAME ..." or ".It Xo" then ".Cm NAME ...".
man_cmds=$(sed -n -e 's/^\.It Cm \([a-z][a-z-]*\).*/\1/p' \
    -e '/^\.It Xo/{n;s/^\.Cm \([a-z][a-z-]*\).*/\1/p;}' "$MAN/certctl.8")
same "commands of certctl --help and certctl(8)" "$help_cmds" "$man_cmds"
help_opts=$(section OPTIONS | dashes)
# certctl(8): global options before "The commands are", command options after.
man_opts=$(sed -n '/^\.Sh DESCRIPTION/,/^The commands are/p' "$MAN/certctl.8" |
	grep '^\.It Fl' | grep -o 'Fl \\\{0,1\}-\{0,1\}[a-z][a-z]*' | sed 's/Fl \\\{0,1\}/-/')
same "global options of certctl --help and certctl(8)" "$help_opts" "$man_opts"
help_copts=$(section COMMANDS | grep '^	[a-z]' | dashes)
man_copts=$(sed -n '/^The commands are/,/^\.Sh/p' "$MAN/certctl.8" |
	grep -o 'Fl \\-[a-z][a-z]*' | sed 's/Fl \\/-/')
same "command options of certctl --help and certctl(8)" "$help_copts" "$man_copts"

say "groff reads the pages without a warning"
if command -v groff >/dev/null 2>&1; then
	for p in "$MAN"/*.[0-9]; do
		w=$(groff -mdoc -ww -z -Tutf8 "$p" 2>&1)
		[ -z "$w" ] || fail "groff warns about $p: $w"
	done
fi

say "make install-man installs them"
[ -f "$top_builddir/Makefile" ] || fail "no Makefile in $top_builddir"
make -s -C "$top_builddir" install-man DESTDIR="$T/inst" >"$T/inst.log" 2>&1 ||
	fail "make install-man: $(cat "$T/inst.log")"
for p in man5/certd.conf.5 man8/certd.8 man8/certctl.8; do
	f=$(find "$T/inst" -path "*/$p")
	[ -n "$f" ] || fail "make install-man did not install $p: $(find "$T/inst" -type f)"
	cmp -s "$f" "$MAN/$(basename "$p")" || fail "$f differs from man/$(basename "$p")"
done
echo ok

#!/bin/sh
# Turn sql/NNN_*.sql into a C array of strings, one migration per element,
# in file order: element i brings the schema from user_version i to i+1.
set -eu
echo "/* Generated from the sql/ migrations by sql/embed.sh: do not edit. */"
echo "#include <stddef.h>"
echo "const char *const sql_migrations[] = {"
for f in "$@"; do
	echo "	/* $(basename "$f") */"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/	"/' -e 's/$/\\n"/' "$f"
	echo "	,"
done
echo "	NULL"
echo "};"
echo "const size_t sql_migrations_count = $#;"

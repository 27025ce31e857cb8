#!/bin/sh
# The line between the library and the tool (issue 14, after curl's lib/
# and src/): cli/ includes no header of lib/ but nestify.h; the shared
# library exports exactly the functions nestify.h declares (the internal
# ones have their own prefix, nsti_, and the export rule leaves them out);
# and no message of lib/ names one of the tool's options.
set -u

. "$(dirname "$0")/testlib.sh"

# 1. cli/ sees the library through nestify.h alone.
for f in "$NST_SRCDIR"/cli/*.c "$NST_SRCDIR"/cli/*.h; do
    for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
        count=$((count + 1))
        [ "$inc" = nestify.h ] || [ -f "$NST_SRCDIR/cli/$inc" ] ||
            [ "$inc" = config.h ] ||
            fail "${f#"$NST_SRCDIR"/} includes $inc, a header of lib/"
    done
done

# 2. libnestify.so exports nestify.h's functions and nothing else.
SO="$NST_BUILDDIR/lib/.libs/libnestify.so"
count=$((count + 1))
if [ -f "$SO" ]; then
    nm -D --defined-only "$SO" | awk '$2 == "T" { print $3 }' | sort \
        >"$TMP/exported"
    sed 's|/\*.*\*/||' "$NST_SRCDIR/lib/nestify.h" |
        grep -o '\bnst_[a-z0-9_]*[[:space:]]*(' | sed 's/[[:space:]]*($//' |
        sort -u >"$TMP/declared"
    comm -23 "$TMP/exported" "$TMP/declared" >"$TMP/extra"
    comm -13 "$TMP/exported" "$TMP/declared" >"$TMP/missing"
    [ -s "$TMP/extra" ] &&
        fail "libnestify.so exports what nestify.h does not declare:" \
            "$(tr '\n' ' ' <"$TMP/extra")"
    [ -s "$TMP/missing" ] &&
        fail "nestify.h declares what libnestify.so does not export:" \
            "$(tr '\n' ' ' <"$TMP/missing")"
    [ "$(wc -l <"$TMP/exported")" -gt 50 ] ||
        fail "libnestify.so exports only $(wc -l <"$TMP/exported") functions"
else
    fail "$SO is not built"
fi

# 3. The library's messages name no option of the tool (a string literal
# with "--word"); the tool says which option it was.
count=$((count + 1))
grep -n '"[^"]*--[a-z]' "$NST_SRCDIR"/lib/*.c |
    grep -v '^[^:]*:[0-9]*:[[:space:]]*\(/\*\|\*\)' >"$TMP/options" &&
    fail "lib/ names the tool's options: $(head -3 "$TMP/options")"

finish

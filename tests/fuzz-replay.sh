#!/bin/sh
# Replays the fuzz targets (built with fuzz/driver.c, the normal compiler
# and, in check-asan / check-valgrind, under the sanitizers or valgrind)
# over their seeds -- the fixtures -- the bad-input corpus and the
# regression inputs fuzzing found.  Any crash or report fails.
set -u

. "$(dirname "$0")/testlib.sh"
F=$NST_BUILDDIR/fuzz
R=$NST_SRCDIR/fuzz/regressions
BAD=$NST_SRCDIR/tests/bad-input

# replay TARGET INPUT...: every input through the target, once.
replay() {
    t=$1
    shift
    count=$((count + 1))
    # shellcheck disable=SC2086
    ${NST_VALGRIND:-} "$F/replay-$t" "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
    grep -Ev '^==[0-9]+==' "$TMP/err" >"$TMP/err.ours"
    if [ "$status" != 0 ] || [ -s "$TMP/err.ours" ]; then
        fail "replay-$t: exit $status"
        sed 's/^/  /' "$TMP/err" | head -40
    fi
    cat "$TMP/out"
}

regressions() {
    [ -d "$R/$1" ] && echo "$R/$1"
}

replay domain "$FX/domains" "$FX/lint" $(regressions domain) \
    $(ls "$BAD"/*.xml 2>/dev/null)
replay host "$FX/hosts" "$FX/hosts/bad" $(regressions host) \
    $(ls "$BAD"/*.xml 2>/dev/null)
replay profile "$NST_SRCDIR/lib/profiles" $(regressions profile) \
    $(ls "$BAD"/*.profile 2>/dev/null)
finish

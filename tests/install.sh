#!/bin/sh
# What "make install" installs, and that it works where it is installed.
#
# Under "make check": installs the build into a temporary DESTDIR, checks
# every file, runs the installed programs (an offline dry run, --version,
# profiles, the installed virt-nestify-live on test:///default), builds a
# small C program against the installed libnestify with pkg-config, then
# "make uninstall" and checks that no file is left.
#
# Under "make installcheck" (NST_INSTALLED=1; distcheck runs it on its own
# temporary prefix): the same checks on the installed tree, plus the one
# only a real install allows: virt-nestify finds virt-nestify-live in
# $(pkglibexecdir), the path compiled into it (cli/handoff.c looks at no
# environment variable, so a DESTDIR copy cannot be pointed at its
# helper).
set -u

. "$(dirname "$0")/testlib.sh"

: "${NST_INSTALLED:=}" "${NST_DESTDIR:=}" "${NST_SANITIZED:=}"
if [ -n "$NST_INSTALLED" ]; then
    D=$NST_DESTDIR
else
    D=$TMP/dest
    count=$((count + 1))
    # A make of its own, not the jobserver of the "make check" running us.
    if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${NST_MAKE:-make} -s \
        -C "$NST_BUILDDIR" install DESTDIR="$D" >"$TMP/install.log" 2>&1; then
        fail "make install DESTDIR=$D failed"
        cat "$TMP/install.log"
        finish
        exit 1
    fi
fi

# --- every file ----------------------------------------------------------
for f in "$NST_BINDIR/virt-nestify" "$NST_PKGLIBEXECDIR/virt-nestify-live" \
    "$NST_MAN1DIR/virt-nestify.1" \
    "$NST_BUILTINPROFILESDIR/nested.profile" \
    "$NST_BUILTINPROFILESDIR/perf.profile" \
    "$NST_BUILTINPROFILESDIR/secure.profile" \
    "$NST_BUILTINPROFILESDIR/realtime.profile" \
    "$NST_BASHCOMPLETIONDIR/virt-nestify" \
    "$NST_LIBDIR/libnestify.so" "$NST_LIBDIR/libnestify.so.0" \
    "$NST_LIBDIR/libnestify.la" "$NST_INCLUDEDIR/nestify.h" \
    "$NST_PKGCONFIGDIR/libnestify.pc"; do
    count=$((count + 1))
    [ -f "$D$f" ] || fail "not installed: $D$f"
done
for f in "$NST_BINDIR/virt-nestify" "$NST_PKGLIBEXECDIR/virt-nestify-live"; do
    count=$((count + 1))
    [ -x "$D$f" ] || fail "not executable: $D$f"
    # The programs, not libtool wrapper scripts, and nothing of the build
    # tree in their library search path.
    head -c 4 "$D$f" | grep -q ELF || fail "not an ELF program: $D$f"
    if command -v readelf >/dev/null; then
        readelf -d "$D$f" | grep -E 'RPATH|RUNPATH' | grep -q "$NST_BUILDDIR" &&
            fail "$D$f searches libraries in the build tree"
    fi
done
count=$((count + 1))
[ -d "$D$NST_PROFILESDIR" ] || fail "no profiles directory $D$NST_PROFILESDIR"
count=$((count + 1))
cmp -s "$D$NST_MAN1DIR/virt-nestify.1" "$NST_SRCDIR/docs/virt-nestify.1" ||
    fail "installed man page differs from docs/virt-nestify.1"

# --- the installed programs ---------------------------------------------
VNI="$D$NST_BINDIR/virt-nestify"
LIVEI="$D$NST_PKGLIBEXECDIR/virt-nestify-live"
# Its own (empty) profiles.d, whatever the system has.
VIRT_NESTIFY_PROFILES_DIR="$D$NST_PROFILESDIR"
export VIRT_NESTIFY_PROFILES_DIR
INTEL="$FX/hosts/intel-e5-2697v4.xml"

# runi EXPECTED_EXIT PROGRAM ARGS...: like run, for an installed program.
runi() {
    want=$1
    shift
    count=$((count + 1))
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    [ "$got" = "$want" ] && return 0
    fail "exit $got, expected $want: $*"
    sed 's/^/  stdout: /' "$TMP/out"
    sed 's/^/  stderr: /' "$TMP/err"
    return 1
}

runi 0 "$VNI" --version &&
    { grep -q '^virt-nestify [0-9]' "$TMP/out" || fail "--version: $(cat "$TMP/out")"; }
runi 0 "$VNI" --file "$FX/domains/ubuntu-guest.xml" --host-caps "$INTEL" \
    --domcaps "$FX/hosts/intel-e5-2697v4-domcaps.xml" -p perf --dry-run &&
    { grep -q "^domain 'ubuntu-guest', profile 'perf': 13 changes" "$TMP/out" ||
        fail "installed offline dry run: no report line"; }
runi 0 "$VNI" profiles &&
    { [ "$(cut -d' ' -f1 "$TMP/out" | tr '\n' ' ')" = "nested perf secure realtime " ] ||
        fail "installed profiles: $(cat "$TMP/out")"; }
# The helper by itself: the whole tool, libvirt included.
LIVE_ARGS="-c test:///default --domain test --host-caps $INTEL -p nested --dry-run --backup-dir $TMP/backups"
# shellcheck disable=SC2086
runi 0 "$LIVEI" $LIVE_ARGS &&
    { grep -q "^domain 'test', profile 'nested'" "$TMP/out" ||
        fail "installed virt-nestify-live: no report line: $(cat "$TMP/out")"; }
if [ -z "$D" ]; then
    # Installed for real: virt-nestify hands the live run over to the
    # helper at its compiled-in path.
    # shellcheck disable=SC2086
    runi 0 "$VNI" $LIVE_ARGS &&
        { grep -q "^domain 'test', profile 'nested'" "$TMP/out" ||
            fail "installed virt-nestify live: no report line: $(cat "$TMP/out")"; }
elif [ ! -e "$NST_PKGLIBEXECDIR/virt-nestify-live" ]; then
    # A DESTDIR copy: it looks for its helper in $(pkglibexecdir), not in
    # the build tree nor next to itself.
    # shellcheck disable=SC2086
    runi 3 "$VNI" $LIVE_ARGS &&
        { grep -q "cannot run '$NST_PKGLIBEXECDIR/virt-nestify-live'" "$TMP/err" ||
            fail "DESTDIR virt-nestify: $(cat "$TMP/err")"; }
fi

# --- the bash completion, installed -------------------------------------
if command -v bash >/dev/null; then
    count=$((count + 1))
    bash -c '. "$1" && complete -p virt-nestify' bash \
        "$D$NST_BASHCOMPLETIONDIR/virt-nestify" >"$TMP/out" 2>&1 ||
        fail "installed completion: $(cat "$TMP/out")"
fi

# --- libnestify through pkg-config ---------------------------------------
PC=${NST_PKG_CONFIG:-pkg-config}
if command -v "$PC" >/dev/null; then
    PKG_CONFIG_PATH="$D$NST_PKGCONFIGDIR"
    export PKG_CONFIG_PATH
    # A DESTDIR install: the .pc names the final paths, the sysroot puts
    # the DESTDIR in front of them.
    if [ -n "$D" ]; then
        PKG_CONFIG_SYSROOT_DIR=$D
        export PKG_CONFIG_SYSROOT_DIR
    fi
    count=$((count + 1))
    ver=$("$PC" --modversion libnestify) || fail "pkg-config: no libnestify"
    [ "$ver" = "$("$VNI" --version | cut -d' ' -f2)" ] ||
        fail "libnestify.pc version $ver"
    count=$((count + 1))
    "$PC" --print-requires-private libnestify | grep -q '^libxml-2.0' ||
        fail "libnestify.pc: no Requires.private libxml-2.0"
    cat >"$TMP/use.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <nestify.h>

int
main(void)
{
    struct nst_cpuset set;
    char *err = NULL;
    if (nst_cpuset_parse("0-3,8,^2", &set, &err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    char *text = nst_cpuset_format(&set);
    printf("%u %s\n", nst_cpuset_count(&set), text);
    free(text);
    return 0;
}
EOF
    count=$((count + 1))
    # shellcheck disable=SC2046,SC2086
    if ${NST_CC:-cc} $NST_SANITIZED -Wall -Werror $("$PC" --cflags libnestify) \
        -o "$TMP/use" "$TMP/use.c" $("$PC" --libs libnestify) \
        >"$TMP/cc.log" 2>&1; then
        runi 0 env LD_LIBRARY_PATH="$D$NST_LIBDIR" "$TMP/use" &&
            { [ "$(cat "$TMP/out")" = "4 0-1,3,8" ] ||
                fail "nst_cpuset_parse through libnestify.so: $(cat "$TMP/out")"; }
    else
        fail "cannot build against libnestify: $(cat "$TMP/cc.log")"
    fi
fi

# --- make uninstall ------------------------------------------------------
if [ -z "$NST_INSTALLED" ]; then
    count=$((count + 1))
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${NST_MAKE:-make} -s \
        -C "$NST_BUILDDIR" uninstall DESTDIR="$D" >"$TMP/uninstall.log" 2>&1 ||
        fail "make uninstall failed: $(cat "$TMP/uninstall.log")"
    left=$(find "$D" ! -type d)
    [ -z "$left" ] || fail "left after make uninstall: $left"
fi

finish

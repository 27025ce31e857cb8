# testlib.sh: what the shell tests share; sourced, not run.
#
# Sets NST_SRCDIR, NST_BUILDDIR, VN (the tool, under $NST_VALGRIND when
# set), FX (the fixtures) and TMP (removed at exit), and gives
# fail, run, one_error and finish.

: "${NST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${NST_BUILDDIR:=$NST_SRCDIR/build}"
VN="${NST_VALGRIND:-} $NST_BUILDDIR/virt-nestify"
# Never under valgrind: for runs that make the embedded QEMU driver start
# QEMU, whose forked child would inherit valgrind and fail before exec.
VN_NATIVE="$NST_BUILDDIR/virt-nestify"
FX="$NST_SRCDIR/tests/fixtures"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
count=0

[ -x "$NST_BUILDDIR/virt-nestify" ] ||
    { echo "FAIL: $NST_BUILDDIR/virt-nestify not built"; exit 1; }

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# run EXPECTED_EXIT ARGS...: runs "virt-nestify ARGS", stdout and stderr
# in $TMP/out and $TMP/err; on another exit status says so and fails.
run() {
    want=$1
    shift
    count=$((count + 1))
    # shellcheck disable=SC2086
    $VN "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" != "$want" ]; then
        fail "exit $got, expected $want: virt-nestify $*"
        sed 's/^/  stdout: /' "$TMP/out"
        sed 's/^/  stderr: /' "$TMP/err"
        return 1
    fi
    return 0
}

# our_stderr: drops from $TMP/err the lines libraries print by
# themselves, which are not ours: valgrind's ("==PID==" reports, "--PID--"
# warnings such as a syscall it does not know: 3.19 lacks openat2),
# libvirt's log ("2026-01-01 00:00:00.000+0000: 123: error : ...", the
# embedded QEMU driver failing to start) and libxml2's ("I/O warning :
# ...", the test driver failing to read its file).
our_stderr() {
    grep -Ev '^==[0-9]+==|^--[0-9]+-- |^[0-9-]+ [0-9:.+]+: [0-9]+: [a-z]+ : |^I/O warning : ' \
        "$TMP/err" >"$TMP/err.ours"
    mv "$TMP/err.ours" "$TMP/err"
}

# one_error DESCRIPTION EXPECTED_PART: stderr (our_stderr) is exactly one
# error line that says it.
one_error() {
    our_stderr
    lines=$(wc -l <"$TMP/err")
    [ "$lines" = 1 ] || fail "$1: $lines lines on stderr: $(cat "$TMP/err")"
    grep -q "^virt-nestify: error: .*$2" "$TMP/err" ||
        fail "$1: stderr lacks '$2': $(cat "$TMP/err")"
}

# with_full_stacks COMMAND...: COMMAND (a function too) with ASan's slow
# unwinder, for the runs that make libvirt 9.0 leak on purpose:
# tests/lsan.supp names libvirt's functions, which only that unwinder
# sees (tests/run-test.sh says more).  Returns COMMAND's status.
with_full_stacks() {
    wfs_saved=${ASAN_OPTIONS-}
    ASAN_OPTIONS="${wfs_saved:+$wfs_saved:}fast_unwind_on_malloc=0"
    export ASAN_OPTIONS
    "$@"
    wfs_status=$?
    ASAN_OPTIONS=$wfs_saved
    return $wfs_status
}

# embed_root DIR: a fresh root for qemu:///embed?root=DIR
# (tests/embed-root.sh: its qemu.conf, and the QEMU capabilities make
# check probed once).
embed_root() {
    sh "$NST_SRCDIR/tests/embed-root.sh" "$1" ||
        { fail "cannot make the embedded root $1"; return 1; }
}

# bad_input DESCRIPTION EXPECTED_PART ARGS...: "virt-nestify ARGS" is
# refused as bad input: exit 2, nothing on stdout, and one error line
# that says EXPECTED_PART (one_error).
bad_input() {
    desc=$1
    part=$2
    shift 2
    run 2 "$@" || { echo "  ($desc)"; return; }
    [ -s "$TMP/out" ] && fail "$desc: stdout not empty: $(cat "$TMP/out")"
    one_error "$desc" "$part"
}

# tcg_domain NAME VCPUS MEMORY_MIB [XML]: on stdout, a TCG guest (it starts
# without KVM) of that size with no balloon, XML (a <cputune>, say) after
# its <vcpu>.
tcg_domain() {
    cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>$3</memory>
  <vcpu placement='static'>$2</vcpu>
  ${4:-}
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <devices>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

# embed_stop_at_exit DIR: at exit, the QEMU processes started in the
# qemu:///embed root DIR are killed (they outlive the process that
# embedded the driver), then $TMP is removed.
embed_stop_at_exit() {
    NST_EMBED_STOP=$1
    trap 'for pid in "$NST_EMBED_STOP"/run/qemu/*.pid; do
              [ -s "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
          done
          rm -rf "$TMP"' EXIT
}

# embed_domains DIR VCPUS NAME...: defines in the qemu:///embed root DIR
# a TCG domain of VCPUS vCPUs and 1 GiB (tcg_domain) for each NAME, validated (one
# virsh run for all of them; its XML left in $TMP/NAME.xml).
embed_domains() {
    root=$1
    vcpus=$2
    shift 2
    cmds=""
    for name in "$@"; do
        tcg_domain "$name" "$vcpus" 1024 >"$TMP/$name.xml"
        cmds="$cmds define --validate $TMP/$name.xml;"
    done
    count=$((count + 1))
    virsh -q -c "qemu:///embed?root=$root" "$cmds" >/dev/null ||
        fail "cannot define the domains of host $root"
}

# embed_host DIR VCPUS NAME...: a fresh qemu:///embed root at DIR with
# those domains (embed_domains).
embed_host() {
    embed_root "$1" && embed_domains "$@"
}

# The summary line; the exit status of the script.
finish() {
    echo "$count runs, $failures failures"
    [ "$failures" = 0 ]
}

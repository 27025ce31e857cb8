#!/bin/sh
# The bad-input corpus (tests/bad-input/cases.txt) through every entry
# point each case applies to: offline apply (plain, --check, --in-place),
# lint --file, profiles (--profile-file and VIRT_NESTIFY_PROFILES_DIR),
# --host-caps / --domcaps for apply and lint, and live runs on the real
# QEMU driver (qemu:///embed, state in a fresh directory) whose stored
# definition must not change.  Every case: its exit code, exactly one
# error line that says what is wrong, nothing on stdout, nothing changed.
# Every run of the tool may be under $NST_VALGRIND.
set -u

. "$(dirname "$0")/../testlib.sh"
BAD=$NST_SRCDIR/tests/bad-input
INTEL=$FX/hosts/intel-e5-2697v4.xml
GOOD=$FX/domains/ubuntu-guest.xml
D=ubuntu-guest
ROOT=$TMP/root
URI="qemu:///embed?root=$ROOT"
STORED=$ROOT/etc/qemu/$D.xml
export VIRT_NESTIFY_PROFILES_DIR="$TMP/no-profiles.d"

# The live domain: defined once, never started (nothing here restarts).
embed_root "$ROOT"
sed "s/<domain type='kvm'>/<domain type='qemu'>/" "$GOOD" >"$TMP/guest.xml"
virsh -q -c "$URI" define "$TMP/guest.xml" >/dev/null ||
    { echo "FAIL: cannot define $D on $URI"; exit 1; }
cp "$STORED" "$TMP/stored.orig"

# expect DESC EXIT EXPECTED ARGS...: runs the tool; exit 2 must be one
# error line saying EXPECTED and nothing on stdout; exit 1 (lint) must
# say EXPECTED on stdout and nothing on stderr.
expect() {
    e_desc=$1
    e_want=$2
    e_part=$3
    shift 3
    run "$e_want" "$@" || { echo "  ($e_desc)"; return; }
    if [ "$e_want" = 2 ]; then
        [ -s "$TMP/out" ] &&
            fail "$e_desc: stdout not empty: $(head -3 "$TMP/out")"
        one_error "$e_desc" "$e_part"
    else
        grep -qF -- "$e_part" "$TMP/out" ||
            fail "$e_desc: stdout lacks '$e_part'"
        [ -s "$TMP/err" ] && fail "$e_desc: stderr not empty: $(cat "$TMP/err")"
    fi
}

# apply_file DESC EXIT EXPECTED FILE ARGS...: the offline runs on FILE
# (the domain): plain, --check, and --in-place on a copy that must come
# out byte-identical.
apply_file() {
    a_desc=$1
    a_want=$2
    a_part=$3
    a_file=$4
    shift 4
    expect "$a_desc: apply" "$a_want" "$a_part" --file "$a_file" "$@"
    # The repeats take the same path to the same error: valgrind checks
    # the first run (CI's time goes to the 400 runs here otherwise).
    a_checked=$VN
    VN=$VN_NATIVE
    expect "$a_desc: apply --check" "$a_want" "$a_part" --file "$a_file" \
        --check "$@"
    cp "$a_file" "$TMP/inplace.xml"
    expect "$a_desc: apply --in-place" "$a_want" "$a_part" \
        --file "$TMP/inplace.xml" --in-place "$@"
    VN=$a_checked
    cmp -s "$a_file" "$TMP/inplace.xml" ||
        fail "$a_desc: --in-place changed the file"
    ls "$TMP"/inplace.xml.* >/dev/null 2>&1 &&
        fail "$a_desc: --in-place left a temporary file"
}

# live DESC EXIT EXPECTED ARGS...: a live run; the stored definition
# must be unchanged and no backup written.
live() {
    l_desc=$1
    shift
    expect "$l_desc" "$@" -c "$URI" --domain "$D" \
        --backup-dir "$TMP/backups"
    cmp -s "$STORED" "$TMP/stored.orig" ||
        fail "$l_desc: the stored definition changed"
    [ -e "$TMP/backups" ] && fail "$l_desc: a backup was written"
}

# bulk DESC EXIT EXPECTED ARGS...: a bulk run (--all) refuses the run as
# a whole, before its first domain: the same one line, exit 2 (not 4).
bulk() {
    b_desc=$1
    shift
    expect "$b_desc" "$@" -c "$URI" --all --backup-dir "$TMP/backups"
    cmp -s "$STORED" "$TMP/stored.orig" ||
        fail "$b_desc: the stored definition changed"
    [ -e "$TMP/backups" ] && fail "$b_desc: a backup was written"
}

# no_connect DESC EXIT EXPECTED ARGS...: the option is refused before any
# connection is opened: on a URI that cannot be (the test driver's file
# is missing: exit 3 once connecting), by a live run, a bulk run, a
# fleet, verify and live lint alike.
NOCONN="test://$TMP/absent.xml"
no_connect() {
    n_desc=$1
    n_want=$2
    n_part=$3
    shift 3
    expect "$n_desc: no-connect live" "$n_want" "$n_part" -c "$NOCONN" \
        --domain "$D" -p perf "$@"
    expect "$n_desc: no-connect bulk" "$n_want" "$n_part" -c "$NOCONN" \
        --all -p perf "$@"
    expect "$n_desc: no-connect fleet" "$n_want" "$n_part" -c "$NOCONN" \
        -c "$NOCONN" --all -p perf "$@"
    expect "$n_desc: no-connect verify" "$n_want" "$n_part" verify \
        -c "$NOCONN" --domain "$D" "$@"
    expect "$n_desc: no-connect lint" "$n_want" "$n_part" lint \
        -c "$NOCONN" --domain "$D" "$@"
}

# --- virt-nestify host ------------------------------------------------------
# The host doctor reads /proc, /sys and /etc below --root, not
# capabilities: a capabilities file given as the root is refused with one
# line.  (Its own bad input, bad --hugepages or --node values and broken
# roots, is in tests/cli/host.sh.)
host_entry() {
    expect "$1: host --root" 2 "not a directory" host --root "$2"
}

# applies ENTRIES ENTRY: whether the case's entry points include ENTRY.
applies() {
    # bulk only where named: the options refused before a run are the
    # same for it, and a bulk run on every case would double the test.
    [ "$1" = all ] && [ "$2" != bulk ] && return 0
    case ",$1," in
        *",$2,"*) return 0 ;;
    esac
    return 1
}

trim() {
    printf '%s' "$1" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'
}

ncases=0
while IFS='|' read -r kind entries input want part; do
    kind=$(trim "$kind")
    case $kind in
        ''|'#'*) continue ;;
    esac
    entries=$(trim "$entries")
    input=$(trim "$input")
    want=$(trim "$want")
    part=$(trim "$part")
    ncases=$((ncases + 1))
    desc="$kind $input"
    file=$BAD/$input

    case $kind in
    domain)
        applies "$entries" apply &&
            apply_file "$desc" "$want" "$part" "$file" --host-caps "$INTEL" \
                -p perf,secure
        applies "$entries" lint &&
            expect "$desc: lint" "$want" "$part" lint --file "$file" \
                --host-caps "$INTEL"
        ;;
    caps|domcaps)
        if [ "$kind" = caps ]; then
            set -- --host-caps "$file"
        else
            set -- --host-caps "$INTEL" --domcaps "$file"
        fi
        applies "$entries" apply &&
            apply_file "$desc" "$want" "$part" "$GOOD" "$@" -p nested
        applies "$entries" lint &&
            expect "$desc: lint" "$want" "$part" lint --file "$GOOD" "$@"
        applies "$entries" live &&
            live "$desc: live" "$want" "$part" "$@" -p nested
        applies "$entries" live-lint &&
            expect "$desc: live lint" "$want" "$part" lint -c "$URI" \
                --domain "$D" "$@"
        applies "$entries" host && host_entry "$desc" "$file"
        ;;
    profile)
        applies "$entries" apply &&
            apply_file "$desc" "$want" "$part" "$GOOD" --host-caps "$INTEL" \
                --profile-file "$file"
        if applies "$entries" profiles; then
            # The same text as a profiles.d file, named "site".
            dir=$TMP/profiles.d
            rm -rf "$dir"
            mkdir -p "$dir"
            cp "$file" "$dir/site.profile"
            VIRT_NESTIFY_PROFILES_DIR=$dir
            expect "$desc: profiles site" "$want" "$part" profiles site
            apply_file "$desc: -p site" "$want" "$part" "$GOOD" \
                --host-caps "$INTEL" -p site
            # The list shows the good profiles and says which is bad.
            run "$want" profiles && {
                one_error "$desc: profiles" "$part"
                grep -q '^site ' "$TMP/out" && fail "$desc: profiles lists it"
                grep -q '^perf ' "$TMP/out" || fail "$desc: profiles lost perf"
            }
            VIRT_NESTIFY_PROFILES_DIR=$TMP/no-profiles.d
        fi
        applies "$entries" live &&
            live "$desc: live" "$want" "$part" --profile-file "$file"
        applies "$entries" bulk &&
            bulk "$desc: bulk" "$want" "$part" --profile-file "$file"
        ;;
    set)
        applies "$entries" apply &&
            apply_file "$desc" "$want" "$part" "$GOOD" --host-caps "$INTEL" \
                -p perf --set "$input"
        applies "$entries" live &&
            live "$desc: live" "$want" "$part" -p perf --set "$input"
        applies "$entries" bulk &&
            bulk "$desc: bulk" "$want" "$part" -p perf --set "$input"
        ;;
    taken)
        applies "$entries" apply &&
            apply_file "$desc" "$want" "$part" "$GOOD" --host-caps "$INTEL" \
                -p perf --taken "$input"
        applies "$entries" lint &&
            expect "$desc: lint" "$want" "$part" lint --file "$GOOD" \
                --host-caps "$INTEL" --taken "$input"
        applies "$entries" live &&
            live "$desc: live" "$want" "$part" -p perf --taken "$input"
        applies "$entries" bulk &&
            bulk "$desc: bulk" "$want" "$part" -p perf --taken "$input"
        applies "$entries" live-lint &&
            expect "$desc: live lint" "$want" "$part" lint -c "$URI" \
                --domain "$D" --taken "$input"
        applies "$entries" no-connect &&
            no_connect "$desc" "$want" "$part" --taken "$input"
        ;;
    *)
        fail "cases.txt: unknown kind '$kind'"
        ;;
    esac
done <"$BAD/cases.txt"

# --- -p: a blank one would run no profile (apply) or the default (verify) --
for p in '' ' '; do
    apply_file "-p '$p'" 2 "--profile '$p': no profile name" "$GOOD" \
        --host-caps "$INTEL" -p "$p"
    apply_file "-p perf -p '$p'" 2 "--profile '$p': no profile name" \
        "$GOOD" --host-caps "$INTEL" -p perf -p "$p"
    live "-p '$p': live" 2 "--profile '$p': no profile name" -p "$p"
    expect "-p '$p': no-connect bulk" 2 "--profile '$p': no profile name" \
        -c "$NOCONN" --all -p "$p"
    expect "-p '$p': no-connect verify" 2 "--profile '$p': no profile name" \
        verify -c "$NOCONN" --domain "$D" -p "$p"
done
# Repeated -p composes, as one -p with commas does: a name given twice is
# refused the same way.
apply_file "-p perf -p perf" 2 "profile 'perf' is given twice" "$GOOD" \
    --host-caps "$INTEL" -p perf -p perf

# --- pins naming CPUs the host lacks: libvirt defines, never starts -------
# Without the pinning rule the tool would keep them: refused instead.
sed "s|^  <vcpu placement='static'>8</vcpu>|&\\
  <cputune>\\
    <vcpupin vcpu='0' cpuset='4095'/>\\
  </cputune>|" "$GOOD" >"$TMP/pin-beyond.xml"
grep -q "cpuset='4095'" "$TMP/pin-beyond.xml" ||
    fail "pin-beyond.xml: the pin was not added"
# (one_error's EXPECTED is a regular expression: . for the brackets)
apply_file "vcpupin beyond the host" 2 \
    "domain 'ubuntu-guest': vcpu-pinning: /domain/cputune/vcpupin.@vcpu='0'.: CPU 4095 does not exist on the host (CPUs 0-71): libvirt defines the domain but cannot start it" \
    "$TMP/pin-beyond.xml" --host-caps "$INTEL" -p nested,secure

# The no-connect URI does fail when it is opened (exit 3).  And the
# case as reported: a URI for a daemon, never tried with a bad --taken.
run 3 -c "$NOCONN" --domain "$D" -p perf || echo "  (no-connect URI)"
expect "--taken before qemu:///nonexistent-uri" 2 \
    "--taken: invalid cpuset '9999999'" --domain x -c qemu:///nonexistent-uri \
    -p perf --taken 9999999

[ "$ncases" -gt 50 ] || fail "only $ncases cases read from cases.txt"
# Every file of the corpus is a case (or a seed of a case's kind).
for f in "$BAD"/*; do
    b=$(basename "$f")
    [ "$b" = cases.txt ] && continue
    grep -q "| $b |" "$BAD/cases.txt" || fail "$b is in no case"
done
echo "$ncases cases"
finish

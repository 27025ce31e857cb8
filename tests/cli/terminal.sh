#!/bin/sh
# What changes on a terminal: diff colours (--color auto, NO_COLOR) and
# the bulk progress line.  util-linux's script(1) gives the tool a pty;
# everything it writes there (stdout and stderr) lands in $TMP/tty.
set -u
. "$(dirname "$0")/../testlib.sh"
INTEL="$FX/hosts/intel-e5-2697v4.xml"
OFFLINE="--file $FX/domains/ubuntu-guest.xml --host-caps $INTEL -p perf --dry-run"
ESC=$(printf '\033')

# on_tty EXPECTED_EXIT ARGS...: runs virt-nestify ARGS on a pty.
on_tty() {
    want=$1
    shift
    count=$((count + 1))
    script -qec "$VN $*" /dev/null >"$TMP/tty" 2>&1
    got=$?
    [ "$got" = "$want" ] || fail "exit $got on a terminal, expected $want: $*"
}
has_color() { grep -q "^$ESC\[31m-" "$TMP/tty"; }

on_tty 0 $OFFLINE
has_color || fail "--color auto: no colours on a terminal"
on_tty 0 $OFFLINE --color never
has_color && fail "--color never: colours on a terminal"
count=$((count + 1))
NO_COLOR=1 script -qec "$VN $OFFLINE" /dev/null >"$TMP/tty" 2>&1 ||
    fail "NO_COLOR run failed"
has_color && fail "NO_COLOR: colours on a terminal"
run 0 $OFFLINE --color always
grep -q "^$ESC\[31m-" "$TMP/out" || fail "--color always: no colours in a pipe"
run 0 $OFFLINE
grep -q "$ESC" "$TMP/out" && fail "--color auto: colours in a pipe"

# Two hosts of three domains each; the progress line and fleet colours.
for h in 1 2; do
    embed_host "$TMP/host$h" 2 d${h}a d${h}b d${h}c
done
BULK="--host-caps $INTEL -p perf --set hugepages=off --all --dry-run"
H1="qemu:///embed?root=$TMP/host1"
H2="qemu:///embed?root=$TMP/host2"

on_tty 0 -c "'$H1'" $BULK
for name in d1a d1b d1c; do
    grep -q "\[[1-3]/3\] $name" "$TMP/tty" || fail "no progress line for $name"
done
has_color || fail "bulk: no colours on a terminal"
on_tty 0 -c "'$H1'" $BULK -q
grep -q "\[1/3\]" "$TMP/tty" && fail "-q: a progress line"
run 0 -c "$H1" $BULK
grep -q "\[1/3\]" "$TMP/err" && fail "a progress line when stderr is not a terminal"

on_tty 0 -c "'$H1'" -c "'$H2'" $BULK
[ "$(grep -c "^$ESC\[1m--- " "$TMP/tty")" = 6 ] ||
    fail "fleet: not six coloured diffs on a terminal"
grep -q "\[1/3\]" "$TMP/tty" && fail "fleet: a progress line"

finish

#!/bin/sh
# "host --isolate -c" and the doctor's isolation check on the real QEMU
# driver (qemu:///embed under a fresh root): the CPUs guests own come
# from the domains' pins, defined ones and running ones alike.  The host's
# CPUs come from --host-caps (the Xeon E5-2697 v4, 0-71) so the result
# does not depend on this machine; the files go below a copy of the
# "pinning" fixture root.
set -u
. "$(dirname "$0")/../testlib.sh"
ROOT="$TMP/root"
URI="qemu:///embed?root=$ROOT"
CAPS="$FX/hosts/intel-e5-2697v4.xml"
SLICE=/etc/systemd/system/system.slice.d/50-virt-nestify.conf

embed_stop_at_exit "$ROOT"

# virsh may crash at exit while the embedded driver reconnects (libvirt
# 9.0): its effects are checked, not its status.
vsh() {
    count=$((count + 1))
    virsh -q -c "$URI" "$@" >/dev/null 2>&1
}

embed_root "$ROOT"
cp -R "$FX/hostroots/pinning" "$TMP/host"
chmod -R u+w "$TMP/host"
R="$TMP/host"

# A guest that pins nothing: nothing to isolate, nothing written.
tcg_domain plain 2 128 "" >"$TMP/plain.xml"
vsh define --validate "$TMP/plain.xml"
run 0 host --root "$R" --isolate -c "$URI" --host-caps "$CAPS" &&
    grep -q "^no guest pins a CPU of this host (CPUs 0-71): nothing to isolate, nothing written$" "$TMP/out" ||
    fail "no pins: $(cat "$TMP/out")"
[ -e "$R$SLICE" ] && fail "no pins: a drop-in written"
# (the libvirt-passthrough check fails under TCG, so the exit status
# varies: only the isolation check is looked at)
$VN_NATIVE host --root "$R" -c "$URI" -o json >"$TMP/out" 2>"$TMP/err"
count=$((count + 1))
[ "$(jq -r '.checks[] | select(.id == "isolation") | .status + " " + .detail' "$TMP/out")" = \
  "skip no guest pins a CPU" ] || fail "doctor, no pins: $(cat "$TMP/out")"

# Two pinned guests: web (vCPUs on 2 and 3, the emulator on 0, which is
# housekeeping and not counted) and db (vCPUs on 40-41, as a cpuset).
tcg_domain web 2 128 "<cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/><emulatorpin cpuset='0'/></cputune>" >"$TMP/web.xml"
tcg_domain db 2 128 "<cputune><vcpupin vcpu='0' cpuset='40-41'/><vcpupin vcpu='1' cpuset='40-41'/></cputune>" >"$TMP/db.xml"
vsh "define --validate $TMP/web.xml; define --validate $TMP/db.xml"
[ "$(ls "$ROOT"/etc/qemu/*.xml | wc -l)" = 3 ] || fail "not 3 domains defined"

$VN_NATIVE host --root "$R" -c "$URI" -o json >"$TMP/out" 2>"$TMP/err"
count=$((count + 1))
[ "$(jq -r '.checks[] | select(.id == "isolation") | .status + " " + .detail' "$TMP/out")" = \
  "warn CPUs 2-3,40-41 pinned but not isolated: not kept free by system.slice, user.slice, init.scope, irqbalance" ] ||
    fail "doctor before: $(cat "$TMP/out" "$TMP/err")"
jq -r '.checks[] | select(.id == "isolation") | .fix' "$TMP/out" |
    grep -qx "virt-nestify host --isolate -c '$URI'" || fail "doctor before: fix"

run 0 host --root "$R" --isolate -c "$URI" --host-caps "$CAPS" &&
{
    grep -qx "guests own CPUs 2-3,40-41; the host keeps 0-1,4-39,42-71 (of 0-71)" "$TMP/out" ||
        fail "isolate: $(cat "$TMP/out")"
    grep -qx "AllowedCPUs=0-1,4-39,42-71" "$R$SLICE" || fail "isolate: system.slice"
    grep -qx "IRQBALANCE_BANNED_CPULIST=2-3,40-41" "$R/etc/default/irqbalance" ||
        fail "isolate: irqbalance"
}
$VN_NATIVE host --root "$R" -c "$URI" -o json >"$TMP/out" 2>"$TMP/err"
count=$((count + 1))
[ "$(jq -r '.checks[] | select(.id == "isolation") | .status' "$TMP/out")" = pass ] ||
    fail "doctor after: $(cat "$TMP/out" "$TMP/err")"
# Again: nothing to write.
run 0 host --root "$R" --isolate -c "$URI" --host-caps "$CAPS" &&
    grep -qx "nothing written: the host side of pinning is already in place" "$TMP/out" ||
    fail "isolate twice: $(cat "$TMP/out")"
# --taken adds a CPU to the guests' (one not defined yet).
run 0 host --root "$R" --isolate -c "$URI" --host-caps "$CAPS" --taken 70 -n &&
    grep -qx "guests own CPUs 2-3,40-41,70; the host keeps 0-1,4-39,42-69,71 (of 0-71)" "$TMP/out" ||
    fail "isolate --taken: $(cat "$TMP/out")"

# The realtime profile on this connection reads the host side of pinning
# (below VIRT_NESTIFY_HOST_ROOT here) and warns about realtime vCPUs on
# CPUs the host still uses: none isolated, a warning; every CPU but the
# housekeeping ones (0,18,36,54) isolated, none.
tcg_domain rt 4 128 >"$TMP/rt.xml"
vsh define --validate "$TMP/rt.xml"
mkdir -p "$TMP/bare"
export VIRT_NESTIFY_HOST_ROOT="$TMP/bare"
run 0 -c "$URI" --domain rt -p realtime \
    --host-caps "$CAPS" --dry-run &&
    grep -q "^  warning  realtime /domain/cputune/vcpusched: host CPUs .* run realtime vCPUs, but the host does not keep" "$TMP/out" ||
    fail "realtime, host not isolated: $(cat "$TMP/out")"
cp -R "$FX/hostroots/pinning" "$TMP/rthost"
chmod -R u+w "$TMP/rthost"
run 0 host --root "$TMP/rthost" --isolate --host-caps "$CAPS" \
    --taken 1-17,19-35,37-53,55-71 || fail "isolate for realtime"
VIRT_NESTIFY_HOST_ROOT="$TMP/rthost"
run 0 -c "$URI" --domain rt -p realtime \
    --host-caps "$CAPS" --dry-run &&
{
    grep -q "realtime /domain/cputune/vcpusched: vCPUs 1-3 on the fifo" "$TMP/out" ||
        fail "realtime, host isolated: no vcpusched: $(cat "$TMP/out")"
    grep -q "does not keep its own" "$TMP/out" &&
        fail "realtime, host isolated: still warned: $(cat "$TMP/out")"
}
unset VIRT_NESTIFY_HOST_ROOT

# A connection that cannot be reached: exit 3, one line, nothing written.
tree_before=$(find "$R" | LC_ALL=C sort | cksum)
run 3 host --root "$R" --isolate -c bogus:///x --host-caps "$CAPS" &&
    one_error "unreachable" "cannot connect to"
[ "$(find "$R" | LC_ALL=C sort | cksum)" = "$tree_before" ] || fail "unreachable: the root changed"

finish

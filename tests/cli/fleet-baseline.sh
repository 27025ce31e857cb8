#!/bin/sh
# Offline fleets and cpu-mode (issue 15): libvirt's baseline CPU over
# the --domcaps host-model of several --host-caps (two and three Intel
# hosts, two AMD hosts), its refusal without them,
# host-model on Intel and AMD, and the refusal of a fleet that mixes
# vendors.  Each output is compared with tests/fixtures/expected-fleet/
# (NST_TEST_REGENERATE_OUTPUT=1 rewrites them), passes libvirt's schema
# and defines on the real QEMU driver (qemu:///embed; type 'qemu', as
# this machine has no /dev/kvm).
set -u
. "$(dirname "$0")/../testlib.sh"
EXP="$FX/expected-fleet"
E5="$FX/hosts/intel-e5-2697v4.xml"
GOLD="$FX/fleet/intel-xeon-gold-6148.xml"
I7="$FX/hosts/small-nosmt.xml"
ROME="$FX/hosts/amd-epyc-7502p-nps4.xml"
NAPLES="$FX/fleet/amd-epyc-7601.xml"
# Each host with its domain capabilities (FILE-domcaps.xml beside it),
# as a baseline needs them: the Nth --domcaps goes with the Nth -H.
with_dc() { echo "-H $1 --domcaps ${1%.xml}-domcaps.xml"; }
E5_DC=$(with_dc "$E5")
GOLD_DC=$(with_dc "$GOLD")
I7_DC=$(with_dc "$I7")
ROME_DC=$(with_dc "$ROME")
NAPLES_DC=$(with_dc "$NAPLES")

embed_root "$TMP/root"

# golden NAME DOMAIN ARGS...: the XML (stdout) and the report (stderr)
# of a run against $EXP/NAME.xml and NAME.report, then validated and
# defined.
golden() {
    name=$1
    dom=$2
    shift 2
    run 0 --file "$FX/domains/$dom.xml" "$@" || return
    # the report names the file by its path: relative to the sources
    sed "s|$NST_SRCDIR/||g" "$TMP/err" >"$TMP/report"
    if [ -n "${NST_TEST_REGENERATE_OUTPUT:-}" ]; then
        cp "$TMP/out" "$EXP/$name.xml"
        cp "$TMP/report" "$EXP/$name.report"
    fi
    cmp -s "$TMP/out" "$EXP/$name.xml" ||
        fail "$name: XML differs: $(diff -u "$EXP/$name.xml" "$TMP/out")"
    cmp -s "$TMP/report" "$EXP/$name.report" ||
        fail "$name: report differs: $(diff -u "$EXP/$name.report" "$TMP/report")"
    out=$(virt-xml-validate "$TMP/out" domain 2>&1) ||
        fail "$name: not valid: $out"
    sed "s/<domain type='kvm'/<domain type='qemu'/" "$TMP/out" >"$TMP/q.xml"
    out=$(virsh -q -c "qemu:///embed?root=$TMP/root" \
          "define --validate $TMP/q.xml; undefine $dom" 2>&1) ||
        fail "$name: libvirt refuses it: $out"
}

BASE="-p nested --set cpu-mode=baseline"
golden intel-2 ubuntu-guest $E5_DC $GOLD_DC $BASE
golden intel-3 ubuntu-guest $E5_DC $GOLD_DC $I7_DC $BASE
golden amd-2 ubuntu-guest $ROME_DC $NAPLES_DC $BASE
golden host-model-intel custom-model -H "$E5" -H "$GOLD" \
    -p nested --set cpu-mode=host-model
golden host-model-amd custom-model -H "$ROME" -p nested \
    --set cpu-mode=host-model

# The baseline is over what KVM gives guests: none of the host-only
# features the capabilities' host CPUs list.
for name in intel-2 intel-3 amd-2; do
    for f in ds acpi ht tm pbe dtes64 monitor ds_cpl smx est tm2 xtpr \
             pdcm osxsave invtsc; do
        ! grep -q "<feature policy='require' name='$f'/>" "$EXP/$name.xml" ||
            fail "$name: requires the host-only feature $f"
    done
done

# The AMD guest: svm, npt and nrip-save required on the named model.
for f in svm npt nrip-save; do
    grep -q "<feature policy='require' name='$f'/>" "$EXP/amd-2.xml" ||
        fail "amd-2: no require of $f"
done
# Every host of the fleet yields to the baseline: the same model
# whichever host comes first.
run 0 --file "$FX/domains/ubuntu-guest.xml" $GOLD_DC $E5_DC $BASE &&
    cmp -s "$TMP/out" "$EXP/intel-2.xml" ||
    fail "the baseline depends on the order of the hosts"

# Offline, a baseline needs every host's domain capabilities: the host
# CPU of a capabilities file lists features KVM does not give guests.
# One line naming the hosts without, exit 2, the file untouched.
WHY="(the host CPU of a capabilities file lists features KVM does not give guests, such as monitor or invtsc, and a guest that requires them never starts; give each host's 'virsh domcapabilities', the Nth --domcaps for the Nth --host-caps)"
cp "$FX/domains/ubuntu-guest.xml" "$TMP/nodc.xml"
run 2 --file "$TMP/nodc.xml" $E5_DC -H "$GOLD" -H "$I7" $BASE --in-place &&
{
    one_error "baseline without --domcaps" "cpu-mode=baseline offline needs each host's domain capabilities: no --domcaps for $GOLD, $I7 $WHY"
    cmp -s "$TMP/nodc.xml" "$FX/domains/ubuntu-guest.xml" ||
        fail "baseline without --domcaps: the file was changed"
    [ ! -s "$TMP/out" ] || fail "baseline without --domcaps: something on stdout"
}
run 2 --file "$FX/domains/ubuntu-guest.xml" -H "$E5" $BASE &&
    one_error "one host without --domcaps" "cpu-mode=baseline offline needs each host's domain capabilities: no --domcaps for $E5 $WHY"

# A fleet that mixes vendors: one line naming the hosts of each, exit 2,
# the file untouched.
cp "$FX/domains/ubuntu-guest.xml" "$TMP/mixed.xml"
run 2 --file "$TMP/mixed.xml" -H "$E5" -H "$ROME" -H "$GOLD" $BASE --in-place &&
{
    one_error "mixed vendors" "the fleet mixes CPU vendors (Intel: $E5, $GOLD; AMD: $ROME): no virtualization feature (vmx or svm) is common to all its hosts, so no nested CPU can migrate between them"
    cmp -s "$TMP/mixed.xml" "$FX/domains/ubuntu-guest.xml" ||
        fail "mixed vendors: the file was changed"
    [ ! -s "$TMP/out" ] || fail "mixed vendors: something on stdout"
}
# ... whatever the cpu-mode
run 2 --file "$FX/domains/ubuntu-guest.xml" -H "$ROME" -H "$E5" -p nested &&
    one_error "mixed vendors, passthrough" "the fleet mixes CPU vendors (Intel: $E5; AMD: $ROME)"

# Several --host-caps are an offline fleet; --domcaps pair with them.
run 2 --domain web1 -H "$E5" -H "$GOLD" $BASE &&
    one_error "live with several --host-caps" "several --host-caps or --domcaps make an offline fleet"
run 2 --file "$FX/domains/ubuntu-guest.xml" -H "$E5" --domcaps "$E5" \
    --domcaps "$E5" $BASE &&
    one_error "more --domcaps than --host-caps" "--domcaps given 2 times for 1 --host-caps"
run 2 --file "$FX/domains/ubuntu-guest.xml" -H "$E5" -p nested \
    --set cpu-mode=fastest &&
    one_error "bad cpu-mode" "invalid value 'fastest' for 'cpu-mode' (expected passthrough, host-model or baseline)"

# lint: VN109 for host-passthrough on a fleet that is not uniform, none
# on identical hosts or for the baseline's custom CPU.
BIG="$FX/domains/big-guest.xml"
run 0 lint --file "$BIG" -H "$E5" -H "$GOLD" &&
    grep -q "^$BIG: warning VN109: host-passthrough on a fleet of 2 hosts whose CPUs differ" "$TMP/out" ||
    fail "lint: no VN109 on a mixed fleet: $(cat "$TMP/out")"
run 0 lint --file "$BIG" -H "$E5" -H "$E5" &&
    ! grep -q VN109 "$TMP/out" || fail "lint: VN109 on identical hosts"
run 0 lint --file "$EXP/intel-2.xml" -H "$E5" -H "$GOLD" &&
    ! grep -q VN109 "$TMP/out" || fail "lint: VN109 on the baseline's CPU"
run 2 lint --domain web1 -H "$E5" -H "$GOLD" &&
    one_error "lint live fleet" "several --host-caps make an offline fleet: they need --file"

finish

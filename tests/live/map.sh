#!/bin/sh
# virt-nestify map -c on the real QEMU driver (qemu:///embed under a
# fresh root), drawn on a host from --host-caps (8 CPUs, no SMT): three
# defined domains with pins, one of them running with a live pin that
# differs from its definition; then apply --all --profile perf
# --dry-run --map draws the plan and changes nothing.
set -u
. "$(dirname "$0")/../testlib.sh"
ROOT="$TMP/root"
URI="qemu:///embed?root=$ROOT"
SMALL="$FX/hosts/small-nosmt.xml"

embed_stop_at_exit "$ROOT"

embed_root "$ROOT"
tcg_domain web1 2 128 "<cputune><vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='1' cpuset='2'/><emulatorpin cpuset='0'/></cputune>" >"$TMP/web1.xml"
tcg_domain web2 2 128 "<cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/></cputune>" >"$TMP/web2.xml"
tcg_domain db 1 128 "<cputune><vcpupin vcpu='0' cpuset='0'/></cputune>" >"$TMP/db.xml"
# virsh may crash at exit while the embedded driver reconnects to
# running guests (libvirt 9.0): its effects are checked, not its status.
virsh -q -c "$URI" "define $TMP/web1.xml; define $TMP/web2.xml; define $TMP/db.xml; start db" >/dev/null 2>&1
[ "$(ls "$ROOT"/etc/qemu/*.xml | wc -l)" = 3 ] || fail "not 3 domains defined"
# db's vCPU moved live (its definition still says CPU 0), when the
# driver can pin here (cgroups); else its live pins equal its definition.
moved=0
virsh -q -c "$URI" vcpupin db 0 1 --live >/dev/null 2>&1 &&
    virsh -q -c "$URI" vcpupin db --live 2>/dev/null | grep -q ' 1$' && moved=1

if run 0 map -c "$URI" --host-caps "$SMALL"; then
    grep -q '^A db: ' "$TMP/out" || fail "db not first: $(cat "$TMP/out")"
    grep -q '^B web1: vCPUs on 1-2 (2 CPUs), threads on 0' "$TMP/out" ||
        fail "web1: $(cat "$TMP/out")"
    grep -q '^C web2: vCPUs on 2-3 (2 CPUs), threads on none; overcommitted on 2' "$TMP/out" ||
        fail "web2 shares CPU 2 with web1: $(cat "$TMP/out")"
    if [ "$moved" = 1 ]; then
        grep -q 'live pins that differ from its definition' "$TMP/out" ||
            fail "db's live pin not said: $(cat "$TMP/out")"
    fi
fi
run 0 map -c "$URI" --host-caps "$SMALL" -o json &&
    { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [g["name"] for g in d["guests"]] == ["db","web1","web2"], d["guests"]' "$TMP/out" ||
        fail "map -o json: $(head -c 400 "$TMP/out")"; }

# The plan of every domain, drawn after the report; nothing defined.
cat "$ROOT"/etc/qemu/*.xml >"$TMP/before"
if run 0 -c "$URI" --host-caps "$SMALL" --all -p perf --set hugepages=off \
        --dry-run --map --color never; then
    grep -q '^host: 8 CPUs in 1 cell' "$TMP/out" || fail "no map after the plan: $(cat "$TMP/out")"
    grep -q '^DOMAIN ' "$TMP/out" || fail "no summary before the map"
    # perf moves every vCPU off housekeeping CPU 0 and apart
    grep -q ' 0[=-] ' "$TMP/out" || fail "CPU 0 not housekeeping: $(cat "$TMP/out")"
    grep -q '^  0.*!' "$TMP/out" && fail "the plan overcommits: $(cat "$TMP/out")"
    grep -q '^C web2: vCPUs on 2-3 (2 CPUs), threads on 0$' "$TMP/out" ||
        fail "web2's planned pins: $(cat "$TMP/out")"
fi
cat "$ROOT"/etc/qemu/*.xml >"$TMP/after"
[ -n "${VN_MAP_SHOW:-}" ] && cat "$TMP/out"
cmp -s "$TMP/before" "$TMP/after" || fail "--dry-run --map changed a definition"
bad_map() {
    run 2 "$@" && one_error "$1" "--map is for bulk runs"
}
bad_map -c "$URI" --domain web1 -p perf --dry-run --map
finish

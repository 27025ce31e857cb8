#!/bin/sh
# Bulk runs on the real QEMU driver (qemu:///embed under a fresh root):
# 52 domains of mixed sizes, two of them running, planned for a large SMT
# host (--host-caps, 4 cells x 48 CPUs).  Checks that no two domains
# share a pCPU, that each sits in one host cell, that a domain libvirt
# refuses mid-run stops only itself and loses nothing, that a second run
# changes nothing, and the JSON document.
set -u
. "$(dirname "$0")/../testlib.sh"
ROOT="$TMP/root"
URI="qemu:///embed?root=$ROOT"
BK="$TMP/backups"
LARGE="$FX/hosts/large-4s-smt.xml"
PLAN="-c $URI --host-caps $LARGE --backup-dir $BK -p perf --set hugepages=off"

embed_stop_at_exit "$ROOT"

vsh() {
    count=$((count + 1))
    virsh -q -c "$URI" "$@"
}

embed_root "$ROOT"
sizes="1 1 4 8 1 2 1 4 2 1 1 2 4 1 2 8 1 1 2 4 1 2 1 1 2 4 8 1 2 1 1 4 2 1 2 1 1 2 4 1 8 2 1 1 2 1 4 1 2 1 1 2"
cmds=""
i=0
for n in $sizes; do
    i=$((i + 1))
    name=$(printf 'vm%02d' "$i")
    mem=$((n * 1024))
    [ "$i" -le 2 ] && mem=128      # the two that really run
    tcg_domain "$name" "$n" "$mem" >"$TMP/$name.xml"
    cmds="$cmds define $TMP/$name.xml;"
done
# A domain outside the selection already pins CPUs 1-3 of cell 0, and its
# emulator to CPU 4 (not a housekeeping CPU): held too.
tcg_domain keeper 3 1024 "<cputune><vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='1' cpuset='2'/><vcpupin vcpu='2' cpuset='3'/><emulatorpin cpuset='4'/></cputune>" >"$TMP/keeper.xml"
# virsh may crash at exit while the embedded driver still reconnects to
# running guests (libvirt 9.0), so its effects are checked, not its
# status, and definitions are read from the files libvirt keeps.
vsh "$cmds define $TMP/keeper.xml; start vm01; start vm02" >/dev/null 2>&1
[ "$(ls "$ROOT"/etc/qemu/*.xml | wc -l)" = 53 ] || fail "not 53 domains defined"

running() {
    [ -s "$ROOT/run/qemu/$1.pid" ] && kill -0 "$(cat "$ROOT/run/qemu/$1.pid")" 2>/dev/null
}
running vm01 && running vm02 || fail "vm01 and vm02 are not running"

# dump_all FILE: every stored definition, one after another
dump_all() {
    cat "$ROOT"/etc/qemu/*.xml >"$1"
}

# pins_ok FILE: no pCPU pinned twice; each domain in one host cell
# (cell = (cpu mod 96) / 24 on this host).
pins_ok() {
    awk -F"'" '
        /<name>/ { sub(/.*<name>/, ""); sub(/<.*/, ""); dom = $0 }
        /<vcpupin / { cpu = $4; used[cpu]++
                      cell = int((cpu % 96) / 24)
                      if (dom in cellof && cellof[dom] != cell) split_dom[dom] = 1
                      cellof[dom] = cell }
        END { for (c in used) if (used[c] > 1) { print "cpu " c " pinned " used[c] " times"; bad = 1 }
              for (d in split_dom) { print d " spans cells"; bad = 1 }
              exit bad }' "$1"
}

# --- selection, dry run --------------------------------------------------
run 0 $PLAN --state running --dry-run --color never &&
{
    grep -Eq '^vm01 +pending ' "$TMP/out" && grep -Eq '^vm02 +pending ' "$TMP/out" ||
        fail "--state running: vm01 and vm02 not pending"
    [ "$(grep -Ec '^vm[0-9]+ +pending ' "$TMP/out")" = 2 ] ||
        fail "--state running selected more than the running ones"
    grep -q '^--- vm01	(current)' "$TMP/out" || fail "no diff header for vm01"
}
run 1 $PLAN --match 'vm1*' --exclude vm10 --check
[ "$(grep -Ec '^vm1[0-9] ' "$TMP/out")" = 9 ] || fail "--match/--exclude: not vm11-vm19"

# --- rolling restart of the running ones ---------------------------------
# Planned for this machine, where they really start: it has one free CPU
# beside the housekeeping one, so the second shares it (--overcommit).
# They have no ACPI, so they ignore the shutdown: --force after 1 s.
pid1=$(cat "$ROOT/run/qemu/vm01.pid")
pid2=$(cat "$ROOT/run/qemu/vm02.pid")
# Two restarts at a time are two threads starting QEMU in this process
# (the embedded driver forks); a sanitizer's allocator can deadlock in a
# child forked from a threaded process, so sanitized builds restart one
# at a time.  With a daemon connection the daemon forks, not the tool.
PARALLEL=2
[ -n "${NST_SANITIZED:-}" ] && PARALLEL=1
VN_CHECKED=$VN
VN=$VN_NATIVE
run 0 -c "$URI" --backup-dir "$BK" -p perf --overcommit \
    --set nested=off --set hugepages=off --state running --restart \
    --timeout 1 --force --parallel "$PARALLEL" &&
{
    [ "$(grep -c "did not shut down within 1 s: forced off" "$TMP/out")" = 2 ] ||
        fail "--restart: not both forced off"
    [ "$(grep -c "restarted with the new definition" "$TMP/out")" = 2 ] ||
        fail "--restart: not both restarted"
}
running vm01 && running vm02 || fail "vm01 and vm02 not running after --restart"
# JSON: the restarted domains' entries come after the others', with the
# result of their restart.
run 0 -c "$URI" --backup-dir "$BK" -p perf --overcommit \
    --set nested=off --set hugepages=off --set cpu-limits=on \
    --domain vm01 --domain vm02 --domain vm05 --restart --timeout 1 --force \
    --parallel "$PARALLEL" -o json &&
{
    jq -e '[.domains[].name] == ["vm05", "vm01", "vm02"]' "$TMP/out" \
        >/dev/null || fail "json --restart: entries not vm05, vm01, vm02"
    jq -e '[.domains[].result] == ["changed", "changed", "changed"] and
           .summary.changed == 3' "$TMP/out" >/dev/null ||
        fail "json --restart: $(jq -c '[.domains[] | [.name, .result, .error]]' "$TMP/out")"
}
running vm01 && running vm02 || fail "vm01 and vm02 not running after the JSON restart"
# The same run again finds nothing to do: the domain on the free CPU
# keeps it though the overcommitted one shares it.
run 0 -c "$URI" --backup-dir "$BK" -p perf --overcommit \
    --set nested=off --set hugepages=off --set cpu-limits=on \
    --domain vm01 --domain vm02 --domain vm05 --check --color never ||
    fail "--check after an --overcommit restart: $(cat "$TMP/out")"
VN=$VN_CHECKED
[ "$(cat "$ROOT/run/qemu/vm01.pid")" != "$pid1" ] &&
    [ "$(cat "$ROOT/run/qemu/vm02.pid")" != "$pid2" ] ||
    fail "--restart: the same QEMU processes still run"

# --- apply all; libvirt refuses vm07 mid-run ---------------------------
cp "$ROOT/etc/qemu/vm07.xml" "$TMP/vm07-before.xml"
mkdir "$ROOT/etc/qemu/vm07.xml.new"
with_full_stacks run 4 $PLAN --all --exclude keeper -o json &&
{
    jq -e '.summary == {"unchanged": 0, "changed": 51, "pending": 0,
                        "refused": 0, "failed": 1}' "$TMP/out" >/dev/null ||
        fail "json summary: $(jq -c .summary "$TMP/out")"
    jq -e '[.domains[] | select(.result == "failed")] | length == 1 and
           .[0].name == "vm07" and (.[0].error | test("libvirt refused"))' \
        "$TMP/out" >/dev/null || fail "json: vm07 not the one failure"
    jq -e '[.domains[] | select(.result == "changed") | .backup | test("^/")]
           | all and length == 51' "$TMP/out" >/dev/null ||
        fail "json: a changed domain without its backup"
    jq -e '[.domains[].name] == ([.domains[].name] | sort)' "$TMP/out" \
        >/dev/null || fail "json: domains not in name order"
    jq -e '.domains[] | select(.name == "vm04") | .report.changes |
           map(.rule) | index("vcpu-pinning") != null' "$TMP/out" \
        >/dev/null || fail "json: vm04 has no pinning change"
    # "pins": the plan's, as the definition has them; none for a failure.
    jq -e '.domains[] | select(.name == "vm07") | has("pins") and .pins == null' \
        "$TMP/out" >/dev/null || fail "json: the failed vm07 has pins"
    jq -c '.domains[] | select(.name == "vm04") | .pins' "$TMP/out" \
        >"$TMP/vm04-pins"
    want=$(vsh dumpxml vm04 | sed -n "s/.*<vcpupin vcpu='[0-9]*' cpuset='\([0-9]*\)'.*/\1/p" |
           sort -n | paste -sd, -)
    jq -e --arg want "$want" '(.vcpus | split(",") | map(if test("-") then
           (split("-") | map(tonumber)) as [$a, $b] | range($a; $b + 1)
           else tonumber end) | sort | map(tostring) | join(",")) == $want
           and .iothreads == "" and .hugepages == []' "$TMP/vm04-pins" \
        >/dev/null || fail "json: vm04's pins $(cat "$TMP/vm04-pins") are not its vcpupins ($want)"
}
cmp -s "$TMP/vm07-before.xml" "$ROOT/etc/qemu/vm07.xml" ||
    fail "vm07 changed although libvirt refused it"
dump_all "$TMP/after.xml"
pins_ok "$TMP/after.xml" || fail "pins shared or spanning cells"
grep -A20 '<name>keeper</name>' "$TMP/after.xml" | grep -q "cpuset='1'" ||
    fail "keeper lost its pins"
[ "$(grep -c "cpuset='[123]'/>" "$TMP/after.xml")" = 3 ] ||
    fail "CPUs 1-3 of keeper given to another domain"
grep -q "<vcpupin vcpu='[0-9]*' cpuset='4'/>" "$TMP/after.xml" &&
    fail "CPU 4 of keeper's emulator given to another domain's vCPU"
running vm01 || fail "vm01 no longer running"

# --- second run: vm07 now; the others keep their placement --------------
rmdir "$ROOT/etc/qemu/vm07.xml.new"
run 0 $PLAN --all --exclude keeper &&
{
    [ "$(grep -Ec '^vm[0-9]+ +unchanged ' "$TMP/out")" = 51 ] ||
        fail "second run changed domains other than vm07"
    grep -Eq '^vm07 +changed ' "$TMP/out" || fail "vm07 not converted"
}
nb=$(find "$BK" -type f | wc -l)
run 0 $PLAN --all --exclude keeper --check &&
    [ "$(grep -Ec ' unchanged ' "$TMP/out")" = 52 ] ||
    fail "third run is not a no-op"
[ "$(find "$BK" -type f | wc -l)" = "$nb" ] || fail "a no-op run wrote backups"
# An unchanged domain's "pins" are what it holds: vm04's as planned.
run 0 $PLAN --all --exclude keeper --check -o json &&
    jq -e --slurpfile was "$TMP/vm04-pins" '.domains[] | select(.name == "vm04")
           | .result == "unchanged" and .pins == $was[0]' "$TMP/out" \
        >/dev/null || fail "json --check: vm04's pins moved or missing"
# A new domain that sorts first takes free CPUs, and moves nobody.
tcg_domain aaa 4 1024 >"$TMP/aaa.xml"
vsh define "$TMP/aaa.xml" >/dev/null 2>&1
run 0 $PLAN --all --exclude keeper &&
{
    grep -Eq '^aaa +changed ' "$TMP/out" || fail "aaa not converted"
    [ "$(grep -Ec '^vm[0-9]+ +unchanged ' "$TMP/out")" = 52 ] ||
        fail "a new domain moved converted ones"
}
dump_all "$TMP/final.xml"
pins_ok "$TMP/final.xml" || fail "pins shared after the second run"

# --- a host too small: failures are per domain, --fail-fast stops --------
run 4 -c "$URI" --host-caps "$FX/hosts/small-nosmt.xml" --backup-dir "$BK" \
    -p perf --set nested=off --set hugepages=off --all --dry-run --color never &&
    grep -Eq '^vm04 +refused ' "$TMP/out" || fail "small host: vm04 not refused"
# The same as JSON: a pending domain's pins are its plan's, a refused
# one has none.
run 4 -c "$URI" --host-caps "$FX/hosts/small-nosmt.xml" --backup-dir "$BK" \
    -p perf --set nested=off --set hugepages=off --all --dry-run -o json &&
    jq -e '(.domains[] | select(.name == "vm04") | .result == "refused" and
            .pins == null) and
           ([.domains[] | select(.result == "pending") | .pins.vcpus != ""]
            | length > 0 and all)' "$TMP/out" >/dev/null ||
    fail "small host json: pins $(jq -c '[.domains[] | [.name, .result, .pins.vcpus]]' "$TMP/out")"
run 4 -c "$URI" --host-caps "$FX/hosts/small-nosmt.xml" --backup-dir "$BK" \
    -p perf --set nested=off --set hugepages=off --all --dry-run --fail-fast \
    --color never &&
    [ "$(grep -Ec '^(vm|keeper)' "$TMP/out")" -lt 53 ] ||
    fail "--fail-fast did not stop"
# vm01, vm02, vm03 and vm05 need 8 CPUs, the small host has 7 free.
run 0 -c "$URI" --host-caps "$FX/hosts/small-nosmt.xml" --backup-dir "$BK" \
    -p perf --set nested=off --set hugepages=off --match 'vm0[1235]' \
    --dry-run --overcommit --color never &&
    grep -q "^virt-nestify: warning: domain 'vm0[0-9]'.*--overcommit" "$TMP/err" ||
    fail "--overcommit: no warning"
grep -q "error" "$TMP/err" && fail "--overcommit: an error for a shared domain"

finish

#!/bin/sh
# Fleets: several --connect in one run.  Two hosts are two qemu:///embed
# roots with domains of their own, a third URI cannot be reached.  Each
# host gets its own allocation and summary; the report blocks come in the
# order given; one host failing does not stop the others.
set -u
. "$(dirname "$0")/../testlib.sh"
INTEL="$FX/hosts/intel-e5-2697v4.xml"

embed_host "$TMP/host1" 4 a1 a2 a3
embed_host "$TMP/host2" 4 b1 b2
H1="qemu:///embed?root=$TMP/host1"
H2="qemu:///embed?root=$TMP/host2"
BAD="test://$TMP/nonexistent.xml"
FLEET="--host-caps $INTEL --backup-dir $TMP/backups -p perf --set hugepages=off --all"

run 0 -c "$H1" -c "$H2" $FLEET --dry-run --color never --jobs 2 &&
{
    [ "$(grep -c "^== host '" "$TMP/out")" = 2 ] || fail "not two host blocks"
    grep -n "^== host '" "$TMP/out" | head -1 | grep -q "host1" ||
        fail "host blocks not in the order given"
    # Each host allocates on its own: both start at CPU 1.
    [ "$(grep -c "^+    <vcpupin vcpu='0' cpuset='1'/>" "$TMP/out")" = 2 ] ||
        fail "hosts do not allocate independently"
}

run 4 -c "$H1" -c "$BAD" -c "$H2" $FLEET -o json &&
{
    jq -e '.hosts | length == 3' "$TMP/out" >/dev/null || fail "json: not 3 hosts"
    jq -e '.hosts[1].exit == 3 and .hosts[1].result == null' "$TMP/out" \
        >/dev/null || fail "json: the unreachable host"
    jq -e '.hosts[0].result.summary.changed == 3 and
           .hosts[2].result.summary.changed == 2' "$TMP/out" >/dev/null ||
        fail "json: the reachable hosts were not converted"
    jq -e '[.hosts[0].result.domains[].name] == ["a1", "a2", "a3"]' \
        "$TMP/out" >/dev/null || fail "json: host 1's domains"
    grep -q "^virt-nestify: error: host 'test://.*': cannot connect to 'test://" "$TMP/err" ||
        fail "no error line naming the unreachable host"
}
run 0 -c "$H1" -c "$H2" $FLEET --check ||
    fail "a converted fleet still has pending changes"
# cpu-mode=baseline: one CPU computed by libvirt over both hosts (from
# their domain capabilities, each read in a process of its own) before
# either is touched, the same model for every domain of both.
run 0 -c "$H1" -c "$H2" --host-caps "$INTEL" --backup-dir "$TMP/backups" \
    -p nested --set cpu-mode=baseline --all \
    --dry-run --color never &&
{
    models=$(grep "^+    <model fallback='forbid'>" "$TMP/out" | sort -u)
    [ "$(grep -c "^+    <model fallback='forbid'>" "$TMP/out")" = 5 ] ||
        fail "baseline: not every domain of both hosts got a model"
    [ "$(echo "$models" | wc -l)" = 1 ] ||
        fail "baseline: the hosts' domains got different models: $models"
}
# ... never over the capabilities' host CPUs: a driver without domain
# capabilities (the test driver) is refused, one line, nothing done.
run 2 -c test:///default --domain test -p nested --set cpu-mode=baseline &&
{
    one_error "baseline without domain capabilities" "test:///default: the driver gives no domain capabilities, so no host-model CPU to compute the baseline CPU from (the host CPU of its capabilities lists features KVM does not give guests)"
    [ ! -s "$TMP/out" ] || fail "baseline without domain capabilities: something on stdout"
}
run 2 -c "$H1" --jobs 2 $FLEET
one_error "--jobs with one host" "--jobs is for several --connect"

finish

#!/bin/sh
# Hugepages are allocated host-wide, like CPUs: a bulk run never promises
# the same free pages to two guests, a re-run keeps what each has, and a
# single-domain run counts the pages the other definitions use.
#
# The host is tests/fixtures/hosts/intel-e5-2697v4.xml: per cell 16 free
# 1 GiB pages and 8192 free 2 MiB pages (16 GiB), 32 GiB of hugepages in
# all.  Nine shut-off 8 GiB guests (72 GiB) cannot all have them.
set -u
. "$(dirname "$0")/../testlib.sh"
ROOT="$TMP/root"
URI="qemu:///embed?root=$ROOT"
PLAN="-c $URI --host-caps $FX/hosts/intel-e5-2697v4.xml --backup-dir $TMP/backups -p perf"

embed_root "$ROOT"
cmds=""
for i in 1 2 3 4 5 6 7 8 9 10; do
    cat >"$TMP/g$i.xml" <<XML
<domain type='qemu'>
  <name>g$i</name>
  <memory unit='GiB'>8</memory>
  <vcpu placement='static'>4</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
</domain>
XML
    [ "$i" = 10 ] || cmds="$cmds define $TMP/g$i.xml;"
done
count=$((count + 1))
virsh -q -c "$URI" "$cmds" >/dev/null 2>&1
[ "$(ls "$ROOT"/etc/qemu/*.xml | wc -l)" = 9 ] || fail "not 9 domains defined"

# pages_used: "CELL SIZE PAGES" per hugepage-backed definition, from the
# files libvirt keeps (libvirt stores <memory> in KiB; perf gives each
# guest one NUMA cell bound to one host cell).
pages_used() {
    for f in "$ROOT"/etc/qemu/*.xml; do
        size=$(xmllint --xpath 'string(/domain/memoryBacking/hugepages/page/@size)' "$f")
        [ -n "$size" ] || continue
        cell=$(xmllint --xpath 'string(/domain/numatune/memnode/@nodeset)' "$f")
        mem=$(xmllint --xpath 'string(/domain/memory)' "$f")
        echo "$cell $size $((mem / size))"
    done
}
# within_free: no host cell gives more pages of a size than it has free.
within_free() {
    pages_used | awk '
        { used[$1 " " $2] += $3 }
        END { for (k in used) {
                  split(k, c, " ")
                  free = c[2] == 1048576 ? 16 : 8192
                  if (used[k] > free) { print "cell " c[1] ", " c[2] " KiB: " used[k] " > " free; bad = 1 } }
              exit bad }'
}

run 0 $PLAN --all &&
{
    problems=$(within_free) || fail "hugepages promised twice: $problems"
    [ "$(pages_used | wc -l)" = 8 ] ||
        fail "not 8 guests on hugepages: $(pages_used | tr '\n' ';')"
    [ "$(pages_used | grep -c ' 1048576 ')" = 4 ] ||
        fail "not 4 guests on 1 GiB pages: $(pages_used | tr '\n' ';')"
    grep -qE "warning  hugepages /domain/memoryBacking: no hugepage size (of host node [0-9]+ )?can back .*: [0-9]+ KiB pages: [0-9]+ needed, [0-9]+ free" "$TMP/out" ||
        fail "no warning for the guest left without hugepages"
}
cat "$ROOT"/etc/qemu/*.xml >"$TMP/first"

# A re-run changes nothing: each guest's pages are its own.
run 0 $PLAN --all --check
cat "$ROOT"/etc/qemu/*.xml >"$TMP/second"
cmp -s "$TMP/first" "$TMP/second" || fail "the re-run changed definitions"

# One more guest, on its own: the others' definitions hold every page.
count=$((count + 1))
virsh -q -c "$URI" define "$TMP/g10.xml" >/dev/null 2>&1
run 0 $PLAN --domain g10 --dry-run &&
{
    grep -qE "warning  hugepages /domain/memoryBacking: no hugepage size (of host node [0-9]+ )?can back .*: [0-9]+ KiB pages: [0-9]+ needed, [0-9]+ free" "$TMP/out" ||
        fail "g10 was promised pages the others use"
    grep -q "<page size=" "$TMP/out" && fail "g10 got a <page> element"
}

# lint counts the others' pages too, each guest checked without its
# own: after the bulk run nothing is short.  Then g11, bound to host
# cell 0 with 2 MiB pages, needs 4096 of the 8192 that back two guests
# there already: g11 and those two are each short on node 0, as one of
# the three would be when they start.
LINT="lint -c $URI --host-caps $FX/hosts/intel-e5-2697v4.xml"
run 0 $LINT --all || fail "lint --all after the bulk run: $(grep VN30 "$TMP/out")"
sed "s|<name>g10<|<name>g11<|; s|</vcpu>|</vcpu>\\
  <memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking>\\
  <numatune><memory mode='strict' nodeset='0'/></numatune>|" "$TMP/g10.xml" >"$TMP/g11.xml"
count=$((count + 1))
virsh -q -c "$URI" define "$TMP/g11.xml" >/dev/null 2>&1 ||
    fail "cannot define g11"
run 1 $LINT --all &&
{
    [ "$(grep -c 'error VN302: .*host node(s) 0 have 0 free' "$TMP/out")" = 3 ] ||
        fail "lint --all: not three guests short on node 0: $(grep VN30 "$TMP/out")"
    grep -q "^g11: error VN302: " "$TMP/out" || fail "lint: g11 not short"
}
run 0 lint --file "$TMP/g11.xml" --host-caps "$FX/hosts/intel-e5-2697v4.xml" ||
    fail "lint --file: g11 alone should have its pages"

finish

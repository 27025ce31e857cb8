#!/bin/sh
# QEMU is probed once per "make check", not once per qemu:///embed root,
# connection or define (tests/embed-root.sh).
#
# A fresh root from embed_root must already hold the probed capabilities
# of every emulator, and libvirt must keep using them: through several
# connections, defines with validation, and the tool's own live dry run
# and apply, not one cache file is rewritten and libvirt's log shows no
# probe.  This fails when roots stop getting the seed's cache, and when
# libvirt's view of KVM no longer matches what its probe saw (it then
# probes again on every lookup: seconds per connection and per define).
set -u
. "$(dirname "$0")/../testlib.sh"

# Run by hand, outside make check: a seed of its own, probed here.
if [ -z "${NST_EMBED_SEED:-}" ]; then
    NST_EMBED_SEED=$TMP/seed
    export NST_EMBED_SEED
    sh "$NST_SRCDIR/tests/embed-root.sh" --seed "$NST_EMBED_SEED" ||
        { fail "cannot probe QEMU into $NST_EMBED_SEED"; finish; exit; }
fi

ROOT="$TMP/root"
URI="qemu:///embed?root=$ROOT"
CACHE="$ROOT/cache/qemu/capabilities"
LOG="$TMP/libvirt.log"
# libvirt's debug log of its capabilities cache, for every libvirt user
# below (virsh and the tool alike).
LIBVIRT_LOG_FILTERS="1:qemu.qemu_capabilities 1:qemu.qemu_process 1:util.filecache 4:*"
LIBVIRT_LOG_OUTPUTS="1:file:$LOG"
export LIBVIRT_LOG_FILTERS LIBVIRT_LOG_OUTPUTS

# snapshot: name, size and modification time (ns) of each cache file.
snapshot() {
    find "$CACHE" -type f -name '*.xml' -printf '%f %s %T@\n' 2>/dev/null | sort
}

embed_root "$ROOT"
snapshot >"$TMP/before"
emulators=$(ls /usr/bin/qemu-system-x86_64 /usr/bin/qemu-system-i386 2>/dev/null | wc -l)
count=$((count + 1))
[ "$(wc -l <"$TMP/before")" -ge "$emulators" ] && [ "$emulators" -ge 1 ] ||
    fail "a fresh root holds $(wc -l <"$TMP/before") probed emulators, not $emulators: roots do not get the seed's cache"

# Three connections: two validated defines, the domain capabilities
# (each a cache lookup), then the tool's dry run and apply (two more).
embed_domains "$ROOT" 2 g h
count=$((count + 1))
virsh -q -c "$URI" "domcapabilities --virttype qemu; list --all" >/dev/null ||
    fail "virsh domcapabilities failed"
PLAN="-c $URI --host-caps $FX/hosts/intel-e5-2697v4.xml --backup-dir $TMP/backups"
VN=$VN_NATIVE   # libvirt's own log stays in this test's file
run 0 $PLAN -d g -p perf --dry-run
run 0 $PLAN -d h -p nested

snapshot >"$TMP/after"
count=$((count + 1))
cmp -s "$TMP/before" "$TMP/after" ||
    fail "libvirt rewrote its QEMU capabilities cache: $(diff "$TMP/before" "$TMP/after" | tr '\n' ' ')"
probes=$(grep -c "Try to probe capabilities of" "$LOG")
count=$((count + 1))
[ "$probes" = 0 ] || fail "libvirt probed QEMU $probes times in a seeded root"
# The cache was consulted at all (else the log proves nothing).
count=$((count + 1))
grep -q "Returning caps" "$LOG" || fail "libvirt's log shows no capabilities lookup"
if [ "$failures" != 0 ]; then
    echo "libvirt's reasons:"
    grep -E "probing|usable now|not available now|has changed|Outdated" "$LOG" |
        sed 's/^/  /' | head -20
fi
finish

#!/bin/sh
# embed-root.sh: the one place that makes a root for qemu:///embed?root=DIR
#
#   embed-root.sh DIR          a fresh root at DIR (made if missing)
#   embed-root.sh --seed DIR   the seed root: libvirt probes QEMU into it
#                              once, or finds its cache still valid
#
# Every test, and make bench, gets its embedded QEMU driver from here.
#
# Probing QEMU (libvirt starts each qemu-system-* binary and asks it what
# it can do) costs seconds per emulator, and libvirt does it for every
# new root, whose capabilities cache (ROOT/cache/qemu/capabilities) is
# empty.  So "make check" probes once, into a seed root, and DIR gets a
# copy of the seed's cache when NST_EMBED_SEED names it.  libvirt checks
# every cache entry before using it (its own library, the emulator's
# ctime, and whether KVM is usable now as it was when probed), so a copy
# that does not fit is probed again, never used wrongly.
#
# QEMU runs as the user running the tests (qemu.conf's user and group).
# Whether KVM is usable now is, for libvirt, an access(2) check on
# /dev/kvm as that user; the probe found out by running QEMU.  When the
# two disagree, libvirt judges every cache entry stale and probes again
# on every lookup: seconds for each connection and each define.  That
# happened with libvirt's default user (libvirt-qemu) on a host whose
# /dev/kvm is root's alone (0600): "KVM was enabled when probing
# '/usr/bin/qemu-system-i386', but it is not available now".  As the
# tests' own user both ask the same question of the same user, and agree
# without /dev/kvm, with a /dev/kvm on which no guest starts, and with a
# working KVM.  tests/live/embed-cache.sh fails when they do not.
set -eu

seed=no
if [ "${1:-}" = --seed ]; then
    seed=yes
    shift
fi
[ $# = 1 ] || { echo "usage: embed-root.sh [--seed] DIR" >&2; exit 2; }
root=$1
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$root/etc"
{
    cat "$here/fixtures/embed-qemu.conf"
    echo "user = \"+$(id -u)\""
    echo "group = \"+$(id -g)\""
} >"$root/etc/qemu.conf"

if [ "$seed" = yes ]; then
    # Opening the driver looks every emulator up: libvirt probes each
    # whose cache entry is missing or stale, and keeps the rest.
    virsh -q -c "qemu:///embed?root=$root" version >/dev/null ||
        { echo "embed-root.sh: libvirt's QEMU driver does not start on $root" >&2
          exit 1; }
    ls "$root"/cache/qemu/capabilities/*.xml >/dev/null 2>&1 ||
        { echo "embed-root.sh: libvirt left no QEMU capabilities in $root" >&2
          exit 1; }
elif [ -n "${NST_EMBED_SEED:-}" ]; then
    caps=$NST_EMBED_SEED/cache/qemu/capabilities
    ls "$caps"/*.xml >/dev/null 2>&1 ||
        { echo "embed-root.sh: no probed capabilities in $caps (make check makes them)" >&2
          exit 1; }
    mkdir -p "$root/cache/qemu/capabilities"
    cp "$caps"/*.xml "$root/cache/qemu/capabilities/"
fi

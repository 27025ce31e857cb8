#!/bin/sh
# The test programs' runner under --enable-valgrind: each under
# $NST_VALGRIND, except the one that makes libvirt start QEMU from inside
# the test process.  libvirt forks there, and the forked child, which
# inherits valgrind, exits with valgrind's error code over the parent's
# heap before it gets to exec QEMU, so QEMU never starts.  That test
# still runs, without valgrind; its code paths run under valgrind in
# test-live and in the CLI tests.  libvirt opens one embedded root per
# process, so it keeps Check's fork per test.
case "$1" in
    # Forked per test as usual: one embedded root per process.
    */test-live-embed|*/test-verify-embed) CK_FORK=yes exec "$@" ;;
esac
# shellcheck disable=SC2086
exec $NST_VALGRIND "$@"

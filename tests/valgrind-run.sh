#!/bin/sh
# The test programs' runner under --enable-valgrind: each under
# $NST_VALGRIND, except the one that makes libvirt start QEMU from inside
# the test process.  libvirt forks there, and the forked child, which
# inherits valgrind, exits with valgrind's error code over the parent's
# heap before it gets to exec QEMU, so QEMU never starts.  That test
# still runs, without valgrind; its code paths run under valgrind in
# test-live and in the CLI tests.
case "$1" in
    */test-live-embed) exec "$@" ;;
esac
# shellcheck disable=SC2086
exec $NST_VALGRIND "$@"

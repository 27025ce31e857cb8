#!/bin/sh
# The test programs' runner (LOG_COMPILER): each under $NST_VALGRIND in
# the valgrind build, and what the two that make libvirt start QEMU from
# inside the test process (test-live-embed, test-verify-embed) need
# instead.
#
# valgrind: they run without it.  libvirt forks there, and the forked
# child, which inherits valgrind, exits with valgrind's error code over
# the parent's heap before it gets to exec QEMU, so QEMU never starts.
# Their code paths run under valgrind in test-live and in the CLI tests.
# libvirt opens one embedded root per process, so they keep Check's fork
# per test.
#
# AddressSanitizer: full stacks for them alone.  libvirt 9.0 leaks there
# (tests/lsan.supp names its functions), and only the slow unwinder sees
# through Debian's libglib, built without frame pointers, to those names.
# Everywhere else the fast unwinder keeps ASan runs several times
# quicker, and still sees every frame of our own code; a shell test's run
# that makes libvirt leak says so (with_full_stacks, tests/testlib.sh).
case "$1" in
    */test-live-embed|*/test-verify-embed)
        if [ -n "${NST_VALGRIND:-}" ]; then
            CK_FORK=yes exec "$@"
        fi
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0" \
            exec "$@" ;;
esac
# shellcheck disable=SC2086
exec ${NST_VALGRIND:-} "$@"

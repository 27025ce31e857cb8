#!/bin/sh
# Every golden output passes libvirt's own schema (virt-xml-validate).
set -u
: "${NST_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
n=0
failures=0
for f in "$NST_SRCDIR"/tests/fixtures/expected/*.xml \
         "$NST_SRCDIR"/tests/fixtures/expected-fleet/*.xml \
         "$NST_SRCDIR"/tests/fixtures/domains/*.xml; do
    n=$((n + 1))
    if ! out=$(virt-xml-validate "$f" domain 2>&1); then
        echo "FAIL: $f"
        echo "$out" | sed 's/^/  /'
        failures=$((failures + 1))
    fi
done
echo "$n documents validated, $failures failures"
# A run that found nothing to validate must not pass.
[ "$n" -ge 40 ] && [ "$failures" = 0 ]

#!/bin/sh
# bench-virt-xml.sh: one domain, dry run, virt-nestify next to virt-xml
#
# Usage: bench-virt-xml.sh [SRCDIR [VIRT_NESTIFY [RUNS]]]
#
# Times RUNS (default 20) runs of each, one after the other, on the same
# domain (tests/fixtures/domains/ubuntu-guest.xml), output to /dev/null:
#
#   virt-nestify --file DOMAIN --host-caps intel-e5-2697v4.xml -p perf \
#       --dry-run                  (report and diff: cpu, cputune,
#                                   numatune and memoryBacking change)
#   virt-xml --connect test:///default --edit --cpu host-passthrough \
#       --print-diff < DOMAIN      (diff: the cpu element only)
#
# virt-xml (Debian's virtinst) edits a domain of a connection, or the XML
# on its stdin when no domain is named; it opens a connection either way,
# so it gets libvirt's in-process test driver: offline, no daemon.  One
# untimed run of each comes first (page cache, and a check that both
# work); each tool's peak RSS is then measured on one more run.
#
# Prints the mean wall time per run, the speed ratio and both peak RSS
# figures with the goals of issue 4 beside them (at least 20x faster, at
# most 1/5 of the memory).  The goals are never asserted: exit 0 when
# both tools ran, 2 when one is missing, 3 when one fails.
set -u
LC_ALL=C
export LC_ALL

SRCDIR=${1:-$(cd "$(dirname "$0")/.." && pwd)}
NESTIFY=${2:-$SRCDIR/build/virt-nestify}
RUNS=${3:-20}
VIRT_XML=${VIRT_XML:-virt-xml}
DOMAIN=$SRCDIR/tests/fixtures/domains/ubuntu-guest.xml
CAPS=$SRCDIR/tests/fixtures/hosts/intel-e5-2697v4.xml

die() {
    code=$1
    shift
    echo "bench-virt-xml: $*" >&2
    exit "$code"
}

case $RUNS in
    ''|*[!0-9]*|0) die 2 "RUNS must be a positive number, not '$RUNS'" ;;
esac
[ -x "$NESTIFY" ] || die 2 "'$NESTIFY' is not built (run make)"
command -v "$VIRT_XML" >/dev/null 2>&1 ||
    die 2 "'$VIRT_XML' not found (Debian package virtinst)"
if [ ! -r "$DOMAIN" ] || [ ! -r "$CAPS" ]; then
    die 2 "fixtures not found in '$SRCDIR'"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-virt-xml.XXXXXX") ||
    die 3 "cannot create a temporary directory"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 3' HUP INT TERM
# virt-xml logs under $HOME/.cache: a private HOME keeps runs alike and
# the user's home untouched.
HOME=$TMP/home
export HOME
mkdir -p "$HOME"

run_nestify() {
    "$NESTIFY" --file "$DOMAIN" --host-caps "$CAPS" -p perf --dry-run
}

run_virt_xml() {
    "$VIRT_XML" --connect test:///default --edit --cpu host-passthrough \
        --print-diff <"$DOMAIN"
}

# Peak RSS in KiB of one run of $1 (a function above): GNU time when
# present (Debian package time), else python3 (virt-xml needs it
# anyway) reading the child's ru_maxrss.
peak_rss() {
    if /usr/bin/time -f %M -o "$TMP/rss" true 2>/dev/null; then
        /usr/bin/time -f %M -o "$TMP/rss" sh -c "$(rss_cmd "$1")" \
            >/dev/null 2>&1 || return 1
        tail -n 1 "$TMP/rss"
    else
        python3 -c '
import resource, subprocess, sys
if subprocess.run(["sh", "-c", sys.argv[1]], stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL).returncode != 0:
    sys.exit(1)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
' "$(rss_cmd "$1")"
    fi
}

# The command line of $1 for "sh -c", with exec so the measured process
# is the tool itself.
rss_cmd() {
    case $1 in
        run_nestify)
            printf "exec '%s' --file '%s' --host-caps '%s' -p perf --dry-run" \
                "$NESTIFY" "$DOMAIN" "$CAPS" ;;
        run_virt_xml)
            printf "exec '%s' --connect test:///default --edit --cpu \
host-passthrough --print-diff <'%s'" "$VIRT_XML" "$DOMAIN" ;;
    esac
}

now_ns() {
    date +%s%N
}

# Mean wall time per run of $1 in milliseconds, over RUNS runs.
mean_ms() {
    t0=$(now_ns)
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        "$1" >/dev/null 2>"$TMP/err" || return 1
        i=$((i + 1))
    done
    t1=$(now_ns)
    awk -v d="$((t1 - t0))" -v n="$RUNS" 'BEGIN { printf "%.2f", d / n / 1e6 }'
}

# Untimed first runs: both tools must work and print a diff.
run_nestify >"$TMP/nestify.out" 2>"$TMP/err" ||
    die 3 "virt-nestify failed: $(head -n 3 "$TMP/err")"
run_virt_xml >"$TMP/virt-xml.out" 2>"$TMP/err" ||
    die 3 "virt-xml failed: $(head -n 3 "$TMP/err")"
grep -q '^+++ ' "$TMP/nestify.out" || die 3 "virt-nestify printed no diff"
grep -q '^+++ ' "$TMP/virt-xml.out" || die 3 "virt-xml printed no diff"
elements=""
for e in cpu cputune numatune memoryBacking; do
    grep -q "^+ *<${e}[ >]" "$TMP/nestify.out" && elements="$elements $e"
done

nestify_ms=$(mean_ms run_nestify) ||
    die 3 "virt-nestify failed: $(head -n 3 "$TMP/err")"
virt_xml_ms=$(mean_ms run_virt_xml) ||
    die 3 "virt-xml failed: $(head -n 3 "$TMP/err")"
nestify_kb=$(peak_rss run_nestify) || die 3 "virt-nestify failed"
virt_xml_kb=$(peak_rss run_virt_xml) || die 3 "virt-xml failed"

echo "one domain ($(basename "$DOMAIN")), dry run, $RUNS runs each"
echo "  virt-nestify -p perf changes:${elements:- (none?)}"
echo "  virt-xml --cpu host-passthrough changes: cpu"
printf '  %-34s %10s ms/run  %8s KiB peak RSS\n' "virt-nestify" \
    "$nestify_ms" "$nestify_kb"
printf '  %-34s %10s ms/run  %8s KiB peak RSS\n' "virt-xml" \
    "$virt_xml_ms" "$virt_xml_kb"
awk -v a="$nestify_ms" -v b="$virt_xml_ms" -v ma="$nestify_kb" \
    -v mb="$virt_xml_kb" 'BEGIN {
    speed = b / a
    mem = ma / mb
    printf "  speed: virt-nestify %.1fx faster    (goal: >= 20x, %s)\n",
           speed, (speed >= 20 ? "met" : "not met")
    printf "  memory: virt-nestify %.2f of virt-xml (goal: <= 0.20, %s)\n",
           mem, (mem <= 0.2 ? "met" : "not met")
}'
exit 0

#!/bin/sh
# run-fuzz.sh: "make fuzz" -- builds the libFuzzer targets with clang
# (-fsanitize=fuzzer,address,undefined) and runs each for FUZZ_SECONDS,
# then prints the executions reached and the crashes found.
#
# Called by the build tree's Makefile with: FUZZ_CC, FUZZ_SECONDS,
# FUZZ_TARGETS, FUZZ_SRCDIR, FUZZ_BUILDDIR, LIBXML_CFLAGS, LIBXML_LIBS,
# JSON_C_CFLAGS, JSON_C_LIBS.
# Seeds are generated from the fixtures in $FUZZ_BUILDDIR/fuzz/seeds;
# what libFuzzer finds grows $FUZZ_BUILDDIR/fuzz/corpus (kept between
# runs); crashing inputs land in $FUZZ_BUILDDIR/fuzz/artifacts.  Extra
# libFuzzer options go in FUZZ_FLAGS.  Exit 1 when a target crashed.
set -u

S=$FUZZ_SRCDIR
B=$FUZZ_BUILDDIR/fuzz
CC=${FUZZ_CC:-clang}
APT="apt-get install clang-14 libclang-rt-14-dev"

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "make fuzz: $CC not found; on Debian 12: $APT" >&2
    exit 2
fi
mkdir -p "$B/bin" "$B/artifacts" "$B/logs"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }\n' \
    >"$B/probe.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$B/probe.c" -o "$B/probe" \
        >"$B/probe.log" 2>&1; then
    echo "make fuzz: $CC cannot link libFuzzer ($(head -1 "$B/probe.log"));" \
        "on Debian 12: $APT" >&2
    exit 2
fi

# --- build -----------------------------------------------------------------
# The library's sources straight into each target: one sanitizer and
# coverage build of everything the input reaches.
set --
for f in "$S"/lib/*.c; do
    set -- "$@" "$f"
done
set -- "$@" "$FUZZ_BUILDDIR/lib/profiles-builtin.c" "$S/fuzz/fuzz-common.c"
for t in $FUZZ_TARGETS; do
    echo "  CCLD     fuzz/bin/fuzz-$t"
    # shellcheck disable=SC2086
    "$CC" -g -O1 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -D_GNU_SOURCE -I"$S/lib" -include "$S/cli/banned.h" \
        -DNST_FUZZ_SRCDIR="\"$S\"" $LIBXML_CFLAGS $JSON_C_CFLAGS \
        -o "$B/bin/fuzz-$t" "$S/fuzz/fuzz-$t.c" "$@" $LIBXML_LIBS $JSON_C_LIBS ||
        exit 2
done

# --- seeds: the fixtures, regenerated every run (never copied into git) --
seed() {
    dir=$B/seeds/$1
    shift
    rm -rf "$dir"
    mkdir -p "$dir"
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$dir/$(basename "$(dirname "$f")")-$(basename "$f")"
    done
}
seed domain "$S"/tests/fixtures/domains/*.xml "$S"/tests/fixtures/lint/*.xml
seed host "$S"/tests/fixtures/hosts/*.xml "$S"/tests/fixtures/hosts/bad/*.xml
seed profile "$S"/lib/profiles/*.profile
# Bad inputs are seeds too: the error paths are where parsers break.
if [ -f "$S/tests/bad-input/cases.txt" ]; then
    for f in "$S"/tests/bad-input/*; do
        case $f in
            *.xml) cp "$f" "$B/seeds/domain/bad-$(basename "$f")"
                   cp "$f" "$B/seeds/host/bad-$(basename "$f")" ;;
            *.profile) cp "$f" "$B/seeds/profile/bad-$(basename "$f")" ;;
        esac
    done
fi

# --- run -------------------------------------------------------------------
# The targets run at the same time, each for FUZZ_SECONDS: the wall time
# is FUZZ_SECONDS whatever the number of targets (on a machine with fewer
# cores than targets they share them; the figures say what each reached).
run_target() {
    t=$1
    dict=$S/fuzz/xml.dict
    [ "$t" = profile ] && dict=$S/fuzz/profile.dict
    mkdir -p "$B/corpus/$t"
    regressions=
    [ -d "$S/fuzz/regressions/$t" ] && regressions=$S/fuzz/regressions/$t
    # shellcheck disable=SC2086
    NST_SRCDIR=$S "$B/bin/fuzz-$t" -max_total_time="$FUZZ_SECONDS" \
        -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -dict="$dict" -artifact_prefix="$B/artifacts/$t-" ${FUZZ_FLAGS:-} \
        "$B/corpus/$t" "$B/seeds/$t" $regressions >"$B/logs/fuzz-$t.log" 2>&1
    echo $? >"$B/logs/fuzz-$t.status"
}

for t in $FUZZ_TARGETS; do
    echo "  FUZZ     fuzz-$t for ${FUZZ_SECONDS}s (log: $B/logs/fuzz-$t.log)"
    rm -f "$B/logs/fuzz-$t.status"
    run_target "$t" &
done
wait

total=0
crashes=0
for t in $FUZZ_TARGETS; do
    log=$B/logs/fuzz-$t.log
    status=$(cat "$B/logs/fuzz-$t.status" 2>/dev/null || echo missing)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    execs=${execs:-0}
    total=$((total + execs))
    found=0
    if [ "$status" != 0 ]; then
        found=1
        crashes=$((crashes + 1))
    fi
    echo "fuzz-$t: $execs executions, $found crashes" \
        "(corpus $(find "$B/corpus/$t" -type f | wc -l) inputs)"
    if [ "$found" != 0 ]; then
        grep -E '^==[0-9]+==ERROR|runtime error|invariant failed|^artifact_prefix|Test unit written' \
            "$log" | head -5 | sed 's/^/    /'
    fi
done
echo "fuzz: $total executions in total, $crashes crashes"
[ "$crashes" = 0 ]

#!/bin/sh
# End-to-end tests of "virt-nestify map" offline: the pins and
# hugepages of domain files on a --host-caps host (the perf goldens of
# tests/fixtures/expected, each planned alone, so they overlap:
# overcommitted), text with and without colour, JSON, the SVG checked
# as XML and rendered to PNG (rsvg-convert, Debian's librsvg2-bin), and
# bad input.  The golden maps of bulk plans are tests/test-map.c's;
# tests/live/map.sh runs map -c and bulk --dry-run --map.
set -u

. "$(dirname "$0")/../testlib.sh"
cd "$NST_SRCDIR" || exit 1
H=tests/fixtures/hosts/intel-e5-2697v4.xml
E=tests/fixtures/expected
A=$E/existing-tuning--intel-e5-2697v4--perf.xml
B=$E/ubuntu-guest--intel-e5-2697v4--perf.xml

# Two guests planned alone both start after the housekeeping core:
# their shared CPUs are overcommitted, --taken CPUs drawn 'x'.
if run 0 map -H "$H" -f "$A" -f "$B" --taken 30-31; then
    grep -q '^A existing-tuning: vCPUs on 1-2,37-38 (4 CPUs), threads on 0,36; overcommitted on 1-2,37-38$' "$TMP/out" ||
        fail "existing-tuning's line: $(cat "$TMP/out")"
    grep -q '^   0=  1!  2!  3B' "$TMP/out" || fail "cell 0's row: $(cat "$TMP/out")"
    grep -q ' 30x 31x ' "$TMP/out" || fail "--taken not drawn: $(cat "$TMP/out")"
    grep -q "$(printf '\033')" "$TMP/out" && fail "colour without a terminal"
    awk 'length > 100 { exit 1 }' "$TMP/out" || fail "a line over 100 columns"
fi
run 0 map -H "$H" -f "$A" --color always &&
    { grep -q "$(printf '\033')\[" "$TMP/out" || fail "--color always: no colour"; }
NO_COLOR=1 run 0 map -H "$H" -f "$A" &&
    { grep -q "$(printf '\033')" "$TMP/out" && fail "NO_COLOR: colour"; }
# No file: the host alone, every CPU free or housekeeping.
run 0 map -H tests/fixtures/hosts/small-nosmt.xml &&
    { grep -q '^  0- 1. 2. 3. 4. 5. 6. 7.$' "$TMP/out" || fail "empty host: $(cat "$TMP/out")"; }
# A profile's housekeeping.
run 0 map -H tests/fixtures/hosts/small-nosmt.xml -p perf --set housekeeping=0-1 &&
    { grep -q '^  0- 1- 2. ' "$TMP/out" || fail "--set housekeeping: $(cat "$TMP/out")"; }

# JSON: one document, the CPU's holders by name.
if run 0 map -H "$H" -f "$A" -f "$B" -o json; then
    python3 - "$TMP/out" <<'PY' || fail "JSON: $(head -c 600 "$TMP/out")"
import json, sys
doc = json.load(open(sys.argv[1]))
cpu1 = doc["cells"][0]["cores"][1][0]
assert cpu1["cpu"] == 1 and cpu1["role"] == "overcommitted", cpu1
assert cpu1["vcpus"] == ["existing-tuning", "ubuntu-guest"], cpu1
assert [g["mark"] for g in doc["guests"]] == ["A", "B"]
assert doc["cells"][0]["pages"][0]["size_kib"] == 4
PY
fi

# SVG: well-formed, <svg> in the SVG namespace, no script or external
# reference, and a PNG of its size.
if run 0 map -H "$H" -f "$A" -f "$B" --taken 30-31 -o svg; then
    cp "$TMP/out" "$TMP/map.svg"
    xmllint --noout "$TMP/map.svg" || fail "SVG is not well-formed"
    [ "$(xmllint --xpath 'namespace-uri(/*)' "$TMP/map.svg")" = \
      http://www.w3.org/2000/svg ] || fail "root not in the SVG namespace"
    [ "$(xmllint --xpath 'local-name(/*)' "$TMP/map.svg")" = svg ] ||
        fail "root is not svg"
    grep -qiE '<script|href=|url\(' "$TMP/map.svg" && fail "SVG not self-contained"
    w=$(xmllint --xpath 'string(/*/@width)' "$TMP/map.svg")
    h=$(xmllint --xpath 'string(/*/@height)' "$TMP/map.svg")
    rsvg-convert -o "$TMP/map.png" "$TMP/map.svg" || fail "rsvg-convert failed"
    [ -s "$TMP/map.png" ] || fail "no PNG"
    size=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]))' "$TMP/map.png")
    [ "$size" = "${w}x$h" ] || fail "PNG is $size, SVG ${w}x$h"
    # VN_MAP_PNG=FILE keeps the picture, to look at
    [ -n "${VN_MAP_PNG:-}" ] && cp "$TMP/map.png" "$VN_MAP_PNG"
fi

bad_input "no host" "map needs a host" map -f "$A"
bad_input "-c with --file" "--file is for an offline map" \
    map -c test:///default -f "$A"
bad_input "bad output" "--output must be 'text', 'json' or 'svg', not 'png'" \
    map -H "$H" -o png
bad_input "colour of JSON" "--color is for the text map" \
    map -H "$H" -o json --color always
bad_input "missing file" "nope.xml" map -H "$H" -f nope.xml
bad_input "not a domain" "$H" map -H "$H" -f "$H"
bad_input "taken off the host" "--taken: CPU 99 does not exist" \
    map -H "$H" --taken 99
bad_input "--map without bulk" "--map is for bulk runs" \
    -f "$A" -H "$H" -p perf --map
finish

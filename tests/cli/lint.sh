#!/bin/sh
# End-to-end tests of "virt-nestify lint": the golden cases of
# tests/test-lint.c through the command line (text and JSON compared
# byte for byte with tests/fixtures/lint/expected), exit statuses, bad
# input, and lint on test:/// connections.  NST_TEST_REGENERATE_OUTPUT=1
# rewrites the live golden files (the others are test-lint's).
set -u

. "$(dirname "$0")/../testlib.sh"
# Labels in the output are the paths as given: relative to the tree.
cd "$NST_SRCDIR" || exit 1
LX=tests/fixtures/lint
H=tests/fixtures/hosts

# golden CASE FIXTURE HOST|- TAKEN|-: text and JSON as test-lint expects,
# exit 1 when the expected JSON counts errors, else 0.
golden() {
    name=$1
    set -- lint --file "$LX/$2.xml" ${3:+--host-caps} ${3:+$H/$3.xml} \
        ${4:+--taken} ${4:+$4}
    want=1
    grep -q '^  "errors": 0,$' "$LX/expected/$name.json" && want=0
    run $want "$@" && { cmp -s "$TMP/out" "$LX/expected/$name.txt" ||
        fail "$name: text differs: $(diff "$LX/expected/$name.txt" "$TMP/out")"; }
    run $want "$@" -o json && { cmp -s "$TMP/out" "$LX/expected/$name.json" ||
        fail "$name: JSON differs: $(diff "$LX/expected/$name.json" "$TMP/out")"; }
}

# Keep in step with the cases of tests/test-lint.c.
golden clean clean intel-e5-2697v4 ""
golden clean--nohost clean "" ""
golden unknown-feature unknown-feature intel-e5-2697v4 ""
golden unknown-feature--nohost unknown-feature "" ""
golden wrong-virt-feature wrong-virt-feature amd-epyc-7502p-nps4 ""
golden disabled-mitigation disabled-mitigation intel-e5-2697v4 ""
golden passthrough-migratable passthrough-migratable intel-e5-2697v4 ""
golden topology-mismatch topology-mismatch intel-e5-2697v4 ""
golden invalid-size invalid-size "" ""
golden pin-outside-host pin-outside-host small-nosmt ""
golden pin-spans-cells pin-spans-cells amd-epyc-7502p-nps4 ""
golden pin-shared pin-shared intel-e5-2697v4 3-5
golden numatune-node numatune-node small-nosmt ""
golden realtime-unpinned realtime-unpinned "" ""
golden hugepage-size hugepage-size intel-e5-2697v4 ""
golden hugepages-free hugepages-free amd-epyc-7502p-nps4 ""
golden page-nodeset page-nodeset intel-e5-2697v4 ""
golden hard-limit-low hard-limit-low intel-e5-2697v4 ""
golden hugepage-too-large hugepage-too-large "" ""
golden hugepages-backing hugepages-backing "" ""
golden hugepage-pieces hugepage-pieces "" ""
golden launch-security-host launch-security-host intel-e5-2697v4 ""
golden launch-security-host--tdx launch-security-tdx amd-epyc-7502p-nps4 ""
golden launch-security-host--sev-on-amd launch-security-host amd-epyc-7502p-nps4 ""
golden nested-confidential nested-confidential amd-epyc-7502p-nps4 ""
golden nested-confidential--nohost nested-confidential "" ""
golden hyperv-nested hyperv-nested intel-e5-2697v4 ""
golden hyperv-nested--amd hyperv-nested amd-epyc-7502p-nps4 ""
golden hyperv-nested--nohost hyperv-nested "" ""
golden evmcs-amd evmcs-amd amd-epyc-7502p-nps4 ""
golden evmcs-amd--intel evmcs-amd intel-e5-2697v4 ""

# Warnings only: exit 0.  stdin is labelled "stdin".
run 0 lint --file - --host-caps "$H/intel-e5-2697v4.xml" \
    <"$LX/passthrough-migratable.xml" &&
    { grep -q '^stdin: warning VN104: ' "$TMP/out" || fail "stdin label"; }
# The seed: errors, exit 1, nothing on stderr.
run 1 lint --file tests/fixtures/domains/seed-bogus.xml \
    --host-caps "$H/amd-epyc-7502p-nps4.xml" &&
{
    [ -s "$TMP/err" ] && fail "seed: stderr not empty"
    grep -q "error VN101: CPU feature 'ept'" "$TMP/out" || fail "seed: no ept"
    grep -q "error VN102: the domain requires 'vmx'" "$TMP/out" ||
        fail "seed: no vmx on AMD"
}

# --- bad input and usage -------------------------------------------
bad_input "missing file" "$TMP/none.xml: No such file" lint --file "$TMP/none.xml"
bad_input "not XML" "README: line 1" lint --file README
echo '<domain' >"$TMP/cut.xml"
bad_input "truncated XML" "$TMP/cut.xml: line" lint --file "$TMP/cut.xml"
bad_input "bad host caps" "bad/not-caps.xml" lint --file "$LX/clean.xml" \
    --host-caps "$H/bad/not-caps.xml"
bad_input "bad --taken" "--taken" lint --file "$LX/clean.xml" --taken 2-x
bad_input "no mode" "give either" lint
bad_input "both modes" "give either" lint --file "$LX/clean.xml" --all
bad_input "--all and --domain" "--all and --domain" lint --all --domain a
bad_input "--domcaps alone" "need --host-caps" lint --file "$LX/clean.xml" \
    --domcaps "$H/intel-e5-2697v4-domcaps.xml"
bad_input "--connect offline" "--connect needs" lint --file "$LX/clean.xml" \
    -c test:///default
bad_input "bad --output" "--output must be" lint --file "$LX/clean.xml" -o yaml
run 0 lint --help && { grep -q "^usage: virt-nestify lint" "$TMP/out" ||
    fail "lint --help"; }

# --- on a connection ---------------------------------------------------
# test:///default: one clean domain, its own host model.
run 0 lint -c test:///default --domain test &&
    { [ -s "$TMP/out" ] && fail "test:///default: findings: $(cat "$TMP/out")"; }
run 0 lint -c test:///default --all -o json &&
{
    grep -q '^      "domain": "test",$' "$TMP/out" || fail "--all json: no test"
    grep -q '^      "host_rules": "checked",$' "$TMP/out" ||
        fail "--all json: host rules not checked"
}
bad_input "unknown domain" "domain 'nope' not found" lint -c test:///default --domain nope
run 3 lint -c nosuch:///x --all && one_error "bad URI" "cannot connect"

# A node with two domains sharing a CPU (its host as test:///default's).
NODE="test://$NST_SRCDIR/$LX/test-node.xml"
for args in "--all" "--domain b --domain a"; do
    case $args in
    --all) out=$LX/expected/live--all ;;
    *) out=$LX/expected/live--domain-b-a ;;
    esac
    # shellcheck disable=SC2086
    run 1 lint -c "$NODE" $args --host-caps "$H/test-default.xml"
    if [ "${NST_TEST_REGENERATE_OUTPUT:-}" = 1 ]; then
        cp "$TMP/out" "$out.txt"
    fi
    cmp -s "$TMP/out" "$out.txt" ||
        fail "live $args differs: $(diff "$out.txt" "$TMP/out")"
done
# --taken adds to the other domains' pins.
run 1 lint -c "$NODE" --domain a --host-caps "$H/test-default.xml" \
    --taken 1 &&
    { grep -q "host CPU(s) 1-2, which other" "$TMP/out" || fail "live --taken"; }

# --- the split: cmd-lint.c never reaches libvirt but through vn_lint_live ----
count=$((count + 1))
grep -n '#include.*\(libvirt\|conn\.h\)' cli/cmd-lint.c &&
    fail "cli/cmd-lint.c includes libvirt"
obj=$NST_BUILDDIR/cli/.libs/libvntool_la-lint.o
if [ -f "$obj" ]; then
    count=$((count + 1))
    nm -u "$obj" | grep -E ' (vir[A-Z]|vn_conn_|vn_domain_)' &&
        fail "cli/cmd-lint.c's object needs libvirt or conn.c"
fi

finish

#!/bin/sh
# End-to-end tests of "virt-nestify verify" as a program, on libvirt's
# test driver: its domains cannot have a real guest agent (the agent
# passthrough is the QEMU driver's), so this covers what needs none: the
# command table, usage errors, a domain without an agent channel, text
# and JSON output, and the driver's refusal of the agent passthrough
# (exit 3).  The agent's protocol runs in tests/test-verify.c against a
# fake agent and on the real QEMU driver in tests/test-verify-embed.c.
set -u

. "$(dirname "$0")/../testlib.sh"
INTEL="--host-caps $FX/hosts/intel-e5-2697v4.xml"

# A test driver node holding one running guest that has the channel.
cat >"$TMP/node.xml" <<'XML'
<node>
  <domain type='test'>
    <name>guest</name>
    <memory unit='KiB'>1048576</memory>
    <vcpu placement='static'>2</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <cpu mode='host-passthrough' check='none'>
      <feature policy='require' name='vmx'/>
    </cpu>
    <devices>
      <channel type='unix'>
        <target type='virtio' name='org.qemu.guest_agent.0'/>
      </channel>
    </devices>
  </domain>
</node>
XML

# --- usage and bad input: exit 2, one error line, nothing on stdout ---
bad_input "no domain" "verify needs --domain" verify -c test:///default
bad_input "bad timeout" "--timeout must be a number of seconds" \
    verify -d test --timeout 5s
bad_input "unknown domain" "domain 'nosuch' not found" \
    verify -c test:///default -d nosuch $INTEL
bad_input "unknown profile" "nosuch" \
    verify -c test:///default -d test -p nosuch $INTEL

run 0 verify --help && grep -q "^usage: virt-nestify verify --domain D" \
    "$TMP/out" || fail "verify --help"

# --- no agent channel: the live XML says so, no agent call ----------
run 1 verify -c test:///default -d test $INTEL && {
    grep -q "^FAIL  guest-agent: domain 'test' has no guest agent channel" \
        "$TMP/out" || fail "no channel: $(cat "$TMP/out")"
    grep -q "^FAIL  live-cpu-mode: the running domain is not as profile 'nested' sets" \
        "$TMP/out" || fail "no channel: live-cpu-mode"
    grep -q "^      fix: apply the profile and restart the domain: virt-nestify -c 'test:///default' --domain test --profile nested --restart$" \
        "$TMP/out" || fail "no channel: the fix"
    grep -q "^0 passed, 3 failed, 5 skipped$" "$TMP/out" ||
        fail "no channel: summary"
    [ -s "$TMP/err" ] && fail "no channel: stderr: $(cat "$TMP/err")"
}

run 1 verify -c test:///default -d test $INTEL -o json && {
    jq -e '.domain == "test" and .profile == "nested" and
           .result == "fail" and (.checks | length) == 8 and
           ([.checks[] | select(.result == "fail") | .check] ==
            ["live-cpu-mode", "live-cpu-feature", "guest-agent"]) and
           ([.checks[] | select(.result == "fail") | .fix | type] ==
            ["string", "string", "string"]) and
           .summary == {"pass": 0, "fail": 3, "skip": 5}' \
        "$TMP/out" >/dev/null || fail "json: $(cat "$TMP/out")"
}

# --- a channel, but a driver without agent passthrough: exit 3 -------
run 3 verify -c "test://$TMP/node.xml" -d guest $INTEL && {
    grep -q "^PASS  live-cpu-mode: " "$TMP/out" || fail "node: live-cpu-mode"
    grep -q "^FAIL  guest-agent: pinging the guest through the guest agent failed: .*not supported" \
        "$TMP/out" || fail "node: $(cat "$TMP/out")"
    grep -q "^SKIP  guest-kvm-nested: not checked: libvirt failed$" \
        "$TMP/out" || fail "node: skipped"
}

finish

#!/bin/sh
# End-to-end tests of "virt-nestify host": the doctor on the fixture
# roots (tests/fixtures/hostroots/*, read with --root) against golden
# outputs (tests/fixtures/expected-host/), and "host --enable" on
# temporary copies of them.  NST_TEST_REGENERATE_OUTPUT=1 rewrites the
# golden files; review them in git diff.  Every run of the tool may be
# under $NST_VALGRIND.
set -u

. "$(dirname "$0")/../testlib.sh"
# The fixture roots, copied: the doctor opens dev/kvm read-write, which
# a read-only source tree (make distcheck) does not allow.
cp -R "$FX/hostroots" "$TMP/roots"
chmod -R u+w "$TMP/roots"
ROOTS="$TMP/roots"
EXPECTED="$FX/expected-host"
unset VIRT_NESTIFY_MODPROBE

# golden NAME: $TMP/out against $EXPECTED/NAME, byte for byte.
golden() {
    if [ "${NST_TEST_REGENERATE_OUTPUT:-}" = 1 ]; then
        mkdir -p "$EXPECTED"
        cp "$TMP/out" "$EXPECTED/$1"
    fi
    if ! cmp -s "$TMP/out" "$EXPECTED/$1"; then
        fail "$1 differs from the golden output"
        diff -u "$EXPECTED/$1" "$TMP/out" | sed 's/^/  /'
    fi
}

# tree DIR: every path under DIR with the checksum of each file, to see
# that nothing changed.
tree() {
    (cd "$1" && find . -print | LC_ALL=C sort | while read -r f; do
        if [ -f "$f" ] && [ ! -L "$f" ]; then
            printf '%s %s\n' "$(cksum <"$f")" "$f"
        else
            printf 'dir-or-link %s\n' "$f"
        fi
    done)
}

# fresh NAME: a writable copy of fixture root NAME in $TMP/NAME.
fresh() {
    rm -rf "${TMP:?}/$1"
    cp -R "$ROOTS/$1" "$TMP/$1"
    # Writable also when the source tree is not (make distcheck).
    chmod -R u+w "$TMP/$1"
    R="$TMP/$1"
}

# --- the doctor on every fixture root: text and JSON -------------------
for case in intel-nested:0 intel-nested-off:1 amd:0 no-virt:1 \
            no-module:1 no-hugepages:0 pinning:0; do
    name=${case%:*}
    want=${case#*:}
    run "$want" host --root "$ROOTS/$name" &&
    {
        golden "$name.txt"
        [ -s "$TMP/err" ] && fail "$name: stderr not empty: $(cat "$TMP/err")"
    }
    run "$want" host --root "$ROOTS/$name" --output json &&
    {
        golden "$name.json"
        jq -e . "$TMP/out" >/dev/null || fail "$name: not JSON"
        # The document agrees with itself and with the exit status.
        jq -e '(.checks | length) == 9 and
               ([.checks[].id] == ["cpu-virt", "cpu-paging", "dev-kvm",
                 "kvm-module", "nested", "nested-persist", "hugepages",
                 "iommu", "isolation"]) and
               (.counts.pass + .counts.warn + .counts.fail + .counts.skip
                == 9) and
               ([.checks[] | select(.status == "fail")] | length) ==
                .counts.fail and
               all(.checks[]; (.status == "fail" or .status == "warn")
                              == (.fix != null)) and
               (.result == (if .counts.fail > 0 then "fail"
                            elif .counts.warn > 0 then "warn"
                            else "pass" end))' "$TMP/out" >/dev/null ||
            fail "$name: JSON document inconsistent"
        fails=$(jq '.counts.fail' "$TMP/out")
        { [ "$fails" -gt 0 ] && [ "$want" = 1 ]; } ||
            { [ "$fails" = 0 ] && [ "$want" = 0 ]; } ||
            fail "$name: $fails failures but exit $want"
    }
done

# What the JSON says, spot by spot.
run 1 host --root "$ROOTS/intel-nested-off" -o json &&
{
    [ "$(jq -r '.vendor' "$TMP/out")" = intel ] || fail "json: vendor"
    [ "$(jq -r '.checks[] | select(.id == "nested") | .status' "$TMP/out")" = fail ] ||
        fail "json: nested not failed"
    jq -r '.checks[] | select(.id == "nested") | .fix' "$TMP/out" |
        grep -q 'virt-nestify host --enable --reload' || fail "json: nested fix"
    [ "$(jq -c '.checks[] | select(.id == "hugepages") | .pages' "$TMP/out")" = \
      '[{"size_kib":2048,"reserved":512,"free":0}]' ] || fail "json: pages"
}
run 0 host --root "$ROOTS/amd" -o json &&
{
    [ "$(jq -r '.vendor' "$TMP/out")" = amd ] || fail "json: amd vendor"
    [ "$(jq -r '.checks[] | select(.id == "nested-persist") | .detail' "$TMP/out")" = \
      "/etc/modprobe.d/kvm-amd.conf line 1" ] || fail "json: kvm-amd spelling"
}
run 1 host --root "$ROOTS/no-virt" -o json &&
    [ "$(jq -r '.checks[] | select(.id == "cpu-paging") | .status' "$TMP/out")" = skip ] ||
    fail "json: no-virt paging not skipped"

# modprobe.d as modprobe reads it: *.conf only, in name order, comments,
# a bool without a value, "off", later files win.
# persist WANT: whether the doctor's nested-persist says WANT.
persist() {
    run 0 host --root "$R" -o json || return 1
    got=$(jq -r '.checks[] | select(.id == "nested-persist") | .status + " " + .detail' "$TMP/out")
    [ "$got" = "$1" ] || { echo "  nested-persist: $got"; return 1; }
}
fresh intel-nested
M="$R/etc/modprobe.d"
rm -f "$M"/*
printf 'options kvm_intel nested=1\n' >"$M/a.conf"
printf '# options kvm_intel nested=0\ninstall kvm_intel /bin/false nested=0\n' >"$M/b.conf"
printf 'options kvm_intel nested=0\n' >"$M/c.conf.bak"
persist "pass /etc/modprobe.d/a.conf line 1" || fail "modprobe.d: comments, install, .bak"
printf 'options kvm_amd nested=0\noptions  kvm_intel\tenable_apicv=1 nested\n' >"$M/d.conf"
persist "pass /etc/modprobe.d/d.conf line 2" || fail "modprobe.d: bool without value"
printf 'options kvm_intel nested=off\n' >"$M/e.conf"
persist "warn /etc/modprobe.d/e.conf line 1 turns nested off for kvm_intel" ||
    fail "modprobe.d: off"
printf 'options kvm_intel nested=maybe\n' >"$M/e.conf"
persist "warn /etc/modprobe.d/e.conf line 1 turns nested off for kvm_intel" ||
    fail "modprobe.d: not a bool"
printf 'options kvm_intel \\\n  nested=y\n' >"$M/f.conf"
persist "pass /etc/modprobe.d/f.conf line 1" || fail "modprobe.d: continued line"
# modprobe's other directories: names sorted across them, /etc's hides
# the same name elsewhere; then the kernel command line wins over all.
mkdir -p "$R/lib/modprobe.d" "$R/usr/lib/modprobe.d" "$R/run/modprobe.d"
printf 'options kvm_intel nested=0\n' >"$R/lib/modprobe.d/g.conf"
persist "warn /lib/modprobe.d/g.conf line 1 turns nested off for kvm_intel" ||
    fail "modprobe.d: /lib/modprobe.d not read"
printf 'options kvm_intel nested=1\n' >"$R/usr/lib/modprobe.d/g.conf"
persist "pass /usr/lib/modprobe.d/g.conf line 1" ||
    fail "modprobe.d: /usr/lib/modprobe.d does not hide /lib's g.conf"
printf 'options kvm_intel nested=0\n' >"$R/run/modprobe.d/h.alias"
printf '# nothing\n' >"$R/etc/modprobe.d/h.alias"
persist "pass /usr/lib/modprobe.d/g.conf line 1" ||
    fail "modprobe.d: /etc's h.alias does not hide /run's"
rm "$R/etc/modprobe.d/h.alias"
persist "warn /run/modprobe.d/h.alias line 1 turns nested off for kvm_intel" ||
    fail "modprobe.d: *.alias not read"
printf 'BOOT_IMAGE=/vmlinuz root=UUID=x ro quiet kvm-intel.nested=1 x="kvm_intel.nested=0 y"\n' \
    >"$R/proc/cmdline"
persist "pass the kernel command line (kvm-intel.nested=1)" ||
    fail "cmdline: not read, or a quoted word taken apart"
printf 'ro kvm_intel.nested=1 kvm_intel.nested=N\n' >"$R/proc/cmdline"
persist "warn the kernel command line (kvm_intel.nested=N) turns nested off for kvm_intel" ||
    fail "cmdline: the last word does not win"
jq -r '.checks[] | select(.id == "nested-persist") | .fix' "$TMP/out" |
    grep -q "GRUB_CMDLINE_LINUX" || fail "cmdline: no fix for the command line"
# --enable cannot win over the command line: refused, nothing written
tree "$R" >"$TMP/before"
bad_input "cmdline off" "the kernel command line (kvm_intel.nested=N) turns nested off again" \
    host --root "$R" --enable
tree "$R" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "cmdline off: root changed"
printf 'ro kvm_intel.nested\n' >"$R/proc/cmdline"
run 0 host --root "$R" --enable --dry-run &&
    grep -q "^nested: the kernel command line already sets nested=1 for kvm_intel: nothing to write$" "$TMP/out" ||
    fail "cmdline on: --enable would write"

# A root without /proc/cpuinfo: the CPU check fails, the rest runs.
mkdir -p "$TMP/empty"
run 1 host --root "$TMP/empty" &&
    grep -q '^    CPU: hardware virtualization *: FAIL (cannot read /proc/cpuinfo' "$TMP/out" ||
    fail "empty root: no cpuinfo failure"

# --- usage --------------------------------------------------------------
run 0 host --help && grep -q '^usage: virt-nestify host' "$TMP/out" ||
    fail "host --help"
bad_input "missing root" "root '$TMP/nowhere': No such file or directory" \
    host --root "$TMP/nowhere"
bad_input "root is a file" "not a directory" host --root "$ROOTS/amd/proc/cpuinfo"
bad_input "bad --output" "--output must be" host --root "$ROOTS/amd" -o yaml
bad_input "--reload alone" "--reload needs --enable" host --root "$ROOTS/amd" --reload
bad_input "--hugepages alone" "--hugepages needs --enable" host --root "$ROOTS/amd" --hugepages 4
bad_input "--dry-run alone" "--dry-run needs --enable" host --root "$ROOTS/amd" -n
bad_input "--persist without --hugepages" "--persist needs --hugepages" \
    host --root "$ROOTS/amd" --enable --persist
bad_input "-c with --enable" "--connect is for the checks" \
    host --root "$ROOTS/amd" --enable -c test:///default
bad_input "extra argument" "unexpected argument 'foo'" host --root "$ROOTS/amd" foo

# --- the libvirt check: a driver without domain capabilities ------------
run 3 host --root "$ROOTS/intel-nested" -c test:///default &&
{
    grep -q "^LIBVIRT: host-passthrough CPU mode supported *: FAIL (cannot read the domain capabilities of 'test:///default'" "$TMP/out" ||
        fail "libvirt: no FAIL line"
    grep -q "^         fix: check that libvirt runs" "$TMP/out" ||
        fail "libvirt: no fix"
}
run 3 host --root "$ROOTS/intel-nested" -c test:///default -o json &&
    [ "$(jq -r '.checks[-1].id + " " + .checks[-1].status' "$TMP/out")" = \
      "libvirt-passthrough fail" ] || fail "libvirt: JSON"

# The real QEMU driver (embedded, its state in a fresh directory): its
# domain capabilities are read.  Without /dev/kvm (as here) they are for
# TCG, where host-passthrough is not supported; with KVM it passes.
# Natively run: libvirt starts QEMU to probe it.
if command -v qemu-system-x86_64 >/dev/null; then
    embed_root "$TMP/embed"
    count=$((count + 1))
    $VN_NATIVE host --root "$ROOTS/intel-nested" -c "qemu:///embed?root=$TMP/embed" \
        -o json >"$TMP/out" 2>"$TMP/err"
    got=$?
    line=$(jq -r '.checks[-1] | .id + " " + .status + " " + .detail' "$TMP/out")
    case "$got $line" in
    "0 libvirt-passthrough pass domain type kvm, "*) ;;
    "1 libvirt-passthrough fail domain type qemu, "*": host-passthrough not supported") ;;
    *) fail "embed: exit $got, $line; $(cat "$TMP/err")" ;;
    esac
fi

# --- this machine's /dev/kvm against QEMU ---------------------------------
# Where this machine has a KVM device we may open, the doctor's verdict
# on it must be QEMU's: "usable" exactly when QEMU starts a -cpu host
# guest there (stopped before its first instruction, then quit), and
# when QEMU names the MSR it failed to set, the doctor names it too.
# The doctor itself never starts QEMU.  Without a device there is nothing
# to compare (the trial's other verdicts are tests/test-doctor-kvm.c's).
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
   command -v qemu-system-x86_64 >/dev/null; then
    count=$((count + 1))
    $VN_NATIVE host -o json >"$TMP/out" 2>"$TMP/err"
    doctor=$(jq -r '.checks[] | select(.id == "dev-kvm") | .status' "$TMP/out")
    detail=$(jq -r '.checks[] | select(.id == "dev-kvm") | .detail' "$TMP/out")
    printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"quit"}' |
        timeout 120 qemu-system-x86_64 -nodefaults -display none -m 64 \
            -machine pc,accel=kvm -cpu host -S -qmp stdio \
            >"$TMP/qemu.out" 2>"$TMP/qemu.err"
    qemu=$?
    echo "this machine's /dev/kvm: doctor $doctor ($detail); QEMU exit $qemu"
    case "$doctor $qemu" in
        "pass 0"|fail\ [1-9]*) ;;
        *) fail "/dev/kvm: the doctor says $doctor ($detail), QEMU exits $qemu: $(head -3 "$TMP/qemu.err")" ;;
    esac
    msr=$(sed -n 's/.*failed to set MSR \(0x[0-9a-fA-F]*\).*/\1/p' "$TMP/qemu.err" | head -1)
    if [ -n "$msr" ]; then
        count=$((count + 1))
        case "$detail" in
            *"$msr "*) ;;
            *) fail "/dev/kvm: QEMU failed to set MSR $msr, the doctor says: $detail" ;;
        esac
    fi
else
    echo "no KVM device to open here: the doctor is not compared with QEMU"
fi

# --- host --enable: nested in modprobe.d --------------------------------
fresh intel-nested-off
tree "$R" >"$TMP/before"
run 0 host --root "$R" --enable --dry-run --hugepages 64 --persist &&
{
    grep -q "^would write /etc/modprobe.d/virt-nestify-kvm.conf: options kvm_intel nested=1$" "$TMP/out" ||
        fail "dry-run: no modprobe plan"
    grep -q "^would write 64 to /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages" "$TMP/out" ||
        fail "dry-run: no hugepages plan"
    grep -q "^would write /etc/sysctl.d/80-virt-nestify-hugepages.conf: vm.nr_hugepages = 64$" "$TMP/out" ||
        fail "dry-run: no sysctl plan"
    grep -q "^next: dracut -f," "$TMP/out" || fail "dry-run: no fedora initramfs step"
}
tree "$R" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "--dry-run changed the root"

run 0 host --root "$R" --enable &&
{
    printf '%s\n' "# Written by virt-nestify host --enable: nested virtualization for KVM." \
        "options kvm_intel nested=1" >"$TMP/want"
    cmp -s "$R/etc/modprobe.d/virt-nestify-kvm.conf" "$TMP/want" ||
        fail "enable: wrong modprobe.d file: $(cat "$R/etc/modprobe.d/virt-nestify-kvm.conf")"
    grep -q "^wrote /etc/modprobe.d/virt-nestify-kvm.conf$" "$TMP/out" ||
        fail "enable: no 'wrote' line"
    grep -q "^next: the running kvm_intel has nested off; run again with --reload" "$TMP/out" ||
        fail "enable: no reload hint"
    grep -q "^next: dracut -f, so that a kvm_intel loaded from the initramfs" "$TMP/out" ||
        fail "enable: no initramfs step"
    [ -n "$(find "$R/etc/modprobe.d" -name '*.bak')" ] && fail "enable: a backup of nothing"
}
# The doctor now finds it persisted (and still off in the running kernel).
run 1 host --root "$R" -o json &&
    [ "$(jq -r '.checks[] | select(.id == "nested-persist") | .status' "$TMP/out")" = pass ] ||
    fail "enable: the doctor does not see it persisted"
# Again: nothing to write, no backup.
run 0 host --root "$R" --enable &&
{
    grep -q "^nested: /etc/modprobe.d/virt-nestify-kvm.conf already says options kvm_intel nested=1$" "$TMP/out" ||
        fail "enable twice: not idempotent"
    [ -n "$(find "$R/etc/modprobe.d" -name '*.bak')" ] && fail "enable twice: a backup"
}

# An earlier file of ours with other content: kept as a backup.
fresh intel-nested-off
printf 'options kvm_intel nested=0\n' >"$R/etc/modprobe.d/virt-nestify-kvm.conf"
run 0 host --root "$R" --enable &&
{
    grep -q "^options kvm_intel nested=1$" "$R/etc/modprobe.d/virt-nestify-kvm.conf" ||
        fail "backup: file not rewritten"
    set -- "$R"/etc/modprobe.d/virt-nestify-kvm.conf.*Z.bak
    [ $# = 1 ] && [ -f "$1" ] || fail "backup: not exactly one backup: $*"
    [ "$(cat "$1")" = "options kvm_intel nested=0" ] || fail "backup: wrong content"
    grep -q "^  the previous content is in /etc/modprobe.d/virt-nestify-kvm.conf\.[0-9T.]*Z\.bak$" "$TMP/out" ||
        fail "backup: not named in the output"
}

# Another file already persists it: nothing written (AMD, kvm-amd).
fresh amd
tree "$R" >"$TMP/before"
run 0 host --root "$R" --enable &&
    grep -q "^nested: /etc/modprobe.d/kvm-amd.conf already sets nested=1 for kvm_amd: nothing written$" "$TMP/out" ||
    fail "amd: already persisted"
tree "$R" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "amd: an enabled host was changed"

# A later file turns it off again: refused, nothing written.
fresh no-module
tree "$R" >"$TMP/before"
bad_input "later file" "/etc/modprobe.d/zz-local.conf line 2 turns nested off again" \
    host --root "$R" --enable
tree "$R" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "later file: root changed"

# No vmx: written with a warning; no modprobe.d yet: created; a
# distribution without a known initramfs tool: the generic step.
fresh no-virt
run 0 host --root "$R" --enable &&
{
    grep -q "^options kvm_intel nested=1$" "$R/etc/modprobe.d/virt-nestify-kvm.conf" ||
        fail "no-virt: not written"
    grep -q "^virt-nestify: warning: the CPU shows no vmx flag" "$TMP/err" ||
        fail "no-virt: no warning"
    grep -q "^next: rebuild the initramfs (update-initramfs -u, dracut -f or mkinitcpio -P" "$TMP/out" ||
        fail "no-virt: no generic initramfs step"
    grep -q "^next: kvm_intel is not loaded; load it with modprobe kvm_intel" "$TMP/out" ||
        fail "no-virt: no hint about the module"
}

# --- host --enable --hugepages ------------------------------------------
fresh intel-nested
run 0 host --root "$R" --enable --hugepages 2048 --persist &&
{
    [ "$(cat "$R/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" = 2048 ] ||
        fail "hugepages: not written"
    grep -q "^hugepages: asked for 2048 of 2 MiB, the kernel has 2048$" "$TMP/out" ||
        fail "hugepages: no read-back report"
    printf '%s\n' "# Written by virt-nestify host --enable --hugepages --persist." \
        "vm.nr_hugepages = 2048" >"$TMP/want"
    cmp -s "$R/etc/sysctl.d/80-virt-nestify-hugepages.conf" "$TMP/want" ||
        fail "hugepages: wrong sysctl.d file"
    grep -q "already sets nested=1 for kvm_intel" "$TMP/out" ||
        fail "hugepages: nested not found persisted"
    [ -e "$R/etc/modprobe.d/virt-nestify-kvm.conf" ] &&
        fail "hugepages: modprobe.d file written for a persisted host"
}
run 0 host --root "$R" --enable --hugepages 8,1G --persist &&
{
    [ "$(cat "$R/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages")" = 8 ] ||
        fail "1G: not written"
    grep -q "^hugepages: asked for 8 of 1 GiB, the kernel has 8$" "$TMP/out" ||
        fail "1G: no report"
    grep -q "add 'hugepagesz=1G hugepages=8' to the kernel command line" "$TMP/out" ||
        fail "1G: no command line advice"
    grep -q "^vm.nr_hugepages = 2048$" "$R/etc/sysctl.d/80-virt-nestify-hugepages.conf" ||
        fail "1G: the sysctl file changed"
}
run 0 host --root "$R" --enable --hugepages 100,2048kB --node 1 --persist &&
{
    [ "$(cat "$R/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages")" = 100 ] ||
        fail "node: not written"
    [ "$(cat "$R/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages")" = 512 ] ||
        fail "node: node 0 changed"
    grep -q "^hugepages: asked for 100 of 2 MiB on this node, the kernel has 100$" "$TMP/out" ||
        fail "node: no report"
    grep -q "add 'hugepagesz=2M hugepages=1:100'" "$TMP/out" ||
        fail "node: no command line advice"
}
# The sysctl file replaced keeps a backup.
run 0 host --root "$R" --enable --hugepages 16 --persist &&
{
    grep -q "^vm.nr_hugepages = 16$" "$R/etc/sysctl.d/80-virt-nestify-hugepages.conf" ||
        fail "sysctl again: not rewritten"
    set -- "$R"/etc/sysctl.d/80-virt-nestify-hugepages.conf.*Z.bak
    [ -f "$1" ] && grep -q "^vm.nr_hugepages = 2048$" "$1" ||
        fail "sysctl again: no backup of the old file"
}

# --- host --enable writes nothing through a link or into a FIFO -------
# Under --root (an image someone else may control) no symbolic link below
# the root is followed, and every file written must be a regular file:
# refused with one line, exit 2, within the timeout, nothing changed
# inside the root or outside it.  (A FIFO used to play sysfs here to
# grant fewer hugepages than asked; the tool now refuses it.)
# refused_root DESCRIPTION EXPECTED_PART ARGS...: bad_input under a
# timeout, the root and $TMP/outside unchanged.
refused_root() {
    tree "$R" >"$TMP/before"
    tree "$TMP/outside" >"$TMP/outside-before"
    saved_vn=$VN
    VN="timeout 60 $VN"
    bad_input "$@"
    VN=$saved_vn
    tree "$R" >"$TMP/after"
    cmp -s "$TMP/before" "$TMP/after" || fail "$1: the root changed"
    tree "$TMP/outside" >"$TMP/outside-after"
    cmp -s "$TMP/outside-before" "$TMP/outside-after" ||
        fail "$1: a file outside the root changed"
}
rm -rf "$TMP/outside"
mkdir "$TMP/outside"
echo "not yours" >"$TMP/outside/victim"
# A link at the name of the modprobe.d file, to a file outside.
fresh intel-nested-off
ln -s "$TMP/outside/victim" "$R/etc/modprobe.d/virt-nestify-kvm.conf"
refused_root "link at the modprobe.d name" \
    "/etc/modprobe.d/virt-nestify-kvm.conf: a symbolic link, not followed$" \
    host --root "$R" --enable
# The same in --dry-run: the plan refuses it.
refused_root "link at the modprobe.d name, dry run" "a symbolic link, not followed" \
    host --root "$R" --enable --dry-run
# A link at the sysctl.d name (the modprobe.d file is written first
# otherwise: the plan refuses before anything is written).
fresh intel-nested-off
mkdir "$R/etc/sysctl.d"
ln -s "$TMP/outside/victim" "$R/etc/sysctl.d/80-virt-nestify-hugepages.conf"
refused_root "link at the sysctl.d name" \
    "/etc/sysctl.d/80-virt-nestify-hugepages.conf: a symbolic link, not followed$" \
    host --root "$R" --enable --hugepages 64 --persist
# A directory on the way is a link: root/etc/sysctl.d -> outside.
fresh intel-nested-off
ln -s "$TMP/outside" "$R/etc/sysctl.d"
refused_root "linked sysctl.d" \
    "/etc/sysctl.d: a symbolic link on its way below the root '$R', not followed$" \
    host --root "$R" --enable --hugepages 64 --persist
# ... or higher up: root/etc -> outside (where modprobe.d would be made).
fresh intel-nested-off
mv "$R/etc" "$TMP/outside/etc"
ln -s "$TMP/outside/etc" "$R/etc"
refused_root "linked etc" "/etc/modprobe.d: a symbolic link on its way below the root" \
    host --root "$R" --enable
rm -rf "$TMP/outside/etc"
# The sysfs knob: a link to a file outside, and a directory link on its way.
fresh intel-nested
F="$R/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
rm -f "$F"
ln -s "$TMP/outside/victim" "$F"
refused_root "link at nr_hugepages" \
    "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages: a symbolic link, not followed$" \
    host --root "$R" --enable --hugepages 64
fresh intel-nested
mv "$R/sys/kernel/mm/hugepages/hugepages-2048kB" "$TMP/outside/hp"
ln -s "$TMP/outside/hp" "$R/sys/kernel/mm/hugepages/hugepages-2048kB"
# (the doctor reads the size list through it: the size is known)
refused_root "linked hugepages directory" \
    "hugepages-2048kB: a symbolic link on its way below the root" \
    host --root "$R" --enable --hugepages 64
rm -rf "$TMP/outside/hp"
# FIFOs where a file is written: refused at once, never waited for.
if command -v mkfifo >/dev/null && command -v timeout >/dev/null; then
    fresh intel-nested
    F="$R/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
    rm -f "$F"
    mkfifo "$F"
    refused_root "FIFO at nr_hugepages" \
        "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages: not a regular file (a FIFO)$" \
        host --root "$R" --enable --hugepages 64
    fresh intel-nested-off
    mkfifo "$R/etc/modprobe.d/virt-nestify-kvm.conf"
    # (the doctor reads every modprobe.d file first, and names it)
    refused_root "FIFO at the modprobe.d name" \
        "/etc/modprobe.d/virt-nestify-kvm.conf" \
        host --root "$R" --enable
fi

# Bad input: one error, exit 2, nothing changed.
fresh intel-nested
tree "$R" >"$TMP/before"
bad_input "bad count" "--hugepages must be N or N,SIZE" host --root "$R" --enable --hugepages lots
bad_input "negative count" "--hugepages must be" host --root "$R" --enable --hugepages -4
bad_input "bad size" "--hugepages must be" host --root "$R" --enable --hugepages 4,2X
bad_input "empty size" "--hugepages must be" host --root "$R" --enable --hugepages 4,
bad_input "unknown size" "no 16 GiB hugepages on this host (sizes: 2 MiB, 1 GiB)" \
    host --root "$R" --enable --hugepages 4,16G
bad_input "bad node" "--node must be a NUMA node number" \
    host --root "$R" --enable --hugepages 4 --node one
bad_input "missing node" "--node 7: no such NUMA node" \
    host --root "$R" --enable --hugepages 4 --node 7
bad_input "--node without --hugepages" "--node needs --hugepages" \
    host --root "$R" --enable --node 0
tree "$R" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "bad input changed the root"
fresh no-hugepages
bad_input "no hugepages at all" "no 2 MiB hugepages on this host (sizes: none)" \
    host --root "$R" --enable --hugepages 4,2M
bad_input "enable on a missing root" "root '$TMP/nowhere'" \
    host --root "$TMP/nowhere" --enable

# --- host --enable --reload ---------------------------------------------
# A fake modprobe: logs its arguments, and "loads" the module with
# nested on the way the kernel would show it.
cat >"$TMP/modprobe" <<'EOF'
#!/bin/sh
echo "$*" >>"$FAKE_LOG"
[ "$1" = -r ] && exit 0
mkdir -p "$FAKE_ROOT/sys/module/kvm_intel/parameters"
echo Y >"$FAKE_ROOT/sys/module/kvm_intel/parameters/nested"
EOF
chmod +x "$TMP/modprobe"
FAKE_LOG="$TMP/modprobe.log"
export FAKE_LOG

fresh intel-nested-off
FAKE_ROOT=$R
export FAKE_ROOT
bad_input "--reload with --root and no modprobe" "--reload with --root" \
    host --root "$R" --enable --reload
# A QEMU runs: refused before anything is written.
mkdir -p "$R/proc/4242" "$R/proc/self"
echo qemu-system-x86 >"$R/proc/4242/comm"
printf '/usr/bin/qemu-system-x86_64\000-name\000guest=web1\000' >"$R/proc/4242/cmdline"
tree "$R" >"$TMP/before"
VIRT_NESTIFY_MODPROBE="$TMP/modprobe"
export VIRT_NESTIFY_MODPROBE
bad_input "--reload while a VM runs" "refusing --reload: 1 QEMU process is running (pid 4242, qemu-system-x86); stop every VM first" \
    host --root "$R" --enable --reload
tree "$R" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "refused --reload changed the root"
[ -e "$FAKE_LOG" ] && fail "refused --reload ran modprobe"
# Only cmdline says QEMU (comm renamed): still refused.
echo worker >"$R/proc/4242/comm"
bad_input "--reload, QEMU by cmdline" "refusing --reload" host --root "$R" --enable --reload
# No VM: reloaded, nested on.
rm -rf "$R/proc/4242"
run 0 host --root "$R" --enable --reload &&
{
    printf '%s\n' "-r kvm_intel" "kvm_intel" >"$TMP/want"
    cmp -s "$FAKE_LOG" "$TMP/want" || fail "reload: modprobe ran as: $(cat "$FAKE_LOG")"
    grep -q "^reloaded kvm_intel: nested=Y$" "$TMP/out" || fail "reload: no report"
    grep -q "run again with --reload" "$TMP/out" && fail "reload: still hints at --reload"
    grep -q "^options kvm_intel nested=1$" "$R/etc/modprobe.d/virt-nestify-kvm.conf" ||
        fail "reload: modprobe.d not written"
}
run 0 host --root "$R" && grep -q "nested virtualization on in kvm_intel *: PASS" "$TMP/out" ||
    fail "reload: the doctor does not see nested on"
# A module that is not loaded is only loaded (modprobe -r would fail).
fresh no-virt
FAKE_ROOT=$R
rm -f "$FAKE_LOG"
run 0 host --root "$R" --enable --reload --dry-run &&
    grep -q "^would run: $TMP/modprobe kvm_intel$" "$TMP/out" ||
    fail "load: dry-run plan"
run 0 host --root "$R" --enable --reload &&
{
    [ "$(cat "$FAKE_LOG")" = kvm_intel ] || fail "load: modprobe ran as: $(cat "$FAKE_LOG")"
    grep -q "^loaded kvm_intel: nested=Y$" "$TMP/out" || fail "load: no report"
}
# A modprobe that fails: exit 3, said once.
fresh intel-nested-off
printf '#!/bin/sh\nexit 1\n' >"$TMP/modprobe-fails"
chmod +x "$TMP/modprobe-fails"
VIRT_NESTIFY_MODPROBE="$TMP/modprobe-fails"
run 3 host --root "$R" --enable --reload &&
    grep -q "^virt-nestify: error: '$TMP/modprobe-fails -r kvm_intel' failed with exit status 1$" "$TMP/err" ||
    fail "failing modprobe: $(cat "$TMP/err")"
unset VIRT_NESTIFY_MODPROBE FAKE_ROOT

# --- host --isolate -------------------------------------------------------
# The guests own 2-17,38-53 of the Xeon E5-2697 v4 (0-71, from the root's
# /sys/devices/system/cpu/online): all but the first core of each socket.
ISO="$EXPECTED/isolate"
OWN=2-17,38-53
SLICE=/etc/systemd/system/system.slice.d/50-virt-nestify.conf
USER=/etc/systemd/system/user.slice.d/50-virt-nestify.conf
SCOPE=/etc/systemd/system/init.scope.d/50-virt-nestify.conf
# isolation WANT: the doctor's isolation check says WANT ("STATUS DETAIL").
isolation() {
    run 0 host --root "$R" -o json "$@" || return 1
    got=$(jq -r '.checks[] | select(.id == "isolation") | .status + " " + .detail' "$TMP/out")
    [ "$got" = "$ISO_WANT" ] || { echo "  isolation: $got"; return 1; }
}

fresh pinning
ISO_WANT="warn CPUs 2-17,38-53 pinned but not isolated: not kept free by system.slice, user.slice, init.scope, irqbalance"
isolation --taken $OWN || fail "isolate: the doctor does not see the host side missing"
jq -r '.checks[] | select(.id == "isolation") | .fix' "$TMP/out" |
    grep -qx "virt-nestify host --isolate --taken $OWN" || fail "isolate: doctor's fix"
ISO_WANT="skip no guests to compare with: give -c URI or --taken CPULIST"
isolation || fail "isolate: doctor without pins"

# --dry-run: every file with its whole content (golden), nothing written.
tree "$R" >"$TMP/before"
run 0 host --root "$R" --isolate --taken $OWN --dry-run && golden isolate-dry-run.txt
tree "$R" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "isolate --dry-run changed the root"

# The run: exactly the expected files, irqbalance's old file kept, the
# operator's own drop-in untouched, tuned not installed.
run 0 host --root "$R" --isolate --taken $OWN &&
{
    cmp -s "$R$SLICE" "$ISO/slice.conf" || fail "isolate: system.slice drop-in"
    cmp -s "$R$USER" "$ISO/slice.conf" || fail "isolate: user.slice drop-in"
    cmp -s "$R$SCOPE" "$ISO/scope.conf" || fail "isolate: init.scope drop-in"
    cmp -s "$R/etc/default/irqbalance" "$ISO/irqbalance" || fail "isolate: irqbalance"
    set -- "$R"/etc/default/irqbalance.*Z.bak
    [ $# = 1 ] && cmp -s "$1" "$ROOTS/pinning/etc/default/irqbalance" ||
        fail "isolate: irqbalance's old file not kept: $*"
    cmp -s "$R/etc/systemd/system/user.slice.d/10-memory.conf" \
        "$ROOTS/pinning/etc/systemd/system/user.slice.d/10-memory.conf" ||
        fail "isolate: another drop-in changed"
    [ -e "$R/etc/tuned" ] && fail "isolate: tuned written without tuned"
    grep -qx "tuned: not installed, nothing to write" "$TMP/out" ||
        fail "isolate: tuned not said"
    grep -qx "next: systemctl restart irqbalance" "$TMP/out" ||
        fail "isolate: no irqbalance step"
    grep -qx "next: to keep the kernel's own work off them too, add 'isolcpus=managed_irq,domain,$OWN nohz_full=$OWN rcu_nocbs=$OWN' to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and reboot" "$TMP/out" ||
        fail "isolate: no kernel command line advice"
    our_stderr
    [ -s "$TMP/err" ] && fail "isolate: stderr: $(cat "$TMP/err")"
}
ISO_WANT="pass pinned CPUs $OWN: kept free of the host's processes and interrupts"
isolation --taken $OWN || fail "isolate: the doctor does not see it done"
ISO_WANT="warn CPUs 0-1 pinned but not isolated: not kept free by system.slice, user.slice, init.scope, irqbalance"
isolation --taken 0-3 || fail "isolate: the doctor misses CPUs 0-1"
# Again, same guests: nothing written, no backup, said so.
tree "$R" >"$TMP/before"
run 0 host --root "$R" --isolate --taken $OWN &&
{
    grep -qx "nothing written: the host side of pinning is already in place" "$TMP/out" ||
        fail "isolate twice: not said"
    [ "$(grep -c '^already in place: ' "$TMP/out")" = 4 ] || fail "isolate twice: files"
    grep -q "daemon-reload\|^wrote " "$TMP/out" && fail "isolate twice: wrote"
}
tree "$R" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "isolate twice: the root changed"
# Other guests: rewritten, our earlier drop-in kept as a backup.
run 0 host --root "$R" --isolate --taken 4-5 &&
{
    grep -qx "AllowedCPUs=0-3,6-71" "$R$SLICE" || fail "isolate again: not rewritten"
    set -- "$R$SLICE".*Z.bak
    [ $# = 1 ] && cmp -s "$1" "$ISO/slice.conf" || fail "isolate again: no backup: $*"
    grep -qx "IRQBALANCE_BANNED_CPULIST=4-5" "$R/etc/default/irqbalance" ||
        fail "isolate again: irqbalance"
    [ "$(grep -c IRQBALANCE_BANNED_CPULIST= "$R/etc/default/irqbalance")" = 2 ] ||
        fail "isolate again: irqbalance's list added twice"
}

# tuned installed (no irqbalance): isolated_cores set, its other lines kept.
fresh pinning-tuned
run 0 host --root "$R" --isolate --taken $OWN &&
{
    cmp -s "$R/etc/tuned/cpu-partitioning-variables.conf" "$ISO/tuned-variables.conf" ||
        fail "tuned: variables file"
    grep -qx "irqbalance: not installed, nothing to write" "$TMP/out" ||
        fail "tuned: irqbalance not said"
    [ -e "$R/etc/default/irqbalance" ] && fail "tuned: irqbalance written"
}
ISO_WANT="pass pinned CPUs $OWN: kept free of the host's processes and interrupts"
isolation --taken $OWN || fail "tuned: the doctor does not see it done"

# The host's CPUs from --host-caps: the same Xeon.
fresh pinning
rm "$R/sys/devices/system/cpu/online"
run 0 host --root "$R" --isolate --taken 4 --host-caps "$FX/hosts/intel-e5-2697v4.xml" -n &&
    grep -qx "guests own CPU 4; the host keeps 0-3,5-71 (of 0-71)" "$TMP/out" ||
    fail "isolate --host-caps"
# Without it, the host's CPUs are unknown: the environment's failure.
run 3 host --root "$R" --isolate --taken 4 &&
    one_error "isolate without a CPU list" "cannot read /sys/devices/system/cpu/online: No such file or directory$"
# No cgroup v2 cpuset controller: written, with a warning.
fresh pinning
echo "cpu io memory pids" >"$R/sys/fs/cgroup/cgroup.controllers"
run 0 host --root "$R" --isolate --taken $OWN &&
    grep -q "^virt-nestify: warning: the cgroup v2 hierarchy has no cpuset controller" "$TMP/err" ||
    fail "isolate: no cpuset warning"

# Refusals: one line, exit 2, nothing written.
fresh pinning
tree "$R" >"$TMP/before"
bad_input "isolate every CPU" "refusing: the guests own every CPU of this host (0-71), none would be left for the host's own work" \
    host --root "$R" --isolate --taken 0-71
bad_input "isolate beyond the host" "--taken: CPUs 72-80 not on this host (CPUs 0-71)" \
    host --root "$R" --isolate --taken 70-80
bad_input "isolate beyond the host, dry run" "--taken: CPU 72 not on this host" \
    host --root "$R" --isolate --taken 72 -n
# A drop-in read after ours (systemctl set-property's directory, a later
# name) would set AllowedCPUs= again: refused, named.
mkdir -p "$R/etc/systemd/system.control/init.scope.d"
printf '[Scope]\nAllowedCPUs=0-71\n' >"$R/etc/systemd/system.control/init.scope.d/90-local.conf"
tree "$R" >"$TMP/before"
bad_input "later drop-in" "/etc/systemd/system.control/init.scope.d/90-local.conf sets AllowedCPUs= for init.scope again after $SCOPE: remove it first" \
    host --root "$R" --isolate --taken $OWN
bad_input "isolate usage" "--isolate needs the guests' CPUs: -c URI (their pins) or --taken CPULIST" \
    host --root "$R" --isolate
bad_input "isolate and enable" "--enable and --isolate are separate runs" \
    host --root "$R" --isolate --enable --taken 2
bad_input "--host-caps alone" "--host-caps needs --isolate" \
    host --root "$R" --host-caps "$FX/hosts/intel-e5-2697v4.xml"
bad_input "--taken with --enable" "--taken is for --isolate and the checks" \
    host --root "$R" --enable --taken 2
bad_input "bad --taken" "--taken: " host --root "$R" --isolate --taken 2-x
tree "$R" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "isolate refusals changed the root"
# Earlier drop-ins (set-property's 50-AllowedCPUs.conf sorts before ours)
# are fine: ours is read last.
rm "$R/etc/systemd/system.control/init.scope.d/90-local.conf"
printf '[Scope]\nAllowedCPUs=0-71\n' >"$R/etc/systemd/system.control/init.scope.d/50-AllowedCPUs.conf"
run 0 host --root "$R" --isolate --taken $OWN || fail "isolate: earlier drop-in refused"
ISO_WANT="pass pinned CPUs $OWN: kept free of the host's processes and interrupts"
isolation --taken $OWN || fail "isolate: set-property's drop-in not read in order"
# A link at the drop-in's name: refused, nothing written inside or out.
fresh pinning
mkdir -p "$R/etc/systemd/system/system.slice.d"
ln -s "$TMP/outside/victim" "$R$SLICE"
refused_root "link at the drop-in" "$SLICE: a symbolic link, not followed$" \
    host --root "$R" --isolate --taken $OWN

# --- --output json of --enable and --isolate ------------------------------
# What a caller (the Ansible module) decides "changed" by.  The dry runs'
# and a first run's documents are goldens; backups are named by the time,
# so runs that keep one are checked with jq.
fresh intel-nested-off
tree "$R" >"$TMP/before"
run 0 host --root "$R" --enable --hugepages 64 --persist -n -o json &&
    golden enable-dry-run.json
tree "$R" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "enable json --dry-run changed the root"
run 0 host --root "$R" --enable --hugepages 64 --persist -o json &&
{
    golden enable.json
    our_stderr
    [ -s "$TMP/err" ] && fail "enable json: stderr: $(cat "$TMP/err")"
    [ "$(cat "$R/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" = 64 ] ||
        fail "enable json: hugepages not written"
}
run 0 host --root "$R" --enable --hugepages 64 --persist -o json &&
    jq -e '.changed == false and ([.files[].what] == ["unchanged", "unchanged"])
           and .hugepages.before == 64 and .hugepages.after == 64
           and .commands == [] and .initramfs == null' "$TMP/out" >/dev/null ||
    fail "enable json again: $(cat "$TMP/out")"
# A file that is replaced: its backup is named, and is there.
printf 'options kvm_intel nested=0\n' >"$R/etc/modprobe.d/virt-nestify-kvm.conf"
run 0 host --root "$R" --enable -o json &&
{
    jq -e '.changed and .files[0].what == "written" and
           (.files[0].backup | test("^/etc/modprobe.d/virt-nestify-kvm.conf[.].*Z[.]bak$"))' \
        "$TMP/out" >/dev/null || fail "enable json backup: $(cat "$TMP/out")"
    grep -qx 'options kvm_intel nested=0' "$R$(jq -r '.files[0].backup' "$TMP/out")" ||
        fail "enable json: the named backup does not hold the old file"
}
# --reload: the commands with their exit status, the module's state.
VIRT_NESTIFY_MODPROBE="$TMP/modprobe"
FAKE_ROOT=$R
export VIRT_NESTIFY_MODPROBE FAKE_ROOT
run 0 host --root "$R" --enable --reload -n -o json &&
    jq -e --arg m "$TMP/modprobe" '.changed and .module.action == "would-reload"
           and .commands == [{"argv": [$m, "-r", "kvm_intel"], "status": null},
                             {"argv": [$m, "kvm_intel"], "status": null}]' \
        "$TMP/out" >/dev/null || fail "reload json dry run: $(cat "$TMP/out")"
run 0 host --root "$R" --enable --reload -o json &&
    jq -e --arg m "$TMP/modprobe" '.changed and .module == {"name": "kvm_intel",
           "action": "reloaded", "nested": true} and .next == []
           and .commands == [{"argv": [$m, "-r", "kvm_intel"], "status": 0},
                             {"argv": [$m, "kvm_intel"], "status": 0}]' \
        "$TMP/out" >/dev/null || fail "reload json: $(cat "$TMP/out")"
# A failing modprobe: exit 3, the error once, and the document still
# says what was done (the file) and which command failed.
fresh intel-nested-off
VIRT_NESTIFY_MODPROBE="$TMP/modprobe-fails"
run 3 host --root "$R" --enable --reload -o json &&
{
    jq -e '.changed and .files[0].what == "written" and
           .commands[0].status == 1 and (.commands | length) == 1' \
        "$TMP/out" >/dev/null || fail "failing modprobe json: $(cat "$TMP/out")"
    one_error "failing modprobe json" "failed with exit status 1"
}
unset VIRT_NESTIFY_MODPROBE FAKE_ROOT

fresh pinning
tree "$R" >"$TMP/before"
run 0 host --root "$R" --isolate --taken $OWN -n -o json &&
    golden isolate-dry-run.json
tree "$R" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" || fail "isolate json --dry-run changed the root"
run 0 host --root "$R" --isolate --taken $OWN -o json &&
{
    jq -e '.changed and ([.files[].what] | unique) == ["written"] and
           ([.files[] | select(.backup != null) | .path] == ["/etc/default/irqbalance"])' \
        "$TMP/out" >/dev/null || fail "isolate json: $(cat "$TMP/out")"
    b=$(jq -r '.files[] | select(.backup != null) | .backup' "$TMP/out")
    cmp -s "$R$b" "$ROOTS/pinning/etc/default/irqbalance" ||
        fail "isolate json: the named backup ($b) is not the old irqbalance"
}
run 0 host --root "$R" --isolate --taken $OWN -o json &&
    jq -e --arg own "$OWN" '.changed == false and
           ([.files[].what] | unique) == ["unchanged"] and
           .kernel_cmdline == "isolcpus=managed_irq,domain,\($own) nohz_full=\($own) rcu_nocbs=\($own)"' \
        "$TMP/out" >/dev/null || fail "isolate json again: $(cat "$TMP/out")"

finish

#!/bin/sh
# End-to-end tests of "virt-nestify rollback" on the real QEMU driver:
# qemu:///embed with its state in a fresh directory, so nothing outside
# it is touched.  There is no /dev/kvm here: the guest is type 'qemu'.
# The states to roll back are made with virsh define; the rollbacks
# write the backups.  Every run of the tool may be under $NST_VALGRIND.
set -u

. "$(dirname "$0")/../testlib.sh"
ROOT="$TMP/root"
URI="qemu:///embed?root=$ROOT"
BK="$TMP/backups"
D=ubuntu-guest

cleanup() {
    # A transient guest left by a failed run: its QEMU is ours to stop.
    if [ -s "$ROOT/run/qemu/transient1.pid" ]; then
        pid=$(cat "$ROOT/run/qemu/transient1.pid")
        kill "$pid" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

vsh() {
    count=$((count + 1))
    virsh -q -c "$URI" "$@"
}

# The stored definition, with secrets, into FILE.
dump() {
    vsh dumpxml --inactive --security-info "$D" >"$1" || fail "dumpxml"
}

nbackups() {
    find "$BK" -type f 2>/dev/null | wc -l
}

# QEMU runs as another user: it must reach its files under the root.
embed_root "$ROOT"
sed "s/<domain type='kvm'>/<domain type='qemu'>/" \
    "$FX/domains/ubuntu-guest.xml" >"$TMP/guest.xml"
vsh define "$TMP/guest.xml" >/dev/null || { echo "FAIL: cannot define"; exit 1; }
dump "$TMP/orig.xml"
grep -q "passwd='s3cret'" "$TMP/orig.xml" || fail "the dump has no passwd"

# --- a changed definition, rolled back to the original -----------------
sed -e "s|<vcpu placement='static'>8</vcpu>|<vcpu placement='static'>4</vcpu>|" \
    -e "s|<on_crash>destroy</on_crash>|<on_crash>restart</on_crash>|" \
    "$TMP/orig.xml" >"$TMP/changed-in.xml"
vsh define "$TMP/changed-in.xml" >/dev/null || fail "define changed"
dump "$TMP/changed.xml"
cmp -s "$TMP/changed.xml" "$TMP/orig.xml" && fail "the change did not take"

run 0 rollback -c "$URI" -d "$D" --backup-dir "$BK" --backup "$TMP/orig.xml" &&
{
    grep -q "^domain '$D' restored from '$TMP/orig.xml' (previous definition saved as '$BK/" \
        "$TMP/out" || fail "restore message: $(cat "$TMP/out")"
    [ -s "$TMP/err" ] && fail "restore: stderr not empty: $(cat "$TMP/err")"
}
dump "$TMP/after.xml"
cmp -s "$TMP/after.xml" "$TMP/orig.xml" ||
    fail "rollback did not restore the exact original definition"
grep -q "passwd='s3cret'" "$TMP/after.xml" || fail "the VNC passwd was lost"
# The definition it replaced was backed up first, privately.
[ "$(nbackups)" = 1 ] || fail "$(nbackups) backups, expected 1"
first=$(find "$BK" -type f)
[ "$(stat -c %a "$BK")" = 700 ] || fail "backup dir mode $(stat -c %a "$BK")"
[ "$(stat -c %a "$first")" = 600 ] || fail "backup mode $(stat -c %a "$first")"
cmp -s "$first" "$TMP/changed.xml" || fail "the backup is not the replaced definition"
case $(basename "$first") in
    6c1f4e2a-3b8d-4f6e-9a71-2d5c8e0b4f13-[0-9]*T[0-9]*.[0-9]*Z-$D.xml) ;;
    *) fail "backup name $(basename "$first")" ;;
esac

# --- --list, then the newest backup by default -------------------------
run 0 rollback -c "$URI" -d "$D" --backup-dir "$BK" --list &&
    [ "$(cat "$TMP/out")" = "$first" ] || fail "--list: $(cat "$TMP/out")"
run 0 rollback -c "$URI" -d "$D" --backup-dir "$BK" -q &&
    [ -s "$TMP/out" ] && fail "-q printed: $(cat "$TMP/out")"
dump "$TMP/after.xml"
cmp -s "$TMP/after.xml" "$TMP/changed.xml" || fail "newest backup not restored"
run 0 rollback -c "$URI" -d "$D" --backup-dir "$BK" --list &&
{
    [ "$(wc -l <"$TMP/out")" = 2 ] || fail "--list: $(cat "$TMP/out")"
    [ "$(sed -n 2p "$TMP/out")" = "$first" ] || fail "--list is not newest first"
    cmp -s "$(sed -n 1p "$TMP/out")" "$TMP/orig.xml" ||
        fail "the newest backup is not the original definition"
}
# Rolling the rollback back: the original again.
run 0 rollback -c "$URI" -d "$D" --backup-dir "$BK"
dump "$TMP/after.xml"
cmp -s "$TMP/after.xml" "$TMP/orig.xml" || fail "second rollback: not the original"
[ "$(nbackups)" = 3 ] || fail "$(nbackups) backups, expected 3"
# Already there: nothing defined, nothing written.
run 0 rollback -c "$URI" -d "$D" --backup-dir "$BK" --backup "$TMP/orig.xml" &&
    grep -q "^domain '$D' already matches backup '$TMP/orig.xml'$" "$TMP/out" ||
    fail "already matches: $(cat "$TMP/out")"
[ "$(nbackups)" = 3 ] || fail "a backup was written for nothing"

# --- refusals: exit 2 or 3, one line, the definition unchanged -------------
sed "s|<uuid>6c1f4e2a-3b8d-4f6e-9a71-2d5c8e0b4f13</uuid>|<uuid>0b5a7d3e-91c2-4a8f-b6e0-3f2d1c9e8a74</uuid>|" \
    "$TMP/changed.xml" >"$TMP/other.xml"
run 2 rollback -c "$URI" -d "$D" --backup-dir "$BK" --backup "$TMP/other.xml" &&
    one_error "another domain's backup" "backup '$TMP/other.xml' is of domain '$D' with uuid 0b5a7d3e-91c2-4a8f-b6e0-3f2d1c9e8a74, not of '$D'"
run 2 rollback -c "$URI" -d nosuch --backup-dir "$BK" &&
    one_error "unknown domain" "domain 'nosuch' not found"
# (qemu:///embed?root= under a regular file fails too, but libvirt 9.0
# leaks in that path, which valgrind reports.)
run 3 rollback -c "test://$TMP/nonexistent.xml" -d "$D" --backup-dir "$BK" &&
    one_error "unreachable URI" "cannot connect to 'test://$TMP/nonexistent.xml': "
: >"$TMP/plain"
run 3 rollback -c "$URI" -d "$D" --backup-dir "$TMP/plain/backups" --backup "$TMP/changed.xml" &&
    one_error "unwritable backup dir" "cannot create backup directory '$TMP/plain/backups': Not a directory; nothing changed"
run 2 rollback -c "$URI" -d "$D" --backup-dir "$TMP/empty" &&
    one_error "no backups" "domain '$D' has no backups in $TMP/empty"
run 0 rollback -c "$URI" -d "$D" --backup-dir "$TMP/empty" --list &&
    grep -q "^domain '$D' has no backups in $TMP/empty$" "$TMP/out" ||
    fail "--list without backups: $(cat "$TMP/out")"
run 2 rollback -d "$D" --list --backup "$TMP/orig.xml" &&
    one_error "--list with --backup" "cannot be combined"
# A backup must be a regular file: a FIFO is refused at once (it used to
# hang the run), a symbolic link is not followed.
saved_vn=$VN
VN="timeout 60 $VN"
mkfifo "$TMP/fifo"
run 2 rollback -c "$URI" -d "$D" --backup-dir "$BK" --backup "$TMP/fifo" &&
    one_error "FIFO backup" "domain '$D': backup '$TMP/fifo': not a regular file (a FIFO)$"
VN=$saved_vn
ln -s "$TMP/changed.xml" "$TMP/link.xml"
run 2 rollback -c "$URI" -d "$D" --backup-dir "$BK" --backup "$TMP/link.xml" &&
    one_error "symlink backup" "domain '$D': backup '$TMP/link.xml': a symbolic link, not followed$"
# A backup dir anyone may write in without the sticky bit: anyone could
# swap its backups.  Sticky (as /tmp) is fine.
chmod 777 "$BK"
run 3 rollback -c "$URI" -d "$D" --backup-dir "$BK" &&
    one_error "world-writable backup dir" "backup directory '$BK' is writable by everyone and not sticky (mode 0777)"
run 3 rollback -c "$URI" -d "$D" --backup-dir "$BK" --list &&
    one_error "world-writable backup dir, --list" "not sticky (mode 0777)"
chmod 1777 "$BK"
run 0 rollback -c "$URI" -d "$D" --backup-dir "$BK" --list ||
    fail "a sticky world-writable backup dir was refused"
chmod 700 "$BK"
# A backup planted by another user, newest by its name: refused, named
# with its owner, not silently restored.  Making a file another user's
# takes root; as anyone else tests/test-backup.c checks the same through
# its seam (vn_backup_read_as).
planted="$BK/6c1f4e2a-3b8d-4f6e-9a71-2d5c8e0b4f13-29991231T235959.000000000Z-$D.xml"
cp "$TMP/changed.xml" "$planted"
if [ "$(id -u)" = 0 ]; then
    chown 65534 "$planted"
    owner=$(getent passwd 65534 | cut -d: -f1)
    run 2 rollback -c "$URI" -d "$D" --backup-dir "$BK" &&
        one_error "foreign backup" "domain '$D': backup '$planted' belongs to '$owner' (uid 65534), not to you or root: refusing to restore it$"
    # Given by name, the same.
    run 2 rollback -c "$URI" -d "$D" --backup-dir "$BK" --backup "$planted" &&
        one_error "foreign backup, --backup" "(uid 65534), not to you or root"
else
    echo "not root: a backup owned by another user is not made here (tests/test-backup.c covers the check)"
fi
rm -f "$planted"
dump "$TMP/after.xml"
cmp -s "$TMP/after.xml" "$TMP/orig.xml" || fail "a refusal changed the definition"
[ "$(nbackups)" = 3 ] || fail "a refusal wrote a backup"
[ -e "$TMP/empty" ] && fail "--list created the backup directory"

# --- a transient domain: really started (TCG), refused, destroyed -----
cat >"$TMP/transient.xml" <<'EOF'
<domain type='qemu'>
  <name>transient1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
</domain>
EOF
if vsh create "$TMP/transient.xml" >/dev/null; then
    run 2 rollback -c "$URI" -d transient1 --backup-dir "$BK" &&
        one_error "transient" "domain 'transient1' is transient: nothing to roll back"
    # libvirt 9.0's embedded driver stops it but may then report the
    # domain gone; its QEMU not running any more is what counts.
    vsh destroy transient1 >/dev/null 2>&1
    pid=$(cat "$ROOT/run/qemu/transient1.pid" 2>/dev/null)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
        grep -q qemu "/proc/$pid/cmdline" 2>/dev/null && fail "transient1 still runs"
else
    fail "cannot start a transient guest under TCG"
fi

# --- a restore onto CPUs another domain pins now: done, and said -------
sed "s|<vcpu placement='static'>8</vcpu>|&<cputune><vcpupin vcpu='0' cpuset='1'/></cputune>|" \
    "$TMP/orig.xml" >"$TMP/pinned.xml"
cat >"$TMP/pinner.xml" <<EOF
<domain type='qemu'>
  <name>pinner</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='1'/></cputune>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
</domain>
EOF
vsh define "$TMP/pinner.xml" >/dev/null || fail "define pinner"
run 0 rollback -c "$URI" -d "$D" --backup-dir "$BK" --backup "$TMP/pinned.xml" &&
{
    grep -q "^virt-nestify: warning: domain '$D': the restored definition pins CPUs 1, which other domains pin now" \
        "$TMP/err" || fail "no shared-pins warning: $(cat "$TMP/err")"
    vsh dumpxml --inactive "$D" | grep -q "<vcpupin vcpu='0' cpuset='1'/>" ||
        fail "the pinned backup was not restored"
}

finish

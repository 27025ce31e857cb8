#!/bin/sh
# The Ansible collection (contrib/ansible, virt_nestify.kvm) with Debian's
# ansible-core against localhost: ansible-doc renders both modules, the
# Python passes pyflakes, the domain module on a qemu:///embed root made
# here (domain.yml: check mode, diff mode, apply, re-apply, a bad profile,
# selection) and the host module on a fixture doctor root (host.yml:
# facts, enable in check mode and for real, twice, a bad value), then
# the role nested_fleet on both (role.yml).  The
# assertions are ansible.builtin.assert tasks in the playbooks; a failed
# one fails the playbook.  Hermetic: HOME and Ansible's temporary
# directories are in $TMP.
set -u
. "$(dirname "$0")/../testlib.sh"
COLLECTION="$NST_SRCDIR/contrib/ansible"
HERE="$NST_SRCDIR/tests/ansible"

for tool in ansible-playbook ansible-doc; do
    command -v "$tool" >/dev/null ||
        { fail "$tool not installed (ansible-core, build-aux/debian-packages.txt)"; finish; exit; }
done

# ANSIBLE_COLLECTIONS_PATH finds virt_nestify.kvm as the source itself.
mkdir -p "$TMP/collections/ansible_collections/virt_nestify" "$TMP/home"
ln -s "$COLLECTION" "$TMP/collections/ansible_collections/virt_nestify/kvm"
HOME=$TMP/home
ANSIBLE_COLLECTIONS_PATH=$TMP/collections
ANSIBLE_LOCAL_TEMP=$TMP/ansible-local
ANSIBLE_REMOTE_TEMP=$TMP/ansible-remote
ANSIBLE_PYTHON_INTERPRETER=auto_silent
ANSIBLE_NOCOLOR=1
ANSIBLE_RETRY_FILES_ENABLED=0
# make check's LC_ALL=C: Ansible refuses to start without a UTF-8 locale
# (the module still runs the tool with LC_ALL=C).
LC_ALL=C.UTF-8
export LC_ALL HOME ANSIBLE_COLLECTIONS_PATH ANSIBLE_LOCAL_TEMP ANSIBLE_REMOTE_TEMP \
    ANSIBLE_PYTHON_INTERPRETER ANSIBLE_NOCOLOR ANSIBLE_RETRY_FILES_ENABLED

# --- the Python: pyflakes (Debian's python3-pyflakes) -----------------
count=$((count + 1))
if command -v pyflakes3 >/dev/null; then
    pyflakes3 "$COLLECTION/plugins" >"$TMP/out" 2>&1 ||
        fail "pyflakes: $(cat "$TMP/out")"
else
    fail "pyflakes3 not installed (python3-pyflakes)"
fi

# --- ansible-doc renders each module, as text and as JSON --------------
for module in domain:uri,domain,all,match,exclude,state,profile,set,restart,force,timeout,backup_dir,host_caps,executable \
              host:root,uri,taken,enable,reload,hugepages,node,persist,isolate,host_caps,executable; do
    name=virt_nestify.kvm.${module%%:*}
    count=$((count + 1))
    ansible-doc "$name" >"$TMP/doc" 2>"$TMP/err" ||
        { fail "ansible-doc $name: $(cat "$TMP/err")"; continue; }
    for opt in $(echo "${module#*:}" | tr , ' '); do
        grep -q "^[-=] $opt\$" "$TMP/doc" || fail "ansible-doc $name: no option $opt"
    done
    grep -q '^EXAMPLES:' "$TMP/doc" || fail "ansible-doc $name: no EXAMPLES"
    grep -q '^RETURN VALUES:' "$TMP/doc" || fail "ansible-doc $name: no RETURN"
    count=$((count + 1))
    ansible-doc --json "$name" >"$TMP/doc.json" 2>"$TMP/err" &&
        jq -e --arg n "$name" '.[$n].doc.options and .[$n].examples and .[$n].return' \
            "$TMP/doc.json" >/dev/null ||
        fail "ansible-doc --json $name: $(cat "$TMP/err")"
done

# The modules run the tool through this, so that under check-valgrind
# the tool runs under valgrind too ($VN); none of these runs starts QEMU.
cat >"$TMP/vn" <<SH
#!/bin/sh
exec $VN "\$@"
SH
chmod +x "$TMP/vn"

# play PLAYBOOK VARS...: ansible-playbook on localhost; its output is
# shown when it fails (a failed assert names itself).
play() {
    book=$1
    shift
    count=$((count + 1))
    ansible-playbook -i localhost, -c local "$HERE/$book" -e vn="$TMP/vn" \
        "$@" >"$TMP/play.out" 2>&1 ||
        { fail "ansible-playbook $book"; sed 's/^/  /' "$TMP/play.out"; }
}

# --- the domain module on a qemu:///embed root ------------------------
ROOT="$TMP/root"
embed_host "$ROOT" 2 web1 web2 db1
play domain.yml -e uri="qemu:///embed?root=$ROOT" -e root="$ROOT" \
    -e caps="$FX/hosts/intel-e5-2697v4.xml" -e backups="$TMP/backups"

# --- the host module on a fixture doctor root -------------------------
cp -R "$FX/hostroots/intel-nested-off" "$TMP/hostroot"
chmod -R u+w "$TMP/hostroot"
# --isolate writes systemd drop-ins: the directory every systemd host has.
mkdir -p "$TMP/hostroot/etc/systemd/system"
play host.yml -e root="$TMP/hostroot" -e caps="$FX/hosts/intel-e5-2697v4.xml"

# --- the role: a fresh doctor root, the domains domain.yml left --------
cp -R "$FX/hostroots/intel-nested-off" "$TMP/roleroot"
chmod -R u+w "$TMP/roleroot"
play role.yml -e root="$TMP/roleroot" -e uri="qemu:///embed?root=$ROOT" \
    -e caps="$FX/hosts/intel-e5-2697v4.xml" -e backups="$TMP/backups"

finish

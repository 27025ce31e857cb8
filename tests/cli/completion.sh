#!/bin/sh
# The bash completion (bash-completion/virt-nestify): sourced into bash,
# its function called as bash calls it, COMPREPLY checked.  The option
# lists must be those of the option table.
set -u

. "$(dirname "$0")/../testlib.sh"
COMPLETION="$NST_SRCDIR/bash-completion/virt-nestify"

command -v bash >/dev/null || { echo "SKIP: no bash"; exit 77; }

# A fake virsh first in PATH: prints its arguments to a file and one
# domain list per URI.
mkdir -p "$TMP/bin" "$TMP/files/sub"
cat >"$TMP/bin/virsh" <<EOF
#!/bin/sh
echo "\$*" >>"$TMP/virsh.args"
case "\$*" in
    *test:///default*) printf 'test\n\n' ;;
    *) printf 'web1\nweb2\ndb1\n\n' ;;
esac
EOF
chmod +x "$TMP/bin/virsh"
: >"$TMP/files/web1.xml"
: >"$TMP/files/web2.xml"
: >"$TMP/files/caps.xml"

# check_completion EXPECTED WORDS...: the completion of the last word of
# "virt-nestify WORDS..." (an empty last word is a TAB after a space) is
# EXPECTED, the sorted COMPREPLY joined by spaces.
check_completion() {
    want=$1
    shift
    count=$((count + 1))
    got=$(cd "$TMP/files" && PATH="$TMP/bin:$PATH" bash -c '
        . "$1" || exit 9
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        _virt_nestify
        printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | tr "\n" " "
    ' bash "$COMPLETION" "$NST_BUILDDIR/virt-nestify" "$@" 2>"$TMP/err")
    got=${got% }
    [ "$got" = "$want" ] ||
        fail "virt-nestify $*<TAB>: got '$got', expected '$want' $(cat "$TMP/err")"
}

check_completion "apply host lint map profiles rollback verify" ""
check_completion "rollback" "ro"
check_completion "--profile --profile-file" "--pro"
check_completion "--profile --profile-file" "verify" "--pro"
check_completion "--version" "--vers"
check_completion "" "lint" "--vers"
check_completion "nested perf realtime secure" "--profile" ""
check_completion "perf" "-p" "pe"
check_completion "perf,nested perf,realtime perf,secure" "--profile" "perf,"
check_completion "nested perf realtime secure" "profiles" ""
check_completion "secure" "--profile=se"
check_completion "secure" "--profile" "=" "se"
check_completion "caps.xml" "--host-caps" "=" "c"
check_completion "any running shutoff" "--all" "--state" ""
check_completion "json" "lint" "-o" "j"
check_completion "svg" "map" "-o" "s"
check_completion "always auto" "--color" "a"
check_completion "caps.xml" "--file" "c"
check_completion "web1.xml web2.xml" "--file" "web"
check_completion "sub" "--backup-dir" ""
check_completion "web1.xml web2.xml" "lint" "-f" "w"
check_completion "none" "--cpu-map" "no"
check_completion "db1 web1 web2" "--domain" ""
check_completion "web1 web2" "rollback" "-d" "w"
check_completion "test" "-c" "test:///default" "--domain" ""
grep -q -- "-c test:///default list --all --name" "$TMP/virsh.args" ||
    fail "virsh not asked with the line's URI: $(cat "$TMP/virsh.args")"
check_completion "test" "--connect" "test:///default" "verify" "-d" "t"
check_completion "" "--timeout" ""
check_completion "--xslt --xslt-param" "--xsl"
check_completion "" "--xslt" "x.xsl" "--xslt-param" ""

# Every command's options, as the option table gives them (cli/options.c,
# "virt-nestify --list-options CMD": "[-x ]--name[ ARG]" per line): the
# completion offers exactly the long names, and after each option that
# takes an argument (by either name) completes its value, never options.
for cmd in apply host lint map profiles rollback verify; do
    count=$((count + 1))
    "$NST_BUILDDIR/virt-nestify" --list-options "$cmd" >"$TMP/options" ||
        { fail "--list-options $cmd failed"; continue; }
    want=$(sed 's/^-. //; s/ .*//' "$TMP/options" | LC_ALL=C sort -u |
        tr '\n' ' ')
    got=$(cd "$TMP" && bash -c '
        . "$1"
        var=_virt_nestify_options_$2
        printf "%s\n" ${!var}' bash "$COMPLETION" "$cmd" |
        LC_ALL=C sort -u | tr '\n' ' ')
    [ "$got" = "$want" ] ||
        fail "$cmd: completion offers '$got', the option table has '$want'"
    while read -r first second third; do
        case $first in
            --*) names=$first arg=$second ;;
            *) names="$first $second" arg=$third ;;
        esac
        [ -n "$arg" ] || continue
        for name in $names; do
            if [ "$cmd" = apply ]; then
                check_completion "" "$name" "--"
            else
                check_completion "" "$cmd" "$name" "--"
            fi
        done
    done <"$TMP/options"
done

finish

#!/bin/sh
# The man page covers every command and every option: each command is an
# entry of COMMANDS, and each option the option table gives a command
# (cli/options.c, as "virt-nestify --list-options CMD" lists them) is in
# that command's section of docs/virt-nestify.1 (apply: OPTIONS), by its
# long name and its letter.  When a command or an option is added, this
# fails until the man page says what it does.
set -u

. "$(dirname "$0")/../testlib.sh"
MAN="$NST_SRCDIR/docs/virt-nestify.1"

# section NAME: the text of ".SH NAME" up to the next .SH, with roff's
# \- as - and its font escapes removed.
section() {
    awk -v name="$1" '
        /^\.SH / { on = ($0 == ".SH " name || $0 == ".SH \"" name "\"") ; next }
        on' "$MAN" | sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\(aq/'"'"'/g'
}

# The commands the program knows (its usage and command table), each an
# entry (".TP" then ".B NAME" or "\fBNAME\fP") of COMMANDS.
section COMMANDS >"$TMP/commands"
for cmd in apply host lint map profiles rollback verify; do
    count=$((count + 1))
    "$NST_BUILDDIR/virt-nestify" "$cmd" --help >/dev/null 2>&1 ||
        fail "$cmd --help fails: is it still a command?"
    grep -q "^\\.B $cmd\$\\|^$cmd \\[\\|^\\.B $cmd \\|^$cmd\$" "$TMP/commands" ||
        fail "COMMANDS has no entry for $cmd"
done

for pair in apply:OPTIONS host:HOST lint:LINT profiles:COMMANDS \
    rollback:ROLLBACK verify:VERIFY map:MAP; do
    cmd=${pair%%:*}
    sect=${pair#*:}
    section "$sect" >"$TMP/section"
    [ -s "$TMP/section" ] || { fail "no section $sect for $cmd"; continue; }
    # "[-x ]--name[ ARG]" per option.
    "$NST_BUILDDIR/virt-nestify" --list-options "$cmd" >"$TMP/options" ||
        fail "--list-options $cmd failed"
    grep -q -- '^\(-. \)\?--help$' "$TMP/options" ||
        fail "$cmd: --list-options has no --help: $(cat "$TMP/options")"
    while read -r first second _; do
        case $first in
            --*) opt=$first letter= ;;
            *) opt=$second letter=$first ;;
        esac
        count=$((count + 1))
        grep -q -- "$opt\\([^a-z0-9-]\\|\$\\)" "$TMP/section" ||
            fail "$cmd $opt: not in the man page's $sect section"
        [ -z "$letter" ] ||
            grep -q -- "$letter\\([^a-zA-Z0-9-]\\|\$\\)" "$TMP/section" ||
            fail "$cmd $letter ($opt): not in the man page's $sect section"
    done <"$TMP/options"
done
# --version, an option of the program rather than of a command.
count=$((count + 1))
section COMMANDS | grep -q -- '--version' || fail "--version not in COMMANDS"

# The page itself is well-formed roff.
if command -v groff >/dev/null; then
    count=$((count + 1))
    warnings=$(LC_ALL=C groff -man -Tutf8 -ww -z "$MAN" 2>&1)
    [ -z "$warnings" ] || fail "groff warns: $warnings"
fi

finish

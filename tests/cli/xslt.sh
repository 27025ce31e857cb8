#!/bin/sh
# End-to-end tests of --xslt (a site's stylesheet after the profiles) and
# of xslt/nested.xsl with xsltproc.  Every refused stylesheet must give
# exit 2, one error line naming the stylesheet, and change nothing.
set -u

. "$(dirname "$0")/../testlib.sh"
INTEL="--host-caps $FX/hosts/intel-e5-2697v4.xml"
UBUNTU="$FX/domains/ubuntu-guest.xml"
export VIRT_NESTIFY_PROFILES_DIR="$TMP/no-profiles.d"
cd "$TMP" || exit 1

XSL='xmlns:xsl="http://www.w3.org/1999/XSL/Transform"'
IDENTITY='<xsl:template match="@*|node()"><xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy></xsl:template>'

sheet() {  # sheet NAME BODY: $TMP/NAME.xsl, a stylesheet holding BODY
    printf '<xsl:stylesheet version="1.0" %s %s>\n%s\n</xsl:stylesheet>\n' \
        "$XSL" "${EXTRA_NS:-}" "$2" >"$TMP/$1.xsl"
}

# refused NAME EXPECTED_PART: the stylesheet NAME is refused, exit 2, one
# line, nothing on stdout; the --in-place file stays as it was
refused() {
    cp "$UBUNTU" "$TMP/dom.xml"
    run 2 --file "$TMP/dom.xml" $INTEL -p nested --in-place \
        --xslt "$TMP/$1.xsl" || { echo "  ($1)"; return; }
    [ -s "$TMP/out" ] && fail "$1: stdout not empty"
    one_error "$1" "$TMP/$1.xsl: .*$2"
    cmp -s "$UBUNTU" "$TMP/dom.xml" || fail "$1: the file was changed"
}

# --- a stylesheet that adds an element --------------------------------
sheet add "$IDENTITY
<xsl:template match=\"/domain/devices[not(watchdog)]\"><xsl:copy><xsl:apply-templates select=\"@*|node()\"/><watchdog model=\"i6300esb\" action=\"reset\"/></xsl:copy></xsl:template>"
run 0 --file "$UBUNTU" $INTEL -p nested -q --xslt "$TMP/add.xsl" && {
    grep -q '<watchdog model="i6300esb" action="reset"/></devices>' \
        "$TMP/out" || fail "add: no watchdog in the output"
    grep -q '<cpu mode="host-passthrough" check="none">' "$TMP/out" ||
        fail "add: the profile was not applied before the stylesheet"
    cp "$TMP/out" "$TMP/added.xml"
    # a second run on the result finds nothing to change
    run 0 --file "$TMP/added.xml" $INTEL -p nested --check \
        --xslt "$TMP/add.xsl" ||
        fail "add: a second run wants to change something"
    # and the stylesheet's change is in the report
    run 1 --file "$UBUNTU" $INTEL -p nested --check --xslt "$TMP/add.xsl" &&
        grep -q "change   xslt $TMP/add.xsl: the stylesheet changed" \
            "$TMP/out" || fail "add: no xslt entry in the report"
}
# a stylesheet that changes nothing keeps the engine's bytes
sheet identity "$IDENTITY"
run 0 --file "$UBUNTU" $INTEL -p nested -q --xslt "$TMP/identity.xsl" &&
    cmp -s "$TMP/out" "$FX/expected/ubuntu-guest--intel-e5-2697v4--nested.xml" ||
    fail "identity: output differs from the engine's"
# document('') reads the stylesheet itself
sheet self "<xsl:template match=\"/\"><xsl:if test=\"not(document('')/xsl:stylesheet)\"><xsl:message terminate=\"yes\">no self</xsl:message></xsl:if><xsl:copy-of select=\".\"/></xsl:template>"
run 0 --file "$UBUNTU" $INTEL -p nested -q --xslt "$TMP/self.xsl" ||
    fail "document('') refused"
# a non-terminating xsl:message is a warning
sheet msg "<xsl:template match=\"/\"><xsl:message>just saying</xsl:message><xsl:copy-of select=\".\"/></xsl:template>"
run 0 --file "$UBUNTU" $INTEL -p nested -q --xslt "$TMP/msg.xsl" &&
    grep -q "^virt-nestify: warning: $TMP/msg.xsl: just saying$" "$TMP/err" ||
    fail "xsl:message: no warning"

# --- --xslt-param -----------------------------------------------------
# No --profile: with --xslt alone the stylesheet makes the output (the
# report names the profile "none"); without either it is a usage error.
NONE=""
run 2 --file "$UBUNTU" $INTEL -q && one_error "no profile, no --xslt" "--profile is required"
run 0 --file "$UBUNTU" $INTEL --dry-run --color never --xslt "$TMP/msg.xsl" &&
    grep -q "^domain 'ubuntu-guest', profile 'none'" "$TMP/out" ||
    fail "--xslt alone: the report does not name profile 'none'"
sheet param '<xsl:output omit-xml-declaration="yes"/>
<xsl:param name="p"/><xsl:param name="q" select="'"'unset'"'"/>
<xsl:template match="/"><domain><p><xsl:value-of select="$p"/></p><q><xsl:value-of select="$q"/></q></domain></xsl:template>'
# expect_out DESC TEXT: stdout is exactly the line TEXT
expect_out() {
    printf '%s\n' "$2" >"$TMP/want"
    cmp -s "$TMP/want" "$TMP/out" ||
        fail "$1: stdout is '$(cat "$TMP/out")', expected '$2'"
}
run 0 --file "$UBUNTU" $INTEL $NONE -q --xslt "$TMP/param.xsl" \
    --xslt-param p=hello &&
    expect_out "param" "<domain><p>hello</p><q>unset</q></domain>"
# a string, never XPath: both quotes, markup and an expression verbatim
run 0 --file "$UBUNTU" $INTEL $NONE -q --xslt "$TMP/param.xsl" \
    --xslt-param "p=a'b\"c" --xslt-param 'q=1+1 and /domain' &&
    expect_out "param quotes" \
        "<domain><p>a'b\"c</p><q>1+1 and /domain</q></domain>"
run 0 --file "$UBUNTU" $INTEL $NONE -q --xslt "$TMP/param.xsl" \
    --xslt-param 'q=<&>=' --xslt-param p= &&
    expect_out "param markup" "<domain><p/><q>&lt;&amp;&gt;=</q></domain>"
# a prefixed name whose prefix the stylesheet declares
EXTRA_NS='xmlns:site="urn:site" exclude-result-prefixes="site"' \
    sheet prefixed '<xsl:output omit-xml-declaration="yes"/>
<xsl:param name="site:p"/>
<xsl:template match="/"><domain><p><xsl:value-of select="$site:p"/></p></domain></xsl:template>'
run 0 --file "$UBUNTU" $INTEL $NONE -q --xslt "$TMP/prefixed.xsl" \
    --xslt-param site:p=x &&
    expect_out "param prefixed" "<domain><p>x</p></domain>"

# param_refused DESC EXPECTED ARGS...: exit 2, one line naming
# --xslt-param and saying EXPECTED, nothing on stdout, the --in-place
# file unchanged
param_refused() {
    p_desc=$1
    p_part=$2
    shift 2
    cp "$UBUNTU" "$TMP/dom.xml"
    run 2 --file "$TMP/dom.xml" $INTEL -p nested --in-place "$@" ||
        { echo "  ($p_desc)"; return; }
    [ -s "$TMP/out" ] && fail "$p_desc: stdout not empty"
    one_error "$p_desc" "--xslt-param.*$p_part"
    cmp -s "$UBUNTU" "$TMP/dom.xml" || fail "$p_desc: the file was changed"
}
param_refused "param no =" "'p' is not NAME=VALUE" \
    --xslt "$TMP/param.xsl" --xslt-param p
param_refused "param bad name" "'1p' is not a parameter name" \
    --xslt "$TMP/param.xsl" --xslt-param 1p=x
param_refused "param empty name" "'' is not a parameter name" \
    --xslt "$TMP/param.xsl" --xslt-param =x
param_refused "param twice" "'p' is given twice" \
    --xslt "$TMP/param.xsl" --xslt-param p=1 --xslt-param p=2
param_refused "param not text" "'p' has a value that is not UTF-8" \
    --xslt "$TMP/param.xsl" --xslt-param "p=$(printf 'a\001b')"
param_refused "param prefix" "the prefix 'x' is not declared in" \
    --xslt "$TMP/param.xsl" --xslt-param x:p=1
param_refused "param without --xslt" "needs --xslt" --xslt-param p=1
# a NAME the stylesheet does not declare (a typo) is refused, not ignored;
# a prefixed one must match the declaration's namespace, not its prefix
param_refused "param undeclared" "'vendr': $TMP/param.xsl has no top-level <xsl:param name='vendr'>" \
    --xslt "$TMP/param.xsl" --xslt-param vendr=Intel
param_refused "param other namespace" "'xsl:p': $TMP/param.xsl has no top-level" \
    --xslt "$TMP/param.xsl" --xslt-param xsl:p=1
# before any connection: refused the same way on a URI that cannot open
run 2 -c "qemu:///embed?root=$TMP/nonexistent/root" --domain x $INTEL \
    -p nested --xslt-param p=1 &&
    one_error "live param without --xslt" "--xslt-param needs --xslt"

# --- what a stylesheet may not do -------------------------------------
sheet write "<xsl:template match=\"/\"><xsl:document href=\"$TMP/written.txt\" method=\"text\">x</xsl:document><xsl:copy-of select=\".\"/></xsl:template>"
refused write "File write for $TMP/written.txt refused"
[ -e "$TMP/written.txt" ] && fail "xsl:document wrote a file"

EXTRA_NS='xmlns:exsl="http://exslt.org/common" extension-element-prefixes="exsl"' \
    sheet exsl "<xsl:template match=\"/\"><exsl:document href=\"$TMP/sub/written.txt\" method=\"text\">x</exsl:document><xsl:copy-of select=\".\"/></xsl:template>"
refused exsl "refused"
[ -e "$TMP/sub" ] && fail "exsl:document created a directory or file"

sheet http "<xsl:template match=\"/\"><xsl:copy-of select=\"document('http://127.0.0.1:9/x.xml')\"/><xsl:copy-of select=\".\"/></xsl:template>"
refused http "Network file read for http://127.0.0.1:9/x.xml refused"

sheet file "<xsl:template match=\"/\"><xsl:copy-of select=\"document('/etc/hostname')\"/><xsl:copy-of select=\".\"/></xsl:template>"
refused file "Local file read for /etc/hostname refused"

cp "$TMP/add.xsl" "$TMP/lib.xsl"
sheet import '<xsl:import href="lib.xsl"/>'
refused import "read for .*lib.xsl refused"

printf '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<xsl:stylesheet version="1.0" %s>&e;</xsl:stylesheet>\n' \
    "$XSL" >"$TMP/doctype.xsl"
refused doctype "a DOCTYPE is not allowed"

# --- broken stylesheets and wrong results -----------------------------
printf '<xsl:stylesheet version="1.0" %s>\n<xsl:template match="/">\n</xsl:stylesheet>\n' \
    "$XSL" >"$TMP/malformed.xsl"
refused malformed "line 3: Opening and ending tag mismatch"

sheet notxslt '<xsl:frobnicate/>'
refused notxslt ""

sheet network '<xsl:template match="/"><network><name>n</name></network></xsl:template>'
refused network "the result is not a libvirt domain (its root is <network>)"

sheet text '<xsl:output method="text"/><xsl:template match="/">hello</xsl:template>'
refused text "the result is not a libvirt domain"

sheet stop '<xsl:template match="/"><xsl:message terminate="yes">site policy: no nested guests here</xsl:message></xsl:template>'
refused stop "site policy: no nested guests here"

run 2 --file "$UBUNTU" $INTEL -p nested --xslt "$TMP/absent.xsl" &&
    one_error "absent" "$TMP/absent.xsl"

# --- live mode (test:///default, state per process) ------------------
run 0 -c test:///default --domain test $INTEL -p nested --xslt "$TMP/add.xsl" \
    --backup-dir "$TMP/bk" &&
    grep -q "^domain 'test' defined" "$TMP/out" ||
    fail "live: the stylesheet's result was not defined"
run 2 -c test:///default --domain test $INTEL -p nested \
    --xslt "$TMP/stop.xsl" --backup-dir "$TMP/bk" &&
    one_error "live stop" "$TMP/stop.xsl: site policy"
run 2 -c test:///default --domain test $INTEL -p nested \
    --xslt "$TMP/malformed.xsl" --backup-dir "$TMP/bk" &&
    one_error "live malformed" "$TMP/malformed.xsl: line 3"
# libvirt refuses what the stylesheet made: its schema error (several
# lines from libvirt) is one line, and nothing is defined
sheet bogus "$IDENTITY
<xsl:template match=\"/domain/name\"><xsl:copy-of select=\".\"/><bogus/></xsl:template>"
run 3 -c test:///default --domain test $INTEL -p nested \
    --xslt "$TMP/bogus.xsl" --backup-dir "$TMP/bk" &&
    one_error "live invalid result" \
        "libvirt refused the new definition: .*extra content: bogus; the definition is unchanged"
# --xslt-param reaches the live run and the check after the define, which
# runs the stylesheet again (without the parameter the title would be
# empty there: the check would fail and the old definition come back)
sheet title "$IDENTITY
<xsl:param name=\"t\"/>
<xsl:template match=\"/domain/title\"><title><xsl:value-of select=\"\$t\"/></title></xsl:template>
<xsl:template match=\"/domain[not(title)]/name\"><xsl:copy-of select=\".\"/><title><xsl:value-of select=\"\$t\"/></title></xsl:template>"
run 0 -c test:///default --domain test $INTEL -p nested --dry-run \
    --color never --xslt "$TMP/title.xsl" --xslt-param "t=a'b\"c" &&
    grep -qF "+  <name>test</name><title>a'b\"c</title>" "$TMP/out" ||
    fail "live param: not in the diff"
run 0 -c test:///default --domain test $INTEL -p nested \
    --xslt "$TMP/title.xsl" --xslt-param "t=a'b\"c" --backup-dir "$TMP/bk" &&
    grep -q "^domain 'test' defined" "$TMP/out" ||
    fail "live param: not defined"
# and every domain of a bulk run
run 0 -c test:///default --all $INTEL -p nested --dry-run --color never \
    --xslt "$TMP/title.xsl" --xslt-param t=bulk &&
    grep -qF "+  <name>test</name><title>bulk</title>" "$TMP/out" ||
    fail "bulk param: not in the diff"

# --- nested.xsl and the engine, through the real programs -------------
# The engine finds nothing to change in the stylesheet's output.
if command -v xsltproc >/dev/null; then
    for d in "$FX"/domains/*.xml; do
        # A confidential guest: the engine refuses nested (one line naming
        # the element), so there is nothing to compare (test-xslt.c's
        # refused[]); nested.xsl does not read <launchSecurity>.
        if grep -q '<launchSecurity' "$d"; then
            run 2 --file "$d" $INTEL --cpu-map none -p nested -q &&
                one_error "nested on $d" "<launchSecurity type="
            continue
        fi
        count=$((count + 1))
        xsltproc --stringparam vendor Intel "$NST_SRCDIR/xslt/nested.xsl" \
            "$d" >"$TMP/sheet.xml" 2>"$TMP/err" ||
            { fail "xsltproc nested.xsl $d: $(cat "$TMP/err")"; continue; }
        run 0 --file "$TMP/sheet.xml" $INTEL --cpu-map none -p nested \
            --check || echo "  (engine on nested.xsl's output of $d)"
    done
    count=$((count + 1))
    xsltproc "$NST_SRCDIR/xslt/nested.xsl" "$UBUNTU" >"$TMP/out" \
        2>"$TMP/err" && fail "nested.xsl without vendor succeeded"
    grep -q "the vendor parameter must be 'Intel' or 'AMD'" "$TMP/err" ||
        fail "nested.xsl without vendor: $(cat "$TMP/err")"
fi

# nested.xsl as --xslt, its vendor given with --xslt-param, after an
# empty profile: the same document as the engine's nested profile (as
# canonical XML; indentation differs where XSLT and the engine add
# elements).  --cpu-map none: the stylesheet knows the built-in list.
if command -v xmllint >/dev/null; then
    for d in "$FX"/domains/*.xml; do
        b=$(basename "$d")
        grep -q '<launchSecurity' "$d" && continue   # refused, see above
        run 0 --file "$d" $INTEL --cpu-map none -p nested -q ||
            { echo "  (engine on $b)"; continue; }
        xmllint --noblanks --c14n "$TMP/out" >"$TMP/engine.c14n"
        run 0 apply --file "$d" $INTEL --cpu-map none $NONE -q \
            --xslt "$NST_SRCDIR/xslt/nested.xsl" --xslt-param vendor=Intel ||
            { echo "  (nested.xsl on $b)"; continue; }
        xmllint --noblanks --c14n "$TMP/out" >"$TMP/sheet.c14n"
        [ -s "$TMP/engine.c14n" ] && cmp -s "$TMP/engine.c14n" "$TMP/sheet.c14n" ||
            fail "nested.xsl --xslt-param vendor=Intel differs from -p nested on $b"
    done
    # without the vendor the stylesheet stops: bad input
    run 2 --file "$UBUNTU" $INTEL $NONE \
        --xslt "$NST_SRCDIR/xslt/nested.xsl" &&
        one_error "nested.xsl without vendor" \
            "nested.xsl: the vendor parameter must be 'Intel' or 'AMD'"
fi

# --- libxslt's long reports are one line --------------------------------
# An infinite recursion stops the run with the template stack, dozens of
# lines libxslt prints by itself: one error line, naming the stylesheet
# and the line libxslt blames.
sheet recurse '<xsl:template match="/"><xsl:call-template name="loop"/></xsl:template>
<xsl:template name="loop"><xsl:param name="n" select="0"/><xsl:call-template name="loop"><xsl:with-param name="n" select="$n + 1"/></xsl:call-template></xsl:template>'
refused recurse "line 3: .*infinite template recursion was detected\.$"
sheet recurse2 '<xsl:template match="/"><xsl:apply-templates select="."/></xsl:template>'
refused recurse2 "line 2: .*infinite template recursion was detected\.$"

# --- secrets stay masked through --xslt ---------------------------------
# The stylesheet rewrites the <graphics> (libxslt's serialisation) and
# quotes the password in xsl:message: the diff and the warning show ***,
# the output keeps the password.  A terminating message is masked too.
sheet leak "$IDENTITY
<xsl:template match=\"graphics\"><xsl:message>password <xsl:value-of select=\"@passwd\"/></xsl:message><graphics type=\"vnc\" passwd=\"{@passwd}\" autoport=\"no\"/></xsl:template>"
grep -q "passwd='s3cret'" "$UBUNTU" || fail "leak: the fixture has no password"
run 0 --file "$UBUNTU" $INTEL -p nested --dry-run --color never \
    --xslt "$TMP/leak.xsl" && {
    grep -q "s3cret" "$TMP/out" "$TMP/err" && fail "leak: secret printed"
    grep -qF '+    <graphics type="vnc" passwd="***" autoport="no"/>' \
        "$TMP/out" || fail "leak: no masked graphics in the diff"
    grep -qF "warning: $TMP/leak.xsl: password ***" "$TMP/err" ||
        fail "leak: xsl:message not masked: $(cat "$TMP/err")"
}
run 0 --file "$UBUNTU" $INTEL -p nested -q --xslt "$TMP/leak.xsl" &&
    { grep -qF 'passwd="s3cret"' "$TMP/out" || fail "leak: output lost the password"; }
sheet leakstop '<xsl:template match="/"><xsl:message terminate="yes">no: <xsl:value-of select="//graphics/@passwd"/></xsl:message></xsl:template>'
refused leakstop 'no: \*\*\*$'
# Live (a test driver file holding the domain): libvirt's dump, made with
# the secure flag, holds a password and a disk cookie; the stylesheet's
# serialisation puts every line in the diff, each secret masked.
cat >"$TMP/node.xml" <<'XML'
<node>
  <domain type='test'>
    <name>secrets</name>
    <memory>1048576</memory>
    <os><type>hvm</type></os>
    <devices>
      <disk type='network' device='disk'>
        <source protocol='https' name='/img.raw'>
          <host name='example.org' port='443'/>
          <cookies><cookie name='session'>SECRETcookie</cookie></cookies>
        </source>
        <target dev='vda' bus='virtio'/>
      </disk>
      <graphics type='vnc' port='5901' passwd='SECRETpass'/>
    </devices>
  </domain>
</node>
XML
run 0 -c "test://$TMP/node.xml" --domain secrets $INTEL -p nested --dry-run \
    --color never --xslt "$TMP/leak.xsl" && {
    grep -q "SECRET" "$TMP/out" "$TMP/err" && fail "live leak: secret printed"
    grep -qF -- "-          <cookie name='session'>***</cookie>" "$TMP/out" ||
        fail "live leak: no masked cookie in the diff"
    grep -qF -- "-    <graphics type='vnc' port='5901' autoport='no' passwd='***'>" \
        "$TMP/out" || fail "live leak: no masked password in the diff"
}

finish

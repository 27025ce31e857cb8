<?xml version="1.0" encoding="UTF-8"?>
<!--
  nested.xsl: the host-independent part of virt-nestify's "nested" profile
  as an XSLT 1.0 stylesheet, for sites that edit libvirt XML without the
  tool.  Usage, as in docs/xslt.md (an XML comment cannot hold the two
  dashes of the options, written here as one):

    virsh dumpxml -inactive -security-info D |
        xsltproc -stringparam vendor Intel nested.xsl - > D.xml

  or through virt-nestify (without a profile, the stylesheet alone):

    virt-nestify -file D.xml -host-caps caps.xml
        -xslt nested.xsl -xslt-param vendor=Intel

  It makes the same edits as the rules cpu-mode and cpu-feature of
  lib/rules-cpu.c (docs/profiles.md explains each):

  - <cpu mode='host-passthrough' check='none'>, created where libvirt
    puts it when the domain has none; match= goes, and so do the first
    <model> and <vendor> (host-passthrough uses the host's).  Other
    attributes (migratable=) and children (topology, cache, numa, other
    features) are kept;
  - of the <feature> elements of <cpu>, these are removed: one without a
    name, one libvirt 9.0 does not know (the names guides copy from
    /proc/cpuinfo: the built-in list of lib/host-features.c, kept equal by
    tests/test-xslt.c), the other vendor's flag, a disable or forbid of
    the vendor's flag, and every later duplicate of it;
  - exactly one <feature policy='require'> of vmx (Intel) or svm (AMD)
    remains: the first one there is, with its policy made require, or a
    new one after the last of <cpu>'s model, vendor, topology, cache,
    maxphysaddr and feature children (libvirt's order).

  - a Windows guest (libosinfo metadata naming a microsoft.com/win OS,
    or a <features><hyperv>) gets the Hyper-V enlightenments of the rule
    hyperv (lib/rules-hyperv.c) as it gives them without domain
    capabilities: relaxed, vapic, spinlocks retries 8191, vpindex,
    runtime, synic, stimer with direct mode, frequencies, tlbflush, ipi,
    evmcs on Intel, and the hypervclock timer; what the domain sets stays
    (and what needs one it sets off is left out), stimer gets direct mode,
    evmcs goes on AMD, mode='passthrough' is kept.  Unlike the engine it
    does not create a missing <features> or <clock> (libvirt's Windows
    guests have both), and it writes the children of a <hyperv> in
    libvirt's order.
  What it cannot do, because it needs the host: check that the host has
  VT-x/AMD-V and supports host-passthrough, pick the vendor (the vendor
  parameter says it: Intel or AMD), or read libvirt's own cpu_map
  (virt-nestify's cpu-map option) for the features that version knows.  It
  does not refuse what the engine refuses (a <vcpu> or <memory> it
  cannot read) and does not warn about a domain type other than kvm.
  Everything else is copied unchanged (identity transform); the output is
  xsltproc's serialisation, not the input's bytes.
-->
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:lo="http://libosinfo.org/xmlns/libvirt/domain/1.0"
                exclude-result-prefixes="lo">

  <xsl:output method="xml" encoding="UTF-8" omit-xml-declaration="yes"/>

  <!-- The host's CPU vendor: Intel (vmx) or AMD (svm). -->
  <xsl:param name="vendor" select="''"/>

  <xsl:variable name="want">
    <xsl:choose>
      <xsl:when test="$vendor = 'Intel'">vmx</xsl:when>
      <xsl:when test="$vendor = 'AMD'">svm</xsl:when>
    </xsl:choose>
  </xsl:variable>

  <!-- Features libvirt 9.0's cpu_map does not define (lib/host-features.c,
       bogus_features[]): a domain requiring one defines and then fails
       to start with "unknown CPU feature".  One space between names and
       around the list: a name matches when " NAME " is in it. -->
  <xsl:variable name="unknown-features"
                select="' apicv bus_lock_detect ept ept_1gb ept_5level ept_ad ept_mode_based_exec ept_x_only flexpriority invvpid mtf notify_vm_exiting ple pml posted_intr preemption_timer shadow_vmcs tpr_shadow tsc_offset tsc_scaling unrestricted_guest usr_wait_pause vapic vapic_reg vid vnmi vpid vtpr '"/>

  <!-- Children of <domain> that libvirt writes before <cpu>
       (lib/xmledit.c, nst_order_domain). -->
  <xsl:variable name="before-cpu"
                select="' name uuid genid title description metadata maxMemory memory currentMemory blkiotune memtune memoryBacking vcpu vcpus iothreads iothreadids defaultiothread cputune numatune resource sysinfo bootloader bootloader_args os idmap features cpu '"/>

  <!-- Children of <cpu> that come before or with <feature>
       (nst_order_cpu). -->
  <xsl:variable name="before-feature"
                select="' model vendor topology cache maxphysaddr feature '"/>

  <xsl:template match="/">
    <xsl:if test="$want = ''">
      <xsl:message terminate="yes">
        <xsl:text>nested.xsl: the vendor parameter must be 'Intel' or 'AMD'</xsl:text>
        <xsl:if test="$vendor != ''">
          <xsl:text>, not '</xsl:text>
          <xsl:value-of select="$vendor"/>
          <xsl:text>'</xsl:text>
        </xsl:if>
        <xsl:text> (xsltproc --stringparam vendor Intel nested.xsl DOMAIN.xml, or virt-nestify --xslt nested.xsl --xslt-param vendor=Intel)</xsl:text>
      </xsl:message>
    </xsl:if>
    <xsl:if test="not(domain)">
      <xsl:message terminate="yes">
        <xsl:text>nested.xsl: the input is not a libvirt domain (its root is &lt;</xsl:text>
        <xsl:value-of select="name(*)"/>
        <xsl:text>&gt;)</xsl:text>
      </xsl:message>
    </xsl:if>
    <!-- As the engine: a confidential guest cannot run VMs of its own
         (docs/domain-coverage/launchSecurity.md). -->
    <xsl:if test="domain/launchSecurity">
      <xsl:message terminate="yes">
        <xsl:text>nested.xsl: &lt;launchSecurity type='</xsl:text>
        <xsl:value-of select="domain/launchSecurity/@type"/>
        <xsl:text>'&gt; makes a confidential guest, which cannot run VMs of its own: the nested edits do not apply</xsl:text>
      </xsl:message>
    </xsl:if>
    <xsl:apply-templates select="node()"/>
  </xsl:template>

  <!-- Identity: everything not matched below is copied as it is. -->
  <xsl:template match="@*|node()">
    <xsl:copy>
      <xsl:apply-templates select="@*|node()"/>
    </xsl:copy>
  </xsl:template>

  <!-- Copies the whitespace before node n, when it is whitespace, or a
       plain newline: the indentation of a sibling for a new element. -->
  <xsl:template name="indent-of">
    <xsl:param name="n"/>
    <xsl:variable name="ws" select="$n/preceding-sibling::node()[1][self::text()]"/>
    <xsl:choose>
      <xsl:when test="$ws and normalize-space($ws) = ''">
        <xsl:value-of select="$ws"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:text>&#10;</xsl:text>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- A domain without <cpu>: one is created where libvirt puts it,
       after the last child that comes before it. -->
  <xsl:template match="/domain[not(cpu)]">
    <xsl:variable name="anchor"
                  select="*[contains($before-cpu, concat(' ', local-name(), ' '))][last()]"/>
    <xsl:variable name="first" select="*[1]"/>
    <xsl:variable name="indent">
      <xsl:call-template name="indent-of">
        <xsl:with-param name="n" select="$first"/>
      </xsl:call-template>
    </xsl:variable>
    <xsl:copy>
      <xsl:apply-templates select="@*"/>
      <xsl:for-each select="node()">
        <xsl:if test="not($anchor) and generate-id(.) = generate-id($first)">
          <xsl:call-template name="new-cpu">
            <xsl:with-param name="indent" select="$indent"/>
          </xsl:call-template>
          <xsl:value-of select="$indent"/>
        </xsl:if>
        <xsl:apply-templates select="."/>
        <xsl:if test="generate-id(.) = generate-id($anchor)">
          <xsl:value-of select="$indent"/>
          <xsl:call-template name="new-cpu">
            <xsl:with-param name="indent" select="$indent"/>
          </xsl:call-template>
        </xsl:if>
      </xsl:for-each>
      <xsl:if test="not(*)">
        <xsl:call-template name="new-cpu">
          <xsl:with-param name="indent" select="'&#10;'"/>
        </xsl:call-template>
      </xsl:if>
    </xsl:copy>
  </xsl:template>

  <xsl:template name="new-cpu">
    <xsl:param name="indent"/>
    <cpu mode="host-passthrough" check="none">
      <xsl:value-of select="concat($indent, '  ')"/>
      <feature policy="require" name="{$want}"/>
      <xsl:value-of select="$indent"/>
    </cpu>
  </xsl:template>

  <!-- The domain's <cpu> (the first, as libvirt reads it). -->
  <xsl:template match="/domain/cpu[1]">
    <!-- The first <feature> of the vendor's flag that does not hide it
         is kept (as require); every other one goes. -->
    <xsl:variable name="found"
                  select="feature[@name = $want][not(@policy = 'disable' or @policy = 'forbid')][1]"/>
    <xsl:variable name="removed"
                  select="model[1] | vendor[1] |
                          feature[not(@name)
                                  or (not(contains(@name, ' ')) and
                                      contains($unknown-features, concat(' ', @name, ' ')))
                                  or ((@name = 'vmx' or @name = 'svm') and @name != $want)
                                  or ((@name = 'vmx' or @name = 'svm') and
                                      (@policy = 'disable' or @policy = 'forbid'))
                                  or (@name = $want and generate-id(.) != generate-id($found))]"/>
    <xsl:variable name="kept" select="*[count(. | $removed) != count($removed)]"/>
    <xsl:variable name="anchor"
                  select="$kept[contains($before-feature, concat(' ', local-name(), ' '))][last()]"/>
    <xsl:variable name="indent">
      <xsl:call-template name="indent-of">
        <xsl:with-param name="n" select="$kept[1]"/>
      </xsl:call-template>
    </xsl:variable>

    <xsl:copy>
      <xsl:for-each select="@*">
        <xsl:choose>
          <xsl:when test="namespace-uri() != ''">
            <xsl:copy/>
          </xsl:when>
          <xsl:when test="local-name() = 'mode'">
            <xsl:attribute name="mode">host-passthrough</xsl:attribute>
          </xsl:when>
          <xsl:when test="local-name() = 'check'">
            <xsl:attribute name="check">none</xsl:attribute>
          </xsl:when>
          <!-- match= means something only for mode='custom' -->
          <xsl:when test="local-name() = 'match'"/>
          <xsl:otherwise>
            <xsl:copy/>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:for-each>
      <xsl:if test="not(@mode)">
        <xsl:attribute name="mode">host-passthrough</xsl:attribute>
      </xsl:if>
      <xsl:if test="not(@check)">
        <xsl:attribute name="check">none</xsl:attribute>
      </xsl:if>

      <xsl:for-each select="node()">
        <xsl:variable name="next" select="following-sibling::node()[1]"/>
        <xsl:choose>
          <!-- a removed element goes with the whitespace before it -->
          <xsl:when test="count(. | $removed) = count($removed)"/>
          <xsl:when test="self::text() and normalize-space(.) = '' and
                          $next and count($next | $removed) = count($removed)"/>
          <!-- nothing kept: the new feature brings its own indentation -->
          <xsl:when test="not($kept) and self::text() and normalize-space(.) = ''"/>
          <xsl:otherwise>
            <xsl:if test="not($found) and not($anchor) and
                          generate-id(.) = generate-id($kept[1])">
              <feature policy="require" name="{$want}"/>
              <xsl:value-of select="$indent"/>
            </xsl:if>
            <xsl:choose>
              <xsl:when test="generate-id(.) = generate-id($found)">
                <feature>
                  <xsl:apply-templates select="@*"/>
                  <xsl:attribute name="policy">require</xsl:attribute>
                  <xsl:apply-templates select="node()"/>
                </feature>
              </xsl:when>
              <xsl:otherwise>
                <xsl:apply-templates select="."/>
              </xsl:otherwise>
            </xsl:choose>
            <xsl:if test="not($found) and generate-id(.) = generate-id($anchor)">
              <xsl:value-of select="$indent"/>
              <feature policy="require" name="{$want}"/>
            </xsl:if>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:for-each>
      <xsl:if test="not($found) and not($kept)">
        <xsl:variable name="outer">
          <xsl:call-template name="indent-of">
            <xsl:with-param name="n" select="."/>
          </xsl:call-template>
        </xsl:variable>
        <xsl:value-of select="concat($outer, '  ')"/>
        <feature policy="require" name="{$want}"/>
        <xsl:value-of select="$outer"/>
      </xsl:if>
    </xsl:copy>
  </xsl:template>

  <!-- ======================================================= hyperv -->

  <xsl:variable name="hv" select="/domain/features[1]/hyperv[1]"/>
  <!-- Windows, as lib/domain.c reads it: the first libosinfo os names a
       Microsoft OS, or the domain has <hyperv>. -->
  <xsl:variable name="windows"
                select="boolean(/domain/metadata[1]/lo:libosinfo[1]/lo:os[1][starts-with(@id, 'http://microsoft.com/win/')] or $hv)"/>
  <xsl:variable name="hv-custom" select="$windows and not($hv/@mode = 'passthrough')"/>
  <xsl:variable name="hvclock" select="/domain/clock[1]/timer[@name = 'hypervclock'][1]"/>
  <!-- <hyperv>'s children in libvirt's order (nst_order_hyperv), and
       those the rule gives, in that order. -->
  <xsl:variable name="hv-order"
                select="' relaxed vapic spinlocks vpindex runtime synic stimer reset vendor_id frequencies reenlightenment tlbflush ipi evmcs avic emsr_bitmap xmm_input '"/>
  <xsl:variable name="hv-wanted">
    <xsl:text>relaxed vapic spinlocks vpindex runtime synic stimer frequencies tlbflush ipi </xsl:text>
    <xsl:if test="$vendor = 'Intel'">evmcs </xsl:if>
  </xsl:variable>
  <!-- <features>' children before <hyperv> (nst_order_features). -->
  <xsl:variable name="before-hyperv" select="' acpi apic pae hap viridian privnet hyperv '"/>

  <!-- 'yes' when the rule adds enlightenment n: absent, and nothing it
       needs set off (the hypervclock timer for stimer). -->
  <xsl:template name="hv-adds">
    <xsl:param name="n"/>
    <xsl:variable name="deps">
      <xsl:choose>
        <xsl:when test="$n = 'synic' or $n = 'tlbflush' or $n = 'ipi'"> vpindex </xsl:when>
        <xsl:when test="$n = 'stimer'"> vpindex synic </xsl:when>
        <xsl:when test="$n = 'evmcs'"> vapic </xsl:when>
      </xsl:choose>
    </xsl:variable>
    <xsl:if test="not($hv/*[local-name() = $n])
                  and not($hv/*[contains($deps, concat(' ', local-name(), ' '))]
                          [not(@state = 'on')])
                  and not($n = 'stimer' and $hvclock/@present = 'no')">yes</xsl:if>
  </xsl:template>

  <!-- The new enlightenments of list whose place in libvirt's order is
       after lo and before hi (string offsets in hv-order). -->
  <xsl:template name="hv-new">
    <xsl:param name="list" select="$hv-wanted"/>
    <xsl:param name="lo" select="-1"/>
    <xsl:param name="hi" select="9999"/>
    <xsl:param name="indent"/>
    <xsl:if test="normalize-space($list) != ''">
      <xsl:variable name="n" select="substring-before($list, ' ')"/>
      <xsl:variable name="at"
                    select="string-length(substring-before($hv-order, concat(' ', $n, ' ')))"/>
      <xsl:variable name="adds">
        <xsl:call-template name="hv-adds">
          <xsl:with-param name="n" select="$n"/>
        </xsl:call-template>
      </xsl:variable>
      <xsl:if test="$adds = 'yes' and $at &gt; $lo and $at &lt; $hi">
        <xsl:value-of select="$indent"/>
        <xsl:element name="{$n}">
          <xsl:attribute name="state">on</xsl:attribute>
          <xsl:if test="$n = 'spinlocks'">
            <xsl:attribute name="retries">8191</xsl:attribute>
          </xsl:if>
          <xsl:if test="$n = 'stimer'">
            <direct state="on"/>
          </xsl:if>
        </xsl:element>
      </xsl:if>
      <xsl:call-template name="hv-new">
        <xsl:with-param name="list" select="substring-after($list, ' ')"/>
        <xsl:with-param name="lo" select="$lo"/>
        <xsl:with-param name="hi" select="$hi"/>
        <xsl:with-param name="indent" select="$indent"/>
      </xsl:call-template>
    </xsl:if>
  </xsl:template>

  <!-- A custom <hyperv>: each new enlightenment goes before the first
       child that libvirt writes after it. -->
  <xsl:template match="/domain/features[1]/hyperv[1][not(@mode = 'passthrough')]">
    <xsl:variable name="indent">
      <xsl:call-template name="indent-of">
        <xsl:with-param name="n" select="*[1]"/>
      </xsl:call-template>
    </xsl:variable>
    <xsl:copy>
      <xsl:apply-templates select="@*"/>
      <xsl:for-each select="node()">
        <xsl:if test="self::*">
          <xsl:call-template name="hv-new">
            <xsl:with-param name="lo"
                            select="string-length(substring-before($hv-order, concat(' ', local-name(preceding-sibling::*[1]), ' ')))"/>
            <xsl:with-param name="hi"
                            select="string-length(substring-before($hv-order, concat(' ', local-name(), ' ')))"/>
            <xsl:with-param name="indent" select="$indent"/>
          </xsl:call-template>
        </xsl:if>
        <xsl:apply-templates select="."/>
      </xsl:for-each>
      <xsl:call-template name="hv-new">
        <xsl:with-param name="lo"
                        select="string-length(substring-before($hv-order, concat(' ', local-name(*[last()]), ' ')))"/>
        <xsl:with-param name="indent" select="$indent"/>
      </xsl:call-template>
    </xsl:copy>
  </xsl:template>

  <!-- stimer on without direct mode gets it. -->
  <xsl:template match="/domain/features[1]/hyperv[1][not(@mode = 'passthrough')]/stimer[@state = 'on'][not(direct[@state = 'on'])][not(direct)]">
    <xsl:copy>
      <xsl:apply-templates select="@*|node()"/>
      <direct state="on"/>
    </xsl:copy>
  </xsl:template>

  <!-- evmcs is Intel's: QEMU does not start it on AMD. -->
  <xsl:template match="/domain/features[1]/hyperv[1][not(@mode = 'passthrough')]/evmcs[@state = 'on']">
    <xsl:if test="$vendor != 'AMD'">
      <xsl:copy-of select="."/>
    </xsl:if>
  </xsl:template>

  <!-- A Windows guest by its libosinfo metadata, without <hyperv>. -->
  <xsl:template match="/domain/features[1][not(hyperv)]">
    <xsl:choose>
      <xsl:when test="$windows">
        <xsl:variable name="anchor"
                      select="*[contains($before-hyperv, concat(' ', local-name(), ' '))][last()]"/>
        <xsl:variable name="indent">
          <xsl:call-template name="indent-of">
            <xsl:with-param name="n" select="*[1]"/>
          </xsl:call-template>
        </xsl:variable>
        <xsl:copy>
          <xsl:apply-templates select="@*"/>
          <xsl:if test="not($anchor)">
            <xsl:call-template name="new-hyperv">
              <xsl:with-param name="indent" select="$indent"/>
            </xsl:call-template>
          </xsl:if>
          <xsl:for-each select="node()">
            <xsl:apply-templates select="."/>
            <xsl:if test="generate-id(.) = generate-id($anchor)">
              <xsl:call-template name="new-hyperv">
                <xsl:with-param name="indent" select="$indent"/>
              </xsl:call-template>
            </xsl:if>
          </xsl:for-each>
        </xsl:copy>
      </xsl:when>
      <xsl:otherwise>
        <xsl:copy>
          <xsl:apply-templates select="@*|node()"/>
        </xsl:copy>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="new-hyperv">
    <xsl:param name="indent"/>
    <xsl:value-of select="$indent"/>
    <hyperv mode="custom">
      <xsl:call-template name="hv-new">
        <xsl:with-param name="indent" select="concat($indent, '  ')"/>
      </xsl:call-template>
      <xsl:value-of select="$indent"/>
    </hyperv>
  </xsl:template>

  <!-- stimer needs the hypervclock timer (hv-time): added last. -->
  <xsl:template match="/domain/clock[1]">
    <xsl:variable name="stimer-adds">
      <xsl:call-template name="hv-adds">
        <xsl:with-param name="n" select="'stimer'"/>
      </xsl:call-template>
    </xsl:variable>
    <xsl:copy>
      <xsl:apply-templates select="@*|node()"/>
      <xsl:if test="$hv-custom and not($hvclock) and
                    ($hv/stimer/@state = 'on' or $stimer-adds = 'yes')">
        <timer name="hypervclock" present="yes"/>
      </xsl:if>
    </xsl:copy>
  </xsl:template>

</xsl:stylesheet>

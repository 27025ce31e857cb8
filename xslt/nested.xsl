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
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform">

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

</xsl:stylesheet>

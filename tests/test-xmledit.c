/*
 * test-xmledit.c: formatting-preserving parse, edit and serialise
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"
#include "xmledit.h"

static struct nst_doc *
parse_ok(const char *text)
{
    struct nst_doc *doc = NULL;
    char *err = NULL;
    ck_assert_msg(nst_doc_parse(text, strlen(text), "t.xml", &doc, &err) == 0,
                  "parse: %s", err);
    return doc;
}

static void
check_output(struct nst_doc *doc, const char *expected)
{
    char *out = nst_doc_serialize(doc, NULL);
    ck_assert_str_eq(out, expected);
    free(out);
}

/* Parse errors: one line naming the input, and what is wrong. */
static void
check_refused(const char *text, size_t len, const char *expected_part)
{
    struct nst_doc *doc = NULL;
    char *err = NULL;
    ck_assert_int_eq(nst_doc_parse(text, len, "t.xml", &doc, &err), -1);
    ck_assert_ptr_null(doc);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, expected_part) != NULL, "error '%s' lacks '%s'",
                  err, expected_part);
    ck_assert_msg(strncmp(err, "t.xml: ", 7) == 0, "error '%s'", err);
    ck_assert_ptr_null(strchr(err, '\n'));
    free(err);
}

START_TEST(test_identity_fixtures)
{
    static const char *const names[] = {
        "ubuntu-guest", "windows-guest", "custom-model", "existing-tuning",
        "seed-bogus", "big-guest",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
        char *path = nst_printf("tests/fixtures/domains/%s.xml", names[i]);
        size_t len, out_len;
        char *text = test_read_srcfile(path, &len);
        struct nst_doc *doc = NULL;
        char *err = NULL;
        ck_assert_msg(nst_doc_parse(text, len, path, &doc, &err) == 0, "%s",
                      err);
        char *out = nst_doc_serialize(doc, &out_len);
        ck_assert_uint_eq(out_len, len);
        ck_assert_msg(memcmp(out, text, len) == 0, "%s changed", path);
        ck_assert_str_eq(nst_doc_domain_name(doc), names[i]);
        free(out);
        free(text);
        free(path);
        nst_doc_free(doc);
    }
}
END_TEST

/* Quotes, entities, comments, CDATA, PIs and odd spacing survive. */
START_TEST(test_identity_odd_bytes)
{
    const char *text =
        "<?xml version=\"1.0\"?>\n<!-- before -->\n"
        "<domain  type=\"kvm\" >\n"
        "\t<name>a &amp; b&#x41;</name>\n"
        "  <description><![CDATA[<raw>]]> &lt;x&gt; </description>\n"
        "  <?pi data?>\n"
        "  <cpu mode = 'custom'   match=\"exact\" >\r\n"
        "    <model fallback='allow'>Skylake</model><!-- c -->\n"
        "  </cpu>\n"
        "  <devices><disk x='&apos;&quot;&gt;'/></devices>\n"
        "</domain>\n<!-- after -->\n";
    struct nst_doc *doc = parse_ok(text);
    check_output(doc, text);
    nst_doc_free(doc);
}
END_TEST

START_TEST(test_set_attr_touches_one_tag)
{
    const char *text =
        "<domain type=\"kvm\">\n"
        "  <cpu mode=\"custom\" match=\"exact\" check=\"partial\">\n"
        "    <model  fallback='allow'>Skylake</model>\n"
        "  </cpu>\n"
        "  <on_crash>destroy</on_crash>\n"
        "</domain>";
    struct nst_doc *doc = parse_ok(text);
    xmlNodePtr cpu = nsti_child(nsti_doc_root(doc), "cpu");
    ck_assert_int_eq(nsti_set_attr(doc, cpu, "mode", "custom"), 0);
    ck_assert_int_eq(nsti_set_attr(doc, cpu, "mode", "host-passthrough"), 1);
    ck_assert_int_eq(nsti_remove_attr(doc, cpu, "match"), 1);
    ck_assert_int_eq(nsti_remove_attr(doc, cpu, "match"), 0);
    ck_assert_int_eq(nsti_set_attr(doc, cpu, "check", "none"), 1);
    /* The document quotes with ", so does the regenerated tag. */
    check_output(doc,
        "<domain type=\"kvm\">\n"
        "  <cpu mode=\"host-passthrough\" check=\"none\">\n"
        "    <model  fallback='allow'>Skylake</model>\n"
        "  </cpu>\n"
        "  <on_crash>destroy</on_crash>\n"
        "</domain>");
    nst_doc_free(doc);
}
END_TEST

START_TEST(test_insert_in_libvirt_order)
{
    const char *text =
        "<domain type='kvm'>\n"
        "  <name>x</name>\n"
        "  <memory unit='KiB'>1024</memory>\n"
        "  <vcpu placement='static'>2</vcpu>\n"
        "  <os>\n"
        "    <type>hvm</type>\n"
        "  </os>\n"
        "  <cpu mode='host-model'/>\n"
        "  <devices/>\n"
        "</domain>\n";
    struct nst_doc *doc = parse_ok(text);
    xmlNodePtr root = nsti_doc_root(doc);
    bool created;
    /* cputune goes after vcpu, memtune after memory. */
    xmlNodePtr tune = nsti_ensure(doc, root, "cputune", nst_order_domain,
                                 &created);
    ck_assert(created);
    xmlNodePtr pin = nsti_insert(doc, tune, "vcpupin", nst_order_cputune);
    nsti_set_attr(doc, pin, "vcpu", "0");
    nsti_set_attr(doc, pin, "cpuset", "1");
    xmlNodePtr shares = nsti_insert(doc, tune, "shares", nst_order_cputune);
    nsti_set_text(doc, shares, "200");
    xmlNodePtr mt = nsti_insert(doc, root, "memtune", nst_order_domain);
    xmlNodePtr hard = nsti_insert(doc, mt, "hard_limit", nst_order_memtune);
    nsti_set_attr(doc, hard, "unit", "KiB");
    nsti_set_text(doc, hard, "2048");
    /* Children into a self-closing element. */
    xmlNodePtr cpu = nsti_child(root, "cpu");
    xmlNodePtr feat = nsti_insert(doc, cpu, "feature", nst_order_cpu);
    nsti_set_attr(doc, feat, "policy", "require");
    nsti_set_attr(doc, feat, "name", "vmx");
    xmlNodePtr topo = nsti_insert(doc, cpu, "topology", nst_order_cpu);
    nsti_set_attr(doc, topo, "sockets", "1");
    ck_assert_ptr_eq(nsti_ensure(doc, root, "cputune", nst_order_domain,
                                &created), tune);
    ck_assert(!created);
    check_output(doc,
        "<domain type='kvm'>\n"
        "  <name>x</name>\n"
        "  <memory unit='KiB'>1024</memory>\n"
        "  <memtune>\n"
        "    <hard_limit unit='KiB'>2048</hard_limit>\n"
        "  </memtune>\n"
        "  <vcpu placement='static'>2</vcpu>\n"
        "  <cputune>\n"
        "    <shares>200</shares>\n"
        "    <vcpupin vcpu='0' cpuset='1'/>\n"
        "  </cputune>\n"
        "  <os>\n"
        "    <type>hvm</type>\n"
        "  </os>\n"
        "  <cpu mode='host-model'>\n"
        "    <topology sockets='1'/>\n"
        "    <feature policy='require' name='vmx'/>\n"
        "  </cpu>\n"
        "  <devices/>\n"
        "</domain>\n");
    nst_doc_free(doc);
}
END_TEST

START_TEST(test_remove_takes_whitespace)
{
    const char *text =
        "<domain type='kvm'>\n"
        "  <cpu mode='custom'>\n"
        "    <model>Skylake</model>\n"
        "    <vendor>Intel</vendor>\n"
        "  </cpu>\n"
        "  <memoryBacking>\n"
        "    <hugepages/>\n"
        "  </memoryBacking>\n"
        "</domain>";
    struct nst_doc *doc = parse_ok(text);
    xmlNodePtr root = nsti_doc_root(doc);
    xmlNodePtr cpu = nsti_child(root, "cpu");
    ck_assert_int_eq(nsti_remove(doc, nsti_child(cpu, "vendor")), 1);
    check_output(doc,
        "<domain type='kvm'>\n"
        "  <cpu mode='custom'>\n"
        "    <model>Skylake</model>\n"
        "  </cpu>\n"
        "  <memoryBacking>\n"
        "    <hugepages/>\n"
        "  </memoryBacking>\n"
        "</domain>");
    /* The last child gone: the element closes itself. */
    nsti_remove(doc, nsti_child(cpu, "model"));
    /* Children into an empty element nested two deep. */
    xmlNodePtr huge = nsti_child(nsti_child(root, "memoryBacking"),
                                "hugepages");
    xmlNodePtr page = nsti_insert(doc, huge, "page",
                                 (const char *[]){ "page", NULL });
    nsti_set_attr(doc, page, "size", "2048");
    check_output(doc,
        "<domain type='kvm'>\n"
        "  <cpu mode='custom'/>\n"
        "  <memoryBacking>\n"
        "    <hugepages>\n"
        "      <page size='2048'/>\n"
        "    </hugepages>\n"
        "  </memoryBacking>\n"
        "</domain>");
    nst_doc_free(doc);
}
END_TEST

START_TEST(test_set_text_escapes)
{
    struct nst_doc *doc = parse_ok("<domain><title>old</title></domain>");
    xmlNodePtr title = nsti_child(nsti_doc_root(doc), "title");
    ck_assert_int_eq(nsti_set_text(doc, title, "a<b&c"), 1);
    ck_assert_int_eq(nsti_set_text(doc, title, "a<b&c"), 0);
    nsti_set_attr(doc, title, "q", "it's \"x\"");
    check_output(doc, "<domain><title q='it&apos;s &quot;x&quot;'>"
                      "a&lt;b&amp;c</title></domain>");
    nst_doc_free(doc);
}
END_TEST

START_TEST(test_refusals)
{
    check_refused("<domain><name>x</domain>", 24, "line 1");
    check_refused("<capabilities/>", 15, "root element is <capabilities>");
    check_refused("", 0, "t.xml");
    check_refused("<domain>\0</domain>", 18, "NUL");
    check_refused("\xff\xfe<\0d\0", 6, "UTF-16");
    check_refused("<domain xmlns='urn:x'/>", 23, "expected <domain>");

    /* An external entity is never read: the DOCTYPE is refused first. */
    char path[] = "/tmp/nst-xxe-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "SECRET", 6), 6);
    close(fd);
    char *xxe = nst_printf("<!DOCTYPE domain [<!ENTITY x SYSTEM 'file://%s'>]>"
                           "<domain><name>&x;</name></domain>", path);
    check_refused(xxe, strlen(xxe), "DOCTYPE is not allowed");
    free(xxe);
    unlink(path);

    const char *bomb =
        "<!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'>"
        "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
        "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>"
        "<!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>]>"
        "<domain><name>&d;&d;&d;&d;&d;&d;&d;&d;</name></domain>";
    check_refused(bomb, strlen(bomb), "DOCTYPE is not allowed");
}
END_TEST

/* Parses out back (it must be well-formed); the caller frees the doc. */
static xmlDocPtr
reparse(const char *out)
{
    bool doctype;
    char *err = NULL;
    xmlDocPtr xml = nsti_xml_parse(out, strlen(out), &doctype, &err);
    ck_assert_msg(xml != NULL, "output does not parse: %s\n%s", err, out);
    return xml;
}

/*
 * libvirt's elements are in no namespace (libvirt 9.0 drops <x:cpu
 * xmlns:x='urn:x'> and <cpu xmlns='urn:y'> as unknown): lookups never
 * find an element in a namespace, so a rule adds libvirt's own and the
 * foreign ones keep their bytes, in <metadata> or elsewhere.
 */
START_TEST(test_foreign_elements_left_alone)
{
    const char *text =
        "<domain>\n"
        "  <metadata><app:cpu xmlns:app='urn:app' mode='a'/></metadata>\n"
        "  <x:cpu xmlns:x='urn:x' mode='host-model'/>\n"
        "  <cpu xmlns='urn:y' mode='custom'><model>m</model></cpu>\n"
        "  <vcpu xmlns:z='urn:z' z:placement='auto'>2</vcpu>\n"
        "</domain>\n";
    struct nst_doc *doc = parse_ok(text);
    xmlNodePtr root = nsti_doc_root(doc);
    ck_assert_ptr_null(nsti_child(root, "cpu"));
    ck_assert_uint_eq(nsti_count_children(root, "cpu"), 0);
    ck_assert_ptr_null(nsti_child(nsti_child(root, "metadata"), NULL));
    xmlNodePtr vcpu = nsti_child(root, "vcpu");
    ck_assert_ptr_null(nsti_attr(vcpu, "placement"));
    ck_assert_int_eq(nsti_remove_attr(doc, vcpu, "placement"), 0);
    bool created = false;
    xmlNodePtr cpu = nsti_ensure(doc, root, "cpu", nst_order_domain, &created);
    ck_assert(created);
    ck_assert_int_eq(nsti_set_attr(doc, cpu, "mode", "host-passthrough"), 1);
    ck_assert_ptr_nonnull(nsti_insert(doc, cpu, "feature", nst_order_cpu));
    check_output(doc,
        "<domain>\n"
        "  <metadata><app:cpu xmlns:app='urn:app' mode='a'/></metadata>\n"
        "  <x:cpu xmlns:x='urn:x' mode='host-model'/>\n"
        "  <cpu xmlns='urn:y' mode='custom'><model>m</model></cpu>\n"
        "  <vcpu xmlns:z='urn:z' z:placement='auto'>2</vcpu>\n"
        "  <cpu mode='host-passthrough'>\n"
        "    <feature/>\n"
        "  </cpu>\n"
        "</domain>\n");
    nst_doc_free(doc);
}
END_TEST

/*
 * Whatever an edit puts under an element in a namespace, the output is
 * well-formed and the new element is in no namespace: the end tag of a
 * prefixed element keeps its prefix, and an element written new under a
 * default namespace undeclares it.
 */
START_TEST(test_tags_match_in_namespaces)
{
    static const char *const texts[] = {
        "<domain><x:cpu xmlns:x='urn:x' mode='a'/></domain>",
        "<domain><x:cpu xmlns:x='urn:x' mode='a'>\n  </x:cpu></domain>",
        "<domain><cpu xmlns='urn:y'/></domain>",
        "<domain><x:cpu xmlns:x='urn:x' xmlns='urn:y'/></domain>",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
        struct nst_doc *doc = parse_ok(texts[i]);
        xmlNodePtr parent = xmlFirstElementChild(nsti_doc_root(doc));
        ck_assert_ptr_nonnull(nsti_insert(doc, parent, "feature",
                                         nst_order_cpu));
        nsti_set_attr(doc, parent, "mode", "b");
        char *out = nst_doc_serialize(doc, NULL);
        xmlDocPtr xml = reparse(out);
        xmlNodePtr back = xmlFirstElementChild(xmlDocGetRootElement(xml));
        ck_assert_str_eq((const char *)back->name, "cpu");
        ck_assert_ptr_nonnull(back->ns);
        xmlNodePtr feature = xmlFirstElementChild(back);
        ck_assert_msg(feature && !feature->ns, "feature lost: %s", out);
        xmlFreeDoc(xml);
        free(out);
        nst_doc_free(doc);
    }
}
END_TEST

static void
check_masked(const char *text, const char *expected)
{
    struct nst_doc *doc = parse_ok(text);
    size_t len = 0;
    char *masked = nst_doc_masked(doc, &len);
    ck_assert_str_eq(masked, expected);
    ck_assert_uint_eq(len, strlen(expected));
    free(masked);
    nst_doc_free(doc);
}

/*
 * Secrets are found in the parsed document, so every spelling is masked:
 * spaces around '=', a newline before the value, either quote, entities,
 * CDATA; cookies of a disk and of its backing store.  Nothing else moves.
 */
START_TEST(test_mask_secrets)
{
    check_masked("<domain><devices>"
                 "<graphics type='vnc' passwd='s3cret'/>"
                 "<graphics type=\"spice\" passwd = \"a'b\"/>"
                 "<graphics passwd=\n  'x' port='1'>"
                 "<listen type='none'/></graphics>"
                 "<graphics passwd='&#115;&amp;&apos;'/>"
                 "<graphics passwd=''/>"
                 "</devices></domain>",
                 "<domain><devices>"
                 "<graphics type='vnc' passwd='***'/>"
                 "<graphics type=\"spice\" passwd = \"***\"/>"
                 "<graphics passwd=\n  '***' port='1'>"
                 "<listen type='none'/></graphics>"
                 "<graphics passwd='***'/>"
                 "<graphics passwd='***'/>"
                 "</devices></domain>");
    check_masked("<domain><devices><disk type='network'>"
                 "<source protocol='https' name='/i'><cookies>\n"
                 "  <cookie name='a'>v1</cookie>\n"
                 "  <cookie name=\"b\"><![CDATA[v2]]>&amp;v3</cookie>\n"
                 "  <cookie name='empty'/>\n"
                 "</cookies></source><backingStore type='network'>"
                 "<source protocol='http'><cookies><cookie name='c'>v4"
                 "</cookie></cookies></source></backingStore>"
                 "</disk></devices></domain>",
                 "<domain><devices><disk type='network'>"
                 "<source protocol='https' name='/i'><cookies>\n"
                 "  <cookie name='a'>***</cookie>\n"
                 "  <cookie name=\"b\">***</cookie>\n"
                 "  <cookie name='empty'/>\n"
                 "</cookies></source><backingStore type='network'>"
                 "<source protocol='http'><cookies><cookie name='c'>***"
                 "</cookie></cookies></source></backingStore>"
                 "</disk></devices></domain>");
    /* Not secrets: look-alike names and text, kept byte for byte. */
    const char *plain =
        "<?xml version='1.0'?>\n<!-- passwd='c0' -->\n"
        "<domain><description>passwd='x' &lt;cookie&gt;y</description>"
        "<devices><graphics xpasswd='1' x:passwd='2' xmlns:x='urn:x' "
        "type='vnc' passwdValidTo='2030-01-01T00:00:00'/>"
        "<disk><source query='passwd=q'/></disk></devices></domain>\n";
    check_masked(plain, plain);
}
END_TEST

/* Messages that quote a secret (a stylesheet's xsl:message) are masked
 * by value: every occurrence, the longest secret first. */
START_TEST(test_mask_text)
{
    struct nst_doc *doc = parse_ok(
        "<domain><devices><graphics passwd='ab'/><graphics passwd='abc'/>"
        "<graphics passwd=''/><disk><source><cookies>"
        "<cookie name='n'>c&amp;d</cookie></cookies></source></disk>"
        "</devices></domain>");
    char *masked = nst_doc_mask_text(doc, "abcd ab c&d n passwd");
    ck_assert_str_eq(masked, "***d *** *** n passwd");
    free(masked);
    nst_doc_free(doc);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("xmledit");
    TCase *tc = tcase_create("xmledit");
    tcase_add_test(tc, test_identity_fixtures);
    tcase_add_test(tc, test_identity_odd_bytes);
    tcase_add_test(tc, test_set_attr_touches_one_tag);
    tcase_add_test(tc, test_insert_in_libvirt_order);
    tcase_add_test(tc, test_remove_takes_whitespace);
    tcase_add_test(tc, test_set_text_escapes);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_foreign_elements_left_alone);
    tcase_add_test(tc, test_tags_match_in_namespaces);
    tcase_add_test(tc, test_mask_secrets);
    tcase_add_test(tc, test_mask_text);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

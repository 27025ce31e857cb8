/*
 * test-xslt.c: xslt/nested.xsl against the engine, and the --xslt code
 *
 * The differential test: for every domain of tests/fixtures/domains/ and
 * tests/fixtures/xslt/domains/ (edge cases of <cpu> and its features),
 * the engine's "nested" output (vn_transform, the run of "virt-nestify
 * --file F --host-caps H --profile nested") and nested.xsl's output
 * (libxslt in this process, "xsltproc --stringparam vendor V") must be
 * the same document.  The comparison (vn_xml_same, cli/xslt.c) parses
 * both and removes every whitespace-only text node whose parent element
 * also has element children, then compares the canonical XML 1.0 forms
 * (with comments) byte for byte.  Why that normalisation and no other:
 * the engine keeps the input's indentation and gives new elements their
 * siblings' indentation and removed ones take theirs along, while
 * XSLT copies the whitespace it finds, so only indentation between
 * elements can differ; canonical XML makes quoting, attribute order,
 * empty-element tags and character references equal.  Whitespace inside
 * a text-only element (<description>  </description>) still counts.
 *
 * Hosts and vendors: the Intel fixture as Intel, with the engine's
 * built-in list of unknown features (--cpu-map none), which is the
 * stylesheet's list, and with libvirt's cpu_map; the AMD fixture as AMD
 * with the cpu_map (its svm comes from the EPYC-Rome model file).  With
 * the cpu_map the engine also removes every name the map lacks, so the
 * fixtures name only features that are in the map or in the list.
 *
 * Domains the engine refuses are excluded, each named in refused[] with
 * the reason; a refusal not listed there fails the test.
 */
#include <check.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxslt/transform.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>

#include "apply.h"
#include "internal.h"
#include "testutil.h"
#include "tool.h"

/* Refused by the engine, so not compared: the file, why, and what the
 * stylesheet says when it refuses too (NULL: it does not read what the
 * engine refuses). */
static const struct {
    const char *file;
    const char *why;
    const char *sheet_says;
} refused[] = {
    { "tests/fixtures/xslt/domains/refused-vcpu.xml",
      "<vcpu>0</vcpu>: the engine reads the vCPU count before any rule "
      "and refuses the domain; the stylesheet does not read <vcpu>", NULL },
    { "tests/fixtures/domains/sev-guest.xml",
      "<launchSecurity>: a confidential guest cannot run VMs of its own, "
      "and the nested profile asks for nothing else",
      "makes a confidential guest" },
    { "tests/fixtures/domains/sev-es-nested.xml",
      "<launchSecurity>: a confidential guest cannot run VMs of its own, "
      "and the nested profile asks for nothing else",
      "makes a confidential guest" },
};

static const struct {
    const char *host;
    const char *vendor;
    const char *cpu_map;         /* NULL: $NST_CPU_MAP */
} configs[] = {
    { "intel-e5-2697v4", "Intel", "none" },
    { "intel-e5-2697v4", "Intel", NULL },
    { "amd-epyc-7502p-nps4", "AMD", NULL },
};
#define NCONFIGS (sizeof(configs) / sizeof(*configs))

static char **domains;           /* paths below the source tree */
static size_t ndomains;

static int
xml_file(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && strcmp(e->d_name + n - 4, ".xml") == 0;
}

static void
list_domains(const char *reldir)
{
    char *dir = nst_printf("%s/%s", test_srcdir(), reldir);
    struct dirent **names;
    int n = scandir(dir, &names, xml_file, alphasort);

    if (n < 0) {
        fprintf(stderr, "cannot list %s\n", dir);
        exit(1);
    }
    domains = realloc(domains, (ndomains + (size_t)n) * sizeof(*domains));
    for (int i = 0; i < n; i++) {
        domains[ndomains++] = nst_printf("%s/%s", reldir, names[i]->d_name);
        free(names[i]);
    }
    free(names);
    free(dir);
}

static const char *
refusal_reason(const char *file, const char **sheet_says)
{
    *sheet_says = NULL;
    for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++)
        if (strcmp(refused[i].file, file) == 0) {
            *sheet_says = refused[i].sheet_says;
            return refused[i].why;
        }
    return NULL;
}

static xsltStylesheetPtr
load_nested(void)
{
    char *path = nst_printf("%s/xslt/nested.xsl", test_srcdir());
    xsltStylesheetPtr style = xsltParseStylesheetFile(BAD_CAST path);
    ck_assert_msg(style, "cannot load %s", path);
    free(path);
    return style;
}

/* messages libxslt prints, gathered for the tests that expect them */
static void gather(void *opaque, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
gather(void *opaque, const char *fmt, ...)
{
    struct nst_buf *buf = opaque;
    va_list ap;
    va_start(ap, fmt);
    char *text = nst_vprintf(fmt, ap);
    va_end(ap);
    nst_buf_adds(buf, text ? text : "");
    free(text);
}

/*
 * nested.xsl on text with vendor (an XPath string literal, or NULL for
 * none).  Returns the serialised result (caller frees) or NULL with
 * *messages (caller frees) what libxslt said.
 */
static char *
run_nested(xsltStylesheetPtr style, const char *text, size_t len,
           const char *vendor, char **messages)
{
    const char *params[] = { "vendor", vendor, NULL };
    struct nst_buf msgs = { 0 };
    xmlChar *out = NULL;
    int out_len = 0;
    char *ret = NULL;

    xmlDocPtr doc = xmlReadMemory(text, (int)len, "domain.xml", NULL,
                                  XML_PARSE_NONET);
    ck_assert(doc);
    xsltSetGenericErrorFunc(&msgs, gather);
    xmlDocPtr res = xsltApplyStylesheet(style, doc,
                                        vendor ? params : NULL);
    xsltSetGenericErrorFunc(NULL, NULL);
    if (res && xsltSaveResultToString(&out, &out_len, res, style) == 0 &&
        out) {
        ret = nst_printf("%.*s", out_len, (const char *)out);
    }
    xmlFree(out);
    xmlFreeDoc(res);
    xmlFreeDoc(doc);
    char *said = nst_buf_finish(&msgs, NULL);
    if (messages)
        *messages = said;
    else
        free(said);
    return ret;
}

/* One domain (_i) under every host configuration. */
START_TEST(test_differential)
{
    const char *file = domains[_i];
    size_t len;
    char *text = test_read_srcfile(file, &len);
    xsltStylesheetPtr style = load_nested();
    struct nst_profile profile;
    size_t nsrc;
    const struct nst_profile_source *src = nst_builtin_profiles(&nsrc);
    char *err = NULL;

    nst_profile_init(&profile);
    ck_assert_msg(nst_profile_compose(&profile, "nested", src, nsrc,
                                      &err) == 0, "%s", err);
    for (size_t c = 0; c < NCONFIGS; c++) {
        char *caps_path = nst_printf("tests/fixtures/hosts/%s.xml",
                                     configs[c].host);
        size_t caps_len;
        char *caps = test_read_srcfile(caps_path, &caps_len);
        const char *map = configs[c].cpu_map ? configs[c].cpu_map :
                          getenv("NST_CPU_MAP");
        struct nst_host *host = vn_host_build(caps, caps_len, caps_path,
                                              NULL, 0, map, &err);
        ck_assert_msg(host, "%s", err);

        struct vn_plan_opts o = { 0 };
        struct vn_result r;
        ck_assert_msg(vn_transform(&o, &profile, host, NULL, text, len, file,
                                   &r, &err) == 0, "%s: %s", file, err);
        const char *sheet_says;
        const char *why = refusal_reason(file, &sheet_says);
        if (r.refused) {
            ck_assert_msg(why, "%s on %s: refused by the engine but not in "
                          "refused[]: %s", file, configs[c].host,
                          r.report.findings.n ? r.report.findings.items[
                              r.report.findings.n - 1].message : "?");
            printf("excluded: %s on %s: %s\n", file, configs[c].host, why);
            if (sheet_says) {
                /* The stylesheet refuses it too, and says why. */
                char *vendor = nst_printf("'%s'", configs[c].vendor);
                char *said = NULL;
                char *sheet = run_nested(style, text, len, vendor, &said);
                ck_assert_msg(!sheet && said && strstr(said, sheet_says),
                              "%s: nested.xsl did not refuse it: %s", file,
                              said ? said : "(no message)");
                free(said);
                free(vendor);
            }
        } else {
            ck_assert_msg(!why, "%s is in refused[] but the engine "
                          "applied nested on %s", file, configs[c].host);
            char *vendor = nst_printf("'%s'", configs[c].vendor);
            char *said = NULL;
            char *sheet = run_nested(style, text, len, vendor, &said);
            ck_assert_msg(sheet, "%s: nested.xsl failed: %s", file, said);
            size_t a_len, b_len;
            char *a = vn_xml_canonical(r.out, r.out_len, &a_len);
            char *b = vn_xml_canonical(sheet, strlen(sheet), &b_len);
            ck_assert(a && b);
            if (strcmp(a, b) != 0)
                fprintf(stderr, "--- engine, canonical\n%s\n--- nested.xsl, "
                        "canonical\n%s\n", a, b);
            ck_assert_msg(strcmp(a, b) == 0,
                          "%s on %s (cpu_map %s): the engine and nested.xsl "
                          "differ (both on stderr)", file, configs[c].host,
                          map ? map : "default");
            free(a);
            free(b);
            free(sheet);
            free(said);
            free(vendor);
        }
        vn_result_clear(&r);
        nst_host_free(host);
        free(caps);
        free(caps_path);
    }
    nst_profile_clear(&profile);
    xsltFreeStylesheet(style);
    free(text);
}
END_TEST

/* The stylesheet's list of unknown features is lib/host-features.c's. */
START_TEST(test_unknown_list_in_sync)
{
    size_t len;
    char *host_c = test_read_srcfile("lib/host-features.c", &len);
    char *start = strstr(host_c, "bogus_features[] = {");
    ck_assert(start);
    char *end = strstr(start, "};");
    ck_assert(end);
    struct nst_buf list = { 0 };
    nst_buf_adds(&list, " ");
    for (char *q = start; (q = memchr(q, '"', (size_t)(end - q)));) {
        char *close = strchr(q + 1, '"');
        nst_buf_addf(&list, "%.*s ", (int)(close - q - 1), q + 1);
        q = close + 1;
    }
    char *from_c = nst_buf_finish(&list, NULL);

    char *path = nst_printf("%s/xslt/nested.xsl", test_srcdir());
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    ck_assert(doc);
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST "xsl",
                       BAD_CAST "http://www.w3.org/1999/XSL/Transform");
    xmlXPathObjectPtr sel = xmlXPathEvalExpression(
        BAD_CAST "string(/xsl:stylesheet/xsl:variable"
                 "[@name='unknown-features']/@select)", ctx);
    ck_assert(sel && sel->stringval);
    /* the select is an XPath literal: ' apicv ... vtpr ' */
    const char *lit = (const char *)sel->stringval;
    size_t n = strlen(lit);
    ck_assert(n >= 2 && lit[0] == '\'' && lit[n - 1] == '\'');
    ck_assert_msg(strlen(from_c) == n - 2 &&
                  strncmp(from_c, lit + 1, n - 2) == 0,
                  "nested.xsl's unknown-features is not lib/host-features.c's "
                  "bogus_features[]:\n  C:    '%s'\n  XSLT: %s", from_c, lit);
    /* and every name is one the engine treats as unknown */
    for (char *name = from_c + 1, *sp; (sp = strchr(name, ' '));
         name = sp + 1) {
        *sp = '\0';
        ck_assert_msg(nst_feature_is_known_bogus(name), "%s", name);
    }
    xmlXPathFreeObject(sel);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    free(path);
    free(from_c);
    free(host_c);
}
END_TEST

/* A missing or wrong vendor stops the stylesheet with a clear message. */
START_TEST(test_bad_vendor)
{
    static const char *const vendors[] = { NULL, "''", "'intel'",
                                           "'Intel '", "'ARM'" };
    size_t len;
    char *text = test_read_srcfile("tests/fixtures/domains/ubuntu-guest.xml",
                                   &len);
    xsltStylesheetPtr style = load_nested();

    for (size_t i = 0; i < sizeof(vendors) / sizeof(*vendors); i++) {
        char *said = NULL;
        char *out = run_nested(style, text, len, vendors[i], &said);
        ck_assert_msg(!out, "vendor %s: a result", vendors[i]);
        ck_assert_msg(strstr(said, "the vendor parameter must be 'Intel' "
                             "or 'AMD'"), "vendor %s: %s", vendors[i], said);
        free(said);
    }
    char *said = NULL;
    ck_assert(!run_nested(style, "<network/>", 10, "'AMD'", &said));
    ck_assert_msg(strstr(said, "not a libvirt domain"), "%s", said);
    free(said);
    xsltFreeStylesheet(style);
    free(text);
}
END_TEST

/* vn_xml_same: what counts and what does not. */
START_TEST(test_same)
{
    static const struct {
        const char *a, *b;
        int same;
    } cases[] = {
        { "<a x='1' y=\"2\"><b/></a>", "<a y='2'  x='1'>\n  <b></b>\n</a>", 1 },
        { "<a><b>t</b></a>", "<a><b> t</b></a>", 0 },
        { "<a><d>  </d></a>", "<a><d/></a>", 0 },
        { "<a><!--c--><b/></a>", "<a><b/></a>", 0 },
        { "<a>&#65;</a>", "<a>A</a>", 1 },
        { "<a><b/><c/></a>", "<a><c/><b/></a>", 0 },
        { "<a>", "<a/>", -1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        ck_assert_msg(vn_xml_same(cases[i].a, strlen(cases[i].a), cases[i].b,
                                  strlen(cases[i].b)) == cases[i].same,
                      "case %zu", i);
}
END_TEST

/* --xslt's loader and runner, in process (tests/cli/xslt.sh runs the
 * tool: exit codes, messages, files left alone). */
START_TEST(test_vn_xslt)
{
    char *dir = nst_printf("%s/xslt-test", getenv("HOME") ? getenv("HOME") :
                           "/tmp");
    char *sheet = nst_printf("%s/add.xsl", dir);
    char *err = NULL, *out = NULL;
    size_t out_len;
    static const char add[] =
        "<xsl:stylesheet version='1.0' "
        "xmlns:xsl='http://www.w3.org/1999/XSL/Transform'>"
        "<xsl:template match='@*|node()'><xsl:copy>"
        "<xsl:apply-templates select='@*|node()'/></xsl:copy></xsl:template>"
        "<xsl:template match='/domain'><xsl:copy>"
        "<xsl:apply-templates select='@*|node()'/><title>site</title>"
        "</xsl:copy></xsl:template></xsl:stylesheet>";
    static const char doctype[] =
        "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
        "<xsl:stylesheet version='1.0' "
        "xmlns:xsl='http://www.w3.org/1999/XSL/Transform'/>";

    char *cmd = nst_printf("mkdir -p '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    test_write_file(sheet, add, strlen(add));
    struct vn_xslt *x = vn_xslt_load(sheet, NULL, 0, &err);
    ck_assert_msg(x, "%s", err);
    ck_assert_int_eq(vn_xslt_apply(x, "<domain><name>d</name></domain>", 31,
                                   &out, &out_len, &err), 0);
    ck_assert_msg(strstr(out, "<title>site</title>"), "%s", out);
    ck_assert_int_eq(out_len, strlen(out));
    free(out);
    vn_xslt_free(x);

    test_write_file(sheet, doctype, strlen(doctype));
    ck_assert(!vn_xslt_load(sheet, NULL, 0, &err));
    ck_assert_msg(strstr(err, "DOCTYPE"), "%s", err);
    ck_assert_msg(!strchr(err, '\n'), "%s", err);
    free(err);
    err = NULL;
    vn_xslt_free(NULL);
    free(cmd);
    free(sheet);
    free(dir);
}
END_TEST

/* --xslt-param NAME=VALUE: what the option parser accepts. */
START_TEST(test_check_params)
{
    static const struct {
        const char *params[3];
        const char *error;       /* part of the error, NULL: accepted */
    } cases[] = {
        { { "p=1" }, NULL },
        { { "p=" }, NULL },
        { { "p=a=b'\"" }, NULL },
        { { "site:p=1" }, NULL },
        { { "p=1", "pp=2" }, NULL },
        { { "pp=1", "p=2" }, NULL },
        { { "p=\xc3\xa9\n\t" }, NULL },
        { { "p" }, "'p' is not NAME=VALUE" },
        { { "=1" }, "'' is not a parameter name" },
        { { "1p=1" }, "'1p' is not a parameter name" },
        { { "a b=1" }, "'a b' is not a parameter name" },
        { { "a:b:c=1" }, "'a:b:c' is not a parameter name" },
        { { "p=1", "p=1" }, "'p' is given twice" },
        { { "p=\x01" }, "'p' has a value that is not UTF-8" },
        { { "p=\xff" }, "'p' has a value that is not UTF-8" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *params[2] = { (char *)cases[i].params[0],
                            (char *)cases[i].params[1] };
        char *err = NULL;
        int r = vn_xslt_check_params(params, params[1] ? 2 : 1, &err);
        if (!cases[i].error) {
            ck_assert_msg(r == 0, "case %zu: %s", i, err);
            continue;
        }
        ck_assert_msg(r < 0, "case %zu accepted", i);
        ck_assert_msg(strstr(err, cases[i].error) &&
                      !strncmp(err, "--xslt-param: ", 14),
                      "case %zu: %s", i, err);
        free(err);
    }
}
END_TEST

static Suite *
xslt_suite(void)
{
    Suite *s = suite_create("xslt");
    TCase *tc = tcase_create("xslt");

    list_domains("tests/fixtures/domains");
    list_domains("tests/fixtures/xslt/domains");
    tcase_add_loop_test(tc, test_differential, 0, (int)ndomains);
    tcase_add_test(tc, test_unknown_list_in_sync);
    tcase_add_test(tc, test_bad_vendor);
    tcase_add_test(tc, test_same);
    tcase_add_test(tc, test_vn_xslt);
    tcase_add_test(tc, test_check_params);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    int ret = test_run_suite(xslt_suite());
    for (size_t i = 0; i < ndomains; i++)
        free(domains[i]);
    free(domains);
    return ret;
}

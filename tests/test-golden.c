/*
 * test-golden.c: domain + host + profile -> expected XML and report
 *
 * Every case compares byte for byte with tests/fixtures/expected/
 * DOMAIN--HOST--PROFILE.xml (absent when the profile is refused) and
 * .report (the text report).  Regenerate on purpose with
 * NST_TEST_REGENERATE_OUTPUT=1 and review the result in git diff.
 * Each output is also run again: a second run must change nothing.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "internal.h"
#include "testutil.h"

static const char *const domains[] = {
    "ubuntu-guest", "windows-guest", "custom-model", "existing-tuning",
    "seed-bogus", "big-guest", "cputune-full", "vcpus-hotplug", "vcpu-auto",
    "memtune-hotplug", "memory-ondemand", "small-guest-1g-pages",
    "memory-file", "memory-memfd-locked", "memory-file-hugepages",
    "sev-guest", "sev-es-nested", "numa-distances", "memory-hotplug",
    "numa-memaccess-mixed", "vcpu-auto-numa", "numa-pages-per-cell",
    "win10-guest", "win11-guest", "windows-enlightened",
    "io-virtio-blk", "io-scsi-sata", "io-interfaces",
};
/* host fixture, domain capabilities fixture or NULL */
static const char *const hosts[][2] = {
    { "intel-e5-2697v4", "intel-e5-2697v4-domcaps" },
    { "amd-epyc-7502p-nps4", NULL },
    { "small-nosmt", NULL },
    { "test-default", NULL },
};
static const char *const profiles[] = {
    "nested", "perf", "secure", "perf,secure",
};

/*
 * realtime is perf plus <vcpusched>, <locked/> and memtune, so it runs on
 * the domains whose shapes those meet, not the whole matrix: a plain
 * guest, one split over cells, the operator's own vcpusched (kept), pins
 * and memtune to replace, memory already locked without memtune, a
 * 1-vCPU guest (refused: no housekeeping vCPU), vCPU hotplug, a Windows
 * guest and memory hotplug (the hard limit covers maxMemory).
 */
static const char *const realtime_domains[] = {
    "ubuntu-guest", "big-guest", "cputune-full", "existing-tuning",
    "memory-memfd-locked", "small-guest-1g-pages", "vcpus-hotplug",
    "windows-guest", "memory-hotplug",
};

#define NDOMAINS (sizeof(domains) / sizeof(*domains))
#define NRTDOMAINS (sizeof(realtime_domains) / sizeof(*realtime_domains))
#define NHOSTS (sizeof(hosts) / sizeof(*hosts))
#define NPROFILES (sizeof(profiles) / sizeof(*profiles))

static void
load_profile(const char *names, struct nst_profile *profile)
{
    size_t n;
    const struct nst_profile_source *src = nst_builtin_profiles(&n);
    char *err = NULL;
    nst_profile_init(profile);
    ck_assert_msg(nst_profile_compose(profile, names, src, n, &err) == 0,
                  "%s", err);
}

/*
 * What the rules may change (docs/domain-coverage.md): these children of
 * <domain>, and of <devices> the memory devices (their target cell and
 * source nodemask follow the guest NUMA layout).  Everything else of the
 * input must come out as it went in.
 */
static const char *const managed[] = {
    "vcpu", "cputune", "memoryBacking", "memtune", "numatune", "cpu",
    "iothreads",
};
/* The I/O rules (rules-io.c): these attributes of a device's <driver>,
 * the <driver> itself when nothing else is left of it, and
 * <memballoon>. */
static const char *const managed_driver_attrs[][4] = {
    { "disk", "cache", "io", "iothread" },
    { "controller", "iothread", NULL, NULL },
    { "interface", "name", "queues", NULL },
};
/* ... and, inside them, <features><hyperv> and <clock>'s timers (the
 * hyperv rule's; only its hypervclock is added, so any other timer
 * changing would still show in the goldens' diff). */
static const char *const managed_children[][2] = {
    { "features", "hyperv" }, { "clock", "timer" },
};

/* Drops the managed attributes of a device's <driver>; whether nothing
 * is left of it. */
static bool
strip_driver(xmlNodePtr node)
{
    if (!xmlStrEqual(node->name, BAD_CAST "driver") || !node->parent)
        return false;
    for (size_t i = 0; i < sizeof(managed_driver_attrs) /
         sizeof(*managed_driver_attrs); i++) {
        if (!xmlStrEqual(node->parent->name,
                         BAD_CAST managed_driver_attrs[i][0]))
            continue;
        for (size_t a = 1; a < 4 && managed_driver_attrs[i][a]; a++) {
            xmlAttrPtr attr = xmlHasProp(node,
                                         BAD_CAST managed_driver_attrs[i][a]);
            if (attr)
                xmlRemoveProp(attr);
        }
        return !node->properties && !xmlFirstElementChild(node);
    }
    return false;
}

static bool
is_managed(xmlNodePtr node)
{
    if (node->type != XML_ELEMENT_NODE)
        return false;
    if ((xmlStrEqual(node->name, BAD_CAST "memory") ||
         xmlStrEqual(node->name, BAD_CAST "memballoon")) && node->parent &&
        xmlStrEqual(node->parent->name, BAD_CAST "devices"))
        return true;
    if (strip_driver(node))
        return true;
    for (size_t i = 0; i < sizeof(managed_children) /
         sizeof(*managed_children); i++)
        if (xmlStrEqual(node->name, BAD_CAST managed_children[i][1]) &&
            node->parent && xmlStrEqual(node->parent->name,
                                        BAD_CAST managed_children[i][0]))
            return true;
    if (node->parent && node->parent->type == XML_ELEMENT_NODE &&
        xmlStrEqual(node->parent->name, BAD_CAST "domain") &&
        !node->parent->parent->parent)
        for (size_t i = 0; i < sizeof(managed) / sizeof(*managed); i++)
            if (xmlStrEqual(node->name, BAD_CAST managed[i]))
                return true;
    return false;
}

static void
drop_managed(xmlNodePtr node)
{
    for (xmlNodePtr child = node->children, next; child; child = next) {
        next = child->next;
        if (is_managed(child)) {
            xmlUnlinkNode(child);
            xmlFreeNode(child);
        } else {
            drop_managed(child);
        }
    }
}

/* The document without what the rules manage, and without indentation
 * (an element added or removed brings or takes its own). */
static char *
unmanaged(const char *text, size_t len)
{
    xmlDocPtr doc = xmlReadMemory(text, (int)len, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    xmlChar *out = NULL;
    int out_len = 0;
    ck_assert_ptr_nonnull(doc);
    drop_managed(xmlDocGetRootElement(doc));
    xmlDocDumpMemory(doc, &out, &out_len);
    xmlFreeDoc(doc);
    char *copy = strdup((const char *)out);
    xmlFree(out);
    return copy;
}

/* One case: the domain fixture, hosts[h], the profile names. */
static void
run_case(const char *domain, size_t h, const char *profile_names)
{
    char *dom_path = nst_printf("tests/fixtures/domains/%s.xml", domain);
    size_t len, out_len;
    char *text = test_read_srcfile(dom_path, &len);
    struct nst_host *host = test_load_host(hosts[h][0], hosts[h][1]);
    struct nst_profile profile;
    struct nst_doc *doc = NULL;
    struct nst_report report;
    char *err = NULL;

    load_profile(profile_names, &profile);
    ck_assert_int_eq(nst_doc_parse(text, len, dom_path, &doc, &err), 0);
    nst_report_init(&report, nst_doc_domain_name(doc), profile.name);
    struct nst_apply_options opts = { .profile = &profile, .host = host };
    struct nst_plan plan;
    int ret = nst_apply(doc, &opts, &report, &plan);

    char *name = nst_printf("%s--%s--%s", domain, hosts[h][0],
                            profile_names);
    for (char *c = name; *c; c++)
        if (*c == ',')
            *c = '+';
    char *xml_path = nst_printf("tests/fixtures/expected/%s.xml", name);
    char *report_path = nst_printf("tests/fixtures/expected/%s.report", name);
    char *out = ret == 0 ? nst_doc_serialize(doc, &out_len) : NULL;
    char *report_text = nst_report_format_text(&report);
    ck_assert_int_eq(ret < 0, nst_report_count(&report, NST_ERROR) > 0);
    test_compare_expected(xml_path, out);
    test_compare_expected(report_path, report_text);

    if (out) {
        /* The plan is what the output holds, as read back from it. */
        struct nst_cpuset pins;
        struct nst_page_use *uses = NULL;
        size_t nuses = 0;
        nst_cpuset_clear_all(&pins);
        ck_assert_int_eq(nst_doc_vcpu_pins(doc, &pins, NULL), 0);
        ck_assert_msg(nst_cpuset_equal(&pins, &plan.vcpus), "%s: plan's "
                      "vCPU pins differ from the output's", name);
        if (nst_doc_page_use(doc, &uses, &nuses, NULL) == 0) {
            ck_assert_uint_eq(nuses, plan.npages);
            for (size_t i = 0; i < nuses; i++)
                ck_assert_msg(uses[i].host_cell == plan.pages[i].host_cell &&
                              uses[i].size_kib == plan.pages[i].size_kib &&
                              uses[i].pages == plan.pages[i].pages,
                              "%s: plan's page use %zu differs", name, i);
        } else {
            ck_assert_uint_eq(plan.npages, 0);
        }
        free(uses);
    }
    nst_plan_clear(&plan);

    if (out) {
        /* Nothing outside the managed elements changed. */
        char *before = unmanaged(text, len), *after = unmanaged(out, out_len);
        size_t at = 0;
        while (before[at] && before[at] == after[at])
            at++;
        at = at > 60 ? at - 60 : 0;
        ck_assert_msg(strcmp(before, after) == 0, "%s: changed outside the "
                      "managed elements: '%.160s' became '%.160s'", name,
                      before + at, after + at);
        free(before);
        free(after);
        /* Idempotent: the output, run again, changes nothing. */
        struct nst_doc *again = NULL;
        struct nst_report second;
        ck_assert_int_eq(nst_doc_parse(out, out_len, xml_path, &again, &err),
                         0);
        nst_report_init(&second, nst_doc_domain_name(again), profile.name);
        ck_assert_int_eq(nst_apply(again, &opts, &second, NULL), 0);
        char *second_text = nst_report_format_text(&second);
        ck_assert_msg(nst_report_count(&second, NST_CHANGE) == 0,
                      "%s: second run changed:\n%s", name, second_text);
        char *out2 = nst_doc_serialize(again, NULL);
        ck_assert_str_eq(out2, out);
        free(out2);
        free(second_text);
        nst_report_clear(&second);
        nst_doc_free(again);
    }

    free(out);
    free(report_text);
    free(xml_path);
    free(report_path);
    free(name);
    nst_report_clear(&report);
    nst_doc_free(doc);
    nst_profile_clear(&profile);
    nst_host_free(host);
    free(text);
    free(dom_path);
}

/* _i indexes domains x hosts x profiles. */
START_TEST(test_golden)
{
    run_case(domains[(size_t)_i / (NHOSTS * NPROFILES)],
             (size_t)_i / NPROFILES % NHOSTS,
             profiles[(size_t)_i % NPROFILES]);
}
END_TEST

/* _i indexes realtime_domains x hosts. */
START_TEST(test_golden_realtime)
{
    run_case(realtime_domains[(size_t)_i / NHOSTS], (size_t)_i % NHOSTS,
             "realtime");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("golden");
    TCase *tc = tcase_create("golden");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_golden, 0, NDOMAINS * NHOSTS * NPROFILES);
    tcase_add_loop_test(tc, test_golden_realtime, 0, NRTDOMAINS * NHOSTS);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

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

#include "internal.h"
#include "testutil.h"

static const char *const domains[] = {
    "ubuntu-guest", "windows-guest", "custom-model", "existing-tuning",
    "seed-bogus", "big-guest", "cputune-full", "vcpus-hotplug", "vcpu-auto",
    "memtune-hotplug", "memory-ondemand", "small-guest-1g-pages",
    "memory-file", "memory-memfd-locked", "memory-file-hugepages",
    "sev-guest", "sev-es-nested", "numa-distances", "memory-hotplug",
    "numa-memaccess-mixed", "vcpu-auto-numa",
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

#define NDOMAINS (sizeof(domains) / sizeof(*domains))
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

/* One case: _i indexes domains x hosts x profiles. */
START_TEST(test_golden)
{
    size_t d = (size_t)_i / (NHOSTS * NPROFILES);
    size_t h = (size_t)_i / NPROFILES % NHOSTS;
    size_t p = (size_t)_i % NPROFILES;
    char *dom_path = nst_printf("tests/fixtures/domains/%s.xml", domains[d]);
    size_t len, out_len;
    char *text = test_read_srcfile(dom_path, &len);
    struct nst_host *host = test_load_host(hosts[h][0], hosts[h][1]);
    struct nst_profile profile;
    struct nst_doc *doc = NULL;
    struct nst_report report;
    char *err = NULL;

    load_profile(profiles[p], &profile);
    ck_assert_int_eq(nst_doc_parse(text, len, dom_path, &doc, &err), 0);
    nst_report_init(&report, nst_doc_domain_name(doc), profile.name);
    struct nst_apply_options opts = { &profile, host, NULL, false };
    int ret = nst_apply(doc, &opts, &report);

    char *name = nst_printf("%s--%s--%s", domains[d], hosts[h][0],
                            profiles[p]);
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
        /* Idempotent: the output, run again, changes nothing. */
        struct nst_doc *again = NULL;
        struct nst_report second;
        ck_assert_int_eq(nst_doc_parse(out, out_len, xml_path, &again, &err),
                         0);
        nst_report_init(&second, nst_doc_domain_name(again), profile.name);
        ck_assert_int_eq(nst_apply(again, &opts, &second), 0);
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
END_TEST

int
main(void)
{
    Suite *s = suite_create("golden");
    TCase *tc = tcase_create("golden");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_golden, 0, NDOMAINS * NHOSTS * NPROFILES);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

/*
 * test-policy.c: each rule on small domains, one behaviour per test
 */
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

#define DOMAIN(vcpus, mem_kib, cpu) \
    "<domain type='kvm'>\n" \
    "  <name>t</name>\n" \
    "  <memory unit='KiB'>" mem_kib "</memory>\n" \
    "  <vcpu placement='static'>" vcpus "</vcpu>\n" \
    "  <os>\n" \
    "    <type arch='x86_64'>hvm</type>\n" \
    "  </os>\n" \
    cpu \
    "</domain>\n"

START_TEST(test_nested_intel_and_amd)
{
    const char *xml = DOMAIN("2", "2097152",
        "  <cpu mode='custom' match='exact'>\n"
        "    <model fallback='allow'>EPYC</model>\n"
        "    <topology sockets='1' dies='1' cores='2' threads='1'/>\n"
        "    <cache mode='passthrough'/>\n"
        "    <feature policy='require' name='svm'/>\n"
        "    <feature policy='disable' name='vmx'/>\n"
        "    <feature policy='require' name='pcid'/>\n"
        "    <feature policy='require' name='ept'/>\n"
        "  </cpu>\n");
    struct test_applied intel = { 0 }, amd = { 0 };

    test_apply(&intel, xml, "intel-e5-2697v4", "nested", NULL, false, NULL);
    ck_assert_int_eq(intel.ret, 0);
    HAS(intel, "<cpu mode='host-passthrough' check='none'>");
    HAS(intel, "<feature policy='require' name='vmx'/>");
    LACKS(intel, "svm");
    LACKS(intel, "'ept'");
    LACKS(intel, "<model");
    LACKS(intel, "disable");
    /* Valid things stay: topology, cache, other features. */
    HAS(intel, "<topology sockets='1' dies='1' cores='2' threads='1'/>");
    HAS(intel, "<cache mode='passthrough'/>");
    HAS(intel, "<feature policy='require' name='pcid'/>");
    SAYS(intel, "svm is AMD's");

    test_apply(&amd, xml, "amd-epyc-7502p-nps4", "nested", NULL, false, NULL);
    ck_assert_int_eq(amd.ret, 0);
    HAS(amd, "<feature policy='require' name='svm'/>");
    LACKS(amd, "vmx");
    test_applied_clear(&intel);
    test_applied_clear(&amd);
}
END_TEST

START_TEST(test_nested_refused_without_virt)
{
    struct test_applied res = { 0 };
    test_apply(&res, DOMAIN("2", "2097152", ""), "test-default", "nested", NULL,
          false, NULL);
    ck_assert_int_eq(res.ret, -1);
    ck_assert_ptr_null(res.xml);
    SAYS(res, "host CPU has no vmx or svm");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_nested_keeps_existing_require)
{
    const char *xml = DOMAIN("2", "2097152",
        "  <cpu mode='host-passthrough' check='none' migratable='on'>\n"
        "    <feature policy='optional' name='vmx'/>\n"
        "  </cpu>\n");
    struct test_applied res = { 0 };
    test_apply(&res, xml, "intel-e5-2697v4", "nested", NULL, false, NULL);
    HAS(res, "<cpu mode='host-passthrough' check='none' migratable='on'>\n"
             "    <feature policy='require' name='vmx'/>\n  </cpu>");
    ck_assert_uint_eq(nst_report_count(&res.r, NST_CHANGE), 1);
    test_applied_clear(&res);
}
END_TEST

/*
 * Every <launchSecurity> is a confidential guest, also the types libvirt
 * 9.0 does not parse (sev-snp, tdx) and any later one: nested alone is
 * refused naming the element, perf goes on with a warning (an error
 * with --strict) and leaves <cpu> and <launchSecurity> as they are.
 */
START_TEST(test_confidential_guests)
{
    static const struct { const char *element, *what; } kinds[] = {
        { "<launchSecurity type='sev'><policy>0x0001</policy>"
          "</launchSecurity>", "an AMD SEV guest" },
        { "<launchSecurity type='sev'><policy>0x0005</policy>"
          "</launchSecurity>", "an AMD SEV-ES guest" },
        { "<launchSecurity type='sev-snp'><policy>0x00030000</policy>"
          "</launchSecurity>", "an AMD SEV-SNP guest" },
        { "<launchSecurity type='tdx'><policy>0x10000000</policy>"
          "</launchSecurity>", "an Intel TDX guest" },
        { "<launchSecurity type='s390-pv'/>", "an IBM Secure Execution guest" },
        { "<launchSecurity type='cca'/>", "a confidential guest" },
    };
    struct test_applied res;

    for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
        char *xml = nst_printf(DOMAIN("2", "2097152",
                                      "  <cpu mode='host-model'/>\n"
                                      "  %s\n"), kinds[i].element);
        test_apply(&res, xml, "intel-e5-2697v4", "nested", NULL, false, NULL);
        ck_assert_int_eq(res.ret, -1);
        SAYS(res, "error    cpu-mode /domain/launchSecurity: ");
        SAYS(res, kinds[i].what);
        SAYS(res, "cannot run VMs of its own");
        test_applied_clear(&res);

        test_apply(&res, xml, "intel-e5-2697v4", "perf", NULL, false, NULL);
        ck_assert_int_eq(res.ret, 0);
        SAYS(res, "warning  cpu-mode /domain/launchSecurity: ");
        HAS(res, kinds[i].element);
        HAS(res, "<cpu mode='host-model'>");
        LACKS(res, "vmx");
        HAS(res, "<vcpupin");
        test_applied_clear(&res);

        test_apply(&res, xml, "intel-e5-2697v4", "perf", NULL, true, NULL);
        ck_assert_int_eq(res.ret, -1);
        SAYS(res, "(strict mode)");
        test_applied_clear(&res);
        free(xml);
    }

    /* A require of vmx already there stays, and the warning says it is
     * useless; without a nested key nothing is said at all. */
    const char *kept = DOMAIN("2", "2097152",
        "  <cpu mode='host-passthrough' check='none'>\n"
        "    <feature policy='require' name='vmx'/>\n"
        "  </cpu>\n"
        "  <launchSecurity type='tdx'/>\n");
    test_apply(&res, kept, "intel-e5-2697v4", "secure", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    SAYS(res, "and the 'vmx' it requires gives it nothing");
    HAS(res, "<feature policy='require' name='vmx'/>");
    test_applied_clear(&res);
    test_apply(&res, kept, "intel-e5-2697v4", "secure", NULL, false,
          "nested=off", NULL);
    ck_assert_int_eq(res.ret, 0);
    ck_assert_ptr_null(strstr(res.report, "launchSecurity"));
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_perf_pins_avoid_taken_and_housekeeping)
{
    struct nst_cpuset taken;
    nst_cpuset_parse("1-10,37-46", &taken, NULL);
    struct test_applied res = { 0 };
    test_apply(&res, DOMAIN("4", "4194304", ""), "intel-e5-2697v4", "perf",
          &taken, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    /* Cell 0 still has room after the taken CPUs: 11,47,12,48. */
    HAS(res, "<vcpupin vcpu='0' cpuset='11'/>");
    HAS(res, "<vcpupin vcpu='1' cpuset='47'/>");
    HAS(res, "<vcpupin vcpu='3' cpuset='48'/>");
    HAS(res, "<emulatorpin cpuset='0,36'/>");
    HAS(res, "<topology sockets='1' dies='1' cores='2' threads='2'/>");
    HAS(res, "<cell id='0' cpus='0-3' memory='4194304' unit='KiB'/>");
    HAS(res, "<memnode cellid='0' mode='strict' nodeset='0'/>");
    HAS(res, "<page size='1048576' unit='KiB' nodeset='0'/>");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_perf_split_over_cells)
{
    struct test_applied res = { 0 };
    test_apply(&res, DOMAIN("48", "100663296", ""), "intel-e5-2697v4", "perf",
          NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<cell id='0' cpus='0-23' memory='50331648' unit='KiB'>");
    HAS(res, "<cell id='1' cpus='24-47' memory='50331648' unit='KiB'>");
    HAS(res, "<sibling id='1' value='21'/>");    /* the host's distance */
    HAS(res, "<memory mode='strict' nodeset='0-1'/>");
    HAS(res, "<memnode cellid='1' mode='strict' nodeset='1'/>");
    HAS(res, "<topology sockets='2' dies='1' cores='12' threads='2'/>");
    HAS(res, "<emulatorpin cpuset='0,18,36,54'/>");
    /* vCPU 24 is the first of guest cell 1, on host cell 1. */
    HAS(res, "<vcpupin vcpu='24' cpuset='19'/>");
    /* 48 GiB per cell: 1 GiB pages (16 free) and 2 MiB (16 GiB) too few. */
    ck_assert_uint_eq(nst_report_count(&res.r, NST_WARNING), 1);
    SAYS(res, "warning  hugepages");
    LACKS(res, "<hugepages>");
    test_applied_clear(&res);

    test_apply(&res, DOMAIN("48", "100663296", ""), "intel-e5-2697v4", "perf",
          NULL, false, "split=off", NULL);
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "error    placement");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_perf_strict_turns_warning_into_error)
{
    struct test_applied res = { 0 };
    test_apply(&res, DOMAIN("2", "2097152", ""), "small-nosmt", "perf", NULL,
          true, NULL);
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "hugepages");
    SAYS(res, "(strict mode)");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_perf_hugepage_size_per_cell)
{
    /* AMD cell 0 has 1 GiB pages, cell 1 only 2 MiB pages. */
    struct nst_cpuset taken;
    nst_cpuset_parse("1-7,33-39", &taken, NULL);
    struct test_applied res = { 0 };
    test_apply(&res, DOMAIN("4", "4194304", ""), "amd-epyc-7502p-nps4", "perf",
          NULL, false, NULL);
    HAS(res, "<page size='1048576' unit='KiB' nodeset='0'/>");
    test_applied_clear(&res);
    test_apply(&res, DOMAIN("4", "4194304", ""), "amd-epyc-7502p-nps4", "perf",
          &taken, false, NULL);
    HAS(res, "<memnode cellid='0' mode='strict' nodeset='1'/>");
    HAS(res, "<page size='2048' unit='KiB' nodeset='0'/>");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_perf_iothreads_and_auto_placement)
{
    const char *xml =
        "<domain type='kvm'>\n"
        "  <name>t</name>\n"
        "  <memory unit='GiB'>2</memory>\n"
        "  <vcpu placement='auto' cpuset='0-3'>2</vcpu>\n"
        "  <iothreads>2</iothreads>\n"
        "  <numatune>\n"
        "    <memory mode='interleave' placement='auto'/>\n"
        "  </numatune>\n"
        "</domain>\n";
    struct test_applied res = { 0 };
    test_apply(&res, xml, "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<vcpu placement='static'>2</vcpu>");
    HAS(res, "<iothreadpin iothread='1' cpuset='0,36'/>");
    HAS(res, "<iothreadpin iothread='2' cpuset='0,36'/>");
    HAS(res, "<memory mode='strict' nodeset='0'/>");
    HAS(res, "<cell id='0' cpus='0-1' memory='2097152' unit='KiB'/>");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_secure_limits_and_mitigations)
{
    const char *xml = DOMAIN("4", "4194304",
        "  <cpu mode='host-passthrough'>\n"
        "    <feature policy='require' name='vmx'/>\n"
        "    <feature policy='disable' name='md-clear'/>\n"
        "    <feature policy='forbid' name='ssbd'/>\n"
        "    <feature policy='disable' name='invtsc'/>\n"
        "    <feature policy='require' name='spec-ctrl'/>\n"
        "  </cpu>\n");
    struct test_applied res = { 0 };
    test_apply(&res, xml, "intel-e5-2697v4", "secure", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    LACKS(res, "md-clear");
    LACKS(res, "ssbd");
    HAS(res, "<feature policy='disable' name='invtsc'/>");
    HAS(res, "<feature policy='require' name='spec-ctrl'/>");
    /* 4 GiB: 10% is 419430 KiB, below the 512 MiB minimum. */
    HAS(res, "<hard_limit unit='KiB'>4718592</hard_limit>");
    HAS(res, "<soft_limit unit='KiB'>4194304</soft_limit>");
    HAS(res, "<shares>400</shares>");
    HAS(res, "<period>100000</period>");
    HAS(res, "<quota>100000</quota>");
    test_applied_clear(&res);

    /* A big guest: 10% overhead, shares capped at cgroup v2's 10000. */
    test_apply(&res, DOMAIN("128", "268435456", ""), "intel-e5-2697v4", "secure",
          NULL, false, "cpu-quota-percent=50", NULL);
    HAS(res, "<hard_limit unit='KiB'>295279001</hard_limit>");
    HAS(res, "<shares>10000</shares>");
    HAS(res, "<quota>50000</quota>");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_secure_replaces_low_hard_limit_in_other_units)
{
    const char *xml =
        "<domain type='kvm'>\n"
        "  <name>t</name>\n"
        "  <memory unit='GiB'>8</memory>\n"
        "  <memtune>\n"
        "    <hard_limit unit='GiB'>8</hard_limit>\n"
        "    <swap_hard_limit unit='GiB'>8</swap_hard_limit>\n"
        "  </memtune>\n"
        "</domain>\n";
    struct test_applied res = { 0 };
    test_apply(&res, xml, "intel-e5-2697v4", "secure", NULL, false, NULL);
    HAS(res, "    <hard_limit unit='KiB'>9227468</hard_limit>\n"
             "    <soft_limit unit='KiB'>8388608</soft_limit>\n"
             "    <swap_hard_limit unit='KiB'>9227468</swap_hard_limit>\n");
    /* The operator's swap limit is not lost without a word. */
    SAYS(res, "swap_hard_limit 8388608 KiB -> 9227468 KiB");
    test_applied_clear(&res);
}
END_TEST

/*
 * What no golden can hold, as the QEMU driver of the tests refuses it:
 * <cachetune> and <memorytune> only for type='kvm' (the define test runs
 * type='qemu'), <min_guarantee> never.  No rule reads or writes them:
 * perf and secure keep their bytes (docs/domain-coverage.md).
 */
START_TEST(test_untouched_tuning_kept)
{
    const char *pins =
        "    <vcpupin vcpu='0' cpuset='2'/>\n"
        "    <vcpupin vcpu='1' cpuset='38'/>\n";
    const char *tuning =
        "    <cachetune vcpus='0'>\n"
        "      <cache id='0' level='3' type='both' size='3' unit='MiB'/>\n"
        "      <monitor level='3' vcpus='0'/>\n"
        "    </cachetune>\n"
        "    <memorytune vcpus='1'>\n"
        "      <node id='0' bandwidth='60'/>\n"
        "    </memorytune>\n";
    char *xml = nst_printf(
        "<domain type='kvm'>\n"
        "  <name>t</name>\n"
        "  <memory unit='GiB'>2</memory>\n"
        "  <memtune>\n"
        "    <min_guarantee unit='KiB'>1048576</min_guarantee>\n"
        "  </memtune>\n"
        "  <vcpu placement='static'>2</vcpu>\n"
        "  <cputune>\n"
        "%s%s"
        "  </cputune>\n"
        "</domain>\n", pins, tuning);
    struct test_applied res = { 0 };
    test_apply(&res, xml, "intel-e5-2697v4", "perf,secure", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, pins);    /* the placement keeps a good one */
    HAS(res, tuning);
    HAS(res, "    <min_guarantee unit='KiB'>1048576</min_guarantee>\n");
    test_applied_clear(&res);
    free(xml);
}
END_TEST

START_TEST(test_bad_domain_values)
{
    struct test_applied res = { 0 };
    test_apply(&res, DOMAIN("zero", "2097152", ""), "intel-e5-2697v4", "nested",
          NULL, false, NULL);
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "<vcpu> is not a vCPU count");
    test_applied_clear(&res);
    test_apply(&res, DOMAIN("2", "2 GiB", ""), "intel-e5-2697v4", "nested",
          NULL, false, NULL);
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "<memory> is missing");
    test_applied_clear(&res);
}
END_TEST

/* A guest placed well is not moved by a later run, even when a fresh
 * placement would now choose other CPUs; a bad placement is redone. */
START_TEST(test_existing_placement_is_kept)
{
    struct nst_cpuset taken;
    nst_cpuset_parse("1-10,37-46", &taken, NULL);
    struct test_applied first = { 0 }, again = { 0 }, moved = { 0 };
    test_apply(&first, DOMAIN("4", "4194304", ""), "intel-e5-2697v4", "perf",
          &taken, false, NULL);
    HAS(first, "<vcpupin vcpu='0' cpuset='11'/>");
    test_apply(&again, first.xml, "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(again.ret, 0);
    ck_assert_uint_eq(nst_report_count(&again.r, NST_CHANGE), 0);
    ck_assert_str_eq(again.xml, first.xml);
    /* Now CPU 11 is someone else's: the guest moves. */
    nst_cpuset_parse("11", &taken, NULL);
    test_apply(&moved, first.xml, "intel-e5-2697v4", "perf", &taken, false, NULL);
    HAS(moved, "<vcpupin vcpu='0' cpuset='1'/>");
    test_applied_clear(&first);
    test_applied_clear(&again);
    test_applied_clear(&moved);
}
END_TEST

/* A housekeeping list naming a CPU the host lacks is refused, naming
 * where it was set, before any rule runs; even a rule that does not use
 * it (nested) does not run with it. */
START_TEST(test_housekeeping_beyond_host_refused)
{
    static const char *const profiles[] = { "perf", "nested" };
    struct test_applied res = { 0 };

    for (size_t i = 0; i < 2; i++) {
        test_apply(&res, DOMAIN("2", "2097152", ""), "intel-e5-2697v4",
              profiles[i], NULL, false, "housekeeping=72", NULL);
        ck_assert_int_eq(res.ret, -1);
        ck_assert_ptr_null(res.xml);
        ck_assert_uint_eq(nst_report_count(&res.r, NST_CHANGE), 0);
        ck_assert_uint_eq(nst_report_count(&res.r, NST_ERROR), 1);
        ck_assert_str_eq(res.r.findings.items[0].rule, "profile");
        ck_assert_str_eq(res.r.findings.items[0].message,
                         "--set housekeeping=72: CPU 72 does not exist on "
                         "the host (CPUs 0-71)");
        test_applied_clear(&res);
    }
    /* Every missing CPU is named. */
    test_apply(&res, DOMAIN("2", "2097152", ""), "small-nosmt", "perf", NULL,
          false, "housekeeping=0,8-9,4095", NULL);
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "--set housekeeping=0,8-9,4095: CPUs 8-9,4095 do not exist "
              "on the host (CPUs 0-7)");
    test_applied_clear(&res);
    /* Within the host it is used. */
    test_apply(&res, DOMAIN("2", "2097152", ""), "intel-e5-2697v4", "perf", NULL,
          false, "housekeeping=71", NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<emulatorpin cpuset='71'/>");
    test_applied_clear(&res);
}
END_TEST

#define PINNED(vcpu0, vcpu1, emulator) \
    DOMAIN("2", "2097152", \
           "  <cputune>\n" \
           "    <vcpupin vcpu='0' cpuset='" vcpu0 "'/>\n" \
           "    <vcpupin vcpu='1' cpuset='" vcpu1 "'/>\n" \
           "    <emulatorpin cpuset='" emulator "'/>\n" \
           "  </cputune>\n")

/* Pins naming CPUs the host lacks define but never start: without the
 * pinning rule they are refused, not kept; with it they are placed
 * afresh and the report says why. */
START_TEST(test_pins_beyond_host)
{
    struct test_applied res = { 0 };

    test_apply(&res, PINNED("1", "80", "0"), "intel-e5-2697v4", "nested", NULL,
          false, NULL);
    ck_assert_int_eq(res.ret, -1);
    ck_assert_uint_eq(nst_report_count(&res.r, NST_CHANGE), 0);
    SAYS(res, "/domain/cputune/vcpupin[@vcpu='1']: CPU 80 does not exist on "
              "the host (CPUs 0-71): libvirt defines the domain but cannot "
              "start it");
    test_applied_clear(&res);

    test_apply(&res, PINNED("1", "2", "72-73"), "intel-e5-2697v4", "secure", NULL,
          false, NULL);
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "/domain/cputune/emulatorpin: CPUs 72-73 do not exist");
    test_applied_clear(&res);

    test_apply(&res, PINNED("1", "80", "90"), "intel-e5-2697v4", "perf", NULL,
          false, NULL);
    ck_assert_int_eq(res.ret, 0);
    SAYS(res, "the domain's pins name host CPUs 80,90, which the host does "
              "not have (CPUs 0-71): libvirt would not start it, so every "
              "pin is placed afresh");
    HAS(res, "<vcpupin vcpu='0' cpuset='1'/>");
    HAS(res, "<vcpupin vcpu='1' cpuset='37'/>");
    HAS(res, "<emulatorpin cpuset='0,36'/>");
    LACKS(res, "'80'");
    LACKS(res, "'90'");
    test_applied_clear(&res);

    /* Pins within the host are nobody's business here. */
    test_apply(&res, PINNED("1", "2", "0"), "intel-e5-2697v4", "nested", NULL,
          false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<vcpupin vcpu='1' cpuset='2'/>");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_deterministic)
{
    size_t len;
    char *xml = test_read_srcfile("tests/fixtures/domains/seed-bogus.xml",
                                  &len);
    struct test_applied a = { 0 }, b = { 0 };
    test_apply(&a, xml, "amd-epyc-7502p-nps4", "perf,secure", NULL, false, NULL);
    test_apply(&b, xml, "amd-epyc-7502p-nps4", "perf,secure", NULL, false, NULL);
    ck_assert_str_eq(a.xml, b.xml);
    ck_assert_str_eq(a.report, b.report);
    test_applied_clear(&a);
    test_applied_clear(&b);
    free(xml);
}
END_TEST

/* The rule table: names find their rules, and a profile runs a rule when
 * one of its switches is on (placement for any of pinning, numa,
 * hugepages; domain always). */
START_TEST(test_rule_table)
{
    const struct nst_rule_def *rules = nst_rules();
    struct nst_profile p;
    char *err = NULL;

    for (int r = 0; r < NST_RULE_LAST; r++) {
        ck_assert_ptr_nonnull(rules[r].name);
        ck_assert_ptr_nonnull(rules[r].description);
        ck_assert_int_eq(nst_rule_find(rules[r].name), r);
    }
    ck_assert_int_eq(nst_rule_find("internal"), NST_RULE_LAST);
    ck_assert_int_eq(nst_rule_find("profile"), NST_RULE_LAST);
    ck_assert_int_eq(nst_rule_find(NULL), NST_RULE_LAST);
    ck_assert_str_eq(rules[NST_RULE_PLACEMENT].name, "placement");

    nst_profile_init(&p);
    ck_assert(nst_rule_enabled(&p, NST_RULE_DOMAIN));
    ck_assert(!nst_rule_enabled(&p, NST_RULE_PLACEMENT));
    ck_assert(!nst_rule_enabled(&p, NST_RULE_LAST));
    ck_assert_int_eq(nst_profile_set(&p, "hugepages=on", "--set", &err), 0);
    ck_assert(nst_rule_enabled(&p, NST_RULE_PLACEMENT));
    ck_assert(nst_rule_enabled(&p, NST_RULE_HUGEPAGES));
    ck_assert(!nst_rule_enabled(&p, NST_RULE_VCPU_PINNING));
    ck_assert(!nst_rule_enabled(&p, NST_RULE_NUMATUNE));
    ck_assert_int_eq(nst_profile_set(&p, "nested=yes", "--set", &err), 0);
    ck_assert(nst_rule_enabled(&p, NST_RULE_CPU_MODE));
    ck_assert(nst_rule_enabled(&p, NST_RULE_CPU_FEATURE));
    ck_assert(!nst_rule_enabled(&p, NST_RULE_MEMTUNE));
    ck_assert(!nst_rule_enabled(&p, NST_RULE_HYPERV));
    ck_assert_int_eq(nst_profile_set(&p, "hyperv=on", "--set", &err), 0);
    ck_assert(nst_rule_enabled(&p, NST_RULE_HYPERV));
    ck_assert_str_eq(rules[NST_RULE_HYPERV].name, "hyperv");
    nst_profile_clear(&p);
}
END_TEST

/* Every entry of a report names a rule of the table (or "internal" /
 * "profile", which are no rule's), in the table's order: what verify
 * and bulk look up. */
START_TEST(test_report_names_rules)
{
    struct test_applied res = { 0 };
    int last = 0;

    test_apply(&res, DOMAIN("4", "4194304", ""), "amd-epyc-7502p-nps4",
          "perf,secure,nested", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    ck_assert_uint_gt(res.r.findings.n, 5);
    for (size_t i = 0; i < res.r.findings.n; i++) {
        int r = nst_rule_find(res.r.findings.items[i].rule);
        ck_assert_msg(r < NST_RULE_LAST, "%s", res.r.findings.items[i].rule);
        ck_assert_msg(r >= last, "%s after %s", res.r.findings.items[i].rule,
                      nst_rules()[last].name);
        last = r;
    }
    test_applied_clear(&res);
}
END_TEST

/* nst_doc_page_use on xml: "cell:size:pages" entries, space-separated. */
static char *
page_use(const char *xml)
{
    struct nst_doc *doc = NULL;
    struct nst_page_use *uses;
    size_t n;
    char *err = NULL;
    struct nst_buf buf = { 0 };

    ck_assert_msg(nst_doc_parse(xml, strlen(xml), "t.xml", &doc, &err) == 0,
                  "%s", err);
    if (nst_doc_page_use(doc, &uses, &n, &err) < 0) {
        nst_doc_free(doc);
        return err;
    }
    for (size_t i = 0; i < n; i++)
        nst_buf_addf(&buf, "%s%u:%llu:%llu", i ? " " : "", uses[i].host_cell,
                     uses[i].size_kib, uses[i].pages);
    free(uses);
    nst_doc_free(doc);
    return nst_buf_finish(&buf, NULL);
}

#define NUMA_DOMAIN(pages) \
    "<domain type='kvm'><name>t</name>" \
    "<memory unit='GiB'>8</memory><vcpu>4</vcpu>" \
    "<memoryBacking><hugepages>" pages "</hugepages></memoryBacking>" \
    "<cpu><numa><cell id='0' cpus='0-1' memory='4' unit='GiB'/>" \
    "<cell id='1' cpus='2-3' memory='4194304'/></numa></cpu>" \
    "<numatune><memory mode='strict' nodeset='1-2'/>" \
    "<memnode cellid='0' mode='strict' nodeset='1'/>" \
    "<memnode cellid='1' mode='strict' nodeset='2'/></numatune>" \
    "</domain>"
#define FLAT_DOMAIN(numatune) \
    "<domain type='kvm'><name>t</name>" \
    "<memory unit='MiB'>1024</memory><vcpu>1</vcpu>" \
    "<memoryBacking><hugepages><page size='2048'/></hugepages>" \
    "</memoryBacking>" numatune "</domain>"

START_TEST(test_page_use)
{
    static const struct { const char *xml, *want; } cases[] = {
        { NUMA_DOMAIN("<page size='1' unit='GiB'/>"),
          "1:1048576:4 2:1048576:4" },
        /* Sizes by nodeset; a part of a page is a whole page. */
        { NUMA_DOMAIN("<page size='1048576' nodeset='0'/>"
                      "<page size='3' unit='MiB' nodeset='1'/>"),
          "1:1048576:4 2:3072:1366" },
        { NUMA_DOMAIN(""), "" },                  /* the kernel's size */
        { NUMA_DOMAIN("<page size='0'/>"),
          "domain 't': invalid hugepage or memory size" },
        /* Without guest NUMA: <memory> on the cell numatune binds. */
        { FLAT_DOMAIN("<numatune><memory mode='strict' nodeset='3'/>"
                      "</numatune>"), "3:2048:512" },
        { FLAT_DOMAIN("<numatune><memory mode='strict' nodeset='0-1'/>"
                      "</numatune>"), "" },       /* the kernel's cell */
        { FLAT_DOMAIN(""), "" },
        /* preferred: its node gives the pages while it has them */
        { FLAT_DOMAIN("<numatune><memory mode='preferred' nodeset='2'/>"
                      "</numatune>"), "2:2048:512" },
        /* a memnode overrides <memory> for its guest cell */
        { "<domain type='kvm'><name>t</name>"
          "<memory unit='GiB'>8</memory><vcpu>4</vcpu>"
          "<memoryBacking><hugepages><page size='1' unit='GiB'/>"
          "</hugepages></memoryBacking>"
          "<cpu><numa><cell id='0' cpus='0-1' memory='4' unit='GiB'/>"
          "<cell id='1' cpus='2-3' memory='4' unit='GiB'/></numa></cpu>"
          "<numatune><memory mode='strict' nodeset='3'/>"
          "<memnode cellid='1' mode='preferred' nodeset='0'/></numatune>"
          "</domain>", "3:1048576:4 0:1048576:4" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = page_use(cases[i].xml);
        ck_assert_msg(strcmp(got, cases[i].want) == 0, "case %zu: '%s'", i,
                      got);
        free(got);
    }
}
END_TEST

/* What the hugepages rule plans is what nst_doc_page_use reads back. */
START_TEST(test_page_use_of_a_plan)
{
    struct test_applied res = { 0 };
    test_apply(&res, DOMAIN("4", "4194304", ""), "amd-epyc-7502p-nps4", "perf",
          NULL, false, NULL);
    HAS(res, "<page size='1048576' unit='KiB' nodeset='0'/>");
    char *got = page_use(res.xml);
    ck_assert_str_eq(got, "0:1048576:4");
    free(got);
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_host_clone)
{
    struct nst_host *host = test_load_host("amd-epyc-7502p-nps4", NULL);
    struct nst_host *copy = nst_host_clone(host);
    ck_assert_ptr_nonnull(copy);
    ck_assert_int_eq(copy->ncells, host->ncells);
    ck_assert_int_eq(copy->ncpus, host->ncpus);
    ck_assert_str_eq(copy->arch, host->arch);
    ck_assert_int_eq(copy->nknown_features, host->nknown_features);
    const struct nst_pages *pages = &nst_host_cell(host, 0)->pages[1];
    unsigned long long before = pages->free;
    ck_assert_int_eq(nst_host_set_free_pages(copy, 0, pages->size_kib, 0,
                                             NULL), 0);
    ck_assert_int_eq(nst_host_cell(copy, 0)->pages[1].free, 0);
    ck_assert_int_eq(pages->free, before);       /* the original keeps its */
    nst_host_free(copy);
    nst_host_free(host);
}
END_TEST

/* ------------------------------------------- memoryBacking (issue 13) */

#define BACKED(mem_kib, backing) \
    "<domain type='kvm'>\n" \
    "  <name>t</name>\n" \
    "  <memory unit='KiB'>" mem_kib "</memory>\n" \
    "  <memoryBacking>\n" backing "  </memoryBacking>\n" \
    "  <vcpu placement='static'>2</vcpu>\n" \
    "  <os>\n" \
    "    <type arch='x86_64'>hvm</type>\n" \
    "  </os>\n" \
    "</domain>\n"

#define ONDEMAND \
    "    <source type='anonymous'/>\n" \
    "    <access mode='private'/>\n" \
    "    <allocation mode='ondemand'/>\n"

/* Issue 13, problem 1: libvirt refuses hugepages beside on-demand
 * allocation; perf keeps the operator's choice and says why. */
START_TEST(test_perf_no_hugepages_beside_ondemand)
{
    struct test_applied res = { 0 };
    test_apply(&res, BACKED("4194304", ONDEMAND), "intel-e5-2697v4", "perf",
          NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    LACKS(res, "<hugepages");
    HAS(res, "  <memoryBacking>\n" ONDEMAND "  </memoryBacking>\n");
    SAYS(res, "warning  hugepages /domain/memoryBacking: no <hugepages> "
         "added: <memoryBacking> has <allocation mode='ondemand'/>, kept "
         "as chosen, and libvirt refuses hugepages");
    HAS(res, "<memnode cellid='0' mode='strict' nodeset='0'/>");
    test_applied_clear(&res);

    /* An anonymous source alone blocks them as well. */
    test_apply(&res, BACKED("4194304", "    <source type='anonymous'/>\n"),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    LACKS(res, "<hugepages");
    SAYS(res, "<source type='anonymous'/>, kept as chosen, and libvirt "
         "refuses hugepages with an anonymous memory source");
    test_applied_clear(&res);

    /* --strict: the warning stops the run. */
    test_apply(&res, BACKED("4194304", ONDEMAND), "intel-e5-2697v4", "perf",
          NULL, true, NULL);
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "(strict mode)");
    test_applied_clear(&res);
}
END_TEST

/* An input holding both is one libvirt refuses: which goes is the
 * operator's call, so perf refuses it. */
START_TEST(test_perf_refuses_hugepages_with_ondemand)
{
    struct test_applied res = { 0 };
    test_apply(&res, BACKED("4194304",
                       "    <hugepages/>\n"
                       "    <allocation mode='ondemand'/>\n"),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, -1);
    ck_assert_ptr_null(res.xml);
    SAYS(res, "error    hugepages /domain/memoryBacking: <hugepages> beside "
         "<allocation mode='ondemand'/>: libvirt refuses hugepages with "
         "memory allocated on demand");
    SAYS(res, "remove one of them");
    test_applied_clear(&res);

    /* The nested profile does not manage memory: it passes it through. */
    test_apply(&res, BACKED("4194304",
                       "    <hugepages/>\n"
                       "    <allocation mode='ondemand'/>\n"),
          "intel-e5-2697v4", "nested", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    test_applied_clear(&res);
}
END_TEST

/* A file source: libvirt accepts hugepages beside it, but they would
 * replace the file; none are added, chosen ones are kept and sized. */
START_TEST(test_perf_file_source)
{
    struct test_applied res = { 0 };
    test_apply(&res, BACKED("4194304", "    <source type='file'/>\n"
                       "    <access mode='shared'/>\n"),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    LACKS(res, "<hugepages");
    SAYS(res, "<source type='file'/>, kept as chosen, and hugepages would "
         "take the place of the file-backed memory");
    test_applied_clear(&res);

    test_apply(&res, BACKED("4194304",
                       "    <hugepages>\n"
                       "      <page size='2048' unit='KiB'/>\n"
                       "    </hugepages>\n"
                       "    <source type='file'/>\n"),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<page size='1048576' unit='KiB' nodeset='0'/>");
    HAS(res, "<source type='file'/>");
    ck_assert_uint_eq(nst_report_count(&res.r, NST_WARNING), 0);
    test_applied_clear(&res);
}
END_TEST

/* memfd, locked, nosharepages, discard, immediate allocation with
 * threads all go with hugepages: added beside them, all kept. */
START_TEST(test_perf_memfd_gets_hugepages)
{
    static const char *const kept =
        "    <nosharepages/>\n"
        "    <locked/>\n"
        "    <source type='memfd'/>\n"
        "    <access mode='shared'/>\n"
        "    <allocation mode='immediate' threads='2'/>\n"
        "    <discard/>\n";
    struct test_applied res = { 0 };
    test_apply(&res, BACKED("4194304",
                       "    <nosharepages/>\n"
                       "    <locked/>\n"
                       "    <source type='memfd'/>\n"
                       "    <access mode='shared'/>\n"
                       "    <allocation mode='immediate' threads='2'/>\n"
                       "    <discard/>\n"),
          "intel-e5-2697v4", "perf,secure", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "  <memoryBacking>\n"
             "    <hugepages>\n"
             "      <page size='1048576' unit='KiB' nodeset='0'/>\n"
             "    </hugepages>\n");
    HAS(res, kept);
    /* the hard limit, which libvirt also makes the memlock limit of a
     * <locked/> guest, is the memory plus QEMU's overhead */
    HAS(res, "<hard_limit unit='KiB'>4718592</hard_limit>");
    ck_assert_uint_eq(nst_report_count(&res.r, NST_WARNING), 0);
    test_applied_clear(&res);
}
END_TEST

/* Runs perf on xml against host (owned by the caller). */
static void
apply_on_host(struct test_applied *res, const char *xml, struct nst_host *host)
{
    struct nst_profile profile;
    struct nst_doc *doc = NULL;
    size_t n;
    const struct nst_profile_source *src = nst_builtin_profiles(&n);
    char *err = NULL;

    nst_profile_init(&profile);
    ck_assert_int_eq(nst_profile_compose(&profile, "perf", src, n, &err), 0);
    ck_assert_int_eq(nst_doc_parse(xml, strlen(xml), "t.xml", &doc, &err),
                     0);
    nst_report_init(&res->r, "t", profile.name);
    struct nst_apply_options opts = { .profile = &profile, .host = host };
    res->ret = nst_apply(doc, &opts, &res->r, NULL);
    res->xml = res->ret == 0 ? nst_doc_serialize(doc, NULL) : NULL;
    res->report = nst_report_format_text(&res->r);
    nst_doc_free(doc);
    nst_profile_clear(&profile);
}

/* Issue 13, problem 5: a node with 16 free 1 GiB pages and its 2 MiB
 * pages taken is not short of pages for a 214 MiB guest: the 1 GiB
 * size is larger than the guest, and the 2 MiB count is short. */
START_TEST(test_perf_hugepage_shortfall_says_what)
{
    struct nst_host *host = test_load_host("intel-e5-2697v4", NULL);
    struct test_applied res = { 0 };

    for (unsigned int cell = 0; cell < 2; cell++)
        ck_assert_int_eq(nst_host_set_free_pages(host, cell, 2048, 0, NULL),
                         0);
    apply_on_host(&res, BACKED("219136", "    <hugepages/>\n"), host);
    ck_assert_int_eq(res.ret, 0);
    LACKS(res, "<hugepages");
    SAYS(res, "warning  hugepages /domain/memoryBacking: no hugepage size "
         "of host node 0 can back the guest's 219136 KiB: 2048 KiB pages: "
         "107 needed, 0 free; 1048576 KiB pages are larger than the "
         "guest's memory; the guest stays on normal pages");
    SAYS(res, "change   hugepages /domain/memoryBacking/hugepages: removed "
         "<hugepages>: no hugepage size of host node 0 can back the "
         "guest's 219136 KiB: 2048 KiB pages: 107 needed, 0 free; 1048576 "
         "KiB pages are larger than the guest's memory, so the guest would "
         "not start with them");
    test_applied_clear(&res);

    /* 215 MiB is not a whole number of 2 MiB pages: that is said, not a
     * count, although 8192 are free again. */
    ck_assert_int_eq(nst_host_set_free_pages(host, 0, 2048, 8192, NULL), 0);
    apply_on_host(&res, BACKED("220160", "    <hugepages/>\n"), host);
    SAYS(res, "2048 KiB pages do not divide the guest's memory (220160 KiB "
         "is not a whole number of them); 1048576 KiB pages are larger "
         "than the guest's memory");
    test_applied_clear(&res);
    nst_host_free(host);
}
END_TEST

/* ------------------------------------------ guest NUMA and memory hotplug */

/* Guest cells with their children; vCPUs and memory are filled in. */
#define CELLS_DOMAIN(vcpus, mem_kib, numa, devices) \
    "<domain type='kvm'>\n" \
    "  <name>t</name>\n" \
    "  <maxMemory slots='8' unit='KiB'>134217728</maxMemory>\n" \
    "  <memory unit='KiB'>" mem_kib "</memory>\n" \
    "  <vcpu placement='static'>" vcpus "</vcpu>\n" \
    "  <os>\n" \
    "    <type arch='x86_64'>hvm</type>\n" \
    "  </os>\n" \
    "  <cpu mode='host-passthrough'>\n" \
    "    <numa>\n" numa "    </numa>\n" \
    "  </cpu>\n" \
    "  <devices>\n" devices "  </devices>\n" \
    "</domain>\n"
#define DIST4(i, a, b, c, d) \
    "      <cell id='" i "' cpus='" i "' memory='1048576' unit='KiB'>\n" \
    "        <distances>\n" \
    "          <sibling id='0' value='" a "'/>\n" \
    "          <sibling id='1' value='" b "'/>\n" \
    "          <sibling id='2' value='" c "'/>\n" \
    "          <sibling id='3' value='" d "'/>\n" \
    "        </distances>\n" \
    "      </cell>\n"
#define FOUR_CELLS \
    DIST4("0", "10", "15", "20", "20") DIST4("1", "15", "10", "20", "20") \
    DIST4("2", "20", "20", "10", "15") DIST4("3", "20", "20", "15", "10")
#define DIMM(size_kib, node) \
    "    <memory model='dimm'>\n" \
    "      <target>\n" \
    "        <size unit='KiB'>" size_kib "</size>\n" \
    "        <node>" node "</node>\n" \
    "      </target>\n" \
    "    </memory>\n"

/* Pages per guest cell (formatdomain's example shape) on a domain whose
 * four cells perf folds into one, hugepages key off: the nodesets keep
 * the cells that still exist, a page naming only removed cells goes, and
 * with none left the last page covers every cell.  A nodeset naming a
 * removed cell is one libvirt refuses. */
#define PAGES_DOMAIN(pages) \
    "<domain type='kvm'>\n" \
    "  <name>t</name>\n" \
    "  <memory unit='KiB'>4194304</memory>\n" \
    "  <memoryBacking>\n" \
    "    <hugepages>\n" pages "    </hugepages>\n" \
    "  </memoryBacking>\n" \
    "  <vcpu placement='static'>4</vcpu>\n" \
    "  <os>\n" \
    "    <type arch='x86_64'>hvm</type>\n" \
    "  </os>\n" \
    "  <cpu mode='host-passthrough'>\n" \
    "    <numa>\n" FOUR_CELLS "    </numa>\n" \
    "  </cpu>\n" \
    "</domain>\n"

START_TEST(test_page_nodesets_follow_cells)
{
    struct test_applied res = { 0 };
    test_apply(&res, PAGES_DOMAIN("      <page size='1' unit='G' nodeset='0,2'/>\n"
                             "      <page size='2' unit='M' nodeset='1,3'/>\n"),
          "intel-e5-2697v4", "perf", NULL, false, "hugepages=off", NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<page size='1' unit='G' nodeset='0'/>\n    </hugepages>");
    LACKS(res, "unit='M'");
    SAYS(res, "change   guest-numa /domain/memoryBacking/hugepages/page: "
              "<page nodeset='0,2'> keeps the guest cells that still exist");
    SAYS(res, "<page nodeset='1,3'> removed: every guest cell it named is "
              "gone");
    test_applied_clear(&res);

    test_apply(&res, PAGES_DOMAIN("      <page size='2' unit='M' nodeset='3'/>\n"),
          "intel-e5-2697v4", "perf", NULL, false, "hugepages=off", NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<page size='2' unit='M'/>");
    SAYS(res, "<page nodeset='3'> now covers every guest cell");
    test_applied_clear(&res);
}
END_TEST

/* 2 GiB in all, but 1.5 GiB of its own and a 512 MiB DIMM: QEMU backs
 * each on its own, so 1 GiB pages (which divide the sum) would not
 * start; perf takes 2 MiB ones. */
START_TEST(test_hugepages_divide_every_piece)
{
    struct test_applied res = { 0 };
    test_apply(&res, CELLS_DOMAIN("2", "2097152",
        "      <cell id='0' cpus='0-1' memory='1572864' unit='KiB'/>\n",
        DIMM("524288", "0")),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<page size='2048' unit='KiB'");
    LACKS(res, "<page size='1048576'");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_numa_stale_distances_dropped)
{
    struct test_applied res = { 0 };
    /* 4 cells folded into one: cell 0 keeps only its own distance. */
    test_apply(&res, CELLS_DOMAIN("4", "4194304", FOUR_CELLS, ""),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<cell id='0' cpus='0-3' memory='4194304' unit='KiB'>\n"
             "        <distances>\n"
             "          <sibling id='0' value='10'/>\n"
             "        </distances>\n"
             "      </cell>\n");
    LACKS(res, "<sibling id='1'");
    SAYS(res, "warning  guest-numa /domain/cpu/numa/cell/distances: dropped "
              "<distances> siblings naming guest cell(s) 1-3 from cell(s) 0");
    test_applied_clear(&res);

    /* --strict: dropping what the user wrote stops the run. */
    test_apply(&res, CELLS_DOMAIN("4", "4194304", FOUR_CELLS, ""),
          "intel-e5-2697v4", "perf", NULL, true, NULL);
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "(strict mode)");
    test_applied_clear(&res);

    /* Without host distances (one host cell) a lone cell stays as is. */
    test_apply(&res, CELLS_DOMAIN("2", "2097152",
                             "      <cell id='0' cpus='0-1' memory='2097152' "
                             "unit='KiB'>\n        <distances>\n"
                             "          <sibling id='0' value='10'/>\n"
                             "        </distances>\n      </cell>\n", ""),
          "small-nosmt", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<sibling id='0' value='10'/>");
    ck_assert(!strstr(res.report, "guest-numa /domain/cpu/numa/cell/dist"));
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_numa_distances_from_host)
{
    struct test_applied res = { 0 };
    /* Split over both Intel cells: the guest gets the host's 10/21, the
     * input's siblings 2 and 3 go. */
    test_apply(&res, CELLS_DOMAIN("48", "100663296", FOUR_CELLS, ""),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<cell id='0' cpus='0-23' memory='50331648' unit='KiB'>\n"
             "        <distances>\n"
             "          <sibling id='0' value='10'/>\n"
             "          <sibling id='1' value='21'/>\n"
             "        </distances>\n");
    HAS(res, "<cell id='1' cpus='24-47' memory='50331648' unit='KiB'>\n"
             "        <distances>\n"
             "          <sibling id='0' value='21'/>\n"
             "          <sibling id='1' value='10'/>\n"
             "        </distances>\n");
    LACKS(res, "<sibling id='2'");
    SAYS(res, "guest cell distances are those of host cells 0-1");
    SAYS(res, "naming guest cell(s) 2-3 from cell(s) 0-1");
    test_applied_clear(&res);

    /* Host distances unknown: the remote value the input gave stays. */
    struct nst_host *host = test_load_host("intel-e5-2697v4", NULL);
    ck_assert_uint_eq(nst_host_distance(host, 0, 1), 21);
    ck_assert_uint_eq(nst_host_distance(host, 1, 1), 10);
    ck_assert_uint_eq(nst_host_distance(host, 0, 7), 0);
    nst_host_free(host);
}
END_TEST

START_TEST(test_numa_interconnects_and_cache)
{
    struct test_applied res = { 0 };
    test_apply(&res, CELLS_DOMAIN("4", "4194304",
        "      <cell id='0' cpus='0-1' memory='2097152' unit='KiB'>\n"
        "        <cache level='1' associativity='direct' policy='writeback'>\n"
        "          <size value='10' unit='KiB'/>\n"
        "          <line value='8' unit='B'/>\n"
        "        </cache>\n"
        "      </cell>\n"
        "      <cell id='1' cpus='2-3' memory='2097152' unit='KiB'>\n"
        "        <cache level='1' associativity='direct' policy='writeback'>\n"
        "          <size value='10' unit='KiB'/>\n"
        "          <line value='8' unit='B'/>\n"
        "        </cache>\n"
        "      </cell>\n"
        "      <interconnects>\n"
        "        <latency initiator='0' target='0' type='access' value='5'/>\n"
        "        <latency initiator='1' target='0' type='access' value='9'/>\n"
        "        <bandwidth initiator='0' target='0' cache='2' type='access' "
        "value='1' unit='KiB'/>\n"
        "        <bandwidth initiator='0' target='0' cache='1' type='access' "
        "value='2' unit='KiB'/>\n"
        "      </interconnects>\n", ""),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<latency initiator='0' target='0' type='access' value='5'/>");
    HAS(res, "cache='1' type='access' value='2'");
    LACKS(res, "initiator='1'");
    LACKS(res, "cache='2'");
    HAS(res, "<cache level='1'");
    SAYS(res, "dropped 2 <interconnects> entries");
    SAYS(res, "guest cell(s) 1 described memory-side caches");
    test_applied_clear(&res);

    /* Nothing left: <interconnects> goes too. */
    test_apply(&res, CELLS_DOMAIN("2", "2097152",
        "      <cell id='0' cpus='0' memory='1048576' unit='KiB'/>\n"
        "      <cell id='1' cpus='1' memory='1048576' unit='KiB'/>\n"
        "      <interconnects>\n"
        "        <latency initiator='1' target='0' type='access' value='9'/>\n"
        "      </interconnects>\n", ""),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    LACKS(res, "interconnects");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_numa_cell_attributes_merged)
{
    struct test_applied res = { 0 };
    /* Mixed memAccess: shared wins; mixed discard goes, with a warning. */
    test_apply(&res, CELLS_DOMAIN("4", "4194304",
        "      <cell id='0' cpus='0-1' memory='2097152' unit='KiB' "
        "memAccess='private' discard='yes'/>\n"
        "      <cell id='1' cpus='2-3' memory='2097152' unit='KiB' "
        "memAccess='shared'/>\n", ""),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<cell id='0' cpus='0-3' memory='4194304' unit='KiB' "
             "memAccess='shared'/>");
    SAYS(res, "change   guest-numa /domain/cpu/numa/cell[@id='0']/@memAccess");
    SAYS(res, "warning  guest-numa /domain/cpu/numa/cell[@id='0']/@discard");
    test_applied_clear(&res);

    /* Agreeing cells keep their values. */
    test_apply(&res, CELLS_DOMAIN("4", "4194304",
        "      <cell id='0' cpus='0-1' memory='2097152' unit='KiB' "
        "memAccess='private' discard='no'/>\n"
        "      <cell id='1' cpus='2-3' memory='2097152' unit='KiB' "
        "memAccess='private' discard='no'/>\n", ""),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<cell id='0' cpus='0-3' memory='4194304' unit='KiB' "
             "memAccess='private' discard='no'/>");
    ck_assert_uint_eq(nst_report_count(&res.r, NST_WARNING), 0);
    test_applied_clear(&res);

    /* private against the default: neither can stand for both. */
    test_apply(&res, CELLS_DOMAIN("4", "4194304",
        "      <cell id='0' cpus='0-1' memory='2097152' unit='KiB' "
        "memAccess='private'/>\n"
        "      <cell id='1' cpus='2-3' memory='2097152' unit='KiB'/>\n", ""),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<cell id='0' cpus='0-3' memory='4194304' unit='KiB'/>");
    SAYS(res, "warning  guest-numa /domain/cpu/numa/cell[@id='0']/@memAccess");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_memory_hotplug)
{
    struct test_applied res = { 0 };
    /* 2 GiB of cells + two 1 GiB DIMMs; cell 1 goes, its DIMM moves. */
    test_apply(&res, CELLS_DOMAIN("4", "4194304",
        "      <cell id='0' cpus='0-1' memory='1048576' unit='KiB'/>\n"
        "      <cell id='1' cpus='2-3' memory='1048576' unit='KiB'/>\n",
        DIMM("1048576", "0") DIMM("1048576", "1")),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<maxMemory slots='8' unit='KiB'>134217728</maxMemory>");
    HAS(res, "<cell id='0' cpus='0-3' memory='2097152' unit='KiB'/>");
    LACKS(res, "<node>1</node>");
    SAYS(res, "change   guest-numa /domain/devices/memory[2]: dimm memory "
              "device of 1048576 KiB on guest cell 0");
    /* The DIMMs' RAM is part of the hugepage need: 4 x 1 GiB. */
    SAYS(res, "(4 needed)");
    test_applied_clear(&res);

    /* Split: the DIMMs keep cell 1 and host nodemask follows. */
    test_apply(&res, CELLS_DOMAIN("48", "100663296",
        "      <cell id='0' cpus='0-23' memory='48234496' unit='KiB'/>\n"
        "      <cell id='1' cpus='24-47' memory='48234496' unit='KiB'/>\n",
        "    <memory model='dimm'>\n"
        "      <source>\n"
        "        <nodemask>0</nodemask>\n"
        "      </source>\n"
        "      <target>\n"
        "        <size unit='KiB'>4194304</size>\n"
        "        <node>1</node>\n"
        "      </target>\n"
        "    </memory>\n"),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    /* 92 GiB of cells, shared as the allocator shares memory */
    HAS(res, "<cell id='0' cpus='0-23' memory='48234496' unit='KiB'>");
    HAS(res, "<cell id='1' cpus='24-47' memory='48234496' unit='KiB'>");
    HAS(res, "<nodemask>1</nodemask>");
    HAS(res, "<node>1</node>");
    SAYS(res, "memory device's host nodes '0' -> '1'");
    test_applied_clear(&res);

    /* What the host truly lacks is refused with the sizes. */
    test_apply(&res, CELLS_DOMAIN("2", "41943040",
        "      <cell id='0' cpus='0-1' memory='8388608' unit='KiB'/>\n",
        DIMM("33554432", "0")),
          "small-nosmt", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "error    placement /domain/vcpu: guest needs 40 GiB of memory");
    test_applied_clear(&res);

    /* Devices as large as <memory>: libvirt refuses, so do we. */
    test_apply(&res, CELLS_DOMAIN("2", "1048576",
        "      <cell id='0' cpus='0-1' memory='0' unit='KiB'/>\n",
        DIMM("1048576", "0")),
          "intel-e5-2697v4", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "the memory devices add up to 1048576 KiB, not less than "
              "<memory> 1048576 KiB");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_memory_devices_not_ram)
{
    struct test_applied res = { 0 };
    /* An nvdimm is a mapped file: in <memory>, not in the host's RAM.
     * 24 GiB + a 16 GiB nvdimm fits small-nosmt's 32 GiB. */
    test_apply(&res, CELLS_DOMAIN("2", "41943040",
        "      <cell id='0' cpus='0-1' memory='25165824' unit='KiB'/>\n",
        "    <memory model='nvdimm'>\n"
        "      <source>\n"
        "        <path>/var/lib/libvirt/pmem/t.img</path>\n"
        "      </source>\n"
        "      <target>\n"
        "        <size unit='KiB'>16777216</size>\n"
        "        <node>0</node>\n"
        "      </target>\n"
        "    </memory>\n"),
          "small-nosmt", "perf", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<cell id='0' cpus='0-1' memory='25165824' unit='KiB'/>");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_page_use_with_dimms)
{
    char *got = page_use(
        "<domain type='kvm'><name>t</name>"
        "<memory unit='GiB'>6</memory><vcpu>2</vcpu>"
        "<memoryBacking><hugepages><page size='1' unit='GiB'/></hugepages>"
        "</memoryBacking>"
        "<cpu><numa><cell id='0' cpus='0-1' memory='4' unit='GiB'/>"
        "</numa></cpu>"
        "<numatune><memnode cellid='0' mode='strict' nodeset='1'/>"
        "</numatune>"
        "<devices><memory model='dimm'><target><size unit='GiB'>2</size>"
        "<node>0</node></target></memory></devices></domain>");
    ck_assert_str_eq(got, "1:1048576:6");
    free(got);
}
END_TEST

/* The linter counts a DIMM in its cell's hugepage need as the policy
 * does: 6 GiB of cell + a 4 GiB DIMM on 1 GiB pages is 10 pages, and
 * AMD host node 0 has 8. */
START_TEST(test_lint_counts_dimms)
{
    static const char xml[] =
        "<domain type='kvm'><name>t</name>"
        "<maxMemory slots='4' unit='GiB'>16</maxMemory>"
        "<memory unit='GiB'>10</memory><vcpu>2</vcpu>"
        "<memoryBacking><hugepages>"
        "<page size='1048576' unit='KiB' nodeset='0'/>"
        "</hugepages></memoryBacking>"
        "<numatune><memory mode='strict' nodeset='0'/>"
        "<memnode cellid='0' mode='strict' nodeset='0'/></numatune>"
        "<os><type arch='x86_64'>hvm</type></os>"
        "<cpu><numa><cell id='0' cpus='0-1' memory='6' unit='GiB'/>"
        "</numa></cpu>"
        "<devices><memory model='dimm'><target><size unit='GiB'>4</size>"
        "<node>0</node></target></memory></devices></domain>";
    struct nst_host *host = test_load_host("amd-epyc-7502p-nps4", NULL);
    struct nst_lint_options opts = { .host = host };
    struct nst_lint_result res;
    struct nst_doc *doc = NULL;
    char *err = NULL;

    ck_assert_int_eq(nst_doc_parse(xml, strlen(xml), "t.xml", &doc, &err), 0);
    ck_assert_int_eq(nst_lint(doc, &opts, "t.xml", &res), 0);
    char *text = nst_lint_format_text(&res);
    ck_assert_msg(strstr(text, "VN302: 10485760 KiB of guest memory on "
                               "1048576 KiB hugepages needs 10 pages, host "
                               "node(s) 0 have 8 free"), "%s", text);
    free(text);
    nst_lint_result_clear(&res);
    nst_doc_free(doc);
    nst_host_free(host);
}
END_TEST

/* ---------------------------------------------------------- hyperv rule */

#define WIN_META \
    "  <metadata>\n" \
    "    <libosinfo:libosinfo xmlns:libosinfo=" \
    "\"http://libosinfo.org/xmlns/libvirt/domain/1.0\">\n" \
    "      <libosinfo:os id=\"http://microsoft.com/win/10\"/>\n" \
    "    </libosinfo:libosinfo>\n" \
    "  </metadata>\n"
#define WIN_DOMAIN(metadata, features) \
    "<domain type='kvm'>\n" \
    "  <name>t</name>\n" \
    metadata \
    "  <memory unit='KiB'>4194304</memory>\n" \
    "  <vcpu placement='static'>2</vcpu>\n" \
    "  <os>\n" \
    "    <type arch='x86_64'>hvm</type>\n" \
    "  </os>\n" \
    features \
    "  <clock offset='localtime'>\n" \
    "    <timer name='rtc' tickpolicy='catchup'/>\n" \
    "  </clock>\n" \
    "</domain>\n"
#define WIN_HYPERV(children) \
    "  <features>\n" \
    "    <acpi/>\n" \
    "    <hyperv mode='custom'>\n" children "    </hyperv>\n" \
    "  </features>\n"

static int
compare_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Like apply() with the nested profile and one --set (or NULL), on a
 * host whose KVM domain capabilities list the Hyper-V enlightenments hv
 * (comma-separated). */
static void
apply_hv(struct test_applied *res, const char *xml, const char *host_name,
         const char *hv, const char *set)
{
    struct nst_host *host = test_load_host(host_name, NULL);
    struct nst_profile profile;
    size_t n;
    const struct nst_profile_source *src = nst_builtin_profiles(&n);
    char *err = NULL;
    host->hyperv_known = true;
    host->hyperv_features = calloc(32, sizeof(char *));
    for (const char *p = hv; *p;) {
        size_t len = strcspn(p, ",");
        host->hyperv_features[host->nhyperv_features++] = strndup(p, len);
        p += len + (p[len] == ',');
    }
    qsort(host->hyperv_features, host->nhyperv_features, sizeof(char *),
          compare_str);
    nst_profile_init(&profile);
    ck_assert_int_eq(nst_profile_compose(&profile, "nested", src, n, &err),
                     0);
    if (set)
        ck_assert_msg(nst_profile_set(&profile, set, "--set", &err) == 0,
                      "%s", err);
    struct nst_apply_options opts = { .profile = &profile, .host = host };
    test_apply_options(res, xml, &opts);
    nst_profile_clear(&profile);
    nst_host_free(host);
}

/* A Windows guest: the set on Intel with evmcs, on AMD without; the
 * hypervclock timer with stimer; hyperv-evmcs=off leaves evmcs out. */
START_TEST(test_hyperv_intel_and_amd)
{
    struct test_applied res = { 0 };

    test_apply(&res, WIN_DOMAIN(WIN_META, ""), "intel-e5-2697v4", "nested", NULL,
          false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "  <features>\n    <hyperv mode='custom'>\n"
             "      <relaxed state='on'/>\n      <vapic state='on'/>\n"
             "      <spinlocks state='on' retries='8191'/>\n"
             "      <vpindex state='on'/>\n      <runtime state='on'/>\n"
             "      <synic state='on'/>\n      <stimer state='on'>\n"
             "        <direct state='on'/>\n      </stimer>\n"
             "      <frequencies state='on'/>\n"
             "      <tlbflush state='on'/>\n      <ipi state='on'/>\n"
             "      <evmcs state='on'/>\n    </hyperv>\n  </features>\n");
    HAS(res, "    <timer name='rtc' tickpolicy='catchup'/>\n"
             "    <timer name='hypervclock' present='yes'/>\n  </clock>");
    LACKS(res, "emsr_bitmap");
    LACKS(res, "reset");
    SAYS(res, "a Windows guest (its libosinfo metadata names "
              "http://microsoft.com/win/10)");
    test_applied_clear(&res);

    test_apply(&res, WIN_DOMAIN(WIN_META, ""), "amd-epyc-7502p-nps4", "nested",
          NULL, false, NULL);
    HAS(res, "<ipi state='on'/>");
    LACKS(res, "evmcs");
    ck_assert_msg(!strstr(res.report, "<evmcs"), "%s", res.report);
    test_applied_clear(&res);

    test_apply(&res, WIN_DOMAIN(WIN_META, ""), "intel-e5-2697v4", "nested", NULL,
          false, "hyperv-evmcs=off", NULL);
    HAS(res, "<ipi state='on'/>");
    LACKS(res, "evmcs");
    test_applied_clear(&res);
}
END_TEST

/* What the domain sets stays: an enlightenment set off is warned about
 * and kept, and what needs it is left out (QEMU refuses stimer without
 * synic); the user's spinlocks retries stay; evmcs on an AMD host goes,
 * since QEMU does not start it there. */
START_TEST(test_hyperv_keeps_what_is_set)
{
    struct test_applied res = { 0 };

    test_apply(&res, WIN_DOMAIN("", WIN_HYPERV(
              "      <spinlocks state='on' retries='4095'/>\n"
              "      <synic state='off'/>\n"
              "      <evmcs state='on'/>\n")),
          "amd-epyc-7502p-nps4", "nested", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<spinlocks state='on' retries='4095'/>");
    HAS(res, "<synic state='off'/>");
    HAS(res, "<vpindex state='on'/>");
    HAS(res, "<tlbflush state='on'/>");
    LACKS(res, "stimer");
    LACKS(res, "hypervclock");
    LACKS(res, "evmcs");
    SAYS(res, "warning  hyperv /domain/features/hyperv/synic: <synic> is "
              "off");
    SAYS(res, "<stimer> is left out: it needs synic");
    SAYS(res, "removed <evmcs state='on'/>");
    SAYS(res, "it has Hyper-V enlightenments (<features><hyperv>)");
    test_applied_clear(&res);

    /* strict: the warning stops the run */
    test_apply(&res, WIN_DOMAIN("", WIN_HYPERV("      <synic state='off'/>\n")),
          "intel-e5-2697v4", "nested", NULL, true, NULL);
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "(strict mode)");
    test_applied_clear(&res);

    /* evmcs set off on Intel is the trade-off, made: kept, no warning */
    test_apply(&res, WIN_DOMAIN("", WIN_HYPERV("      <evmcs state='off'/>\n")),
          "intel-e5-2697v4", "nested", NULL, true, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<evmcs state='off'/>");
    test_applied_clear(&res);

    /* passthrough has them all: nothing changes */
    test_apply(&res, WIN_DOMAIN(WIN_META, "  <features>\n"
                           "    <hyperv mode='passthrough'/>\n"
                           "  </features>\n"),
          "intel-e5-2697v4", "nested", NULL, false, NULL);
    HAS(res, "<hyperv mode='passthrough'/>");
    LACKS(res, "hypervclock");
    ck_assert_msg(!strstr(res.report, " hyperv "), "%s", res.report);
    test_applied_clear(&res);
}
END_TEST

/* emsr_bitmap only where the host's KVM domain capabilities list it
 * (and on Intel only beside evmcs); tlbflush's direct mode never (no
 * domain capabilities say a libvirt has it); what they lack is left out
 * with a warning. */
START_TEST(test_hyperv_domcaps)
{
    static const char all[] = "relaxed,vapic,spinlocks,vpindex,runtime,"
        "synic,stimer,reset,vendor_id,frequencies,reenlightenment,tlbflush,"
        "ipi,evmcs,avic";
    char *with_emsr = nst_printf("%s,emsr_bitmap,xmm_input", all);
    struct test_applied res = { 0 };

    apply_hv(&res, WIN_DOMAIN(WIN_META, ""), "intel-e5-2697v4", with_emsr,
             NULL);
    HAS(res, "      <evmcs state='on'/>\n      <emsr_bitmap state='on'/>\n"
             "    </hyperv>");
    HAS(res, "<tlbflush state='on'/>");
    LACKS(res, "<direct state='on'/>\n      </tlbflush>");
    LACKS(res, "xmm_input");
    test_applied_clear(&res);

    apply_hv(&res, WIN_DOMAIN(WIN_META, ""), "amd-epyc-7502p-nps4", with_emsr,
             NULL);
    HAS(res, "<emsr_bitmap state='on'/>");
    LACKS(res, "evmcs");
    test_applied_clear(&res);

    apply_hv(&res, WIN_DOMAIN(WIN_META, ""), "intel-e5-2697v4", with_emsr,
             "hyperv-evmcs=off");
    LACKS(res, "emsr_bitmap");
    test_applied_clear(&res);

    apply_hv(&res, WIN_DOMAIN(WIN_META, ""), "intel-e5-2697v4", all, NULL);
    LACKS(res, "emsr_bitmap");
    HAS(res, "<evmcs state='on'/>");
    test_applied_clear(&res);

    apply_hv(&res, WIN_DOMAIN(WIN_META, ""), "intel-e5-2697v4",
             "relaxed,vapic,spinlocks,vpindex,synic,stimer", NULL);
    HAS(res, "<stimer state='on'>");
    LACKS(res, "tlbflush");
    SAYS(res, "does not support runtime, frequencies, tlbflush, ipi, "
              "evmcs, which nested Hyper-V needs: left out");
    test_applied_clear(&res);

    /* <hyperv supported='no'>: no empty <hyperv mode='custom'> */
    apply_hv(&res, WIN_DOMAIN(WIN_META, ""), "intel-e5-2697v4", "", NULL);
    ck_assert_int_eq(res.ret, 0);
    LACKS(res, "<hyperv");
    LACKS(res, "hypervclock");
    SAYS(res, "supports none of the Hyper-V enlightenments nested Hyper-V "
              "needs: nothing added");
    test_applied_clear(&res);
    free(with_emsr);
}
END_TEST

/* Only a Windows guest, only with nested on, only with hyperv on, and
 * never a confidential one; guest-os overrides the detection. */
START_TEST(test_hyperv_only_for_windows)
{
    struct test_applied res = { 0 };

    test_apply(&res, WIN_DOMAIN("", ""), "intel-e5-2697v4", "nested", NULL, false,
          NULL);
    LACKS(res, "hyperv");
    test_applied_clear(&res);

    test_apply(&res, WIN_DOMAIN(WIN_META, ""), "intel-e5-2697v4", "nested", NULL,
          false, "guest-os=other", NULL);
    LACKS(res, "<hyperv");
    test_applied_clear(&res);

    test_apply(&res, WIN_DOMAIN("", ""), "intel-e5-2697v4", "nested", NULL, false,
          "guest-os=windows", NULL);
    HAS(res, "<evmcs state='on'/>");
    SAYS(res, "a Windows guest (the profile says guest-os = windows)");
    test_applied_clear(&res);

    test_apply(&res, WIN_DOMAIN(WIN_META, ""), "intel-e5-2697v4", "nested", NULL,
          false, "hyperv=off", NULL);
    LACKS(res, "<hyperv");
    test_applied_clear(&res);

    /* hyperv on without nested: not this rule's job */
    test_apply(&res, WIN_DOMAIN(WIN_META, ""), "intel-e5-2697v4", "secure", NULL,
          false, "nested=off", NULL);
    ck_assert_int_eq(res.ret, 0);
    LACKS(res, "<hyperv");
    test_applied_clear(&res);

    /* no <features>, no <clock>: both made where libvirt puts them, the
     * clock with libvirt's default offset */
    test_apply(&res, "<domain type='kvm'>\n  <name>t</name>\n" WIN_META
          "  <memory unit='KiB'>4194304</memory>\n  <vcpu>2</vcpu>\n"
          "  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n"
          "  <on_poweroff>destroy</on_poweroff>\n</domain>\n",
          "intel-e5-2697v4", "nested", NULL, false, NULL);
    HAS(res, "  </os>\n  <features>\n    <hyperv mode='custom'>\n");
    HAS(res, "  </cpu>\n  <clock offset='utc'>\n"
             "    <timer name='hypervclock' present='yes'/>\n  </clock>\n"
             "  <on_poweroff>");
    test_applied_clear(&res);

    /* a confidential guest cannot nest: the rule steps aside */
    test_apply(&res, "<domain type='kvm'>\n  <name>t</name>\n" WIN_META
          "  <memory unit='KiB'>4194304</memory>\n  <vcpu>2</vcpu>\n"
          "  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n"
          "  <launchSecurity type='sev'>\n    <policy>0x0003</policy>\n"
          "  </launchSecurity>\n</domain>\n",
          "amd-epyc-7502p-nps4", "secure", NULL, false, NULL);
    ck_assert_int_eq(res.ret, 0);
    LACKS(res, "<hyperv");
    test_applied_clear(&res);

    /* a libosinfo id outside Microsoft's is no Windows; the prefix does
     * not matter, the namespace does */
    test_apply(&res, WIN_DOMAIN("  <metadata>\n    <o:libosinfo xmlns:o="
          "\"http://libosinfo.org/xmlns/libvirt/domain/1.0\">\n"
          "      <o:os id=\"http://ubuntu.com/ubuntu/22.04\"/>\n"
          "    </o:libosinfo>\n  </metadata>\n", ""),
          "intel-e5-2697v4", "nested", NULL, false, NULL);
    LACKS(res, "<hyperv");
    test_applied_clear(&res);
    test_apply(&res, WIN_DOMAIN("  <metadata>\n    <o:libosinfo xmlns:o="
          "\"http://libosinfo.org/xmlns/libvirt/domain/1.0\">\n"
          "      <o:os id=\"http://microsoft.com/win/11\"/>\n"
          "    </o:libosinfo>\n  </metadata>\n", ""),
          "intel-e5-2697v4", "nested", NULL, false, NULL);
    HAS(res, "<hyperv mode='custom'>");
    test_applied_clear(&res);
}
END_TEST

/* cpu-mode=baseline: nst_apply with the baseline CPU the tool would
 * have from libvirt. */
static void
apply_baseline(struct test_applied *res, const char *xml, const char *host_name,
               const char *baseline)
{
    struct nst_host *host = test_load_host(host_name, NULL);
    struct nst_profile profile;
    char *err = NULL;

    nst_profile_init(&profile);
    ck_assert_int_eq(nst_profile_set(&profile, "nested=on", "t", &err), 0);
    ck_assert_int_eq(nst_profile_set(&profile, "cpu-mode=baseline", "t",
                                     &err), 0);
    ck_assert((profile.name = strdup("nested")) != NULL);
    struct nst_apply_options opts = {
        .profile = &profile, .host = host, .baseline_cpu = baseline };
    test_apply_options(res, xml, &opts);
    nst_profile_clear(&profile);
    nst_host_free(host);
}

#define PASSTHROUGH_MIGRATABLE \
    "  <cpu mode='host-passthrough' check='none' migratable='on'/>\n"

START_TEST(test_baseline_missing_refused)
{
    struct test_applied res = { 0 };
    apply_baseline(&res, DOMAIN("2", "1048576", ""), "intel-e5-2697v4",
                   NULL);
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "cpu-mode 'baseline' needs the fleet's baseline CPU");
    test_applied_clear(&res);

    apply_baseline(&res, DOMAIN("2", "1048576", ""), "intel-e5-2697v4",
                   "<host/>");
    ck_assert_int_eq(res.ret, -1);
    SAYS(res, "the baseline CPU given is not a <cpu> with a <model>");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_baseline_amd_named_model)
{
    struct test_applied res = { 0 };
    apply_baseline(&res, DOMAIN("2", "1048576", PASSTHROUGH_MIGRATABLE),
                   "amd-epyc-7502p-nps4",
                   "<cpu mode='custom' match='exact'>\n"
                   "  <model fallback='forbid'>EPYC</model>\n"
                   "  <vendor>AMD</vendor>\n"
                   "  <feature policy='require' name='topoext'/>\n"
                   "  <feature policy='disable' name='monitor'/>\n"
                   "</cpu>\n");
    ck_assert_int_eq(res.ret, 0);
    /* libvirt 9.0 refuses migratable= on a custom CPU */
    HAS(res, "<cpu mode='custom' match='exact' check='partial'>");
    LACKS(res, "migratable");
    HAS(res, "<model fallback='forbid'>EPYC</model>");
    HAS(res, "<vendor>AMD</vendor>");
    HAS(res, "<feature policy='require' name='topoext'/>");
    HAS(res, "<feature policy='disable' name='monitor'/>");
    HAS(res, "<feature policy='require' name='svm'/>");
    HAS(res, "<feature policy='require' name='npt'/>");
    HAS(res, "<feature policy='require' name='nrip-save'/>");
    SAYS(res, "warning  cpu-mode /domain/cpu: AMD host: live migration");
    test_applied_clear(&res);

    /* Intel: no npt, no AMD warning */
    apply_baseline(&res, DOMAIN("2", "1048576", ""), "intel-e5-2697v4",
                   "<cpu><model>Broadwell</model></cpu>");
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<cpu mode='custom' match='exact' check='partial'>");
    HAS(res, "<feature policy='require' name='vmx'/>");
    LACKS(res, "npt");
    ck_assert_ptr_null(strstr(res.report, "warning"));
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_amd_passthrough_migratable_warns)
{
    struct test_applied res = { 0 };
    test_apply(&res, DOMAIN("2", "1048576", PASSTHROUGH_MIGRATABLE),
          "amd-epyc-7502p-nps4", "nested", NULL, false, NULL);
    SAYS(res, "AMD host: live migration");
    test_applied_clear(&res);
    test_apply(&res, DOMAIN("2", "1048576", PASSTHROUGH_MIGRATABLE),
          "amd-epyc-7502p-nps4", "nested", NULL, true, NULL);
    ck_assert_int_eq(res.ret, -1);
    test_applied_clear(&res);
    test_apply(&res, DOMAIN("2", "1048576",
                       "  <cpu mode='host-passthrough' migratable='off'/>\n"),
          "amd-epyc-7502p-nps4", "nested", NULL, false, NULL);
    ck_assert_ptr_null(strstr(res.report, "AMD host: live migration"));
    test_applied_clear(&res);
    test_apply(&res, DOMAIN("2", "1048576", PASSTHROUGH_MIGRATABLE),
          "intel-e5-2697v4", "nested", NULL, false, NULL);
    ck_assert_ptr_null(strstr(res.report, "live migration"));
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_fleet_vendors)
{
    struct nst_host *intel = test_load_host("intel-e5-2697v4", NULL);
    struct nst_host *small = test_load_host("small-nosmt", NULL);
    struct nst_host *amd = test_load_host("amd-epyc-7502p-nps4", NULL);
    const struct nst_host *hosts[] = { intel, amd, small };
    const char *labels[] = { "a.xml", "b.xml", "c.xml" };
    char *err = NULL;

    ck_assert_int_eq(nst_fleet_check_vendors(hosts, labels, 3, &err), -1);
    ck_assert_str_eq(err, "the fleet mixes CPU vendors (Intel: a.xml, "
                     "c.xml; AMD: b.xml): no virtualization feature (vmx "
                     "or svm) is common to all its hosts, so no nested "
                     "CPU can migrate between them");
    free(err);
    err = NULL;
    const struct nst_host *intels[] = { intel, small, intel };
    ck_assert_int_eq(nst_fleet_check_vendors(intels, labels, 3, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert(!nst_fleet_uniform(intels, 3));
    ck_assert(nst_fleet_uniform(intels, 1));
    const struct nst_host *same[] = { intel, intel };
    ck_assert(nst_fleet_uniform(same, 2));
    nst_host_free(intel);
    nst_host_free(small);
    nst_host_free(amd);
}
END_TEST

/* A guest meant to migrate (cpu-mode host-model or baseline) cannot
 * keep <hyperv mode='passthrough'>, which gives what this host's KVM
 * has: it gets mode='custom' with the list. */
START_TEST(test_hyperv_passthrough_not_migratable)
{
    struct test_applied res = { 0 };

    test_apply(&res, WIN_DOMAIN(WIN_META, "  <features>\n"
                           "    <hyperv mode='passthrough'/>\n"
                           "  </features>\n"),
          "intel-e5-2697v4", "nested", NULL, false, "cpu-mode=host-model",
          NULL);
    ck_assert_int_eq(res.ret, 0);
    LACKS(res, "passthrough");
    HAS(res, "<hyperv mode='custom'>\n      <relaxed state='on'/>");
    HAS(res, "<evmcs state='on'/>");
    SAYS(res, "mode 'passthrough' -> 'custom'");
    test_applied_clear(&res);
}
END_TEST

/* ------------------------------------------------------------ realtime */

/* The realtime profile on a 4-vCPU guest of the Intel host, with
 * --set assignments (NULL-terminated), isolated CPUs (NULL: not known)
 * and the plan into *plan when not NULL. */
static void
apply_rt(struct test_applied *res, const char *xml, const struct nst_cpuset *isolated,
         bool strict, struct nst_plan *plan, ...)
{
    struct nst_host *host = test_load_host("intel-e5-2697v4", NULL);
    struct nst_profile profile;
    size_t n;
    const struct nst_profile_source *src = nst_builtin_profiles(&n);
    char *err = NULL;
    va_list ap;

    nst_profile_init(&profile);
    ck_assert_int_eq(nst_profile_compose(&profile, "realtime", src, n, &err),
                     0);
    va_start(ap, plan);
    for (const char *set; (set = va_arg(ap, const char *));)
        ck_assert_msg(nst_profile_set(&profile, set, "--set", &err) == 0,
                      "%s", err);
    va_end(ap);
    struct nst_apply_options opts = { .profile = &profile, .host = host,
                                      .strict = strict,
                                      .isolated = isolated };
    test_apply_options(res, xml, &opts);
    if (plan) {                  /* the caller's to clear */
        *plan = res->plan;
        memset(&res->plan, 0, sizeof(res->plan));
    }
    nst_profile_clear(&profile);
    nst_host_free(host);
}

#define RT_DOMAIN DOMAIN("4", "4194304", "")

START_TEST(test_realtime_vcpusched_and_locked)
{
    struct test_applied res = { 0 }, again = { 0 };
    struct nst_plan plan;

    apply_rt(&res, RT_DOMAIN, NULL, false, &plan, NULL);
    ck_assert_int_eq(res.ret, 0);
    /* After the pins, in libvirt's order; vCPU 0 stays ordinary. */
    HAS(res, "<emulatorpin cpuset='0,36'/>\n"
             "    <vcpusched vcpus='1-3' scheduler='fifo' priority='1'/>\n"
             "  </cputune>");
    HAS(res, "<locked/>");
    HAS(res, "<hard_limit unit='KiB'>");
    SAYS(res, "off CPUs 2,37-38 (isolcpus");
    /* The plan names the host CPUs of the realtime vCPUs only. */
    char *rt = nst_cpuset_format(&plan.realtime);
    ck_assert_str_eq(rt, "2,37-38");
    free(rt);
    ck_assert(!nst_cpuset_intersects(&plan.realtime, &plan.emulator));
    nst_plan_clear(&plan);

    /* Its own output, run again: the vcpusched is recognised. */
    apply_rt(&again, res.xml, NULL, false, NULL, NULL);
    ck_assert_int_eq(nst_report_count(&again.r, NST_CHANGE), 0);
    ck_assert_int_eq(nst_report_count(&again.r, NST_WARNING), 0);
    test_applied_clear(&again);

    /* A new priority on it: the vcpusched is now the domain's own. */
    apply_rt(&again, res.xml, NULL, false, NULL, "realtime-priority=5",
             NULL);
    ck_assert_int_eq(again.ret, 0);
    HAS(again, "priority='1'/>");
    SAYS(again, "warning  realtime /domain/cputune/vcpusched: the domain's "
                "own <vcpusched> kept: the profile's fifo priority 5 on "
                "vCPUs 1-3 is not given");
    test_applied_clear(&again);
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_realtime_keys)
{
    struct test_applied res = { 0 };

    apply_rt(&res, RT_DOMAIN, NULL, false, NULL, "realtime-scheduler=rr",
             "realtime-priority=50", "realtime-mask=^0-1", NULL);
    HAS(res, "<vcpusched vcpus='2-3' scheduler='rr' priority='50'/>");
    test_applied_clear(&res);
    /* A positive list names the realtime vCPUs themselves. */
    apply_rt(&res, RT_DOMAIN, NULL, false, NULL, "realtime-mask=0,2", NULL);
    HAS(res, "<vcpusched vcpus='0,2' scheduler='fifo' priority='1'/>");
    test_applied_clear(&res);
}
END_TEST

START_TEST(test_realtime_refusals)
{
    static const struct {
        const char *set;
        const char *says;
    } cases[] = {
        { "realtime-mask=1-4", "error    realtime /domain/vcpu: "
          "realtime-mask names vCPU 4, but the guest has 4 vCPUs (0-3)" },
        { "realtime-mask=0-3", "realtime-mask makes all 4 vCPUs realtime: "
          "the guest needs at least one ordinary vCPU" },
        { "realtime-mask=^0-3", "realtime-mask leaves none of the guest's 4 "
          "vCPUs realtime" },
        { "pinning=off", "error    realtime /domain/cputune: realtime "
          "needs pinning = on" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct test_applied res = { 0 };
        apply_rt(&res, RT_DOMAIN, NULL, false, NULL, cases[i].set, NULL);
        ck_assert_int_eq(res.ret, -1);
        ck_assert_ptr_null(res.xml);
        SAYS(res, cases[i].says);
        ck_assert_uint_eq(nst_report_count(&res.r, NST_ERROR), 1);
        test_applied_clear(&res);
    }
}
END_TEST

START_TEST(test_realtime_memory_without_hard_limit)
{
    struct test_applied res = { 0 };

    apply_rt(&res, RT_DOMAIN, NULL, false, NULL, "memtune=off", NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<locked/>");
    LACKS(res, "<memtune>");
    SAYS(res, "warning  realtime /domain/memtune: locked memory without "
              "<memtune><hard_limit>");
    test_applied_clear(&res);
    apply_rt(&res, RT_DOMAIN, NULL, true, NULL, "memtune=off", NULL);
    ck_assert_int_eq(res.ret, -1);
    test_applied_clear(&res);
}
END_TEST

/* The host side: given the CPUs the host isolates, each realtime vCPU's
 * CPU outside them is warned about; not known, nothing is said. */
START_TEST(test_realtime_host_isolation)
{
    struct test_applied res = { 0 };
    struct nst_cpuset isolated;

    nst_cpuset_parse("1-17,37-53", &isolated, NULL);
    apply_rt(&res, RT_DOMAIN, &isolated, false, NULL, NULL);
    ck_assert_int_eq(nst_report_count(&res.r, NST_WARNING), 0);
    test_applied_clear(&res);

    nst_cpuset_parse("2-17,38-53", &isolated, NULL);
    apply_rt(&res, RT_DOMAIN, &isolated, false, NULL, NULL);
    ck_assert_int_eq(res.ret, 0);
    SAYS(res, "warning  realtime /domain/cputune/vcpusched: host CPU 37 "
              "runs realtime vCPUs, but the host does not keep its own "
              "processes and interrupts off it");
    test_applied_clear(&res);
    apply_rt(&res, RT_DOMAIN, &isolated, true, NULL, NULL);
    ck_assert_int_eq(res.ret, -1);
    test_applied_clear(&res);

    /* A domain's own vcpusched, kept: its realtime vCPUs are checked. */
    const char *own = "<domain type='kvm'>\n"
        "  <name>t</name>\n"
        "  <memory unit='KiB'>4194304</memory>\n"
        "  <vcpu placement='static'>4</vcpu>\n"
        "  <cputune>\n"
        "    <vcpusched vcpus='0' scheduler='rr' priority='10'/>\n"
        "  </cputune>\n"
        "  <os>\n"
        "    <type arch='x86_64'>hvm</type>\n"
        "  </os>\n"
        "</domain>\n";
    nst_cpuset_parse("2-17,37-53", &isolated, NULL);
    apply_rt(&res, own, &isolated, false, NULL, NULL);
    ck_assert_int_eq(res.ret, 0);
    HAS(res, "<vcpusched vcpus='0' scheduler='rr' priority='10'/>");
    SAYS(res, "host CPU 1 runs realtime vCPUs");
    ck_assert_uint_eq(nst_report_count(&res.r, NST_WARNING), 2);
    test_applied_clear(&res);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, test_nested_intel_and_amd);
    tcase_add_test(tc, test_nested_refused_without_virt);
    tcase_add_test(tc, test_nested_keeps_existing_require);
    tcase_add_test(tc, test_confidential_guests);
    tcase_add_test(tc, test_perf_pins_avoid_taken_and_housekeeping);
    tcase_add_test(tc, test_perf_split_over_cells);
    tcase_add_test(tc, test_perf_strict_turns_warning_into_error);
    tcase_add_test(tc, test_perf_hugepage_size_per_cell);
    tcase_add_test(tc, test_perf_iothreads_and_auto_placement);
    tcase_add_test(tc, test_secure_limits_and_mitigations);
    tcase_add_test(tc, test_secure_replaces_low_hard_limit_in_other_units);
    tcase_add_test(tc, test_untouched_tuning_kept);
    tcase_add_test(tc, test_bad_domain_values);
    tcase_add_test(tc, test_existing_placement_is_kept);
    tcase_add_test(tc, test_housekeeping_beyond_host_refused);
    tcase_add_test(tc, test_pins_beyond_host);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_page_use);
    tcase_add_test(tc, test_rule_table);
    tcase_add_test(tc, test_report_names_rules);
    tcase_add_test(tc, test_page_use_of_a_plan);
    tcase_add_test(tc, test_host_clone);
    tcase_add_test(tc, test_perf_no_hugepages_beside_ondemand);
    tcase_add_test(tc, test_perf_refuses_hugepages_with_ondemand);
    tcase_add_test(tc, test_perf_file_source);
    tcase_add_test(tc, test_perf_memfd_gets_hugepages);
    tcase_add_test(tc, test_perf_hugepage_shortfall_says_what);
    tcase_add_test(tc, test_numa_stale_distances_dropped);
    tcase_add_test(tc, test_numa_distances_from_host);
    tcase_add_test(tc, test_numa_interconnects_and_cache);
    tcase_add_test(tc, test_numa_cell_attributes_merged);
    tcase_add_test(tc, test_memory_hotplug);
    tcase_add_test(tc, test_hugepages_divide_every_piece);
    tcase_add_test(tc, test_page_nodesets_follow_cells);
    tcase_add_test(tc, test_memory_devices_not_ram);
    tcase_add_test(tc, test_page_use_with_dimms);
    tcase_add_test(tc, test_lint_counts_dimms);
    tcase_add_test(tc, test_hyperv_intel_and_amd);
    tcase_add_test(tc, test_hyperv_keeps_what_is_set);
    tcase_add_test(tc, test_hyperv_domcaps);
    tcase_add_test(tc, test_hyperv_only_for_windows);
    tcase_add_test(tc, test_hyperv_passthrough_not_migratable);
    tcase_add_test(tc, test_baseline_missing_refused);
    tcase_add_test(tc, test_baseline_amd_named_model);
    tcase_add_test(tc, test_amd_passthrough_migratable_warns);
    tcase_add_test(tc, test_fleet_vendors);
    tcase_add_test(tc, test_realtime_vcpusched_and_locked);
    tcase_add_test(tc, test_realtime_keys);
    tcase_add_test(tc, test_realtime_refusals);
    tcase_add_test(tc, test_realtime_memory_without_hard_limit);
    tcase_add_test(tc, test_realtime_host_isolation);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

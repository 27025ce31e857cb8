/*
 * test-host-isolate.c: the pure parts of "host --isolate" and the
 * doctor's isolation check (cli/host-isolate.c)
 *
 * vn_conf_assign, which edits /etc/default/irqbalance and tuned's
 * variables in place, and vn_isolation_missing on a temporary root
 * (systemd's drop-in order, irqbalance's list).  What the command writes
 * end to end is tests/cli/host.sh's part.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-doctor.h"
#include "testutil.h"

static const char *const retire[] = { "IRQBALANCE_BANNED_CPUS", NULL };

static void
assign_is(const char *text, const char *want)
{
    char *got = vn_conf_assign(text, "IRQBALANCE_BANNED_CPULIST", "2-5,8",
                               retire, "note");
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    /* Applying it again changes nothing: a second run writes nothing. */
    char *again = vn_conf_assign(got, "IRQBALANCE_BANNED_CPULIST", "2-5,8",
                                 retire, "note");
    ck_assert_str_eq(again, got);
    free(again);
    free(got);
}

START_TEST(test_assign_replaces)
{
    /* The active line is replaced where it is, spaces around '=' too;
     * a commented example stays. */
    assign_is("A=1\n#IRQBALANCE_BANNED_CPULIST=\nIRQBALANCE_BANNED_CPULIST=0\nB=2\n",
              "A=1\n#IRQBALANCE_BANNED_CPULIST=\nIRQBALANCE_BANNED_CPULIST=2-5,8\nB=2\n");
    assign_is("  IRQBALANCE_BANNED_CPULIST = \"1\"\n",
              "IRQBALANCE_BANNED_CPULIST=2-5,8\n");
    /* A longer key with the same start is another key. */
    assign_is("IRQBALANCE_BANNED_CPULISTS=1\n",
              "IRQBALANCE_BANNED_CPULISTS=1\n# note\nIRQBALANCE_BANNED_CPULIST=2-5,8\n");
}
END_TEST

START_TEST(test_assign_appends)
{
    assign_is(NULL, "# note\nIRQBALANCE_BANNED_CPULIST=2-5,8\n");
    assign_is("", "# note\nIRQBALANCE_BANNED_CPULIST=2-5,8\n");
    /* A last line without its newline keeps its bytes and gets one. */
    assign_is("A=1", "A=1\n# note\nIRQBALANCE_BANNED_CPULIST=2-5,8\n");
}
END_TEST

START_TEST(test_assign_retires)
{
    /* The older mask is commented out, its text kept; comments are not
     * touched. */
    assign_is("IRQBALANCE_BANNED_CPUS=0000000f\n#IRQBALANCE_BANNED_CPUS=\n",
              "# IRQBALANCE_BANNED_CPUS=0000000f\n#IRQBALANCE_BANNED_CPUS=\n"
              "# note\nIRQBALANCE_BANNED_CPULIST=2-5,8\n");
}
END_TEST

/* A temporary root with the files the check reads. */
static char root[64];

static void
put(const char *path, const char *text)
{
    char *full = nst_printf("%s%s", root, path);
    char *mkdir = nst_printf("mkdir -p '%.*s'",
                             (int)(strrchr(full, '/') - full), full);
    ck_assert_int_eq(system(mkdir), 0);
    test_write_file(full, text, strlen(text));
    free(mkdir);
    free(full);
}

static void
setup_root(void)
{
    snprintf(root, sizeof(root), "/tmp/nst-isolate-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void
teardown_root(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

/* vn_isolation_missing for pinned: the missing CPUs and why, "" none. */
static void
missing_is(const char *pinned, const char *want, const char *want_why)
{
    struct nst_cpuset pins, missing;
    char *why = NULL, *err = NULL;
    ck_assert_int_eq(nst_cpuset_parse(pinned, &pins, &err), 0);
    ck_assert_int_eq(vn_isolation_missing(root, &pins, &missing, &why, &err),
                     0);
    char *got = nst_cpuset_format(&missing);
    ck_assert_str_eq(got, want);
    ck_assert_str_eq(why ? why : "", want_why);
    free(got);
    free(why);
}

#define SYS "/etc/systemd/system"

START_TEST(test_missing_order)
{
    /* Nothing set: every pinned CPU runs the host's work. */
    missing_is("2-3", "2-3", "system.slice, user.slice, init.scope");
    put(SYS "/system.slice.d/50-virt-nestify.conf", "[Slice]\nAllowedCPUs=0-1\n");
    put(SYS "/user.slice.d/50-virt-nestify.conf", "[Slice]\nAllowedCPUs=0 1\n");
    put(SYS "/init.scope.d/50-virt-nestify.conf", "[Scope]\nAllowedCPUs=0,1\n");
    missing_is("2-3", "", "");
    /* A later name in /etc resets it to every CPU (empty value)... */
    put(SYS "/init.scope.d/60-reset.conf", "[Scope]\nAllowedCPUs=\n");
    missing_is("2-3", "2-3", "init.scope");
    /* ... unless /etc/systemd/system.control's file of the same name
     * hides it; a key in another section, or a bad list, does nothing. */
    put("/etc/systemd/system.control/init.scope.d/60-reset.conf",
        "[Unit]\nAllowedCPUs=3\n[Scope]\nAllowedCPUs=lots\n");
    missing_is("2-3", "", "");
    /* /usr/lib's drop-in is read in name order with the others. */
    put("/usr/lib/systemd/system/user.slice.d/90-vendor.conf",
        "[Slice]\nAllowedCPUs=0-2\n");
    missing_is("2-3", "2", "user.slice");
}
END_TEST

START_TEST(test_missing_irqbalance)
{
    put(SYS "/system.slice.d/a.conf", "[Slice]\nAllowedCPUs=0\n");
    put(SYS "/user.slice.d/a.conf", "[Slice]\nAllowedCPUs=0\n");
    put(SYS "/init.scope.d/a.conf", "[Scope]\nAllowedCPUs=0\n");
    /* Installed: its banned list counts, the last line winning. */
    put("/etc/default/irqbalance",
        "IRQBALANCE_BANNED_CPULIST=1-3\nIRQBALANCE_BANNED_CPULIST=\"2,3\"\n");
    missing_is("1-3", "1", "irqbalance");
    put("/etc/default/irqbalance", "#IRQBALANCE_BANNED_CPULIST=1-3\n");
    missing_is("1-3", "1-3", "irqbalance");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("host-isolate");
    TCase *tc = tcase_create("assign");
    tcase_add_test(tc, test_assign_replaces);
    tcase_add_test(tc, test_assign_appends);
    tcase_add_test(tc, test_assign_retires);
    suite_add_tcase(s, tc);
    tc = tcase_create("missing");
    tcase_add_checked_fixture(tc, setup_root, teardown_root);
    tcase_add_test(tc, test_missing_order);
    tcase_add_test(tc, test_missing_irqbalance);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

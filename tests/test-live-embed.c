/*
 * test-live-embed.c: live mode on the real QEMU driver, restarts included
 *
 * qemu:///embed runs libvirt's QEMU driver inside this process, with its
 * state under a fresh root; a running guest only stays known to the
 * process that started it, so the whole lifecycle runs here.  There is no
 * /dev/kvm: the guest is type 'qemu' (TCG) and the profile leaves the
 * CPU mode alone (host-passthrough cannot start under TCG).  The guest
 * has no ACPI, so it ignores a shutdown request: the timeout and --force
 * paths are exercised for real.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "conn.h"
#include "internal.h"
#include "testlive.h"
#include "testutil.h"
#include "tool.h"

static struct test_embed embed;
static char *backups;
/* "virt-nestify -c URI --backup-dir DIR ARGS..." in this process. */
static const char *prefix[6];
/* apply as virt-nestify-live runs it, with its connected runs. */
static int
apply_live(int argc, char **argv)
{
    return vn_cmd_apply(argc, argv, &vn_connected);
}

#define run(...) test_run_command(apply_live, prefix, __VA_ARGS__)

static const char tiny[] =
    "<domain type='qemu'>\n"
    "  <name>tiny</name>\n"
    "  <memory unit='KiB'>131072</memory>\n"
    "  <vcpu placement='static'>1</vcpu>\n"
    "  <os>\n"
    "    <type arch='x86_64' machine='pc'>hvm</type>\n"
    "  </os>\n"
    "  <devices>\n"
    "    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' "
    "passwd='s3cret'/>\n"
    "  </devices>\n"
    "</domain>\n";

static void
setup(void)
{
    test_embed_open(&embed);
    backups = nst_printf("%s/backups", embed.root);
    const char *const args[] = { "virt-nestify", "-c", embed.uri,
                                 "--backup-dir", backups, NULL };
    memcpy(prefix, args, sizeof(args));
}

static void
teardown(void)
{
    test_embed_close(&embed, (const char *const[]){ "tiny", NULL });
    free(backups);
}


static char *
xml_of(virDomainPtr dom, unsigned int flags)
{
    char *xml = virDomainGetXMLDesc(dom, flags | VIR_DOMAIN_XML_SECURE);
    ck_assert_ptr_nonnull(xml);
    return xml;
}

/* The guest pinned and NUMA-bound on this machine's own topology. */
#define PROFILE "-p", "perf", "--set", "nested=off", "--set", "hugepages=off"

START_TEST(test_restart_timeout_then_force)
{
    virDomainPtr dom = virDomainDefineXML(embed.keep, tiny);
    ck_assert_ptr_nonnull(dom);
    char *original = xml_of(dom, VIR_DOMAIN_XML_INACTIVE);
    ck_assert_msg(virDomainCreate(dom) == 0, "cannot start a TCG guest: %s",
                  vn_libvirt_error());

    /* Without --force a guest that ignores shutdown keeps running; the
     * new definition is stored and waits for its next power-off. */
    ck_assert_int_eq(run("-d", "tiny", PROFILE, "--restart", "--timeout", "2",
                         NULL), 3);
    ck_assert_int_eq(virDomainIsActive(dom), 1);
    char *stored = xml_of(dom, VIR_DOMAIN_XML_INACTIVE);
    char *live = xml_of(dom, 0);
    ck_assert_ptr_nonnull(strstr(stored, "<vcpupin vcpu='0'"));
    ck_assert_ptr_null(strstr(live, "<vcpupin"));
    ck_assert_ptr_nonnull(strstr(stored, "passwd='s3cret'"));
    free(stored);
    free(live);

    /* The stored definition already holds the profile: nothing pending. */
    ck_assert_int_eq(run("-d", "tiny", PROFILE, "--check", NULL), 0);

    /* Undo through the API, then apply again with --force. */
    virDomainPtr again = virDomainDefineXML(embed.keep, original);
    ck_assert_ptr_nonnull(again);
    virDomainFree(again);
    ck_assert_int_eq(run("-d", "tiny", PROFILE, "--restart", "--timeout", "2",
                         "--force", NULL), 0);
    ck_assert_int_eq(virDomainIsActive(dom), 1);
    live = xml_of(dom, 0);
    ck_assert_ptr_nonnull(strstr(live, "<vcpupin vcpu='0'"));
    ck_assert_ptr_nonnull(strstr(live, "<emulatorpin"));
    ck_assert_ptr_nonnull(strstr(live, "passwd='s3cret'"));
    free(live);
    free(original);
    virDomainFree(dom);
}
END_TEST

/* libvirt cannot save the new definition (its config file's temporary
 * name is taken by a directory): define fails, the definition stays as
 * it was, and the backup is kept. */
START_TEST(test_define_refused_loses_nothing)
{
    virDomainPtr dom = virDomainDefineXML(embed.keep, tiny);
    ck_assert_ptr_nonnull(dom);
    char *before = xml_of(dom, VIR_DOMAIN_XML_INACTIVE);
    char *blocker = nst_printf("%s/etc/qemu/tiny.xml.new", embed.root);
    ck_assert_int_eq(mkdir(blocker, 0700), 0);
    ck_assert_int_eq(run("-d", "tiny", PROFILE, NULL), 3);
    char *after = xml_of(dom, VIR_DOMAIN_XML_INACTIVE);
    ck_assert_str_eq(before, after);
    /* The backup written before the define is still there. */
    char *cmd = nst_printf("ls '%s' | grep -q -- '-tiny.xml$'", backups);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(rmdir(blocker), 0);
    /* Once libvirt can save again, the same run succeeds. */
    ck_assert_int_eq(run("-d", "tiny", PROFILE, NULL), 0);
    free(cmd);
    free(blocker);
    free(before);
    free(after);
    virDomainFree(dom);
}
END_TEST

static size_t
count_backups(void)
{
    char *cmd = nst_printf("ls '%s' 2>/dev/null | wc -l", backups);
    FILE *fp = popen(cmd, "r");
    unsigned long n = 0;
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fscanf(fp, "%lu", &n), 1);
    pclose(fp);
    free(cmd);
    return n;
}

/* Every profile on the virt-install-style fixture, planned for the Intel
 * host (this machine has no vmx): the QEMU driver stores what the
 * profile set, a second run changes nothing and writes no backup, and the
 * VNC password survives each redefine. */
START_TEST(test_each_profile)
{
    static const char *const profiles[] = { "nested", "perf", "secure",
                                            "perf,secure" };
    const char *profile = profiles[_i];
    char *text = test_read_srcfile("tests/fixtures/domains/ubuntu-guest.xml",
                                   NULL);
    char *type = strstr(text, "<domain type='kvm'>");
    ck_assert_ptr_nonnull(type);
    char *xml = nst_printf("%.*s<domain type='qemu'>%s", (int)(type - text),
                           text, type + strlen("<domain type='kvm'>"));
    virDomainPtr dom = virDomainDefineXML(embed.keep, xml);
    ck_assert_ptr_nonnull(dom);
    char *intel = nst_printf("%s/tests/fixtures/hosts/intel-e5-2697v4.xml",
                             test_srcdir());

    ck_assert_int_eq(run("-d", "ubuntu-guest", "--host-caps", intel, "-p",
                         profile, NULL), 0);
    ck_assert_uint_eq(count_backups(), 1);
    char *stored = xml_of(dom, VIR_DOMAIN_XML_INACTIVE);
    ck_assert_ptr_nonnull(strstr(stored, "passwd='s3cret'"));
    ck_assert_int_eq(run("-d", "ubuntu-guest", "--host-caps", intel, "-p",
                         profile, "--check", NULL), 0);
    ck_assert_int_eq(run("-d", "ubuntu-guest", "--host-caps", intel, "-p",
                         profile, NULL), 0);
    ck_assert_uint_eq(count_backups(), 1);
    char *again = xml_of(dom, VIR_DOMAIN_XML_INACTIVE);
    ck_assert_str_eq(stored, again);
    ck_assert_int_eq(virDomainUndefine(dom), 0);
    virDomainFree(dom);
    free(again);
    free(stored);
    free(intel);
    free(xml);
    free(text);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("live-embed");
    TCase *tc = tcase_create("qemu-embed");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_restart_timeout_then_force);
    tcase_add_test(tc, test_define_refused_loses_nothing);
    tcase_add_loop_test(tc, test_each_profile, 0, 4);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

/*
 * test-verify-embed.c: "virt-nestify verify" on the real QEMU driver
 *
 * qemu:///embed runs libvirt's QEMU driver in this process with its
 * state under a fresh root (see test-live-embed.c).  The guest is a TCG
 * guest with no OS: its agent channel exists, but nothing in the guest
 * ever opens it, so the real agent passthrough (virDomainQemuAgentCommand,
 * the command's default) never gets an answer.  verify must say so
 * within --timeout and exit non-zero, not hang; a guest without an agent
 * channel gets its own message without any agent call.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "conn.h"
#include "internal.h"
#include "testlive.h"
#include "testutil.h"
#include "tool.h"

static struct test_embed embed;
static char *intel;

static const char *const verify_prefix[] = { "verify", NULL };
#define run(...) test_run_command(vn_cmd_verify, verify_prefix, __VA_ARGS__)

/* A guest with no disk and no OS; with or without an agent channel. */
static char *
tiny_xml(const char *name, bool channel)
{
    return nst_printf(
        "<domain type='qemu'>\n"
        "  <name>%s</name>\n"
        "  <memory unit='KiB'>131072</memory>\n"
        "  <vcpu placement='static'>1</vcpu>\n"
        "  <os>\n"
        "    <type arch='x86_64' machine='pc'>hvm</type>\n"
        "  </os>\n"
        "  <devices>\n"
        "%s"
        "  </devices>\n"
        "</domain>\n", name,
        channel ? "    <channel type='unix'>\n"
                  "      <target type='virtio' "
                  "name='org.qemu.guest_agent.0'/>\n"
                  "    </channel>\n" : "");
}

static void
setup(void)
{
    test_embed_open(&embed);
    intel = nst_printf("%s/tests/fixtures/hosts/intel-e5-2697v4.xml",
                       test_srcdir());
}

static void
teardown(void)
{
    test_embed_close(&embed, (const char *const[]){ "agent", "noagent",
                                                     NULL });
    free(intel);
}

static void
start(const char *name, bool channel)
{
    char *xml = tiny_xml(name, channel);
    virDomainPtr dom = virDomainDefineXML(embed.keep, xml);
    ck_assert_ptr_nonnull(dom);
    ck_assert_msg(virDomainCreate(dom) == 0, "cannot start a TCG guest: %s",
                  vn_libvirt_error());
    virDomainFree(dom);
    free(xml);
}

/* Runs verify on name with stdout in a file; returns its exit status and
 * the output in *out, the seconds it took in *took. */
static int
verify(const char *name, char **out, double *took)
{
    char *path = nst_printf("%s/stdout", embed.root);
    struct timespec t0, t1;

    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    dup2(fileno(fp), STDOUT_FILENO);
    fclose(fp);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ret = run("-c", embed.uri, "--host-caps", intel, "-d", name,
                  "--timeout", "2", NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    *out = test_read_file(path, NULL);
    ck_assert_ptr_nonnull(*out);
    *took = (double)(t1.tv_sec - t0.tv_sec) +
            (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    free(path);
    return ret;
}

START_TEST(test_agent_not_responding)
{
    char *out;
    double took;
    start("agent", true);
    int ret = verify("agent", &out, &took);
    ck_assert_msg(ret == 1, "exit %d: %s", ret, out);
    /* --timeout 2; the bound is loose (a loaded machine), it only tells
     * an answer in time from a hang or the default 30 s. */
    ck_assert_msg(took < 20, "took %.1f s", took);
    /* Nothing in the guest opened the channel: libvirt knows at once. */
    ck_assert_msg(strstr(out, "FAIL  guest-agent: guest agent not "
                         "responding: QEMU guest agent is not connected\n")
                  != NULL, "%s", out);
    ck_assert_msg(strstr(out, "SKIP  guest-cpu-flags: not checked: the guest "
                         "agent does not answer\n") != NULL, "%s", out);
    free(out);
}
END_TEST

START_TEST(test_no_agent_channel)
{
    char *out;
    double took;
    start("noagent", false);
    int ret = verify("noagent", &out, &took);
    ck_assert_msg(ret == 1, "exit %d: %s", ret, out);
    ck_assert_msg(took < 20, "took %.1f s", took);
    ck_assert_msg(strstr(out, "FAIL  guest-agent: domain 'noagent' has no "
                         "guest agent channel") != NULL, "%s", out);
    free(out);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("verify-embed");
    TCase *tc = tcase_create("qemu-embed");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_agent_not_responding);
    tcase_add_test(tc, test_no_agent_channel);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

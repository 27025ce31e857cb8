/*
 * test-verify.c: "virt-nestify verify" on libvirt's test driver, with a
 * fake guest agent
 *
 * test:///default has no guest agent passthrough (it is QEMU's), so the
 * command reaches the agent through its test seam (agent_command), here
 * a fake that answers guest-ping, guest-get-osinfo, guest-exec and
 * guest-exec-status as qemu-ga does, from a guest described by struct
 * guest: its OS, its /proc/cpuinfo, whether it has /dev/kvm, its nested
 * parameter, or, for Windows, what PowerShell prints.  The
 * test host has no vmx, so planning uses --host-caps with the Intel
 * fixture.  The domain 'guest' runs with an agent channel; the stock
 * domain 'test' runs without one.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <json.h>
#include <libvirt/libvirt-qemu.h>

#include "agent.h"
#include "conn.h"
#include "internal.h"
#include "testutil.h"
#include "tool.h"
#include "verify.h"

static virConnectPtr keep;
static char *intel, tmpdir[64];

/* ------------------------------------------------------- the fake agent */

/* guest-get-osinfo's "return" as qemu-ga writes it, for Ubuntu 22.04
 * and for Windows (the Windows shape is the QAPI schema's, qga's
 * GuestOSInfo: id "mswindows", the product name as pretty-name). */
static const char ubuntu_osinfo[] =
    "{\"name\": \"Ubuntu\", \"kernel-release\": \"5.15.0-91-generic\", "
    "\"version\": \"22.04.3 LTS (Jammy Jellyfish)\", \"pretty-name\": "
    "\"Ubuntu 22.04.3 LTS\", \"version-id\": \"22.04\", "
    "\"kernel-version\": \"#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023\", "
    "\"machine\": \"x86_64\", \"id\": \"ubuntu\"}";
static const char windows_osinfo[] =
    "{\"name\": \"Microsoft Windows\", \"kernel-release\": \"19045\", "
    "\"version\": \"Microsoft Windows 10\", \"variant\": \"client\", "
    "\"pretty-name\": \"Windows 10 Pro\", \"version-id\": \"10\", "
    "\"variant-id\": \"client\", \"kernel-version\": \"10.0\", "
    "\"machine\": \"x86_64\", \"id\": \"mswindows\"}";

struct guest {
    const char *osinfo;          /* guest-get-osinfo's "return"; NULL: an
                                  * agent without it (before qemu-ga 2.10) */
    const char *windows;         /* what PowerShell prints: a fixture
                                  * under tests/fixtures/guest */
    int windows_exit;            /* powershell.exe's exit status */
    const char *cpuinfo;         /* fixture under tests/fixtures/guest */
    bool kvm_device;
    const char *nested;          /* the parameter's text; NULL: no module */
    bool silent;                 /* never answers */
    bool osinfo_silent;          /* answers the ping only */
    bool exec_disabled;          /* guest-exec blocked (--block-rpcs) */
    bool never_exits;            /* every program hangs */
};

static struct guest guest;
static unsigned int calls, polls, linux_runs, windows_runs;
static int last_timeout;          /* what the last call was given */
static char last_module[32];

/* The process the fake "runs": its result, given at the second poll. */
static int exitcode;
static char *out_data;

static char *
base64(const char *data, size_t len)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    struct nst_buf buf = { 0 };
    for (size_t i = 0; i < len; i += 3) {
        unsigned int b = (unsigned char)data[i] << 16;
        if (i + 1 < len)
            b |= (unsigned char)data[i + 1] << 8;
        if (i + 2 < len)
            b |= (unsigned char)data[i + 2];
        char q[4] = { abc[b >> 18], abc[b >> 12 & 63],
                      i + 1 < len ? abc[b >> 6 & 63] : '=',
                      i + 2 < len ? abc[b & 63] : '=' };
        nst_buf_add(&buf, q, 4);
    }
    nst_buf_adds(&buf, "");
    return nst_buf_finish(&buf, NULL);
}

/* Argument i of a guest-exec's "arg", or "" */
static const char *
arg(struct json_object *args, size_t i)
{
    return i < json_object_array_length(args) ?
           json_object_get_string(json_object_array_get_idx(args, i)) : "";
}

/* What the guest would do for path args[0]. */
static void
fake_exec(const char *path, struct json_object *args)
{
    const char *arg0 = arg(args, 0);
    char *text = NULL;
    size_t len = 0;

    free(out_data);
    out_data = NULL;
    exitcode = 1;
    if (strcmp(path, "powershell.exe") == 0) {
        /* Only a Windows guest has it; the query is one -Command. */
        ck_assert_ptr_nonnull(guest.windows);
        ck_assert_uint_eq(json_object_array_length(args), 4);
        ck_assert_str_eq(arg0, "-NoProfile");
        ck_assert_str_eq(arg(args, 2), "-Command");
        ck_assert_ptr_nonnull(strstr(arg(args, 3), "ConvertTo-Json"));
        windows_runs++;
        char *rel = nst_printf("tests/fixtures/guest/%s", guest.windows);
        text = test_read_srcfile(rel, &len);
        free(rel);
        exitcode = guest.windows_exit;
    } else if (guest.windows) {
        /* A Linux command in a Windows guest: qemu-ga cannot start it. */
        ck_abort_msg("'%s' run in a Windows guest", path);
    } else if (strcmp(path, "cat") == 0 &&
               strcmp(arg0, "/proc/cpuinfo") == 0) {
        char *rel = nst_printf("tests/fixtures/guest/%s", guest.cpuinfo);
        text = test_read_srcfile(rel, &len);
        free(rel);
        exitcode = 0;
    } else if (strcmp(path, "cat") == 0 &&
               sscanf(arg0, "/sys/module/%31[^/]/parameters/nested",
                      last_module) == 1) {
        if (guest.nested) {
            text = nst_printf("%s", guest.nested);
            len = strlen(text);
            exitcode = 0;
        }
    } else if (strcmp(path, "test") == 0 &&
               json_object_array_length(args) == 2 &&
               strcmp(arg0, "-c") == 0 &&
               strcmp(arg(args, 1), "/dev/kvm") == 0) {
        exitcode = guest.kvm_device ? 0 : 1;
    } else {
        exitcode = 127;
    }
    if (strcmp(path, "powershell.exe") != 0)
        linux_runs++;
    if (text)
        out_data = base64(text, len);
    free(text);
}

static char *
fake_agent(virDomainPtr dom, const char *cmd, int timeout, unsigned int flags)
{
    char *err = NULL, *reply = NULL;

    calls++;
    last_timeout = timeout;
    ck_assert_int_ge(timeout, 1);
    ck_assert_uint_eq(flags, 0);
    ck_assert_str_eq(virDomainGetName(dom), "guest");
    if (guest.silent) {
        /* libvirt waits timeout seconds, then gives up. */
        struct timespec t = { timeout, 0 };
        nanosleep(&t, NULL);
        return NULL;
    }
    struct json_object *req = nst_json_parse(cmd, strlen(cmd), &err);
    ck_assert_msg(req != NULL, "bad request '%s': %s", cmd, err);
    const char *exec = json_object_get_string(test_json_member(req, "execute"));
    struct json_object *args = NULL;
    json_object_object_get_ex(req, "arguments", &args);
    ck_assert_ptr_nonnull(exec);
    if (strcmp(exec, "guest-ping") == 0) {
        reply = nst_printf("{\"return\": {}}");
    } else if (strcmp(exec, "guest-get-osinfo") == 0 &&
               guest.osinfo_silent) {
        struct timespec t = { timeout, 0 };
        nanosleep(&t, NULL);
    } else if (strcmp(exec, "guest-get-osinfo") == 0) {
        /* qemu's QAPI dispatcher's words for a command it lacks. */
        reply = guest.osinfo ?
                nst_printf("{\"return\": %s}", guest.osinfo) :
                nst_printf("{\"error\": {\"class\": \"CommandNotFound\", "
                           "\"desc\": \"The command guest-get-osinfo has "
                           "not been found\"}}");
    } else if (strcmp(exec, "guest-exec") == 0) {
        ck_assert(json_object_get_boolean(
                      test_json_member(args, "capture-output")));
        if (guest.exec_disabled) {
            reply = nst_printf("{\"error\": {\"class\": \"GenericError\", "
                               "\"desc\": \"The command guest-exec has been "
                               "disabled for this instance\"}}");
        } else {
            fake_exec(json_object_get_string(test_json_member(args, "path")),
                      test_json_member(args, "arg"));
            polls = 0;
            reply = nst_printf("{\"return\": {\"pid\": 4242}}");
        }
    } else if (strcmp(exec, "guest-exec-status") == 0) {
        ck_assert_int_eq(json_object_get_int64(test_json_member(args, "pid")),
                         4242);
        /* Still running at the first look, as a real process may be. */
        if (polls++ == 0 || guest.never_exits)
            reply = nst_printf("{\"return\": {\"exited\": false}}");
        else if (out_data)
            reply = nst_printf("{\"return\": {\"exitcode\": %d, \"out-data\": "
                               "\"%s\", \"exited\": true}}", exitcode,
                               out_data);
        else
            reply = nst_printf("{\"return\": {\"exitcode\": %d, "
                               "\"err-data\": \"bm8K\", \"exited\": true}}",
                               exitcode);
    } else {
        ck_abort_msg("unexpected command '%s'", cmd);
    }
    json_object_put(req);
    return reply;
}

/* ------------------------------------------------------------- fixtures */

static const char guest_xml[] =
    "<domain type='test'>\n"
    "  <name>guest</name>\n"
    "  <memory unit='KiB'>1048576</memory>\n"
    "  <vcpu placement='static'>2</vcpu>\n"
    "  <os>\n"
    "    <type arch='x86_64'>hvm</type>\n"
    "  </os>\n"
    "  <cpu mode='host-passthrough' check='none'>\n"
    "    <feature policy='require' name='vmx'/>\n"
    "  </cpu>\n"
    "  <devices>\n"
    "    <channel type='unix'>\n"
    "      <target type='virtio' name='org.qemu.guest_agent.0'/>\n"
    "    </channel>\n"
    "  </devices>\n"
    "</domain>\n";

static void
setup(void)
{
    char *err = NULL;
    keep = vn_conn_open("test:///default", &err);
    ck_assert_msg(keep != NULL, "%s", err);
    virDomainPtr dom = virDomainDefineXML(keep, guest_xml);
    ck_assert_ptr_nonnull(dom);
    ck_assert_int_eq(virDomainCreate(dom), 0);
    virDomainFree(dom);
    intel = nst_printf("%s/tests/fixtures/hosts/intel-e5-2697v4.xml",
                       test_srcdir());
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/nst-verify-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    guest = (struct guest){ .osinfo = ubuntu_osinfo,
                            .cpuinfo = "cpuinfo-intel-vmx",
                            .kvm_device = true, .nested = "Y\n" };
    calls = linux_runs = windows_runs = 0;
    last_module[0] = '\0';
}

static void
teardown(void)
{
    virDomainPtr dom = virDomainLookupByName(keep, "guest");
    if (dom) {
        virDomainDestroy(dom);
        virDomainUndefine(dom);
        virDomainFree(dom);
    }
    char *cmd = nst_printf("rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(intel);
    free(out_data);
    out_data = NULL;
    vn_conn_close(keep);
}

/* "virt-nestify verify ARGS..." with the fake agent, in this process. */
static int
verify_fake(int argc, char **argv)
{
    struct vn_verify_opts o;
    int r = vn_verify_parse_options(argc, argv, &o);
    if (r == 0) {
        /* The default is libvirt's own. */
        ck_assert_ptr_eq(o.agent_command, virDomainQemuAgentCommand);
        o.agent_command = fake_agent;
    }
    int ret = r < 0 ? VN_EXIT_INPUT : r > 0 ? VN_EXIT_OK : vn_verify_run(&o);
    vn_verify_opts_clear(&o);
    return ret;
}

static const char *const verify_prefix[] = { "verify", NULL };
#define run(...) test_run_command(verify_fake, verify_prefix, __VA_ARGS__)
#define LIVE "-c", "test:///default", "--host-caps", intel

/* Sends stdout and stderr to files until capture_end; *out and *err get
 * what came. */
static int saved_fds[2] = { -1, -1 };

static void
capture_begin(void)
{
    fflush(stdout);
    fflush(stderr);
    for (int fd = 1; fd <= 2; fd++) {
        char *path = nst_printf("%s/fd%d", tmpdir, fd);
        saved_fds[fd - 1] = dup(fd);
        FILE *fp = fopen(path, "w");
        ck_assert_ptr_nonnull(fp);
        dup2(fileno(fp), fd);
        fclose(fp);
        free(path);
    }
}

static void
capture_end(char **out, char **err)
{
    fflush(stdout);
    fflush(stderr);
    for (int fd = 1; fd <= 2; fd++) {
        dup2(saved_fds[fd - 1], fd);
        close(saved_fds[fd - 1]);
        char *path = nst_printf("%s/fd%d", tmpdir, fd);
        char *text = test_read_file(path, NULL);
        ck_assert_ptr_nonnull(text);
        unlink(path);
        free(path);
        *(fd == 1 ? out : err) = text;
    }
}

#define has(text, part) \
    ck_assert_msg(strstr(text, part) != NULL, "'%s' lacks '%s'", text, part)

/* ----------------------------------------------------------------- tests */

/* A guest with vmx, /dev/kvm and nested=Y: every check that the nested
 * profile has passes (it sets no pins, so those are skipped). */
START_TEST(test_all_pass)
{
    char *out, *err;
    capture_begin();
    int ret = run(LIVE, "-d", "guest", NULL);
    capture_end(&out, &err);
    ck_assert_msg(ret == 0, "exit %d: %s%s", ret, out, err);
    ck_assert_str_eq(err, "");
    has(out, "domain 'guest', profile 'nested'\n");
    has(out, "PASS  live-cpu-mode: the running domain has <cpu "
             "mode='host-passthrough'>, as profile 'nested' sets\n");
    has(out, "PASS  live-cpu-feature: the running domain requires 'vmx', as "
             "profile 'nested' sets for this Intel host\n");
    has(out, "SKIP  live-vcpu-pins: profile 'nested' does not set vCPU "
             "pins\n");
    has(out, "PASS  guest-agent: the guest agent answers\n");
    has(out, "PASS  guest-cpu-flags: the guest's /proc/cpuinfo shows vmx on "
             "all 2 vCPUs\n");
    has(out, "PASS  guest-kvm-device: /dev/kvm is there in the guest\n");
    has(out, "PASS  guest-kvm-nested: the guest's kvm_intel reports "
             "nested=Y\n");
    has(out, "6 passed, 0 failed, 2 skipped\n");
    ck_assert_ptr_null(strstr(out, "fix:"));
    ck_assert_str_eq(last_module, "kvm_intel");
    /* ping, osinfo, then exec + 2 polls for each of the three programs */
    ck_assert_uint_eq(calls, 11);
    ck_assert_uint_eq(linux_runs, 3);
    ck_assert_int_eq(last_timeout, 30);
    free(out);
    free(err);

    /* "1" is how some kernels say it. */
    guest.nested = "1\n";
    ck_assert_int_eq(run(LIVE, "-d", "guest", "--timeout", "5", NULL), 0);
}
END_TEST

/* An AMD guest: svm, and kvm_amd's parameter. */
START_TEST(test_amd_guest)
{
    char *out, *err;
    guest.cpuinfo = "cpuinfo-amd-svm";
    guest.nested = "1\n";
    capture_begin();
    int ret = run(LIVE, "-d", "guest", NULL);
    capture_end(&out, &err);
    ck_assert_msg(ret == 0, "exit %d: %s%s", ret, out, err);
    has(out, "PASS  guest-cpu-flags: the guest's /proc/cpuinfo shows svm on "
             "all 2 vCPUs\n");
    has(out, "PASS  guest-kvm-nested: the guest's kvm_amd reports "
             "nested=1\n");
    ck_assert_str_eq(last_module, "kvm_amd");
    free(out);
    free(err);
}
END_TEST

/* No vmx in the guest's CPU: a FAIL with the fix, exit 1. */
START_TEST(test_no_vmx)
{
    char *out, *err;
    guest.cpuinfo = "cpuinfo-amd-novirt";
    guest.kvm_device = false;
    guest.nested = NULL;
    capture_begin();
    int ret = run(LIVE, "-d", "guest", NULL);
    capture_end(&out, &err);
    ck_assert_msg(ret == 1, "exit %d: %s%s", ret, out, err);
    ck_assert_str_eq(err, "");
    has(out, "FAIL  guest-cpu-flags: no vmx or svm in the guest's "
             "/proc/cpuinfo (2 vCPUs): the guest has no hardware "
             "virtualization\n"
             "      fix: give the domain host-passthrough with vmx (Intel) "
             "or svm (AMD) required and power-cycle it (virt-nestify -c "
             "'test:///default' --domain guest --profile nested "
             "--restart), with nested on in the host's kvm module "
             "(virt-nestify host)\n");
    has(out, "FAIL  guest-kvm-device: no /dev/kvm in the guest\n"
             "      fix: load the KVM module in the guest (modprobe "
             "kvm_intel or modprobe kvm_amd)");
    /* The module of the host's vendor when the guest shows none. */
    has(out, "FAIL  guest-kvm-nested: kvm_intel is not loaded in the guest "
             "(no /sys/module/kvm_intel/parameters/nested)\n"
             "      fix: load it in the guest: modprobe kvm_intel\n");
    has(out, "3 passed, 3 failed, 2 skipped\n");
    free(out);
    free(err);
}
END_TEST

START_TEST(test_nested_off)
{
    char *out, *err;
    guest.nested = "N\n";
    capture_begin();
    int ret = run(LIVE, "-d", "guest", NULL);
    capture_end(&out, &err);
    ck_assert_int_eq(ret, 1);
    has(out, "FAIL  guest-kvm-nested: the guest's kvm_intel has nested off "
             "(N)\n      fix: in the guest: echo 'options kvm_intel "
             "nested=1' > /etc/modprobe.d/kvm-nested.conf, then modprobe -r "
             "kvm_intel && modprobe kvm_intel\n");
    free(out);
    free(err);

    guest.nested = "maybe\n";
    capture_begin();
    ret = run(LIVE, "-d", "guest", NULL);
    capture_end(&out, &err);
    ck_assert_int_eq(ret, 1);
    has(out, "FAIL  guest-kvm-nested: the guest's kvm_intel reports "
             "nested='maybe', neither Y nor 1\n");
    free(out);
    free(err);
}
END_TEST

/* An agent that never answers: a clear FAIL within --timeout, no hang. */
START_TEST(test_agent_silent)
{
    char *out, *err;
    struct timespec t0, t1;
    guest.silent = true;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    capture_begin();
    int ret = run(LIVE, "-d", "guest", "--timeout", "2", NULL);
    capture_end(&out, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_msg(ret == 1, "exit %d: %s%s", ret, out, err);
    double took = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* libvirt was told to wait no longer than --timeout; the bound on
     * the whole run is loose (valgrind, a loaded machine), it only
     * tells a wait of --timeout from a hang or the default 30 s. */
    ck_assert_uint_eq(calls, 1);
    ck_assert_int_eq(last_timeout, 2);
    ck_assert_msg(took >= 2 && took < 15, "took %.1f s", took);
    has(out, "FAIL  guest-agent: guest agent not responding: no answer "
             "within 2 s\n      fix: install and start qemu-guest-agent in "
             "the guest (systemctl enable --now qemu-guest-agent)");
    has(out, "SKIP  guest-cpu-flags: not checked: the guest agent does not "
             "answer\n");
    has(out, "SKIP  guest-kvm-nested: not checked: the guest agent does not "
             "answer\n");
    has(out, "2 passed, 1 failed, 5 skipped\n");
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
}
END_TEST

/* A program that never ends: polled until --timeout runs out. */
START_TEST(test_exec_never_finishes)
{
    char *out, *err;
    guest.never_exits = true;
    capture_begin();
    int ret = run(LIVE, "-d", "guest", "--timeout", "1", NULL);
    capture_end(&out, &err);
    ck_assert_msg(ret == 1, "exit %d: %s%s", ret, out, err);
    has(out, "PASS  guest-agent: the guest agent answers\n");
    has(out, "FAIL  guest-cpu-flags: gave up reading /proc/cpuinfo: 'cat' did "
             "not finish within 1 s\n      fix: check that qemu-guest-agent "
             "runs in the guest");
    has(out, "SKIP  guest-kvm-device: not checked: the guest agent stopped "
             "answering\n");
    /* polled, not hammered: a few polls a second at most */
    ck_assert_uint_lt(polls, 20);
    free(out);
    free(err);
}
END_TEST

/* qemu-ga with guest-exec blocked: the agent answers, exec is refused. */
START_TEST(test_exec_disabled)
{
    char *out, *err;
    guest.exec_disabled = true;
    capture_begin();
    int ret = run(LIVE, "-d", "guest", NULL);
    capture_end(&out, &err);
    ck_assert_int_eq(ret, 1);
    has(out, "PASS  guest-agent: the guest agent answers\n");
    has(out, "FAIL  guest-cpu-flags: reading /proc/cpuinfo through the "
             "guest agent failed: the guest agent refused 'guest-exec': The "
             "command guest-exec has been disabled for this instance "
             "(GenericError)\n      fix: allow guest-exec and "
             "guest-exec-status in the guest's qemu-guest-agent");
    has(out, "SKIP  guest-kvm-nested: not checked");
    free(out);
    free(err);
}
END_TEST

/* An agent without guest-get-osinfo (qemu-ga before 2.10): the Linux
 * checks, as before verify asked. */
START_TEST(test_old_agent)
{
    char *out, *err;
    guest.osinfo = NULL;
    capture_begin();
    int ret = run(LIVE, "-d", "guest", NULL);
    capture_end(&out, &err);
    ck_assert_msg(ret == 0, "exit %d: %s%s", ret, out, err);
    has(out, "PASS  guest-agent: the guest agent answers\n");
    has(out, "PASS  guest-kvm-nested: the guest's kvm_intel reports "
             "nested=Y\n");
    has(out, "6 passed, 0 failed, 2 skipped\n");
    ck_assert_uint_eq(linux_runs, 3);
    free(out);
    free(err);
}
END_TEST

/* An agent that stops answering after the ping: guest-agent fails, the
 * rest is skipped, nothing is run in the guest. */
START_TEST(test_osinfo_silent)
{
    char *out, *err;
    guest.osinfo_silent = true;
    capture_begin();
    int ret = run(LIVE, "-d", "guest", "--timeout", "1", NULL);
    capture_end(&out, &err);
    ck_assert_msg(ret == 1, "exit %d: %s%s", ret, out, err);
    has(out, "FAIL  guest-agent: gave up asking the guest's operating "
             "system: no answer within 1 s\n");
    has(out, "SKIP  guest-cpu-flags: not checked: the guest agent stopped "
             "answering\n");
    ck_assert_uint_eq(calls, 2);
    ck_assert_uint_eq(linux_runs, 0);
    free(out);
    free(err);
}
END_TEST

/* verify on a Windows guest, with what PowerShell prints there. */
static char *
windows_run(const char *fixture, int want)
{
    char *out, *err;
    guest.osinfo = windows_osinfo;
    guest.windows = fixture;
    capture_begin();
    int ret = run(LIVE, "-d", "guest", NULL);
    capture_end(&out, &err);
    ck_assert_msg(ret == want, "exit %d: %s%s", ret, out, err);
    ck_assert_str_eq(err, "");
    /* Asked once which OS; no Linux command, one PowerShell query. */
    ck_assert_uint_eq(linux_runs, 0);
    ck_assert_uint_eq(windows_runs, 1);
    free(err);
    return out;
}

/* The Linux checks are not checkable there: skipped, saying why. */
static void
windows_skips(const char *out)
{
    has(out, "SKIP  guest-kvm-device: not checkable in a Windows guest: "
             "/dev/kvm is Linux's\n");
    has(out, "SKIP  guest-kvm-nested: not checkable in a Windows guest: the "
             "kvm module's nested parameter is Linux's\n");
}

/* Windows reports every Hyper-V requirement: a pass, exit 0. */
START_TEST(test_windows_ready)
{
    char *out = windows_run("windows-hyperv-ready.json", 0);
    has(out, "PASS  guest-agent: the guest agent answers, in Windows 10 "
             "Pro\n");
    has(out, "PASS  guest-cpu-flags: Windows in the guest reports VM monitor "
             "mode extensions, second level address translation and "
             "virtualization enabled in firmware on every processor (1): "
             "Hyper-V can start\n");
    windows_skips(out);
    has(out, "4 passed, 0 failed, 4 skipped\n");
    /* ping, osinfo, exec + 2 polls */
    ck_assert_uint_eq(calls, 5);
    free(out);
}
END_TEST

/* The Windows hypervisor already runs in the guest: Windows on top of
 * it reports no VT-x, which is no failure. */
START_TEST(test_windows_hypervisor_runs)
{
    char *out = windows_run("windows-vbs-running.json", 0);
    has(out, "PASS  guest-cpu-flags: virtualization-based security runs in "
             "the Windows guest: its hypervisor started, on the guest's "
             "VT-x or AMD-V with SLAT\n");
    windows_skips(out);
    free(out);

    /* Hyper-V or WSL2 without VBS: Device Guard's word. */
    windows_runs = 0;
    out = windows_run("windows-hypervisor-runs.json", 0);
    has(out, "PASS  guest-cpu-flags: Windows in the guest reports hypervisor "
             "support available (Win32_DeviceGuard): Hyper-V can start\n");
    free(out);
}
END_TEST

/* No virtualization in the Windows guest: a FAIL with the fix, exit 1. */
START_TEST(test_windows_no_virt)
{
    char *out = windows_run("windows-no-virt.json", 1);
    has(out, "FAIL  guest-cpu-flags: Windows in the guest reports no VM "
             "monitor mode extensions (VT-x or AMD-V), no second level "
             "address translation, no virtualization enabled in firmware, "
             "and no hypervisor support: Hyper-V, WSL2 and VBS cannot "
             "start\n"
             "      fix: give the domain host-passthrough with vmx (Intel) "
             "or svm (AMD) required and power-cycle it (virt-nestify -c "
             "'test:///default' --domain guest --profile nested "
             "--restart)");
    windows_skips(out);
    has(out, "3 passed, 1 failed, 4 skipped\n");
    free(out);
}
END_TEST

/* PowerShell fails, or prints what the query does not: a FAIL saying
 * so; an agent that refuses guest-exec, as on Linux. */
START_TEST(test_windows_query_fails)
{
    guest.windows_exit = 1;
    char *out = windows_run("windows-hyperv-ready.json", 1);
    has(out, "FAIL  guest-cpu-flags: the PowerShell query of the Hyper-V "
             "requirements failed in the guest (exit 1): no message\n");
    windows_skips(out);
    free(out);

    guest.windows_exit = 0;
    windows_runs = 0;
    out = windows_run("cpuinfo-intel-vmx", 1);
    has(out, "FAIL  guest-cpu-flags: cannot read what the PowerShell query "
             "of the Hyper-V requirements printed in the guest: not JSON (");
    free(out);

    char *err;
    guest.exec_disabled = true;
    capture_begin();
    int ret = run(LIVE, "-d", "guest", NULL);
    capture_end(&out, &err);
    ck_assert_int_eq(ret, 1);
    has(out, "PASS  guest-agent: the guest agent answers, in Windows 10 "
             "Pro\n");
    has(out, "FAIL  guest-cpu-flags: asking Windows for the Hyper-V "
             "requirements through the guest agent failed: the guest agent "
             "refused 'guest-exec': The command guest-exec has been disabled "
             "for this instance (GenericError)\n      fix: allow guest-exec");
    windows_skips(out);
    free(out);
    free(err);
}
END_TEST

/* The stock domain 'test' has no agent channel: said at once, and its
 * CPU is not what the profile sets. */
START_TEST(test_no_channel)
{
    char *out, *err;
    capture_begin();
    int ret = run(LIVE, "-d", "test", "-p", "nested", NULL);
    capture_end(&out, &err);
    ck_assert_msg(ret == 1, "exit %d: %s%s", ret, out, err);
    ck_assert_uint_eq(calls, 0);
    has(out, "FAIL  guest-agent: domain 'test' has no guest agent channel: "
             "the checks inside the guest need the QEMU guest agent\n"
             "      fix: add <channel type='unix'><target type='virtio' "
             "name='org.qemu.guest_agent.0'/></channel> to its <devices> "
             "(virsh -c 'test:///default' edit test)");
    has(out, "FAIL  live-cpu-mode: the running domain is not as profile "
             "'nested' sets: cpu-mode: ");
    has(out, "      fix: apply the profile and restart the domain: "
             "virt-nestify -c 'test:///default' --domain test --profile "
             "nested --restart\n");
    has(out, "SKIP  guest-cpu-flags: not checked: no guest agent\n");
    free(out);
    free(err);
}
END_TEST

/* A confidential guest: nothing is asked of it inside (it cannot run
 * VMs of its own), each guest check says why. */
START_TEST(test_confidential_guest)
{
    virDomainPtr dom = virDomainDefineXML(keep,
        "<domain type='test'>\n"
        "  <name>sev</name>\n"
        "  <memory unit='KiB'>1048576</memory>\n"
        "  <vcpu placement='static'>2</vcpu>\n"
        "  <os>\n"
        "    <type arch='x86_64'>hvm</type>\n"
        "  </os>\n"
        "  <devices>\n"
        "    <channel type='unix'>\n"
        "      <target type='virtio' name='org.qemu.guest_agent.0'/>\n"
        "    </channel>\n"
        "  </devices>\n"
        "  <launchSecurity type='sev'>\n"
        "    <cbitpos>47</cbitpos>\n"
        "    <reducedPhysBits>1</reducedPhysBits>\n"
        "    <policy>0x0003</policy>\n"
        "  </launchSecurity>\n"
        "</domain>\n");
    ck_assert_ptr_nonnull(dom);
    ck_assert_int_eq(virDomainCreate(dom), 0);
    char *out, *err;
    capture_begin();
    run(LIVE, "-d", "sev", "-p", "perf", NULL);
    capture_end(&out, &err);
    ck_assert_uint_eq(calls, 0);
    has(out, "SKIP  guest-agent: not checked: <launchSecurity type='sev'> "
             "makes a confidential guest, which cannot run VMs of its own\n");
    has(out, "SKIP  guest-kvm-nested: not checked: <launchSecurity "
             "type='sev'>");
    free(out);
    free(err);
    virDomainDestroy(dom);
    virDomainUndefine(dom);
    virDomainFree(dom);
}
END_TEST

/* apply as virt-nestify-live runs it, with its connected runs. */
static int
apply_live(int argc, char **argv)
{
    return vn_cmd_apply(argc, argv, &vn_connected);
}

/* perf pins the vCPUs: the running domain has none, then the stored
 * definition has them but the running one not yet, then both do. */
START_TEST(test_pins_follow_the_profile)
{
    char *out, *err, *backups = nst_printf("%s/backups", tmpdir);
    capture_begin();
    int ret = run(LIVE, "-d", "guest", "-p", "perf", NULL);
    capture_end(&out, &err);
    ck_assert_msg(ret == 1, "exit %d: %s%s", ret, out, err);
    has(out, "FAIL  live-vcpu-pins: the running domain is not as profile "
             "'perf' sets: vcpu-pinning: ");
    has(out, "--domain guest --profile perf --restart\n");
    free(out);
    free(err);

    /* Defined while running: the new pins wait for a power cycle. */
    static const char *const apply_prefix[] = { "virt-nestify", NULL };
    ck_assert_int_eq(test_run_command(apply_live, apply_prefix, LIVE,
                                      "--backup-dir", backups, "-d", "guest",
                                      "-p", "perf", "-q", NULL), 0);
    capture_begin();
    ret = run(LIVE, "-d", "guest", "-p", "perf", NULL);
    capture_end(&out, &err);
    ck_assert_int_eq(ret, 1);
    has(out, "FAIL  live-vcpu-pins: ");
    has(out, "      fix: the stored definition already holds the profile: "
             "power the domain off and start it again (virsh -c "
             "'test:///default' shutdown guest, then virsh -c "
             "'test:///default' start guest); a reboot inside the guest is "
             "not enough\n");
    free(out);
    free(err);

    virDomainPtr dom = virDomainLookupByName(keep, "guest");
    ck_assert_int_eq(virDomainDestroy(dom), 0);
    ck_assert_int_eq(virDomainCreate(dom), 0);
    virDomainFree(dom);
    capture_begin();
    ret = run(LIVE, "-d", "guest", "-p", "perf", NULL);
    capture_end(&out, &err);
    ck_assert_msg(ret == 0, "exit %d: %s%s", ret, out, err);
    has(out, "PASS  live-vcpu-pins: the running domain's vCPUs are pinned to "
             "host CPUs ");
    has(out, "PASS  live-other: ");
    has(out, "8 passed, 0 failed, 0 skipped\n");
    free(out);
    free(err);
    free(backups);
}
END_TEST

/* --output json: one document with every check. */
START_TEST(test_json)
{
    char *out, *err, *why = NULL;
    guest.kvm_device = false;
    capture_begin();
    int ret = run(LIVE, "-d", "guest", "-o", "json", NULL);
    capture_end(&out, &err);
    ck_assert_int_eq(ret, 1);
    struct json_object *doc = nst_json_parse(out, strlen(out), &why);
    ck_assert_msg(doc != NULL, "%s: %s", why, out);
    ck_assert_str_eq(json_object_get_string(test_json_member(doc, "domain")),
                     "guest");
    ck_assert_str_eq(json_object_get_string(test_json_member(doc, "profile")),
                     "nested");
    ck_assert_str_eq(json_object_get_string(test_json_member(doc, "result")),
                     "fail");
    struct json_object *checks = test_json_member(doc, "checks");
    ck_assert_uint_eq(json_object_array_length(checks), 8);
    static const char *const ids[] = {
        "live-cpu-mode", "live-cpu-feature", "live-vcpu-pins", "live-other",
        "guest-agent", "guest-cpu-flags", "guest-kvm-device",
        "guest-kvm-nested" };
    static const char *const results[] = { "pass", "pass", "skip", "skip",
                                           "pass", "pass", "fail", "pass" };
    for (size_t i = 0; i < 8; i++) {
        struct json_object *c = json_object_array_get_idx(checks, i);
        ck_assert_str_eq(json_object_get_string(test_json_member(c, "check")),
                         ids[i]);
        ck_assert_str_eq(json_object_get_string(test_json_member(c, "result")),
                         results[i]);
        ck_assert(json_object_is_type(test_json_member(c, "message"),
                                      json_type_string));
        ck_assert(json_object_is_type(test_json_member(c, "fix"),
                                      i == 6 ? json_type_string :
                                      json_type_null));
    }
    struct json_object *sum = test_json_member(doc, "summary");
    ck_assert(json_object_is_type(
                  test_json_member(sum, "pass"), json_type_int));
    ck_assert_int_eq(json_object_get_int64(test_json_member(sum, "pass")), 5);
    ck_assert_int_eq(json_object_get_int64(test_json_member(sum, "fail")), 1);
    ck_assert_int_eq(json_object_get_int64(test_json_member(sum, "skip")), 2);
    json_object_put(doc);
    free(out);
    free(err);
}
END_TEST

/* Bad input: exit 2, nothing on stdout, one error line. */
static void
bad_input(const char *part, const char *first, ...)
{
    char *args[16], *out, *err;
    size_t n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 15; a = va_arg(ap, const char *))
        args[n++] = (char *)a;
    va_end(ap);
    args[n] = NULL;
    capture_begin();
    int ret = test_run_command(verify_fake, verify_prefix, args[0], args[1],
                               args[2], args[3], args[4], args[5], args[6],
                               args[7], args[8], args[9], NULL);
    capture_end(&out, &err);
    ck_assert_msg(ret == 2, "exit %d: %s%s", ret, out, err);
    ck_assert_str_eq(out, "");
    has(err, part);
    free(out);
    free(err);
}

START_TEST(test_bad_input)
{
    bad_input("virt-nestify: error: verify needs --domain\n", "-c",
              "test:///default", NULL);
    bad_input("virt-nestify: error: --timeout must be a number of seconds "
              "from 1 to 3600, not '0'\n", "-d", "guest", "--timeout", "0",
              NULL);
    bad_input("virt-nestify: error: --output must be 'text' or 'json', not "
              "'xml'\n", "-d", "guest", "-o", "xml", NULL);
    bad_input("virt-nestify: error: unexpected argument 'extra'\n", "-d",
              "guest", "extra", NULL);
    bad_input("virt-nestify: error: domain 'nosuch' not found\n", LIVE,
              "-d", "nosuch", NULL);
    bad_input("unknown profile", LIVE, "-d", "guest", "-p", "nosuch", NULL);
    /* A blank -p would check the default profile; repeated -p composes,
     * so a name given twice is refused as in one -p. */
    bad_input("virt-nestify: error: --profile ' ': no profile name (see "
              "'virt-nestify profiles')\n", "-d", "guest", "-p", "nested",
              "-p", " ", NULL);
    bad_input("profile 'nested' is given twice\n", LIVE, "-d", "guest",
              "-p", "nested", "-p", "nested", NULL);
    /* Values the host cannot have are bad input, not failed checks. */
    bad_input("virt-nestify: error: domain 'guest': --set housekeeping=72: "
              "CPU 72 does not exist on the host (CPUs 0-71)\n", LIVE, "-d",
              "guest", "--set", "housekeeping=72", NULL);
    bad_input("virt-nestify: error: domain 'guest': --taken: CPU 72 does "
              "not exist on the host (CPUs 0-71)\n", LIVE, "-d", "guest",
              "--taken", "72", NULL);

    /* A domain that is not running. */
    virDomainPtr dom = virDomainLookupByName(keep, "guest");
    ck_assert_int_eq(virDomainDestroy(dom), 0);
    virDomainFree(dom);
    bad_input("virt-nestify: error: domain 'guest' is not running: verify "
              "checks a running guest (start it first)\n", LIVE, "-d",
              "guest", NULL);
    ck_assert_uint_eq(calls, 0);
}
END_TEST

START_TEST(test_help)
{
    char *out, *err;
    capture_begin();
    int ret = run("--help", NULL);
    capture_end(&out, &err);
    ck_assert_int_eq(ret, 0);
    has(out, "usage: virt-nestify verify --domain D");
    free(out);
    free(err);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("verify");
    TCase *tc = tcase_create("fake-agent");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_all_pass);
    tcase_add_test(tc, test_amd_guest);
    tcase_add_test(tc, test_no_vmx);
    tcase_add_test(tc, test_nested_off);
    tcase_add_test(tc, test_agent_silent);
    tcase_add_test(tc, test_exec_never_finishes);
    tcase_add_test(tc, test_exec_disabled);
    tcase_add_test(tc, test_old_agent);
    tcase_add_test(tc, test_osinfo_silent);
    tcase_add_test(tc, test_windows_ready);
    tcase_add_test(tc, test_windows_hypervisor_runs);
    tcase_add_test(tc, test_windows_no_virt);
    tcase_add_test(tc, test_windows_query_fails);
    tcase_add_test(tc, test_no_channel);
    tcase_add_test(tc, test_confidential_guest);
    tcase_add_test(tc, test_pins_follow_the_profile);
    tcase_add_test(tc, test_json);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_help);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

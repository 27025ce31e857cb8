/*
 * test-agent.c: the guest agent protocol of "verify" (cli/agent.c),
 * without libvirt: requests, replies, base64, the guest files
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "agent.h"
#include "cpuinfo.h"
#include "internal.h"
#include "testutil.h"

/* ------------------------------------------------------------- requests */

START_TEST(test_requests)
{
    char *r = vn_agent_ping_request();
    ck_assert_str_eq(r, "{\"execute\":\"guest-ping\"}");
    free(r);

    static const char *const args[] = { "/proc/cpuinfo", "a \"b\"\\c\n\t\x01",
                                        "" };
    r = vn_agent_exec_request("cat", args, 3);
    ck_assert_str_eq(r, "{\"execute\":\"guest-exec\",\"arguments\":"
                        "{\"path\":\"cat\",\"arg\":[\"/proc/cpuinfo\","
                        "\"a \\\"b\\\"\\\\c\\n\\t\\u0001\",\"\"],"
                        "\"capture-output\":true}}");
    /* What we send parses back to what we meant. */
    char *err = NULL;
    struct json_object *v = nst_json_parse(r, strlen(r), &err), *a, *a1;
    ck_assert_ptr_nonnull(v);
    ck_assert(json_object_object_get_ex(v, "arguments", &a));
    ck_assert(json_object_object_get_ex(a, "arg", &a));
    ck_assert_uint_eq(json_object_array_length(a), 3);
    a1 = json_object_array_get_idx(a, 1);
    ck_assert_str_eq(json_object_get_string(a1), args[1]);
    json_object_put(v);
    free(r);

    r = vn_agent_exec_request("true", NULL, 0);
    ck_assert_str_eq(r, "{\"execute\":\"guest-exec\",\"arguments\":"
                        "{\"path\":\"true\",\"arg\":[],"
                        "\"capture-output\":true}}");
    free(r);
    r = vn_agent_osinfo_request();
    ck_assert_str_eq(r, "{\"execute\":\"guest-get-osinfo\"}");
    free(r);
    r = vn_agent_exec_status_request(4242);
    ck_assert_str_eq(r, "{\"execute\":\"guest-exec-status\","
                        "\"arguments\":{\"pid\":4242}}");
    free(r);
}
END_TEST

/* --------------------------------------------------------------- replies */

static void
exec_bad(const char *reply, const char *part)
{
    char *err = NULL;
    long long pid = -7;
    ck_assert_int_eq(vn_agent_parse_exec(reply, &pid, &err), -1);
    ck_assert_int_eq(pid, -7);
    ck_assert_msg(err && strstr(err, part), "'%s': '%s' lacks '%s'",
                  reply ? reply : "NULL", err, part);
    free(err);
}

START_TEST(test_reply_exec)
{
    char *err = NULL;
    long long pid = 0;
    ck_assert_int_eq(vn_agent_parse_exec("{\"return\": {\"pid\": 1234}}",
                                         &pid, &err), 0);
    ck_assert_int_eq(pid, 1234);

    exec_bad(NULL, "no reply");
    exec_bad("{\"return\": {\"pid\": 12", "not JSON");
    exec_bad("[]", "not a JSON object");
    exec_bad("{}", "has no \"return\"");
    exec_bad("{\"return\": {}}", "no \"pid\"");
    exec_bad("{\"return\": {\"pid\": \"12\"}}", "not a process id");
    exec_bad("{\"return\": {\"pid\": 1.5}}", "not a process id");
    exec_bad("{\"return\": {\"pid\": -1}}", "not a process id");
    exec_bad("{\"return\": 5}", "no \"pid\"");
    /* Beyond int64: json-c saturates, which is no process id either. */
    exec_bad("{\"return\": {\"pid\": 99999999999999999999}}",
             "not a process id");
    /* Strictly one JSON document, nesting bounded, the byte named. */
    exec_bad("{\"return\": {\"pid\": 1}} {}", "not JSON");
    exec_bad("{\"return\": {\"pid\": 1,}}", "not JSON");
    exec_bad("{\"return\": {\"pid\": 1}, /* c */}", "at byte 23");
    exec_bad("null", "not a JSON object");
    char deep[200];
    memset(deep, '[', sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = '\0';
    exec_bad(deep, "not JSON (nesting too deep");
    exec_bad("{\"error\": {\"class\": \"GenericError\", \"desc\": \"The "
             "command guest-exec has been disabled for this instance\"}}",
             "the guest agent refused 'guest-exec': The command guest-exec "
             "has been disabled for this instance (GenericError)");
    exec_bad("{\"error\": {}}", "refused 'guest-exec': no reason given");
}
END_TEST

/* Parses a guest-exec-status reply that must be good. */
static void
status_ok(const char *reply, struct vn_agent_exec_status *st)
{
    char *err = NULL;
    int r = vn_agent_parse_exec_status(reply, st, &err);
    ck_assert_msg(r == 0, "'%s': %s", reply, err);
}

static void
status_bad(const char *reply, const char *part)
{
    struct vn_agent_exec_status st;
    char *err = NULL;
    ck_assert_int_eq(vn_agent_parse_exec_status(reply, &st, &err), -1);
    ck_assert_msg(err && strstr(err, part), "'%s': '%s' lacks '%s'", reply,
                  err, part);
    vn_agent_exec_status_clear(&st);
    free(err);
}

START_TEST(test_reply_exec_status)
{
    struct vn_agent_exec_status st;

    status_ok("{\"return\": {\"exited\": false}}", &st);
    ck_assert(!st.exited);
    ck_assert_ptr_null(st.out);
    vn_agent_exec_status_clear(&st);

    /* "flags : vmx\n" and "oops\n" */
    status_ok("{\"return\": {\"exitcode\": 0, \"out-data\": "
              "\"ZmxhZ3MgOiB2bXgK\", \"err-data\": \"b29wcwo=\", "
              "\"exited\": true, \"out-truncated\": false}}", &st);
    ck_assert(st.exited);
    ck_assert(st.has_exitcode);
    ck_assert_int_eq(st.exitcode, 0);
    ck_assert(!st.has_signal);
    ck_assert_str_eq(st.out, "flags : vmx\n");
    ck_assert_uint_eq(st.out_len, 12);
    ck_assert_str_eq(st.err, "oops\n");
    ck_assert(!st.out_truncated);
    vn_agent_exec_status_clear(&st);

    /* No output at all: out-data is absent, not empty. */
    status_ok("{\"return\": {\"exitcode\": 1, \"exited\": true}}", &st);
    ck_assert_int_eq(st.exitcode, 1);
    ck_assert_ptr_null(st.out);
    ck_assert_uint_eq(st.out_len, 0);
    ck_assert_ptr_null(st.err);
    vn_agent_exec_status_clear(&st);

    status_ok("{\"return\": {\"exited\": true, \"signal\": 9, "
              "\"out-data\": \"\", \"out-truncated\": true}}", &st);
    ck_assert(st.has_signal);
    ck_assert(!st.has_exitcode);
    ck_assert_int_eq(st.signal, 9);
    ck_assert_str_eq(st.out, "");
    ck_assert(st.out_truncated);
    vn_agent_exec_status_clear(&st);

    status_bad("{\"return\": {\"exitcode\": 0}}", "no \"exited\"");
    status_bad("{\"return\": {\"exited\": 1}}", "\"exited\" that is not "
               "true or false");
    status_bad("{\"return\": {\"exited\": true}}", "neither \"exitcode\" "
               "nor \"signal\"");
    status_bad("{\"return\": {\"exited\": true, \"exitcode\": \"0\"}}",
               "\"exitcode\" that is not a whole number");
    status_bad("{\"return\": {\"exited\": true, \"exitcode\": 2147483648}}",
               "\"exitcode\" that is not a whole number");
    status_bad("{\"return\": {\"exited\": true, \"exitcode\": 0, "
               "\"out-data\": 5}}", "\"out-data\" that is not a string");
    status_bad("{\"return\": {\"exited\": true, \"exitcode\": 0, "
               "\"out-data\": \"ZmxhZ3\"}}", "bad \"out-data\": truncated "
               "base64");
    status_bad("{\"return\": {\"exited\": true, \"exitcode\": 0, "
               "\"err-data\": \"b2!w\"}}", "bad \"err-data\": invalid base64");
    status_bad("{\"return\": {\"exited\": true, \"exitcode\": 0, "
               "\"out-truncated\": \"no\"}}", "\"out-truncated\"");
    status_bad("{\"return\": []}", "not an object");
    status_bad("{\"return\": {\"exited\": tru}}", "not JSON");
    status_bad("{\"error\": {\"class\": \"GenericError\", \"desc\": "
               "\"Invalid parameter 'pid'\"}}", "refused 'guest-exec-status'"
               ": Invalid parameter 'pid'");
}
END_TEST

/* Every cut of a good reply is an error, never a crash or a read past
 * its end (the suites also run under ASan and valgrind). */
START_TEST(test_reply_truncated)
{
    static const char full[] =
        "{\"return\": {\"exitcode\": 0, \"out-data\": \"ZmxhZ3MgOiB2bXgK\", "
        "\"err-data\": \"\", \"exited\": true, \"out-truncated\": false}}";
    size_t n = strlen(full);
    for (size_t cut = 0; cut < n; cut++) {
        char *text = strndup(full, cut);
        struct vn_agent_exec_status st;
        char *err = NULL;
        long long pid;
        ck_assert_int_eq(vn_agent_parse_exec_status(text, &st, &err), -1);
        ck_assert_ptr_nonnull(err);
        vn_agent_exec_status_clear(&st);
        free(err);
        err = NULL;
        ck_assert_int_eq(vn_agent_parse_exec(text, &pid, &err), -1);
        free(err);
        free(text);
    }
    struct vn_agent_exec_status st;
    status_ok(full, &st);
    ck_assert_str_eq(st.out, "flags : vmx\n");
    ck_assert_str_eq(st.err, "");
    vn_agent_exec_status_clear(&st);
}
END_TEST

/* ---------------------------------------------------------------- base64 */

static void
b64_ok(const char *in, const char *want, size_t want_len)
{
    char *out = NULL, *err = NULL;
    size_t len = 99;
    ck_assert_msg(vn_base64_decode(in, strlen(in), &out, &len, &err) == 0,
                  "'%s': %s", in, err);
    ck_assert_uint_eq(len, want_len);
    ck_assert(memcmp(out, want, len) == 0);
    ck_assert_int_eq(out[len], '\0');
    free(out);
}

static void
b64_bad(const char *in, const char *part)
{
    char *out = (char *)"x", *err = NULL;
    size_t len = 99;
    ck_assert_int_eq(vn_base64_decode(in, strlen(in), &out, &len, &err), -1);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(len, 0);
    ck_assert_msg(err && strstr(err, part), "'%s': '%s' lacks '%s'", in, err,
                  part);
    free(err);
}

START_TEST(test_base64)
{
    b64_ok("", "", 0);
    b64_ok("Zg==", "f", 1);
    b64_ok("Zm8=", "fo", 2);
    b64_ok("Zm9v", "foo", 3);
    b64_ok("Zm9vYmFy", "foobar", 6);
    b64_ok("AP8A", "\0\xff\0", 3);
    b64_ok("+/+/", "\xfb\xff\xbf", 3);
    b64_bad("Zm9", "truncated base64");
    b64_bad("Zm9vY", "truncated base64");
    b64_bad("Zm9vYmFy\n", "truncated base64");
    b64_bad("Zm9v\nmFy", "invalid base64 at character 4");
    b64_bad("Z===", "invalid base64 at character 1");
    b64_bad("=m9v", "invalid base64 at character 0");
    b64_bad("Zg==Zm9v", "invalid base64 at character 2");
    b64_bad("Zm=v", "invalid base64 at character 3");
    b64_bad("Zm9-", "invalid base64 at character 3");
}
END_TEST

/* ----------------------------------------------------------- guest files */

START_TEST(test_cpuinfo)
{
    size_t len;
    char *text = test_read_srcfile("tests/fixtures/guest/cpuinfo-intel-vmx",
                                   &len);
    struct vn_cpuinfo info;
    vn_cpuinfo_parse(text, len, &info);
    ck_assert_uint_eq(info.cpus, 2);
    ck_assert_uint_eq(info.vmx, 2);
    ck_assert_uint_eq(info.svm, 0);
    /* The host doctor's part of the same reading. */
    ck_assert_int_eq(info.vendor, VN_CPU_INTEL);
    free(text);

    text = test_read_srcfile("tests/fixtures/guest/cpuinfo-amd-svm", &len);
    vn_cpuinfo_parse(text, len, &info);
    ck_assert_uint_eq(info.cpus, 2);
    ck_assert_uint_eq(info.vmx, 0);
    ck_assert_uint_eq(info.svm, 2);
    free(text);

    text = test_read_srcfile("tests/fixtures/guest/cpuinfo-amd-novirt",
                             &len);
    vn_cpuinfo_parse(text, len, &info);
    ck_assert_uint_eq(info.cpus, 2);
    ck_assert_uint_eq(info.vmx, 0);
    ck_assert_uint_eq(info.svm, 0);
    ck_assert_int_eq(info.vendor, VN_CPU_AMD);      /* from vendor_id */
    free(text);

    static const char mixed[] =
        "processor\t: 0\nflags\t\t: fpu svm lm\n\n"
        "processor\t: 1\nflags\t\t: fpu svmx vmxx lm\n\n"
        /* "vmx flags" is another line; only "flags" counts */
        "vmx flags\t: ept vpid\n"
        "flagsx\t: vmx\n"
        "flags: svm";            /* the last line has no newline */
    vn_cpuinfo_parse(mixed, strlen(mixed), &info);
    ck_assert_uint_eq(info.cpus, 3);
    ck_assert_uint_eq(info.vmx, 0);
    ck_assert_uint_eq(info.svm, 2);

    vn_cpuinfo_parse("", 0, &info);
    ck_assert_uint_eq(info.cpus, 0);
    vn_cpuinfo_parse("flags", 5, &info);
    ck_assert_uint_eq(info.cpus, 0);
}
END_TEST

START_TEST(test_nested_param)
{
    ck_assert_int_eq(vn_nested_param_parse("Y\n", 2), 1);
    ck_assert_int_eq(vn_nested_param_parse("1\n", 2), 1);
    ck_assert_int_eq(vn_nested_param_parse("Y", 1), 1);
    ck_assert_int_eq(vn_nested_param_parse("N\n", 2), 0);
    ck_assert_int_eq(vn_nested_param_parse("0\n", 2), 0);
    ck_assert_int_eq(vn_nested_param_parse("", 0), -1);
    ck_assert_int_eq(vn_nested_param_parse("\n", 1), -1);
    ck_assert_int_eq(vn_nested_param_parse("Y\n\n", 3), -1);
    ck_assert_int_eq(vn_nested_param_parse("yes\n", 4), -1);
    ck_assert_int_eq(vn_nested_param_parse("2\n", 2), -1);
}
END_TEST

/* ------------------------------------------------------ guest-get-osinfo */

static void
osinfo_ok(const char *reply, bool windows, const char *name)
{
    char *err = NULL, *got = NULL;
    bool w = !windows;
    int r = vn_agent_parse_osinfo(reply, &w, &got, &err);
    ck_assert_msg(r == 0, "'%s': %s", reply, err);
    ck_assert_msg(w == windows, "'%s': windows %d", reply, w);
    if (name)
        ck_assert_str_eq(got, name);
    else
        ck_assert_ptr_null(got);
    free(got);
}

static void
osinfo_bad(const char *reply, const char *part)
{
    char *err = NULL, *got = NULL;
    bool w = true;
    ck_assert_int_eq(vn_agent_parse_osinfo(reply, &w, &got, &err), -1);
    ck_assert(!w);
    ck_assert_ptr_null(got);
    ck_assert_msg(err && strstr(err, part), "'%s': '%s' lacks '%s'",
                  reply ? reply : "NULL", err, part);
    free(err);
}

START_TEST(test_reply_osinfo)
{
    /* qemu-ga for Windows: id "mswindows" (qga's QAPI schema). */
    osinfo_ok("{\"return\": {\"name\": \"Microsoft Windows\", "
              "\"kernel-release\": \"22631\", \"version\": \"Microsoft "
              "Windows 11\", \"variant\": \"client\", \"pretty-name\": "
              "\"Windows 11 Enterprise\", \"version-id\": \"11\", "
              "\"variant-id\": \"client\", \"kernel-version\": \"10.0\", "
              "\"machine\": \"x86_64\", \"id\": \"mswindows\"}}", true,
              "Windows 11 Enterprise");
    /* A Linux guest's os-release, and one without os-release at all. */
    osinfo_ok("{\"return\": {\"name\": \"Fedora Linux\", \"id\": "
              "\"fedora\", \"pretty-name\": \"Fedora Linux 38 (Server "
              "Edition)\", \"machine\": \"x86_64\"}}", false,
              "Fedora Linux 38 (Server Edition)");
    osinfo_ok("{\"return\": {\"kernel-release\": \"6.1.0\", \"machine\": "
              "\"x86_64\"}}", false, NULL);
    /* No pretty-name: the name; the id decides, not the name. */
    osinfo_ok("{\"return\": {\"name\": \"Microsoft Windows\", \"id\": "
              "\"mswindows\"}}", true, "Microsoft Windows");
    osinfo_ok("{\"return\": {\"name\": \"Microsoft Windows\", \"id\": "
              "\"windows\"}}", false, "Microsoft Windows");
    osinfo_ok("{\"return\": {\"id\": 7}}", false, NULL);
    /* The guest's text is printed in one line, and not at any length. */
    osinfo_ok("{\"return\": {\"id\": \"mswindows\", \"pretty-name\": "
              "\"Win\\ndows\\u001b[31m\"}}", true, "Win?dows?[31m");
    char *err = NULL, *got = NULL;
    bool w;
    char *longname = nst_printf("{\"return\": {\"id\": \"mswindows\", "
                                "\"pretty-name\": \"%0200d\"}}", 0);
    ck_assert_int_eq(vn_agent_parse_osinfo(longname, &w, &got, &err), 0);
    ck_assert_uint_eq(strlen(got), 80);
    free(got);
    free(longname);

    /* Old agents lack the command; some block it. */
    osinfo_bad("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The "
               "command guest-get-osinfo has not been found\"}}",
               "the guest agent refused 'guest-get-osinfo': The command "
               "guest-get-osinfo has not been found (CommandNotFound)");
    osinfo_bad(NULL, "no reply to 'guest-get-osinfo'");
    osinfo_bad("{\"return\": [\"mswindows\"]}", "is not an object");
    osinfo_bad("{\"return\": {\"id\": \"mswindows\"}", "not JSON");
}
END_TEST

/* ------------------------------------------------------ Windows guests */

static void
windows_ok(const char *text, unsigned int cpus, unsigned int vmx,
           unsigned int slat, unsigned int firmware, int vbs, bool support)
{
    struct vn_windows_virt w;
    char *err = NULL;
    int r = vn_windows_virt_parse(text, strlen(text), &w, &err);
    ck_assert_msg(r == 0, "'%s': %s", text, err);
    ck_assert_uint_eq(w.cpus, cpus);
    ck_assert_uint_eq(w.vmx, vmx);
    ck_assert_uint_eq(w.slat, slat);
    ck_assert_uint_eq(w.firmware, firmware);
    ck_assert_int_eq(w.vbs, vbs);
    ck_assert_int_eq(w.hypervisor_support, support);
}

static void
windows_bad(const char *text, const char *part)
{
    struct vn_windows_virt w;
    char *err = NULL;
    ck_assert_int_eq(vn_windows_virt_parse(text, strlen(text), &w, &err), -1);
    ck_assert_msg(err && strstr(err, part), "'%s': '%s' lacks '%s'", text,
                  err, part);
    free(err);
}

#define CPU(a, b, c) \
    "{\"VMMonitorModeExtensions\":" a ",\"SecondLevelAddressTranslation" \
    "Extensions\":" b ",\"VirtualizationFirmwareEnabled\":" c "}"

START_TEST(test_windows_virt)
{
    /* The fixtures verify's tests answer with. */
    static const struct {
        const char *file;
        unsigned int have;
        int vbs;
        bool support;
    } files[] = {
        { "windows-hyperv-ready.json", 1, 0, true },
        { "windows-vbs-running.json", 0, 2, true },
        { "windows-hypervisor-runs.json", 0, 0, true },
        { "windows-no-virt.json", 0, 0, false },
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char *rel = nst_printf("tests/fixtures/guest/%s", files[i].file);
        size_t len;
        char *text = test_read_srcfile(rel, &len);
        ck_assert_ptr_nonnull(text);
        /* PowerShell ends its output with CRLF. */
        ck_assert(len > 2 && strcmp(text + len - 2, "\r\n") == 0);
        windows_ok(text, 1, files[i].have, files[i].have, files[i].have,
                   files[i].vbs, files[i].support);
        free(text);
        free(rel);
    }

    /* Two sockets, one without SLAT; Windows without Device Guard
     * (null), and null where Windows cannot tell. */
    windows_ok("{\"Processors\":[" CPU("true", "true", "true") ","
               CPU("true", "false", "true") "],"
               "\"VirtualizationBasedSecurityStatus\":null,"
               "\"AvailableSecurityProperties\":null}", 2, 2, 1, 2, -1,
               false);
    windows_ok("{\"Processors\":[" CPU("true", "null", "true") "]}", 1, 1, 0,
               1, -1, false);
    /* Windows PowerShell 5.1's other shapes of a list: one element
     * alone, and an array it wrapped as {"value": [...], "Count": n}. */
    windows_ok("{\"Processors\":" CPU("true", "true", "false") ","
               "\"AvailableSecurityProperties\":1}", 1, 1, 1, 0, -1, true);
    windows_ok("{\"Processors\":{\"value\":[" CPU("true", "true", "true") ","
               CPU("true", "true", "true") "],\"Count\":2},"
               "\"AvailableSecurityProperties\":{\"value\":[2,1],"
               "\"Count\":2}}", 2, 2, 2, 2, -1, true);

    windows_bad("", "not JSON");
    windows_bad("Get-CimInstance : Invalid namespace\r\n", "not JSON");
    windows_bad("[]", "not a JSON object");
    windows_bad("{}", "no \"Processors\"");
    windows_bad("{\"Processors\":[]}", "no \"Processors\"");
    windows_bad("{\"Processors\":null}", "no \"Processors\"");
    windows_bad("{\"Processors\":true}", "no \"Processors\"");
    windows_bad("{\"Processors\":[1]}", "a processor that is not an object");
    windows_bad("{\"Processors\":[" CPU("\"True\"", "true", "true") "]}",
                "a \"VMMonitorModeExtensions\" that is not true or false");
    windows_bad("{\"Processors\":[" CPU("true", "true", "true") "],"
                "\"VirtualizationBasedSecurityStatus\":\"2\"}",
                "not a status");
    windows_bad("{\"Processors\":[" CPU("true", "true", "true") "],"
                "\"AvailableSecurityProperties\":[\"1\"]}",
                "not a list of numbers");
    windows_bad("{\"Processors\":[" CPU("true", "true", "true") "]} {}",
                "not JSON");
}
END_TEST

/* The query: one -Command for powershell.exe, printing JSON, with no
 * double quote (Windows's command line parser would take it). */
START_TEST(test_windows_query)
{
    ck_assert_uint_eq(vn_windows_query_nargs, 4);
    ck_assert_str_eq(vn_windows_query_args[2], "-Command");
    const char *q = vn_windows_query_args[3];
    for (size_t i = 0; i < vn_windows_query_nargs; i++)
        ck_assert_ptr_null(strchr(vn_windows_query_args[i], '"'));
    /* It asks what the parser reads. */
    static const char *const names[] = {
        "Processors", "VMMonitorModeExtensions",
        "SecondLevelAddressTranslationExtensions",
        "VirtualizationFirmwareEnabled",
        "VirtualizationBasedSecurityStatus", "AvailableSecurityProperties",
        "ConvertTo-Json" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        ck_assert_msg(strstr(q, names[i]), "the query lacks %s", names[i]);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("agent");
    TCase *tc = tcase_create("protocol");
    tcase_add_test(tc, test_requests);
    tcase_add_test(tc, test_reply_exec);
    tcase_add_test(tc, test_reply_exec_status);
    tcase_add_test(tc, test_reply_truncated);
    tcase_add_test(tc, test_base64);
    tcase_add_test(tc, test_cpuinfo);
    tcase_add_test(tc, test_nested_param);
    tcase_add_test(tc, test_reply_osinfo);
    tcase_add_test(tc, test_windows_virt);
    tcase_add_test(tc, test_windows_query);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

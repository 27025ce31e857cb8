/*
 * test-live.c: live mode against libvirt's test driver, in this process
 *
 * test:///default keeps its state while a connection to it is open, so
 * each test holds one (keep) and drives the tool's own code (libvntool)
 * on the same driver: the stock running domain 'test' (2 vCPUs, 8 GiB).
 * The test host has no vmx, so planning uses --host-caps with the Intel
 * fixture, as an operator would plan for another host.
 */
#include <check.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "apply.h"
#include "conn.h"
#include "internal.h"
#include "testlive.h"
#include "testutil.h"
#include "tool.h"

static virConnectPtr keep;
static char backups[64];
static char *intel;

static void
setup(void)
{
    char *err = NULL;
    keep = vn_conn_open("test:///default", &err);
    ck_assert_msg(keep != NULL, "%s", err);
    /* A fresh template each time: without fork, setup runs again in
     * this process. */
    snprintf(backups, sizeof(backups), "/tmp/nst-live-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(backups));
    intel = nst_printf("%s/tests/fixtures/hosts/intel-e5-2697v4.xml",
                       test_srcdir());
}

static void
teardown(void)
{
    char *cmd = nst_printf("rm -rf '%s'", backups);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(intel);
    vn_conn_close(keep);
}

static size_t
count_backups(void)
{
    DIR *dir = opendir(backups);
    size_t n = 0;
    if (!dir)
        return 0;
    for (struct dirent *e; (e = readdir(dir));)
        if (e->d_name[0] != '.')
            n++;
    closedir(dir);
    return n;
}

static char *
stored_xml(const char *name)
{
    return test_stored_xml(keep, name);
}

/* Runs "virt-nestify ARGS..." (NULL-terminated) in this process. */
static const char *const apply_prefix[] = { "virt-nestify", NULL };
/* apply as virt-nestify-live runs it, with its connected runs. */
static int
apply_live(int argc, char **argv)
{
    return vn_cmd_apply(argc, argv, &vn_connected);
}

#define run(...) test_run_command(apply_live, apply_prefix, __VA_ARGS__)

/* Sends stdout to a file until capture_end, which returns what came. */
static int saved_stdout = -1;
static char capture_path[128];

static void
capture_begin(void)
{
    snprintf(capture_path, sizeof(capture_path), "%s/stdout", backups);
    fflush(stdout);
    saved_stdout = dup(STDOUT_FILENO);
    FILE *fp = fopen(capture_path, "w");
    ck_assert_ptr_nonnull(fp);
    dup2(fileno(fp), STDOUT_FILENO);
    fclose(fp);
}

static char *
capture_end(void)
{
    fflush(stdout);
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);
    char *out = test_read_file(capture_path, NULL);
    ck_assert_ptr_nonnull(out);
    unlink(capture_path);
    return out;
}

#define LIVE "-c", "test:///default", "--host-caps", intel, \
             "--backup-dir", backups

START_TEST(test_apply_then_nothing_to_do)
{
    char *before = stored_xml("test");
    ck_assert_int_eq(run(LIVE, "-d", "test", "-p", "perf", "--dry-run", NULL),
                     0);
    char *after_dry = stored_xml("test");
    ck_assert_str_eq(before, after_dry);
    ck_assert_uint_eq(count_backups(), 0);
    ck_assert_int_eq(run(LIVE, "-d", "test", "-p", "perf", "--check", NULL),
                     1);

    ck_assert_int_eq(run(LIVE, "-d", "test", "-p", "perf", NULL), 0);
    char *after = stored_xml("test");
    ck_assert_ptr_nonnull(strstr(after, "<vcpupin vcpu='1' cpuset='37'/>"));
    ck_assert_ptr_nonnull(strstr(after, "<memnode cellid='0' mode='strict' "
                                        "nodeset='0'/>"));
    ck_assert_uint_eq(count_backups(), 1);
    DIR *dir = opendir(backups);
    for (struct dirent *e; (e = readdir(dir));) {
        if (e->d_name[0] == '.')
            continue;
        char *path = nst_printf("%s/%s", backups, e->d_name);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 0777, 0600);
        char *saved = test_read_file(path, NULL);
        ck_assert_str_eq(saved, before);   /* the previous definition */
        free(saved);
        free(path);
    }
    closedir(dir);
    struct stat st;
    ck_assert_int_eq(stat(backups, &st), 0);

    /* Second run: nothing to change, nothing defined, no backup. */
    ck_assert_int_eq(run(LIVE, "-d", "test", "-p", "perf", NULL), 0);
    ck_assert_int_eq(run(LIVE, "-d", "test", "-p", "perf", "--check", NULL),
                     0);
    ck_assert_uint_eq(count_backups(), 1);
    char *again = stored_xml("test");
    ck_assert_str_eq(again, after);
    free(before);
    free(after_dry);
    free(after);
    free(again);
}
END_TEST

START_TEST(test_lookup_by_uuid_and_id)
{
    ck_assert_int_eq(run(LIVE, "-d", "6695eb01-f6a4-8304-79aa-97f2502e193f",
                         "-p", "secure", NULL), 0);
    char *xml = stored_xml("test");
    ck_assert_ptr_nonnull(strstr(xml, "<hard_limit unit='KiB'>9227468"));
    free(xml);
    ck_assert_int_eq(run(LIVE, "-d", "1", "-p", "secure", "--check", NULL),
                     0);
}
END_TEST

START_TEST(test_other_domains_pins_are_taken)
{
    virDomainPtr other = virDomainDefineXML(keep,
        "<domain type='test'><name>other</name><memory>1048576</memory>"
        "<vcpu>8</vcpu><cputune>"
        "<vcpupin vcpu='0' cpuset='1-17,37-53'/>"
        "</cputune><os><type>hvm</type></os></domain>");
    ck_assert_ptr_nonnull(other);
    ck_assert_int_eq(run(LIVE, "-d", "test", "-p", "perf", NULL), 0);
    char *xml = stored_xml("test");
    /* Cell 0 is taken: the guest goes to cell 1. */
    ck_assert_ptr_nonnull(strstr(xml, "<vcpupin vcpu='0' cpuset='19'/>"));
    ck_assert_ptr_nonnull(strstr(xml, "<memory mode='strict' nodeset='1'/>"));
    free(xml);
    virDomainUndefine(other);
    virDomainFree(other);
}
END_TEST

START_TEST(test_restart)
{
    ck_assert_int_eq(run(LIVE, "-d", "test", "-p", "secure", "--restart",
                         "--timeout", "5", NULL), 0);
    virDomainPtr dom = virDomainLookupByName(keep, "test");
    ck_assert_int_eq(virDomainIsActive(dom), 1);
    char *live = virDomainGetXMLDesc(dom, 0);
    ck_assert_ptr_nonnull(strstr(live, "<shares>200</shares>"));
    free(live);
    virDomainFree(dom);
}
END_TEST

START_TEST(test_refusals_change_nothing)
{
    char *before = stored_xml("test");
    ck_assert_int_eq(run(LIVE, "-d", "nosuch", "-p", "perf", NULL), 2);
    ck_assert_int_eq(run("-c", "test:///nonexistent/file.xml", "-d", "test",
                         "-p", "perf", NULL), 3);
    /* No vmx on the test driver's own host: refused, exit 2. */
    ck_assert_int_eq(run("-c", "test:///default", "-d", "test", "-p",
                         "nested", "--backup-dir", backups, NULL), 2);
    /* A backup directory that cannot be created: exit 3, nothing defined. */
    char *file = nst_printf("%s/plain", backups);
    test_write_file(file, "x", 1);
    char *bad = nst_printf("%s/sub", file);
    ck_assert_int_eq(run("-c", "test:///default", "--host-caps", intel,
                         "--backup-dir", bad, "-d", "test", "-p", "perf",
                         NULL), 3);
    char *after = stored_xml("test");
    ck_assert_str_eq(before, after);
    free(after);
    free(bad);
    free(file);

    /* A transient domain is refused and stays as it is. */
    virDomainPtr t = virDomainCreateXML(keep,
        "<domain type='test'><name>transient</name><memory>1048576</memory>"
        "<vcpu>2</vcpu><os><type>hvm</type></os></domain>", 0);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(run(LIVE, "-d", "transient", "-p", "perf", NULL), 2);
    ck_assert_int_eq(virDomainIsPersistent(t), 0);
    virDomainDestroy(t);
    virDomainFree(t);
    free(before);
}
END_TEST

/* Redefines the domain between planning and define, as another tool
 * might. */
static void
redefine_meanwhile(virDomainPtr dom, void *opaque)
{
    char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    char *changed = nst_printf("%.*s<description>edited</description>%s",
                               (int)(strstr(xml, "<memory") - xml), xml,
                               strstr(xml, "<memory"));
    virDomainPtr d = virDomainDefineXML(virDomainGetConnect(dom), changed);
    ck_assert_ptr_nonnull(d);
    virDomainFree(d);
    free(changed);
    free(xml);
}

/*
 * Runs, in this process, what steps a rival makes between our steps.
 * Stderr goes to BACKUPS.stderr; returns the exit status, *errors what
 * was said.
 */
static int
run_live_hooked(const char *domain, void (*before)(virDomainPtr, void *),
                void (*after)(virDomainPtr, void *), void *opaque,
                char **errors)
{
    struct vn_apply_opts o = {
        .plan = { .connect = "test:///default", .host_caps = intel },
        .domain = domain, .backup_dir = backups, .timeout = 120, .quiet = true,
        .test_before_define = before, .test_after_define = after,
        .test_opaque = opaque,
    };
    struct nst_profile profile;
    size_t n;
    const struct nst_profile_source *src = nst_builtin_profiles(&n);
    nst_profile_init(&profile);
    ck_assert_int_eq(nst_profile_compose(&profile, "perf", src, n, NULL), 0);
    /* Beside the backups, which are counted. */
    char *err_path = nst_printf("%s.stderr", backups);
    fflush(stderr);
    int saved_err = dup(STDERR_FILENO);
    FILE *err_fp = fopen(err_path, "w");
    dup2(fileno(err_fp), STDERR_FILENO);
    int ret = vn_apply_live(&o, &profile);
    fflush(stderr);
    dup2(saved_err, STDERR_FILENO);
    close(saved_err);
    fclose(err_fp);
    *errors = test_read_file(err_path, NULL);
    unlink(err_path);
    free(err_path);
    nst_profile_clear(&profile);
    return ret;
}

/* Another tool redefines the domain between planning and define. */
START_TEST(test_changed_meanwhile)
{
    char *errors = NULL;
    ck_assert_int_eq(run_live_hooked("test", redefine_meanwhile, NULL, NULL,
                                     &errors), 3);
    char *xml = stored_xml("test");
    /* The other tool's edit stands; ours was not applied. */
    ck_assert_ptr_nonnull(strstr(xml, "<description>edited</description>"));
    ck_assert_ptr_null(strstr(xml, "vcpupin"));
    /* Nothing of ours is left: the backup would hold what is stored. */
    ck_assert_uint_eq(count_backups(), 0);
    free(xml);
    free(errors);
}
END_TEST

/* The CPUs a domain's stored definition pins its vCPUs to. */
static void
stored_pins(const char *name, struct nst_cpuset *pins)
{
    char *xml = stored_xml(name);
    struct nst_doc *doc = NULL;
    nst_cpuset_clear_all(pins);
    ck_assert_int_eq(nst_doc_parse(xml, strlen(xml), name, &doc, NULL), 0);
    ck_assert_int_eq(nst_doc_vcpu_pins(doc, pins, NULL), 0);
    nst_doc_free(doc);
    free(xml);
}

/* Defines 'rival', a shut-off domain pinning cpuset, as a run elsewhere
 * that planned on the same CPUs would (again: an update). */
static void
define_rival(const char *cpuset)
{
    char *xml = nst_printf("<domain type='test'><name>rival</name>"
                           "<uuid>0a2f6a8e-61c7-4d2e-9d0e-3c4b5a697801</uuid>"
                           "<memory>1048576</memory><vcpu>1</vcpu>"
                           "<cputune><vcpupin vcpu='0' cpuset='%s'/>"
                           "</cputune><os><type>hvm</type></os></domain>",
                           cpuset);
    virDomainPtr d = virDomainDefineXML(keep, xml);
    ck_assert_msg(d != NULL, "rival: %s", virGetLastErrorMessage());
    virDomainFree(d);
    free(xml);
}

/* What a run that lost its CPUs to the rival and planned again leaves:
 * it said so, 'test' pins CPUs the rival does not, one backup. */
static void
planned_again(const char *errors)
{
    ck_assert_msg(strstr(errors, "another run took what it was planned on"),
                  "no second plan: %s", errors);
    struct nst_cpuset ours, rival;
    stored_pins("test", &ours);
    stored_pins("rival", &rival);
    ck_assert(nst_cpuset_count(&ours) > 0);
    ck_assert(!nst_cpuset_intersects(&ours, &rival));
    ck_assert_uint_eq(count_backups(), 1);
}

static void
rival_takes_most(virDomainPtr dom, void *opaque)
{
    define_rival("0-63");
}

/* A rival pinned most CPUs while we planned: the check before the
 * define sees it, and the run plans again on what is left. */
START_TEST(test_rival_before_define)
{
    char *errors = NULL;
    ck_assert_int_eq(run_live_hooked("test", rival_takes_most, NULL, NULL,
                                     &errors), 0);
    planned_again(errors);
    free(errors);
}
END_TEST

/* The rival of a run that defined at the same time: it pins what we
 * just stored (once). */
static void
rival_takes_ours(virDomainPtr dom, void *opaque)
{
    int *times = opaque;
    if ((*times)++)
        return;
    struct nst_cpuset pins;
    stored_pins(virDomainGetName(dom), &pins);
    char *text = nst_cpuset_format(&pins);
    define_rival(text);
    free(text);
}

/* The check after the define sees the rival: ours steps back (the
 * previous definition restored, its backup gone) and plans again. */
START_TEST(test_rival_after_define)
{
    char *errors = NULL;
    int times = 0;
    ck_assert_int_eq(run_live_hooked("test", NULL, rival_takes_ours, &times,
                                     &errors), 0);
    ck_assert_int_eq(times, 2);
    planned_again(errors);
    free(errors);
}
END_TEST

/* After our define another tool stores its own definition, and a rival
 * pins every CPU: ours would have to step back, but the definition is
 * no longer ours to replace. */
static void
edit_after_define(virDomainPtr dom, void *opaque)
{
    redefine_meanwhile(dom, opaque);
    define_rival("0-71");
}

START_TEST(test_other_writer_after_define)
{
    char *errors = NULL;
    ck_assert_int_eq(run_live_hooked("test", NULL, edit_after_define, NULL,
                                     &errors), 3);
    ck_assert_msg(strstr(errors, "another writer has changed the definition "
                         "since, and its definition stays") &&
                  strchr(errors, '\n') == errors + strlen(errors) - 1,
                  "not one clear line: %s", errors);
    char *xml = stored_xml("test");
    ck_assert_ptr_nonnull(strstr(xml, "<description>edited</description>"));
    free(xml);
    ck_assert_uint_eq(count_backups(), 1);   /* what we overwrote */
    free(errors);
}
END_TEST

/* A domain removed after our define is not re-created. */
static void
undefine_after_define(virDomainPtr dom, void *opaque)
{
    ck_assert_int_eq(virDomainUndefine(dom), 0);
    define_rival("0-71");
}

START_TEST(test_removed_after_define)
{
    virDomainPtr d = virDomainDefineXML(keep,
        "<domain type='test'><name>victim</name><memory>1048576</memory>"
        "<vcpu>2</vcpu><os><type>hvm</type></os></domain>");
    ck_assert_ptr_nonnull(d);
    virDomainFree(d);
    char *errors = NULL;
    ck_assert_int_eq(run_live_hooked("victim", NULL, undefine_after_define,
                                     NULL, &errors), 3);
    ck_assert_msg(strstr(errors, "the domain was removed meanwhile and is "
                         "not re-created"), "unclear error: %s", errors);
    ck_assert_ptr_null(virDomainLookupByName(keep, "victim"));
    free(errors);
}
END_TEST

/* A dry run prints the diff with passwords masked and changes nothing. */
START_TEST(test_dry_run_masks_secrets)
{
    virDomainPtr d = virDomainDefineXML(keep,
        "<domain type='test'><name>vnc</name><memory>1048576</memory>"
        "<vcpu>2</vcpu><os><type>hvm</type></os><devices>"
        "<graphics type='vnc' port='5901' passwd='s3cret'/>"
        "</devices></domain>");
    ck_assert_ptr_nonnull(d);
    char *before = stored_xml("vnc");
    ck_assert_ptr_nonnull(strstr(before, "passwd='s3cret'"));

    capture_begin();
    int ret = run(LIVE, "-d", "vnc", "-p", "nested", "--dry-run", NULL);
    char *out = capture_end();
    ck_assert_int_eq(ret, 0);
    ck_assert_ptr_null(strstr(out, "s3cret"));
    ck_assert_ptr_nonnull(strstr(out, "+  <cpu mode='host-passthrough'"));
    char *after = stored_xml("vnc");
    ck_assert_str_eq(before, after);
    free(out);
    free(before);
    free(after);
    virDomainUndefine(d);
    virDomainFree(d);
}
END_TEST

/* --output json: one document on stdout, progress elsewhere. */
START_TEST(test_json_output)
{
    capture_begin();
    int ret = run(LIVE, "-d", "test", "-p", "secure", "--output", "json",
                  NULL);
    char *out = capture_end();
    ck_assert_int_eq(ret, 0);
    ck_assert_msg(out[0] == '{' && strcmp(out + strlen(out) - 2, "}\n") == 0,
                  "not one JSON document:\n%s", out);
    ck_assert_ptr_nonnull(strstr(out, "\"result\": \"changed\""));
    ck_assert_ptr_null(strstr(out, "defined (previous"));
    free(out);
}
END_TEST

/* Kills the daemon serving the connection between planning and define. */
static void
kill_daemon(virDomainPtr dom, void *opaque)
{
    pid_t pid = *(pid_t *)opaque;
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
}

/*
 * A real connection lost mid-run: a libvirtd of our own, on a private
 * socket, serves the test driver; it dies after the backup is written.
 * The run stops with exit 3 and a clear message, nothing is defined, the
 * backup stays.
 */
START_TEST(test_connection_lost)
{
    char *conf = nst_printf("%s/libvirtd.conf", backups);
    char *text = nst_printf("unix_sock_dir = \"%s\"\nlisten_tcp = 0\n"
                            "listen_tls = 0\nauth_unix_rw = \"none\"\n"
                            "auth_unix_ro = \"none\"\n", backups);
    char *sock = nst_printf("%s/libvirt-sock", backups);
    char *pidfile = nst_printf("%s/libvirtd.pid", backups);
    char *log = nst_printf("%s/libvirtd.log", backups);
    test_write_file(conf, text, strlen(text));
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *fp = fopen(log, "w");
        if (fp) {
            dup2(fileno(fp), STDOUT_FILENO);
            dup2(fileno(fp), STDERR_FILENO);
        }
        /* No driver modules: only the built-in test driver, so this
         * daemon touches no system state and cannot collide with a
         * system libvirtd. */
        setenv("LIBVIRT_DRIVER_DIR", backups, 1);
        execlp("libvirtd", "libvirtd", "--config", conf, "--pid-file",
               pidfile, (char *)NULL);
        _exit(127);
    }
    /* Up when it takes a connection: its socket file appears at bind(),
     * before libvirtd listens on it. */
    char *uri = nst_printf("test+unix:///default?socket=%s", sock);
    virConnectPtr up = NULL;
    for (int i = 0; i < 200 && !(up = virConnectOpen(uri)); i++)
        usleep(50 * 1000);
    ck_assert_msg(up != NULL, "libvirtd did not start, see %s", log);
    virConnectClose(up);

    char *dir = nst_printf("%s/backups", backups);
    struct vn_apply_opts o = {
        .plan = { .connect = uri, .host_caps = intel },
        .domain = "test", .backup_dir = dir, .timeout = 120,
        .test_before_define = kill_daemon, .test_opaque = &pid,
    };
    struct nst_profile profile;
    size_t n;
    const struct nst_profile_source *src = nst_builtin_profiles(&n);
    nst_profile_init(&profile);
    ck_assert_int_eq(nst_profile_compose(&profile, "perf", src, n, NULL), 0);
    capture_begin();
    fflush(stderr);
    int saved_err = dup(STDERR_FILENO);
    char *err_path = nst_printf("%s/stderr", backups);
    FILE *err_fp = fopen(err_path, "w");
    dup2(fileno(err_fp), STDERR_FILENO);
    int ret = vn_apply_live(&o, &profile);
    fflush(stderr);
    dup2(saved_err, STDERR_FILENO);
    close(saved_err);
    fclose(err_fp);
    free(capture_end());
    char *errors = test_read_file(err_path, NULL);
    ck_assert_msg(ret == 3, "exit %d: %s", ret, errors);
    ck_assert_msg(strstr(errors, "virt-nestify: error: domain 'test': ") &&
                  (strstr(errors, ": Cannot write data: ") ||
                   strstr(errors, ": End of file while reading data: ")) &&
                  strstr(errors, "; nothing changed\n"),
                  "unclear error: %s", errors);
    free(errors);
    free(err_path);
    /* Nothing was defined, so nothing of ours is left: no backup. */
    char *cmd = nst_printf("ls '%s' | grep -q -- '-test.xml$'", dir);
    ck_assert_int_ne(system(cmd), 0);
    nst_profile_clear(&profile);
    free(cmd);
    free(dir);
    free(uri);
    free(log);
    free(pidfile);
    free(sock);
    free(text);
    free(conf);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("live");
    TCase *tc = tcase_create("test-driver");
    tcase_set_timeout(tc, 60);   /* one test starts a libvirtd */
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_apply_then_nothing_to_do);
    tcase_add_test(tc, test_lookup_by_uuid_and_id);
    tcase_add_test(tc, test_other_domains_pins_are_taken);
    tcase_add_test(tc, test_restart);
    tcase_add_test(tc, test_refusals_change_nothing);
    tcase_add_test(tc, test_changed_meanwhile);
    tcase_add_test(tc, test_rival_before_define);
    tcase_add_test(tc, test_rival_after_define);
    tcase_add_test(tc, test_other_writer_after_define);
    tcase_add_test(tc, test_removed_after_define);
    tcase_add_test(tc, test_dry_run_masks_secrets);
    tcase_add_test(tc, test_json_output);
    tcase_add_test(tc, test_connection_lost);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

/*
 * test-define.c: the real QEMU driver accepts every golden output
 *
 * Starts libvirt's QEMU driver in this process (qemu:///embed with a
 * fresh root), defines each golden XML of tests/fixtures/expected with
 * VIR_DOMAIN_DEFINE_VALIDATE, reads back what libvirt stored (after its
 * normalisation) and runs the same profile on that: nothing may change.
 * Domain type 'kvm' becomes 'qemu' for the define, as this machine has
 * no /dev/kvm and libvirt refuses type 'kvm' without it.
 *
 * A confidential guest (<launchSecurity>) defines only where QEMU can
 * launch it: libvirt 9.0's last check of a domain (qemuValidateDomainDef)
 * refuses SEV or s390-pv when QEMU's probe found no SEV or PV support,
 * and checks nothing else of the element.  Its define comes after the
 * schema has passed, so a refusal with exactly that message says the
 * whole document is valid and everything else of the domain was
 * accepted up to that check.  The golden is then defined again without
 * the element, which runs the checks that come after it (devices), and
 * the element goes back into what libvirt stored before the profile
 * runs again.  On a host whose QEMU can launch it, the first define
 * succeeds and nothing is left out.
 */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "domain.h"
#include "internal.h"
#include "testutil.h"

static char *root;
static virConnectPtr conn;

static void
quiet_errors(void *data, virErrorPtr err)
{
}

static void
setup(void)
{
    root = test_embed_root();
    char *uri = nst_printf("qemu:///embed?root=%s", root);
    virSetErrorFunc(NULL, quiet_errors);
    /* The embedded driver needs an event loop; define never waits on it. */
    ck_assert_int_eq(virEventRegisterDefaultImpl(), 0);
    conn = virConnectOpen(uri);
    ck_assert_msg(conn != NULL, "cannot open %s: %s", uri,
                  virGetLastErrorMessage());
    free(uri);
}

static void
teardown(void)
{
    if (conn)
        virConnectClose(conn);
    char *cmd = nst_printf("rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(root);
}

/* "ubuntu-guest--intel-e5-2697v4--perf+secure.xml" -> its three parts */
static void
split_name(const char *file, char **domain, char **host, char **profile)
{
    char *copy = nst_printf("%.*s", (int)(strlen(file) - 4), file);
    char *a = strstr(copy, "--");
    char *b = a ? strstr(a + 2, "--") : NULL;
    ck_assert_msg(a && b, "bad golden name %s", file);
    *a = *b = '\0';
    *domain = nst_printf("%s", copy);
    *host = nst_printf("%s", a + 2);
    *profile = nst_printf("%s", b + 2);
    for (char *c = *profile; *c; c++)
        if (*c == '+')
            *c = ',';
    free(copy);
}

/*
 * Defines xml; when libvirt refuses only because this machine's QEMU
 * cannot launch the domain's <launchSecurity> (see the top), defines it
 * without the element and stores the element's text in *held.
 */
static virDomainPtr
define_golden(const char *file, char *xml, char **held)
{
    static const char unsupported[] =
        " launch security is not supported with this QEMU binary";
    virDomainPtr dom = virDomainDefineXMLFlags(conn, xml,
                                               VIR_DOMAIN_DEFINE_VALIDATE);
    virErrorPtr e = dom ? NULL : virGetLastError();
    char *start = strstr(xml, "  <launchSecurity");
    char *end = start ? strstr(start, "</launchSecurity>\n") : NULL;

    *held = NULL;
    if (dom || !e || e->code != VIR_ERR_CONFIG_UNSUPPORTED || !e->message ||
        !strstr(e->message, unsupported) || !end)
        return dom;
    end += strlen("</launchSecurity>\n");
    *held = nst_printf("%.*s", (int)(end - start), start);
    char *without = nst_printf("%.*s%s", (int)(start - xml), xml, end);
    dom = virDomainDefineXMLFlags(conn, without, VIR_DOMAIN_DEFINE_VALIDATE);
    ck_assert_msg(dom != NULL, "%s: libvirt refused it without its "
                  "<launchSecurity> too: %s", file, virGetLastErrorMessage());
    free(without);
    return dom;
}

/* Defines one golden output and re-applies its profile to the result. */
static void
check_one(const char *file)
{
    char *domain, *host_name, *profile_name, *err = NULL;
    split_name(file, &domain, &host_name, &profile_name);
    char *path = nst_printf("tests/fixtures/expected/%s", file);
    char *xml = test_read_srcfile(path, NULL);
    const char *kvm = "<domain type='kvm'";
    char *type = strstr(xml, kvm);
    ck_assert_msg(type != NULL, "%s: no <domain type='kvm'", file);
    char *qemu_xml = nst_printf("%.*s<domain type='qemu'%s", (int)(type - xml),
                                xml, type + strlen(kvm));
    free(xml);
    xml = qemu_xml;

    char *held;
    virDomainPtr dom = define_golden(file, xml, &held);
    ck_assert_msg(dom != NULL, "%s: libvirt refused it: %s", file,
                  virGetLastErrorMessage());
    char *stored = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE |
                                       VIR_DOMAIN_XML_SECURE);
    ck_assert_ptr_nonnull(stored);
    if (held) {
        /* libvirt writes <launchSecurity> last in <domain>. */
        char *close = strstr(stored, "</domain>");
        ck_assert_ptr_nonnull(close);
        char *with = nst_printf("%.*s%s%s", (int)(close - stored), stored,
                                held, close);
        free(stored);
        stored = with;
        free(held);
    }

    /* libvirt's normalised form: the profile finds nothing to do. */
    struct nst_host *host = test_load_host(host_name, NULL);
    struct nst_profile profile;
    size_t n;
    const struct nst_profile_source *src = nst_builtin_profiles(&n);
    nst_profile_init(&profile);
    ck_assert_int_eq(nst_profile_compose(&profile, profile_name, src, n,
                                         &err), 0);
    struct nst_doc *doc = NULL;
    ck_assert_int_eq(nst_doc_parse(stored, strlen(stored), file, &doc, &err),
                     0);
    struct nst_report report;
    nst_report_init(&report, domain, profile_name);
    struct nst_apply_options opts = { .profile = &profile, .host = host };
    ck_assert_int_eq(nst_apply(doc, &opts, &report, NULL), 0);
    char *text = nst_report_format_text(&report);
    ck_assert_msg(nst_report_count(&report, NST_CHANGE) == 0,
                  "%s: the stored definition still changes:\n%s\n%s", file,
                  text, stored);
    free(text);

    ck_assert_int_eq(virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_NVRAM),
                     0);
    virDomainFree(dom);
    nst_report_clear(&report);
    nst_doc_free(doc);
    nst_profile_clear(&profile);
    nst_host_free(host);
    free(stored);
    free(xml);
    free(path);
    free(domain);
    free(host_name);
    free(profile_name);
}

static int
compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(test_define_all)
{
    char *dir_path = nst_printf("%s/tests/fixtures/expected", test_srcdir());
    DIR *dir = opendir(dir_path);
    char **files = NULL;
    size_t n = 0;

    ck_assert_ptr_nonnull(dir);
    for (struct dirent *e; (e = readdir(dir));) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".xml") == 0) {
            files = realloc(files, (n + 1) * sizeof(*files));
            files[n++] = nst_printf("%s", e->d_name);
        }
    }
    closedir(dir);
    qsort(files, n, sizeof(*files), compare);
    /* A suite that finds nothing must not pass. */
    ck_assert_uint_ge(n, 40);
    for (size_t i = 0; i < n; i++) {
        check_one(files[i]);
        free(files[i]);
    }
    free(files);
    free(dir_path);
}
END_TEST

/* The host model from this machine's real capabilities, as the QEMU
 * driver reports them: every online CPU is in a cell. */
START_TEST(test_real_host_capabilities)
{
    char *caps = virConnectGetCapabilities(conn), *err = NULL;
    struct nst_host *host = NULL;
    ck_assert_ptr_nonnull(caps);
    ck_assert_msg(nst_host_parse(caps, strlen(caps), NULL, 0, &host, &err) == 0,
                  "%s", err);
    ck_assert_uint_eq(host->ncpus, (size_t)sysconf(_SC_NPROCESSORS_ONLN));
    ck_assert_uint_ge(host->ncells, 1);
    ck_assert_str_eq(host->arch, "x86_64");
    struct nst_cpuset all, in_cells;
    nst_host_all_cpus(host, &all);
    nst_cpuset_clear_all(&in_cells);
    for (size_t i = 0; i < host->ncells; i++)
        nst_cpuset_union(&in_cells, &host->cells[i].cpus);
    ck_assert(nst_cpuset_equal(&all, &in_cells));
    nst_host_free(host);
    free(caps);
}
END_TEST

/* libvirt's test driver, in this process: 2 cells x 8 CPUs, no vendor,
 * so nested is refused with the reason. */
START_TEST(test_test_driver_capabilities)
{
    virConnectPtr test = virConnectOpen("test:///default");
    ck_assert_ptr_nonnull(test);
    char *caps = virConnectGetCapabilities(test), *err = NULL;
    struct nst_host *host = NULL;
    ck_assert_int_eq(nst_host_parse(caps, strlen(caps), NULL, 0, &host, &err),
                     0);
    ck_assert_uint_eq(host->ncells, 2);
    ck_assert_uint_eq(host->ncpus, 16);
    ck_assert_int_eq(host->vendor, NST_VENDOR_UNKNOWN);
    ck_assert(!host->has_vmx && !host->has_svm);
    /* The bundled fixture is that same document. */
    char *fixture = test_read_srcfile("tests/fixtures/hosts/test-default.xml",
                                      NULL);
    ck_assert_ptr_nonnull(strstr(fixture, caps));
    free(fixture);
    nst_host_free(host);
    free(caps);
    virConnectClose(test);
}
END_TEST

/*
 * libvirt's own parser decides which sizes exist: each memory size and
 * hugepage size below is defined on test:///default, and libvirt must
 * accept exactly those nsti_scaled_kib accepts, storing the same KiB.
 */
static const struct { const char *value, *unit; } sizes[] = {
    { "8", "KiB" }, { "8", "kib" }, { "8", "k" }, { "8", "KB" },
    { "8", "kb" }, { "2", "MiB" }, { "2", "mb" }, { "1", "G" },
    { "1", "gib" }, { "1", "T" }, { "1", "PiB" }, { "1", "PB" },
    { "7", "e" }, { "7", "EiB" }, { "8", "e" }, { "1", "b" },
    { "1023", "bytes" }, { "1025", "byte" }, { "1500", "B" },
    { "9007199254740991", "KiB" }, { "9007199254740992", "KiB" },
    { "9223372036854774784", "b" }, { "9223372036854775807", "b" },
    { "18446744073709551616", "KiB" }, { "8", "Ki" }, { "8", "iB" },
    { "8", "KiBB" }, { "2", "parsecs" }, { "8", "" }, { "8 GiB", "KiB" },
    { "-8", "KiB" }, { "0x10", "KiB" },
};

/* Defines a domain of memory value/unit (hugepages of page_value/unit
 * when page_value) on test, returning what libvirt stored as KiB or 0
 * when it refused. */
static unsigned long long
libvirt_kib(virConnectPtr test, const char *value, const char *unit,
            bool page)
{
    char *xml = nst_printf(
        "<domain type='test'><name>sizes</name>"
        "<memory unit='%s'>%s</memory>"
        "<memoryBacking><hugepages><page size='%s' unit='%s'/>"
        "</hugepages></memoryBacking>"
        "<vcpu>1</vcpu><os><type arch='i686'>hvm</type></os></domain>",
        page ? "KiB" : unit, page ? "1048576" : value,
        page ? value : "2048", page ? unit : "KiB");
    virDomainPtr dom = virDomainDefineXML(test, xml);
    unsigned long long kib = 0;
    free(xml);
    if (!dom)
        return 0;
    char *stored = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    const char *at = page ? strstr(stored, "<page size='") :
                            strstr(stored, "<memory unit='KiB'>");
    ck_assert_ptr_nonnull(at);
    at = strpbrk(at, page ? "'" : ">");
    kib = strtoull(at + 1, NULL, 10);
    ck_assert(!page || strstr(at, "unit='KiB'"));
    free(stored);
    ck_assert_int_eq(virDomainUndefine(dom), 0);
    virDomainFree(dom);
    return kib;
}

START_TEST(test_sizes_as_libvirt)
{
    virConnectPtr test = virConnectOpen("test:///default");
    ck_assert_ptr_nonnull(test);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
        for (int page = 0; page <= 1; page++) {
            unsigned long long ours = 0;
            const char *unit = sizes[i].unit;
            if (nsti_scaled_kib(sizes[i].value, unit, &ours) < 0)
                ours = 0;
            unsigned long long theirs =
                libvirt_kib(test, sizes[i].value, unit, page);
            ck_assert_msg(ours == theirs,
                          "%s %s='%s' unit='%s': libvirt %llu KiB, "
                          "virt-nestify %llu KiB (0: refused)",
                          page ? "<page" : "<memory", page ? "size" : "",
                          sizes[i].value, unit, theirs, ours);
        }
    }
    virConnectClose(test);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("define");
    TCase *tc = tcase_create("qemu-embed");
    tcase_set_timeout(tc, 600);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_define_all);
    tcase_add_test(tc, test_real_host_capabilities);
    tcase_add_test(tc, test_test_driver_capabilities);
    tcase_add_test(tc, test_sizes_as_libvirt);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

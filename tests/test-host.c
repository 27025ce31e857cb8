/*
 * test-host.c: the host model (lib/host.c)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parserInternals.h>

#include "internal.h"
#include "testutil.h"

/* ------------------------------------------------------------ fixtures */

/*
 * A small Intel host: 2 cells, 2 cores x 2 threads each, siblings n and
 * n+4.  Cells and CPUs are deliberately out of order, units mixed.
 */
static const char intel_caps[] =
    "<capabilities>\n"
    "  <host>\n"
    "    <uuid>4c4c4544-0000-0000-0000-000000000000</uuid>\n"
    "    <cpu>\n"
    "      <arch>x86_64</arch>\n"
    "      <model>Broadwell-IBRS</model>\n"
    "      <vendor>Intel</vendor>\n"
    "      <topology sockets='1' dies='1' cores='2' threads='2'/>\n"
    "      <feature name='vme'/>\n"
    "      <feature name='vmx'/>\n"
    "      <pages unit='KiB' size='4'/>\n"
    "    </cpu>\n"
    "    <topology>\n"
    "      <cells num='2'>\n"
    "        <cell id='1'>\n"
    "          <memory unit='MiB'>2048</memory>\n"
    "          <pages unit='KiB' size='4'>524288</pages>\n"
    "          <cpus num='4'>\n"
    "            <cpu id='7' socket_id='1' die_id='0' core_id='1'"
    " siblings='3,7'/>\n"
    "            <cpu id='2' socket_id='1' die_id='0' core_id='0'"
    " siblings='2,6'/>\n"
    "            <cpu id='3' socket_id='1' die_id='0' core_id='1'"
    " siblings='3,7'/>\n"
    "            <cpu id='6' socket_id='1' die_id='0' core_id='0'"
    " siblings='2,6'/>\n"
    "          </cpus>\n"
    "        </cell>\n"
    "        <cell id='0'>\n"
    "          <memory unit='KiB'>4194304</memory>\n"
    "          <pages unit='G' size='1'>4</pages>\n"
    "          <pages unit='KiB' size='4'>1048576</pages>\n"
    "          <pages size='2048'>16</pages>\n"
    "          <cpus num='4'>\n"
    "            <cpu id='0' socket_id='0' die_id='0' core_id='0'"
    " siblings='0,4'/>\n"
    "            <cpu id='1' socket_id='0' die_id='0' core_id='1'"
    " siblings='1,5'/>\n"
    "            <cpu id='4' socket_id='0' die_id='0' core_id='0'"
    " siblings='0,4'/>\n"
    "            <cpu id='5' socket_id='0' die_id='0' core_id='1'"
    " siblings='1,5'/>\n"
    "          </cpus>\n"
    "        </cell>\n"
    "      </cells>\n"
    "    </topology>\n"
    "  </host>\n"
    "</capabilities>\n";

static const char amd_caps[] =
    "<capabilities><host><cpu>"
    "<arch>x86_64</arch><model>EPYC-Rome</model><vendor>AMD</vendor>"
    "<feature name='svm'/><feature name='topoext'/>"
    "</cpu><topology><cells num='1'><cell id='0'>"
    "<memory unit='GiB'>64</memory>"
    "<cpus num='8'>"
    "<cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0-3'/>"
    "<cpu id='1' socket_id='0' die_id='0' core_id='0' siblings='0-3'/>"
    "<cpu id='2' socket_id='0' die_id='0' core_id='0' siblings='0-3'/>"
    "<cpu id='3' socket_id='0' die_id='0' core_id='0' siblings='0-3'/>"
    "<cpu id='4' socket_id='0' die_id='0' core_id='1' siblings='4-7'/>"
    "<cpu id='5' socket_id='0' die_id='0' core_id='1' siblings='4-7'/>"
    "<cpu id='6' socket_id='0' die_id='0' core_id='1' siblings='4-7'/>"
    "<cpu id='7' socket_id='0' die_id='0' core_id='1' siblings='4-7'/>"
    "</cpus></cell></cells></topology></host></capabilities>";

/* `virsh -c test:///default capabilities` on libvirt 9.0, host part */
static const char test_default_caps[] =
    "<capabilities>\n"
    "\n"
    "  <host>\n"
    "    <cpu>\n"
    "      <arch>i686</arch>\n"
    "      <features>\n"
    "        <pae/>\n"
    "        <nonpae/>\n"
    "      </features>\n"
    "      <pages unit='KiB' size='4'/>\n"
    "      <pages unit='KiB' size='8'/>\n"
    "      <pages unit='KiB' size='2048'/>\n"
    "      <pages unit='KiB' size='1048576'/>\n"
    "    </cpu>\n"
    "    <power_management/>\n"
    "    <iommu support='no'/>\n"
    "    <topology>\n"
    "      <cells num='2'>\n"
    "        <cell id='0'>\n"
    "          <memory unit='KiB'>2097152</memory>\n"
    "          <pages unit='KiB' size='4'>524288</pages>\n"
    "          <pages unit='KiB' size='2048'>0</pages>\n"
    "          <pages unit='KiB' size='1048576'>0</pages>\n"
    "          <cpus num='8'>\n"
    "            <cpu id='0' socket_id='0' die_id='0' core_id='0'"
    " siblings='0'/>\n"
    "            <cpu id='1' socket_id='0' die_id='0' core_id='1'"
    " siblings='1'/>\n"
    "            <cpu id='2' socket_id='0' die_id='0' core_id='2'"
    " siblings='2'/>\n"
    "            <cpu id='3' socket_id='0' die_id='0' core_id='3'"
    " siblings='3'/>\n"
    "            <cpu id='4' socket_id='0' die_id='0' core_id='4'"
    " siblings='4'/>\n"
    "            <cpu id='5' socket_id='0' die_id='0' core_id='5'"
    " siblings='5'/>\n"
    "            <cpu id='6' socket_id='0' die_id='0' core_id='6'"
    " siblings='6'/>\n"
    "            <cpu id='7' socket_id='0' die_id='0' core_id='7'"
    " siblings='7'/>\n"
    "          </cpus>\n"
    "        </cell>\n"
    "        <cell id='1'>\n"
    "          <memory unit='KiB'>4194304</memory>\n"
    "          <pages unit='KiB' size='8'>524288</pages>\n"
    "          <pages unit='KiB' size='2048'>0</pages>\n"
    "          <pages unit='KiB' size='1048576'>0</pages>\n"
    "          <cpus num='8'>\n"
    "            <cpu id='8' socket_id='1' die_id='0' core_id='0'"
    " siblings='8'/>\n"
    "            <cpu id='9' socket_id='1' die_id='0' core_id='1'"
    " siblings='9'/>\n"
    "            <cpu id='10' socket_id='1' die_id='0' core_id='2'"
    " siblings='10'/>\n"
    "            <cpu id='11' socket_id='1' die_id='0' core_id='3'"
    " siblings='11'/>\n"
    "            <cpu id='12' socket_id='1' die_id='0' core_id='4'"
    " siblings='12'/>\n"
    "            <cpu id='13' socket_id='1' die_id='0' core_id='5'"
    " siblings='13'/>\n"
    "            <cpu id='14' socket_id='1' die_id='0' core_id='6'"
    " siblings='14'/>\n"
    "            <cpu id='15' socket_id='1' die_id='0' core_id='7'"
    " siblings='15'/>\n"
    "          </cpus>\n"
    "        </cell>\n"
    "      </cells>\n"
    "    </topology>\n"
    "    <secmodel>\n"
    "      <model>testSecurity</model>\n"
    "      <doi></doi>\n"
    "    </secmodel>\n"
    "  </host>\n"
    "\n"
    "  <guest>\n"
    "    <os_type>hvm</os_type>\n"
    "    <arch name='i686'>\n"
    "      <wordsize>32</wordsize>\n"
    "      <emulator>/usr/bin/test-hv</emulator>\n"
    "      <domain type='test'/>\n"
    "    </arch>\n"
    "  </guest>\n"
    "\n"
    "</capabilities>\n";

/* Capabilities with one cell whose contents are cell_body. */
static char *
caps_with_cell(const char *cell_attrs, const char *cell_body)
{
    char *xml = nst_printf(
        "<capabilities><host><cpu><arch>x86_64</arch></cpu>"
        "<topology><cells num='1'><cell %s>%s</cell></cells></topology>"
        "</host></capabilities>", cell_attrs, cell_body);
    ck_assert_ptr_nonnull(xml);
    return xml;
}

static struct nst_host *
parse_ok(const char *caps, const char *domcaps)
{
    struct nst_host *host = NULL;
    char *err = NULL;
    int rc = nst_host_parse(caps, strlen(caps), domcaps,
                            domcaps ? strlen(domcaps) : 0, &host, &err);
    ck_assert_msg(rc == 0, "parse failed: %s", err ? err : "(no message)");
    ck_assert_ptr_null(err);
    ck_assert_ptr_nonnull(host);
    return host;
}

/* Parses, expects failure; returns the message (caller frees). */
static char *
parse_fail(const char *caps, const char *domcaps)
{
    struct nst_host *host = (struct nst_host *)&host;  /* not NULL */
    char *err = NULL;
    int rc = nst_host_parse(caps, strlen(caps), domcaps,
                            domcaps ? strlen(domcaps) : 0, &host, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_null(host);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(!strchr(err, '\n'), "message not one line: '%s'", err);
    return err;
}

static void
assert_parse_error(const char *caps, const char *expected)
{
    char *err = parse_fail(caps, NULL);
    ck_assert_str_eq(err, expected);
    free(err);
}

static void
assert_parse_error_has(const char *caps, const char *domcaps,
                       const char *part)
{
    char *err = parse_fail(caps, domcaps);
    ck_assert_msg(strstr(err, part), "'%s' not in '%s'", part, err);
    free(err);
}

static void
assert_cpuset(const struct nst_cpuset *set, const char *expected)
{
    char *text = nst_cpuset_format(set);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, expected);
    free(text);
}

/* ------------------------------------------------------------- parsing */

START_TEST(test_vendor_name)
{
    ck_assert_str_eq(nst_vendor_name(NST_VENDOR_INTEL), "Intel");
    ck_assert_str_eq(nst_vendor_name(NST_VENDOR_AMD), "AMD");
    ck_assert_str_eq(nst_vendor_name(NST_VENDOR_UNKNOWN), "unknown");
    ck_assert_str_eq(nst_vendor_name(NST_VENDOR_LAST), "unknown");
}
END_TEST

START_TEST(test_parse_intel)
{
    struct nst_host *host = parse_ok(intel_caps, NULL);

    ck_assert_str_eq(host->arch, "x86_64");
    ck_assert_str_eq(host->model, "Broadwell-IBRS");
    ck_assert_int_eq(host->vendor, NST_VENDOR_INTEL);
    ck_assert(host->has_vmx);
    ck_assert(!host->has_svm);
    ck_assert_int_eq(host->passthrough_supported, NST_TRISTATE_UNKNOWN);
    ck_assert_ptr_null(host->known_features);

    /* cells sorted by id */
    ck_assert_uint_eq(host->ncells, 2);
    ck_assert_uint_eq(host->cells[0].id, 0);
    ck_assert_uint_eq(host->cells[1].id, 1);
    ck_assert_uint_eq(host->cells[0].memory_kib, 4194304);
    ck_assert_uint_eq(host->cells[1].memory_kib, 2048ULL * 1024);
    assert_cpuset(&host->cells[0].cpus, "0-1,4-5");
    assert_cpuset(&host->cells[1].cpus, "2-3,6-7");

    /* pages sorted by size, units converted, free = total */
    const struct nst_cell *cell = &host->cells[0];
    ck_assert_uint_eq(cell->npages, 3);
    ck_assert_uint_eq(cell->pages[0].size_kib, 4);
    ck_assert_uint_eq(cell->pages[0].total, 1048576);
    ck_assert_uint_eq(cell->pages[1].size_kib, 2048);
    ck_assert_uint_eq(cell->pages[1].total, 16);
    ck_assert_uint_eq(cell->pages[1].free, 16);
    ck_assert_uint_eq(cell->pages[2].size_kib, 1048576);
    ck_assert_uint_eq(cell->pages[2].total, 4);
    ck_assert_uint_eq(cell->pages[2].free, 4);
    ck_assert_uint_eq(host->cells[1].npages, 1);

    /* cpus sorted by id, each with its cell */
    ck_assert_uint_eq(host->ncpus, 8);
    for (unsigned int i = 0; i < 8; i++)
        ck_assert_uint_eq(host->cpus[i].id, i);
    const struct nst_host_cpu *cpu = nst_host_cpu(host, 7);
    ck_assert_ptr_eq(cpu, &host->cpus[7]);
    ck_assert_uint_eq(cpu->cell_id, 1);
    ck_assert_uint_eq(cpu->socket_id, 1);
    ck_assert_uint_eq(cpu->die_id, 0);
    ck_assert_uint_eq(cpu->core_id, 1);
    assert_cpuset(&cpu->siblings, "3,7");
    ck_assert_uint_eq(nst_host_cpu(host, 4)->cell_id, 0);
    assert_cpuset(&nst_host_cpu(host, 4)->siblings, "0,4");

    ck_assert_uint_eq(nst_host_threads_per_core(host), 2);

    struct nst_cpuset set;
    nst_host_all_cpus(host, &set);
    assert_cpuset(&set, "0-7");
    nst_host_default_housekeeping(host, &set);
    assert_cpuset(&set, "0,2,4,6");

    nst_host_free(host);
}
END_TEST

START_TEST(test_parse_amd_smt4)
{
    struct nst_host *host = parse_ok(amd_caps, NULL);

    ck_assert_int_eq(host->vendor, NST_VENDOR_AMD);
    ck_assert(host->has_svm);
    ck_assert(!host->has_vmx);
    ck_assert_uint_eq(host->cells[0].memory_kib, 64ULL * 1024 * 1024);
    ck_assert_uint_eq(host->cells[0].npages, 0);
    ck_assert_uint_eq(nst_host_threads_per_core(host), 4);

    struct nst_cpuset set;
    nst_host_default_housekeeping(host, &set);
    assert_cpuset(&set, "0-3");
    nst_host_free(host);
}
END_TEST

START_TEST(test_parse_test_default)
{
    struct nst_host *host = parse_ok(test_default_caps, NULL);

    ck_assert_str_eq(host->arch, "i686");
    ck_assert_ptr_null(host->model);
    ck_assert_int_eq(host->vendor, NST_VENDOR_UNKNOWN);
    ck_assert(!host->has_vmx);
    ck_assert(!host->has_svm);
    ck_assert_uint_eq(host->ncells, 2);
    ck_assert_uint_eq(host->ncpus, 16);
    assert_cpuset(&host->cells[1].cpus, "8-15");
    ck_assert_uint_eq(host->cells[1].memory_kib, 4194304);
    ck_assert_uint_eq(host->cells[0].pages[0].size_kib, 4);
    ck_assert_uint_eq(host->cells[0].pages[0].total, 524288);
    ck_assert_uint_eq(host->cells[1].pages[0].size_kib, 8);
    ck_assert_uint_eq(host->cells[1].pages[2].size_kib, 1048576);
    ck_assert_uint_eq(host->cells[1].pages[2].total, 0);
    ck_assert_uint_eq(nst_host_threads_per_core(host), 1);
    ck_assert_uint_eq(nst_host_cpu(host, 12)->core_id, 4);
    ck_assert_uint_eq(nst_host_cpu(host, 12)->socket_id, 1);

    struct nst_cpuset set;
    nst_host_default_housekeeping(host, &set);
    assert_cpuset(&set, "0,8");
    nst_host_free(host);
}
END_TEST

START_TEST(test_parse_other_vendor)
{
    char *xml = nst_printf(
        "<capabilities><host><cpu><arch>x86_64</arch>"
        "<model> Dhyana </model><vendor>Hygon</vendor>"
        "<feature name='svm'/></cpu><topology><cells num='1'>"
        "<cell id='0'><cpus num='1'><cpu id='0'/></cpus></cell>"
        "</cells></topology></host></capabilities>");
    struct nst_host *host = parse_ok(xml, NULL);

    ck_assert_int_eq(host->vendor, NST_VENDOR_UNKNOWN);
    ck_assert_str_eq(host->model, "Dhyana");
    ck_assert(host->has_svm);
    nst_host_free(host);
    free(xml);
}
END_TEST

START_TEST(test_parse_defaults)
{
    /*
     * A CPU with only an id (how libvirt writes an offline one): its own
     * core, socket and die 0, siblings just itself.  A cell without
     * <memory> or <cpus> (memory-only) is fine.  Siblings naming a CPU
     * the host does not list are dropped.
     */
    const char *xml =
        "<capabilities><host><cpu><arch>x86_64</arch></cpu>"
        "<topology><cells num='3'>"
        "<cell id='0'><cpus num='3'>"
        "<cpu id='0' socket_id='0' core_id='0' siblings='0,2,9'/>"
        "<cpu id='2' socket_id='0' core_id='0' siblings='0,2'/>"
        "<cpu id='5'/>"
        "</cpus></cell>"
        "<cell id='2'><memory>1024</memory></cell>"
        "<cell id='1'><cpus num='0'></cpus></cell>"
        "</cells></topology></host></capabilities>";
    struct nst_host *host = parse_ok(xml, NULL);

    ck_assert_uint_eq(host->ncells, 3);
    ck_assert_uint_eq(host->cells[0].memory_kib, 0);
    ck_assert_uint_eq(host->cells[2].memory_kib, 1024);
    ck_assert(nst_cpuset_is_empty(&host->cells[1].cpus));

    const struct nst_host_cpu *cpu = nst_host_cpu(host, 5);
    ck_assert_ptr_nonnull(cpu);
    ck_assert_uint_eq(cpu->core_id, 5);
    ck_assert_uint_eq(cpu->socket_id, 0);
    ck_assert_uint_eq(cpu->die_id, 0);
    assert_cpuset(&cpu->siblings, "5");
    assert_cpuset(&nst_host_cpu(host, 0)->siblings, "0,2");
    ck_assert_ptr_null(nst_host_cpu(host, 9));
    ck_assert_ptr_null(nst_host_cpu(host, 1));

    ck_assert_ptr_eq(nst_host_cell(host, 2), &host->cells[2]);
    ck_assert_ptr_null(nst_host_cell(host, 3));

    struct nst_cpuset set;
    nst_host_default_housekeeping(host, &set);
    assert_cpuset(&set, "0,2");
    nst_host_free(host);
}
END_TEST

START_TEST(test_siblings_include_self)
{
    char *xml = caps_with_cell("id='0'",
                               "<cpus num='2'>"
                               "<cpu id='0' siblings='1'/>"
                               "<cpu id='1' siblings='0'/></cpus>");
    struct nst_host *host = parse_ok(xml, NULL);

    assert_cpuset(&nst_host_cpu(host, 0)->siblings, "0-1");
    assert_cpuset(&nst_host_cpu(host, 1)->siblings, "0-1");
    ck_assert_uint_eq(nst_host_threads_per_core(host), 2);
    nst_host_free(host);
    free(xml);
}
END_TEST

/* ---------------------------------------------------------------- units */

static const struct {
    const char *unit;      /* NULL: no attribute */
    const char *value;
    unsigned long long kib;
} memory_units[] = {
    { NULL, "1000", 1000 },
    { "", "1000", 1000 },
    { "KiB", "1000", 1000 },
    { "k", "1000", 1000 },
    { "K", "7", 7 },
    { "kib", "7", 7 },
    { "b", "2048", 2 },
    { "bytes", "2048", 2 },
    { "byte", "1023", 0 },          /* rounded down */
    { "KB", "1024", 1000 },
    { "MB", "1", 976 },
    { "M", "3", 3072 },
    { "MiB", "3", 3072 },
    { "GiB", "2", 2097152 },
    { "G", "2", 2097152 },
    { "GB", "1", 976562 },
    { "TiB", "1", 1073741824 },
    { "t", "1", 1073741824 },
    { "PiB", "1", 1099511627776ULL },
    { "EiB", "1", 1125899906842624ULL },
};

START_TEST(test_memory_units)
{
    char *attrs;
    if (memory_units[_i].unit)
        attrs = nst_printf(" unit='%s'", memory_units[_i].unit);
    else
        attrs = nst_printf("%s", "");
    char *body = nst_printf("<memory%s>%s</memory>"
                            "<cpus num='1'><cpu id='0'/></cpus>",
                            attrs, memory_units[_i].value);
    char *xml = caps_with_cell("id='0'", body);
    struct nst_host *host = parse_ok(xml, NULL);

    ck_assert_msg(host->cells[0].memory_kib == memory_units[_i].kib,
                  "%s %s: got %llu KiB, want %llu", memory_units[_i].value,
                  memory_units[_i].unit ? memory_units[_i].unit : "(none)",
                  host->cells[0].memory_kib, memory_units[_i].kib);
    nst_host_free(host);
    free(xml);
    free(body);
    free(attrs);
}
END_TEST

START_TEST(test_page_units)
{
    char *xml = caps_with_cell(
        "id='0'",
        "<pages unit='b' size='4096'>10</pages>"
        "<pages unit='MiB' size='2'>20</pages>"
        "<pages unit='GiB' size='1'>30</pages>"
        "<cpus num='1'><cpu id='0'/></cpus>");
    struct nst_host *host = parse_ok(xml, NULL);

    ck_assert_uint_eq(host->cells[0].npages, 3);
    ck_assert_uint_eq(host->cells[0].pages[0].size_kib, 4);
    ck_assert_uint_eq(host->cells[0].pages[0].total, 10);
    ck_assert_uint_eq(host->cells[0].pages[1].size_kib, 2048);
    ck_assert_uint_eq(host->cells[0].pages[1].total, 20);
    ck_assert_uint_eq(host->cells[0].pages[2].size_kib, 1048576);
    ck_assert_uint_eq(host->cells[0].pages[2].total, 30);
    nst_host_free(host);
    free(xml);
}
END_TEST

static const struct {
    const char *body;
    const char *expected;
} bad_cells[] = {
    { "<memory unit='XB'>1</memory>",
      "invalid memory unit 'XB' of cell 0 in capabilities" },
    { "<memory unit='KiBB'>1</memory>",
      "invalid memory unit 'KiBB' of cell 0 in capabilities" },
    { "<memory unit='kb2'>1</memory>",
      "invalid memory unit 'kb2' of cell 0 in capabilities" },
    { "<memory unit='%'>1</memory>",
      "invalid memory unit '%' of cell 0 in capabilities" },
    { "<memory unit='KiB'>-1</memory>",
      "invalid memory '-1' of cell 0 in capabilities" },
    { "<memory unit='KiB'>12abc</memory>",
      "invalid memory '12abc' of cell 0 in capabilities" },
    { "<memory unit='KiB'></memory>",
      "invalid memory '' of cell 0 in capabilities" },
    { "<memory unit='EiB'>100000</memory>",
      "memory of cell 0 in capabilities is too large" },
    { "<pages unit='KiB'>1</pages>",
      "invalid page size '' in cell 0 of capabilities" },
    { "<pages unit='KiB' size='two'>1</pages>",
      "invalid page size 'two' in cell 0 of capabilities" },
    { "<pages unit='QiB' size='2'>1</pages>",
      "invalid page size unit 'QiB' in cell 0 of capabilities" },
    { "<pages unit='b' size='1000'>1</pages>",
      "invalid page size '1000' in cell 0 of capabilities "
      "(must be a positive whole number of KiB)" },
    { "<pages unit='KiB' size='0'>1</pages>",
      "invalid page size '0' in cell 0 of capabilities "
      "(must be a positive whole number of KiB)" },
    { "<pages unit='KiB' size='4'></pages>",
      "invalid number of 4 KiB pages '' in cell 0 of capabilities" },
    { "<pages unit='KiB' size='4'>many</pages>",
      "invalid number of 4 KiB pages 'many' in cell 0 of capabilities" },
    { "<pages unit='KiB' size='2048'>1</pages>"
      "<pages unit='MiB' size='2'>1</pages>",
      "cell 0 of capabilities lists 2048 KiB pages twice" },
    { "<pages size='4'>1</pages><pages size='8'>1</pages>"
      "<pages size='16'>1</pages><pages size='32'>1</pages>"
      "<pages size='64'>1</pages><pages size='128'>1</pages>"
      "<pages size='256'>1</pages><pages size='512'>1</pages>"
      "<pages size='1024'>1</pages>",
      "cell 0 of capabilities has more than 8 page sizes" },
    { "<cpus num='1'><cpu id='x'/></cpus>",
      "invalid cpu id 'x' in cell 0 of capabilities" },
    { "<cpus num='1'><cpu/></cpus>",
      "invalid cpu id '' in cell 0 of capabilities" },
    { "<cpus num='1'><cpu id='-1'/></cpus>",
      "invalid cpu id '-1' in cell 0 of capabilities" },
    { "<cpus num='1'><cpu id=' 1'/></cpus>",
      "invalid cpu id ' 1' in cell 0 of capabilities" },
    { "<cpus num='1'><cpu id='4096'/></cpus>",
      "cpu id 4096 in cell 0 of capabilities is out of range "
      "(host cpus must be below 4096)" },
    { "<cpus num='1'><cpu id='99999999999999999999999'/></cpus>",
      "invalid cpu id '99999999999999999999999' in cell 0 of "
      "capabilities" },
    { "<cpus num='2'><cpu id='3'/><cpu id='3'/></cpus>",
      "cpu 3 is listed twice in capabilities" },
    { "<cpus num='1'><cpu id='3' socket_id='a'/></cpus>",
      "invalid socket_id 'a' of cpu 3 in capabilities" },
    { "<cpus num='1'><cpu id='3' die_id='-2'/></cpus>",
      "invalid die_id '-2' of cpu 3 in capabilities" },
    { "<cpus num='1'><cpu id='3' core_id='4294967296'/></cpus>",
      "invalid core_id '4294967296' of cpu 3 in capabilities" },
    { "<cpus num='1'><cpu id='3' siblings='3-x'/></cpus>",
      "invalid siblings of cpu 3 in capabilities: invalid cpuset '3-x' "
      "(cpus must be below 4096)" },
    { "<cpus num='1'><cpu id='3' siblings='3,5000'/></cpus>",
      "invalid siblings of cpu 3 in capabilities: invalid cpuset "
      "'3,5000' (cpus must be below 4096)" },
};

START_TEST(test_bad_cell)
{
    char *body = nst_printf("%s%s", bad_cells[_i].body,
                            strstr(bad_cells[_i].body, "<cpus") ? "" :
                            "<cpus num='1'><cpu id='0'/></cpus>");
    char *xml = caps_with_cell("id='0'", body);
    assert_parse_error(xml, bad_cells[_i].expected);
    free(xml);
    free(body);
}
END_TEST

/* --------------------------------------------------------- bad documents */

START_TEST(test_malformed)
{
    char *err = parse_fail("<capabilities>\n  <host>\n"
                           "    <cpu></host>\n</capabilities>\n", NULL);
    ck_assert_msg(!strncmp(err, "cannot parse capabilities: line 3: ", 35),
                  "got '%s'", err);
    ck_assert_msg(strstr(err, "mismatch"), "got '%s'", err);
    free(err);

    err = parse_fail("", NULL);
    ck_assert_msg(!strncmp(err, "cannot parse capabilities: ", 27),
                  "got '%s'", err);
    free(err);

    err = parse_fail("<capabilities>&nbsp;</capabilities>", NULL);
    ck_assert_msg(strstr(err, "line 1: ") && strstr(err, "nbsp"),
                  "got '%s'", err);
    free(err);

    /* a length that cuts the document short is honoured */
    struct nst_host *host = NULL;
    err = NULL;
    ck_assert_int_eq(nst_host_parse(intel_caps, 100, NULL, 0, &host, &err),
                     -1);
    ck_assert_ptr_null(host);
    ck_assert_msg(strstr(err, "cannot parse capabilities: line "),
                  "got '%s'", err);
    free(err);

    err = NULL;
    ck_assert_int_eq(nst_host_parse(NULL, 0, NULL, 0, &host, &err), -1);
    ck_assert_str_eq(err, "no capabilities document given");
    free(err);
}
END_TEST

static int loader_calls;

static xmlParserInputPtr
counting_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
    loader_calls++;
    return xmlNewInputFromFile(ctxt, url);
}

/*
 * Every way a DOCTYPE could read a file must be refused before libxml2
 * touches the file: the entity loader is never called.
 */
START_TEST(test_doctype_never_reads)
{
    char path[] = "/tmp/test-host-secret-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    test_write_file(path, "TOPSECRET", 9);

    xmlExternalEntityLoader old = xmlGetExternalEntityLoader();
    xmlSetExternalEntityLoader(counting_loader);
    loader_calls = 0;

    /* each document is before + path + after */
    static const struct {
        const char *before, *after;
    } templates[] = {
        /* external general entity used in content */
        { "<!DOCTYPE capabilities [\n"
          "  <!ENTITY secret SYSTEM \"file://",
          "\">\n]>\n"
          "<capabilities><host><cpu><arch>&secret;</arch></cpu></host>"
          "</capabilities>" },
        /* external DTD */
        { "<!DOCTYPE capabilities SYSTEM \"file://",
          "\">\n<capabilities/>" },
        /* external parameter entity */
        { "<!DOCTYPE capabilities [\n  <!ENTITY % p SYSTEM \"",
          "\">\n  %p;\n]>\n<capabilities/>" },
    };
    for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++) {
        char *xml = nst_printf("%s%s%s", templates[i].before, path,
                               templates[i].after);
        char *err = parse_fail(xml, NULL);
        ck_assert_str_eq(err,
                         "capabilities document must not contain a DOCTYPE");
        free(err);
        free(xml);
    }

    /* the same for domain capabilities and the cpu map */
    char *xml = nst_printf("%s%s%s", templates[0].before, path,
                           templates[0].after);
    char *err = parse_fail(intel_caps, xml);
    ck_assert_str_eq(err, "domain capabilities document must not contain "
                     "a DOCTYPE");
    free(err);

    struct nst_host *host = parse_ok(intel_caps, NULL);
    err = NULL;
    ck_assert_int_eq(nst_host_load_cpu_map(host, xml, strlen(xml), &err), -1);
    ck_assert_str_eq(err, "cpu map document must not contain a DOCTYPE");
    ck_assert_ptr_null(host->known_features);
    free(err);
    nst_host_free(host);
    free(xml);

    xmlSetExternalEntityLoader(old);
    ck_assert_int_eq(loader_calls, 0);
    unlink(path);
}
END_TEST

START_TEST(test_doctype_plain)
{
    assert_parse_error("<?xml version='1.0'?>\n<!DOCTYPE capabilities>\n"
                       "<capabilities/>",
                       "capabilities document must not contain a DOCTYPE");
}
END_TEST

START_TEST(test_billion_laughs)
{
    /* would be 10^9 "lol"s if the entities were ever expanded */
    struct nst_buf buf = { 0 };
    nst_buf_adds(&buf, "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
                 "  <!ENTITY lol \"lol\">\n"
                 "  <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;"
                 "&lol;&lol;&lol;\">\n");
    for (int i = 2; i <= 9; i++) {
        nst_buf_addf(&buf, "  <!ENTITY lol%d \"", i);
        for (int j = 0; j < 10; j++)
            nst_buf_addf(&buf, "&lol%d;", i - 1);
        nst_buf_adds(&buf, "\">\n");
    }
    nst_buf_adds(&buf, "]>\n<capabilities><host><cpu><arch>&lol9;</arch>"
                 "</cpu></host></capabilities>\n");
    char *xml = nst_buf_finish(&buf, NULL);
    ck_assert_ptr_nonnull(xml);

    assert_parse_error(xml,
                       "capabilities document must not contain a DOCTYPE");
    free(xml);
}
END_TEST

START_TEST(test_wrong_root)
{
    assert_parse_error("<domain type='kvm'><name>x</name></domain>",
                       "not a capabilities document: root element is "
                       "<domain>");
    char *err = parse_fail(intel_caps, "<capabilities/>");
    ck_assert_str_eq(err, "not a domain capabilities document: root "
                     "element is <capabilities>");
    free(err);
}
END_TEST

START_TEST(test_missing_parts)
{
    assert_parse_error("<capabilities><host><topology><cells num='0'/>"
                       "</topology></host></capabilities>",
                       "capabilities have no host cpu (host/cpu missing)");
    assert_parse_error("<capabilities><host><cpu><model>x</model></cpu>"
                       "</host></capabilities>",
                       "capabilities have no host cpu architecture "
                       "(host/cpu/arch missing or empty)");
    assert_parse_error("<capabilities><host><cpu><arch> </arch></cpu>"
                       "</host></capabilities>",
                       "capabilities have no host cpu architecture "
                       "(host/cpu/arch missing or empty)");
    assert_parse_error("<capabilities><host><cpu><arch>x86_64</arch></cpu>"
                       "</host></capabilities>",
                       "capabilities have no NUMA topology "
                       "(host/topology/cells missing): cannot plan "
                       "placement");
    assert_parse_error("<capabilities><host><cpu><arch>x86_64</arch></cpu>"
                       "<topology/></host></capabilities>",
                       "capabilities have no NUMA topology "
                       "(host/topology/cells missing): cannot plan "
                       "placement");
    assert_parse_error("<capabilities><host><cpu><arch>x86_64</arch></cpu>"
                       "<topology><cells num='0'/></topology></host>"
                       "</capabilities>",
                       "capabilities have no NUMA cells "
                       "(host/topology/cells/cell missing): cannot plan "
                       "placement");
    assert_parse_error("<capabilities><host><cpu><arch>x86_64</arch></cpu>"
                       "<topology><cells num='1'><cell id='0'>"
                       "<memory>1</memory></cell></cells></topology>"
                       "</host></capabilities>",
                       "capabilities list no host cpus "
                       "(host/topology/cells/cell/cpus/cpu missing): "
                       "cannot plan placement");
}
END_TEST

/* two cells: attributes of each, id of the second one's cpu */
#define CELL_IDS_FMT \
    "<capabilities><host><cpu><arch>x86_64</arch></cpu>" \
    "<topology><cells num='2'>" \
    "<cell %s><cpus num='1'><cpu id='0'/></cpus></cell>" \
    "<cell %s><cpus num='1'><cpu id='%s'/></cpus></cell>" \
    "</cells></topology></host></capabilities>"

START_TEST(test_bad_cell_ids)
{
    static const struct {
        const char *a, *b, *cpu, *expected;
    } cases[] = {
        { "id='0'", "id='0'", "1", "cell 0 is listed twice in capabilities" },
        { "id='1'", "id='0'", "0", "cpu 0 is listed twice in capabilities" },
        { "id='0'", "", "1", "invalid cell id '' in capabilities" },
        { "id='0'", "id='one'", "1",
          "invalid cell id 'one' in capabilities" },
        { "id='0'", "id='4096'", "1",
          "cell id 4096 in capabilities is out of range "
          "(cell ids must be below 4096)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *xml = nst_printf(CELL_IDS_FMT, cases[i].a, cases[i].b,
                               cases[i].cpu);
        assert_parse_error(xml, cases[i].expected);
        free(xml);
    }
}
END_TEST

/* --------------------------------------------------- domain capabilities */

/* passthrough supported, host-model vendor, required and disabled feature */
#define DOMCAPS_FMT \
    "<domainCapabilities>\n" \
    "  <path>/usr/bin/qemu-system-x86_64</path>\n" \
    "  <domain>kvm</domain>\n" \
    "  <arch>%s</arch>\n" \
    "  <cpu>\n" \
    "    <mode name='host-passthrough' supported='%s'>\n" \
    "      <enum name='hostPassthroughMigratable'>\n" \
    "        <value>on</value>\n" \
    "      </enum>\n" \
    "    </mode>\n" \
    "    <mode name='maximum' supported='yes'/>\n" \
    "    <mode name='host-model' supported='yes'>\n" \
    "      <model fallback='forbid'>Broadwell-IBRS</model>\n" \
    "      <vendor>%s</vendor>\n" \
    "      <feature policy='require' name='%s'/>\n" \
    "      <feature policy='disable' name='%s'/>\n" \
    "    </mode>\n" \
    "  </cpu>\n" \
    "</domainCapabilities>\n"

START_TEST(test_domcaps)
{
    char *domcaps = nst_printf(DOMCAPS_FMT, "x86_64", "yes", "AMD", "svm",
                               "vmx");
    struct nst_host *host;

    /* caps know the vendor: domcaps only adds passthrough support */
    host = parse_ok(intel_caps, domcaps);
    ck_assert_int_eq(host->passthrough_supported, NST_TRISTATE_YES);
    ck_assert_int_eq(host->vendor, NST_VENDOR_INTEL);
    ck_assert(host->has_vmx);
    ck_assert(!host->has_svm);
    nst_host_free(host);
    free(domcaps);

    /* caps without vendor (test driver, an i686 host): vendor and svm
     * from host-model, the disabled vmx is not taken */
    domcaps = nst_printf(DOMCAPS_FMT, "i686", "yes", "AMD", "svm", "vmx");
    host = parse_ok(test_default_caps, domcaps);
    ck_assert_int_eq(host->vendor, NST_VENDOR_AMD);
    ck_assert(host->has_svm);
    ck_assert(!host->has_vmx);
    nst_host_free(host);
    free(domcaps);

    domcaps = nst_printf(DOMCAPS_FMT, "i686", "no", "Intel", "vmx", "svm");
    host = parse_ok(test_default_caps, domcaps);
    ck_assert_int_eq(host->passthrough_supported, NST_TRISTATE_NO);
    ck_assert_int_eq(host->vendor, NST_VENDOR_INTEL);
    ck_assert(host->has_vmx);
    ck_assert(!host->has_svm);
    nst_host_free(host);
    free(domcaps);

    /* no cpu modes at all: still unknown */
    host = parse_ok(test_default_caps, "<domainCapabilities/>");
    ck_assert_int_eq(host->passthrough_supported, NST_TRISTATE_UNKNOWN);
    ck_assert_int_eq(host->vendor, NST_VENDOR_UNKNOWN);
    nst_host_free(host);
}
END_TEST

/* Domain capabilities of virtualization type TYPE whose <hyperv> says
 * SUPPORTED and lists VALUES ("<value>..</value>..."). */
#define HYPERV_DOMCAPS(type, supported, values) \
    "<domainCapabilities><domain>" type "</domain><arch>x86_64</arch>" \
    "<features><hyperv supported='" supported "'><enum name='features'>" \
    values "</enum></hyperv></features></domainCapabilities>"

/* The Hyper-V enlightenments libvirt supports: KVM domain capabilities'
 * list, never TCG's (libvirt 9.0 lists only spinlocks and vendor_id for
 * TCG); without a KVM list, libvirt 9.0's schema. */
START_TEST(test_domcaps_hyperv)
{
    struct nst_host *host, *copy;

    host = parse_ok(intel_caps, HYPERV_DOMCAPS("kvm", "yes",
        "<value>vapic</value><value>relaxed</value>"
        "<value>emsr_bitmap</value>"));
    ck_assert(host->hyperv_known);
    ck_assert_uint_eq(host->nhyperv_features, 3);
    ck_assert(nst_host_hyperv_supported(host, "emsr_bitmap"));
    ck_assert(nst_host_hyperv_supported(host, "relaxed"));
    ck_assert(!nst_host_hyperv_supported(host, "evmcs"));
    copy = nst_host_clone(host);
    ck_assert(copy->hyperv_known);
    ck_assert(nst_host_hyperv_supported(copy, "emsr_bitmap"));
    ck_assert_ptr_ne(copy->hyperv_features, host->hyperv_features);
    nst_host_free(copy);
    nst_host_free(host);

    host = parse_ok(intel_caps, HYPERV_DOMCAPS("qemu", "yes",
        "<value>spinlocks</value><value>vendor_id</value>"));
    ck_assert(!host->hyperv_known);
    ck_assert(nst_host_hyperv_supported(host, "evmcs"));
    ck_assert(nst_host_hyperv_supported(host, "stimer"));
    ck_assert(!nst_host_hyperv_supported(host, "emsr_bitmap"));
    ck_assert(!nst_host_hyperv_supported(host, "xmm_input"));
    nst_host_free(host);

    host = parse_ok(intel_caps, HYPERV_DOMCAPS("kvm", "no", ""));
    ck_assert(host->hyperv_known);
    ck_assert(!nst_host_hyperv_supported(host, "relaxed"));
    nst_host_free(host);

    ck_assert(nst_host_hyperv_supported(NULL, "avic"));
    ck_assert(!nst_host_hyperv_supported(NULL, NULL));
}
END_TEST

START_TEST(test_domcaps_errors)
{
    char *domcaps = nst_printf(DOMCAPS_FMT, "x86_64", "maybe", "Intel",
                               "vmx", "svm");
    char *err = parse_fail(intel_caps, domcaps);
    ck_assert_str_eq(err, "invalid supported='maybe' of cpu mode "
                     "'host-passthrough' in domain capabilities");
    free(err);
    free(domcaps);

    /* another architecture's emulator says nothing about this host */
    domcaps = nst_printf(DOMCAPS_FMT, "aarch64", "yes", "Intel", "vmx",
                         "svm");
    err = parse_fail(intel_caps, domcaps);
    ck_assert_str_eq(err, "domain capabilities are for architecture "
                     "'aarch64', the host is 'x86_64'");
    free(err);
    free(domcaps);

    err = parse_fail(intel_caps, "<domainCapabilities>\n<cpu>\n"
                     "</domainCapabilities>");
    ck_assert_msg(!strncmp(err, "cannot parse domain capabilities: line 3: ",
                           42), "got '%s'", err);
    free(err);

    /* an empty (but given) document is an error, not "no domcaps" */
    assert_parse_error_has(intel_caps, "",
                           "cannot parse domain capabilities: ");
}
END_TEST

/* ------------------------------------------------------------ free pages */

START_TEST(test_set_free_pages)
{
    struct nst_host *host = parse_ok(intel_caps, NULL);
    char *err = NULL;

    ck_assert_int_eq(nst_host_set_free_pages(host, 0, 1048576, 3, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_uint_eq(host->cells[0].pages[2].free, 3);
    ck_assert_uint_eq(host->cells[0].pages[2].total, 4);
    ck_assert_uint_eq(host->cells[0].pages[1].free, 16);
    ck_assert_int_eq(nst_host_set_free_pages(host, 0, 1048576, 4, &err), 0);
    ck_assert_uint_eq(host->cells[0].pages[2].free, 4);
    ck_assert_int_eq(nst_host_set_free_pages(host, 0, 2048, 0, &err), 0);
    ck_assert_uint_eq(host->cells[0].pages[1].free, 0);

    ck_assert_int_eq(nst_host_set_free_pages(host, 0, 1048576, 5, &err), -1);
    ck_assert_str_eq(err, "cell 0 cannot have 5 free 1048576 KiB pages: "
                     "it has only 4");
    ck_assert_uint_eq(host->cells[0].pages[2].free, 4);
    free(err);
    err = NULL;

    ck_assert_int_eq(nst_host_set_free_pages(host, 1, 2048, 1, &err), -1);
    ck_assert_str_eq(err, "cell 1 has no 2048 KiB pages");
    free(err);
    err = NULL;

    ck_assert_int_eq(nst_host_set_free_pages(host, 7, 4, 1, &err), -1);
    ck_assert_str_eq(err, "host has no NUMA cell 7");
    free(err);

    nst_host_free(host);
}
END_TEST

/* -------------------------------------------------------------- features */

/* Names the contract promises are bogus on libvirt 9.0 */
static const char *const bogus_names[] = {
    "ept", "vpid", "unrestricted_guest", "flexpriority", "vnmi",
    "tpr_shadow", "ept_ad", "ept_1gb", "ept_x_only", "ept_5level",
    "ept_mode_based_exec", "apicv", "bus_lock_detect", "invvpid", "mtf",
    "notify_vm_exiting", "ple", "pml", "posted_intr", "preemption_timer",
    "shadow_vmcs", "tsc_offset", "tsc_scaling", "usr_wait_pause", "vapic",
    "vapic_reg", "vid", "vtpr",
};

static const char *const mitigation_names[] = {
    "spec-ctrl", "stibp", "ssbd", "ibpb", "amd-ssbd", "virt-ssbd",
    "amd-stibp", "md-clear",
};

START_TEST(test_known_bogus)
{
    for (size_t i = 0; i < sizeof(bogus_names) / sizeof(bogus_names[0]);
         i++)
        ck_assert_msg(nst_feature_is_known_bogus(bogus_names[i]),
                      "'%s' should be bogus", bogus_names[i]);
    static const char *const fine[] = {
        "vmx", "svm", "pcid", "invpcid", "x2apic", "npt", "tsc-scale",
        "vmx-ept", "EPT", "", "ept ", "md-clear",
    };
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
        ck_assert_msg(!nst_feature_is_known_bogus(fine[i]),
                      "'%s' should not be bogus", fine[i]);
    ck_assert(!nst_feature_is_known_bogus(NULL));
}
END_TEST

START_TEST(test_mitigations)
{
    for (size_t i = 0;
         i < sizeof(mitigation_names) / sizeof(mitigation_names[0]); i++)
        ck_assert_msg(nst_feature_is_mitigation(mitigation_names[i]),
                      "'%s' should be a mitigation", mitigation_names[i]);
    static const char *const others[] = {
        "md_clear", "vmx", "pcid", "ibrs-all", "spec_ctrl", "", "ssbd ",
        "Stibp",
    };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        ck_assert_msg(!nst_feature_is_mitigation(others[i]),
                      "'%s' should not be a mitigation", others[i]);
    ck_assert(!nst_feature_is_mitigation(NULL));
}
END_TEST

static const char small_cpu_map[] =
    "<!-- a comment -->\n"
    "<cpus>\n"
    "  <feature name='vmx'>\n"
    "    <cpuid eax_in='0x01' ecx='0x00000020'/>\n"
    "  </feature>\n"
    "  <feature name='md-clear'>\n"
    "    <alias name='md_clear' source='linux'/>\n"
    "    <cpuid eax_in='0x07' ecx_in='0x00' edx='0x00000400'/>\n"
    "  </feature>\n"
    "  <feature name='avx'/>\n"
    "  <feature name='vmx'/>\n"
    "  <feature name='invtsc' migratable='no'/>\n"
    "</cpus>\n";

START_TEST(test_cpu_map)
{
    struct nst_host *host = parse_ok(intel_caps, NULL);
    char *err = NULL;

    /* not loaded: only the known bogus names are unknown */
    ck_assert(nst_host_feature_unknown(host, "ept"));
    ck_assert(!nst_host_feature_unknown(host, "made-up"));
    ck_assert(!nst_host_feature_unknown(host, "vmx"));

    ck_assert_int_eq(nst_host_load_cpu_map(host, small_cpu_map,
                                           strlen(small_cpu_map), &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_uint_eq(host->nknown_features, 4);
    ck_assert_str_eq(host->known_features[0], "avx");
    ck_assert_str_eq(host->known_features[1], "invtsc");
    ck_assert_str_eq(host->known_features[2], "md-clear");
    ck_assert_str_eq(host->known_features[3], "vmx");

    ck_assert(!nst_host_feature_unknown(host, "vmx"));
    ck_assert(!nst_host_feature_unknown(host, "avx"));
    ck_assert(!nst_host_feature_unknown(host, "md-clear"));
    ck_assert(nst_host_feature_unknown(host, "md_clear"));   /* alias */
    ck_assert(nst_host_feature_unknown(host, "made-up"));
    ck_assert(nst_host_feature_unknown(host, "ept"));
    ck_assert(nst_host_feature_unknown(host, "svm"));
    ck_assert(nst_host_feature_unknown(host, NULL));

    /* errors keep the loaded list */
    static const struct {
        const char *xml, *expected;
    } bad[] = {
        { "<features><feature name='x'/></features>",
          "not a cpu map document: root element is <features>" },
        { "<cpus></cpus>", "cpu map defines no features" },
        { "<cpus><feature name='a'/><feature/></cpus>",
          "cpu map has a <feature> without a name" },
        { "<cpus><feature name=''/></cpus>",
          "cpu map has a <feature> without a name" },
        { "<cpus><feature name='a'></cpus>", NULL },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        ck_assert_int_eq(nst_host_load_cpu_map(host, bad[i].xml,
                                               strlen(bad[i].xml), &err),
                         -1);
        ck_assert_ptr_nonnull(err);
        if (bad[i].expected)
            ck_assert_str_eq(err, bad[i].expected);
        else
            ck_assert_msg(!strncmp(err, "cannot parse cpu map: line 1: ",
                                   30), "got '%s'", err);
        free(err);
        ck_assert_uint_eq(host->nknown_features, 4);
    }

    /* a second load replaces the first */
    err = NULL;
    const char *other = "<cpus><feature name='svm'/></cpus>";
    ck_assert_int_eq(nst_host_load_cpu_map(host, other, strlen(other), &err),
                     0);
    ck_assert_uint_eq(host->nknown_features, 1);
    ck_assert(!nst_host_feature_unknown(host, "svm"));
    ck_assert(nst_host_feature_unknown(host, "vmx"));

    nst_host_free(host);
}
END_TEST

/*
 * Against the real libvirt cpu_map when installed: the bogus names are
 * really absent, the mitigations really present, so the two lists in
 * lib/host.c stay true to libvirt 9.0.
 */
START_TEST(test_real_cpu_map)
{
    const char *path = getenv("NST_CPU_MAP");
    size_t len;
    char *xml = test_read_file(path && *path ? path :
                               "/usr/share/libvirt/cpu_map/x86_features.xml",
                               &len);
    if (!xml)
        return;   /* libvirt not installed: nothing to compare with */

    struct nst_host *host = parse_ok(intel_caps, NULL);
    char *err = NULL;
    ck_assert_msg(nst_host_load_cpu_map(host, xml, len, &err) == 0,
                  "%s", err);
    ck_assert_uint_gt(host->nknown_features, 100);
    for (size_t i = 1; i < host->nknown_features; i++)
        ck_assert_int_lt(strcmp(host->known_features[i - 1],
                                host->known_features[i]), 0);

    for (size_t i = 0; i < sizeof(bogus_names) / sizeof(bogus_names[0]);
         i++)
        ck_assert_msg(nst_host_feature_unknown(host, bogus_names[i]),
                      "libvirt knows '%s'", bogus_names[i]);
    for (size_t i = 0;
         i < sizeof(mitigation_names) / sizeof(mitigation_names[0]); i++)
        ck_assert_msg(!nst_host_feature_unknown(host, mitigation_names[i]),
                      "libvirt does not know '%s'", mitigation_names[i]);
    ck_assert(!nst_host_feature_unknown(host, "vmx"));
    ck_assert(!nst_host_feature_unknown(host, "svm"));
    ck_assert(nst_host_feature_unknown(host, "md_clear"));

    nst_host_free(host);
    free(xml);
}
END_TEST

START_TEST(test_free_null)
{
    nst_host_free(NULL);
}
END_TEST

/* ---------------------------------------------- shared fixture files */

/* Reads tests/fixtures/hosts/name; a missing fixture fails the test. */
static char *
read_fixture(const char *name, size_t *len)
{
    char *path = nst_printf("tests/fixtures/hosts/%s", name);
    ck_assert_ptr_nonnull(path);
    char *data = test_read_srcfile(path, len);
    free(path);
    return data;
}

START_TEST(test_fixture_intel)
{
    size_t len, dlen = 0;
    char *caps = read_fixture("intel-e5-2697v4.xml", &len);
    char *domcaps = read_fixture("intel-e5-2697v4-domcaps.xml", &dlen);

    struct nst_host *host = NULL;
    char *err = NULL;
    ck_assert_msg(nst_host_parse(caps, len, domcaps, dlen, &host, &err) == 0,
                  "%s", err);
    ck_assert_str_eq(host->arch, "x86_64");
    ck_assert_int_eq(host->vendor, NST_VENDOR_INTEL);
    ck_assert(host->has_vmx);
    ck_assert(!host->has_svm);
    ck_assert_uint_eq(host->ncells, 2);
    ck_assert_uint_eq(host->ncpus, 72);
    ck_assert_uint_eq(nst_cpuset_count(&host->cells[0].cpus), 36);
    ck_assert_uint_eq(nst_cpuset_count(&host->cells[1].cpus), 36);
    assert_cpuset(&nst_host_cpu(host, 0)->siblings, "0,36");
    ck_assert_uint_eq(nst_host_threads_per_core(host), 2);

    bool found = false;
    for (size_t i = 0; i < host->cells[0].npages; i++) {
        if (host->cells[0].pages[i].size_kib == 1048576) {
            ck_assert_uint_eq(host->cells[0].pages[i].free, 16);
            found = true;
        }
    }
    ck_assert_msg(found, "cell 0 has no 1 GiB pages");

    struct nst_cpuset set;
    nst_host_default_housekeeping(host, &set);
    assert_cpuset(&set, "0,18,36,54");
    if (domcaps)
        ck_assert_int_eq(host->passthrough_supported, NST_TRISTATE_YES);

    nst_host_free(host);
    free(caps);
    free(domcaps);
}
END_TEST

START_TEST(test_fixture_amd)
{
    size_t len;
    char *caps = read_fixture("amd-epyc-7502p-nps4.xml", &len);

    struct nst_host *host = NULL;
    char *err = NULL;
    ck_assert_msg(nst_host_parse(caps, len, NULL, 0, &host, &err) == 0,
                  "%s", err);
    ck_assert_int_eq(host->vendor, NST_VENDOR_AMD);
    /* As on a real EPYC-Rome host, the model implies svm: capabilities
     * do not list it, the model's cpu_map file does. */
    ck_assert(!host->has_svm);
    ck_assert(!host->has_vmx);
    const char *map = getenv("NST_CPU_MAP");
    const char *slash = map ? strrchr(map, '/') : NULL;
    char *model_path = slash ?
        nst_printf("%.*s/x86_EPYC-Rome.xml", (int)(slash - map), map) :
        nst_printf("/usr/share/libvirt/cpu_map/x86_EPYC-Rome.xml");
    size_t model_len;
    char *model = test_read_file(model_path, &model_len);
    ck_assert_msg(model != NULL, "%s missing", model_path);
    ck_assert_int_eq(nst_host_load_cpu_model(host, model, model_len, &err), 0);
    ck_assert(host->has_svm);
    ck_assert(!host->has_vmx);
    free(model);
    free(model_path);
    /* Another model's file is refused. */
    const char *other = "<cpus><model name='Skylake'><feature name='vmx'/>"
                        "</model></cpus>";
    ck_assert_int_eq(nst_host_load_cpu_model(host, other, strlen(other),
                                             &err), -1);
    ck_assert_str_eq(err, "cpu model file does not define the host's model "
                          "'EPYC-Rome'");
    free(err);
    err = NULL;
    ck_assert(!host->has_vmx);
    ck_assert_uint_eq(host->ncells, 4);
    for (unsigned int i = 0; i < 4; i++) {
        ck_assert_uint_eq(host->cells[i].id, i);
        ck_assert(!nst_cpuset_is_empty(&host->cells[i].cpus));
    }
    nst_host_free(host);
    free(caps);
}
END_TEST

START_TEST(test_fixture_small_nosmt)
{
    size_t len;
    char *caps = read_fixture("small-nosmt.xml", &len);

    struct nst_host *host = NULL;
    char *err = NULL;
    ck_assert_msg(nst_host_parse(caps, len, NULL, 0, &host, &err) == 0,
                  "%s", err);
    ck_assert_uint_eq(nst_host_threads_per_core(host), 1);
    nst_host_free(host);
    free(caps);
}
END_TEST

START_TEST(test_fixture_test_default)
{
    size_t len;
    char *caps = read_fixture("test-default.xml", &len);

    struct nst_host *host = NULL;
    char *err = NULL;
    ck_assert_msg(nst_host_parse(caps, len, NULL, 0, &host, &err) == 0,
                  "%s", err);
    ck_assert_str_eq(host->arch, "i686");
    ck_assert_int_eq(host->vendor, NST_VENDOR_UNKNOWN);
    ck_assert_uint_eq(host->ncells, 2);
    ck_assert_uint_eq(host->ncpus, 16);
    nst_host_free(host);
    free(caps);
}
END_TEST

START_TEST(test_fixture_no_topology)
{
    size_t len;
    char *caps = read_fixture("bad/no-topology.xml", &len);

    struct nst_host *host = NULL;
    char *err = NULL;
    ck_assert_int_eq(nst_host_parse(caps, len, NULL, 0, &host, &err), -1);
    ck_assert_ptr_null(host);
    ck_assert_msg(strstr(err, "host/topology/cells"), "got '%s'", err);
    free(err);
    free(caps);
}
END_TEST

START_TEST(test_fixture_not_caps)
{
    size_t len;
    char *caps = read_fixture("bad/not-caps.xml", &len);

    struct nst_host *host = NULL;
    char *err = NULL;
    ck_assert_int_eq(nst_host_parse(caps, len, NULL, 0, &host, &err), -1);
    ck_assert_ptr_null(host);
    ck_assert_str_eq(err, "not a capabilities document: root element is "
                     "<domain>");
    free(err);
    free(caps);
}
END_TEST

static Suite *
host_suite(void)
{
    Suite *suite = suite_create("host");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, test_vendor_name);
    tcase_add_test(tc, test_parse_intel);
    tcase_add_test(tc, test_parse_amd_smt4);
    tcase_add_test(tc, test_parse_test_default);
    tcase_add_test(tc, test_parse_other_vendor);
    tcase_add_test(tc, test_parse_defaults);
    tcase_add_test(tc, test_siblings_include_self);
    tcase_add_loop_test(tc, test_memory_units, 0,
                        sizeof(memory_units) / sizeof(memory_units[0]));
    tcase_add_test(tc, test_page_units);
    tcase_add_loop_test(tc, test_bad_cell, 0,
                        sizeof(bad_cells) / sizeof(bad_cells[0]));
    suite_add_tcase(suite, tc);

    tc = tcase_create("refuse");
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_doctype_never_reads);
    tcase_add_test(tc, test_doctype_plain);
    tcase_add_test(tc, test_billion_laughs);
    tcase_add_test(tc, test_wrong_root);
    tcase_add_test(tc, test_missing_parts);
    tcase_add_test(tc, test_bad_cell_ids);
    suite_add_tcase(suite, tc);

    tc = tcase_create("domcaps");
    tcase_add_test(tc, test_domcaps);
    tcase_add_test(tc, test_domcaps_hyperv);
    tcase_add_test(tc, test_domcaps_errors);
    suite_add_tcase(suite, tc);

    tc = tcase_create("model");
    tcase_add_test(tc, test_set_free_pages);
    tcase_add_test(tc, test_known_bogus);
    tcase_add_test(tc, test_mitigations);
    tcase_add_test(tc, test_cpu_map);
    tcase_add_test(tc, test_real_cpu_map);
    tcase_add_test(tc, test_free_null);
    suite_add_tcase(suite, tc);

    tc = tcase_create("fixtures");
    tcase_add_test(tc, test_fixture_intel);
    tcase_add_test(tc, test_fixture_amd);
    tcase_add_test(tc, test_fixture_small_nosmt);
    tcase_add_test(tc, test_fixture_test_default);
    tcase_add_test(tc, test_fixture_no_topology);
    tcase_add_test(tc, test_fixture_not_caps);
    suite_add_tcase(suite, tc);

    return suite;
}

int
main(void)
{
    return test_run_suite(host_suite());
}

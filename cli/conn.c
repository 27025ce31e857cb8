/*
 * conn.c: everything virt-nestify asks of libvirt
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "apply.h"
#include "conn.h"
#include "nestify.h"
#include "tool.h"

/* libvirt prints every error by default; ours are reported once, by us. */
static void
quiet(void *data, virErrorPtr error)
{
}

const char *
vn_libvirt_error(void)
{
    /* A copy: the next libvirt call, even virDomainGetName, frees the
     * message libvirt holds. */
    static __thread char copy[1024];
    const char *msg = virGetLastErrorMessage();
    snprintf(copy, sizeof(copy), "%s", msg ? msg : "unknown libvirt error");
    /* Schema errors end in a newline; ours go on after the message. */
    size_t len = strlen(copy);
    while (len && (copy[len - 1] == '\n' || copy[len - 1] == ' '))
        copy[--len] = '\0';
    return copy;
}

virConnectPtr
vn_conn_open(const char *uri, char **err)
{
    static bool initialised;   /* process-wide by libvirt's design */

    if (!initialised) {
        /* A daemon that goes away must give an error, not kill us. */
        signal(SIGPIPE, SIG_IGN);
        virSetErrorFunc(NULL, quiet);
        if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
            nst_set_error(err, "cannot initialise libvirt: %s",
                          vn_libvirt_error());
            return NULL;
        }
        initialised = true;
    }
    virConnectPtr conn = virConnectOpen(uri);
    if (!conn) {
        nst_set_error(err, "cannot connect to '%s': %s",
                      uri ? uri : "the default hypervisor",
                      vn_libvirt_error());
        return NULL;
    }
    return conn;
}

/*
 * With qemu:///embed, opening the driver starts a thread per running
 * domain that reconnects to its QEMU, and libvirt 9.0 does not wait for
 * it when the connection closes: a process that exits meanwhile can
 * crash in it (SIGSEGV in virCPUProbeHost, about once in ten runs).  A
 * query that takes each domain's job waits for that thread.  A daemon
 * connection needs none of this.
 */
static void
settle_embedded(virConnectPtr conn)
{
    char *uri = virConnectGetURI(conn);
    virDomainPtr *doms = NULL;
    int n = 0;

    if (uri && strncmp(uri, "qemu:///embed", 13) == 0)
        n = virConnectListAllDomains(conn, &doms,
                                     VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    for (int i = 0; i < n; i++) {
        virDomainMemoryStatStruct stats[1];
        virDomainMemoryStats(doms[i], stats, 1, 0);
        virDomainFree(doms[i]);
    }
    free(doms);
    free(uri);
    virResetLastError();
}

void
vn_conn_close(virConnectPtr conn)
{
    if (!conn)
        return;
    settle_embedded(conn);
    virConnectClose(conn);
}

virDomainPtr
vn_domain_lookup(virConnectPtr conn, const char *key, char **err)
{
    virDomainPtr dom = NULL;
    unsigned long long id;

    if (nst_parse_ull(key, INT32_MAX, &id) == 0)
        dom = virDomainLookupByID(conn, (int)id);
    if (!dom && strlen(key) >= VIR_UUID_STRING_BUFLEN - 5)
        dom = virDomainLookupByUUIDString(conn, key);
    if (!dom)
        dom = virDomainLookupByName(conn, key);
    if (!dom) {
        virErrorPtr e = virGetLastError();
        if (e && e->code != VIR_ERR_NO_DOMAIN)
            nst_set_error(err, "domain '%s': %s", key, vn_libvirt_error());
        else
            nst_set_error(err, "domain '%s' not found", key);
    }
    return dom;
}

const char *
vn_domain_name(virDomainPtr dom)
{
    const char *name = virDomainGetName(dom);
    return name ? name : "?";
}

void
vn_domain_uuid(virDomainPtr dom, char buf[VIR_UUID_STRING_BUFLEN])
{
    if (virDomainGetUUIDString(dom, buf) < 0)
        snprintf(buf, VIR_UUID_STRING_BUFLEN, "unknown");
}

char *
vn_domain_xml(virDomainPtr dom, bool inactive, char **err)
{
    unsigned int flags = VIR_DOMAIN_XML_SECURE |
                         (inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
    const char *name = vn_domain_name(dom);   /* before: it resets errors */
    char *xml = virDomainGetXMLDesc(dom, flags);
    if (!xml)
        nst_set_error(err, "domain '%s': cannot read its XML: %s", name,
                      vn_libvirt_error());
    return xml;
}

int
vn_domain_define(virConnectPtr conn, const char *xml, char **err)
{
    virDomainPtr dom = virDomainDefineXMLFlags(conn, xml,
                                               VIR_DOMAIN_DEFINE_VALIDATE);
    if (!dom) {
        nst_set_error(err, "%s", vn_libvirt_error());
        return -1;
    }
    virDomainFree(dom);
    return 0;
}

/* Reads what libvirt knows of free pages into the host model; a driver
 * that cannot tell leaves the capabilities' counts. */
static void
read_free_pages(virConnectPtr conn, struct nst_host *host)
{
    for (size_t c = 0; c < host->ncells; c++) {
        struct nst_cell *cell = &host->cells[c];
        for (size_t p = 0; p < cell->npages; p++) {
            unsigned int size = (unsigned int)cell->pages[p].size_kib;
            unsigned long long count;
            if (virNodeGetFreePages(conn, 1, &size, (int)cell->id, 1, &count,
                                    0) == 1 && count <= cell->pages[p].total)
                nst_host_set_free_pages(host, cell->id, size, count, NULL);
        }
    }
}

struct nst_host *
vn_conn_host(virConnectPtr conn, const char *host_caps, const char *domcaps,
             const char *cpu_map, char **err)
{
    char *caps = NULL, *dc = NULL;
    size_t caps_len = 0, dc_len = 0;
    struct nst_host *host = NULL;

    if (host_caps) {
        if ((caps = vn_read_file(host_caps, &caps_len, err)) &&
            (!domcaps || (dc = vn_read_file(domcaps, &dc_len, err))))
            host = vn_host_build_labelled(caps, caps_len, host_caps, dc,
                                          dc_len, domcaps, cpu_map, err);
        goto out;
    }
    if (!(caps = virConnectGetCapabilities(conn))) {
        nst_set_error(err, "cannot read the host's capabilities: %s",
                      vn_libvirt_error());
        return NULL;
    }
    caps_len = strlen(caps);
    /* Not every driver has domain capabilities (the test driver has
     * none): plan without them. */
    if ((dc = virConnectGetDomainCapabilities(conn, NULL, NULL, NULL, NULL,
                                              0)))
        dc_len = strlen(dc);
    virResetLastError();
    host = vn_host_build_labelled(caps, caps_len, "capabilities", dc, dc_len,
                                  "domain capabilities", cpu_map, err);
    if (host)
        read_free_pages(conn, host);
 out:
    free(caps);
    free(dc);
    return host;
}

/* Adds the vCPU pins, the emulator and I/O thread pins (threads, when
 * not NULL) and the hugepages of dom's definition (or live XML) to pins,
 * threads and pages. */
static int
add_usage(virDomainPtr dom, bool inactive, struct nst_cpuset *pins,
          struct nst_cpuset *threads, struct nst_page_counts *pages,
          char **err)
{
    char *xml = vn_domain_xml(dom, inactive, err);
    char *label = nst_printf("domain '%s'", vn_domain_name(dom));
    struct nst_doc *doc = NULL;
    struct nst_page_use *uses = NULL;
    size_t nuses = 0;
    int ret = -1;

    if (xml && label &&
        nst_doc_parse(xml, strlen(xml), label, &doc, err) == 0 &&
        nst_doc_vcpu_pins(doc, pins, err) == 0 &&
        (!threads || nst_doc_thread_pins(doc, threads, err) == 0) &&
        nst_doc_page_use(doc, &uses, &nuses, err) == 0) {
        ret = nst_page_counts_add_uses(pages, uses, nuses, 1);
        if (ret < 0)
            nst_set_error(err, "out of memory");
    }
    free(uses);
    nst_doc_free(doc);
    free(label);
    free(xml);
    return ret;
}

int
vn_domain_holding(virDomainPtr dom, bool inactive, struct nst_cpuset *pins,
                  struct nst_cpuset *threads, struct nst_page_counts *pages,
                  char **err)
{
    nst_cpuset_clear_all(pins);
    nst_cpuset_clear_all(threads);
    return add_usage(dom, inactive, pins, threads, pages, err);
}

int
vn_domain_usage(virDomainPtr dom, struct nst_cpuset *pins,
                struct nst_cpuset *threads, struct nst_page_counts *defined,
                struct nst_page_counts *live, char **err)
{
    nst_cpuset_clear_all(pins);
    if (threads)
        nst_cpuset_clear_all(threads);
    if (add_usage(dom, true, pins, threads, defined, err) < 0)
        return -1;
    return virDomainIsActive(dom) == 1 ?
           add_usage(dom, false, pins, threads, live, err) : 0;
}

int
vn_conn_others(virConnectPtr conn, virDomainPtr *skip, size_t nskip,
               bool live_counts, struct nst_cpuset *taken,
               struct nst_cpuset *threads, struct nst_page_counts *pages,
               char **err)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);
    int ret = 0;

    nst_cpuset_clear_all(taken);
    if (threads)
        nst_cpuset_clear_all(threads);
    if (n < 0) {
        nst_set_error(err, "cannot list domains: %s", vn_libvirt_error());
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        bool skipped = false;
        vn_domain_uuid(doms[i], uuid);
        for (size_t k = 0; k < nskip && !skipped; k++) {
            char other[VIR_UUID_STRING_BUFLEN];
            vn_domain_uuid(skip[k], other);
            skipped = strcmp(uuid, other) == 0;
        }
        struct nst_cpuset pins, thread_pins;
        struct nst_page_counts defined = { 0 }, live = { 0 };
        if (ret == 0 && vn_domain_usage(doms[i], &pins, &thread_pins,
                                        &defined, &live, err) < 0)
            ret = -1;
        /* The connection's free counts leave out what runs: an other
         * domain takes what its definition needs beyond that, a skipped
         * one gets back what it holds. */
        if (ret == 0 && ((!skipped && nst_page_counts_add(pages, &defined, 1) < 0) ||
                         (live_counts && nst_page_counts_add(pages, &live, -1) < 0))) {
            nst_set_error(err, "out of memory");
            ret = -1;
        }
        if (!skipped)
            nst_cpuset_union(taken, &pins);
        if (!skipped && threads)
            nst_cpuset_union(threads, &thread_pins);
        nst_page_counts_clear(&defined);
        nst_page_counts_clear(&live);
        virDomainFree(doms[i]);
    }
    free(doms);
    return ret;
}

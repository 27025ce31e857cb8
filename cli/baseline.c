/*
 * baseline.c: cpu-mode=baseline's CPU, which libvirt computes for a fleet
 *
 * The one place that asks libvirt's baseline API, for every path: live
 * (the -c of a run: virConnectBaselineHypervisorCPU on the first host's
 * connection over every host's domain-capabilities host-model CPU,
 * falling back to virConnectBaselineCPU over the capabilities' host CPUs
 * where the driver has no hypervisor baseline) and offline (the
 * --host-caps files: virConnectBaselineCPU on an in-process
 * test:///default connection, which computes it from libvirt's cpu_map).
 * We never compute a CPU model ourselves.  Before asking, a fleet that
 * mixes vendors is refused (nst_fleet_check_vendors).
 */
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "apply.h"
#include "conn.h"
#include "tool.h"

/* The first element child of node named name, or NULL. */
static xmlNodePtr
child(xmlNodePtr node, const char *name)
{
    for (xmlNodePtr c = node ? node->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

/*
 * The host CPU of a capabilities text (<host><cpu>) or, domcaps, the
 * host-model of a domain capabilities text (<cpu><mode
 * name='host-model'>, renamed <cpu> and without attributes, as virsh's
 * hypervisor-cpu-baseline hands it to libvirt), as a <cpu> XML text;
 * with_arch, the domain capabilities' <arch> goes in too, which
 * virConnectBaselineCPU needs.  NULL with *err naming label when it
 * has none.
 */
static char *
cpu_xml(const char *text, const char *label, bool domcaps, bool with_arch,
        char **err)
{
    /* No network, no entities (the library refused a DOCTYPE when it
     * read the same text). */
    xmlDocPtr doc = xmlReadMemory(text, (int)strlen(text), NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR |
                                  XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNodePtr cpu = NULL;
    char *out = NULL;

    if (domcaps) {
        for (xmlNodePtr m = child(child(root, "cpu"), "mode"); m && !cpu;
             m = m->next) {
            xmlChar *name = m->type == XML_ELEMENT_NODE ?
                            xmlGetProp(m, (const xmlChar *)"name") : NULL;
            if (name && strcmp((const char *)name, "host-model") == 0 &&
                child(m, "model"))
                cpu = m;
            xmlFree(name);
        }
    } else {
        cpu = child(child(root, "host"), "cpu");
    }
    xmlNodePtr copy = cpu ? xmlCopyNode(cpu, 1) : NULL;
    xmlBufferPtr buf = copy ? xmlBufferCreate() : NULL;
    if (copy && domcaps) {
        xmlNodeSetName(copy, (const xmlChar *)"cpu");
        while (copy->properties)
            xmlRemoveProp(copy->properties);
        xmlNodePtr arch = with_arch ? child(root, "arch") : NULL;
        xmlNodePtr arch_copy = arch ? xmlCopyNode(arch, 1) : NULL;
        if (arch_copy && copy->children)
            xmlAddPrevSibling(copy->children, arch_copy);
        else if (arch_copy)
            xmlAddChild(copy, arch_copy);
    }
    if (buf && xmlNodeDump(buf, doc, copy, 0, 0) >= 0)
        out = nst_printf("%s", (const char *)xmlBufferContent(buf));
    if (!cpu)
        nst_set_error(err, "%s: no %s to compute the baseline CPU from",
                      label, domcaps ? "host-model CPU" : "host CPU");
    else if (!out)
        nst_set_error(err, "out of memory");
    xmlBufferFree(buf);
    xmlFreeNode(copy);
    xmlFreeDoc(doc);
    return out;
}

/* Refuses a fleet of several vendors: hosts built from the capabilities
 * texts, one line naming them.  Returns 0 or -1 with *err set. */
static int
check_vendors(char **caps, const char *const *labels, size_t n,
              const char *cpu_map, char **err)
{
    struct nst_host **hosts = calloc(n ? n : 1, sizeof(*hosts));
    int ret = -1;
    size_t built = 0;

    if (!hosts) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    for (; built < n; built++)
        if (!(hosts[built] = vn_host_build_labelled(caps[built],
                                                    strlen(caps[built]),
                                                    labels[built], NULL, 0,
                                                    NULL, cpu_map, err)))
            goto out;
    ret = nst_fleet_check_vendors((const struct nst_host *const *)hosts,
                                  labels, n, err);
 out:
    for (size_t i = 0; i < built; i++)
        nst_host_free(hosts[i]);
    free(hosts);
    return ret;
}

/*
 * virConnectBaselineCPU over cpus, first asking for a migratable CPU
 * (what the fleet is for: libvirt then drops features such as invtsc);
 * a driver that does not take the flag (the test driver) is asked
 * without it.
 */
static char *
baseline_cpus(virConnectPtr conn, const char **cpus, size_t n)
{
    char *cpu = virConnectBaselineCPU(conn, cpus, (unsigned int)n,
                                      VIR_CONNECT_BASELINE_CPU_MIGRATABLE);
    if (!cpu)
        cpu = virConnectBaselineCPU(conn, cpus, (unsigned int)n, 0);
    return cpu;
}

/* Strings from libvirt are libvirt's (free); ours the same: free both. */
static void
free_all(char **texts, size_t n)
{
    for (size_t i = 0; texts && i < n; i++)
        free(texts[i]);
    free(texts);
}

int
vn_baseline_files(char *const *files, size_t n, char *const *domcaps,
                  size_t ndomcaps, const char *cpu_map, char **out,
                  char **err)
{
    char **caps = calloc(n ? n : 1, sizeof(*caps));
    char **cpus = calloc(n ? n : 1, sizeof(*cpus));
    virConnectPtr conn = NULL;
    int ret = VN_EXIT_INPUT;
    size_t len;

    *out = NULL;
    if (!caps || !cpus) {
        nst_set_error(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (!(caps[i] = vn_read_file(files[i], &len, err)))
            goto out;
    /* A host with domain capabilities: their host-model, the CPU its
     * hypervisor can give a guest (without the host-only features
     * capabilities list, such as monitor or invtsc); else the host CPU
     * of its capabilities. */
    for (size_t i = 0; i < n; i++) {
        char *dc = i < ndomcaps ? vn_read_file(domcaps[i], &len, err) : NULL;
        if (i < ndomcaps && !dc)
            goto out;
        cpus[i] = dc ? cpu_xml(dc, domcaps[i], true, true, err) :
                       cpu_xml(caps[i], files[i], false, false, err);
        free(dc);
        if (!cpus[i])
            goto out;
    }
    /* In process, touching nothing: the test driver's baseline is
     * libvirt's own, from its cpu_map. */
    ret = VN_EXIT_SYSTEM;
    if (!(conn = vn_conn_open("test:///default", err)))
        goto out;
    if (!(*out = baseline_cpus(conn, (const char **)cpus, n))) {
        nst_set_error(err, "libvirt computed no baseline CPU of %s%s: %s",
                      files[0], n > 1 ? " and the other --host-caps" : "",
                      vn_libvirt_error());
        ret = VN_EXIT_INPUT;
        goto out;
    }
    ret = VN_EXIT_OK;
 out:
    vn_conn_close(conn);
    free_all(caps, n);
    free_all(cpus, n);
    return ret;
}

int
vn_baseline_connections(char *const *uris, size_t n, const char *cpu_map,
                        char **out, char **err)
{
    /* No -c: the default connection alone. */
    static char *const default_uri[] = { NULL };
    const char *const *labels;
    size_t m = n ? n : 1;
    virConnectPtr *conns = calloc(m, sizeof(*conns));
    char **caps = calloc(m, sizeof(*caps));
    char **cpus = calloc(m, sizeof(*cpus));
    char **names = calloc(m, sizeof(*names));
    int ret = VN_EXIT_SYSTEM;

    *out = NULL;
    if (!n)
        uris = default_uri;
    if (!conns || !caps || !cpus || !names) {
        nst_set_error(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m; i++) {
        if (!(names[i] = nst_printf("%s", uris[i] ? uris[i] :
                                    "the default hypervisor"))) {
            nst_set_error(err, "out of memory");
            goto out;
        }
        if (!(conns[i] = vn_conn_open(uris[i], err)))
            goto out;
        if (!(caps[i] = virConnectGetCapabilities(conns[i]))) {
            nst_set_error(err, "%s: cannot read the host's capabilities: %s",
                          names[i], vn_libvirt_error());
            goto out;
        }
    }
    labels = (const char *const *)names;
    if (check_vendors(caps, labels, m, cpu_map, err) < 0) {
        ret = VN_EXIT_INPUT;
        goto out;
    }
    /* Each host's host-model as its hypervisor gives it: what its
     * guests can really have.  Any host without one (no domain
     * capabilities, no host-model) sends every host to the fallback. */
    bool hypervisor = true;
    for (size_t i = 0; i < m && hypervisor; i++) {
        char *dc = virConnectGetDomainCapabilities(conns[i], NULL, NULL,
                                                   NULL, NULL, 0);
        char *why = NULL;
        virResetLastError();
        if (!dc || !(cpus[i] = cpu_xml(dc, names[i], true, false, &why)))
            hypervisor = false;
        free(why);
        free(dc);
    }
    if (hypervisor)
        *out = virConnectBaselineHypervisorCPU(
            conns[0], NULL, NULL, NULL, NULL, (const char **)cpus,
            (unsigned int)m, VIR_CONNECT_BASELINE_CPU_MIGRATABLE);
    if (!*out) {
        virResetLastError();
        for (size_t i = 0; i < m; i++) {
            free(cpus[i]);
            if (!(cpus[i] = cpu_xml(caps[i], names[i], false, false, err)))
                goto out;
        }
        *out = baseline_cpus(conns[0], (const char **)cpus, m);
    }
    if (!*out) {
        nst_set_error(err, "libvirt computed no baseline CPU of %s%s: %s",
                      names[0], m > 1 ? " and the other hosts" : "",
                      vn_libvirt_error());
        ret = VN_EXIT_INPUT;
        goto out;
    }
    ret = VN_EXIT_OK;
 out:
    for (size_t i = 0; conns && i < m; i++)
        vn_conn_close(conns[i]);
    free(conns);
    free_all(caps, m);
    free_all(cpus, m);
    free_all(names, m);
    return ret;
}

/*
 * baseline.c: cpu-mode=baseline's CPU, which libvirt computes for a fleet
 *
 * The one place that asks libvirt's baseline API, for every path, always
 * over each host's domain-capabilities host-model CPU: what its
 * hypervisor can really give a guest.  The capabilities' host CPU is
 * never used: it lists features KVM does not give guests (ds, monitor,
 * tm, invtsc, ...), and a guest that requires them defines but never
 * starts.  Live (the -c of a run): virConnectBaselineHypervisorCPU on
 * the first host's connection, falling back to virConnectBaselineCPU
 * where the driver has no hypervisor baseline.  Offline (the
 * --domcaps of every --host-caps): virConnectBaselineCPU on an
 * in-process test:///default connection, which computes it from
 * libvirt's cpu_map.  We never compute a CPU model ourselves.  Before
 * asking, a fleet that mixes vendors is refused
 * (nst_fleet_check_vendors).  A live run does its libvirt work in child
 * processes (in_child).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
 * The host-model of a domain capabilities text (<cpu><mode
 * name='host-model'>, renamed <cpu> and without attributes, as virsh's
 * hypervisor-cpu-baseline hands it to libvirt), as a <cpu> XML text.
 * with_arch, for virConnectBaselineCPU: the domain capabilities' <arch>
 * goes in, which that API needs, and the features the host-model
 * disables go: it reads a host CPU, where every <feature> is one the
 * host has, whatever its policy.  NULL with *err naming label when
 * there is none.
 */
static char *
cpu_xml(const char *text, const char *label, bool with_arch, char **err)
{
    /* No network, no entities (the library refused a DOCTYPE when it
     * read the same text). */
    xmlDocPtr doc = xmlReadMemory(text, (int)strlen(text), NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR |
                                  XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNodePtr cpu = NULL;
    char *out = NULL;

    for (xmlNodePtr m = child(child(root, "cpu"), "mode"); m && !cpu;
         m = m->next) {
        xmlChar *name = m->type == XML_ELEMENT_NODE ?
                        xmlGetProp(m, (const xmlChar *)"name") : NULL;
        if (name && strcmp((const char *)name, "host-model") == 0 &&
            child(m, "model"))
            cpu = m;
        xmlFree(name);
    }
    xmlNodePtr copy = cpu ? xmlCopyNode(cpu, 1) : NULL;
    xmlBufferPtr buf = copy ? xmlBufferCreate() : NULL;
    if (copy) {
        xmlNodeSetName(copy, (const xmlChar *)"cpu");
        while (copy->properties)
            xmlRemoveProp(copy->properties);
        for (xmlNodePtr f = copy->children, next; f && with_arch; f = next) {
            next = f->next;
            xmlChar *policy = f->type == XML_ELEMENT_NODE &&
                              strcmp((const char *)f->name, "feature") == 0 ?
                              xmlGetProp(f, (const xmlChar *)"policy") : NULL;
            if (policy && strcmp((const char *)policy, "disable") == 0) {
                xmlUnlinkNode(f);
                xmlFreeNode(f);
            }
            xmlFree(policy);
        }
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
        nst_set_error(err, "%s: no host-model CPU to compute the baseline "
                      "CPU from", label);
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

/* Refuses an offline fleet with a --host-caps that has no --domcaps:
 * one line naming those files.  Returns 0 or -1 with *err set. */
static int
check_domcaps(char *const *files, size_t n, size_t ndomcaps, char **err)
{
    char *names = NULL;

    for (size_t i = ndomcaps; i < n; i++) {
        char *more = nst_printf("%s%s%s", names ? names : "",
                                names ? ", " : "", files[i]);
        free(names);
        if (!(names = more)) {
            nst_set_error(err, "out of memory");
            return -1;
        }
    }
    if (!names)
        return 0;
    nst_set_error(err, "cpu-mode=baseline offline needs each host's domain "
                  "capabilities: no --domcaps for %s (the host CPU of a "
                  "capabilities file lists features KVM does not give "
                  "guests, such as monitor or invtsc, and a guest that "
                  "requires them never starts; give each host's "
                  "'virsh domcapabilities', the Nth --domcaps for the Nth "
                  "--host-caps)", names);
    free(names);
    return -1;
}

int
vn_baseline_files(char *const *files, size_t n, char *const *domcaps,
                  size_t ndomcaps, const char *cpu_map, char **out,
                  char **err)
{
    char **cpus = calloc(n ? n : 1, sizeof(*cpus));
    virConnectPtr conn = NULL;
    int ret = VN_EXIT_INPUT;
    size_t len;

    *out = NULL;
    if (!cpus) {
        nst_set_error(err, "out of memory");
        goto out;
    }
    if (check_domcaps(files, n, ndomcaps, err) < 0)
        goto out;
    /* Each host's host-model: the CPU its hypervisor can give a guest. */
    for (size_t i = 0; i < n; i++) {
        char *dc = vn_read_file(domcaps[i], &len, err);
        cpus[i] = dc ? cpu_xml(dc, domcaps[i], true, err) : NULL;
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
                      domcaps[0], n > 1 ? " and the other --domcaps" : "",
                      vn_libvirt_error());
        ret = VN_EXIT_INPUT;
        goto out;
    }
    ret = VN_EXIT_OK;
 out:
    vn_conn_close(conn);
    free_all(cpus, n);
    return ret;
}

/*
 * Runs fn(arg) in a child process and returns its exit status, with what
 * it wrote to the file it is given in *out (a new string, *len bytes).
 * Each host's libvirt work runs in a child of its own: the embedded
 * QEMU driver (qemu:///embed) opens once per process, so one process
 * could not open two hosts, and the fleet's children, forked later,
 * must not inherit an open one.
 */
static int
in_child(int (*fn)(void *arg, FILE *fp), void *arg, char **out, size_t *len,
         char **err)
{
    FILE *fp = tmpfile();
    int status;

    *out = NULL;
    if (!fp) {
        nst_set_error(err, "cannot create a temporary file");
        return VN_EXIT_SYSTEM;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int ret = fn(arg, fp);
        _exit(fflush(fp) == 0 ? ret : VN_EXIT_SYSTEM);
    }
    if (pid < 0) {
        fclose(fp);
        nst_set_error(err, "cannot start a process");
        return VN_EXIT_SYSTEM;
    }
    while (waitpid(pid, &status, 0) < 0)
        ;
    rewind(fp);
    *out = vn_read_fd(fileno(fp), "the baseline's child process", len, err);
    fclose(fp);
    if (!*out)
        return VN_EXIT_SYSTEM;
    return WIFEXITED(status) ? WEXITSTATUS(status) : VN_EXIT_SYSTEM;
}

/* A child's failure: its message is what it wrote. */
static int
child_failed(int ret, char *text, char **err)
{
    nst_set_error(err, "%s", text && *text ? text : "the process died");
    free(text);
    return ret == VN_EXIT_OK ? VN_EXIT_SYSTEM : ret;
}

/* In the child: the capabilities, a NUL, then the domain capabilities
 * (nothing when the driver has none) of the host at uri. */
static int
read_host(void *arg, FILE *fp)
{
    const char *uri = arg;
    char *err = NULL, *caps = NULL, *dc = NULL;
    virConnectPtr conn = vn_conn_open(uri, &err);

    if (conn && !(caps = virConnectGetCapabilities(conn)))
        nst_set_error(&err, "%s: cannot read the host's capabilities: %s",
                      uri ? uri : "the default hypervisor",
                      vn_libvirt_error());
    if (caps) {
        dc = virConnectGetDomainCapabilities(conn, NULL, NULL, NULL, NULL,
                                             0);
        fputs(caps, fp);
        fputc('\0', fp);
        if (dc)
            fputs(dc, fp);
    } else {
        fputs(err ? err : "out of memory", fp);
    }
    vn_conn_close(conn);
    free(caps);
    free(dc);
    free(err);
    return caps ? VN_EXIT_OK : VN_EXIT_SYSTEM;
}

struct compute {
    const char *uri;             /* the first host */
    const char **hypervisor;     /* host-model CPUs */
    const char **host;           /* the same as host CPUs, with <arch> */
    size_t n;
};

/* In the child: the baseline on the first host's connection. */
static int
compute(void *arg, FILE *fp)
{
    const struct compute *c = arg;
    char *err = NULL, *cpu = NULL;
    virConnectPtr conn = vn_conn_open(c->uri, &err);

    if (conn)
        cpu = virConnectBaselineHypervisorCPU(
            conn, NULL, NULL, NULL, NULL, c->hypervisor, (unsigned int)c->n,
            VIR_CONNECT_BASELINE_CPU_MIGRATABLE);
    if (conn && !cpu) {
        virResetLastError();
        cpu = baseline_cpus(conn, c->host, c->n);
    }
    if (conn && !cpu)
        nst_set_error(&err, "libvirt computed no baseline CPU of %s%s: %s",
                      c->uri ? c->uri : "the default hypervisor",
                      c->n > 1 ? " and the other hosts" : "",
                      vn_libvirt_error());
    fputs(cpu ? cpu : err ? err : "out of memory", fp);
    int ret = cpu ? VN_EXIT_OK : conn ? VN_EXIT_INPUT : VN_EXIT_SYSTEM;
    vn_conn_close(conn);
    free(cpu);
    free(err);
    return ret;
}

/*
 * One host of a live fleet, read in a child process: its name for
 * messages, its capabilities (*caps, for its vendor) and the host-model
 * of its domain capabilities (*hyp, and *host as virConnectBaselineCPU
 * reads it): what its guests can really have.  A host without one (the
 * test driver has no domain capabilities) is refused: its capabilities'
 * host CPU lists features KVM does not give guests.  Returns an exit
 * status, with *err set when not VN_EXIT_OK.
 */
static int
read_fleet_host(const char *uri, char **name, char **caps, char **hyp,
                char **host, char **err)
{
    size_t len;
    char *text = NULL;
    int ret;

    if (!(*name = nst_printf("%s", uri ? uri : "the default hypervisor"))) {
        nst_set_error(err, "out of memory");
        return VN_EXIT_SYSTEM;
    }
    ret = in_child(read_host, (void *)uri, &text, &len, err);
    if (ret != VN_EXIT_OK)
        return text ? child_failed(ret, text, err) : ret;
    size_t caps_len = strlen(text);
    const char *dc = caps_len < len ? text + caps_len + 1 : "";
    if (!*dc) {
        nst_set_error(err, "%s: the driver gives no domain capabilities, "
                      "so no host-model CPU to compute the baseline CPU "
                      "from (the host CPU of its capabilities lists "
                      "features KVM does not give guests)", *name);
        free(text);
        return VN_EXIT_INPUT;
    }
    if (!(*hyp = cpu_xml(dc, *name, false, err)) ||
        !(*host = cpu_xml(dc, *name, true, err))) {
        free(text);
        return VN_EXIT_INPUT;
    }
    text[caps_len] = '\0';
    *caps = text;
    return VN_EXIT_OK;
}

int
vn_baseline_connections(char *const *uris, size_t n, const char *cpu_map,
                        char **out, char **err)
{
    /* No -c: the default connection alone. */
    static char *const default_uri[] = { NULL };
    size_t m = n ? n : 1;
    char **caps = calloc(m, sizeof(*caps));
    char **hyp = calloc(m, sizeof(*hyp));
    char **host = calloc(m, sizeof(*host));
    char **names = calloc(m, sizeof(*names));
    int ret = VN_EXIT_SYSTEM;

    *out = NULL;
    if (!n)
        uris = default_uri;
    if (!caps || !hyp || !host || !names) {
        nst_set_error(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m; i++)
        if ((ret = read_fleet_host(uris[i], &names[i], &caps[i], &hyp[i],
                                   &host[i], err)) != VN_EXIT_OK)
            goto out;
    if (check_vendors(caps, (const char *const *)names, m, cpu_map, err) < 0) {
        ret = VN_EXIT_INPUT;
        goto out;
    }
    struct compute c = {
        .uri = uris[0],
        .hypervisor = (const char **)hyp,
        .host = (const char **)host,
        .n = m,
    };
    char *cpu = NULL;
    size_t len;
    ret = in_child(compute, &c, &cpu, &len, err);
    if (ret != VN_EXIT_OK) {
        ret = cpu ? child_failed(ret, cpu, err) : ret;
        goto out;
    }
    *out = cpu;
 out:
    free_all(caps, m);
    free_all(hyp, m);
    free_all(host, m);
    free_all(names, m);
    return ret;
}

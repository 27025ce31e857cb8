/*
 * host-libvirt.c: the host doctor's one libvirt check
 *
 * Kept apart from cmd-host.c so the doctor itself links no libvirt:
 * virt-nestify-live passes vn_doctor_libvirt_check to vn_host_main
 * (vn_connected.host_libvirt, see main.c and run-connected.c).
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "conn.h"
#include "host-doctor.h"
#include "nestify.h"
#include "tool.h"

/* The string value of expr in doc, or NULL when empty; free(). */
static char *
xpath_string(xmlXPathContextPtr ctx, const char *expr)
{
    xmlXPathObjectPtr obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    char *s = NULL;

    if (obj && obj->type == XPATH_STRING && obj->stringval &&
        *obj->stringval)
        s = nst_printf("%s", (const char *)obj->stringval);
    xmlXPathFreeObject(obj);
    return s;
}

int
vn_doctor_libvirt_check(const char *uri, struct vn_doctor_libvirt *out,
                        char **err)
{
    virConnectPtr conn = vn_conn_open(uri, err);
    char *caps = NULL;
    xmlDocPtr doc = NULL;
    xmlXPathContextPtr ctx = NULL;
    int ret = -1;

    memset(out, 0, sizeof(*out));
    if (!conn)
        return -1;
    /* No emulator, arch, machine or type: libvirt's default for the
     * host, which is kvm where KVM works. */
    if (!(caps = virConnectGetDomainCapabilities(conn, NULL, NULL, NULL,
                                                 NULL, 0))) {
        nst_set_error(err, "cannot read the domain capabilities of '%s': %s",
                      uri, vn_libvirt_error());
        goto out;
    }
    doc = xmlReadMemory(caps, (int)strlen(caps), "domcapabilities.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                        XML_PARSE_NOWARNING);
    if (!doc || !(ctx = xmlXPathNewContext(doc))) {
        nst_set_error(err, "cannot parse the domain capabilities of '%s'",
                      uri);
        goto out;
    }
    char *supported = xpath_string(ctx, "string(/domainCapabilities/cpu/"
                                   "mode[@name='host-passthrough']/"
                                   "@supported)");
    out->passthrough = supported && strcmp(supported, "yes") == 0;
    free(supported);
    out->virttype = xpath_string(ctx, "string(/domainCapabilities/domain)");
    out->emulator = xpath_string(ctx, "string(/domainCapabilities/path)");
    ret = 0;

 out:
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    free(caps);
    vn_conn_close(conn);
    return ret;
}

/* The guests' pins for "host --isolate" and the doctor: the vCPU pins
 * only, as the allocator counts them (vn_domain_usage): emulator and
 * I/O threads are pinned to the housekeeping CPUs, which the host
 * shares with them. */
int
vn_host_pins(const char *uri, struct nst_cpuset *host_cpus,
             struct nst_cpuset *pinned, char **err)
{
    virConnectPtr conn = vn_conn_open(uri, err);
    virDomainPtr *doms = NULL;
    struct nst_host *host = NULL;
    char *caps = NULL;
    int n = -1, ret = -1;

    nst_cpuset_clear_all(host_cpus);
    nst_cpuset_clear_all(pinned);
    if (!conn)
        return -1;
    /* The CPUs only: no domain capabilities (which start QEMU) and no
     * cpu_map are needed. */
    if (!(caps = virConnectGetCapabilities(conn))) {
        nst_set_error(err, "cannot read the capabilities of '%s': %s", uri,
                      vn_libvirt_error());
        goto out;
    }
    if (!(host = vn_host_build(caps, strlen(caps), "capabilities", NULL, 0,
                               "none", err)))
        goto out;
    nst_host_all_cpus(host, host_cpus);
    if ((n = virConnectListAllDomains(conn, &doms, 0)) < 0) {
        nst_set_error(err, "cannot list the domains of '%s': %s", uri,
                      vn_libvirt_error());
        goto out;
    }
    ret = 0;
    for (int i = 0; i < n; i++) {
        struct nst_cpuset pins;
        struct nst_page_counts defined = { 0 }, live = { 0 };
        if (ret == 0 && vn_domain_usage(doms[i], &pins, NULL, &defined, &live,
                                        err) < 0)
            ret = -1;
        else if (ret == 0)
            nst_cpuset_union(pinned, &pins);
        nst_page_counts_clear(&defined);
        nst_page_counts_clear(&live);
        virDomainFree(doms[i]);
    }
 out:
    free(doms);
    nst_host_free(host);
    free(caps);
    vn_conn_close(conn);
    return ret;
}

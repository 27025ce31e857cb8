/*
 * cmd-map-live.c: the map of a connection (map -c), the only part of
 * the map command that links libvirt; virt-nestify-live hands it to
 * cmd-map.c as vn_connected.map.
 *
 * Every domain is on the map, in name order, with what it holds as the
 * allocator counts it (conn.c): a running domain with its live pins and
 * hugepages, which hold the host now, and a note when its definition
 * says otherwise (it takes those at its next start); a shut off one
 * with its definition's.
 */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "map.h"
#include "tool.h"

/* What dom holds: live when it runs, else defined; *differs when the
 * live pins are not the definition's. */
static int
holding(virDomainPtr dom, struct nst_cpuset *vcpus, struct nst_cpuset *threads,
        struct nst_page_counts *pages, bool *differs, char **err)
{
    bool active = virDomainIsActive(dom) == 1;
    struct nst_cpuset dv, dt;
    struct nst_page_counts dp = { 0 };

    *differs = false;
    if (vn_domain_holding(dom, !active, vcpus, threads, pages, err) < 0)
        return -1;
    if (!active)
        return 0;
    int ret = vn_domain_holding(dom, true, &dv, &dt, &dp, err);
    *differs = ret == 0 && (!nst_cpuset_equal(&dv, vcpus) ||
                            !nst_cpuset_equal(&dt, threads));
    nst_page_counts_clear(&dp);
    return ret;
}

static int
add_domains(struct nst_map *map, virDomainPtr *doms, size_t n, char **err)
{
    for (size_t i = 0; i < n; i++) {
        struct nst_cpuset vcpus, threads;
        struct nst_page_counts pages = { 0 };
        bool differs;
        int ret = holding(doms[i], &vcpus, &threads, &pages, &differs, err);
        if (ret == 0 &&
            nst_map_add(map, vn_domain_name(doms[i]), &vcpus, &threads,
                        &pages, differs ? "running with live pins that "
                        "differ from its definition" : NULL) < 0) {
            nst_set_error(err, "out of memory");
            ret = -1;
        }
        nst_page_counts_clear(&pages);
        if (ret < 0)
            return -1;
    }
    return 0;
}

static int
compare_domains(const void *a, const void *b)
{
    return strcmp(vn_domain_name(*(virDomainPtr const *)a),
                  vn_domain_name(*(virDomainPtr const *)b));
}

int
vn_map_live(const struct vn_map_opts *o, const struct nst_profile *profile,
            struct nst_map **out, char **err)
{
    virConnectPtr conn = vn_conn_open(o->plan.connect, err);
    virDomainPtr *doms = NULL;
    struct nst_host *host = NULL;
    struct nst_cpuset taken, housekeeping;
    int n = conn ? virConnectListAllDomains(conn, &doms, 0) : -1;
    int ret = VN_EXIT_SYSTEM;

    *out = NULL;
    if (conn && n < 0)
        nst_set_error(err, "cannot list domains: %s", vn_libvirt_error());
    if (n < 0)
        goto out;
    qsort(doms, (size_t)n, sizeof(*doms), compare_domains);
    /* Every domain is on the map: none is "outside"; the host's free
     * hugepages get back what the running ones hold, as a bulk run of
     * them all would see it. */
    if ((ret = vn_live_prepare(conn, &o->plan, doms, (size_t)n, &host,
                               &taken, err)) != VN_EXIT_OK)
        goto out;
    ret = VN_EXIT_INPUT;
    if ((o->plan.has_taken &&
         nst_host_check_cpus(host, &o->plan.taken, "--taken", err) < 0) ||
        (profile && nst_profile_check_host(profile, host, err) < 0))
        goto out;
    ret = VN_EXIT_SYSTEM;
    nst_profile_housekeeping(profile, host, &housekeeping);
    if (!(*out = nst_map_new(host, &housekeeping, &taken)))
        nst_set_error(err, "out of memory");
    else if (add_domains(*out, doms, (size_t)n, err) == 0)
        ret = VN_EXIT_OK;
 out:
    if (ret != VN_EXIT_OK) {
        nst_map_free(*out);
        *out = NULL;
    }
    for (int i = 0; i < n; i++)
        virDomainFree(doms[i]);
    free(doms);
    nst_host_free(host);
    vn_conn_close(conn);
    return ret;
}

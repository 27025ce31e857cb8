/*
 * cmd-lint-live.c: "virt-nestify lint" on a libvirt connection
 *
 * The only part of lint that links libvirt (cmd-lint.c does the rest and
 * calls vn_lint_live()).  Reads the host from the connection (or
 * --host-caps), every domain's vCPU pins and hugepages once, then lints
 * each selected domain's persistent definition with the other domains'
 * pins and hugepages taken, as a live apply plans (vn_conn_others): the
 * hugepages a domain needs are checked against what the others leave.
 */
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "apply.h"
#include "conn.h"
#include "nestify.h"
#include "lint.h"
#include "tool.h"

static int
compare_domains(const void *a, const void *b)
{
    return strcmp(vn_domain_name(*(virDomainPtr const *)a),
                  vn_domain_name(*(virDomainPtr const *)b));
}

/* Lints one domain into the next slot of out. */
static int
lint_domain(virDomainPtr dom, const struct nst_host *host,
            const struct nst_cpuset *taken, struct vn_lint_results *out,
            char **err)
{
    const char *name = vn_domain_name(dom);
    char *xml = vn_domain_xml(dom, true, err);
    char *label = nst_printf("domain '%s'", name);
    struct nst_doc *doc = NULL;
    int ret = VN_EXIT_SYSTEM;

    if (!xml || !label ||
        nst_doc_parse(xml, strlen(xml), label, &doc, err) < 0)
        goto out;
    struct nst_lint_result *more = realloc(out->items,
                                           (out->count + 1) * sizeof(*more));
    if (!more)
        goto oom;
    out->items = more;
    struct nst_lint_options opts = { .host = host, .taken = taken };
    if (nst_lint(doc, &opts, name, &out->items[out->count]) < 0)
        goto oom;
    out->count++;
    ret = VN_EXIT_OK;
    goto out;
 oom:
    nst_set_error(err, "out of memory");
 out:
    nst_doc_free(doc);
    free(label);
    free(xml);
    return ret;
}

int
vn_lint_live(const struct vn_lint_opts *o, struct vn_lint_results *out,
             char **err)
{
    virConnectPtr conn = NULL;
    virDomainPtr *all = NULL, *selected = NULL;
    struct nst_cpuset *pins = NULL;
    struct nst_page_counts *defined = NULL;
    struct nst_holdings held = { 0 };
    struct nst_host *host = NULL;
    size_t nselected = 0;
    int nall = 0, ret = VN_EXIT_SYSTEM;

    /* --taken was parsed with the options, before this connection */
    if (o->has_taken)
        held.outside = o->taken;
    if (!(conn = vn_conn_open(o->connect, err)))
        goto out;
    if (!(host = vn_conn_host(conn, o->host_caps, o->domcaps, o->cpu_map,
                              err))) {
        ret = o->host_caps ? VN_EXIT_INPUT : VN_EXIT_SYSTEM;
        goto out;
    }
    if (nst_host_check_cpus(host, &held.outside, "--taken", err) < 0) {
        ret = VN_EXIT_INPUT;
        goto out;
    }
    if ((nall = virConnectListAllDomains(conn, &all, 0)) < 0) {
        nst_set_error(err, "cannot list domains: %s", vn_libvirt_error());
        nall = 0;
        goto out;
    }
    qsort(all, (size_t)nall, sizeof(*all), compare_domains);

    /* Which to lint: --all, or each --domain as given. */
    size_t want = o->all ? (size_t)nall : o->ndomains;
    if (!(selected = calloc(want ? want : 1, sizeof(*selected))) ||
        !(pins = calloc(nall ? (size_t)nall : 1, sizeof(*pins))) ||
        !(defined = calloc(nall ? (size_t)nall : 1, sizeof(*defined)))) {
        nst_set_error(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < want; i++) {
        virDomainPtr dom = o->all ? all[i] :
                           vn_domain_lookup(conn, o->domains[i], err);
        if (!dom) {
            virErrorPtr e = virGetLastError();
            ret = !e || e->code == VIR_ERR_NO_DOMAIN ? VN_EXIT_INPUT :
                  VN_EXIT_SYSTEM;
            goto out;
        }
        if (o->all)
            virDomainRef(dom);
        selected[nselected++] = dom;
    }
    /* Every domain's vCPU pins and hugepages, read once and held: what
     * every definition uses, less what running domains hold when the
     * free counts came from the connection (vn_conn_others' rule). */
    for (int i = 0; i < nall; i++) {
        struct nst_page_counts live = { 0 };
        int r = vn_domain_usage(all[i], &pins[i], &defined[i], &live, err);
        if (r == 0 &&
            (nst_holdings_add(&held, &pins[i], &defined[i], 1) < 0 ||
             (!o->host_caps && nst_holdings_add(&held, NULL, &live,
                                                -1) < 0))) {
            nst_set_error(err, "out of memory");
            r = -1;
        }
        nst_page_counts_clear(&live);
        if (r < 0)
            goto out;
    }

    for (size_t s = 0; s < nselected; s++) {
        char uuid[VIR_UUID_STRING_BUFLEN], other[VIR_UUID_STRING_BUFLEN];
        struct nst_cpuset taken;
        int own = -1;
        vn_domain_uuid(selected[s], uuid);
        for (int i = 0; i < nall && own < 0; i++) {
            vn_domain_uuid(all[i], other);
            if (strcmp(uuid, other) == 0)
                own = i;
        }
        /* The others' CPUs and hugepages are taken; its own are not. */
        nst_holdings_taken(&held, own >= 0 ? &pins[own] : NULL, &taken);
        struct nst_host *view = nst_holdings_host(&held, host, own >= 0 ?
                                                  &defined[own] : NULL);
        int r = view ? lint_domain(selected[s], view, &taken, out, err) :
                -1;
        if (!view)
            nst_set_error(err, "out of memory");
        nst_host_free(view);
        if (r != VN_EXIT_OK)
            goto out;
    }
    ret = VN_EXIT_OK;
 out:
    for (size_t i = 0; i < nselected; i++)
        virDomainFree(selected[i]);
    for (int i = 0; i < nall; i++)
        virDomainFree(all[i]);
    for (int i = 0; defined && i < nall; i++)
        nst_page_counts_clear(&defined[i]);
    free(defined);
    nst_holdings_clear(&held);
    free(selected);
    free(all);
    free(pins);
    nst_host_free(host);
    vn_conn_close(conn);
    return ret;
}

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

#include "transform.h"
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
    if (NST_GROW(out->items, out->count + 1, out->alloc) < 0)
        goto oom;
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

/* Every domain of the connection, in name order, and what each uses. */
struct fleet {
    virDomainPtr *all;
    int nall;
    struct nst_cpuset *pins;             /* all[i]'s vCPU pins */
    struct nst_page_counts *defined;     /* all[i]'s hugepages */
    struct nst_holdings held;            /* what they all hold */
};

/* Which to lint: --all, or each --domain as given, into selected. */
static int
select_domains(const struct vn_lint_opts *o, virConnectPtr conn,
               const struct fleet *f, virDomainPtr *selected,
               size_t *nselected, char **err)
{
    size_t want = o->all ? (size_t)f->nall : o->ndomains;

    for (size_t i = 0; i < want; i++) {
        virDomainPtr dom = o->all ? f->all[i] :
                           vn_domain_lookup(conn, o->domains[i], err);
        if (!dom) {
            virErrorPtr e = virGetLastError();
            return !e || e->code == VIR_ERR_NO_DOMAIN ? VN_EXIT_INPUT :
                   VN_EXIT_SYSTEM;
        }
        if (o->all)
            virDomainRef(dom);
        selected[(*nselected)++] = dom;
    }
    return VN_EXIT_OK;
}

/* Every domain's vCPU pins and hugepages, read once and held: what
 * every definition uses, less what running domains hold when the free
 * counts came from the connection (vn_conn_others' rule). */
static int
read_usage(const struct vn_lint_opts *o, struct fleet *f, char **err)
{
    for (int i = 0; i < f->nall; i++) {
        struct nst_page_counts live = { 0 };
        /* vCPU pins only: VN203 is about vCPUs sharing CPUs; emulator
         * and I/O threads may share housekeeping CPUs. */
        int r = vn_domain_usage(f->all[i], &f->pins[i], NULL,
                                &f->defined[i], &live, err);
        if (r == 0 &&
            (nst_holdings_add(&f->held, &f->pins[i], NULL, &f->defined[i],
                              1) < 0 ||
             (!o->host_caps && nst_holdings_add(&f->held, NULL, NULL, &live,
                                                -1) < 0))) {
            nst_set_error(err, "out of memory");
            r = -1;
        }
        nst_page_counts_clear(&live);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* Lints dom with the others' CPUs and hugepages taken, not its own. */
static int
lint_among(virDomainPtr dom, const struct nst_host *host,
           const struct fleet *f, struct vn_lint_results *out, char **err)
{
    char uuid[VIR_UUID_STRING_BUFLEN], other[VIR_UUID_STRING_BUFLEN];
    struct nst_cpuset taken;
    int own = -1;

    vn_domain_uuid(dom, uuid);
    for (int i = 0; i < f->nall && own < 0; i++) {
        vn_domain_uuid(f->all[i], other);
        if (strcmp(uuid, other) == 0)
            own = i;
    }
    nst_holdings_taken(&f->held, own >= 0 ? &f->pins[own] : NULL, NULL,
                       &taken);
    struct nst_host *view = nst_holdings_host(&f->held, host, own >= 0 ?
                                              &f->defined[own] : NULL);
    int r = view ? lint_domain(dom, view, &taken, out, err) : -1;
    if (!view)
        nst_set_error(err, "out of memory");
    nst_host_free(view);
    return r;
}

int
vn_lint_live(const struct vn_lint_opts *o, struct vn_lint_results *out,
             char **err)
{
    virConnectPtr conn = NULL;
    virDomainPtr *selected = NULL;
    struct fleet f = { 0 };
    struct nst_host *host = NULL;
    size_t nselected = 0;
    int ret = VN_EXIT_SYSTEM;

    /* --taken was parsed with the options, before this connection */
    if (o->has_taken)
        f.held.outside = o->taken;
    if (!(conn = vn_conn_open(o->connect, err)))
        goto out;
    if (!(host = vn_conn_host(conn, o->host_caps, o->domcaps, o->cpu_map,
                              err))) {
        ret = o->host_caps ? VN_EXIT_INPUT : VN_EXIT_SYSTEM;
        goto out;
    }
    if (nst_host_check_cpus(host, &f.held.outside, "--taken", err) < 0) {
        ret = VN_EXIT_INPUT;
        goto out;
    }
    if ((f.nall = virConnectListAllDomains(conn, &f.all, 0)) < 0) {
        nst_set_error(err, "cannot list domains: %s", vn_libvirt_error());
        f.nall = 0;
        goto out;
    }
    qsort(f.all, (size_t)f.nall, sizeof(*f.all), compare_domains);

    size_t want = o->all ? (size_t)f.nall : o->ndomains;
    size_t nall = f.nall ? (size_t)f.nall : 1;
    if (!(selected = calloc(want ? want : 1, sizeof(*selected))) ||
        !(f.pins = calloc(nall, sizeof(*f.pins))) ||
        !(f.defined = calloc(nall, sizeof(*f.defined)))) {
        nst_set_error(err, "out of memory");
        goto out;
    }
    if ((ret = select_domains(o, conn, &f, selected, &nselected, err)) !=
        VN_EXIT_OK)
        goto out;
    ret = VN_EXIT_SYSTEM;
    if (read_usage(o, &f, err) < 0)
        goto out;
    for (size_t s = 0; s < nselected; s++)
        if (lint_among(selected[s], host, &f, out, err) != VN_EXIT_OK)
            goto out;
    ret = VN_EXIT_OK;
 out:
    for (size_t i = 0; i < nselected; i++)
        virDomainFree(selected[i]);
    for (int i = 0; i < f.nall; i++)
        virDomainFree(f.all[i]);
    for (int i = 0; f.defined && i < f.nall; i++)
        nst_page_counts_clear(&f.defined[i]);
    free(f.defined);
    nst_holdings_clear(&f.held);
    free(selected);
    free(f.all);
    free(f.pins);
    nst_host_free(host);
    vn_conn_close(conn);
    return ret;
}

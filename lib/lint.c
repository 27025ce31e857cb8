/*
 * lint.c: what is wrong with a domain, without changing it
 *
 * nst_lint() runs every rule of the table below over a domain document
 * and collects findings.  The rules know what the policy knows, from the
 * same places: the host model (host.c: CPUs, cells, pages, the features
 * libvirt's cpu_map knows, the vendor's virtualization feature), the
 * mitigation and bogus feature lists, and how a domain is read
 * (domain.h).  A rule that needs the host is skipped without one, and
 * the result says so.  docs/lint.md explains every rule to users.
 *
 * This file holds the rule table and the run; the rules live by what
 * they look at: lint-cpu.c (the CPU model, confidential guests),
 * lint-hyperv.c (Windows guests' Hyper-V enlightenments),
 * lint-pinning.c (pins and numatune nodes), lint-memory.c (hugepages,
 * memory limits).
 */
#include <stdlib.h>
#include <string.h>

#include "lint-rules.h"


/* Ids are stable: a rule keeps its id, a retired id is never reused. */
static const struct nst_lint_rule rules[R_LAST] = {
    [R_UNKNOWN_FEATURE] = { "VN101", "unknown-feature", NST_ERROR, false,
        "a CPU feature libvirt does not know: the domain does not start" },
    [R_VIRT_FEATURE] = { "VN102", "wrong-virt-feature", NST_ERROR, true,
        "vmx required on an AMD host or svm on an Intel host: no nested "
        "virtualization" },
    [R_MITIGATION] = { "VN103", "disabled-mitigation", NST_WARNING, false,
        "a Spectre/MDS mitigation disabled" },
    [R_MIGRATABLE] = { "VN104", "passthrough-migratable", NST_WARNING, true,
        "host-passthrough with migratable='on' on a host with nested "
        "virtualization" },
    [R_TOPOLOGY] = { "VN105", "topology-mismatch", NST_ERROR, false,
        "<topology> does not multiply to the vCPU count: libvirt refuses "
        "the domain" },
    [R_SIZE] = { "VN106", "invalid-size", NST_ERROR, false,
        "<vcpu>, <memory> or a hugepage size missing or not a value "
        "libvirt accepts: the domain does not define" },
    [R_HYPERV_NESTED] = { "VN107", "hyperv-nested", NST_WARNING, false,
        "a Windows guest with nested virtualization without the Hyper-V "
        "enlightenments nested Hyper-V (WSL2, VBS) needs" },
    [R_EVMCS_AMD] = { "VN108", "evmcs-amd", NST_ERROR, true,
        "Enlightened VMCS (evmcs) on an AMD host: QEMU does not start the "
        "guest" },
    /* Needs a fleet, which includes the host: not "skipped without a
     * host" (no fleet, nothing to check). */
    [R_MIXED_FLEET] = { "VN109", "passthrough-mixed-fleet", NST_WARNING,
        false, "host-passthrough on a domain whose fleet's hosts have "
        "different CPUs: it cannot migrate between them" },
    [R_PIN_HOST] = { "VN201", "pin-outside-host", NST_ERROR, true,
        "a CPU pin names CPUs the host does not have" },
    [R_PIN_CELLS] = { "VN202", "pin-spans-cells", NST_WARNING, true,
        "pins that span host NUMA cells where one would do" },
    [R_PIN_SHARED] = { "VN203", "pin-shared", NST_ERROR, false,
        "vCPUs pinned to host CPUs another domain's vCPUs are pinned to" },
    [R_NUMA_NODE] = { "VN204", "numatune-node", NST_ERROR, true,
        "<numatune> binds memory to host NUMA nodes the host does not "
        "have" },
    [R_RT_UNPINNED] = { "VN205", "realtime-unpinned", NST_WARNING, false,
        "vCPUs on a realtime scheduler (fifo, rr) without a <vcpupin> of "
        "their own" },
    [R_PAGE_SIZE] = { "VN301", "hugepage-size", NST_ERROR, true,
        "a hugepage size the host does not have" },
    [R_PAGES_FREE] = { "VN302", "hugepages-free", NST_ERROR, true,
        "more hugepages than the host has free" },
    [R_PAGE_NODESET] = { "VN303", "page-nodeset", NST_ERROR, false,
        "<page nodeset> names a guest NUMA cell the domain does not have" },
    [R_HARD_LIMIT] = { "VN304", "hard-limit-low", NST_ERROR, false,
        "<memtune> hard_limit below the guest's memory" },
    [R_PAGE_TOO_LARGE] = { "VN305", "hugepage-too-large", NST_ERROR, false,
        "a hugepage size larger than the guest memory it backs: QEMU does "
        "not start" },
    [R_PAGE_BACKING] = { "VN306", "hugepages-backing", NST_ERROR, false,
        "<hugepages> beside on-demand allocation or an anonymous memory "
        "source: libvirt refuses the domain" },
    [R_PAGE_PIECES] = { "VN307", "hugepage-pieces", NST_ERROR, false,
        "a hugepage size that does not divide a guest cell's own memory or "
        "a DIMM: QEMU does not start" },
    [R_LS_HOST] = { "VN401", "launch-security-host", NST_ERROR, true,
        "a confidential guest the host cannot launch: SEV needs an AMD "
        "host, TDX an Intel one, s390-pv an s390x one" },
    [R_LS_NESTED] = { "VN402", "nested-confidential", NST_ERROR, false,
        "vmx or svm required by a confidential guest, which cannot run VMs "
        "of its own" },
};

const struct nst_lint_rule *
nst_lint_rules(size_t *count)
{
    *count = R_LAST;
    return rules;
}

/* See lint-rules.h. */
void
lint_add(struct lint *l, int rule, char *target, char *message, char *fix)
{
    if (!target || !fix) {
        free(target);
        free(message);
        free(fix);
        l->oom = true;
        return;
    }
    l->oom |= nsti_findings_add(&l->res->findings, rules[rule].severity,
                               rules[rule].id, rules[rule].name, target,
                               message, fix) < 0;
}

/* A finding's place in the rule table. */
static size_t
rule_index(const struct nst_finding *f)
{
    size_t i = 0;
    while (i < R_LAST && rules[i].id != f->id)
        i++;
    return i;
}

char *
lint_copy(const char *text)
{
    return nst_printf("%s", text);
}

/* -------------------------------------------------------------- run */

int
nst_lint(const struct nst_doc *doc, const struct nst_lint_options *opts,
         const char *label, struct nst_lint_result *out)
{
    struct lint l = {
        .root = nsti_doc_root(doc),
        .host = opts->host,
        .taken = opts->taken,
        .fleet = opts->fleet,
        .nfleet = opts->nfleet,
        .res = out,
    };
    const char *name = nst_doc_domain_name(doc);

    memset(out, 0, sizeof(*out));
    out->domain = name ? lint_copy(name) : NULL;
    out->label = lint_copy(label ? label : name ? name : "?");
    out->host_checked = l.host != NULL;
    if ((name && !out->domain) || !out->label) {
        nst_lint_result_clear(out);
        return -1;
    }
    if (nsti_domain_read(l.root, &l.dom) < 0) {
        nst_lint_result_clear(out);
        return -1;
    }

    /* In the order of the rule table, so each rule's findings come in
     * document order. */
    lint_cpu_model(&l);
    lint_pinning(&l);
    lint_memory(&l);
    lint_launch_security(&l);
    lint_hyperv(&l);
    lint_fleet(&l);
    nsti_domain_clear(&l.dom);

    /* Findings in the order of the rule table, each rule's in document
     * order: a stable sort by rule. */
    struct nst_finding *items = out->findings.items;
    for (size_t i = 1; i < out->findings.n; i++) {
        struct nst_finding f = items[i];
        size_t k = i;
        for (; k > 0 && rule_index(&items[k - 1]) > rule_index(&f); k--)
            items[k] = items[k - 1];
        items[k] = f;
    }
    if (l.oom) {
        nst_lint_result_clear(out);
        return -1;
    }
    return 0;
}

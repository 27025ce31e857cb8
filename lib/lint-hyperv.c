/*
 * lint-hyperv.c: the lint rules on Windows guests that run Hyper-V
 * (WSL2, VBS): the enlightenments nested Hyper-V needs (the hyperv
 * rule's list, rules-hyperv.c), and Enlightened VMCS on an AMD host
 */
#include <stdlib.h>
#include <string.h>

#include "lint-rules.h"

/* Whether the guest can run VMs of its own: host-passthrough, or vmx or
 * svm required. */
static bool
nested_on(const xmlNode *root)
{
    xmlNodePtr cpu = nsti_child(root, "cpu");
    bool on = nsti_attr_is(cpu, "mode", "host-passthrough");

    for (xmlNodePtr f = nsti_child(cpu, "feature"); f && !on;
         f = nsti_next(f, "feature")) {
        char *name = nsti_attr(f, "name");
        char *policy = nsti_attr(f, "policy");
        on = nst_feature_is_virt(name) && nsti_feature_policy_adds(policy);
        free(name);
        free(policy);
    }
    return on;
}

static void
rule_hyperv_nested(struct lint *l)
{
    struct nst_buf missing = { 0 };

    if (!l->dom.windows_why || l->dom.confidential || !nested_on(l->root))
        return;
    if (nsti_hyperv_missing(l->root, l->host, &missing) < 0) {
        l->oom = true;
    } else if (missing.len) {
        lint_add(l, R_HYPERV_NESTED, lint_copy("/domain/features/hyperv"),
            nst_printf("a Windows guest (%s) with nested virtualization "
                       "lacks Hyper-V enlightenments that nested Hyper-V "
                       "(WSL2, VBS) needs: %.*s; its own VMs run slowly or "
                       "Hyper-V does not start", l->dom.windows_why,
                       (int)missing.len, missing.data),
            lint_copy("apply the nested profile (hyperv = on), which adds "
                      "them; see docs/profiles.md, \"Windows guests\""));
    }
    free(missing.data);
}

static void
rule_evmcs_amd(struct lint *l)
{
    xmlNodePtr hyperv = nsti_child(nsti_child(l->root, "features"), "hyperv");
    xmlNodePtr evmcs = nsti_child(hyperv, "evmcs");

    if (!l->host || l->host->vendor != NST_VENDOR_AMD ||
        nsti_attr_is(hyperv, "mode", "passthrough") ||
        !nsti_attr_is(evmcs, "state", "on"))
        return;
    lint_add(l, R_EVMCS_AMD, lint_copy("/domain/features/hyperv/evmcs"),
        lint_copy("<evmcs state='on'/> on an AMD host: Enlightened VMCS is "
                  "Intel only, and QEMU refuses to start the guest (\"not "
                  "supported by kernel\")"),
        lint_copy("remove <evmcs state='on'/> (or set state='off'); the "
                  "nested profile removes it on AMD hosts"));
}

void
lint_hyperv(struct lint *l)
{
    rule_hyperv_nested(l);
    rule_evmcs_amd(l);
}

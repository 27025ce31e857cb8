/*
 * lint-cpu.c: the lint rules on the CPU model (features, migratable,
 * topology, sizes) and on confidential guests
 */
#include <stdlib.h>
#include <string.h>

#include "lint-rules.h"

/* --------------------------------------------------------- CPU model */

static void
rule_features(struct lint *l)
{
    xmlNodePtr cpu = nsti_child(l->root, "cpu");
    const char *want = nst_host_virt_feature(l->host);

    for (xmlNodePtr f = nsti_child(cpu, "feature"); f;
         f = nsti_next(f, "feature")) {
        char *name = nsti_attr(f, "name");
        char *policy = nsti_attr(f, "policy");
        char *target = name ? nst_printf("/domain/cpu/feature[@name='%s']",
                                         name) : NULL;
        if (!target) {
            /* A <feature> without a name: libvirt's schema refuses it. */
            l->oom |= name != NULL;
            goto next;
        }

        if (nst_host_feature_unknown(l->host, name)) {
            /* libvirt >= 9.10 spells VMX sub-features "vmx-ept". */
            char *alt = nst_printf("vmx-%s", name);
            for (char *c = alt; c && *c; c++)
                if (*c == '_')
                    *c = '-';
            bool has_alt = alt && l->host && l->host->known_features &&
                           !nst_host_feature_unknown(l->host, alt);
            lint_add(l, R_UNKNOWN_FEATURE, lint_copy(target),
                nst_printf("CPU feature '%s' is unknown to %s: the domain "
                           "defines but does not start (\"unknown CPU "
                           "feature: %s\")", name,
                           l->host && l->host->known_features ?
                           "this host's libvirt (its cpu_map)" :
                           "libvirt 9.0", name),
                has_alt ?
                nst_printf("use '%s', libvirt's name for it, or remove the "
                           "<feature>: host-passthrough already passes the "
                           "host's VMX/SVM sub-features", alt) :
                nst_printf("remove <feature name='%s'/>: host-passthrough "
                           "already passes the host's VMX/SVM "
                           "sub-features", name));
            free(alt);
        } else if (l->host && want && nst_feature_is_virt(name) &&
                   strcmp(name, want) != 0 &&
                   nsti_feature_policy_adds(policy)) {
            lint_add(l, R_VIRT_FEATURE, lint_copy(target),
                nst_printf("the domain requires '%s', but the host's CPU "
                           "(vendor %s) has %s: libvirt accepts it and the "
                           "guest gets no hardware virtualization", name,
                           nst_vendor_name(l->host->vendor), want),
                nst_printf("require '%s' instead: <feature policy='require' "
                           "name='%s'/>", want, want));
        }
        if (nst_feature_is_mitigation(name) &&
            nsti_feature_policy_removes(policy))
            lint_add(l, R_MITIGATION, lint_copy(target),
                nst_printf("policy '%s' of '%s' turns off a Spectre/MDS "
                           "mitigation: the guest is exposed to attacks "
                           "across guests and the host", policy, name),
                nst_printf("remove <feature policy='%s' name='%s'/>; the "
                           "secure profile does", policy, name));
        free(target);
 next:
        free(name);
        free(policy);
    }
}

static void
rule_migratable(struct lint *l)
{
    xmlNodePtr cpu = nsti_child(l->root, "cpu");
    const char *want = nst_host_virt_feature(l->host);

    if (!want || !nsti_attr_is(cpu, "mode", "host-passthrough") ||
        !nsti_attr_is(cpu, "migratable", "on"))
        return;
    lint_add(l, R_MIGRATABLE, lint_copy("/domain/cpu/@migratable"),
        nst_printf("host-passthrough with migratable='on' on a host with "
                   "%s: QEMU hides the host features that block migration, "
                   "and a guest running its own VMs migrates only between "
                   "identical hosts with nested state support", want),
        lint_copy("set migratable='off' when the guest is not live-migrated; "
            "otherwise keep it and migrate only between identical hosts"));
}

/* Reads a topology attribute; absent means def, unreadable 0. */
static unsigned long long
topo_attr(const xmlNode *topo, const char *name, unsigned long long def)
{
    char *text = nsti_attr(topo, name);
    unsigned long long n = def;
    if (text && nst_parse_ull(text, NST_MAX_CPUS, &n) < 0)
        n = 0;
    free(text);
    return n;
}

static void
rule_topology(struct lint *l)
{
    xmlNodePtr topo = nsti_child(nsti_child(l->root, "cpu"), "topology");
    if (!topo || !l->dom.has_vcpus)
        return;
    unsigned long long sockets = topo_attr(topo, "sockets", 0);
    unsigned long long dies = topo_attr(topo, "dies", 1);
    unsigned long long clusters = topo_attr(topo, "clusters", 1);
    unsigned long long cores = topo_attr(topo, "cores", 0);
    unsigned long long threads = topo_attr(topo, "threads", 0);
    unsigned long long product = sockets * dies * clusters * cores * threads;

    if (product == l->dom.vcpus)
        return;
    /* Suggest keeping sockets, dies and threads when they divide. */
    unsigned long long keep = sockets * dies * clusters * threads;
    char *fix = keep && l->dom.vcpus % keep == 0 ?
        nst_printf("make the product %u: cores='%llu' with sockets='%llu' "
                   "dies='%llu' threads='%llu'", l->dom.vcpus,
                   l->dom.vcpus / keep, sockets, dies, threads) :
        nst_printf("make the product %u, e.g. sockets='1' dies='1' "
                   "cores='%u' threads='1'", l->dom.vcpus, l->dom.vcpus);
    lint_add(l, R_TOPOLOGY, lint_copy("/domain/cpu/topology"),
        nst_printf("sockets x dies x%s cores x threads = %llu x %llu x%s "
                   "%llu x %llu = %llu, but the domain has %u vCPUs: "
                   "libvirt refuses it", clusters != 1 ? " clusters x" : "",
                   sockets, dies, clusters != 1 ? " clusters x" : "",
                   cores, threads, product, l->dom.vcpus),
        fix);
}

/* The vCPU count and memory size every other rule (and libvirt) needs:
 * without them the rules that use them are skipped, so say why. */
static void
rule_size(struct lint *l)
{
    xmlNodePtr vcpu = nsti_child(l->root, "vcpu");
    xmlNodePtr memory = nsti_child(l->root, "memory");

    if (!l->dom.has_vcpus) {
        char *text = nsti_text(vcpu);
        lint_add(l, R_SIZE, lint_copy("/domain/vcpu"),
            nst_printf("<vcpu> '%s' is not a vCPU count from 1 to %d: "
                       "libvirt refuses the domain or cannot start it",
                       text ? text : "", NST_MAX_CPUS),
            lint_copy("give the number of vCPUs, e.g. "
                 "<vcpu placement='static'>4</vcpu>"));
        free(text);
    }
    if (!l->dom.has_memory) {
        char *text = memory ? nsti_text(memory) : NULL;
        char *unit = memory ? nsti_attr(memory, "unit") : NULL;
        lint_add(l, R_SIZE, lint_copy("/domain/memory"),
            memory ?
            nst_printf("<memory unit='%s'> '%s' is not a size libvirt "
                       "accepts: libvirt refuses the domain",
                       unit ? unit : "KiB", text ? text : "") :
            lint_copy("the domain has no <memory>: libvirt refuses it"),
            lint_copy("give the guest's memory in a unit libvirt knows, e.g. "
                 "<memory unit='KiB'>4194304</memory>"));
        free(text);
        free(unit);
    }
    for (size_t i = 0; i < l->dom.npages; i++) {
        const struct nst_dom_page *p = &l->dom.pages[i];
        if (!p->has_size)
            lint_add(l, R_SIZE,
                nst_printf("/domain/memoryBacking/hugepages/page[@size='%s']",
                           p->size ? p->size : ""),
                nst_printf("<page size='%s' unit='%s'> is not a hugepage "
                           "size libvirt accepts: libvirt refuses the domain",
                           p->size ? p->size : "", p->unit ? p->unit : "KiB"),
                lint_copy("give the page size in a unit libvirt knows, e.g. "
                     "<page size='2048' unit='KiB'/>"));
    }
}

void
lint_cpu_model(struct lint *l)
{
    rule_features(l);
    if (l->host)
        rule_migratable(l);
    rule_topology(l);
    rule_size(l);
}

/* ------------------------------------------------ confidential guests */

void
lint_launch_security(struct lint *l)
{
    const struct nst_confidential c = l->dom.launch;

    if (!l->dom.confidential)
        return;
    /* Known types only: an unknown one needs no host we know of. */
    const struct nst_host *h = l->host;
    if (h && ((c.arch && strcmp(h->arch, c.arch) != 0) ||
              (c.vendor != NST_VENDOR_UNKNOWN &&
               h->vendor != NST_VENDOR_UNKNOWN && h->vendor != c.vendor))) {
        const char *sep = c.vendor != NST_VENDOR_UNKNOWN ? " " : "";
        const char *need = c.vendor != NST_VENDOR_UNKNOWN ?
                           nst_vendor_name(c.vendor) : "";
        lint_add(l, R_LS_HOST, lint_copy("/domain/launchSecurity"),
            nst_printf("<launchSecurity type='%s'> makes %s, which needs an "
                       "%s%s%s host; this host is %s%s%s: the domain does "
                       "not start here", c.type, c.what, need, sep, c.arch,
                       h->vendor != NST_VENDOR_UNKNOWN ?
                       nst_vendor_name(h->vendor) : "",
                       h->vendor != NST_VENDOR_UNKNOWN ? " " : "", h->arch),
            nst_printf("run it on an %s%s%s host, or drop <launchSecurity>, "
                       "which leaves the guest's memory readable by the "
                       "host", need, sep, c.arch));
    }
    for (xmlNodePtr f = nsti_child(nsti_child(l->root, "cpu"), "feature"); f;
         f = nsti_next(f, "feature")) {
        char *name = nsti_attr(f, "name");
        char *policy = nsti_attr(f, "policy");
        if (nst_feature_is_virt(name) && nsti_feature_policy_adds(policy))
            lint_add(l, R_LS_NESTED,
                nst_printf("/domain/cpu/feature[@name='%s']", name),
                nst_printf("the domain requires '%s', but <launchSecurity "
                           "type='%s'> makes %s, which cannot run VMs of "
                           "its own (%s)", name, c.type, c.what, c.why),
                nst_printf("remove <feature policy='%s' name='%s'/>; a "
                           "guest that must run VMs cannot be confidential",
                           policy ? policy : "require", name));
        free(name);
        free(policy);
    }
}

/*
 * VN109: host-passthrough gives the guest its host's exact CPU, so it
 * migrates only between identical CPUs; a fleet whose hosts differ
 * (vendor, model or virtualization feature) needs a CPU they share.
 */
void
lint_fleet(struct lint *l)
{
    xmlNodePtr cpu = nsti_child(l->root, "cpu");
    if (!l->host || l->nfleet < 2 ||
        !nsti_attr_is(cpu, "mode", "host-passthrough") ||
        nst_fleet_uniform(l->fleet, l->nfleet))
        return;
    lint_add(l, R_MIXED_FLEET, lint_copy("/domain/cpu/@mode"),
        nst_printf("host-passthrough on a fleet of %zu hosts whose CPUs "
                   "differ: the guest gets its host's exact CPU and cannot "
                   "migrate to the others", l->nfleet),
        lint_copy("give it the CPU every host of the fleet can run "
                  "(profile key cpu-mode = baseline), or keep it on "
                  "identical hosts"));
}

/*
 * policy.c: the rules, one function each
 *
 * nst_apply() reads what it needs from the domain (vCPUs, memory), then
 * runs every rule the profile turns on, in a fixed order.  A rule edits
 * the document only through xmledit.h, so it changes exactly what it
 * means to, and records every change with the reason for it.  A rule
 * that cannot do its job records an error and stops the run; nothing of
 * a refused run is used.  Why each rule does what it does is written
 * next to it and, for users, in docs/profiles.md.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "internal.h"
#include "xmledit.h"

struct run {
    struct nst_doc *doc;
    xmlNodePtr root;
    const struct nst_apply_options *opts;
    const struct nst_profile *profile;
    const struct nst_host *host;
    struct nst_report *report;
    /* The domain as it came, read once before any rule edits it; the
     * rules that read it run before those that edit what they read. */
    struct nst_domain dom;
    bool no_nesting;             /* a confidential guest: see
                                    check_confidential */
    bool placed;
    struct nst_placement placement;
    /* Memory hotplug, set by place(): the guest cell each memory device
     * (dom.memdevs[i]) is given (memdev_cell[i], -1 when the guest-numa
     * rule does not rebuild cells) and each guest cell's own memory
     * (<cell memory>; placement.cells[].memory_kib is that plus the RAM
     * of the devices on the cell, what the host cell gives). */
    long *memdev_cell;
    unsigned long long cell_kib[NST_MAX_GUEST_CELLS];
};

/* ---------------------------------------------------------------- helpers */

static int
refuse(struct run *run, const char *rule, const char *target,
       const char *message)
{
    nst_report_add(run->report, NST_ERROR, rule, target, "%s", message);
    return -1;
}

static int
oom(struct run *run)
{
    return refuse(run, "internal", NULL, "out of memory");
}

/* A warning, or with --strict an error that stops the run. */
static int
warn(struct run *run, const char *rule, const char *target,
     const char *message)
{
    if (run->opts->strict) {
        nst_report_add(run->report, NST_ERROR, rule, target,
                       "%s (--strict)", message);
        return -1;
    }
    nst_report_add(run->report, NST_WARNING, rule, target, "%s", message);
    return 0;
}

/* Accumulates edit results: 1 changed, 0 same, -1 failed. */
static bool
changed(int *failed, int result)
{
    if (result < 0)
        *failed = 1;
    return result > 0;
}

static int
set_number_attr(struct nst_doc *doc, xmlNodePtr node, const char *name,
                unsigned long long value)
{
    char text[32];
    snprintf(text, sizeof(text), "%llu", value);
    return nst_set_attr(doc, node, name, text);
}

static int
set_number_text(struct nst_doc *doc, xmlNodePtr node,
                unsigned long long value)
{
    char text[32];
    snprintf(text, sizeof(text), "%llu", value);
    return nst_set_text(doc, node, text);
}

static char *
format_cpus(const struct nst_cpuset *set)
{
    return nst_cpuset_format(set);
}

/* ------------------------------------------------------- domain facts */

/* Reads the domain once; refuses what the rules cannot use. */
static int
read_domain(struct run *run)
{
    if (nst_domain_read(run->root, &run->dom) < 0)
        return oom(run);
    if (!run->dom.has_vcpus)
        return refuse(run, "domain", "/domain/vcpu",
                      "<vcpu> is not a vCPU count between 1 and 4096");
    if (!run->dom.has_memory)
        return refuse(run, "domain", "/domain/memory",
                      "<memory> is missing or not a size libvirt accepts");
    return 0;
}

int
nst_doc_vcpu_pins(const struct nst_doc *doc, struct nst_cpuset *out,
                  char **err)
{
    struct nst_domain d;
    int ret = 0;

    if (nst_domain_read(nst_doc_root(doc), &d) < 0) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < d.npins && ret == 0; i++) {
        const struct nst_pin *pin = &d.pins[i];
        struct nst_cpuset set;
        if (pin->kind != NST_PIN_VCPU || !pin->text)
            continue;
        if (pin->valid)
            nst_cpuset_union(out, &pin->cpus);
        else    /* parsed again for nst_cpuset_parse's own message */
            ret = nst_cpuset_parse(pin->text, &set, err) < 0 ? -1 : 0;
    }
    nst_domain_clear(&d);
    return ret;
}

static int
add_page_use(struct nst_page_use **uses, size_t *n, long cell,
             unsigned long long size_kib, unsigned long long kib)
{
    if (cell < 0)
        return 0;
    unsigned long long pages = kib / size_kib + (kib % size_kib != 0);
    for (size_t i = 0; i < *n; i++) {
        if ((*uses)[i].host_cell == (unsigned int)cell &&
            (*uses)[i].size_kib == size_kib) {
            (*uses)[i].pages += pages;
            return 0;
        }
    }
    struct nst_page_use *grown = realloc(*uses, (*n + 1) * sizeof(**uses));
    if (!grown)
        return -1;
    *uses = grown;
    grown[(*n)++] = (struct nst_page_use){ (unsigned int)cell, size_kib,
                                           pages };
    return 0;
}

/*
 * The hugepages d takes of each host cell: the pages of a guest cell (or
 * of the whole memory without guest cells) go to the one host node its
 * <numatune> binding names (nst_numa_bind_node); memory bound to no
 * single node is not counted.  Returns 0, -1 when a size is invalid, -2
 * when out of memory.
 */
static int
domain_page_use(const struct nst_domain *d, struct nst_page_use **uses,
                size_t *n)
{
    if (!d->hugepages)
        return 0;
    if ((!d->has_numa && !d->has_memory) ||
        (d->has_numa && !d->memdevs_valid))
        return -1;
    for (size_t i = 0; i < d->npages; i++) {
        const struct nst_dom_page *page = &d->pages[i];
        if (!page->has_size || (page->nodeset && !page->has_cells))
            return -1;
        if (!d->has_numa) {
            if (add_page_use(uses, n,
                             nst_numa_bind_node(nst_domain_binding(d, -1)),
                             page->size_kib, d->memory_kib) < 0)
                return -2;
            continue;
        }
        for (size_t c = 0; c < d->ncells; c++) {
            const struct nst_dom_cell *cell = &d->cells[c];
            unsigned long long kib;
            if (nst_domain_cell_ram(d, cell, &kib) < 0)
                return -1;
            if ((!page->nodeset || nst_cpuset_test(&page->cells, cell->id))
                && add_page_use(uses, n, nst_numa_bind_node(
                                    nst_domain_binding(d, cell->id)),
                                page->size_kib, kib) < 0)
                return -2;
        }
    }
    return 0;
}

int
nst_doc_page_use(const struct nst_doc *doc, struct nst_page_use **uses,
                 size_t *n, char **err)
{
    struct nst_domain d;
    int ret = -2;

    *uses = NULL;
    *n = 0;
    if (nst_domain_read(nst_doc_root(doc), &d) == 0) {
        ret = domain_page_use(&d, uses, n);
        nst_domain_clear(&d);
    }
    if (ret == 0)
        return 0;
    if (ret == -1)
        nst_set_error(err, "domain '%s': invalid hugepage or memory size",
                      nst_doc_domain_name(doc) ? nst_doc_domain_name(doc) :
                      "?");
    else
        nst_set_error(err, "out of memory");
    free(*uses);
    *uses = NULL;
    *n = 0;
    return -1;
}

/* ------------------------------------------------------- host values */

/*
 * Every CPU list, of the profile and of the domain, is checked against
 * the host before any rule edits: a list naming a CPU the host lacks
 * would otherwise be written as given (the emulator pinned to a CPU that
 * does not exist) or kept, and libvirt defines such a domain but cannot
 * start it.
 */
int
nst_profile_check_host(const struct nst_profile *p,
                       const struct nst_host *host, char **err)
{
    if (p->housekeeping_auto)
        return 0;
    return nst_host_check_cpus(host, &p->housekeeping,
                               p->housekeeping_origin ?
                               p->housekeeping_origin : "housekeeping", err);
}

static int
check_profile_cpus(struct run *run)
{
    char *err = NULL;

    if (nst_profile_check_host(run->profile, run->host, &err) == 0)
        return 0;
    int ret = refuse(run, "profile", NULL, err ? err : "out of memory");
    free(err);
    return ret;
}

/* The pins' elements, in the order check_domain_cpus checks them. */
static const struct {
    enum nst_pin_kind kind;
    const char *parent, *name, *id_attr;
} cpu_lists[] = {
    { NST_PIN_VCPU_CPUSET, NULL, "vcpu", NULL },
    { NST_PIN_VCPU, "cputune", "vcpupin", "vcpu" },
    { NST_PIN_EMULATOR, "cputune", "emulatorpin", NULL },
    { NST_PIN_IOTHREAD, "cputune", "iothreadpin", "iothread" },
};

/* A pin naming CPUs the host lacks, without the pinning rule: refused. */
static int
refuse_pin(struct run *run, size_t list, const struct nst_pin *pin)
{
    const char *parent = cpu_lists[list].parent;
    const char *name = cpu_lists[list].name;
    char *target = pin->id ? nst_printf("/domain/%s/%s[@%s='%s']", parent,
                                        name, cpu_lists[list].id_attr,
                                        pin->id) :
                   parent ? nst_printf("/domain/%s/%s", parent, name) :
                   nst_printf("/domain/%s/@cpuset", name);
    char *err = NULL;
    int ret = target ? nst_host_check_cpus(run->host, &pin->cpus, target,
                                           &err) : -1;
    char *msg = ret < 0 && err ?
                nst_printf("%s: libvirt defines the domain but cannot "
                           "start it; fix the pin, or apply a profile with "
                           "pinning = on to place it afresh", err) : NULL;
    if (ret < 0)
        refuse(run, "vcpu-pinning", target, msg ? msg : "out of memory");
    free(msg);
    free(err);
    free(target);
    return ret;
}

/*
 * Pins naming CPUs the host lacks: the pinning rule places every vCPU,
 * the emulator and the I/O threads afresh, so with it they are replaced
 * and the report says why; without it they would be kept and the domain
 * would still not start, so the run is refused.  A cpuset that does not
 * parse is libvirt's to refuse.
 */
static int
check_domain_cpus(struct run *run)
{
    struct nst_cpuset missing, all;

    nst_cpuset_clear_all(&missing);
    nst_host_all_cpus(run->host, &all);
    for (size_t i = 0; i < sizeof(cpu_lists) / sizeof(cpu_lists[0]); i++) {
        for (size_t k = 0; k < run->dom.npins; k++) {
            const struct nst_pin *pin = &run->dom.pins[k];
            if (pin->kind != cpu_lists[i].kind || !pin->valid)
                continue;
            if (run->profile->pinning) {
                struct nst_cpuset set = pin->cpus;
                nst_cpuset_subtract(&set, &all);
                nst_cpuset_union(&missing, &set);
            } else if (refuse_pin(run, i, pin) < 0) {
                return -1;
            }
        }
    }
    if (nst_cpuset_is_empty(&missing))
        return 0;
    char *gone = nst_cpuset_format(&missing);
    char *have = nst_cpuset_format(&all);
    if (!gone || !have) {
        free(gone);
        free(have);
        return oom(run);
    }
    nst_report_add(run->report, NST_CHANGE, "vcpu-pinning", "/domain/cputune",
                   "the domain's pins name host CPU%s %s, which the host "
                   "does not have (CPUs %s): libvirt would not start it, "
                   "so every pin is placed afresh",
                   nst_cpuset_count(&missing) > 1 ? "s" : "", gone, have);
    free(gone);
    free(have);
    return 0;
}

/* ------------------------------------------------------------ nested */

/*
 * A confidential guest (<launchSecurity>: SEV, SEV-ES, SEV-SNP, TDX,
 * s390-pv, or a type libvirt 9.0 does not know) cannot run VMs of its
 * own, so host-passthrough and vmx/svm would give it nothing, and the
 * nested rules leave its <cpu> as it is.  When nested is all the
 * profile asks for, there is nothing to do: refused, naming the
 * element.  A profile with other rules (perf, secure) goes on with
 * them and says why the guest stays without nesting (a warning; an
 * error with --strict).  Returns 1 when the nested rules may run, 0
 * when they must not, -1 when the run stops.
 */
static int
check_confidential(struct run *run)
{
    const struct nst_profile *p = run->profile;
    const struct nst_confidential c = run->dom.launch;

    if (!run->dom.confidential)
        return 1;
    bool others = p->pinning || p->numa || p->hugepages || p->memtune ||
                  p->cpu_limits || p->mitigations;
    /* A vmx/svm the domain already requires stays too: say it is
     * useless (lint's VN402 reports it). */
    const char *virt = NULL;
    for (xmlNodePtr f = nst_child(nst_child(run->root, "cpu"), "feature");
         f && !virt; f = nst_next(f, "feature")) {
        char *name = nst_attr(f, "name");
        char *policy = nst_attr(f, "policy");
        if (nst_feature_is_virt(name) && nst_feature_policy_adds(policy))
            virt = strcmp(name, "vmx") == 0 ? "vmx" : "svm";
        free(name);
        free(policy);
    }
    char *msg =
        !others ?
        nst_printf("<launchSecurity type='%s'>: %s cannot run VMs of its "
                   "own (%s): nested virtualization is all the profile "
                   "asks for", c.type, c.what, c.why) :
        virt ?
        nst_printf("<launchSecurity type='%s'>: %s cannot run VMs of its "
                   "own (%s), so the nested rules leave its <cpu> as it "
                   "is, and the '%s' it requires gives it nothing; the "
                   "profile's other rules apply", c.type, c.what, c.why,
                   virt) :
        nst_printf("<launchSecurity type='%s'>: %s cannot run VMs of its "
                   "own (%s), so the nested rules leave its <cpu> as it "
                   "is; the profile's other rules apply", c.type, c.what,
                   c.why);
    int ret = !msg ? oom(run) :
              others ? warn(run, "cpu-mode", "/domain/launchSecurity", msg) :
              refuse(run, "cpu-mode", "/domain/launchSecurity", msg);
    free(msg);
    return ret < 0 ? -1 : 0;
}


static int
rule_cpu_mode(struct run *run)
{
    const struct nst_host *host = run->host;
    const char *feature = nst_host_virt_feature(host);
    int failed = 0;
    bool created;

    if (!feature) {
        char *msg = nst_printf(
            "host CPU has no %s (capabilities: arch '%s', vendor '%s'): "
            "nested guests need VT-x or AMD-V enabled in the host firmware",
            host->vendor == NST_VENDOR_INTEL ? "vmx" :
            host->vendor == NST_VENDOR_AMD ? "svm" : "vmx or svm",
            host->arch, nst_vendor_name(host->vendor));
        int ret = refuse(run, "cpu-mode", "/domain/cpu", msg ? msg : "");
        free(msg);
        return ret;
    }
    if (host->passthrough_supported == NST_TRISTATE_NO)
        return refuse(run, "cpu-mode", "/domain/cpu",
                      "domain capabilities say host-passthrough is not "
                      "supported on this host");
    if (!nst_attr_is(run->root, "type", "kvm")) {
        char *type = nst_attr(run->root, "type");
        char *msg = nst_printf("domain type '%s' is not 'kvm': "
                               "host-passthrough needs KVM and will not "
                               "start under TCG", type ? type : "");
        int ret = warn(run, "cpu-mode", "/domain/@type", msg ? msg : "");
        free(type);
        free(msg);
        if (ret < 0)
            return -1;
    }

    xmlNodePtr cpu = nst_ensure(run->doc, run->root, "cpu",
                                nst_order_domain, &created);
    if (!cpu)
        return oom(run);
    char *old_mode = nst_attr(cpu, "mode");
    char *old_check = nst_attr(cpu, "check");
    bool mode = changed(&failed, nst_set_attr(run->doc, cpu, "mode",
                                              "host-passthrough"));
    bool check = changed(&failed, nst_set_attr(run->doc, cpu, "check",
                                               "none"));
    /* match= only means something for custom mode. */
    bool match = changed(&failed, nst_remove_attr(run->doc, cpu, "match"));
    if (failed) {
        free(old_mode);
        free(old_check);
        return oom(run);
    }
    if (created)
        nst_report_add(run->report, NST_CHANGE, "cpu-mode", "/domain/cpu",
                       "added <cpu mode='host-passthrough' check='none'>: "
                       "the guest sees the host CPU with its %s "
                       "sub-features, which nested guests need", feature);
    else if (mode || check || match)
        nst_report_add(run->report, NST_CHANGE, "cpu-mode", "/domain/cpu",
                       "mode '%s' -> 'host-passthrough', check '%s' -> "
                       "'none': only host-passthrough passes every %s "
                       "sub-feature (EPT/NPT, VPID, ...) to the guest",
                       old_mode ? old_mode : "(none)",
                       old_check ? old_check : "(none)", feature);
    free(old_mode);
    free(old_check);

    /* host-passthrough takes the host's model and vendor. */
    static const char *const replaced[] = { "model", "vendor" };
    for (size_t i = 0; i < 2; i++) {
        xmlNodePtr node = nst_child(cpu, replaced[i]);
        if (!node)
            continue;
        char *text = nst_text(node);
        char *target = nst_printf("/domain/cpu/%s", replaced[i]);
        if (nst_remove(run->doc, node) < 0)
            failed = 1;
        nst_report_add(run->report, NST_CHANGE, "cpu-mode", target,
                       "removed <%s>%s</%s>: host-passthrough uses the "
                       "host's", replaced[i], text ? text : "", replaced[i]);
        free(text);
        free(target);
    }
    return failed ? oom(run) : 0;
}

static int
rule_cpu_features(struct run *run)
{
    const char *want = nst_host_virt_feature(run->host);
    xmlNodePtr cpu = nst_child(run->root, "cpu");
    xmlNodePtr found = NULL;
    int failed = 0;

    for (xmlNodePtr f = nst_child(cpu, "feature"), next; f; f = next) {
        next = nst_next(f, "feature");
        char *name = nst_attr(f, "name");
        char *policy = nst_attr(f, "policy");
        char *target = nst_printf("/domain/cpu/feature[@name='%s']",
                                  name ? name : "");
        const char *why = NULL;

        if (!name || !target) {
            why = "a <feature> without a name is invalid";
        } else if (nst_host_feature_unknown(run->host, name)) {
            why = "libvirt does not know this feature, so the domain "
                  "defines but fails to start; host-passthrough already "
                  "passes the host's VMX/SVM sub-features";
        } else if (nst_feature_is_virt(name) && strcmp(name, want) != 0) {
            why = strcmp(want, "vmx") == 0 ?
                  "svm is AMD's; on this Intel host the guest needs vmx" :
                  "vmx is Intel's; on this AMD host the guest needs svm";
        } else if (nst_feature_is_virt(name) &&
                   nst_feature_policy_removes(policy)) {
            why = "it hides virtualization from the guest";
        } else if (strcmp(name, want) == 0 && !found) {
            found = f;
        } else if (strcmp(name, want) == 0) {
            why = "duplicate";
        }
        if (why) {
            if (nst_remove(run->doc, f) < 0)
                failed = 1;
            nst_report_add(run->report, NST_CHANGE, "cpu-feature", target,
                           "removed %s of '%s': %s",
                           policy ? policy : "feature", name ? name : "",
                           why);
        }
        free(name);
        free(policy);
        free(target);
    }
    if (failed)
        return oom(run);

    char *target = nst_printf("/domain/cpu/feature[@name='%s']", want);
    if (!target)
        return oom(run);
    if (!found) {
        found = nst_insert(run->doc, cpu, "feature", nst_order_cpu);
        if (!found || nst_set_attr(run->doc, found, "policy", "require") < 0 ||
            nst_set_attr(run->doc, found, "name", want) < 0) {
            free(target);
            return oom(run);
        }
        nst_report_add(run->report, NST_CHANGE, "cpu-feature", target,
                       "added require of '%s': %s host, the guest needs "
                       "it to run its own VMs", want,
                       nst_vendor_name(run->host->vendor));
    } else {
        char *policy = nst_attr(found, "policy");
        int r = nst_set_attr(run->doc, found, "policy", "require");
        if (r > 0)
            nst_report_add(run->report, NST_CHANGE, "cpu-feature", target,
                           "policy '%s' -> 'require' for '%s': the guest "
                           "must not start without it",
                           policy ? policy : "", want);
        free(policy);
        if (r < 0) {
            free(target);
            return oom(run);
        }
    }
    free(target);
    return 0;
}

/* ------------------------------------------------------------ secure */

static int
rule_mitigations(struct run *run)
{
    xmlNodePtr cpu = nst_child(run->root, "cpu");
    if (!cpu)
        return 0;
    for (xmlNodePtr f = nst_child(cpu, "feature"), next; f; f = next) {
        next = nst_next(f, "feature");
        char *name = nst_attr(f, "name");
        char *policy = nst_attr(f, "policy");
        if (name && nst_feature_is_mitigation(name) &&
            nst_feature_policy_removes(policy)) {
            char *target = nst_printf("/domain/cpu/feature[@name='%s']",
                                      name);
            nst_remove(run->doc, f);
            nst_report_add(run->report, NST_CHANGE, "mitigations", target,
                           "removed %s of '%s': it is a Spectre/MDS "
                           "mitigation and the guest must keep it",
                           policy, name);
            free(target);
        }
        free(name);
        free(policy);
    }
    return 0;
}

/* Whole-domain memory limits: the hard limit covers guest memory plus
 * QEMU's own overhead, so the limit can never kill a well-behaved
 * guest, and a runaway QEMU cannot take the host's memory.  With memory
 * hotplug the guest grows up to <maxMemory> while it runs (a DIMM or
 * virtio-mem added live changes no limit), so that is the guest memory
 * the hard limit must cover. */
static int
rule_memtune(struct run *run)
{
    const struct nst_profile *p = run->profile;
    unsigned long long guest = run->dom.memory_kib;
    bool hotplug = run->dom.has_max_memory &&
                   run->dom.max_memory_kib > guest;
    if (hotplug)
        guest = run->dom.max_memory_kib;
    unsigned long long overhead = guest * p->memtune_overhead_percent / 100;
    unsigned long long min = (unsigned long long)p->memtune_overhead_min_mib
                             * 1024;
    if (overhead < min)
        overhead = min;
    unsigned long long hard = guest + overhead;
    unsigned long long soft = run->dom.memory_kib;
    static const char *const names[] = { "hard_limit", "soft_limit" };
    unsigned long long values[] = { hard, soft };
    int failed = 0;
    bool any = false;

    xmlNodePtr memtune = nst_ensure(run->doc, run->root, "memtune",
                                    nst_order_domain, NULL);
    if (!memtune)
        return oom(run);
    for (size_t i = 0; i < 2; i++) {
        xmlNodePtr node = nst_ensure(run->doc, memtune, names[i],
                                     nst_order_memtune, NULL);
        unsigned long long have;
        if (!node)
            return oom(run);
        if (nst_read_kib(node, &have) == 0 && have == values[i] &&
            nst_attr_is(node, "unit", "KiB"))
            continue;
        any |= changed(&failed, set_number_text(run->doc, node, values[i]));
        any |= changed(&failed, nst_set_attr(run->doc, node, "unit", "KiB"));
    }
    /* libvirt's memtune refuses a swap limit below the hard limit, and
     * cgroup v1 cannot apply one.  The operator set it, so the report
     * says what it was. */
    xmlNodePtr swap = nst_child(memtune, "swap_hard_limit");
    unsigned long long swap_kib;
    bool swap_raised = swap && nst_read_kib(swap, &swap_kib) == 0 &&
                       swap_kib < hard;
    if (swap_raised) {
        changed(&failed, set_number_text(run->doc, swap, hard));
        changed(&failed, nst_set_attr(run->doc, swap, "unit", "KiB"));
    }
    if (failed)
        return oom(run);
    if (any)
        nst_report_add(run->report, NST_CHANGE, "memtune", "/domain/memtune",
                       "hard_limit %llu KiB = %s %llu KiB + overhead "
                       "%llu KiB (%u%%, at least %u MiB), soft_limit %llu "
                       "KiB: QEMU cannot take more than the guest plus its "
                       "overhead, and the guest is never limited below "
                       "its own memory%s", hard,
                       hotplug ? "maxMemory" : "memory", guest, overhead,
                       p->memtune_overhead_percent,
                       p->memtune_overhead_min_mib, soft,
                       hotplug ? " (memory hotplug grows it up to "
                       "maxMemory while it runs)" : "");
    if (swap_raised)
        nst_report_add(run->report, NST_CHANGE, "memtune",
                       "/domain/memtune/swap_hard_limit",
                       "swap_hard_limit %llu KiB -> %llu KiB: a swap limit "
                       "below the hard limit cannot be applied (cgroup v1) "
                       "and libvirt's memtune refuses it", swap_kib, hard);
    return 0;
}

/* CPU time limits: shares weigh guests by size, kept within 2..10000
 * (cgroup v1's minimum share, cgroup v2's largest cpu.weight), and
 * quota/period cap each vCPU thread. */
static int
rule_cpu_limits(struct run *run)
{
    const struct nst_profile *p = run->profile;
    unsigned long long shares = (unsigned long long)p->cpu_shares_per_vcpu *
                                run->dom.vcpus;
    if (shares > 10000)
        shares = 10000;
    if (shares < 2)
        shares = 2;
    unsigned long long period = p->cpu_period_us;
    unsigned long long quota = period * p->cpu_quota_percent / 100;
    if (quota < 1000)
        quota = 1000;   /* libvirt's minimum */
    static const char *const names[] = { "shares", "period", "quota" };
    unsigned long long values[] = { shares, period, quota };
    int failed = 0;
    bool any = false;

    xmlNodePtr cputune = nst_ensure(run->doc, run->root, "cputune",
                                    nst_order_domain, NULL);
    if (!cputune)
        return oom(run);
    for (size_t i = 0; i < 3; i++) {
        xmlNodePtr node = nst_ensure(run->doc, cputune, names[i],
                                     nst_order_cputune, NULL);
        if (!node)
            return oom(run);
        any |= changed(&failed, set_number_text(run->doc, node, values[i]));
    }
    if (failed)
        return oom(run);
    if (any)
        nst_report_add(run->report, NST_CHANGE, "cpu-limits",
                       "/domain/cputune",
                       "shares %llu (%u per vCPU), period %llu us, quota "
                       "%llu us: each vCPU thread gets at most %u%% of a "
                       "host CPU, and bigger guests weigh more under "
                       "contention", shares, p->cpu_shares_per_vcpu, period,
                       quota, p->cpu_quota_percent);
    return 0;
}

/* -------------------------------------------------------------- perf */

/* The domain's pins when every vCPU has exactly one host cpu, else NULL;
 * a new array the caller frees. */
static unsigned int *
current_pins(struct run *run)
{
    unsigned int *pins = calloc(run->dom.vcpus, sizeof(*pins));
    struct nst_cpuset seen;   /* vCPU ids with a pin */
    unsigned int found = 0;

    nst_cpuset_clear_all(&seen);
    for (size_t i = 0; pins && i < run->dom.npins; i++) {
        const struct nst_pin *pin = &run->dom.pins[i];
        if (pin->kind == NST_PIN_VCPU && pin->has_vcpu &&
            pin->vcpu < run->dom.vcpus && pin->valid &&
            nst_cpuset_count(&pin->cpus) == 1 &&
            !nst_cpuset_test(&seen, pin->vcpu)) {
            nst_cpuset_set(&seen, pin->vcpu);
            pins[pin->vcpu] = (unsigned int)nst_cpuset_next(&pin->cpus, 0);
            found++;
        }
    }
    if (found != run->dom.vcpus) {
        free(pins);
        return NULL;
    }
    return pins;
}

/* Whether the hugepages rule leaves the domain without hugepages
 * because <memoryBacking> chose otherwise: placement then has no
 * reason to prefer cells with free hugepages. */
static bool
hugepages_blocked(struct run *run)
{
    return !run->dom.hugepages && run->dom.has_backing_conflict;
}

/*
 * Memory hotplug: the devices' sizes are in <memory> (libvirt: <memory> =
 * the guest cells + every memory device), so the guest cells share what
 * is left; the host gives each guest cell its own memory plus the RAM
 * of the devices that target it.  Returns the RAM the host must have
 * for the guest, or 0 after a refusal.  <maxMemory> beyond that is room
 * for devices plugged later, not memory the guest has: not counted.
 */
static unsigned long long
read_memdevs(struct run *run)
{
    unsigned long long size = 0, ram = 0;

    if (!run->dom.memdevs_valid) {
        refuse(run, "domain", "/domain/devices/memory",
               "a memory device's <target><size>, <node> or <requested> "
               "is missing or not a value libvirt accepts");
        return 0;
    }
    for (size_t i = 0; i < run->dom.nmemdevs; i++) {
        size += run->dom.memdevs[i].size_kib;
        ram += run->dom.memdevs[i].ram_kib;
    }
    if (size >= run->dom.memory_kib) {
        char *msg = nst_printf("the memory devices add up to %llu KiB, not "
                               "less than <memory> %llu KiB, which counts "
                               "them: libvirt refuses the domain", size,
                               run->dom.memory_kib);
        refuse(run, "domain", "/domain/devices/memory",
               msg ? msg : "out of memory");
        free(msg);
        return 0;
    }
    return run->dom.memory_kib - size + ram;
}

/*
 * Gives every memory device a guest cell of the placement and every
 * guest cell its own memory (see struct run).  The cells share the
 * memory the devices leave as the allocator shares it (MiB multiples,
 * the last cell the rest); a device keeps its target cell when the
 * placement still has it, else goes to the cell with the least RAM so
 * far.  Each host cell must then hold its guest cell: a split that puts
 * the devices unevenly can ask more of one cell than the even share.
 */
static int
layout_memory(struct run *run)
{
    struct nst_placement *pl = &run->placement;
    size_t k = pl->ncells;
    unsigned long long own = run->dom.memory_kib, share, ram[NST_MAX_GUEST_CELLS];

    if (!run->dom.nmemdevs || !run->profile->numa) {
        for (size_t i = 0; i < k; i++)
            run->cell_kib[i] = pl->cells[i].memory_kib;
        return 0;
    }
    if (!(run->memdev_cell = calloc(run->dom.nmemdevs,
                                    sizeof(*run->memdev_cell))))
        return oom(run);
    for (size_t d = 0; d < run->dom.nmemdevs; d++)
        own -= run->dom.memdevs[d].size_kib;
    share = own / k / 1024 * 1024;
    for (size_t i = 0; i < k; i++)
        ram[i] = run->cell_kib[i] = i + 1 < k ? share : own - share * (k - 1);
    for (size_t d = 0; d < run->dom.nmemdevs; d++) {
        long t = run->dom.memdevs[d].target;
        run->memdev_cell[d] = t >= 0 && (size_t)t < k ? t : -1;
        if (run->memdev_cell[d] >= 0)
            ram[t] += run->dom.memdevs[d].ram_kib;
    }
    for (size_t d = 0; d < run->dom.nmemdevs; d++) {
        size_t best = 0;
        if (run->memdev_cell[d] >= 0)
            continue;
        for (size_t i = 1; i < k; i++)
            if (ram[i] < ram[best])
                best = i;
        run->memdev_cell[d] = (long)best;
        ram[best] += run->dom.memdevs[d].ram_kib;
    }
    for (size_t i = 0; i < k; i++) {
        const struct nst_cell *hc = nst_host_cell(run->host,
                                                  pl->cells[i].host_cell);
        if (hc && hc->memory_kib && hc->memory_kib < ram[i]) {
            char *msg = nst_printf(
                "guest cell %zu needs %llu KiB on host cell %u (%llu KiB "
                "of its own, %llu KiB of memory devices) but the host cell "
                "has %llu KiB", i, ram[i], hc->id, run->cell_kib[i],
                ram[i] - run->cell_kib[i], hc->memory_kib);
            int ret = refuse(run, "placement", "/domain/devices/memory",
                             msg ? msg : "out of memory");
            free(msg);
            return ret;
        }
        pl->cells[i].memory_kib = ram[i];
    }
    return 0;
}

static int
place(struct run *run)
{
    const struct nst_profile *p = run->profile;
    struct nst_cpuset housekeeping;
    char *reason = NULL;
    unsigned long long need_kib = read_memdevs(run);

    if (!need_kib)
        return -1;
    if (p->housekeeping_auto)
        nst_host_default_housekeeping(run->host, &housekeeping);
    else
        housekeeping = p->housekeeping;

    struct nst_placement_request req = {
        .vcpus = run->dom.vcpus,
        .memory_kib = need_kib,
        .policy = p->thread_policy,
        .allow_split = p->split,
        .taken = run->opts->taken,
        .housekeeping = &housekeeping,
        .prefer_hugepages = p->hugepages && !hugepages_blocked(run),
    };
    /* A guest already placed well stays where it is: re-runs do not
     * reshuffle a host. */
    unsigned int *current = current_pins(run);
    bool kept = current && nst_place_keep(run->host, &req, current,
                                          &run->placement) == 0;
    free(current);
    if (kept) {
        run->placed = true;
        return layout_memory(run);
    }
    if (nst_place(run->host, &req, &run->placement, &reason) < 0) {
        int ret = refuse(run, "placement", "/domain/vcpu",
                         reason ? reason : "cannot place the guest");
        free(reason);
        return ret;
    }
    run->placed = true;
    return layout_memory(run);
}

/* Host CPUs of the guest's host cells that are housekeeping CPUs: where
 * the emulator and I/O threads go, near the guest's memory. */
static void
housekeeping_near(struct run *run, struct nst_cpuset *out)
{
    struct nst_cpuset cells;
    nst_cpuset_clear_all(&cells);
    for (size_t i = 0; i < run->placement.ncells; i++) {
        const struct nst_cell *cell =
            nst_host_cell(run->host, run->placement.cells[i].host_cell);
        if (cell)
            nst_cpuset_union(&cells, &cell->cpus);
    }
    if (run->profile->housekeeping_auto)
        nst_host_default_housekeeping(run->host, out);
    else
        *out = run->profile->housekeeping;
    struct nst_cpuset near = *out;
    nst_cpuset_intersect(&near, &cells);
    if (!nst_cpuset_is_empty(&near))
        *out = near;
}

/*
 * Makes parent's <NAME ID_ATTR='id' [mode='MODE'] VALUE_ATTR='set'/>
 * children exactly the given ids with the given sets, editing in place;
 * attributes come in libvirt's order.  mode may be NULL.
 */
static int
sync_pins(struct run *run, xmlNodePtr cputune, const char *name,
          const char *id_attr, const char *mode, const char *value_attr,
          const unsigned int *ids, char **cpusets, size_t n, bool *any)
{
    int failed = 0;

    /* Update or drop the existing ones. */
    for (xmlNodePtr pin = nst_child(cputune, name), next; pin; pin = next) {
        next = nst_next(pin, name);
        char *id_text = nst_attr(pin, id_attr);
        unsigned long long id;
        size_t i = n;
        if (id_text && nst_parse_ull(id_text, UINT32_MAX, &id) == 0)
            for (i = 0; i < n && ids[i] != id; i++)
                ;
        free(id_text);
        if (i == n) {
            *any |= changed(&failed, nst_remove(run->doc, pin));
            continue;
        }
        if (mode)
            *any |= changed(&failed, nst_set_attr(run->doc, pin, "mode",
                                                  mode));
        *any |= changed(&failed, nst_set_attr(run->doc, pin, value_attr,
                                              cpusets[i]));
    }
    /* Add the missing ones after the last of their kind. */
    for (size_t i = 0; i < n && !failed; i++) {
        bool present = false;
        for (xmlNodePtr pin = nst_child(cputune, name); pin;
             pin = nst_next(pin, name)) {
            char *id_text = nst_attr(pin, id_attr);
            unsigned long long id;
            if (id_text && nst_parse_ull(id_text, UINT32_MAX, &id) == 0 &&
                id == ids[i])
                present = true;
            free(id_text);
        }
        if (present)
            continue;
        xmlNodePtr pin = nst_insert(run->doc, cputune, name,
                                    nst_order_cputune);
        if (!pin || set_number_attr(run->doc, pin, id_attr, ids[i]) < 0 ||
            (mode && nst_set_attr(run->doc, pin, "mode", mode) < 0) ||
            nst_set_attr(run->doc, pin, value_attr, cpusets[i]) < 0)
            failed = 1;
        *any = true;
    }
    return failed ? -1 : 0;
}

/* The I/O thread ids of the domain: <iothreadids> or 1..<iothreads>. */
static size_t
iothread_ids(struct run *run, unsigned int **ids)
{
    xmlNodePtr list = nst_child(run->root, "iothreadids");
    xmlNodePtr count = nst_child(run->root, "iothreads");
    unsigned long long n = 0;
    size_t k = 0;

    *ids = NULL;
    if (list)
        n = nst_count_children(list, "iothread");
    else if (count) {
        char *text = nst_text(count);
        if (!text || nst_parse_ull(text, 65536, &n) < 0)
            n = 0;
        free(text);
    }
    if (!n || !(*ids = calloc(n, sizeof(**ids))))
        return 0;
    if (list) {
        for (xmlNodePtr t = nst_child(list, "iothread"); t;
             t = nst_next(t, "iothread")) {
            char *text = nst_attr(t, "id");
            unsigned long long id;
            if (text && nst_parse_ull(text, UINT32_MAX, &id) == 0)
                (*ids)[k++] = (unsigned int)id;
            free(text);
        }
    } else {
        for (k = 0; k < n; k++)
            (*ids)[k] = (unsigned int)k + 1;
    }
    return k;
}

static int
rule_pinning(struct run *run)
{
    struct nst_placement *pl = &run->placement;
    struct nst_cpuset near, vcpu_cpus;
    unsigned int *ids = NULL, *iothreads = NULL;
    char **cpusets = NULL;
    char *near_text = NULL, *vcpu_text = NULL;
    bool pins = false, emulator = false, io = false, vcpu_changed = false;
    int failed = 0;

    xmlNodePtr cputune = nst_ensure(run->doc, run->root, "cputune",
                                    nst_order_domain, NULL);
    ids = calloc(pl->nvcpus, sizeof(*ids));
    cpusets = calloc(pl->nvcpus, sizeof(*cpusets));
    if (!cputune || !ids || !cpusets)
        goto oom;
    nst_cpuset_clear_all(&vcpu_cpus);
    for (unsigned int v = 0; v < pl->nvcpus; v++) {
        struct nst_cpuset one;
        nst_cpuset_clear_all(&one);
        nst_cpuset_set(&one, pl->pins[v]);
        nst_cpuset_set(&vcpu_cpus, pl->pins[v]);
        ids[v] = v;
        if (!(cpusets[v] = format_cpus(&one)))
            goto oom;
    }
    if (sync_pins(run, cputune, "vcpupin", "vcpu", NULL, "cpuset", ids,
                  cpusets, pl->nvcpus, &pins) < 0)
        goto oom;

    housekeeping_near(run, &near);
    if (!(near_text = format_cpus(&near)) ||
        !(vcpu_text = format_cpus(&vcpu_cpus)))
        goto oom;
    xmlNodePtr ep = nst_ensure(run->doc, cputune, "emulatorpin",
                               nst_order_cputune, NULL);
    if (!ep)
        goto oom;
    emulator = changed(&failed, nst_set_attr(run->doc, ep, "cpuset",
                                             near_text));

    size_t nio = iothread_ids(run, &iothreads);
    for (size_t i = 0; i < pl->nvcpus; i++)
        free(cpusets[i]);
    for (size_t i = 0; i < nio && i < pl->nvcpus; i++)
        cpusets[i] = near_text;
    if (nio > pl->nvcpus) {
        char **more = realloc(cpusets, nio * sizeof(*cpusets));
        if (!more)
            goto oom_shared;
        cpusets = more;
        for (size_t i = 0; i < nio; i++)
            cpusets[i] = near_text;
    }
    if (sync_pins(run, cputune, "iothreadpin", "iothread", NULL, "cpuset",
                  iothreads, cpusets, nio, &io) < 0)
        goto oom_shared;

    /* Every vCPU and the emulator are pinned now: <vcpu cpuset> would
     * only mislead, and placement='auto' (numad) would fight the pins. */
    xmlNodePtr vcpu = nst_child(run->root, "vcpu");
    if (vcpu) {
        vcpu_changed |= changed(&failed,
                                nst_remove_attr(run->doc, vcpu, "cpuset"));
        if (nst_attr_is(vcpu, "placement", "auto"))
            vcpu_changed |= changed(&failed, nst_set_attr(
                run->doc, vcpu, "placement", "static"));
    }
    if (failed)
        goto oom_shared;

    if (pins)
        nst_report_add(run->report, NST_CHANGE, "vcpu-pinning",
                       "/domain/cputune/vcpupin",
                       "%u vCPUs pinned one to one on host CPUs %s "
                       "(thread policy %s): no vCPU migrates between host "
                       "CPUs, caches stay warm",
                       pl->nvcpus, vcpu_text,
                       nst_thread_policy_name(run->profile->thread_policy));
    if (emulator)
        nst_report_add(run->report, NST_CHANGE, "emulator-pinning",
                       "/domain/cputune/emulatorpin",
                       "emulator threads on housekeeping CPUs %s, off the "
                       "vCPUs' CPUs", near_text);
    if (io)
        nst_report_add(run->report, NST_CHANGE, "iothread-pinning",
                       "/domain/cputune/iothreadpin",
                       "%zu I/O threads on housekeeping CPUs %s", nio,
                       near_text);
    if (vcpu_changed)
        nst_report_add(run->report, NST_CHANGE, "vcpu-pinning",
                       "/domain/vcpu",
                       "placement='static' without cpuset: every vCPU and "
                       "the emulator have their own pins");
    free(ids);
    free(cpusets);
    free(iothreads);
    free(near_text);
    free(vcpu_text);
    return 0;

 oom:
    if (cpusets)
        for (size_t i = 0; i < pl->nvcpus; i++)
            free(cpusets[i]);
 oom_shared:
    free(ids);
    free(cpusets);
    free(iothreads);
    free(near_text);
    free(vcpu_text);
    return oom(run);
}

static int
rule_topology(struct run *run)
{
    const struct nst_placement *pl = &run->placement;
    unsigned int sockets = (unsigned int)pl->ncells;
    unsigned int threads = pl->threads;
    unsigned int cores = pl->nvcpus / (sockets * threads);
    int failed = 0;
    bool any = false;

    xmlNodePtr cpu = nst_ensure(run->doc, run->root, "cpu",
                                nst_order_domain, NULL);
    xmlNodePtr topo = cpu ? nst_ensure(run->doc, cpu, "topology",
                                       nst_order_cpu, NULL) : NULL;
    if (!topo)
        return oom(run);
    any |= changed(&failed, set_number_attr(run->doc, topo, "sockets",
                                            sockets));
    any |= changed(&failed, nst_set_attr(run->doc, topo, "dies", "1"));
    any |= changed(&failed, set_number_attr(run->doc, topo, "cores", cores));
    any |= changed(&failed, set_number_attr(run->doc, topo, "threads",
                                            threads));
    if (failed)
        return oom(run);
    if (any)
        nst_report_add(run->report, NST_CHANGE, "topology",
                       "/domain/cpu/topology",
                       "%u socket(s) x %u cores x %u threads, as placed: "
                       "one guest socket per host cell%s", sockets, cores,
                       threads, threads > 1 ?
                       ", guest SMT siblings are host SMT siblings" : "");
    return 0;
}

/*
 * What a guest cell of the input held, read before rule_numa rebuilds
 * the cells, so that the new cells keep what still applies to them.
 */
struct old_cell {
    bool has_cpus;
    struct nst_cpuset cpus;
    char *mem_access;
    char *discard;
};

static void
old_cells_free(struct old_cell *cells, size_t n)
{
    for (size_t i = 0; cells && i < n; i++) {
        free(cells[i].mem_access);
        free(cells[i].discard);
    }
    free(cells);
}

/* The input's guest cells in document order; NULL (n 0) when none, or
 * out of memory (*oom set). */
static struct old_cell *
old_cells_read(xmlNodePtr numa, size_t *n, bool *failed)
{
    size_t count = nst_count_children(numa, "cell");
    struct old_cell *cells = count ? calloc(count, sizeof(*cells)) : NULL;

    *n = 0;
    if (count && !cells) {
        *failed = true;
        return NULL;
    }
    for (xmlNodePtr c = nst_child(numa, "cell"); c; c = nst_next(c, "cell")) {
        struct old_cell *o = &cells[(*n)++];
        char *text = nst_attr(c, "cpus");
        o->has_cpus = text && nst_cpuset_parse(text, &o->cpus, NULL) == 0;
        free(text);
        o->mem_access = nst_attr(c, "memAccess");
        o->discard = nst_attr(c, "discard");
    }
    return cells;
}

static bool
same_value(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/*
 * memAccess and discard of new guest cell 'cell' (vCPUs in vcpus) from
 * the input cells that held those vCPUs: the value they agree on.  When
 * they differ, memAccess becomes 'shared' if one of them was (a device
 * that needs shared memory, vhost-user or virtio-fs, keeps working;
 * memory that was private only loses nothing by being shared) and
 * otherwise the attribute goes, as discard does: the domain-wide
 * <memoryBacking> setting then applies.  Input cells without cpus give
 * no vCPU to any cell and so nothing.
 */
static int
merge_cell_attrs(struct run *run, xmlNodePtr cell, size_t id,
                 const struct nst_cpuset *vcpus, const struct old_cell *old,
                 size_t nold)
{
    static const char *const names[] = { "memAccess", "discard" };
    int failed = 0;

    for (size_t a = 0; a < 2; a++) {
        const char *value = NULL;
        bool any = false, mixed = false, shared = false;
        struct nst_cpuset from;

        nst_cpuset_clear_all(&from);
        for (size_t o = 0; o < nold; o++) {
            const char *v = a ? old[o].discard : old[o].mem_access;
            if (!old[o].has_cpus || !nst_cpuset_intersects(&old[o].cpus, vcpus))
                continue;
            nst_cpuset_set(&from, (unsigned int)o);
            if (any && !same_value(value, v))
                mixed = true;
            shared |= v && strcmp(v, "shared") == 0;
            value = v;
            any = true;
        }
        if (!any)
            continue;
        if (mixed)
            value = a == 0 && shared ? "shared" : NULL;
        int r = value ? nst_set_attr(run->doc, cell, names[a], value) :
                        nst_remove_attr(run->doc, cell, names[a]);
        changed(&failed, r);
        if (!mixed)
            continue;
        char *text = format_cpus(&from);
        char *target = nst_printf("/domain/cpu/numa/cell[@id='%zu']/@%s", id,
                                  names[a]);
        char *msg = value ?
            nst_printf("guest cell %zu holds the vCPUs of input cells %s "
                       "(by position), whose memAccess differ: 'shared', so "
                       "what needed shared memory there (vhost-user, "
                       "virtio-fs) keeps it", id, text ? text : "?") :
            nst_printf("dropped %s of guest cell %zu: it holds the vCPUs of "
                       "input cells %s (by position), whose %s differ; the "
                       "<memoryBacking> setting applies", names[a], id,
                       text ? text : "?", names[a]);
        int ret = 0;
        if (!target || !msg)
            failed = 1;
        else if (value)
            nst_report_add(run->report, NST_CHANGE, "guest-numa", target,
                           "%s", msg);
        else
            ret = warn(run, "guest-numa", target, msg);
        free(text);
        free(target);
        free(msg);
        if (ret < 0)
            return -1;
    }
    return failed ? oom(run) : 0;
}

/* The guest cell element with that id, or NULL. */
static xmlNodePtr
find_cell(xmlNodePtr numa, unsigned long long want)
{
    for (xmlNodePtr c = nst_child(numa, "cell"); c; c = nst_next(c, "cell")) {
        char *text = nst_attr(c, "id");
        unsigned long long id;
        bool match = text && nst_parse_ull(text, UINT32_MAX, &id) == 0 &&
                     id == want;
        free(text);
        if (match)
            return c;
    }
    return NULL;
}

/* Whether the attribute names a guest cell below k. */
static bool
names_cell(const xmlNode *node, const char *name, size_t k)
{
    char *text = nst_attr(node, name);
    unsigned long long id;
    bool ok = text && nst_parse_ull(text, UINT32_MAX, &id) == 0 && id < k;
    free(text);
    return ok;
}

/*
 * <distances> of the rebuilt cells.  Guest cells on distinct host cells
 * are as far apart as those host cells: with two or more guest cells and
 * the host's distances known (capabilities), every cell gets the full
 * row of them.  Otherwise what the input says of cells that still exist
 * stays; a sibling of a cell that is gone is dropped (libvirt refuses
 * it), with a warning.
 */
static int
numa_distances(struct run *run, xmlNodePtr numa)
{
    static const char *const order[] = { "distances", "cache", NULL };
    const struct nst_placement *pl = &run->placement;
    size_t k = pl->ncells;
    unsigned int ids[NST_MAX_GUEST_CELLS];
    char *values[NST_MAX_GUEST_CELLS] = { 0 };
    struct nst_cpuset stale, stale_in;
    bool from_host = k >= 2, any = false;
    int failed = 0;

    for (size_t i = 0; i < k && from_host; i++)
        for (size_t j = 0; j < k && from_host; j++) {
            unsigned int d = nst_host_distance(run->host,
                                               pl->cells[i].host_cell,
                                               pl->cells[j].host_cell);
            /* libvirt: 10 is a cell's own distance and only that */
            from_host = d && (i == j ? d == 10 : d > 10);
        }
    nst_cpuset_clear_all(&stale);
    nst_cpuset_clear_all(&stale_in);
    for (size_t i = 0; i < k && !failed; i++) {
        xmlNodePtr cell = find_cell(numa, i);
        xmlNodePtr dist = nst_child(cell, "distances");
        for (xmlNodePtr s = nst_child(dist, "sibling"), next; s; s = next) {
            next = nst_next(s, "sibling");
            char *text = nst_attr(s, "id");
            unsigned long long id;
            if (!text || nst_parse_ull(text, NST_MAX_CPUS - 1, &id) < 0 ||
                id >= k) {
                if (text && nst_parse_ull(text, NST_MAX_CPUS - 1, &id) == 0)
                    nst_cpuset_set(&stale, (unsigned int)id);
                nst_cpuset_set(&stale_in, (unsigned int)i);
                if (nst_remove(run->doc, s) < 0)
                    failed = 1;
            }
            free(text);
        }
        if (from_host) {
            dist = nst_ensure(run->doc, cell, "distances", order, NULL);
            for (size_t j = 0; j < k && dist; j++) {
                ids[j] = (unsigned int)j;
                values[j] = nst_printf("%u", nst_host_distance(
                    run->host, pl->cells[i].host_cell,
                    pl->cells[j].host_cell));
                if (!values[j])
                    failed = 1;
            }
            if (!dist || failed ||
                sync_pins(run, dist, "sibling", "id", NULL, "value", ids,
                          values, k, &any) < 0)
                failed = 1;
            for (size_t j = 0; j < k; j++) {
                free(values[j]);
                values[j] = NULL;
            }
        } else if (dist && !nst_child(dist, "sibling") &&
                   nst_remove(run->doc, dist) < 0) {
            failed = 1;
        }
    }
    if (failed)
        return oom(run);
    if (any) {
        struct nst_cpuset hosts;
        nst_cpuset_clear_all(&hosts);
        for (size_t i = 0; i < k; i++)
            nst_cpuset_set(&hosts, pl->cells[i].host_cell);
        char *text = format_cpus(&hosts);
        nst_report_add(run->report, NST_CHANGE, "guest-numa",
                       "/domain/cpu/numa/cell/distances",
                       "guest cell distances are those of host cells %s "
                       "(capabilities): the guest kernel weighs remote "
                       "memory as the host does", text ? text : "?");
        free(text);
    }
    if (nst_cpuset_is_empty(&stale_in))
        return 0;
    char *gone = format_cpus(&stale), *in = format_cpus(&stale_in);
    char *msg = gone && in ?
        nst_printf("dropped <distances> siblings naming guest cell(s) %s "
                   "from cell(s) %s: the placement keeps %zu cell(s), and "
                   "libvirt refuses a sibling of a cell that does not "
                   "exist", *gone ? gone : "(invalid ids)", in, k) : NULL;
    int ret = msg ? warn(run, "guest-numa", "/domain/cpu/numa/cell/distances",
                         msg) : oom(run);
    free(gone);
    free(in);
    free(msg);
    return ret;
}

/* Whether guest cell 'target' has a <cache level='level'>. */
static bool
cell_has_cache(xmlNodePtr numa, const xmlNode *entry)
{
    char *level = nst_attr(entry, "cache");
    char *target = nst_attr(entry, "target");
    unsigned long long id;
    bool found = false;

    if (!level)
        found = true;
    else if (target && nst_parse_ull(target, UINT32_MAX, &id) == 0)
        for (xmlNodePtr c = nst_child(find_cell(numa, id), "cache"); c &&
             !found; c = nst_next(c, "cache"))
            found = nst_attr_is(c, "level", level);
    free(level);
    free(target);
    return found;
}

/*
 * <interconnects> (HMAT latencies and bandwidths between an initiator
 * and a target cell): an entry between cells that still exist stays;
 * one naming a cell that is gone, or a memory-side cache level its
 * target cell no longer has, is dropped (libvirt refuses both), with a
 * warning.  An emptied <interconnects> goes.
 */
static int
numa_interconnects(struct run *run, xmlNodePtr numa)
{
    xmlNodePtr list = nst_child(numa, "interconnects");
    size_t k = run->placement.ncells, dropped = 0;
    int failed = 0;

    for (xmlNodePtr e = nst_child(list, NULL), next; e; e = next) {
        next = nst_next(e, NULL);
        if (names_cell(e, "initiator", k) && names_cell(e, "target", k) &&
            cell_has_cache(numa, e))
            continue;
        dropped++;
        if (nst_remove(run->doc, e) < 0)
            failed = 1;
    }
    if (list && !nst_child(list, NULL) && nst_remove(run->doc, list) < 0)
        failed = 1;
    if (failed)
        return oom(run);
    if (!dropped)
        return 0;
    char *msg = nst_printf("dropped %zu <interconnects> entr%s naming guest "
                           "cells or cache levels the placement's %zu "
                           "cell(s) do not have: libvirt refuses them",
                           dropped, dropped == 1 ? "y" : "ies", k);
    int ret = msg ? warn(run, "guest-numa", "/domain/cpu/numa/interconnects",
                         msg) : oom(run);
    free(msg);
    return ret;
}

/*
 * Memory devices follow the rebuilt cells: <target><node> is the guest
 * cell layout_memory gave the device (libvirt refuses a node the guest
 * does not have), and a <source><nodemask> (the host nodes of the
 * device's memory, as <numatune> gives them for a cell) becomes the host
 * cell of that guest cell, so the device's memory is local too.
 */
static int
numa_memdevs(struct run *run)
{
    static const char *const target_order[] = { "size", "node", NULL };
    int failed = 0;

    for (size_t d = 0; d < run->dom.nmemdevs && !failed; d++) {
        const struct nst_memdev *m = &run->dom.memdevs[d];
        long cell = run->memdev_cell ? run->memdev_cell[d] : -1;
        if (cell < 0)
            continue;
        unsigned int host_cell = run->placement.cells[cell].host_cell;
        xmlNodePtr target = nst_child(m->node, "target");
        xmlNodePtr node = nst_ensure(run->doc, target, "node", target_order,
                                     NULL);
        xmlNodePtr mask = nst_child(nst_child(m->node, "source"), "nodemask");
        char *path = nst_printf("/domain/devices/memory[%zu]", d + 1);
        char *old_mask = mask ? nst_text(mask) : NULL;
        if (!node || !path)
            failed = 1;
        else if (changed(&failed, set_number_text(run->doc, node,
                                                  (unsigned long long)cell)))
            nst_report_add(run->report, NST_CHANGE, "guest-numa", path,
                           "%s memory device of %llu KiB on guest cell %ld "
                           "%s: the placement keeps %zu guest cell(s)",
                           m->model[0] ? m->model : "a", m->size_kib, cell,
                           m->target >= 0 ? "instead of a cell that is gone" :
                           "(it named none)", run->placement.ncells);
        if (mask && changed(&failed, set_number_text(run->doc, mask,
                                                     host_cell)))
            nst_report_add(run->report, NST_CHANGE, "numatune", path,
                           "memory device's host nodes '%s' -> '%u', the "
                           "host cell of its guest cell %ld: no remote "
                           "memory access", old_mask ? old_mask : "",
                           host_cell, cell);
        free(old_mask);
        free(path);
    }
    return failed ? oom(run) : 0;
}

/*
 * A <page nodeset> names guest cells, which the placement renumbers: a
 * nodeset left naming a cell that is gone makes libvirt refuse the
 * domain.  Each nodeset keeps the cells that still exist; a page left
 * with none goes, unless it is the last one, which then covers every
 * cell (its size was the operator's choice).  With the hugepages key on
 * the hugepages rule writes the pages and their nodesets itself.
 */
static int
numa_page_nodesets(struct run *run)
{
    if (run->profile->hugepages)
        return 0;

    xmlNodePtr huge = nst_child(nst_child(run->root, "memoryBacking"),
                                "hugepages");
    struct nst_cpuset kept_cells;
    int failed = 0;

    nst_cpuset_clear_all(&kept_cells);
    for (size_t i = 0; i < run->placement.ncells; i++)
        nst_cpuset_set(&kept_cells, (unsigned int)i);
    for (xmlNodePtr page = nst_child(huge, "page"), next; page && !failed;
         page = next) {
        next = nst_next(page, "page");
        char *old_text = nst_attr(page, "nodeset");
        struct nst_cpuset cells;
        if (!old_text || nst_cpuset_parse(old_text, &cells, NULL) < 0) {
            free(old_text);     /* none, or libvirt's own error to give */
            continue;
        }
        nst_cpuset_intersect(&cells, &kept_cells);
        bool last = !next && page == nst_child(huge, "page");
        char *new_text = nst_cpuset_is_empty(&cells) ? NULL :
                         format_cpus(&cells);
        const char *what = NULL;
        if (new_text && strcmp(new_text, old_text) != 0) {
            failed = nst_set_attr(run->doc, page, "nodeset", new_text) < 0;
            what = "keeps the guest cells that still exist";
        } else if (!new_text && last) {
            failed = nst_remove_attr(run->doc, page, "nodeset") < 0;
            what = "now covers every guest cell: the cells it named are gone";
        } else if (!new_text) {
            failed = nst_remove(run->doc, page) < 0;
            what = "removed: every guest cell it named is gone";
        }
        if (what && !failed)
            nst_report_add(run->report, NST_CHANGE, "guest-numa",
                           "/domain/memoryBacking/hugepages/page",
                           "<page nodeset='%s'> %s (the placement keeps "
                           "%zu guest cell(s))", old_text, what,
                           run->placement.ncells);
        free(old_text);
        free(new_text);
    }
    return failed ? oom(run) : 0;
}

static int
rule_numa(struct run *run)
{
    const struct nst_placement *pl = &run->placement;
    int failed = 0;
    bool cells_changed = false, tune_changed = false, read_failed = false;
    struct nst_cpuset nodes, cached;
    struct old_cell *old = NULL;
    size_t nold = 0;

    xmlNodePtr cpu = nst_ensure(run->doc, run->root, "cpu",
                                nst_order_domain, NULL);
    xmlNodePtr numa = cpu ? nst_ensure(run->doc, cpu, "numa", nst_order_cpu,
                                       NULL) : NULL;
    if (!numa)
        return oom(run);
    old = old_cells_read(numa, &nold, &read_failed);
    if (read_failed)
        return oom(run);
    /* Guest cells: edit in place, keep attributes we do not manage. */
    nst_cpuset_clear_all(&cached);
    for (xmlNodePtr c = nst_child(numa, "cell"), next; c; c = next) {
        next = nst_next(c, "cell");
        char *id_text = nst_attr(c, "id");
        unsigned long long id;
        if (!id_text || nst_parse_ull(id_text, UINT32_MAX, &id) < 0 ||
            id >= pl->ncells) {
            if (id_text && nst_child(c, "cache") &&
                nst_parse_ull(id_text, NST_MAX_CPUS - 1, &id) == 0)
                nst_cpuset_set(&cached, (unsigned int)id);
            cells_changed |= changed(&failed, nst_remove(run->doc, c));
        }
        free(id_text);
    }
    nst_cpuset_clear_all(&nodes);
    for (size_t i = 0; i < pl->ncells && !failed; i++) {
        const struct nst_guest_cell *gc = &pl->cells[i];
        struct nst_cpuset vcpus;
        xmlNodePtr cell = find_cell(numa, i);

        nst_cpuset_set(&nodes, gc->host_cell);
        if (!cell) {
            cell = nst_insert(run->doc, numa, "cell", (const char *[]){
                                  "cell", NULL });
            if (!cell) {
                old_cells_free(old, nold);
                return oom(run);
            }
            cells_changed = true;
        }
        nst_cpuset_clear_all(&vcpus);
        for (unsigned int v = 0; v < gc->nvcpus; v++)
            nst_cpuset_set(&vcpus, gc->first_vcpu + v);
        char *text = format_cpus(&vcpus);
        if (!text) {
            old_cells_free(old, nold);
            return oom(run);
        }
        cells_changed |= changed(&failed, set_number_attr(run->doc, cell,
                                                          "id", i));
        cells_changed |= changed(&failed, nst_set_attr(run->doc, cell,
                                                       "cpus", text));
        cells_changed |= changed(&failed, set_number_attr(
            run->doc, cell, "memory", run->cell_kib[i]));
        cells_changed |= changed(&failed, nst_set_attr(run->doc, cell,
                                                       "unit", "KiB"));
        free(text);
    }
    if (failed) {
        old_cells_free(old, nold);
        return oom(run);
    }
    if (cells_changed)
        nst_report_add(run->report, NST_CHANGE, "guest-numa",
                       "/domain/cpu/numa",
                       "%zu guest NUMA cell(s) matching the placement: the "
                       "guest kernel sees which vCPUs share memory",
                       pl->ncells);
    for (size_t i = 0; i < pl->ncells; i++) {
        const struct nst_guest_cell *gc = &pl->cells[i];
        struct nst_cpuset vcpus;
        nst_cpuset_clear_all(&vcpus);
        for (unsigned int v = 0; v < gc->nvcpus; v++)
            nst_cpuset_set(&vcpus, gc->first_vcpu + v);
        if (merge_cell_attrs(run, find_cell(numa, i), i, &vcpus, old,
                             nold) < 0) {
            old_cells_free(old, nold);
            return -1;
        }
    }
    old_cells_free(old, nold);
    if (!nst_cpuset_is_empty(&cached)) {
        char *text = format_cpus(&cached);
        char *msg = text ? nst_printf("guest cell(s) %s described "
                                      "memory-side caches (<cache>), which "
                                      "go with the cells: the placement "
                                      "keeps %zu cell(s)", text,
                                      pl->ncells) : NULL;
        int ret = msg ? warn(run, "guest-numa", "/domain/cpu/numa/cell/cache",
                             msg) : oom(run);
        free(text);
        free(msg);
        if (ret < 0)
            return -1;
    }
    if (numa_distances(run, numa) < 0 || numa_interconnects(run, numa) < 0 ||
        numa_memdevs(run) < 0 || numa_page_nodesets(run) < 0)
        return -1;

    /* numatune: strict binding, one memnode per guest cell. */
    xmlNodePtr tune = nst_ensure(run->doc, run->root, "numatune",
                                 nst_order_domain, NULL);
    xmlNodePtr memory = tune ? nst_ensure(run->doc, tune, "memory",
                                          nst_order_numatune, NULL) : NULL;
    char *nodes_text = format_cpus(&nodes);
    if (!memory || !nodes_text) {
        free(nodes_text);
        return oom(run);
    }
    tune_changed |= changed(&failed, nst_set_attr(run->doc, memory, "mode",
                                                  "strict"));
    tune_changed |= changed(&failed, nst_set_attr(run->doc, memory,
                                                  "nodeset", nodes_text));
    tune_changed |= changed(&failed, nst_remove_attr(run->doc, memory,
                                                     "placement"));
    unsigned int *ids = calloc(pl->ncells, sizeof(*ids));
    char **sets = calloc(pl->ncells, sizeof(*sets));
    for (size_t i = 0; ids && sets && i < pl->ncells; i++) {
        struct nst_cpuset one;
        nst_cpuset_clear_all(&one);
        nst_cpuset_set(&one, pl->cells[i].host_cell);
        ids[i] = (unsigned int)i;
        if (!(sets[i] = format_cpus(&one)))
            failed = 1;
    }
    if (!ids || !sets || failed ||
        sync_pins(run, tune, "memnode", "cellid", "strict", "nodeset", ids,
                  sets, pl->ncells, &tune_changed) < 0)
        failed = 1;
    for (size_t i = 0; sets && i < pl->ncells; i++)
        free(sets[i]);
    free(sets);
    free(ids);
    if (failed) {
        free(nodes_text);
        return oom(run);
    }

    if (tune_changed)
        nst_report_add(run->report, NST_CHANGE, "numatune",
                       "/domain/numatune",
                       "memory bound strictly to host node(s) %s, each "
                       "guest cell to the host cell its vCPUs run on: no "
                       "remote memory access", nodes_text);
    free(nodes_text);
    return 0;
}

/*
 * With memory devices, QEMU backs each guest cell's own memory and each
 * DIMM with its own object, and refuses to start when one is not a
 * whole number of pages: the size must divide each of them, not only
 * their sum.  Writes the first piece it does not divide into what (for
 * a message) and returns false; true when it divides them all.
 */
static bool
page_divides_pieces(const struct run *run, unsigned long long size,
                    char *what, size_t what_len)
{
    for (size_t i = 0; run->dom.nmemdevs && i < run->placement.ncells; i++)
        if (run->cell_kib[i] % size) {
            snprintf(what, what_len, "guest cell %zu's own %llu KiB", i,
                     run->cell_kib[i]);
            return false;
        }
    for (size_t d = 0; d < run->dom.nmemdevs; d++)
        if (strcmp(run->dom.memdevs[d].model, "dimm") == 0 &&
            run->dom.memdevs[d].size_kib % size) {
            snprintf(what, what_len, "DIMM %zu's %llu KiB", d + 1,
                     run->dom.memdevs[d].size_kib);
            return false;
        }
    return true;
}

/* The largest hugepage size that every host cell of the placement has
 * enough free pages of for its guest cell, and that divides every piece
 * of guest memory QEMU backs on its own, or 0. */
static unsigned long long
pick_page_size(struct run *run)
{
    const struct nst_placement *pl = &run->placement;
    const struct nst_cell *first = nst_host_cell(run->host,
                                                 pl->cells[0].host_cell);
    unsigned long long best = 0;

    for (size_t s = 0; first && s < first->npages; s++) {
        unsigned long long size = first->pages[s].size_kib;
        bool fits = size > 4 && size > best;
        char what[80];
        for (size_t i = 0; fits && i < pl->ncells; i++)
            fits = nst_cell_pages_fit(nst_host_cell(run->host,
                                                    pl->cells[i].host_cell),
                                      size, pl->cells[i].memory_kib);
        if (fits && page_divides_pieces(run, size, what, sizeof(what)))
            best = size;
    }
    return best;
}

/*
 * Why pick_page_size found nothing, as a new string: for every hugepage
 * size of the first host cell, the first guest cell it cannot back and
 * what is short there -- the size larger than the memory or not
 * dividing it (nst_cell_pages_fit takes whole pages only), the host node
 * without that size, or the count needed against the count free.  A
 * node with free 1 GiB pages is not short of pages for a 214 MiB guest:
 * the size is what does not fit, and the message says so.
 */
static char *
page_shortfall(struct run *run)
{
    const struct nst_placement *pl = &run->placement;
    const struct nst_cell *first = nst_host_cell(run->host,
                                                 pl->cells[0].host_cell);
    struct nst_buf buf = { 0 };
    size_t nsizes = 0;

    if (pl->ncells == 1)
        nst_buf_addf(&buf, "no hugepage size of host node %u can back the "
                     "guest's %llu KiB", pl->cells[0].host_cell,
                     pl->cells[0].memory_kib);
    else
        nst_buf_addf(&buf, "no hugepage size can back every guest cell on "
                     "its host node");
    for (size_t s = 0; first && s < first->npages; s++) {
        unsigned long long size = first->pages[s].size_kib;
        char piece[80];
        if (size <= 4)
            continue;
        nst_buf_adds(&buf, nsizes++ ? "; " : ": ");
        if (!page_divides_pieces(run, size, piece, sizeof(piece))) {
            nst_buf_addf(&buf, "%llu KiB pages do not divide %s", size,
                         piece);
            continue;
        }
        for (size_t i = 0; i < pl->ncells; i++) {
            unsigned int node = pl->cells[i].host_cell;
            unsigned long long mem = pl->cells[i].memory_kib;
            const struct nst_pages *pages =
                nst_cell_pages(nst_host_cell(run->host, node), size);
            char whose[64];
            if (pl->ncells == 1)
                snprintf(whose, sizeof(whose), "the guest's memory");
            else
                snprintf(whose, sizeof(whose), "guest cell %zu's memory", i);
            if (size > mem)
                nst_buf_addf(&buf, "%llu KiB pages are larger than %s",
                             size, whose);
            else if (mem % size)
                nst_buf_addf(&buf, "%llu KiB pages do not divide %s (%llu "
                             "KiB is not a whole number of them)", size,
                             whose, mem);
            else if (!pages)
                nst_buf_addf(&buf, "host node %u has no %llu KiB pages",
                             node, size);
            else if (pages->free < mem / size && pl->ncells == 1)
                nst_buf_addf(&buf, "%llu KiB pages: %llu needed, %llu free",
                             size, mem / size, pages->free);
            else if (pages->free < mem / size)
                nst_buf_addf(&buf, "%llu KiB pages: guest cell %zu needs "
                             "%llu, host node %u has %llu free", size, i,
                             mem / size, node, pages->free);
            else
                continue;
            break;
        }
    }
    if (!nsizes)
        nst_buf_addf(&buf, ": host node %u has no hugepage size",
                     pl->cells[0].host_cell);
    return nst_buf_finish(&buf, NULL);
}

static int
rule_hugepages(struct run *run)
{
    const struct nst_placement *pl = &run->placement;
    struct nst_cpuset guest_cells;
    const struct nst_backing_conflict conflict = run->dom.backing_conflict;
    int failed = 0;
    bool any = false;

    xmlNodePtr backing = nst_child(run->root, "memoryBacking");
    xmlNodePtr huge = nst_child(backing, "hugepages");
    if (run->dom.has_backing_conflict) {
        char *msg = NULL;
        int ret;
        if (huge && conflict.refused) {
            /* The input itself is one libvirt refuses; which of the two
             * goes is the operator's call. */
            msg = nst_printf("<hugepages> beside %s: %s; remove one of "
                             "them", conflict.element, conflict.why);
            ret = refuse(run, "hugepages", "/domain/memoryBacking",
                         msg ? msg : "out of memory");
            free(msg);
            return ret;
        }
        if (!huge) {
            msg = nst_printf("no <hugepages> added: <memoryBacking> has "
                             "%s, kept as chosen, and %s; the guest stays "
                             "on normal pages", conflict.element,
                             conflict.why);
            ret = warn(run, "hugepages", "/domain/memoryBacking",
                       msg ? msg : "out of memory");
            free(msg);
            return ret;
        }
        /* <hugepages> beside a file source: both chosen, libvirt
         * accepts them; the size is adjusted like any other. */
    }

    unsigned long long size = pick_page_size(run);
    if (!size) {
        char *why = page_shortfall(run);
        char *msg = why ? nst_printf("%s; the guest stays on normal pages "
                                     "(reserve hugepages of a size that "
                                     "fits on the host to use them)", why)
                        : NULL;
        int ret = warn(run, "hugepages", "/domain/memoryBacking",
                       msg ? msg : "out of memory");
        free(msg);
        if (ret < 0 || !huge) {
            free(why);
            return ret;
        }
        /* A <hugepages> already there cannot be backed either: the
         * guest would not start with it (lint's VN302 finds it). */
        if (!why || nst_remove(run->doc,
                               nst_count_children(backing, NULL) == 1 ?
                               backing : huge) < 0) {
            free(why);
            return oom(run);
        }
        nst_report_add(run->report, NST_CHANGE, "hugepages",
                       "/domain/memoryBacking/hugepages",
                       "removed <hugepages>: %s, so the guest would not "
                       "start with them", why);
        free(why);
        return 0;
    }
    backing = nst_ensure(run->doc, run->root, "memoryBacking",
                         nst_order_domain, NULL);
    huge = backing ? nst_ensure(run->doc, backing, "hugepages",
                                nst_order_memory_backing, NULL) : NULL;
    if (!huge)
        return oom(run);
    /* One <page> for all guest cells; other sizes go. */
    xmlNodePtr page = nst_child(huge, "page");
    for (xmlNodePtr p = page ? nst_next(page, "page") : NULL, next; p;
         p = next) {
        next = nst_next(p, "page");
        any |= changed(&failed, nst_remove(run->doc, p));
    }
    if (!page) {
        page = nst_insert(run->doc, huge, "page",
                          (const char *[]){ "page", NULL });
        if (!page)
            return oom(run);
        any = true;
    }
    nst_cpuset_clear_all(&guest_cells);
    for (size_t i = 0; i < pl->ncells; i++)
        nst_cpuset_set(&guest_cells, (unsigned int)i);
    char *cells = format_cpus(&guest_cells);
    if (!cells)
        return oom(run);
    any |= changed(&failed, set_number_attr(run->doc, page, "size", size));
    any |= changed(&failed, nst_set_attr(run->doc, page, "unit", "KiB"));
    if (run->profile->numa)
        any |= changed(&failed, nst_set_attr(run->doc, page, "nodeset",
                                             cells));
    else
        any |= changed(&failed, nst_remove_attr(run->doc, page, "nodeset"));
    free(cells);
    if (failed)
        return oom(run);
    if (any)
        nst_report_add(run->report, NST_CHANGE, "hugepages",
                       "/domain/memoryBacking/hugepages",
                       "guest memory on %llu KiB pages, the largest size "
                       "host node %u has enough free of (%llu needed): "
                       "fewer TLB misses, no swapping",
                       size, pl->cells[0].host_cell,
                       pl->cells[0].memory_kib / size);
    return 0;
}

/* ------------------------------------------------------------ the rules */

static const struct nst_rule_def rule_defs[NST_RULE_LAST] = {
    [NST_RULE_DOMAIN] = { "domain", { NULL }, false,
        "reads the domain and checks its CPU lists and the profile's "
        "against the host" },
    [NST_RULE_CPU_MODE] = { "cpu-mode", { "nested", NULL }, true,
        "host-passthrough CPU, or host-model where passthrough is not "
        "supported" },
    [NST_RULE_CPU_FEATURE] = { "cpu-feature", { "nested", NULL }, true,
        "requires the host's virtualization feature (vmx or svm)" },
    [NST_RULE_MITIGATIONS] = { "mitigations", { "mitigations", NULL }, true,
        "removes the disables of Spectre/MDS mitigations" },
    [NST_RULE_PLACEMENT] = { "placement",
        { "pinning", "numa", "hugepages", NULL }, false,
        "chooses the host cells and CPUs the guest gets" },
    [NST_RULE_VCPU_PINNING] = { "vcpu-pinning", { "pinning", NULL }, true,
        "pins every vCPU to its host CPU (with the emulator and I/O "
        "threads)" },
    [NST_RULE_EMULATOR_PINNING] = { "emulator-pinning", { "pinning", NULL },
        true, "pins the emulator to housekeeping CPUs near the guest" },
    [NST_RULE_IOTHREAD_PINNING] = { "iothread-pinning", { "pinning", NULL },
        true, "pins the I/O threads to housekeeping CPUs near the guest" },
    [NST_RULE_TOPOLOGY] = { "topology", { "pinning", NULL }, true,
        "gives the guest the topology of the CPUs it is pinned to" },
    [NST_RULE_GUEST_NUMA] = { "guest-numa", { "numa", NULL }, true,
        "one guest NUMA cell per host cell the guest is placed on (with "
        "its numatune)" },
    [NST_RULE_NUMATUNE] = { "numatune", { "numa", NULL }, true,
        "binds each guest cell's memory strictly to its host cell" },
    [NST_RULE_HUGEPAGES] = { "hugepages", { "hugepages", NULL }, true,
        "backs the guest with the largest hugepages its cells have free" },
    [NST_RULE_MEMTUNE] = { "memtune", { "memtune", NULL }, true,
        "hard and soft memory limits with room for QEMU's overhead" },
    [NST_RULE_CPU_LIMITS] = { "cpu-limits", { "cpu-limits", NULL }, true,
        "CPU shares by vCPU count, and a quota per vCPU" },
};

const struct nst_rule_def *
nst_rules(void)
{
    return rule_defs;
}

enum nst_rule
nst_rule_find(const char *name)
{
    for (int r = 0; name && r < NST_RULE_LAST; r++)
        if (strcmp(rule_defs[r].name, name) == 0)
            return (enum nst_rule)r;
    return NST_RULE_LAST;
}

bool
nst_rule_enabled(const struct nst_profile *p, enum nst_rule rule)
{
    if ((unsigned int)rule >= NST_RULE_LAST)
        return false;
    const char *const *keys = rule_defs[rule].keys;
    if (!keys[0])
        return true;
    for (; *keys; keys++)
        if (nst_profile_switch(p, *keys))
            return true;
    return false;
}

static int
step_domain(struct run *run)
{
    return read_domain(run) < 0 || check_profile_cpus(run) < 0 ||
           check_domain_cpus(run) < 0 ? -1 : 0;
}

/* A confidential guest keeps its <cpu>: the nested rules step aside. */
static int
step_cpu_mode(struct run *run)
{
    int nested = check_confidential(run);
    if (nested <= 0) {
        run->no_nesting = true;
        return nested;
    }
    return rule_cpu_mode(run);
}

static int
step_cpu_features(struct run *run)
{
    return run->no_nesting ? 0 : rule_cpu_features(run);
}

/* What runs each rule; NULL: its step is another rule's (the pinning
 * rule pins the emulator and I/O threads, the guest-numa rule writes
 * numatune with the cells). */
static int (*const steps[NST_RULE_LAST])(struct run *) = {
    [NST_RULE_DOMAIN] = step_domain,
    [NST_RULE_CPU_MODE] = step_cpu_mode,
    [NST_RULE_CPU_FEATURE] = step_cpu_features,
    [NST_RULE_MITIGATIONS] = rule_mitigations,
    [NST_RULE_PLACEMENT] = place,
    [NST_RULE_VCPU_PINNING] = rule_pinning,
    [NST_RULE_TOPOLOGY] = rule_topology,
    [NST_RULE_GUEST_NUMA] = rule_numa,
    [NST_RULE_HUGEPAGES] = rule_hugepages,
    [NST_RULE_MEMTUNE] = rule_memtune,
    [NST_RULE_CPU_LIMITS] = rule_cpu_limits,
};

/* ------------------------------------------------------------------ run */

void
nst_plan_clear(struct nst_plan *plan)
{
    if (!plan)
        return;
    free(plan->pages);
    memset(plan, 0, sizeof(*plan));
}

/* What the domain holds once the rules are done: its pins and pages
 * read from the edited document, which has the rules' and keeps the
 * domain's own where no rule placed them.  Pins or page sizes libvirt
 * would refuse count for nothing. */
static int
fill_plan(struct run *run, struct nst_plan *plan)
{
    struct nst_domain d;

    if (nst_domain_read(run->root, &d) < 0)
        return oom(run);
    for (size_t i = 0; i < d.npins; i++) {
        const struct nst_pin *pin = &d.pins[i];
        struct nst_cpuset *to = pin->kind == NST_PIN_VCPU ? &plan->vcpus :
                                pin->kind == NST_PIN_EMULATOR ?
                                &plan->emulator :
                                pin->kind == NST_PIN_IOTHREAD ?
                                &plan->iothreads : NULL;
        if (to && pin->valid)
            nst_cpuset_union(to, &pin->cpus);
    }
    int ret = domain_page_use(&d, &plan->pages, &plan->npages);
    nst_domain_clear(&d);
    if (ret == -1)
        nst_plan_clear(plan);
    return ret == -2 ? oom(run) : 0;
}

int
nst_apply(struct nst_doc *doc, const struct nst_apply_options *opts,
          struct nst_report *report, struct nst_plan *plan)
{
    struct run run = {
        .doc = doc,
        .root = nst_doc_root(doc),
        .opts = opts,
        .profile = opts->profile,
        .host = opts->host,
        .report = report,
    };
    int ret = 0;

    if (plan)
        memset(plan, 0, sizeof(*plan));
    for (int r = 0; r < NST_RULE_LAST && ret == 0; r++)
        if (steps[r] && nst_rule_enabled(run.profile, (enum nst_rule)r))
            ret = steps[r](&run) < 0 ? -1 : 0;
    if (ret == 0 && plan && fill_plan(&run, plan) < 0) {
        nst_plan_clear(plan);
        ret = -1;
    }
    if (run.placed)
        nst_placement_clear(&run.placement);
    nst_domain_clear(&run.dom);
    free(run.memdev_cell);
    return ret;
}

/*
 * policy.c: the run of the rules
 *
 * nst_apply() reads what it needs from the domain (vCPUs, memory), then
 * runs every rule the profile turns on, in a fixed order (the rule
 * table below).  A rule edits the document only through xmledit.h, so
 * it changes exactly what it means to, and records every change with
 * the reason for it.  A rule that cannot do its job records an error
 * and stops the run; nothing of a refused run is used.  The rules live
 * one file per subtree they write (rules-cpu.c, rules-placement.c,
 * rules-numa.c, rules-memory.c); this file holds what they share
 * (policy.h), the domain and host checks that come first, and the run.
 * Why each rule does what it does is written next to it and, for users,
 * in docs/profiles.md.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

/* ---------------------------------------------------------------- helpers */

int
policy_refuse(struct run *run, const char *rule, const char *target,
              const char *message)
{
    nst_report_add(run->report, NST_ERROR, rule, target, "%s", message);
    return -1;
}

int
policy_oom(struct run *run)
{
    return policy_refuse(run, "internal", NULL, "out of memory");
}

int
policy_warn(struct run *run, const char *rule, const char *target,
            const char *message)
{
    if (run->opts->strict) {
        nst_report_add(run->report, NST_ERROR, rule, target,
                       "%s (strict mode)", message);
        return -1;
    }
    nst_report_add(run->report, NST_WARNING, rule, target, "%s", message);
    return 0;
}

/* ------------------------------------------------------- domain facts */

/* Reads the domain once; refuses what the rules cannot use. */
static int
read_domain(struct run *run)
{
    if (nsti_domain_read(run->root, &run->dom) < 0)
        return policy_oom(run);
    if (!run->dom.has_vcpus)
        return policy_refuse(run, "domain", "/domain/vcpu",
                      "<vcpu> is not a vCPU count between 1 and 4096");
    if (!run->dom.has_memory)
        return policy_refuse(run, "domain", "/domain/memory",
                      "<memory> is missing or not a size libvirt accepts");
    return 0;
}

/* The cpusets of the domain's pins of the kinds wanted (indexed by enum
 * nst_pin_kind), added to *out. */
static int
doc_pins(const struct nst_doc *doc, const bool *wanted, struct nst_cpuset *out,
         char **err)
{
    struct nst_domain d;
    int ret = 0;

    if (nsti_domain_read(nsti_doc_root(doc), &d) < 0) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < d.npins && ret == 0; i++) {
        const struct nst_pin *pin = &d.pins[i];
        struct nst_cpuset set;
        if (!wanted[pin->kind] || !pin->text)
            continue;
        if (pin->valid)
            nst_cpuset_union(out, &pin->cpus);
        else    /* parsed again for nst_cpuset_parse's own message */
            ret = nst_cpuset_parse(pin->text, &set, err) < 0 ? -1 : 0;
    }
    nsti_domain_clear(&d);
    return ret;
}

int
nst_doc_vcpu_pins(const struct nst_doc *doc, struct nst_cpuset *out,
                  char **err)
{
    static const bool vcpus[] = { [NST_PIN_VCPU] = true,
                                  [NST_PIN_IOTHREAD] = false };
    return doc_pins(doc, vcpus, out, err);
}

int
nst_doc_thread_pins(const struct nst_doc *doc, struct nst_cpuset *out,
                    char **err)
{
    static const bool threads[] = { [NST_PIN_EMULATOR] = true,
                                    [NST_PIN_IOTHREAD] = true };
    return doc_pins(doc, threads, out, err);
}

/* The page uses domain_page_use collects: the array, its count and
 * how many it has room for. */
struct page_uses {
    struct nst_page_use *items;
    size_t n, alloc;
};

static int
add_page_use(struct page_uses *uses, long cell, unsigned long long size_kib,
             unsigned long long kib)
{
    if (cell < 0)
        return 0;
    unsigned long long pages = kib / size_kib + (kib % size_kib != 0);
    for (size_t i = 0; i < uses->n; i++) {
        if (uses->items[i].host_cell == (unsigned int)cell &&
            uses->items[i].size_kib == size_kib) {
            uses->items[i].pages += pages;
            return 0;
        }
    }
    if (NST_GROW(uses->items, uses->n + 1, uses->alloc) < 0)
        return -1;
    uses->items[uses->n++] = (struct nst_page_use){ (unsigned int)cell,
                                                    size_kib, pages };
    return 0;
}

/*
 * The hugepages d takes of each host cell: the pages of a guest cell (or
 * of the whole memory without guest cells) go to the one host node its
 * <numatune> binding names (nsti_numa_bind_node); memory bound to no
 * single node is not counted.  Into uses, which starts empty.  Returns 0,
 * -1 when a size is invalid, -2 when out of memory.
 */
static int
domain_page_use(const struct nst_domain *d, struct page_uses *uses)
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
            if (add_page_use(uses,
                             nsti_numa_bind_node(nsti_domain_binding(d, -1)),
                             page->size_kib, d->memory_kib) < 0)
                return -2;
            continue;
        }
        for (size_t c = 0; c < d->ncells; c++) {
            const struct nst_dom_cell *cell = &d->cells[c];
            unsigned long long kib;
            if (nsti_domain_cell_ram(d, cell, &kib) < 0)
                return -1;
            if ((!page->nodeset || nst_cpuset_test(&page->cells, cell->id))
                && add_page_use(uses, nsti_numa_bind_node(
                                    nsti_domain_binding(d, cell->id)),
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
    struct page_uses found = { 0 };
    int ret = -2;

    if (nsti_domain_read(nsti_doc_root(doc), &d) == 0) {
        ret = domain_page_use(&d, &found);
        nsti_domain_clear(&d);
    }
    *uses = ret == 0 ? found.items : NULL;
    *n = ret == 0 ? found.n : 0;
    if (ret == 0)
        return 0;
    if (ret == -1)
        nst_set_error(err, "domain '%s': invalid hugepage or memory size",
                      nst_doc_domain_name(doc) ? nst_doc_domain_name(doc) :
                      "?");
    else
        nst_set_error(err, "out of memory");
    free(found.items);
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
    int ret = policy_refuse(run, "profile", NULL, err ? err : "out of memory");
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
        policy_refuse(run, "vcpu-pinning", target,
                      msg ? msg : "out of memory");
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
        return policy_oom(run);
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

/* See policy.h. */
int
policy_sync_pins(struct run *run, xmlNodePtr parent, const char *name,
                 const char *id_attr, const char *mode,
                 const char *value_attr, const unsigned int *ids,
                 char **values, size_t n, bool *any)
{
    int failed = 0;

    /* Update or drop the existing ones. */
    for (xmlNodePtr pin = nsti_child(parent, name), next; pin; pin = next) {
        next = nsti_next(pin, name);
        char *id_text = nsti_attr(pin, id_attr);
        unsigned long long id;
        size_t i = n;
        if (id_text && nst_parse_ull(id_text, UINT32_MAX, &id) == 0)
            for (i = 0; i < n && ids[i] != id; i++)
                ;
        free(id_text);
        if (i == n) {
            *any |= changed(&failed, nsti_remove(run->doc, pin));
            continue;
        }
        if (mode)
            *any |= changed(&failed, nsti_set_attr(run->doc, pin, "mode",
                                                  mode));
        *any |= changed(&failed, nsti_set_attr(run->doc, pin, value_attr,
                                              values[i]));
    }
    /* Add the missing ones after the last of their kind. */
    for (size_t i = 0; i < n && !failed; i++) {
        bool present = false;
        for (xmlNodePtr pin = nsti_child(parent, name); pin;
             pin = nsti_next(pin, name)) {
            char *id_text = nsti_attr(pin, id_attr);
            unsigned long long id;
            if (id_text && nst_parse_ull(id_text, UINT32_MAX, &id) == 0 &&
                id == ids[i])
                present = true;
            free(id_text);
        }
        if (present)
            continue;
        xmlNodePtr pin = nsti_insert(run->doc, parent, name,
                                    nst_order_cputune);
        if (!pin || set_number_attr(run->doc, pin, id_attr, ids[i]) < 0 ||
            (mode && nsti_set_attr(run->doc, pin, "mode", mode) < 0) ||
            nsti_set_attr(run->doc, pin, value_attr, values[i]) < 0)
            failed = 1;
        *any = true;
    }
    return failed ? -1 : 0;
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
    [NST_RULE_HYPERV] = { "hyperv", { "hyperv", NULL }, true,
        "gives a Windows guest with nested on the Hyper-V enlightenments "
        "nested Hyper-V (WSL2, VBS) needs" },
    [NST_RULE_MITIGATIONS] = { "mitigations", { "mitigations", NULL }, true,
        "removes the disables of Spectre/MDS mitigations" },
    [NST_RULE_PLACEMENT] = { "placement",
        { "pinning", "numa", "hugepages", NULL }, false,
        "chooses the host cells and CPUs the guest gets" },
    [NST_RULE_IOTHREADS] = { "iothreads", { "iothreads", NULL }, true,
        "gives the virtio disks and virtio-scsi controllers I/O threads "
        "(one shared, or one each)" },
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
    [NST_RULE_REALTIME] = { "realtime", { "realtime", NULL }, true,
        "puts the vCPUs but the housekeeping ones on a realtime scheduler "
        "and locks the guest's memory" },
    [NST_RULE_DISK_CACHE] = { "disk-cache", { "disk-cache", NULL }, true,
        "cache and io mode of local file and block disks" },
    [NST_RULE_NET_QUEUES] = { "net-queues", { "net-queues", NULL }, true,
        "vhost with one queue per vCPU on virtio interfaces" },
    [NST_RULE_BALLOON] = { "balloon", { "balloon", "hugepages", NULL }, true,
        "the memory balloon of a guest whose memory it cannot give back "
        "(hugepages, locked)" },
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
        if (nsti_profile_switch(p, *keys))
            return true;
    return false;
}

static int
step_domain(struct run *run)
{
    return read_domain(run) < 0 || check_profile_cpus(run) < 0 ||
           check_domain_cpus(run) < 0 ? -1 : 0;
}

/* What runs each rule; NULL: its step is another rule's (the pinning
 * rule pins the emulator and I/O threads, the guest-numa rule writes
 * numatune with the cells). */
static int (*const steps[NST_RULE_LAST])(struct run *) = {
    [NST_RULE_DOMAIN] = step_domain,
    [NST_RULE_CPU_MODE] = policy_cpu_mode,
    [NST_RULE_CPU_FEATURE] = policy_cpu_features,
    [NST_RULE_HYPERV] = policy_hyperv,
    [NST_RULE_MITIGATIONS] = policy_mitigations,
    [NST_RULE_PLACEMENT] = policy_place,
    [NST_RULE_VCPU_PINNING] = policy_pinning,
    [NST_RULE_TOPOLOGY] = policy_topology,
    [NST_RULE_GUEST_NUMA] = policy_numa,
    [NST_RULE_HUGEPAGES] = policy_hugepages,
    [NST_RULE_MEMTUNE] = policy_memtune,
    [NST_RULE_CPU_LIMITS] = policy_cpu_limits,
    [NST_RULE_REALTIME] = policy_realtime,
    [NST_RULE_IOTHREADS] = policy_iothreads,
    [NST_RULE_DISK_CACHE] = policy_disk_cache,
    [NST_RULE_NET_QUEUES] = policy_net_queues,
    [NST_RULE_BALLOON] = policy_balloon,
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
    struct nst_cpuset rt;

    if (nsti_domain_read(run->root, &d) < 0)
        return policy_oom(run);
    policy_realtime_vcpus(run->root, &rt);
    for (size_t i = 0; i < d.npins; i++) {
        const struct nst_pin *pin = &d.pins[i];
        if (pin->kind == NST_PIN_VCPU && pin->valid && pin->has_vcpu &&
            nst_cpuset_test(&rt, pin->vcpu))
            nst_cpuset_union(&plan->realtime, &pin->cpus);
        struct nst_cpuset *to = pin->kind == NST_PIN_VCPU ? &plan->vcpus :
                                pin->kind == NST_PIN_EMULATOR ?
                                &plan->emulator :
                                pin->kind == NST_PIN_IOTHREAD ?
                                &plan->iothreads : NULL;
        if (to && pin->valid)
            nst_cpuset_union(to, &pin->cpus);
    }
    struct page_uses pages = { 0 };
    int ret = domain_page_use(&d, &pages);
    plan->pages = pages.items;
    plan->npages = pages.n;
    nsti_domain_clear(&d);
    if (ret == -1)
        nst_plan_clear(plan);
    return ret == -2 ? policy_oom(run) : 0;
}

int
nst_apply(struct nst_doc *doc, const struct nst_apply_options *opts,
          struct nst_report *report, struct nst_plan *plan)
{
    struct run run = {
        .doc = doc,
        .root = nsti_doc_root(doc),
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
    nsti_domain_clear(&run.dom);
    free(run.memdev_cell);
    return ret;
}

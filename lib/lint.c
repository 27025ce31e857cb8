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
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "internal.h"
#include "xmledit.h"

enum {
    R_UNKNOWN_FEATURE,
    R_VIRT_FEATURE,
    R_MITIGATION,
    R_MIGRATABLE,
    R_TOPOLOGY,
    R_SIZE,
    R_PIN_HOST,
    R_PIN_CELLS,
    R_PIN_SHARED,
    R_NUMA_NODE,
    R_PAGE_SIZE,
    R_PAGES_FREE,
    R_PAGE_NODESET,
    R_HARD_LIMIT,
    R_PAGE_TOO_LARGE,
    R_PAGE_BACKING,
    R_PAGE_PIECES,
    R_LS_HOST,
    R_LS_NESTED,
    R_LAST
};

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
    [R_PIN_HOST] = { "VN201", "pin-outside-host", NST_ERROR, true,
        "a CPU pin names CPUs the host does not have" },
    [R_PIN_CELLS] = { "VN202", "pin-spans-cells", NST_WARNING, true,
        "pins that span host NUMA cells where one would do" },
    [R_PIN_SHARED] = { "VN203", "pin-shared", NST_ERROR, false,
        "vCPUs pinned to host CPUs another domain's vCPUs are pinned to" },
    [R_NUMA_NODE] = { "VN204", "numatune-node", NST_ERROR, true,
        "<numatune> binds memory to host NUMA nodes the host does not "
        "have" },
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

struct lint {
    xmlNodePtr root;
    const struct nst_host *host;
    const struct nst_cpuset *taken;
    struct nst_lint_result *res;
    bool oom;
    struct nst_domain dom;       /* read once, for every rule */
};

/* Records a finding; takes the three strings (NULL: out of memory). */
static void
add(struct lint *l, int rule, char *target, char *message, char *fix)
{
    if (!target || !fix) {
        free(target);
        free(message);
        free(fix);
        l->oom = true;
        return;
    }
    l->oom |= nst_findings_add(&l->res->findings, rules[rule].severity,
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

static char *
copy(const char *text)
{
    return nst_printf("%s", text);
}

/* A cpuset as text, a new string; NULL when out of memory (callers
 * print "?" then). */
static char *
format_set(const struct nst_cpuset *set)
{
    return nst_cpuset_format(set);
}

/* --------------------------------------------------------- CPU model */

static void
rule_features(struct lint *l)
{
    xmlNodePtr cpu = nst_child(l->root, "cpu");
    const char *want = nst_host_virt_feature(l->host);

    for (xmlNodePtr f = nst_child(cpu, "feature"); f;
         f = nst_next(f, "feature")) {
        char *name = nst_attr(f, "name");
        char *policy = nst_attr(f, "policy");
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
            add(l, R_UNKNOWN_FEATURE, copy(target),
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
                   nst_feature_policy_adds(policy)) {
            add(l, R_VIRT_FEATURE, copy(target),
                nst_printf("the domain requires '%s', but the host's CPU "
                           "(vendor %s) has %s: libvirt accepts it and the "
                           "guest gets no hardware virtualization", name,
                           nst_vendor_name(l->host->vendor), want),
                nst_printf("require '%s' instead: <feature policy='require' "
                           "name='%s'/>", want, want));
        }
        if (nst_feature_is_mitigation(name) &&
            nst_feature_policy_removes(policy))
            add(l, R_MITIGATION, copy(target),
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
    xmlNodePtr cpu = nst_child(l->root, "cpu");
    const char *want = nst_host_virt_feature(l->host);

    if (!want || !nst_attr_is(cpu, "mode", "host-passthrough") ||
        !nst_attr_is(cpu, "migratable", "on"))
        return;
    add(l, R_MIGRATABLE, copy("/domain/cpu/@migratable"),
        nst_printf("host-passthrough with migratable='on' on a host with "
                   "%s: QEMU hides the host features that block migration, "
                   "and a guest running its own VMs migrates only between "
                   "identical hosts with nested state support", want),
        copy("set migratable='off' when the guest is not live-migrated; "
            "otherwise keep it and migrate only between identical hosts"));
}

/* Reads a topology attribute; absent means def, unreadable 0. */
static unsigned long long
topo_attr(const xmlNode *topo, const char *name, unsigned long long def)
{
    char *text = nst_attr(topo, name);
    unsigned long long n = def;
    if (text && nst_parse_ull(text, NST_MAX_CPUS, &n) < 0)
        n = 0;
    free(text);
    return n;
}

static void
rule_topology(struct lint *l)
{
    xmlNodePtr topo = nst_child(nst_child(l->root, "cpu"), "topology");
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
    add(l, R_TOPOLOGY, copy("/domain/cpu/topology"),
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
    xmlNodePtr vcpu = nst_child(l->root, "vcpu");
    xmlNodePtr memory = nst_child(l->root, "memory");

    if (!l->dom.has_vcpus) {
        char *text = nst_text(vcpu);
        add(l, R_SIZE, copy("/domain/vcpu"),
            nst_printf("<vcpu> '%s' is not a vCPU count from 1 to %d: "
                       "libvirt refuses the domain or cannot start it",
                       text ? text : "", NST_MAX_CPUS),
            copy("give the number of vCPUs, e.g. "
                 "<vcpu placement='static'>4</vcpu>"));
        free(text);
    }
    if (!l->dom.has_memory) {
        char *text = memory ? nst_text(memory) : NULL;
        char *unit = memory ? nst_attr(memory, "unit") : NULL;
        add(l, R_SIZE, copy("/domain/memory"),
            memory ?
            nst_printf("<memory unit='%s'> '%s' is not a size libvirt "
                       "accepts: libvirt refuses the domain",
                       unit ? unit : "KiB", text ? text : "") :
            copy("the domain has no <memory>: libvirt refuses it"),
            copy("give the guest's memory in a unit libvirt knows, e.g. "
                 "<memory unit='KiB'>4194304</memory>"));
        free(text);
        free(unit);
    }
    for (size_t i = 0; i < l->dom.npages; i++) {
        const struct nst_dom_page *p = &l->dom.pages[i];
        if (!p->has_size)
            add(l, R_SIZE,
                nst_printf("/domain/memoryBacking/hugepages/page[@size='%s']",
                           p->size ? p->size : ""),
                nst_printf("<page size='%s' unit='%s'> is not a hugepage "
                           "size libvirt accepts: libvirt refuses the domain",
                           p->size ? p->size : "", p->unit ? p->unit : "KiB"),
                copy("give the page size in a unit libvirt knows, e.g. "
                     "<page size='2048' unit='KiB'/>"));
    }
}

/* ------------------------------------------------------------ pinning */

/* One CPU pin of the domain (l->dom.pins[i]) with where it is and what
 * it names in findings. */
struct pin {
    char *target;                /* "/domain/cputune/vcpupin[@vcpu='0']" */
    char *what;                  /* "vcpupin of vCPU 0" */
    bool vcpu;                   /* a vcpupin with a vCPU id */
    unsigned long long vcpu_id;
    bool emulator;
    bool valid;
    struct nst_cpuset cpus;
    const char *text;            /* the cpuset as written */
};

static void
pins_free(struct pin *pins, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(pins[i].target);
        free(pins[i].what);
    }
    free(pins);
}

/* Names every pin of the domain: <vcpu cpuset>, vcpupin, emulatorpin,
 * iothreadpin. */
static int
read_pins(struct lint *l, struct pin **pins, size_t *n)
{
    *n = 0;
    if (!l->dom.npins) {
        *pins = NULL;
        return 0;
    }
    if (!(*pins = calloc(l->dom.npins, sizeof(**pins))))
        return -1;
    for (size_t i = 0; i < l->dom.npins; i++) {
        const struct nst_pin *d = &l->dom.pins[i];
        const char *id = d->id ? d->id : "";
        struct pin *p = &(*pins)[(*n)++];
        switch (d->kind) {
        case NST_PIN_VCPU_CPUSET:
            p->target = copy("/domain/vcpu/@cpuset");
            p->what = copy("<vcpu cpuset>");
            break;
        case NST_PIN_VCPU:
            p->target = nst_printf("/domain/cputune/vcpupin[@vcpu='%s']",
                                   id);
            p->what = nst_printf("vcpupin of vCPU %s", d->id ? id : "?");
            break;
        case NST_PIN_EMULATOR:
            p->target = copy("/domain/cputune/emulatorpin");
            p->what = copy("emulatorpin");
            break;
        case NST_PIN_IOTHREAD:
            p->target = nst_printf("/domain/cputune/iothreadpin"
                                   "[@iothread='%s']", id);
            p->what = nst_printf("iothreadpin of I/O thread %s",
                                 d->id ? id : "?");
            break;
        }
        if (!p->target || !p->what)
            return -1;
        p->vcpu = d->has_vcpu;
        p->vcpu_id = d->vcpu;
        p->emulator = d->kind == NST_PIN_EMULATOR;
        p->valid = d->valid;
        p->cpus = d->cpus;
        p->text = d->text;
    }
    return 0;
}

/* The host cells (as a set of cell ids) that cpus belong to. */
static void
cells_of(const struct nst_host *host, const struct nst_cpuset *cpus,
         struct nst_cpuset *cells)
{
    nst_cpuset_clear_all(cells);
    for (size_t i = 0; i < host->ncells; i++)
        if (nst_cpuset_intersects(&host->cells[i].cpus, cpus))
            nst_cpuset_set(cells, host->cells[i].id);
}

static void
rule_pins_host(struct lint *l, const struct pin *pins, size_t n)
{
    struct nst_cpuset all;
    nst_host_all_cpus(l->host, &all);
    char *all_text = format_set(&all);

    for (size_t i = 0; i < n; i++) {
        const struct pin *p = &pins[i];
        if (!p->valid) {
            add(l, R_PIN_HOST, copy(p->target),
                nst_printf("%s: cpuset '%s' is not a CPU list libvirt "
                           "accepts", p->what, p->text ? p->text : ""),
                nst_printf("write it as libvirt does, e.g. '0-3,8'; the "
                           "host has %s", all_text ? all_text : "?"));
            continue;
        }
        struct nst_cpuset outside = p->cpus;
        nst_cpuset_subtract(&outside, &all);
        if (nst_cpuset_is_empty(&outside))
            continue;
        char *text = format_set(&outside);
        add(l, R_PIN_HOST, copy(p->target),
            nst_printf("%s names host CPU(s) %s, which the host does not "
                       "have (it has %s): the domain does not start",
                       p->what, text ? text : "?", all_text ? all_text : "?"),
            nst_printf("pin to host CPUs in %s", all_text ? all_text : "?"));
        free(text);
    }
    free(all_text);
}

/* The guest cell ids of vCPUs: cell[v] for v < vcpus, -1 when none. */
static int *
guest_cell_of_vcpu(struct lint *l, size_t *ncells)
{
    int *cell = malloc(l->dom.vcpus * sizeof(*cell));

    *ncells = 0;
    if (!cell)
        return NULL;
    for (unsigned int v = 0; v < l->dom.vcpus; v++)
        cell[v] = -1;
    for (size_t i = 0; i < l->dom.ncells; i++) {
        const struct nst_dom_cell *c = &l->dom.cells[i];
        if (!c->has_id || c->id >= NST_MAX_GUEST_CELLS || !c->has_cpus)
            continue;
        for (unsigned int v = 0; v < l->dom.vcpus; v++)
            if (nst_cpuset_test(&c->cpus, v))
                cell[v] = (int)c->id;
        (*ncells)++;
    }
    return cell;
}

static void
rule_pins_cells(struct lint *l, const struct pin *pins, size_t n)
{
    /* Group 0: vCPUs without a guest cell; group g: guest cell g - 1. */
    enum { NGROUPS = NST_MAX_GUEST_CELLS + 1 };
    struct nst_cpuset cells, vcpu_cells;
    bool single_spans[NGROUPS] = { false };
    size_t nguest = 0;
    int *cell_of = NULL;
    struct nst_cpuset *group_cpus = NULL, *group_vcpus = NULL;

    if (l->host->ncells < 2)
        return;
    /* calloc clears the sets: an all-zero set is empty. */
    if ((l->dom.has_vcpus && !(cell_of = guest_cell_of_vcpu(l, &nguest))) ||
        !(group_cpus = calloc(NGROUPS, sizeof(*group_cpus))) ||
        !(group_vcpus = calloc(NGROUPS, sizeof(*group_vcpus)))) {
        l->oom = true;
        goto out;
    }
    nst_cpuset_clear_all(&vcpu_cells);
    /* Each vCPU pin on its own, grouped by guest cell (group 0 for a
     * guest without <numa>: it sees one memory node). */
    for (size_t i = 0; i < n; i++) {
        const struct pin *p = &pins[i];
        if (!p->valid || !p->vcpu)
            continue;
        cells_of(l->host, &p->cpus, &cells);
        nst_cpuset_union(&vcpu_cells, &cells);
        size_t g = 0;
        if (cell_of && nguest && p->vcpu_id < l->dom.vcpus &&
            cell_of[p->vcpu_id] >= 0)
            g = (size_t)cell_of[p->vcpu_id] + 1;
        nst_cpuset_union(&group_cpus[g], &p->cpus);
        nst_cpuset_set(&group_vcpus[g], (unsigned int)p->vcpu_id);
        if (nst_cpuset_count(&cells) > 1) {
            single_spans[g] = true;
            char *text = format_set(&cells);
            add(l, R_PIN_CELLS, copy(p->target),
                nst_printf("%s may run on host cells %s: part of the time "
                           "its memory is on another cell", p->what,
                           text ? text : "?"),
                nst_printf("pin vCPU %llu within one host cell", p->vcpu_id));
            free(text);
        }
    }
    for (size_t g = 0; g < NGROUPS; g++) {
        if (single_spans[g] || nst_cpuset_is_empty(&group_cpus[g]))
            continue;
        cells_of(l->host, &group_cpus[g], &cells);
        if (nst_cpuset_count(&cells) < 2)
            continue;
        char *text = format_set(&cells), *vcpus = format_set(&group_vcpus[g]);
        add(l, R_PIN_CELLS, copy("/domain/cputune/vcpupin"),
            g == 0 ?
            nst_printf("vCPUs %s are pinned across host cells %s but the "
                       "guest has one NUMA cell: it cannot keep memory "
                       "near the vCPUs that use it", vcpus ? vcpus : "?",
                       text ? text : "?") :
            nst_printf("vCPUs %s of guest NUMA cell %zu are pinned across "
                       "host cells %s: the cell's memory is remote for some "
                       "of them", vcpus ? vcpus : "?", g - 1,
                       text ? text : "?"),
            copy("pin each guest NUMA cell's vCPUs within one host cell, "
                "one guest cell per host cell used, as the perf profile "
                "does"));
        free(text);
        free(vcpus);
    }
    /* The emulator belongs near the vCPUs, not spread beyond them. */
    for (size_t i = 0; i < n; i++) {
        const struct pin *p = &pins[i];
        if (!p->valid || !p->emulator)
            continue;
        cells_of(l->host, &p->cpus, &cells);
        struct nst_cpuset beyond = cells;
        nst_cpuset_subtract(&beyond, &vcpu_cells);
        if (nst_cpuset_count(&cells) < 2 || nst_cpuset_is_empty(&vcpu_cells)
            || nst_cpuset_is_empty(&beyond))
            continue;
        char *text = format_set(&cells), *near = format_set(&vcpu_cells);
        add(l, R_PIN_CELLS, copy(p->target),
            nst_printf("emulatorpin spans host cells %s, beyond the cells "
                       "of the vCPUs (%s): emulator threads touch guest "
                       "memory from afar", text ? text : "?",
                       near ? near : "?"),
            nst_printf("pin the emulator to CPUs of host cell(s) %s",
                       near ? near : "?"));
        free(text);
        free(near);
    }
 out:
    free(cell_of);
    free(group_cpus);
    free(group_vcpus);
}

static void
rule_pins_shared(struct lint *l)
{
    struct nst_cpuset pins;

    nst_cpuset_clear_all(&pins);
    if (!l->taken)
        return;
    for (size_t i = 0; i < l->dom.npins; i++) {
        const struct nst_pin *p = &l->dom.pins[i];
        if (p->kind != NST_PIN_VCPU || !p->text)
            continue;
        if (!p->valid)      /* VN201 reports it */
            return;
        nst_cpuset_union(&pins, &p->cpus);
    }
    nst_cpuset_intersect(&pins, l->taken);
    if (nst_cpuset_is_empty(&pins))
        return;
    char *text = format_set(&pins);
    add(l, R_PIN_SHARED, copy("/domain/cputune/vcpupin"),
        nst_printf("vCPUs pinned to host CPU(s) %s, which other domains' "
                   "vCPUs are pinned to: they take turns on those CPUs and "
                   "pinning guarantees nothing", text ? text : "?"),
        copy("pin to host CPUs no other domain pins; virt-nestify --profile "
            "perf places it on free ones"));
    free(text);
}

/* Whether element a comes before element b among their siblings. */
static bool
precedes(const xmlNode *a, const xmlNode *b)
{
    for (const xmlNode *n = a; n; n = n->next)
        if (n == b)
            return true;
    return false;
}

static void
numa_node_check(struct lint *l, const struct nst_numa_bind *b,
                const struct nst_cpuset *all, const char *all_text)
{
    if (!b->has_nodes)
        return;
    struct nst_cpuset set = b->nodes;
    bool memnode = b != &l->dom.numa_memory;
    nst_cpuset_subtract(&set, all);
    if (nst_cpuset_is_empty(&set))
        return;
    char *text = format_set(&set);
    add(l, R_NUMA_NODE, memnode ?
        nst_printf("/domain/numatune/memnode[@cellid='%s']",
                   b->cellid ? b->cellid : "") :
        copy("/domain/numatune/memory"),
        nst_printf("<%s nodeset='%s'> names host NUMA node(s) %s, which "
                   "the host does not have (it has %s): the domain does "
                   "not start", memnode ? "memnode" : "memory", b->nodeset,
                   text ? text : "?", all_text ? all_text : "?"),
        nst_printf("bind to host nodes in %s", all_text ? all_text : "?"));
    free(text);
}

static void
rule_numa_nodes(struct lint *l)
{
    const struct nst_numa_bind *memory = &l->dom.numa_memory;
    struct nst_cpuset all;
    bool memory_done = !memory->node;

    nst_cpuset_clear_all(&all);
    for (size_t i = 0; i < l->host->ncells; i++)
        nst_cpuset_set(&all, l->host->cells[i].id);
    char *all_text = format_set(&all);
    /* In document order, <memory> where it stands among the memnodes. */
    for (size_t i = 0; i < l->dom.nmemnodes; i++) {
        if (!memory_done && precedes(memory->node, l->dom.memnodes[i].node)) {
            numa_node_check(l, memory, &all, all_text);
            memory_done = true;
        }
        numa_node_check(l, &l->dom.memnodes[i], &all, all_text);
    }
    if (!memory_done)
        numa_node_check(l, memory, &all, all_text);
    free(all_text);
}

/* ------------------------------------------------------------- memory */

/* Guest NUMA cell ids the domain defines. */
static void
guest_cells(struct lint *l, struct nst_cpuset *ids)
{
    nst_cpuset_clear_all(ids);
    for (size_t i = 0; i < l->dom.ncells; i++)
        if (l->dom.cells[i].has_id)
            nst_cpuset_set(ids, l->dom.cells[i].id);
}

static void
rule_page_nodeset(struct lint *l)
{
    struct nst_cpuset ids;

    guest_cells(l, &ids);
    for (size_t i = 0; i < l->dom.npages; i++) {
        const char *nodeset = l->dom.pages[i].nodeset;
        if (!l->dom.pages[i].has_cells) {
            if (nodeset)
                add(l, R_PAGE_NODESET, nst_printf(
                        "/domain/memoryBacking/hugepages/page"
                        "[@nodeset='%s']", nodeset),
                    nst_printf("<page nodeset='%s'> is not a list of guest "
                               "NUMA cells", nodeset),
                    copy("list guest cell ids, e.g. nodeset='0-1'"));
            continue;
        }
        struct nst_cpuset missing = l->dom.pages[i].cells;
        nst_cpuset_subtract(&missing, &ids);
        if (!nst_cpuset_is_empty(&missing)) {
            char *text = format_set(&missing);
            add(l, R_PAGE_NODESET, nst_printf(
                    "/domain/memoryBacking/hugepages/page[@nodeset='%s']",
                    nodeset),
                nst_cpuset_is_empty(&ids) ?
                nst_printf("<page nodeset='%s'> names guest NUMA cell(s) %s "
                           "but the guest has no <cpu><numa> cells: "
                           "libvirt refuses it (nodeset means guest cells, "
                           "not host nodes)", nodeset, text ? text : "?") :
                nst_printf("<page nodeset='%s'> names guest NUMA cell(s) %s "
                           "that <cpu><numa> does not define: libvirt "
                           "refuses it", nodeset, text ? text : "?"),
                nst_cpuset_is_empty(&ids) ?
                copy("remove nodeset (one page size for all guest memory), "
                    "or define guest NUMA cells in <cpu><numa>; host nodes "
                    "go in <numatune>") :
                copy("name only cells <cpu><numa> defines"));
            free(text);
        }
    }
}

/*
 * The host cells the memory of the guest cells in ids may come from
 * (NULL or empty: all the guest's memory, that is of every guest cell,
 * or the whole memory of a guest without cells): for each, the nodes
 * its <numatune> binding keeps it to (nst_domain_binding), every cell
 * where none does.
 */
static void
memory_cells(struct lint *l, const struct nst_cpuset *ids,
             struct nst_cpuset *cells)
{
    struct nst_cpuset all, nodes, every;

    nst_cpuset_clear_all(&all);
    for (size_t i = 0; i < l->host->ncells; i++)
        nst_cpuset_set(&all, l->host->cells[i].id);
    if (!ids || nst_cpuset_is_empty(ids)) {
        guest_cells(l, &every);
        ids = &every;
    }
    nst_cpuset_clear_all(cells);
    if (nst_cpuset_is_empty(ids)) {
        if (nst_numa_bind_confines(nst_domain_binding(&l->dom, -1), &nodes))
            nst_cpuset_union(cells, &nodes);
        else
            *cells = all;
    }
    for (int id = nst_cpuset_next(ids, 0); id >= 0;
         id = nst_cpuset_next(ids, (unsigned int)id + 1)) {
        if (nst_numa_bind_confines(nst_domain_binding(&l->dom, id), &nodes))
            nst_cpuset_union(cells, &nodes);
        else
            nst_cpuset_union(cells, &all);
    }
    /* Nodes the host lacks give nothing (VN204 reports them). */
    nst_cpuset_intersect(cells, &all);
}

/* The host's default hugepage size: the smallest one above the base
 * page (2 MiB on x86), or 0 when the host has none. */
static unsigned long long
default_page_size(const struct nst_host *host)
{
    unsigned long long best = 0;
    for (size_t i = 0; i < host->ncells; i++)
        for (size_t p = 0; p < host->cells[i].npages; p++) {
            unsigned long long s = host->cells[i].pages[p].size_kib;
            if (s > 4 && (!best || s < best))
                best = s;
        }
    return best;
}

/* Free pages of size in cells; *known false when no cell has the size. */
static unsigned long long
free_pages(const struct nst_host *host, const struct nst_cpuset *cells,
           unsigned long long size, bool *known)
{
    unsigned long long n = 0;
    *known = false;
    for (size_t i = 0; i < host->ncells; i++) {
        const struct nst_pages *pages = nst_cell_pages(&host->cells[i], size);
        *known |= pages != NULL;
        if (pages && nst_cpuset_test(cells, host->cells[i].id))
            n += pages->free;
    }
    return n;
}

/* The host's hugepage sizes, "2048, 1048576 KiB" (a new string). */
static char *
host_sizes(const struct nst_host *host)
{
    struct nst_buf buf = { 0 };
    unsigned long long listed[NST_MAX_PAGE_SIZES * 4];
    size_t n = 0;
    for (size_t i = 0; i < host->ncells; i++)
        for (size_t p = 0; p < host->cells[i].npages; p++) {
            unsigned long long s = host->cells[i].pages[p].size_kib;
            bool seen = s <= 4;
            for (size_t k = 0; k < n && !seen; k++)
                seen = listed[k] == s;
            if (!seen && n < sizeof(listed) / sizeof(*listed)) {
                listed[n++] = s;
                nst_buf_addf(&buf, "%s%llu", n > 1 ? ", " : "", s);
            }
        }
    nst_buf_adds(&buf, n ? " KiB" : "none");
    return nst_buf_finish(&buf, NULL);
}

/* Guest memory of the guest cells in ids, in KiB, with the RAM of the
 * memory devices that target them (as the policy counts it). */
static unsigned long long
cells_memory(struct lint *l, const struct nst_cpuset *ids)
{
    unsigned long long total = 0;

    for (size_t d = 0; d < l->dom.nmemdevs; d++)
        if (l->dom.memdevs[d].target >= 0 &&
            nst_cpuset_test(ids, (unsigned int)l->dom.memdevs[d].target))
            total += l->dom.memdevs[d].ram_kib;
    for (size_t i = 0; i < l->dom.ncells; i++) {
        const struct nst_dom_cell *c = &l->dom.cells[i];
        if (c->has_id && nst_cpuset_test(ids, c->id) && c->has_memory)
            total += c->memory_kib;
    }
    return total;
}

/* Checks hugepages of size for need_kib of the memory of guest cells
 * ids (NULL: all of it). */
static void
check_pages(struct lint *l, const xmlNode *page, unsigned long long size,
            unsigned long long need_kib, const struct nst_cpuset *ids,
            const char *target)
{
    struct nst_cpuset cells;
    bool known;

    memory_cells(l, ids, &cells);
    unsigned long long have = free_pages(l->host, &cells, size, &known);
    if (!known) {
        char *sizes = host_sizes(l->host);
        add(l, R_PAGE_SIZE, copy(target),
            nst_printf("hugepages of %llu KiB%s, a size the host does not "
                       "have (it has %s): the domain does not start", size,
                       page ? "" : " (the host's default size)",
                       sizes ? sizes : "?"),
            nst_printf("use one of the host's sizes, %s; or remove "
                       "<hugepages>", sizes ? sizes : "?"));
        free(sizes);
        return;
    }
    unsigned long long need = (need_kib + size - 1) / size;
    if (need <= have)
        return;
    char *text = format_set(&cells);
    add(l, R_PAGES_FREE, copy(target),
        nst_printf("%llu KiB of guest memory on %llu KiB hugepages needs %llu "
                   "pages, host node(s) %s have %llu free: the domain does "
                   "not start", need_kib, size, need, text ? text : "?",
                   have),
        nst_printf("reserve %llu more %llu KiB pages on host node(s) %s "
                   "in /sys/devices/system/node/nodeN/hugepages, or use a "
                   "size the host has free, or remove <hugepages>",
                   need - have, size, text ? text : "?"));
    free(text);
}

static void
rule_hugepages(struct lint *l)
{
    if (!l->dom.hugepages || !l->dom.has_memory)
        return;
    if (!l->dom.npages) {
        unsigned long long size = default_page_size(l->host);
        if (!size) {
            add(l, R_PAGE_SIZE, copy("/domain/memoryBacking/hugepages"),
                copy("<hugepages> asks for the host's default hugepages, "
                    "but the host has no hugepage size: the domain does "
                    "not start"),
                copy("remove <hugepages>, or run it on a host with "
                    "hugepages"));
            return;
        }
        check_pages(l, NULL, size, l->dom.memory_kib, NULL,
                    "/domain/memoryBacking/hugepages");
        return;
    }
    for (size_t i = 0; i < l->dom.npages; i++) {
        const struct nst_dom_page *p = &l->dom.pages[i];
        unsigned long long need = l->dom.memory_kib;
        char *target = p->nodeset ?
            nst_printf("/domain/memoryBacking/hugepages/page[@nodeset='%s']",
                       p->nodeset) :
            copy("/domain/memoryBacking/hugepages/page");
        /* A page per guest cell set: that part of the memory. */
        if (p->has_cells)
            need = cells_memory(l, &p->cells);
        /* A size larger than the memory is VN305's: no count of free
         * pages would start the guest. */
        if (target && p->has_size && p->size_kib <= need)
            check_pages(l, p->node, p->size_kib, need,
                        p->has_cells ? &p->cells : NULL, target);
        free(target);
    }
}

/*
 * QEMU refuses a hugepage backend smaller than one page ("memory size
 * ... must be equal to or larger than page size"): a <page> larger than
 * the whole guest, or than a guest cell it backs, keeps the domain from
 * starting however many pages are free.  The policy's hugepages rule
 * never picks such a size (nst_cell_pages_fit) and replaces one.
 */
static void
rule_page_too_large(struct lint *l)
{
    for (size_t i = 0; i < l->dom.npages; i++) {
        const struct nst_dom_page *p = &l->dom.pages[i];
        unsigned long long size = p->size_kib, mem = 0;
        long cell = -1;             /* the guest cell too small, or -1 */
        bool small = false;

        if (!p->has_size)
            continue;
        if (!l->dom.ncells) {
            mem = l->dom.memory_kib;
            small = l->dom.has_memory && mem < size;
        }
        for (size_t k = 0; k < l->dom.ncells && !small; k++) {
            const struct nst_dom_cell *c = &l->dom.cells[k];
            if (c->has_id && (!p->has_cells ||
                              nst_cpuset_test(&p->cells, c->id)) &&
                c->has_memory && c->memory_kib < size) {
                small = true;
                mem = c->memory_kib;
                cell = (long)c->id;
            }
        }
        if (!small)
            continue;
        char *whose = cell < 0 ? copy("the guest's memory") :
                      nst_printf("guest NUMA cell %ld's memory", cell);
        add(l, R_PAGE_TOO_LARGE, p->nodeset ?
            nst_printf("/domain/memoryBacking/hugepages/page"
                       "[@nodeset='%s']", p->nodeset) :
            copy("/domain/memoryBacking/hugepages/page"),
            nst_printf("hugepages of %llu KiB are larger than %s, %llu "
                       "KiB: QEMU refuses to start a guest whose memory "
                       "is smaller than one page", size,
                       whose ? whose : "?", mem),
            copy("use a page size that divides that memory, such as "
                 "2048 KiB on x86, or remove <hugepages>"));
        free(whose);
    }
}

/*
 * With memory devices QEMU backs each guest cell's own memory and each
 * DIMM on its own, and a backend that is not a whole number of pages
 * does not start: the size must divide each piece, not only the sum
 * (the policy's hugepages rule picks sizes that do, page_divides_pieces).
 * A <page> covers the cells of its nodeset (all without one) and the
 * DIMMs those cells hold; one finding per <page>, naming the first piece.
 */
static void
rule_page_pieces(struct lint *l)
{
    const struct nst_domain *d = &l->dom;

    if (!d->memdevs_valid || !d->nmemdevs)
        return;     /* no devices: one backend per cell, VN305's case */
    for (size_t i = 0; i < d->npages; i++) {
        const struct nst_dom_page *p = &d->pages[i];
        unsigned long long size = p->size_kib, piece = 0;
        char *what = NULL;

        if (!p->has_size)
            continue;
        for (size_t k = 0; k < d->ncells && !what; k++) {
            const struct nst_dom_cell *c = &d->cells[k];
            if (c->has_id && c->has_memory &&
                (!p->has_cells || nst_cpuset_test(&p->cells, c->id)) &&
                c->memory_kib % size) {
                piece = c->memory_kib;
                what = nst_printf("guest NUMA cell %u's own memory", c->id);
            }
        }
        for (size_t k = 0; k < d->nmemdevs && !what; k++) {
            const struct nst_memdev *m = &d->memdevs[k];
            if (strcmp(m->model, "dimm") == 0 && m->size_kib % size &&
                (!p->has_cells || (m->target >= 0 &&
                                   nst_cpuset_test(&p->cells,
                                                   (unsigned int)m->target)))) {
                piece = m->size_kib;
                what = nst_printf("DIMM %zu (<memory model='dimm'>)", k + 1);
            }
        }
        if (!what)
            continue;
        add(l, R_PAGE_PIECES, p->nodeset ?
            nst_printf("/domain/memoryBacking/hugepages/page"
                       "[@nodeset='%s']", p->nodeset) :
            copy("/domain/memoryBacking/hugepages/page"),
            nst_printf("hugepages of %llu KiB do not divide %s, %llu KiB: "
                       "QEMU backs each guest cell's memory and each DIMM on "
                       "its own and does not start one that is not a whole "
                       "number of pages", size, what, piece),
            copy("use a page size that divides every guest cell and DIMM, "
                 "such as 2048 KiB on x86, or resize them"));
        free(what);
    }
}

/* The pairs libvirt refuses at define (nst_backing_conflict); a file
 * source beside <hugepages> is the operator's choice and defines. */
static void
rule_hugepages_backing(struct lint *l)
{
    const struct nst_backing_conflict c = l->dom.backing_conflict;

    if (!l->dom.hugepages || !l->dom.has_backing_conflict || !c.refused)
        return;
    add(l, R_PAGE_BACKING, copy("/domain/memoryBacking/hugepages"),
        nst_printf("<hugepages> beside %s: %s: the domain does not define",
                   c.element, c.why),
        nst_printf("remove <hugepages> or %s", c.element));
}

static void
rule_hard_limit(struct lint *l)
{
    xmlNodePtr hard = nst_child(nst_child(l->root, "memtune"), "hard_limit");
    unsigned long long limit;

    if (!hard || !l->dom.has_memory || nst_read_kib(hard, &limit) < 0 ||
        limit >= l->dom.memory_kib)
        return;
    add(l, R_HARD_LIMIT, copy("/domain/memtune/hard_limit"),
        nst_printf("memtune hard_limit %llu KiB is below the guest's memory "
                   "%llu KiB: the kernel kills QEMU once the guest uses its "
                   "memory", limit, l->dom.memory_kib),
        copy("raise it above the memory plus QEMU's overhead, as the "
            "secure profile does, or remove <hard_limit>"));
}

/* ------------------------------------------------ confidential guests */

static void
rule_launch_security(struct lint *l)
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
        add(l, R_LS_HOST, copy("/domain/launchSecurity"),
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
    for (xmlNodePtr f = nst_child(nst_child(l->root, "cpu"), "feature"); f;
         f = nst_next(f, "feature")) {
        char *name = nst_attr(f, "name");
        char *policy = nst_attr(f, "policy");
        if (nst_feature_is_virt(name) && nst_feature_policy_adds(policy))
            add(l, R_LS_NESTED,
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

/* -------------------------------------------------------------- run */

int
nst_lint(const struct nst_doc *doc, const struct nst_lint_options *opts,
         const char *label, struct nst_lint_result *out)
{
    struct lint l = {
        .root = nst_doc_root(doc),
        .host = opts->host,
        .taken = opts->taken,
        .res = out,
    };
    const char *name = nst_doc_domain_name(doc);
    struct pin *pins = NULL;
    size_t npins = 0;

    memset(out, 0, sizeof(*out));
    out->domain = name ? copy(name) : NULL;
    out->label = copy(label ? label : name ? name : "?");
    out->host_checked = l.host != NULL;
    if ((name && !out->domain) || !out->label) {
        nst_lint_result_clear(out);
        return -1;
    }
    if (nst_domain_read(l.root, &l.dom) < 0) {
        nst_lint_result_clear(out);
        return -1;
    }

    rule_features(&l);
    if (l.host)
        rule_migratable(&l);
    rule_topology(&l);
    rule_size(&l);
    if (l.host) {
        if (read_pins(&l, &pins, &npins) < 0)
            l.oom = true;
        rule_pins_host(&l, pins, npins);
        rule_pins_cells(&l, pins, npins);
    }
    rule_pins_shared(&l);
    if (l.host) {
        rule_numa_nodes(&l);
        rule_hugepages(&l);
    }
    rule_page_nodeset(&l);
    rule_hard_limit(&l);
    rule_page_too_large(&l);
    rule_page_pieces(&l);
    rule_hugepages_backing(&l);
    rule_launch_security(&l);
    pins_free(pins, npins);
    nst_domain_clear(&l.dom);

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

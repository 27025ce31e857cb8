/*
 * lint-pinning.c: the lint rules on CPU pins and the numatune nodes
 */
#include <stdlib.h>
#include <string.h>

#include "lint-rules.h"

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
            p->target = lint_copy("/domain/vcpu/@cpuset");
            p->what = lint_copy("<vcpu cpuset>");
            break;
        case NST_PIN_VCPU:
            p->target = nst_printf("/domain/cputune/vcpupin[@vcpu='%s']",
                                   id);
            p->what = nst_printf("vcpupin of vCPU %s", d->id ? id : "?");
            break;
        case NST_PIN_EMULATOR:
            p->target = lint_copy("/domain/cputune/emulatorpin");
            p->what = lint_copy("emulatorpin");
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
    char *all_text = nst_cpuset_format(&all);

    for (size_t i = 0; i < n; i++) {
        const struct pin *p = &pins[i];
        if (!p->valid) {
            lint_add(l, R_PIN_HOST, lint_copy(p->target),
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
        char *text = nst_cpuset_format(&outside);
        lint_add(l, R_PIN_HOST, lint_copy(p->target),
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

/* vCPU pins grouped by guest cell: group 0 the vCPUs without one (a
 * guest without <numa> sees one memory node), group g guest cell g - 1;
 * a group's host CPUs and vCPUs, and whether one of its pins spans
 * cells on its own (VN202 said so for that pin). */
enum { NGROUPS = NST_MAX_GUEST_CELLS + 1 };
struct pin_groups {
    struct nst_cpuset cpus[NGROUPS], vcpus[NGROUPS];
    bool single_spans[NGROUPS];
    struct nst_cpuset vcpu_cells;   /* host cells of every vCPU pin */
};

/* Each vCPU pin on its own: one spanning host cells is a finding; all
 * go into their group. */
static void
pins_cells_each(struct lint *l, const struct pin *pins, size_t n,
                const int *cell_of, size_t nguest, struct pin_groups *gr)
{
    struct nst_cpuset cells;

    for (size_t i = 0; i < n; i++) {
        const struct pin *p = &pins[i];
        if (!p->valid || !p->vcpu)
            continue;
        cells_of(l->host, &p->cpus, &cells);
        nst_cpuset_union(&gr->vcpu_cells, &cells);
        size_t g = 0;
        if (cell_of && nguest && p->vcpu_id < l->dom.vcpus &&
            cell_of[p->vcpu_id] >= 0)
            g = (size_t)cell_of[p->vcpu_id] + 1;
        nst_cpuset_union(&gr->cpus[g], &p->cpus);
        nst_cpuset_set(&gr->vcpus[g], (unsigned int)p->vcpu_id);
        if (nst_cpuset_count(&cells) > 1) {
            gr->single_spans[g] = true;
            char *text = nst_cpuset_format(&cells);
            lint_add(l, R_PIN_CELLS, lint_copy(p->target),
                nst_printf("%s may run on host cells %s: part of the time "
                           "its memory is on another cell", p->what,
                           text ? text : "?"),
                nst_printf("pin vCPU %llu within one host cell", p->vcpu_id));
            free(text);
        }
    }
}

/* A group whose pins together span host cells, none alone. */
static void
pins_cells_groups(struct lint *l, const struct pin_groups *gr)
{
    struct nst_cpuset cells;

    for (size_t g = 0; g < NGROUPS; g++) {
        if (gr->single_spans[g] || nst_cpuset_is_empty(&gr->cpus[g]))
            continue;
        cells_of(l->host, &gr->cpus[g], &cells);
        if (nst_cpuset_count(&cells) < 2)
            continue;
        char *text = nst_cpuset_format(&cells);
        char *vcpus = nst_cpuset_format(&gr->vcpus[g]);
        lint_add(l, R_PIN_CELLS, lint_copy("/domain/cputune/vcpupin"),
            g == 0 ?
            nst_printf("vCPUs %s are pinned across host cells %s but the "
                       "guest has one NUMA cell: it cannot keep memory "
                       "near the vCPUs that use it", vcpus ? vcpus : "?",
                       text ? text : "?") :
            nst_printf("vCPUs %s of guest NUMA cell %zu are pinned across "
                       "host cells %s: the cell's memory is remote for some "
                       "of them", vcpus ? vcpus : "?", g - 1,
                       text ? text : "?"),
            lint_copy("pin each guest NUMA cell's vCPUs within one host "
                      "cell, one guest cell per host cell used, as the perf "
                      "profile does"));
        free(text);
        free(vcpus);
    }
}

/* The emulator belongs near the vCPUs, not spread beyond them. */
static void
pins_cells_emulator(struct lint *l, const struct pin *pins, size_t n,
                    const struct nst_cpuset *vcpu_cells)
{
    struct nst_cpuset cells;

    for (size_t i = 0; i < n; i++) {
        const struct pin *p = &pins[i];
        if (!p->valid || !p->emulator)
            continue;
        cells_of(l->host, &p->cpus, &cells);
        struct nst_cpuset beyond = cells;
        nst_cpuset_subtract(&beyond, vcpu_cells);
        if (nst_cpuset_count(&cells) < 2 || nst_cpuset_is_empty(vcpu_cells)
            || nst_cpuset_is_empty(&beyond))
            continue;
        char *text = nst_cpuset_format(&cells);
        char *near = nst_cpuset_format(vcpu_cells);
        lint_add(l, R_PIN_CELLS, lint_copy(p->target),
            nst_printf("emulatorpin spans host cells %s, beyond the cells "
                       "of the vCPUs (%s): emulator threads touch guest "
                       "memory from afar", text ? text : "?",
                       near ? near : "?"),
            nst_printf("pin the emulator to CPUs of host cell(s) %s",
                       near ? near : "?"));
        free(text);
        free(near);
    }
}

static void
rule_pins_cells(struct lint *l, const struct pin *pins, size_t n)
{
    size_t nguest = 0;
    int *cell_of = NULL;
    struct pin_groups *gr = NULL;

    if (l->host->ncells < 2)
        return;
    /* calloc clears the sets: an all-zero set is empty. */
    if ((l->dom.has_vcpus && !(cell_of = guest_cell_of_vcpu(l, &nguest))) ||
        !(gr = calloc(1, sizeof(*gr)))) {
        l->oom = true;
        free(cell_of);
        return;
    }
    pins_cells_each(l, pins, n, cell_of, nguest, gr);
    pins_cells_groups(l, gr);
    pins_cells_emulator(l, pins, n, &gr->vcpu_cells);
    free(cell_of);
    free(gr);
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
    char *text = nst_cpuset_format(&pins);
    lint_add(l, R_PIN_SHARED, lint_copy("/domain/cputune/vcpupin"),
        nst_printf("vCPUs pinned to host CPU(s) %s, which other domains' "
                   "vCPUs are pinned to: they take turns on those CPUs and "
                   "pinning guarantees nothing", text ? text : "?"),
        lint_copy("pin to host CPUs no other domain pins; the perf profile "
            "places it on free ones"));
    free(text);
}

/*
 * A vCPU on fifo or rr runs until it yields: unpinned, the host's
 * scheduler moves it over every CPU the guest may use, where it starves
 * the host's own threads and other guests' vCPUs.  Nova and KubeVirt
 * give realtime vCPUs only with dedicated pins; so does the realtime
 * profile.  A <vcpu cpuset> is not a pin of its own.
 */
/* The vCPUs of a <vcpusched> element on fifo or rr that no vcpupin
 * pins, into *rt; false when it is not a realtime one (or unreadable). */
static bool
realtime_unpinned(const struct lint *l, const xmlNode *sched,
                  struct nst_cpuset *rt)
{
    char *list = nsti_attr(sched, "vcpus");
    bool realtime = list && (nsti_attr_is(sched, "scheduler", "fifo") ||
                             nsti_attr_is(sched, "scheduler", "rr")) &&
                    nst_cpuset_parse(list, rt, NULL) == 0;

    free(list);
    if (!realtime)
        return false;
    for (size_t i = 0; i < l->dom.npins; i++) {
        const struct nst_pin *p = &l->dom.pins[i];
        if (p->kind == NST_PIN_VCPU && p->has_vcpu && p->valid &&
            p->vcpu < NST_MAX_CPUS)
            nst_cpuset_clear(rt, p->vcpu);
    }
    return true;
}

static void
rule_realtime_unpinned(struct lint *l)
{
    xmlNodePtr cputune = nsti_child(l->root, "cputune");

    for (xmlNodePtr s = nsti_child(cputune, "vcpusched"); s;
         s = nsti_next(s, "vcpusched")) {
        struct nst_cpuset rt;
        if (!realtime_unpinned(l, s, &rt) || nst_cpuset_is_empty(&rt))
            continue;
        char *vcpus = nsti_attr(s, "vcpus");
        char *sched = nsti_attr(s, "scheduler");
        char *text = nst_cpuset_format(&rt);
        lint_add(l, R_RT_UNPINNED,
            nst_printf("/domain/cputune/vcpusched[@vcpus='%s']", vcpus),
            nst_printf("vCPU(s) %s on the %s realtime scheduler without a "
                       "<vcpupin>: they move over the host's CPUs and "
                       "starve what else runs there", text ? text : "?",
                       sched),
            lint_copy("pin each realtime vCPU to a host CPU of its own, "
                      "one the host keeps its own work off, as the "
                      "realtime profile does"));
        free(text);
        free(vcpus);
        free(sched);
    }
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
    char *text = nst_cpuset_format(&set);
    lint_add(l, R_NUMA_NODE, memnode ?
        nst_printf("/domain/numatune/memnode[@cellid='%s']",
                   b->cellid ? b->cellid : "") :
        lint_copy("/domain/numatune/memory"),
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
    char *all_text = nst_cpuset_format(&all);
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

void
lint_pinning(struct lint *l)
{
    struct pin *pins = NULL;
    size_t npins = 0;

    if (l->host) {
        if (read_pins(l, &pins, &npins) < 0)
            l->oom = true;
        rule_pins_host(l, pins, npins);
        rule_pins_cells(l, pins, npins);
    }
    rule_pins_shared(l);
    if (l->host)
        rule_numa_nodes(l);
    rule_realtime_unpinned(l);
    pins_free(pins, npins);
}

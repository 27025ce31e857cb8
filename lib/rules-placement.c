/*
 * rules-placement.c: where the guest goes: the placement (host cells
 * and CPUs, memory devices on guest cells), the pins of the vCPUs, the
 * emulator and the I/O threads, and the topology that matches them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

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
        policy_refuse(run, "domain", "/domain/devices/memory",
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
        policy_refuse(run, "domain", "/domain/devices/memory",
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
    unsigned long long own = run->dom.memory_kib, share;
    unsigned long long ram[NST_MAX_GUEST_CELLS];

    if (!run->dom.nmemdevs || !run->profile->numa) {
        for (size_t i = 0; i < k; i++)
            run->cell_kib[i] = pl->cells[i].memory_kib;
        return 0;
    }
    if (!(run->memdev_cell = calloc(run->dom.nmemdevs,
                                    sizeof(*run->memdev_cell))))
        return policy_oom(run);
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
            int ret = policy_refuse(run, "placement", "/domain/devices/memory",
                             msg ? msg : "out of memory");
            free(msg);
            return ret;
        }
        pl->cells[i].memory_kib = ram[i];
    }
    return 0;
}

int
policy_place(struct run *run)
{
    const struct nst_profile *p = run->profile;
    struct nst_cpuset housekeeping;
    char *reason = NULL;
    unsigned long long need_kib = read_memdevs(run);

    if (!need_kib)
        return -1;
    nst_profile_housekeeping(p, run->host, &housekeeping);

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
        int ret = policy_refuse(run, "placement", "/domain/vcpu",
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
    nst_profile_housekeeping(run->profile, run->host, out);
    struct nst_cpuset near = *out;
    nst_cpuset_intersect(&near, &cells);
    if (!nst_cpuset_is_empty(&near))
        *out = near;
}

/* The I/O thread ids of the domain: <iothreadids> or 1..<iothreads>. */
static size_t
iothread_ids(struct run *run, unsigned int **ids)
{
    xmlNodePtr list = nsti_child(run->root, "iothreadids");
    xmlNodePtr count = nsti_child(run->root, "iothreads");
    unsigned long long n = 0;
    size_t k = 0;

    *ids = NULL;
    if (list)
        n = nsti_count_children(list, "iothread");
    else if (count) {
        char *text = nsti_text(count);
        if (!text || nst_parse_ull(text, 65536, &n) < 0)
            n = 0;
        free(text);
    }
    if (!n || !(*ids = calloc(n, sizeof(**ids))))
        return 0;
    if (list) {
        for (xmlNodePtr t = nsti_child(list, "iothread"); t;
             t = nsti_next(t, "iothread")) {
            char *text = nsti_attr(t, "id");
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

/* One <vcpupin> per vCPU, on the host CPU the placement gave it; the
 * CPUs of all of them into *all.  Returns 0, or -1 when out of memory. */
static int
pin_vcpus(struct run *run, xmlNodePtr cputune, struct nst_cpuset *all,
          bool *any)
{
    const struct nst_placement *pl = &run->placement;
    unsigned int *ids = calloc(pl->nvcpus, sizeof(*ids));
    char **cpusets = calloc(pl->nvcpus, sizeof(*cpusets));
    int ret = ids && cpusets ? 0 : -1;

    nst_cpuset_clear_all(all);
    for (unsigned int v = 0; ret == 0 && v < pl->nvcpus; v++) {
        struct nst_cpuset one;
        nst_cpuset_clear_all(&one);
        nst_cpuset_set(&one, pl->pins[v]);
        nst_cpuset_set(all, pl->pins[v]);
        ids[v] = v;
        if (!(cpusets[v] = nst_cpuset_format(&one)))
            ret = -1;
    }
    if (ret == 0)
        ret = policy_sync_pins(run, cputune, "vcpupin", "vcpu", NULL,
                               "cpuset", ids, cpusets, pl->nvcpus, any);
    for (unsigned int v = 0; cpusets && v < pl->nvcpus; v++)
        free(cpusets[v]);
    free(cpusets);
    free(ids);
    return ret;
}

/* Every I/O thread on the housekeeping CPUs near (their text); their
 * count into *n.  Returns 0, or -1 when out of memory. */
static int
pin_iothreads(struct run *run, xmlNodePtr cputune, char *near, size_t *n,
              bool *any)
{
    unsigned int *ids = NULL;
    size_t nio = iothread_ids(run, &ids);
    char **cpusets = nio ? calloc(nio, sizeof(*cpusets)) : NULL;
    int ret = -1;

    *n = nio;
    if (!nio || cpusets) {
        for (size_t i = 0; i < nio; i++)
            cpusets[i] = near;
        ret = policy_sync_pins(run, cputune, "iothreadpin", "iothread",
                               NULL, "cpuset", ids, cpusets, nio, any);
    }
    free(cpusets);
    free(ids);
    return ret;
}

/* Every vCPU and the emulator are pinned now: <vcpu cpuset> would only
 * mislead, and placement='auto' (numad) would fight the pins.  Returns
 * whether it changed <vcpu>, -1 when out of memory. */
static int
unpin_vcpu_element(struct run *run)
{
    xmlNodePtr vcpu = nsti_child(run->root, "vcpu");
    int failed = 0;
    bool any = false;

    if (!vcpu)
        return 0;
    any |= changed(&failed, nsti_remove_attr(run->doc, vcpu, "cpuset"));
    if (nsti_attr_is(vcpu, "placement", "auto"))
        any |= changed(&failed, nsti_set_attr(run->doc, vcpu, "placement",
                                             "static"));
    return failed ? -1 : any;
}

static void
report_pinning(struct run *run, bool pins, const char *vcpu_text,
               bool emulator, bool io, size_t nio, const char *near_text,
               bool vcpu_changed)
{
    if (pins)
        nst_report_add(run->report, NST_CHANGE, "vcpu-pinning",
                       "/domain/cputune/vcpupin",
                       "%u vCPUs pinned one to one on host CPUs %s "
                       "(thread policy %s): no vCPU migrates between host "
                       "CPUs, caches stay warm",
                       run->placement.nvcpus, vcpu_text,
                       nst_thread_policy_name(run->profile->thread_policy));
    if (emulator)
        nst_report_add(run->report, NST_CHANGE, "emulator-pinning",
                       "/domain/cputune/emulatorpin",
                       "emulator threads on housekeeping CPUs %s, off the "
                       "vCPUs' CPUs", near_text);
    if (io)
        nst_report_add(run->report, NST_CHANGE, "iothread-pinning",
                       "/domain/cputune/iothreadpin",
                       "%zu I/O thread%s on housekeeping CPUs %s", nio,
                       nio == 1 ? "" : "s", near_text);
    if (vcpu_changed)
        nst_report_add(run->report, NST_CHANGE, "vcpu-pinning",
                       "/domain/vcpu",
                       "placement='static' without cpuset: every vCPU and "
                       "the emulator have their own pins");
}

/* The vCPUs one to one on the placement's CPUs, the emulator and the
 * I/O threads on housekeeping CPUs near the guest's memory. */
int
policy_pinning(struct run *run)
{
    struct nst_cpuset near, vcpu_cpus;
    char *near_text = NULL, *vcpu_text = NULL;
    bool pins = false, emulator = false, io = false;
    int failed = 0, vcpu_changed = 0;
    size_t nio = 0;

    xmlNodePtr cputune = nsti_ensure(run->doc, run->root, "cputune",
                                    nst_order_domain, NULL);
    if (!cputune || pin_vcpus(run, cputune, &vcpu_cpus, &pins) < 0)
        return policy_oom(run);
    housekeeping_near(run, &near);
    xmlNodePtr ep = nsti_ensure(run->doc, cputune, "emulatorpin",
                               nst_order_cputune, NULL);
    if (!ep || !(near_text = nst_cpuset_format(&near)) ||
        !(vcpu_text = nst_cpuset_format(&vcpu_cpus)))
        failed = 1;
    else
        emulator = changed(&failed, nsti_set_attr(run->doc, ep, "cpuset",
                                                 near_text));
    if (failed || pin_iothreads(run, cputune, near_text, &nio, &io) < 0 ||
        (vcpu_changed = unpin_vcpu_element(run)) < 0) {
        free(near_text);
        free(vcpu_text);
        return policy_oom(run);
    }
    report_pinning(run, pins, vcpu_text, emulator, io, nio, near_text,
                   vcpu_changed > 0);
    free(near_text);
    free(vcpu_text);
    return 0;
}

int
policy_topology(struct run *run)
{
    const struct nst_placement *pl = &run->placement;
    unsigned int sockets = (unsigned int)pl->ncells;
    unsigned int threads = pl->threads;
    unsigned int cores = pl->nvcpus / (sockets * threads);
    int failed = 0;
    bool any = false;

    xmlNodePtr cpu = nsti_ensure(run->doc, run->root, "cpu",
                                nst_order_domain, NULL);
    xmlNodePtr topo = cpu ? nsti_ensure(run->doc, cpu, "topology",
                                       nst_order_cpu, NULL) : NULL;
    if (!topo)
        return policy_oom(run);
    any |= changed(&failed, set_number_attr(run->doc, topo, "sockets",
                                            sockets));
    any |= changed(&failed, nsti_set_attr(run->doc, topo, "dies", "1"));
    any |= changed(&failed, set_number_attr(run->doc, topo, "cores", cores));
    any |= changed(&failed, set_number_attr(run->doc, topo, "threads",
                                            threads));
    if (failed)
        return policy_oom(run);
    if (any)
        nst_report_add(run->report, NST_CHANGE, "topology",
                       "/domain/cpu/topology",
                       "%u socket(s) x %u cores x %u threads, as placed: "
                       "one guest socket per host cell%s", sockets, cores,
                       threads, threads > 1 ?
                       ", guest SMT siblings are host SMT siblings" : "");
    return 0;
}

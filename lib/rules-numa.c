/*
 * rules-numa.c: the guest NUMA rule: guest cells matching the
 * placement, what hangs off them (distances, interconnects, memory
 * devices, page nodesets) and the numatune binding them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

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
    size_t count = nsti_count_children(numa, "cell");
    struct old_cell *cells = count ? calloc(count, sizeof(*cells)) : NULL;

    *n = 0;
    if (count && !cells) {
        *failed = true;
        return NULL;
    }
    for (xmlNodePtr c = nsti_child(numa, "cell"); c; c = nsti_next(c, "cell")) {
        struct old_cell *o = &cells[(*n)++];
        char *text = nsti_attr(c, "cpus");
        o->has_cpus = text && nst_cpuset_parse(text, &o->cpus, NULL) == 0;
        free(text);
        o->mem_access = nsti_attr(c, "memAccess");
        o->discard = nsti_attr(c, "discard");
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
            if (!old[o].has_cpus ||
                !nst_cpuset_intersects(&old[o].cpus, vcpus))
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
        int r = value ? nsti_set_attr(run->doc, cell, names[a], value) :
                        nsti_remove_attr(run->doc, cell, names[a]);
        changed(&failed, r);
        if (!mixed)
            continue;
        char *text = nst_cpuset_format(&from);
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
            ret = policy_warn(run, "guest-numa", target, msg);
        free(text);
        free(target);
        free(msg);
        if (ret < 0)
            return -1;
    }
    return failed ? policy_oom(run) : 0;
}

/* The guest cell element with that id, or NULL. */
static xmlNodePtr
find_cell(xmlNodePtr numa, unsigned long long want)
{
    for (xmlNodePtr c = nsti_child(numa, "cell"); c; c = nsti_next(c, "cell")) {
        char *text = nsti_attr(c, "id");
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
    char *text = nsti_attr(node, name);
    unsigned long long id;
    bool ok = text && nst_parse_ull(text, UINT32_MAX, &id) == 0 && id < k;
    free(text);
    return ok;
}

/* Whether the host's distances between the placement's host cells are
 * known and sane (libvirt: 10 is a cell's own distance and only that),
 * for two or more guest cells. */
static bool
host_distances_known(struct run *run)
{
    const struct nst_placement *pl = &run->placement;
    size_t k = pl->ncells;

    for (size_t i = 0; i < k && k >= 2; i++)
        for (size_t j = 0; j < k; j++) {
            unsigned int d = nst_host_distance(run->host,
                                               pl->cells[i].host_cell,
                                               pl->cells[j].host_cell);
            if (!d || (i == j ? d != 10 : d <= 10))
                return false;
        }
    return k >= 2;
}

/* Removes the siblings of cell i's <distances> naming a cell the
 * placement does not keep (their ids into *stale, i into *stale_in).
 * Returns 0, or -1 when out of memory. */
static int
drop_stale_siblings(struct run *run, xmlNodePtr dist, size_t i,
                    struct nst_cpuset *stale, struct nst_cpuset *stale_in)
{
    int failed = 0;

    for (xmlNodePtr s = nsti_child(dist, "sibling"), next; s; s = next) {
        next = nsti_next(s, "sibling");
        char *text = nsti_attr(s, "id");
        unsigned long long id;
        bool valid = text &&
                     nst_parse_ull(text, NST_MAX_CPUS - 1, &id) == 0;
        if (!valid || id >= run->placement.ncells) {
            if (valid)
                nst_cpuset_set(stale, (unsigned int)id);
            nst_cpuset_set(stale_in, (unsigned int)i);
            if (nsti_remove(run->doc, s) < 0)
                failed = 1;
        }
        free(text);
    }
    return failed ? -1 : 0;
}

/* Cell i's full row of the host's distances.  Returns 0, or -1 when out
 * of memory. */
static int
write_host_distances(struct run *run, xmlNodePtr cell, size_t i, bool *any)
{
    static const char *const order[] = { "distances", "cache", NULL };
    const struct nst_placement *pl = &run->placement;
    size_t k = pl->ncells;
    unsigned int ids[NST_MAX_GUEST_CELLS];
    char *values[NST_MAX_GUEST_CELLS] = { 0 };
    int failed = 0;

    xmlNodePtr dist = nsti_ensure(run->doc, cell, "distances", order, NULL);
    for (size_t j = 0; j < k && dist; j++) {
        ids[j] = (unsigned int)j;
        values[j] = nst_printf("%u", nst_host_distance(
            run->host, pl->cells[i].host_cell, pl->cells[j].host_cell));
        if (!values[j])
            failed = 1;
    }
    if (!dist || failed ||
        policy_sync_pins(run, dist, "sibling", "id", NULL, "value", ids,
                         values, k, any) < 0)
        failed = 1;
    for (size_t j = 0; j < k; j++)
        free(values[j]);
    return failed ? -1 : 0;
}

/* The report of the distances: the host's written, and (a warning)
 * siblings dropped that named cells which are gone. */
static int
report_distances(struct run *run, bool any, const struct nst_cpuset *stale,
                 const struct nst_cpuset *stale_in)
{
    const struct nst_placement *pl = &run->placement;

    if (any) {
        struct nst_cpuset hosts;
        nst_cpuset_clear_all(&hosts);
        for (size_t i = 0; i < pl->ncells; i++)
            nst_cpuset_set(&hosts, pl->cells[i].host_cell);
        char *text = nst_cpuset_format(&hosts);
        nst_report_add(run->report, NST_CHANGE, "guest-numa",
                       "/domain/cpu/numa/cell/distances",
                       "guest cell distances are those of host cells %s "
                       "(capabilities): the guest kernel weighs remote "
                       "memory as the host does", text ? text : "?");
        free(text);
    }
    if (nst_cpuset_is_empty(stale_in))
        return 0;
    char *gone = nst_cpuset_format(stale);
    char *in = nst_cpuset_format(stale_in);
    char *msg = gone && in ?
        nst_printf("dropped <distances> siblings naming guest cell(s) %s "
                   "from cell(s) %s: the placement keeps %zu cell(s), and "
                   "libvirt refuses a sibling of a cell that does not "
                   "exist", *gone ? gone : "(invalid ids)", in,
                   pl->ncells) : NULL;
    int ret = msg ? policy_warn(run, "guest-numa",
                                "/domain/cpu/numa/cell/distances", msg) :
                    policy_oom(run);
    free(gone);
    free(in);
    free(msg);
    return ret;
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
    struct nst_cpuset stale, stale_in;
    bool from_host = host_distances_known(run), any = false;
    int failed = 0;

    nst_cpuset_clear_all(&stale);
    nst_cpuset_clear_all(&stale_in);
    for (size_t i = 0; i < run->placement.ncells && !failed; i++) {
        xmlNodePtr cell = find_cell(numa, i);
        xmlNodePtr dist = nsti_child(cell, "distances");
        if (drop_stale_siblings(run, dist, i, &stale, &stale_in) < 0)
            failed = 1;
        else if (from_host)
            failed = write_host_distances(run, cell, i, &any) < 0;
        else if (dist && !nsti_child(dist, "sibling") &&
                 nsti_remove(run->doc, dist) < 0)
            failed = 1;
    }
    if (failed)
        return policy_oom(run);
    return report_distances(run, any, &stale, &stale_in);
}

/* Whether guest cell 'target' has a <cache level='level'>. */
static bool
cell_has_cache(xmlNodePtr numa, const xmlNode *entry)
{
    char *level = nsti_attr(entry, "cache");
    char *target = nsti_attr(entry, "target");
    unsigned long long id;
    bool found = false;

    if (!level)
        found = true;
    else if (target && nst_parse_ull(target, UINT32_MAX, &id) == 0)
        for (xmlNodePtr c = nsti_child(find_cell(numa, id), "cache"); c &&
             !found; c = nsti_next(c, "cache"))
            found = nsti_attr_is(c, "level", level);
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
    xmlNodePtr list = nsti_child(numa, "interconnects");
    size_t k = run->placement.ncells, dropped = 0;
    int failed = 0;

    for (xmlNodePtr e = nsti_child(list, NULL), next; e; e = next) {
        next = nsti_next(e, NULL);
        if (names_cell(e, "initiator", k) && names_cell(e, "target", k) &&
            cell_has_cache(numa, e))
            continue;
        dropped++;
        if (nsti_remove(run->doc, e) < 0)
            failed = 1;
    }
    if (list && !nsti_child(list, NULL) && nsti_remove(run->doc, list) < 0)
        failed = 1;
    if (failed)
        return policy_oom(run);
    if (!dropped)
        return 0;
    char *msg = nst_printf("dropped %zu <interconnects> entr%s naming guest "
                           "cells or cache levels the placement's %zu "
                           "cell(s) do not have: libvirt refuses them",
                           dropped, dropped == 1 ? "y" : "ies", k);
    int ret = msg ? policy_warn(run, "guest-numa",
                                "/domain/cpu/numa/interconnects", msg) :
                    policy_oom(run);
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
        xmlNodePtr target = nsti_child(m->node, "target");
        xmlNodePtr node = nsti_ensure(run->doc, target, "node", target_order,
                                     NULL);
        xmlNodePtr mask = nsti_child(nsti_child(m->node, "source"), "nodemask");
        char *path = nst_printf("/domain/devices/memory[%zu]", d + 1);
        char *old_mask = mask ? nsti_text(mask) : NULL;
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
    return failed ? policy_oom(run) : 0;
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

    xmlNodePtr huge = nsti_child(nsti_child(run->root, "memoryBacking"),
                                "hugepages");
    struct nst_cpuset kept_cells;
    int failed = 0;

    nst_cpuset_clear_all(&kept_cells);
    for (size_t i = 0; i < run->placement.ncells; i++)
        nst_cpuset_set(&kept_cells, (unsigned int)i);
    for (xmlNodePtr page = nsti_child(huge, "page"), next; page && !failed;
         page = next) {
        next = nsti_next(page, "page");
        char *old_text = nsti_attr(page, "nodeset");
        struct nst_cpuset cells;
        if (!old_text || nst_cpuset_parse(old_text, &cells, NULL) < 0) {
            free(old_text);     /* none, or libvirt's own error to give */
            continue;
        }
        nst_cpuset_intersect(&cells, &kept_cells);
        bool last = !next && page == nsti_child(huge, "page");
        char *new_text = nst_cpuset_is_empty(&cells) ? NULL :
                         nst_cpuset_format(&cells);
        const char *what = NULL;
        if (new_text && strcmp(new_text, old_text) != 0) {
            failed = nsti_set_attr(run->doc, page, "nodeset", new_text) < 0;
            what = "keeps the guest cells that still exist";
        } else if (!new_text && last) {
            failed = nsti_remove_attr(run->doc, page, "nodeset") < 0;
            what = "now covers every guest cell: the cells it named are gone";
        } else if (!new_text) {
            failed = nsti_remove(run->doc, page) < 0;
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
    return failed ? policy_oom(run) : 0;
}

/* The vCPUs of guest cell gc. */
static void
cell_vcpus(const struct nst_guest_cell *gc, struct nst_cpuset *out)
{
    nst_cpuset_clear_all(out);
    for (unsigned int v = 0; v < gc->nvcpus; v++)
        nst_cpuset_set(out, gc->first_vcpu + v);
}

/* Removes the guest cells the placement does not keep (the ids of
 * those that described memory-side caches into *cached).  Returns
 * whether it removed one, -1 when out of memory. */
static int
drop_cells(struct run *run, xmlNodePtr numa, struct nst_cpuset *cached)
{
    int failed = 0;
    bool any = false;

    nst_cpuset_clear_all(cached);
    for (xmlNodePtr c = nsti_child(numa, "cell"), next; c; c = next) {
        next = nsti_next(c, "cell");
        char *id_text = nsti_attr(c, "id");
        unsigned long long id;
        if (!id_text || nst_parse_ull(id_text, UINT32_MAX, &id) < 0 ||
            id >= run->placement.ncells) {
            if (id_text && nsti_child(c, "cache") &&
                nst_parse_ull(id_text, NST_MAX_CPUS - 1, &id) == 0)
                nst_cpuset_set(cached, (unsigned int)id);
            any |= changed(&failed, nsti_remove(run->doc, c));
        }
        free(id_text);
    }
    return failed ? -1 : any;
}

/* One guest cell per cell of the placement, edited in place (keeping
 * the attributes this rule does not manage).  Returns whether it
 * changed one, -1 when out of memory. */
static int
write_cells(struct run *run, xmlNodePtr numa)
{
    const struct nst_placement *pl = &run->placement;
    int failed = 0;
    bool any = false;

    for (size_t i = 0; i < pl->ncells && !failed; i++) {
        struct nst_cpuset vcpus;
        xmlNodePtr cell = find_cell(numa, i);
        if (!cell) {
            cell = nsti_insert(run->doc, numa, "cell", (const char *[]){
                                  "cell", NULL });
            if (!cell)
                return -1;
            any = true;
        }
        cell_vcpus(&pl->cells[i], &vcpus);
        char *text = nst_cpuset_format(&vcpus);
        if (!text)
            return -1;
        any |= changed(&failed, set_number_attr(run->doc, cell, "id", i));
        any |= changed(&failed, nsti_set_attr(run->doc, cell, "cpus", text));
        any |= changed(&failed, set_number_attr(run->doc, cell, "memory",
                                                run->cell_kib[i]));
        any |= changed(&failed, nsti_set_attr(run->doc, cell, "unit", "KiB"));
        free(text);
    }
    return failed ? -1 : any;
}

/* The new cells' memAccess and discard from the input's cells old. */
static int
merge_cells(struct run *run, xmlNodePtr numa, const struct old_cell *old,
            size_t nold)
{
    for (size_t i = 0; i < run->placement.ncells; i++) {
        struct nst_cpuset vcpus;
        cell_vcpus(&run->placement.cells[i], &vcpus);
        if (merge_cell_attrs(run, find_cell(numa, i), i, &vcpus, old,
                             nold) < 0)
            return -1;
    }
    return 0;
}

/* The memory-side caches of dropped cells went with them: a warning. */
static int
report_caches(struct run *run, const struct nst_cpuset *cached)
{
    if (nst_cpuset_is_empty(cached))
        return 0;
    char *text = nst_cpuset_format(cached);
    char *msg = text ? nst_printf("guest cell(s) %s described "
                                  "memory-side caches (<cache>), which "
                                  "go with the cells: the placement "
                                  "keeps %zu cell(s)", text,
                                  run->placement.ncells) : NULL;
    int ret = msg ? policy_warn(run, "guest-numa",
                                "/domain/cpu/numa/cell/cache", msg) :
                    policy_oom(run);
    free(text);
    free(msg);
    return ret;
}

/* numatune: strict binding, one memnode per guest cell, on the host
 * nodes (nodes_text) the placement uses. */
static int
write_numatune(struct run *run, const char *nodes_text, bool *any)
{
    const struct nst_placement *pl = &run->placement;
    int failed = 0;

    xmlNodePtr tune = nsti_ensure(run->doc, run->root, "numatune",
                                 nst_order_domain, NULL);
    xmlNodePtr memory = tune ? nsti_ensure(run->doc, tune, "memory",
                                          nst_order_numatune, NULL) : NULL;
    if (!memory)
        return -1;
    *any |= changed(&failed, nsti_set_attr(run->doc, memory, "mode",
                                          "strict"));
    *any |= changed(&failed, nsti_set_attr(run->doc, memory, "nodeset",
                                          nodes_text));
    *any |= changed(&failed, nsti_remove_attr(run->doc, memory,
                                             "placement"));
    unsigned int *ids = calloc(pl->ncells, sizeof(*ids));
    char **sets = calloc(pl->ncells, sizeof(*sets));
    for (size_t i = 0; ids && sets && i < pl->ncells; i++) {
        struct nst_cpuset one;
        nst_cpuset_clear_all(&one);
        nst_cpuset_set(&one, pl->cells[i].host_cell);
        ids[i] = (unsigned int)i;
        if (!(sets[i] = nst_cpuset_format(&one)))
            failed = 1;
    }
    if (!ids || !sets || failed ||
        policy_sync_pins(run, tune, "memnode", "cellid", "strict",
                         "nodeset", ids, sets, pl->ncells, any) < 0)
        failed = 1;
    for (size_t i = 0; sets && i < pl->ncells; i++)
        free(sets[i]);
    free(sets);
    free(ids);
    return failed ? -1 : 0;
}

/* The guest NUMA cells of the placement, what refers to them, and the
 * numatune binding each to its host cell. */
int
policy_numa(struct run *run)
{
    const struct nst_placement *pl = &run->placement;
    struct nst_cpuset nodes, cached;
    bool tune_changed = false, read_failed = false;
    size_t nold = 0;

    xmlNodePtr cpu = nsti_ensure(run->doc, run->root, "cpu",
                                nst_order_domain, NULL);
    xmlNodePtr numa = cpu ? nsti_ensure(run->doc, cpu, "numa", nst_order_cpu,
                                       NULL) : NULL;
    if (!numa)
        return policy_oom(run);
    struct old_cell *old = old_cells_read(numa, &nold, &read_failed);
    if (read_failed)
        return policy_oom(run);
    int dropped = drop_cells(run, numa, &cached);
    int written = dropped < 0 ? -1 : write_cells(run, numa);
    if (written < 0) {
        old_cells_free(old, nold);
        return policy_oom(run);
    }
    if (dropped || written)
        nst_report_add(run->report, NST_CHANGE, "guest-numa",
                       "/domain/cpu/numa",
                       "%zu guest NUMA cell(s) matching the placement: the "
                       "guest kernel sees which vCPUs share memory",
                       pl->ncells);
    int merged = merge_cells(run, numa, old, nold);
    old_cells_free(old, nold);
    if (merged < 0 || report_caches(run, &cached) < 0 ||
        numa_distances(run, numa) < 0 || numa_interconnects(run, numa) < 0 ||
        numa_memdevs(run) < 0 || numa_page_nodesets(run) < 0)
        return -1;

    nst_cpuset_clear_all(&nodes);
    for (size_t i = 0; i < pl->ncells; i++)
        nst_cpuset_set(&nodes, pl->cells[i].host_cell);
    char *nodes_text = nst_cpuset_format(&nodes);
    if (!nodes_text || write_numatune(run, nodes_text, &tune_changed) < 0) {
        free(nodes_text);
        return policy_oom(run);
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

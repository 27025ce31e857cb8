/*
 * map.c: the map of a host's CPUs and hugepages with the guests on
 * them (nestify.h, "map"): the model, its text and its JSON
 *
 * The map draws the allocator's model and nothing else: the guests are
 * counted in a struct nst_holdings as bulk runs count them, a CPU is
 * overcommitted where nst_holdings_taken says another holds it, and the
 * free hugepages are nst_holdings_host's.  So the map never disagrees
 * with what a plan would do.
 */
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "map.h"

struct nst_map *
nst_map_new(const struct nst_host *host, const struct nst_cpuset *housekeeping,
            const struct nst_cpuset *outside)
{
    struct nst_map *map = calloc(1, sizeof(*map));

    if (!map || !(map->host = nst_host_clone(host))) {
        free(map);
        return NULL;
    }
    if (housekeeping)
        map->housekeeping = *housekeeping;
    if (outside)
        map->outside = *outside;
    map->held.outside = map->outside;
    return map;
}

int
nst_map_add(struct nst_map *map, const char *name,
            const struct nst_cpuset *vcpus, const struct nst_cpuset *threads,
            const struct nst_page_counts *pages, const char *note)
{
    if (NST_GROW(map->guests, map->nguests + 1, map->alloc) < 0)
        return -1;
    struct map_guest *g = &map->guests[map->nguests];
    memset(g, 0, sizeof(*g));
    g->name = strdup(name ? name : "");
    g->note = note ? strdup(note) : NULL;
    if (vcpus)
        g->vcpus = *vcpus;
    if (threads)
        g->threads = *threads;
    if (!g->name || (note && !g->note) ||
        (pages && nst_page_counts_add(&g->pages, pages, 1) < 0) ||
        nst_holdings_add(&map->held, &g->vcpus, &g->threads, &g->pages,
                         1) < 0) {
        free(g->name);
        free(g->note);
        nst_page_counts_clear(&g->pages);
        return -1;
    }
    map->nguests++;
    return 0;
}

void
nst_map_free(struct nst_map *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->nguests; i++) {
        free(map->guests[i].name);
        free(map->guests[i].note);
        nst_page_counts_clear(&map->guests[i].pages);
    }
    free(map->guests);
    nst_holdings_clear(&map->held);
    nst_host_free(map->host);
    free(map);
}

/* ------------------------------------------------------------ the model */

void
map_overcommitted(const struct nst_map *map, size_t i, struct nst_cpuset *out)
{
    const struct map_guest *g = &map->guests[i];
    nst_holdings_taken(&map->held, &g->vcpus, &g->threads, out);
    nst_cpuset_intersect(out, &g->vcpus);
}

void
map_all_overcommitted(const struct nst_map *map, struct nst_cpuset *out)
{
    nst_cpuset_clear_all(out);
    for (size_t i = 0; i < map->nguests; i++) {
        struct nst_cpuset over;
        map_overcommitted(map, i, &over);
        nst_cpuset_union(out, &over);
    }
}

void
map_cpu_info(const struct nst_map *map, const struct nst_cpuset *over,
             unsigned int cpu, struct map_cpu *out)
{
    out->vcpu_guest = -1;
    for (size_t i = 0; i < map->nguests && out->vcpu_guest < 0; i++)
        if (nst_cpuset_test(&map->guests[i].vcpus, cpu))
            out->vcpu_guest = (long)i;
    if (nst_cpuset_test(over, cpu))
        out->role = MAP_OVERCOMMITTED;
    else if (out->vcpu_guest >= 0)
        out->role = MAP_VCPU;
    else if (nst_cpuset_test(&map->outside, cpu))
        out->role = MAP_TAKEN;
    else if (map->held.thread_holders[cpu])
        out->role = MAP_THREADS;
    else if (nst_cpuset_test(&map->housekeeping, cpu))
        out->role = MAP_HOUSEKEEPING;
    else
        out->role = MAP_FREE;
}

/* The CPU's SMT siblings within cell (itself alone when the host does
 * not list it). */
static void
siblings_in(const struct nst_map *map, const struct nst_cell *cell,
            unsigned int cpu, struct nst_cpuset *out)
{
    const struct nst_host_cpu *c = nst_host_cpu(map->host, cpu);
    nst_cpuset_clear_all(out);
    if (c)
        *out = c->siblings;
    nst_cpuset_set(out, cpu);
    nst_cpuset_intersect(out, &cell->cpus);
}

size_t
map_cell_cores(const struct nst_map *map, const struct nst_cell *cell,
               unsigned int *firsts)
{
    size_t n = 0;
    for (int cpu = nst_cpuset_next(&cell->cpus, 0); cpu >= 0;
         cpu = nst_cpuset_next(&cell->cpus, (unsigned int)cpu + 1)) {
        struct nst_cpuset sib;
        siblings_in(map, cell, (unsigned int)cpu, &sib);
        if (nst_cpuset_next(&sib, 0) == cpu)
            firsts[n++] = (unsigned int)cpu;
    }
    return n;
}

void
map_core_threads(const struct nst_map *map, const struct nst_cell *cell,
                 unsigned int first, struct nst_cpuset *out)
{
    siblings_in(map, cell, first, out);
}

char
map_mark(size_t i)
{
    return i < 26 ? (char)('A' + i) : i < 52 ? (char)('a' + i - 26) : '+';
}

static const char role_marks[MAP_ROLE_LAST] = { '.', '-', '=', 'x', '?', '!' };
static const char *const role_names[MAP_ROLE_LAST] = {
    "free", "housekeeping", "threads", "taken", "vcpu", "overcommitted",
};

char
map_role_mark(enum map_role role)
{
    return role_marks[role];
}

const char *
map_role_name(enum map_role role)
{
    return role_names[role];
}

struct nst_host *
map_host_after(const struct nst_map *map)
{
    return nst_holdings_host(&map->held, map->host, NULL);
}

/*
 * map.h: the map's model, shared by its renderers (map.c: the model,
 * text and JSON; map-svg.c: the picture); not installed
 */
#ifndef NESTIFY_MAP_H
#define NESTIFY_MAP_H

#include "internal.h"

struct map_guest {
    char *name;
    char *note;                  /* "live pins differ ...", or NULL */
    struct nst_cpuset vcpus;     /* host CPUs of its <vcpupin>s */
    struct nst_cpuset threads;   /* of its emulator and I/O threads */
    struct nst_page_counts pages;
};

struct nst_map {
    struct nst_host *host;       /* a copy */
    struct nst_cpuset housekeeping;
    struct nst_cpuset outside;   /* held by domains not on the map */
    struct map_guest *guests;
    size_t nguests, alloc;
    /* the guests counted as the allocator counts them */
    struct nst_holdings held;
};

/* What one host CPU is on the map. */
enum map_role {
    MAP_FREE,
    MAP_HOUSEKEEPING,
    MAP_THREADS,                 /* emulator or I/O threads pinned there */
    MAP_TAKEN,                   /* held by a domain not on the map */
    MAP_VCPU,
    MAP_OVERCOMMITTED,
    MAP_ROLE_LAST
};

struct map_cpu {
    enum map_role role;
    long vcpu_guest;             /* the first guest whose vCPUs pin it, -1 */
};

/* The CPUs where guest i's vCPUs sit on what another holds: the
 * allocator's own rule (nst_holdings_taken). */
void map_overcommitted(const struct nst_map *map, size_t i,
                       struct nst_cpuset *out);
/* Every CPU some guest is overcommitted on. */
void map_all_overcommitted(const struct nst_map *map, struct nst_cpuset *out);
/* What cpu is, given over (map_all_overcommitted). */
void map_cpu_info(const struct nst_map *map, const struct nst_cpuset *over,
                  unsigned int cpu, struct map_cpu *out);
/* The cores of a cell: the first (lowest) CPU of each sibling group
 * within the cell, in order, into firsts (room for the cell's CPUs);
 * returns how many. */
size_t map_cell_cores(const struct nst_map *map, const struct nst_cell *cell,
                      unsigned int *firsts);
/* The threads of the core whose first CPU is first, within cell. */
void map_core_threads(const struct nst_map *map, const struct nst_cell *cell,
                      unsigned int first, struct nst_cpuset *out);
/* Guest i's mark: A-Z, a-z, then '+'. */
char map_mark(size_t i);
/* A mark per role other than a guest's ('.', '-', '=', 'x', '!'). */
char map_role_mark(enum map_role role);
const char *map_role_name(enum map_role role);
/* One size of a cell's hugepages as a line (no newline): total, free
 * after the guests (after: the cell in map_host_after) and each guest's
 * pages there ("hugepages 2 MiB: 8192 total, 0 free; planned B 8192");
 * map-text.c, for the text and the picture alike. */
void map_pages_line(struct nst_buf *buf, const struct nst_map *map,
                    const struct nst_cell *cell, const struct nst_cell *after,
                    const struct nst_pages *p);
/* The host after the guests' hugepages (a copy; NULL: no memory). */
struct nst_host *map_host_after(const struct nst_map *map);

#endif /* NESTIFY_MAP_H */

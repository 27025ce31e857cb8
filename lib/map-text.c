/*
 * map-text.c: the map as text for a terminal and as JSON (nestify.h,
 * "map"); only formats the model of map.c
 */
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "map.h"

/* The text never passes this many columns: the host's cores wrap. */
#define MAP_COLUMNS 100

/* SGR colours: a guest's by its index; the roles'. */
static const char *const guest_colors[] = {
    "32", "34", "35", "36", "33", "92", "94", "95", "96", "93",
};
static const char *const role_colors[MAP_ROLE_LAST] = {
    "2", "1", "1;33", "2;31", NULL, "1;37;41",
};

static void
add_cpuset(struct nst_buf *buf, const struct nst_cpuset *set)
{
    char *text = nst_cpuset_format(set);
    if (!text)
        buf->oom = 1;
    nst_buf_adds(buf, text && *text ? text : "none");
    free(text);
}

/* One CPU: its number right-aligned in width, then its mark. */
static void
add_cpu(struct nst_buf *buf, const struct nst_map *map,
        const struct nst_cpuset *over, unsigned int cpu, int width,
        bool color)
{
    struct map_cpu info;
    map_cpu_info(map, over, cpu, &info);
    char mark = info.role == MAP_VCPU ? map_mark((size_t)info.vcpu_guest) :
                map_role_mark(info.role);
    const char *sgr = info.role == MAP_VCPU ?
        guest_colors[info.vcpu_guest % (long)(sizeof(guest_colors) /
                                              sizeof(*guest_colors))] :
        role_colors[info.role];
    if (color && sgr)
        nst_buf_addf(buf, "\033[%sm", sgr);
    nst_buf_addf(buf, "%*u%c", width, cpu, mark);
    if (color && sgr)
        nst_buf_adds(buf, "\033[0m");
}

/* The cores firsts[0..n) of cell, one column each, a row per thread. */
static void
add_cores(struct nst_buf *buf, const struct nst_map *map,
          const struct nst_cell *cell, const struct nst_cpuset *over,
          const unsigned int *firsts, size_t n, int width, bool color)
{
    unsigned int rows = nst_host_threads_per_core(map->host);
    for (unsigned int row = 0; row < rows; row++) {
        struct nst_buf line = { 0 };
        for (size_t k = 0; k < n; k++) {
            struct nst_cpuset threads;
            map_core_threads(map, cell, firsts[k], &threads);
            int cpu = nst_cpuset_next(&threads, 0);
            for (unsigned int t = 0; t < row && cpu >= 0; t++)
                cpu = nst_cpuset_next(&threads, (unsigned int)cpu + 1);
            nst_buf_adds(&line, k ? " " : "  ");
            if (cpu >= 0)
                add_cpu(&line, map, over, (unsigned int)cpu, width, color);
            else
                nst_buf_addf(&line, "%*s", width + 1, "");
        }
        size_t len = line.len;
        while (len && line.data[len - 1] == ' ')
            len--;
        if (len)
            nst_buf_add(buf, line.data, len);
        nst_buf_adds(buf, "\n");
        free(line.data);
    }
}

/* See map.h. */
void
map_pages_line(struct nst_buf *buf, const struct nst_map *map,
               const struct nst_cell *cell, const struct nst_cell *after,
               const struct nst_pages *p)
{
    const struct nst_pages *left = nst_cell_pages(after, p->size_kib);
    nst_buf_adds(buf, "hugepages ");
    nsti_buf_add_size(buf, p->size_kib);
    nst_buf_addf(buf, ": %llu total, %llu free", p->total,
                 left ? left->free : p->free);
    const char *sep = "; planned ";
    for (size_t g = 0; g < map->nguests; g++) {
        const struct nst_page_counts *pc = &map->guests[g].pages;
        for (size_t i = 0; i < pc->n; i++)
            if (pc->items[i].cell == cell->id &&
                pc->items[i].size_kib == p->size_kib &&
                pc->items[i].pages > 0) {
                nst_buf_addf(buf, "%s%c %lld", sep, map_mark(g),
                             pc->items[i].pages);
                sep = ", ";
            }
    }
}

/* The cell's hugepages, a line per size (base pages left out). */
static void
add_pages(struct nst_buf *buf, const struct nst_map *map,
          const struct nst_cell *cell, const struct nst_cell *after)
{
    for (size_t k = 0; k < cell->npages; k++) {
        if (cell->pages[k].size_kib <= 4)
            continue;
        nst_buf_adds(buf, "  ");
        map_pages_line(buf, map, cell, after, &cell->pages[k]);
        nst_buf_adds(buf, "\n");
    }
}

static void
add_cell(struct nst_buf *buf, const struct nst_map *map,
         const struct nst_cell *cell, const struct nst_cell *after,
         const struct nst_cpuset *over, int width, bool color)
{
    unsigned int *firsts = calloc(nst_cpuset_count(&cell->cpus) + 1,
                                  sizeof(*firsts));
    if (!firsts) {
        buf->oom = 1;
        return;
    }
    size_t n = map_cell_cores(map, cell, firsts);
    /* "  " then columns of width + 1 separated by a space */
    size_t per_line = (MAP_COLUMNS - 2 + 1) / ((size_t)width + 2);

    nst_buf_addf(buf, "\ncell %u: CPUs ", cell->id);
    add_cpuset(buf, &cell->cpus);
    /* tenths of a GiB: a cell's memory is rarely a round number */
    nst_buf_addf(buf, ", memory %.1f GiB",
                 (double)cell->memory_kib / (1024.0 * 1024.0));
    nst_buf_adds(buf, "\n");
    for (size_t k = 0; k < n; k += per_line)
        add_cores(buf, map, cell, over, firsts + k,
                  n - k < per_line ? n - k : per_line, width, color);
    add_pages(buf, map, cell, after);
    free(firsts);
}

static void
add_guests(struct nst_buf *buf, const struct nst_map *map)
{
    nst_buf_adds(buf, "\n");
    if (!map->nguests)
        nst_buf_adds(buf, "no guests\n");
    for (size_t i = 0; i < map->nguests; i++) {
        const struct map_guest *g = &map->guests[i];
        struct nst_cpuset over;
        map_overcommitted(map, i, &over);
        nst_buf_addf(buf, "%c %s: vCPUs on ", map_mark(i), g->name);
        add_cpuset(buf, &g->vcpus);
        unsigned int n = nst_cpuset_count(&g->vcpus);
        nst_buf_addf(buf, " (%u CPU%s), threads on ", n, n == 1 ? "" : "s");
        add_cpuset(buf, &g->threads);
        if (!nst_cpuset_is_empty(&over)) {
            nst_buf_adds(buf, "; overcommitted on ");
            add_cpuset(buf, &over);
        }
        if (g->note)
            nst_buf_addf(buf, "\n  %s", g->note);
        nst_buf_adds(buf, "\n");
    }
}

char *
nst_map_format_text(const struct nst_map *map, bool color)
{
    struct nst_buf buf = { 0 };
    struct nst_cpuset over;
    struct nst_host *after = map_host_after(map);
    const struct nst_host *h = map->host;
    int width = 1;

    if (!after)
        return NULL;
    for (unsigned int top = h->ncpus ? h->cpus[h->ncpus - 1].id : 0;
         top >= 10; top /= 10)
        width++;
    map_all_overcommitted(map, &over);
    unsigned int threads = nst_host_threads_per_core(h);
    nst_buf_addf(&buf, "host: %zu CPUs in %zu cell%s, %u thread%s per core; "
                 "housekeeping ", h->ncpus, h->ncells, h->ncells == 1 ? "" : "s",
                 threads, threads == 1 ? "" : "s");
    add_cpuset(&buf, &map->housekeeping);
    nst_buf_adds(&buf, "\nmarks: A-Z a-z guests' vCPUs (below), "
                 "- housekeeping, = emulator/I/O threads,\n"
                 "x other domains, ! overcommitted, . free\n");
    for (size_t c = 0; c < h->ncells; c++)
        add_cell(&buf, map, &h->cells[c], &after->cells[c], &over, width,
                 color);
    add_guests(&buf, map);
    nst_host_free(after);
    return nst_buf_finish(&buf, NULL);
}

/* ---------------------------------------------------------------- JSON */

/* The names of the guests whose set (vCPUs or threads) holds cpu. */
static struct json_object *
holders_json(const struct nst_map *map, unsigned int cpu, bool threads,
             bool *ok)
{
    struct json_object *list = json_object_new_array();
    for (size_t i = 0; i < map->nguests; i++) {
        const struct map_guest *g = &map->guests[i];
        if (nst_cpuset_test(threads ? &g->threads : &g->vcpus, cpu))
            nst_json_append(list, json_object_new_string(g->name), ok);
    }
    return list;
}

static struct json_object *
core_json(const struct nst_map *map, const struct nst_cell *cell,
          unsigned int first, const struct nst_cpuset *over, bool *ok)
{
    struct json_object *list = json_object_new_array();
    struct nst_cpuset threads;

    map_core_threads(map, cell, first, &threads);
    for (int cpu = nst_cpuset_next(&threads, 0); cpu >= 0;
         cpu = nst_cpuset_next(&threads, (unsigned int)cpu + 1)) {
        struct json_object *t = json_object_new_object();
        struct map_cpu info;
        map_cpu_info(map, over, (unsigned int)cpu, &info);
        nst_json_add_int(t, "cpu", cpu, ok);
        nst_json_add_string(t, "role", map_role_name(info.role), ok);
        nst_json_add_bool(t, "housekeeping",
                          nst_cpuset_test(&map->housekeeping,
                                          (unsigned int)cpu), ok);
        nst_json_add(t, "vcpus", holders_json(map, (unsigned int)cpu, false,
                                              ok), ok);
        nst_json_add(t, "threads", holders_json(map, (unsigned int)cpu, true,
                                                ok), ok);
        nst_json_append(list, t, ok);
    }
    return list;
}

static struct json_object *
pages_json(const struct nst_map *map, const struct nst_cell *cell,
           const struct nst_cell *after, bool *ok)
{
    struct json_object *list = json_object_new_array();
    for (size_t k = 0; k < cell->npages; k++) {
        const struct nst_pages *p = &cell->pages[k];
        const struct nst_pages *left = nst_cell_pages(after, p->size_kib);
        struct json_object *e = json_object_new_object();
        struct json_object *guests = json_object_new_array();
        nst_json_add_int(e, "size_kib", (long long)p->size_kib, ok);
        nst_json_add_int(e, "total", (long long)p->total, ok);
        nst_json_add_int(e, "free", (long long)(left ? left->free : p->free),
                         ok);
        for (size_t g = 0; g < map->nguests; g++) {
            const struct nst_page_counts *pc = &map->guests[g].pages;
            for (size_t i = 0; i < pc->n; i++) {
                if (pc->items[i].cell != cell->id ||
                    pc->items[i].size_kib != p->size_kib)
                    continue;
                struct json_object *u = json_object_new_object();
                nst_json_add_string(u, "guest", map->guests[g].name, ok);
                nst_json_add_int(u, "pages", pc->items[i].pages, ok);
                nst_json_append(guests, u, ok);
            }
        }
        nst_json_add(e, "guests", guests, ok);
        nst_json_append(list, e, ok);
    }
    return list;
}

static struct json_object *
cell_json(const struct nst_map *map, const struct nst_cell *cell,
          const struct nst_cell *after, const struct nst_cpuset *over,
          bool *ok)
{
    struct json_object *obj = json_object_new_object();
    struct json_object *cores = json_object_new_array();
    unsigned int *firsts = calloc(nst_cpuset_count(&cell->cpus) + 1,
                                  sizeof(*firsts));
    size_t n = firsts ? map_cell_cores(map, cell, firsts) : 0;

    *ok = *ok && firsts;
    nst_json_add_int(obj, "id", cell->id, ok);
    nst_json_add_cpuset(obj, "cpus", &cell->cpus, ok);
    nst_json_add_int(obj, "memory_kib", (long long)cell->memory_kib, ok);
    for (size_t k = 0; k < n; k++)
        nst_json_append(cores, core_json(map, cell, firsts[k], over, ok), ok);
    nst_json_add(obj, "cores", cores, ok);
    nst_json_add(obj, "pages", pages_json(map, cell, after, ok), ok);
    free(firsts);
    return obj;
}

static struct json_object *
guests_json(const struct nst_map *map, bool *ok)
{
    struct json_object *list = json_object_new_array();
    for (size_t i = 0; i < map->nguests; i++) {
        const struct map_guest *g = &map->guests[i];
        struct json_object *obj = json_object_new_object();
        struct nst_cpuset over;
        char mark[2] = { map_mark(i), 0 };
        map_overcommitted(map, i, &over);
        nst_json_add_string(obj, "name", g->name, ok);
        nst_json_add_string(obj, "mark", mark, ok);
        nst_json_add_cpuset(obj, "vcpus", &g->vcpus, ok);
        nst_json_add_cpuset(obj, "threads", &g->threads, ok);
        nst_json_add_cpuset(obj, "overcommitted", &over, ok);
        nst_json_add_string(obj, "note", g->note, ok);
        nst_json_append(list, obj, ok);
    }
    return list;
}

char *
nst_map_format_json(const struct nst_map *map)
{
    struct json_object *doc = json_object_new_object();
    struct json_object *host = json_object_new_object();
    struct json_object *cells = json_object_new_array();
    struct nst_host *after = map_host_after(map);
    struct nst_cpuset over;
    bool ok = after != NULL;

    map_all_overcommitted(map, &over);
    nst_json_add_int(host, "cpus", (long long)map->host->ncpus, &ok);
    nst_json_add_int(host, "cells", (long long)map->host->ncells, &ok);
    nst_json_add_int(host, "threads_per_core",
                     nst_host_threads_per_core(map->host), &ok);
    nst_json_add(doc, "host", host, &ok);
    nst_json_add_cpuset(doc, "housekeeping", &map->housekeeping, &ok);
    nst_json_add_cpuset(doc, "taken", &map->outside, &ok);
    nst_json_add(doc, "guests", guests_json(map, &ok), &ok);
    for (size_t c = 0; after && c < map->host->ncells; c++)
        nst_json_append(cells, cell_json(map, &map->host->cells[c],
                                         &after->cells[c], &over, &ok), &ok);
    nst_json_add(doc, "cells", cells, &ok);
    nst_host_free(after);
    return nst_json_finish(doc, ok);
}

/*
 * lint-memory.c: the lint rules on hugepages and memory limits
 */
#include <stdlib.h>
#include <string.h>

#include "lint-rules.h"

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
                lint_add(l, R_PAGE_NODESET, nst_printf(
                        "/domain/memoryBacking/hugepages/page"
                        "[@nodeset='%s']", nodeset),
                    nst_printf("<page nodeset='%s'> is not a list of guest "
                               "NUMA cells", nodeset),
                    lint_copy("list guest cell ids, e.g. nodeset='0-1'"));
            continue;
        }
        struct nst_cpuset missing = l->dom.pages[i].cells;
        nst_cpuset_subtract(&missing, &ids);
        if (!nst_cpuset_is_empty(&missing)) {
            char *text = nst_cpuset_format(&missing);
            lint_add(l, R_PAGE_NODESET, nst_printf(
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
                lint_copy("remove nodeset (one page size for all guest memory), "
                    "or define guest NUMA cells in <cpu><numa>; host nodes "
                    "go in <numatune>") :
                lint_copy("name only cells <cpu><numa> defines"));
            free(text);
        }
    }
}

/*
 * The host cells the memory of the guest cells in ids may come from
 * (NULL or empty: all the guest's memory, that is of every guest cell,
 * or the whole memory of a guest without cells): for each, the nodes
 * its <numatune> binding keeps it to (nsti_domain_binding), every cell
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
        if (nsti_numa_bind_confines(nsti_domain_binding(&l->dom, -1), &nodes))
            nst_cpuset_union(cells, &nodes);
        else
            *cells = all;
    }
    for (int id = nst_cpuset_next(ids, 0); id >= 0;
         id = nst_cpuset_next(ids, (unsigned int)id + 1)) {
        if (nsti_numa_bind_confines(nsti_domain_binding(&l->dom, id), &nodes))
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
        lint_add(l, R_PAGE_SIZE, lint_copy(target),
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
    char *text = nst_cpuset_format(&cells);
    lint_add(l, R_PAGES_FREE, lint_copy(target),
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

/* The path of a <page> in findings: by its nodeset when it has one. */
static char *
page_target(const struct nst_dom_page *p)
{
    return p->nodeset ?
        nst_printf("/domain/memoryBacking/hugepages/page[@nodeset='%s']",
                   p->nodeset) :
        lint_copy("/domain/memoryBacking/hugepages/page");
}

static void
rule_hugepages(struct lint *l)
{
    if (!l->dom.hugepages || !l->dom.has_memory)
        return;
    if (!l->dom.npages) {
        unsigned long long size = default_page_size(l->host);
        if (!size) {
            lint_add(l, R_PAGE_SIZE, lint_copy("/domain/memoryBacking/hugepages"),
                lint_copy("<hugepages> asks for the host's default hugepages, "
                    "but the host has no hugepage size: the domain does "
                    "not start"),
                lint_copy("remove <hugepages>, or run it on a host with "
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
        char *target = page_target(p);
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
        char *whose = cell < 0 ? lint_copy("the guest's memory") :
                      nst_printf("guest NUMA cell %ld's memory", cell);
        lint_add(l, R_PAGE_TOO_LARGE, page_target(p),
            nst_printf("hugepages of %llu KiB are larger than %s, %llu "
                       "KiB: QEMU refuses to start a guest whose memory "
                       "is smaller than one page", size,
                       whose ? whose : "?", mem),
            lint_copy("use a page size that divides that memory, such as "
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
        lint_add(l, R_PAGE_PIECES, page_target(p),
            nst_printf("hugepages of %llu KiB do not divide %s, %llu KiB: "
                       "QEMU backs each guest cell's memory and each DIMM on "
                       "its own and does not start one that is not a whole "
                       "number of pages", size, what, piece),
            lint_copy("use a page size that divides every guest cell and DIMM, "
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
    lint_add(l, R_PAGE_BACKING, lint_copy("/domain/memoryBacking/hugepages"),
        nst_printf("<hugepages> beside %s: %s: the domain does not define",
                   c.element, c.why),
        nst_printf("remove <hugepages> or %s", c.element));
}

static void
rule_hard_limit(struct lint *l)
{
    xmlNodePtr hard = nsti_child(nsti_child(l->root, "memtune"), "hard_limit");
    unsigned long long limit;

    if (!hard || !l->dom.has_memory || nsti_read_kib(hard, &limit) < 0 ||
        limit >= l->dom.memory_kib)
        return;
    lint_add(l, R_HARD_LIMIT, lint_copy("/domain/memtune/hard_limit"),
        nst_printf("memtune hard_limit %llu KiB is below the guest's memory "
                   "%llu KiB: the kernel kills QEMU once the guest uses its "
                   "memory", limit, l->dom.memory_kib),
        lint_copy("raise it above the memory plus QEMU's overhead, as the "
            "secure profile does, or remove <hard_limit>"));
}

void
lint_memory(struct lint *l)
{
    if (l->host)
        rule_hugepages(l);
    rule_page_nodeset(l);
    rule_hard_limit(l);
    rule_page_too_large(l);
    rule_page_pieces(l);
    rule_hugepages_backing(l);
}

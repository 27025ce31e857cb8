/*
 * rules-memory.c: the memory rules: hugepages (the largest size the
 * placement's host cells have free) and memtune (limits with room for
 * QEMU's overhead).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

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

/*
 * <memoryBacking> that chose against hugepages (run->dom's backing
 * conflict): with a <hugepages> beside it the input is one libvirt
 * refuses and which of the two goes is the operator's call (refused);
 * without, none is added (a warning).  A <hugepages> beside a file
 * source is both chosen and libvirt accepts them: the size is adjusted
 * like any other.  Returns 1 when the rule goes on, else what it
 * returns.
 */
static int
hugepages_conflict(struct run *run, xmlNodePtr huge)
{
    const struct nst_backing_conflict conflict = run->dom.backing_conflict;
    char *msg = NULL;
    int ret = 1;

    if (!run->dom.has_backing_conflict)
        return 1;
    if (huge && conflict.refused) {
        msg = nst_printf("<hugepages> beside %s: %s; remove one of "
                         "them", conflict.element, conflict.why);
        ret = policy_refuse(run, "hugepages", "/domain/memoryBacking",
                            msg ? msg : "out of memory");
    } else if (!huge) {
        msg = nst_printf("no <hugepages> added: <memoryBacking> has "
                         "%s, kept as chosen, and %s; the guest stays "
                         "on normal pages", conflict.element,
                         conflict.why);
        ret = policy_warn(run, "hugepages", "/domain/memoryBacking",
                          msg ? msg : "out of memory");
    }
    free(msg);
    return ret;
}

/* No hugepage size fits (page_shortfall says why): a warning, and a
 * <hugepages> already there goes, as the guest would not start with it
 * (lint's VN302 finds it). */
static int
hugepages_unfit(struct run *run, xmlNodePtr backing, xmlNodePtr huge)
{
    char *why = page_shortfall(run);
    char *msg = why ? nst_printf("%s; the guest stays on normal pages "
                                 "(reserve hugepages of a size that "
                                 "fits on the host to use them)", why)
                    : NULL;
    int ret = policy_warn(run, "hugepages", "/domain/memoryBacking",
                          msg ? msg : "out of memory");
    free(msg);
    if (ret < 0 || !huge) {
        free(why);
        return ret;
    }
    if (!why || nsti_remove(run->doc,
                           nsti_count_children(backing, NULL) == 1 ?
                           backing : huge) < 0) {
        free(why);
        return policy_oom(run);
    }
    nst_report_add(run->report, NST_CHANGE, "hugepages",
                   "/domain/memoryBacking/hugepages",
                   "removed <hugepages>: %s, so the guest would not "
                   "start with them", why);
    free(why);
    return 0;
}

/* One <page> of size for all guest cells; other sizes go.  Returns
 * whether it changed one, -1 when out of memory. */
static int
write_page(struct run *run, unsigned long long size)
{
    struct nst_cpuset guest_cells;
    int failed = 0;
    bool any = false;

    xmlNodePtr backing = nsti_ensure(run->doc, run->root, "memoryBacking",
                                    nst_order_domain, NULL);
    xmlNodePtr huge = backing ? nsti_ensure(run->doc, backing, "hugepages",
                                           nst_order_memory_backing,
                                           NULL) : NULL;
    if (!huge)
        return -1;
    xmlNodePtr page = nsti_child(huge, "page");
    for (xmlNodePtr p = page ? nsti_next(page, "page") : NULL, next; p;
         p = next) {
        next = nsti_next(p, "page");
        any |= changed(&failed, nsti_remove(run->doc, p));
    }
    if (!page) {
        page = nsti_insert(run->doc, huge, "page",
                          (const char *[]){ "page", NULL });
        if (!page)
            return -1;
        any = true;
    }
    nst_cpuset_clear_all(&guest_cells);
    for (size_t i = 0; i < run->placement.ncells; i++)
        nst_cpuset_set(&guest_cells, (unsigned int)i);
    char *cells = nst_cpuset_format(&guest_cells);
    if (!cells)
        return -1;
    any |= changed(&failed, set_number_attr(run->doc, page, "size", size));
    any |= changed(&failed, nsti_set_attr(run->doc, page, "unit", "KiB"));
    if (run->profile->numa)
        any |= changed(&failed, nsti_set_attr(run->doc, page, "nodeset",
                                             cells));
    else
        any |= changed(&failed, nsti_remove_attr(run->doc, page, "nodeset"));
    free(cells);
    return failed ? -1 : any;
}

/* The guest's memory on the largest hugepages its host cells have free
 * (pick_page_size), or, when none fits, on normal pages. */
int
policy_hugepages(struct run *run)
{
    const struct nst_placement *pl = &run->placement;
    xmlNodePtr backing = nsti_child(run->root, "memoryBacking");
    xmlNodePtr huge = nsti_child(backing, "hugepages");

    int ret = hugepages_conflict(run, huge);
    if (ret <= 0)
        return ret;
    unsigned long long size = pick_page_size(run);
    if (!size)
        return hugepages_unfit(run, backing, huge);
    int written = write_page(run, size);
    if (written < 0)
        return policy_oom(run);
    if (written)
        nst_report_add(run->report, NST_CHANGE, "hugepages",
                       "/domain/memoryBacking/hugepages",
                       "guest memory on %llu KiB pages, the largest size "
                       "host node %u has enough free of (%llu needed): "
                       "fewer TLB misses, no swapping",
                       size, pl->cells[0].host_cell,
                       pl->cells[0].memory_kib / size);
    return 0;
}


/* Whole-domain memory limits: the hard limit covers guest memory plus
 * QEMU's own overhead, so the limit can never kill a well-behaved
 * guest, and a runaway QEMU cannot take the host's memory.  With memory
 * hotplug the guest grows up to <maxMemory> while it runs (a DIMM or
 * virtio-mem added live changes no limit), so that is the guest memory
 * the hard limit must cover. */
int
policy_memtune(struct run *run)
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

    xmlNodePtr memtune = nsti_ensure(run->doc, run->root, "memtune",
                                    nst_order_domain, NULL);
    if (!memtune)
        return policy_oom(run);
    for (size_t i = 0; i < 2; i++) {
        xmlNodePtr node = nsti_ensure(run->doc, memtune, names[i],
                                     nst_order_memtune, NULL);
        unsigned long long have;
        if (!node)
            return policy_oom(run);
        if (nsti_read_kib(node, &have) == 0 && have == values[i] &&
            nsti_attr_is(node, "unit", "KiB"))
            continue;
        any |= changed(&failed, set_number_text(run->doc, node, values[i]));
        any |= changed(&failed, nsti_set_attr(run->doc, node, "unit", "KiB"));
    }
    /* libvirt's memtune refuses a swap limit below the hard limit, and
     * cgroup v1 cannot apply one.  The operator set it, so the report
     * says what it was. */
    xmlNodePtr swap = nsti_child(memtune, "swap_hard_limit");
    unsigned long long swap_kib;
    bool swap_raised = swap && nsti_read_kib(swap, &swap_kib) == 0 &&
                       swap_kib < hard;
    if (swap_raised) {
        changed(&failed, set_number_text(run->doc, swap, hard));
        changed(&failed, nsti_set_attr(run->doc, swap, "unit", "KiB"));
    }
    if (failed)
        return policy_oom(run);
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

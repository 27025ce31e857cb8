/*
 * usage.c: what domains hold of a host, counted for planning one beside
 * the others (see nestify.h, "many domains")
 *
 * Planning many domains, or one beside others, must not promise the same
 * CPUs or free hugepages twice: what the other domains hold is taken
 * off the host first.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int
add_one(struct nst_page_counts *p, unsigned int cell,
        unsigned long long size_kib, long long pages)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->items[i].cell == cell && p->items[i].size_kib == size_kib) {
            p->items[i].pages += pages;
            return 0;
        }
    }
    if (NST_GROW(p->items, p->n + 1, p->alloc) < 0)
        return -1;
    p->items[p->n++] = (struct nst_page_count){ cell, size_kib, pages };
    return 0;
}

int
nst_page_counts_add_uses(struct nst_page_counts *p,
                         const struct nst_page_use *uses, size_t n, int sign)
{
    for (size_t i = 0; i < n; i++)
        if (add_one(p, uses[i].host_cell, uses[i].size_kib,
                    sign * (long long)uses[i].pages) < 0)
            return -1;
    return 0;
}

int
nst_page_counts_add(struct nst_page_counts *p,
                    const struct nst_page_counts *other, int sign)
{
    for (size_t i = 0; i < other->n; i++)
        if (add_one(p, other->items[i].cell, other->items[i].size_kib,
                    sign * other->items[i].pages) < 0)
            return -1;
    return 0;
}

void
nst_page_counts_take(struct nst_host *host, const struct nst_page_counts *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct nst_page_count *c = &p->items[i];
        const struct nst_cell *cell = nst_host_cell(host, c->cell);
        for (size_t k = 0; cell && k < cell->npages; k++) {
            const struct nst_pages *pages = &cell->pages[k];
            if (pages->size_kib != c->size_kib)
                continue;
            long long left = (long long)pages->free - c->pages;
            if (left < 0)
                left = 0;
            if ((unsigned long long)left > pages->total)
                left = (long long)pages->total;
            nst_host_set_free_pages(host, c->cell, c->size_kib,
                                    (unsigned long long)left, NULL);
        }
    }
}

void
nst_page_counts_clear(struct nst_page_counts *p)
{
    free(p->items);
    p->items = NULL;
    p->n = 0;
    p->alloc = 0;
}

void
nst_holdings_clear(struct nst_holdings *h)
{
    nst_page_counts_clear(&h->pages);
    memset(h, 0, sizeof(*h));
}

/* Counts one domain per CPU of pins in (sign 1) or out (-1) of
 * holders. */
static void
count_cpus(unsigned int *holders, const struct nst_cpuset *pins, int sign)
{
    for (int cpu = pins ? nst_cpuset_next(pins, 0) : -1; cpu >= 0;
         cpu = nst_cpuset_next(pins, (unsigned int)cpu + 1)) {
        if (sign > 0)
            holders[cpu]++;
        else if (holders[cpu])
            holders[cpu]--;
    }
}

int
nst_holdings_add(struct nst_holdings *h, const struct nst_cpuset *pins,
                 const struct nst_cpuset *threads,
                 const struct nst_page_counts *pages, int sign)
{
    count_cpus(h->holders, pins, sign);
    count_cpus(h->thread_holders, threads, sign);
    return pages ? nst_page_counts_add(&h->pages, pages, sign) : 0;
}

/* Whether a domain other than the one holding own holds cpu in
 * holders. */
static bool
held_by_other(const unsigned int *holders, const struct nst_cpuset *own,
              unsigned int cpu)
{
    return holders[cpu] > (own && nst_cpuset_test(own, cpu) ? 1u : 0u);
}

void
nst_holdings_taken(const struct nst_holdings *h,
                   const struct nst_cpuset *own,
                   const struct nst_cpuset *own_threads,
                   struct nst_cpuset *out)
{
    *out = h->outside;
    for (unsigned int cpu = 0; cpu < NST_MAX_CPUS; cpu++)
        if (held_by_other(h->holders, own, cpu) ||
            held_by_other(h->thread_holders, own_threads, cpu))
            nst_cpuset_set(out, cpu);
}

struct nst_host *
nst_holdings_host(const struct nst_holdings *h, const struct nst_host *host,
                  const struct nst_page_counts *own_pages)
{
    struct nst_host *view = nst_host_clone(host);
    struct nst_page_counts others = { 0 };

    if (view && (nst_page_counts_add(&others, &h->pages, 1) < 0 ||
                 (own_pages &&
                  nst_page_counts_add(&others, own_pages, -1) < 0))) {
        nst_host_free(view);
        view = NULL;
    }
    if (view)
        nst_page_counts_take(view, &others);
    nst_page_counts_clear(&others);
    return view;
}

/*
 * page-usage.c: hugepages counted per host cell and size
 *
 * Planning many domains, or one beside others, must not promise the same
 * free hugepages twice: what the other domains' definitions use is taken
 * off the host's free counts first, as their pinned CPUs are taken.
 */
#include <stdlib.h>

#include "apply.h"
#include "tool.h"

static int
add_one(struct vn_pages *p, unsigned int cell, unsigned long long size_kib,
        long long pages)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->items[i].cell == cell && p->items[i].size_kib == size_kib) {
            p->items[i].pages += pages;
            return 0;
        }
    }
    struct vn_page_count *grown = realloc(p->items,
                                          (p->n + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    p->items = grown;
    p->items[p->n++] = (struct vn_page_count){ cell, size_kib, pages };
    return 0;
}

int
vn_pages_add_uses(struct vn_pages *p, const struct nst_page_use *uses,
                  size_t n, int sign)
{
    for (size_t i = 0; i < n; i++)
        if (add_one(p, uses[i].host_cell, uses[i].size_kib,
                    sign * (long long)uses[i].pages) < 0)
            return -1;
    return 0;
}

int
vn_pages_add(struct vn_pages *p, const struct vn_pages *other, int sign)
{
    for (size_t i = 0; i < other->n; i++)
        if (add_one(p, other->items[i].cell, other->items[i].size_kib,
                    sign * other->items[i].pages) < 0)
            return -1;
    return 0;
}

void
vn_pages_take(struct nst_host *host, const struct vn_pages *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct vn_page_count *c = &p->items[i];
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
vn_pages_clear(struct vn_pages *p)
{
    free(p->items);
    p->items = NULL;
    p->n = 0;
}

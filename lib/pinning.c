/*
 * pinning.c: the CPU allocator -- places a guest's vCPUs on host CPUs
 *
 * The rules follow OpenStack Nova's libvirt driver (hardware.py's NUMA
 * fitting), reduced to what a single domain edit needs:
 *
 * Usable CPUs.  Every CPU of a host cell (cells[].cpus) minus req->taken
 * (other domains' pins) minus req->housekeeping (emulator and I/O
 * threads).  A "core" is a set of SMT siblings (host->cpus[].siblings,
 * restricted to the cell); cores are ordered by their lowest CPU id and
 * the threads of a core by ascending id.  The host's threads per core
 * is the largest core seen; it has SMT when that is above 1.
 *
 * Thread policies, per host cell:
 *  - prefer: pack vCPUs onto sibling threads, filling every usable thread
 *    of a core before the next one; cores whose threads are all usable
 *    come first, then partly usable cores, so a guest gets whole cores
 *    for as long as the cell has them.
 *  - isolate: each vCPU gets a core whose every thread is usable; the
 *    vCPU runs on the lowest thread and the other threads are consumed
 *    (in out->used) but left idle, so no other guest shares the core.
 *  - require: the host must have SMT; only cores whose every thread is
 *    usable and that have the host's full thread count are used, packed
 *    thread by thread, so a guest cell's vCPUs must be a multiple of the
 *    threads per core.
 *
 * Cell choice.  The guest goes into ONE host cell when one has room for
 * its vCPUs (per the policy) and cell memory_kib >= req->memory_kib; of
 * the cells that fit, the one with the fewest usable CPUs left afterwards
 * wins (best fit keeps big holes for big guests), ties to the lowest
 * cell id; with req->prefer_hugepages, a cell whose free hugepages can
 * back the guest's memory wins over one whose cannot (a guest on normal
 * pages next to free hugepages wastes both).  Only when no single cell fits and req->allow_split is the
 * guest split, evenly (Nova never gives guest cells uneven shares): for
 * the smallest k in 2..ncells (at most NST_MAX_GUEST_CELLS) that divides
 * the vCPUs, the k lowest-id cells that each hold vcpus/k vCPUs and the
 * memory share.  Guest cell i gets vCPUs [i*vcpus/k, (i+1)*vcpus/k) and
 * memory floor(memory/k) rounded down to a multiple of 1024 KiB (guest
 * cells are sized in MiB), the last cell the remainder so the shares add
 * up to req->memory_kib exactly.  Every chosen cell must hold the largest
 * (the last) share, so which cell gets the remainder never matters.
 *
 * Guest topology.  out->threads is the host's threads per core when the
 * policy is prefer or require, the host has SMT, every guest cell's vCPU
 * count is a multiple of it and every aligned group of that many vCPUs
 * really sits on the threads of one host core; otherwise 1 (always 1 for
 * isolate).  The last condition keeps the guest from being told that two
 * vCPUs are siblings when prefer had to fall back to partly used cores.
 *
 * Refusals return -1 with *reason naming the counts that are short.
 * Everything is computed from the struct nst_host fields alone, with no
 * global state, so the same inputs always give the same placement.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One core of a host cell: a run of ctx.threads. */
struct core {
    unsigned int off;        /* first thread in ctx.threads */
    unsigned int nthreads;
    unsigned int nusable;
};

/* What a host cell has, counted once up front. */
struct cell_info {
    unsigned int first_core;
    unsigned int ncores;
    unsigned int ncpus;
    unsigned int nhousekeeping;
    unsigned int ntaken;     /* taken and not housekeeping */
    unsigned int nusable;
    unsigned int nfull;      /* cores whose every thread is usable */
    unsigned int nfull_smt;  /* of those, cores with ctx.smt threads */
};

struct ctx {
    const struct nst_host *host;
    const struct nst_placement_request *req;
    struct nst_cpuset usable;
    unsigned int smt;        /* host threads per core */
    struct core *cores;
    unsigned int ncores;
    unsigned int *threads;   /* cpu ids, grouped by core */
    unsigned int *core_of;   /* core_of[cpu]: index into cores */
    struct cell_info *cells;
};

static int
cmp_cpu_id(const void *key, const void *elem)
{
    unsigned int id = *(const unsigned int *)key;
    const struct nst_host_cpu *cpu = elem;
    return id < cpu->id ? -1 : id > cpu->id;
}

/* host->cpus is sorted by id.  Returns NULL for a cpu it does not list. */
static const struct nst_host_cpu *
find_cpu(const struct nst_host *host, unsigned int id)
{
    if (!host->cpus || !host->ncpus)
        return NULL;
    return bsearch(&id, host->cpus, host->ncpus, sizeof(*host->cpus),
                   cmp_cpu_id);
}

static void
ctx_free(struct ctx *c)
{
    free(c->cores);
    free(c->threads);
    free(c->core_of);
    free(c->cells);
}

/*
 * Adds the core of cpu, the lowest cpu of host cell ci not yet seen, to
 * c: cpu and its siblings in the cell that are not seen yet (siblings
 * outside the cell are ignored, so cells never share a core), counted
 * into the cell's info.  *nthreads is the count of c->threads.
 */
static void
add_core(struct ctx *c, size_t ci, unsigned int cpu, struct nst_cpuset *seen,
         unsigned int *nthreads)
{
    const struct nst_cpuset *cpus = &c->host->cells[ci].cpus;
    const struct nst_cpuset *housekeeping = c->req->housekeeping;
    struct cell_info *info = &c->cells[ci];
    struct core *core = &c->cores[c->ncores];
    const struct nst_host_cpu *hc = find_cpu(c->host, cpu);

    core->off = *nthreads;
    /* cpu is the lowest unseen cpu of the cell, so it comes first */
    for (int t = (int)cpu; t >= 0;
         t = hc ? nst_cpuset_next(&hc->siblings, (unsigned int)t + 1) : -1) {
        unsigned int id = (unsigned int)t;
        if (id != cpu &&
            (!nst_cpuset_test(cpus, id) || nst_cpuset_test(seen, id)))
            continue;
        nst_cpuset_set(seen, id);
        c->threads[(*nthreads)++] = id;
        c->core_of[id] = c->ncores;
        core->nthreads++;
        info->ncpus++;
        if (nst_cpuset_test(&c->usable, id))
            core->nusable++;
        else if (housekeeping && nst_cpuset_test(housekeeping, id))
            info->nhousekeeping++;
        else
            info->ntaken++;
    }
    if (core->nthreads > c->smt)
        c->smt = core->nthreads;
    info->nusable += core->nusable;
    c->ncores++;
}

/* Full cores need the final threads per core, so they are counted once
 * every core is known. */
static void
count_full_cores(struct ctx *c)
{
    for (size_t ci = 0; ci < c->host->ncells; ci++) {
        struct cell_info *info = &c->cells[ci];
        for (unsigned int k = 0; k < info->ncores; k++) {
            const struct core *core = &c->cores[info->first_core + k];
            if (core->nusable != core->nthreads)
                continue;
            info->nfull++;
            if (core->nthreads == c->smt)
                info->nfull_smt++;
        }
    }
}

/*
 * Splits every host cell into cores and counts what each cell has.  A
 * cpu listed by two cells belongs to the first.  Returns -1 when out of
 * memory.
 */
static int
ctx_init(struct ctx *c, const struct nst_host *host,
         const struct nst_placement_request *req)
{
    struct nst_cpuset all, seen;
    unsigned int nthreads = 0;

    memset(c, 0, sizeof(*c));
    c->host = host;
    c->req = req;

    nst_cpuset_clear_all(&all);
    for (size_t i = 0; i < host->ncells; i++)
        nst_cpuset_union(&all, &host->cells[i].cpus);
    c->usable = all;
    if (req->taken)
        nst_cpuset_subtract(&c->usable, req->taken);
    if (req->housekeeping)
        nst_cpuset_subtract(&c->usable, req->housekeeping);

    unsigned int total = nst_cpuset_count(&all);
    c->cells = calloc(host->ncells, sizeof(*c->cells));
    c->cores = calloc(total ? total : 1, sizeof(*c->cores));
    c->threads = calloc(total ? total : 1, sizeof(*c->threads));
    c->core_of = calloc(NST_MAX_CPUS, sizeof(*c->core_of));
    if (!c->cells || !c->cores || !c->threads || !c->core_of)
        return -1;

    nst_cpuset_clear_all(&seen);
    for (size_t ci = 0; ci < host->ncells; ci++) {
        const struct nst_cpuset *cpus = &host->cells[ci].cpus;
        c->cells[ci].first_core = c->ncores;
        for (int cpu = nst_cpuset_next(cpus, 0); cpu >= 0;
             cpu = nst_cpuset_next(cpus, (unsigned int)cpu + 1))
            if (!nst_cpuset_test(&seen, (unsigned int)cpu))
                add_core(c, ci, (unsigned int)cpu, &seen, &nthreads);
        c->cells[ci].ncores = c->ncores - c->cells[ci].first_core;
    }
    count_full_cores(c);
    if (!c->smt)
        c->smt = 1;
    return 0;
}

/* Whether host cell ci has room for n vCPUs under the policy. */
static bool
cell_fits_cpus(const struct ctx *c, size_t ci, unsigned int n)
{
    const struct cell_info *info = &c->cells[ci];

    switch (c->req->policy) {
    case NST_THREAD_PREFER:
        return n <= info->nusable;
    case NST_THREAD_ISOLATE:
        return n <= info->nfull;
    case NST_THREAD_REQUIRE:
        return c->smt > 1 && n % c->smt == 0 && n / c->smt <= info->nfull_smt;
    case NST_THREAD_LAST:
        break;
    }
    return false;
}

static bool
cell_fits(const struct ctx *c, size_t ci, unsigned int n,
          unsigned long long memory_kib)
{
    return cell_fits_cpus(c, ci, n) &&
           c->host->cells[ci].memory_kib >= memory_kib;
}

/*
 * Pins n vCPUs in host cell ci (which must fit them) into pins[0..n) and
 * adds every consumed cpu to used.  Returns how many cpus it consumed.
 */
static unsigned int
fill_cell(const struct ctx *c, size_t ci, unsigned int n, unsigned int *pins,
          struct nst_cpuset *used)
{
    const struct cell_info *info = &c->cells[ci];
    unsigned int done = 0, consumed = 0;

    for (int pass = 0; pass < 2 && done < n; pass++) {
        for (unsigned int k = 0; k < info->ncores && done < n; k++) {
            const struct core *core = &c->cores[info->first_core + k];
            const unsigned int *th = &c->threads[core->off];
            bool full = core->nusable == core->nthreads;

            switch (c->req->policy) {
            case NST_THREAD_PREFER:
                /* whole cores first (pass 0), then what is left */
                if (full != (pass == 0) || !core->nusable)
                    break;
                for (unsigned int t = 0; t < core->nthreads && done < n; t++) {
                    if (!nst_cpuset_test(&c->usable, th[t]))
                        continue;
                    pins[done++] = th[t];
                    nst_cpuset_set(used, th[t]);
                    consumed++;
                }
                break;
            case NST_THREAD_ISOLATE:
                if (pass || !full)
                    break;
                pins[done++] = th[0];
                for (unsigned int t = 0; t < core->nthreads; t++)
                    nst_cpuset_set(used, th[t]);
                consumed += core->nthreads;
                break;
            case NST_THREAD_REQUIRE:
                if (pass || !full || core->nthreads != c->smt)
                    break;
                for (unsigned int t = 0; t < core->nthreads; t++) {
                    pins[done++] = th[t];
                    nst_cpuset_set(used, th[t]);
                }
                consumed += core->nthreads;
                break;
            case NST_THREAD_LAST:
                break;
            }
        }
    }
    return consumed;
}

/* Cpus the policy consumes for n vCPUs in cell ci (fill_cell's count). */
static unsigned int
cell_consumed(const struct ctx *c, size_t ci, unsigned int n)
{
    const struct cell_info *info = &c->cells[ci];
    unsigned int consumed = 0, got = 0;

    if (c->req->policy != NST_THREAD_ISOLATE)
        return n;
    for (unsigned int k = 0; k < info->ncores && got < n; k++) {
        const struct core *core = &c->cores[info->first_core + k];
        if (core->nusable == core->nthreads) {
            consumed += core->nthreads;
            got++;
        }
    }
    return consumed;
}

/*
 * The guest's threads per core: the host's when every aligned group of
 * that many vCPUs of every guest cell sits on one host core.
 */
static unsigned int
guest_threads(const struct ctx *c, const struct nst_placement *out)
{
    unsigned int smt = c->smt;

    if (c->req->policy == NST_THREAD_ISOLATE || smt < 2)
        return 1;
    for (size_t i = 0; i < out->ncells; i++) {
        const struct nst_guest_cell *cell = &out->cells[i];
        if (cell->nvcpus % smt)
            return 1;
        for (unsigned int g = 0; g < cell->nvcpus; g += smt) {
            const unsigned int *pins = &out->pins[cell->first_vcpu + g];
            for (unsigned int t = 1; t < smt; t++)
                if (c->core_of[pins[t]] != c->core_of[pins[0]])
                    return 1;
        }
    }
    return smt;
}

/*
 * Fills out with the guest split evenly over the k host cells idx[]
 * (ascending).  Returns -1 when out of memory.
 */
static int
place_cells(const struct ctx *c, const size_t *idx, size_t k,
            struct nst_placement *out)
{
    unsigned int n = c->req->vcpus, share = n / (unsigned int)k;
    unsigned long long mem = c->req->memory_kib;
    unsigned long long mem_share = mem / k / 1024 * 1024;

    out->pins = calloc(n, sizeof(*out->pins));
    if (!out->pins)
        return -1;
    out->nvcpus = n;
    out->ncells = k;
    nst_cpuset_clear_all(&out->used);
    for (size_t i = 0; i < k; i++) {
        struct nst_guest_cell *cell = &out->cells[i];
        cell->host_cell = c->host->cells[idx[i]].id;
        cell->first_vcpu = (unsigned int)i * share;
        cell->nvcpus = share;
        cell->memory_kib = i + 1 < k ? mem_share : mem - mem_share * (k - 1);
        fill_cell(c, idx[i], share, out->pins + cell->first_vcpu, &out->used);
    }
    out->threads = guest_threads(c, out);
    return 0;
}

/* "s" unless n is 1, for the counts in messages. */
static const char *
plural(unsigned int n)
{
    return n == 1 ? "" : "s";
}

/* What cell ci has free for the policy, in its unit (cpus or cores). */
static unsigned int
cell_capacity(const struct ctx *c, size_t ci)
{
    switch (c->req->policy) {
    case NST_THREAD_ISOLATE:
        return c->cells[ci].nfull;
    case NST_THREAD_REQUIRE:
        return c->cells[ci].nfull_smt;
    default:
        return c->cells[ci].nusable;
    }
}

/* The unit of cell_capacity(), for count of them. */
static void
add_unit(const struct ctx *c, struct nst_buf *buf, unsigned int count)
{
    switch (c->req->policy) {
    case NST_THREAD_ISOLATE:
        nst_buf_addf(buf, "free whole core%s", plural(count));
        break;
    case NST_THREAD_REQUIRE:
        nst_buf_addf(buf, "free whole core%s of %u threads", plural(count),
                     c->smt);
        break;
    default:
        nst_buf_addf(buf, "free cpu%s", plural(count));
        break;
    }
}

/* Why no single host cell holds the guest. */
static void
explain_single(const struct ctx *c, struct nst_buf *buf)
{
    const struct nst_host *host = c->host;
    unsigned int n = c->req->vcpus;
    size_t best = 0;
    bool cpus_fit = false;

    if (c->req->policy == NST_THREAD_REQUIRE && n % c->smt) {
        nst_buf_addf(buf, "thread policy 'require' packs whole cores, so the "
                     "guest's %u vcpu%s must be a multiple of the host's %u "
                     "threads per core", n, plural(n), c->smt);
        return;
    }
    for (size_t ci = 0; ci < host->ncells; ci++) {
        if (cell_capacity(c, ci) > cell_capacity(c, best))
            best = ci;
        if (cell_fits_cpus(c, ci, n))
            cpus_fit = true;
    }

    if (cpus_fit) {
        /* cpus fit somewhere, memory does not: name the roomiest such cell */
        size_t mbest = host->ncells;
        for (size_t ci = 0; ci < host->ncells; ci++)
            if (cell_fits_cpus(c, ci, n) &&
                (mbest == host->ncells ||
                 host->cells[ci].memory_kib > host->cells[mbest].memory_kib))
                mbest = ci;
        nst_buf_adds(buf, "guest needs ");
        nsti_buf_add_size(buf, c->req->memory_kib);
        nst_buf_addf(buf, " of memory but the most any host cell with room "
                     "for its %u cpu%s has is ", n, plural(n));
        nsti_buf_add_size(buf, host->cells[mbest].memory_kib);
        nst_buf_addf(buf, " (cell %u)", host->cells[mbest].id);
        return;
    }

    const struct cell_info *info = &c->cells[best];
    unsigned int id = host->cells[best].id;
    switch (c->req->policy) {
    case NST_THREAD_ISOLATE:
        nst_buf_addf(buf, "guest needs %u cpu%s on cores of their own (thread "
                     "policy 'isolate') but the most free whole cores any "
                     "host cell has is %u (cell %u: %u core%s, %u with a "
                     "housekeeping or taken thread)", n, plural(n),
                     info->nfull, id, info->ncores, plural(info->ncores),
                     info->ncores - info->nfull);
        break;
    case NST_THREAD_REQUIRE:
        nst_buf_addf(buf, "guest needs %u free whole core%s of %u threads "
                     "for its %u cpus (thread policy 'require') but the most "
                     "any host cell has is %u (cell %u: %u core%s, %u with a "
                     "housekeeping, taken or missing thread)", n / c->smt,
                     plural(n / c->smt), c->smt, n, info->nfull_smt, id,
                     info->ncores, plural(info->ncores),
                     info->ncores - info->nfull_smt);
        break;
    default:
        nst_buf_addf(buf, "guest needs %u cpu%s but the most any host cell "
                     "has free is %u (cell %u: %u cpu%s, %u housekeeping, "
                     "%u taken)", n, plural(n), info->nusable, id,
                     info->ncpus, plural(info->ncpus), info->nhousekeeping,
                     info->ntaken);
        break;
    }
}

/*
 * Why no even split fits.  show_mem adds the cells' memory, for when
 * memory and not cpus was short somewhere; ksplit is the largest cell
 * count tried.
 */
static void
explain_split(const struct ctx *c, struct nst_buf *buf, bool show_mem,
              bool any_divisor, size_t ksplit)
{
    const struct nst_host *host = c->host;
    unsigned int n = c->req->vcpus;
    bool same = true;

    for (size_t ci = 1; ci < host->ncells; ci++)
        if (cell_capacity(c, ci) != cell_capacity(c, 0) ||
            (show_mem &&
             host->cells[ci].memory_kib != host->cells[0].memory_kib))
            same = false;

    nst_buf_addf(buf, "guest needs %u cpu%s", n, plural(n));
    if (c->req->policy == NST_THREAD_ISOLATE)
        nst_buf_adds(buf, " on cores of their own (thread policy 'isolate')");
    if (show_mem) {
        nst_buf_adds(buf, " and ");
        nsti_buf_add_size(buf, c->req->memory_kib);
        nst_buf_adds(buf, " of memory");
    }
    nst_buf_addf(buf, " and cannot be split evenly over the host's %zu cells",
                 host->ncells);
    if (same) {
        nst_buf_addf(buf, " with %u ", cell_capacity(c, 0));
        add_unit(c, buf, cell_capacity(c, 0));
        if (show_mem) {
            nst_buf_adds(buf, " and ");
            nsti_buf_add_size(buf, host->cells[0].memory_kib);
            nst_buf_adds(buf, " of memory");
        }
        nst_buf_adds(buf, " each");
    } else {
        nst_buf_adds(buf, " (");
        add_unit(c, buf, 2);
        nst_buf_adds(buf, show_mem ? " and memory: " : ": ");
        for (size_t ci = 0; ci < host->ncells; ci++) {
            if (ci == 8) {
                nst_buf_adds(buf, ", ...");
                break;
            }
            nst_buf_addf(buf, "%scell %u: %u", ci ? ", " : "",
                         host->cells[ci].id, cell_capacity(c, ci));
            if (show_mem) {
                nst_buf_adds(buf, " and ");
                nsti_buf_add_size(buf, host->cells[ci].memory_kib);
            }
        }
        nst_buf_adds(buf, ")");
    }
    if (!any_divisor) {
        nst_buf_addf(buf, "; %u vcpu%s cannot be divided evenly ", n,
                     plural(n));
        if (c->req->policy == NST_THREAD_REQUIRE)
            nst_buf_addf(buf, "into whole cores of %u threads ", c->smt);
        if (ksplit == 2)
            nst_buf_adds(buf, "between 2 cells");
        else
            nst_buf_addf(buf, "among 2 to %zu cells", ksplit);
    }
}

/* Refuses a request no host can meet; -1 with *reason set. */
static int
check_request(const struct nst_host *host,
              const struct nst_placement_request *req, char **reason)
{
    unsigned int n = req->vcpus;

    if ((unsigned int)req->policy >= NST_THREAD_LAST) {
        nst_set_error(reason, "unknown thread policy %d", (int)req->policy);
        return -1;
    }
    if (n == 0) {
        nst_set_error(reason, "guest has no vcpus to place");
        return -1;
    }
    if (n > NST_MAX_CPUS) {
        nst_set_error(reason, "guest has %u vcpus, more than the %d cpus a "
                      "host can have", n, NST_MAX_CPUS);
        return -1;
    }
    if (!host->ncells) {
        nst_set_error(reason, "host has no numa cells to place the guest in");
        return -1;
    }
    return 0;
}

/* The one cell for the whole guest: best fit, ties to the lowest id;
 * with prefer_hugepages, the cells that can back the memory with
 * hugepages first.  host->ncells when none fits (*show_mem set when
 * one had the CPUs but not the memory). */
static size_t
pick_single_cell(const struct ctx *c, bool *show_mem)
{
    const struct nst_host *host = c->host;
    const struct nst_placement_request *req = c->req;
    unsigned int n = req->vcpus, best_left = 0;
    size_t best = host->ncells;
    bool best_huge = false;

    for (size_t ci = 0; ci < host->ncells; ci++) {
        if (!cell_fits(c, ci, n, req->memory_kib)) {
            if (cell_fits_cpus(c, ci, n))
                *show_mem = true;
            continue;
        }
        unsigned int left = c->cells[ci].nusable - cell_consumed(c, ci, n);
        bool huge = req->prefer_hugepages &&
                    nst_cell_hugepage_size(&host->cells[ci],
                                           req->memory_kib) != 0;
        if (best == host->ncells || (huge && !best_huge) ||
            (huge == best_huge && left < best_left)) {
            best = ci;
            best_left = left;
            best_huge = huge;
        }
    }
    return best;
}

/* The smallest even split (see the top of this file): the count of
 * cells, their indexes in idx; 0 when none fits (*show_mem set when
 * cells had the CPUs but not the memory, *any_divisor when some count
 * divided the vCPUs). */
static size_t
pick_split(const struct ctx *c, size_t kmax, size_t *idx, bool *show_mem,
           bool *any_divisor)
{
    const struct nst_placement_request *req = c->req;
    unsigned int n = req->vcpus;

    for (size_t k = 2; k <= kmax; k++) {
        unsigned int share = n / (unsigned int)k;
        unsigned long long mem = req->memory_kib;
        unsigned long long last = mem - mem / k / 1024 * 1024 * (k - 1);
        size_t found = 0, cpu_found = 0;

        if (n % k || (req->policy == NST_THREAD_REQUIRE && share % c->smt))
            continue;
        *any_divisor = true;
        for (size_t ci = 0; ci < c->host->ncells && found < k; ci++) {
            if (cell_fits_cpus(c, ci, share))
                cpu_found++;
            if (cell_fits(c, ci, share, last))
                idx[found++] = ci;
        }
        if (found == k)
            return k;
        if (cpu_found >= k)
            *show_mem = true;
    }
    return 0;
}

/*
 * See nestify.h and the top of this file.  *out is overwritten, never
 * freed: clear an earlier placement first.  On success out->pins is a
 * new array the caller owns (nst_placement_clear frees it); on -1 out is
 * empty and *reason (which must be NULL or a string nst_place may free)
 * holds a new message the caller frees.  reason may be NULL.
 */
int
nst_place(const struct nst_host *host,
          const struct nst_placement_request *req,
          struct nst_placement *out, char **reason)
{
    struct ctx c;
    struct nst_buf buf = { 0 };
    size_t idx[NST_MAX_GUEST_CELLS], k = 0;
    bool show_mem = false, any_divisor = false;
    char *text;
    int ret = -1;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    if (check_request(host, req, reason) < 0)
        return -1;
    if (ctx_init(&c, host, req) < 0)
        goto oom;
    if (req->policy == NST_THREAD_REQUIRE && c.smt < 2) {
        nst_set_error(reason, "thread policy 'require' needs an SMT host and "
                      "this one has 1 thread per core");
        goto cleanup;
    }
    if (req->policy == NST_THREAD_REQUIRE && req->vcpus % c.smt) {
        /* no cell count helps: every share would hold a partial core */
        explain_single(&c, &buf);
        goto refuse;
    }

    size_t kmax = host->ncells < NST_MAX_GUEST_CELLS ? host->ncells
                                                     : NST_MAX_GUEST_CELLS;
    idx[0] = pick_single_cell(&c, &show_mem);
    if (idx[0] < host->ncells)
        k = 1;
    else if (req->allow_split && kmax >= 2)
        k = pick_split(&c, kmax, idx, &show_mem, &any_divisor);
    if (k) {
        if (place_cells(&c, idx, k, out) < 0)
            goto oom;
        ret = 0;
        goto cleanup;
    }
    if (req->allow_split && kmax >= 2)
        explain_split(&c, &buf, show_mem, any_divisor, kmax);
    else
        explain_single(&c, &buf);
 refuse:
    text = nst_buf_finish(&buf, NULL);
    if (!text)
        goto oom;
    nst_set_error(reason, "%s", text);
    free(text);
    goto cleanup;

 oom:
    nst_placement_clear(out);
    nst_set_error(reason, "out of memory");
    ret = -1;
 cleanup:
    ctx_free(&c);
    return ret;
}

/* The index of the host cell holding cpu, or ncells. */
static size_t
cell_index_of(const struct nst_host *host, unsigned int cpu)
{
    for (size_t ci = 0; ci < host->ncells; ci++)
        if (nst_cpuset_test(&host->cells[ci].cpus, cpu))
            return ci;
    return host->ncells;
}

/*
 * Keeping what is there is how a re-run avoids reshuffling guests that
 * are already well placed: pins is valid when nst_place could have made
 * it now, in one host cell (a split guest is placed afresh).
 */
int
nst_place_keep(const struct nst_host *host,
               const struct nst_placement_request *req,
               const unsigned int *pins, struct nst_placement *out)
{
    struct ctx c;
    unsigned int n = req->vcpus;
    unsigned int per_core[NST_MAX_CPUS];
    struct nst_cpuset seen;
    int ret = -1;

    memset(out, 0, sizeof(*out));
    if (!n || n > NST_MAX_CPUS || (unsigned int)req->policy >= NST_THREAD_LAST ||
        !host->ncells || ctx_init(&c, host, req) < 0)
        return -1;
    size_t ci = cell_index_of(host, pins[0]);
    if (ci == host->ncells || host->cells[ci].memory_kib < req->memory_kib)
        goto out;
    nst_cpuset_clear_all(&seen);
    memset(per_core, 0, sizeof(per_core));
    for (unsigned int v = 0; v < n; v++) {
        unsigned int cpu = pins[v];
        if (cpu >= NST_MAX_CPUS || nst_cpuset_test(&seen, cpu) ||
            !nst_cpuset_test(&c.usable, cpu) ||
            !nst_cpuset_test(&host->cells[ci].cpus, cpu))
            goto out;
        nst_cpuset_set(&seen, cpu);
        per_core[c.core_of[cpu]]++;
    }
    for (unsigned int v = 0; v < n; v++) {
        const struct core *core = &c.cores[c.core_of[pins[v]]];
        bool whole = core->nusable == core->nthreads;
        if (req->policy == NST_THREAD_ISOLATE &&
            (per_core[c.core_of[pins[v]]] != 1 || !whole))
            goto out;
        if (req->policy == NST_THREAD_REQUIRE &&
            (c.smt < 2 || core->nthreads != c.smt ||
             per_core[c.core_of[pins[v]]] != c.smt))
            goto out;
    }

    if (!(out->pins = calloc(n, sizeof(*out->pins))))
        goto out;
    memcpy(out->pins, pins, n * sizeof(*pins));
    out->nvcpus = n;
    out->ncells = 1;
    out->cells[0] = (struct nst_guest_cell){
        .host_cell = host->cells[ci].id,
        .first_vcpu = 0,
        .nvcpus = n,
        .memory_kib = req->memory_kib,
    };
    out->used = seen;
    if (req->policy == NST_THREAD_ISOLATE)
        for (unsigned int v = 0; v < n; v++) {
            const struct core *core = &c.cores[c.core_of[pins[v]]];
            for (unsigned int t = 0; t < core->nthreads; t++)
                nst_cpuset_set(&out->used, c.threads[core->off + t]);
        }
    out->threads = guest_threads(&c, out);
    ret = 0;
 out:
    ctx_free(&c);
    return ret;
}

/*
 * A CPU list naming a CPU the host lacks is refused rather than trimmed:
 * libvirt accepts such a pin in a definition and the domain then fails
 * to start, and a trimmed list would silently do less than asked.
 */
int
nst_host_check_cpus(const struct nst_host *host,
                    const struct nst_cpuset *set, const char *what,
                    char **err)
{
    struct nst_cpuset all, missing = *set;

    nst_host_all_cpus(host, &all);
    nst_cpuset_subtract(&missing, &all);
    if (nst_cpuset_is_empty(&missing))
        return 0;
    char *gone = nst_cpuset_format(&missing);
    char *have = nst_cpuset_format(&all);
    if (gone && have)
        nst_set_error(err, "%s: CPU%s %s %s not exist on the host (CPUs %s)",
                      what, nst_cpuset_count(&missing) > 1 ? "s" : "", gone,
                      nst_cpuset_count(&missing) > 1 ? "do" : "does", have);
    else
        nst_set_error(err, "out of memory");
    free(gone);
    free(have);
    return -1;
}

/* Frees the pins and empties placement; accepts NULL and cleared ones. */
void
nst_placement_clear(struct nst_placement *placement)
{
    if (!placement)
        return;
    free(placement->pins);
    memset(placement, 0, sizeof(*placement));
}

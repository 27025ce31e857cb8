/*
 * test-pinning.c: the CPU allocator (lib/pinning.c)
 *
 * Hosts are built here as plain structs from a geometry (cells, cores
 * per cell, threads per core, sibling numbering), so the allocator is
 * tested without the capabilities parser.  The unit tests pin exact
 * placements on an Intel-like 2x18x2 host; the property tests throw
 * thousands of random hosts and requests at nst_place() and check every
 * answer against invariants and a small counting oracle that works from
 * the geometry, not from the allocator's own core discovery.  The last
 * tests count what many domains hold (lib/usage.c) and plan several
 * beside each other.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

#define GIB (1024ULL * 1024)

/* How SMT siblings are numbered. */
enum numbering {
    SIB_SPLIT,      /* n, n + half: Linux on Intel and AMD */
    SIB_ADJACENT,   /* 2n, 2n + 1: some ARM and POWER hosts */
};

struct geometry {
    unsigned int ncells;
    unsigned int cores;     /* per cell */
    unsigned int threads;   /* per core */
    enum numbering style;
};

static unsigned int
geo_ncpus(const struct geometry *g)
{
    return g->ncells * g->cores * g->threads;
}

/* Cpu id of thread t of core k of cell ci. */
static unsigned int
geo_cpu(const struct geometry *g, unsigned int ci, unsigned int k,
        unsigned int t)
{
    unsigned int core = ci * g->cores + k;
    if (g->style == SIB_SPLIT)
        return t * g->ncells * g->cores + core;
    return core * g->threads + t;
}

/* Host-wide core number of a cpu. */
static unsigned int
geo_core(const struct geometry *g, unsigned int cpu)
{
    if (g->style == SIB_SPLIT)
        return cpu % (g->ncells * g->cores);
    return cpu / g->threads;
}

static unsigned int
geo_thread(const struct geometry *g, unsigned int cpu)
{
    if (g->style == SIB_SPLIT)
        return cpu / (g->ncells * g->cores);
    return cpu % g->threads;
}

static unsigned int
geo_cell(const struct geometry *g, unsigned int cpu)
{
    return geo_core(g, cpu) / g->cores;
}

/* A host the way lib/host.c would build it; free with free_host(). */
static struct nst_host *
build_host(const struct geometry *g, unsigned long long cell_mem_kib)
{
    struct nst_host *host = calloc(1, sizeof(*host));
    ck_assert_ptr_nonnull(host);
    host->ncells = g->ncells;
    host->cells = calloc(g->ncells, sizeof(*host->cells));
    host->ncpus = geo_ncpus(g);
    host->cpus = calloc(host->ncpus, sizeof(*host->cpus));
    ck_assert_ptr_nonnull(host->cells);
    ck_assert_ptr_nonnull(host->cpus);

    for (unsigned int ci = 0; ci < g->ncells; ci++) {
        host->cells[ci].id = ci;
        host->cells[ci].memory_kib = cell_mem_kib;
        for (unsigned int k = 0; k < g->cores; k++) {
            for (unsigned int t = 0; t < g->threads; t++) {
                unsigned int id = geo_cpu(g, ci, k, t);
                struct nst_host_cpu *cpu = &host->cpus[id];
                if (id >= host->ncpus)   /* per cpu: keep Check out */
                    ck_abort_msg("cpu %u beyond %zu", id, host->ncpus);
                cpu->id = id;
                cpu->socket_id = ci;
                cpu->core_id = k;
                cpu->cell_id = ci;
                for (unsigned int s = 0; s < g->threads; s++)
                    nst_cpuset_set(&cpu->siblings, geo_cpu(g, ci, k, s));
                nst_cpuset_set(&host->cells[ci].cpus, id);
            }
        }
    }
    return host;
}

static void
free_host(struct nst_host *host)
{
    if (!host)
        return;
    free(host->cells);
    free(host->cpus);
    free(host);
}

static struct nst_cpuset
cpus_of(const char *text)
{
    struct nst_cpuset set;
    char *err = NULL;
    ck_assert_msg(nst_cpuset_parse(text, &set, &err) == 0, "%s", err);
    return set;
}

static void
assert_pins(const struct nst_placement *p, const unsigned int *want,
            unsigned int n)
{
    ck_assert_uint_eq(p->nvcpus, n);
    ck_assert_ptr_nonnull(p->pins);
    for (unsigned int i = 0; i < n; i++)
        ck_assert_msg(p->pins[i] == want[i], "vcpu %u pinned to %u, not %u",
                      i, p->pins[i], want[i]);
}

static void
assert_used(const struct nst_placement *p, const char *want)
{
    char *got = nst_cpuset_format(&p->used);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(got);
}

/* A refusal: -1, a message, and nothing left in out. */
static char *
place_refused(const struct nst_host *host,
              const struct nst_placement_request *req)
{
    struct nst_placement p;
    char *reason = NULL;
    memset(&p, 0xaa, sizeof(p));
    ck_assert_int_eq(nst_place(host, req, &p, &reason), -1);
    ck_assert_ptr_nonnull(reason);
    ck_assert_ptr_null(p.pins);
    ck_assert_uint_eq(p.ncells, 0);
    nst_placement_clear(&p);
    return reason;
}

static void
place_ok(const struct nst_host *host, const struct nst_placement_request *req,
         struct nst_placement *p)
{
    char *reason = NULL;
    int rc = nst_place(host, req, p, &reason);
    ck_assert_msg(rc == 0, "refused: %s", reason ? reason : "(no reason)");
    ck_assert_ptr_null(reason);
}

/* ------------------------------------------------- Intel-like 2x18x2 */

static const struct geometry intel = { 2, 18, 2, SIB_SPLIT };

static struct nst_cpuset intel_hk;

static struct nst_placement_request
intel_req(unsigned int vcpus, enum nst_thread_policy policy)
{
    intel_hk = cpus_of("0,36,18,54");
    struct nst_placement_request req = {
        .vcpus = vcpus,
        .memory_kib = 8 * GIB,
        .policy = policy,
        .allow_split = true,
        .taken = NULL,
        .housekeeping = &intel_hk,
    };
    return req;
}

START_TEST(test_intel_layout)
{
    /* the builder itself: node 0 = 0-17,36-53, siblings n,n+36 */
    struct nst_host *host = build_host(&intel, 64 * GIB);
    char *cell0 = nst_cpuset_format(&host->cells[0].cpus);
    char *cell1 = nst_cpuset_format(&host->cells[1].cpus);
    char *sib = nst_cpuset_format(&host->cpus[5].siblings);
    ck_assert_str_eq(cell0, "0-17,36-53");
    ck_assert_str_eq(cell1, "18-35,54-71");
    ck_assert_str_eq(sib, "5,41");
    free(cell0);
    free(cell1);
    free(sib);
    free_host(host);
}
END_TEST

START_TEST(test_prefer_one_cell)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(8, NST_THREAD_PREFER);
    struct nst_placement p;
    const unsigned int want[] = { 1, 37, 2, 38, 3, 39, 4, 40 };

    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 1);
    ck_assert_uint_eq(p.cells[0].host_cell, 0);
    ck_assert_uint_eq(p.cells[0].first_vcpu, 0);
    ck_assert_uint_eq(p.cells[0].nvcpus, 8);
    ck_assert_uint_eq(p.cells[0].memory_kib, 8 * GIB);
    assert_pins(&p, want, 8);
    ck_assert_uint_eq(p.threads, 2);
    assert_used(&p, "1-4,37-40");
    nst_placement_clear(&p);
    ck_assert_ptr_null(p.pins);
    nst_placement_clear(&p);   /* twice is harmless */
    nst_placement_clear(NULL);
    free_host(host);
}
END_TEST

/* Existing pins are kept when they are a placement nst_place could make
 * now, and refused otherwise. */
/* With prefer_hugepages, a cell whose free hugepages can back the guest
 * wins over the best fit by CPUs, whose cannot. */
START_TEST(test_prefer_hugepages_cell)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(8, NST_THREAD_PREFER);
    struct nst_placement p;
    for (size_t ci = 0; ci < host->ncells; ci++) {
        host->cells[ci].npages = 1;
        host->cells[ci].pages[0] = (struct nst_pages){
            .size_kib = 1048576, .total = 16, .free = ci == 0 ? 4 : 16 };
    }

    place_ok(host, &req, &p);                  /* CPUs alone: cell 0 */
    ck_assert_uint_eq(p.cells[0].host_cell, 0);
    nst_placement_clear(&p);
    req.prefer_hugepages = true;               /* 8 GiB: only cell 1 */
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.cells[0].host_cell, 1);
    nst_placement_clear(&p);
    host->cells[1].pages[0].free = 7;          /* neither: best fit again */
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.cells[0].host_cell, 0);
    nst_placement_clear(&p);
    free_host(host);
}
END_TEST

START_TEST(test_keep_existing)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(4, NST_THREAD_PREFER);
    struct nst_placement p;
    const unsigned int spread[] = { 5, 6, 7, 8 };
    const unsigned int siblings[] = { 5, 41, 6, 42 };
    const unsigned int on_hk[] = { 0, 1, 2, 3 };
    const unsigned int two_cells[] = { 1, 2, 19, 20 };
    const unsigned int twice[] = { 1, 1, 2, 3 };

    ck_assert_int_eq(nst_place_keep(host, &req, spread, &p), 0);
    assert_pins(&p, spread, 4);
    ck_assert_uint_eq(p.cells[0].host_cell, 0);
    ck_assert_uint_eq(p.threads, 1);
    nst_placement_clear(&p);
    ck_assert_int_eq(nst_place_keep(host, &req, siblings, &p), 0);
    ck_assert_uint_eq(p.threads, 2);
    nst_placement_clear(&p);
    ck_assert_int_eq(nst_place_keep(host, &req, on_hk, &p), -1);
    ck_assert_ptr_null(p.pins);
    ck_assert_int_eq(nst_place_keep(host, &req, two_cells, &p), -1);
    ck_assert_int_eq(nst_place_keep(host, &req, twice, &p), -1);
    struct nst_cpuset taken = cpus_of("6");
    req.taken = &taken;
    ck_assert_int_eq(nst_place_keep(host, &req, spread, &p), -1);
    req.taken = NULL;

    /* isolate: one vCPU per whole core; require: whole cores packed */
    req.policy = NST_THREAD_ISOLATE;
    ck_assert_int_eq(nst_place_keep(host, &req, spread, &p), 0);
    assert_used(&p, "5-8,41-44");
    nst_placement_clear(&p);
    ck_assert_int_eq(nst_place_keep(host, &req, siblings, &p), -1);
    req.policy = NST_THREAD_REQUIRE;
    ck_assert_int_eq(nst_place_keep(host, &req, siblings, &p), 0);
    nst_placement_clear(&p);
    ck_assert_int_eq(nst_place_keep(host, &req, spread, &p), -1);
    free_host(host);
}
END_TEST

START_TEST(test_isolate_one_cell)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(8, NST_THREAD_ISOLATE);
    struct nst_placement p;
    const unsigned int want[] = { 1, 2, 3, 4, 5, 6, 7, 8 };

    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 1);
    ck_assert_uint_eq(p.cells[0].host_cell, 0);
    assert_pins(&p, want, 8);
    ck_assert_uint_eq(p.threads, 1);
    assert_used(&p, "1-8,37-44");
    nst_placement_clear(&p);
    free_host(host);
}
END_TEST

START_TEST(test_require_one_cell)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(8, NST_THREAD_REQUIRE);
    struct nst_placement p;
    const unsigned int want[] = { 1, 37, 2, 38, 3, 39, 4, 40 };

    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 1);
    assert_pins(&p, want, 8);
    ck_assert_uint_eq(p.threads, 2);
    assert_used(&p, "1-4,37-40");
    nst_placement_clear(&p);
    free_host(host);
}
END_TEST

START_TEST(test_taken_respected)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(8, NST_THREAD_PREFER);
    struct nst_cpuset taken = cpus_of("1-3");
    struct nst_placement p;
    /* whole cores first, the half-taken cores 1-3 (37-39) last */
    const unsigned int want[] = { 4, 40, 5, 41, 6, 42, 7, 43 };

    req.taken = &taken;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.cells[0].host_cell, 0);
    assert_pins(&p, want, 8);
    nst_placement_clear(&p);

    /* 31 cpus: 14 whole cores, then the free siblings of 1-3 */
    req.vcpus = 31;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 1);
    ck_assert_uint_eq(p.cells[0].host_cell, 0);
    ck_assert_uint_eq(p.pins[26], 17);
    ck_assert_uint_eq(p.pins[27], 53);
    ck_assert_uint_eq(p.pins[28], 37);
    ck_assert_uint_eq(p.pins[29], 38);
    ck_assert_uint_eq(p.pins[30], 39);
    ck_assert_uint_eq(p.threads, 1);   /* 37..39 have no sibling pinned */
    nst_placement_clear(&p);

    /* isolate skips every core with a taken thread */
    taken = cpus_of("1,38");
    req.vcpus = 4;
    req.policy = NST_THREAD_ISOLATE;
    const unsigned int want_iso[] = { 3, 4, 5, 6 };
    place_ok(host, &req, &p);
    assert_pins(&p, want_iso, 4);
    assert_used(&p, "3-6,39-42");
    nst_placement_clear(&p);
    free_host(host);
}
END_TEST

START_TEST(test_best_fit)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(8, NST_THREAD_PREFER);
    /* cell 0 keeps only cores 5-8 free: 8 cpus */
    struct nst_cpuset taken = cpus_of("1-4,9-17,37-40,45-53");
    struct nst_placement p;

    req.taken = &taken;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.cells[0].host_cell, 0);   /* leaves 0 free */
    assert_used(&p, "5-8,41-44");
    nst_placement_clear(&p);

    req.vcpus = 9;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 1);
    ck_assert_uint_eq(p.cells[0].host_cell, 1);
    ck_assert_uint_eq(p.pins[0], 19);
    nst_placement_clear(&p);

    /* take more of cell 1 than of cell 0: the tighter cell wins */
    taken = cpus_of("19-30,55-66");
    req.vcpus = 6;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.cells[0].host_cell, 1);
    ck_assert_uint_eq(p.pins[0], 31);
    nst_placement_clear(&p);
    free_host(host);
}
END_TEST

START_TEST(test_split_48)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(48, NST_THREAD_PREFER);
    struct nst_placement p;

    req.memory_kib = 96 * GIB;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 2);
    ck_assert_uint_eq(p.nvcpus, 48);
    for (unsigned int i = 0; i < 2; i++) {
        ck_assert_uint_eq(p.cells[i].host_cell, i);
        ck_assert_uint_eq(p.cells[i].first_vcpu, 24 * i);
        ck_assert_uint_eq(p.cells[i].nvcpus, 24);
        ck_assert_uint_eq(p.cells[i].memory_kib, 48 * GIB);
    }
    ck_assert_uint_eq(p.pins[0], 1);
    ck_assert_uint_eq(p.pins[1], 37);
    ck_assert_uint_eq(p.pins[23], 48);
    ck_assert_uint_eq(p.pins[24], 19);
    ck_assert_uint_eq(p.pins[25], 55);
    ck_assert_uint_eq(p.pins[47], 66);
    ck_assert_uint_eq(p.threads, 2);
    assert_used(&p, "1-12,19-30,37-48,55-66");
    nst_placement_clear(&p);

    /* without split the same guest is refused, naming the counts */
    req.allow_split = false;
    char *reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest needs 48 cpus but the most any host cell "
                     "has free is 34 (cell 0: 36 cpus, 2 housekeeping, "
                     "0 taken)");
    free(reason);
    free_host(host);
}
END_TEST

START_TEST(test_refuse_80)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(80, NST_THREAD_PREFER);
    char *reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest needs 80 cpus and cannot be split evenly "
                     "over the host's 2 cells with 34 free cpus each");
    free(reason);

    /* the counts follow taken cpus, per cell */
    struct nst_cpuset taken = cpus_of("1,2,19");
    req.taken = &taken;
    req.vcpus = 34;
    req.allow_split = false;
    reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest needs 34 cpus but the most any host cell "
                     "has free is 33 (cell 1: 36 cpus, 2 housekeeping, "
                     "1 taken)");
    free(reason);
    req.vcpus = 70;
    req.allow_split = true;
    reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest needs 70 cpus and cannot be split evenly "
                     "over the host's 2 cells (free cpus: cell 0: 32, "
                     "cell 1: 33)");
    free(reason);
    free_host(host);
}
END_TEST

START_TEST(test_require_needs_smt)
{
    const struct geometry flat = { 2, 8, 1, SIB_SPLIT };
    struct nst_host *host = build_host(&flat, 64 * GIB);
    struct nst_placement_request req = {
        .vcpus = 4, .memory_kib = GIB, .policy = NST_THREAD_REQUIRE,
    };
    char *reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "thread policy 'require' needs an SMT host and "
                     "this one has 1 thread per core");
    free(reason);

    /* the other policies are fine there, and give a flat topology */
    struct nst_placement p;
    req.policy = NST_THREAD_PREFER;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.threads, 1);
    nst_placement_clear(&p);
    free_host(host);
}
END_TEST

START_TEST(test_require_multiple)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(7, NST_THREAD_REQUIRE);
    char *reason = place_refused(host, &req);
    ck_assert_msg(strstr(reason, "multiple of the host's 2 threads per core"),
                  "%s", reason);
    ck_assert_msg(strstr(reason, "7 vcpus"), "%s", reason);
    free(reason);

    /* 36 = 2 x 18: each cell gets 18, a multiple of 2 */
    struct nst_placement p;
    req.vcpus = 36;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 2);
    ck_assert_uint_eq(p.threads, 2);
    nst_placement_clear(&p);

    /* 38 = 2 x 19 would leave half a core in each cell */
    req.vcpus = 38;
    reason = place_refused(host, &req);
    ck_assert_msg(strstr(reason, "cannot be divided evenly into whole cores "
                         "of 2 threads between 2 cells"), "%s", reason);
    free(reason);
    free_host(host);
}
END_TEST

START_TEST(test_memory)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(8, NST_THREAD_PREFER);
    struct nst_placement p;

    /* 100 GiB + 1537 KiB: halves rounded to MiB, the rest to the last */
    req.memory_kib = 100 * GIB + 1537;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 2);
    ck_assert_uint_eq(p.cells[0].nvcpus, 4);
    ck_assert_uint_eq(p.cells[0].memory_kib, 50 * GIB);
    ck_assert_uint_eq(p.cells[1].memory_kib, 50 * GIB + 1537);
    ck_assert_uint_eq(p.cells[1].first_vcpu, 4);
    ck_assert_uint_eq(p.pins[4], 19);
    nst_placement_clear(&p);

    req.allow_split = false;
    char *reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest needs 104859137 KiB of memory but the "
                     "most any host cell with room for its 8 cpus has is "
                     "64 GiB (cell 0)");
    free(reason);

    req.allow_split = true;
    req.memory_kib = 200 * GIB;
    reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest needs 8 cpus and 200 GiB of memory and "
                     "cannot be split evenly over the host's 2 cells with "
                     "34 free cpus and 64 GiB of memory each");
    free(reason);

    /* every chosen cell must hold the last, largest share */
    host->cells[0].memory_kib = 50 * GIB;
    req.memory_kib = 100 * GIB + 1537;
    reason = place_refused(host, &req);
    ck_assert_msg(strstr(reason, "(free cpus and memory: cell 0: 34 and "
                         "50 GiB, cell 1: 34 and 64 GiB)"), "%s", reason);
    free(reason);
    req.memory_kib = 100 * GIB;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 2);
    nst_placement_clear(&p);

    /* a cell short of memory is skipped even when its cpus fit better */
    host->cells[0].memory_kib = 4 * GIB;
    req.memory_kib = 6 * GIB;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 1);
    ck_assert_uint_eq(p.cells[0].host_cell, 1);
    nst_placement_clear(&p);
    free_host(host);
}
END_TEST

START_TEST(test_split_smallest_k)
{
    const struct geometry g = { 4, 4, 2, SIB_SPLIT };  /* 8 cpus a cell */
    struct nst_host *host = build_host(&g, 16 * GIB);
    struct nst_placement_request req = {
        .vcpus = 18, .memory_kib = 3 * GIB, .policy = NST_THREAD_PREFER,
        .allow_split = true,
    };
    struct nst_placement p;

    /* 9 per cell does not fit, 6 per cell over 3 cells does */
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 3);
    for (unsigned int i = 0; i < 3; i++) {
        ck_assert_uint_eq(p.cells[i].host_cell, i);
        ck_assert_uint_eq(p.cells[i].nvcpus, 6);
        ck_assert_uint_eq(p.cells[i].memory_kib, GIB);
    }
    ck_assert_uint_eq(p.threads, 2);
    nst_placement_clear(&p);

    /* a busy cell 1 is passed over for the next lowest id */
    struct nst_cpuset taken = cpus_of("4-6");   /* cell 1 keeps 5 */
    req.taken = &taken;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 3);
    ck_assert_uint_eq(p.cells[0].host_cell, 0);
    ck_assert_uint_eq(p.cells[1].host_cell, 2);
    ck_assert_uint_eq(p.cells[2].host_cell, 3);
    nst_placement_clear(&p);

    /* 17 is prime: no even split exists */
    req.taken = NULL;
    req.vcpus = 17;
    char *reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest needs 17 cpus and cannot be split evenly "
                     "over the host's 4 cells with 8 free cpus each; "
                     "17 vcpus cannot be divided evenly among 2 to 4 cells");
    free(reason);
    free_host(host);
}
END_TEST

START_TEST(test_adjacent_siblings)
{
    const struct geometry g = { 1, 4, 2, SIB_ADJACENT };
    struct nst_host *host = build_host(&g, 16 * GIB);
    struct nst_placement_request req = {
        .vcpus = 4, .memory_kib = GIB, .policy = NST_THREAD_PREFER,
    };
    struct nst_placement p;
    const unsigned int want_prefer[] = { 0, 1, 2, 3 };
    const unsigned int want_iso[] = { 0, 2 };

    place_ok(host, &req, &p);
    assert_pins(&p, want_prefer, 4);
    ck_assert_uint_eq(p.threads, 2);
    nst_placement_clear(&p);

    req.vcpus = 2;
    req.policy = NST_THREAD_ISOLATE;
    place_ok(host, &req, &p);
    assert_pins(&p, want_iso, 2);
    assert_used(&p, "0-3");
    nst_placement_clear(&p);
    free_host(host);
}
END_TEST

START_TEST(test_threads_only_when_aligned)
{
    /* cpus 0-3 and 4-7, siblings n,n+4; cores 1 and 2 half taken */
    const struct geometry g = { 1, 4, 2, SIB_SPLIT };
    struct nst_host *host = build_host(&g, 16 * GIB);
    struct nst_cpuset taken = cpus_of("1,6");
    struct nst_placement_request req = {
        .vcpus = 4, .memory_kib = GIB, .policy = NST_THREAD_PREFER,
        .taken = &taken,
    };
    struct nst_placement p;
    const unsigned int want4[] = { 0, 4, 3, 7 };
    const unsigned int want6[] = { 0, 4, 3, 7, 5, 2 };

    place_ok(host, &req, &p);
    assert_pins(&p, want4, 4);
    ck_assert_uint_eq(p.threads, 2);
    nst_placement_clear(&p);

    /* 2 and 5 are not siblings: telling the guest they are would lie */
    req.vcpus = 6;
    place_ok(host, &req, &p);
    assert_pins(&p, want6, 6);
    ck_assert_uint_eq(p.threads, 1);
    nst_placement_clear(&p);
    free_host(host);
}
END_TEST

START_TEST(test_missing_sibling)
{
    /* cpu 7 offline: core 3 has only cpu 3 */
    const struct geometry g = { 1, 4, 2, SIB_SPLIT };
    struct nst_host *host = build_host(&g, 16 * GIB);
    nst_cpuset_clear(&host->cells[0].cpus, 7);
    nst_cpuset_clear(&host->cpus[3].siblings, 7);
    host->ncpus = 7;
    struct nst_placement_request req = {
        .vcpus = 6, .memory_kib = GIB, .policy = NST_THREAD_REQUIRE,
    };
    struct nst_placement p;
    const unsigned int want[] = { 0, 4, 1, 5, 2, 6 };

    place_ok(host, &req, &p);
    assert_pins(&p, want, 6);
    ck_assert_uint_eq(p.threads, 2);
    nst_placement_clear(&p);

    req.vcpus = 8;
    char *reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest needs 4 free whole cores of 2 threads for "
                     "its 8 cpus (thread policy 'require') but the most any "
                     "host cell has is 3 (cell 0: 4 cores, 1 with a "
                     "housekeeping, taken or missing thread)");
    free(reason);

    req.vcpus = 7;
    req.policy = NST_THREAD_PREFER;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.pins[6], 3);
    assert_used(&p, "0-6");
    nst_placement_clear(&p);
    free_host(host);

    /* cpu 4 offline instead: require skips the one-thread core 0 */
    host = build_host(&g, 16 * GIB);
    nst_cpuset_clear(&host->cells[0].cpus, 4);
    nst_cpuset_clear(&host->cpus[0].siblings, 4);
    req.vcpus = 6;
    req.policy = NST_THREAD_REQUIRE;
    const unsigned int want_skip[] = { 1, 5, 2, 6, 3, 7 };
    place_ok(host, &req, &p);
    assert_pins(&p, want_skip, 6);
    nst_placement_clear(&p);
    free_host(host);
}
END_TEST

START_TEST(test_isolate_refused)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(18, NST_THREAD_ISOLATE);
    req.allow_split = false;
    char *reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest needs 18 cpus on cores of their own "
                     "(thread policy 'isolate') but the most free whole "
                     "cores any host cell has is 17 (cell 0: 18 cores, 1 "
                     "with a housekeeping or taken thread)");
    free(reason);

    struct nst_placement p;
    req.allow_split = true;
    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, 2);
    ck_assert_uint_eq(nst_cpuset_count(&p.used), 36);
    nst_placement_clear(&p);
    free_host(host);
}
END_TEST

START_TEST(test_bad_requests)
{
    struct nst_host *host = build_host(&intel, 64 * GIB);
    struct nst_placement_request req = intel_req(0, NST_THREAD_PREFER);
    char *reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest has no vcpus to place");
    free(reason);

    req.vcpus = NST_MAX_CPUS + 1;
    reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest has 4097 vcpus, more than the 4096 cpus "
                     "a host can have");
    free(reason);

    req.vcpus = 4;
    req.policy = NST_THREAD_LAST;
    reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "unknown thread policy 3");
    free(reason);

    struct nst_host empty = { 0 };
    req.policy = NST_THREAD_PREFER;
    reason = place_refused(&empty, &req);
    ck_assert_str_eq(reason, "host has no numa cells to place the guest in");
    free(reason);
    free_host(host);
}
END_TEST

START_TEST(test_singular_counts)
{
    const struct geometry g = { 1, 1, 2, SIB_SPLIT };
    struct nst_host *host = build_host(&g, 16 * GIB);
    struct nst_cpuset taken = cpus_of("0-1");
    struct nst_placement_request req = {
        .vcpus = 1, .memory_kib = GIB, .policy = NST_THREAD_PREFER,
        .allow_split = true, .taken = &taken,
    };
    char *reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest needs 1 cpu but the most any host cell "
                     "has free is 0 (cell 0: 2 cpus, 0 housekeeping, "
                     "2 taken)");
    free(reason);

    taken = cpus_of("1");
    req.policy = NST_THREAD_ISOLATE;
    reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest needs 1 cpu on cores of their own (thread "
                     "policy 'isolate') but the most free whole cores any "
                     "host cell has is 0 (cell 0: 1 core, 1 with a "
                     "housekeeping or taken thread)");
    free(reason);
    free_host(host);
}
END_TEST

START_TEST(test_many_cells)
{
    /* more host cells than a guest may have: k stops at 64 */
    const struct geometry g = { 70, 1, 1, SIB_SPLIT };
    struct nst_host *host = build_host(&g, GIB);
    struct nst_placement_request req = {
        .vcpus = 64, .memory_kib = 64 * GIB, .policy = NST_THREAD_PREFER,
        .allow_split = true,
    };
    struct nst_placement p;

    place_ok(host, &req, &p);
    ck_assert_uint_eq(p.ncells, NST_MAX_GUEST_CELLS);
    ck_assert_uint_eq(p.cells[63].host_cell, 63);
    ck_assert_uint_eq(p.cells[63].memory_kib, GIB);
    ck_assert_uint_eq(p.pins[63], 63);
    nst_placement_clear(&p);

    req.vcpus = 66;
    char *reason = place_refused(host, &req);
    ck_assert_str_eq(reason, "guest needs 66 cpus and cannot be split evenly "
                     "over the host's 70 cells with 1 free cpu each");
    free(reason);

    req.vcpus = 67;
    reason = place_refused(host, &req);
    ck_assert_msg(strstr(reason, "; 67 vcpus cannot be divided evenly among "
                         "2 to 64 cells"), "%s", reason);
    free(reason);
    free_host(host);
}
END_TEST

/* ------------------------------------------------------- properties */

/*
 * ck_assert_msg() records its location on every pass, which costs a
 * write per call; the property checks run millions of times, so they
 * only call into Check when they fail.
 */
#define CHECK(expr, ...) \
    do { \
        if (!(expr)) \
            ck_abort_msg(__VA_ARGS__); \
    } while (0)

/* splitmix64: a fixed seed gives the same cases on every run */
static uint64_t
rnd_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static unsigned int
rnd(uint64_t *state, unsigned int n)
{
    return (unsigned int)(rnd_next(state) % n);
}

/* The oracle's view of one host cell, counted from the geometry. */
struct ocell {
    unsigned int usable;
    unsigned int full;           /* cores with every thread usable */
    unsigned long long mem;
};

struct oracle {
    const struct geometry *g;
    enum nst_thread_policy policy;
    struct ocell cells[8];
};

static void
oracle_init(struct oracle *o, const struct geometry *g,
            const struct nst_host *host, const struct nst_cpuset *bad,
            enum nst_thread_policy policy)
{
    memset(o, 0, sizeof(*o));
    o->g = g;
    o->policy = policy;
    for (unsigned int ci = 0; ci < g->ncells; ci++) {
        o->cells[ci].mem = host->cells[ci].memory_kib;
        for (unsigned int k = 0; k < g->cores; k++) {
            unsigned int u = 0;
            for (unsigned int t = 0; t < g->threads; t++)
                if (!nst_cpuset_test(bad, geo_cpu(g, ci, k, t)))
                    u++;
            o->cells[ci].usable += u;
            if (u == g->threads)
                o->cells[ci].full++;
        }
    }
}

static bool
oracle_fits(const struct oracle *o, unsigned int ci, unsigned int n,
            unsigned long long mem)
{
    const struct ocell *c = &o->cells[ci];
    unsigned int t = o->g->threads;
    bool cpus;

    switch (o->policy) {
    case NST_THREAD_PREFER:
        cpus = n <= c->usable;
        break;
    case NST_THREAD_ISOLATE:
        cpus = n <= c->full;
        break;
    default:
        cpus = t > 1 && n % t == 0 && n / t <= c->full;
        break;
    }
    return cpus && c->mem >= mem;
}

static unsigned int
oracle_left(const struct oracle *o, unsigned int ci, unsigned int n)
{
    unsigned int per = o->policy == NST_THREAD_ISOLATE ? o->g->threads : 1;
    return o->cells[ci].usable - n * per;
}

/*
 * What the placement must be: *k cells, cells[0..k) host cells; k = 0
 * when it must be refused.
 */
static void
oracle_expect(const struct oracle *o, unsigned int n, unsigned long long mem,
              bool split, unsigned int *k, unsigned int *cells)
{
    unsigned int ncells = o->g->ncells;
    int best = -1;

    *k = 0;
    for (unsigned int ci = 0; ci < ncells; ci++) {
        if (!oracle_fits(o, ci, n, mem))
            continue;
        if (best < 0 ||
            oracle_left(o, ci, n) < oracle_left(o, (unsigned int)best, n))
            best = (int)ci;
    }
    if (best >= 0) {
        *k = 1;
        cells[0] = (unsigned int)best;
        return;
    }
    if (!split)
        return;
    for (unsigned int kk = 2; kk <= ncells; kk++) {
        unsigned long long share = mem / kk / 1024 * 1024;
        unsigned long long last = mem - share * (kk - 1);
        unsigned int found = 0;
        if (n % kk)
            continue;
        for (unsigned int ci = 0; ci < ncells && found < kk; ci++)
            if (oracle_fits(o, ci, n / kk, last))
                cells[found++] = ci;
        if (found == kk) {
            *k = kk;
            return;
        }
    }
}

struct stats {
    unsigned int single, split, refused;
};

/* Every invariant of a successful placement. */
static void
check_placement(unsigned int no, const struct geometry *g,
                const struct nst_placement_request *req,
                const struct nst_cpuset *bad, const struct nst_placement *p)
{
    struct nst_cpuset pinned;
    unsigned int ncpus = geo_ncpus(g), next = 0;
    unsigned long long mem = 0;
    unsigned int *core_pins = calloc(ncpus, sizeof(*core_pins));

    CHECK(core_pins, "out of memory");
    nst_cpuset_clear_all(&pinned);
    CHECK(p->nvcpus == req->vcpus, "case %u: nvcpus", no);
    CHECK(p->ncells >= 1 && p->ncells <= NST_MAX_GUEST_CELLS,
          "case %u: ncells %zu", no, p->ncells);
    CHECK(p->pins, "case %u: no pins", no);

    for (size_t i = 0; i < p->ncells; i++) {
        const struct nst_guest_cell *cell = &p->cells[i];
        CHECK(cell->first_vcpu == next, "case %u: cell %zu starts "
              "at %u", no, i, cell->first_vcpu);
        CHECK(cell->nvcpus == p->cells[0].nvcpus,
              "case %u: uneven split", no);
        if (i + 1 < p->ncells)
            CHECK(cell->memory_kib % 1024 == 0 &&
                  cell->memory_kib == p->cells[0].memory_kib,
                  "case %u: cell %zu memory %llu", no, i,
                  cell->memory_kib);
        if (i)
            CHECK(cell->host_cell > p->cells[i - 1].host_cell,
                  "case %u: host cells not distinct", no);
        next += cell->nvcpus;
        mem += cell->memory_kib;

        for (unsigned int v = cell->first_vcpu;
             v < cell->first_vcpu + cell->nvcpus; v++) {
            unsigned int cpu = p->pins[v];
            CHECK(cpu < ncpus, "case %u: pin %u outside host", no, cpu);
            CHECK(geo_cell(g, cpu) == cell->host_cell,
                  "case %u: vcpu %u on cpu %u outside host cell %u",
                  no, v, cpu, cell->host_cell);
            CHECK(!nst_cpuset_test(bad, cpu),
                  "case %u: cpu %u is taken or housekeeping", no, cpu);
            CHECK(!nst_cpuset_test(&pinned, cpu),
                  "case %u: cpu %u pinned twice", no, cpu);
            CHECK(nst_cpuset_test(&p->used, cpu),
                  "case %u: pin %u not in used", no, cpu);
            nst_cpuset_set(&pinned, cpu);
            core_pins[geo_core(g, cpu)]++;
        }
    }
    CHECK(next == req->vcpus, "case %u: cells hold %u vcpus", no, next);
    CHECK(mem == req->memory_kib, "case %u: cells hold %llu KiB, "
          "not %llu", no, mem, req->memory_kib);
    CHECK(!nst_cpuset_intersects(&p->used, bad),
          "case %u: used overlaps taken or housekeeping", no);
    for (int cpu = nst_cpuset_next(&p->used, 0); cpu >= 0;
         cpu = nst_cpuset_next(&p->used, (unsigned int)cpu + 1))
        CHECK((unsigned int)cpu < ncpus, "case %u: used %d outside "
              "host", no, cpu);

    unsigned int nused = nst_cpuset_count(&p->used);
    switch (req->policy) {
    case NST_THREAD_PREFER:
        CHECK(nused == req->vcpus, "case %u: prefer used %u", no, nused);
        break;
    case NST_THREAD_ISOLATE:
        CHECK(nused == req->vcpus * g->threads,
              "case %u: isolate used %u", no, nused);
        for (unsigned int i = 0; i < req->vcpus; i++) {
            unsigned int cpu = p->pins[i], core = geo_core(g, cpu);
            CHECK(core_pins[core] == 1, "case %u: two pins share "
                  "core %u", no, core);
            CHECK(geo_thread(g, cpu) == 0, "case %u: isolate pin %u "
                  "is not the core's lowest thread", no, cpu);
            for (unsigned int t = 0; t < g->threads; t++)
                CHECK(nst_cpuset_test(&p->used,
                                      geo_cpu(g, geo_cell(g, cpu),
                                              core % g->cores, t)),
                      "case %u: sibling of %u not in used", no, cpu);
        }
        break;
    default:
        CHECK(nused == req->vcpus, "case %u: require used %u", no, nused);
        for (unsigned int i = 0; i < req->vcpus; i++) {
            unsigned int core = geo_core(g, p->pins[i]);
            CHECK(core_pins[core] == g->threads, "case %u: core %u "
                  "only partly used", no, core);
        }
        break;
    }

    /*
     * prefer packs: every core it touched but one is used up, and it
     * touches a partly free core only once the wholly free ones are gone
     */
    if (req->policy == NST_THREAD_PREFER) {
        for (size_t i = 0; i < p->ncells; i++) {
            unsigned int ci = p->cells[i].host_cell;
            unsigned int partial = 0, whole_left = 0, on_partial = 0;
            for (unsigned int k = 0; k < g->cores; k++) {
                unsigned int npins = core_pins[ci * g->cores + k], nfree = 0;
                for (unsigned int t = 0; t < g->threads; t++)
                    if (!nst_cpuset_test(bad, geo_cpu(g, ci, k, t)))
                        nfree++;
                if (nfree == g->threads && !npins)
                    whole_left++;
                if (nfree < g->threads && npins)
                    on_partial++;
                if (npins && npins < nfree)
                    partial++;
            }
            CHECK(!on_partial || !whole_left, "case %u: prefer used a "
                  "partly free core while %u whole cores were free", no,
                  whole_left);
            CHECK(partial <= 1, "case %u: prefer left %u cores partly used",
                  no, partial);
        }
    }

    /* the guest is told about SMT only when its pins really are SMT */
    unsigned int threads = 1;
    if (req->policy != NST_THREAD_ISOLATE && g->threads > 1) {
        bool aligned = true;
        for (size_t i = 0; i < p->ncells && aligned; i++) {
            const struct nst_guest_cell *cell = &p->cells[i];
            if (cell->nvcpus % g->threads) {
                aligned = false;
                break;
            }
            for (unsigned int v = 0; v < cell->nvcpus; v++)
                if (geo_core(g, p->pins[cell->first_vcpu + v]) !=
                    geo_core(g, p->pins[cell->first_vcpu +
                                        v / g->threads * g->threads]))
                    aligned = false;
        }
        if (aligned)
            threads = g->threads;
    }
    CHECK(p->threads == threads, "case %u: threads %u, want %u", no,
          p->threads, threads);
    if (req->policy == NST_THREAD_REQUIRE)
        CHECK(p->threads == g->threads, "case %u: require gave threads %u",
              no, p->threads);
    free(core_pins);
}

static void
check_reason(unsigned int no, const char *reason)
{
    size_t len = strlen(reason);
    CHECK(len > 10, "case %u: reason '%s'", no, reason);
    CHECK(reason[0] >= 'a' && reason[0] <= 'z',
          "case %u: reason not lower case: '%s'", no, reason);
    CHECK(reason[len - 1] != '.' && !strchr(reason, '\n'),
          "case %u: reason '%s'", no, reason);
    CHECK(strpbrk(reason, "0123456789"), "case %u: reason names no "
          "count: '%s'", no, reason);
}

/* Local, so the suite links without profile.c. */
static const char *
pname(enum nst_thread_policy policy)
{
    static const char *const names[] = { "prefer", "isolate", "require" };
    return (unsigned int)policy < 3 ? names[policy] : "?";
}

/* One random host and request; updates st. */
static void
run_case(unsigned int no, uint64_t *rs, enum nst_thread_policy policy,
         struct stats *st)
{
    static const unsigned int thread_choices[] = { 1, 2, 2, 4 };
    static const unsigned int taken_pct[] = { 0, 0, 10, 30, 60, 90 };
    struct geometry g = {
        .ncells = 1 + rnd(rs, 8),
        .cores = 1 + rnd(rs, 32),
        .threads = thread_choices[rnd(rs, 4)],
        .style = rnd(rs, 2) ? SIB_SPLIT : SIB_ADJACENT,
    };
    unsigned long long base_mem = (4ULL + rnd(rs, 60)) * GIB;
    struct nst_host *host = build_host(&g, base_mem);
    struct nst_cpuset taken, hk, bad;
    unsigned int ncpus = geo_ncpus(&g);

    if (rnd(rs, 3) == 0)
        for (unsigned int ci = 0; ci < g.ncells; ci++)
            host->cells[ci].memory_kib = (1ULL + rnd(rs, 64)) * GIB +
                                         rnd(rs, 4096);

    nst_cpuset_clear_all(&hk);
    switch (rnd(rs, 3)) {
    case 0:
        break;
    case 1:   /* nova-like: first core of every cell */
        for (unsigned int ci = 0; ci < g.ncells; ci++)
            for (unsigned int t = 0; t < g.threads; t++)
                nst_cpuset_set(&hk, geo_cpu(&g, ci, 0, t));
        break;
    default:
        for (unsigned int cpu = 0; cpu < ncpus; cpu++)
            if (rnd(rs, 100) < 5)
                nst_cpuset_set(&hk, cpu);
        break;
    }
    nst_cpuset_clear_all(&taken);
    unsigned int pct = taken_pct[rnd(rs, 6)];
    bool by_core = rnd(rs, 2);
    for (unsigned int cpu = 0; cpu < ncpus; cpu++) {
        /* by core: whole cores taken, as isolate and require leave them */
        unsigned int r = by_core ? (geo_core(&g, cpu) * 2654435761u + no) % 100
                                 : rnd(rs, 100);
        if (r < pct)
            nst_cpuset_set(&taken, cpu);
    }
    bad = taken;
    nst_cpuset_union(&bad, &hk);

    unsigned long long mem;
    switch (rnd(rs, 4)) {
    case 0:
        mem = 0;
        break;
    case 1:
        mem = (1ULL + rnd(rs, 96)) * GIB;
        break;
    default:
        mem = (1ULL + rnd(rs, 96 * 1024)) * 1024 + rnd(rs, 2) * rnd(rs, 1024);
        break;
    }
    struct nst_placement_request req = {
        /* small guests too, or isolate and require would mostly refuse */
        .vcpus = 1 + rnd(rs, rnd(rs, 2) ? 80 : 16),
        .memory_kib = mem,
        .policy = policy,
        .allow_split = rnd(rs, 4) != 0,
        .taken = rnd(rs, 5) || !nst_cpuset_is_empty(&taken) ? &taken : NULL,
        .housekeeping = rnd(rs, 5) || !nst_cpuset_is_empty(&hk) ? &hk : NULL,
    };

    /* require mostly refuses counts that are not whole cores: ask for those */
    if (policy == NST_THREAD_REQUIRE && rnd(rs, 3))
        req.vcpus = (req.vcpus + g.threads - 1) / g.threads * g.threads;

    struct oracle o;
    unsigned int want_k, want_cells[8];
    oracle_init(&o, &g, host, &bad, policy);
    oracle_expect(&o, req.vcpus, req.memory_kib, req.allow_split, &want_k,
                  want_cells);

    struct nst_placement p;
    char *reason = NULL;
    int rc = nst_place(host, &req, &p, &reason);
    if (want_k == 0) {
        CHECK(rc == -1, "case %u: placed %u vcpus (%s) on %ux%ux%u "
              "but the oracle finds no room", no, req.vcpus,
              pname(policy), g.ncells,
              g.cores, g.threads);
        CHECK(reason, "case %u: refused without a reason", no);
        check_reason(no, reason);
        CHECK(!p.pins && !p.ncells, "case %u: refusal left a placement", no);
        st->refused++;
        free(reason);
    } else {
        CHECK(rc == 0, "case %u: %u vcpus %s %llu KiB on %ux%ux%u "
              "refused: %s", no, req.vcpus,
              pname(policy), req.memory_kib,
              g.ncells, g.cores, g.threads, reason);
        CHECK(!reason, "case %u: success with a reason", no);
        CHECK(p.ncells == want_k, "case %u: %zu cells, oracle %u",
              no, p.ncells, want_k);
        for (unsigned int i = 0; i < want_k; i++)
            CHECK(p.cells[i].host_cell == want_cells[i],
                  "case %u: guest cell %u in host cell %u, oracle %u",
                  no, i, p.cells[i].host_cell, want_cells[i]);
        check_placement(no, &g, &req, &bad, &p);
        if (want_k == 1)
            st->single++;
        else
            st->split++;

        /* same inputs, same bytes */
        if (no % 7 == 0) {
            struct nst_placement again;
            CHECK(nst_place(host, &req, &again, NULL) == 0 &&
                  again.ncells == p.ncells && again.threads == p.threads &&
                  !memcmp(again.cells, p.cells, sizeof(p.cells)) &&
                  !memcmp(again.pins, p.pins, p.nvcpus * sizeof(*p.pins)) &&
                  nst_cpuset_equal(&again.used, &p.used),
                  "case %u: a second run placed differently", no);
            nst_placement_clear(&again);
        }
        nst_placement_clear(&p);
    }
    free_host(host);
}

#define CASES_PER_POLICY 3000

START_TEST(test_properties)
{
    enum nst_thread_policy policy = (enum nst_thread_policy)_i;
    uint64_t rs = UINT64_C(0x6e657374) + (uint64_t)_i;
    struct stats st = { 0 };

    for (unsigned int no = 0; no < CASES_PER_POLICY; no++)
        run_case(no, &rs, policy, &st);

    /* the random cases must reach every outcome, or they prove little */
    CHECK(st.single > CASES_PER_POLICY / 10 &&
          st.split > CASES_PER_POLICY / 20 &&
          st.refused > CASES_PER_POLICY / 10,
          "policy %d: %u single, %u split, %u refused", _i,
          st.single, st.split, st.refused);
}
END_TEST

/* ------------------------------------------------ many domains (usage.c) */

static struct nst_cpuset
cpus(const char *text)
{
    struct nst_cpuset set;
    ck_assert_int_eq(nst_cpuset_parse(text, &set, NULL), 0);
    return set;
}

static void
ck_cpus(const struct nst_cpuset *set, const char *want)
{
    char *got = nst_cpuset_format(set);
    ck_assert_str_eq(got, want);
    free(got);
}

static unsigned long long
free_2m(const struct nst_host *host, unsigned int cell)
{
    return nst_cell_pages(nst_host_cell(host, cell), 2048)->free;
}

/* CPUs: a domain is not kept from its own pins, but from a CPU it
 * shares with another (overcommitted) one; moving a holding frees it. */
START_TEST(test_holdings_cpus)
{
    struct nst_holdings h = { 0 };
    struct nst_cpuset a = cpus("1-2"), b = cpus("2-3"), moved = cpus("4");
    struct nst_cpuset taken;

    h.outside = cpus("0");
    ck_assert_int_eq(nst_holdings_add(&h, &a, NULL, NULL, 1), 0);
    ck_assert_int_eq(nst_holdings_add(&h, &b, NULL, NULL, 1), 0);
    nst_holdings_taken(&h, &a, NULL, &taken);
    ck_cpus(&taken, "0,2-3");
    nst_holdings_taken(&h, &b, NULL, &taken);
    ck_cpus(&taken, "0-2");
    nst_holdings_taken(&h, NULL, NULL, &taken);        /* a domain holding none */
    ck_cpus(&taken, "0-3");
    nst_holdings_add(&h, &a, NULL, NULL, -1);          /* a is planned anew */
    nst_holdings_add(&h, &moved, NULL, NULL, 1);
    nst_holdings_taken(&h, &b, NULL, &taken);
    ck_cpus(&taken, "0,4");
    nst_holdings_clear(&h);
}
END_TEST

/* Hugepages: each domain's view leaves out what the others hold, never
 * below 0; counts given back (negative) never raise free above total. */
START_TEST(test_holdings_pages)
{
    struct nst_host *host = test_load_host("amd-epyc-7502p-nps4", NULL);
    struct nst_holdings h = { 0 };
    struct nst_page_counts a = { 0 }, b = { 0 }, back = { 0 };
    const struct nst_page_use use_a = { 0, 2048, 1000 };
    const struct nst_page_use use_b = { 0, 2048, 3500 };
    const struct nst_page_use use_back = { 1, 2048, 99999 };

    ck_assert_uint_eq(free_2m(host, 0), 4096);
    ck_assert_int_eq(nst_page_counts_add_uses(&a, &use_a, 1, 1), 0);
    ck_assert_int_eq(nst_page_counts_add_uses(&b, &use_b, 1, 1), 0);
    ck_assert_int_eq(nst_page_counts_add_uses(&back, &use_back, 1, -1), 0);
    ck_assert_int_eq(nst_holdings_add(&h, NULL, NULL, &a, 1), 0);
    ck_assert_int_eq(nst_holdings_add(&h, NULL, NULL, &b, 1), 0);
    ck_assert_int_eq(nst_holdings_add(&h, NULL, NULL, &back, 1), 0);

    struct nst_host *view = nst_holdings_host(&h, host, &a);
    ck_assert_uint_eq(free_2m(view, 0), 4096 - 3500);
    ck_assert_uint_eq(free_2m(view, 1), 4096);   /* at most the total */
    nst_host_free(view);
    view = nst_holdings_host(&h, host, &b);
    ck_assert_uint_eq(free_2m(view, 0), 4096 - 1000);
    nst_host_free(view);
    view = nst_holdings_host(&h, host, NULL);    /* 4500 held: none left */
    ck_assert_uint_eq(free_2m(view, 0), 0);
    nst_host_free(view);
    ck_assert_uint_eq(free_2m(host, 0), 4096);   /* the host keeps its */

    nst_page_counts_clear(&a);
    nst_page_counts_clear(&b);
    nst_page_counts_clear(&back);
    nst_holdings_clear(&h);
    nst_host_free(host);
}
END_TEST

/* Domains planned one after another with nst_apply, each on the view
 * the holdings give it and holding its plan: no CPU and no hugepage is
 * promised twice. */
START_TEST(test_holdings_plan_many)
{
    static const char xml[] =
        "<domain type='kvm'><name>d</name>"
        "<memory unit='GiB'>4</memory><vcpu>8</vcpu>"
        "<os><type arch='x86_64'>hvm</type></os></domain>";
    struct nst_host *host = test_load_host("amd-epyc-7502p-nps4", NULL);
    struct nst_holdings h = { 0 };
    struct nst_profile profile;
    size_t nsrc;
    const struct nst_profile_source *src = nst_builtin_profiles(&nsrc);
    struct nst_cpuset all_pins;
    unsigned long long pages = 0;
    char *err = NULL;

    nst_cpuset_clear_all(&all_pins);
    nst_profile_init(&profile);
    ck_assert_int_eq(nst_profile_compose(&profile, "perf", src, nsrc, &err),
                     0);
    for (int d = 0; d < 3; d++) {
        struct nst_doc *doc = NULL;
        struct nst_report report;
        struct nst_plan plan;
        struct nst_page_counts held = { 0 };
        struct nst_cpuset taken;
        struct nst_host *view = nst_holdings_host(&h, host, NULL);

        nst_holdings_taken(&h, NULL, NULL, &taken);
        ck_assert_int_eq(nst_doc_parse(xml, strlen(xml), "d", &doc, &err),
                         0);
        nst_report_init(&report, "d", profile.name);
        struct nst_apply_options opts = {
            .profile = &profile, .host = view, .taken = &taken };
        ck_assert_int_eq(nst_apply(doc, &opts, &report, &plan), 0);
        ck_assert_uint_eq(nst_cpuset_count(&plan.vcpus), 8);
        ck_assert(!nst_cpuset_intersects(&plan.vcpus, &all_pins));
        nst_cpuset_union(&all_pins, &plan.vcpus);
        for (size_t i = 0; i < plan.npages; i++)
            pages += plan.pages[i].pages;
        ck_assert_int_eq(nst_page_counts_add_uses(&held, plan.pages,
                                                  plan.npages, 1), 0);
        ck_assert_int_eq(nst_holdings_add(&h, &plan.vcpus, NULL, &held, 1), 0);
        nst_page_counts_clear(&held);
        nst_plan_clear(&plan);
        nst_report_clear(&report);
        nst_doc_free(doc);
        nst_host_free(view);
    }
    /* Every guest got hugepages, and no cell gave more than it had. */
    ck_assert_uint_gt(pages, 0);
    for (size_t i = 0; i < h.pages.n; i++) {
        const struct nst_page_count *c = &h.pages.items[i];
        const struct nst_pages *have =
            nst_cell_pages(nst_host_cell(host, c->cell), c->size_kib);
        ck_assert_msg(c->pages > 0 && (unsigned long long)c->pages <=
                      have->free, "cell %u: %lld pages of %llu KiB held, "
                      "%llu free", c->cell, c->pages, c->size_kib,
                      have->free);
    }
    ck_assert_uint_eq(nst_cpuset_count(&all_pins), 24);
    nst_profile_clear(&profile);
    nst_holdings_clear(&h);
    nst_host_free(host);
}
END_TEST

/* Emulator and I/O thread pins are held too: a domain whose threads an
 * operator pinned to CPUs 5-6 (not housekeeping) keeps every other
 * domain's vCPUs off them (the third 4-vCPU domain on host cell 0 would
 * get 5-6 otherwise), while the perf domains planned after it still
 * share cell 0's housekeeping CPUs for their own threads (no refusal,
 * and those CPUs are never taken from their own threads). */
START_TEST(test_holdings_threads)
{
    static const char held_xml[] =
        "<domain type='kvm'><name>ops</name>"
        "<memory unit='GiB'>1</memory><vcpu>1</vcpu>"
        "<iothreads>1</iothreads>"
        "<cputune><emulatorpin cpuset='5'/>"
        "<iothreadpin iothread='1' cpuset='6'/></cputune>"
        "<os><type arch='x86_64'>hvm</type></os></domain>";
    static const char xml[] =
        "<domain type='kvm'><name>d</name>"
        "<memory unit='GiB'>4</memory><vcpu>4</vcpu>"
        "<os><type arch='x86_64'>hvm</type>"
        "</os><devices><disk type='file' device='disk'>"
        "<driver name='qemu' type='qcow2'/>"
        "<source file='/var/lib/libvirt/images/d.qcow2'/>"
        "<target dev='vda' bus='virtio'/></disk></devices></domain>";
    struct nst_host *host = test_load_host("amd-epyc-7502p-nps4", NULL);
    struct nst_holdings h = { 0 };
    struct nst_profile profile;
    size_t nsrc;
    const struct nst_profile_source *src = nst_builtin_profiles(&nsrc);
    struct nst_cpuset ops_vcpus, ops_threads, first_threads, taken;
    struct nst_doc *doc = NULL;
    char *err = NULL;

    nst_cpuset_clear_all(&ops_vcpus);
    nst_cpuset_clear_all(&ops_threads);
    ck_assert_int_eq(nst_doc_parse(held_xml, strlen(held_xml), "ops", &doc,
                                   &err), 0);
    ck_assert_int_eq(nst_doc_vcpu_pins(doc, &ops_vcpus, &err), 0);
    ck_assert_int_eq(nst_doc_thread_pins(doc, &ops_threads, &err), 0);
    nst_doc_free(doc);
    ck_assert(nst_cpuset_is_empty(&ops_vcpus));
    ck_cpus(&ops_threads, "5-6");
    ck_assert_int_eq(nst_holdings_add(&h, &ops_vcpus, &ops_threads, NULL, 1),
                     0);
    /* its own threads' CPUs are not taken from it, only from others */
    nst_holdings_taken(&h, &ops_vcpus, &ops_threads, &taken);
    ck_assert(nst_cpuset_is_empty(&taken));
    nst_holdings_taken(&h, NULL, NULL, &taken);
    ck_cpus(&taken, "5-6");

    nst_profile_init(&profile);
    ck_assert_int_eq(nst_profile_compose(&profile, "perf", src, nsrc, &err),
                     0);
    nst_cpuset_clear_all(&first_threads);
    for (int d = 0; d < 3; d++) {
        struct nst_report report;
        struct nst_plan plan;
        struct nst_cpuset threads;

        nst_holdings_taken(&h, NULL, NULL, &taken);
        ck_assert_int_eq(nst_doc_parse(xml, strlen(xml), "d", &doc, &err),
                         0);
        nst_report_init(&report, "d", profile.name);
        struct nst_apply_options opts = {
            .profile = &profile, .host = host, .taken = &taken };
        ck_assert_int_eq(nst_apply(doc, &opts, &report, &plan), 0);
        ck_assert_uint_eq(nst_cpuset_count(&plan.vcpus), 4);
        ck_assert_msg(!nst_cpuset_intersects(&plan.vcpus, &ops_threads),
                      "domain %d: a vCPU on the threads' CPUs 5-6", d);
        threads = plan.emulator;
        nst_cpuset_union(&threads, &plan.iothreads);
        ck_assert(!nst_cpuset_is_empty(&plan.emulator));
        ck_assert(!nst_cpuset_is_empty(&plan.iothreads));
        ck_assert(!nst_cpuset_intersects(&threads, &plan.vcpus));
        if (d == 0)
            first_threads = threads;
        else        /* the housekeeping CPUs are shared, not refused */
            ck_assert(nst_cpuset_equal(&threads, &first_threads));
        ck_assert_int_eq(nst_holdings_add(&h, &plan.vcpus, &threads, NULL,
                                          1), 0);
        nst_plan_clear(&plan);
        nst_report_clear(&report);
        nst_doc_free(doc);
    }
    nst_profile_clear(&profile);
    nst_holdings_clear(&h);
    nst_host_free(host);
}
END_TEST

static Suite *
pinning_suite(void)
{
    Suite *s = suite_create("pinning");
    TCase *tc = tcase_create("unit");
    tcase_add_test(tc, test_intel_layout);
    tcase_add_test(tc, test_prefer_one_cell);
    tcase_add_test(tc, test_prefer_hugepages_cell);
    tcase_add_test(tc, test_isolate_one_cell);
    tcase_add_test(tc, test_keep_existing);
    tcase_add_test(tc, test_require_one_cell);
    tcase_add_test(tc, test_taken_respected);
    tcase_add_test(tc, test_best_fit);
    tcase_add_test(tc, test_split_48);
    tcase_add_test(tc, test_refuse_80);
    tcase_add_test(tc, test_require_needs_smt);
    tcase_add_test(tc, test_require_multiple);
    tcase_add_test(tc, test_memory);
    tcase_add_test(tc, test_split_smallest_k);
    tcase_add_test(tc, test_adjacent_siblings);
    tcase_add_test(tc, test_threads_only_when_aligned);
    tcase_add_test(tc, test_missing_sibling);
    tcase_add_test(tc, test_isolate_refused);
    tcase_add_test(tc, test_bad_requests);
    tcase_add_test(tc, test_singular_counts);
    tcase_add_test(tc, test_many_cells);
    tcase_add_test(tc, test_holdings_cpus);
    tcase_add_test(tc, test_holdings_pages);
    tcase_add_test(tc, test_holdings_threads);
    tcase_add_test(tc, test_holdings_plan_many);
    suite_add_tcase(s, tc);

    TCase *prop = tcase_create("properties");
    /* thousands of cases; valgrind makes them slow, never a timing test */
    tcase_set_timeout(prop, 600);
    tcase_add_loop_test(prop, test_properties, NST_THREAD_PREFER,
                        NST_THREAD_LAST);
    suite_add_tcase(s, prop);
    return s;
}

int
main(void)
{
    return test_run_suite(pinning_suite());
}

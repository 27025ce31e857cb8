/*
 * cpuset.c: fixed-size CPU bitmaps and libvirt's cpuset syntax
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define WORDS (NST_MAX_CPUS / 64)

void
nst_cpuset_clear_all(struct nst_cpuset *set)
{
    memset(set, 0, sizeof(*set));
}

void
nst_cpuset_set(struct nst_cpuset *set, unsigned int cpu)
{
    if (cpu < NST_MAX_CPUS)
        set->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

void
nst_cpuset_clear(struct nst_cpuset *set, unsigned int cpu)
{
    if (cpu < NST_MAX_CPUS)
        set->bits[cpu / 64] &= ~(UINT64_C(1) << (cpu % 64));
}

bool
nst_cpuset_test(const struct nst_cpuset *set, unsigned int cpu)
{
    return cpu < NST_MAX_CPUS &&
           (set->bits[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned int
nst_cpuset_count(const struct nst_cpuset *set)
{
    unsigned int n = 0;
    for (size_t i = 0; i < WORDS; i++)
        n += (unsigned int)__builtin_popcountll(set->bits[i]);
    return n;
}

bool
nst_cpuset_is_empty(const struct nst_cpuset *set)
{
    for (size_t i = 0; i < WORDS; i++)
        if (set->bits[i])
            return false;
    return true;
}

int
nst_cpuset_next(const struct nst_cpuset *set, unsigned int from)
{
    for (unsigned int w = from / 64; w < WORDS; w++) {
        uint64_t word = set->bits[w];
        if (w == from / 64)
            word &= ~UINT64_C(0) << (from % 64);
        if (word)
            return (int)(w * 64 + (unsigned int)__builtin_ctzll(word));
    }
    return -1;
}

void
nst_cpuset_union(struct nst_cpuset *dst, const struct nst_cpuset *src)
{
    for (size_t i = 0; i < WORDS; i++)
        dst->bits[i] |= src->bits[i];
}

void
nst_cpuset_subtract(struct nst_cpuset *dst, const struct nst_cpuset *src)
{
    for (size_t i = 0; i < WORDS; i++)
        dst->bits[i] &= ~src->bits[i];
}

void
nst_cpuset_intersect(struct nst_cpuset *dst, const struct nst_cpuset *src)
{
    for (size_t i = 0; i < WORDS; i++)
        dst->bits[i] &= src->bits[i];
}

bool
nst_cpuset_intersects(const struct nst_cpuset *a, const struct nst_cpuset *b)
{
    for (size_t i = 0; i < WORDS; i++)
        if (a->bits[i] & b->bits[i])
            return true;
    return false;
}

bool
nst_cpuset_equal(const struct nst_cpuset *a, const struct nst_cpuset *b)
{
    return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

/* Reads a cpu number at *p, advancing it.  Returns -1 when none. */
static int
parse_cpu(const char **p, unsigned int *cpu)
{
    const char *s = *p;
    unsigned long value = 0;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9') {
        value = value * 10 + (unsigned long)(*s - '0');
        if (value >= NST_MAX_CPUS)
            return -1;
        s++;
    }
    *cpu = (unsigned int)value;
    *p = s;
    return 0;
}

int
nst_cpuset_parse(const char *text, struct nst_cpuset *set, char **err)
{
    struct nst_cpuset excluded;
    const char *p = text;

    nst_cpuset_clear_all(set);
    nst_cpuset_clear_all(&excluded);
    while (*p == ' ')
        p++;
    if (!*p)
        goto bad;
    for (;;) {
        bool negate = false;
        unsigned int first, last;
        while (*p == ' ')
            p++;
        if (*p == '^') {
            negate = true;
            p++;
        }
        if (parse_cpu(&p, &first) < 0)
            goto bad;
        last = first;
        if (!negate && *p == '-') {
            p++;
            if (parse_cpu(&p, &last) < 0 || last < first)
                goto bad;
        }
        for (unsigned int cpu = first; cpu <= last; cpu++)
            nst_cpuset_set(negate ? &excluded : set, cpu);
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (*p != ',')
            goto bad;
        p++;
    }
    nst_cpuset_subtract(set, &excluded);
    return 0;

 bad:
    nst_set_error(err, "invalid cpuset '%s' (cpus must be below %d)",
                  text, NST_MAX_CPUS);
    return -1;
}

char *
nst_cpuset_format(const struct nst_cpuset *set)
{
    struct nst_buf buf = { 0 };
    int cpu = nst_cpuset_next(set, 0);

    while (cpu >= 0) {
        int last = cpu;
        while (last + 1 < NST_MAX_CPUS &&
               nst_cpuset_test(set, (unsigned int)last + 1))
            last++;
        if (buf.len)
            nst_buf_adds(&buf, ",");
        if (last == cpu)
            nst_buf_addf(&buf, "%d", cpu);
        else
            nst_buf_addf(&buf, "%d-%d", cpu, last);
        cpu = last + 1 < NST_MAX_CPUS ?
              nst_cpuset_next(set, (unsigned int)last + 1) : -1;
    }
    return nst_buf_finish(&buf, NULL);
}

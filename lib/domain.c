/*
 * domain.c: what the rules read from a domain document (see domain.h)
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "internal.h"
#include "xmledit.h"

/* ASCII only: a unit is not text in the user's locale. */
static bool
same_word(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

int
nst_unit_bytes(const char *unit, unsigned long long *bytes)
{
    /* libvirt's rule (virScaleInteger), any case: "b", "byte", "bytes";
     * or a power letter alone or with "iB" (1024) or with "B" (1000). */
    static const char powers[] = "kmgtpe";
    const char *power = NULL;
    unsigned long long base;

    if (same_word(unit, "b") || same_word(unit, "byte") ||
        same_word(unit, "bytes")) {
        *bytes = 1;
        return 0;
    }
    for (size_t i = 0; unit[0] && powers[i]; i++)
        if (unit[0] == powers[i] || unit[0] == powers[i] - 'a' + 'A')
            power = &powers[i];
    if (!power)
        return -1;
    if (!unit[1] || same_word(unit + 1, "iB"))
        base = 1024;
    else if (same_word(unit + 1, "B"))
        base = 1000;
    else
        return -1;
    *bytes = 1;
    for (const char *p = powers; p <= power; p++)
        *bytes *= base;
    return 0;
}

int
nst_scaled_kib(const char *value, const char *unit, unsigned long long *kib)
{
    const unsigned long long max_bytes = LLONG_MAX;
    unsigned long long n, unit_bytes = 1024;

    if (!value || (unit && *unit && nst_unit_bytes(unit, &unit_bytes) < 0) ||
        nst_parse_ull(value, max_bytes / unit_bytes, &n) < 0)
        return -1;
    unsigned long long bytes = n * unit_bytes;
    unsigned long long k = bytes / 1024 + (bytes % 1024 != 0);
    if (k > max_bytes / 1024)
        return -1;
    *kib = k;
    return 0;
}

int
nst_read_kib(const xmlNode *node, unsigned long long *kib)
{
    char *text = nst_text(node);
    char *unit = nst_attr(node, "unit");
    int ret = nst_scaled_kib(text, unit, kib);
    free(text);
    free(unit);
    return ret;
}

int
nst_domain_vcpus(const xmlNode *root, unsigned int *vcpus)
{
    xmlNodePtr vcpu = nst_child(root, "vcpu");
    unsigned long long n = 1;

    if (vcpu) {
        char *text = nst_text(vcpu);
        int bad = !text || nst_parse_ull(text, NST_MAX_CPUS, &n) < 0 || !n;
        free(text);
        if (bad)
            return -1;
    }
    *vcpus = (unsigned int)n;
    return 0;
}

int
nst_domain_memory_kib(const xmlNode *root, unsigned long long *kib)
{
    xmlNodePtr memory = nst_child(root, "memory");
    if (!memory || nst_read_kib(memory, kib) < 0 || !*kib)
        return -1;
    return 0;
}

int
nst_domain_memdevs(const xmlNode *root, struct nst_memdev **devs, size_t *n)
{
    xmlNodePtr devices = nst_child(root, "devices");
    size_t count = nst_count_children(devices, "memory");

    *devs = NULL;
    *n = 0;
    if (!count)
        return 0;
    if (!(*devs = calloc(count, sizeof(**devs))))
        return -1;
    for (xmlNodePtr m = nst_child(devices, "memory"); m;
         m = nst_next(m, "memory")) {
        struct nst_memdev *d = &(*devs)[*n];
        xmlNodePtr target = nst_child(m, "target");
        xmlNodePtr size = nst_child(target, "size");
        xmlNodePtr node = nst_child(target, "node");
        xmlNodePtr requested = nst_child(target, "requested");
        unsigned long long id;

        d->node = m;
        d->model = nst_attr_is(m, "model", "dimm") ? "dimm" :
                   nst_attr_is(m, "model", "nvdimm") ? "nvdimm" :
                   nst_attr_is(m, "model", "virtio-pmem") ? "virtio-pmem" :
                   nst_attr_is(m, "model", "virtio-mem") ? "virtio-mem" :
                   nst_attr_is(m, "model", "sgx-epc") ? "sgx-epc" : "";
        d->target = -1;
        if (!size || nst_read_kib(size, &d->size_kib) < 0)
            goto bad;
        if (node) {
            char *text = nst_text(node);
            int bad = !text || nst_parse_ull(text, NST_MAX_CPUS - 1, &id) < 0;
            free(text);
            if (bad)
                goto bad;
            d->target = (long)id;
        }
        if (strcmp(d->model, "dimm") == 0)
            d->ram_kib = d->size_kib;
        else if (strcmp(d->model, "virtio-mem") == 0 && requested &&
                 nst_read_kib(requested, &d->ram_kib) < 0)
            goto bad;
        (*n)++;
    }
    return 0;
 bad:
    free(*devs);
    *devs = NULL;
    *n = 0;
    return -1;
}

bool
nst_feature_policy_removes(const char *policy)
{
    return policy && (strcmp(policy, "disable") == 0 ||
                      strcmp(policy, "forbid") == 0);
}

bool
nst_feature_policy_adds(const char *policy)
{
    return !policy || strcmp(policy, "require") == 0 ||
           strcmp(policy, "force") == 0;
}

/*
 * domain.c: what the rules read from a domain document (see domain.h)
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "internal.h"
#include "xmledit.h"

int
nst_unit_bytes(const char *unit, unsigned long long *bytes)
{
    static const struct { const char *name; unsigned long long bytes; }
    units[] = {
        { "b", 1 }, { "bytes", 1 },
        { "KB", 1000ULL }, { "k", 1024ULL }, { "KiB", 1024ULL },
        { "MB", 1000000ULL }, { "M", 1048576ULL }, { "MiB", 1048576ULL },
        { "GB", 1000000000ULL }, { "G", 1073741824ULL },
        { "GiB", 1073741824ULL },
        { "TB", 1000000000000ULL }, { "T", 1099511627776ULL },
        { "TiB", 1099511627776ULL },
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(unit, units[i].name) == 0) {
            *bytes = units[i].bytes;
            return 0;
        }
    }
    return -1;
}

int
nst_scaled_kib(const char *value, const char *unit,
               unsigned long long default_unit_bytes,
               unsigned long long *kib)
{
    unsigned long long n, bytes = default_unit_bytes;

    if (!value || (unit && nst_unit_bytes(unit, &bytes) < 0) ||
        nst_parse_ull(value, ULLONG_MAX / bytes, &n) < 0)
        return -1;
    *kib = n * bytes / 1024;
    return 0;
}

int
nst_read_kib(const xmlNode *node, unsigned long long *kib)
{
    char *text = nst_text(node);
    char *unit = nst_attr(node, "unit");
    int ret = nst_scaled_kib(text, unit, 1024, kib);
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

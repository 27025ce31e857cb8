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

bool
nst_backing_conflict(const xmlNode *backing, struct nst_backing_conflict *out)
{
    xmlNodePtr allocation = nst_child(backing, "allocation");
    xmlNodePtr source = nst_child(backing, "source");

    if (allocation && nst_attr_is(allocation, "mode", "ondemand")) {
        *out = (struct nst_backing_conflict){
            "<allocation mode='ondemand'/>",
            "libvirt refuses hugepages with memory allocated on demand, "
            "since hugepages are taken whole when QEMU starts", true };
        return true;
    }
    if (source && nst_attr_is(source, "type", "anonymous")) {
        *out = (struct nst_backing_conflict){
            "<source type='anonymous'/>",
            "libvirt refuses hugepages with an anonymous memory source, "
            "which is not hugetlbfs", true };
        return true;
    }
    if (source && nst_attr_is(source, "type", "file")) {
        *out = (struct nst_backing_conflict){
            "<source type='file'/>",
            "hugepages would take the place of the file-backed memory "
            "(libvirt backs the guest with hugetlbfs instead)", false };
        return true;
    }
    return false;
}

/* SEV policy bit 2: the guest's register state is encrypted too
 * (SEV-ES); libvirt 9.0 has no type of its own for it. */
#define SEV_POLICY_ES 0x4ULL

static bool
sev_policy_es(const xmlNode *ls)
{
    char *text = nst_text(nst_child(ls, "policy"));
    char *end = NULL;
    unsigned long long policy = text ? strtoull(text, &end, 16) : 0;
    bool es = text && end != text && !*end && (policy & SEV_POLICY_ES);
    free(text);
    return es;
}

int
nst_domain_confidential(const xmlNode *root, struct nst_confidential *out)
{
    /* Why each cannot nest: an SEV guest's kernel refuses to load
     * kvm_amd ("KVM is unsupported when running as an SEV guest"); a TD
     * has no VMX (the instructions fault); Secure Execution hosts run
     * in an LPAR, never in a guest. */
    static const char sev_why[] = "its kernel refuses to load KVM";
    static const struct {
        const char *type, *what, *why, *arch;
        enum nst_vendor vendor;
    } kinds[] = {
        { "sev", "an AMD SEV guest", sev_why, "x86_64", NST_VENDOR_AMD },
        { "sev-snp", "an AMD SEV-SNP guest", sev_why, "x86_64",
          NST_VENDOR_AMD },
        { "tdx", "an Intel TDX guest", "VMX instructions fault in a trust "
          "domain", "x86_64", NST_VENDOR_INTEL },
        { "s390-pv", "an IBM Secure Execution guest", "a secure guest "
          "cannot host KVM guests itself", "s390x",
          NST_VENDOR_UNKNOWN },
    };
    xmlNodePtr ls = nst_child(root, "launchSecurity");

    memset(out, 0, sizeof(*out));
    if (!ls)
        return 0;
    out->type = nst_attr(ls, "type");
    if (!out->type && !(out->type = strdup("")))
        return -1;
    out->what = "a confidential guest";
    out->why = "confidential guests get no hardware virtualization";
    for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
        if (strcmp(out->type, kinds[i].type) != 0)
            continue;
        out->what = kinds[i].what;
        out->why = kinds[i].why;
        out->arch = kinds[i].arch;
        out->vendor = kinds[i].vendor;
    }
    if (strcmp(out->type, "sev") == 0 && sev_policy_es(ls))
        out->what = "an AMD SEV-ES guest";
    return 1;
}

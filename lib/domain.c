/*
 * domain.c: the domain model, read once from a domain document (see
 * domain.h)
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "internal.h"
#include "xmledit.h"

/* The memory devices in document order (a new array, NULL when none).
 * Returns 0, -1 when a size or node is not one libvirt accepts, -2 when
 * out of memory. */
static int
read_memdevs(const xmlNode *root, struct nst_memdev **devs, size_t *n)
{
    xmlNodePtr devices = nsti_child(root, "devices");
    size_t count = nsti_count_children(devices, "memory");

    *devs = NULL;
    *n = 0;
    if (!count)
        return 0;
    if (!(*devs = calloc(count, sizeof(**devs))))
        return -2;
    for (xmlNodePtr m = nsti_child(devices, "memory"); m;
         m = nsti_next(m, "memory")) {
        struct nst_memdev *d = &(*devs)[*n];
        xmlNodePtr target = nsti_child(m, "target");
        xmlNodePtr size = nsti_child(target, "size");
        xmlNodePtr node = nsti_child(target, "node");
        xmlNodePtr requested = nsti_child(target, "requested");
        unsigned long long id;

        d->node = m;
        d->model = nsti_attr_is(m, "model", "dimm") ? "dimm" :
                   nsti_attr_is(m, "model", "nvdimm") ? "nvdimm" :
                   nsti_attr_is(m, "model", "virtio-pmem") ? "virtio-pmem" :
                   nsti_attr_is(m, "model", "virtio-mem") ? "virtio-mem" :
                   nsti_attr_is(m, "model", "sgx-epc") ? "sgx-epc" : "";
        d->target = -1;
        if (!size || nsti_read_kib(size, &d->size_kib) < 0)
            goto bad;
        if (node) {
            char *text = nsti_text(node);
            int bad = !text || nst_parse_ull(text, NST_MAX_CPUS - 1, &id) < 0;
            free(text);
            if (bad)
                goto bad;
            d->target = (long)id;
        }
        if (strcmp(d->model, "dimm") == 0)
            d->ram_kib = d->size_kib;
        else if (strcmp(d->model, "virtio-mem") == 0 && requested &&
                 nsti_read_kib(requested, &d->ram_kib) < 0)
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
nsti_feature_policy_removes(const char *policy)
{
    return policy && (strcmp(policy, "disable") == 0 ||
                      strcmp(policy, "forbid") == 0);
}

bool
nsti_feature_policy_adds(const char *policy)
{
    return !policy || strcmp(policy, "require") == 0 ||
           strcmp(policy, "force") == 0;
}

static bool
backing_conflict(const xmlNode *backing, struct nst_backing_conflict *out)
{
    xmlNodePtr allocation = nsti_child(backing, "allocation");
    xmlNodePtr source = nsti_child(backing, "source");

    if (allocation && nsti_attr_is(allocation, "mode", "ondemand")) {
        *out = (struct nst_backing_conflict){
            "<allocation mode='ondemand'/>",
            "libvirt refuses hugepages with memory allocated on demand, "
            "since hugepages are taken whole when QEMU starts", true };
        return true;
    }
    if (source && nsti_attr_is(source, "type", "anonymous")) {
        *out = (struct nst_backing_conflict){
            "<source type='anonymous'/>",
            "libvirt refuses hugepages with an anonymous memory source, "
            "which is not hugetlbfs", true };
        return true;
    }
    if (source && nsti_attr_is(source, "type", "file")) {
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
    char *text = nsti_text(nsti_child(ls, "policy"));
    char *end = NULL;
    unsigned long long policy = text ? strtoull(text, &end, 16) : 0;
    bool es = text && end != text && !*end && (policy & SEV_POLICY_ES);
    free(text);
    return es;
}

int
nsti_domain_confidential(const xmlNode *root, struct nst_confidential *out)
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
    xmlNodePtr ls = nsti_child(root, "launchSecurity");

    memset(out, 0, sizeof(*out));
    if (!ls)
        return 0;
    out->type = nsti_attr(ls, "type");
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

/* The first element child of parent in the namespace ns named name:
 * libvirt keeps foreign elements in <metadata>, which nsti_child (no
 * namespace) never finds. */
static const xmlNode *
ns_child(const xmlNode *parent, const char *ns, const char *name)
{
    for (const xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && c->ns && c->ns->href &&
            xmlStrEqual(c->ns->href, BAD_CAST ns) &&
            xmlStrEqual(c->name, BAD_CAST name))
            return c;
    return NULL;
}

int
nsti_domain_windows(const xmlNode *root, char **why)
{
    static const char microsoft[] = "http://microsoft.com/win/";
    const xmlNode *os = ns_child(ns_child(nsti_child(root, "metadata"),
                                          NST_LIBOSINFO_NS, "libosinfo"),
                                 NST_LIBOSINFO_NS, "os");
    char *id = os ? nsti_attr(os, "id") : NULL;

    *why = NULL;
    if (id && strncmp(id, microsoft, sizeof(microsoft) - 1) == 0)
        *why = nst_printf("its libosinfo metadata names %s", id);
    else if (nsti_child(nsti_child(root, "features"), "hyperv"))
        *why = nst_printf("it has Hyper-V enlightenments "
                          "(<features><hyperv>)");
    else {
        free(id);
        return 0;
    }
    free(id);
    return *why ? 1 : -1;
}

/* ------------------------------------------------------------ the model */

static int
read_pin(struct nst_domain *d, enum nst_pin_kind kind, xmlNodePtr node,
         const char *id_attr)
{
    unsigned long long vcpu;

    if (NST_GROW(d->pins, d->npins + 1, d->pins_alloc) < 0)
        return -1;
    struct nst_pin *p = &d->pins[d->npins++];
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->node = node;
    p->id = id_attr ? nsti_attr(node, id_attr) : NULL;
    p->text = nsti_attr(node, "cpuset");
    p->valid = p->text && nst_cpuset_parse(p->text, &p->cpus, NULL) == 0;
    if (kind == NST_PIN_VCPU && p->id &&
        nst_parse_ull(p->id, NST_MAX_CPUS - 1, &vcpu) == 0) {
        p->has_vcpu = true;
        p->vcpu = (unsigned int)vcpu;
    }
    return 0;
}

/* <vcpu cpuset>, then vcpupin, emulatorpin and iothreadpin in document
 * order. */
static int
read_pins(struct nst_domain *d)
{
    xmlNodePtr vcpu = nsti_child(d->root, "vcpu");

    if (vcpu && xmlHasProp(vcpu, BAD_CAST "cpuset") &&
        read_pin(d, NST_PIN_VCPU_CPUSET, vcpu, NULL) < 0)
        return -1;
    for (xmlNodePtr c = nsti_child(nsti_child(d->root, "cputune"), NULL); c;
         c = nsti_next(c, NULL)) {
        const char *name = (const char *)c->name;
        int ret = 0;
        if (strcmp(name, "vcpupin") == 0)
            ret = read_pin(d, NST_PIN_VCPU, c, "vcpu");
        else if (strcmp(name, "emulatorpin") == 0)
            ret = read_pin(d, NST_PIN_EMULATOR, c, NULL);
        else if (strcmp(name, "iothreadpin") == 0)
            ret = read_pin(d, NST_PIN_IOTHREAD, c, "iothread");
        if (ret < 0)
            return -1;
    }
    return 0;
}

static void
read_bind(struct nst_numa_bind *b, xmlNodePtr node, bool memnode)
{
    static const char *const modes[] = {
        "strict", "interleave", "preferred", "restrictive", NULL
    };
    unsigned long long cell;
    int mode = NST_NUMA_STRICT;

    memset(b, 0, sizeof(*b));
    b->cell = -1;
    if (!node)
        return;
    b->node = node;
    /* A mode libvirt does not know is its to refuse; read as strict. */
    b->mode_valid = nsti_prop_enum(node, "mode", modes, 0, NULL, &mode,
                                  NULL) >= 0;
    b->mode = (enum nst_numa_mode)mode;
    b->nodeset = nsti_attr(node, "nodeset");
    b->has_nodes = b->nodeset &&
                   nst_cpuset_parse(b->nodeset, &b->nodes, NULL) == 0;
    if (memnode) {
        b->cellid = nsti_attr(node, "cellid");
        if (b->cellid && nst_parse_ull(b->cellid, NST_MAX_CPUS - 1,
                                       &cell) == 0)
            b->cell = (long)cell;
    }
}

static void
bind_clear(struct nst_numa_bind *b)
{
    free(b->nodeset);
    free(b->cellid);
}

static int
read_numatune(struct nst_domain *d)
{
    xmlNodePtr tune = nsti_child(d->root, "numatune");
    size_t count = nsti_count_children(tune, "memnode");

    read_bind(&d->numa_memory, nsti_child(tune, "memory"), false);
    if (!count)
        return 0;
    if (!(d->memnodes = calloc(count, sizeof(*d->memnodes))))
        return -1;
    for (xmlNodePtr m = nsti_child(tune, "memnode"); m;
         m = nsti_next(m, "memnode"))
        read_bind(&d->memnodes[d->nmemnodes++], m, true);
    return 0;
}

static int
read_cells(struct nst_domain *d)
{
    xmlNodePtr numa = nsti_child(nsti_child(d->root, "cpu"), "numa");
    size_t count = nsti_count_children(numa, "cell");
    unsigned long long id;

    d->has_numa = numa != NULL;
    if (!count)
        return 0;
    if (!(d->cells = calloc(count, sizeof(*d->cells))))
        return -1;
    for (xmlNodePtr c = nsti_child(numa, "cell"); c; c = nsti_next(c, "cell")) {
        struct nst_dom_cell *cell = &d->cells[d->ncells++];
        cell->node = c;
        if (nsti_prop_ull(c, "id", NST_MAX_CPUS - 1, NST_PROP_REQUIRED, NULL,
                         &id, NULL) > 0) {
            cell->has_id = true;
            cell->id = (unsigned int)id;
        }
        cell->has_cpus = nsti_prop_cpuset(c, "cpus", NST_PROP_REQUIRED, NULL,
                                         &cell->cpus, NULL) > 0;
        cell->has_memory = nsti_prop_kib(c, "memory", NST_PROP_REQUIRED,
                                        NULL, &cell->memory_kib, NULL) > 0;
    }
    return 0;
}

static int
read_pages(struct nst_domain *d)
{
    xmlNodePtr backing = nsti_child(d->root, "memoryBacking");
    xmlNodePtr huge = nsti_child(backing, "hugepages");
    size_t count = nsti_count_children(huge, "page");

    d->hugepages = huge != NULL;
    d->has_backing_conflict = backing_conflict(backing, &d->backing_conflict);
    if (!count)
        return 0;
    if (!(d->pages = calloc(count, sizeof(*d->pages))))
        return -1;
    for (xmlNodePtr p = nsti_child(huge, "page"); p; p = nsti_next(p, "page")) {
        struct nst_dom_page *page = &d->pages[d->npages++];
        page->node = p;
        page->size = nsti_attr(p, "size");
        page->unit = nsti_attr(p, "unit");
        page->nodeset = nsti_attr(p, "nodeset");
        page->has_size = page->size &&
                         nsti_scaled_kib(page->size, page->unit,
                                        &page->size_kib) == 0 &&
                         page->size_kib;
        page->has_cells = page->nodeset &&
                          nst_cpuset_parse(page->nodeset, &page->cells,
                                           NULL) == 0;
    }
    return 0;
}

/* The <vcpu> count: 1 without <vcpu>, refused beyond 1..NST_MAX_CPUS. */
static void
read_vcpus(struct nst_domain *d)
{
    xmlNodePtr vcpu = nsti_child(d->root, "vcpu");
    unsigned long long n = 1;

    if (vcpu) {
        char *text = nsti_text(vcpu);
        bool bad = !text || nst_parse_ull(text, NST_MAX_CPUS, &n) < 0 || !n;
        free(text);
        if (bad)
            return;
    }
    d->has_vcpus = true;
    d->vcpus = (unsigned int)n;
}

int
nsti_domain_read(const xmlNode *root, struct nst_domain *d)
{
    xmlNodePtr memory = nsti_child(root, "memory");
    xmlNodePtr max = nsti_child(root, "maxMemory");

    memset(d, 0, sizeof(*d));
    d->root = (xmlNodePtr)root;
    read_vcpus(d);
    d->has_memory = memory && nsti_read_kib(memory, &d->memory_kib) == 0 &&
                    d->memory_kib;
    d->has_max_memory = max && nsti_read_kib(max, &d->max_memory_kib) == 0;
    int devs = read_memdevs(root, &d->memdevs, &d->nmemdevs);
    d->memdevs_valid = devs == 0;
    int launch = nsti_domain_confidential(root, &d->launch);
    d->confidential = launch > 0;
    if (devs == -2 || launch < 0 ||
        nsti_domain_windows(root, &d->windows_why) < 0 || read_pins(d) < 0 ||
        read_numatune(d) < 0 || read_cells(d) < 0 || read_pages(d) < 0) {
        nsti_domain_clear(d);
        return -1;
    }
    return 0;
}

void
nsti_domain_clear(struct nst_domain *d)
{
    for (size_t i = 0; i < d->npins; i++) {
        free(d->pins[i].id);
        free(d->pins[i].text);
    }
    free(d->pins);
    bind_clear(&d->numa_memory);
    for (size_t i = 0; i < d->nmemnodes; i++)
        bind_clear(&d->memnodes[i]);
    free(d->memnodes);
    free(d->cells);
    free(d->memdevs);
    for (size_t i = 0; i < d->npages; i++) {
        free(d->pages[i].size);
        free(d->pages[i].unit);
        free(d->pages[i].nodeset);
    }
    free(d->pages);
    free(d->launch.type);
    free(d->windows_why);
    memset(d, 0, sizeof(*d));
}

const struct nst_numa_bind *
nsti_domain_binding(const struct nst_domain *d, long cell)
{
    for (size_t i = 0; cell >= 0 && i < d->nmemnodes; i++)
        if (d->memnodes[i].cell == cell)
            return &d->memnodes[i];
    return d->numa_memory.node ? &d->numa_memory : NULL;
}

bool
nsti_numa_bind_confines(const struct nst_numa_bind *b,
                       struct nst_cpuset *nodes)
{
    if (!b || !b->has_nodes || b->mode == NST_NUMA_PREFERRED)
        return false;
    *nodes = b->nodes;
    return true;
}

long
nsti_numa_bind_node(const struct nst_numa_bind *b)
{
    if (!b || !b->has_nodes || nst_cpuset_count(&b->nodes) != 1)
        return -1;
    return nst_cpuset_next(&b->nodes, 0);
}

int
nsti_domain_cell_ram(const struct nst_domain *d,
                    const struct nst_dom_cell *cell, unsigned long long *kib)
{
    if (!cell->has_id || !cell->has_memory)
        return -1;
    *kib = cell->memory_kib;
    /* The RAM of memory devices on the cell is the cell's to give (a
     * device without <source><pagesize> gets the cell's pages too). */
    for (size_t i = 0; i < d->nmemdevs; i++)
        if (d->memdevs[i].target >= 0 &&
            (unsigned long long)d->memdevs[i].target == cell->id)
            *kib += d->memdevs[i].ram_kib;
    return 0;
}

/*
 * host.c: the host model, from libvirt's capabilities (and optionally
 * domain capabilities) XML
 *
 * Everything the policy needs to know about the host is read here once:
 * vendor and virtualization flag, NUMA cells with their CPUs, memory and
 * pages, and the CPU feature names the target libvirt knows.  The rest of
 * the library never looks at capabilities XML again.  Domain
 * capabilities and cpu_map are read in host-features.c.
 */
#include <limits.h>

#include "host-parse.h"

/* ------------------------------------------------------------- parsing */

/*
 * Parses text as an XML document with nsti_xml_parse (no network, no
 * file, no DOCTYPE).  label names it in errors ("capabilities").  Any
 * encoding libxml2 decodes is read (UTF-16 too): these documents are only
 * read, unlike a domain, whose bytes the edit keeps and so must be UTF-8.
 * Returns a document the caller frees with xmlFreeDoc, or NULL with
 * *err set.
 */
xmlDoc *
host_parse_xml(const char *text, size_t len, const char *label, char **err)
{
    bool doctype = false;
    char *why = NULL;
    xmlDoc *doc = nsti_xml_parse(text, len, &doctype, &why);

    if (doctype)
        nst_set_error(err, "%s document must not contain a DOCTYPE", label);
    else if (!doc)
        nst_set_error(err, "cannot parse %s: %s", label,
                      why ? why : "out of memory");
    else if (!xmlDocGetRootElement(doc))
        nst_set_error(err, "cannot parse %s: document is empty", label);
    else {
        free(why);
        return doc;
    }
    free(why);
    if (doc)
        xmlFreeDoc(doc);
    return NULL;
}

/* Returns the root element if it is called name, else NULL with *err. */
const xmlNode *
host_expect_root(const xmlDoc *doc, const char *name, const char *label,
            char **err)
{
    const xmlNode *root = xmlDocGetRootElement((xmlDoc *)doc);

    if (!xmlStrEqual(root->name, BAD_CAST name)) {
        nst_set_error(err, "not a %s document: root element is <%s>", label,
                      (const char *)root->name);
        return NULL;
    }
    return root;
}

/*
 * The text of node without surrounding white space.  Returns a new
 * string the caller frees, or NULL when out of memory.
 */
char *
host_trimmed_text(const xmlNode *node)
{
    AUTO_STR content = nsti_text(node);
    const char *start = content;
    size_t len;

    if (!content)
        return NULL;
    while (*start == ' ' || *start == '\t' || *start == '\n' ||
           *start == '\r')
        start++;
    len = strlen(start);
    while (len && (start[len - 1] == ' ' || start[len - 1] == '\t' ||
                   start[len - 1] == '\n' || start[len - 1] == '\r'))
        len--;
    return nst_printf("%.*s", (int)len, start);
}

/* ---------------------------------------------------------------- units */

/*
 * Converts value given in unit to KiB, the unit read as libvirt reads it
 * (nsti_unit_bytes); no unit (NULL or "") means KiB, the unit libvirt
 * itself writes.  The result is rounded down, *exact says whether
 * anything was dropped.  Returns 0, or -1 for an unknown unit (-2 when
 * the result does not fit).
 */
static int
scale_to_kib(unsigned long long value, const char *unit,
             unsigned long long *kib, bool *exact)
{
    unsigned long long scale = 1024;
    unsigned __int128 bytes;

    if (unit && *unit && nsti_unit_bytes(unit, &scale) < 0)
        return -1;
    /* value < 2^64 and scale <= 1024^6 = 2^60, so this cannot overflow */
    bytes = (unsigned __int128)value * scale;
    if (bytes / 1024 > ULLONG_MAX)
        return -2;
    *kib = (unsigned long long)(bytes / 1024);
    *exact = bytes % 1024 == 0;
    return 0;
}

/* ------------------------------------------------------------ host cpu */

/* Returns a new malloc'd copy of s, NULL when out of memory. */
static char *
copy_string(const char *s)
{
    return nst_printf("%s", s);
}

enum nst_vendor
host_vendor_from_name(const char *name)
{
    /* libvirt spells them exactly so (cpu_map/x86_vendors.xml) */
    if (!strcmp(name, "Intel"))
        return NST_VENDOR_INTEL;
    if (!strcmp(name, "AMD"))
        return NST_VENDOR_AMD;
    return NST_VENDOR_UNKNOWN;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
host_sorted_names(const xmlNode *parent, const char *child,
                  const char *attr, char ***out, size_t *n)
{
    size_t count = 0, kept = 0;

    FOR_EACH_CHILD(node, parent, child)
        count++;
    char **names = calloc(count ? count : 1, sizeof(*names));
    if (!names)
        return -1;
    FOR_EACH_CHILD(node, parent, child) {
        char *name = attr ? nsti_attr(node, attr) : host_trimmed_text(node);
        if (attr && !name)
            continue;           /* a <feature> without a name says nothing */
        if (!name) {
            host_free_names(names, kept);
            return -1;
        }
        names[kept++] = name;
    }
    qsort(names, kept, sizeof(*names), compare_names);
    host_free_names(*out, *n);
    *out = names;
    *n = kept;
    return 0;
}

/* Sets has_vmx/has_svm from the <feature name> children of cpu. */
void
host_read_virt_features(struct nst_host *host, const xmlNode *cpu,
                   bool check_policy)
{
    FOR_EACH_CHILD(feature, cpu, "feature") {
        AUTO_STR name = nsti_attr(feature, "name");
        AUTO_STR policy = check_policy ? nsti_attr(feature, "policy") : NULL;

        if (!name)
            continue;
        /* in domcaps host-model, policy='disable' means the opposite */
        if (policy && !same(policy, "require"))
            continue;
        if (same(name, "vmx"))
            host->has_vmx = true;
        else if (same(name, "svm"))
            host->has_svm = true;
    }
}

static int
parse_host_cpu(struct nst_host *host, const xmlNode *root, char **err)
{
    const xmlNode *cpu = nsti_child(nsti_child(root, "host"), "cpu");
    const xmlNode *node;

    if (!cpu) {
        nst_set_error(err, "capabilities have no host cpu (host/cpu "
                      "missing)");
        return -1;
    }
    node = nsti_child(cpu, "arch");
    if (node)
        host->arch = host_trimmed_text(node);
    if (!host->arch || !*host->arch) {
        nst_set_error(err, "capabilities have no host cpu architecture "
                      "(host/cpu/arch missing or empty)");
        return -1;
    }

    node = nsti_child(cpu, "model");
    if (node) {
        host->model = host_trimmed_text(node);
        if (!host->model)
            goto oom;
        if (!*host->model) {
            free(host->model);
            host->model = NULL;
        }
    }

    node = nsti_child(cpu, "vendor");
    if (node) {
        AUTO_STR vendor = host_trimmed_text(node);
        if (!vendor)
            goto oom;
        host->vendor = host_vendor_from_name(vendor);
    }

    host_read_virt_features(host, cpu, false);
    if (host_sorted_names(cpu, "feature", "name", &host->cpu_features,
                          &host->ncpu_features) < 0)
        goto oom;
    return 0;

 oom:
    nst_set_error(err, "out of memory reading capabilities");
    return -1;
}

/* ------------------------------------------------------------- topology */

/* Orders cells and CPUs by id, their first member: one comparison for
 * the sort and for the lookup by id (find_by_id). */
static int
compare_ids(const void *a, const void *b)
{
    unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;
    return (x > y) - (x < y);
}

/* The element with that id in an array sorted by compare_ids, or NULL. */
static const void *
find_by_id(const void *array, size_t n, size_t size, unsigned int id)
{
    return array && n ? bsearch(&id, array, n, size, compare_ids) : NULL;
}

static int
compare_pages(const void *a, const void *b)
{
    const struct nst_pages *x = a, *y = b;
    return (x->size_kib > y->size_kib) - (x->size_kib < y->size_kib);
}

static int
parse_cell_memory(struct nst_cell *cell, const xmlNode *node, char **err)
{
    AUTO_STR unit = nsti_attr(node, "unit");
    AUTO_STR text = host_trimmed_text(node);
    unsigned long long value;
    bool exact;
    int rc;

    if (!text) {
        nst_set_error(err, "out of memory reading capabilities");
        return -1;
    }
    if (nst_parse_ull(text, ULLONG_MAX, &value) < 0) {
        nst_set_error(err, "invalid memory '%s' of cell %u in capabilities",
                      text, cell->id);
        return -1;
    }
    /* rounding down: never promise memory the cell may not have */
    rc = scale_to_kib(value, (const char *)unit, &cell->memory_kib, &exact);
    if (rc == -1) {
        nst_set_error(err, "invalid memory unit '%s' of cell %u in "
                      "capabilities", (const char *)unit, cell->id);
        return -1;
    }
    if (rc < 0) {
        nst_set_error(err, "memory of cell %u in capabilities is too large",
                      cell->id);
        return -1;
    }
    return 0;
}

static int
parse_cell_pages(struct nst_cell *cell, const xmlNode *node, char **err)
{
    AUTO_STR unit = nsti_attr(node, "unit");
    AUTO_STR size = nsti_attr(node, "size");
    AUTO_STR text = host_trimmed_text(node);
    struct nst_pages pages = { 0 };
    unsigned long long value;
    bool exact;
    int rc;

    if (!text) {
        nst_set_error(err, "out of memory reading capabilities");
        return -1;
    }
    if (!size || nst_parse_ull((const char *)size, ULLONG_MAX, &value) < 0) {
        nst_set_error(err, "invalid page size '%s' in cell %u of "
                      "capabilities", size ? (const char *)size : "",
                      cell->id);
        return -1;
    }
    rc = scale_to_kib(value, (const char *)unit, &pages.size_kib, &exact);
    if (rc == -1) {
        nst_set_error(err, "invalid page size unit '%s' in cell %u of "
                      "capabilities", (const char *)unit, cell->id);
        return -1;
    }
    if (rc < 0 || !exact || !pages.size_kib) {
        nst_set_error(err, "invalid page size '%s' in cell %u of "
                      "capabilities (must be a positive whole number of "
                      "KiB)",
                      (const char *)size, cell->id);
        return -1;
    }
    if (nst_parse_ull(text, ULLONG_MAX, &pages.total) < 0) {
        nst_set_error(err, "invalid number of %llu KiB pages '%s' in cell %u "
                      "of capabilities", pages.size_kib, text, cell->id);
        return -1;
    }
    pages.free = pages.total;

    for (size_t i = 0; i < cell->npages; i++) {
        if (cell->pages[i].size_kib == pages.size_kib) {
            nst_set_error(err, "cell %u of capabilities lists %llu KiB pages "
                          "twice", cell->id, pages.size_kib);
            return -1;
        }
    }
    if (cell->npages == NST_MAX_PAGE_SIZES) {
        nst_set_error(err, "cell %u of capabilities has more than %d page "
                      "sizes", cell->id, NST_MAX_PAGE_SIZES);
        return -1;
    }
    cell->pages[cell->npages++] = pages;
    return 0;
}

/*
 * Reads one <cpu> of a cell into *cpu.  seen holds the CPU ids read so
 * far, to catch one listed twice.
 */
static int
parse_cpu(struct nst_host_cpu *cpu, const struct nst_cell *cell,
          const xmlNode *node, struct nst_cpuset *seen, char **err)
{
    AUTO_STR id = nsti_attr(node, "id");
    AUTO_STR siblings = nsti_attr(node, "siblings");
    AUTO_STR what = NULL;
    unsigned long long value;

    if (!id || nst_parse_ull((const char *)id, ULLONG_MAX, &value) < 0) {
        nst_set_error(err, "invalid cpu id '%s' in cell %u of capabilities",
                      id ? (const char *)id : "", cell->id);
        return -1;
    }
    if (value >= NST_MAX_CPUS) {
        nst_set_error(err, "cpu id %llu in cell %u of capabilities is out of "
                      "range (host cpus must be below %d)", value, cell->id,
                      NST_MAX_CPUS);
        return -1;
    }
    cpu->id = (unsigned int)value;
    cpu->cell_id = cell->id;
    if (nst_cpuset_test(seen, cpu->id)) {
        nst_set_error(err, "cpu %u is listed twice in capabilities", cpu->id);
        return -1;
    }
    nst_cpuset_set(seen, cpu->id);

    what = nst_printf("cpu %u in capabilities", cpu->id);
    if (!what) {
        nst_set_error(err, "out of memory reading capabilities");
        return -1;
    }
    /*
     * libvirt writes only the id for a CPU whose topology it could not
     * read (an offline one): then it is its own core, so nothing groups
     * it with other CPUs by mistake.
     */
    value = 0;
    if (nsti_prop_ull(node, "socket_id", UINT_MAX, 0, what, &value, err) < 0)
        return -1;
    cpu->socket_id = (unsigned int)value;
    value = 0;
    if (nsti_prop_ull(node, "die_id", UINT_MAX, 0, what, &value, err) < 0)
        return -1;
    cpu->die_id = (unsigned int)value;
    value = cpu->id;
    if (nsti_prop_ull(node, "core_id", UINT_MAX, 0, what, &value, err) < 0)
        return -1;
    cpu->core_id = (unsigned int)value;

    if (siblings) {
        AUTO_STR cpuset_err = NULL;
        if (nst_cpuset_parse((const char *)siblings, &cpu->siblings,
                             &cpuset_err) < 0) {
            nst_set_error(err, "invalid siblings of cpu %u in capabilities: "
                          "%s", cpu->id,
                          cpuset_err ? cpuset_err : "invalid cpuset");
            return -1;
        }
    } else {
        nst_cpuset_clear_all(&cpu->siblings);
    }
    nst_cpuset_set(&cpu->siblings, cpu->id);
    return 0;
}

static int
parse_cell(struct nst_host *host, struct nst_cell *cell, const xmlNode *node,
           struct nst_cpuset *seen, char **err)
{
    AUTO_STR id = nsti_attr(node, "id");
    unsigned long long value;
    const xmlNode *memory;

    /* guest nodesets are cpuset-style bitmaps, so cells share the limit */
    if (!id || nst_parse_ull((const char *)id, ULLONG_MAX, &value) < 0) {
        nst_set_error(err, "invalid cell id '%s' in capabilities",
                      id ? (const char *)id : "");
        return -1;
    }
    if (value >= NST_MAX_CPUS) {
        nst_set_error(err, "cell id %llu in capabilities is out of range "
                      "(cell ids must be below %d)", value, NST_MAX_CPUS);
        return -1;
    }
    cell->id = (unsigned int)value;

    /* libvirt leaves <memory> out when it does not know the size */
    memory = nsti_child(node, "memory");
    if (memory && parse_cell_memory(cell, memory, err) < 0)
        return -1;

    FOR_EACH_CHILD(pages, node, "pages") {
        if (parse_cell_pages(cell, pages, err) < 0)
            return -1;
    }
    qsort(cell->pages, cell->npages, sizeof(cell->pages[0]), compare_pages);

    /* Distances: what the guest's cells are told when a rule builds
     * them on these cells (libvirt's values are 10..255). */
    FOR_EACH_CHILD(sibling, nsti_child(node, "distances"), "sibling") {
        AUTO_STR sid = nsti_attr(sibling, "id");
        AUTO_STR svalue = nsti_attr(sibling, "value");
        unsigned long long to, dist;
        if (!sid || !svalue ||
            nst_parse_ull((const char *)sid, NST_MAX_CPUS - 1, &to) < 0 ||
            nst_parse_ull((const char *)svalue, 255, &dist) < 0 ||
            dist < 10) {
            nst_set_error(err, "invalid distance sibling of cell %u in "
                          "capabilities", cell->id);
            return -1;
        }
        if (cell->ndistances < NST_MAX_DISTANCES)
            cell->distances[cell->ndistances++] = (struct nst_distance){
                (unsigned int)to, (unsigned int)dist };
    }

    /* a memory-only cell (no <cpus>) is valid: it just gets no vCPUs */
    FOR_EACH_CHILD(cpu, nsti_child(node, "cpus"), "cpu") {
        struct nst_host_cpu *hcpu = &host->cpus[host->ncpus];
        if (parse_cpu(hcpu, cell, cpu, seen, err) < 0)
            return -1;
        host->ncpus++;
        nst_cpuset_set(&cell->cpus, hcpu->id);
    }
    return 0;
}

static int
parse_topology(struct nst_host *host, const xmlNode *root, char **err)
{
    const xmlNode *cells = nsti_child(nsti_child(nsti_child(root, "host"), "topology"),
                          "cells");
    struct nst_cpuset seen;
    struct nst_cpuset all;
    size_t ncells = 0, ncpus = 0;

    if (!cells) {
        nst_set_error(err, "capabilities have no NUMA topology "
                      "(host/topology/cells missing): cannot plan placement");
        return -1;
    }
    FOR_EACH_CHILD(cell, cells, "cell") {
        ncells++;
        FOR_EACH_CHILD(cpu, nsti_child(cell, "cpus"), "cpu")
            ncpus++;
    }
    if (!ncells) {
        nst_set_error(err, "capabilities have no NUMA cells "
                      "(host/topology/cells/cell missing): cannot plan "
                      "placement");
        return -1;
    }
    if (!ncpus) {
        nst_set_error(err, "capabilities list no host cpus "
                      "(host/topology/cells/cell/cpus/cpu missing): cannot "
                      "plan placement");
        return -1;
    }

    host->cells = calloc(ncells, sizeof(*host->cells));
    host->cpus = calloc(ncpus, sizeof(*host->cpus));
    if (!host->cells || !host->cpus) {
        nst_set_error(err, "out of memory reading capabilities");
        return -1;
    }

    nst_cpuset_clear_all(&seen);
    FOR_EACH_CHILD(cell, cells, "cell") {
        if (parse_cell(host, &host->cells[host->ncells], cell, &seen,
                       err) < 0)
            return -1;
        host->ncells++;
    }

    qsort(host->cells, host->ncells, sizeof(*host->cells), compare_ids);
    for (size_t i = 1; i < host->ncells; i++) {
        if (host->cells[i].id == host->cells[i - 1].id) {
            nst_set_error(err, "cell %u is listed twice in capabilities",
                          host->cells[i].id);
            return -1;
        }
    }
    qsort(host->cpus, host->ncpus, sizeof(*host->cpus), compare_ids);

    /*
     * A sibling libvirt did not list (an offline CPU) must never be
     * handed out, so siblings only name CPUs of the host.
     */
    nst_host_all_cpus(host, &all);
    for (size_t i = 0; i < host->ncpus; i++)
        nst_cpuset_intersect(&host->cpus[i].siblings, &all);
    return 0;
}

/* ---------------------------------------------------------- public API */

const char *
nst_vendor_name(enum nst_vendor vendor)
{
    switch (vendor) {
    case NST_VENDOR_INTEL:
        return "Intel";
    case NST_VENDOR_AMD:
        return "AMD";
    case NST_VENDOR_UNKNOWN:
    case NST_VENDOR_LAST:
        break;
    }
    return "unknown";
}

/*
 * Returns 0 with *out a new host the caller frees with nst_host_free, or
 * -1 with *err set and *out NULL.  The texts stay the caller's.
 */
int
nst_host_parse(const char *caps, size_t caps_len,
               const char *domcaps, size_t domcaps_len,
               struct nst_host **out, char **err)
{
    AUTO_DOC doc = NULL;
    struct nst_host *host;
    const xmlNode *root;

    *out = NULL;
    if (!caps) {
        nst_set_error(err, "no capabilities document given");
        return -1;
    }
    doc = host_parse_xml(caps, caps_len, "capabilities", err);
    if (!doc)
        return -1;
    root = host_expect_root(doc, "capabilities", "capabilities", err);
    if (!root)
        return -1;

    host = calloc(1, sizeof(*host));
    if (!host) {
        nst_set_error(err, "out of memory reading capabilities");
        return -1;
    }
    if (parse_host_cpu(host, root, err) < 0 ||
        parse_topology(host, root, err) < 0 ||
        (domcaps && host_parse_domcaps(host, domcaps, domcaps_len, err) < 0)) {
        nst_host_free(host);
        return -1;
    }
    *out = host;
    return 0;
}

/*
 * Records that free of the cell's size_kib pages are free.  Returns 0,
 * or -1 with *err set (unknown cell or size, more free than total).
 */
int
nst_host_set_free_pages(struct nst_host *host, unsigned int cell_id,
                        unsigned long long size_kib,
                        unsigned long long free_pages, char **err)
{
    /* host is ours to change; nst_host_cell only hands out const */
    struct nst_cell *cell = (struct nst_cell *)nst_host_cell(host, cell_id);

    if (!cell) {
        nst_set_error(err, "host has no NUMA cell %u", cell_id);
        return -1;
    }
    for (size_t i = 0; i < cell->npages; i++) {
        struct nst_pages *pages = &cell->pages[i];
        if (pages->size_kib != size_kib)
            continue;
        if (free_pages > pages->total) {
            nst_set_error(err, "cell %u cannot have %llu free %llu KiB "
                          "pages: it has only %llu", cell_id, free_pages,
                          size_kib, pages->total);
            return -1;
        }
        pages->free = free_pages;
        return 0;
    }
    nst_set_error(err, "cell %u has no %llu KiB pages", cell_id, size_kib);
    return -1;
}

/* The cell with that id (owned by host), or NULL. */
const struct nst_cell *
nst_host_cell(const struct nst_host *host, unsigned int cell_id)
{
    return host ? find_by_id(host->cells, host->ncells, sizeof(*host->cells),
                             cell_id) : NULL;
}

unsigned int
nst_host_distance(const struct nst_host *host, unsigned int from,
                  unsigned int to)
{
    const struct nst_cell *cell = nst_host_cell(host, from);
    for (size_t i = 0; cell && i < cell->ndistances; i++)
        if (cell->distances[i].id == to)
            return cell->distances[i].value;
    return 0;
}

bool
nst_cell_pages_fit(const struct nst_cell *cell, unsigned long long size_kib,
                   unsigned long long memory_kib)
{
    const struct nst_pages *pages = size_kib ? nst_cell_pages(cell, size_kib)
                                             : NULL;
    return pages && memory_kib % size_kib == 0 &&
           pages->free >= memory_kib / size_kib;
}

unsigned long long
nst_cell_hugepage_size(const struct nst_cell *cell,
                       unsigned long long memory_kib)
{
    unsigned long long best = 0;
    for (size_t i = 0; cell && i < cell->npages; i++) {
        unsigned long long size = cell->pages[i].size_kib;
        if (size > 4 && size > best &&
            nst_cell_pages_fit(cell, size, memory_kib))
            best = size;
    }
    return best;
}

/* The CPU with that id (owned by host), or NULL. */
const struct nst_host_cpu *
nst_host_cpu(const struct nst_host *host, unsigned int cpu_id)
{
    return host ? find_by_id(host->cpus, host->ncpus, sizeof(*host->cpus),
                             cpu_id) : NULL;
}

void
nst_host_all_cpus(const struct nst_host *host, struct nst_cpuset *out)
{
    nst_cpuset_clear_all(out);
    for (size_t i = 0; i < host->ncpus; i++)
        nst_cpuset_set(out, host->cpus[i].id);
}

unsigned int
nst_host_threads_per_core(const struct nst_host *host)
{
    unsigned int threads = 1;

    for (size_t i = 0; i < host->ncpus; i++) {
        unsigned int n = nst_cpuset_count(&host->cpus[i].siblings);
        if (n > threads)
            threads = n;
    }
    return threads;
}

/*
 * The core of each cell's lowest CPU: low CPU ids are where the kernel
 * and most daemons end up by default, so taking them from the guests
 * costs the least.
 */
void
nst_host_default_housekeeping(const struct nst_host *host,
                              struct nst_cpuset *out)
{
    nst_cpuset_clear_all(out);
    for (size_t i = 0; i < host->ncells; i++) {
        int first = nst_cpuset_next(&host->cells[i].cpus, 0);
        const struct nst_host_cpu *cpu;

        if (first < 0)
            continue;
        cpu = nst_host_cpu(host, (unsigned int)first);
        if (cpu)
            nst_cpuset_union(out, &cpu->siblings);
    }
}

/* A copy of a name list (NULL stays NULL); on failure *out holds what
 * was copied, for nst_host_free. */
static int
copy_names(char *const *names, size_t n, char ***out, size_t *nout)
{
    if (!names)
        return 0;
    if (!(*out = calloc(n ? n : 1, sizeof(**out))))
        return -1;
    for (; *nout < n; (*nout)++)
        if (!((*out)[*nout] = copy_string(names[*nout])))
            return -1;
    return 0;
}

struct nst_host *
nst_host_clone(const struct nst_host *host)
{
    struct nst_host *copy = calloc(1, sizeof(*copy));
    if (!copy)
        return NULL;
    *copy = *host;
    copy->arch = copy->model = NULL;
    copy->cells = NULL;
    copy->cpus = NULL;
    copy->known_features = copy->hyperv_features = NULL;
    copy->cpu_features = NULL;
    copy->nknown_features = copy->nhyperv_features = 0;
    copy->ncpu_features = 0;
    if (!(copy->arch = copy_string(host->arch)) ||
        (host->model && !(copy->model = copy_string(host->model))) ||
        !(copy->cells = calloc(host->ncells ? host->ncells : 1,
                               sizeof(*copy->cells))) ||
        !(copy->cpus = calloc(host->ncpus ? host->ncpus : 1,
                              sizeof(*copy->cpus))))
        goto fail;
    memcpy(copy->cells, host->cells, host->ncells * sizeof(*copy->cells));
    memcpy(copy->cpus, host->cpus, host->ncpus * sizeof(*copy->cpus));
    if (copy_names(host->known_features, host->nknown_features,
                   &copy->known_features, &copy->nknown_features) < 0 ||
        copy_names(host->hyperv_features, host->nhyperv_features,
                   &copy->hyperv_features, &copy->nhyperv_features) < 0 ||
        copy_names(host->cpu_features, host->ncpu_features,
                   &copy->cpu_features, &copy->ncpu_features) < 0)
        goto fail;
    return copy;
 fail:
    nst_host_free(copy);
    return NULL;
}

void
nst_host_free(struct nst_host *host)
{
    if (!host)
        return;
    free(host->arch);
    free(host->model);
    free(host->cells);
    free(host->cpus);
    host_free_names(host->known_features, host->nknown_features);
    host_free_names(host->hyperv_features, host->nhyperv_features);
    host_free_names(host->cpu_features, host->ncpu_features);
    free(host);
}

const struct nst_pages *
nst_cell_pages(const struct nst_cell *cell, unsigned long long size_kib)
{
    for (size_t i = 0; cell && i < cell->npages; i++)
        if (cell->pages[i].size_kib == size_kib)
            return &cell->pages[i];
    return NULL;
}

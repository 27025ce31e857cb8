/*
 * domain.h: the domain model, what the rules read from a domain document,
 * parsed once (nsti_domain_read) the way the host is (struct nst_host),
 * shared by the policy (policy.c), its accounting and the linter (lint.c)
 * so that all understand a domain the same way; not installed.  The model
 * only reads: every edit goes through xmledit.h.
 */
#ifndef NESTIFY_DOMAIN_H
#define NESTIFY_DOMAIN_H

#include <libxml/tree.h>

#include "nestify.h"
#include "xmlprop.h"

/*
 * A <devices><memory> device (memory hotplug, libvirt's "memory
 * devices"): its size counts in <memory> (libvirt: <memory> = the guest
 * NUMA cells + every device's size), and its <target><node> is a guest
 * NUMA cell.  ram_kib is what it takes of the host's RAM at boot, so of
 * the host cell (and hugepages) its guest cell is bound to: a dimm its
 * size, a virtio-mem its <requested> size; an nvdimm or virtio-pmem is
 * a file mapped into the guest (<source><path>), not RAM: 0.
 */
struct nst_memdev {
    xmlNodePtr node;             /* the <memory> device */
    const char *model;           /* "dimm", ... (libvirt's names); "" */
    unsigned long long size_kib; /* <target><size> */
    unsigned long long ram_kib;
    long target;                 /* <target><node>, or -1 */
};

/* Whether a <feature policy='...'> takes the feature away from the
 * guest ("disable", "forbid"). */
bool nsti_feature_policy_removes(const char *policy);

/* Whether a <feature policy='...'> gives the feature to the guest:
 * "require", "force", or no policy (libvirt's default is require). */
bool nsti_feature_policy_adds(const char *policy);

/*
 * What a <memoryBacking> holds that hugepages cannot go with, each an
 * operator's choice.  libvirt 9.0's QEMU driver
 * (qemuValidateDomainDefMemory) refuses hugepages beside
 * <allocation mode='ondemand'/> (hugepages are reserved and taken when
 * QEMU starts) and beside <source type='anonymous'/> (plain anonymous
 * memory, not hugetlbfs).  Beside <source type='file'/> it accepts them,
 * but the memory then comes from hugetlbfs, not from the file the
 * operator chose (hugepages win in qemuBuildMemoryBackendProps).
 * Everything else goes with hugepages: source memfd (a hugetlb memfd),
 * access shared or private, allocation immediate and its threads,
 * locked, nosharepages, discard.  docs/domain-coverage/memoryBacking.md
 * has the whole table.
 */
struct nst_backing_conflict {
    const char *element;         /* "<allocation mode='ondemand'/>" */
    const char *why;             /* a clause, no final period */
    bool refused;                /* libvirt refuses it beside hugepages */
};

/*
 * A confidential guest: one with <launchSecurity>, whatever its type.
 * libvirt 9.0 knows sev (SEV-ES by the policy's ES bit) and s390-pv;
 * later libvirt adds sev-snp and tdx, and may add more.  None of them
 * lets the guest run VMs of its own, so an unknown type is still a
 * confidential guest, only without a host it is known to need.
 */
struct nst_confidential {
    char *type;                  /* the type as written ("" without one) */
    const char *what;            /* "an AMD SEV guest" */
    const char *why;             /* why it cannot run VMs of its own */
    const char *arch;            /* host arch it needs ("x86_64"), or NULL */
    enum nst_vendor vendor;      /* host CPU vendor it needs, or UNKNOWN */
};

/* Returns 1 with *out filled (free out->type) when the domain has a
 * <launchSecurity>, 0 when it has none, -1 when out of memory. */
int nsti_domain_confidential(const xmlNode *root,
                            struct nst_confidential *out);

/* ------------------------------------------------------------ the model */

/* What a CPU pin pins: <vcpu cpuset>, <vcpupin>, <emulatorpin>,
 * <iothreadpin>. */
enum nst_pin_kind {
    NST_PIN_VCPU_CPUSET,
    NST_PIN_VCPU,
    NST_PIN_EMULATOR,
    NST_PIN_IOTHREAD,
};

struct nst_pin {
    enum nst_pin_kind kind;
    xmlNodePtr node;
    char *id;                    /* vcpu= / iothread= as written, or NULL */
    bool has_vcpu;               /* a vcpupin whose vcpu= is a vCPU id */
    unsigned int vcpu;
    char *text;                  /* cpuset= as written, or NULL */
    bool valid;                  /* text is a CPU list (in cpus) */
    struct nst_cpuset cpus;
};

/* libvirt's <numatune> modes (formatdomain "NUMA Node Tuning"), strict
 * when none is given. */
enum nst_numa_mode {
    NST_NUMA_STRICT,             /* only from nodeset, or fail */
    NST_NUMA_INTERLEAVE,         /* round-robin over nodeset */
    NST_NUMA_PREFERRED,          /* from nodeset first, then any node */
    NST_NUMA_RESTRICTIVE,        /* only from nodeset (by cgroups) */
};

/* A <numatune><memory> or <memnode>: where memory is bound. */
struct nst_numa_bind {
    xmlNodePtr node;             /* NULL: no such element */
    enum nst_numa_mode mode;
    bool mode_valid;             /* mode= absent or one libvirt knows */
    char *nodeset;               /* as written, or NULL */
    bool has_nodes;              /* nodeset is a node list (in nodes) */
    struct nst_cpuset nodes;
    char *cellid;                /* a memnode's cellid= as written */
    long cell;                   /* a memnode's guest cell, or -1 */
};

/* A guest NUMA cell, <cpu><numa><cell>. */
struct nst_dom_cell {
    xmlNodePtr node;
    bool has_id;                 /* id= is a cell id (below NST_MAX_CPUS) */
    unsigned int id;
    bool has_cpus;               /* cpus= is a CPU list */
    struct nst_cpuset cpus;
    bool has_memory;             /* memory= unit= is a size */
    unsigned long long memory_kib;
};

/* A <memoryBacking><hugepages><page>. */
struct nst_dom_page {
    xmlNodePtr node;
    char *size;                  /* size=, unit=, nodeset= as written */
    char *unit;
    char *nodeset;
    bool has_size;               /* a size libvirt accepts, not 0 */
    unsigned long long size_kib;
    bool has_cells;              /* nodeset is a list of guest cells */
    struct nst_cpuset cells;
};

struct nst_domain {
    xmlNodePtr root;
    bool has_vcpus;              /* <vcpu> (1 without) from 1 to 4096 */
    unsigned int vcpus;
    bool has_memory;             /* <memory>: a size libvirt takes, not 0 */
    unsigned long long memory_kib;
    bool has_max_memory;         /* <maxMemory> */
    unsigned long long max_memory_kib;
    struct nst_pin *pins;        /* <vcpu cpuset>, then <cputune>'s pins */
    size_t npins;                /* in document order */
    size_t pins_alloc;
    struct nst_numa_bind numa_memory;   /* <numatune><memory> */
    struct nst_numa_bind *memnodes;     /* <numatune><memnode> */
    size_t nmemnodes;
    bool has_numa;               /* <cpu><numa> */
    struct nst_dom_cell *cells;
    size_t ncells;
    bool memdevs_valid;          /* false: memdevs is empty, not read */
    struct nst_memdev *memdevs;
    size_t nmemdevs;
    bool hugepages;              /* <memoryBacking><hugepages> */
    struct nst_dom_page *pages;
    size_t npages;
    bool has_backing_conflict;
    struct nst_backing_conflict backing_conflict;
    bool confidential;           /* <launchSecurity> */
    struct nst_confidential launch;
    /* A Windows guest, as the domain itself says (profile key guest-os
     * = auto): why, for messages ("its libosinfo metadata names
     * http://microsoft.com/win/10"), or NULL.  See nsti_domain_windows. */
    char *windows_why;
};

/* libvirt's namespace for the OS that virt-install and virt-manager
 * record in <metadata> (<libosinfo:os id='...'/>). */
#define NST_LIBOSINFO_NS "http://libosinfo.org/xmlns/libvirt/domain/1.0"

/*
 * Whether the domain is a Windows guest: libosinfo metadata naming a
 * Microsoft OS (an id under http://microsoft.com/win/, matched by the
 * namespace URI, whatever the prefix), or a <features><hyperv> element
 * (only Windows and Hyper-V use the enlightenments).  Returns 1 with
 * *why set (a new string, the reason for messages), 0 when neither
 * says so, -1 when out of memory.
 */
int nsti_domain_windows(const xmlNode *root, char **why);

/*
 * The enlightenments nested Hyper-V needs that the domain under root
 * lacks or sets off, as the hyperv rule gives them for host (NULL: no
 * evmcs, libvirt 9.0's list), appended to out as "vpindex, stimer
 * (off), the hypervclock timer"; evmcs set off is a choice and not
 * named.  Nothing for mode='passthrough'.  Returns 0, -1 when out of
 * memory.  (rules-hyperv.c, beside the rule's list.)
 */
int nsti_hyperv_missing(const xmlNode *root, const struct nst_host *host,
                       struct nst_buf *out);

/* Reads the domain under root into *d (free with nsti_domain_clear).
 * What is not valid is recorded as such (has_*, valid), for the rules
 * to refuse or report.  Returns 0, -1 when out of memory. */
int nsti_domain_read(const xmlNode *root, struct nst_domain *d);
void nsti_domain_clear(struct nst_domain *d);

/* The binding that governs guest cell id's memory (-1: the memory of a
 * domain without guest cells): its <memnode>, else <memory>, by
 * libvirt's rule that a memnode overrides <memory> for its cell.  NULL
 * when <numatune> binds it nowhere. */
const struct nst_numa_bind *nsti_domain_binding(const struct nst_domain *d,
                                               long cell);

/* Whether b keeps the memory to its nodes (*nodes): strict, interleave
 * and restrictive do; preferred falls back to any node, and a binding
 * without a node list (placement='auto') names none. */
bool nsti_numa_bind_confines(const struct nst_numa_bind *b,
                            struct nst_cpuset *nodes);

/* The host node b takes the memory from first: its one node (for
 * preferred too: that node gives the memory while it has it), or -1
 * when it names none or several. */
long nsti_numa_bind_node(const struct nst_numa_bind *b);

/* A guest cell's memory with the RAM of the memory devices that target
 * it, what the host gives the cell.  Returns 0, or -1 when the cell has
 * no valid id or size. */
int nsti_domain_cell_ram(const struct nst_domain *d,
                        const struct nst_dom_cell *cell,
                        unsigned long long *kib);

#endif /* NESTIFY_DOMAIN_H */

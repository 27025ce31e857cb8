/*
 * domain.h: what the rules read from a domain document, shared by the
 * policy (policy.c) and the linter (lint.c) so that both understand a
 * domain the same way; not installed
 */
#ifndef NESTIFY_DOMAIN_H
#define NESTIFY_DOMAIN_H

#include <libxml/tree.h>

#include "nestify.h"

/*
 * libvirt's scaled-integer units ("KiB", "M", "GB", "bytes", "eib", ...)
 * as a multiplier of bytes, by libvirt's own rule (virScaleInteger).
 * Returns 0, or -1 for a unit libvirt rejects.
 */
int nst_unit_bytes(const char *unit, unsigned long long *bytes);

/*
 * A memory or hugepage size, value in unit (NULL or "": KiB), as KiB by
 * libvirt's rule: at most LLONG_MAX bytes, rounded up to whole KiB, and
 * those KiB at most LLONG_MAX / 1024.  Returns 0, or -1 when value is not
 * a number, the unit unknown or the size too large (tests/test-define.c
 * holds this against libvirt's own parser).
 */
int nst_scaled_kib(const char *value, const char *unit,
                   unsigned long long *kib);

/* Reads an element like <memory unit='GiB'>8</memory> as KiB (the
 * default unit is KiB).  Returns 0, or -1 when it is not a size. */
int nst_read_kib(const xmlNode *node, unsigned long long *kib);

/* The <vcpu> count (1 without <vcpu>).  Returns 0, or -1 when it is not
 * a number from 1 to NST_MAX_CPUS. */
int nst_domain_vcpus(const xmlNode *root, unsigned int *vcpus);

/* The <memory> size in KiB.  Returns 0, or -1 when missing, not a size
 * or zero. */
int nst_domain_memory_kib(const xmlNode *root, unsigned long long *kib);

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

/* The memory devices of the domain, in document order (a new array the
 * caller frees, NULL when none).  Returns 0, or -1 when a size or node
 * is not one libvirt accepts (or out of memory: *n is then 0 too, and
 * errno-free callers treat both as invalid input). */
int nst_domain_memdevs(const xmlNode *root, struct nst_memdev **devs,
                       size_t *n);

/* Whether a <feature policy='...'> takes the feature away from the
 * guest ("disable", "forbid"). */
bool nst_feature_policy_removes(const char *policy);

/* Whether a <feature policy='...'> gives the feature to the guest:
 * "require", "force", or no policy (libvirt's default is require). */
bool nst_feature_policy_adds(const char *policy);

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

/* Fills *out with the first conflict of backing (may be NULL) and
 * returns true, or returns false when hugepages go with all of it. */
bool nst_backing_conflict(const xmlNode *backing,
                          struct nst_backing_conflict *out);

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
int nst_domain_confidential(const xmlNode *root,
                            struct nst_confidential *out);

#endif /* NESTIFY_DOMAIN_H */

/*
 * policy.h: what the rule files share (policy.c, rules-*.c), not
 * installed
 *
 * One run of nst_apply is a struct run; each rule is a step taking it
 * (policy.c's rule table says which step runs for which rule, in what
 * order).  The helpers here are the few every rule uses: refusing,
 * warning, writing numbers, syncing a list of id'd children.
 */
#ifndef NESTIFY_POLICY_H
#define NESTIFY_POLICY_H

#include <stdio.h>

#include "domain.h"
#include "internal.h"
#include "xmledit.h"

struct run {
    struct nst_doc *doc;
    xmlNodePtr root;
    const struct nst_apply_options *opts;
    const struct nst_profile *profile;
    const struct nst_host *host;
    struct nst_report *report;
    /* The domain as it came, read once before any rule edits it; the
     * rules that read it run before those that edit what they read. */
    struct nst_domain dom;
    bool no_nesting;             /* a confidential guest: see
                                    check_confidential */
    bool placed;
    struct nst_placement placement;
    /* Memory hotplug, set by policy_place(): the guest cell each memory
     * device (dom.memdevs[i]) is given (memdev_cell[i], -1 when the
     * guest-numa rule does not rebuild cells) and each guest cell's own
     * memory (<cell memory>; placement.cells[].memory_kib is that plus
     * the RAM of the devices on the cell, what the host cell gives). */
    long *memdev_cell;
    unsigned long long cell_kib[NST_MAX_GUEST_CELLS];
};

/* An error that stops the run; returns -1. */
int policy_refuse(struct run *run, const char *rule, const char *target,
                  const char *message);
/* "out of memory" as such an error; returns -1. */
int policy_oom(struct run *run);
/* A warning, or in strict mode an error that stops the run: returns 0,
 * or -1 when it stopped the run. */
int policy_warn(struct run *run, const char *rule, const char *target,
                const char *message);

/* Accumulates edit results: 1 changed, 0 same, -1 failed. */
static inline bool
changed(int *failed, int result)
{
    if (result < 0)
        *failed = 1;
    return result > 0;
}

static inline int
set_number_attr(struct nst_doc *doc, xmlNodePtr node, const char *name,
                unsigned long long value)
{
    char text[32];
    snprintf(text, sizeof(text), "%llu", value);
    return nsti_set_attr(doc, node, name, text);
}

static inline int
set_number_text(struct nst_doc *doc, xmlNodePtr node,
                unsigned long long value)
{
    char text[32];
    snprintf(text, sizeof(text), "%llu", value);
    return nsti_set_text(doc, node, text);
}

/*
 * Makes parent's <NAME ID_ATTR='id' [mode='MODE'] VALUE_ATTR='set'/>
 * children exactly the given ids with the given sets, editing in place;
 * attributes come in libvirt's order.  mode may be NULL.  *any is set
 * when something changed.  Returns 0, or -1 when out of memory.
 */
int policy_sync_pins(struct run *run, xmlNodePtr parent, const char *name,
                     const char *id_attr, const char *mode,
                     const char *value_attr, const unsigned int *ids,
                     char **values, size_t n, bool *any);

/* The rule steps (policy.c's table runs them); each returns 0, or -1
 * when it stopped the run (the report says why). */
int policy_cpu_mode(struct run *run);       /* rules-cpu.c */
int policy_cpu_features(struct run *run);
int policy_mitigations(struct run *run);
int policy_cpu_limits(struct run *run);
int policy_place(struct run *run);          /* rules-placement.c */
int policy_pinning(struct run *run);
int policy_topology(struct run *run);
int policy_numa(struct run *run);           /* rules-numa.c */
int policy_hugepages(struct run *run);      /* rules-memory.c */
int policy_memtune(struct run *run);
int policy_hyperv(struct run *run);         /* rules-hyperv.c */
int policy_realtime(struct run *run);       /* rules-realtime.c */

/* The vCPUs that root's <cputune><vcpusched> put on a realtime
 * scheduler (fifo or rr), into *vcpus (rules-realtime.c). */
void policy_realtime_vcpus(const xmlNode *root, struct nst_cpuset *vcpus);
int policy_iothreads(struct run *run);      /* rules-io.c */
int policy_disk_cache(struct run *run);
int policy_net_queues(struct run *run);
int policy_balloon(struct run *run);

#endif /* NESTIFY_POLICY_H */

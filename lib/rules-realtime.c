/*
 * rules-realtime.c: the realtime rule, after OpenStack Nova's realtime
 * flavors (hw:cpu_realtime, hw:cpu_realtime_mask, emulator threads
 * isolated) and KubeVirt's realtime VMs (spec.domain.cpu.realtime and
 * its mask, dedicated CPUs, isolateEmulatorThread): every vCPU but the
 * guest's housekeeping ones on a realtime scheduler (<vcpusched>), the
 * guest's memory locked (<memoryBacking><locked/>), on top of what the
 * pinning and memory rules gave.
 *
 * It runs last: it needs the pins (a realtime vCPU must have its own
 * host CPU, or it starves whatever shares the CPU) and the memtune
 * rule's hard limit (libvirt lets QEMU lock memory without bound when
 * there is none).  The emulator is already isolated: the pinning rule
 * puts it on housekeeping CPUs, which the allocator never gives a vCPU;
 * this rule checks that it is so.
 */
#include <stdlib.h>
#include <string.h>

#include "policy.h"

/* See policy.h. */
void
policy_realtime_vcpus(const xmlNode *root, struct nst_cpuset *vcpus)
{
    xmlNodePtr cputune = nsti_child(root, "cputune");

    nst_cpuset_clear_all(vcpus);
    for (xmlNodePtr s = nsti_child(cputune, "vcpusched"); s;
         s = nsti_next(s, "vcpusched")) {
        char *list = nsti_attr(s, "vcpus");
        struct nst_cpuset set;
        if (list && (nsti_attr_is(s, "scheduler", "fifo") ||
                     nsti_attr_is(s, "scheduler", "rr")) &&
            nst_cpuset_parse(list, &set, NULL) == 0)
            nst_cpuset_union(vcpus, &set);
        free(list);
    }
}

/*
 * The realtime vCPUs of a guest of n vCPUs by the profile's
 * realtime-mask, into *rt.  Refuses a mask naming a vCPU the guest
 * lacks, leaving none, or taking them all: like Nova and KubeVirt, a
 * realtime guest keeps at least one ordinary vCPU, for the guest
 * kernel's own work that a realtime vCPU at full load would starve.
 */
static int
realtime_set(struct run *run, unsigned int n, struct nst_cpuset *rt)
{
    const struct nst_profile *p = run->profile;
    char *msg = NULL;

    nst_cpuset_clear_all(rt);
    if (p->rt_mask_excludes) {
        for (unsigned int v = 0; v < n; v++)
            nst_cpuset_set(rt, v);
        nst_cpuset_subtract(rt, &p->rt_mask);
    } else {
        *rt = p->rt_mask;
    }
    int beyond = nst_cpuset_next(rt, n);
    if (beyond >= 0)
        msg = nst_printf("realtime-mask names vCPU %d, but the guest has "
                         "%u vCPUs (0-%u)", beyond, n, n - 1);
    else if (nst_cpuset_is_empty(rt))
        msg = nst_printf("realtime-mask leaves none of the guest's %u "
                         "vCPU%s realtime: a realtime guest needs at least "
                         "one realtime and one ordinary vCPU", n,
                         n > 1 ? "s" : "");
    else if (nst_cpuset_count(rt) == n)
        msg = nst_printf("realtime-mask makes all %u vCPUs realtime: the "
                         "guest needs at least one ordinary vCPU for its "
                         "kernel's housekeeping, which realtime vCPUs at "
                         "full load would starve", n);
    else
        return 0;
    int ret = policy_refuse(run, "realtime", "/domain/vcpu",
                            msg ? msg : "out of memory");
    free(msg);
    return ret;
}

/*
 * The host CPUs of the vCPUs in rt (*rt_cpus) from the pins as the
 * pinning rule left them, checking that the emulator shares none of
 * them: a realtime vCPU preempts the emulator's threads on its CPU.
 */
static int
realtime_cpus(struct run *run, const struct nst_cpuset *rt,
              struct nst_cpuset *rt_cpus)
{
    struct nst_domain now;
    struct nst_cpuset vcpu_cpus, emulator;

    if (nsti_domain_read(run->root, &now) < 0)
        return policy_oom(run);
    nst_cpuset_clear_all(rt_cpus);
    nst_cpuset_clear_all(&vcpu_cpus);
    nst_cpuset_clear_all(&emulator);
    for (size_t i = 0; i < now.npins; i++) {
        const struct nst_pin *pin = &now.pins[i];
        if (!pin->valid)
            continue;
        if (pin->kind == NST_PIN_VCPU)
            nst_cpuset_union(&vcpu_cpus, &pin->cpus);
        if (pin->kind == NST_PIN_VCPU && pin->has_vcpu &&
            nst_cpuset_test(rt, pin->vcpu))
            nst_cpuset_union(rt_cpus, &pin->cpus);
        if (pin->kind == NST_PIN_EMULATOR)
            emulator = pin->cpus;
    }
    nsti_domain_clear(&now);
    if (!nst_cpuset_intersects(&emulator, &vcpu_cpus))
        return 0;
    nst_cpuset_intersect(&emulator, &vcpu_cpus);
    char *shared = nst_cpuset_format(&emulator);
    char *msg = shared ? nst_printf("the emulator is pinned to host CPU%s "
                                    "%s, which vCPUs are pinned to: "
                                    "realtime needs the emulator on "
                                    "housekeeping CPUs of its own",
                                    nst_cpuset_count(&emulator) > 1 ?
                                    "s" : "", shared) : NULL;
    int ret = policy_refuse(run, "realtime", "/domain/cputune/emulatorpin",
                            msg ? msg : "out of memory");
    free(msg);
    free(shared);
    return ret;
}

/* Whether the domain's <vcpusched> elements are the one the profile
 * gives: rt on the profile's scheduler and priority. */
static bool
vcpusched_is_ours(struct run *run, xmlNodePtr cputune,
                  const struct nst_cpuset *rt)
{
    const struct nst_profile *p = run->profile;
    xmlNodePtr s = nsti_child(cputune, "vcpusched");
    if (!s)
        return false;
    char *list = nsti_attr(s, "vcpus");
    char *prio = nsti_attr(s, "priority");
    struct nst_cpuset set;
    unsigned long long priority;
    bool ours = !nsti_next(s, "vcpusched") && list && prio &&
                nst_cpuset_parse(list, &set, NULL) == 0 &&
                nst_cpuset_equal(&set, rt) &&
                nsti_attr_is(s, "scheduler",
                             nst_rt_scheduler_name(p->rt_scheduler)) &&
                nst_parse_ull(prio, 99, &priority) == 0 &&
                priority == p->rt_priority;
    free(list);
    free(prio);
    return ours;
}

/*
 * <vcpusched> for the realtime vCPUs.  The domain's own <vcpusched>
 * are the operator's (a scheduler per vCPU, priorities of its own
 * design): they are kept and a warning says the profile's was not
 * given.  Returns 1 when it added one, 0 when not, -1 when it stopped
 * the run.
 */
static int
write_vcpusched(struct run *run, const struct nst_cpuset *rt,
                const char *rt_text)
{
    const struct nst_profile *p = run->profile;
    xmlNodePtr cputune = nsti_child(run->root, "cputune");

    if (vcpusched_is_ours(run, cputune, rt))
        return 0;
    if (nsti_child(cputune, "vcpusched")) {
        char *msg = nst_printf("the domain's own <vcpusched> kept: the "
                               "profile's %s priority %u on vCPUs %s is not "
                               "given (remove them to have it)",
                               nst_rt_scheduler_name(p->rt_scheduler),
                               p->rt_priority, rt_text);
        int ret = policy_warn(run, "realtime", "/domain/cputune/vcpusched",
                              msg ? msg : "out of memory");
        free(msg);
        return ret;
    }
    xmlNodePtr s = nsti_insert(run->doc, cputune, "vcpusched",
                               nst_order_cputune);
    if (!s || nsti_set_attr(run->doc, s, "vcpus", rt_text) < 0 ||
        nsti_set_attr(run->doc, s, "scheduler",
                      nst_rt_scheduler_name(p->rt_scheduler)) < 0 ||
        set_number_attr(run->doc, s, "priority", p->rt_priority) < 0)
        return policy_oom(run);
    return 1;
}

/* The realtime vCPUs' host CPUs the host does not keep its own work
 * off, when the caller knows which it does (opts->isolated): a warning,
 * as a realtime vCPU and a host thread on one CPU delay each other. */
static int
check_isolated(struct run *run, const struct nst_cpuset *rt_cpus)
{
    if (!run->opts->isolated)
        return 0;
    struct nst_cpuset open = *rt_cpus;
    nst_cpuset_subtract(&open, run->opts->isolated);
    if (nst_cpuset_is_empty(&open))
        return 0;
    char *cpus = nst_cpuset_format(&open);
    char *msg = cpus ? nst_printf("host CPU%s %s run%s realtime vCPUs, but "
                                  "the host does not keep its own processes "
                                  "and interrupts off %s: isolate them on "
                                  "the host first",
                                  nst_cpuset_count(&open) > 1 ? "s" : "",
                                  cpus,
                                  nst_cpuset_count(&open) > 1 ? "" : "s",
                                  nst_cpuset_count(&open) > 1 ? "them" :
                                  "it") : NULL;
    int ret = policy_warn(run, "realtime", "/domain/cputune/vcpusched",
                          msg ? msg : "out of memory");
    free(msg);
    free(cpus);
    return ret;
}

/*
 * <memoryBacking><locked/>: a realtime guest must never wait for the
 * host to page its memory back in.  libvirt sets QEMU's locked-memory
 * limit to <memtune><hard_limit>, or to no limit at all without one, so
 * a missing hard limit is warned about.  Returns 0, -1 when it stopped
 * the run.
 */
static int
lock_memory(struct run *run)
{
    bool created = false;
    xmlNodePtr backing = nsti_ensure(run->doc, run->root, "memoryBacking",
                                    nst_order_domain, NULL);
    if (!backing || !nsti_ensure(run->doc, backing, "locked",
                                 nst_order_memory_backing, &created))
        return policy_oom(run);
    if (created)
        nst_report_add(run->report, NST_CHANGE, "realtime",
                       "/domain/memoryBacking/locked",
                       "guest memory locked in host RAM: a realtime vCPU "
                       "never waits for a page to come back from swap");
    if (nsti_child(nsti_child(run->root, "memtune"), "hard_limit"))
        return 0;
    return policy_warn(run, "realtime", "/domain/memtune",
                       "locked memory without <memtune><hard_limit>: "
                       "libvirt then lets QEMU lock as much memory as it "
                       "wants; memtune = on sets a hard limit");
}

int
policy_realtime(struct run *run)
{
    const struct nst_profile *p = run->profile;
    struct nst_cpuset rt, rt_cpus;

    /* A realtime vCPU without a host CPU of its own starves the host
     * threads and other guests' vCPUs that share its CPU. */
    if (!p->pinning)
        return policy_refuse(run, "realtime", "/domain/cputune",
                             "realtime needs pinning = on: a realtime "
                             "vCPU starves whatever shares its host CPU");
    if (realtime_set(run, run->dom.vcpus, &rt) < 0 ||
        realtime_cpus(run, &rt, &rt_cpus) < 0)
        return -1;
    char *rt_text = nst_cpuset_format(&rt);
    char *cpus_text = nst_cpuset_format(&rt_cpus);
    int added = rt_text && cpus_text ? write_vcpusched(run, &rt, rt_text) :
                policy_oom(run);
    if (added > 0)
        nst_report_add(run->report, NST_CHANGE, "realtime",
                       "/domain/cputune/vcpusched",
                       "vCPUs %s on the %s realtime scheduler, priority "
                       "%u; the others stay ordinary for the guest "
                       "kernel's housekeeping.  The host must keep its own "
                       "processes and interrupts off CPUs %s (isolcpus, "
                       "nohz_full, tuned's cpu-partitioning)", rt_text,
                       nst_rt_scheduler_name(p->rt_scheduler),
                       p->rt_priority, cpus_text);
    free(rt_text);
    free(cpus_text);
    if (added < 0)
        return -1;
    /* The domain's own <vcpusched> kept: the host must isolate the CPUs
     * of the vCPUs they make realtime. */
    if (!added) {
        policy_realtime_vcpus(run->root, &rt);
        if (realtime_cpus(run, &rt, &rt_cpus) < 0)
            return -1;
    }
    if (check_isolated(run, &rt_cpus) < 0)
        return -1;
    return lock_memory(run);
}

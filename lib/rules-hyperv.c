/*
 * rules-hyperv.c: the hyperv rule: a Windows guest that is to run VMs of
 * its own (Hyper-V, WSL2, VBS, Credential Guard) gets the Hyper-V
 * enlightenments nested Hyper-V on KVM relies on, in <features><hyperv>
 * and <clock>.
 *
 * What and why, from QEMU's docs/system/i386/hyperv.rst ("Existing
 * enlightenments", "Recommendations") and libvirt's formatdomain
 * ("Hypervisor features"); docs/profiles.md says it for users:
 *
 * - Given: relaxed, vapic, spinlocks (8191 retries, virt-manager's
 *   value), vpindex, runtime, synic, stimer with direct mode (nested
 *   Hyper-V can only use direct mode), frequencies, tlbflush, ipi, the
 *   hypervclock timer (hv-time, which stimer needs), and on Intel hosts
 *   evmcs (Enlightened VMCS: faster exits of the guest's own VMs; Intel
 *   only; it disables posted interrupts, hence hyperv-evmcs = off).
 *   emsr_bitmap (libvirt >= 10.7) only where the host's KVM domain
 *   capabilities list it, and on Intel only with evmcs (KVM's VMX side
 *   needs it).
 * - Not given: reset (modern Hyper-V does not expose it), reenlightenment
 *   (only with TSC scaling or without migration), avic (harmful without
 *   APICv/AVIC hardware, which capabilities do not show), vendor_id and
 *   xmm_input (no effect on nesting), tlbflush's direct and extended
 *   modes (libvirt >= 11.0; domain capabilities list enlightenments, not
 *   their modes, so no host says it has them and libvirt 9.0 refuses
 *   them).
 * - Every enlightenment the domain already sets stays, state='off' ones
 *   too (a warning says what nesting loses; not for evmcs, whose off is
 *   the posted-interrupts trade-off); only evmcs on an AMD host
 *   goes, since QEMU refuses to start it there.  A dependency set off
 *   keeps what needs it out: QEMU refuses stimer without synic.
 */
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define RULE "hyperv"
#define HV_PATH "/domain/features/hyperv"

/* One enlightenment the rule gives, with what QEMU requires beside it
 * ("time": the hypervclock timer). */
struct want {
    const char *name;
    const char *deps[4];
    const char *why;
};

static const struct want wants[] = {
    { "relaxed", { NULL }, "Windows turns off its watchdog timeouts, which "
      "vCPUs preempted by the host or busy with the guest's own VMs would "
      "trip" },
    { "vapic", { NULL }, "exit-less EOI through the VP assist page; evmcs "
      "needs it" },
    { "spinlocks", { NULL }, "paravirtual spinlocks: Windows yields to the "
      "host after 8191 tries instead of spinning" },
    { "vpindex", { NULL }, "virtual processor indices, which synic, stimer, "
      "tlbflush and ipi need" },
    { "runtime", { NULL }, "Windows sees the time stolen from its vCPUs" },
    { "synic", { "vpindex", NULL }, "the synthetic interrupt controller, "
      "which the synthetic timers need" },
    { "stimer", { "vpindex", "synic", "time", NULL }, "synthetic timers in "
      "direct mode, the only mode nested Hyper-V can use; without them "
      "Windows falls back to HPET or RTC and burns CPU when idle" },
    { "frequencies", { NULL }, "TSC and APIC frequencies without measuring "
      "them" },
    { "tlbflush", { "vpindex", NULL }, "TLB shoot-down through the "
      "hypervisor instead of IPIs to every vCPU" },
    { "ipi", { "vpindex", NULL }, "IPIs to many vCPUs in one hypercall" },
    { "evmcs", { "vapic", NULL }, "Enlightened VMCS: faster exits of the "
      "guest's own VMs (Intel only); it turns off posted interrupts, and "
      "hyperv-evmcs = off leaves it out" },
    { "emsr_bitmap", { NULL }, "KVM and the guest's Hyper-V skip needless "
      "MSR-bitmap updates on its VMs' exits" },
};

/*
 * Whether the profile makes the guest migratable: cpu-mode host-model
 * or baseline (passthrough ties it to identical hosts anyway).
 * mode='passthrough' gives whatever enlightenments the host's KVM has,
 * so such a guest would migrate only to an identical host: a guest
 * meant to migrate gets mode='custom' with the list instead.
 */
static bool
guest_meant_to_migrate(const struct run *run)
{
    return run->profile->cpu_mode != NST_CPU_PASSTHROUGH;
}

/* Why the rule treats the guest as Windows, or NULL. */
static const char *
windows_why(const struct run *run)
{
    switch (run->profile->guest_os) {
    case NST_GUEST_OS_WINDOWS:
        return "the profile says guest-os = windows";
    case NST_GUEST_OS_OTHER:
        return NULL;
    default:
        return run->dom.windows_why;
    }
}

/* Whether the report already has an entry of this rule. */
static bool
told(const struct run *run)
{
    const struct nst_findings *f = &run->report->findings;
    for (size_t i = 0; i < f->n; i++)
        if (f->items[i].rule && strcmp(f->items[i].rule, RULE) == 0)
            return true;
    return false;
}

/* Two "%s" arguments ending the rule's first report entry with why the
 * guest is treated as Windows, "" on the others. */
#define WHY(run) told(run) ? "" : "; a Windows guest: ", \
                 told(run) ? "" : windows_why(run)

static bool
is_on(const xmlNode *node)
{
    return node && nsti_attr_is(node, "state", "on");
}

/* What the guest has of one enlightenment (or "time", the hypervclock
 * timer): 1 on, 0 absent, -1 set off. */
static int
have(xmlNodePtr hyperv, xmlNodePtr timer, const char *name)
{
    if (strcmp(name, "time") == 0)
        return !timer ? 0 : nsti_attr_is(timer, "present", "no") ? -1 : 1;
    xmlNodePtr node = nsti_child(hyperv, name);
    return !node ? 0 : is_on(node) ? 1 : -1;
}

/* The hypervclock <timer>, or NULL. */
static xmlNodePtr
hypervclock(const xmlNode *root)
{
    for (xmlNodePtr t = nsti_child(nsti_child(root, "clock"), "timer"); t;
         t = nsti_next(t, "timer"))
        if (nsti_attr_is(t, "name", "hypervclock"))
            return t;
    return NULL;
}

static int
warn_off(struct run *run, const char *target, const char *what,
         const char *why)
{
    char *msg = nst_printf("%s is off: nested Hyper-V needs it (%s); left "
                           "as the domain sets it%s%s", what, why, WHY(run));
    int ret = msg ? policy_warn(run, RULE, target, msg) : policy_oom(run);
    free(msg);
    return ret;
}

/* Adds <NAME state='on'/> (with spinlocks' retries, stimer's direct). */
static int
add_enlightenment(struct run *run, xmlNodePtr hyperv, const struct want *w)
{
    xmlNodePtr node = nsti_insert(run->doc, hyperv, w->name,
                                  nst_order_hyperv);
    if (!node || nsti_set_attr(run->doc, node, "state", "on") < 0 ||
        (strcmp(w->name, "spinlocks") == 0 &&
         nsti_set_attr(run->doc, node, "retries", "8191") < 0))
        return policy_oom(run);
    if (strcmp(w->name, "stimer") == 0) {
        static const char *const order[] = { "direct", NULL };
        xmlNodePtr direct = nsti_insert(run->doc, node, "direct", order);
        if (!direct || nsti_set_attr(run->doc, direct, "state", "on") < 0)
            return policy_oom(run);
    }
    char *target = nst_printf(HV_PATH "/%s", w->name);
    nst_report_add(run->report, NST_CHANGE, RULE, target,
                   "added <%s state='on'%s%s: %s%s%s", w->name,
                   strcmp(w->name, "spinlocks") == 0 ? " retries='8191'" : "",
                   strcmp(w->name, "stimer") == 0 ? "> with <direct "
                   "state='on'/>" : "/>", w->why, WHY(run));
    free(target);
    return 0;
}

/* stimer set on without direct mode: nested Hyper-V needs it. */
static int
stimer_direct(struct run *run, xmlNodePtr hyperv)
{
    static const char *const order[] = { "direct", NULL };
    xmlNodePtr stimer = nsti_child(hyperv, "stimer");
    xmlNodePtr direct = nsti_child(stimer, "direct");

    if (!is_on(stimer) || is_on(direct))
        return 0;
    if (direct)
        return warn_off(run, HV_PATH "/stimer/direct", "<stimer><direct>",
                        "it can only use synthetic timers in direct mode");
    direct = nsti_insert(run->doc, stimer, "direct", order);
    if (!direct || nsti_set_attr(run->doc, direct, "state", "on") < 0)
        return policy_oom(run);
    nst_report_add(run->report, NST_CHANGE, RULE, HV_PATH "/stimer/direct",
                   "added <direct state='on'/> to <stimer>: nested Hyper-V "
                   "can only use synthetic timers in direct mode%s%s",
                   WHY(run));
    return 0;
}

/* The hypervclock timer (hv-time), which stimer needs: added when the
 * domain has none. */
static int
add_hypervclock(struct run *run)
{
    bool created;
    xmlNodePtr clock = nsti_ensure(run->doc, run->root, "clock",
                                   nst_order_domain, &created);
    if (!clock)
        return policy_oom(run);
    /* A new <clock> keeps libvirt's default offset, so the guest's
     * time does not move. */
    if (created && nsti_set_attr(run->doc, clock, "offset", "utc") < 0)
        return policy_oom(run);
    xmlNodePtr timer = nsti_insert(run->doc, clock, "timer",
                                   nst_order_clock);
    if (!timer || nsti_set_attr(run->doc, timer, "name", "hypervclock") < 0 ||
        nsti_set_attr(run->doc, timer, "present", "yes") < 0)
        return policy_oom(run);
    nst_report_add(run->report, NST_CHANGE, RULE,
                   "/domain/clock/timer[@name='hypervclock']",
                   "added <timer name='hypervclock' present='yes'/>: the "
                   "Hyper-V reference clock (hv-time), which the synthetic "
                   "timers need%s%s", WHY(run));
    return 0;
}

/* Whether the rule gives w on host (Intel or not), evmcs as the profile
 * says: evmcs is Intel's, emsr_bitmap only where the host's libvirt
 * lists it (and on Intel only beside evmcs). */
static bool
wanted(const struct nst_host *host, const struct want *w, bool intel,
       bool evmcs)
{
    if (strcmp(w->name, "evmcs") == 0)
        return intel && evmcs;
    if (strcmp(w->name, "emsr_bitmap") == 0)
        return host && host->hyperv_known && (!intel || evmcs) &&
               nst_host_hyperv_supported(host, w->name);
    return true;
}

/* Whether the host's libvirt supports any enlightenment the rule
 * would give. */
static bool
supports_any(const struct run *run)
{
    const char *virt = nst_host_virt_feature(run->host);
    bool intel = virt && strcmp(virt, "vmx") == 0;

    for (size_t i = 0; i < sizeof(wants) / sizeof(*wants); i++)
        if (wanted(run->host, &wants[i], intel, run->profile->hyperv_evmcs) &&
            nst_host_hyperv_supported(run->host, wants[i].name))
            return true;
    return false;
}

/* evmcs on an AMD host: QEMU refuses to start the guest. */
static int
drop_amd_evmcs(struct run *run, xmlNodePtr hyperv)
{
    xmlNodePtr evmcs = nsti_child(hyperv, "evmcs");

    if (run->host->vendor != NST_VENDOR_AMD || !is_on(evmcs))
        return 0;
    if (nsti_remove(run->doc, evmcs) < 0)
        return policy_oom(run);
    nst_report_add(run->report, NST_CHANGE, RULE, HV_PATH "/evmcs",
                   "removed <evmcs state='on'/>: Enlightened VMCS is Intel "
                   "only, and QEMU refuses to start a guest with it on this "
                   "AMD host%s%s", WHY(run));
    return 0;
}

/* Enlightenments the host's libvirt does not list: one warning. */
static int
warn_unsupported(struct run *run, const struct nst_buf *missing)
{
    if (!missing->len)
        return 0;
    char *msg = nst_printf("the host's libvirt (its KVM domain "
                           "capabilities) does not support %.*s, which "
                           "nested Hyper-V needs: left out%s%s",
                           (int)missing->len, missing->data, WHY(run));
    int ret = msg ? policy_warn(run, RULE, HV_PATH, msg) : policy_oom(run);
    free(msg);
    return ret;
}

/*
 * One enlightenment w for the guest: kept when the domain sets it on,
 * warned about when it sets it off or sets off what it needs, noted in
 * *missing when the host's libvirt lacks it, added otherwise.  Returns
 * 0, or -1 when the run stops.
 */
static int
give_enlightenment(struct run *run, xmlNodePtr hyperv, xmlNodePtr timer,
                   const struct want *w, bool intel, struct nst_buf *missing)
{
    const char *blocked = NULL;
    char *target = NULL, *msg = NULL;
    int ret;

    if (!wanted(run->host, w, intel, run->profile->hyperv_evmcs))
        return 0;
    if (!nst_host_hyperv_supported(run->host, w->name)) {
        nst_buf_addf(missing, "%s%s", missing->len ? ", " : "", w->name);
        return 0;
    }
    switch (have(hyperv, timer, w->name)) {
    case 1:
        return 0;
    case -1:
        /* evmcs set off is the posted-interrupts trade-off, made. */
        if (strcmp(w->name, "evmcs") == 0)
            return 0;
        msg = nst_printf("<%s>", w->name);
        target = nst_printf(HV_PATH "/%s", w->name);
        ret = target && msg ? warn_off(run, target, msg, w->why) :
              policy_oom(run);
        free(msg);
        free(target);
        return ret;
    }
    for (size_t d = 0; w->deps[d] && !blocked; d++)
        if (have(hyperv, timer, w->deps[d]) < 0)
            blocked = w->deps[d];
    if (!blocked)
        return add_enlightenment(run, hyperv, w);
    msg = nst_printf("<%s> is left out: it needs %s, which the domain sets "
                     "off (QEMU refuses one without the other)%s%s",
                     w->name, strcmp(blocked, "time") == 0 ?
                     "the hypervclock timer" : blocked, WHY(run));
    target = nst_printf(HV_PATH "/%s", w->name);
    ret = msg && target ? policy_warn(run, RULE, target, msg) :
          policy_oom(run);
    free(msg);
    free(target);
    return ret;
}

static int
rule_hyperv(struct run *run, const char *why)
{
    const char *virt = nst_host_virt_feature(run->host);
    bool intel = virt && strcmp(virt, "vmx") == 0;
    bool created;
    xmlNodePtr features = nsti_ensure(run->doc, run->root, "features",
                                      nst_order_domain, NULL);
    xmlNodePtr hyperv = features ? nsti_ensure(run->doc, features, "hyperv",
                                               nst_order_features, &created) :
                        NULL;
    struct nst_buf missing = { 0 };
    int ret = 0;

    if (!hyperv)
        return policy_oom(run);
    if (created) {
        if (nsti_set_attr(run->doc, hyperv, "mode", "custom") < 0)
            return policy_oom(run);
        nst_report_add(run->report, NST_CHANGE, RULE, HV_PATH,
                       "added <hyperv mode='custom'>: a Windows guest (%s) "
                       "with nested on runs Hyper-V, which needs the "
                       "enlightenments below", why);
    } else if (nsti_attr_is(hyperv, "mode", "passthrough")) {
        /* It passes every enlightenment the host's KVM has (and
         * libvirt's schema allows it no children). */
        if (!guest_meant_to_migrate(run))
            return 0;
        if (nsti_set_attr(run->doc, hyperv, "mode", "custom") < 0)
            return policy_oom(run);
        nst_report_add(run->report, NST_CHANGE, RULE, HV_PATH "/@mode",
                       "mode 'passthrough' -> 'custom': passthrough gives "
                       "what this host's KVM has, so the guest could only "
                       "migrate to an identical host");
    }

    xmlNodePtr timer = hypervclock(run->root);
    for (size_t i = 0; i < sizeof(wants) / sizeof(*wants) && !ret; i++)
        ret = give_enlightenment(run, hyperv, timer, &wants[i], intel,
                                 &missing);
    if (!ret)
        ret = stimer_direct(run, hyperv);
    /* stimer needs hv-time: the timer comes with it (or with the one the
     * domain set on). */
    if (!ret && is_on(nsti_child(hyperv, "stimer")) && !timer)
        ret = add_hypervclock(run);
    if (!ret)
        ret = drop_amd_evmcs(run, hyperv);
    if (!ret)
        ret = missing.oom ? policy_oom(run) : warn_unsupported(run, &missing);
    free(missing.data);
    return ret;
}

/*
 * Only with nested on (an enlightenment set without nesting is not this
 * rule's job), for a Windows guest, and not for a confidential guest,
 * for which the cpu rules step aside.
 */
int
policy_hyperv(struct run *run)
{
    const char *why = windows_why(run);

    if (!run->profile->nested || run->no_nesting || !why)
        return 0;
    if (!supports_any(run) &&
        !nsti_child(nsti_child(run->root, "features"), "hyperv")) {
        /* No empty <hyperv mode='custom'>: say why nothing came. */
        char *msg = nst_printf("the host's libvirt (its KVM domain "
                               "capabilities) supports none of the Hyper-V "
                               "enlightenments nested Hyper-V needs: "
                               "nothing added%s%s", WHY(run));
        int ret = msg ? policy_warn(run, RULE, "/domain/features", msg) :
                  policy_oom(run);
        free(msg);
        return ret;
    }
    return rule_hyperv(run, why);
}

/* See domain.h: the rule's list, read by the linter. */
int
nsti_hyperv_missing(const xmlNode *root, const struct nst_host *host,
                   struct nst_buf *out)
{
    xmlNodePtr hyperv = nsti_child(nsti_child(root, "features"), "hyperv");
    xmlNodePtr timer = hypervclock(root);
    const char *virt = nst_host_virt_feature(host);
    bool intel = virt && strcmp(virt, "vmx") == 0;

    /* passthrough gives everything the host's KVM has. */
    if (nsti_attr_is(hyperv, "mode", "passthrough"))
        return 0;
    /* evmcs set off is the posted-interrupts trade-off, a choice. */
    bool evmcs = have(hyperv, timer, "evmcs") >= 0;
    for (size_t i = 0; i < sizeof(wants) / sizeof(*wants); i++) {
        const struct want *w = &wants[i];
        int state = have(hyperv, timer, w->name);
        if (!wanted(host, w, intel, evmcs) ||
            !nst_host_hyperv_supported(host, w->name) || state > 0)
            continue;
        nst_buf_addf(out, "%s%s%s", out->len ? ", " : "", w->name,
                     state < 0 ? " (off)" : "");
    }
    if (is_on(nsti_child(hyperv, "stimer")) &&
        !is_on(nsti_child(nsti_child(hyperv, "stimer"), "direct")))
        nst_buf_addf(out, "%sstimer direct mode", out->len ? ", " : "");
    if (have(hyperv, timer, "time") <= 0)
        nst_buf_addf(out, "%sthe hypervclock timer%s", out->len ? ", " : "",
                     have(hyperv, timer, "time") < 0 ? " (off)" : "");
    return out->oom ? -1 : 0;
}

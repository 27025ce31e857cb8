/*
 * rules-cpu.c: the CPU rules: the nested pair (cpu mode and the
 * virtualization feature, stepping aside for a confidential guest) and
 * the secure ones on the CPU (mitigations kept, CPU time limits).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

/*
 * A confidential guest (<launchSecurity>: SEV, SEV-ES, SEV-SNP, TDX,
 * s390-pv, or a type libvirt 9.0 does not know) cannot run VMs of its
 * own, so host-passthrough and vmx/svm would give it nothing, and the
 * nested rules leave its <cpu> as it is.  When nested is all the
 * profile asks for, there is nothing to do: refused, naming the
 * element.  A profile with other rules (perf, secure) goes on with
 * them and says why the guest stays without nesting (a warning; an
 * error in strict mode).  Returns 1 when the nested rules may run, 0
 * when they must not, -1 when the run stops.
 */
static int
check_confidential(struct run *run)
{
    const struct nst_profile *p = run->profile;
    const struct nst_confidential c = run->dom.launch;

    if (!run->dom.confidential)
        return 1;
    bool others = p->pinning || p->numa || p->hugepages || p->memtune ||
                  p->cpu_limits || p->mitigations;
    /* A vmx/svm the domain already requires stays too: say it is
     * useless (lint's VN402 reports it). */
    const char *virt = NULL;
    for (xmlNodePtr f = nsti_child(nsti_child(run->root, "cpu"), "feature");
         f && !virt; f = nsti_next(f, "feature")) {
        char *name = nsti_attr(f, "name");
        char *policy = nsti_attr(f, "policy");
        if (nst_feature_is_virt(name) && nsti_feature_policy_adds(policy))
            virt = strcmp(name, "vmx") == 0 ? "vmx" : "svm";
        free(name);
        free(policy);
    }
    char *msg =
        !others ?
        nst_printf("<launchSecurity type='%s'>: %s cannot run VMs of its "
                   "own (%s): nested virtualization is all the profile "
                   "asks for", c.type, c.what, c.why) :
        virt ?
        nst_printf("<launchSecurity type='%s'>: %s cannot run VMs of its "
                   "own (%s), so the nested rules leave its <cpu> as it "
                   "is, and the '%s' it requires gives it nothing; the "
                   "profile's other rules apply", c.type, c.what, c.why,
                   virt) :
        nst_printf("<launchSecurity type='%s'>: %s cannot run VMs of its "
                   "own (%s), so the nested rules leave its <cpu> as it "
                   "is; the profile's other rules apply", c.type, c.what,
                   c.why);
    const char *target = "/domain/launchSecurity";
    int ret = !msg ? policy_oom(run) :
              others ? policy_warn(run, "cpu-mode", target, msg) :
              policy_refuse(run, "cpu-mode", target, msg);
    free(msg);
    return ret < 0 ? -1 : 0;
}


/*
 * What the nested CPU needs of the host and the domain: the host's
 * virtualization feature (returned; refused without), and for
 * host-passthrough, passthrough not ruled out by the domain
 * capabilities (refused) and KVM (TCG would not start it: a warning).
 * NULL when the run stops.
 */
static const char *
cpu_mode_possible(struct run *run)
{
    const struct nst_host *host = run->host;
    const char *feature = nst_host_virt_feature(host);

    if (!feature) {
        char *msg = nst_printf(
            "host CPU has no %s (capabilities: arch '%s', vendor '%s'): "
            "nested guests need VT-x or AMD-V enabled in the host firmware",
            host->vendor == NST_VENDOR_INTEL ? "vmx" :
            host->vendor == NST_VENDOR_AMD ? "svm" : "vmx or svm",
            host->arch, nst_vendor_name(host->vendor));
        policy_refuse(run, "cpu-mode", "/domain/cpu", msg ? msg : "");
        free(msg);
        return NULL;
    }
    if (run->profile->cpu_mode != NST_CPU_PASSTHROUGH)
        return feature;
    if (host->passthrough_supported == NST_TRISTATE_NO) {
        policy_refuse(run, "cpu-mode", "/domain/cpu",
                      "domain capabilities say host-passthrough is not "
                      "supported on this host");
        return NULL;
    }
    if (!nsti_attr_is(run->root, "type", "kvm")) {
        char *type = nsti_attr(run->root, "type");
        char *msg = nst_printf("domain type '%s' is not 'kvm': "
                               "host-passthrough needs KVM and will not "
                               "start under TCG", type ? type : "");
        int ret = policy_warn(run, "cpu-mode", "/domain/@type",
                              msg ? msg : "");
        free(type);
        free(msg);
        if (ret < 0)
            return NULL;
    }
    return feature;
}

/* host-passthrough and host-model take the host's model and vendor: the
 * domain's go. */
static int
drop_model_vendor(struct run *run, xmlNodePtr cpu, const char *mode)
{
    static const char *const replaced[] = { "model", "vendor" };
    int failed = 0;

    for (size_t i = 0; i < 2; i++) {
        xmlNodePtr node = nsti_child(cpu, replaced[i]);
        if (!node)
            continue;
        char *text = nsti_text(node);
        char *target = nst_printf("/domain/cpu/%s", replaced[i]);
        if (nsti_remove(run->doc, node) < 0)
            failed = 1;
        nst_report_add(run->report, NST_CHANGE, "cpu-mode", target,
                       "removed <%s>%s</%s>: %s uses the host's",
                       replaced[i], text ? text : "", replaced[i], mode);
        free(text);
        free(target);
    }
    return failed ? policy_oom(run) : 0;
}

static int
set_passthrough(struct run *run, xmlNodePtr cpu, bool created,
                const char *feature)
{
    int failed = 0;
    char *old_mode = nsti_attr(cpu, "mode");
    char *old_check = nsti_attr(cpu, "check");
    bool mode = changed(&failed, nsti_set_attr(run->doc, cpu, "mode",
                                              "host-passthrough"));
    bool check = changed(&failed, nsti_set_attr(run->doc, cpu, "check",
                                               "none"));
    /* match= only means something for custom mode. */
    bool match = changed(&failed, nsti_remove_attr(run->doc, cpu, "match"));
    if (failed) {
        free(old_mode);
        free(old_check);
        return policy_oom(run);
    }
    if (created)
        nst_report_add(run->report, NST_CHANGE, "cpu-mode", "/domain/cpu",
                       "added <cpu mode='host-passthrough' check='none'>: "
                       "the guest sees the host CPU with its %s "
                       "sub-features, which nested guests need", feature);
    else if (mode || check || match)
        nst_report_add(run->report, NST_CHANGE, "cpu-mode", "/domain/cpu",
                       "mode '%s' -> 'host-passthrough', check '%s' -> "
                       "'none': only host-passthrough passes every %s "
                       "sub-feature (EPT/NPT, VPID, ...) to the guest",
                       old_mode ? old_mode : "(none)",
                       old_check ? old_check : "(none)", feature);
    free(old_mode);
    free(old_check);
    return drop_model_vendor(run, cpu, "host-passthrough");
}

/*
 * Sets <cpu>'s mode and check as libvirt 9.0 stores them for mode
 * (host-model and custom: check='partial'), and drops what that mode
 * does not take: migratable= (libvirt 9.0 refuses it outside
 * host-passthrough and maximum) and, for host-model, match=.  Reports
 * the change with why.  Returns 0, or -1 when out of memory.
 */
static int
set_mode(struct run *run, xmlNodePtr cpu, bool created, const char *mode,
         const char *why)
{
    int failed = 0;
    char *old_mode = nsti_attr(cpu, "mode");
    bool custom = strcmp(mode, "custom") == 0;
    bool any = changed(&failed, nsti_set_attr(run->doc, cpu, "mode", mode));
    /* libvirt writes match before check: a new match goes before it */
    if (custom && !nsti_attr_is(cpu, "match", "exact"))
        any |= changed(&failed, nsti_remove_attr(run->doc, cpu, "check"));
    if (custom)
        any |= changed(&failed, nsti_set_attr(run->doc, cpu, "match",
                                             "exact"));
    else
        any |= changed(&failed, nsti_remove_attr(run->doc, cpu, "match"));
    any |= changed(&failed, nsti_set_attr(run->doc, cpu, "check",
                                         "partial"));
    any |= changed(&failed, nsti_remove_attr(run->doc, cpu, "migratable"));
    if (!failed && (created || any))
        nst_report_add(run->report, NST_CHANGE, "cpu-mode", "/domain/cpu",
                       "mode '%s' -> '%s'%s: %s",
                       old_mode ? old_mode : "(none)", mode,
                       custom ? " match='exact'" : "", why);
    free(old_mode);
    return failed ? policy_oom(run) : 0;
}

/* The element child name of cpu with text, made or changed; reported. */
static int
set_cpu_text(struct run *run, xmlNodePtr cpu, const char *name,
             const char *text, const char *why)
{
    bool created;
    xmlNodePtr node = nsti_ensure(run->doc, cpu, name, nst_order_cpu,
                                  &created);
    char *old = node && !created ? nsti_text(node) : NULL;
    int r = node ? nsti_set_text(run->doc, node, text) : -1;
    char *target = nst_printf("/domain/cpu/%s", name);
    if (r > 0 || (r == 0 && created))
        nst_report_add(run->report, NST_CHANGE, "cpu-mode", target,
                       "<%s> '%s' -> '%s': %s", name, old ? old : "(none)",
                       text, why);
    free(old);
    free(target);
    return r < 0 || !target ? policy_oom(run) : 0;
}

/* Each feature of libvirt's baseline, with the policy libvirt gave,
 * into the domain's <cpu> (one report entry for them all). */
static int
copy_baseline_features(struct run *run, xmlNodePtr cpu, xmlNodePtr base)
{
    size_t nfeatures = 0, nchanged = 0;
    for (xmlNodePtr f = nsti_child(base, "feature"); f;
         f = nsti_next(f, "feature"), nfeatures++) {
        char *name = nsti_attr(f, "name");
        char *policy = nsti_attr(f, "policy");
        xmlNodePtr mine = NULL;
        for (xmlNodePtr g = nsti_child(cpu, "feature"); g && name && !mine;
             g = nsti_next(g, "feature"))
            if (nsti_attr_is(g, "name", name))
                mine = g;
        if (name && !mine)
            mine = nsti_insert(run->doc, cpu, "feature", nst_order_cpu);
        int r = !name || !mine ? -1 :
                nsti_set_attr(run->doc, mine, "policy",
                              policy ? policy : "require");
        int r2 = r < 0 ? -1 : nsti_set_attr(run->doc, mine, "name", name);
        if (r2 < 0)
            r = -1;
        else if (r > 0 || r2 > 0)
            nchanged++;
        free(name);
        free(policy);
        if (r < 0)
            return policy_oom(run);
    }
    if (nchanged)
        nst_report_add(run->report, NST_CHANGE, "cpu-mode",
                       "/domain/cpu/feature",
                       "%zu of the %zu features libvirt's baseline lists "
                       "added or given its policy: the features every host "
                       "of the fleet has beyond the model", nchanged,
                       nfeatures);
    return 0;
}

/*
 * cpu-mode=baseline: the guest gets the custom CPU libvirt's baseline
 * API computed for the whole fleet (the caller asked libvirt; we never
 * compute a CPU model): its model with fallback='forbid' (a host
 * lacking it must refuse to start the guest rather than give another
 * CPU), its vendor, and each feature with the policy libvirt gave.
 * Every vmx-* and svm-* sub-feature the libvirt knows (its cpu_map) and
 * every host lists is already in libvirt's baseline: it keeps the
 * features all the CPUs share beyond the model, so none is added here.
 * The vendor's virtualization feature (and npt, nrip-save on AMD) are
 * required by the cpu-feature rule, for any named model.
 * No migratable='on': libvirt 9.0 refuses it on a custom CPU ("Attribute migratable is only allowed for
 * 'host-passthrough' / 'maximum' CPU mode"); a custom CPU migrates
 * anyway, being the same on every host.
 */
static int
set_baseline(struct run *run, xmlNodePtr cpu, bool created)
{
    const char *text = run->opts->baseline_cpu;
    char *err = NULL, *model = NULL, *vendor = NULL;
    bool doctype;
    int ret = -1;

    if (!text) {
        return policy_refuse(run, "cpu-mode", "/domain/cpu",
                             "cpu-mode 'baseline' needs the fleet's "
                             "baseline CPU, computed with libvirt's "
                             "baseline API, and none was given");
    }
    xmlDocPtr doc = nsti_xml_parse(text, strlen(text), &doctype, &err);
    xmlNodePtr base = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNodePtr model_node = nsti_child(base, "model");
    if (!base || strcmp((const char *)base->name, "cpu") != 0 ||
        !model_node) {
        char *msg = nst_printf("the baseline CPU given is not a <cpu> "
                               "with a <model>%s%s", err ? ": " : "",
                               err ? err : "");
        ret = policy_refuse(run, "cpu-mode", "/domain/cpu", msg ? msg : "");
        free(msg);
        goto out;
    }
    if (!(model = nsti_text(model_node)) ||
        (nsti_child(base, "vendor") &&
         !(vendor = nsti_text(nsti_child(base, "vendor"))))) {
        ret = policy_oom(run);
        goto out;
    }
    char *why = nst_printf("the baseline CPU libvirt computed for the "
                           "fleet (model %s), which every host can run, "
                           "so the guest can migrate between them",
                           model);
    if (!why || set_mode(run, cpu, created, "custom", why) < 0) {
        free(why);
        ret = policy_oom(run);
        goto out;
    }
    free(why);
    if (set_cpu_text(run, cpu, "model", model, "libvirt's baseline of the "
                     "fleet") < 0 ||
        nsti_set_attr(run->doc, nsti_child(cpu, "model"), "fallback",
                      "forbid") < 0 ||
        (vendor && set_cpu_text(run, cpu, "vendor", vendor,
                                "libvirt's baseline of the fleet") < 0))
        goto out;
    if (!vendor) {
        /* a vendor of the domain's own would not be the baseline's */
        xmlNodePtr old = nsti_child(cpu, "vendor");
        if (old && nsti_remove(run->doc, old) < 0) {
            ret = policy_oom(run);
            goto out;
        }
    }
    if (copy_baseline_features(run, cpu, base) < 0)
        goto out;
    ret = 0;
 out:
    free(err);
    free(model);
    free(vendor);
    if (doc)
        xmlFreeDoc(doc);
    return ret;
}

/*
 * Live migration of an AMD L1 while it runs L2 guests is not supported
 * by the kernel (Documentation/virt/kvm/x86/running-nested-guests.rst):
 * a CPU set up to migrate (host-model, baseline, or host-passthrough
 * with migratable='on') on an AMD host gets a warning.
 */
static int
warn_amd_migration(struct run *run, xmlNodePtr cpu)
{
    if (run->host->vendor != NST_VENDOR_AMD ||
        (run->profile->cpu_mode == NST_CPU_PASSTHROUGH &&
         !nsti_attr_is(cpu, "migratable", "on")))
        return 0;
    return policy_warn(run, "cpu-mode", "/domain/cpu",
                       "AMD host: live migration of a guest while it runs "
                       "nested guests of its own is not supported by the "
                       "kernel (running-nested-guests.rst); stop the "
                       "nested guests before migrating it");
}

static int
rule_cpu_mode(struct run *run)
{
    const char *feature = cpu_mode_possible(run);
    bool created;
    int ret;

    if (!feature)
        return -1;
    xmlNodePtr cpu = nsti_ensure(run->doc, run->root, "cpu",
                                nst_order_domain, &created);
    if (!cpu)
        return policy_oom(run);
    switch (run->profile->cpu_mode) {
    case NST_CPU_HOST_MODEL:
        ret = set_mode(run, cpu, created, "host-model",
                       "libvirt expands it to the host's CPU model where "
                       "the domain is defined and keeps that model, so "
                       "the guest can migrate to hosts that have it");
        if (ret == 0)
            ret = drop_model_vendor(run, cpu, "host-model");
        break;
    case NST_CPU_BASELINE:
        ret = set_baseline(run, cpu, created);
        break;
    default:
        ret = set_passthrough(run, cpu, created, feature);
        break;
    }
    return ret < 0 ? ret : warn_amd_migration(run, cpu);
}

/*
 * Requires feature name in cpu, found the first of that name (NULL:
 * added); why says why it is added.  Returns 0, or -1 when out of
 * memory.
 */
static int
require_feature(struct run *run, xmlNodePtr cpu, xmlNodePtr found,
                const char *name, const char *why)
{
    char *target = nst_printf("/domain/cpu/feature[@name='%s']", name);
    if (!target)
        return policy_oom(run);
    if (!found) {
        found = nsti_insert(run->doc, cpu, "feature", nst_order_cpu);
        if (!found || nsti_set_attr(run->doc, found, "policy", "require") < 0 ||
            nsti_set_attr(run->doc, found, "name", name) < 0) {
            free(target);
            return policy_oom(run);
        }
        nst_report_add(run->report, NST_CHANGE, "cpu-feature", target,
                       "added require of '%s': %s", name, why);
    } else {
        char *policy = nsti_attr(found, "policy");
        int r = nsti_set_attr(run->doc, found, "policy", "require");
        if (r > 0)
            nst_report_add(run->report, NST_CHANGE, "cpu-feature", target,
                           "policy '%s' -> 'require' for '%s': the guest "
                           "must not start without it",
                           policy ? policy : "", name);
        free(policy);
        if (r < 0) {
            free(target);
            return policy_oom(run);
        }
    }
    free(target);
    return 0;
}

/* The feature named name of cpu, or NULL. */
static xmlNodePtr
find_feature(xmlNodePtr cpu, const char *name)
{
    for (xmlNodePtr f = nsti_child(cpu, "feature"); f;
         f = nsti_next(f, "feature"))
        if (nsti_attr_is(f, "name", name))
            return f;
    return NULL;
}

static int
rule_cpu_features(struct run *run)
{
    const char *want = nst_host_virt_feature(run->host);
    xmlNodePtr cpu = nsti_child(run->root, "cpu");
    xmlNodePtr found = NULL;
    int failed = 0;

    for (xmlNodePtr f = nsti_child(cpu, "feature"), next; f; f = next) {
        next = nsti_next(f, "feature");
        char *name = nsti_attr(f, "name");
        char *policy = nsti_attr(f, "policy");
        char *target = nst_printf("/domain/cpu/feature[@name='%s']",
                                  name ? name : "");
        const char *why = NULL;

        if (!name || !target) {
            why = "a <feature> without a name is invalid";
        } else if (nst_host_feature_unknown(run->host, name)) {
            why = "libvirt does not know this feature, so the domain "
                  "defines but fails to start; host-passthrough already "
                  "passes the host's VMX/SVM sub-features";
        } else if (nst_feature_is_virt(name) && strcmp(name, want) != 0) {
            why = strcmp(want, "vmx") == 0 ?
                  "svm is AMD's; on this Intel host the guest needs vmx" :
                  "vmx is Intel's; on this AMD host the guest needs svm";
        } else if (nst_feature_is_virt(name) &&
                   nsti_feature_policy_removes(policy)) {
            why = "it hides virtualization from the guest";
        } else if (strcmp(name, want) == 0 && !found) {
            found = f;
        } else if (strcmp(name, want) == 0) {
            why = "duplicate";
        }
        if (why) {
            if (nsti_remove(run->doc, f) < 0)
                failed = 1;
            nst_report_add(run->report, NST_CHANGE, "cpu-feature", target,
                           "removed %s of '%s': %s",
                           policy ? policy : "feature", name ? name : "",
                           why);
        }
        free(name);
        free(policy);
        free(target);
    }
    if (failed)
        return policy_oom(run);

    char *why = nst_printf("%s host, the guest needs it to run its own VMs",
                           nst_vendor_name(run->host->vendor));
    int ret = why ? require_feature(run, cpu, found, want, why) :
                    policy_oom(run);
    free(why);
    /*
     * A named model (custom mode) gives an AMD guest only the features
     * it lists: nested paging (npt) and nrip-save, without which its L2
     * guests run on shadow paging and slow exits, must be required too
     * (host-passthrough and host-model pass the host's).
     */
    static const char *const amd_nested[] = { "npt", "nrip-save" };
    for (size_t i = 0; ret == 0 && i < 2 &&
         run->host->vendor == NST_VENDOR_AMD &&
         nsti_attr_is(cpu, "mode", "custom"); i++)
        ret = require_feature(run, cpu, find_feature(cpu, amd_nested[i]),
                              amd_nested[i], "AMD guest with a named CPU "
                              "model: its nested guests need it to run "
                              "fast (nested paging, next-RIP save)");
    return ret;
}

int
policy_mitigations(struct run *run)
{
    xmlNodePtr cpu = nsti_child(run->root, "cpu");
    if (!cpu)
        return 0;
    for (xmlNodePtr f = nsti_child(cpu, "feature"), next; f; f = next) {
        next = nsti_next(f, "feature");
        char *name = nsti_attr(f, "name");
        char *policy = nsti_attr(f, "policy");
        if (name && nst_feature_is_mitigation(name) &&
            nsti_feature_policy_removes(policy)) {
            char *target = nst_printf("/domain/cpu/feature[@name='%s']",
                                      name);
            nsti_remove(run->doc, f);
            nst_report_add(run->report, NST_CHANGE, "mitigations", target,
                           "removed %s of '%s': it is a Spectre/MDS "
                           "mitigation and the guest must keep it",
                           policy, name);
            free(target);
        }
        free(name);
        free(policy);
    }
    return 0;
}

/* CPU time limits: shares weigh guests by size, kept within 2..10000
 * (cgroup v1's minimum share, cgroup v2's largest cpu.weight), and
 * quota/period cap each vCPU thread. */
int
policy_cpu_limits(struct run *run)
{
    const struct nst_profile *p = run->profile;
    unsigned long long shares = (unsigned long long)p->cpu_shares_per_vcpu *
                                run->dom.vcpus;
    if (shares > 10000)
        shares = 10000;
    if (shares < 2)
        shares = 2;
    unsigned long long period = p->cpu_period_us;
    unsigned long long quota = period * p->cpu_quota_percent / 100;
    if (quota < 1000)
        quota = 1000;   /* libvirt's minimum */
    static const char *const names[] = { "shares", "period", "quota" };
    unsigned long long values[] = { shares, period, quota };
    int failed = 0;
    bool any = false;

    xmlNodePtr cputune = nsti_ensure(run->doc, run->root, "cputune",
                                    nst_order_domain, NULL);
    if (!cputune)
        return policy_oom(run);
    for (size_t i = 0; i < 3; i++) {
        xmlNodePtr node = nsti_ensure(run->doc, cputune, names[i],
                                     nst_order_cputune, NULL);
        if (!node)
            return policy_oom(run);
        any |= changed(&failed, set_number_text(run->doc, node, values[i]));
    }
    if (failed)
        return policy_oom(run);
    if (any)
        nst_report_add(run->report, NST_CHANGE, "cpu-limits",
                       "/domain/cputune",
                       "shares %llu (%u per vCPU), period %llu us, quota "
                       "%llu us: each vCPU thread gets at most %u%% of a "
                       "host CPU, and bigger guests weigh more under "
                       "contention", shares, p->cpu_shares_per_vcpu, period,
                       quota, p->cpu_quota_percent);
    return 0;
}

/* A confidential guest keeps its <cpu>: the nested rules step aside. */
int
policy_cpu_mode(struct run *run)
{
    int nested = check_confidential(run);
    if (nested <= 0) {
        run->no_nesting = true;
        return nested;
    }
    return rule_cpu_mode(run);
}

int
policy_cpu_features(struct run *run)
{
    return run->no_nesting ? 0 : rule_cpu_features(run);
}

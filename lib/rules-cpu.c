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
 * What host-passthrough needs of the host and the domain: the host's
 * virtualization feature (returned), passthrough not ruled out by the
 * domain capabilities (both refused without), and KVM (TCG would not
 * start it: a warning).  NULL when the run stops.
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

/* host-passthrough takes the host's model and vendor: the domain's go. */
static int
drop_model_vendor(struct run *run, xmlNodePtr cpu)
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
                       "removed <%s>%s</%s>: host-passthrough uses the "
                       "host's", replaced[i], text ? text : "", replaced[i]);
        free(text);
        free(target);
    }
    return failed ? policy_oom(run) : 0;
}

static int
rule_cpu_mode(struct run *run)
{
    const char *feature = cpu_mode_possible(run);
    int failed = 0;
    bool created;

    if (!feature)
        return -1;
    xmlNodePtr cpu = nsti_ensure(run->doc, run->root, "cpu",
                                nst_order_domain, &created);
    if (!cpu)
        return policy_oom(run);
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
    return drop_model_vendor(run, cpu);
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

    char *target = nst_printf("/domain/cpu/feature[@name='%s']", want);
    if (!target)
        return policy_oom(run);
    if (!found) {
        found = nsti_insert(run->doc, cpu, "feature", nst_order_cpu);
        if (!found || nsti_set_attr(run->doc, found, "policy", "require") < 0 ||
            nsti_set_attr(run->doc, found, "name", want) < 0) {
            free(target);
            return policy_oom(run);
        }
        nst_report_add(run->report, NST_CHANGE, "cpu-feature", target,
                       "added require of '%s': %s host, the guest needs "
                       "it to run its own VMs", want,
                       nst_vendor_name(run->host->vendor));
    } else {
        char *policy = nsti_attr(found, "policy");
        int r = nsti_set_attr(run->doc, found, "policy", "require");
        if (r > 0)
            nst_report_add(run->report, NST_CHANGE, "cpu-feature", target,
                           "policy '%s' -> 'require' for '%s': the guest "
                           "must not start without it",
                           policy ? policy : "", want);
        free(policy);
        if (r < 0) {
            free(target);
            return policy_oom(run);
        }
    }
    free(target);
    return 0;
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

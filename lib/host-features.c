/*
 * host-features.c: what the host's libvirt knows of CPU features and
 * modes: domain capabilities (whether host-passthrough is supported, the
 * host-model CPU), the cpu_map files (the feature names it accepts, the
 * features a CPU model implies), and the fixed lists of features that
 * are no libvirt feature, mitigations, and virtualization.
 */
#include <stdlib.h>
#include <string.h>

#include "host-parse.h"

static int compare_names(const void *a, const void *b);

/*
 * The Hyper-V enlightenments of domain capabilities (<features><hyperv
 * supported='yes'><enum name='features'><value>...), into
 * host->hyperv_features.  Only KVM's count: domain capabilities are per
 * virtualization type, and libvirt 9.0 lists for TCG only spinlocks and
 * vendor_id, which says nothing of what a KVM guest on the same host
 * gets.  Capabilities of another type, or without <hyperv> (libvirt
 * before 8.x did not report it), leave the floor (libvirt 9.0's schema)
 * in place; supported='no' is an empty list.
 */
static int
host_read_hyperv(struct nst_host *host, const xmlNode *root, char **err)
{
    const xmlNode *domain = nsti_child(root, "domain");
    const xmlNode *hv = nsti_child(nsti_child(root, "features"), "hyperv");
    const xmlNode *values = NULL;

    if (!domain || !hv)
        return 0;
    AUTO_STR type = host_trimmed_text(domain);
    if (!type)
        goto oom;
    if (!same(type, "kvm"))
        return 0;
    if (nsti_attr_is(hv, "supported", "yes"))
        FOR_EACH_CHILD(e, hv, "enum")
            if (nsti_attr_is(e, "name", "features"))
                values = e;
    if (host_sorted_names(values, "value", NULL, &host->hyperv_features,
                          &host->nhyperv_features) < 0)
        goto oom;
    host->hyperv_known = true;
    return 0;
 oom:
    nst_set_error(err, "out of memory reading domain capabilities");
    return -1;
}

/* Reads domain capabilities into host (see host-parse.h). */
int
host_parse_domcaps(struct nst_host *host, const char *text, size_t len,
              char **err)
{
    AUTO_DOC doc = host_parse_xml(text, len, "domain capabilities", err);
    const xmlNode *root;
    const xmlNode *host_model = NULL;

    if (!doc)
        return -1;
    root = host_expect_root(doc, "domainCapabilities", "domain capabilities",
                       err);
    if (!root)
        return -1;

    /* Domain capabilities are per emulator binary: another architecture's
     * say nothing about this host's CPU. */
    const xmlNode *arch = nsti_child(root, "arch");
    if (arch) {
        AUTO_STR name = host_trimmed_text(arch);
        if (!name) {
            nst_set_error(err, "out of memory reading domain capabilities");
            return -1;
        }
        if (strcmp(name, host->arch) != 0) {
            nst_set_error(err, "domain capabilities are for architecture "
                          "'%s', the host is '%s'", name, host->arch);
            return -1;
        }
    }

    FOR_EACH_CHILD(mode, nsti_child(root, "cpu"), "mode") {
        AUTO_STR name = nsti_attr(mode, "name");
        AUTO_STR supported = NULL;

        if (!name)
            continue;
        if (same(name, "host-model")) {
            host_model = mode;
            continue;
        }
        if (!same(name, "host-passthrough"))
            continue;
        supported = nsti_attr(mode, "supported");
        if (!supported)
            continue;
        if (same(supported, "yes")) {
            host->passthrough_supported = NST_TRISTATE_YES;
        } else if (same(supported, "no")) {
            host->passthrough_supported = NST_TRISTATE_NO;
        } else {
            nst_set_error(err, "invalid supported='%s' of cpu mode "
                          "'host-passthrough' in domain capabilities",
                          (const char *)supported);
            return -1;
        }
    }

    if (host_read_hyperv(host, root, err) < 0)
        return -1;

    /*
     * Capabilities from a host whose CPU libvirt could not decode (or
     * from the test driver) name no vendor; the host-model CPU that
     * domain capabilities describe does, with its vmx/svm.
     */
    if (host->vendor == NST_VENDOR_UNKNOWN && host_model) {
        const xmlNode *vendor = nsti_child(host_model, "vendor");
        if (vendor) {
            AUTO_STR name = host_trimmed_text(vendor);
            if (!name) {
                nst_set_error(err, "out of memory reading domain "
                              "capabilities");
                return -1;
            }
            host->vendor = host_vendor_from_name(name);
            host_read_virt_features(host, host_model, true);
        }
    }
    return 0;
}

/* ------------------------------------------------------------ cpu_map */

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
host_free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

/*
 * Replaces host->known_features with the <feature name> list of a
 * cpu_map features file; on error the earlier list (if any) stays.
 * Only <feature> names count: libvirt 9.0 rejects the <alias> names
 * ("md_clear") in domain XML with "Unknown CPU feature".
 */
int
nst_host_load_cpu_map(struct nst_host *host, const char *xml, size_t len,
                      char **err)
{
    AUTO_DOC doc = host_parse_xml(xml ? xml : "", xml ? len : 0, "cpu map", err);
    const xmlNode *root;
    char **names = NULL;
    size_t count = 0, kept = 0;

    if (!doc)
        return -1;
    root = host_expect_root(doc, "cpus", "cpu map", err);
    if (!root)
        return -1;

    FOR_EACH_CHILD(feature, root, "feature")
        count++;
    if (!count) {
        nst_set_error(err, "cpu map defines no features");
        return -1;
    }
    names = calloc(count, sizeof(*names));
    if (!names) {
        nst_set_error(err, "out of memory reading cpu map");
        return -1;
    }
    FOR_EACH_CHILD(feature, root, "feature") {
        AUTO_STR name = nsti_attr(feature, "name");
        if (!name || !*name) {
            nst_set_error(err, "cpu map has a <feature> without a name");
            host_free_names(names, kept);
            return -1;
        }
        names[kept] = nst_printf("%s", name);
        if (!names[kept]) {
            nst_set_error(err, "out of memory reading cpu map");
            host_free_names(names, kept);
            return -1;
        }
        kept++;
    }

    qsort(names, count, sizeof(*names), compare_names);
    kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (kept && !strcmp(names[kept - 1], names[i]))
            free(names[i]);
        else
            names[kept++] = names[i];
    }

    host_free_names(host->known_features, host->nknown_features);
    host->known_features = names;
    host->nknown_features = kept;
    return 0;
}

/*
 * A host CPU model implies the features its cpu_map file lists: libvirt
 * reports only the features beyond the model, so an EPYC-Rome host shows
 * no <feature name='svm'/> although it has SVM.  Reads the model's file
 * (<cpus><model name='X'>...) and records vmx/svm when the model has
 * them.  A file for another model is an error.
 */
int
nst_host_load_cpu_model(struct nst_host *host, const char *xml, size_t len,
                        char **err)
{
    AUTO_DOC doc = host_parse_xml(xml ? xml : "", xml ? len : 0, "cpu model",
                             err);
    const xmlNode *root;

    if (!doc || !(root = host_expect_root(doc, "cpus", "cpu model", err)))
        return -1;
    FOR_EACH_CHILD(model, root, "model") {
        AUTO_STR name = nsti_attr(model, "name");
        if (!name || !host->model || strcmp((const char *)name, host->model))
            continue;
        FOR_EACH_CHILD(feature, model, "feature") {
            AUTO_STR fname = nsti_attr(feature, "name");
            if (fname && !strcmp((const char *)fname, "vmx"))
                host->has_vmx = true;
            if (fname && !strcmp((const char *)fname, "svm"))
                host->has_svm = true;
        }
        return 0;
    }
    nst_set_error(err, "cpu model file does not define the host's model '%s'",
                  host->model ? host->model : "(none)");
    return -1;
}

/* ----------------------------------------------------- feature lists */

bool
nst_host_feature_unknown(const struct nst_host *host, const char *name)
{
    if (!name)
        return true;
    if (!host || !host->known_features)
        return nst_feature_is_known_bogus(name);
    return !bsearch(&name, host->known_features, host->nknown_features,
                    sizeof(*host->known_features), compare_names);
}

/*
 * Linux prints these in /proc/cpuinfo ("flags" before 5.8, "vmx flags"
 * since), guides copy them into <feature policy='require'>, and none is
 * in libvirt 9.0's cpu_map/x86_features.xml (checked one by one; the
 * test suite re-checks against the installed file).  Sorted for bsearch.
 */
static const char *const bogus_features[] = {
    "apicv",
    "bus_lock_detect",
    "ept",
    "ept_1gb",
    "ept_5level",
    "ept_ad",
    "ept_mode_based_exec",
    "ept_x_only",
    "flexpriority",
    "invvpid",
    "mtf",
    "notify_vm_exiting",
    "ple",
    "pml",
    "posted_intr",
    "preemption_timer",
    "shadow_vmcs",
    "tpr_shadow",
    "tsc_offset",
    "tsc_scaling",
    "unrestricted_guest",
    "usr_wait_pause",
    "vapic",
    "vapic_reg",
    "vid",
    "vnmi",
    "vpid",
    "vtpr",
};

static int
compare_name_key(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

bool
nst_feature_is_known_bogus(const char *name)
{
    if (!name)
        return false;
    return bsearch(name, bogus_features,
                   sizeof(bogus_features) / sizeof(bogus_features[0]),
                   sizeof(bogus_features[0]), compare_name_key) != NULL;
}

bool
nst_feature_is_mitigation(const char *name)
{
    static const char *const mitigations[] = {
        "spec-ctrl",    /* IBRS/IBPB MSR: Spectre v2 (Intel) */
        "stibp",        /* single-thread indirect branch predictors:
                           Spectre v2 across SMT siblings */
        "ssbd",         /* speculative store bypass disable: Spectre v4 */
        "ibpb",         /* indirect branch prediction barrier (AMD) */
        "amd-ssbd",     /* Spectre v4 on AMD (its own SSBD bit) */
        "virt-ssbd",    /* Spectre v4 via the virtualised SSBD MSR, for
                           AMD hosts without amd-ssbd */
        "amd-stibp",    /* Spectre v2 across SMT siblings on AMD */
        "md-clear",     /* VERW clears CPU buffers: MDS (ZombieLoad,
                           RIDL, Fallout) */
    };

    if (!name)
        return false;
    for (size_t i = 0; i < sizeof(mitigations) / sizeof(mitigations[0]);
         i++)
        if (!strcmp(name, mitigations[i]))
            return true;
    return false;
}

/* vmx on Intel, svm on AMD: requiring the other one is accepted by
 * libvirt and gives a guest without virtualization. */
const char *
nst_host_virt_feature(const struct nst_host *host)
{
    if (!host)
        return NULL;
    if (host->vendor == NST_VENDOR_INTEL && host->has_vmx)
        return "vmx";
    if (host->vendor == NST_VENDOR_AMD && host->has_svm)
        return "svm";
    if (host->vendor == NST_VENDOR_UNKNOWN)
        return host->has_vmx ? "vmx" : host->has_svm ? "svm" : NULL;
    return NULL;
}

bool
nst_feature_is_virt(const char *name)
{
    return name && (strcmp(name, "vmx") == 0 || strcmp(name, "svm") == 0);
}

/*
 * libvirt 9.0's <hyperv> children (domaincommon.rng, define "hyperv"),
 * the floor when domain capabilities do not say; sorted for bsearch.
 * Later libvirt adds emsr_bitmap and xmm_input (10.7) and tlbflush's
 * direct and extended modes (11.0), which 9.0 refuses.
 */
static const char *const hyperv_floor[] = {
    "avic", "evmcs", "frequencies", "ipi", "reenlightenment", "relaxed",
    "reset", "runtime", "spinlocks", "stimer", "synic", "tlbflush", "vapic",
    "vendor_id", "vpindex",
};

bool
nst_host_hyperv_supported(const struct nst_host *host, const char *name)
{
    if (!name)
        return false;
    if (host && host->hyperv_known)
        return bsearch(&name, host->hyperv_features, host->nhyperv_features,
                       sizeof(*host->hyperv_features), compare_names) != NULL;
    return bsearch(name, hyperv_floor,
                   sizeof(hyperv_floor) / sizeof(hyperv_floor[0]),
                   sizeof(hyperv_floor[0]), compare_name_key) != NULL;
}

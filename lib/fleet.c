/*
 * fleet.c: facts about the hosts a domain may run on (a fleet), which
 * the tool gathers (several -c, several --host-caps) and the rules and
 * the linter judge: whether a nested CPU can migrate across them.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int
nst_fleet_check_vendors(const struct nst_host *const *hosts,
                        const char *const *labels, size_t n, char **err)
{
    struct nst_buf names[NST_VENDOR_LAST] = { { 0 } };
    size_t count[NST_VENDOR_LAST] = { 0 };

    for (size_t i = 0; i < n; i++) {
        enum nst_vendor v = hosts[i]->vendor;
        if (v != NST_VENDOR_INTEL && v != NST_VENDOR_AMD)
            continue;
        nst_buf_addf(&names[v], "%s%s", count[v] ? ", " : "", labels[i]);
        count[v]++;
    }
    char *intel = nst_buf_finish(&names[NST_VENDOR_INTEL], NULL);
    char *amd = nst_buf_finish(&names[NST_VENDOR_AMD], NULL);
    int ret = 0;
    if (!intel || !amd) {
        nst_set_error(err, "out of memory");
        ret = -1;
    } else if (count[NST_VENDOR_INTEL] && count[NST_VENDOR_AMD]) {
        /* vmx and svm are different instruction sets: a guest started
         * with one cannot continue on a host that has only the other */
        nst_set_error(err, "the fleet mixes CPU vendors (Intel: %s; AMD: "
                      "%s): no virtualization feature (vmx or svm) is "
                      "common to all its hosts, so no nested CPU can "
                      "migrate between them", intel, amd);
        ret = -1;
    }
    free(intel);
    free(amd);
    return ret;
}

static bool
same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Both lists are sorted (host.c reads them so). */
static bool
same_names(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

bool
nst_fleet_uniform(const struct nst_host *const *hosts, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        const struct nst_host *a = hosts[0], *b = hosts[i];
        if (a->vendor != b->vendor || !same_text(a->model, b->model) ||
            a->has_vmx != b->has_vmx || a->has_svm != b->has_svm ||
            !same_names(a->cpu_features, a->ncpu_features,
                        b->cpu_features, b->ncpu_features))
            return false;
    }
    return true;
}

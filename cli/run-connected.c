/*
 * run-connected.c: what virt-nestify-live gives the commands
 *
 * Linked into virt-nestify-live only: main.c passes vn_connected to the
 * commands there.  virt-nestify has no such table; its main.c execs
 * virt-nestify-live for the runs that need one (handoff.c).
 */
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "backup.h"
#include "host-doctor.h"
#include "lint.h"
#include "map.h"
#include "tool.h"

/* Which connected run the options ask for. */
static int
apply_connected(const struct vn_apply_opts *o,
                const struct nst_profile *profile)
{
    struct vn_apply_opts mine = *o;
    char *baseline = NULL, *err = NULL;
    int ret;

    /* cpu-mode=baseline: one CPU for every host of the run, computed
     * before any is touched, so every host's domains get the same. */
    if (profile->nested && profile->cpu_mode == NST_CPU_BASELINE &&
        (ret = vn_baseline_connections(o->connects, o->nconnects,
                                       o->plan.cpu_map, &baseline,
                                       &err)) != VN_EXIT_OK) {
        vn_error("%s", err ? err : "out of memory");
        free(err);
        return ret;
    }
    mine.plan.baseline_cpu = baseline;
    /* realtime on a driver of this machine: its host side of pinning,
     * read where systemd and irqbalance keep it, lets the rule warn
     * about realtime vCPUs on CPUs the host still uses.  A test driver
     * has no host; a remote one is another machine's. */
    struct nst_cpuset isolated;
    const char *uri = o->plan.connect;
    if (profile->realtime && o->nconnects <= 1 &&
        (!uri || (vn_uri_is_local(uri) && strncmp(uri, "test", 4) != 0))) {
        /* VIRT_NESTIFY_HOST_ROOT: where that host's files are (tests) */
        const char *root = getenv("VIRT_NESTIFY_HOST_ROOT");
        if (vn_isolated_cpus(root && *root ? root : "/", &isolated,
                             &err) == 0)
            mine.plan.isolated = &isolated;
        else
            vn_warning("cannot tell which CPUs the host keeps free for "
                       "realtime vCPUs: %s", err);
        free(err);
        err = NULL;
    }
    ret = o->nconnects > 1 ? vn_apply_fleet(&mine, profile) :
          vn_apply_is_bulk(o) ? vn_apply_bulk(&mine, profile) :
          vn_apply_live(&mine, profile);
    free(baseline);
    return ret;
}

const struct vn_connected vn_connected = {
    .apply = apply_connected,
    .lint = vn_lint_live,
    .map = vn_map_live,
    .baseline_files = vn_baseline_files,
    .host_libvirt = vn_doctor_libvirt_check,
    .host_pins = vn_host_pins,
    .rollback = vn_cmd_rollback,
    .verify = vn_cmd_verify,
};

/*
 * run-connected.c: what virt-nestify-live gives the commands
 *
 * Linked into virt-nestify-live only: main.c passes vn_connected to the
 * commands there.  virt-nestify has no such table; its main.c execs
 * virt-nestify-live for the runs that need one (handoff.c).
 */
#include "apply.h"
#include "backup.h"
#include "host-doctor.h"
#include "lint.h"
#include "tool.h"

/* Which connected run the options ask for. */
static int
apply_connected(const struct vn_apply_opts *o,
                const struct nst_profile *profile)
{
    return o->nconnects > 1 ? vn_apply_fleet(o, profile) :
           vn_apply_is_bulk(o) ? vn_apply_bulk(o, profile) :
           vn_apply_live(o, profile);
}

const struct vn_connected vn_connected = {
    .apply = apply_connected,
    .lint = vn_lint_live,
    .host_libvirt = vn_doctor_libvirt_check,
    .rollback = vn_cmd_rollback,
    .verify = vn_cmd_verify,
};

/*
 * run-connected.c: which connected run the options ask for
 *
 * Linked into virt-nestify-live only; virt-nestify links handoff.c,
 * which execs virt-nestify-live for these.
 */
#include "apply.h"
#include "tool.h"

int
vn_apply_connected(const struct vn_apply_opts *o,
                   const struct nst_profile *profile)
{
    return o->nconnects > 1 ? vn_apply_fleet(o, profile) :
           vn_apply_is_bulk(o) ? vn_apply_bulk(o, profile) :
           vn_apply_live(o, profile);
}

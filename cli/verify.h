/*
 * verify.h: the verify command (cmd-verify.c, linked with libvirt-qemu; the
 * guest agent protocol is agent.c, without libvirt).
 */
#ifndef NESTIFY_VERIFY_H
#define NESTIFY_VERIFY_H

#include "transform.h"

/*
 * "virt-nestify verify": checks a running domain against a profile, in
 * its live XML and, through the QEMU guest agent, inside the guest.
 */
struct _virDomain;               /* libvirt's, for virDomainPtr */
struct vn_verify_opts {
    const char *domain;
    unsigned int timeout;        /* seconds all guest agent work may take */
    enum vn_output output;
    /* Planning, as for apply: connect, host_caps, domcaps, cpu_map,
     * profile, profile_files, sets, taken. */
    struct vn_plan_opts plan;
    char *profile_owned;         /* the --profile names, joined */
    /* Test seam: how a command reaches the guest agent.  The default
     * (set by vn_verify_parse_options) is libvirt-qemu's
     * virDomainQemuAgentCommand; a fake returns NULL without a libvirt
     * error for an agent that does not answer. */
    char *(*agent_command)(struct _virDomain *dom, const char *cmd,
                           int timeout, unsigned int flags);
};

/* Returns 0, 1 after --help, or -1 on a usage error (reported); clear
 * *o with vn_verify_opts_clear in every case. */
int vn_verify_parse_options(int argc, char **argv, struct vn_verify_opts *o);
void vn_verify_opts_clear(struct vn_verify_opts *o);
/* Runs the checks; returns the exit status (0 all passed, 1 a check
 * failed, 2 bad input or a domain that is not running, 3 libvirt or
 * system failure). */
int vn_verify_run(const struct vn_verify_opts *o);

#endif /* NESTIFY_VERIFY_H */

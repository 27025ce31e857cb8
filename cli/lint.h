/*
 * lint.h: the lint command, offline (cmd-lint.c) and on a connection
 * (cmd-lint-live.c).
 */
#ifndef NESTIFY_LINT_H
#define NESTIFY_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "nestify.h"
#include "tool.h"

/*
 * lint: cmd-lint.c parses the options, lints files and prints; cmd-lint-live.c
 * is the only part of it that links libvirt.  They meet in
 * vn_lint_live(), which virt-nestify-live hands to cmd-lint.c as
 * vn_connected.lint (tool.h): virt-nestify does not link it.
 */
struct vn_lint_opts {
    const char *file;            /* offline: --file */
    char **domains;              /* live: every --domain */
    size_t ndomains;
    size_t domains_alloc;        /* for NST_GROW */
    bool all;                    /* live: --all */
    const char *connect;         /* live: -c URI */
    const char *host_caps;       /* offline: the host; live: instead of
                                    the connection's (the first of: */
    char **fleet_caps;           /* every --host-caps: offline, several
                                    make a fleet, VN109) */
    size_t nfleet_caps;
    size_t fleet_caps_alloc;
    const char *domcaps;
    const char *cpu_map;
    bool has_taken;              /* --taken: CPUs also taken, */
    struct nst_cpuset taken;     /* parsed with the options */
    enum vn_output output;
};

struct vn_lint_results {
    struct nst_lint_result *items;
    size_t count;
    size_t alloc;                /* items allocated, for NST_GROW */
};

/*
 * Lints the --domain (in the order given) or --all (in name order)
 * domains of the -c connection: each persistent definition against the
 * connection's host (or --host-caps) and the CPUs every other domain's
 * vCPUs pin (plus --taken).  Appends each result to *out (the caller
 * frees them).  Returns VN_EXIT_OK, or VN_EXIT_INPUT (unknown domain,
 * bad --host-caps) or VN_EXIT_SYSTEM (libvirt) with *err set.
 */
int vn_lint_live(const struct vn_lint_opts *o, struct vn_lint_results *out,
                 char **err);

#endif /* NESTIFY_LINT_H */

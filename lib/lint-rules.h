/*
 * lint-rules.h: what the lint's files share (lint.c and lint-*.c), not
 * installed
 */
#ifndef NESTIFY_LINT_RULES_H
#define NESTIFY_LINT_RULES_H

#include "domain.h"
#include "internal.h"
#include "xmledit.h"

/* The rules, in the order of lint.c's table (and of its findings). */
enum {
    R_UNKNOWN_FEATURE,
    R_VIRT_FEATURE,
    R_MITIGATION,
    R_MIGRATABLE,
    R_TOPOLOGY,
    R_SIZE,
    R_HYPERV_NESTED,
    R_EVMCS_AMD,
    R_MIXED_FLEET,
    R_PIN_HOST,
    R_PIN_CELLS,
    R_PIN_SHARED,
    R_NUMA_NODE,
    R_RT_UNPINNED,
    R_PAGE_SIZE,
    R_PAGES_FREE,
    R_PAGE_NODESET,
    R_HARD_LIMIT,
    R_PAGE_TOO_LARGE,
    R_PAGE_BACKING,
    R_PAGE_PIECES,
    R_LS_HOST,
    R_LS_NESTED,
    R_LAST
};

/* One lint of one domain. */
struct lint {
    xmlNodePtr root;
    const struct nst_host *host;
    const struct nst_cpuset *taken;
    const struct nst_host *const *fleet;    /* nst_lint_options' */
    size_t nfleet;
    struct nst_lint_result *res;
    bool oom;
    struct nst_domain dom;       /* read once, for every rule */
};

/* Records a finding of rule; takes the three strings (NULL target or
 * fix: out of memory, l->oom then set). */
void lint_add(struct lint *l, int rule, char *target, char *message,
              char *fix);
/* A copy of text, NULL when out of memory. */
char *lint_copy(const char *text);

/* The rules by what they look at; each skips what needs the host when
 * l->host is NULL. */
void lint_cpu_model(struct lint *l);         /* lint-cpu.c */
void lint_launch_security(struct lint *l);
void lint_fleet(struct lint *l);
void lint_pinning(struct lint *l);           /* lint-pinning.c */
void lint_memory(struct lint *l);            /* lint-memory.c */
void lint_hyperv(struct lint *l);            /* lint-hyperv.c */

#endif /* NESTIFY_LINT_RULES_H */

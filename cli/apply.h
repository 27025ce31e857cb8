/*
 * apply.h: the apply command (the default), offline and live: its
 * options, the report, and the live, bulk and fleet runs built on the
 * engine run of transform.h.
 */
#ifndef NESTIFY_APPLY_H
#define NESTIFY_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "nestify.h"
#include "tool.h"
#include "transform.h"

/* libvirt's types, for virConnectPtr and virDomainPtr, without its
 * header (the offline program does not see libvirt). */
struct _virConnect;
struct _virDomain;

/* --color. */
enum vn_color { VN_COLOR_AUTO, VN_COLOR_ALWAYS, VN_COLOR_NEVER };

/* The options of apply, the default command (the option table in options.c
 * says which; its --help is made there). */
struct vn_apply_opts {
    /* -c (the first), -H, --domcaps, --cpu-map, --taken, the profile
     * options, --strict and --xslt: what planning a document needs */
    struct vn_plan_opts plan;
    const char *domain;          /* live mode: the first --domain */
    char **domains;              /* every --domain */
    size_t ndomains;
    size_t domains_alloc;        /* for NST_GROW, as each list's _alloc */
    bool all;                    /* bulk: --all */
    const char *state;           /* bulk: running, shutoff, any */
    const char *match;           /* bulk: name glob */
    char **excludes;             /* bulk: name globs */
    size_t nexcludes;
    size_t excludes_alloc;
    bool fail_fast;
    bool overcommit;
    unsigned int parallel;       /* restarts at a time */
    enum vn_color color;
    char **connects;             /* every --connect: several make a fleet */
    size_t nconnects;
    size_t connects_alloc;
    unsigned int jobs;           /* fleets: hosts at a time */
    const char *backup_dir;
    bool restart;
    bool force;
    unsigned int timeout;        /* seconds a shutdown may take */
    const char *file;            /* offline mode */
    bool in_place;
    bool dry_run;
    bool check;
    bool quiet;
    bool map;                    /* bulk --dry-run: print the plan's map */
    enum vn_output output;
    /* Test seam (C tests only): runs after the backup is written and
     * before the domain is dumped again, with the virDomainPtr. */
    void (*test_before_define)(struct _virDomain *dom, void *opaque);
    /* ... and after the define, once it is read back. */
    void (*test_after_define)(struct _virDomain *dom, void *opaque);
    void *test_opaque;
};

/* Says why the profile was refused; returns VN_EXIT_INPUT. */
int vn_print_refusal(const struct vn_apply_opts *o, const struct vn_result *r);

/*
 * Prints the report on stdout (JSON with --output json) and, for
 * --dry-run/--check, a unified diff from text to r->out with secrets
 * masked; label names the document in the diff.  Returns 0, or -1
 * (reported) when stdout fails.
 */
int vn_print_report(const struct vn_apply_opts *o, const struct vn_result *r,
                    const char *text, size_t len, const char *label);

/* Whether diffs get colours: --color, then NO_COLOR, then a terminal
 * on stdout. */
bool vn_use_color(const struct vn_apply_opts *o);
/* The same for any --color value (the map's). */
bool vn_color_wanted(enum vn_color color);

/* Whether the options ask for a bulk run (--all, --state, --match,
 * --exclude or several --domain). */
bool vn_apply_is_bulk(const struct vn_apply_opts *o);

/*
 * cpu-mode=baseline (baseline.c): libvirt's baseline CPU of a fleet, a
 * new <cpu> text in *out, always over each host's domain-capabilities
 * host-model.  Of the capabilities files (offline, on an in-process
 * test:///default connection, each with its domain capabilities file,
 * the Nth of the Nth host, else refused; the caller has refused mixed
 * vendors), or of the hosts at uris (n 0: the default connection),
 * whose vendors must not mix and whose drivers must give domain
 * capabilities.  Returns an
 * exit status: VN_EXIT_OK, or the failure's with *err set.
 */
int vn_baseline_files(char *const *files, size_t n, char *const *domcaps,
                      size_t ndomcaps, const char *cpu_map, char **out,
                      char **err);
int vn_baseline_connections(char *const *uris, size_t n, const char *cpu_map,
                            char **out, char **err);

/* Fleets: a bulk run on every --connect, --jobs at a time. */
int vn_apply_fleet(const struct vn_apply_opts *o,
                   const struct nst_profile *profile);

/* Bulk: the selected domains of a connection, host-wide allocation. */
int vn_apply_bulk(const struct vn_apply_opts *o,
                  const struct nst_profile *profile);

/* Live mode: the profile applied to a domain on a connection. */
int vn_apply_live(const struct vn_apply_opts *o,
                  const struct nst_profile *profile);

/* What happened to one domain of a live run. */
enum vn_dom_result {
    VN_DOM_UNCHANGED,            /* nothing to change */
    VN_DOM_CHANGED,              /* defined (and restarted when asked) */
    VN_DOM_PENDING,              /* --dry-run/--check: a change waits */
    VN_DOM_REFUSED,              /* the profile cannot apply, or transient */
    VN_DOM_FAILED,               /* libvirt or system failure */
    VN_DOM_LAST
};

struct vn_dom_run {
    const char *name;            /* owned by the virDomainPtr */
    enum vn_dom_result result;
    size_t changes;
    size_t warnings;
    char *backup;                /* backup written, or NULL */
    char *error;                 /* first error, one line, or NULL */
    struct nst_report report;
    struct nst_cpuset pins;      /* the domain's vCPU pins afterwards */
    struct nst_cpuset threads;   /* its emulator and I/O thread pins */
    struct nst_page_counts pages;       /* and the hugepages its definition uses */
    /* The plan of a changed, pending or unchanged domain (what it holds
     * then, pin by pin), for -o json's "pins"; empty otherwise. */
    struct nst_plan plan;
    bool has_plan;
    bool needs_restart;          /* defined while running */
};

/*
 * What planning on a connection needs (skip: the nskip domains being
 * planned): the host model (the connection's, or --host-caps) and the
 * CPUs the other domains pin, plus --taken.
 * The hugepages the other domains' definitions use are taken off the
 * host's free counts; with the connection's own counts, which already
 * leave out what running domains hold, only what they will take more,
 * and what the skipped domains hold now is theirs again.
 * Returns an exit status: VN_EXIT_OK, or the failure's with *err set.
 */
int vn_live_prepare(struct _virConnect *conn, const struct vn_plan_opts *o,
                    struct _virDomain **skip, size_t nskip,
                    struct nst_host **host, struct nst_cpuset *taken,
                    char **err);

/*
 * One domain of a live run on an open connection: plan against host with taken CPUs,
 * print its report and diff (unless VN_LIVE_COLLECT: the caller prints
 * JSON for many), then, unless reviewing, back up, define and verify,
 * re-checking what the other domains hold right before and after the
 * define and planning again (on the host as it is then) when another
 * run took it.  Errors go to stderr as they happen.  Fills *run (free
 * with vn_dom_run_clear); returns the domain's exit status.  No
 * restart: see vn_live_restart.
 */
enum { VN_LIVE_COLLECT = 1 };
int vn_live_domain(struct _virConnect *conn, struct _virDomain *dom,
                   const struct nst_host *host,
                   const struct nst_cpuset *taken,
                   const struct vn_apply_opts *o,
                   const struct nst_profile *profile, unsigned int flags,
                   struct vn_dom_run *run);
/* --restart for a domain vn_live_domain defined while it ran; the
 * running domain is checked on the host as it is then. */
int vn_live_restart(struct _virConnect *conn, struct _virDomain *dom,
                    const struct vn_apply_opts *o,
                    const struct nst_profile *profile, struct vn_dom_run *run);
/* Whether a run with o changes definitions (and so takes the run lock):
 * not --dry-run or --check. */
bool vn_live_changes(const struct vn_apply_opts *o);
void vn_dom_run_clear(struct vn_dom_run *run);

#endif /* NESTIFY_APPLY_H */

/*
 * apply.h: the apply command (the default), offline and live: its
 * options, the transformation of one document (profiles, then --xslt),
 * the report, and the live, bulk and fleet runs built on them.
 */
#ifndef NESTIFY_APPLY_H
#define NESTIFY_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "nestify.h"
#include "tool.h"

/* The options of apply, the default command (see usage() in cmd-apply.c). */
enum vn_color { VN_COLOR_AUTO, VN_COLOR_ALWAYS, VN_COLOR_NEVER };

struct vn_apply_opts {
    const char *domain;          /* live mode: the first --domain */
    char **domains;              /* every --domain */
    size_t ndomains;
    bool all;                    /* bulk: --all */
    const char *state;           /* bulk: running, shutoff, any */
    const char *match;           /* bulk: name glob */
    char **excludes;             /* bulk: name globs */
    size_t nexcludes;
    bool fail_fast;
    bool overcommit;
    unsigned int parallel;       /* restarts at a time */
    enum vn_color color;
    const char *connect;         /* the first --connect */
    char **connects;             /* every --connect: several make a fleet */
    size_t nconnects;
    unsigned int jobs;           /* fleets: hosts at a time */
    const char *backup_dir;
    bool restart;
    bool force;
    unsigned int timeout;        /* seconds a shutdown may take */
    const char *file;            /* offline mode */
    bool in_place;
    const char *host_caps;
    const char *domcaps;
    const char *cpu_map;
    char *profile;               /* every --profile, joined; owned */
    /* --taken, parsed with the options (vn_parse_taken) so that a bad
     * list is refused before any connection, and every path uses this
     * set rather than parsing the text again */
    bool has_taken;
    struct nst_cpuset taken;
    char **profile_files;
    size_t nprofile_files;
    char **sets;
    size_t nsets;
    bool strict;
    const char *xslt;            /* --xslt: a site's stylesheet */
    char **xslt_params;          /* every --xslt-param NAME=VALUE */
    size_t nxslt_params;
    struct vn_xslt *xslt_sheet;  /* ... loaded (vn_xslt_load), with them */
    bool dry_run;
    bool check;
    bool quiet;
    enum vn_output output;
    /* Test seam (C tests only): runs after the backup is written and
     * before the domain is dumped again, with the virDomainPtr. */
    void (*test_before_define)(void *dom, void *opaque);
    /* ... and after the define, once it is read back. */
    void (*test_after_define)(void *dom, void *opaque);
    void *test_opaque;
};

/*
 * One -p/--profile of apply or verify, appended to *names (a new string
 * the caller frees, NULL before the first): a repeated option composes
 * left to right as the names of one option do, "-p perf -p secure" being
 * "-p perf,secure".  A blank argument is refused, as it would otherwise
 * select no profile at all.  Returns 0, or -1 said with vn_error.
 */
int vn_profile_option(char **names, const char *arg);

/*
 * Builds o's profile: the --profile names (or the --profile-file names
 * when there is no --profile), then every --set.  profile is
 * initialised here; clear it with nst_profile_clear even on failure.
 * Returns 0, or -1 with *err set.
 */
int vn_build_profile(const struct vn_apply_opts *o,
                     struct nst_profile *profile, char **err);

/* What the engine made of one document. */
struct vn_result {
    struct nst_report report;
    bool refused;                /* the profile cannot be applied */
    char *out;                   /* the new document, NULL when refused */
    size_t out_len;
    bool pending;                /* out differs from the input */
    bool bad_input;              /* vn_transform failed on input (the
                                    --xslt stylesheet), not the system */
    struct nst_plan plan;        /* what out holds of the host (empty
                                    when refused) */
};

/*
 * Runs the library on text: parse (label names it in errors), apply the
 * profile for host with taken CPUs, serialise.  Returns 0 with *r filled
 * (free with vn_result_clear), or -1 with *err set when the text cannot
 * be parsed.  A refusal is r->refused, not an error.
 */
int vn_transform(const struct vn_apply_opts *o,
                 const struct nst_profile *profile,
                 const struct nst_host *host, const struct nst_cpuset *taken,
                 const char *text, size_t len, const char *label,
                 struct vn_result *r, char **err);
void vn_result_clear(struct vn_result *r);

/*
 * --xslt (xslt.c): a site's stylesheet, run on the engine's output.
 * vn_xslt_check_params checks --xslt-param values, "NAME=VALUE" each:
 * the '=' is there, NAME is an XML QName given once, VALUE is text XML
 * allows.  Returns 0, or -1 with *err "--xslt-param: why" on one line.
 * vn_xslt_load parses and compiles path under the security policy
 * described in xslt.c (no writes, no network, no file reads) and keeps
 * the nparams checked params (copied), which every vn_xslt_apply passes
 * as string parameters; it returns the stylesheet (free with
 * vn_xslt_free, which accepts NULL) or NULL with *err "PATH: why" (or
 * "--xslt-param: why" for a NAME prefix the stylesheet does not declare)
 * on one line.
 */
struct vn_xslt;
int vn_xslt_check_params(char *const *params, size_t n, char **err);
struct vn_xslt *vn_xslt_load(const char *path, char *const *params,
                             size_t nparams, char **err);
void vn_xslt_free(struct vn_xslt *x);
/*
 * Runs x, with its parameters, on the document text.  Returns 0 with
 * *out a new NUL-terminated <domain> document in libxslt's serialisation
 * (the caller frees) and *out_len, or -1 with *err "PATH: why" on one
 * line (the stylesheet failed, stopped, or made something other than a
 * <domain>).
 * Non-fatal xsl:message output is printed as a warning.
 */
int vn_xslt_apply(const struct vn_xslt *x, const char *text, size_t len,
                  char **out, size_t *out_len, char **err);
/*
 * Whether two XML texts are the same document: both parsed, every
 * whitespace-only text node removed from elements that have element
 * children (indentation), then compared as canonical XML 1.0 with
 * comments.  Returns 1 same, 0 different, -1 when one does not parse.
 * vn_xml_canonical returns that canonical form (new string, caller
 * frees) or NULL.
 */
int vn_xml_same(const char *a, size_t alen, const char *b, size_t blen);
char *vn_xml_canonical(const char *text, size_t len, size_t *out_len);

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

/* Whether the options ask for a bulk run (--all, --state, --match,
 * --exclude or several --domain). */
bool vn_apply_is_bulk(const struct vn_apply_opts *o);

/*
 * A run on a connection (--domain, bulk or fleet: not --file).
 * virt-nestify-live runs it (run-connected.c); virt-nestify, which does not
 * link libvirt, execs virt-nestify-live with vn_argv (handoff.c).
 */
int vn_apply_connected(const struct vn_apply_opts *o,
                       const struct nst_profile *profile);
/* main()'s argv, for the handoff. */
extern char **vn_argv;

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
    struct nst_page_counts pages;       /* and the hugepages its definition uses */
    bool needs_restart;          /* defined while running */
};

/*
 * What planning on a connection needs (conn is a virConnectPtr, skip the
 * nskip virDomainPtr being planned): the host model (the connection's,
 * or --host-caps) and the CPUs the other domains pin, plus --taken.
 * The hugepages the other domains' definitions use are taken off the
 * host's free counts; with the connection's own counts, which already
 * leave out what running domains hold, only what they will take more,
 * and what the skipped domains hold now is theirs again.
 * Returns an exit status: VN_EXIT_OK, or the failure's with *err set.
 */
int vn_live_prepare(void *conn, const struct vn_apply_opts *o, void **skip,
                    size_t nskip, struct nst_host **host,
                    struct nst_cpuset *taken, char **err);

/*
 * One domain of a live run on an open connection (the void * are
 * virConnectPtr and virDomainPtr): plan against host with taken CPUs,
 * print its report and diff (unless VN_LIVE_COLLECT: the caller prints
 * JSON for many), then, unless reviewing, back up, define and verify,
 * re-checking what the other domains hold right before and after the
 * define and planning again (on the host as it is then) when another
 * run took it.  Errors go to stderr as they happen.  Fills *run (free
 * with vn_dom_run_clear); returns the domain's exit status.  No
 * restart: see vn_live_restart.
 */
enum { VN_LIVE_COLLECT = 1 };
int vn_live_domain(void *conn, void *dom, const struct nst_host *host,
                   const struct nst_cpuset *taken,
                   const struct vn_apply_opts *o,
                   const struct nst_profile *profile, unsigned int flags,
                   struct vn_dom_run *run);
/* --restart for a domain vn_live_domain defined while it ran; the
 * running domain is checked on the host as it is then. */
int vn_live_restart(void *conn, void *dom, const struct vn_apply_opts *o,
                    const struct nst_profile *profile, struct vn_dom_run *run);
/* Whether a run with o changes definitions (and so takes the run lock):
 * not --dry-run or --check. */
bool vn_live_changes(const struct vn_apply_opts *o);
void vn_dom_run_clear(struct vn_dom_run *run);

#endif /* NESTIFY_APPLY_H */

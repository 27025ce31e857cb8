/*
 * transform.h: the engine run on one document, which every command that
 * plans makes (apply offline, live and bulk, verify): the planning
 * options, the profile built from them, the library's rules for a host,
 * then a site's --xslt stylesheet.
 */
#ifndef NESTIFY_TRANSFORM_H
#define NESTIFY_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "nestify.h"
#include "tool.h"

struct vn_xslt;

/* The options that say how to plan a document: apply's, verify's. */
struct vn_plan_opts {
    const char *connect;         /* -c URI (apply: the first) */
    const char *host_caps;
    const char *domcaps;
    const char *cpu_map;
    char *profile;               /* every --profile, joined; owned */
    char **profile_files;
    size_t nprofile_files;
    size_t profile_files_alloc;  /* for NST_GROW, as each list's _alloc */
    char **sets;
    size_t nsets;
    size_t sets_alloc;
    /* --taken, parsed with the options (vn_parse_taken) so that a bad
     * list is refused before any connection, and every path uses this
     * set rather than parsing the text again */
    bool has_taken;
    struct nst_cpuset taken;
    bool strict;
    const char *xslt;            /* --xslt: a site's stylesheet */
    char **xslt_params;          /* every --xslt-param NAME=VALUE */
    size_t nxslt_params;
    size_t xslt_params_alloc;
    struct vn_xslt *xslt_sheet;  /* ... loaded (vn_xslt_load), with them */
    /* cpu-mode=baseline: libvirt's baseline <cpu> of the fleet
     * (baseline.c), owned by whoever computed it */
    const char *baseline_cpu;
    /* realtime on this machine: the CPUs its host keeps its own work
     * off (vn_isolated_cpus), or NULL when not known */
    const struct nst_cpuset *isolated;
    /* apply: every --host-caps and --domcaps (a fleet when several;
     * host_caps and domcaps are the first of each, the host planned on) */
    char **fleet_caps;
    size_t nfleet_caps;
    size_t fleet_caps_alloc;
    char **fleet_domcaps;
    size_t nfleet_domcaps;
    size_t fleet_domcaps_alloc;
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
int vn_build_profile(const struct vn_plan_opts *o,
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
int vn_transform(const struct vn_plan_opts *o,
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

#endif /* NESTIFY_TRANSFORM_H */

/*
 * tool.h: the virt-nestify tool's own code (cli/), shared between the
 * commands; everything with I/O lives here, never in lib/
 */
#ifndef NESTIFY_TOOL_H
#define NESTIFY_TOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "nestify.h"

/* Exit codes (DESIGN.md section 6, docs/virt-nestify.1). */
enum vn_exit {
    VN_EXIT_OK = 0,        /* done, or nothing to change */
    VN_EXIT_PENDING = 1,   /* --check: a change is pending */
    VN_EXIT_FINDINGS = 1,  /* lint: an error found */
    VN_EXIT_CHECK_FAILED = 1, /* host: a check failed */
    VN_EXIT_INPUT = 2,     /* usage, bad input, or a refused profile */
    VN_EXIT_SYSTEM = 3,    /* libvirt or system failure */
    VN_EXIT_PARTIAL = 4,   /* bulk run: some domains failed */
};

/* "virt-nestify: error: ..." on stderr, one line. */
void vn_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vn_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prefixes every later message ("host 'URI'"); NULL for none. */
void vn_set_message_context(const char *context);

/*
 * Reads a whole file ("-" is stdin), at most 64 MiB.  Returns a new
 * NUL-terminated buffer the caller frees, or NULL with *err set.
 */
char *vn_read_file(const char *path, size_t *len, char **err);

/*
 * Replaces path with data atomically: a temporary file in the same
 * directory, fsynced, given path's permissions, renamed over it.
 * Returns 0, or -1 with *err set and path untouched.
 */
int vn_write_file_atomic(const char *path, const char *data, size_t len,
                         char **err);

/*
 * Like vn_write_file_atomic, but path need not exist: a new file gets
 * mode (an existing one keeps its own).  Returns 0, or -1 with *err set
 * and path untouched.
 */
int vn_create_file_atomic(const char *path, const char *data, size_t len,
                          unsigned int mode, char **err);

/* Appends item to the array *list of *n (a repeated option); -1, said
 * with vn_error, when out of memory. */
int vn_push(char ***list, size_t *n, char *item);

/*
 * --taken CPULIST of apply, lint and verify, when the option is parsed:
 * fills *set and sets *given, or says "--taken: why" (vn_error) and
 * returns -1.  A live run then never connects with a bad list.
 */
int vn_parse_taken(const char *text, struct nst_cpuset *set, bool *given);

/* Writes all of data to stdout; -1 when stdout fails. */
int vn_write_stdout(const char *data, size_t len);

/*
 * Every profile source the tool knows, in override order: built-ins,
 * then $VIRT_NESTIFY_PROFILES_DIR (default: the sysconf profiles.d)
 * sorted by name, then the extra files.  The returned array and texts
 * are owned by the caller: free with vn_profile_sources_free.
 */
struct vn_profile_sources {
    struct nst_profile_source *items;
    size_t count;
    char **owned;          /* strings to free */
    size_t nowned;
};
int vn_profile_sources_load(struct vn_profile_sources *out,
                            char *const *extra_files, size_t nextra,
                            char **err);
void vn_profile_sources_free(struct vn_profile_sources *sources);
/* The profile name of a file: its base name without ".profile". */
char *vn_profile_name_of(const char *path);

/*
 * The host model from a capabilities text (label names it in errors),
 * optional domain capabilities, and libvirt's cpu_map: cpu_map NULL is
 * the default file, used when present; "none" uses none; another path
 * must exist.  The host CPU model's file beside the map adds the
 * features the model implies.  Returns the host or NULL with *err set.
 */
struct nst_host *vn_host_build(const char *caps, size_t caps_len,
                               const char *label, const char *domcaps,
                               size_t domcaps_len, const char *cpu_map,
                               char **err);
/* The same, naming the domain capabilities domcaps_label in errors
 * (NULL: errors name label whichever document is at fault). */
struct nst_host *vn_host_build_labelled(const char *caps, size_t caps_len,
                                        const char *label,
                                        const char *domcaps,
                                        size_t domcaps_len,
                                        const char *domcaps_label,
                                        const char *cpu_map, char **err);

enum vn_output { VN_OUTPUT_TEXT, VN_OUTPUT_JSON };

/* The options of apply, the default command (see usage() in apply.c). */
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
    const char *profile;
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
    void *test_opaque;
};

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

/*
 * A copy of xml with every passwd='...' value replaced by '***', for
 * anything printed.  Returns a new string, NULL when out of memory.
 */
char *vn_mask_secrets(const char *xml, size_t len);

/* Whether the options ask for a bulk run (--all, --state, --match,
 * --exclude or several --domain). */
bool vn_apply_is_bulk(const struct vn_apply_opts *o);

/*
 * A run on a connection (--domain, bulk or fleet: not --file).
 * virt-nestify-live runs it (connected.c); virt-nestify, which does not
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

/* Hugepages per host cell and size that domains use (pages.c). */
struct vn_page_count {
    unsigned int cell;
    unsigned long long size_kib;
    long long pages;             /* may be negative in a difference */
};
struct vn_pages {
    struct vn_page_count *items;
    size_t n;
};
/* Adds (sign 1) or subtracts (-1) counts; -1 when out of memory. */
int vn_pages_add_uses(struct vn_pages *p, const struct nst_page_use *uses,
                      size_t n, int sign);
int vn_pages_add(struct vn_pages *p, const struct vn_pages *other, int sign);
/* Takes the counts off host's free pages (never below 0 or above the
 * total; a cell or size the host lacks is ignored). */
void vn_pages_take(struct nst_host *host, const struct vn_pages *p);
void vn_pages_clear(struct vn_pages *p);

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
    struct vn_pages pages;       /* and the hugepages its definition uses */
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
 * print its report and diff (unless collect: the caller prints JSON for
 * many), then, unless reviewing, back up, define and verify.  Errors go
 * to stderr as they happen.  Fills *run (free with vn_dom_run_clear);
 * returns the domain's exit status.  No restart: see vn_live_restart.
 */
int vn_live_domain(void *conn, void *dom, const struct nst_host *host,
                   const struct nst_cpuset *taken,
                   const struct vn_apply_opts *o,
                   const struct nst_profile *profile, bool collect,
                   struct vn_dom_run *run);
/* --restart for a domain vn_live_domain defined while it ran. */
int vn_live_restart(void *conn, void *dom, const struct nst_host *host,
                    const struct nst_cpuset *taken,
                    const struct vn_apply_opts *o,
                    const struct nst_profile *profile, struct vn_dom_run *run);
void vn_dom_run_clear(struct vn_dom_run *run);

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
    struct vn_apply_opts plan;
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

/*
 * lint: lint.c parses the options, lints files and prints; lint-live.c
 * is the only part of it that links libvirt.  They meet in
 * vn_lint_live(), so an offline build can give lint-live.c's place to a
 * stub that says live lint needs libvirt.
 */
struct vn_lint_opts {
    const char *file;            /* offline: --file */
    char **domains;              /* live: every --domain */
    size_t ndomains;
    bool all;                    /* live: --all */
    const char *connect;         /* live: -c URI */
    const char *host_caps;       /* offline: the host; live: instead of
                                    the connection's */
    const char *domcaps;
    const char *cpu_map;
    bool has_taken;              /* --taken: CPUs also taken, */
    struct nst_cpuset taken;     /* parsed with the options */
    enum vn_output output;
};

struct vn_lint_results {
    struct nst_lint_result *items;
    size_t count;
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

/*
 * "virt-nestify host": what the libvirt check of the host doctor found.
 * The doctor (cli/doctor.c) links no libvirt: it calls the check through
 * a vn_doctor_libvirt_fn that the live build passes in (NULL: -c is not
 * available in this build).
 */
struct vn_doctor_libvirt {
    bool passthrough;            /* host-passthrough supported='yes' */
    char *virttype;              /* domcaps <domain> ("kvm"); free() */
    char *emulator;              /* domcaps <path>; free() */
};
typedef int vn_doctor_libvirt_fn(const char *uri,
                                 struct vn_doctor_libvirt *out, char **err);

/*
 * cli/doctor-libvirt.c (links libvirt): opens uri and reads its default
 * domain capabilities.  Returns 0 with *out filled (strings for the
 * caller to free), or -1 with *err set; the connection is closed.
 */
int vn_doctor_libvirt_check(const char *uri, struct vn_doctor_libvirt *out,
                            char **err);

/*
 * The host command (cli/doctor.c): the doctor, or --enable.  libvirt_check
 * runs the -c check; NULL makes -c a usage error.  Returns the exit status.
 */
int vn_host_main(int argc, char **argv, vn_doctor_libvirt_fn *libvirt_check);

/* Commands: argv[0] is the command name. */
int vn_cmd_apply(int argc, char **argv);
int vn_cmd_profiles(int argc, char **argv);
int vn_cmd_rollback(int argc, char **argv);
int vn_cmd_verify(int argc, char **argv);
int vn_cmd_lint(int argc, char **argv);

#endif /* NESTIFY_TOOL_H */

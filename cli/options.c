/*
 * options.c: the option table, and parsing, help and checks made from it
 *
 * options[] defines each option once.  commands[] says, per command, its
 * --help text around the option lines, the options it takes in the
 * order --help lists them (where each value goes in the command's
 * options struct, and the help text where it differs from the option's),
 * and the combinations it refuses, as data (rules).  Everything else here
 * is generic: getopt_long's tables are built from the lists, --help is
 * printed from them, and the rules are checked on what was given.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "backup.h"
#include "host-doctor.h"
#include "nestify.h"
#include "lint.h"
#include "map.h"
#include "options.h"
#include "tool.h"
#include "verify.h"

/* ------------------------------------------------------- the options */

struct vn_option {
    const char *name;            /* --name */
    int letter;                  /* -x, or 0 */
    const char *arg;             /* the argument in --help; NULL: none */
    bool connects;               /* given, the run needs libvirt */
    const char *help;            /* --help text, lines split by \n */
    /* Checks of the argument (what the command's slot does not check
     * itself): a number from min to max, or one of choices.  bad is the
     * error, to which ", not 'ARG'" is added. */
    unsigned long long min, max;
    const char *const *choices;  /* NULL-terminated */
    const char *bad;
};

static const char *const states[] = { "running", "shutoff", "any", NULL };
/* In the order of enum vn_map_output. */
static const char *const map_outputs[] = { "text", "json", "svg", NULL };
/* In the order of enum vn_color. */
static const char *const colors[] = { "auto", "always", "never", NULL };

static const struct vn_option options[VN_OPT_LAST] = {
    [VN_OPT_DOMAIN] = { "domain", 'd', "D", true,
        "live: the domain to change (name, UUID or ID);\n"
        "repeat it for a bulk run" },
    [VN_OPT_ALL] = { "all", 0, NULL, true,
        "bulk: every domain of the connection" },
    [VN_OPT_STATE] = { "state", 0, "S", true,
        "bulk: only running, shutoff or any (default)",
        .choices = states,
        .bad = "--state must be 'running', 'shutoff' or 'any'" },
    [VN_OPT_MATCH] = { "match", 0, "GLOB", true,
        "bulk: only domains whose name matches" },
    [VN_OPT_EXCLUDE] = { "exclude", 0, "GLOB", true,
        "bulk: not these (repeatable)" },
    [VN_OPT_FAIL_FAST] = { "fail-fast", 0, NULL, false,
        "bulk: stop at the first domain that fails" },
    [VN_OPT_OVERCOMMIT] = { "overcommit", 0, NULL, false,
        "bulk: share CPUs when none are free (warned)" },
    [VN_OPT_PARALLEL] = { "parallel", 0, "N", false,
        "bulk: restart N domains at a time (default 1)",
        .min = 1, .max = 64,
        .bad = "--parallel must be a number from 1 to 64" },
    [VN_OPT_COLOR] = { "color", 0, "WHEN", false,
        "diff colours: auto (default), always, never",
        .choices = colors,
        .bad = "--color must be 'auto', 'always' or 'never'" },
    [VN_OPT_CONNECT] = { "connect", 'c', "URI", true,
        "live: libvirt URI (default: $LIBVIRT_DEFAULT_URI);\n"
        "repeat it to run on several hosts" },
    [VN_OPT_JOBS] = { "jobs", 0, "N", false,
        "fleets: hosts at a time (default 4)",
        .min = 1, .max = 256,
        .bad = "--jobs must be a number from 1 to 256" },
    [VN_OPT_BACKUP_DIR] = { "backup-dir", 0, "DIR", false,
        "live: where backups go" },
    [VN_OPT_RESTART] = { "restart", 0, NULL, false,
        "live: shut a running domain down and start it" },
    [VN_OPT_TIMEOUT] = { "timeout", 0, "SECONDS", false,
        "live: how long shutdown may take (default 120)",
        .min = 0, .max = 86400,
        .bad = "--timeout must be a number of seconds" },
    [VN_OPT_FORCE] = { "force", 0, NULL, false,
        "live: destroy a domain that ignores shutdown" },
    [VN_OPT_FILE] = { "file", 'f', "FILE", false,
        "offline: domain XML to rewrite ('-' reads stdin)" },
    [VN_OPT_HOST_CAPS] = { "host-caps", 'H', "FILE", false,
        "host capabilities XML (virsh capabilities);\n"
        "live: plan against it instead of the host's" },
    [VN_OPT_DOMCAPS] = { "domcaps", 0, "FILE", false,
        "domain capabilities XML (virsh domcapabilities)" },
    [VN_OPT_CPU_MAP] = { "cpu-map", 0, "FILE", false,
        "libvirt's x86_features.xml ('none': built-in list)" },
    [VN_OPT_PROFILE] = { "profile", 'p', "P[,P...]", false,
        "profiles to apply, left to right; repeatable,\n"
        "composed in order (none with --xslt alone)" },
    [VN_OPT_PROFILE_FILE] = { "profile-file", 0, "F", false,
        "also read profile F (its name: base name)" },
    [VN_OPT_SET] = { "set", 0, "KEY=VALUE", false,
        "override a profile setting (repeatable)" },
    [VN_OPT_TAKEN] = { "taken", 0, "CPULIST", false,
        "host CPUs other domains already pin" },
    [VN_OPT_STRICT] = { "strict", 0, NULL, false,
        "treat warnings as errors" },
    [VN_OPT_XSLT] = { "xslt", 0, "FILE", false,
        "run the XSLT 1.0 stylesheet FILE on the result\n"
        "(after the profiles; no file writes, file\n"
        "reads or network access)" },
    [VN_OPT_XSLT_PARAM] = { "xslt-param", 0, "NAME=VALUE", false,
        "give the stylesheet's parameter NAME the string\n"
        "VALUE (repeatable; needs --xslt)" },
    [VN_OPT_DRY_RUN] = { "dry-run", 'n', NULL, false,
        "print the report and a unified diff, change nothing" },
    [VN_OPT_CHECK] = { "check", 0, NULL, false,
        "like --dry-run, exit 1 when a change is pending" },
    [VN_OPT_IN_PLACE] = { "in-place", 'i', NULL, false,
        "offline: rewrite FILE atomically" },
    [VN_OPT_OUTPUT] = { "output", 'o', "text|json", false,
        "report format (json: one document on stdout)" },
    [VN_OPT_QUIET] = { "quiet", 'q', NULL, false,
        "no report (unless asked: --dry-run, --check,\n"
        "--output json) and no progress lines" },
    [VN_OPT_HELP] = { "help", 'h', NULL, false, "this text" },
    [VN_OPT_AGENT_TIMEOUT] = { "timeout", 0, "SECONDS", false,
        "how long the guest agent may take, in all\n"
        "(default 30)",
        .min = 1, .max = 3600,
        .bad = "--timeout must be a number of seconds from 1 to 3600" },
    [VN_OPT_ROOT] = { "root", 0, "DIR", false,
        "read (and with --enable, --isolate write) /proc,\n/sys, /dev "
        "and /etc under DIR (default /)" },
    [VN_OPT_ENABLE] = { "enable", 0, NULL, false,
        "write options kvm_intel|kvm_amd nested=1 to\n"
        "/etc/modprobe.d/virt-nestify-kvm.conf (the old\n"
        "file kept as NAME.TIME.bak)" },
    [VN_OPT_RELOAD] = { "reload", 0, NULL, false,
        "--enable: also reload the module (refused while\n"
        "a VM runs; with --root only through\n"
        "$VIRT_NESTIFY_MODPROBE)" },
    [VN_OPT_HUGEPAGES] = { "hugepages", 0, "N[,SIZE]", false,
        "--enable: reserve N hugepages of SIZE (2M, 1G,\n"
        "2048k; default: the default size) now" },
    [VN_OPT_NODE] = { "node", 0, "N", false,
        "--hugepages: on NUMA node N only" },
    [VN_OPT_PERSIST] = { "persist", 0, NULL, false,
        "--hugepages: also in /etc/sysctl.d (default size,\n"
        "all nodes; else the kernel command line to use)" },
    [VN_OPT_ISOLATE] = { "isolate", 0, NULL, false,
        "keep the host's own work (system.slice, user.slice,\n"
        "init.scope, irqbalance, tuned) off the CPUs guests\n"
        "pin (-c URI) or --taken names" },
    [VN_OPT_LIST] = { "list", 0, NULL, false,
        "print the domain's backups, newest first" },
    [VN_OPT_BACKUP] = { "backup", 0, "FILE", false,
        "restore FILE instead of the newest backup" },
    [VN_OPT_MAP_OUTPUT] = { "output", 'o', "text|json|svg", false,
        "the map as text (default), one JSON document or\n"
        "an SVG picture, on stdout",
        .choices = map_outputs,
        .bad = "--output must be 'text', 'json' or 'svg'" },
    [VN_OPT_MAP] = { "map", 0, NULL, false,
        "bulk --dry-run: also print the map of the plan\n"
        "(as 'virt-nestify map' draws it)" },
};

/* ------------------------------------------------ the commands' lists */

/* Where a value goes, in the command's options struct. */
enum vn_slot {
    SLOT_HELP,                   /* --help: nothing to store */
    SLOT_FLAG,                   /* bool */
    SLOT_STRING,                 /* const char *, the last one given */
    SLOT_LIST,                   /* char **, its count and its allocated
                                    count (NST_GROW): every one */
    SLOT_UINT,                   /* unsigned int, in the option's bounds */
    SLOT_COLOR,                  /* enum vn_color */
    SLOT_OUTPUT,                 /* enum vn_output (vn_parse_output) */
    SLOT_PROFILE,                /* char *, names joined (vn_profile_option) */
    SLOT_TAKEN,                  /* struct nst_cpuset and bool (vn_parse_taken) */
    SLOT_MAP_OUTPUT,             /* enum vn_map_output */
};

struct vn_opt_use {
    enum vn_opt opt;
    enum vn_slot slot;
    size_t at, at2;              /* offsets of the field (and the count,
                                    or the "given" flag) */
    const char *help;            /* NULL: the option's; "": not listed */
    size_t at3;                  /* a list's allocated count */
};

/* offsetof(type, field), refused at compile time unless the field has
 * type ctype (comparing distinct pointer types is an error). */
#define AT(type, field, ctype) \
    (offsetof(type, field) + 0 * sizeof((ctype *)0 == &((type *)0)->field))

#define HELP(help) { VN_OPT_HELP, SLOT_HELP, 0, 0, help, 0 }
#define FLAG(opt, T, f, help) { opt, SLOT_FLAG, AT(T, f, bool), 0, help, 0 }
#define STRING(opt, T, f, help) \
    { opt, SLOT_STRING, AT(T, f, const char *), 0, help, 0 }
/* A list's allocated count is the field f_alloc beside it. */
#define LIST(opt, T, f, n, help) \
    { opt, SLOT_LIST, AT(T, f, char **), AT(T, n, size_t), help, \
      AT(T, f##_alloc, size_t) }
#define UINT(opt, T, f, help) \
    { opt, SLOT_UINT, AT(T, f, unsigned int), 0, help, 0 }
#define COLOR(opt, T, f, help) \
    { opt, SLOT_COLOR, AT(T, f, enum vn_color), 0, help, 0 }
#define MAP_OUTPUT(opt, T, f, help) \
    { opt, SLOT_MAP_OUTPUT, AT(T, f, enum vn_map_output), 0, help, 0 }
#define OUTPUT(opt, T, f, help) \
    { opt, SLOT_OUTPUT, AT(T, f, enum vn_output), 0, help, 0 }
#define PROFILE(opt, T, f, help) \
    { opt, SLOT_PROFILE, AT(T, f, char *), 0, help, 0 }
#define TAKEN(opt, T, f, has, help) \
    { opt, SLOT_TAKEN, AT(T, f, struct nst_cpuset), AT(T, has, bool), \
      help, 0 }

#define A struct vn_apply_opts
static const struct vn_opt_use apply_uses[] = {
    LIST(VN_OPT_DOMAIN, A, domains, ndomains, NULL),
    FLAG(VN_OPT_ALL, A, all, NULL),
    STRING(VN_OPT_STATE, A, state, NULL),
    STRING(VN_OPT_MATCH, A, match, NULL),
    LIST(VN_OPT_EXCLUDE, A, excludes, nexcludes, NULL),
    FLAG(VN_OPT_FAIL_FAST, A, fail_fast, NULL),
    FLAG(VN_OPT_OVERCOMMIT, A, overcommit, NULL),
    UINT(VN_OPT_PARALLEL, A, parallel, NULL),
    COLOR(VN_OPT_COLOR, A, color, NULL),
    LIST(VN_OPT_CONNECT, A, connects, nconnects, NULL),
    UINT(VN_OPT_JOBS, A, jobs, NULL),
    STRING(VN_OPT_BACKUP_DIR, A, backup_dir, NULL),
    FLAG(VN_OPT_RESTART, A, restart, NULL),
    UINT(VN_OPT_TIMEOUT, A, timeout, NULL),
    FLAG(VN_OPT_FORCE, A, force, NULL),
    STRING(VN_OPT_FILE, A, file, NULL),
    LIST(VN_OPT_HOST_CAPS, A, plan.fleet_caps, plan.nfleet_caps,
         "host capabilities XML (virsh capabilities);\n"
         "live: plan against it instead of the host's;\n"
         "offline: repeat it for every host of a fleet\n"
         "(the first is the host planned on)"),
    LIST(VN_OPT_DOMCAPS, A, plan.fleet_domcaps, plan.nfleet_domcaps,
         "domain capabilities XML (virsh domcapabilities);\n"
         "repeatable: the Nth goes with the Nth --host-caps"),
    STRING(VN_OPT_CPU_MAP, A, plan.cpu_map, NULL),
    PROFILE(VN_OPT_PROFILE, A, plan.profile, NULL),
    LIST(VN_OPT_PROFILE_FILE, A, plan.profile_files, plan.nprofile_files, NULL),
    LIST(VN_OPT_SET, A, plan.sets, plan.nsets, NULL),
    TAKEN(VN_OPT_TAKEN, A, plan.taken, plan.has_taken, NULL),
    FLAG(VN_OPT_STRICT, A, plan.strict, NULL),
    STRING(VN_OPT_XSLT, A, plan.xslt, NULL),
    LIST(VN_OPT_XSLT_PARAM, A, plan.xslt_params, plan.nxslt_params, NULL),
    FLAG(VN_OPT_DRY_RUN, A, dry_run, NULL),
    FLAG(VN_OPT_CHECK, A, check, NULL),
    FLAG(VN_OPT_IN_PLACE, A, in_place, NULL),
    OUTPUT(VN_OPT_OUTPUT, A, output, NULL),
    FLAG(VN_OPT_QUIET, A, quiet, NULL),
    FLAG(VN_OPT_MAP, A, map, NULL),
    HELP(NULL),
};
#undef A

#define H struct vn_host_opts
static const struct vn_opt_use host_uses[] = {
    STRING(VN_OPT_ROOT, H, root, NULL),
    OUTPUT(VN_OPT_OUTPUT, H, output,
           "the report format (the doctor's, or what\n--enable or --isolate "
           "did)"),
    STRING(VN_OPT_CONNECT, H, connect,
           "also check that libvirt at URI supports\nhost-passthrough; "
           "its guests' pins (--isolate)"),
    FLAG(VN_OPT_ENABLE, H, enable, NULL),
    FLAG(VN_OPT_RELOAD, H, reload, NULL),
    STRING(VN_OPT_HUGEPAGES, H, hugepages, NULL),
    STRING(VN_OPT_NODE, H, node, NULL),
    FLAG(VN_OPT_PERSIST, H, persist, NULL),
    FLAG(VN_OPT_DRY_RUN, H, dry_run,
         "--enable, --isolate: print the plan, change nothing"),
    FLAG(VN_OPT_ISOLATE, H, isolate, NULL),
    TAKEN(VN_OPT_TAKEN, H, taken, has_taken,
          "--isolate and the checks: CPUs guests own\n"
          "(added to the pins of -c URI's guests)"),
    STRING(VN_OPT_HOST_CAPS, H, host_caps,
           "--isolate: the host's CPUs from this capabilities\n"
           "XML (default: -c URI's, else /sys)"),
    HELP(NULL),
};
#undef H

#define L struct vn_lint_opts
static const struct vn_opt_use lint_uses[] = {
    STRING(VN_OPT_FILE, L, file,
           "offline: the domain XML ('-' reads stdin)"),
    LIST(VN_OPT_DOMAIN, L, domains, ndomains,
         "live: a domain (name, UUID or ID); repeatable"),
    FLAG(VN_OPT_ALL, L, all, "live: every domain of the connection"),
    STRING(VN_OPT_CONNECT, L, connect,
           "live: libvirt URI (default: $LIBVIRT_DEFAULT_URI)"),
    LIST(VN_OPT_HOST_CAPS, L, fleet_caps, nfleet_caps,
         "host capabilities XML (virsh capabilities);\n"
         "offline without it, host rules are skipped;\n"
         "offline, repeat it for every host of a fleet"),
    STRING(VN_OPT_DOMCAPS, L, domcaps,
           "domain capabilities XML (with --host-caps)"),
    STRING(VN_OPT_CPU_MAP, L, cpu_map, NULL),
    TAKEN(VN_OPT_TAKEN, L, taken, has_taken,
          "host CPUs other domains' vCPUs pin"),
    OUTPUT(VN_OPT_OUTPUT, L, output,
           "findings as lines (default) or one JSON document"),
    HELP(NULL),
};
#undef L

static const struct vn_opt_use profiles_uses[] = {
    HELP(""),
};

#define R struct vn_rollback_opts
static const struct vn_opt_use rollback_uses[] = {
    STRING(VN_OPT_DOMAIN, R, domain, "the domain (name, UUID or ID)"),
    STRING(VN_OPT_CONNECT, R, connect,
           "libvirt URI (default: $LIBVIRT_DEFAULT_URI)"),
    STRING(VN_OPT_BACKUP_DIR, R, backup_dir,
           "where the backups are (default:\n"
           "/var/lib/virt-nestify/backups for root, else\n"
           "$XDG_STATE_HOME/virt-nestify/backups)"),
    FLAG(VN_OPT_LIST, R, list, NULL),
    STRING(VN_OPT_BACKUP, R, backup, NULL),
    FLAG(VN_OPT_QUIET, R, quiet, "print errors only"),
    HELP(NULL),
};
#undef R

#define V struct vn_verify_opts
static const struct vn_opt_use verify_uses[] = {
    STRING(VN_OPT_DOMAIN, V, domain, "the running domain (name, UUID or ID)"),
    STRING(VN_OPT_CONNECT, V, plan.connect,
           "libvirt URI (default: $LIBVIRT_DEFAULT_URI)"),
    PROFILE(VN_OPT_PROFILE, V, profile_owned,
            "the profile it should hold (default: nested);\n"
            "repeatable, composed left to right"),
    LIST(VN_OPT_PROFILE_FILE, V, plan.profile_files, plan.nprofile_files,
         NULL),
    LIST(VN_OPT_SET, V, plan.sets, plan.nsets, NULL),
    STRING(VN_OPT_HOST_CAPS, V, plan.host_caps,
           "plan against this capabilities XML instead of\nthe host's"),
    STRING(VN_OPT_DOMCAPS, V, plan.domcaps,
           "domain capabilities XML, with --host-caps"),
    STRING(VN_OPT_CPU_MAP, V, plan.cpu_map, NULL),
    TAKEN(VN_OPT_TAKEN, V, plan.taken, plan.has_taken, NULL),
    UINT(VN_OPT_AGENT_TIMEOUT, V, timeout, NULL),
    OUTPUT(VN_OPT_OUTPUT, V, output,
           "result format (json: one document on stdout)"),
    HELP(NULL),
};
#undef V

/* ----------------------------------------------------------- the rules */

#define B(opt) (1ULL << (opt))

/* Options given: any of any (once or more), any of several (twice or
 * more), or opt with the argument is (given last).  Nothing in it: see
 * struct vn_opt_rule. */
struct vn_terms {
    unsigned long long any;
    unsigned long long several;
    enum vn_opt opt;
    const char *is;
};

/* Broken when its "when" holds (or is empty), its "also" holds (or is
 * empty) and its "unless" does not hold (or is empty).  So a conflict
 * is when + also, a requirement when + unless. */
struct vn_opt_rule {
    struct vn_terms when, also, unless;
    const char *msg;
};

/* apply: options that select a live or bulk run. */
#define APPLY_LIVE (B(VN_OPT_DOMAIN) | B(VN_OPT_ALL) | B(VN_OPT_STATE) | \
                    B(VN_OPT_MATCH) | B(VN_OPT_EXCLUDE))
#define APPLY_BULK (B(VN_OPT_ALL) | B(VN_OPT_STATE) | B(VN_OPT_MATCH) | \
                    B(VN_OPT_EXCLUDE))
#define EITHER_LIVE "give either --domain/--all (live) or --file (offline)"

static const struct vn_opt_rule apply_rules[] = {
    { .unless = { .any = B(VN_OPT_FILE) | APPLY_LIVE }, .msg = EITHER_LIVE },
    { .when = { .any = B(VN_OPT_FILE) }, .also = { .any = APPLY_LIVE },
      .msg = EITHER_LIVE },
    { .when = { .any = B(VN_OPT_ALL) }, .also = { .any = B(VN_OPT_DOMAIN) },
      .msg = "--all and --domain select differently: give one" },
    { .when = { .any = B(VN_OPT_JOBS) },
      .unless = { .several = B(VN_OPT_CONNECT) },
      .msg = "--jobs is for several --connect" },
    { .when = { .any = B(VN_OPT_FAIL_FAST) | B(VN_OPT_OVERCOMMIT) |
                       B(VN_OPT_PARALLEL) },
      .unless = { .any = APPLY_BULK,
                  .several = B(VN_OPT_DOMAIN) | B(VN_OPT_CONNECT) },
      .msg = "--fail-fast, --overcommit and --parallel are for bulk "
             "runs (--all, --match, --state or several --domain)" },
    { .when = { .any = B(VN_OPT_FILE) },
      .unless = { .any = B(VN_OPT_HOST_CAPS) },
      .msg = "--host-caps is required with --file" },
    { .when = { .any = B(VN_OPT_FILE) },
      .also = { .any = B(VN_OPT_CONNECT) | B(VN_OPT_BACKUP_DIR) |
                       B(VN_OPT_RESTART) | B(VN_OPT_FORCE) },
      .msg = "--connect, --backup-dir, --restart and --force need "
             "--domain" },
    { .when = { .any = B(VN_OPT_IN_PLACE) },
      .unless = { .any = B(VN_OPT_FILE) },
      .msg = "--in-place needs --file" },
    { .when = { .any = B(VN_OPT_FORCE) | B(VN_OPT_TIMEOUT) },
      .unless = { .any = B(VN_OPT_RESTART) },
      .msg = "--force and --timeout only make sense with --restart" },
    /* With --xslt alone the stylesheet makes every edit. */
    { .unless = { .any = B(VN_OPT_PROFILE) | B(VN_OPT_PROFILE_FILE) |
                         B(VN_OPT_XSLT) },
      .msg = "--profile is required (see 'virt-nestify profiles')" },
    { .when = { .any = B(VN_OPT_IN_PLACE) },
      .also = { .opt = VN_OPT_FILE, .is = "-" },
      .msg = "--in-place needs a file, not stdin" },
    { .when = { .any = B(VN_OPT_DRY_RUN) | B(VN_OPT_CHECK) },
      .also = { .any = B(VN_OPT_IN_PLACE) },
      .msg = "--in-place cannot be combined with --dry-run or --check" },
    { .when = { .any = B(VN_OPT_XSLT_PARAM) },
      .unless = { .any = B(VN_OPT_XSLT) },
      .msg = "--xslt-param needs --xslt" },
    { .when = { .any = B(VN_OPT_MAP) },
      .unless = { .any = APPLY_BULK, .several = B(VN_OPT_DOMAIN) },
      .msg = "--map is for bulk runs (--all, --match, --state or several "
             "--domain) with --dry-run or --check" },
    { .when = { .any = B(VN_OPT_MAP) },
      .unless = { .any = B(VN_OPT_DRY_RUN) | B(VN_OPT_CHECK) },
      .msg = "--map is for bulk runs (--all, --match, --state or several "
             "--domain) with --dry-run or --check" },
    { .when = { .any = B(VN_OPT_MAP) },
      .also = { .opt = VN_OPT_OUTPUT, .is = "json" },
      .msg = "--map draws text; for its JSON use 'virt-nestify map -o json'" },
    { .when = { .any = B(VN_OPT_MAP) },
      .also = { .several = B(VN_OPT_CONNECT) },
      .msg = "--map draws one host: give one --connect" },
    /* A live run's fleet is its -c hosts. */
    { .when = { .several = B(VN_OPT_HOST_CAPS) | B(VN_OPT_DOMCAPS) },
      .unless = { .any = B(VN_OPT_FILE) },
      .msg = "several --host-caps or --domcaps make an offline fleet: "
             "they need --file (a live fleet is several --connect)" },
};

/* host: without --enable, its options are refused; with it, the
 * checks' options are. */
#define NEEDS_ENABLE(opt, name) \
    { .when = { .any = B(opt) }, .unless = { .any = B(VN_OPT_ENABLE) }, \
      .msg = name " needs --enable" }
static const struct vn_opt_rule host_rules[] = {
    NEEDS_ENABLE(VN_OPT_RELOAD, "--reload"),
    NEEDS_ENABLE(VN_OPT_HUGEPAGES, "--hugepages"),
    NEEDS_ENABLE(VN_OPT_NODE, "--node"),
    NEEDS_ENABLE(VN_OPT_PERSIST, "--persist"),
    { .when = { .any = B(VN_OPT_DRY_RUN) },
      .unless = { .any = B(VN_OPT_ENABLE) | B(VN_OPT_ISOLATE) },
      .msg = "--dry-run needs --enable or --isolate" },
    { .when = { .any = B(VN_OPT_ENABLE) },
      .also = { .any = B(VN_OPT_ISOLATE) },
      .msg = "--enable and --isolate are separate runs: give one" },
    { .when = { .any = B(VN_OPT_ENABLE) },
      .also = { .any = B(VN_OPT_CONNECT) },
      .msg = "--connect is for the checks, not --enable" },
    { .when = { .any = B(VN_OPT_ENABLE) },
      .also = { .any = B(VN_OPT_TAKEN) },
      .msg = "--taken is for --isolate and the checks, not --enable" },
    { .when = { .any = B(VN_OPT_ISOLATE) },
      .unless = { .any = B(VN_OPT_CONNECT) | B(VN_OPT_TAKEN) },
      .msg = "--isolate needs the guests' CPUs: -c URI (their pins) or "
             "--taken CPULIST" },
    { .when = { .any = B(VN_OPT_HOST_CAPS) },
      .unless = { .any = B(VN_OPT_ISOLATE) },
      .msg = "--host-caps needs --isolate" },
    { .when = { .any = B(VN_OPT_NODE) },
      .unless = { .any = B(VN_OPT_HUGEPAGES) },
      .msg = "--node needs --hugepages" },
    { .when = { .any = B(VN_OPT_PERSIST) },
      .unless = { .any = B(VN_OPT_HUGEPAGES) },
      .msg = "--persist needs --hugepages" },
};
#undef NEEDS_ENABLE

#define LINT_LIVE (B(VN_OPT_DOMAIN) | B(VN_OPT_ALL))
static const struct vn_opt_rule lint_rules[] = {
    { .unless = { .any = B(VN_OPT_FILE) | LINT_LIVE }, .msg = EITHER_LIVE },
    { .when = { .any = B(VN_OPT_FILE) }, .also = { .any = LINT_LIVE },
      .msg = EITHER_LIVE },
    { .when = { .any = B(VN_OPT_ALL) }, .also = { .any = B(VN_OPT_DOMAIN) },
      .msg = "--all and --domain select differently: give one" },
    { .when = { .any = B(VN_OPT_FILE) },
      .also = { .any = B(VN_OPT_CONNECT) },
      .msg = "--connect needs --domain or --all" },
    /* Offline, --cpu-map only matters to a host. */
    { .when = { .any = B(VN_OPT_FILE) },
      .also = { .any = B(VN_OPT_DOMCAPS) | B(VN_OPT_CPU_MAP) },
      .unless = { .any = B(VN_OPT_HOST_CAPS) },
      .msg = "--domcaps and --cpu-map need --host-caps" },
    { .when = { .any = B(VN_OPT_DOMCAPS) },
      .unless = { .any = B(VN_OPT_HOST_CAPS) },
      .msg = "--domcaps need --host-caps" },
    { .when = { .several = B(VN_OPT_HOST_CAPS) },
      .unless = { .any = B(VN_OPT_FILE) },
      .msg = "several --host-caps make an offline fleet: they need --file" },
};

static const struct vn_opt_rule rollback_rules[] = {
    { .unless = { .any = B(VN_OPT_DOMAIN) },
      .msg = "rollback needs --domain" },
    { .when = { .any = B(VN_OPT_LIST) }, .also = { .any = B(VN_OPT_BACKUP) },
      .msg = "--list and --backup cannot be combined" },
    { .also = { .opt = VN_OPT_BACKUP_DIR, .is = "" },
      .msg = "--backup-dir must not be empty" },
};

static const struct vn_opt_rule verify_rules[] = {
    { .unless = { .any = B(VN_OPT_DOMAIN) }, .msg = "verify needs --domain" },
    { .when = { .any = B(VN_OPT_DOMCAPS) },
      .unless = { .any = B(VN_OPT_HOST_CAPS) },
      .msg = "--domcaps needs --host-caps" },
};

#define M struct vn_map_opts
static const struct vn_opt_use map_uses[] = {
    STRING(VN_OPT_CONNECT, M, plan.connect,
           "the host of libvirt at URI and every domain's pins"),
    STRING(VN_OPT_HOST_CAPS, M, plan.host_caps,
           "offline: the host from this capabilities XML;\n"
           "with -c, instead of the connection's"),
    STRING(VN_OPT_CPU_MAP, M, plan.cpu_map, NULL),
    LIST(VN_OPT_FILE, M, files, nfiles,
         "offline: a domain XML whose pins and hugepages\n"
         "are drawn (repeatable)"),
    TAKEN(VN_OPT_TAKEN, M, plan.taken, plan.has_taken,
          "host CPUs other domains hold (drawn 'x')"),
    PROFILE(VN_OPT_PROFILE, M, plan.profile,
            "the profile whose housekeeping CPUs are drawn\n"
            "(default: the first core of every cell)"),
    LIST(VN_OPT_PROFILE_FILE, M, plan.profile_files, plan.nprofile_files,
         NULL),
    LIST(VN_OPT_SET, M, plan.sets, plan.nsets, NULL),
    MAP_OUTPUT(VN_OPT_MAP_OUTPUT, M, output, NULL),
    COLOR(VN_OPT_COLOR, M, color,
          "text colours: auto (default: a terminal and no\n"
          "$NO_COLOR), always, never"),
    HELP(NULL),
};
#undef M

static const struct vn_opt_rule map_rules[] = {
    { .unless = { .any = B(VN_OPT_CONNECT) | B(VN_OPT_HOST_CAPS) },
      .msg = "map needs a host: -c URI, or --host-caps FILE offline" },
    { .when = { .any = B(VN_OPT_CONNECT) }, .also = { .any = B(VN_OPT_FILE) },
      .msg = "--file is for an offline map (--host-caps): -c draws the "
             "connection's domains" },
    { .when = { .any = B(VN_OPT_COLOR) },
      .also = { .opt = VN_OPT_MAP_OUTPUT, .is = "json" },
      .msg = "--color is for the text map" },
    { .when = { .any = B(VN_OPT_COLOR) },
      .also = { .opt = VN_OPT_MAP_OUTPUT, .is = "svg" },
      .msg = "--color is for the text map" },
};

/* -------------------------------------------------------- the commands */

struct vn_cmd_spec {
    const char *name;
    const char *head;            /* --help before the option lines */
    const char *tail;            /* ... and after */
    /* After an unknown option: "Try ..." (NULL: the usage, on stderr). */
    const char *try;
    bool operands;               /* takes arguments (profiles NAME) */
    const struct vn_opt_use *uses;
    size_t nuses;
    const struct vn_opt_rule *rules;
    size_t nrules;
};

#define N(a) (sizeof(a) / sizeof(*(a)))
#define USES(a) a, N(a)
#define RULES(a) a, N(a)

static const struct vn_cmd_spec commands[VN_CMD_LAST] = {
    [VN_CMD_APPLY] = { "apply",
"usage: virt-nestify --domain D [-c URI] --profile P [options]\n"
"       virt-nestify --all|--match GLOB|--state S [-c URI]... --profile P\n"
"                    [options]\n"
"       virt-nestify --file DOMAIN.xml|- --host-caps CAPS.xml --profile P\n"
"                    [options]\n"
"       virt-nestify rollback --domain D [--list | --backup FILE]\n"
"       virt-nestify verify --domain D [--profile P] [--timeout SECONDS]\n"
"       virt-nestify host [--root DIR] [-o json] [-c URI] | host --enable ...\n"
"       virt-nestify profiles [NAME]\n"
"\n"
"Rewrites a libvirt domain's <cpu>, <cputune>, <numatune>, <memtune> and\n"
"<memoryBacking> for nested virtualization (nested), speed (perf) or\n"
"safety (secure).\n"
"\n",
"\n"
"Exit: 0 done or nothing to change, 1 --check found a pending change,\n"
"2 usage, bad input or refused, 3 libvirt or system failure, 4 a bulk run\n"
"or fleet where some domains or hosts failed.\n",
        "Try 'virt-nestify --help'.\n", false,
        USES(apply_uses), RULES(apply_rules) },
    [VN_CMD_HOST] = { "host",
"usage: virt-nestify host [--root DIR] [-o text|json] [-c URI]\n"
"       virt-nestify host --enable [--root DIR] [--reload]\n"
"                         [--hugepages N[,SIZE] [--node N] [--persist]]\n"
"                         [--dry-run]\n"
"       virt-nestify host --isolate [--root DIR] -c URI|--taken CPULIST\n"
"                         [--host-caps CAPS.xml] [--dry-run]\n"
"\n"
"Checks what this host needs for nested virtualization and says how to\n"
"fix what is missing (PASS, WARN or FAIL per check); with --enable, turns\n"
"nested on in /etc/modprobe.d and reserves hugepages; with --isolate,\n"
"keeps the host's own processes and interrupts off the CPUs guests pin.\n"
"\n",
"\n"
"Exit: 0 no check failed (or done), 1 a check failed, 2 usage, bad\n"
"input or refused, 3 libvirt or system failure.\n",
        "Try 'virt-nestify host --help'.\n", false,
        USES(host_uses), RULES(host_rules) },
    [VN_CMD_LINT] = { "lint",
"usage: virt-nestify lint --file DOMAIN.xml|- [--host-caps CAPS.xml] [options]\n"
"       virt-nestify lint --domain D|--all [-c URI] [options]\n"
"\n"
"Says what is wrong with a domain without changing it: CPU features\n"
"libvirt does not know, the wrong vendor's virtualization feature,\n"
"disabled mitigations, bad pins, hugepages the host cannot give, a\n"
"topology or memory limit that does not fit (docs/lint.md).\n"
"\n",
"\n"
"Exit: 0 no error found (warnings only, or nothing), 1 errors found,\n"
"2 usage or bad input, 3 libvirt or system failure.\n",
        "Try 'virt-nestify lint --help'.\n", false,
        USES(lint_uses), RULES(lint_rules) },
    [VN_CMD_PROFILES] = { "profiles",
        "usage: virt-nestify profiles [NAME]\n"
        "List the profiles (built-in, then profiles.d, which may "
        "override them),\nor show one profile's text.\n",
        "", NULL, true, USES(profiles_uses), NULL, 0 },
    [VN_CMD_ROLLBACK] = { "rollback",
"usage: virt-nestify rollback --domain D [-c URI] [--backup-dir DIR]\n"
"                             [--list | --backup FILE] [-q]\n"
"\n"
"Redefines a domain from a backup that virt-nestify wrote before changing\n"
"it: the newest one, or FILE.  The current definition is backed up first.\n"
"\n",
"\n"
"Exit: 0 done or nothing to change, 2 usage, bad input, unknown domain or\n"
"no backup, 3 libvirt or system failure.\n",
        "Try 'virt-nestify rollback --help'.\n", false,
        USES(rollback_uses), RULES(rollback_rules) },
    [VN_CMD_VERIFY] = { "verify",
"usage: virt-nestify verify --domain D [-c URI] [--profile P]...\n"
"                           [--timeout SECONDS] [--output text|json]\n"
"\n"
"Checks that a running domain can run VMs of its own: its live XML holds\n"
"what the profile sets (CPU mode, vmx/svm required, vCPU pins, the rest),\n"
"and, through the QEMU guest agent, that the guest sees vmx or svm, has\n"
"/dev/kvm and a kvm module with nested on.  Changes nothing.\n"
"\n",
"\n"
"Exit: 0 every check passed, 1 a check failed, 2 usage, bad input, unknown\n"
"domain or a domain that is not running, 3 libvirt or system failure.\n",
        "Try 'virt-nestify verify --help'.\n", false,
        USES(verify_uses), RULES(verify_rules) },
    [VN_CMD_MAP] = { "map",
"usage: virt-nestify map -c URI [--profile P] [options]\n"
"       virt-nestify map --host-caps CAPS.xml [--file DOMAIN.xml]...\n"
"                        [--taken CPULIST] [--profile P] [options]\n"
"\n"
"Draws the host's CPUs (a block per NUMA cell, a column per core, a row\n"
"per SMT thread) with the guests pinned on them, housekeeping, emulator\n"
"and I/O thread CPUs, free and overcommitted CPUs, and per cell the\n"
"hugepages: total, free and each guest's.  Changes nothing.\n"
"\n",
"\n"
"Exit: 0 done, 2 usage or bad input, 3 libvirt or system failure.\n",
        "Try 'virt-nestify map --help'.\n", false,
        USES(map_uses), RULES(map_rules) },
};

enum vn_cmd
vn_cmd_by_name(const char *name)
{
    for (int c = 0; c < VN_CMD_LAST; c++)
        if (strcmp(commands[c].name, name) == 0)
            return (enum vn_cmd)c;
    return VN_CMD_LAST;
}

/* ------------------------------------------------------------ parsing */

/* getopt_long's tables for spec: a long option's val is 256 + its
 * index in spec->uses. */
struct getopt_tables {
    struct option longopts[VN_OPT_LAST + 1];
    char shortopts[2 * VN_OPT_LAST + 1];
};

static void
build_tables(const struct vn_cmd_spec *spec, struct getopt_tables *t)
{
    char *s = t->shortopts;

    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < spec->nuses; i++) {
        const struct vn_option *opt = &options[spec->uses[i].opt];
        t->longopts[i] = (struct option) {
            opt->name, opt->arg ? required_argument : no_argument, NULL,
            256 + (int)i };
        if (opt->letter) {
            *s++ = (char)opt->letter;
            if (opt->arg)
                *s++ = ':';
        }
    }
}

/* The index in spec->uses of getopt's answer c, or -1 (an error). */
static int
use_of(const struct vn_cmd_spec *spec, int c)
{
    if (c >= 256)
        return c - 256;
    for (size_t i = 0; i < spec->nuses; i++)
        if (options[spec->uses[i].opt].letter == c)
            return (int)i;
    return -1;
}

/* Stores arg as use says, in opts; -1 when arg is refused (said). */
static int
store(const struct vn_opt_use *use, const char *arg, char *opts)
{
    const struct vn_option *opt = &options[use->opt];
    void *at = opts + use->at;
    unsigned long long n;
    int choice = -1;

    if (opt->choices) {
        for (int i = 0; opt->choices[i]; i++)
            if (strcmp(opt->choices[i], arg) == 0)
                choice = i;
        if (choice < 0)
            goto bad;
    }
    switch (use->slot) {
    case SLOT_HELP:
        break;
    case SLOT_FLAG:
        *(bool *)at = true;
        break;
    case SLOT_STRING:
        *(const char **)at = arg;
        break;
    case SLOT_LIST:
        return vn_push((char ***)at, (size_t *)(opts + use->at2),
                       (size_t *)(opts + use->at3), (char *)arg);
    case SLOT_UINT:
        if (nst_parse_ull(arg, opt->max, &n) < 0 || n < opt->min)
            goto bad;
        *(unsigned int *)at = (unsigned int)n;
        break;
    case SLOT_COLOR:
        *(enum vn_color *)at = (enum vn_color)choice;
        break;
    case SLOT_MAP_OUTPUT:
        *(enum vn_map_output *)at = (enum vn_map_output)choice;
        break;
    case SLOT_OUTPUT:
        return vn_parse_output(arg, (enum vn_output *)at);
    case SLOT_PROFILE:
        return vn_profile_option((char **)at, arg);
    case SLOT_TAKEN:
        return vn_parse_taken(arg, (struct nst_cpuset *)at,
                              (bool *)(opts + use->at2));
    }
    return 0;
 bad:
    vn_error("%s, not '%s'", opt->bad, arg);
    return -1;
}

int
vn_options_parse(enum vn_cmd cmd, int argc, char **argv, void *opts,
                 struct vn_given *given)
{
    const struct vn_cmd_spec *spec = &commands[cmd];
    struct getopt_tables t;
    int c;

    memset(given, 0, sizeof(*given));
    build_tables(spec, &t);
    /* 0, not 1: getopt starts afresh even after a run that stopped in
     * the middle of "-nq" (tests parse many command lines). */
    optind = 0;
    while ((c = getopt_long(argc, argv, t.shortopts, t.longopts,
                            NULL)) != -1) {
        int i = use_of(spec, c);
        if (i < 0) {
            if (spec->try)
                fputs(spec->try, stderr);
            else
                vn_options_usage(cmd, stderr);
            return -1;
        }
        const struct vn_opt_use *use = &spec->uses[i];
        if (use->opt == VN_OPT_HELP) {
            vn_options_usage(cmd, stdout);
            return 1;
        }
        given->count[use->opt]++;
        given->last[use->opt] = optarg;
        if (store(use, optarg, opts) < 0)
            return -1;
    }
    given->optind = optind;
    if (optind < argc && !spec->operands) {
        vn_error("unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
}

static bool
holds(const struct vn_terms *t, const struct vn_given *given)
{
    for (int o = 0; o < VN_OPT_LAST; o++)
        if (((t->any & B(o)) && given->count[o]) ||
            ((t->several & B(o)) && given->count[o] > 1))
            return true;
    return t->is && given->count[t->opt] &&
           strcmp(given->last[t->opt], t->is) == 0;
}

static bool
empty(const struct vn_terms *t)
{
    return !t->any && !t->several && !t->is;
}

/* The first rule of cmd that given breaks, or NULL. */
static const struct vn_opt_rule *
broken_rule(enum vn_cmd cmd, const struct vn_given *given)
{
    const struct vn_cmd_spec *spec = &commands[cmd];

    for (size_t i = 0; i < spec->nrules; i++) {
        const struct vn_opt_rule *r = &spec->rules[i];
        if ((empty(&r->when) || holds(&r->when, given)) &&
            (empty(&r->also) || holds(&r->also, given)) &&
            (empty(&r->unless) || !holds(&r->unless, given)))
            return r;
    }
    return NULL;
}

int
vn_options_check(enum vn_cmd cmd, const struct vn_given *given)
{
    const struct vn_opt_rule *r = broken_rule(cmd, given);

    if (!r)
        return 0;
    vn_error("%s", r->msg);
    return -1;
}

int
vn_options_parse_checked(enum vn_cmd cmd, int argc, char **argv, void *opts,
                         struct vn_given *given)
{
    int r = vn_options_parse(cmd, argc, argv, opts, given);
    if (r != 0)
        return r;
    return vn_options_check(cmd, given);
}

bool
vn_options_connect(enum vn_cmd cmd, int argc, char **argv)
{
    const struct vn_cmd_spec *spec = &commands[cmd];
    struct getopt_tables t;
    struct vn_given given;
    bool connects = false, ok = true;
    int c;

    /* getopt_long permutes what it parses: a copy keeps argv as it was
     * given for the exec. */
    char **copy = malloc(((size_t)argc + 1) * sizeof(*copy));
    if (!copy)
        return false;
    memcpy(copy, argv, ((size_t)argc + 1) * sizeof(*copy));
    memset(&given, 0, sizeof(given));
    build_tables(spec, &t);
    int saved_opterr = opterr;
    opterr = 0;
    optind = 0;
    while (ok && (c = getopt_long(argc, copy, t.shortopts, t.longopts,
                                  NULL)) != -1) {
        int i = use_of(spec, c);
        if (i < 0 || spec->uses[i].opt == VN_OPT_HELP) {
            ok = false;
            break;
        }
        enum vn_opt o = spec->uses[i].opt;
        given.count[o]++;
        given.last[o] = optarg;
        connects |= options[o].connects;
    }
    if (ok && optind < argc && !spec->operands)
        ok = false;
    opterr = saved_opterr;
    free(copy);
    return ok && connects && !broken_rule(cmd, &given);
}

/* ------------------------------------------------------------- output */

/* Help text columns: "  -x, --name ARG" up to 24, the text from 26. */
#define HELP_COLUMN 26

void
vn_options_usage(enum vn_cmd cmd, FILE *fp)
{
    const struct vn_cmd_spec *spec = &commands[cmd];

    fputs(spec->head, fp);
    for (size_t i = 0; i < spec->nuses; i++) {
        const struct vn_option *opt = &options[spec->uses[i].opt];
        const char *help = spec->uses[i].help ? spec->uses[i].help :
                           opt->help;
        if (!*help)
            continue;
        int n = opt->letter ? fprintf(fp, "  -%c, --%s", opt->letter,
                                      opt->name)
                            : fprintf(fp, "      --%s", opt->name);
        if (opt->arg)
            n += fprintf(fp, " %s", opt->arg);
        if (n > HELP_COLUMN - 2) {
            fputc('\n', fp);
            n = 0;
        }
        for (const char *line = help; *line;) {
            size_t len = strcspn(line, "\n");
            fprintf(fp, "%*s%.*s\n", HELP_COLUMN - n, "", (int)len, line);
            n = 0;
            line += len + (line[len] ? 1 : 0);
        }
    }
    fputs(spec->tail, fp);
}

void
vn_options_list(enum vn_cmd cmd, FILE *fp)
{
    const struct vn_cmd_spec *spec = &commands[cmd];

    for (size_t i = 0; i < spec->nuses; i++) {
        const struct vn_option *opt = &options[spec->uses[i].opt];
        if (opt->letter)
            fprintf(fp, "-%c ", opt->letter);
        fprintf(fp, "--%s%s%s\n", opt->name, opt->arg ? " " : "",
                opt->arg ? opt->arg : "");
    }
}

/*
 * nestify.h: libnestify, the policy engine behind virt-nestify
 *
 * The library is pure: it reads XML texts and structs and produces an
 * edited document plus a report.  It never prints, exits, reads files,
 * talks to libvirt or looks at the clock, so the same inputs always give
 * the same bytes.  Every public name starts with nst_.
 *
 * Errors: functions that can fail return 0 on success and -1 on failure;
 * when they take a "char **err" they store a new one-line message there
 * (lower case, no full stop) that the caller frees.
 */
#ifndef NESTIFY_H
#define NESTIFY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- cpusets */

/* Host CPU ids are below NST_MAX_CPUS; larger hosts are refused. */
#define NST_MAX_CPUS 4096

struct nst_cpuset {
    uint64_t bits[NST_MAX_CPUS / 64];
};

void nst_cpuset_clear_all(struct nst_cpuset *set);
void nst_cpuset_set(struct nst_cpuset *set, unsigned int cpu);
void nst_cpuset_clear(struct nst_cpuset *set, unsigned int cpu);
bool nst_cpuset_test(const struct nst_cpuset *set, unsigned int cpu);
unsigned int nst_cpuset_count(const struct nst_cpuset *set);
bool nst_cpuset_is_empty(const struct nst_cpuset *set);
/* Returns the lowest cpu >= from in set, or -1. */
int nst_cpuset_next(const struct nst_cpuset *set, unsigned int from);
void nst_cpuset_union(struct nst_cpuset *dst, const struct nst_cpuset *src);
void nst_cpuset_subtract(struct nst_cpuset *dst, const struct nst_cpuset *src);
void nst_cpuset_intersect(struct nst_cpuset *dst, const struct nst_cpuset *src);
bool nst_cpuset_intersects(const struct nst_cpuset *a,
                           const struct nst_cpuset *b);
bool nst_cpuset_equal(const struct nst_cpuset *a, const struct nst_cpuset *b);

/*
 * Parses libvirt's cpuset syntax ("0-3,8,^2").  Returns 0, or -1 with
 * *err set.  An empty string is an error.
 */
int nst_cpuset_parse(const char *text, struct nst_cpuset *set, char **err);

/*
 * Formats set the way libvirt's virBitmapFormat does ("0-3,8"), so that
 * what we write is what libvirt stores.  Returns a new string the caller
 * frees ("" for an empty set), NULL only when out of memory.
 */
char *nst_cpuset_format(const struct nst_cpuset *set);

/* ------------------------------------------------------------ host model */

enum nst_vendor {
    NST_VENDOR_UNKNOWN,
    NST_VENDOR_INTEL,
    NST_VENDOR_AMD,
    NST_VENDOR_LAST
};

/* Name as libvirt spells it ("Intel", "AMD", "unknown"). */
const char *nst_vendor_name(enum nst_vendor vendor);

enum nst_tristate {
    NST_TRISTATE_UNKNOWN,
    NST_TRISTATE_YES,
    NST_TRISTATE_NO,
    NST_TRISTATE_LAST
};

/* One hugepage (or base page) size of a host NUMA cell. */
struct nst_pages {
    unsigned long long size_kib;
    unsigned long long total;   /* pages the cell has of this size */
    unsigned long long free;    /* pages free; = total unless told */
};

#define NST_MAX_PAGE_SIZES 8

/* Distances kept per host cell: to the first this many siblings listed
 * (a guest has at most NST_MAX_GUEST_CELLS cells to give them to). */
#define NST_MAX_DISTANCES 64

/* One <sibling> of a host cell's <distances> (ACPI SLIT: 10 is local). */
struct nst_distance {
    unsigned int id;             /* the other host cell */
    unsigned int value;
};

struct nst_cell {
    unsigned int id;             /* first: host.c sorts and finds by it */
    unsigned long long memory_kib;
    struct nst_cpuset cpus;
    size_t npages;
    struct nst_pages pages[NST_MAX_PAGE_SIZES];
    size_t ndistances;           /* 0 when capabilities list none */
    struct nst_distance distances[NST_MAX_DISTANCES];
};

struct nst_host_cpu {
    unsigned int id;             /* first: host.c sorts and finds by it */
    unsigned int socket_id;
    unsigned int die_id;
    unsigned int core_id;
    unsigned int cell_id;
    struct nst_cpuset siblings;  /* includes the cpu itself */
};

struct nst_host {
    char *arch;                  /* "x86_64"; never NULL after parse */
    char *model;                 /* host CPU model or NULL */
    enum nst_vendor vendor;
    bool has_vmx;
    bool has_svm;
    /* The <feature name> list of the capabilities' host CPU beyond its
     * model, sorted: what tells two hosts of one model apart. */
    char **cpu_features;
    size_t ncpu_features;
    /* from domain capabilities when given, else UNKNOWN */
    enum nst_tristate passthrough_supported;

    size_t ncells;
    struct nst_cell *cells;      /* sorted by id */
    size_t ncpus;
    struct nst_host_cpu *cpus;   /* sorted by id */

    /*
     * CPU feature names the target libvirt knows (its cpu_map), sorted;
     * NULL when not loaded, in which case only the names listed by
     * nst_feature_is_known_bogus() are treated as unknown.
     */
    char **known_features;
    size_t nknown_features;

    /*
     * The Hyper-V enlightenments the target libvirt supports for KVM
     * guests: the <hyperv> <enum name='features'> values of KVM domain
     * capabilities (<domain>kvm</domain>), sorted, when hyperv_known;
     * otherwise libvirt 9.0's schema is the floor (see
     * nst_host_hyperv_supported).
     */
    char **hyperv_features;
    size_t nhyperv_features;
    bool hyperv_known;
};

/*
 * Builds the host model from a libvirt capabilities document and,
 * optionally (domcaps may be NULL), a domain capabilities document.
 * A capabilities document without NUMA topology is refused with an error
 * that says what is missing.  Returns 0 with *out set (free with
 * nst_host_free), or -1 with *err set.
 */
int nst_host_parse(const char *caps, size_t caps_len,
                   const char *domcaps, size_t domcaps_len,
                   struct nst_host **out, char **err);

/* Reads libvirt's cpu_map x86_features.xml into host->known_features. */
int nst_host_load_cpu_map(struct nst_host *host, const char *xml, size_t len,
                          char **err);

/*
 * Reads the cpu_map file of the host's CPU model (x86_EPYC-Rome.xml):
 * the features a model implies are not listed in capabilities, so vmx or
 * svm may only show here.
 */
int nst_host_load_cpu_model(struct nst_host *host, const char *xml,
                            size_t len, char **err);

/* A deep copy of host (free with nst_host_free), or NULL when out of
 * memory: a view of the host to change for one domain. */
struct nst_host *nst_host_clone(const struct nst_host *host);

/* Records free pages of one size in one cell (live mode knows them). */
int nst_host_set_free_pages(struct nst_host *host, unsigned int cell_id,
                            unsigned long long size_kib,
                            unsigned long long free, char **err);

const struct nst_cell *nst_host_cell(const struct nst_host *host,
                                     unsigned int cell_id);
/* The distance capabilities give from host cell 'from' to cell 'to',
 * or 0 when they do not give it. */
unsigned int nst_host_distance(const struct nst_host *host, unsigned int from,
                               unsigned int to);
/* The cell's pages of one size, or NULL when it has none of that size
 * (or cell is NULL). */
const struct nst_pages *nst_cell_pages(const struct nst_cell *cell,
                                       unsigned long long size_kib);
/* Whether cell has enough free pages of size_kib for memory_kib, a whole
 * number of them. */
bool nst_cell_pages_fit(const struct nst_cell *cell,
                        unsigned long long size_kib,
                        unsigned long long memory_kib);
/* The largest hugepage size (larger than a 4 KiB base page) that cell
 * has enough free pages of for memory_kib, or 0. */
unsigned long long nst_cell_hugepage_size(const struct nst_cell *cell,
                                          unsigned long long memory_kib);
const struct nst_host_cpu *nst_host_cpu(const struct nst_host *host,
                                        unsigned int cpu_id);
/* All CPUs of the host. */
void nst_host_all_cpus(const struct nst_host *host, struct nst_cpuset *out);
/*
 * Checks that every CPU of set is one the host has (listed in its
 * capabilities).  Returns 0, or -1 with *err set to "WHAT: CPU 72 does
 * not exist on the host (CPUs 0-71)", naming every missing CPU.
 */
int nst_host_check_cpus(const struct nst_host *host,
                        const struct nst_cpuset *set, const char *what,
                        char **err);
/* SMT threads per core (1 without SMT); the largest seen. */
unsigned int nst_host_threads_per_core(const struct nst_host *host);

/*
 * The default housekeeping CPUs: the first core (with all its SMT
 * siblings) of every host cell.  Emulator and I/O threads run there and
 * no vCPU is pinned there.
 */
void nst_host_default_housekeeping(const struct nst_host *host,
                                   struct nst_cpuset *out);

void nst_host_free(struct nst_host *host);

/* True when libvirt cannot know the CPU feature (see nst_host). */
bool nst_host_feature_unknown(const struct nst_host *host, const char *name);

/*
 * Linux /proc/cpuinfo VMX flag names that guides put in <feature> but
 * that libvirt 9.0's cpu_map does not define ("ept", "vpid", ...): a
 * domain requiring them defines and then fails to start.
 */
bool nst_feature_is_known_bogus(const char *name);

/* Spectre/MDS mitigation features that must never be disabled. */
bool nst_feature_is_mitigation(const char *name);

/* The hardware virtualization feature the host's guests need: "vmx"
 * (Intel), "svm" (AMD), or NULL when the host has none (or host is
 * NULL).  A string owned by the library. */
const char *nst_host_virt_feature(const struct nst_host *host);

/* True for "vmx" and "svm". */
bool nst_feature_is_virt(const char *name);

/*
 * Whether the host's libvirt accepts the Hyper-V enlightenment name (a
 * <features><hyperv> child: "evmcs", "emsr_bitmap") for a KVM guest:
 * listed in its KVM domain capabilities, or without them one of libvirt
 * 9.0's (relaxed ... avic; not emsr_bitmap, not xmm_input).
 */
bool nst_host_hyperv_supported(const struct nst_host *host,
                               const char *name);

/*
 * A fleet: the hosts a domain may run on, the first the one it is
 * planned on (cpu-mode=baseline, lint's VN109).  labels[i] names
 * hosts[i] in messages (a file, a URI).
 *
 * nst_fleet_check_vendors: a fleet that mixes Intel and AMD hosts has
 * no virtualization feature in common (vmx or svm), so no nested CPU
 * can migrate across it.  Returns 0, or -1 with *err naming the hosts
 * of each vendor.
 * nst_fleet_uniform: whether every host has the same CPU (vendor,
 * model and feature list), the only fleet host-passthrough migrates in.
 */
int nst_fleet_check_vendors(const struct nst_host *const *hosts,
                            const char *const *labels, size_t n,
                            char **err);
bool nst_fleet_uniform(const struct nst_host *const *hosts, size_t n);

/* -------------------------------------------------------------- profiles */

enum nst_thread_policy {
    NST_THREAD_PREFER,    /* pack vCPUs onto SMT siblings */
    NST_THREAD_ISOLATE,   /* one vCPU per core, siblings left idle */
    NST_THREAD_REQUIRE,   /* SMT host required, whole cores only */
    NST_THREAD_LAST
};

const char *nst_thread_policy_name(enum nst_thread_policy policy);

/* What the guest runs, for the rules that depend on it (hyperv). */
enum nst_guest_os {
    NST_GUEST_OS_AUTO,    /* detected: libosinfo metadata, <hyperv> */
    NST_GUEST_OS_WINDOWS,
    NST_GUEST_OS_OTHER,   /* never treated as Windows */
    NST_GUEST_OS_LAST
};

const char *nst_guest_os_name(enum nst_guest_os os);

/* How the nested rules give the guest its CPU (profile key cpu-mode). */
enum nst_cpu_mode {
    NST_CPU_PASSTHROUGH,  /* host-passthrough: fastest, identical hosts */
    NST_CPU_HOST_MODEL,   /* host-model: libvirt's expansion of the host */
    NST_CPU_BASELINE,     /* custom: the fleet's baseline, migratable */
    NST_CPU_MODE_LAST
};

/* "passthrough", "host-model", "baseline". */
const char *nst_cpu_mode_name(enum nst_cpu_mode mode);

/* The realtime scheduler of the realtime vCPUs (profile key
 * realtime-scheduler): libvirt's <vcpusched scheduler>. */
enum nst_rt_scheduler {
    NST_RT_FIFO,
    NST_RT_RR,
    NST_RT_SCHEDULER_LAST
};

/* "fifo", "rr". */
const char *nst_rt_scheduler_name(enum nst_rt_scheduler scheduler);
/* The guest's I/O (docs/profiles.md, "I/O of the guest"). */
enum nst_iothreads_mode {
    NST_IOTHREADS_OFF,       /* the domain's I/O threads as they are */
    NST_IOTHREADS_SHARED,    /* one I/O thread for every virtio disk */
    NST_IOTHREADS_PER_DISK,  /* one each, up to iothreads-max */
    NST_IOTHREADS_LAST
};
enum nst_disk_cache {
    NST_DISK_CACHE_KEEP,               /* cache and io as they are */
    NST_DISK_CACHE_NONE_NATIVE,        /* cache='none' io='native' */
    NST_DISK_CACHE_NONE_IO_URING,      /* cache='none' io='io_uring' */
    NST_DISK_CACHE_WRITEBACK_THREADS,  /* cache='writeback' io='threads' */
    NST_DISK_CACHE_LAST
};
enum nst_balloon {
    NST_BALLOON_KEEP,        /* the balloon stays (a warning where it
                                cannot give memory back) */
    NST_BALLOON_NONE,        /* model='none' where it cannot */
    NST_BALLOON_LAST
};

/*
 * A profile is the result of applying settings ("key = value") over the
 * defaults; see docs/profiles.md for every key.  Profiles compose left to
 * right: a later profile overrides only the keys it sets.
 */
struct nst_profile {
    char *name;                  /* "perf" or "perf,secure" */
    char *description;

    bool nested;                 /* host-passthrough + vmx/svm */
    enum nst_cpu_mode cpu_mode;  /* the <cpu> nested gives */

    bool pinning;                /* vcpupin/emulatorpin from the host */
    enum nst_thread_policy thread_policy;
    bool housekeeping_auto;      /* first core of every cell */
    struct nst_cpuset housekeeping;  /* used when !housekeeping_auto */
    /* Where that list was set, for the message when the host lacks one
     * of its CPUs ("site.profile:3: housekeeping", "--set
     * housekeeping=72"); NULL with housekeeping_auto. */
    char *housekeeping_origin;
    bool split;                  /* may spread a big guest over cells */
    bool numa;                   /* guest cells + strict numatune */
    bool hugepages;              /* largest free size of the cell */

    bool memtune;                /* soft/hard limits */
    unsigned int memtune_overhead_min_mib;
    unsigned int memtune_overhead_percent;

    bool cpu_limits;             /* shares/period/quota */
    unsigned int cpu_shares_per_vcpu;
    unsigned int cpu_period_us;
    unsigned int cpu_quota_percent;

    bool mitigations;            /* remove disables of mitigations */

    /* Windows guests (docs/profiles.md, "Windows guests") */
    enum nst_guest_os guest_os;  /* auto: detected from the domain */
    bool hyperv;                 /* Hyper-V enlightenments for nesting */
    bool hyperv_evmcs;           /* Enlightened VMCS on Intel hosts */

    /* Realtime vCPUs (docs/profiles.md, "realtime") */
    bool realtime;               /* vcpusched + locked memory */
    enum nst_rt_scheduler rt_scheduler;
    unsigned int rt_priority;    /* 1..99 */
    /* realtime-mask: the realtime vCPUs (rt_mask), or with
     * rt_mask_excludes every vCPU but those of rt_mask ("^0") */
    bool rt_mask_excludes;
    struct nst_cpuset rt_mask;
    /* I/O of the guest (docs/profiles.md, "I/O of the guest") */
    enum nst_iothreads_mode iothreads;
    unsigned int iothreads_max;  /* per-disk: at most this many */
    enum nst_disk_cache disk_cache;
    bool net_queues;             /* vhost with a queue per vCPU */
    unsigned int net_queues_max;
    enum nst_balloon balloon;
};

/* A profile text and where it came from (for error messages). */
struct nst_profile_source {
    const char *name;            /* "perf" */
    const char *origin;          /* "/etc/virt-nestify/profiles.d/perf.profile" */
    const char *text;
    size_t len;
};

/* The built-in profiles, embedded at build time. */
const struct nst_profile_source *nst_builtin_profiles(size_t *count);

/* Fills profile with the defaults (every rule off). */
/* The profile's CPU lists (housekeeping) checked against the host as
 * nst_host_check_cpus does;
 * the error names where the list was set ("--set housekeeping=72"). */
int nst_profile_check_host(const struct nst_profile *profile,
                           const struct nst_host *host, char **err);
int nst_profile_init(struct nst_profile *profile);
void nst_profile_clear(struct nst_profile *profile);

/*
 * Applies one "key=value" to profile.  Unknown keys and bad values are
 * errors naming origin (where the assignment came from, "--set" for the
 * tool) and the key; origin is kept with the value for later errors.
 */
int nst_profile_set(struct nst_profile *profile, const char *assignment,
                    const char *origin, char **err);

/* Applies every line of a profile text; errors name origin and line. */
int nst_profile_apply_text(struct nst_profile *profile,
                           const struct nst_profile_source *src, char **err);

/*
 * Composes names ("perf,secure") from sources (later sources with the
 * same name override earlier ones, so user directories come after the
 * built-ins) into profile, which the caller has initialised.
 */
int nst_profile_compose(struct nst_profile *profile, const char *names,
                        const struct nst_profile_source *sources,
                        size_t nsources, char **err);

/* ------------------------------------------------------------ documents */

/*
 * A domain document: the libxml2 DOM plus the original bytes, so that
 * serialising reproduces every byte outside what a rule changed.
 * Documents with a DOCTYPE (and so any entity) are refused.
 */
struct nst_doc;

/* label names the input in errors ("ubuntu.xml", "domain 'web1'"). */
int nst_doc_parse(const char *text, size_t len, const char *label,
                  struct nst_doc **out, char **err);
/* Returns a new NUL-terminated string the caller frees; *len optional. */
char *nst_doc_serialize(const struct nst_doc *doc, size_t *len);
/* The domain's <name> and <uuid>, or NULL; owned by doc. */
const char *nst_doc_domain_name(const struct nst_doc *doc);
const char *nst_doc_domain_uuid(const struct nst_doc *doc);
void nst_doc_free(struct nst_doc *doc);
/*
 * The document's text as it was parsed, for review (diffs): the value of
 * every secret libvirt shows only with VIR_DOMAIN_XML_SECURE (graphics
 * passwd, network disk cookies; the table is in xmledit.c) replaced by
 * "***", however it is quoted, spaced or encoded; every other byte kept.
 * Returns a new NUL-terminated string the caller frees (*len optional),
 * NULL when out of memory.
 */
char *nst_doc_masked(const struct nst_doc *doc, size_t *len);
/*
 * A copy of text (a message that may quote the document, such as a
 * stylesheet's xsl:message) with every occurrence of the value of one
 * of those secrets replaced by "***".  Returns a new string the caller
 * frees, NULL when out of memory.
 */
char *nst_doc_mask_text(const struct nst_doc *doc, const char *text);

/*
 * The host CPUs the domain's vCPUs are pinned to (every <vcpupin>
 * cpuset), added to *out.  Emulator and I/O thread pins are not counted
 * (nst_doc_thread_pins): they may share housekeeping CPUs.  Returns 0, or -1 with
 * *err set when a cpuset is invalid.
 */
int nst_doc_vcpu_pins(const struct nst_doc *doc, struct nst_cpuset *out,
                      char **err);
/* The host CPUs the domain's emulator and I/O threads are pinned to
 * (<emulatorpin>, every <iothreadpin>), added to *out: held too, so that
 * no other domain's vCPUs are placed there (nst_holdings).  Returns 0,
 * or -1 with *err set when a cpuset is invalid. */
int nst_doc_thread_pins(const struct nst_doc *doc, struct nst_cpuset *out,
                        char **err);

/* Hugepages a definition uses on one host cell, of one size. */
struct nst_page_use {
    unsigned int host_cell;
    unsigned long long size_kib;
    unsigned long long pages;
};

/*
 * The hugepages the domain's definition uses, per host NUMA cell and
 * page size: for each <hugepages><page>, the memory of the guest cells
 * it covers (<numa><cell> with the RAM of the memory devices that
 * target the cell, or the whole <memory> without guest NUMA) in pages of
 * its size, on the host cell that <numatune> binds that memory to.
 * Memory not bound to exactly one host cell, and <hugepages> without a
 * <page> size, are not counted: which cell or size the kernel
 * picks is not in the definition.  Sets *uses to a new array of *n
 * entries (NULL when none), one per cell and size; returns 0, or -1
 * with *err set when an attribute is invalid or out of memory.
 */
int nst_doc_page_use(const struct nst_doc *doc, struct nst_page_use **uses,
                     size_t *n, char **err);

/* -------------------------------------------------------------- findings */

enum nst_severity {
    NST_CHANGE,
    NST_WARNING,
    NST_ERROR,
    NST_SEVERITY_LAST
};

/*
 * One thing found about a domain: a change, warning or refusal of
 * nst_apply's report, or a finding of the linter.  Both are lists of
 * these, in the order they were found.
 */
struct nst_finding {
    enum nst_severity severity;
    const char *id;      /* the lint rule's stable id ("VN101"); NULL in a
                          * report; static */
    const char *rule;    /* "cpu-mode", "unknown-feature"; static */
    char *target;        /* "/domain/cpu/@mode" style path; may be NULL in
                          * a report */
    char *message;       /* what happened or is wrong, and why */
    char *fix;           /* what to change (lint); NULL in a report */
};

struct nst_findings {
    size_t n;
    struct nst_finding *items;
    size_t alloc;        /* items allocated (the library grows them) */
};

size_t nst_findings_count(const struct nst_findings *list,
                          enum nst_severity severity);
void nst_findings_clear(struct nst_findings *list);

/* ---------------------------------------------------------------- report */

struct nst_report {
    char *domain;
    char *profile;
    struct nst_findings findings;
};

void nst_report_init(struct nst_report *report, const char *domain,
                     const char *profile);
void nst_report_clear(struct nst_report *report);
/* printf-style; rule is a static string ("cpu-mode").  Out of memory
 * aborts nothing, the entry is dropped. */
void nst_report_add(struct nst_report *report, enum nst_severity severity,
                    const char *rule, const char *target, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));
/* nst_findings_count of its findings */
size_t nst_report_count(const struct nst_report *report,
                        enum nst_severity severity);
/* New strings the caller frees; NULL when out of memory. */
char *nst_report_format_text(const struct nst_report *report);
char *nst_report_format_json(const struct nst_report *report);
/* The domain document (docs/json.md) as a json-c object, for embedding
 * in another document: a new reference (json_object_put), NULL when out
 * of memory. */
struct json_object;
struct json_object *nst_report_to_json(const struct nst_report *report);

/* ---------------------------------------------------------------- policy */

/*
 * The policy's rules, in the order nst_apply runs them: a refusal by one
 * means the later ones did not run.  A report entry names its rule by
 * nst_rules()[rule].name ("internal" and "profile" are no rule's).
 */
enum nst_rule {
    NST_RULE_DOMAIN,             /* reads the domain; refuses what no rule
                                    can use */
    NST_RULE_CPU_MODE,
    NST_RULE_CPU_FEATURE,
    NST_RULE_HYPERV,             /* Windows guests: nested Hyper-V */
    NST_RULE_MITIGATIONS,
    NST_RULE_PLACEMENT,
    NST_RULE_IOTHREADS,          /* before the pinning that pins them */
    NST_RULE_VCPU_PINNING,
    NST_RULE_EMULATOR_PINNING,
    NST_RULE_IOTHREAD_PINNING,
    NST_RULE_TOPOLOGY,
    NST_RULE_GUEST_NUMA,
    NST_RULE_NUMATUNE,
    NST_RULE_HUGEPAGES,
    NST_RULE_MEMTUNE,
    NST_RULE_CPU_LIMITS,
    NST_RULE_REALTIME,           /* after the pins and memory it builds on */
    NST_RULE_DISK_CACHE,
    NST_RULE_NET_QUEUES,
    NST_RULE_BALLOON,            /* after hugepages: it reads them */
    NST_RULE_LAST
};

struct nst_rule_def {
    const char *name;            /* in the report: "cpu-mode" */
    /* The profile switches that turn it on, any of them (NULL-ended);
     * none: it runs for every profile. */
    const char *keys[4];
    bool edits;                  /* sets something in the domain (domain
                                    and placement only read and plan) */
    const char *description;
};

/* The rules, indexed by enum nst_rule; a static table of
 * NST_RULE_LAST. */
const struct nst_rule_def *nst_rules(void);
/* The rule a report entry names, or NST_RULE_LAST for none. */
enum nst_rule nst_rule_find(const char *name);
/* Whether profile p runs rule (nst_apply's gating). */
bool nst_rule_enabled(const struct nst_profile *p, enum nst_rule rule);

struct nst_apply_options {
    const struct nst_profile *profile;
    const struct nst_host *host;
    /* CPUs other domains already pin; NULL for none */
    const struct nst_cpuset *taken;
    bool strict;                 /* warnings become errors */
    /* cpu-mode=baseline: the <cpu> libvirt's baseline API returned for
     * the fleet (virConnectBaselineHypervisorCPU or
     * virConnectBaselineCPU), which the caller computes; NULL otherwise */
    const char *baseline_cpu;
    /* The host CPUs the host keeps its own processes and interrupts off
     * (isolcpus, tuned's cpu-partitioning, systemd's AllowedCPUs), as
     * the caller found them on the host; NULL: not known.  The realtime
     * rule warns when a realtime vCPU's CPU is not among them. */
    const struct nst_cpuset *isolated;
};

/*
 * What the domain holds of the host after a run, for callers that
 * account for it (the CPUs other domains must avoid, the hugepages it
 * takes) without reading the document back: the pins the rules placed,
 * or the domain's own where no rule placed them.
 */
struct nst_plan {
    struct nst_cpuset vcpus;     /* host CPUs of every <vcpupin> */
    struct nst_cpuset emulator;  /* of <emulatorpin> */
    struct nst_cpuset iothreads; /* of every <iothreadpin> */
    struct nst_page_use *pages;  /* hugepages per host cell and size, as */
    size_t npages;               /* nst_doc_page_use counts them */
    /* Host CPUs of the vCPUs the domain runs realtime (<vcpusched> fifo
     * or rr): CPUs the host must keep its own work off. */
    struct nst_cpuset realtime;
};

void nst_plan_clear(struct nst_plan *plan);

/*
 * Applies the profile to doc, recording every change, warning and
 * refusal in report, and, when plan is not NULL, what the domain then
 * holds (free with nst_plan_clear; empty after a refusal).  Returns 0,
 * or -1 when the profile cannot be applied (the report says why); on -1
 * the document must not be used.
 */
int nst_apply(struct nst_doc *doc, const struct nst_apply_options *opts,
              struct nst_report *report, struct nst_plan *plan);

/* ------------------------------------------------------------------ lint */

/*
 * The linter reads a domain and says what is wrong with it, without
 * changing it: each finding has a stable rule id ("VN101"), a severity
 * (NST_ERROR: the domain does not define, does not start or is killed;
 * NST_WARNING: it runs, worse than it could), a message and a fix.  The
 * rules share the policy's knowledge (the host model, the feature lists
 * above); docs/lint.md lists them.
 */
struct nst_lint_rule {
    const char *id;              /* "VN101", never reused */
    const char *name;            /* "unknown-feature" */
    enum nst_severity severity;  /* NST_ERROR or NST_WARNING */
    bool needs_host;             /* skipped without a host model */
    const char *summary;         /* one line, for docs and --help */
};

/* Every rule, in the order they run; a static table. */
const struct nst_lint_rule *nst_lint_rules(size_t *count);

struct nst_lint_result {
    char *domain;                /* <name>, or NULL */
    char *label;                 /* names the input in text output */
    bool host_checked;           /* false: host rules were skipped */
    /* in the order of the rule table, each rule's in document order;
     * every one has id, target and fix */
    struct nst_findings findings;
};

struct nst_lint_options {
    /* NULL: the rules that need a host are skipped (and the result
     * says so); unknown features are then those of
     * nst_feature_is_known_bogus() */
    const struct nst_host *host;
    /* CPUs other domains pin their vCPUs to; NULL for none */
    const struct nst_cpuset *taken;
    /* Every host of the domain's fleet, host first (VN109); nfleet 0 or
     * 1: no fleet */
    const struct nst_host *const *fleet;
    size_t nfleet;
};

/*
 * Lints doc into *out (free with nst_lint_result_clear); label names the
 * input in the text output ("web1.xml", "web1").  Returns 0, or -1 when
 * out of memory.
 */
int nst_lint(const struct nst_doc *doc, const struct nst_lint_options *opts,
             const char *label, struct nst_lint_result *out);
void nst_lint_result_clear(struct nst_lint_result *result);

/*
 * One line per finding, "LABEL: error VN101: message (fix: fix)", and a
 * note line when host rules were skipped; "" for a clean domain with a
 * host.  Returns a new string the caller frees, NULL when out of memory.
 */
char *nst_lint_format_text(const struct nst_lint_result *result);

/*
 * The JSON document for n results (docs/json.md, "The lint document").
 * Returns a new string the caller frees, NULL when out of memory.
 */
char *nst_lint_format_json(const struct nst_lint_result *results, size_t n);

/* ------------------------------------------------------------ allocator */

#define NST_MAX_GUEST_CELLS 64

struct nst_placement_request {
    unsigned int vcpus;
    unsigned long long memory_kib;
    enum nst_thread_policy policy;
    bool allow_split;
    const struct nst_cpuset *taken;         /* NULL: none */
    const struct nst_cpuset *housekeeping;  /* never given to vCPUs */
    /* Among the single cells that fit, prefer those whose free hugepages
     * can back the guest's memory (nst_cell_hugepage_size). */
    bool prefer_hugepages;
};

struct nst_guest_cell {
    unsigned int host_cell;      /* host NUMA cell id */
    unsigned int first_vcpu;
    unsigned int nvcpus;
    unsigned long long memory_kib;
};

struct nst_placement {
    size_t ncells;
    struct nst_guest_cell cells[NST_MAX_GUEST_CELLS];
    unsigned int *pins;          /* pins[vcpu] = host cpu; owned */
    unsigned int nvcpus;
    unsigned int threads;        /* guest topology: threads per core */
    struct nst_cpuset used;      /* every CPU consumed, idle siblings too */
};

/*
 * Places req->vcpus on host: one host cell when the guest fits one,
 * else split evenly over as few cells as divide the guest (when
 * allow_split).  Deterministic.  Returns 0 with *out filled (free with
 * nst_placement_clear), or -1 with *reason set to a sentence naming
 * what is missing.
 */
int nst_place(const struct nst_host *host,
              const struct nst_placement_request *req,
              struct nst_placement *out, char **reason);
void nst_placement_clear(struct nst_placement *placement);

/*
 * Keeps an existing placement: pins[vcpu] (req->vcpus entries, one host
 * cpu each) when it is one nst_place could make now -- every pin free
 * (not taken, not housekeeping) and distinct, all in one host cell with
 * room for the memory, the thread policy respected.  Returns 0 with *out
 * filled as nst_place would, or -1 (out empty) when it is not.
 */
int nst_place_keep(const struct nst_host *host,
                   const struct nst_placement_request *req,
                   const unsigned int *pins, struct nst_placement *out);

/* ----------------------------------------------------- many domains */

/*
 * What domains hold of a host, for planning one domain beside others so
 * that no two are promised the same CPUs or hugepages (bulk, live runs,
 * lint and verify of live domains).  The caller gathers each domain's
 * holding (nst_apply's plan, or nst_doc_vcpu_pins and nst_doc_page_use
 * of its definition); these only count.
 */

/* Hugepages per host cell and size; negative in a difference. */
struct nst_page_count {
    unsigned int cell;
    unsigned long long size_kib;
    long long pages;
};
struct nst_page_counts {
    struct nst_page_count *items;
    size_t n;
    size_t alloc;        /* items allocated (the library grows them) */
};
/* Adds (sign 1) or subtracts (-1); -1 when out of memory. */
int nst_page_counts_add_uses(struct nst_page_counts *p,
                             const struct nst_page_use *uses, size_t n,
                             int sign);
int nst_page_counts_add(struct nst_page_counts *p,
                        const struct nst_page_counts *other, int sign);
/* Takes the counts off host's free pages (never below 0 or above the
 * total; a cell or size the host lacks is ignored). */
void nst_page_counts_take(struct nst_host *host,
                          const struct nst_page_counts *p);
void nst_page_counts_clear(struct nst_page_counts *p);

/*
 * The CPUs and hugepages of domains planned together, and of those
 * outside the run.  Memory stays flat in the number of domains: a count
 * per CPU (holders), not a set per domain; each domain's caller keeps
 * its own holding to move it.
 */
struct nst_holdings {
    struct nst_cpuset outside;   /* pins of domains outside the run */
    unsigned int holders[NST_MAX_CPUS];  /* domains of the run per CPU */
    /* domains of the run whose emulator or I/O threads are pinned there,
     * per CPU: no vCPU of another goes there, but threads of several
     * domains sharing a CPU (housekeeping) is not an overlap */
    unsigned int thread_holders[NST_MAX_CPUS];
    struct nst_page_counts pages;        /* hugepages of the run's */
};

void nst_holdings_clear(struct nst_holdings *h);
/* Counts a domain's holding in (sign 1) or out (-1): its vCPU pins,
 * its emulator and I/O thread pins (threads), its hugepages; each may be
 * NULL.  -1 when out of memory (the pins are counted then, the pages may
 * not be). */
int nst_holdings_add(struct nst_holdings *h, const struct nst_cpuset *pins,
                     const struct nst_cpuset *threads,
                     const struct nst_page_counts *pages, int sign);
/* The CPUs taken for the vCPUs of a domain of the run that holds own
 * (vCPU pins) and own_threads (emulator and I/O thread pins): those
 * outside and those of every other domain of the run, vCPUs' or
 * threads'. */
void nst_holdings_taken(const struct nst_holdings *h,
                        const struct nst_cpuset *own,
                        const struct nst_cpuset *own_threads,
                        struct nst_cpuset *out);
/* The host as a domain of the run holding own_pages sees it: a copy of
 * host without the hugepages the others hold; NULL when out of memory. */
struct nst_host *nst_holdings_host(const struct nst_holdings *h,
                                   const struct nst_host *host,
                                   const struct nst_page_counts *own_pages);

/* ------------------------------------------------------------------ diff */

/*
 * Unified diff (3 lines of context) of two texts, labelled like
 * "diff -u".  Returns a new string the caller frees: "" when the texts
 * are equal, NULL when out of memory.
 */
char *nst_diff_unified(const char *a, size_t alen, const char *b, size_t blen,
                       const char *label_a, const char *label_b);

/* ------------------------------------------------------------------- map */

/*
 * A map of the host's CPUs and hugepages with the guests on them
 * (virt-nestify map, bulk --dry-run --map): the host, its housekeeping
 * CPUs and what each named domain holds, counted as the allocator
 * counts them (nst_holdings): a CPU is overcommitted where
 * nst_holdings_taken says a guest's vCPU sits on what another holds.
 * The renderers only format it: text (one block per host cell, a
 * column per core, a row per SMT thread, at most 100 columns), JSON
 * (docs/json.md, "The map document") and a self-contained SVG.
 */
struct nst_map;

/* housekeeping and outside (CPUs held by domains not on the map) may be
 * NULL; host is copied.  NULL when out of memory. */
struct nst_map *nst_map_new(const struct nst_host *host,
                            const struct nst_cpuset *housekeeping,
                            const struct nst_cpuset *outside);
/* Adds a domain: its vCPU pins, emulator and I/O thread pins, hugepages
 * (each may be NULL) and a note shown beside it (NULL: none).  -1 when
 * out of memory. */
int nst_map_add(struct nst_map *map, const char *name,
                const struct nst_cpuset *vcpus,
                const struct nst_cpuset *threads,
                const struct nst_page_counts *pages, const char *note);
/* New strings the caller frees, NULL when out of memory; color: SGR
 * escapes in the text. */
char *nst_map_format_text(const struct nst_map *map, bool color);
char *nst_map_format_json(const struct nst_map *map);
char *nst_map_format_svg(const struct nst_map *map);
void nst_map_free(struct nst_map *map);
/* The housekeeping CPUs profile gives host (NULL profile: the default,
 * nst_host_default_housekeeping), as the placement rules use them. */
void nst_profile_housekeeping(const struct nst_profile *profile,
                              const struct nst_host *host,
                              struct nst_cpuset *out);

/* ------------------------------------------------------ helpers for the tool
 *
 * Text, errors, arrays and JSON as the library writes them, exported for
 * virt-nestify so the tool builds its messages and documents the same way
 * (as libcurl exports curl_mprintf for curl).
 */

/* Returns a new formatted string the caller frees, NULL on no memory. */
char *nst_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *nst_vprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));
/* A size in KiB in the largest unit that keeps it exact ("2 MiB",
 * "1 GiB", "4 KiB"); NULL when out of memory. */
char *nst_size_text(unsigned long long kib);

/* Stores a new formatted message in *err (when err is not NULL). */
void nst_set_error(char **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Parses a whole decimal number with no sign, spaces or junk.  Returns
 * 0, or -1 when text is not such a number or exceeds max.
 */
int nst_parse_ull(const char *text, unsigned long long max,
                  unsigned long long *out);

/*
 * Makes room for need elements of size bytes in the array whose address
 * is arrayp (a T ** passed as void *) and whose allocated count is
 * *alloc, growing it by half again and at least to need, as git's
 * ALLOC_GROW does.  Returns 0, or -1 when out of memory, the array and
 * *alloc then as they were.  NST_GROW(array, need, alloc) is the call
 * with the element size filled in.
 */
int nst_grow(void *arrayp, size_t *alloc, size_t need, size_t size);
#define NST_GROW(array, need, alloc) \
    nst_grow(&(array), &(alloc), (need), sizeof(*(array)))

/* A growable string; all appends are no-ops once out of memory. */
struct nst_buf {
    char *data;
    size_t len;
    size_t cap;
    int oom;
};

void nst_buf_add(struct nst_buf *buf, const char *data, size_t len);
void nst_buf_adds(struct nst_buf *buf, const char *str);
void nst_buf_addf(struct nst_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Returns the string (caller frees) or NULL when out of memory. */
char *nst_buf_finish(struct nst_buf *buf, size_t *len);

/*
 * JSON documents are json-c objects.  The adders put val under key of obj
 * (an object) or append it to arr (an array), taking val; each sets *ok
 * to false when out of memory, counting a NULL container or a NULL val
 * as that, so a document is built straight through and checked once.
 */
struct json_object;
void nst_json_add(struct json_object *obj, const char *key,
                  struct json_object *val, bool *ok);
void nst_json_append(struct json_object *arr, struct json_object *val,
                     bool *ok);
void nst_json_add_null(struct json_object *obj, const char *key, bool *ok);
/* The string str, or null for NULL. */
void nst_json_add_string(struct json_object *obj, const char *key,
                         const char *str, bool *ok);
void nst_json_add_int(struct json_object *obj, const char *key, long long n,
                      bool *ok);
void nst_json_add_bool(struct json_object *obj, const char *key, bool b,
                       bool *ok);
/* The set in libvirt's syntax ("0-3,8"), "" when empty. */
void nst_json_add_cpuset(struct json_object *obj, const char *key,
                         const struct nst_cpuset *set, bool *ok);

/*
 * The text of val as every --output json document is written
 * (docs/json.md, "Format"), as it appears nested level deep in one (a
 * document written in pieces is then what json-c writes for the whole),
 * without a final newline; NULL when !ok or out of memory.  Takes val;
 * a NULL val is JSON's null.
 */
char *nst_json_format(struct json_object *val, unsigned int level, bool ok);
/* A whole document: nst_json_format at level 0 and a final newline. */
char *nst_json_finish(struct json_object *doc, bool ok);

/*
 * Parses text (len bytes and a NUL) as one JSON document, strictly
 * (RFC 8259: no comments, no trailing commas, nothing after it; nesting
 * bounded by json-c).  Returns it (json_object_put), or NULL with *err
 * set ("unexpected character at byte 7"); the document null is NULL
 * with *err left alone.
 */
struct json_object *nst_json_parse(const char *text, size_t len,
                                   char **err);

#endif /* NESTIFY_H */

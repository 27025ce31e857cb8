/*
 * host-doctor.h: what the host doctor (cmd-host.c) and "host --enable"
 * (host-enable.c) share.  Neither links libvirt.
 *
 * Every host file is read under a root directory ("/" normally, --root
 * in tests); messages name the path as the host sees it (without root).
 */
#ifndef NESTIFY_DOCTOR_H
#define NESTIFY_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "cpuinfo.h"
#include "tool.h"

/*
 * "virt-nestify host": what the libvirt check of the host doctor found.
 * The doctor (cli/cmd-host.c) links no libvirt: it calls the check through
 * a vn_doctor_libvirt_fn that virt-nestify-live passes in (virt-nestify
 * hands "host -c" over to it before parsing).
 */
struct vn_doctor_libvirt {
    bool passthrough;            /* host-passthrough supported='yes' */
    char *virttype;              /* domcaps <domain> ("kvm"); free() */
    char *emulator;              /* domcaps <path>; free() */
};
typedef int vn_doctor_libvirt_fn(const char *uri,
                                 struct vn_doctor_libvirt *out, char **err);

/*
 * cli/host-libvirt.c (links libvirt): opens uri and reads its default
 * domain capabilities.  Returns 0 with *out filled (strings for the
 * caller to free), or -1 with *err set; the connection is closed.
 */
int vn_doctor_libvirt_check(const char *uri, struct vn_doctor_libvirt *out,
                            char **err);

/*
 * "host --isolate" and the doctor's pinning check on a connection
 * (cli/host-libvirt.c, links libvirt): the host's CPUs (its
 * capabilities) into *host_cpus and the CPUs the vCPUs of every domain
 * pin (definition and, when running, live XML) into *pinned.  Returns
 * 0, or -1 with *err set; the connection is closed.
 */
typedef int vn_host_pins_fn(const char *uri, struct nst_cpuset *host_cpus,
                            struct nst_cpuset *pinned, char **err);
int vn_host_pins(const char *uri, struct nst_cpuset *host_cpus,
                 struct nst_cpuset *pinned, char **err);

/*
 * The host command (cli/cmd-host.c): the doctor, --enable or --isolate.
 * libvirt_check runs the -c check and pins reads the guests' pins; NULL
 * makes -c a usage error.  Returns the exit status.
 */
int vn_host_main(int argc, char **argv, vn_doctor_libvirt_fn *libvirt_check,
                 vn_host_pins_fn *pins);

struct vn_host_opts {
    const char *root;            /* "/" unless --root */
    enum vn_output output;
    const char *connect;         /* -c: the libvirt check */
    bool enable;
    bool reload;
    bool persist;
    bool dry_run;
    const char *hugepages;       /* N[,SIZE] as given */
    const char *node;            /* --node N as given */
    bool isolate;
    struct nst_cpuset taken;     /* --taken: CPUs guests own */
    bool has_taken;
    const char *host_caps;       /* --host-caps: the host's CPUs */
};

/*
 * Whether KVM runs a guest, asked of the kernel the way QEMU starts one
 * with -cpu host (cli/host-kvm.c): a VM and a vCPU with -cpu host's
 * CPUID, the feature MSRs KVM reports set on the vCPU as QEMU sets them,
 * a few real-mode instructions run to hlt.  No QEMU is started.
 */
enum vn_kvm_step {
    VN_KVM_STEP_VERSION,         /* KVM_GET_API_VERSION says 12 */
    VN_KVM_STEP_VM,              /* KVM_CREATE_VM */
    VN_KVM_STEP_MEMORY,          /* a page of guest memory */
    VN_KVM_STEP_VCPU,            /* KVM_CREATE_VCPU and its kvm_run */
    VN_KVM_STEP_CPUID,           /* KVM_SET_CPUID2 with the supported CPUID */
    VN_KVM_STEP_RUN,             /* the code ran to hlt */
    VN_KVM_STEP_NONE             /* nothing failed */
};
struct vn_kvm_msr {
    unsigned int index;
    unsigned long long value;
};
struct vn_kvm_trial {
    enum vn_kvm_step failed;     /* the first step that failed */
    char *why;                   /* how it failed, a phrase; free() */
    size_t nfeature_msrs;        /* feature MSRs set (tried) on the vCPU */
    struct vn_kvm_msr *refused;  /* those the vCPU refused, as reported */
    size_t nrefused;
    size_t refused_alloc;        /* for NST_GROW */
};
/* Tries kvm (an open /dev/kvm) and fills *t; vn_kvm_trial_clear frees. */
void vn_kvm_try(int kvm, struct vn_kvm_trial *t);
void vn_kvm_trial_clear(struct vn_kvm_trial *t);
/* "KVM_CREATE_VM", ...: the ioctl a step is known by. */
const char *vn_kvm_step_name(enum vn_kvm_step step);
/*
 * The doctor's verdict on a trial: true when a guest can run; else
 * *detail says what failed and *fix what to do (in_vm: this host is
 * itself a guest).  *detail is set either way; new strings, free().
 */
bool vn_kvm_verdict(const struct vn_kvm_trial *t, bool in_vm, char **detail,
                    char **fix);

/* root joined with path (which starts with '/'); a new string, free(). */
char *vn_root_path(const char *root, const char *path);
/* Whether root has path (any kind of file). */
bool vn_root_exists(const char *root, const char *path);

/* Reads root's /proc/cpuinfo.  Returns 0, or -1 with *err set. */
int vn_cpuinfo_read(const char *root, struct vn_cpuinfo *out, char **err);

/* "kvm_intel", "kvm_amd", or NULL for an unknown vendor. */
const char *vn_kvm_module(enum vn_cpu_vendor vendor);

/*
 * The nested setting module gets when modprobe loads it on root, as kmod
 * reads its configuration: the *.conf (and *.alias) files of
 * /etc/modprobe.d, /run/modprobe.d, /usr/local/lib/modprobe.d,
 * /usr/lib/modprobe.d and /lib/modprobe.d in name order (a name in an
 * earlier directory hides it in the later ones), later options winning,
 * then MODULE.nested on the kernel command line (/proc/cmdline), which
 * wins over every file.  When extra_name is not NULL, /etc/modprobe.d's
 * file of that name holds extra_text instead of what is on disk (to see
 * what a file about to be written does).
 */
/* The file "host --enable" writes in /etc/modprobe.d. */
#define VN_MODPROBE_CONF "virt-nestify-kvm.conf"

struct vn_modprobe_nested {
    int value;                   /* -1 unset, 0 off, 1 on */
    char *file;                  /* host path of the deciding file, or "the
                                    kernel command line"; free() */
    unsigned int line;           /* its line; 0 for the command line */
    char *where;                 /* "FILE line N" or "the kernel command
                                    line (WORD)", for messages; free() */
};
int vn_modprobe_nested(const char *root, const char *module,
                       const char *extra_name, const char *extra_text,
                       struct vn_modprobe_nested *out, char **err);
/* A kernel bool parameter ("Y", "0", "on"...): 1 on, 0 off, -1 not a
 * bool. */
int vn_kernel_bool(const char *v, size_t len);

/*
 * The hugepage sizes (in KiB) of the directory dir (host path) under
 * root: its hugepages-<N>kB entries, ascending.  Returns the count
 * (*sizes a new array, free()), or -1 with *err set when dir cannot be
 * read; a missing dir has none.
 */
int vn_hugepage_sizes(const char *root, const char *dir,
                      unsigned long long **sizes, char **err);

/*
 * Reads a small file (a sysfs value) under root, whitespace trimmed at
 * the end.  Returns a new string, or NULL with *err set.
 */
char *vn_root_read_value(const char *root, const char *path, char **err);

/* ------------------------------------------------- files (host-conf.c) */

/* A configuration file a host plan writes. */
struct vn_conf_file {
    char *host;                  /* the path as the host sees it */
    const char *dir;             /* its directory, as the host sees it */
    const char *name;            /* its name in dir */
    char *text;                  /* the new content */
    char *old;                   /* the present content, or NULL */
    size_t old_len;
    bool write;                  /* false: already so */
};

/* What each does, and why so carefully, is said at its definition. */
/* f becomes dir/name with the new content text (taken, may be NULL):
 * 0, or -1 out of memory; vn_conf_file_clear() frees it either way. */
int vn_conf_file_init(struct vn_conf_file *f, const char *dir,
                      const char *name, char *text);
void vn_conf_file_clear(struct vn_conf_file *f);
int vn_host_open_dir(const char *root, const char *dir, bool create,
                     char **err);
int vn_conf_file_prepare(const char *root, struct vn_conf_file *f,
                         char **err);
int vn_host_check_knob(const char *root, const char *dir, const char *name,
                       const char *host, char **err);
/*
 * What "host --enable" and "--isolate" did (or, with --dry-run, would
 * do), for --output json (docs/json.md, the host enable/isolate
 * document): the files, the commands, what is left to the operator, and
 * whether anything changed.  In text mode only the "next:" lines print
 * through it; the rest is the callers' text.  changed is kept in both.
 */
struct vn_host_result {
    bool json;
    bool dry_run;
    bool changed;                /* a file written, a command run (or would be) */
    bool ok;                     /* false: out of memory */
    struct json_object *doc;     /* the command's own keys go here */
    struct json_object *files, *commands, *next;
};
void vn_host_result_init(struct vn_host_result *r,
                         const struct vn_host_opts *o, const char *action);
/* what: "written", "unchanged" or "would-write"; backup may be NULL. */
void vn_host_result_file(struct vn_host_result *r, const char *path,
                         const char *what, const char *backup);
/* f as planned: unchanged, or would-write / written (no backup known). */
void vn_host_result_conf(struct vn_host_result *r,
                         const struct vn_conf_file *f);
/* A command run (status its exit status) or that would run (-1). */
void vn_host_result_command(struct vn_host_result *r, char *const argv[],
                            int status);
/* Text: "next: ...\n"; JSON: a string of "next". */
void vn_host_result_next(struct vn_host_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* JSON: prints the document.  Returns 0, or -1 having reported. */
int vn_host_result_finish(struct vn_host_result *r);
void vn_host_result_clear(struct vn_host_result *r);

int vn_conf_file_write(const char *root, struct vn_conf_file *f,
                       struct vn_host_result *r);

/* "host --enable": the options are checked by the caller. */
int vn_host_enable(const struct vn_host_opts *o);

/* ------------------------------------- host --isolate (host-isolate.c) */

/* "host --isolate": the options are checked by the caller; pins reads
 * the guests' pins with -c. */
int vn_host_isolate(const struct vn_host_opts *o, vn_host_pins_fn *pins);

/*
 * Whether the host side of pinning is in place on root for the CPUs
 * pinned (the doctor's check; a realtime guest's host wants it too):
 * each pinned CPU must be outside the AllowedCPUs= systemd gives
 * system.slice, user.slice and init.scope (their drop-ins, read as
 * systemd does), and, when irqbalance is installed, on its banned list
 * (/etc/default/irqbalance).  Fills *missing with the pinned CPUs that
 * are not kept free and, when some are, *why with the parts that let
 * the host's work on them ("system.slice, irqbalance"; free()).
 * Returns 0, or -1 with *err set when a file cannot be read.
 */
int vn_isolation_missing(const char *root, const struct nst_cpuset *pinned,
                         struct nst_cpuset *missing, char **why, char **err);

/*
 * The CPUs the host below root keeps its own work off (the complement
 * of what vn_isolation_missing finds over every CPU id), for the
 * realtime rule's check (nst_apply_options.isolated).  Returns 0, or -1
 * with *err set when a file cannot be read.
 */
int vn_isolated_cpus(const char *root, struct nst_cpuset *isolated,
                     char **err);

/*
 * text (a shell-style KEY=VALUE file such as /etc/default/irqbalance,
 * or NULL for none) with every active KEY= line set to KEY=value and
 * every active line of each key in retire (NULL-terminated, may be
 * NULL) commented out; when no line sets KEY, "KEY=value" is appended
 * after the comment line note.  Other lines are kept as they are.
 * Returns a new string (free()), NULL when out of memory.
 */
char *vn_conf_assign(const char *text, const char *key, const char *value,
                     const char *const *retire, const char *note);

#endif /* NESTIFY_DOCTOR_H */

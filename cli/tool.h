/*
 * tool.h: what every command of the virt-nestify tool (cli/) shares:
 * exit codes, messages, files, profile sources, the host model, and the
 * commands' entry points.  Each command has its own header for the rest
 * (apply.h, verify.h, lint.h, doctor.h).  Everything with I/O lives in
 * cli/, never in lib/.
 */
#ifndef NESTIFY_TOOL_H
#define NESTIFY_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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
 * Every file the tool reads goes through here.  Opens path (relative to
 * dirfd, AT_FDCWD for none) for reading without ever waiting (a FIFO or
 * a device is opened non-blocking) and refuses anything but a regular
 * file: "LABEL: not a regular file (a FIFO)", errno EINVAL.  flags adds
 * to the open: with O_NOFOLLOW a symbolic link at the name is refused,
 * "LABEL: a symbolic link, not followed", errno ELOOP.  Returns the
 * descriptor with *st filled, or -1 with *err set and errno kept.
 */
struct stat;
int vn_open_regular(int dirfd, const char *path, const char *label,
                    int flags, struct stat *st, char **err);

/* Reads fd to its end, at most 64 MiB ("LABEL: larger than 64 MiB").
 * Returns a new NUL-terminated buffer, or NULL with *err set. */
/* Whether uri names a driver on this machine: no host after "//"
 * ("qemu:///system", "qemu+unix:///session", "qemu:///embed?root=D"). */
bool vn_uri_is_local(const char *uri);

char *vn_read_fd(int fd, const char *label, size_t *len, char **err);

/*
 * Reads a whole regular file (vn_open_regular; "-" is stdin, which may
 * be anything), at most 64 MiB.  Returns a new NUL-terminated buffer
 * the caller frees, or NULL with *err set ("PATH: why").
 */
char *vn_read_file(const char *path, size_t *len, char **err);

/*
 * Durable files, the one way the tool writes a file another run or a
 * crash may see: data goes to a new temporary file beside its final name
 * (name.XXXXXX in dirfd, O_EXCL, never through a link), which gets mode
 * and is synced (vn_temp_write_at: 0 with *tmp its name, -1 when it
 * cannot be created, -2 when it cannot be written, removed then; errno
 * says why); then it is renamed into place, replacing what is there or,
 * without replace, never (EEXIST), and the directory is synced so the new
 * name survives a crash too (vn_temp_commit_at: 0, -1 when the rename
 * failed and tmp is left, -2 when the directory could not be synced
 * after it).
 */
int vn_write_all(int fd, const char *data, size_t len);
/* "YYYYmmddTHHMMSS.NNNNNNNNNZ" of ts, in UTC, into buf: the time in the
 * names of backups, which sorts as it happened.  Returns 0, or -1. */
#define VN_STAMP_LEN 26
struct timespec;
int vn_format_stamp(const struct timespec *ts, char buf[VN_STAMP_LEN + 1]);
/* Makes the names in directory path (below dirfd) durable: 0, or -1. */
int vn_sync_dir_at(int dirfd, const char *path);
int vn_temp_write_at(int dirfd, const char *stem, mode_t mode,
                     const char *data, size_t len, char **tmp);
int vn_temp_commit_at(int dirfd, const char *tmp, const char *name,
                      bool replace);

/*
 * Replaces path with data atomically (--in-place): a temporary file in
 * the same directory, fsynced, given the permissions of the file path
 * names, renamed over path.  A symbolic link at path is replaced by the
 * new file (as sed -i does), never written through.  Returns 0, or -1
 * with *err set and path untouched.
 */
int vn_write_file_atomic(const char *path, const char *data, size_t len,
                         char **err);

/*
 * For the files the tool writes on its own (host configuration): writes
 * data as name in the directory dirfd atomically, as above.  A symbolic
 * link or anything but a regular file at name is refused (*err "LABEL:
 * a symbolic link, not followed"); an existing file keeps its
 * permission bits, a new one gets mode.  Returns 0, or -1 with *err set
 * and name untouched.
 */
int vn_create_file_at(int dirfd, const char *name, const char *label,
                      const char *data, size_t len, unsigned int mode,
                      char **err);

/*
 * Opens the directory path below the directory rootfd without following
 * any symbolic link and without leaving rootfd (openat2 with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS; where the kernel lacks it,
 * vn_open_dir_beneath_walk).  A leading '/' is ignored.  Returns an
 * O_PATH descriptor, or -1 with errno: ELOOP for a link on the way,
 * EXDEV for a ".." that would leave rootfd (the walk refuses any ".."),
 * ENOENT, ENOTDIR...
 */
int vn_open_dir_beneath(int rootfd, const char *path);
/* The same by opening each component with O_NOFOLLOW (public for the
 * tests: the running kernel has openat2). */
int vn_open_dir_beneath_walk(int rootfd, const char *path);

/* qsort's comparison of char * elements, by strcmp. */
int vn_compare_strings(const void *a, const void *b);

/* Appends item to the array *list of *n, *alloc allocated (a repeated
 * option); -1, said with vn_error, when out of memory. */
int vn_push(char ***list, size_t *n, size_t *alloc, char *item);

/*
 * --taken CPULIST of apply, lint and verify, when the option is parsed:
 * fills *set and sets *given, or says "--taken: why" (vn_error) and
 * returns -1.  A live run then never connects with a bad list.
 */
int vn_parse_taken(const char *text, struct nst_cpuset *set, bool *given);

/*
 * A copy of the domain document xml for review output (diffs) with
 * every secret libvirt hides without VIR_DOMAIN_XML_SECURE shown as ***
 * (nst_doc_masked: from the parsed document, not the text's spelling).
 * Returns a new string, or NULL with *err set ("label: why") when xml
 * does not parse as a domain or memory runs out: print nothing then.
 */
char *vn_mask_secrets(const char *xml, size_t len, const char *label,
                      char **err);

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
    size_t alloc;          /* items allocated, for NST_GROW */
    char **owned;          /* strings to free */
    size_t nowned;
    size_t owned_alloc;
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
/* --output text|json of every command: sets *out, or says what is wrong
 * (vn_error) and returns -1. */
int vn_parse_output(const char *arg, enum vn_output *out);

/*
 * What only virt-nestify-live can do: the parts of commands that need
 * libvirt, which its main.c hands to the commands (vn_connected, in
 * run-connected.c).  virt-nestify, which does not link libvirt, passes
 * NULL: its main.c execs virt-nestify-live before any command runs that
 * would need them (docs/design.md, "Two programs").
 */
struct vn_apply_opts;
struct vn_lint_opts;
struct vn_lint_results;
struct vn_doctor_libvirt;
struct vn_map_opts;
struct vn_connected {
    /* apply --domain, bulk runs and fleets (run-connected.c) */
    int (*apply)(const struct vn_apply_opts *o,
                 const struct nst_profile *profile);
    /* lint --domain, --all (cmd-lint-live.c) */
    int (*lint)(const struct vn_lint_opts *o, struct vn_lint_results *out,
                char **err);
    /* host -c (host-libvirt.c) */
    int (*host_libvirt)(const char *uri, struct vn_doctor_libvirt *out,
                        char **err);
    /* host --isolate -c, and the doctor's pinning check (host-libvirt.c) */
    int (*host_pins)(const char *uri, struct nst_cpuset *host_cpus,
                     struct nst_cpuset *pinned, char **err);
    /* offline cpu-mode=baseline: libvirt's baseline of the --host-caps
     * files (vn_baseline_files, baseline.c) */
    int (*baseline_files)(char *const *files, size_t n,
                          char *const *domcaps, size_t ndomcaps,
                          const char *cpu_map, char **out, char **err);
    /* map -c (cmd-map-live.c) */
    int (*map)(const struct vn_map_opts *o, const struct nst_profile *profile,
               struct nst_map **out, char **err);
    /* the commands that always need a connection */
    int (*rollback)(int argc, char **argv);
    int (*verify)(int argc, char **argv);
};
extern const struct vn_connected vn_connected;
/* virt-nestify only (handoff.c): execs virt-nestify-live with argv, main()'s
 * own; returns VN_EXIT_SYSTEM (said) when it cannot. */
int vn_handoff(char **argv);
/* What a command of virt-nestify returns when, its options read, it
 * finds it needs virt-nestify-live after all (an offline
 * cpu-mode=baseline, which libvirt's baseline API computes): main.c
 * hands the run over.  Nothing was printed or written. */
#define VN_EXIT_HANDOFF (-2)
/* Where a command meets a connected run without a vn_connected (never,
 * when main.c did its part): says so in *err (or on stderr when err is
 * NULL) and returns VN_EXIT_SYSTEM. */
int vn_not_connected(char **err);

/* Commands: argv[0] is the command name; live is NULL in virt-nestify. */
int vn_cmd_apply(int argc, char **argv, const struct vn_connected *live);
int vn_cmd_profiles(int argc, char **argv);
int vn_cmd_rollback(int argc, char **argv);
int vn_cmd_verify(int argc, char **argv);
int vn_cmd_lint(int argc, char **argv, const struct vn_connected *live);
int vn_cmd_map(int argc, char **argv, const struct vn_connected *live);

#endif /* NESTIFY_TOOL_H */

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
    VN_EXIT_INPUT = 2,     /* usage, bad input, or a refused profile */
    VN_EXIT_SYSTEM = 3,    /* libvirt or system failure */
    VN_EXIT_PARTIAL = 4,   /* bulk run: some domains failed */
};

/* "virt-nestify: error: ..." on stderr, one line. */
void vn_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vn_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

/* Commands: argv[0] is the command name. */
int vn_cmd_apply(int argc, char **argv);
int vn_cmd_profiles(int argc, char **argv);

#endif /* NESTIFY_TOOL_H */

/*
 * host-conf.c: the files "virt-nestify host" writes below --root
 *
 * Configuration files (modprobe.d, sysctl.d, and what later host
 * commands write) are read and checked when the plan is made and
 * written when it is carried out: never through a symbolic link (nor,
 * below --root, one on the way), atomically and durably
 * (vn_temp_write_at/vn_temp_commit_at), the previous content kept in
 * NAME.TIME.bak beside it.  Kernel knobs in sysfs are written in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json.h>

#include "host-doctor.h"
#include "nestify.h"

int
vn_conf_file_init(struct vn_conf_file *f, const char *dir, const char *name,
                  char *text)
{
    f->host = nst_printf("%s/%s", dir, name);
    f->dir = dir;
    f->name = name;
    f->text = text;
    return f->host && f->text ? 0 : -1;
}

void
vn_conf_file_clear(struct vn_conf_file *f)
{
    free(f->host);
    free(f->text);
    free(f->old);
}

/* The directory of host path file under root must be writable (or not
 * exist in a writable parent).  Returns 0, or -1 with *err set. */
static int
check_writable(const char *root, const char *host_dir, char **err)
{
    char *dir = vn_root_path(root, host_dir);
    int ret = 0;

    if (!dir) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    if (access(dir, W_OK) < 0) {
        if (errno == ENOENT) {
            char *slash = strrchr(dir, '/');
            *slash = '\0';
            if (access(*dir ? dir : "/", W_OK) < 0) {
                nst_set_error(err, "cannot create %s: %s", host_dir,
                              strerror(errno));
                ret = -1;
            }
        } else {
            nst_set_error(err, "cannot write in %s: %s", host_dir,
                          strerror(errno));
            ret = -1;
        }
    }
    free(dir);
    return ret;
}

/*
 * Opens the host directory dir under root for the files --enable
 * writes there.  Under --root (an image or chroot someone else may
 * control) no symbolic link below the root is followed: a link at
 * root/etc pointing outside would have root write anywhere.  On the
 * host itself ("/") the directories are root's own and are followed;
 * only the file's own name never is (vn_create_file_at, O_NOFOLLOW).
 * With create, a missing dir is made (0755) in its existing parent.
 * Returns an O_PATH descriptor, or -1 with *err set (not for ENOENT
 * without create) and errno kept.
 */
int
vn_host_open_dir(const char *root, const char *dir, bool create, char **err)
{
    int fd = -1, saved;

    if (strcmp(root, "/") == 0) {
        fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    } else {
        int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        fd = rootfd < 0 ? -1 : vn_open_dir_beneath(rootfd, dir);
        saved = errno;
        if (rootfd >= 0)
            close(rootfd);
        errno = saved;
    }
    if (fd < 0 && errno == ENOENT && create) {
        const char *slash = strrchr(dir, '/');
        char *parent = nst_printf("%.*s", slash > dir ? (int)(slash - dir) :
                                  1, dir);
        int pfd = parent ? vn_host_open_dir(root, parent, false, err) : -1;
        saved = errno;
        free(parent);
        if (pfd < 0) {
            /* A missing parent is not made: /etc is the system's. */
            if (!*err)
                nst_set_error(err, "cannot create %s: %s", dir,
                              strerror(saved));
            errno = saved;
            return -1;
        }
        if (mkdirat(pfd, slash + 1, 0755) < 0 && errno != EEXIST) {
            saved = errno;
            nst_set_error(err, "cannot create %s: %s", dir, strerror(saved));
            close(pfd);
            errno = saved;
            return -1;
        }
        close(pfd);
        return vn_host_open_dir(root, dir, false, err);
    }
    if (fd < 0 && (errno != ENOENT || create)) {
        saved = errno;
        if (saved == ELOOP)
            nst_set_error(err, "%s: a symbolic link on its way below the "
                          "root '%s', not followed", dir, root);
        else
            nst_set_error(err, "%s: %s", dir, strerror(saved));
        errno = saved;
    }
    return fd;
}

/* The exit status for a file refused by vn_host_open_dir or
 * vn_open_regular: one that is not what it must be is bad input. */
static int
refusal_status(int error)
{
    return error == ELOOP || error == ENOTDIR || error == EINVAL ||
           error == EXDEV ? VN_EXIT_INPUT : VN_EXIT_SYSTEM;
}

/*
 * Reads the present content of f (none is fine) and decides whether it
 * must be written; a symbolic link, at its name or (under --root) on
 * its way, or a file that is not regular is refused.  Returns
 * VN_EXIT_OK, or another exit status with *err set.
 */
int
vn_conf_file_prepare(const char *root, struct vn_conf_file *f, char **err)
{
    struct stat st;
    int dfd = vn_host_open_dir(root, f->dir, false, err), fd = -1;

    if (dfd >= 0)
        fd = vn_open_regular(dfd, f->name, f->host, O_NOFOLLOW, &st, err);
    int saved = errno;
    if (dfd >= 0)
        close(dfd);
    if (fd < 0 && saved == ENOENT) {
        free(*err);
        *err = NULL;
        f->write = true;
        return check_writable(root, f->dir, err) < 0 ? VN_EXIT_SYSTEM :
               VN_EXIT_OK;
    }
    if (fd < 0)
        return refusal_status(saved);
    f->old = vn_read_fd(fd, f->host, &f->old_len, err);
    close(fd);
    if (!f->old)
        return VN_EXIT_SYSTEM;
    f->write = strcmp(f->old, f->text) != 0;
    return f->write && check_writable(root, f->dir, err) < 0 ?
           VN_EXIT_SYSTEM : VN_EXIT_OK;
}

/*
 * The plan's check of the kernel knob dir/name (a sysfs file, host path
 * host) that --enable writes in place: it must be a regular file, not a
 * symbolic link (nor one on its way below --root), and writable; a FIFO
 * would stop the run, a link would have it write elsewhere.  Returns
 * VN_EXIT_OK, or another exit status with *err set.
 */
int
vn_host_check_knob(const char *root, const char *dir, const char *name,
           const char *host, char **err)
{
    struct stat st;
    int dfd = vn_host_open_dir(root, dir, false, err), fd = -1;

    if (dfd >= 0)
        fd = vn_open_regular(dfd, name, host, O_NOFOLLOW, &st, err);
    int saved = errno;
    if (fd >= 0) {
        close(fd);
        if (faccessat(dfd, name, W_OK, 0) < 0)
            fd = -1, saved = errno;
    }
    if (dfd >= 0)
        close(dfd);
    if (fd >= 0)
        return VN_EXIT_OK;
    if (!*err)
        nst_set_error(err, "cannot write %s: %s", host, strerror(saved));
    return refusal_status(saved);
}

/* Copies f's present content to NAME.TIME.bak in dfd (never over a
 * file, never through a link).  Returns the backup's host path (free())
 * or NULL with *err set. */
static char *
backup(int dfd, const struct vn_conf_file *f, char **err)
{
    struct timespec ts;
    char stamp[VN_STAMP_LEN + 1] = "";
    struct stat st;

    clock_gettime(CLOCK_REALTIME, &ts);
    vn_format_stamp(&ts, stamp);
    char *name = nst_printf("%s.%s.bak", f->name, stamp);
    char *host = nst_printf("%s.%s.bak", f->host, stamp);
    mode_t mode = fstatat(dfd, f->name, &st, AT_SYMLINK_NOFOLLOW) == 0 ?
                  st.st_mode & 0777 : 0644;
    char *tmp = NULL;
    bool oom = !name || !host;
    int ret = oom ? -1 : vn_temp_write_at(dfd, name, mode, f->old,
                                          f->old_len, &tmp);

    /* Never over a file: the name has the time to the nanosecond. */
    if (ret == 0 && (ret = vn_temp_commit_at(dfd, tmp, name, false)) == -1)
        unlinkat(dfd, tmp, 0);
    free(tmp);
    free(name);
    if (ret < 0) {
        nst_set_error(err, "cannot back %s up: %s", f->host,
                      oom ? "out of memory" : strerror(errno));
        free(host);
        return NULL;
    }
    return host;
}

/* Writes f (backing up what it replaces); reports (r: text, or the
 * document's "files"), returns 0 or -1. */
int
vn_conf_file_write(const char *root, struct vn_conf_file *f,
                   struct vn_host_result *r)
{
    char *err = NULL, *saved = NULL;
    int dfd = vn_host_open_dir(root, f->dir, true, &err);

    if (dfd < 0 || (f->old && !(saved = backup(dfd, f, &err))) ||
        vn_create_file_at(dfd, f->name, f->host, f->text, strlen(f->text),
                          0644, &err) < 0) {
        vn_error("%s", err ? err : "out of memory");
        free(err);
        free(saved);
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    close(dfd);
    if (r->json) {
        vn_host_result_file(r, f->host, "written", saved);
    } else {
        printf("wrote %s\n", f->host);
        if (saved)
            printf("  the previous content is in %s\n", saved);
    }
    free(saved);
    return 0;
}

/* ---------------------------------------- the document of -o json */

void
vn_host_result_init(struct vn_host_result *r, const struct vn_host_opts *o,
                    const char *action)
{
    memset(r, 0, sizeof(*r));
    r->json = o->output == VN_OUTPUT_JSON;
    r->dry_run = o->dry_run;
    r->ok = true;
    if (!r->json)
        return;
    r->doc = json_object_new_object();
    r->files = json_object_new_array();
    r->commands = json_object_new_array();
    r->next = json_object_new_array();
    r->ok = r->doc && r->files && r->commands && r->next;
    nst_json_add_string(r->doc, "action", action, &r->ok);
    nst_json_add_bool(r->doc, "dry_run", o->dry_run, &r->ok);
    /* Set for real by vn_host_result_finish; added here to come first. */
    nst_json_add_bool(r->doc, "changed", false, &r->ok);
}

void
vn_host_result_file(struct vn_host_result *r, const char *path,
                    const char *what, const char *backup)
{
    if (strcmp(what, "unchanged") != 0)
        r->changed = true;
    if (!r->json)
        return;
    struct json_object *file = json_object_new_object();
    nst_json_add_string(file, "path", path, &r->ok);
    nst_json_add_string(file, "what", what, &r->ok);
    nst_json_add_string(file, "backup", backup, &r->ok);
    nst_json_append(r->files, file, &r->ok);
}

void
vn_host_result_conf(struct vn_host_result *r, const struct vn_conf_file *f)
{
    vn_host_result_file(r, f->host, !f->write ? "unchanged" :
                        r->dry_run ? "would-write" : "written", NULL);
}

void
vn_host_result_command(struct vn_host_result *r, char *const argv[],
                       int status)
{
    r->changed = true;
    if (!r->json)
        return;
    struct json_object *cmd = json_object_new_object();
    struct json_object *args = json_object_new_array();
    for (size_t i = 0; argv[i]; i++)
        nst_json_append(args, json_object_new_string(argv[i]), &r->ok);
    nst_json_add(cmd, "argv", args, &r->ok);
    if (status < 0)
        nst_json_add_null(cmd, "status", &r->ok);
    else
        nst_json_add_int(cmd, "status", status, &r->ok);
    nst_json_append(r->commands, cmd, &r->ok);
}

void
vn_host_result_next(struct vn_host_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = nst_vprintf(fmt, ap);
    va_end(ap);
    if (!r->json)
        printf("next: %s\n", text ? text : "?");
    else if (!text)
        r->ok = false;
    else
        nst_json_append(r->next, json_object_new_string(text), &r->ok);
    free(text);
}

int
vn_host_result_finish(struct vn_host_result *r)
{
    if (!r->json)
        return fflush(stdout) == 0 ? 0 : -1;
    nst_json_add_bool(r->doc, "changed", r->changed, &r->ok);
    nst_json_add(r->doc, "files", r->files, &r->ok);
    nst_json_add(r->doc, "commands", r->commands, &r->ok);
    nst_json_add(r->doc, "next", r->next, &r->ok);
    r->files = r->commands = r->next = NULL;
    char *text = nst_json_finish(r->doc, r->ok);
    r->doc = NULL;
    int ret = 0;
    if (!text) {
        vn_error("out of memory");
        ret = -1;
    } else if (vn_write_stdout(text, strlen(text)) < 0) {
        vn_error("cannot write to stdout: %s", strerror(errno));
        ret = -1;
    }
    free(text);
    return ret;
}

void
vn_host_result_clear(struct vn_host_result *r)
{
    json_object_put(r->doc);
    json_object_put(r->files);
    json_object_put(r->commands);
    json_object_put(r->next);
    memset(r, 0, sizeof(*r));
}

/*
 * tool-util.c: messages and files for the tool
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "nestify.h"
#include "tool.h"

#define READ_LIMIT (64u << 20)

/* Names the host in every message of a fleet's per-host process. */
static const char *message_context;

void
vn_set_message_context(const char *context)
{
    message_context = context;
}

/* Every message is one line: libvirt's (a schema validation error lists
 * its findings line by line) and quoted input may hold newlines; a run of
 * them becomes "; ", trailing ones go.  Returns a new string or NULL. */
static char *
one_line(const char *text)
{
    char *out = malloc(2 * strlen(text) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *in = text; *in; in++) {
        if (*in != '\n' && *in != '\r') {
            *o++ = *in;
            continue;
        }
        while (in[1] == '\n' || in[1] == '\r')
            in++;
        if (in[1] && o > out) {
            *o++ = ';';
            *o++ = ' ';
        }
    }
    *o = '\0';
    return out;
}

static void
message(const char *kind, const char *fmt, va_list ap)
{
    char *text = nst_vprintf(fmt, ap);
    char *line = text ? one_line(text) : NULL;
    fprintf(stderr, "virt-nestify: %s: %s%s%s\n", kind,
            message_context ? message_context : "",
            message_context ? ": " : "", line ? line : fmt);
    free(line);
    free(text);
}

void
vn_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message("error", fmt, ap);
    va_end(ap);
}

void
vn_warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message("warning", fmt, ap);
    va_end(ap);
}

/* What st is, for a refusal: "a FIFO", "a directory", ... */
static const char *
file_kind(const struct stat *st)
{
    switch (st->st_mode & S_IFMT) {
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
    default: return "not a regular file";
    }
}

int
vn_open_regular(int dirfd, const char *path, const char *label, int flags,
                struct stat *st, char **err)
{
    /* O_NONBLOCK: opening a FIFO without a writer (or a tty, a device)
     * must not wait; it means nothing for the regular file that is
     * all this accepts.  O_NOCTTY: never become a terminal's owner. */
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
                    O_NOCTTY | flags);
    struct stat lst;

    if (fd < 0) {
        int saved = errno;
        /* With O_NOFOLLOW, ELOOP is a link at the name (or a loop). */
        if (saved == ELOOP && (flags & O_NOFOLLOW) &&
            fstatat(dirfd, path, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(lst.st_mode))
            nst_set_error(err, "%s: a symbolic link, not followed", label);
        else
            nst_set_error(err, "%s: %s", label, strerror(saved));
        errno = saved;
        return -1;
    }
    if (fstat(fd, st) < 0) {
        int saved = errno;
        nst_set_error(err, "%s: %s", label, strerror(saved));
        close(fd);
        errno = saved;
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        nst_set_error(err, "%s: not a regular file (%s)", label,
                      file_kind(st));
        close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

bool
vn_uri_is_local(const char *uri)
{
    const char *sep = strstr(uri, "://");
    return sep && sep[3] == '/';
}

char *
vn_read_fd(int fd, const char *label, size_t *len, char **err)
{
    struct nst_buf buf = { 0 };
    char chunk[65536];
    ssize_t n;

    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            nst_set_error(err, "%s: %s", label, strerror(saved));
            free(nst_buf_finish(&buf, NULL));
            errno = saved;
            return NULL;
        }
        nst_buf_add(&buf, chunk, (size_t)n);
        if (buf.len > READ_LIMIT) {
            nst_set_error(err, "%s: larger than 64 MiB", label);
            free(nst_buf_finish(&buf, NULL));
            errno = EFBIG;
            return NULL;
        }
    }
    char *data = nst_buf_finish(&buf, len);
    if (!data) {
        nst_set_error(err, "%s: out of memory", label);
        errno = ENOMEM;
    }
    return data;
}

char *
vn_read_file(const char *path, size_t *len, char **err)
{
    struct stat st;
    int fd;

    /* Standard input is whatever the caller made it, a pipe too. */
    if (strcmp(path, "-") == 0)
        return vn_read_fd(STDIN_FILENO, "stdin", len, err);
    if ((fd = vn_open_regular(AT_FDCWD, path, path, 0, &st, err)) < 0)
        return NULL;
    char *data = vn_read_fd(fd, path, len, err);
    int saved = errno;
    close(fd);
    errno = saved;
    return data;
}

/* The fallback of vn_open_dir_beneath: one component at a time, each
 * opened without following it and checked to be a directory. */
int
vn_open_dir_beneath_walk(int rootfd, const char *path)
{
    int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

    for (const char *p = path; cur >= 0 && *p;) {
        size_t n = strcspn(p, "/");
        char name[NAME_MAX + 1];
        int next, saved;
        struct stat st;

        if (n > NAME_MAX) {
            errno = ENAMETOOLONG;
            goto fail;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        p += n;
        p += strspn(p, "/");
        if (n == 0 || strcmp(name, ".") == 0)
            continue;
        /* Nothing the tool writes is named with "..": never climb. */
        if (strcmp(name, "..") == 0) {
            errno = EXDEV;
            goto fail;
        }
        /* O_PATH|O_NOFOLLOW opens a link itself, so fstat can tell. */
        next = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        saved = errno;
        close(cur);
        cur = next;
        if (cur < 0) {
            errno = saved;
            return -1;
        }
        if (fstat(cur, &st) < 0)
            goto fail;
        if (!S_ISDIR(st.st_mode)) {
            errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
            goto fail;
        }
    }
    return cur;

 fail:;
    int saved = errno;
    if (cur >= 0)
        close(cur);
    errno = saved;
    return -1;
}

int
vn_open_dir_beneath(int rootfd, const char *path)
{
#ifdef SYS_openat2
    struct open_how how = {
        .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                   RESOLVE_NO_MAGICLINKS,
    };
    const char *rel = path + strspn(path, "/");
    long fd = syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how,
                      sizeof(how));
    if (fd >= 0)
        return (int)fd;
    /* Kernels before 5.6 lack it; some seccomp filters say EPERM. */
    if (errno != ENOSYS && errno != EPERM)
        return -1;
#endif
    return vn_open_dir_beneath_walk(rootfd, path);
}

/*
 * A new file "name.XXXXXX" in dirfd (O_EXCL, never through a link),
 * mode 0600.  Returns the descriptor with *tmp its name, or -1.
 */
static int
open_temp(int dirfd, const char *name, char **tmp)
{
    static const char chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char r[6];
        char suffix[sizeof(r) + 1];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            return -1;
        for (size_t i = 0; i < sizeof(r); i++)
            suffix[i] = chars[r[i] % (sizeof(chars) - 1)];
        suffix[sizeof(r)] = '\0';
        if (!(*tmp = nst_printf("%s.%s", name, suffix))) {
            errno = ENOMEM;
            return -1;
        }
        int fd = openat(dirfd, *tmp, O_WRONLY | O_CREAT | O_EXCL |
                        O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0)
            return fd;
        int saved = errno;
        free(*tmp);
        *tmp = NULL;
        if (saved != EEXIST) {
            errno = saved;
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

int
vn_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int
vn_temp_write_at(int dirfd, const char *stem, mode_t mode, const char *data,
                 size_t len, char **tmp)
{
    int fd = open_temp(dirfd, stem, tmp);
    if (fd < 0)
        return -1;
    if (vn_write_all(fd, data, len) < 0 || fchmod(fd, mode & 07777) < 0 ||
        fsync(fd) < 0 || close(fd) < 0) {
        int saved = errno;
        close(fd);          /* EBADF after a failed close: harmless */
        unlinkat(dirfd, *tmp, 0);
        free(*tmp);
        *tmp = NULL;
        errno = saved;
        return -2;
    }
    return 0;
}

int
vn_sync_dir_at(int dirfd, const char *path)
{
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* Some file systems cannot sync a directory: nothing more to do. */
    int ret = fsync(fd) < 0 && errno != EINVAL ? -1 : 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return ret;
}

/* renameat, refusing (EEXIST) to replace an existing name. */
static int
rename_noreplace_at(int dirfd, const char *from, const char *to)
{
    if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* A file system without RENAME_NOREPLACE: check, then rename. */
    struct stat st;
    if (fstatat(dirfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
        return -1;
    }
    return renameat(dirfd, from, dirfd, to);
}

int
vn_temp_commit_at(int dirfd, const char *tmp, const char *name, bool replace)
{
    if ((replace ? renameat(dirfd, tmp, dirfd, name) :
         rename_noreplace_at(dirfd, tmp, name)) < 0)
        return -1;
    /* The rename is durable only once the directory is: without this a
     * crash can bring the old name back, or none. */
    return vn_sync_dir_at(dirfd, ".") < 0 ? -2 : 0;
}

/*
 * Writes data to a temporary file beside name (in dirfd), gives it
 * mode, syncs it and renames it over name: whatever stood at name, a
 * symbolic link too, is replaced, never written through.  label names
 * the file in errors.
 */
static int
write_atomic(int dirfd, const char *name, const char *label, mode_t mode,
             const char *data, size_t len, char **err)
{
    char *tmp = NULL;
    int ret = vn_temp_write_at(dirfd, name, mode, data, len, &tmp);

    if (ret == -1) {
        nst_set_error(err, "%s: cannot create a temporary file: %s", label,
                      strerror(errno));
        return -1;
    }
    if (ret == 0 && (ret = vn_temp_commit_at(dirfd, tmp, name, true)) == -1)
        unlinkat(dirfd, tmp, 0);
    free(tmp);
    if (ret < 0) {
        nst_set_error(err, "%s: cannot write: %s", label, strerror(errno));
        return -1;
    }
    return 0;
}

int
vn_write_file_atomic(const char *path, const char *data, size_t len,
                     char **err)
{
    struct stat st;

    /* The permission bits of the file read (through a link, its
     * target's); the link itself is then replaced, as sed -i does: the
     * write never leaves the directory the user named. */
    if (stat(path, &st) < 0) {
        nst_set_error(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* In path's own directory, which is then synced with the rename. */
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
                      : strdup(".");
    int dfd = dir ? open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd < 0) {
        nst_set_error(err, "%s: %s", path, dir ? strerror(errno) :
                      "out of memory");
        free(dir);
        return -1;
    }
    int ret = write_atomic(dfd, slash ? slash + 1 : path, path, st.st_mode,
                           data, len, err);
    close(dfd);
    free(dir);
    return ret;
}

int
vn_create_file_at(int dirfd, const char *name, const char *label,
                  const char *data, size_t len, unsigned int mode,
                  char **err)
{
    struct stat st;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode)) {
            nst_set_error(err, "%s: a symbolic link, not followed", label);
            return -1;
        }
        if (!S_ISREG(st.st_mode)) {
            nst_set_error(err, "%s: not a regular file (%s)", label,
                          file_kind(&st));
            return -1;
        }
        mode = st.st_mode;
    } else if (errno != ENOENT) {
        nst_set_error(err, "%s: %s", label, strerror(errno));
        return -1;
    }
    return write_atomic(dirfd, name, label, (mode_t)mode, data, len, err);
}

int
vn_write_stdout(const char *data, size_t len)
{
    if (len && fwrite(data, 1, len, stdout) != len)
        return -1;
    return fflush(stdout) == 0 ? 0 : -1;
}

char *
vn_mask_secrets(const char *xml, size_t len, const char *label, char **err)
{
    struct nst_doc *doc;
    if (nst_doc_parse(xml, len, label, &doc, err) < 0)
        return NULL;
    char *masked = nst_doc_masked(doc, NULL);
    nst_doc_free(doc);
    if (!masked)
        nst_set_error(err, "out of memory");
    return masked;
}

int
vn_parse_output(const char *arg, enum vn_output *out)
{
    if (strcmp(arg, "text") == 0) {
        *out = VN_OUTPUT_TEXT;
    } else if (strcmp(arg, "json") == 0) {
        *out = VN_OUTPUT_JSON;
    } else {
        vn_error("--output must be 'text' or 'json', not '%s'", arg);
        return -1;
    }
    return 0;
}

int
vn_parse_taken(const char *text, struct nst_cpuset *set, bool *given)
{
    char *err = NULL;

    if (nst_cpuset_parse(text, set, &err) < 0) {
        vn_error("--taken: %s", err ? err : "out of memory");
        free(err);
        return -1;
    }
    *given = true;
    return 0;
}

int
vn_compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
vn_push(char ***list, size_t *n, size_t *alloc, char *item)
{
    if (nst_grow(list, alloc, *n + 1, sizeof(**list)) < 0) {
        vn_error("out of memory");
        return -1;
    }
    (*list)[(*n)++] = item;
    return 0;
}

int
vn_not_connected(char **err)
{
    static const char msg[] = "this run needs a libvirt connection, which "
                              "only virt-nestify-live has";
    if (err)
        nst_set_error(err, "%s", msg);
    else
        vn_error("%s", msg);
    return VN_EXIT_SYSTEM;
}

int
vn_format_stamp(const struct timespec *ts, char buf[VN_STAMP_LEN + 1])
{
    struct tm tm;
    if (!gmtime_r(&ts->tv_sec, &tm) ||
        strftime(buf, VN_STAMP_LEN + 1, "%Y%m%dT%H%M%S", &tm) != 15)
        return -1;
    unsigned int ns = (unsigned int)(ts->tv_nsec % 1000000000L);
    char frac[24];
    snprintf(frac, sizeof(frac), ".%09uZ", ns);
    memcpy(buf + 15, frac, VN_STAMP_LEN + 1 - 15);
    return 0;
}

/*
 * backup.c: backups of domain definitions
 *
 * A backup is what makes a live run undoable, so it must exist whole on
 * disk before libvirt is asked to change anything: the text goes to a
 * temporary file that is synced, renamed into place and followed by a
 * sync of the directory.  A crash leaves either no backup or the whole
 * backup, never a torn one, and an existing backup is never replaced.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "nestify.h"
#include "tool.h"

#define ROOT_BACKUP_DIR "/var/lib/virt-nestify/backups"
#define STATE_SUBDIR "virt-nestify/backups"

/* The length of "YYYYmmddTHHMMSS.NNNNNNNNNZ". */
#define STAMP_LEN VN_STAMP_LEN
/* Enough of a long domain name to recognise it, within NAME_MAX. */
#define MAX_NAME_PART 128

/* dir + "/" + name, without doubling a slash dir ends with.  Returns a
 * new string, NULL when out of memory. */
static char *
join(const char *dir, const char *name)
{
    size_t len = strlen(dir);
    bool slash = len > 0 && dir[len - 1] == '/';
    return nst_printf("%s%s%s", dir, slash ? "" : "/", name);
}

char *
vn_backup_default_dir_as(uid_t euid)
{
    if (euid == 0)
        return nst_printf("%s", ROOT_BACKUP_DIR);
    /* XDG: a relative XDG_STATE_HOME is invalid and must be ignored. */
    const char *state = getenv("XDG_STATE_HOME");
    if (state && state[0] == '/')
        return join(state, STATE_SUBDIR);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(euid);
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return NULL;
    return nst_printf("%s%s.local/state/" STATE_SUBDIR, home,
                      home[strlen(home) - 1] == '/' ? "" : "/");
}

char *
vn_backup_default_dir(void)
{
    return vn_backup_default_dir_as(geteuid());
}

/* Syncs the parent directory of path (path is changed and restored). */
static void
sync_parent(char *path)
{
    char *slash = strrchr(path, '/');
    if (!slash) {
        vn_sync_dir_at(AT_FDCWD, ".");
    } else if (slash == path) {
        vn_sync_dir_at(AT_FDCWD, "/");
    } else {
        *slash = '\0';
        vn_sync_dir_at(AT_FDCWD, path);
        *slash = '/';
    }
}

/*
 * A directory everyone may write in without the sticky bit lets anyone
 * remove or rename the backups in it (rename a foreign backup over a
 * newer name, and rollback restores it): refused for writing and for
 * reading backups.  A group-writable one is the site's choice for its
 * group (a user's private group, often); the owner check of
 * vn_backup_read_as still refuses a backup someone else planted.
 */
static int
check_dir_mode(const char *dir, const struct stat *st, char **err)
{
    if ((st->st_mode & S_IWOTH) && !(st->st_mode & S_ISVTX)) {
        nst_set_error(err, "backup directory '%s' is writable by everyone "
                      "and not sticky (mode %04o): anyone could replace or "
                      "remove its backups; chmod o-w or +t it", dir,
                      (unsigned int)(st->st_mode & 07777));
        return -1;
    }
    return 0;
}

/*
 * Makes dir and each missing parent, mode 0700 whatever the umask: the
 * backups hold graphics passwords.  An existing directory is used as it
 * is.  Returns 0, or -1 with *err set.
 */
static int
make_dir(const char *dir, char **err)
{
    struct stat st;

    if (!*dir) {
        nst_set_error(err, "the backup directory name is empty");
        return -1;
    }
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return check_dir_mode(dir, &st, err);
        nst_set_error(err, "backup directory '%s' is not a directory", dir);
        return -1;
    }
    char *path = nst_printf("%s", dir);
    if (!path) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    /* Each prefix ending before a slash, then the whole path. */
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (p[-1] != '/') {
            if (mkdir(path, 0700) == 0) {
                if (chmod(path, 0700) < 0)
                    goto fail;
                sync_parent(path);
            } else if (errno != EEXIST) {
                goto fail;
            }
        }
        *p = saved;
        if (!saved)
            break;
    }
    free(path);
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        nst_set_error(err, "backup directory '%s' is not a directory", dir);
        return -1;
    }
    return 0;

 fail:
    nst_set_error(err, "cannot create backup directory '%s': %s", dir,
                  strerror(errno));
    free(path);
    return -1;
}

/* Only the characters that are safe in a file name anywhere. */
static char *
safe_name(const char *name)
{
    size_t len = strlen(name);
    if (len > MAX_NAME_PART)
        len = MAX_NAME_PART;
    char *out = malloc(len + 2);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        out[i] = isascii(c) && (isalnum(c) || strchr("._-", c)) ?
                 (char)c : '_';
    }
    if (len == 0)
        out[len++] = '_';
    out[len] = '\0';
    return out;
}

static bool
valid_uuid(const char *uuid)
{
    if (!*uuid)
        return false;
    for (const char *p = uuid; *p; p++)
        if (!isxdigit((unsigned char)*p) && *p != '-')
            return false;
    return true;
}

/*
 * Renames the written backup tmp (in dfd) to UUID-STAMP-NAME.xml, never
 * over another file.  Nanoseconds make names unique in practice; on a
 * clash (a coarse clock) the next nanosecond is tried, keeping the
 * order.  Returns vn_temp_commit_at's status, *base the name tried last.
 */
static int
commit_stamped(int dfd, const char *tmp, const char *uuid, const char *name,
               char **base)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (int attempt = 0;; attempt++) {
        char stamp[STAMP_LEN + 1];
        if (vn_format_stamp(&ts, stamp) < 0) {
            errno = EOVERFLOW;
            return -1;
        }
        free(*base);
        if (!(*base = nst_printf("%s-%s-%s.xml", uuid, stamp, name))) {
            errno = ENOMEM;
            return -1;
        }
        int ret = vn_temp_commit_at(dfd, tmp, *base, false);
        if (ret == 0 || ret == -2 || errno != EEXIST || attempt >= 1000)
            return ret;
        if (++ts.tv_nsec >= 1000000000L) {
            ts.tv_nsec = 0;
            ts.tv_sec++;
        }
    }
}

int
vn_backup_write(const char *dir, const char *domain_name, const char *uuid,
                const char *xml, char **path_out, char **err)
{
    char *tmp = NULL, *base = NULL, *name = NULL;
    const char *what = "cannot write a backup in";
    int dfd = -1, ret;

    *path_out = NULL;
    if (!valid_uuid(uuid)) {
        nst_set_error(err, "domain '%s': invalid uuid '%s'", domain_name,
                      uuid);
        return -1;
    }
    if (make_dir(dir, err) < 0)
        return -1;
    if (!(name = safe_name(domain_name))) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        (ret = vn_temp_write_at(dfd, ".virt-nestify-backup", 0600, xml,
                                strlen(xml), &tmp)) == -1) {
        nst_set_error(err, "backup directory '%s' is not writable: %s", dir,
                      strerror(errno));
        goto out;
    }
    if (ret < 0)
        goto fail;

    ret = commit_stamped(dfd, tmp, uuid, name, &base);
    if (ret != -1) {            /* renamed: tmp is gone */
        free(tmp);
        tmp = NULL;
    }
    if (ret == -2) {
        /* In place but maybe not on disk: a backup that a crash can lose
         * is no backup. */
        int saved = errno;
        what = "cannot sync the backup in";
        unlinkat(dfd, base, 0);
        errno = saved;
    }
    if (ret < 0)
        goto fail;
    if (!(*path_out = join(dir, base))) {
        unlinkat(dfd, base, 0);
        nst_set_error(err, "out of memory");
        goto out;
    }
    close(dfd);
    free(base);
    free(name);
    return 0;

 fail:
    nst_set_error(err, "%s '%s': %s", what, dir, strerror(errno));
 out:
    if (tmp)
        unlinkat(dfd, tmp, 0);
    if (dfd >= 0)
        close(dfd);
    free(tmp);
    free(base);
    free(name);
    return -1;
}

/* Whether name is "<uuid>-<stamp>-<anything>.xml" for this uuid. */
static bool
is_backup_of(const char *name, const char *uuid, size_t uuid_len)
{
    const char *p = name + uuid_len + 1;
    size_t len = strlen(name);

    if (len < uuid_len + 1 + STAMP_LEN + 1 + 4 ||
        strncasecmp(name, uuid, uuid_len) != 0 || name[uuid_len] != '-' ||
        strcmp(name + len - 4, ".xml") != 0)
        return false;
    /* 8 digits, T, 6 digits, '.', 9 digits, Z, '-' */
    for (size_t i = 0; i < STAMP_LEN + 1; i++) {
        char want = i == 8 ? 'T' : i == 15 ? '.' : i == 25 ? 'Z' :
                    i == 26 ? '-' : 'd';
        if (want == 'd' ? !isdigit((unsigned char)p[i]) : p[i] != want)
            return false;
    }
    return true;
}

/* Newest first: after the UUID (*skip bytes into every path, as they
 * all share the directory) each name starts with the time. */
static int
newest_first(const void *a, const void *b, void *skip)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    size_t n = *(const size_t *)skip;
    int c = strcmp(y + n, x + n);
    return c ? c : strcmp(y, x);
}

void
vn_backup_list_free(char **paths, size_t n)
{
    if (!paths)
        return;
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

int
vn_backup_list(const char *dir, const char *uuid, char ***paths, size_t *n,
               char **err)
{
    char **names = NULL;
    size_t count = 0, alloc = 0, uuid_len = strlen(uuid);
    DIR *d;

    *paths = NULL;
    *n = 0;
    if (!(d = opendir(dir))) {
        if (errno == ENOENT)
            return 0;
        nst_set_error(err, "cannot read backup directory '%s': %s", dir,
                      strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(dirfd(d), &st) < 0) {
        nst_set_error(err, "cannot read backup directory '%s': %s", dir,
                      strerror(errno));
        goto fail;
    }
    if (check_dir_mode(dir, &st, err) < 0)
        goto fail;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno) {
                nst_set_error(err, "cannot read backup directory '%s': %s",
                              dir, strerror(errno));
                goto fail;
            }
            break;
        }
        if (!is_backup_of(e->d_name, uuid, uuid_len))
            continue;
        if (NST_GROW(names, count + 1, alloc) < 0 ||
            !(names[count] = join(dir, e->d_name))) {
            nst_set_error(err, "out of memory");
            goto fail;
        }
        count++;
    }
    closedir(d);
    /* Every path is dir + separator + name, so skip that and the UUID. */
    if (count) {
        size_t name_len = strlen(strrchr(names[0], '/') + 1);
        size_t skip = strlen(names[0]) - name_len + uuid_len;
        qsort_r(names, count, sizeof(*names), newest_first, &skip);
    }
    *paths = names;
    *n = count;
    return 0;

 fail:
    closedir(d);
    vn_backup_list_free(names, count);
    return -1;
}

char *
vn_backup_read_as(const char *path, uid_t euid, size_t *len, char **err)
{
    char *label = nst_printf("backup '%s'", path);
    struct stat st;
    int fd;

    if (!label) {
        nst_set_error(err, "out of memory");
        return NULL;
    }
    /* virt-nestify writes backups as regular files: a link is not one
     * (planted, it could point at any file the reader may read). */
    if ((fd = vn_open_regular(AT_FDCWD, path, label, O_NOFOLLOW, &st,
                              err)) < 0) {
        free(label);
        return NULL;
    }
    if (st.st_uid != euid && st.st_uid != 0) {
        struct passwd *pw = getpwuid(st.st_uid);
        nst_set_error(err, "%s belongs to %s%s%s(uid %u), not to you or "
                      "root: refusing to restore it", label,
                      pw ? "'" : "", pw ? pw->pw_name : "", pw ? "' " : "",
                      (unsigned int)st.st_uid);
        close(fd);
        free(label);
        return NULL;
    }
    char *text = vn_read_fd(fd, label, len, err);
    close(fd);
    free(label);
    return text;
}

char *
vn_backup_read(const char *path, size_t *len, char **err)
{
    return vn_backup_read_as(path, geteuid(), len, err);
}

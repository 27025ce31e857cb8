/*
 * test-backup.c: backups (cli/backup.c) and the rollback command
 *
 * Backups are files, so the first tests work in a private temporary
 * directory.  The tests run as root in CI, where permission bits do not
 * stop a write: an unwritable directory is provoked by dropping to
 * 'nobody' in a child process, and a path under a regular file gives
 * ENOTDIR for anyone.  The rollback tests drive the command in this
 * process on libvirt's test driver, which keeps its state while the
 * test holds a connection open.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "backup.h"
#include "conn.h"
#include "internal.h"
#include "testlive.h"
#include "testutil.h"
#include "tool.h"

#define UUID_A "6c1f4e2a-3b8d-4f6e-9a71-2d5c8e0b4f13"
#define UUID_B "0b5a7d3e-91c2-4a8f-b6e0-3f2d1c9e8a74"
#define TEST_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"   /* test:///default */

static char root[] = "/tmp/nst-backup-XXXXXX";

static void
setup(void)
{
    /* Reset: without CK_FORK every test reuses the buffer. */
    memcpy(root, "/tmp/nst-backup-XXXXXX", sizeof(root));
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void
teardown(void)
{
    char *cmd = nst_printf("chmod -R u+rwx '%s' && rm -rf '%s'", root, root);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* root/rel as a new string. */
static char *
at(const char *rel)
{
    char *path = nst_printf("%s/%s", root, rel);
    ck_assert_ptr_nonnull(path);
    return path;
}

/* Entries of dir, hidden ones included; 0 when dir does not exist. */
static size_t
count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static unsigned int
mode_of(const char *path)
{
    struct stat st;
    ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
    return st.st_mode & 07777;
}

static char *
write_ok(const char *dir, const char *name, const char *uuid,
         const char *xml)
{
    char *path = NULL, *err = NULL;
    ck_assert_msg(vn_backup_write(dir, name, uuid, xml, &path, &err) == 0,
                  "%s", err);
    ck_assert_ptr_null(err);
    ck_assert_ptr_nonnull(path);
    return path;
}

/* The error of a write that must fail; no path returned. */
static char *
write_fails(const char *dir, const char *name, const char *uuid,
            const char *xml)
{
    char *path = (char *)"unset", *err = NULL;
    ck_assert_int_eq(vn_backup_write(dir, name, uuid, xml, &path, &err), -1);
    ck_assert_ptr_null(path);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_null(strchr(err, '\n'));
    return err;
}

START_TEST(test_write_private_and_whole)
{
    /* A umask that would leave the owner without write permission:
     * the modes must not depend on it. */
    mode_t old = umask(0277);
    char *dir = at("a/b/backups");
    const char *xml = "<domain type='kvm'>\n  <name>ubuntu-guest</name>\n"
                      "  <graphics passwd='s3cret'/>\n</domain>\n";
    /* The clock the backup's name is read from: glibc's time() reads a
     * coarser one, which can still show the last second when the
     * backup is already stamped with the next. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t before = ts.tv_sec;
    char *path = write_ok(dir, "ubuntu-guest", UUID_A, xml);
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t after = ts.tv_sec;
    umask(old);

    char *a = at("a"), *b = at("a/b");
    ck_assert_uint_eq(mode_of(a), 0700);
    ck_assert_uint_eq(mode_of(b), 0700);
    ck_assert_uint_eq(mode_of(dir), 0700);
    ck_assert_uint_eq(mode_of(path), 0600);
    char *saved = test_read_file(path, NULL);
    ck_assert_str_eq(saved, xml);
    ck_assert_uint_eq(count_entries(dir), 1);   /* no temporary file */

    /* DIR/<uuid>-<UTC time to the nanosecond>-<name>.xml */
    ck_assert_uint_eq(strncmp(path, dir, strlen(dir)), 0);
    const char *base = path + strlen(dir);
    ck_assert_int_eq(*base++, '/');
    regex_t re;
    ck_assert_int_eq(regcomp(&re, "^" UUID_A "-[0-9]{8}T[0-9]{6}\\.[0-9]{9}Z"
                             "-ubuntu-guest\\.xml$", REG_EXTENDED | REG_NOSUB),
                     0);
    ck_assert_msg(regexec(&re, base, 0, NULL, 0) == 0, "name %s", base);
    regfree(&re);
    struct tm tm = { 0 };
    const char *stamp = base + strlen(UUID_A) + 1;
    ck_assert_ptr_eq(strptime(stamp, "%Y%m%dT%H%M%S", &tm), stamp + 15);
    time_t t = timegm(&tm);
    ck_assert_msg(t >= before && t <= after, "time %ld not in [%ld, %ld]",
                  (long)t, (long)before, (long)after);

    free(saved);
    free(path);
    free(a);
    free(b);
    free(dir);
}
END_TEST

START_TEST(test_existing_dir_used_as_is)
{
    char *dir = at("shared");
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(chmod(dir, 0755), 0);
    char *path = write_ok(dir, "web1", UUID_A, "<domain/>");
    ck_assert_uint_eq(mode_of(dir), 0755);
    ck_assert_uint_eq(mode_of(path), 0600);
    /* A trailing slash does not double. */
    char *slashed = nst_printf("%s/", dir);
    char *path2 = write_ok(slashed, "web1", UUID_A, "<domain/>");
    ck_assert_ptr_null(strstr(path2, "//"));
    ck_assert_uint_eq(count_entries(dir), 2);
    free(path);
    free(path2);
    free(slashed);
    free(dir);
}
END_TEST

START_TEST(test_name_sanitised)
{
    char *dir = at("b");
    char *path = write_ok(dir, "we b/../x$\xc3\xbc", UUID_A, "<domain/>");
    const char *base = strrchr(path, '/') + 1;
    ck_assert_int_eq((int)(base - 1 - path), (int)strlen(dir));
    ck_assert_str_eq(base + strlen(UUID_A) + 28, "we_b_.._x___.xml");

    char long_name[301];
    memset(long_name, 'n', 300);
    long_name[300] = '\0';
    char *path2 = write_ok(dir, long_name, UUID_A, "<domain/>");
    ck_assert_uint_eq(strlen(strrchr(path2, '/') + 1),
                      strlen(UUID_A) + 28 + 128 + 4);
    free(path);
    free(path2);
    free(dir);
}
END_TEST

START_TEST(test_invalid_uuid_refused)
{
    char *dir = at("c");
    char *err = write_fails(dir, "x", "../../etc/x", "<domain/>");
    ck_assert_str_eq(err, "domain 'x': invalid uuid '../../etc/x'");
    ck_assert_int_eq(access(dir, F_OK), -1);   /* not even created */
    free(err);
    free(dir);
}
END_TEST

START_TEST(test_list_newest_first)
{
    char *dir = at("list");
    char *p1 = write_ok(dir, "one", UUID_A, "1");
    char *other = write_ok(dir, "two", UUID_B, "x");
    char *p2 = write_ok(dir, "one", UUID_A, "2");
    char *p3 = write_ok(dir, "renamed", UUID_A, "3");
    /* Files that are not backups of A. */
    const char *junk[] = {
        ".virt-nestify-backup.a1b2c3",
        UUID_A "-garbage.xml",
        UUID_A "-20240101T000000.000000000Z-one.xml.bak",
        UUID_A "-20240101T000000.00000000Z-short.xml",
        UUID_A "X-20240101T000000.000000000Z-one.xml",
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(*junk); i++) {
        char *path = nst_printf("%s/%s", dir, junk[i]);
        test_write_file(path, "junk", 4);
        free(path);
    }

    char **paths = NULL, *err = NULL;
    size_t n = 99;
    ck_assert_int_eq(vn_backup_list(dir, UUID_A, &paths, &n, &err), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(paths[0], p3);
    ck_assert_str_eq(paths[1], p2);
    ck_assert_str_eq(paths[2], p1);
    vn_backup_list_free(paths, n);
    ck_assert_int_eq(vn_backup_list(dir, UUID_B, &paths, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(paths[0], other);
    vn_backup_list_free(paths, n);

    free(p1);
    free(p2);
    free(p3);
    free(other);
    free(dir);
}
END_TEST

START_TEST(test_list_sorts_by_time_not_by_directory_order)
{
    char *dir = at("sorted");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    const char *names[] = {
        UUID_A "-20240301T120000.000000000Z-zeta.xml",
        UUID_A "-20251231T235959.999999999Z-alpha.xml",
        UUID_A "-20230101T000000.000000001Z-mid.xml",
        UUID_A "-20240301T120000.000000001Z-aaa.xml",
    };
    for (size_t i = 0; i < 4; i++) {
        char *path = nst_printf("%s/%s", dir, names[i]);
        test_write_file(path, "x", 1);
        free(path);
    }
    char **paths = NULL, *err = NULL;
    size_t n = 0;
    ck_assert_int_eq(vn_backup_list(dir, UUID_A, &paths, &n, &err), 0);
    ck_assert_uint_eq(n, 4);
    const int order[] = { 1, 3, 0, 2 };
    for (size_t i = 0; i < 4; i++) {
        const char *base = strrchr(paths[i], '/') + 1;
        ck_assert_str_eq(base, names[order[i]]);
    }
    vn_backup_list_free(paths, n);
    free(dir);
}
END_TEST

START_TEST(test_list_missing_and_bad_dir)
{
    char **paths = (char **)"unset", *err = NULL;
    size_t n = 99;
    char *missing = at("nope/deeper");
    ck_assert_int_eq(vn_backup_list(missing, UUID_A, &paths, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(paths);
    vn_backup_list_free(NULL, 0);

    char *file = at("file");
    test_write_file(file, "x", 1);
    ck_assert_int_eq(vn_backup_list(file, UUID_A, &paths, &n, &err), -1);
    char *want = nst_printf("cannot read backup directory '%s': Not a "
                            "directory", file);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
    free(file);
    free(missing);
}
END_TEST

START_TEST(test_dir_is_a_file)
{
    char *file = at("plain");
    test_write_file(file, "keep", 4);
    char *err = write_fails(file, "x", UUID_A, "<domain/>");
    char *want = nst_printf("backup directory '%s' is not a directory", file);
    ck_assert_str_eq(err, want);
    ck_assert_uint_eq(count_entries(root), 1);
    free(want);
    free(err);
    free(file);
}
END_TEST

START_TEST(test_dir_under_a_file)
{
    char *file = at("file");
    test_write_file(file, "keep", 4);
    char *dir = at("file/sub");
    char *err = write_fails(dir, "x", UUID_A, "<domain/>");
    char *want = nst_printf("cannot create backup directory '%s': Not a "
                            "directory", dir);
    ck_assert_str_eq(err, want);
    /* Nothing anywhere: root holds the file only, unchanged. */
    ck_assert_uint_eq(count_entries(root), 1);
    char *content = test_read_file(file, NULL);
    ck_assert_str_eq(content, "keep");
    free(content);
    free(want);
    free(err);
    free(dir);
    free(file);
}
END_TEST

/*
 * Runs vn_backup_write(dir) as a user without write permission: 'nobody'
 * in a child when we are root.  Returns the error message.
 */
static char *
write_as_unprivileged(const char *dir)
{
    if (geteuid() != 0)
        return write_fails(dir, "x", UUID_A, "<domain/>");

    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char *path = NULL, *err = NULL;
        close(fds[0]);
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(10);
        int r = vn_backup_write(dir, "x", UUID_A, "<domain/>", &path, &err);
        if (err && write(fds[1], err, strlen(err)) < 0)
            _exit(11);
        int status = r == -1 && !path ? 0 : 12;
        free(err);
        free(path);
        _exit(status);
    }
    close(fds[1]);
    char buf[1024];
    ssize_t len = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status %d", status);
    ck_assert_int_ge(len, 0);
    buf[len] = '\0';
    return nst_printf("%s", buf);
}

START_TEST(test_unwritable_dir)
{
    /* Searchable by everyone, writable by nobody but root. */
    ck_assert_int_eq(chmod(root, 0755), 0);
    char *ro = at("ro");
    ck_assert_int_eq(mkdir(ro, 0700), 0);
    ck_assert_int_eq(chmod(ro, geteuid() == 0 ? 0555 : 0500), 0);

    char *err = write_as_unprivileged(ro);
    char *want = nst_printf("backup directory '%s' is not writable: "
                            "Permission denied", ro);
    ck_assert_str_eq(err, want);
    ck_assert_uint_eq(count_entries(ro), 0);
    free(err);
    free(want);

    char *sub = at("ro/new/backups");
    err = write_as_unprivileged(sub);
    want = nst_printf("cannot create backup directory '%s': Permission "
                      "denied", sub);
    ck_assert_str_eq(err, want);
    ck_assert_uint_eq(count_entries(ro), 0);
    free(err);
    free(want);
    free(sub);
    free(ro);
}
END_TEST

START_TEST(test_failed_write_leaves_nothing)
{
    /* A file size limit makes the write fail half-way through. */
    char *dir = at("full");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    char big[8192];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct rlimit old, small = { 4096, 0 };
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_max = old.rlim_max;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    char *path = (char *)"unset", *err = NULL;
    int r = vn_backup_write(dir, "x", UUID_A, big, &path, &err);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);

    ck_assert_int_eq(r, -1);
    ck_assert_ptr_null(path);
    char *want = nst_printf("cannot write a backup in '%s': File too large",
                            dir);
    ck_assert_str_eq(err, want);
    ck_assert_uint_eq(count_entries(dir), 0);
    free(want);
    free(err);
    free(dir);
}
END_TEST

/* Sets or (value NULL) unsets an environment variable. */
static void
set_env(const char *name, const char *value)
{
    if (value)
        ck_assert_int_eq(setenv(name, value, 1), 0);
    else
        ck_assert_int_eq(unsetenv(name), 0);
}

static void
check_default(uid_t euid, const char *xdg, const char *home,
              const char *want)
{
    set_env("XDG_STATE_HOME", xdg);
    set_env("HOME", home);
    char *dir = vn_backup_default_dir_as(euid);
    ck_assert_ptr_nonnull(dir);
    ck_assert_str_eq(dir, want);
    free(dir);
}

/* The error of a read of a backup that must be refused. */
static char *
read_fails(const char *path, uid_t euid)
{
    char *err = NULL;
    size_t len;
    ck_assert_ptr_null(vn_backup_read_as(path, euid, &len, &err));
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_null(strchr(err, '\n'));
    return err;
}

START_TEST(test_read_only_own_or_roots_backups)
{
    char *dir = at("b");
    char *path = write_ok(dir, "vm", UUID_A, "<domain/>");
    char *err = NULL, *text, *want;
    size_t len;
    uid_t me = geteuid();

    text = vn_backup_read_as(path, me, &len, &err);
    ck_assert_msg(text != NULL, "%s", err);
    ck_assert_str_eq(text, "<domain/>");
    free(text);
    /* Owned by someone else: root can make that so; anyone else asks
     * as another user of a file it owns (its owner is not root). */
    uid_t owner = me, reader = me + 1;
    if (me == 0) {
        owner = 4242;
        reader = 0;
        ck_assert_int_eq(chown(path, owner, owner), 0);
    }
    err = read_fails(path, reader);
    want = nst_printf("(uid %u), not to you or root: refusing to restore "
                      "it", (unsigned int)owner);
    ck_assert_msg(strstr(err, want) && strstr(err, path), "%s", err);
    ck_assert_msg(strncmp(err, "backup '", 8) == 0, "%s", err);
    free(want);
    free(err);
    /* Its owner may read it; a root-owned one anyone may. */
    text = vn_backup_read_as(path, owner, &len, &err);
    ck_assert_msg(text != NULL, "%s", err);
    free(text);
    if (me == 0) {
        ck_assert_int_eq(chown(path, 0, 0), 0);
        text = vn_backup_read_as(path, 4242, &len, &err);
        ck_assert_msg(text != NULL, "%s", err);
        free(text);
    } else {
        printf("not root: a root-owned backup read by another user is not "
               "tried\n");
    }
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_read_refuses_links_and_fifos)
{
    char *dir = at("b");
    char *path = write_ok(dir, "vm", UUID_A, "<domain/>");
    char *link = at("b/link.xml"), *fifo = at("b/fifo.xml"), *err, *want;

    ck_assert_int_eq(symlink(path, link), 0);
    err = read_fails(link, geteuid());
    want = nst_printf("backup '%s': a symbolic link, not followed", link);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
    /* Without a writer: refused at once, not waited for. */
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    err = read_fails(fifo, geteuid());
    want = nst_printf("backup '%s': not a regular file (a FIFO)", fifo);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
    free(fifo);
    free(link);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_world_writable_dir_refused_unless_sticky)
{
    char *dir = at("shared"), *err = NULL, *want, **paths = NULL;
    size_t n = 0;

    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(chmod(dir, 0777), 0);
    want = nst_printf("backup directory '%s' is writable by everyone and "
                      "not sticky (mode 0777): anyone could replace or "
                      "remove its backups; chmod o-w or +t it", dir);
    err = write_fails(dir, "vm", UUID_A, "<domain/>");
    ck_assert_str_eq(err, want);
    free(err);
    err = NULL;
    ck_assert_int_eq(vn_backup_list(dir, UUID_A, &paths, &n, &err), -1);
    ck_assert_str_eq(err, want);
    free(err);
    ck_assert_uint_eq(count_entries(dir), 0);
    /* Sticky (as /tmp), or writable by the group only: used. */
    ck_assert_int_eq(chmod(dir, 01777), 0);
    free(write_ok(dir, "vm", UUID_A, "<domain/>"));
    ck_assert_int_eq(chmod(dir, 0770), 0);
    free(write_ok(dir, "vm", UUID_A, "<domain/>"));
    err = NULL;
    ck_assert_int_eq(vn_backup_list(dir, UUID_A, &paths, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    vn_backup_list_free(paths, n);
    free(want);
    free(dir);
}
END_TEST

/* Both ways of opening a directory beneath a root (openat2, the walk). */
typedef int open_beneath_fn(int, const char *);

static void
check_beneath(open_beneath_fn *open_dir)
{
    char *outside = at("outside");
    char *r = at("r");
    char *sub = at("r/a/b"), *file = at("r/a/file"), *link = at("r/a/link");
    int rootfd, fd;
    struct stat st;

    ck_assert_int_eq(mkdir(outside, 0700), 0);
    ck_assert_int_eq(mkdir(r, 0700), 0);
    char *a = at("r/a");
    ck_assert_int_eq(mkdir(a, 0700), 0);
    free(a);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    test_write_file(file, "x", 1);
    ck_assert_int_eq(symlink(outside, link), 0);
    ck_assert_int_ge(rootfd = open(r, O_PATH | O_DIRECTORY | O_CLOEXEC), 0);

    const char *good[] = { "a/b", "/a/b", "a//b/", "./a/b", "/" };
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
        fd = open_dir(rootfd, good[i]);
        ck_assert_msg(fd >= 0, "%s: %s", good[i], strerror(errno));
        ck_assert_int_eq(fstat(fd, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        close(fd);
    }
    static const struct { const char *path; int error; } bad[] = {
        { "a/link", ELOOP }, { "a/link/x", ELOOP }, { "a/nope", ENOENT },
        { "a/file", ENOTDIR }, { "../r/a", EXDEV },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        errno = 0;
        ck_assert_int_eq(open_dir(rootfd, bad[i].path), -1);
        ck_assert_msg(errno == bad[i].error, "%s: %s", bad[i].path,
                      strerror(errno));
    }
    close(rootfd);
    free(link);
    free(file);
    free(sub);
    free(r);
    free(outside);
}

START_TEST(test_open_dir_beneath)
{
    check_beneath(vn_open_dir_beneath);
}
END_TEST

START_TEST(test_open_dir_beneath_walk)
{
    check_beneath(vn_open_dir_beneath_walk);
}
END_TEST

START_TEST(test_default_dir)
{
    char *saved_home = getenv("HOME") ? nst_printf("%s", getenv("HOME"))
                                      : NULL;
    char *saved_xdg = getenv("XDG_STATE_HOME") ?
                      nst_printf("%s", getenv("XDG_STATE_HOME")) : NULL;

    check_default(0, "/x/state", "/home/u", "/var/lib/virt-nestify/backups");
    check_default(1000, "/x/state", "/home/u",
                  "/x/state/virt-nestify/backups");
    check_default(1000, "/x/state/", "/home/u",
                  "/x/state/virt-nestify/backups");
    check_default(1000, NULL, "/home/u",
                  "/home/u/.local/state/virt-nestify/backups");
    check_default(1000, "", "/home/u/",
                  "/home/u/.local/state/virt-nestify/backups");
    /* XDG: a relative path is invalid and ignored. */
    check_default(1000, "state", "/home/u",
                  "/home/u/.local/state/virt-nestify/backups");
    /* The real function is the one for our own user. */
    set_env("XDG_STATE_HOME", "/x/state");
    char *mine = vn_backup_default_dir();
    char *as = vn_backup_default_dir_as(geteuid());
    ck_assert_str_eq(mine, as);
    free(mine);
    free(as);

    set_env("HOME", saved_home);
    set_env("XDG_STATE_HOME", saved_xdg);
    free(saved_home);
    free(saved_xdg);
}
END_TEST

/* ------------------------------------------------ rollback, test driver */

static virConnectPtr keep;

static void
setup_driver(void)
{
    char *err = NULL;
    setup();
    keep = vn_conn_open("test:///default", &err);
    ck_assert_msg(keep != NULL, "%s", err);
}

static void
teardown_driver(void)
{
    vn_conn_close(keep);
    teardown();
}

static char *
stored(const char *name)
{
    return test_stored_xml(keep, name);
}

static void
define(const char *xml)
{
    virDomainPtr dom = virDomainDefineXML(keep, xml);
    ck_assert_msg(dom != NULL, "define: %s", vn_libvirt_error());
    virDomainFree(dom);
}

/* A copy of text with the first from replaced by to. */
static char *
replace(const char *text, const char *from, const char *to)
{
    const char *hit = strstr(text, from);
    ck_assert_ptr_nonnull(hit);
    return nst_printf("%.*s%s%s", (int)(hit - text), text, to,
                      hit + strlen(from));
}

/* Runs "virt-nestify rollback ARGS..." (NULL-terminated) here. */
static const char *const rollback_prefix[] = { "rollback", NULL };
#define rollback(...) \
    test_run_command(vn_cmd_rollback, rollback_prefix, __VA_ARGS__)

#define ROLLBACK "-c", "test:///default", "--backup-dir", dir

START_TEST(test_rollback_restores_and_backs_up)
{
    char *dir = at("backups");
    char *orig = stored("test");
    char *old = write_ok(dir, "test", TEST_UUID, orig);
    char *changed = replace(orig, "<vcpu placement='static'>2</vcpu>",
                            "<vcpu placement='static'>1</vcpu>");
    define(changed);
    char *now = stored("test");
    ck_assert_str_ne(now, orig);

    ck_assert_int_eq(rollback(ROLLBACK, "-d", "test", "--list", NULL), 0);
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "test", "-q", NULL), 0);
    char *after = stored("test");
    ck_assert_str_eq(after, orig);

    /* The definition it replaced is the newest backup now. */
    char **paths = NULL, *err = NULL;
    size_t n = 0;
    ck_assert_int_eq(vn_backup_list(dir, TEST_UUID, &paths, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(paths[1], old);
    ck_assert_uint_eq(mode_of(paths[0]), 0600);
    char *saved = test_read_file(paths[0], NULL);
    ck_assert_str_eq(saved, now);

    /* Already there: nothing defined, no backup. */
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "test", "--backup", old, NULL),
                     0);
    ck_assert_uint_eq(count_entries(dir), 2);

    /* Rolling the rollback back: the newest backup is the changed one. */
    ck_assert_int_eq(rollback(ROLLBACK, "-d", TEST_UUID, NULL), 0);
    char *again = stored("test");
    ck_assert_str_eq(again, now);
    ck_assert_uint_eq(count_entries(dir), 3);

    /* Leave the stock domain as it was. */
    define(orig);
    vn_backup_list_free(paths, n);
    free(saved);
    free(again);
    free(after);
    free(now);
    free(changed);
    free(old);
    free(orig);
    free(dir);
}
END_TEST

START_TEST(test_rollback_refusals_change_nothing)
{
    char *dir = at("backups");
    char *orig = stored("test");

    /* No backups yet. */
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "test", NULL), 2);
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "test", "--list", NULL), 0);
    ck_assert_int_eq(access(dir, F_OK), -1);

    /* Another domain's backup. */
    char *foreign = replace(orig, TEST_UUID, UUID_B);
    char *fpath = write_ok(dir, "test", UUID_B, foreign);
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "test", "--backup", fpath,
                              NULL), 2);
    /* A backup without a UUID, and one that is not XML. */
    char *nouuid = replace(orig, "<uuid>" TEST_UUID "</uuid>", "");
    char *npath = at("nouuid.xml");
    test_write_file(npath, nouuid, strlen(nouuid));
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "test", "--backup", npath,
                              NULL), 2);
    char *bad = at("bad.xml");
    test_write_file(bad, "<domain>", 8);
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "test", "--backup", bad, NULL),
                     2);
    char *missing = at("missing.xml");
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "test", "--backup", missing,
                              NULL), 2);
    ck_assert_uint_eq(count_entries(dir), 1);

    /* Unknown domain, unreachable URI, usage. */
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "nosuch", NULL), 2);
    ck_assert_int_eq(rollback("-c", "test:///nonexistent/path.xml", "-d",
                              "test", NULL), 3);
    ck_assert_int_eq(rollback(ROLLBACK, NULL), 2);
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "test", "--list", "--backup",
                              fpath, NULL), 2);
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "test", "extra", NULL), 2);

    /* A backup directory under a regular file: exit 3, nothing defined. */
    char *changed = replace(orig, "<vcpu placement='static'>2</vcpu>",
                            "<vcpu placement='static'>1</vcpu>");
    char *cpath = at("changed.xml");
    test_write_file(cpath, changed, strlen(changed));
    char *file = at("file");
    test_write_file(file, "x", 1);
    char *under = at("file/sub");
    ck_assert_int_eq(rollback("-c", "test:///default", "--backup-dir", under,
                              "-d", "test", "--backup", cpath, NULL), 3);

    /* libvirt refuses (same UUID, another name): exit 3, unchanged, and
     * the backup of the current definition is kept. */
    char *renamed = replace(orig, "<name>test</name>", "<name>other</name>");
    char *rpath = at("renamed.xml");
    test_write_file(rpath, renamed, strlen(renamed));
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "test", "--backup", rpath,
                              NULL), 3);
    ck_assert_uint_eq(count_entries(dir), 2);

    char *after = stored("test");
    ck_assert_str_eq(after, orig);

    free(after);
    free(rpath);
    free(renamed);
    free(under);
    free(file);
    free(cpath);
    free(changed);
    free(missing);
    free(bad);
    free(npath);
    free(nouuid);
    free(fpath);
    free(foreign);
    free(orig);
    free(dir);
}
END_TEST

START_TEST(test_rollback_refuses_transient)
{
    char *dir = at("backups");
    char *xml = nst_printf(
        "<domain type='test'><name>transient1</name>"
        "<uuid>%s</uuid><memory>131072</memory><vcpu>1</vcpu>"
        "<os><type>hvm</type></os></domain>", UUID_B);
    virDomainPtr dom = virDomainCreateXML(keep, xml, 0);
    ck_assert_msg(dom != NULL, "%s", vn_libvirt_error());
    ck_assert_int_eq(virDomainIsPersistent(dom), 0);
    char *path = write_ok(dir, "transient1", UUID_B, xml);
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "transient1", NULL), 2);
    ck_assert_int_eq(rollback(ROLLBACK, "-d", "transient1", "--list", NULL),
                     2);
    ck_assert_int_eq(virDomainIsPersistent(dom), 0);
    ck_assert_uint_eq(count_entries(dir), 1);
    virDomainDestroy(dom);
    virDomainFree(dom);
    free(path);
    free(xml);
    free(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("backup");
    TCase *files = tcase_create("files");
    tcase_add_checked_fixture(files, setup, teardown);
    tcase_add_test(files, test_write_private_and_whole);
    tcase_add_test(files, test_existing_dir_used_as_is);
    tcase_add_test(files, test_name_sanitised);
    tcase_add_test(files, test_invalid_uuid_refused);
    tcase_add_test(files, test_list_newest_first);
    tcase_add_test(files, test_list_sorts_by_time_not_by_directory_order);
    tcase_add_test(files, test_list_missing_and_bad_dir);
    tcase_add_test(files, test_dir_is_a_file);
    tcase_add_test(files, test_dir_under_a_file);
    tcase_add_test(files, test_unwritable_dir);
    tcase_add_test(files, test_failed_write_leaves_nothing);
    tcase_add_test(files, test_default_dir);
    tcase_add_test(files, test_read_only_own_or_roots_backups);
    tcase_add_test(files, test_read_refuses_links_and_fifos);
    tcase_add_test(files, test_world_writable_dir_refused_unless_sticky);
    tcase_add_test(files, test_open_dir_beneath);
    tcase_add_test(files, test_open_dir_beneath_walk);
    suite_add_tcase(s, files);

    TCase *cmd = tcase_create("rollback");
    tcase_add_checked_fixture(cmd, setup_driver, teardown_driver);
    tcase_add_test(cmd, test_rollback_restores_and_backs_up);
    tcase_add_test(cmd, test_rollback_refusals_change_nothing);
    tcase_add_test(cmd, test_rollback_refuses_transient);
    suite_add_tcase(s, cmd);
    return test_run_suite(s);
}

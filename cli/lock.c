/*
 * lock.c: the run lock of a connection (lock.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "nestify.h"
#include "lock.h"
#include "tool.h"

struct vn_lock {
    int fd;
};

char *
vn_lock_dir(void)
{
    const char *dir = getenv("VIRT_NESTIFY_LOCK_DIR");
    if (dir && dir[0] == '/')
        return nst_printf("%s", dir);
    if (geteuid() == 0)
        return nst_printf("/run/virt-nestify");
    /* A user's runtime directory is theirs alone (XDG Base Directory
     * specification); without one there is no safe shared place. */
    dir = getenv("XDG_RUNTIME_DIR");
    return dir && dir[0] == '/' ? nst_printf("%s/virt-nestify", dir) : NULL;
}

/* The lock file's name: the URI hashed (FNV-1a, 64 bits), as a URI can
 * be longer than a file name and hold any character.  The file says
 * which URI it is for. */
static char *
lock_name(const char *uri)
{
    uint64_t hash = 0xcbf29ce484222325u;
    for (const unsigned char *c = (const unsigned char *)uri; *c; c++)
        hash = (hash ^ *c) * 0x100000001b3u;
    return nst_printf("%016" PRIx64 ".lock", hash);
}

/* Opens (creating) DIR/NAME, the directory ours and not writable by
 * others, neither of them a symlink.  Returns the fd, or -1 with *err. */
static int
open_lock_file(const char *dir, const char *name, char **err)
{
    struct stat st;
    int dfd, fd = -1;

    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        nst_set_error(err, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                    O_CLOEXEC)) < 0) {
        nst_set_error(err, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (fstat(dfd, &st) < 0 || st.st_uid != geteuid() ||
        (st.st_mode & 022)) {
        nst_set_error(err, "%s: not a directory of this user's that only "
                      "it can write", dir);
    } else if ((fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW |
                            O_NONBLOCK | O_CLOEXEC, 0600)) < 0) {
        nst_set_error(err, "%s/%s: %s", dir, name, strerror(errno));
    } else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        nst_set_error(err, "%s/%s: not a regular file", dir, name);
        close(fd);
        fd = -1;
    }
    close(dfd);
    return fd;
}

/* The pid the lock file names (its holder's, when it wrote it), or 0. */
static long
holder(int fd)
{
    char buf[32] = "";
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n > 0)
        buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

int
vn_lock_take(virConnectPtr conn, unsigned int timeout, bool quiet,
             struct vn_lock **lock, char **err)
{
    char *uri = virConnectGetURI(conn);
    char *dir = NULL, *name = NULL, *why = NULL;
    int fd = -1, ret = -1;

    *lock = NULL;
    if (!uri || !vn_uri_is_local(uri) || !(dir = vn_lock_dir())) {
        ret = 0;
        goto out;
    }
    if (!(name = lock_name(uri)) ||
        (fd = open_lock_file(dir, name, &why)) < 0) {
        vn_warning("cannot take the run lock of '%s' (%s): runs on it are "
                   "not serialised, their re-checks still hold", uri,
                   why ? why : "out of memory");
        ret = 0;
        goto out;
    }
    struct timespec step = { 0, 100 * 1000 * 1000 };
    bool said = false;
    for (unsigned int i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            nst_set_error(err, "cannot lock '%s/%s': %s", dir, name,
                          strerror(errno));
            goto out;
        }
        if (i >= timeout * 10u) {
            nst_set_error(err, "another virt-nestify run (pid %ld) held the "
                          "run lock of '%s' for %u s; nothing changed (lock "
                          "file '%s/%s')", holder(fd), uri, timeout, dir,
                          name);
            goto out;
        }
        if (!said && !quiet)
            fprintf(stderr, "virt-nestify: waiting for another run on '%s' "
                    "(pid %ld) to finish\n", uri, holder(fd));
        said = true;
        nanosleep(&step, NULL);
    }
    /* For people and the message above: who holds it, for what. */
    char *text = nst_printf("%ld %s\n", (long)getpid(), uri);
    if (text && ftruncate(fd, 0) == 0 &&
        pwrite(fd, text, strlen(text), 0) < 0)
        vn_warning("%s/%s: %s", dir, name, strerror(errno));
    free(text);
    if (!(*lock = malloc(sizeof(**lock)))) {
        nst_set_error(err, "out of memory");
        goto out;
    }
    (*lock)->fd = fd;
    fd = -1;
    ret = 0;
 out:
    if (fd >= 0)
        close(fd);
    free(why);
    free(name);
    free(dir);
    free(uri);
    return ret;
}

void
vn_lock_release(struct vn_lock *lock)
{
    if (!lock)
        return;
    close(lock->fd);           /* releases the flock */
    free(lock);
}

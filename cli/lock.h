/*
 * lock.h: the run lock of a connection
 *
 * Runs that change definitions on one libvirt connection take turns:
 * the lock is held from the first read of the other domains' pins to
 * the last check after the define, so a run plans on what the one
 * before it defined.  It is an flock(2) on a file per connection URI,
 * so it serialises the runs of one machine (and user, see
 * vn_lock_dir) only.  What guarantees that no two pinned guests share a
 * CPU across machines, users and other tools is the re-check around
 * every define (live.c); the lock makes those re-checks rarely fail.
 */
#ifndef NESTIFY_LOCK_H
#define NESTIFY_LOCK_H

#include <stdbool.h>

#include <libvirt/libvirt.h>

struct vn_lock;

/*
 * Where run locks live: $VIRT_NESTIFY_LOCK_DIR when set and absolute;
 * else /run/virt-nestify for root and $XDG_RUNTIME_DIR/virt-nestify for
 * other users.  A new string, or NULL when there is none (no runtime
 * directory) or out of memory.
 */
char *vn_lock_dir(void);

/*
 * Takes the run lock of conn's URI, waiting up to timeout seconds for
 * another run to release it (saying so once on stderr unless quiet).
 * A remote URI, or a user without a lock directory, gets no lock: the
 * re-checks still hold (a NULL *lock, return 0).  A lock that cannot
 * be created is a warning, not a failure, for the same reason.
 * Returns 0 with *lock set (release with vn_lock_release, which
 * accepts NULL), or -1 with *err set when another run held it for the
 * whole timeout.
 */
int vn_lock_take(virConnectPtr conn, unsigned int timeout, bool quiet,
                 struct vn_lock **lock, char **err);
void vn_lock_release(struct vn_lock *lock);

#endif /* NESTIFY_LOCK_H */

/*
 * backup.h: backups of domain definitions, and the rollback command
 *
 * A backup is the text of a definition exactly as libvirt dumped it
 * (INACTIVE|SECURE), one file per backup:
 *
 *     DIR/<uuid>-<YYYYmmddTHHMMSS.NNNNNNNNNZ>-<name>.xml
 *
 * The UUID says which domain it belongs to (a name can be reused after
 * an undefine, a UUID is not), the UTC time makes names sort by age, and
 * the name is for people.  Files are 0600 (they hold graphics
 * passwords) in a 0700 directory.
 */
#ifndef NESTIFY_BACKUP_H
#define NESTIFY_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Where backups go by default: /var/lib/virt-nestify/backups for root,
 * else $XDG_STATE_HOME/virt-nestify/backups with XDG_STATE_HOME
 * defaulting to $HOME/.local/state (an empty or relative value is
 * ignored, as the XDG specification says).  Returns a new string the
 * caller frees, or NULL when out of memory or no home can be found.
 */
char *vn_backup_default_dir(void);

/* The same for a process whose effective user is euid (a test seam). */
char *vn_backup_default_dir_as(uid_t euid);

/*
 * Writes xml as a new backup of the domain (domain_name, uuid) in dir,
 * creating dir and its missing parents with mode 0700 (an existing dir
 * everyone may write in without the sticky bit is refused: anyone could
 * remove the backup).  The text goes to a temporary file (O_EXCL,
 * 0600) in dir, is fsynced, renamed to its final name (never over an existing backup) and the directory fsynced,
 * so a backup is either whole or absent.  Returns 0 with *path_out a
 * new string (the backup's path), or -1 with *err set ("backup directory
 * '/x' is not writable: Permission denied") and nothing left behind.
 */
int vn_backup_write(const char *dir, const char *domain_name,
                    const char *uuid, const char *xml, char **path_out,
                    char **err);

/*
 * The backups of the domain with this UUID in dir, newest first.  A
 * missing dir holds no backups; one everyone may write in without the
 * sticky bit is refused (as by vn_backup_write).  Returns 0 with *paths
 * a new array of *n new strings (free with vn_backup_list_free; NULL
 * when *n is 0), or -1 with *err set.
 */
int vn_backup_list(const char *dir, const char *uuid, char ***paths,
                   size_t *n, char **err);
void vn_backup_list_free(char **paths, size_t n);

/*
 * Reads the backup at path for a rollback, trusting it only when it is
 * a regular file (not a symbolic link, not a FIFO: vn_open_regular)
 * owned by the process's effective user or by root: a file someone else
 * put in a shared backup directory is refused ("backup '/x' belongs to
 * 'bob' (uid 1001), not to you or root: refusing to restore it").
 * Returns the text (free()), or NULL with *err set.
 */
char *vn_backup_read(const char *path, size_t *len, char **err);
/* The same for a process whose effective user is euid (a test seam). */
char *vn_backup_read_as(const char *path, uid_t euid, size_t *len,
                        char **err);

/* The options of "virt-nestify rollback" (options.c fills them). */
struct vn_rollback_opts {
    const char *domain;
    const char *connect;
    const char *backup_dir;
    const char *backup;
    bool list;
    bool quiet;
};

/* "virt-nestify rollback ...": argv[0] is the command name. */
int vn_cmd_rollback(int argc, char **argv);

#endif /* NESTIFY_BACKUP_H */

/*
 * cmd-rollback.c: "virt-nestify rollback", redefining a domain from a backup
 *
 * The same care as a live run: the current definition is backed up
 * before anything is defined, so a rollback can itself be rolled back,
 * and every failure before the define leaves the domain as it was (and
 * no backup of its own behind).  It takes the run lock (lock.h).  A
 * backup is only ever restored onto the domain it was taken of (same
 * UUID): libvirt would otherwise define a second domain, or refuse.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "backup.h"
#include "conn.h"
#include "nestify.h"
#include "lock.h"
#include "options.h"
#include "tool.h"

/* Seconds a rollback waits for a run on the same connection. */
#define ROLLBACK_LOCK_WAIT 120

/*
 * The 32 hex digits of a UUID in lower case, dashes and spaces dropped
 * (libvirt accepts those anywhere).  Returns false unless there are
 * exactly 32.
 */
static bool
uuid_normalise(const char *in, char out[33])
{
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (*p == '-' || isspace((unsigned char)*p))
            continue;
        if (!isxdigit((unsigned char)*p) || n == 32)
            return false;
        out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = '\0';
    return n == 32;
}

/*
 * Reads the backup file and checks that it is a domain document of the
 * domain with UUID uuid.  Returns the text (free()) or NULL, reported.
 */
static char *
read_backup(const char *path, const char *name, const char *uuid)
{
    char *err = NULL, *text, *label = NULL;
    const char *doc_id;
    char want[33], have[33];
    struct nst_doc *doc = NULL;
    size_t len;

    if (!(text = vn_backup_read(path, &len, &err))) {
        vn_error("domain '%s': %s", name, err ? err : "out of memory");
        goto fail;
    }
    if (strlen(text) != len) {
        vn_error("backup '%s' is not a domain definition (it holds a NUL "
                 "byte)", path);
        goto fail;
    }
    if (!(label = nst_printf("backup '%s'", path))) {
        vn_error("out of memory");
        goto fail;
    }
    if (nst_doc_parse(text, len, label, &doc, &err) < 0) {
        vn_error("%s", err ? err : "out of memory");
        goto fail;
    }
    doc_id = nst_doc_domain_uuid(doc);
    if (!doc_id || !uuid_normalise(doc_id, have)) {
        vn_error("backup '%s' has no valid <uuid>: cannot tell which domain "
                 "it is of", path);
        goto fail;
    }
    if (!uuid_normalise(uuid, want) || strcmp(have, want) != 0) {
        const char *other = nst_doc_domain_name(doc);
        vn_error("backup '%s' is of domain '%s' with uuid %s, not of '%s' "
                 "(uuid %s)", path, other ? other : "?", doc_id, name, uuid);
        goto fail;
    }
    nst_doc_free(doc);
    free(label);
    return text;

 fail:
    nst_doc_free(doc);
    free(label);
    free(text);
    free(err);
    return NULL;
}

/* --list: one path a line, newest first. */
static int
list_backups(const struct vn_rollback_opts *o, const char *name,
             const char *uuid, const char *dir)
{
    char **paths = NULL, *err = NULL;
    size_t n = 0;

    if (vn_backup_list(dir, uuid, &paths, &n, &err) < 0) {
        vn_error("domain '%s': %s", name, err ? err : "out of memory");
        free(err);
        return VN_EXIT_SYSTEM;
    }
    if (n == 0 && !o->quiet)
        printf("domain '%s' has no backups in %s\n", name, dir);
    for (size_t i = 0; i < n; i++)
        printf("%s\n", paths[i]);
    vn_backup_list_free(paths, n);
    return VN_EXIT_OK;         /* main.c checks that stdout was written */
}

/* The backup to restore, as a new string: FILE or the newest one. */
static char *
pick_backup(const struct vn_rollback_opts *o, const char *name,
            const char *uuid, const char *dir, int *ret)
{
    char **paths = NULL, *err = NULL, *path = NULL;
    size_t n = 0;

    *ret = VN_EXIT_SYSTEM;
    if (o->backup) {
        if (!(path = nst_printf("%s", o->backup)))
            vn_error("out of memory");
        return path;
    }
    if (vn_backup_list(dir, uuid, &paths, &n, &err) < 0) {
        vn_error("domain '%s': %s", name, err ? err : "out of memory");
    } else if (n == 0) {
        vn_error("domain '%s' has no backups in %s", name, dir);
        *ret = VN_EXIT_INPUT;
    } else {
        path = paths[0];
        paths[0] = NULL;
    }
    vn_backup_list_free(paths, n);
    free(err);
    return path;
}

/*
 * After a restore: the CPUs the restored definition pins that other
 * domains pin now (defined since the backup was taken) are shared; the
 * restore stands (it is what was asked), but the operator is told.
 */
static void
warn_shared_pins(virConnectPtr conn, virDomainPtr dom, const char *text)
{
    struct nst_cpuset others, ours;
    struct nst_page_counts pages = { 0 };
    struct nst_doc *doc = NULL;

    nst_cpuset_clear_all(&ours);
    if (vn_conn_others(conn, &dom, 1, false, &others, NULL, &pages,
                       NULL) == 0 &&
        nst_doc_parse(text, strlen(text), "backup", &doc, NULL) == 0 &&
        nst_doc_vcpu_pins(doc, &ours, NULL) == 0) {
        nst_cpuset_intersect(&ours, &others);
        char *cpus = nst_cpuset_is_empty(&ours) ? NULL :
                     nst_cpuset_format(&ours);
        if (cpus)
            vn_warning("domain '%s': the restored definition pins CPUs %s, "
                       "which other domains pin now; apply its profile "
                       "again to place it on free ones", vn_domain_name(dom),
                       cpus);
        free(cpus);
    }
    nst_doc_free(doc);
    nst_page_counts_clear(&pages);
}

/* Backs up the current definition, defines the backup's. */
static int
restore(const struct vn_rollback_opts *o, virConnectPtr conn, virDomainPtr dom,
        const char *dir, const char *path, const char *text)
{
    const char *name = vn_domain_name(dom);
    char uuid[VIR_UUID_STRING_BUFLEN];
    char *err = NULL, *current = NULL, *again = NULL, *saved = NULL;
    char *stored = NULL;
    int ret = VN_EXIT_SYSTEM;

    vn_domain_uuid(dom, uuid);
    if (!(current = vn_domain_xml(dom, true, &err))) {
        vn_error("%s; nothing changed", err);
        goto out;
    }
    if (strcmp(current, text) == 0) {
        if (!o->quiet)
            printf("domain '%s' already matches backup '%s'\n", name, path);
        ret = VN_EXIT_OK;
        goto out;
    }
    if (vn_backup_write(dir, name, uuid, current, &saved, &err) < 0) {
        vn_error("domain '%s': %s; nothing changed", name,
                 err ? err : "out of memory");
        goto out;
    }
    /* Another tool may have redefined it since the dump: its edit
     * wins, and the backup of ours would only repeat what is stored. */
    if (!(again = vn_domain_xml(dom, true, &err)) ||
        strcmp(again, current) != 0) {
        if (unlink(saved) < 0)
            vn_warning("cannot remove '%s': %s", saved, strerror(errno));
        if (again)
            vn_error("domain '%s' changed while virt-nestify was working; "
                     "nothing changed, run again", name);
        else
            vn_error("%s; nothing changed", err);
        goto out;
    }
    if (vn_domain_define(conn, text, &err) < 0) {
        vn_error("domain '%s': libvirt refused backup '%s': %s; the current "
                 "definition is unchanged (saved as '%s')", name, path, err,
                 saved);
        goto out;
    }
    free(err);
    err = NULL;
    if (!(stored = vn_domain_xml(dom, true, &err))) {
        vn_error("%s; backup '%s' was defined (previous definition saved as "
                 "'%s')", err, path, saved);
        goto out;
    }
    if (strcmp(stored, text) != 0)
        vn_warning("domain '%s': libvirt stored backup '%s' with changes of "
                   "its own (its normalisation)", name, path);
    warn_shared_pins(conn, dom, stored);
    if (!o->quiet) {
        printf("domain '%s' restored from '%s' (previous definition saved as "
               "'%s')\n", name, path, saved);
        if (virDomainIsActive(dom) == 1)
            printf("domain '%s' is running: the restored definition takes "
                   "effect at the next power-off (a reboot inside the guest "
                   "is not enough)\n", name);
    }
    ret = VN_EXIT_OK;
 out:
    free(err);
    free(current);
    free(again);
    free(saved);
    free(stored);
    return ret;
}

int
vn_cmd_rollback(int argc, char **argv)
{
    struct vn_rollback_opts o = { 0 };
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    struct vn_lock *lock = NULL;
    char *err = NULL, *dir = NULL, *path = NULL, *text = NULL;
    int ret;

    struct vn_given given;
    int r = vn_options_parse_checked(VN_CMD_ROLLBACK, argc, argv, &o, &given);
    if (r != 0)
        return r > 0 ? VN_EXIT_OK : VN_EXIT_INPUT;

    ret = VN_EXIT_SYSTEM;
    if (!(conn = vn_conn_open(o.connect, &err)))
        goto fail;
    if (!(dom = vn_domain_lookup(conn, o.domain, &err))) {
        virErrorPtr e = virGetLastError();
        if (!e || e->code == VIR_ERR_NO_DOMAIN)
            ret = VN_EXIT_INPUT;
        goto fail;
    }
    const char *name = vn_domain_name(dom);
    int persistent = virDomainIsPersistent(dom);
    if (persistent < 0) {
        nst_set_error(&err, "domain '%s': %s", name, vn_libvirt_error());
        goto fail;
    }
    if (persistent == 0) {
        nst_set_error(&err, "domain '%s' is transient: nothing to roll back",
                      name);
        ret = VN_EXIT_INPUT;
        goto fail;
    }
    dir = o.backup_dir ? nst_printf("%s", o.backup_dir) :
          vn_backup_default_dir();
    if (!dir) {
        nst_set_error(&err, "no backup directory: set HOME or use "
                      "--backup-dir");
        goto fail;
    }
    char uuid[VIR_UUID_STRING_BUFLEN];
    vn_domain_uuid(dom, uuid);
    if (o.list) {
        ret = list_backups(&o, name, uuid, dir);
        goto out;
    }
    if (!(path = pick_backup(&o, name, uuid, dir, &ret)))
        goto out;
    ret = VN_EXIT_INPUT;
    if (!(text = read_backup(path, name, uuid)))
        goto out;
    /* Not in the middle of an apply on this machine: it would plan on
     * the definition this replaces. */
    ret = VN_EXIT_SYSTEM;
    if (vn_lock_take(conn, ROLLBACK_LOCK_WAIT, o.quiet, &lock, &err) < 0)
        goto fail;
    ret = restore(&o, conn, dom, dir, path, text);
    goto out;

 fail:
    vn_error("%s", err ? err : "out of memory");
 out:
    free(err);
    free(dir);
    free(path);
    free(text);
    vn_lock_release(lock);
    if (dom) {
        virDomainFree(dom);
    }
    vn_conn_close(conn);
    return ret;
}

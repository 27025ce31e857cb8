/*
 * host-modprobe.c: the nested setting the kvm module gets when modprobe
 * loads it, for the host command (the doctor's persistent check, and
 * "host --enable" to see what its file changes): the modprobe.d files in
 * kmod's order, then the kernel command line.  Everything is read under
 * --root.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host-doctor.h"
#include "nestify.h"

int
vn_kernel_bool(const char *v, size_t len)
{
    if (len == 1 && strchr("yY1", v[0]))
        return 1;
    if (len == 1 && strchr("nN0", v[0]))
        return 0;
    if (len == 2 && strncmp(v, "on", 2) == 0)
        return 1;
    if (len == 3 && strncmp(v, "off", 3) == 0)
        return 0;
    return -1;
}

/* Module names: modprobe treats '-' and '_' alike. */
static bool
module_is(const char *p, size_t len, const char *module)
{
    if (strlen(module) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char a = p[i] == '-' ? '_' : p[i];
        char b = module[i] == '-' ? '_' : module[i];
        if (a != b)
            return false;
    }
    return true;
}

/* Applies the "options" lines of one file (host path) to *out. */
static int
modprobe_scan(const char *text, const char *path, const char *module,
              struct vn_modprobe_nested *out)
{
    unsigned int lineno = 0;
    const char *p = text;

    while (*p) {
        /* A logical line: a backslash at the end joins the next. */
        struct nst_buf line = { 0 };
        unsigned int first = ++lineno;
        for (;;) {
            const char *eol = strchr(p, '\n');
            size_t n = eol ? (size_t)(eol - p) : strlen(p);
            bool more = n > 0 && p[n - 1] == '\\';
            nst_buf_add(&line, p, more ? n - 1 : n);
            nst_buf_adds(&line, " ");
            p = eol ? eol + 1 : p + n;
            if (!more || !*p)
                break;
            lineno++;
        }
        char *l = nst_buf_finish(&line, NULL);
        if (!l)
            return -1;
        /* Words: "options" MODULE PARAM[=VALUE]... */
        const char *w[64];
        size_t wl[64], nw = 0;
        for (const char *q = l; *q && nw < 64;) {
            while (*q == ' ' || *q == '\t' || *q == '\r')
                q++;
            if (!*q)
                break;
            w[nw] = q;
            while (*q && *q != ' ' && *q != '\t' && *q != '\r')
                q++;
            wl[nw] = (size_t)(q - w[nw]);
            nw++;
        }
        if (nw >= 2 && w[0][0] != '#' && wl[0] == 7 &&
            strncmp(w[0], "options", 7) == 0 &&
            module_is(w[1], wl[1], module)) {
            for (size_t i = 2; i < nw; i++) {
                const char *eq = memchr(w[i], '=', wl[i]);
                size_t klen = eq ? (size_t)(eq - w[i]) : wl[i];
                if (klen != 6 || strncmp(w[i], "nested", 6) != 0)
                    continue;
                /* A bool without a value is true; anything that is not
                 * a bool makes the module refuse to load: not on. */
                int b = eq ? vn_kernel_bool(eq + 1, wl[i] - klen - 1) : 1;
                free(out->file);
                out->value = b == 1 ? 1 : 0;
                out->file = nst_printf("%s", path);
                out->line = first;
                if (!out->file) {
                    free(l);
                    return -1;
                }
            }
        }
        free(l);
    }
    return 0;
}

/* modprobe's configuration directories (kmod's default_config_paths, and
 * the distribution's /usr/lib): a file name found in an earlier one hides
 * the same name in the later ones. */
static const char *const modprobe_dirs[] = {
    "/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d", "/lib/modprobe.d",
};
#define NDIRS (sizeof(modprobe_dirs) / sizeof(*modprobe_dirs))

/* One configuration file: its name and the directory it is read from. */
struct conf_file {
    char *name;
    const char *dir;             /* a modprobe_dirs entry */
};

/* The files modprobe reads, one per name. */
struct conf_list {
    struct conf_file *items;
    size_t n;
    size_t alloc;                /* for NST_GROW */
};

static int
compare_conf_files(const void *a, const void *b)
{
    return strcmp(((const struct conf_file *)a)->name,
                  ((const struct conf_file *)b)->name);
}

/* Adds name (in dir) unless an earlier directory has it. */
static int
add_conf_file(struct conf_list *files, const char *name, const char *dir)
{
    for (size_t i = 0; i < files->n; i++)
        if (strcmp(files->items[i].name, name) == 0)
            return 0;
    if (NST_GROW(files->items, files->n + 1, files->alloc) < 0 ||
        !(files->items[files->n].name = nst_printf("%s", name)))
        return -1;
    files->items[files->n++].dir = dir;
    return 0;
}

/* The files of dir (host path) modprobe reads: *.conf and *.alias. */
static int
list_conf_dir(const char *root, const char *dir, struct conf_list *files,
              char **err)
{
    char *path = vn_root_path(root, dir);
    DIR *d = path ? opendir(path) : NULL;
    int ret = -1;

    if (!path) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    if (!d) {
        free(path);
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        nst_set_error(err, "cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        bool conf = len > 5 && strcmp(e->d_name + len - 5, ".conf") == 0;
        bool alias = len > 6 && strcmp(e->d_name + len - 6, ".alias") == 0;
        if (e->d_name[0] == '.' || !(conf || alias))
            continue;
        if (add_conf_file(files, e->d_name, dir) < 0) {
            nst_set_error(err, "out of memory");
            goto out;
        }
    }
    ret = 0;
 out:
    closedir(d);
    free(path);
    return ret;
}

/*
 * MODULE.nested[=VALUE] on root's /proc/cmdline, the last one: modprobe
 * adds the kernel command line's options after every file's, so it wins.
 * Words split at blanks outside double quotes, as the kernel does.
 */
static int
cmdline_scan(const char *root, const char *module,
             struct vn_modprobe_nested *out)
{
    char *path = vn_root_path(root, "/proc/cmdline");
    size_t len;
    char *text = path ? vn_read_file(path, &len, NULL) : NULL;
    size_t mlen = strlen(module);

    free(path);
    if (!text)
        return 0;                /* no /proc/cmdline: nothing given there */
    for (char *p = text; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        char *w = p;
        for (bool quoted = false;
             *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n'));
             p++)
            if (*p == '"')
                quoted = !quoted;
        size_t wl = (size_t)(p - w);
        if (wl >= mlen + 7 && module_is(w, mlen, module) && w[mlen] == '.' &&
            strncmp(w + mlen + 1, "nested", 6) == 0 &&
            (wl == mlen + 7 || w[mlen + 7] == '=')) {
            const char *v = w + mlen + 8;
            int b = wl == mlen + 7 ? 1 :
                    vn_kernel_bool(v, wl - mlen - 8);
            free(out->file);
            out->value = b == 1 ? 1 : 0;
            out->file = nst_printf("the kernel command line");
            out->line = 0;
            free(out->where);
            out->where = nst_printf("the kernel command line (%.*s)",
                                    (int)wl, w);
            if (!out->file || !out->where) {
                free(text);
                return -1;
            }
        }
    }
    free(text);
    return 0;
}

int
vn_modprobe_nested(const char *root, const char *module,
                   const char *extra_name, const char *extra_text,
                   struct vn_modprobe_nested *out, char **err)
{
    struct conf_list list = { 0 };
    int ret = -1;

    out->value = -1;
    out->file = NULL;
    out->where = NULL;
    out->line = 0;
    /* The file about to be written is /etc's: it hides its name below. */
    if (extra_name && add_conf_file(&list, extra_name, modprobe_dirs[0]) < 0)
        goto oom;
    for (size_t i = 0; i < NDIRS; i++)
        if (list_conf_dir(root, modprobe_dirs[i], &list, err) < 0)
            goto out;
    if (list.n)
        qsort(list.items, list.n, sizeof(*list.items), compare_conf_files);
    for (size_t i = 0; i < list.n; i++) {
        const struct conf_file *f = &list.items[i];
        bool extra = extra_name && f->dir == modprobe_dirs[0] &&
                     strcmp(f->name, extra_name) == 0;
        char *host = nst_printf("%s/%s", f->dir, f->name);
        char *text = NULL;
        if (!host)
            goto oom;
        if (!extra) {
            char *path = vn_root_path(root, host);
            size_t len;
            text = path ? vn_read_file(path, &len, NULL) : NULL;
            free(path);
            if (!text) {
                nst_set_error(err, "cannot read %s: %s", host,
                              strerror(errno));
                free(host);
                goto out;
            }
        }
        int r = modprobe_scan(extra ? extra_text : text, host, module, out);
        free(text);
        free(host);
        if (r < 0)
            goto oom;
    }
    if (out->value >= 0 && !out->where &&
        !(out->where = nst_printf("%s line %u", out->file, out->line)))
        goto oom;
    if (cmdline_scan(root, module, out) < 0)
        goto oom;
    ret = 0;
    goto out;

 oom:
    nst_set_error(err, "out of memory");
 out:
    if (ret < 0) {
        free(out->file);
        free(out->where);
        out->file = out->where = NULL;
    }
    for (size_t i = 0; i < list.n; i++)
        free(list.items[i].name);
    free(list.items);
    return ret;
}

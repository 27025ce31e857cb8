/*
 * profiles.c: where profiles come from, and "virt-nestify profiles"
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nestify.h"
#include "options.h"
#include "tool.h"

char *
vn_profile_name_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len > 8 && strcmp(base + len - 8, ".profile") == 0)
        len -= 8;
    return nst_printf("%.*s", (int)len, base);
}

static int
keep(struct vn_profile_sources *s, char *str)
{
    if (!str || NST_GROW(s->owned, s->nowned + 1, s->owned_alloc) < 0) {
        free(str);
        return -1;
    }
    s->owned[s->nowned++] = str;
    return 0;
}

static int
add_file(struct vn_profile_sources *s, const char *path, char **err)
{
    size_t len;
    char *text = vn_read_file(path, &len, err);
    char *name = vn_profile_name_of(path);
    char *origin = nst_printf("%s", path);
    /* Each kept (freed with the sources) whether or not another is
     * NULL: an unreadable file must not leak the name and origin. */
    if ((keep(s, text) | keep(s, name) | keep(s, origin)) < 0) {
        if (!*err)
            nst_set_error(err, "%s: out of memory", path);
        return -1;
    }
    if (NST_GROW(s->items, s->count + 1, s->alloc) < 0) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    s->items[s->count++] = (struct nst_profile_source){
        .name = name, .origin = origin, .text = text, .len = len,
    };
    return 0;
}

/* The *.profile files of dir, sorted; a missing dir has none. */
static int
add_directory(struct vn_profile_sources *s, const char *dir, char **err)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, alloc = 0;
    int ret = -1;

    if (!d)
        return errno == ENOENT || errno == ENOTDIR ? 0 :
               (nst_set_error(err, "%s: %s", dir, strerror(errno)), -1);
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= 8 ||
            strcmp(e->d_name + len - 8, ".profile") != 0)
            continue;
        if (NST_GROW(names, n + 1, alloc) < 0 ||
            !(names[n] = nst_printf("%s/%s", dir, e->d_name)))
            goto out;
        n++;
    }
    /* An empty directory (the installed profiles.d) leaves names NULL,
     * which qsort may not be given, even for no element. */
    if (n > 1)
        qsort(names, n, sizeof(*names), vn_compare_strings);
    for (size_t i = 0; i < n; i++)
        if (add_file(s, names[i], err) < 0)
            goto out;
    ret = 0;
 out:
    if (ret < 0 && !*err)
        nst_set_error(err, "%s: out of memory", dir);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return ret;
}

int
vn_profile_sources_load(struct vn_profile_sources *out,
                        char *const *extra_files, size_t nextra, char **err)
{
    size_t nbuiltin;
    const struct nst_profile_source *builtin = nst_builtin_profiles(&nbuiltin);
    const char *dir = getenv("VIRT_NESTIFY_PROFILES_DIR");

    memset(out, 0, sizeof(*out));
    out->items = calloc(nbuiltin, sizeof(*out->items));
    if (!out->items) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    memcpy(out->items, builtin, nbuiltin * sizeof(*builtin));
    out->count = nbuiltin;
    if (add_directory(out, dir && *dir ? dir : NST_PROFILES_DIR, err) < 0)
        goto fail;
    for (size_t i = 0; i < nextra; i++)
        if (add_file(out, extra_files[i], err) < 0)
            goto fail;
    return 0;
 fail:
    vn_profile_sources_free(out);
    return -1;
}

void
vn_profile_sources_free(struct vn_profile_sources *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nowned; i++)
        free(s->owned[i]);
    free(s->owned);
    free(s->items);
    memset(s, 0, sizeof(*s));
}

/* "virt-nestify profiles [NAME]" */
int
vn_cmd_profiles(int argc, char **argv)
{
    struct vn_profile_sources sources;
    struct vn_given given;
    char *err = NULL;

    switch (vn_options_parse(VN_CMD_PROFILES, argc, argv, NULL, &given)) {
    case 1: return VN_EXIT_OK;
    case -1: return VN_EXIT_INPUT;
    default: break;
    }
    int first = given.optind;        /* NAME, if any */
    if (argc - first > 1) {
        vn_error("profiles takes at most one profile name");
        return VN_EXIT_INPUT;
    }
    if (vn_profile_sources_load(&sources, NULL, 0, &err) < 0) {
        vn_error("%s", err);
        free(err);
        return VN_EXIT_INPUT;
    }

    int ret = VN_EXIT_OK;
    if (first == argc) {
        /* One line per name; the last source of a name is the one used. */
        for (size_t i = 0; i < sources.count; i++) {
            bool overridden = false;
            for (size_t j = i + 1; j < sources.count; j++)
                if (strcmp(sources.items[i].name, sources.items[j].name) == 0)
                    overridden = true;
            if (overridden)
                continue;
            struct nst_profile p;
            nst_profile_init(&p);
            if (nst_profile_apply_text(&p, &sources.items[i], &err) < 0) {
                vn_error("%s", err);
                free(err);
                err = NULL;
                ret = VN_EXIT_INPUT;
            } else {
                printf("%-12s %s\n", sources.items[i].name,
                       p.description ? p.description : "");
            }
            nst_profile_clear(&p);
        }
    } else {
        const struct nst_profile_source *found = NULL;
        for (size_t i = 0; i < sources.count; i++)
            if (strcmp(sources.items[i].name, argv[first]) == 0)
                found = &sources.items[i];
        if (!found) {
            struct nst_profile p;
            nst_profile_init(&p);
            /* Let composition say what is known. */
            nst_profile_compose(&p, argv[first], sources.items,
                                sources.count, &err);
            vn_error("%s", err ? err : "unknown profile");
            free(err);
            nst_profile_clear(&p);
            ret = VN_EXIT_INPUT;
        } else {
            /* A profile that cannot be used is an error, not a text to
             * show: "profiles NAME" is how a profile gets checked. */
            struct nst_profile p;
            nst_profile_init(&p);
            if (nst_profile_apply_text(&p, found, &err) < 0) {
                vn_error("%s", err);
                free(err);
                ret = VN_EXIT_INPUT;
            } else {
                printf("# %s (%s)\n", found->name, found->origin);
                vn_write_stdout(found->text, found->len);
            }
            nst_profile_clear(&p);
        }
    }
    vn_profile_sources_free(&sources);
    return ret;
}

/*
 * host-files.c: the host model as the tool builds it, from texts and files
 */
#include <stdlib.h>
#include <string.h>

#include "nestify.h"
#include "tool.h"

struct nst_host *
vn_host_build(const char *caps, size_t caps_len, const char *label,
              const char *domcaps, size_t domcaps_len, const char *cpu_map,
              char **err)
{
    return vn_host_build_labelled(caps, caps_len, label, domcaps, domcaps_len,
                                  NULL, cpu_map, err);
}

struct nst_host *
vn_host_build_labelled(const char *caps, size_t caps_len, const char *label,
                       const char *domcaps, size_t domcaps_len,
                       const char *domcaps_label, const char *cpu_map,
                       char **err)
{
    const char *map_path = cpu_map ? cpu_map : NST_CPU_MAP;
    struct nst_host *host = NULL;
    char *map = NULL, *why = NULL;
    size_t map_len;

    if (nst_host_parse(caps, caps_len, domcaps, domcaps_len, &host,
                       &why) < 0) {
        /* Name the document at fault: when the capabilities alone
         * parse, it is the domain capabilities. */
        struct nst_host *alone = NULL;
        char *ignored = NULL;
        if (domcaps && domcaps_label &&
            nst_host_parse(caps, caps_len, NULL, 0, &alone, &ignored) == 0)
            label = domcaps_label;
        nst_host_free(alone);
        free(ignored);
        nst_set_error(err, "%s: %s", label, why);
        goto out;
    }
    /* Without a cpu_map only the built-in list of bogus names is known;
     * the default map is optional, one given by name is not. */
    if (strcmp(map_path, "none") == 0)
        goto out;
    if (!(map = vn_read_file(map_path, &map_len, err))) {
        if (cpu_map)
            goto fail;
        free(*err);
        *err = NULL;
        goto out;
    }
    if (nst_host_load_cpu_map(host, map, map_len, &why) < 0) {
        nst_set_error(err, "%s: %s", map_path, why);
        goto fail;
    }
    /* The host model's own file, beside the map, holds the features
     * the model implies (svm on EPYC); without it, only listed ones. */
    if (host->model) {
        const char *slash = strrchr(map_path, '/');
        char *path = nst_printf("%.*s%sx86_%s.xml",
                                slash ? (int)(slash - map_path) : 0, map_path,
                                slash ? "/" : "", host->model);
        char *model = path ? vn_read_file(path, &map_len, &why) : NULL;
        int bad = model &&
                  nst_host_load_cpu_model(host, model, map_len, &why) < 0;
        if (bad)
            nst_set_error(err, "%s: %s", path, why);
        free(model);
        free(path);
        if (bad)
            goto fail;
    }
    goto out;

 fail:
    nst_host_free(host);
    host = NULL;
 out:
    free(map);
    free(why);
    return host;
}

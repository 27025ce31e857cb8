/*
 * cmd-map.c: virt-nestify map, the host's CPUs and hugepages with the
 * guests on them
 *
 * Offline: the --host-caps host with the pins and hugepages of every
 * --file definition and --taken.  On a connection (-c): vn_map_live,
 * reached through vn_connected.map (cmd-map-live.c links libvirt).  The
 * map itself is the library's (nst_map): this file gathers and prints.
 */
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "options.h"
#include "tool.h"

int
vn_map_print(const struct nst_map *map, enum vn_map_output output,
             enum vn_color color)
{
    char *text = output == VN_MAP_JSON ? nst_map_format_json(map) :
                 output == VN_MAP_SVG ? nst_map_format_svg(map) :
                 nst_map_format_text(map, vn_color_wanted(color));
    int ret = -1;

    if (!text)
        vn_error("out of memory");
    else if (vn_write_stdout(text, strlen(text)) < 0)
        vn_error("cannot write to stdout");
    else
        ret = 0;
    free(text);
    return ret;
}

/* Adds the definition in file to map: its pins and hugepages. */
static int
add_file(struct nst_map *map, const char *file, char **err)
{
    size_t len = 0;
    char *xml = vn_read_file(file, &len, err);
    struct nst_doc *doc = NULL;
    struct nst_cpuset vcpus, threads;
    struct nst_page_use *uses = NULL;
    struct nst_page_counts pages = { 0 };
    size_t nuses = 0;
    int ret = -1;

    nst_cpuset_clear_all(&vcpus);
    nst_cpuset_clear_all(&threads);
    if (xml && nst_doc_parse(xml, len, file, &doc, err) == 0 &&
        nst_doc_vcpu_pins(doc, &vcpus, err) == 0 &&
        nst_doc_thread_pins(doc, &threads, err) == 0 &&
        nst_doc_page_use(doc, &uses, &nuses, err) == 0) {
        const char *name = nst_doc_domain_name(doc);
        ret = nst_page_counts_add_uses(&pages, uses, nuses, 1) < 0 ||
              nst_map_add(map, name ? name : file, &vcpus, &threads, &pages,
                          NULL) < 0 ? -1 : 0;
        if (ret < 0)
            nst_set_error(err, "out of memory");
    } else if (err && *err && xml &&
               strncmp(*err, file, strlen(file)) != 0) {
        /* the parser names the file itself; the pin readers do not */
        char *msg = nst_printf("%s: %s", file, *err);
        free(*err);
        *err = msg;
    }
    nst_page_counts_clear(&pages);
    free(uses);
    nst_doc_free(doc);
    free(xml);
    return ret;
}

/* The offline map: --host-caps, every --file, --taken. */
static int
map_offline(const struct vn_map_opts *o, const struct nst_profile *profile,
            struct nst_map **out, char **err)
{
    size_t len = 0;
    char *caps = vn_read_file(o->plan.host_caps, &len, err);
    struct nst_host *host = caps ? vn_host_build(caps, len, o->plan.host_caps,
                                                 NULL, 0, o->plan.cpu_map,
                                                 err) : NULL;
    struct nst_cpuset housekeeping;
    int ret = VN_EXIT_INPUT;

    free(caps);
    if (!host)
        return VN_EXIT_INPUT;
    if ((o->plan.has_taken &&
         nst_host_check_cpus(host, &o->plan.taken, "--taken", err) < 0) ||
        (profile && nst_profile_check_host(profile, host, err) < 0))
        goto out;
    nst_profile_housekeeping(profile, host, &housekeeping);
    if (!(*out = nst_map_new(host, &housekeeping,
                             o->plan.has_taken ? &o->plan.taken : NULL))) {
        nst_set_error(err, "out of memory");
        ret = VN_EXIT_SYSTEM;
        goto out;
    }
    for (size_t i = 0; i < o->nfiles; i++)
        if (add_file(*out, o->files[i], err) < 0)
            goto out;
    ret = VN_EXIT_OK;
 out:
    if (ret != VN_EXIT_OK) {
        nst_map_free(*out);
        *out = NULL;
    }
    nst_host_free(host);
    return ret;
}

static void
opts_free(struct vn_map_opts *o)
{
    free(o->files);
    free(o->plan.profile);
    free(o->plan.profile_files);
    free(o->plan.sets);
}

int
vn_cmd_map(int argc, char **argv, const struct vn_connected *live)
{
    struct vn_map_opts o = { 0 };
    struct vn_given given;
    struct nst_profile profile;
    struct nst_map *map = NULL;
    char *err = NULL;
    bool has_profile;
    int ret = vn_options_parse_checked(VN_CMD_MAP, argc, argv, &o, &given);

    if (ret != 0) {
        opts_free(&o);
        return ret > 0 ? VN_EXIT_OK : VN_EXIT_INPUT;
    }
    has_profile = o.plan.profile || o.plan.nprofile_files || o.plan.nsets;
    nst_profile_init(&profile);
    if (has_profile && vn_build_profile(&o.plan, &profile, &err) < 0)
        ret = VN_EXIT_INPUT;
    else if (o.plan.connect)
        ret = live ? live->map(&o, has_profile ? &profile : NULL, &map, &err) :
                     vn_not_connected(&err);
    else
        ret = map_offline(&o, has_profile ? &profile : NULL, &map, &err);
    if (ret == VN_EXIT_OK && vn_map_print(map, o.output, o.color) < 0)
        ret = VN_EXIT_SYSTEM;
    else if (ret != VN_EXIT_OK)
        vn_error("%s", err ? err : "out of memory");
    nst_map_free(map);
    nst_profile_clear(&profile);
    free(err);
    opts_free(&o);
    return ret;
}

/*
 * map.h: the map command, offline (cmd-map.c) and on a connection
 * (cmd-map-live.c), and the map after a bulk plan (bulk.c)
 */
#ifndef NESTIFY_MAP_CMD_H
#define NESTIFY_MAP_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "apply.h"
#include "nestify.h"
#include "transform.h"

/* map --output. */
enum vn_map_output { VN_MAP_TEXT, VN_MAP_JSON, VN_MAP_SVG };

struct vn_map_opts {
    /* -c, -H, --cpu-map, --taken and the profile options (whose
     * housekeeping CPUs the map shows) */
    struct vn_plan_opts plan;
    char **files;                /* offline: every --file */
    size_t nfiles;
    size_t files_alloc;
    enum vn_map_output output;
    enum vn_color color;
};

/*
 * The map of the -c connection: its host (or --host-caps), the
 * housekeeping CPUs of profile (NULL: the default) and every domain in
 * name order, a running one with its live pins, which hold the CPUs
 * now (and a note when they differ from its definition).  Returns
 * VN_EXIT_OK with *out set (nst_map_free), or an exit status with *err
 * set.
 */
int vn_map_live(const struct vn_map_opts *o, const struct nst_profile *profile,
                struct nst_map **out, char **err);

/* Writes map to stdout as output asks (text coloured when color says
 * so, as vn_color_wanted decides); -1 (said) when stdout fails. */
int vn_map_print(const struct nst_map *map, enum vn_map_output output,
                 enum vn_color color);

#endif /* NESTIFY_MAP_CMD_H */

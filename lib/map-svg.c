/*
 * map-svg.c: the map as an SVG picture (nestify.h, "map")
 *
 * Written with libxml2's tree API, so the picture is well-formed
 * whatever the domain names hold; self-contained: inline attributes
 * only, no script, no style sheet, no external reference.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "map.h"

#define SVG_NS "http://www.w3.org/2000/svg"
#define BOX_W 44                 /* one CPU */
#define BOX_H 22
#define GAP 4
#define MARGIN 12
#define CORES_PER_ROW 24         /* then the cell's cores wrap */
#define LINE 18                  /* a line of text */

static const char *const guest_fills[] = {
    "#7fc97f", "#80b1d3", "#bc80bd", "#8dd3c7", "#fdb462",
    "#b3de69", "#fccde5", "#bebada", "#ccebc5", "#ffed6f",
};
static const char *const role_fills[MAP_ROLE_LAST] = {
    "#ffffff", "#d9d9d9", "#f2e394", "#969696", NULL, "#e41a1c",
};

struct svg {
    xmlNodePtr root;
    xmlNsPtr ns;
    bool ok;
};

static xmlNodePtr
node(struct svg *s, xmlNodePtr parent, const char *name, const char *text)
{
    xmlNodePtr n = xmlNewTextChild(parent, s->ns, BAD_CAST name,
                                   text ? BAD_CAST text : NULL);
    s->ok = s->ok && n;
    return n;
}

static void
attr(struct svg *s, xmlNodePtr n, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
attr(struct svg *s, xmlNodePtr n, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *value = nst_vprintf(fmt, ap);
    va_end(ap);
    if (!n || !value || !xmlNewProp(n, BAD_CAST name, BAD_CAST value))
        s->ok = false;
    free(value);
}

static void
text_at(struct svg *s, int x, int y, const char *weight, const char *text)
{
    xmlNodePtr t = node(s, s->root, "text", text);
    attr(s, t, "x", "%d", x);
    attr(s, t, "y", "%d", y);
    attr(s, t, "font-family", "monospace");
    attr(s, t, "font-size", "12");
    if (weight)
        attr(s, t, "font-weight", "%s", weight);
}

static void
box(struct svg *s, int x, int y, const char *fill, const char *label)
{
    xmlNodePtr r = node(s, s->root, "rect", NULL);
    attr(s, r, "x", "%d", x);
    attr(s, r, "y", "%d", y);
    attr(s, r, "width", "%d", BOX_W);
    attr(s, r, "height", "%d", BOX_H);
    attr(s, r, "fill", "%s", fill);
    attr(s, r, "stroke", "#333333");
    if (label)
        text_at(s, x + 4, y + 15, NULL, label);
}

static const char *
guest_fill(size_t i)
{
    return guest_fills[i % (sizeof(guest_fills) / sizeof(*guest_fills))];
}

/* The cell's hugepages from y down, a line per size as the text has
 * them; returns the y below. */
static int
draw_pages(struct svg *s, const struct nst_map *map,
           const struct nst_cell *cell, const struct nst_cell *after, int y)
{
    for (size_t k = 0; k < cell->npages; k++) {
        if (cell->pages[k].size_kib <= 4)
            continue;
        struct nst_buf buf = { 0 };
        map_pages_line(&buf, map, cell, after, &cell->pages[k]);
        char *line = nst_buf_finish(&buf, NULL);
        s->ok = s->ok && line;
        text_at(s, MARGIN, y + 13, NULL, line ? line : "");
        free(line);
        y += LINE;
    }
    return y;
}

/* One cell's cores from y down; returns the y below them. */
static int
draw_cell(struct svg *s, const struct nst_map *map,
          const struct nst_cell *cell, const struct nst_cell *after,
          const struct nst_cpuset *over, int y)
{
    unsigned int *firsts = calloc(nst_cpuset_count(&cell->cpus) + 1,
                                  sizeof(*firsts));
    unsigned int rows = nst_host_threads_per_core(map->host);
    size_t n = firsts ? map_cell_cores(map, cell, firsts) : 0;
    char *cpus = nst_cpuset_format(&cell->cpus);
    char *title = cpus ? nst_printf("cell %u: CPUs %s", cell->id, cpus) : NULL;

    s->ok = s->ok && firsts && title;
    text_at(s, MARGIN, y + 13, "bold", title ? title : "");
    y += LINE + 2;
    for (size_t k = 0; k < n; k++) {
        size_t col = k % CORES_PER_ROW;
        if (k && !col)
            y += (int)rows * (BOX_H + 2) + GAP;
        struct nst_cpuset threads;
        map_core_threads(map, cell, firsts[k], &threads);
        int t = 0;
        for (int cpu = nst_cpuset_next(&threads, 0); cpu >= 0;
             cpu = nst_cpuset_next(&threads, (unsigned int)cpu + 1), t++) {
            struct map_cpu info;
            map_cpu_info(map, over, (unsigned int)cpu, &info);
            bool guest = info.role == MAP_VCPU;
            char label[24];
            snprintf(label, sizeof(label), "%d%c", cpu,
                     guest ? map_mark((size_t)info.vcpu_guest) :
                             map_role_mark(info.role));
            box(s, MARGIN + (int)col * (BOX_W + GAP),
                y + t * (BOX_H + 2),
                guest ? guest_fill((size_t)info.vcpu_guest) :
                        role_fills[info.role], label);
        }
    }
    y += n ? (int)rows * (BOX_H + 2) + GAP : 0;
    y = draw_pages(s, map, cell, after, y);
    free(firsts);
    free(cpus);
    free(title);
    return y + GAP;
}

/* The legend from y down: the roles, then a line per guest. */
static int
draw_legend(struct svg *s, const struct nst_map *map, int y)
{
    static const enum map_role roles[] = {
        MAP_FREE, MAP_HOUSEKEEPING, MAP_THREADS, MAP_TAKEN, MAP_OVERCOMMITTED,
    };
    static const char *const legend[] = {
        "free", "housekeeping", "emulator/I/O threads",
        "other domains (taken)", "overcommitted: shared with another",
    };
    for (size_t k = 0; k < sizeof(roles) / sizeof(*roles); k++) {
        char label[4] = { map_role_mark(roles[k]), 0 };
        box(s, MARGIN, y, role_fills[roles[k]], label);
        text_at(s, MARGIN + BOX_W + 8, y + 15, NULL, legend[k]);
        y += BOX_H + 2;
    }
    for (size_t i = 0; i < map->nguests; i++) {
        const struct map_guest *g = &map->guests[i];
        char label[4] = { map_mark(i), 0 };
        char *vcpus = nst_cpuset_format(&g->vcpus);
        char *threads = nst_cpuset_format(&g->threads);
        char *line = vcpus && threads ?
            nst_printf("%s: vCPUs on %s, threads on %s%s%s%s", g->name,
                       *vcpus ? vcpus : "none", *threads ? threads : "none",
                       g->note ? " (" : "", g->note ? g->note : "",
                       g->note ? ")" : "") : NULL;
        s->ok = s->ok && line;
        box(s, MARGIN, y, guest_fill(i), label);
        text_at(s, MARGIN + BOX_W + 8, y + 15, NULL, line ? line : "");
        y += BOX_H + 2;
        free(vcpus);
        free(threads);
        free(line);
    }
    return y;
}

/* The picture's width: its widest cell's row of cores, and room for
 * the legend's lines. */
static int
svg_width(const struct nst_map *map)
{
    size_t cols = 1;
    for (size_t c = 0; c < map->host->ncells; c++) {
        const struct nst_cell *cell = &map->host->cells[c];
        unsigned int *firsts = calloc(nst_cpuset_count(&cell->cpus) + 1,
                                      sizeof(*firsts));
        size_t n = firsts ? map_cell_cores(map, cell, firsts) : 0;
        if (n > cols)
            cols = n < CORES_PER_ROW ? n : CORES_PER_ROW;
        free(firsts);
    }
    int width = 2 * MARGIN + (int)cols * (BOX_W + GAP);
    return width < 720 ? 720 : width;
}

char *
nst_map_format_svg(const struct nst_map *map)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    struct svg s = { .ok = doc != NULL };
    struct nst_cpuset over;
    xmlChar *mem = NULL;
    int len = 0, y = MARGIN;
    char *out = NULL;

    if (doc && (s.root = xmlNewNode(NULL, BAD_CAST "svg")) &&
        (s.ns = xmlNewNs(s.root, BAD_CAST SVG_NS, NULL))) {
        xmlSetNs(s.root, s.ns);
        xmlDocSetRootElement(doc, s.root);
    } else {
        s.ok = false;
    }
    map_all_overcommitted(map, &over);
    xmlNodePtr bg = s.ok ? node(&s, s.root, "rect", NULL) : NULL;
    attr(&s, bg, "width", "100%%");
    attr(&s, bg, "height", "100%%");
    attr(&s, bg, "fill", "#ffffff");
    struct nst_host *after = map_host_after(map);
    s.ok = s.ok && after;
    for (size_t c = 0; s.ok && c < map->host->ncells; c++)
        y = draw_cell(&s, map, &map->host->cells[c], &after->cells[c], &over,
                      y);
    nst_host_free(after);
    if (s.ok)
        y = draw_legend(&s, map, y + GAP);
    attr(&s, s.root, "width", "%d", svg_width(map));
    attr(&s, s.root, "height", "%d", y + MARGIN);
    if (s.ok)
        xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
    if (mem)
        out = strdup((const char *)mem);
    xmlFree(mem);
    xmlFreeDoc(doc);
    return out;
}

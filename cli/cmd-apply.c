/*
 * cmd-apply.c: the default command, applying profiles to a domain
 *
 * Options, then one of two modes.  Offline (--file DOMAIN.xml and
 * --host-caps CAPS.xml) is here; live (--domain, on a libvirt connection)
 * is in live.c.  Both follow DESIGN.md's data path: read inputs, build
 * the host model, compose the profile, let the library edit the document
 * (vn_transform), then act: print, diff, write the file, or define.
 * Nothing is written before every input has been read and the profile
 * applied.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "conn.h"
#include "nestify.h"
#include "options.h"
#include "tool.h"

bool
vn_apply_is_bulk(const struct vn_apply_opts *o)
{
    return o->all || o->ndomains > 1 || o->state || o->match ||
           o->nexcludes;
}

/* Returns -1 on a usage error (already reported), 1 for --help. */
static int
parse_options(int argc, char **argv, struct vn_apply_opts *o)
{
    struct vn_given given;
    char *err = NULL;

    int r = vn_options_parse_checked(VN_CMD_APPLY, argc, argv, o, &given);
    if (r != 0)
        return r;
    o->domain = o->ndomains ? o->domains[0] : NULL;
    o->plan.connect = o->nconnects ? o->connects[0] : NULL;
    o->plan.host_caps = o->plan.nfleet_caps ? o->plan.fleet_caps[0] : NULL;
    o->plan.domcaps = o->plan.nfleet_domcaps ? o->plan.fleet_domcaps[0] :
                      NULL;
    if (o->plan.nfleet_domcaps > o->plan.nfleet_caps) {
        vn_error("--domcaps given %zu times for %zu --host-caps: the Nth "
                 "goes with the Nth --host-caps", o->plan.nfleet_domcaps,
                 o->plan.nfleet_caps);
        return -1;
    }
    if (vn_xslt_check_params(o->plan.xslt_params, o->plan.nxslt_params,
                             &err) < 0) {
        vn_error("%s", err ? err : "out of memory");
        free(err);
        return -1;
    }
    return 0;
}

/* The i-th host of the fleet from its --host-caps (and --domcaps)
 * files. */
static struct nst_host *
build_host(const struct vn_apply_opts *o, size_t i, char **err)
{
    const char *caps_file = o->plan.fleet_caps[i];
    const char *domcaps_file = i < o->plan.nfleet_domcaps ?
                               o->plan.fleet_domcaps[i] : NULL;
    char *caps = NULL, *domcaps = NULL;
    size_t caps_len, domcaps_len = 0;
    struct nst_host *host = NULL;

    if ((caps = vn_read_file(caps_file, &caps_len, err)) &&
        (!domcaps_file ||
         (domcaps = vn_read_file(domcaps_file, &domcaps_len, err))))
        host = vn_host_build_labelled(caps, caps_len, caps_file,
                                      domcaps, domcaps_len, domcaps_file,
                                      o->plan.cpu_map, err);
    free(caps);
    free(domcaps);
    return host;
}

/*
 * The host planned on (the first --host-caps), every other host of an
 * offline fleet read and checked too: a fleet mixing vendors is refused
 * before anything is written.  NULL with *err set.
 */
static struct nst_host *
build_fleet(const struct vn_apply_opts *o, char **err)
{
    size_t n = o->plan.nfleet_caps;
    struct nst_host **hosts = calloc(n ? n : 1, sizeof(*hosts));
    struct nst_host *first = NULL;
    size_t built = 0;

    if (!hosts) {
        nst_set_error(err, "out of memory");
        return NULL;
    }
    for (; built < n; built++)
        if (!(hosts[built] = build_host(o, built, err)))
            goto out;
    if (nst_fleet_check_vendors((const struct nst_host *const *)hosts,
                                (const char *const *)o->plan.fleet_caps, n,
                                err) == 0) {
        first = hosts[0];
        hosts[0] = NULL;
    }
 out:
    for (size_t i = 0; i < built; i++)
        nst_host_free(hosts[i]);
    free(hosts);
    return first;
}

int
vn_print_refusal(const struct vn_apply_opts *o, const struct vn_result *r)
{
    /* One line for the first error; the full report goes in JSON. */
    for (size_t i = 0; i < r->report.findings.n; i++) {
        const struct nst_finding *e = &r->report.findings.items[i];
        if (e->severity == NST_ERROR) {
            vn_error("domain '%s': %s: %s", r->report.domain, e->rule,
                     e->message);
            break;
        }
    }
    if (o->output == VN_OUTPUT_JSON) {
        char *json = nst_report_format_json(&r->report);
        if (json)
            vn_write_stdout(json, strlen(json));
        free(json);
    }
    return VN_EXIT_INPUT;
}

bool
vn_color_wanted(enum vn_color color)
{
    const char *no_color = getenv("NO_COLOR");
    if (color != VN_COLOR_AUTO)
        return color == VN_COLOR_ALWAYS;
    return !(no_color && *no_color) && isatty(STDOUT_FILENO);
}

bool
vn_use_color(const struct vn_apply_opts *o)
{
    return vn_color_wanted(o->color);
}

/* diff with ANSI colours: headers bold, hunks cyan, - red, + green. */
static char *
colorize(const char *diff)
{
    struct nst_buf buf = { 0 };
    for (const char *line = diff; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *color =
            !strncmp(line, "--- ", 4) || !strncmp(line, "+++ ", 4) ? "\033[1m" :
            line[0] == '@' ? "\033[36m" : line[0] == '-' ? "\033[31m" :
            line[0] == '+' ? "\033[32m" : NULL;
        if (color)
            nst_buf_adds(&buf, color);
        nst_buf_add(&buf, line, len);
        if (color)
            nst_buf_adds(&buf, "\033[m");
        if (end)
            nst_buf_adds(&buf, "\n");
        line += len + (end ? 1 : 0);
    }
    return nst_buf_finish(&buf, NULL);
}

int
vn_print_report(const struct vn_apply_opts *o, const struct vn_result *r,
                const char *text, size_t len, const char *label)
{
    char *report = o->output == VN_OUTPUT_JSON ?
                   nst_report_format_json(&r->report) :
                   nst_report_format_text(&r->report);
    char *diff = NULL;
    int ret = -1;

    if (!report)
        goto out;
    if (o->output == VN_OUTPUT_JSON || !(o->dry_run || o->check)) {
        ret = vn_write_stdout(report, strlen(report));
        goto out;
    }
    /* Review: report, then a diff with secrets masked.  "diff -u"
     * labels; patch ignores what follows the tab. */
    char *a = nst_printf("%s\t(current)", label);
    char *b = nst_printf("%s\t(profile %s)", label, r->report.profile);
    char *why = NULL;
    char *old_text = vn_mask_secrets(text, len, label, &why);
    char *new_text = old_text ? vn_mask_secrets(r->out, r->out_len, label,
                                                &why) : NULL;
    if (a && b && old_text && new_text)
        diff = nst_diff_unified(old_text, strlen(old_text), new_text,
                                strlen(new_text), a, b);
    free(a);
    free(b);
    free(old_text);
    free(new_text);
    if (why) {
        /* nothing unmasked is printed, not even the report */
        vn_error("%s", why);
        free(why);
        free(report);
        return -1;
    }
    if (diff && vn_use_color(o)) {
        char *colored = colorize(diff);
        free(diff);
        diff = colored;
    }
    if (diff)
        ret = vn_write_stdout(report, strlen(report)) ||
              vn_write_stdout(diff, strlen(diff)) ? -1 : 0;
 out:
    if (ret < 0)
        vn_error("cannot write to stdout: %s", strerror(errno));
    free(report);
    free(diff);
    return ret;
}

/* --file: the document from a file, the result to stdout or the file.
 * live: for cpu-mode=baseline, which only virt-nestify-live computes. */
static int
apply_offline(const struct vn_apply_opts *opts,
              const struct nst_profile *profile,
              const struct vn_connected *live)
{
    struct vn_apply_opts mine = *opts;
    const struct vn_apply_opts *o = &mine;
    struct nst_host *host = NULL;
    struct vn_result r = { 0 };
    char *err = NULL, *text = NULL, *baseline = NULL;
    size_t len = 0;
    int ret = VN_EXIT_INPUT;

    const char *label = strcmp(o->file, "-") ? o->file : "stdin";
    if (!(host = build_fleet(o, &err))) {
        vn_error("%s", err ? err : "out of memory");
        goto out;
    }
    if (profile->nested && profile->cpu_mode == NST_CPU_BASELINE) {
        /* vn_cmd_apply handed the run over when there is no live */
        ret = live->baseline_files(o->plan.fleet_caps, o->plan.nfleet_caps,
                                   o->plan.fleet_domcaps,
                                   o->plan.nfleet_domcaps, o->plan.cpu_map,
                                   &baseline, &err);
        if (ret != VN_EXIT_OK) {
            vn_error("%s", err ? err : "out of memory");
            goto out;
        }
        mine.plan.baseline_cpu = baseline;
        ret = VN_EXIT_INPUT;
    }
    if (!(text = vn_read_file(o->file, &len, &err)) ||
        vn_transform(&o->plan, profile, host,
                     o->plan.has_taken ? &o->plan.taken : NULL,
                     text, len, label, &r, &err) < 0) {
        vn_error("%s", err ? err : "out of memory");
        goto out;
    }
    if (r.refused) {
        ret = vn_print_refusal(o, &r);
        goto out;
    }
    ret = VN_EXIT_SYSTEM;
    if (o->in_place || o->dry_run || o->check ||
        o->output == VN_OUTPUT_JSON) {
        if (!(o->quiet && o->in_place) &&
            vn_print_report(o, &r, text, len, o->file) < 0)
            goto out;
    } else {
        /* The XML is the output; the report goes to stderr. */
        char *report = o->quiet ? NULL : nst_report_format_text(&r.report);
        if (report)
            fputs(report, stderr);
        free(report);
        if (vn_write_stdout(r.out, r.out_len) < 0) {
            vn_error("cannot write to stdout: %s", strerror(errno));
            goto out;
        }
    }
    if (o->in_place && r.pending &&
        vn_write_file_atomic(o->file, r.out, r.out_len, &err) < 0) {
        vn_error("%s", err);
        goto out;
    }
    ret = o->check && r.pending ? VN_EXIT_PENDING : VN_EXIT_OK;
 out:
    free(err);
    free(text);
    free(baseline);
    vn_result_clear(&r);
    nst_host_free(host);
    return ret;
}

int
vn_cmd_apply(int argc, char **argv, const struct vn_connected *live)
{
    struct vn_apply_opts o = { .output = VN_OUTPUT_TEXT, .timeout = 120 };
    struct nst_profile profile;
    char *err = NULL;
    int ret;

    nst_profile_init(&profile);
    int r = parse_options(argc, argv, &o);
    if (r != 0) {
        ret = r > 0 ? VN_EXIT_OK : VN_EXIT_INPUT;
    } else if (vn_build_profile(&o.plan, &profile, &err) < 0) {
        vn_error("%s", err ? err : "out of memory");
        ret = VN_EXIT_INPUT;
    } else if (o.plan.xslt &&
               !(o.plan.xslt_sheet = vn_xslt_load(o.plan.xslt,
                                                  o.plan.xslt_params,
                                                  o.plan.nxslt_params,
                                                  &err))) {
        /* before any connection: a bad stylesheet changes nothing */
        vn_error("%s", err ? err : "out of memory");
        ret = VN_EXIT_INPUT;
    } else {
        /* main.c handed connected runs over to virt-nestify-live; an
         * offline baseline is known only now, from the profile */
        ret = o.file && !live && profile.nested &&
              profile.cpu_mode == NST_CPU_BASELINE ? VN_EXIT_HANDOFF :
              o.file ? apply_offline(&o, &profile, live) :
              live ? live->apply(&o, &profile) : vn_not_connected(NULL);
    }
    free(o.plan.profile);
    free(o.plan.profile_files);
    free(o.plan.sets);
    free(o.domains);
    free(o.excludes);
    free(o.connects);
    free(o.plan.fleet_caps);
    free(o.plan.fleet_domcaps);
    free(o.plan.xslt_params);
    vn_xslt_free(o.plan.xslt_sheet);
    free(err);
    nst_profile_clear(&profile);
    return ret;
}

/*
 * cmd-lint.c: "virt-nestify lint", what is wrong with a domain
 *
 * Options, the offline mode (--file, with --host-caps or without a host)
 * and the output; the library's nst_lint() finds, this file prints.  The
 * live mode (--domain, --all on a connection) is in cmd-lint-live.c, the only
 * part of the command that links libvirt: this file includes no libvirt
 * header and reaches it only through the struct vn_connected that
 * virt-nestify-live's main.c passes (tool.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nestify.h"
#include "lint.h"
#include "options.h"
#include "tool.h"

/* The host from --host-caps (and --domcaps), or NULL without them;
 * -1 with *err set when a file cannot be read or used. */
static int
build_host(const struct vn_lint_opts *o, struct nst_host **host, char **err)
{
    char *caps = NULL, *domcaps = NULL;
    size_t caps_len, domcaps_len = 0;

    *host = NULL;
    if (!o->host_caps)
        return 0;
    if ((caps = vn_read_file(o->host_caps, &caps_len, err)) &&
        (!o->domcaps ||
         (domcaps = vn_read_file(o->domcaps, &domcaps_len, err))))
        *host = vn_host_build_labelled(caps, caps_len, o->host_caps, domcaps,
                                       domcaps_len, o->domcaps, o->cpu_map,
                                       err);
    free(caps);
    free(domcaps);
    return *host ? 0 : -1;
}

/* The other hosts of an offline fleet (every --host-caps after the
 * first), appended to fleet after host; -1 with *err set. */
static int
build_fleet(const struct vn_lint_opts *o, const struct nst_host **fleet,
            char **err)
{
    for (size_t i = 1; i < o->nfleet_caps; i++) {
        char *caps;
        size_t len;
        if (!(caps = vn_read_file(o->fleet_caps[i], &len, err)))
            return -1;
        fleet[i] = vn_host_build_labelled(caps, len, o->fleet_caps[i], NULL,
                                          0, NULL, o->cpu_map, err);
        free(caps);
        if (!fleet[i])
            return -1;
    }
    return 0;
}

/* --file: one document, labelled by its file name. */
static int
lint_file(const struct vn_lint_opts *o, struct vn_lint_results *out,
          char **err)
{
    struct nst_host *host = NULL;
    struct nst_doc *doc = NULL;
    char *text = NULL;
    size_t len;
    int ret = VN_EXIT_INPUT;
    const char *label = strcmp(o->file, "-") ? o->file : "stdin";
    size_t nfleet = o->nfleet_caps;
    const struct nst_host **fleet = calloc(nfleet ? nfleet : 1,
                                           sizeof(*fleet));

    if (!fleet) {
        nst_set_error(err, "out of memory");
        return VN_EXIT_SYSTEM;
    }
    /* Without a host, --taken is only compared with the domain's pins. */
    if (build_host(o, &host, err) < 0 ||
        build_fleet(o, fleet, err) < 0 ||
        (host && o->has_taken &&
         nst_host_check_cpus(host, &o->taken, "--taken", err) < 0) ||
        !(text = vn_read_file(o->file, &len, err)) ||
        nst_doc_parse(text, len, label, &doc, err) < 0)
        goto out;
    if (!(out->items = calloc(1, sizeof(*out->items)))) {
        nst_set_error(err, "out of memory");
        goto out;
    }
    struct nst_lint_options opts = {
        .host = host,
        .taken = o->has_taken ? &o->taken : NULL,
        .fleet = fleet,
        .nfleet = nfleet,
    };
    fleet[0] = host;
    if (nst_lint(doc, &opts, label, &out->items[0]) < 0) {
        nst_set_error(err, "out of memory");
        ret = VN_EXIT_SYSTEM;
        goto out;
    }
    out->count = 1;
    ret = VN_EXIT_OK;
 out:
    nst_doc_free(doc);
    free(text);
    nst_host_free(host);
    for (size_t i = 1; i < nfleet; i++)
        nst_host_free((struct nst_host *)fleet[i]);
    free(fleet);
    return ret;
}

/* Prints every result; returns -1 (reported) when stdout fails. */
static int
print_results(const struct vn_lint_opts *o, const struct vn_lint_results *r)
{
    struct nst_buf buf = { 0 };

    if (o->output == VN_OUTPUT_JSON) {
        char *json = nst_lint_format_json(r->items, r->count);
        if (json)
            nst_buf_adds(&buf, json);
        else
            buf.oom = 1;
        free(json);
    } else {
        for (size_t i = 0; i < r->count; i++) {
            char *text = nst_lint_format_text(&r->items[i]);
            if (text)
                nst_buf_adds(&buf, text);
            else
                buf.oom = 1;
            free(text);
        }
    }
    size_t len;
    char *data = nst_buf_finish(&buf, &len);
    if (!data) {
        vn_error("out of memory");
        return -1;
    }
    int ret = vn_write_stdout(data, len);
    if (ret < 0)
        vn_error("cannot write to stdout: %s", strerror(errno));
    free(data);
    return ret;
}

int
vn_cmd_lint(int argc, char **argv, const struct vn_connected *live)
{
    struct vn_lint_opts o = { .output = VN_OUTPUT_TEXT };
    struct vn_lint_results results = { 0 };
    char *err = NULL;
    int ret;

    struct vn_given given;
    int r = vn_options_parse_checked(VN_CMD_LINT, argc, argv, &o, &given);
    if (r != 0) {
        ret = r > 0 ? VN_EXIT_OK : VN_EXIT_INPUT;
        goto out;
    }
    o.host_caps = o.nfleet_caps ? o.fleet_caps[0] : NULL;
    /* main.c handed --domain and --all over to virt-nestify-live */
    ret = o.file ? lint_file(&o, &results, &err) :
          live ? live->lint(&o, &results, &err) : vn_not_connected(&err);
    if (ret != VN_EXIT_OK) {
        vn_error("%s", err ? err : "out of memory");
        goto out;
    }
    if (print_results(&o, &results) < 0) {
        ret = VN_EXIT_SYSTEM;
        goto out;
    }
    for (size_t i = 0; i < results.count; i++)
        if (nst_findings_count(&results.items[i].findings, NST_ERROR))
            ret = VN_EXIT_FINDINGS;
 out:
    for (size_t i = 0; i < results.count; i++)
        nst_lint_result_clear(&results.items[i]);
    free(o.fleet_caps);
    free(results.items);
    free(o.domains);
    free(err);
    return ret;
}

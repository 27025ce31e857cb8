/*
 * cmd-lint.c: "virt-nestify lint", what is wrong with a domain
 *
 * Options, the offline mode (--file, with --host-caps or without a host)
 * and the output; the library's nst_lint() finds, this file prints.  The
 * live mode (--domain, --all on a connection) is in cmd-lint-live.c, the only
 * part of the command that links libvirt: this file includes no libvirt
 * header and reaches it only through vn_lint_live() (tool.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "lint.h"
#include "tool.h"

static void
usage(FILE *fp)
{
    fputs(
"usage: virt-nestify lint --file DOMAIN.xml|- [--host-caps CAPS.xml] [options]\n"
"       virt-nestify lint --domain D|--all [-c URI] [options]\n"
"\n"
"Says what is wrong with a domain without changing it: CPU features\n"
"libvirt does not know, the wrong vendor's virtualization feature,\n"
"disabled mitigations, bad pins, hugepages the host cannot give, a\n"
"topology or memory limit that does not fit (docs/lint.md).\n"
"\n"
"  -f, --file FILE         offline: the domain XML ('-' reads stdin)\n"
"  -d, --domain D          live: a domain (name, UUID or ID); repeatable\n"
"      --all               live: every domain of the connection\n"
"  -c, --connect URI       live: libvirt URI (default: $LIBVIRT_DEFAULT_URI)\n"
"  -H, --host-caps FILE    host capabilities XML (virsh capabilities);\n"
"                          offline without it, host rules are skipped\n"
"      --domcaps FILE      domain capabilities XML (with --host-caps)\n"
"      --cpu-map FILE      libvirt's x86_features.xml ('none': built-in list)\n"
"      --taken CPULIST     host CPUs other domains' vCPUs pin\n"
"  -o, --output text|json  findings as lines (default) or one JSON document\n"
"  -h, --help              this text\n"
"\n"
"Exit: 0 no error found (warnings only, or nothing), 1 errors found,\n"
"2 usage or bad input, 3 libvirt or system failure.\n", fp);
}

/* Returns -1 on a usage error (already reported), 1 for --help. */
static int
parse_options(int argc, char **argv, struct vn_lint_opts *o)
{
    enum { OPT_ALL = 256, OPT_DOMCAPS, OPT_CPU_MAP, OPT_TAKEN };
    static const struct option longopts[] = {
        { "file", required_argument, NULL, 'f' },
        { "domain", required_argument, NULL, 'd' },
        { "all", no_argument, NULL, OPT_ALL },
        { "connect", required_argument, NULL, 'c' },
        { "host-caps", required_argument, NULL, 'H' },
        { "domcaps", required_argument, NULL, OPT_DOMCAPS },
        { "cpu-map", required_argument, NULL, OPT_CPU_MAP },
        { "taken", required_argument, NULL, OPT_TAKEN },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "f:d:c:H:o:h", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'f': o->file = optarg; break;
        case 'd': {
            char **more = realloc(o->domains,
                                  (o->ndomains + 1) * sizeof(*more));
            if (!more) {
                vn_error("out of memory");
                return -1;
            }
            o->domains = more;
            o->domains[o->ndomains++] = optarg;
            break;
        }
        case OPT_ALL: o->all = true; break;
        case 'c': o->connect = optarg; break;
        case 'H': o->host_caps = optarg; break;
        case OPT_DOMCAPS: o->domcaps = optarg; break;
        case OPT_CPU_MAP: o->cpu_map = optarg; break;
        case OPT_TAKEN:
            if (vn_parse_taken(optarg, &o->taken, &o->has_taken) < 0)
                return -1;
            break;
        case 'o':
            if (vn_parse_output(optarg, &o->output) < 0)
                return -1;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            fputs("Try 'virt-nestify lint --help'.\n", stderr);
            return -1;
        }
    }
    if (optind < argc) {
        vn_error("unexpected argument '%s'", argv[optind]);
        return -1;
    }
    bool live = o->ndomains || o->all;
    if (!o->file == !live) {
        vn_error("give either --domain/--all (live) or --file (offline)");
        return -1;
    }
    if (o->all && o->ndomains) {
        vn_error("--all and --domain select differently: give one");
        return -1;
    }
    if (o->file && o->connect) {
        vn_error("--connect needs --domain or --all");
        return -1;
    }
    if (!o->host_caps && (o->domcaps || (o->file && o->cpu_map))) {
        vn_error("--domcaps%s need --host-caps",
                 o->file ? " and --cpu-map" : "");
        return -1;
    }
    return 0;
}

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

    /* Without a host, --taken is only compared with the domain's pins. */
    if (build_host(o, &host, err) < 0 ||
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
    };
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
vn_cmd_lint(int argc, char **argv)
{
    struct vn_lint_opts o = { .output = VN_OUTPUT_TEXT };
    struct vn_lint_results results = { 0 };
    char *err = NULL;
    int ret;

    int r = parse_options(argc, argv, &o);
    if (r != 0) {
        ret = r > 0 ? VN_EXIT_OK : VN_EXIT_INPUT;
        goto out;
    }
    ret = o.file ? lint_file(&o, &results, &err) :
          vn_lint_live(&o, &results, &err);
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
    free(results.items);
    free(o.domains);
    free(err);
    return ret;
}

/*
 * apply.c: the default command, applying profiles to a domain
 *
 * Offline: --file DOMAIN.xml (or -) and --host-caps CAPS.xml.  The data
 * path is the one of DESIGN.md: read inputs, build the host model, compose
 * the profile, let the library edit the document, then write the result
 * (stdout, a diff, the file in place, or the JSON report).  Nothing is
 * written before every input has been read and the profile applied.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "tool.h"

enum output_format { OUTPUT_TEXT, OUTPUT_JSON };

struct apply_opts {
    const char *file;
    const char *host_caps;
    const char *domcaps;
    const char *cpu_map;
    const char *profile;
    const char *taken;
    char **profile_files;
    size_t nprofile_files;
    char **sets;
    size_t nsets;
    bool strict;
    bool dry_run;
    bool check;
    bool in_place;
    bool quiet;
    enum output_format output;
};

static void
usage(FILE *fp)
{
    fputs(
"usage: virt-nestify --file DOMAIN.xml|- --host-caps CAPS.xml --profile P [options]\n"
"       virt-nestify profiles [NAME]\n"
"\n"
"Rewrites a libvirt domain's <cpu>, <cputune>, <numatune>, <memtune> and\n"
"<memoryBacking> for nested virtualization (nested), speed (perf) or\n"
"safety (secure).\n"
"\n"
"  -f, --file FILE         domain XML to rewrite ('-' reads stdin)\n"
"  -H, --host-caps FILE    host capabilities XML (virsh capabilities)\n"
"      --domcaps FILE      domain capabilities XML (virsh domcapabilities)\n"
"      --cpu-map FILE      libvirt's x86_features.xml ('none': built-in list)\n"
"  -p, --profile P[,P...]  profiles to apply, left to right\n"
"      --profile-file F    also read profile F (its name: base name)\n"
"      --set KEY=VALUE     override a profile setting (repeatable)\n"
"      --taken CPULIST     host CPUs other domains already pin\n"
"      --strict            treat warnings as errors\n"
"  -n, --dry-run           print the report and a unified diff, change nothing\n"
"      --check             like --dry-run, exit 1 when a change is pending\n"
"  -i, --in-place          rewrite FILE atomically\n"
"  -o, --output text|json  report format (json: one document on stdout)\n"
"  -q, --quiet             no report on stderr\n"
"  -h, --help              this text\n"
"\n"
"Exit: 0 done or nothing to change, 1 --check found a pending change,\n"
"2 usage, bad input or refused, 3 system failure.\n", fp);
}

static int
push(char ***list, size_t *n, char *item)
{
    char **more = realloc(*list, (*n + 1) * sizeof(**list));
    if (!more)
        return -1;
    *list = more;
    (*list)[(*n)++] = item;
    return 0;
}

/* Returns -1 on a usage error (already reported), 1 for --help. */
static int
parse_options(int argc, char **argv, struct apply_opts *o)
{
    enum { OPT_DOMCAPS = 256, OPT_CPU_MAP, OPT_PROFILE_FILE, OPT_SET,
           OPT_TAKEN, OPT_STRICT, OPT_CHECK };
    static const struct option longopts[] = {
        { "file", required_argument, NULL, 'f' },
        { "host-caps", required_argument, NULL, 'H' },
        { "domcaps", required_argument, NULL, OPT_DOMCAPS },
        { "cpu-map", required_argument, NULL, OPT_CPU_MAP },
        { "profile", required_argument, NULL, 'p' },
        { "profile-file", required_argument, NULL, OPT_PROFILE_FILE },
        { "set", required_argument, NULL, OPT_SET },
        { "taken", required_argument, NULL, OPT_TAKEN },
        { "strict", no_argument, NULL, OPT_STRICT },
        { "dry-run", no_argument, NULL, 'n' },
        { "check", no_argument, NULL, OPT_CHECK },
        { "in-place", no_argument, NULL, 'i' },
        { "output", required_argument, NULL, 'o' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "f:H:p:nio:qh", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'f': o->file = optarg; break;
        case 'H': o->host_caps = optarg; break;
        case OPT_DOMCAPS: o->domcaps = optarg; break;
        case OPT_CPU_MAP: o->cpu_map = optarg; break;
        case 'p': o->profile = optarg; break;
        case OPT_PROFILE_FILE:
            if (push(&o->profile_files, &o->nprofile_files, optarg) < 0)
                return -1;
            break;
        case OPT_SET:
            if (push(&o->sets, &o->nsets, optarg) < 0)
                return -1;
            break;
        case OPT_TAKEN: o->taken = optarg; break;
        case OPT_STRICT: o->strict = true; break;
        case 'n': o->dry_run = true; break;
        case OPT_CHECK: o->check = true; break;
        case 'i': o->in_place = true; break;
        case 'q': o->quiet = true; break;
        case 'o':
            if (strcmp(optarg, "text") == 0) {
                o->output = OUTPUT_TEXT;
            } else if (strcmp(optarg, "json") == 0) {
                o->output = OUTPUT_JSON;
            } else {
                vn_error("--output must be 'text' or 'json', not '%s'",
                         optarg);
                return -1;
            }
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            fputs("Try 'virt-nestify --help'.\n", stderr);
            return -1;
        }
    }
    if (optind < argc) {
        vn_error("unexpected argument '%s'", argv[optind]);
        return -1;
    }
    if (!o->file) {
        vn_error("--file is required (live mode is not available yet)");
        return -1;
    }
    if (!o->host_caps) {
        vn_error("--host-caps is required with --file");
        return -1;
    }
    if (!o->profile && !o->nprofile_files) {
        vn_error("--profile is required (see 'virt-nestify profiles')");
        return -1;
    }
    if (o->in_place && strcmp(o->file, "-") == 0) {
        vn_error("--in-place needs a file, not stdin");
        return -1;
    }
    if ((o->dry_run || o->check) && o->in_place) {
        vn_error("--in-place cannot be combined with --dry-run or --check");
        return -1;
    }
    return 0;
}

/* Builds the profile: named profiles (or the --profile-file names when
 * no --profile), then every --set. */
static int
build_profile(const struct apply_opts *o, struct nst_profile *profile,
              char **err)
{
    struct vn_profile_sources sources;
    char *names = NULL;
    int ret = -1;

    if (vn_profile_sources_load(&sources, o->profile_files,
                                o->nprofile_files, err) < 0)
        return -1;
    if (o->profile) {
        names = nst_printf("%s", o->profile);
    } else {
        struct nst_buf buf = { 0 };
        for (size_t i = 0; i < o->nprofile_files; i++) {
            char *name = vn_profile_name_of(o->profile_files[i]);
            nst_buf_addf(&buf, "%s%s", i ? "," : "", name ? name : "");
            free(name);
        }
        names = nst_buf_finish(&buf, NULL);
    }
    if (!names) {
        nst_set_error(err, "out of memory");
        goto out;
    }
    if (nst_profile_init(profile) < 0 ||
        nst_profile_compose(profile, names, sources.items, sources.count,
                            err) < 0)
        goto out;
    for (size_t i = 0; i < o->nsets; i++)
        if (nst_profile_set(profile, o->sets[i], err) < 0)
            goto out;
    ret = 0;
 out:
    free(names);
    vn_profile_sources_free(&sources);
    return ret;
}

/* The host from --host-caps (and --domcaps) files. */
static struct nst_host *
build_host(const struct apply_opts *o, char **err)
{
    char *caps = NULL, *domcaps = NULL;
    size_t caps_len, domcaps_len = 0;
    struct nst_host *host = NULL;

    if ((caps = vn_read_file(o->host_caps, &caps_len, err)) &&
        (!o->domcaps ||
         (domcaps = vn_read_file(o->domcaps, &domcaps_len, err))))
        host = vn_host_build(caps, caps_len, o->host_caps, domcaps,
                             domcaps_len, o->cpu_map, err);
    free(caps);
    free(domcaps);
    return host;
}

int
vn_cmd_apply(int argc, char **argv)
{
    struct apply_opts o = { .output = OUTPUT_TEXT };
    struct nst_profile profile;
    struct nst_host *host = NULL;
    struct nst_doc *doc = NULL;
    struct nst_report report = { 0 };
    struct nst_cpuset taken;
    char *err = NULL, *text = NULL, *out = NULL, *diff = NULL, *msg = NULL;
    size_t len = 0, out_len = 0;
    int ret = VN_EXIT_INPUT;

    nst_profile_init(&profile);
    int r = parse_options(argc, argv, &o);
    if (r != 0) {
        ret = r > 0 ? VN_EXIT_OK : VN_EXIT_INPUT;
        goto out;
    }
    if (o.taken && nst_cpuset_parse(o.taken, &taken, &err) < 0) {
        vn_error("--taken: %s", err);
        goto out;
    }
    if (build_profile(&o, &profile, &err) < 0 ||
        !(host = build_host(&o, &err)) ||
        !(text = vn_read_file(o.file, &len, &err)) ||
        nst_doc_parse(text, len, strcmp(o.file, "-") ? o.file : "stdin",
                      &doc, &err) < 0) {
        vn_error("%s", err ? err : "out of memory");
        goto out;
    }

    const char *name = nst_doc_domain_name(doc);
    nst_report_init(&report, name ? name : o.file, profile.name);
    struct nst_apply_options opts = {
        .profile = &profile,
        .host = host,
        .taken = o.taken ? &taken : NULL,
        .strict = o.strict,
    };
    bool refused = nst_apply(doc, &opts, &report) < 0;
    if (refused) {
        /* One line for the first error; the full report stays in JSON. */
        for (size_t i = 0; i < report.nentries; i++) {
            if (report.entries[i].severity == NST_ERROR) {
                vn_error("domain '%s': %s: %s", report.domain,
                         report.entries[i].rule, report.entries[i].message);
                break;
            }
        }
        if (o.output == OUTPUT_JSON) {
            char *json = nst_report_format_json(&report);
            if (json)
                vn_write_stdout(json, strlen(json));
            free(json);
        }
        goto out;
    }

    if (!(out = nst_doc_serialize(doc, &out_len)))
        goto oom;
    bool pending = out_len != len || memcmp(out, text, len) != 0;
    if (o.dry_run || o.check) {
        /* "diff -u" labels; patch ignores what follows the tab. */
        char *a = nst_printf("%s\t(current)", o.file);
        char *b = nst_printf("%s\t(profile %s)", o.file, profile.name);
        diff = a && b ? nst_diff_unified(text, len, out, out_len, a, b) : NULL;
        free(a);
        free(b);
        if (!diff)
            goto oom;
    }

    char *report_text = o.output == OUTPUT_JSON ?
                        nst_report_format_json(&report) :
                        nst_report_format_text(&report);
    if (!report_text)
        goto oom;
    int werr = 0;
    if (o.output == OUTPUT_JSON) {
        werr = vn_write_stdout(report_text, strlen(report_text));
    } else if (o.dry_run || o.check) {
        werr = vn_write_stdout(report_text, strlen(report_text)) ||
               vn_write_stdout(diff, strlen(diff));
    } else if (o.in_place) {
        if (!o.quiet)
            werr = vn_write_stdout(report_text, strlen(report_text));
    } else {
        if (!o.quiet)
            fputs(report_text, stderr);
        werr = vn_write_stdout(out, out_len);
    }
    free(report_text);
    if (werr) {
        vn_error("cannot write to stdout: %s", strerror(errno));
        ret = VN_EXIT_SYSTEM;
        goto out;
    }
    if (o.in_place && pending &&
        vn_write_file_atomic(o.file, out, out_len, &err) < 0) {
        vn_error("%s", err);
        ret = VN_EXIT_SYSTEM;
        goto out;
    }
    ret = o.check && pending ? VN_EXIT_PENDING : VN_EXIT_OK;
    goto out;

 oom:
    vn_error("out of memory");
    ret = VN_EXIT_SYSTEM;
 out:
    free(o.profile_files);
    free(o.sets);
    free(err);
    free(msg);
    free(text);
    free(out);
    free(diff);
    nst_report_clear(&report);
    nst_doc_free(doc);
    nst_host_free(host);
    nst_profile_clear(&profile);
    return ret;
}

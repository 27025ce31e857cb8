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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "conn.h"
#include "internal.h"
#include "tool.h"

static void
usage(FILE *fp)
{
    fputs(
"usage: virt-nestify --domain D [-c URI] --profile P [options]\n"
"       virt-nestify --all|--match GLOB|--state S [-c URI]... --profile P\n"
"                    [options]\n"
"       virt-nestify --file DOMAIN.xml|- --host-caps CAPS.xml --profile P\n"
"                    [options]\n"
"       virt-nestify rollback --domain D [--list | --backup FILE]\n"
"       virt-nestify verify --domain D [--profile P] [--timeout SECONDS]\n"
"       virt-nestify host [--root DIR] [-o json] [-c URI] | host --enable ...\n"
"       virt-nestify profiles [NAME]\n"
"\n"
"Rewrites a libvirt domain's <cpu>, <cputune>, <numatune>, <memtune> and\n"
"<memoryBacking> for nested virtualization (nested), speed (perf) or\n"
"safety (secure).\n"
"\n"
"  -d, --domain D          live: the domain to change (name, UUID or ID);\n"
"                          repeat it for a bulk run\n"
"      --all               bulk: every domain of the connection\n"
"      --state S           bulk: only running, shutoff or any (default)\n"
"      --match GLOB        bulk: only domains whose name matches\n"
"      --exclude GLOB      bulk: not these (repeatable)\n"
"      --fail-fast         bulk: stop at the first domain that fails\n"
"      --overcommit        bulk: share CPUs when none are free (warned)\n"
"      --parallel N        bulk: restart N domains at a time (default 1)\n"
"      --color WHEN        diff colours: auto (default), always, never\n"
"  -c, --connect URI       live: libvirt URI (default: $LIBVIRT_DEFAULT_URI);\n"
"                          repeat it to run on several hosts\n"
"      --jobs N            fleets: hosts at a time (default 4)\n"
"      --backup-dir DIR    live: where backups go\n"
"      --restart           live: shut a running domain down and start it\n"
"      --timeout SECONDS   live: how long shutdown may take (default 120)\n"
"      --force             live: destroy a domain that ignores shutdown\n"
"  -f, --file FILE         offline: domain XML to rewrite ('-' reads stdin)\n"
"  -H, --host-caps FILE    host capabilities XML (virsh capabilities);\n"
"                          live: plan against it instead of the host's\n"
"      --domcaps FILE      domain capabilities XML (virsh domcapabilities)\n"
"      --cpu-map FILE      libvirt's x86_features.xml ('none': built-in list)\n"
"  -p, --profile P[,P...]  profiles to apply, left to right; repeatable,\n"
"                          composed in order (none with --xslt alone)\n"
"      --profile-file F    also read profile F (its name: base name)\n"
"      --set KEY=VALUE     override a profile setting (repeatable)\n"
"      --taken CPULIST     host CPUs other domains already pin\n"
"      --strict            treat warnings as errors\n"
"      --xslt FILE         run the XSLT 1.0 stylesheet FILE on the result\n"
"                          (after the profiles; no file writes, file\n"
"                          reads or network access)\n"
"      --xslt-param NAME=VALUE\n"
"                          give the stylesheet's parameter NAME the string\n"
"                          VALUE (repeatable; needs --xslt)\n"
"  -n, --dry-run           print the report and a unified diff, change nothing\n"
"      --check             like --dry-run, exit 1 when a change is pending\n"
"  -i, --in-place          offline: rewrite FILE atomically\n"
"  -o, --output text|json  report format (json: one document on stdout)\n"
"  -q, --quiet             no report (unless asked: --dry-run, --check,\n"
"                          --output json) and no progress lines\n"
"  -h, --help              this text\n"
"\n"
"Exit: 0 done or nothing to change, 1 --check found a pending change,\n"
"2 usage, bad input or refused, 3 libvirt or system failure, 4 a bulk run\n"
"or fleet where some domains or hosts failed.\n", fp);
}

bool
vn_apply_is_bulk(const struct vn_apply_opts *o)
{
    return o->all || o->ndomains > 1 || o->state || o->match ||
           o->nexcludes;
}

int
vn_profile_option(char **names, const char *arg)
{
    if (!arg[strspn(arg, " \t")]) {
        vn_error("--profile '%s': no profile name (see 'virt-nestify "
                 "profiles')", arg);
        return -1;
    }
    char *joined = *names ? nst_printf("%s,%s", *names, arg) :
                            nst_printf("%s", arg);
    if (!joined) {
        vn_error("out of memory");
        return -1;
    }
    free(*names);
    *names = joined;
    return 0;
}

/* Returns -1 on a usage error (already reported), 1 for --help. */
static int
parse_options(int argc, char **argv, struct vn_apply_opts *o)
{
    enum { OPT_DOMCAPS = 256, OPT_CPU_MAP, OPT_PROFILE_FILE, OPT_SET,
           OPT_TAKEN, OPT_STRICT, OPT_CHECK, OPT_BACKUP_DIR, OPT_RESTART,
           OPT_TIMEOUT, OPT_FORCE, OPT_ALL, OPT_STATE, OPT_MATCH, OPT_EXCLUDE,
           OPT_FAIL_FAST, OPT_OVERCOMMIT, OPT_PARALLEL, OPT_COLOR, OPT_JOBS,
           OPT_XSLT, OPT_XSLT_PARAM };
    static const struct option longopts[] = {
        { "domain", required_argument, NULL, 'd' },
        { "all", no_argument, NULL, OPT_ALL },
        { "state", required_argument, NULL, OPT_STATE },
        { "match", required_argument, NULL, OPT_MATCH },
        { "exclude", required_argument, NULL, OPT_EXCLUDE },
        { "fail-fast", no_argument, NULL, OPT_FAIL_FAST },
        { "overcommit", no_argument, NULL, OPT_OVERCOMMIT },
        { "parallel", required_argument, NULL, OPT_PARALLEL },
        { "color", required_argument, NULL, OPT_COLOR },
        { "jobs", required_argument, NULL, OPT_JOBS },
        { "connect", required_argument, NULL, 'c' },
        { "backup-dir", required_argument, NULL, OPT_BACKUP_DIR },
        { "restart", no_argument, NULL, OPT_RESTART },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "force", no_argument, NULL, OPT_FORCE },
        { "file", required_argument, NULL, 'f' },
        { "host-caps", required_argument, NULL, 'H' },
        { "domcaps", required_argument, NULL, OPT_DOMCAPS },
        { "cpu-map", required_argument, NULL, OPT_CPU_MAP },
        { "profile", required_argument, NULL, 'p' },
        { "profile-file", required_argument, NULL, OPT_PROFILE_FILE },
        { "set", required_argument, NULL, OPT_SET },
        { "taken", required_argument, NULL, OPT_TAKEN },
        { "strict", no_argument, NULL, OPT_STRICT },
        { "xslt", required_argument, NULL, OPT_XSLT },
        { "xslt-param", required_argument, NULL, OPT_XSLT_PARAM },
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
    unsigned long long timeout;
    bool timeout_given = false;
    while ((c = getopt_long(argc, argv, "d:c:f:H:p:nio:qh", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'd':
            if (!o->domain)
                o->domain = optarg;
            if (vn_push(&o->domains, &o->ndomains, optarg) < 0)
                return -1;
            break;
        case OPT_ALL: o->all = true; break;
        case OPT_MATCH: o->match = optarg; break;
        case OPT_EXCLUDE:
            if (vn_push(&o->excludes, &o->nexcludes, optarg) < 0)
                return -1;
            break;
        case OPT_FAIL_FAST: o->fail_fast = true; break;
        case OPT_OVERCOMMIT: o->overcommit = true; break;
        case OPT_STATE:
            if (strcmp(optarg, "running") && strcmp(optarg, "shutoff") &&
                strcmp(optarg, "any")) {
                vn_error("--state must be 'running', 'shutoff' or 'any', "
                         "not '%s'", optarg);
                return -1;
            }
            o->state = optarg;
            break;
        case OPT_PARALLEL:
            if (nst_parse_ull(optarg, 64, &timeout) < 0 || !timeout) {
                vn_error("--parallel must be a number from 1 to 64, not "
                         "'%s'", optarg);
                return -1;
            }
            o->parallel = (unsigned int)timeout;
            break;
        case OPT_COLOR:
            if (strcmp(optarg, "auto") == 0) {
                o->color = VN_COLOR_AUTO;
            } else if (strcmp(optarg, "always") == 0) {
                o->color = VN_COLOR_ALWAYS;
            } else if (strcmp(optarg, "never") == 0) {
                o->color = VN_COLOR_NEVER;
            } else {
                vn_error("--color must be 'auto', 'always' or 'never', not "
                         "'%s'", optarg);
                return -1;
            }
            break;
        case 'c':
            if (!o->connect)
                o->connect = optarg;
            if (vn_push(&o->connects, &o->nconnects, optarg) < 0)
                return -1;
            break;
        case OPT_JOBS:
            if (nst_parse_ull(optarg, 256, &timeout) < 0 || !timeout) {
                vn_error("--jobs must be a number from 1 to 256, not '%s'",
                         optarg);
                return -1;
            }
            o->jobs = (unsigned int)timeout;
            break;
        case OPT_BACKUP_DIR: o->backup_dir = optarg; break;
        case OPT_RESTART: o->restart = true; break;
        case OPT_FORCE: o->force = true; break;
        case OPT_TIMEOUT:
            if (nst_parse_ull(optarg, 86400, &timeout) < 0) {
                vn_error("--timeout must be a number of seconds, not '%s'",
                         optarg);
                return -1;
            }
            o->timeout = (unsigned int)timeout;
            timeout_given = true;
            break;
        case 'f': o->file = optarg; break;
        case 'H': o->host_caps = optarg; break;
        case OPT_DOMCAPS: o->domcaps = optarg; break;
        case OPT_CPU_MAP: o->cpu_map = optarg; break;
        case 'p':
            if (vn_profile_option(&o->profile, optarg) < 0)
                return -1;
            break;
        case OPT_PROFILE_FILE:
            if (vn_push(&o->profile_files, &o->nprofile_files, optarg) < 0)
                return -1;
            break;
        case OPT_SET:
            if (vn_push(&o->sets, &o->nsets, optarg) < 0)
                return -1;
            break;
        case OPT_TAKEN:
            if (vn_parse_taken(optarg, &o->taken, &o->has_taken) < 0)
                return -1;
            break;
        case OPT_STRICT: o->strict = true; break;
        case OPT_XSLT: o->xslt = optarg; break;
        case OPT_XSLT_PARAM:
            if (vn_push(&o->xslt_params, &o->nxslt_params, optarg) < 0)
                return -1;
            break;
        case 'n': o->dry_run = true; break;
        case OPT_CHECK: o->check = true; break;
        case 'i': o->in_place = true; break;
        case 'q': o->quiet = true; break;
        case 'o':
            if (vn_parse_output(optarg, &o->output) < 0)
                return -1;
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
    bool bulk = vn_apply_is_bulk(o);
    if (!o->file == !(o->domain || bulk)) {
        vn_error("give either --domain/--all (live) or --file (offline)");
        return -1;
    }
    if (bulk && o->ndomains && o->all) {
        vn_error("--all and --domain select differently: give one");
        return -1;
    }
    if (o->jobs && o->nconnects < 2) {
        vn_error("--jobs is for several --connect");
        return -1;
    }
    if ((o->fail_fast || o->overcommit || o->parallel) && !bulk &&
        o->nconnects < 2) {
        vn_error("--fail-fast, --overcommit and --parallel are for bulk "
                 "runs (--all, --match, --state or several --domain)");
        return -1;
    }
    if (o->file && !o->host_caps) {
        vn_error("--host-caps is required with --file");
        return -1;
    }
    if (o->file && (o->connect || o->backup_dir || o->restart || o->force)) {
        vn_error("--connect, --backup-dir, --restart and --force need "
                 "--domain");
        return -1;
    }
    if (!o->file && o->in_place) {
        vn_error("--in-place needs --file");
        return -1;
    }
    if ((o->force || timeout_given) && !o->restart) {
        vn_error("--force and --timeout only make sense with --restart");
        return -1;
    }
    /* With --xslt alone the stylesheet makes every edit. */
    if (!o->profile && !o->nprofile_files && !o->xslt) {
        vn_error("--profile is required (see 'virt-nestify profiles')");
        return -1;
    }
    if (o->in_place && o->file && strcmp(o->file, "-") == 0) {
        vn_error("--in-place needs a file, not stdin");
        return -1;
    }
    if ((o->dry_run || o->check) && o->in_place) {
        vn_error("--in-place cannot be combined with --dry-run or --check");
        return -1;
    }
    if (o->nxslt_params && !o->xslt) {
        vn_error("--xslt-param needs --xslt");
        return -1;
    }
    char *err = NULL;
    if (vn_xslt_check_params(o->xslt_params, o->nxslt_params, &err) < 0) {
        vn_error("%s", err ? err : "out of memory");
        free(err);
        return -1;
    }
    return 0;
}

int
vn_build_profile(const struct vn_apply_opts *o, struct nst_profile *profile,
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
    if (nst_profile_init(profile) < 0)
        goto oom;
    if (!*names) {
        /* --xslt alone: no profile, no rule runs; reports say "none". */
        free(profile->name);
        if (!(profile->name = nst_printf("none")))
            goto oom;
    } else if (nst_profile_compose(profile, names, sources.items,
                                   sources.count, err) < 0) {
        goto out;
    }
    for (size_t i = 0; i < o->nsets; i++)
        if (nst_profile_set(profile, o->sets[i], err) < 0)
            goto out;
    ret = 0;
    goto out;
 oom:
    nst_set_error(err, "out of memory");
 out:
    free(names);
    vn_profile_sources_free(&sources);
    return ret;
}

/* The host from --host-caps (and --domcaps) files. */
static struct nst_host *
build_host(const struct vn_apply_opts *o, char **err)
{
    char *caps = NULL, *domcaps = NULL;
    size_t caps_len, domcaps_len = 0;
    struct nst_host *host = NULL;

    if ((caps = vn_read_file(o->host_caps, &caps_len, err)) &&
        (!o->domcaps ||
         (domcaps = vn_read_file(o->domcaps, &domcaps_len, err))))
        host = vn_host_build_labelled(caps, caps_len, o->host_caps, domcaps,
                                      domcaps_len, o->domcaps, o->cpu_map,
                                      err);
    free(caps);
    free(domcaps);
    return host;
}

/*
 * --xslt: the stylesheet on the engine's output.  A result that is the
 * same document as the engine's output (vn_xml_same: indentation and
 * quoting do not count) leaves the engine's bytes; one that is the same
 * as the input keeps the input's bytes and nothing is pending; otherwise
 * the result is libxslt's serialisation.
 * Returns 0, or -1 with *err set and r cleared, r->bad_input true.
 */
static int
apply_xslt(const struct vn_apply_opts *o, const char *text, size_t len,
           struct vn_result *r, char **err)
{
    char *out = NULL;
    size_t out_len = 0;

    if (vn_xslt_apply(o->xslt_sheet, r->out, r->out_len, &out, &out_len,
                      err) < 0)
        goto fail;
    int same_as_engine = vn_xml_same(r->out, r->out_len, out, out_len);
    int same_as_input = vn_xml_same(text, len, out, out_len);
    if (same_as_engine < 0 || same_as_input < 0) {
        nst_set_error(err, "%s: the result is not well-formed XML", o->xslt);
        goto fail;
    }
    if (same_as_engine) {
        /* the stylesheet changed nothing: the engine's bytes stand */
        free(out);
        return 0;
    }
    nst_report_add(&r->report, NST_CHANGE, "xslt", o->xslt,
                   "the stylesheet changed the document; it is written as "
                   "libxslt serialises it");
    free(r->out);
    if (same_as_input) {
        /* it undid the profile's changes: keep the input byte for byte */
        free(out);
        if (!(out = malloc(len + 1))) {
            r->out = NULL;
            nst_set_error(err, "out of memory");
            goto fail;
        }
        memcpy(out, text, len);
        out[len] = '\0';
        out_len = len;
    }
    r->out = out;
    r->out_len = out_len;
    r->pending = !same_as_input;
    return 0;
 fail:
    free(out);
    vn_result_clear(r);
    r->bad_input = true;
    return -1;
}

int
vn_transform(const struct vn_apply_opts *o, const struct nst_profile *profile,
              const struct nst_host *host, const struct nst_cpuset *taken,
              const char *text, size_t len, const char *label,
              struct vn_result *r, char **err)
{
    struct nst_doc *doc = NULL;

    memset(r, 0, sizeof(*r));
    /* Here, where every command that plans meets the host it plans for
     * (offline, live, bulk, verify): a --taken CPU the host lacks is a
     * wrong option, never a CPU to ignore. */
    if (o->has_taken &&
        nst_host_check_cpus(host, &o->taken, "--taken", err) < 0) {
        r->bad_input = true;
        return -1;
    }
    if (nst_doc_parse(text, len, label, &doc, err) < 0)
        return -1;
    const char *name = nst_doc_domain_name(doc);
    nst_report_init(&r->report, name ? name : label, profile->name);
    struct nst_apply_options opts = {
        .profile = profile,
        .host = host,
        .taken = taken,
        .strict = o->strict,
    };
    r->refused = nst_apply(doc, &opts, &r->report) < 0;
    if (!r->refused) {
        if (!(r->out = nst_doc_serialize(doc, &r->out_len))) {
            nst_doc_free(doc);
            nst_set_error(err, "out of memory");
            return -1;
        }
        r->pending = r->out_len != len || memcmp(r->out, text, len) != 0;
    }
    nst_doc_free(doc);
    if (!r->refused && o->xslt_sheet && apply_xslt(o, text, len, r, err) < 0)
        return -1;
    return 0;
}

void
vn_result_clear(struct vn_result *r)
{
    nst_report_clear(&r->report);
    free(r->out);
    memset(r, 0, sizeof(*r));
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
vn_use_color(const struct vn_apply_opts *o)
{
    const char *no_color = getenv("NO_COLOR");
    if (o->color != VN_COLOR_AUTO)
        return o->color == VN_COLOR_ALWAYS;
    return !(no_color && *no_color) && isatty(STDOUT_FILENO);
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

/* --file: the document from a file, the result to stdout or the file. */
static int
apply_offline(const struct vn_apply_opts *o, const struct nst_profile *profile)
{
    struct nst_host *host = NULL;
    struct vn_result r = { 0 };
    char *err = NULL, *text = NULL;
    size_t len = 0;
    int ret = VN_EXIT_INPUT;

    const char *label = strcmp(o->file, "-") ? o->file : "stdin";
    if (!(host = build_host(o, &err)) ||
        !(text = vn_read_file(o->file, &len, &err)) ||
        vn_transform(o, profile, host, o->has_taken ? &o->taken : NULL,
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
    vn_result_clear(&r);
    nst_host_free(host);
    return ret;
}

int
vn_cmd_apply(int argc, char **argv)
{
    struct vn_apply_opts o = { .output = VN_OUTPUT_TEXT, .timeout = 120 };
    struct nst_profile profile;
    char *err = NULL;
    int ret;

    nst_profile_init(&profile);
    int r = parse_options(argc, argv, &o);
    if (r != 0) {
        ret = r > 0 ? VN_EXIT_OK : VN_EXIT_INPUT;
    } else if (vn_build_profile(&o, &profile, &err) < 0) {
        vn_error("%s", err ? err : "out of memory");
        ret = VN_EXIT_INPUT;
    } else if (o.xslt &&
               !(o.xslt_sheet = vn_xslt_load(o.xslt, o.xslt_params,
                                             o.nxslt_params, &err))) {
        /* before any connection: a bad stylesheet changes nothing */
        vn_error("%s", err ? err : "out of memory");
        ret = VN_EXIT_INPUT;
    } else {
        ret = o.file ? apply_offline(&o, &profile) :
              vn_apply_connected(&o, &profile);
    }
    free(o.profile);
    free(o.profile_files);
    free(o.sets);
    free(o.domains);
    free(o.excludes);
    free(o.connects);
    free(o.xslt_params);
    vn_xslt_free(o.xslt_sheet);
    free(err);
    nst_profile_clear(&profile);
    return ret;
}

/*
 * transform.c: the engine run every command makes on one document
 *
 * The profile built from the planning options (--profile, --profile-file,
 * --set), the library applied to the text for a host (vn_transform), then
 * --xslt on its output.  apply (offline, live, bulk), verify and the live
 * re-checks all come here; printing is each command's.
 */
#include <stdlib.h>
#include <string.h>

#include "nestify.h"
#include "tool.h"
#include "transform.h"

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

int
vn_build_profile(const struct vn_plan_opts *o, struct nst_profile *profile,
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
        if (nst_profile_set(profile, o->sets[i], "--set", err) < 0)
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

/*
 * --xslt: the stylesheet on the engine's output.  A result that is the
 * same document as the engine's output (vn_xml_same: indentation and
 * quoting do not count) leaves the engine's bytes; one that is the same
 * as the input keeps the input's bytes and nothing is pending; otherwise
 * the result is libxslt's serialisation.
 * Returns 0, or -1 with *err set and r cleared, r->bad_input true.
 */
static int
apply_xslt(const struct vn_plan_opts *o, const char *text, size_t len,
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
    /* The stylesheet may have moved pins or pages: what the domain
     * holds is what its output says. */
    struct nst_doc *doc = NULL;
    nst_plan_clear(&r->plan);
    if (nst_doc_parse(r->out, r->out_len, o->xslt, &doc, NULL) == 0) {
        nst_doc_vcpu_pins(doc, &r->plan.vcpus, NULL);
        nst_doc_page_use(doc, &r->plan.pages, &r->plan.npages, NULL);
    }
    nst_doc_free(doc);
    return 0;
 fail:
    free(out);
    vn_result_clear(r);
    r->bad_input = true;
    return -1;
}

int
vn_transform(const struct vn_plan_opts *o, const struct nst_profile *profile,
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
        .baseline_cpu = o->baseline_cpu,
        .isolated = o->isolated,
    };
    r->refused = nst_apply(doc, &opts, &r->report, &r->plan) < 0;
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
    nst_plan_clear(&r->plan);
    free(r->out);
    memset(r, 0, sizeof(*r));
}

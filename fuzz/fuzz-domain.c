/*
 * fuzz-domain.c: the domain parser and the whole policy
 *
 * Each input is a domain document: parsed, then the "nested" and
 * "perf,secure" profiles applied against a fixed host (the Intel fixture
 * with its domain capabilities, read once), serialised, parsed again and
 * diffed; the linter and the definition readers (vCPU pins, hugepage use)
 * run on it too.  Invariants beyond "no crash": what the engine writes
 * parses again, and a refusal is an error in the report.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nestify.h"

static struct nst_host *host;
static struct nst_profile profiles[2];
static const char *const profile_names[2] = { "nested", "perf,secure" };
static struct nst_cpuset taken;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t caps_len, domcaps_len, n;
    char *caps = fuzz_read_fixture("tests/fixtures/hosts/intel-e5-2697v4.xml",
                                   &caps_len);
    char *domcaps = fuzz_read_fixture(
        "tests/fixtures/hosts/intel-e5-2697v4-domcaps.xml", &domcaps_len);
    const struct nst_profile_source *src = nst_builtin_profiles(&n);
    char *err = NULL;

    if (nst_host_parse(caps, caps_len, domcaps, domcaps_len, &host, &err) < 0)
        fuzz_fail(__FILE__, __LINE__, err);
    free(caps);
    free(domcaps);
    for (size_t i = 0; i < 2; i++) {
        nst_profile_init(&profiles[i]);
        if (nst_profile_compose(&profiles[i], profile_names[i], src, n,
                                &err) < 0)
            fuzz_fail(__FILE__, __LINE__, err);
    }
    /* Another domain pins part of cell 0: the allocator works around it. */
    if (nst_cpuset_parse("2-5,38-41", &taken, &err) < 0)
        fuzz_fail(__FILE__, __LINE__, err);
    return 0;
}

/* The definition readers and the linter, with and without a host. */
static void
read_definition(const struct nst_doc *doc)
{
    struct nst_cpuset pins;
    struct nst_page_use *uses = NULL;
    size_t nuses = 0;
    char *err = NULL;

    nst_cpuset_clear_all(&pins);
    if (nst_doc_vcpu_pins(doc, &pins, &err) < 0)
        FUZZ_ASSERT(err != NULL);
    free(err);
    err = NULL;
    if (nst_doc_page_use(doc, &uses, &nuses, &err) < 0)
        FUZZ_ASSERT(err != NULL);
    free(uses);
    free(err);

    for (int with_host = 0; with_host < 2; with_host++) {
        struct nst_lint_options lo = { .host = with_host ? host : NULL,
                                       .taken = &taken };
        struct nst_lint_result result;
        memset(&result, 0, sizeof(result));
        if (nst_lint(doc, &lo, "fuzz.xml", &result) == 0) {
            free(nst_lint_format_text(&result));
            free(nst_lint_format_json(&result, 1));
        }
        nst_lint_result_clear(&result);
    }
}

static void
apply_one(const char *text, size_t len, size_t p)
{
    struct nst_doc *doc = NULL, *again = NULL;
    struct nst_report report;
    char *err = NULL, *out, *diff;
    size_t out_len;

    if (nst_doc_parse(text, len, "fuzz.xml", &doc, &err) < 0) {
        FUZZ_ASSERT(err != NULL && doc == NULL);
        free(err);
        return;
    }
    if (p == 0)
        read_definition(doc);

    nst_report_init(&report, nst_doc_domain_name(doc), profiles[p].name);
    struct nst_apply_options opts = {
        .profile = &profiles[p], .host = host,
        .taken = p == 0 ? NULL : &taken,
    };
    int ret = nst_apply(doc, &opts, &report, NULL);
    free(nst_report_format_text(&report));
    free(nst_report_format_json(&report));
    FUZZ_ASSERT((ret < 0) == (nst_report_count(&report, NST_ERROR) > 0));
    if (ret == 0) {
        out = nst_doc_serialize(doc, &out_len);
        FUZZ_ASSERT(out != NULL);
        diff = nst_diff_unified(text, len, out, out_len, "a", "b");
        free(diff);
        /* What we would define must parse again. */
        if (nst_doc_parse(out, out_len, "out.xml", &again, &err) < 0)
            fuzz_fail(__FILE__, __LINE__, err);
        nst_doc_free(again);
        free(out);
    }
    nst_report_clear(&report);
    nst_doc_free(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* nst_doc_parse takes a length; a copy with no slack lets ASan see a
     * read past it. */
    char *text = malloc(size ? size : 1);
    if (!text)
        abort();
    if (size)
        memcpy(text, data, size);
    for (size_t p = 0; p < 2; p++)
        apply_one(text, size, p);
    free(text);
    return 0;
}

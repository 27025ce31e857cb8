/*
 * test-lint.c: the linter's rules as golden files, and lint of the
 * profiles' golden outputs
 *
 * Every case lints tests/fixtures/lint/FIXTURE.xml against a host of
 * tests/fixtures/hosts (or none) and compares the text and JSON outputs
 * byte for byte with tests/fixtures/lint/expected/CASE.txt and .json.
 * Regenerate on purpose with NST_TEST_REGENERATE_OUTPUT=1 and review
 * the result in git diff.  tests/cli/lint.sh runs the same cases
 * through the command line against the same files.
 */
#include <check.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "domain.h"
#include "internal.h"
#include "testutil.h"
#include "xmledit.h"

struct lint_case {
    const char *name;            /* expected/NAME.txt and .json */
    const char *fixture;         /* tests/fixtures/lint/FIXTURE.xml */
    const char *host;            /* tests/fixtures/hosts/HOST.xml or NULL */
    const char *taken;           /* CPUs other domains pin, or NULL */
};

/* Keep in step with tests/cli/lint.sh. */
static const struct lint_case cases[] = {
    { "clean", "clean", "intel-e5-2697v4", NULL },
    { "clean--nohost", "clean", NULL, NULL },
    { "unknown-feature", "unknown-feature", "intel-e5-2697v4", NULL },
    { "unknown-feature--nohost", "unknown-feature", NULL, NULL },
    { "wrong-virt-feature", "wrong-virt-feature", "amd-epyc-7502p-nps4",
      NULL },
    { "disabled-mitigation", "disabled-mitigation", "intel-e5-2697v4",
      NULL },
    { "passthrough-migratable", "passthrough-migratable", "intel-e5-2697v4",
      NULL },
    { "topology-mismatch", "topology-mismatch", "intel-e5-2697v4", NULL },
    { "invalid-size", "invalid-size", NULL, NULL },
    { "pin-outside-host", "pin-outside-host", "small-nosmt", NULL },
    { "pin-spans-cells", "pin-spans-cells", "amd-epyc-7502p-nps4", NULL },
    { "pin-shared", "pin-shared", "intel-e5-2697v4", "3-5" },
    { "numatune-node", "numatune-node", "small-nosmt", NULL },
    { "realtime-unpinned", "realtime-unpinned", NULL, NULL },
    { "hugepage-size", "hugepage-size", "intel-e5-2697v4", NULL },
    { "hugepages-free", "hugepages-free", "amd-epyc-7502p-nps4", NULL },
    { "page-nodeset", "page-nodeset", "intel-e5-2697v4", NULL },
    { "hard-limit-low", "hard-limit-low", "intel-e5-2697v4", NULL },
    { "hugepage-too-large", "hugepage-too-large", NULL, NULL },
    { "hugepages-backing", "hugepages-backing", NULL, NULL },
    { "hugepage-pieces", "hugepage-pieces", NULL, NULL },
    { "launch-security-host", "launch-security-host", "intel-e5-2697v4",
      NULL },
    { "launch-security-host--tdx", "launch-security-tdx",
      "amd-epyc-7502p-nps4", NULL },
    { "launch-security-host--sev-on-amd", "launch-security-host",
      "amd-epyc-7502p-nps4", NULL },
    { "nested-confidential", "nested-confidential", "amd-epyc-7502p-nps4",
      NULL },
    { "nested-confidential--nohost", "nested-confidential", NULL, NULL },
    { "hyperv-nested", "hyperv-nested", "intel-e5-2697v4", NULL },
    { "hyperv-nested--amd", "hyperv-nested", "amd-epyc-7502p-nps4", NULL },
    { "hyperv-nested--nohost", "hyperv-nested", NULL, NULL },
    { "evmcs-amd", "evmcs-amd", "amd-epyc-7502p-nps4", NULL },
    { "evmcs-amd--intel", "evmcs-amd", "intel-e5-2697v4", NULL },
    { "passthrough-mixed-fleet", "passthrough-mixed-fleet",
      "intel-e5-2697v4", NULL },
    { "passthrough-mixed-fleet--uniform", "passthrough-mixed-fleet",
      "intel-e5-2697v4", NULL },
};
#define NCASES (sizeof(cases) / sizeof(*cases))

/* The cases linted with a fleet: the second host of it (as host). */
static const struct {
    const char *name;
    const char *other;
} fleets[] = {
    { "passthrough-mixed-fleet", "../fleet/intel-xeon-gold-6148" },
    { "passthrough-mixed-fleet--uniform", "intel-e5-2697v4" },
};

static const char *
case_fleet(const struct lint_case *c)
{
    for (size_t i = 0; i < sizeof(fleets) / sizeof(*fleets); i++)
        if (strcmp(fleets[i].name, c->name) == 0)
            return fleets[i].other;
    return NULL;
}

/* Lints a text against host (may be NULL) into *res. */
static void
lint_text(const char *text, size_t len, const char *label,
          const struct nst_host *host, const struct nst_cpuset *taken,
          const struct nst_host *other, struct nst_lint_result *res)
{
    const struct nst_host *fleet[] = { host, other };
    struct nst_doc *doc = NULL;
    char *err = NULL;

    ck_assert_msg(nst_doc_parse(text, len, label, &doc, &err) == 0, "%s",
                  err);
    struct nst_lint_options opts = { .host = host, .taken = taken,
                                     .fleet = fleet, .nfleet = other ? 2 : 0 };
    ck_assert_int_eq(nst_lint(doc, &opts, label, res), 0);
    nst_doc_free(doc);
}

static void
run_case(const struct lint_case *c, struct nst_lint_result *res)
{
    char *path = nst_printf("tests/fixtures/lint/%s.xml", c->fixture);
    size_t len;
    char *text = test_read_srcfile(path, &len);
    struct nst_host *host = c->host ? test_load_host(c->host, NULL) : NULL;
    struct nst_cpuset taken;

    const char *fleet = case_fleet(c);
    struct nst_host *other = fleet ? test_load_host(fleet, NULL) : NULL;
    if (c->taken)
        ck_assert_int_eq(nst_cpuset_parse(c->taken, &taken, NULL), 0);
    lint_text(text, len, path, host, c->taken ? &taken : NULL, other, res);
    nst_host_free(host);
    nst_host_free(other);
    free(text);
    free(path);
}

START_TEST(test_lint_golden)
{
    const struct lint_case *c = &cases[_i];
    struct nst_lint_result res;

    run_case(c, &res);
    char *text = nst_lint_format_text(&res);
    char *json = nst_lint_format_json(&res, 1);
    char *txt_path = nst_printf("tests/fixtures/lint/expected/%s.txt",
                                c->name);
    char *json_path = nst_printf("tests/fixtures/lint/expected/%s.json",
                                 c->name);
    test_compare_expected(txt_path, text);
    test_compare_expected(json_path, json);

    /* Each rule's fixture shows that rule. */
    if (!strstr(c->name, "--") && strcmp(c->name, "clean") != 0) {
        bool found = false;
        for (size_t i = 0; i < res.findings.n; i++)
            found |= strcmp(res.findings.items[i].rule, c->name) == 0;
        ck_assert_msg(found, "%s: no finding of rule %s:\n%s", c->fixture,
                      c->name, text);
    }
    free(text);
    free(json);
    free(txt_path);
    free(json_path);
    nst_lint_result_clear(&res);
}
END_TEST

/* The host cells memory may come from, by libvirt's <numatune> rules
 * (formatdomain "NUMA Node Tuning"): a memnode overrides <memory> for
 * its guest cell, and mode='preferred' falls back to any node, so it
 * confines nothing.  Shown by VN302 on amd-epyc-7502p-nps4, whose nodes
 * 0 and 1 have 4096 free 2 MiB pages each, nodes 2 and 3 none. */
#define NUMATUNE_PAGES(page, numatune) \
    "<domain type='kvm'><name>t</name>" \
    "<memory unit='GiB'>18</memory><vcpu>2</vcpu>" \
    "<memoryBacking><hugepages>" page "</hugepages></memoryBacking>" \
    "<numatune>" numatune "</numatune>" \
    "<cpu><numa><cell id='0' cpus='0' memory='8' unit='GiB'/>" \
    "<cell id='1' cpus='1' memory='10' unit='GiB'/></numa></cpu>" \
    "</domain>"

START_TEST(test_lint_numatune_modes)
{
    static const struct { const char *xml, *want; } modes[] = {
        /* strict memnode: node 1's 4096 pages for 5120 */
        { NUMATUNE_PAGES("<page size='2' unit='MiB' nodeset='1'/>",
                         "<memory mode='strict' nodeset='0'/>"
                         "<memnode cellid='1' mode='strict' nodeset='1'/>"),
          "host node(s) 1 have 4096 free" },
        /* preferred memnode: any node, 8192 free; not <memory>'s 0 */
        { NUMATUNE_PAGES("<page size='2' unit='MiB' nodeset='1'/>",
                         "<memory mode='strict' nodeset='0'/>"
                         "<memnode cellid='1' mode='preferred' "
                         "nodeset='1'/>"), NULL },
        /* preferred <memory> does not undo a strict memnode */
        { NUMATUNE_PAGES("<page size='2' unit='MiB' nodeset='1'/>",
                         "<memory mode='preferred' nodeset='0'/>"
                         "<memnode cellid='1' mode='interleave' "
                         "nodeset='1'/>"),
          "host node(s) 1 have 4096 free" },
        /* each cell by its own binding: cell 0 by its memnode, cell 1
         * by <memory> (9216 pages, nodes 0-1 have 8192) */
        { NUMATUNE_PAGES("<page size='2' unit='MiB' nodeset='0-1'/>",
                         "<memory mode='restrictive' nodeset='1'/>"
                         "<memnode cellid='0' mode='strict' nodeset='0'/>"),
          "host node(s) 0-1 have 8192 free" },
        /* a page for all the memory: every cell's binding */
        { NUMATUNE_PAGES("<page size='2' unit='MiB'/>",
                         "<memnode cellid='0' mode='strict' nodeset='0'/>"
                         "<memnode cellid='1' mode='strict' nodeset='0'/>"),
          "host node(s) 0 have 4096 free" },
    };
    struct nst_host *host = test_load_host("amd-epyc-7502p-nps4", NULL);

    for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
        struct nst_lint_result res;
        lint_text(modes[i].xml, strlen(modes[i].xml), "t.xml", host, NULL, NULL,
                  &res);
        const char *got = NULL;
        for (size_t k = 0; k < res.findings.n; k++)
            if (strcmp(res.findings.items[k].rule, "hugepages-free") == 0)
                got = res.findings.items[k].message;
        if (modes[i].want)
            ck_assert_msg(got && strstr(got, modes[i].want),
                          "case %zu: %s", i, got ? got : "no VN302");
        else
            ck_assert_msg(!got, "case %zu: %s", i, got);
        nst_lint_result_clear(&res);
    }
    nst_host_free(host);
}
END_TEST

/* The clean fixture has no finding; without a host only the note. */
START_TEST(test_lint_clean)
{
    struct nst_lint_result res;

    run_case(&cases[0], &res);
    ck_assert_uint_eq(res.findings.n, 0);
    ck_assert(res.host_checked);
    char *text = nst_lint_format_text(&res);
    ck_assert_str_eq(text, "");
    free(text);
    nst_lint_result_clear(&res);

    run_case(&cases[1], &res);
    ck_assert_uint_eq(res.findings.n, 0);
    ck_assert(!res.host_checked);
    nst_lint_result_clear(&res);
}
END_TEST

/* Every rule has a case, a unique id, and a section in docs/lint.md. */
START_TEST(test_lint_rules_covered)
{
    size_t n, len;
    const struct nst_lint_rule *rules = nst_lint_rules(&n);
    char *doc = test_read_srcfile("docs/lint.md", &len);

    for (size_t r = 0; r < n; r++) {
        bool covered = false;
        for (size_t i = 0; i < NCASES && !covered; i++)
            covered = strcmp(cases[i].name, rules[r].name) == 0;
        ck_assert_msg(covered, "rule %s has no golden case", rules[r].id);
        for (size_t k = r + 1; k < n; k++) {
            ck_assert_str_ne(rules[r].id, rules[k].id);
            ck_assert_str_ne(rules[r].name, rules[k].name);
        }
        char *heading = nst_printf("## %s %s", rules[r].id, rules[r].name);
        ck_assert_msg(strstr(doc, heading), "docs/lint.md lacks '%s'",
                      heading);
        free(heading);
    }
    free(doc);
}
END_TEST

/* Checks the totals of a lint document and returns its domains. */
static struct json_object *
lint_document(struct json_object *doc, long long errors, long long warnings,
              size_t ndomains)
{
    ck_assert(json_object_is_type(
                  test_json_member(doc, "errors"), json_type_int));
    ck_assert_int_eq(json_object_get_int64(test_json_member(doc, "errors")),
                     errors);
    ck_assert_int_eq(json_object_get_int64(test_json_member(doc, "warnings")),
                     warnings);
    struct json_object *domains = test_json_member(doc, "domains");
    ck_assert(json_object_is_type(domains, json_type_array));
    ck_assert_uint_eq(json_object_array_length(domains), ndomains);
    return domains;
}

/* Several results make one document with totals. */
START_TEST(test_lint_json_many)
{
    struct nst_lint_result res[2];
    char *err = NULL;

    run_case(&cases[2], &res[0]);    /* unknown-feature: errors */
    run_case(&cases[6], &res[1]);    /* passthrough-migratable: warning */
    char *json = nst_lint_format_json(res, 2);
    struct json_object *doc = nst_json_parse(json, strlen(json), &err);
    ck_assert_msg(doc, "%s: %s", err, json);
    struct json_object *domains = lint_document(doc, 3, 1, 2);
    ck_assert_str_eq(json_object_get_string(test_json_member(
                         json_object_array_get_idx(domains, 0), "domain")),
                     "lint-unknown-feature");
    ck_assert_str_eq(json_object_get_string(test_json_member(
                         json_object_array_get_idx(domains, 1), "domain")),
                     "lint-passthrough-migratable");
    json_object_put(doc);
    free(json);
    json = nst_lint_format_json(NULL, 0);
    doc = nst_json_parse(json, strlen(json), &err);
    ck_assert_msg(doc, "%s: %s", err, json);
    lint_document(doc, 0, 0, 0);
    ck_assert_int_eq(json[strlen(json) - 1], '\n');
    json_object_put(doc);
    free(json);
    nst_lint_result_clear(&res[0]);
    nst_lint_result_clear(&res[1]);
}
END_TEST

/* Whether the profile manages what the rule checks: its errors in an
 * output are then the profile's to prevent.  The nested rules leave the
 * <cpu> of a confidential guest as it is. */
static bool
managed(const struct nst_profile *p, const char *rule, bool confidential)
{
    if (!strcmp(rule, "unknown-feature") || !strcmp(rule, "wrong-virt-feature"))
        return p->nested && !confidential;
    if (!strncmp(rule, "pin-", 4) || !strcmp(rule, "topology-mismatch"))
        return p->pinning;
    if (!strcmp(rule, "numatune-node"))
        return p->numa;
    if (!strcmp(rule, "hugepage-size") || !strcmp(rule, "hugepages-free") ||
        !strcmp(rule, "hugepage-too-large") ||
        !strcmp(rule, "hugepage-pieces") ||
        !strcmp(rule, "hugepages-backing"))
        return p->hugepages;
    if (!strcmp(rule, "page-nodeset"))
        return p->hugepages || p->numa;
    if (!strcmp(rule, "hard-limit-low"))
        return p->memtune;
    return false;
}

/*
 * Every golden output of the profiles (expected/DOMAIN--HOST--PROFILE.xml)
 * linted against its host: no error in what the profile manages, and
 * any other error already in the input domain (the nested profile, for
 * one, leaves a too-low memtune alone).
 */
START_TEST(test_lint_golden_outputs)
{
    char *dir_path = nst_printf("%s/tests/fixtures/expected", test_srcdir());
    DIR *dir = opendir(dir_path);
    struct dirent *e;
    size_t count = 0, nsrc;
    const struct nst_profile_source *src = nst_builtin_profiles(&nsrc);

    ck_assert_ptr_nonnull(dir);
    while ((e = readdir(dir))) {
        size_t nlen = strlen(e->d_name);
        if (nlen < 5 || strcmp(e->d_name + nlen - 4, ".xml") != 0)
            continue;
        char *name = nst_printf("%.*s", (int)(nlen - 4), e->d_name);
        char *host_name = strstr(name, "--");
        ck_assert_ptr_nonnull(host_name);
        *host_name = '\0';
        host_name += 2;
        char *profile_name = strstr(host_name, "--");
        ck_assert_ptr_nonnull(profile_name);
        *profile_name = '\0';
        profile_name += 2;
        for (char *c = profile_name; *c; c++)
            if (*c == '+')
                *c = ',';

        struct nst_profile profile;
        char *err = NULL;
        nst_profile_init(&profile);
        ck_assert_int_eq(nst_profile_compose(&profile, profile_name, src,
                                             nsrc, &err), 0);
        struct nst_host *host = test_load_host(host_name, NULL);
        char *out_path = nst_printf("tests/fixtures/expected/%s",
                                    e->d_name);
        char *in_path = nst_printf("tests/fixtures/domains/%s.xml", name);
        size_t out_len, in_len;
        char *out = test_read_srcfile(out_path, &out_len);
        char *in = test_read_srcfile(in_path, &in_len);
        struct nst_lint_result out_res, in_res;
        lint_text(out, out_len, out_path, host, NULL, NULL, &out_res);
        lint_text(in, in_len, in_path, host, NULL, NULL, &in_res);
        struct nst_doc *in_doc = NULL;
        struct nst_confidential conf;
        ck_assert_int_eq(nst_doc_parse(in, in_len, in_path, &in_doc, &err),
                         0);
        int confidential = nsti_domain_confidential(nsti_doc_root(in_doc),
                                                   &conf);
        ck_assert_int_ge(confidential, 0);
        free(conf.type);
        nst_doc_free(in_doc);

        for (size_t i = 0; i < out_res.findings.n; i++) {
            const struct nst_finding *f = &out_res.findings.items[i];
            if (f->severity != NST_ERROR)
                continue;
            bool inherited = false;
            for (size_t k = 0; k < in_res.findings.n && !inherited; k++)
                inherited = in_res.findings.items[k].id == f->id &&
                            !strcmp(in_res.findings.items[k].target,
                                    f->target);
            ck_assert_msg(inherited && !managed(&profile, f->rule,
                                                confidential),
                          "%s: %s %s %s: %s", out_path, f->id,
                          inherited ? "left by the profile, which manages "
                          "it:" : "not in the input:", f->target,
                          f->message);
        }
        nst_lint_result_clear(&out_res);
        nst_lint_result_clear(&in_res);
        free(out);
        free(in);
        free(out_path);
        free(in_path);
        nst_host_free(host);
        nst_profile_clear(&profile);
        free(name);
        count++;
    }
    closedir(dir);
    free(dir_path);
    ck_assert_uint_ge(count, 40);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("lint");
    TCase *tc = tcase_create("lint");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_lint_golden, 0, NCASES);
    tcase_add_test(tc, test_lint_clean);
    tcase_add_test(tc, test_lint_numatune_modes);
    tcase_add_test(tc, test_lint_rules_covered);
    tcase_add_test(tc, test_lint_json_many);
    tcase_add_test(tc, test_lint_golden_outputs);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

/*
 * test-map.c: the map (nst_map) of bulk plans on the bundled hosts, as
 * golden text and JSON
 *
 * Each case plans its domain fixtures one after another as a bulk run
 * does (cli/bulk.c): every domain's current pins and hugepages counted
 * in a struct nst_holdings first, then each planned on the host without
 * what the others hold (nst_holdings_host, nst_holdings_taken) and its
 * new holding counted in its place; with overcommit, a domain refused
 * for want of CPUs is planned again sharing them.  The map of the plan
 * is compared byte for byte with tests/fixtures/expected-map/CASE.txt
 * and .json (regenerate on purpose with NST_TEST_REGENERATE_OUTPUT=1 and
 * review in git diff).  tests/cli/map.sh covers the command, the SVG and
 * the picture.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "testutil.h"

#define MAX_DOMAINS 8

struct map_case {
    const char *name;            /* expected-map/NAME.txt and .json */
    const char *host;            /* tests/fixtures/hosts/HOST.xml */
    const char *profile;         /* built-in profiles */
    const char *set;             /* one --set, or NULL */
    bool overcommit;
    const char *domains[MAX_DOMAINS];  /* tests/fixtures/domains/D.xml */
};

static const struct map_case cases[] = {
    /* prefer (perf's thread policy): vCPUs packed on sibling threads */
    { "intel-perf-prefer", "intel-e5-2697v4", "perf", NULL, false,
      { "ubuntu-guest", "existing-tuning", "memory-memfd-locked",
        "windows-guest", "io-virtio-blk", NULL } },
    /* isolate: one vCPU per core, the siblings left idle */
    { "intel-perf-isolate", "intel-e5-2697v4", "perf",
      "thread-policy=isolate", false,
      { "ubuntu-guest", "existing-tuning", "windows-guest", NULL } },
    /* housekeeping set by hand rather than the first core per cell */
    { "intel-housekeeping", "intel-e5-2697v4", "perf",
      "housekeeping=0-1,36-37", false,
      { "ubuntu-guest", "windows-guest", NULL } },
    /* hugepages free per cell: cell 0 2 MiB and 1 GiB, cell 1 2 MiB */
    { "amd-hugepages", "amd-epyc-7502p-nps4", "perf", NULL, false,
      { "ubuntu-guest", "memory-memfd-locked", "existing-tuning",
        "small-guest-1g-pages", "memory-file-hugepages", NULL } },
    /* 8 CPUs, one of them housekeeping: the second guest shares */
    { "small-overcommit", "small-nosmt", "perf", NULL, true,
      { "existing-tuning", "memory-memfd-locked", NULL } },
    /* 192 CPUs: a cell's cores wrap */
    { "large-perf", "large-4s-smt", "perf", NULL, false,
      { "big-guest", "ubuntu-guest", "existing-tuning", NULL } },
};

/* What a domain of the plan holds. */
struct held {
    char *name;
    struct nst_cpuset vcpus, threads;
    struct nst_page_counts pages;
    bool shared;
};

static void
current(struct held *d, const char *xml)
{
    struct nst_doc *doc = NULL;
    struct nst_page_use *uses = NULL;
    size_t n = 0;
    char *err = NULL;

    ck_assert_msg(nst_doc_parse(xml, strlen(xml), "d.xml", &doc, &err) == 0,
                  "%s", err);
    nst_cpuset_clear_all(&d->vcpus);
    nst_cpuset_clear_all(&d->threads);
    ck_assert_int_eq(nst_doc_vcpu_pins(doc, &d->vcpus, &err), 0);
    ck_assert_int_eq(nst_doc_thread_pins(doc, &d->threads, &err), 0);
    ck_assert_int_eq(nst_doc_page_use(doc, &uses, &n, &err), 0);
    ck_assert_int_eq(nst_page_counts_add_uses(&d->pages, uses, n, 1), 0);
    d->name = strdup(nst_doc_domain_name(doc));
    free(uses);
    nst_doc_free(doc);
}

/* Plans domain d (its text xml) beside the others in held, as bulk's
 * run_one does, and moves its holding to the plan's. */
static void
plan_one(struct nst_holdings *held, const struct nst_host *host,
         const struct nst_profile *profile, bool overcommit, struct held *d,
         const char *xml)
{
    struct nst_host *view = nst_holdings_host(held, host, &d->pages);
    struct nst_cpuset taken;
    struct nst_apply_options opts = { .profile = profile, .host = view,
                                      .taken = &taken };
    struct test_applied res = { 0 };

    nst_holdings_taken(held, &d->vcpus, &d->threads, &taken);
    test_apply_options(&res, xml, &opts);
    if (res.ret < 0 && overcommit) {
        test_applied_clear(&res);
        memset(&res, 0, sizeof(res));
        nst_cpuset_clear_all(&taken);
        test_apply_options(&res, xml, &opts);
        d->shared = true;
    }
    ck_assert_msg(res.ret == 0, "%s refused:\n%s", d->name, res.report);
    struct nst_cpuset threads = res.plan.emulator;
    struct nst_page_counts pages = { 0 };
    nst_cpuset_union(&threads, &res.plan.iothreads);
    ck_assert_int_eq(nst_page_counts_add_uses(&pages, res.plan.pages,
                                              res.plan.npages, 1), 0);
    ck_assert_int_eq(nst_holdings_add(held, &d->vcpus, &d->threads,
                                      &d->pages, -1), 0);
    ck_assert_int_eq(nst_holdings_add(held, &res.plan.vcpus, &threads,
                                      &pages, 1), 0);
    d->vcpus = res.plan.vcpus;
    d->threads = threads;
    nst_page_counts_clear(&d->pages);
    d->pages = pages;
    test_applied_clear(&res);
    nst_host_free(view);
}

/* The map of c's plan. */
static struct nst_map *
plan_map(const struct map_case *c)
{
    struct nst_host *host = test_load_host(c->host, NULL);
    struct nst_profile profile;
    struct nst_holdings *held = calloc(1, sizeof(*held));
    struct held doms[MAX_DOMAINS] = { { 0 } };
    char *xml[MAX_DOMAINS] = { 0 };
    size_t n = 0, count;
    char *err = NULL;

    const struct nst_profile_source *builtin = nst_builtin_profiles(&count);
    nst_profile_init(&profile);
    ck_assert_msg(nst_profile_compose(&profile, c->profile, builtin, count,
                                      &err) == 0, "%s", err);
    ck_assert(!c->set || nst_profile_set(&profile, c->set, "--set", &err) == 0);
    for (; c->domains[n]; n++) {
        char *path = nst_printf("tests/fixtures/domains/%s.xml",
                                c->domains[n]);
        xml[n] = test_read_srcfile(path, NULL);
        free(path);
        current(&doms[n], xml[n]);
        ck_assert_int_eq(nst_holdings_add(held, &doms[n].vcpus,
                                          &doms[n].threads, &doms[n].pages,
                                          1), 0);
    }
    for (size_t i = 0; i < n; i++)
        plan_one(held, host, &profile, c->overcommit, &doms[i], xml[i]);

    struct nst_cpuset housekeeping;
    nst_profile_housekeeping(&profile, host, &housekeeping);
    struct nst_map *map = nst_map_new(host, &housekeeping, NULL);
    ck_assert_ptr_nonnull(map);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(nst_map_add(map, doms[i].name, &doms[i].vcpus,
                                     &doms[i].threads, &doms[i].pages,
                                     doms[i].shared ? "planned sharing CPUs" : NULL),
                         0);
        free(doms[i].name);
        nst_page_counts_clear(&doms[i].pages);
        free(xml[i]);
    }
    nst_holdings_clear(held);
    free(held);
    nst_profile_clear(&profile);
    nst_host_free(host);
    return map;
}

START_TEST(test_map_golden)
{
    const struct map_case *c = &cases[_i];
    struct nst_map *map = plan_map(c);
    char *text = nst_map_format_text(map, false);
    char *json = nst_map_format_json(map);
    char *txt_path = nst_printf("tests/fixtures/expected-map/%s.txt", c->name);
    char *json_path = nst_printf("tests/fixtures/expected-map/%s.json",
                                 c->name);

    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(json);
    /* every line fits 100 columns, however many CPUs the host has */
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        ck_assert_msg(len <= 100, "%s: a line of %zu columns: %.*s", c->name,
                      len, (int)len, line);
        line += len + (end ? 1 : 0);
    }
    test_compare_expected(txt_path, text);
    test_compare_expected(json_path, json);
    free(txt_path);
    free(json_path);
    free(text);
    free(json);
    nst_map_free(map);
}
END_TEST

/* Two guests' vCPUs on one CPU, and a vCPU on another's emulator CPU,
 * are overcommitted; threads sharing a housekeeping CPU are not. */
START_TEST(test_map_overcommitted)
{
    struct nst_host *host = test_load_host("small-nosmt", NULL);
    struct nst_cpuset hk, a, b, c, threads;
    struct nst_map *map;

    nst_host_default_housekeeping(host, &hk);
    map = nst_map_new(host, &hk, NULL);
    nst_cpuset_parse("1-2", &a, NULL);
    nst_cpuset_parse("2-3", &b, NULL);
    nst_cpuset_parse("5", &c, NULL);
    nst_cpuset_parse("0", &threads, NULL);
    ck_assert_int_eq(nst_map_add(map, "a", &a, &threads, NULL, NULL), 0);
    ck_assert_int_eq(nst_map_add(map, "b", &b, &threads, NULL, NULL), 0);
    nst_cpuset_parse("5", &threads, NULL);
    ck_assert_int_eq(nst_map_add(map, "c", &c, NULL, NULL, NULL), 0);
    nst_cpuset_parse("6", &c, NULL);
    ck_assert_int_eq(nst_map_add(map, "d", &c, &threads, NULL, NULL), 0);

    char *text = nst_map_format_text(map, false);
    ck_assert_msg(strstr(text, "  0= 1A 2! 3B 4. 5! 6D 7.\n"), "%s", text);
    ck_assert_msg(strstr(text, "a: vCPUs on 1-2 (2 CPUs), threads on 0; "
                               "overcommitted on 2\n"), "%s", text);
    ck_assert_msg(strstr(text, "c: vCPUs on 5 (1 CPU), threads on none; "
                               "overcommitted on 5\n"), "%s", text);
    ck_assert_msg(strstr(text, "d: vCPUs on 6 (1 CPU), threads on 5\n"),
                  "%s", text);
    free(text);
    text = nst_map_format_text(map, true);
    ck_assert_msg(strstr(text, "\033[1;37;41m2!\033[0m"), "%s", text);
    free(text);

    char *json = nst_map_format_json(map);
    struct json_object *doc = nst_json_parse(json, strlen(json), NULL);
    struct json_object *cells = test_json_member(doc, "cells");
    struct json_object *cores = test_json_member(
        json_object_array_get_idx(cells, 0), "cores");
    struct json_object *cpu2 = json_object_array_get_idx(
        json_object_array_get_idx(cores, 2), 0);
    ck_assert_str_eq(json_object_get_string(test_json_member(cpu2, "role")),
                     "overcommitted");
    ck_assert_int_eq(json_object_array_length(test_json_member(cpu2,
                                                               "vcpus")), 2);
    json_object_put(doc);
    free(json);
    nst_map_free(map);
    nst_host_free(host);
}
END_TEST

/* The SVG is well-formed XML in the SVG namespace with no script, and a
 * domain name with markup in it stays text. */
START_TEST(test_map_svg)
{
    struct nst_host *host = test_load_host("intel-e5-2697v4", NULL);
    struct nst_cpuset a;
    struct nst_map *map = nst_map_new(host, NULL, NULL);

    nst_cpuset_parse("2-5", &a, NULL);
    ck_assert_int_eq(nst_map_add(map, "<script>&x", &a, NULL, NULL, NULL), 0);
    char *svg = nst_map_format_svg(map);
    ck_assert_ptr_nonnull(svg);
    ck_assert_msg(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""),
                  "%s", svg);
    ck_assert_msg(strstr(svg, "&lt;script&gt;&amp;x"), "%s", svg);
    ck_assert_ptr_null(strstr(svg, "<script"));
    ck_assert_ptr_null(strstr(svg, "href"));
    free(svg);
    nst_map_free(map);
    nst_host_free(host);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("map");
    TCase *tc = tcase_create("map");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_map_golden, 0,
                        (int)(sizeof(cases) / sizeof(*cases)));
    tcase_add_test(tc, test_map_overcommitted);
    tcase_add_test(tc, test_map_svg);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

/*
 * testutil.c: helpers for the Check suites
 */
#include <check.h>
#include <json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

const char *
test_srcdir(void)
{
    const char *dir = getenv("NST_SRCDIR");
    return dir && *dir ? dir : ".";
}

char *
test_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    struct nst_buf buf = { 0 };
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        nst_buf_add(&buf, chunk, n);
    fclose(fp);
    return nst_buf_finish(&buf, len);
}

char *
test_read_srcfile(const char *relpath, size_t *len)
{
    char *path = nst_printf("%s/%s", test_srcdir(), relpath);
    ck_assert_ptr_nonnull(path);
    char *data = test_read_file(path, len);
    ck_assert_msg(data != NULL, "cannot read %s", path);
    free(path);
    return data;
}

void
test_write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_msg(fp != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
    ck_assert_int_eq(fclose(fp), 0);
}

struct nst_host *
test_load_host(const char *caps_name, const char *domcaps_name)
{
    char *caps_path = nst_printf("tests/fixtures/hosts/%s.xml", caps_name);
    char *dc_path = domcaps_name ?
        nst_printf("tests/fixtures/hosts/%s.xml", domcaps_name) : NULL;
    size_t caps_len, dc_len = 0, len;
    char *caps = test_read_srcfile(caps_path, &caps_len);
    char *dc = dc_path ? test_read_srcfile(dc_path, &dc_len) : NULL;
    struct nst_host *host = NULL;
    char *err = NULL;

    ck_assert_msg(nst_host_parse(caps, caps_len, dc, dc_len, &host, &err) == 0,
                  "%s: %s", caps_path, err);
    const char *map_path = getenv("NST_CPU_MAP");
    if (!map_path)
        map_path = "/usr/share/libvirt/cpu_map/x86_features.xml";
    char *map = test_read_file(map_path, &len);
    ck_assert_msg(map != NULL, "libvirt's cpu_map %s is missing", map_path);
    ck_assert_int_eq(nst_host_load_cpu_map(host, map, len, &err), 0);
    free(map);
    if (host->model) {
        const char *slash = strrchr(map_path, '/');
        char *model_path = nst_printf("%.*s/x86_%s.xml",
                                      (int)(slash - map_path), map_path,
                                      host->model);
        char *model = test_read_file(model_path, &len);
        ck_assert_msg(model != NULL, "%s is missing", model_path);
        ck_assert_msg(nst_host_load_cpu_model(host, model, len, &err) == 0,
                      "%s: %s", model_path, err);
        free(model);
        free(model_path);
    }
    free(caps);
    free(dc);
    free(caps_path);
    free(dc_path);
    return host;
}

char *
test_embed_root(void)
{
    char tmpl[] = "/tmp/nst-embed-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    char *cmd = nst_printf("sh '%s/tests/embed-root.sh' '%s'", test_srcdir(),
                           tmpl);
    ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
    free(cmd);
    return nst_printf("%s", tmpl);
}

int
test_run_command(int (*command)(int argc, char **argv),
                 const char *const *prefix, const char *first, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;

    for (; prefix[argc] && argc < 32; argc++)
        argv[argc] = (char *)prefix[argc];
    va_start(ap, first);
    for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    int ret = command(argc, argv);
    fflush(stdout);
    return ret;
}

void
test_compare_expected(const char *path, const char *actual)
{
    char *full = nst_printf("%s/%s", test_srcdir(), path);
    const char *regen = getenv("NST_TEST_REGENERATE_OUTPUT");

    if (regen && strcmp(regen, "1") == 0) {
        if (actual)
            test_write_file(full, actual, strlen(actual));
        else
            unlink(full);
    }
    char *expected = test_read_file(full, NULL);
    if (!actual)
        ck_assert_msg(!expected, "%s exists but should not", path);
    else {
        ck_assert_msg(expected != NULL, "%s missing (NST_TEST_REGENERATE_"
                      "OUTPUT=1 writes it)", path);
        ck_assert_msg(strcmp(expected, actual) == 0,
                      "%s differs; actual:\n%s", path, actual);
    }
    free(expected);
    free(full);
}

int
test_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

struct json_object *
test_json_member(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(obj, key, &v), "no \"%s\" in %s",
                  key, json_object_to_json_string(obj));
    return v;
}

void
test_apply_options(struct test_applied *res, const char *xml,
                   const struct nst_apply_options *opts)
{
    struct nst_doc *doc = NULL;
    char *err = NULL;

    ck_assert_msg(nst_doc_parse(xml, strlen(xml), "t.xml", &doc, &err) == 0,
                  "%s", err);
    nst_report_init(&res->r, "t", opts->profile->name);
    res->ret = nst_apply(doc, opts, &res->r, &res->plan);
    res->xml = res->ret == 0 ? nst_doc_serialize(doc, NULL) : NULL;
    res->report = nst_report_format_text(&res->r);
    nst_doc_free(doc);
}

void
test_apply(struct test_applied *res, const char *xml, const char *host_name,
           const char *profile_names, const struct nst_cpuset *taken,
           bool strict, ...)
{
    struct nst_host *host = test_load_host(host_name, NULL);
    struct nst_profile profile;
    size_t n;
    const struct nst_profile_source *src = nst_builtin_profiles(&n);
    char *err = NULL;
    va_list ap;

    nst_profile_init(&profile);
    ck_assert_int_eq(nst_profile_compose(&profile, profile_names, src, n,
                                         &err), 0);
    va_start(ap, strict);
    for (const char *set; (set = va_arg(ap, const char *));)
        ck_assert_msg(nst_profile_set(&profile, set, "--set", &err) == 0, "%s", err);
    va_end(ap);
    struct nst_apply_options opts = {
        .profile = &profile, .host = host, .taken = taken, .strict = strict };
    test_apply_options(res, xml, &opts);
    nst_profile_clear(&profile);
    nst_host_free(host);
}

void
test_applied_clear(struct test_applied *res)
{
    free(res->xml);
    free(res->report);
    nst_report_clear(&res->r);
    nst_plan_clear(&res->plan);
}

/*
 * testutil.h: helpers for the Check suites
 */
#ifndef NESTIFY_TESTUTIL_H
#define NESTIFY_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "nestify.h"

/*
 * Reads a file below the source tree ($NST_SRCDIR, "." when unset),
 * e.g. "tests/fixtures/hosts/intel-e5-2697v4.xml".  Returns a new
 * NUL-terminated buffer the caller frees; aborts the test when missing.
 */
char *test_read_srcfile(const char *relpath, size_t *len);

/* Reads any file; NULL when it does not exist. */
char *test_read_file(const char *path, size_t *len);

/* Writes data to path, replacing it; aborts the test on failure. */
void test_write_file(const char *path, const char *data, size_t len);

/*
 * The host model of tests/fixtures/hosts/CAPS.xml (and DOMCAPS.xml when
 * not NULL) as the tool builds it: with libvirt's cpu_map feature list
 * ($NST_CPU_MAP) and the file of the host's CPU model next to it.
 */
struct nst_host;
struct nst_host *test_load_host(const char *caps, const char *domcaps);

/*
 * A fresh root for qemu:///embed: a new directory /tmp/nst-embed-XXXXXX
 * made by tests/embed-root.sh (its qemu.conf, and under make check the
 * QEMU capabilities probed once for the whole run).  Returns it, a new
 * string the caller frees.
 */
char *test_embed_root(void);

/* $NST_SRCDIR or "." */
const char *test_srcdir(void);

/*
 * Runs a virt-nestify command function in this process, as
 * "prefix... args..." where prefix is NULL-terminated (it starts with
 * argv[0]) and so are the arguments after it.  Flushes stdout around
 * it.  Returns the command's exit status.
 */
int test_run_command(int (*command)(int argc, char **argv),
                     const char *const *prefix, const char *first, ...);

/*
 * Compares actual with the file at relpath below the source tree byte
 * for byte; with NST_TEST_REGENERATE_OUTPUT=1 writes it first.  actual
 * NULL means the file must not exist (and regenerating removes it).
 */
void test_compare_expected(const char *relpath, const char *actual);

/* The member key of the JSON object obj, which must be there (its value
 * may be null); a failed check names the key and the object. */
struct json_object;
struct json_object *test_json_member(struct json_object *obj,
                                     const char *key);

/* Runs the suite with Check; returns the process exit status. */
struct Suite;
int test_run_suite(struct Suite *suite);

/* One nst_apply of a test: its return, output (NULL when refused),
 * report as text and as findings, and plan. */
struct test_applied {
    int ret;
    char *xml;
    char *report;
    struct nst_report r;
    struct nst_plan plan;
};

/*
 * Applies the built-in profiles profile_names (plus the NULL-ended
 * --set assignments after strict) to xml on the host of
 * tests/fixtures/hosts/HOST_NAME.xml, with taken and strict as
 * nst_apply_options has them.  Free with test_applied_clear.
 */
void test_apply(struct test_applied *res, const char *xml,
                const char *host_name, const char *profile_names,
                const struct nst_cpuset *taken, bool strict, ...);
void test_applied_clear(struct test_applied *res);
/* The part of test_apply after the profile and host: parses xml,
 * applies with opts (opts->profile named in the report) into res. */
void test_apply_options(struct test_applied *res, const char *xml,
                        const struct nst_apply_options *opts);

/* What a test_applied's output holds or lacks, and its report says. */
#define HAS(res, text) \
    ck_assert_msg((res).xml && strstr((res).xml, text), \
                  "missing %s in:\n%s", text, (res).xml)
#define LACKS(res, text) \
    ck_assert_msg((res).xml && !strstr((res).xml, text), \
                  "unexpected %s in:\n%s", text, (res).xml)
#define SAYS(res, text) \
    ck_assert_msg(strstr((res).report, text), "report lacks %s:\n%s", text, \
                  (res).report)
#define SAYS_NOT(res, text) \
    ck_assert_msg(!strstr((res).report, text), "report has %s:\n%s", text, \
                  (res).report)

#endif /* NESTIFY_TESTUTIL_H */

/*
 * test-options.c: the option table (cli/options.c)
 *
 * What main.c decides from it before any parsing (vn_options_connect:
 * whether virt-nestify hands a run over to virt-nestify-live), parsing
 * into a command's struct, the rules, and the table's own consistency:
 * no command takes two options of one name or letter.  What each
 * command's --help and errors say is the part of tests/cli.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "internal.h"
#include "lint.h"
#include "options.h"
#include "testutil.h"

/* argv from a NULL-terminated list of words (argv[0] included). */
#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(argv) (int)count_words(argv)

static size_t
count_words(char **argv)
{
    size_t n = 0;
    while (argv[n])
        n++;
    return n;
}

static bool
connects(enum vn_cmd cmd, char **argv)
{
    return vn_options_connect(cmd, ARGC(argv), argv);
}

START_TEST(test_connect_apply)
{
    /* A connected run: live, bulk, fleet, whatever the values say. */
    ck_assert(connects(VN_CMD_APPLY, ARGV("vn", "-d", "web1", "-p", "perf")));
    ck_assert(connects(VN_CMD_APPLY, ARGV("vn", "--domain=web1", "-pperf")));
    ck_assert(connects(VN_CMD_APPLY, ARGV("vn", "--all", "-p", "perf")));
    ck_assert(connects(VN_CMD_APPLY, ARGV("vn", "--match", "w*", "-p", "p")));
    ck_assert(connects(VN_CMD_APPLY, ARGV("vn", "-c", "a", "-c", "b",
                                          "--all", "-p", "perf")));
    ck_assert(connects(VN_CMD_APPLY, ARGV("vn", "-d", "x", "-p", "perf",
                                          "--state", "bogus")));
    /* Offline, or refused here without a connection: no handoff. */
    ck_assert(!connects(VN_CMD_APPLY, ARGV("vn", "-f", "d.xml", "-H", "c",
                                           "-p", "perf")));
    ck_assert(!connects(VN_CMD_APPLY, ARGV("vn", "-f", "d.xml", "-H", "c",
                                           "-p", "perf", "-c", "uri")));
    ck_assert(!connects(VN_CMD_APPLY, ARGV("vn", "-d", "web1")));
    ck_assert(!connects(VN_CMD_APPLY, ARGV("vn", "-c", "uri", "-p", "perf")));
    ck_assert(!connects(VN_CMD_APPLY, ARGV("vn", "-d", "x", "-p", "perf",
                                           "--bogus")));
    ck_assert(!connects(VN_CMD_APPLY, ARGV("vn", "-d", "x", "-p", "perf",
                                           "--help")));
    ck_assert(!connects(VN_CMD_APPLY, ARGV("vn", "-d", "x", "-p", "perf",
                                           "extra")));
    ck_assert(!connects(VN_CMD_APPLY, ARGV("vn", "-d", "x", "-p")));
    ck_assert(!connects(VN_CMD_APPLY, ARGV("vn", "--all", "-d", "x",
                                           "-p", "perf")));
}
END_TEST

START_TEST(test_connect_others)
{
    ck_assert(connects(VN_CMD_LINT, ARGV("lint", "-d", "a")));
    ck_assert(connects(VN_CMD_LINT, ARGV("lint", "--all", "-c", "uri")));
    ck_assert(!connects(VN_CMD_LINT, ARGV("lint", "-f", "d.xml")));
    ck_assert(!connects(VN_CMD_LINT, ARGV("lint", "-f", "d.xml", "-c", "u")));
    ck_assert(connects(VN_CMD_HOST, ARGV("host", "-c", "qemu:///system")));
    ck_assert(!connects(VN_CMD_HOST, ARGV("host")));
    ck_assert(!connects(VN_CMD_HOST, ARGV("host", "--enable", "-c", "uri")));
    ck_assert(!connects(VN_CMD_PROFILES, ARGV("profiles", "perf")));
}
END_TEST

/* The scan leaves argv as it was (getopt_long permutes what it parses),
 * and a parse after a scan that stopped inside "-nX" starts afresh. */
START_TEST(test_scan_keeps_argv)
{
    char **argv = ARGV("vn", "extra", "-nX", "-d", "x", "-p", "perf");
    char *copy[8];
    memcpy(copy, argv, 8 * sizeof(*argv));
    ck_assert(!connects(VN_CMD_APPLY, argv));
    for (int i = 0; i < 7; i++)
        ck_assert_ptr_eq(argv[i], copy[i]);

    struct vn_apply_opts o = { 0 };
    struct vn_given given;
    char **ok = ARGV("vn", "-nq", "-f", "d.xml", "-H", "c", "-p", "perf");
    ck_assert_int_eq(vn_options_parse_checked(VN_CMD_APPLY, ARGC(ok), ok, &o,
                                              &given), 0);
    ck_assert(o.dry_run && o.quiet);
    ck_assert_str_eq(o.file, "d.xml");
    ck_assert_uint_eq(o.plan.nfleet_caps, 1);
    ck_assert_str_eq(o.plan.fleet_caps[0], "c");
    ck_assert_str_eq(o.plan.profile, "perf");
    ck_assert_uint_eq(given.count[VN_OPT_DRY_RUN], 1);
    free(o.plan.profile);
    free(o.plan.fleet_caps);
}
END_TEST

/* Values land where the command's list says, typed. */
START_TEST(test_parse_values)
{
    struct vn_apply_opts o = { .timeout = 120 };
    struct vn_given given;
    char **argv = ARGV("vn", "-d", "a", "--domain", "b", "-p", "perf",
                       "-p", "secure", "--parallel", "3", "--color", "never",
                       "--taken", "1-2", "--set", "k=v", "-o", "json",
                       "--state", "running");
    ck_assert_int_eq(vn_options_parse_checked(VN_CMD_APPLY, ARGC(argv), argv,
                                              &o, &given), 0);
    ck_assert_uint_eq(o.ndomains, 2);
    ck_assert_str_eq(o.domains[1], "b");
    ck_assert_str_eq(o.plan.profile, "perf,secure");
    ck_assert_uint_eq(o.parallel, 3);
    ck_assert_int_eq(o.color, VN_COLOR_NEVER);
    ck_assert(o.plan.has_taken && nst_cpuset_test(&o.plan.taken, 2));
    ck_assert_uint_eq(o.plan.nsets, 1);
    ck_assert_int_eq(o.output, VN_OUTPUT_JSON);
    ck_assert_str_eq(o.state, "running");
    ck_assert_uint_eq(o.timeout, 120);
    free(o.domains);
    free(o.plan.profile);
    free(o.plan.sets);

    /* lint's --domain is a list in its own struct */
    struct vn_lint_opts l = { 0 };
    char **lint = ARGV("lint", "-d", "a", "-d", "b", "-H", "caps");
    ck_assert_int_eq(vn_options_parse_checked(VN_CMD_LINT, ARGC(lint), lint,
                                              &l, &given), 0);
    ck_assert_uint_eq(l.ndomains, 2);
    ck_assert_uint_eq(l.nfleet_caps, 1);
    ck_assert_str_eq(l.fleet_caps[0], "caps");
    free(l.domains);
    free(l.fleet_caps);
}
END_TEST

/* Bad values and broken rules are refused (what they say: the shell
 * tests). */
START_TEST(test_refusals)
{
    struct vn_given given;
    struct {
        char **argv;
    } bad[] = {
        { ARGV("vn", "-d", "a", "-p", "p", "--parallel", "0") },
        { ARGV("vn", "-d", "a", "-p", "p", "--parallel", "65") },
        { ARGV("vn", "-d", "a", "-p", "p", "--color", "blue") },
        { ARGV("vn", "-d", "a", "-p", "p", "--jobs", "2") },
        { ARGV("vn", "-d", "a", "-p", "p", "--timeout", "5") },
        { ARGV("vn", "-f", "-", "-H", "c", "-p", "p", "-i") },
        { ARGV("vn", "-f", "x", "-H", "c", "-p", "p", "-i", "-n") },
        { ARGV("vn", "-f", "x", "-H", "c", "-p", "p", "--xslt-param", "a=b") },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct vn_apply_opts o = { 0 };
        fflush(stderr);
        ck_assert_msg(vn_options_parse_checked(VN_CMD_APPLY, ARGC(bad[i].argv),
                                               bad[i].argv, &o, &given) < 0,
                      "case %zu accepted", i);
        free(o.domains);
        free(o.plan.profile);
        free(o.plan.xslt_params);
        free(o.plan.fleet_caps);
    }
    struct vn_apply_opts o = { 0 };
    char **ok = ARGV("vn", "-d", "a", "--restart", "--timeout", "5", "-p",
                     "p");
    ck_assert_int_eq(vn_options_parse_checked(VN_CMD_APPLY, ARGC(ok), ok, &o,
                                              &given), 0);
    ck_assert_uint_eq(o.timeout, 5);
    free(o.domains);
    free(o.plan.profile);
}
END_TEST

/* Within a command, long names and letters are unique: getopt_long
 * would take the first and never reach the second. */
START_TEST(test_table_consistent)
{
    for (int cmd = 0; cmd < VN_CMD_LAST; cmd++) {
        char *text = NULL, *names[2 * VN_OPT_LAST];  /* letters, names */
        size_t size = 0, n = 0;
        FILE *fp = open_memstream(&text, &size);
        ck_assert_ptr_nonnull(fp);
        vn_options_list((enum vn_cmd)cmd, fp);
        fclose(fp);
        ck_assert_ptr_nonnull(strstr(text, "--help\n"));
        for (char *line = text, *end; (end = strchr(line, '\n'));
             line = end + 1) {
            *end = '\0';
            ck_assert_uint_lt(n + 1, 2 * VN_OPT_LAST);
            names[n++] = line;
            if (line[1] != '-')   /* "-x --name": the letter, then the name */
                names[n++] = line + 3;
        }
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                ck_assert_msg(strcspn(names[i], " ") != strcspn(names[j], " ") ||
                              strncmp(names[i], names[j],
                                      strcspn(names[i], " ")) != 0,
                              "command %d: %.*s twice", cmd,
                              (int)strcspn(names[i], " "), names[i]);
        free(text);
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("options");
    tcase_add_test(tc, test_connect_apply);
    tcase_add_test(tc, test_connect_others);
    tcase_add_test(tc, test_scan_keeps_argv);
    tcase_add_test(tc, test_parse_values);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_table_consistent);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

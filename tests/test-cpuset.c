/*
 * test-cpuset.c: libvirt cpuset syntax, parse and format
 */
#include <check.h>
#include <stdlib.h>

#include "nestify.h"
#include "testutil.h"

/* Parses text and formats it again: libvirt's canonical form. */
static void
check_round_trip(const char *text, const char *canonical)
{
    struct nst_cpuset set;
    char *err = NULL;
    ck_assert_msg(nst_cpuset_parse(text, &set, &err) == 0, "%s: %s", text,
                  err);
    char *out = nst_cpuset_format(&set);
    ck_assert_str_eq(out, canonical);
    free(out);
}

START_TEST(test_round_trip)
{
    check_round_trip("0", "0");
    check_round_trip("0,1", "0-1");
    check_round_trip("0-3,8", "0-3,8");
    check_round_trip("0-7,^2", "0-1,3-7");
    check_round_trip("5,3,4", "3-5");
    check_round_trip(" 1 , 3 ", "1,3");
    check_round_trip("0,36", "0,36");
    check_round_trip("4095", "4095");
    check_round_trip("1-4,37-40", "1-4,37-40");
}
END_TEST

START_TEST(test_bad)
{
    static const char *const bad[] = {
        "", " ", "a", "1-", "-1", "3-1", "1,,2", "1;2", "4096", "0-4096",
        "1-2-3", "^", "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct nst_cpuset set;
        char *err = NULL;
        ck_assert_msg(nst_cpuset_parse(bad[i], &set, &err) < 0,
                      "'%s' accepted", bad[i]);
        ck_assert_ptr_nonnull(err);
        free(err);
    }
}
END_TEST

START_TEST(test_operations)
{
    struct nst_cpuset a, b;
    nst_cpuset_parse("0-9", &a, NULL);
    nst_cpuset_parse("5-14", &b, NULL);
    ck_assert_uint_eq(nst_cpuset_count(&a), 10);
    ck_assert(nst_cpuset_intersects(&a, &b));
    struct nst_cpuset c = a;
    nst_cpuset_subtract(&c, &b);
    ck_assert_uint_eq(nst_cpuset_count(&c), 5);
    ck_assert_int_eq(nst_cpuset_next(&c, 0), 0);
    ck_assert_int_eq(nst_cpuset_next(&c, 5), -1);
    nst_cpuset_intersect(&a, &b);
    ck_assert_int_eq(nst_cpuset_next(&a, 0), 5);
    nst_cpuset_union(&c, &a);
    ck_assert_uint_eq(nst_cpuset_count(&c), 10);
    ck_assert_int_eq(nst_cpuset_next(&c, 64), -1);
    nst_cpuset_set(&c, 4095);
    ck_assert_int_eq(nst_cpuset_next(&c, 10), 4095);
    nst_cpuset_clear_all(&c);
    ck_assert(nst_cpuset_is_empty(&c));
    char *text = nst_cpuset_format(&c);
    ck_assert_str_eq(text, "");
    free(text);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("cpuset");
    TCase *tc = tcase_create("cpuset");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_bad);
    tcase_add_test(tc, test_operations);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

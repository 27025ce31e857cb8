/*
 * test-util.c: the library's small helpers that every file uses
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"
#include "testutil.h"

START_TEST(test_grow)
{
    unsigned int *array = NULL;
    size_t n = 0, alloc = 0;

    /* Appending one at a time keeps every element and reallocates
     * rarely: the capacity grows by half again. */
    unsigned int reallocs = 0;
    for (unsigned int i = 0; i < 1000; i++) {
        size_t before = alloc;
        ck_assert_int_eq(NST_GROW(array, n + 1, alloc), 0);
        ck_assert_uint_ge(alloc, n + 1);
        reallocs += alloc != before;
        array[n++] = i;
    }
    for (unsigned int i = 0; i < 1000; i++)
        ck_assert_uint_eq(array[i], i);
    ck_assert_uint_lt(reallocs, 20);

    /* Room already there: nothing moves. */
    unsigned int *same = array;
    ck_assert_int_eq(NST_GROW(array, 10, alloc), 0);
    ck_assert_ptr_eq(array, same);

    /* A size that overflows is refused, the array kept as it was. */
    size_t kept = alloc;
    ck_assert_int_eq(NST_GROW(array, SIZE_MAX / 2, alloc), -1);
    ck_assert_ptr_eq(array, same);
    ck_assert_uint_eq(alloc, kept);
    free(array);
}
END_TEST

START_TEST(test_parse_ull)
{
    unsigned long long v;
    ck_assert_int_eq(nst_parse_ull("42", 100, &v), 0);
    ck_assert_uint_eq(v, 42);
    ck_assert_int_eq(nst_parse_ull("101", 100, &v), -1);
    ck_assert_int_eq(nst_parse_ull("", 100, &v), -1);
    ck_assert_int_eq(nst_parse_ull(" 4", 100, &v), -1);
    ck_assert_int_eq(nst_parse_ull("-4", 100, &v), -1);
    ck_assert_int_eq(nst_parse_ull("4x", 100, &v), -1);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("helpers");
    tcase_add_test(tc, test_grow);
    tcase_add_test(tc, test_parse_ull);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

/*
 * testutil.c: helpers for the Check suites
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

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

int
test_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
